/*
 * The etcd client's wire format (pool/etcd_json.c): base64, request
 * bodies, and the decoding of answers recorded from a real etcd 3.4.23
 * (Debian 12's etcd-server) under tests/pool/data, the watch stream among
 * them cut at every byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/arena.h"
#include "base/error.h"
#include "pool/etcd_json.h"

#define LEASE 2324035763481305360LL

static char *
data(const char *name, size_t *len)
{
	char path[256], *buf = NULL;
	FILE *fp;
	size_t cap = 0, n;

	snprintf(path, sizeof(path), "tests/pool/data/%s", name);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	*len = 0;
	do {
		if (*len + 4096 > cap)
			buf = xdc_reallocarray(buf, cap = *len + 8192, 1);
		n = fread(buf + *len, 1, 4096, fp);
		*len += n;
	} while (n > 0);
	fclose(fp);
	buf[*len] = '\0';
	return buf;
}

/* Decode a recorded answer; the arena holds the result. */
static int
decode(const char *name, enum etcd_kind kind, long status, struct xdc_arena *a,
    struct etcd_result *res)
{
	size_t len;
	char *body = data(name, &len);
	int rc = etcd_decode(kind, status, body, len, a, res);

	free(body);
	return rc;
}

static void
assert_kv(const struct etcd_kv *kv, const char *key, const void *value,
    size_t value_len, int64_t create, int64_t mod, int64_t version)
{
	assert_int_equal(kv->kv_key_len, strlen(key));
	assert_string_equal(kv->kv_key, key);
	assert_int_equal(kv->kv_value_len, value_len);
	assert_memory_equal(kv->kv_value, value, value_len);
	assert_int_equal(kv->kv_value[value_len], '\0');
	assert_int_equal(kv->kv_create_revision, create);
	assert_int_equal(kv->kv_mod_revision, mod);
	assert_int_equal(kv->kv_version, version);
}

/* base64 */

static void
test_b64_matches_rfc4648_vectors(void **state)
{
	static const char *const in[] = { "", "f", "fo", "foo", "foob", "fooba",
		"foobar" };
	static const char *const out[] = { "", "Zg==", "Zm8=", "Zm9v",
		"Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	struct xdc_arena *a = xdc_arena_new();
	size_t i, len;
	char *s, *d;

	(void)state;
	for (i = 0; i < 7; i++) {
		s = etcd_b64_encode(in[i], strlen(in[i]));
		assert_string_equal(s, out[i]);
		assert_int_equal(etcd_b64_decode(s, strlen(s), a, &d, &len), 0);
		assert_int_equal(len, strlen(in[i]));
		assert_string_equal(d, in[i]);
		free(s);
	}
	xdc_arena_free(a);
}

static void
test_b64_round_trips_every_length_and_byte(void **state)
{
	struct xdc_arena *a = xdc_arena_new();
	unsigned char buf[300];
	size_t i, n, len;
	char *s, *d;

	(void)state;
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 37 + 11);
	for (n = 0; n <= sizeof(buf); n++) {
		s = etcd_b64_encode(buf, n);
		assert_int_equal(strlen(s), (n + 2) / 3 * 4);
		assert_int_equal(etcd_b64_decode(s, strlen(s), a, &d, &len), 0);
		assert_int_equal(len, n);
		assert_memory_equal(d, buf, n);
		free(s);
	}
	xdc_arena_free(a);
}

static void
test_b64_accepts_url_safe_and_unpadded(void **state)
{
	struct xdc_arena *a = xdc_arena_new();
	size_t len;
	char *d;

	(void)state;
	assert_int_equal(etcd_b64_decode("Zm9vYg", 6, a, &d, &len), 0);
	assert_string_equal(d, "foob");
	/* 0xfb 0xff in both alphabets */
	assert_int_equal(etcd_b64_decode("-_8=", 4, a, &d, &len), 0);
	assert_int_equal(len, 2);
	assert_int_equal((unsigned char)d[0], 0xfb);
	assert_int_equal((unsigned char)d[1], 0xff);
	assert_int_equal(etcd_b64_decode("+/8=", 4, a, &d, &len), 0);
	assert_int_equal((unsigned char)d[0], 0xfb);
	xdc_arena_free(a);
}

static void
test_b64_refuses_what_is_not_base64(void **state)
{
	static const char *const bad[] = { "!!!!", "Zm9v\n", "Z", "Zm9vY",
		"Zg=", "Z===", "Zm=v", "Zg==Zg==", "=", "Zm 9" };
	struct xdc_arena *a = xdc_arena_new();
	size_t i, len;
	char *d;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(
		    etcd_b64_decode(bad[i], strlen(bad[i]), a, &d, &len), -1);
	xdc_arena_free(a);
}

/* Requests */

static json_t *
load(char *s)
{
	json_t *o = json_loads(s, 0, NULL);

	assert_non_null(o);
	free(s);
	return o;
}

static const char *
field(json_t *o, const char *path)
{
	char buf[128], *p, *dot;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf; (dot = strchr(p, '.')) != NULL; p = dot + 1) {
		*dot = '\0';
		o = json_object_get(o, p);
		if (json_is_array(o))
			o = json_array_get(o, 0);
	}
	o = json_object_get(o, p);
	if (json_is_true(o))
		return "true";
	return json_is_string(o) ? json_string_value(o) : NULL;
}

static void
test_encodes_a_prefix_as_its_range_end(void **state)
{
	struct etcd_op op = { .op_kind = ETCD_RANGE,
		.op_key = "xdc/",
		.op_flags = ETCD_PREFIX | ETCD_KEYS_ONLY,
		.op_limit = 10,
		.op_revision = 7 };
	json_t *o;

	(void)state;
	o = load(etcd_encode_op(&op));
	assert_string_equal(field(o, "key"), "eGRjLw==");       /* xdc/ */
	assert_string_equal(field(o, "range_end"), "eGRjMA=="); /* xdc0 */
	assert_string_equal(field(o, "limit"), "10");
	assert_string_equal(field(o, "revision"), "7");
	assert_string_equal(field(o, "keys_only"), "true");
	json_decref(o);

	/* The last byte below 0xff is incremented; what follows it goes. */
	op.op_key = "a\xff\xff";
	op.op_flags = ETCD_PREFIX;
	o = load(etcd_encode_op(&op));
	assert_string_equal(field(o, "range_end"), "Yg=="); /* b */
	json_decref(o);
	op.op_key = "\xff";
	o = load(etcd_encode_op(&op));
	assert_string_equal(field(o, "range_end"), "AA=="); /* \0: to the end */
	json_decref(o);
	op.op_key = "k";
	op.op_flags = 0;
	o = load(etcd_encode_op(&op));
	assert_null(field(o, "range_end"));
	json_decref(o);
}

static void
test_encodes_a_put_with_binary_value_and_lease(void **state)
{
	struct etcd_op op = { .op_kind = ETCD_PUT,
		.op_key = "k",
		.op_value = "\0\1\377",
		.op_value_len = 3,
		.op_lease = LEASE,
		.op_flags = ETCD_PREV_KV | ETCD_PREFIX };
	json_t *o;

	(void)state;
	o = load(etcd_encode_op(&op));
	assert_string_equal(field(o, "value"), "AAH/");
	assert_string_equal(field(o, "lease"), "2324035763481305360");
	assert_string_equal(field(o, "prev_kv"), "true");
	assert_null(field(o, "range_end")); /* a put has no range */
	json_decref(o);
}

static void
test_encodes_a_create_if_absent_txn(void **state)
{
	struct etcd_cmp cmp = { .cmp_key = "claims/web1",
		.cmp_target = ETCD_CMP_CREATE,
		.cmp_result = ETCD_EQUAL };
	struct etcd_cmp val = { .cmp_key = "k",
		.cmp_target = ETCD_CMP_VALUE,
		.cmp_result = ETCD_NOT_EQUAL,
		.cmp_value = "a",
		.cmp_value_len = 1 };
	struct etcd_op put = { .op_kind = ETCD_PUT,
		.op_key = "claims/web1",
		.op_value = "xen-a",
		.op_value_len = 5,
		.op_lease = 42 };
	struct etcd_op get = { .op_kind = ETCD_RANGE, .op_key = "claims/web1" };
	struct etcd_op del = {
		.op_kind = ETCD_DELETE, .op_key = "p/", .op_flags = ETCD_PREFIX
	};
	struct etcd_cmp both[2];
	json_t *o;

	(void)state;
	o = load(etcd_encode_txn(&cmp, 1, &put, 1, &get, 1));
	assert_string_equal(field(o, "compare.key"), "Y2xhaW1zL3dlYjE=");
	assert_string_equal(field(o, "compare.target"), "CREATE");
	assert_string_equal(field(o, "compare.result"), "EQUAL");
	assert_string_equal(field(o, "compare.create_revision"), "0");
	assert_string_equal(field(o, "success.request_put.lease"), "42");
	assert_string_equal(field(o, "success.request_put.value"), "eGVuLWE=");
	assert_string_equal(
	    field(o, "failure.request_range.key"), "Y2xhaW1zL3dlYjE=");
	json_decref(o);

	both[0] = val;
	both[1] = cmp;
	both[1].cmp_target = ETCD_CMP_MOD;
	both[1].cmp_result = ETCD_LESS;
	both[1].cmp_number = 9;
	o = load(etcd_encode_txn(both, 2, &del, 1, NULL, 0));
	assert_string_equal(field(o, "compare.target"), "VALUE");
	assert_string_equal(field(o, "compare.result"), "NOT_EQUAL");
	assert_string_equal(field(o, "compare.value"), "YQ==");
	assert_string_equal(
	    json_string_value(json_object_get(
	        json_array_get(json_object_get(o, "compare"), 1),
	        "mod_revision")),
	    "9");
	assert_string_equal(field(o, "success.request_delete_range.range_end"),
	    "cDA="); /* p0 */
	assert_int_equal(json_array_size(json_object_get(o, "failure")), 0);
	json_decref(o);
}

static void
test_encodes_leases_and_watches(void **state)
{
	json_t *o;

	(void)state;
	o = load(etcd_encode_lease(ETCD_LEASE_GRANT, 0, 10));
	assert_string_equal(field(o, "TTL"), "10");
	assert_null(field(o, "ID"));
	json_decref(o);
	o = load(etcd_encode_lease(ETCD_LEASE_KEEPALIVE, LEASE, 0));
	assert_string_equal(field(o, "ID"), "2324035763481305360");
	assert_null(field(o, "TTL"));
	json_decref(o);
	o = load(etcd_encode_watch("xdc/", ETCD_PREFIX | ETCD_PREV_KV, 42));
	assert_string_equal(field(o, "create_request.key"), "eGRjLw==");
	assert_string_equal(field(o, "create_request.range_end"), "eGRjMA==");
	assert_string_equal(field(o, "create_request.start_revision"), "42");
	assert_string_equal(field(o, "create_request.prev_kv"), "true");
	json_decref(o);
	o = load(etcd_encode_watch("k", 0, 0));
	assert_null(field(o, "create_request.start_revision"));
	assert_null(field(o, "create_request.range_end"));
	json_decref(o);
	assert_string_equal(
	    etcd_path(ETCD_LEASE_KEEPALIVE), "/v3/lease/keepalive");
	assert_string_equal(etcd_path(ETCD_DELETE), "/v3/kv/deleterange");
}

/* Unary answers */

static void
test_decodes_a_range_with_binary_values(void **state)
{
	struct xdc_arena *a = xdc_arena_new();
	struct etcd_result res;

	(void)state;
	assert_int_equal(
	    decode("range-prefix.json", ETCD_RANGE, 200, a, &res), 0);
	assert_int_equal(res.res_rc, 0);
	assert_null(res.res_error);
	assert_int_equal(res.res_revision, 5);
	assert_int_equal(res.res_count, 2);
	assert_false(res.res_more);
	assert_int_equal(res.res_nkvs, 2);
	assert_kv(
	    &res.res_kvs[0], "xdc/hosts/a", "{\"host\":\"a2\"}", 13, 3, 4, 2);
	assert_kv(&res.res_kvs[1], "xdc/hosts/b", "\0\1\377binary", 9, 5, 5, 1);
	assert_int_equal(res.res_kvs[1].kv_lease, 0);
	xdc_arena_free(a);
}

static void
test_decodes_a_range_without_kvs_as_empty(void **state)
{
	struct xdc_arena *a = xdc_arena_new();
	struct etcd_result res;

	(void)state;
	assert_int_equal(
	    decode("range-empty.json", ETCD_RANGE, 200, a, &res), 0);
	assert_int_equal(res.res_revision, 2);
	assert_int_equal(res.res_nkvs, 0);
	assert_null(res.res_kvs);
	assert_int_equal(res.res_count, 0);

	assert_int_equal(
	    decode("range-limit.json", ETCD_RANGE, 200, a, &res), 0);
	assert_int_equal(res.res_nkvs, 1);
	assert_int_equal(res.res_count, 2);
	assert_true(res.res_more);

	assert_int_equal(
	    decode("range-count.json", ETCD_RANGE, 200, a, &res), 0);
	assert_int_equal(res.res_nkvs, 0);
	assert_int_equal(res.res_count, 2);
	xdc_arena_free(a);
}

static void
test_decodes_puts_and_deletes(void **state)
{
	struct xdc_arena *a = xdc_arena_new();
	struct etcd_result res;

	(void)state;
	assert_int_equal(decode("put.json", ETCD_PUT, 200, a, &res), 0);
	assert_int_equal(res.res_revision, 3);
	assert_int_equal(res.res_nkvs, 0);
	assert_int_equal(decode("put-prev.json", ETCD_PUT, 200, a, &res), 0);
	assert_int_equal(res.res_revision, 4);
	assert_int_equal(res.res_nkvs, 1);
	assert_kv(
	    &res.res_kvs[0], "xdc/hosts/a", "{\"host\":\"a\"}", 12, 3, 3, 1);
	assert_int_equal(decode("delete.json", ETCD_DELETE, 200, a, &res), 0);
	assert_int_equal(res.res_deleted, 2);
	assert_int_equal(res.res_nkvs, 2);
	assert_kv(&res.res_kvs[1], "xdc/hosts/b", "\0\1\377binary", 9, 5, 5, 1);
	assert_int_equal(
	    decode("delete-none.json", ETCD_DELETE, 200, a, &res), 0);
	assert_int_equal(res.res_deleted, 0);
	assert_int_equal(res.res_revision, 8);
	xdc_arena_free(a);
}

static void
test_decodes_a_txn_that_succeeded(void **state)
{
	struct xdc_arena *a = xdc_arena_new();
	struct etcd_result res;

	(void)state;
	assert_int_equal(
	    decode("txn-create-ok.json", ETCD_TXN, 200, a, &res), 0);
	assert_true(res.res_succeeded);
	assert_int_equal(res.res_revision, 6);
	assert_int_equal(res.res_nresponses, 1);
	assert_int_equal(res.res_responses[0].res_kind, ETCD_PUT);
	assert_int_equal(res.res_responses[0].res_revision, 6);

	assert_int_equal(decode("txn-delete.json", ETCD_TXN, 200, a, &res), 0);
	assert_true(res.res_succeeded);
	assert_int_equal(res.res_responses[0].res_kind, ETCD_DELETE);
	assert_int_equal(res.res_responses[0].res_deleted, 1);
	assert_int_equal(res.res_responses[0].res_nkvs, 1);
	assert_int_equal(res.res_responses[0].res_kvs[0].kv_lease, LEASE);

	assert_int_equal(decode("txn-empty.json", ETCD_TXN, 200, a, &res), 0);
	assert_true(res.res_succeeded);
	assert_int_equal(res.res_nresponses, 0);
	xdc_arena_free(a);
}

static void
test_decodes_a_txn_that_failed_with_the_holder(void **state)
{
	struct xdc_arena *a = xdc_arena_new();
	struct etcd_result res;
	const struct etcd_result *r;

	(void)state;
	assert_int_equal(
	    decode("txn-create-fail.json", ETCD_TXN, 200, a, &res), 0);
	assert_false(res.res_succeeded); /* absent: false */
	assert_int_equal(res.res_nresponses, 1);
	r = &res.res_responses[0];
	assert_int_equal(r->res_kind, ETCD_RANGE);
	assert_int_equal(r->res_count, 1);
	assert_kv(&r->res_kvs[0], "xdc/claims/web1", "a", 1, 6, 6, 1);
	assert_int_equal(r->res_kvs[0].kv_lease, LEASE);
	xdc_arena_free(a);
}

static void
test_decodes_lease_grant_and_keepalive(void **state)
{
	struct xdc_arena *a = xdc_arena_new();
	struct etcd_result res;

	(void)state;
	assert_int_equal(
	    decode("lease-grant.json", ETCD_LEASE_GRANT, 200, a, &res), 0);
	assert_int_equal(res.res_lease, LEASE);
	assert_int_equal(res.res_ttl, 30);
	/* One POST's answer comes wrapped in "result". */
	assert_int_equal(
	    decode("lease-keepalive.json", ETCD_LEASE_KEEPALIVE, 200, a, &res),
	    0);
	assert_int_equal(res.res_lease, LEASE);
	assert_int_equal(res.res_ttl, 30);
	assert_int_equal(res.res_revision, 7);
	assert_int_equal(
	    decode("lease-revoke.json", ETCD_LEASE_REVOKE, 200, a, &res), 0);
	xdc_arena_free(a);
}

static void
test_a_keepalive_without_ttl_means_the_lease_is_gone(void **state)
{
	struct xdc_arena *a = xdc_arena_new();
	struct etcd_result res;

	(void)state;
	assert_int_equal(decode("lease-keepalive-gone.json",
	                     ETCD_LEASE_KEEPALIVE, 200, a, &res),
	    XDC_ENOTFOUND);
	assert_int_equal(res.res_rc, XDC_ENOTFOUND);
	assert_int_equal(res.res_ttl, 0);
	assert_non_null(strstr(res.res_error,
	    "lease 2324035763481305360 has expired or was revoked"));
	/* The same after expiry, which is not a revoke. */
	assert_int_equal(decode("lease-keepalive-expired.json",
	                     ETCD_LEASE_KEEPALIVE, 200, a, &res),
	    XDC_ENOTFOUND);
	assert_int_equal(res.res_ttl, 0);
	xdc_arena_free(a);
}

static void
test_decodes_etcd_error_bodies(void **state)
{
	struct xdc_arena *a = xdc_arena_new();
	struct etcd_result res;

	(void)state;
	assert_int_equal(
	    decode("lease-revoke-gone.json", ETCD_LEASE_REVOKE, 404, a, &res),
	    XDC_ENOTFOUND);
	assert_int_equal(res.res_grpc_code, 5);
	assert_int_equal(res.res_http_status, 404);
	assert_string_equal(res.res_error, "etcdserver: requested lease not "
	                                   "found (HTTP 404, code 5 NotFound)");
	assert_int_equal(decode("put-bad-lease.json", ETCD_PUT, 404, a, &res),
	    XDC_ENOTFOUND);

	assert_int_equal(
	    decode("err-emptykey.json", ETCD_PUT, 400, a, &res), XDC_ERR);
	assert_int_equal(res.res_grpc_code, 3);
	assert_string_equal(res.res_error,
	    "etcdserver: key is not provided (HTTP 400, code 3 "
	    "InvalidArgument)");
	assert_int_equal(
	    decode("err-badb64.json", ETCD_RANGE, 400, a, &res), XDC_ERR);
	assert_non_null(strstr(res.res_error, "illegal base64 data"));
	assert_int_equal(
	    decode("err-badjson.json", ETCD_RANGE, 400, a, &res), XDC_ERR);
	assert_non_null(strstr(res.res_error, "unexpected EOF"));
	/* Not JSON at all: the status and the text. */
	assert_int_equal(
	    decode("err-notfound.json", ETCD_RANGE, 404, a, &res), XDC_ERR);
	assert_string_equal(res.res_error, "HTTP 404: Not Found");
	assert_int_equal(res.res_grpc_code, 0);
	/* A watch's refusal, as the whole body of an HTTP 500. */
	assert_int_equal(
	    decode("watch-badreq.txt", ETCD_RANGE, 500, a, &res), XDC_ERR);
	assert_int_equal(res.res_grpc_code, 2);
	xdc_arena_free(a);
}

static void
test_refuses_answers_of_the_wrong_shape(void **state)
{
	static const struct {
		const char *body;
		const char *error;
	} cases[] = {
		{ "", "malformed response" },
		{ "garbage", "malformed response" },
		{ "[1]", "not a JSON object" },
		{ "{\"kvs\": {}}", "'kvs' is not an array" },
		{ "{\"kvs\": [1]}", "'kv' is not an object" },
		{ "{\"kvs\": [{\"key\": \"!!\"}]}", "'key' is not base64" },
		{ "{\"kvs\": [{\"key\": 5}]}", "'key' is not base64" },
		{ "{\"header\": {\"revision\": \"12a\"}}",
		    "'revision' is not an int64" },
		{ "{\"header\": {\"revision\": \"\"}}",
		    "'revision' is not an int64" },
		{ "{\"header\": {\"revision\": \" 1\"}}",
		    "'revision' is not an int64" },
		{ "{\"count\": \"99999999999999999999\"}",
		    "'count' is not an int64" },
		{ "{\"count\": 1.5}", "'count' is not an int64" },
		{ "{\"more\": \"true\"}", "'more' is not a boolean" },
		{ "{\"header\": []}", "'header' is not an object" },
	};
	struct xdc_arena *a = xdc_arena_new();
	struct etcd_result res;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(etcd_decode(ETCD_RANGE, 200, cases[i].body,
		                     strlen(cases[i].body), a, &res),
		    XDC_ERR);
		if (strstr(res.res_error, cases[i].error) == NULL)
			fail_msg("'%s': '%s' lacks '%s'", cases[i].body,
			    res.res_error, cases[i].error);
	}
	/* A txn answer with an op we never send. */
	assert_int_equal(
	    etcd_decode(ETCD_TXN, 200,
	        "{\"responses\":[{\"response_txn\":{}}]}", 36, a, &res),
	    XDC_ERR);
	assert_null(res.res_responses);
	xdc_arena_free(a);
}

static void
test_accepts_int64_as_numbers_and_negative(void **state)
{
	static const char body[] = "{\"header\":{\"revision\":12},\"count\":"
	                           "\"-3\",\"kvs\":[{\"key\":\"aw==\","
	                           "\"mod_revision\":9223372036854775807}]}";
	struct xdc_arena *a = xdc_arena_new();
	struct etcd_result res;

	(void)state;
	assert_int_equal(
	    etcd_decode(ETCD_RANGE, 200, body, strlen(body), a, &res), 0);
	assert_int_equal(res.res_revision, 12);
	assert_int_equal(res.res_count, -3);
	assert_int_equal(res.res_kvs[0].kv_mod_revision, INT64_MAX);
	assert_string_equal(res.res_kvs[0].kv_key, "k");
	assert_string_equal(res.res_kvs[0].kv_value, "");
	xdc_arena_free(a);
}

/* The watch stream */

struct seen {
	char log[4096];
	size_t n;
};

static void
note(struct seen *s, const struct etcd_watch_msg *m)
{
	static const char *const kinds[] = { "CREATED", "EVENTS", "PROGRESS",
		"COMPACTED", "BROKEN" };
	size_t i, left = sizeof(s->log) - s->n;
	int k;

	k = snprintf(s->log + s->n, left, "%s@%lld", kinds[m->wm_kind],
	    (long long)m->wm_revision);
	s->n += (size_t)k;
	for (i = 0; i < m->wm_nevents; i++) {
		const struct etcd_event *e = &m->wm_events[i];

		k = snprintf(s->log + s->n, sizeof(s->log) - s->n,
		    " %s %s=%s@%lld%s%s",
		    e->ev_type == ETCD_EVENT_PUT ? "PUT" : "DELETE",
		    e->ev_kv.kv_key, e->ev_kv.kv_value,
		    (long long)e->ev_kv.kv_mod_revision,
		    e->ev_prev_kv ? " was " : "",
		    e->ev_prev_kv ? e->ev_prev_kv->kv_value : "");
		s->n += (size_t)k;
	}
	if (m->wm_kind == ETCD_WATCH_COMPACTED)
		s->n += (size_t)snprintf(s->log + s->n, sizeof(s->log) - s->n,
		    " from %lld", (long long)m->wm_compact_revision);
	if (m->wm_error != NULL)
		s->n += (size_t)snprintf(
		    s->log + s->n, sizeof(s->log) - s->n, " (%s)", m->wm_error);
	s->n += (size_t)snprintf(s->log + s->n, sizeof(s->log) - s->n, "\n");
}

/* Feed the stream in pieces of chunk bytes, the first of first bytes. */
static void
feed(const char *buf, size_t len, size_t first, size_t chunk, struct seen *s)
{
	struct etcd_lines l = { 0 };
	struct xdc_arena *a = xdc_arena_new();
	struct etcd_watch_msg m;
	const char *line;
	size_t off = 0, n, ll;

	memset(s, 0, sizeof(*s));
	while (off < len) {
		n = off == 0 ? first : chunk;
		if (n > len - off)
			n = len - off;
		assert_int_equal(etcd_lines_add(&l, buf + off, n), 0);
		off += n;
		/* At its end, the transport ends the last line for it. */
		if (off == len)
			assert_int_equal(etcd_lines_add(&l, "\n", 1), 0);
		while (etcd_lines_next(&l, &line, &ll)) {
			xdc_arena_reset(a);
			etcd_decode_watch(line, ll, a, &m);
			note(s, &m);
		}
	}
	etcd_lines_free(&l);
	xdc_arena_free(a);
}

static const char stream_log[] = "CREATED@8\n"
                                 "EVENTS@9 PUT xdc/a=one@9\n"
                                 "EVENTS@10 PUT xdc/a=two@10 was one\n"
                                 "EVENTS@11 PUT xdc/b=B@11 PUT xdc/c=C@11\n"
                                 "EVENTS@12 DELETE xdc/a=@12 was two\n";

static void
test_watch_stream_decodes_created_puts_and_deletes(void **state)
{
	struct seen s;
	size_t len;
	char *buf = data("watch-stream.txt", &len);

	(void)state;
	feed(buf, len, len, len, &s);
	assert_string_equal(s.log, stream_log);
	free(buf);
}

static void
test_watch_stream_survives_any_split(void **state)
{
	struct seen s;
	size_t len, i;
	char *buf = data("watch-stream.txt", &len);

	(void)state;
	/* Every split point in two pieces, then pieces of every size. */
	for (i = 1; i < len; i++) {
		feed(buf, len, i, len, &s);
		assert_string_equal(s.log, stream_log);
	}
	for (i = 1; i <= 64; i++) {
		feed(buf, len, i, i, &s);
		assert_string_equal(s.log, stream_log);
	}
	free(buf);
}

static void
test_watch_stream_reports_compaction(void **state)
{
	struct seen s;
	size_t len;
	char *buf = data("watch-compacted.txt", &len);

	(void)state;
	feed(buf, len, 7, 13, &s);
	assert_string_equal(s.log, "CREATED@12\nCOMPACTED@0 from 10\n");
	free(buf);
	buf = data("watch-replay.txt", &len);
	feed(buf, len, 3, 5, &s);
	assert_string_equal(s.log,
	    "CREATED@12\n"
	    "EVENTS@12 PUT xdc/a=two@10 PUT xdc/b=B@11 PUT xdc/c=C@11 DELETE "
	    "xdc/a=@12\n");
	free(buf);
}

static void
test_watch_stream_error_is_broken(void **state)
{
	struct seen s;
	size_t len;
	char *buf = data("watch-shutdown.txt", &len);

	(void)state;
	feed(buf, len, 50, 50, &s);
	assert_string_equal(s.log,
	    "CREATED@12\n"
	    "BROKEN@0 (transport is closing (code 14 Unavailable))\n");
	free(buf);
}

static void
test_watch_messages_of_the_wrong_shape_are_broken(void **state)
{
	static const struct {
		const char *line;
		const char *log;
	} cases[] = {
		{ "{\"result\":{\"header\":{\"revision\":\"5\"}}}",
		    "PROGRESS@5\n" },
		{ "{\"result\":{\"canceled\":true,\"cancel_reason\":\"no\"}}",
		    "BROKEN@0 (watch canceled: no)\n" },
		{ "{\"result\":{\"events\":[{\"type\":\"EXPIRE\",\"kv\":{}}]}}",
		    "BROKEN@0 (malformed response: 'type' is not PUT or "
		    "DELETE)\n" },
		{ "{\"result\":{\"events\":[{\"type\":1,\"kv\":{\"key\":"
		  "\"aw==\"}}]}}",
		    "EVENTS@0 DELETE k=@0\n" },
		{ "{\"result\":{\"events\":[{}]}}",
		    "BROKEN@0 (malformed response: 'kv' is not an object)\n" },
		{ "{\"result\":5}",
		    "BROKEN@0 (malformed response: 'result' is not an "
		    "object)\n" },
		{ "{\"error\":\"x\"}", "BROKEN@0 (x)\n" },
		{ "{]", "BROKEN@0 (malformed watch message: " },
	};
	struct xdc_arena *a = xdc_arena_new();
	struct etcd_watch_msg m;
	struct seen s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&s, 0, sizeof(s));
		etcd_decode_watch(cases[i].line, strlen(cases[i].line), a, &m);
		note(&s, &m);
		if (strncmp(s.log, cases[i].log, strlen(cases[i].log)) != 0)
			fail_msg("'%s': '%s', not '%s'", cases[i].line, s.log,
			    cases[i].log);
	}
	xdc_arena_free(a);
}

static void
test_lines_skip_blank_lines_and_carriage_returns(void **state)
{
	struct etcd_lines l = { 0 };
	const char *line;
	size_t len;

	(void)state;
	assert_int_equal(etcd_lines_add(&l, "\n\r\nab\r\n\ncd", 10), 0);
	assert_int_equal(etcd_lines_next(&l, &line, &len), 1);
	assert_int_equal(len, 2);
	assert_memory_equal(line, "ab", 2);
	assert_int_equal(etcd_lines_next(&l, &line, &len), 0);
	assert_int_equal(etcd_lines_add(&l, "e\n", 2), 0);
	assert_int_equal(etcd_lines_next(&l, &line, &len), 1);
	assert_int_equal(len, 3);
	assert_memory_equal(line, "cde", 3);
	assert_int_equal(etcd_lines_next(&l, &line, &len), 0);
	assert_int_equal(l.l_len, 0); /* all consumed: the buffer rewinds */
	etcd_lines_free(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64_matches_rfc4648_vectors),
		cmocka_unit_test(test_b64_round_trips_every_length_and_byte),
		cmocka_unit_test(test_b64_accepts_url_safe_and_unpadded),
		cmocka_unit_test(test_b64_refuses_what_is_not_base64),
		cmocka_unit_test(test_encodes_a_prefix_as_its_range_end),
		cmocka_unit_test(
		    test_encodes_a_put_with_binary_value_and_lease),
		cmocka_unit_test(test_encodes_a_create_if_absent_txn),
		cmocka_unit_test(test_encodes_leases_and_watches),
		cmocka_unit_test(test_decodes_a_range_with_binary_values),
		cmocka_unit_test(test_decodes_a_range_without_kvs_as_empty),
		cmocka_unit_test(test_decodes_puts_and_deletes),
		cmocka_unit_test(test_decodes_a_txn_that_succeeded),
		cmocka_unit_test(
		    test_decodes_a_txn_that_failed_with_the_holder),
		cmocka_unit_test(test_decodes_lease_grant_and_keepalive),
		cmocka_unit_test(
		    test_a_keepalive_without_ttl_means_the_lease_is_gone),
		cmocka_unit_test(test_decodes_etcd_error_bodies),
		cmocka_unit_test(test_refuses_answers_of_the_wrong_shape),
		cmocka_unit_test(test_accepts_int64_as_numbers_and_negative),
		cmocka_unit_test(
		    test_watch_stream_decodes_created_puts_and_deletes),
		cmocka_unit_test(test_watch_stream_survives_any_split),
		cmocka_unit_test(test_watch_stream_reports_compaction),
		cmocka_unit_test(test_watch_stream_error_is_broken),
		cmocka_unit_test(
		    test_watch_messages_of_the_wrong_shape_are_broken),
		cmocka_unit_test(
		    test_lines_skip_blank_lines_and_carriage_returns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
