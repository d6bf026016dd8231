/*
 * The plan executor (see exec.h). With a driver that overlaps actions
 * (submit/wait), up to EXEC_INFLIGHT run at once; otherwise one at a time,
 * in plan order.
 */
#include <stdlib.h>
#include <string.h>

#include "drivers/driver.h"
#include "planner/plan.h"
#include "reconciler/exec.h"
#include "base/error.h"

/* Enough to hide libxl's waits, few enough not to starve dom0. */
#define EXEC_INFLIGHT 4

struct exec {
	const struct xdc_plan *x_plan;
	struct xdc_driver *x_drv;
	const char *x_host;
	const struct exec_ops *x_ops;
	enum exec_status *x_st;
	size_t x_n;
	size_t x_reported;
	/* A driver without submit works at once; its result waits here. */
	uint64_t x_sync_token;
	int x_sync_rc;
	int x_sync_ready;
};

static void
set(struct exec *x, size_t i, enum exec_status st, const char *msg)
{
	x->x_st[i] = st;
	if (st == EXEC_RUNNING)
		return;
	x->x_reported++;
	if (x->x_ops != NULL && x->x_ops->eo_report != NULL)
		x->x_ops->eo_report(x->x_ops->eo_arg, x, i, st, msg);
}

static int
x_submit(struct exec *x, size_t i)
{
	const struct xdc_action *a = plan_action(x->x_plan, i);

	if (x->x_drv->submit != NULL)
		return x->x_drv->submit(x->x_drv, a, i);
	x->x_sync_token = i;
	x->x_sync_rc = x->x_drv->apply(x->x_drv, a);
	x->x_sync_ready = 1;
	return 0;
}

static int
x_wait(struct exec *x, uint64_t *token, int *result)
{
	if (x->x_sync_ready) {
		x->x_sync_ready = 0;
		*token = x->x_sync_token;
		*result = x->x_sync_rc;
		return 0;
	}
	if (x->x_drv->wait != NULL)
		return x->x_drv->wait(x->x_drv, token, result);
	return XDC_ENOTFOUND;
}

/* Whether action i can start now (1), must wait (0), or is skipped (-1). */
static int
ready(struct exec *x, size_t i, size_t *blocker)
{
	const uint32_t *deps;
	size_t j, ndeps;

	deps = plan_depends(x->x_plan, i, &ndeps);
	for (j = 0; j < ndeps; j++) {
		switch (x->x_st[deps[j]]) {
		case EXEC_DONE:
			continue;
		case EXEC_PENDING:
		case EXEC_RUNNING:
			return 0;
		default:
			*blocker = deps[j];
			return -1;
		}
	}
	return 1;
}

static int
x_loop(struct exec *x)
{
	size_t i, inflight = 0, limit, blocker = 0;
	const struct xdc_action *a;
	char why[128];
	uint64_t token;
	int rc, result, progress, stopping = 0;

	limit = x->x_drv->submit != NULL ? EXEC_INFLIGHT : 1;
	for (;;) {
		progress = 0;
		if (!stopping && x->x_ops != NULL && x->x_ops->eo_stop != NULL)
			stopping = x->x_ops->eo_stop(x->x_ops->eo_arg);
		for (i = 0; !stopping && i < x->x_n && inflight < limit; i++) {
			if (x->x_st[i] != EXEC_PENDING)
				continue;
			a = plan_action(x->x_plan, i);
			if (x->x_host != NULL && strcmp(x->x_host, a->a_host)) {
				set(x, i, EXEC_NOT_OURS,
				    "another host applies it");
				progress = 1;
				continue;
			}
			switch (ready(x, i, &blocker)) {
			case 0:
				continue;
			case -1:
				snprintf(why, sizeof(why),
				    "it waits for action %zu, which %s",
				    blocker + 1,
				    x->x_st[blocker] == EXEC_NOT_OURS
				        ? "another host applies"
				        : "did not complete");
				set(x, i, EXEC_SKIPPED, why);
				progress = 1;
				continue;
			}
			if (x->x_ops != NULL && x->x_ops->eo_hold != NULL &&
			    x->x_ops->eo_hold(x->x_ops->eo_arg, i)) {
				set(x, i, EXEC_HELD, NULL);
				progress = 1;
				continue;
			}
			if ((rc = x_submit(x, i)) != 0) {
				set(x, i, EXEC_FAILED, xdc_error_last());
				progress = 1;
				continue;
			}
			x->x_st[i] = EXEC_RUNNING;
			inflight++;
			progress = 1;
			if (limit == 1)
				break; /* strictly in order */
		}
		if (inflight == 0) {
			if (!progress || stopping)
				return 0;
			continue;
		}
		if ((rc = x_wait(x, &token, &result)) != 0)
			return rc;
		inflight--;
		if (token >= x->x_n)
			return xdc_error(XDC_ERR,
			    "the driver finished an action "
			    "it was not given");
		set(x, token, result == 0 ? EXEC_DONE : EXEC_FAILED,
		    result == 0 ? NULL : xdc_error_last());
	}
}

int
exec_run(struct xdc_driver *drv, const struct xdc_plan *plan, const char *host,
    const struct exec_ops *ops, struct exec **out)
{
	struct exec *x = xdc_calloc(1, sizeof(*x));
	int rc;

	x->x_plan = plan;
	x->x_drv = drv;
	x->x_host = host;
	x->x_ops = ops;
	x->x_n = plan_count(plan);
	x->x_st = xdc_calloc(x->x_n + 1, sizeof(*x->x_st));
	*out = x;
	if (drv->begin != NULL && (rc = drv->begin(drv)) != 0)
		return rc;
	rc = x_loop(x);
	if (drv->end != NULL) {
		int rc2 = drv->end(drv);
		if (rc == 0)
			rc = rc2;
	}
	return rc;
}

void
exec_free(struct exec *x)
{
	if (x == NULL)
		return;
	free(x->x_st);
	free(x);
}

enum exec_status
exec_status(const struct exec *x, size_t i)
{
	return x->x_st[i];
}

void
exec_counts(const struct exec *x, size_t counts[EXEC_HELD + 1])
{
	size_t i;

	memset(counts, 0, (EXEC_HELD + 1) * sizeof(counts[0]));
	for (i = 0; i < x->x_n; i++)
		counts[x->x_st[i]]++;
}

size_t
exec_reported(const struct exec *x)
{
	return x->x_reported;
}
