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
#include "drivers/driver.h"
#include "reconciler/cli.h"
#include "reconciler/session.h"
#include "reconciler/teardown.h"

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
	struct teardown_expired *ex = NULL;
	struct xdc_observed *obs = NULL;
	struct session s;
	char *why = NULL;
	size_t nexp = 0, nscopes = 0, i, gone = 0;
	int rc, exit_code = XDC_EXIT_ERROR;

	if ((rc = cli_parse(
	         cli, argc, argv, NULL, longopts, gc_opt, &ga, NULL, 0)))
		return rc > 0 ? XDC_EXIT_OK : XDC_EXIT_ERROR;
	session_init(&s, cli, NULL);
	if ((!ga.ga_dry_run && session_lock(&s) != 0) ||
	    session_observe(&s, NULL, &obs) != 0) {
		fprintf(stderr, "%s: %s\n", cli->cl_prog, xdc_error_last());
		goto out;
	}
	teardown_expired(obs, cli_now(), NULL, &ex, &nexp, &nscopes);
	for (i = 0; i < nexp; i++)
		cli_log(cli,
		    "gc: scope %s expired at %s (last applied %s, %zu "
		    "domain%s)%s",
		    ex[i].te_scope, ex[i].te_expired, ex[i].te_applied,
		    ex[i].te_domains, ex[i].te_domains == 1 ? "" : "s",
		    ga.ga_dry_run ? "; --dry-run: not destroying it"
		                  : "; destroying it");
	xdc_observed_free(obs);
	obs = NULL;

	exit_code = XDC_EXIT_OK;
	for (i = 0; i < nexp; i++) {
		printf("%sScope %s has expired.\n", i > 0 ? "\n" : "",
		    ex[i].te_scope);
		free(why);
		why = NULL;
		xdc_asprintf(
		    &why, "xdc gc: scope %s has expired", ex[i].te_scope);
		rc = cli_teardown(&s, ex[i].te_scope, NULL, why, ga.ga_dry_run);
		if (rc == XDC_EXIT_OK)
			gone++;
		else
			exit_code = XDC_EXIT_ERROR;
	}
	if (ga.ga_dry_run)
		printf("%sgc: %zu scope%s expired, of %zu; none destroyed "
		       "(--dry-run).\n",
		    nexp > 0 ? "\n" : "", nexp, nexp == 1 ? "" : "s", nscopes);
	else
		printf("%sgc: %zu scope%s expired, of %zu; %zu taken down.\n",
		    nexp > 0 ? "\n" : "", nexp, nexp == 1 ? "" : "s", nscopes,
		    gone);
out:
	free(why);
	teardown_expired_free(ex, nexp);
	xdc_observed_free(obs);
	session_close(&s);
	return exit_code;
}
