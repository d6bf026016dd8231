/*
 * xdc plan [PATH] [--json] [--detailed-exitcode] [-o FILE]: the
 * pipeline's load, observe and plan (session.h), printed, and with -o
 * saved with what it was made from (saved_plan.h). Nothing is locked or
 * changed. xdc plan --plan FILE shows a saved plan without observing.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "planner/plan.h"
#include "reconciler/cli.h"
#include "base/error.h"
#include "reconciler/saved_plan.h"
#include "reconciler/session.h"
#include "reconciler/source.h"

struct plan_args {
	int pa_json;
	int pa_detailed;
	const char *pa_out;  /* -o */
	const char *pa_plan; /* --plan */
};

enum { OPT_JSON = 2000, OPT_DETAILED, OPT_PLAN };

static int
plan_opt(struct cli *cli, int c, const char *arg, void *v)
{
	struct plan_args *pa = v;

	(void)cli;
	if (c == OPT_JSON)
		pa->pa_json = 1;
	else if (c == OPT_DETAILED)
		pa->pa_detailed = 1;
	else if (c == 'o')
		pa->pa_out = arg;
	else if (c == OPT_PLAN)
		pa->pa_plan = arg;
	else
		return -1;
	return 0;
}

/* xdc plan --plan FILE [--json]. */
static int
show_saved(struct cli *cli, const struct plan_args *pa)
{
	struct saved_plan *sp = NULL;
	int exit_code = XDC_EXIT_ERROR;

	if (saved_plan_read(pa->pa_plan, &sp) != 0 ||
	    saved_plan_show(sp, pa->pa_json, stdout) != 0 ||
	    fflush(stdout) != 0) {
		fprintf(stderr, "%s: %s\n", cli->cl_prog, xdc_error_last());
		goto out;
	}
	exit_code = XDC_EXIT_OK;
out:
	saved_plan_free(sp);
	return exit_code;
}

int
cmd_plan(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "detailed-exitcode", no_argument, NULL, OPT_DETAILED },
		{ "out", required_argument, NULL, 'o' },
		{ "plan", required_argument, NULL, OPT_PLAN },
		{ NULL, 0, NULL, 0 },
	};
	struct plan_args pa = { 0, 0, NULL, NULL };
	struct saved_files *sf = NULL;
	struct session s;
	const char *path = ".";
	char *url = NULL;
	int rc, exit_code = XDC_EXIT_ERROR;

	if ((rc = cli_parse(
	         cli, argc, argv, "o:", longopts, plan_opt, &pa, &path, 1)))
		return rc > 0 ? XDC_EXIT_OK : XDC_EXIT_ERROR;
	if (pa.pa_plan != NULL) {
		if (pa.pa_out != NULL) {
			fprintf(stderr,
			    "%s plan: --plan shows a saved plan, -o saves a "
			    "new "
			    "one: give one of them\n",
			    cli->cl_prog);
			return XDC_EXIT_ERROR;
		}
		return show_saved(cli, &pa);
	}
	session_init(&s, cli, NULL);
	if (pa.pa_out != NULL) {
		sf = saved_files_new();
		s.se_keep = saved_files_keep;
		s.se_keep_arg = sf;
	}
	if (session_plan(&s, path, 0) != 0)
		goto out;
	if (pa.pa_out != NULL) {
		url =
		    cli->cl_git != NULL ? source_scrub_url(cli->cl_git) : NULL;
		if (saved_plan_write(pa.pa_out, &s, sf,
		        cli->cl_git != NULL ? url : s.se_cfg->cfg_path, url,
		        cli->cl_ref, cli->cl_git != NULL ? path : NULL) != 0) {
			fprintf(
			    stderr, "%s: %s\n", cli->cl_prog, xdc_error_last());
			goto out;
		}
	}
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
	/* What the saved plan is, for a log that shows only stderr. */
	if (pa.pa_out != NULL)
		fprintf(stderr, "%s: the plan is saved in %s\n", cli->cl_prog,
		    pa.pa_out);
out:
	free(url);
	session_close(&s);
	saved_files_free(sf);
	return exit_code;
}
