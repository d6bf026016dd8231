/*
 * An agent's own part of the plan. With po_self (and not po_whole), the
 * planner builds the actions of this host only, and of the few others
 * they wait for: the host a VM migrates to (its networks and the VMs going
 * down there) and the hosts a VM placed here leaves (its destroys there).
 * Every other host is still diffed, without building anything: for its
 * errors, the unmanaged domains, the managed count and the destroys the
 * --max-destroy guard counts, and the moves the built hosts depend on
 * (which copy migrates, which host a VM leaves). Placement, capacity,
 * spread, N+k and the min_running budgets stay pool-wide. What the budget
 * of a built action owes to disruptions on hosts not built cannot be had
 * without building them: the diff of those hosts notes each one
 * (own_note), and when a built action's budget depends on one, the plan is
 * made again with every host built. Then only this host's actions and what
 * they wait for are kept, so the plan has, for this host, exactly what the
 * whole pool's plan has (tests/planner/test_own.c).
 */
#include <stdlib.h>
#include <string.h>

#include "planner/planner.h"
#include "base/error.h"

/* Build host's actions too. */
static void
mark(struct xdc_plan *p, uint32_t host)
{
	if (host != NO_INDEX)
		p->p_build[host] = 1;
}

void
own_begin(struct xdc_plan *p, int own, int all)
{
	const struct xdc_config *cfg = p->p_cfg;
	const struct xdc_observed *obs = p->p_obs;
	const struct xdc_obs_host *oh;
	const struct xdc_obs_domain *d;
	const struct xdc_vm *vm;
	size_t i, vmi;
	uint32_t h;

	p->p_self = NO_INDEX;
	if (!own)
		return;
	p->p_own = 1;
	oh = xdc_observed_host(obs, p->p_opts.po_self);
	if (oh != NULL)
		p->p_self = (uint32_t)(oh - obs->obs_hosts);
	if (all)
		return;
	p->p_build = xdc_arena_zalloc(p->p_arena, obs->obs_nhosts + 1);
	p->p_light = xdc_arena_alloc(
	    p->p_arena, (cfg->cfg_nslas + 1) * sizeof(uint32_t));
	for (i = 0; i <= cfg->cfg_nslas; i++)
		p->p_light[i] = NO_INDEX;
	if (oh == NULL)
		return;
	mark(p, p->p_self);
	/* A VM leaving this host: where it goes, should it migrate. */
	for (i = 0; i < oh->oh_ndomains; i++) {
		d = &oh->oh_domains[i];
		if (d->od_domid == 0 ||
		    (vm = xdc_config_vm(cfg, d->od_name)) == NULL)
			continue;
		h = p->p_place_obs[vm - cfg->cfg_vms];
		if (h != p->p_self)
			mark(p, h);
	}
	/* A VM coming here that is not: the hosts it may leave. */
	for (vmi = 0; vmi < cfg->cfg_nvms; vmi++) {
		vm = &cfg->cfg_vms[vmi];
		if (p->p_place_obs[vmi] != p->p_self ||
		    vm->vm_state == XDC_VM_STOPPED ||
		    xdc_obs_host_domain(oh, vm->vm_name) != NULL)
			continue;
		for (h = 0; h < obs->obs_nhosts; h++)
			if (h != p->p_self &&
			    xdc_obs_host_domain(
			        &obs->obs_hosts[h], vm->vm_name) != NULL)
				mark(p, h);
	}
}

void
own_note(struct xdc_plan *p, uint32_t host, const struct xdc_vm *vm)
{
	size_t si = vm->vm_sla[XDC_POL_MIN_RUNNING];

	if (si != XDC_NO_SLA && p->p_light[si] > host)
		p->p_light[si] = host;
}

/* Is a an undeclared VM's destroy that will run, for the guard? */
static int
counted_destroy(const struct paction *a)
{
	return a->pa.a_op == XDC_OP_DESTROY && a->pa.a_kind == XDC_OBJ_VM &&
	       a->pa_vm == NULL && a->pa_hold == NULL;
}

void
own_prune(struct xdc_plan *p, struct paction **v, size_t *n)
{
	uint32_t *to;
	struct paction *a;
	size_t i, j, m;

	if (!p->p_own)
		return;
	to = xdc_malloc((*n + 1) * sizeof(*to));
	for (i = 0; i < *n; i++)
		to[i] = v[i]->pa_host == p->p_self ? 0 : NO_INDEX;
	/* What a kept action waits for is kept: it comes earlier. */
	for (i = *n; i-- > 0;)
		for (j = 0; to[i] != NO_INDEX && j < v[i]->pa_ndeps; j++)
			to[v[i]->pa_deps[j]] = 0;
	for (i = m = 0; i < *n; i++) {
		a = v[i];
		if (to[i] == NO_INDEX) {
			/* A down waits for nothing: its hold is final. */
			p->p_destroys_else += counted_destroy(a);
			continue;
		}
		to[i] = (uint32_t)m;
		for (j = 0; j < a->pa_ndeps; j++)
			a->pa_deps[j] = to[a->pa_deps[j]];
		v[m++] = a;
	}
	*n = m;
	free(to);
}
