/*
 * The xen driver (xen.h): xdc as a Xen toolstack. It does to real domains
 * what the sim driver does to simulated ones, with the same semantics
 * (drivers/sim.c is the reference): it runs on a Xen dom0, as root.
 *
 * Observing is xen_observe.c's: one xc_domain_getinfolist() for every
 * domain and one xc_physinfo() for the host, then xenstore reads and one
 * hypercall per domain, no libxl. The translations between xdc's model
 * and Xen's records are in xen_config.c, free of calls into Xen.
 *
 * Acting goes through libxl. Creates and destroys, the slow steps, are
 * libxl asynchronous operations: submit() starts one and returns at once,
 * so independent creates overlap. libxl's file descriptors and timeouts
 * are lent to the caller's event loop (libxl_osevent_register_hooks, see
 * "libxl's events" below); reap() hands over what finished, never
 * waiting. An action is a small state machine over those operations: a
 * replace is a destroy then a create; a stop asks the guest to shut down,
 * waits for it (bounded, by a timer of the loop), then destroys.
 *
 * xdc never changes a domain without its ownership marker (see
 * xen_config.h), Domain-0, a stub domain, or a dying one.
 */
#include "drivers/xen_config.h" /* first: xenctrl.h before libxl.h */

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <libxl_event.h>
#include <xenstore.h>
#include <xentoollog.h>

#include "base/arena.h"
#include "base/error.h"
#include "base/ev.h"
#include "drivers/driver.h"
#include "drivers/wdt.h"
#include "drivers/xen.h"
#include "drivers/xen_migrate.h"
#include "drivers/xen_observe.h"
#include "schema/model.h"

/* How long a guest gets to shut down before it is destroyed. */
#define XEN_STOP_SECS 30
/* Xen counts the toolstack's pauses, up to 255. */
#define XEN_PAUSE_MAX 255
#define XEN_NO_DOMID  ((uint32_t)INVALID_DOMID)

/*
 * A xentoollog logger that keeps libxl's and libxc's last errors, so that a
 * failure is reported through xdc_error() in libxl's own words; the driver
 * prints nothing.
 */
#define XEN_LOG_RING  16
#define XEN_LOG_MSGSZ 256
struct xen_log {
	xentoollog_logger lg_vtable; /* first: libxl calls through it */
	char lg_msg[XEN_LOG_RING][XEN_LOG_MSGSZ]; /* the last errors */
	uint64_t lg_seq;                          /* errors logged so far */
	uint64_t lg_mark; /* lg_seq at the last log_clear() */
};

enum op_step {
	STEP_START,    /* nothing in flight yet */
	STEP_DESTROY,  /* libxl_domain_destroy in flight */
	STEP_CREATE,   /* libxl_domain_create_new in flight */
	STEP_UNDO,     /* destroying what a failed create left */
	STEP_SHUTDOWN, /* a stop: waiting for the guest to shut down */
	STEP_MIGRATE,  /* a migration (xen_migrate.c) in flight */
	STEP_DONE,
};

/* One action in flight, or finished and not yet reported. */
struct xen_op {
	struct xen_op *o_next;
	uint64_t o_id;    /* libxl's for_user: events find their op */
	uint64_t o_token; /* the caller's */
	enum xdc_op o_op;
	char *o_name;
	const struct xdc_dom_spec *o_spec; /* borrowed until reported */
	enum op_step o_step;
	int o_recreate;            /* after the destroy, create */
	uint32_t o_domid;          /* the domain destroyed or shut down */
	uint32_t o_newdomid;       /* libxl sets it as the create goes */
	libxl_domain_config o_cfg; /* alive while libxl builds from it */
	int o_has_cfg;
	libxl_evgen_domain_death *o_deathw;
	struct xen_mig *o_mig; /* a migrate's, until it reports */
	uint64_t o_logseq;     /* libxl's errors from here on are the step's */
	int64_t o_deadline;    /* a stop's: monotonic ms */
	int o_rc;              /* when done */
	char *o_msg; /* xdc_error_last() of a failure, kept for reap() */
};

/* An fd libxl asked to watch, and its watcher in the loop. */
struct xen_fd {
	struct xen_fd *f_next;
	struct xen *f_x;
	int f_fd;
	short f_events;
	void *f_for_libxl;
	struct xdc_ev_io *f_io;
};

/* A timeout libxl asked for, and its timer in the loop. */
struct xen_timeout {
	struct xen_timeout *t_next;
	struct xen *t_x;
	void *t_for_libxl;
	int64_t t_deadline; /* monotonic ms */
	struct xdc_ev_timer *t_timer;
};

struct xen {
	struct xdc_driver x_drv; /* first: the vtable */
	char *x_host;
	struct xen_log x_log;
	libxl_ctx *x_ctx;
	xc_interface *x_xch;
	struct xs_handle *x_xsh;
	struct xs_handle *x_wxsh; /* the loop's watches, opened on demand */
	struct xen_op *x_ops;     /* in submission order */
	uint64_t x_next_id;
	/* The loop libxl's fds and timeouts live in: the caller's once
	 * attach() lent it, the driver's own until then. */
	struct xdc_ev *x_ev;
	struct xdc_ev *x_own_ev;
	struct xen_fd *x_fds;
	struct xen_timeout *x_timeouts;
	struct xdc_ev_timer *x_stop_timer; /* the next stop's deadline */
	struct xen_mig_env x_mig;          /* what migrations borrow */
};

/* A live domain found by name. */
struct xen_dom {
	xc_domaininfo_t xd_info;
	struct xen_own xd_own;
};

static int xen_submit(struct xdc_driver *, const struct xdc_action *, uint64_t);
static int xen_reap(struct xdc_driver *, uint64_t *, int *, char **);
static int xen_attach(struct xdc_driver *, struct xdc_ev *);
static void xen_free(struct xdc_driver *);
static int xen_watch_fd(struct xdc_driver *);
static void xen_watch_drain(struct xdc_driver *);

/* ---- Logging ---------------------------------------------------------- */

static void log_vmessage(xentoollog_logger *lg, xentoollog_level level,
    int errnoval, const char *context, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));

static void
log_vmessage(xentoollog_logger *lg, xentoollog_level level, int errnoval,
    const char *context, const char *fmt, va_list ap)
{
	struct xen_log *l = (struct xen_log *)lg;
	char msg[512], *slot;
	const char *m = msg, *p;
	size_t n;

	(void)context;
	if (level < XTL_ERROR)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* libxl says where: "libxl_create.c:662:libxl__domain_make: ". */
	if ((p = strstr(msg, ".c:")) != NULL && p - msg < 48 &&
	    (p = strchr(p + 3, ':')) != NULL && (p = strchr(p + 1, ':')) &&
	    p[1] == ' ')
		m = p + 2;
	n = strlen(m);
	while (n > 0 && (m[n - 1] == '\n' || m[n - 1] == ' '))
		n--;
	slot = l->lg_msg[l->lg_seq % XEN_LOG_RING];
	if (errnoval > 0)
		snprintf(slot, XEN_LOG_MSGSZ, "%.*s: %s", (int)n, m,
		    strerror(errnoval));
	else
		snprintf(slot, XEN_LOG_MSGSZ, "%.*s", (int)n, m);
	l->lg_seq++;
}

static void
log_progress(xentoollog_logger *lg, const char *context, const char *what,
    int percent, unsigned long done, unsigned long total)
{
	(void)lg, (void)context, (void)what, (void)percent, (void)done;
	(void)total;
}

static void
log_destroy(xentoollog_logger *lg)
{
	(void)lg; /* embedded in struct xen, freed with it */
}

/* Forget earlier errors: what follows is about the next call. */
static void
log_clear(struct xen *x)
{
	x->x_log.lg_mark = x->x_log.lg_seq;
}

/* Whether a message is about another domain than domid ("Domain 7:..."). */
static int
log_other_domain(const char *msg, uint32_t domid)
{
	unsigned d;

	return domid != XEN_NO_DOMID && sscanf(msg, "Domain %u:", &d) == 1 &&
	       d != domid;
}

#define XEN_WHY_BUFSZ (2 * XEN_LOG_MSGSZ + 8)
/*
 * libxl's words for a failure: the first error logged since seq (the
 * cause) and the last (what gave up), leaving out those about other
 * domains, which actions in flight at the same time log too; or its code.
 */
static const char *
lx_why(struct xen *x, int rc, uint64_t seq, uint32_t domid,
    char buf[XEN_WHY_BUFSZ])
{
	const struct xen_log *l = &x->x_log;
	const char *first = NULL, *last = NULL, *m;

	if (l->lg_seq > XEN_LOG_RING && seq < l->lg_seq - XEN_LOG_RING)
		seq = l->lg_seq - XEN_LOG_RING;
	for (; seq < l->lg_seq; seq++) {
		m = l->lg_msg[seq % XEN_LOG_RING];
		if (log_other_domain(m, domid))
			continue;
		if (first == NULL)
			first = m;
		last = m;
	}
	if (first == NULL)
		snprintf(buf, XEN_WHY_BUFSZ, "libxl error %d", rc);
	else if (first == last)
		snprintf(buf, XEN_WHY_BUFSZ, "%s", first);
	else
		snprintf(buf, XEN_WHY_BUFSZ, "%s; %s", first, last);
	return buf;
}

/* "host H: cannot VERB NAME: WHY" with libxl's reason since log_clear(). */
static int
lx_fail(struct xen *x, int rc, const char *verb, const char *name)
{
	char why[XEN_WHY_BUFSZ];

	return xdc_error(XDC_EDRIVER, "host %s: cannot %s %s: %s", x->x_host,
	    verb, name, lx_why(x, rc, x->x_log.lg_mark, XEN_NO_DOMID, why));
}

/* ---- Xen's records ---------------------------------------------------- */

/* One domain's record: 0, or XDC_ENOTFOUND when it is gone. */
static int
dom_info(struct xen *x, uint32_t domid, xc_domaininfo_t *info)
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
static int
dom_find(struct xen *x, const char *name, uint32_t hint, struct xen_dom *out)
{
	xc_domaininfo_t *v = NULL, one;
	char *dname;
	size_t n = 0, i;
	int rc, found = 0;

	memset(out, 0, sizeof(*out));
	if (hint != 0 && dom_info(x, hint, &one) == 0 &&
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
static int
uuid_holder(struct xen *x, const uint8_t uuid[16], xc_domaininfo_t *out)
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

static int
uuid_taken(struct xen *x, const char *name, uint32_t domid)
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
static int
dom_find_vm(struct xen *x, const char *name, struct xen_dom *out)
{
	xc_domaininfo_t info;
	libxl_uuid uuid;
	char *dname;
	int rc;

	memset(out, 0, sizeof(*out));
	xen_uuid_from_name(name, &uuid);
	if ((rc = uuid_holder(x, libxl_uuid_bytearray(&uuid), &info)) != 0)
		return rc;
	dname =
	    xen_xs_get(x->x_xsh, "/local/domain/%" PRIu32 "/name", info.domain);
	if (dname != NULL && strcmp(dname, name) == 0) {
		out->xd_info = info;
		xen_own_read(x->x_xsh, &info, dname, &out->xd_own);
	} else
		rc = uuid_taken(x, name, info.domain);
	free(dname);
	return rc;
}

/* xdc changes only what it owns, and never Domain-0 (SPEC §3). */
static int
dom_check_owned(
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
static int
dom_check_adoptable(struct xen *x, const struct xen_dom *d,
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
static int
marker_write(struct xen *x, const uint8_t uuid[16], const struct xen_marker *mk,
    size_t nkeys)
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

/* ---- Observe ---------------------------------------------------------- */

/* Observing is xen_observe.c's, with the driver's handles. */
static int
xen_observe(struct xdc_driver *drv, struct xdc_observed **out)
{
	struct xen *x = (struct xen *)drv;

	return xen_observe_host(x->x_xch, x->x_xsh, x->x_host, out);
}

/* ---- Actions in flight ------------------------------------------------ */

static struct xen_op *
op_new(
    struct xen *x, const struct xdc_action *a, const char *name, uint64_t token)
{
	struct xen_op *op = xdc_calloc(1, sizeof(*op)), **pp;

	op->o_id = ++x->x_next_id;
	op->o_token = token;
	op->o_op = a->a_op;
	op->o_name = xdc_strdup(name);
	op->o_spec = a->a_spec;
	op->o_domid = op->o_newdomid = XEN_NO_DOMID;
	op->o_step = STEP_START;
	for (pp = &x->x_ops; *pp != NULL; pp = &(*pp)->o_next)
		;
	*pp = op;
	return op;
}

static void
op_free(struct xen *x, struct xen_op *op)
{
	struct xen_op **pp;

	for (pp = &x->x_ops; *pp != NULL; pp = &(*pp)->o_next) {
		if (*pp == op) {
			*pp = op->o_next;
			break;
		}
	}
	if (op->o_deathw != NULL)
		libxl_evdisable_domain_death(x->x_ctx, op->o_deathw);
	xen_mig_detach(op->o_mig);
	if (op->o_has_cfg)
		libxl_domain_config_dispose(&op->o_cfg);
	free(op->o_name);
	free(op->o_msg);
	free(op);
}

/* The action is over: rc, with xdc_error_last() kept when it failed. */
static void
op_finish(struct xen_op *op, int rc)
{
	op->o_step = STEP_DONE;
	op->o_rc = rc;
	free(op->o_msg);
	op->o_msg = rc != 0 ? xdc_strdup(xdc_error_last()) : NULL;
}

/* An asynchronous step failed: libxl's reason, about the step's domain. */
static int
lx_fail_op(struct xen *x, struct xen_op *op, int rc, const char *verb)
{
	char why[XEN_WHY_BUFSZ];
	uint32_t domid =
	    op->o_step == STEP_CREATE ? op->o_newdomid : op->o_domid;

	return xdc_error(XDC_EDRIVER, "host %s: cannot %s %s: %s", x->x_host,
	    verb, op->o_name, lx_why(x, rc, op->o_logseq, domid, why));
}

static libxl_asyncop_how
op_how(const struct xen_op *op)
{
	libxl_asyncop_how how;

	/* No callback: completion is an OPERATION_COMPLETE event, which
	 * reap() takes with libxl_event_check(). */
	memset(&how, 0, sizeof(how));
	how.callback = NULL;
	how.u.for_event = op->o_id;
	return how;
}

static int
op_destroy(struct xen *x, struct xen_op *op, uint32_t domid)
{
	libxl_asyncop_how how = op_how(op);
	int rc;

	op->o_domid = domid;
	log_clear(x);
	op->o_logseq = x->x_log.lg_mark;
	if ((rc = libxl_domain_destroy(x->x_ctx, domid, &how)) != 0)
		return lx_fail(x, rc, "destroy", op->o_name);
	op->o_step = STEP_DESTROY;
	return 0;
}

/* No other live domain may have the UUID: libxl would clear its /vm. */
static int
uuid_free(struct xen *x, const char *name, const libxl_uuid *uuid)
{
	xc_domaininfo_t info;
	int rc;

	rc = uuid_holder(x, libxl_uuid_bytearray_const(uuid), &info);
	if (rc == XDC_ENOTFOUND)
		return 0;
	return rc != 0 ? rc : uuid_taken(x, name, info.domain);
}

static int
name_taken(struct xen *x, const char *name, int managed)
{
	return xdc_error(XDC_EDRIVER,
	    "host %s: cannot create %s: a domain of that name exists (%s)",
	    x->x_host, name,
	    managed ? "with a different spec" : "not managed by xdc");
}

/*
 * A create failed. When the name is another domain's (libxl refuses a
 * second domain of one name), say so plainly; otherwise libxl's words.
 */
static int
create_fail(struct xen *x, struct xen_op *op, int rc)
{
	struct xen_dom d;
	int taken, managed;

	taken = dom_find(x, op->o_name, 0, &d) == 0 &&
	        d.xd_info.domain != op->o_newdomid;
	managed = d.xd_own.ow_managed;
	xen_own_free(&d.xd_own);
	if (taken)
		return name_taken(x, op->o_name, managed);
	return op->o_step == STEP_CREATE ? lx_fail_op(x, op, rc, "create")
	                                 : lx_fail(x, rc, "create", op->o_name);
}

/* Build the domain, paused, with libxl; the marker comes once it exists. */
static int
op_create(struct xen *x, struct xen_op *op)
{
	char need[XDC_SIZE_BUFSZ], avail[XDC_SIZE_BUFSZ];
	libxl_asyncop_how how = op_how(op);
	xc_physinfo_t pi;
	uint64_t free_mem;
	int rc;

	if (op->o_has_cfg)
		libxl_domain_config_dispose(&op->o_cfg);
	libxl_domain_config_init(&op->o_cfg);
	op->o_has_cfg = 1;
	if ((rc = xen_config_from_spec(op->o_spec, &op->o_cfg)) != 0)
		return rc;
	if ((rc = uuid_free(x, op->o_name, &op->o_cfg.c_info.uuid)) != 0)
		return rc;
	/* Said plainly here rather than as libxl's allocation failure. */
	memset(&pi, 0, sizeof(pi));
	if (xc_physinfo(x->x_xch, &pi) == 0) {
		free_mem = pi.free_pages * XC_PAGE_SIZE;
		if (op->o_spec->ds_vm->vm_memory > free_mem)
			return xdc_error(XDC_EDRIVER,
			    "host %s: cannot create %s: it needs %s of memory "
			    "and %s is free",
			    x->x_host, op->o_name,
			    xdc_size_fmt(op->o_spec->ds_vm->vm_memory, need),
			    xdc_size_fmt(free_mem, avail));
	}
	op->o_newdomid = XEN_NO_DOMID;
	log_clear(x);
	op->o_logseq = x->x_log.lg_mark;
	rc = libxl_domain_create_new(
	    x->x_ctx, &op->o_cfg, &op->o_newdomid, &how, NULL);
	if (rc != 0)
		return create_fail(x, op, rc);
	op->o_step = STEP_CREATE;
	return 0;
}

/* The domain is built and paused: mark it xdc's, then let it run. */
static int
op_post_create(struct xen *x, struct xen_op *op)
{
	struct xen_marker mk;
	xc_domaininfo_t info;
	int rc;

	if ((rc = dom_info(x, op->o_newdomid, &info)) != 0)
		return rc == XDC_ENOTFOUND
		           ? xdc_error(XDC_EDRIVER,
		                 "host %s: %s (domid %" PRIu32
		                 ") vanished as it was made",
		                 x->x_host, op->o_name, op->o_newdomid)
		           : rc;
	xen_marker_from_spec(op->o_spec, &mk);
	mk.mk_name = op->o_name;
	if ((rc = marker_write(x, info.handle, &mk, XEN_MK__COUNT)) != 0)
		return rc;
	if (op->o_spec->ds_vm->vm_state == XDC_VM_PAUSED)
		return 0;
	log_clear(x);
	if ((rc = libxl_domain_unpause(x->x_ctx, op->o_newdomid, NULL)) != 0)
		return lx_fail(x, rc, "unpause", op->o_name);
	return 0;
}

/*
 * A create failed: destroy what is left of the domain, if anything, and
 * fail with the create's reason. libxl destroys a domain whose build it
 * could not finish; this is for the steps after it (marker, unpause).
 */
static void
op_undo(struct xen *x, struct xen_op *op, int rc)
{
	xc_domaininfo_t info;
	char *msg = xdc_strdup(xdc_error_last());
	libxl_asyncop_how how = op_how(op);

	if (op->o_newdomid == XEN_NO_DOMID ||
	    dom_info(x, op->o_newdomid, &info) != 0 ||
	    memcmp(info.handle,
	        libxl_uuid_bytearray_const(&op->o_cfg.c_info.uuid), 16) != 0 ||
	    libxl_domain_destroy(x->x_ctx, op->o_newdomid, &how) != 0) {
		xdc_error(rc, "%s", msg);
		op_finish(op, rc);
		free(msg);
		return;
	}
	op->o_step = STEP_UNDO;
	op->o_rc = rc;
	free(op->o_msg);
	op->o_msg = msg;
}

/* A libxl operation of the action finished with rc. */
static void
op_advance(struct xen *x, struct xen_op *op, int rc)
{
	switch (op->o_step) {
	case STEP_DESTROY:
		/* A domain already gone is what a destroy wants. */
		if (rc != 0 && rc != ERROR_DOMAIN_NOTFOUND) {
			op_finish(op, lx_fail_op(x, op, rc, "destroy"));
			return;
		}
		if (!op->o_recreate) {
			op_finish(op, 0);
			return;
		}
		op->o_recreate = 0;
		if ((rc = op_create(x, op)) != 0)
			op_finish(op, rc);
		return;
	case STEP_CREATE:
		if (rc != 0)
			rc = create_fail(x, op, rc);
		else
			rc = op_post_create(x, op);
		if (rc != 0)
			op_undo(x, op, rc);
		else
			op_finish(op, 0);
		return;
	case STEP_UNDO:
		xdc_error(op->o_rc, "%s", op->o_msg);
		op_finish(op, op->o_rc);
		return;
	case STEP_START:
	case STEP_SHUTDOWN:
	case STEP_MIGRATE: /* its steps report to mig_done */
	case STEP_DONE:
		return;
	}
}

/* A stop's guest shut down (or died), or its time is up: destroy it. */
static void
op_stopped(struct xen *x, struct xen_op *op, int dead)
{
	int rc;

	if (op->o_deathw != NULL) {
		libxl_evdisable_domain_death(x->x_ctx, op->o_deathw);
		op->o_deathw = NULL;
	}
	if (dead) {
		op_finish(op, 0);
		return;
	}
	if ((rc = op_destroy(x, op, op->o_domid)) != 0)
		op_finish(op, rc);
}

static struct xen_op *
op_by_id(struct xen *x, uint64_t id)
{
	struct xen_op *op;

	for (op = x->x_ops; op != NULL; op = op->o_next)
		if (op->o_id == id)
			return op;
	return NULL;
}

static void
dispatch(struct xen *x, const libxl_event *ev)
{
	struct xen_op *op = op_by_id(x, ev->for_user);

	if (op == NULL)
		return;
	switch (ev->type) {
	case LIBXL_EVENT_TYPE_OPERATION_COMPLETE:
		op_advance(x, op, ev->u.operation_complete.rc);
		break;
	case LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN:
	case LIBXL_EVENT_TYPE_DOMAIN_DEATH:
		if (op->o_step == STEP_SHUTDOWN)
			op_stopped(
			    x, op, ev->type == LIBXL_EVENT_TYPE_DOMAIN_DEATH);
		break;
	default:
		break;
	}
}

/* Stops whose guest took too long are destroyed; the timer is armed for
 * the next deadline. */
static void
deadlines(struct xen *x)
{
	int64_t now = xdc_ev_now(), next = INT64_MAX;
	struct xen_op *op;

	for (op = x->x_ops; op != NULL; op = op->o_next) {
		if (op->o_step != STEP_SHUTDOWN)
			continue;
		if (op->o_deadline <= now)
			op_stopped(x, op, 0);
		else if (op->o_deadline < next)
			next = op->o_deadline;
	}
	if (next != INT64_MAX)
		xdc_ev_timer_at(x->x_stop_timer, next);
	else
		xdc_ev_timer_stop(x->x_stop_timer);
}

static void
on_stop_timer(struct xdc_ev_timer *t, void *arg)
{
	(void)t;
	deadlines(arg);
}

/* Hand libxl's finished operations and domain events to their actions. */
static void
take_events(struct xen *x)
{
	libxl_event *ev;

	while (libxl_event_check(
	           x->x_ctx, &ev, LIBXL_EVENTMASK_ALL, NULL, NULL) == 0) {
		dispatch(x, ev);
		libxl_event_free(x->x_ctx, ev);
	}
}

/* ---- libxl's events, in the caller's loop ----------------------------- */

/*
 * libxl tells which fds and timeouts it waits on through these hooks; each
 * becomes a watcher or a timer of x->x_ev, and when one fires libxl hears
 * of it (libxl_osevent_occurred_*), outside any libxl call as it demands.
 * The registrations are kept here too, so that attach() can move them from
 * the driver's own loop to the caller's.
 */
static void
on_libxl_fd(struct xdc_ev_io *io, int fd, short revents, void *arg)
{
	struct xen_fd *f = arg;

	(void)io;
	libxl_osevent_occurred_fd(
	    f->f_x->x_ctx, f->f_for_libxl, fd, f->f_events, revents);
}

static int
hook_fd_register(
    void *user, int fd, void **for_app, short events, void *for_libxl)
{
	struct xen *x = user;
	struct xen_fd *f = xdc_calloc(1, sizeof(*f));

	f->f_x = x;
	f->f_fd = fd;
	f->f_events = events;
	f->f_for_libxl = for_libxl;
	f->f_io = xdc_ev_io_add(x->x_ev, fd, events, on_libxl_fd, f);
	f->f_next = x->x_fds;
	x->x_fds = f;
	*for_app = f;
	return 0;
}

static int
hook_fd_modify(void *user, int fd, void **for_app, short events)
{
	struct xen_fd *f = *for_app;

	(void)user;
	(void)fd;
	f->f_events = events;
	xdc_ev_io_set(f->f_io, events);
	return 0;
}

static void
hook_fd_deregister(void *user, int fd, void *for_app)
{
	struct xen *x = user;
	struct xen_fd *f = for_app, **pp;

	(void)fd;
	for (pp = &x->x_fds; *pp != NULL; pp = &(*pp)->f_next)
		if (*pp == f) {
			*pp = f->f_next;
			break;
		}
	xdc_ev_io_del(f->f_io);
	free(f);
}

static void
timeout_forget(struct xen *x, struct xen_timeout *t)
{
	struct xen_timeout **pp;

	for (pp = &x->x_timeouts; *pp != NULL; pp = &(*pp)->t_next)
		if (*pp == t) {
			*pp = t->t_next;
			break;
		}
	xdc_ev_timer_free(t->t_timer);
	free(t);
}

static void
on_libxl_timeout(struct xdc_ev_timer *tm, void *arg)
{
	struct xen_timeout *t = arg;
	struct xen *x = t->t_x;
	void *for_libxl = t->t_for_libxl;

	(void)tm;
	/* Deregistered as it fires: libxl registers it again if it wants. */
	timeout_forget(x, t);
	libxl_osevent_occurred_timeout(x->x_ctx, for_libxl);
}

/* libxl's absolute times are gettimeofday()'s; the loop's monotonic. */
static int64_t
mono_of(struct timeval abs)
{
	int64_t ms = (int64_t)abs.tv_sec * 1000 + abs.tv_usec / 1000;

	if (abs.tv_sec == 0 && abs.tv_usec == 0)
		return xdc_ev_now(); /* "as soon as possible" */
	return xdc_ev_now() + (ms - xdc_ev_realtime());
}

static int
hook_timeout_register(
    void *user, void **for_app, struct timeval abs, void *for_libxl)
{
	struct xen *x = user;
	struct xen_timeout *t = xdc_calloc(1, sizeof(*t));

	t->t_x = x;
	t->t_for_libxl = for_libxl;
	t->t_deadline = mono_of(abs);
	t->t_timer = xdc_ev_timer_new(x->x_ev, on_libxl_timeout, t);
	xdc_ev_timer_at(t->t_timer, t->t_deadline);
	t->t_next = x->x_timeouts;
	x->x_timeouts = t;
	*for_app = t;
	return 0;
}

static int
hook_timeout_modify(void *user, void **for_app, struct timeval abs)
{
	struct xen_timeout *t = *for_app;

	(void)user;
	t->t_deadline = mono_of(abs);
	xdc_ev_timer_at(t->t_timer, t->t_deadline);
	return 0;
}

static void
hook_timeout_deregister(void *user, void *for_app)
{
	timeout_forget(user, for_app);
}

static const libxl_childproc_hooks xen_childproc = {
	.chldowner = libxl_sigchld_owner_libxl_always_selective_reap,
};

static const libxl_osevent_hooks xen_hooks = {
	.fd_register = hook_fd_register,
	.fd_modify = hook_fd_modify,
	.fd_deregister = hook_fd_deregister,
	.timeout_register = hook_timeout_register,
	.timeout_modify = hook_timeout_modify,
	.timeout_deregister = hook_timeout_deregister,
};

/* Move every watcher and timer from the loop they are in to ev. */
static void
move_to(struct xen *x, struct xdc_ev *ev)
{
	struct xen_fd *f;
	struct xen_timeout *t;
	int64_t stop = xdc_ev_timer_deadline(x->x_stop_timer);

	for (f = x->x_fds; f != NULL; f = f->f_next) {
		xdc_ev_io_del(f->f_io);
		f->f_io =
		    xdc_ev_io_add(ev, f->f_fd, f->f_events, on_libxl_fd, f);
	}
	for (t = x->x_timeouts; t != NULL; t = t->t_next) {
		xdc_ev_timer_free(t->t_timer);
		t->t_timer = xdc_ev_timer_new(ev, on_libxl_timeout, t);
		xdc_ev_timer_at(t->t_timer, t->t_deadline);
	}
	xdc_ev_timer_free(x->x_stop_timer);
	x->x_stop_timer = xdc_ev_timer_new(ev, on_stop_timer, x);
	if (stop != INT64_MAX)
		xdc_ev_timer_at(x->x_stop_timer, stop);
	x->x_ev = ev;
}

static int
xen_attach(struct xdc_driver *drv, struct xdc_ev *ev)
{
	struct xen *x = (struct xen *)drv;

	if (ev == x->x_ev)
		return 0;
	move_to(x, ev);
	xdc_ev_free(x->x_own_ev);
	x->x_own_ev = NULL;
	return 0;
}

/* ---- Actions done at once --------------------------------------------- */

static int
dom_pause(
    struct xen *x, const struct xen_dom *d, const char *name, enum xdc_op op)
{
	xc_domaininfo_t info = d->xd_info;
	enum xdc_dom_state st = xen_state_from_info(&info);
	uint32_t domid = info.domain;
	int i, rc;

	if (st != XDC_DOM_RUNNING && st != XDC_DOM_PAUSED)
		return xdc_error(XDC_EDRIVER, "host %s: cannot %s %s: it is %s",
		    x->x_host, xdc_op_name(op), name, xdc_dom_state_name(st));
	log_clear(x);
	/* Xen counts pauses: look before acting, so a retry does not pause
	 * twice, and unpause until it is running. */
	if (op == XDC_OP_PAUSE) {
		if (st == XDC_DOM_PAUSED)
			return 0;
		if ((rc = libxl_domain_pause(x->x_ctx, domid, NULL)) != 0)
			return lx_fail(x, rc, "pause", name);
		return 0;
	}
	for (i = 0; i < XEN_PAUSE_MAX && (info.flags & XEN_DOMINF_paused);
	     i++) {
		if ((rc = libxl_domain_unpause(x->x_ctx, domid, NULL)) != 0)
			return lx_fail(x, rc, "unpause", name);
		if ((rc = dom_info(x, domid, &info)) != 0)
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
		log_clear(x);
		rc = libxl_device_nic_remove(x->x_ctx, domid,
		    (libxl_device_nic *)(uintptr_t)have[i - 1], NULL);
		if (rc != 0) {
			rc = lx_fail(x, rc, "detach a NIC from", name);
			goto out;
		}
	}
	for (i = keep; i < sp->ds_vm->vm_nnics; i++) {
		libxl_device_nic_dispose(&want);
		libxl_device_nic_init(&want);
		if ((rc = xen_nic_from_spec(sp, i, &want)) != 0)
			goto out;
		log_clear(x);
		if ((rc = libxl_device_nic_add(x->x_ctx, domid, &want, NULL)) !=
		    0) {
			rc = lx_fail(x, rc, "attach a NIC to", name);
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
static int
dom_update(struct xen *x, const struct xen_dom *d, const char *name,
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
		if ((rc = marker_write(
		         x, d->xd_info.handle, &mk, XEN_MK__COUNT)) != 0)
			goto out;
	}
	if (a->a_update & XDC_UPD_MEMORY) {
		log_clear(x);
		/* enforce: Xen's limit follows, as `xl mem-set` does. */
		if ((rc = libxl_set_memory_target(x->x_ctx, domid,
		         (int64_t)(vm->vm_memory / 1024), 0, 1)) != 0) {
			rc = lx_fail(x, rc, "set the memory target of", name);
			goto out;
		}
	}
	if (a->a_update & XDC_UPD_VCPUS) {
		xen_vcpu_bitmap(vm->vm_vcpus, max_vcpus, &vcpus);
		log_clear(x);
		if ((rc = libxl_set_vcpuonline(
		         x->x_ctx, domid, &vcpus, NULL)) != 0) {
			rc = lx_fail(x, rc, "set the vcpus of", name);
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
		log_clear(x);
		if ((rc = libxl_domain_sched_params_set(
		         x->x_ctx, domid, &sched)) != 0) {
			rc = lx_fail(
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
		rc = marker_write(x, d->xd_info.handle, &mk, XEN_MK_OWNERSHIP);
	}
out:
	free(s);
	libxl_bitmap_dispose(&vcpus);
	libxl_domain_sched_params_dispose(&sched);
	return rc;
}

/* ---- Starting an action ----------------------------------------------- */

/*
 * Ask the guest to shut down; wait_stop (through the event loop) destroys
 * it once it has, or once XEN_STOP_SECS have passed.
 */
static int
op_stop(struct xen *x, struct xen_op *op, const struct xen_dom *d)
{
	uint32_t domid = d->xd_info.domain;
	enum xdc_dom_state st = xen_state_from_info(&d->xd_info);
	int rc;

	if (st == XDC_DOM_STOPPED || st == XDC_DOM_CRASHED)
		return op_destroy(x, op, domid);
	/* A paused guest cannot act on the request: let it. */
	if (st == XDC_DOM_PAUSED &&
	    (rc = dom_pause(x, d, op->o_name, XDC_OP_UNPAUSE)) != 0)
		return rc;
	log_clear(x);
	rc = libxl_domain_shutdown(x->x_ctx, domid, NULL);
	if (rc == ERROR_NOPARAVIRT) /* an HVM guest without PV drivers */
		rc = libxl_send_trigger(
		    x->x_ctx, domid, LIBXL_TRIGGER_POWER, 0, NULL);
	/* A guest that cannot be asked is stopped the hard way. */
	if (rc != 0)
		return op_destroy(x, op, domid);
	op->o_domid = domid;
	log_clear(x);
	if ((rc = libxl_evenable_domain_death(
	         x->x_ctx, domid, op->o_id, &op->o_deathw)) != 0)
		return lx_fail(x, rc, "watch the shutdown of", op->o_name);
	op->o_deadline = xdc_ev_now() + XEN_STOP_SECS * 1000;
	op->o_step = STEP_SHUTDOWN;
	return 0;
}

static int
spec_check(struct xen *x, const struct xdc_action *a, const char *name)
{
	if (a->a_spec == NULL || a->a_spec->ds_vm == NULL)
		return xdc_error(XDC_EDRIVER,
		    "host %s: %s %s: the action has no spec", x->x_host,
		    xdc_op_name(a->a_op), name);
	return 0;
}

/* ---- Migration (xen_migrate.c) --------------------------------------- */

/* The receiver has taken the domain over (rc 0), or why not, and where. */
static void
mig_done(void *arg, int rc, const char *why)
{
	struct xen_op *op = arg;

	op->o_mig = NULL;
	if (rc != 0)
		xdc_error(rc, "%s", why != NULL ? why : "migration failed");
	op_finish(op, rc);
}

static int
op_migrate(struct xen *x, struct xen_op *op, const struct xen_dom *d,
    const struct xdc_action *a)
{
	enum xdc_dom_state st = xen_state_from_info(&d->xd_info);
	int rc;

	if (a->a_to_host == NULL || !strcmp(a->a_to_host, x->x_host))
		return xdc_error(XDC_EDRIVER,
		    "host %s: cannot migrate %s: the action names no other "
		    "host",
		    x->x_host, op->o_name);
	/* Live migration moves a running guest; others are re-created. */
	if (st != XDC_DOM_RUNNING)
		return xdc_error(XDC_EDRIVER,
		    "host %s: cannot migrate %s: it is %s", x->x_host,
		    op->o_name, xdc_dom_state_name(st));
	/* Set first: mig_done may come before xen_mig_start returns. */
	op->o_domid = d->xd_info.domain;
	op->o_step = STEP_MIGRATE;
	rc = xen_mig_start(&x->x_mig, x->x_ev, op->o_name, d->xd_info.domain,
	    (const char *const *)d->xd_own.ow_vals, a->a_to_host, mig_done, op,
	    &op->o_mig);
	if (rc != 0)
		op->o_step = STEP_START; /* nothing started: op_start ends it */
	return rc;
}

static uint64_t
mig_mark(void *arg)
{
	struct xen *x = arg;

	log_clear(x);
	return x->x_log.lg_mark;
}

static const char *
mig_why(
    void *arg, int rc, uint64_t mark, uint32_t domid, char buf[XEN_MIG_WHYSZ])
{
	struct xen *x = arg;
	char why[XEN_WHY_BUFSZ];

	snprintf(buf, XEN_MIG_WHYSZ, "%s", lx_why(x, rc, mark, domid, why));
	return buf;
}

/* Start the action: finish it, or leave libxl working on it. */
static int
op_start(struct xen *x, struct xen_op *op, const struct xdc_action *a)
{
	const char *name = op->o_name;
	struct xen_dom d;
	enum xdc_dom_state st;
	int rc, found;

	memset(&d, 0, sizeof(d));
	if (a->a_kind != XDC_OBJ_VM) {
		rc = xdc_error(XDC_EDRIVER,
		    "host %s: the xen driver does not manage networks (%s %s)",
		    x->x_host, xdc_op_name(a->a_op), name);
		goto out;
	}
	if ((unsigned)a->a_op >= XDC_OP__COUNT) {
		rc = xdc_error(
		    XDC_EDRIVER, "xen: unknown operation %d", a->a_op);
		goto out;
	}
	if (a->a_host != NULL && strcmp(a->a_host, x->x_host) != 0) {
		rc = xdc_error(XDC_EDRIVER,
		    "%s %s: the action is for host %s; this is host %s",
		    xdc_op_name(a->a_op), name, a->a_host, x->x_host);
		goto out;
	}
	if (a->a_op != XDC_OP_DESTROY && a->a_op != XDC_OP_STOP &&
	    a->a_op != XDC_OP_PAUSE && a->a_op != XDC_OP_UNPAUSE &&
	    (rc = spec_check(x, a, name)) != 0)
		goto out;
	if (a->a_op == XDC_OP_CREATE && a->a_domid == 0)
		rc = dom_find_vm(x, name, &d);
	else
		rc = dom_find(x, name, a->a_domid, &d);
	if (rc != 0 && rc != XDC_ENOTFOUND)
		goto out;
	found = rc == 0;
	rc = 0;

	if (!found) {
		switch (a->a_op) {
		case XDC_OP_DESTROY:
		case XDC_OP_STOP:
			break; /* gone already is what they want */
		case XDC_OP_CREATE:
		case XDC_OP_REPLACE:
		case XDC_OP_START:
		case XDC_OP_RESTART:
			rc = op_create(x, op);
			break;
		default:
			rc = xdc_error(XDC_ENOTFOUND,
			    "host %s: cannot %s %s: no such domain", x->x_host,
			    xdc_op_name(a->a_op), name);
			break;
		}
		goto out;
	}
	if (a->a_op == XDC_OP_CREATE) {
		/* The same create again (a retried apply): already done. */
		if (d.xd_own.ow_managed && d.xd_info.domain != 0 &&
		    d.xd_own.ow_mk.mk_hash == a->a_spec->ds_hash)
			goto out;
		rc = name_taken(x, name, d.xd_own.ow_managed);
		goto out;
	}
	if (a->a_op == XDC_OP_UPDATE && (a->a_update & XDC_UPD_ADOPT))
		rc = dom_check_adoptable(x, &d, a, name);
	else
		rc = dom_check_owned(x, &d, a->a_op, name);
	if (rc != 0)
		goto out;
	st = xen_state_from_info(&d.xd_info);
	switch (a->a_op) {
	case XDC_OP_DESTROY:
		rc = op_destroy(x, op, d.xd_info.domain);
		break;
	case XDC_OP_STOP:
		rc = op_stop(x, op, &d);
		break;
	case XDC_OP_START:
		if (st == XDC_DOM_RUNNING || st == XDC_DOM_PAUSED)
			break;
		/* FALLTHROUGH */
	case XDC_OP_REPLACE:
	case XDC_OP_RESTART:
		/* Xen cannot resume a domain that stopped: build it anew. */
		op->o_recreate = 1;
		rc = op_destroy(x, op, d.xd_info.domain);
		break;
	case XDC_OP_PAUSE:
	case XDC_OP_UNPAUSE:
		rc = dom_pause(x, &d, name, a->a_op);
		break;
	case XDC_OP_UPDATE:
		rc = dom_update(x, &d, name, a);
		break;
	case XDC_OP_MIGRATE:
		rc = op_migrate(x, op, &d, a);
		break;
	default:
		rc = xdc_error(
		    XDC_EDRIVER, "xen: cannot %s a VM", xdc_op_name(a->a_op));
		break;
	}
out:
	xen_own_free(&d.xd_own);
	/* Whatever did not leave libxl working is over. */
	if (rc != 0 || op->o_step == STEP_START)
		op_finish(op, rc);
	return rc;
}

static const char *
action_name(const struct xdc_action *a)
{
	if (a->a_name != NULL)
		return a->a_name;
	if (a->a_spec != NULL && a->a_spec->ds_vm != NULL)
		return a->a_spec->ds_vm->vm_name;
	return NULL;
}

/*
 * Start an action. It returns 0 once the action is accepted; how it ends,
 * even at once, is told by reap(). The spec must outlive that.
 */
static int
xen_submit(struct xdc_driver *drv, const struct xdc_action *a, uint64_t token)
{
	struct xen *x = (struct xen *)drv;
	const char *name = action_name(a);
	struct xen_op *op;

	if (name == NULL)
		return xdc_error(XDC_EDRIVER, "%s: the action names no VM",
		    xdc_op_name(a->a_op));
	op = op_new(x, a, name, token);
	op_start(x, op, a);
	deadlines(x);
	return 0;
}

static int
xen_reap(struct xdc_driver *drv, uint64_t *token, int *result, char **msg)
{
	struct xen *x = (struct xen *)drv;
	struct xen_op *op;

	take_events(x);
	deadlines(x);
	for (op = x->x_ops; op != NULL; op = op->o_next) {
		if (op->o_step != STEP_DONE)
			continue;
		*token = op->o_token;
		*result = op->o_rc;
		*msg = op->o_msg;
		op->o_msg = NULL;
		op_free(x, op);
		return 0;
	}
	return XDC_ENOTFOUND;
}

/*
 * Nothing more is waited for: a stop's guest is left shutting down, and
 * libxl's operations in flight are asked to abort (libxl_ao_abort) and
 * given a moment, in a loop of the driver's own, to wind down: a domain
 * left half-made is found by the next observation, and destroyed then.
 * Returns whether libxl still works on something.
 */
#define XEN_ABANDON_MS 5000
static int
abandon(struct xen *x)
{
	struct xen_op *op;
	libxl_asyncop_how how;
	int64_t until = xdc_ev_now() + XEN_ABANDON_MS;
	int busy;

	if (x->x_ctx == NULL)
		return 0;
	if (x->x_own_ev == NULL) {
		x->x_own_ev = xdc_ev_new();
		move_to(x, x->x_own_ev);
	}
	for (op = x->x_ops; op != NULL; op = op->o_next) {
		if (op->o_step == STEP_SHUTDOWN)
			op_finish(op, 0);
		if (op->o_step == STEP_DONE || op->o_step == STEP_MIGRATE)
			continue;
		how = op_how(op);
		(void)libxl_ao_abort(x->x_ctx, &how);
	}
	for (;;) {
		take_events(x);
		busy = 0;
		for (op = x->x_ops; op != NULL; op = op->o_next) {
			/* What an abort finished must not go on to a create. */
			op->o_recreate = 0;
			if (op->o_step == STEP_SHUTDOWN)
				op_finish(op, 0);
			/*
			 * A migration takes its domain back, or, past the
			 * point where the receiver keeps it, says where it
			 * is; each step of it (libxl's) moves it on.
			 */
			if (op->o_step == STEP_MIGRATE)
				xen_mig_abort(op->o_mig);
			busy |= op->o_step != STEP_DONE;
		}
		if (!busy || xdc_ev_now() >= until)
			return busy;
		(void)xdc_ev_run_once(x->x_ev, (int)(until - xdc_ev_now()));
	}
}

/* ---- The watch, for the loop ------------------------------------------ */

/*
 * xenstore fires @introduceDomain when a domain appears and @releaseDomain
 * when one dies (a crash, a shutdown, `xl destroy`), so that `xdc run`
 * looks again at once. A handle of its own keeps the watch events away
 * from the driver's reads.
 */
static int
xen_watch_fd(struct xdc_driver *drv)
{
	struct xen *x = (struct xen *)drv;

	if (x->x_wxsh == NULL) {
		if ((x->x_wxsh = xs_open(0)) == NULL)
			return -1;
		if (!xs_watch(x->x_wxsh, "@introduceDomain", "xdc") ||
		    !xs_watch(x->x_wxsh, "@releaseDomain", "xdc")) {
			xs_close(x->x_wxsh);
			x->x_wxsh = NULL;
			return -1;
		}
	}
	return xs_fileno(x->x_wxsh);
}

static void
xen_watch_drain(struct xdc_driver *drv)
{
	struct xen *x = (struct xen *)drv;
	char **ev;

	if (x->x_wxsh == NULL)
		return;
	while ((ev = xs_check_watch(x->x_wxsh)) != NULL)
		free(ev);
}

/*
 * The host's watchdog: /dev/watchdog through xen_wdt, which has Xen reset
 * the host when it is not petted. Kept for the process, not the driver:
 * the kernel lets one process hold the device, and an agent that opens
 * its driver again must go on petting the watchdog it armed.
 */
static int
xen_watchdog(struct xdc_driver *drv, int64_t timeout_ms)
{
	static struct wdt wdt = WDT_INIT("/dev/watchdog");

	(void)drv;
	return wdt_set(&wdt, timeout_ms);
}

/* ---- Open and free ---------------------------------------------------- */

static void
xen_free(struct xdc_driver *drv)
{
	struct xen *x = (struct xen *)drv;
	int busy;

	if (x == NULL)
		return;
	busy = abandon(x);
	while (x->x_ops != NULL)
		op_free(x, x->x_ops);
	xen_mig_free_all(&x->x_mig);
	/* libxl refuses to free a context with operations outstanding; the
	 * process is on its way out then, and the kernel frees it. */
	if (x->x_ctx != NULL && !busy)
		libxl_ctx_free(x->x_ctx);
	/* libxl deregistered its fds as it went; what is left is ours. */
	while (x->x_fds != NULL)
		hook_fd_deregister(x, x->x_fds->f_fd, x->x_fds);
	while (x->x_timeouts != NULL)
		timeout_forget(x, x->x_timeouts);
	xdc_ev_timer_free(x->x_stop_timer);
	xdc_ev_free(x->x_own_ev);
	if (x->x_xch != NULL)
		xc_interface_close(x->x_xch);
	if (x->x_xsh != NULL)
		xs_close(x->x_xsh);
	if (x->x_wxsh != NULL)
		xs_close(x->x_wxsh);
	free(x->x_host);
	free(x);
}

int
xen_open(const char *host, struct xdc_driver **out)
{
	struct xen *x = xdc_calloc(1, sizeof(*x));
	char why[XEN_WHY_BUFSZ];
	int rc;

	*out = NULL;
	x->x_drv.version = XDC_DRIVER_VERSION;
	x->x_drv.name = "xen";
	x->x_drv.observe = xen_observe;
	x->x_drv.free = xen_free;
	x->x_drv.submit = xen_submit;
	x->x_drv.reap = xen_reap;
	x->x_drv.attach = xen_attach;
	x->x_drv.watch_fd = xen_watch_fd;
	x->x_drv.watch_drain = xen_watch_drain;
	x->x_drv.caps = XDC_DRV_MIGRATE;
	x->x_drv.watchdog = xen_watchdog;
	x->x_host = xdc_strdup(host != NULL ? host : XDC_LOCAL_HOST);
	x->x_log.lg_vtable.vmessage = log_vmessage;
	x->x_log.lg_vtable.progress = log_progress;
	x->x_log.lg_vtable.destroy = log_destroy;
	x->x_own_ev = x->x_ev = xdc_ev_new();
	x->x_stop_timer = xdc_ev_timer_new(x->x_ev, on_stop_timer, x);

	if ((rc = libxl_ctx_alloc(
	         &x->x_ctx, LIBXL_VERSION, 0, &x->x_log.lg_vtable)) != 0) {
		x->x_ctx = NULL;
		rc = xdc_error(XDC_EDRIVER,
		    "host %s: cannot open libxl (xdc "
		    "runs in a Xen dom0, as root): %s",
		    x->x_host, lx_why(x, rc, 0, XEN_NO_DOMID, why));
		goto out;
	}
	/* Before anything else of libxl: its fds join our loop. */
	libxl_osevent_register_hooks(x->x_ctx, &xen_hooks, x);
	/*
	 * libxl reaps its own children only (hotplug scripts, the save
	 * helper, the destroy helper); a migration's ssh is xdc's, reaped
	 * through a pidfd in the loop (xen_migrate.c).
	 */
	libxl_childproc_setmode(x->x_ctx, &xen_childproc, NULL);
	/* A migration's receiver that goes away is an error, not a death:
	 * libxl writes its stream with write(2). */
	signal(SIGPIPE, SIG_IGN);
	if ((x->x_xch = xc_interface_open(
	         &x->x_log.lg_vtable, &x->x_log.lg_vtable, 0)) == NULL) {
		rc = xdc_error_sys(
		    XDC_EDRIVER, "host %s: cannot open libxenctrl", x->x_host);
		goto out;
	}
	if ((x->x_xsh = xs_open(0)) == NULL) {
		rc = xdc_error_sys(
		    XDC_EDRIVER, "host %s: cannot open xenstore", x->x_host);
		goto out;
	}
	x->x_mig.me_ctx = x->x_ctx;
	x->x_mig.me_xch = x->x_xch;
	x->x_mig.me_xsh = x->x_xsh;
	x->x_mig.me_host = x->x_host;
	x->x_mig.me_mark = mig_mark;
	x->x_mig.me_why = mig_why;
	x->x_mig.me_arg = x;
	*out = &x->x_drv;
	x = NULL;
	rc = 0;
out:
	if (x != NULL)
		xen_free(&x->x_drv);
	return rc;
}
