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

static void
apply_report(void *arg, const struct exec *x, size_t i, enum exec_status st,
    const char *msg)
{
	const struct xdc_plan *plan = arg;

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
	struct exec_ops ops;
	struct session s;
	struct exec *x = NULL;
	const char *path = ".";
	char *msg = NULL;
	size_t n, c[EXEC__COUNT], undone;
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
	memset(&ops, 0, sizeof(ops));
	ops.eo_report = apply_report;
	ops.eo_arg = s.se_plan;
	if ((rc = session_exec(&s, s.se_cfg, s.se_plan, &ops, &x)) != 0 ||
	    (rc = exec_run(x, s.se_ev)) != 0) {
		fprintf(stderr, "%s: %s\n", cli->cl_prog, xdc_error_last());
		goto out;
	}
	exec_counts(x, c);
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
	exec_free(x);
	session_close(&s);
	return exit_code;
}
