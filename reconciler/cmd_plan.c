/*
 * xdc plan [PATH] [--json] [--detailed-exitcode]: the pipeline's load,
 * observe and plan (session.h), printed. Nothing is locked or changed.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "planner/plan.h"
#include "reconciler/cli.h"
#include "reconciler/session.h"

struct plan_args {
	int pa_json;
	int pa_detailed;
};

enum { OPT_JSON = 2000, OPT_DETAILED };

static int
plan_opt(struct cli *cli, int c, const char *arg, void *v)
{
	struct plan_args *pa = v;

	(void)cli;
	(void)arg;
	if (c == OPT_JSON)
		pa->pa_json = 1;
	else if (c == OPT_DETAILED)
		pa->pa_detailed = 1;
	else
		return -1;
	return 0;
}

int
cmd_plan(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "detailed-exitcode", no_argument, NULL, OPT_DETAILED },
		{ NULL, 0, NULL, 0 },
	};
	struct plan_args pa = { 0, 0 };
	struct session s;
	const char *path = ".";
	int rc, exit_code = XDC_EXIT_ERROR;

	if ((rc = cli_parse(
	         cli, argc, argv, NULL, longopts, plan_opt, &pa, &path, 1)))
		return rc > 0 ? XDC_EXIT_OK : XDC_EXIT_ERROR;
	session_init(&s, cli, NULL);
	if (session_plan(&s, path, 0) != 0)
		goto out;
	if (pa.pa_json)
		rc = plan_print_json(s.se_plan, stdout);
	else
		plan_print_text(s.se_plan, stdout);
	if (rc != 0 || fflush(stdout) != 0)
		goto out;
	/* Deferred work is a change the pool lacks, if not one for now. */
	exit_code = pa.pa_detailed && (plan_count(s.se_plan) > 0 ||
	                                  plan_ndeferred(s.se_plan) > 0)
	                ? XDC_EXIT_CHANGES
	                : XDC_EXIT_OK;
out:
	session_close(&s);
	return exit_code;
}
