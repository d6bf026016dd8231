/*
 * The loader: finds the files of a configuration (load_files.c), turns
 * each YAML document into a small tree of nodes with libyaml's event API
 * (here), and reads each tree into a typed object by walking its kind's
 * table (load_value.c, kinds.c). Rules that span objects run once
 * everything is read (check.c). Here too: its diagnostics, and where each
 * document's object goes.
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
void
object_begin(struct loader *l, const struct object_type *t, void *obj,
    const struct node *map)
{
	struct xdc_at *at =
	    (struct xdc_at *)(void *)((char *)obj + t->o_at_off);

	at->at_file = l->l_file;
	at->at_line = map->nd_line;
}

/* Where node n of an object is, packed against the object's start. */
uint32_t
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

const char *
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

void
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
