/*
 * What the planner tests share: a configuration loaded from YAML held in a
 * string, an observation built by hand the way a driver fills one (hosts
 * sorted by name, their domains by name, their networks by bridge, every
 * string and array in the observation's arena), a plan of the two, and
 * look-ups in the plan by (op, name, host).
 *
 * The plan is also read back through its JSON (SPEC §4), so that "changes"
 * and the deferred actions are checked as a user sees them. A failed
 * assertion prints the plan or the diagnostics and points at the test's
 * line, not at this file.
 *
 * Pointers the observation helpers return stay valid until the next object
 * is added to the same list (a host to the observation, a domain or network
 * to the host): set their fields right away.
 */
#ifndef XDC_TESTS_PLANNER_FIXTURE_H
#define XDC_TESTS_PLANNER_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "drivers/driver.h"
#include "planner/plan.h"
#include "base/arena.h"
#include "base/error.h"
#include "schema/schema.h"

#define KIB 1024ULL
#define MIB (1024 * KIB)
#define GIB (1024 * MIB)

/* The name a single-string configuration's file gets, and its root. */
#define FX_FILE "test.yaml"
#define FX_ROOT "cfg"

/* Tue 2023-11-14 22:13:20 UTC: when plans are made unless a test says. */
#define FX_NOW ((time_t)1700000000)

struct fx {
	struct xdc_config *cfg;
	struct xdc_observed *obs;
	struct xdc_diags *diags;
	struct xdc_plan *plan;
	json_t *json; /* the plan's JSON, read back on first use */
	time_t now;
	/* The agent and its pool view, when a test plays one (pool.c). */
	const char *self;
	const struct xdc_pool_view *pool;
	const char *scope; /* --scope, or NULL (scope.c) */
	int migrate;       /* the driver migrates: plan_opts.po_migrate */
	int whole;         /* every host's actions: plan_opts.po_whole */
	uint32_t next_domid;
	char buf[1024]; /* fx_fields' answer */
};

static inline void
fx_dump_diags(const struct xdc_diags *d)
{
	const struct xdc_diag *g;
	size_t i;

	for (i = 0; (g = xdc_diags_get(d, i)) != NULL; i++)
		print_error("  %s:%u:%u: %s\n", g->dg_file, g->dg_line,
		    g->dg_col, g->dg_msg);
}

static inline void
fx_dump_plan(const struct fx *fx)
{
	if (fx->plan != NULL)
		plan_print_text(fx->plan, stderr);
	else
		fx_dump_diags(fx->diags);
}

/* ---- The configuration ------------------------------------------------ */

/* Load n in-memory files, in the order given; they must be valid. */
static inline struct fx *
fx_load_files(const char *const *names, const char *const *bufs, size_t n,
    const char *file, int line)
{
	struct fx *fx = xdc_calloc(1, sizeof(*fx));
	struct schema_loader *sl;
	size_t i;
	int rc;

	fx->diags = xdc_diags_new();
	fx->obs = xdc_observed_new();
	fx->now = FX_NOW;
	fx->next_domid = 1;
	sl = schema_loader_new(FX_ROOT, fx->diags);
	for (i = 0; i < n; i++)
		schema_loader_add(sl, names[i], bufs[i], strlen(bufs[i]));
	rc = schema_loader_finish(sl, &fx->cfg);
	if (rc != 0 || xdc_diags_count(fx->diags) != 0) {
		print_error("the configuration does not load (%d):\n", rc);
		fx_dump_diags(fx->diags);
		_fail(file, line);
	}
	return fx;
}

static inline struct fx *
fx_load(const char *yaml, const char *file, int line)
{
	const char *name = FX_FILE;

	return fx_load_files(&name, &yaml, 1, file, line);
}

#define fx_new(yaml) fx_load(yaml, __FILE__, __LINE__)
#define fx_new_files(names, bufs, n)                                           \
	fx_load_files(names, bufs, n, __FILE__, __LINE__)

/* Drop the plan (and its JSON), so that the same inputs can be planned
 * again after a change to the observation. */
static inline void
fx_unplan(struct fx *fx)
{
	json_decref(fx->json);
	fx->json = NULL;
	xdc_plan_free(fx->plan);
	fx->plan = NULL;
}

static inline void
fx_free(struct fx *fx)
{
	if (fx == NULL)
		return;
	fx_unplan(fx);
	xdc_observed_free(fx->obs);
	xdc_config_free(fx->cfg);
	xdc_diags_free(fx->diags);
	free(fx);
}

static inline const struct xdc_vm *
fx_vm(const struct fx *fx, const char *name)
{
	const struct xdc_vm *vm = xdc_config_vm(fx->cfg, name);

	if (vm == NULL) {
		print_error("no VM %s is declared\n", name);
		fail();
	}
	return vm;
}

/* ---- The observation -------------------------------------------------- */

static inline struct xdc_obs_host *
fx_find_host(struct fx *fx, const char *name)
{
	size_t i;

	for (i = 0; i < fx->obs->obs_nhosts; i++)
		if (!strcmp(fx->obs->obs_hosts[i].oh_name, name))
			return &fx->obs->obs_hosts[i];
	print_error("no host %s is observed\n", name);
	fail();
	return NULL;
}

/*
 * Insert a zeroed element at its sorted place in an arena array of n,
 * growing it by copying (the arena keeps the old one). key(e) is each
 * element's sort key; returns the new element.
 */
static inline void *
fx_insert(struct xdc_arena *a, void **base, size_t *n, size_t size,
    const char *key, const char *(*keyof)(const void *))
{
	char *v = xdc_arena_alloc(a, (*n + 1) * size);
	size_t at = 0;

	if (*n > 0)
		memcpy(v, *base, *n * size);
	while (at < *n && strcmp(keyof(v + at * size), key) < 0)
		at++;
	assert_true(at == *n || strcmp(keyof(v + at * size), key) != 0);
	memmove(v + (at + 1) * size, v + at * size, (*n - at) * size);
	memset(v + at * size, 0, size);
	*base = v;
	(*n)++;
	return v + at * size;
}

static inline const char *
fx_host_key(const void *e)
{
	return ((const struct xdc_obs_host *)e)->oh_name;
}

static inline const char *
fx_dom_key(const void *e)
{
	return ((const struct xdc_obs_domain *)e)->od_name;
}

static inline const char *
fx_net_key(const void *e)
{
	return ((const struct xdc_obs_network *)e)->on_bridge;
}

/* An observed host with no domains and no networks. */
static inline struct xdc_obs_host *
fx_host(struct fx *fx, const char *name, uint64_t memory, uint32_t cpus)
{
	struct xdc_obs_host *h;
	void *base = fx->obs->obs_hosts;

	h = fx_insert(fx->obs->obs_arena, &base, &fx->obs->obs_nhosts,
	    sizeof(*h), name, fx_host_key);
	fx->obs->obs_hosts = base;
	h->oh_name = xdc_arena_strdup(fx->obs->obs_arena, name);
	h->oh_memory = memory;
	h->oh_free_memory = memory;
	h->oh_cpus = cpus;
	return h;
}

/*
 * One observed host per declared host (or "local" when none is declared),
 * offering its declared memory and CPUs, or 1TiB and 64 when it declares
 * none.
 */
static inline void
fx_hosts(struct fx *fx)
{
	const struct xdc_host *h;
	size_t i;

	if (fx->cfg->cfg_nhosts == 0)
		fx_host(fx, XDC_LOCAL_HOST, 1024 * GIB, 64);
	for (i = 0; i < fx->cfg->cfg_nhosts; i++) {
		h = &fx->cfg->cfg_hosts[i];
		fx_host(fx, h->h_name, h->h_memory ? h->h_memory : 1024 * GIB,
		    h->h_cpus ? h->h_cpus : 64);
	}
}

/*
 * A domain on an observed host: named, given the next domain id, running,
 * and otherwise zero (unmanaged, no NICs, no build record). The test sets
 * the rest.
 */
static inline struct xdc_obs_domain *
fx_dom(struct fx *fx, const char *host, const char *name)
{
	struct xdc_obs_host *h = fx_find_host(fx, host);
	struct xdc_obs_domain *d;
	void *base = h->oh_domains;

	d = fx_insert(fx->obs->obs_arena, &base, &h->oh_ndomains, sizeof(*d),
	    name, fx_dom_key);
	h->oh_domains = base;
	d->od_name = xdc_arena_strdup(fx->obs->obs_arena, name);
	d->od_domid = fx->next_domid++;
	d->od_state = XDC_DOM_RUNNING;
	return d;
}

/* The observed domain name on host, to change it after the fact. */
static inline struct xdc_obs_domain *
fx_find_dom(struct fx *fx, const char *host, const char *name)
{
	struct xdc_obs_host *h = fx_find_host(fx, host);
	size_t i;

	for (i = 0; i < h->oh_ndomains; i++)
		if (!strcmp(h->oh_domains[i].od_name, name))
			return &h->oh_domains[i];
	print_error("no domain %s is observed on %s\n", name, host);
	fail();
	return NULL;
}

/* A domain no one manages: a guest someone started by hand. */
static inline struct xdc_obs_domain *
fx_unmanaged(struct fx *fx, const char *host, const char *name, uint64_t memory)
{
	struct xdc_obs_domain *d = fx_dom(fx, host, name);

	d->od_memory = d->od_max_memory = memory;
	d->od_vcpus = d->od_max_vcpus = 1;
	d->od_weight = XDC_DEFAULT_WEIGHT;
	return d;
}

/* Domain-0: domid 0, never managed. */
static inline struct xdc_obs_domain *
fx_dom0(struct fx *fx, const char *host)
{
	struct xdc_obs_domain *d = fx_unmanaged(fx, host, "Domain-0", 4 * GIB);

	d->od_domid = 0;
	return d;
}

/*
 * A managed domain exactly as xdc would have built the declared VM vmname
 * (its SLAs' weight and cap, its NICs on its networks' bridges with its
 * MACs, the spec hash and a full build record), running on host.
 */
static inline struct xdc_obs_domain *
fx_managed(struct fx *fx, const char *host, const char *vmname)
{
	const struct xdc_vm *vm = fx_vm(fx, vmname);
	const struct xdc_sla *s;
	struct xdc_arena *a = fx->obs->obs_arena;
	struct xdc_obs_domain *d = fx_dom(fx, host, vmname);
	size_t i;

	d->od_memory = vm->vm_memory;
	d->od_max_memory = vm->vm_max_memory;
	d->od_vcpus = vm->vm_vcpus;
	d->od_max_vcpus = vm->vm_max_vcpus;
	s = xdc_vm_policy(fx->cfg, vm, XDC_POL_CPU_WEIGHT);
	d->od_weight = s ? s->s_cpu_weight : XDC_DEFAULT_WEIGHT;
	s = xdc_vm_policy(fx->cfg, vm, XDC_POL_CPU_CAP);
	d->od_cap = s ? s->s_cpu_cap : 0;
	d->od_nnics = vm->vm_nnics;
	d->od_nics =
	    xdc_arena_zalloc(a, (vm->vm_nnics + 1) * sizeof(*d->od_nics));
	for (i = 0; i < vm->vm_nnics; i++) {
		d->od_nics[i].on_bridge = xdc_arena_strdup(
		    a, fx->cfg->cfg_networks[vm->vm_nics[i].nic_net].n_bridge);
		memcpy(d->od_nics[i].on_mac, vm->vm_nics[i].nic_mac, 6);
	}
	d->od_managed = 1;
	d->od_protect = vm->vm_protect;
	d->od_hash = plan_spec_hash(vm);
	d->od_has_build = 1;
	d->od_build.ob_type = vm->vm_type;
	d->od_build.ob_kernel =
	    vm->vm_kernel ? xdc_arena_strdup(a, vm->vm_kernel) : NULL;
	d->od_build.ob_ramdisk =
	    vm->vm_ramdisk ? xdc_arena_strdup(a, vm->vm_ramdisk) : NULL;
	d->od_build.ob_cmdline =
	    vm->vm_cmdline ? xdc_arena_strdup(a, vm->vm_cmdline) : NULL;
	d->od_build.ob_ndisks = vm->vm_ndisks;
	d->od_build.ob_disks = xdc_arena_zalloc(
	    a, (vm->vm_ndisks + 1) * sizeof(*d->od_build.ob_disks));
	for (i = 0; i < vm->vm_ndisks; i++) {
		d->od_build.ob_disks[i].d_target =
		    xdc_arena_strdup(a, vm->vm_disks[i].d_target);
		d->od_build.ob_disks[i].d_vdev =
		    xdc_arena_strdup(a, vm->vm_disks[i].d_vdev);
		d->od_build.ob_disks[i].d_format = vm->vm_disks[i].d_format;
		d->od_build.ob_disks[i].d_readonly = vm->vm_disks[i].d_readonly;
	}
	d->od_state = XDC_DOM_RUNNING;
	return d;
}

/* An observed bridge, up, unmanaged and bare; the test sets the rest. */
static inline struct xdc_obs_network *
fx_bridge(struct fx *fx, const char *host, const char *bridge)
{
	struct xdc_obs_host *h = fx_find_host(fx, host);
	struct xdc_obs_network *n;
	void *base = h->oh_networks;

	n = fx_insert(fx->obs->obs_arena, &base, &h->oh_nnetworks, sizeof(*n),
	    bridge, fx_net_key);
	h->oh_networks = base;
	n->on_bridge = xdc_arena_strdup(fx->obs->obs_arena, bridge);
	n->on_mtu = 1500;
	n->on_up = 1;
	return n;
}

/* The managed bridge of the declared Network netname, as xdc made it. */
static inline struct xdc_obs_network *
fx_network(struct fx *fx, const char *host, const char *netname)
{
	const struct xdc_network *dn = xdc_config_network(fx->cfg, netname);
	struct xdc_obs_network *n;

	assert_non_null(dn);
	n = fx_bridge(fx, host, dn->n_bridge);
	n->on_name = xdc_arena_strdup(fx->obs->obs_arena, dn->n_name);
	n->on_uplink = dn->n_uplink
	                   ? xdc_arena_strdup(fx->obs->obs_arena, dn->n_uplink)
	                   : NULL;
	n->on_vlan = dn->n_vlan;
	n->on_mtu = dn->n_mtu ? dn->n_mtu : 1500;
	n->on_managed = 1;
	return n;
}

/* Every declared network on every observed host, as xdc made them. */
static inline void
fx_networks(struct fx *fx)
{
	size_t h, i;
	const char *name;

	for (h = 0; h < fx->obs->obs_nhosts; h++) {
		name = fx->obs->obs_hosts[h].oh_name;
		for (i = 0; i < fx->cfg->cfg_nnetworks; i++)
			fx_network(fx, name, fx->cfg->cfg_networks[i].n_name);
	}
}

/* ---- Planning --------------------------------------------------------- */

static inline int
fx_try_plan(struct fx *fx)
{
	struct plan_opts opts = {
		.po_now = fx->now,
		.po_self = fx->self,
		.po_pool = fx->pool,
		.po_scope = fx->scope,
		.po_migrate = fx->migrate,
		.po_whole = fx->whole,
	};

	fx_unplan(fx);
	xdc_diags_free(fx->diags);
	fx->diags = xdc_diags_new();
	return plan_compute(fx->cfg, fx->obs, &opts, &fx->plan, fx->diags);
}

/* Plan; it must succeed with no diagnostic. */
static inline void
fx_plan_ok(struct fx *fx, const char *file, int line)
{
	int rc = fx_try_plan(fx);

	if (rc == 0 && xdc_diags_count(fx->diags) == 0)
		return;
	print_error("expected a plan, got %d with:\n", rc);
	fx_dump_diags(fx->diags);
	_fail(file, line);
}

/* Plan; it must fail with a diagnostic containing substr. */
static inline void
fx_plan_err(struct fx *fx, const char *substr, const char *file, int line)
{
	const struct xdc_diag *g;
	int rc = fx_try_plan(fx);
	size_t i;

	if (rc == XDC_EINVALID && fx->plan == NULL)
		for (i = 0; (g = xdc_diags_get(fx->diags, i)) != NULL; i++)
			if (strstr(g->dg_msg, substr) != NULL)
				return;
	print_error(
	    "expected plan to fail with ...%s..., got %d with:\n", substr, rc);
	fx_dump_plan(fx);
	_fail(file, line);
}

#define fx_plan(fx)          fx_plan_ok(fx, __FILE__, __LINE__)
#define fx_plan_fails(fx, s) fx_plan_err(fx, s, __FILE__, __LINE__)

/* The plan's JSON, parsed; borrowed from fx. */
static inline json_t *
fx_json(struct fx *fx)
{
	json_error_t err;
	char *text = NULL;
	size_t len = 0;
	FILE *fp;

	if (fx->json != NULL)
		return fx->json;
	assert_non_null(fx->plan);
	fp = open_memstream(&text, &len);
	assert_non_null(fp);
	assert_int_equal(plan_print_json(fx->plan, fp), 0);
	fclose(fp);
	fx->json = json_loadb(text, len, 0, &err);
	free(text);
	assert_non_null(fx->json);
	return fx->json;
}

/* The index of the action (op, name, host) to apply, or -1; host NULL
 * matches any host. */
static inline int
fx_find(const struct fx *fx, enum xdc_op op, const char *name, const char *host)
{
	const struct xdc_action *a;
	size_t i;

	for (i = 0; i < plan_count(fx->plan); i++) {
		a = plan_action(fx->plan, i);
		if (a->a_op == op && !strcmp(a->a_name, name) &&
		    (host == NULL || !strcmp(a->a_host, host)))
			return (int)i;
	}
	return -1;
}

static inline size_t
fx_must_find(struct fx *fx, enum xdc_op op, const char *name, const char *host,
    const char *file, int line)
{
	int i = fx_find(fx, op, name, host);

	if (i >= 0)
		return (size_t)i;
	print_error("no action %s %s on %s in the plan:\n", xdc_op_name(op),
	    name, host ? host : "any host");
	fx_dump_plan(fx);
	_fail(file, line);
	return 0;
}

/* The action must be in the plan: its index. */
#define fx_action(fx, op, name, host)                                          \
	fx_must_find(fx, op, name, host, __FILE__, __LINE__)

/* The host the plan creates VM name on, or NULL. */
static inline const char *
fx_created_on(const struct fx *fx, const char *name)
{
	int i = fx_find(fx, XDC_OP_CREATE, name, NULL);

	return i < 0 ? NULL : plan_action(fx->plan, (size_t)i)->a_host;
}

/* How many actions to apply have this op (and kind). */
static inline size_t
fx_count(const struct fx *fx, enum xdc_op op, enum xdc_obj_kind kind)
{
	size_t i, n = 0;

	for (i = 0; i < plan_count(fx->plan); i++)
		if (plan_action(fx->plan, i)->a_op == op &&
		    plan_action(fx->plan, i)->a_kind == kind)
			n++;
	return n;
}

/* The deferred action (op, name, host) in the plan's JSON, or NULL. */
static inline json_t *
fx_find_deferred(
    struct fx *fx, enum xdc_op op, const char *name, const char *host)
{
	json_t *def = json_object_get(fx_json(fx), "deferred"), *o;
	size_t i;

	json_array_foreach(def, i, o)
	{
		if (!strcmp(json_string_value(json_object_get(o, "op")),
		        xdc_op_name(op)) &&
		    !strcmp(
		        json_string_value(json_object_get(o, "name")), name) &&
		    (host == NULL ||
		        !strcmp(json_string_value(json_object_get(o, "host")),
		            host)))
			return o;
	}
	return NULL;
}

/* Why the deferred action (op, name, host) is held; it must be deferred. */
static inline const char *
fx_held_why(struct fx *fx, enum xdc_op op, const char *name, const char *host,
    const char *file, int line)
{
	json_t *o = fx_find_deferred(fx, op, name, host);

	if (o != NULL)
		return json_string_value(json_object_get(o, "held"));
	print_error("no deferred %s %s on %s in the plan:\n", xdc_op_name(op),
	    name, host ? host : "any host");
	fx_dump_plan(fx);
	_fail(file, line);
	return NULL;
}

#define fx_held(fx, op, name, host)                                            \
	fx_held_why(fx, op, name, host, __FILE__, __LINE__)

/* The fields of a JSON action's "changes", as "a,b,c". */
static inline const char *
fx_json_fields(struct fx *fx, json_t *action)
{
	json_t *ch;
	size_t i, n = 0;

	fx->buf[0] = '\0';
	json_array_foreach(json_object_get(action, "changes"), i, ch)
	{
		n += (size_t)snprintf(fx->buf + n, sizeof(fx->buf) - n, "%s%s",
		    i ? "," : "",
		    json_string_value(json_object_get(ch, "field")));
		assert_true(n < sizeof(fx->buf));
	}
	return fx->buf;
}

/* The JSON of action i to apply. */
static inline json_t *
fx_json_action(struct fx *fx, size_t i)
{
	return json_array_get(json_object_get(fx_json(fx), "actions"), i);
}

/* The fields action i changes, as "a,b,c" (borrowed until the next call). */
static inline const char *
fx_fields(struct fx *fx, size_t i)
{
	return fx_json_fields(fx, fx_json_action(fx, i));
}

/* One change of action i: its "from" and "to", or NULL when absent. */
static inline json_t *
fx_change(struct fx *fx, size_t i, const char *field)
{
	json_t *ch;
	size_t k;

	json_array_foreach(
	    json_object_get(fx_json_action(fx, i), "changes"), k, ch)
	{
		if (!strcmp(
		        json_string_value(json_object_get(ch, "field")), field))
			return ch;
	}
	return NULL;
}

/* Does action j wait for action i? */
static inline int
fx_depends(const struct fx *fx, size_t j, size_t i)
{
	const uint32_t *deps;
	size_t n, k;

	deps = plan_depends(fx->plan, j, &n);
	for (k = 0; k < n; k++)
		if (deps[k] == i)
			return 1;
	return 0;
}

/* Is VM name in the plan's list of unmanaged domains? */
static inline int
fx_listed_unmanaged(struct fx *fx, const char *name)
{
	json_t *o;
	size_t i;

	json_array_foreach(json_object_get(fx_json(fx), "unmanaged"), i, o)
	{
		if (!strcmp(
		        json_string_value(json_object_get(o, "name")), name))
			return 1;
	}
	return 0;
}

/* Does any action, to apply or deferred, name name? */
static inline int
fx_mentions(struct fx *fx, const char *name)
{
	static const char *const lists[] = { "actions", "deferred" };
	json_t *o;
	size_t i, l;

	for (l = 0; l < 2; l++)
		json_array_foreach(json_object_get(fx_json(fx), lists[l]), i, o)
		{
			if (!strcmp(
			        json_string_value(json_object_get(o, "name")),
			        name))
				return 1;
		}
	return 0;
}

/* s contains sub; on failure print both. */
static inline void
fx_contains(const char *s, const char *sub, const char *file, int line)
{
	if (s != NULL && strstr(s, sub) != NULL)
		return;
	print_error(
	    "expected \"%s\" to contain \"%s\"\n", s ? s : "(null)", sub);
	_fail(file, line);
}

#define assert_contains(s, sub) fx_contains(s, sub, __FILE__, __LINE__)

#endif /* XDC_TESTS_PLANNER_FIXTURE_H */
