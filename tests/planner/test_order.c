/*
 * Tests of the plan as a whole (planner/plan.c): the order actions run in,
 * the dependencies wired between them, what is deferred because it waits
 * for something deferred, the reasons, the counts, and that the same
 * inputs give the same plan byte for byte.
 */
#include "tests/planner/fixture.h"

#define HOST(n) "kind: Host\nname: " n "\nmemory: 16GiB\n---\n"
#define NET(n)  "kind: Network\nname: " n "\n---\n"
#define VM_ON(n, host, extra)                                                  \
	"kind: VM\nname: " n "\nmemory: 1GiB\nkernel: /boot/vmlinuz\n"         \
	"host: " host "\n" extra "---\n"
#define LAN_NIC "nics: [{network: lan}]\n"

/* A domain xdc manages but the configuration no longer declares. */
static struct xdc_obs_domain *
orphan(struct fx *fx, const char *host, const char *name, const char *bridge)
{
	struct xdc_obs_domain *d = fx_dom(fx, host, name);

	d->od_managed = 1;
	d->od_memory = d->od_max_memory = GIB;
	d->od_vcpus = d->od_max_vcpus = 1;
	if (bridge != NULL) {
		d->od_nnics = 1;
		d->od_nics =
		    xdc_arena_zalloc(fx->obs->obs_arena, sizeof(*d->od_nics));
		d->od_nics[0].on_bridge = bridge;
		d->od_nics[0].on_mac[0] = 0x02;
	}
	return d;
}

/* A managed bridge the configuration no longer declares. */
static void
old_bridge(struct fx *fx, const char *host)
{
	struct xdc_obs_network *n = fx_bridge(fx, host, "xdc-old");

	n->on_name = "old";
	n->on_managed = 1;
}

/* i runs before j and j waits for it. */
static void
check_waits(struct fx *fx, size_t j, size_t i, const char *file, int line)
{
	if (i < j && fx_depends(fx, j, i))
		return;
	print_error("expected action %zu to wait for action %zu\n", j, i);
	fx_dump_plan(fx);
	_fail(file, line);
}

#define assert_waits(fx, j, i) check_waits(fx, j, i, __FILE__, __LINE__)

/*
 * Something of every kind on two hosts: a network to create on xen-b and
 * one to destroy on both, an update, an update with a pause, a replace, a
 * create, a destroy and a move. One piece per line, kept so by hand:
 * clang-format folds them a step further on every run.
 */
/* clang-format off */
#define MIXED_YAML                                                             \
	HOST("xen-a")                                                          \
	HOST("xen-b")                                                          \
	NET("lan")                                                             \
	VM_ON("web-1", "xen-a", LAN_NIC)                                       \
	VM_ON("web-2", "xen-b", LAN_NIC)                                       \
	VM_ON("db", "xen-a", "state: paused\n")                                \
	VM_ON("app", "xen-b", LAN_NIC)                                         \
	VM_ON("cache", "xen-a", "")                                            \
	"kind: SLA\nname: gold\nselector: {}\ncpu: {weight: 512}\n"
/* clang-format on */

static struct fx *
mixed_fx(void)
{
	struct fx *fx = fx_new(MIXED_YAML);

	fx_hosts(fx);
	fx_network(fx, "xen-a", "lan");
	old_bridge(fx, "xen-a");
	old_bridge(fx, "xen-b");
	fx_managed(fx, "xen-a", "web-1")->od_memory = 2 * GIB;
	fx_managed(fx, "xen-a", "db")->od_vcpus = 2;
	fx_managed(fx, "xen-a", "app");
	fx_managed(fx, "xen-a", "cache")->od_max_vcpus = 2;
	orphan(fx, "xen-b", "gone", "xdc-old");
	fx_unmanaged(fx, "xen-b", "legacy", GIB);
	fx_dom0(fx, "xen-a");
	return fx;
}

/* ---- Ordering and dependencies ---------------------------------------- */

static void
test_network_created_before_vms_that_use_it(void **state)
{
	struct fx *fx = fx_new(NET("lan") NET(
	    "dmz") "kind: VM\nname: web\nmemory: 1GiB\nkernel: /k\n" LAN_NIC);
	size_t net, vm;

	(void)state;
	fx_hosts(fx);
	fx_plan(fx);
	net = fx_action(fx, XDC_OP_CREATE, "lan", XDC_LOCAL_HOST);
	vm = fx_action(fx, XDC_OP_CREATE, "web", XDC_LOCAL_HOST);
	assert_int_equal(plan_action(fx->plan, net)->a_kind, XDC_OBJ_NETWORK);
	assert_waits(fx, vm, net);
	/* Only on the network it uses. */
	assert_false(fx_depends(
	    fx, vm, fx_action(fx, XDC_OP_CREATE, "dmz", XDC_LOCAL_HOST)));
	fx_free(fx);
}

static void
test_nic_update_waits_for_its_network(void **state)
{
	struct fx *fx = fx_new(NET(
	    "lan") "kind: VM\nname: web\nmemory: 1GiB\nkernel: /k\n" LAN_NIC);
	size_t net, vm;

	(void)state;
	fx_hosts(fx);
	fx_managed(fx, XDC_LOCAL_HOST, "web")->od_nnics = 0;
	fx_plan(fx);
	net = fx_action(fx, XDC_OP_CREATE, "lan", XDC_LOCAL_HOST);
	vm = fx_action(fx, XDC_OP_UPDATE, "web", XDC_LOCAL_HOST);
	assert_waits(fx, vm, net);
	fx_free(fx);
}

static void
test_vm_destroys_before_creates_on_same_host(void **state)
{
	struct fx *fx = fx_new(HOST("xen-a") HOST("xen-b")
	        VM_ON("web", "xen-a", "") VM_ON("app", "xen-b", ""));
	size_t down, up, other;

	(void)state;
	fx_hosts(fx);
	orphan(fx, "xen-a", "old", NULL);
	fx_plan(fx);
	down = fx_action(fx, XDC_OP_DESTROY, "old", "xen-a");
	up = fx_action(fx, XDC_OP_CREATE, "web", "xen-a");
	other = fx_action(fx, XDC_OP_CREATE, "app", "xen-b");
	assert_waits(fx, up, down);
	/* Another host's creates do not wait for it. */
	assert_false(fx_depends(fx, other, down));
	fx_free(fx);
}

static void
test_network_destroyed_after_vms_that_used_it(void **state)
{
	struct fx *fx = fx_new(NET(
	    "lan") "kind: VM\nname: web\nmemory: 1GiB\nkernel: /k\n" LAN_NIC);
	size_t net, vm, move;

	(void)state;
	fx_hosts(fx);
	fx_networks(fx);
	old_bridge(fx, XDC_LOCAL_HOST);
	orphan(fx, XDC_LOCAL_HOST, "gone", "xdc-old");
	/* web moves its NIC from the old bridge to lan. */
	fx_managed(fx, XDC_LOCAL_HOST, "web")->od_nics[0].on_bridge = "xdc-old";
	fx_plan(fx);
	net = fx_action(fx, XDC_OP_DESTROY, "old", XDC_LOCAL_HOST);
	vm = fx_action(fx, XDC_OP_DESTROY, "gone", XDC_LOCAL_HOST);
	move = fx_action(fx, XDC_OP_UPDATE, "web", XDC_LOCAL_HOST);
	assert_waits(fx, net, vm);
	assert_waits(fx, net, move);
	fx_free(fx);
}

/*
 * A VM replaced off a bridge keeps its old domain on it until the replace
 * runs: the bridge goes after it, and not at all while it is deferred.
 */
static void
test_network_destroy_waits_for_replace_of_vm_on_it(void **state)
{
	struct fx *fx = fx_new(
	    NET("lan") "kind: VM\nname: web\nmemory: 1GiB\nkernel: /k\nlabels: "
	               "{a: b}\n" LAN_NIC
	               "---\nkind: SLA\nname: gold\nselector: {a: b}\n"
	               "maintenance: {window: \"Sat 02:00-04:00 UTC\"}\n");
	struct xdc_obs_domain *d;
	size_t net, vm;

	(void)state;
	fx_hosts(fx);
	fx_networks(fx);
	old_bridge(fx, XDC_LOCAL_HOST);
	d = fx_managed(fx, XDC_LOCAL_HOST, "web");
	d->od_nics[0].on_bridge = "xdc-old";
	d->od_max_memory = 2 * GIB;
	fx->now = 1700277000; /* Sat 2023-11-18 03:10 UTC: in the window */
	fx_plan(fx);
	net = fx_action(fx, XDC_OP_DESTROY, "old", XDC_LOCAL_HOST);
	vm = fx_action(fx, XDC_OP_REPLACE, "web", XDC_LOCAL_HOST);
	assert_waits(fx, net, vm);

	fx->now = FX_NOW; /* outside it: both wait */
	fx_plan(fx);
	assert_int_equal(plan_count(fx->plan), 0);
	assert_contains(fx_held(fx, XDC_OP_DESTROY, "old", XDC_LOCAL_HOST),
	    "waits for the deferred replace of VM web");
	fx_free(fx);
}

static void
test_pause_waits_for_update_of_same_vm(void **state)
{
	struct fx *fx = fx_new(
	    VM_ON("db", "local", "state: paused\n") VM_ON("web", "local", ""));
	size_t upd, pause, other;

	(void)state;
	fx_hosts(fx);
	fx_managed(fx, XDC_LOCAL_HOST, "db")->od_memory = 2 * GIB;
	fx_managed(fx, XDC_LOCAL_HOST, "web")->od_memory = 2 * GIB;
	fx_plan(fx);
	upd = fx_action(fx, XDC_OP_UPDATE, "db", XDC_LOCAL_HOST);
	pause = fx_action(fx, XDC_OP_PAUSE, "db", XDC_LOCAL_HOST);
	other = fx_action(fx, XDC_OP_UPDATE, "web", XDC_LOCAL_HOST);
	assert_waits(fx, pause, upd);
	assert_false(fx_depends(fx, pause, other));
	fx_free(fx);
}

static void
test_unpause_waits_for_update_of_same_vm(void **state)
{
	struct fx *fx = fx_new(VM_ON("db", "local", ""));
	struct xdc_obs_domain *d;

	(void)state;
	fx_hosts(fx);
	d = fx_managed(fx, XDC_LOCAL_HOST, "db");
	d->od_memory = 2 * GIB;
	d->od_state = XDC_DOM_PAUSED;
	fx_plan(fx);
	assert_waits(fx, fx_action(fx, XDC_OP_UNPAUSE, "db", XDC_LOCAL_HOST),
	    fx_action(fx, XDC_OP_UPDATE, "db", XDC_LOCAL_HOST));
	fx_free(fx);
}

static void
test_action_waiting_for_deferred_one_is_deferred(void **state)
{
	/* web moves to xen-b, but its old domain may go only in the window. */
	struct fx *fx = fx_new(HOST("xen-a") HOST("xen-b") VM_ON("web", "xen-b",
	    "labels: {a: b}\n") "kind: SLA\nname: gold\nselector: {a: b}\n"
	                        "maintenance: {window: \"Sat 02:00-04:00 "
	                        "UTC\"}\n");

	(void)state;
	fx_hosts(fx);
	fx_managed(fx, "xen-a", "web");
	fx_plan(fx);
	assert_int_equal(plan_count(fx->plan), 0);
	assert_int_equal(plan_ndeferred(fx->plan), 2);
	assert_contains(
	    fx_held(fx, XDC_OP_DESTROY, "web", "xen-a"), "maintenance.window");
	assert_string_equal(fx_held(fx, XDC_OP_CREATE, "web", "xen-b"),
	    "waits for the deferred destroy of VM web");
	fx_free(fx);
}

/* A protected domain stays for good: its host's creates do not wait. */
static void
test_protected_destroy_does_not_hold_creates(void **state)
{
	struct fx *fx = fx_new(VM_ON("web", "local", ""));
	size_t up, n;

	(void)state;
	fx_hosts(fx);
	orphan(fx, XDC_LOCAL_HOST, "keep", NULL)->od_protect = 1;
	fx_plan(fx);
	up = fx_action(fx, XDC_OP_CREATE, "web", XDC_LOCAL_HOST);
	assert_int_equal(plan_count(fx->plan), 1);
	plan_depends(fx->plan, up, &n);
	assert_int_equal(n, 0);
	assert_int_equal(plan_ndeferred(fx->plan), 1);
	assert_contains(
	    fx_held(fx, XDC_OP_DESTROY, "keep", XDC_LOCAL_HOST), "protected");
	fx_free(fx);
}

/*
 * A VM leaving two hosts at once (two stray copies, placed on a third)
 * comes up after both copies are gone; a VM created beside it, which
 * moves from nowhere, waits for neither.
 */
static void
test_moved_vm_waits_for_every_copy_to_go(void **state)
{
	struct fx *fx = fx_new(HOST("xen-a") HOST("xen-b") HOST("xen-c")
	        VM_ON("web", "xen-c", "") VM_ON("app", "xen-c", ""));
	size_t a, b, up, other;

	(void)state;
	fx_hosts(fx);
	fx_managed(fx, "xen-a", "web");
	fx_managed(fx, "xen-b", "web");
	fx_plan(fx);
	a = fx_action(fx, XDC_OP_DESTROY, "web", "xen-a");
	b = fx_action(fx, XDC_OP_DESTROY, "web", "xen-b");
	up = fx_action(fx, XDC_OP_CREATE, "web", "xen-c");
	other = fx_action(fx, XDC_OP_CREATE, "app", "xen-c");
	assert_waits(fx, up, a);
	assert_waits(fx, up, b);
	assert_false(fx_depends(fx, other, a));
	assert_false(fx_depends(fx, other, b));
	fx_free(fx);
}

static void
test_depends_on_point_to_earlier_actions(void **state)
{
	struct fx *fx = mixed_fx();
	const uint32_t *deps;
	size_t i, k, n, total = 0;

	(void)state;
	fx_plan(fx);
	assert_true(plan_count(fx->plan) >= 10);
	for (i = 0; i < plan_count(fx->plan); i++) {
		deps = plan_depends(fx->plan, i, &n);
		for (k = 0; k < n; k++) {
			assert_true(deps[k] < i);
			if (k > 0)
				assert_true(deps[k] != deps[k - 1]);
		}
		total += n;
	}
	assert_true(total >= 5);
	fx_free(fx);
}

/* ---- Determinism ------------------------------------------------------ */

static char *
json_text(const struct fx *fx, size_t *len)
{
	char *text = NULL;
	FILE *fp = open_memstream(&text, len);

	assert_non_null(fp);
	assert_int_equal(plan_print_json(fx->plan, fp), 0);
	fclose(fp);
	return text;
}

static void
test_same_inputs_give_identical_json(void **state)
{
	struct fx *fx = mixed_fx(), *again = mixed_fx();
	char *a, *b, *c;
	size_t la, lb, lc;

	(void)state;
	fx_plan(fx);
	a = json_text(fx, &la);
	fx_plan(fx);
	b = json_text(fx, &lb);
	/* And from inputs loaded and built a second time. */
	fx_plan(again);
	c = json_text(again, &lc);
	assert_true(la > 1000);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
	assert_int_equal(la, lc);
	assert_memory_equal(a, c, la);
	free(a);
	free(b);
	free(c);
	fx_free(fx);
	fx_free(again);
}

static void
test_summary_counts_ops(void **state)
{
	struct fx *fx = mixed_fx();
	size_t counts[5], i, n = 0;

	(void)state;
	fx_plan(fx);
	plan_summary(fx->plan, counts);
	/* lan on xen-b, web-2, app on xen-b. */
	assert_int_equal(counts[0], 3);
	/* web-1 memory, db vcpus. */
	assert_int_equal(counts[1], 2);
	/* cache's max_vcpus. */
	assert_int_equal(counts[2], 1);
	/* old on both hosts, gone, app off xen-a. */
	assert_int_equal(counts[3], 4);
	/* db's pause. */
	assert_int_equal(counts[4], 1);
	for (i = 0; i < 5; i++)
		n += counts[i];
	assert_int_equal(n, plan_count(fx->plan));
	assert_int_equal(
	    json_integer_value(json_object_get(
	        json_object_get(fx_json(fx), "summary"), "destroy")),
	    4);
	fx_free(fx);
}

/* ---- Reasons ---------------------------------------------------------- */

static void
test_create_reason_is_declaration_line(void **state)
{
	/* The VM's kind: is on line 6, after its name. */
	struct fx *fx = fx_new("# networks\n" NET(
	    "lan") "name: web\nkind: VM\nmemory: 1GiB\nkernel: /k\n");
	size_t i;

	(void)state;
	fx_hosts(fx);
	fx_networks(fx);
	fx_plan(fx);
	i = fx_action(fx, XDC_OP_CREATE, "web", XDC_LOCAL_HOST);
	assert_string_equal(plan_reason(fx->plan, i), "test.yaml:6");
	fx_free(fx);
}

static void
test_sla_update_reason_names_sla_line(void **state)
{
	struct fx *fx = fx_new("kind: VM\nname: web\nmemory: 1GiB\n"
	                       "kernel: /k\n---\nkind: SLA\nname: gold\n"
	                       "selector: {}\ncpu:\n  weight: 512\n");
	size_t i;

	(void)state;
	fx_hosts(fx);
	fx_managed(fx, XDC_LOCAL_HOST, "web")->od_weight = 256;
	fx_plan(fx);
	i = fx_action(fx, XDC_OP_UPDATE, "web", XDC_LOCAL_HOST);
	assert_string_equal(
	    plan_reason(fx->plan, i), "test.yaml:10 (sla gold: cpu.weight)");
	fx_free(fx);
}

/* ---- The --max-destroy guard's counts --------------------------------- */

static void
test_vm_destroys_and_managed_vms(void **state)
{
	struct fx *fx = mixed_fx();

	(void)state;
	fx_plan(fx);
	/* web-1, db, app, cache, gone: not legacy, not Domain-0. */
	assert_int_equal(plan_managed_vms(fx->plan), 5);
	/* gone only: app's destroy is half of a move. */
	assert_int_equal(plan_vm_destroys(fx->plan), 1);
	fx_free(fx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_network_created_before_vms_that_use_it),
		cmocka_unit_test(test_nic_update_waits_for_its_network),
		cmocka_unit_test(test_vm_destroys_before_creates_on_same_host),
		cmocka_unit_test(test_network_destroyed_after_vms_that_used_it),
		cmocka_unit_test(
		    test_network_destroy_waits_for_replace_of_vm_on_it),
		cmocka_unit_test(test_pause_waits_for_update_of_same_vm),
		cmocka_unit_test(test_unpause_waits_for_update_of_same_vm),
		cmocka_unit_test(
		    test_action_waiting_for_deferred_one_is_deferred),
		cmocka_unit_test(test_protected_destroy_does_not_hold_creates),
		cmocka_unit_test(test_moved_vm_waits_for_every_copy_to_go),
		cmocka_unit_test(test_depends_on_point_to_earlier_actions),
		cmocka_unit_test(test_same_inputs_give_identical_json),
		cmocka_unit_test(test_summary_counts_ops),
		cmocka_unit_test(test_create_reason_is_declaration_line),
		cmocka_unit_test(test_sla_update_reason_names_sla_line),
		cmocka_unit_test(test_vm_destroys_and_managed_vms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
