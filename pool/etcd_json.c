/*
 * The etcd client's wire format, what goes out (see etcd_json.h): base64
 * and request bodies built with jansson, in proto3's JSON mapping. The
 * answers are read in etcd_json_decode.c (jansson) and
 * etcd_json_events.c (yajl).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/arena.h"
#include "base/error.h"
#include "pool/etcd_json.h"

static const char b64_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *
etcd_b64_encode(const void *data, size_t len)
{
	const unsigned char *p = data;
	char *out, *o;
	size_t i;

	out = o = xdc_malloc((len + 2) / 3 * 4 + 1);
	for (i = 0; i + 2 < len; i += 3) {
		*o++ = b64_chars[p[i] >> 2];
		*o++ = b64_chars[(p[i] & 0x03) << 4 | p[i + 1] >> 4];
		*o++ = b64_chars[(p[i + 1] & 0x0f) << 2 | p[i + 2] >> 6];
		*o++ = b64_chars[p[i + 2] & 0x3f];
	}
	if (len - i == 1) {
		*o++ = b64_chars[p[i] >> 2];
		*o++ = b64_chars[(p[i] & 0x03) << 4];
		*o++ = '=';
		*o++ = '=';
	} else if (len - i == 2) {
		*o++ = b64_chars[p[i] >> 2];
		*o++ = b64_chars[(p[i] & 0x03) << 4 | p[i + 1] >> 4];
		*o++ = b64_chars[(p[i + 1] & 0x0f) << 2];
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

/*
 * Each byte's six bits, standard and URL-safe alphabets alike; X (with its
 * high bit set) for a byte of neither. A table, as the pool's range
 * decodes megabytes of values a call. Sixteen a row, as an ASCII chart
 * reads, which clang-format would undo.
 */
#define X 0xff
/* clang-format off */
static const unsigned char b64_values[256] = {
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, 62, X, 62, X, 63,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, X, X, X, X, X, X,
	X, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, X, X, X, X, 63,
	X, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
};
/* clang-format on */
#undef X

int
etcd_b64_decode(
    const char *in, size_t len, struct xdc_arena *a, char **out, size_t *outlen)
{
	const unsigned char *p = (const unsigned char *)in;
	unsigned char *buf, *o;
	unsigned v0, v1, v2, v3;
	size_t i, pad = 0;

	/* Padding only at the end, at most two, and only to a whole quad. */
	while (pad < len && pad < 2 && in[len - 1 - pad] == '=')
		pad++;
	if (pad > 0 && len % 4 != 0)
		return -1;
	len -= pad;
	if (len % 4 == 1)
		return -1;
	buf = o = xdc_arena_alloc(a, len / 4 * 3 + 3);
	for (i = 0; i + 4 <= len; i += 4) {
		v0 = b64_values[p[i]];
		v1 = b64_values[p[i + 1]];
		v2 = b64_values[p[i + 2]];
		v3 = b64_values[p[i + 3]];
		if ((v0 | v1 | v2 | v3) & 0x80)
			return -1;
		o[0] = (unsigned char)(v0 << 2 | v1 >> 4);
		o[1] = (unsigned char)(v1 << 4 | v2 >> 2);
		o[2] = (unsigned char)(v2 << 6 | v3);
		o += 3;
	}
	/* Two or three characters left: one or two bytes, the rest of the
	 * bits ignored, as before. */
	if (len - i >= 2) {
		v0 = b64_values[p[i]];
		v1 = b64_values[p[i + 1]];
		v2 = len - i == 3 ? b64_values[p[i + 2]] : 0;
		if ((v0 | v1 | v2) & 0x80)
			return -1;
		*o++ = (unsigned char)(v0 << 2 | v1 >> 4);
		if (len - i == 3)
			*o++ = (unsigned char)(v1 << 4 | v2 >> 2);
	}
	*o = '\0';
	*out = (char *)buf;
	*outlen = (size_t)(o - buf);
	return 0;
}

/* Requests. */

const char *
etcd_path(enum etcd_kind kind)
{
	switch (kind) {
	case ETCD_RANGE:
		return "/v3/kv/range";
	case ETCD_PUT:
		return "/v3/kv/put";
	case ETCD_DELETE:
		return "/v3/kv/deleterange";
	case ETCD_TXN:
		return "/v3/kv/txn";
	case ETCD_LEASE_GRANT:
		return "/v3/lease/grant";
	case ETCD_LEASE_KEEPALIVE:
		return "/v3/lease/keepalive";
	case ETCD_LEASE_REVOKE:
		return "/v3/lease/revoke";
	}
	return "/";
}

const char *
etcd_kind_name(enum etcd_kind kind)
{
	switch (kind) {
	case ETCD_RANGE:
		return "range";
	case ETCD_PUT:
		return "put";
	case ETCD_DELETE:
		return "delete";
	case ETCD_TXN:
		return "txn";
	case ETCD_LEASE_GRANT:
		return "lease grant";
	case ETCD_LEASE_KEEPALIVE:
		return "lease keepalive";
	case ETCD_LEASE_REVOKE:
		return "lease revoke";
	}
	return "call";
}

static void
set_bytes(json_t *o, const char *name, const void *p, size_t len)
{
	char *s = etcd_b64_encode(p, len);

	json_object_set_new(o, name, json_string(s));
	free(s);
}

/* int64 as proto3 JSON spells them: decimal strings. */
static void
set_i64(json_t *o, const char *name, int64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	json_object_set_new(o, name, json_string(buf));
}

/*
 * The key, and the range end that makes it a prefix: the first key after
 * every key that starts with it (etcd's clientv3.GetPrefixRangeEnd). A
 * prefix of 0xff bytes only, or the empty prefix, ranges to the end ("\0").
 */
static void
set_range(json_t *o, const char *key, unsigned flags)
{
	size_t len = strlen(key);
	unsigned char *end;
	size_t i;

	if (len == 0) {
		set_bytes(o, "key", "", 1);
		if (flags & ETCD_PREFIX)
			set_bytes(o, "range_end", "", 1);
		return;
	}
	set_bytes(o, "key", key, len);
	if (!(flags & ETCD_PREFIX))
		return;
	end = (unsigned char *)xdc_strdup(key);
	for (i = len; i > 0; i--) {
		if (end[i - 1] < 0xff) {
			end[i - 1]++;
			break;
		}
	}
	if (i == 0)
		set_bytes(o, "range_end", "", 1);
	else
		set_bytes(o, "range_end", end, i);
	free(end);
}

static json_t *
op_object(const struct etcd_op *op)
{
	json_t *o = json_object();

	set_range(o, op->op_key, op->op_kind == ETCD_PUT ? 0 : op->op_flags);
	switch (op->op_kind) {
	case ETCD_RANGE:
		if (op->op_limit > 0)
			set_i64(o, "limit", op->op_limit);
		if (op->op_revision > 0)
			set_i64(o, "revision", op->op_revision);
		if (op->op_flags & ETCD_KEYS_ONLY)
			json_object_set_new(o, "keys_only", json_true());
		if (op->op_flags & ETCD_COUNT_ONLY)
			json_object_set_new(o, "count_only", json_true());
		break;
	case ETCD_PUT:
		set_bytes(o, "value", op->op_value == NULL ? "" : op->op_value,
		    op->op_value_len);
		if (op->op_lease != 0)
			set_i64(o, "lease", op->op_lease);
		if (op->op_flags & ETCD_PREV_KV)
			json_object_set_new(o, "prev_kv", json_true());
		break;
	case ETCD_DELETE:
		if (op->op_flags & ETCD_PREV_KV)
			json_object_set_new(o, "prev_kv", json_true());
		break;
	default:
		break;
	}
	return o;
}

static char *
dump(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);

	json_decref(o);
	if (s == NULL)
		abort(); /* only allocation fails here */
	return s;
}

char *
etcd_encode_op(const struct etcd_op *op)
{
	return dump(op_object(op));
}

static json_t *
ops_array(const struct etcd_op *ops, size_t n)
{
	static const char *const names[] = {
		[ETCD_RANGE] = "request_range",
		[ETCD_PUT] = "request_put",
		[ETCD_DELETE] = "request_delete_range",
	};
	json_t *arr = json_array(), *o;
	size_t i;

	for (i = 0; i < n; i++) {
		if (ops[i].op_kind > ETCD_DELETE)
			continue; /* refused by etcd_txn */
		o = json_object();
		json_object_set_new(
		    o, names[ops[i].op_kind], op_object(&ops[i]));
		json_array_append_new(arr, o);
	}
	return arr;
}

char *
etcd_encode_txn(const struct etcd_cmp *cmp, size_t ncmp,
    const struct etcd_op *success, size_t nsuccess,
    const struct etcd_op *failure, size_t nfailure)
{
	static const char *const targets[] = { "VERSION", "CREATE", "MOD",
		"VALUE", "LEASE" };
	static const char *const fields[] = { "version", "create_revision",
		"mod_revision", "value", "lease" };
	static const char *const results[] = { "EQUAL", "GREATER", "LESS",
		"NOT_EQUAL" };
	json_t *o = json_object(), *arr = json_array(), *c;
	const struct etcd_cmp *p;
	size_t i;

	for (i = 0; i < ncmp; i++) {
		p = &cmp[i];
		c = json_object();
		set_range(c, p->cmp_key, 0);
		json_object_set_new(
		    c, "target", json_string(targets[p->cmp_target % 5]));
		json_object_set_new(
		    c, "result", json_string(results[p->cmp_result % 4]));
		if (p->cmp_target == ETCD_CMP_VALUE)
			set_bytes(c, fields[3],
			    p->cmp_value == NULL ? "" : p->cmp_value,
			    p->cmp_value_len);
		else
			set_i64(c, fields[p->cmp_target % 5], p->cmp_number);
		json_array_append_new(arr, c);
	}
	json_object_set_new(o, "compare", arr);
	json_object_set_new(o, "success", ops_array(success, nsuccess));
	json_object_set_new(o, "failure", ops_array(failure, nfailure));
	return dump(o);
}

char *
etcd_encode_lease(enum etcd_kind kind, int64_t lease, int64_t ttl)
{
	json_t *o = json_object();

	if (kind == ETCD_LEASE_GRANT)
		set_i64(o, "TTL", ttl);
	if (lease != 0)
		set_i64(o, "ID", lease);
	return dump(o);
}

char *
etcd_encode_watch(const char *key, unsigned flags, int64_t start)
{
	json_t *o = json_object(), *c = json_object();

	set_range(c, key, flags);
	if (start > 0)
		set_i64(c, "start_revision", start);
	if (flags & ETCD_PREV_KV)
		json_object_set_new(c, "prev_kv", json_true());
	json_object_set_new(o, "create_request", c);
	return dump(o);
}
