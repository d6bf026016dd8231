/*
 * N+k (see place.h): for each SLA with host_failures, whether its VMs
 * still fit when hosts fail, each failure scenario re-placing the failed
 * hosts' VMs as placement would see them, without a pass over the hosts
 * per VM. Errors go into the plan.
 */
#include <stdlib.h>
#include <string.h>

#include "planner/planner.h"
#include "planner/place.h"
#include "base/error.h"

/*
 * N+k: for an SLA with host_failures k, the VMs it selects must still fit
 * when any k hosts fail. Each failure scenario re-places the failed hosts'
 * VMs of the SLA, largest first, on the host with the most free memory that
 * keeps the spread. For k = 1 every host is tried; for k > 1 the k hosts
 * holding most of the SLA's memory fail together, the worst case for
 * memory though not for every combination.
 *
 * The SLA's VMs are grouped by host once, so a scenario costs the VMs of
 * the failed hosts and one pass over the hosts, not a pass over the pool.
 * Nor does a VM re-placed cost a pass over the hosts: they are sorted once
 * by free memory (nk_order), and the first of them that may take it is
 * weighed against the few this scenario has put VMs on already (nk_took),
 * whose free memory is no longer the sorted one. That is the host a pass
 * would find: the most free memory, the first in the pool of those tied.
 */
struct nk {
	struct placer *nk_pl;
	const struct xdc_sla *nk_sla;
	uint32_t *nk_vms;   /* the SLA's VMs, grouped by host */
	size_t *nk_first;   /* [host]: first of its VMs in nk_vms */
	size_t *nk_count;   /* [host] */
	uint64_t *nk_load;  /* [host]: the SLA's memory there */
	uint64_t *nk_free0; /* [host]: free memory with no host failed */
	uint32_t *nk_order; /* the active hosts, most free memory first */
	size_t nk_norder;
	uint64_t *nk_free;  /* scratch: nk_free0 but for nk_took */
	uint8_t *nk_failed; /* scratch */
	uint8_t *nk_holds;  /* scratch: a host holds one of the SLA's VMs */
	uint8_t *nk_taken;  /* scratch: [host] is in nk_took */
	uint32_t *nk_took;  /* scratch: hosts given a VM in this scenario */
	size_t nk_ntook;
	uint32_t *nk_vict; /* scratch */
};

static int
vm_mem_desc(const void *a, const void *b, void *arg)
{
	const struct xdc_config *cfg = arg;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	if (cfg->cfg_vms[x].vm_memory != cfg->cfg_vms[y].vm_memory)
		return cfg->cfg_vms[x].vm_memory > cfg->cfg_vms[y].vm_memory
		           ? -1
		           : 1;
	return x < y ? -1 : x > y;
}

/* Most free memory first; the first in the pool of those tied. */
static int
host_free_desc(const void *a, const void *b, void *arg)
{
	const uint64_t *free0 = arg;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	if (free0[x] != free0[y])
		return free0[x] > free0[y] ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* Whether host h may take vm in this scenario, memory aside. */
static int
nk_may_take(const struct nk *nk, size_t h, const struct xdc_vm *vm, int spread)
{
	const struct phost *ph = &nk->nk_pl->pl_hosts[h];

	return !nk->nk_failed[h] && ph->ph_active &&
	       !(spread && nk->nk_holds[h]) &&
	       !(ph->ph_cpus && vm->vm_max_vcpus > ph->ph_cpus);
}

/*
 * The host with the most free memory that may take vm, the first in the
 * pool of those tied; pl_nhosts when none may.
 */
static size_t
nk_best(const struct nk *nk, const struct xdc_vm *vm, int spread)
{
	size_t nh = nk->nk_pl->pl_nhosts, best = nh, h, i;

	/* The hosts this scenario left alone, in nk_order. */
	for (i = 0; i < nk->nk_norder; i++) {
		h = nk->nk_order[i];
		if (nk->nk_free0[h] < vm->vm_memory)
			break;
		if (!nk->nk_taken[h] && nk_may_take(nk, h, vm, spread)) {
			best = h;
			break;
		}
	}
	for (i = 0; i < nk->nk_ntook; i++) {
		h = nk->nk_took[i];
		if (nk->nk_free[h] < vm->vm_memory ||
		    !nk_may_take(nk, h, vm, spread))
			continue;
		if (best == nh || nk->nk_free[h] > nk->nk_free[best] ||
		    (nk->nk_free[h] == nk->nk_free[best] && h < best))
			best = h;
	}
	return best;
}

/* One scenario: the hosts in nk_failed are gone. Returns 0 if it holds. */
static int
nk_scenario(struct nk *nk)
{
	struct placer *pl = nk->nk_pl;
	struct xdc_plan *p = pl->pl_plan;
	const struct xdc_config *cfg = p->p_cfg;
	const struct xdc_sla *s = nk->nk_sla;
	int spread = s->s_spread == XDC_SPREAD_HOST, rc = 0;
	const struct xdc_vm *vm;
	size_t h, i, n = 0, best, big;

	for (h = 0; h < pl->pl_nhosts; h++) {
		if (!nk->nk_failed[h])
			continue;
		for (i = 0; i < nk->nk_count[h]; i++)
			nk->nk_vict[n++] = nk->nk_vms[nk->nk_first[h] + i];
	}
	qsort_r(nk->nk_vict, n, sizeof(*nk->nk_vict), vm_mem_desc,
	    (void *)(uintptr_t)cfg);
	for (i = 0; i < n; i++) {
		vm = &cfg->cfg_vms[nk->nk_vict[i]];
		best = nk_best(nk, vm, spread);
		if (best == pl->pl_nhosts) {
			big = pl->pl_nhosts;
			for (h = 0; h < pl->pl_nhosts; h++)
				if (!nk->nk_failed[h] &&
				    pl->pl_hosts[h].ph_active &&
				    (big == pl->pl_nhosts ||
				        nk->nk_free[h] > nk->nk_free[big]))
					big = h;
			plan_error(p,
			    xdc_sla_loc(p->p_cfg, s, SLA_F_HOST_FAILURES),
			    "sla %s: if host %s fails, %s (%s) fits nowhere: "
			    "largest free is %s on %s%s",
			    s->s_name,
			    pl->pl_hosts[pl->pl_vm_host[nk->nk_vict[i]]]
			        .ph_name,
			    vm->vm_name, place_size_str(p, vm->vm_memory),
			    big == pl->pl_nhosts ? "nothing"
			    : nk->nk_free[big] == UNBOUNDED
			        ? "unbounded"
			        : place_size_str(p, nk->nk_free[big]),
			    big == pl->pl_nhosts ? "any host"
			                         : pl->pl_hosts[big].ph_name,
			    spread ? " that holds none of its VMs (spread: "
			             "host)"
			           : "");
			rc = -1;
			break;
		}
		if (nk->nk_free[best] != UNBOUNDED)
			nk->nk_free[best] -= vm->vm_memory;
		nk->nk_holds[best] = 1;
		if (!nk->nk_taken[best]) {
			nk->nk_taken[best] = 1;
			nk->nk_took[nk->nk_ntook++] = (uint32_t)best;
		}
	}
	/* As the next scenario starts: no VM re-placed. */
	for (i = 0; i < nk->nk_ntook; i++) {
		h = nk->nk_took[i];
		nk->nk_free[h] = nk->nk_free0[h];
		nk->nk_holds[h] = nk->nk_count[h] > 0;
		nk->nk_taken[h] = 0;
	}
	nk->nk_ntook = 0;
	return rc;
}

void
place_check_failures(struct placer *pl)
{
	struct xdc_plan *p = pl->pl_plan;
	const struct xdc_config *cfg = p->p_cfg;
	size_t nh = pl->pl_nhosts, si, h, i, k, active = 0, n;
	uint32_t *order = NULL;
	const struct xdc_vm *vm;
	struct nk nk;

	memset(&nk, 0, sizeof(nk));
	nk.nk_pl = pl;
	nk.nk_vms = xdc_calloc(cfg->cfg_nvms + 1, sizeof(*nk.nk_vms));
	nk.nk_vict = xdc_calloc(cfg->cfg_nvms + 1, sizeof(*nk.nk_vict));
	nk.nk_first = xdc_calloc(nh + 1, sizeof(*nk.nk_first));
	nk.nk_count = xdc_calloc(nh + 1, sizeof(*nk.nk_count));
	nk.nk_load = xdc_calloc(nh + 1, sizeof(*nk.nk_load));
	nk.nk_free0 = xdc_calloc(nh + 1, sizeof(*nk.nk_free0));
	nk.nk_order = xdc_calloc(nh + 1, sizeof(*nk.nk_order));
	nk.nk_free = xdc_calloc(nh + 1, sizeof(*nk.nk_free));
	nk.nk_failed = xdc_calloc(nh + 1, 1);
	nk.nk_holds = xdc_calloc(nh + 1, 1);
	nk.nk_taken = xdc_calloc(nh + 1, 1);
	nk.nk_took = xdc_calloc(nh + 1, sizeof(*nk.nk_took));
	order = xdc_calloc(nh + 1, sizeof(*order));
	for (h = 0; h < nh; h++) {
		nk.nk_free0[h] = host_free(&pl->pl_hosts[h]);
		if (pl->pl_hosts[h].ph_active)
			nk.nk_order[nk.nk_norder++] = (uint32_t)h;
	}
	active = nk.nk_norder;
	qsort_r(nk.nk_order, nk.nk_norder, sizeof(*nk.nk_order), host_free_desc,
	    nk.nk_free0);

	for (si = 0; si < cfg->cfg_nslas; si++) {
		nk.nk_sla = &cfg->cfg_slas[si];
		if (!(nk.nk_sla->s_set & (1u << SLA_F_HOST_FAILURES)) ||
		    nk.nk_sla->s_host_failures == 0)
			continue;
		k = nk.nk_sla->s_host_failures;
		if (active <= k) {
			plan_error(p,
			    xdc_sla_loc(
			        p->p_cfg, nk.nk_sla, SLA_F_HOST_FAILURES),
			    "sla %s: host_failures %zu needs more than %zu "
			    "active hosts; %zu %s active",
			    nk.nk_sla->s_name, k, k, active,
			    active == 1 ? "is" : "are");
			continue;
		}
		/* Group the SLA's running VMs by host (a counting sort). */
		memset(nk.nk_count, 0, nh * sizeof(*nk.nk_count));
		memset(nk.nk_load, 0, nh * sizeof(*nk.nk_load));
		for (i = 0; i < cfg->cfg_nvms; i++) {
			vm = &cfg->cfg_vms[i];
			if (vm->vm_sla[XDC_POL_HOST_FAILURES] != si ||
			    !vm_consumes(vm) || pl->pl_vm_host[i] == NO_INDEX)
				continue;
			nk.nk_count[pl->pl_vm_host[i]]++;
			nk.nk_load[pl->pl_vm_host[i]] += vm->vm_memory;
		}
		for (h = 0, n = 0; h < nh; h++) {
			nk.nk_first[h] = n;
			n += nk.nk_count[h];
		}
		memset(nk.nk_failed, 0, nh);
		for (h = 0; h < nh; h++)
			nk.nk_count[h] = 0;
		for (i = 0; i < cfg->cfg_nvms; i++) {
			vm = &cfg->cfg_vms[i];
			if (vm->vm_sla[XDC_POL_HOST_FAILURES] != si ||
			    !vm_consumes(vm) || pl->pl_vm_host[i] == NO_INDEX)
				continue;
			h = pl->pl_vm_host[i];
			nk.nk_vms[nk.nk_first[h] + nk.nk_count[h]++] =
			    (uint32_t)i;
		}
		for (h = 0; h < nh; h++) {
			nk.nk_free[h] = nk.nk_free0[h];
			nk.nk_holds[h] = nk.nk_count[h] > 0;
		}

		if (k == 1) {
			for (h = 0; h < nh; h++) {
				if (nk.nk_count[h] == 0)
					continue;
				nk.nk_failed[h] = 1;
				if (nk_scenario(&nk) != 0)
					break;
				nk.nk_failed[h] = 0;
			}
			continue;
		}
		/* k > 1: the k hosts with the most of the SLA's memory. */
		for (h = 0; h < nh; h++)
			order[h] = (uint32_t)h;
		for (i = 1; i < nh; i++)
			for (h = i; h > 0 && nk.nk_load[order[h]] >
			                         nk.nk_load[order[h - 1]];
			     h--) {
				uint32_t tmp = order[h];
				order[h] = order[h - 1];
				order[h - 1] = tmp;
			}
		for (i = 0; i < k && i < nh; i++)
			nk.nk_failed[order[i]] = 1;
		nk_scenario(&nk);
	}
	free(nk.nk_vms);
	free(nk.nk_vict);
	free(nk.nk_first);
	free(nk.nk_count);
	free(nk.nk_load);
	free(nk.nk_free0);
	free(nk.nk_order);
	free(nk.nk_free);
	free(nk.nk_failed);
	free(nk.nk_holds);
	free(nk.nk_taken);
	free(nk.nk_took);
	free(order);
}
