/*
 * The pool view in the plan (planner/pool.c, and what place.c and sla.c
 * do with it): failover of a lost host's VMs only once it is fenced,
 * placed the same by every survivor; claims that keep a VM off a second
 * host; the rejoin rule; budgets counted across hosts; and an agent
 * without a pool view that pretends nothing.
 */
#include "tests/planner/fixture.h"

#include "planner/planner.h"

/* Three hosts, two SLAs: web fails over, db waits for its host. */
static const char *const POOL = "kind: Host\nname: a\nmemory: 16GiB\n"
                                "---\nkind: Host\nname: b\nmemory: 16GiB\n"
                                "---\nkind: Host\nname: c\nmemory: 16GiB\n"
                                "---\nkind: SLA\nname: web\n"
                                "selector: {tier: web}\n"
                                "availability: {failover: true}\n"
                                "---\nkind: SLA\nname: db\n"
                                "selector: {tier: db}\n"
                                "availability: {restart: always}\n"
                                "---\nkind: VM\nname: web-1\nhost: b\n"
                                "labels: {tier: web}\nmemory: 1GiB\n"
                                "kernel: /k\n"
                                "---\nkind: VM\nname: web-2\nhost: b\n"
                                "labels: {tier: web}\nmemory: 1GiB\n"
                                "kernel: /k\n"
                                "---\nkind: VM\nname: db-1\nhost: b\n"
                                "labels: {tier: db}\nmemory: 1GiB\n"
                                "kernel: /k\n"
                                "---\nkind: VM\nname: app-1\nhost: a\n"
                                "labels: {tier: web}\nmemory: 1GiB\n"
                                "kernel: /k\n";

/* fx planned by a's agent, through pv: fenced the one host known off. */
static struct fx *
view_of_a(struct fx *fx, struct xdc_pool_view *pv, const char *fenced)
{
	static const char *f[1];

	memset(pv, 0, sizeof(*pv));
	pv->pv_self = "a";
	if (fenced != NULL) {
		f[0] = fenced;
		pv->pv_fenced = f;
		pv->pv_nfenced = 1;
	}
	fx->self = "a";
	fx->pool = pv;
	return fx;
}

/* a and c observed (a by itself, c published), b not: lost. */
static struct fx *
pool_fx(struct xdc_pool_view *pv, const char *fenced)
{
	struct fx *fx = fx_new(POOL);

	fx_host(fx, "a", 16 * GIB, 8);
	fx_host(fx, "c", 16 * GIB, 8);
	fx_managed(fx, "a", "app-1");
	return view_of_a(fx, pv, fenced);
}

static void
test_a_lost_host_unfenced_fails_nothing_over(void **state)
{
	struct xdc_pool_view pv;
	struct fx *fx = pool_fx(&pv, NULL);

	(void)state;
	fx_plan(fx);
	assert_int_equal(plan_count(fx->plan), 0);
	assert_int_equal(plan_nfailovers(fx->plan), 0);
	assert_int_equal(plan_host_view(fx->plan, "b"), XDC_HV_LOST);
	assert_int_equal(plan_host_view(fx->plan, "c"), XDC_HV_LIVE);
	fx_free(fx);
}

static void
test_a_fenced_host_fails_over_only_failover_vms(void **state)
{
	struct xdc_pool_view pv;
	struct fx *fx = pool_fx(&pv, "b");
	const char *vm, *from, *to;
	size_t i;

	(void)state;
	fx->whole = 1; /* the creates are on a and c: the pool's plan */
	fx_plan(fx);
	assert_int_equal(plan_host_view(fx->plan, "b"), XDC_HV_FENCED);
	assert_int_equal(plan_nfailovers(fx->plan), 2);
	for (i = 0; i < 2; i++) {
		plan_failover(fx->plan, i, &vm, &from, &to);
		assert_string_equal(from, "b");
		assert_true(!strcmp(to, "a") || !strcmp(to, "c"));
		assert_true(!strcmp(vm, "web-1") || !strcmp(vm, "web-2"));
	}
	assert_non_null(fx_created_on(fx, "web-1"));
	assert_non_null(fx_created_on(fx, "web-2"));
	/* db-1 has no failover: it waits for b, nowhere created. */
	assert_null(fx_created_on(fx, "db-1"));
	assert_false(fx_mentions(fx, "db-1"));
	/* Why, in the reason: the SLA's line and the host. */
	assert_contains(
	    plan_reason(fx->plan, fx_action(fx, XDC_OP_CREATE, "web-1", NULL)),
	    "(sla web: failover): host b is lost and fenced");
	fx_free(fx);
}

/* Every survivor computes the same placement, whoever it is. */
static void
test_failover_placement_is_the_same_for_every_survivor(void **state)
{
	struct xdc_pool_view pv1, pv2;
	struct fx *fx1 = pool_fx(&pv1, "b"), *fx2 = pool_fx(&pv2, "b");
	const char *on1, *on2;

	(void)state;
	pv2.pv_self = "c";
	fx2->self = "c";
	fx1->whole = fx2->whole = 1; /* each agent's view of the pool */
	fx_plan(fx1);
	fx_plan(fx2);
	on1 = fx_created_on(fx1, "web-1");
	on2 = fx_created_on(fx2, "web-1");
	assert_non_null(on1);
	assert_string_equal(on1, on2);
	assert_string_equal(
	    fx_created_on(fx1, "web-2"), fx_created_on(fx2, "web-2"));
	fx_free(fx1);
	fx_free(fx2);
}

static void
test_a_host_declared_failed_fails_over_without_a_view(void **state)
{
	struct fx *fx = fx_new(
	    "kind: Host\nname: a\n---\nkind: Host\nname: b\nstate: failed\n"
	    "---\nkind: SLA\nname: web\nselector: {tier: web}\n"
	    "availability: {failover: true}\n"
	    "---\nkind: VM\nname: web-1\nhost: b\nlabels: {tier: web}\n"
	    "memory: 1GiB\nkernel: /k\n"
	    "---\nkind: VM\nname: db-1\nhost: b\nmemory: 1GiB\nkernel: /k\n");

	(void)state;
	fx_host(fx, "a", 16 * GIB, 8);
	fx_plan(fx);
	assert_string_equal(fx_created_on(fx, "web-1"), "a");
	assert_contains(
	    plan_reason(fx->plan, fx_action(fx, XDC_OP_CREATE, "web-1", "a")),
	    "is declared failed (test.yaml:6)");
	assert_null(fx_created_on(fx, "db-1"));
	fx_free(fx);
}

/* The admin says failed, but the host still runs it: it goes there first. */
static void
test_a_failed_host_still_seen_stops_first(void **state)
{
	struct fx *fx = fx_new(
	    "kind: Host\nname: a\n---\nkind: Host\nname: b\nstate: failed\n"
	    "---\nkind: SLA\nname: web\nselector: {tier: web}\n"
	    "availability: {failover: true}\n"
	    "---\nkind: VM\nname: web-1\nhost: b\nlabels: {tier: web}\n"
	    "memory: 1GiB\nkernel: /k\n");
	size_t c, d;

	(void)state;
	fx_host(fx, "a", 16 * GIB, 8);
	fx_host(fx, "b", 16 * GIB, 8);
	fx_managed(fx, "b", "web-1");
	fx_plan(fx);
	d = fx_action(fx, XDC_OP_DESTROY, "web-1", "b");
	c = fx_action(fx, XDC_OP_CREATE, "web-1", "a");
	assert_true(fx_depends(fx, c, d));
	fx_free(fx);
}

/* Two hosts, spread: host, b fenced: its VM runs beside a's anyway. */
static void
test_failover_comes_before_spread(void **state)
{
	struct xdc_pool_view pv;
	struct fx *fx =
	    fx_new("kind: Host\nname: a\n---\nkind: Host\nname: b\n"
	           "---\nkind: SLA\nname: web\nselector: {tier: web}\n"
	           "availability: {spread: host, failover: true}\n"
	           "---\nkind: VM\nname: web-1\nlabels: {tier: web}\n"
	           "memory: 1GiB\nkernel: /k\n"
	           "---\nkind: VM\nname: web-2\nlabels: {tier: web}\n"
	           "memory: 1GiB\nkernel: /k\n");
	static const char *fenced[] = { "b" };

	(void)state;
	memset(&pv, 0, sizeof(pv));
	pv.pv_self = "a";
	fx_host(fx, "a", 16 * GIB, 8);
	pv.pv_fenced = fenced;
	pv.pv_nfenced = 1;
	fx->self = "a";
	fx->pool = &pv;
	fx_plan(fx);
	assert_int_equal(plan_nfailovers(fx->plan), 1);
	assert_string_equal(fx_created_on(fx, "web-1"), "a");
	assert_string_equal(fx_created_on(fx, "web-2"), "a");
	fx_free(fx);
}

static void
test_a_vm_claimed_elsewhere_is_not_started(void **state)
{
	struct xdc_pool_view pv;
	struct fx *fx = pool_fx(&pv, "b");
	static const struct xdc_claim claims[] = { { "web-1", "c" },
		{ "web-2", "c" } };

	(void)state;
	pv.pv_claims = claims;
	pv.pv_nclaims = 2;
	fx_plan(fx);
	/* Whichever host placement chose, a only starts what c let go. */
	if (fx_find_deferred(fx, XDC_OP_CREATE, "web-1", "a") != NULL)
		assert_contains(fx_held(fx, XDC_OP_CREATE, "web-1", "a"),
		    "web-1 is claimed by host c");
	assert_true(fx_find(fx, XDC_OP_CREATE, "web-1", "a") < 0);
	assert_true(fx_find(fx, XDC_OP_CREATE, "web-2", "a") < 0);
	fx_free(fx);
}

/*
 * a, b and c live, a running app-1 and c web-1, which c claims; b runs a
 * copy of web-1 too when b_copy (back from the lost). The plan is self's.
 */
static void
rejoin_fx(struct fx *fx, struct xdc_pool_view *pv,
    const struct xdc_claim *claims, const char *self, int b_copy)
{
	fx_host(fx, "a", 16 * GIB, 8);
	fx_host(fx, "b", 16 * GIB, 8);
	fx_host(fx, "c", 16 * GIB, 8);
	fx_managed(fx, "a", "app-1");
	if (b_copy)
		fx_managed(fx, "b", "web-1");
	fx_managed(fx, "c", "web-1");
	memset(pv, 0, sizeof(*pv));
	pv->pv_self = self;
	pv->pv_claims = claims;
	pv->pv_nclaims = 1;
	pv->pv_rejoin_domid =
	    UINT32_MAX; /* self ran them all as it came back */
	fx->self = self;
	fx->pool = pv;
}

static void
test_rejoin_destroys_the_copies_others_claim_first(void **state)
{
	struct xdc_pool_view pv;
	struct fx *fx = fx_new(POOL);
	static const struct xdc_claim claims[] = { { "web-1", "c" } };

	(void)state;
	/* b is back: it still has web-1, which c took over and runs. */
	rejoin_fx(fx, &pv, claims, "b", 1);
	fx_plan(fx);
	assert_contains(
	    plan_reason(fx->plan, fx_action(fx, XDC_OP_DESTROY, "web-1", "b")),
	    "rejoin: host c took web-1 over");
	/* Nothing else of b's goes meanwhile: web-2 and db-1 wait. */
	assert_contains(fx_held(fx, XDC_OP_CREATE, "web-2", "b"), "(rejoin)");
	assert_contains(fx_held(fx, XDC_OP_CREATE, "db-1", "b"), "(rejoin)");
	fx_free(fx);
}

/*
 * The same sight, but b's copy was made after b's agent came back: b has
 * just received web-1 by live migration, and c, its source, has not yet
 * published it gone nor given its claim back. b's copy stays.
 */
static void
test_a_copy_just_migrated_in_is_not_a_rejoin(void **state)
{
	struct xdc_pool_view pv;
	struct fx *fx = fx_new(POOL);
	static const struct xdc_claim claims[] = { { "web-1", "c" } };

	(void)state;
	rejoin_fx(fx, &pv, claims, "b", 1);
	/* b's copy was made after b's agent came back. */
	pv.pv_rejoin_domid = fx_find_dom(fx, "b", "web-1")->od_domid - 1;
	fx_plan(fx);
	assert_true(fx_find(fx, XDC_OP_DESTROY, "web-1", "b") < 0);
	/* And b's other work is not held for a rejoin. */
	assert_true(fx_find(fx, XDC_OP_CREATE, "web-2", "b") >= 0);
	fx_free(fx);
}

/*
 * The claimant's side of the same moment: web-1 belongs on b again, but
 * c's copy, which c claims, stays until b has destroyed its own.
 */
static void
test_rejoin_the_claimant_keeps_its_copy_until_the_other_goes(void **state)
{
	struct xdc_pool_view pv;
	struct fx *fx = fx_new(POOL);
	static const struct xdc_claim claims[] = { { "web-1", "c" } };
	size_t i;

	(void)state;
	rejoin_fx(fx, &pv, claims, "c", 1);
	fx_plan(fx);
	for (i = 0; i < plan_count(fx->plan); i++) {
		const struct xdc_action *a = plan_action(fx->plan, i);

		assert_false(a->a_kind == XDC_OBJ_VM && a->a_name != NULL &&
		             !strcmp(a->a_name, "web-1") &&
		             !strcmp(a->a_host, "c"));
	}
	assert_contains(fx_held(fx, XDC_OP_DESTROY, "web-1", "c"),
	    "host b runs a copy of web-1 too, which this host claims");
	fx_free(fx);

	/* Once b's copy is gone, c's goes home: destroyed here. */
	fx = fx_new(POOL);
	rejoin_fx(fx, &pv, claims, "c", 0);
	fx_plan(fx);
	assert_true(fx_find(fx, XDC_OP_DESTROY, "web-1", "c") >= 0);
	fx_free(fx);
}

/* A claim alone, without the holder running the VM, destroys nothing. */
static void
test_a_claim_without_a_running_copy_destroys_nothing(void **state)
{
	struct xdc_pool_view pv;
	struct fx *fx = fx_new(POOL);
	static const struct xdc_claim claims[] = { { "web-1", "c" } };

	(void)state;
	fx_host(fx, "b", 16 * GIB, 8);
	fx_host(fx, "c", 16 * GIB, 8);
	fx_managed(fx, "b", "web-1");
	memset(&pv, 0, sizeof(pv));
	pv.pv_self = "b";
	pv.pv_claims = claims;
	pv.pv_nclaims = 1;
	fx->self = "b";
	fx->pool = &pv;
	fx_plan(fx);
	assert_true(fx_find(fx, XDC_OP_DESTROY, "web-1", "b") < 0);
	assert_true(fx_find_deferred(fx, XDC_OP_DESTROY, "web-1", "b") == NULL);
	fx_free(fx);
}

/* The two-agent deadlock of issue 14: two web VMs, min_running 1. */
static const char *const ROLL =
    "kind: Host\nname: a\n---\nkind: Host\nname: b\n"
    "---\nkind: SLA\nname: web\nselector: {tier: web}\n"
    "availability: {min_running: 1}\n"
    "---\nkind: VM\nname: web-1\nhost: a\nlabels: {tier: web}\n"
    "memory: 1GiB\nkernel: /k2\n"
    "---\nkind: VM\nname: web-2\nhost: b\nlabels: {tier: web}\n"
    "memory: 1GiB\nkernel: /k2\n";

/* A domain built from the last kernel: a replace is due. */
static void
old_kernel(struct fx *fx, const char *host, const char *vm)
{
	struct xdc_obs_domain *d = fx_managed(fx, host, vm);

	d->od_build.ob_kernel = "/k1";
	d->od_hash ^= 1;
}

static struct fx *
roll_fx(int see_b)
{
	struct fx *fx = fx_new(ROLL);

	fx_host(fx, "a", 16 * GIB, 8);
	old_kernel(fx, "a", "web-1");
	if (see_b) {
		fx_host(fx, "b", 16 * GIB, 8);
		old_kernel(fx, "b", "web-2");
	}
	fx->self = "a";
	return fx;
}

static void
test_without_a_view_the_plan_says_why_it_waits(void **state)
{
	struct fx *fx = roll_fx(0);
	const char *why;

	(void)state;
	fx_plan(fx);
	why = fx_held(fx, XDC_OP_REPLACE, "web-1", "a");
	/* Not "1 of 2 run": it cannot see web-2, and says so. */
	assert_contains(why, "this agent sees 1 of its 2 VMs run");
	assert_contains(why, "web-2 on host b");
	assert_contains(why, "the pool view (--etcd)");
	assert_int_equal(plan_host_view(fx->plan, "b"), XDC_HV_UNSEEN);
	fx_free(fx);
}

static void
test_with_a_view_the_rollout_goes_on(void **state)
{
	struct xdc_pool_view pv;
	struct fx *fx = roll_fx(1);

	(void)state;
	memset(&pv, 0, sizeof(pv));
	pv.pv_self = "a";
	fx->pool = &pv;
	fx_plan(fx);
	(void)fx_action(fx, XDC_OP_REPLACE, "web-1", "a");
	fx_free(fx);
}

/* b holds the budget's slot for web-2: it is going down; a waits. */
static void
test_a_slot_held_elsewhere_counts_as_down(void **state)
{
	struct xdc_pool_view pv;
	struct fx *fx = roll_fx(1);
	static const struct xdc_slot slots[] = { { "web", "web-2", "b" } };

	(void)state;
	memset(&pv, 0, sizeof(pv));
	pv.pv_self = "a";
	pv.pv_slots = slots;
	pv.pv_nslots = 1;
	fx->pool = &pv;
	fx_plan(fx);
	assert_contains(
	    fx_held(fx, XDC_OP_REPLACE, "web-1", "a"), "1 of its 2 VMs run");
	fx_free(fx);
}

static void
test_without_a_view_no_vm_is_started_that_may_run_elsewhere(void **state)
{
	struct fx *fx =
	    fx_new("kind: Host\nname: a\n---\nkind: Host\nname: b\n"
	           "---\nkind: VM\nname: web-1\nhost: a\nmemory: 1GiB\n"
	           "kernel: /k\n");

	(void)state;
	fx_host(fx, "a", 16 * GIB, 8);
	fx->self = "a";
	fx_plan(fx);
	assert_contains(fx_held(fx, XDC_OP_CREATE, "web-1", "a"),
	    "cannot see (b): without the pool view (--etcd)");
	fx_free(fx);
}

/* The fenced host is back: web-1 goes home, off the survivor first. */
static void
test_back_from_failover_the_vm_moves_home(void **state)
{
	struct xdc_pool_view pv;
	struct fx *fx = fx_new(POOL);
	size_t c, d;

	(void)state;
	fx_host(fx, "a", 16 * GIB, 8);
	fx_host(fx, "b", 16 * GIB, 8);
	fx_host(fx, "c", 16 * GIB, 8);
	fx_managed(fx, "a", "app-1");
	fx_managed(fx, "c", "web-1");
	memset(&pv, 0, sizeof(pv));
	pv.pv_self = "c";
	fx->self = "c";
	fx->pool = &pv;
	fx->whole = 1; /* the create is b's */
	fx_plan(fx);
	d = fx_action(fx, XDC_OP_DESTROY, "web-1", "c");
	c = fx_action(fx, XDC_OP_CREATE, "web-1", "b");
	assert_true(fx_depends(fx, c, d));
	assert_int_equal(plan_nfailovers(fx->plan), 0);
	fx_free(fx);
}

/*
 * b's lease ended without a fence: b may be alive (a keepalive starved)
 * and run web-9, whose claim went with b's lease. a starts web-9 only
 * while it holds its claim itself, or once b is back or fenced.
 */
static struct fx *
lost_fx(struct xdc_pool_view *pv, const char *fenced, int b_back)
{
	struct fx *fx =
	    fx_new("kind: Host\nname: a\n---\nkind: Host\nname: b\n"
	           "---\nkind: VM\nname: web-9\nhost: a\nmemory: 1GiB\n"
	           "kernel: /k\n");

	fx_host(fx, "a", 16 * GIB, 8);
	if (b_back)
		fx_host(fx, "b", 16 * GIB, 8);
	return view_of_a(fx, pv, fenced);
}

static void
test_nothing_unclaimed_starts_while_a_host_is_lost_unfenced(void **state)
{
	struct xdc_pool_view pv;
	struct fx *fx = lost_fx(&pv, NULL, 0);
	static const struct xdc_claim mine[] = { { "web-9", "a" } };

	(void)state;
	fx_plan(fx);
	assert_true(fx_find(fx, XDC_OP_CREATE, "web-9", "a") < 0);
	assert_contains(fx_held(fx, XDC_OP_CREATE, "web-9", "a"),
	    "host b is lost and not fenced, and may still run web-9");
	fx_free(fx);

	/* Its claim is this host's: b cannot run it. */
	fx = lost_fx(&pv, NULL, 0);
	pv.pv_claims = mine;
	pv.pv_nclaims = 1;
	fx_plan(fx);
	assert_true(fx_find(fx, XDC_OP_CREATE, "web-9", "a") >= 0);
	fx_free(fx);

	/* b fenced: it runs nothing. */
	fx = lost_fx(&pv, "b", 0);
	fx_plan(fx);
	assert_true(fx_find(fx, XDC_OP_CREATE, "web-9", "a") >= 0);
	fx_free(fx);

	/* b back: its record says what it runs (not web-9). */
	fx = lost_fx(&pv, NULL, 1);
	fx_plan(fx);
	assert_true(fx_find(fx, XDC_OP_CREATE, "web-9", "a") >= 0);
	fx_free(fx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_lost_host_unfenced_fails_nothing_over),
		cmocka_unit_test(
		    test_a_fenced_host_fails_over_only_failover_vms),
		cmocka_unit_test(
		    test_failover_placement_is_the_same_for_every_survivor),
		cmocka_unit_test(
		    test_a_host_declared_failed_fails_over_without_a_view),
		cmocka_unit_test(test_a_failed_host_still_seen_stops_first),
		cmocka_unit_test(test_failover_comes_before_spread),
		cmocka_unit_test(test_a_vm_claimed_elsewhere_is_not_started),
		cmocka_unit_test(
		    test_rejoin_destroys_the_copies_others_claim_first),
		cmocka_unit_test(
		    test_rejoin_the_claimant_keeps_its_copy_until_the_other_goes),
		cmocka_unit_test(
		    test_a_claim_without_a_running_copy_destroys_nothing),
		cmocka_unit_test(
		    test_without_a_view_the_plan_says_why_it_waits),
		cmocka_unit_test(test_with_a_view_the_rollout_goes_on),
		cmocka_unit_test(test_a_slot_held_elsewhere_counts_as_down),
		cmocka_unit_test(
		    test_without_a_view_no_vm_is_started_that_may_run_elsewhere),
		cmocka_unit_test(test_back_from_failover_the_vm_moves_home),
		cmocka_unit_test(test_a_copy_just_migrated_in_is_not_a_rejoin),
		cmocka_unit_test(
		    test_nothing_unclaimed_starts_while_a_host_is_lost_unfenced),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
