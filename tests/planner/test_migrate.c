/*
 * The migrate op (SPEC §4, planner/diff.c and plan.c): a running VM whose
 * host changes -- a drain, a new host:, the way home after a failover -- is
 * one live migrate when the driver can migrate and both hosts are live;
 * otherwise a destroy on the old host and a create on the new, in that
 * order. Its place in the order, and how a plan prints it.
 */
#include "tests/planner/fixture.h"

#include "planner/planner.h"

#define HOST(n, extra)                                                         \
	"kind: Host\nname: " n "\nmemory: 16GiB\ncpus: 8\n" extra "---\n"
#define NET(n) "kind: Network\nname: " n "\n---\n"
#define VM(n, extra)                                                           \
	"kind: VM\nname: " n "\nmemory: 1GiB\nkernel: /boot/vmlinuz\n"         \
	"nics: [{network: lan}]\n" extra "---\n"

/* xen-a drained, web-1 running on it: placement wants it on xen-b. */
static struct fx *
drain_fx(int migrate)
{
	struct fx *fx = fx_new(HOST("xen-a", "state: drained\n")
	        HOST("xen-b", "") NET("lan") VM("web-1", ""));

	fx_hosts(fx);
	fx_networks(fx);
	fx_managed(fx, "xen-a", "web-1");
	fx->migrate = migrate;
	return fx;
}

static void
test_drain_is_a_migrate_when_the_driver_can(void **state)
{
	struct fx *fx = drain_fx(1);
	const struct xdc_action *a;
	json_t *o, *ch;
	size_t i;

	(void)state;
	fx_plan(fx);
	assert_int_equal(plan_count(fx->plan), 1);
	i = fx_action(fx, XDC_OP_MIGRATE, "web-1", "xen-a");
	a = plan_action(fx->plan, i);
	assert_string_equal(a->a_host, "xen-a");
	assert_string_equal(a->a_to_host, "xen-b");
	assert_false(a->a_disruptive);
	assert_non_null(a->a_spec);
	assert_int_equal(
	    a->a_domid, fx_find_dom(fx, "xen-a", "web-1")->od_domid);
	/* The JSON: op migrate, host the source, one change of host. */
	o = fx_json_action(fx, i);
	assert_string_equal(
	    json_string_value(json_object_get(o, "op")), "migrate");
	assert_string_equal(
	    json_string_value(json_object_get(o, "host")), "xen-a");
	assert_string_equal(fx_fields(fx, i), "host");
	ch = fx_change(fx, i, "host");
	assert_string_equal(
	    json_string_value(json_object_get(ch, "from")), "xen-a");
	assert_string_equal(
	    json_string_value(json_object_get(ch, "to")), "xen-b");
	/* The reason is the Host's state line. */
	assert_contains(plan_reason(fx->plan, i),
	    "test.yaml:5 (state: drained): host xen-a is drained; web-1 is "
	    "placed on host xen-b");
	assert_int_equal(fx_count(fx, XDC_OP_DESTROY, XDC_OBJ_VM), 0);
	assert_int_equal(fx_count(fx, XDC_OP_CREATE, XDC_OBJ_VM), 0);
	fx_free(fx);
}

static void
test_drain_is_destroy_then_create_when_the_driver_cannot(void **state)
{
	struct fx *fx = drain_fx(0);
	size_t down, up;

	(void)state;
	fx_plan(fx);
	assert_int_equal(plan_count(fx->plan), 2);
	assert_int_equal(fx_find(fx, XDC_OP_MIGRATE, "web-1", NULL), -1);
	down = fx_action(fx, XDC_OP_DESTROY, "web-1", "xen-a");
	up = fx_action(fx, XDC_OP_CREATE, "web-1", "xen-b");
	assert_true(down < up);
	assert_true(fx_depends(fx, up, down));
	fx_free(fx);
}

/* A new host: line moves a VM pinned elsewhere; the reason says so. */
static void
test_new_host_line_is_a_migrate(void **state)
{
	struct fx *fx = fx_new(HOST("xen-a", "") HOST("xen-b", "") NET("lan")
	        VM("web-1", "host: xen-b\n"));
	size_t i;

	(void)state;
	fx_hosts(fx);
	fx_networks(fx);
	fx_managed(fx, "xen-a", "web-1");
	fx->migrate = 1;
	fx_plan(fx);
	assert_int_equal(plan_count(fx->plan), 1);
	i = fx_action(fx, XDC_OP_MIGRATE, "web-1", "xen-a");
	assert_string_equal(plan_reason(fx->plan, i), "test.yaml:19 (host)");
	fx_free(fx);
}

/* Moving home after a failover, once the home host is back and live. */
static const char *const FAILOVER = HOST("a", "") HOST("b", "") HOST("c", "")
    NET("lan") "kind: SLA\nname: web\nselector: {tier: web}\n"
               "availability: {failover: true}\n---\n" VM(
                   "web-1", "host: b\nlabels: {tier: web}\n");

static void
test_moving_back_after_a_failover_is_a_migrate(void **state)
{
	struct xdc_pool_view pv;
	struct fx *fx = fx_new(FAILOVER);
	size_t i;

	(void)state;
	/* b is back: every host live, web-1 still on c where it failed over. */
	fx_hosts(fx);
	fx_networks(fx);
	fx_managed(fx, "c", "web-1");
	memset(&pv, 0, sizeof(pv));
	pv.pv_self = "c";
	fx->self = "c";
	fx->pool = &pv;
	fx->migrate = 1;
	fx_plan(fx);
	assert_int_equal(plan_count(fx->plan), 1);
	i = fx_action(fx, XDC_OP_MIGRATE, "web-1", "c");
	assert_string_equal(plan_action(fx->plan, i)->a_to_host, "b");
	assert_int_equal(plan_nfailovers(fx->plan), 0);
	fx_free(fx);
}

/* The failover itself is never a migrate: the lost host runs nothing. */
static void
test_failover_from_a_fenced_host_is_a_create(void **state)
{
	static const char *fenced[] = { "b" };
	struct xdc_pool_view pv;
	struct fx *fx = fx_new(FAILOVER);

	(void)state;
	fx_host(fx, "a", 16 * GIB, 8);
	fx_host(fx, "c", 16 * GIB, 8);
	fx_networks(fx);
	memset(&pv, 0, sizeof(pv));
	pv.pv_self = "a";
	pv.pv_fenced = fenced;
	pv.pv_nfenced = 1;
	fx->self = "a";
	fx->pool = &pv;
	fx->migrate = 1;
	fx->whole = 1; /* web-1 may fail over to c: the pool's plan */
	fx_plan(fx);
	assert_int_equal(fx_find(fx, XDC_OP_MIGRATE, "web-1", NULL), -1);
	assert_non_null(fx_created_on(fx, "web-1"));
	fx_free(fx);
}

/* A host declared failed but still seen is not live: destroy there. */
static void
test_no_migrate_from_a_host_declared_failed(void **state)
{
	struct fx *fx = fx_new(HOST("xen-a", "state: failed\n") HOST("xen-b",
	    "") NET("lan") "kind: SLA\nname: web\nselector: {tier: web}\n"
	                   "availability: {failover: true}\n---\n" VM(
	                       "web-1", "labels: {tier: web}\nhost: xen-a\n"));
	size_t down, up;

	(void)state;
	fx_hosts(fx);
	fx_networks(fx);
	fx_managed(fx, "xen-a", "web-1");
	fx->migrate = 1;
	fx_plan(fx);
	assert_int_equal(fx_find(fx, XDC_OP_MIGRATE, "web-1", NULL), -1);
	down = fx_action(fx, XDC_OP_DESTROY, "web-1", "xen-a");
	up = fx_action(fx, XDC_OP_CREATE, "web-1", "xen-b");
	assert_true(fx_depends(fx, up, down));
	fx_free(fx);
}

/* Its new host lost (not fenced): no migrate to it, and no create. */
static void
test_no_migrate_to_a_lost_host(void **state)
{
	struct xdc_pool_view pv;
	struct fx *fx = fx_new(HOST("xen-a", "") HOST("xen-b", "") NET("lan")
	        VM("web-1", "host: xen-b\n"));

	(void)state;
	fx_host(fx, "xen-a", 16 * GIB, 8);
	fx_networks(fx);
	fx_managed(fx, "xen-a", "web-1");
	memset(&pv, 0, sizeof(pv));
	pv.pv_self = "xen-a";
	fx->self = "xen-a";
	fx->pool = &pv;
	fx->migrate = 1;
	fx_plan(fx);
	assert_int_equal(plan_host_view(fx->plan, "xen-b"), XDC_HV_LOST);
	assert_int_equal(fx_find(fx, XDC_OP_MIGRATE, "web-1", NULL), -1);
	assert_int_equal(fx_find(fx, XDC_OP_CREATE, "web-1", NULL), -1);
	fx_free(fx);
}

/* Without a pool view the other host is unseen: no migrate either. */
static void
test_no_migrate_to_an_unseen_host(void **state)
{
	struct fx *fx = fx_new(HOST("xen-a", "") HOST("xen-b", "") NET("lan")
	        VM("web-1", "host: xen-b\n"));

	(void)state;
	fx_host(fx, "xen-a", 16 * GIB, 8);
	fx_networks(fx);
	fx_managed(fx, "xen-a", "web-1");
	fx->self = "xen-a";
	fx->migrate = 1;
	fx_plan(fx);
	assert_int_equal(fx_find(fx, XDC_OP_MIGRATE, "web-1", NULL), -1);
	fx_free(fx);
}

/* Paused, or declared paused: not live, so destroy and create. */
static void
test_paused_vm_moves_by_destroy_and_create(void **state)
{
	struct fx *fx = drain_fx(1);

	(void)state;
	fx_find_dom(fx, "xen-a", "web-1")->od_state = XDC_DOM_PAUSED;
	fx_plan(fx);
	assert_int_equal(fx_find(fx, XDC_OP_MIGRATE, "web-1", NULL), -1);
	fx_action(fx, XDC_OP_DESTROY, "web-1", "xen-a");
	fx_action(fx, XDC_OP_CREATE, "web-1", "xen-b");
	fx_free(fx);
}

/* A change fixed at build comes with the move: a replace is not live. */
static void
test_build_change_moves_by_destroy_and_create(void **state)
{
	struct fx *fx = drain_fx(1);
	struct xdc_obs_domain *d;

	(void)state;
	d = fx_find_dom(fx, "xen-a", "web-1");
	d->od_build.ob_kernel = "/boot/vmlinuz-old";
	d->od_hash ^= 1;
	fx_plan(fx);
	assert_int_equal(fx_find(fx, XDC_OP_MIGRATE, "web-1", NULL), -1);
	fx_action(fx, XDC_OP_DESTROY, "web-1", "xen-a");
	fx_action(fx, XDC_OP_CREATE, "web-1", "xen-b");
	fx_free(fx);
}

/* A copy on the new host already: the old one goes, nothing moves. */
static void
test_copy_already_on_the_new_host_is_not_migrated_onto(void **state)
{
	struct fx *fx = drain_fx(1);

	(void)state;
	fx_managed(fx, "xen-b", "web-1");
	fx_plan(fx);
	assert_int_equal(fx_find(fx, XDC_OP_MIGRATE, "web-1", NULL), -1);
	fx_action(fx, XDC_OP_DESTROY, "web-1", "xen-a");
	assert_int_equal(fx_find(fx, XDC_OP_CREATE, "web-1", NULL), -1);
	fx_free(fx);
}

/* Two stray copies (xen-a, xen-c), placed on xen-b: one moves, one goes. */
static void
test_only_one_copy_migrates(void **state)
{
	struct fx *fx = fx_new(HOST("xen-a", "") HOST("xen-b", "")
	        HOST("xen-c", "") NET("lan") VM("web-1", "host: xen-b\n"));

	(void)state;
	fx_hosts(fx);
	fx_networks(fx);
	fx_managed(fx, "xen-a", "web-1");
	fx_managed(fx, "xen-c", "web-1");
	fx->migrate = 1;
	fx_plan(fx);
	assert_int_equal(fx_count(fx, XDC_OP_MIGRATE, XDC_OBJ_VM), 1);
	fx_action(fx, XDC_OP_MIGRATE, "web-1", "xen-a");
	fx_action(fx, XDC_OP_DESTROY, "web-1", "xen-c");
	assert_int_equal(fx_find(fx, XDC_OP_CREATE, "web-1", NULL), -1);
	fx_free(fx);
}

/* Not disruptive: neither protect, nor a closed window, nor a budget at
 * its floor holds it, where a destroy and a create would wait. */
static void
test_migrate_is_not_held_by_protect_window_or_budget(void **state)
{
	struct fx *fx = fx_new(HOST("xen-a", "state: drained\n") HOST("xen-b",
	    "") NET("lan") "kind: SLA\nname: gold\nselector: {tier: db}\n"
	                   "availability: {min_running: 1}\n"
	                   "maintenance: {window: \"Sat 02:00-04:00 "
	                   "UTC\"}\n---\n" VM(
	                       "db-1", "labels: {tier: db}\nprotect: true\n"));

	(void)state;
	fx_hosts(fx);
	fx_networks(fx);
	fx_managed(fx, "xen-a", "db-1");
	fx->migrate = 1;
	fx_plan(fx);
	assert_int_equal(plan_count(fx->plan), 1);
	fx_action(fx, XDC_OP_MIGRATE, "db-1", "xen-a");
	assert_int_equal(plan_ndeferred(fx->plan), 0);
	/* The same move without migration waits, and says why. */
	fx->migrate = 0;
	fx_plan(fx);
	assert_int_equal(plan_count(fx->plan), 0);
	assert_contains(
	    fx_held(fx, XDC_OP_DESTROY, "db-1", "xen-a"), "protected");
	fx_free(fx);
}

/*
 * On its new host a migrate waits, as a create would, for the network its
 * NICs use and for the VMs going down there; a VM created on the host it
 * leaves waits for it to be gone (memory).
 */
static void
test_migrate_order_and_dependencies(void **state)
{
	struct fx *fx = fx_new(HOST("xen-a", "") HOST("xen-b", "") NET("lan")
	        VM("web-1", "host: xen-b\n") VM("web-2", "host: xen-a\n"));
	struct xdc_obs_domain *old;
	size_t net, gone, mig, up;

	(void)state;
	fx_hosts(fx);
	fx_network(fx, "xen-a", "lan"); /* lan is yet to be made on xen-b */
	fx_managed(fx, "xen-a", "web-1");
	old = fx_dom(fx, "xen-b", "old");
	old->od_managed = 1; /* undeclared: destroyed */
	fx->migrate = 1;
	fx_plan(fx);
	net = fx_action(fx, XDC_OP_CREATE, "lan", "xen-b");
	gone = fx_action(fx, XDC_OP_DESTROY, "old", "xen-b");
	mig = fx_action(fx, XDC_OP_MIGRATE, "web-1", "xen-a");
	up = fx_action(fx, XDC_OP_CREATE, "web-2", "xen-a");
	assert_true(net < gone && gone < mig && mig < up);
	assert_true(fx_depends(fx, mig, net));
	assert_true(fx_depends(fx, mig, gone));
	assert_true(fx_depends(fx, up, mig));
	fx_free(fx);
}

/*
 * A migrate held back frees nothing on the host it leaves: a VM created
 * there does not wait for it. Host a claims and runs web-1, which b (back
 * from the lost) runs too and which belongs on c now: a's copy moves only
 * once b's is gone (rejoin), and app starts on a meanwhile.
 */
static void
test_create_does_not_wait_for_a_held_migrate(void **state)
{
	struct fx *fx = fx_new(HOST("a", "") HOST("b", "") HOST("c", "")
	        NET("lan") VM("web-1", "host: c\n") VM("app", "host: a\n"));
	static const struct xdc_claim claims[] = { { "web-1", "a" } };
	struct xdc_pool_view pv;
	size_t up, n;

	(void)state;
	fx_hosts(fx);
	fx_networks(fx);
	fx_managed(fx, "a", "web-1");
	fx_managed(fx, "b", "web-1");
	memset(&pv, 0, sizeof(pv));
	pv.pv_self = "a";
	pv.pv_claims = claims;
	pv.pv_nclaims = 1;
	fx->self = "a";
	fx->pool = &pv;
	fx->migrate = 1;
	fx_plan(fx);
	assert_contains(fx_held(fx, XDC_OP_MIGRATE, "web-1", "a"),
	    "that copy goes first (rejoin)");
	up = fx_action(fx, XDC_OP_CREATE, "app", "a");
	plan_depends(fx->plan, up, &n);
	assert_int_equal(n, 0);
	fx_free(fx);
}

/* A network going from the old host waits for the VM to leave it. */
static void
test_network_destroy_waits_for_the_migrate_off_it(void **state)
{
	struct fx *fx = fx_new(HOST("xen-a", "state: drained\n")
	        HOST("xen-b", "") NET("lan") VM("web-1", ""));
	struct xdc_obs_network *n;
	struct xdc_obs_domain *d;
	size_t mig, down;

	(void)state;
	fx_hosts(fx);
	fx_networks(fx);
	n = fx_bridge(fx, "xen-a", "xdc-old");
	n->on_name = "old";
	n->on_managed = 1;
	d = fx_managed(fx, "xen-a", "web-1");
	d->od_nnics = 1;
	d->od_nics[0].on_bridge = "xdc-old"; /* its NIC moves, too */
	fx->migrate = 1;
	fx_plan(fx);
	/* The NIC differs from the declaration: an update on xen-b later. */
	mig = fx_action(fx, XDC_OP_MIGRATE, "web-1", "xen-a");
	down = fx_action(fx, XDC_OP_DESTROY, "old", "xen-a");
	assert_true(fx_depends(fx, down, mig));
	fx_free(fx);
}

/*
 * The agent of the new host plans the same migrate in the pool's plan,
 * which is not its own: its own part leaves it to xen-a's agent.
 */
static void
test_the_new_hosts_agent_plans_the_same_migrate(void **state)
{
	struct xdc_pool_view pv;
	static const struct xdc_claim claims[] = { { "web-1", "xen-a" } };
	struct fx *fx = drain_fx(1), *own = drain_fx(1);

	(void)state;
	memset(&pv, 0, sizeof(pv));
	pv.pv_self = "xen-b";
	pv.pv_claims = claims;
	pv.pv_nclaims = 1;
	fx->self = own->self = "xen-b";
	fx->pool = own->pool = &pv;
	fx->whole = 1;
	fx_plan(fx);
	assert_int_equal(plan_count(fx->plan), 1);
	fx_action(fx, XDC_OP_MIGRATE, "web-1", "xen-a");
	assert_int_equal(plan_ndeferred(fx->plan), 0);
	fx_plan(own);
	assert_int_equal(plan_count(own->plan), 0);
	assert_int_equal(plan_ndeferred(own->plan), 0);
	fx_free(fx);
	fx_free(own);
}

/* ---- Golden: the plan as people and machines read it ------------------ */

static char *
text_of(const struct fx *fx, int json)
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);

	assert_non_null(fp);
	if (json)
		assert_int_equal(plan_print_json(fx->plan, fp), 0);
	else
		plan_print_text(fx->plan, fp);
	fclose(fp);
	return text;
}

static void
test_golden_text_and_json(void **state)
{
	struct fx *fx = drain_fx(1);
	char *text, *json, *line = NULL;
	size_t len = 0;
	FILE *fp;

	(void)state;
	fx_plan(fx);
	text = text_of(fx, 0);
	assert_string_equal(text,
	    "xdc will perform these actions:\n"
	    "\n"
	    "  # test.yaml:5 (state: drained): host xen-a is drained; web-1 "
	    "is placed on host xen-b\n"
	    "  ~> migrate VM web-1 from xen-a to xen-b\n"
	    "      ~ host: \"xen-a\" -> \"xen-b\"\n"
	    "\n"
	    "Plan: 0 to create, 0 to update, 0 to replace, 0 to destroy, 1 "
	    "other.\n");
	fp = open_memstream(&line, &len);
	assert_non_null(fp);
	plan_print_action(fx->plan, 0, fp);
	fclose(fp);
	assert_string_equal(line, "~> migrate VM web-1 from xen-a to xen-b");
	json = text_of(fx, 1);
	assert_string_equal(json,
	    "{\"format_version\": 1,\n"
	    " \"source\": {\"path\": \"cfg\", \"commit\": null},\n"
	    " \"scope\": \"default\",\n"
	    " \"actions\": [\n"
	    "   {\"op\": \"migrate\", \"kind\": \"VM\", \"name\": \"web-1\", "
	    "\"host\": \"xen-a\", \"disruptive\": false, \"changes\": "
	    "[{\"field\": \"host\", \"from\": \"xen-a\", \"to\": \"xen-b\"}], "
	    "\"reason\": \"test.yaml:5 (state: drained): host xen-a is "
	    "drained; web-1 is placed on host xen-b\", \"depends_on\": []}\n"
	    " ],\n"
	    " \"deferred\": [],\n"
	    " \"unmanaged\": [],\n"
	    " \"summary\": {\"create\": 0, \"update\": 0, \"replace\": 0, "
	    "\"destroy\": 0, \"other\": 1}}\n");
	free(text);
	free(json);
	free(line);
	fx_free(fx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_drain_is_a_migrate_when_the_driver_can),
		cmocka_unit_test(
		    test_drain_is_destroy_then_create_when_the_driver_cannot),
		cmocka_unit_test(test_new_host_line_is_a_migrate),
		cmocka_unit_test(
		    test_moving_back_after_a_failover_is_a_migrate),
		cmocka_unit_test(test_failover_from_a_fenced_host_is_a_create),
		cmocka_unit_test(test_no_migrate_from_a_host_declared_failed),
		cmocka_unit_test(test_no_migrate_to_a_lost_host),
		cmocka_unit_test(test_no_migrate_to_an_unseen_host),
		cmocka_unit_test(test_paused_vm_moves_by_destroy_and_create),
		cmocka_unit_test(test_build_change_moves_by_destroy_and_create),
		cmocka_unit_test(
		    test_copy_already_on_the_new_host_is_not_migrated_onto),
		cmocka_unit_test(test_only_one_copy_migrates),
		cmocka_unit_test(
		    test_migrate_is_not_held_by_protect_window_or_budget),
		cmocka_unit_test(test_migrate_order_and_dependencies),
		cmocka_unit_test(test_create_does_not_wait_for_a_held_migrate),
		cmocka_unit_test(
		    test_network_destroy_waits_for_the_migrate_off_it),
		cmocka_unit_test(
		    test_the_new_hosts_agent_plans_the_same_migrate),
		cmocka_unit_test(test_golden_text_and_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
