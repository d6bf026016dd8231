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
#include "schema/error.h"
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

enum status { ST_PENDING, ST_DONE, ST_FAILED, ST_SKIPPED, ST_FOREIGN };

/* Is an action this agent's to apply? With --host, only its host's. */
static int
ours(const struct cli *cli, const struct xdc_action *a)
{
	return cli->cl_host == NULL || !strcmp(cli->cl_host, a->a_host);
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
	struct cli_session s;
	struct xdc_driver *drv;
	const struct xdc_action *a;
	const uint32_t *deps;
	enum status *st = NULL;
	const char *path = ".";
	size_t n, i, j, ndeps, managed, destroys, limit;
	size_t done = 0, failed = 0, skipped = 0, foreign = 0;
	int rc, exit_code = XDC_EXIT_ERROR, begun = 0;

	if ((rc = cli_parse(cli, argc, argv, NULL, longopts, apply_opt, &aa,
		 &path, 1)))
		return rc > 0 ? XDC_EXIT_OK : XDC_EXIT_ERROR;
	if (cli_make_plan(cli, path, &s) != 0)
		return XDC_EXIT_ERROR;
	drv = s.cs_driver;
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
	st = xdc_calloc(n + 1, sizeof(*st));
	if (drv->begin != NULL && drv->begin(drv) != 0) {
		fprintf(stderr, "%s: %s\n", cli->cl_prog, xdc_error_last());
		goto out;
	}
	begun = 1;
	for (i = 0; i < n; i++) {
		a = plan_action(s.cs_plan, i);
		if (!ours(cli, a)) {
			st[i] = ST_FOREIGN;
			foreign++;
			continue;
		}
		deps = plan_depends(s.cs_plan, i, &ndeps);
		for (j = 0; j < ndeps; j++)
			if (st[deps[j]] != ST_DONE)
				break;
		printf("[%zu/%zu] ", i + 1, n);
		plan_print_action(s.cs_plan, i, stdout);
		if (j < ndeps) {
			st[i] = ST_SKIPPED;
			skipped++;
			printf(": skipped, it waits for action %u, which %s\n",
			    deps[j] + 1,
			    st[deps[j]] == ST_FOREIGN ? "another host applies"
						      : "did not complete");
			continue;
		}
		fputs(" ... ", stdout);
		fflush(stdout);
		if ((rc = drv->apply(drv, a)) == 0) {
			st[i] = ST_DONE;
			done++;
			puts("done");
		} else {
			st[i] = ST_FAILED;
			failed++;
			printf("failed: %s\n", xdc_error_last());
		}
	}
	begun = 0;
	if (drv->end != NULL && drv->end(drv) != 0) {
		fprintf(stderr, "%s: %s\n", cli->cl_prog, xdc_error_last());
		goto out;
	}

	printf("\nApply: %zu done, %zu failed, %zu skipped", done, failed,
	    skipped);
	if (foreign > 0)
		printf(", %zu for other hosts", foreign);
	if (plan_ndeferred(s.cs_plan) > 0)
		printf(", %zu deferred", plan_ndeferred(s.cs_plan));
	printf(".\n");
	if (failed > 0 || skipped > 0)
		fprintf(stderr,
		    "%s: %zu actions did not complete; the next apply "
		    "retries them\n",
		    cli->cl_prog, failed + skipped);
	exit_code = failed > 0 || skipped > 0 ? XDC_EXIT_ERROR : XDC_EXIT_OK;
out:
	if (begun && drv->end != NULL)
		drv->end(drv);
	free(st);
	cli_session_free(&s);
	return exit_code;
}
