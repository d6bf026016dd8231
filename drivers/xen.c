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
 * are lent to the caller's event loop (libxl_osevent_register_hooks, in
 * xen_event.c); reap() hands over what finished, never waiting. What is
 * done at once to one domain (pause, an update in place, the marker) is
 * xen_domain.c's, and libxl's errors are kept for messages by xen_log.c. An
 * action is a small state machine over those operations: a replace is a destroy
 * then a create; a stop asks the guest to shut down, waits for it (bounded, by
 * a timer of the loop), then destroys.
 *
 * xdc never changes a domain without its ownership marker (see
 * xen_config.h), Domain-0, a stub domain, or a dying one.
 */
#include "drivers/xen_priv.h" /* first: xenctrl.h before libxl.h */

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
#include "schema/model.h"

/* How long a guest gets to shut down before it is destroyed. */
#define XEN_STOP_SECS 30

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

static int xen_submit(struct xdc_driver *, const struct xdc_action *, uint64_t);
static int xen_reap(struct xdc_driver *, uint64_t *, int *, char **);
static int xen_attach(struct xdc_driver *, struct xdc_ev *);
static void xen_free(struct xdc_driver *);
static int xen_watch_fd(struct xdc_driver *);
static void xen_watch_drain(struct xdc_driver *);

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
	    verb, op->o_name, xen_lx_why(x, rc, op->o_logseq, domid, why));
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
	xen_log_clear(x);
	op->o_logseq = x->x_log.lg_mark;
	if ((rc = libxl_domain_destroy(x->x_ctx, domid, &how)) != 0)
		return xen_lx_fail(x, rc, "destroy", op->o_name);
	op->o_step = STEP_DESTROY;
	return 0;
}

/* No other live domain may have the UUID: libxl would clear its /vm. */
static int
uuid_free(struct xen *x, const char *name, const libxl_uuid *uuid)
{
	xc_domaininfo_t info;
	int rc;

	rc = xen_uuid_holder(x, libxl_uuid_bytearray_const(uuid), &info);
	if (rc == XDC_ENOTFOUND)
		return 0;
	return rc != 0 ? rc : xen_uuid_taken(x, name, info.domain);
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

	taken = xen_domain_find(x, op->o_name, 0, &d) == 0 &&
	        d.xd_info.domain != op->o_newdomid;
	managed = d.xd_own.ow_managed;
	xen_own_free(&d.xd_own);
	if (taken)
		return name_taken(x, op->o_name, managed);
	return op->o_step == STEP_CREATE
	           ? lx_fail_op(x, op, rc, "create")
	           : xen_lx_fail(x, rc, "create", op->o_name);
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
	xen_log_clear(x);
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

	if ((rc = xen_domain_info(x, op->o_newdomid, &info)) != 0)
		return rc == XDC_ENOTFOUND
		           ? xdc_error(XDC_EDRIVER,
		                 "host %s: %s (domid %" PRIu32
		                 ") vanished as it was made",
		                 x->x_host, op->o_name, op->o_newdomid)
		           : rc;
	xen_marker_from_spec(op->o_spec, &mk);
	mk.mk_name = op->o_name;
	if ((rc = xen_marker_write(x, info.handle, &mk, XEN_MK__COUNT)) != 0)
		return rc;
	if (op->o_spec->ds_vm->vm_state == XDC_VM_PAUSED)
		return 0;
	xen_log_clear(x);
	if ((rc = libxl_domain_unpause(x->x_ctx, op->o_newdomid, NULL)) != 0)
		return xen_lx_fail(x, rc, "unpause", op->o_name);
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
	    xen_domain_info(x, op->o_newdomid, &info) != 0 ||
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

/* ---- The caller's loop ------------------------------------------------ */

/* Move libxl's watchers and timers, and the stops' timer, to ev. */
static void
move_to(struct xen *x, struct xdc_ev *ev)
{
	int64_t stop = xdc_ev_timer_deadline(x->x_stop_timer);

	xen_event_move(x, ev);
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
	    (rc = xen_domain_pause(x, d, op->o_name, XDC_OP_UNPAUSE)) != 0)
		return rc;
	xen_log_clear(x);
	rc = libxl_domain_shutdown(x->x_ctx, domid, NULL);
	if (rc == ERROR_NOPARAVIRT) /* an HVM guest without PV drivers */
		rc = libxl_send_trigger(
		    x->x_ctx, domid, LIBXL_TRIGGER_POWER, 0, NULL);
	/* A guest that cannot be asked is stopped the hard way. */
	if (rc != 0)
		return op_destroy(x, op, domid);
	op->o_domid = domid;
	xen_log_clear(x);
	if ((rc = libxl_evenable_domain_death(
	         x->x_ctx, domid, op->o_id, &op->o_deathw)) != 0)
		return xen_lx_fail(x, rc, "watch the shutdown of", op->o_name);
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

	xen_log_clear(x);
	return x->x_log.lg_mark;
}

static const char *
mig_why(
    void *arg, int rc, uint64_t mark, uint32_t domid, char buf[XEN_MIG_WHYSZ])
{
	struct xen *x = arg;
	char why[XEN_WHY_BUFSZ];

	snprintf(buf, XEN_MIG_WHYSZ, "%s", xen_lx_why(x, rc, mark, domid, why));
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
		rc = xen_domain_find_vm(x, name, &d);
	else
		rc = xen_domain_find(x, name, a->a_domid, &d);
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
		rc = xen_domain_check_adoptable(x, &d, a, name);
	else
		rc = xen_domain_check_owned(x, &d, a->a_op, name);
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
		rc = xen_domain_pause(x, &d, name, a->a_op);
		break;
	case XDC_OP_UPDATE:
		rc = xen_domain_update(x, &d, name, a);
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
	xen_event_free(x);
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
	xen_log_init(&x->x_log);
	x->x_own_ev = x->x_ev = xdc_ev_new();
	x->x_stop_timer = xdc_ev_timer_new(x->x_ev, on_stop_timer, x);

	if ((rc = libxl_ctx_alloc(
	         &x->x_ctx, LIBXL_VERSION, 0, &x->x_log.lg_vtable)) != 0) {
		x->x_ctx = NULL;
		rc = xdc_error(XDC_EDRIVER,
		    "host %s: cannot open libxl (xdc "
		    "runs in a Xen dom0, as root): %s",
		    x->x_host, xen_lx_why(x, rc, 0, XEN_NO_DOMID, why));
		goto out;
	}
	/* Before anything else of libxl: its fds join our loop. */
	libxl_osevent_register_hooks(x->x_ctx, &xen_event_hooks, x);
	/*
	 * libxl reaps its own children only (hotplug scripts, the save
	 * helper, the destroy helper); a migration's ssh is xdc's, reaped
	 * through a pidfd in the loop (xen_migrate.c).
	 */
	libxl_childproc_setmode(x->x_ctx, &xen_event_childproc, NULL);
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
