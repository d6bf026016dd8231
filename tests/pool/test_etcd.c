/*
 * The etcd client's transport (pool/etcd.c) where no etcd is needed: the
 * endpoint list, failures that name the endpoint, time limits that the
 * event loop keeps without blocking, cancelling, and a watch's backoff.
 * What needs a real etcd is in tests/etcd.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/error.h"
#include "base/ev.h"
#include "pool/etcd.h"

/* A loopback port, listening (silent: it never answers) or closed. */
static int
port(int listening, int *fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int s = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(s >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sin, &len), 0);
	if (listening) {
		assert_int_equal(listen(s, 16), 0);
		*fd = s;
	} else
		close(s);
	return ntohs(sin.sin_port);
}

static int
threads(void)
{
	char line[256];
	FILE *fp = fopen("/proc/self/status", "r");
	int n = -1;

	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	fclose(fp);
	return n;
}

struct outcome {
	int calls;
	int rc;
	char error[1024];
	int64_t at;
};

static void
done(struct etcd_req *req, const struct etcd_result *res, void *arg)
{
	struct outcome *o = arg;

	(void)req;
	o->calls++;
	o->rc = res->res_rc;
	o->at = xdc_ev_now();
	snprintf(o->error, sizeof(o->error), "%s",
	    res->res_error ? res->res_error : "");
}

static void
run_until(struct xdc_ev *ev, const int *flag, int64_t ms)
{
	int64_t end = xdc_ev_now() + ms;

	while (!*flag && xdc_ev_now() < end)
		xdc_ev_run_once(ev, 20);
}

static void
test_refuses_malformed_endpoint_lists(void **state)
{
	static const char *const bad[] = { "", "127.0.0.1:2379",
		"ftp://127.0.0.1:21", "http://", "https:///",
		"http://a:1,,http://b:2", "http://a:1?x" };
	struct xdc_ev *ev = xdc_ev_new();
	struct etcd_tls tls = { .tls_cacert = "/nonexistent/ca.pem" };
	struct etcd *c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(etcd_new(ev, bad[i], NULL, &c), XDC_ERR);
		assert_null(c);
		assert_non_null(strstr(xdc_error_last(), "etcd"));
	}
	assert_int_equal(etcd_new(ev, NULL, NULL, &c), XDC_ERR);
	assert_string_equal(xdc_error_last(), "etcd: no endpoint given");
	assert_int_equal(etcd_new(ev, "ftp://h:1", NULL, &c), XDC_ERR);
	assert_string_equal(xdc_error_last(),
	    "etcd endpoint 'ftp://h:1' is not an http:// or https:// URL");
	assert_int_equal(etcd_new(ev, "https://h:1", &tls, &c), XDC_ERR);
	assert_string_equal(xdc_error_last(),
	    "etcd CA certificate /nonexistent/ca.pem: No such file or "
	    "directory");

	assert_int_equal(
	    etcd_new(ev, " http://a:1/ , https://b:2", NULL, &c), 0);
	assert_string_equal(etcd_endpoint(c), "http://a:1");
	etcd_free(c);
	xdc_ev_free(ev);
}

static void
test_a_refused_call_names_the_endpoint_and_starts_no_thread(void **state)
{
	struct xdc_ev *ev = xdc_ev_new();
	struct outcome o = { 0 };
	struct etcd_stats st;
	struct etcd *c;
	char url[64], want[128];
	int before = threads();

	(void)state;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port(0, NULL));
	assert_int_equal(etcd_new(ev, url, NULL, &c), 0);
	assert_non_null(etcd_put(c, "xdc/a", "v", 1, 0, done, &o));
	assert_int_equal(o.calls, 0); /* never from inside the call */
	run_until(ev, &o.calls, 3000);
	assert_int_equal(o.calls, 1);
	assert_int_equal(o.rc, XDC_ERR);
	snprintf(want, sizeof(want), "etcd put 'xdc/a': %s: ", url);
	if (strncmp(o.error, want, strlen(want)) != 0)
		fail_msg("'%s' does not start with '%s'", o.error, want);
	etcd_stats(c, &st);
	assert_int_equal(st.st_requests, 1);
	assert_int_equal(st.st_errors, 1);
	assert_int_equal(st.st_failovers, 0);
	assert_int_equal(threads(), before);
	etcd_free(c);
	xdc_ev_free(ev);
}

static void
test_every_endpoint_is_tried_before_failing(void **state)
{
	struct xdc_ev *ev = xdc_ev_new();
	struct outcome o = { 0 };
	struct etcd_stats st;
	struct etcd *c;
	char a[64], b[64], list[160];

	(void)state;
	snprintf(a, sizeof(a), "http://127.0.0.1:%d", port(0, NULL));
	snprintf(b, sizeof(b), "http://127.0.0.1:%d", port(0, NULL));
	snprintf(list, sizeof(list), "%s,%s", a, b);
	assert_int_equal(etcd_new(ev, list, NULL, &c), 0);
	assert_non_null(etcd_range(c, "k", 0, done, &o));
	run_until(ev, &o.calls, 3000);
	assert_int_equal(o.calls, 1);
	assert_non_null(strstr(o.error, "every endpoint failed"));
	assert_non_null(strstr(o.error, a));
	assert_non_null(strstr(o.error, b));
	etcd_stats(c, &st);
	assert_int_equal(st.st_requests, 2);
	assert_int_equal(st.st_errors, 1);
	assert_true(st.st_failovers >= 1);
	etcd_free(c);
	xdc_ev_free(ev);
}

struct ticker {
	struct xdc_ev_timer *t;
	int64_t last, worst;
};

static void
tick(struct xdc_ev_timer *t, void *arg)
{
	struct ticker *k = arg;
	int64_t now = xdc_ev_now();

	if (now - k->last > k->worst)
		k->worst = now - k->last;
	k->last = now;
	xdc_ev_timer_in(t, 10);
}

static void
test_a_silent_etcd_times_out_without_blocking_the_loop(void **state)
{
	struct xdc_ev *ev = xdc_ev_new();
	struct outcome o = { 0 };
	struct ticker k = { 0 };
	struct etcd *c;
	char url[64];
	int64_t start;
	int fd;

	(void)state;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port(1, &fd));
	assert_int_equal(etcd_new(ev, url, NULL, &c), 0);
	etcd_set_timeouts(c, 1000, 100);
	k.t = xdc_ev_timer_new(ev, tick, &k);
	k.last = start = xdc_ev_now();
	xdc_ev_timer_in(k.t, 10);
	assert_non_null(etcd_lease_keepalive(c, 7, done, &o));
	run_until(ev, &o.calls, 3000);
	assert_int_equal(o.calls, 1);
	assert_non_null(strstr(o.error, url));
	assert_non_null(strstr(o.error, "lease keepalive '7'"));
	assert_non_null(strstr(o.error, "timed out"));
	assert_true(o.at - start >= 990);
	assert_true(o.at - start < 3000);
	/* The loop kept its 10 ms timer all along (give or take a busy CPU). */
	assert_true(k.worst < 500);
	xdc_ev_timer_free(k.t);
	etcd_free(c);
	close(fd);
	xdc_ev_free(ev);
}

static void
test_a_cancelled_call_never_calls_back(void **state)
{
	struct xdc_ev *ev = xdc_ev_new();
	struct outcome o = { 0 }, other = { 0 };
	struct etcd_req *req;
	struct etcd *c;
	char url[64];
	unsigned fds, timers;
	int fd, never = 0;

	(void)state;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port(1, &fd));
	assert_int_equal(etcd_new(ev, url, NULL, &c), 0);
	etcd_set_timeouts(c, 200, 100);
	req = etcd_range(c, "k", ETCD_PREFIX, done, &o);
	assert_non_null(etcd_range(c, "j", 0, done, &other));
	run_until(ev, &never, 50);
	etcd_req_cancel(req);
	run_until(ev, &never, 400);
	assert_int_equal(o.calls, 0);
	assert_int_equal(other.calls, 1);
	/* Nothing of the client is left on the loop once it is idle. */
	fds = xdc_ev_count(ev, &timers);
	assert_int_equal(fds, 0);
	assert_int_equal(timers, 0);
	etcd_free(c);
	close(fd);
	xdc_ev_free(ev);
}

static void
test_wait_returns_the_error_and_empty_keys_are_refused(void **state)
{
	struct xdc_ev *ev = xdc_ev_new();
	struct etcd *c;
	char url[64];

	(void)state;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port(0, NULL));
	assert_int_equal(etcd_new(ev, url, NULL, &c), 0);
	assert_null(etcd_put(c, "", "v", 1, 0, NULL, NULL));
	assert_string_equal(xdc_error_last(), "etcd: a key must not be empty");
	assert_int_equal(
	    etcd_wait(c, etcd_put(c, "", "v", 1, 0, NULL, NULL)), XDC_ERR);
	assert_int_equal(
	    etcd_wait(c, etcd_lease_grant(c, 5, NULL, NULL)), XDC_ERR);
	assert_non_null(strstr(xdc_error_last(), "etcd lease grant: "));
	assert_non_null(strstr(xdc_error_last(), url));
	etcd_free(c);
	xdc_ev_free(ev);
}

struct watched {
	int broken;
	int64_t first, last;
	char error[512];
};

static void
on_watch(struct etcd_watch *w, const struct etcd_watch_msg *m, void *arg)
{
	struct watched *s = arg;

	if (m->wm_kind != ETCD_WATCH_BROKEN)
		return;
	if (s->broken++ == 0)
		s->first = xdc_ev_now();
	s->last = xdc_ev_now();
	snprintf(s->error, sizeof(s->error), "%s", m->wm_error);
	if (s->broken == 4)
		etcd_watch_free(w); /* from its own callback */
}

static void
test_a_watch_backs_off_and_may_be_freed_from_its_callback(void **state)
{
	struct xdc_ev *ev = xdc_ev_new();
	struct watched s = { 0 };
	struct etcd_watch *w;
	struct etcd *c;
	char url[64];
	unsigned fds, timers;
	int never = 0;

	(void)state;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port(0, NULL));
	assert_int_equal(etcd_new(ev, url, NULL, &c), 0);
	assert_int_equal(etcd_watch(c, "", 0, 0, on_watch, &s, &w), XDC_ERR);
	assert_int_equal(
	    etcd_watch(c, "xdc/", ETCD_PREFIX, 0, on_watch, &s, &w), 0);
	run_until(ev, &never, 2500);
	/* 100, 200, 400 ms (and some jitter) between the four tries. */
	assert_int_equal(s.broken, 4);
	assert_true(s.last - s.first >= 700);
	assert_non_null(strstr(s.error, url));
	assert_non_null(strstr(s.error, "watch 'xdc/'"));
	fds = xdc_ev_count(ev, &timers);
	assert_int_equal(fds, 0);
	assert_int_equal(timers, 0);
	etcd_free(c);
	xdc_ev_free(ev);
}

static void
test_free_cancels_calls_and_watches_silently(void **state)
{
	struct xdc_ev *ev = xdc_ev_new();
	struct outcome o = { 0 };
	struct watched s = { 0 };
	struct etcd_watch *w;
	struct etcd *c;
	char url[64];
	unsigned fds, timers;
	int fd, never = 0;

	(void)state;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port(1, &fd));
	assert_int_equal(etcd_new(ev, url, NULL, &c), 0);
	assert_non_null(etcd_range(c, "k", 0, done, &o));
	assert_int_equal(etcd_watch(c, "k", 0, 0, on_watch, &s, &w), 0);
	run_until(ev, &never, 50);
	etcd_free(c);
	fds = xdc_ev_count(ev, &timers);
	assert_int_equal(fds, 0);
	assert_int_equal(timers, 0);
	assert_int_equal(o.calls, 0);
	assert_int_equal(s.broken, 0);
	close(fd);
	xdc_ev_free(ev);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refuses_malformed_endpoint_lists),
		cmocka_unit_test(
		    test_a_refused_call_names_the_endpoint_and_starts_no_thread),
		cmocka_unit_test(test_every_endpoint_is_tried_before_failing),
		cmocka_unit_test(
		    test_a_silent_etcd_times_out_without_blocking_the_loop),
		cmocka_unit_test(test_a_cancelled_call_never_calls_back),
		cmocka_unit_test(
		    test_wait_returns_the_error_and_empty_keys_are_refused),
		cmocka_unit_test(
		    test_a_watch_backs_off_and_may_be_freed_from_its_callback),
		cmocka_unit_test(test_free_cancels_calls_and_watches_silently),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
