/*
 * The pool view in the plan (SPEC §8): how this agent sees each host
 * (live, unseen, lost, fenced), and what that forbids. The view reaches
 * the planner as data (struct xdc_pool_view: claims, budget slots, fenced
 * hosts), with the published observations of the live hosts merged into
 * the observation; nothing here talks to etcd.
 *
 * What it forbids, each as a deferred action with its reason:
 *  - a VM claimed by another live host's agent is not started here;
 *  - while a host is lost and not fenced, no VM whose claim is free is
 *    started anywhere: the lost host may be alive and run it still;
 *  - an agent back after its lease expired first destroys its copies of
 *    the VMs other hosts now claim, and does nothing else meanwhile; the
 *    claimant keeps its copy as it is until then;
 *  - without a pool view, an agent of several Hosts sees its own only: it
 *    starts no VM that may still run where it cannot see (sla.c, for the
 *    same reason, counts no unseen VM as down).
 */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "planner/planner.h"

static int
name_in(const char *const *v, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(v[i], name))
			return 1;
	return 0;
}

void
pool_views(struct xdc_plan *p)
{
	const struct xdc_pool_view *pv = p->p_opts.po_pool;
	const struct xdc_host *ch;
	const char *name;
	size_t h;

	p->p_hview = xdc_arena_alloc(
	    p->p_arena, (p->p_nhosts + 1) * sizeof(*p->p_hview));
	for (h = 0; h < p->p_nhosts; h++) {
		name = p->p_hnames[h];
		ch = xdc_config_host(p->p_cfg, name);
		if (ch != NULL && ch->h_state == XDC_HOST_FAILED)
			p->p_hview[h] = XDC_HV_FENCED; /* the admin says so */
		else if (xdc_observed_host(p->p_obs, name) != NULL)
			p->p_hview[h] = XDC_HV_LIVE;
		else if (pv != NULL)
			p->p_hview[h] =
			    name_in(pv->pv_fenced, pv->pv_nfenced, name)
			        ? XDC_HV_FENCED
			        : XDC_HV_LOST;
		else
			p->p_hview[h] = XDC_HV_UNSEEN;
		if (p->p_hview[h] == XDC_HV_UNSEEN)
			p->p_partial = 1;
	}
}

enum xdc_host_view
pool_view_of(const struct xdc_plan *p, const char *host)
{
	size_t h;

	for (h = 0; host != NULL && h < p->p_nhosts; h++)
		if (!strcmp(p->p_hnames[h], host))
			return p->p_hview[h];
	return XDC_HV_UNSEEN;
}

enum xdc_host_view
pool_view_at(const struct xdc_plan *p, uint32_t h)
{
	return h < p->p_nhosts ? p->p_hview[h] : XDC_HV_UNSEEN;
}

static int
claim_cmp(const void *key, const void *elt)
{
	return strcmp(key, ((const struct xdc_claim *)elt)->cl_vm);
}

const char *
pool_claim(const struct xdc_plan *p, const char *vm)
{
	const struct xdc_pool_view *pv = p->p_opts.po_pool;
	const struct xdc_claim *c;

	if (pv == NULL || pv->pv_nclaims == 0)
		return NULL;
	c = bsearch(vm, pv->pv_claims, pv->pv_nclaims, sizeof(*c), claim_cmp);
	return c != NULL ? c->cl_host : NULL;
}

int
pool_slot_held(const struct xdc_plan *p, const char *vm)
{
	const struct xdc_pool_view *pv = p->p_opts.po_pool;
	size_t i;

	for (i = 0; pv != NULL && i < pv->pv_nslots; i++)
		if (!strcmp(pv->pv_slots[i].sl_vm, vm))
			return 1;
	return 0;
}

int
pool_is_self(const struct xdc_plan *p, const char *host)
{
	return p->p_opts.po_self == NULL || !strcmp(p->p_opts.po_self, host);
}

/* A host that is lost and not fenced, or NULL when none. */
static const char *
lost_unfenced(const struct xdc_plan *p)
{
	size_t h;

	for (h = 0; h < p->p_nhosts; h++)
		if (p->p_hview[h] == XDC_HV_LOST)
			return p->p_hnames[h];
	return NULL;
}

/* The unseen hosts, "xen-b, xen-c", for reasons. */
static const char *
unseen_hosts(struct xdc_plan *p)
{
	char *s = NULL, *t;
	size_t h;

	for (h = 0; h < p->p_nhosts; h++) {
		if (p->p_hview[h] != XDC_HV_UNSEEN)
			continue;
		t = s;
		xdc_asprintf(
		    &s, "%s%s%s", t ? t : "", t ? ", " : "", p->p_hnames[h]);
		free(t);
	}
	t = xdc_arena_strdup(p->p_arena, s ? s : "");
	free(s);
	return t;
}

static int
brings_up(const struct paction *a)
{
	return a->pa.a_kind == XDC_OBJ_VM &&
	       (a->pa.a_op == XDC_OP_CREATE || a->pa.a_op == XDC_OP_START ||
	           a->pa.a_op == XDC_OP_RESTART);
}

/* Is the VM live in the published observation of host? */
static int
runs_on(const struct xdc_plan *p, const char *host, const char *vm)
{
	const struct xdc_obs_host *oh = xdc_observed_host(p->p_obs, host);
	const struct xdc_obs_domain *d;

	if (oh == NULL || (d = xdc_obs_host_domain(oh, vm)) == NULL)
		return 0;
	return plan_ours(p, d) && (d->od_state == XDC_DOM_RUNNING ||
	                              d->od_state == XDC_DOM_PAUSED);
}

/*
 * Rejoin: this host's managed domains of VMs another live host claims and
 * runs, among those it ran when this agent's lease was new
 * (pv_rejoin_domid). Claims are taken only by an agent that holds a live
 * lease and publishes the domain running, so a claim alone (a stale key, a
 * forged one) destroys nothing. A domain made here since is not weighed:
 * the same sight is then a live migration's end, the domain running here
 * and its source not yet having published it gone nor given its claim
 * back (the Xen pool lab saw an agent destroy a guest it had just
 * received, and create it again).
 */
static void
rejoin(struct xdc_plan *p)
{
	const char *self = p->p_opts.po_self, *holder;
	const struct xdc_obs_host *oh;
	const struct xdc_obs_domain *d;
	const struct xdc_vm *vm;
	struct paction *a;
	size_t i, h, n = p->p_nall;

	if (p->p_opts.po_pool == NULL ||
	    p->p_opts.po_pool->pv_rejoin_domid == 0 || self == NULL ||
	    (oh = xdc_observed_host(p->p_obs, self)) == NULL)
		return;
	h = (size_t)(oh - p->p_obs->obs_hosts);
	for (i = 0; i < oh->oh_ndomains; i++) {
		d = &oh->oh_domains[i];
		if (!plan_ours(p, d) || d->od_domid == 0 ||
		    d->od_domid > p->p_opts.po_pool->pv_rejoin_domid)
			continue;
		holder = pool_claim(p, d->od_name);
		if (holder == NULL || !strcmp(holder, self) ||
		    pool_view_of(p, holder) != XDC_HV_LIVE ||
		    !runs_on(p, holder, d->od_name))
			continue;
		/* What the diff wanted of this copy is void now. */
		for (size_t j = 0; j < n; j++)
			if (p->p_all[j].pa_host == h && p->p_all[j].pa.a_name &&
			    p->p_all[j].pa.a_kind == XDC_OBJ_VM &&
			    !strcmp(p->p_all[j].pa.a_name, d->od_name) &&
			    p->p_all[j].pa_hold == NULL)
				p->p_all[j].pa_hold =
				    xdc_arena_printf(p->p_arena,
				        "host %s runs %s and claims it; this "
				        "host's copy goes first",
				        holder, d->od_name);
		vm = xdc_config_vm(p->p_cfg, d->od_name);
		a = plan_add(p, XDC_OP_DESTROY, XDC_OBJ_VM, (uint32_t)h);
		a->pa.a_name = d->od_name;
		a->pa.a_domid = d->od_domid;
		a->pa_group = G_VM_DOWN;
		a->pa_dom = d;
		a->pa_vm = vm;
		a->pa_vmi =
		    vm != NULL ? (uint32_t)(vm - p->p_cfg->cfg_vms) : NO_INDEX;
		a->pa_rejoin = 1;
		a->pa_reason = xdc_arena_printf(p->p_arena,
		    "rejoin: host %s took %s over while this host was lost, "
		    "and runs it; this copy must go before this host does "
		    "anything else",
		    holder, d->od_name);
		p->p_nrejoin++;
	}
}

/*
 * Another live host that runs a copy of vm: a host back after it was
 * lost, whose copy the rejoin rule has it destroy. NULL when none.
 */
static const char *
other_copy(const struct xdc_plan *p, const char *self, const char *vm)
{
	const struct xdc_observed *obs = p->p_obs;
	const char *name;
	size_t h;

	for (h = 0; h < obs->obs_nhosts; h++) {
		name = obs->obs_hosts[h].oh_name;
		if (strcmp(name, self) != 0 &&
		    pool_view_of(p, name) == XDC_HV_LIVE &&
		    runs_on(p, name, vm))
			return name;
	}
	return NULL;
}

void
pool_hold(struct xdc_plan *p)
{
	const char *self = p->p_opts.po_self, *holder, *other, *unseen = NULL;
	const char *lost;
	struct paction *a;
	size_t i;

	rejoin(p);
	for (i = 0; i < p->p_nall; i++) {
		a = &p->p_all[i];
		if (a->pa_hold != NULL || a->pa.a_kind != XDC_OBJ_VM)
			continue;
		if (p->p_nrejoin > 0 && !a->pa_rejoin && self != NULL &&
		    !strcmp(a->pa.a_host, self)) {
			a->pa_hold = xdc_arena_printf(p->p_arena,
			    "%s; it waits for this host to destroy its copies "
			    "of the VMs other hosts took over (rejoin)",
			    a->pa_reason);
			continue;
		}
		/*
		 * The other side of the rejoin: while a host back from the
		 * lost still runs a copy of a VM this host claims and runs,
		 * this host's copy is the one that stays. Moving it (home,
		 * say) waits until the other copy is gone, so that the
		 * returning host's first act is always its destroy.
		 */
		if (p->p_opts.po_pool != NULL && self != NULL &&
		    !strcmp(a->pa.a_host, self) &&
		    (holder = pool_claim(p, a->pa.a_name)) != NULL &&
		    !strcmp(holder, self) &&
		    (other = other_copy(p, self, a->pa.a_name)) != NULL) {
			a->pa_hold = xdc_arena_printf(p->p_arena,
			    "%s; host %s runs a copy of %s too, which this "
			    "host claims: that copy goes first (rejoin)",
			    a->pa_reason, other, a->pa.a_name);
			continue;
		}
		if (!brings_up(a))
			continue;
		holder = pool_claim(p, a->pa.a_name);
		if (holder != NULL && strcmp(holder, a->pa.a_host) != 0) {
			a->pa_hold = xdc_arena_printf(p->p_arena,
			    "%s; %s is claimed by host %s, which runs it or "
			    "has not yet let it go: it starts on %s only "
			    "once %s releases it",
			    a->pa_reason, a->pa.a_name, holder, a->pa.a_host,
			    holder);
			continue;
		}
		/*
		 * A claim lives under its holder's lease. A host whose lease
		 * ended without a fence may be alive and still run what it
		 * claimed (a keepalive starved, a network cut), and neither
		 * its record nor its claims say so any more. So a VM whose
		 * claim is free (this agent does not hold it) starts only
		 * while no host is lost unfenced: once that host is back
		 * (its record shows what it runs) or fenced (it runs
		 * nothing).
		 */
		if (p->p_opts.po_pool != NULL && holder == NULL &&
		    (lost = lost_unfenced(p)) != NULL) {
			a->pa_hold = xdc_arena_printf(p->p_arena,
			    "%s; host %s is lost and not fenced, and may "
			    "still run %s (a claim goes with its holder's "
			    "lease): %s starts once %s is back or fenced",
			    a->pa_reason, lost, a->pa.a_name, a->pa.a_name,
			    lost);
			continue;
		}
		/*
		 * Without a pool view, a VM this agent does not run may run
		 * where it cannot see: a commit that moved it, an agent
		 * still on the last commit. Only the pool view can tell.
		 */
		if (p->p_partial && p->p_opts.po_pool == NULL &&
		    a->pa.a_op == XDC_OP_CREATE) {
			if (unseen == NULL)
				unseen = unseen_hosts(p);
			a->pa_hold = xdc_arena_printf(p->p_arena,
			    "%s; %s may still run on a host this agent cannot "
			    "see (%s): without the pool view (--etcd) it "
			    "starts no VM it does not run already",
			    a->pa_reason, a->pa.a_name, unseen);
		}
	}
}

enum xdc_host_view
plan_host_view(const struct xdc_plan *p, const char *host)
{
	return pool_view_of(p, host);
}

size_t
plan_nfailovers(const struct xdc_plan *p)
{
	return p->p_nfailovers;
}

void
plan_failover(const struct xdc_plan *p, size_t i, const char **vm,
    const char **from, const char **to)
{
	size_t v, k = 0;

	*vm = *from = *to = NULL;
	for (v = 0; v < p->p_cfg->cfg_nvms; v++) {
		if (p->p_failed_from[v] == NULL)
			continue;
		if (k++ == i) {
			*vm = p->p_cfg->cfg_vms[v].vm_name;
			*from = p->p_failed_from[v];
			*to = p->p_place[v];
			return;
		}
	}
}
