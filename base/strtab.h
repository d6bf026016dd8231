/*
 * Strings kept once: a table that hands back the same copy of every equal
 * string it is given, the copy in an arena the caller owns. For what
 * repeats across thousands of objects (a kernel's path, a command line, a
 * bridge, a scope), so that a hundred thousand domains booting one kernel
 * keep one copy of its path. Open addressing; the table's index is its
 * own, freed with xdc_strtab_free, the strings the arena's.
 */
#ifndef XDC_STRTAB_H
#define XDC_STRTAB_H

#include <stddef.h>

struct xdc_arena;
struct xdc_strtab;

/* A table whose strings go into arena, which must outlive their users. */
struct xdc_strtab *xdc_strtab_new(struct xdc_arena *arena);
/* The index only: the strings stay the arena's. */
void xdc_strtab_free(struct xdc_strtab *);
/* s[0..n), NUL-terminated, once: equal strings get the same pointer. */
const char *xdc_strtab_intern(struct xdc_strtab *, const char *s, size_t n);
/* Likewise for a C string; NULL stays NULL. */
const char *xdc_strtab_str(struct xdc_strtab *, const char *s);

#endif /* XDC_STRTAB_H */
