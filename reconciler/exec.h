/*
 * Carrying out a plan through a driver, as a graph: an action starts once
 * every action it depends on is done and is skipped once one of them
 * failed; a failure stops nothing else (networkd's request queue). Shared
 * by `xdc apply` and the loop of `xdc run`.
 */
#ifndef XDC_EXEC_H
#define XDC_EXEC_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct xdc_driver;
struct xdc_plan;

enum exec_status {
	EXEC_PENDING,
	EXEC_RUNNING,
	EXEC_DONE,
	EXEC_FAILED,
	EXEC_SKIPPED,  /* a dependency failed, was skipped, or is not ours */
	EXEC_NOT_OURS, /* another host's agent applies it */
	EXEC_HELD,     /* the caller held it back (backoff, restart limit) */
};

struct exec;

/*
 * How the caller hears of each outcome (msg: the driver's error or why it
 * was skipped; NULL when done), and may hold an action back before it
 * starts (return non-zero) or stop starting new ones (return non-zero
 * from stop: a SIGTERM finishes what is in flight).
 */
struct exec_ops {
	void (*eo_report)(void *arg, const struct exec *, size_t i,
	    enum exec_status, const char *msg);
	int (*eo_hold)(void *arg, size_t i);
	int (*eo_stop)(void *arg);
	void *eo_arg;
};

/*
 * Apply plan through drv, only the actions whose host is host (all when
 * host is NULL). drv's begin/end bracket the run. Returns 0 when the run
 * went through (whatever each action's outcome), or a code when the driver
 * itself failed.
 */
int exec_run(struct xdc_driver *drv, const struct xdc_plan *plan,
    const char *host, const struct exec_ops *ops, struct exec **out);
void exec_free(struct exec *);

enum exec_status exec_status(const struct exec *, size_t i);
/* Counts of each status, indexed by enum exec_status. */
void exec_counts(const struct exec *, size_t counts[EXEC_HELD + 1]);
/* How many outcomes were reported so far: the progress count. */
size_t exec_reported(const struct exec *);

#endif /* XDC_EXEC_H */
