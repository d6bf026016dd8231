/*
 * The text plan, Terraform-style, for people (SPEC's default output): a
 * headline per action and its changes, their values written as the JSON
 * plan writes them (jw.h, output.c), then what is deferred and left alone.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planner/planner.h"
#include "planner/jw.h"
#include "base/diag.h"
#include "base/error.h"
#include "schema/values.h"

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
	case XDC_OP_MIGRATE:
		return "~>"; /* in place for the guest, to another host */
	case XDC_OP_START:
	case XDC_OP_RESTART:
	case XDC_OP_UNPAUSE:
		return ">";
	default:
		return "<";
	}
}

/*
 * "+ create VM web-1 on local (pvh, 512MiB, 1 vCPU)", "~> migrate VM web-1
 * from xen-a to xen-b", no newline.
 */
static void
print_headline(const struct paction *a, FILE *fp)
{
	char buf[XDC_SIZE_BUFSZ];
	const struct xdc_vm *vm;

	fprintf(fp, "%s %s %s %s", op_symbol(a->pa.a_op),
	    xdc_op_name(a->pa.a_op), xdc_obj_kind_name(a->pa.a_kind),
	    a->pa.a_name);
	if (a->pa.a_op == XDC_OP_MIGRATE)
		fprintf(fp, " from %s to %s", a->pa.a_host, a->pa.a_to_host);
	else
		fprintf(fp, " on %s", a->pa.a_host);
	if (a->pa.a_kind == XDC_OBJ_VM && a->pa.a_op == XDC_OP_CREATE) {
		vm = a->pa.a_spec->ds_vm;
		fprintf(fp, " (%s, %s, %u vCPU%s)",
		    xdc_vm_type_name(vm->vm_type),
		    xdc_size_fmt(vm->vm_memory, buf), vm->vm_vcpus,
		    vm->vm_vcpus == 1 ? "" : "s");
	}
	if (a->pa_changes & CH_BIT(CH_MANAGED))
		fputs(" (adopt)", fp);
	if (a->pa_changes & CH_BIT(CH_SCOPE))
		fprintf(fp, " (from scope %s)", plan_dom_scope(a->pa_dom));
	if (a->pa.a_disruptive)
		fputs(" (disruptive)", fp);
}

/*
 * The changes of an update, "~ memory: 1GiB -> 2GiB": values as the plan's
 * JSON has them, compact, but sizes with units and text not escaped to
 * ASCII.
 */
static void
print_action(const struct paction *a, FILE *fp)
{
	struct jw w;
	uint32_t mask;
	enum chg c;

	fputs("  ", fp);
	print_headline(a, fp);
	fputc('\n', fp);
	if (a->pa.a_op == XDC_OP_CREATE || a->pa.a_op == XDC_OP_DESTROY)
		return;
	jw_init(&w, 1);
	mask = action_mask(a);
	for (c = 0; c < CH__COUNT; c++) {
		if (!(mask & CH_BIT(c)))
			continue;
		jw_put(&w, "      ~ ");
		jw_put(&w, chg_names[c]);
		jw_put(&w, ": ");
		jw_value(&w, a, c, 0);
		jw_put(&w, " -> ");
		jw_value(&w, a, c, 1);
		jw_raw(&w, "\n", 1);
		(void)jw_flush(&w, fp);
	}
	jw_free(&w);
}

void
plan_print_action(const struct xdc_plan *p, size_t i, FILE *fp)
{
	print_headline(p->p_act[i], fp);
}

/*
 * "Deferred: 3 actions held back (2 protected, 1 outside a maintenance
 * window).": a deferred action is a change the pool still lacks, and CI
 * (plan --detailed-exitcode exits 2) must be able to say why.
 */
static void
print_deferred_summary(const struct xdc_plan *p, FILE *fp)
{
	static const char *const why[HOLD__COUNT] = {
		[HOLD_NONE] = "held",
		[HOLD_PROTECT] = "protected",
		[HOLD_POLICY] = "not restarted by their restart policy",
		[HOLD_WINDOW] = "outside a maintenance window",
		[HOLD_BUDGET] = "held by an SLA's min_running",
		[HOLD_DEPENDS] = "after a deferred action",
	};
	size_t n[HOLD__COUNT], i, shown = 0;

	if (p->p_ndef == 0)
		return;
	memset(n, 0, sizeof(n));
	for (i = 0; i < p->p_ndef; i++)
		n[p->p_def[i]->pa_hold_why]++;
	fprintf(fp, "Deferred: %zu %s held back (", p->p_ndef,
	    p->p_ndef == 1 ? "action" : "actions");
	for (i = 0; i < HOLD__COUNT; i++) {
		if (n[i] == 0)
			continue;
		fprintf(fp, "%s%zu %s", shown++ ? ", " : "", n[i], why[i]);
	}
	fputs(").\n", fp);
}

/* The domains the plan leaves alone: not xdc's, or other scopes'. */
static void
print_left_alone(const struct xdc_plan *p, int scoped, FILE *fp)
{
	char buf[XDC_SIZE_BUFSZ];
	const struct xdc_obs_domain *d;
	const struct unmanaged *um;
	size_t i, n = 0;

	for (i = 0; i < p->p_nunmanaged; i++) {
		um = &p->p_unmanaged[i];
		if ((um->um_scope != NULL) != scoped)
			continue;
		if (n++ == 0)
			fputs(scoped ? "\nDomains of other scopes (this plan "
			               "leaves them alone):\n"
			             : "\nUnmanaged domains (xdc leaves them "
			               "alone):\n",
			    fp);
		d = um->um_dom;
		fputs("  ", fp);
		/* A domain's name is whatever xl was told. */
		xdc_fputs_escaped(d->od_name, fp);
		fprintf(fp, " on %s (id %u, %s, %s", um->um_host, d->od_domid,
		    xdc_size_fmt(d->od_memory, buf),
		    xdc_dom_state_name(d->od_state));
		if (scoped)
			fprintf(fp, ", scope %s", um->um_scope);
		fputs(")\n", fp);
	}
}

void
plan_print_text(const struct xdc_plan *p, FILE *fp)
{
	size_t counts[5], i;

	if (p->p_nact == 0 && p->p_ndef == 0)
		fputs("No changes: the pool matches the configuration.\n", fp);
	else if (p->p_nact == 0)
		fprintf(fp,
		    "Nothing can be done now, but the pool does not match the "
		    "configuration:\n%zu %s deferred (below).\n",
		    p->p_ndef, p->p_ndef == 1 ? "action is" : "actions are");
	for (i = 0; i < p->p_nact; i++) {
		if (i == 0)
			fputs("xdc will perform these actions:\n", fp);
		fputs("\n  # ", fp);
		xdc_fputs_escaped(p->p_act[i]->pa_reason, fp);
		fputc('\n', fp);
		print_action(p->p_act[i], fp);
	}
	if (p->p_ndef > 0) {
		fputs(
		    "\nDeferred (held back; a later plan will do them):\n", fp);
		for (i = 0; i < p->p_ndef; i++) {
			fputs("\n  # ", fp);
			xdc_fputs_escaped(p->p_def[i]->pa_hold, fp);
			fputc('\n', fp);
			print_action(p->p_def[i], fp);
		}
	}
	print_left_alone(p, 0, fp);
	print_left_alone(p, 1, fp);
	plan_summary(p, counts);
	fprintf(fp,
	    "\nPlan: %zu to create, %zu to update, %zu to replace, %zu to "
	    "destroy, %zu other",
	    counts[0], counts[1], counts[2], counts[3], counts[4]);
	if (p->p_ndef > 0)
		fprintf(fp, "; %zu deferred", p->p_ndef);
	fputs(".\n", fp);
	print_deferred_summary(p, fp);
}
