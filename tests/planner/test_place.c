/*
 * Tests of placement (planner/place.c): where the plan creates each VM, and
 * the configurations it refuses because they cannot be satisfied (capacity,
 * spread, N+k, the observed hosts' memory). A VM's placement is read from
 * the host of its create, on a pool observed empty.
 */
#include "tests/planner/fixture.h"

#define HOST(n, mem) "kind: Host\nname: " n "\nmemory: " mem "\n---\n"
#define VM(n, mem)   "kind: VM\nname: " n "\nmemory: " mem "\nkernel: /k\n"

#define MAXVMS 64

/* A configuration of hosts and nvms VMs of 1GiB, PREFIX1, PREFIX2, ... */
static char *
vms_yaml(const char *hosts, const char *prefix, int nvms)
{
	char *yaml = xdc_strdup(hosts), *next;
	int i;

	for (i = 1; i <= nvms; i++) {
		assert_true(xdc_asprintf(&next,
		                "%s%skind: VM\nname: %s%d\nmemory: 1GiB\n"
		                "kernel: /k\n",
		                yaml, i > 1 ? "---\n" : "", prefix, i) >= 0);
		free(yaml);
		yaml = next;
	}
	return yaml;
}

static char *
pool_yaml(const char *hosts, int nvms)
{
	return vms_yaml(hosts, "web-", nvms);
}

/*
 * Plan yaml (n files) on its declared hosts, observed empty; out[i] is the
 * host of PREFIX(i+1)'s create, or "" when there is none.
 */
static void
place_named(const char *const *names, const char *const *bufs, size_t n,
    const char *prefix, int nvms, char out[][16])
{
	struct fx *fx = fx_new_files(names, bufs, n);
	const char *h;
	char name[16];
	int i;

	fx_hosts(fx);
	fx_plan(fx);
	for (i = 0; i < nvms; i++) {
		snprintf(name, sizeof(name), "%s%d", prefix, i + 1);
		h = fx_created_on(fx, name);
		snprintf(out[i], sizeof(out[i]), "%s", h ? h : "");
	}
	fx_free(fx);
}

static void
place_files(const char *const *names, const char *const *bufs, size_t n,
    int nvms, char out[][16])
{
	place_named(names, bufs, n, "web-", nvms, out);
}

static void
place(const char *yaml, int nvms, char out[][16])
{
	const char *name = FX_FILE;

	place_files(&name, &yaml, 1, nvms, out);
}

#define THREE_HOSTS                                                            \
	HOST("xen-a", "64GiB") HOST("xen-b", "64GiB") HOST("xen-c", "64GiB")
#define FOUR_HOSTS THREE_HOSTS HOST("xen-d", "64GiB")

static void
test_pinned_vms_stay_on_their_host(void **state)
{
	/* xen-c has room for exactly the pinned VMs: they take it first. */
	struct fx *fx = fx_new(HOST("xen-a", "64GiB") HOST("xen-b", "64GiB")
	        HOST("xen-c", "4GiB") VM("a", "2GiB") "host: xen-c\n---\n" VM(
	            "b", "2GiB") "host: xen-c\n---\n" VM("c",
	            "1GiB") "---\n" VM("d", "1GiB") "---\n" VM("e", "1GiB"));

	(void)state;
	fx_hosts(fx);
	fx_plan(fx);
	assert_string_equal(fx_created_on(fx, "a"), "xen-c");
	assert_string_equal(fx_created_on(fx, "b"), "xen-c");
	assert_string_not_equal(fx_created_on(fx, "c"), "xen-c");
	assert_string_not_equal(fx_created_on(fx, "d"), "xen-c");
	assert_string_not_equal(fx_created_on(fx, "e"), "xen-c");
	fx_free(fx);
}

static void
test_placement_is_deterministic(void **state)
{
	char *yaml = pool_yaml(THREE_HOSTS, 12);
	static char a[MAXVMS][16], b[MAXVMS][16];
	int i, used = 0;

	(void)state;
	place(yaml, 12, a);
	place(yaml, 12, b);
	for (i = 0; i < 12; i++) {
		assert_string_not_equal(a[i], "");
		assert_string_equal(a[i], b[i]);
		used |= 1 << (a[i][4] - 'a');
	}
	assert_int_equal(used, 7); /* and it uses every host */
	free(yaml);
}

static void
test_placement_independent_of_declaration_order(void **state)
{
	static char a[MAXVMS][16], b[MAXVMS][16], c[MAXVMS][16];
	const char *fwd = HOST("xen-a", "64GiB") HOST("xen-b", "64GiB")
	    VM("web-1", "1GiB") "---\n" VM("web-2", "1GiB") "---\n" VM(
	        "web-3", "1GiB") "---\n" VM("web-4", "1GiB") "---\n" VM("web-5",
	        "1GiB") "---\n" VM("web-6", "2GiB");
	const char *rev =
	    VM("web-6", "2GiB") "---\n" VM("web-5", "1GiB") "---\n" VM(
	        "web-4", "1GiB") "---\n" VM("web-3", "1GiB") "---\n" VM("web-2",
	        "1GiB") "---\n" VM("web-1", "1GiB") "---\n" HOST("xen-b",
	        "64GiB") "kind: Host\nname: xen-a\nmemory: 64GiB\n";
	/* The same, split over two files; the later one sorts first. */
	const char *names[] = { "z.yaml", "a.yaml" };
	const char *bufs[] = { VM("web-5", "1GiB") "---\n" VM(
		                   "web-1", "1GiB") "---\n" VM("web-3",
		                   "1GiB") "---\n" HOST("xen-b", "64GiB")
		                   VM("web-6", "2GiB"),
		VM("web-4", "1GiB") "---\n" HOST("xen-a", "64GiB")
		    VM("web-2", "1GiB") };
	int i;

	(void)state;
	place(fwd, 6, a);
	place(rev, 6, b);
	place_files(names, bufs, 2, 6, c);
	for (i = 0; i < 6; i++) {
		assert_string_not_equal(a[i], "");
		assert_string_equal(a[i], b[i]);
		assert_string_equal(a[i], c[i]);
	}
}

/*
 * Bounded loads can move a VM when the new one fills a host up to its
 * bound before it; here none is, and the ring leaves every placed VM where
 * it was.
 */
static void
test_adding_vm_moves_no_placed_vm(void **state)
{
	static char before[MAXVMS][16], after[MAXVMS][16];
	char *yaml;
	int i;

	(void)state;
	yaml = pool_yaml(THREE_HOSTS, 9);
	place(yaml, 9, before);
	free(yaml);
	yaml = pool_yaml(THREE_HOSTS, 10);
	place(yaml, 10, after);
	free(yaml);
	for (i = 0; i < 9; i++)
		assert_string_equal(before[i], after[i]);
	assert_string_not_equal(after[9], "");
}

static void
test_removing_host_moves_only_its_vms(void **state)
{
	static char before[MAXVMS][16], after[MAXVMS][16];
	char *yaml;
	int i, moved = 0;

	(void)state;
	yaml = pool_yaml(FOUR_HOSTS, 10);
	place(yaml, 10, before);
	free(yaml);
	yaml = pool_yaml(THREE_HOSTS, 10);
	place(yaml, 10, after);
	free(yaml);
	for (i = 0; i < 10; i++) {
		assert_string_not_equal(after[i], "xen-d");
		if (!strcmp(before[i], "xen-d"))
			moved++;
		else
			assert_string_equal(before[i], after[i]);
	}
	assert_true(moved > 0); /* xen-d did hold some */
}

static void
test_drained_host_gets_no_vms_and_its_vms_move_off(void **state)
{
	char *yaml = pool_yaml(HOST("xen-a", "64GiB") HOST("xen-b",
	                           "64GiB") "kind: Host\nname: xen-c\nmemory: "
	                                    "64GiB\nstate: drained\n---\n",
	    12);
	struct fx *fx = fx_new(yaml);
	char name[16];
	size_t up;
	int i;

	(void)state;
	free(yaml);
	fx_hosts(fx);
	fx_managed(fx, "xen-c", "web-1");
	fx_plan(fx);
	for (i = 1; i <= 12; i++) {
		snprintf(name, sizeof(name), "web-%d", i);
		assert_non_null(fx_created_on(fx, name));
		assert_string_not_equal(fx_created_on(fx, name), "xen-c");
	}
	fx_action(fx, XDC_OP_DESTROY, "web-1", "xen-c");
	up = fx_action(fx, XDC_OP_CREATE, "web-1", NULL);
	assert_non_null(fx_change(fx, up, "host"));
	fx_free(fx);
}

static void
test_lone_drained_host_gets_no_vms(void **state)
{
	struct fx *fx = fx_new(
	    "kind: Host\nname: xen-a\nstate: drained\n---\n" VM("web", "1GiB"));

	(void)state;
	fx_hosts(fx);
	fx_plan_fails(fx, "VM web fits on no host: no host is active");
	fx_free(fx);
}

/* The ring alone would put 15 of these VMs on one host. */
static void
test_bounded_loads_spread_equal_vms(void **state)
{
	char *yaml = vms_yaml(HOST("xen-a", "1TiB") HOST("xen-b", "1TiB")
	                          HOST("xen-c", "1TiB"),
	    "vm-", 30);
	const char *name = FX_FILE, *buf = yaml;
	static char out[MAXVMS][16];
	int i, load[3] = { 0, 0, 0 };

	(void)state;
	place_named(&name, &buf, 1, "vm-", 30, out);
	free(yaml);
	for (i = 0; i < 30; i++) {
		assert_int_equal(strlen(out[i]), 5);
		load[out[i][4] - 'a']++;
	}
	/* A share is 10 VMs: at most 1.25 times that, 12. */
	for (i = 0; i < 3; i++)
		assert_in_range(load[i], 1, 12);
}

#define SPREAD_SLA                                                             \
	"kind: SLA\nname: db\nselector: {tier: db}\n"                          \
	"availability: {spread: host}\n---\n"
#define DB(n) VM(n, "1GiB") "labels: {tier: db}\n---\n"

/*
 * Twelve other VMs keep the bounds loose, so that only the spread keeps
 * the SLA's VMs apart; db-1 is pinned, and the others avoid its host too.
 */
static void
test_spread_puts_sla_vms_on_distinct_hosts(void **state)
{
	char *yaml = vms_yaml(
	    FOUR_HOSTS SPREAD_SLA VM("db-1",
	        "1GiB") "labels: {tier: db}\nhost: xen-b\n---\n" DB("db-2")
	        DB("db-3") DB("db-4"),
	    "other-", 12);
	struct fx *fx;
	const char *h[4];
	char name[16];
	int i, j;

	(void)state;
	fx = fx_new(yaml);
	free(yaml);
	fx_hosts(fx);
	fx_plan(fx);
	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "db-%d", i + 1);
		h[i] = fx_created_on(fx, name);
		assert_non_null(h[i]);
		for (j = 0; j < i; j++)
			assert_string_not_equal(h[i], h[j]);
	}
	assert_string_equal(h[0], "xen-b");
	fx_free(fx);
}

static void
test_spread_with_more_vms_than_hosts_is_error(void **state)
{
	struct fx *fx =
	    fx_new(HOST("xen-a", "64GiB") HOST("xen-b", "64GiB") HOST("xen-c",
	        "64GiB") "kind: Host\nname: xen-d\nstate: drained\n"
	                 "---\n" SPREAD_SLA DB("db-1") DB("db-2") DB("db-3")
	                     DB("db-4") VM("other", "1GiB"));

	(void)state;
	fx_hosts(fx);
	fx_plan_fails(fx, "sla db: spread host needs 4 hosts for its 4 VMs; "
	                  "3 are active");
	fx_free(fx);
}

static void
test_vm_fitting_nowhere_is_error(void **state)
{
	struct fx *fx = fx_new(HOST("xen-a", "4GiB") HOST("xen-b", "6GiB")
	        VM("small", "1GiB") "host: xen-b\n---\n" VM("big", "8GiB"));

	(void)state;
	fx_hosts(fx);
	fx_plan_fails(fx, "VM big (8GiB, 1 vCPU");
	fx_plan_fails(fx, "fits on no host: largest free is 5GiB on xen-b");
	fx_free(fx);
}

/* gold is N+1 over web-1 and web-2; "other" fills part of xen-a. */
#define N1_POOL(mem_a)                                                         \
	HOST("xen-a", mem_a)                                                   \
	HOST("xen-b", "3GiB")                                                  \
	"kind: SLA\nname: gold\nselector: {tier: web}\n"                       \
	"availability: {host_failures: 1}\n---\n" VM(                          \
	    "other", "2GiB") "host: xen-a\n---\n" VM("web-1",                  \
	    "512MiB") "labels: {tier: web}\nhost: "                            \
	              "xen-b\n---\n" VM("web-2", "2GiB") "labels: {tier: "     \
	                                                 "web}\nhost: xen-b\n"

static void
test_n_plus_1_shortfall_is_error(void **state)
{
	struct fx *fx = fx_new(N1_POOL("3GiB"));

	(void)state;
	fx_hosts(fx);
	fx_plan_fails(fx, "sla gold: if host xen-b fails, web-2 (2GiB) fits "
	                  "nowhere: largest free is 1GiB on xen-a");
	fx_free(fx);
}

static void
test_satisfiable_n_plus_1_passes(void **state)
{
	struct fx *fx = fx_new(N1_POOL("5GiB"));

	(void)state;
	fx_hosts(fx);
	fx_plan(fx);
	assert_string_equal(fx_created_on(fx, "web-2"), "xen-b");
	fx_free(fx);
}

/*
 * gold's three VMs on xen-c: if it fails, they go largest first to the
 * host with the most free memory, a host that took one before counted
 * with what it has left.
 */
#define N1_REPLACE(mem_a, mem_b, mem_3)                                        \
	HOST("xen-a", mem_a)                                                   \
	HOST("xen-b", mem_b)                                                   \
	HOST("xen-c", "8GiB")                                                  \
	"kind: SLA\nname: gold\nselector: {tier: web}\n"                       \
	"availability: {host_failures: 1}\n---\n" VM("web-1",                  \
	    mem_3) "labels: {tier: web}\nhost: xen-c\n---\n" VM("web-2",       \
	    "2GiB") "labels: {tier: web}\nhost: xen-c\n---\n" VM("web-3",      \
	    "2GiB") "labels: {tier: web}\nhost: xen-c\n"

static void
test_n_plus_1_counts_what_a_host_took(void **state)
{
	struct fx *fx;

	(void)state;
	/* web-1 to xen-a (3GiB left), web-2 to xen-b (2GiB left), web-3 to
	 * xen-a again: the most left. */
	fx = fx_new(N1_REPLACE("6GiB", "4GiB", "3GiB"));
	fx_hosts(fx);
	fx_plan(fx);
	fx_free(fx);
	/* web-1 to xen-a (1GiB left), web-2 to xen-b (1GiB left): web-3
	 * fits nowhere, though xen-a had 5GiB before the failure. */
	fx = fx_new(N1_REPLACE("5GiB", "3GiB", "4GiB"));
	fx_hosts(fx);
	fx_plan_fails(fx, "sla gold: if host xen-c fails, web-3 (2GiB) fits "
	                  "nowhere: largest free is 1GiB on xen-a");
	fx_free(fx);
	/* Tied hosts: the first of them is the one named. */
	fx = fx_new(N1_REPLACE("3GiB", "3GiB", "2GiB"));
	fx_hosts(fx);
	fx_plan_fails(fx, "sla gold: if host xen-c fails, web-3 (2GiB) fits "
	                  "nowhere: largest free is 1GiB on xen-a");
	fx_free(fx);
}

static void
test_observed_memory_overcommit_is_error(void **state)
{
	struct fx *fx = fx_new(VM("web", "2GiB"));

	(void)state;
	fx_host(fx, XDC_LOCAL_HOST, 4 * GIB, 8);
	fx_unmanaged(fx, XDC_LOCAL_HOST, "legacy", 3 * GIB);
	fx_dom0(fx, XDC_LOCAL_HOST); /* Domain-0 does not count */
	fx_plan_fails(fx, "VM web (2GiB) does not fit on host local: it "
	                  "offers 4GiB, and 3GiB of it go to the VMs before "
	                  "it and unmanaged domains (1GiB short)");

	/* With 1GiB less held by hand, it fits. */
	fx_find_dom(fx, XDC_LOCAL_HOST, "legacy")->od_memory = 2 * GIB;
	fx_plan(fx);
	fx_action(fx, XDC_OP_CREATE, "web", XDC_LOCAL_HOST);
	fx_free(fx);
}

static void
test_overfull_host_names_its_vms(void **state)
{
	struct fx *fx = fx_new(HOST("xen-a", "4GiB")
	        VM("web-1", "3GiB") "---\n" VM("web-2", "3GiB"));
	char *yaml;

	(void)state;
	fx_hosts(fx);
	fx_plan_fails(fx, "host xen-a: the VMs on it need 6GiB (web-1 3GiB, "
	                  "web-2 3GiB); it offers 4GiB, 2GiB short");
	fx_free(fx);

	/* Thirteen: the largest first, then by name; eight named. */
	yaml =
	    vms_yaml(HOST("xen-a", "4GiB") VM("big", "2GiB") "---\n", "v-", 12);
	fx = fx_new(yaml);
	fx_hosts(fx);
	fx_plan_fails(fx,
	    "need 14GiB (big 2GiB, v-1 1GiB, v-10 1GiB, v-11 1GiB, "
	    "v-12 1GiB, v-2 1GiB, v-3 1GiB, v-4 1GiB and 5 more); "
	    "it offers 4GiB, 10GiB short");
	fx_free(fx);
	free(yaml);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pinned_vms_stay_on_their_host),
		cmocka_unit_test(test_placement_is_deterministic),
		cmocka_unit_test(
		    test_placement_independent_of_declaration_order),
		cmocka_unit_test(test_adding_vm_moves_no_placed_vm),
		cmocka_unit_test(test_removing_host_moves_only_its_vms),
		cmocka_unit_test(
		    test_drained_host_gets_no_vms_and_its_vms_move_off),
		cmocka_unit_test(test_lone_drained_host_gets_no_vms),
		cmocka_unit_test(test_bounded_loads_spread_equal_vms),
		cmocka_unit_test(test_spread_puts_sla_vms_on_distinct_hosts),
		cmocka_unit_test(test_spread_with_more_vms_than_hosts_is_error),
		cmocka_unit_test(test_vm_fitting_nowhere_is_error),
		cmocka_unit_test(test_n_plus_1_shortfall_is_error),
		cmocka_unit_test(test_satisfiable_n_plus_1_passes),
		cmocka_unit_test(test_n_plus_1_counts_what_a_host_took),
		cmocka_unit_test(test_observed_memory_overcommit_is_error),
		cmocka_unit_test(test_overfull_host_names_its_vms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
