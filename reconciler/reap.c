/*
 * The agent's reaper of expired scopes (see reap.h). The teardown plan
 * borrows from its configuration and observation, which the reap owns;
 * the executor borrows the session's driver, which outlives the cycle.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "drivers/driver.h"
#include "planner/plan.h"
#include "reconciler/cli.h"
#include "reconciler/exec.h"
#include "reconciler/log.h"
#include "reconciler/reap.h"
#include "reconciler/session.h"
#include "reconciler/status.h"
#include "reconciler/teardown.h"
#include "schema/model.h"

struct reap {
	struct session *r_se;
	struct status *r_st;
	char *r_scope;
	struct xdc_config *r_cfg;
	struct xdc_observed *r_obs;
	struct xdc_plan *r_plan;
	struct exec *r_x;
	struct exec_ops r_ops;
	size_t r_done, r_failed, r_other;
	int r_driver_failed;
};

static void
reap_report(void *arg, const struct exec *x, size_t i, enum exec_status st,
    const char *msg)
{
	struct reap *r = arg;
	const struct xdc_action *a = plan_action(r->r_plan, i);
	const char *op = xdc_op_name(a->a_op), *result;
	struct logline ll;
	enum status_result sr;
	int level = LOG_INFO;

	(void)x;
	switch (st) {
	case EXEC_DONE:
		result = "done";
		sr = STATUS_DONE;
		r->r_done++;
		break;
	case EXEC_FAILED:
		result = "failed";
		sr = STATUS_FAILED_ACTION;
		level = LOG_WARN;
		r->r_failed++;
		break;
	case EXEC_NOT_OURS:
		result = "other_host";
		sr = STATUS_OTHER_HOST;
		level = LOG_DEBUG;
		r->r_other++;
		break;
	default:
		result = st == EXEC_ABANDONED ? "abandoned" : "skipped";
		sr = STATUS_SKIPPED;
		r->r_failed++;
		break;
	}
	status_count(r->r_st, op, sr);
	log_begin(&ll, level, "action");
	log_str(&ll, "op", op);
	log_str(&ll, "kind", xdc_obj_kind_name(a->a_kind));
	log_str(&ll, "name", a->a_name);
	log_str(&ll, "host", a->a_host);
	log_str(&ll, "scope", r->r_scope);
	log_str(&ll, "result", result);
	if (msg != NULL && st != EXEC_DONE)
		log_str(&ll, "why", msg);
	log_end(&ll);
}

static void
reap_free(struct reap *r)
{
	exec_free(r->r_x);
	xdc_plan_free(r->r_plan);
	xdc_observed_free(r->r_obs);
	xdc_config_free(r->r_cfg);
	free(r->r_scope);
	free(r);
}

struct reap *
reap_start(struct session *s, const struct xdc_observed *obs, const char *own,
    struct status *st)
{
	struct xdc_diags *diags;
	struct teardown_expired *ex = NULL;
	struct logline ll;
	struct reap *r;
	size_t nex = 0, nscopes = 0;
	char *why = NULL;
	int rc;

	teardown_expired(obs, cli_now(), own, &ex, &nex, &nscopes);
	if (nex == 0)
		return NULL;
	r = xdc_calloc(1, sizeof(*r));
	r->r_se = s;
	r->r_st = st;
	r->r_scope = xdc_strdup(ex[0].te_scope);
	diags = xdc_diags_new();
	xdc_asprintf(&why, "xdc run: scope %s has expired", r->r_scope);
	rc = teardown_plan(
	    s, r->r_scope, NULL, why, &r->r_cfg, &r->r_obs, &r->r_plan, diags);
	free(why);
	/* What protect holds stays, and is not news at every cycle. */
	log_begin(&ll,
	    rc == 0 && plan_count(r->r_plan) == 0 ? LOG_DEBUG : LOG_INFO,
	    "scope expired");
	log_str(&ll, "scope", ex[0].te_scope);
	log_str(&ll, "expired_at", ex[0].te_expired);
	log_str(&ll, "applied_at", ex[0].te_applied);
	log_int(&ll, "domains", (long long)ex[0].te_domains);
	if (rc == 0)
		log_int(&ll, "deferred", (long long)plan_ndeferred(r->r_plan));
	log_end(&ll);
	teardown_expired_free(ex, nex);
	if (rc == 0 && plan_count(r->r_plan) == 0) {
		xdc_diags_free(diags);
		reap_free(r);
		return NULL;
	}
	if (rc == 0) {
		r->r_ops.eo_report = reap_report;
		r->r_ops.eo_arg = r;
		rc = session_exec(s, r->r_cfg, r->r_plan, &r->r_ops, &r->r_x);
	}
	if (rc != 0) {
		log_begin(&ll, LOG_WARN, "scope not reaped");
		log_str(&ll, "scope", r->r_scope);
		log_str(&ll, "error",
		    xdc_diags_count(diags) > 0
		        ? "its teardown cannot be planned"
		        : xdc_error_last());
		log_end(&ll);
		xdc_diags_free(diags);
		reap_free(r);
		return NULL;
	}
	xdc_diags_free(diags);
	return r;
}

int
reap_step(struct reap *r)
{
	int rc;

	if (r->r_x == NULL)
		return 1;
	if ((rc = exec_step(r->r_x)) == 0)
		return 0;
	if (rc < 0) {
		r->r_driver_failed = 1;
		log_err(LOG_WARN, "scope not reaped", xdc_error_last());
		exec_free(r->r_x);
		r->r_x = NULL;
	}
	return 1;
}

int
reap_ready(const struct reap *r)
{
	return r->r_x != NULL && exec_ready(r->r_x);
}

void
reap_stop(struct reap *r)
{
	if (r->r_x != NULL)
		exec_stop(r->r_x);
}

void
reap_end(struct reap *r)
{
	struct logline ll;
	int whole;

	if (r == NULL)
		return;
	exec_free(r->r_x);
	r->r_x = NULL;
	/* Taken down as far as this agent's host goes: counted once. */
	whole = r->r_failed == 0 && !r->r_driver_failed;
	if (whole)
		status_count_reaped(r->r_st);
	log_begin(&ll, whole ? LOG_INFO : LOG_WARN,
	    whole ? "scope reaped" : "scope not reaped");
	log_str(&ll, "scope", r->r_scope);
	log_int(&ll, "done", (long long)r->r_done);
	log_int(&ll, "failed", (long long)r->r_failed);
	if (r->r_other > 0)
		log_int(&ll, "other_host", (long long)r->r_other);
	log_int(&ll, "deferred", (long long)plan_ndeferred(r->r_plan));
	log_end(&ll);
	reap_free(r);
}
