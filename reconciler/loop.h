/*
 * The continuous loop of `xdc run` (SPEC §6, §8): one base/ev loop over a
 * signalfd, inotify on the configuration, the driver's watch fd and its
 * own fds, a git fetch's eventfd, and timers for the resync, the
 * debounce, the next retry, an overdue fetch and SIGTERM's grace. It
 * never blocks: a cycle (cycle.h) is stepped from it, so signals, file
 * changes, domain events and timers are served while an action runs.
 */
#ifndef XDC_LOOP_H
#define XDC_LOOP_H

#include <stdint.h>

struct cli;

#define LOOP_INTERVAL_MS     (60 * 1000) /* --interval's default */
#define LOOP_DEBOUNCE_MS     200         /* quiet time after a file change */
#define LOOP_DEBOUNCE_MAX_MS 2000        /* ... but no longer than this */
/*
 * SIGTERM lets the actions in flight finish for this long, then abandons
 * them (the drivers leave them; the next observation shows how far they
 * got): systemd's stop, and a rolling restart, must not wait on a 30 s
 * graceful shutdown of a guest.
 */
#define LOOP_GRACE_MS 300
/* A fetch not ended after one interval, and at least this, is overdue. */
#define LOOP_FETCH_OVERDUE_MS (10 * 1000)

struct loop_opts {
	const char *lo_path;    /* PATH, or the path inside --git's tree */
	int64_t lo_interval_ms; /* resync, and fetch with --git */
	long lo_max_destroy;    /* -1: 25% of managed VMs, at least 1 */
	int lo_force;           /* apply past lo_max_destroy */
};

/*
 * Run until SIGTERM or SIGINT, then return 0. Returns a negative code,
 * with the reason in xdc_error_last(), when the loop cannot start: the
 * state directory's lock is held by another instance, the source or the
 * signals cannot be set up.
 */
int loop_run(struct cli *, const struct loop_opts *);

#endif /* XDC_LOOP_H */
