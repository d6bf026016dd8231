/*
 * The diagnostics list (see diag.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/diag.h"
#include "base/error.h"

/*
 * A file of 16 MiB can hold millions of mistakes; past this many a user
 * learns nothing more, and the list must not grow without bound.
 */
#define DIAG_MAX 10000

struct entry {
	struct xdc_diag e_diag;
	size_t e_seq;
};

struct xdc_diags {
	struct entry *d_v;
	size_t d_n;
	size_t d_cap;
	size_t d_dropped;
	struct xdc_arena *d_arena;
	const char *d_last_file; /* files repeat: keep one copy each */
};

struct xdc_diags *
xdc_diags_new(void)
{
	struct xdc_diags *d = xdc_calloc(1, sizeof(*d));

	d->d_arena = xdc_arena_new();
	return d;
}

void
xdc_diags_free(struct xdc_diags *d)
{
	if (d == NULL)
		return;
	xdc_arena_free(d->d_arena);
	free(d->d_v);
	free(d);
}

void
xdc_diag(struct xdc_diags *d, const char *file, unsigned line, unsigned col,
    const char *fmt, ...)
{
	struct entry *e;
	va_list ap;
	char *msg;

	if (d->d_n >= DIAG_MAX) {
		d->d_dropped++;
		return;
	}
	if (d->d_n == d->d_cap) {
		d->d_cap = d->d_cap ? d->d_cap * 2 : 16;
		d->d_v = xdc_reallocarray(d->d_v, d->d_cap, sizeof(*d->d_v));
	}
	if (d->d_last_file == NULL || strcmp(d->d_last_file, file) != 0)
		d->d_last_file = xdc_arena_strdup(d->d_arena, file);

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);

	e = &d->d_v[d->d_n];
	e->e_diag.dg_file = d->d_last_file;
	e->e_diag.dg_line = line ? line : 1;
	e->e_diag.dg_col = col ? col : 1;
	e->e_diag.dg_msg =
	    xdc_arena_strdup(d->d_arena, msg ? msg : "(out of memory)");
	e->e_seq = d->d_n;
	d->d_n++;
	free(msg);
}

size_t
xdc_diags_count(const struct xdc_diags *d)
{
	return d->d_n + d->d_dropped;
}

static int
entry_cmp(const void *pa, const void *pb)
{
	const struct entry *a = pa, *b = pb;
	int c;

	if (a->e_diag.dg_file != b->e_diag.dg_file &&
	    (c = strcmp(a->e_diag.dg_file, b->e_diag.dg_file)) != 0)
		return c;
	if (a->e_diag.dg_line != b->e_diag.dg_line)
		return a->e_diag.dg_line < b->e_diag.dg_line ? -1 : 1;
	if (a->e_diag.dg_col != b->e_diag.dg_col)
		return a->e_diag.dg_col < b->e_diag.dg_col ? -1 : 1;
	return a->e_seq < b->e_seq ? -1 : a->e_seq > b->e_seq;
}

void
xdc_diags_sort(struct xdc_diags *d)
{
	qsort(d->d_v, d->d_n, sizeof(*d->d_v), entry_cmp);
}

const struct xdc_diag *
xdc_diags_get(const struct xdc_diags *d, size_t i)
{
	return i < d->d_n ? &d->d_v[i].e_diag : NULL;
}

void
xdc_diags_print(const struct xdc_diags *d, FILE *fp)
{
	const struct xdc_diag *g;
	size_t i;

	for (i = 0; i < d->d_n; i++) {
		g = &d->d_v[i].e_diag;
		fprintf(fp, "%s:%u:%u: error: %s\n", g->dg_file, g->dg_line,
		    g->dg_col, g->dg_msg);
	}
	if (d->d_dropped > 0)
		fprintf(fp, "(%zu more errors not shown)\n", d->d_dropped);
}
