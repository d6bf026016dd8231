/*
 * What the files of the loop's cycle (cycle.c, cycle_load.c,
 * cycle_action.c, cycle_record.c) share: one cycle's struct, and the
 * functions between them. Nothing else includes it.
 */
#ifndef XDC_CYCLE_PRIV_H
#define XDC_CYCLE_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "reconciler/cycle.h"
#include "reconciler/exec.h"
#include "reconciler/source.h"

struct status_item;
struct xdc_action;
struct xdc_diags;

/* Why the cycle held an action back, for the status. */
struct held {
	char *h_why;
	const char *h_state; /* backoff, restart_limit */
	int64_t h_retry_at;
	unsigned h_failures;
};

struct cycle {
	struct agent *c_ag;
	const char *c_trigger;
	struct xdc_config *c_cand;      /* a new configuration not taken */
	const struct xdc_config *c_cfg; /* what c_plan was made of */
	const char *c_host; /* whose actions this agent applies; NULL: all */
	struct xdc_observed *c_obs;
	struct xdc_plan *c_plan;
	struct exec *c_x;
	struct exec_ops c_ops; /* c_x's: they must outlive it */
	struct reap *c_reap;   /* an expired scope, when c_x has nothing */
	int c_sweeping;        /* between backoff_sweep_begin and _end */
	struct held *c_held;
	char *c_driver_err;
	char *c_pool_wait; /* why there is no plan: the pool view */
	size_t c_done, c_failed, c_stuck, c_waiting, c_abandoned;
	char **c_done_keys; /* what this cycle did: the next compares */
	size_t c_ndone_keys;
	char **c_held_said; /* what it held back, as ag_held says it */
	size_t c_nheld_said;
};

/* cycle.c: the wall clock, in ms; what is wrong with the source, cleared. */
int64_t cycle_real_ms(void);
void cycle_clear_invalid(struct agent *);

/* cycle_load.c: the configuration, loaded when it changed (*cand: one
 * that parsed and validated); a refusal of it, said and kept. */
void cycle_load(
    struct cycle *, struct xdc_config **cand, char commit[SOURCE_COMMIT_HEXSZ]);
void cycle_refuse(struct cycle *, const char *commit, struct xdc_diags *diags,
    const char *msg);

/* cycle_action.c: the executor's callbacks; a status item of an action. */
extern const struct exec_ops cycle_ops;
void cycle_item_of(struct status_item *, const struct xdc_action *);

/* cycle_record.c: the holds logged, noted of the plan and freed; the plan
 * and the outcome recorded. */
void cycle_holds_note(struct cycle *);
void cycle_holds_free(struct agent_hold *, size_t);
void cycle_record_plan(struct cycle *);
void cycle_record(struct cycle *);

#endif /* XDC_CYCLE_PRIV_H */
