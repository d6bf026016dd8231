/*
 * Observed state from JSON text by yajl's events (see obs_read.h): the
 * events become tokens, the tokens are read by a cursor into the structs
 * with the defaults, ranges and sorting of obs_json.c's reader, and
 * whatever that reader would refuse, or this one is not sure of, gives
 * up. Here too: a file read in pieces, through a window the tokens point
 * into; and the events of a host's domains handed to obs_read_dom.c,
 * which reads them without tokens.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yajl/yajl_parse.h>

#include "base/arena.h"
#include "base/error.h"
#include "drivers/obs_json.h"
#include "drivers/obs_read.h"
#include "drivers/obs_read_dom.h"
#include "schema/values.h"

enum { T_NULL, T_BOOL, T_NUM, T_STR, T_KEY, T_MAP, T_ARR, T_DOM };

struct obs_tok {
	const char *t_s; /* a string's, key's or number's bytes, in the text */
	uint32_t t_n; /* their length; a map's members, an array's elements */
	uint8_t t_type;
	uint8_t t_bool;
};

static int enabled = 1;
static size_t piece_size; /* obs_read_parse_fd's; 0: PIECE */

#define PIECE (64 * 1024)

static void piece_drop(struct obs_read *, size_t);

void
obs_read_enable(int on)
{
	enabled = on;
}

void
obs_read_init(struct obs_read *r)
{
	memset(r, 0, sizeof(*r));
}

void
obs_read_piece_size(size_t n)
{
	piece_size = n;
}

void
obs_read_fini(struct obs_read *r)
{
	free(r->or_toks);
	free(r->or_win);
	free(r->or_side);
	obs_dom_free(r->or_dom);
	free(r->or_doms);
	memset(r, 0, sizeof(*r));
}

/* ---- Events to tokens ------------------------------------------------- */

/* A token at the end; the array it is in counts it. 0 stops the parse. */
static int
tok_add(struct obs_read *r, int type, const void *s, size_t n, int b)
{
	struct obs_tok *t;

	if (n > UINT32_MAX ||
	    (r->or_arr != 0 && ++r->or_toks[r->or_arr - 1].t_n == 0))
		return 0;
	if (r->or_ntoks == r->or_cap) {
		r->or_cap = r->or_cap ? r->or_cap * 2 : 1024;
		r->or_toks = xdc_reallocarray(
		    r->or_toks, r->or_cap, sizeof(*r->or_toks));
	}
	t = &r->or_toks[r->or_ntoks++];
	t->t_s = s;
	t->t_n = (uint32_t)n;
	t->t_type = (uint8_t)type;
	t->t_bool = (uint8_t)b;
	return 1;
}

/* The array that is open innermost, if any: what tok_add counts in. */
static void
top_set(struct obs_read *r)
{
	size_t at = r->or_depth ? r->or_stack[r->or_depth - 1] : 0;

	r->or_arr = r->or_depth && r->or_toks[at].t_type == T_ARR ? at + 1 : 0;
}

/*
 * Bytes yajl hands over from the text itself, where the token points.
 * A string with escapes comes from yajl's own buffer, decoded as jansson
 * may not decode it (a lone surrogate): not sure, so no (NULL). A text
 * read in pieces has no escapes (odd_bytes); there a token begun in one
 * piece and ended in the next comes from yajl's buffer too, and is found
 * in the window, ending where yajl stopped (past the closing quote of a
 * string, at the end of a number).
 */
static const char *__attribute__((noinline))
cut_token(const struct obs_read *r, const void *s, size_t n, size_t quote)
{
	size_t end;

	if (r->or_yajl == NULL)
		return NULL;
	end = r->or_piece + yajl_get_bytes_consumed(r->or_yajl);
	if (end < n + quote || end > r->or_len)
		return NULL;
	end -= quote;
	if (memcmp(r->or_text + end - n, s, n) != 0)
		return NULL;
	return r->or_text + end - n;
}

static inline const char *
in_text(const struct obs_read *r, const void *s, size_t n, size_t quote)
{
	uintptr_t p = (uintptr_t)s, t = (uintptr_t)r->or_text;

	if (p >= t && p - t <= r->or_len && n <= r->or_len - (p - t))
		return s;
	return cut_token(r, s, n, quote);
}

/* Inside a domain read straight (obs_read_domains), or to be: 1 or 0. */
#define IN_DOM(r) ((r)->or_in_dom)

/* Whether a string's bytes are sure: no escape (see in_text). */
#define SURE(r, s, n) ((r)->or_yajl != NULL || in_text(r, s, n, 0) == (s))

static int
ev_null(void *ctx)
{
	struct obs_read *r = ctx;

	if (IN_DOM(r))
		return obs_dom_null(r->or_dom);
	return tok_add(r, T_NULL, NULL, 0, 0);
}

static int
ev_bool(void *ctx, int b)
{
	struct obs_read *r = ctx;

	if (IN_DOM(r))
		return obs_dom_bool(r->or_dom, b);
	return tok_add(r, T_BOOL, NULL, 0, b != 0);
}

static int
ev_number(void *ctx, const char *s, size_t n)
{
	struct obs_read *r = ctx;

	if (IN_DOM(r))
		return obs_dom_number(r->or_dom, s, n);
	return (s = in_text(r, s, n, 0)) != NULL && tok_add(r, T_NUM, s, n, 0);
}

static int
ev_string(void *ctx, const unsigned char *s, size_t n)
{
	struct obs_read *r = ctx;
	const char *t;

	if (IN_DOM(r))
		return SURE(r, (const char *)s, n) &&
		       obs_dom_string(r->or_dom, (const char *)s, n);
	t = in_text(r, s, n, 1);
	return t != NULL && tok_add(r, T_STR, t, n, 0);
}

static int
ev_key(void *ctx, const unsigned char *s, size_t n)
{
	struct obs_read *r = ctx;
	const char *t;

	if (IN_DOM(r))
		return SURE(r, (const char *)s, n) &&
		       obs_dom_key(r->or_dom, (const char *)s, n);
	if ((t = in_text(r, s, n, 1)) == NULL)
		return 0;
	r->or_toks[r->or_stack[r->or_depth - 1]].t_n++;
	return tok_add(r, T_KEY, t, n, 0);
}

/* Whether the array open innermost is the value of key, at depth. */
static int
is_array_of(const struct obs_read *r, unsigned depth, const char *key)
{
	const struct obs_tok *t;

	if (r->or_depth < depth)
		return 0;
	t = &r->or_toks[r->or_stack[depth - 1]];
	return t->t_type == T_ARR && r->or_stack[depth - 1] > 0 &&
	       t[-1].t_type == T_KEY && obs_read_is(t[-1].t_s, t[-1].t_n, key);
}

/*
 * Whether a map opening now is a domain to read straight: an element of
 * a host's "domains", the host the root, or an element of or_each_key's
 * array.
 */
static int
dom_opens(const struct obs_read *r)
{
	if (r->or_dom == NULL || r->or_arr == 0 ||
	    r->or_depth != (r->or_each != NULL ? 4 : 2) ||
	    !is_array_of(r, r->or_depth, "domains"))
		return 0;
	return r->or_each == NULL || is_array_of(r, 2, r->or_each_key);
}

static int
ev_open(struct obs_read *r, int type)
{
	if (r->or_depth == OBS_READ_DEPTH || !tok_add(r, type, NULL, 0, 0))
		return 0;
	r->or_stack[r->or_depth++] = r->or_ntoks - 1;
	top_set(r);
	return 1;
}

static int
ev_start_map(void *ctx)
{
	struct obs_read *r = ctx;

	if (IN_DOM(r))
		return obs_dom_open(r->or_dom, 1);
	if (dom_opens(r)) {
		obs_dom_begin(r->or_dom, r->or_dom_flags, r->or_dom_arena);
		r->or_in_dom = 1;
		return 1;
	}
	return ev_open(r, T_MAP);
}

static int
ev_start_array(void *ctx)
{
	struct obs_read *r = ctx;

	if (IN_DOM(r))
		return obs_dom_open(r->or_dom, 0);
	return ev_open(r, T_ARR);
}

/* A domain read straight closed: kept, and a token for it. */
static int
dom_close(struct obs_read *r)
{
	int done;

	if (!obs_dom_close(r->or_dom, &done))
		return 0;
	if (!done)
		return 1;
	r->or_in_dom = 0;
	if (r->or_ndoms == r->or_doms_cap) {
		r->or_doms_cap = r->or_doms_cap ? 2 * r->or_doms_cap : 64;
		r->or_doms = xdc_reallocarray(
		    r->or_doms, r->or_doms_cap, sizeof(*r->or_doms));
	}
	r->or_doms[r->or_ndoms] = *obs_dom_result(r->or_dom);
	return tok_add(r, T_DOM, NULL, r->or_ndoms++, 0);
}

void
obs_read_domains(struct obs_read *r, unsigned flags, struct xdc_arena *arena)
{
	if (r->or_dom == NULL)
		r->or_dom = obs_dom_new();
	r->or_dom_flags = flags;
	r->or_dom_arena = arena;
}

void
obs_read_share(struct obs_read *r, struct xdc_strtab *t)
{
	obs_dom_share(r->or_dom, t);
}

int
obs_read_built(struct obs_read *r, unsigned flags, struct xdc_obs_domain *out)
{
	const struct obs_tok *t;

	if (r->or_pos >= r->or_ntoks ||
	    (t = &r->or_toks[r->or_pos])->t_type != T_DOM)
		return 0;
	if (flags != r->or_dom_flags || t->t_n >= r->or_ndoms)
		return -1;
	*out = r->or_doms[t->t_n];
	r->or_pos++;
	return 1;
}

/*
 * A value closed. An object that is an element of the root's member
 * or_each_key goes to or_each, then its tokens go: the array keeps one
 * element's tokens at a time, however long it is.
 */
static int
ev_close(void *ctx)
{
	struct obs_read *r = ctx;
	size_t at;
	struct obs_tok *arr, *key;

	if (IN_DOM(r))
		return dom_close(r);
	at = r->or_stack[--r->or_depth];

	top_set(r);
	if (r->or_each == NULL || r->or_depth != 2 ||
	    r->or_toks[at].t_type != T_MAP)
		return 1;
	arr = &r->or_toks[r->or_stack[1]];
	key = arr - 1;
	if (arr->t_type != T_ARR || key->t_type != T_KEY ||
	    !obs_read_is(key->t_s, key->t_n, r->or_each_key))
		return 1;
	r->or_pos = at;
	if (r->or_each(r, r->or_each_arg) != 0)
		return 0;
	if (r->or_yajl != NULL)
		piece_drop(r, at);
	r->or_ntoks = at;
	r->or_ndoms = 0;
	r->or_pos = 0;
	arr->t_n--;
	return 1;
}

static const yajl_callbacks events = {
	.yajl_null = ev_null,
	.yajl_boolean = ev_bool,
	.yajl_number = ev_number,
	.yajl_string = ev_string,
	.yajl_start_map = ev_start_map,
	.yajl_map_key = ev_key,
	.yajl_end_map = ev_close,
	.yajl_start_array = ev_start_array,
	.yajl_end_array = ev_close,
};

/*
 * Whether the text has a byte the two parsers may take differently: one
 * above 0x7f (yajl lets overlong UTF-8 and encoded surrogates through,
 * jansson does not), or a vertical tab or form feed (whitespace to yajl,
 * not to jansson).
 */
static int
odd_bytes(const char *text, size_t len)
{
	uint64_t w, high = 0;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&w, text + i, 8);
		high |= w;
	}
	for (; i < len; i++)
		high |= (unsigned char)text[i];
	return (high & 0x8080808080808080ULL) != 0 ||
	       memchr(text, '\v', len) != NULL ||
	       memchr(text, '\f', len) != NULL;
}

static void
parse_begin(struct obs_read *r, const char *text, size_t len, const char *key,
    obs_read_each_fn *each, void *arg)
{
	r->or_each_key = key;
	r->or_each = each;
	r->or_each_arg = arg;

	r->or_ntoks = r->or_pos = 0;
	r->or_depth = 0;
	r->or_arr = 0;
	r->or_text = text;
	r->or_len = len;
	r->or_yajl = NULL;
	r->or_in_dom = 0;
	r->or_ndoms = 0;
	r->or_keep = 0;
	r->or_last = NULL;
	free(r->or_side);
	r->or_side = NULL;
	r->or_side_len = 0;
}

int
obs_read_parse(struct obs_read *r, const char *text, size_t len)
{
	return obs_read_parse_each(r, text, len, NULL, NULL, NULL);
}

int
obs_read_parse_each(struct obs_read *r, const char *text, size_t len,
    const char *key, obs_read_each_fn *each, void *arg)
{
	yajl_handle h;
	int ok;

	parse_begin(r, text, len, key, each, arg);
	if (!enabled || odd_bytes(text, len))
		return -1;
	if ((h = yajl_alloc(&events, NULL, r)) == NULL)
		return -1;
	/* yajl's defaults are JSON's: no comments, one value, nothing after. */
	ok =
	    yajl_parse(h, (const unsigned char *)text, len) == yajl_status_ok &&
	    yajl_complete_parse(h) == yajl_status_ok && r->or_depth == 0 &&
	    r->or_ntoks > 0;
	yajl_free(h);
	return ok ? 0 : -1;
}

/* ---- A file in pieces --------------------------------------------------- */

/*
 * An element of the array was read and its tokens go (ev_close): the
 * root's tokens before them stay to the end, their bytes copied out of
 * the window (once, a few keys and numbers); where the element's bytes
 * end is where the window may start.
 */
static void
piece_drop(struct obs_read *r, size_t at)
{
	struct obs_tok *t;
	size_t i, n = r->or_side_len;
	char *side;

	if (r->or_keep < at) {
		for (i = r->or_keep; i < at; i++)
			n += r->or_toks[i].t_s != NULL ? r->or_toks[i].t_n : 0;
		side = xdc_malloc(n + 1);
		if (r->or_side_len > 0)
			memcpy(side, r->or_side, r->or_side_len);
		n = r->or_side_len;
		for (i = 0; i < at; i++) {
			t = &r->or_toks[i];
			if (t->t_s == NULL)
				continue;
			if (i < r->or_keep) {
				t->t_s = side + (t->t_s - r->or_side);
				continue;
			}
			memcpy(side + n, t->t_s, t->t_n);
			t->t_s = side + n;
			n += t->t_n;
		}
		free(r->or_side);
		r->or_side = side;
		r->or_side_len = n;
		r->or_keep = at;
	}
	for (i = r->or_ntoks; i > at; i--)
		if (r->or_toks[i - 1].t_s != NULL) {
			r->or_last =
			    r->or_toks[i - 1].t_s + r->or_toks[i - 1].t_n;
			break;
		}
}

/*
 * Room for a piece at the window's end: what no token points to any more
 * goes from its start (all before the first token in the window, or, when
 * there is none, before the end of the last element dropped: a token yajl
 * has begun but not ended comes after either), and the tokens follow.
 */
static void
win_room(struct obs_read *r, size_t piece)
{
	const char *keep = r->or_last != NULL ? r->or_last : r->or_win;
	size_t i, off, len, cap = r->or_win_cap;
	struct obs_tok *t;
	char *w;

	for (i = r->or_keep; i < r->or_ntoks; i++)
		if (r->or_toks[i].t_s != NULL) {
			keep = r->or_toks[i].t_s;
			break;
		}
	off = keep != NULL ? (size_t)(keep - r->or_win) : 0;
	len = r->or_len - off;
	if (cap - len < piece)
		cap = cap * 2 > len + piece ? cap * 2 : len + piece;
	w = cap != r->or_win_cap ? xdc_malloc(cap) : r->or_win;
	if (len > 0)
		memmove(w, r->or_win + off, len);
	for (i = r->or_keep; i < r->or_ntoks; i++) {
		t = &r->or_toks[i];
		if (t->t_s != NULL)
			t->t_s = w + (t->t_s - r->or_win - off);
	}
	if (r->or_last != NULL)
		r->or_last =
		    r->or_last < keep ? w : w + (r->or_last - r->or_win - off);
	if (w != r->or_win)
		free(r->or_win);
	r->or_win = w;
	r->or_win_cap = cap;
	r->or_text = w;
	r->or_len = len;
}

int
obs_read_parse_fd(struct obs_read *r, int fd, uint64_t max, const char *key,
    obs_read_each_fn *each, void *arg)
{
	size_t piece = piece_size > 0 ? piece_size : PIECE;
	uint64_t total = 0;
	const unsigned char *s;
	yajl_handle h;
	ssize_t got;
	int ok = 0;

	parse_begin(r, r->or_win, 0, key, each, arg);
	if (!enabled || (h = yajl_alloc(&events, NULL, r)) == NULL)
		return -1;
	for (;;) {
		if (r->or_win_cap - r->or_len < piece)
			win_room(r, piece);
		got = read(fd, r->or_win + r->or_len, piece);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		s = (const unsigned char *)r->or_win + r->or_len;
		total += (uint64_t)got;
		/* No escapes: a token not in the window is one cut in two. */
		if (total > max || odd_bytes((const char *)s, (size_t)got) ||
		    memchr(s, '\\', (size_t)got) != NULL)
			goto out;
		r->or_piece = r->or_len;
		r->or_len += (size_t)got;
		r->or_yajl = h;
		if (yajl_parse(h, s, (size_t)got) != yajl_status_ok)
			goto out;
		r->or_yajl = NULL;
	}
	ok = got == 0 && yajl_complete_parse(h) == yajl_status_ok &&
	     r->or_depth == 0 && r->or_ntoks > 0;
out:
	r->or_yajl = NULL;
	yajl_free(h);
	return ok ? 0 : -1;
}

int
obs_read_done(const struct obs_read *r)
{
	return r->or_pos == r->or_ntoks;
}

/* ---- The cursor ------------------------------------------------------- */

static const struct obs_tok *
tok_at(const struct obs_read *r, int type)
{
	if (r->or_pos >= r->or_ntoks || r->or_toks[r->or_pos].t_type != type)
		return NULL;
	return &r->or_toks[r->or_pos];
}

static int
read_open(struct obs_read *r, int type, size_t *n)
{
	const struct obs_tok *t = tok_at(r, type);

	if (t == NULL)
		return -1;
	*n = t->t_n;
	r->or_pos++;
	return 0;
}

int
obs_read_map(struct obs_read *r, size_t *n)
{
	return read_open(r, T_MAP, n);
}

int
obs_read_array(struct obs_read *r, size_t *n)
{
	return read_open(r, T_ARR, n);
}

static int
read_bytes(struct obs_read *r, int type, const char **s, size_t *len)
{
	const struct obs_tok *t = tok_at(r, type);

	if (t == NULL)
		return -1;
	*s = t->t_s;
	*len = t->t_n;
	r->or_pos++;
	return 0;
}

int
obs_read_key(struct obs_read *r, const char **key, size_t *len)
{
	return read_bytes(r, T_KEY, key, len);
}

int
obs_read_text(struct obs_read *r, const char **s, size_t *len)
{
	return read_bytes(r, T_STR, s, len);
}

int
obs_read_member(
    struct obs_read *r, const char *const *keys, unsigned nkeys, uint32_t *seen)
{
	const struct obs_tok *t = tok_at(r, T_KEY);
	const char *k;
	unsigned i, j, from;
	size_t n;

	if (t == NULL)
		return -1;
	k = t->t_s;
	n = t->t_n;
	r->or_pos++;
	/* Keys come in the order of the table, as written: the search
	 * starts past the last one seen. */
	from = *seen ? 32 - (unsigned)__builtin_clz(*seen) : 0;
	for (j = 0, i = from < nkeys ? from : 0; j < nkeys;
	     j++, i = i + 1 < nkeys ? i + 1 : 0)
		if (obs_read_is(k, n, keys[i])) {
			if (*seen & (1U << i))
				return -1;
			*seen |= 1U << i;
			return (int)i;
		}
	r->or_pos--;
	return -2;
}

int
obs_read_null(struct obs_read *r)
{
	if (tok_at(r, T_NULL) == NULL)
		return 0;
	r->or_pos++;
	return 1;
}

int
obs_read_u64(struct obs_read *r, uint64_t max, uint64_t *out)
{
	const struct obs_tok *t = tok_at(r, T_NUM);

	if (t == NULL || obs_read_digits(t->t_s, t->t_n, max, out) != 0)
		return -1;
	r->or_pos++;
	return 0;
}

int
obs_read_bool(struct obs_read *r, int *out)
{
	const struct obs_tok *t = tok_at(r, T_BOOL);

	if (t == NULL)
		return -1;
	*out = t->t_bool;
	r->or_pos++;
	return 0;
}

int
obs_read_str(struct obs_read *r, struct xdc_arena *arena, const char **out)
{
	const struct obs_tok *t = tok_at(r, T_STR);

	if (t == NULL || t->t_n == 0)
		return -1;
	*out = xdc_arena_strndup(arena, t->t_s, t->t_n);
	r->or_pos++;
	return 0;
}

int
obs_read_str_or_null(
    struct obs_read *r, struct xdc_arena *arena, const char **out)
{
	*out = NULL;
	return obs_read_null(r) ? 0 : obs_read_str(r, arena, out);
}

int
obs_read_u32(struct obs_read *r, uint32_t *out)
{
	uint64_t v;

	if (obs_read_u64(r, UINT32_MAX, &v) != 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int
obs_read_enum(struct obs_read *r, const char *(*fn)(unsigned), unsigned count,
    unsigned *out)
{
	const char *s;
	size_t n;

	if (obs_read_text(r, &s, &n) != 0 ||
	    !obs_read_name(s, n, fn, count, out))
		return -1;
	return 0;
}
