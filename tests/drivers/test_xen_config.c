/*
 * The xen driver's translations (drivers/xen_config.c), without Xen: a
 * declared VM into libxl_domain_config field by field, Xen's records into
 * observed state, the name-based UUID and the ownership marker. libxl's
 * types are only initialised, filled, serialised and disposed here, which
 * needs no libxl context and no hypervisor.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/xen_config.h" /* first: xenctrl.h before libxl.h */

#include "drivers/driver.h"
#include "base/arena.h"
#include "base/error.h"
#include "schema/model.h"

#define MIB  (1024ULL * 1024)
#define PAGE 4096ULL

/* A VM with two disks and two NICs, as the planner hands it over. */
struct tvm {
	struct xdc_vm vm;
	struct xdc_disk disks[2];
	struct xdc_nic nics[2];
	const char *bridges[2];
	struct xdc_dom_spec spec;
	libxl_domain_config dc;
};

static int
setup(void **state)
{
	struct tvm *t = calloc(1, sizeof(*t));
	static const uint8_t mac0[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, 0x01 };
	static const uint8_t mac1[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, 0x02 };

	t->vm.vm_name = "web-1";
	t->vm.vm_type = XDC_VM_PV;
	t->vm.vm_memory = 96 * MIB;
	t->vm.vm_max_memory = 128 * MIB;
	t->vm.vm_vcpus = 2;
	t->vm.vm_max_vcpus = 4;
	t->vm.vm_kernel = "/boot/vmlinux";
	t->vm.vm_ramdisk = "/boot/initrd.img";
	t->vm.vm_cmdline = "console=hvc0 quiet";
	t->disks[0].d_target = "/dev/vg0/web-1";
	t->disks[0].d_vdev = "xvda";
	t->disks[0].d_format = XDC_DISK_RAW;
	t->disks[1].d_target = "/srv/web-1-data.qcow2";
	t->disks[1].d_vdev = "xvdb";
	t->disks[1].d_format = XDC_DISK_QCOW2;
	t->disks[1].d_readonly = 1;
	t->vm.vm_disks = t->disks;
	t->vm.vm_ndisks = 2;
	memcpy(t->nics[0].nic_mac, mac0, 6);
	memcpy(t->nics[1].nic_mac, mac1, 6);
	t->nics[0].nic_network = "dmz";
	t->nics[1].nic_network = "backend";
	t->bridges[0] = "xdc-dmz";
	t->bridges[1] = "xdc-backend";
	t->vm.vm_nics = t->nics;
	t->vm.vm_nnics = 2;
	t->spec.ds_vm = &t->vm;
	t->spec.ds_bridges = t->bridges;
	t->spec.ds_weight = 512;
	t->spec.ds_cap = 150;
	t->spec.ds_hash = 0x0123456789abcdefULL;
	libxl_domain_config_init(&t->dc);
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct tvm *t = *state;

	libxl_domain_config_dispose(&t->dc);
	free(t);
	return 0;
}

/* ---- Identity --------------------------------------------------------- */

static const char *
uuid_of(const char *name, char buf[XEN_UUID_BUFSZ])
{
	libxl_uuid u;

	xen_uuid_from_name(name, &u);
	return xen_uuid_fmt(libxl_uuid_bytearray(&u), buf);
}

/* The values are Python's uuid.uuid5(UUID("410c4b06-..."), name). */
static void
test_uuid_is_rfc4122_version5_of_the_name(void **state)
{
	char buf[XEN_UUID_BUFSZ];

	(void)state;
	assert_string_equal(
	    uuid_of("web-1", buf), "0dff5bc2-fdb1-56e7-b577-7258498ed9a3");
	assert_string_equal(
	    uuid_of("db-1", buf), "72f61c57-9b4b-5993-9f73-e075ed05d767");
	assert_string_equal(
	    uuid_of("a", buf), "d8c561de-8578-54ed-b31e-718618e780e9");
}

static void
test_uuid_is_stable_and_differs_by_name(void **state)
{
	char a[XEN_UUID_BUFSZ], b[XEN_UUID_BUFSZ], c[XEN_UUID_BUFSZ];
	/* 56 bytes with the namespace: SHA-1 pads into a second block. */
	const char *long_name = "a-name-long-enough-to-need-two-blocks-x";

	(void)state;
	assert_string_equal(uuid_of("web-2", a), uuid_of("web-2", b));
	assert_string_not_equal(uuid_of("web-2", a), uuid_of("web-3", c));
	assert_string_equal(uuid_of(long_name, a), uuid_of(long_name, b));
	/* Version 5, RFC 4122 variant. */
	assert_int_equal(a[14], '5');
	assert_true(strchr("89ab", a[19]) != NULL);
}

/* ---- The marker ------------------------------------------------------- */

static void
test_marker_lives_under_the_vm_path(void **state)
{
	char path[XEN_MARKER_PATHSZ];
	libxl_uuid u;

	(void)state;
	xen_uuid_from_name("web-1", &u);
	assert_string_equal(xen_marker_path(libxl_uuid_bytearray(&u), path),
	    "/vm/0dff5bc2-fdb1-56e7-b577-7258498ed9a3/xdc");
}

static void
test_marker_round_trips(void **state)
{
	struct tvm *t = *state;
	struct xen_marker mk, back;
	struct xen_marker_vals mv;

	xen_marker_from_spec(&t->spec, &mk);
	mk.mk_protect = 1;
	xen_marker_encode(&mk, &mv);
	assert_string_equal(mv.mv_v[XEN_MK_MANAGED], "1");
	assert_string_equal(mv.mv_v[XEN_MK_NAME], "web-1");
	assert_string_equal(mv.mv_v[XEN_MK_HASH], "0123456789abcdef");
	assert_string_equal(mv.mv_v[XEN_MK_PROTECT], "1");
	assert_string_equal(mv.mv_v[XEN_MK_KERNEL], "/boot/vmlinux");
	assert_int_equal(xen_marker_parse(mv.mv_v, "web-1", &back), 0);
	assert_string_equal(back.mk_name, "web-1");
	assert_true(back.mk_hash == 0x0123456789abcdefULL);
	assert_int_equal(back.mk_protect, 1);
	assert_string_equal(back.mk_kernel, "/boot/vmlinux");
	assert_string_equal(back.mk_ramdisk, "/boot/initrd.img");
	assert_string_equal(back.mk_cmdline, "console=hvc0 quiet");
}

static void
test_marker_without_a_ramdisk_leaves_the_key_out(void **state)
{
	struct tvm *t = *state;
	struct xen_marker mk, back;
	struct xen_marker_vals mv;

	t->vm.vm_ramdisk = NULL;
	xen_marker_from_spec(&t->spec, &mk);
	xen_marker_encode(&mk, &mv);
	assert_null(mv.mv_v[XEN_MK_RAMDISK]);
	assert_string_equal(mv.mv_v[XEN_MK_PROTECT], "0");
	assert_int_equal(xen_marker_parse(mv.mv_v, "web-1", &back), 0);
	assert_null(back.mk_ramdisk);
	assert_int_equal(back.mk_protect, 0);
}

static void
test_no_marker_is_not_found(void **state)
{
	const char *vals[XEN_MK__COUNT] = { NULL };
	struct xen_marker mk;

	(void)state;
	assert_int_equal(xen_marker_parse(vals, "web-1", &mk), XDC_ENOTFOUND);
}

/* A renamed domain is no longer the VM it was. */
static void
test_marker_naming_another_domain_is_not_ours(void **state)
{
	const char *vals[XEN_MK__COUNT] = { "1", "web-1", "0123456789abcdef",
		"0" };
	struct xen_marker mk;

	(void)state;
	assert_int_equal(xen_marker_parse(vals, "web-2", &mk), XDC_ENOTFOUND);
	assert_int_equal(xen_marker_parse(vals, NULL, &mk), XDC_ENOTFOUND);
	assert_int_equal(xen_marker_parse(vals, "web-1", &mk), 0);
}

static void
test_malformed_marker_is_an_error(void **state)
{
	const char *bad[][XEN_MK__COUNT] = {
		{ "0", "web-1", "0123456789abcdef", "0" },
		{ "1", NULL, "0123456789abcdef", "0" },
		{ "1", "web-1", "0123456789ABCDEF", "0" },
		{ "1", "web-1", "0123456789abcde", "0" },
		{ "1", "web-1", NULL, "0" },
		{ "1", "web-1", "0123456789abcdef", "2" },
		{ "1", "web-1", "0123456789abcdef", NULL },
	};
	struct xen_marker mk;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(
		    xen_marker_parse(bad[i], "web-1", &mk), XDC_ERR);
}

/* The scope and its times go in the ownership part an update rewrites. */
static void
test_marker_records_the_scope_and_its_times(void **state)
{
	struct tvm *t = *state;
	struct xen_marker mk, back;
	struct xen_marker_vals mv;

	t->spec.ds_scope = "mr-12";
	t->spec.ds_applied = 1790000000;
	t->spec.ds_expires = 1790172800;
	xen_marker_from_spec(&t->spec, &mk);
	xen_marker_encode(&mk, &mv);
	assert_true(XEN_MK_SCOPE < XEN_MK_OWNERSHIP);
	assert_true(XEN_MK_EXPIRES < XEN_MK_OWNERSHIP);
	assert_string_equal(mv.mv_v[XEN_MK_SCOPE], "mr-12");
	assert_string_equal(mv.mv_v[XEN_MK_APPLIED], "1790000000");
	assert_string_equal(mv.mv_v[XEN_MK_EXPIRES], "1790172800");
	assert_int_equal(xen_marker_parse(mv.mv_v, "web-1", &back), 0);
	assert_string_equal(back.mk_scope, "mr-12");
	assert_true(back.mk_applied == 1790000000);
	assert_true(back.mk_expires == 1790172800);

	/* No expiry is written as "0", so an update clears an old one. */
	t->spec.ds_expires = 0;
	xen_marker_from_spec(&t->spec, &mk);
	xen_marker_encode(&mk, &mv);
	assert_string_equal(mv.mv_v[XEN_MK_EXPIRES], "0");
}

/* A domain marked before scopes existed belongs to the default scope. */
static void
test_marker_older_than_scopes_is_the_default_scopes(void **state)
{
	const char *vals[XEN_MK__COUNT] = { "1", "web-1", "0123456789abcdef",
		"1" };
	struct xen_marker mk;

	(void)state;
	assert_int_equal(xen_marker_parse(vals, "web-1", &mk), 0);
	assert_string_equal(mk.mk_scope, XDC_SCOPE_DEFAULT);
	assert_true(mk.mk_applied == 0);
	assert_true(mk.mk_expires == 0);
	assert_int_equal(mk.mk_protect, 1);
}

static void
test_malformed_scope_keys_are_an_error(void **state)
{
	const char *vals[XEN_MK__COUNT] = { "1", "web-1", "0123456789abcdef",
		"0" };
	struct xen_marker mk;

	(void)state;
	vals[XEN_MK_SCOPE] = "Not A Name";
	assert_int_equal(xen_marker_parse(vals, "web-1", &mk), XDC_ERR);
	vals[XEN_MK_SCOPE] = "ci";
	vals[XEN_MK_APPLIED] = "-5";
	assert_int_equal(xen_marker_parse(vals, "web-1", &mk), XDC_ERR);
	vals[XEN_MK_APPLIED] = "5";
	vals[XEN_MK_EXPIRES] = "soon";
	assert_int_equal(xen_marker_parse(vals, "web-1", &mk), XDC_ERR);
	vals[XEN_MK_EXPIRES] = "0";
	assert_int_equal(xen_marker_parse(vals, "web-1", &mk), 0);
	assert_string_equal(mk.mk_scope, "ci");
}

/* ---- Desired: the VM into libxl_domain_config ------------------------- */

static void
test_config_pv_identity_memory_and_vcpus(void **state)
{
	struct tvm *t = *state;
	libxl_domain_build_info *b = &t->dc.b_info;
	char buf[XEN_UUID_BUFSZ];
	int i;

	assert_int_equal(xen_config_from_spec(&t->spec, &t->dc), 0);
	assert_int_equal(t->dc.c_info.type, LIBXL_DOMAIN_TYPE_PV);
	assert_int_equal(b->type, LIBXL_DOMAIN_TYPE_PV);
	assert_string_equal(t->dc.c_info.name, "web-1");
	assert_string_equal(
	    xen_uuid_fmt(libxl_uuid_bytearray(&t->dc.c_info.uuid), buf),
	    "0dff5bc2-fdb1-56e7-b577-7258498ed9a3");
	assert_true(b->max_memkb == 128 * 1024);
	assert_true(b->target_memkb == 96 * 1024);
	assert_int_equal(b->max_vcpus, 4);
	assert_int_equal(libxl_bitmap_count_set(&b->avail_vcpus), 2);
	for (i = 0; i < 4; i++)
		assert_int_equal(libxl_bitmap_test(&b->avail_vcpus, i), i < 2);
}

static void
test_config_boots_the_declared_kernel(void **state)
{
	struct tvm *t = *state;
	libxl_domain_build_info *b = &t->dc.b_info;

	assert_int_equal(xen_config_from_spec(&t->spec, &t->dc), 0);
	assert_string_equal(b->kernel, "/boot/vmlinux");
	assert_string_equal(b->ramdisk, "/boot/initrd.img");
	assert_string_equal(b->cmdline, "console=hvc0 quiet");
}

static void
test_config_sets_weight_and_cap(void **state)
{
	struct tvm *t = *state;
	libxl_domain_sched_params *sp = &t->dc.b_info.sched_params;

	assert_int_equal(xen_config_from_spec(&t->spec, &t->dc), 0);
	assert_int_equal(sp->weight, 512);
	assert_int_equal(sp->cap, 150);
	/* The domain's own pool says which scheduler. */
	assert_int_equal(sp->sched, LIBXL_SCHEDULER_UNKNOWN);
}

static void
test_config_weight_zero_is_xens_default_and_cap_zero_is_set(void **state)
{
	struct tvm *t = *state;
	libxl_domain_sched_params sp;

	t->spec.ds_weight = 0;
	t->spec.ds_cap = 0;
	xen_sched_from_spec(&t->spec, &sp);
	assert_int_equal(sp.weight, LIBXL_DOMAIN_SCHED_PARAM_WEIGHT_DEFAULT);
	assert_int_equal(sp.cap, 0);
	libxl_domain_sched_params_dispose(&sp);
}

static void
test_config_disks(void **state)
{
	struct tvm *t = *state;
	libxl_device_disk *d;

	assert_int_equal(xen_config_from_spec(&t->spec, &t->dc), 0);
	assert_int_equal(t->dc.num_disks, 2);
	d = &t->dc.disks[0];
	assert_string_equal(d->pdev_path, "/dev/vg0/web-1");
	assert_string_equal(d->vdev, "xvda");
	assert_int_equal(d->format, LIBXL_DISK_FORMAT_RAW);
	assert_int_equal(d->readwrite, 1);
	assert_int_equal(d->backend, LIBXL_DISK_BACKEND_UNKNOWN);
	d = &t->dc.disks[1];
	assert_string_equal(d->pdev_path, "/srv/web-1-data.qcow2");
	assert_string_equal(d->vdev, "xvdb");
	assert_int_equal(d->format, LIBXL_DISK_FORMAT_QCOW2);
	assert_int_equal(d->readwrite, 0);
}

static void
test_config_vhd_disk(void **state)
{
	struct tvm *t = *state;

	t->disks[0].d_format = XDC_DISK_VHD;
	assert_int_equal(xen_config_from_spec(&t->spec, &t->dc), 0);
	assert_int_equal(t->dc.disks[0].format, LIBXL_DISK_FORMAT_VHD);
}

static void
test_config_nics_on_their_bridges_with_their_macs(void **state)
{
	struct tvm *t = *state;
	static const uint8_t mac1[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, 0x02 };

	assert_int_equal(xen_config_from_spec(&t->spec, &t->dc), 0);
	assert_int_equal(t->dc.num_nics, 2);
	assert_string_equal(t->dc.nics[0].bridge, "xdc-dmz");
	assert_string_equal(t->dc.nics[1].bridge, "xdc-backend");
	assert_memory_equal(t->dc.nics[1].mac, mac1, 6);
}

static void
test_config_preserves_a_crashed_guest(void **state)
{
	struct tvm *t = *state;

	assert_int_equal(xen_config_from_spec(&t->spec, &t->dc), 0);
	assert_int_equal(t->dc.on_crash, LIBXL_ACTION_ON_SHUTDOWN_PRESERVE);
	assert_int_equal(t->dc.on_watchdog, LIBXL_ACTION_ON_SHUTDOWN_PRESERVE);
	assert_int_equal(t->dc.on_poweroff, LIBXL_ACTION_ON_SHUTDOWN_DESTROY);
	assert_int_equal(t->dc.on_reboot, LIBXL_ACTION_ON_SHUTDOWN_RESTART);
}

static void
test_config_types(void **state)
{
	struct tvm *t = *state;

	t->vm.vm_type = XDC_VM_PVH;
	assert_int_equal(xen_config_from_spec(&t->spec, &t->dc), 0);
	assert_int_equal(t->dc.c_info.type, LIBXL_DOMAIN_TYPE_PVH);
	assert_int_equal(t->dc.b_info.type, LIBXL_DOMAIN_TYPE_PVH);
	libxl_domain_config_dispose(&t->dc);
	libxl_domain_config_init(&t->dc);
	/* An HVM guest may boot from its disk. */
	t->vm.vm_type = XDC_VM_HVM;
	t->vm.vm_kernel = t->vm.vm_ramdisk = t->vm.vm_cmdline = NULL;
	assert_int_equal(xen_config_from_spec(&t->spec, &t->dc), 0);
	assert_int_equal(t->dc.c_info.type, LIBXL_DOMAIN_TYPE_HVM);
	assert_int_equal(t->dc.b_info.type, LIBXL_DOMAIN_TYPE_HVM);
	assert_null(t->dc.b_info.kernel);
}

static void
test_config_max_defaults_to_the_current(void **state)
{
	struct tvm *t = *state;

	t->vm.vm_max_memory = 0;
	t->vm.vm_max_vcpus = 0;
	assert_int_equal(xen_config_from_spec(&t->spec, &t->dc), 0);
	assert_true(t->dc.b_info.max_memkb == 96 * 1024);
	assert_int_equal(t->dc.b_info.max_vcpus, 2);
}

/* libxl can serialise what was filled: every enum is one it knows. */
static void
test_config_is_valid_libxl_json(void **state)
{
	struct tvm *t = *state;
	char *json;

	assert_int_equal(xen_config_from_spec(&t->spec, &t->dc), 0);
	json = libxl_domain_config_to_json(NULL, &t->dc);
	assert_non_null(json);
	assert_non_null(strstr(json, "\"name\": \"web-1\""));
	assert_non_null(strstr(json, "\"bridge\": \"xdc-dmz\""));
	assert_non_null(strstr(json, "\"on_crash\": \"preserve\""));
	free(json);
}

static void
test_config_refuses_what_xen_would(void **state)
{
	struct tvm *t = *state;

	/* A cap above what 4 vCPUs can use. */
	t->spec.ds_cap = 401;
	assert_int_equal(xen_config_from_spec(&t->spec, &t->dc), XDC_EDRIVER);
	assert_non_null(strstr(xdc_error_last(), "cpu.cap 401%"));
	libxl_domain_config_dispose(&t->dc);
	libxl_domain_config_init(&t->dc);
	t->spec.ds_cap = 0;
	t->vm.vm_kernel = NULL;
	assert_int_equal(xen_config_from_spec(&t->spec, &t->dc), XDC_EDRIVER);
	assert_non_null(strstr(xdc_error_last(), "needs a kernel"));
	libxl_domain_config_dispose(&t->dc);
	libxl_domain_config_init(&t->dc);
	t->vm.vm_kernel = "/boot/vmlinux";
	t->bridges[1] = NULL;
	assert_int_equal(xen_config_from_spec(&t->spec, &t->dc), XDC_EDRIVER);
	assert_non_null(strstr(xdc_error_last(), "NIC 1 has no bridge"));
}

static void
test_vcpu_bitmap(void **state)
{
	libxl_bitmap b;

	(void)state;
	libxl_bitmap_init(&b);
	xen_vcpu_bitmap(3, 9, &b);
	assert_int_equal(b.size, 2);
	assert_int_equal(libxl_bitmap_count_set(&b), 3);
	assert_true(libxl_bitmap_test(&b, 2));
	assert_false(libxl_bitmap_test(&b, 3));
	libxl_bitmap_dispose(&b);
}

/* ---- NICs ------------------------------------------------------------- */

static void
nic_set(libxl_device_nic *n, int devid, const char *bridge, uint8_t last)
{
	libxl_device_nic_init(n);
	n->devid = devid;
	n->bridge = strdup(bridge);
	n->mac[0] = 0x00, n->mac[1] = 0x16, n->mac[2] = 0x3e;
	n->mac[5] = last;
}

static void
test_nics_in_device_order(void **state)
{
	libxl_device_nic nics[3];
	const libxl_device_nic *v[3];
	struct xdc_obs_domain od;
	struct xdc_arena *a = xdc_arena_new();
	int i;

	(void)state;
	nic_set(&nics[0], 2, "br-c", 3);
	nic_set(&nics[1], 0, "br-a", 1);
	nic_set(&nics[2], 1, "br-b", 2);
	xen_nics_order(nics, 3, v);
	assert_int_equal(v[0]->devid, 0);
	assert_int_equal(v[2]->devid, 2);
	memset(&od, 0, sizeof(od));
	xen_obs_nics(nics, 3, a, &od);
	assert_int_equal(od.od_nnics, 3);
	assert_string_equal(od.od_nics[0].on_bridge, "br-a");
	assert_string_equal(od.od_nics[2].on_bridge, "br-c");
	assert_int_equal(od.od_nics[1].on_mac[5], 2);
	for (i = 0; i < 3; i++)
		libxl_device_nic_dispose(&nics[i]);
	xdc_arena_free(a);
}

static void
test_nics_keep_the_declared_prefix(void **state)
{
	struct tvm *t = *state;
	libxl_device_nic nics[2];
	const libxl_device_nic *v[2] = { &nics[0], &nics[1] };

	nic_set(&nics[0], 0, "xdc-dmz", 1);
	nic_set(&nics[1], 1, "xdc-backend", 2);
	/* All there: keep both. */
	assert_int_equal(xen_nics_keep(v, 2, &t->spec), 2);
	/* One declared NIC fewer: keep the first. */
	t->vm.vm_nnics = 1;
	assert_int_equal(xen_nics_keep(v, 2, &t->spec), 1);
	/* The first moved to another bridge: re-plug both. */
	t->vm.vm_nnics = 2;
	t->bridges[0] = "xdc-other";
	assert_int_equal(xen_nics_keep(v, 2, &t->spec), 0);
	/* None attached: nothing to keep. */
	assert_int_equal(xen_nics_keep(v, 0, &t->spec), 0);
	/* Another MAC at the second place. */
	t->bridges[0] = "xdc-dmz";
	nics[1].mac[5] = 9;
	assert_int_equal(xen_nics_keep(v, 2, &t->spec), 1);
	libxl_device_nic_dispose(&nics[0]);
	libxl_device_nic_dispose(&nics[1]);
}

/* ---- Observed: Xen's records into observed state ---------------------- */

static xc_domaininfo_t
info_make(uint32_t domid, uint32_t flags)
{
	xc_domaininfo_t info;

	memset(&info, 0, sizeof(info));
	info.domain = (domid_t)domid;
	info.flags = flags;
	info.tot_pages = 24576; /* 96 MiB */
	info.max_pages = 24832; /* and libxl's 1 MiB of slack */
	info.nr_online_vcpus = 1;
	info.max_vcpu_id = 3;
	return info;
}

static uint32_t
shutdown_flags(unsigned reason)
{
	return XEN_DOMINF_shutdown | reason << XEN_DOMINF_shutdownshift;
}

static void
test_state_mapping(void **state)
{
	xc_domaininfo_t i;

	(void)state;
	i = info_make(3, XEN_DOMINF_running);
	assert_int_equal(xen_state_from_info(&i), XDC_DOM_RUNNING);
	i = info_make(3, XEN_DOMINF_blocked);
	assert_int_equal(xen_state_from_info(&i), XDC_DOM_RUNNING);
	i = info_make(3, 0); /* runnable, waiting for a CPU */
	assert_int_equal(xen_state_from_info(&i), XDC_DOM_RUNNING);
	i = info_make(3, XEN_DOMINF_paused | XEN_DOMINF_blocked);
	assert_int_equal(xen_state_from_info(&i), XDC_DOM_PAUSED);
	i = info_make(3, shutdown_flags(SHUTDOWN_crash));
	assert_int_equal(xen_state_from_info(&i), XDC_DOM_CRASHED);
	i = info_make(3, shutdown_flags(SHUTDOWN_watchdog));
	assert_int_equal(xen_state_from_info(&i), XDC_DOM_CRASHED);
	i = info_make(3, shutdown_flags(SHUTDOWN_poweroff));
	assert_int_equal(xen_state_from_info(&i), XDC_DOM_STOPPED);
	i = info_make(3, shutdown_flags(SHUTDOWN_reboot) | XEN_DOMINF_paused);
	assert_int_equal(xen_state_from_info(&i), XDC_DOM_STOPPED);
}

static void
test_dying_domains_are_not_reported(void **state)
{
	xc_domaininfo_t i;

	(void)state;
	i = info_make(3, XEN_DOMINF_dying | XEN_DOMINF_shutdown);
	assert_false(xen_obs_reportable(&i));
	i = info_make(3, XEN_DOMINF_running);
	assert_true(xen_obs_reportable(&i));
}

static struct xen_marker
marker_make(void)
{
	struct xen_marker mk;

	memset(&mk, 0, sizeof(mk));
	mk.mk_name = "web-1";
	mk.mk_hash = 0xfeedULL;
	mk.mk_protect = 1;
	mk.mk_scope = "ci-7";
	mk.mk_applied = 1000;
	mk.mk_expires = 2000;
	return mk;
}

static void
test_managed_domain_reports_what_the_toolstack_set(void **state)
{
	xc_domaininfo_t i = info_make(7, XEN_DOMINF_blocked);
	struct xen_marker mk = marker_make();
	struct xen_dom_facts f;
	struct xdc_obs_domain od;

	(void)state;
	xen_dom_facts_init(&f);
	f.df_name = "web-1";
	f.df_marker = &mk;
	f.df_target_kib = 112 * 1024;
	f.df_static_max_kib = 128 * 1024;
	f.df_vcpus_online = 2;
	f.df_weight = 512;
	f.df_cap = 50;
	xen_obs_from_info(&i, &f, &od);
	assert_string_equal(od.od_name, "web-1");
	assert_int_equal(od.od_domid, 7);
	assert_int_equal(od.od_state, XDC_DOM_RUNNING);
	/* The target, not the 96 MiB the guest holds while it balloons. */
	assert_true(od.od_memory == 112 * MIB);
	assert_true(od.od_max_memory == 128 * MIB);
	/* What the toolstack set online, not what the booting guest has. */
	assert_int_equal(od.od_vcpus, 2);
	assert_int_equal(od.od_max_vcpus, 4);
	assert_int_equal(od.od_weight, 512);
	assert_int_equal(od.od_cap, 50);
	assert_int_equal(od.od_managed, 1);
	assert_int_equal(od.od_protect, 1);
	assert_true(od.od_hash == 0xfeedULL);
	assert_int_equal(od.od_nnics, 0);
	assert_int_equal(od.od_has_build, 0);
	assert_string_equal(od.od_scope, "ci-7");
	assert_true(od.od_applied == 1000);
	assert_true(od.od_expires == 2000);
}

static void
test_unmanaged_domain_reports_what_it_holds(void **state)
{
	xc_domaininfo_t i = info_make(9, XEN_DOMINF_running);
	struct xen_dom_facts f;
	struct xdc_obs_domain od;

	(void)state;
	xen_dom_facts_init(&f);
	f.df_name = "legacy";
	xen_obs_from_info(&i, &f, &od);
	assert_true(od.od_memory == 24576 * PAGE);
	assert_true(od.od_max_memory == 24832 * PAGE);
	assert_int_equal(od.od_vcpus, 1);
	assert_int_equal(od.od_max_vcpus, 4);
	assert_int_equal(od.od_weight, 0); /* not asked */
	assert_int_equal(od.od_managed, 0);
	assert_int_equal(od.od_protect, 0);
	assert_true(od.od_hash == 0);
	assert_null(od.od_scope);
}

/* What xdc import writes and an adoption compares: what was set. */
static void
test_unmanaged_domain_with_facts_reports_what_was_set(void **state)
{
	xc_domaininfo_t i = info_make(9, XEN_DOMINF_running);
	struct xen_dom_facts f;
	struct xdc_obs_domain od;

	(void)state;
	xen_dom_facts_init(&f);
	f.df_name = "legacy";
	f.df_target_kib = 112 * 1024;
	f.df_static_max_kib = 128 * 1024;
	f.df_vcpus_online = 2;
	f.df_weight = 512;
	f.df_cap = 0;
	xen_obs_from_info(&i, &f, &od);
	assert_true(od.od_memory == 112 * MIB);
	assert_true(od.od_max_memory == 128 * MIB);
	assert_int_equal(od.od_vcpus, 2);
	assert_int_equal(od.od_weight, 512);
	assert_int_equal(od.od_managed, 0);
	assert_int_equal(od.od_stub, 0);
	/* A stub domain, facts or not, is what it holds. */
	f.df_stubdom = 1;
	xen_obs_from_info(&i, &f, &od);
	assert_true(od.od_memory == 24576 * PAGE);
	assert_int_equal(od.od_vcpus, 1);
	assert_int_equal(od.od_stub, 1);
}

static void
test_domain0_and_stub_domains_are_never_managed(void **state)
{
	xc_domaininfo_t i = info_make(0, XEN_DOMINF_running);
	struct xen_marker mk = marker_make();
	struct xen_dom_facts f;
	struct xdc_obs_domain od;

	(void)state;
	xen_dom_facts_init(&f);
	f.df_name = "Domain-0";
	f.df_marker = &mk; /* even a forged marker */
	xen_obs_from_info(&i, &f, &od);
	assert_int_equal(od.od_managed, 0);
	assert_int_equal(od.od_protect, 0);
	i = info_make(12, XEN_DOMINF_running);
	f.df_name = "web-1-dm";
	f.df_stubdom = 1;
	xen_obs_from_info(&i, &f, &od);
	assert_int_equal(od.od_managed, 0);
}

static void
test_build_record_round_trips_the_spec(void **state)
{
	struct tvm *t = *state;
	struct xdc_arena *a = xdc_arena_new();
	struct xdc_obs_domain od;
	struct xen_marker mk;
	const struct xdc_obs_build *b = &od.od_build;

	assert_int_equal(xen_config_from_spec(&t->spec, &t->dc), 0);
	xen_marker_from_spec(&t->spec, &mk);
	memset(&od, 0, sizeof(od));
	/* libxl lists the disks it attached, as they were configured. */
	xen_obs_build("pv", &mk, t->dc.disks, t->dc.num_disks, a, &od);
	assert_int_equal(od.od_has_build, 1);
	assert_int_equal(b->ob_type, XDC_VM_PV);
	assert_string_equal(b->ob_kernel, "/boot/vmlinux");
	assert_string_equal(b->ob_ramdisk, "/boot/initrd.img");
	assert_string_equal(b->ob_cmdline, "console=hvc0 quiet");
	assert_int_equal(b->ob_ndisks, 2);
	assert_string_equal(b->ob_disks[0].d_target, "/dev/vg0/web-1");
	assert_string_equal(b->ob_disks[1].d_vdev, "xvdb");
	assert_int_equal(b->ob_disks[1].d_format, XDC_DISK_QCOW2);
	assert_int_equal(b->ob_disks[1].d_readonly, 1);
	assert_int_equal(b->ob_disks[0].d_readonly, 0);
	xdc_arena_free(a);
}

static void
test_build_record_types_and_unknowns(void **state)
{
	struct xdc_arena *a = xdc_arena_new();
	struct xen_marker mk = marker_make();
	struct xdc_obs_domain od;

	(void)state;
	memset(&od, 0, sizeof(od));
	xen_obs_build("pvh", &mk, NULL, 0, a, &od);
	assert_int_equal(od.od_build.ob_type, XDC_VM_PVH);
	assert_null(od.od_build.ob_kernel);
	memset(&od, 0, sizeof(od));
	xen_obs_build("hvm", &mk, NULL, 0, a, &od);
	assert_int_equal(od.od_build.ob_type, XDC_VM_HVM);
	/* Without libxl's record of the type, no build record at all. */
	memset(&od, 0, sizeof(od));
	xen_obs_build(NULL, &mk, NULL, 0, a, &od);
	assert_int_equal(od.od_has_build, 0);
	xen_obs_build("sedf", &mk, NULL, 0, a, &od);
	assert_int_equal(od.od_has_build, 0);
	xdc_arena_free(a);
}

static void
test_parse_kib(void **state)
{
	(void)state;
	assert_true(xen_parse_kib("114688") == 114688);
	assert_true(xen_parse_kib("0") == 0);
	assert_true(xen_parse_kib(NULL) == -1);
	assert_true(xen_parse_kib("") == -1);
	assert_true(xen_parse_kib("12k") == -1);
	assert_true(xen_parse_kib("-5") == -1);
	assert_true(xen_parse_kib("99999999999999999999") == -1);
}

static void
test_host_capacity(void **state)
{
	xc_physinfo_t pi;
	struct xdc_obs_host oh;

	(void)state;
	memset(&pi, 0, sizeof(pi));
	memset(&oh, 0, sizeof(oh));
	pi.nr_cpus = 2;
	pi.total_pages = 524288; /* 2 GiB */
	pi.free_pages = 300000;
	pi.scrub_pages = 1000;
	pi.outstanding_pages = 2000;
	xen_host_from_physinfo(&pi, 100000, &oh);
	/* Free (and being scrubbed) plus what the guests hold. */
	assert_true(oh.oh_memory == (300000ULL + 1000 + 100000) * PAGE);
	/* Free, less what is promised to domains being built. */
	assert_true(oh.oh_free_memory == (300000ULL + 1000 - 2000) * PAGE);
	assert_int_equal(oh.oh_cpus, 2);
	pi.outstanding_pages = 999999;
	xen_host_from_physinfo(&pi, 0, &oh);
	assert_true(oh.oh_free_memory == 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_uuid_is_rfc4122_version5_of_the_name),
		T(test_uuid_is_stable_and_differs_by_name),
		T(test_marker_lives_under_the_vm_path),
		T(test_marker_round_trips),
		T(test_marker_without_a_ramdisk_leaves_the_key_out),
		T(test_no_marker_is_not_found),
		T(test_marker_naming_another_domain_is_not_ours),
		T(test_malformed_marker_is_an_error),
		T(test_marker_records_the_scope_and_its_times),
		T(test_marker_older_than_scopes_is_the_default_scopes),
		T(test_malformed_scope_keys_are_an_error),
		T(test_config_pv_identity_memory_and_vcpus),
		T(test_config_boots_the_declared_kernel),
		T(test_config_sets_weight_and_cap),
		T(test_config_weight_zero_is_xens_default_and_cap_zero_is_set),
		T(test_config_disks),
		T(test_config_vhd_disk),
		T(test_config_nics_on_their_bridges_with_their_macs),
		T(test_config_preserves_a_crashed_guest),
		T(test_config_types),
		T(test_config_max_defaults_to_the_current),
		T(test_config_is_valid_libxl_json),
		T(test_config_refuses_what_xen_would),
		T(test_vcpu_bitmap),
		T(test_nics_in_device_order),
		T(test_nics_keep_the_declared_prefix),
		T(test_state_mapping),
		T(test_dying_domains_are_not_reported),
		T(test_managed_domain_reports_what_the_toolstack_set),
		T(test_unmanaged_domain_reports_what_it_holds),
		T(test_unmanaged_domain_with_facts_reports_what_was_set),
		T(test_domain0_and_stub_domains_are_never_managed),
		T(test_build_record_round_trips_the_spec),
		T(test_build_record_types_and_unknowns),
		T(test_parse_kib),
		T(test_host_capacity),
	};

	return cmocka_run_group_tests_name(
	    "drivers/xen_config", tests, NULL, NULL);
}
