/*
 * The event loop: one poll() over file descriptors, and timers on the
 * monotonic clock. Everything in xdc that waits, waits here: the loop's
 * signalfd and inotify, the xenstore watch, libxl's fds and timeouts
 * (lent through libxl_osevent_register_hooks), curl's sockets and timer
 * for etcd, a git fetch's completion. Nothing else calls poll() or
 * sleeps, so that a slow action can never starve a lease renewal or a
 * SIGTERM (SPEC §6, §8).
 *
 * Callbacks run from xdc_ev_run_once, one at a time, in the thread that
 * calls it. A callback may add, change or delete any watcher or timer,
 * its own included; a deleted one is never called again, even later in
 * the same round. Nothing here is thread-safe: other threads talk to the
 * loop through a file descriptor (an eventfd, a pipe).
 */
#ifndef XDC_EV_H
#define XDC_EV_H

#include <stdint.h>

struct xdc_ev;
struct xdc_ev_io;
struct xdc_ev_timer;

/* revents as poll(2) reports them (POLLIN, POLLOUT, POLLERR, POLLHUP). */
typedef void xdc_ev_io_fn(struct xdc_ev_io *, int fd, short revents, void *);
typedef void xdc_ev_timer_fn(struct xdc_ev_timer *, void *);

/* The caller owns the loop; freeing it frees every watcher and timer. */
struct xdc_ev *xdc_ev_new(void);
void xdc_ev_free(struct xdc_ev *);

/*
 * Watch fd for events (POLLIN, POLLOUT; 0 pauses the watch). The watcher
 * belongs to the loop; xdc_ev_io_del ends it (the fd is the caller's to
 * close). One fd may have several watchers.
 */
struct xdc_ev_io *xdc_ev_io_add(
    struct xdc_ev *, int fd, short events, xdc_ev_io_fn *, void *arg);
void xdc_ev_io_set(struct xdc_ev_io *, short events);
void xdc_ev_io_del(struct xdc_ev_io *);

/*
 * A timer, disarmed until armed. It fires once per arming; the callback
 * may arm it again. Deadlines are monotonic milliseconds (xdc_ev_now).
 */
struct xdc_ev_timer *xdc_ev_timer_new(
    struct xdc_ev *, xdc_ev_timer_fn *, void *arg);
void xdc_ev_timer_at(struct xdc_ev_timer *, int64_t deadline_ms);
void xdc_ev_timer_in(struct xdc_ev_timer *, int64_t ms);
void xdc_ev_timer_stop(struct xdc_ev_timer *);
int xdc_ev_timer_armed(const struct xdc_ev_timer *);
/* The deadline, or INT64_MAX when disarmed. */
int64_t xdc_ev_timer_deadline(const struct xdc_ev_timer *);
void xdc_ev_timer_free(struct xdc_ev_timer *);

/* Monotonic milliseconds, and wall-clock milliseconds since the epoch. */
int64_t xdc_ev_now(void);
int64_t xdc_ev_realtime(void);

/*
 * Wait for an fd event or a timer, at most timeout_ms (-1: no limit
 * beyond the timers; 0: only what is ready now), then call every
 * callback due. Returns how many were called, or a negative code with
 * the reason in xdc_error_last() when poll() fails (EINTR is not a
 * failure: 0 is returned).
 */
int xdc_ev_run_once(struct xdc_ev *, int timeout_ms);

/* How many fd watchers and armed timers there are, for tests. */
unsigned xdc_ev_count(const struct xdc_ev *, unsigned *armed_timers);

#endif /* XDC_EV_H */
