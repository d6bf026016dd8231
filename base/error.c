/*
 * The error context and allocation helpers (see error.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

static _Thread_local char error_msg[1024];

static void
error_vset(const char *fmt, va_list ap)
{
	vsnprintf(error_msg, sizeof(error_msg), fmt, ap);
}

int
xdc_error(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_vset(fmt, ap);
	va_end(ap);
	return code;
}

int
xdc_error_sys(int code, const char *fmt, ...)
{
	va_list ap;
	int saved = errno;
	size_t len;

	va_start(ap, fmt);
	error_vset(fmt, ap);
	va_end(ap);
	len = strlen(error_msg);
	snprintf(
	    error_msg + len, sizeof(error_msg) - len, ": %s", strerror(saved));
	errno = saved;
	return code;
}

const char *
xdc_error_last(void)
{
	return error_msg[0] != '\0' ? error_msg : "unknown error";
}

void
xdc_error_clear(void)
{
	error_msg[0] = '\0';
}

static void
alloc_failed(size_t n)
{
	fprintf(stderr, "xdc: out of memory (allocating %zu bytes)\n", n);
	abort();
}

void *
xdc_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		alloc_failed(n);
	return p;
}

void *
xdc_calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		alloc_failed(n * size);
	return p;
}

void *
xdc_reallocarray(void *old, size_t n, size_t size)
{
	void *p = reallocarray(old, n ? n : 1, size ? size : 1);

	if (p == NULL)
		alloc_failed(n * size);
	return p;
}

char *
xdc_strdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		alloc_failed(strlen(s) + 1);
	return p;
}

int
xdc_asprintf(char **out, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(out, fmt, ap);
	va_end(ap);
	if (n < 0)
		alloc_failed(0);
	return n;
}
