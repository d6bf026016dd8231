/*
 * Scopes in the plan (SPEC §9): many configurations share one pool, each
 * applying within a scope that the ownership marker of each of its objects
 * records. A plan considers only its own scope's domains and networks; the
 * domains of other scopes are left alone like unmanaged ones (listed, with
 * their scope, and counted against capacity), and a VM declared under a
 * name another scope owns is an error naming that scope, unless the VM
 * takes the domain over with adopt_from, which rewrites the marker and
 * restarts nothing.
 *
 * A Network can be declared by several scopes: its mark lists them in the
 * order they joined. The first owns its settings; the others must declare
 * the same ones, and a scope that drops it leaves the list; the last one
 * to drop it destroys it.
 *
 * What the markers record of each scope (its last apply and its expiry)
 * is also read back here, for `xdc gc` (plan_scopes).
 */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "planner/planner.h"
#include "schema/values.h"

int
scope_expiry_stale(const struct xdc_plan *p, const struct xdc_obs_domain *d)
{
	const struct xdc_scope *sc = xdc_config_scope(p->p_cfg);
	int64_t ttl = sc != NULL ? (int64_t)sc->sc_expires.ex_ttl : 0;
	int64_t want = p->p_expires, had = d->od_expires;

	if (ttl == 0 || want == 0 || had == 0)
		return want != had;
	/*
	 * want is now + ttl, had the last stamp + the ttl then: a later
	 * stamp, a shorter ttl, or a stamp an eighth of the ttl old.
	 */
	return had > want || want - had >= (ttl + 7) / 8;
}

const char *
scope_expiry_reason(struct xdc_plan *p)
{
	const struct xdc_scope *sc = xdc_config_scope(p->p_cfg);
	char ttl[XDC_DURATION_BUFSZ];

	if (sc == NULL || p->p_expires == 0)
		return xdc_arena_printf(p->p_arena,
		    "scope %s: no expires, so its domains no longer expire",
		    p->p_scope);
	if (sc->sc_expires.ex_ttl != 0)
		return xdc_arena_printf(p->p_arena,
		    "%s (expires): scope %s expires %s after its last apply, "
		    "which this one is",
		    plan_where(p, xdc_scope_loc(p->p_cfg, sc, SCOPE_F_EXPIRES)),
		    p->p_scope, xdc_duration_fmt(sc->sc_expires.ex_ttl, ttl));
	return xdc_arena_printf(p->p_arena, "%s (expires)",
	    plan_where(p, xdc_scope_loc(p->p_cfg, sc, SCOPE_F_EXPIRES)));
}

const char *
plan_scope_of(const struct xdc_config *cfg, const struct plan_opts *opts)
{
	const struct xdc_scope *sc = xdc_config_scope(cfg);

	if (opts != NULL && opts->po_scope != NULL)
		return opts->po_scope;
	return sc != NULL ? sc->sc_name : XDC_SCOPE_DEFAULT;
}

const char *
plan_scope(const struct xdc_plan *p)
{
	return p->p_scope;
}

const char *
plan_dom_scope(const struct xdc_obs_domain *d)
{
	if (!d->od_managed)
		return NULL;
	/* A driver that predates scopes marks everything "default". */
	return d->od_scope != NULL ? d->od_scope : XDC_SCOPE_DEFAULT;
}

int
plan_ours(const struct xdc_plan *p, const struct xdc_obs_domain *d)
{
	return d->od_managed && !strcmp(plan_dom_scope(d), p->p_scope);
}

void
scope_resolve(struct xdc_plan *p)
{
	const struct xdc_scope *sc = xdc_config_scope(p->p_cfg);
	const struct xdc_expiry *ex = sc != NULL ? &sc->sc_expires : NULL;
	char when[XDC_TIME_BUFSZ];

	p->p_scope = plan_scope_of(p->p_cfg, &p->p_opts);
	p->p_expires = 0;
	if (ex == NULL)
		return;
	if (ex->ex_ttl != 0)
		p->p_expires = (int64_t)p->p_opts.po_now + (int64_t)ex->ex_ttl;
	else if (ex->ex_at != 0)
		p->p_expires = ex->ex_at;
	/*
	 * A scope past its time would be created only for `xdc gc` to take
	 * it down again: say so instead.
	 */
	if (ex->ex_ttl == 0 && ex->ex_at != 0 &&
	    ex->ex_at <= (int64_t)p->p_opts.po_now)
		plan_error(p, xdc_scope_loc(p->p_cfg, sc, SCOPE_F_EXPIRES),
		    "expires: scope %s expired at %s; nothing is applied: "
		    "set a later time, or take it down with xdc destroy "
		    "--scope %s",
		    p->p_scope, xdc_time_fmt(ex->ex_at, when), p->p_scope);
}

/* ---- Domains of other scopes ------------------------------------------ */

static void
list_foreign(struct xdc_plan *p, uint32_t host, const struct xdc_obs_domain *d)
{
	struct unmanaged *um;

	p->p_unmanaged = xdc_reallocarray(
	    p->p_unmanaged, p->p_nunmanaged + 1, sizeof(*p->p_unmanaged));
	um = &p->p_unmanaged[p->p_nunmanaged++];
	um->um_dom = d;
	um->um_host = p->p_obs->obs_hosts[host].oh_name;
	um->um_scope = plan_dom_scope(d);
}

uint32_t
scope_foreign(struct xdc_plan *p, uint32_t host, const struct xdc_obs_domain *d)
{
	const struct xdc_config *cfg = p->p_cfg;
	const char *hname = p->p_obs->obs_hosts[host].oh_name;
	const char *owner = plan_dom_scope(d), *placed;
	const struct xdc_vm *vm = xdc_config_vm(cfg, d->od_name);
	size_t vmi;

	if (vm == NULL) {
		list_foreign(p, host, d);
		return NO_INDEX;
	}
	vmi = (size_t)(vm - cfg->cfg_vms);
	placed = p->p_place[vmi] != NULL ? p->p_place[vmi] : "none";
	if (vm->vm_adopt_from != NULL && !strcmp(vm->vm_adopt_from, owner)) {
		if (p->p_place_obs[vmi] == host && !d->od_stub)
			return (uint32_t)vmi;
		list_foreign(p, host, d);
		plan_error(p, xdc_vm_loc(cfg, vm, VM_F_ADOPT_FROM),
		    "VM %s: adopt_from: the domain of scope %s runs on host "
		    "%s, and this VM is placed on %s; pin it with host: %s "
		    "to take it over without a restart",
		    vm->vm_name, owner, hname, placed, hname);
		return NO_INDEX;
	}
	list_foreign(p, host, d);
	if (vm->vm_adopt_from != NULL)
		plan_error(p, xdc_vm_loc(cfg, vm, VM_F_ADOPT_FROM),
		    "VM %s: adopt_from: %s, but the domain of that name (id "
		    "%u on host %s) belongs to scope %s",
		    vm->vm_name, vm->vm_adopt_from, d->od_domid, hname, owner);
	else
		plan_error(p, xdc_vm_loc(cfg, vm, VM_F_NAME),
		    "VM %s: scope %s owns a domain of that name (id %u on "
		    "host %s), and this plan is scope %s; rename the VM, or "
		    "hand the domain over without a restart: add "
		    "\"adopt_from: %s\" to this VM, apply, then remove it "
		    "from scope %s's configuration",
		    vm->vm_name, owner, d->od_domid, hname, p->p_scope, owner,
		    owner);
	return NO_INDEX;
}

/* ---- Networks shared by scopes ---------------------------------------- */

static const char *const default_scopes[] = { XDC_SCOPE_DEFAULT };

/* The list of an observed network; a mark older than scopes is default's. */
static const char *const *
net_scopes(const struct xdc_obs_network *on, size_t *n)
{
	if (on->on_nscopes == 0) {
		*n = 1;
		return default_scopes;
	}
	*n = on->on_nscopes;
	return on->on_scopes;
}

int
scope_net_member(const struct xdc_obs_network *on, const char *scope)
{
	const char *const *v;
	size_t i, n;

	v = net_scopes(on, &n);
	for (i = 0; i < n; i++)
		if (!strcmp(v[i], scope))
			return 1;
	return 0;
}

const char *
scope_net_owner(const struct xdc_obs_network *on)
{
	size_t n;

	return net_scopes(on, &n)[0];
}

void
scope_net_join(
    struct xdc_plan *p, const struct xdc_obs_network *on, struct paction *a)
{
	const char *const *v;
	const char **w;
	size_t i, n;

	v = net_scopes(on, &n);
	w = xdc_arena_alloc(p->p_arena, (n + 1) * sizeof(*w));
	for (i = 0; i < n; i++)
		w[i] = v[i];
	if (!scope_net_member(on, p->p_scope))
		w[n++] = p->p_scope;
	a->pa.a_scopes = w;
	a->pa.a_nscopes = n;
}

void
scope_net_leave(
    struct xdc_plan *p, const struct xdc_obs_network *on, struct paction *a)
{
	const char *const *v;
	const char **w;
	size_t i, n, m = 0;

	v = net_scopes(on, &n);
	w = xdc_arena_alloc(p->p_arena, (n + 1) * sizeof(*w));
	for (i = 0; i < n; i++)
		if (strcmp(v[i], p->p_scope) != 0)
			w[m++] = v[i];
	a->pa.a_scopes = w;
	a->pa.a_nscopes = m;
}

/* ---- What the markers say of each scope (xdc gc) ----------------------- */

static int
state_cmp(const void *a, const void *b)
{
	return strcmp(((const struct xdc_scope_state *)a)->ss_name,
	    ((const struct xdc_scope_state *)b)->ss_name);
}

int
plan_scopes(
    const struct xdc_observed *obs, struct xdc_scope_state **out, size_t *nout)
{
	const struct xdc_obs_domain *d;
	struct xdc_scope_state *v = NULL, *s;
	const char *name;
	size_t h, i, j, n = 0;

	for (h = 0; h < obs->obs_nhosts; h++) {
		for (i = 0; i < obs->obs_hosts[h].oh_ndomains; i++) {
			d = &obs->obs_hosts[h].oh_domains[i];
			if (d->od_domid == 0 || d->od_stub ||
			    (name = plan_dom_scope(d)) == NULL)
				continue;
			for (j = 0; j < n; j++)
				if (!strcmp(v[j].ss_name, name))
					break;
			if (j == n) {
				v = xdc_reallocarray(v, n + 1, sizeof(*v));
				memset(&v[n], 0, sizeof(v[n]));
				v[n++].ss_name = name;
			}
			s = &v[j];
			/*
			 * The latest apply speaks for the scope; of the
			 * records of one apply, the latest expiry (or none).
			 */
			if (s->ss_domains++ == 0 ||
			    d->od_applied > s->ss_applied) {
				s->ss_applied = d->od_applied;
				s->ss_expires = d->od_expires;
			} else if (d->od_applied == s->ss_applied &&
			           s->ss_expires != 0 &&
			           (d->od_expires == 0 ||
			               d->od_expires > s->ss_expires)) {
				s->ss_expires = d->od_expires;
			}
		}
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), state_cmp);
	*out = v;
	*nout = n;
	return 0;
}

int
plan_scope_expired(const struct xdc_scope_state *s, time_t now)
{
	return s->ss_expires != 0 && s->ss_expires <= (int64_t)now;
}
