/*
 * One cycle of `xdc run` (SPEC §6): take a new configuration in when one
 * is due (parse -> validate -> plan, swapped in only when it plans and
 * passes the --max-destroy guard: bgpd's reconfigure), else plan the one
 * in force; hold back what backoff and restart limits say; execute the
 * rest through the session's executor, one step at a time as the loop's
 * events say (or, when there is nothing to do, take down another scope
 * that expired: reap.h); then write the status and the metrics and log
 * the cycle.
 *
 * What lasts from one cycle to the next is a struct agent, which the loop
 * owns: the session (and its driver), the source, the configuration in
 * force, what is wrong with the newest one, backoff, the status, the
 * actions done last time and the holds the log last said. What belongs to
 * one cycle is a struct cycle.
 */
#ifndef XDC_CYCLE_H
#define XDC_CYCLE_H

#include <stddef.h>
#include <stdint.h>

#include "reconciler/session.h"
#include "reconciler/source.h"

struct backoff;
struct member;
struct status;

/* A deferred action as the log last said it: what, why, since when. */
struct agent_hold {
	const char *ah_op, *ah_kind; /* static: xdc_op_name's, ... */
	char *ah_name, *ah_host;     /* "" for none */
	char *ah_why;
	int64_t ah_since;
};

struct agent {
	struct session ag_se;
	struct source *ag_src;
	struct backoff *ag_bo;
	struct status *ag_st;
	const char *ag_state_dir;
	struct member *ag_member; /* the pool view (--etcd), or NULL */

	/* The configuration in force, and its commit ("" for a path). */
	struct xdc_config *ag_cfg;
	char ag_commit[SOURCE_COMMIT_HEXSZ];

	/* Asked of the next cycle by the loop. */
	int ag_reload;      /* a path: read it again */
	int ag_force;       /* SIGHUP: load again even what was refused */
	int ag_check_force; /* ... once its signature is checked again */

	/* What is wrong with the source, kept until it is put right. */
	char *ag_unreachable; /* the last fetch's failure */
	int ag_invalid;
	char ag_bad_commit[SOURCE_COMMIT_HEXSZ];
	struct xdc_diags *ag_bad_diags;
	char *ag_bad_msg;
	/* ... refused as not signed by a trusted key (SPEC §10): why, as
	 * verify_reason_name says it, and the key seen (or NULL). */
	const char *ag_unverified;
	char *ag_bad_key;
	char ag_last_unverified[SOURCE_COMMIT_HEXSZ]; /* logged, counted */
	/* The newest commit's check has not ended: the loop checks it. */
	int ag_unchecked;

	/* The actions the last cycle did, and when: one needed again at
	 * once did not hold. */
	char **ag_done;
	size_t ag_ndone;
	int64_t ag_done_at;

	/* What the last plan deferred, sorted: logged when a hold starts
	 * or its reason changes, and when it ends, not at every cycle. */
	struct agent_hold *ag_holds;
	size_t ag_nholds;
	/* What backoff and restart limits held back at the last plan, as
	 * "KEY WHY": logged again only when the reason changes. */
	char **ag_held;
	size_t ag_nheld;
};

struct cycle;

/* The agent's own parts (the loop sets the session and the source). */
void agent_init(struct agent *, struct cli *, int64_t interval_ms);
void agent_free(struct agent *);

/*
 * Start a cycle for trigger (a string that outlives it: "start",
 * "timer", "config", "sighup", "hypervisor", "retry", "fetch"): load
 * what is due, observe, plan, guard, and make the executor. Whatever
 * fails on the way is the cycle's outcome, not an error: the cycle is
 * always made. The caller steps it, then ends it.
 */
struct cycle *cycle_start(struct agent *, const char *trigger);

/*
 * Start what can start, take in what finished: 1 when the cycle has
 * nothing more to wait for, 0 when an event must come first (or at once
 * while cycle_ready says so).
 */
int cycle_step(struct cycle *);
int cycle_ready(const struct cycle *);

/* SIGTERM: start nothing more; what runs may finish. */
void cycle_stop(struct cycle *);

/*
 * Abandon what still runs (the drivers leave it: the next observation
 * shows how far it got), write the status and the metrics, log the
 * cycle, and free it.
 */
void cycle_end(struct cycle *);

#endif /* XDC_CYCLE_H */
