/*
 * What a cycle leaves behind (see cycle.h): the log's word on what the
 * plan defers, once as a hold starts or changes its reason and once as
 * it ends, not at every cycle (cycle_holds_note); the status's drift and
 * deferred lists; the outcome, from the best, and its message; and the
 * status file, the metrics and the cycle's log line.
 */
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "base/error.h"
#include "drivers/driver.h"
#include "planner/plan.h"
#include "reconciler/backoff.h"
#include "reconciler/cycle.h"
#include "reconciler/cycle_priv.h"
#include "reconciler/log.h"
#include "reconciler/member.h"
#include "reconciler/status.h"

#define CYCLE_LOG_HOLDS 100 /* holds logged a cycle; the rest counted */

/* ---- Saying what the plan holds back ---------------------------------- */

void
cycle_holds_free(struct agent_hold *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].ah_name);
		free(v[i].ah_host);
		free(v[i].ah_why);
	}
	free(v);
}

static int
hold_cmp(const void *x, const void *y)
{
	const struct agent_hold *a = x, *b = y;
	int r;

	if ((r = strcmp(a->ah_op, b->ah_op)) != 0 ||
	    (r = strcmp(a->ah_kind, b->ah_kind)) != 0 ||
	    (r = strcmp(a->ah_name, b->ah_name)) != 0)
		return r;
	return strcmp(a->ah_host, b->ah_host);
}

static void
log_hold(const struct agent_hold *h, const char *result, const char *k,
    const char *v)
{
	struct logline ll;

	log_begin(&ll, LOG_INFO, "action");
	log_str(&ll, "op", h->ah_op);
	log_str(&ll, "kind", h->ah_kind);
	log_str(&ll, "name", *h->ah_name ? h->ah_name : NULL);
	log_str(&ll, "host", *h->ah_host ? h->ah_host : NULL);
	log_str(&ll, "result", result);
	log_str(&ll, k, v);
	log_end(&ll);
}

/*
 * This plan's deferred actions (v, n: owned now) against the last's: a
 * hold that starts, or whose reason changes, is logged with its reason;
 * one that ends (the action runs now, or is no longer needed) is logged
 * as released. A hold the plan keeps with the same reason is not logged
 * again: it may last minutes, at a cycle a second (status.json has it at
 * every cycle). Both lists sorted, one pass over both. A plan that holds
 * thousands at once (a window closes on a pool) logs the first
 * CYCLE_LOG_HOLDS and counts the rest.
 */
static void
holds_update(struct agent *ag, struct agent_hold *v, size_t n, int64_t now)
{
	struct agent_hold *old = ag->ag_holds;
	size_t i = 0, j = 0, nold = ag->ag_nholds, logged = 0;
	size_t more_held = 0, more_released = 0;
	struct logline ll;
	char t[32];
	int r;

	if (n > 1)
		qsort(v, n, sizeof(*v), hold_cmp);
	while (i < nold || j < n) {
		r = i == nold ? 1 : j == n ? -1 : hold_cmp(&old[i], &v[j]);
		if (r < 0) {
			if (logged++ < CYCLE_LOG_HOLDS)
				log_hold(&old[i], "released", "held_since",
				    log_iso_time(old[i].ah_since, t));
			else
				more_released++;
			i++;
			continue;
		}
		v[j].ah_since = r == 0 ? old[i].ah_since : now;
		if (r > 0 || strcmp(old[i].ah_why, v[j].ah_why) != 0) {
			if (logged++ < CYCLE_LOG_HOLDS)
				log_hold(&v[j], "deferred", "why", v[j].ah_why);
			else
				more_held++;
		}
		i += r == 0;
		j++;
	}
	if (more_held > 0 || more_released > 0) {
		log_begin(&ll, LOG_INFO, "more holds");
		log_int(&ll, "deferred", (long long)more_held);
		log_int(&ll, "released", (long long)more_released);
		log_end(&ll);
	}
	cycle_holds_free(old, nold);
	ag->ag_holds = v;
	ag->ag_nholds = n;
}

/* What this plan defers, as far as this agent applies it (as the
 * status's deferred list has it), against what the last one did. */
void
cycle_holds_note(struct cycle *c)
{
	const struct xdc_plan *plan = c->c_plan;
	const char *host = c->c_host, *why;
	const struct xdc_action *a;
	struct agent_hold *v, *h;
	size_t i, n = 0;

	v = xdc_calloc(plan_ndeferred(plan) + 1, sizeof(*v));
	for (i = 0; i < plan_ndeferred(plan); i++) {
		a = plan_deferred(plan, i);
		if (host != NULL &&
		    (a->a_host == NULL || strcmp(host, a->a_host)))
			continue;
		why = plan_deferred_held(plan, i);
		h = &v[n++];
		h->ah_op = xdc_op_name(a->a_op);
		h->ah_kind = xdc_obj_kind_name(a->a_kind);
		h->ah_name = xdc_strdup(a->a_name ? a->a_name : "");
		h->ah_host = xdc_strdup(a->a_host ? a->a_host : "");
		h->ah_why = xdc_strdup(why ? why : "");
	}
	holds_update(c->c_ag, v, n, cycle_real_ms());
}

/* ---- What the plan found, and the outcome ----------------------------- */

/* What the plan found different and held back, as far as this agent
 * applies it: the status's drift and deferred lists. */
void
cycle_record_plan(struct cycle *c)
{
	struct agent *ag = c->c_ag;
	const struct xdc_plan *plan = c->c_plan;
	const char *host = c->c_host;
	const struct xdc_action *a;
	struct status_item it;
	size_t i, mine = 0;
	char *changes;

	for (i = 0; i < plan_count(plan); i++) {
		a = plan_action(plan, i);
		if (host != NULL &&
		    (a->a_host == NULL || strcmp(host, a->a_host)))
			continue;
		mine++;
		cycle_item_of(&it, a);
		it.si_why = plan_reason(plan, i);
		changes = plan_changes_json(plan, i);
		it.si_changes = changes;
		status_add_drift(ag->ag_st, &it);
		free(changes);
	}
	status_set_planned(ag->ag_st, mine);
	for (i = 0; i < plan_ndeferred(plan); i++) {
		a = plan_deferred(plan, i);
		if (host != NULL &&
		    (a->a_host == NULL || strcmp(host, a->a_host)))
			continue;
		cycle_item_of(&it, a);
		it.si_why = plan_deferred_held(plan, i);
		status_add_deferred(ag->ag_st, &it);
	}
}

/* The outcome, from the best; when several apply, the worst. */
static enum status_outcome
outcome(const struct cycle *c, char **msg)
{
	const struct agent *ag = c->c_ag;
	const char *name = source_name(ag->ag_src);
	char *keep = NULL;
	enum status_outcome o;
	size_t nd;

	*msg = NULL;
	if (ag->ag_cfg == NULL)
		keep = xdc_strdup("nothing is applied");
	else if (*ag->ag_commit)
		xdc_asprintf(
		    &keep, "commit %.12s stays in force", ag->ag_commit);
	else
		keep = xdc_strdup("the last good configuration stays in force");

	if (ag->ag_unreachable != NULL) {
		o = STATUS_UNREACHABLE;
		xdc_asprintf(
		    msg, "unreachable: %s; %s", ag->ag_unreachable, keep);
	} else if (ag->ag_invalid && ag->ag_unverified != NULL) {
		o = STATUS_UNVERIFIED;
		xdc_asprintf(msg, "%s commit %.12s is not verified: %s; %s",
		    name, ag->ag_bad_commit, ag->ag_bad_msg, keep);
	} else if (ag->ag_invalid) {
		o = STATUS_INVALID;
		nd = ag->ag_bad_diags ? xdc_diags_count(ag->ag_bad_diags) : 0;
		if (ag->ag_bad_msg != NULL)
			xdc_asprintf(msg, "%s%s%.12s: %s; %s", name,
			    *ag->ag_bad_commit ? " commit " : "",
			    ag->ag_bad_commit, ag->ag_bad_msg, keep);
		else
			xdc_asprintf(msg, "%s%s%.12s: %zu %s; %s", name,
			    *ag->ag_bad_commit ? " commit " : "",
			    ag->ag_bad_commit, nd, nd == 1 ? "error" : "errors",
			    keep);
	} else if (c->c_driver_err != NULL || c->c_failed > 0 ||
	           c->c_stuck > 0) {
		o = STATUS_FAILED;
		if (c->c_driver_err != NULL)
			*msg = xdc_strdup(c->c_driver_err);
		else if (c->c_failed > 0 && c->c_stuck > 0)
			xdc_asprintf(msg,
			    "%zu failed, %zu held back or skipped (see "
			    "pending)",
			    c->c_failed, c->c_stuck);
		else if (c->c_failed > 0)
			xdc_asprintf(msg,
			    "%zu failed; retried with backoff (see pending)",
			    c->c_failed);
		else
			xdc_asprintf(msg,
			    "%zu held back or skipped (see pending)",
			    c->c_stuck);
	} else if (c->c_pool_wait != NULL) {
		o = STATUS_PENDING;
		xdc_asprintf(msg, "%s; nothing is applied until it is there",
		    c->c_pool_wait);
	} else if (c->c_abandoned > 0) {
		o = STATUS_PENDING;
		xdc_asprintf(msg,
		    "%zu abandoned as xdc stopped (see pending); the next "
		    "run observes how far they got",
		    c->c_abandoned);
	} else if (c->c_waiting > 0) {
		o = STATUS_PENDING;
		xdc_asprintf(msg,
		    "%zu waiting for another host's actions or for the pool "
		    "(see pending)",
		    c->c_waiting);
	} else if (c->c_done > 0) {
		o = STATUS_APPLIED;
		xdc_asprintf(msg, "%zu done", c->c_done);
	} else {
		o = STATUS_CONVERGED;
	}
	free(keep);
	return o;
}

void
cycle_record(struct cycle *c)
{
	struct agent *ag = c->c_ag;
	const char *name = source_name(ag->ag_src);
	enum status_outcome o;
	struct logline ll;
	char *msg;

	status_set_source(
	    ag->ag_st, ag->ag_cfg ? ag->ag_cfg->cfg_path : name, ag->ag_commit);
	status_set_rejected(ag->ag_st, NULL, NULL);
	status_set_unverified(ag->ag_st, NULL, NULL, NULL);
	o = outcome(c, &msg);
	if (ag->ag_unreachable != NULL)
		status_add_error(ag->ag_st, NULL, 0, 0, ag->ag_unreachable);
	if (ag->ag_invalid) {
		status_set_rejected(ag->ag_st, name, ag->ag_bad_commit);
		if (ag->ag_unverified != NULL)
			status_set_unverified(ag->ag_st, ag->ag_bad_commit,
			    ag->ag_unverified, ag->ag_bad_key);
		if (ag->ag_bad_msg != NULL)
			status_add_error(ag->ag_st, NULL, 0, 0, ag->ag_bad_msg);
		status_add_diags(ag->ag_st, ag->ag_bad_diags);
	}
	if (c->c_driver_err != NULL)
		status_add_error(ag->ag_st, NULL, 0, 0, c->c_driver_err);
	status_set_outcome(ag->ag_st, o, msg);
	status_set_pool(ag->ag_st,
	    ag->ag_member == NULL
	        ? NULL
	        : member_status(ag->ag_member,
	              c->c_cfg != NULL ? c->c_cfg : ag->ag_cfg, c->c_plan));
	status_set_gauges(ag->ag_st,
	    c->c_plan != NULL ? plan_managed_vms(c->c_plan) : 0,
	    backoff_restart_limited(ag->ag_bo, cycle_real_ms()));
	status_end(ag->ag_st, cycle_real_ms());
	if (status_save(ag->ag_st, ag->ag_state_dir) != 0)
		log_err(LOG_WARN, "cannot write the status", xdc_error_last());

	log_begin(&ll, o >= STATUS_FAILED ? LOG_WARN : LOG_INFO, "cycle");
	log_str(&ll, "trigger", c->c_trigger);
	log_str(&ll, "outcome", status_outcome_name(o));
	log_str(&ll, "source", ag->ag_cfg ? ag->ag_cfg->cfg_path : name);
	if (*ag->ag_commit)
		log_str(&ll, "commit", ag->ag_commit);
	log_int(&ll, "done", (long long)c->c_done);
	log_int(&ll, "failed", (long long)c->c_failed);
	log_int(&ll, "held", (long long)c->c_stuck);
	log_int(&ll, "waiting", (long long)c->c_waiting);
	if (c->c_abandoned > 0)
		log_int(&ll, "abandoned", (long long)c->c_abandoned);
	log_int(&ll, "deferred",
	    c->c_plan ? (long long)plan_ndeferred(c->c_plan) : 0);
	if (msg != NULL && o != STATUS_APPLIED)
		log_str(&ll, "why", msg);
	log_end(&ll);
	free(msg);
}
