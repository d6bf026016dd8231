/*
 * The rules that span objects, run once every file is read: unique names,
 * references from VMs to Networks and Hosts, unique bridges, uplinks and
 * MAC addresses, and which SLA sets which policy field of each VM.
 *
 * Each rule is a sort and a walk or a binary search, never a join of every
 * object with every other: a configuration of 100,000 VMs checks in
 * O(n log n).
 */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "schema/label_index.h"
#include "schema/loader.h"
#include "schema/values.h"

/* ---- Names ------------------------------------------------------------ */

/* Arrays are sorted by name, then position: a duplicate follows its first. */
static void
check_names(struct loader *l, const struct xdc_config *cfg, const void *v,
    size_t n, enum kind k)
{
	const struct object_type *t = schema_kinds[k];
	const char *a, *b;
	struct xdc_loc la, lb;
	size_t i, first = 0;

	for (i = 1; i < n; i++) {
		a = (const char *)v + first * t->o_size;
		b = (const char *)v + i * t->o_size;
		if (strcmp(*(const char *const *)a, *(const char *const *)b)) {
			first = i;
			continue;
		}
		/* Index 1 is every kind's name field. */
		la = xdc_loc_unpack(cfg->cfg_wide,
		    (const struct xdc_at *)(const void *)(a + t->o_at_off),
		    ((const uint32_t *)(const void *)(a + t->o_pos_off))[1]);
		lb = xdc_loc_unpack(cfg->cfg_wide,
		    (const struct xdc_at *)(const void *)(b + t->o_at_off),
		    ((const uint32_t *)(const void *)(b + t->o_pos_off))[1]);
		loader_diag_loc(l, lb,
		    "name: %s \"%s\" is already declared at %s", t->o_name,
		    *(const char *const *)b, loader_where(l, la));
	}
}

/* ---- Networks --------------------------------------------------------- */

static int
net_bridge_cmp(const void *a, const void *b, void *arg)
{
	const struct xdc_config *cfg = arg;
	const struct xdc_network *x = *(const struct xdc_network *const *)a;
	const struct xdc_network *y = *(const struct xdc_network *const *)b;
	int c = strcmp(x->n_bridge, y->n_bridge);

	if (c != 0)
		return c;
	return loc_before(xdc_network_loc(cfg, x, NET_F_NAME),
	           xdc_network_loc(cfg, y, NET_F_NAME))
	           ? -1
	           : 1;
}

/* An uplink (or one VLAN of it) can be a port of only one bridge. */
static int
net_uplink_cmp(const void *a, const void *b, void *arg)
{
	const struct xdc_config *cfg = arg;
	const struct xdc_network *x = *(const struct xdc_network *const *)a;
	const struct xdc_network *y = *(const struct xdc_network *const *)b;
	int c = strcmp(x->n_uplink, y->n_uplink);

	if (c != 0)
		return c;
	if (x->n_vlan != y->n_vlan)
		return x->n_vlan < y->n_vlan ? -1 : 1;
	return loc_before(xdc_network_loc(cfg, x, NET_F_NAME),
	           xdc_network_loc(cfg, y, NET_F_NAME))
	           ? -1
	           : 1;
}

static void
check_networks(struct loader *l, struct xdc_config *cfg)
{
	const struct xdc_network **v, *a, *b;
	size_t i, n = 0;

	v = xdc_calloc(cfg->cfg_nnetworks + 1, sizeof(*v));
	for (i = 0; i < cfg->cfg_nnetworks; i++)
		if (cfg->cfg_networks[i].n_bridge != NULL)
			v[n++] = &cfg->cfg_networks[i];
	qsort_r(v, n, sizeof(*v), net_bridge_cmp, cfg);
	for (i = 1; i < n; i++) {
		a = v[i - 1];
		b = v[i];
		/* Two Networks of one name: that is the error, said once. */
		if (strcmp(a->n_bridge, b->n_bridge) != 0 ||
		    !strcmp(a->n_name, b->n_name))
			continue;
		loader_diag_loc(l,
		    xdc_network_loc(cfg, b,
		        (b->n_set & (1u << NET_F_BRIDGE)) ? NET_F_BRIDGE
		                                          : NET_F_NAME),
		    "bridge: \"%s\" is also the bridge of Network \"%s\" (%s)",
		    b->n_bridge, a->n_name,
		    loader_where(l, xdc_network_loc(cfg, a, NET_F_NAME)));
	}

	n = 0;
	for (i = 0; i < cfg->cfg_nnetworks; i++)
		if (cfg->cfg_networks[i].n_uplink != NULL)
			v[n++] = &cfg->cfg_networks[i];
	qsort_r(v, n, sizeof(*v), net_uplink_cmp, cfg);
	for (i = 1; i < n; i++) {
		a = v[i - 1];
		b = v[i];
		if (strcmp(a->n_uplink, b->n_uplink) != 0 ||
		    a->n_vlan != b->n_vlan)
			continue;
		loader_diag_loc(l, xdc_network_loc(cfg, b, NET_F_UPLINK),
		    "uplink: \"%s\"%s is already the uplink of Network \"%s\" "
		    "(%s)",
		    b->n_uplink,
		    b->n_vlan
		        ? xdc_arena_printf(l->l_nodes, " vlan %u", b->n_vlan)
		        : "",
		    a->n_name,
		    loader_where(l, xdc_network_loc(cfg, a, NET_F_UPLINK)));
	}
	free(v);
}

/* ---- VMs: references -------------------------------------------------- */

static void
check_vm_refs(struct loader *l, struct xdc_config *cfg, struct xdc_vm *vm)
{
	const struct xdc_network *net;
	const struct xdc_host *h = NULL;
	struct xdc_nic *nic;
	uint32_t want;
	size_t i;

	for (i = 0; i < vm->vm_nnics; i++) {
		nic = &vm->vm_nics[i];
		if (nic->nic_network == NULL)
			continue;
		if ((net = xdc_config_network(cfg, nic->nic_network)) == NULL) {
			loader_diag_loc(l, xdc_nic_loc(cfg, nic, NIC_F_NETWORK),
			    "nics[%zu].network: no Network is named \"%s\"", i,
			    nic->nic_network);
			continue;
		}
		nic->nic_net = (uint32_t)(net - cfg->cfg_networks);
	}

	if (vm->vm_host == NULL)
		return;
	if (cfg->cfg_nhosts == 0) {
		if (strcmp(vm->vm_host, XDC_LOCAL_HOST) != 0)
			loader_diag_loc(l, xdc_vm_loc(cfg, vm, VM_F_HOST),
			    "host: no Host is named \"%s\" (this configuration "
			    "declares no Hosts: its one host is \"%s\")",
			    vm->vm_host, XDC_LOCAL_HOST);
		return;
	}
	if ((h = xdc_config_host(cfg, vm->vm_host)) == NULL) {
		loader_diag_loc(l, xdc_vm_loc(cfg, vm, VM_F_HOST),
		    "host: no Host is named \"%s\"", vm->vm_host);
		return;
	}
	if (h->h_state == XDC_HOST_DRAINED)
		loader_diag_loc(l, xdc_vm_loc(cfg, vm, VM_F_HOST),
		    "host: \"%s\" is drained and gets no VMs (unpin the VM, or "
		    "make the host active)",
		    h->h_name);
	want = vm->vm_max_vcpus;
	if (h->h_cpus != 0 && want > h->h_cpus)
		loader_diag_loc(l,
		    xdc_vm_loc(cfg, vm,
		        (vm->vm_set & (1u << VM_F_MAX_VCPUS)) ? VM_F_MAX_VCPUS
		                                              : VM_F_VCPUS),
		    "%s: %u vCPUs are more than the %u CPUs of host \"%s\"",
		    (vm->vm_set & (1u << VM_F_MAX_VCPUS)) ? "max_vcpus"
		                                          : "vcpus",
		    want, h->h_cpus, h->h_name);
}

/* ---- VMs: MAC addresses ----------------------------------------------- */

struct mac_ref {
	uint64_t m_mac;
	const struct xdc_vm *m_vm;
	size_t m_nic;
};

static uint64_t
mac_u64(const uint8_t m[6])
{
	return (uint64_t)m[0] << 40 | (uint64_t)m[1] << 32 |
	       (uint64_t)m[2] << 24 | (uint64_t)m[3] << 16 |
	       (uint64_t)m[4] << 8 | m[5];
}

static int
mac_ref_cmp(const void *a, const void *b, void *arg)
{
	const struct xdc_config *cfg = arg;
	const struct mac_ref *x = a, *y = b;
	struct xdc_loc lx, ly;

	if (x->m_mac != y->m_mac)
		return x->m_mac < y->m_mac ? -1 : 1;
	lx = xdc_nic_loc(cfg, &x->m_vm->vm_nics[x->m_nic], NIC_F_MAC);
	ly = xdc_nic_loc(cfg, &y->m_vm->vm_nics[y->m_nic], NIC_F_MAC);
	return loc_before(lx, ly) ? -1 : loc_before(ly, lx);
}

/* An open-addressing set of MACs: derived MACs must avoid every other. */
struct mac_set {
	uint64_t *ms_v; /* 0 is empty: no MAC is all-zero */
	size_t ms_mask;
};

static int
mac_set_add(struct mac_set *s, uint64_t mac)
{
	size_t i = (size_t)(mac * 0x9e3779b97f4a7c15ULL) & s->ms_mask;

	while (s->ms_v[i] != 0) {
		if (s->ms_v[i] == mac)
			return 0;
		i = (i + 1) & s->ms_mask;
	}
	s->ms_v[i] = mac;
	return 1;
}

static void
check_macs(struct loader *l, struct xdc_config *cfg)
{
	struct mac_ref *refs = NULL;
	struct mac_set set = { NULL, 0 };
	struct xdc_vm *vm;
	struct xdc_nic *nic;
	size_t i, j, n = 0, total = 0, size = 16;
	char name[128];
	uint32_t round;
	int twice = 0;

	for (i = 0; i < cfg->cfg_nvms; i++)
		total += cfg->cfg_vms[i].vm_nnics;
	refs = xdc_calloc(total + 1, sizeof(*refs));
	for (i = 0; i < cfg->cfg_nvms; i++) {
		vm = &cfg->cfg_vms[i];
		for (j = 0; j < vm->vm_nnics; j++) {
			if (!(vm->vm_nics[j].nic_set & (1u << NIC_F_MAC)))
				continue;
			refs[n].m_mac = mac_u64(vm->vm_nics[j].nic_mac);
			refs[n].m_vm = vm;
			refs[n].m_nic = j;
			n++;
		}
	}
	/*
	 * A MAC declared twice is reported in order, by a sort; a set of
	 * the declared MACs tells first whether there is one at all.
	 */
	while (size < 2 * (total + 1))
		size *= 2;
	set.ms_v = xdc_calloc(size, sizeof(*set.ms_v));
	set.ms_mask = size - 1;
	for (i = 0; i < n; i++)
		if (!mac_set_add(&set, refs[i].m_mac))
			twice = 1;
	if (twice)
		qsort_r(refs, n, sizeof(*refs), mac_ref_cmp, cfg);
	for (i = 1; twice && i < n; i++) {
		if (refs[i].m_mac != refs[i - 1].m_mac)
			continue;
		nic = &refs[i].m_vm->vm_nics[refs[i].m_nic];
		loader_diag_loc(l, xdc_nic_loc(cfg, nic, NIC_F_MAC),
		    "nics[%zu].mac: %s is already the MAC of VM \"%s\" (%s)",
		    refs[i].m_nic, xdc_mac_fmt(nic->nic_mac, name),
		    refs[i - 1].m_vm->vm_name,
		    loader_where(
		        l, xdc_nic_loc(cfg,
		               &refs[i - 1].m_vm->vm_nics[refs[i - 1].m_nic],
		               NIC_F_MAC)));
	}

	/*
	 * Derive the rest, in name order, stepping past any MAC already
	 * taken: 24 bits of hash collide now and then in a large pool.
	 */
	for (i = 0; i < cfg->cfg_nvms; i++) {
		vm = &cfg->cfg_vms[i];
		for (j = 0; j < vm->vm_nnics; j++) {
			nic = &vm->vm_nics[j];
			if (nic->nic_set & (1u << NIC_F_MAC))
				continue;
			xdc_mac_derive(vm->vm_name, j, nic->nic_mac);
			for (round = 1;
			     !mac_set_add(&set, mac_u64(nic->nic_mac));
			     round++) {
				snprintf(name, sizeof(name), "%s#%u",
				    vm->vm_name, round);
				xdc_mac_derive(name, j, nic->nic_mac);
			}
		}
	}
	free(set.ms_v);
	free(refs);
}

/* ---- SLAs ------------------------------------------------------------- */

/* The first index in v[0..n) not ordered before (key, value). */
static size_t
label_lower(const struct label_ref *v, size_t n, const struct xdc_label *lb)
{
	size_t lo = 0, hi = n, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(v[mid].lr_key, lb->key);
		if (c == 0)
			c = strcmp(v[mid].lr_value, lb->value);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int
vm_has_label(const struct xdc_vm *vm, const struct xdc_label *want)
{
	size_t lo = 0, hi = vm->vm_labels.lb_n, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(vm->vm_labels.lb_v[mid].key, want->key);
		if (c == 0)
			return !strcmp(
			    vm->vm_labels.lb_v[mid].value, want->value);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* Two SLAs that set one field of some VMs: reported once per pair. */
struct conflict {
	uint32_t c_other;
	const struct xdc_vm *c_vm;
	size_t c_count;
};

struct sla_match {
	struct conflict *sm_conf[XDC_POL__COUNT];
	size_t sm_nconf[XDC_POL__COUNT];
	const struct xdc_vm
	    *sm_cap_vm; /* first VM whose vCPUs the cap exceeds */
	size_t sm_cap_count;
};

static void
sla_apply(
    struct xdc_config *cfg, uint32_t si, struct xdc_vm *vm, struct sla_match *m)
{
	const struct xdc_sla *s = &cfg->cfg_slas[si];
	struct conflict *c;
	enum xdc_policy p;
	size_t k;

	for (p = 0; p < XDC_POL__COUNT; p++) {
		if (!(s->s_set & (1u << XDC_SLA_POLICY_FIELD(p))))
			continue;
		if (vm->vm_sla[p] == XDC_NO_SLA) {
			vm->vm_sla[p] = si;
			continue;
		}
		for (k = 0; k < m->sm_nconf[p]; k++)
			if (m->sm_conf[p][k].c_other == vm->vm_sla[p])
				break;
		if (k == m->sm_nconf[p]) {
			m->sm_conf[p] = xdc_reallocarray(
			    m->sm_conf[p], k + 1, sizeof(*m->sm_conf[p]));
			c = &m->sm_conf[p][k];
			c->c_other = vm->vm_sla[p];
			c->c_vm = vm;
			c->c_count = 0;
			m->sm_nconf[p]++;
		}
		m->sm_conf[p][k].c_count++;
	}
	if ((s->s_set & (1u << SLA_F_CPU_CAP)) &&
	    s->s_cpu_cap > 100u * vm->vm_max_vcpus) {
		if (m->sm_cap_vm == NULL)
			m->sm_cap_vm = vm;
		m->sm_cap_count++;
	}
}

static const char *
and_others(struct loader *l, size_t count)
{
	if (count <= 1)
		return "";
	return xdc_arena_printf(l->l_nodes, " and %zu other VM%s", count - 1,
	    count == 2 ? "" : "s");
}

static void
sla_report(
    struct loader *l, struct xdc_config *cfg, uint32_t si, struct sla_match *m)
{
	const struct xdc_sla *s = &cfg->cfg_slas[si], *o, *later, *earlier;
	const struct conflict *c;
	enum xdc_sla_field f;
	enum xdc_policy p;
	size_t k;

	for (p = 0; p < XDC_POL__COUNT; p++) {
		f = XDC_SLA_POLICY_FIELD(p);
		for (k = 0; k < m->sm_nconf[p]; k++) {
			c = &m->sm_conf[p][k];
			o = &cfg->cfg_slas[c->c_other];
			/* Report at the later declaration, naming the first. */
			later = loc_before(xdc_sla_loc(cfg, o, f),
			            xdc_sla_loc(cfg, s, f))
			            ? s
			            : o;
			earlier = later == s ? o : s;
			loader_diag_loc(l, xdc_sla_loc(cfg, later, f),
			    "%s: SLA \"%s\" and SLA \"%s\" (%s) both set %s "
			    "for VM \"%s\"%s",
			    xdc_policy_name(p), later->s_name, earlier->s_name,
			    loader_where(l, xdc_sla_loc(cfg, earlier, f)),
			    xdc_policy_name(p), c->c_vm->vm_name,
			    and_others(l, c->c_count));
		}
		free(m->sm_conf[p]);
	}
	if (m->sm_cap_vm != NULL)
		loader_diag_loc(l, xdc_sla_loc(cfg, s, SLA_F_CPU_CAP),
		    "cpu.cap: %u%% is more than VM \"%s\" can use with %u "
		    "vCPU%s (at most %u%%)%s",
		    s->s_cpu_cap, m->sm_cap_vm->vm_name,
		    m->sm_cap_vm->vm_max_vcpus,
		    m->sm_cap_vm->vm_max_vcpus == 1 ? "" : "s",
		    100u * m->sm_cap_vm->vm_max_vcpus,
		    and_others(l, m->sm_cap_count));
}

/*
 * Match every SLA's selector against the VMs' labels through an index of
 * (key, value, VM), starting from the selector's rarest pair, and record
 * which SLA sets each policy field of each VM.
 */
static void
check_slas(struct loader *l, struct xdc_config *cfg)
{
	struct label_ref *idx;
	const struct xdc_sla *s;
	struct xdc_vm *vm;
	struct sla_match m;
	size_t i, j, n = 0, best, lo, hi, blo = 0, bhi = 0;

	if (cfg->cfg_nslas == 0)
		return;
	idx = label_index(cfg, &n);

	for (i = 0; i < cfg->cfg_nslas; i++) {
		s = &cfg->cfg_slas[i];
		memset(&m, 0, sizeof(m));
		if (s->s_selector.lb_n == 0) {
			/* An empty selector selects every VM. */
			for (j = 0; j < cfg->cfg_nvms; j++)
				sla_apply(
				    cfg, (uint32_t)i, &cfg->cfg_vms[j], &m);
			sla_report(l, cfg, (uint32_t)i, &m);
			continue;
		}
		best = SIZE_MAX;
		for (j = 0; j < s->s_selector.lb_n; j++) {
			lo = label_lower(idx, n, &s->s_selector.lb_v[j]);
			for (hi = lo; hi < n &&
			              !strcmp(idx[hi].lr_key,
			                  s->s_selector.lb_v[j].key) &&
			              !strcmp(idx[hi].lr_value,
			                  s->s_selector.lb_v[j].value);
			     hi++)
				;
			if (hi - lo < best) {
				best = hi - lo;
				blo = lo;
				bhi = hi;
			}
		}
		for (j = blo; j < bhi; j++) {
			vm = &cfg->cfg_vms[idx[j].lr_vm];
			for (lo = 0; lo < s->s_selector.lb_n; lo++)
				if (!vm_has_label(vm, &s->s_selector.lb_v[lo]))
					break;
			if (lo == s->s_selector.lb_n)
				sla_apply(cfg, (uint32_t)i, vm, &m);
		}
		sla_report(l, cfg, (uint32_t)i, &m);
	}
	free(idx);
}

/* How many VMs a min_running error names; then "and N more". */
#define MIN_RUNNING_NAMED 8

/*
 * min_running counts the selected VMs that run. More than the VMs declared
 * running can never be met: every disruptive action on them would be
 * deferred for ever (SPEC §4's budget), so the SLA is refused here, naming
 * the VMs it selects. An SLA whose VMs are all declared stopped or paused
 * disrupts nothing that runs, and holds nothing.
 */
static void
check_min_running(struct loader *l, struct xdc_config *cfg)
{
	const struct xdc_sla *s;
	size_t *sel = NULL, *run = NULL, i, si, shown;
	char *names = NULL, *next;

	sel = xdc_calloc(cfg->cfg_nslas + 1, sizeof(*sel));
	run = xdc_calloc(cfg->cfg_nslas + 1, sizeof(*run));
	for (i = 0; i < cfg->cfg_nvms; i++) {
		if ((si = cfg->cfg_vms[i].vm_sla[XDC_POL_MIN_RUNNING]) ==
		    XDC_NO_SLA)
			continue;
		sel[si]++;
		run[si] += cfg->cfg_vms[i].vm_state == XDC_VM_RUNNING;
	}
	for (si = 0; si < cfg->cfg_nslas; si++) {
		s = &cfg->cfg_slas[si];
		if (run[si] == 0 || s->s_min_running <= run[si])
			continue;
		names = xdc_strdup("");
		for (i = 0, shown = 0; i < cfg->cfg_nvms; i++) {
			if (cfg->cfg_vms[i].vm_sla[XDC_POL_MIN_RUNNING] != si ||
			    cfg->cfg_vms[i].vm_state != XDC_VM_RUNNING)
				continue;
			if (shown++ == MIN_RUNNING_NAMED)
				break;
			xdc_asprintf(&next, "%s%s%s", names,
			    shown > 1 ? ", " : "", cfg->cfg_vms[i].vm_name);
			free(names);
			names = next;
		}
		if (run[si] > MIN_RUNNING_NAMED) {
			xdc_asprintf(&next, "%s and %zu more", names,
			    run[si] - MIN_RUNNING_NAMED);
			free(names);
			names = next;
		}
		loader_diag_loc(l, xdc_sla_loc(cfg, s, SLA_F_MIN_RUNNING),
		    "availability.min_running: %u is more than the %zu VM%s "
		    "SLA \"%s\" selects%s (%s): every disruptive action on "
		    "them would wait for ever",
		    s->s_min_running, run[si], run[si] == 1 ? "" : "s",
		    s->s_name,
		    run[si] < sel[si] ? " that are declared running" : "",
		    names);
		free(names);
		names = NULL;
	}
	free(sel);
	free(run);
}

/* ---- Scope ------------------------------------------------------------ */

/*
 * A configuration is one scope: every object in it is marked with that
 * scope's name, so a second Scope document could only contradict the
 * first. The later ones are reported, naming the first declared.
 */
static void
check_scopes(struct loader *l, struct xdc_config *cfg)
{
	const struct xdc_scope *first = NULL, *sc;
	size_t i;

	for (i = 0; i < cfg->cfg_nscopes; i++) {
		sc = &cfg->cfg_scopes[i];
		if (first == NULL ||
		    loc_before(xdc_scope_loc(cfg, sc, SCOPE_F_NAME),
		        xdc_scope_loc(cfg, first, SCOPE_F_NAME)))
			first = sc;
	}
	for (i = 0; i < cfg->cfg_nscopes; i++) {
		sc = &cfg->cfg_scopes[i];
		if (sc == first)
			continue;
		loader_diag_loc(l, xdc_scope_loc(cfg, sc, SCOPE_F_NAME),
		    "name: a configuration is one scope, and Scope \"%s\" is "
		    "declared at %s; this second Scope \"%s\" cannot be",
		    first->sc_name,
		    loader_where(l, xdc_scope_loc(cfg, first, SCOPE_F_NAME)),
		    sc->sc_name);
	}
}

void
check_config(struct loader *l, struct xdc_config *cfg)
{
	size_t i;

	check_names(l, cfg, cfg->cfg_hosts, cfg->cfg_nhosts, KIND_HOST);
	check_names(
	    l, cfg, cfg->cfg_networks, cfg->cfg_nnetworks, KIND_NETWORK);
	check_names(l, cfg, cfg->cfg_vms, cfg->cfg_nvms, KIND_VM);
	check_names(l, cfg, cfg->cfg_slas, cfg->cfg_nslas, KIND_SLA);
	check_scopes(l, cfg);
	check_networks(l, cfg);
	for (i = 0; i < cfg->cfg_nvms; i++)
		check_vm_refs(l, cfg, &cfg->cfg_vms[i]);
	check_macs(l, cfg);
	check_slas(l, cfg);
	check_min_running(l, cfg);
}
