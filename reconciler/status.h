/*
 * What the loop tells the world after each cycle (SPEC §6): a JSON status
 * file, STATE_DIR/status.json, that `xdc status` reads, and a Prometheus
 * text-format metrics file, STATE_DIR/metrics.prom, for node_exporter's
 * textfile collector. docs/status.md documents every key and metric.
 *
 * One struct status lives as long as the loop: each cycle clears what
 * belongs to a cycle (status_begin) and keeps the counters.
 */
#ifndef XDC_STATUS_H
#define XDC_STATUS_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "base/diag.h"

#define STATUS_FILE         "status.json"
#define STATUS_METRICS_FILE "metrics.prom"
#define STATUS_FORMAT       1
/* Items kept per list (pending, deferred, drift, errors); counts are
 * always whole. */
#define STATUS_ITEMS_MAX 100

/* The outcome of a cycle, from the best; when several apply, the worst. */
enum status_outcome {
	STATUS_CONVERGED,   /* nothing left to do for this host */
	STATUS_APPLIED,     /* actions applied, every one done */
	STATUS_PENDING,     /* actions wait for another host's */
	STATUS_FAILED,      /* an action failed, backs off or is held by
	                       restart_limit; or the driver failed */
	STATUS_INVALID,     /* the newest configuration has errors: the
	                       last good one stays in force */
	STATUS_UNREACHABLE, /* the git remote cannot be fetched: the last
	                       good commit stays in force */
	STATUS__COUNT
};

const char *status_outcome_name(enum status_outcome);

/* Results of actions, as counted in xdc_actions_total{result}. */
enum status_result {
	STATUS_DONE,
	STATUS_FAILED_ACTION,
	STATUS_SKIPPED,
	STATUS_HELD,
	STATUS_OTHER_HOST,
	STATUS_RESULT__COUNT
};

const char *status_result_name(enum status_result);

/* One action in a list of the status. Strings are borrowed. */
struct status_item {
	const char *si_op;
	const char *si_kind;
	const char *si_name;
	const char *si_host;
	const char *si_state;   /* pending: failed, backoff, restart_limit,
	                           skipped, waiting; NULL elsewhere */
	const char *si_why;     /* the error, or why it waits */
	unsigned si_failures;   /* failures in a row; 0 when none */
	int64_t si_retry_at;    /* ms since the epoch; 0 when none */
	const char *si_changes; /* drift: the plan's changes, JSON text */
};

struct status;

/* Owned by the caller; free with status_free. */
struct status *status_new(const char *host, int64_t interval_ms);
void status_free(struct status *);

/* A cycle starts at now (ms since the epoch), for trigger. */
void status_begin(struct status *, int64_t now, const char *trigger);
/* ... and ends at now: duration and the cycle counter. */
void status_end(struct status *, int64_t now);

/* The configuration in force: its path and commit (NULL for a path). */
void status_set_source(struct status *, const char *path, const char *commit);
/* The newest configuration, not taken (NULL when none is refused). */
void status_set_rejected(struct status *, const char *path, const char *commit);
void status_set_outcome(
    struct status *, enum status_outcome, const char *message);
enum status_outcome status_outcome(const struct status *);
void status_set_gauges(
    struct status *, size_t managed_vms, size_t restart_limited);

/*
 * The pool as this agent sees it (member_status's object, taken over), or
 * NULL without the pool view: the status's "pool" and the xdc_pool_*
 * metrics.
 */
void status_set_pool(struct status *, json_t *pool);

/* Errors: one with a position (file NULL: none), or each diagnostic. */
void status_add_error(struct status *, const char *file, unsigned line,
    unsigned col, const char *message);
void status_add_diags(struct status *, const struct xdc_diags *);

/* An action's outcome, for the counters (op as xdc_op_name gives it). */
void status_count(struct status *, const char *op, enum status_result);
/* Planned actions of this host, and the lists. */
void status_set_planned(struct status *, size_t n);
void status_add_pending(struct status *, const struct status_item *);
void status_add_deferred(struct status *, const struct status_item *);
/*
 * A difference the plan found between the declared and the observed
 * state; xdc_drift_total counts those not found by the previous cycle.
 */
void status_add_drift(struct status *, const struct status_item *);

/* The two formats, to any stream (tests), and both files atomically. */
int status_write_json(const struct status *, FILE *);
int status_write_metrics(const struct status *, FILE *);
int status_save(const struct status *, const char *dir);
/*
 * Remove the temporary files of a status_save killed before its renames;
 * only for the holder of the state directory's lock.
 */
void status_sweep(const char *dir);

/*
 * What `xdc status` prints from the status file's text (len bytes): with
 * json the file itself, indented; otherwise a summary naming the state
 * directory dir and whether a loop runs there (running: 1, 0, or -1 for
 * unknown). Returns 0 when the last outcome is converged, applied or
 * pending, 1 for any other, or a negative code when text is not a status
 * file (the reason in xdc_error_last()).
 */
int status_print(FILE *, const char *text, size_t len, const char *dir,
    int running, int json);

#endif /* XDC_STATUS_H */
