/*
 * xdc plan [PATH] [--json] [--detailed-exitcode]: load, observe, plan and
 * print. The loading and planning steps are shared with apply.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "drivers/driver.h"
#include "planner/plan.h"
#include "reconciler/cli.h"
#include "reconciler/source.h"
#include "base/arena.h"
#include "base/ev.h"
#include "base/error.h"
#include "schema/schema.h"

/*
 * The time plans are made at. XDC_NOW (seconds since the epoch, or
 * YYYY-MM-DDTHH:MM:SSZ) fixes it, so that tests and reviews of
 * maintenance windows are reproducible.
 */
time_t
cli_now(void)
{
	const char *s = getenv("XDC_NOW");
	struct tm tm;
	char *end;
	long long v;

	if (s == NULL || *s == '\0')
		return time(NULL);
	v = strtoll(s, &end, 10);
	if (*end == '\0')
		return (time_t)v;
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end != NULL && *end == '\0')
		return timegm(&tm);
	fprintf(stderr, "xdc: XDC_NOW=\"%s\" is not a time; using now\n", s);
	return time(NULL);
}

void
cli_session_free(struct cli_session *s)
{
	xdc_plan_free(s->cs_plan);
	xdc_observed_free(s->cs_obs);
	if (s->cs_driver != NULL)
		s->cs_driver->free(s->cs_driver);
	xdc_config_free(s->cs_cfg);
	xdc_ev_free(s->cs_ev);
	memset(s, 0, sizeof(*s));
}

/*
 * Load the configuration PATH or --git/--ref name: fetch first with --git.
 * The commit, when there is one, lives in the configuration's arena.
 */
static int
make_load(struct cli *cli, const char *path, struct xdc_config **cfg,
    const char **commit, struct xdc_diags *diags)
{
	struct source *src = NULL;
	char hex[SOURCE_COMMIT_HEXSZ];
	size_t n;
	int rc;

	*commit = NULL;
	if ((rc = source_new(cli, path, &src)) != 0 ||
	    (rc = source_fetch(src)) != 0) {
		fprintf(stderr, "%s: %s\n", cli->cl_prog, xdc_error_last());
		goto out;
	}
	rc = source_load(src, cfg, diags, hex);
	if (rc == XDC_EINVALID) {
		xdc_diags_print(diags, stderr);
		n = xdc_diags_count(diags);
		fprintf(stderr, "%s: %s: %zu %s; nothing is applied\n",
		    cli->cl_prog, source_name(src), n,
		    n == 1 ? "error" : "errors");
		goto out;
	}
	if (rc != 0) {
		fprintf(stderr, "%s: %s\n", cli->cl_prog, xdc_error_last());
		goto out;
	}
	if (hex[0] != '\0')
		*commit = xdc_arena_strdup((*cfg)->cfg_arena, hex);
out:
	source_free(src);
	return rc;
}

int
cli_make_plan(struct cli *cli, const char *path, struct cli_session *s)
{
	struct xdc_diags *diags = xdc_diags_new();
	struct plan_opts opts;
	const char *commit;
	size_t n;
	int rc;

	memset(s, 0, sizeof(*s));
	s->cs_ev = xdc_ev_new();
	if ((rc = make_load(cli, path, &s->cs_cfg, &commit, diags)) != 0)
		goto out;
	if ((rc = cli_open_driver(cli, s->cs_cfg, s->cs_ev, &s->cs_driver)) !=
	    0) {
		fprintf(stderr, "%s: %s\n", cli->cl_prog, xdc_error_last());
		goto out;
	}
	if ((rc = s->cs_driver->observe(s->cs_driver, &s->cs_obs)) != 0) {
		fprintf(stderr, "%s: cannot observe the pool: %s\n",
		    cli->cl_prog, xdc_error_last());
		goto out;
	}
	memset(&opts, 0, sizeof(opts));
	opts.po_now = cli_now();
	opts.po_commit = commit;
	opts.po_self = cli->cl_host;
	opts.po_migrate = (s->cs_driver->caps & XDC_DRV_MIGRATE) != 0;
	rc = plan_compute(s->cs_cfg, s->cs_obs, &opts, &s->cs_plan, diags);
	if (rc == XDC_EINVALID) {
		xdc_diags_print(diags, stderr);
		n = xdc_diags_count(diags);
		fprintf(stderr,
		    "%s: %s cannot be satisfied (%zu %s); nothing is applied\n",
		    cli->cl_prog, s->cs_cfg->cfg_path, n,
		    n == 1 ? "error" : "errors");
	} else if (rc != 0) {
		fprintf(stderr, "%s: %s\n", cli->cl_prog, xdc_error_last());
	}
out:
	xdc_diags_free(diags);
	if (rc != 0)
		cli_session_free(s);
	return rc;
}

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
	struct cli_session s;
	const char *path = ".";
	int rc;

	if ((rc = cli_parse(
	         cli, argc, argv, NULL, longopts, plan_opt, &pa, &path, 1)))
		return rc > 0 ? XDC_EXIT_OK : XDC_EXIT_ERROR;
	if (cli_make_plan(cli, path, &s) != 0)
		return XDC_EXIT_ERROR;
	if (pa.pa_json)
		rc = plan_print_json(s.cs_plan, stdout);
	else
		plan_print_text(s.cs_plan, stdout);
	if (rc != 0 || fflush(stdout) != 0) {
		cli_session_free(&s);
		return XDC_EXIT_ERROR;
	}
	rc = pa.pa_detailed && plan_count(s.cs_plan) > 0 ? XDC_EXIT_CHANGES
	                                                 : XDC_EXIT_OK;
	cli_session_free(&s);
	return rc;
}
