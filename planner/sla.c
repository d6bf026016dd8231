/*
 * What SLAs and protection hold back: disruptive actions on a VM wait for
 * its maintenance window and may not take its SLA's selected VMs below
 * min_running; a protected VM is never replaced. A held action stays in the
 * plan as deferred, with the reason and the line that holds it.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "planner/planner.h"
#include "base/error.h"

#define DAY (24 * 60 * 60)

int
sla_window_open(const struct xdc_window *w, time_t t, time_t *opens)
{
	struct tm tm;
	time_t midnight, start;
	int min, wday, prev, i;

	gmtime_r(&t, &tm);
	min = tm.tm_hour * 60 + tm.tm_min;
	wday = tm.tm_wday;
	prev = (wday + 6) % 7;
	midnight = t - (time_t)(min * 60 + tm.tm_sec);

	if (w->w_end > w->w_start) {
		if ((w->w_days & (1u << wday)) && min >= w->w_start &&
		    min < w->w_end)
			return 1;
	} else {
		/* It wraps past midnight: it may have opened yesterday. */
		if ((w->w_days & (1u << wday)) && min >= w->w_start)
			return 1;
		if ((w->w_days & (1u << prev)) && min < w->w_end)
			return 1;
	}
	if (opens != NULL) {
		*opens = 0;
		for (i = 0; i <= 7; i++) {
			if (!(w->w_days & (1u << ((wday + i) % 7))))
				continue;
			start = midnight + (time_t)i * DAY +
			        (time_t)w->w_start * 60;
			if (start > t) {
				*opens = start;
				break;
			}
		}
	}
	return 0;
}

static const char *
window_text(struct xdc_plan *p, const struct xdc_sla *s, time_t opens)
{
	char when[32];
	struct tm tm;

	gmtime_r(&opens, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%MZ", &tm);
	return xdc_arena_printf(p->p_arena,
	    "%s (sla %s: maintenance.window): disruptive actions wait for "
	    "the window, which next opens %s",
	    plan_where(p, xdc_sla_loc(p->p_cfg, s, SLA_F_WINDOW)), s->s_name,
	    when);
}

/* Which VMs run now, by the observation of any host. */
static uint8_t *
running_vms(struct xdc_plan *p)
{
	const struct xdc_config *cfg = p->p_cfg;
	const struct xdc_obs_host *oh;
	const struct xdc_obs_domain *d;
	const struct xdc_vm *vm;
	uint8_t *run;
	size_t h, i;

	run = xdc_arena_zalloc(p->p_arena, cfg->cfg_nvms + 1);
	for (h = 0; h < p->p_obs->obs_nhosts; h++) {
		oh = &p->p_obs->obs_hosts[h];
		for (i = 0; i < oh->oh_ndomains; i++) {
			d = &oh->oh_domains[i];
			if (!plan_ours(p, d) || d->od_state != XDC_DOM_RUNNING)
				continue;
			if ((vm = xdc_config_vm(cfg, d->od_name)) != NULL)
				run[vm - cfg->cfg_vms] = 1;
		}
	}
	return run;
}

void
sla_hold(struct xdc_plan *p)
{
	const struct xdc_config *cfg = p->p_cfg;
	const struct xdc_sla *s;
	struct paction *a;
	uint8_t *run = NULL;
	long *budget = NULL;
	size_t *selected = NULL, *up = NULL, *unseen = NULL,
	       *first_unseen = NULL;
	size_t i, si;
	time_t opens;

	for (i = 0; i < p->p_nall; i++) {
		a = &p->p_all[i];
		/* A rejoin destroys a second copy: nothing is disrupted. */
		if (a->pa_hold != NULL || a->pa_vm == NULL || a->pa_rejoin)
			continue;
		if (a->pa.a_op == XDC_OP_REPLACE && a->pa_vm->vm_protect) {
			a->pa_hold = xdc_arena_printf(p->p_arena,
			    "%s; %s is protected (%s): a commit must set "
			    "protect: false before xdc replaces it",
			    a->pa_reason, a->pa_vm->vm_name,
			    plan_where(p,
			        xdc_vm_loc(p->p_cfg, a->pa_vm, VM_F_PROTECT)));
			a->pa_hold_sla = NULL;
			a->pa_hold_why = HOLD_PROTECT;
			continue;
		}
		if (!a->pa.a_disruptive)
			continue;
		s = xdc_vm_policy(cfg, a->pa_vm, XDC_POL_WINDOW);
		if (s != NULL &&
		    !sla_window_open(&s->s_window, p->p_opts.po_now, &opens)) {
			a->pa_hold = window_text(p, s, opens);
			a->pa_hold_sla = s;
			a->pa_hold_why = HOLD_WINDOW;
		}
	}

	/*
	 * min_running: of the VMs an SLA selects, those running now may be
	 * disrupted only down to the budget; the rest wait for a later plan,
	 * when the first are back. A rolling replace falls out of this. Across
	 * hosts, a VM whose budget slot another agent holds is going down
	 * (pool.c); a VM on a host this agent cannot see is not counted at
	 * all, neither up nor down: the SLA's disruptions wait for a view.
	 */
	budget = xdc_calloc(cfg->cfg_nslas + 1, sizeof(*budget));
	selected = xdc_calloc(cfg->cfg_nslas + 1, sizeof(*selected));
	up = xdc_calloc(cfg->cfg_nslas + 1, sizeof(*up));
	unseen = xdc_calloc(cfg->cfg_nslas + 1, sizeof(*unseen));
	first_unseen = xdc_calloc(cfg->cfg_nslas + 1, sizeof(*first_unseen));
	run = running_vms(p);
	for (i = 0; i < cfg->cfg_nvms; i++) {
		si = cfg->cfg_vms[i].vm_sla[XDC_POL_MIN_RUNNING];
		if (si == XDC_NO_SLA)
			continue;
		selected[si]++;
		if (!run[i] && p->p_place[i] != NULL &&
		    pool_view_at(p, p->p_place_h[i]) == XDC_HV_UNSEEN) {
			if (unseen[si]++ == 0)
				first_unseen[si] = i;
			continue;
		}
		up[si] += run[i] && !pool_slot_held(p, cfg->cfg_vms[i].vm_name);
	}
	for (si = 0; si < cfg->cfg_nslas; si++)
		budget[si] =
		    (long)up[si] - (long)cfg->cfg_slas[si].s_min_running;
	for (i = 0; i < p->p_nall; i++) {
		a = &p->p_all[i];
		if (a->pa_hold != NULL || a->pa_vm == NULL ||
		    !a->pa.a_disruptive)
			continue;
		/* Disrupting a paused VM takes away none of the running. */
		if (a->pa_dom == NULL || a->pa_dom->od_state != XDC_DOM_RUNNING)
			continue;
		si = a->pa_vm->vm_sla[XDC_POL_MIN_RUNNING];
		if (si == XDC_NO_SLA)
			continue;
		s = &cfg->cfg_slas[si];
		if (unseen[si] > 0) {
			a->pa_hold = xdc_arena_printf(p->p_arena,
			    "%s (sla %s: min_running %u): this agent sees %zu "
			    "of its %zu VMs run; %zu more (%s on host %s, ...) "
			    "are on hosts it cannot see, so it cannot tell "
			    "whether this %s keeps %u running: the pool view "
			    "(--etcd) can",
			    plan_where(
			        p, xdc_sla_loc(p->p_cfg, s, SLA_F_MIN_RUNNING)),
			    s->s_name, s->s_min_running, up[si], selected[si],
			    unseen[si], cfg->cfg_vms[first_unseen[si]].vm_name,
			    p->p_place[first_unseen[si]],
			    xdc_op_name(a->pa.a_op), s->s_min_running);
			a->pa_hold_sla = s;
			continue;
		}
		/* A host not built may have taken from it first (own.c). */
		if (p->p_light != NULL && p->p_light[si] < a->pa_host)
			p->p_inexact = 1;
		if (budget[si] > 0) {
			budget[si]--;
			continue;
		}
		a->pa_hold = xdc_arena_printf(p->p_arena,
		    "%s (sla %s: min_running %u): %zu of its %zu VMs run, so "
		    "this %s must wait until another is back",
		    plan_where(p, xdc_sla_loc(p->p_cfg, s, SLA_F_MIN_RUNNING)),
		    s->s_name, s->s_min_running, up[si], selected[si],
		    xdc_op_name(a->pa.a_op));
		a->pa_hold_sla = s;
		a->pa_hold_why = HOLD_BUDGET;
	}
	free(budget);
	free(selected);
	free(up);
	free(unseen);
	free(first_unseen);
}
