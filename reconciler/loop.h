/*
 * The continuous loop of `xdc run` (SPEC §6, §8): one poll() over a
 * signalfd, inotify on the configuration, the driver's watch fd, and a
 * timeout for the next resync, debounce or retry. Each cycle reloads what
 * changed (parse -> validate -> swap), observes, plans, holds back what
 * backoff and restart limits say, applies the rest through exec_run, and
 * writes the status and metrics.
 */
#ifndef XDC_LOOP_H
#define XDC_LOOP_H

#include <stdint.h>

struct cli;

#define LOOP_INTERVAL_MS     (60 * 1000) /* --interval's default */
#define LOOP_DEBOUNCE_MS     200         /* quiet time after a file change */
#define LOOP_DEBOUNCE_MAX_MS 2000        /* ... but no longer than this */

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
