/*
 * How a plan reads: Terraform-style text for people, SPEC §4's JSON for
 * machines. The values of "changes" are rendered here, from each action's
 * field mask and the declared and observed objects it points to, so that a
 * plan of 100,000 creates holds masks rather than 1.5 million JSON values.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "planner/planner.h"
#include "schema/error.h"

static const char *const chg_names[CH__COUNT] = {
	[CH_MANAGED] = "managed",
	[CH_TYPE] = "type",
	[CH_KERNEL] = "kernel",
	[CH_RAMDISK] = "ramdisk",
	[CH_CMDLINE] = "cmdline",
	[CH_MAX_MEMORY] = "max_memory",
	[CH_MAX_VCPUS] = "max_vcpus",
	[CH_DISKS] = "disks",
	[CH_SPEC] = "spec",
	[CH_MEMORY] = "memory",
	[CH_VCPUS] = "vcpus",
	[CH_WEIGHT] = "cpu.weight",
	[CH_CAP] = "cpu.cap",
	[CH_NICS] = "nics",
	[CH_PROTECT] = "protect",
	[CH_STATE] = "state",
	[CH_HOST] = "host",
	[CH_BRIDGE] = "bridge",
	[CH_UPLINK] = "uplink",
	[CH_VLAN] = "vlan",
	[CH_MTU] = "mtu",
	[CH_UP] = "up",
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

static uint32_t
action_mask(const struct paction *a)
{
	if (a->pa.a_kind == XDC_OBJ_VM && a->pa.a_op == XDC_OP_CREATE)
		return create_mask(a->pa.a_spec) | a->pa_changes;
	if (a->pa.a_kind == XDC_OBJ_VM && a->pa.a_op == XDC_OP_DESTROY)
		return CH_BIT(CH_STATE);
	return a->pa_changes;
}

static json_t *
jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *
jint(uint64_t v)
{
	return json_integer((json_int_t)v);
}

static json_t *
jdisks(const struct xdc_disk *d, size_t n)
{
	json_t *a = json_array(), *o;
	size_t i;

	for (i = 0; i < n; i++) {
		o = json_object();
		json_object_set_new(o, "target", jstr(d[i].d_target));
		json_object_set_new(o, "vdev", jstr(d[i].d_vdev));
		json_object_set_new(o, "format",
		    json_string(xdc_disk_format_name(d[i].d_format)));
		json_object_set_new(
		    o, "readonly", json_boolean(d[i].d_readonly));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *
jnic(const char *bridge, const uint8_t mac[6])
{
	char buf[XDC_MAC_BUFSZ];
	json_t *o = json_object();

	json_object_set_new(o, "bridge", jstr(bridge));
	json_object_set_new(o, "mac", json_string(xdc_mac_fmt(mac, buf)));
	return o;
}

static json_t *
jhash(uint64_t h)
{
	char buf[20];

	snprintf(buf, sizeof(buf), "%016" PRIx64, h);
	return json_string(buf);
}

/* The value of a field on one side of a change; a new reference. */
static json_t *
value_of(const struct paction *a, enum chg c, int desired)
{
	const struct xdc_dom_spec *ds = a->pa.a_spec;
	const struct xdc_vm *vm = desired && ds ? ds->ds_vm : NULL;
	const struct xdc_obs_domain *d = desired ? NULL : a->pa_dom;
	const struct xdc_network *n = desired ? a->pa_net : NULL;
	const struct xdc_obs_network *on = desired ? NULL : a->pa_onet;
	const struct xdc_obs_build *b =
	    d && d->od_has_build ? &d->od_build : NULL;
	json_t *arr;
	size_t i;

	switch (c) {
	case CH_MANAGED:
		return desired ? json_true()
		       : d     ? json_boolean(d->od_managed)
		               : json_null();
	case CH_TYPE:
		if (vm)
			return json_string(xdc_vm_type_name(vm->vm_type));
		return b ? json_string(xdc_vm_type_name(b->ob_type))
		         : json_null();
	case CH_KERNEL:
		return vm  ? jstr(vm->vm_kernel)
		       : b ? jstr(b->ob_kernel)
		           : json_null();
	case CH_RAMDISK:
		return vm  ? jstr(vm->vm_ramdisk)
		       : b ? jstr(b->ob_ramdisk)
		           : json_null();
	case CH_CMDLINE:
		return vm  ? jstr(vm->vm_cmdline)
		       : b ? jstr(b->ob_cmdline)
		           : json_null();
	case CH_MAX_MEMORY:
		return vm  ? jint(vm->vm_max_memory)
		       : d ? jint(d->od_max_memory)
		           : json_null();
	case CH_MAX_VCPUS:
		return vm  ? jint(vm->vm_max_vcpus)
		       : d ? jint(d->od_max_vcpus)
		           : json_null();
	case CH_DISKS:
		if (vm)
			return jdisks(vm->vm_disks, vm->vm_ndisks);
		return b ? jdisks(b->ob_disks, b->ob_ndisks) : json_null();
	case CH_SPEC:
		return ds && desired ? jhash(ds->ds_hash)
		       : d           ? jhash(d->od_hash)
		                     : json_null();
	case CH_MEMORY:
		return vm  ? jint(vm->vm_memory)
		       : d ? jint(d->od_memory)
		           : json_null();
	case CH_VCPUS:
		return vm  ? jint(vm->vm_vcpus)
		       : d ? jint(d->od_vcpus)
		           : json_null();
	case CH_WEIGHT:
		return vm  ? jint(ds->ds_weight)
		       : d ? jint(d->od_weight)
		           : json_null();
	case CH_CAP:
		return vm  ? jint(ds->ds_cap)
		       : d ? jint(d->od_cap)
		           : json_null();
	case CH_NICS:
		if (vm) {
			arr = json_array();
			for (i = 0; i < vm->vm_nnics; i++)
				json_array_append_new(
				    arr, jnic(ds->ds_bridges[i],
				             vm->vm_nics[i].nic_mac));
			return arr;
		}
		if (d == NULL)
			return json_null();
		arr = json_array();
		for (i = 0; i < d->od_nnics; i++)
			json_array_append_new(arr, jnic(d->od_nics[i].on_bridge,
			                               d->od_nics[i].on_mac));
		return arr;
	case CH_PROTECT:
		return vm  ? json_boolean(vm->vm_protect)
		       : d ? json_boolean(d->od_protect)
		           : json_null();
	case CH_STATE:
		if (desired)
			return a->pa.a_op == XDC_OP_DESTROY ? json_null()
			       : vm                         ? json_string(
			                                          xdc_vm_state_name(vm->vm_state))
			            : json_null();
		return d ? json_string(xdc_dom_state_name(d->od_state))
		         : json_null();
	case CH_HOST:
		return desired ? jstr(a->pa.a_host) : jstr(a->pa_from_host);
	case CH_BRIDGE:
		return n    ? jstr(n->n_bridge)
		       : on ? jstr(on->on_bridge)
		            : json_null();
	case CH_UPLINK:
		return n    ? jstr(n->n_uplink)
		       : on ? jstr(on->on_uplink)
		            : json_null();
	case CH_VLAN:
		if (n)
			return n->n_vlan ? jint(n->n_vlan) : json_null();
		return on && on->on_vlan ? jint(on->on_vlan) : json_null();
	case CH_MTU:
		if (n)
			return n->n_mtu ? jint(n->n_mtu) : json_null();
		return on ? jint(on->on_mtu) : json_null();
	case CH_UP:
		if (desired)
			return json_true();
		return on ? json_boolean(on->on_up) : json_null();
	case CH__COUNT:
		break;
	}
	return json_null();
}

static json_t *
action_json(const struct xdc_plan *p, const struct paction *a, int deferred)
{
	json_t *o = json_object(), *changes = json_array(), *ch, *deps;
	uint32_t mask = action_mask(a);
	enum chg c;
	size_t i;

	(void)p;
	for (c = 0; c < CH__COUNT; c++) {
		if (!(mask & CH_BIT(c)))
			continue;
		ch = json_object();
		json_object_set_new(ch, "field", json_string(chg_names[c]));
		json_object_set_new(ch, "from",
		    a->pa.a_op == XDC_OP_CREATE && c != CH_HOST
		        ? json_null()
		        : value_of(a, c, 0));
		json_object_set_new(ch, "to", value_of(a, c, 1));
		json_array_append_new(changes, ch);
	}
	deps = json_array();
	for (i = 0; i < a->pa_ndeps; i++)
		json_array_append_new(deps, jint(a->pa_deps[i]));

	json_object_set_new(o, "op", json_string(xdc_op_name(a->pa.a_op)));
	json_object_set_new(
	    o, "kind", json_string(xdc_obj_kind_name(a->pa.a_kind)));
	json_object_set_new(o, "name", json_string(a->pa.a_name));
	json_object_set_new(o, "host", json_string(a->pa.a_host));
	json_object_set_new(o, "disruptive", json_boolean(a->pa.a_disruptive));
	json_object_set_new(o, "changes", changes);
	json_object_set_new(o, "reason", jstr(a->pa_reason));
	json_object_set_new(o, "depends_on", deps);
	if (deferred)
		json_object_set_new(o, "held", jstr(a->pa_hold));
	return o;
}

/*
 * Dump one value in the layout of SPEC §4's example: ", " and ": " between
 * items, no newlines inside; the caller frames the top level, so that a
 * plan streams one action per line instead of growing a tree of them.
 */
static int
dump(json_t *v, FILE *fp)
{
	/* One write per value: json_dumpf writes token by token. */
	static _Thread_local char *buf;
	static _Thread_local size_t cap;
	const size_t flags = JSON_ENSURE_ASCII | JSON_ENCODE_ANY;
	size_t n;
	int rc = 0;

	n = json_dumpb(v, buf, cap, flags);
	if (n > cap) {
		cap = n * 2;
		buf = xdc_reallocarray(buf, cap, 1);
		n = json_dumpb(v, buf, cap, flags);
	}
	if (n == 0 || fwrite(buf, 1, n, fp) != n)
		rc = -1;
	json_decref(v);
	return rc;
}

static json_t *
unmanaged_json(const struct unmanaged *um)
{
	json_t *o = json_object();

	json_object_set_new(o, "name", json_string(um->um_dom->od_name));
	json_object_set_new(o, "host", json_string(um->um_host));
	json_object_set_new(o, "domid", jint(um->um_dom->od_domid));
	json_object_set_new(o, "memory", jint(um->um_dom->od_memory));
	json_object_set_new(
	    o, "state", json_string(xdc_dom_state_name(um->um_dom->od_state)));
	return o;
}

int
plan_print_json(const struct xdc_plan *p, FILE *fp)
{
	size_t counts[5], i;
	json_t *o;
	int rc = 0;

	fputs("{\"format_version\": 1,\n \"source\": ", fp);
	o = json_object();
	json_object_set_new(o, "path", jstr(p->p_cfg->cfg_path));
	json_object_set_new(o, "commit", jstr(p->p_opts.po_commit));
	rc |= dump(o, fp);

	fputs(",\n \"actions\": [", fp);
	for (i = 0; i < p->p_nact; i++) {
		fputs(i == 0 ? "\n   " : ",\n   ", fp);
		rc |= dump(action_json(p, p->p_act[i], 0), fp);
	}
	fputs(
	    p->p_nact ? "\n ],\n \"deferred\": [" : "],\n \"deferred\": [", fp);
	for (i = 0; i < p->p_ndef; i++) {
		fputs(i == 0 ? "\n   " : ",\n   ", fp);
		rc |= dump(action_json(p, p->p_def[i], 1), fp);
	}
	fputs(p->p_ndef ? "\n ],\n \"unmanaged\": [" : "],\n \"unmanaged\": [",
	    fp);
	for (i = 0; i < p->p_nunmanaged; i++) {
		fputs(i == 0 ? "\n   " : ",\n   ", fp);
		rc |= dump(unmanaged_json(&p->p_unmanaged[i]), fp);
	}
	fputs(p->p_nunmanaged ? "\n ],\n \"summary\": " : "],\n \"summary\": ",
	    fp);
	plan_summary(p, counts);
	o = json_object();
	json_object_set_new(o, "create", jint(counts[0]));
	json_object_set_new(o, "update", jint(counts[1]));
	json_object_set_new(o, "replace", jint(counts[2]));
	json_object_set_new(o, "destroy", jint(counts[3]));
	json_object_set_new(o, "other", jint(counts[4]));
	rc |= dump(o, fp);
	fputs("}\n", fp);
	if (rc != 0 || ferror(fp))
		return xdc_error(XDC_ERR, "cannot write the plan");
	return 0;
}

/* ---- Text ------------------------------------------------------------- */

static const char *
op_symbol(enum xdc_op op)
{
	switch (op) {
	case XDC_OP_CREATE:
		return "+";
	case XDC_OP_UPDATE:
		return "~";
	case XDC_OP_REPLACE:
		return "-/+";
	case XDC_OP_DESTROY:
		return "-";
	case XDC_OP_START:
	case XDC_OP_RESTART:
	case XDC_OP_UNPAUSE:
		return ">";
	default:
		return "<";
	}
}

/* A value as a person reads it: sizes with units, strings quoted. */
static void
print_value(FILE *fp, enum chg c, json_t *v)
{
	char buf[XDC_SIZE_BUFSZ];
	char *s;

	if ((c == CH_MEMORY || c == CH_MAX_MEMORY) && json_is_integer(v)) {
		fputs(xdc_size_fmt((uint64_t)json_integer_value(v), buf), fp);
		return;
	}
	s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	fputs(s ? s : "?", fp);
	free(s);
}

/* "+ create VM web-1 on local (pvh, 512MiB, 1 vCPU)", no newline. */
static void
print_headline(const struct paction *a, FILE *fp)
{
	char buf[XDC_SIZE_BUFSZ];
	const struct xdc_vm *vm;

	fprintf(fp, "%s %s %s %s on %s", op_symbol(a->pa.a_op),
	    xdc_op_name(a->pa.a_op), xdc_obj_kind_name(a->pa.a_kind),
	    a->pa.a_name, a->pa.a_host);
	if (a->pa.a_kind == XDC_OBJ_VM && a->pa.a_op == XDC_OP_CREATE) {
		vm = a->pa.a_spec->ds_vm;
		fprintf(fp, " (%s, %s, %u vCPU%s)",
		    xdc_vm_type_name(vm->vm_type),
		    xdc_size_fmt(vm->vm_memory, buf), vm->vm_vcpus,
		    vm->vm_vcpus == 1 ? "" : "s");
	}
	if (a->pa_changes & CH_BIT(CH_MANAGED))
		fputs(" (adopt)", fp);
	if (a->pa.a_disruptive)
		fputs(" (disruptive)", fp);
}

static void
print_action(const struct paction *a, FILE *fp)
{
	json_t *from, *to;
	uint32_t mask;
	enum chg c;

	fputs("  ", fp);
	print_headline(a, fp);
	fputc('\n', fp);
	if (a->pa.a_op == XDC_OP_CREATE || a->pa.a_op == XDC_OP_DESTROY)
		return;
	mask = action_mask(a);
	for (c = 0; c < CH__COUNT; c++) {
		if (!(mask & CH_BIT(c)))
			continue;
		from = value_of(a, c, 0);
		to = value_of(a, c, 1);
		fprintf(fp, "      ~ %s: ", chg_names[c]);
		print_value(fp, c, from);
		fputs(" -> ", fp);
		print_value(fp, c, to);
		fputc('\n', fp);
		json_decref(from);
		json_decref(to);
	}
}

void
plan_print_action(const struct xdc_plan *p, size_t i, FILE *fp)
{
	print_headline(p->p_act[i], fp);
}

void
plan_print_text(const struct xdc_plan *p, FILE *fp)
{
	char buf[XDC_SIZE_BUFSZ];
	const struct xdc_obs_domain *d;
	size_t counts[5], i;

	if (p->p_nact == 0)
		fputs("No changes: the pool matches the configuration.\n", fp);
	for (i = 0; i < p->p_nact; i++) {
		if (i == 0)
			fputs("xdc will perform these actions:\n", fp);
		fprintf(fp, "\n  # %s\n", p->p_act[i]->pa_reason);
		print_action(p->p_act[i], fp);
	}
	if (p->p_ndef > 0) {
		fputs(
		    "\nDeferred (held back; a later plan will do them):\n", fp);
		for (i = 0; i < p->p_ndef; i++) {
			fprintf(fp, "\n  # %s\n", p->p_def[i]->pa_hold);
			print_action(p->p_def[i], fp);
		}
	}
	if (p->p_nunmanaged > 0) {
		fputs("\nUnmanaged domains (xdc leaves them alone):\n", fp);
		for (i = 0; i < p->p_nunmanaged; i++) {
			d = p->p_unmanaged[i].um_dom;
			fprintf(fp, "  %s on %s (id %u, %s, %s)\n", d->od_name,
			    p->p_unmanaged[i].um_host, d->od_domid,
			    xdc_size_fmt(d->od_memory, buf),
			    xdc_dom_state_name(d->od_state));
		}
	}
	plan_summary(p, counts);
	fprintf(fp,
	    "\nPlan: %zu to create, %zu to update, %zu to replace, %zu to "
	    "destroy, %zu other",
	    counts[0], counts[1], counts[2], counts[3], counts[4]);
	if (p->p_ndef > 0)
		fprintf(fp, "; %zu deferred", p->p_ndef);
	fputs(".\n", fp);
}
