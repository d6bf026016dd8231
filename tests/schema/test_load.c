/*
 * Tests of schema/load*.c, the loader as a whole: YAML held in memory
 * (schema_loader_new/add/finish) and configurations in temporary directories
 * (schema_load) become a typed model with its defaults, sorted arrays and
 * lookups, or are refused with every diagnostic at its exact FILE:LINE:COL.
 * The rules themselves, one by one, are in test_rules.c.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tests/schema/helpers.h"

#include "schema/values.h"

#define MIN_VM(name) "kind: VM\nname: " name "\nmemory: 512MiB\nkernel: /k\n"

/* Load yaml that must be valid; the caller frees the configuration. */
static struct xdc_config *
load_ok(const char *yaml)
{
	struct xdc_config *cfg;
	struct xdc_diags *d = load_string(yaml, &cfg);

	assert_no_diags(d);
	xdc_diags_free(d);
	return cfg;
}

/*
 * A location too far into its object to pack (model.h's struct xdc_at) is
 * kept whole: the value itself, its diagnostics and the duplicate check's
 * "already declared at" all say exactly where, as a near one would.
 */
static void
test_locations_far_into_an_object_exact(void **state)
{
	const unsigned gap = 40000, pad = 70000;
	struct xdc_config *cfg;
	struct xdc_diags *d;
	const struct xdc_diag *g;
	const struct xdc_vm *vm;
	struct xdc_loc loc;
	char *yaml, *p, *line;

	(void)state;
	yaml = malloc(2 * gap + 2 * pad + 512);
	assert_non_null(yaml);
	/* Lines 1-3, 40,000 comment lines, then kernel, cmdline and nics. */
	p = yaml + sprintf(yaml, "kind: VM\nname: far\nmemory: 1GiB\n");
	for (unsigned i = 0; i < gap; i++)
		p += sprintf(p, "#\n");
	p += sprintf(p, "kernel: /k\ncmdline: \"");
	memset(p, 'x', pad);
	p += pad;
	p += sprintf(p, "\"\n");
	line = p;
	p += sprintf(p, "nics: [{network: lan, mac: \"00:16:3e:00:00:01\"}]\n"
	                "---\nkind: Network\nname: lan\n");
	cfg = load_ok(yaml);
	vm = xdc_config_vm(cfg, "far");
	assert_non_null(vm);
	loc = xdc_vm_loc(cfg, vm, VM_F_KERNEL);
	assert_int_equal(loc.line, 3 + gap + 1);
	assert_int_equal(loc.col, 9);
	loc = xdc_vm_loc(cfg, vm, VM_F_NICS);
	assert_int_equal(loc.line, 3 + gap + 3);
	assert_int_equal(loc.col, 1);
	/* An element counts from its own mapping, on that same line. */
	loc = xdc_nic_loc(cfg, &vm->vm_nics[0], NIC_F_MAC);
	assert_int_equal(loc.line, 3 + gap + 3);
	assert_int_equal(loc.col, strchr(line, '"') - line + 1);
	xdc_config_free(cfg);

	/* The name again, past column 65,535 of a VM on one line. */
	p +=
	    sprintf(p, "---\n{kind: VM, memory: 1GiB, kernel: /k, cmdline: \"");
	line = strrchr(yaml, '\n') + 1;
	memset(p, 'y', pad);
	p += pad;
	sprintf(p, "\", name: far}\n");
	d = load_string(yaml, &cfg);
	g = xdc_diags_get(d, 0);
	if (xdc_diags_count(d) != 1 ||
	    !diag_is(g, TEST_FILE, 3 + gap + 3 + 5,
	        (unsigned)(strstr(line, "far}") - line + 1),
	        "name: VM \"far\" is already declared at " TEST_FILE ":2:7"))
		dump_diags(d);
	assert_int_equal(xdc_diags_count(d), 1);
	assert_true(diag_is(g, TEST_FILE, 3 + gap + 3 + 5,
	    (unsigned)(strstr(line, "far}") - line + 1),
	    "name: VM \"far\" is already declared at " TEST_FILE ":2:7"));
	xdc_diags_free(d);
	free(yaml);
}

/*
 * A label set written on many VMs is kept once, whatever the order of its
 * keys; a set that differs in one value, or in one label more, is its own.
 */
static void
test_label_sets_shared_when_equal(void **state)
{
	struct xdc_config *cfg;
	const struct xdc_vm *a, *b, *c, *d;

	(void)state;
	cfg = load_ok(MIN_VM(
	    "a") "labels: {tier: web, app: shop}\n"
	         "---\n" MIN_VM("b") "labels: {app: shop, tier: web}\n"
	                             "---\n" MIN_VM(
	                                 "c") "labels: {tier: web, app: blog}\n"
	                                      "---\n" MIN_VM(
	                                          "d") "labels: {tier: web, "
	                                               "app: shop, x: y}\n");
	a = xdc_config_vm(cfg, "a");
	b = xdc_config_vm(cfg, "b");
	c = xdc_config_vm(cfg, "c");
	d = xdc_config_vm(cfg, "d");
	assert_ptr_equal(a->vm_labels.lb_v, b->vm_labels.lb_v);
	assert_int_equal(b->vm_labels.lb_n, 2);
	assert_ptr_not_equal(a->vm_labels.lb_v, c->vm_labels.lb_v);
	assert_string_equal(c->vm_labels.lb_v[0].key, "app");
	assert_string_equal(c->vm_labels.lb_v[0].value, "blog");
	assert_string_equal(a->vm_labels.lb_v[0].value, "shop");
	assert_int_equal(d->vm_labels.lb_n, 3);
	assert_string_equal(d->vm_labels.lb_v[2].key, "x");
	xdc_config_free(cfg);
}

/* ---- Typed values and defaults ---------------------------------------- */

static void
test_vm_declared_values_typed(void **state)
{
	static const uint8_t mac[6] = { 0x00, 0x16, 0x3e, 0, 0, 1 };
	struct xdc_config *cfg;
	const struct xdc_vm *vm;

	(void)state;
	cfg = load_ok("kind: VM\n"
	              "name: web-1\n"
	              "labels: {tier: web, app: shop}\n"
	              "type: pv\n"
	              "memory: 1GiB\n"
	              "max_memory: 2GiB\n"
	              "vcpus: 2\n"
	              "max_vcpus: 4\n"
	              "kernel: /boot/vmlinuz\n"
	              "ramdisk: /boot/initrd.img\n"
	              "cmdline: \"console=hvc0 root=/dev/xvda1\"\n"
	              "disks:\n"
	              "  - {target: /dev/vg0/web-1, vdev: xvdb, format: qcow2, "
	              "readonly: true}\n"
	              "nics:\n"
	              "  - {network: dmz, mac: \"00:16:3E:00:00:01\"}\n"
	              "host: xen-a\n"
	              "state: paused\n"
	              "protect: true\n"
	              "adopt: true\n"
	              "---\n"
	              "kind: Network\n"
	              "name: dmz\n"
	              "---\n"
	              "kind: Host\n"
	              "name: xen-a\n");
	assert_int_equal(cfg->cfg_nvms, 1);
	vm = &cfg->cfg_vms[0];
	assert_string_equal(vm->vm_name, "web-1");
	assert_int_equal(vm->vm_labels.lb_n, 2);
	assert_int_equal(vm->vm_type, XDC_VM_PV);
	assert_int_equal(vm->vm_memory, 1ULL << 30);
	assert_int_equal(vm->vm_max_memory, 2ULL << 30);
	assert_int_equal(vm->vm_vcpus, 2);
	assert_int_equal(vm->vm_max_vcpus, 4);
	assert_string_equal(vm->vm_kernel, "/boot/vmlinuz");
	assert_string_equal(vm->vm_ramdisk, "/boot/initrd.img");
	assert_string_equal(vm->vm_cmdline, "console=hvc0 root=/dev/xvda1");
	assert_int_equal(vm->vm_ndisks, 1);
	assert_string_equal(vm->vm_disks[0].d_target, "/dev/vg0/web-1");
	assert_string_equal(vm->vm_disks[0].d_vdev, "xvdb");
	assert_int_equal(vm->vm_disks[0].d_format, XDC_DISK_QCOW2);
	assert_int_equal(vm->vm_disks[0].d_readonly, 1);
	assert_int_equal(vm->vm_nnics, 1);
	assert_string_equal(vm->vm_nics[0].nic_network, "dmz");
	assert_memory_equal(vm->vm_nics[0].nic_mac, mac, 6);
	assert_string_equal(vm->vm_host, "xen-a");
	assert_int_equal(vm->vm_state, XDC_VM_PAUSED);
	assert_int_equal(vm->vm_protect, 1);
	assert_int_equal(vm->vm_adopt, 1);
	xdc_config_free(cfg);
}

static void
test_vm_defaults(void **state)
{
	struct xdc_config *cfg;
	const struct xdc_vm *vm;
	size_t i;

	(void)state;
	cfg = load_ok(MIN_VM("web-1"));
	vm = &cfg->cfg_vms[0];
	assert_int_equal(vm->vm_type, XDC_VM_PVH);
	assert_int_equal(vm->vm_vcpus, 1);
	assert_int_equal(vm->vm_max_vcpus, 1);
	assert_int_equal(vm->vm_memory, 512ULL << 20);
	assert_int_equal(vm->vm_max_memory, 512ULL << 20);
	assert_int_equal(vm->vm_state, XDC_VM_RUNNING);
	assert_int_equal(vm->vm_protect, 0);
	assert_int_equal(vm->vm_adopt, 0);
	assert_null(vm->vm_host);
	assert_null(vm->vm_ramdisk);
	assert_null(vm->vm_cmdline);
	assert_int_equal(vm->vm_ndisks, 0);
	assert_int_equal(vm->vm_nnics, 0);
	assert_int_equal(vm->vm_labels.lb_n, 0);
	for (i = 0; i < XDC_POL__COUNT; i++)
		assert_null(xdc_vm_policy(cfg, vm, (enum xdc_policy)i));
	xdc_config_free(cfg);
}

static void
test_vm_max_vcpus_defaults_to_vcpus(void **state)
{
	struct xdc_config *cfg;

	(void)state;
	cfg = load_ok(MIN_VM("web-1") "vcpus: 3\n");
	assert_int_equal(cfg->cfg_vms[0].vm_vcpus, 3);
	assert_int_equal(cfg->cfg_vms[0].vm_max_vcpus, 3);
	xdc_config_free(cfg);
}

static void
test_vm_max_memory_defaults_to_memory(void **state)
{
	struct xdc_config *cfg;

	(void)state;
	cfg = load_ok("kind: VM\nname: a\nmemory: 3GiB\ntype: hvm\n");
	assert_int_equal(cfg->cfg_vms[0].vm_max_memory, 3ULL << 30);
	xdc_config_free(cfg);
}

static void
test_disk_defaults_in_declaration_order(void **state)
{
	struct xdc_config *cfg;
	const struct xdc_vm *vm;

	(void)state;
	cfg = load_ok(MIN_VM("web-1") "disks:\n"
	                              "  - {target: /d/0}\n"
	                              "  - {target: /d/1}\n"
	                              "  - {target: /d/2, vdev: xvdz}\n");
	vm = &cfg->cfg_vms[0];
	assert_int_equal(vm->vm_ndisks, 3);
	assert_string_equal(vm->vm_disks[0].d_vdev, "xvda");
	assert_string_equal(vm->vm_disks[1].d_vdev, "xvdb");
	assert_string_equal(vm->vm_disks[2].d_vdev, "xvdz");
	assert_int_equal(vm->vm_disks[0].d_format, XDC_DISK_RAW);
	assert_int_equal(vm->vm_disks[0].d_readonly, 0);
	xdc_config_free(cfg);
}

static void
test_nic_mac_derived_when_absent(void **state)
{
	static const uint8_t declared[6] = { 0x00, 0x16, 0x3e, 0x7f, 0, 9 };
	struct xdc_config *cfg;
	const struct xdc_vm *vm;
	uint8_t want[6];

	(void)state;
	cfg = load_ok(
	    MIN_VM("web-1") "nics:\n"
	                    "  - {network: a}\n"
	                    "  - {network: a, mac: \"00:16:3e:7f:00:09\"}\n"
	                    "  - {network: a}\n"
	                    "---\n"
	                    "kind: Network\n"
	                    "name: a\n");
	vm = &cfg->cfg_vms[0];
	assert_int_equal(vm->vm_nnics, 3);
	xdc_mac_derive("web-1", 0, want);
	assert_memory_equal(vm->vm_nics[0].nic_mac, want, 6);
	assert_memory_equal(vm->vm_nics[1].nic_mac, declared, 6);
	xdc_mac_derive("web-1", 2, want);
	assert_memory_equal(vm->vm_nics[2].nic_mac, want, 6);
	xdc_config_free(cfg);
}

static void
test_nic_network_resolved_to_index(void **state)
{
	struct xdc_config *cfg;
	const struct xdc_vm *vm;

	(void)state;
	cfg = load_ok(
	    MIN_VM("web-1") "nics: [{network: c}, {network: a}, {network: b}]\n"
	                    "---\nkind: Network\nname: b\n"
	                    "---\nkind: Network\nname: c\n"
	                    "---\nkind: Network\nname: a\n");
	vm = &cfg->cfg_vms[0];
	assert_string_equal(
	    cfg->cfg_networks[vm->vm_nics[0].nic_net].n_name, "c");
	assert_string_equal(
	    cfg->cfg_networks[vm->vm_nics[1].nic_net].n_name, "a");
	assert_string_equal(
	    cfg->cfg_networks[vm->vm_nics[2].nic_net].n_name, "b");
	xdc_config_free(cfg);
}

static void
test_network_declared_values_typed(void **state)
{
	struct xdc_config *cfg;
	const struct xdc_network *n;

	(void)state;
	cfg = load_ok("kind: Network\nname: dmz\nbridge: br-dmz\n"
	              "uplink: eth0\nvlan: 20\nmtu: 9000\n");
	n = &cfg->cfg_networks[0];
	assert_string_equal(n->n_name, "dmz");
	assert_string_equal(n->n_bridge, "br-dmz");
	assert_string_equal(n->n_uplink, "eth0");
	assert_int_equal(n->n_vlan, 20);
	assert_int_equal(n->n_mtu, 9000);
	xdc_config_free(cfg);
}

static void
test_network_default_bridge_is_xdc_name(void **state)
{
	struct xdc_config *cfg;
	const struct xdc_network *n;

	(void)state;
	cfg = load_ok("kind: Network\nname: backend\n");
	n = &cfg->cfg_networks[0];
	assert_string_equal(n->n_bridge, "xdc-backend");
	assert_null(n->n_uplink);
	assert_int_equal(n->n_vlan, 0);
	assert_int_equal(n->n_mtu, 0);
	xdc_config_free(cfg);
}

static void
test_host_declared_values_typed(void **state)
{
	struct xdc_config *cfg;
	const struct xdc_host *h;

	(void)state;
	cfg = load_ok("kind: Host\nname: xen-a\nlabels: {rack: r1}\n"
	              "memory: 64GiB\ncpus: 16\nstate: drained\n");
	h = &cfg->cfg_hosts[0];
	assert_string_equal(h->h_name, "xen-a");
	assert_int_equal(h->h_labels.lb_n, 1);
	assert_string_equal(h->h_labels.lb_v[0].key, "rack");
	assert_string_equal(h->h_labels.lb_v[0].value, "r1");
	assert_int_equal(h->h_memory, 64ULL << 30);
	assert_int_equal(h->h_cpus, 16);
	assert_int_equal(h->h_state, XDC_HOST_DRAINED);
	xdc_config_free(cfg);
}

static void
test_host_defaults(void **state)
{
	struct xdc_config *cfg;
	const struct xdc_host *h;

	(void)state;
	cfg = load_ok("kind: Host\nname: xen-a\n");
	h = &cfg->cfg_hosts[0];
	assert_int_equal(h->h_memory, 0);
	assert_int_equal(h->h_cpus, 0);
	assert_int_equal(h->h_state, XDC_HOST_ACTIVE);
	xdc_config_free(cfg);
}

static void
test_sla_declared_values_typed(void **state)
{
	struct xdc_config *cfg;
	const struct xdc_sla *s;

	(void)state;
	cfg = load_ok("kind: SLA\n"
	              "name: gold\n"
	              "selector: {tier: web}\n"
	              "cpu:\n"
	              "  weight: 512\n"
	              "  cap: 150\n"
	              "availability:\n"
	              "  restart: on-crash\n"
	              "  restart_limit: 5/1h\n"
	              "  spread: host\n"
	              "  min_running: 2\n"
	              "  host_failures: 1\n"
	              "maintenance:\n"
	              "  window: \"Sat 02:00-04:00 UTC\"\n");
	s = &cfg->cfg_slas[0];
	assert_string_equal(s->s_name, "gold");
	assert_int_equal(s->s_selector.lb_n, 1);
	assert_string_equal(s->s_selector.lb_v[0].key, "tier");
	assert_string_equal(s->s_selector.lb_v[0].value, "web");
	assert_int_equal(s->s_cpu_weight, 512);
	assert_int_equal(s->s_cpu_cap, 150);
	assert_int_equal(s->s_restart, XDC_RESTART_ON_CRASH);
	assert_int_equal(s->s_restart_limit.r_count, 5);
	assert_int_equal(s->s_restart_limit.r_period, 3600);
	assert_int_equal(s->s_spread, XDC_SPREAD_HOST);
	assert_int_equal(s->s_min_running, 2);
	assert_int_equal(s->s_host_failures, 1);
	assert_int_equal(s->s_window.w_days, 1u << 6);
	assert_int_equal(s->s_window.w_start, 120);
	assert_int_equal(s->s_window.w_end, 240);
	/* Each policy field remembers the line of its own value. */
	assert_int_equal(xdc_sla_loc(cfg, s, SLA_F_CPU_WEIGHT).line, 5);
	assert_int_equal(xdc_sla_loc(cfg, s, SLA_F_CPU_WEIGHT).col, 11);
	assert_int_equal(xdc_sla_loc(cfg, s, SLA_F_WINDOW).line, 14);
	assert_int_equal(xdc_sla_loc(cfg, s, SLA_F_WINDOW).col, 11);
	xdc_config_free(cfg);
}

static void
test_sla_restart_defaults_to_always(void **state)
{
	struct xdc_config *cfg;
	const struct xdc_sla *s;

	(void)state;
	cfg = load_ok("kind: SLA\nname: gold\nselector: {}\n"
	              "cpu: {weight: 300}\n");
	s = &cfg->cfg_slas[0];
	assert_int_equal(s->s_restart, XDC_RESTART_ALWAYS);
	assert_false(s->s_set & (1u << SLA_F_RESTART));
	assert_int_equal(s->s_spread, XDC_SPREAD_NONE);
	xdc_config_free(cfg);
}

static void
test_sla_policy_resolved_per_vm(void **state)
{
	struct xdc_config *cfg;
	const struct xdc_vm *web, *db;
	const struct xdc_sla *gold, *all;

	(void)state;
	cfg = load_ok(
	    MIN_VM("web") "labels: {tier: web, app: shop}\n"
	                  "---\n" MIN_VM(
	                      "db") "labels: {tier: db, app: shop}\n"
	                            "---\nkind: SLA\nname: gold\nselector: "
	                            "{tier: web}\n"
	                            "cpu: {weight: 512}\n"
	                            "---\nkind: SLA\nname: all\nselector: {}\n"
	                            "availability: {restart: never}\n");
	web = xdc_config_vm(cfg, "web");
	db = xdc_config_vm(cfg, "db");
	gold = xdc_config_sla(cfg, "gold");
	all = xdc_config_sla(cfg, "all");
	assert_ptr_equal(xdc_vm_policy(cfg, web, XDC_POL_CPU_WEIGHT), gold);
	assert_null(xdc_vm_policy(cfg, db, XDC_POL_CPU_WEIGHT));
	assert_ptr_equal(xdc_vm_policy(cfg, web, XDC_POL_RESTART), all);
	assert_ptr_equal(xdc_vm_policy(cfg, db, XDC_POL_RESTART), all);
	assert_null(xdc_vm_policy(cfg, web, XDC_POL_CPU_CAP));
	xdc_config_free(cfg);
}

static void
test_null_values_mean_absent(void **state)
{
	struct xdc_config *cfg;
	const struct xdc_vm *vm;

	(void)state;
	cfg = load_ok(MIN_VM("web-1") "type: ~\n"
	                              "max_memory: null\n"
	                              "vcpus:\n"
	                              "max_vcpus: NULL\n"
	                              "labels: Null\n"
	                              "host:\n"
	                              "disks: ~\n");
	vm = &cfg->cfg_vms[0];
	assert_int_equal(vm->vm_type, XDC_VM_PVH);
	assert_int_equal(vm->vm_max_memory, 512ULL << 20);
	assert_int_equal(vm->vm_vcpus, 1);
	assert_int_equal(vm->vm_max_vcpus, 1);
	assert_null(vm->vm_host);
	assert_int_equal(vm->vm_ndisks, 0);
	assert_false(vm->vm_set & (1u << VM_F_TYPE));
	xdc_config_free(cfg);
}

static void
test_quoted_null_is_a_string(void **state)
{
	struct xdc_config *cfg;

	(void)state;
	cfg = load_ok(MIN_VM("web-1") "cmdline: \"null\"\n");
	assert_string_equal(cfg->cfg_vms[0].vm_cmdline, "null");
	xdc_config_free(cfg);
}

/* ---- Order, lookups and locations ------------------------------------- */

static void
test_arrays_sorted_by_name(void **state)
{
	struct xdc_config *cfg;

	(void)state;
	cfg = load_ok(MIN_VM("c") "---\n" MIN_VM("a") "---\n" MIN_VM(
	    "b") "---\nkind: Network\nname: z\n---\nkind: Network\nname: y\n"
	         "---\nkind: Host\nname: h2\n---\nkind: Host\nname: h10\n"
	         "---\nkind: Host\nname: h1\n"
	         "---\nkind: SLA\nname: s2\nselector: {x: y}\n"
	         "---\nkind: SLA\nname: s1\nselector: {x: y}\n");
	assert_int_equal(cfg->cfg_nvms, 3);
	assert_string_equal(cfg->cfg_vms[0].vm_name, "a");
	assert_string_equal(cfg->cfg_vms[1].vm_name, "b");
	assert_string_equal(cfg->cfg_vms[2].vm_name, "c");
	assert_int_equal(cfg->cfg_nnetworks, 2);
	assert_string_equal(cfg->cfg_networks[0].n_name, "y");
	assert_string_equal(cfg->cfg_networks[1].n_name, "z");
	assert_int_equal(cfg->cfg_nhosts, 3);
	assert_string_equal(cfg->cfg_hosts[0].h_name, "h1");
	assert_string_equal(cfg->cfg_hosts[1].h_name, "h10");
	assert_string_equal(cfg->cfg_hosts[2].h_name, "h2");
	assert_int_equal(cfg->cfg_nslas, 2);
	assert_string_equal(cfg->cfg_slas[0].s_name, "s1");
	assert_string_equal(cfg->cfg_slas[1].s_name, "s2");
	xdc_config_free(cfg);
}

static void
test_labels_sorted_by_key(void **state)
{
	struct xdc_config *cfg;
	const struct xdc_labels *lb;

	(void)state;
	cfg = load_ok(MIN_VM("a") "labels: {tier: web, app: shop, zone: b}\n");
	lb = &cfg->cfg_vms[0].vm_labels;
	assert_int_equal(lb->lb_n, 3);
	assert_string_equal(lb->lb_v[0].key, "app");
	assert_string_equal(lb->lb_v[0].value, "shop");
	assert_string_equal(lb->lb_v[1].key, "tier");
	assert_string_equal(lb->lb_v[2].key, "zone");
	assert_string_equal(lb->lb_v[2].value, "b");
	xdc_config_free(cfg);
}

static void
test_lookups_find_each_name(void **state)
{
	static const char *const names[] = { "m", "b", "x", "a", "q", "c", "z",
		"k" };
	char yaml[2048], *p = yaml;
	struct xdc_config *cfg;
	const struct xdc_vm *vm;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		p += sprintf(p, "---\n" MIN_VM("%s"), names[i]);
	p += sprintf(p, "---\nkind: Network\nname: n\n"
	                "---\nkind: Host\nname: h\n"
	                "---\nkind: SLA\nname: s\nselector: {}\n");
	cfg = load_ok(yaml);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		vm = xdc_config_vm(cfg, names[i]);
		assert_non_null(vm);
		assert_string_equal(vm->vm_name, names[i]);
	}
	assert_null(xdc_config_vm(cfg, "n"));
	assert_null(xdc_config_vm(cfg, ""));
	assert_null(xdc_config_vm(cfg, "zz"));
	assert_string_equal(xdc_config_network(cfg, "n")->n_name, "n");
	assert_null(xdc_config_network(cfg, "a"));
	assert_string_equal(xdc_config_host(cfg, "h")->h_name, "h");
	assert_null(xdc_config_host(cfg, "local"));
	assert_string_equal(xdc_config_sla(cfg, "s")->s_name, "s");
	assert_null(xdc_config_sla(cfg, "h"));
	xdc_config_free(cfg);
}

static void
test_locations_recorded(void **state)
{
	struct xdc_config *cfg;
	const struct xdc_vm *vm;
	struct xdc_loc loc;

	(void)state;
	cfg = load_ok("# a comment\n"
	              "kind: VM\n"
	              "name:   web-1\n"
	              "memory: 1GiB\n"
	              "kernel: /k\n"
	              "disks:\n"
	              "  - target: /d\n"
	              "    vdev: xvdc\n");
	vm = &cfg->cfg_vms[0];
	assert_int_equal(cfg->cfg_nfiles, 1);
	/* The declaration is where its "kind" is. */
	loc = xdc_vm_loc(cfg, vm, VM_F_KIND);
	assert_int_equal(loc.line, 2);
	assert_int_equal(loc.col, 1);
	loc = xdc_vm_loc(cfg, vm, VM_F_NAME);
	assert_string_equal(cfg->cfg_files[loc.file], TEST_FILE);
	assert_int_equal(loc.line, 3);
	assert_int_equal(loc.col, 9);
	loc = xdc_vm_loc(cfg, vm, VM_F_MEMORY);
	assert_int_equal(loc.line, 4);
	assert_int_equal(loc.col, 9);
	/* A list is where its key is. */
	loc = xdc_vm_loc(cfg, vm, VM_F_DISKS);
	assert_int_equal(loc.line, 6);
	assert_int_equal(loc.col, 1);
	loc = xdc_disk_loc(cfg, &vm->vm_disks[0], DISK_F_VDEV);
	assert_int_equal(loc.line, 8);
	assert_int_equal(loc.col, 11);
	xdc_config_free(cfg);
}

/* ---- Documents -------------------------------------------------------- */

static void
test_documents_per_file(void **state)
{
	struct xdc_config *cfg;

	(void)state;
	cfg = load_ok("kind: Network\nname: a\n---\nkind: Network\nname: b\n"
	              "...\n---\nkind: Host\nname: h\n");
	assert_int_equal(cfg->cfg_nnetworks, 2);
	assert_int_equal(cfg->cfg_nhosts, 1);
	xdc_config_free(cfg);
}

static void
test_empty_documents_ignored(void **state)
{
	struct xdc_config *cfg;

	(void)state;
	cfg = load_ok("---\n---\n# only a comment\n---\n~\n---\n"
	              "kind: Network\nname: a\n---\n");
	assert_int_equal(cfg->cfg_nnetworks, 1);
	xdc_config_free(cfg);
}

static void
test_empty_file_loads_nothing(void **state)
{
	struct xdc_config *cfg;

	(void)state;
	cfg = load_ok("");
	assert_int_equal(cfg->cfg_nfiles, 1);
	assert_int_equal(cfg->cfg_nvms + cfg->cfg_nnetworks + cfg->cfg_nhosts +
	                     cfg->cfg_nslas,
	    0);
	xdc_config_free(cfg);
}

static void
test_objects_across_files(void **state)
{
	static const char *const names[] = { "net.yaml", "vm.yaml" };
	static const char *const texts[] = { "kind: Network\nname: dmz\n",
		MIN_VM("web") "nics: [{network: dmz}]\n" };
	struct xdc_config *cfg;
	struct xdc_diags *d;

	(void)state;
	d = load_buffers(names, texts, NULL, 2, &cfg);
	assert_no_diags(d);
	assert_int_equal(cfg->cfg_nfiles, 2);
	assert_string_equal(cfg->cfg_files[1], "net.yaml");
	assert_string_equal(cfg->cfg_files[2], "vm.yaml");
	assert_int_equal(xdc_vm_loc(cfg, &cfg->cfg_vms[0], VM_F_NAME).file, 2);
	assert_int_equal(
	    xdc_network_loc(cfg, &cfg->cfg_networks[0], NET_F_NAME).file, 1);
	assert_string_equal(cfg->cfg_path, "test");
	xdc_config_free(cfg);
	xdc_diags_free(d);
}

/* ---- Errors: return code, positions, order ---------------------------- */

static void
test_error_returns_einvalid_and_no_config(void **state)
{
	static const char yaml[] = MIN_VM("web") "vcpus: 0\n";
	struct xdc_diags *d = xdc_diags_new();
	struct schema_loader *sl = schema_loader_new("x", d);
	struct xdc_config *cfg = NULL;

	(void)state;
	schema_loader_add(sl, TEST_FILE, yaml, sizeof(yaml) - 1);
	assert_int_equal(schema_loader_finish(sl, &cfg), XDC_EINVALID);
	assert_null(cfg);
	assert_diag_count(d, 1);
	xdc_diags_free(d);
}

static void
test_every_error_reported_at_once(void **state)
{
	struct xdc_config *cfg;
	struct xdc_diags *d;

	(void)state;
	d = load_string("kind: VM\n"
	                "name: Web\n"
	                "memory: 1GB\n"
	                "kernel: /k\n"
	                "vcpus: 0\n"
	                "colour: red\n"
	                "---\n"
	                "kind: Network\n"
	                "name: n\n"
	                "mtu: 10\n",
	    &cfg);
	assert_diag_count(d, 5);
	assert_diag(d, 0, TEST_FILE, 2, 7, "not a valid name");
	assert_diag(d, 1, TEST_FILE, 3, 9, "1GB");
	assert_diag(d, 2, TEST_FILE, 5, 8, "out of range");
	assert_diag(d, 3, TEST_FILE, 6, 1, "unknown key");
	assert_diag(d, 4, TEST_FILE, 10, 6, "mtu: 10 is out of range");
	xdc_diags_free(d);
}

static void
test_diags_sorted_by_file_line_col(void **state)
{
	/*
	 * Added b then a; within b, the duplicate name on line 6 is found
	 * after the whole file is read, the bad vcpus on line 9 before it,
	 * and line 3 holds two errors in one flow mapping.
	 */
	static const char *const names[] = { "b.yaml", "a.yaml" };
	static const char *const texts[] = {
		"kind: VM\n"
		"name: v\n"
		"disks: [{target: x, vdev: y}]\n"
		"kernel: /k\n"
		"---\n"
		"name: v\n"
		"kind: VM\n"
		"kernel: /k\n"
		"vcpus: 0\n"
		"memory: 1GiB\n",
		"kind: Host\nname: h\ncpus: 0\n",
	};
	struct xdc_config *cfg;
	struct xdc_diags *d;

	(void)state;
	d = load_buffers(names, texts, NULL, 2, &cfg);
	assert_diag_count(d, 6);
	assert_diag(d, 0, "a.yaml", 3, 7, "cpus");
	assert_diag(d, 1, "b.yaml", 1, 1, "missing required key \"memory\"");
	assert_diag(d, 2, "b.yaml", 3, 18, "not an absolute path");
	assert_diag(d, 3, "b.yaml", 3, 27, "not a virtual disk name");
	assert_diag(d, 4, "b.yaml", 6, 7, "already declared at b.yaml:2:7");
	assert_diag(d, 5, "b.yaml", 9, 8, "vcpus");
	xdc_diags_free(d);
}

static void
test_unknown_key_at_key(void **state)
{
	(void)state;
	assert_rejects(
	    MIN_VM("web") "vpcus: 2\n", 5, 1, "vpcus: unknown key in VM");
	assert_rejects(MIN_VM("web") "disks:\n  - {target: /d, vdve: xvda}\n",
	    6, 18, "disks[0].vdve: unknown key in disk");
}

static void
test_bad_value_at_value(void **state)
{
	(void)state;
	assert_rejects(MIN_VM("web") "max_memory:   2 GiB\n", 5, 15,
	    "max_memory: \"2 GiB\" is invalid");
	assert_rejects(MIN_VM("web") "nics:\n  - network: n\n    mac: x\n"
	                             "---\nkind: Network\nname: n\n",
	    7, 10, "nics[0].mac: \"x\" is invalid");
}

static void
test_duplicate_name_at_later_value(void **state)
{
	(void)state;
	/* A Network may share a Host's name: names are per kind. */
	assert_rejects("kind: Host\nname: dmz\n---\nkind: Network\nname: dmz\n"
	               "---\nkind: Host\n# again\nname:  dmz\n",
	    9, 8, "name: Host \"dmz\" is already declared at test.yaml:2:7");
}

static void
test_duplicate_name_across_files_at_later_file(void **state)
{
	static const char *const names[] = { "b.yaml", "a.yaml" };
	static const char *const texts[] = { "kind: Host\nname: h\n",
		"kind: Host\nname: x\n---\nkind: Host\nname: h\n" };
	struct xdc_config *cfg;
	struct xdc_diags *d;

	(void)state;
	/* "Later" is the order of reading, not of file names. */
	d = load_buffers(names, texts, NULL, 2, &cfg);
	assert_diag_count(d, 1);
	assert_diag(d, 0, "a.yaml", 5, 7,
	    "Host \"h\" is already declared at b.yaml:2:7");
	xdc_diags_free(d);
}

static void
test_missing_key_at_mapping(void **state)
{
	(void)state;
	assert_rejects("---\n# a VM\nkind: VM\nname: web\nkernel: /k\n", 3, 1,
	    "missing required key \"memory\" in VM");
	assert_rejects(MIN_VM("web") "disks:\n  - {vdev: xvda}\n", 6, 5,
	    "disks[0]: missing required key \"target\"");
}

static void
test_syntax_error_at_position(void **state)
{
	(void)state;
	assert_rejects("kind: Host\nname: [h\n", 3, 1, "syntax error");
	assert_rejects("kind: Host\n  name: h\n", 2, 7, "syntax error");
}

static void
test_documents_before_syntax_error_still_checked(void **state)
{
	struct xdc_config *cfg;
	struct xdc_diags *d;

	(void)state;
	d = load_string("kind: Host\nname: h\ncpus: 0\n---\nkind: [\n", &cfg);
	assert_diag_count(d, 2);
	assert_diag(d, 0, TEST_FILE, 3, 7, "out of range");
	assert_diag(d, 1, TEST_FILE, 6, 1, "syntax error");
	xdc_diags_free(d);
}

/* ---- Hostile input ---------------------------------------------------- */

static void
test_anchor_rejected_at_node(void **state)
{
	(void)state;
	assert_rejects("kind: Host\nname: h\nlabels: &l {a: b}\n", 3, 9,
	    "anchors are not allowed");
}

static void
test_alias_rejected_at_alias(void **state)
{
	struct xdc_config *cfg;
	struct xdc_diags *d;

	(void)state;
	d = load_string("kind: Host\nname: &n h\n---\n"
	                "kind: Host\nname: g\nlabels: {a: *n}\n",
	    &cfg);
	assert_diag_count(d, 2);
	assert_diag(d, 0, TEST_FILE, 2, 7, "anchors are not allowed");
	assert_diag(d, 1, TEST_FILE, 6, 13, "aliases are not allowed");
	xdc_diags_free(d);
}

/* "kind: Host\nname: h\nx: " and n - 1 nested flow sequences. */
static char *
nested(size_t n)
{
	char *s = malloc(64 + 2 * n), *p;
	size_t i;

	assert_non_null(s);
	p = s + sprintf(s, "kind: Host\nname: h\nx: ");
	for (i = 1; i < n; i++)
		*p++ = '[';
	for (i = 1; i < n; i++)
		*p++ = ']';
	strcpy(p, "\n");
	return s;
}

static void
test_depth_64_accepted(void **state)
{
	char *yaml = nested(XDC_DEPTH_MAX);

	(void)state;
	/* Only the unknown key: the nesting itself is fine. */
	assert_rejects(yaml, 3, 1, "x: unknown key in Host");
	free(yaml);
}

static void
test_depth_65_rejected(void **state)
{
	char *yaml = nested(XDC_DEPTH_MAX + 1);

	(void)state;
	/* The mapping is level 1; the 64th '[' is level 65. */
	assert_rejects(
	    yaml, 3, 4 + XDC_DEPTH_MAX - 1, "nested deeper than 64 levels");
	free(yaml);
}

static void
test_file_over_16mib_rejected(void **state)
{
	const char *name = "big.yaml";
	size_t len = XDC_FILE_MAX + 1;
	char *buf = malloc(len);
	const char *bufs[1];
	struct xdc_config *cfg;
	struct xdc_diags *d;

	(void)state;
	assert_non_null(buf);
	memset(buf, '\n', len);
	bufs[0] = buf;
	d = load_buffers(&name, bufs, &len, 1, &cfg);
	assert_diag_count(d, 1);
	assert_diag(d, 0, "big.yaml", 1, 1, "larger than 16 MiB");
	xdc_diags_free(d);
	free(buf);
}

static void
test_file_of_16mib_accepted(void **state)
{
	static const char head[] = "kind: Host\nname: h\n";
	const char *name = "big.yaml";
	size_t len = XDC_FILE_MAX;
	char *buf = malloc(len);
	const char *bufs[1];
	struct xdc_config *cfg;
	struct xdc_diags *d;

	(void)state;
	assert_non_null(buf);
	memset(buf, '\n', len);
	memcpy(buf, head, sizeof(head) - 1);
	bufs[0] = buf;
	d = load_buffers(&name, bufs, &len, 1, &cfg);
	assert_no_diags(d);
	assert_int_equal(cfg->cfg_nhosts, 1);
	xdc_config_free(cfg);
	xdc_diags_free(d);
	free(buf);
}

static void
test_invalid_utf8_rejected_at_byte(void **state)
{
	(void)state;
	/* "é" is one column: the bad byte is the 15th character. */
	assert_rejects("kind: Host\nname: h\nlabels: {k: \"\xc3\xa9\xff\"}\n",
	    3, 15, "not valid UTF-8");
	/* A sequence cut short: the byte that should have continued it. */
	assert_rejects(
	    "kind: Host\nname: h\n# \xc3\n", 3, 4, "not valid UTF-8");
}

static void
test_nul_in_double_quoted_string_rejected(void **state)
{
	(void)state;
	assert_rejects(MIN_VM("web") "cmdline: \"a\\0b\"\n", 5, 10,
	    "cmdline: contains a NUL character");
	assert_rejects("kind: Host\nname: \"h\\0\"\n", 2, 7,
	    "name: contains a NUL character");
}

static void
test_raw_nul_byte_rejected(void **state)
{
	static const char yaml[] = "kind: Host\nname: h\x00x\n";
	const char *name = TEST_FILE, *buf = yaml;
	size_t len = sizeof(yaml) - 1;
	struct xdc_config *cfg;
	struct xdc_diags *d;

	(void)state;
	d = load_buffers(&name, &buf, &len, 1, &cfg);
	assert_diag_count(d, 1);
	assert_diag(d, 0, TEST_FILE, 2, 8, "cannot be read as YAML");
	xdc_diags_free(d);
}

/* ---- Directories ------------------------------------------------------ */

/*
 * Each directory test gets a fresh directory under one temporary root. The
 * group's teardown removes the root, which cmocka runs even when a test
 * failed and skipped its own teardown.
 */
static char tmp_root[] = "/tmp/xdc-test-load.XXXXXX";
static unsigned tmp_seq;

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
rm_tree(const char *dir)
{
	return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int
group_setup(void **state)
{
	(void)state;
	return mkdtemp(tmp_root) == NULL ? -1 : 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	return rm_tree(tmp_root);
}

static int
tmp_setup(void **state)
{
	char *dir;

	if (asprintf(&dir, "%s/%u", tmp_root, ++tmp_seq) < 0)
		return -1;
	if (mkdir(dir, 0700) != 0) {
		free(dir);
		return -1;
	}
	*state = dir;
	return 0;
}

static int
tmp_teardown(void **state)
{
	int rc = rm_tree(*state);

	free(*state);
	return rc;
}

/* Write dir/rel, making its directories. */
static void
put(const char *dir, const char *rel, const char *text)
{
	char path[4096], *slash;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	for (slash = path + strlen(dir) + 1; (slash = strchr(slash, '/'));
	     slash++) {
		*slash = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			fail_msg("mkdir %s: %s", path, strerror(errno));
		*slash = '/';
	}
	if ((fp = fopen(path, "w")) == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

static char *
path_in(const char *dir, const char *rel)
{
	char *p;

	assert_true(asprintf(&p, "%s/%s", dir, rel) > 0);
	return p;
}

/* schema_files(dir) is exactly the relative paths want, in order. */
static void
assert_files(const char *dir, const char *const *want, size_t n)
{
	char **files = NULL, *p;
	size_t nfiles = 0, i;

	assert_int_equal(schema_files(dir, &files, &nfiles), 0);
	if (nfiles != n) {
		for (i = 0; i < nfiles; i++)
			print_error("  %s\n", files[i]);
		fail_msg("expected %zu files, got %zu", n, nfiles);
	}
	for (i = 0; i < n; i++) {
		p = path_in(dir, want[i]);
		assert_string_equal(files[i], p);
		free(p);
	}
	schema_files_free(files, nfiles);
}

static void
test_dir_sorted_path_order_across_subdirs(void **state)
{
	static const char *const want[] = { "a.yml", "a/z.yaml", "b.yaml",
		"c/d/e.yaml", "c/f.yaml" };
	const char *dir = *state;

	put(dir, "c/f.yaml", "");
	put(dir, "b.yaml", "");
	put(dir, "c/d/e.yaml", "");
	put(dir, "a/z.yaml", "");
	put(dir, "a.yml", "");
	assert_files(dir, want, 5);
}

static void
test_dir_yaml_and_yml_only(void **state)
{
	static const char *const want[] = { "a.yaml", "b.yml" };
	const char *dir = *state;

	put(dir, "a.yaml", "");
	put(dir, "b.yml", "");
	put(dir, "c.json", "");
	put(dir, "README.md", "");
	put(dir, "d.yaml.bak", "");
	put(dir, "e.YAML", "");
	put(dir, "yaml", "");
	put(dir, "f.yaml~", "");
	assert_files(dir, want, 2);
}

static void
test_dir_hidden_entries_skipped(void **state)
{
	static const char *const want[] = { "a.yaml", "sub/b.yaml" };
	const char *dir = *state;

	put(dir, "a.yaml", "");
	put(dir, ".hidden.yaml", "kind: Bogus\n");
	put(dir, ".git/config.yaml", "kind: Bogus\n");
	put(dir, "sub/b.yaml", "");
	put(dir, "sub/.c.yaml", "kind: Bogus\n");
	assert_files(dir, want, 2);
}

static void
test_dir_loads_files_in_path_order(void **state)
{
	const char *dir = *state;
	struct xdc_diags *d = xdc_diags_new();
	struct xdc_config *cfg = NULL;
	char *p;

	put(dir, "vms/web.yaml", MIN_VM("web") "nics: [{network: dmz}]\n");
	put(dir, "net.yml", "kind: Network\nname: dmz\n");
	put(dir, ".editor.yaml", "garbage: [\n");
	assert_int_equal(schema_load(dir, &cfg, d), 0);
	assert_no_diags(d);
	assert_non_null(cfg);
	assert_int_equal(cfg->cfg_nfiles, 2);
	p = path_in(dir, "net.yml");
	assert_string_equal(cfg->cfg_files[1], p);
	free(p);
	p = path_in(dir, "vms/web.yaml");
	assert_string_equal(cfg->cfg_files[2], p);
	free(p);
	assert_string_equal(cfg->cfg_path, dir);
	assert_int_equal(cfg->cfg_nvms, 1);
	xdc_config_free(cfg);
	xdc_diags_free(d);
}

static void
test_dir_diags_name_files_and_sort(void **state)
{
	const char *dir = *state;
	struct xdc_diags *d = xdc_diags_new();
	struct xdc_config *cfg = NULL;
	char *a = path_in(dir, "a/x.yaml"), *b = path_in(dir, "b.yaml");

	put(dir, "b.yaml", "kind: Host\nname: h\ncpus: 0\n");
	put(dir, "a/x.yaml",
	    "kind: Host\nname: g\nstate: gone\n"
	    "---\nkind: Host\nname: h\n");
	assert_int_equal(schema_load(dir, &cfg, d), XDC_EINVALID);
	assert_null(cfg);
	assert_diag_count(d, 3);
	assert_diag(
	    d, 0, a, 3, 8, "state: expected one of active, drained, failed");
	assert_diag(d, 1, b, 2, 7, "already declared at");
	assert_diag(d, 2, b, 3, 7, "cpus");
	free(a);
	free(b);
	xdc_diags_free(d);
}

static void
test_dir_empty_is_error(void **state)
{
	const char *dir = *state;
	struct xdc_diags *d = xdc_diags_new();
	struct xdc_config *cfg = NULL;

	assert_int_equal(schema_load(dir, &cfg, d), XDC_ENOTFOUND);
	assert_null(cfg);
	assert_non_null(strstr(xdc_error_last(), "no *.yaml or *.yml"));
	/* Only other files, or hidden ones: still nothing to load. */
	put(dir, "README.md", "");
	put(dir, ".x.yaml", "");
	put(dir, "sub/.y.yml", "");
	assert_int_equal(schema_load(dir, &cfg, d), XDC_ENOTFOUND);
	assert_null(cfg);
	assert_int_equal(xdc_diags_count(d), 0);
	xdc_diags_free(d);
}

static void
test_missing_path_is_error(void **state)
{
	struct xdc_diags *d = xdc_diags_new();
	struct xdc_config *cfg = NULL;
	char *p = path_in(*state, "nope");

	assert_int_equal(schema_load(p, &cfg, d), XDC_ENOTFOUND);
	assert_null(cfg);
	assert_non_null(strstr(xdc_error_last(), "nope"));
	free(p);
	xdc_diags_free(d);
}

static void
test_single_file_loads_whatever_its_name(void **state)
{
	struct xdc_diags *d = xdc_diags_new();
	struct xdc_config *cfg = NULL;
	char *p = path_in(*state, "config.txt");

	put(*state, "config.txt", "kind: Host\nname: h\n");
	assert_int_equal(schema_load(p, &cfg, d), 0);
	assert_non_null(cfg);
	assert_int_equal(cfg->cfg_nhosts, 1);
	assert_string_equal(cfg->cfg_files[1], p);
	xdc_config_free(cfg);
	xdc_diags_free(d);
	free(p);
}

static void
test_file_over_16mib_on_disk_rejected(void **state)
{
	struct xdc_diags *d = xdc_diags_new();
	struct xdc_config *cfg = NULL;
	char *p = path_in(*state, "big.yaml");
	int fd, rc;

	/* A sparse file: 16 MiB + 1 of size, no disk used. */
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)XDC_FILE_MAX + 1), 0);
	assert_int_equal(close(fd), 0);
	put(*state, "small.yaml", "kind: Host\nname: h\n");
	rc = schema_load(*state, &cfg, d);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(rc, XDC_EINVALID);
	assert_null(cfg);
	assert_diag_count(d, 1);
	assert_diag(d, 0, p, 1, 1, "larger than 16 MiB");
	xdc_diags_free(d);
	free(p);
}

static void
test_dir_symlink_inside_is_followed(void **state)
{
	const char *dir = *state;
	struct xdc_diags *d = xdc_diags_new();
	struct xdc_config *cfg = NULL;
	char *link = path_in(dir, "vms/web.yaml"), *via;

	/* Not *.yaml: only the link brings it in. */
	put(dir, "shared/web.txt", MIN_VM("web"));
	put(dir, "vms/keep", "");
	assert_int_equal(symlink("../shared/web.txt", link), 0);
	assert_int_equal(schema_load(dir, &cfg, d), 0);
	assert_no_diags(d);
	assert_int_equal(cfg->cfg_nvms, 1);
	assert_string_equal(cfg->cfg_files[1], link);
	xdc_config_free(cfg);
	cfg = NULL;
	/* The directory named through a link of its own: still inside. */
	assert_true(asprintf(&via, "%s-via", dir) > 0);
	assert_int_equal(symlink(dir, via), 0);
	assert_int_equal(schema_load(via, &cfg, d), 0);
	assert_no_diags(d);
	assert_int_equal(cfg->cfg_nvms, 1);
	xdc_config_free(cfg);
	assert_int_equal(unlink(via), 0);
	xdc_diags_free(d);
	free(link);
	free(via);
}

static void
test_dir_symlink_leaving_the_directory_is_refused(void **state)
{
	const char *dir = *state;
	struct xdc_diags *d = xdc_diags_new();
	struct xdc_config *cfg = NULL;
	char *outside, *beside, *rel, *a, *b, *c, *msg_a, *msg_b;

	/* Two files outside: one beside the directory, one anywhere. */
	assert_true(asprintf(&beside, "%s-beside.yaml", dir) > 0);
	assert_true(asprintf(&outside, "%s-outside.yaml", dir) > 0);
	put("/", beside + 1, MIN_VM("beside"));
	put("/", outside + 1, MIN_VM("evil"));
	a = path_in(dir, "a.yaml");
	b = path_in(dir, "sub/b.yaml");
	c = path_in(dir, "sub/c.yaml");
	put(dir, "ok.yaml", MIN_VM("ok"));
	put(dir, "sub/keep", "");
	/* Absolute; relative through ".."; a link inside to a link out. */
	assert_int_equal(symlink(outside, a), 0);
	assert_true(
	    asprintf(&rel, "../../%s-beside.yaml", strrchr(dir, '/') + 1) > 0);
	assert_int_equal(symlink(rel, b), 0);
	assert_int_equal(symlink("../a.yaml", c), 0);
	assert_int_equal(schema_load(dir, &cfg, d), XDC_EINVALID);
	assert_null(cfg);
	assert_diag_count(d, 3);
	assert_true(asprintf(&msg_a,
	                "a symbolic link to %s, outside the configuration "
	                "directory %s: refused",
	                outside, dir) > 0);
	assert_true(
	    asprintf(&msg_b, "a symbolic link to %s, outside", beside) > 0);
	assert_diag(d, 0, a, 1, 1, msg_a);
	assert_diag(d, 1, b, 1, 1, msg_b);
	assert_diag(d, 2, c, 1, 1, msg_a);
	assert_int_equal(unlink(outside), 0);
	assert_int_equal(unlink(beside), 0);
	free(msg_a);
	free(msg_b);
	free(outside);
	free(beside);
	free(rel);
	free(a);
	free(b);
	free(c);
	xdc_diags_free(d);
}

#define DIR_TEST(t) cmocka_unit_test_setup_teardown(t, tmp_setup, tmp_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vm_declared_values_typed),
		cmocka_unit_test(test_vm_defaults),
		cmocka_unit_test(test_vm_max_vcpus_defaults_to_vcpus),
		cmocka_unit_test(test_vm_max_memory_defaults_to_memory),
		cmocka_unit_test(test_disk_defaults_in_declaration_order),
		cmocka_unit_test(test_nic_mac_derived_when_absent),
		cmocka_unit_test(test_nic_network_resolved_to_index),
		cmocka_unit_test(test_network_declared_values_typed),
		cmocka_unit_test(test_network_default_bridge_is_xdc_name),
		cmocka_unit_test(test_host_declared_values_typed),
		cmocka_unit_test(test_host_defaults),
		cmocka_unit_test(test_sla_declared_values_typed),
		cmocka_unit_test(test_sla_restart_defaults_to_always),
		cmocka_unit_test(test_sla_policy_resolved_per_vm),
		cmocka_unit_test(test_null_values_mean_absent),
		cmocka_unit_test(test_quoted_null_is_a_string),
		cmocka_unit_test(test_arrays_sorted_by_name),
		cmocka_unit_test(test_labels_sorted_by_key),
		cmocka_unit_test(test_lookups_find_each_name),
		cmocka_unit_test(test_locations_recorded),
		cmocka_unit_test(test_locations_far_into_an_object_exact),
		cmocka_unit_test(test_label_sets_shared_when_equal),
		cmocka_unit_test(test_documents_per_file),
		cmocka_unit_test(test_empty_documents_ignored),
		cmocka_unit_test(test_empty_file_loads_nothing),
		cmocka_unit_test(test_objects_across_files),
		cmocka_unit_test(test_error_returns_einvalid_and_no_config),
		cmocka_unit_test(test_every_error_reported_at_once),
		cmocka_unit_test(test_diags_sorted_by_file_line_col),
		cmocka_unit_test(test_unknown_key_at_key),
		cmocka_unit_test(test_bad_value_at_value),
		cmocka_unit_test(test_duplicate_name_at_later_value),
		cmocka_unit_test(
		    test_duplicate_name_across_files_at_later_file),
		cmocka_unit_test(test_missing_key_at_mapping),
		cmocka_unit_test(test_syntax_error_at_position),
		cmocka_unit_test(
		    test_documents_before_syntax_error_still_checked),
		cmocka_unit_test(test_anchor_rejected_at_node),
		cmocka_unit_test(test_alias_rejected_at_alias),
		cmocka_unit_test(test_depth_64_accepted),
		cmocka_unit_test(test_depth_65_rejected),
		cmocka_unit_test(test_file_over_16mib_rejected),
		cmocka_unit_test(test_file_of_16mib_accepted),
		cmocka_unit_test(test_invalid_utf8_rejected_at_byte),
		cmocka_unit_test(test_nul_in_double_quoted_string_rejected),
		cmocka_unit_test(test_raw_nul_byte_rejected),
		DIR_TEST(test_dir_sorted_path_order_across_subdirs),
		DIR_TEST(test_dir_yaml_and_yml_only),
		DIR_TEST(test_dir_hidden_entries_skipped),
		DIR_TEST(test_dir_loads_files_in_path_order),
		DIR_TEST(test_dir_diags_name_files_and_sort),
		DIR_TEST(test_dir_empty_is_error),
		DIR_TEST(test_missing_path_is_error),
		DIR_TEST(test_single_file_loads_whatever_its_name),
		DIR_TEST(test_file_over_16mib_on_disk_rejected),
		DIR_TEST(test_dir_symlink_inside_is_followed),
		DIR_TEST(test_dir_symlink_leaving_the_directory_is_refused),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
