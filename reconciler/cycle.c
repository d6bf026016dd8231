/*
 * The loop's cycle (see cycle.h). cycle_start does everything that is
 * quick (load, observe, plan, guard); the executor it makes does the rest
 * as the loop steps it. Every action's outcome is counted, logged and
 * remembered by report(); hold() holds back what backoff and restart
 * limits say; holds_note logs what the plan defers, as a hold starts,
 * changes its reason or ends (not at every cycle); cycle_end records what
 * the plan found (its drift and its deferred actions, read through the
 * planner's getters) and the outcome.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/ev.h"
#include "drivers/driver.h"
#include "planner/plan.h"
#include "reconciler/backoff.h"
#include "reconciler/cli.h"
#include "reconciler/cycle.h"
#include "reconciler/exec.h"
#include "reconciler/log.h"
#include "reconciler/member.h"
#include "reconciler/reap.h"
#include "reconciler/status.h"
#include "schema/model.h"

#define CYCLE_DRIVER_KEY "driver" /* backoff of a driver that failed */
/* An action needed again this soon after it was done did not hold. */
#define CYCLE_REPEAT_MS 2000
#define CYCLE_LOG_DIAGS 20  /* diagnostics logged of a refused config */
#define CYCLE_LOG_HOLDS 100 /* holds logged a cycle; the rest counted */

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
};

static int64_t
real_ms(void)
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

static void
holds_free(struct agent_hold *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].ah_name);
		free(v[i].ah_host);
		free(v[i].ah_why);
	}
	free(v);
}

static void
clear_invalid(struct agent *ag)
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
	clear_invalid(ag);
	free(ag->ag_unreachable);
	keys_free(ag->ag_done, ag->ag_ndone);
	holds_free(ag->ag_holds, ag->ag_nholds);
	status_free(ag->ag_st);
	backoff_free(ag->ag_bo);
}

/* ---- The source ------------------------------------------------------- */

/* The newest configuration is refused; diags (owned now) or msg say why. */
static void
refuse(struct cycle *c, const char *commit, struct xdc_diags *diags,
    const char *msg)
{
	struct agent *ag = c->c_ag;
	const struct xdc_diag *d;
	struct logline ll;
	size_t i, n = diags != NULL ? xdc_diags_count(diags) : 0;
	int quiet;

	/* The same refusal at each resync is logged once. */
	quiet = ag->ag_invalid && !strcmp(c->c_trigger, "timer") &&
	        !strcmp(commit, ag->ag_bad_commit);
	clear_invalid(ag);
	ag->ag_invalid = 1;
	snprintf(ag->ag_bad_commit, sizeof(ag->ag_bad_commit), "%s", commit);
	ag->ag_bad_diags = diags;
	ag->ag_bad_msg = msg != NULL ? xdc_strdup(msg) : NULL;
	if (quiet)
		return;
	log_begin(&ll, LOG_ERROR, "configuration refused");
	log_str(&ll, "source", source_name(ag->ag_src));
	if (*commit)
		log_str(&ll, "commit", commit);
	if (msg != NULL)
		log_str(&ll, "error", msg);
	else
		log_int(&ll, "errors", (long long)n);
	log_str(&ll, "keeping",
	    ag->ag_cfg == NULL ? "nothing"
	    : *ag->ag_commit   ? ag->ag_commit
	                       : "the last good configuration");
	log_end(&ll);
	for (i = 0; i < n && i < CYCLE_LOG_DIAGS; i++) {
		d = xdc_diags_get(diags, i);
		log_begin(&ll, LOG_ERROR, "configuration error");
		log_str(&ll, "file", d->dg_file);
		log_int(&ll, "line", d->dg_line);
		log_int(&ll, "col", d->dg_col);
		log_str(&ll, "error", d->dg_msg);
		log_end(&ll);
	}
}

/*
 * The newest commit is not signed by a trusted key (SPEC §10): refused
 * as a bad commit is, with the reason and the key seen. Logged and
 * counted once per commit: the loop checks a commit once, and a SIGHUP
 * that checks it again finds what it found.
 */
static void
refuse_unverified(struct cycle *c, const char *commit, const char *msg)
{
	struct agent *ag = c->c_ag;
	const char *reason = source_refusal(ag->ag_src);
	const char *key = source_refusal_key(ag->ag_src);
	struct logline ll;

	clear_invalid(ag);
	ag->ag_invalid = 1;
	snprintf(ag->ag_bad_commit, sizeof(ag->ag_bad_commit), "%s", commit);
	ag->ag_bad_msg = xdc_strdup(msg);
	ag->ag_unverified = reason != NULL ? reason : "unchecked";
	ag->ag_bad_key = key != NULL ? xdc_strdup(key) : NULL;
	if (!strcmp(commit, ag->ag_last_unverified))
		return;
	snprintf(ag->ag_last_unverified, sizeof(ag->ag_last_unverified), "%s",
	    commit);
	if (reason != NULL)
		status_count_unverified(ag->ag_st, reason);
	log_begin(&ll, LOG_ERROR, "commit not verified");
	log_str(&ll, "source", source_name(ag->ag_src));
	log_str(&ll, "commit", commit);
	log_str(&ll, "reason", ag->ag_unverified);
	log_str(&ll, "key", key);
	log_str(&ll, "error", msg);
	log_str(&ll, "keeping",
	    ag->ag_cfg == NULL ? "nothing"
	    : *ag->ag_commit   ? ag->ag_commit
	                       : "the last good configuration");
	log_end(&ll);
}

/*
 * Load the configuration when it changed: *cand gets one that parsed and
 * validated, not yet planned. With git, what the last fetch brought is
 * in the cache: the loop fetches, in its thread, never the cycle.
 */
static void
load(
    struct cycle *c, struct xdc_config **cand, char commit[SOURCE_COMMIT_HEXSZ])
{
	struct agent *ag = c->c_ag;
	struct xdc_diags *diags = NULL;
	struct logline ll;
	char hex[SOURCE_COMMIT_HEXSZ];
	size_t parsed, reused;
	int rc;

	*cand = NULL;
	commit[0] = '\0';
	if (source_is_git(ag->ag_src)) {
		if ((rc = source_resolve(ag->ag_src, hex)) != 0) {
			/* Nothing to load: unreachable says it already. */
			if (ag->ag_unreachable == NULL)
				refuse(c, "", NULL, xdc_error_last());
			return;
		}
		if (ag->ag_cfg != NULL && !strcmp(hex, ag->ag_commit) &&
		    !ag->ag_force) {
			/* Back to the commit in force: nothing is refused --
			 * unless a SIGHUP's check refused that very commit
			 * (a key removed), which stays said. */
			if (ag->ag_unverified == NULL ||
			    strcmp(hex, ag->ag_bad_commit))
				clear_invalid(ag);
			return;
		}
		if (ag->ag_invalid && !strcmp(hex, ag->ag_bad_commit) &&
		    !ag->ag_force)
			return;
		/* A SIGHUP's check again has not ended: its verdict will. */
		if (ag->ag_force &&
		    (ag->ag_check_force || source_checking(ag->ag_src)))
			return;
	} else {
		if (!ag->ag_reload && ag->ag_cfg != NULL)
			return;
		ag->ag_reload = 0;
	}
	diags = xdc_diags_new();
	rc = source_load(ag->ag_src, cand, diags, commit);
	if (rc == XDC_ERETRY) {
		/* Its check runs in a thread: the loop starts the next
		 * cycle when it ends (a SIGHUP's force waits for it). */
		ag->ag_unchecked = 1;
		log_err(LOG_DEBUG, "commit not checked yet", xdc_error_last());
		xdc_diags_free(diags);
		return;
	}
	ag->ag_force = 0;
	if (rc == XDC_EINVALID) {
		refuse(c, commit, diags, NULL);
		diags = NULL;
	} else if (rc == XDC_EUNVERIFIED) {
		refuse_unverified(c, commit, xdc_error_last());
	} else if (rc != 0) {
		refuse(c, commit, NULL, xdc_error_last());
	} else if (strcmp(c->c_trigger, "timer") != 0 || *commit) {
		log_begin(&ll, LOG_INFO, "configuration loaded");
		log_str(&ll, "source", source_name(ag->ag_src));
		if (*commit)
			log_str(&ll, "commit", commit);
		/* With --trust-*: whose key the commit was taken on. */
		log_str(&ll, "signed_by", source_signer(ag->ag_src));
		if (source_parse_counts(ag->ag_src, &parsed, &reused)) {
			log_int(&ll, "files_parsed", (long long)parsed);
			log_int(&ll, "files_reused", (long long)reused);
		}
		log_end(&ll);
	}
	xdc_diags_free(diags);
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
	backoff_fail(ag->ag_bo, CYCLE_DRIVER_KEY, msg, real_ms());
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

/* ---- Holding back, and hearing of, each action ------------------------ */

static char *
action_key(const struct xdc_action *a)
{
	char *key = NULL;

	xdc_asprintf(&key, "%s/%s/%s/%s", xdc_op_name(a->a_op),
	    xdc_obj_kind_name(a->a_kind), a->a_name ? a->a_name : "",
	    a->a_host ? a->a_host : "");
	return key;
}

static int
is_restart(const struct xdc_action *a)
{
	return a->a_kind == XDC_OBJ_VM &&
	       (a->a_op == XDC_OP_RESTART || a->a_op == XDC_OP_START);
}

static int
keys_have(char *const *v, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(v[i], key))
			return 1;
	return 0;
}

static void
item_of(struct status_item *it, const struct xdc_action *a)
{
	memset(it, 0, sizeof(*it));
	it->si_op = xdc_op_name(a->a_op);
	it->si_kind = xdc_obj_kind_name(a->a_kind);
	it->si_name = a->a_name;
	it->si_host = a->a_host;
}

/* One line per action: what, where, the result, and up to two more
 * key=value pairs (a NULL key ends them). */
static void
log_action(int level, const struct xdc_action *a, const char *result,
    const char *k1, const char *v1, const char *k2, const char *v2)
{
	struct logline ll;

	log_begin(&ll, level, "action");
	log_str(&ll, "op", xdc_op_name(a->a_op));
	log_str(&ll, "kind", xdc_obj_kind_name(a->a_kind));
	log_str(&ll, "name", a->a_name);
	log_str(&ll, "host", a->a_host);
	log_str(&ll, "result", result);
	if (k1 != NULL)
		log_str(&ll, k1, v1);
	if (k1 != NULL && k2 != NULL)
		log_str(&ll, k2, v2);
	log_end(&ll);
}

/* A VM this host took over from a lost host: one line when it runs. */
static void
log_failover(const struct cycle *c, const struct xdc_action *a)
{
	const char *vm, *from, *to;
	struct logline ll;
	size_t i;

	if (a->a_kind != XDC_OBJ_VM || a->a_op != XDC_OP_CREATE)
		return;
	for (i = 0; i < plan_nfailovers(c->c_plan); i++) {
		plan_failover(c->c_plan, i, &vm, &from, &to);
		if (strcmp(vm, a->a_name) != 0)
			continue;
		log_begin(&ll, LOG_WARN, "failover");
		log_str(&ll, "vm", vm);
		log_str(&ll, "from", from);
		log_str(&ll, "to", to);
		log_end(&ll);
		return;
	}
}

/* exec's hold callback: backoff, then the restart limit. */
static int
hold(void *arg, size_t i)
{
	struct cycle *c = arg;
	struct agent *ag = c->c_ag;
	const struct xdc_action *a = plan_action(c->c_plan, i);
	const struct xdc_vm *vm;
	const struct xdc_sla *sla;
	struct backoff_info bi;
	struct held *h = &c->c_held[i];
	char *key = action_key(a), t[32], rate[BACKOFF_RATE_BUFSZ];
	int64_t now = real_ms(), next;
	int held = 1;

	/* Done a moment ago and needed again: it did not hold. Back off. */
	if (ag->ag_done_at != 0 && now - ag->ag_done_at < CYCLE_REPEAT_MS &&
	    keys_have(ag->ag_done, ag->ag_ndone, key) &&
	    backoff_ready(ag->ag_bo, key, now, NULL))
		backoff_fail(ag->ag_bo, key,
		    "it was done a moment ago and is needed again", now);
	if (!backoff_ready(ag->ag_bo, key, now, &bi)) {
		h->h_state = "backoff";
		h->h_retry_at = bi.bi_next;
		h->h_failures = bi.bi_failures;
		xdc_asprintf(&h->h_why,
		    "backing off after %u %s (%s): next try at %s",
		    bi.bi_failures,
		    bi.bi_failures == 1 ? "failure" : "failures", bi.bi_error,
		    log_iso_time(bi.bi_next, t));
		goto out;
	}
	if (is_restart(a)) {
		vm = xdc_config_vm(c->c_cfg, a->a_name);
		sla = vm != NULL
		          ? xdc_vm_policy(c->c_cfg, vm, XDC_POL_RESTART_LIMIT)
		          : NULL;
		if (!backoff_restart_ready(ag->ag_bo, a->a_name,
		        sla != NULL ? &sla->s_restart_limit : NULL, now,
		        &next)) {
			h->h_state = "restart_limit";
			h->h_retry_at = next;
			xdc_asprintf(&h->h_why,
			    "restart_limit %s reached for %s (sla %s): next "
			    "restart after %s",
			    backoff_rate_fmt(&sla->s_restart_limit, rate),
			    a->a_name, sla->s_name, log_iso_time(next, t));
			goto out;
		}
	}
	held = 0;
	log_action(LOG_DEBUG, a, "starting", NULL, NULL, NULL, NULL);
out:
	free(key);
	return held;
}

/* exec's report callback: every outcome is counted, logged, remembered. */
static void
report(void *arg, const struct exec *x, size_t i, enum exec_status st,
    const char *msg)
{
	struct cycle *c = arg;
	struct agent *ag = c->c_ag;
	const struct xdc_action *a = plan_action(c->c_plan, i);
	const struct held *h = &c->c_held[i];
	struct status_item it;
	struct backoff_info bi;
	char *key = action_key(a), t[32];
	const char *op = xdc_op_name(a->a_op);
	int64_t now = real_ms(), next;

	(void)x;
	item_of(&it, a);
	/* What the pool lent the action goes back once it ended. */
	if (st == EXEC_DONE || st == EXEC_FAILED || st == EXEC_ABANDONED)
		session_done(
		    &ag->ag_se, c->c_cfg, c->c_plan, i, st == EXEC_DONE);
	if (st == EXEC_DONE)
		log_failover(c, a);
	switch (st) {
	case EXEC_DONE:
		backoff_success(ag->ag_bo, key);
		if (is_restart(a))
			backoff_restart_done(ag->ag_bo, a->a_name, now);
		c->c_done_keys = xdc_reallocarray(c->c_done_keys,
		    c->c_ndone_keys + 1, sizeof(*c->c_done_keys));
		c->c_done_keys[c->c_ndone_keys++] = key;
		key = NULL;
		c->c_done++;
		status_count(ag->ag_st, op, STATUS_DONE);
		log_action(LOG_INFO, a, "done", NULL, NULL, NULL, NULL);
		break;
	case EXEC_FAILED:
		next = backoff_fail(ag->ag_bo, key, msg, now);
		backoff_ready(ag->ag_bo, key, now, &bi);
		it.si_state = "failed";
		it.si_why = msg;
		it.si_failures = bi.bi_failures;
		it.si_retry_at = next;
		status_add_pending(ag->ag_st, &it);
		status_count(ag->ag_st, op, STATUS_FAILED_ACTION);
		c->c_failed++;
		log_action(LOG_WARN, a, "failed", "error", msg, "retry_at",
		    log_iso_time(next, t));
		break;
	case EXEC_HELD:
		it.si_state = h->h_state;
		it.si_why = h->h_why;
		it.si_failures = h->h_failures;
		it.si_retry_at = h->h_retry_at;
		status_add_pending(ag->ag_st, &it);
		status_count(ag->ag_st, op, STATUS_HELD);
		c->c_stuck++;
		log_action(
		    !strcmp(h->h_state, "restart_limit") ? LOG_WARN : LOG_INFO,
		    a, "held", "why", h->h_why, NULL, NULL);
		break;
	case EXEC_SKIPPED:
	case EXEC_WAITING:
		/* Waiting for another host is not a failure of ours. */
		if (st == EXEC_WAITING) {
			it.si_state = "waiting";
			c->c_waiting++;
		} else {
			it.si_state = "skipped";
			c->c_stuck++;
		}
		it.si_why = msg;
		status_add_pending(ag->ag_st, &it);
		status_count(ag->ag_st, op, STATUS_SKIPPED);
		log_action(LOG_INFO, a, it.si_state, "why", msg, NULL, NULL);
		break;
	case EXEC_ABANDONED:
		/* SIGTERM: the next run observes how far it got. */
		it.si_state = "abandoned";
		it.si_why = msg;
		status_add_pending(ag->ag_st, &it);
		status_count(ag->ag_st, op, STATUS_SKIPPED);
		c->c_abandoned++;
		log_action(LOG_WARN, a, "abandoned", "why", msg, NULL, NULL);
		break;
	case EXEC_NOT_OURS:
		status_count(ag->ag_st, op, STATUS_OTHER_HOST);
		log_action(LOG_DEBUG, a, "other_host", NULL, NULL, NULL, NULL);
		break;
	default:
		break;
	}
	free(key);
}

/* exec's gate: the pool's claims and budget slots (SPEC §8). */
static int
gate(void *arg, size_t i, const char **why)
{
	struct cycle *c = arg;

	return session_gate(&c->c_ag->ag_se, c->c_cfg, c->c_plan, i, why);
}

static const struct exec_ops cycle_ops = {
	.eo_report = report,
	.eo_hold = hold,
	.eo_gate = gate,
};

/* ---- Saying what the plan holds back ---------------------------------- */

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
	holds_free(old, nold);
	ag->ag_holds = v;
	ag->ag_nholds = n;
}

/* What this plan defers, as far as this agent applies it (as the
 * status's deferred list has it), against what the last one did. */
static void
holds_note(struct cycle *c)
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
	holds_update(c->c_ag, v, n, real_ms());
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
		refuse(c, commit, NULL, msg);
		rc = XDC_EINVALID;
	} else if (rc == XDC_EINVALID) {
		if (xdc_diags_count(diags) > 0) {
			refuse(c, commit, diags, NULL);
			diags = NULL;
		} else {
			refuse(c, commit, NULL, xdc_error_last());
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
		clear_invalid(ag);
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
	status_begin(ag->ag_st, real_ms(), trigger);

	load(c, &c->c_cand, commit);
	if (c->c_cand != NULL)
		take_new(c, c->c_cand, commit);
	/* Else the one in force, unless the driver just failed or the pool
	 * view is not there. */
	if (c->c_plan == NULL && ag->ag_cfg != NULL &&
	    c->c_driver_err == NULL && c->c_pool_wait == NULL)
		plan_in_force(c);
	if (c->c_plan == NULL)
		return c;
	holds_note(c);
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
		backoff_sweep_end(c->c_ag->ag_bo, real_ms());
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

/* What the plan found different and held back, as far as this agent
 * applies it: the status's drift and deferred lists. */
static void
record_plan(struct cycle *c)
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
		item_of(&it, a);
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
		item_of(&it, a);
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

static void
record(struct cycle *c)
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
	    backoff_restart_limited(ag->ag_bo, real_ms()));
	status_end(ag->ag_st, real_ms());
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
		record_plan(c);
	record(c);
	/* What this cycle did is what the next one compares with. */
	keys_free(ag->ag_done, ag->ag_ndone);
	ag->ag_done = c->c_done_keys;
	ag->ag_ndone = c->c_ndone_keys;
	ag->ag_done_at = real_ms();
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
