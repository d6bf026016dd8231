/*
 * The executor (reconciler/exec.c) against a stand-in driver that records
 * what it was asked: dependencies first, a failure skips what depends on
 * it, the caller's hold and the pool's gate keep an action from the
 * driver (held, waiting, with the gate's reason, and what depends on a
 * waiting action waits too), SIGTERM abandons what has not started, and a
 * driver with submit/reap overlaps actions yet reports each once.
 */
#include "tests/planner/fixture.h"

#include "base/ev.h"
#include "reconciler/exec.h"

#define NET(n) "kind: Network\nname: " n "\n---\n"
#define VM(n, extra)                                                           \
	"kind: VM\nname: " n "\nmemory: 1GiB\nkernel: /k\n" extra "---\n"
#define LAN_NIC "nics: [{network: lan}]\n"

struct fake {
	struct xdc_driver drv;
	char *asked[16]; /* names, in the order the driver got them */
	size_t nasked;
	const char *fail; /* this name fails */
	int end_fails;    /* end(), the batch's last step, fails */
	/* submit/reap: what was submitted and not yet reaped */
	uint64_t tokens[16];
	size_t ntokens;
};

struct seen {
	enum exec_status st[16];
	char *msg[16];
	int reports[16];
	const char *gate_name; /* the gate holds this one back */
	const char *hold_name; /* the caller holds this one */
	const struct xdc_plan *plan;
};

static int
fake_apply(struct xdc_driver *drv, const struct xdc_action *a)
{
	struct fake *f = (struct fake *)drv;

	f->asked[f->nasked++] = xdc_strdup(a->a_name);
	if (f->fail != NULL && !strcmp(a->a_name, f->fail))
		return xdc_error(XDC_EDRIVER, "%s: it broke", a->a_name);
	return 0;
}

static int
fake_submit(struct xdc_driver *drv, const struct xdc_action *a, uint64_t tok)
{
	struct fake *f = (struct fake *)drv;

	f->asked[f->nasked++] = xdc_strdup(a->a_name);
	f->tokens[f->ntokens++] = tok;
	return 0;
}

static int
fake_reap(struct xdc_driver *drv, uint64_t *tok, int *result, char **msg)
{
	struct fake *f = (struct fake *)drv;

	if (f->ntokens == 0)
		return XDC_ENOTFOUND;
	*tok = f->tokens[--f->ntokens];
	*result = 0;
	*msg = NULL;
	return 0;
}

static int
fake_begin(struct xdc_driver *drv)
{
	(void)drv;
	return 0;
}

static int
fake_end(struct xdc_driver *drv)
{
	struct fake *f = (struct fake *)drv;

	if (f->end_fails)
		return xdc_error(XDC_ERR, "pool.json: cannot write: disk full");
	return 0;
}

static void
fake_free(struct xdc_driver *drv)
{
	(void)drv;
}

static int
fake_observe(struct xdc_driver *drv, struct xdc_observed **out)
{
	(void)drv;
	(void)out;
	return xdc_error(XDC_EDRIVER, "not here");
}

static void
fake_init(struct fake *f, int overlap)
{
	memset(f, 0, sizeof(*f));
	f->drv.version = XDC_DRIVER_VERSION;
	f->drv.name = "fake";
	f->drv.free = fake_free;
	f->drv.observe = fake_observe;
	f->drv.apply = fake_apply;
	f->drv.begin = fake_begin;
	f->drv.end = fake_end;
	if (overlap) {
		f->drv.submit = fake_submit;
		f->drv.reap = fake_reap;
	}
}

static void
fake_clear(struct fake *f)
{
	size_t i;

	for (i = 0; i < f->nasked; i++)
		free(f->asked[i]);
}

static void
report(void *arg, const struct exec *x, size_t i, enum exec_status st,
    const char *msg)
{
	struct seen *s = arg;

	(void)x;
	s->st[i] = st;
	s->reports[i]++;
	free(s->msg[i]);
	s->msg[i] = msg != NULL ? xdc_strdup(msg) : NULL;
}

static int
hold(void *arg, size_t i)
{
	struct seen *s = arg;

	return s->hold_name != NULL &&
	       !strcmp(plan_action(s->plan, i)->a_name, s->hold_name);
}

static int
gate(void *arg, size_t i, const char **why)
{
	struct seen *s = arg;

	if (s->gate_name == NULL ||
	    strcmp(plan_action(s->plan, i)->a_name, s->gate_name) != 0)
		return 0;
	*why = "lan is claimed by host xen-b";
	return 1;
}

static const struct exec_ops ops = {
	.eo_report = report,
	.eo_hold = hold,
	.eo_gate = gate,
};

/* Run the plan of fx through f until every action has its outcome. */
static void
run(struct fx *fx, struct fake *f, struct seen *s, int stop_first)
{
	struct exec_ops o = ops;
	struct xdc_ev *ev = xdc_ev_new();
	struct exec *x;

	o.eo_arg = s;
	s->plan = fx->plan;
	assert_int_equal(exec_new(&f->drv, fx->plan, NULL, &o, &x), 0);
	if (stop_first)
		exec_stop(x);
	assert_int_equal(exec_run(x, ev), 0);
	exec_free(x);
	xdc_ev_free(ev);
}

static size_t
asked_at(const struct fake *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->nasked; i++)
		if (!strcmp(f->asked[i], name))
			return i;
	return (size_t)-1;
}

static void
seen_clear(struct seen *s)
{
	size_t i;

	for (i = 0; i < 16; i++)
		free(s->msg[i]);
}

static struct fx *
lan_fx(void)
{
	struct fx *fx = fx_new(NET("lan") VM("web", LAN_NIC) VM("db", ""));

	fx_hosts(fx);
	fx_plan(fx);
	assert_int_equal(plan_count(fx->plan), 3);
	return fx;
}

static void
test_dependencies_first_and_failure_skips(void **state)
{
	struct fx *fx = lan_fx();
	struct fake f;
	struct seen s;
	size_t lan = fx_action(fx, XDC_OP_CREATE, "lan", XDC_LOCAL_HOST);
	size_t web = fx_action(fx, XDC_OP_CREATE, "web", XDC_LOCAL_HOST);
	size_t db = fx_action(fx, XDC_OP_CREATE, "db", XDC_LOCAL_HOST);

	(void)state;
	fake_init(&f, 0);
	memset(&s, 0, sizeof(s));
	f.fail = "lan";
	run(fx, &f, &s, 0);
	assert_int_equal(s.st[lan], EXEC_FAILED);
	assert_non_null(strstr(s.msg[lan], "it broke"));
	/* web needs lan: never given to the driver; db goes on. */
	assert_int_equal(s.st[web], EXEC_SKIPPED);
	assert_int_equal(asked_at(&f, "web"), (size_t)-1);
	assert_int_equal(s.st[db], EXEC_DONE);
	assert_int_equal(s.reports[lan] + s.reports[web] + s.reports[db], 3);
	fake_clear(&f);
	seen_clear(&s);
	fx_free(fx);
}

/*
 * A batch whose end fails (the sim's pool file not written) is an
 * error of the run, not a success: every action reported done would
 * otherwise be lost without a word.
 */
static void
test_a_batch_that_cannot_end_is_an_error(void **state)
{
	struct fx *fx = lan_fx();
	struct xdc_ev *ev = xdc_ev_new();
	struct exec_ops o = ops;
	struct exec *x;
	struct fake f;
	struct seen s;
	int overlap;

	(void)state;
	for (overlap = 0; overlap < 2; overlap++) {
		fake_init(&f, overlap);
		memset(&s, 0, sizeof(s));
		o.eo_arg = &s;
		s.plan = fx->plan;
		f.end_fails = 1;
		assert_int_equal(exec_new(&f.drv, fx->plan, NULL, &o, &x), 0);
		assert_int_equal(exec_run(x, ev), XDC_ERR);
		assert_non_null(strstr(xdc_error_last(), "cannot write"));
		exec_free(x);
		fake_clear(&f);
		seen_clear(&s);
	}
	xdc_ev_free(ev);
	fx_free(fx);
}

static void
test_gate_keeps_an_action_from_the_driver_with_its_reason(void **state)
{
	struct fx *fx = lan_fx();
	struct fake f;
	struct seen s;
	size_t lan = fx_action(fx, XDC_OP_CREATE, "lan", XDC_LOCAL_HOST);
	size_t web = fx_action(fx, XDC_OP_CREATE, "web", XDC_LOCAL_HOST);
	size_t db = fx_action(fx, XDC_OP_CREATE, "db", XDC_LOCAL_HOST);
	int overlap;

	(void)state;
	for (overlap = 0; overlap < 2; overlap++) {
		fake_init(&f, overlap);
		memset(&s, 0, sizeof(s));
		s.gate_name = "lan";
		run(fx, &f, &s, 0);
		assert_int_equal(s.st[lan], EXEC_WAITING);
		assert_string_equal(s.msg[lan], "lan is claimed by host xen-b");
		assert_int_equal(asked_at(&f, "lan"), (size_t)-1);
		/* What needs it waits too, and says for what. */
		assert_int_equal(s.st[web], EXEC_WAITING);
		assert_non_null(strstr(s.msg[web], "which waits"));
		assert_int_equal(asked_at(&f, "web"), (size_t)-1);
		assert_int_equal(s.st[db], EXEC_DONE);
		assert_int_equal(f.nasked, 1);
		fake_clear(&f);
		seen_clear(&s);
	}
	fx_free(fx);
}

static void
test_hold_comes_before_the_gate(void **state)
{
	struct fx *fx = lan_fx();
	struct fake f;
	struct seen s;
	size_t db = fx_action(fx, XDC_OP_CREATE, "db", XDC_LOCAL_HOST);

	(void)state;
	fake_init(&f, 0);
	memset(&s, 0, sizeof(s));
	s.hold_name = s.gate_name = "db";
	run(fx, &f, &s, 0);
	/* Held by backoff: the pool is not asked for a claim it won't use. */
	assert_int_equal(s.st[db], EXEC_HELD);
	assert_int_equal(asked_at(&f, "db"), (size_t)-1);
	fake_clear(&f);
	seen_clear(&s);
	fx_free(fx);
}

static void
test_stop_abandons_what_has_not_started(void **state)
{
	struct fx *fx = lan_fx();
	struct fake f;
	struct seen s;
	size_t i;

	(void)state;
	fake_init(&f, 1);
	memset(&s, 0, sizeof(s));
	run(fx, &f, &s, 1);
	assert_int_equal(f.nasked, 0);
	for (i = 0; i < plan_count(fx->plan); i++) {
		assert_int_equal(s.st[i], EXEC_ABANDONED);
		assert_int_equal(s.reports[i], 1);
	}
	fake_clear(&f);
	seen_clear(&s);
	fx_free(fx);
}

static void
test_overlapped_actions_are_each_reported_once(void **state)
{
	struct fx *fx = lan_fx();
	struct fake f;
	struct seen s;
	size_t i;

	(void)state;
	fake_init(&f, 1);
	memset(&s, 0, sizeof(s));
	run(fx, &f, &s, 0);
	assert_int_equal(f.nasked, 3);
	/* lan before web, whatever the overlap. */
	assert_true(asked_at(&f, "lan") < asked_at(&f, "web"));
	for (i = 0; i < plan_count(fx->plan); i++) {
		assert_int_equal(s.st[i], EXEC_DONE);
		assert_int_equal(s.reports[i], 1);
	}
	fake_clear(&f);
	seen_clear(&s);
	fx_free(fx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dependencies_first_and_failure_skips),
		cmocka_unit_test(test_a_batch_that_cannot_end_is_an_error),
		cmocka_unit_test(
		    test_gate_keeps_an_action_from_the_driver_with_its_reason),
		cmocka_unit_test(test_hold_comes_before_the_gate),
		cmocka_unit_test(test_stop_abandons_what_has_not_started),
		cmocka_unit_test(
		    test_overlapped_actions_are_each_reported_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
