/*
 * The loop's cycle (see cycle.h). cycle_start does everything that is
 * quick (load, observe, plan, guard); the executor it makes does the rest
 * as the loop steps it; cycle_end records the cycle. Here are the agent's
 * own parts, the driver's failures, and starting, stepping and ending a
 * cycle; loading the configuration is cycle_load.c's, the executor's
 * callbacks (what each action's outcome does, what backoff holds back)
 * cycle_action.c's, and what the cycle leaves in the log and the status
 * cycle_record.c's; cycle_priv.h is what they share.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "base/error.h"
#include "base/ev.h"
#include "planner/plan.h"
#include "reconciler/backoff.h"
#include "reconciler/cli.h"
#include "reconciler/cycle.h"
#include "reconciler/cycle_priv.h"
#include "reconciler/exec.h"
#include "reconciler/log.h"
#include "reconciler/reap.h"
#include "reconciler/status.h"
#include "schema/model.h"

#define CYCLE_DRIVER_KEY "driver" /* backoff of a driver that failed */

int64_t
cycle_real_ms(void)
{
	return xdc_ev_realtime();
}

/* ---- The agent -------------------------------------------------------- */

static void
keys_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
cycle_clear_invalid(struct agent *ag)
{
	ag->ag_invalid = 0;
	ag->ag_bad_commit[0] = '\0';
	xdc_diags_free(ag->ag_bad_diags);
	ag->ag_bad_diags = NULL;
	free(ag->ag_bad_msg);
	ag->ag_bad_msg = NULL;
	ag->ag_unverified = NULL;
	free(ag->ag_bad_key);
	ag->ag_bad_key = NULL;
}

void
agent_init(struct agent *ag, struct cli *cli, int64_t interval_ms)
{
	memset(ag, 0, sizeof(*ag));
	ag->ag_bo = backoff_new();
	ag->ag_st = status_new(cli->cl_host, interval_ms);
}

void
agent_free(struct agent *ag)
{
	xdc_config_free(ag->ag_cfg);
	cycle_clear_invalid(ag);
	free(ag->ag_unreachable);
	keys_free(ag->ag_done, ag->ag_ndone);
	keys_free(ag->ag_held, ag->ag_nheld);
	cycle_holds_free(ag->ag_holds, ag->ag_nholds);
	status_free(ag->ag_st);
	backoff_free(ag->ag_bo);
}

/* ---- The driver ------------------------------------------------------- */

/* A driver that failed is opened afresh, after a backoff; what: the
 * stage, when xdc_error_last() does not say it already. */
static void
driver_failed(struct cycle *c, const char *what)
{
	struct agent *ag = c->c_ag;
	char *msg = NULL;

	if (what != NULL)
		xdc_asprintf(&msg, "%s: %s", what, xdc_error_last());
	else
		msg = xdc_strdup(xdc_error_last());
	log_err(LOG_ERROR, "driver failed", msg);
	backoff_fail(ag->ag_bo, CYCLE_DRIVER_KEY, msg, cycle_real_ms());
	free(c->c_driver_err);
	c->c_driver_err = msg;
	session_driver_close(&ag->ag_se);
}

static void unplan(struct cycle *);

/* Observe and plan cfg into the cycle; XDC_EDRIVER when the driver
 * failed (said and backed off), XDC_EINVALID when cfg does not plan. */
static int
plan_for(struct cycle *c, const struct xdc_config *cfg, const char *commit,
    struct xdc_diags *diags)
{
	struct agent *ag = c->c_ag;
	int rc;

	rc = session_observe_plan(
	    &ag->ag_se, cfg, commit, &c->c_obs, &c->c_plan, diags);
	if (rc == XDC_EDRIVER) {
		driver_failed(c, NULL);
		return rc;
	}
	if (rc == XDC_ERETRY) {
		/* No pool view yet: nothing is planned, nothing refused. */
		free(c->c_pool_wait);
		c->c_pool_wait = xdc_strdup(xdc_error_last());
		log_err(LOG_DEBUG, "no plan", c->c_pool_wait);
		unplan(c);
		return rc;
	}
	if (rc == 0) {
		backoff_success(ag->ag_bo, CYCLE_DRIVER_KEY);
		c->c_cfg = cfg;
		c->c_host = session_host(&ag->ag_se, cfg);
	}
	return rc;
}

static void
unplan(struct cycle *c)
{
	xdc_plan_free(c->c_plan);
	xdc_observed_free(c->c_obs);
	c->c_plan = NULL;
	c->c_obs = NULL;
	c->c_cfg = NULL;
}

/* ---- Starting --------------------------------------------------------- */

/* The new configuration: taken (it becomes the one in force) only if it
 * plans and passes the guard. */
static void
take_new(struct cycle *c, struct xdc_config *cand, const char *commit)
{
	struct agent *ag = c->c_ag;
	struct xdc_diags *diags = xdc_diags_new();
	struct logline ll;
	char *msg = NULL;
	int rc, news;

	rc = plan_for(c, cand, commit, diags);
	if (rc == 0 && session_guard(&ag->ag_se, c->c_plan, &msg) != 0) {
		cycle_refuse(c, commit, NULL, msg);
		rc = XDC_EINVALID;
	} else if (rc == XDC_EINVALID) {
		if (xdc_diags_count(diags) > 0) {
			cycle_refuse(c, commit, diags, NULL);
			diags = NULL;
		} else {
			cycle_refuse(c, commit, NULL, xdc_error_last());
		}
	}
	if (rc == 0) {
		/* A resync of an unchanged directory is no news. */
		news = ag->ag_invalid || ag->ag_cfg == NULL ||
		       strcmp(commit, ag->ag_commit) ||
		       strcmp(c->c_trigger, "timer");
		xdc_config_free(ag->ag_cfg);
		ag->ag_cfg = cand;
		c->c_cand = NULL;
		snprintf(ag->ag_commit, sizeof(ag->ag_commit), "%s", commit);
		cycle_clear_invalid(ag);
		ag->ag_last_unverified[0] = '\0';
		log_begin(
		    &ll, news ? LOG_INFO : LOG_DEBUG, "configuration in force");
		log_str(&ll, "source", ag->ag_cfg->cfg_path);
		if (*commit)
			log_str(&ll, "commit", commit);
		log_end(&ll);
	} else {
		unplan(c);
		/* A driver failure, or the pool view not there yet, is
		 * not the configuration's. */
		if ((rc == XDC_EDRIVER || rc == XDC_ERETRY) &&
		    !source_is_git(ag->ag_src))
			ag->ag_reload = 1;
	}
	xdc_diags_free(diags);
	free(msg);
}

/* The configuration in force, planned again. */
static void
plan_in_force(struct cycle *c)
{
	struct agent *ag = c->c_ag;
	struct xdc_diags *diags = xdc_diags_new();
	char *msg = NULL;
	int rc;

	rc = plan_for(c, ag->ag_cfg, ag->ag_commit, diags);
	if (rc == XDC_EINVALID) {
		status_add_diags(ag->ag_st, diags);
		xdc_asprintf(&c->c_driver_err, "%s cannot be satisfied now: %s",
		    ag->ag_cfg->cfg_path,
		    xdc_diags_count(diags) > 0 ? xdc_diags_get(diags, 0)->dg_msg
		                               : xdc_error_last());
		log_err(LOG_ERROR, "cannot plan", c->c_driver_err);
	} else if (rc == 0 && session_guard(&ag->ag_se, c->c_plan, &msg)) {
		xdc_asprintf(&c->c_driver_err,
		    "refused: %s; fix the configuration, or run with --force",
		    msg);
		log_err(LOG_ERROR, "plan refused", c->c_driver_err);
		unplan(c);
	}
	free(msg);
	xdc_diags_free(diags);
}

struct cycle *
cycle_start(struct agent *ag, const char *trigger)
{
	struct cycle *c = xdc_calloc(1, sizeof(*c));
	char commit[SOURCE_COMMIT_HEXSZ];
	size_t n;

	c->c_ag = ag;
	c->c_trigger = trigger;
	status_begin(ag->ag_st, cycle_real_ms(), trigger);

	cycle_load(c, &c->c_cand, commit);
	if (c->c_cand != NULL)
		take_new(c, c->c_cand, commit);
	/* Else the one in force, unless the driver just failed or the pool
	 * view is not there. */
	if (c->c_plan == NULL && ag->ag_cfg != NULL &&
	    c->c_driver_err == NULL && c->c_pool_wait == NULL)
		plan_in_force(c);
	if (c->c_plan == NULL)
		return c;
	cycle_holds_note(c);
	if (ag->ag_se.se_drv == NULL)
		return c;
	/* Converged: time for other scopes' leftovers (SPEC §9). */
	if ((n = plan_count(c->c_plan)) == 0) {
		c->c_reap = reap_start(
		    &ag->ag_se, c->c_obs, plan_scope(c->c_plan), ag->ag_st);
		return c;
	}

	c->c_held = xdc_calloc(n, sizeof(*c->c_held));
	c->c_ops = cycle_ops;
	c->c_ops.eo_arg = c;
	backoff_sweep_begin(ag->ag_bo);
	c->c_sweeping = 1;
	if (session_exec(&ag->ag_se, c->c_cfg, c->c_plan, &c->c_ops, &c->c_x)) {
		exec_free(c->c_x);
		c->c_x = NULL;
		driver_failed(c, "cannot apply");
	}
	return c;
}

/* ---- Stepping --------------------------------------------------------- */

static void
sweep_end(struct cycle *c)
{
	if (c->c_sweeping)
		backoff_sweep_end(c->c_ag->ag_bo, cycle_real_ms());
	c->c_sweeping = 0;
}

int
cycle_step(struct cycle *c)
{
	int rc;

	if (c->c_x == NULL)
		return c->c_reap != NULL ? reap_step(c->c_reap) : 1;
	if ((rc = exec_step(c->c_x)) == 0)
		return 0;
	if (rc < 0) {
		/* The executor first: it ends the driver's batch. */
		exec_free(c->c_x);
		c->c_x = NULL;
		driver_failed(c, "cannot apply");
	}
	sweep_end(c);
	return 1;
}

int
cycle_ready(const struct cycle *c)
{
	return (c->c_x != NULL && exec_ready(c->c_x)) ||
	       (c->c_reap != NULL && reap_ready(c->c_reap));
}

void
cycle_stop(struct cycle *c)
{
	if (c->c_x != NULL)
		exec_stop(c->c_x);
	if (c->c_reap != NULL)
		reap_stop(c->c_reap);
}

/* ---- Ending ----------------------------------------------------------- */

void
cycle_end(struct cycle *c)
{
	struct agent *ag = c->c_ag;
	size_t i;

	/* What still runs is abandoned, and reported so. */
	exec_free(c->c_x);
	c->c_x = NULL;
	reap_end(c->c_reap);
	c->c_reap = NULL;
	sweep_end(c);
	if (c->c_plan != NULL)
		cycle_record_plan(c);
	cycle_record(c);
	/* What this cycle did is what the next one compares with. */
	keys_free(ag->ag_done, ag->ag_ndone);
	ag->ag_done = c->c_done_keys;
	ag->ag_ndone = c->c_ndone_keys;
	ag->ag_done_at = cycle_real_ms();
	/* What a plan held back is what the next compares with; without a
	 * plan, nothing was said, and the last stays. */
	if (c->c_plan != NULL) {
		keys_free(ag->ag_held, ag->ag_nheld);
		ag->ag_held = c->c_held_said;
		ag->ag_nheld = c->c_nheld_said;
	} else {
		keys_free(c->c_held_said, c->c_nheld_said);
	}
	for (i = 0; c->c_held != NULL && c->c_plan != NULL &&
	            i < plan_count(c->c_plan);
	     i++)
		free(c->c_held[i].h_why);
	free(c->c_held);
	free(c->c_driver_err);
	free(c->c_pool_wait);
	unplan(c);
	xdc_config_free(c->c_cand);
	free(c);
}
