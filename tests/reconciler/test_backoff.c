/*
 * Backoff and restart limits (reconciler/backoff.c), driven by a clock of
 * the test's own: every time below is milliseconds the test chooses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "reconciler/backoff.h"

#define S  1000 /* ms */
#define T0 ((int64_t)1700000000 * S)

static int
setup(void **state)
{
	*state = backoff_new();
	return 0;
}

static int
teardown(void **state)
{
	backoff_free(*state);
	return 0;
}

static void
test_unknown_key_is_ready(void **state)
{
	struct backoff_info bi;

	assert_int_equal(
	    backoff_ready(*state, "create/VM/a/local", T0, &bi), 1);
	assert_int_equal(bi.bi_failures, 0);
	assert_int_equal(bi.bi_next, 0);
}

static void
test_first_failure_waits_one_second(void **state)
{
	struct backoff *b = *state;
	struct backoff_info bi;

	assert_true(backoff_fail(b, "k", "boom", T0) == T0 + 1 * S);
	assert_int_equal(backoff_ready(b, "k", T0 + 999, &bi), 0);
	assert_int_equal(bi.bi_failures, 1);
	assert_string_equal(bi.bi_error, "boom");
	assert_int_equal(backoff_ready(b, "k", T0 + 1 * S, NULL), 1);
}

static void
test_delay_doubles_then_caps(void **state)
{
	struct backoff *b = *state;
	static const int64_t want[] = { 1, 2, 4, 8, 16, 32, 64, 128, 256, 300,
		300, 300 };
	int64_t now = T0;
	size_t i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		int64_t next = backoff_fail(b, "k", "boom", now);

		assert_true(next - now == want[i] * S);
		now = next;
	}
	/* Many more failures never overflow past the cap. */
	for (i = 0; i < 100; i++)
		now = backoff_fail(b, "k", "boom", now);
	assert_true(backoff_fail(b, "k", "boom", now) - now == BACKOFF_CAP_MS);
}

static void
test_success_forgets(void **state)
{
	struct backoff *b = *state;
	struct backoff_info bi;

	backoff_fail(b, "k", "boom", T0);
	backoff_fail(b, "k", "boom", T0 + S);
	backoff_success(b, "k");
	assert_int_equal(backoff_ready(b, "k", T0 + S, &bi), 1);
	assert_int_equal(bi.bi_failures, 0);
	/* The next failure starts from one second again. */
	assert_true(backoff_fail(b, "k", "x", T0 + 2 * S) == T0 + 3 * S);
	assert_int_equal(backoff_count(b), 1);
}

static void
test_unrelated_keys_are_not_held(void **state)
{
	struct backoff *b = *state;

	backoff_fail(b, "create/VM/web-2/local", "boom", T0);
	assert_int_equal(
	    backoff_ready(b, "create/VM/web-2/local", T0, NULL), 0);
	assert_int_equal(
	    backoff_ready(b, "create/VM/web-1/local", T0, NULL), 1);
}

static void
test_next_is_the_earliest_future_retry(void **state)
{
	struct backoff *b = *state;

	assert_true(backoff_next(b, T0) == 0);
	backoff_fail(b, "a", "x", T0);          /* T0+1s */
	backoff_fail(b, "b", "x", T0 - 10 * S); /* T0-9s: past */
	backoff_fail(b, "c", "x", T0);
	backoff_fail(b, "c", "x", T0); /* T0+2s */
	assert_true(backoff_next(b, T0) == T0 + S);
	assert_true(backoff_next(b, T0 + S) == T0 + 2 * S);
	/* Nothing in the future: no timer, whatever is overdue. */
	assert_true(backoff_next(b, T0 + 2 * S) == 0);
}

static void
test_sweep_drops_keys_not_consulted(void **state)
{
	struct backoff *b = *state;

	backoff_fail(b, "kept", "x", T0);
	backoff_fail(b, "gone", "x", T0);
	backoff_sweep_begin(b);
	backoff_ready(b, "kept", T0, NULL);
	backoff_sweep_end(b, T0);
	assert_int_equal(backoff_count(b), 1);
	assert_int_equal(backoff_ready(b, "kept", T0, NULL), 0);
	assert_int_equal(backoff_ready(b, "gone", T0, NULL), 1);
}

static void
test_restart_without_limit_is_allowed(void **state)
{
	struct backoff *b = *state;
	int64_t next;
	int i;

	for (i = 0; i < 50; i++) {
		assert_int_equal(
		    backoff_restart_ready(b, "web-1", NULL, T0 + i, &next), 1);
		backoff_restart_done(b, "web-1", T0 + i);
	}
	assert_int_equal(backoff_restart_limited(b, T0 + 50), 0);
}

static void
test_restart_limit_holds_until_the_window_allows(void **state)
{
	struct backoff *b = *state;
	struct xdc_rate r = { 3, 3600 }; /* 3/1h */
	int64_t next;

	/* Three restarts at 0, 10 min, 20 min are allowed. */
	assert_int_equal(backoff_restart_ready(b, "web-1", &r, T0, &next), 1);
	backoff_restart_done(b, "web-1", T0);
	assert_int_equal(
	    backoff_restart_ready(b, "web-1", &r, T0 + 600 * S, &next), 1);
	backoff_restart_done(b, "web-1", T0 + 600 * S);
	assert_int_equal(
	    backoff_restart_ready(b, "web-1", &r, T0 + 1200 * S, &next), 1);
	backoff_restart_done(b, "web-1", T0 + 1200 * S);
	/* The fourth within the hour waits for the first to leave it. */
	assert_int_equal(
	    backoff_restart_ready(b, "web-1", &r, T0 + 1800 * S, &next), 0);
	assert_true(next == T0 + 3600 * S);
	assert_int_equal(backoff_restart_limited(b, T0 + 1800 * S), 1);
	assert_true(backoff_next(b, T0 + 1800 * S) == T0 + 3600 * S);
	/* Another VM has its own history. */
	assert_int_equal(
	    backoff_restart_ready(b, "web-2", &r, T0 + 1800 * S, &next), 1);
	/* Just before the hour: still held; at it: allowed. */
	assert_int_equal(
	    backoff_restart_ready(b, "web-1", &r, T0 + 3600 * S - 1, &next), 0);
	assert_int_equal(
	    backoff_restart_ready(b, "web-1", &r, T0 + 3600 * S, &next), 1);
	assert_int_equal(backoff_restart_limited(b, T0 + 3600 * S), 0);
	backoff_restart_done(b, "web-1", T0 + 3600 * S);
	/* Now 10 min, 20 min and 60 min are in the window: the next at 70. */
	assert_int_equal(
	    backoff_restart_ready(b, "web-1", &r, T0 + 3700 * S, &next), 0);
	assert_true(next == T0 + 4200 * S);
}

static void
test_restart_history_expires(void **state)
{
	struct backoff *b = *state;
	struct xdc_rate r = { 1, 60 };
	int64_t next;

	assert_int_equal(backoff_restart_ready(b, "web-1", &r, T0, &next), 1);
	backoff_restart_done(b, "web-1", T0);
	assert_int_equal(
	    backoff_restart_ready(b, "web-1", &r, T0 + 30 * S, &next), 0);
	/* A sweep after the period forgets the VM entirely. */
	backoff_sweep_begin(b);
	backoff_sweep_end(b, T0 + 61 * S);
	assert_int_equal(backoff_restart_limited(b, T0 + 30 * S), 0);
	assert_int_equal(
	    backoff_restart_ready(b, "web-1", &r, T0 + 61 * S, &next), 1);
}

static void
test_rate_fmt(void **state)
{
	char buf[BACKOFF_RATE_BUFSZ];
	struct xdc_rate r;

	(void)state;
	r.r_count = 5;
	r.r_period = 3600;
	assert_string_equal(backoff_rate_fmt(&r, buf), "5/1h");
	r.r_period = 90;
	assert_string_equal(backoff_rate_fmt(&r, buf), "5/90s");
	r.r_period = 86400 * 2;
	assert_string_equal(backoff_rate_fmt(&r, buf), "5/2d");
	r.r_period = 1800;
	assert_string_equal(backoff_rate_fmt(&r, buf), "5/30m");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_unknown_key_is_ready, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_first_failure_waits_one_second, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_delay_doubles_then_caps, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_success_forgets, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_unrelated_keys_are_not_held, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_next_is_the_earliest_future_retry, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_sweep_drops_keys_not_consulted, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_restart_without_limit_is_allowed, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_restart_limit_holds_until_the_window_allows, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_restart_history_expires, setup, teardown),
		cmocka_unit_test(test_rate_fmt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
