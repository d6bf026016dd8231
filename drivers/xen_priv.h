/*
 * What the xen driver's files share (xen.h says what the driver is): the
 * driver's state, struct xen, and the steps each file takes for the
 * others. xen.c is the driver itself, its actions as state machines over
 * libxl's asynchronous operations; xen_log.c keeps libxl's last errors
 * for messages in its own words; xen_domain.c finds one domain and does
 * what is done at once to it (pause, update, the ownership marker);
 * xen_event.c lends libxl's fds and timeouts to the caller's loop.
 * Observing (xen_observe.c) and migrating (xen_migrate*.c) have their own
 * headers. Nothing outside drivers/xen*.c includes this.
 */
#ifndef XDC_XEN_PRIV_H
#define XDC_XEN_PRIV_H

#include "drivers/xen_config.h" /* first: xenctrl.h before libxl.h */

#include <stdint.h>

#include <libxl_event.h>
#include <xentoollog.h>

#include "drivers/xen_migrate.h"
#include "drivers/xen_observe.h"

struct xdc_action;
struct xdc_dom_spec;
struct xdc_ev;
struct xdc_ev_io;
struct xdc_ev_timer;
struct xen_op;

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
	uint64_t lg_mark; /* lg_seq at the last xen_log_clear() */
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
/* ---- xen_log.c -------------------------------------------------------- */

/* A logger that keeps errors, for libxl_ctx_alloc and xc_interface_open. */
void xen_log_init(struct xen_log *);
/* Forget earlier errors: what follows is about the next call. */
void xen_log_clear(struct xen *);
#define XEN_WHY_BUFSZ (2 * XEN_LOG_MSGSZ + 8)
/*
 * libxl's words for a failure since seq, leaving out what other domains
 * than domid (XEN_NO_DOMID: none) logged meanwhile; or rc.
 */
const char *xen_lx_why(struct xen *, int rc, uint64_t seq, uint32_t domid,
    char buf[XEN_WHY_BUFSZ]);
/* "host H: cannot VERB NAME: WHY" with libxl's reason since the clear. */
int xen_lx_fail(struct xen *, int rc, const char *verb, const char *name);

/* ---- xen_domain.c ----------------------------------------------------- */

/* One domain's record: 0, or XDC_ENOTFOUND when it is gone. */
int xen_domain_info(struct xen *, uint32_t domid, xc_domaininfo_t *);
/* The live domain named name, hint where it was seen (0: nowhere). */
int xen_domain_find(
    struct xen *, const char *name, uint32_t hint, struct xen_dom *out);
/* The domain xdc would have made for the VM name, by its UUID. */
int xen_domain_find_vm(struct xen *, const char *name, struct xen_dom *out);
/* The live domain that holds the UUID: 0, or XDC_ENOTFOUND. */
int xen_uuid_holder(struct xen *, const uint8_t uuid[16], xc_domaininfo_t *);
/* The error for a create whose UUID domain domid holds. */
int xen_uuid_taken(struct xen *, const char *name, uint32_t domid);
int xen_domain_check_owned(
    struct xen *, const struct xen_dom *, enum xdc_op, const char *name);
int xen_domain_check_adoptable(struct xen *, const struct xen_dom *,
    const struct xdc_action *, const char *name);
/* The marker's first nkeys keys, in one transaction under /vm/UUID. */
int xen_marker_write(struct xen *, const uint8_t uuid[16],
    const struct xen_marker *, size_t nkeys);
/* Pause, or unpause until it runs (op XDC_OP_PAUSE or XDC_OP_UNPAUSE). */
int xen_domain_pause(
    struct xen *, const struct xen_dom *, const char *name, enum xdc_op);
/* What an update changes in place, and only that (a_update). */
int xen_domain_update(struct xen *, const struct xen_dom *, const char *name,
    const struct xdc_action *);

/* ---- xen_event.c ------------------------------------------------------ */

extern const libxl_osevent_hooks xen_event_hooks;
extern const libxl_childproc_hooks xen_event_childproc;
/* Move libxl's watchers and timers from the loop they are in to ev. */
void xen_event_move(struct xen *, struct xdc_ev *ev);
/* Forget every registration left: libxl is gone. */
void xen_event_free(struct xen *);

#endif /* XDC_XEN_PRIV_H */
