/*
 * Tests of what the reconciler asks of a plan (planner/query.c, and
 * plan_changes_json of planner/output.c): the deferred actions and why
 * each is held, the changes of an action as the plan's JSON has them,
 * and the --max-destroy guard that plan, apply and run share.
 */
#include "tests/planner/fixture.h"

#define VM(n)                                                                  \
	"kind: VM\nname: " n "\nlabels: {tier: web}\nmemory: 1GiB\n"           \
	"kernel: /boot/vmlinuz\n---\n"

/* A managed domain the configuration no longer declares. */
static void
orphan(struct fx *fx, const char *name)
{
	struct xdc_obs_domain *d = fx_dom(fx, XDC_LOCAL_HOST, name);

	d->od_managed = 1;
	d->od_memory = d->od_max_memory = GIB;
	d->od_vcpus = d->od_max_vcpus = 1;
}

/* n declared VMs, all running, and m managed domains no longer declared. */
static struct fx *
destroys_fx(size_t n, size_t m)
{
	static const char *const names[] = { "a", "b", "c", "d", "e", "f", "g",
		"h" };
	char yaml[1024] = "";
	struct fx *fx;
	size_t i;

	for (i = 0; i < n; i++)
		snprintf(yaml + strlen(yaml), sizeof(yaml) - strlen(yaml),
		    "kind: VM\nname: %s\nmemory: 1GiB\nkernel: /k\n---\n",
		    names[i]);
	fx = fx_new(yaml);
	fx_hosts(fx);
	for (i = 0; i < n; i++)
		fx_managed(fx, XDC_LOCAL_HOST, names[i]);
	for (i = 0; i < m; i++) {
		char name[32];

		snprintf(name, sizeof(name), "old-%zu", i);
		orphan(fx, name);
	}
	fx_plan(fx);
	return fx;
}

/* ---- Deferred actions ------------------------------------------------- */

static void
test_deferred_getters_agree_with_json(void **state)
{
	struct fx *fx = fx_new(VM("web-1") VM("web-2")
	        VM("web-3") "kind: SLA\nname: gold\nselector: {tier: web}\n"
	                    "availability:\n  min_running: 2\n");
	const char *names[] = { "web-1", "web-2", "web-3" };
	const struct xdc_action *a;
	struct xdc_obs_domain *d;
	json_t *def, *o;
	size_t i;

	(void)state;
	fx_hosts(fx);
	for (i = 0; i < 3; i++) {
		d = fx_managed(fx, XDC_LOCAL_HOST, names[i]);
		d->od_build.ob_kernel = "/boot/vmlinuz-old";
		d->od_hash ^= 1;
	}
	fx_plan(fx);
	assert_int_equal(plan_ndeferred(fx->plan), 2);
	def = json_object_get(fx_json(fx), "deferred");
	assert_int_equal(json_array_size(def), 2);
	json_array_foreach(def, i, o)
	{
		a = plan_deferred(fx->plan, i);
		assert_non_null(a);
		assert_string_equal(xdc_op_name(a->a_op),
		    json_string_value(json_object_get(o, "op")));
		assert_string_equal(xdc_obj_kind_name(a->a_kind),
		    json_string_value(json_object_get(o, "kind")));
		assert_string_equal(
		    a->a_name, json_string_value(json_object_get(o, "name")));
		assert_string_equal(
		    a->a_host, json_string_value(json_object_get(o, "host")));
		assert_string_equal(plan_deferred_held(fx->plan, i),
		    json_string_value(json_object_get(o, "held")));
		assert_non_null(strstr(plan_deferred_held(fx->plan, i),
		    "(sla gold: min_running 2)"));
	}
	assert_null(plan_deferred(fx->plan, 2));
	assert_null(plan_deferred_held(fx->plan, 2));
	fx_free(fx);
}

static void
test_no_deferred_gives_null(void **state)
{
	struct fx *fx = fx_new(VM("web-1"));

	(void)state;
	fx_hosts(fx);
	fx_plan(fx);
	assert_int_equal(plan_ndeferred(fx->plan), 0);
	assert_null(plan_deferred(fx->plan, 0));
	fx_free(fx);
}

/* ---- Changes ---------------------------------------------------------- */

static void
test_changes_of_an_update_in_bytes(void **state)
{
	struct fx *fx = fx_new(VM("web-1"));
	char *text;
	size_t i;

	(void)state;
	fx_hosts(fx);
	fx_managed(fx, XDC_LOCAL_HOST, "web-1")->od_memory = 2 * GIB;
	fx_plan(fx);
	i = fx_action(fx, XDC_OP_UPDATE, "web-1", XDC_LOCAL_HOST);
	text = plan_changes_json(fx->plan, i);
	assert_string_equal(text,
	    "[{\"field\":\"memory\",\"from\":2147483648,\"to\":1073741824}]");
	free(text);
	fx_free(fx);
}

/* Every action's changes, read back, equal the plan's JSON's. */
static void
test_changes_equal_the_plans_json(void **state)
{
	struct fx *fx = fx_new(VM("web-1") VM("web-2") VM("web-3"));
	json_t *acts, *o, *mine;
	struct xdc_obs_domain *d;
	char *text;
	size_t i;

	(void)state;
	fx_hosts(fx);
	d = fx_managed(fx, XDC_LOCAL_HOST, "web-1");
	d->od_vcpus = 2;
	d->od_max_vcpus = 2; /* a replace */
	fx_managed(fx, XDC_LOCAL_HOST, "web-2")->od_state = XDC_DOM_CRASHED;
	orphan(fx, "gone");
	fx_plan(fx);
	acts = json_object_get(fx_json(fx), "actions");
	assert_true(json_array_size(acts) >= 4);
	json_array_foreach(acts, i, o)
	{
		text = plan_changes_json(fx->plan, i);
		mine = json_loads(text, 0, NULL);
		assert_non_null(mine);
		assert_true(json_equal(mine, json_object_get(o, "changes")));
		json_decref(mine);
		free(text);
	}
	fx_free(fx);
}

/* ---- The --max-destroy guard ------------------------------------------ */

static void
test_guard_default_is_a_quarter_at_least_one(void **state)
{
	struct fx *fx;
	char *msg;

	(void)state;
	/* 1 destroy of 3 managed: 25% of 3 is 0, and at least 1 is 1. */
	fx = destroys_fx(2, 1);
	assert_int_equal(plan_destroy_limit(fx->plan, -1), 1);
	assert_int_equal(plan_check_destroys(fx->plan, -1, 0, &msg), 0);
	assert_null(msg);
	fx_free(fx);
	/* 2 destroys of 8 managed: 25% is 2. */
	fx = destroys_fx(6, 2);
	assert_int_equal(plan_destroy_limit(fx->plan, -1), 2);
	assert_int_equal(plan_check_destroys(fx->plan, -1, 0, &msg), 0);
	fx_free(fx);
	/* 3 destroys of 8 managed: refused. */
	fx = destroys_fx(5, 3);
	assert_int_equal(
	    plan_check_destroys(fx->plan, -1, 0, &msg), XDC_EINVALID);
	assert_string_equal(msg,
	    "the plan destroys 3 of 8 managed VMs, more than --max-destroy 2");
	free(msg);
	fx_free(fx);
}

static void
test_guard_max_destroy_and_force(void **state)
{
	struct fx *fx = destroys_fx(1, 3);
	char *msg;

	(void)state;
	assert_int_equal(plan_vm_destroys(fx->plan), 3);
	assert_int_equal(
	    plan_check_destroys(fx->plan, 2, 0, &msg), XDC_EINVALID);
	assert_string_equal(msg,
	    "the plan destroys 3 of 4 managed VMs, more than --max-destroy 2");
	free(msg);
	assert_int_equal(plan_check_destroys(fx->plan, 3, 0, &msg), 0);
	assert_null(msg);
	/* --force passes whatever the limit. */
	assert_int_equal(plan_check_destroys(fx->plan, 0, 1, &msg), 0);
	assert_null(msg);
	/* --max-destroy 0: no destroy at all. */
	assert_int_equal(plan_destroy_limit(fx->plan, 0), 0);
	fx_free(fx);
}

static void
test_guard_passes_a_plan_without_destroys(void **state)
{
	struct fx *fx = destroys_fx(3, 0);
	char *msg;

	(void)state;
	assert_int_equal(plan_check_destroys(fx->plan, 0, 0, &msg), 0);
	assert_null(msg);
	fx_free(fx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deferred_getters_agree_with_json),
		cmocka_unit_test(test_no_deferred_gives_null),
		cmocka_unit_test(test_changes_of_an_update_in_bytes),
		cmocka_unit_test(test_changes_equal_the_plans_json),
		cmocka_unit_test(test_guard_default_is_a_quarter_at_least_one),
		cmocka_unit_test(test_guard_max_destroy_and_force),
		cmocka_unit_test(test_guard_passes_a_plan_without_destroys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
