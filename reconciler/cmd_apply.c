/*
 * xdc apply [PATH] [--dry-run] [--max-destroy N] [--force]: plan, then carry
 * the plan out through the driver, one action at a time, in order. An
 * action whose dependencies did not complete is skipped; a failure does not
 * stop the actions that do not depend on it. The next apply picks up what
 * is left: the plan is made afresh from what the hypervisor really runs.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/driver.h"
#include "planner/plan.h"
#include "reconciler/cli.h"
#include "reconciler/exec.h"
#include "base/error.h"
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
	uint64_t n;

	switch (c) {
	case OPT_DRY_RUN:
		aa->aa_dry_run = 1;
		return 0;
	case OPT_FORCE:
		aa->aa_force = 1;
		return 0;
	case OPT_MAX_DESTROY:
		if (xdc_parse_uint(arg, 1000000000, &n) != NULL) {
			fprintf(stderr,
			    "%s: --max-destroy: expected a whole number, got "
			    "\"%s\"\n",
			    cli->cl_prog, arg);
			return -1;
		}
		aa->aa_max_destroy = (long)n;
		return 0;
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
	struct cli_session s;
	struct exec *x = NULL;
	const char *path = ".";
	size_t n, managed, destroys, limit, c[EXEC__COUNT], undone;
	int rc, exit_code = XDC_EXIT_ERROR;

	if ((rc = cli_parse(
	         cli, argc, argv, NULL, longopts, apply_opt, &aa, &path, 1)))
		return rc > 0 ? XDC_EXIT_OK : XDC_EXIT_ERROR;
	if (cli_make_plan(cli, path, &s) != 0)
		return XDC_EXIT_ERROR;
	n = plan_count(s.cs_plan);

	plan_print_text(s.cs_plan, stdout);
	if (aa.aa_dry_run || n == 0) {
		exit_code = XDC_EXIT_OK;
		goto out;
	}

	/* A guard against a bad commit or a misread directory (SPEC §3). */
	managed = plan_managed_vms(s.cs_plan);
	destroys = plan_vm_destroys(s.cs_plan);
	limit = aa.aa_max_destroy >= 0 ? (size_t)aa.aa_max_destroy
	                               : (managed / 4 > 0 ? managed / 4 : 1);
	if (destroys > limit && !aa.aa_force) {
		fprintf(stderr,
		    "%s: the plan destroys %zu of %zu managed VMs, more than "
		    "--max-destroy %zu; nothing is applied. Check the "
		    "configuration, or apply with --force.\n",
		    cli->cl_prog, destroys, managed, limit);
		goto out;
	}

	fputc('\n', stdout);
	memset(&ops, 0, sizeof(ops));
	ops.eo_report = apply_report;
	ops.eo_arg = s.cs_plan;
	if ((rc = exec_run(
	         s.cs_driver, s.cs_plan, cli->cl_host, &ops, s.cs_ev, &x))) {
		fprintf(stderr, "%s: %s\n", cli->cl_prog, xdc_error_last());
		goto out;
	}
	exec_counts(x, c);
	printf("\nApply: %zu done, %zu failed, %zu skipped", c[EXEC_DONE],
	    c[EXEC_FAILED], c[EXEC_SKIPPED] + c[EXEC_WAITING]);
	if (c[EXEC_NOT_OURS] > 0)
		printf(", %zu for other hosts", c[EXEC_NOT_OURS]);
	if (plan_ndeferred(s.cs_plan) > 0)
		printf(", %zu deferred", plan_ndeferred(s.cs_plan));
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
	exec_free(x);
	cli_session_free(&s);
	return exit_code;
}
