/*
 * The diff of VMs: for each observed host, what its domains need to become
 * what the configuration declares (diffnet.c does its networks). Each
 * difference becomes one typed action; which fields it changes are kept as a
 * mask and rendered only when the plan is printed (output.c).
 *
 * Fields fixed at domain build (type, kernel, ramdisk, cmdline, max_memory,
 * max_vcpus, disks) force a replace; the rest are updated in place.
 */
#include <stdio.h>
#include <string.h>

#include "planner/planner.h"
#include "base/error.h"

int
plan_str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Where a declaration starts: the line of its first key. */
static struct xdc_loc
vm_decl(const struct xdc_plan *p, const struct xdc_vm *vm)
{
	return xdc_vm_loc(
	    p->p_cfg, vm, vm->vm_pos[VM_F_KIND] ? VM_F_KIND : VM_F_NAME);
}

const char *
diff_undeclared(struct xdc_plan *p)
{
	if (p->p_opts.po_teardown != NULL)
		return p->p_opts.po_teardown;
	return xdc_arena_printf(
	    p->p_arena, "not declared in %s", p->p_cfg->cfg_path);
}

int
diff_host_declared(const struct xdc_plan *p, const struct xdc_obs_host *oh)
{
	if (p->p_cfg->cfg_nhosts == 0)
		return !strcmp(oh->oh_name, XDC_LOCAL_HOST);
	return xdc_config_host(p->p_cfg, oh->oh_name) != NULL;
}

/* ---- VMs -------------------------------------------------------------- */

static int
disks_equal(const struct xdc_vm *vm, const struct xdc_obs_build *b)
{
	const struct xdc_disk *x, *y;
	size_t i;

	if (vm->vm_ndisks != b->ob_ndisks)
		return 0;
	for (i = 0; i < vm->vm_ndisks; i++) {
		x = &vm->vm_disks[i];
		y = &b->ob_disks[i];
		if (!plan_str_eq(x->d_target, y->d_target) ||
		    !plan_str_eq(x->d_vdev, y->d_vdev) ||
		    x->d_format != y->d_format ||
		    !x->d_readonly != !y->d_readonly)
			return 0;
	}
	return 1;
}

static int
nics_equal(const struct xdc_dom_spec *ds, const struct xdc_obs_domain *d)
{
	const struct xdc_vm *vm = ds->ds_vm;
	size_t i;

	if (vm->vm_nnics != d->od_nnics)
		return 0;
	for (i = 0; i < vm->vm_nnics; i++)
		if (!plan_str_eq(ds->ds_bridges[i], d->od_nics[i].on_bridge) ||
		    memcmp(vm->vm_nics[i].nic_mac, d->od_nics[i].on_mac, 6))
			return 0;
	return 1;
}

/* The fields a domain's build fixed that differ from the declaration. */
static uint32_t
build_changes(const struct xdc_dom_spec *ds, const struct xdc_obs_domain *d)
{
	const struct xdc_vm *vm = ds->ds_vm;
	const struct xdc_obs_build *b = &d->od_build;
	uint32_t m = 0;

	if (vm->vm_max_memory != d->od_max_memory)
		m |= CH_BIT(CH_MAX_MEMORY);
	if (vm->vm_max_vcpus != d->od_max_vcpus)
		m |= CH_BIT(CH_MAX_VCPUS);
	if (d->od_hash == ds->ds_hash)
		return m;
	if (d->od_has_build) {
		if (vm->vm_type != b->ob_type)
			m |= CH_BIT(CH_TYPE);
		if (!plan_str_eq(vm->vm_kernel, b->ob_kernel))
			m |= CH_BIT(CH_KERNEL);
		if (!plan_str_eq(vm->vm_ramdisk, b->ob_ramdisk))
			m |= CH_BIT(CH_RAMDISK);
		if (!plan_str_eq(vm->vm_cmdline, b->ob_cmdline))
			m |= CH_BIT(CH_CMDLINE);
		if (!disks_equal(vm, b))
			m |= CH_BIT(CH_DISKS);
	}
	/* The hash differs but no field says how: say the spec changed. */
	if (m == 0)
		m |= CH_BIT(CH_SPEC);
	return m;
}

static uint32_t
runtime_changes(const struct xdc_dom_spec *ds, const struct xdc_obs_domain *d)
{
	const struct xdc_vm *vm = ds->ds_vm;
	uint32_t m = 0;

	if (vm->vm_memory != d->od_memory)
		m |= CH_BIT(CH_MEMORY);
	if (vm->vm_vcpus != d->od_vcpus)
		m |= CH_BIT(CH_VCPUS);
	if (d->od_weight != 0 && ds->ds_weight != d->od_weight)
		m |= CH_BIT(CH_WEIGHT);
	if (ds->ds_cap != d->od_cap)
		m |= CH_BIT(CH_CAP);
	if (!nics_equal(ds, d))
		m |= CH_BIT(CH_NICS);
	if (!ds->ds_protect != !d->od_protect)
		m |= CH_BIT(CH_PROTECT);
	return m;
}

/* The place that asks for a field: the VM's line, or the SLA's. */
static const char *
field_source(struct xdc_plan *p, const struct xdc_vm *vm, enum chg c)
{
	static const struct {
		enum chg c;
		int vm_field;
		int policy;
		const char *name;
	} map[] = {
		{ CH_TYPE, VM_F_TYPE, -1, "type" },
		{ CH_KERNEL, VM_F_KERNEL, -1, "kernel" },
		{ CH_RAMDISK, VM_F_RAMDISK, -1, "ramdisk" },
		{ CH_CMDLINE, VM_F_CMDLINE, -1, "cmdline" },
		{ CH_MAX_MEMORY, VM_F_MAX_MEMORY, -1, "max_memory" },
		{ CH_MAX_VCPUS, VM_F_MAX_VCPUS, -1, "max_vcpus" },
		{ CH_DISKS, VM_F_DISKS, -1, "disks" },
		{ CH_SPEC, VM_F_KIND, -1, "spec" },
		{ CH_MEMORY, VM_F_MEMORY, -1, "memory" },
		{ CH_VCPUS, VM_F_VCPUS, -1, "vcpus" },
		{ CH_WEIGHT, -1, XDC_POL_CPU_WEIGHT, "cpu.weight" },
		{ CH_CAP, -1, XDC_POL_CPU_CAP, "cpu.cap" },
		{ CH_NICS, VM_F_NICS, -1, "nics" },
		{ CH_PROTECT, VM_F_PROTECT, -1, "protect" },
		{ CH_STATE, VM_F_STATE, -1, "state" },
		{ CH_HOST, VM_F_HOST, -1, "host" },
	};
	const struct xdc_sla *s;
	size_t i;

	if (c == CH_EXPIRES)
		return scope_expiry_reason(p);
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (map[i].c != c)
			continue;
		if (map[i].policy >= 0) {
			s = xdc_vm_policy(p->p_cfg, vm, map[i].policy);
			if (s != NULL)
				return xdc_arena_printf(p->p_arena,
				    "%s (sla %s: %s)",
				    plan_where(p, xdc_sla_loc(p->p_cfg, s,
				                      XDC_SLA_POLICY_FIELD(
				                          map[i].policy))),
				    s->s_name, map[i].name);
			return xdc_arena_printf(p->p_arena,
			    "%s (%s: no SLA sets it, Xen's default)",
			    plan_where(p, vm_decl(p, vm)), map[i].name);
		}
		if (vm->vm_pos[map[i].vm_field] != 0)
			return xdc_arena_printf(p->p_arena, "%s (%s)",
			    plan_where(
			        p, xdc_vm_loc(p->p_cfg, vm, map[i].vm_field)),
			    map[i].name);
		return xdc_arena_printf(p->p_arena, "%s (%s)",
		    plan_where(p, vm_decl(p, vm)), map[i].name);
	}
	return plan_where(p, vm_decl(p, vm));
}

static const char *
fields_reason(struct xdc_plan *p, const struct xdc_vm *vm, uint32_t mask)
{
	const char *r = NULL, *src;
	enum chg c;

	for (c = 0; c < CH__COUNT; c++) {
		if (!(mask & CH_BIT(c)))
			continue;
		src = field_source(p, vm, c);
		r = r ? xdc_arena_printf(p->p_arena, "%s; %s", r, src) : src;
	}
	return r ? r : plan_where(p, vm_decl(p, vm));
}

/* What the restart policy says of a domain that died or shut down. */
static const char *
restart_reason(struct xdc_plan *p, const struct xdc_vm *vm,
    const struct xdc_obs_domain *d, enum xdc_restart *policy)
{
	const struct xdc_sla *s = xdc_vm_policy(p->p_cfg, vm, XDC_POL_RESTART);

	*policy = s ? s->s_restart : XDC_RESTART_ALWAYS;
	if (s != NULL)
		return xdc_arena_printf(p->p_arena,
		    "%s (sla %s: restart %s): %s %s",
		    plan_where(p, xdc_sla_loc(p->p_cfg, s, SLA_F_RESTART)),
		    s->s_name, xdc_restart_name(s->s_restart), vm->vm_name,
		    d->od_state == XDC_DOM_CRASHED ? "crashed" : "shut down");
	return xdc_arena_printf(p->p_arena,
	    "%s (state %s; restart always by default): %s %s",
	    plan_where(p, vm_decl(p, vm)), xdc_vm_state_name(vm->vm_state),
	    vm->vm_name,
	    d->od_state == XDC_DOM_CRASHED ? "crashed" : "shut down");
}

static struct paction *
vm_action(struct xdc_plan *p, enum xdc_op op, uint32_t host, size_t vmi,
    const struct xdc_obs_domain *d)
{
	struct paction *a = plan_add(p, op, XDC_OBJ_VM, host);
	const struct xdc_vm *vm = &p->p_cfg->cfg_vms[vmi];

	a->pa.a_name = vm->vm_name;
	a->pa.a_spec = &p->p_specs[vmi];
	a->pa.a_domid = d ? d->od_domid : 0;
	a->pa_vmi = (uint32_t)vmi;
	a->pa_vm = vm;
	a->pa_dom = d;
	return a;
}

static int
dom_live(const struct xdc_obs_domain *d)
{
	return d->od_state == XDC_DOM_RUNNING || d->od_state == XDC_DOM_PAUSED;
}

/* What the driver touches for the run-time changes of an update. */
static unsigned
update_flags(uint32_t run)
{
	return ((run & CH_BIT(CH_MEMORY)) ? XDC_UPD_MEMORY : 0) |
	       ((run & CH_BIT(CH_VCPUS)) ? XDC_UPD_VCPUS : 0) |
	       ((run & (CH_BIT(CH_WEIGHT) | CH_BIT(CH_CAP))) ? XDC_UPD_SCHED
	                                                     : 0) |
	       ((run & CH_BIT(CH_NICS)) ? XDC_UPD_NICS : 0) |
	       ((run & (CH_BIT(CH_PROTECT) | CH_BIT(CH_EXPIRES)))
	               ? XDC_UPD_MARKER
	               : 0);
}

static void diff_state(struct xdc_plan *, uint32_t host, size_t vmi,
    const struct xdc_obs_domain *);
static void light_vm(struct xdc_plan *, uint32_t host, size_t vmi,
    const struct xdc_obs_domain *, int placed);

/* A managed domain of a declared VM, on the host it belongs on. */
static void
diff_vm(struct xdc_plan *p, uint32_t host, size_t vmi,
    const struct xdc_obs_domain *d)
{
	const struct xdc_dom_spec *ds = &p->p_specs[vmi];
	const struct xdc_vm *vm = ds->ds_vm;
	uint32_t build, run;
	enum xdc_restart policy;
	struct paction *a;
	const char *why;

	if (vm->vm_state == XDC_VM_STOPPED) {
		a = vm_action(p, XDC_OP_STOP, host, vmi, d);
		a->pa_group = G_VM_DOWN;
		a->pa.a_disruptive = dom_live(d);
		a->pa_changes = CH_BIT(CH_STATE);
		a->pa_reason = field_source(p, vm, CH_STATE);
		return;
	}
	build = build_changes(ds, d);
	run = runtime_changes(ds, d);
	if (scope_expiry_stale(p, d))
		run |= CH_BIT(CH_EXPIRES);
	/*
	 * A domain that is down anyway is re-created from its declaration by
	 * its restart: a build change rides along, and nothing is disrupted
	 * (a protected VM included).
	 */
	if (build != 0 && !dom_live(d)) {
		run |= build;
		build = 0;
	}
	if (build != 0) {
		a = vm_action(p, XDC_OP_REPLACE, host, vmi, d);
		a->pa_group = G_VM_UP;
		a->pa.a_disruptive = dom_live(d);
		a->pa_changes = build | run;
		a->pa_reason = fields_reason(p, vm, build);
		return;
	}

	switch (d->od_state) {
	case XDC_DOM_CRASHED:
	case XDC_DOM_STOPPED:
		why = restart_reason(p, vm, d, &policy);
		/* Re-created from the declaration: updates come with it. */
		a = vm_action(p,
		    d->od_state == XDC_DOM_CRASHED ? XDC_OP_RESTART
		                                   : XDC_OP_START,
		    host, vmi, d);
		a->pa_group = G_VM_UP;
		a->pa_changes = CH_BIT(CH_STATE) | run;
		a->pa_reason = why;
		if (policy == XDC_RESTART_NEVER ||
		    (policy == XDC_RESTART_ON_CRASH &&
		        d->od_state == XDC_DOM_STOPPED)) {
			a->pa_hold = xdc_arena_printf(p->p_arena,
			    "%s; the policy does not restart it", why);
			a->pa_hold_why = HOLD_POLICY;
		}
		return;
	case XDC_DOM_RUNNING:
	case XDC_DOM_PAUSED:
		break;
	}

	if (run != 0) {
		a = vm_action(p, XDC_OP_UPDATE, host, vmi, d);
		a->pa_group = G_VM_UPDATE;
		a->pa_changes = run;
		a->pa.a_update = update_flags(run);
		a->pa_reason = fields_reason(p, vm, run);
	}
	diff_state(p, host, vmi, d);
}

/* A live domain paused or running when its declaration says otherwise. */
static void
diff_state(struct xdc_plan *p, uint32_t host, size_t vmi,
    const struct xdc_obs_domain *d)
{
	const struct xdc_vm *vm = &p->p_cfg->cfg_vms[vmi];
	struct paction *a;

	if (vm->vm_state == XDC_VM_PAUSED && d->od_state == XDC_DOM_RUNNING) {
		a = vm_action(p, XDC_OP_PAUSE, host, vmi, d);
		a->pa_group = G_VM_STATE;
		a->pa.a_disruptive = 1;
		a->pa_changes = CH_BIT(CH_STATE);
		a->pa_reason = field_source(p, vm, CH_STATE);
	} else if (vm->vm_state == XDC_VM_RUNNING &&
	           d->od_state == XDC_DOM_PAUSED) {
		a = vm_action(p, XDC_OP_UNPAUSE, host, vmi, d);
		a->pa_group = G_VM_STATE;
		a->pa_changes = CH_BIT(CH_STATE);
		a->pa_reason = field_source(p, vm, CH_STATE);
	}
}

/*
 * A declared VM with adopt: true and a domain of its name that xdc does
 * not manage, on the VM's host: one update takes ownership and tunes what
 * can be tuned in place, exactly as for a managed domain. What the build
 * fixed cannot be observed everywhere (a PVH guest's kernel), so the
 * declaration is taken for it and recorded; max_memory and max_vcpus can
 * be, and a declaration that disagrees would be replaced by the next plan,
 * so it is refused now rather than after the domain is xdc's.
 */
static void
diff_adopt(struct xdc_plan *p, uint32_t host, size_t vmi,
    const struct xdc_obs_domain *d)
{
	const struct xdc_dom_spec *ds = &p->p_specs[vmi];
	const struct xdc_vm *vm = ds->ds_vm;
	const char *hname = p->p_obs->obs_hosts[host].oh_name;
	char b1[XDC_SIZE_BUFSZ], b2[XDC_SIZE_BUFSZ];
	struct paction *a;
	uint32_t run;
	const char *why;

	if (vm->vm_max_memory != d->od_max_memory)
		plan_error(p, xdc_vm_loc(p->p_cfg, vm, VM_F_ADOPT),
		    "VM %s: adopt: domain %u on host %s has max_memory %s "
		    "and the declaration %s; it is fixed at build, so "
		    "declare what the domain has",
		    vm->vm_name, d->od_domid, hname,
		    xdc_size_fmt(d->od_max_memory, b1),
		    xdc_size_fmt(vm->vm_max_memory, b2));
	if (vm->vm_max_vcpus != d->od_max_vcpus)
		plan_error(p, xdc_vm_loc(p->p_cfg, vm, VM_F_ADOPT),
		    "VM %s: adopt: domain %u on host %s has max_vcpus %u "
		    "and the declaration %u; it is fixed at build, so "
		    "declare what the domain has",
		    vm->vm_name, d->od_domid, hname, d->od_max_vcpus,
		    vm->vm_max_vcpus);
	if (!plan_builds(p, host)) {
		light_vm(p, host, vmi, d, 1); /* diff_state may pause it */
		return;
	}
	/* A dead domain is only taken over; the next plan restarts it. */
	run = runtime_changes(ds, d);
	if (!dom_live(d))
		run &= CH_BIT(CH_PROTECT);
	a = vm_action(p, XDC_OP_UPDATE, host, vmi, d);
	a->pa_group = G_VM_UPDATE;
	a->pa_changes = CH_BIT(CH_MANAGED) | run;
	a->pa.a_update = update_flags(run) | XDC_UPD_ADOPT;
	why = xdc_arena_printf(p->p_arena,
	    "%s (adopt: domain %u on host %s is not yet xdc's)",
	    plan_where(p, xdc_vm_loc(p->p_cfg, vm, VM_F_ADOPT)), d->od_domid,
	    hname);
	a->pa_reason = run ? xdc_arena_printf(p->p_arena, "%s; %s", why,
	                         fields_reason(p, vm, run))
	                   : why;
	diff_state(p, host, vmi, d);
}

/* The names of the fields a build fixed, "kernel, disks", for a message. */
static const char *
build_names(struct xdc_plan *p, uint32_t build)
{
	static const struct {
		enum chg c;
		const char *name;
	} map[] = {
		{ CH_TYPE, "type" },
		{ CH_KERNEL, "kernel" },
		{ CH_RAMDISK, "ramdisk" },
		{ CH_CMDLINE, "cmdline" },
		{ CH_MAX_MEMORY, "max_memory" },
		{ CH_MAX_VCPUS, "max_vcpus" },
		{ CH_DISKS, "disks" },
		{ CH_SPEC, "its build (kernel, disks, ...)" },
	};
	const char *r = NULL;
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (build & CH_BIT(map[i].c))
			r = r ? xdc_arena_printf(
			            p->p_arena, "%s, %s", r, map[i].name)
			      : map[i].name;
	return r ? r : "its build";
}

/*
 * A declared VM with adopt_from naming the scope that owns the domain of
 * its name, on the VM's host: the marker is rewritten to this scope, and
 * what can change in place is tuned, as for a managed domain. A handover
 * restarts nothing: a declaration whose build differs from the domain's
 * would replace it at the next plan, so it is refused now.
 */
static void
diff_handover(struct xdc_plan *p, uint32_t host, size_t vmi,
    const struct xdc_obs_domain *d)
{
	const struct xdc_dom_spec *ds = &p->p_specs[vmi];
	const struct xdc_vm *vm = ds->ds_vm;
	const char *hname = p->p_obs->obs_hosts[host].oh_name;
	struct paction *a;
	uint32_t build, run;
	const char *why;

	if ((build = build_changes(ds, d)) != 0) {
		plan_error(p, xdc_vm_loc(p->p_cfg, vm, VM_F_ADOPT_FROM),
		    "VM %s: adopt_from: domain %u on host %s differs from "
		    "this declaration in %s, fixed when it was built; taking "
		    "it over would restart it, so declare what it has",
		    vm->vm_name, d->od_domid, hname, build_names(p, build));
		return;
	}
	if (!plan_builds(p, host)) {
		light_vm(p, host, vmi, d, 1); /* diff_state may pause it */
		return;
	}
	/* A dead domain is only taken over; the next plan restarts it. */
	run = runtime_changes(ds, d);
	if (!dom_live(d))
		run &= CH_BIT(CH_PROTECT);
	a = vm_action(p, XDC_OP_UPDATE, host, vmi, d);
	a->pa_group = G_VM_UPDATE;
	a->pa_changes = CH_BIT(CH_SCOPE) | run;
	a->pa.a_update = update_flags(run) | XDC_UPD_MARKER;
	why = xdc_arena_printf(p->p_arena,
	    "%s (adopt_from: domain %u on host %s is scope %s's)",
	    plan_where(p, xdc_vm_loc(p->p_cfg, vm, VM_F_ADOPT_FROM)),
	    d->od_domid, hname, plan_dom_scope(d));
	a->pa_reason = run ? xdc_arena_printf(p->p_arena, "%s; %s", why,
	                         fields_reason(p, vm, run))
	                   : why;
	diff_state(p, host, vmi, d);
}

static void
destroy_domain(struct xdc_plan *p, uint32_t host,
    const struct xdc_obs_domain *d, const struct xdc_vm *vm, const char *why)
{
	struct paction *a = plan_add(p, XDC_OP_DESTROY, XDC_OBJ_VM, host);

	a->pa.a_name = d->od_name;
	a->pa.a_domid = d->od_domid;
	a->pa_group = G_VM_DOWN;
	a->pa.a_disruptive = dom_live(d);
	a->pa_dom = d;
	a->pa_vm = vm;
	if (vm != NULL)
		a->pa_vmi = (uint32_t)(vm - p->p_cfg->cfg_vms);
	a->pa_reason = why;
	/*
	 * Protection travels with the domain (SPEC §3): an undeclared domain
	 * keeps the flag its marker has; a declared one has what its
	 * declaration says now, so a commit setting protect: false frees it.
	 */
	if (vm != NULL ? vm->vm_protect : d->od_protect) {
		a->pa_hold = xdc_arena_printf(p->p_arena,
		    "%s; %s is protected: a commit must set protect: false "
		    "before xdc destroys it",
		    why, d->od_name);
		a->pa_hold_why = HOLD_PROTECT;
	}
}

/*
 * Whether the domain d of VM vmi, on host but placed on another, moves
 * there live (SPEC §4): the driver can migrate, the domain runs and is
 * declared to, both hosts are live, the new host has no domain of the
 * name, and nothing fixed at build differs (that would be a replace, and
 * a replace is not live). Only one copy of a VM moves.
 */
static int
migrates(const struct xdc_plan *p, uint32_t host, size_t vmi,
    const struct xdc_obs_domain *d)
{
	const struct xdc_vm *vm = &p->p_cfg->cfg_vms[vmi];
	uint32_t to = p->p_place_obs[vmi];

	if (!p->p_opts.po_migrate || to == NO_INDEX || p->p_migrating[vmi])
		return 0;
	if (vm->vm_state != XDC_VM_RUNNING || d->od_state != XDC_DOM_RUNNING)
		return 0;
	if (pool_view_of(p, p->p_obs->obs_hosts[host].oh_name) != XDC_HV_LIVE ||
	    pool_view_of(p, p->p_obs->obs_hosts[to].oh_name) != XDC_HV_LIVE)
		return 0;
	if (xdc_obs_host_domain(&p->p_obs->obs_hosts[to], vm->vm_name) != NULL)
		return 0;
	return build_changes(&p->p_specs[vmi], d) == 0;
}

/*
 * Why a VM leaves host: its host is drained (the Host's state line), it is
 * pinned elsewhere (its host line), or placement put it elsewhere.
 */
static const char *
move_reason(
    struct xdc_plan *p, uint32_t host, const struct xdc_vm *vm, size_t vmi)
{
	const char *from = p->p_obs->obs_hosts[host].oh_name;
	const struct xdc_host *h = xdc_config_host(p->p_cfg, from);

	if (h != NULL && h->h_state == XDC_HOST_DRAINED)
		return xdc_arena_printf(p->p_arena,
		    "%s (state: drained): host %s is drained; %s is placed "
		    "on host %s",
		    plan_where(p, xdc_host_loc(p->p_cfg, h, HOST_F_STATE)),
		    from, vm->vm_name, p->p_place[vmi]);
	if (vm->vm_host != NULL)
		return field_source(p, vm, CH_HOST);
	return xdc_arena_printf(p->p_arena, "%s: placed on host %s",
	    plan_where(p, vm_decl(p, vm)), p->p_place[vmi]);
}

/* The running domain d of VM vmi goes live from host to its placement. */
static void
migrate_domain(struct xdc_plan *p, uint32_t host, size_t vmi,
    const struct xdc_obs_domain *d)
{
	const struct xdc_vm *vm = &p->p_cfg->cfg_vms[vmi];
	struct paction *a = vm_action(p, XDC_OP_MIGRATE, host, vmi, d);

	p->p_migrating[vmi] = 1;
	a->pa_group = G_VM_MOVE;
	a->pa_to = p->p_place_obs[vmi];
	a->pa.a_to_host = p->p_obs->obs_hosts[a->pa_to].oh_name;
	a->pa_from_host = p->p_obs->obs_hosts[host].oh_name;
	a->pa_changes = CH_BIT(CH_HOST);
	a->pa_reason = move_reason(p, host, vm, vmi);
}

/*
 * A domain of a host whose actions are not built (own.c): what the built
 * ones need of it is whether it may disrupt a running VM of a min_running
 * SLA (a stop, pause, replace, or the destroy of a move), which only the
 * full plan can count.
 */
static void
light_vm(struct xdc_plan *p, uint32_t host, size_t vmi,
    const struct xdc_obs_domain *d, int placed)
{
	const struct xdc_vm *vm = &p->p_cfg->cfg_vms[vmi];

	if (d->od_state != XDC_DOM_RUNNING)
		return;
	if (!placed || vm->vm_state != XDC_VM_RUNNING ||
	    build_changes(&p->p_specs[vmi], d) != 0)
		own_note(p, host, vm);
}

void
diff_vms(struct xdc_plan *p, uint32_t host)
{
	const struct xdc_config *cfg = p->p_cfg;
	const struct xdc_obs_host *oh = &p->p_obs->obs_hosts[host];
	const struct xdc_obs_domain *d;
	const struct xdc_vm *vm;
	struct unmanaged *um;
	size_t i, vmi;
	int build = plan_builds(p, host);

	if (!diff_host_declared(p, oh))
		return;
	for (i = 0; i < oh->oh_ndomains; i++) {
		d = &oh->oh_domains[i];
		if (d->od_domid == 0)
			continue; /* Domain-0 is never ours */
		vm = xdc_config_vm(cfg, d->od_name);
		if (!d->od_managed) {
			if (vm != NULL &&
			    p->p_place_obs[vm - cfg->cfg_vms] == host &&
			    vm->vm_adopt && !d->od_stub) {
				diff_adopt(
				    p, host, (size_t)(vm - cfg->cfg_vms), d);
				continue;
			}
			p->p_unmanaged = xdc_reallocarray(p->p_unmanaged,
			    p->p_nunmanaged + 1, sizeof(*p->p_unmanaged));
			um = &p->p_unmanaged[p->p_nunmanaged++];
			um->um_dom = d;
			um->um_host = oh->oh_name;
			um->um_scope = NULL;
			if (vm != NULL &&
			    p->p_place_obs[vm - cfg->cfg_vms] == host)
				plan_error(p,
				    xdc_vm_loc(p->p_cfg, vm,
				        vm->vm_adopt ? VM_F_ADOPT : VM_F_NAME),
				    "VM %s: a domain of that name (id %u) runs "
				    "on host %s and is not managed by xdc; %s",
				    vm->vm_name, d->od_domid, oh->oh_name,
				    vm->vm_adopt
				        ? "it is a stub domain, which xdc "
				          "never adopts"
				        : "rename one of them, or set "
				          "adopt: true to take it over (xdc "
				          "import writes it)");
			continue;
		}
		if (!plan_ours(p, d)) {
			if ((vmi = scope_foreign(p, host, d)) != NO_INDEX) {
				p->p_managed_vms++;
				diff_handover(p, host, vmi, d);
			}
			continue;
		}
		p->p_managed_vms++;
		if (vm == NULL && !build) {
			/* Held only by its marker's protection: the guard's. */
			p->p_destroys_else += !d->od_protect;
			continue;
		}
		if (vm == NULL) {
			destroy_domain(p, host, d, NULL, diff_undeclared(p));
			continue;
		}
		vmi = (size_t)(vm - cfg->cfg_vms);
		if (p->p_place_obs[vmi] != host) {
			if (migrates(p, host, vmi, d)) {
				if (build)
					migrate_domain(p, host, vmi, d);
				else
					p->p_migrating[vmi] = 1;
				continue;
			}
			p->p_moved_from[vmi] = oh->oh_name;
			if (!build) {
				light_vm(p, host, vmi, d, 0);
				continue;
			}
			destroy_domain(p, host, d, vm,
			    xdc_arena_printf(p->p_arena,
			        "%s: placed on host %s",
			        plan_where(p, vm->vm_host ? xdc_vm_loc(p->p_cfg,
			                                        vm, VM_F_HOST)
			                                  : vm_decl(p, vm)),
			        p->p_place[vmi] ? p->p_place[vmi] : "none"));
			continue;
		}
		if (build)
			diff_vm(p, host, vmi, d);
		else
			light_vm(p, host, vmi, d, 1);
	}
}

/*
 * Declared VMs that their host should run and does not: one pass over the
 * VMs for the whole pool, not one per host.
 */
/* Why a VM is created on a host that is not its own. */
static const char *
failover_reason(struct xdc_plan *p, const struct xdc_vm *vm, size_t vmi)
{
	const struct xdc_sla *s = xdc_vm_policy(p->p_cfg, vm, XDC_POL_FAILOVER);
	const char *from = p->p_failed_from[vmi];
	const struct xdc_host *h = xdc_config_host(p->p_cfg, from);

	return xdc_arena_printf(p->p_arena, "%s (sla %s: failover): host %s %s",
	    plan_where(p, xdc_sla_loc(p->p_cfg, s, SLA_F_FAILOVER)), s->s_name,
	    from,
	    h != NULL && h->h_state == XDC_HOST_FAILED
	        ? xdc_arena_printf(p->p_arena, "is declared failed (%s)",
	              plan_where(p, xdc_host_loc(p->p_cfg, h, HOST_F_STATE)))
	        : "is lost and fenced");
}

void
diff_absent(struct xdc_plan *p)
{
	const struct xdc_config *cfg = p->p_cfg;
	const struct xdc_obs_host *oh;
	const struct xdc_vm *vm;
	struct paction *a;
	size_t vmi;
	uint32_t host;

	for (vmi = 0; vmi < cfg->cfg_nvms; vmi++) {
		if ((host = p->p_place_obs[vmi]) == NO_INDEX ||
		    (p->p_own && host != p->p_self))
			continue;
		vm = &cfg->cfg_vms[vmi];
		oh = &p->p_obs->obs_hosts[host];
		/* A domain moving live is the migrate's to bring. */
		if (vm->vm_state == XDC_VM_STOPPED || p->p_migrating[vmi] ||
		    xdc_obs_host_domain(oh, vm->vm_name) != NULL)
			continue;
		a = vm_action(p, XDC_OP_CREATE, host, vmi, NULL);
		a->pa_group = G_VM_UP;
		a->pa_from_host = p->p_moved_from[vmi];
		if (p->p_failed_from[vmi] != NULL) {
			a->pa_changes = CH_BIT(CH_HOST);
			a->pa_reason = failover_reason(p, vm, vmi);
		} else if (a->pa_from_host != NULL) {
			a->pa_changes = CH_BIT(CH_HOST);
			a->pa_reason = field_source(p, vm, CH_HOST);
		} else {
			a->pa_reason = plan_where(p, vm_decl(p, vm));
		}
	}
}
