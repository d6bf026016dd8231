/*
 * The reload cache (schema.h): each file's parse, kept as a part, so that
 * a configuration that changed in one file is re-parsed in that file only.
 * A part is what the loader made of one file on its own: its objects, in
 * the order read, with their locations counted in a file of their own
 * (index 1) and their wide locations in an array of their own; the
 * strings, label sets and lists they point to, in the part's arena; and
 * the file's diagnostics. A build copies every part's objects and lists
 * into a fresh loader, gives them the file's index in this configuration
 * and shifts their wide locations, replays the diagnostics, and finishes
 * as a full load does: sort by name, the rules that span objects, the
 * diagnostics sorted. The copies are the configuration's own, since the
 * checks write into them (NIC networks, derived MACs, SLA policies); the
 * strings stay in the parts, which are reference-counted: the cache holds
 * one reference and each configuration built from a part another, so the
 * configuration in force outlives the parts its files no longer have.
 * A part is keyed by its file and by a key that changes with the file's
 * content: a hash of the bytes for a directory, the blob id for git.
 */
#include <sys/stat.h>

#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/error.h"
#include "base/file.h"
#include "schema/loader.h"
#include "schema/schema.h"

#define KEY_MAX 32

struct part {
	char *p_file;
	unsigned char p_key[KEY_MAX];
	size_t p_keylen;
	unsigned p_refs;
	unsigned p_gen; /* the last build that used it */
	int p_stale;    /* inotify said it changed: read it again */
	int p_stat;     /* p_st is the file as it was read */
	struct stat p_st;
	struct xdc_arena *p_arena;
	struct kind_array p_kinds[KIND__COUNT];
	struct xdc_loc *p_wide;
	size_t p_nwide;
	struct xdc_diags *p_diags;
};

struct xdc_config_parts {
	struct part **cp_v;
	size_t cp_n;
};

struct schema_cache {
	struct part **c_v; /* sorted by file */
	size_t c_n;
	size_t c_cap;
	unsigned c_gen;
	int c_all_stale;
	size_t c_parsed;
	size_t c_reused;
};

struct schema_build {
	struct schema_cache *b_cache;
	struct loader *b_l;
	const char *b_root;
	struct xdc_config_parts b_used; /* a reference each */
	size_t b_cap;
};

/* ---- Parts ------------------------------------------------------------ */

static void
part_unref(struct part *p)
{
	size_t i;

	if (p == NULL || --p->p_refs > 0)
		return;
	for (i = 0; i < KIND__COUNT; i++)
		free(p->p_kinds[i].ka_v);
	free(p->p_wide);
	xdc_diags_free(p->p_diags);
	xdc_arena_free(p->p_arena);
	free(p->p_file);
	free(p);
}

void
cache_parts_release(struct xdc_config_parts *cp)
{
	size_t i;

	if (cp == NULL)
		return;
	for (i = 0; i < cp->cp_n; i++)
		part_unref(cp->cp_v[i]);
	free(cp->cp_v);
	free(cp);
}

/* Parse one file on its own, as schema_loader_add would in a load. */
static struct part *
part_parse(const char *root, const char *file, const void *key, size_t keylen,
    const char *buf, size_t len)
{
	struct part *p = xdc_calloc(1, sizeof(*p));
	struct schema_loader *sl;
	struct loader *l;
	struct kind_array *a;
	size_t i, size;

	p->p_file = xdc_strdup(file);
	memcpy(p->p_key, key, keylen);
	p->p_keylen = keylen;
	p->p_refs = 1;
	p->p_diags = xdc_diags_new();
	sl = schema_loader_new(root, p->p_diags);
	schema_loader_add(sl, file, buf, len);
	l = (struct loader *)sl;
	for (i = 0; i < KIND__COUNT; i++) {
		a = &l->l_kinds[i];
		size = schema_kinds[i]->o_size;
		/* Only the named objects; the slack given back. */
		if (a->ka_n > 0)
			p->p_kinds[i].ka_v =
			    xdc_reallocarray(a->ka_v, a->ka_n, size);
		else
			free(a->ka_v);
		p->p_kinds[i].ka_n = p->p_kinds[i].ka_cap = a->ka_n;
		a->ka_v = NULL;
		a->ka_n = a->ka_cap = 0;
	}
	p->p_arena = l->l_arena;
	l->l_arena = NULL;
	p->p_wide = l->l_wide;
	p->p_nwide = l->l_nwide;
	l->l_wide = NULL;
	l->l_nwide = l->l_cap_wide = 0;
	schema_loader_free(sl);
	return p;
}

/* How many packed positions an object of type t has (nested maps share). */
static size_t
type_npos(const struct object_type *t)
{
	size_t i, n = 0, m;

	for (i = 0; i < t->o_nfields; i++) {
		m = (size_t)t->o_fields[i].f_id + 1;
		if (t->o_fields[i].f_type == FT_MAP)
			m = type_npos(t->o_fields[i].f_sub);
		if (m > n)
			n = m;
	}
	return n;
}

/*
 * An object copied from a part: its file is now file, its wide locations
 * start at wbase, and its lists are copies of its own, rebased alike.
 */
static void
object_rebase(struct loader *l, const struct object_type *t, void *obj,
    uint32_t file, uint32_t wbase)
{
	struct xdc_at *at =
	    (struct xdc_at *)(void *)((char *)obj + t->o_at_off);
	uint32_t *pos = (uint32_t *)(void *)((char *)obj + t->o_pos_off);
	const struct field *f;
	size_t i, j, n, npos = type_npos(t), size;
	void **list;
	char *copy;

	at->at_file = file;
	for (i = 0; i < npos; i++)
		if (pos[i] & XDC_POS_WIDE)
			pos[i] += wbase;
	for (i = 0; i < t->o_nfields; i++) {
		f = &t->o_fields[i];
		if (f->f_type != FT_LIST)
			continue;
		list = (void **)(void *)((char *)obj + f->f_off);
		n = *(size_t *)(void *)((char *)obj + f->f_count_off);
		if (*list == NULL || n == 0)
			continue;
		size = f->f_sub->o_size;
		copy = xdc_arena_alloc(l->l_arena, n * size);
		memcpy(copy, *list, n * size);
		for (j = 0; j < n; j++)
			object_rebase(
			    l, f->f_sub, copy + j * size, file, wbase);
		*list = copy;
	}
}

/* ---- The cache -------------------------------------------------------- */

struct schema_cache *
schema_cache_new(void)
{
	return xdc_calloc(1, sizeof(struct schema_cache));
}

void
schema_cache_free(struct schema_cache *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->c_n; i++)
		part_unref(c->c_v[i]);
	free(c->c_v);
	free(c);
}

/* The index of file's part, or where it would go (*found 0). */
static size_t
cache_find(const struct schema_cache *c, const char *file, int *found)
{
	size_t lo = 0, hi = c->c_n, mid;
	int cmp;

	*found = 0;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		cmp = strcmp(file, c->c_v[mid]->p_file);
		if (cmp == 0) {
			*found = 1;
			return mid;
		}
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static struct part *
cache_get(const struct schema_cache *c, const char *file)
{
	int found;
	size_t i = cache_find(c, file, &found);

	return found ? c->c_v[i] : NULL;
}

/* p becomes file's part; the one it replaces loses the cache's reference. */
static void
cache_put(struct schema_cache *c, struct part *p)
{
	int found;
	size_t i = cache_find(c, p->p_file, &found);

	if (found) {
		part_unref(c->c_v[i]);
		c->c_v[i] = p;
		return;
	}
	if (c->c_n == c->c_cap) {
		c->c_cap = c->c_cap ? c->c_cap * 2 : 64;
		c->c_v = xdc_reallocarray(c->c_v, c->c_cap, sizeof(*c->c_v));
	}
	memmove(&c->c_v[i + 1], &c->c_v[i], (c->c_n - i) * sizeof(*c->c_v));
	c->c_v[i] = p;
	c->c_n++;
}

/* Only the files of the last finished build stay. */
static void
cache_trim(struct schema_cache *c)
{
	size_t i, n = 0;

	for (i = 0; i < c->c_n; i++) {
		if (c->c_v[i]->p_gen == c->c_gen)
			c->c_v[n++] = c->c_v[i];
		else
			part_unref(c->c_v[i]);
	}
	c->c_n = n;
}

void
schema_cache_stale(struct schema_cache *c, const char *file)
{
	struct part *p;
	char *norm, *d;
	const char *s;

	if (file == NULL) {
		c->c_all_stale = 1;
		return;
	}
	/* "dir//a.yaml" from a watch is "dir/a.yaml" to the loader. */
	norm = d = xdc_strdup(file);
	for (s = file; *s != '\0'; s++)
		if (!(*s == '/' && s[1] == '/'))
			*d++ = *s;
	*d = '\0';
	if ((p = cache_get(c, norm)) != NULL)
		p->p_stale = 1;
	free(norm);
}

void
schema_cache_counts(
    const struct schema_cache *c, size_t *parsed, size_t *reused)
{
	*parsed = c->c_parsed;
	*reused = c->c_reused;
}

/* ---- Builds ----------------------------------------------------------- */

struct schema_build *
schema_build_begin(
    struct schema_cache *c, const char *root, struct xdc_diags *diags)
{
	struct schema_build *b = xdc_calloc(1, sizeof(*b));

	b->b_cache = c;
	b->b_l = (struct loader *)schema_loader_new(root, diags);
	b->b_root = b->b_l->l_root;
	c->c_gen++;
	c->c_parsed = c->c_reused = 0;
	return b;
}

void
schema_build_free(struct schema_build *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->b_used.cp_n; i++)
		part_unref(b->b_used.cp_v[i]);
	free(b->b_used.cp_v);
	schema_loader_free((struct schema_loader *)b->b_l);
	free(b);
}

/* Put part p in the configuration being built, as its next file. */
static void
build_use(struct schema_build *b, struct part *p)
{
	struct loader *l = b->b_l;
	const struct object_type *t;
	const struct xdc_diag *d;
	const char *src;
	uint32_t file, wbase;
	size_t i, j;
	void *obj;

	p->p_gen = b->b_cache->c_gen;
	p->p_refs++;
	if (b->b_used.cp_n == b->b_cap) {
		b->b_cap = b->b_cap ? b->b_cap * 2 : 64;
		b->b_used.cp_v = xdc_reallocarray(
		    b->b_used.cp_v, b->b_cap, sizeof(*b->b_used.cp_v));
	}
	b->b_used.cp_v[b->b_used.cp_n++] = p;

	file = loader_file_add(l, p->p_file);
	for (i = 0; i < xdc_diags_count(p->p_diags); i++) {
		d = xdc_diags_get(p->p_diags, i);
		xdc_diag(l->l_diags, d->dg_file, d->dg_line, d->dg_col, "%s",
		    d->dg_msg);
	}
	wbase = (uint32_t)l->l_nwide;
	if (p->p_nwide > 0) {
		if (l->l_nwide + p->p_nwide > l->l_cap_wide) {
			l->l_cap_wide = l->l_nwide + p->p_nwide + 16;
			l->l_wide = xdc_reallocarray(
			    l->l_wide, l->l_cap_wide, sizeof(*l->l_wide));
		}
		for (i = 0; i < p->p_nwide; i++) {
			l->l_wide[l->l_nwide] = p->p_wide[i];
			l->l_wide[l->l_nwide++].file = file;
		}
	}
	for (i = 0; i < KIND__COUNT; i++) {
		t = schema_kinds[i];
		src = p->p_kinds[i].ka_v;
		for (j = 0; j < p->p_kinds[i].ka_n; j++) {
			obj = loader_append(l, (enum kind)i);
			memcpy(obj, src + j * t->o_size, t->o_size);
			object_rebase(l, t, obj, file, wbase);
			l->l_kinds[i].ka_n++;
		}
	}
}

int
schema_build_reuse(
    struct schema_build *b, const char *file, const void *key, size_t keylen)
{
	struct part *p = cache_get(b->b_cache, file);

	if (p == NULL || p->p_keylen != keylen ||
	    memcmp(p->p_key, key, keylen) != 0)
		return 0;
	build_use(b, p);
	b->b_cache->c_reused++;
	return 1;
}

static struct part *
build_parse(struct schema_build *b, const char *file, const void *key,
    size_t keylen, const char *buf, size_t len)
{
	struct part *p;

	if (keylen > KEY_MAX)
		keylen = KEY_MAX;
	p = part_parse(b->b_root, file, key, keylen, buf, len);
	cache_put(b->b_cache, p);
	build_use(b, p);
	b->b_cache->c_parsed++;
	return p;
}

void
schema_build_add(struct schema_build *b, const char *file, const void *key,
    size_t keylen, const char *buf, size_t len)
{
	(void)build_parse(b, file, key, keylen, buf, len);
}

int
schema_build_finish(struct schema_build *b, struct xdc_config **out)
{
	struct xdc_config_parts *cp;
	int rc;

	rc = schema_loader_finish((struct schema_loader *)b->b_l, out);
	b->b_l = NULL;
	if (rc == 0) {
		cp = xdc_calloc(1, sizeof(*cp));
		*cp = b->b_used;
		b->b_used.cp_v = NULL;
		b->b_used.cp_n = 0;
		(*out)->cfg_parts = cp;
	}
	cache_trim(b->b_cache);
	b->b_cache->c_all_stale = 0;
	schema_build_free(b);
	return rc;
}

/* ---- Directories ------------------------------------------------------ */

/* A key for bytes: their length and two 64-bit hashes of them. */
static size_t
content_key(const char *buf, size_t len, unsigned char key[KEY_MAX])
{
	uint64_t h1 = 14695981039346656037ULL, h2 = 0x9e3779b97f4a7c15ULL;
	uint64_t w, v[3];
	size_t i;

	/* A file over XDC_FILE_MAX is not read: its length says it all. */
	for (i = 0; buf != NULL && i + 8 <= len; i += 8) {
		memcpy(&w, buf + i, 8);
		h1 = (h1 ^ w) * 1099511628211ULL;
		h2 = (h2 ^ w) * 0xff51afd7ed558ccdULL;
		h2 ^= h2 >> 29;
	}
	for (; buf != NULL && i < len; i++) {
		h1 = (h1 ^ (unsigned char)buf[i]) * 1099511628211ULL;
		h2 = (h2 ^ (unsigned char)buf[i]) * 0xc4ceb9fe1a85ec53ULL;
	}
	v[0] = len;
	v[1] = h1 ^ h1 >> 32;
	v[2] = h2 ^ h2 >> 31;
	memcpy(key, v, sizeof(v));
	return sizeof(v);
}

static int
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	       a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/*
 * One file of a directory: its part as it was when nothing says it
 * changed (not stale, not a link, whose target inotify would not name,
 * and the same inode, size and times); else read, and parsed when its
 * bytes are new.
 */
static int
load_file(struct schema_build *b, const char *file)
{
	struct schema_cache *c = b->b_cache;
	unsigned char key[KEY_MAX];
	struct part *p = cache_get(c, file);
	struct stat lst, st;
	char *buf = NULL;
	size_t len = 0, keylen;
	int rc, have;

	have = lstat(file, &lst) == 0 && stat(file, &st) == 0;
	if (p != NULL && have && !p->p_stale && !c->c_all_stale &&
	    !S_ISLNK(lst.st_mode) && p->p_stat && same_file(&p->p_st, &st)) {
		build_use(b, p);
		c->c_reused++;
		return 0;
	}
	if ((rc = xdc_file_read(file, XDC_FILE_MAX, 0, &buf, &len)) != 0)
		return rc;
	keylen = content_key(buf, len, key);
	if (p == NULL || p->p_keylen != keylen ||
	    memcmp(p->p_key, key, keylen) != 0)
		p = build_parse(b, file, key, keylen, buf, len);
	else {
		build_use(b, p);
		c->c_reused++;
	}
	free(buf);
	p->p_stale = 0;
	p->p_stat = have;
	if (have)
		p->p_st = st;
	return 0;
}

int
schema_cache_load(struct schema_cache *c, const char *path,
    struct xdc_config **out, struct xdc_diags *diags)
{
	struct schema_build *b = NULL;
	char **files = NULL, *root = NULL;
	size_t nfiles = 0, i;
	int rc;

	/* A stream is read once: nothing to keep. */
	if (!strcmp(path, XDC_STDIN_PATH))
		return schema_load(path, out, diags);
	if ((rc = schema_files(path, &files, &nfiles)) != 0 ||
	    (rc = loader_root(path, &root)) != 0)
		goto out;
	b = schema_build_begin(c, path, diags);
	for (i = 0; i < nfiles; i++) {
		if (loader_file_refused(root, files[i], path, diags))
			continue;
		if ((rc = load_file(b, files[i])) != 0)
			goto out;
	}
	rc = schema_build_finish(b, out);
	b = NULL;
out:
	schema_build_free(b);
	free(root);
	schema_files_free(files, nfiles);
	return rc;
}
