/*
 * Carrying out a plan through a driver, as a graph: an action starts once
 * every action it depends on is done and is skipped once one of them
 * failed; a failure stops nothing else (networkd's request queue). Shared
 * by `xdc apply` and the loop of `xdc run`.
 *
 * The executor is a stepper, never a blocking call: exec_step starts what
 * can start and takes in what finished, then returns; the caller's event
 * loop (base/ev.h), where the driver's fds and timers live, says when to
 * step again. So a 30 s graceful stop leaves the loop free to renew a
 * lease, hear SIGTERM or fire a timer meanwhile.
 */
#ifndef XDC_EXEC_H
#define XDC_EXEC_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <time.h>

struct xdc_driver;
struct xdc_ev;
struct xdc_plan;

enum exec_status {
	EXEC_PENDING,
	EXEC_RUNNING,
	EXEC_DONE,
	EXEC_FAILED,
	EXEC_SKIPPED,   /* a dependency failed or was skipped */
	EXEC_WAITING,   /* a dependency is another host's to apply, or
	                   the pool has not given its claim or slot yet */
	EXEC_NOT_OURS,  /* another host's agent applies it */
	EXEC_HELD,      /* the caller held it back (backoff, restart limit) */
	EXEC_ABANDONED, /* stopped before it started, or while it ran */
	EXEC__COUNT
};

struct exec;

/*
 * How the caller hears of each outcome (msg: the driver's error or why it
 * was skipped; NULL when done), and may hold an action back before it
 * starts (return non-zero).
 */
struct exec_ops {
	void (*eo_report)(void *arg, const struct exec *, size_t i,
	    enum exec_status, const char *msg);
	int (*eo_hold)(void *arg, size_t i);
	/*
	 * Then the pool's say (SPEC §8): 0 when the action may start;
	 * non-zero when it must wait for a claim or a budget slot, with
	 * *why. It is reported EXEC_WAITING; a later cycle, made due when
	 * the pool changes, tries it again.
	 */
	int (*eo_gate)(void *arg, size_t i, const char **why);
	void *eo_arg;
};

/*
 * An executor for plan through drv, for the actions whose host is host
 * (all when host is NULL). It calls drv's begin() at once and end() when
 * the last outcome is in. The plan, the driver and ops must outlive it.
 */
int exec_new(struct xdc_driver *drv, const struct xdc_plan *plan,
    const char *host, const struct exec_ops *ops, struct exec **out);
/*
 * Start what can start, take in what finished. Returns 1 when every
 * action has its outcome, 0 while some are pending or running (step again
 * after the loop's next event), or a negative code when the driver itself
 * failed. A driver without submit() carries out at most one action per
 * step, so the loop is never held longer than one quick action.
 */
int exec_step(struct exec *);
/* Whether a step now could make progress without an event first. */
int exec_ready(const struct exec *);
/*
 * Start nothing more (SIGTERM): pending actions become ABANDONED at the
 * next step; running ones finish, or are abandoned by exec_free.
 */
void exec_stop(struct exec *);
/* Free the executor; actions still running are reported ABANDONED. */
void exec_free(struct exec *);

/*
 * Step x until every action has its outcome, waiting in ev between
 * steps: the one-shot commands. Returns 0 when the run went through
 * (whatever each action's outcome), or a code when the driver itself
 * failed.
 */
int exec_run(struct exec *x, struct xdc_ev *ev);

enum exec_status exec_status(const struct exec *, size_t i);
/* Counts of each status, indexed by enum exec_status. */
void exec_counts(const struct exec *, size_t counts[EXEC__COUNT]);
/* How many outcomes were reported so far: the progress count. */
size_t exec_reported(const struct exec *);
/*
 * The line apply and destroy print as an action ends: "[N/M] ACTION ...
 * done", "... failed: WHY" or ": skipped, WHY"; nothing for another
 * host's action, which the summary counts.
 */
void exec_print_line(const struct exec *, const struct xdc_plan *, size_t i,
    enum exec_status, const char *msg, FILE *);
/* How many actions are running now. */
size_t exec_running(const struct exec *);

#endif /* XDC_EXEC_H */
