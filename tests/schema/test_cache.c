/*
 * The reload cache (schema/cache.c) against a full load, by property: a
 * seeded run of random edits to a configuration directory (VMs added,
 * removed, changed, moved between files, duplicated across files; files
 * broken and fixed, added and removed, rewritten unchanged; VMs with
 * locations too far into a line to pack), each followed by a load through
 * the cache, told which files changed as inotify would tell it, and a
 * full schema_load. After each edit the two must agree exactly: the return
 * code, every diagnostic, the model with every field's location, and the
 * plan (placement included) against one observation of a sim pool. The
 * last good configuration built through the cache is kept across the
 * edits, as the loop keeps the one in force, and must not change while
 * later builds share its parts.
 *
 *	XDC_CACHE_SEED=N   the seed (default 0x5eed2026)
 *	XDC_CACHE_EDITS=N  how many edits (default 400; 60 under valgrind)
 */
#include <sys/stat.h>

#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/diag.h"
#include "base/error.h"
#include "drivers/driver.h"
#include "drivers/sim.h"
#include "planner/plan.h"
#include "schema/model.h"
#include "schema/schema.h"

#define NFILES  6  /* vms-0.yaml .. vms-5.yaml */
#define NNAMES  40 /* vm-0 .. vm-39 */
#define LONGCOL 70000

/* ---- The generated configuration -------------------------------------- */

struct g_vm {
	int v_file; /* -1: not declared */
	int v_dup;  /* also declared in this file, or -1 */
	unsigned v_mem_mib;
	int v_host;  /* -1 placed, else xa, xb, xc */
	int v_state; /* 0 running, 1 paused, 2 stopped */
	int v_tier;  /* 0 web, 1 app */
	int v_nics;
	int v_wide; /* written as one flow mapping past column 65,535 */
	int v_bad;  /* memory too small: a rule's diagnostic */
};

struct gen {
	uint64_t g_rng;
	char g_dir[64];
	struct g_vm g_vms[NNAMES];
	int g_broken[NFILES]; /* a syntax error at its end */
	int g_present[NFILES];
};

static const char *const hosts[] = { "xa", "xb", "xc" };
static const char *const states[] = { "running", "paused", "stopped" };
static const char *const tiers[] = { "web", "app" };

static uint64_t
rnd(struct gen *g)
{
	uint64_t z = (g->g_rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned
below(struct gen *g, unsigned n)
{
	return (unsigned)(rnd(g) % n);
}

static void
path_of(const struct gen *g, int file, char *buf, size_t size)
{
	snprintf(buf, size, "%s/vms-%d.yaml", g->g_dir, file);
}

static void
write_vm(FILE *f, const struct g_vm *v, int i)
{
	char *pad;
	int n;

	if (v->v_wide) {
		/* vcpus lands past column 65,535: a wide location. */
		pad = malloc(LONGCOL + 1);
		memset(pad, 'x', LONGCOL);
		pad[LONGCOL] = '\0';
		fprintf(f,
		    "---\n{kind: VM, name: vm-%d, memory: %uMiB, "
		    "kernel: /boot/vmlinuz, cmdline: \"%s\", vcpus: 2, "
		    "labels: {tier: %s}}\n",
		    i, v->v_mem_mib, pad, tiers[v->v_tier]);
		free(pad);
		return;
	}
	fprintf(f, "---\nkind: VM\nname: vm-%d\nlabels: {tier: %s}\n", i,
	    tiers[v->v_tier]);
	fprintf(f, "memory: %uMiB\n", v->v_bad ? 0 : v->v_mem_mib);
	fprintf(f, "kernel: /boot/vmlinuz\nstate: %s\n", states[v->v_state]);
	if (v->v_host >= 0)
		fprintf(f, "host: %s\n", hosts[v->v_host]);
	fprintf(f, "disks:\n  - {target: /dev/vg0/vm-%d}\n", i);
	if (v->v_nics > 0) {
		fprintf(f, "nics:\n");
		for (n = 0; n < v->v_nics; n++)
			fprintf(f, "  - {network: %s}\n",
			    n == 0 ? "front" : "back");
	}
}

static void
write_file(struct gen *g, int file)
{
	char path[128];
	FILE *f;
	int i;

	path_of(g, file, path, sizeof(path));
	if (!g->g_present[file]) {
		(void)unlink(path);
		return;
	}
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "# file %d\n", file);
	for (i = 0; i < NNAMES; i++) {
		if (g->g_vms[i].v_file == file || g->g_vms[i].v_dup == file)
			write_vm(f, &g->g_vms[i], i);
	}
	if (g->g_broken[file])
		fprintf(f, "---\nkind: VM\nname: [unclosed\n");
	assert_int_equal(fclose(f), 0);
}

static void
write_base(const struct gen *g)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/base.yaml", g->g_dir);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "kind: Host\nname: xa\nmemory: 64GiB\ncpus: 32\n---\n"
	           "kind: Host\nname: xb\nmemory: 64GiB\ncpus: 32\n---\n"
	           "kind: Host\nname: xc\nmemory: 64GiB\ncpus: 32\n---\n"
	           "kind: Network\nname: front\n---\n"
	           "kind: Network\nname: back\nuplink: eth0\nvlan: 20\n---\n"
	           "kind: SLA\nname: web\nselector: {tier: web}\n"
	           "cpu: {weight: 512}\navailability: {spread: host}\n");
	assert_int_equal(fclose(f), 0);
}

/* ---- What is compared ------------------------------------------------- */

static void
loc_print(FILE *f, const struct xdc_config *cfg, struct xdc_loc l)
{
	fprintf(f, " %s:%u:%u", l.file ? cfg->cfg_files[l.file] : "-", l.line,
	    l.col);
}

/* The model, with every field's location and what the checks derived. */
static char *
model_dump(const struct xdc_config *cfg)
{
	char *buf = NULL, mac[XDC_MAC_BUFSZ];
	size_t len = 0, i, j, k;
	FILE *f = open_memstream(&buf, &len);
	const struct xdc_vm *vm;

	assert_non_null(f);
	for (i = 0; i < cfg->cfg_nhosts; i++) {
		fprintf(f, "host %s %llu", cfg->cfg_hosts[i].h_name,
		    (unsigned long long)cfg->cfg_hosts[i].h_memory);
		for (k = 0; k < HOST_F__COUNT; k++)
			loc_print(
			    f, cfg, xdc_host_loc(cfg, &cfg->cfg_hosts[i], k));
		fputc('\n', f);
	}
	for (i = 0; i < cfg->cfg_nnetworks; i++) {
		fprintf(f, "net %s %s", cfg->cfg_networks[i].n_name,
		    cfg->cfg_networks[i].n_bridge);
		for (k = 0; k < NET_F__COUNT; k++)
			loc_print(f, cfg,
			    xdc_network_loc(cfg, &cfg->cfg_networks[i], k));
		fputc('\n', f);
	}
	for (i = 0; i < cfg->cfg_nvms; i++) {
		vm = &cfg->cfg_vms[i];
		fprintf(f, "vm %s %llu %u %s %d %s", vm->vm_name,
		    (unsigned long long)vm->vm_memory, vm->vm_vcpus,
		    vm->vm_host ? vm->vm_host : "-", (int)vm->vm_state,
		    vm->vm_cmdline ? "cmdline" : "-");
		for (k = 0; k < XDC_POL__COUNT; k++)
			fprintf(f, " %u", vm->vm_sla[k]);
		for (k = 0; k < VM_F__COUNT; k++)
			loc_print(f, cfg, xdc_vm_loc(cfg, vm, k));
		for (j = 0; j < vm->vm_ndisks; j++) {
			fprintf(f, " disk %s %s", vm->vm_disks[j].d_target,
			    vm->vm_disks[j].d_vdev);
			for (k = 0; k < DISK_F__COUNT; k++)
				loc_print(f, cfg,
				    xdc_disk_loc(cfg, &vm->vm_disks[j], k));
		}
		for (j = 0; j < vm->vm_nnics; j++) {
			fprintf(f, " nic %s %u %s", vm->vm_nics[j].nic_network,
			    vm->vm_nics[j].nic_net,
			    xdc_mac_fmt(vm->vm_nics[j].nic_mac, mac));
			for (k = 0; k < NIC_F__COUNT; k++)
				loc_print(f, cfg,
				    xdc_nic_loc(cfg, &vm->vm_nics[j], k));
		}
		fputc('\n', f);
	}
	for (i = 0; i < cfg->cfg_nslas; i++) {
		fprintf(f, "sla %s", cfg->cfg_slas[i].s_name);
		for (k = 0; k < SLA_F__COUNT; k++)
			loc_print(
			    f, cfg, xdc_sla_loc(cfg, &cfg->cfg_slas[i], k));
		fputc('\n', f);
	}
	assert_int_equal(fclose(f), 0);
	return buf;
}

static char *
diags_dump(const struct xdc_diags *d)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	xdc_diags_print(d, f);
	assert_int_equal(fclose(f), 0);
	return buf;
}

/* The plan of cfg against obs, JSON and text, or its diagnostics. */
static char *
plan_dump(const struct xdc_config *cfg, const struct xdc_observed *obs)
{
	struct xdc_diags *d = xdc_diags_new();
	struct plan_opts opts;
	struct xdc_plan *p = NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rc;

	assert_non_null(f);
	memset(&opts, 0, sizeof(opts));
	opts.po_now = 1795262400;
	rc = plan_compute(cfg, obs, &opts, &p, d);
	fprintf(f, "rc %d\n", rc);
	if (rc == 0) {
		assert_int_equal(plan_print_json(p, f), 0);
		plan_print_text(p, f);
	}
	xdc_diags_print(d, f);
	assert_int_equal(fclose(f), 0);
	xdc_plan_free(p);
	xdc_diags_free(d);
	return buf;
}

/* ---- Edits ------------------------------------------------------------ */

static int
random_vm(struct gen *g, int declared)
{
	int i, tries;

	for (tries = 0; tries < 100; tries++) {
		i = (int)below(g, NNAMES);
		if ((g->g_vms[i].v_file >= 0) == declared)
			return i;
	}
	return -1;
}

static void
new_vm(struct gen *g, struct g_vm *v, int file)
{
	memset(v, 0, sizeof(*v));
	v->v_file = file;
	v->v_dup = -1;
	v->v_mem_mib = 256u << below(g, 3);
	v->v_host = below(g, 4) == 0 ? (int)below(g, 3) : -1;
	v->v_state = (int)below(g, 3);
	v->v_tier = (int)below(g, 2);
	v->v_nics = (int)below(g, 3);
	v->v_wide = below(g, 6) == 0;
}

/* Fix one mistake, if there is one: what it did, or NULL. */
static const char *
heal(struct gen *g, int dirty[NFILES])
{
	struct g_vm *v;
	int i;

	for (i = 0; i < NFILES; i++) {
		if (g->g_broken[i]) {
			g->g_broken[i] = 0;
			dirty[i] = 1;
			return "fix a file";
		}
	}
	for (i = 0; i < NNAMES; i++) {
		v = &g->g_vms[i];
		if (v->v_file >= 0 && (v->v_dup >= 0 || v->v_bad)) {
			dirty[v->v_file] = 1;
			if (v->v_dup >= 0)
				dirty[v->v_dup] = 1;
			v->v_dup = -1;
			v->v_bad = 0;
			return "fix a VM";
		}
	}
	return NULL;
}

/*
 * One random edit; dirty gets the files it changed. Returns what it did,
 * for the message of a failure.
 */
static const char *
edit(struct gen *g, int dirty[NFILES])
{
	struct g_vm *v;
	const char *what;
	int i, file = (int)below(g, NFILES), other;

	if (!g->g_present[file]) {
		g->g_present[file] = 1;
		dirty[file] = 1;
		return "add a file";
	}
	/* Mistakes are fixed as often as made: most loads are valid. */
	if (below(g, 2) == 0 && (what = heal(g, dirty)) != NULL)
		return what;
	switch (below(g, 10)) {
	case 0:
	case 1:
		if ((i = random_vm(g, 0)) < 0)
			return "nothing";
		new_vm(g, &g->g_vms[i], file);
		dirty[file] = 1;
		return "add a VM";
	case 2:
		if ((i = random_vm(g, 1)) < 0)
			return "nothing";
		v = &g->g_vms[i];
		dirty[v->v_file] = 1;
		if (v->v_dup >= 0)
			dirty[v->v_dup] = 1;
		v->v_file = v->v_dup = -1;
		return "remove a VM";
	case 3:
	case 4:
		if ((i = random_vm(g, 1)) < 0)
			return "nothing";
		v = &g->g_vms[i];
		v->v_mem_mib = 256u << below(g, 3);
		v->v_state = (int)below(g, 3);
		v->v_host = below(g, 3) == 0 ? (int)below(g, 3) : -1;
		v->v_tier = (int)below(g, 2);
		v->v_bad = below(g, 10) == 0;
		dirty[v->v_file] = 1;
		if (v->v_dup >= 0)
			dirty[v->v_dup] = 1;
		return "change a VM";
	case 5:
		if ((i = random_vm(g, 1)) < 0)
			return "nothing";
		v = &g->g_vms[i];
		other = (int)below(g, NFILES);
		if (!g->g_present[other])
			return "nothing";
		dirty[v->v_file] = dirty[other] = 1;
		v->v_file = other;
		return "move a VM to another file";
	case 6:
		if ((i = random_vm(g, 1)) < 0)
			return "nothing";
		v = &g->g_vms[i];
		if (v->v_dup >= 0) {
			dirty[v->v_dup] = 1;
			v->v_dup = -1;
			return "remove a duplicate";
		}
		v->v_dup = file;
		dirty[file] = 1;
		return "declare a VM twice";
	case 7:
		g->g_broken[file] = !g->g_broken[file];
		dirty[file] = 1;
		return g->g_broken[file] ? "break a file" : "fix a file";
	case 8:
		if (below(g, 3) != 0) {
			dirty[file] = 1;
			return "rewrite a file unchanged";
		}
		/* Its VMs go with it, duplicates moved back. */
		for (i = 0; i < NNAMES; i++) {
			v = &g->g_vms[i];
			if (v->v_dup == file)
				v->v_dup = -1;
			if (v->v_file == file) {
				v->v_file = v->v_dup;
				v->v_dup = -1;
			}
		}
		g->g_present[file] = 0;
		g->g_broken[file] = 0;
		dirty[file] = 1;
		return "remove a file";
	default:
		if ((i = random_vm(g, 1)) < 0)
			return "nothing";
		v = &g->g_vms[i];
		v->v_wide = !v->v_wide;
		dirty[v->v_file] = 1;
		if (v->v_dup >= 0)
			dirty[v->v_dup] = 1;
		return "write a VM wide";
	}
}

/* ---- The test --------------------------------------------------------- */

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Valgrind preloads its own libraries into the program it runs. */
static int
under_valgrind(void)
{
	const char *p = getenv("LD_PRELOAD");

	return (p != NULL && strstr(p, "vgpreload") != NULL) ||
	       getenv("RUNNING_ON_VALGRIND") != NULL;
}

static uint64_t
env_u64(const char *name, uint64_t dflt)
{
	const char *s = getenv(name);

	return s != NULL && *s != '\0' ? strtoull(s, NULL, 0) : dflt;
}

static void
test_cache_matches_full_load(void **state)
{
	struct gen g;
	struct schema_cache *cache = schema_cache_new();
	struct xdc_config *inc = NULL, *full = NULL, *good = NULL;
	struct xdc_diags *di, *df;
	struct xdc_driver *drv = NULL;
	struct xdc_observed *obs = NULL;
	char *a, *b, *good_dump = NULL, pool[128], path[128];
	int dirty[NFILES], i, rc_inc, rc_full;
	uint64_t seed = env_u64("XDC_CACHE_SEED", 0x5eed2026ULL);
	unsigned long k,
	    edits = env_u64("XDC_CACHE_EDITS", under_valgrind() ? 60 : 400);
	size_t parsed, reused;
	const char *what = "the first load";

	(void)state;
	memset(&g, 0, sizeof(g));
	g.g_rng = seed;
	snprintf(g.g_dir, sizeof(g.g_dir), "/tmp/xdc-cache-XXXXXX");
	assert_non_null(mkdtemp(g.g_dir));
	snprintf(pool, sizeof(pool), "%s.pool.json", g.g_dir);
	for (i = 0; i < NNAMES; i++) {
		g.g_vms[i].v_file = g.g_vms[i].v_dup = -1;
		if (i % 2 == 0)
			new_vm(&g, &g.g_vms[i], (int)below(&g, NFILES));
	}
	write_base(&g);
	for (i = 0; i < NFILES; i++) {
		g.g_present[i] = 1;
		write_file(&g, i);
	}

	for (k = 0; k <= edits; k++) {
		if (k > 0) {
			memset(dirty, 0, sizeof(dirty));
			what = edit(&g, dirty);
			for (i = 0; i < NFILES; i++) {
				if (!dirty[i])
					continue;
				write_file(&g, i);
				path_of(&g, i, path, sizeof(path));
				schema_cache_stale(cache, path);
			}
			/* Now and then a resync: every file read again. */
			if (k % 50 == 0)
				schema_cache_stale(cache, NULL);
		}
		di = xdc_diags_new();
		df = xdc_diags_new();
		rc_inc = schema_cache_load(cache, g.g_dir, &inc, di);
		rc_full = schema_load(g.g_dir, &full, df);
		schema_cache_counts(cache, &parsed, &reused);
		if (rc_inc != rc_full)
			fail_msg("seed %#llx edit %lu (%s): cache %d, full %d",
			    (unsigned long long)seed, k, what, rc_inc, rc_full);
		a = diags_dump(di);
		b = diags_dump(df);
		if (getenv("XDC_CACHE_VERBOSE") != NULL)
			fputs(b, stderr);
		if (strcmp(a, b) != 0)
			fail_msg(
			    "seed %#llx edit %lu (%s): diagnostics differ\n"
			    "cache:\n%sfull:\n%s",
			    (unsigned long long)seed, k, what, a, b);
		free(a);
		free(b);
		/* Only what changed was parsed (a resync reads, not parses). */
		if (k > 0 && parsed > 2)
			fail_msg(
			    "edit %lu (%s): %zu files parsed", k, what, parsed);
		if (getenv("XDC_CACHE_VERBOSE") != NULL)
			fprintf(stderr, "edit %lu (%s): rc %d, %zu parsed\n", k,
			    what, rc_full, parsed);
		if (rc_full == 0) {
			a = model_dump(inc);
			b = model_dump(full);
			if (strcmp(a, b) != 0)
				fail_msg("seed %#llx edit %lu (%s): models "
				         "differ\ncache:\n%sfull:\n%s",
				    (unsigned long long)seed, k, what, a, b);
			free(b);
			/* One observation of a pool made for these hosts. */
			(void)unlink(pool);
			assert_int_equal(sim_open(pool, full, &drv), 0);
			assert_int_equal(drv->observe(drv, &obs), 0);
			b = plan_dump(full, obs);
			free(a);
			a = plan_dump(inc, obs);
			if (strcmp(a, b) != 0)
				fail_msg("seed %#llx edit %lu (%s): plans "
				         "differ\ncache:\n%sfull:\n%s",
				    (unsigned long long)seed, k, what, a, b);
			free(a);
			free(b);
			xdc_observed_free(obs);
			drv->free(drv);
			/* The new configuration in force, as the loop swaps. */
			xdc_config_free(good);
			free(good_dump);
			good = inc;
			good_dump = model_dump(good);
			inc = NULL;
		} else if (good != NULL) {
			/* A bad edit leaves the one in force as it was. */
			a = model_dump(good);
			assert_string_equal(a, good_dump);
			free(a);
		}
		xdc_config_free(inc);
		xdc_config_free(full);
		inc = full = NULL;
		xdc_diags_free(di);
		xdc_diags_free(df);
	}
	/* It outlives the cache whose parts it borrows. */
	schema_cache_free(cache);
	if (good != NULL) {
		a = model_dump(good);
		assert_string_equal(a, good_dump);
		free(a);
	}
	xdc_config_free(good);
	free(good_dump);
	(void)unlink(pool);
	assert_int_equal(nftw(g.g_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cache_matches_full_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
