/*
 * The JSON writer of the plan's output, shared by output.c (SPEC §4's
 * JSON, "changes") and output_text.c (the text plan, whose values are
 * written as JSON). Nothing outside planner/output*.c includes this.
 */
#ifndef XDC_PLANNER_JW_H
#define XDC_PLANNER_JW_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "base/error.h"
#include "planner/planner.h"

/*
 * A line of JSON being written. The layout, the keys and the numbers are
 * written here, in SPEC §4's order; every string that comes from a
 * configuration or a driver is escaped by jansson (jw_str), so that a plan
 * of 100,000 creates is written without building and freeing a tree of a
 * million jansson values (which cost more than loading the YAML did).
 */
struct jw {
	char *w_buf;
	size_t w_len;
	size_t w_cap;
	size_t w_flags; /* jansson's encoding flags for strings */
	int w_compact;  /* "," and ":" (text, changes), not ", ", ": " */
	int w_sizes;    /* memory as "512MiB", for people */
	json_t *w_str;  /* one jansson string, reused for escaping */
};

/* Room for n more bytes. */
static inline char *
jw_room(struct jw *w, size_t n)
{
	if (w->w_cap - w->w_len < n) {
		w->w_cap = (w->w_len + n) * 2;
		w->w_buf = xdc_reallocarray(w->w_buf, w->w_cap, 1);
	}
	return w->w_buf + w->w_len;
}

static inline void
jw_raw(struct jw *w, const char *s, size_t n)
{
	memcpy(jw_room(w, n), s, n);
	w->w_len += n;
}

static inline void
jw_put(struct jw *w, const char *s)
{
	jw_raw(w, s, strlen(s));
}

/* The name of each field a change names. */
extern const char *const chg_names[CH__COUNT];

/* The fields of an action's "changes". */
uint32_t action_mask(const struct paction *);
/* A writer for the plan (text 0) or for people (text 1, compact). */
void jw_init(struct jw *, int text);
void jw_free(struct jw *);
/* The value of a field on one side (desired, or observed) of a change. */
void jw_value(struct jw *, const struct paction *, enum chg, int desired);
/* Write out what the writer holds. */
int jw_flush(struct jw *, FILE *);

#endif
