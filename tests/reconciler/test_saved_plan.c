/*
 * Saved plans (reconciler/saved_plan.c): the configuration's digest is
 * git's; a plan written and read back holds while nothing changed; an
 * object that appeared or changed is named with its field; a plan made
 * again differently is named by its actions; the record of a plan applied;
 * files that are not saved plans of this format are refused, saying why.
 * The pool is the sim's, in a directory of the test's own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/diag.h"
#include "base/error.h"
#include "base/ev.h"
#include "drivers/driver.h"
#include "planner/plan.h"
#include "reconciler/cli.h"
#include "reconciler/exec.h"
#include "reconciler/saved_plan.h"
#include "reconciler/session.h"

struct fx {
	char dir[64];
	char pool[96];
	char cfg[96];
	char plan[96];
	struct cli cli;
	struct session s;
	struct saved_files *sf;
};

static void
put(const struct fx *fx, const char *name, const char *text)
{
	char path[160];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", fx->dir, name);
	assert_non_null(fp = fopen(path, "w"));
	fputs(text, fp);
	fclose(fp);
}

#define WEB "kind: VM\nname: web\nmemory: 512MiB\nkernel: /boot/vmlinuz\n"

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	char d[160];

	snprintf(fx->dir, sizeof(fx->dir), "/tmp/xdc-saved.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->pool, sizeof(fx->pool), "%s/sim.json", fx->dir);
	snprintf(fx->cfg, sizeof(fx->cfg), "%s/cfg", fx->dir);
	snprintf(fx->plan, sizeof(fx->plan), "%s/plan.xdc", fx->dir);
	snprintf(d, sizeof(d), "mkdir %s", fx->cfg);
	assert_int_equal(system(d), 0);
	put(fx, "cfg/web.yaml", WEB);
	fx->cli.cl_prog = "xdc";
	fx->cli.cl_driver = "sim";
	fx->cli.cl_state = fx->pool;
	fx->cli.cl_verbose = -1;
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	char cmd[160];

	session_close(&fx->s);
	saved_files_free(fx->sf);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

/* Plan cfg and save it to fx->plan, as xdc plan -o does. */
static void
save(struct fx *fx)
{
	session_close(&fx->s);
	saved_files_free(fx->sf);
	session_init(&fx->s, &fx->cli, NULL);
	fx->sf = saved_files_new();
	fx->s.se_keep = saved_files_keep;
	fx->s.se_keep_arg = fx->sf;
	assert_int_equal(session_plan(&fx->s, fx->cfg, 0), 0);
	assert_int_equal(saved_plan_write(fx->plan, &fx->s, fx->sf, fx->cfg,
	                     NULL, NULL, NULL),
	    0);
}

/* Carry out the session's plan on the pool. */
static void
apply(struct fx *fx)
{
	struct exec_ops ops;
	struct exec *x = NULL;

	memset(&ops, 0, sizeof(ops));
	assert_int_equal(
	    session_exec(&fx->s, fx->s.se_cfg, fx->s.se_plan, &ops, &x), 0);
	assert_int_equal(exec_run(x, fx->s.se_ev), 0);
	exec_free(x);
}

/*
 * What apply --plan checks: the saved configuration, the pool now, the
 * plan made again. Returns saved_plan_check's code, *why the caller's.
 */
static int
check(struct fx *fx, struct xdc_observed **obs_out, char **why)
{
	struct xdc_diags *diags = xdc_diags_new();
	struct saved_plan *sp = NULL;
	struct xdc_config *cfg = NULL;
	struct xdc_observed *obs = NULL;
	struct xdc_plan *plan = NULL;
	int rc;

	assert_int_equal(saved_plan_read(fx->plan, &sp), 0);
	assert_int_equal(saved_plan_config(sp, &cfg, diags), 0);
	assert_int_equal(session_observe(&fx->s, cfg, &obs), 0);
	if (obs_out != NULL && *obs_out != NULL) {
		xdc_observed_free(obs);
		obs = *obs_out;
		*obs_out = NULL;
	}
	assert_int_equal(
	    session_plan_obs(&fx->s, cfg, NULL, obs, NULL, &plan, diags), 0);
	rc = saved_plan_check(sp, obs, plan, why);
	xdc_plan_free(plan);
	xdc_observed_free(obs);
	xdc_config_free(cfg);
	saved_plan_free(sp);
	xdc_diags_free(diags);
	return rc;
}

static void
test_digest_is_gits(void **state)
{
	struct saved_files *sf = saved_files_new();

	(void)state;
	/* printf 'x: 1\n' | git hash-object --stdin, then of
	 * "d508cf7... a.yaml\n". */
	saved_files_keep(sf, "a.yaml", "x: 1\n", 5);
	assert_string_equal(saved_files_digest(sf),
	    "sha1:29856f99a77e9a7620ace14b88ae52642fd7da16");
	saved_files_free(sf);
}

static void
test_unchanged_plan_holds(void **state)
{
	struct fx *fx = *state;
	char *why = NULL;

	save(fx);
	/* The files change: the saved plan is what is checked. */
	put(fx, "cfg/web.yaml", "kind: VM\nname: other\nmemory: 1GiB\n");
	assert_int_equal(check(fx, NULL, &why), 0);
	assert_null(why);
}

static void
test_an_object_that_appeared_is_named(void **state)
{
	struct fx *fx = *state;
	char *why = NULL;

	save(fx);
	apply(fx);
	assert_int_equal(check(fx, NULL, &why), XDC_EINVALID);
	assert_non_null(why);
	assert_non_null(
	    strstr(why, "  VM web: absent when planned, now on host local\n"));
	free(why);
}

static void
test_a_changed_field_is_named(void **state)
{
	struct fx *fx = *state;
	struct xdc_observed *obs = NULL;
	struct xdc_obs_domain *d;
	char *why = NULL;

	save(fx);
	apply(fx);
	put(fx, "cfg/web.yaml",
	    "kind: VM\nname: web\nmemory: 1GiB\nkernel: /boot/vmlinuz\n");
	save(fx); /* an update of web, planned against web as it is */
	assert_int_equal(session_observe(&fx->s, NULL, &obs), 0);
	for (d = obs->obs_hosts[0].oh_domains; strcmp(d->od_name, "web") != 0;
	     d++)
		;
	d->od_vcpus = 2; /* someone changed it since */
	assert_int_equal(check(fx, &obs, &why), XDC_EINVALID);
	assert_non_null(strstr(why, "  VM web: vcpus was 1, now 2\n"));
	free(why);
}

static void
test_a_different_plan_is_named(void **state)
{
	struct fx *fx = *state;
	char p1[160], *why = NULL;

	save(fx);
	apply(fx);
	/* P: web to 1GiB, planned while web is alone. */
	put(fx, "cfg/web.yaml",
	    "kind: VM\nname: web\nmemory: 1GiB\nkernel: /boot/vmlinuz\n");
	save(fx);
	snprintf(p1, sizeof(p1), "%s/p1.xdc", fx->dir);
	assert_int_equal(rename(fx->plan, p1), 0);
	/* Meanwhile db joins the scope, and web stays as it was. */
	put(fx, "cfg/web.yaml", WEB);
	put(fx, "cfg/db.yaml",
	    "kind: VM\nname: db\nmemory: 256MiB\nkernel: /boot/vmlinuz\n");
	save(fx);
	apply(fx);
	assert_int_equal(rename(p1, fx->plan), 0);
	assert_int_equal(check(fx, NULL, &why), XDC_EINVALID);
	assert_non_null(why);
	assert_non_null(
	    strstr(why, "  the plan would now also destroy VM db on local\n"));
	/* web's replace is the same action, only later: not named. */
	assert_null(strstr(why, "VM web"));
	free(why);
}

static void
test_applied_once(void **state)
{
	struct fx *fx = *state;
	struct saved_plan *sp = NULL;
	char *when = NULL;

	save(fx);
	assert_int_equal(saved_plan_read(fx->plan, &sp), 0);
	assert_int_equal(saved_plan_applied(sp, fx->dir, &when), 0);
	assert_null(when);
	assert_int_equal(saved_plan_record(sp, fx->dir), 0);
	assert_int_equal(saved_plan_applied(sp, fx->dir, &when), 1);
	assert_non_null(when);
	assert_int_equal(strlen(when), 20); /* 2026-11-21T12:00:00Z */
	free(when);
	saved_plan_free(sp);
}

static void
refused(struct fx *fx, const char *text, const char *want)
{
	struct saved_plan *sp = NULL;

	put(fx, "plan.xdc", text);
	assert_int_equal(saved_plan_read(fx->plan, &sp), XDC_ERR);
	assert_null(sp);
	if (strstr(xdc_error_last(), want) == NULL)
		fail_msg("\"%s\" lacks \"%s\"", xdc_error_last(), want);
}

static void
test_not_a_saved_plan(void **state)
{
	struct fx *fx = *state;

	refused(fx, "kind: VM\n", "not a saved plan");
	refused(
	    fx, "{\"format_version\": 1}", "no \"format\": \"xdc-saved-plan\"");
	refused(fx, "{\"format\": \"xdc-saved-plan\", \"format_version\": 2}",
	    "a saved plan of format 2; this xdc reads format 1");
	refused(fx, "{\"format\": \"xdc-saved-plan\", \"format_version\": 1}",
	    "without its id");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digest_is_gits),
		cmocka_unit_test_setup_teardown(
		    test_unchanged_plan_holds, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_an_object_that_appeared_is_named, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_changed_field_is_named, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_different_plan_is_named, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_applied_once, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_not_a_saved_plan, setup, teardown),
	};

	setenv("XDC_NOW", "2026-11-21T12:00:00Z", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
