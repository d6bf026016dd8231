/*
 * The range's answer read as events (pool/etcd_json_events.c) against
 * the tree (jansson, etcd_decode_tree), which stays the reference: on the
 * answers recorded from a real etcd, on generated answers of random keys
 * and binary values, on malformed ones (the same message as before, from
 * the tree, whenever the events give up) and on every mutation of a real
 * answer. And the table-driven base64 decoder against the bitwise one it
 * replaced. The range reader, which reads an answer as it comes, in
 * pieces: as whole, wherever the pieces are cut, and it gives up where
 * the whole reading does. The watch's messages:
 * test_etcd_json_events_watch.c.
 */
#include <dirent.h>
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
#include "tests/pool/etcd_pieces.h"
#include "tests/pool/etcd_same.h"

static const long statuses[] = { 200, 404, 500, 503 };

/* Pieces of random sizes; apart from rnd, whose answers stay the same. */
static uint64_t cut_rng = 0x9e3779b97f4a7c15ULL;

static size_t
cut_rnd(size_t n)
{
	cut_rng ^= cut_rng << 13;
	cut_rng ^= cut_rng >> 7;
	cut_rng ^= cut_rng << 17;
	return (size_t)(cut_rng % n);
}

/*
 * body read by the range reader in pieces (of one byte when short, else
 * of random sizes): it gives up where the whole reading does (whole_rc)
 * or reads what the tree does.
 */
static void
pieces_agree(
    const char *body, size_t len, int whole_rc, const struct etcd_result *want)
{
	struct xdc_arena *a = xdc_arena_new();
	struct etcd_result got;
	size_t *cuts = xdc_calloc(len + 1, sizeof(*cuts)), n = 0, at = 0;
	const char *diff;
	int rc;

	if (len <= 512)
		for (at = 1; at < len; at++)
			cuts[n++] = at;
	else
		while ((at += 1 + cut_rnd(700)) < len)
			cuts[n++] = at;
	rc = etcd_pieces_read(body, len, cuts, n, a, &got, NULL, NULL);
	if ((rc == 0) != (whole_rc == 0))
		fail_msg("'%.*s': in %zu pieces the reader %s, whole it %s",
		    (int)(len < 200 ? len : 200), body, n + 1,
		    rc == 0 ? "reads" : "gives up",
		    whole_rc == 0 ? "reads" : "gives up");
	if (rc == 0 && (diff = etcd_result_diff(&got, want)) != NULL)
		fail_msg("'%.*s': in %zu pieces the reader's %s differs from "
		         "the tree's",
		    (int)(len < 200 ? len : 200), body, n + 1, diff);
	free(cuts);
	xdc_arena_free(a);
}

/*
 * etcd_decode, and the events alone where they apply, must say what the
 * tree says. Returns the events' rc (0 read, -1 gave up), or 1 where they
 * do not apply.
 */
static int
agree(enum etcd_kind kind, long status, const char *body, size_t len)
{
	struct xdc_arena *a = xdc_arena_new(), *b = xdc_arena_new();
	struct etcd_result got, want, ev;
	const char *diff;
	int rc = 1;

	rc = etcd_decode_tree(kind, status, body, len, b, &want);
	assert_int_equal(rc, want.res_rc);
	rc = etcd_decode(kind, status, body, len, a, &got);
	assert_int_equal(rc, got.res_rc);
	rc = 1;
	if ((diff = etcd_result_diff(&got, &want)) != NULL)
		fail_msg("kind %d, HTTP %ld, '%.*s': etcd_decode's %s differs "
		         "from the tree's ('%s' against '%s')",
		    kind, status, (int)(len < 200 ? len : 200), body, diff,
		    got.res_error ? got.res_error : "",
		    want.res_error ? want.res_error : "");
	if (kind == ETCD_RANGE && status == 200) {
		rc = etcd_decode_range_events(body, len, a, &ev);
		if (rc == 0 && (diff = etcd_result_diff(&ev, &want)) != NULL)
			fail_msg(
			    "'%.*s': the events' %s differs from the tree's",
			    (int)(len < 200 ? len : 200), body, diff);
		if (rc != 0)
			assert_int_equal(ev.res_nkvs, 0);
		pieces_agree(body, len, rc, &want);
	}
	xdc_arena_free(a);
	xdc_arena_free(b);
	return rc;
}

static void
test_events_read_recorded_answers_as_the_tree_does(void **state)
{
	static const char *const dirs[] = { "tests/pool/data",
		"tests/fuzz/corpus-etcd" };
	char path[512], *body;
	struct dirent *de;
	size_t d, j, len, ranges = 0;
	int kind;
	DIR *dir;

	(void)state;
	for (d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
		assert_non_null(dir = opendir(dirs[d]));
		while ((de = readdir(dir)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(
			    path, sizeof(path), "%s/%s", dirs[d], de->d_name);
			body = slurp(path, &len);
			for (kind = ETCD_RANGE; kind <= ETCD_LEASE_REVOKE;
			     kind++)
				for (j = 0; j < 4; j++)
					agree((enum etcd_kind)kind, statuses[j],
					    body, len);
			/* etcd's own range answers: the events read them. */
			if (strncmp(de->d_name, "range-", 6) == 0) {
				assert_int_equal(
				    agree(ETCD_RANGE, 200, body, len), 0);
				ranges++;
			}
			free(body);
		}
		closedir(dir);
	}
	assert_true(ranges >= 8);
}

static void
top_value(struct sb *b, const char *name)
{
	static const char *const kv[] = { "key", "create_revision",
		"mod_revision", "version", "value", "lease", "x_new" };
	static const char *const header[] = { "cluster_id", "member_id",
		"revision", "raft_term" };
	size_t i, n;

	if (strcmp(name, "header") == 0) {
		if (rnd(10) == 0)
			sb_add(b, "null", 4);
		else
			object(b, header, 4, header_value);
	} else if (strcmp(name, "kvs") == 0) {
		if (rnd(10) == 0) {
			sb_add(b, "null", 4);
			return;
		}
		sb_add(b, "[", 1);
		for (i = 0, n = rnd(12); i < n; i++) {
			if (i > 0)
				sb_add(b, ",", 1);
			ws(b);
			object(b, kv, 7, kv_value);
		}
		sb_add(b, "]", 1);
	} else if (strcmp(name, "count") == 0)
		i64(b);
	else if (strcmp(name, "more") == 0) {
		static const char *const m[] = { "true", "false", "null" };

		sb_printf(b, "%s", m[rnd(3)]);
	} else
		unknown(b, 0);
}

static void
test_events_read_random_answers_as_the_tree_does(void **state)
{
	static const char *const top[] = { "header", "kvs", "count", "more",
		"x_later", "message" };
	struct sb b = { 0 };
	size_t i, kvs = 0;
	struct xdc_arena *a = xdc_arena_new();
	struct etcd_result res;

	(void)state;
	for (i = 0; i < 3000; i++) {
		b.len = 0;
		ws(&b);
		object(&b, top, 6, top_value);
		ws(&b);
		/* Every one of them is the events' to read. */
		if (agree(ETCD_RANGE, 200, b.s, b.len) != 0)
			fail_msg("the events gave up on '%s'", b.s);
		xdc_arena_reset(a);
		assert_int_equal(
		    etcd_decode(ETCD_RANGE, 200, b.s, b.len, a, &res), 0);
		kvs += res.res_nkvs;
	}
	assert_true(kvs > 10000);
	free(b.s);
	xdc_arena_free(a);
}

static void
test_events_read_every_byte_of_a_value(void **state)
{
	struct xdc_arena *a = xdc_arena_new();
	unsigned char v[256], k[3] = { 0xff, 0, 0x80 };
	struct etcd_result res;
	struct sb b = { 0 };
	char *sv, *sk;
	size_t i;

	(void)state;
	for (i = 0; i < 256; i++)
		v[i] = (unsigned char)(255 - i);
	sv = etcd_b64_encode(v, sizeof(v));
	sk = etcd_b64_encode(k, sizeof(k));
	sb_printf(&b, "{\"header\":{\"revision\":\"7\"},\"kvs\":[{\"key\":\"");
	sb_add(&b, sk, strlen(sk));
	sb_printf(&b, "\",\"value\":\"");
	sb_add(&b, sv, strlen(sv));
	sb_printf(&b, "\",\"lease\":\"-5\"}],\"count\":\"1\",\"more\":true}");
	assert_int_equal(etcd_decode_range_events(b.s, b.len, a, &res), 0);
	assert_int_equal(res.res_rc, 0);
	assert_null(res.res_error);
	assert_int_equal(res.res_revision, 7);
	assert_int_equal(res.res_count, 1);
	assert_int_equal(res.res_more, 1);
	assert_int_equal(res.res_nkvs, 1);
	assert_int_equal(res.res_kvs[0].kv_key_len, 3);
	assert_memory_equal(res.res_kvs[0].kv_key, k, 3);
	assert_int_equal(res.res_kvs[0].kv_value_len, 256);
	assert_memory_equal(res.res_kvs[0].kv_value, v, 256);
	assert_int_equal(res.res_kvs[0].kv_value[256], '\0');
	assert_int_equal(res.res_kvs[0].kv_lease, -5);
	agree(ETCD_RANGE, 200, b.s, b.len);
	free(sv);
	free(sk);
	free(b.s);
	xdc_arena_free(a);
}

/* Malformed, odd or erroneous answers. */

static void
test_malformed_answers_give_the_trees_message(void **state)
{
	/* gives_up: where yajl and jansson part, the events must not read. */
	static const struct {
		const char *body;
		int gives_up;
	} cases[] = {
		{ "", 1 },
		{ "garbage", 1 },
		{ "[1]", 1 },
		{ "null", 1 },
		{ "\"s\"", 1 },
		{ "{\"kvs\": {}}", 1 },
		{ "{\"kvs\": [1]}", 1 },
		{ "{\"kvs\": [null]}", 1 },
		{ "{\"kvs\": [[]]}", 1 },
		{ "{\"kvs\": [{\"key\": \"!!\"}]}", 1 },
		{ "{\"kvs\": [{\"key\": 5}]}", 1 },
		{ "{\"kvs\": [{\"key\": \"YQ=\"}]}", 1 },
		{ "{\"kvs\": [{\"value\": \"YQ===\"}]}", 1 },
		{ "{\"kvs\": [{\"key\": \"YQ==\", \"version\": true}]}", 1 },
		{ "{\"kvs\": [{\"key\": {}}]}", 1 },
		{ "{\"header\": {\"revision\": \"12a\"}}", 1 },
		{ "{\"header\": {\"revision\": \"\"}}", 1 },
		{ "{\"header\": {\"revision\": \" 1\"}}", 1 },
		{ "{\"header\": {\"revision\": []}}", 1 },
		{ "{\"count\": \"99999999999999999999\"}", 1 },
		{ "{\"count\": 99999999999999999999}", 1 },
		{ "{\"count\": 1.5}", 1 },
		{ "{\"count\": \"-\"}", 1 },
		{ "{\"count\": \"+1\"}", 1 },
		{ "{\"count\": \"1 \"}", 1 },
		{ "{\"count\": \"0x1\"}", 1 },
		{ "{\"count\": \"00012\"}", 0 },
		{ "{\"more\": \"true\"}", 1 },
		{ "{\"more\": 1}", 1 },
		{ "{\"header\": []}", 1 },
		{ "{\"header\": \"h\"}", 1 },
		/* etcd's errors, and the wrapper of a stream's answer */
		{ "{\"error\":\"etcdserver: key not found\",\"message\":"
		  "\"etcdserver: key not found\",\"code\":5}",
		    1 },
		{ "{\"error\":{\"grpc_code\":14,\"http_code\":503,\"message\":"
		  "\"etcdserver: no leader\",\"http_status\":\"Unavailable\"}}",
		    1 },
		{ "{\"error\":\"\",\"count\":\"4\"}", 1 },
		{ "{\"error\":null,\"count\":\"4\"}", 1 },
		{ "{\"result\":{\"count\":\"3\"}}", 1 },
		{ "{\"result\":5,\"count\":\"2\"}", 1 },
		/* jansson keeps the last of two fields */
		{ "{\"count\":\"1\",\"count\":\"2\"}", 1 },
		{ "{\"kvs\":[{\"key\":\"YQ==\",\"key\":\"Yg==\"}]}", 1 },
		{ "{\"header\":{\"revision\":\"1\",\"revision\":\"2\"}}", 1 },
		{ "{\"kvs\":[],\"kvs\":[{\"key\":\"YQ==\"}]}", 1 },
		{ "{\"x\":1,\"x\":2,\"count\":\"3\"}", 0 },
		/* strings jansson refuses and yajl takes, or reads alike */
		{ "{\"x\":\"\\u0000\",\"count\":\"1\"}", 1 },
		{ "{\"x\":\"\\ud800\",\"count\":\"1\"}", 1 },
		{ "{\"x\":\"\\udc00\\ud800\"}", 1 },
		{ "{\"x\":\"\\u00e9\\n\",\"count\":\"1\"}", 1 },
		{ "{\"x\":\"\xc0\x80\"}", 1 },
		{ "{\"x\":\"\xed\xa0\x80\"}", 1 },
		{ "{\"x\":\"\xf4\x90\x80\x80\"}", 1 },
		{ "{\"x\":\"\xc3\xa9\",\"count\":\"1\"}", 1 },
		{ "{\"\xc3\xa9\":1,\"count\":\"1\"}", 1 },
		{ "{\"x\":\"\x01\"}", 1 },
		/* spaces, numbers and ends that jansson refuses */
		{ "{\f}", 1 },
		{ "{\v\"count\":\"1\"}", 1 },
		{ "{\"x\":123456789012345678901234567890}", 1 },
		{ "{\"x\":1e400}", 1 },
		{ "{\"x\":-1e400}", 1 },
		{ "{\"x\":1.5,\"count\":\"2\"}", 1 },
		{ "{\"x\":-0,\"count\":\"2\"}", 0 },
		{ "{\"x\":01}", 1 },
		{ "{} x", 1 },
		{ "{} tr", 1 },
		{ "{}\"x", 1 },
		{ "{\"count\":\"1\"}\"x}", 1 },
		{ "{\"count\":\"1\"} 1", 1 },
		{ "{\"count\":\"1\"} \r\n\t", 0 },
		{ "{}{}", 1 },
		{ "{} \n", 0 },
		{ "{/*c*/}", 1 },
		{ "{\"count\":\"1\",}", 1 },
		{ "{\"count\":\"1\"", 1 },
		{ "{\"kvs\":[{\"key\":\"YQ==\"}", 1 },
		{ "\xef\xbb\xbf{}", 1 },
	};
	struct sb deep = { 0 };
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rc = agree(
		    ETCD_RANGE, 200, cases[i].body, strlen(cases[i].body));
		if (rc != (cases[i].gives_up ? -1 : 0))
			fail_msg("'%s': the events %s", cases[i].body,
			    rc == 0 ? "read it" : "gave up");
		agree(ETCD_RANGE, 500, cases[i].body, strlen(cases[i].body));
		agree(ETCD_TXN, 200, cases[i].body, strlen(cases[i].body));
	}
	/* A NUL byte after the answer. */
	assert_int_equal(agree(ETCD_RANGE, 200, "{}\0", 3), -1);
	/* Deeper than jansson's 2048, inside a field nobody reads. */
	sb_add(&deep, "{\"x\":", 5);
	for (i = 0; i < 3000; i++)
		sb_add(&deep, "[", 1);
	for (i = 0; i < 3000; i++)
		sb_add(&deep, "]", 1);
	sb_add(&deep, "}", 1);
	assert_int_equal(agree(ETCD_RANGE, 200, deep.s, deep.len), -1);
	free(deep.s);
}

/* Every byte of a real answer replaced, and every cut of it. */
static void
test_mutated_answers_agree(void **state)
{
	static const char repl[] = "\\\"{}[],:0-.eExy =\v\f\n\t\001\200\303";
	char *body, *m;
	size_t len, i, j, read = 0;

	(void)state;
	body = slurp("tests/pool/data/range-prefix.json", &len);
	m = xdc_malloc(len + 1);
	for (i = 0; i < len; i++) {
		for (j = 0; j < sizeof(repl); j++) {
			memcpy(m, body, len);
			m[i] = repl[j]; /* the last: NUL */
			if (agree(ETCD_RANGE, 200, m, len) == 0)
				read++;
		}
		agree(ETCD_RANGE, 200, body, i);
	}
	/* Some mutations keep a good answer (a digit for a digit). */
	assert_true(read > 0);
	free(m);
	free(body);
}

/* base64 */

/* The range reader. */

static void
cut_everywhere(const char *body, size_t len)
{
	struct xdc_arena *a = xdc_arena_new(), *b = xdc_arena_new();
	struct etcd_result want, got;
	const char *diff;
	size_t cut;

	assert_int_equal(
	    etcd_decode_tree(ETCD_RANGE, 200, body, len, b, &want), 0);
	for (cut = 0; cut <= len; cut++) {
		assert_int_equal(
		    etcd_pieces_read(body, len, &cut, 1, a, &got, NULL, NULL),
		    0);
		if ((diff = etcd_result_diff(&got, &want)) != NULL)
			fail_msg("cut at %zu: the reader's %s differs from the "
			         "tree's",
			    cut, diff);
		xdc_arena_reset(a);
	}
	xdc_arena_free(a);
	xdc_arena_free(b);
}

static void
test_a_range_cut_anywhere_reads_as_whole(void **state)
{
	char path[512], *body;
	struct dirent *de;
	size_t len, ranges = 0;
	DIR *dir;

	(void)state;
	assert_non_null(dir = opendir("tests/pool/data"));
	while ((de = readdir(dir)) != NULL) {
		if (strncmp(de->d_name, "range-", 6) != 0)
			continue;
		snprintf(path, sizeof(path), "tests/pool/data/%s", de->d_name);
		body = slurp(path, &len);
		cut_everywhere(body, len);
		free(body);
		ranges++;
	}
	closedir(dir);
	assert_true(ranges >= 4);
}

/* n kvs of values of vlen bytes; the last one's value bad when bad. */
static void
many_kvs(struct sb *b, size_t n, size_t vlen, int bad)
{
	char *v = xdc_malloc(vlen), *s;
	size_t i, j;

	b->len = 0;
	sb_printf(b, "{\"header\":{\"revision\":\"41\"},\"kvs\":[");
	for (i = 0; i < n; i++) {
		for (j = 0; j < vlen; j++)
			v[j] = (char)(i * 7 + j);
		s = etcd_b64_encode(v, vlen);
		if (bad && i == n - 1)
			s[1] = '!';
		sb_printf(b, "%s{\"key\":\"%s\",\"value\":\"", i > 0 ? "," : "",
		    i % 2 ? "YQ==" : "Yg==");
		sb_add(b, s, strlen(s));
		sb_add(b, "\"}", 2);
		free(s);
	}
	sb_printf(b, "],\"count\":\"%zu\"}", n);
	free(v);
}

static void
test_a_range_in_pieces_reuses_one_value_buffer(void **state)
{
	struct xdc_arena *a = xdc_arena_new(), *b = xdc_arena_new();
	struct etcd_result got, want;
	struct sb sb = { 0 };
	size_t cuts[64], n, handed, reused;

	(void)state;
	many_kvs(&sb, 50, 3000, 0);
	for (n = 0; n < 64; n++)
		cuts[n] = (n + 1) * (sb.len / 65);
	assert_int_equal(
	    etcd_pieces_read(sb.s, sb.len, cuts, 64, a, &got, &handed, &reused),
	    0);
	assert_int_equal(
	    etcd_decode_tree(ETCD_RANGE, 200, sb.s, sb.len, b, &want), 0);
	assert_null(etcd_result_diff(&got, &want));
	assert_int_equal(got.res_revision, 41);
	assert_int_equal(handed, 50);
	/* One buffer for every value, not fifty. */
	assert_int_equal(reused, 49);
	free(sb.s);
	xdc_arena_free(a);
	xdc_arena_free(b);
}

static void
test_a_range_that_gives_up_midway_says_so_and_the_tree_reads_it(void **state)
{
	static const char *const tails[] = {
		/* an escape, an error, a number the events do not take, each
		 * after a sixth kv or in it */
		"{\"key\":\"YQ==\",\"value\":\"a\\/b\"}]}",
		"{\"key\":\"YQ==\"}],\"error\":\"boom\"}",
		"{\"key\":\"YQ==\",\"version\":1.5}]}",
	};
	struct xdc_arena *a = xdc_arena_new(), *b = xdc_arena_new();
	struct etcd_result got, want, whole;
	struct sb sb = { 0 };
	size_t cuts[40], i, n, handed;

	(void)state;
	/* Bad base64 in the last kv: nine handed, then it gives up. */
	many_kvs(&sb, 10, 500, 1);
	for (n = 0; n < 40; n++)
		cuts[n] = (n + 1) * (sb.len / 41);
	assert_int_equal(
	    etcd_pieces_read(sb.s, sb.len, cuts, 40, a, &got, &handed, NULL),
	    -1);
	assert_int_equal(handed, 9);
	assert_int_equal(got.res_nkvs, 0);
	assert_null(got.res_kvs);
	/* What the caller then reads whole is the tree's, word for word. */
	assert_int_equal(
	    etcd_decode(ETCD_RANGE, 200, sb.s, sb.len, a, &whole), XDC_ERR);
	etcd_decode_tree(ETCD_RANGE, 200, sb.s, sb.len, b, &want);
	assert_non_null(want.res_error);
	assert_null(etcd_result_diff(&whole, &want));
	for (i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		many_kvs(&sb, 5, 100, 0);
		sb.len -= strlen("],\"count\":\"5\"}");
		sb_printf(&sb, ",%s", tails[i]);
		n = sb.len / 2;
		assert_int_equal(etcd_pieces_read(sb.s, sb.len, &n, 1, a, &got,
		                     &handed, NULL),
		    -1);
		assert_true(handed <= 6);
		pieces_agree(sb.s, sb.len, -1, NULL);
		etcd_decode_tree(ETCD_RANGE, 200, sb.s, sb.len, b, &want);
		etcd_decode(ETCD_RANGE, 200, sb.s, sb.len, a, &whole);
		assert_null(etcd_result_diff(&whole, &want));
	}
	free(sb.s);
	xdc_arena_free(a);
	xdc_arena_free(b);
}

/* The decoder before the table, bit by bit: the reference. */
static int
b64_bitwise(const char *in, size_t len, unsigned char *buf, size_t *outlen)
{
	uint32_t acc = 0;
	size_t i, n = 0, pad = 0, bits = 0;
	int v;
	unsigned char c;

	while (pad < len && pad < 2 && in[len - 1 - pad] == '=')
		pad++;
	if (pad > 0 && len % 4 != 0)
		return -1;
	len -= pad;
	if (len % 4 == 1)
		return -1;
	for (i = 0; i < len; i++) {
		c = (unsigned char)in[i];
		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= 'a' && c <= 'z')
			v = c - 'a' + 26;
		else if (c >= '0' && c <= '9')
			v = c - '0' + 52;
		else if (c == '+' || c == '-')
			v = 62;
		else if (c == '/' || c == '_')
			v = 63;
		else
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[n++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	*outlen = n;
	return 0;
}

static void
b64_same(struct xdc_arena *a, const char *s, size_t len)
{
	unsigned char want[64];
	size_t wlen = 0, glen = 0;
	char *got;
	int wrc = b64_bitwise(s, len, want, &wlen);
	int grc = etcd_b64_decode(s, len, a, &got, &glen);

	if (wrc != grc)
		fail_msg("'%.*s': %d against %d", (int)len, s, grc, wrc);
	if (grc == 0) {
		assert_int_equal(glen, wlen);
		assert_memory_equal(got, want, wlen);
		assert_int_equal(got[glen], '\0');
	}
}

static void
test_b64_table_decodes_as_the_bitwise_decoder(void **state)
{
	static const char alpha[] = "AQw/9+-_=!\200";
	static const char b64ish[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                             "abcdefghijklmnopqrstuvwxyz0123456789+/-_";
	const size_t na = sizeof(alpha) - 1;
	struct xdc_arena *a = xdc_arena_new();
	char s[48];
	size_t len, i, n, k;

	(void)state;
	/* Every string of up to five characters of these. */
	for (len = 0; len <= 5; len++) {
		for (n = 1, i = 0; i < len; i++)
			n *= na;
		for (k = 0; k < n; k++) {
			size_t x = k;

			for (i = 0; i < len; i++, x /= na)
				s[i] = alpha[x % na];
			b64_same(a, s, len);
		}
		xdc_arena_reset(a);
	}
	/* Longer ones, mostly good, every byte in turn bad. */
	for (k = 0; k < 20000; k++) {
		len = rnd(sizeof(s));
		for (i = 0; i < len; i++)
			s[i] = rnd(50) == 0 ? (char)rnd(256) : b64ish[rnd(66)];
		if (len > 0 && rnd(3) == 0)
			s[len - 1] = '=';
		if (len > 1 && rnd(6) == 0)
			s[len - 2] = '=';
		b64_same(a, s, len);
		if (k % 1000 == 0)
			xdc_arena_reset(a);
	}
	xdc_arena_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_events_read_recorded_answers_as_the_tree_does),
		cmocka_unit_test(
		    test_events_read_random_answers_as_the_tree_does),
		cmocka_unit_test(test_events_read_every_byte_of_a_value),
		cmocka_unit_test(test_malformed_answers_give_the_trees_message),
		cmocka_unit_test(test_mutated_answers_agree),
		cmocka_unit_test(test_b64_table_decodes_as_the_bitwise_decoder),
		cmocka_unit_test(test_a_range_cut_anywhere_reads_as_whole),
		cmocka_unit_test(
		    test_a_range_in_pieces_reuses_one_value_buffer),
		cmocka_unit_test(
		    test_a_range_that_gives_up_midway_says_so_and_the_tree_reads_it),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
