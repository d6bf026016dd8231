/*
 * The range's answer read as events (yajl), without a tree: the pool's
 * one range brings every host's record, megabytes of base64, which
 * jansson would first copy into a tree of strings. Here each key and
 * value is base64-decoded from the string's bytes in the answer straight
 * into the arena, and the header's revision, count, more and each kv's
 * revisions, version and lease are read as they pass. It takes only the
 * ordinary answer, 200 with the fields etcd sends; on anything else (an
 * error, a wrong type, an escape or a byte that is not ASCII in a string,
 * a real number, a duplicate field, a nesting deeper than etcd's, bad
 * base64, a yajl error) it gives up, and etcd_decode reads the answer
 * again with jansson (etcd_decode_tree), whose result and message stay
 * the reference: this file decides nothing that one would not.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "base/arena.h"
#include "base/error.h"
#include "pool/etcd_json.h"

/* Deeper than any answer of etcd's; jansson's limit is far above it. */
#define RANGE_DEPTH_MAX 32

/* Where the parser is. */
enum where {
	W_START, /* before the answer's object */
	W_TOP,   /* in it */
	W_HEADER,
	W_KVS, /* in the kvs array: each element a kv */
	W_KV,
	W_DONE, /* after it */
};

/* What the value after a field is, by its name. */
enum field {
	F_NONE, /* no field named: a value here is a kv, or an error */
	F_SKIP, /* one we do not read: skipped, though checked */
	F_HEADER,
	F_KVS,
	F_COUNT,
	F_MORE,
	F_REVISION,
	F_KEY,
	F_VALUE,
	F_CREATE,
	F_MOD,
	F_VERSION,
	F_LEASE,
};

struct rd {
	struct xdc_arena *rd_arena;
	yajl_handle rd_h;
	size_t rd_end; /* the bytes up to the answer's end */
	struct etcd_result *rd_res;
	enum where rd_where;
	enum field rd_want;
	int rd_depth;        /* maps and arrays open */
	int rd_skip;         /* of those, open in a skipped value */
	unsigned rd_seen[3]; /* fields read in the top, header and kv */
	struct etcd_kv rd_kv;
	struct etcd_kv *rd_kvs; /* malloc'd until the end */
	size_t rd_nkvs, rd_cap;
};

static const struct {
	enum where w;
	const char *name;
	enum field f;
} fields[] = {
	{ W_TOP, "header", F_HEADER },
	{ W_TOP, "kvs", F_KVS },
	{ W_TOP, "count", F_COUNT },
	{ W_TOP, "more", F_MORE },
	/* An error, or a stream's wrapper: for jansson to read. */
	{ W_TOP, "error", F_NONE },
	{ W_TOP, "result", F_NONE },
	{ W_HEADER, "revision", F_REVISION },
	{ W_KV, "key", F_KEY },
	{ W_KV, "value", F_VALUE },
	{ W_KV, "create_revision", F_CREATE },
	{ W_KV, "mod_revision", F_MOD },
	{ W_KV, "version", F_VERSION },
	{ W_KV, "lease", F_LEASE },
};

/*
 * Printable ASCII only: jansson checks UTF-8 more strictly than yajl
 * does, so a string it could refuse is left to it.
 */
static int
ascii(const unsigned char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return 0;
	return 1;
}

static int64_t *
i64_of(struct rd *r, enum field f)
{
	switch (f) {
	case F_COUNT:
		return &r->rd_res->res_count;
	case F_REVISION:
		return &r->rd_res->res_revision;
	case F_CREATE:
		return &r->rd_kv.kv_create_revision;
	case F_MOD:
		return &r->rd_kv.kv_mod_revision;
	case F_VERSION:
		return &r->rd_kv.kv_version;
	case F_LEASE:
		return &r->rd_kv.kv_lease;
	default:
		return NULL;
	}
}

/*
 * A decimal integer of s, as strtoll reads it whole; 0 when it is not one
 * or does not fit, as jansson and get_i64 would refuse it.
 */
static int
parse_i64(const char *s, size_t len, int64_t *out)
{
	char buf[32], *end;
	long long n;

	if (len == 0 || len >= sizeof(buf) ||
	    !(s[0] == '-' || (s[0] >= '0' && s[0] <= '9')))
		return 0;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	n = strtoll(buf, &end, 10);
	if (errno != 0 || *end != '\0')
		return 0;
	*out = n;
	return 1;
}

/*
 * A value (not a map or an array) arrives: is it the one expected?
 * Returns the field it is the value of, F_SKIP for one not read, or
 * F_NONE when we give up.
 */
static enum field
scalar(struct rd *r)
{
	enum field f = r->rd_want;

	if (r->rd_skip > 0)
		return F_SKIP;
	r->rd_want = F_NONE;
	if (r->rd_where == W_KVS)
		return F_NONE; /* a kv that is not an object */
	return f;
}

static int
on_null(void *ctx)
{
	/* Absent, for every field we read. */
	return scalar(ctx) != F_NONE;
}

static int
on_boolean(void *ctx, int v)
{
	struct rd *r = ctx;
	enum field f = scalar(r);

	if (f == F_MORE)
		r->rd_res->res_more = v != 0;
	return f == F_SKIP || f == F_MORE;
}

static int
on_number(void *ctx, const char *s, size_t len)
{
	struct rd *r = ctx;
	enum field f = scalar(r);
	int64_t n, *p;

	/* A real, or an integer out of range, is jansson's to judge. */
	if (memchr(s, '.', len) != NULL || memchr(s, 'e', len) != NULL ||
	    memchr(s, 'E', len) != NULL || !parse_i64(s, len, &n))
		return 0;
	if (f == F_SKIP)
		return 1;
	if ((p = i64_of(r, f)) == NULL)
		return 0;
	*p = n;
	return 1;
}

static int
on_string(void *ctx, const unsigned char *s, size_t len)
{
	struct rd *r = ctx;
	enum field f = scalar(r);
	const char **bytes;
	size_t *blen;
	char *out;
	int64_t *p;

	switch (f) {
	case F_SKIP:
		return ascii(s, len);
	case F_KEY:
	case F_VALUE:
		bytes = f == F_KEY ? &r->rd_kv.kv_key : &r->rd_kv.kv_value;
		blen =
		    f == F_KEY ? &r->rd_kv.kv_key_len : &r->rd_kv.kv_value_len;
		if (etcd_b64_decode(
		        (const char *)s, len, r->rd_arena, &out, blen) < 0)
			return 0;
		*bytes = out;
		return 1;
	default:
		if ((p = i64_of(r, f)) == NULL)
			return 0;
		return parse_i64((const char *)s, len, p);
	}
}

static int
on_map_key(void *ctx, const unsigned char *s, size_t len)
{
	struct rd *r = ctx;
	unsigned *seen;
	size_t i;

	if (!ascii(s, len))
		return 0;
	if (r->rd_skip > 0)
		return 1;
	seen = &r->rd_seen[r->rd_where == W_TOP      ? 0
	                   : r->rd_where == W_HEADER ? 1
	                                             : 2];
	r->rd_want = F_SKIP;
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (fields[i].w != r->rd_where ||
		    strlen(fields[i].name) != len ||
		    memcmp(fields[i].name, s, len) != 0)
			continue;
		/* jansson keeps the last of two: leave that to it. */
		if (fields[i].f == F_NONE || (*seen & 1u << i))
			return 0;
		*seen |= 1u << i;
		r->rd_want = fields[i].f;
		break;
	}
	return 1;
}

static int
open_one(struct rd *r)
{
	if (++r->rd_depth > RANGE_DEPTH_MAX)
		return 0;
	if (r->rd_skip > 0 || r->rd_want == F_SKIP) {
		r->rd_skip++;
		r->rd_want = F_NONE;
		return 1;
	}
	return -1; /* ours: the caller says which */
}

static int
on_start_map(void *ctx)
{
	struct rd *r = ctx;
	int rc;

	if ((rc = open_one(r)) >= 0)
		return rc;
	if (r->rd_where == W_START)
		r->rd_where = W_TOP;
	else if (r->rd_where == W_TOP && r->rd_want == F_HEADER)
		r->rd_where = W_HEADER;
	else if (r->rd_where == W_KVS) {
		memset(&r->rd_kv, 0, sizeof(r->rd_kv));
		r->rd_kv.kv_key = r->rd_kv.kv_value = "";
		r->rd_seen[2] = 0;
		r->rd_where = W_KV;
	} else
		return 0;
	r->rd_want = F_NONE;
	return 1;
}

static int
on_start_array(void *ctx)
{
	struct rd *r = ctx;
	int rc;

	if ((rc = open_one(r)) >= 0)
		return rc;
	if (r->rd_where != W_TOP || r->rd_want != F_KVS)
		return 0;
	r->rd_where = W_KVS;
	r->rd_want = F_NONE;
	return 1;
}

static int
on_end(void *ctx)
{
	struct rd *r = ctx;

	r->rd_depth--;
	if (r->rd_skip > 0) {
		r->rd_skip--;
		return 1;
	}
	switch (r->rd_where) {
	case W_TOP:
		/* yajl counts as it goes: the byte after this brace. */
		r->rd_end = yajl_get_bytes_consumed(r->rd_h);
		r->rd_where = W_DONE;
		break;
	case W_HEADER:
	case W_KVS:
		r->rd_where = W_TOP;
		break;
	case W_KV:
		if (r->rd_nkvs == r->rd_cap) {
			r->rd_cap = r->rd_cap == 0 ? 64 : r->rd_cap * 2;
			r->rd_kvs = xdc_reallocarray(
			    r->rd_kvs, r->rd_cap, sizeof(*r->rd_kvs));
		}
		r->rd_kvs[r->rd_nkvs++] = r->rd_kv;
		r->rd_where = W_KVS;
		break;
	default:
		return 0;
	}
	return 1;
}

static const yajl_callbacks range_callbacks = {
	.yajl_null = on_null,
	.yajl_boolean = on_boolean,
	.yajl_number = on_number,
	.yajl_string = on_string,
	.yajl_start_map = on_start_map,
	.yajl_map_key = on_map_key,
	.yajl_end_map = on_end,
	.yajl_start_array = on_start_array,
	.yajl_end_array = on_end,
};

int
etcd_decode_range_events(
    const char *body, size_t len, struct xdc_arena *a, struct etcd_result *res)
{
	struct rd r = { .rd_arena = a, .rd_res = res };
	yajl_handle h = NULL;
	struct etcd_kv *kvs;
	size_t i;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	/*
	 * With no escape, every string yajl hands us is the answer's own
	 * bytes, so escapes that jansson would refuse and yajl take (a lone
	 * surrogate, \u0000) never reach us; yajl takes \v and \f for
	 * spaces, jansson does not.
	 */
	if (len == 0 || memchr(body, '\\', len) != NULL ||
	    memchr(body, '\v', len) != NULL || memchr(body, '\f', len) != NULL)
		goto out;
	if ((h = yajl_alloc(&range_callbacks, NULL, &r)) == NULL)
		goto out;
	r.rd_h = h;
	if (yajl_parse(h, (const unsigned char *)body, len) != yajl_status_ok ||
	    yajl_complete_parse(h) != yajl_status_ok || r.rd_where != W_DONE)
		goto out;
	/*
	 * yajl takes what follows the object for the start of a token it
	 * waits the end of ('{}"x', '{} tr'); jansson refuses it.
	 */
	for (i = r.rd_end; i < len; i++)
		if (body[i] != ' ' && body[i] != '\t' && body[i] != '\n' &&
		    body[i] != '\r')
			goto out;
	if (r.rd_nkvs > 0) {
		kvs = xdc_arena_alloc(a, r.rd_nkvs * sizeof(*kvs));
		memcpy(kvs, r.rd_kvs, r.rd_nkvs * sizeof(*kvs));
		res->res_kvs = kvs;
		res->res_nkvs = r.rd_nkvs;
	}
	res->res_kind = ETCD_RANGE;
	res->res_http_status = 200;
	rc = 0;
out:
	if (h != NULL)
		yajl_free(h);
	free(r.rd_kvs);
	if (rc != 0)
		memset(res, 0, sizeof(*res));
	return rc;
}
