/*
 * Observing a Xen host (xen_observe.h): one xc_domain_getinfolist() for
 * every domain and one xc_physinfo() for the host, then per domain only
 * xenstore reads and, for its scheduler weight and cap, one hypercall
 * (the pool's scheduler is asked once per pool). Names and ownership
 * markers are in xenstore; so is everything libxl knows of a domain
 * (memory target, vCPUs online, NICs, disks, image), which is read for
 * every domain but Domain-0 and stubs, so that an unmanaged one can be
 * imported and adopted. No libxl call: libxl_device_nic_list() alone
 * reads some sixty keys per NIC, most of them COLO's, and
 * libxl_domain_sched_params_get() makes three calls (two hypercalls, a
 * xenstore read) to find the domain's scheduler before the one that
 * answers. The NICs and disks are read where libxl keeps its own record of them
 * (/libxl/ID/device/KIND/N) with libxl's rules, key for key, so that xdc
 * sees exactly what libxl would list; tests/xen/test_xen_driver.c checks
 * that against libxl. Each read is one round trip to xenstored, and a
 * transaction would save none (xenstored answers a read in one the same
 * way) while one over the whole host would exceed xenstored's 1024 nodes
 * a transaction may touch, and conflict with every guest writing its own
 * keys meanwhile. The translation into observed state is xen_config.c's.
 */
#include "drivers/xen_observe.h" /* first: xenctrl.h before libxl.h */

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/error.h"
#include "drivers/driver.h"

/* Cpupools whose scheduler one observation remembers; more are asked again. */
#define OBS_POOLS 8

/* One observation: the handles, and what it learnt once for all domains. */
struct obs_pass {
	xc_interface *op_xch;
	struct xs_handle *op_xsh;
	struct {
		uint32_t pp_id;
		int pp_sched; /* XEN_SCHEDULER_*, -1 when libxl finds none */
	} op_pools[OBS_POOLS];
	size_t op_npools;
};

/* ---- Shared with xen.c's actions -------------------------------------- */

char *
xen_xs_get(struct xs_handle *xsh, const char *fmt, ...)
{
	char path[256];
	unsigned int len;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	return xs_read(xsh, XBT_NULL, path, &len);
}

int
xen_list_domains(
    xc_interface *xch, const char *host, xc_domaininfo_t **out, size_t *n)
{
	xc_domaininfo_t *v = NULL;
	size_t cap = 256;
	int got;

	for (;;) {
		v = xdc_reallocarray(v, cap, sizeof(*v));
		got = xc_domain_getinfolist(xch, 0, (unsigned)cap, v);
		if (got < 0) {
			free(v);
			return xdc_error_sys(XDC_EDRIVER,
			    "host %s: xc_domain_getinfolist", host);
		}
		if ((size_t)got < cap)
			break;
		cap *= 2;
	}
	*out = v;
	*n = (size_t)got;
	return 0;
}

static int
has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

void
xen_own_free(struct xen_own *ow)
{
	size_t i;

	for (i = 0; i < XEN_MK__COUNT; i++)
		free(ow->ow_vals[i]);
	memset(ow, 0, sizeof(*ow));
}

/*
 * Device-model stub domains are named NAME-dm and have a target; a
 * xenstore stub domain says so in its flags. None of them is ever xdc's.
 */
void
xen_own_read(struct xs_handle *xsh, const xc_domaininfo_t *info,
    const char *name, struct xen_own *ow)
{
	char path[XEN_MARKER_PATHSZ];
	char *target;
	size_t i;

	memset(ow, 0, sizeof(*ow));
	ow->ow_stub = (info->flags & XEN_DOMINF_xs_domain) != 0 ||
	              (name != NULL && has_suffix(name, "-dm"));
	if (info->domain == 0 || ow->ow_stub || name == NULL)
		return;
	xen_marker_path(info->handle, path);
	/* Most domains that are not xdc's have no marker at all. */
	ow->ow_vals[0] = xen_xs_get(xsh, "%s/%s", path, xen_marker_keys[0]);
	for (i = 1; ow->ow_vals[0] != NULL && i < XEN_MK__COUNT; i++)
		ow->ow_vals[i] =
		    xen_xs_get(xsh, "%s/%s", path, xen_marker_keys[i]);
	if (xen_marker_parse(
	        (const char *const *)ow->ow_vals, name, &ow->ow_mk) != 0)
		return;
	target =
	    xen_xs_get(xsh, "/local/domain/%" PRIu32 "/target", info->domain);
	ow->ow_stub = target != NULL;
	ow->ow_managed = target == NULL;
	free(target);
}

/* ---- A domain's facts ------------------------------------------------- */

/* A number of KiB under the domain's path; -1 when absent or not one. */
static int64_t
xs_kib(struct obs_pass *p, uint32_t domid, const char *key)
{
	char *s =
	    xen_xs_get(p->op_xsh, "/local/domain/%" PRIu32 "/%s", domid, key);
	int64_t v = xen_parse_kib(s);

	free(s);
	return v;
}

/*
 * The scheduler of a cpupool as libxl finds it (libxl__domain_scheduler):
 * Xen's, for a pool that exists and has a name in xenstore; -1 otherwise.
 */
static int
pool_sched(struct obs_pass *p, uint32_t pool)
{
	xc_cpupoolinfo_t *ci;
	char *name = NULL;
	size_t i;
	int sched = -1;

	for (i = 0; i < p->op_npools; i++)
		if (p->op_pools[i].pp_id == pool)
			return p->op_pools[i].pp_sched;
	/* It answers for the first pool from this one on. */
	ci = xc_cpupool_getinfo(p->op_xch, pool);
	if (ci != NULL && ci->cpupool_id == pool &&
	    (name = xen_xs_get(
	         p->op_xsh, "/local/pool/%" PRIu32 "/name", pool)) != NULL)
		sched = (int)ci->sched_id;
	free(name);
	if (ci != NULL)
		xc_cpupool_infofree(p->op_xch, ci);
	if (p->op_npools < OBS_POOLS) {
		p->op_pools[p->op_npools].pp_id = pool;
		p->op_pools[p->op_npools++].pp_sched = sched;
	}
	return sched;
}

/*
 * The weight and cap, which xdc show reports for every domain, as
 * libxl_domain_sched_params_get() has them: credit's or credit2's; none
 * (-1) under the other schedulers, or when Xen does not answer.
 */
static void
sched_read(
    struct obs_pass *p, const xc_domaininfo_t *info, struct xen_dom_facts *f)
{
	struct xen_domctl_sched_credit c;
	struct xen_domctl_sched_credit2 c2;

	switch (pool_sched(p, info->cpupool)) {
	case XEN_SCHEDULER_CREDIT:
		if (xc_sched_credit_domain_get(p->op_xch, info->domain, &c) ==
		    0) {
			f->df_weight = c.weight;
			f->df_cap = c.cap;
		}
		break;
	case XEN_SCHEDULER_CREDIT2:
		if (xc_sched_credit2_domain_get(p->op_xch, info->domain, &c2) ==
		    0) {
			f->df_weight = c2.weight;
			f->df_cap = c2.cap;
		}
		break;
	default:
		break;
	}
}

/*
 * What the toolstack set for a domain, which xdc compares with the
 * declaration: its memory target, max_memory and vCPUs online (xenstore,
 * as libxl wrote them) and its scheduler parameters.
 */
static void
facts_read(struct obs_pass *p, const xc_domaininfo_t *info, const char *type,
    struct xen_dom_facts *f)
{
	uint32_t domid = info->domain, i;
	int64_t video;
	int32_t online = 0;
	char *s;

	f->df_target_kib = xs_kib(p, domid, "memory/target");
	/* libxl keeps an HVM guest's video RAM out of its target. */
	if (f->df_target_kib >= 0 && type != NULL && !strcmp(type, "hvm") &&
	    (video = xs_kib(p, domid, "memory/videoram")) > 0)
		f->df_target_kib += video;
	f->df_static_max_kib = xs_kib(p, domid, "memory/static-max");
	for (i = 0; i <= info->max_vcpu_id; i++) {
		s = xen_xs_get(p->op_xsh,
		    "/local/domain/%" PRIu32 "/cpu/%" PRIu32 "/availability",
		    domid, i);
		online += s != NULL && strcmp(s, "online") == 0;
		free(s);
	}
	f->df_vcpus_online = online;
	sched_read(p, info, f);
}

/* ---- A domain's devices, as libxl lists them -------------------------- */

/* The device kinds libxl recorded for the domain (/libxl/ID/device). */
struct obs_kinds {
	char **ok_v; /* one allocation, xs_directory()'s */
	unsigned int ok_n;
};

static int
has_kind(const struct obs_kinds *k, const char *kind)
{
	unsigned int i;

	for (i = 0; i < k->ok_n; i++)
		if (strcmp(k->ok_v[i], kind) == 0)
			return 1;
	return 0;
}

/* A device's backend path names its backend domain (libxl fails without). */
static int
backend_ok(const char *be)
{
	unsigned int domid;
	char delim;

	return be != NULL &&
	       sscanf(be, "/local/domain/%u%c", &domid, &delim) == 2 &&
	       delim == '/';
}

/* Whether strtol() reads all of s (libxl's test of a NIC's mtu). */
static int
is_number(const char *s)
{
	char *end;

	(void)strtol(s, &end, 10);
	return *end == '\0';
}

/* "xx:xx:xx:xx:xx:xx" as libxl__parse_mac() reads it: 0, or -1. */
static int
mac_parse(const char *s, libxl_mac mac)
{
	const char *tok;
	char *end;
	int i;

	for (i = 0, tok = s; *tok != '\0' && i < 6; i++, tok = end) {
		mac[i] = (uint8_t)strtol(tok, &end, 16);
		if (end != tok + 2 || (*end != '\0' && *end != ':'))
			return -1;
		if (*end == ':')
			end++;
	}
	return i == 6 ? 0 : -1;
}

/*
 * One NIC from libxl's record of it at path (libxl__nic_from_xenstore):
 * the keys xdc reports (handle, mac, bridge) and those without which, or
 * malformed, libxl fails the list (backend, mtu, type). 0, or -1.
 */
static int
nic_read(struct obs_pass *p, const char *path, libxl_device_nic *nic)
{
	libxl_nic_type t;
	char *s;
	int rc = -1;

	s = xen_xs_get(p->op_xsh, "%s/handle", path);
	nic->devid = s != NULL ? atoi(s) : 0;
	free(s);
	s = xen_xs_get(p->op_xsh, "%s/backend", path);
	if (!backend_ok(s))
		goto out;
	free(s);
	if ((s = xen_xs_get(p->op_xsh, "%s/mtu", path)) != NULL &&
	    !is_number(s))
		goto out;
	free(s);
	if ((s = xen_xs_get(p->op_xsh, "%s/mac", path)) != NULL &&
	    mac_parse(s, nic->mac) != 0)
		goto out;
	free(s);
	nic->bridge = xen_xs_get(p->op_xsh, "%s/bridge", path);
	if ((s = xen_xs_get(p->op_xsh, "%s/type", path)) != NULL &&
	    libxl_nic_type_from_string(s, &t) != 0)
		goto out;
	rc = 0;
out:
	free(s);
	return rc;
}

/*
 * One disk from libxl's record of it (libxl__disk_from_xenstore): target
 * (params past its "format:"), vdev, read-only, and the keys libxl fails
 * without. libxl lists no format: every disk is LIBXL_DISK_FORMAT_UNKNOWN.
 */
static int
disk_read(struct obs_pass *p, const char *path, libxl_device_disk *d)
{
	static const char *const colo[] = { "colo-port", "colo-export",
		"active-disk", "hidden-disk" };
	static const char *const needed[] = { "type", "removable",
		"device-type" };
	char *s, *colon;
	size_t i;
	int rc = -1;

	s = xen_xs_get(p->op_xsh, "%s/backend", path);
	if (!backend_ok(s))
		goto out;
	free(s);
	s = xen_xs_get(p->op_xsh, "%s/params", path);
	if (s != NULL && (colon = strchr(s, ':')) != NULL)
		d->pdev_path = xdc_strdup(colon + 1);
	else {
		d->pdev_path = s;
		s = NULL;
	}
	free(s);
	/* COLO's disks must have the rest of COLO's keys. */
	if ((s = xen_xs_get(p->op_xsh, "%s/colo-host", path)) != NULL) {
		for (i = 0; i < sizeof(colo) / sizeof(colo[0]); i++) {
			free(s);
			if ((s = xen_xs_get(
			         p->op_xsh, "%s/%s", path, colo[i])) == NULL)
				goto out;
		}
	}
	free(s);
	s = NULL;
	if ((d->vdev = xen_xs_get(p->op_xsh, "%s/dev", path)) == NULL)
		goto out;
	for (i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
		free(s);
		if ((s = xen_xs_get(p->op_xsh, "%s/%s", path, needed[i])) ==
		    NULL)
			goto out;
	}
	free(s);
	if ((s = xen_xs_get(p->op_xsh, "%s/mode", path)) == NULL)
		goto out;
	d->readwrite = strcmp(s, "w") == 0;
	rc = 0;
out:
	free(s);
	return rc;
}

/*
 * The devices libxl lists of one kind: each entry N of dir (libxl's
 * /libxl/ID/device/KIND) read by one of the above into an array of libxl's
 * own type, in xenstore's order, as libxl__device_list() does; on any
 * device that fails, none, as libxl. The caller frees with
 * libxl_device_{nic,disk}_list_free().
 */
enum obs_dev { OBS_NIC, OBS_DISK };

static void *
devs_read(struct obs_pass *p, enum obs_dev which, const char *dir, int *num)
{
	size_t sz = which == OBS_NIC ? sizeof(libxl_device_nic)
	                             : sizeof(libxl_device_disk);
	char path[128], **ents;
	unsigned int n = 0, i;
	uint8_t *v = NULL, *item;
	int rc = 0;

	*num = 0;
	ents = xs_directory(p->op_xsh, XBT_NULL, dir, &n);
	if (ents == NULL || n == 0)
		goto out;
	v = xdc_calloc(n, sz);
	for (i = 0; i < n && rc == 0; i++) {
		item = v + i * sz;
		snprintf(path, sizeof(path), "%s/%d", dir, atoi(ents[i]));
		if (which == OBS_NIC) {
			libxl_device_nic_init((libxl_device_nic *)item);
			rc = nic_read(p, path, (libxl_device_nic *)item);
		} else {
			libxl_device_disk_init((libxl_device_disk *)item);
			rc = disk_read(p, path, (libxl_device_disk *)item);
		}
		(*num)++;
	}
	if (rc != 0) {
		if (which == OBS_NIC)
			libxl_device_nic_list_free((libxl_device_nic *)v, *num);
		else
			libxl_device_disk_list_free(
			    (libxl_device_disk *)v, *num);
		v = NULL;
		*num = 0;
	}
out:
	free(ents);
	return v;
}

/* The domain's NICs, as libxl_device_nic_list() gives them. */
static libxl_device_nic *
nics_read(
    struct obs_pass *p, uint32_t domid, const struct obs_kinds *k, int *num)
{
	char dir[64];

	*num = 0;
	if (!has_kind(k, "vif"))
		return NULL;
	snprintf(dir, sizeof(dir), "/libxl/%" PRIu32 "/device/vif", domid);
	return devs_read(p, OBS_NIC, dir, num);
}

/*
 * The domain's disks, as libxl_device_disk_list() gives them: Xen's vbd
 * or, instead, virtio disks; libxl refuses a domain with both.
 */
static libxl_device_disk *
disks_read(
    struct obs_pass *p, uint32_t domid, const struct obs_kinds *k, int *num)
{
	int vbd = has_kind(k, "vbd"), virtio = has_kind(k, "virtio_disk");
	char dir[64];

	*num = 0;
	if ((!vbd && !virtio) || (vbd && virtio))
		return NULL;
	snprintf(dir, sizeof(dir), "/libxl/%" PRIu32 "/device/%s", domid,
	    vbd ? "vbd" : "virtio_disk");
	return devs_read(p, OBS_DISK, dir, num);
}

/* ---- A domain --------------------------------------------------------- */

/* An unmanaged domain's kernel, ramdisk and cmdline, as libxl wrote them. */
static void
image_build(struct obs_pass *p, const xc_domaininfo_t *info, const char *type,
    const libxl_device_disk *disks, int ndisks, struct xdc_arena *a,
    struct xdc_obs_domain *od)
{
	char uuid[XEN_UUID_BUFSZ];
	char *kernel, *ramdisk, *cmdline;
	struct xen_marker mk;

	xen_uuid_fmt(info->handle, uuid);
	kernel = xen_xs_get(p->op_xsh, "/vm/%s/image/kernel", uuid);
	ramdisk = xen_xs_get(p->op_xsh, "/vm/%s/image/ramdisk", uuid);
	cmdline = xen_xs_get(p->op_xsh, "/vm/%s/image/cmdline", uuid);
	memset(&mk, 0, sizeof(mk));
	/* libxl writes empty values for what the domain was built without. */
	mk.mk_kernel = kernel != NULL && *kernel != '\0' ? kernel : NULL;
	mk.mk_ramdisk = ramdisk != NULL && *ramdisk != '\0' ? ramdisk : NULL;
	mk.mk_cmdline = cmdline != NULL && *cmdline != '\0' ? cmdline : NULL;
	xen_obs_build(type, &mk, disks, ndisks, a, od);
	free(kernel);
	free(ramdisk);
	free(cmdline);
}

/*
 * What a domain without a name in xenstore is. libxl makes a domain with
 * xc_domain_create, which leaves it paused, and only then, in one xenstore
 * transaction, writes /local/domain/ID with its name (libxl__domain_make);
 * it unmakes one by pausing it, removing /local/domain/ID, then having a
 * child call xc_domain_destroy (devices_destroy_cb). In either window the
 * domain is there, paused and unnamed, and holds memory: it is reported,
 * as unmanaged, under a name that says which, rather than left out or
 * passed off as a VM. A domain that has never run is being built.
 */
static const char *
unnamed(struct xdc_arena *a, const xc_domaininfo_t *info)
{
	return xdc_arena_printf(a, "(domid %" PRIu32 ", %s)", info->domain,
	    info->cpu_time == 0 ? "being built" : "being destroyed");
}

static void
obs_domain(struct obs_pass *p, struct xdc_arena *a, const xc_domaininfo_t *info,
    struct xdc_obs_domain *od)
{
	struct xen_dom_facts f;
	struct xen_own ow;
	struct obs_kinds kinds = { NULL, 0 };
	libxl_device_disk *disks = NULL;
	libxl_device_nic *nics = NULL;
	char path[64], *name = NULL, *type = NULL;
	int ndisks = 0, nnics = 0;

	xen_dom_facts_init(&f);
	name = xen_xs_get(
	    p->op_xsh, "/local/domain/%" PRIu32 "/name", info->domain);
	xen_own_read(p->op_xsh, info, name, &ow);
	f.df_name = name != NULL ? xdc_arena_strdup(a, name) : unnamed(a, info);
	f.df_stubdom = ow.ow_stub;
	if (info->domain == 0 || ow.ow_stub || name == NULL) {
		/* Domain-0's tuning is shown, never changed. */
		if (info->domain == 0)
			sched_read(p, info, &f);
		xen_obs_from_info(info, &f, od);
		goto out;
	}
	/* What libxl alone knows: what xdc tunes, and import writes. */
	if (ow.ow_managed) {
		/* od_scope outlives the marker's strings, freed below. */
		ow.ow_mk.mk_scope = xdc_arena_strdup(a, ow.ow_mk.mk_scope);
		f.df_marker = &ow.ow_mk;
	}
	type = xen_xs_get(p->op_xsh, "/libxl/%" PRIu32 "/type", info->domain);
	facts_read(p, info, type, &f);
	xen_obs_from_info(info, &f, od);
	snprintf(path, sizeof(path), "/libxl/%" PRIu32 "/device", info->domain);
	kinds.ok_v = xs_directory(p->op_xsh, XBT_NULL, path, &kinds.ok_n);
	if (kinds.ok_v == NULL)
		kinds.ok_n = 0;
	nics = nics_read(p, info->domain, &kinds, &nnics);
	xen_obs_nics(nics, nnics, a, od);
	/*
	 * The build record: for xdc's domains the marker's; for the others
	 * what libxl recorded of the image under /vm, so that xdc import
	 * writes what the domain was built from. The planner never compares
	 * the latter: an adoption takes the declaration's word for it.
	 */
	disks = disks_read(p, info->domain, &kinds, &ndisks);
	if (ow.ow_managed)
		xen_obs_build(type, &ow.ow_mk, disks, ndisks, a, od);
	else
		image_build(p, info, type, disks, ndisks, a, od);
out:
	if (disks != NULL)
		libxl_device_disk_list_free(disks, ndisks);
	if (nics != NULL)
		libxl_device_nic_list_free(nics, nnics);
	free(kinds.ok_v);
	xen_own_free(&ow);
	free(type);
	free(name);
}

static int
dom_cmp(const void *p, const void *q)
{
	const struct xdc_obs_domain *a = p, *b = q;

	return strcmp(a->od_name, b->od_name);
}

int
xen_observe_host(xc_interface *xch, struct xs_handle *xsh, const char *host,
    struct xdc_observed **out)
{
	struct obs_pass p;
	struct xdc_observed *obs = NULL;
	struct xdc_obs_host *oh;
	xc_domaininfo_t *v = NULL;
	xc_physinfo_t pi;
	uint64_t guest_pages = 0;
	size_t n = 0, i;
	int rc;

	*out = NULL;
	memset(&p, 0, sizeof(p));
	p.op_xch = xch;
	p.op_xsh = xsh;
	memset(&pi, 0, sizeof(pi));
	if ((rc = xen_list_domains(xch, host, &v, &n)) != 0)
		goto out;
	if (xc_physinfo(xch, &pi) != 0) {
		rc = xdc_error_sys(XDC_EDRIVER, "host %s: xc_physinfo", host);
		goto out;
	}
	obs = xdc_observed_new();
	obs->obs_nhosts = 1;
	obs->obs_hosts = xdc_arena_zalloc(obs->obs_arena, sizeof(*oh));
	oh = &obs->obs_hosts[0];
	oh->oh_name = xdc_arena_strdup(obs->obs_arena, host);
	oh->oh_domains =
	    xdc_arena_zalloc(obs->obs_arena, (n + 1) * sizeof(*oh->oh_domains));
	for (i = 0; i < n; i++) {
		/* Dying domains still hold memory the host will get back. */
		if (v[i].domain != 0)
			guest_pages += v[i].tot_pages;
		if (!xen_obs_reportable(&v[i]))
			continue;
		obs_domain(&p, obs->obs_arena, &v[i],
		    &oh->oh_domains[oh->oh_ndomains++]);
	}
	xen_host_from_physinfo(&pi, guest_pages, oh);
	qsort(
	    oh->oh_domains, oh->oh_ndomains, sizeof(*oh->oh_domains), dom_cmp);
	*out = obs;
	obs = NULL;
	rc = 0;
out:
	xdc_observed_free(obs);
	free(v);
	return rc;
}
