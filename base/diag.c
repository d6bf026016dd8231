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

/*
 * The length of the UTF-8 sequence at s that a terminal shows as a
 * character, or 0: a byte that begins no valid sequence (overlong forms
 * and surrogates included), or a C1 control (U+0080..U+009F, which a
 * terminal may read as ESC [ and the like).
 */
static size_t
utf8_printable(const unsigned char *s)
{
	size_t n, i;

	if (s[0] >= 0x20 && s[0] < 0x7f)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((s[0] == 0xc2 && s[1] < 0xa0) || (s[0] == 0xe0 && s[1] < 0xa0) ||
	    (s[0] == 0xed && s[1] > 0x9f) || (s[0] == 0xf0 && s[1] < 0x90) ||
	    (s[0] == 0xf4 && s[1] > 0x8f))
		return 0;
	return n;
}

char *
xdc_escape(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	char *out = xdc_malloc(strlen(s) * 4 + 1), *o = out; /* \xHH */
	size_t n;

	while (*u != '\0') {
		if ((n = utf8_printable(u)) > 0) {
			memcpy(o, u, n);
			o += n;
			u += n;
			continue;
		}
		*o++ = '\\';
		if (*u == '\n')
			*o++ = 'n';
		else if (*u == '\r')
			*o++ = 'r';
		else if (*u == '\t')
			*o++ = 't';
		else
			o += sprintf(o, "x%02x", *u);
		u++;
	}
	*o = '\0';
	return out;
}

void
xdc_fputs_escaped(const char *s, FILE *fp)
{
	char *e = xdc_escape(s);

	fputs(e, fp);
	free(e);
}

void
xdc_diags_print(const struct xdc_diags *d, FILE *fp)
{
	const struct xdc_diag *g;
	size_t i;

	for (i = 0; i < d->d_n; i++) {
		g = &d->d_v[i].e_diag;
		xdc_fputs_escaped(g->dg_file, fp);
		fprintf(fp, ":%u:%u: error: ", g->dg_line, g->dg_col);
		xdc_fputs_escaped(g->dg_msg, fp);
		fputc('\n', fp);
	}
	if (d->d_dropped > 0)
		fprintf(fp, "(%zu more errors not shown)\n", d->d_dropped);
}
