/*
 * Tests of what SLAs hold back (planner/sla.c): maintenance windows, the
 * min_running disruption budget and protection. A held action stays in the
 * plan as deferred, with a reason naming the SLA and the line that holds
 * it; what is not disruptive is never held.
 */
#include "tests/planner/fixture.h"

#include "planner/planner.h"
#include "schema/values.h"

/* Seconds since the epoch of a UTC date and time. */
static time_t
utc(int year, int mon, int day, int hour, int min)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	return timegm(&tm);
}

static struct xdc_window
window(const char *text)
{
	struct xdc_window w;

	assert_null(xdc_parse_window(text, &w));
	return w;
}

/* 2024-01-06 is a Saturday, 2024-01-08 a Monday. */
#define SAT(h, m) utc(2024, 1, 6, h, m)
#define SUN(h, m) utc(2024, 1, 7, h, m)
#define MON(h, m) utc(2024, 1, 8, h, m)
#define FRI(h, m) utc(2024, 1, 5, h, m)

/* ---- sla_window_open -------------------------------------------------- */

static void
test_window_plain_open_inside_closed_outside(void **state)
{
	struct xdc_window w = window("Sat 02:00-04:00 UTC");
	time_t opens = 0;

	(void)state;
	assert_true(sla_window_open(&w, SAT(2, 0), &opens));
	assert_true(sla_window_open(&w, SAT(3, 59), &opens));
	assert_false(sla_window_open(&w, SAT(4, 0), &opens)); /* exclusive */
	assert_false(sla_window_open(&w, SAT(1, 59), &opens));
	assert_int_equal(opens, SAT(2, 0));
	assert_false(sla_window_open(&w, SUN(3, 0), &opens)); /* wrong day */
	assert_false(sla_window_open(&w, FRI(3, 0), &opens));
}

static void
test_window_next_opening(void **state)
{
	struct xdc_window w = window("Sat 02:00-04:00 UTC");
	time_t opens = 0;

	(void)state;
	assert_false(sla_window_open(&w, FRI(12, 0), &opens));
	assert_int_equal(opens, SAT(2, 0));
	/* Just after it closes: a week later. */
	assert_false(sla_window_open(&w, SAT(4, 0), &opens));
	assert_int_equal(opens, SAT(2, 0) + 7 * 24 * 3600);
	/* NULL: only the answer. */
	assert_false(sla_window_open(&w, SAT(5, 0), NULL));
}

static void
test_window_day_list_and_range(void **state)
{
	struct xdc_window list = window("Mon,Wed 10:00-11:00 UTC");
	struct xdc_window range = window("Fri-Mon 10:00-11:00 UTC");
	struct xdc_window daily = window("daily 10:00-11:00 UTC");
	time_t opens = 0;
	int d;

	(void)state;
	assert_true(sla_window_open(&list, MON(10, 30), NULL));
	assert_true(sla_window_open(&list, MON(10, 30) + 2 * 86400, NULL));
	assert_false(sla_window_open(&list, MON(10, 30) + 86400, &opens));
	assert_int_equal(opens, MON(10, 0) + 2 * 86400); /* Wednesday */

	/* Fri-Mon wraps round the week: Fri, Sat, Sun, Mon. */
	assert_true(sla_window_open(&range, FRI(10, 30), NULL));
	assert_true(sla_window_open(&range, SAT(10, 30), NULL));
	assert_true(sla_window_open(&range, SUN(10, 30), NULL));
	assert_true(sla_window_open(&range, MON(10, 30), NULL));
	assert_false(sla_window_open(&range, MON(10, 30) + 86400, &opens));
	assert_int_equal(opens, FRI(10, 0) + 7 * 86400);

	for (d = 0; d < 7; d++) {
		assert_true(
		    sla_window_open(&daily, MON(10, 0) + d * 86400, NULL));
		assert_false(
		    sla_window_open(&daily, MON(11, 0) + d * 86400, NULL));
	}
}

static void
test_window_wrapping_midnight(void **state)
{
	struct xdc_window w = window("Mon-Fri 22:00-02:00 UTC");
	time_t opens = 0;

	(void)state;
	assert_true(sla_window_open(&w, FRI(23, 0), NULL));
	/* Friday's window closes on Saturday at 02:00. */
	assert_true(sla_window_open(&w, SAT(1, 59), NULL));
	assert_false(sla_window_open(&w, SAT(2, 0), &opens));
	assert_int_equal(opens, MON(22, 0));
	/* Sunday's early hours belong to no window: Saturday is not listed. */
	assert_false(sla_window_open(&w, SUN(1, 0), NULL));
	/* Nor do Monday's: Sunday is not listed. */
	assert_false(sla_window_open(&w, MON(1, 0), &opens));
	assert_int_equal(opens, MON(22, 0));
	/* Up to midnight and beyond. */
	assert_true(sla_window_open(&w, MON(23, 59), NULL));
	assert_true(sla_window_open(&w, MON(23, 59) + 120, NULL));
}

static void
test_window_ending_at_midnight(void **state)
{
	struct xdc_window w = window("Sat 22:00-24:00 UTC");
	time_t opens = 0;

	(void)state;
	assert_true(sla_window_open(&w, SAT(23, 59), NULL));
	assert_false(sla_window_open(&w, SUN(0, 0), &opens));
	assert_int_equal(opens, SAT(22, 0) + 7 * 86400);
}

/* ---- Windows in the plan ---------------------------------------------- */

/*
 * VM web (line 1) under SLA gold, whose window is on line 12 of test.yaml
 * and which sets cpu.weight on line 10; a second VM, new, under gold too.
 */
#define WINDOW_YAML                                                            \
	"kind: VM\nname: web\nlabels: {tier: web}\nmemory: 1GiB\n"             \
	"kernel: /boot/vmlinuz\n---\n"                                         \
	"kind: SLA\nname: gold\nselector: {tier: web}\n"                       \
	"cpu: {weight: 512}\n"                                                 \
	"maintenance:\n  window: \"Sat 02:00-04:00 UTC\"\n---\n"               \
	"kind: VM\nname: new\nlabels: {tier: web}\nmemory: 1GiB\n"             \
	"kernel: /boot/vmlinuz\n"

/* web's domain needs a replace (its kernel changed). */
static struct fx *
window_fx(time_t now)
{
	struct fx *fx = fx_new(WINDOW_YAML);
	struct xdc_obs_domain *d;

	fx_hosts(fx);
	d = fx_managed(fx, XDC_LOCAL_HOST, "web");
	d->od_build.ob_kernel = "/boot/vmlinuz-old";
	d->od_hash ^= 1;
	fx->now = now;
	return fx;
}

static void
test_window_defers_disruptive_action_outside(void **state)
{
	struct fx *fx = window_fx(FX_NOW); /* a Tuesday */
	const char *why;

	(void)state;
	fx_plan(fx);
	assert_int_equal(fx_find(fx, XDC_OP_REPLACE, "web", NULL), -1);
	assert_int_equal(plan_ndeferred(fx->plan), 1);
	why = fx_held(fx, XDC_OP_REPLACE, "web", XDC_LOCAL_HOST);
	assert_contains(why, "test.yaml:12 (sla gold: maintenance.window)");
	assert_contains(why, "next opens 2023-11-18T02:00Z");
	fx_free(fx);
}

static void
test_window_lets_disruptive_action_run_inside(void **state)
{
	struct fx *fx = window_fx(utc(2023, 11, 18, 3, 0));
	size_t i;

	(void)state;
	fx_plan(fx);
	i = fx_action(fx, XDC_OP_REPLACE, "web", XDC_LOCAL_HOST);
	assert_true(plan_action(fx->plan, i)->a_disruptive);
	assert_int_equal(plan_ndeferred(fx->plan), 0);
	fx_free(fx);
}

static void
test_window_never_holds_updates_or_creates(void **state)
{
	struct fx *fx = fx_new(WINDOW_YAML);

	(void)state;
	fx_hosts(fx);
	fx_managed(fx, XDC_LOCAL_HOST, "web")->od_weight = XDC_DEFAULT_WEIGHT;
	fx_plan(fx); /* outside the window */
	fx_action(fx, XDC_OP_UPDATE, "web", XDC_LOCAL_HOST);
	fx_action(fx, XDC_OP_CREATE, "new", XDC_LOCAL_HOST);
	assert_int_equal(plan_ndeferred(fx->plan), 0);
	fx_free(fx);
}

/* ---- min_running ------------------------------------------------------ */

#define ROLLING_VM(n)                                                          \
	"kind: VM\nname: " n "\nlabels: {tier: web}\nmemory: 1GiB\n"           \
	"kernel: /boot/vmlinuz\n---\n"

static void
test_min_running_lets_one_replace_through(void **state)
{
	struct fx *fx = fx_new(ROLLING_VM("web-1") ROLLING_VM("web-2")
	        ROLLING_VM("web-3") "kind: SLA\nname: gold\n"
	                            "selector: {tier: web}\navailability:\n  "
	                            "min_running: 2\n");
	struct xdc_obs_domain *d;
	const char *names[] = { "web-1", "web-2", "web-3" };
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
	assert_int_equal(fx_count(fx, XDC_OP_REPLACE, XDC_OBJ_VM), 1);
	assert_int_equal(plan_count(fx->plan), 1);
	assert_int_equal(plan_ndeferred(fx->plan), 2);
	def = json_object_get(fx_json(fx), "deferred");
	json_array_foreach(def, i, o)
	{
		assert_string_equal(
		    json_string_value(json_object_get(o, "op")), "replace");
		assert_contains(json_string_value(json_object_get(o, "held")),
		    "test.yaml:23 (sla gold: min_running 2): 3 of its 3 VMs "
		    "run");
	}
	fx_free(fx);
}

static void
test_min_running_counts_only_running_vms(void **state)
{
	struct fx *fx = fx_new(ROLLING_VM("web-1")
	        ROLLING_VM("web-2") "kind: SLA\nname: gold\n"
	                            "selector: {tier: web}\navailability:\n  "
	                            "min_running: 1\n");
	struct xdc_obs_domain *d;

	(void)state;
	fx_hosts(fx);
	/* web-1 is paused: only web-2 runs, and it may not be stopped. */
	d = fx_managed(fx, XDC_LOCAL_HOST, "web-1");
	d->od_state = XDC_DOM_PAUSED;
	d = fx_managed(fx, XDC_LOCAL_HOST, "web-2");
	d->od_max_vcpus = 2;
	fx_plan(fx);
	assert_int_equal(fx_find(fx, XDC_OP_REPLACE, "web-2", NULL), -1);
	assert_contains(fx_held(fx, XDC_OP_REPLACE, "web-2", XDC_LOCAL_HOST),
	    "1 of its 2 VMs run");
	fx_free(fx);
}

/* ---- Protect ---------------------------------------------------------- */

static void
test_protect_holds_replace(void **state)
{
	struct fx *fx = fx_new("kind: VM\nname: db\nmemory: 1GiB\n"
	                       "kernel: /boot/vmlinuz\nprotect: true\n");
	struct xdc_obs_domain *d;

	(void)state;
	fx_hosts(fx);
	d = fx_managed(fx, XDC_LOCAL_HOST, "db");
	d->od_max_memory = 2 * GIB;
	fx_plan(fx);
	assert_int_equal(plan_count(fx->plan), 0);
	assert_int_equal(plan_ndeferred(fx->plan), 1);
	assert_contains(fx_held(fx, XDC_OP_REPLACE, "db", XDC_LOCAL_HOST),
	    "db is protected (test.yaml:5)");
	fx_free(fx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_plain_open_inside_closed_outside),
		cmocka_unit_test(test_window_next_opening),
		cmocka_unit_test(test_window_day_list_and_range),
		cmocka_unit_test(test_window_wrapping_midnight),
		cmocka_unit_test(test_window_ending_at_midnight),
		cmocka_unit_test(test_window_defers_disruptive_action_outside),
		cmocka_unit_test(test_window_lets_disruptive_action_run_inside),
		cmocka_unit_test(test_window_never_holds_updates_or_creates),
		cmocka_unit_test(test_min_running_lets_one_replace_through),
		cmocka_unit_test(test_min_running_counts_only_running_vms),
		cmocka_unit_test(test_protect_holds_replace),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
