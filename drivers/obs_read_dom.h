/*
 * A domain read straight from yajl's events into its struct, for the
 * event reader (obs_read.c): the domains of a host's "domains" array are
 * nine tenths of a pool's events, and taken this way they make no tokens
 * and need no cursor. It reads what obs_read_domain (obs_read_host.c)
 * reads, with the same defaults and ranges, and gives up on what that
 * gives up on. Private to obs_read.c and obs_read_host.c.
 */
#ifndef XDC_OBS_READ_DOM_H
#define XDC_OBS_READ_DOM_H

#include <stddef.h>
#include <stdint.h>

/* A domain's members, in the order obs_json.c writes them: both readers'. */
enum {
	D_NAME,
	D_DOMID,
	D_STATE,
	D_MEMORY,
	D_MAX_MEMORY,
	D_VCPUS,
	D_MAX_VCPUS,
	D_CPU,
	D_MANAGED,
	D_PROTECT,
	D_NICS,
	D_SCOPE,
	D_APPLIED,
	D_EXPIRES,
	D_STUB,
	D_HASH,
	D_BUILD,
	D__COUNT
};

struct obs_dom;
struct xdc_arena;
struct xdc_obs_domain;

struct obs_dom *obs_dom_new(void);
void obs_dom_free(struct obs_dom *);

/*
 * A domain's object opened: its members are read with flags (obs_json.h's
 * OBS_JSON_DEFAULTS or 0), the strings into arena.
 */
void obs_dom_begin(struct obs_dom *, unsigned flags, struct xdc_arena *);
struct xdc_strtab;
/*
 * Keep what repeats across domains (kernels, command lines, vdevs,
 * bridges, scopes) once in t, whose arena outlives the domains; NULL:
 * copy every string into the arena.
 */
void obs_dom_share(struct obs_dom *, struct xdc_strtab *t);
/*
 * The events inside it, each 1 having taken it or 0 to give up; close
 * sets *done when the domain's own object closed, its struct at
 * obs_dom_result.
 */
int obs_dom_key(struct obs_dom *, const char *s, size_t n);
int obs_dom_null(struct obs_dom *);
int obs_dom_bool(struct obs_dom *, int);
int obs_dom_number(struct obs_dom *, const char *s, size_t n);
int obs_dom_string(struct obs_dom *, const char *s, size_t n);
int obs_dom_open(struct obs_dom *, int map);
int obs_dom_close(struct obs_dom *, int *done);
const struct xdc_obs_domain *obs_dom_result(const struct obs_dom *);

struct obs_read;
/*
 * At the cursor, a domain read this way: 1 having copied it into *out
 * (read with flags, or -1), 0 when the cursor is not at one.
 */
int obs_read_built(struct obs_read *, unsigned flags, struct xdc_obs_domain *);

/* A whole number of plain digits (no sign, no leading 0), at most max. */
int obs_read_digits(const char *s, size_t n, uint64_t max, uint64_t *out);

/*
 * Small readers of a string's bytes, shared by obs_read.c, obs_read_dom.c
 * and obs_read_host.c; inline, as key matching is their hottest loop.
 */
/* Whether the n bytes at s are the string name. */
static inline int
obs_read_is(const char *s, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (name[i] != s[i])
			return 0;
	return name[n] == '\0';
}

/* Which of the count names fn gives the n bytes at s are: 1, *out its index. */
static inline int
obs_read_name(const char *s, size_t n, const char *(*fn)(unsigned),
    unsigned count, unsigned *out)
{
	unsigned i;

	for (i = 0; i < count; i++)
		if (obs_read_is(s, n, fn(i))) {
			*out = i;
			return 1;
		}
	return 0;
}

/* Up to 16 hex digits, as strtoull would take them but no more. */
static inline int
obs_read_hex(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;
	int c;

	if (n == 0 || n > 16)
		return 0;
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c >= '0' && c <= '9')
			c -= '0';
		else if (c >= 'a' && c <= 'f')
			c -= 'a' - 10;
		else if (c >= 'A' && c <= 'F')
			c -= 'A' - 10;
		else
			return 0;
		v = v << 4 | (uint64_t)c;
	}
	*out = v;
	return 1;
}

#endif /* XDC_OBS_READ_DOM_H */
