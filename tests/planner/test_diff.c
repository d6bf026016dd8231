/*
 * Tests of the diff (planner/diff.c): what each difference between a
 * declared object and the observed one becomes. One test per rule: each
 * starts from a domain exactly as xdc would have built the VM, changes one
 * thing, and checks the one action that follows (its op, whether it is
 * disruptive, and the field its "changes" name).
 */
#include "tests/planner/fixture.h"

#define NET_LAN "kind: Network\nname: lan\n"

/* A VM with every build-time field set, on network lan. */
#define VM_WEB                                                                 \
	"kind: VM\n"                                                           \
	"name: web\n"                                                          \
	"labels: {tier: web}\n"                                                \
	"memory: 1GiB\n"                                                       \
	"max_memory: 2GiB\n"                                                   \
	"vcpus: 1\n"                                                           \
	"max_vcpus: 2\n"                                                       \
	"kernel: /boot/vmlinuz\n"                                              \
	"ramdisk: /boot/initrd\n"                                              \
	"cmdline: console=hvc0\n"                                              \
	"disks:\n"                                                             \
	"  - {target: /dev/vg0/web}\n"                                         \
	"nics:\n"                                                              \
	"  - {network: lan}\n"

#define SLA_GOLD(body)                                                         \
	"---\nkind: SLA\nname: gold\nselector: {tier: web}\n" body

/*
 * Network lan and VM web (with vm_extra keys appended to it) and the more
 * documents after it; one host, local, with lan on it as xdc made it.
 */
static struct fx *
web_fx(const char *vm_extra, const char *more)
{
	struct fx *fx;
	char *yaml;

	assert_true(xdc_asprintf(&yaml, NET_LAN "---\n" VM_WEB "%s%s", vm_extra,
	                more) >= 0);
	fx = fx_new(yaml);
	free(yaml);
	fx_hosts(fx);
	fx_networks(fx);
	return fx;
}

/* The plan must be exactly one action, (op, web, local): its index. */
static size_t
only(struct fx *fx, enum xdc_op op)
{
	size_t i = fx_action(fx, op, "web", XDC_LOCAL_HOST);

	if (plan_count(fx->plan) != 1) {
		fx_dump_plan(fx);
		fail_msg("expected only %s web, got %zu actions",
		    xdc_op_name(op), plan_count(fx->plan));
	}
	assert_int_equal(plan_ndeferred(fx->plan), 0);
	return i;
}

static void
test_matching_domain_needs_nothing(void **state)
{
	struct fx *fx = web_fx("", SLA_GOLD("cpu: {weight: 512, cap: 50}\n"));

	(void)state;
	fx_managed(fx, XDC_LOCAL_HOST, "web");
	fx_plan(fx);
	assert_int_equal(plan_count(fx->plan), 0);
	assert_int_equal(plan_ndeferred(fx->plan), 0);
	assert_int_equal(plan_managed_vms(fx->plan), 1);
	fx_free(fx);
}

/* ---- Create ----------------------------------------------------------- */

static void
test_missing_running_vm_is_created(void **state)
{
	struct fx *fx = web_fx("", "");
	const struct xdc_action *a;
	size_t i;

	(void)state;
	fx_plan(fx);
	i = only(fx, XDC_OP_CREATE);
	a = plan_action(fx->plan, i);
	assert_int_equal(a->a_kind, XDC_OBJ_VM);
	assert_false(a->a_disruptive);
	assert_non_null(a->a_spec);
	assert_ptr_equal(a->a_spec->ds_vm, fx_vm(fx, "web"));
	assert_string_equal(a->a_spec->ds_bridges[0], "xdc-lan");
	assert_true(
	    json_is_null(json_object_get(fx_change(fx, i, "memory"), "from")));
	assert_int_equal(json_integer_value(
	                     json_object_get(fx_change(fx, i, "memory"), "to")),
	    (json_int_t)GIB);
	fx_free(fx);
}

static void
test_declared_stopped_absent_vm_gets_nothing(void **state)
{
	struct fx *fx = web_fx("state: stopped\n", "");

	(void)state;
	fx_plan(fx);
	assert_int_equal(plan_count(fx->plan), 0);
	assert_int_equal(plan_ndeferred(fx->plan), 0);
	fx_free(fx);
}

/* ---- Updates in place ------------------------------------------------- */

static void
test_memory_change_is_update(void **state)
{
	struct fx *fx = web_fx("", "");
	const struct xdc_action *a;
	size_t i;

	(void)state;
	fx_managed(fx, XDC_LOCAL_HOST, "web")->od_memory = 512 * MIB;
	fx_plan(fx);
	i = only(fx, XDC_OP_UPDATE);
	a = plan_action(fx->plan, i);
	assert_false(a->a_disruptive);
	assert_int_equal(a->a_update, XDC_UPD_MEMORY);
	assert_string_equal(fx_fields(fx, i), "memory");
	assert_int_equal(json_integer_value(json_object_get(
	                     fx_change(fx, i, "memory"), "from")),
	    (json_int_t)(512 * MIB));
	fx_free(fx);
}

static void
test_vcpus_change_is_update(void **state)
{
	struct fx *fx = web_fx("", "");
	size_t i;

	(void)state;
	fx_managed(fx, XDC_LOCAL_HOST, "web")->od_vcpus = 2;
	fx_plan(fx);
	i = only(fx, XDC_OP_UPDATE);
	assert_false(plan_action(fx->plan, i)->a_disruptive);
	assert_int_equal(plan_action(fx->plan, i)->a_update, XDC_UPD_VCPUS);
	assert_string_equal(fx_fields(fx, i), "vcpus");
	fx_free(fx);
}

static void
test_sla_cpu_weight_is_update(void **state)
{
	struct fx *fx = web_fx("", SLA_GOLD("cpu: {weight: 512}\n"));
	size_t i;

	(void)state;
	fx_managed(fx, XDC_LOCAL_HOST, "web")->od_weight = XDC_DEFAULT_WEIGHT;
	fx_plan(fx);
	i = only(fx, XDC_OP_UPDATE);
	assert_false(plan_action(fx->plan, i)->a_disruptive);
	assert_int_equal(plan_action(fx->plan, i)->a_update, XDC_UPD_SCHED);
	assert_string_equal(fx_fields(fx, i), "cpu.weight");
	assert_int_equal(json_integer_value(json_object_get(
	                     fx_change(fx, i, "cpu.weight"), "to")),
	    512);
	fx_free(fx);
}

static void
test_sla_cpu_cap_is_update(void **state)
{
	struct fx *fx = web_fx("", SLA_GOLD("cpu: {cap: 50}\n"));
	size_t i;

	(void)state;
	fx_managed(fx, XDC_LOCAL_HOST, "web")->od_cap = 0;
	fx_plan(fx);
	i = only(fx, XDC_OP_UPDATE);
	assert_false(plan_action(fx->plan, i)->a_disruptive);
	assert_int_equal(plan_action(fx->plan, i)->a_update, XDC_UPD_SCHED);
	assert_string_equal(fx_fields(fx, i), "cpu.cap");
	fx_free(fx);
}

static void
test_nic_change_is_update(void **state)
{
	struct fx *fx = web_fx("", "");
	struct xdc_obs_domain *d;
	size_t i;

	(void)state;
	d = fx_managed(fx, XDC_LOCAL_HOST, "web");
	d->od_nics[0].on_mac[5] ^= 1;
	fx_plan(fx);
	i = only(fx, XDC_OP_UPDATE);
	assert_false(plan_action(fx->plan, i)->a_disruptive);
	assert_int_equal(plan_action(fx->plan, i)->a_update, XDC_UPD_NICS);
	assert_string_equal(fx_fields(fx, i), "nics");

	/* A NIC missing altogether is attached the same way. */
	d->od_nnics = 0;
	fx_plan(fx);
	i = only(fx, XDC_OP_UPDATE);
	assert_string_equal(fx_fields(fx, i), "nics");
	fx_free(fx);
}

static void
test_protect_change_is_marker_update(void **state)
{
	struct fx *fx = web_fx("protect: true\n", "");
	size_t i;

	(void)state;
	fx_managed(fx, XDC_LOCAL_HOST, "web")->od_protect = 0;
	fx_plan(fx);
	i = only(fx, XDC_OP_UPDATE);
	assert_false(plan_action(fx->plan, i)->a_disruptive);
	assert_int_equal(plan_action(fx->plan, i)->a_update, XDC_UPD_MARKER);
	assert_string_equal(fx_fields(fx, i), "protect");
	fx_free(fx);
}

/* ---- Replace ---------------------------------------------------------- */

/*
 * The domain was built with one build-time field different (as a driver
 * would record it, with a different spec hash): the plan must replace it,
 * disruptively, naming that field and only it.
 */
static void
check_replace(void (*change)(struct xdc_obs_domain *), const char *field)
{
	struct fx *fx = web_fx("", "");
	struct xdc_obs_domain *d;
	const struct xdc_action *a;
	size_t i;

	d = fx_managed(fx, XDC_LOCAL_HOST, "web");
	change(d);
	d->od_hash ^= 1;
	fx_plan(fx);
	i = only(fx, XDC_OP_REPLACE);
	a = plan_action(fx->plan, i);
	assert_true(a->a_disruptive);
	assert_non_null(a->a_spec);
	assert_string_equal(fx_fields(fx, i), field);
	assert_contains(plan_reason(fx->plan, i), field);
	fx_free(fx);
}

static void
set_type_hvm(struct xdc_obs_domain *d)
{
	d->od_build.ob_type = XDC_VM_HVM;
}

static void
set_kernel(struct xdc_obs_domain *d)
{
	d->od_build.ob_kernel = "/boot/vmlinuz-old";
}

static void
set_no_ramdisk(struct xdc_obs_domain *d)
{
	d->od_build.ob_ramdisk = NULL;
}

static void
set_cmdline(struct xdc_obs_domain *d)
{
	d->od_build.ob_cmdline = "console=ttyS0";
}

static void
set_max_memory(struct xdc_obs_domain *d)
{
	d->od_max_memory = 4 * GIB;
}

static void
set_max_vcpus(struct xdc_obs_domain *d)
{
	d->od_max_vcpus = 4;
}

static void
set_disk_readonly(struct xdc_obs_domain *d)
{
	d->od_build.ob_disks[0].d_readonly = 1;
}

static void
set_no_disks(struct xdc_obs_domain *d)
{
	d->od_build.ob_ndisks = 0;
}

static void
test_type_change_is_replace(void **state)
{
	(void)state;
	check_replace(set_type_hvm, "type");
}

static void
test_kernel_change_is_replace(void **state)
{
	(void)state;
	check_replace(set_kernel, "kernel");
}

static void
test_ramdisk_change_is_replace(void **state)
{
	(void)state;
	check_replace(set_no_ramdisk, "ramdisk");
}

static void
test_cmdline_change_is_replace(void **state)
{
	(void)state;
	check_replace(set_cmdline, "cmdline");
}

static void
test_max_memory_change_is_replace(void **state)
{
	(void)state;
	check_replace(set_max_memory, "max_memory");
}

static void
test_max_vcpus_change_is_replace(void **state)
{
	(void)state;
	check_replace(set_max_vcpus, "max_vcpus");
}

static void
test_disks_change_is_replace(void **state)
{
	(void)state;
	check_replace(set_disk_readonly, "disks");
	check_replace(set_no_disks, "disks");
}

static void
test_hash_change_without_build_record_is_spec_replace(void **state)
{
	struct fx *fx = web_fx("", "");
	struct xdc_obs_domain *d;
	size_t i;

	(void)state;
	d = fx_managed(fx, XDC_LOCAL_HOST, "web");
	d->od_has_build = 0;
	memset(&d->od_build, 0, sizeof(d->od_build));
	fx_plan(fx);
	assert_int_equal(plan_count(fx->plan), 0); /* same hash: nothing */

	d->od_hash ^= 1;
	fx_plan(fx);
	i = only(fx, XDC_OP_REPLACE);
	assert_true(plan_action(fx->plan, i)->a_disruptive);
	assert_string_equal(fx_fields(fx, i), "spec");
	fx_free(fx);
}

/* ---- Destroy, protect, unmanaged -------------------------------------- */

static void
test_undeclared_managed_domain_is_destroyed(void **state)
{
	struct fx *fx = web_fx("", "");
	struct xdc_obs_domain *d;
	const struct xdc_action *a;
	size_t i;

	(void)state;
	fx_managed(fx, XDC_LOCAL_HOST, "web");
	d = fx_dom(fx, XDC_LOCAL_HOST, "old");
	d->od_managed = 1;
	d->od_memory = d->od_max_memory = GIB;
	fx_plan(fx);
	assert_int_equal(plan_count(fx->plan), 1);
	i = fx_action(fx, XDC_OP_DESTROY, "old", XDC_LOCAL_HOST);
	a = plan_action(fx->plan, i);
	assert_int_equal(a->a_kind, XDC_OBJ_VM);
	assert_true(a->a_disruptive);
	assert_int_equal(a->a_domid, d->od_domid);
	assert_string_equal(fx_fields(fx, i), "state");
	assert_true(
	    json_is_null(json_object_get(fx_change(fx, i, "state"), "to")));
	assert_contains(plan_reason(fx->plan, i), "not declared");
	assert_int_equal(plan_managed_vms(fx->plan), 2);
	fx_free(fx);
}

static void
test_protected_undeclared_domain_is_deferred(void **state)
{
	struct fx *fx = web_fx("", "");
	struct xdc_obs_domain *d;

	(void)state;
	fx_managed(fx, XDC_LOCAL_HOST, "web");
	d = fx_dom(fx, XDC_LOCAL_HOST, "old");
	d->od_managed = 1;
	d->od_protect = 1;
	fx_plan(fx);
	assert_int_equal(fx_find(fx, XDC_OP_DESTROY, "old", NULL), -1);
	assert_int_equal(plan_ndeferred(fx->plan), 1);
	assert_contains(
	    fx_held(fx, XDC_OP_DESTROY, "old", XDC_LOCAL_HOST), "protect");
	assert_int_equal(plan_vm_destroys(fx->plan), 0);
	fx_free(fx);
}

static void
test_unmanaged_domain_listed_and_left_alone(void **state)
{
	struct fx *fx = web_fx("", "");
	struct xdc_obs_domain *d;

	(void)state;
	fx_managed(fx, XDC_LOCAL_HOST, "web");
	d = fx_unmanaged(fx, XDC_LOCAL_HOST, "hand-made", GIB);
	d->od_state = XDC_DOM_CRASHED;
	fx_plan(fx);
	assert_int_equal(plan_count(fx->plan), 0);
	assert_int_equal(plan_ndeferred(fx->plan), 0);
	assert_true(fx_listed_unmanaged(fx, "hand-made"));
	assert_false(fx_mentions(fx, "hand-made"));
	assert_int_equal(plan_managed_vms(fx->plan), 1);
	fx_free(fx);
}

static void
test_domain0_never_appears(void **state)
{
	struct fx *fx = web_fx("", "");

	(void)state;
	fx_dom0(fx, XDC_LOCAL_HOST)->od_managed = 1; /* even if it says so */
	fx_plan(fx);
	assert_false(fx_mentions(fx, "Domain-0"));
	assert_false(fx_listed_unmanaged(fx, "Domain-0"));
	assert_int_equal(plan_managed_vms(fx->plan), 0);
	fx_free(fx);
}

static void
test_vm_name_held_by_unmanaged_domain_is_error(void **state)
{
	struct fx *fx = web_fx("", "");

	(void)state;
	fx_unmanaged(fx, XDC_LOCAL_HOST, "web", GIB);
	fx_plan_fails(fx,
	    "VM web: a domain of that name (id 1) runs on host local and is "
	    "not managed by xdc");
	fx_free(fx);
}

/* ---- Adoption (adopt: true) ------------------------------------------- */

/*
 * A domain running exactly what VM web declares, as someone started it by
 * hand: no marker, no recorded build.
 */
static struct xdc_obs_domain *
unowned_web(struct fx *fx)
{
	struct xdc_obs_domain *d = fx_managed(fx, XDC_LOCAL_HOST, "web");

	d->od_managed = 0;
	d->od_protect = 0;
	d->od_hash = 0;
	d->od_has_build = 0;
	return d;
}

static void
test_adopt_takes_ownership_in_one_update(void **state)
{
	struct fx *fx = web_fx("adopt: true\n", "");
	const struct xdc_action *a;
	json_t *ch;
	size_t i;

	(void)state;
	unowned_web(fx);
	fx_plan(fx);
	i = only(fx, XDC_OP_UPDATE);
	a = plan_action(fx->plan, i);
	assert_false(a->a_disruptive);
	assert_int_equal(a->a_update, XDC_UPD_ADOPT);
	assert_int_equal(a->a_domid, 1);
	assert_string_equal(fx_fields(fx, i), "managed");
	ch = fx_change(fx, i, "managed");
	assert_true(json_is_false(json_object_get(ch, "from")));
	assert_true(json_is_true(json_object_get(ch, "to")));
	/* The line of the adopt key, the 18th of test.yaml. */
	assert_contains(plan_reason(fx->plan, i), "test.yaml:18 (adopt:");
	assert_false(fx_listed_unmanaged(fx, "web"));
	assert_int_equal(plan_managed_vms(fx->plan), 0);
	fx_free(fx);
}

static void
test_adopt_without_the_key_stays_an_error(void **state)
{
	struct fx *fx = web_fx("adopt: false\n", "");

	(void)state;
	unowned_web(fx);
	fx_plan_fails(fx, "rename one of them, or set adopt: true");
	fx_free(fx);
}

static void
test_adopt_tunes_runtime_fields_after_managed(void **state)
{
	struct fx *fx =
	    web_fx("adopt: true\n", SLA_GOLD("cpu: {weight: 512, cap: 50}\n"));
	struct xdc_obs_domain *d;
	const struct xdc_action *a;
	size_t i;

	(void)state;
	d = unowned_web(fx);
	d->od_memory = 512 * MIB;
	d->od_weight = XDC_DEFAULT_WEIGHT;
	d->od_cap = 0;
	d->od_nnics = 0;
	fx_plan(fx);
	i = only(fx, XDC_OP_UPDATE);
	a = plan_action(fx->plan, i);
	assert_false(a->a_disruptive);
	assert_int_equal(a->a_update,
	    XDC_UPD_ADOPT | XDC_UPD_MEMORY | XDC_UPD_SCHED | XDC_UPD_NICS);
	assert_string_equal(
	    fx_fields(fx, i), "managed,memory,cpu.weight,cpu.cap,nics");
	assert_contains(plan_reason(fx->plan, i), "(memory)");
	fx_free(fx);
}

/* The admin asserts what the build fixed: never a replace. */
static void
test_adopt_takes_build_fields_from_declaration(void **state)
{
	struct fx *fx = web_fx("adopt: true\n", "");
	struct xdc_obs_domain *d;
	size_t i;

	(void)state;
	d = unowned_web(fx);
	d->od_has_build = 1;
	d->od_build.ob_type = XDC_VM_HVM;
	d->od_build.ob_kernel = "/boot/other";
	d->od_build.ob_ndisks = 0;
	fx_plan(fx);
	i = only(fx, XDC_OP_UPDATE);
	assert_string_equal(fx_fields(fx, i), "managed");
	fx_free(fx);
}

static void
test_adopt_with_other_max_memory_is_error(void **state)
{
	struct fx *fx = web_fx("adopt: true\n", "");

	(void)state;
	unowned_web(fx)->od_max_memory = 4 * GIB;
	fx_plan_fails(fx, "VM web: adopt: domain 1 on host local has "
	                  "max_memory 4GiB and the declaration 2GiB");
	fx_free(fx);
}

static void
test_adopt_with_other_max_vcpus_is_error(void **state)
{
	struct fx *fx = web_fx("adopt: true\n", "");

	(void)state;
	unowned_web(fx)->od_max_vcpus = 8;
	fx_plan_fails(fx, "has max_vcpus 8 and the declaration 2");
	fx_free(fx);
}

static void
test_adopt_never_takes_a_stub_domain(void **state)
{
	struct fx *fx = web_fx("adopt: true\n", "");

	(void)state;
	unowned_web(fx)->od_stub = 1;
	fx_plan_fails(fx, "it is a stub domain, which xdc never adopts");
	fx_free(fx);
}

static void
test_adopt_has_no_effect_once_managed(void **state)
{
	struct fx *fx = web_fx("adopt: true\n", "");

	(void)state;
	fx_managed(fx, XDC_LOCAL_HOST, "web");
	fx_plan(fx);
	assert_int_equal(plan_count(fx->plan), 0);
	assert_int_equal(plan_managed_vms(fx->plan), 1);
	fx_free(fx);
}

static void
test_adopt_records_protect(void **state)
{
	struct fx *fx = web_fx("adopt: true\nprotect: true\n", "");
	const struct xdc_action *a;
	size_t i;

	(void)state;
	unowned_web(fx);
	fx_plan(fx);
	i = only(fx, XDC_OP_UPDATE);
	a = plan_action(fx->plan, i);
	assert_string_equal(fx_fields(fx, i), "managed,protect");
	assert_true(a->a_update & XDC_UPD_ADOPT);
	assert_true(a->a_spec->ds_protect);
	fx_free(fx);
}

/* The state is changed as for a managed domain: after the adoption. */
static void
test_adopt_paused_domain_then_unpause(void **state)
{
	struct fx *fx = web_fx("adopt: true\n", "");
	size_t u, p;

	(void)state;
	unowned_web(fx)->od_state = XDC_DOM_PAUSED;
	fx_plan(fx);
	assert_int_equal(plan_count(fx->plan), 2);
	u = fx_action(fx, XDC_OP_UPDATE, "web", XDC_LOCAL_HOST);
	p = fx_action(fx, XDC_OP_UNPAUSE, "web", XDC_LOCAL_HOST);
	assert_string_equal(fx_fields(fx, u), "managed");
	assert_true(fx_depends(fx, p, u));
	fx_free(fx);
}

/* The domain's memory is the VM's: a full host still fits it. */
static void
test_adopt_counts_memory_once(void **state)
{
	struct fx *fx = web_fx("adopt: true\n", "");

	(void)state;
	fx_find_host(fx, XDC_LOCAL_HOST)->oh_memory = 1536 * MIB;
	unowned_web(fx);
	fx_plan(fx);
	(void)only(fx, XDC_OP_UPDATE);
	fx_free(fx);
}

/* ---- Restart policy and state ----------------------------------------- */

static void
test_crashed_vm_restarted_by_default(void **state)
{
	struct fx *fx = web_fx("", "");
	size_t i;

	(void)state;
	fx_managed(fx, XDC_LOCAL_HOST, "web")->od_state = XDC_DOM_CRASHED;
	fx_plan(fx);
	i = only(fx, XDC_OP_RESTART);
	assert_contains(plan_reason(fx->plan, i), "restart always by default");
	assert_contains(fx_fields(fx, i), "state");
	fx_free(fx);
}

static void
test_restart_never_holds_crashed_vm(void **state)
{
	struct fx *fx =
	    web_fx("", SLA_GOLD("availability: {restart: never}\n"));

	(void)state;
	fx_managed(fx, XDC_LOCAL_HOST, "web")->od_state = XDC_DOM_CRASHED;
	fx_plan(fx);
	assert_int_equal(plan_count(fx->plan), 0);
	assert_int_equal(plan_ndeferred(fx->plan), 1);
	assert_contains(fx_held(fx, XDC_OP_RESTART, "web", XDC_LOCAL_HOST),
	    "sla gold: restart never");
	fx_free(fx);
}

static void
test_restart_on_crash_holds_clean_shutdown(void **state)
{
	struct fx *fx =
	    web_fx("", SLA_GOLD("availability: {restart: on-crash}\n"));

	(void)state;
	fx_managed(fx, XDC_LOCAL_HOST, "web")->od_state = XDC_DOM_STOPPED;
	fx_plan(fx);
	assert_int_equal(plan_count(fx->plan), 0);
	assert_int_equal(plan_ndeferred(fx->plan), 1);
	assert_contains(fx_held(fx, XDC_OP_START, "web", XDC_LOCAL_HOST),
	    "does not restart it");
	fx_free(fx);
}

static void
test_restart_on_crash_restarts_crashed_vm(void **state)
{
	struct fx *fx =
	    web_fx("", SLA_GOLD("availability: {restart: on-crash}\n"));

	(void)state;
	fx_managed(fx, XDC_LOCAL_HOST, "web")->od_state = XDC_DOM_CRASHED;
	fx_plan(fx);
	only(fx, XDC_OP_RESTART);
	fx_free(fx);
}

static void
test_running_vm_declared_stopped_is_stopped(void **state)
{
	struct fx *fx = web_fx("state: stopped\n", "");
	size_t i;

	(void)state;
	fx_managed(fx, XDC_LOCAL_HOST, "web");
	fx_plan(fx);
	i = only(fx, XDC_OP_STOP);
	assert_true(plan_action(fx->plan, i)->a_disruptive);
	assert_string_equal(fx_fields(fx, i), "state");
	fx_free(fx);
}

static void
test_running_vm_declared_paused_is_paused(void **state)
{
	struct fx *fx = web_fx("state: paused\n", "");
	size_t i;

	(void)state;
	fx_managed(fx, XDC_LOCAL_HOST, "web");
	fx_plan(fx);
	i = only(fx, XDC_OP_PAUSE);
	assert_true(plan_action(fx->plan, i)->a_disruptive);
	assert_string_equal(fx_fields(fx, i), "state");
	fx_free(fx);
}

static void
test_paused_vm_declared_running_is_unpaused(void **state)
{
	struct fx *fx = web_fx("", "");
	size_t i;

	(void)state;
	fx_managed(fx, XDC_LOCAL_HOST, "web")->od_state = XDC_DOM_PAUSED;
	fx_plan(fx);
	i = only(fx, XDC_OP_UNPAUSE);
	assert_false(plan_action(fx->plan, i)->a_disruptive);
	assert_string_equal(fx_fields(fx, i), "state");
	fx_free(fx);
}

/* ---- Networks --------------------------------------------------------- */

static void
test_missing_network_is_created(void **state)
{
	struct fx *fx = fx_new("kind: Network\nname: dmz\nmtu: 9000\n");
	const struct xdc_action *a;
	size_t i;

	(void)state;
	fx_hosts(fx);
	fx_plan(fx);
	assert_int_equal(plan_count(fx->plan), 1);
	i = fx_action(fx, XDC_OP_CREATE, "dmz", XDC_LOCAL_HOST);
	a = plan_action(fx->plan, i);
	assert_int_equal(a->a_kind, XDC_OBJ_NETWORK);
	assert_string_equal(a->a_bridge, "xdc-dmz");
	assert_ptr_equal(a->a_net, xdc_config_network(fx->cfg, "dmz"));
	assert_string_equal(fx_fields(fx, i), "mtu");
	fx_free(fx);
}

static void
test_network_mtu_change_is_update(void **state)
{
	struct fx *fx = fx_new("kind: Network\nname: dmz\nmtu: 9000\n");
	const struct xdc_action *a;
	size_t i;

	(void)state;
	fx_hosts(fx);
	fx_network(fx, XDC_LOCAL_HOST, "dmz")->on_mtu = 1500;
	fx_plan(fx);
	assert_int_equal(plan_count(fx->plan), 1);
	i = fx_action(fx, XDC_OP_UPDATE, "dmz", XDC_LOCAL_HOST);
	a = plan_action(fx->plan, i);
	assert_int_equal(a->a_kind, XDC_OBJ_NETWORK);
	assert_int_equal(a->a_update, XDC_UPD_MTU);
	assert_false(a->a_disruptive);
	assert_string_equal(fx_fields(fx, i), "mtu");
	assert_int_equal(json_integer_value(
	                     json_object_get(fx_change(fx, i, "mtu"), "from")),
	    1500);
	fx_free(fx);
}

static void
test_undeclared_managed_bridge_is_destroyed(void **state)
{
	struct fx *fx = fx_new("kind: Network\nname: dmz\n");
	struct xdc_obs_network *n;
	size_t i;

	(void)state;
	fx_hosts(fx);
	fx_networks(fx);
	n = fx_bridge(fx, XDC_LOCAL_HOST, "xdc-old");
	n->on_name = "old";
	n->on_managed = 1;
	fx_plan(fx);
	assert_int_equal(plan_count(fx->plan), 1);
	i = fx_action(fx, XDC_OP_DESTROY, "old", XDC_LOCAL_HOST);
	assert_int_equal(plan_action(fx->plan, i)->a_kind, XDC_OBJ_NETWORK);
	assert_string_equal(plan_action(fx->plan, i)->a_bridge, "xdc-old");
	fx_free(fx);
}

static void
test_unmanaged_bridge_of_declared_network_is_error(void **state)
{
	struct fx *fx = fx_new("kind: Network\nname: dmz\n");

	(void)state;
	fx_hosts(fx);
	fx_bridge(fx, XDC_LOCAL_HOST, "xdc-dmz");
	fx_plan_fails(fx, "Network dmz: bridge xdc-dmz on host local exists "
	                  "and is not managed by xdc");
	fx_free(fx);
}

static void
test_unmanaged_bridge_never_destroyed(void **state)
{
	struct fx *fx = fx_new("kind: Network\nname: dmz\n");

	(void)state;
	fx_hosts(fx);
	fx_networks(fx);
	fx_bridge(fx, XDC_LOCAL_HOST, "virbr0");
	fx_plan(fx);
	assert_int_equal(plan_count(fx->plan), 0);
	assert_false(fx_mentions(fx, "virbr0"));
	fx_free(fx);
}

/* ---- Hosts ------------------------------------------------------------ */

#define TWO_HOSTS                                                              \
	"kind: Host\nname: xen-a\nmemory: 8GiB\n---\n"                         \
	"kind: Host\nname: xen-b\nmemory: 8GiB\n---\n"

static void
test_vm_moved_to_another_host_is_destroyed_then_created(void **state)
{
	struct fx *fx = fx_new(TWO_HOSTS
	    "kind: VM\nname: web\nmemory: 1GiB\nkernel: /boot/vmlinuz\n"
	    "host: xen-b\n");
	json_t *ch;
	size_t down, up;

	(void)state;
	fx_hosts(fx);
	fx_managed(fx, "xen-a", "web");
	fx_plan(fx);
	assert_int_equal(plan_count(fx->plan), 2);
	down = fx_action(fx, XDC_OP_DESTROY, "web", "xen-a");
	up = fx_action(fx, XDC_OP_CREATE, "web", "xen-b");
	assert_true(fx_depends(fx, up, down));
	ch = fx_change(fx, up, "host");
	assert_non_null(ch);
	assert_string_equal(
	    json_string_value(json_object_get(ch, "from")), "xen-a");
	assert_string_equal(
	    json_string_value(json_object_get(ch, "to")), "xen-b");
	assert_contains(plan_reason(fx->plan, down), "placed on host xen-b");
	fx_free(fx);
}

static void
test_undeclared_observed_host_gets_no_actions(void **state)
{
	struct fx *fx = fx_new("kind: Host\nname: xen-a\n---\n"
	                       "kind: Network\nname: dmz\n");
	struct xdc_obs_domain *d;
	struct xdc_obs_network *n;

	(void)state;
	fx_hosts(fx);
	fx_networks(fx);
	fx_host(fx, "xen-z", 64 * GIB, 8);
	d = fx_dom(fx, "xen-z", "stray");
	d->od_managed = 1;
	n = fx_bridge(fx, "xen-z", "xdc-old");
	n->on_name = "old";
	n->on_managed = 1;
	fx_plan(fx);
	assert_int_equal(plan_count(fx->plan), 0);
	assert_int_equal(plan_ndeferred(fx->plan), 0);
	fx_free(fx);
}

/* plan_spec_hash as it was first written, with snprintf. */
static uint64_t
ref_field(uint64_t h, const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return (h ^ 0xff) * 0x100000001b3ULL;
}

static uint64_t
ref_spec_hash(const struct xdc_vm *vm)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	char num[64];
	size_t i;

	h = ref_field(h, xdc_vm_type_name(vm->vm_type));
	h = ref_field(h, vm->vm_kernel);
	h = ref_field(h, vm->vm_ramdisk);
	h = ref_field(h, vm->vm_cmdline);
	snprintf(num, sizeof(num), "%llu/%u",
	    (unsigned long long)vm->vm_max_memory, vm->vm_max_vcpus);
	h = ref_field(h, num);
	for (i = 0; i < vm->vm_ndisks; i++) {
		h = ref_field(h, vm->vm_disks[i].d_target);
		h = ref_field(h, vm->vm_disks[i].d_vdev);
		h = ref_field(
		    h, xdc_disk_format_name(vm->vm_disks[i].d_format));
		h = ref_field(h, vm->vm_disks[i].d_readonly ? "ro" : "rw");
	}
	return h;
}

/*
 * Every domain xdc built carries its spec's hash: the hash must not move,
 * whatever the numbers (a VM's max_memory and max_vcpus are hashed as
 * "%llu/%u" wrote them).
 */
static void
test_spec_hash_is_stable(void **state)
{
	static const uint64_t mems[] = { 0, 1, 9, 10, 99, 1ULL << 30,
		12345678901234567890ULL, UINT64_MAX };
	static const uint32_t cpus[] = { 0, 1, 9, 10, 64, 4096, UINT32_MAX };
	struct xdc_disk disk = { 0 };
	struct xdc_vm vm = { 0 };
	uint64_t h;
	size_t i, j;

	(void)state;
	vm.vm_type = XDC_VM_PVH;
	vm.vm_kernel = "/boot/vmlinuz";
	vm.vm_cmdline = "console=hvc0";
	disk.d_target = "/dev/vg0/web";
	disk.d_vdev = "xvda";
	vm.vm_disks = &disk;
	vm.vm_ndisks = 1;
	for (i = 0; i < sizeof(mems) / sizeof(mems[0]); i++)
		for (j = 0; j < sizeof(cpus) / sizeof(cpus[0]); j++) {
			vm.vm_max_memory = mems[i];
			vm.vm_max_vcpus = cpus[j];
			assert_int_equal(
			    plan_spec_hash(&vm), ref_spec_hash(&vm));
		}
	/* The numbers are in it. */
	vm.vm_max_memory = 10;
	vm.vm_max_vcpus = 1;
	h = plan_spec_hash(&vm);
	vm.vm_max_memory = 1;
	vm.vm_max_vcpus = 10;
	assert_int_not_equal(plan_spec_hash(&vm), h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matching_domain_needs_nothing),
		cmocka_unit_test(test_missing_running_vm_is_created),
		cmocka_unit_test(test_declared_stopped_absent_vm_gets_nothing),
		cmocka_unit_test(test_memory_change_is_update),
		cmocka_unit_test(test_vcpus_change_is_update),
		cmocka_unit_test(test_sla_cpu_weight_is_update),
		cmocka_unit_test(test_sla_cpu_cap_is_update),
		cmocka_unit_test(test_nic_change_is_update),
		cmocka_unit_test(test_protect_change_is_marker_update),
		cmocka_unit_test(test_type_change_is_replace),
		cmocka_unit_test(test_kernel_change_is_replace),
		cmocka_unit_test(test_ramdisk_change_is_replace),
		cmocka_unit_test(test_cmdline_change_is_replace),
		cmocka_unit_test(test_max_memory_change_is_replace),
		cmocka_unit_test(test_max_vcpus_change_is_replace),
		cmocka_unit_test(test_disks_change_is_replace),
		cmocka_unit_test(
		    test_hash_change_without_build_record_is_spec_replace),
		cmocka_unit_test(test_undeclared_managed_domain_is_destroyed),
		cmocka_unit_test(test_protected_undeclared_domain_is_deferred),
		cmocka_unit_test(test_unmanaged_domain_listed_and_left_alone),
		cmocka_unit_test(test_domain0_never_appears),
		cmocka_unit_test(
		    test_vm_name_held_by_unmanaged_domain_is_error),
		cmocka_unit_test(test_adopt_takes_ownership_in_one_update),
		cmocka_unit_test(test_adopt_without_the_key_stays_an_error),
		cmocka_unit_test(test_adopt_tunes_runtime_fields_after_managed),
		cmocka_unit_test(
		    test_adopt_takes_build_fields_from_declaration),
		cmocka_unit_test(test_adopt_with_other_max_memory_is_error),
		cmocka_unit_test(test_adopt_with_other_max_vcpus_is_error),
		cmocka_unit_test(test_adopt_never_takes_a_stub_domain),
		cmocka_unit_test(test_adopt_has_no_effect_once_managed),
		cmocka_unit_test(test_adopt_records_protect),
		cmocka_unit_test(test_adopt_paused_domain_then_unpause),
		cmocka_unit_test(test_adopt_counts_memory_once),
		cmocka_unit_test(test_crashed_vm_restarted_by_default),
		cmocka_unit_test(test_restart_never_holds_crashed_vm),
		cmocka_unit_test(test_restart_on_crash_holds_clean_shutdown),
		cmocka_unit_test(test_restart_on_crash_restarts_crashed_vm),
		cmocka_unit_test(test_running_vm_declared_stopped_is_stopped),
		cmocka_unit_test(test_running_vm_declared_paused_is_paused),
		cmocka_unit_test(test_paused_vm_declared_running_is_unpaused),
		cmocka_unit_test(test_missing_network_is_created),
		cmocka_unit_test(test_network_mtu_change_is_update),
		cmocka_unit_test(test_undeclared_managed_bridge_is_destroyed),
		cmocka_unit_test(
		    test_unmanaged_bridge_of_declared_network_is_error),
		cmocka_unit_test(test_unmanaged_bridge_never_destroyed),
		cmocka_unit_test(
		    test_vm_moved_to_another_host_is_destroyed_then_created),
		cmocka_unit_test(test_undeclared_observed_host_gets_no_actions),
		cmocka_unit_test(test_spec_hash_is_stable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
