/*
 * The loader: finds the files of a configuration, turns each YAML document
 * into a small tree of nodes with libyaml's event API, and reads each tree
 * into a typed object by walking its kind's table (kinds.c). Rules that span
 * objects run once everything is read (check.c).
 *
 * A document's nodes live in an arena that is reset for the next document,
 * so a configuration of any size costs memory for its model, not its text.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "base/error.h"
#include "base/file.h"
#include "schema/loader.h"
#include "schema/schema.h"
#include "schema/values.h"

/* ---- Diagnostics ------------------------------------------------------ */

static void
loader_vdiag(struct loader *l, uint32_t file, uint32_t line, uint32_t col,
    const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	xdc_diag(l->l_diags, l->l_files[file], line, col, "%s", msg);
}

void
loader_diag(struct loader *l, const struct node *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	loader_vdiag(
	    l, l->l_file, n ? n->nd_line : 1, n ? n->nd_col : 1, fmt, ap);
	va_end(ap);
}

void
loader_diag_loc(struct loader *l, struct xdc_loc loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	loader_vdiag(l, loc.file, loc.line, loc.col, fmt, ap);
	va_end(ap);
}

const char *
loader_where(struct loader *l, struct xdc_loc loc)
{
	return xdc_arena_printf(
	    l->l_nodes, "%s:%u:%u", l->l_files[loc.file], loc.line, loc.col);
}

int
loc_before(struct xdc_loc a, struct xdc_loc b)
{
	if (a.file != b.file)
		return a.file < b.file;
	if (a.line != b.line)
		return a.line < b.line;
	return a.col < b.col;
}

struct xdc_loc
loader_loc(const struct loader *l, const struct xdc_at *at, uint32_t pos)
{
	return xdc_loc_unpack(l->l_wide, at, pos);
}

/* An object starts at its mapping: its fields are counted from there. */
static void
object_begin(struct loader *l, const struct object_type *t, void *obj,
    const struct node *map)
{
	struct xdc_at *at =
	    (struct xdc_at *)(void *)((char *)obj + t->o_at_off);

	at->at_file = l->l_file;
	at->at_line = map->nd_line;
}

/* Where node n of an object is, packed against the object's start. */
static uint32_t
node_pos(struct loader *l, const struct xdc_at *at, const struct node *n)
{
	/* Unsigned: a node above the object (none is) wraps, to be wide. */
	uint32_t dline = n->nd_line - at->at_line;

	if (dline <= XDC_POS_MAX_LINE && n->nd_col >= 1 &&
	    n->nd_col <= XDC_POS_MAX_COL)
		return dline << 16 | n->nd_col;
	if (l->l_nwide == l->l_cap_wide) {
		l->l_cap_wide = l->l_cap_wide ? l->l_cap_wide * 2 : 16;
		l->l_wide = xdc_reallocarray(
		    l->l_wide, l->l_cap_wide, sizeof(*l->l_wide));
	}
	l->l_wide[l->l_nwide].file = l->l_file;
	l->l_wide[l->l_nwide].line = n->nd_line;
	l->l_wide[l->l_nwide].col = n->nd_col;
	return XDC_POS_WIDE | (uint32_t)l->l_nwide++;
}

/*
 * Where a key sits in a document, "disks[1].vdev", as a chain up to the
 * top: it is rendered into a string only for a message, so that reading a
 * valid configuration formats no paths at all.
 */
struct keypath {
	const struct keypath *kp_up; /* the enclosing key, or NULL at the top */
	const char *kp_key;          /* the key, or NULL for a list's element */
	size_t kp_index;             /* the element's index */
};

static const char *
keypath_str(struct loader *l, const struct keypath *kp)
{
	const char *up;

	if (kp == NULL)
		return "";
	up = keypath_str(l, kp->kp_up);
	if (kp->kp_key == NULL)
		return xdc_arena_printf(
		    l->l_nodes, "%s[%zu]", up, kp->kp_index);
	if (*up == '\0')
		return kp->kp_key;
	return xdc_arena_printf(l->l_nodes, "%s.%s", up, kp->kp_key);
}

/* ---- Shared strings --------------------------------------------------- */

/*
 * The strings that repeat across objects: labels, kernels, command lines,
 * networks. Ten thousand VMs booting one kernel keep one copy of its path,
 * which is most of what separates the model's size from the YAML's.
 * Open addressing, in the configuration's arena; the table itself is
 * freed with the loader.
 */
struct strtab {
	const char **st_v;
	uint32_t *st_hash;
	size_t st_n;
	size_t st_cap; /* a power of two, or 0 */
};

/*
 * Eight bytes a step, each step a multiply and a fold (the table's own:
 * nothing outside this process sees it). A byte at a time, FNV-1a was
 * most of what sharing a string cost.
 */
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
strtab_grow(struct strtab *t)
{
	struct strtab g = { NULL, NULL, 0, t->st_cap ? t->st_cap * 2 : 64 };
	size_t i, j;

	g.st_v = xdc_calloc(g.st_cap, sizeof(*g.st_v));
	g.st_hash = xdc_calloc(g.st_cap, sizeof(*g.st_hash));
	for (i = 0; i < t->st_cap; i++) {
		if (t->st_v[i] == NULL)
			continue;
		for (j = t->st_hash[i] & (g.st_cap - 1); g.st_v[j] != NULL;
		     j = (j + 1) & (g.st_cap - 1))
			;
		g.st_v[j] = t->st_v[i];
		g.st_hash[j] = t->st_hash[i];
	}
	g.st_n = t->st_n;
	free(t->st_v);
	free(t->st_hash);
	*t = g;
}

static void
strtab_free(struct strtab *t)
{
	if (t == NULL)
		return;
	free(t->st_v);
	free(t->st_hash);
	free(t);
}

/* s[0..n), NUL-terminated in the configuration's arena, once. */
static const char *
shared_strndup(struct loader *l, const char *s, size_t n)
{
	struct strtab *t = l->l_shared;
	uint32_t h = str_hash(s, n);
	size_t i;

	if (t->st_n * 2 >= t->st_cap)
		strtab_grow(t);
	for (i = h & (t->st_cap - 1); t->st_v[i] != NULL;
	     i = (i + 1) & (t->st_cap - 1))
		if (t->st_hash[i] == h && !strncmp(t->st_v[i], s, n) &&
		    t->st_v[i][n] == '\0')
			return t->st_v[i];
	t->st_v[i] = xdc_arena_strndup(l->l_arena, s, n);
	t->st_hash[i] = h;
	t->st_n++;
	return t->st_v[i];
}

/*
 * Label sets repeat as well: thousands of VMs carry {tier: web, app: shop}.
 * Their strings are shared already, so two sets are equal exactly when
 * their pointers are; each distinct set is kept once, in the arena.
 */
struct labtab {
	struct xdc_labels *lt_v; /* lb_v NULL: an empty slot */
	uint32_t *lt_hash;
	size_t lt_n;
	size_t lt_cap; /* a power of two, or 0 */
};

static uint32_t
labels_hash(const struct xdc_label *lb, size_t n)
{
	const struct xdc_label *end = lb + n;
	uint64_t h = 14695981039346656037ULL ^ n; /* FNV-1a, by pointer */

	for (; lb < end; lb++) {
		h = (h ^ (uintptr_t)lb->key) * 1099511628211ULL;
		h = (h ^ (uintptr_t)lb->value) * 1099511628211ULL;
	}
	return (uint32_t)(h ^ h >> 32);
}

static void
labtab_grow(struct labtab *t)
{
	struct labtab g = { NULL, NULL, 0, t->lt_cap ? t->lt_cap * 2 : 64 };
	size_t i, j;

	g.lt_v = xdc_calloc(g.lt_cap, sizeof(*g.lt_v));
	g.lt_hash = xdc_calloc(g.lt_cap, sizeof(*g.lt_hash));
	for (i = 0; i < t->lt_cap; i++) {
		if (t->lt_v[i].lb_v == NULL)
			continue;
		for (j = t->lt_hash[i] & (g.lt_cap - 1); g.lt_v[j].lb_v != NULL;
		     j = (j + 1) & (g.lt_cap - 1))
			;
		g.lt_v[j] = t->lt_v[i];
		g.lt_hash[j] = t->lt_hash[i];
	}
	g.lt_n = t->lt_n;
	free(t->lt_v);
	free(t->lt_hash);
	*t = g;
}

static void
labtab_free(struct labtab *t)
{
	if (t == NULL)
		return;
	free(t->lt_v);
	free(t->lt_hash);
	free(t);
}

/* A sorted label set of shared strings, stored once. */
static struct xdc_labels
shared_labels(struct loader *l, const struct xdc_label *lb, size_t n)
{
	struct labtab *t = l->l_shared_labels;
	uint32_t h = labels_hash(lb, n);
	size_t i;

	if (t->lt_n * 2 >= t->lt_cap)
		labtab_grow(t);
	for (i = h & (t->lt_cap - 1); t->lt_v[i].lb_v != NULL;
	     i = (i + 1) & (t->lt_cap - 1))
		if (t->lt_hash[i] == h && t->lt_v[i].lb_n == n &&
		    !memcmp(t->lt_v[i].lb_v, lb, n * sizeof(*lb)))
			return t->lt_v[i];
	t->lt_v[i].lb_v =
	    xdc_arena_alloc(l->l_arena, n > 0 ? n * sizeof(*lb) : 1);
	memcpy(t->lt_v[i].lb_v, lb, n * sizeof(*lb));
	t->lt_v[i].lb_n = n;
	t->lt_hash[i] = h;
	t->lt_n++;
	return t->lt_v[i];
}

/* A scalar's text for a field, shared when the field says so. */
static const char *
field_strdup(struct loader *l, const struct field *f, const char *s)
{
	if (f->f_flags & F_SHARED)
		return shared_strndup(l, s, strlen(s));
	return xdc_arena_strdup(l->l_arena, s);
}

/* ---- Values ----------------------------------------------------------- */

static int
node_is_null(const struct node *n)
{
	return n->nd_type == NODE_SCALAR && n->nd_plain &&
	       (n->nd_len == 0 ||
	           (n->nd_len == 1 && !strcmp(n->nd_value, "~")) ||
	           (n->nd_len == 4 && (!strcmp(n->nd_value, "null") ||
	                                  !strcmp(n->nd_value, "Null") ||
	                                  !strcmp(n->nd_value, "NULL"))));
}

static const char *
node_got(struct loader *l, const struct node *n)
{
	switch (n->nd_type) {
	case NODE_MAP:
		return "a mapping";
	case NODE_SEQ:
		return "a list";
	case NODE_SCALAR:
		break;
	}
	if (!n->nd_plain)
		return xdc_arena_printf(
		    l->l_nodes, "the string \"%s\"", n->nd_value);
	return xdc_arena_printf(l->l_nodes, "\"%s\"", n->nd_value);
}

static const char *
field_expects(struct loader *l, const struct field *f)
{
	const char *const *e;
	char *s;

	switch (f->f_type) {
	case FT_KIND:
	case FT_STRING:
		return "a string";
	case FT_NAME:
		return "a name";
	case FT_PATH:
		return "an absolute path";
	case FT_IFNAME:
		return "an interface name";
	case FT_SIZE:
		return "a size such as 512MiB or 2GiB";
	case FT_U16:
	case FT_U32:
		return "a whole number";
	case FT_BOOL:
		return "true or false";
	case FT_ENUM:
		s = xdc_arena_strdup(l->l_nodes, "one of");
		for (e = f->f_enum; *e != NULL; e++)
			s = xdc_arena_printf(l->l_nodes, "%s%s %s", s,
			    e == f->f_enum ? "" : ",", *e);
		return s;
	case FT_LABELS:
		return "a mapping of labels";
	case FT_MAC:
		return "a MAC address such as 00:16:3e:00:00:01";
	case FT_WINDOW:
		return "a window such as \"Sat 02:00-04:00 UTC\"";
	case FT_RATE:
		return "a count per period such as 5/1h";
	case FT_EXPIRY:
		return "a duration such as 48h, or an RFC 3339 time";
	case FT_MAP:
		return "a mapping";
	case FT_LIST:
		return "a list";
	}
	return "a value";
}

static void parse_object(struct loader *, const struct object_type *, void *,
    const struct node *, const struct keypath *);

/* A label as read, with its place among the mapping's, for the sort. */
struct label_at {
	const struct node *la_key;
	const struct node *la_value;
	size_t la_seq;
};

static int
label_at_cmp(const void *a, const void *b)
{
	const struct label_at *x = a, *y = b;
	int c = strcmp(x->la_key->nd_value, y->la_key->nd_value);

	if (c != 0)
		return c;
	return x->la_seq < y->la_seq ? -1 : x->la_seq > y->la_seq;
}

/*
 * Labels are sorted by key, and a key repeated is found beside its first
 * occurrence: n log n, where a scan of the keys before each one took 59 s
 * for a VM of 160,000 labels.
 */
static void
parse_labels(struct loader *l, struct xdc_labels *out, const struct node *map,
    const struct keypath *kp)
{
	const struct node *k, *v;
	struct label_at *at;
	struct xdc_label *lb;
	size_t n = 0, m = 0, i, first = 0;

	/* Read into the document's scratch; kept once per distinct set. */
	at = xdc_arena_alloc(l->l_nodes, (map->nd_count / 2) * sizeof(*at) + 1);
	lb = xdc_arena_alloc(l->l_nodes, (map->nd_count / 2) * sizeof(*lb) + 1);
	for (k = map->nd_first; k != NULL && k->nd_next != NULL;
	     k = v->nd_next) {
		v = k->nd_next;
		if (k->nd_type != NODE_SCALAR || node_is_null(k) ||
		    strlen(k->nd_value) != k->nd_len) {
			loader_diag(l, k, "%s: a label's key must be a string",
			    keypath_str(l, kp));
			continue;
		}
		if (v->nd_type != NODE_SCALAR || node_is_null(v)) {
			loader_diag(l, v,
			    "%s.%s: a label's value must be a string, got %s",
			    keypath_str(l, kp), k->nd_value,
			    node_is_null(v) ? "null" : node_got(l, v));
			continue;
		}
		if (strlen(v->nd_value) != v->nd_len) {
			loader_diag(l, v, "%s.%s: contains a NUL character",
			    keypath_str(l, kp), k->nd_value);
			continue;
		}
		at[m].la_key = k;
		at[m].la_value = v;
		at[m].la_seq = m;
		m++;
	}
	qsort(at, m, sizeof(*at), label_at_cmp);
	for (i = 0; i < m; i++) {
		if (i > 0 && !strcmp(at[i].la_key->nd_value,
		                 at[first].la_key->nd_value)) {
			loader_diag(l, at[i].la_key,
			    "%s.%s: duplicate label (first at %u:%u)",
			    keypath_str(l, kp), at[i].la_key->nd_value,
			    at[first].la_key->nd_line,
			    at[first].la_key->nd_col);
			continue;
		}
		first = i;
		lb[n].key = shared_strndup(
		    l, at[i].la_key->nd_value, at[i].la_key->nd_len);
		lb[n].value = shared_strndup(
		    l, at[i].la_value->nd_value, at[i].la_value->nd_len);
		n++;
	}
	/* Sorted by key already, as a label set must be. */
	*out = shared_labels(l, lb, n);
}

/*
 * Read one value into its field. Returns 0 when stored, -1 after reporting
 * why not.
 */
static int
parse_value(struct loader *l, const struct field *f, void *obj,
    const struct node *v, const struct keypath *kp)
{
	struct keypath elem = { kp, NULL, 0 };
	char *p = (char *)obj + f->f_off;
	const char *why = NULL, *s = v->nd_value;
	const struct node *e;
	uint64_t u;
	size_t i, size;
	char *elems;
	int b;

	switch (f->f_type) {
	case FT_MAP:
	case FT_LABELS:
		if (v->nd_type != NODE_MAP)
			goto wrong_type;
		if (f->f_type == FT_LABELS)
			parse_labels(l, (struct xdc_labels *)(void *)p, v, kp);
		else
			parse_object(l, f->f_sub, obj, v, kp);
		return 0;
	case FT_LIST:
		if (v->nd_type != NODE_SEQ)
			goto wrong_type;
		if (f->f_max != 0 && v->nd_count > f->f_max) {
			loader_diag(l, v, "%s: at most %llu entries, got %u",
			    keypath_str(l, kp), (unsigned long long)f->f_max,
			    v->nd_count);
			return -1;
		}
		size = f->f_sub->o_size;
		/* No "+ 1" for an empty list: it would pad every list by 16. */
		elems = xdc_arena_zalloc(
		    l->l_arena, v->nd_count > 0 ? v->nd_count * size : 1);
		for (e = v->nd_first, i = 0; e != NULL; e = e->nd_next, i++) {
			elem.kp_index = i;
			if (e->nd_type != NODE_MAP) {
				loader_diag(l, e,
				    "%s: expected a mapping, got %s",
				    keypath_str(l, &elem), node_got(l, e));
				continue;
			}
			object_begin(l, f->f_sub, elems + i * size, e);
			parse_object(l, f->f_sub, elems + i * size, e, &elem);
		}
		*(void **)(void *)p = elems;
		*(size_t *)(void *)((char *)obj + f->f_count_off) = v->nd_count;
		return 0;
	default:
		break;
	}

	/* Everything else is a scalar. */
	if (v->nd_type != NODE_SCALAR)
		goto wrong_type;
	if (strlen(s) != v->nd_len) {
		loader_diag(
		    l, v, "%s: contains a NUL character", keypath_str(l, kp));
		return -1;
	}

	switch (f->f_type) {
	case FT_NAME:
		if (!xdc_name_valid(s)) {
			loader_diag(l, v,
			    "%s: \"%s\" is not a valid name (lower-case "
			    "letters, "
			    "digits and '-', at most 63, starting and ending "
			    "with a letter or digit)",
			    keypath_str(l, kp), s);
			return -1;
		}
		*(const char **)(void *)p = field_strdup(l, f, s);
		return 0;
	case FT_STRING:
		*(const char **)(void *)p = field_strdup(l, f, s);
		return 0;
	case FT_PATH:
		if (s[0] != '/') {
			loader_diag(l, v, "%s: \"%s\" is not an absolute path",
			    keypath_str(l, kp), s);
			return -1;
		}
		*(const char **)(void *)p = field_strdup(l, f, s);
		return 0;
	case FT_IFNAME:
		if (!xdc_ifname_valid(s)) {
			loader_diag(l, v,
			    "%s: \"%s\" is not a valid interface name "
			    "(1 to 15 characters, no '/', ':' or spaces)",
			    keypath_str(l, kp), s);
			return -1;
		}
		*(const char **)(void *)p = field_strdup(l, f, s);
		return 0;
	case FT_SIZE:
		if ((why = xdc_parse_size(s, &u)) != NULL)
			goto bad_value;
		*(uint64_t *)(void *)p = u;
		return 0;
	case FT_U16:
	case FT_U32:
		if (!v->nd_plain)
			goto wrong_type;
		/* "-1" and "99999999999999999999" are numbers, out of range. */
		why = xdc_parse_uint(s[0] == '-' ? s + 1 : s, UINT64_MAX, &u);
		if (why != NULL && strcmp(why, "is too large") != 0)
			goto wrong_type;
		if (s[0] == '-' || why != NULL || u > f->f_max ||
		    u < f->f_min) {
			loader_diag(l, v,
			    "%s: %s is out of range (%llu to %llu)",
			    keypath_str(l, kp), s, (unsigned long long)f->f_min,
			    (unsigned long long)f->f_max);
			return -1;
		}
		if (f->f_type == FT_U16)
			*(uint16_t *)(void *)p = (uint16_t)u;
		else
			*(uint32_t *)(void *)p = (uint32_t)u;
		return 0;
	case FT_BOOL:
		if (!v->nd_plain || xdc_parse_bool(s, &b) != NULL)
			goto wrong_type;
		*(int *)(void *)p = b;
		return 0;
	case FT_ENUM:
		for (i = 0; f->f_enum[i] != NULL; i++) {
			if (!strcmp(s, f->f_enum[i])) {
				*(int *)(void *)p = (int)i;
				return 0;
			}
		}
		goto wrong_type;
	case FT_MAC:
		if ((why = xdc_parse_mac(s, (uint8_t *)p)) != NULL)
			goto bad_value;
		return 0;
	case FT_WINDOW:
		if ((why = xdc_parse_window(
		         s, (struct xdc_window *)(void *)p)) != NULL)
			goto bad_value;
		return 0;
	case FT_RATE:
		if ((why = xdc_parse_rate(s, (struct xdc_rate *)(void *)p)) !=
		    NULL)
			goto bad_value;
		return 0;
	case FT_EXPIRY:
		if ((why = xdc_parse_expiry(
		         s, (struct xdc_expiry *)(void *)p)) != NULL)
			goto bad_value;
		return 0;
	default:
		break;
	}
	return -1;

bad_value:
	loader_diag(l, v, "%s: \"%s\" %s%s", keypath_str(l, kp), s,
	    strncmp(why, "is ", 3) == 0 ? "" : "is invalid: ", why);
	return -1;
wrong_type:
	loader_diag(l, v, "%s: expected %s, got %s", keypath_str(l, kp),
	    field_expects(l, f), node_got(l, v));
	return -1;
}

static const struct field *
find_field(const struct object_type *t, const char *key)
{
	size_t i;

	for (i = 0; i < t->o_nfields; i++)
		if (t->o_fields[i].f_key[0] == key[0] &&
		    !strcmp(t->o_fields[i].f_key, key))
			return &t->o_fields[i];
	return NULL;
}

static void
unknown_key(struct loader *l, const struct object_type *t, const struct node *k,
    const struct keypath *kp)
{
	const char *key = keypath_str(l, kp);
	const char *best = NULL;
	size_t i, d, bestd = 3;

	/* A typo is within two edits; suggest the nearest key. */
	for (i = 0; i < t->o_nfields; i++) {
		d = xdc_edit_distance(k->nd_value, t->o_fields[i].f_key);
		if (d < bestd) {
			bestd = d;
			best = t->o_fields[i].f_key;
		}
	}
	if (best != NULL)
		loader_diag(l, k,
		    "%s: unknown key in %s (did you mean \"%s\"?)", key,
		    t->o_name, best);
	else
		loader_diag(l, k, "%s: unknown key in %s", key, t->o_name);
}

/*
 * Read a mapping into obj by the table t: each key found in the table is
 * parsed by its type; unknown and repeated keys are reported; required keys
 * that are missing are reported at the mapping.
 */
static void
parse_object(struct loader *l, const struct object_type *t, void *obj,
    const struct node *map, const struct keypath *path)
{
	uint32_t *set = (uint32_t *)(void *)((char *)obj + t->o_set_off);
	const struct xdc_at *at =
	    (const struct xdc_at *)(const void *)((char *)obj + t->o_at_off);
	uint32_t *pos = (uint32_t *)(void *)((char *)obj + t->o_pos_off);
	const struct node *k, *v;
	const struct field *f;
	struct keypath key = { path, NULL, 0 };
	uint32_t failed = 0, seen = 0;
	struct node keys[32]; /* where each key was first written */
	size_t i;

	for (k = map->nd_first; k != NULL && k->nd_next != NULL;
	     k = v->nd_next) {
		v = k->nd_next;
		if (k->nd_type != NODE_SCALAR ||
		    strlen(k->nd_value) != k->nd_len) {
			loader_diag(l, k, "%skeys must be strings",
			    path ? xdc_arena_printf(
			               l->l_nodes, "%s: ", keypath_str(l, path))
			         : "");
			continue;
		}
		key.kp_key = k->nd_value;
		if ((f = find_field(t, k->nd_value)) == NULL) {
			unknown_key(l, t, k, &key);
			continue;
		}
		if (seen & (1u << f->f_id)) {
			loader_diag(l, k, "%s: duplicate key (first at %u:%u)",
			    keypath_str(l, &key), keys[f->f_id].nd_line,
			    keys[f->f_id].nd_col);
			continue;
		}
		seen |= 1u << f->f_id;
		keys[f->f_id] = *k;
		/* load_document read "kind"; only note that it is here. */
		if (f->f_type == FT_KIND) {
			*set |= 1u << f->f_id;
			pos[f->f_id] = node_pos(l, at, k);
			continue;
		}
		/* A null value is an absent key, as Kubernetes reads it. */
		if (node_is_null(v))
			continue;
		if (parse_value(l, f, obj, v, &key) == 0) {
			*set |= 1u << f->f_id;
			pos[f->f_id] = node_pos(l, at,
			    f->f_type == FT_MAP || f->f_type == FT_LIST ||
			            f->f_type == FT_LABELS
			        ? k
			        : v);
		} else {
			/*
			 * Reported already. The key stays unset, so that no
			 * rule reads its value, but it is not missing either.
			 */
			failed |= 1u << f->f_id;
			pos[f->f_id] = node_pos(l, at, k);
		}
	}

	for (i = 0; i < t->o_nfields; i++) {
		f = &t->o_fields[i];
		if ((f->f_flags & F_REQUIRED) &&
		    !((*set | failed) & (1u << f->f_id))) {
			if (path)
				loader_diag(l, map,
				    "%s: missing required key \"%s\"",
				    keypath_str(l, path), f->f_key);
			else
				loader_diag(l, map,
				    "missing required key \"%s\" in %s",
				    f->f_key, t->o_name);
		}
	}
	if (t->o_finish != NULL)
		t->o_finish(l, obj, map);
}

/* ---- Documents -------------------------------------------------------- */

void *
loader_append(struct loader *l, enum kind k)
{
	struct kind_array *a = &l->l_kinds[k];
	size_t size = schema_kinds[k]->o_size;

	if (a->ka_n == a->ka_cap) {
		a->ka_cap = a->ka_cap ? a->ka_cap * 2 : 64;
		a->ka_v = xdc_reallocarray(a->ka_v, a->ka_cap, size);
	}
	return memset((char *)a->ka_v + a->ka_n * size, 0, size);
}

static void
load_document(struct loader *l, const struct node *root)
{
	const struct node *k, *kind = NULL;
	const struct object_type *t;
	const struct field *f;
	enum kind i;
	void *obj;

	if (root->nd_type == NODE_SCALAR && node_is_null(root))
		return; /* an empty document */
	if (root->nd_type != NODE_MAP) {
		loader_diag(l, root,
		    "a document must be a mapping with a \"kind\", got %s",
		    node_got(l, root));
		return;
	}
	for (k = root->nd_first; k != NULL && k->nd_next != NULL;
	     k = k->nd_next->nd_next) {
		if (k->nd_type == NODE_SCALAR && !strcmp(k->nd_value, "kind")) {
			kind = k->nd_next;
			break;
		}
	}
	if (kind == NULL || node_is_null(kind)) {
		loader_diag(l, root,
		    "missing required key \"kind\" "
		    "(one of Host, Network, VM, SLA, Scope)");
		return;
	}
	if (kind->nd_type != NODE_SCALAR) {
		loader_diag(l, kind,
		    "kind: expected one of Host, Network, VM, SLA, Scope, "
		    "got %s",
		    node_got(l, kind));
		return;
	}
	for (i = 0; i < KIND__COUNT; i++)
		if (kind->nd_type == NODE_SCALAR &&
		    !strcmp(kind->nd_value, schema_kinds[i]->o_name))
			break;
	if (i == KIND__COUNT) {
		loader_diag(l, kind,
		    "kind: unknown kind %s (expected Host, Network, VM, SLA "
		    "or Scope)",
		    node_got(l, kind));
		return;
	}

	t = schema_kinds[i];
	obj = loader_append(l, i);
	object_begin(l, t, obj, root);
	parse_object(l, t, obj, root, NULL);
	/* Keep only what has a name: without one nothing can refer to it. */
	f = find_field(t, "name");
	if (FIELD_SET(obj, t, f->f_id) && *(const char **)obj != NULL)
		l->l_kinds[i].ka_n++;
}

/* ---- libyaml events -> nodes ------------------------------------------ */

/* Line and column (1-based, in characters) of a byte offset. */
static void
offset_position(
    const char *buf, size_t len, size_t off, uint32_t *line, uint32_t *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off && i < len; i++) {
		if (buf[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)buf[i] & 0xc0) != 0x80) {
			(*col)++;
		}
	}
}

static void
syntax_error(
    struct loader *l, const yaml_parser_t *p, const char *buf, size_t len)
{
	struct node at = { 0 };
	const char *problem = p->problem ? p->problem : "unknown problem";

	if (p->error == YAML_READER_ERROR) {
		offset_position(
		    buf, len, p->problem_offset, &at.nd_line, &at.nd_col);
		if (strstr(problem, "UTF-8") != NULL)
			loader_diag(l, &at, "the file is not valid UTF-8 (%s)",
			    problem);
		else
			loader_diag(l, &at,
			    "the file cannot be read as YAML (%s)", problem);
		return;
	}
	at.nd_line = (uint32_t)p->problem_mark.line + 1;
	at.nd_col = (uint32_t)p->problem_mark.column + 1;
	if (p->context != NULL)
		loader_diag(l, &at, "syntax error: %s %s (started at %zu:%zu)",
		    p->context, problem, p->context_mark.line + 1,
		    p->context_mark.column + 1);
	else
		loader_diag(l, &at, "syntax error: %s", problem);
}

static struct node *
node_new(struct loader *l, enum node_type type, const yaml_mark_t *m)
{
	struct node *n = xdc_arena_alloc(l->l_nodes, sizeof(*n));

	*n = (struct node){
		.nd_type = type,
		.nd_line = (uint32_t)m->line + 1,
		.nd_col = (uint32_t)m->column + 1,
	};
	return n;
}

static void
node_attach(struct node *parent, struct node *child)
{
	if (parent->nd_last != NULL)
		parent->nd_last->nd_next = child;
	else
		parent->nd_first = child;
	parent->nd_last = child;
	parent->nd_count++;
}

static void
load_buffer(struct loader *l, const char *buf, size_t len)
{
	struct node *stack[XDC_DEPTH_MAX + 1], *n, *root = NULL, at;
	yaml_parser_t parser;
	yaml_event_t ev;
	size_t depth = 0;
	int done = 0, broken = 0;
	const yaml_char_t *anchor, *tag;

	if (!yaml_parser_initialize(&parser)) {
		memset(&at, 0, sizeof(at));
		loader_diag(l, &at, "cannot start the YAML parser");
		return;
	}
	/*
	 * Insisting on UTF-8 also makes libyaml take a byte order mark for
	 * text; skip it here, so that columns on line 1 count from after it.
	 */
	if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3)) {
		buf += 3;
		len -= 3;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);

	while (!done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			syntax_error(l, &parser, buf, len);
			break;
		}
		anchor = tag = NULL;
		n = NULL;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			xdc_arena_reset(l->l_nodes);
			root = NULL;
			depth = 0;
			broken = 0;
			break;
		case YAML_DOCUMENT_END_EVENT:
			if (root != NULL && !broken)
				load_document(l, root);
			break;
		case YAML_ALIAS_EVENT:
			n = node_new(l, NODE_SCALAR, &ev.start_mark);
			n->nd_value = "";
			n->nd_plain = 1;
			loader_diag(l, n,
			    "aliases are not allowed (they invite expansion "
			    "bombs; write the value out)");
			broken = 1;
			break;
		case YAML_SCALAR_EVENT:
			n = node_new(l, NODE_SCALAR, &ev.start_mark);
			n->nd_value = xdc_arena_strndup(l->l_nodes,
			    (const char *)ev.data.scalar.value,
			    ev.data.scalar.length);
			n->nd_len = ev.data.scalar.length;
			n->nd_plain =
			    ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
			anchor = ev.data.scalar.anchor;
			tag = ev.data.scalar.tag;
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			n = node_new(l,
			    ev.type == YAML_MAPPING_START_EVENT ? NODE_MAP
			                                        : NODE_SEQ,
			    &ev.start_mark);
			if (ev.type == YAML_MAPPING_START_EVENT) {
				anchor = ev.data.mapping_start.anchor;
				tag = ev.data.mapping_start.tag;
			} else {
				anchor = ev.data.sequence_start.anchor;
				tag = ev.data.sequence_start.tag;
			}
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (depth > 0)
				depth--;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
		if (n == NULL)
			continue;

		if (anchor != NULL) {
			loader_diag(l, n,
			    "anchors are not allowed (they invite expansion "
			    "bombs; write the value out)");
			broken = 1;
		}
		if (tag != NULL)
			loader_diag(l, n, "tags are not supported");
		if (depth > 0)
			node_attach(stack[depth - 1], n);
		else
			root = n;
		if (n->nd_type != NODE_SCALAR) {
			if (depth == XDC_DEPTH_MAX) {
				/*
				 * Stop reading the file: going on would only
				 * grow libyaml's stacks for a document we
				 * refuse anyway.
				 */
				loader_diag(l, n,
				    "the document is nested deeper than %d "
				    "levels",
				    XDC_DEPTH_MAX);
				break;
			}
			stack[depth++] = n;
		}
	}
	yaml_parser_delete(&parser);
}

/* ---- Files ------------------------------------------------------------ */

uint32_t
loader_file_add(struct loader *l, const char *file)
{
	if (l->l_nfiles + 1 >= l->l_cap_files) {
		l->l_cap_files = l->l_cap_files ? l->l_cap_files * 2 : 16;
		l->l_files = xdc_reallocarray(
		    l->l_files, l->l_cap_files, sizeof(*l->l_files));
	}
	l->l_files[++l->l_nfiles] = xdc_arena_strdup(l->l_arena, file);
	return (uint32_t)l->l_nfiles;
}

struct schema_loader *
schema_loader_new(const char *root, struct xdc_diags *diags)
{
	struct loader *l = xdc_calloc(1, sizeof(*l));

	l->l_diags = diags;
	l->l_arena = xdc_arena_new();
	l->l_nodes = xdc_arena_new();
	l->l_shared = xdc_calloc(1, sizeof(*l->l_shared));
	l->l_shared_labels = xdc_calloc(1, sizeof(*l->l_shared_labels));
	l->l_root = xdc_arena_strdup(l->l_arena, root);
	/* Locations index files from 1, so that 0 can mean "nowhere". */
	l->l_cap_files = 16;
	l->l_files = xdc_calloc(l->l_cap_files, sizeof(*l->l_files));
	l->l_files[0] = "";
	return (struct schema_loader *)l;
}

void
schema_loader_free(struct schema_loader *sl)
{
	struct loader *l = (struct loader *)sl;
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < KIND__COUNT; i++)
		free(l->l_kinds[i].ka_v);
	free(l->l_files);
	free(l->l_wide);
	strtab_free(l->l_shared);
	labtab_free(l->l_shared_labels);
	xdc_arena_free(l->l_nodes);
	xdc_arena_free(l->l_arena);
	free(l);
}

void
schema_loader_add(
    struct schema_loader *sl, const char *file, const char *buf, size_t len)
{
	struct loader *l = (struct loader *)sl;
	struct node at = { 0 };

	l->l_file = loader_file_add(l, file);
	if (len > XDC_FILE_MAX) {
		at.nd_line = at.nd_col = 1;
		loader_diag(
		    l, &at, "the file is larger than 16 MiB (%zu bytes)", len);
		return;
	}
	load_buffer(l, buf, len);
}

struct sort_arg {
	const struct loader *sa_l;
	const struct object_type *sa_t;
};

/* Order by name, then by where declared, so duplicates sit together. */
static int
object_cmp(const void *a, const void *b, void *arg)
{
	const struct sort_arg *sa = arg;
	const struct loader *l = sa->sa_l;
	const struct object_type *t = sa->sa_t;
	struct xdc_loc la, lb;
	int c;

	c = strcmp(*(const char *const *)a, *(const char *const *)b);
	if (c != 0)
		return c;
	/* Their first fields: where each was declared. */
	la = loader_loc(l,
	    (const struct xdc_at *)(const void *)((const char *)a +
	                                          t->o_at_off),
	    *(const uint32_t *)(const void *)((const char *)a + t->o_pos_off));
	lb = loader_loc(l,
	    (const struct xdc_at *)(const void *)((const char *)b +
	                                          t->o_at_off),
	    *(const uint32_t *)(const void *)((const char *)b + t->o_pos_off));
	return loc_before(la, lb) ? -1 : loc_before(lb, la);
}

int
schema_loader_finish(struct schema_loader *sl, struct xdc_config **out)
{
	struct loader *l = (struct loader *)sl;
	struct xdc_config *cfg;
	struct kind_array *a;
	struct sort_arg sa;
	size_t i, n, size;
	void *v;
	int rc;

	cfg = xdc_calloc(1, sizeof(*cfg));
	cfg->cfg_path = l->l_root;
	cfg->cfg_nfiles = l->l_nfiles;
	cfg->cfg_files = xdc_arena_alloc(
	    l->l_arena, (l->l_nfiles + 1) * sizeof(*cfg->cfg_files));
	memcpy(cfg->cfg_files, l->l_files,
	    (l->l_nfiles + 1) * sizeof(*cfg->cfg_files));

	/*
	 * Hand each kind's array to the arena, sorted by name. It is not
	 * copied: for 100,000 VMs a copy would be 36 MB more at the peak.
	 */
	for (i = 0; i < KIND__COUNT; i++) {
		a = &l->l_kinds[i];
		size = schema_kinds[i]->o_size;
		sa.sa_l = l;
		sa.sa_t = schema_kinds[i];
		if (a->ka_n > 1)
			qsort_r(a->ka_v, a->ka_n, size, object_cmp, &sa);
		n = a->ka_n;
		if (n == 0) {
			v = xdc_arena_alloc(l->l_arena, 1);
		} else {
			v = xdc_arena_adopt(
			    l->l_arena, xdc_reallocarray(a->ka_v, n, size));
			a->ka_v = NULL;
			a->ka_n = a->ka_cap = 0;
		}
		switch (i) {
		case KIND_HOST:
			cfg->cfg_hosts = v;
			cfg->cfg_nhosts = n;
			break;
		case KIND_NETWORK:
			cfg->cfg_networks = v;
			cfg->cfg_nnetworks = n;
			break;
		case KIND_VM:
			cfg->cfg_vms = v;
			cfg->cfg_nvms = n;
			break;
		case KIND_SLA:
			cfg->cfg_slas = v;
			cfg->cfg_nslas = n;
			break;
		case KIND_SCOPE:
			cfg->cfg_scopes = v;
			cfg->cfg_nscopes = n;
			break;
		}
	}
	/* Complete now: the checks read locations through cfg_wide. */
	cfg->cfg_wide = xdc_arena_adopt(l->l_arena, l->l_wide);
	l->l_wide = NULL;
	l->l_nwide = l->l_cap_wide = 0;
	check_config(l, cfg);

	/* Everything the configuration refers to is in this arena. */
	cfg->cfg_arena = l->l_arena;
	l->l_arena = NULL;

	if (xdc_diags_count(l->l_diags) > 0) {
		xdc_diags_sort(l->l_diags);
		xdc_config_free(cfg);
		rc = XDC_EINVALID;
	} else {
		*out = cfg;
		rc = 0;
	}
	schema_loader_free(sl);
	return rc;
}

static int
has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

struct file_list {
	char **fl_v;
	size_t fl_n;
	size_t fl_cap;
};

static void
file_list_add(struct file_list *fl, char *path)
{
	if (fl->fl_n == fl->fl_cap) {
		fl->fl_cap = fl->fl_cap ? fl->fl_cap * 2 : 16;
		fl->fl_v =
		    xdc_reallocarray(fl->fl_v, fl->fl_cap, sizeof(*fl->fl_v));
	}
	fl->fl_v[fl->fl_n++] = path;
}

static int
walk_dir(const char *dir, struct file_list *fl)
{
	struct dirent *de;
	struct stat st;
	DIR *d = NULL;
	char *path = NULL;
	int rc = XDC_ERR;

	if ((d = opendir(dir)) == NULL) {
		rc = xdc_error_sys(XDC_ERR, "%s", dir);
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		/* Hidden entries (., .., .git, editor files) are not config. */
		if (de->d_name[0] == '.')
			continue;
		xdc_asprintf(&path, "%s%s%s", dir,
		    has_suffix(dir, "/") ? "" : "/", de->d_name);
		if (lstat(path, &st) != 0) {
			rc = xdc_error_sys(XDC_ERR, "%s", path);
			goto out;
		}
		if (S_ISDIR(st.st_mode)) {
			if ((rc = walk_dir(path, fl)) != 0)
				goto out;
		} else if (has_suffix(de->d_name, ".yaml") ||
		           has_suffix(de->d_name, ".yml")) {
			/*
			 * A link to a file is followed; a link to a directory
			 * is not, so a loop of links cannot hang the walk. A
			 * FIFO or a device, linked or not, is listed, to be
			 * refused by name (schema_load).
			 */
			if (S_ISLNK(st.st_mode) &&
			    (stat(path, &st) != 0 || S_ISDIR(st.st_mode))) {
				free(path);
				path = NULL;
				continue;
			}
			file_list_add(fl, path);
			path = NULL;
		}
		free(path);
		path = NULL;
	}
	rc = 0;
out:
	free(path);
	if (d != NULL)
		closedir(d);
	return rc;
}

static int
path_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
schema_files(const char *path, char ***out, size_t *n)
{
	struct file_list fl = { NULL, 0, 0 };
	struct stat st;
	int rc;

	if (stat(path, &st) != 0)
		return xdc_error_sys(XDC_ENOTFOUND, "%s", path);
	if (!S_ISDIR(st.st_mode)) {
		file_list_add(&fl, xdc_strdup(path));
	} else {
		if ((rc = walk_dir(path, &fl)) != 0) {
			schema_files_free(fl.fl_v, fl.fl_n);
			return rc;
		}
		if (fl.fl_n == 0) {
			free(fl.fl_v);
			return xdc_error(XDC_ENOTFOUND,
			    "%s: no *.yaml or *.yml files", path);
		}
		qsort(fl.fl_v, fl.fl_n, sizeof(*fl.fl_v), path_cmp);
	}
	*out = fl.fl_v;
	*n = fl.fl_n;
	return 0;
}

void
schema_files_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/*
 * Whether file, found below the directory whose real path is root, is a
 * symbolic link that leads out of it; *target is then where it leads, for
 * the caller to free. A configuration directory is what its owner reviews
 * (often a git checkout): a link out of it would apply what nobody there
 * reviewed, or read a file of the host's into the error messages.
 */
static int
link_escapes(const char *root, const char *file, char **target)
{
	struct stat st;
	size_t n = strlen(root);
	char *real;

	*target = NULL;
	if (lstat(file, &st) != 0 || !S_ISLNK(st.st_mode) ||
	    (real = realpath(file, NULL)) == NULL)
		return 0;
	/* root "/" holds everything; otherwise root/ must begin the path. */
	if (!strncmp(real, root, n) &&
	    (real[n] == '/' || (n == 1 && root[0] == '/'))) {
		free(real);
		return 0;
	}
	*target = real;
	return 1;
}

int
loader_file_refused(const char *root, const char *file, const char *path,
    struct xdc_diags *diags)
{
	struct stat st;
	char *target = NULL;

	if (root != NULL && link_escapes(root, file, &target)) {
		xdc_diag(diags, file, 1, 1,
		    "a symbolic link to %s, outside the configuration "
		    "directory %s: refused",
		    target, path);
		free(target);
		return 1;
	}
	/*
	 * Only regular files: a FIFO named *.yaml would block the reader
	 * (xdc_file_read refuses it too, should one appear after this look).
	 */
	if (strcmp(path, XDC_STDIN_PATH) != 0 && stat(file, &st) == 0 &&
	    !S_ISREG(st.st_mode)) {
		xdc_diag(diags, file, 1, 1, "%s, not a regular file: refused",
		    xdc_file_kind(&st));
		return 1;
	}
	return 0;
}

int
loader_root(const char *path, char **root)
{
	struct stat st;

	*root = NULL;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
	    (*root = realpath(path, NULL)) == NULL)
		return xdc_error_sys(XDC_ERR, "%s", path);
	return 0;
}

int
schema_load(const char *path, struct xdc_config **out, struct xdc_diags *diags)
{
	return schema_load_keep(path, out, diags, NULL, NULL);
}

int
schema_load_keep(const char *path, struct xdc_config **out,
    struct xdc_diags *diags, schema_keep_fn keep, void *arg)
{
	struct schema_loader *sl = NULL;
	char **files = NULL, *buf = NULL, *root = NULL;
	size_t nfiles = 0, i, len = 0;
	int rc, stream = !strcmp(path, XDC_STDIN_PATH);

	if ((rc = schema_files(path, &files, &nfiles)) != 0 ||
	    (rc = loader_root(path, &root)) != 0)
		goto out;
	sl = schema_loader_new(path, diags);
	for (i = 0; i < nfiles; i++) {
		if (loader_file_refused(root, files[i], path, diags))
			continue;
		/*
		 * Read to EOF: st_size is 0 for a pipe, and trusting it made
		 * `cat vms.yaml | xdc apply /dev/stdin` an empty
		 * configuration that destroyed every VM.
		 */
		if ((rc = xdc_file_read(files[i], XDC_FILE_MAX,
		         stream ? XDC_FILE_STREAM : 0, &buf, &len)) != 0)
			goto out;
		schema_loader_add(sl, files[i], buf, len);
		if (keep != NULL)
			keep(arg, files[i], buf, len);
		free(buf);
		buf = NULL;
	}
	rc = schema_loader_finish(sl, out);
	sl = NULL;
out:
	free(buf);
	free(root);
	schema_loader_free(sl);
	schema_files_free(files, nfiles);
	return rc;
}
