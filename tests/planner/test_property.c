/*
 * A seeded property test of the whole pipeline: loader -> planner -> sim
 * driver, on random but valid configurations and random pools.
 *
 * Each run generates two configurations as YAML text: one that built the
 * pool in the past, applied through the sim driver, after which some of its
 * domains crash and domains xdc does not own appear; and the configuration
 * now in force, most often the next commit of the past one (VMs resized,
 * paused, stopped, rebuilt, moved, dropped, added; hosts drained; moves
 * live on every other run, as the sim can migrate), else an
 * unrelated one. Then it observes, plans and applies every action, round
 * after round, and checks:
 *
 *  (a) the rounds converge: a plan with no actions, and nothing deferred
 *      but what protection holds and what waits for it (min_running
 *      deferrals drain);
 *  (b) no action, done or deferred, names an unmanaged domain or Domain-0,
 *      and the plan lists every unmanaged domain; no destroy of a domain
 *      marked protected, no replace of a VM declared protected;
 *  (c) every unmanaged domain is still there at the end, untouched;
 *  (d) planning the same configuration and observation twice prints the
 *      same bytes, JSON and text;
 *  (e) once converged, the pool is what the configuration declares: each
 *      VM with its memory, vCPUs, state, scheduler parameters and NICs on a
 *      declared, active host (its pinned one when pinned), each Network on
 *      every declared host, nothing undeclared left;
 *  and every action the planner emits succeeds on the sim (the generator
 *  leaves ample capacity, so a failure is the planner's or the sim's), and
 *  the loader accepts every generated configuration.
 *
 * The generator keeps every configuration valid and satisfiable: hosts of
 * 64GiB or more (both configurations and the unmanaged domains fit on any
 * one of them), at least one active host, SLAs with disjoint selectors, a
 * cap within 100 x max_vcpus, spread only where it fits, min_running only
 * below the VMs that will run and never over protected VMs.
 *
 *	XDC_PROPERTY_SEED=N    the seed (default 0x5eed2026; decimal or 0x..)
 *	XDC_PROPERTY_RUNS=N    how many runs (default 300; 30 under valgrind)
 *	XDC_PROPERTY_VERBOSE=1 print each run's configurations
 *
 * A failure prints the seed and the run, both configurations and the last
 * plan; every run is a function of (seed, run) alone.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "drivers/driver.h"
#include "drivers/sim.h"
#include "planner/plan.h"
#include "base/diag.h"
#include "base/error.h"
#include "schema/model.h"
#include "schema/schema.h"

#define DEFAULT_SEED  0x5eed2026ULL
#define DEFAULT_RUNS  300
#define VALGRIND_RUNS 30
#define MAX_ROUNDS    20

#define MAX_HOSTS     3
#define MAX_NETS      3
#define MAX_VMS       12
#define MAX_SLAS      3
#define MAX_TIERS     3
#define NAME_POOL     16 /* vm-0 .. vm-15, shared by both configurations */
#define MAX_UNMANAGED 3
#define MAX_FILES     3

#define MIB (1024ULL * 1024)

/* ---- A seeded generator: splitmix64 ----------------------------------- */

struct rng {
	uint64_t r_state;
};

static uint64_t
rng_next(struct rng *r)
{
	uint64_t z = (r->r_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n); n > 0. The bias of a modulo is irrelevant here. */
static unsigned
rng_below(struct rng *r, unsigned n)
{
	return (unsigned)(rng_next(r) % n);
}

static int
rng_pct(struct rng *r, unsigned pct)
{
	return rng_below(r, 100) < pct;
}

static void
rng_shuffle(struct rng *r, int *v, int n)
{
	int i, j, t;

	for (i = n - 1; i > 0; i--) {
		j = (int)rng_below(r, (unsigned)i + 1);
		t = v[i];
		v[i] = v[j];
		v[j] = t;
	}
}

/* ---- The generated configuration, before it is YAML ------------------- */

static const char *const host_names[MAX_HOSTS] = { "xa", "xb", "xc" };
static const char *const net_names[MAX_NETS] = { "dmz", "backend", "mgmt" };
static const char *const sla_names[MAX_SLAS] = { "gold", "silver", "bronze" };
static const char *const uplinks[] = { "eth0", "eth1", "eth2", "eth3" };

enum { ST_RUNNING, ST_STOPPED, ST_PAUSED }; /* as enum xdc_vm_state */

struct g_host {
	int h_name; /* index into host_names */
	unsigned h_mem_gib;
	unsigned h_cpus; /* 0: not declared */
	int h_drained;
};

struct g_net {
	int n_name;
	int n_bridge; /* declare "br-NAME" rather than the default */
	int n_uplink; /* index into uplinks, or -1 */
	unsigned n_vlan;
	unsigned n_mtu;
};

struct g_disk {
	int d_vdev;     /* 0 default, 1 xvdX, 2 sdX */
	int d_format;   /* -1 default, else raw, qcow2, vhd */
	int d_readonly; /* -1 not written */
	int d_image;    /* a file rather than a volume */
};

struct g_nic {
	int c_net;
	unsigned c_mac; /* 0: derived; else the low 16 bits, unique */
};

struct g_vm {
	int v_name; /* vm-N */
	int v_type; /* -1 not written, else pv, pvh, hvm */
	unsigned v_mem_mib, v_maxmem_mib; /* 0: not written */
	int v_mem_form;                   /* 0 MiB, 1 GiB when whole, 2 bytes */
	unsigned v_vcpus, v_max_vcpus;    /* 0: not written */
	int v_kernel, v_ramdisk, v_cmdline; /* -1: none */
	struct g_disk v_disks[2];
	int v_ndisks;
	int v_empty_lists; /* write "disks: []" and "nics: []" */
	struct g_nic v_nics[2];
	int v_nnics;
	int v_host;    /* -1 placed, else index into g_cfg.c_hosts; -2 local */
	int v_state;   /* -1 not written */
	int v_protect; /* -1 not written */
	int v_tier;    /* -1 no tier label */
	int v_app;
};

struct g_sla {
	int s_tier;
	unsigned s_weight; /* 0: not written */
	int s_cap;         /* -1: not written */
	int s_restart, s_limit;
	int s_spread;      /* 0 not written, 1 none, 2 host */
	int s_min_running; /* -1: not written */
};

struct g_cfg {
	struct g_host c_hosts[MAX_HOSTS];
	int c_nhosts;
	struct g_net c_nets[MAX_NETS];
	int c_nnets;
	struct g_vm c_vms[MAX_VMS];
	int c_nvms;
	struct g_sla c_slas[MAX_SLAS];
	int c_nslas;
};

static unsigned
vm_vcpus(const struct g_vm *v)
{
	return v->v_vcpus ? v->v_vcpus : 1;
}

static unsigned
vm_max_vcpus(const struct g_vm *v)
{
	return v->v_max_vcpus ? v->v_max_vcpus : vm_vcpus(v);
}

static int
vm_state(const struct g_vm *v)
{
	return v->v_state < 0 ? ST_RUNNING : v->v_state;
}

static int
vm_protected(const struct g_vm *v)
{
	return v->v_protect == 1;
}

/* Hosts: 0-3 of xa, xb, xc, never all drained. */
static void
gen_hosts(struct rng *r, struct g_cfg *c, int past_hosts)
{
	static const unsigned mems[] = { 64, 96, 128 };
	static const unsigned cpus[] = { 8, 12, 16, 32 };
	int order[MAX_HOSTS] = { 0, 1, 2 }, i, active = 0;

	c->c_nhosts = (int)rng_below(r, MAX_HOSTS + 1);
	/* Hosts dropped from a pool that had them: now and then only. */
	if (c->c_nhosts == 0 && past_hosts && rng_pct(r, 60))
		c->c_nhosts = 1 + (int)rng_below(r, MAX_HOSTS);
	rng_shuffle(r, order, MAX_HOSTS);
	for (i = 0; i < c->c_nhosts; i++) {
		c->c_hosts[i].h_name = order[i];
		c->c_hosts[i].h_mem_gib = mems[rng_below(r, 3)];
		c->c_hosts[i].h_cpus =
		    rng_pct(r, 25) ? 0 : cpus[rng_below(r, 4)];
		c->c_hosts[i].h_drained = c->c_nhosts > 1 && rng_pct(r, 30);
		active += !c->c_hosts[i].h_drained;
	}
	if (c->c_nhosts > 0 && active == 0)
		c->c_hosts[rng_below(r, (unsigned)c->c_nhosts)].h_drained = 0;
}

static void
gen_nets(struct rng *r, struct g_cfg *c)
{
	static const unsigned mtus[] = { 1400, 1500, 9000 };
	int order[MAX_NETS] = { 0, 1, 2 }, up[4] = { 0, 1, 2, 3 }, i, nup = 0;

	c->c_nnets = (int)rng_below(r, MAX_NETS + 1);
	rng_shuffle(r, order, MAX_NETS);
	rng_shuffle(r, up, 4);
	for (i = 0; i < c->c_nnets; i++) {
		struct g_net *n = &c->c_nets[i];

		n->n_name = order[i];
		n->n_bridge = rng_pct(r, 30);
		/* Distinct uplinks: (uplink, vlan) is unique whatever vlan. */
		n->n_uplink = rng_pct(r, 35) ? up[nup++] : -1;
		n->n_vlan = n->n_uplink >= 0 && rng_pct(r, 40)
		                ? 1 + rng_below(r, 4094)
		                : 0;
		n->n_mtu = rng_pct(r, 30) ? mtus[rng_below(r, 3)] : 0;
	}
}

static int
active_host(struct rng *r, const struct g_cfg *c)
{
	int v[MAX_HOSTS], i, n = 0;

	for (i = 0; i < c->c_nhosts; i++)
		if (!c->c_hosts[i].h_drained)
			v[n++] = i;
	return v[rng_below(r, (unsigned)n)];
}

static void
gen_vm(struct rng *r, struct g_cfg *c, struct g_vm *v, int name, unsigned *mac)
{
	int i;

	memset(v, 0, sizeof(*v));
	v->v_name = name;
	v->v_type = rng_pct(r, 30) ? -1 : (int)rng_below(r, 3);
	/* A kernel for pv and pvh; an hvm guest has one now and then. */
	v->v_kernel =
	    v->v_type != 2 || rng_pct(r, 30) ? (int)rng_below(r, 2) : -1;
	v->v_ramdisk = v->v_kernel >= 0 && rng_pct(r, 30) ? 0 : -1;
	v->v_cmdline =
	    v->v_kernel >= 0 && rng_pct(r, 50) ? (int)rng_below(r, 2) : -1;
	v->v_mem_mib = 128 * (1 + rng_below(r, 16)); /* 128MiB .. 2GiB */
	v->v_mem_form = (int)rng_below(r, 3);
	v->v_maxmem_mib =
	    rng_pct(r, 40) ? v->v_mem_mib + 128 * rng_below(r, 8) : 0;
	v->v_vcpus = rng_pct(r, 30) ? 0 : 1 + rng_below(r, 4);
	v->v_max_vcpus = rng_pct(r, 40) ? vm_vcpus(v) + rng_below(r, 5) : 0;
	v->v_ndisks = (int)rng_below(r, 3);
	for (i = 0; i < v->v_ndisks; i++) {
		v->v_disks[i].d_vdev = (int)rng_below(r, 3);
		v->v_disks[i].d_format =
		    rng_pct(r, 50) ? -1 : (int)rng_below(r, 3);
		v->v_disks[i].d_readonly =
		    rng_pct(r, 80) ? -1 : (int)rng_below(r, 2);
		v->v_disks[i].d_image = rng_pct(r, 30);
	}
	v->v_nnics = c->c_nnets > 0 ? (int)rng_below(r, 3) : 0;
	for (i = 0; i < v->v_nnics; i++) {
		v->v_nics[i].c_net = (int)rng_below(r, (unsigned)c->c_nnets);
		v->v_nics[i].c_mac = rng_pct(r, 20) ? ++*mac : 0;
	}
	v->v_empty_lists = rng_pct(r, 10);
	if (rng_pct(r, 25))
		v->v_host = c->c_nhosts == 0 ? -2 : active_host(r, c);
	else
		v->v_host = -1;
	if (rng_pct(r, 40)) {
		v->v_state = -1;
	} else {
		i = (int)rng_below(r, 4);
		v->v_state = i < 2    ? ST_RUNNING
		             : i == 2 ? ST_PAUSED
		                      : ST_STOPPED;
	}
	i = (int)rng_below(r, 100);
	v->v_protect = i < 15 ? 1 : i < 25 ? 0 : -1;
	v->v_tier = rng_pct(r, 75) ? (int)rng_below(r, MAX_TIERS) : -1;
	v->v_app = rng_pct(r, 50);
}

/*
 * SLA k selects {tier: tk}: disjoint selectors, so no two SLAs set a field
 * of one VM. prev_protected[name] marks the VMs the pool's past
 * configuration protected: their domains may stay protected (and so held)
 * whatever this configuration says, so no min_running counts on them.
 */
static void
gen_sla(struct rng *r, const struct g_cfg *c, struct g_sla *s, int tier,
    const uint8_t *prev_protected)
{
	const struct g_vm *v;
	const struct g_vm *pinned[MAX_VMS];
	unsigned min_max_vcpus = 0, nsel = 0, nrun = 0, active = 0, npinned = 0;
	int i, j, protect = 0, distinct = 1;

	memset(s, 0, sizeof(*s));
	s->s_tier = tier;
	for (i = 0; i < c->c_nhosts; i++)
		active += !c->c_hosts[i].h_drained;
	if (c->c_nhosts == 0)
		active = 1;
	for (i = 0; i < c->c_nvms; i++) {
		v = &c->c_vms[i];
		if (v->v_tier != tier)
			continue;
		nsel++;
		if (min_max_vcpus == 0 || vm_max_vcpus(v) < min_max_vcpus)
			min_max_vcpus = vm_max_vcpus(v);
		nrun += vm_state(v) == ST_RUNNING;
		protect |= vm_protected(v) || (prev_protected != NULL &&
		                                  prev_protected[v->v_name]);
		if (v->v_host >= 0 || v->v_host == -2) {
			for (j = 0; j < (int)npinned; j++)
				if (pinned[j]->v_host == v->v_host)
					distinct = 0;
			pinned[npinned++] = v;
		}
	}
	if (min_max_vcpus == 0)
		min_max_vcpus = 1;
	s->s_weight = rng_pct(r, 50) ? 1 + rng_below(r, 65535) : 0;
	s->s_cap =
	    rng_pct(r, 50) ? (int)rng_below(r, 100 * min_max_vcpus + 1) : -1;
	s->s_restart = rng_pct(r, 50);
	s->s_limit = rng_pct(r, 25);
	if (nsel <= active && distinct && rng_pct(r, 40))
		s->s_spread = 2;
	else
		s->s_spread = rng_pct(r, 15) ? 1 : 0;
	/*
	 * Below the VMs that will run, so that each round may disrupt at
	 * least one of them and the deferrals drain.
	 */
	s->s_min_running = -1;
	if (!protect && nrun >= 2 && rng_pct(r, 50))
		s->s_min_running = 1 + (int)rng_below(r, nrun - 1 < 2 ? 1 : 2);
}

static void
gen_config(struct rng *r, struct g_cfg *c, const struct g_cfg *past,
    const uint8_t *prev_protected)
{
	int names[NAME_POOL], i;
	unsigned mac = 0;

	memset(c, 0, sizeof(*c));
	gen_hosts(r, c, past != NULL && past->c_nhosts > 0);
	gen_nets(r, c);
	for (i = 0; i < NAME_POOL; i++)
		names[i] = i;
	rng_shuffle(r, names, NAME_POOL);
	c->c_nvms = (int)rng_below(r, MAX_VMS + 1);
	for (i = 0; i < c->c_nvms; i++)
		gen_vm(r, c, &c->c_vms[i], names[i], &mac);
	c->c_nslas = (int)rng_below(r, MAX_SLAS + 1);
	for (i = 0; i < c->c_nslas; i++)
		gen_sla(r, c, &c->c_slas[i], i, prev_protected);
}

/* A VM's pin, made valid again after the hosts changed. */
static void
fix_pin(struct rng *r, const struct g_cfg *c, struct g_vm *v)
{
	if (v->v_host == -1)
		return;
	if (c->c_nhosts == 0) {
		v->v_host = rng_pct(r, 50) ? -2 : -1;
		return;
	}
	if (v->v_host == -2 || v->v_host >= c->c_nhosts ||
	    c->c_hosts[v->v_host].h_drained)
		v->v_host = rng_pct(r, 50) ? active_host(r, c) : -1;
}

/*
 * The configuration now in force as the next commit of the past one, so
 * that plans have in-place updates, state changes and restarts, not only
 * replaces: most VMs keep their build, some change what runs, a few are
 * rebuilt, dropped or added; hosts drain, networks change.
 */
static void
mutate_config(struct rng *r, const struct g_cfg *past, struct g_cfg *c,
    const uint8_t *prev_protected)
{
	struct g_vm fresh, *v;
	uint8_t used[NAME_POOL] = { 0 };
	unsigned mac = 0x1000;
	int i, j, k, n, name;

	*c = *past;
	/* Hosts: drain or bring back one, or a new set. */
	if (rng_pct(r, 20)) {
		gen_hosts(r, c, past->c_nhosts > 0);
	} else if (c->c_nhosts > 1 && rng_pct(r, 40)) {
		k = (int)rng_below(r, (unsigned)c->c_nhosts);
		c->c_hosts[k].h_drained = !c->c_hosts[k].h_drained;
		for (i = n = 0; i < c->c_nhosts; i++)
			n += !c->c_hosts[i].h_drained;
		if (n == 0)
			c->c_hosts[k].h_drained = 0;
	}
	/* Networks: a new set now and then, an MTU changed. */
	if (rng_pct(r, 20))
		gen_nets(r, c);
	else if (c->c_nnets > 0 && rng_pct(r, 30))
		c->c_nets[rng_below(r, (unsigned)c->c_nnets)].n_mtu =
		    rng_pct(r, 50) ? 9000 : 0;

	/* VMs: drop some, change the rest, add a few. */
	for (i = n = 0; i < past->c_nvms; i++) {
		if (rng_pct(r, 15))
			continue;
		v = &c->c_vms[n++];
		*v = past->c_vms[i];
		used[v->v_name] = 1;
		if (v->v_maxmem_mib && rng_pct(r, 40))
			v->v_mem_mib =
			    128 * (1 + rng_below(r, v->v_maxmem_mib / 128));
		if (v->v_max_vcpus && rng_pct(r, 40))
			v->v_vcpus = 1 + rng_below(r, v->v_max_vcpus);
		if (rng_pct(r, 25)) {
			k = (int)rng_below(r, 4);
			v->v_state = k == 0   ? -1
			             : k == 1 ? ST_RUNNING
			             : k == 2 ? ST_PAUSED
			                      : ST_STOPPED;
		}
		if (rng_pct(r, 15))
			v->v_protect = v->v_protect == 1 ? 0 : 1;
		if (rng_pct(r, 15))
			v->v_tier =
			    rng_pct(r, 80) ? (int)rng_below(r, MAX_TIERS) : -1;
		if (rng_pct(r, 15)) {
			/* A rebuild: what the domain's build fixes. */
			gen_vm(r, c, &fresh, v->v_name, &mac);
			v->v_type = fresh.v_type;
			v->v_kernel = fresh.v_kernel;
			v->v_ramdisk = fresh.v_ramdisk;
			v->v_cmdline = fresh.v_cmdline;
			memcpy(v->v_disks, fresh.v_disks, sizeof(v->v_disks));
			v->v_ndisks = fresh.v_ndisks;
		}
		if (rng_pct(r, 15))
			v->v_host = rng_pct(r, 50)     ? -1
			            : c->c_nhosts == 0 ? -2
			                               : active_host(r, c);
		fix_pin(r, c, v);
		/* NICs on networks that may be gone; one added or dropped. */
		for (j = k = 0; j < v->v_nnics; j++)
			if (v->v_nics[j].c_net < c->c_nnets)
				v->v_nics[k++] = v->v_nics[j];
		v->v_nnics = k;
		if (rng_pct(r, 15) && v->v_nnics > 0)
			v->v_nnics--;
		else if (rng_pct(r, 15) && v->v_nnics < 2 && c->c_nnets > 0) {
			v->v_nics[v->v_nnics].c_net =
			    (int)rng_below(r, (unsigned)c->c_nnets);
			v->v_nics[v->v_nnics++].c_mac = 0;
		}
	}
	for (k = (int)rng_below(r, 4); k > 0 && n < MAX_VMS; k--) {
		for (name = (int)rng_below(r, NAME_POOL); used[name];)
			name = (name + 1) % NAME_POOL;
		used[name] = 1;
		gen_vm(r, c, &c->c_vms[n++], name, &mac);
	}
	c->c_nvms = n;
	c->c_nslas = (int)rng_below(r, MAX_SLAS + 1);
	for (i = 0; i < c->c_nslas; i++)
		gen_sla(r, c, &c->c_slas[i], i, prev_protected);
}

/* ---- YAML ------------------------------------------------------------- */

struct docs {
	char *d_text[1 + MAX_HOSTS + MAX_NETS + MAX_VMS + MAX_SLAS];
	int d_n;
};

struct files {
	char d_name[MAX_FILES][32];
	char *d_text[MAX_FILES];
	size_t d_len[MAX_FILES];
	int d_n;
};

static void
size_yaml(FILE *f, const char *key, unsigned mib, int form)
{
	if (form == 1 && mib % 1024 == 0)
		fprintf(f, "%s: %uGiB\n", key, mib / 1024);
	else if (form == 2)
		fprintf(f, "%s: %llu\n", key, (unsigned long long)mib * MIB);
	else
		fprintf(f, "%s: %uMiB\n", key, mib);
}

static char *
host_yaml(const struct g_host *h)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	fprintf(f, "kind: Host\nname: %s\nmemory: %uGiB\n",
	    host_names[h->h_name], h->h_mem_gib);
	if (h->h_cpus)
		fprintf(f, "cpus: %u\n", h->h_cpus);
	if (h->h_drained)
		fputs("state: drained\n", f);
	else if (h->h_cpus % 2)
		fputs("state: active\n", f);
	fclose(f);
	return buf;
}

static char *
net_yaml(const struct g_net *n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	fprintf(f, "kind: Network\nname: %s\n", net_names[n->n_name]);
	if (n->n_bridge)
		fprintf(f, "bridge: br-%s\n", net_names[n->n_name]);
	if (n->n_uplink >= 0)
		fprintf(f, "uplink: %s\n", uplinks[n->n_uplink]);
	if (n->n_vlan)
		fprintf(f, "vlan: %u\n", n->n_vlan);
	if (n->n_mtu)
		fprintf(f, "mtu: %u\n", n->n_mtu);
	fclose(f);
	return buf;
}

static char *
vm_yaml(const struct g_cfg *c, const struct g_vm *v)
{
	static const char *const types[] = { "pv", "pvh", "hvm" };
	static const char *const kernels[] = { "/boot/vmlinuz-6.1",
		"/boot/vmlinuz-6.6" };
	static const char *const cmdlines[] = { "console=hvc0 root=/dev/xvda1",
		"console=hvc0 ro quiet" };
	static const char *const formats[] = { "raw", "qcow2", "vhd" };
	static const char *const states[] = { "running", "stopped", "paused" };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int i;

	fprintf(f, "kind: VM\nname: vm-%d\n", v->v_name);
	if (v->v_tier >= 0 && v->v_app)
		fprintf(f, "labels: {tier: t%d, app: shop}\n", v->v_tier);
	else if (v->v_tier >= 0)
		fprintf(f, "labels:\n  tier: t%d\n", v->v_tier);
	else if (v->v_app)
		fputs("labels: {app: shop}\n", f);
	if (v->v_type >= 0)
		fprintf(f, "type: %s\n", types[v->v_type]);
	size_yaml(f, "memory", v->v_mem_mib, v->v_mem_form);
	if (v->v_maxmem_mib)
		size_yaml(f, "max_memory", v->v_maxmem_mib, v->v_mem_form);
	if (v->v_vcpus)
		fprintf(f, "vcpus: %u\n", v->v_vcpus);
	if (v->v_max_vcpus)
		fprintf(f, "max_vcpus: %u\n", v->v_max_vcpus);
	if (v->v_kernel >= 0)
		fprintf(f, "kernel: %s\n", kernels[v->v_kernel]);
	if (v->v_ramdisk >= 0)
		fputs("ramdisk: /boot/initrd-6.1.img\n", f);
	if (v->v_cmdline >= 0)
		fprintf(f, "cmdline: \"%s\"\n", cmdlines[v->v_cmdline]);
	if (v->v_ndisks > 0)
		fputs("disks:\n", f);
	else if (v->v_empty_lists)
		fputs("disks: []\n", f);
	for (i = 0; i < v->v_ndisks; i++) {
		const struct g_disk *d = &v->v_disks[i];

		if (d->d_image)
			fprintf(f, "  - {target: /var/lib/xdc/vm-%d-%d.img",
			    v->v_name, i);
		else
			fprintf(
			    f, "  - {target: /dev/vg0/vm-%d-%d", v->v_name, i);
		/* xvdX is the default's own name; sdX is never a default. */
		if (d->d_vdev)
			fprintf(f, ", vdev: %s%c",
			    d->d_vdev == 1 ? "xvd" : "sd", 'a' + i);
		if (d->d_format >= 0)
			fprintf(f, ", format: %s", formats[d->d_format]);
		if (d->d_readonly >= 0)
			fprintf(f, ", readonly: %s",
			    d->d_readonly ? "true" : "false");
		fputs("}\n", f);
	}
	if (v->v_nnics > 0)
		fputs("nics:\n", f);
	else if (v->v_empty_lists)
		fputs("nics: []\n", f);
	for (i = 0; i < v->v_nnics; i++) {
		fprintf(f, "  - network: %s\n",
		    net_names[c->c_nets[v->v_nics[i].c_net].n_name]);
		if (v->v_nics[i].c_mac)
			fprintf(f, "    mac: \"00:16:3e:7f:%02x:%02x\"\n",
			    (v->v_nics[i].c_mac >> 8) & 0xff,
			    v->v_nics[i].c_mac & 0xff);
	}
	if (v->v_host == -2)
		fputs("host: local\n", f);
	else if (v->v_host >= 0)
		fprintf(
		    f, "host: %s\n", host_names[c->c_hosts[v->v_host].h_name]);
	if (v->v_state >= 0)
		fprintf(f, "state: %s\n", states[v->v_state]);
	if (v->v_protect >= 0)
		fprintf(f, "protect: %s\n", v->v_protect ? "true" : "false");
	fclose(f);
	return buf;
}

static char *
sla_yaml(const struct g_sla *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	fprintf(f, "kind: SLA\nname: %s\nselector: {tier: t%d}\n",
	    sla_names[s->s_tier], s->s_tier);
	if (s->s_weight || s->s_cap >= 0)
		fputs("cpu:\n", f);
	if (s->s_weight)
		fprintf(f, "  weight: %u\n", s->s_weight);
	if (s->s_cap >= 0)
		fprintf(f, "  cap: %d\n", s->s_cap);
	if (s->s_restart || s->s_limit || s->s_spread || s->s_min_running >= 0)
		fputs("availability:\n", f);
	if (s->s_restart)
		fputs("  restart: always\n", f);
	if (s->s_limit)
		fputs("  restart_limit: 5/1h\n", f);
	if (s->s_spread)
		fprintf(
		    f, "  spread: %s\n", s->s_spread == 2 ? "host" : "none");
	if (s->s_min_running >= 0)
		fprintf(f, "  min_running: %d\n", s->s_min_running);
	fclose(f);
	return buf;
}

/* The documents, shuffled into one to three files. */
static void
render(struct rng *r, const struct g_cfg *c, struct files *out)
{
	struct docs d;
	FILE *f[MAX_FILES];
	int order[1 + MAX_HOSTS + MAX_NETS + MAX_VMS + MAX_SLAS];
	int nonempty[MAX_FILES] = { 0 }, i, k;

	memset(&d, 0, sizeof(d));
	for (i = 0; i < c->c_nhosts; i++)
		d.d_text[d.d_n++] = host_yaml(&c->c_hosts[i]);
	for (i = 0; i < c->c_nnets; i++)
		d.d_text[d.d_n++] = net_yaml(&c->c_nets[i]);
	for (i = 0; i < c->c_nvms; i++)
		d.d_text[d.d_n++] = vm_yaml(c, &c->c_vms[i]);
	for (i = 0; i < c->c_nslas; i++)
		d.d_text[d.d_n++] = sla_yaml(&c->c_slas[i]);
	for (i = 0; i < d.d_n; i++)
		order[i] = i;
	rng_shuffle(r, order, d.d_n);

	memset(out, 0, sizeof(*out));
	out->d_n = 1 + (int)rng_below(r, MAX_FILES);
	for (k = 0; k < out->d_n; k++) {
		snprintf(out->d_name[k], sizeof(out->d_name[k]), "gen/%c.yaml",
		    'a' + k);
		f[k] = open_memstream(&out->d_text[k], &out->d_len[k]);
		if (rng_pct(r, 20))
			fputs("# generated\n", f[k]);
	}
	for (i = 0; i < d.d_n; i++) {
		k = (int)rng_below(r, (unsigned)out->d_n);
		if (nonempty[k]++ > 0 || rng_pct(r, 10))
			fputs("---\n", f[k]);
		fputs(d.d_text[order[i]], f[k]);
		free(d.d_text[order[i]]);
	}
	for (k = 0; k < out->d_n; k++)
		fclose(f[k]);
}

static void
files_free(struct files *fs)
{
	int k;

	for (k = 0; k < fs->d_n; k++)
		free(fs->d_text[k]);
	memset(fs, 0, sizeof(*fs));
}

static void
files_print(const char *what, const struct files *fs)
{
	int k;

	print_error("---- %s ----\n", what);
	for (k = 0; k < fs->d_n; k++)
		fprintf(stderr, "# file %s\n%s", fs->d_name[k], fs->d_text[k]);
}

/* ---- One run ---------------------------------------------------------- */

struct unmanaged {
	char um_name[24];
	char um_host[16];
	uint32_t um_domid;
	uint64_t um_memory;
};

struct tally {
	unsigned long t_runs, t_actions, t_rounds_max, t_deferred_final;
	unsigned long t_crashed, t_unmanaged;
	unsigned long t_ops[XDC_OP__COUNT]; /* VM actions applied, by op */
};

struct run {
	uint64_t r_seed;
	unsigned r_iter;
	int r_round;
	struct files r_past, r_now;
	char r_dir[128];
	char r_path[160];
	struct xdc_config *r_cfg; /* the configuration now in force */
	struct xdc_driver *r_drv;
	struct unmanaged r_um[MAX_UNMANAGED];
	int r_num;
	char *r_last_plan;                     /* JSON of the last plan made */
	const struct xdc_observed *r_last_obs; /* what it was made from */
};

static struct run the_run;
static struct run *current; /* for the failure report and the teardown */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
obs_print(const struct xdc_observed *obs)
{
	const struct xdc_obs_host *oh;
	const struct xdc_obs_domain *d;
	size_t i, j;

	fprintf(stderr, "---- the pool the last plan saw ----\n");
	for (i = 0; i < obs->obs_nhosts; i++) {
		oh = &obs->obs_hosts[i];
		fprintf(stderr, "host %s: %llu MiB, %llu MiB free, %u CPUs\n",
		    oh->oh_name, (unsigned long long)(oh->oh_memory / MIB),
		    (unsigned long long)(oh->oh_free_memory / MIB),
		    oh->oh_cpus);
		for (j = 0; j < oh->oh_ndomains; j++) {
			d = &oh->oh_domains[j];
			fprintf(stderr,
			    "  %-10s id %-3u %-8s %5llu MiB %u/%u "
			    "vCPUs w %u c %u %s%s\n",
			    d->od_name, d->od_domid,
			    xdc_dom_state_name(d->od_state),
			    (unsigned long long)(d->od_memory / MIB),
			    d->od_vcpus, d->od_max_vcpus, d->od_weight,
			    d->od_cap, d->od_managed ? "managed" : "unmanaged",
			    d->od_protect ? " protected" : "");
		}
		for (j = 0; j < oh->oh_nnetworks; j++)
			fprintf(stderr, "  bridge %s (%s) mtu %u%s\n",
			    oh->oh_networks[j].on_bridge,
			    oh->oh_networks[j].on_name
			        ? oh->oh_networks[j].on_name
			        : "-",
			    oh->oh_networks[j].on_mtu,
			    oh->oh_networks[j].on_managed ? " managed" : "");
	}
}

/* Say which run failed, with everything needed to replay it, then fail. */
static void
die(const char *fmt, ...)
{
	struct run *r = current;
	va_list ap;
	char msg[2048];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	print_error("property: seed 0x%llx run %u round %d: %s\n",
	    (unsigned long long)r->r_seed, r->r_iter, r->r_round, msg);
	print_error("replay: XDC_PROPERTY_SEED=0x%llx XDC_PROPERTY_RUNS=%u "
	            "build/tests/planner/test_property\n",
	    (unsigned long long)r->r_seed, r->r_iter + 1);
	files_print("the configuration that built the pool", &r->r_past);
	files_print("the configuration in force", &r->r_now);
	if (r->r_last_obs != NULL)
		obs_print(r->r_last_obs);
	if (r->r_last_plan != NULL)
		fprintf(stderr, "---- the last plan ----\n%s", r->r_last_plan);
	fail();
}

static void
dump_diags(const struct xdc_diags *d)
{
	const struct xdc_diag *g;
	size_t i;

	for (i = 0; (g = xdc_diags_get(d, i)) != NULL; i++)
		print_error("  %s:%u:%u: error: %s\n", g->dg_file, g->dg_line,
		    g->dg_col, g->dg_msg);
}

/* Load generated files; NULL (with the diagnostics printed) if rejected. */
static struct xdc_config *
load_files(const struct files *fs)
{
	struct xdc_diags *d = xdc_diags_new();
	struct schema_loader *sl = schema_loader_new("gen", d);
	struct xdc_config *cfg = NULL;
	int k, rc;

	for (k = 0; k < fs->d_n; k++)
		schema_loader_add(
		    sl, fs->d_name[k], fs->d_text[k], fs->d_len[k]);
	rc = schema_loader_finish(sl, &cfg);
	if (rc != 0 || cfg == NULL) {
		print_error("property: the loader rejected a generated "
		            "configuration (rc %d):\n",
		    rc);
		dump_diags(d);
		cfg = NULL;
	}
	xdc_diags_free(d);
	return cfg;
}

static char *
plan_json(const struct xdc_plan *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(plan_print_json(p, f), 0);
	plan_print_text(p, f);
	fclose(f);
	return buf;
}

static const time_t plan_time = 1795262400; /* 2026-11-21T12:00:00Z */

/* Plan cfg against obs, which must succeed. */
static struct xdc_plan *
make_plan(const struct xdc_config *cfg, const struct xdc_observed *obs)
{
	struct xdc_diags *d = xdc_diags_new();
	struct plan_opts opts;
	struct xdc_plan *p = NULL;
	int rc;

	memset(&opts, 0, sizeof(opts));
	opts.po_now = plan_time;
	/* Every other run moves VMs live, as the sim can (XDC_DRV_MIGRATE). */
	opts.po_migrate = current != NULL && (current->r_iter & 1);
	rc = plan_compute(cfg, obs, &opts, &p, d);
	if (rc != 0) {
		dump_diags(d);
		xdc_diags_free(d);
		die("plan_compute returned %d for a satisfiable configuration",
		    rc);
	}
	xdc_diags_free(d);
	return p;
}

static struct xdc_observed *
observe(struct xdc_driver *drv)
{
	struct xdc_observed *obs = NULL;

	if (drv->observe(drv, &obs) != 0)
		die("observe: %s", xdc_error_last());
	return obs;
}

/* Apply every action of p in order, each of which must succeed. */
static unsigned long
apply_all(struct xdc_driver *drv, const struct xdc_plan *p, unsigned long *ops)
{
	const struct xdc_action *a;
	size_t i, n = plan_count(p);

	if (drv->begin != NULL && drv->begin(drv) != 0)
		die("begin: %s", xdc_error_last());
	for (i = 0; i < n; i++) {
		a = plan_action(p, i);
		if (drv->apply(drv, a) != 0)
			die("action %zu (%s %s %s on %s) failed: %s", i + 1,
			    xdc_op_name(a->a_op), xdc_obj_kind_name(a->a_kind),
			    a->a_name, a->a_host, xdc_error_last());
		if (ops != NULL && a->a_kind == XDC_OBJ_VM)
			ops[a->a_op]++;
	}
	if (drv->end != NULL && drv->end(drv) != 0)
		die("end: %s", xdc_error_last());
	return n;
}

static int
is_unmanaged_name(const struct run *r, const char *name)
{
	int i;

	for (i = 0; i < r->r_num; i++)
		if (!strcmp(r->r_um[i].um_name, name))
			return 1;
	return 0;
}

static int
is_unmanaged_domid(const struct run *r, uint32_t domid)
{
	int i;

	for (i = 0; i < r->r_num; i++)
		if (r->r_um[i].um_domid == domid)
			return 1;
	return 0;
}

static int
host_declared(const struct xdc_config *cfg, const char *host)
{
	if (cfg->cfg_nhosts == 0)
		return !strcmp(host, XDC_LOCAL_HOST);
	return xdc_config_host(cfg, host) != NULL;
}

/*
 * (b): nothing a plan does, or holds back, touches what xdc does not own,
 * and the plan lists each unmanaged domain. Protection holds: no destroy
 * of a domain that is protected (by its declaration, or by its marker once
 * undeclared), no replace of a VM declared protected.
 */
static void
check_actions(const struct run *r, const struct xdc_plan *p,
    const struct xdc_observed *obs, json_t *root)
{
	const struct xdc_vm *vm;
	const struct xdc_action *a;
	const struct xdc_obs_host *oh;
	const struct xdc_obs_domain *d;
	json_t *def, *um, *e;
	const char *name;
	size_t i;
	int k;

	for (i = 0; i < plan_count(p); i++) {
		a = plan_action(p, i);
		if (!strcmp(a->a_name, "Domain-0") ||
		    is_unmanaged_name(r, a->a_name))
			die("action %zu (%s) names %s, which xdc does not own",
			    i + 1, xdc_op_name(a->a_op), a->a_name);
		if (a->a_kind != XDC_OBJ_VM || a->a_op == XDC_OP_CREATE)
			continue;
		if (a->a_domid == 0 || is_unmanaged_domid(r, a->a_domid))
			die("action %zu (%s %s) acts on domain id %u, which "
			    "xdc "
			    "does not own",
			    i + 1, xdc_op_name(a->a_op), a->a_name, a->a_domid);
		oh = xdc_observed_host(obs, a->a_host);
		d = oh != NULL ? xdc_obs_host_domain(oh, a->a_name) : NULL;
		if (d == NULL || d->od_domid != a->a_domid)
			die("action %zu (%s %s on %s) names domain id %u, "
			    "which "
			    "that host does not run",
			    i + 1, xdc_op_name(a->a_op), a->a_name, a->a_host,
			    a->a_domid);
		/*
		 * SPEC §3: a declared VM is protected as its declaration
		 * says now; an undeclared domain as its marker says.
		 */
		vm = xdc_config_vm(r->r_cfg, a->a_name);
		if (a->a_op == XDC_OP_DESTROY &&
		    (vm != NULL ? vm->vm_protect : d->od_protect))
			die("action %zu destroys %s, which is protected", i + 1,
			    a->a_name);
		if (a->a_op == XDC_OP_REPLACE && a->a_spec->ds_vm->vm_protect)
			die("action %zu replaces %s, declared protected", i + 1,
			    a->a_name);
	}
	def = json_object_get(root, "deferred");
	json_array_foreach(def, i, e)
	{
		name = json_string_value(json_object_get(e, "name"));
		if (name == NULL || !strcmp(name, "Domain-0") ||
		    is_unmanaged_name(r, name))
			die("deferred action %zu names %s, which xdc does not "
			    "own",
			    i, name ? name : "(null)");
	}
	um = json_object_get(root, "unmanaged");
	for (k = 0; k < r->r_num; k++) {
		json_array_foreach(um, i, e)
		{
			if (!strcmp(
			        json_string_value(json_object_get(e, "name")),
			        r->r_um[k].um_name) &&
			    !strcmp(
			        json_string_value(json_object_get(e, "host")),
			        r->r_um[k].um_host) &&
			    json_integer_value(json_object_get(e, "domid")) ==
			        (json_int_t)r->r_um[k].um_domid)
				break;
		}
		/* Only the hosts the configuration declares are looked at. */
		if (i == json_array_size(um) &&
		    host_declared(r->r_cfg, r->r_um[k].um_host))
			die("the plan does not list the unmanaged domain %s "
			    "(id %u on %s)",
			    r->r_um[k].um_name, r->r_um[k].um_domid,
			    r->r_um[k].um_host);
	}
}

static const char *
field(json_t *e, const char *key)
{
	return json_string_value(json_object_get(e, key));
}

/*
 * (a)'s exception is a deferral that protection holds, directly or through
 * what it waits for. What a deferral waits for: the NAME of "waits for the
 * deferred OP of KIND NAME", or NULL.
 */
static const char *
waits_for(const char *held)
{
	static const char prefix[] = "waits for the deferred ";
	const char *sp;

	if (strncmp(held, prefix, sizeof(prefix) - 1) != 0)
		return NULL;
	/* "waits for the deferred OP of KIND NAME": the last word. */
	sp = strrchr(held, ' ');
	return sp != NULL ? sp + 1 : NULL;
}

/*
 * Whether protection holds the deferral e, which it may only for a VM
 * declared protect: true or an undeclared domain whose marker is
 * protected (SPEC §3): a declaration's protect: false frees its domain,
 * whatever the marker says.
 */
static int
held_by_protection(
    const struct run *r, const struct xdc_observed *obs, json_t *e)
{
	const char *name = field(e, "name");
	const struct xdc_vm *vm;
	const struct xdc_obs_host *oh;
	const struct xdc_obs_domain *d;
	int protect;

	if (strstr(field(e, "held"), " is protected") == NULL)
		return 0;
	if ((vm = xdc_config_vm(r->r_cfg, name)) != NULL) {
		protect = vm->vm_protect;
	} else {
		oh = xdc_observed_host(obs, field(e, "host"));
		d = oh != NULL ? xdc_obs_host_domain(oh, name) : NULL;
		protect = d != NULL && d->od_protect;
	}
	if (!protect)
		die("%s %s %s is held as protected, and is not: %s",
		    field(e, "op"), field(e, "kind"), name, field(e, "held"));
	return 1;
}

static void
check_deferred(const struct run *r, const struct xdc_observed *obs,
    json_t *root, struct tally *t)
{
	json_t *def = json_object_get(root, "deferred"), *e, *o;
	size_t n = json_array_size(def), i, j;
	uint8_t ok[64] = { 0 };
	const char *on;
	int changed = 1;

	if (n > sizeof(ok))
		die("%zu deferred actions", n);
	json_array_foreach(def, i, e)
	{
		if (field(e, "op") == NULL || field(e, "kind") == NULL ||
		    field(e, "name") == NULL || field(e, "host") == NULL ||
		    field(e, "held") == NULL)
			die("deferred action %zu lacks op, kind, name, host or "
			    "held",
			    i);
		ok[i] = (uint8_t)held_by_protection(r, obs, e);
	}
	/*
	 * Waiting for what protection holds is right for a VM's own old
	 * domain (a protected VM that moves) and for a Network whose bridge
	 * a protected VM is still on; a VM waiting for another VM's deferral
	 * is not, since a held destroy frees nothing for it to wait for.
	 */
	while (changed) {
		changed = 0;
		json_array_foreach(def, i, e)
		{
			if (ok[i] || (on = waits_for(field(e, "held"))) == NULL)
				continue;
			if (strcmp(field(e, "kind"), "Network") != 0 &&
			    strcmp(field(e, "name"), on) != 0)
				continue;
			for (j = 0; j < n; j++) {
				o = json_array_get(def, j);
				if (ok[j] && !strcmp(field(o, "name"), on))
					break;
			}
			if (j < n)
				ok[i] = changed = 1;
		}
	}
	json_array_foreach(def, i, e)
	{
		if (!ok[i])
			die("not converged: %s %s %s is still deferred: %s",
			    field(e, "op"), field(e, "kind"), field(e, "name"),
			    field(e, "held"));
	}
	t->t_deferred_final += n;
}

/* Names the final plan defers: (e) leaves them out. */
static int
deferred_names(json_t *root, const char *name)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(root, "deferred"), i, e)
	{
		if (!strcmp(
		        json_string_value(json_object_get(e, "name")), name))
			return 1;
	}
	return 0;
}

static const struct xdc_obs_network *
obs_bridge(const struct xdc_obs_host *oh, const char *bridge)
{
	size_t i;

	for (i = 0; i < oh->oh_nnetworks; i++)
		if (!strcmp(oh->oh_networks[i].on_bridge, bridge))
			return &oh->oh_networks[i];
	return NULL;
}

static int
bridge_declared(const struct xdc_config *cfg, const char *bridge)
{
	size_t i;

	for (i = 0; i < cfg->cfg_nnetworks; i++)
		if (!strcmp(cfg->cfg_networks[i].n_bridge, bridge))
			return 1;
	return 0;
}

static int
str_eq(const char *a, const char *b)
{
	return a == NULL || b == NULL ? a == b : !strcmp(a, b);
}

/* (e) for one VM: where and how it runs. */
static void
check_vm(const struct xdc_config *cfg, const struct xdc_observed *obs,
    const struct xdc_vm *vm)
{
	const struct xdc_obs_domain *d, *found = NULL;
	const struct xdc_obs_host *oh, *where = NULL;
	const struct xdc_host *h;
	const struct xdc_sla *s;
	uint32_t weight, cap;
	size_t i, j, n = 0;

	for (i = 0; i < obs->obs_nhosts; i++) {
		oh = &obs->obs_hosts[i];
		if (!host_declared(cfg, oh->oh_name))
			continue;
		if ((d = xdc_obs_host_domain(oh, vm->vm_name)) == NULL)
			continue;
		n++;
		found = d;
		where = oh;
	}
	if (vm->vm_state == XDC_VM_STOPPED) {
		if (n != 0)
			die("VM %s is declared stopped and has a domain on %s",
			    vm->vm_name, where->oh_name);
		return;
	}
	if (n != 1)
		die("VM %s has %zu domains on the declared hosts; want 1",
		    vm->vm_name, n);
	d = found;
	if (!d->od_managed)
		die("VM %s: its domain is not managed", vm->vm_name);
	if (vm->vm_host != NULL && strcmp(vm->vm_host, where->oh_name))
		die("VM %s is pinned to %s and runs on %s", vm->vm_name,
		    vm->vm_host, where->oh_name);
	h = xdc_config_host(cfg, where->oh_name);
	if (h != NULL && h->h_state == XDC_HOST_DRAINED)
		die("VM %s runs on the drained host %s", vm->vm_name,
		    where->oh_name);
	if (d->od_state !=
	    (vm->vm_state == XDC_VM_PAUSED ? XDC_DOM_PAUSED : XDC_DOM_RUNNING))
		die("VM %s is %s; declared %s", vm->vm_name,
		    xdc_dom_state_name(d->od_state),
		    xdc_vm_state_name(vm->vm_state));
	if (d->od_memory != vm->vm_memory ||
	    d->od_max_memory != vm->vm_max_memory ||
	    d->od_vcpus != vm->vm_vcpus || d->od_max_vcpus != vm->vm_max_vcpus)
		die("VM %s runs with memory %llu/%llu, vcpus %u/%u; declared "
		    "%llu/%llu, %u/%u",
		    vm->vm_name, (unsigned long long)d->od_memory,
		    (unsigned long long)d->od_max_memory, d->od_vcpus,
		    d->od_max_vcpus, (unsigned long long)vm->vm_memory,
		    (unsigned long long)vm->vm_max_memory, vm->vm_vcpus,
		    vm->vm_max_vcpus);
	s = xdc_vm_policy(cfg, vm, XDC_POL_CPU_WEIGHT);
	weight = s != NULL ? s->s_cpu_weight : XDC_DEFAULT_WEIGHT;
	s = xdc_vm_policy(cfg, vm, XDC_POL_CPU_CAP);
	cap = s != NULL ? s->s_cpu_cap : 0;
	if (d->od_weight != weight || d->od_cap != cap)
		die("VM %s runs with weight %u cap %u; its SLAs say %u and %u",
		    vm->vm_name, d->od_weight, d->od_cap, weight, cap);
	if (!d->od_protect != !vm->vm_protect)
		die("VM %s: protect %d in its marker, %d declared", vm->vm_name,
		    d->od_protect, vm->vm_protect);
	if (d->od_nnics != vm->vm_nnics)
		die("VM %s has %zu NICs; declared %zu", vm->vm_name,
		    d->od_nnics, vm->vm_nnics);
	for (j = 0; j < vm->vm_nnics; j++) {
		const char *br =
		    cfg->cfg_networks[vm->vm_nics[j].nic_net].n_bridge;

		if (strcmp(d->od_nics[j].on_bridge, br) ||
		    memcmp(d->od_nics[j].on_mac, vm->vm_nics[j].nic_mac, 6))
			die("VM %s: NIC %zu is on %s, declared on %s (or its "
			    "MAC differs)",
			    vm->vm_name, j, d->od_nics[j].on_bridge, br);
		if (obs_bridge(where, br) == NULL)
			die("VM %s: NIC %zu's bridge %s is not on host %s",
			    vm->vm_name, j, br, where->oh_name);
	}
}

/* (e): the converged pool is the configuration. */
static void
check_pool(const struct run *r, const struct xdc_observed *obs, json_t *root)
{
	const struct xdc_config *cfg = r->r_cfg;
	const struct xdc_obs_host *oh;
	const struct xdc_obs_domain *d;
	const struct xdc_obs_network *on;
	const struct xdc_network *n;
	size_t i, j;

	/* Without Hosts, xdc manages one host, local: it must be there. */
	if (cfg->cfg_nhosts == 0 &&
	    xdc_observed_host(obs, XDC_LOCAL_HOST) == NULL)
		die("no Hosts declared, and the pool has no host local");
	for (i = 0; i < cfg->cfg_nvms; i++)
		if (!deferred_names(root, cfg->cfg_vms[i].vm_name))
			check_vm(cfg, obs, &cfg->cfg_vms[i]);
	for (i = 0; i < obs->obs_nhosts; i++) {
		oh = &obs->obs_hosts[i];
		if (!host_declared(cfg, oh->oh_name))
			continue;
		for (j = 0; j < oh->oh_ndomains; j++) {
			d = &oh->oh_domains[j];
			if (d->od_managed &&
			    xdc_config_vm(cfg, d->od_name) == NULL &&
			    !deferred_names(root, d->od_name))
				die("host %s still runs %s, which is not "
				    "declared",
				    oh->oh_name, d->od_name);
		}
		for (j = 0; j < cfg->cfg_nnetworks; j++) {
			n = &cfg->cfg_networks[j];
			on = obs_bridge(oh, n->n_bridge);
			if (on == NULL || !on->on_managed || !on->on_up)
				die("host %s: Network %s (bridge %s) is "
				    "missing, down or not managed",
				    oh->oh_name, n->n_name, n->n_bridge);
			if ((n->n_mtu != 0 && on->on_mtu != n->n_mtu) ||
			    !str_eq(on->on_uplink, n->n_uplink) ||
			    on->on_vlan != n->n_vlan)
				die("host %s: Network %s has mtu %u uplink %s "
				    "vlan %u",
				    oh->oh_name, n->n_name, on->on_mtu,
				    on->on_uplink ? on->on_uplink : "-",
				    on->on_vlan);
		}
		for (j = 0; j < oh->oh_nnetworks; j++) {
			on = &oh->oh_networks[j];
			if (on->on_managed &&
			    !bridge_declared(cfg, on->on_bridge) &&
			    (on->on_name == NULL ||
			        !deferred_names(root, on->on_name)))
				die("host %s keeps the undeclared bridge %s",
				    oh->oh_name, on->on_bridge);
		}
	}
}

/* (c): what xdc does not own is as it was. */
static void
check_unmanaged(const struct run *r, const struct xdc_observed *obs)
{
	const struct xdc_obs_host *oh;
	const struct xdc_obs_domain *d;
	const struct unmanaged *u;
	int i;

	for (i = 0; i < r->r_num; i++) {
		u = &r->r_um[i];
		oh = xdc_observed_host(obs, u->um_host);
		d = oh != NULL ? xdc_obs_host_domain(oh, u->um_name) : NULL;
		if (d == NULL)
			die("the unmanaged domain %s is gone from host %s",
			    u->um_name, u->um_host);
		if (d->od_managed || d->od_domid != u->um_domid ||
		    d->od_memory != u->um_memory)
			die("the unmanaged domain %s changed: managed %d, id "
			    "%u "
			    "(was %u), memory %llu (was %llu)",
			    u->um_name, d->od_managed, d->od_domid, u->um_domid,
			    (unsigned long long)d->od_memory,
			    (unsigned long long)u->um_memory);
	}
	for (oh = obs->obs_hosts; oh < obs->obs_hosts + obs->obs_nhosts; oh++)
		if (xdc_obs_host_domain(oh, "Domain-0") == NULL)
			die("host %s lost its Domain-0", oh->oh_name);
}

/*
 * The pool's past: the other configuration applied once, then some of its
 * domains crash and domains xdc does not own appear.
 */
static void
build_past(
    struct run *r, struct rng *rng, struct xdc_config *past, struct tally *t)
{
	struct xdc_driver *drv = NULL;
	struct xdc_observed *obs;
	struct xdc_plan *p;
	const struct xdc_obs_host *oh;
	const struct xdc_obs_domain *d;
	struct unmanaged *u;
	size_t i, j;
	int k;

	if (sim_open(r->r_path, past, &drv) != 0)
		die("sim_open: %s", xdc_error_last());
	obs = observe(drv);
	p = make_plan(past, obs);
	apply_all(drv, p, NULL);
	xdc_plan_free(p);
	xdc_observed_free(obs);

	obs = observe(drv);
	for (i = 0; i < obs->obs_nhosts; i++) {
		oh = &obs->obs_hosts[i];
		for (j = 0; j < oh->oh_ndomains; j++) {
			d = &oh->oh_domains[j];
			if (d->od_domid == 0 || !rng_pct(rng, 25))
				continue;
			if (sim_crash(drv, d->od_name) != 0)
				die("sim_crash %s: %s", d->od_name,
				    xdc_error_last());
			t->t_crashed++;
		}
	}
	r->r_num = (int)rng_below(rng, MAX_UNMANAGED + 1);
	for (k = 0; k < r->r_num; k++) {
		u = &r->r_um[k];
		oh = &obs->obs_hosts[rng_below(rng, (unsigned)obs->obs_nhosts)];
		snprintf(u->um_name, sizeof(u->um_name), "legacy-%d", k);
		snprintf(u->um_host, sizeof(u->um_host), "%s", oh->oh_name);
		u->um_memory = 256 * MIB * (1 + rng_below(rng, 4));
		if (sim_add_unmanaged(
		        drv, u->um_name, u->um_memory, u->um_host) != 0)
			die("sim_add_unmanaged %s: %s", u->um_name,
			    xdc_error_last());
		t->t_unmanaged++;
	}
	xdc_observed_free(obs);
	/* Their ids, as the pool assigned them; a few crash too. */
	obs = observe(drv);
	for (k = 0; k < r->r_num; k++) {
		u = &r->r_um[k];
		d = xdc_obs_host_domain(
		    xdc_observed_host(obs, u->um_host), u->um_name);
		assert_non_null(d);
		u->um_domid = d->od_domid;
		if (rng_pct(rng, 20) && sim_crash(drv, u->um_name) != 0)
			die("sim_crash %s: %s", u->um_name, xdc_error_last());
	}
	xdc_observed_free(obs);
	drv->free(drv);
}

/* Observe, plan, apply until a plan has nothing to do. */
static void
converge(struct run *r, struct tally *t)
{
	struct xdc_observed *obs = NULL;
	struct xdc_plan *p = NULL, *q = NULL;
	char *again = NULL;
	json_t *root = NULL;
	json_error_t jerr;

	for (r->r_round = 1;; r->r_round++) {
		obs = observe(r->r_drv);
		r->r_last_obs = obs;
		p = make_plan(r->r_cfg, obs);
		free(r->r_last_plan);
		r->r_last_plan = plan_json(p);

		/* (d): the same inputs, the same bytes. */
		q = make_plan(r->r_cfg, obs);
		again = plan_json(q);
		if (strcmp(r->r_last_plan, again) != 0) {
			fprintf(stderr, "---- planned again ----\n%s", again);
			die("planning twice gave different plans");
		}
		free(again);
		xdc_plan_free(q);

		root =
		    json_loads(r->r_last_plan, JSON_DISABLE_EOF_CHECK, &jerr);
		if (root == NULL)
			die("the plan's JSON does not parse: %s", jerr.text);
		check_actions(r, p, obs, root);
		if (plan_count(p) == 0)
			break;
		if (r->r_round == MAX_ROUNDS)
			die("not converged after %d rounds", MAX_ROUNDS);
		t->t_actions += apply_all(r->r_drv, p, t->t_ops);
		json_decref(root);
		xdc_plan_free(p);
		r->r_last_obs = NULL;
		xdc_observed_free(obs);
	}
	if ((unsigned long)r->r_round > t->t_rounds_max)
		t->t_rounds_max = (unsigned long)r->r_round;

	/* (a), (e), (c) on the converged pool. */
	check_deferred(r, obs, root, t);
	check_pool(r, obs, root);
	check_unmanaged(r, obs);
	json_decref(root);
	xdc_plan_free(p);
	r->r_last_obs = NULL;
	xdc_observed_free(obs);
}

static uint64_t
env_u64(const char *name, uint64_t dflt)
{
	const char *s = getenv(name);
	char *end;
	unsigned long long v;

	if (s == NULL || *s == '\0')
		return dflt;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0') {
		print_error("property: %s=\"%s\" is not a number\n", name, s);
		fail();
	}
	return v;
}

/* Valgrind preloads its own libraries into the program it runs. */
static int
under_valgrind(void)
{
	const char *p = getenv("LD_PRELOAD");

	return (p != NULL && strstr(p, "vgpreload") != NULL) ||
	       getenv("RUNNING_ON_VALGRIND") != NULL;
}

static void
unlink_pool(const struct run *r)
{
	char lock[200];

	snprintf(lock, sizeof(lock), "%s.lock", r->r_path);
	unlink(r->r_path);
	unlink(lock);
}

static void
test_random_pools_converge_to_random_configurations(void **state)
{
	struct tally t;
	struct g_cfg past, now;
	struct rng rng;
	struct xdc_config *past_cfg;
	uint8_t protected[NAME_POOL];
	unsigned long rejected = 0, runs;
	struct timespec t0, t1;
	const char *tmp = getenv("TMPDIR");
	int i;

	(void)state;
	memset(&the_run, 0, sizeof(the_run));
	memset(&t, 0, sizeof(t));
	current = &the_run;
	the_run.r_seed = env_u64("XDC_PROPERTY_SEED", DEFAULT_SEED);
	runs = (unsigned long)env_u64("XDC_PROPERTY_RUNS",
	    under_valgrind() ? VALGRIND_RUNS : DEFAULT_RUNS);
	/* The sim syncs its file on every write: tmpfs when there is one. */
	if (tmp == NULL || *tmp == '\0')
		tmp =
		    access("/dev/shm", W_OK | X_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(the_run.r_dir, sizeof(the_run.r_dir), "%s/xdc-property.XXXXXX",
	    tmp);
	assert_non_null(mkdtemp(the_run.r_dir));
	snprintf(the_run.r_path, sizeof(the_run.r_path), "%s/sim.json",
	    the_run.r_dir);
	clock_gettime(CLOCK_MONOTONIC, &t0);

	for (the_run.r_iter = 0; the_run.r_iter < runs; the_run.r_iter++) {
		/* Each run a function of (seed, run) alone. */
		rng.r_state = the_run.r_seed ^
		              (0xa0761d6478bd642fULL * (the_run.r_iter + 1));
		the_run.r_round = 0;
		gen_config(&rng, &past, NULL, NULL);
		render(&rng, &past, &the_run.r_past);
		memset(protected, 0, sizeof(protected));
		for (i = 0; i < past.c_nvms; i++)
		protected[past.c_vms[i].v_name] =
		    (uint8_t)vm_protected(&past.c_vms[i]);
		if (rng_pct(&rng, 75))
			mutate_config(&rng, &past, &now, protected);
		else
			gen_config(&rng, &now, &past, protected);
		render(&rng, &now, &the_run.r_now);
		if (getenv("XDC_PROPERTY_VERBOSE") != NULL) {
			printf("run %u\n", the_run.r_iter);
			files_print("past", &the_run.r_past);
			files_print("now", &the_run.r_now);
		}

		past_cfg = load_files(&the_run.r_past);
		the_run.r_cfg = load_files(&the_run.r_now);
		if (past_cfg == NULL || the_run.r_cfg == NULL) {
			/* The generator's mistake: counted, and fatal below. */
			files_print(past_cfg == NULL ? "rejected (past)"
			                             : "rejected (now)",
			    past_cfg == NULL ? &the_run.r_past
			                     : &the_run.r_now);
			rejected++;
			xdc_config_free(past_cfg);
			xdc_config_free(the_run.r_cfg);
			the_run.r_cfg = NULL;
			files_free(&the_run.r_past);
			files_free(&the_run.r_now);
			continue;
		}

		unlink_pool(&the_run);
		build_past(&the_run, &rng, past_cfg, &t);
		if (sim_open(the_run.r_path, the_run.r_cfg, &the_run.r_drv) !=
		    0)
			die("sim_open: %s", xdc_error_last());
		converge(&the_run, &t);
		t.t_runs++;

		the_run.r_drv->free(the_run.r_drv);
		the_run.r_drv = NULL;
		xdc_config_free(past_cfg);
		xdc_config_free(the_run.r_cfg);
		the_run.r_cfg = NULL;
		free(the_run.r_last_plan);
		the_run.r_last_plan = NULL;
		files_free(&the_run.r_past);
		files_free(&the_run.r_now);
	}
	unlink_pool(&the_run);
	rmdir(the_run.r_dir);
	clock_gettime(CLOCK_MONOTONIC, &t1);

	printf("property: %lu runs, seed 0x%llx, %.1fs: %lu actions applied, "
	       "at most %lu rounds, %lu domains crashed, %lu unmanaged, %lu "
	       "deferred at the end (protected)\n",
	    t.t_runs, (unsigned long long)the_run.r_seed,
	    (double)(t1.tv_sec - t0.tv_sec) +
	        (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
	    t.t_actions, t.t_rounds_max, t.t_crashed, t.t_unmanaged,
	    t.t_deferred_final);
	printf("property: VM actions applied:");
	for (i = 0; i < XDC_OP__COUNT; i++)
		printf(" %s %lu", xdc_op_name((enum xdc_op)i), t.t_ops[i]);
	printf("\n");
	current = NULL;
	/* The generator is meant to make only valid configurations. */
	if (rejected > 0)
		print_error("property: the loader rejected %lu generated "
		            "configurations: the generator is wrong\n",
		    rejected);
	assert_int_equal(rejected, 0);
	assert_int_equal(t.t_runs, runs);
}

/* After a failure, the pool of the run that failed goes too. */
static int
teardown(void **state)
{
	(void)state;
	if (current != NULL && current->r_dir[0] != '\0') {
		unlink_pool(current);
		rmdir(current->r_dir);
	}
	current = NULL;
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(
		    test_random_pools_converge_to_random_configurations,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
