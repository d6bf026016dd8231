/*
 * The planning pass: resolve each VM's spec, place the VMs, diff every
 * observed host, let the SLAs hold back what they must, then order the
 * actions and wire their dependencies. An agent's own part builds the
 * actions of its host and of those it waits for only (own.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planner/planner.h"
#include "base/error.h"

/* ---- Small helpers shared by the planner ------------------------------ */

struct paction *
plan_add(
    struct xdc_plan *p, enum xdc_op op, enum xdc_obj_kind kind, uint32_t host)
{
	struct paction *a;

	if (p->p_nall == p->p_capall) {
		p->p_capall = p->p_capall ? p->p_capall * 2 : 64;
		p->p_all =
		    xdc_reallocarray(p->p_all, p->p_capall, sizeof(*p->p_all));
	}
	a = &p->p_all[p->p_nall++];
	memset(a, 0, sizeof(*a));
	a->pa.a_op = op;
	a->pa.a_kind = kind;
	a->pa.a_host = p->p_obs->obs_hosts[host].oh_name;
	a->pa_host = host;
	a->pa_vmi = NO_INDEX;
	return a;
}

void
plan_error(struct xdc_plan *p, struct xdc_loc loc, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (loc.file != 0)
		xdc_diag(p->p_diags, p->p_cfg->cfg_files[loc.file], loc.line,
		    loc.col, "%s", msg);
	else
		xdc_diag(p->p_diags, p->p_cfg->cfg_path, 1, 1, "%s", msg);
}

static uint64_t
hash_field(uint64_t h, const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return (h ^ 0xff) * 0x100000001b3ULL;
}

/* v in decimal, as "%llu" writes it, ending just before end. */
static char *
decimal(char *end, uint64_t v)
{
	do
		*--end = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	return end;
}

/*
 * "FILE:LINE", each action's reason: written by hand, as formatting it
 * was a tenth of a plan of 10,000 VMs' own work.
 */
const char *
plan_where(const struct xdc_plan *p, struct xdc_loc loc)
{
	const char *file = p->p_cfg->cfg_files[loc.file];
	char buf[256], *num;
	size_t n = strlen(file), m;

	if (n + 12 > sizeof(buf))
		return xdc_arena_printf(p->p_arena, "%s:%u", file, loc.line);
	num = decimal(buf + sizeof(buf), loc.line);
	m = (size_t)(buf + sizeof(buf) - num);
	memcpy(buf, file, n);
	buf[n] = ':';
	memmove(buf + n + 1, num, m);
	return xdc_arena_strndup(p->p_arena, buf, n + 1 + m);
}

/*
 * Every domain xdc built carries this hash in its marker: a change to
 * what it hashes, or how, would have every VM built again.
 */
uint64_t
plan_spec_hash(const struct xdc_vm *vm)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	char num[48], *s = num + sizeof(num);
	size_t i;

	/* FNV-1a over each field and a separator: "ab","c" != "a","bc". */
	h = hash_field(h, xdc_vm_type_name(vm->vm_type));
	h = hash_field(h, vm->vm_kernel);
	h = hash_field(h, vm->vm_ramdisk);
	h = hash_field(h, vm->vm_cmdline);
	/* "MAX_MEMORY/MAX_VCPUS", without snprintf: once a VM a cycle. */
	*--s = '\0';
	s = decimal(s, vm->vm_max_vcpus);
	*--s = '/';
	s = decimal(s, vm->vm_max_memory);
	h = hash_field(h, s);
	for (i = 0; i < vm->vm_ndisks; i++) {
		h = hash_field(h, vm->vm_disks[i].d_target);
		h = hash_field(h, vm->vm_disks[i].d_vdev);
		h = hash_field(
		    h, xdc_disk_format_name(vm->vm_disks[i].d_format));
		h = hash_field(h, vm->vm_disks[i].d_readonly ? "ro" : "rw");
	}
	return h;
}

/* What the driver needs of each VM, with the SLAs and networks resolved. */
static void
resolve_specs(struct xdc_plan *p)
{
	const struct xdc_config *cfg = p->p_cfg;
	const struct xdc_sla *s;
	struct xdc_dom_spec *ds;
	const struct xdc_vm *vm;
	size_t i, j;

	p->p_specs = xdc_arena_zalloc(
	    p->p_arena, (cfg->cfg_nvms + 1) * sizeof(*p->p_specs));
	for (i = 0; i < cfg->cfg_nvms; i++) {
		vm = &cfg->cfg_vms[i];
		ds = &p->p_specs[i];
		ds->ds_vm = vm;
		/* Exactly: a spare slot would round two NICs up to 32 bytes. */
		ds->ds_bridges = xdc_arena_alloc(
		    p->p_arena, (vm->vm_nnics ? vm->vm_nnics : 1) *
		                    sizeof(*ds->ds_bridges));
		for (j = 0; j < vm->vm_nnics; j++)
			ds->ds_bridges[j] =
			    cfg->cfg_networks[vm->vm_nics[j].nic_net].n_bridge;
		s = xdc_vm_policy(cfg, vm, XDC_POL_CPU_WEIGHT);
		ds->ds_weight = s ? s->s_cpu_weight : XDC_DEFAULT_WEIGHT;
		s = xdc_vm_policy(cfg, vm, XDC_POL_CPU_CAP);
		ds->ds_cap = s ? s->s_cpu_cap : 0;
		ds->ds_hash = plan_spec_hash(vm);
		ds->ds_protect = vm->vm_protect;
		ds->ds_scope = p->p_scope;
		ds->ds_applied = (int64_t)p->p_opts.po_now;
		ds->ds_expires = p->p_expires;
	}
}

/* ---- Ordering --------------------------------------------------------- */

static int
paction_cmp(const void *x, const void *y)
{
	const struct paction *a = *(const struct paction *const *)x;
	const struct paction *b = *(const struct paction *const *)y;
	int c;

	if (a->pa_group != b->pa_group)
		return a->pa_group < b->pa_group ? -1 : 1;
	if (a->pa_host != b->pa_host)
		return a->pa_host < b->pa_host ? -1 : 1;
	if ((c = strcmp(a->pa.a_name, b->pa.a_name)) != 0)
		return c;
	return a->pa.a_op < b->pa.a_op ? -1 : a->pa.a_op > b->pa.a_op;
}

static void
dep_add(struct xdc_plan *p, struct paction *a, uint32_t on)
{
	uint32_t *v;

	/*
	 * Dependencies are few; keep them in the arena, grown by copying
	 * when their count reaches a power of two from 4: an arena slot is
	 * 16 bytes anyway, and a VM's two or three networks fit the first.
	 */
	if (a->pa_ndeps == 0 ||
	    (a->pa_ndeps >= 4 && (a->pa_ndeps & (a->pa_ndeps - 1)) == 0)) {
		v = xdc_arena_alloc(p->p_arena,
		    (a->pa_ndeps ? 2 * a->pa_ndeps : 4) * sizeof(*v));
		if (a->pa_ndeps > 0)
			memcpy(v, a->pa_deps, a->pa_ndeps * sizeof(*v));
		a->pa_deps = v;
	}
	a->pa_deps[a->pa_ndeps++] = on;
}

/* Does an observed domain have a NIC on bridge? */
static int
dom_uses_bridge(const struct xdc_obs_domain *d, const char *bridge)
{
	size_t i;

	for (i = 0; d != NULL && i < d->od_nnics; i++)
		if (!strcmp(d->od_nics[i].on_bridge, bridge))
			return 1;
	return 0;
}

/* Order VM downs by name, then by their place in the ordered list. */
static int
down_cmp(const void *x, const void *y, void *arg)
{
	struct paction **v = arg;
	uint32_t i = *(const uint32_t *)x, j = *(const uint32_t *)y;
	int c;

	if ((c = strcmp(v[i]->pa.a_name, v[j]->pa.a_name)) != 0)
		return c;
	return i < j ? -1 : i > j;
}

/* The first of the n names[] sorted VM downs named name, or n. */
static size_t
down_find(struct paction **v, const uint32_t *names, size_t n, const char *name)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(v[names[mid]]->pa.a_name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Wire dependencies on the ordered list (indices into it):
 *  - a VM brought up or given NICs on a host waits for the networks it uses
 *    there to be created or updated;
 *  - a VM brought up on a host waits for the VMs going down there now
 *    (memory); not for a destroy that is held back (by protection, a
 *    window or min_running): that frees nothing this plan can wait for,
 *    and waiting on it can deadlock a min_running budget that the create
 *    itself would restore;
 *  - a VM moving waits for its old domain to go;
 *  - a migrate waits, on its new host, for the networks the VM uses and
 *    for the VMs going down there, as a create would; and a VM brought up
 *    on a host waits for the migrates off it (memory);
 *  - a pause or unpause waits for the same VM's update;
 *  - a network going down waits for the VMs that used it to leave, a
 *    replaced or restarted one included (its old domain is on it).
 * In linear time but for sorting the downs by name: the list is ordered by
 * group then host, so each host's downs and migrates are a run of it, and
 * the rest is found through indices built in a first pass. The
 * dependencies of an action come in the order above, each kind by its
 * place in the list (a pause's updates latest first).
 */
static void
wire(struct xdc_plan *p, struct paction **v, size_t n)
{
	const struct xdc_config *cfg = p->p_cfg;
	size_t nhosts = p->p_obs->obs_nhosts, nnets = cfg->cfg_nnetworks;
	size_t nvms = cfg->cfg_nvms, nnames = 0;
	uint32_t *net_up, *down_first, *down_last, *move_first, *move_last;
	uint32_t *upd_last, *vm_first, *next_upd, *next_vm, *names;
	struct paction *a, *b;
	const struct xdc_vm *vm;
	size_t i, j, k;
	uint32_t to;

	/* net_up[host * nnets + net]: the action on that network there. */
	net_up = xdc_malloc((nhosts * nnets + 1) * sizeof(*net_up));
	down_first = xdc_malloc((nhosts + 1) * sizeof(*down_first));
	down_last = xdc_malloc((nhosts + 1) * sizeof(*down_last));
	move_first = xdc_malloc((nhosts + 1) * sizeof(*move_first));
	move_last = xdc_malloc((nhosts + 1) * sizeof(*move_last));
	/* The latest update of each VM, and the one before each update. */
	upd_last = xdc_malloc((nvms + 1) * sizeof(*upd_last));
	next_upd = xdc_malloc((n + 1) * sizeof(*next_upd));
	/* The first VM action with a domain on each host, and the next. */
	vm_first = xdc_malloc((nhosts + 1) * sizeof(*vm_first));
	next_vm = xdc_malloc((n + 1) * sizeof(*next_vm));
	/* The VM downs, sorted by name. */
	names = xdc_malloc((n + 1) * sizeof(*names));
	for (i = 0; i < nhosts * nnets; i++)
		net_up[i] = NO_INDEX;
	for (i = 0; i < nhosts; i++)
		down_first[i] = down_last[i] = move_first[i] = move_last[i] =
		    vm_first[i] = NO_INDEX;
	for (i = 0; i < nvms; i++)
		upd_last[i] = NO_INDEX;

	for (i = 0; i < n; i++) {
		a = v[i];
		if (a->pa_group == G_NET_UP && a->pa_net != NULL)
			net_up[a->pa_host * nnets +
			       (size_t)(a->pa_net - cfg->cfg_networks)] =
			    (uint32_t)i;
		if (a->pa_group == G_VM_DOWN) {
			if (down_first[a->pa_host] == NO_INDEX)
				down_first[a->pa_host] = (uint32_t)i;
			down_last[a->pa_host] = (uint32_t)i;
			if (a->pa.a_kind == XDC_OBJ_VM)
				names[nnames++] = (uint32_t)i;
		}
		if (a->pa_group == G_VM_MOVE) {
			if (move_first[a->pa_host] == NO_INDEX)
				move_first[a->pa_host] = (uint32_t)i;
			move_last[a->pa_host] = (uint32_t)i;
		}
		if (a->pa_group == G_VM_UPDATE && a->pa_vmi != NO_INDEX) {
			next_upd[i] = upd_last[a->pa_vmi];
			upd_last[a->pa_vmi] = (uint32_t)i;
		}
	}
	/* Backwards, so that each host's list runs forwards. */
	for (i = n; i-- > 0;) {
		a = v[i];
		if (a->pa.a_kind == XDC_OBJ_VM && a->pa_dom != NULL) {
			next_vm[i] = vm_first[a->pa_host];
			vm_first[a->pa_host] = (uint32_t)i;
		}
	}
	qsort_r(names, nnames, sizeof(*names), down_cmp, v);

	for (i = 0; i < n; i++) {
		a = v[i];
		vm = a->pa_vm;
		/* Where the VM comes up: a migrate's new host. */
		to = a->pa_group == G_VM_MOVE ? a->pa_to : a->pa_host;
		if (a->pa.a_kind == XDC_OBJ_VM && vm != NULL &&
		    (a->pa_group == G_VM_UP || a->pa_group == G_VM_MOVE ||
		        (a->pa_changes & CH_BIT(CH_NICS)))) {
			for (j = 0; j < vm->vm_nnics; j++) {
				k = net_up[to * nnets + vm->vm_nics[j].nic_net];
				if (k != NO_INDEX) {
					/* One dependency per network. */
					size_t d;
					for (d = 0; d < a->pa_ndeps; d++)
						if (a->pa_deps[d] == k)
							break;
					if (d == a->pa_ndeps)
						dep_add(p, a, (uint32_t)k);
				}
			}
		}
		/* A host's downs and migrates are each a run of the list. */
		if ((a->pa_group == G_VM_UP || a->pa_group == G_VM_MOVE) &&
		    down_first[to] != NO_INDEX)
			for (k = down_first[to]; k <= down_last[to]; k++)
				if (v[k]->pa_hold == NULL)
					dep_add(p, a, (uint32_t)k);
		if (a->pa_group == G_VM_UP &&
		    move_first[a->pa_host] != NO_INDEX)
			for (k = move_first[a->pa_host];
			     k <= move_last[a->pa_host]; k++)
				if (v[k]->pa_hold == NULL)
					dep_add(p, a, (uint32_t)k);
		/* The downs come before any up: all of them are earlier. */
		if (a->pa_group == G_VM_UP && a->pa_from_host != NULL)
			for (k = down_find(v, names, nnames, a->pa.a_name);
			     k < nnames &&
			     !strcmp(v[names[k]]->pa.a_name, a->pa.a_name);
			     k++)
				dep_add(p, a, names[k]);
		if (a->pa_group == G_VM_STATE && a->pa_vmi != NO_INDEX)
			for (k = upd_last[a->pa_vmi]; k != NO_INDEX;
			     k = next_upd[k])
				dep_add(p, a, (uint32_t)k);
		/* Every VM action comes before a network's destroy. */
		if (a->pa_group == G_NET_DOWN)
			for (k = vm_first[a->pa_host]; k != NO_INDEX;
			     k = next_vm[k]) {
				b = v[k];
				if (dom_uses_bridge(b->pa_dom, a->pa.a_bridge))
					dep_add(p, a, (uint32_t)k);
			}
	}
	free(net_up);
	free(down_first);
	free(down_last);
	free(move_first);
	free(move_last);
	free(upd_last);
	free(next_upd);
	free(vm_first);
	free(next_vm);
	free(names);
}

/*
 * Split the ordered list into what runs now and what is deferred: an action
 * that waits for a deferred one is deferred too. Then renumber the
 * dependencies of what runs into its own list.
 */
static void
split_deferred(struct xdc_plan *p, struct paction **v, size_t n)
{
	struct paction *a;
	size_t i, j, m;

	p->p_act = xdc_arena_alloc(p->p_arena, (n + 1) * sizeof(*p->p_act));
	p->p_def = xdc_arena_alloc(p->p_arena, (n + 1) * sizeof(*p->p_def));
	for (i = 0; i < n; i++) {
		a = v[i];
		for (j = 0; a->pa_hold == NULL && j < a->pa_ndeps; j++) {
			if (v[a->pa_deps[j]]->pa_hold == NULL)
				continue;
			a->pa_hold = xdc_arena_printf(p->p_arena,
			    "waits for the deferred %s of %s %s",
			    xdc_op_name(v[a->pa_deps[j]]->pa.a_op),
			    xdc_obj_kind_name(v[a->pa_deps[j]]->pa.a_kind),
			    v[a->pa_deps[j]]->pa.a_name);
			a->pa_hold_why = HOLD_DEPENDS;
		}
		if (a->pa_hold != NULL) {
			a->pa_index = (uint32_t)p->p_ndef;
			p->p_def[p->p_ndef++] = a;
		} else {
			a->pa_index = (uint32_t)p->p_nact;
			p->p_act[p->p_nact++] = a;
		}
	}
	for (i = 0; i < p->p_nact; i++) {
		a = p->p_act[i];
		for (j = m = 0; j < a->pa_ndeps; j++)
			a->pa_deps[m++] = v[a->pa_deps[j]]->pa_index;
		a->pa_ndeps = (uint32_t)m;
	}
	for (i = 0; i < p->p_ndef; i++)
		p->p_def[i]->pa_ndeps = 0; /* deferred: shown without */
}

/* ---- The pass --------------------------------------------------------- */

/*
 * One pass; own: an agent's own part, with all: every host's actions
 * built for it (own.c).
 */
static int
plan_pass(const struct xdc_config *cfg, const struct xdc_observed *obs,
    const struct plan_opts *opts, int own, int all, struct xdc_plan **out,
    struct xdc_diags *diags)
{
	struct xdc_plan *p;
	struct paction **v = NULL;
	size_t before = xdc_diags_count(diags), i, n;
	int rc = XDC_EINVALID;

	p = xdc_calloc(1, sizeof(*p));
	p->p_cfg = cfg;
	p->p_obs = obs;
	p->p_opts = *opts;
	p->p_diags = diags;
	p->p_arena = xdc_arena_new();

	scope_resolve(p);
	resolve_specs(p);
	for (i = 0; i < obs->obs_nhosts; i++)
		if (cfg->cfg_nhosts == 0
		        ? !strcmp(obs->obs_hosts[i].oh_name, XDC_LOCAL_HOST)
		        : xdc_config_host(cfg, obs->obs_hosts[i].oh_name) !=
		              NULL)
			break;
	/* Planning for none of what we see would say "no changes" falsely. */
	if (obs->obs_nhosts > 0 && i == obs->obs_nhosts)
		plan_error(p, XDC_NOWHERE,
		    "the driver observes host%s %s%s, which the configuration "
		    "does not declare%s",
		    obs->obs_nhosts == 1 ? "" : "s", obs->obs_hosts[0].oh_name,
		    obs->obs_nhosts == 1 ? "" : ", ...",
		    cfg->cfg_nhosts == 0
		        ? " (without Hosts, it manages one "
		          "host named local)"
		        : "; say which host this is with --host");
	place_vms(p);
	if (xdc_diags_count(diags) > before)
		goto out;

	p->p_moved_from = xdc_arena_zalloc(
	    p->p_arena, (cfg->cfg_nvms + 1) * sizeof(*p->p_moved_from));
	p->p_migrating = xdc_arena_zalloc(p->p_arena, cfg->cfg_nvms + 1);
	own_begin(p, own, all);
	for (i = 0; i < obs->obs_nhosts; i++) {
		diff_networks(p, (uint32_t)i);
		diff_vms(p, (uint32_t)i);
	}
	diff_absent(p);
	if (xdc_diags_count(diags) > before)
		goto out;
	pool_hold(p);
	sla_hold(p);

	v = xdc_malloc((p->p_nall + 1) * sizeof(*v));
	for (i = 0; i < p->p_nall; i++)
		v[i] = &p->p_all[i];
	qsort(v, p->p_nall, sizeof(*v), paction_cmp);
	wire(p, v, p->p_nall);
	n = p->p_nall;
	own_prune(p, v, &n);
	split_deferred(p, v, n);
	rc = 0;
out:
	free(v);
	if (rc != 0) {
		xdc_diags_sort(diags);
		xdc_plan_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

int
plan_compute(const struct xdc_config *cfg, const struct xdc_observed *obs,
    const struct plan_opts *opts, struct xdc_plan **out,
    struct xdc_diags *diags)
{
	int own = opts->po_self != NULL && !opts->po_whole, rc;

	rc = plan_pass(cfg, obs, opts, own, 0, out, diags);
	if (rc != 0 || !(*out)->p_inexact)
		return rc;
	/* A budget this host's part cannot count alone: build every host. */
	xdc_plan_free(*out);
	*out = NULL;
	return plan_pass(cfg, obs, opts, own, 1, out, diags);
}

void
xdc_plan_free(struct xdc_plan *p)
{
	if (p == NULL)
		return;
	free(p->p_all);
	free(p->p_unmanaged);
	xdc_arena_free(p->p_arena);
	free(p);
}

size_t
plan_count(const struct xdc_plan *p)
{
	return p->p_nact;
}

const struct xdc_action *
plan_action(const struct xdc_plan *p, size_t i)
{
	return &p->p_act[i]->pa;
}

const uint32_t *
plan_depends(const struct xdc_plan *p, size_t i, size_t *n)
{
	*n = p->p_act[i]->pa_ndeps;
	return p->p_act[i]->pa_deps;
}

const char *
plan_reason(const struct xdc_plan *p, size_t i)
{
	return p->p_act[i]->pa_reason;
}

size_t
plan_ndeferred(const struct xdc_plan *p)
{
	return p->p_ndef;
}

size_t
plan_managed_vms(const struct xdc_plan *p)
{
	return p->p_managed_vms;
}

size_t
plan_vm_destroys(const struct xdc_plan *p)
{
	size_t i, n = 0;

	/* A destroy of a declared VM is half of a move, not a loss. */
	for (i = 0; i < p->p_nact; i++)
		if (p->p_act[i]->pa.a_op == XDC_OP_DESTROY &&
		    p->p_act[i]->pa.a_kind == XDC_OBJ_VM &&
		    p->p_act[i]->pa_vm == NULL)
			n++;
	/* The guard is the pool's: an agent's own part counts the rest. */
	return n + p->p_destroys_else;
}

void
plan_summary(const struct xdc_plan *p, size_t counts[5])
{
	size_t i;

	memset(counts, 0, 5 * sizeof(counts[0]));
	for (i = 0; i < p->p_nact; i++) {
		switch (p->p_act[i]->pa.a_op) {
		case XDC_OP_CREATE:
			counts[0]++;
			break;
		case XDC_OP_UPDATE:
			counts[1]++;
			break;
		case XDC_OP_REPLACE:
			counts[2]++;
			break;
		case XDC_OP_DESTROY:
			counts[3]++;
			break;
		default:
			counts[4]++;
			break;
		}
	}
}
