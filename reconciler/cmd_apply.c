/*
 * xdc apply [PATH] [--dry-run] [--max-destroy N] [--force] [--plan FILE]:
 * the whole pipeline of session.h, once: load, lock the state directory,
 * observe, plan, guard, then carry the plan out through the driver. An action
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
#include "reconciler/saved_plan.h"
#include "reconciler/session.h"
#include "reconciler/source.h"
#include "schema/values.h"

struct apply_args {
	int aa_dry_run;
	int aa_force;
	long aa_max_destroy; /* -1: the default */
	const char *aa_plan; /* --plan FILE */
};

enum { OPT_DRY_RUN = 3000, OPT_MAX_DESTROY, OPT_FORCE, OPT_PLAN };

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
	case OPT_PLAN:
		aa->aa_plan = arg;
		return 0;
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
		session_done(
		    ac->ac_s, ac->ac_s->se_cfg, plan, i, st == EXEC_DONE);
	exec_print_line(x, plan, i, st, msg, stdout);
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

/* One plan carried out; its counts into c. 0, or XDC_EXIT_ERROR. */
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
	return 0;
}

/*
 * Guard and carry out the plan s holds (stages 5 and 6), printing each
 * action; before the first, record (when not NULL) is called, and a
 * failure of it applies nothing. With the pool view, what waited for a
 * claim or a budget slot is planned again once the pool changed. Returns
 * the exit code.
 */
static int
apply_exec(struct cli *cli, struct session *s, int (*record)(void *), void *arg)
{
	struct apply_ctx ac;
	char *msg = NULL;
	size_t c[EXEC__COUNT], total[EXEC__COUNT], undone, i;
	int64_t waited;
	int exit_code = XDC_EXIT_ERROR;

	/* A guard against a bad commit or a misread directory (SPEC §3). */
	if (session_guard(s, s->se_plan, &msg) != 0) {
		fprintf(stderr,
		    "%s: %s; nothing is applied. Check the configuration, or "
		    "apply with --force.\n",
		    cli->cl_prog, msg);
		goto out;
	}
	if (record != NULL && record(arg) != 0) {
		fprintf(stderr, "%s: %s; nothing is applied\n", cli->cl_prog,
		    xdc_error_last());
		goto out;
	}

	fputc('\n', stdout);
	ac.ac_s = s;
	memset(total, 0, sizeof(total));
	for (waited = 0;;) {
		if (apply_round(s, &ac, c) != 0)
			goto out;
		for (i = 0; i < EXEC__COUNT; i++)
			if (i != EXEC_WAITING && i != EXEC_NOT_OURS)
				total[i] += c[i];
		if (ac.ac_waiting_pool == 0 || waited >= APPLY_POOL_WAIT_MS)
			break;
		printf("\n%zu waiting for the pool (a claim or a budget slot): "
		       "planning again when it changes\n\n",
		    ac.ac_waiting_pool);
		fflush(stdout);
		if (session_replan(s, APPLY_POOL_STEP_MS) != 0)
			goto out;
		waited += APPLY_POOL_STEP_MS;
		plan_print_text(s->se_plan, stdout);
		if (plan_count(s->se_plan) == 0) {
			memset(c, 0, sizeof(c));
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
	if (plan_ndeferred(s->se_plan) > 0)
		printf(", %zu deferred", plan_ndeferred(s->se_plan));
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
	return exit_code;
}

struct saved_record {
	const struct saved_plan *sr_sp;
	const char *sr_dir;
};

static int
saved_record(void *arg)
{
	struct saved_record *sr = arg;

	return saved_plan_record(sr->sr_sp, sr->sr_dir);
}

/*
 * With --trust-gpg/--trust-ssh, the commit a saved plan was made of is
 * verified again, as --git's would be, and its files must be the ones
 * the plan holds: the keys may have been rotated, or the plan file made
 * by hand. --git names the repository when the saved URL cannot (it is
 * kept without its credentials).
 */
static int
saved_verify(struct cli *cli, const struct saved_plan *sp, struct session *s)
{
	struct xdc_diags *diags = xdc_diags_new();
	struct saved_files *sf = saved_files_new();
	const char *git = cli->cl_git, *ref = cli->cl_ref;
	int rc = XDC_ERR;

	if (cli->cl_git == NULL && (cli->cl_git = saved_plan_url(sp)) == NULL) {
		fprintf(stderr,
		    "%s: the saved plan names no repository: give --git\n",
		    cli->cl_prog);
		goto out;
	}
	cli->cl_ref = saved_plan_commit(sp);
	s->se_keep = saved_files_keep;
	s->se_keep_arg = sf;
	/* session_load prints why it refuses the commit. */
	if ((rc = session_load(s, saved_plan_tree_path(sp), diags)) != 0)
		goto out;
	if (strcmp(saved_files_digest(sf), saved_plan_digest(sp)) != 0) {
		fprintf(stderr,
		    "%s: the saved plan's configuration (%s) is not commit "
		    "%s's (%s); nothing is applied\n",
		    cli->cl_prog, saved_plan_digest(sp), saved_plan_commit(sp),
		    saved_files_digest(sf));
		rc = XDC_EINVALID;
		goto out;
	}
	cli_log(cli, "commit %s is verified again", saved_plan_commit(sp));
out:
	cli->cl_git = git;
	cli->cl_ref = ref;
	s->se_keep = NULL;
	s->se_keep_arg = NULL;
	xdc_config_free(s->se_cfg);
	s->se_cfg = NULL;
	saved_files_free(sf);
	xdc_diags_free(diags);
	return rc;
}

/*
 * xdc apply --plan FILE: the plan FILE holds, exactly, or nothing (see
 * saved_plan.h). It is made again from the configuration FILE holds,
 * with the options it was made with, against the pool as it is now, and
 * must be the one saved, each object it touches as it was observed then.
 */
static int
apply_saved(struct cli *cli, const struct apply_args *aa, struct session *s)
{
	struct xdc_diags *diags = xdc_diags_new();
	struct saved_plan *sp = NULL;
	struct saved_record sr;
	const char *opt;
	char *dir = NULL, *when = NULL, *why = NULL;
	size_t n;
	int rc, exit_code = XDC_EXIT_ERROR;

	if (saved_plan_read(aa->aa_plan, &sp) != 0 ||
	    source_state_dir(cli, &dir) != 0) {
		fprintf(stderr, "%s: %s\n", cli->cl_prog, xdc_error_last());
		goto out;
	}
	/* The options that chose what was planned are the plan's. */
	opt = saved_plan_scope_opt(sp);
	if (cli->cl_scope != NULL &&
	    (opt == NULL || strcmp(opt, cli->cl_scope) != 0)) {
		fprintf(stderr,
		    "%s: --scope %s: the saved plan was made %s%s; nothing is "
		    "applied\n",
		    cli->cl_prog, cli->cl_scope,
		    opt != NULL ? "with --scope " : "without --scope",
		    opt != NULL ? opt : "");
		goto out;
	}
	cli->cl_scope = opt;
	opt = saved_plan_host_opt(sp);
	if (cli->cl_host != NULL && opt != NULL && strcmp(opt, cli->cl_host)) {
		fprintf(stderr,
		    "%s: --host %s: the saved plan was made with --host %s; "
		    "nothing is applied\n",
		    cli->cl_prog, cli->cl_host, opt);
		goto out;
	}
	if (cli->cl_host == NULL)
		cli->cl_host = opt;
	if (saved_plan_applied(sp, dir, &when)) {
		fprintf(stderr,
		    "%s: %s: plan %s was applied at %s (recorded in %s/plans); "
		    "a saved plan is applied once: make a new one\n",
		    cli->cl_prog, aa->aa_plan, saved_plan_id(sp), when, dir);
		goto out;
	}
	if (saved_plan_commit(sp) != NULL &&
	    (cli->cl_trust_gpg != NULL || cli->cl_trust_ssh != NULL) &&
	    saved_verify(cli, sp, s) != 0)
		goto out;
	if ((rc = saved_plan_config(sp, &s->se_cfg, diags)) != 0) {
		if (rc == XDC_EINVALID)
			xdc_diags_print(diags, stderr);
		else
			fprintf(
			    stderr, "%s: %s\n", cli->cl_prog, xdc_error_last());
		goto out;
	}
	snprintf(s->se_commit, sizeof(s->se_commit), "%s",
	    saved_plan_commit(sp) != NULL ? saved_plan_commit(sp) : "");
	/* Before observing: what is checked is what no one else changes. */
	if ((!aa->aa_dry_run && session_lock(s) != 0) ||
	    session_observe(s, s->se_cfg, &s->se_obs) != 0) {
		fprintf(stderr, "%s: %s\n", cli->cl_prog, xdc_error_last());
		goto out;
	}
	rc = session_plan_obs(
	    s, s->se_cfg, s->se_commit, s->se_obs, NULL, &s->se_plan, diags);
	if (rc == 0)
		rc = saved_plan_check(sp, s->se_obs, s->se_plan, &why);
	else if (xdc_diags_count(diags) > 0)
		xdc_diags_print(diags, stderr);
	if (rc == XDC_EINVALID && why != NULL) {
		fprintf(stderr,
		    "%s: %s is stale: the pool changed since it was planned; "
		    "nothing is applied. Make a new plan.\n%s",
		    cli->cl_prog, aa->aa_plan, why);
		goto out;
	}
	if (rc != 0) {
		n = xdc_diags_count(diags);
		fprintf(stderr,
		    "%s: %s: the saved plan cannot be made again "
		    "(%s); nothing is applied\n",
		    cli->cl_prog, aa->aa_plan,
		    n > 0 ? "the configuration cannot be satisfied now"
		          : xdc_error_last());
		goto out;
	}
	printf("Saved plan %s, as planned:\n\n", saved_plan_id(sp));
	plan_print_text(s->se_plan, stdout);
	if (aa->aa_dry_run) {
		exit_code = XDC_EXIT_OK;
		goto out;
	}
	sr.sr_sp = sp;
	sr.sr_dir = dir;
	/* Recorded before the first action: a crash does not apply it twice. */
	exit_code = apply_exec(cli, s, saved_record, &sr);
out:
	free(why);
	free(when);
	free(dir);
	saved_plan_free(sp);
	xdc_diags_free(diags);
	return exit_code;
}

int
cmd_apply(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "max-destroy", required_argument, NULL, OPT_MAX_DESTROY },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "plan", required_argument, NULL, OPT_PLAN },
		{ NULL, 0, NULL, 0 },
	};
	struct apply_args aa = { 0, 0, -1, NULL };
	struct session s;
	const char *path = NULL;
	int rc, exit_code = XDC_EXIT_ERROR;

	if ((rc = cli_parse(
	         cli, argc, argv, NULL, longopts, apply_opt, &aa, &path, 1)))
		return rc > 0 ? XDC_EXIT_OK : XDC_EXIT_ERROR;
	session_init(&s, cli, NULL);
	s.se_max_destroy = aa.aa_max_destroy;
	s.se_force = aa.aa_force;
	if (aa.aa_plan != NULL) {
		if (path != NULL) {
			fprintf(stderr,
			    "%s apply: --plan FILE holds its configuration: "
			    "give no PATH\n",
			    cli->cl_prog);
			goto out;
		}
		exit_code = apply_saved(cli, &aa, &s);
		goto out;
	}
	/* A dry run changes nothing: it takes no lock. */
	if (session_plan(&s, path != NULL ? path : ".", !aa.aa_dry_run) != 0)
		goto out;
	plan_print_text(s.se_plan, stdout);
	if (aa.aa_dry_run || plan_count(s.se_plan) == 0) {
		exit_code = XDC_EXIT_OK;
		goto out;
	}
	exit_code = apply_exec(cli, &s, NULL, NULL);
out:
	session_close(&s);
	return exit_code;
}
