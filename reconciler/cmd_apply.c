/*
 * xdc apply [PATH] [--dry-run] [--max-destroy N] [--force]: the whole
 * pipeline of session.h, once: load, lock the state directory, observe,
 * plan, guard, then carry the plan out through the driver. An action
 * whose dependencies did not complete is skipped; a failure does not stop
 * the actions that do not depend on it. The next apply picks up what is
 * left: the plan is made afresh from what the hypervisor really runs.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "planner/plan.h"
#include "reconciler/cli.h"
#include "reconciler/exec.h"
#include "reconciler/session.h"
#include "schema/values.h"

struct apply_args {
	int aa_dry_run;
	int aa_force;
	long aa_max_destroy; /* -1: the default */
};

enum { OPT_DRY_RUN = 3000, OPT_MAX_DESTROY, OPT_FORCE };

static int
apply_opt(struct cli *cli, int c, const char *arg, void *v)
{
	struct apply_args *aa = v;

	switch (c) {
	case OPT_DRY_RUN:
		aa->aa_dry_run = 1;
		return 0;
	case OPT_FORCE:
		aa->aa_force = 1;
		return 0;
	case OPT_MAX_DESTROY:
		return cli_max_destroy(cli, arg, &aa->aa_max_destroy);
	}
	return -1;
}

/*
 * With the pool view, actions that waited for a claim or a budget slot
 * are tried again in a new plan once the pool changed, for this long at
 * most: an apply ends, where `xdc run` would wait on.
 */
#define APPLY_POOL_WAIT_MS 30000
#define APPLY_POOL_STEP_MS 5000

struct apply_ctx {
	struct session *ac_s;
	size_t ac_waiting_pool; /* this round's actions the pool held */
};

static void
apply_report(void *arg, const struct exec *x, size_t i, enum exec_status st,
    const char *msg)
{
	struct apply_ctx *ac = arg;
	const struct xdc_plan *plan = ac->ac_s->se_plan;

	if (st == EXEC_DONE || st == EXEC_FAILED || st == EXEC_ABANDONED)
		session_done(ac->ac_s, plan, i, st == EXEC_DONE);
	if (st == EXEC_NOT_OURS)
		return; /* counted in the summary */
	printf("[%zu/%zu] ", exec_reported(x), plan_count(plan));
	plan_print_action(plan, i, stdout);
	switch (st) {
	case EXEC_DONE:
		puts(" ... done");
		break;
	case EXEC_FAILED:
		printf(" ... failed: %s\n", msg);
		break;
	default:
		printf(": skipped, %s\n", msg ? msg : "held back");
		break;
	}
	fflush(stdout);
}

static int
apply_gate(void *arg, size_t i, const char **why)
{
	struct apply_ctx *ac = arg;
	struct session *s = ac->ac_s;

	if (session_gate(s, s->se_cfg, s->se_plan, i, why) == 0)
		return 0;
	ac->ac_waiting_pool++;
	return 1;
}

/* One plan carried out; its counts into c. Exit code, or -1 to go on. */
static int
apply_round(struct session *s, struct apply_ctx *ac, size_t c[EXEC__COUNT])
{
	struct exec_ops ops;
	struct exec *x = NULL;
	int rc;

	memset(&ops, 0, sizeof(ops));
	ops.eo_report = apply_report;
	ops.eo_gate = apply_gate;
	ops.eo_arg = ac;
	ac->ac_waiting_pool = 0;
	if ((rc = session_exec(s, s->se_cfg, s->se_plan, &ops, &x)) != 0 ||
	    (rc = exec_run(x, s->se_ev)) != 0) {
		fprintf(
		    stderr, "%s: %s\n", s->se_cli->cl_prog, xdc_error_last());
		exec_free(x);
		return XDC_EXIT_ERROR;
	}
	exec_counts(x, c);
	exec_free(x);
	return -1;
}

int
cmd_apply(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "max-destroy", required_argument, NULL, OPT_MAX_DESTROY },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ NULL, 0, NULL, 0 },
	};
	struct apply_args aa = { 0, 0, -1 };
	struct apply_ctx ac;
	struct session s;
	const char *path = ".";
	char *msg = NULL;
	size_t n, c[EXEC__COUNT], total[EXEC__COUNT], undone, i;
	int64_t waited;
	int rc, exit_code = XDC_EXIT_ERROR;

	if ((rc = cli_parse(
	         cli, argc, argv, NULL, longopts, apply_opt, &aa, &path, 1)))
		return rc > 0 ? XDC_EXIT_OK : XDC_EXIT_ERROR;
	session_init(&s, cli, NULL);
	s.se_max_destroy = aa.aa_max_destroy;
	s.se_force = aa.aa_force;
	/* A dry run changes nothing: it takes no lock. */
	if (session_plan(&s, path, !aa.aa_dry_run) != 0)
		goto out;
	n = plan_count(s.se_plan);

	plan_print_text(s.se_plan, stdout);
	if (aa.aa_dry_run || n == 0) {
		exit_code = XDC_EXIT_OK;
		goto out;
	}
	/* A guard against a bad commit or a misread directory (SPEC §3). */
	if (session_guard(&s, s.se_plan, &msg) != 0) {
		fprintf(stderr,
		    "%s: %s; nothing is applied. Check the configuration, or "
		    "apply with --force.\n",
		    cli->cl_prog, msg);
		goto out;
	}

	fputc('\n', stdout);
	ac.ac_s = &s;
	memset(total, 0, sizeof(total));
	for (waited = 0;;) {
		if ((rc = apply_round(&s, &ac, c)) >= 0) {
			exit_code = rc;
			goto out;
		}
		for (i = 0; i < EXEC__COUNT; i++)
			if (i != EXEC_WAITING && i != EXEC_NOT_OURS)
				total[i] += c[i];
		if (ac.ac_waiting_pool == 0 || waited >= APPLY_POOL_WAIT_MS)
			break;
		printf("\n%zu waiting for the pool (a claim or a budget slot): "
		       "planning again when it changes\n\n",
		    ac.ac_waiting_pool);
		fflush(stdout);
		if (session_replan(&s, APPLY_POOL_STEP_MS) != 0)
			goto out;
		waited += APPLY_POOL_STEP_MS;
		plan_print_text(s.se_plan, stdout);
		if (plan_count(s.se_plan) == 0) {
			memset(c, 0, sizeof(c[0]) * EXEC__COUNT);
			break;
		}
		fputc('\n', stdout);
	}
	/* The last round's waits and other hosts' are what is left. */
	total[EXEC_WAITING] = c[EXEC_WAITING];
	total[EXEC_NOT_OURS] = c[EXEC_NOT_OURS];
	memcpy(c, total, sizeof(total));
	printf("\nApply: %zu done, %zu failed, %zu skipped", c[EXEC_DONE],
	    c[EXEC_FAILED], c[EXEC_SKIPPED] + c[EXEC_WAITING]);
	if (c[EXEC_NOT_OURS] > 0)
		printf(", %zu for other hosts", c[EXEC_NOT_OURS]);
	if (plan_ndeferred(s.se_plan) > 0)
		printf(", %zu deferred", plan_ndeferred(s.se_plan));
	printf(".\n");
	undone = c[EXEC_FAILED] + c[EXEC_SKIPPED] + c[EXEC_WAITING] +
	         c[EXEC_ABANDONED];
	if (undone > 0)
		fprintf(stderr,
		    "%s: %zu actions did not complete; the next apply "
		    "retries them\n",
		    cli->cl_prog, undone);
	exit_code = undone > 0 ? XDC_EXIT_ERROR : XDC_EXIT_OK;
out:
	free(msg);
	session_close(&s);
	return exit_code;
}
