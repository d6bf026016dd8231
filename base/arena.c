/*
 * The bump allocator (see arena.h). Blocks grow geometrically up to a
 * ceiling, so a configuration of a hundred thousand VMs takes a few dozen
 * mallocs rather than a few million.
 */
#include <stdarg.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/error.h"

#define ARENA_MIN_BLOCK (16 * 1024)
#define ARENA_MAX_BLOCK (4 * 1024 * 1024)
#define ARENA_ALIGN     alignof(max_align_t)

struct block {
	struct block *b_next;
	size_t b_size;
	size_t b_used;
	alignas(max_align_t) unsigned char b_data[];
};

/*
 * A malloc'd array handed over whole, rather than copied in, or anything
 * else to let go of when the arena goes: ad_fn(ad_p), newest first.
 */
struct adopted {
	struct adopted *ad_next;
	void (*ad_fn)(void *);
	void *ad_p;
};

struct xdc_arena {
	struct block *a_head;
	size_t a_next_size;
	size_t a_first; /* the first block's size; 0: a_next_size's */
	struct adopted *a_adopted; /* in the blocks themselves */
};

static void
free_adopted(struct xdc_arena *a)
{
	struct adopted *ad;

	for (ad = a->a_adopted; ad != NULL; ad = ad->ad_next)
		ad->ad_fn(ad->ad_p);
	a->a_adopted = NULL;
}

struct xdc_arena *
xdc_arena_new(void)
{
	struct xdc_arena *a = xdc_calloc(1, sizeof(*a));

	a->a_next_size = ARENA_MIN_BLOCK;
	return a;
}

struct xdc_arena *
xdc_arena_new_size(size_t first)
{
	struct xdc_arena *a = xdc_arena_new();

	a->a_first = first;
	return a;
}

void
xdc_arena_free(struct xdc_arena *a)
{
	struct block *b, *next;

	if (a == NULL)
		return;
	free_adopted(a);
	for (b = a->a_head; b != NULL; b = next) {
		next = b->b_next;
		free(b);
	}
	free(a);
}

void
xdc_arena_reset(struct xdc_arena *a)
{
	struct block *b, *next;

	free_adopted(a);
	if (a->a_head == NULL)
		return;
	/* Keep the newest (largest) block; it is where the next use will fit.
	 */
	for (b = a->a_head->b_next; b != NULL; b = next) {
		next = b->b_next;
		free(b);
	}
	a->a_head->b_next = NULL;
	a->a_head->b_used = 0;
}

/*
 * n bytes at a multiple of align (a power of two) in the newest block, or
 * in a new one. Strings take align 1: rounding every "xvda" up to 16 bytes
 * would make the model half padding.
 */
/* A new block, at least n bytes, at the head: the slow path. */
static struct block *
arena_grow(struct xdc_arena *a, size_t n)
{
	struct block *b;
	int first = a->a_head == NULL && a->a_first > 0;
	size_t size = first ? a->a_first : a->a_next_size;

	if (size < n)
		size = n;
	b = xdc_malloc(sizeof(*b) + size);
	b->b_size = size;
	b->b_used = 0;
	b->b_next = a->a_head;
	a->a_head = b;
	/* A sized first block says nothing of what comes after it. */
	if (!first && a->a_next_size < ARENA_MAX_BLOCK)
		a->a_next_size *= 2;
	return b;
}

/* Inlined in each allocator: most takes are a bump of b_used. */
static inline __attribute__((always_inline)) void *
arena_take(struct xdc_arena *a, size_t n, size_t align)
{
	struct block *b = a->a_head;
	size_t at = 0;

	if (b != NULL)
		at = (b->b_used + align - 1) & ~(align - 1);
	if (b == NULL || at > b->b_size || b->b_size - at < n) {
		b = arena_grow(a, n);
		at = 0;
	}
	b->b_used = at + n;
	return b->b_data + at;
}

void *
xdc_arena_alloc(struct xdc_arena *a, size_t n)
{
	return arena_take(a, n, ARENA_ALIGN);
}

void *
xdc_arena_zalloc(struct xdc_arena *a, size_t n)
{
	return memset(xdc_arena_alloc(a, n), 0, n);
}

char *
xdc_arena_strndup(struct xdc_arena *a, const char *s, size_t n)
{
	char *p = arena_take(a, n + 1, 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
xdc_arena_strdup(struct xdc_arena *a, const char *s)
{
	return xdc_arena_strndup(a, s, strlen(s));
}

char *
xdc_arena_printf(struct xdc_arena *a, const char *fmt, ...)
{
	char small[256], *p;
	va_list ap;
	int n;

	/* Most strings are short: format once, on the stack, then copy. */
	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return xdc_arena_strdup(a, "");
	if ((size_t)n < sizeof(small))
		return xdc_arena_strndup(a, small, (size_t)n);
	p = arena_take(a, (size_t)n + 1, 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void
xdc_arena_defer(struct xdc_arena *a, void (*fn)(void *), void *arg)
{
	struct adopted *ad = xdc_arena_alloc(a, sizeof(*ad));

	ad->ad_fn = fn;
	ad->ad_p = arg;
	ad->ad_next = a->a_adopted;
	a->a_adopted = ad;
}

size_t
xdc_arena_used(const struct xdc_arena *a)
{
	const struct block *b;
	size_t n = 0;

	for (b = a->a_head; b != NULL; b = b->b_next)
		n += b->b_used;
	return n;
}

size_t
xdc_arena_held(const struct xdc_arena *a)
{
	const struct block *b;
	size_t n = 0;

	for (b = a->a_head; b != NULL; b = b->b_next)
		n += b->b_size;
	return n;
}

void *
xdc_arena_adopt(struct xdc_arena *a, void *p)
{
	if (p != NULL)
		xdc_arena_defer(a, free, p);
	return p;
}
