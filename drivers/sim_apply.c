/*
 * What happens to the sim driver's pool (see sim_pool.h): an action
 * applied the way Xen would take it, and the disturbances tests inject.
 * Capacity is enforced (memory and CPUs), domain ids are never reused (a
 * restart builds the domain again, with a new one), a crashed domain keeps
 * its memory until it is destroyed, and Domain-0 or a domain without xdc's
 * ownership marker is never touched. Each action is checked whole before
 * it changes anything, so a failed one changes nothing but the count of
 * the fault that failed it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/error.h"
#include "drivers/sim_pool.h"
#include "schema/model.h"
#include "schema/values.h"

/* ---- Apply: VMs ------------------------------------------------------ */

/* Whether a VM fits the host once freed bytes are given back. */
static int
vm_fits(const struct sim_host *h, const char *name, const struct xdc_vm *vm,
    uint64_t freed, const char *verb)
{
	char need[XDC_SIZE_BUFSZ], avail[XDC_SIZE_BUFSZ];
	uint64_t free_mem = sim_host_free_memory(h) + freed;

	if (vm->vm_memory > free_mem)
		return xdc_error(XDC_EDRIVER,
		    "host %s: cannot %s %s: it needs "
		    "%s of memory and %s is free",
		    h->sh_name, verb, name, xdc_size_fmt(vm->vm_memory, need),
		    xdc_size_fmt(free_mem, avail));
	if (vm->vm_max_vcpus > h->sh_cpus || vm->vm_vcpus > h->sh_cpus)
		return xdc_error(XDC_EDRIVER,
		    "host %s: cannot %s %s: it has "
		    "%u vCPUs, the host has %u CPUs",
		    h->sh_name, verb, name,
		    vm->vm_max_vcpus > vm->vm_vcpus ? vm->vm_max_vcpus
		                                    : vm->vm_vcpus,
		    h->sh_cpus);
	return 0;
}

/* The action's spec, checked enough that building from it cannot fail. */
static int
spec_check(const struct xdc_action *a, const char *name)
{
	const struct xdc_dom_spec *sp = a->a_spec;
	size_t i;

	if (sp == NULL || sp->ds_vm == NULL)
		return xdc_error(XDC_EDRIVER, "%s %s: the action has no spec",
		    xdc_op_name(a->a_op), name);
	for (i = 0; i < sp->ds_vm->vm_nnics; i++)
		if (sp->ds_bridges == NULL || sp->ds_bridges[i] == NULL)
			return xdc_error(XDC_EDRIVER,
			    "%s %s: NIC %zu has no "
			    "bridge",
			    xdc_op_name(a->a_op), name, i);
	return 0;
}

static void
dom_set_nics(struct sim_pool *p, struct xdc_obs_domain *od,
    const struct xdc_dom_spec *sp)
{
	const struct xdc_vm *vm = sp->ds_vm;
	size_t i;

	od->od_nnics = vm->vm_nnics;
	od->od_nics =
	    xdc_arena_zalloc(p->p_arena, vm->vm_nnics * sizeof(*od->od_nics));
	for (i = 0; i < vm->vm_nnics; i++) {
		od->od_nics[i].on_bridge = sim_pool_share(p, sp->ds_bridges[i]);
		memcpy(od->od_nics[i].on_mac, vm->vm_nics[i].nic_mac, 6);
	}
}

/* The marker's ownership part: hash, protect, scope and its times. */
static void
dom_mark(struct sim_pool *p, struct xdc_obs_domain *od,
    const struct xdc_dom_spec *sp)
{
	od->od_protect = sp->ds_protect != 0;
	od->od_hash = sp->ds_hash;
	od->od_scope = sim_pool_share(
	    p, sp->ds_scope != NULL ? sp->ds_scope : XDC_SCOPE_DEFAULT);
	od->od_applied = sp->ds_applied;
	od->od_expires = sp->ds_expires;
}

/*
 * Mark a domain xdc's, as built from the spec: the ownership marker (hash,
 * protect, scope) and the build record, which a create knows and an
 * adoption takes from the declaration.
 */
static void
dom_own(struct sim_pool *p, struct xdc_obs_domain *od,
    const struct xdc_dom_spec *sp)
{
	struct xdc_obs_build *b = &od->od_build;
	const struct xdc_vm *vm = sp->ds_vm;
	size_t i;

	od->od_managed = 1;
	dom_mark(p, od, sp);
	od->od_has_build = 1;
	b->ob_type = vm->vm_type;
	b->ob_kernel = sim_pool_share(p, vm->vm_kernel);
	b->ob_ramdisk = sim_pool_share(p, vm->vm_ramdisk);
	b->ob_cmdline = sim_pool_share(p, vm->vm_cmdline);
	b->ob_ndisks = vm->vm_ndisks;
	b->ob_disks =
	    xdc_arena_zalloc(p->p_arena, vm->vm_ndisks * sizeof(*b->ob_disks));
	for (i = 0; i < vm->vm_ndisks; i++) {
		b->ob_disks[i].d_target =
		    sim_pool_strdup(p, vm->vm_disks[i].d_target);
		b->ob_disks[i].d_vdev =
		    sim_pool_share(p, vm->vm_disks[i].d_vdev);
		b->ob_disks[i].d_format = vm->vm_disks[i].d_format;
		b->ob_disks[i].d_readonly = vm->vm_disks[i].d_readonly;
	}
}

/* A new managed domain built from a spec that spec_check accepted. */
static struct sim_dom *
dom_build(struct sim_pool *p, const char *name, const struct xdc_dom_spec *sp,
    struct sim_dom *d)
{
	struct xdc_obs_domain *od = &d->sd_d;
	const struct xdc_vm *vm = sp->ds_vm;

	memset(d, 0, sizeof(*d));
	od->od_name = sim_pool_strdup(p, name);
	od->od_domid = p->p_next_domid++;
	od->od_state =
	    vm->vm_state == XDC_VM_PAUSED ? XDC_DOM_PAUSED : XDC_DOM_RUNNING;
	od->od_memory = vm->vm_memory;
	od->od_max_memory = vm->vm_max_memory > vm->vm_memory
	                        ? vm->vm_max_memory
	                        : vm->vm_memory;
	od->od_vcpus = vm->vm_vcpus;
	od->od_max_vcpus =
	    vm->vm_max_vcpus > vm->vm_vcpus ? vm->vm_max_vcpus : vm->vm_vcpus;
	od->od_weight = sp->ds_weight ? sp->ds_weight : SIM_WEIGHT;
	od->od_cap = sp->ds_cap;
	dom_set_nics(p, od, sp);
	dom_own(p, od, sp);
	return d;
}

/* xdc changes only what it owns, and never Domain-0 (SPEC §3). */
static int
dom_check_owned(
    const struct sim_host *h, const struct sim_dom *d, enum xdc_op op)
{
	if (sim_is_dom0(d))
		return xdc_error(XDC_EDRIVER,
		    "host %s: refusing to %s "
		    "Domain-0",
		    h->sh_name, xdc_op_name(op));
	if (!d->sd_d.od_managed)
		return xdc_error(XDC_EDRIVER,
		    "host %s: refusing to %s %s: "
		    "xdc does not manage it",
		    h->sh_name, xdc_op_name(op), d->sd_d.od_name);
	return 0;
}

static int
vm_create(struct sim_pool *p, struct sim_host *h, const struct xdc_action *a,
    const char *name)
{
	const struct xdc_dom_spec *sp = a->a_spec;
	struct sim_dom *d, nd;
	int rc;

	if ((rc = spec_check(a, name)))
		return rc;
	if ((d = sim_dom_find(h, name)) != NULL) {
		/* The same create again (a retried apply): already done. */
		if (d->sd_d.od_managed && !sim_is_dom0(d) &&
		    d->sd_d.od_hash == sp->ds_hash)
			return 0;
		return xdc_error(XDC_EDRIVER,
		    "host %s: cannot create %s: a "
		    "domain of that name exists (%s)",
		    h->sh_name, name,
		    d->sd_d.od_managed ? "with a different spec"
		                       : "not managed by xdc");
	}
	if ((rc = vm_fits(h, name, sp->ds_vm, 0, "create")))
		return rc;
	sim_dom_insert(h, dom_build(p, name, sp, &nd));
	sim_host_touch(p, h);
	return 0;
}

static int
vm_replace(struct sim_pool *p, struct sim_host *h, const struct xdc_action *a,
    const char *name)
{
	struct sim_dom *old, nd;
	int rc;

	if ((rc = spec_check(a, name)))
		return rc;
	old = sim_dom_find(h, name);
	if (old != NULL && (rc = dom_check_owned(h, old, a->a_op)))
		return rc;
	/* The old domain's memory is free again once it is destroyed. */
	if ((rc = vm_fits(h, name, a->a_spec->ds_vm,
	         old != NULL ? old->sd_d.od_memory : 0, "replace")))
		return rc;
	if (old != NULL)
		sim_dom_remove(h, old);
	sim_dom_insert(h, dom_build(p, name, a->a_spec, &nd));
	sim_host_touch(p, h);
	return 0;
}

static int
vm_update(struct sim_pool *p, struct sim_host *h, struct sim_dom *d,
    const struct xdc_action *a)
{
	struct xdc_obs_domain *od = &d->sd_d;
	const struct xdc_vm *vm;
	char b1[XDC_SIZE_BUFSZ], b2[XDC_SIZE_BUFSZ];
	int rc;

	if ((rc = spec_check(a, od->od_name)))
		return rc;
	vm = a->a_spec->ds_vm;
	/* Check everything first: a failed update changes nothing. */
	if (a->a_update & XDC_UPD_MEMORY) {
		if (vm->vm_memory > od->od_max_memory)
			return xdc_error(XDC_EDRIVER,
			    "host %s: cannot set %s's memory to %s: above its "
			    "max_memory %s",
			    h->sh_name, od->od_name,
			    xdc_size_fmt(vm->vm_memory, b1),
			    xdc_size_fmt(od->od_max_memory, b2));
		if (vm->vm_memory > od->od_memory &&
		    vm->vm_memory - od->od_memory > sim_host_free_memory(h))
			return xdc_error(XDC_EDRIVER,
			    "host %s: cannot grow %s "
			    "to %s: %s is free",
			    h->sh_name, od->od_name,
			    xdc_size_fmt(vm->vm_memory, b1),
			    xdc_size_fmt(sim_host_free_memory(h), b2));
	}
	if ((a->a_update & XDC_UPD_VCPUS) && vm->vm_vcpus > od->od_max_vcpus)
		return xdc_error(XDC_EDRIVER,
		    "host %s: cannot set %s's vcpus "
		    "to %u: above its max_vcpus %u",
		    h->sh_name, od->od_name, vm->vm_vcpus, od->od_max_vcpus);

	if (a->a_update & XDC_UPD_MEMORY) {
		h->sh_used = h->sh_used - od->od_memory + vm->vm_memory;
		od->od_memory = vm->vm_memory;
	}
	if (a->a_update & XDC_UPD_VCPUS)
		od->od_vcpus = vm->vm_vcpus;
	if (a->a_update & XDC_UPD_SCHED) {
		od->od_weight =
		    a->a_spec->ds_weight ? a->a_spec->ds_weight : SIM_WEIGHT;
		od->od_cap = a->a_spec->ds_cap;
	}
	if (a->a_update & XDC_UPD_NICS)
		dom_set_nics(p, od, a->a_spec);
	if (a->a_update & XDC_UPD_MARKER)
		dom_mark(p, od, a->a_spec);
	if (a->a_update & XDC_UPD_ADOPT)
		dom_own(p, od, a->a_spec);
	sim_host_touch(p, h);
	return 0;
}

/*
 * Whether an adoption may take the domain: never Domain-0; one that is
 * xdc's already may be adopted again only by the same spec (a retried
 * apply), not taken from the VM it was built for.
 */
static int
dom_check_adoptable(const struct sim_host *h, const struct sim_dom *d,
    const struct xdc_action *a)
{
	if (sim_is_dom0(d))
		return xdc_error(XDC_EDRIVER,
		    "host %s: refusing to adopt Domain-0", h->sh_name);
	if (d->sd_d.od_managed && d->sd_d.od_hash != a->a_spec->ds_hash)
		return xdc_error(XDC_EDRIVER,
		    "host %s: cannot adopt %s: xdc manages it already, with "
		    "a different spec",
		    h->sh_name, d->sd_d.od_name);
	return 0;
}

/* Change a domain's run state, like xl start/shutdown/pause/... would. */
static int
vm_lifecycle(
    struct sim_pool *p, struct sim_host *h, struct sim_dom *d, enum xdc_op op)
{
	struct xdc_obs_domain *od = &d->sd_d;
	enum xdc_dom_state st = od->od_state;

	switch (op) {
	case XDC_OP_START:
		if (st == XDC_DOM_RUNNING || st == XDC_DOM_PAUSED)
			return 0;
		/* FALLTHROUGH */
	case XDC_OP_RESTART:
		/* Xen builds the domain again: a new domid. */
		od->od_domid = p->p_next_domid++;
		od->od_state = XDC_DOM_RUNNING;
		break;
	case XDC_OP_STOP:
		/* A graceful shutdown, then the domain is destroyed. */
		sim_dom_remove(h, d);
		break;
	case XDC_OP_PAUSE:
	case XDC_OP_UNPAUSE:
		if (st ==
		    (op == XDC_OP_PAUSE ? XDC_DOM_PAUSED : XDC_DOM_RUNNING))
			return 0;
		if (st != XDC_DOM_RUNNING && st != XDC_DOM_PAUSED)
			return xdc_error(XDC_EDRIVER,
			    "host %s: cannot %s %s: "
			    "it is %s",
			    h->sh_name, xdc_op_name(op), od->od_name,
			    xdc_dom_state_name(st));
		od->od_state =
		    op == XDC_OP_PAUSE ? XDC_DOM_PAUSED : XDC_DOM_RUNNING;
		break;
	default:
		return xdc_error(XDC_EDRIVER, "sim: unknown operation %d", op);
	}
	sim_host_touch(p, h);
	return 0;
}

/*
 * A live migration, as Xen does it: the running domain leaves host h for
 * the host a_to_host, where it runs on with a new domain id and the same
 * marker, once its memory fits there. The sim moves domains between the
 * hosts of its own pool file only; a destination it does not hold is
 * refused, and a sim whose file holds one host of several (per-host pool
 * files) must not claim XDC_DRV_MIGRATE.
 */
static int
vm_migrate(struct sim_pool *p, struct sim_host *h, struct sim_dom *d,
    const struct xdc_action *a)
{
	struct xdc_obs_domain *od = &d->sd_d;
	char need[XDC_SIZE_BUFSZ], avail[XDC_SIZE_BUFSZ];
	struct sim_host *to;
	struct sim_dom nd;

	if (a->a_to_host == NULL ||
	    (to = sim_host_find(p, a->a_to_host)) == NULL)
		return xdc_error(XDC_EDRIVER,
		    "host %s: cannot migrate %s to host %s: it is not in "
		    "this pool file",
		    h->sh_name, od->od_name,
		    a->a_to_host ? a->a_to_host : "(none)");
	if (to == h)
		return xdc_error(XDC_EDRIVER,
		    "host %s: cannot migrate %s: it is on that host already",
		    h->sh_name, od->od_name);
	if (od->od_state != XDC_DOM_RUNNING)
		return xdc_error(XDC_EDRIVER,
		    "host %s: cannot migrate %s: it is %s", h->sh_name,
		    od->od_name, xdc_dom_state_name(od->od_state));
	if (sim_dom_find(to, od->od_name) != NULL)
		return xdc_error(XDC_EDRIVER,
		    "host %s: cannot migrate %s: host %s has a domain of that "
		    "name",
		    h->sh_name, od->od_name, to->sh_name);
	if (od->od_memory > sim_host_free_memory(to))
		return xdc_error(XDC_EDRIVER,
		    "host %s: cannot migrate %s to host %s: it needs %s of "
		    "memory and %s is free there",
		    h->sh_name, od->od_name, to->sh_name,
		    xdc_size_fmt(od->od_memory, need),
		    xdc_size_fmt(sim_host_free_memory(to), avail));
	if (od->od_max_vcpus > to->sh_cpus)
		return xdc_error(XDC_EDRIVER,
		    "host %s: cannot migrate %s to host %s: it has %u vCPUs, "
		    "the host has %u CPUs",
		    h->sh_name, od->od_name, to->sh_name, od->od_max_vcpus,
		    to->sh_cpus);
	nd = *d;
	nd.sd_d.od_domid = p->p_next_domid++;
	sim_dom_remove(h, d);
	sim_dom_insert(to, &nd);
	sim_host_touch(p, h);
	sim_host_touch(p, to);
	return 0;
}

static int
apply_vm(struct sim_pool *p, struct sim_host *h, const struct xdc_action *a)
{
	const char *name = a->a_name;
	struct sim_host *to;
	struct sim_dom *d;
	int rc;

	if (name == NULL && a->a_spec != NULL && a->a_spec->ds_vm != NULL)
		name = a->a_spec->ds_vm->vm_name;
	if (name == NULL)
		return xdc_error(XDC_EDRIVER, "%s: the action names no VM",
		    xdc_op_name(a->a_op));
	if (a->a_op == XDC_OP_CREATE)
		return vm_create(p, h, a, name);
	if (a->a_op == XDC_OP_REPLACE)
		return vm_replace(p, h, a, name);
	d = sim_dom_find(h, name);
	if (d == NULL) {
		/* Gone already is what destroy and stop want. */
		if (a->a_op == XDC_OP_DESTROY || a->a_op == XDC_OP_STOP)
			return 0;
		/* A retried migrate finds its domain moved. */
		if (a->a_op == XDC_OP_MIGRATE && a->a_to_host != NULL &&
		    (to = sim_host_find(p, a->a_to_host)) != NULL &&
		    (d = sim_dom_find(to, name)) != NULL && d->sd_d.od_managed)
			return 0;
		return xdc_error(XDC_ENOTFOUND,
		    "host %s: cannot %s %s: no "
		    "such domain",
		    h->sh_name, xdc_op_name(a->a_op), name);
	}
	if (a->a_op == XDC_OP_UPDATE && (a->a_update & XDC_UPD_ADOPT)) {
		if ((rc = spec_check(a, name)) ||
		    (rc = dom_check_adoptable(h, d, a)))
			return rc;
		return vm_update(p, h, d, a);
	}
	if ((rc = dom_check_owned(h, d, a->a_op)))
		return rc;
	switch (a->a_op) {
	case XDC_OP_DESTROY:
		sim_dom_remove(h, d);
		sim_host_touch(p, h);
		return 0;
	case XDC_OP_UPDATE:
		return vm_update(p, h, d, a);
	case XDC_OP_MIGRATE:
		return vm_migrate(p, h, d, a);
	default:
		return vm_lifecycle(p, h, d, a->a_op);
	}
}

/* ---- Apply: networks ------------------------------------------------- */

static void
net_set(struct sim_pool *p, struct xdc_obs_network *n,
    const struct xdc_network *decl, unsigned what)
{
	if (what & XDC_UPD_MTU)
		n->on_mtu = decl->n_mtu ? decl->n_mtu : SIM_MTU;
	if (what & XDC_UPD_UPLINK) {
		n->on_uplink = sim_pool_share(p, decl->n_uplink);
		n->on_vlan = decl->n_vlan;
	}
}

/*
 * The scopes that declare a network, as the action leaves them: a create
 * without a list (an action made before scopes) is the default scope's,
 * an update without one keeps what the network has.
 */
static void
net_set_scopes(
    struct sim_pool *p, struct xdc_obs_network *n, const struct xdc_action *a)
{
	const char **w;
	size_t i;

	if (a->a_nscopes == 0) {
		if (n->on_nscopes == 0) {
			w = xdc_arena_alloc(p->p_arena, sizeof(*w));
			w[0] = XDC_SCOPE_DEFAULT;
			n->on_scopes = w;
			n->on_nscopes = 1;
		}
		return;
	}
	w = xdc_arena_alloc(p->p_arena, a->a_nscopes * sizeof(*w));
	for (i = 0; i < a->a_nscopes; i++)
		w[i] = sim_pool_share(p, a->a_scopes[i]);
	n->on_scopes = w;
	n->on_nscopes = a->a_nscopes;
}

static int
apply_net(struct sim_pool *p, struct sim_host *h, const struct xdc_action *a)
{
	const struct xdc_network *decl = a->a_net;
	const char *bridge = a->a_bridge;
	struct xdc_obs_network *n = NULL;
	unsigned what;
	long at;
	size_t i;

	if (bridge == NULL && decl != NULL)
		bridge = decl->n_bridge;
	/* A destroy may name the network only: find its bridge. */
	for (i = 0; bridge == NULL && a->a_name != NULL && i < h->sh_nnets; i++)
		if (h->sh_nets[i].on_name != NULL &&
		    !strcmp(h->sh_nets[i].on_name, a->a_name))
			bridge = h->sh_nets[i].on_bridge;
	if (bridge == NULL && a->a_op == XDC_OP_DESTROY)
		return 0;
	if (bridge == NULL)
		return xdc_error(XDC_EDRIVER, "%s network %s: no bridge given",
		    xdc_op_name(a->a_op), a->a_name ? a->a_name : "?");
	at = sim_net_find(h, bridge);
	if (at >= 0) {
		n = &h->sh_nets[at];
		if (!n->on_managed)
			return xdc_error(XDC_EDRIVER,
			    "host %s: refusing to %s "
			    "bridge %s: xdc does not "
			    "manage it",
			    h->sh_name, xdc_op_name(a->a_op), bridge);
	}
	/* A scope leaving a network others still declare: the list only. */
	if (a->a_op == XDC_OP_UPDATE && decl == NULL &&
	    a->a_update == XDC_UPD_SCOPES) {
		if (n == NULL)
			return xdc_error(XDC_ENOTFOUND,
			    "host %s: cannot update bridge %s: no such bridge",
			    h->sh_name, bridge);
		net_set_scopes(p, n, a);
		sim_host_touch(p, h);
		return 0;
	}
	switch (a->a_op) {
	case XDC_OP_CREATE:
	case XDC_OP_UPDATE:
		if (decl == NULL)
			return xdc_error(XDC_EDRIVER,
			    "%s network %s: the "
			    "action has no network",
			    xdc_op_name(a->a_op), bridge);
		if (n == NULL && a->a_op == XDC_OP_UPDATE)
			return xdc_error(XDC_ENOTFOUND,
			    "host %s: cannot update bridge %s: no such bridge",
			    h->sh_name, bridge);
		what = XDC_UPD_MTU | XDC_UPD_UPLINK;
		/* A scope joining changes the list, not the owner's settings.
		 */
		if (a->a_op == XDC_OP_UPDATE &&
		    (a->a_update &
		        (XDC_UPD_MTU | XDC_UPD_UPLINK | XDC_UPD_SCOPES)))
			what = a->a_update & (XDC_UPD_MTU | XDC_UPD_UPLINK);
		if (n == NULL) {
			/* A retried create finds its bridge and updates it. */
			n = sim_net_insert(h, (size_t)(-at - 1));
			n->on_bridge = sim_pool_share(p, bridge);
			n->on_up = 1;
			n->on_managed = 1;
		}
		n->on_name = sim_pool_share(p, decl->n_name);
		net_set(p, n, decl, what);
		net_set_scopes(p, n, a);
		/* A declared Network is up, as the net driver leaves it. */
		n->on_up = 1;
		break;
	case XDC_OP_DESTROY:
		if (n == NULL)
			return 0;
		memmove(n, n + 1, (h->sh_nnets - (size_t)at - 1) * sizeof(*n));
		h->sh_nnets--;
		break;
	default:
		return xdc_error(
		    XDC_EDRIVER, "cannot %s a Network", xdc_op_name(a->a_op));
	}
	sim_host_touch(p, h);
	return 0;
}

/* ---- Apply ----------------------------------------------------------- */

/* An injected fault for this action fails it, once per time injected. */
static int
fault_take(struct sim_pool *p, const struct xdc_action *a)
{
	struct sim_fault *f;

	if (a->a_name == NULL ||
	    (f = sim_fault_find(p, a->a_op, a->a_name)) == NULL)
		return 0;
	if (--f->sf_times == 0)
		sim_fault_remove(p, f);
	p->p_dirty = 1;
	return xdc_error(XDC_EDRIVER, "injected fault: %s %s",
	    xdc_op_name(a->a_op), a->a_name);
}

static int
host_of(struct sim_pool *p, const struct xdc_action *a, struct sim_host **out)
{
	*out = NULL;
	if (a->a_host == NULL && p->p_nhosts == 1)
		*out = &p->p_hosts[0];
	else if (a->a_host == NULL)
		return xdc_error(XDC_EDRIVER, "%s %s: the action names no host",
		    xdc_op_name(a->a_op), a->a_name ? a->a_name : "?");
	else if ((*out = sim_host_find(p, a->a_host)) == NULL)
		return xdc_error(
		    XDC_ENOTFOUND, "no host named %s in the pool", a->a_host);
	return 0;
}

int
sim_pool_apply(struct sim_pool *p, const struct xdc_action *a)
{
	struct sim_host *h;
	int rc;

	if ((unsigned)a->a_op >= XDC_OP__COUNT)
		return xdc_error(
		    XDC_EDRIVER, "sim: unknown operation %d", a->a_op);
	if ((rc = fault_take(p, a)) || (rc = host_of(p, a, &h)))
		return rc;
	if (a->a_kind == XDC_OBJ_NETWORK)
		return apply_net(p, h, a);
	return apply_vm(p, h, a);
}

/* ---- Disturbances ---------------------------------------------------- */

int
sim_pool_crash(struct sim_pool *p, const char *name)
{
	struct sim_host *h = NULL;
	struct sim_dom *d = NULL;
	size_t i;

	for (i = 0; d == NULL && i < p->p_nhosts; i++)
		d = sim_dom_find(h = &p->p_hosts[i], name);
	if (d == NULL)
		return xdc_error(
		    XDC_ENOTFOUND, "no domain named %s in the pool", name);
	if (sim_is_dom0(d))
		return xdc_error(XDC_ERR, "Domain-0 cannot crash: it is the "
		                          "host");
	if (d->sd_d.od_state != XDC_DOM_CRASHED) {
		d->sd_d.od_state = XDC_DOM_CRASHED;
		sim_host_touch(p, h);
	}
	return 0;
}

int
sim_pool_add_unmanaged(
    struct sim_pool *p, const char *name, uint64_t memory, const char *host)
{
	char need[XDC_SIZE_BUFSZ], avail[XDC_SIZE_BUFSZ];
	struct sim_host *h;
	struct sim_dom d;

	h = host == NULL ? &p->p_hosts[0] : sim_host_find(p, host);
	if (h == NULL)
		return xdc_error(
		    XDC_ENOTFOUND, "no host named %s in the pool", host);
	if (sim_dom_find(h, name) != NULL)
		return xdc_error(XDC_ERR, "host %s: a domain named %s exists",
		    h->sh_name, name);
	if (memory > sim_host_free_memory(h))
		return xdc_error(XDC_EDRIVER,
		    "host %s: cannot start %s: it "
		    "needs %s of memory and %s is free",
		    h->sh_name, name, xdc_size_fmt(memory, need),
		    xdc_size_fmt(sim_host_free_memory(h), avail));
	memset(&d, 0, sizeof(d));
	d.sd_d.od_name = sim_pool_strdup(p, name);
	d.sd_d.od_domid = p->p_next_domid++;
	d.sd_d.od_state = XDC_DOM_RUNNING;
	d.sd_d.od_memory = d.sd_d.od_max_memory = memory;
	d.sd_d.od_vcpus = d.sd_d.od_max_vcpus = 1;
	d.sd_d.od_weight = SIM_WEIGHT;
	sim_dom_insert(h, &d);
	sim_host_touch(p, h);
	return 0;
}

/*
 * A host boots again, empty: every domain but Domain-0 goes, its memory
 * with it. Returns the names of those that went, as sim_pool_power_off
 * gives them, when gone is not NULL.
 */
static void
host_boot(struct sim_pool *p, struct sim_host *h, char ***gone)
{
	const struct sim_dom *v = sim_host_doms(h);
	size_t i, n = 0, len = 0, nv = h->sh_ndoms;
	struct sim_dom *d;
	char **names, *at;

	for (i = 0; i < nv; i++) {
		if (sim_is_dom0(&v[i]))
			continue;
		len += strlen(v[i].sd_d.od_name) + 1;
		n++;
	}
	if (gone != NULL) {
		/* The pointers, then the strings they point to. */
		names = xdc_malloc((n + 1) * sizeof(*names) + len);
		at = (char *)(names + n + 1);
		for (i = 0, n = 0; i < nv; i++) {
			if (sim_is_dom0(&v[i]))
				continue;
			names[n++] = at;
			len = strlen(v[i].sd_d.od_name) + 1;
			memcpy(at, v[i].sd_d.od_name, len);
			at += len;
		}
		names[n] = NULL;
		*gone = names;
	}
	/* From the end, so that what is left does not move. */
	for (i = h->sh_ndoms; i-- > 0;) {
		d = &sim_host_doms(h)[i];
		if (sim_is_dom0(d))
			continue;
		/* Found again: the host's own array, to change. */
		sim_dom_remove(h, sim_dom_find(h, d->sd_d.od_name));
	}
	if (n > 0)
		sim_host_touch(p, h);
	/* It boots with no agent yet to arm its watchdog. */
	if (h->sh_wd_deadline != 0) {
		h->sh_wd_deadline = h->sh_wd_timeout = 0;
		sim_host_touch(p, h);
	}
}

int
sim_pool_power_off(struct sim_pool *p, const char *host, char ***gone)
{
	struct sim_host *h;

	if (gone != NULL)
		*gone = NULL;
	if ((h = sim_host_find(p, host)) == NULL)
		return xdc_error(
		    XDC_ENOTFOUND, "no host named %s in the pool", host);
	host_boot(p, h, gone);
	return 0;
}

int
sim_pool_watchdog_set(
    struct sim_pool *p, const char *host, int64_t timeout_ms, int64_t now_ms)
{
	struct sim_host *h;

	if ((h = sim_host_find(p, host)) == NULL)
		return xdc_error(
		    XDC_ENOTFOUND, "no host named %s in the pool", host);
	if (timeout_ms == 0 && h->sh_wd_deadline == 0)
		return 0;
	h->sh_wd_timeout = timeout_ms;
	h->sh_wd_deadline = timeout_ms == 0 ? 0 : now_ms + timeout_ms;
	sim_host_touch(p, h);
	return 0;
}

size_t
sim_pool_watchdog_expire(struct sim_pool *p, int64_t now_ms)
{
	size_t i, n = 0;

	for (i = 0; i < p->p_nhosts; i++) {
		if (p->p_hosts[i].sh_wd_deadline == 0 ||
		    p->p_hosts[i].sh_wd_deadline > now_ms)
			continue;
		host_boot(p, &p->p_hosts[i], NULL);
		n++;
	}
	return n;
}
