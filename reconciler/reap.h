/*
 * Expired scopes reaped by `xdc run` (SPEC §9). An agent whose own plan
 * has nothing to do looks at what it observed for a scope, other than its
 * own, whose expiry has passed; it takes that scope down as `xdc destroy`
 * would (teardown.h, through the agent's session and driver, for the
 * actions of the agent's host), one scope a cycle, stepped by the loop
 * like any plan so that the loop never blocks. Each action is logged as
 * the cycle's are, the scope's end is a logfmt line ("scope expired",
 * then "scope reaped"), and the metrics count it
 * (xdc_scopes_reaped_total). Several agents of a pool may reap the same
 * scope: each destroys what is on its own host.
 */
#ifndef XDC_REAP_H
#define XDC_REAP_H

struct session;
struct status;
struct xdc_observed;

struct reap;

/*
 * The first scope of obs expired now other than own (the agent's: it is
 * applied every cycle), its teardown planned and an executor made; NULL
 * when none has expired or its plan cannot be made (logged).
 */
struct reap *reap_start(struct session *, const struct xdc_observed *obs,
    const char *own, struct status *);
/* As cycle_step and cycle_ready; reap_stop as cycle_stop. */
int reap_step(struct reap *);
int reap_ready(const struct reap *);
void reap_stop(struct reap *);
/* Abandon what still runs, log the outcome, count it, and free. */
void reap_end(struct reap *);

#endif /* XDC_REAP_H */
