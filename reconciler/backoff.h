/*
 * When the loop may try an action again: capped exponential backoff for
 * failed actions, and each VM's restart history against its SLA's
 * restart_limit (SPEC §2 kind: SLA, §6).
 *
 * Pure bookkeeping: every call takes the time (milliseconds since the
 * epoch) from the caller, so tests drive it with a clock of their own.
 * Keys are the caller's: the loop uses "op/kind/name/host".
 */
#ifndef XDC_BACKOFF_H
#define XDC_BACKOFF_H

#include <stddef.h>
#include <stdint.h>

#include "schema/model.h"

#define BACKOFF_FIRST_MS   1000         /* after the first failure */
#define BACKOFF_CAP_MS     (300 * 1000) /* never longer than this */
#define BACKOFF_RATE_BUFSZ 32           /* "5/1h" */

struct backoff;

/* Owned by the caller; backoff_free releases every entry. */
struct backoff *backoff_new(void);
void backoff_free(struct backoff *);

/* What is known of one key. */
struct backoff_info {
	unsigned bi_failures; /* in a row; 0 when none */
	int64_t bi_next;      /* the earliest next try; 0 when any time */
	const char *bi_error; /* the last failure's message, borrowed */
};

/*
 * Whether key may be tried at now (1) or must wait (0). info, when not
 * NULL, gets what is known of key (bi_next is set either way).
 */
int backoff_ready(
    struct backoff *, const char *key, int64_t now, struct backoff_info *info);
/*
 * key failed at now with error: the next try waits BACKOFF_FIRST_MS, then
 * twice as long after each further failure, up to BACKOFF_CAP_MS. Returns
 * the time of the next try.
 */
int64_t backoff_fail(
    struct backoff *, const char *key, const char *error, int64_t now);
/* key succeeded: its failures are forgotten. */
void backoff_success(struct backoff *, const char *key);

/*
 * Whether vm may be restarted at now under limit (at most r_count restarts
 * in any r_period seconds): 1, or 0 with *next the earliest time it may.
 * A NULL limit always allows.
 */
int backoff_restart_ready(struct backoff *, const char *vm,
    const struct xdc_rate *limit, int64_t now, int64_t *next);
/* vm was restarted at now. */
void backoff_restart_done(struct backoff *, const char *vm, int64_t now);
/* VMs whose restarts are held at now by their limit. */
size_t backoff_restart_limited(const struct backoff *, int64_t now);

/*
 * The earliest time after now at which something held becomes ready (a
 * retry, a restart window), or 0 when nothing waits: the loop's timer.
 */
int64_t backoff_next(const struct backoff *, int64_t now);

/*
 * Forget what no longer matters: between sweep_begin and sweep_end, every
 * key consulted (ready, fail, success) is kept; failures of the others are
 * dropped (their action left the plan), and restart histories older than
 * their period are dropped.
 */
void backoff_sweep_begin(struct backoff *);
void backoff_sweep_end(struct backoff *, int64_t now);

/* Keys with failures recorded, for tests. */
size_t backoff_count(const struct backoff *);

/* A rate as written in an SLA: "5/1h", "3/90s". */
const char *backoff_rate_fmt(
    const struct xdc_rate *, char buf[BACKOFF_RATE_BUFSZ]);

#endif /* XDC_BACKOFF_H */
