/*
 * The etcd client's wire format, what comes back (see etcd_json.h):
 * decoders of the answers to unary calls and of the watch stream's
 * messages, and the stream cut into lines. They check every field's type,
 * because a proxy or a newer etcd may answer with something else than we
 * expect and the pool view must then refuse, not guess. Each reads a tree
 * (jansson) and is the reference; the ordinary range answer and watch
 * message are read first as events (etcd_json_events.c), which give up
 * to these on anything else.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/arena.h"
#include "base/error.h"
#include "pool/etcd_json.h"

struct dec {
	struct xdc_arena *d_arena;
	const char *d_err; /* the first problem */
};

static int
bad(struct dec *d, const char *what, const char *name)
{
	if (d->d_err == NULL)
		d->d_err = xdc_arena_printf(d->d_arena,
		    "malformed response: '%s' is not %s", name, what);
	return -1;
}

/* Absent or null: 0. A decimal string, or a JSON integer. */
static int
get_i64(struct dec *d, json_t *o, const char *name, int64_t *out)
{
	json_t *v = json_object_get(o, name);
	const char *s;
	char *end;
	long long n;

	*out = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v))
		return bad(d, "an int64", name);
	s = json_string_value(v);
	if (json_string_length(v) == 0 || strlen(s) != json_string_length(v) ||
	    !(s[0] == '-' || (s[0] >= '0' && s[0] <= '9')))
		return bad(d, "an int64", name);
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return bad(d, "an int64", name);
	*out = n;
	return 0;
}

static int
get_bool(struct dec *d, json_t *o, const char *name, int *out)
{
	json_t *v = json_object_get(o, name);

	*out = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return bad(d, "a boolean", name);
	*out = json_is_true(v);
	return 0;
}

static int
get_bytes(
    struct dec *d, json_t *o, const char *name, const char **out, size_t *len)
{
	json_t *v = json_object_get(o, name);
	char *p;

	*out = "";
	*len = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v) ||
	    etcd_b64_decode(json_string_value(v), json_string_length(v),
	        d->d_arena, &p, len) < 0)
		return bad(d, "base64", name);
	*out = p;
	return 0;
}

/* NULL when absent; -1 when present but not an object or array. */
static int
get_obj(struct dec *d, json_t *o, const char *name, json_t **out)
{
	json_t *v = json_object_get(o, name);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return bad(d, "an object", name);
	*out = v;
	return 0;
}

static int
get_arr(struct dec *d, json_t *o, const char *name, json_t **out)
{
	json_t *v = json_object_get(o, name);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return bad(d, "an array", name);
	*out = v;
	return 0;
}

static int
dec_kv(struct dec *d, json_t *o, struct etcd_kv *kv)
{
	memset(kv, 0, sizeof(*kv));
	kv->kv_key = kv->kv_value = "";
	if (!json_is_object(o))
		return bad(d, "an object", "kv");
	if (get_bytes(d, o, "key", &kv->kv_key, &kv->kv_key_len) < 0 ||
	    get_bytes(d, o, "value", &kv->kv_value, &kv->kv_value_len) < 0 ||
	    get_i64(d, o, "create_revision", &kv->kv_create_revision) < 0 ||
	    get_i64(d, o, "mod_revision", &kv->kv_mod_revision) < 0 ||
	    get_i64(d, o, "version", &kv->kv_version) < 0 ||
	    get_i64(d, o, "lease", &kv->kv_lease) < 0)
		return -1;
	return 0;
}

static int
dec_kvs(struct dec *d, json_t *o, const char *name, const struct etcd_kv **out,
    size_t *n)
{
	struct etcd_kv *kvs;
	json_t *arr;
	size_t i;

	*out = NULL;
	*n = 0;
	if (get_arr(d, o, name, &arr) < 0)
		return -1;
	if (arr == NULL || json_array_size(arr) == 0)
		return 0;
	kvs = xdc_arena_zalloc(d->d_arena, json_array_size(arr) * sizeof(*kvs));
	for (i = 0; i < json_array_size(arr); i++)
		if (dec_kv(d, json_array_get(arr, i), &kvs[i]) < 0)
			return -1;
	*out = kvs;
	*n = i;
	return 0;
}

static int
dec_header(struct dec *d, json_t *o, int64_t *rev)
{
	json_t *h;

	*rev = 0;
	if (get_obj(d, o, "header", &h) < 0)
		return -1;
	return h == NULL ? 0 : get_i64(d, h, "revision", rev);
}

static int dec_body(
    struct dec *, enum etcd_kind, json_t *, struct etcd_result *);

static int
dec_txn(struct dec *d, json_t *o, struct etcd_result *res)
{
	static const struct {
		const char *name;
		enum etcd_kind kind;
	} ops[] = {
		{ "response_range", ETCD_RANGE },
		{ "response_put", ETCD_PUT },
		{ "response_delete_range", ETCD_DELETE },
	};
	struct etcd_result *rs;
	json_t *arr, *r, *body;
	size_t i, j;

	if (get_bool(d, o, "succeeded", &res->res_succeeded) < 0 ||
	    get_arr(d, o, "responses", &arr) < 0)
		return -1;
	if (arr == NULL || json_array_size(arr) == 0)
		return 0;
	rs = xdc_arena_zalloc(d->d_arena, json_array_size(arr) * sizeof(*rs));
	for (i = 0; i < json_array_size(arr); i++) {
		r = json_array_get(arr, i);
		if (!json_is_object(r))
			return bad(d, "an object", "responses");
		for (j = 0; j < sizeof(ops) / sizeof(ops[0]); j++)
			if ((body = json_object_get(r, ops[j].name)) != NULL)
				break;
		if (j == sizeof(ops) / sizeof(ops[0]))
			return bad(
			    d, "a range, put or delete response", "responses");
		if (!json_is_object(body))
			return bad(d, "an object", ops[j].name);
		rs[i].res_kind = ops[j].kind;
		if (dec_body(d, ops[j].kind, body, &rs[i]) < 0)
			return -1;
	}
	res->res_responses = rs;
	res->res_nresponses = i;
	return 0;
}

static int
dec_body(struct dec *d, enum etcd_kind kind, json_t *o, struct etcd_result *res)
{
	json_t *prev;
	struct etcd_kv *kv;

	if (dec_header(d, o, &res->res_revision) < 0)
		return -1;
	switch (kind) {
	case ETCD_RANGE:
		if (dec_kvs(d, o, "kvs", &res->res_kvs, &res->res_nkvs) < 0 ||
		    get_i64(d, o, "count", &res->res_count) < 0 ||
		    get_bool(d, o, "more", &res->res_more) < 0)
			return -1;
		return 0;
	case ETCD_PUT:
		if (get_obj(d, o, "prev_kv", &prev) < 0)
			return -1;
		if (prev == NULL)
			return 0;
		kv = xdc_arena_zalloc(d->d_arena, sizeof(*kv));
		if (dec_kv(d, prev, kv) < 0)
			return -1;
		res->res_kvs = kv;
		res->res_nkvs = 1;
		return 0;
	case ETCD_DELETE:
		if (get_i64(d, o, "deleted", &res->res_deleted) < 0 ||
		    dec_kvs(d, o, "prev_kvs", &res->res_kvs, &res->res_nkvs) <
		        0)
			return -1;
		return 0;
	case ETCD_TXN:
		return dec_txn(d, o, res);
	case ETCD_LEASE_GRANT:
	case ETCD_LEASE_KEEPALIVE:
		if (get_i64(d, o, "ID", &res->res_lease) < 0 ||
		    get_i64(d, o, "TTL", &res->res_ttl) < 0)
			return -1;
		return 0;
	case ETCD_LEASE_REVOKE:
		return 0;
	}
	return 0;
}

/* Printable text of an HTTP body that is not JSON, cut short. */
static const char *
snippet(struct xdc_arena *a, const char *body, size_t len)
{
	char *s;
	size_t i, n = len < 120 ? len : 120;

	s = xdc_arena_alloc(a, n + 4);
	for (i = 0; i < n; i++)
		s[i] = body[i] >= 0x20 && body[i] < 0x7f ? body[i] : ' ';
	while (i > 0 && s[i - 1] == ' ')
		i--;
	if (len > n)
		memcpy(s + i, "...", 3), i += 3;
	s[i] = '\0';
	return s;
}

static const char *
grpc_name(int code)
{
	static const char *const names[] = { "OK", "Canceled", "Unknown",
		"InvalidArgument", "DeadlineExceeded", "NotFound",
		"AlreadyExists", "PermissionDenied", "ResourceExhausted",
		"FailedPrecondition", "Aborted", "OutOfRange", "Unimplemented",
		"Internal", "Unavailable", "DataLoss", "Unauthenticated" };

	if (code >= 0 && code < (int)(sizeof(names) / sizeof(names[0])))
		return names[code];
	return "unknown";
}

/* "message (HTTP 404, code 5 NotFound)", each part only when known. */
static const char *
error_text(struct xdc_arena *a, const char *msg, long status, int code)
{
	char st[32] = "", cd[48] = "";

	if (status != 0)
		snprintf(st, sizeof(st), "HTTP %ld", status);
	if (code != 0)
		snprintf(cd, sizeof(cd), "%scode %d %s", status ? ", " : "",
		    code, grpc_name(code));
	if (status == 0 && code == 0)
		return msg;
	return xdc_arena_printf(a, "%s (%s%s)", msg, st, cd);
}

/*
 * etcd's error in either shape. Returns 1 when o is an error, with the
 * message and gRPC code; 0 when it is not.
 */
static int
dec_error(struct dec *d, json_t *o, const char **msg, int *code)
{
	json_t *e = json_object_get(o, "error"), *m, *c;

	*msg = NULL;
	*code = 0;
	if (e == NULL || json_is_null(e))
		return 0;
	if (json_is_string(e) && json_string_length(e) == 0)
		return 0; /* LeaseGrantResponse.error, at its default */
	if (json_is_object(e)) {
		m = json_object_get(e, "message");
		c = json_object_get(e, "grpc_code");
	} else {
		m = json_object_get(o, "message");
		c = json_object_get(o, "code");
		if (!json_is_string(m) || json_string_length(m) == 0)
			m = e;
	}
	if (json_is_string(m) && json_string_length(m) > 0)
		*msg = snippet(d->d_arena, json_string_value(m),
		    json_string_length(m) > 500 ? 500 : json_string_length(m));
	else
		*msg = "etcd gave no reason";
	if (json_is_integer(c) && json_integer_value(c) >= 0 &&
	    json_integer_value(c) < 1000)
		*code = (int)json_integer_value(c);
	return 1;
}

int
etcd_decode(enum etcd_kind kind, long status, const char *body, size_t len,
    struct xdc_arena *a, struct etcd_result *res)
{
	/* The pool's large answer without a tree; the rest, and any
	 * answer that one gives up on, with jansson. */
	if (kind == ETCD_RANGE && status == 200 &&
	    etcd_decode_range_events(body, len, a, res) == 0)
		return 0;
	return etcd_decode_tree(kind, status, body, len, a, res);
}

int
etcd_decode_tree(enum etcd_kind kind, long status, const char *body, size_t len,
    struct xdc_arena *a, struct etcd_result *res)
{
	struct dec d = { a, NULL };
	json_error_t jerr;
	json_t *root, *o;
	const char *msg;
	int code, rc = XDC_ERR;

	memset(res, 0, sizeof(*res));
	res->res_kind = kind;
	res->res_http_status = status;
	root = json_loadb(body, len, 0, &jerr);
	if (root == NULL) {
		if (status != 200)
			d.d_err = xdc_arena_printf(a, "HTTP %ld: %s", status,
			    len == 0 ? "empty body" : snippet(a, body, len));
		else
			d.d_err = xdc_arena_printf(a,
			    "malformed response: %s at byte %d", jerr.text,
			    jerr.position);
		goto out;
	}
	if (!json_is_object(root)) {
		d.d_err = "malformed response: not a JSON object";
		goto out;
	}
	if (dec_error(&d, root, &msg, &code)) {
		res->res_grpc_code = code;
		d.d_err = error_text(a, msg, status, code);
		if (code == 5)
			rc = XDC_ENOTFOUND;
		goto out;
	}
	if (status != 200) {
		d.d_err = xdc_arena_printf(
		    a, "HTTP %ld: %s", status, snippet(a, body, len));
		goto out;
	}
	/* A streamed call's one answer comes wrapped: {"result": {...}}. */
	o = root;
	if (json_is_object(json_object_get(root, "result")))
		o = json_object_get(root, "result");
	if (dec_error(&d, o, &msg, &code)) {
		res->res_grpc_code = code;
		d.d_err = error_text(a, msg, 0, code);
		if (code == 5)
			rc = XDC_ENOTFOUND;
		goto out;
	}
	if (dec_body(&d, kind, o, res) < 0)
		goto out;
	if (kind == ETCD_LEASE_KEEPALIVE && res->res_ttl <= 0) {
		/* etcd answers an expired or revoked lease with no TTL. */
		res->res_ttl = 0;
		res->res_grpc_code = 5;
		rc = XDC_ENOTFOUND;
		d.d_err = xdc_arena_printf(a,
		    "lease %" PRId64 " has expired or was revoked",
		    res->res_lease);
		goto out;
	}
	rc = 0;
out:
	json_decref(root);
	res->res_rc = rc;
	res->res_error = rc == 0 ? NULL : d.d_err;
	if (rc != 0 && kind == ETCD_TXN) {
		res->res_responses = NULL;
		res->res_nresponses = 0;
	}
	return rc;
}

void
etcd_decode_watch(const char *line, size_t len, struct xdc_arena *a,
    struct etcd_watch_msg *msg)
{
	/* A record's change, one at a time, without a tree; the rest, and
	 * what that gives up on, with jansson. */
	if (etcd_decode_watch_events(line, len, a, msg) == 0)
		return;
	etcd_decode_watch_tree(line, len, a, msg);
}

void
etcd_decode_watch_tree(const char *line, size_t len, struct xdc_arena *a,
    struct etcd_watch_msg *msg)
{
	struct dec d = { a, NULL };
	struct etcd_event *evs = NULL;
	json_error_t jerr;
	json_t *root, *o, *arr, *e, *t, *kv, *prev;
	const char *emsg, *reason;
	int code, created, canceled;
	int64_t compact;
	size_t i;

	memset(msg, 0, sizeof(*msg));
	msg->wm_kind = ETCD_WATCH_BROKEN;
	root = json_loadb(line, len, 0, &jerr);
	if (root == NULL) {
		d.d_err = xdc_arena_printf(a,
		    "malformed watch message: %s at byte %d", jerr.text,
		    jerr.position);
		goto out;
	}
	if (!json_is_object(root)) {
		d.d_err = "malformed watch message: not a JSON object";
		goto out;
	}
	if (dec_error(&d, root, &emsg, &code)) {
		d.d_err = error_text(a, emsg, 0, code);
		goto out;
	}
	o = root;
	if (json_object_get(root, "result") != NULL &&
	    get_obj(&d, root, "result", &o) < 0)
		goto out;
	if (o == NULL)
		o = root;
	if (dec_header(&d, o, &msg->wm_revision) < 0 ||
	    get_bool(&d, o, "created", &created) < 0 ||
	    get_bool(&d, o, "canceled", &canceled) < 0 ||
	    get_i64(&d, o, "compact_revision", &compact) < 0 ||
	    get_arr(&d, o, "events", &arr) < 0)
		goto out;
	if (compact > 0) {
		msg->wm_kind = ETCD_WATCH_COMPACTED;
		msg->wm_compact_revision = compact;
		goto done;
	}
	if (canceled) {
		t = json_object_get(o, "cancel_reason");
		reason = json_is_string(t) && json_string_length(t) > 0
		             ? snippet(a, json_string_value(t),
		                   json_string_length(t))
		             : "no reason given";
		d.d_err = xdc_arena_printf(a, "watch canceled: %s", reason);
		goto out;
	}
	if (arr != NULL && json_array_size(arr) > 0) {
		evs = xdc_arena_zalloc(a, json_array_size(arr) * sizeof(*evs));
		for (i = 0; i < json_array_size(arr); i++) {
			e = json_array_get(arr, i);
			if (!json_is_object(e)) {
				bad(&d, "an object", "events");
				goto out;
			}
			t = json_object_get(e, "type");
			if (t == NULL || json_is_null(t) ||
			    (json_is_string(t) &&
			        strcmp(json_string_value(t), "PUT") == 0) ||
			    (json_is_integer(t) && json_integer_value(t) == 0))
				evs[i].ev_type = ETCD_EVENT_PUT;
			else if ((json_is_string(t) &&
			             strcmp(json_string_value(t), "DELETE") ==
			                 0) ||
			         (json_is_integer(t) &&
			             json_integer_value(t) == 1))
				evs[i].ev_type = ETCD_EVENT_DELETE;
			else {
				bad(&d, "PUT or DELETE", "type");
				goto out;
			}
			if (get_obj(&d, e, "kv", &kv) < 0 ||
			    get_obj(&d, e, "prev_kv", &prev) < 0)
				goto out;
			if (kv == NULL) {
				bad(&d, "an object", "kv");
				goto out;
			}
			if (dec_kv(&d, kv, &evs[i].ev_kv) < 0)
				goto out;
			if (prev != NULL) {
				struct etcd_kv *p =
				    xdc_arena_zalloc(a, sizeof(*p));

				if (dec_kv(&d, prev, p) < 0)
					goto out;
				evs[i].ev_prev_kv = p;
			}
		}
		msg->wm_kind = ETCD_WATCH_EVENTS;
		msg->wm_events = evs;
		msg->wm_nevents = i;
		goto done;
	}
	msg->wm_kind = created ? ETCD_WATCH_CREATED : ETCD_WATCH_PROGRESS;
done:
	d.d_err = NULL;
out:
	json_decref(root);
	if (d.d_err != NULL) {
		msg->wm_kind = ETCD_WATCH_BROKEN;
		msg->wm_error = d.d_err;
		msg->wm_events = NULL;
		msg->wm_nevents = 0;
	}
}

/* The stream, cut into lines. */

int
etcd_lines_add(struct etcd_lines *l, const char *p, size_t n)
{
	size_t cap;

	/* Forget what was returned before growing. */
	if (l->l_off > 0 && l->l_len + n > l->l_cap) {
		memmove(l->l_buf, l->l_buf + l->l_off, l->l_len - l->l_off);
		l->l_len -= l->l_off;
		l->l_scan -= l->l_off;
		l->l_off = 0;
	}
	if (l->l_len + n > ETCD_LINE_MAX)
		return -1;
	if (l->l_buf == NULL || l->l_len + n > l->l_cap) {
		cap = l->l_cap == 0 ? 4096 : l->l_cap;
		while (cap < l->l_len + n)
			cap *= 2;
		l->l_buf = xdc_reallocarray(l->l_buf, cap, 1);
		l->l_cap = cap;
	}
	if (n > 0)
		memcpy(l->l_buf + l->l_len, p, n);
	l->l_len += n;
	return 0;
}

int
etcd_lines_next(struct etcd_lines *l, const char **line, size_t *len)
{
	char *nl;
	size_t start, end;

	for (;;) {
		if (l->l_scan < l->l_off)
			l->l_scan = l->l_off;
		nl = l->l_scan < l->l_len ? memchr(l->l_buf + l->l_scan, '\n',
		                                l->l_len - l->l_scan)
		                          : NULL;
		if (nl == NULL) {
			l->l_scan = l->l_len;
			if (l->l_off == l->l_len)
				l->l_off = l->l_len = l->l_scan = 0;
			return 0;
		}
		start = l->l_off;
		end = (size_t)(nl - l->l_buf);
		l->l_off = l->l_scan = end + 1;
		if (end > start && l->l_buf[end - 1] == '\r')
			end--;
		if (end == start)
			continue; /* an empty line, as between messages */
		*line = l->l_buf + start;
		*len = end - start;
		return 1;
	}
}

void
etcd_lines_reset(struct etcd_lines *l)
{
	l->l_len = l->l_off = l->l_scan = 0;
}

void
etcd_lines_free(struct etcd_lines *l)
{
	free(l->l_buf);
	memset(l, 0, sizeof(*l));
}
