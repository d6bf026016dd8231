/*
 * Live migration between the dom0s of a pool (SPEC §4 migrate, §8), the
 * way `xl migrate` does it: the sender runs `ssh DEST xdc migrate-receive
 * NAME` and speaks a small handshake with it over the ssh channel, around
 * the domain's memory streamed by libxl_domain_suspend(LIBXL_SUSPEND_LIVE)
 * into it and read by libxl_domain_create_restore() on the other side.
 * Disks are not copied: both hosts must reach the same disk paths.
 *
 * The handshake, one line each way, the libxl stream in the middle:
 *
 *   receiver                           sender
 *   "xdc-migrate 1"            ->
 *                              <-      "offer LEN" and LEN bytes of JSON:
 *                                      libxl's configuration of the domain,
 *                                      xdc's ownership marker, its memory
 *   "ready" | "refuse WHY"     ->      (room, no domain of the name)
 *                              <-      libxl stream (live: iterations, then
 *                                      the guest suspended, the rest)
 *   restores it, paused, as NAME--incoming
 *   "have" | "fail WHY"        ->
 *                                      renames its copy NAME--migratedaway
 *                              <-      "leave"
 *   from here on never destroys its copy
 *   "kept"                     ->
 *                                      destroys its copy, and checks it is
 *                                      gone (or dying)
 *                              <-      "go" | "abort"
 *   renames it NAME, writes the marker (protect, spec hash), unpauses it
 *   "done DOMID" | "fail WHY"  ->
 *
 * There is never a moment with two running copies: the receiver's stays
 * paused until the sender's is gone. Until the receiver says "kept", a
 * failure anywhere leaves the domain with the sender, which resumes it
 * (libxl_domain_resume) and reports why; the receiver destroys its paused
 * copy. After "kept" the receiver keeps its copy whatever happens: should
 * the connection break before "go", it stays there paused as
 * NAME--incoming (never run, so never a second running copy) and the
 * sender, which still has its own, resumes it and says so. After "go" the
 * sender has no copy left; a failure of the last step leaves the domain
 * paused on the receiver, and the sender says where.
 *
 * The sender runs inside the xen driver's event loop and never blocks it:
 * libxl's operations (retrieving the configuration, the suspend and its
 * stream, the destroy, a resume) are asynchronous, with callbacks; the
 * ssh child's socket and stderr are fds of the loop; it is reaped through
 * a pidfd (libxl is told to reap only its own children). What is
 * synchronous: reading the marker from xenstore, libxl_domain_rename (one
 * xenstore transaction and libxl's record of the domain), spawning ssh,
 * and one xc_domain_getinfolist: milliseconds each (docs/xen-driver.md).
 *
 * The receiver, `xdc migrate-receive`, is a process of its own on the
 * destination, run for one migration: it blocks, on its stdin and stdout,
 * as `xl migrate-receive` does.
 */
#ifndef XDC_XEN_MIGRATE_H
#define XDC_XEN_MIGRATE_H

#include "drivers/xen_config.h" /* first: xenctrl.h before libxl.h */

#include <stdint.h>

#include <xenstore.h>

/* The handshake's version, in the receiver's banner. */
#define XEN_MIG_VERSION 1
/* The receiver names its copy NAME--incoming, the sender NAME--migratedaway,
 * as xl does. */
#define XEN_MIG_INCOMING "--incoming"
#define XEN_MIG_AWAY     "--migratedaway"

struct xdc_ev;
struct xen_mig;

#define XEN_MIG_WHYSZ 520

/* What a migration borrows from the driver that runs it. */
struct xen_mig_env {
	libxl_ctx *me_ctx;
	xc_interface *me_xch;
	struct xs_handle *me_xsh;
	const char *me_host; /* this host's name in the pool */
	/* The driver's logger: forget what libxl logged so far and return
	 * the mark; libxl's words for a failure since a mark, about domid. */
	uint64_t (*me_mark)(void *arg);
	const char *(*me_why)(void *arg, int rc, uint64_t mark, uint32_t domid,
	    char buf[XEN_MIG_WHYSZ]);
	void *me_arg;
	/* Migrations in flight, or waiting for their transport to exit. */
	struct xen_mig *me_migs;
};

/*
 * How a migration ended: rc 0 once the receiver has taken the domain over
 * (renamed, marked, unpaused: the point where the pool's claim on the VM
 * moves to the destination), or a code and why, saying where the domain
 * is. Called once, from the loop.
 */
typedef void xen_mig_done_fn(void *arg, int rc, const char *why);

/*
 * Start moving the running domain domid, named name and carrying the
 * marker whose key values are marker (XEN_MK__COUNT, NULL for an absent
 * key), to host to; its fds and timers go into ev. Returns 0 once started
 * (done tells the end), or a negative code with the reason in
 * xdc_error_last() when nothing was started.
 */
int xen_mig_start(struct xen_mig_env *, struct xdc_ev *ev, const char *name,
    uint32_t domid, const char *const marker[XEN_MK__COUNT], const char *to,
    xen_mig_done_fn *done, void *arg, struct xen_mig **out);
/*
 * The driver is going away: give up waiting for the receiver, and move
 * the domain back to where it is safe (resume it here, unless it is gone
 * already). done still comes, from libxl's events.
 */
void xen_mig_abort(struct xen_mig *);
/* done will not be called any more (its action is gone). */
void xen_mig_detach(struct xen_mig *);
/* Kill and reap what is left of every migration's transport; free them. */
void xen_mig_free_all(struct xen_mig_env *);

/*
 * `xdc migrate-receive NAME`: receive the domain NAME on this host, named
 * host in the pool, reading the sender on in and answering on out.
 * Messages for people go to stderr. Returns 0 when the domain runs here.
 */
int xen_mig_receive(const char *host, const char *name, int in, int out);

#endif /* XDC_XEN_MIGRATE_H */
