/*
 * Observed state read from JSON text by yajl's event parser, straight
 * into the structs, with no tree: the fast way to read what obs_json.c
 * writes (a pool's host records, the sim's pool file), where jansson
 * allocates, hashes and inserts every value, some 130 instructions a
 * byte. It reads only what it is sure of: plain ASCII without escapes,
 * every key known and given once, every value of its type and in range.
 * Anything else (an escape, a duplicate, an unknown key, a number out of
 * range, a missing key, broken JSON) makes it give up, saying nothing,
 * and the caller reads the text again with jansson and obs_json.h, which
 * says what is wrong; what it accepts, it reads exactly as json_loadb and
 * obs_json_read_host would.
 *
 * The text is parsed first into a flat array of tokens that point into
 * it (nothing copied, nothing hashed), then read by a cursor; the cursor
 * functions return 0 having taken a value, or -1 when the value is not
 * what was asked. A file too long to hold whole (the sim's pool file) is
 * read in pieces (obs_read_parse_fd): the tokens point into a window of
 * it that holds the bytes of the element being read and no more. A
 * host's domains, most of a pool, may skip the tokens: read straight from
 * the events into their structs (obs_read_domains).
 */
#ifndef XDC_OBS_READ_H
#define XDC_OBS_READ_H

#include <stddef.h>
#include <stdint.h>

#include "drivers/driver.h"

struct obs_tok;
struct obs_read;

typedef int obs_read_each_fn(struct obs_read *, void *arg);

#define OBS_READ_DEPTH 16 /* deeper is not observed state: give up */

struct obs_read {
	struct obs_tok *or_toks; /* the text's, in document order */
	size_t or_ntoks;
	size_t or_cap;
	size_t or_pos; /* the cursor */
	/* While the text is parsed. */
	const char *or_text;
	size_t or_len;
	size_t or_stack[OBS_READ_DEPTH]; /* the open maps and arrays */
	unsigned or_depth;
	size_t or_arr; /* 1 + the innermost open array's token; 0: a map */
	const char *or_each_key; /* see obs_read_parse_each */
	obs_read_each_fn *or_each;
	void *or_each_arg;
	/* While a file is read in pieces (obs_read_parse_fd). */
	void *or_yajl; /* the parser; NULL: the text is whole */
	char *or_win;  /* the window: or_text, or_len long */
	size_t or_win_cap;
	size_t or_piece; /* where the piece being parsed starts in it */
	size_t or_keep;  /* tokens below it point into or_side */
	char *or_side;   /* the root's bytes before the array */
	size_t or_side_len;
	const char *or_last; /* past the last dropped element's bytes */
	/* Domains read straight from the events (obs_read_domains). */
	struct obs_dom *or_dom; /* the one being read; NULL: as tokens */
	unsigned or_dom_flags;
	struct xdc_arena *or_dom_arena;
	unsigned or_dom_depth; /* the domains array's, once open */
	int or_in_dom;
	struct xdc_obs_domain *or_doms; /* the element's, in order */
	size_t or_ndoms;
	size_t or_doms_cap;
};

/* A reader is reused from one text to the next; fini frees its tokens. */
void obs_read_init(struct obs_read *);
void obs_read_fini(struct obs_read *);
/*
 * Parse len bytes of text into r's tokens, the cursor at the first: 0, or
 * -1 when the text is not JSON this reader is sure of. The tokens point
 * into text, which must outlive them.
 */
int obs_read_parse(struct obs_read *, const char *text, size_t len);
/*
 * Likewise, for a document too long to hold as tokens (the sim's pool
 * file): each object in the array that is the root's member key is
 * handed to each as soon as it closes, the cursor at it and its tokens
 * the last, then dropped; each returns 0 having read it, or -1 to give
 * up. The array is left with the elements each did not get (none, when
 * all are objects). The root's members before the array are there for
 * each to read (from the cursor at 0); those after it, once the parse is
 * done.
 */
int obs_read_parse_each(struct obs_read *, const char *text, size_t len,
    const char *key, obs_read_each_fn *each, void *arg);
/*
 * Likewise, the text read from fd in pieces (64 KiB, or what
 * obs_read_piece_size says): never held whole, only from the start of
 * the element being read (what each is given is the same). No escape in
 * any string; more than max bytes, or a failed read, gives up too.
 */
int obs_read_parse_fd(struct obs_read *, int fd, uint64_t max, const char *key,
    obs_read_each_fn *each, void *arg);
/* The size of obs_read_parse_fd's pieces, for the tests; 0: 64 KiB. */
void obs_read_piece_size(size_t);
/*
 * From now on, the domains in a host's "domains" array (the text's root,
 * or each element of obs_read_parse_each's array) are read straight from
 * the events into their structs, as obs_read_domain reads them with flags,
 * their strings in arena, without tokens: obs_read_domain then takes
 * each, and must be given the same flags. A domain it would refuse gives
 * up the parse.
 */
struct xdc_strtab;
void obs_read_domains(struct obs_read *, unsigned flags, struct xdc_arena *);
/* After obs_read_domains: what repeats kept once in t (obs_dom_share). */
void obs_read_share(struct obs_read *, struct xdc_strtab *t);
/* Whether the cursor is past the last token. */
int obs_read_done(const struct obs_read *);

/* An object (its number of members in *n) or an array (of elements). */
int obs_read_map(struct obs_read *, size_t *n);
int obs_read_array(struct obs_read *, size_t *n);
/* A member's key, its bytes (not NUL-terminated) and length. */
int obs_read_key(struct obs_read *, const char **key, size_t *len);
/*
 * A member's key among the nkeys (at most 32) of keys: its index, its bit
 * set in *seen; -1 when it is not a key or was seen before, -2 when it is
 * not one of them (the cursor still at it, for obs_read_key).
 */
int obs_read_member(
    struct obs_read *, const char *const *keys, unsigned nkeys, uint32_t *seen);
/* 1 having taken a null, 0 when the value is not null. */
int obs_read_null(struct obs_read *);
/* A whole number of plain digits, at most max. */
int obs_read_u64(struct obs_read *, uint64_t max, uint64_t *);
int obs_read_bool(struct obs_read *, int *);
/* A string, maybe empty: its bytes and length. */
int obs_read_text(struct obs_read *, const char **s, size_t *len);
/* A non-empty string, copied into arena; or that or null (NULL). */
int obs_read_str(struct obs_read *, struct xdc_arena *, const char **);
int obs_read_str_or_null(struct obs_read *, struct xdc_arena *, const char **);
int obs_read_u32(struct obs_read *, uint32_t *);
/* One of the count names fn gives (by index), its index. */
int obs_read_enum(
    struct obs_read *, const char *(*fn)(unsigned), unsigned count, unsigned *);

/*
 * One domain, or one network, as obs_json_read_domain and
 * obs_json_read_network read it with flags (OBS_JSON_DEFAULTS or 0), into
 * *out (zeroed first), its strings and arrays in arena.
 */
int obs_read_domain(struct obs_read *, unsigned flags, struct xdc_arena *,
    struct xdc_obs_domain *out);
int obs_read_network(struct obs_read *, unsigned flags, struct xdc_arena *,
    struct xdc_obs_network *out);

/*
 * A host, as obs_json_read_host reads it, into *out. A key of the host's
 * object that is not the observation's goes to extra (when not NULL),
 * which takes its value and returns 0, or -1 to give up.
 */
typedef int obs_read_extra_fn(
    struct obs_read *, const char *key, size_t len, void *arg);
int obs_read_host(struct obs_read *, struct xdc_arena *,
    struct xdc_obs_host *out, obs_read_extra_fn *extra, void *arg);

/*
 * Off, every obs_read_parse gives up, so that callers take their jansson
 * path: for the tests and the fuzzer that hold the two readers against
 * each other. On by default.
 */
void obs_read_enable(int on);

#endif /* XDC_OBS_READ_H */
