/*
 * A growing string for the pool's tests (etcd_gen.h's generator, the
 * fake etcd of test_etcd_range.c): bytes appended, NUL-terminated, a
 * printf that must fit (cmocka.h first). Header-only, static, as each
 * test is one file.
 */
#ifndef XDC_TESTS_SB_H
#define XDC_TESTS_SB_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/error.h"

struct sb {
	char *s;
	size_t len, cap;
};

static void
sb_add(struct sb *b, const char *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = xdc_reallocarray(b->s, b->cap, 1);
	}
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void sb_printf(struct sb *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
sb_printf(struct sb *b, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof(buf));
	sb_add(b, buf, (size_t)n);
}

#endif /* XDC_TESTS_SB_H */
