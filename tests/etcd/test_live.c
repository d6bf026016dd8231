/*
 * The etcd client (pool/etcd.c) against a real etcd-server, one member
 * that tests/etcd/run starts on loopback ports of its own. Everything
 * runs on one event loop, as in the agent: two clients racing for a key,
 * leases kept alive or left to expire, watches across a restart of etcd,
 * failover from a dead endpoint, TLS with the right and a wrong CA.
 *
 * From the environment: ETCD_URL, ETCD_DIR and ETCD_MEMBER (to restart
 * the member), ETCD_TLS_URL with ETCD_TLS_DIR (ca.pem, client.pem,
 * client-key.pem, other-ca.pem).
 */
#include <arpa/inet.h>
#include <inttypes.h>
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

static struct xdc_ev *ev;
static const char *url;

static const char *
env(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL || *v == '\0') {
		fprintf(stderr,
		    "test_live: %s is not set (see tests/etcd/run)\n", name);
		exit(2);
	}
	return v;
}

static struct etcd *
client(const char *endpoints, const struct etcd_tls *tls)
{
	struct etcd *c;

	if (etcd_new(ev, endpoints, tls, &c) < 0)
		fail_msg("etcd_new: %s", xdc_error_last());
	return c;
}

/* What a callback saw, copied out of the borrowed result. */
#define MAXKV 16
struct got {
	int done, rc, succeeded, more;
	char error[1024];
	char endpoint[128];
	int64_t revision, count, deleted, lease, ttl;
	size_t nkvs, nresp;
	char key[MAXKV][128], value[MAXKV][128];
	size_t value_len[MAXKV];
	int64_t create[MAXKV], mod[MAXKV], version[MAXKV], kvlease[MAXKV];
	enum etcd_kind resp_kind[4];
	char resp_value[4][128];
};

static void
got_cb(struct etcd_req *req, const struct etcd_result *res, void *arg)
{
	struct got *g = arg;
	size_t i;

	(void)req;
	memset(g, 0, sizeof(*g));
	g->done = 1;
	g->rc = res->res_rc;
	snprintf(g->error, sizeof(g->error), "%s",
	    res->res_error ? res->res_error : "");
	snprintf(g->endpoint, sizeof(g->endpoint), "%s",
	    res->res_endpoint ? res->res_endpoint : "");
	g->revision = res->res_revision;
	g->count = res->res_count;
	g->more = res->res_more;
	g->deleted = res->res_deleted;
	g->lease = res->res_lease;
	g->ttl = res->res_ttl;
	g->succeeded = res->res_succeeded;
	for (i = 0; i < res->res_nkvs && i < MAXKV; i++) {
		const struct etcd_kv *kv = &res->res_kvs[i];

		snprintf(g->key[i], sizeof(g->key[i]), "%s", kv->kv_key);
		memcpy(g->value[i], kv->kv_value,
		    kv->kv_value_len < 127 ? kv->kv_value_len : 127);
		g->value_len[i] = kv->kv_value_len;
		g->create[i] = kv->kv_create_revision;
		g->mod[i] = kv->kv_mod_revision;
		g->version[i] = kv->kv_version;
		g->kvlease[i] = kv->kv_lease;
	}
	g->nkvs = res->res_nkvs;
	for (i = 0; i < res->res_nresponses && i < 4; i++) {
		g->resp_kind[i] = res->res_responses[i].res_kind;
		if (res->res_responses[i].res_nkvs > 0)
			snprintf(g->resp_value[i], sizeof(g->resp_value[i]),
			    "%s", res->res_responses[i].res_kvs[0].kv_value);
	}
	g->nresp = res->res_nresponses;
}

/* Run a call to its end; the result is in g. */
static int
call(struct etcd *c, struct etcd_req *req, struct got *g)
{
	int rc;

	assert_non_null(req);
	rc = etcd_wait(c, req);
	assert_true(g->done);
	assert_int_equal(rc, g->rc);
	return rc;
}

static void
ok(struct etcd *c, struct etcd_req *req, struct got *g)
{
	if (call(c, req, g) != 0)
		fail_msg("%s", g->error);
}

static void
run_while(int (*pending)(void *), void *arg, int64_t ms)
{
	int64_t end = xdc_ev_now() + ms;

	while (pending(arg) && xdc_ev_now() < end)
		xdc_ev_run_once(ev, 50);
}

static void
run_for(int64_t ms)
{
	int64_t end = xdc_ev_now() + ms;

	while (xdc_ev_now() < end)
		xdc_ev_run_once(ev, (int)(end - xdc_ev_now()));
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

static void
test_put_range_delete(void **state)
{
	struct etcd *c = client(url, NULL);
	struct etcd_op op = { .op_kind = ETCD_RANGE,
		.op_key = "kv/",
		.op_flags = ETCD_PREFIX,
		.op_limit = 2 };
	struct got g;
	int64_t rev;

	(void)state;
	ok(c, etcd_put(c, "kv/a", "1", 1, 0, got_cb, &g), &g);
	assert_string_equal(g.endpoint, url);
	rev = g.revision;
	assert_true(rev > 0);
	ok(c, etcd_put(c, "kv/b", "\0two\377", 5, 0, got_cb, &g), &g);
	ok(c, etcd_put(c, "kv/c", "", 0, 0, got_cb, &g), &g);
	ok(c, etcd_put(c, "kw", "outside", 7, 0, got_cb, &g), &g);

	ok(c, etcd_range(c, "kv/a", 0, got_cb, &g), &g);
	assert_int_equal(g.nkvs, 1);
	assert_string_equal(g.key[0], "kv/a");
	assert_string_equal(g.value[0], "1");
	assert_int_equal(g.create[0], rev);
	assert_int_equal(g.mod[0], rev);
	assert_int_equal(g.version[0], 1);

	ok(c, etcd_range(c, "kv/", ETCD_PREFIX, got_cb, &g), &g);
	assert_int_equal(g.nkvs, 3);
	assert_int_equal(g.count, 3);
	assert_string_equal(g.key[1], "kv/b");
	assert_int_equal(g.value_len[1], 5);
	assert_memory_equal(g.value[1], "\0two\377", 5);
	assert_int_equal(g.value_len[2], 0);

	ok(c, etcd_do(c, &op, got_cb, &g), &g);
	assert_int_equal(g.nkvs, 2);
	assert_true(g.more);
	assert_int_equal(g.count, 3);
	op.op_limit = 0;
	op.op_flags = ETCD_PREFIX | ETCD_COUNT_ONLY;
	ok(c, etcd_do(c, &op, got_cb, &g), &g);
	assert_int_equal(g.nkvs, 0);
	assert_int_equal(g.count, 3);
	op.op_flags = 0;
	op.op_revision = rev; /* kv/a as of its creation */
	op.op_key = "kv/b";
	ok(c, etcd_do(c, &op, got_cb, &g), &g);
	assert_int_equal(g.nkvs, 0);

	ok(c, etcd_delete(c, "kv/", ETCD_PREFIX | ETCD_PREV_KV, got_cb, &g),
	    &g);
	assert_int_equal(g.deleted, 3);
	assert_int_equal(g.nkvs, 3);
	assert_string_equal(g.value[0], "1");
	ok(c, etcd_range(c, "kv/", ETCD_PREFIX, got_cb, &g), &g);
	assert_int_equal(g.nkvs, 0);
	assert_int_equal(g.count, 0);
	ok(c, etcd_range(c, "kw", 0, got_cb, &g), &g);
	assert_int_equal(g.nkvs, 1);
	ok(c, etcd_delete(c, "kw", 0, got_cb, &g), &g);
	assert_int_equal(g.deleted, 1);
	/* Libcurl's resolver never ran: an address, not a name. */
	assert_int_equal(threads(), 1);
	etcd_free(c);
}

static void
test_etcd_errors_name_the_endpoint_and_the_reason(void **state)
{
	struct etcd *c = client(url, NULL);
	struct got g;
	char want[256];

	(void)state;
	assert_int_equal(
	    call(c, etcd_put(c, "k", "v", 1, 12345, got_cb, &g), &g),
	    XDC_ENOTFOUND);
	snprintf(want, sizeof(want),
	    "etcd %s: put 'k': etcdserver: requested lease not found (HTTP "
	    "404, code 5 NotFound)",
	    url);
	assert_string_equal(g.error, want);
	assert_string_equal(xdc_error_last(), want);
	etcd_free(c);
}

/* Two agents claim one VM at the same instant: one wins. */
struct claim {
	struct got g;
	struct etcd_req *req;
};

static int
claims_pending(void *arg)
{
	struct claim *cl = arg;

	return !cl[0].g.done || !cl[1].g.done;
}

static void
claim(struct etcd *c, const char *key, const char *who, int64_t lease,
    struct claim *cl)
{
	struct etcd_cmp absent = { .cmp_key = key,
		.cmp_target = ETCD_CMP_CREATE,
		.cmp_result = ETCD_EQUAL };
	struct etcd_op put = { .op_kind = ETCD_PUT,
		.op_key = key,
		.op_value = who,
		.op_value_len = strlen(who),
		.op_lease = lease };
	struct etcd_op get = { .op_kind = ETCD_RANGE, .op_key = key };

	memset(&cl->g, 0, sizeof(cl->g));
	cl->req = etcd_txn(c, &absent, 1, &put, 1, &get, 1, got_cb, &cl->g);
	assert_non_null(cl->req);
}

static void
test_two_clients_racing_to_create_a_key_one_wins(void **state)
{
	struct etcd *a = client(url, NULL), *b = client(url, NULL);
	struct claim cl[2];
	struct got g;
	char key[64];
	int i, wins[2] = { 0, 0 }, w;
	int64_t lease;

	(void)state;
	ok(a, etcd_lease_grant(a, 30, got_cb, &g), &g);
	lease = g.lease;
	assert_true(lease != 0);
	for (i = 0; i < 20; i++) {
		snprintf(key, sizeof(key), "claims/vm%d", i);
		/* Who sends first alternates. */
		claim(i % 2 ? b : a, key, i % 2 ? "b" : "a", lease, &cl[i % 2]);
		claim(i % 2 ? a : b, key, i % 2 ? "a" : "b", lease,
		    &cl[1 - i % 2]);
		run_while(claims_pending, cl, 5000);
		assert_true(cl[0].g.done && cl[1].g.done);
		assert_int_equal(cl[0].g.rc, 0);
		assert_int_equal(cl[1].g.rc, 0);
		assert_int_equal(cl[0].g.succeeded + cl[1].g.succeeded, 1);
		w = cl[0].g.succeeded ? 0 : 1;
		wins[w]++;
		/* The loser's failure branch read the winner's claim. */
		assert_int_equal(cl[1 - w].g.nresp, 1);
		assert_int_equal(cl[1 - w].g.resp_kind[0], ETCD_RANGE);
		assert_string_equal(cl[1 - w].g.resp_value[0], w ? "b" : "a");
		assert_int_equal(cl[w].g.resp_kind[0], ETCD_PUT);
		ok(a, etcd_range(a, key, 0, got_cb, &g), &g);
		assert_string_equal(g.value[0], w ? "b" : "a");
		assert_int_equal(g.kvlease[0], lease);
	}
	assert_int_equal(wins[0] + wins[1], 20);
	/* Revoking the lease releases every claim under it. */
	ok(a, etcd_lease_revoke(a, lease, got_cb, &g), &g);
	ok(a, etcd_range(a, "claims/", ETCD_PREFIX, got_cb, &g), &g);
	assert_int_equal(g.count, 0);
	etcd_free(a);
	etcd_free(b);
}

static void
test_compare_and_swap_on_mod_revision(void **state)
{
	struct etcd *c = client(url, NULL);
	struct etcd_cmp cmp = { .cmp_key = "cas",
		.cmp_target = ETCD_CMP_MOD,
		.cmp_result = ETCD_EQUAL };
	struct etcd_cmp val = { .cmp_key = "cas",
		.cmp_target = ETCD_CMP_VALUE,
		.cmp_result = ETCD_EQUAL,
		.cmp_value = "two",
		.cmp_value_len = 3 };
	struct etcd_op put = { .op_kind = ETCD_PUT,
		.op_key = "cas",
		.op_value = "two",
		.op_value_len = 3 };
	struct etcd_op del = { .op_kind = ETCD_DELETE,
		.op_key = "cas",
		.op_flags = ETCD_PREV_KV };
	struct got g;
	int64_t rev;

	(void)state;
	ok(c, etcd_put(c, "cas", "one", 3, 0, got_cb, &g), &g);
	rev = g.revision;
	cmp.cmp_number = rev;
	ok(c, etcd_txn(c, &cmp, 1, &put, 1, NULL, 0, got_cb, &g), &g);
	assert_true(g.succeeded);
	/* The same swap again is stale now. */
	ok(c, etcd_txn(c, &cmp, 1, &put, 1, NULL, 0, got_cb, &g), &g);
	assert_false(g.succeeded);
	assert_int_equal(g.nresp, 0);
	cmp.cmp_result = ETCD_GREATER;
	ok(c, etcd_txn(c, &cmp, 1, &del, 1, NULL, 0, got_cb, &g), &g);
	assert_true(g.succeeded);
	ok(c, etcd_put(c, "cas", "two", 3, 0, got_cb, &g), &g);
	ok(c, etcd_txn(c, &val, 1, &del, 1, NULL, 0, got_cb, &g), &g);
	assert_true(g.succeeded);
	assert_int_equal(g.resp_kind[0], ETCD_DELETE);
	assert_string_equal(g.resp_value[0], "two");
	etcd_free(c);
}

/* A key under a lease, kept alive by one POST every 500 ms. */
struct keeper {
	struct etcd *k_etcd;
	struct xdc_ev_timer *k_timer;
	int64_t k_lease;
	int k_sent, k_ok, k_failed;
	int64_t k_min_ttl;
	struct got k_got;
};

static void
keeper_done(struct etcd_req *req, const struct etcd_result *res, void *arg)
{
	struct keeper *k = arg;

	(void)req;
	if (res->res_rc != 0) {
		k->k_failed++;
		return;
	}
	k->k_ok++;
	if (k->k_min_ttl == 0 || res->res_ttl < k->k_min_ttl)
		k->k_min_ttl = res->res_ttl;
}

static void
keeper_tick(struct xdc_ev_timer *t, void *arg)
{
	struct keeper *k = arg;

	k->k_sent++;
	assert_non_null(
	    etcd_lease_keepalive(k->k_etcd, k->k_lease, keeper_done, k));
	xdc_ev_timer_in(t, 500);
}

static int
key_present(struct etcd *c, const char *key)
{
	struct got g;

	ok(c, etcd_range(c, key, 0, got_cb, &g), &g);
	return g.nkvs == 1;
}

static void
test_a_lease_kept_alive_outlives_its_ttl_then_expires(void **state)
{
	struct etcd *c = client(url, NULL);
	struct keeper k = { 0 };
	struct etcd_stats st;
	struct got g;
	int64_t stopped, gone;

	(void)state;
	ok(c, etcd_lease_grant(c, 2, got_cb, &g), &g);
	assert_int_equal(g.ttl, 2);
	k.k_etcd = c;
	k.k_lease = g.lease;
	ok(c, etcd_put(c, "hosts/a", "up", 2, k.k_lease, got_cb, &g), &g);
	k.k_timer = xdc_ev_timer_new(ev, keeper_tick, &k);
	xdc_ev_timer_in(k.k_timer, 500);
	run_for(3500); /* past the TTL, 1.75 times over */
	assert_true(key_present(c, "hosts/a"));
	assert_true(k.k_ok >= 5);
	assert_int_equal(k.k_failed, 0);
	assert_int_equal(k.k_min_ttl, 2);
	etcd_stats(c, &st);
	assert_true(st.st_keepalive_rtt_us > 0);
	assert_true(st.st_keepalive_rtt_us < 1000000);

	/* The agent stops renewing: the key goes with the lease. */
	xdc_ev_timer_free(k.k_timer);
	stopped = xdc_ev_now();
	while (key_present(c, "hosts/a") && xdc_ev_now() - stopped < 8000)
		run_for(100);
	gone = xdc_ev_now() - stopped;
	assert_false(key_present(c, "hosts/a"));
	printf("# keepalive round trip %" PRId64 " us; the key went %" PRId64
	       " ms after the last renewal\n",
	    st.st_keepalive_rtt_us, gone);
	assert_true(gone >= 1000); /* not before its time */
	assert_int_equal(
	    call(c, etcd_lease_keepalive(c, k.k_lease, got_cb, &g), &g),
	    XDC_ENOTFOUND);
	assert_int_equal(g.ttl, 0);
	assert_non_null(strstr(g.error, "has expired or was revoked"));
	assert_int_equal(
	    call(c, etcd_lease_revoke(c, k.k_lease, got_cb, &g), &g),
	    XDC_ENOTFOUND);
	etcd_free(c);
}

/* What a watch delivered, in order. */
#define MAXEV 64
struct seen {
	int created, broken, compacted, progress;
	int64_t compact_rev, created_rev;
	size_t n;
	struct {
		enum etcd_event_type type;
		char key[64], value[64], prev[64];
		int has_prev;
		int64_t mod;
	} ev[MAXEV];
	char error[512];
	struct etcd *etcd; /* to re-read on compaction */
	int reread;
};

static void
seen_cb(struct etcd_watch *w, const struct etcd_watch_msg *m, void *arg)
{
	struct seen *s = arg;
	size_t i;

	(void)w;
	switch (m->wm_kind) {
	case ETCD_WATCH_CREATED:
		s->created++;
		s->created_rev = m->wm_revision;
		break;
	case ETCD_WATCH_BROKEN:
		s->broken++;
		snprintf(s->error, sizeof(s->error), "%s", m->wm_error);
		break;
	case ETCD_WATCH_COMPACTED:
		s->compacted++;
		s->compact_rev = m->wm_compact_revision;
		break;
	case ETCD_WATCH_PROGRESS:
		s->progress++;
		break;
	case ETCD_WATCH_EVENTS:
		for (i = 0; i < m->wm_nevents && s->n < MAXEV; i++, s->n++) {
			const struct etcd_event *e = &m->wm_events[i];

			s->ev[s->n].type = e->ev_type;
			snprintf(s->ev[s->n].key, 64, "%s", e->ev_kv.kv_key);
			snprintf(
			    s->ev[s->n].value, 64, "%s", e->ev_kv.kv_value);
			s->ev[s->n].has_prev = e->ev_prev_kv != NULL;
			if (e->ev_prev_kv != NULL)
				snprintf(s->ev[s->n].prev, 64, "%s",
				    e->ev_prev_kv->kv_value);
			s->ev[s->n].mod = e->ev_kv.kv_mod_revision;
		}
		break;
	}
}

static size_t want_events;
static int want_created;

static int
watch_pending(void *arg)
{
	struct seen *s = arg;

	return s->n < want_events || s->created < want_created;
}

static void
assert_event(struct seen *s, size_t i, enum etcd_event_type type,
    const char *key, const char *value, const char *prev)
{
	if (i >= s->n)
		fail_msg("event %zu of %zu missing", i, s->n);
	assert_int_equal(s->ev[i].type, type);
	assert_string_equal(s->ev[i].key, key);
	assert_string_equal(s->ev[i].value, value);
	if (prev == NULL)
		assert_false(s->ev[i].has_prev);
	else {
		assert_true(s->ev[i].has_prev);
		assert_string_equal(s->ev[i].prev, prev);
	}
	/* In revision order, never twice. */
	if (i > 0)
		assert_true(s->ev[i].mod > s->ev[i - 1].mod ||
		            (s->ev[i].mod == s->ev[i - 1].mod &&
		                strcmp(s->ev[i].key, s->ev[i - 1].key) != 0));
}

static void
test_a_watch_sees_puts_and_deletes(void **state)
{
	struct etcd *c = client(url, NULL);
	struct etcd_op b = { .op_kind = ETCD_PUT,
		.op_key = "w1/b",
		.op_value = "B",
		.op_value_len = 1 };
	struct etcd_op d = { .op_kind = ETCD_PUT,
		.op_key = "w1/c",
		.op_value = "C",
		.op_value_len = 1 };
	struct etcd_op both[2];
	struct etcd_watch *w;
	struct seen s = { 0 };
	struct got g;

	(void)state;
	ok(c, etcd_put(c, "w1/before", "x", 1, 0, got_cb, &g), &g);
	assert_int_equal(etcd_watch(c, "w1/", ETCD_PREFIX | ETCD_PREV_KV, 0,
	                     seen_cb, &s, &w),
	    0);
	want_events = 0;
	want_created = 1;
	run_while(watch_pending, &s, 5000);
	assert_int_equal(s.created, 1);
	assert_true(s.created_rev >= g.revision);
	assert_int_equal(etcd_watch_next_revision(w), s.created_rev + 1);

	ok(c, etcd_put(c, "w1/a", "one", 3, 0, got_cb, &g), &g);
	ok(c, etcd_put(c, "w1/a", "two", 3, 0, got_cb, &g), &g);
	ok(c, etcd_put(c, "w2", "not under the prefix", 20, 0, got_cb, &g), &g);
	ok(c, etcd_delete(c, "w1/a", 0, got_cb, &g), &g);
	both[0] = b;
	both[1] = d;
	ok(c, etcd_txn(c, NULL, 0, both, 2, NULL, 0, got_cb, &g), &g);
	want_events = 5;
	run_while(watch_pending, &s, 5000);
	assert_int_equal(s.n, 5);
	assert_event(&s, 0, ETCD_EVENT_PUT, "w1/a", "one", NULL);
	assert_event(&s, 1, ETCD_EVENT_PUT, "w1/a", "two", "one");
	assert_event(&s, 2, ETCD_EVENT_DELETE, "w1/a", "", "two");
	assert_event(&s, 3, ETCD_EVENT_PUT, "w1/b", "B", NULL);
	assert_event(&s, 4, ETCD_EVENT_PUT, "w1/c", "C", NULL);
	assert_int_equal(s.ev[3].mod, g.revision);
	assert_int_equal(etcd_watch_next_revision(w), g.revision + 1);
	assert_int_equal(s.broken, 0);
	etcd_watch_free(w);
	etcd_free(c);
}

static void
etcd_cmd(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = snprintf(cmd, sizeof(cmd),
	    "NO_PROXY='*' no_proxy='*'; export "
	    "NO_PROXY no_proxy; ");
	vsnprintf(cmd + n, sizeof(cmd) - (size_t)n, fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("failed: %s", cmd);
}

static void
test_a_watch_resumes_after_etcd_restarts_without_losing_events(void **state)
{
	const char *member = env("ETCD_MEMBER"), *dir = env("ETCD_DIR");
	struct etcd *c = client(url, NULL);
	struct etcd_watch *w;
	struct seen s = { 0 };
	struct got g;
	int64_t back;

	(void)state;
	assert_int_equal(
	    etcd_watch(c, "r/", ETCD_PREFIX, 0, seen_cb, &s, &w), 0);
	/* A watch from now sees what is put once it is created, not before. */
	want_events = 0;
	want_created = 1;
	run_while(watch_pending, &s, 5000);
	ok(c, etcd_put(c, "r/1", "a", 1, 0, got_cb, &g), &g);
	want_events = 1;
	run_while(watch_pending, &s, 5000);
	assert_int_equal(s.n, 1);

	/*
	 * etcd dies and comes back, and others write while this client's
	 * loop is not even running: the watch must catch up on those.
	 */
	etcd_cmd("%s kill %s && %s start %s >/dev/null && "
	         "etcdctl --endpoints=%s put r/2 b >/dev/null && "
	         "etcdctl --endpoints=%s put r/3 c >/dev/null && "
	         "etcdctl --endpoints=%s del r/1 >/dev/null",
	    member, dir, member, dir, url, url, url);
	want_events = 4;
	want_created = 2;
	back = xdc_ev_now();
	run_while(watch_pending, &s, 10000);
	printf("# the watch caught up %" PRId64 " ms after etcd was back: %s\n",
	    xdc_ev_now() - back, s.error);
	assert_true(s.broken >= 1);
	assert_non_null(strstr(s.error, url));
	assert_int_equal(s.created, 2);
	assert_int_equal(s.n, 4);
	assert_event(&s, 1, ETCD_EVENT_PUT, "r/2", "b", NULL);
	assert_event(&s, 2, ETCD_EVENT_PUT, "r/3", "c", NULL);
	assert_event(&s, 3, ETCD_EVENT_DELETE, "r/1", "", NULL);

	/* And it is live again. */
	ok(c, etcd_put(c, "r/4", "d", 1, 0, got_cb, &g), &g);
	want_events = 5;
	run_while(watch_pending, &s, 5000);
	assert_event(&s, 4, ETCD_EVENT_PUT, "r/4", "d", NULL);
	assert_int_equal(etcd_watch_next_revision(w), g.revision + 1);
	etcd_watch_free(w);
	etcd_free(c);
}

static void
reread_cb(struct etcd_req *req, const struct etcd_result *res, void *arg)
{
	struct etcd_watch *w = arg;

	(void)req;
	assert_int_equal(res->res_rc, 0);
	etcd_watch_resume(w, res->res_revision + 1);
}

static void
compacted_cb(struct etcd_watch *w, const struct etcd_watch_msg *m, void *arg)
{
	struct seen *s = arg;

	seen_cb(w, m, arg);
	/* Re-read what was lost, then watch on from there. */
	if (m->wm_kind == ETCD_WATCH_COMPACTED)
		assert_non_null(
		    etcd_range(s->etcd, "cp/", ETCD_PREFIX, reread_cb, w));
}

static void
test_a_compacted_watch_says_so_and_resumes_after_a_reread(void **state)
{
	struct etcd *c = client(url, NULL);
	struct etcd_watch *w;
	struct seen s = { 0 };
	struct got g;
	int64_t first;

	(void)state;
	s.etcd = c;
	ok(c, etcd_put(c, "cp/x", "1", 1, 0, got_cb, &g), &g);
	first = g.revision;
	ok(c, etcd_put(c, "cp/x", "2", 1, 0, got_cb, &g), &g);
	ok(c, etcd_put(c, "cp/x", "3", 1, 0, got_cb, &g), &g);
	etcd_cmd("etcdctl --endpoints=%s compact %" PRId64 " >/dev/null", url,
	    g.revision);
	assert_int_equal(
	    etcd_watch(c, "cp/", ETCD_PREFIX, first, compacted_cb, &s, &w), 0);
	want_events = 0;
	want_created = 2; /* the compacted stream, then the resumed one */
	run_while(watch_pending, &s, 5000);
	assert_int_equal(s.compacted, 1);
	assert_int_equal(s.compact_rev, g.revision);
	assert_int_equal(s.n, 0);
	assert_int_equal(s.created, 2);
	ok(c, etcd_put(c, "cp/x", "4", 1, 0, got_cb, &g), &g);
	want_events = 1;
	run_while(watch_pending, &s, 5000);
	assert_int_equal(s.n, 1);
	assert_event(&s, 0, ETCD_EVENT_PUT, "cp/x", "4", NULL);
	etcd_watch_free(w);
	etcd_free(c);
}

static int
closed_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int s = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sin, &len), 0);
	close(s);
	return ntohs(sin.sin_port);
}

static void
test_a_dead_first_endpoint_fails_over_to_the_second(void **state)
{
	struct etcd *c;
	struct etcd_watch *w;
	struct etcd_stats st;
	struct seen s = { 0 };
	struct got g;
	char list[256], dead[64];

	(void)state;
	snprintf(dead, sizeof(dead), "http://127.0.0.1:%d", closed_port());
	snprintf(list, sizeof(list), "%s,%s", dead, url);
	c = client(list, NULL);
	assert_string_equal(etcd_endpoint(c), dead);
	ok(c, etcd_put(c, "fo/a", "1", 1, 0, got_cb, &g), &g);
	assert_string_equal(g.endpoint, url);
	assert_string_equal(etcd_endpoint(c), url); /* remembered */
	etcd_stats(c, &st);
	assert_int_equal(st.st_requests, 2);
	assert_int_equal(st.st_failovers, 1);
	assert_int_equal(st.st_errors, 0);
	ok(c, etcd_range(c, "fo/a", 0, got_cb, &g), &g);
	assert_string_equal(g.value[0], "1");
	etcd_stats(c, &st);
	assert_int_equal(st.st_requests, 3); /* straight to the live one */
	assert_true(st.st_bytes_sent > 0);
	assert_true(st.st_bytes_received > 0);
	assert_int_equal(
	    etcd_watch(c, "fo/", ETCD_PREFIX, 0, seen_cb, &s, &w), 0);
	want_events = 0;
	want_created = 1;
	run_while(watch_pending, &s, 5000);
	assert_int_equal(s.created, 1);
	assert_int_equal(s.broken, 0);
	etcd_watch_free(w);
	etcd_free(c);
}

static void
test_tls_with_the_right_ca_and_a_client_certificate(void **state)
{
	const char *tls_url = env("ETCD_TLS_URL"), *dir = env("ETCD_TLS_DIR");
	char ca[512], cert[512], key[512], other[512], want[256];
	struct etcd_tls tls = { ca, cert, key };
	struct etcd *c;
	struct got g;

	(void)state;
	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	snprintf(cert, sizeof(cert), "%s/client.pem", dir);
	snprintf(key, sizeof(key), "%s/client-key.pem", dir);
	snprintf(other, sizeof(other), "%s/other-ca.pem", dir);
	c = client(tls_url, &tls);
	ok(c, etcd_put(c, "tls/a", "secret", 6, 0, got_cb, &g), &g);
	ok(c, etcd_range(c, "tls/a", 0, got_cb, &g), &g);
	assert_string_equal(g.value[0], "secret");
	etcd_free(c);

	/* A server certificate that does not verify is an error. */
	tls.tls_cacert = other;
	c = client(tls_url, &tls);
	assert_int_equal(
	    call(c, etcd_range(c, "tls/a", 0, got_cb, &g), &g), XDC_ERR);
	snprintf(want, sizeof(want), "etcd range 'tls/a': %s: ", tls_url);
	if (strncmp(g.error, want, strlen(want)) != 0 ||
	    strstr(g.error, "certificate") == NULL)
		fail_msg("unexpected: %s", g.error);
	printf("# %s\n", g.error);
	etcd_free(c);

	/* etcd asks for a client certificate: none is refused. */
	tls.tls_cacert = ca;
	tls.tls_cert = tls.tls_key = NULL;
	c = client(tls_url, &tls);
	assert_int_equal(
	    call(c, etcd_range(c, "tls/a", 0, got_cb, &g), &g), XDC_ERR);
	assert_non_null(strstr(g.error, tls_url));
	printf("# %s\n", g.error);
	etcd_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_range_delete),
		cmocka_unit_test(
		    test_etcd_errors_name_the_endpoint_and_the_reason),
		cmocka_unit_test(
		    test_two_clients_racing_to_create_a_key_one_wins),
		cmocka_unit_test(test_compare_and_swap_on_mod_revision),
		cmocka_unit_test(
		    test_a_lease_kept_alive_outlives_its_ttl_then_expires),
		cmocka_unit_test(test_a_watch_sees_puts_and_deletes),
		cmocka_unit_test(
		    test_a_watch_resumes_after_etcd_restarts_without_losing_events),
		cmocka_unit_test(
		    test_a_compacted_watch_says_so_and_resumes_after_a_reread),
		cmocka_unit_test(
		    test_a_dead_first_endpoint_fails_over_to_the_second),
		cmocka_unit_test(
		    test_tls_with_the_right_ca_and_a_client_certificate),
	};
	int rc;

	url = env("ETCD_URL");
	ev = xdc_ev_new();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	xdc_ev_free(ev);
	return rc;
}
