/*
 * A bump allocator for data that lives and dies together: a configuration's
 * strings and arrays, or one YAML document's nodes. Freeing is all at once.
 */
#ifndef XDC_ARENA_H
#define XDC_ARENA_H

#include <stddef.h>

struct xdc_arena;

struct xdc_arena *xdc_arena_new(void);
/*
 * One whose first block is first bytes (or the first allocation's size,
 * when larger), for contents whose size is known about beforehand, such
 * as what is read from a text of known length: no block left half empty
 * at the end. Blocks after it start at 16 KB and double, as
 * xdc_arena_new's do. 0 is xdc_arena_new.
 */
struct xdc_arena *xdc_arena_new_size(size_t first);
void xdc_arena_free(struct xdc_arena *);
/* Forget everything allocated, keeping the first block for reuse. */
void xdc_arena_reset(struct xdc_arena *);

/* Memory aligned for any type; never NULL (allocation failure aborts). */
void *xdc_arena_alloc(struct xdc_arena *, size_t);
void *xdc_arena_zalloc(struct xdc_arena *, size_t);
char *xdc_arena_strndup(struct xdc_arena *, const char *, size_t);
char *xdc_arena_strdup(struct xdc_arena *, const char *);
char *xdc_arena_printf(struct xdc_arena *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
/* Hand p (from malloc, or NULL) to the arena: freed with it. Returns p. */
void *xdc_arena_adopt(struct xdc_arena *, void *p);
/*
 * Call fn(arg) when the arena is freed or reset, newest first: what the
 * arena's contents borrow from elsewhere is let go of with them.
 */
void xdc_arena_defer(struct xdc_arena *, void (*fn)(void *), void *arg);

/* Bytes handed out, and bytes of blocks held: for tests and measures. */
size_t xdc_arena_used(const struct xdc_arena *);
size_t xdc_arena_held(const struct xdc_arena *);

#endif /* XDC_ARENA_H */
