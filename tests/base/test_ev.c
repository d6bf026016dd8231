/*
 * The event loop (base/ev.c): fds and timers served by one poll(), in
 * deadline order, and watchers or timers deleted by a callback never
 * called again.
 */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/ev.h"

struct rec {
	char log[64];
	size_t n;
	struct xdc_ev_timer *other;
	struct xdc_ev_io *other_io;
};

static void
note(struct rec *r, char c)
{
	if (r->n < sizeof(r->log) - 1)
		r->log[r->n++] = c;
}

static void
on_a(struct xdc_ev_timer *t, void *arg)
{
	(void)t;
	note(arg, 'a');
}

static void
on_b(struct xdc_ev_timer *t, void *arg)
{
	(void)t;
	note(arg, 'b');
}

static void
test_timers_fire_in_deadline_order(void **state)
{
	struct xdc_ev *ev = xdc_ev_new();
	struct rec r;
	struct xdc_ev_timer *a, *b;
	int64_t t0 = xdc_ev_now();

	(void)state;
	memset(&r, 0, sizeof(r));
	a = xdc_ev_timer_new(ev, on_a, &r);
	b = xdc_ev_timer_new(ev, on_b, &r);
	xdc_ev_timer_in(a, 40);
	xdc_ev_timer_in(b, 20);
	while (r.n < 2)
		assert_true(xdc_ev_run_once(ev, -1) >= 0);
	assert_string_equal(r.log, "ba");
	/* Not before its deadline. */
	assert_true(xdc_ev_now() - t0 >= 40);
	assert_false(xdc_ev_timer_armed(a));
	xdc_ev_free(ev);
}

static void
test_timeout_zero_does_not_wait(void **state)
{
	struct xdc_ev *ev = xdc_ev_new();
	struct rec r;
	struct xdc_ev_timer *a;
	int64_t t0 = xdc_ev_now();

	(void)state;
	memset(&r, 0, sizeof(r));
	a = xdc_ev_timer_new(ev, on_a, &r);
	xdc_ev_timer_in(a, 10000);
	assert_int_equal(xdc_ev_run_once(ev, 0), 0);
	assert_true(xdc_ev_now() - t0 < 1000);
	assert_int_equal(r.n, 0);
	xdc_ev_free(ev);
}

static void
on_read(struct xdc_ev_io *io, int fd, short re, void *arg)
{
	char c;

	(void)io;
	assert_true(re & POLLIN);
	assert_int_equal(read(fd, &c, 1), 1);
	note(arg, c);
}

static void
test_fd_readable_calls_back(void **state)
{
	struct xdc_ev *ev = xdc_ev_new();
	struct rec r;
	int p[2];

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_int_equal(pipe(p), 0);
	xdc_ev_io_add(ev, p[0], POLLIN, on_read, &r);
	assert_int_equal(xdc_ev_run_once(ev, 0), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(xdc_ev_run_once(ev, 1000), 1);
	assert_string_equal(r.log, "x");
	xdc_ev_free(ev);
	close(p[0]);
	close(p[1]);
}

static void
test_paused_watch_is_not_called(void **state)
{
	struct xdc_ev *ev = xdc_ev_new();
	struct xdc_ev_io *io;
	struct rec r;
	int p[2];

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_int_equal(pipe(p), 0);
	io = xdc_ev_io_add(ev, p[0], POLLIN, on_read, &r);
	xdc_ev_io_set(io, 0);
	assert_int_equal(write(p[1], "y", 1), 1);
	assert_int_equal(xdc_ev_run_once(ev, 50), 0);
	xdc_ev_io_set(io, POLLIN);
	assert_int_equal(xdc_ev_run_once(ev, 1000), 1);
	assert_string_equal(r.log, "y");
	xdc_ev_free(ev);
	close(p[0]);
	close(p[1]);
}

/* A callback that deletes another watcher and frees another timer. */
static void
on_killer(struct xdc_ev_io *io, int fd, short re, void *arg)
{
	struct rec *r = arg;
	char c;

	(void)io;
	(void)re;
	assert_int_equal(read(fd, &c, 1), 1);
	note(r, 'k');
	xdc_ev_io_del(r->other_io);
	xdc_ev_timer_free(r->other);
}

static void
test_deleted_in_a_callback_is_never_called(void **state)
{
	struct xdc_ev *ev = xdc_ev_new();
	struct rec r;
	int p[2], q[2];
	unsigned armed;

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_int_equal(pipe(p), 0);
	assert_int_equal(pipe(q), 0);
	xdc_ev_io_add(ev, p[0], POLLIN, on_killer, &r);
	r.other_io = xdc_ev_io_add(ev, q[0], POLLIN, on_read, &r);
	r.other = xdc_ev_timer_new(ev, on_a, &r);
	xdc_ev_timer_in(r.other, 0);
	/* Both fds ready in the same round, and the timer due. */
	assert_int_equal(write(p[1], "1", 1), 1);
	assert_int_equal(write(q[1], "2", 1), 1);
	assert_int_equal(xdc_ev_run_once(ev, 1000), 1);
	assert_string_equal(r.log, "k");
	assert_int_equal(xdc_ev_count(ev, &armed), 1);
	assert_int_equal(armed, 0);
	xdc_ev_free(ev);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
}

static void
rearm(struct xdc_ev_timer *t, void *arg)
{
	struct rec *r = arg;

	note(r, 'r');
	if (r->n < 3)
		xdc_ev_timer_in(t, 1);
}

static void
test_timer_rearms_itself(void **state)
{
	struct xdc_ev *ev = xdc_ev_new();
	struct xdc_ev_timer *t;
	struct rec r;

	(void)state;
	memset(&r, 0, sizeof(r));
	t = xdc_ev_timer_new(ev, rearm, &r);
	xdc_ev_timer_in(t, 1);
	while (xdc_ev_timer_armed(t))
		assert_true(xdc_ev_run_once(ev, -1) >= 0);
	assert_string_equal(r.log, "rrr");
	xdc_ev_free(ev);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timers_fire_in_deadline_order),
		cmocka_unit_test(test_timeout_zero_does_not_wait),
		cmocka_unit_test(test_fd_readable_calls_back),
		cmocka_unit_test(test_paused_watch_is_not_called),
		cmocka_unit_test(test_deleted_in_a_callback_is_never_called),
		cmocka_unit_test(test_timer_rearms_itself),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
