/*
 * The plan executor (see exec.h). With a driver that overlaps actions
 * (submit/reap), up to EXEC_INFLIGHT run at once; otherwise one at a time,
 * in plan order, one per step.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/ev.h"
#include "drivers/driver.h"
#include "planner/plan.h"
#include "reconciler/exec.h"

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
	size_t x_inflight;
	size_t x_first; /* every action before it has an outcome */
	int x_began;    /* begin() succeeded: end() is owed */
	int x_stopping;
	int x_done;
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

/* Whether action i can start now (1), must wait (0), or cannot (-1). */
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
ours(const struct exec *x, const struct xdc_action *a)
{
	return x->x_host == NULL ||
	       (a->a_host != NULL && !strcmp(x->x_host, a->a_host));
}

/*
 * Action i: 2 when the driver was called, 1 when it settled without the
 * driver, 0 when it must wait.
 */
static int
start_one(struct exec *x, size_t i)
{
	const struct xdc_action *a = plan_action(x->x_plan, i);
	size_t blocker = 0;
	char why[128];
	const char *gate_why = NULL;
	enum exec_status dep;
	int rc;

	if (x->x_stopping) {
		set(x, i, EXEC_ABANDONED, "xdc is stopping");
		return 1;
	}
	if (!ours(x, a)) {
		set(x, i, EXEC_NOT_OURS, "another host applies it");
		return 1;
	}
	switch (ready(x, i, &blocker)) {
	case 0:
		return 0;
	case -1:
		dep = x->x_st[blocker];
		snprintf(why, sizeof(why), "it waits for action %zu, which %s",
		    blocker + 1,
		    dep == EXEC_NOT_OURS  ? "another host applies"
		    : dep == EXEC_WAITING ? "waits"
		                          : "did not complete");
		set(x, i,
		    dep == EXEC_NOT_OURS || dep == EXEC_WAITING ? EXEC_WAITING
		                                                : EXEC_SKIPPED,
		    why);
		return 1;
	}
	if (x->x_ops != NULL && x->x_ops->eo_hold != NULL &&
	    x->x_ops->eo_hold(x->x_ops->eo_arg, i)) {
		set(x, i, EXEC_HELD, NULL);
		return 1;
	}
	if (x->x_ops != NULL && x->x_ops->eo_gate != NULL &&
	    x->x_ops->eo_gate(x->x_ops->eo_arg, i, &gate_why)) {
		set(x, i, EXEC_WAITING,
		    gate_why != NULL ? gate_why : "it waits for the pool");
		return 1;
	}
	if (x->x_drv->submit == NULL) {
		rc = x->x_drv->apply(x->x_drv, a);
		set(x, i, rc == 0 ? EXEC_DONE : EXEC_FAILED,
		    rc == 0 ? NULL : xdc_error_last());
		return 2;
	}
	if (x->x_drv->submit(x->x_drv, a, i) != 0) {
		set(x, i, EXEC_FAILED, xdc_error_last());
		return 2;
	}
	x->x_st[i] = EXEC_RUNNING;
	x->x_inflight++;
	return 2;
}

/* Take in every action the driver has finished. */
static int
reap_all(struct exec *x)
{
	uint64_t token;
	char *msg;
	int rc, result;

	if (x->x_drv->reap == NULL)
		return 0;
	for (;;) {
		msg = NULL;
		rc = x->x_drv->reap(x->x_drv, &token, &result, &msg);
		if (rc == XDC_ENOTFOUND)
			return 0;
		if (rc != 0) {
			free(msg);
			return rc;
		}
		if (token >= x->x_n || x->x_st[token] != EXEC_RUNNING) {
			free(msg);
			return xdc_error(XDC_ERR,
			    "the driver finished an action it was not given");
		}
		x->x_inflight--;
		set(x, token, result == 0 ? EXEC_DONE : EXEC_FAILED,
		    result == 0   ? NULL
		    : msg != NULL ? msg
		                  : "the driver gave no reason");
		free(msg);
	}
}

/*
 * The driver's batch ended: 0, or why it could not be (the sim writes
 * its file then, and a pool not written is an apply that did nothing).
 */
static int
finish(struct exec *x)
{
	int rc = 0;

	if (x->x_began && x->x_drv->end != NULL)
		rc = x->x_drv->end(x->x_drv);
	x->x_began = 0;
	x->x_done = 1;
	return rc;
}

int
exec_step(struct exec *x)
{
	size_t i, limit;
	int rc, sync;

	if (x->x_done)
		return 1;
	if ((rc = reap_all(x)) != 0)
		return rc;
	sync = x->x_drv->submit == NULL;
	limit = sync ? 1 : EXEC_INFLIGHT;
	for (i = x->x_first; i < x->x_n; i++) {
		if (x->x_st[i] != EXEC_PENDING)
			continue;
		if (x->x_inflight >= limit)
			break;
		switch (start_one(x, i)) {
		case 2:
			if (sync)
				goto reaped; /* in order, one action a step */
			break;
		case 0:
			if (sync)
				goto reaped; /* it waits for one before it */
			break;
		}
	}
reaped:
	while (x->x_first < x->x_n && x->x_st[x->x_first] != EXEC_PENDING &&
	       x->x_st[x->x_first] != EXEC_RUNNING)
		x->x_first++;
	/* A submit may finish at once: take it in before saying so. */
	if ((rc = reap_all(x)) != 0)
		return rc;
	if (x->x_reported == x->x_n)
		return (rc = finish(x)) != 0 ? rc : 1;
	return 0;
}

int
exec_ready(const struct exec *x)
{
	size_t i, blocker;

	if (x->x_done)
		return 0;
	if (x->x_reported == x->x_n)
		return 1;
	for (i = x->x_first; i < x->x_n; i++) {
		if (x->x_st[i] != EXEC_PENDING)
			continue;
		if (x->x_stopping)
			return 1;
		if (x->x_inflight >=
		    (x->x_drv->submit == NULL ? 1 : EXEC_INFLIGHT))
			return 0;
		if (ready((struct exec *)(uintptr_t)x, i, &blocker) != 0)
			return 1;
		if (x->x_drv->submit == NULL)
			return 0;
	}
	return 0;
}

void
exec_stop(struct exec *x)
{
	x->x_stopping = 1;
}

int
exec_new(struct xdc_driver *drv, const struct xdc_plan *plan, const char *host,
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
	if ((rc = xdc_driver_check(drv)) != 0)
		return rc;
	if (drv->begin != NULL && (rc = drv->begin(drv)) != 0)
		return rc;
	x->x_began = 1;
	return 0;
}

void
exec_free(struct exec *x)
{
	size_t i;

	if (x == NULL)
		return;
	for (i = 0; i < x->x_n; i++)
		if (x->x_st[i] == EXEC_RUNNING)
			set(x, i, EXEC_ABANDONED,
			    "abandoned while it ran: the next cycle observes "
			    "how far it got");
	if (!x->x_done)
		(void)finish(x); /* abandoned: what was done is observed */
	free(x->x_st);
	free(x);
}

int
exec_run(struct exec *x, struct xdc_ev *ev)
{
	int rc;

	while ((rc = exec_step(x)) == 0) {
		if (exec_ready(x))
			continue;
		if ((rc = xdc_ev_run_once(ev, -1)) < 0)
			return rc;
	}
	return rc < 0 ? rc : 0;
}

enum exec_status
exec_status(const struct exec *x, size_t i)
{
	return x->x_st[i];
}

void
exec_counts(const struct exec *x, size_t counts[EXEC__COUNT])
{
	size_t i;

	memset(counts, 0, EXEC__COUNT * sizeof(counts[0]));
	for (i = 0; i < x->x_n; i++)
		counts[x->x_st[i]]++;
}

void
exec_print_line(const struct exec *x, const struct xdc_plan *plan, size_t i,
    enum exec_status st, const char *msg, FILE *fp)
{
	if (st == EXEC_NOT_OURS)
		return; /* counted in the summary */
	fprintf(fp, "[%zu/%zu] ", exec_reported(x), plan_count(plan));
	plan_print_action(plan, i, fp);
	switch (st) {
	case EXEC_DONE:
		fputs(" ... done\n", fp);
		break;
	case EXEC_FAILED:
		fprintf(fp, " ... failed: %s\n", msg);
		break;
	default:
		fprintf(fp, ": skipped, %s\n", msg ? msg : "held back");
		break;
	}
	fflush(fp);
}

size_t
exec_reported(const struct exec *x)
{
	return x->x_reported;
}

size_t
exec_running(const struct exec *x)
{
	return x->x_inflight;
}
