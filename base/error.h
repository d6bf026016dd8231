/*
 * Return codes and the error context.
 *
 * Functions return 0 on success and a negative code otherwise. The message
 * that explains a failure is left in a per-thread context that the caller
 * reads with xdc_error_last(), rather than printed from deep inside
 * (libgit2's git_error_last). Configuration mistakes are not errors of this
 * kind: they are collected as diagnostics (diag.h).
 */
#ifndef XDC_ERROR_H
#define XDC_ERROR_H

#include <stddef.h>

enum {
	XDC_OK = 0,
	XDC_ERR = -1,         /* anything else; see xdc_error_last() */
	XDC_ENOTFOUND = -2,   /* the thing asked for does not exist */
	XDC_EINVALID = -3,    /* the configuration has errors (diagnostics) */
	XDC_EDRIVER = -4,     /* a driver action failed */
	XDC_ERETRY = -5,      /* not yet: try again later */
	XDC_EUNVERIFIED = -6, /* a commit not signed by a trusted key */
};

/* Set the context's message; returns code so callers can `return
 * xdc_error(...)`. */
int xdc_error(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* As xdc_error, with ": strerror(errno)" appended. */
int xdc_error_sys(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The last message set in this thread, or "unknown error"; borrowed. */
const char *xdc_error_last(void);
void xdc_error_clear(void);

/*
 * Allocation that cannot fail: like libxl, xdc treats running out of memory
 * as fatal, because every caller would only propagate it.
 */
void *xdc_malloc(size_t);
void *xdc_calloc(size_t, size_t);
void *xdc_reallocarray(void *, size_t, size_t);
char *xdc_strdup(const char *);
int xdc_asprintf(char **, const char *, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* XDC_ERROR_H */
