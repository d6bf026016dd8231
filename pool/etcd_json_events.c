/*
 * etcd's answers read as events (yajl), without a tree: a range's answer
 * and a watch stream's message. The pool's one range brings every host's
 * record, megabytes of base64, and each watch message one record, which
 * jansson would first copy into a tree of strings. Here each key and
 * value is base64-decoded from the string's bytes straight into the
 * arena, and the numbers and flags are read as they pass. It takes only
 * the ordinary shapes, a range's answer of HTTP 200 and a watch message
 * {"result": {...}}; on anything else (an error, a cancel, a wrong type,
 * an escape or a byte that is not ASCII in a string, a real number, a
 * duplicate field, a nesting deeper than etcd's, bad base64, a yajl
 * error) it gives up, and the caller reads the same bytes again with
 * jansson (etcd_json_decode.c), whose result and message stay the
 * reference: this file decides nothing that one would not.
 *
 * A range's answer can also be read as it comes (struct
 * etcd_range_reader), in pieces of any size: each kv goes to the caller
 * as soon as it is read, its key and value decoded into one buffer that
 * the next kv reuses, so neither the answer nor its values need to be
 * held whole.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "base/arena.h"
#include "base/error.h"
#include "pool/etcd_json.h"

/* Deeper than any answer of etcd's; jansson's limit is far above it. */
#define EVENTS_DEPTH_MAX 32

/* Where the parser is. */
enum where {
	W_START,  /* before the answer's object */
	W_TOP,    /* in a range's answer */
	W_ROOT,   /* in a watch message, around its result */
	W_RESULT, /* in that result */
	W_HEADER,
	W_KVS,    /* a range's kvs: each element a kv */
	W_EVENTS, /* a watch's events: each element an event */
	W_EVENT,
	W_KV,   /* a kv, of kvs or of an event */
	W_DONE, /* after it all */
	W_COUNT,
};

/* What the value after a field is, by its name. */
enum field {
	F_NONE, /* no field named: a value here is an element, or an error */
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
	F_RESULT,
	F_CREATED,
	F_CANCELED,
	F_COMPACT,
	F_EVENTS,
	F_TYPE,
	F_EVKV,
	F_PREVKV,
};

struct rd {
	struct xdc_arena *rd_arena; /* with rd_each, one kv's, reset after it */
	yajl_handle rd_h;
	size_t rd_end; /* the bytes up to the object's end, in its piece */
	etcd_kv_cb *rd_each; /* a range read as it comes: each kv to it */
	void *rd_each_arg;
	size_t rd_handed; /* kvs handed to rd_each */
	int rd_watch;     /* reading a watch message, not a range */
	enum where rd_where;
	enum field rd_want;
	enum field rd_kv_of;       /* F_KVS, F_EVKV or F_PREVKV */
	int rd_depth;              /* maps and arrays open */
	int rd_skip;               /* of those, open in a skipped value */
	unsigned rd_seen[W_COUNT]; /* fields read, by where */
	struct etcd_kv rd_kv;
	void *rd_elts; /* kvs or events, malloc'd until the end */
	size_t rd_nelts, rd_cap;
	struct etcd_event rd_ev;
	int rd_ev_kv; /* rd_ev has its kv */

	/* What the message says, beyond its elements. */
	int64_t rd_revision, rd_count, rd_compact;
	int rd_more, rd_created, rd_canceled, rd_result;
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
	{ W_ROOT, "result", F_RESULT },
	{ W_ROOT, "error", F_NONE },
	{ W_RESULT, "header", F_HEADER },
	{ W_RESULT, "created", F_CREATED },
	{ W_RESULT, "canceled", F_CANCELED },
	{ W_RESULT, "compact_revision", F_COMPACT },
	{ W_RESULT, "events", F_EVENTS },
	{ W_HEADER, "revision", F_REVISION },
	{ W_EVENT, "type", F_TYPE },
	{ W_EVENT, "kv", F_EVKV },
	{ W_EVENT, "prev_kv", F_PREVKV },
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
		return &r->rd_count;
	case F_REVISION:
		return &r->rd_revision;
	case F_COMPACT:
		return &r->rd_compact;
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

static int *
bool_of(struct rd *r, enum field f)
{
	switch (f) {
	case F_MORE:
		return &r->rd_more;
	case F_CREATED:
		return &r->rd_created;
	case F_CANCELED:
		return &r->rd_canceled;
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
	if (r->rd_where == W_KVS || r->rd_where == W_EVENTS)
		return F_NONE; /* an element that is not an object */
	return f;
}

static int
on_null(void *ctx)
{
	enum field f = scalar(ctx);

	/* Absent, for every field we read but these two. */
	return f != F_NONE && f != F_RESULT && f != F_EVKV;
}

static int
on_boolean(void *ctx, int v)
{
	struct rd *r = ctx;
	enum field f = scalar(r);
	int *p;

	if (f == F_SKIP)
		return 1;
	if ((p = bool_of(r, f)) == NULL)
		return 0;
	*p = v != 0;
	return 1;
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
	if (f == F_TYPE && (n == 0 || n == 1)) {
		r->rd_ev.ev_type = n == 0 ? ETCD_EVENT_PUT : ETCD_EVENT_DELETE;
		return 1;
	}
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
	case F_TYPE:
		if (len == 3 && memcmp(s, "PUT", 3) == 0)
			r->rd_ev.ev_type = ETCD_EVENT_PUT;
		else if (len == 6 && memcmp(s, "DELETE", 6) == 0)
			r->rd_ev.ev_type = ETCD_EVENT_DELETE;
		else
			return 0;
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
	unsigned *seen = &r->rd_seen[r->rd_where];
	size_t i;

	if (!ascii(s, len))
		return 0;
	if (r->rd_skip > 0)
		return 1;
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
	if (++r->rd_depth > EVENTS_DEPTH_MAX)
		return 0;
	if (r->rd_skip > 0 || r->rd_want == F_SKIP) {
		r->rd_skip++;
		r->rd_want = F_NONE;
		return 1;
	}
	return -1; /* ours: the caller says which */
}

/* Into w, with none of its fields read yet. */
static void
enter(struct rd *r, enum where w)
{
	r->rd_where = w;
	r->rd_seen[w] = 0;
	r->rd_want = F_NONE;
}

static void
start_kv(struct rd *r, enum field of)
{
	memset(&r->rd_kv, 0, sizeof(r->rd_kv));
	r->rd_kv.kv_key = r->rd_kv.kv_value = "";
	r->rd_kv_of = of;
	enter(r, W_KV);
}

static int
on_start_map(void *ctx)
{
	struct rd *r = ctx;
	enum field f = r->rd_want;
	int rc;

	if ((rc = open_one(r)) >= 0)
		return rc;
	if (r->rd_where == W_START)
		enter(r, r->rd_watch ? W_ROOT : W_TOP);
	else if (f == F_RESULT)
		enter(r, W_RESULT);
	else if (f == F_HEADER)
		enter(r, W_HEADER);
	else if (r->rd_where == W_KVS)
		start_kv(r, F_KVS);
	else if (r->rd_where == W_EVENTS) {
		memset(&r->rd_ev, 0, sizeof(r->rd_ev));
		r->rd_ev_kv = 0;
		enter(r, W_EVENT);
	} else if (f == F_EVKV || f == F_PREVKV)
		start_kv(r, f);
	else
		return 0;
	return 1;
}

static int
on_start_array(void *ctx)
{
	struct rd *r = ctx;
	int rc;

	if ((rc = open_one(r)) >= 0)
		return rc;
	if (r->rd_want == F_KVS)
		enter(r, W_KVS);
	else if (r->rd_want == F_EVENTS)
		enter(r, W_EVENTS);
	else
		return 0;
	return 1;
}

static void
push(struct rd *r, const void *elt, size_t size)
{
	if (r->rd_nelts == r->rd_cap) {
		r->rd_cap = r->rd_cap == 0 ? 64 : r->rd_cap * 2;
		r->rd_elts = xdc_reallocarray(r->rd_elts, r->rd_cap, size);
	}
	memcpy((char *)r->rd_elts + r->rd_nelts++ * size, elt, size);
}

static int
on_end(void *ctx)
{
	struct rd *r = ctx;
	struct etcd_kv *prev;

	r->rd_depth--;
	if (r->rd_skip > 0) {
		r->rd_skip--;
		return 1;
	}
	switch (r->rd_where) {
	case W_TOP:
	case W_ROOT:
		/* yajl counts as it goes: the byte after this brace. */
		r->rd_end = yajl_get_bytes_consumed(r->rd_h);
		r->rd_where = W_DONE;
		break;
	case W_RESULT:
		r->rd_result = 1;
		r->rd_where = W_ROOT;
		break;
	case W_HEADER:
	case W_KVS:
	case W_EVENTS:
		r->rd_where = r->rd_watch ? W_RESULT : W_TOP;
		break;
	case W_EVENT:
		if (!r->rd_ev_kv)
			return 0; /* an event without its kv */
		push(r, &r->rd_ev, sizeof(r->rd_ev));
		r->rd_where = W_EVENTS;
		break;
	case W_KV:
		if (r->rd_kv_of == F_KVS && r->rd_each != NULL) {
			r->rd_each(&r->rd_kv, r->rd_each_arg);
			r->rd_handed++;
			xdc_arena_reset(r->rd_arena);
			r->rd_where = W_KVS;
			break;
		}
		if (r->rd_kv_of == F_KVS) {
			push(r, &r->rd_kv, sizeof(r->rd_kv));
			r->rd_where = W_KVS;
			break;
		}
		if (r->rd_kv_of == F_EVKV) {
			r->rd_ev.ev_kv = r->rd_kv;
			r->rd_ev_kv = 1;
		} else {
			prev = xdc_arena_alloc(r->rd_arena, sizeof(*prev));
			*prev = r->rd_kv;
			r->rd_ev.ev_prev_kv = prev;
		}
		r->rd_where = W_EVENT;
		break;
	default:
		return 0;
	}
	return 1;
}

static const yajl_callbacks callbacks = {
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

/*
 * With no escape, every string yajl hands us is the answer's own bytes,
 * so escapes that jansson would refuse and yajl take (a lone surrogate,
 * \u0000) never reach us; yajl takes \v and \f for spaces, jansson does
 * not.
 */
static int
plain(const char *p, size_t len)
{
	return memchr(p, '\\', len) == NULL && memchr(p, '\v', len) == NULL &&
	       memchr(p, '\f', len) == NULL;
}

/* Only the spaces jansson allows around a value. */
static int
spaces(const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\n' && p[i] != '\r')
			return 0;
	return 1;
}

/* The next piece of the bytes: 0, or -1 to give up. */
static int
parse_piece(struct rd *r, const char *p, size_t len)
{
	int done = r->rd_where == W_DONE;

	if (!plain(p, len) || yajl_parse(r->rd_h, (const unsigned char *)p,
	                          len) != yajl_status_ok)
		return -1;
	/*
	 * yajl takes what follows the object for the start of a token it
	 * waits the end of ('{}"x', '{} tr'); jansson refuses it.
	 */
	if (done)
		return spaces(p, len) ? 0 : -1;
	if (r->rd_where == W_DONE && !spaces(p + r->rd_end, len - r->rd_end))
		return -1;
	return 0;
}

/* After the last piece: 0 when the bytes were one object r took whole. */
static int
parse_end(struct rd *r)
{
	if (yajl_complete_parse(r->rd_h) != yajl_status_ok ||
	    r->rd_where != W_DONE)
		return -1;
	return 0;
}

/* 0 when the bytes are one object that r took whole; -1 to give up. */
static int
parse(struct rd *r, const char *body, size_t len)
{
	int rc = -1;

	if (len == 0 || !plain(body, len))
		return -1;
	if ((r->rd_h = yajl_alloc(&callbacks, NULL, r)) == NULL)
		return -1;
	if (parse_piece(r, body, len) == 0 && parse_end(r) == 0)
		rc = 0;
	yajl_free(r->rd_h);
	r->rd_h = NULL;
	return rc;
}

/* The elements, from malloc into the arena. */
static void *
elts(struct rd *r, size_t size)
{
	void *p;

	if (r->rd_nelts == 0)
		return NULL;
	p = xdc_arena_alloc(r->rd_arena, r->rd_nelts * size);
	memcpy(p, r->rd_elts, r->rd_nelts * size);
	return p;
}

int
etcd_decode_range_events(
    const char *body, size_t len, struct xdc_arena *a, struct etcd_result *res)
{
	struct rd r = { .rd_arena = a };
	int rc = -1;

	memset(res, 0, sizeof(*res));
	if (parse(&r, body, len) < 0)
		goto out;
	res->res_kind = ETCD_RANGE;
	res->res_http_status = 200;
	res->res_revision = r.rd_revision;
	res->res_kvs = elts(&r, sizeof(struct etcd_kv));
	res->res_nkvs = r.rd_nelts;
	res->res_count = r.rd_count;
	res->res_more = r.rd_more;
	rc = 0;
out:
	free(r.rd_elts);
	return rc;
}

int
etcd_decode_watch_events(const char *line, size_t len, struct xdc_arena *a,
    struct etcd_watch_msg *msg)
{
	struct rd r = { .rd_arena = a, .rd_watch = 1 };
	int rc = -1;

	memset(msg, 0, sizeof(*msg));
	/* A cancel is an error, with its reason: jansson's to say. */
	if (parse(&r, line, len) < 0 || !r.rd_result ||
	    (r.rd_compact <= 0 && r.rd_canceled))
		goto out;
	msg->wm_revision = r.rd_revision;
	if (r.rd_compact > 0) {
		msg->wm_kind = ETCD_WATCH_COMPACTED;
		msg->wm_compact_revision = r.rd_compact;
	} else if (r.rd_nelts > 0) {
		msg->wm_kind = ETCD_WATCH_EVENTS;
		msg->wm_events = elts(&r, sizeof(struct etcd_event));
		msg->wm_nevents = r.rd_nelts;
	} else
		msg->wm_kind =
		    r.rd_created ? ETCD_WATCH_CREATED : ETCD_WATCH_PROGRESS;
	rc = 0;
out:
	free(r.rd_elts);
	if (rc != 0) {
		memset(msg, 0, sizeof(*msg));
		msg->wm_kind = ETCD_WATCH_BROKEN;
	}
	return rc;
}

/* A range's answer as it comes. */

struct etcd_range_reader {
	struct rd rr_rd;
	int rr_gave_up;
	int rr_any; /* a byte came */
};

struct etcd_range_reader *
etcd_range_reader_new(etcd_kv_cb *each, void *arg)
{
	struct etcd_range_reader *rr = xdc_calloc(1, sizeof(*rr));

	rr->rr_rd.rd_arena = xdc_arena_new();
	rr->rr_rd.rd_each = each;
	rr->rr_rd.rd_each_arg = arg;
	if ((rr->rr_rd.rd_h = yajl_alloc(&callbacks, NULL, &rr->rr_rd)) == NULL)
		abort(); /* only allocation fails here */
	return rr;
}

int
etcd_range_reader_feed(struct etcd_range_reader *rr, const char *p, size_t len)
{
	if (rr->rr_gave_up)
		return -1;
	if (len == 0)
		return 0;
	rr->rr_any = 1;
	if (parse_piece(&rr->rr_rd, p, len) < 0) {
		rr->rr_gave_up = 1;
		return -1;
	}
	return 0;
}

int
etcd_range_reader_end(struct etcd_range_reader *rr, struct etcd_result *res)
{
	struct rd *r = &rr->rr_rd;

	memset(res, 0, sizeof(*res));
	if (rr->rr_gave_up || !rr->rr_any || parse_end(r) < 0) {
		rr->rr_gave_up = 1;
		return -1;
	}
	res->res_kind = ETCD_RANGE;
	res->res_http_status = 200;
	res->res_revision = r->rd_revision;
	res->res_count = r->rd_count;
	res->res_more = r->rd_more;
	return 0;
}

int64_t
etcd_range_reader_revision(const struct etcd_range_reader *rr)
{
	return rr->rr_rd.rd_revision;
}

size_t
etcd_range_reader_handed(const struct etcd_range_reader *rr)
{
	return rr->rr_rd.rd_handed;
}

void
etcd_range_reader_free(struct etcd_range_reader *rr)
{
	if (rr == NULL)
		return;
	yajl_free(rr->rr_rd.rd_h);
	xdc_arena_free(rr->rr_rd.rd_arena);
	free(rr);
}
