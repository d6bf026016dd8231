/*
 * The xen driver's translations (see xen_config.h): the declared VM into
 * libxl_domain_config, Xen's records into observed state, the name-based
 * UUID and the ownership marker. Nothing here talks to Xen; libxl's types
 * are only initialised, filled and read, which needs no libxl context.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/xen_config.h"
#include "base/arena.h"
#include "base/error.h"
#include "schema/model.h"
#include "schema/values.h"

#define KIB            1024ULL
#define XEN_WEIGHT_MAX 65535 /* credit2's range is 1..65535 */

/* ---- SHA-1, for version 5 UUIDs (FIPS 180-4) --------------------------- */

struct sha1 {
	uint32_t h[5];
	uint8_t buf[64];
	size_t nbuf;
	uint64_t len; /* bytes hashed */
};

static uint32_t
rol(uint32_t x, unsigned n)
{
	return (x << n) | (x >> (32 - n));
}

static void
sha1_block(struct sha1 *s, const uint8_t p[64])
{
	uint32_t w[80], a, b, c, d, e, f, k, t;
	unsigned i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (; i < 80; i++)
		w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3], e = s->h[4];
	for (i = 0; i < 80; i++) {
		if (i < 20)
			f = (b & c) | (~b & d), k = 0x5a827999;
		else if (i < 40)
			f = b ^ c ^ d, k = 0x6ed9eba1;
		else if (i < 60)
			f = (b & c) | (b & d) | (c & d), k = 0x8f1bbcdc;
		else
			f = b ^ c ^ d, k = 0xca62c1d6;
		t = rol(a, 5) + f + e + k + w[i];
		e = d, d = c, c = rol(b, 30), b = a, a = t;
	}
	s->h[0] += a, s->h[1] += b, s->h[2] += c, s->h[3] += d, s->h[4] += e;
}

static void
sha1_init(struct sha1 *s)
{
	static const uint32_t h0[5] = { 0x67452301, 0xefcdab89, 0x98badcfe,
		0x10325476, 0xc3d2e1f0 };

	memset(s, 0, sizeof(*s));
	memcpy(s->h, h0, sizeof(h0));
}

static void
sha1_update(struct sha1 *s, const void *data, size_t n)
{
	const uint8_t *p = data;

	s->len += n;
	while (n > 0) {
		size_t take = 64 - s->nbuf < n ? 64 - s->nbuf : n;

		memcpy(s->buf + s->nbuf, p, take);
		s->nbuf += take;
		p += take;
		n -= take;
		if (s->nbuf == 64) {
			sha1_block(s, s->buf);
			s->nbuf = 0;
		}
	}
}

static void
sha1_final(struct sha1 *s, uint8_t out[20])
{
	uint64_t bits = s->len * 8;
	uint8_t pad = 0x80, zero = 0, len[8];
	unsigned i;

	sha1_update(s, &pad, 1);
	while (s->nbuf != 56)
		sha1_update(s, &zero, 1);
	for (i = 0; i < 8; i++)
		len[i] = (uint8_t)(bits >> (56 - 8 * i));
	sha1_update(s, len, 8);
	for (i = 0; i < 20; i++)
		out[i] = (uint8_t)(s->h[i / 4] >> (24 - 8 * (i % 4)));
}

/* ---- Identity --------------------------------------------------------- */

/* xdc's namespace for name-based UUIDs: 410c4b06-de13-45b6-a68a-47d45bb774fa
 * (a random UUID, fixed forever: changing it renames every VM's UUID). */
static const uint8_t xdc_uuid_ns[16] = { 0x41, 0x0c, 0x4b, 0x06, 0xde, 0x13,
	0x45, 0xb6, 0xa6, 0x8a, 0x47, 0xd4, 0x5b, 0xb7, 0x74, 0xfa };

void
xen_uuid_from_name(const char *name, libxl_uuid *out)
{
	uint8_t digest[20], *u = libxl_uuid_bytearray(out);
	struct sha1 s;

	sha1_init(&s);
	sha1_update(&s, xdc_uuid_ns, sizeof(xdc_uuid_ns));
	sha1_update(&s, name, strlen(name));
	sha1_final(&s, digest);
	memcpy(u, digest, 16);
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x50); /* version 5 */
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80); /* the RFC 4122 variant */
}

const char *
xen_uuid_fmt(const uint8_t u[16], char buf[XEN_UUID_BUFSZ])
{
	snprintf(buf, XEN_UUID_BUFSZ,
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x",
	    u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10],
	    u[11], u[12], u[13], u[14], u[15]);
	return buf;
}

/* ---- The ownership marker --------------------------------------------- */

const char *const xen_marker_keys[XEN_MK__COUNT] = { "managed", "name", "hash",
	"protect", "scope", "applied", "expires", "kernel", "ramdisk",
	"cmdline" };

const char *
xen_marker_path(const uint8_t uuid[16], char buf[XEN_MARKER_PATHSZ])
{
	char u[XEN_UUID_BUFSZ];

	snprintf(buf, XEN_MARKER_PATHSZ, "/vm/%s/xdc", xen_uuid_fmt(uuid, u));
	return buf;
}

void
xen_marker_from_spec(const struct xdc_dom_spec *sp, struct xen_marker *mk)
{
	const struct xdc_vm *vm = sp->ds_vm;

	memset(mk, 0, sizeof(*mk));
	mk->mk_name = vm->vm_name;
	mk->mk_hash = sp->ds_hash;
	mk->mk_protect = sp->ds_protect != 0;
	mk->mk_scope = sp->ds_scope != NULL ? sp->ds_scope : XDC_SCOPE_DEFAULT;
	mk->mk_applied = sp->ds_applied;
	mk->mk_expires = sp->ds_expires;
	mk->mk_kernel = vm->vm_kernel;
	mk->mk_ramdisk = vm->vm_ramdisk;
	mk->mk_cmdline = vm->vm_cmdline;
}

void
xen_marker_encode(const struct xen_marker *mk, struct xen_marker_vals *mv)
{
	memset(mv, 0, sizeof(*mv));
	snprintf(mv->mv_hash, sizeof(mv->mv_hash), "%016" PRIx64, mk->mk_hash);
	snprintf(
	    mv->mv_protect, sizeof(mv->mv_protect), "%d", mk->mk_protect != 0);
	mv->mv_v[XEN_MK_MANAGED] = "1";
	mv->mv_v[XEN_MK_NAME] = mk->mk_name;
	mv->mv_v[XEN_MK_HASH] = mv->mv_hash;
	mv->mv_v[XEN_MK_PROTECT] = mv->mv_protect;
	/*
	 * Written always, "0" included: an update rewrites the keys it has,
	 * and a stale expiry left behind would have the scope reaped.
	 */
	snprintf(mv->mv_applied, sizeof(mv->mv_applied), "%" PRId64,
	    mk->mk_applied > 0 ? mk->mk_applied : 0);
	snprintf(mv->mv_expires, sizeof(mv->mv_expires), "%" PRId64,
	    mk->mk_expires > 0 ? mk->mk_expires : 0);
	mv->mv_v[XEN_MK_SCOPE] =
	    mk->mk_scope != NULL ? mk->mk_scope : XDC_SCOPE_DEFAULT;
	mv->mv_v[XEN_MK_APPLIED] = mv->mv_applied;
	mv->mv_v[XEN_MK_EXPIRES] = mv->mv_expires;
	mv->mv_v[XEN_MK_KERNEL] = mk->mk_kernel;
	mv->mv_v[XEN_MK_RAMDISK] = mk->mk_ramdisk;
	mv->mv_v[XEN_MK_CMDLINE] = mk->mk_cmdline;
}

static int
parse_hash(const char *s, uint64_t *out)
{
	uint64_t h = 0;
	size_t i;

	if (s == NULL || strlen(s) != 16)
		return -1;
	for (i = 0; i < 16; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			h = h << 4 | (uint64_t)(s[i] - '0');
		else if (s[i] >= 'a' && s[i] <= 'f')
			h = h << 4 | (uint64_t)(s[i] - 'a' + 10);
		else
			return -1;
	}
	*out = h;
	return 0;
}

/* A time key: absent is 0 (a marker older than scopes); else digits. */
static int
parse_time_key(const char *s, int64_t *out)
{
	uint64_t v;

	*out = 0;
	if (s == NULL)
		return 0;
	if (xdc_parse_uint(s, INT64_MAX, &v) != NULL)
		return -1;
	*out = (int64_t)v;
	return 0;
}

int
xen_marker_parse(const char *const vals[XEN_MK__COUNT], const char *name,
    struct xen_marker *out)
{
	const char *protect = vals[XEN_MK_PROTECT];
	const char *scope = vals[XEN_MK_SCOPE];
	int64_t applied, expires;
	uint64_t hash;

	memset(out, 0, sizeof(*out));
	if (vals[XEN_MK_MANAGED] == NULL)
		return XDC_ENOTFOUND;
	if (strcmp(vals[XEN_MK_MANAGED], "1") != 0 ||
	    vals[XEN_MK_NAME] == NULL || protect == NULL ||
	    (strcmp(protect, "0") != 0 && strcmp(protect, "1") != 0) ||
	    parse_hash(vals[XEN_MK_HASH], &hash) < 0 ||
	    (scope != NULL && !xdc_name_valid(scope)) ||
	    parse_time_key(vals[XEN_MK_APPLIED], &applied) < 0 ||
	    parse_time_key(vals[XEN_MK_EXPIRES], &expires) < 0)
		return XDC_ERR;
	if (name == NULL || strcmp(vals[XEN_MK_NAME], name) != 0)
		return XDC_ENOTFOUND;
	out->mk_name = vals[XEN_MK_NAME];
	out->mk_hash = hash;
	out->mk_protect = protect[0] == '1';
	/* Marked before scopes existed: the default scope's. */
	out->mk_scope = scope != NULL ? scope : XDC_SCOPE_DEFAULT;
	out->mk_applied = applied;
	out->mk_expires = expires;
	out->mk_kernel = vals[XEN_MK_KERNEL];
	out->mk_ramdisk = vals[XEN_MK_RAMDISK];
	out->mk_cmdline = vals[XEN_MK_CMDLINE];
	return 0;
}

/* ---- Desired: a VM into libxl's configuration ------------------------- */

static libxl_domain_type
xen_type(enum xdc_vm_type t)
{
	switch (t) {
	case XDC_VM_PV:
		return LIBXL_DOMAIN_TYPE_PV;
	case XDC_VM_HVM:
		return LIBXL_DOMAIN_TYPE_HVM;
	case XDC_VM_PVH:
		break;
	}
	return LIBXL_DOMAIN_TYPE_PVH;
}

static libxl_disk_format
xen_disk_format(enum xdc_disk_format f)
{
	switch (f) {
	case XDC_DISK_QCOW2:
		return LIBXL_DISK_FORMAT_QCOW2;
	case XDC_DISK_VHD:
		return LIBXL_DISK_FORMAT_VHD;
	case XDC_DISK_RAW:
		break;
	}
	return LIBXL_DISK_FORMAT_RAW;
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xdc_strdup(s) : NULL;
}

void
xen_vcpu_bitmap(uint32_t online, uint32_t max, libxl_bitmap *out)
{
	uint32_t i;

	/*
	 * libxl_cpu_bitmap_alloc() wants a context only for its allocation;
	 * a bitmap is a byte array that libxl_bitmap_dispose() frees.
	 */
	libxl_bitmap_dispose(out);
	out->size = (max + 7) / 8;
	out->map = xdc_calloc(out->size, 1);
	for (i = 0; i < online && i < max; i++)
		libxl_bitmap_set(out, (int)i);
}

void
xen_sched_from_spec(
    const struct xdc_dom_spec *sp, libxl_domain_sched_params *out)
{
	libxl_domain_sched_params_init(out);
	/* UNKNOWN: whatever scheduler the domain's CPU pool runs. */
	out->sched = LIBXL_SCHEDULER_UNKNOWN;
	out->weight = sp->ds_weight != 0
	                  ? (int)sp->ds_weight
	                  : LIBXL_DOMAIN_SCHED_PARAM_WEIGHT_DEFAULT;
	/* 0 is set, not left to the default: it lifts an earlier cap. */
	out->cap = (int)sp->ds_cap;
}

int
xen_nic_from_spec(
    const struct xdc_dom_spec *sp, size_t i, libxl_device_nic *out)
{
	const struct xdc_vm *vm = sp->ds_vm;

	if (i >= vm->vm_nnics || sp->ds_bridges == NULL ||
	    sp->ds_bridges[i] == NULL)
		return xdc_error(XDC_EDRIVER, "VM %s: NIC %zu has no bridge",
		    vm->vm_name, i);
	out->bridge = xdc_strdup(sp->ds_bridges[i]);
	memcpy(out->mac, vm->vm_nics[i].nic_mac, sizeof(out->mac));
	return 0;
}

void
xen_nics_order(
    const libxl_device_nic *nics, int n, const libxl_device_nic **out)
{
	size_t i, j, count = n > 0 ? (size_t)n : 0;

	/* A domain has a few: an insertion sort. */
	for (i = 0; i < count; i++) {
		for (j = i; j > 0 && out[j - 1]->devid > nics[i].devid; j--)
			out[j] = out[j - 1];
		out[j] = &nics[i];
	}
}

size_t
xen_nics_keep(const libxl_device_nic *const *have, size_t n,
    const struct xdc_dom_spec *sp)
{
	const struct xdc_vm *vm = sp->ds_vm;
	size_t i;

	for (i = 0; i < n && i < vm->vm_nnics; i++) {
		if (have[i]->bridge == NULL || sp->ds_bridges == NULL ||
		    sp->ds_bridges[i] == NULL ||
		    strcmp(have[i]->bridge, sp->ds_bridges[i]) != 0 ||
		    memcmp(have[i]->mac, vm->vm_nics[i].nic_mac, 6) != 0)
			break;
	}
	return i;
}

static int
spec_bad(const struct xdc_vm *vm, const char *what)
{
	return xdc_error(XDC_EDRIVER, "VM %s: %s",
	    vm != NULL && vm->vm_name != NULL ? vm->vm_name : "?", what);
}

int
xen_config_from_spec(const struct xdc_dom_spec *sp, libxl_domain_config *dc)
{
	libxl_domain_create_info *c = &dc->c_info;
	libxl_domain_build_info *b = &dc->b_info;
	const struct xdc_vm *vm = sp != NULL ? sp->ds_vm : NULL;
	libxl_domain_type type;
	uint64_t max_memory;
	uint32_t max_vcpus;
	size_t i;
	int rc;

	if (vm == NULL || vm->vm_name == NULL)
		return spec_bad(vm, "the action has no spec");
	max_memory = vm->vm_max_memory > vm->vm_memory ? vm->vm_max_memory
	                                               : vm->vm_memory;
	max_vcpus =
	    vm->vm_max_vcpus > vm->vm_vcpus ? vm->vm_max_vcpus : vm->vm_vcpus;
	if (vm->vm_memory == 0 || vm->vm_vcpus == 0)
		return spec_bad(vm, "memory and vcpus must not be 0");
	if (vm->vm_type != XDC_VM_HVM && vm->vm_kernel == NULL)
		return spec_bad(vm, "a pv or pvh guest needs a kernel");
	if (sp->ds_weight > XEN_WEIGHT_MAX)
		return spec_bad(vm, "cpu.weight is above 65535");
	/* Xen refuses a cap above what the vCPUs can use. */
	if (sp->ds_cap > 100 * max_vcpus)
		return xdc_error(XDC_EDRIVER,
		    "VM %s: cpu.cap %u%% is more than its %u vCPUs can use "
		    "(at most %u%%)",
		    vm->vm_name, sp->ds_cap, max_vcpus, 100 * max_vcpus);

	type = xen_type(vm->vm_type);
	c->type = type;
	c->name = xdc_strdup(vm->vm_name);
	xen_uuid_from_name(vm->vm_name, &c->uuid);

	libxl_domain_build_info_init_type(b, type);
	b->max_vcpus = (int)max_vcpus;
	xen_vcpu_bitmap(vm->vm_vcpus, max_vcpus, &b->avail_vcpus);
	b->max_memkb = max_memory / KIB;
	b->target_memkb = vm->vm_memory / KIB;
	/* Direct kernel boot for every type (HVM through its firmware). */
	b->kernel = dup_or_null(vm->vm_kernel);
	b->ramdisk = dup_or_null(vm->vm_ramdisk);
	b->cmdline = dup_or_null(vm->vm_cmdline);
	xen_sched_from_spec(sp, &b->sched_params);

	dc->num_disks = (int)vm->vm_ndisks;
	dc->disks = xdc_calloc(vm->vm_ndisks, sizeof(*dc->disks));
	for (i = 0; i < vm->vm_ndisks; i++) {
		libxl_device_disk *d = &dc->disks[i];

		libxl_device_disk_init(d);
		d->pdev_path = xdc_strdup(vm->vm_disks[i].d_target);
		d->vdev = xdc_strdup(vm->vm_disks[i].d_vdev);
		d->format = xen_disk_format(vm->vm_disks[i].d_format);
		d->readwrite = !vm->vm_disks[i].d_readonly;
		/* UNKNOWN: libxl picks (phy, through a loop device, for a
		 * raw file; qdisk for qcow2 and vhd). */
		d->backend = LIBXL_DISK_BACKEND_UNKNOWN;
	}
	dc->num_nics = (int)vm->vm_nnics;
	dc->nics = xdc_calloc(vm->vm_nnics, sizeof(*dc->nics));
	for (i = 0; i < vm->vm_nnics; i++) {
		libxl_device_nic_init(&dc->nics[i]);
		if ((rc = xen_nic_from_spec(sp, i, &dc->nics[i])) != 0)
			return rc;
	}

	/*
	 * What becomes of a guest that stops. libxl only records these; it
	 * is the process watching the domain (xl's daemon after `xl
	 * create`) that carries them out, and xdc keeps no such process.
	 * A guest that crashes is preserved, so that xdc observes it as
	 * crashed and its SLA's restart policy (restart_limit, backoff)
	 * decides, not Xen; one that powers off or reboots is left shut
	 * down, observed as stopped, and started again by the next plan if
	 * it is declared running. The values below say the same to any
	 * other toolstack that looks, and are what xl does by default.
	 */
	dc->on_poweroff = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
	dc->on_reboot = LIBXL_ACTION_ON_SHUTDOWN_RESTART;
	dc->on_watchdog = LIBXL_ACTION_ON_SHUTDOWN_PRESERVE;
	dc->on_crash = LIBXL_ACTION_ON_SHUTDOWN_PRESERVE;
	dc->on_soft_reset = LIBXL_ACTION_ON_SHUTDOWN_SOFT_RESET;
	return 0;
}

/* ---- Observed: Xen's records into observed state ---------------------- */

void
xen_dom_facts_init(struct xen_dom_facts *f)
{
	memset(f, 0, sizeof(*f));
	f->df_target_kib = -1;
	f->df_static_max_kib = -1;
	f->df_vcpus_online = -1;
	f->df_weight = -1;
	f->df_cap = -1;
}

int64_t
xen_parse_kib(const char *s)
{
	uint64_t v = 0;
	const char *p;

	if (s == NULL || *s == '\0')
		return -1;
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || v > (uint64_t)INT64_MAX / 1024 / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	return (int64_t)v;
}

int
xen_obs_reportable(const xc_domaininfo_t *info)
{
	return !(info->flags & XEN_DOMINF_dying);
}

enum xdc_dom_state
xen_state_from_info(const xc_domaininfo_t *info)
{
	unsigned reason;

	if (info->flags & XEN_DOMINF_shutdown) {
		reason = (info->flags >> XEN_DOMINF_shutdownshift) &
		         XEN_DOMINF_shutdownmask;
		return reason == SHUTDOWN_crash || reason == SHUTDOWN_watchdog
		           ? XDC_DOM_CRASHED
		           : XDC_DOM_STOPPED;
	}
	if (info->flags & XEN_DOMINF_paused)
		return XDC_DOM_PAUSED;
	return XDC_DOM_RUNNING;
}

void
xen_obs_from_info(const xc_domaininfo_t *info, const struct xen_dom_facts *f,
    struct xdc_obs_domain *od)
{
	const struct xen_marker *mk = f->df_marker;
	int ordinary = !f->df_stubdom && info->domain != 0;
	int managed = mk != NULL && ordinary;
	/* What the toolstack set, when it was read: see below. */
	int tuned = ordinary && (managed || f->df_target_kib >= 0);

	memset(od, 0, sizeof(*od));
	od->od_name = f->df_name;
	od->od_domid = info->domain;
	od->od_state = xen_state_from_info(info);
	/*
	 * A managed domain: the target and vCPUs the toolstack set, which
	 * is what xdc declared and changes (a guest balloons towards its
	 * target, and brings vCPUs up while it boots). So is an ordinary
	 * unmanaged one whose facts were read, for xdc import to write and
	 * an adoption to compare with the declaration. Anyone else (Domain-0,
	 * a stub domain): what it holds.
	 */
	if (tuned && f->df_target_kib >= 0)
		od->od_memory = (uint64_t)f->df_target_kib * KIB;
	else
		od->od_memory = info->tot_pages * XC_PAGE_SIZE;
	if (tuned && f->df_static_max_kib >= 0)
		od->od_max_memory = (uint64_t)f->df_static_max_kib * KIB;
	else
		od->od_max_memory = info->max_pages * XC_PAGE_SIZE;
	od->od_max_vcpus = info->max_vcpu_id + 1;
	od->od_vcpus = tuned && f->df_vcpus_online >= 0
	                   ? (uint32_t)f->df_vcpus_online
	                   : info->nr_online_vcpus;
	od->od_weight = f->df_weight >= 0 ? (uint32_t)f->df_weight : 0;
	od->od_cap = f->df_cap >= 0 ? (uint32_t)f->df_cap : 0;
	od->od_managed = managed;
	od->od_stub = f->df_stubdom != 0;
	od->od_protect = managed && mk->mk_protect;
	od->od_hash = managed ? mk->mk_hash : 0;
	od->od_scope = managed ? mk->mk_scope : NULL;
	od->od_applied = managed ? mk->mk_applied : 0;
	od->od_expires = managed ? mk->mk_expires : 0;
}

static enum xdc_disk_format
obs_disk_format(libxl_disk_format f)
{
	switch (f) {
	case LIBXL_DISK_FORMAT_QCOW2:
		return XDC_DISK_QCOW2;
	case LIBXL_DISK_FORMAT_VHD:
		return XDC_DISK_VHD;
	default:
		return XDC_DISK_RAW;
	}
}

static const char *
arena_dup(struct xdc_arena *a, const char *s)
{
	return s != NULL ? xdc_arena_strdup(a, s) : NULL;
}

void
xen_obs_build(const char *type, const struct xen_marker *mk,
    const libxl_device_disk *disks, int ndisks, struct xdc_arena *a,
    struct xdc_obs_domain *od)
{
	struct xdc_obs_build *ob = &od->od_build;
	size_t i, n = ndisks > 0 ? (size_t)ndisks : 0;

	if (type == NULL || mk == NULL)
		return;
	if (strcmp(type, "pv") == 0)
		ob->ob_type = XDC_VM_PV;
	else if (strcmp(type, "pvh") == 0)
		ob->ob_type = XDC_VM_PVH;
	else if (strcmp(type, "hvm") == 0)
		ob->ob_type = XDC_VM_HVM;
	else
		return;
	ob->ob_kernel = arena_dup(a, mk->mk_kernel);
	ob->ob_ramdisk = arena_dup(a, mk->mk_ramdisk);
	ob->ob_cmdline = arena_dup(a, mk->mk_cmdline);
	ob->ob_ndisks = n;
	ob->ob_disks = xdc_arena_zalloc(a, (n + 1) * sizeof(*ob->ob_disks));
	for (i = 0; i < n; i++) {
		const libxl_device_disk *d = &disks[i];

		ob->ob_disks[i].d_target = arena_dup(a, d->pdev_path);
		ob->ob_disks[i].d_vdev = arena_dup(a, d->vdev);
		ob->ob_disks[i].d_format = obs_disk_format(d->format);
		ob->ob_disks[i].d_readonly = !d->readwrite;
	}
	od->od_has_build = 1;
}

void
xen_obs_nics(const libxl_device_nic *nics, int n, struct xdc_arena *a,
    struct xdc_obs_domain *od)
{
	size_t i, count = n > 0 ? (size_t)n : 0;
	const libxl_device_nic **v = xdc_calloc(count + 1, sizeof(*v));

	xen_nics_order(nics, n, v);
	od->od_nnics = count;
	od->od_nics = xdc_arena_zalloc(a, (count + 1) * sizeof(*od->od_nics));
	for (i = 0; i < count; i++) {
		od->od_nics[i].on_bridge = xdc_arena_strdup(
		    a, v[i]->bridge != NULL ? v[i]->bridge : "");
		memcpy(od->od_nics[i].on_mac, v[i]->mac, 6);
	}
	free(v);
}

void
xen_host_from_physinfo(
    const xc_physinfo_t *pi, uint64_t guest_pages, struct xdc_obs_host *oh)
{
	uint64_t avail = pi->free_pages + pi->scrub_pages;

	oh->oh_memory = (avail + guest_pages) * XC_PAGE_SIZE;
	oh->oh_free_memory =
	    (avail > pi->outstanding_pages ? avail - pi->outstanding_pages
	                                   : 0) *
	    XC_PAGE_SIZE;
	oh->oh_cpus = pi->nr_cpus;
}
