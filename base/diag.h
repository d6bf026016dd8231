/*
 * Diagnostics: the mistakes found in a configuration, collected rather than
 * fatal on the first, so that a user sees every error of a configuration at
 * once (vmd's yyerror, libxlu's file:line). Each is printed as
 *
 *	FILE:LINE:COL: error: MESSAGE
 *
 * sorted by file, then position.
 */
#ifndef XDC_DIAG_H
#define XDC_DIAG_H

#include <stdio.h>
#include <stddef.h>

struct xdc_diag {
	const char *dg_file; /* owned by the list */
	unsigned dg_line;    /* 1-based */
	unsigned dg_col;     /* 1-based */
	const char *dg_msg;  /* owned by the list */
};

struct xdc_diags;

/* A list owns its entries; free it with xdc_diags_free(). */
struct xdc_diags *xdc_diags_new(void);
void xdc_diags_free(struct xdc_diags *);

void xdc_diag(struct xdc_diags *, const char *file, unsigned line, unsigned col,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

size_t xdc_diags_count(const struct xdc_diags *);
/* Sort by file, line, column; entries at one position keep their order. */
void xdc_diags_sort(struct xdc_diags *);
/* Borrowed; valid until the list changes. */
const struct xdc_diag *xdc_diags_get(const struct xdc_diags *, size_t);
/* Print every entry, one per line, file and message xdc_escape'd. */
void xdc_diags_print(const struct xdc_diags *, FILE *);

/*
 * Text from a configuration, a file name or a status file, made safe for
 * a terminal: a key written "\e]0;owned\a" in YAML must not retitle the
 * window or recolour the screen. Control characters (C0, DEL, and C1 in
 * UTF-8 too) and bytes that are not UTF-8 are written \xHH, or \n, \r,
 * \t; printable ASCII and other valid UTF-8 stay as they are. xdc_escape
 * returns a new string (the caller frees it); xdc_fputs_escaped writes one.
 */
char *xdc_escape(const char *s);
void xdc_fputs_escaped(const char *s, FILE *);

#endif /* XDC_DIAG_H */
