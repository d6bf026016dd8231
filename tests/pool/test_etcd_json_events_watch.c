/*
 * The watch stream's messages read as events (pool/etcd_json_events.c)
 * against the tree (jansson, etcd_decode_watch_tree), the reference: on
 * the lines a real etcd sent, on generated events of random keys and
 * binary values, on odd or erroneous lines (the tree's message whenever
 * the events give up) and on every mutation of a real event.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/arena.h"
#include "base/error.h"
#include "pool/etcd_json.h"
#include "tests/pool/etcd_gen.h"
#include "tests/pool/etcd_same.h"

/* As agree(), for one line of the watch stream. */
static int
agree_watch(const char *line, size_t len)
{
	struct xdc_arena *a = xdc_arena_new(), *b = xdc_arena_new();
	struct etcd_watch_msg got, want, ev;
	const char *diff;
	int rc;

	etcd_decode_watch_tree(line, len, b, &want);
	etcd_decode_watch(line, len, a, &got);
	if ((diff = etcd_watch_diff(&got, &want)) != NULL)
		fail_msg("'%.*s': etcd_decode_watch's %s differs from the "
		         "tree's ('%s' against '%s')",
		    (int)(len < 200 ? len : 200), line, diff,
		    got.wm_error ? got.wm_error : "",
		    want.wm_error ? want.wm_error : "");
	rc = etcd_decode_watch_events(line, len, a, &ev);
	if (rc == 0 && (diff = etcd_watch_diff(&ev, &want)) != NULL)
		fail_msg("'%.*s': the events' %s differs from the tree's",
		    (int)(len < 200 ? len : 200), line, diff);
	if (rc != 0)
		assert_true(ev.wm_kind == ETCD_WATCH_BROKEN &&
		            ev.wm_error == NULL && ev.wm_nevents == 0);
	xdc_arena_free(a);
	xdc_arena_free(b);
	return rc;
}

static void
test_events_read_recorded_watch_lines_as_the_tree_does(void **state)
{
	static const char *const files[] = { "watch-stream.txt",
		"watch-replay.txt", "watch-compacted.txt", "watch-badreq.txt",
		"watch-shutdown.txt" };
	char path[256], *body, *p, *nl;
	size_t i, len, read = 0, lines = 0;

	(void)state;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "tests/pool/data/%s", files[i]);
		body = slurp(path, &len);
		for (p = body; p < body + len; p = nl + 1) {
			if ((nl = memchr(p, '\n', (size_t)(body + len - p))) ==
			    NULL)
				nl = body + len;
			if (nl == p)
				continue;
			lines++;
			if (agree_watch(p, (size_t)(nl - p)) == 0)
				read++;
		}
		free(body);
	}
	/* Most are events, created and compaction: the events' to read. */
	assert_true(lines >= 10);
	assert_true(read >= lines / 2);
}

static void
watch_kv(struct sb *b, const char *name)
{
	static const char *const kv[] = { "key", "create_revision",
		"mod_revision", "version", "value", "lease", "x_new" };
	static const char *const types[] = { "\"PUT\"", "\"DELETE\"", "0", "1",
		"null" };

	if (strcmp(name, "type") == 0)
		sb_printf(b, "%s", types[rnd(5)]);
	else if (strcmp(name, "prev_kv") == 0 && rnd(4) == 0)
		sb_add(b, "null", 4);
	else
		object(b, kv, 7, kv_value);
}

static void
watch_result(struct sb *b, const char *name)
{
	static const char *const header[] = { "cluster_id", "member_id",
		"revision", "raft_term" };
	size_t i, n;
	uint32_t t;

	if (strcmp(name, "header") == 0)
		object(b, header, 4, header_value);
	else if (strcmp(name, "events") == 0) {
		sb_add(b, "[", 1);
		for (i = 0, n = rnd(4); i < n; i++) {
			if (i > 0)
				sb_add(b, ",", 1);
			/* An event has its kv: the others may be left out. */
			t = rnd(3);
			sb_add(b, "{", 1);
			if (t == 0) {
				key(b, "type");
				watch_kv(b, "type");
				sb_add(b, ",", 1);
			}
			key(b, "kv");
			watch_kv(b, "kv");
			if (rnd(2)) {
				sb_add(b, ",", 1);
				key(b, "prev_kv");
				watch_kv(b, "prev_kv");
			}
			if (t == 1) {
				sb_add(b, ",", 1);
				key(b, "type");
				watch_kv(b, "type");
			}
			sb_add(b, "}", 1);
		}
		sb_add(b, "]", 1);
	} else if (strcmp(name, "created") == 0)
		sb_printf(b, "%s", rnd(2) ? "true" : "false");
	else if (strcmp(name, "canceled") == 0)
		sb_add(b, "false", 5);
	else if (strcmp(name, "compact_revision") == 0)
		sb_printf(b, "\"%u\"", rnd(4) == 0 ? rnd(100) : 0);
	else
		unknown(b, 0);
}

static void
test_events_read_random_watch_lines_as_the_tree_does(void **state)
{
	static const char *const result[] = { "header", "events", "created",
		"canceled", "compact_revision", "watch_id", "fragment" };
	struct sb b = { 0 };
	size_t i, evs = 0;
	struct xdc_arena *a = xdc_arena_new();
	struct etcd_watch_msg m;

	(void)state;
	for (i = 0; i < 3000; i++) {
		b.len = 0;
		sb_add(&b, "{\"result\":", 10);
		object(&b, result, 7, watch_result);
		sb_add(&b, "}", 1);
		if (agree_watch(b.s, b.len) != 0)
			fail_msg("the events gave up on '%s'", b.s);
		xdc_arena_reset(a);
		etcd_decode_watch(b.s, b.len, a, &m);
		assert_true(m.wm_kind != ETCD_WATCH_BROKEN);
		evs += m.wm_nevents;
	}
	assert_true(evs > 1000);
	free(b.s);
	xdc_arena_free(a);
}

static void
test_odd_watch_lines_give_the_trees_message(void **state)
{
	static const struct {
		const char *line;
		int gives_up;
	} cases[] = {
		{ "{\"result\":{\"canceled\":true,\"cancel_reason\":\"gone\"}}",
		    1 },
		{ "{\"result\":{\"canceled\":true,\"compact_revision\":\"4\"}}",
		    0 },
		{ "{\"result\":{\"compact_revision\":\"4\",\"events\":[1]}}",
		    1 },
		{ "{\"error\":{\"grpc_code\":14,\"message\":\"no leader\"}}",
		    1 },
		{ "{\"result\":null}", 1 },
		{ "{\"result\":5}", 1 },
		{ "{\"header\":{\"revision\":\"3\"},\"created\":true}", 1 },
		{ "{\"x\":[],\"result\":{\"created\":true}}", 0 },
		{ "{\"result\":{},\"result\":{\"created\":true}}", 1 },
		{ "{\"result\":{\"events\":[{}]}}", 1 },
		{ "{\"result\":{\"events\":[{\"kv\":null}]}}", 1 },
		{ "{\"result\":{\"events\":[{\"kv\":{},\"type\":\"MOVE\"}]}}",
		    1 },
		{ "{\"result\":{\"events\":[{\"kv\":{},\"type\":2}]}}", 1 },
		{ "{\"result\":{\"events\":[{\"kv\":{},\"type\":true}]}}", 1 },
		{ "{\"result\":{\"events\":[{\"kv\":{},\"type\":\"put\"}]}}",
		    1 },
		{ "{\"result\":{\"events\":[{\"kv\":{},\"type\":1}]}}", 0 },
		{ "{\"result\":{\"events\":[{\"kv\":{},\"prev_kv\":[]}]}}", 1 },
		{ "{\"result\":{\"events\":[{\"kv\":{\"key\":\"!\"}}]}}", 1 },
		{ "{\"result\":{\"events\":[1]}}", 1 },
		{ "{\"result\":{\"events\":{}}}", 1 },
		{ "{\"result\":{\"events\":[],\"created\":1}}", 1 },
		{ "{\"result\":{\"events\":[],\"events\":[]}}", 1 },
		{ "{\"result\":{\"compact_revision\":1.0}}", 1 },
		{ "{\"result\":{\"header\":{\"revision\":\"9\"}}}", 0 },
		{ "{\"result\":{\"created\":true}} x", 1 },
		{ "{\"result\":{\"created\":true}}\"{s", 1 },
		{ "{\"result\":{\"created\":true}} nul", 1 },
		{ "{\"result\":{\"created\":true}}\r", 0 },
		{ "[]", 1 },
		{ "", 1 },
	};
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rc = agree_watch(cases[i].line, strlen(cases[i].line));
		if (rc != (cases[i].gives_up ? -1 : 0))
			fail_msg("'%s': the events %s", cases[i].line,
			    rc == 0 ? "read it" : "gave up");
	}
}

/* Every byte of a real event replaced, and every cut of it. */
static void
test_mutated_watch_lines_agree(void **state)
{
	static const char repl[] = "\\\"{}[],:0-.eExy =\v\f\n\t\001\200\303";
	char *body, *m, *nl;
	size_t len, i, j, read = 0;

	(void)state;
	body = slurp("tests/pool/data/watch-stream.txt", &len);
	/* The third line: an event with its prev_kv. */
	for (i = 0; i < 2; i++) {
		assert_non_null(nl = memchr(body, '\n', len));
		len -= (size_t)(nl + 1 - body);
		memmove(body, nl + 1, len);
	}
	assert_non_null(nl = memchr(body, '\n', len));
	len = (size_t)(nl - body);
	assert_non_null(strstr(body, "prev_kv"));
	m = xdc_malloc(len + 1);
	for (i = 0; i < len; i++) {
		for (j = 0; j < sizeof(repl); j++) {
			memcpy(m, body, len);
			m[i] = repl[j];
			if (agree_watch(m, len) == 0)
				read++;
		}
		agree_watch(body, i);
	}
	assert_true(read > 0);
	free(m);
	free(body);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_events_read_recorded_watch_lines_as_the_tree_does),
		cmocka_unit_test(
		    test_events_read_random_watch_lines_as_the_tree_does),
		cmocka_unit_test(test_odd_watch_lines_give_the_trees_message),
		cmocka_unit_test(test_mutated_watch_lines_agree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
