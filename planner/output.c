/*
 * How a plan reads to machines: SPEC §4's JSON (the text for people is
 * output_text.c). The values of "changes" are rendered here, from each
 * action's field mask and the declared and observed objects it points to,
 * so that a plan of 100,000 creates holds masks rather than 1.5 million
 * JSON values.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "planner/planner.h"
#include "planner/jw.h"
#include "base/diag.h"
#include "base/error.h"
#include "schema/values.h"

/* Each field a change can name, and its name in the plan. */
#define CHG_LIST(X)                                                            \
	X(CH_MANAGED, "managed")                                               \
	X(CH_SCOPE, "scope")                                                   \
	X(CH_TYPE, "type")                                                     \
	X(CH_KERNEL, "kernel")                                                 \
	X(CH_RAMDISK, "ramdisk")                                               \
	X(CH_CMDLINE, "cmdline")                                               \
	X(CH_MAX_MEMORY, "max_memory")                                         \
	X(CH_MAX_VCPUS, "max_vcpus")                                           \
	X(CH_DISKS, "disks")                                                   \
	X(CH_SPEC, "spec")                                                     \
	X(CH_MEMORY, "memory")                                                 \
	X(CH_VCPUS, "vcpus")                                                   \
	X(CH_WEIGHT, "cpu.weight")                                             \
	X(CH_CAP, "cpu.cap")                                                   \
	X(CH_NICS, "nics")                                                     \
	X(CH_PROTECT, "protect")                                               \
	X(CH_EXPIRES, "expires")                                               \
	X(CH_STATE, "state")                                                   \
	X(CH_HOST, "host")                                                     \
	X(CH_BRIDGE, "bridge")                                                 \
	X(CH_UPLINK, "uplink")                                                 \
	X(CH_VLAN, "vlan")                                                     \
	X(CH_MTU, "mtu")                                                       \
	X(CH_UP, "up")                                                         \
	X(CH_SCOPES, "scopes")

#define CHG_NAME(c, name) [c] = name,
const char *const chg_names[CH__COUNT] = { CHG_LIST(CHG_NAME) };

/*
 * What opens a change in the JSON, up to its "from" value, written as one
 * piece: `{"field": "memory", "from": ` (or without the spaces).
 */
struct lit {
	const char *l_s;
	size_t l_n;
};
/* clang-format off */
#define LIT(s) { (s), sizeof(s) - 1 }
/* clang-format on */
#define CHG_OPEN(c, name) [c] = LIT("{\"field\": \"" name "\", \"from\": "),
#define CHG_OPEN_COMPACT(c, name)                                              \
	[c] = LIT("{\"field\":\"" name "\",\"from\":"),
static const struct lit chg_open[2][CH__COUNT] = {
	{ CHG_LIST(CHG_OPEN) },
	{ CHG_LIST(CHG_OPEN_COMPACT) },
};

/* The fields a VM's create lists: what its declaration and SLAs give. */
static uint32_t
create_mask(const struct xdc_dom_spec *ds)
{
	const struct xdc_vm *vm = ds->ds_vm;
	uint32_t m = CH_BIT(CH_TYPE) | CH_BIT(CH_MEMORY) |
	             CH_BIT(CH_MAX_MEMORY) | CH_BIT(CH_VCPUS) |
	             CH_BIT(CH_MAX_VCPUS) | CH_BIT(CH_WEIGHT) |
	             CH_BIT(CH_STATE) | CH_BIT(CH_HOST);

	if (vm->vm_kernel)
		m |= CH_BIT(CH_KERNEL);
	if (vm->vm_ramdisk)
		m |= CH_BIT(CH_RAMDISK);
	if (vm->vm_cmdline)
		m |= CH_BIT(CH_CMDLINE);
	if (vm->vm_ndisks)
		m |= CH_BIT(CH_DISKS);
	if (vm->vm_nnics)
		m |= CH_BIT(CH_NICS);
	if (ds->ds_cap)
		m |= CH_BIT(CH_CAP);
	if (vm->vm_protect)
		m |= CH_BIT(CH_PROTECT);
	return m;
}

uint32_t
action_mask(const struct paction *a)
{
	if (a->pa.a_kind == XDC_OBJ_VM && a->pa.a_op == XDC_OP_CREATE)
		return create_mask(a->pa.a_spec) | a->pa_changes;
	if (a->pa.a_kind == XDC_OBJ_VM && a->pa.a_op == XDC_OP_DESTROY)
		return CH_BIT(CH_STATE);
	return a->pa_changes;
}

void
jw_init(struct jw *w, int text)
{
	memset(w, 0, sizeof(*w));
	w->w_flags = text ? JSON_COMPACT | JSON_ENCODE_ANY
	                  : JSON_ENSURE_ASCII | JSON_ENCODE_ANY;
	w->w_compact = text;
	w->w_sizes = text;
}

void
jw_free(struct jw *w)
{
	free(w->w_buf);
	json_decref(w->w_str);
}

/* One of two literals, as the writer is compact or not. */
static inline void
jw_lit2(struct jw *w, struct lit spaced, struct lit compact)
{
	if (w->w_compact)
		jw_raw(w, compact.l_s, compact.l_n);
	else
		jw_raw(w, spaced.l_s, spaced.l_n);
}

/*
 * A key of our own (plain ASCII, a string literal) and its separator,
 * `"key": `; jw_next puts `, ` before it: each one piece, whose length
 * is known when compiling.
 */
#define jw_key(w, key)                                                         \
	jw_lit2((w), (struct lit)LIT("\"" key "\": "),                         \
	    (struct lit)LIT("\"" key "\":"))
#define jw_next(w, key)                                                        \
	jw_lit2((w), (struct lit)LIT(", \"" key "\": "),                       \
	    (struct lit)LIT(",\"" key "\":"))

/* The separator between two values of an array. */
static inline void
jw_sep(struct jw *w)
{
	jw_raw(w, ", ", w->w_compact ? 1 : 2);
}

static void
jw_null(struct jw *w)
{
	jw_raw(w, "null", 4);
}

static void
jw_bool(struct jw *w, int b)
{
	if (b)
		jw_raw(w, "true", 4);
	else
		jw_raw(w, "false", 5);
}

/* As jansson prints a json_int_t. */
static void
jw_int(struct jw *w, uint64_t v)
{
	json_int_t i = (json_int_t)v;
	char buf[24], *p = buf + sizeof(buf);
	uint64_t u = i < 0 ? -(uint64_t)i : (uint64_t)i;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (i < 0)
		*--p = '-';
	jw_raw(w, p, (size_t)(buf + sizeof(buf) - p));
}

/* A size: bytes in the plan, "2GiB" in the text. */
static void
jw_size(struct jw *w, uint64_t v)
{
	char buf[XDC_SIZE_BUFSZ];

	if (w->w_sizes)
		jw_put(w, xdc_size_fmt(v, buf));
	else
		jw_int(w, v);
}

/*
 * The bytes a string may hold to be written as it is: printable ASCII but
 * '"' and '\\'. NUL is not one of them, and ends the scan.
 */
/* clang-format off */
static const unsigned char jw_plain[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};
/* clang-format on */

/*
 * A string; NULL is null. Printable ASCII without '"' or '\' is written
 * as it is, byte for byte what jansson would write; anything else (quotes,
 * control characters, UTF-8) is escaped by jansson. A string that is not
 * valid UTF-8 (libyaml and the drivers' JSON never give one) is null, as
 * json_string() refuses it.
 */
static void
jw_str(struct jw *w, const char *s)
{
	const unsigned char *u;
	size_t n;

	if (s == NULL) {
		jw_null(w);
		return;
	}
	for (u = (const unsigned char *)s; jw_plain[*u]; u++)
		;
	if (*u == '\0') {
		n = (size_t)(u - (const unsigned char *)s);
		jw_room(w, n + 2);
		w->w_buf[w->w_len++] = '"';
		memcpy(w->w_buf + w->w_len, s, n);
		w->w_len += n;
		w->w_buf[w->w_len++] = '"';
		return;
	}
	if (w->w_str == NULL)
		w->w_str = json_string("");
	if (w->w_str == NULL || json_string_set(w->w_str, s) != 0) {
		jw_null(w);
		return;
	}
	/* Most strings fit the room left; the first try is the only one. */
	jw_room(w, 64);
	n = json_dumpb(
	    w->w_str, w->w_buf + w->w_len, w->w_cap - w->w_len, w->w_flags);
	if (n > w->w_cap - w->w_len) {
		jw_room(w, n);
		n = json_dumpb(w->w_str, w->w_buf + w->w_len, n, w->w_flags);
	}
	w->w_len += n;
}

static void
jw_disks(struct jw *w, const struct xdc_disk *d, size_t n)
{
	size_t i;

	jw_raw(w, "[", 1);
	for (i = 0; i < n; i++) {
		if (i > 0)
			jw_sep(w);
		jw_raw(w, "{", 1);
		jw_key(w, "target");
		jw_str(w, d[i].d_target);
		jw_next(w, "vdev");
		jw_str(w, d[i].d_vdev);
		jw_next(w, "format");
		jw_str(w, xdc_disk_format_name(d[i].d_format));
		jw_next(w, "readonly");
		jw_bool(w, d[i].d_readonly);
		jw_raw(w, "}", 1);
	}
	jw_raw(w, "]", 1);
}

static void
jw_nic(struct jw *w, const char *bridge, const uint8_t mac[6])
{
	char buf[XDC_MAC_BUFSZ];

	jw_raw(w, "{", 1);
	jw_key(w, "bridge");
	jw_str(w, bridge);
	jw_next(w, "mac");
	jw_str(w, xdc_mac_fmt(mac, buf));
	jw_raw(w, "}", 1);
}

static void
jw_hash(struct jw *w, uint64_t h)
{
	char buf[20];

	snprintf(buf, sizeof(buf), "%016" PRIx64, h);
	jw_str(w, buf);
}

/* A network's scopes: as observed, or as the action leaves them. */
static void
jw_scopes(struct jw *w, const struct paction *a, int desired)
{
	const char *const *v = NULL;
	size_t i, n = 0;

	if (desired) {
		v = a->pa.a_scopes;
		n = a->pa.a_nscopes;
	} else if (a->pa_onet != NULL) {
		v = a->pa_onet->on_scopes;
		n = a->pa_onet->on_nscopes;
		if (n == 0) {
			jw_put(w, "[\"" XDC_SCOPE_DEFAULT "\"]");
			return;
		}
	}
	jw_raw(w, "[", 1);
	for (i = 0; i < n; i++) {
		if (i > 0)
			jw_sep(w);
		jw_str(w, v[i]);
	}
	jw_raw(w, "]", 1);
}

/* A time as RFC 3339, or null for none (0). */
static void
jw_time(struct jw *w, int64_t t)
{
	char buf[XDC_TIME_BUFSZ];

	if (t <= 0)
		jw_null(w);
	else
		jw_str(w, xdc_time_fmt(t, buf));
}

/* The value of a field on one side of a change. */
void
jw_value(struct jw *w, const struct paction *a, enum chg c, int desired)
{
	const struct xdc_dom_spec *ds = a->pa.a_spec;
	const struct xdc_vm *vm = desired && ds ? ds->ds_vm : NULL;
	const struct xdc_obs_domain *d = desired ? NULL : a->pa_dom;
	const struct xdc_network *n = desired ? a->pa_net : NULL;
	const struct xdc_obs_network *on = desired ? NULL : a->pa_onet;
	const struct xdc_obs_build *b =
	    d && d->od_has_build ? &d->od_build : NULL;
	size_t i;

	switch (c) {
	case CH_MANAGED:
		if (desired)
			jw_bool(w, 1);
		else if (d)
			jw_bool(w, d->od_managed);
		else
			jw_null(w);
		return;
	case CH_TYPE:
		if (vm)
			jw_str(w, xdc_vm_type_name(vm->vm_type));
		else if (b)
			jw_str(w, xdc_vm_type_name(b->ob_type));
		else
			jw_null(w);
		return;
	case CH_KERNEL:
		jw_str(w, vm ? vm->vm_kernel : b ? b->ob_kernel : NULL);
		return;
	case CH_RAMDISK:
		jw_str(w, vm ? vm->vm_ramdisk : b ? b->ob_ramdisk : NULL);
		return;
	case CH_CMDLINE:
		jw_str(w, vm ? vm->vm_cmdline : b ? b->ob_cmdline : NULL);
		return;
	case CH_MAX_MEMORY:
		if (vm)
			jw_size(w, vm->vm_max_memory);
		else if (d)
			jw_size(w, d->od_max_memory);
		else
			jw_null(w);
		return;
	case CH_MAX_VCPUS:
		if (vm)
			jw_int(w, vm->vm_max_vcpus);
		else if (d)
			jw_int(w, d->od_max_vcpus);
		else
			jw_null(w);
		return;
	case CH_DISKS:
		if (vm)
			jw_disks(w, vm->vm_disks, vm->vm_ndisks);
		else if (b)
			jw_disks(w, b->ob_disks, b->ob_ndisks);
		else
			jw_null(w);
		return;
	case CH_SPEC:
		if (ds && desired)
			jw_hash(w, ds->ds_hash);
		else if (d)
			jw_hash(w, d->od_hash);
		else
			jw_null(w);
		return;
	case CH_MEMORY:
		if (vm)
			jw_size(w, vm->vm_memory);
		else if (d)
			jw_size(w, d->od_memory);
		else
			jw_null(w);
		return;
	case CH_VCPUS:
		if (vm)
			jw_int(w, vm->vm_vcpus);
		else if (d)
			jw_int(w, d->od_vcpus);
		else
			jw_null(w);
		return;
	case CH_WEIGHT:
		if (vm)
			jw_int(w, ds->ds_weight);
		else if (d)
			jw_int(w, d->od_weight);
		else
			jw_null(w);
		return;
	case CH_CAP:
		if (vm)
			jw_int(w, ds->ds_cap);
		else if (d)
			jw_int(w, d->od_cap);
		else
			jw_null(w);
		return;
	case CH_NICS:
		if (vm == NULL && d == NULL) {
			jw_null(w);
			return;
		}
		jw_raw(w, "[", 1);
		for (i = 0; vm && i < vm->vm_nnics; i++) {
			if (i > 0)
				jw_sep(w);
			jw_nic(w, ds->ds_bridges[i], vm->vm_nics[i].nic_mac);
		}
		for (i = 0; !vm && i < d->od_nnics; i++) {
			if (i > 0)
				jw_sep(w);
			jw_nic(
			    w, d->od_nics[i].on_bridge, d->od_nics[i].on_mac);
		}
		jw_raw(w, "]", 1);
		return;
	case CH_PROTECT:
		if (vm)
			jw_bool(w, vm->vm_protect);
		else if (d)
			jw_bool(w, d->od_protect);
		else
			jw_null(w);
		return;
	case CH_EXPIRES:
		jw_time(w, desired ? (ds ? ds->ds_expires : 0)
		                   : (d ? d->od_expires : 0));
		return;
	case CH_STATE:
		if (desired)
			jw_str(w, a->pa.a_op != XDC_OP_DESTROY && vm
			              ? xdc_vm_state_name(vm->vm_state)
			              : NULL);
		else
			jw_str(w, d ? xdc_dom_state_name(d->od_state) : NULL);
		return;
	case CH_HOST:
		/* A migrate's host is where it runs; it goes to a_to_host. */
		jw_str(w, !desired                  ? a->pa_from_host
		          : a->pa.a_to_host != NULL ? a->pa.a_to_host
		                                    : a->pa.a_host);
		return;
	case CH_BRIDGE:
		jw_str(w, n ? n->n_bridge : on ? on->on_bridge : NULL);
		return;
	case CH_UPLINK:
		jw_str(w, n ? n->n_uplink : on ? on->on_uplink : NULL);
		return;
	case CH_VLAN:
		if (n ? n->n_vlan : on && on->on_vlan)
			jw_int(w, n ? n->n_vlan : on->on_vlan);
		else
			jw_null(w);
		return;
	case CH_MTU:
		if (n ? n->n_mtu : on != NULL)
			jw_int(w, n ? n->n_mtu : on->on_mtu);
		else
			jw_null(w);
		return;
	case CH_UP:
		if (desired)
			jw_bool(w, 1);
		else if (on)
			jw_bool(w, on->on_up);
		else
			jw_null(w);
		return;
	case CH_SCOPE:
		if (desired)
			jw_str(w, ds ? ds->ds_scope : NULL);
		else
			jw_str(w, a->pa_dom ? plan_dom_scope(a->pa_dom) : NULL);
		return;
	case CH_SCOPES:
		jw_scopes(w, a, desired);
		return;
	case CH__COUNT:
		break;
	}
	jw_null(w);
}

/* The "changes" list of an action. */
static void
jw_changes(struct jw *w, const struct paction *a)
{
	uint32_t mask = action_mask(a);
	enum chg c;
	size_t n = 0;

	jw_raw(w, "[", 1);
	for (c = 0; c < CH__COUNT; c++) {
		if (!(mask & CH_BIT(c)))
			continue;
		if (n++ > 0)
			jw_sep(w);
		jw_raw(w, chg_open[w->w_compact][c].l_s,
		    chg_open[w->w_compact][c].l_n);
		if (a->pa.a_op == XDC_OP_CREATE && c != CH_HOST)
			jw_null(w);
		else
			jw_value(w, a, c, 0);
		jw_next(w, "to");
		jw_value(w, a, c, 1);
		jw_raw(w, "}", 1);
	}
	jw_raw(w, "]", 1);
}

static void
jw_action(struct jw *w, const struct paction *a, int deferred)
{
	size_t i;

	jw_raw(w, "{", 1);
	jw_key(w, "op");
	jw_str(w, xdc_op_name(a->pa.a_op));
	jw_next(w, "kind");
	jw_str(w, xdc_obj_kind_name(a->pa.a_kind));
	jw_next(w, "name");
	jw_str(w, a->pa.a_name);
	jw_next(w, "host");
	jw_str(w, a->pa.a_host);
	jw_next(w, "disruptive");
	jw_bool(w, a->pa.a_disruptive);
	jw_next(w, "changes");
	jw_changes(w, a);
	jw_next(w, "reason");
	jw_str(w, a->pa_reason);
	jw_next(w, "depends_on");
	jw_raw(w, "[", 1);
	for (i = 0; i < a->pa_ndeps; i++) {
		if (i > 0)
			jw_sep(w);
		jw_int(w, a->pa_deps[i]);
	}
	jw_raw(w, "]", 1);
	if (deferred) {
		jw_next(w, "held");
		jw_str(w, a->pa_hold);
	}
	jw_raw(w, "}", 1);
}

static void
jw_unmanaged(struct jw *w, const struct unmanaged *um)
{
	jw_raw(w, "{", 1);
	jw_key(w, "name");
	jw_str(w, um->um_dom->od_name);
	jw_next(w, "host");
	jw_str(w, um->um_host);
	jw_next(w, "domid");
	jw_int(w, um->um_dom->od_domid);
	jw_next(w, "memory");
	jw_int(w, um->um_dom->od_memory);
	jw_next(w, "state");
	jw_str(w, xdc_dom_state_name(um->um_dom->od_state));
	/* null: not xdc's; a name: xdc's, in that other scope (SPEC §9). */
	jw_next(w, "scope");
	jw_str(w, um->um_scope);
	jw_raw(w, "}", 1);
}

char *
plan_changes_json(const struct xdc_plan *p, size_t i)
{
	struct jw w;
	char *text;

	/* The plan's values (sizes in bytes), without its spaces. */
	jw_init(&w, 0);
	w.w_compact = 1;
	jw_changes(&w, p->p_act[i]);
	text = xdc_malloc(w.w_len + 1);
	memcpy(text, w.w_buf, w.w_len);
	text[w.w_len] = '\0';
	jw_free(&w);
	return text;
}

/* Write out what the writer holds, one write per line or so. */
int
jw_flush(struct jw *w, FILE *fp)
{
	size_t n = w->w_len;

	w->w_len = 0;
	return n == 0 || fwrite(w->w_buf, 1, n, fp) == n ? 0 : -1;
}

int
plan_print_json(const struct xdc_plan *p, FILE *fp)
{
	struct jw w;
	size_t counts[5], i;
	int rc = 0;

	jw_init(&w, 0);
	jw_put(&w, "{\"format_version\": 1,\n \"source\": {");
	jw_key(&w, "path");
	jw_str(&w, p->p_cfg->cfg_path);
	jw_next(&w, "commit");
	jw_str(&w, p->p_opts.po_commit);
	jw_put(&w, "},\n ");
	jw_key(&w, "scope");
	jw_str(&w, p->p_scope);
	jw_put(&w, ",\n \"actions\": [");
	for (i = 0; i < p->p_nact; i++) {
		jw_put(&w, i == 0 ? "\n   " : ",\n   ");
		jw_action(&w, p->p_act[i], 0);
		rc |= jw_flush(&w, fp);
	}
	jw_put(
	    &w, p->p_nact ? "\n ],\n \"deferred\": [" : "],\n \"deferred\": [");
	for (i = 0; i < p->p_ndef; i++) {
		jw_put(&w, i == 0 ? "\n   " : ",\n   ");
		jw_action(&w, p->p_def[i], 1);
		rc |= jw_flush(&w, fp);
	}
	jw_put(&w,
	    p->p_ndef ? "\n ],\n \"unmanaged\": [" : "],\n \"unmanaged\": [");
	for (i = 0; i < p->p_nunmanaged; i++) {
		jw_put(&w, i == 0 ? "\n   " : ",\n   ");
		jw_unmanaged(&w, &p->p_unmanaged[i]);
	}
	jw_put(&w,
	    p->p_nunmanaged ? "\n ],\n \"summary\": {" : "],\n \"summary\": {");
	plan_summary(p, counts);
	jw_key(&w, "create");
	jw_int(&w, counts[0]);
	jw_next(&w, "update");
	jw_int(&w, counts[1]);
	jw_next(&w, "replace");
	jw_int(&w, counts[2]);
	jw_next(&w, "destroy");
	jw_int(&w, counts[3]);
	jw_next(&w, "other");
	jw_int(&w, counts[4]);
	jw_put(&w, "}}\n");
	rc |= jw_flush(&w, fp);
	jw_free(&w);
	if (rc != 0 || ferror(fp))
		return xdc_error(XDC_ERR, "cannot write the plan");
	return 0;
}
