/*
 * One domain, found and changed at once (xen_priv.h): the xen driver's
 * reads of Xen's records for the domain an action is about (by domid, by
 * name, by the UUID xdc derives from a VM's name), the checks that xdc
 * only changes what it owns, the ownership marker's writer, and what an
 * action does in a few synchronous libxl calls: pause, unpause, and an
 * update in place (memory, vCPUs, scheduler, NICs, marker).
 */
#include "drivers/xen_priv.h" /* first: xenctrl.h before libxl.h */

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenstore.h>

#include "base/error.h"
#include "drivers/driver.h"
#include "schema/model.h"

/* ---- Xen's records ---------------------------------------------------- */

/* One domain's record: 0, or XDC_ENOTFOUND when it is gone. */
int
xen_domain_info(struct xen *x, uint32_t domid, xc_domaininfo_t *info)
{
	int got = xc_domain_getinfolist(x->x_xch, domid, 1, info);

	if (got < 0)
		return xdc_error_sys(
		    XDC_EDRIVER, "host %s: xc_domain_getinfolist", x->x_host);
	if (got != 1 || info->domain != domid)
		return XDC_ENOTFOUND;
	return 0;
}

/*
 * The live domain named name: 0, or XDC_ENOTFOUND. Dying ones are gone.
 * hint is where the plan saw it (0: nowhere), which saves reading every
 * domain's name when it is still there.
 */
int
xen_domain_find(
    struct xen *x, const char *name, uint32_t hint, struct xen_dom *out)
{
	xc_domaininfo_t *v = NULL, one;
	char *dname;
	size_t n = 0, i;
	int rc, found = 0;

	memset(out, 0, sizeof(*out));
	if (hint != 0 && xen_domain_info(x, hint, &one) == 0 &&
	    xen_obs_reportable(&one)) {
		dname = xen_xs_get(
		    x->x_xsh, "/local/domain/%" PRIu32 "/name", hint);
		found = dname != NULL && strcmp(dname, name) == 0;
		if (found) {
			out->xd_info = one;
			xen_own_read(x->x_xsh, &one, dname, &out->xd_own);
		}
		free(dname);
		if (found)
			return 0;
	}
	if ((rc = xen_list_domains(x->x_xch, x->x_host, &v, &n)) != 0)
		return rc;
	for (i = 0; i < n && !found; i++) {
		if (!xen_obs_reportable(&v[i]))
			continue;
		dname = xen_xs_get(
		    x->x_xsh, "/local/domain/%" PRIu32 "/name", v[i].domain);
		if (dname != NULL && strcmp(dname, name) == 0) {
			out->xd_info = v[i];
			xen_own_read(x->x_xsh, &v[i], dname, &out->xd_own);
			found = 1;
		}
		free(dname);
	}
	free(v);
	return found ? 0 : XDC_ENOTFOUND;
}

/*
 * The live domain that holds the UUID, in one hypercall: 0 with *out
 * filled, or XDC_ENOTFOUND. A dying one (the old domain of a replace) no
 * longer counts.
 */
int
xen_uuid_holder(struct xen *x, const uint8_t uuid[16], xc_domaininfo_t *out)
{
	xc_domaininfo_t *v = NULL;
	size_t n = 0, i;
	int rc;

	if ((rc = xen_list_domains(x->x_xch, x->x_host, &v, &n)) != 0)
		return rc;
	rc = XDC_ENOTFOUND;
	for (i = 0; i < n; i++) {
		if (xen_obs_reportable(&v[i]) &&
		    memcmp(v[i].handle, uuid, 16) == 0) {
			*out = v[i];
			rc = 0;
			break;
		}
	}
	free(v);
	return rc;
}

int
xen_uuid_taken(struct xen *x, const char *name, uint32_t domid)
{
	return xdc_error(XDC_EDRIVER,
	    "host %s: cannot create %s: domain %" PRIu32
	    " has its UUID (renamed from %s?)",
	    x->x_host, name, domid, name);
}

/*
 * The domain xdc would have made for the VM named name: found by the UUID
 * derived from the name, in one hypercall and a name read, rather than by
 * reading every domain's name; a create costs no more as the host fills.
 * 0, or XDC_ENOTFOUND. A domain of that name that is not xdc's is left
 * for libxl to find (it refuses a second domain of one name).
 */
int
xen_domain_find_vm(struct xen *x, const char *name, struct xen_dom *out)
{
	xc_domaininfo_t info;
	libxl_uuid uuid;
	char *dname;
	int rc;

	memset(out, 0, sizeof(*out));
	xen_uuid_from_name(name, &uuid);
	if ((rc = xen_uuid_holder(x, libxl_uuid_bytearray(&uuid), &info)) != 0)
		return rc;
	dname =
	    xen_xs_get(x->x_xsh, "/local/domain/%" PRIu32 "/name", info.domain);
	if (dname != NULL && strcmp(dname, name) == 0) {
		out->xd_info = info;
		xen_own_read(x->x_xsh, &info, dname, &out->xd_own);
	} else
		rc = xen_uuid_taken(x, name, info.domain);
	free(dname);
	return rc;
}

/* xdc changes only what it owns, and never Domain-0 (SPEC §3). */
int
xen_domain_check_owned(
    struct xen *x, const struct xen_dom *d, enum xdc_op op, const char *name)
{
	if (d->xd_info.domain == 0)
		return xdc_error(XDC_EDRIVER,
		    "host %s: refusing to %s Domain-0", x->x_host,
		    xdc_op_name(op));
	if (d->xd_own.ow_stub)
		return xdc_error(XDC_EDRIVER,
		    "host %s: refusing to %s %s: it is a stub domain",
		    x->x_host, xdc_op_name(op), name);
	if (!d->xd_own.ow_managed)
		return xdc_error(XDC_EDRIVER,
		    "host %s: refusing to %s %s: xdc does not manage it",
		    x->x_host, xdc_op_name(op), name);
	return 0;
}

/*
 * Whether an adoption may take the domain: never Domain-0 or a stub; one
 * that is xdc's already only by the same spec (a retried apply), never
 * from the VM it was built for.
 */
int
xen_domain_check_adoptable(struct xen *x, const struct xen_dom *d,
    const struct xdc_action *a, const char *name)
{
	if (d->xd_info.domain == 0)
		return xdc_error(XDC_EDRIVER,
		    "host %s: refusing to adopt Domain-0", x->x_host);
	if (d->xd_own.ow_stub)
		return xdc_error(XDC_EDRIVER,
		    "host %s: refusing to adopt %s: it is a stub domain",
		    x->x_host, name);
	if (d->xd_own.ow_managed &&
	    d->xd_own.ow_mk.mk_hash != a->a_spec->ds_hash)
		return xdc_error(XDC_EDRIVER,
		    "host %s: cannot adopt %s: xdc manages it already, with "
		    "a different spec",
		    x->x_host, name);
	return 0;
}

/*
 * Write the marker's first nkeys keys in one transaction, under the /vm/UUID
 * that libxl made: all of them for a new domain, XEN_MK_OWNERSHIP for an
 * update of the protect flag or hash.
 */
int
xen_marker_write(struct xen *x, const uint8_t uuid[16],
    const struct xen_marker *mk, size_t nkeys)
{
	char dir[XEN_MARKER_PATHSZ], path[XEN_MARKER_PATHSZ + 16];
	struct xen_marker_vals mv;
	xs_transaction_t t;
	size_t i;

	xen_marker_encode(mk, &mv);
	xen_marker_path(uuid, dir);
	for (;;) {
		if ((t = xs_transaction_start(x->x_xsh)) == XBT_NULL)
			return xdc_error_sys(XDC_EDRIVER,
			    "host %s: %s: cannot start a xenstore transaction",
			    x->x_host, mk->mk_name);
		for (i = 0; i < nkeys; i++) {
			if (mv.mv_v[i] == NULL)
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir,
			    xen_marker_keys[i]);
			if (!xs_write(x->x_xsh, t, path, mv.mv_v[i],
			        (unsigned int)strlen(mv.mv_v[i]))) {
				xs_transaction_end(x->x_xsh, t, true);
				return xdc_error_sys(XDC_EDRIVER,
				    "host %s: %s: cannot write %s", x->x_host,
				    mk->mk_name, path);
			}
		}
		if (xs_transaction_end(x->x_xsh, t, false))
			return 0;
		if (errno != EAGAIN)
			return xdc_error_sys(XDC_EDRIVER,
			    "host %s: %s: cannot write the marker %s",
			    x->x_host, mk->mk_name, dir);
	}
}

/* ---- Actions done at once --------------------------------------------- */

int
xen_domain_pause(
    struct xen *x, const struct xen_dom *d, const char *name, enum xdc_op op)
{
	xc_domaininfo_t info = d->xd_info;
	enum xdc_dom_state st = xen_state_from_info(&info);
	uint32_t domid = info.domain;
	int i, rc;

	if (st != XDC_DOM_RUNNING && st != XDC_DOM_PAUSED)
		return xdc_error(XDC_EDRIVER, "host %s: cannot %s %s: it is %s",
		    x->x_host, xdc_op_name(op), name, xdc_dom_state_name(st));
	xen_log_clear(x);
	/* Xen counts pauses: look before acting, so a retry does not pause
	 * twice, and unpause until it is running. */
	if (op == XDC_OP_PAUSE) {
		if (st == XDC_DOM_PAUSED)
			return 0;
		if ((rc = libxl_domain_pause(x->x_ctx, domid, NULL)) != 0)
			return xen_lx_fail(x, rc, "pause", name);
		return 0;
	}
	for (i = 0; i < XEN_PAUSE_MAX && (info.flags & XEN_DOMINF_paused);
	     i++) {
		if ((rc = libxl_domain_unpause(x->x_ctx, domid, NULL)) != 0)
			return xen_lx_fail(x, rc, "unpause", name);
		if ((rc = xen_domain_info(x, domid, &info)) != 0)
			return rc == XDC_ENOTFOUND ? xdc_error(XDC_EDRIVER,
			                                 "host %s: %s vanished "
			                                 "as it was unpaused",
			                                 x->x_host, name)
			                           : rc;
	}
	return 0;
}

/* The domain's NICs made the declared ones, in declaration order. */
static int
nics_update(struct xen *x, uint32_t domid, const char *name,
    const struct xdc_dom_spec *sp)
{
	const libxl_device_nic **have = NULL;
	libxl_device_nic *list = NULL, want;
	int n = 0, rc = 0;
	size_t keep, i;

	libxl_device_nic_init(&want);
	list = libxl_device_nic_list(x->x_ctx, domid, &n);
	have = xdc_calloc((size_t)(n > 0 ? n : 0) + 1, sizeof(*have));
	xen_nics_order(list, n, have);
	keep = xen_nics_keep(have, (size_t)(n > 0 ? n : 0), sp);
	for (i = (size_t)(n > 0 ? n : 0); i > keep; i--) {
		xen_log_clear(x);
		rc = libxl_device_nic_remove(x->x_ctx, domid,
		    (libxl_device_nic *)(uintptr_t)have[i - 1], NULL);
		if (rc != 0) {
			rc = xen_lx_fail(x, rc, "detach a NIC from", name);
			goto out;
		}
	}
	for (i = keep; i < sp->ds_vm->vm_nnics; i++) {
		libxl_device_nic_dispose(&want);
		libxl_device_nic_init(&want);
		if ((rc = xen_nic_from_spec(sp, i, &want)) != 0)
			goto out;
		xen_log_clear(x);
		if ((rc = libxl_device_nic_add(x->x_ctx, domid, &want, NULL)) !=
		    0) {
			rc = xen_lx_fail(x, rc, "attach a NIC to", name);
			goto out;
		}
	}
out:
	libxl_device_nic_dispose(&want);
	free(have);
	if (list != NULL)
		libxl_device_nic_list_free(list, n);
	return rc;
}

/* What an update changes in place, and only that (a_update). */
int
xen_domain_update(struct xen *x, const struct xen_dom *d, const char *name,
    const struct xdc_action *a)
{
	const struct xdc_dom_spec *sp = a->a_spec;
	const struct xdc_vm *vm = sp->ds_vm;
	uint32_t domid = d->xd_info.domain;
	uint32_t max_vcpus = d->xd_info.max_vcpu_id + 1;
	char b1[XDC_SIZE_BUFSZ], b2[XDC_SIZE_BUFSZ];
	libxl_domain_sched_params sched;
	struct xen_marker mk;
	libxl_bitmap vcpus;
	uint64_t static_max = 0;
	char *s = NULL;
	int rc = 0;

	libxl_domain_sched_params_init(&sched);
	libxl_bitmap_init(&vcpus);
	/* Check what can be checked first: a failed update changes little. */
	if (a->a_update & XDC_UPD_MEMORY) {
		s = xen_xs_get(x->x_xsh,
		    "/local/domain/%" PRIu32 "/memory/static-max", domid);
		static_max = s != NULL ? strtoull(s, NULL, 10) * 1024 : 0;
		if (static_max != 0 && vm->vm_memory > static_max) {
			rc = xdc_error(XDC_EDRIVER,
			    "host %s: cannot set %s's memory to %s: above its "
			    "max_memory %s",
			    x->x_host, name, xdc_size_fmt(vm->vm_memory, b1),
			    xdc_size_fmt(static_max, b2));
			goto out;
		}
	}
	if ((a->a_update & XDC_UPD_VCPUS) && vm->vm_vcpus > max_vcpus) {
		rc = xdc_error(XDC_EDRIVER,
		    "host %s: cannot set %s's vcpus "
		    "to %u: above its max_vcpus %u",
		    x->x_host, name, vm->vm_vcpus, max_vcpus);
		goto out;
	}
	/*
	 * An adoption: the whole marker, build record included, for the
	 * domain's own UUID, before the tuning; should a step of it fail,
	 * the domain is xdc's and the next plan finishes the job.
	 */
	if (a->a_update & XDC_UPD_ADOPT) {
		xen_marker_from_spec(sp, &mk);
		mk.mk_name = name;
		if ((rc = xen_marker_write(
		         x, d->xd_info.handle, &mk, XEN_MK__COUNT)) != 0)
			goto out;
	}
	if (a->a_update & XDC_UPD_MEMORY) {
		xen_log_clear(x);
		/* enforce: Xen's limit follows, as `xl mem-set` does. */
		if ((rc = libxl_set_memory_target(x->x_ctx, domid,
		         (int64_t)(vm->vm_memory / 1024), 0, 1)) != 0) {
			rc = xen_lx_fail(
			    x, rc, "set the memory target of", name);
			goto out;
		}
	}
	if (a->a_update & XDC_UPD_VCPUS) {
		xen_vcpu_bitmap(vm->vm_vcpus, max_vcpus, &vcpus);
		xen_log_clear(x);
		if ((rc = libxl_set_vcpuonline(
		         x->x_ctx, domid, &vcpus, NULL)) != 0) {
			rc = xen_lx_fail(x, rc, "set the vcpus of", name);
			goto out;
		}
	}
	if (a->a_update & XDC_UPD_SCHED) {
		if (sp->ds_cap > 100 * max_vcpus) {
			rc = xdc_error(XDC_EDRIVER,
			    "host %s: cannot cap %s at %u%%: its %u vCPUs use "
			    "at most %u%%",
			    x->x_host, name, sp->ds_cap, max_vcpus,
			    100 * max_vcpus);
			goto out;
		}
		xen_sched_from_spec(sp, &sched);
		/* The default weight is Xen's 256, set as such. */
		if (sched.weight == LIBXL_DOMAIN_SCHED_PARAM_WEIGHT_DEFAULT)
			sched.weight = 256;
		xen_log_clear(x);
		if ((rc = libxl_domain_sched_params_set(
		         x->x_ctx, domid, &sched)) != 0) {
			rc = xen_lx_fail(
			    x, rc, "set the scheduler parameters of", name);
			goto out;
		}
	}
	if ((a->a_update & XDC_UPD_NICS) &&
	    (rc = nics_update(x, domid, name, sp)) != 0)
		goto out;
	if (a->a_update & XDC_UPD_MARKER) {
		xen_marker_from_spec(sp, &mk);
		mk.mk_name = name;
		rc = xen_marker_write(
		    x, d->xd_info.handle, &mk, XEN_MK_OWNERSHIP);
	}
out:
	free(s);
	libxl_bitmap_dispose(&vcpus);
	libxl_domain_sched_params_dispose(&sched);
	return rc;
}
