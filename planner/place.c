/*
 * Placement: which host each declared VM belongs on, and whether the pool
 * can hold them all, with the headroom the SLAs ask for.
 *
 * Placement is a pure function of the configuration. Unpinned VMs go round a
 * hash ring of the active hosts (64 points a host), each VM to the first
 * host clockwise from its own hash that has room and keeps its SLA's
 * spread. A ring, rather than a greedy fill, keeps placement stable: adding
 * a VM or a host moves almost nothing that was already placed, so a commit
 * does not reshuffle a running pool. A plain ring balances poorly, so each
 * host also takes at most 1.25 times its share of the pool's memory
 * (consistent hashing with bounded loads, Mirrokni et al.); only when no
 * host has room under that bound does a VM go wherever it fits. Capacities are
 * the declared ones; a host that declares no memory counts as unbounded here,
 * and the observed capacity is checked afterwards (check_observed_fit).
 * Whether the SLAs' VMs still fit when hosts fail (N+k) is place_nk.c's.
 */
#include <stdlib.h>
#include <string.h>

#include "planner/planner.h"
#include "planner/place.h"
#include "base/error.h"

#define RING_POINTS 64

const char *
place_size_str(struct xdc_plan *p, uint64_t v)
{
	char buf[XDC_SIZE_BUFSZ];

	return xdc_arena_strdup(p->p_arena, xdc_size_fmt(v, buf));
}

struct point {
	uint64_t pt_hash;
	uint32_t pt_host;
};

static uint64_t
mix64(uint64_t x)
{
	/* splitmix64's finaliser: spreads FNV's output over the ring. */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static uint64_t
hash_str(const char *s, uint64_t seed)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	/*
	 * The seed goes in after the name: xored into FNV's basis it would
	 * cancel against the first byte ("a" seed 3 would be "b" seed 0, and
	 * hosts a, b and c one ring of points).
	 */
	return mix64(h ^ mix64(seed + 1));
}

/* The SLA whose spread applies to a VM, or NO_INDEX. */
static uint32_t
spread_sla(const struct xdc_config *cfg, const struct xdc_vm *vm)
{
	const struct xdc_sla *s = xdc_vm_policy(cfg, vm, XDC_POL_SPREAD);

	if (s == NULL || s->s_spread != XDC_SPREAD_HOST)
		return NO_INDEX;
	return (uint32_t)(s - cfg->cfg_slas);
}

static int
fits(const struct placer *pl, const struct xdc_vm *vm, uint32_t h, uint32_t sla,
    int bounded)
{
	const struct phost *ph = &pl->pl_hosts[h];

	if (!ph->ph_active)
		return 0;
	if (bounded && vm_consumes(vm) &&
	    ph->ph_used + vm->vm_memory > ph->ph_bound)
		return 0;
	if (ph->ph_cpus != 0 && vm->vm_max_vcpus > ph->ph_cpus)
		return 0;
	if (vm_consumes(vm) && host_free(ph) < vm->vm_memory)
		return 0;
	if (sla != NO_INDEX && pl->pl_spread_used[sla * pl->pl_nhosts + h])
		return 0;
	return 1;
}

static void
take(struct placer *pl, size_t vmi, uint32_t h, uint32_t sla)
{
	const struct xdc_vm *vm = &pl->pl_plan->p_cfg->cfg_vms[vmi];

	pl->pl_vm_host[vmi] = h;
	if (vm_consumes(vm))
		pl->pl_hosts[h].ph_used += vm->vm_memory;
	if (sla != NO_INDEX)
		pl->pl_spread_used[sla * pl->pl_nhosts + h] = 1;
}

static void
no_room(struct placer *pl, const struct xdc_vm *vm, uint32_t sla)
{
	struct xdc_plan *p = pl->pl_plan;
	const struct phost *best = NULL;
	size_t h;

	for (h = 0; h < pl->pl_nhosts; h++) {
		if (!pl->pl_hosts[h].ph_active)
			continue;
		if (best == NULL ||
		    host_free(&pl->pl_hosts[h]) > host_free(best))
			best = &pl->pl_hosts[h];
	}
	if (best == NULL) {
		plan_error(p, xdc_vm_loc(p->p_cfg, vm, VM_F_NAME),
		    "VM %s fits on no host: no host is active", vm->vm_name);
		return;
	}
	plan_error(p, xdc_vm_loc(p->p_cfg, vm, VM_F_NAME),
	    "VM %s (%s, %u vCPUs) fits on no host%s%s%s: largest free is %s "
	    "on %s",
	    vm->vm_name, place_size_str(p, vm->vm_memory), vm->vm_max_vcpus,
	    sla != NO_INDEX ? " that sla " : "",
	    sla != NO_INDEX ? p->p_cfg->cfg_slas[sla].s_name : "",
	    sla != NO_INDEX ? " leaves it (spread: host)" : "",
	    host_free(best) == UNBOUNDED ? "unbounded"
	                                 : place_size_str(p, host_free(best)),
	    best->ph_name);
}

/* How many of an overfull host's VMs its error names; then "and N more". */
#define OVER_NAMED 8

static int
over_cmp(const void *a, const void *b, void *arg)
{
	const struct placer *pl = arg;
	const struct xdc_vm *vms = pl->pl_plan->p_cfg->cfg_vms;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	if (pl->pl_vm_host[x] != pl->pl_vm_host[y])
		return pl->pl_vm_host[x] < pl->pl_vm_host[y] ? -1 : 1;
	if (vms[x].vm_memory != vms[y].vm_memory)
		return vms[x].vm_memory > vms[y].vm_memory ? -1 : 1;
	return x < y ? -1 : x > y;
}

/*
 * The hosts whose pinned VMs (or, for a lone host, all VMs) need more
 * memory than they declare, each error naming the VMs: the largest first,
 * then by name (the configuration's order), the same on every host.
 */
static void
over_capacity(struct placer *pl)
{
	struct xdc_plan *p = pl->pl_plan;
	const struct xdc_config *cfg = p->p_cfg;
	const struct xdc_vm *vm;
	const struct phost *ph;
	uint32_t *over = NULL;
	char *names = NULL, *next;
	size_t i, j, n = 0, h, shown;

	for (i = 0; i < cfg->cfg_nvms; i++) {
		if (pl->pl_vm_host[i] == NO_INDEX ||
		    !vm_consumes(&cfg->cfg_vms[i]))
			continue;
		ph = &pl->pl_hosts[pl->pl_vm_host[i]];
		if (ph->ph_mem == UNBOUNDED || ph->ph_used <= ph->ph_mem)
			continue;
		if (over == NULL)
			over = xdc_malloc(cfg->cfg_nvms * sizeof(*over));
		over[n++] = (uint32_t)i;
	}
	if (n == 0)
		return;
	qsort_r(over, n, sizeof(*over), over_cmp, pl);
	for (i = 0; i < n; i = j) {
		h = pl->pl_vm_host[over[i]];
		ph = &pl->pl_hosts[h];
		names = xdc_strdup("");
		for (j = i, shown = 0; j < n && pl->pl_vm_host[over[j]] == h;
		     j++) {
			if (shown == OVER_NAMED)
				continue;
			vm = &cfg->cfg_vms[over[j]];
			xdc_asprintf(&next, "%s%s%s %s", names,
			    shown ? ", " : "", vm->vm_name,
			    place_size_str(p, vm->vm_memory));
			free(names);
			names = next;
			shown++;
		}
		if (j - i > shown) {
			xdc_asprintf(
			    &next, "%s and %zu more", names, j - i - shown);
			free(names);
			names = next;
		}
		plan_error(p,
		    cfg->cfg_nhosts
		        ? xdc_host_loc(cfg, &cfg->cfg_hosts[h], HOST_F_NAME)
		        : XDC_NOWHERE,
		    "host %s: the VMs on it need %s (%s); it offers %s, %s "
		    "short",
		    ph->ph_name, place_size_str(p, ph->ph_used), names,
		    place_size_str(p, ph->ph_mem),
		    place_size_str(p, ph->ph_used - ph->ph_mem));
		free(names);
		names = NULL;
	}
	free(over);
}

/*
 * The index of the host a VM is pinned to (0 for none), or pl_nhosts.
 * Declared hosts are the configuration's, sorted by name: a binary
 * search finds the one a scan would.
 */
static size_t
pinned_host(const struct placer *pl, const struct xdc_vm *vm)
{
	const struct xdc_config *cfg = pl->pl_plan->p_cfg;
	const struct xdc_host *ch;
	size_t h;

	if (vm->vm_host == NULL)
		return 0;
	if (cfg->cfg_nhosts > 0 && cfg->cfg_nhosts == pl->pl_nhosts &&
	    (ch = xdc_config_host(cfg, vm->vm_host)) != NULL)
		return (size_t)(ch - cfg->cfg_hosts);
	for (h = 0; h < pl->pl_nhosts; h++)
		if (!strcmp(pl->pl_hosts[h].ph_name, vm->vm_host))
			break;
	return h;
}

/* Pinned VMs first: they take their hosts' room before anything else. */
static void
place_pinned(struct placer *pl)
{
	struct xdc_plan *p = pl->pl_plan;
	const struct xdc_config *cfg = p->p_cfg;
	const struct xdc_vm *vm;
	const struct phost *ph;
	size_t i, h;
	uint32_t sla;

	for (i = 0; i < cfg->cfg_nvms; i++) {
		vm = &cfg->cfg_vms[i];
		/* A lone active host takes every VM; a drained one none. */
		if (vm->vm_host == NULL &&
		    (pl->pl_nhosts != 1 || !pl->pl_hosts[0].ph_active))
			continue;
		h = pinned_host(pl, vm);
		if (h == pl->pl_nhosts)
			continue; /* the loader reported it */
		sla = spread_sla(cfg, vm);
		ph = &pl->pl_hosts[h];
		if (sla != NO_INDEX &&
		    pl->pl_spread_used[sla * pl->pl_nhosts + h] &&
		    pl->pl_nhosts > 1)
			plan_error(p, xdc_vm_loc(p->p_cfg, vm, VM_F_HOST),
			    "sla %s: spread host: VM %s is pinned to %s, which "
			    "already holds another VM of the SLA",
			    cfg->cfg_slas[sla].s_name, vm->vm_name,
			    ph->ph_name);
		take(pl, i, (uint32_t)h, pl->pl_nhosts > 1 ? sla : NO_INDEX);
	}
	over_capacity(pl);
}

/*
 * Each active host's bound: 1.25 times its share of all the memory the VMs
 * need, its share weighed by its declared memory when every active host
 * declares one, else equal. Integers only, so that every host computes the
 * same bounds whatever its floating point.
 */
static void
set_bounds(struct placer *pl)
{
	const struct xdc_config *cfg = pl->pl_plan->p_cfg;
	unsigned __int128 total = 0, weights = 0, w;
	int weighted = 1;
	size_t i;

	for (i = 0; i < cfg->cfg_nvms; i++)
		if (vm_consumes(&cfg->cfg_vms[i]))
			total += cfg->cfg_vms[i].vm_memory;
	for (i = 0; i < pl->pl_nhosts; i++)
		if (pl->pl_hosts[i].ph_active &&
		    pl->pl_hosts[i].ph_mem == UNBOUNDED)
			weighted = 0;
	for (i = 0; i < pl->pl_nhosts; i++)
		if (pl->pl_hosts[i].ph_active)
			weights += weighted ? pl->pl_hosts[i].ph_mem : 1;
	for (i = 0; i < pl->pl_nhosts; i++) {
		w = weighted ? pl->pl_hosts[i].ph_mem : 1;
		pl->pl_hosts[i].ph_bound =
		    weights > 0 ? (uint64_t)(total * w * 5 / (weights * 4)) : 0;
	}
}

/*
 * Sort the ring's points by hash, a byte at a time from the lowest (a
 * radix sort, stable): points of one hash stay in the order they were
 * made, without a comparison call per pair.
 */
static void
ring_sort(struct point *v, size_t n)
{
	struct point *tmp = xdc_malloc((n + 1) * sizeof(*tmp));
	struct point *src = v, *dst = tmp, *t;
	size_t count[256], i, sum, c;
	unsigned shift;

	for (shift = 0; shift < 64; shift += 8) {
		memset(count, 0, sizeof(count));
		for (i = 0; i < n; i++)
			count[(src[i].pt_hash >> shift) & 0xff]++;
		for (i = 0, sum = 0; i < 256; i++) {
			c = count[i];
			count[i] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			dst[count[(src[i].pt_hash >> shift) & 0xff]++] = src[i];
		t = src;
		src = dst;
		dst = t;
	}
	/* An even number of passes: the sorted points are back in v. */
	free(tmp);
}

/* The ring of the active hosts, RING_POINTS a host, sorted. */
static struct point *
ring_new(const struct placer *pl, size_t *np)
{
	struct point *ring;
	size_t i, n = 0;
	uint32_t h;

	ring = xdc_malloc((pl->pl_nhosts * RING_POINTS + 1) * sizeof(*ring));
	for (h = 0; h < pl->pl_nhosts; h++) {
		if (!pl->pl_hosts[h].ph_active)
			continue;
		for (i = 0; i < RING_POINTS; i++) {
			ring[n].pt_hash = hash_str(pl->pl_hosts[h].ph_name, i);
			ring[n].pt_host = h;
			n++;
		}
	}
	/* Made in host order: sorted by (hash, host). */
	ring_sort(ring, n);
	*np = n;
	return ring;
}

/*
 * The first host clockwise from the VM's hash with room: under the bound
 * when bounded says so and some host has room under it, else wherever it
 * fits. NO_INDEX when it fits nowhere.
 */
static uint32_t
ring_find(const struct placer *pl, const struct point *ring, size_t n,
    const struct xdc_vm *vm, uint32_t sla, int bounded)
{
	size_t lo = 0, hi = n, mid, step = 0;
	uint64_t hv = hash_str(vm->vm_name, 0x786463); /* "xdc" */
	uint32_t h;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (ring[mid].pt_hash < hv)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; bounded && step < n; step++) {
		h = ring[(lo + step) % n].pt_host;
		if (fits(pl, vm, h, sla, 1))
			return h;
	}
	for (step = 0; step < n; step++) {
		h = ring[(lo + step) % n].pt_host;
		if (fits(pl, vm, h, sla, 0))
			return h;
	}
	return NO_INDEX;
}

static void
place_ring(struct placer *pl)
{
	struct xdc_plan *p = pl->pl_plan;
	const struct xdc_config *cfg = p->p_cfg;
	struct point *ring;
	const struct xdc_vm *vm;
	size_t i, n;
	uint32_t sla, h;

	set_bounds(pl);
	ring = ring_new(pl, &n);
	for (i = 0; i < cfg->cfg_nvms; i++) {
		vm = &cfg->cfg_vms[i];
		if (pl->pl_vm_host[i] != NO_INDEX)
			continue;
		sla = spread_sla(cfg, vm);
		if ((h = ring_find(pl, ring, n, vm, sla, 1)) == NO_INDEX) {
			no_room(pl, vm, sla);
			continue;
		}
		take(pl, i, h, sla);
	}
	free(ring);
}

/*
 * Failover (SPEC §8): the VMs whose SLA says failover and whose host is
 * down -- lost and fenced, or declared failed -- go round the ring of the
 * hosts still up, in declaration order, wherever they fit; the others
 * stay placed on their host and wait for it. A function of the
 * configuration and the set of down hosts only, so that every survivor
 * computes the same. Spread gives way to running: a VM that only its
 * spread keeps off the hosts up goes where it fits. A VM that fits
 * nowhere stays on its host, waiting.
 */
static void
place_failover(struct placer *pl)
{
	struct xdc_plan *p = pl->pl_plan;
	const struct xdc_config *cfg = p->p_cfg;
	const struct xdc_vm *vm;
	const struct xdc_sla *s;
	struct point *ring;
	uint8_t *down;
	size_t i, n, ndown = 0;
	uint32_t h, from;

	down = xdc_calloc(pl->pl_nhosts + 1, 1);
	for (h = 0; h < pl->pl_nhosts; h++)
		if (p->p_hview[h] == XDC_HV_FENCED) {
			down[h] = 1;
			ndown++;
		}
	if (ndown == 0) {
		free(down);
		return;
	}
	/* What the down hosts held is gone from them; they take nothing. */
	for (h = 0; h < pl->pl_nhosts; h++)
		if (down[h])
			pl->pl_hosts[h].ph_active = 0;
	ring = ring_new(pl, &n);
	for (i = 0; i < cfg->cfg_nvms; i++) {
		vm = &cfg->cfg_vms[i];
		from = pl->pl_vm_host[i];
		if (from == NO_INDEX || !down[from])
			continue;
		s = xdc_vm_policy(cfg, vm, XDC_POL_FAILOVER);
		if (s == NULL || !s->s_failover)
			continue;
		h = ring_find(pl, ring, n, vm, spread_sla(cfg, vm), 0);
		/*
		 * Running comes before spreading: with a host down, a VM
		 * whose spread leaves it no host shares one with another of
		 * its SLA's, until its own host is back.
		 */
		if (h == NO_INDEX && spread_sla(cfg, vm) != NO_INDEX)
			h = ring_find(pl, ring, n, vm, NO_INDEX, 0);
		if (h == NO_INDEX)
			continue;
		if (vm_consumes(vm))
			pl->pl_hosts[from].ph_used -= vm->vm_memory;
		take(pl, i, h, spread_sla(cfg, vm));
		p->p_failed_from[i] = pl->pl_hosts[from].ph_name;
		p->p_nfailovers++;
	}
	free(ring);
	free(down);
}

/* SLA spread: more VMs than active hosts can never be satisfied. */
static void
check_spread(struct placer *pl)
{
	struct xdc_plan *p = pl->pl_plan;
	const struct xdc_config *cfg = p->p_cfg;
	size_t *count, i, active = 0;
	uint32_t sla;

	for (i = 0; i < pl->pl_nhosts; i++)
		active += pl->pl_hosts[i].ph_active;
	count = xdc_calloc(cfg->cfg_nslas + 1, sizeof(*count));
	for (i = 0; i < cfg->cfg_nvms; i++)
		if ((sla = spread_sla(cfg, &cfg->cfg_vms[i])) != NO_INDEX)
			count[sla]++;
	for (i = 0; i < cfg->cfg_nslas; i++)
		if (count[i] > active)
			plan_error(p,
			    xdc_sla_loc(cfg, &cfg->cfg_slas[i], SLA_F_SPREAD),
			    "sla %s: spread host needs %zu hosts for its %zu "
			    "VMs; %zu %s active",
			    cfg->cfg_slas[i].s_name, count[i], count[i], active,
			    active == 1 ? "is" : "are");
	free(count);
}

/*
 * A domain this plan does not manage that a VM placed on its host takes
 * over (adopt, or adopt_from its scope): counted once, as the VM.
 */
static int
adopted(const struct placer *pl, size_t h, const struct xdc_obs_domain *d)
{
	const struct xdc_config *cfg = pl->pl_plan->p_cfg;
	const struct xdc_vm *vm = xdc_config_vm(cfg, d->od_name);

	if (vm == NULL || d->od_stub || !vm_consumes(vm) ||
	    pl->pl_vm_host[vm - cfg->cfg_vms] != h)
		return 0;
	if (!d->od_managed)
		return vm->vm_adopt;
	return vm->vm_adopt_from != NULL &&
	       !strcmp(vm->vm_adopt_from, plan_dom_scope(d));
}

/*
 * What the observation says against the placement: on each observed host,
 * the VMs placed there and the unmanaged domains must fit its memory, and
 * no VM may have more vCPUs than the host has CPUs. Taking the VMs in name
 * order, the first that does not fit is the one named, at its declaration.
 */
/* What check_observed_fit's told[] says of a host, besides "told". */
#define FIT_OTHER     0x2 /* domains of other scopes take room there */
#define FIT_UNMANAGED 0x4 /* domains not xdc's do */

static void
check_observed_fit(struct placer *pl)
{
	struct xdc_plan *p = pl->pl_plan;
	const struct xdc_config *cfg = p->p_cfg;
	const struct xdc_obs_host **oh;
	const struct xdc_obs_domain *d;
	const struct xdc_vm *vm;
	uint64_t *need, *unmanaged, cap, taken;
	uint8_t *told;
	size_t i, h, j;

	oh = xdc_calloc(pl->pl_nhosts + 1, sizeof(*oh));
	need = xdc_calloc(pl->pl_nhosts + 1, sizeof(*need));
	unmanaged = xdc_calloc(pl->pl_nhosts + 1, sizeof(*unmanaged));
	told = xdc_calloc(pl->pl_nhosts + 1, 1);
	for (h = 0; h < pl->pl_nhosts; h++) {
		oh[h] = xdc_observed_host(p->p_obs, pl->pl_hosts[h].ph_name);
		for (j = 0; oh[h] != NULL && j < oh[h]->oh_ndomains; j++) {
			d = &oh[h]->oh_domains[j];
			/* Other scopes' domains take room like unmanaged. */
			if (plan_ours(p, d) || d->od_domid == 0 ||
			    adopted(pl, h, d))
				continue;
			unmanaged[h] += d->od_memory;
			told[h] |= d->od_managed ? FIT_OTHER : FIT_UNMANAGED;
		}
	}
	for (i = 0; i < cfg->cfg_nvms; i++) {
		vm = &cfg->cfg_vms[i];
		if ((h = pl->pl_vm_host[i]) == NO_INDEX || oh[h] == NULL)
			continue;
		if (oh[h]->oh_cpus != 0 && vm->vm_max_vcpus > oh[h]->oh_cpus)
			plan_error(p, xdc_vm_loc(p->p_cfg, vm, VM_F_NAME),
			    "VM %s has %u vCPUs; host %s has %u CPUs",
			    vm->vm_name, vm->vm_max_vcpus, oh[h]->oh_name,
			    oh[h]->oh_cpus);
		if (!vm_consumes(vm))
			continue;
		need[h] += vm->vm_memory;
		cap = oh[h]->oh_memory;
		if (cap == 0 || (told[h] & 1) || need[h] + unmanaged[h] <= cap)
			continue;
		told[h] |= 1;
		taken = need[h] - vm->vm_memory + unmanaged[h];
		plan_error(p, xdc_vm_loc(p->p_cfg, vm, VM_F_NAME),
		    "VM %s (%s) does not fit on host %s: it offers %s%s%s%s%s "
		    "(%s short)",
		    vm->vm_name, place_size_str(p, vm->vm_memory),
		    oh[h]->oh_name, place_size_str(p, cap),
		    taken ? ", and " : "",
		    taken ? place_size_str(p, taken) : "",
		    taken ? " of it go to the VMs before it" : "",
		    !unmanaged[h]                ? ""
		    : told[h] == (1 | FIT_OTHER) ? " and other scopes' domains"
		    : told[h] & FIT_OTHER ? " and unmanaged and other scopes' "
		                            "domains"
		                          : " and unmanaged domains",
		    place_size_str(p, need[h] + unmanaged[h] - cap));
	}
	free(oh);
	free(need);
	free(unmanaged);
	free(told);
}

int
place_vms(struct xdc_plan *p)
{
	const struct xdc_config *cfg = p->p_cfg;
	const struct xdc_obs_host *oh;
	struct placer pl;
	uint32_t *host_obs;
	size_t i, before = xdc_diags_count(p->p_diags);

	memset(&pl, 0, sizeof(pl));
	pl.pl_plan = p;
	if (cfg->cfg_nhosts > 0) {
		pl.pl_nhosts = cfg->cfg_nhosts;
		pl.pl_hosts = xdc_calloc(pl.pl_nhosts, sizeof(*pl.pl_hosts));
		for (i = 0; i < cfg->cfg_nhosts; i++) {
			pl.pl_hosts[i].ph_name = cfg->cfg_hosts[i].h_name;
			/* A failed host keeps its place: only its VMs
			 * with failover leave it (place_failover). */
			pl.pl_hosts[i].ph_active =
			    cfg->cfg_hosts[i].h_state != XDC_HOST_DRAINED;
			pl.pl_hosts[i].ph_mem = cfg->cfg_hosts[i].h_memory
			                            ? cfg->cfg_hosts[i].h_memory
			                            : UNBOUNDED;
			pl.pl_hosts[i].ph_cpus = cfg->cfg_hosts[i].h_cpus;
		}
	} else {
		/* One implicit host: nothing to choose, only to check. */
		pl.pl_nhosts = 1;
		pl.pl_hosts = xdc_calloc(1, sizeof(*pl.pl_hosts));
		pl.pl_hosts[0].ph_name = XDC_LOCAL_HOST;
		pl.pl_hosts[0].ph_active = 1;
		pl.pl_hosts[0].ph_mem = UNBOUNDED;
	}
	pl.pl_vm_host = xdc_malloc((cfg->cfg_nvms + 1) * sizeof(uint32_t));
	for (i = 0; i < cfg->cfg_nvms; i++)
		pl.pl_vm_host[i] = NO_INDEX;
	pl.pl_spread_used = xdc_calloc((cfg->cfg_nslas + 1) * pl.pl_nhosts, 1);

	check_spread(&pl);
	place_pinned(&pl);
	place_ring(&pl);
	if (xdc_diags_count(p->p_diags) == before) {
		place_check_failures(&pl);
		check_observed_fit(&pl);
	}
	/* How each host is seen decides what fails over. */
	p->p_nhosts = pl.pl_nhosts;
	p->p_hnames = xdc_arena_alloc(
	    p->p_arena, (pl.pl_nhosts + 1) * sizeof(*p->p_hnames));
	for (i = 0; i < pl.pl_nhosts; i++)
		p->p_hnames[i] = pl.pl_hosts[i].ph_name;
	p->p_failed_from = xdc_arena_zalloc(
	    p->p_arena, (cfg->cfg_nvms + 1) * sizeof(*p->p_failed_from));
	pool_views(p);
	if (xdc_diags_count(p->p_diags) == before)
		place_failover(&pl);

	p->p_place = xdc_arena_alloc(
	    p->p_arena, (cfg->cfg_nvms + 1) * sizeof(*p->p_place));
	p->p_place_obs = xdc_arena_alloc(
	    p->p_arena, (cfg->cfg_nvms + 1) * sizeof(*p->p_place_obs));
	p->p_place_h = xdc_arena_alloc(
	    p->p_arena, (cfg->cfg_nvms + 1) * sizeof(*p->p_place_h));
	/* Each host's index in the observed pool, looked up once. */
	host_obs = xdc_malloc((pl.pl_nhosts + 1) * sizeof(*host_obs));
	for (i = 0; i < pl.pl_nhosts; i++) {
		oh = xdc_observed_host(p->p_obs, pl.pl_hosts[i].ph_name);
		host_obs[i] = oh != NULL ? (uint32_t)(oh - p->p_obs->obs_hosts)
		                         : NO_INDEX;
	}
	for (i = 0; i < cfg->cfg_nvms; i++) {
		p->p_place[i] = pl.pl_vm_host[i] == NO_INDEX
		                    ? NULL
		                    : pl.pl_hosts[pl.pl_vm_host[i]].ph_name;
		p->p_place_h[i] = pl.pl_vm_host[i];
		p->p_place_obs[i] = pl.pl_vm_host[i] == NO_INDEX
		                        ? NO_INDEX
		                        : host_obs[pl.pl_vm_host[i]];
	}
	free(host_obs);
	free(pl.pl_hosts);
	free(pl.pl_vm_host);
	free(pl.pl_spread_used);
	return xdc_diags_count(p->p_diags) == before ? 0 : XDC_EINVALID;
}
