/*
 * The loader's private vocabulary, shared by load.c, load_value.c and
 * load_files.c (files -> YAML -> nodes -> typed objects), kinds.c (the
 * schema tables) and check.c (rules that span objects). Nothing outside
 * schema/ includes this.
 */
#ifndef XDC_LOADER_H
#define XDC_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/diag.h"
#include "schema/model.h"

struct xdc_strtab;

/* One YAML node of the document being read, with its 1-based position. */
enum node_type { NODE_SCALAR, NODE_MAP, NODE_SEQ };

struct node {
	enum node_type nd_type;
	uint32_t nd_line;
	uint32_t nd_col;
	uint32_t nd_count;     /* children; a map's are key, value, key, ... */
	struct node *nd_first; /* first child */
	struct node *nd_last;
	struct node *nd_next; /* next sibling */
	const char *nd_value; /* scalar text, NUL-terminated */
	size_t nd_len;        /* may differ from strlen: "\0" escapes */
	int nd_plain;         /* a plain (unquoted) scalar */
};

/* What a field's value is, and so which parser reads it. */
enum field_type {
	FT_KIND,   /* "kind": read before the table, nothing to store */
	FT_NAME,   /* const char *, a DNS label */
	FT_STRING, /* const char *, any text */
	FT_PATH,   /* const char *, an absolute path */
	FT_IFNAME, /* const char *, a Linux interface name */
	FT_SIZE,   /* uint64_t bytes */
	FT_U16,    /* uint16_t within [min, max] */
	FT_U32,    /* uint32_t within [min, max] */
	FT_BOOL,   /* int */
	FT_ENUM,   /* int (an enum), index into f_enum */
	FT_LABELS, /* struct xdc_labels */
	FT_MAC,    /* uint8_t[6] */
	FT_WINDOW, /* struct xdc_window */
	FT_RATE,   /* struct xdc_rate */
	FT_EXPIRY, /* struct xdc_expiry: a duration or an RFC 3339 time */
	FT_MAP,    /* a nested mapping stored in the same object */
	FT_LIST,   /* a list of objects of f_sub, array + count */
};

#define F_REQUIRED 0x1
/* The value repeats across objects (a kernel, a network): stored once. */
#define F_SHARED 0x2

struct object_type;

struct field {
	const char *f_key;
	int f_id; /* bit in the object's set mask, index of its loc */
	enum field_type f_type;
	size_t f_off; /* where the value goes in the object */
	unsigned f_flags;
	uint64_t f_min, f_max;     /* FT_U16, FT_U32; FT_LIST: most entries */
	const char *const *f_enum; /* FT_ENUM: names, NULL-terminated */
	const struct object_type *f_sub; /* FT_MAP, FT_LIST */
	size_t f_count_off;              /* FT_LIST: where the count goes */
};

struct loader;

/*
 * A kind, or the element of a list, as a table. set_off, at_off and pos_off
 * locate the object's uint32_t set mask, its struct xdc_at and its array of
 * packed field positions (see model.h).
 */
struct object_type {
	const char *o_name; /* "VM", "disk" */
	const struct field *o_fields;
	size_t o_nfields;
	size_t o_size;
	size_t o_set_off;
	size_t o_at_off;
	size_t o_pos_off;
	/* Defaults and the rules within one object, once it is read. */
	void (*o_finish)(struct loader *, void *obj, const struct node *);
};

/* The kinds of document, in the order their arrays sit in the config. */
enum kind {
	KIND_HOST,
	KIND_NETWORK,
	KIND_VM,
	KIND_SLA,
	KIND_SCOPE,
	KIND__COUNT
};

struct kind_array {
	void *ka_v;
	size_t ka_n;
	size_t ka_cap;
};

struct loader {
	struct xdc_diags *l_diags;
	struct xdc_arena *l_arena; /* the configuration's */
	struct xdc_arena *l_nodes; /* the current document's nodes */
	const char *l_root;
	const char **l_files; /* [0] unused */
	size_t l_nfiles;
	size_t l_cap_files;
	uint32_t l_file; /* index of the file being read */
	struct kind_array l_kinds[KIND__COUNT];
	/*
	 * The F_SHARED strings (labels, kernels, command lines, networks),
	 * kept once in l_arena (base/strtab.h): ten thousand VMs booting
	 * one kernel keep one copy of its path, which is most of what
	 * separates the model's size from the YAML's.
	 */
	struct xdc_strtab *l_shared;
	struct labtab *l_shared_labels; /* each distinct label set */
	/* Locations that do not pack (struct xdc_at), to be cfg_wide. */
	struct xdc_loc *l_wide;
	size_t l_nwide;
	size_t l_cap_wide;
};

extern const struct object_type *const schema_kinds[KIND__COUNT];

/* Report a diagnostic at a node, or at a position of the current file. */
void loader_diag(struct loader *, const struct node *, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void loader_diag_loc(struct loader *, struct xdc_loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "FILE:LINE:COL" of a location, in the loader's arena. */
const char *loader_where(struct loader *, struct xdc_loc);
/* Is a position a before b (file, line, column)? */
int loc_before(struct xdc_loc, struct xdc_loc);
/* Where a field of an object being loaded was written (model.h's pos). */
struct xdc_loc loader_loc(
    const struct loader *, const struct xdc_at *, uint32_t pos);

/* The rules that span objects, run once every file is read. */
void check_config(struct loader *, struct xdc_config *);

/* A file of the configuration: its index, for locations (from 1). */
uint32_t loader_file_add(struct loader *, const char *file);
/* A zeroed object at the end of kind k's array; ka_n counts it once named. */
void *loader_append(struct loader *, enum kind k);
/*
 * schema_load's look at each file before reading it: 1 (and a diagnostic)
 * when file, listed for path, is a link out of root (the real path of the
 * directory path, or NULL for a file) or not a regular file.
 */
int loader_file_refused(
    const char *root, const char *file, const char *path, struct xdc_diags *);
/* root for loader_file_refused: path's real path when it is a directory. */
int loader_root(const char *path, char **root);

/* The cached files' parts a configuration borrows from (cache.c). */
void cache_parts_release(struct xdc_config_parts *);

/* ---- Between the loader's files (load.c, load_value.c, load_files.c) -- */

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

/* load.c */
/* Where an object was written, before its fields are read. */
void object_begin(struct loader *, const struct object_type *, void *obj,
    const struct node *map);
/* A node's position relative to at (model.h's pos). */
uint32_t node_pos(
    struct loader *, const struct xdc_at *at, const struct node *);
/* "disks[1].vdev", in the document's arena. */
const char *keypath_str(struct loader *, const struct keypath *);
/* Read one file's documents into the loader. */
void load_buffer(struct loader *, const char *buf, size_t len);

/* load_value.c */
void labtab_free(struct labtab *);
/* Is a node YAML's null (~, null, or nothing)? */
int node_is_null(const struct node *);
/* What a node is, for a message: "the string \"x\"", "a list", ... */
const char *node_got(struct loader *, const struct node *);
/* A kind's field by key, or NULL. */
const struct field *find_field(const struct object_type *, const char *key);
/* Read a mapping node into obj by its kind's table; path: where it is. */
void parse_object(struct loader *, const struct object_type *, void *obj,
    const struct node *map, const struct keypath *path);

#define FIELD_SET(obj, type, id)                                               \
	((*(const uint32_t *)((const char *)(obj) + (type)->o_set_off) >>      \
	     (id)) &                                                           \
	    1)

#endif /* XDC_LOADER_H */
