/*
 * xdc gc [--dry-run]: take down the scopes whose expiry has passed (SPEC
 * §9), for cron or a CI schedule. What each scope's markers record (when
 * it was last applied, when it expires) says which; each expired scope is
 * then taken down as `xdc destroy --scope NAME` does, logged, and counted
 * in the last line. A scope without an expires never expires, and a
 * domain marked before scopes existed is the default scope's, which has
 * none unless a Scope document gives it one.
 *
 * Each scope is observed afresh before it goes: two expired scopes may
 * share a network, and the second must see the list the first left.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/ev.h"
#include "drivers/driver.h"
#include "planner/plan.h"
#include "reconciler/cli.h"
#include "schema/values.h"

struct gc_args {
	int ga_dry_run;
};

enum { OPT_DRY_RUN = 5100 };

static int
gc_opt(struct cli *cli, int c, const char *arg, void *v)
{
	struct gc_args *ga = v;

	(void)cli;
	(void)arg;
	if (c != OPT_DRY_RUN)
		return -1;
	ga->ga_dry_run = 1;
	return 0;
}

int
cmd_gc(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ NULL, 0, NULL, 0 },
	};
	struct gc_args ga = { 0 };
	struct xdc_scope_state *states = NULL;
	struct xdc_observed *obs = NULL;
	struct xdc_driver *drv = NULL;
	struct xdc_ev *ev = NULL;
	char applied[XDC_TIME_BUFSZ], expired[XDC_TIME_BUFSZ];
	char **names = NULL, *why = NULL;
	size_t nstates = 0, i, nexp = 0, gone = 0;
	time_t now = cli_now();
	int rc, exit_code = XDC_EXIT_ERROR;

	if ((rc = cli_parse(
	         cli, argc, argv, NULL, longopts, gc_opt, &ga, NULL, 0)))
		return rc > 0 ? XDC_EXIT_OK : XDC_EXIT_ERROR;
	ev = xdc_ev_new();
	if ((rc = cli_open_driver(cli, NULL, ev, &drv)) != 0) {
		fprintf(stderr, "%s: %s\n", cli->cl_prog, xdc_error_last());
		goto out;
	}
	if ((rc = drv->observe(drv, &obs)) != 0) {
		fprintf(stderr, "%s: cannot observe the pool: %s\n",
		    cli->cl_prog, xdc_error_last());
		goto out;
	}
	plan_scopes(obs, &states, &nstates);
	/* The names outlive the observation, which each teardown renews. */
	names = xdc_calloc(nstates + 1, sizeof(*names));
	for (i = 0; i < nstates; i++) {
		if (!plan_scope_expired(&states[i], now))
			continue;
		names[nexp++] = xdc_strdup(states[i].ss_name);
		if (states[i].ss_applied != 0)
			xdc_time_fmt(states[i].ss_applied, applied);
		else
			snprintf(applied, sizeof(applied), "unknown");
		xdc_time_fmt(states[i].ss_expires, expired);
		cli_log(cli,
		    "gc: scope %s expired at %s (last applied %s, %zu "
		    "domain%s)%s",
		    states[i].ss_name, expired, applied, states[i].ss_domains,
		    states[i].ss_domains == 1 ? "" : "s",
		    ga.ga_dry_run ? "; --dry-run: not destroying it"
		                  : "; destroying it");
	}
	xdc_observed_free(obs);
	obs = NULL;

	exit_code = XDC_EXIT_OK;
	for (i = 0; i < nexp; i++) {
		printf(
		    "%sScope %s has expired.\n", i > 0 ? "\n" : "", names[i]);
		free(why);
		why = NULL;
		xdc_asprintf(&why, "xdc gc: scope %s has expired", names[i]);
		rc = cli_teardown(
		    cli, drv, ev, names[i], NULL, why, ga.ga_dry_run);
		if (rc == XDC_EXIT_OK)
			gone++;
		else
			exit_code = XDC_EXIT_ERROR;
	}
	if (ga.ga_dry_run)
		printf("%sgc: %zu scope%s expired, of %zu; none destroyed "
		       "(--dry-run).\n",
		    nexp > 0 ? "\n" : "", nexp, nexp == 1 ? "" : "s", nstates);
	else
		printf("%sgc: %zu scope%s expired, of %zu; %zu taken down.\n",
		    nexp > 0 ? "\n" : "", nexp, nexp == 1 ? "" : "s", nstates,
		    gone);
out:
	for (i = 0; names != NULL && i < nexp; i++)
		free(names[i]);
	free(names);
	free(why);
	free(states);
	xdc_observed_free(obs);
	if (drv != NULL)
		drv->free(drv);
	xdc_ev_free(ev);
	return exit_code;
}
