/*
 * The executor's callbacks of a cycle (see cycle.h, exec.h): hold()
 * holds back what backoff and restart limits say (an action needed again
 * at once after it was done backs off too); report() counts, logs and
 * remembers every action's outcome, and gives back what the pool lent
 * it; gate() asks the pool for claims and budget slots.
 */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "drivers/driver.h"
#include "planner/plan.h"
#include "reconciler/backoff.h"
#include "reconciler/cycle.h"
#include "reconciler/cycle_priv.h"
#include "reconciler/exec.h"
#include "reconciler/log.h"
#include "reconciler/status.h"
#include "schema/model.h"

/* An action needed again this soon after it was done did not hold. */
#define CYCLE_REPEAT_MS 2000

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

void
cycle_item_of(struct status_item *it, const struct xdc_action *a)
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
	int64_t now = cycle_real_ms(), next;
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

/*
 * Whether a hold is news for the log: not when the last plan held the
 * action back for the same reason (a restart_limit may hold for an hour,
 * at a cycle a second). A backoff's reason names its next try, so each
 * failure is said.
 */
static int
held_news(struct cycle *c, const char *key, const char *why)
{
	struct agent *ag = c->c_ag;
	char *said = NULL;

	xdc_asprintf(&said, "%s %s", key, why);
	c->c_held_said = xdc_reallocarray(
	    c->c_held_said, c->c_nheld_said + 1, sizeof(*c->c_held_said));
	c->c_held_said[c->c_nheld_said++] = said;
	return !keys_have(ag->ag_held, ag->ag_nheld, said);
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
	int64_t now = cycle_real_ms(), next;

	(void)x;
	cycle_item_of(&it, a);
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
		if (held_news(c, key, h->h_why))
			log_action(!strcmp(h->h_state, "restart_limit")
			               ? LOG_WARN
			               : LOG_INFO,
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

const struct exec_ops cycle_ops = {
	.eo_report = report,
	.eo_hold = hold,
	.eo_gate = gate,
};
