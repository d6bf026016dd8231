/*
 * Strings kept once (see strtab.h): open addressing, the table at most
 * half full, each slot the string and its hash, so that a probe compares
 * strings only when their hashes agree.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/error.h"
#include "base/strtab.h"

struct xdc_strtab {
	struct xdc_arena *st_arena;
	const char **st_v; /* NULL: an empty slot */
	uint32_t *st_hash;
	size_t st_n;
	size_t st_cap; /* a power of two, or 0 */
};

struct xdc_strtab *
xdc_strtab_new(struct xdc_arena *arena)
{
	struct xdc_strtab *t = xdc_calloc(1, sizeof(*t));

	t->st_arena = arena;
	return t;
}

void
xdc_strtab_free(struct xdc_strtab *t)
{
	if (t == NULL)
		return;
	free(t->st_v);
	free(t->st_hash);
	free(t);
}

/* Eight bytes a step, each a multiply and a fold; nothing outside sees it. */
static uint32_t
str_hash(const char *s, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ n, w;
	size_t i;

	for (; n >= 8; s += 8, n -= 8) {
		memcpy(&w, s, sizeof(w));
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	for (w = 0, i = 0; i < n; i++)
		w |= (uint64_t)(unsigned char)s[i] << (8 * i);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 29;
	return (uint32_t)h;
}

static void
strtab_grow(struct xdc_strtab *t)
{
	size_t cap = t->st_cap ? t->st_cap * 2 : 64, i, j;
	const char **v = xdc_calloc(cap, sizeof(*v));
	uint32_t *hash = xdc_calloc(cap, sizeof(*hash));

	for (i = 0; i < t->st_cap; i++) {
		if (t->st_v[i] == NULL)
			continue;
		for (j = t->st_hash[i] & (cap - 1); v[j] != NULL;
		     j = (j + 1) & (cap - 1))
			;
		v[j] = t->st_v[i];
		hash[j] = t->st_hash[i];
	}
	free(t->st_v);
	free(t->st_hash);
	t->st_v = v;
	t->st_hash = hash;
	t->st_cap = cap;
}

const char *
xdc_strtab_intern(struct xdc_strtab *t, const char *s, size_t n)
{
	uint32_t h = str_hash(s, n);
	size_t i;

	if (t->st_n * 2 >= t->st_cap)
		strtab_grow(t);
	for (i = h & (t->st_cap - 1); t->st_v[i] != NULL;
	     i = (i + 1) & (t->st_cap - 1))
		if (t->st_hash[i] == h && !strncmp(t->st_v[i], s, n) &&
		    t->st_v[i][n] == '\0')
			return t->st_v[i];
	t->st_v[i] = xdc_arena_strndup(t->st_arena, s, n);
	t->st_hash[i] = h;
	t->st_n++;
	return t->st_v[i];
}

const char *
xdc_strtab_str(struct xdc_strtab *t, const char *s)
{
	return s != NULL ? xdc_strtab_intern(t, s, strlen(s)) : NULL;
}
