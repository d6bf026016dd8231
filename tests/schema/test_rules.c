/*
 * Tests of the rules of the configuration format (SPEC §2) as the loader
 * enforces them in schema/load.c, kinds.c and check.c: one test per rule,
 * each showing that breaking the rule gives exactly one diagnostic at the
 * offending node, and that the nearest input that keeps it gives none.
 */
#include <stdlib.h>

#include "tests/schema/helpers.h"

#include "schema/values.h"

/* The smallest valid object of each kind; each ends with a newline. */
#define HOST(n)        "kind: Host\nname: " n "\n"    /* 2 lines */
#define NET(n)         "kind: Network\nname: " n "\n" /* 2 lines */
#define VM(n)          "kind: VM\nname: " n "\nmemory: 1GiB\nkernel: /k\n" /* 4 */
#define VM_NOKERNEL(n) "kind: VM\nname: " n "\nmemory: 1GiB\n"  /* 3 lines */
#define SLA(n)         "kind: SLA\nname: " n "\nselector: {}\n" /* 3 lines */

/* yaml gives one diagnostic, and its message lacks substr. */
static void
assert_msg_lacks(const char *yaml, const char *substr)
{
	struct xdc_config *cfg;
	struct xdc_diags *d = load_string(yaml, &cfg);

	assert_diag_count(d, 1);
	assert_null(strstr(xdc_diags_get(d, 0)->dg_msg, substr));
	xdc_diags_free(d);
}

/* ---- Documents and kinds ---------------------------------------------- */

static void
test_unknown_kind_rejected(void **state)
{
	(void)state;
	assert_rejects("kind: Vm\nname: a\n", 1, 7,
	    "kind: unknown kind \"Vm\" (expected Host, Network, VM or SLA)");
	assert_rejects("kind: [VM]\nname: a\n", 1, 7,
	    "kind: expected one of Host, Network, VM, SLA, got a list");
	/* A null kind is an absent one. */
	assert_rejects(
	    "kind:\nname: a\n", 1, 1, "missing required key \"kind\"");
	assert_loads("kind: VM\nname: a\nmemory: 1GiB\nkernel: /k\n");
}

static void
test_kind_required(void **state)
{
	(void)state;
	assert_rejects("# a host\nname: a\ncpus: 2\n", 2, 1,
	    "missing required key \"kind\" (one of Host, Network, VM, SLA)");
	assert_loads("# a host\nname: a\ncpus: 2\nkind: Host\n");
}

static void
test_document_must_be_a_mapping(void **state)
{
	(void)state;
	assert_rejects("- kind: Host\n  name: a\n", 1, 1,
	    "a document must be a mapping with a \"kind\", got a list");
	assert_rejects("---\nHost\n", 2, 1,
	    "a document must be a mapping with a \"kind\", got \"Host\"");
	assert_loads("kind: Host\nname: a\n");
}

static void
test_kind_twice_rejected(void **state)
{
	(void)state;
	assert_rejects(
	    HOST("a") "kind: VM\n", 3, 1, "kind: duplicate key (first at 1:1)");
	assert_loads(HOST("a"));
}

/* ---- Keys ------------------------------------------------------------- */

static void
test_unknown_key_rejected_with_suggestion(void **state)
{
	(void)state;
	assert_rejects(VM("a") "vcpu: 2\n", 5, 1,
	    "vcpu: unknown key in VM (did you mean \"vcpus\"?)");
	assert_rejects(SLA("s") "cpu: {wieght: 5}\n", 4, 7,
	    "cpu.wieght: unknown key in SLA cpu (did you mean \"weight\"?)");
	assert_rejects(VM("a") "disks: [{target: /d, formt: raw}]\n", 5, 22,
	    "disks[0].formt: unknown key in disk (did you mean \"format\"?)");
	assert_loads(VM("a") "vcpus: 2\n");
	assert_loads(SLA("s") "cpu: {weight: 5}\n");
}

static void
test_unknown_key_without_near_key_has_no_suggestion(void **state)
{
	(void)state;
	assert_rejects(
	    VM("a") "colour: red\n", 5, 1, "colour: unknown key in VM");
	assert_msg_lacks(VM("a") "colour: red\n", "did you mean");
	/* Three edits from "vcpus" is too far; two is near enough. */
	assert_msg_lacks(VM("a") "vcpusxyz: 2\n", "did you mean");
	assert_rejects(VM("a") "vcpusxy: 2\n", 5, 1, "did you mean \"vcpus\"");
}

static void
test_duplicate_key_rejected(void **state)
{
	(void)state;
	/* "first at" names the first key, not its value. */
	assert_rejects(HOST("a") "cpus: 2\ncpus: 4\n", 4, 1,
	    "cpus: duplicate key (first at 3:1)");
	/* A null first value is absent, but the key is still repeated. */
	assert_rejects(HOST("a") "cpus: ~\ncpus: 4\n", 4, 1,
	    "cpus: duplicate key (first at 3:1)");
	assert_rejects(SLA("s") "cpu: {weight: 1}\ncpu: {cap: 1}\n", 5, 1,
	    "cpu: duplicate key (first at 4:1)");
	assert_loads(HOST("a") "cpus: 4\n");
}

static void
test_key_must_be_a_string(void **state)
{
	(void)state;
	assert_rejects(HOST("a") "? [x]\n: y\n", 3, 3, "keys must be strings");
	assert_rejects(
	    SLA("s") "cpu: {[x]: 1}\n", 4, 7, "cpu: keys must be strings");
	assert_rejects(
	    HOST("a") "\"cpus\\0\": 2\n", 3, 1, "keys must be strings");
	assert_loads(HOST("a") "cpus: 2\n");
}

static void
test_null_key_value_is_absent_not_missing(void **state)
{
	(void)state;
	/* A required key with a null value is missing. */
	assert_rejects("kind: VM\nname: a\nmemory: ~\nkernel: /k\n", 1, 1,
	    "missing required key \"memory\" in VM");
	assert_loads("kind: VM\nname: a\nmemory: 1GiB\nkernel: /k\n");
}

/* ---- Types ------------------------------------------------------------ */

static void
test_mapping_expected(void **state)
{
	(void)state;
	assert_rejects(SLA("s") "cpu: 512\n", 4, 6,
	    "cpu: expected a mapping, got \"512\"");
	assert_rejects(
	    SLA("s") "cpu: [1]\n", 4, 6, "cpu: expected a mapping, got a list");
	assert_loads(SLA("s") "cpu: {weight: 512}\n");
}

static void
test_list_expected(void **state)
{
	(void)state;
	assert_rejects(VM("a") "disks: {target: /d}\n", 5, 8,
	    "disks: expected a list, got a mapping");
	assert_rejects(
	    VM("a") "disks: /d\n", 5, 8, "disks: expected a list, got \"/d\"");
	assert_loads(VM("a") "disks: [{target: /d}]\n");
}

static void
test_list_element_must_be_a_mapping(void **state)
{
	(void)state;
	assert_rejects(VM("a") "disks: [{target: /d}, /e]\n", 5, 23,
	    "disks[1]: expected a mapping, got \"/e\"");
	assert_loads(VM("a") "disks: [{target: /d}, {target: /e}]\n");
}

static void
test_scalar_expected(void **state)
{
	(void)state;
	assert_rejects(VM("a") "cmdline: {a: b}\n", 5, 10,
	    "cmdline: expected a string, got a mapping");
	assert_rejects(HOST("a") "memory: [1GiB]\n", 3, 9,
	    "memory: expected a size such as 512MiB or 2GiB, got a list");
	assert_rejects("kind: Host\nname: [a]\n", 2, 7,
	    "name: expected a name, got a list");
	assert_loads(VM("a") "cmdline: \"a: b\"\n");
}

static void
test_number_must_be_plain_digits(void **state)
{
	(void)state;
	assert_rejects(VM("a") "vcpus: \"2\"\n", 5, 8,
	    "vcpus: expected a whole number, got the string \"2\"");
	assert_rejects(VM("a") "vcpus: two\n", 5, 8,
	    "vcpus: expected a whole number, got \"two\"");
	assert_rejects(VM("a") "vcpus: 2.0\n", 5, 8, "expected a whole number");
	assert_rejects(VM("a") "vcpus: 0x2\n", 5, 8, "expected a whole number");
	assert_rejects(VM("a") "vcpus: +2\n", 5, 8, "expected a whole number");
	assert_loads(VM("a") "vcpus: 2\n");
}

static void
test_bool_must_be_core_form(void **state)
{
	(void)state;
	assert_rejects(VM("a") "protect: yes\n", 5, 10,
	    "protect: expected true or false, got \"yes\"");
	assert_rejects(VM("a") "protect: \"true\"\n", 5, 10,
	    "protect: expected true or false, got the string \"true\"");
	assert_loads(VM("a") "protect: True\n");
	assert_rejects(VM("a") "adopt: 1\n", 5, 8,
	    "adopt: expected true or false, got \"1\"");
	assert_loads(VM("a") "adopt: false\n");
	assert_loads(VM("a") "disks: [{target: /d, readonly: false}]\n");
}

static void
test_enum_must_be_listed(void **state)
{
	(void)state;
	assert_rejects(VM("a") "type: kvm\n", 5, 7,
	    "type: expected one of pv, pvh, hvm, got \"kvm\"");
	assert_rejects(VM("a") "state: Running\n", 5, 8,
	    "state: expected one of running, stopped, paused, got \"Running\"");
	assert_rejects(HOST("h") "state: down\n", 3, 8,
	    "state: expected one of active, drained, failed, got \"down\"");
	assert_rejects(SLA("s") "availability: {restart: sometimes}\n", 4, 25,
	    "availability.restart: expected one of always, on-crash, never");
	assert_rejects(SLA("s") "availability: {spread: rack}\n", 4, 24,
	    "availability.spread: expected one of none, host");
	assert_rejects(VM("a") "disks: [{target: /d, format: vmdk}]\n", 5, 30,
	    "disks[0].format: expected one of raw, qcow2, vhd, got \"vmdk\"");
	assert_loads(VM("a") "type: pv\nstate: stopped\n"
	                     "disks: [{target: /d, format: vhd}]\n");
	assert_loads(
	    SLA("s") "availability: {restart: on-crash, spread: host}\n");
}

static void
test_labels_must_be_a_mapping_of_strings(void **state)
{
	(void)state;
	assert_rejects(VM("a") "labels: [a]\n", 5, 9,
	    "labels: expected a mapping of labels, got a list");
	assert_rejects(VM("a") "labels: {~: a}\n", 5, 10,
	    "labels: a label's key must be a string");
	assert_rejects(VM("a") "labels: {a: [b]}\n", 5, 13,
	    "labels.a: a label's value must be a string, got a list");
	assert_loads(VM("a") "labels: {a: \"1\", b: 2, c: true}\n");
}

static void
test_duplicate_label_rejected(void **state)
{
	(void)state;
	assert_rejects(VM("a") "labels: {a: b, a: c}\n", 5, 16,
	    "labels.a: duplicate label");
	assert_loads(VM("a") "labels: {a: b, A: c}\n");
}

static void
test_tags_rejected(void **state)
{
	(void)state;
	assert_rejects(
	    VM("a") "vcpus: !!int 2\n", 5, 8, "tags are not supported");
	assert_loads(VM("a") "vcpus: 2\n");
}

static void
test_paths_must_be_absolute(void **state)
{
	(void)state;
	assert_rejects("kind: VM\nname: a\nmemory: 1GiB\nkernel: vmlinuz\n", 4,
	    9, "kernel: \"vmlinuz\" is not an absolute path");
	assert_rejects(VM("a") "ramdisk: initrd\n", 5, 10,
	    "ramdisk: \"initrd\" is not an absolute path");
	assert_rejects(VM("a") "disks: [{target: vg0/a}]\n", 5, 18,
	    "disks[0].target: \"vg0/a\" is not an absolute path");
	assert_loads(VM("a") "ramdisk: /initrd\ndisks: [{target: /vg0/a}]\n");
}

static void
test_nul_in_string_rejected(void **state)
{
	(void)state;
	assert_rejects(VM("a") "cmdline: \"a\\0b\"\n", 5, 10,
	    "cmdline: contains a NUL character");
	assert_loads(VM("a") "cmdline: \"a\\tb\"\n");
}

/* ---- Ranges ----------------------------------------------------------- */

/* tmpl with its one '@' replaced by value, in a static buffer. */
static const char *
subst(const char *tmpl, const char *value)
{
	static char buf[1024];
	const char *at = strchr(tmpl, '@');

	assert_non_null(at);
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - tmpl), tmpl, value,
	    at + 1);
	return buf;
}

/*
 * The number at '@' in tmpl, which sits at line:col, must lie in lo..hi:
 * both ends load, one past either end (and a negative number, and one too
 * large for any integer) is "PATH: N is out of range (LO to HI)".
 */
static void
check_range(const char *tmpl, unsigned line, unsigned col, const char *path,
    unsigned long long lo, unsigned long long hi)
{
	char n[32], msg[128];

	snprintf(n, sizeof(n), "%llu", lo);
	assert_loads(subst(tmpl, n));
	snprintf(n, sizeof(n), "%llu", hi);
	assert_loads(subst(tmpl, n));
	if (lo > 0) {
		snprintf(n, sizeof(n), "%llu", lo - 1);
		snprintf(msg, sizeof(msg),
		    "%s: %s is out of range (%llu to %llu)", path, n, lo, hi);
		assert_rejects(subst(tmpl, n), line, col, msg);
	}
	snprintf(n, sizeof(n), "%llu", hi + 1);
	snprintf(msg, sizeof(msg), "%s: %s is out of range (%llu to %llu)",
	    path, n, lo, hi);
	assert_rejects(subst(tmpl, n), line, col, msg);
	assert_rejects(subst(tmpl, "-1"), line, col, "-1 is out of range");
	assert_rejects(subst(tmpl, "99999999999999999999999"), line, col,
	    "is out of range");
}

static void
test_vcpus_range(void **state)
{
	(void)state;
	check_range(VM("a") "vcpus: @\n", 5, 8, "vcpus", 1, 512);
}

static void
test_max_vcpus_range(void **state)
{
	(void)state;
	check_range(
	    VM("a") "max_vcpus: @\nvcpus: 1\n", 5, 12, "max_vcpus", 1, 512);
}

static void
test_host_cpus_range(void **state)
{
	(void)state;
	check_range(HOST("h") "cpus: @\n", 3, 7, "cpus", 1, 4096);
}

static void
test_vlan_range(void **state)
{
	(void)state;
	check_range(NET("n") "uplink: eth0\nvlan: @\n", 4, 7, "vlan", 1, 4094);
}

static void
test_mtu_range(void **state)
{
	(void)state;
	check_range(NET("n") "mtu: @\n", 3, 6, "mtu", 68, 65535);
}

static void
test_cpu_weight_range(void **state)
{
	(void)state;
	check_range(
	    SLA("s") "cpu:\n  weight: @\n", 5, 11, "cpu.weight", 1, 65535);
}

static void
test_cpu_cap_range(void **state)
{
	(void)state;
	/* No VM is selected, so no VM's vCPUs bound the cap. */
	check_range(SLA("s") "cpu:\n  cap: @\n", 5, 8, "cpu.cap", 0, 65535);
}

static void
test_min_running_range(void **state)
{
	(void)state;
	check_range(SLA("s") "availability:\n  min_running: @\n", 5, 16,
	    "availability.min_running", 0, 1000000);
}

/*
 * min_running above the selected VMs declared running: every disruptive
 * action on them would wait for ever. Ten VMs (the eight first named),
 * one more stopped that does not count.
 */
static void
test_min_running_above_selected_vms(void **state)
{
	char *yaml = xdc_strdup(""), *next;
	int i;

	(void)state;
	for (i = 0; i < 10; i++) {
		xdc_asprintf(
		    &next, "%s" VM("v%d") "labels: {t: w}\n---\n", yaml, i);
		free(yaml);
		yaml = next;
	}
	xdc_asprintf(&next,
	    "%s" VM("off") "labels: {t: w}\nstate: stopped\n---\n"
	                   "kind: SLA\nname: s\nselector: {t: w}\n"
	                   "availability: {min_running: @}\n",
	    yaml);
	free(yaml);
	yaml = next;
	assert_loads(subst(yaml, "10"));
	assert_rejects(subst(yaml, "11"), 71, 29,
	    "availability.min_running: 11 is more than the 10 VMs SLA \"s\" "
	    "selects that are declared running (v0, v1, v2, v3, v4, v5, v6, "
	    "v7 and 2 more): every disruptive action on them would wait for "
	    "ever");
	free(yaml);
	/* Only stopped VMs: nothing that runs is disrupted, nothing held. */
	assert_loads(VM("off") "labels: {t: w}\nstate: stopped\n---\n" SLA(
	    "s") "availability: {min_running: 3}\n");
}

static void
test_host_failures_range(void **state)
{
	(void)state;
	check_range(SLA("s") "availability:\n  host_failures: @\n", 5, 18,
	    "availability.host_failures", 0, 255);
}

/* ---- Sizes and memory ------------------------------------------------- */

static void
test_size_must_use_binary_units(void **state)
{
	(void)state;
	assert_rejects("kind: VM\nname: a\nkernel: /k\nmemory: 1GB\n", 4, 9,
	    "memory: \"1GB\" is invalid: expected a size such as 512MiB or "
	    "2GiB (units are KiB, MiB, GiB, TiB)");
	assert_rejects("kind: VM\nname: a\nkernel: /k\nmemory: 16777216TiB\n",
	    4, 9, "memory: \"16777216TiB\" is too large");
	assert_rejects(HOST("h") "memory: 64 GiB\n", 3, 9,
	    "memory: \"64 GiB\" is invalid");
	assert_loads("kind: VM\nname: a\nkernel: /k\nmemory: 1073741824\n");
	assert_loads(HOST("h") "memory: 64GiB\n");
}

static void
test_host_memory_at_least_1mib(void **state)
{
	(void)state;
	assert_rejects(HOST("h") "memory: 1048575\n", 3, 9,
	    "memory: a host offers at least 1MiB");
	assert_loads(HOST("h") "memory: 1MiB\n");
}

static void
test_vm_memory_at_least_1mib(void **state)
{
	(void)state;
	assert_rejects("kind: VM\nname: a\nkernel: /k\nmemory: 1023KiB\n", 4, 9,
	    "memory: a VM needs at least 1MiB");
	assert_loads("kind: VM\nname: a\nkernel: /k\nmemory: 1024KiB\n");
}

static void
test_vm_memory_whole_kib(void **state)
{
	(void)state;
	assert_rejects("kind: VM\nname: a\nkernel: /k\nmemory: 1048577\n", 4, 9,
	    "memory: 1048577 is not a whole number of KiB");
	assert_rejects(VM("a") "max_memory: 1073741825\n", 5, 13,
	    "max_memory: 1073741825 is not a whole number of KiB");
	assert_loads("kind: VM\nname: a\nkernel: /k\nmemory: 1049600\n");
	assert_loads(VM("a") "max_memory: 1073742848\n");
}

static void
test_vm_memory_at_most_max_memory(void **state)
{
	(void)state;
	assert_rejects("kind: VM\nname: a\nkernel: /k\nmemory: 2GiB\n"
	               "max_memory: 1GiB\n",
	    4, 9, "memory: 2GiB is more than max_memory 1GiB");
	assert_loads("kind: VM\nname: a\nkernel: /k\nmemory: 2GiB\n"
	             "max_memory: 2GiB\n");
}

static void
test_vm_vcpus_at_most_max_vcpus(void **state)
{
	(void)state;
	assert_rejects(VM("a") "vcpus: 4\nmax_vcpus: 2\n", 5, 8,
	    "vcpus: 4 is more than max_vcpus 2");
	assert_loads(VM("a") "vcpus: 4\nmax_vcpus: 4\n");
}

/* ---- Booting ---------------------------------------------------------- */

static void
test_kernel_required_for_pv_and_pvh(void **state)
{
	(void)state;
	assert_rejects("kind: VM\nname: a\nmemory: 1GiB\ntype: pv\n", 1, 1,
	    "missing required key \"kernel\" in VM (a pv guest boots a "
	    "kernel)");
	assert_rejects("kind: VM\nname: a\nmemory: 1GiB\n", 1, 1,
	    "missing required key \"kernel\" in VM (a pvh guest boots a "
	    "kernel)");
	assert_loads("kind: VM\nname: a\nmemory: 1GiB\ntype: hvm\n");
	assert_loads("kind: VM\nname: a\nmemory: 1GiB\ntype: pv\nkernel: /k\n");
}

static void
test_invalid_kernel_is_not_missing(void **state)
{
	(void)state;
	/* One mistake, one diagnostic: the path, not a missing kernel. */
	assert_rejects("kind: VM\nname: a\nmemory: 1GiB\nkernel: vmlinuz\n"
	               "ramdisk: /r\ncmdline: x\n",
	    4, 9, "kernel: \"vmlinuz\" is not an absolute path");
}

static void
test_ramdisk_needs_kernel(void **state)
{
	(void)state;
	assert_rejects("kind: VM\nname: a\nmemory: 1GiB\ntype: hvm\n"
	               "ramdisk: /r\n",
	    5, 10, "ramdisk: needs a \"kernel\"");
	assert_loads("kind: VM\nname: a\nmemory: 1GiB\ntype: hvm\n"
	             "ramdisk: /r\nkernel: /k\n");
}

static void
test_cmdline_needs_kernel(void **state)
{
	(void)state;
	assert_rejects("kind: VM\nname: a\nmemory: 1GiB\ntype: hvm\n"
	               "cmdline: quiet\n",
	    5, 10, "cmdline: needs a \"kernel\"");
	assert_loads("kind: VM\nname: a\nmemory: 1GiB\ntype: hvm\n"
	             "cmdline: quiet\nkernel: /k\n");
}

/* ---- Names ------------------------------------------------------------ */

static void
test_name_must_be_dns_label(void **state)
{
	char yaml[256];

	(void)state;
	assert_rejects("kind: Host\nname: Xen_A\n", 2, 7,
	    "name: \"Xen_A\" is not a valid name");
	assert_rejects(VM("a") "host: Xen-A\n", 5, 7,
	    "host: \"Xen-A\" is not a valid name");
	assert_rejects(VM("a") "nics: [{network: DMZ}]\n", 5, 18,
	    "nics[0].network: \"DMZ\" is not a valid name");
	snprintf(yaml, sizeof(yaml), "kind: Host\nname: %s\n",
	    "a123456789b123456789c123456789d123456789e123456789f123456789xyz");
	assert_loads(yaml);
	snprintf(yaml, sizeof(yaml), "kind: Host\nname: %s\n",
	    "a123456789b123456789c123456789d123456789e123456789f123456789wxyz");
	assert_rejects(yaml, 2, 7, "is not a valid name");
	assert_loads("kind: Host\nname: xen-a\n");
}

static void
test_name_required(void **state)
{
	(void)state;
	assert_rejects("kind: Network\nmtu: 1500\n", 1, 1,
	    "missing required key \"name\" in Network");
	assert_loads("kind: Network\nmtu: 1500\nname: n\n");
}

static void
test_duplicate_names_within_each_kind(void **state)
{
	static const struct {
		const char *first, *second, *kind;
		unsigned line;
	} kinds[] = {
		{ HOST("x"), HOST("x"), "Host", 5 },
		{ NET("x") "bridge: b1\n", NET("x") "bridge: b2\n", "Network",
		    6 },
		{ VM("x"), VM("x"), "VM", 7 },
		{ SLA("x"), SLA("x"), "SLA", 6 },
	};
	char yaml[512], msg[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		snprintf(yaml, sizeof(yaml), "%s---\n%s", kinds[i].first,
		    kinds[i].second);
		snprintf(msg, sizeof(msg),
		    "name: %s \"x\" is already declared at test.yaml:2:7",
		    kinds[i].kind);
		assert_rejects(yaml, kinds[i].line, 7, msg);
	}
}

static void
test_same_name_in_different_kinds_accepted(void **state)
{
	(void)state;
	assert_loads(
	    HOST("x") "---\n" NET("x") "---\n" VM("x") "---\n" SLA("x"));
}

/* ---- References ------------------------------------------------------- */

static void
test_nic_network_must_exist(void **state)
{
	(void)state;
	assert_rejects(VM("a") "nics:\n  - network: dmz\n", 6, 14,
	    "nics[0].network: no Network is named \"dmz\"");
	assert_loads(VM("a") "nics:\n  - network: dmz\n---\n" NET("dmz"));
}

static void
test_vm_host_must_exist(void **state)
{
	(void)state;
	assert_rejects(HOST("xen-a") "---\n" VM("a") "host: xen-b\n", 8, 7,
	    "host: no Host is named \"xen-b\"");
	assert_loads(HOST("xen-a") "---\n" VM("a") "host: xen-a\n");
}

static void
test_host_local_only_without_hosts(void **state)
{
	(void)state;
	assert_loads(VM("a") "host: local\n");
	assert_rejects(VM("a") "host: xen-a\n", 5, 7,
	    "host: no Host is named \"xen-a\" (this configuration declares "
	    "no Hosts: its one host is \"local\")");
	assert_rejects(HOST("xen-a") "---\n" VM("a") "host: local\n", 8, 7,
	    "host: no Host is named \"local\"");
}

static void
test_drained_host_gets_no_pinned_vm(void **state)
{
	(void)state;
	assert_rejects(HOST("h") "state: drained\n---\n" VM("a") "host: h\n", 9,
	    7, "host: \"h\" is drained and gets no VMs");
	assert_loads(HOST("h") "state: active\n---\n" VM("a") "host: h\n");
	assert_loads(
	    HOST("h") "state: drained\n---\n" HOST("g") "---\n" VM("a"));
}

static void
test_pinned_vm_vcpus_at_most_host_cpus(void **state)
{
	(void)state;
	assert_rejects(HOST("h") "cpus: 4\n---\n" VM("a") "host: h\n"
	                                                  "max_vcpus: 8\n",
	    10, 12,
	    "max_vcpus: 8 vCPUs are more than the 4 CPUs of host \"h\"");
	assert_rejects(HOST("h") "cpus: 4\n---\n" VM("a") "host: h\n"
	                                                  "vcpus: 5\n",
	    10, 8, "vcpus: 5 vCPUs are more than the 4 CPUs of host \"h\"");
	assert_loads(
	    HOST("h") "cpus: 4\n---\n" VM("a") "host: h\n"
	                                       "vcpus: 2\nmax_vcpus: 4\n");
	/* Where the CPUs are unknown, or the VM is not pinned: plan time. */
	assert_loads(HOST("h") "---\n" VM("a") "host: h\nvcpus: 64\n");
	assert_loads(HOST("h") "cpus: 4\n---\n" VM("a") "vcpus: 8\n");
}

/* ---- Networks --------------------------------------------------------- */

static void
test_bridge_at_most_15_chars(void **state)
{
	(void)state;
	assert_rejects(NET("n") "bridge: abcdefghijklmnop\n", 3, 9,
	    "bridge: \"abcdefghijklmnop\" is not a valid interface name");
	assert_rejects(
	    NET("n") "bridge: br/0\n", 3, 9, "is not a valid interface name");
	assert_loads(NET("n") "bridge: abcdefghijklmno\n");
}

static void
test_default_bridge_at_most_15_chars(void **state)
{
	(void)state;
	assert_rejects(NET("abcdefghijkl"), 2, 7,
	    "name: the default bridge \"xdc-abcdefghijkl\" is longer than 15 "
	    "characters; set \"bridge\"");
	assert_loads(NET("abcdefghijk"));
	assert_loads(NET("abcdefghijkl") "bridge: br0\n");
}

static void
test_uplink_must_be_interface_name(void **state)
{
	(void)state;
	assert_rejects(NET("n") "uplink: eth0:1\n", 3, 9,
	    "uplink: \"eth0:1\" is not a valid interface name");
	assert_loads(NET("n") "uplink: eth0.1\n");
}

static void
test_vlan_needs_uplink(void **state)
{
	(void)state;
	assert_rejects(NET("n") "vlan: 20\n", 3, 7,
	    "vlan: needs an \"uplink\" to make the VLAN interface on");
	assert_loads(NET("n") "vlan: 20\nuplink: eth0\n");
}

static void
test_bridge_unique(void **state)
{
	(void)state;
	assert_rejects(NET("a") "bridge: br0\n---\n" NET("b") "bridge: br0\n",
	    7, 9,
	    "bridge: \"br0\" is also the bridge of Network \"a\" "
	    "(test.yaml:2:7)");
	/* A declared bridge can take another Network's default. */
	assert_rejects(NET("a") "bridge: xdc-dmz\n---\n" NET("dmz"), 6, 7,
	    "bridge: \"xdc-dmz\" is also the bridge of Network \"a\"");
	assert_loads(NET("a") "bridge: br0\n---\n" NET("b") "bridge: br1\n");
	assert_loads(NET("a") "bridge: xdc-b\n---\n" NET("dmz"));
}

static void
test_uplink_unique(void **state)
{
	(void)state;
	assert_rejects(NET("a") "uplink: eth0\n---\n" NET("b") "uplink: eth0\n",
	    7, 9,
	    "uplink: \"eth0\" is already the uplink of Network \"a\" "
	    "(test.yaml:3:9)");
	assert_loads(NET("a") "uplink: eth0\n---\n" NET("b") "uplink: eth1\n");
}

static void
test_uplink_vlan_unique(void **state)
{
	(void)state;
	assert_rejects(NET("a") "uplink: eth0\nvlan: 20\n---\n" NET(
	                   "b") "uplink: eth0\nvlan: 20\n",
	    8, 9,
	    "uplink: \"eth0\" vlan 20 is already the uplink of Network "
	    "\"a\" (test.yaml:3:9)");
	assert_loads(NET("a") "uplink: eth0\nvlan: 20\n---\n" NET(
	    "b") "uplink: eth0\nvlan: 30\n");
	assert_loads(
	    NET("a") "uplink: eth0\n---\n" NET("b") "uplink: eth0\nvlan: 30\n");
}

/* ---- NICs and MACs ---------------------------------------------------- */

#define NIC_MAC(mac)                                                           \
	"nics:\n  - network: n\n    mac: \"" mac "\"\n---\n" NET("n")

static void
test_mac_syntax(void **state)
{
	(void)state;
	assert_rejects(VM("a") NIC_MAC("00:16:3e:00:00"), 7, 10,
	    "nics[0].mac: \"00:16:3e:00:00\" is invalid: expected a MAC "
	    "address such as 00:16:3e:00:00:01");
	assert_loads(VM("a") NIC_MAC("00:16:3e:00:00:01"));
	assert_loads(VM("a") NIC_MAC("00:16:3E:AA:00:01"));
}

static void
test_mac_must_be_unicast(void **state)
{
	(void)state;
	assert_rejects(VM("a") NIC_MAC("01:16:3e:00:00:01"), 7, 10,
	    "nics[0].mac: \"01:16:3e:00:00:01\" is a multicast address");
	assert_loads(VM("a") NIC_MAC("02:16:3e:00:00:01"));
}

static void
test_mac_must_not_be_zero(void **state)
{
	(void)state;
	assert_rejects(VM("a") NIC_MAC("00:00:00:00:00:00"), 7, 10,
	    "nics[0].mac: \"00:00:00:00:00:00\" is the all-zero address");
	assert_loads(VM("a") NIC_MAC("00:00:00:00:00:01"));
}

static void
test_mac_unique(void **state)
{
	(void)state;
	assert_rejects(
	    VM("a") "nics: [{network: n, mac: \"00:16:3e:00:00:01\"}]\n"
	            "---\n" VM("b") "nics: [{network: n, mac: "
	                            "\"00:16:3E:00:00:01\"}]\n"
	                            "---\n" NET("n"),
	    11, 26,
	    "nics[0].mac: 00:16:3e:00:00:01 is already the MAC of VM "
	    "\"a\" (test.yaml:5:26)");
	assert_rejects(VM("a") "nics:\n"
	                       "  - {network: n, mac: \"00:16:3e:00:00:01\"}\n"
	                       "  - {network: n, mac: \"00:16:3e:00:00:01\"}\n"
	                       "---\n" NET("n"),
	    7, 23,
	    "nics[1].mac: 00:16:3e:00:00:01 is already the MAC of VM "
	    "\"a\" (test.yaml:6:23)");
	assert_loads(VM(
	    "a") "nics: [{network: n, mac: \"00:16:3e:00:00:01\"}]\n"
	         "---\n" VM(
	             "b") "nics: [{network: n, mac: \"00:16:3e:00:00:02\"}]\n"
	                  "---\n" NET("n"));
}

/*
 * "vm-91" and "vm-1162" hash to the same derived MAC for their first NIC,
 * 00:16:3e:1f:6a:c2 (24 bits of hash collide among a few thousand names).
 */
static const uint8_t collision[6] = { 0x00, 0x16, 0x3e, 0x1f, 0x6a, 0xc2 };

static void
test_derived_mac_avoids_declared(void **state)
{
	struct xdc_config *cfg;
	struct xdc_diags *d;
	const struct xdc_vm *vm;
	uint8_t m[6];

	(void)state;
	xdc_mac_derive("vm-91", 0, m);
	assert_memory_equal(m, collision, 6);
	d = load_string(VM("vm-91") "nics: [{network: n}]\n---\n" VM(
	                    "b") "nics: [{network: n, "
	                         "mac: \"00:16:3e:1f:6a:c2\"}]\n"
	                         "---\n" NET("n"),
	    &cfg);
	assert_no_diags(d);
	assert_memory_equal(
	    xdc_config_vm(cfg, "b")->vm_nics[0].nic_mac, collision, 6);
	vm = xdc_config_vm(cfg, "vm-91");
	assert_memory_not_equal(vm->vm_nics[0].nic_mac, collision, 6);
	assert_memory_equal(vm->vm_nics[0].nic_mac, collision, 3);
	xdc_config_free(cfg);
	xdc_diags_free(d);
}

static void
test_derived_macs_avoid_each_other(void **state)
{
	struct xdc_config *cfg;
	struct xdc_diags *d;
	const struct xdc_vm *a, *b;
	uint8_t m[6];

	(void)state;
	xdc_mac_derive("vm-1162", 0, m);
	assert_memory_equal(m, collision, 6);
	d = load_string(VM("vm-91") "nics: [{network: n}]\n---\n" VM(
	                    "vm-1162") "nics: [{network: n}]\n---\n" NET("n"),
	    &cfg);
	assert_no_diags(d);
	a = xdc_config_vm(cfg, "vm-91");
	b = xdc_config_vm(cfg, "vm-1162");
	assert_memory_not_equal(
	    a->vm_nics[0].nic_mac, b->vm_nics[0].nic_mac, 6);
	/* The first in name order keeps its hash; the other steps on. */
	assert_memory_equal(b->vm_nics[0].nic_mac, collision, 6);
	xdc_config_free(cfg);
	xdc_diags_free(d);
}

/* ---- Disks ------------------------------------------------------------ */

static void
test_disk_vdev_syntax(void **state)
{
	static const char *const bad[] = { "xvd", "vda", "nvme0n1", "xvda123",
		"xvdabcd", "XVDA", "xvd1", "sd" };
	static const char *const good[] = { "xvda", "xvdzz", "xvdabc", "hdb",
		"sdc", "xvda1", "sda12" };
	char yaml[256], msg[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(yaml, sizeof(yaml),
		    VM("a") "disks: [{target: /d, vdev: %s}]\n", bad[i]);
		snprintf(msg, sizeof(msg),
		    "disks[0].vdev: \"%s\" is not a virtual disk name", bad[i]);
		assert_rejects(yaml, 5, 28, msg);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(yaml, sizeof(yaml),
		    VM("a") "disks: [{target: /d, vdev: %s}]\n", good[i]);
		assert_loads(yaml);
	}
}

static void
test_disk_vdev_unique(void **state)
{
	(void)state;
	assert_rejects(VM("a") "disks:\n  - {target: /a, vdev: xvda}\n"
	                       "  - {target: /b, vdev: xvda}\n",
	    7, 24, "disks[1].vdev: \"xvda\" is already used by disks[0]");
	/* The first disk's default is xvda. */
	assert_rejects(VM("a") "disks:\n  - {target: /a}\n"
	                       "  - {target: /b, vdev: xvda}\n",
	    7, 24, "disks[1].vdev: \"xvda\" is already used by disks[0]");
	assert_loads(VM("a") "disks:\n  - {target: /a}\n"
	                     "  - {target: /b, vdev: xvdc}\n");
}

static void
test_disk_default_vdev_unique(void **state)
{
	(void)state;
	/* The second disk's default is xvdb, which the first one took. */
	assert_rejects(VM("a") "disks:\n  - {target: /a, vdev: xvdb}\n"
	                       "  - {target: /b}\n",
	    7, 14,
	    "disks[1].vdev: the default \"xvdb\" is already used by "
	    "disks[0]; set \"vdev\"");
	assert_loads(VM("a") "disks:\n  - {target: /a, vdev: xvdb}\n"
	                     "  - {target: /b, vdev: xvdc}\n");
	assert_loads(VM("a") "disks:\n  - {target: /a, vdev: xvdc}\n"
	                     "  - {target: /b}\n");
}

/* ---- SLAs ------------------------------------------------------------- */

static void
test_two_slas_setting_one_field_rejected(void **state)
{
	(void)state;
	/* Named at the later declaration, whatever the names' order. */
	assert_rejects(
	    VM("web") "labels: {tier: web}\n"
	              "---\n"
	              "kind: SLA\nname: silver\nselector: {tier: web}\n"
	              "cpu: {weight: 512}\n"
	              "---\n"
	              "kind: SLA\nname: gold\nselector: {}\n"
	              "cpu: {weight: 256}\n",
	    15, 15,
	    "cpu.weight: SLA \"gold\" and SLA \"silver\" (test.yaml:10:15) "
	    "both "
	    "set cpu.weight for VM \"web\"");
	assert_loads(
	    VM("web") "labels: {tier: web}\n"
	              "---\n"
	              "kind: SLA\nname: silver\nselector: {tier: web}\n"
	              "cpu: {weight: 512}\n"
	              "---\n"
	              "kind: SLA\nname: gold\nselector: {}\n"
	              "cpu: {cap: 50}\n");
}

static void
test_two_slas_conflict_counts_vms(void **state)
{
	(void)state;
	assert_rejects(VM("a") "---\n" VM("b") "---\n" VM(
	                   "c") "---\n"
	                        "kind: SLA\nname: s\nselector: {}\n"
	                        "availability: {restart: never}\n"
	                        "---\n"
	                        "kind: SLA\nname: t\nselector: {}\n"
	                        "availability: {restart: always}\n",
	    24, 25,
	    "availability.restart: SLA \"t\" and SLA \"s\" (test.yaml:19:25) "
	    "both set availability.restart for VM \"a\" and 2 other VMs");
}

static void
test_two_slas_disjoint_selectors_accepted(void **state)
{
	(void)state;
	assert_loads(
	    VM("web") "labels: {tier: web, app: shop}\n"
	              "---\n"
	              "kind: SLA\nname: s\nselector: {tier: web, app: shop}\n"
	              "cpu: {weight: 512}\n"
	              "---\n"
	              "kind: SLA\nname: t\nselector: {tier: web, app: blog}\n"
	              "cpu: {weight: 256}\n"
	              "---\n"
	              "kind: SLA\nname: u\nselector: {tier: db}\n"
	              "cpu: {weight: 128}\n");
}

static void
test_selector_needs_every_pair(void **state)
{
	(void)state;
	/* "t" selects no VM: x lacks tier=web, y and z lack app=blog. */
	assert_loads(VM(
	    "x") "labels: {app: blog}\n"
	         "---\n" VM("y") "labels: {tier: web, app: shop}\n"
	                         "---\n" VM(
	                             "z") "labels: {tier: web, app: shop}\n"
	                                  "---\nkind: SLA\nname: s\nselector: "
	                                  "{app: blog}\n"
	                                  "cpu: {weight: 512}\n"
	                                  "---\nkind: SLA\nname: t\n"
	                                  "selector: {tier: web, app: blog}\n"
	                                  "cpu: {weight: 256}\n");
	assert_rejects(
	    VM("x") "labels: {app: blog, tier: web}\n"
	            "---\nkind: SLA\nname: s\nselector: {app: blog}\n"
	            "cpu: {weight: 512}\n"
	            "---\nkind: SLA\nname: t\n"
	            "selector: {tier: web, app: blog}\n"
	            "cpu: {weight: 256}\n",
	    15, 15, "both set cpu.weight for VM \"x\"");
}

static void
test_empty_selector_matches_every_vm(void **state)
{
	(void)state;
	/* The VM has no labels at all, and still both SLAs select it. */
	assert_rejects(VM("a") "---\n" SLA(
	                   "s") "maintenance: {window: "
	                        "\"Sat 02:00-04:00 UTC\"}\n"
	                        "---\n" SLA("t") "maintenance: {window: "
	                                         "\"Sun 02:00-04:00 UTC\"}\n",
	    14, 23,
	    "maintenance.window: SLA \"t\" and SLA \"s\" (test.yaml:9:23) both "
	    "set maintenance.window for VM \"a\"");
	assert_loads(
	    VM("a") "---\n" SLA("s") "maintenance: {window: "
	                             "\"Sat 02:00-04:00 UTC\"}\n"
	                             "---\n" SLA("t") "cpu: {weight: 3}\n");
}

static void
test_cpu_cap_at_most_100_per_vcpu(void **state)
{
	(void)state;
	assert_rejects(VM("a") "max_vcpus: 2\nlabels: {t: x}\n---\n"
	                       "kind: SLA\nname: s\nselector: {t: x}\n"
	                       "cpu: {cap: 201}\n",
	    11, 12,
	    "cpu.cap: 201% is more than VM \"a\" can use with 2 vCPUs (at "
	    "most 200%)");
	assert_loads(VM("a") "max_vcpus: 2\nlabels: {t: x}\n---\n"
	                     "kind: SLA\nname: s\nselector: {t: x}\n"
	                     "cpu: {cap: 200}\n");
	assert_loads(VM("a") "labels: {t: x}\n---\n"
	                     "kind: SLA\nname: s\nselector: {t: x}\n"
	                     "cpu: {cap: 0}\n");
}

static void
test_window_syntax(void **state)
{
	(void)state;
	assert_rejects(SLA("s") "maintenance:\n  window: \"Sat 02:00-04:00\"\n",
	    5, 11,
	    "maintenance.window: \"Sat 02:00-04:00\" is invalid: expected the "
	    "time zone \"UTC\"");
	assert_rejects(
	    SLA("s") "maintenance:\n  window: \"Sat 02:00-02:00 UTC\"\n", 5, 11,
	    "is invalid: the window is empty");
	assert_loads(
	    SLA("s") "maintenance:\n  window: \"Sat 02:00-04:00 UTC\"\n");
}

static void
test_rate_syntax(void **state)
{
	(void)state;
	assert_rejects(SLA("s") "availability:\n  restart_limit: 5/h\n", 5, 18,
	    "availability.restart_limit: \"5/h\" is invalid: expected a count "
	    "per period such as 5/1h");
	assert_rejects(SLA("s") "availability:\n  restart_limit: 0/1h\n", 5, 18,
	    "is invalid: count and period must be at least 1");
	assert_rejects(SLA("s") "availability:\n  restart_limit: 1/50000d\n", 5,
	    18, "availability.restart_limit: \"1/50000d\" is too large");
	assert_loads(SLA("s") "availability:\n  restart_limit: 5/1h\n");
}

/* ---- The text itself -------------------------------------------------- */

static void
test_syntax_error_rejected(void **state)
{
	(void)state;
	assert_rejects("kind: Host\nname: [h\n", 3, 1,
	    "syntax error: while parsing a flow sequence did not find "
	    "expected ',' or ']' (started at 2:7)");
	assert_rejects("kind: Host\n  name: h\n", 2, 7,
	    "syntax error: mapping values are not allowed in this context");
	assert_loads(HOST("h"));
}

static void
test_anchors_rejected(void **state)
{
	(void)state;
	assert_rejects(
	    HOST("h") "labels: &x {a: b}\n", 3, 9, "anchors are not allowed");
	assert_loads(HOST("h") "labels: {a: b}\n");
}

static void
test_aliases_rejected(void **state)
{
	(void)state;
	assert_rejects(
	    HOST("h") "labels: {a: *x}\n", 3, 13, "aliases are not allowed");
	assert_loads(HOST("h") "labels: {a: x}\n");
}

/* A Host whose labels hold depth - 2 nested block mappings: depth levels. */
static char *
deep_host(size_t depth)
{
	char *s = malloc(64 + depth * (depth + 4)), *p;
	size_t i;

	assert_non_null(s);
	p = s + sprintf(s, "kind: Host\nname: h\nlabels:\n");
	for (i = 1; i + 1 < depth; i++)
		p += sprintf(p, "%*sk:\n", (int)i, "");
	p += sprintf(p, "%*sk: v\n", (int)depth - 1, "");
	return s;
}

static void
test_depth_limit(void **state)
{
	char *yaml;

	(void)state;
	/* At 64 levels the only complaint is that labels are not flat. */
	yaml = deep_host(XDC_DEPTH_MAX);
	assert_rejects(
	    yaml, 5, 3, "labels.k: a label's value must be a string");
	free(yaml);
	yaml = deep_host(XDC_DEPTH_MAX + 1);
	assert_rejects(yaml, 3 + XDC_DEPTH_MAX, XDC_DEPTH_MAX + 1,
	    "the document is nested deeper than 64 levels");
	free(yaml);
}

static void
test_file_size_limit(void **state)
{
	static const char head[] = HOST("h");
	const char *name = TEST_FILE;
	size_t len = XDC_FILE_MAX + 1;
	char *buf = malloc(len);
	const char *bufs[1];
	struct xdc_config *cfg;
	struct xdc_diags *d;

	(void)state;
	assert_non_null(buf);
	memset(buf, ' ', len);
	memcpy(buf, head, sizeof(head) - 1);
	buf[len - 1] = '\n';
	bufs[0] = buf;
	d = load_buffers(&name, bufs, &len, 1, &cfg);
	assert_diag_count(d, 1);
	assert_diag(d, 0, TEST_FILE, 1, 1,
	    "the file is larger than 16 MiB (16777217 bytes)");
	xdc_diags_free(d);
	/* One byte less is read. */
	len--;
	d = load_buffers(&name, bufs, &len, 1, &cfg);
	assert_no_diags(d);
	assert_int_equal(cfg->cfg_nhosts, 1);
	xdc_config_free(cfg);
	xdc_diags_free(d);
	free(buf);
}

static void
test_utf8_required(void **state)
{
	(void)state;
	assert_rejects(HOST("h") "labels: {k: \"caf\xff\"}\n", 3, 17,
	    "the file is not valid UTF-8 (invalid leading UTF-8 octet)");
	assert_loads(HOST("h") "labels: {k: \"caf\xc3\xa9\"}\n");
}

static void
test_control_characters_rejected(void **state)
{
	(void)state;
	assert_rejects(HOST("h") "labels: {k: \"a\x01\"}\n", 3, 15,
	    "the file cannot be read as YAML (control characters are not "
	    "allowed)");
	assert_loads(HOST("h") "labels: {k: \"a\\x01\"}\n");
}

static void
test_byte_order_mark_skipped(void **state)
{
	(void)state;
	assert_loads("\xef\xbb\xbf"
	             "kind: VM\nname: a\nmemory: 1GiB\n"
	             "kernel: /k\n");
	/* Columns on line 1 count from after the mark. */
	assert_rejects("\xef\xbb\xbf"
	               "kind: Vm\nname: a\n",
	    1, 7, "unknown kind");
}

static void
test_failed_value_reported_once(void **state)
{
	(void)state;
	/* An invalid type leaves no rule guessing which type it is. */
	assert_rejects(VM_NOKERNEL("a") "type: hvm1\n", 4, 7,
	    "type: expected one of pv, pvh, hvm");
	/* An invalid uplink is not a missing one. */
	assert_rejects(
	    "kind: Network\nname: dmz\nuplink: \"eth0:1\"\nvlan: 20\n", 3, 9,
	    "uplink: \"eth0:1\" is not a valid interface name");
	/* An invalid bridge does not make the default one apply. */
	assert_rejects("kind: Network\nname: production-dmz\nbridge: br/dmz\n",
	    3, 9, "bridge: \"br/dmz\" is not a valid interface name");
}

static void
test_duplicate_network_reported_once(void **state)
{
	(void)state;
	assert_rejects(
	    "kind: Network\nname: dmz\n---\nkind: Network\nname: dmz\n", 5, 7,
	    "name: Network \"dmz\" is already declared at");
}

static void
test_label_value_null_or_nul_rejected(void **state)
{
	(void)state;
	assert_rejects(VM("a") "labels: {tier: ~}\n", 5, 16,
	    "labels.tier: a label's value must be a string, got null");
	assert_rejects(VM("a") "labels: {tier: \"w\\0b\"}\n", 5, 16,
	    "labels.tier: contains a NUL character");
}

static void
test_list_length_bounded(void **state)
{
	char *yaml = NULL, *p;
	size_t i, n = 65;

	(void)state;
	yaml = malloc(4096 + n * 32);
	p = yaml +
	    sprintf(yaml, "kind: Network\nname: n\n---\n" VM("a") "nics:\n");
	for (i = 0; i < n; i++)
		p += sprintf(p, "  - {network: n}\n");
	assert_rejects(yaml, 9, 3, "nics: at most 64 entries, got 65");
	free(yaml);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown_kind_rejected),
		cmocka_unit_test(test_kind_required),
		cmocka_unit_test(test_document_must_be_a_mapping),
		cmocka_unit_test(test_kind_twice_rejected),
		cmocka_unit_test(test_unknown_key_rejected_with_suggestion),
		cmocka_unit_test(
		    test_unknown_key_without_near_key_has_no_suggestion),
		cmocka_unit_test(test_duplicate_key_rejected),
		cmocka_unit_test(test_byte_order_mark_skipped),
		cmocka_unit_test(test_failed_value_reported_once),
		cmocka_unit_test(test_duplicate_network_reported_once),
		cmocka_unit_test(test_label_value_null_or_nul_rejected),
		cmocka_unit_test(test_list_length_bounded),
		cmocka_unit_test(test_key_must_be_a_string),
		cmocka_unit_test(test_null_key_value_is_absent_not_missing),
		cmocka_unit_test(test_mapping_expected),
		cmocka_unit_test(test_list_expected),
		cmocka_unit_test(test_list_element_must_be_a_mapping),
		cmocka_unit_test(test_scalar_expected),
		cmocka_unit_test(test_number_must_be_plain_digits),
		cmocka_unit_test(test_bool_must_be_core_form),
		cmocka_unit_test(test_enum_must_be_listed),
		cmocka_unit_test(test_labels_must_be_a_mapping_of_strings),
		cmocka_unit_test(test_duplicate_label_rejected),
		cmocka_unit_test(test_tags_rejected),
		cmocka_unit_test(test_paths_must_be_absolute),
		cmocka_unit_test(test_nul_in_string_rejected),
		cmocka_unit_test(test_vcpus_range),
		cmocka_unit_test(test_max_vcpus_range),
		cmocka_unit_test(test_host_cpus_range),
		cmocka_unit_test(test_vlan_range),
		cmocka_unit_test(test_mtu_range),
		cmocka_unit_test(test_cpu_weight_range),
		cmocka_unit_test(test_cpu_cap_range),
		cmocka_unit_test(test_min_running_range),
		cmocka_unit_test(test_min_running_above_selected_vms),
		cmocka_unit_test(test_host_failures_range),
		cmocka_unit_test(test_size_must_use_binary_units),
		cmocka_unit_test(test_host_memory_at_least_1mib),
		cmocka_unit_test(test_vm_memory_at_least_1mib),
		cmocka_unit_test(test_vm_memory_whole_kib),
		cmocka_unit_test(test_vm_memory_at_most_max_memory),
		cmocka_unit_test(test_vm_vcpus_at_most_max_vcpus),
		cmocka_unit_test(test_kernel_required_for_pv_and_pvh),
		cmocka_unit_test(test_invalid_kernel_is_not_missing),
		cmocka_unit_test(test_ramdisk_needs_kernel),
		cmocka_unit_test(test_cmdline_needs_kernel),
		cmocka_unit_test(test_name_must_be_dns_label),
		cmocka_unit_test(test_name_required),
		cmocka_unit_test(test_duplicate_names_within_each_kind),
		cmocka_unit_test(test_same_name_in_different_kinds_accepted),
		cmocka_unit_test(test_nic_network_must_exist),
		cmocka_unit_test(test_vm_host_must_exist),
		cmocka_unit_test(test_host_local_only_without_hosts),
		cmocka_unit_test(test_drained_host_gets_no_pinned_vm),
		cmocka_unit_test(test_pinned_vm_vcpus_at_most_host_cpus),
		cmocka_unit_test(test_bridge_at_most_15_chars),
		cmocka_unit_test(test_default_bridge_at_most_15_chars),
		cmocka_unit_test(test_uplink_must_be_interface_name),
		cmocka_unit_test(test_vlan_needs_uplink),
		cmocka_unit_test(test_bridge_unique),
		cmocka_unit_test(test_uplink_unique),
		cmocka_unit_test(test_uplink_vlan_unique),
		cmocka_unit_test(test_mac_syntax),
		cmocka_unit_test(test_mac_must_be_unicast),
		cmocka_unit_test(test_mac_must_not_be_zero),
		cmocka_unit_test(test_mac_unique),
		cmocka_unit_test(test_derived_mac_avoids_declared),
		cmocka_unit_test(test_derived_macs_avoid_each_other),
		cmocka_unit_test(test_disk_vdev_syntax),
		cmocka_unit_test(test_disk_vdev_unique),
		cmocka_unit_test(test_disk_default_vdev_unique),
		cmocka_unit_test(test_two_slas_setting_one_field_rejected),
		cmocka_unit_test(test_two_slas_conflict_counts_vms),
		cmocka_unit_test(test_two_slas_disjoint_selectors_accepted),
		cmocka_unit_test(test_selector_needs_every_pair),
		cmocka_unit_test(test_empty_selector_matches_every_vm),
		cmocka_unit_test(test_cpu_cap_at_most_100_per_vcpu),
		cmocka_unit_test(test_window_syntax),
		cmocka_unit_test(test_rate_syntax),
		cmocka_unit_test(test_syntax_error_rejected),
		cmocka_unit_test(test_anchors_rejected),
		cmocka_unit_test(test_aliases_rejected),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_file_size_limit),
		cmocka_unit_test(test_utf8_required),
		cmocka_unit_test(test_control_characters_rejected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
