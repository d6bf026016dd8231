/*
 * A range read as it comes (pool/etcd_range.c, etcd_range_each) against
 * a fake etcd: a child process that answers each connection with the
 * next canned HTTP answer and tells the test what each request asked.
 * Every kv handed once and as the tree reads the answer; an answer the
 * reader gives up on early read whole by jansson, one it gives up on
 * late asked again at its revision; a cut answer, or an error, a failed
 * call whose kvs the caller was told to forget or never trusts.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/arena.h"
#include "base/error.h"
#include "base/ev.h"
#include "pool/etcd.h"
#include "pool/etcd_json.h"
#include "tests/pool/sb.h"
#include "tests/pool/etcd_same.h"

/* One canned answer: status, body, and how much of the body to send. */
struct canned {
	int status;
	const char *body;
	size_t len;
	size_t send; /* < len: the connection is closed there */
};

struct fake {
	pid_t pid;
	int port;
	int reqs; /* a pipe: each request's body, one a line */
};

static void
write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		/* Small pieces, so that the client reads many. */
		n = write(fd, p, len < 4000 ? len : 4000);
		if (n <= 0)
			_exit(3);
		p += n;
		len -= (size_t)n;
	}
}

/* The child: one connection per answer, in order, then it exits. */
static void
serve(int ls, int out, const struct canned *ans, size_t n)
{
	char buf[65536], hdr[256], *body;
	size_t i, got, clen;
	ssize_t k;
	int fd;

	for (i = 0; i < n; i++) {
		if ((fd = accept(ls, NULL, NULL)) < 0)
			_exit(3);
		got = 0;
		body = NULL;
		/* The headers, then Content-Length bytes of body. */
		while (got < sizeof(buf) - 1) {
			if ((k = read(fd, buf + got, sizeof(buf) - 1 - got)) <=
			    0)
				_exit(3);
			got += (size_t)k;
			buf[got] = '\0';
			if ((body = strstr(buf, "\r\n\r\n")) == NULL)
				continue;
			body += 4;
			clen = 0;
			if (strstr(buf, "Content-Length: ") != NULL)
				clen = strtoul(
				    strstr(buf, "Content-Length: ") + 16, NULL,
				    10);
			if ((size_t)(buf + got - body) >= clen)
				break;
		}
		write_all(out, body, strlen(body));
		write_all(out, "\n", 1);
		snprintf(hdr, sizeof(hdr),
		    "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
		    "Content-Length: %zu\r\nConnection: close\r\n\r\n",
		    ans[i].status, ans[i].len);
		write_all(fd, hdr, strlen(hdr));
		/* A pause every 32 kB: the client reads it in many turns. */
		for (got = 0; got < ans[i].send; got += clen) {
			clen = ans[i].send - got < 32768 ? ans[i].send - got
			                                 : 32768;
			write_all(fd, ans[i].body + got, clen);
			usleep(5000);
		}
		close(fd);
	}
	_exit(0);
}

static struct fake
fake_start(const struct canned *ans, size_t n)
{
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	struct fake f;
	int ls = socket(AF_INET, SOCK_STREAM, 0), p[2];

	assert_true(ls >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(ls, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(ls, (struct sockaddr *)&sin, &slen), 0);
	assert_int_equal(listen(ls, 16), 0);
	assert_int_equal(pipe(p), 0);
	f.port = ntohs(sin.sin_port);
	if ((f.pid = fork()) == 0) {
		close(p[0]);
		serve(ls, p[1], ans, n);
	}
	assert_true(f.pid > 0);
	close(ls);
	close(p[1]);
	f.reqs = p[0];
	return f;
}

/* What the fake was asked, one request a line; it is waited for. */
static char *
fake_end(struct fake *f)
{
	static char buf[65536];
	size_t got = 0;
	ssize_t k;

	kill(f->pid, SIGTERM);
	waitpid(f->pid, NULL, 0);
	while ((k = read(f->reqs, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)k;
	buf[got] = '\0';
	close(f->reqs);
	return buf;
}

/* What each and the callback saw. */
struct seen {
	struct xdc_arena *s_arena;
	struct etcd_kv s_kvs[2048]; /* since the last forget */
	size_t s_nkvs;
	int s_forgets;
	int s_done;
	struct etcd_result s_res;
	char s_error[1024];
};

static void
seen_kv(const struct etcd_kv *kv, void *arg)
{
	struct seen *s = arg;
	struct etcd_kv *c;

	assert_false(s->s_done);
	if (kv == NULL) {
		s->s_forgets++;
		s->s_nkvs = 0;
		return;
	}
	assert_true(s->s_nkvs < 2048);
	c = &s->s_kvs[s->s_nkvs++];
	*c = *kv;
	c->kv_key = xdc_arena_strndup(s->s_arena, kv->kv_key, kv->kv_key_len);
	c->kv_value = xdc_arena_alloc(s->s_arena, kv->kv_value_len + 1);
	memcpy(
	    (char *)(uintptr_t)c->kv_value, kv->kv_value, kv->kv_value_len + 1);
}

static void
seen_done(struct etcd_req *req, const struct etcd_result *res, void *arg)
{
	struct seen *s = arg;

	(void)req;
	s->s_done = 1;
	s->s_res = *res;
	snprintf(s->s_error, sizeof(s->s_error), "%s",
	    res->res_error ? res->res_error : "");
	s->s_res.res_error = NULL;
	s->s_res.res_endpoint = NULL;
}

/* A range of prefix "p/" against the fake's answers. */
static char *
range(const struct canned *ans, size_t n, struct seen *s)
{
	struct xdc_ev *ev = xdc_ev_new();
	struct etcd_op op = {
		.op_kind = ETCD_RANGE, .op_key = "p/", .op_flags = ETCD_PREFIX
	};
	struct fake f = fake_start(ans, n);
	struct etcd *c;
	char url[64];
	int64_t end;

	memset(s, 0, sizeof(*s));
	s->s_arena = xdc_arena_new();
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", f.port);
	assert_int_equal(etcd_new(ev, url, NULL, &c), 0);
	assert_non_null(etcd_range_each(c, &op, seen_kv, seen_done, s));
	end = xdc_ev_now() + 10000;
	while (!s->s_done && xdc_ev_now() < end)
		xdc_ev_run_once(ev, 20);
	assert_true(s->s_done);
	etcd_free(c);
	xdc_ev_free(ev);
	return fake_end(&f);
}

/* n kvs of 1,000-byte values at revision rev; the last value bad if bad. */
static char *
answer(size_t n, int64_t rev, int bad, size_t *len)
{
	struct sb b = { 0 };
	char v[1000], k[32], *sv, *sk;
	size_t i, j;

	sb_printf(&b, "{\"header\":{\"revision\":\"%lld\"},\"kvs\":[",
	    (long long)rev);
	for (i = 0; i < n; i++) {
		for (j = 0; j < sizeof(v); j++)
			v[j] = (char)(i + j * 3);
		snprintf(k, sizeof(k), "p/%05zu", i);
		sk = etcd_b64_encode(k, strlen(k));
		sv = etcd_b64_encode(v, sizeof(v));
		if (bad && i == n - 1)
			sv[0] = '!';
		sb_printf(&b,
		    "%s{\"key\":\"%s\",\"mod_revision\":\"%zu\",\"value\":\"",
		    i > 0 ? "," : "", sk, i + 2);
		sb_add(&b, sv, strlen(sv));
		sb_add(&b, "\"}", 2);
		free(sk);
		free(sv);
	}
	sb_printf(&b, "],\"count\":\"%zu\"}", n);
	*len = b.len;
	return b.s;
}

/* The kvs s was handed since its last forget are what the tree reads. */
static void
same_as_tree(const struct seen *s, const char *body, size_t len)
{
	struct xdc_arena *a = xdc_arena_new();
	struct etcd_result want;
	size_t i;

	assert_int_equal(
	    etcd_decode_tree(ETCD_RANGE, 200, body, len, a, &want), 0);
	assert_int_equal(s->s_nkvs, want.res_nkvs);
	for (i = 0; i < want.res_nkvs; i++)
		assert_true(etcd_same_kv(&s->s_kvs[i], &want.res_kvs[i]));
	assert_int_equal(s->s_res.res_count, want.res_count);
	xdc_arena_free(a);
}

static void
test_a_range_as_it_comes_hands_every_kv_once(void **state)
{
	struct canned ans[1];
	struct seen s;
	size_t len;
	char *body = answer(600, 41, 0, &len), *asked;

	(void)state;
	ans[0] = (struct canned){ 200, body, len, len };
	asked = range(ans, 1, &s);
	assert_int_equal(s.s_res.res_rc, 0);
	assert_int_equal(s.s_res.res_revision, 41);
	assert_int_equal(s.s_res.res_nkvs, 0);
	assert_null(s.s_res.res_kvs);
	assert_int_equal(s.s_forgets, 0);
	same_as_tree(&s, body, len);
	assert_null(strstr(asked, "revision"));
	xdc_arena_free(s.s_arena);
	free(body);
}

static void
test_a_range_given_up_late_is_asked_again_at_its_revision(void **state)
{
	struct canned ans[2];
	struct seen s;
	size_t blen, glen;
	char *bad = answer(600, 41, 1, &blen),
	     *good = answer(600, 57, 0, &glen);
	char *asked, *second;

	(void)state;
	ans[0] = (struct canned){ 200, bad, blen, blen };
	ans[1] = (struct canned){ 200, good, glen, glen };
	asked = range(ans, 2, &s);
	/* The first request as any, the second at the first's revision. */
	assert_non_null(second = strchr(asked, '\n'));
	assert_null(memmem(asked, (size_t)(second - asked), "revision", 8));
	if (strstr(second, "\"revision\":\"41\"") == NULL)
		fail_msg("not asked again at 41: %s", asked);
	assert_int_equal(s.s_res.res_rc, 0);
	/* The keys as of 41, the watch to resume after it. */
	assert_int_equal(s.s_res.res_revision, 41);
	assert_int_equal(s.s_forgets, 1);
	same_as_tree(&s, good, glen);
	xdc_arena_free(s.s_arena);
	free(bad);
	free(good);
}

static void
test_a_range_given_up_again_fails_with_the_trees_message(void **state)
{
	struct xdc_arena *a = xdc_arena_new();
	struct etcd_result want;
	struct canned ans[2];
	struct seen s;
	size_t len;
	char *bad = answer(600, 41, 1, &len);

	(void)state;
	ans[0] = ans[1] = (struct canned){ 200, bad, len, len };
	range(ans, 2, &s);
	assert_int_not_equal(s.s_res.res_rc, 0);
	etcd_decode_tree(ETCD_RANGE, 200, bad, len, a, &want);
	assert_non_null(want.res_error);
	assert_non_null(strstr(s.s_error, want.res_error));
	assert_int_equal(s.s_forgets, 1);
	xdc_arena_free(a);
	xdc_arena_free(s.s_arena);
	free(bad);
}

static void
test_a_range_given_up_early_is_read_whole_by_jansson(void **state)
{
	/* An escape the reader leaves to jansson, in the first bytes. */
	static const char body[] =
	    "{\"header\":{\"revision\":\"9\"},\"kvs\":[{\"key\":\"cC9h\","
	    "\"value\":\"YQ==\"},{\"key\":\"cC9i\",\"value\":\"Y\\u0051==\"}],"
	    "\"count\":\"2\"}";
	struct canned ans[1] = { { 200, body, sizeof(body) - 1,
	    sizeof(body) - 1 } };
	struct seen s;
	char *asked;

	(void)state;
	asked = range(ans, 1, &s);
	assert_int_equal(s.s_res.res_rc, 0);
	assert_int_equal(s.s_res.res_revision, 9);
	assert_int_equal(s.s_nkvs, 2);
	same_as_tree(&s, body, sizeof(body) - 1);
	/* Asked once. */
	assert_null(strchr(strchr(asked, '\n') + 1, '\n'));
	xdc_arena_free(s.s_arena);
}

static void
test_a_cut_range_or_an_error_fails(void **state)
{
	static const char err[] =
	    "{\"error\":\"etcdserver: too many requests\",\"code\":8,"
	    "\"message\":\"etcdserver: too many requests\"}";
	struct canned ans[1];
	struct seen s;
	size_t len;
	char *body = answer(600, 41, 0, &len);

	(void)state;
	/* Cut after 300 kB: some kvs were handed, the call fails. */
	ans[0] = (struct canned){ 200, body, len, 300000 };
	range(ans, 1, &s);
	assert_int_not_equal(s.s_res.res_rc, 0);
	assert_true(s.s_nkvs > 0);
	assert_non_null(strstr(s.s_error, "range 'p/'"));
	xdc_arena_free(s.s_arena);

	ans[0] = (struct canned){ 429, err, sizeof(err) - 1, sizeof(err) - 1 };
	range(ans, 1, &s);
	assert_int_not_equal(s.s_res.res_rc, 0);
	assert_int_equal(s.s_nkvs, 0);
	assert_non_null(strstr(s.s_error, "too many requests"));
	xdc_arena_free(s.s_arena);
	free(body);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_range_as_it_comes_hands_every_kv_once),
		cmocka_unit_test(
		    test_a_range_given_up_late_is_asked_again_at_its_revision),
		cmocka_unit_test(
		    test_a_range_given_up_again_fails_with_the_trees_message),
		cmocka_unit_test(
		    test_a_range_given_up_early_is_read_whole_by_jansson),
		cmocka_unit_test(test_a_cut_range_or_an_error_fails),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
