/*
 * An agent's own part (planner/own.c) against the whole pool's plan: on
 * random pools of two to five hosts, for every host, the plan made with
 * po_self alone must have, for that host, exactly what the plan of every
 * host (po_whole) has for it: the same actions in the same order, each
 * with its op, object, hosts, reason, changes, disruption and what it
 * waits for (by identity: the other action's op, object and host), the
 * same deferred actions with the same reasons, the same errors when it
 * fails, and the same --max-destroy counts, failovers and managed VMs.
 *
 * The pools have what makes one host's actions depend on another's:
 * moves (pinned VMs, drained hosts) live or not, copies of a VM on two
 * hosts, hosts declared failed or lost and fenced behind a pool view
 * (failover), claims and budget slots in that view, SLAs with min_running
 * over several hosts, maintenance windows open and closed, protection,
 * restart policies, domains that crashed or differ, undeclared and
 * unmanaged domains (some to adopt, some in the way), another scope's
 * (some handed over with adopt_from),
 * networks missing, down or taken. The test also counts what
 * it saw and fails if a kind of case never came up, so that a generator
 * gone dull cannot pass for a proof.
 *
 *	XDC_OWN_SEED=N  the first seed (default 1)
 *	XDC_OWN_RUNS=N  how many pools (default 3000; 300 under valgrind,
 *	                where what was seen is not checked)
 */
#include "tests/planner/fixture.h"

#include "planner/planner.h"

#define MAX_HOSTS 5
#define MAX_VMS   12

static const char *const hnames[MAX_HOSTS] = { "h0", "h1", "h2", "h3", "h4" };
static const char *const vnames[MAX_VMS] = { "vm-0", "vm-1", "vm-10", "vm-11",
	"vm-2", "vm-3", "vm-4", "vm-5", "vm-6", "vm-7", "vm-8",
	"vm-9" }; /* sorted, as the pool view's claims must be */

struct rng {
	uint64_t s;
};

static unsigned
below(struct rng *r, unsigned n)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (unsigned)((z ^ (z >> 31)) % n);
}

static int
pct(struct rng *r, unsigned p)
{
	return below(r, 100) < p;
}

/* What the runs covered. */
static struct {
	size_t plans, own_actions, migrates, failovers, budget, depends, cross,
	    fallbacks, errors, rejoins, windows, adopts, handovers;
} seen;

/* One pool: the configuration, the observation and a pool view. */
struct pool {
	struct fx *fx;
	int nhosts;
	int has_view;
	const char *lost[MAX_HOSTS], *fenced[MAX_HOSTS];
	struct xdc_claim claims[MAX_VMS];
	struct xdc_slot slots[MAX_VMS];
	struct xdc_pool_view pv;
	char *yaml;
	int pin[MAX_VMS];   /* the host a VM is pinned to, or -1 */
	int adopt[MAX_VMS]; /* pinned, adopt: true (1) or adopt_from: ci (2) */
};

static char *
gen_yaml(struct rng *r, struct pool *pl, int nvms)
{
	static const char *const windows[] = { "Tue 22:00-23:00 UTC",
		"Sat 02:00-04:00 UTC" };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int i, active = 0, dmz = pct(r, 40);
	unsigned running[2] = { 0, 0 };
	int act[MAX_HOSTS], nact = 0;

	assert_non_null(f);
	for (i = 0; i < pl->nhosts; i++) {
		int st = below(r, 100);

		if (i == pl->nhosts - 1 && active == 0)
			st = 0;
		fprintf(f,
		    "kind: Host\nname: %s\nmemory: 64GiB\ncpus: 32\n%s"
		    "---\n",
		    hnames[i],
		    st < 70   ? ""
		    : st < 85 ? "state: drained\n"
		              : "state: failed\n");
		active += st < 70;
		if (st < 70)
			act[nact++] = i;
	}
	fputs("kind: Network\nname: lan\n---\n", f);
	if (dmz)
		fputs("kind: Network\nname: dmz\n---\n", f);
	for (i = 0; i < nvms; i++) {
		int tier = (int)below(r, 3), state = (int)below(r, 100);

		fprintf(f,
		    "kind: VM\nname: %s\nmemory: 1GiB\nkernel: /boot/vmlinuz\n",
		    vnames[i]);
		if (tier < 2)
			fprintf(f, "labels: {tier: %s}\n",
			    tier == 0 ? "gold" : "silver");
		if (pct(r, 70))
			fprintf(f, "nics: [{network: %s}]\n",
			    dmz && pct(r, 30) ? "dmz" : "lan");
		pl->pin[i] = pct(r, 35) ? act[below(r, (unsigned)nact)] : -1;
		if (pl->pin[i] >= 0)
			fprintf(f, "host: %s\n", hnames[pl->pin[i]]);
		pl->adopt[i] = pl->pin[i] >= 0 && pct(r, 20) ? 1 : 0;
		if (pl->adopt[i] && pct(r, 50))
			pl->adopt[i] = 2;
		if (pl->adopt[i])
			fputs(pl->adopt[i] == 1 ? "adopt: true\n"
			                        : "adopt_from: ci\n",
			    f);
		if (state >= 85)
			fputs("state: stopped\n", f);
		else if (state >= 75)
			fputs("state: paused\n", f);
		else if (tier < 2)
			running[tier]++;
		if (pct(r, 8))
			fputs("protect: true\n", f);
		fputs("---\n", f);
	}
	/* min_running up to the VMs declared running, as the loader wants. */
	fprintf(f, "kind: SLA\nname: gold\nselector: {tier: gold}\n");
	fprintf(f, "availability:\n  restart: always\n");
	if (running[0] > 0)
		fprintf(f, "  min_running: %u\n",
		    1 + below(r, running[0] < 3 ? running[0] : 3));
	if (pct(r, 50))
		fprintf(f, "  failover: true\n");
	if (pct(r, 40))
		fprintf(
		    f, "maintenance: {window: \"%s\"}\n", windows[below(r, 2)]);
	fprintf(f,
	    "---\nkind: SLA\nname: silver\nselector: {tier: silver}\n"
	    "availability:\n  restart: %s\n",
	    pct(r, 50) ? "never" : "on-crash");
	if (running[1] > 0 && pct(r, 60))
		fprintf(f, "  min_running: %u\n", 1 + below(r, running[1]));
	if (pct(r, 50))
		fprintf(f, "  failover: true\n");
	fputs("---\n", f);
	fclose(f);
	return buf;
}

static void
gen_domain(struct rng *r, struct pool *pl, const char *host, const char *vm)
{
	struct xdc_obs_domain *d = fx_managed(pl->fx, host, vm);
	unsigned k = below(r, 100);

	if (k < 10)
		d->od_state = XDC_DOM_CRASHED;
	else if (k < 18)
		d->od_state = XDC_DOM_STOPPED;
	else if (k < 28)
		d->od_state = XDC_DOM_PAUSED;
	if (pct(r, 10))
		d->od_memory += 512 * MIB;
	if (pct(r, 10))
		d->od_hash ^= 1; /* built from another spec: a replace */
	if (pct(r, 5))
		d->od_protect = !d->od_protect;
}

static void
gen_pool(struct rng *r, struct pool *pl)
{
	int nvms = 3 + (int)below(r, MAX_VMS - 2), i, j, h, n, seen_host = 0;
	int obs[MAX_HOSTS], unmanaged[MAX_HOSTS];
	struct xdc_obs_domain *d;
	char name[32];

	memset(pl, 0, sizeof(*pl));
	pl->nhosts = 2 + (int)below(r, MAX_HOSTS - 1);
	pl->yaml = gen_yaml(r, pl, nvms);
	pl->fx = fx_load(pl->yaml, FX_FILE, __LINE__);
	for (h = 0; h < pl->nhosts; h++) {
		obs[h] = pct(r, 85) || (h == pl->nhosts - 1 && !seen_host);
		seen_host |= obs[h];
		if (!obs[h])
			continue;
		fx_host(pl->fx, hnames[h], 64 * GIB, 32);
		fx_dom0(pl->fx, hnames[h]);
		n = (int)below(r, 100);
		if (n < 4) /* taken by someone else: an error */
			fx_bridge(pl->fx, hnames[h],
			    xdc_config_network(pl->fx->cfg, "lan")->n_bridge);
		else if (n < 85)
			fx_network(pl->fx, hnames[h], "lan")->on_up =
			    pct(r, 90);
		if (xdc_config_network(pl->fx->cfg, "dmz") != NULL &&
		    pct(r, 70))
			fx_network(pl->fx, hnames[h], "dmz");
		for (n = 0; pct(r, 20) && n < 2; n++) {
			snprintf(name, sizeof(name), "old-%d", n);
			d = fx_dom(pl->fx, hnames[h], name);
			d->od_managed = 1;
			d->od_memory = d->od_max_memory = GIB;
			d->od_state =
			    pct(r, 80) ? XDC_DOM_RUNNING : XDC_DOM_CRASHED;
			d->od_protect = pct(r, 15);
		}
		if (pct(r, 15))
			fx_unmanaged(pl->fx, hnames[h], "guest", GIB);
		if (pct(r, 10)) { /* another scope's: left alone, listed */
			d = fx_dom(pl->fx, hnames[h], "ci-0");
			d->od_managed = 1;
			d->od_scope = "ci";
			d->od_memory = d->od_max_memory = GIB;
		}
		unmanaged[h] = pct(r, 4) ? (int)below(r, (unsigned)nvms) : -1;
	}
	/* Each VM on no host, one or two; one to adopt where it is pinned. */
	for (i = 0; i < nvms; i++) {
		if (pl->adopt[i] && obs[pl->pin[i]] && pct(r, 70)) {
			if (pl->adopt[i] == 1) {
				d = fx_unmanaged(
				    pl->fx, hnames[pl->pin[i]], vnames[i], GIB);
			} else { /* built by scope ci, maybe differently */
				d = fx_managed(
				    pl->fx, hnames[pl->pin[i]], vnames[i]);
				d->od_scope = "ci";
				if (pct(r, 10))
					d->od_hash ^= 1; /* an error */
			}
			d->od_state =
			    pct(r, 80) ? XDC_DOM_RUNNING : XDC_DOM_PAUSED;
			if (pl->adopt[i] == 1 && pct(r, 20))
				d->od_max_memory = 2 * GIB; /* an error */
			continue;
		}
		n = (int)below(r, 100);
		n = n < 25 ? 0 : n < 85 ? 1 : 2;
		h = (int)below(r, (unsigned)pl->nhosts);
		for (j = 0; j < pl->nhosts && n > 0; j++) {
			int k = (h + j) % pl->nhosts;
			if (!obs[k] || (j > 0 && pct(r, 40)))
				continue;
			if (unmanaged[k] == i) /* an error where it is placed */
				fx_unmanaged(pl->fx, hnames[k], vnames[i], GIB);
			else
				gen_domain(r, pl, hnames[k], vnames[i]);
			n--;
		}
	}
	/* The pool view, more often than not. */
	pl->has_view = pct(r, 60);
	if (!pl->has_view)
		return;
	for (h = 0; h < pl->nhosts; h++) {
		if (obs[h])
			continue;
		pl->lost[pl->pv.pv_nlost++] = hnames[h];
		if (pct(r, 60))
			pl->fenced[pl->pv.pv_nfenced++] = hnames[h];
	}
	pl->pv.pv_lost = pl->lost;
	pl->pv.pv_fenced = pl->fenced;
	for (i = 0; i < MAX_VMS; i++) {
		if (pct(r, 15))
			pl->claims[pl->pv.pv_nclaims++] =
			    (struct xdc_claim){ vnames[i],
				    hnames[below(r, (unsigned)pl->nhosts)] };
		if (pct(r, 8))
			pl->slots[pl->pv.pv_nslots++] =
			    (struct xdc_slot){ "gold", vnames[i],
				    hnames[below(r, (unsigned)pl->nhosts)] };
	}
	pl->pv.pv_claims = pl->claims;
	pl->pv.pv_slots = pl->slots;
	/* The rejoin rule weighs every domain in most pools, none in the
	 * others (from what was drawn already). */
	pl->pv.pv_rejoin_domid = pl->pv.pv_nclaims % 4 != 0 ? UINT32_MAX : 0;
}

/* ---- The comparison --------------------------------------------------- */

static int
plan_of(struct pool *pl, const char *self, int whole, int migrate,
    struct xdc_plan **out, struct xdc_diags **diags)
{
	struct plan_opts opts;

	memset(&opts, 0, sizeof(opts));
	opts.po_now = FX_NOW;
	opts.po_self = self;
	opts.po_whole = whole;
	opts.po_migrate = migrate;
	pl->pv.pv_self = self;
	opts.po_pool = pl->has_view ? &pl->pv : NULL;
	*out = NULL;
	*diags = xdc_diags_new();
	return plan_compute(pl->fx->cfg, pl->fx->obs, &opts, out, *diags);
}

/* An action as this test compares it, but for what it waits for. */
static char *
action_key(const struct xdc_action *a)
{
	char *s;

	xdc_asprintf(&s, "%s %s %s on %s%s%s%s", xdc_op_name(a->a_op),
	    xdc_obj_kind_name(a->a_kind), a->a_name, a->a_host,
	    a->a_to_host ? " to " : "", a->a_to_host ? a->a_to_host : "",
	    a->a_disruptive ? " (disruptive)" : "");
	return s;
}

/*
 * Host's part of a plan, one line per action: what it is, why, what it
 * changes, and what it waits for; then the deferred ones, with why.
 */
static char *
part_of(const struct xdc_plan *p, const char *host)
{
	const struct xdc_action *a;
	const uint32_t *deps;
	char *buf = NULL, *k, *ch;
	size_t len = 0, i, j, n;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	for (i = 0; i < plan_count(p); i++) {
		a = plan_action(p, i);
		if (a->a_host == NULL || strcmp(a->a_host, host) != 0)
			continue;
		k = action_key(a);
		ch = plan_changes_json(p, i);
		fprintf(f, "%s\n  why: %s\n  changes: %s\n", k,
		    plan_reason(p, i), ch ? ch : "");
		free(k);
		free(ch);
		deps = plan_depends(p, i, &n);
		for (j = 0; j < n; j++) {
			k = action_key(plan_action(p, deps[j]));
			fprintf(f, "  waits for: %s\n", k);
			if (strcmp(plan_action(p, deps[j])->a_host, host))
				seen.cross++;
			free(k);
		}
		seen.own_actions++;
		seen.adopts += strstr(plan_reason(p, i), "(adopt: ") != NULL;
		seen.handovers +=
		    strstr(plan_reason(p, i), "(adopt_from: ") != NULL;
		seen.migrates += a->a_op == XDC_OP_MIGRATE;
	}
	for (i = 0; i < plan_ndeferred(p); i++) {
		a = plan_deferred(p, i);
		if (a->a_host == NULL || strcmp(a->a_host, host) != 0)
			continue;
		k = action_key(a);
		fprintf(f, "deferred %s\n  held: %s\n", k,
		    plan_deferred_held(p, i));
		free(k);
		seen.budget +=
		    strstr(plan_deferred_held(p, i), "min_running") != NULL;
		seen.depends += strstr(plan_deferred_held(p, i),
		                    "waits for the deferred") != NULL;
		seen.windows += strstr(plan_deferred_held(p, i),
		                    "maintenance.window") != NULL;
		seen.rejoins +=
		    strstr(plan_deferred_held(p, i), "rejoin") != NULL;
	}
	fprintf(f, "destroys %zu of %zu managed; %zu failovers\n",
	    plan_vm_destroys(p), plan_managed_vms(p), plan_nfailovers(p));
	fclose(f);
	return buf;
}

static char *
diags_text(const struct xdc_diags *d)
{
	const struct xdc_diag *g;
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	for (i = 0; (g = xdc_diags_get(d, i)) != NULL; i++)
		fprintf(f, "%s:%u:%u: %s\n", g->dg_file, g->dg_line, g->dg_col,
		    g->dg_msg);
	fclose(f);
	return buf;
}

static void
compare_host(struct pool *pl, const char *host, int migrate, unsigned long seed)
{
	struct xdc_plan *whole, *own;
	struct xdc_diags *dw, *dn;
	char *a, *b;
	int rw, rn;

	rw = plan_of(pl, host, 1, migrate, &whole, &dw);
	rn = plan_of(pl, host, 0, migrate, &own, &dn);
	seen.plans++;
	if (rw != 0 || rn != 0) {
		seen.errors++;
		a = diags_text(dw);
		b = diags_text(dn);
	} else {
		a = part_of(whole, host);
		b = part_of(own, host);
		seen.failovers += plan_nfailovers(own) > 0;
		/* Made again with every host built: the budget needed it. */
		seen.fallbacks += own->p_own && own->p_build == NULL;
	}
	if (rw != rn || strcmp(a, b) != 0) {
		/* One at a time: cmocka's buffer cuts a long message. */
		fprintf(stderr, "%s\n", pl->yaml);
		fprintf(stderr, "--- pool's plan, for %s (rc %d):\n%s", host,
		    rw, a);
		fprintf(stderr, "--- own part (rc %d):\n%s", rn, b);
		print_error("seed %lu, host %s, migrate %d, pool view %d: the "
		            "own part differs from the pool's plan\n",
		    seed, host, migrate, pl->has_view);
		if (whole != NULL)
			plan_print_text(whole, stderr);
		fail();
	}
	free(a);
	free(b);
	xdc_plan_free(whole);
	xdc_plan_free(own);
	xdc_diags_free(dw);
	xdc_diags_free(dn);
}

static unsigned long
env_ul(const char *name, unsigned long dflt)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? strtoul(v, NULL, 0) : dflt;
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
test_own_part_is_the_pools_plan_for_its_host(void **state)
{
	unsigned long seed0 = env_ul("XDC_OWN_SEED", 1);
	unsigned long runs =
	    env_ul("XDC_OWN_RUNS", under_valgrind() ? 300 : 3000);
	unsigned long s;
	struct pool pl;
	struct rng r;
	int h;

	(void)state;
	for (s = seed0; s < seed0 + runs; s++) {
		r.s = s * 0x2545f4914f6cdd1dULL;
		gen_pool(&r, &pl);
		for (h = 0; h < pl.nhosts; h++) {
			compare_host(&pl, hnames[h], 0, s);
			compare_host(&pl, hnames[h], 1, s);
		}
		fx_free(pl.fx);
		free(pl.yaml);
	}
	print_message("%zu plans: %zu own actions (%zu migrates, %zu "
	              "waits across hosts), %zu with failovers, deferred: "
	              "%zu by min_running, %zu by a window, %zu by a "
	              "deferred action, %zu by a rejoin; %zu adoptions, %zu "
	              "handovers; %zu planned again with every host, %zu "
	              "refused\n",
	    seen.plans, seen.own_actions, seen.migrates, seen.cross,
	    seen.failovers, seen.budget, seen.windows, seen.depends,
	    seen.rejoins, seen.adopts, seen.handovers, seen.fallbacks,
	    seen.errors);
	/* Every kind of case came up; else the generator proves little. */
	if (runs >= 1000) {
		assert_true(seen.migrates > 0);
		assert_true(seen.cross > 0);
		assert_true(seen.failovers > 0);
		assert_true(seen.budget > 0);
		assert_true(seen.windows > 0);
		assert_true(seen.depends > 0);
		assert_true(seen.rejoins > 0);
		assert_true(seen.adopts > 0);
		assert_true(seen.handovers > 0);
		assert_true(seen.fallbacks > 0);
		assert_true(seen.errors > 0);
		assert_true(seen.errors < seen.plans / 2);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_own_part_is_the_pools_plan_for_its_host),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
