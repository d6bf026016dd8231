/*
 * xdc import (reconciler/import.c, import_xl.c): xl configuration files and
 * observed domains into VMs, the Networks their NICs need, the warnings for
 * what a VM cannot say, and YAML that loads back as what was imported.
 *
 * The xl files are fixtures under tests/data/xl/; tests run from the
 * repository's root (tests/run-unit).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "drivers/driver.h"
#include "reconciler/import.h"
#include "base/arena.h"
#include "base/error.h"
#include "schema/schema.h"

#define MIB (1024ULL * 1024)
#define GIB (1024 * MIB)
#define XL  "tests/data/xl/"

static const struct xdc_vm *
vm_named(const struct import_set *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->is_nvms; i++)
		if (!strcmp(s->is_vms[i].vm_name, name))
			return &s->is_vms[i];
	fail_msg("no VM %s was imported", name);
	return NULL;
}

static int
warned(const struct import_set *s, const char *sub)
{
	size_t i;

	for (i = 0; i < s->is_nwarn; i++)
		if (strstr(s->is_warn[i], sub) != NULL)
			return 1;
	return 0;
}

#define assert_warned(s, sub)                                                  \
	do {                                                                   \
		if (!warned(s, sub)) {                                         \
			import_print_warnings(s, stderr);                      \
			fail_msg("no warning has \"%s\"", sub);                \
		}                                                              \
	} while (0)

/* A configuration from YAML text; it must be valid. */
static struct xdc_config *
load(const char *yaml)
{
	struct xdc_diags *diags = xdc_diags_new();
	struct schema_loader *sl = schema_loader_new("cfg", diags);
	struct xdc_config *cfg = NULL;

	schema_loader_add(sl, "cfg/x.yaml", yaml, strlen(yaml));
	if (schema_loader_finish(sl, &cfg) != 0) {
		xdc_diags_print(diags, stderr);
		fail_msg("the configuration does not load");
	}
	xdc_diags_free(diags);
	return cfg;
}

/* The set rendered as YAML and loaded again with xdc's own loader. */
static struct xdc_config *
round_trip(const struct import_set *s)
{
	struct xdc_config *cfg;
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);

	assert_non_null(fp);
	assert_int_equal(import_emit(s, IMPORT_ALL, fp), 0);
	fclose(fp);
	cfg = load(text);
	free(text);
	return cfg;
}

/* ---- xl files --------------------------------------------------------- */

static void
test_xl_pv_guest_maps_every_key(void **state)
{
	struct import_set *s = import_set_new(NULL);
	const struct xdc_vm *vm;

	(void)state;
	assert_int_equal(import_xl_file(s, XL "web-1.cfg"), 0);
	assert_int_equal(s->is_nvms, 1);
	vm = vm_named(s, "web-1");
	assert_int_equal(vm->vm_type, XDC_VM_PV);
	assert_true(vm->vm_memory == 512 * MIB);
	assert_true(vm->vm_max_memory == GIB);
	assert_int_equal(vm->vm_vcpus, 2);
	assert_int_equal(vm->vm_max_vcpus, 4);
	assert_string_equal(vm->vm_kernel, "/boot/vmlinuz");
	assert_string_equal(vm->vm_ramdisk, "/boot/initrd.img");
	/* xl's root and extra, as xl puts them together. */
	assert_string_equal(vm->vm_cmdline, "root=/dev/xvda1 ro console=hvc0");
	assert_int_equal(vm->vm_ndisks, 2);
	assert_string_equal(vm->vm_disks[0].d_target, "/dev/vg0/web-1");
	assert_string_equal(vm->vm_disks[0].d_vdev, "xvda");
	assert_int_equal(vm->vm_disks[0].d_format, XDC_DISK_RAW);
	assert_false(vm->vm_disks[0].d_readonly);
	assert_string_equal(
	    vm->vm_disks[1].d_target, "/var/lib/xen/web-1-data.qcow2");
	assert_int_equal(vm->vm_disks[1].d_format, XDC_DISK_QCOW2);
	assert_true(vm->vm_disks[1].d_readonly);
	assert_int_equal(vm->vm_nnics, 2);
	assert_int_equal(vm->vm_nics[0].nic_mac[5], 1);
	assert_true(vm->vm_nics[0].nic_set & (1u << NIC_F_MAC));
	/* No mac=: xdc derives one, as for any NIC declared without. */
	assert_false(vm->vm_nics[1].nic_set & (1u << NIC_F_MAC));
	assert_true(vm->vm_adopt);
	import_set_free(s);
}

static void
test_xl_keys_xdc_cannot_express_are_warned_with_their_line(void **state)
{
	struct import_set *s = import_set_new(NULL);

	(void)state;
	assert_int_equal(import_xl_file(s, XL "web-1.cfg"), 0);
	assert_warned(s, XL "web-1.cfg:15: warning: uuid: dropped");
	assert_warned(s, XL "web-1.cfg:16: warning: on_crash: dropped");
	assert_int_equal(s->is_nwarn, 2);
	assert_int_equal(import_xl_file(s, XL "db-1.cfg"), 0);
	/* Two keys on one line, split by ';'. */
	assert_warned(s, XL "db-1.cfg:8: warning: sdl: dropped");
	assert_warned(s, XL "db-1.cfg:8: warning: serial: dropped");
	assert_warned(s, XL "db-1.cfg:7: warning: vif: [0] model=e1000");
	assert_warned(s, XL "db-1.cfg:7: warning: vif: [0] ip=10.0.0.5");
	assert_warned(s, XL "db-1.cfg:6: warning: disk: [1]");
	assert_warned(s, "CD-ROM");
	import_set_free(s);
}

static void
test_xl_builder_hvm_and_dropped_cdrom(void **state)
{
	struct import_set *s = import_set_new(NULL);
	const struct xdc_vm *vm;

	(void)state;
	assert_int_equal(import_xl_file(s, XL "db-1.cfg"), 0);
	vm = vm_named(s, "db-1");
	assert_int_equal(vm->vm_type, XDC_VM_HVM);
	assert_null(vm->vm_kernel);
	assert_int_equal(vm->vm_ndisks, 1);
	assert_string_equal(vm->vm_disks[0].d_vdev, "hda");
	assert_int_equal(vm->vm_nnics, 1);
	assert_true(vm->vm_memory == GIB);
	assert_false(vm->vm_set & (1u << VM_F_MAX_MEMORY));
	import_set_free(s);
}

static void
test_xl_unparsable_or_nameless_file_is_an_error(void **state)
{
	struct import_set *s = import_set_new(NULL);

	(void)state;
	assert_int_equal(import_xl_file(s, XL "broken.cfg"), XDC_ERR);
	assert_non_null(strstr(xdc_error_last(), "broken.cfg:2"));
	assert_int_equal(import_xl_file(s, XL "noname.cfg"), XDC_ERR);
	assert_non_null(strstr(xdc_error_last(), "no name"));
	assert_int_equal(import_xl_file(s, XL "absent.cfg"), XDC_ERR);
	assert_int_equal(s->is_nvms, 0);
	/* One name once: a second file of the same domain is refused. */
	assert_int_equal(import_xl_file(s, XL "web-1.cfg"), 0);
	assert_int_equal(import_xl_file(s, XL "web-1.cfg"), XDC_ERR);
	assert_int_equal(s->is_nvms, 1);
	import_set_free(s);
}

/*
 * What is not a regular file is refused at once: a FIFO without a writer
 * blocked fopen() forever. SIGALRM's default action ends a test that
 * blocks. Past 16 MiB, a file is not read.
 */
static void
test_xl_fifo_or_huge_file_is_refused(void **state)
{
	struct import_set *s = import_set_new(NULL);
	char dir[] = "/tmp/xdc-test-import.XXXXXX", path[64];
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fifo.cfg", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	alarm(10);
	assert_int_equal(import_xl_file(s, path), XDC_ERR);
	alarm(0);
	assert_non_null(strstr(xdc_error_last(), "is a FIFO"));
	unlink(path);
	snprintf(path, sizeof(path), "%s/huge.cfg", dir);
	assert_true((fd = open(path, O_WRONLY | O_CREAT, 0600)) >= 0);
	assert_int_equal(ftruncate(fd, 17 * MIB), 0);
	close(fd);
	assert_int_equal(import_xl_file(s, path), XDC_ERR);
	assert_non_null(strstr(xdc_error_last(), "larger than 16 MiB"));
	unlink(path);
	rmdir(dir);
	assert_int_equal(s->is_nvms, 0);
	import_set_free(s);
}

static void
test_xl_bootloader_is_dropped_and_kernel_asked_for(void **state)
{
	struct import_set *s = import_set_new(NULL);

	(void)state;
	assert_int_equal(import_xl_file(s, XL "pygrub.cfg"), 0);
	assert_warned(s, XL "pygrub.cfg:3: warning: bootloader: dropped");
	/* No kernel key: the warning names the file alone. */
	assert_warned(s, XL "pygrub.cfg: warning: kernel: a pv VM boots");
	assert_null(vm_named(s, "legacy")->vm_kernel);
	import_set_free(s);
}

/* ---- Networks --------------------------------------------------------- */

static void
test_bridges_without_network_get_documents(void **state)
{
	struct import_set *s = import_set_new(NULL);
	const struct xdc_vm *vm;

	(void)state;
	assert_int_equal(import_xl_file(s, XL "web-1.cfg"), 0);
	assert_int_equal(import_xl_file(s, XL "db-1.cfg"), 0);
	/* xenbr0 once for both VMs; xdc-dmz is xdc's default for "dmz". */
	assert_int_equal(s->is_nnets, 2);
	assert_string_equal(s->is_nets[0].n_name, "xenbr0");
	assert_string_equal(s->is_nets[0].n_bridge, "xenbr0");
	assert_true(s->is_nets[0].n_set & (1u << NET_F_BRIDGE));
	assert_string_equal(s->is_nets[1].n_name, "dmz");
	assert_false(s->is_nets[1].n_set & (1u << NET_F_BRIDGE));
	vm = vm_named(s, "web-1");
	assert_string_equal(vm->vm_nics[0].nic_network, "xenbr0");
	assert_string_equal(vm->vm_nics[1].nic_network, "dmz");
	assert_string_equal(
	    vm_named(s, "db-1")->vm_nics[0].nic_network, "xenbr0");
	import_set_free(s);
}

static void
test_bridge_of_a_declared_network_names_it(void **state)
{
	struct xdc_config *cfg = load("kind: Network\nname: lan\n"
	                              "bridge: xenbr0\n---\n"
	                              "kind: Network\nname: xenbr0-2\n");
	struct import_set *s = import_set_new(cfg);

	(void)state;
	assert_int_equal(import_xl_file(s, XL "web-1.cfg"), 0);
	assert_string_equal(
	    vm_named(s, "web-1")->vm_nics[0].nic_network, "lan");
	/* Only xdc-dmz is new. */
	assert_int_equal(s->is_nnets, 1);
	assert_string_equal(s->is_nets[0].n_bridge, "xdc-dmz");
	/* A name the configuration has is not taken twice. */
	assert_string_equal(import_network_for(s, "xenbr0-2"), "xenbr0-2-2");
	assert_string_equal(import_network_for(s, "Br.Ext"), "br-ext");
	import_set_free(s);
	xdc_config_free(cfg);
}

static void
test_declared_vm_is_not_imported_again(void **state)
{
	struct xdc_config *cfg = load("kind: VM\nname: web-1\nmemory: 1GiB\n"
	                              "kernel: /k\n");
	struct import_set *s = import_set_new(cfg);

	(void)state;
	assert_int_equal(import_xl_file(s, XL "web-1.cfg"), XDC_ERR);
	assert_non_null(strstr(xdc_error_last(), "declared or imported"));
	assert_null(import_add_vm(s, "web-1"));
	import_set_free(s);
	xdc_config_free(cfg);
}

/* ---- YAML ------------------------------------------------------------- */

static void
test_yaml_loads_back_as_imported(void **state)
{
	struct import_set *s = import_set_new(NULL);
	const struct xdc_vm *vm, *want;
	struct xdc_config *cfg;
	size_t i;

	(void)state;
	assert_int_equal(import_xl_file(s, XL "web-1.cfg"), 0);
	assert_int_equal(import_xl_file(s, XL "db-1.cfg"), 0);
	cfg = round_trip(s);
	assert_int_equal(cfg->cfg_nvms, 2);
	assert_int_equal(cfg->cfg_nnetworks, 2);
	assert_string_equal(
	    xdc_config_network(cfg, "dmz")->n_bridge, "xdc-dmz");
	for (i = 0; i < s->is_nvms; i++) {
		want = &s->is_vms[i];
		vm = xdc_config_vm(cfg, want->vm_name);
		assert_non_null(vm);
		assert_int_equal(vm->vm_type, want->vm_type);
		assert_true(vm->vm_memory == want->vm_memory);
		assert_true(vm->vm_max_memory == want->vm_max_memory);
		assert_int_equal(vm->vm_vcpus, want->vm_vcpus);
		assert_int_equal(vm->vm_max_vcpus, want->vm_max_vcpus);
		assert_int_equal(vm->vm_ndisks, want->vm_ndisks);
		assert_int_equal(vm->vm_nnics, want->vm_nnics);
		assert_true(vm->vm_adopt);
	}
	vm = xdc_config_vm(cfg, "web-1");
	assert_string_equal(vm->vm_cmdline, "root=/dev/xvda1 ro console=hvc0");
	assert_int_equal(vm->vm_disks[1].d_format, XDC_DISK_QCOW2);
	assert_true(vm->vm_disks[1].d_readonly);
	assert_int_equal(vm->vm_nics[0].nic_mac[5], 1);
	xdc_config_free(cfg);
	import_set_free(s);
}

/* A command line that plain YAML would misread comes back as written. */
static void
test_yaml_quotes_what_needs_it(void **state)
{
	struct import_set *s = import_set_new(NULL);
	struct xdc_config *cfg;
	struct xdc_vm *vm;

	(void)state;
	vm = import_add_vm(s, "odd");
	vm->vm_memory = vm->vm_max_memory = 64 * MIB;
	vm->vm_kernel = "/boot/vmlinuz #1";
	vm->vm_cmdline = "key: value, [x] 'q' \"dq\" #no-comment";
	cfg = round_trip(s);
	assert_string_equal(cfg->cfg_vms[0].vm_kernel, "/boot/vmlinuz #1");
	assert_string_equal(cfg->cfg_vms[0].vm_cmdline,
	    "key: value, [x] 'q' \"dq\" #no-comment");
	xdc_config_free(cfg);
	import_set_free(s);
}

/* ---- Observed domains ------------------------------------------------- */

static struct xdc_obs_domain *
obs_dom(struct xdc_obs_host *h, size_t i, const char *name, uint32_t domid)
{
	struct xdc_obs_domain *d = &h->oh_domains[i];

	d->od_name = name;
	d->od_domid = domid;
	d->od_memory = d->od_max_memory = 256 * MIB;
	d->od_vcpus = d->od_max_vcpus = 1;
	d->od_weight = XDC_DEFAULT_WEIGHT;
	return d;
}

static void
test_observed_unmanaged_domains_only(void **state)
{
	struct xdc_observed *obs = xdc_observed_new();
	struct import_set *s = import_set_new(NULL);
	struct xdc_obs_host *h;
	struct xdc_obs_domain *d;
	const struct xdc_vm *vm;
	static uint8_t mac[6] = { 0x00, 0x16, 0x3e, 0xaa, 0xbb, 0xcc };
	static struct xdc_obs_nic nic = { "xenbr0", { 0 } };

	(void)state;
	memcpy(nic.on_mac, mac, 6);
	obs->obs_nhosts = 1;
	obs->obs_hosts = xdc_arena_zalloc(obs->obs_arena, sizeof(*h));
	h = &obs->obs_hosts[0];
	h->oh_name = "xen-a";
	h->oh_ndomains = 6;
	h->oh_domains =
	    xdc_arena_zalloc(obs->obs_arena, 6 * sizeof(*h->oh_domains));
	obs_dom(h, 0, "Domain-0", 0);
	obs_dom(h, 1, "Web_1", 3); /* not a DNS label */
	d = obs_dom(h, 2, "app", 4);
	d->od_max_memory = 512 * MIB;
	d->od_vcpus = 2;
	d->od_max_vcpus = 4;
	d->od_state = XDC_DOM_PAUSED;
	d->od_weight = 512;
	d->od_nnics = 1;
	d->od_nics = &nic;
	obs_dom(h, 3, "mine", 5)->od_managed = 1;
	obs_dom(h, 4, "web-1-dm", 6)->od_stub = 1;
	obs_dom(h, 5, "crashed", 7)->od_state = XDC_DOM_CRASHED;

	assert_int_equal(import_observed(s, obs), 2);
	vm = vm_named(s, "app");
	assert_string_equal(vm->vm_host, "xen-a");
	assert_true(vm->vm_memory == 256 * MIB);
	assert_true(vm->vm_max_memory == 512 * MIB);
	assert_int_equal(vm->vm_vcpus, 2);
	assert_int_equal(vm->vm_max_vcpus, 4);
	assert_int_equal(vm->vm_state, XDC_VM_PAUSED);
	assert_int_equal(vm->vm_type, XDC_VM_HVM);
	assert_int_equal(vm->vm_nnics, 1);
	assert_string_equal(vm->vm_nics[0].nic_network, "xenbr0");
	assert_memory_equal(vm->vm_nics[0].nic_mac, mac, 6);
	assert_true(vm->vm_adopt);
	vm_named(s, "crashed");
	assert_warned(s, "domain Web_1 on host xen-a: not imported");
	assert_warned(s, "domain app on host xen-a: cpu weight 512");
	assert_warned(s, "domain app on host xen-a: the driver cannot tell");
	assert_warned(s, "domain crashed on host xen-a: it is crashed");
	assert_false(warned(s, "Domain-0"));
	assert_false(warned(s, "mine"));
	assert_false(warned(s, "web-1-dm"));
	import_set_free(s);
	xdc_observed_free(obs);
}

#define T(fn) cmocka_unit_test(fn)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_xl_pv_guest_maps_every_key),
		T(test_xl_keys_xdc_cannot_express_are_warned_with_their_line),
		T(test_xl_builder_hvm_and_dropped_cdrom),
		T(test_xl_unparsable_or_nameless_file_is_an_error),
		T(test_xl_fifo_or_huge_file_is_refused),
		T(test_xl_bootloader_is_dropped_and_kernel_asked_for),
		T(test_bridges_without_network_get_documents),
		T(test_bridge_of_a_declared_network_names_it),
		T(test_declared_vm_is_not_imported_again),
		T(test_yaml_loads_back_as_imported),
		T(test_yaml_quotes_what_needs_it),
		T(test_observed_unmanaged_domains_only),
	};

	return cmocka_run_group_tests_name(
	    "reconciler/import", tests, NULL, NULL);
}
