/*
 * xdc destroy [PATH] [--scope NAME] [--dry-run]: take a scope down without
 * its files (SPEC §9). The scope's objects are found by their markers;
 * the plan is the one its configuration would get if it declared nothing:
 * every domain of the scope destroyed, unless protected (deferred, and
 * reported), and every Network it declares released: destroyed when no
 * other scope declares it, else only taken off its list of scopes. So a
 * destroy is planned, ordered and applied by the same code as an apply,
 * and prints the same.
 *
 * --max-destroy does not apply: the guard is against a configuration that
 * misreads, and here the command itself is the intent. There is no
 * default scope either: `xdc destroy` in the wrong directory must not take
 * the default scope down; naming it (--scope default) does.
 *
 * The plan is teardown.h's, made by the session's stages; cli_teardown,
 * which prints and applies it, is shared with `xdc gc`.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "base/error.h"
#include "planner/plan.h"
#include "reconciler/cli.h"
#include "reconciler/exec.h"
#include "reconciler/session.h"
#include "reconciler/teardown.h"
#include "schema/schema.h"

static void
teardown_report(void *arg, const struct exec *x, size_t i, enum exec_status st,
    const char *msg)
{
	exec_print_line(x, arg, i, st, msg, stdout);
}

int
cli_teardown(struct session *s, const char *scope,
    const struct xdc_config *hosts, const char *why, int dry_run)
{
	struct cli *cli = s->se_cli;
	struct xdc_diags *diags = xdc_diags_new();
	struct xdc_observed *obs = NULL;
	struct xdc_config *cfg = NULL;
	struct xdc_plan *plan = NULL;
	struct exec *x = NULL;
	struct exec_ops ops;
	size_t c[EXEC__COUNT], undone, n;
	int rc, exit_code = XDC_EXIT_ERROR;

	rc = teardown_plan(s, scope, hosts, why, &cfg, &obs, &plan, diags);
	if (rc == XDC_EINVALID && xdc_diags_count(diags) > 0) {
		xdc_diags_print(diags, stderr);
		n = xdc_diags_count(diags);
		fprintf(stderr,
		    "%s: scope %s cannot be taken down (%zu %s); nothing is "
		    "done\n",
		    cli->cl_prog, scope, n, n == 1 ? "error" : "errors");
		goto out;
	} else if (rc != 0) {
		fprintf(stderr, "%s: %s\n", cli->cl_prog, xdc_error_last());
		goto out;
	}
	if (plan_count(plan) == 0 && plan_ndeferred(plan) == 0) {
		printf("Nothing to destroy: scope %s has no domains or "
		       "networks here.\n",
		    scope);
		exit_code = XDC_EXIT_OK;
		goto out;
	}
	plan_print_text(plan, stdout);
	if (dry_run || plan_count(plan) == 0) {
		exit_code = XDC_EXIT_OK;
		goto held;
	}

	fputc('\n', stdout);
	memset(&ops, 0, sizeof(ops));
	ops.eo_report = teardown_report;
	ops.eo_arg = plan;
	if ((rc = session_exec(s, cfg, plan, &ops, &x)) != 0 ||
	    (rc = exec_run(x, s->se_ev)) != 0) {
		fprintf(stderr, "%s: %s\n", cli->cl_prog, xdc_error_last());
		goto out;
	}
	exec_counts(x, c);
	printf("\nDestroy: %zu done, %zu failed, %zu skipped", c[EXEC_DONE],
	    c[EXEC_FAILED], c[EXEC_SKIPPED] + c[EXEC_WAITING]);
	if (c[EXEC_NOT_OURS] > 0)
		printf(", %zu for other hosts", c[EXEC_NOT_OURS]);
	if (plan_ndeferred(plan) > 0)
		printf(", %zu deferred", plan_ndeferred(plan));
	printf(".\n");
	fflush(stdout);
	undone = c[EXEC_FAILED] + c[EXEC_SKIPPED] + c[EXEC_WAITING] +
	         c[EXEC_ABANDONED];
	if (undone > 0)
		fprintf(stderr,
		    "%s: scope %s: %zu actions did not complete; destroy "
		    "again to retry them\n",
		    cli->cl_prog, scope, undone);
	exit_code = undone > 0 ? XDC_EXIT_ERROR : XDC_EXIT_OK;
held:
	/* protect holds here too: say what stays, and how it would go. */
	if (plan_ndeferred(plan) > 0)
		fprintf(stderr,
		    "%s: scope %s: %zu %s held back (protected VMs stay: "
		    "apply scope %s's configuration with protect: false "
		    "first, then destroy it again)\n",
		    cli->cl_prog, scope, plan_ndeferred(plan),
		    plan_ndeferred(plan) == 1 ? "action is" : "actions are",
		    scope);
out:
	exec_free(x);
	xdc_plan_free(plan);
	xdc_config_free(cfg);
	xdc_observed_free(obs);
	xdc_diags_free(diags);
	return exit_code;
}

struct destroy_args {
	int da_dry_run;
};

enum { OPT_DRY_RUN = 5000 };

static int
destroy_opt(struct cli *cli, int c, const char *arg, void *v)
{
	struct destroy_args *da = v;

	(void)cli;
	(void)arg;
	if (c != OPT_DRY_RUN)
		return -1;
	da->da_dry_run = 1;
	return 0;
}

int
cmd_destroy(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ NULL, 0, NULL, 0 },
	};
	struct destroy_args da = { 0 };
	struct xdc_diags *diags = NULL;
	const struct xdc_scope *sc = NULL;
	struct session s;
	const char *path = NULL, *scope;
	char *why = NULL;
	int rc, exit_code = XDC_EXIT_ERROR;

	if ((rc = cli_parse(
	         cli, argc, argv, NULL, longopts, destroy_opt, &da, &path, 1)))
		return rc > 0 ? XDC_EXIT_OK : XDC_EXIT_ERROR;
	session_init(&s, cli, NULL);
	/* The configuration, for its Scope and its Hosts only. */
	diags = xdc_diags_new();
	if ((path != NULL || cli->cl_git != NULL) &&
	    session_load(&s, path, diags) != 0)
		goto out;
	if (s.se_cfg != NULL)
		sc = xdc_config_scope(s.se_cfg);
	scope = cli->cl_scope != NULL ? cli->cl_scope
	        : sc != NULL          ? sc->sc_name
	                              : NULL;
	if (scope == NULL) {
		fprintf(stderr,
		    "%s destroy: which scope? Give --scope NAME, or a "
		    "configuration with a Scope document%s (the default scope "
		    "goes only with --scope default)\n",
		    cli->cl_prog, path != NULL ? " (PATH has none)" : "");
		goto out;
	}
	/*
	 * The lock, as apply takes it. The driver is opened for no
	 * configuration: with xen, one without Networks would leave the
	 * bridges out, and the scope's must be released.
	 */
	if (!da.da_dry_run && session_lock(&s) != 0) {
		fprintf(stderr, "%s: %s\n", cli->cl_prog, xdc_error_last());
		goto out;
	}
	xdc_asprintf(&why, "xdc destroy: scope %s is taken down", scope);
	exit_code = cli_teardown(&s, scope, s.se_cfg, why, da.da_dry_run);
out:
	free(why);
	xdc_diags_free(diags);
	session_close(&s);
	return exit_code;
}
