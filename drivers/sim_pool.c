/*
 * The sim driver's pool in memory (see sim_pool.h): hosts with their
 * capacity, domains sorted by name, networks sorted by bridge, injected
 * faults and the domain ids still to give, and how a pool is brought in
 * line with the configuration's Hosts. What observe reports copies the
 * hosts and networks, so that the pool may change while the caller keeps
 * the observation; it borrows each host's array of domains, which the
 * host copies before its next change, and their strings and arrays from
 * the pool's arena, where they are never changed once written, and which
 * the observation holds until it is freed.
 */
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/error.h"
#include "base/strtab.h"
#include "drivers/sim_pool.h"
#include "schema/model.h"

/* ---- The pool in memory ---------------------------------------------- */

/* A host's array of domains is lent to an observation as it is. */
_Static_assert(sizeof(struct sim_dom) == sizeof(struct xdc_obs_domain),
    "a struct sim_dom is a struct xdc_obs_domain");

const char *
sim_pool_strdup(struct sim_pool *p, const char *s)
{
	return s != NULL ? xdc_arena_strdup(p->p_arena, s) : NULL;
}

const char *
sim_pool_share(struct sim_pool *p, const char *s)
{
	return xdc_strtab_str(p->p_strs, s);
}

static void
store_drop(void *arg)
{
	struct sim_store *st = arg;

	if (--st->st_refs > 0)
		return;
	xdc_arena_free(st->st_arena);
	free(st);
}

struct sim_pool *
sim_pool_new(void)
{
	struct sim_pool *p = xdc_calloc(1, sizeof(*p));

	p->p_store = xdc_calloc(1, sizeof(*p->p_store));
	p->p_store->st_arena = p->p_arena = xdc_arena_new();
	p->p_store->st_refs = 1;
	p->p_strs = xdc_strtab_new(p->p_arena);
	p->p_next_domid = 1;
	return p;
}

void
sim_pool_free(struct sim_pool *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->p_nhosts; i++) {
		sim_doms_drop(p->p_hosts[i].sh_doms);
		free(p->p_hosts[i].sh_nets);
		free(p->p_hosts[i].sh_text);
	}
	free(p->p_hosts);
	free(p->p_faults);
	free(p->p_slows);
	xdc_strtab_free(p->p_strs);
	store_drop(p->p_store);
	free(p);
}

/*
 * What stands for no array at all (Domain-0's NICs and disks, a network
 * without scopes): an empty one, never NULL, as the planner reads them.
 * A domain takes them as it joins its host, so that its host's array may
 * be lent as it is.
 */
static struct xdc_obs_nic no_nics[1];
static struct xdc_disk no_disks[1];
static const char *const no_scopes[1];

static void
dom_fill(struct sim_dom *d)
{
	if (d->sd_d.od_nics == NULL)
		d->sd_d.od_nics = no_nics;
	if (d->sd_d.od_build.ob_disks == NULL)
		d->sd_d.od_build.ob_disks = no_disks;
}

struct sim_doms *
sim_doms_new(size_t n)
{
	struct sim_doms *ds;

	if (n == 0)
		n = 1;
	ds = xdc_malloc(sizeof(*ds) + n * sizeof(ds->ds_v[0]));
	ds->ds_refs = 1;
	ds->ds_cap = n;
	return ds;
}

void
sim_doms_drop(struct sim_doms *ds)
{
	if (ds != NULL && --ds->ds_refs == 0)
		free(ds);
}

static void
doms_drop(void *arg)
{
	sim_doms_drop(arg);
}

void
sim_host_take_doms(struct sim_host *h, struct sim_doms *ds, size_t n)
{
	size_t i;

	sim_doms_drop(h->sh_doms);
	h->sh_doms = ds;
	h->sh_ndoms = n;
	h->sh_used = 0;
	for (i = 0; i < n; i++) {
		dom_fill(&ds->ds_v[i]);
		if (!sim_is_dom0(&ds->ds_v[i]))
			h->sh_used += ds->ds_v[i].sd_d.od_memory;
	}
}

/*
 * The host's array its own, with room for need domains: copied when an
 * observation borrows it, grown when full.
 */
static void
doms_own(struct sim_host *h, size_t need)
{
	struct sim_doms *ds = h->sh_doms, *nds;
	size_t cap;

	if (ds != NULL && ds->ds_refs == 1 && ds->ds_cap >= need)
		return;
	cap = ds != NULL ? ds->ds_cap : 0;
	if (cap < need)
		cap = need > 2 * cap ? need : 2 * cap;
	if (cap < 4)
		cap = 4;
	nds = sim_doms_new(cap);
	if (h->sh_ndoms > 0)
		memcpy(nds->ds_v, ds->ds_v, h->sh_ndoms * sizeof(ds->ds_v[0]));
	sim_doms_drop(ds);
	h->sh_doms = nds;
}

/* The index of the domain named, or -(insertion point) - 1. */
static long
dom_index(const struct sim_host *h, const char *name)
{
	const struct sim_dom *v = sim_host_doms(h);
	size_t lo = 0, hi = h->sh_ndoms, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(name, v[mid].sd_d.od_name);
		if (c == 0)
			return (long)mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -(long)lo - 1;
}

struct sim_dom *
sim_dom_find(struct sim_host *h, const char *name)
{
	long at = dom_index(h, name);

	if (at < 0)
		return NULL;
	doms_own(h, h->sh_ndoms);
	return &h->sh_doms->ds_v[at];
}

struct sim_dom *
sim_dom_insert(struct sim_host *h, const struct sim_dom *d)
{
	long at = dom_index(h, d->sd_d.od_name);
	struct sim_dom *v;
	size_t i = (size_t)(-at - 1);

	doms_own(h, h->sh_ndoms + 1);
	v = h->sh_doms->ds_v;
	memmove(&v[i + 1], &v[i], (h->sh_ndoms - i) * sizeof(v[0]));
	v[i] = *d;
	dom_fill(&v[i]);
	h->sh_ndoms++;
	if (!sim_is_dom0(&v[i]))
		h->sh_used += v[i].sd_d.od_memory;
	return &v[i];
}

void
sim_dom_remove(struct sim_host *h, struct sim_dom *d)
{
	struct sim_dom *v = h->sh_doms->ds_v;
	size_t i = (size_t)(d - v);

	if (!sim_is_dom0(d))
		h->sh_used -= d->sd_d.od_memory;
	memmove(&v[i], &v[i + 1], (h->sh_ndoms - i - 1) * sizeof(v[0]));
	h->sh_ndoms--;
}

uint64_t
sim_host_free_memory(const struct sim_host *h)
{
	return h->sh_memory > h->sh_used ? h->sh_memory - h->sh_used : 0;
}

struct sim_host *
sim_host_find(struct sim_pool *p, const char *name)
{
	size_t lo = 0, hi = p->p_nhosts, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(name, p->p_hosts[mid].sh_name);
		if (c == 0)
			return &p->p_hosts[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

void
sim_host_add_dom0(struct sim_host *h)
{
	struct sim_dom d;

	memset(&d, 0, sizeof(d));
	d.sd_d.od_name = SIM_DOM0_NAME;
	d.sd_d.od_domid = 0;
	d.sd_d.od_state = XDC_DOM_RUNNING;
	d.sd_d.od_memory = d.sd_d.od_max_memory = SIM_DOM0_MEMORY;
	d.sd_d.od_vcpus = d.sd_d.od_max_vcpus = 1;
	d.sd_d.od_weight = SIM_WEIGHT;
	sim_dom_insert(h, &d);
}

void
sim_host_touch(struct sim_pool *p, struct sim_host *h)
{
	free(h->sh_text);
	h->sh_text = NULL;
	h->sh_textlen = 0;
	p->p_dirty = 1;
}

struct sim_host *
sim_host_add(
    struct sim_pool *p, const char *name, uint64_t memory, uint32_t cpus)
{
	struct sim_host *h;
	size_t i;

	for (i = 0; i < p->p_nhosts; i++)
		if (strcmp(name, p->p_hosts[i].sh_name) < 0)
			break;
	p->p_hosts =
	    xdc_reallocarray(p->p_hosts, p->p_nhosts + 1, sizeof(*p->p_hosts));
	memmove(&p->p_hosts[i + 1], &p->p_hosts[i],
	    (p->p_nhosts - i) * sizeof(*p->p_hosts));
	p->p_nhosts++;
	h = &p->p_hosts[i];
	memset(h, 0, sizeof(*h));
	h->sh_name = sim_pool_strdup(p, name);
	h->sh_memory = memory;
	h->sh_cpus = cpus;
	return h;
}

/* Every host of a pool has a Domain-0, with its own memory reservation. */
int
sim_host_has_dom0(const struct sim_host *h)
{
	const struct sim_dom *v = sim_host_doms(h);
	size_t i;

	for (i = 0; i < h->sh_ndoms; i++)
		if (sim_is_dom0(&v[i]))
			return 1;
	return 0;
}

long
sim_net_find(const struct sim_host *h, const char *bridge)
{
	size_t lo = 0, hi = h->sh_nnets, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(bridge, h->sh_nets[mid].on_bridge);
		if (c == 0)
			return (long)mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -(long)lo - 1;
}

struct xdc_obs_network *
sim_net_insert(struct sim_host *h, size_t at)
{
	h->sh_nets =
	    xdc_reallocarray(h->sh_nets, h->sh_nnets + 1, sizeof(*h->sh_nets));
	memmove(&h->sh_nets[at + 1], &h->sh_nets[at],
	    (h->sh_nnets - at) * sizeof(*h->sh_nets));
	h->sh_nnets++;
	memset(&h->sh_nets[at], 0, sizeof(h->sh_nets[at]));
	return &h->sh_nets[at];
}

struct sim_fault *
sim_fault_find(struct sim_pool *p, enum xdc_op op, const char *name)
{
	size_t i;

	for (i = 0; i < p->p_nfaults; i++)
		if (p->p_faults[i].sf_op == op &&
		    !strcmp(p->p_faults[i].sf_name, name))
			return &p->p_faults[i];
	return NULL;
}

void
sim_fault_remove(struct sim_pool *p, struct sim_fault *f)
{
	size_t i = (size_t)(f - p->p_faults);

	memmove(f, f + 1, (p->p_nfaults - i - 1) * sizeof(*f));
	p->p_nfaults--;
}

void
sim_fault_set(
    struct sim_pool *p, enum xdc_op op, const char *name, unsigned times)
{
	struct sim_fault *f = sim_fault_find(p, op, name);

	if (f != NULL && times == 0) {
		sim_fault_remove(p, f);
	} else if (f != NULL) {
		f->sf_times = times;
	} else if (times > 0) {
		p->p_faults = xdc_reallocarray(
		    p->p_faults, p->p_nfaults + 1, sizeof(*p->p_faults));
		f = &p->p_faults[p->p_nfaults++];
		f->sf_op = op;
		f->sf_name = sim_pool_strdup(p, name);
		f->sf_times = times;
	}
	p->p_dirty = 1;
}

static struct sim_slow *
slow_find(struct sim_pool *p, enum xdc_op op, const char *name)
{
	size_t i;

	for (i = 0; i < p->p_nslows; i++)
		if (p->p_slows[i].sl_op == op &&
		    !strcmp(p->p_slows[i].sl_name, name))
			return &p->p_slows[i];
	return NULL;
}

static void
slow_remove(struct sim_pool *p, struct sim_slow *sl)
{
	size_t i = (size_t)(sl - p->p_slows);

	memmove(sl, sl + 1, (p->p_nslows - i - 1) * sizeof(*sl));
	p->p_nslows--;
}

void
sim_slow_set(struct sim_pool *p, enum xdc_op op, const char *name, uint64_t ms,
    unsigned times)
{
	struct sim_slow *sl = slow_find(p, op, name);

	if (sl != NULL && (times == 0 || ms == 0)) {
		slow_remove(p, sl);
	} else if (sl == NULL && times > 0 && ms > 0) {
		p->p_slows = xdc_reallocarray(
		    p->p_slows, p->p_nslows + 1, sizeof(*p->p_slows));
		sl = &p->p_slows[p->p_nslows++];
		sl->sl_op = op;
		sl->sl_name = sim_pool_strdup(p, name);
	}
	if (sl != NULL && times > 0 && ms > 0) {
		sl->sl_ms = ms;
		sl->sl_times = times;
	}
	p->p_dirty = 1;
}

uint64_t
sim_slow_take(struct sim_pool *p, const struct xdc_action *a)
{
	struct sim_slow *sl;
	uint64_t ms;

	if (a->a_name == NULL || (unsigned)a->a_op >= XDC_OP__COUNT ||
	    (sl = slow_find(p, a->a_op, a->a_name)) == NULL)
		return 0;
	ms = sl->sl_ms;
	if (--sl->sl_times == 0)
		slow_remove(p, sl);
	p->p_dirty = 1;
	return ms;
}

int
sim_pool_reconcile(
    struct sim_pool *p, const struct sim_cfg_host *cfg, size_t ncfg)
{
	const struct sim_cfg_host *ch;
	struct sim_host *h;
	int changed = 0;
	size_t i;

	for (i = 0; i < ncfg; i++) {
		ch = &cfg[i];
		h = sim_host_find(p, ch->ch_name);
		if (h == NULL) {
			h = sim_host_add(p, ch->ch_name,
			    ch->ch_memory ? ch->ch_memory : SIM_HOST_MEMORY,
			    ch->ch_cpus ? ch->ch_cpus : SIM_HOST_CPUS);
			sim_host_add_dom0(h);
			changed = 1;
			continue;
		}
		if (ch->ch_memory != 0 && h->sh_memory != ch->ch_memory) {
			h->sh_memory = ch->ch_memory;
			sim_host_touch(p, h);
			changed = 1;
		}
		if (ch->ch_cpus != 0 && h->sh_cpus != ch->ch_cpus) {
			h->sh_cpus = ch->ch_cpus;
			sim_host_touch(p, h);
			changed = 1;
		}
	}
	return changed;
}

struct sim_pool *
sim_pool_default(const struct sim_cfg_host *cfg, size_t ncfg)
{
	struct sim_pool *p = sim_pool_new();
	struct sim_host *h;

	sim_pool_reconcile(p, cfg, ncfg);
	if (p->p_nhosts == 0) {
		h = sim_host_add(
		    p, XDC_LOCAL_HOST, SIM_HOST_MEMORY, SIM_HOST_CPUS);
		sim_host_add_dom0(h);
	}
	return p;
}
/* ---- What observe reports --------------------------------------------- */

struct xdc_observed *
sim_pool_observe(const struct sim_pool *p, const char *host)
{
	struct xdc_observed *obs = xdc_observed_new();
	struct xdc_arena *a = obs->obs_arena;
	const struct sim_host *h;
	struct xdc_obs_host *oh;
	size_t i, j;

	p->p_store->st_refs++;
	xdc_arena_defer(a, store_drop, p->p_store);
	obs->obs_hosts =
	    xdc_arena_zalloc(a, p->p_nhosts * sizeof(*obs->obs_hosts));
	for (i = 0; i < p->p_nhosts; i++) {
		h = &p->p_hosts[i];
		if (host != NULL && strcmp(h->sh_name, host) != 0)
			continue;
		oh = &obs->obs_hosts[obs->obs_nhosts++];
		oh->oh_name = h->sh_name;
		oh->oh_memory = h->sh_memory;
		oh->oh_free_memory = sim_host_free_memory(h);
		oh->oh_cpus = h->sh_cpus;
		/*
		 * The host's domains lent whole: a struct sim_dom is a
		 * struct xdc_obs_domain and nothing else, and the host
		 * copies the array before it changes it.
		 */
		oh->oh_ndomains = h->sh_ndoms;
		if (h->sh_doms != NULL) {
			h->sh_doms->ds_refs++;
			xdc_arena_defer(a, doms_drop, h->sh_doms);
			oh->oh_domains = &h->sh_doms->ds_v[0].sd_d;
		} else
			oh->oh_domains = xdc_arena_alloc(a, 0);
		/* The hosts' own array moves as networks come and go. */
		oh->oh_nnetworks = h->sh_nnets;
		oh->oh_networks =
		    xdc_arena_alloc(a, h->sh_nnets * sizeof(*oh->oh_networks));
		for (j = 0; j < h->sh_nnets; j++) {
			oh->oh_networks[j] = h->sh_nets[j];
			if (h->sh_nets[j].on_scopes == NULL)
				oh->oh_networks[j].on_scopes = no_scopes;
		}
	}
	return obs;
}
