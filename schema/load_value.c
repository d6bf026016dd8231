/*
 * The loader's values: the strings and label sets shared across objects,
 * and reading a document's tree of nodes into a typed object, each key
 * found in its kind's table (kinds.c) and its value parsed by the field's
 * type, with the position it was written at. What is wrong is reported at
 * its node.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/strtab.h"
#include "schema/loader.h"
#include "schema/schema.h"
#include "schema/values.h"

/* ---- Shared strings --------------------------------------------------- */

/* s[0..n), NUL-terminated in the configuration's arena, once. */
static const char *
shared_strndup(struct loader *l, const char *s, size_t n)
{
	return xdc_strtab_intern(l->l_shared, s, n);
}

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

void
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

int
node_is_null(const struct node *n)
{
	return n->nd_type == NODE_SCALAR && n->nd_plain &&
	       (n->nd_len == 0 ||
	           (n->nd_len == 1 && !strcmp(n->nd_value, "~")) ||
	           (n->nd_len == 4 && (!strcmp(n->nd_value, "null") ||
	                                  !strcmp(n->nd_value, "Null") ||
	                                  !strcmp(n->nd_value, "NULL"))));
}

const char *
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

const struct field *
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
void
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
