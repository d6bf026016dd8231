/*
 * gen: a deterministic synthetic data centre, for the benchmarks.
 *
 *	gen [--seed N] --vms N [--hosts H] [--files F] OUTDIR
 *
 * Writes OUTDIR/hosts.yaml (H Hosts, default max(3, N/40)),
 * OUTDIR/networks.yaml, OUTDIR/slas.yaml and the N VMs spread over F files
 * OUTDIR/vms-0000.yaml ... (default max(1, N/500)).  The result is a valid
 * configuration per SPEC §2 that also plans: hosts are big enough for every
 * VM with room for one host failure (the web tier's SLA asks for
 * host_failures: 1 only when there are two hosts or more, as nobody would
 * ask it of one), SLA selectors are disjoint (each keys on its own tier),
 * the `spread: host` SLA selects no more VMs than there are hosts, and VMs
 * under an SLA with spread or host_failures are never pinned, so placement
 * stays the planner's to choose.
 *
 * Output depends only on the arguments: every VM draws from its own PRNG
 * stream seeded from (seed, index), so VM i is the same document whatever
 * --files says, and MACs are a bijection of (VM, NIC) so they never clash.
 * Existing files in OUTDIR are overwritten, others left alone.
 */

#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GEN_MIB UINT64_C(1024)
/* 00:16:3e leaves 24 bits: at most this many explicit MACs. */
#define GEN_MAX_MAC (1ULL << 24)
/* The loader's per-file limit, SPEC §2. */
#define GEN_FILE_LIMIT (16UL << 20)

enum tier { T_WEB, T_APP, T_DB, T_CACHE, T_BATCH, T_LB, T_NTIERS };

static const char *const tier_names[T_NTIERS] = { "web", "app", "db", "cache",
	"batch", "lb" };

/* Where each tier's first NIC goes. */
static const char *const tier_net[T_NTIERS] = { "dmz", "app", "db", "app",
	"app", "dmz" };

static const char *const apps[] = { "shop", "blog", "crm", "erp", "wiki",
	"mail", "ci", "search", "metrics" };

struct gen {
	uint64_t g_seed;
	unsigned long g_vms;
	unsigned long g_hosts;
	unsigned long g_files;
	unsigned long g_lb; /* VMs of tier lb, at most g_hosts */
	unsigned long g_ntier[T_NTIERS];
	uint64_t g_bytes;
	const char *g_outdir;
};

static uint64_t splitmix64(uint64_t *);
static unsigned pick(uint64_t *, unsigned);
static int chance(uint64_t *, unsigned);
static void fmt_size(char *, size_t, uint64_t);
static void usage(void);
static int parse_ulong(const char *, const char *, unsigned long *);
static int mkdir_p(const char *);
static FILE *gen_open(const struct gen *, const char *, char **);
static int gen_close(struct gen *, FILE *, char *);
static int is_lb(const struct gen *, unsigned long);
static int write_hosts(struct gen *);
static int write_networks(struct gen *);
static void write_vm(struct gen *, FILE *, unsigned long);
static int write_vms(struct gen *);
static void write_sla(FILE *, const char *, enum tier, unsigned, unsigned,
    const char *, unsigned long, int, int, const char *);
static int write_slas(struct gen *);

/* splitmix64 (Steele, Lea, Flood): tiny, fast, and good enough here. */
static uint64_t
splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n); the modulo bias is irrelevant for n this small. */
static unsigned
pick(uint64_t *s, unsigned n)
{
	return (unsigned)(splitmix64(s) % n);
}

static int
chance(uint64_t *s, unsigned percent)
{
	return pick(s, 100) < percent;
}

/* Sizes as an admin writes them: the largest binary unit that is exact. */
static void
fmt_size(char *buf, size_t len, uint64_t mib)
{
	if (mib % (GEN_MIB * GEN_MIB) == 0)
		snprintf(buf, len, "%" PRIu64 "TiB", mib / (GEN_MIB * GEN_MIB));
	else if (mib % GEN_MIB == 0)
		snprintf(buf, len, "%" PRIu64 "GiB", mib / GEN_MIB);
	else
		snprintf(buf, len, "%" PRIu64 "MiB", mib);
}

static void
usage(void)
{
	fprintf(stderr, "usage: gen [--seed N] --vms N [--hosts H] "
	                "[--files F] OUTDIR\n");
	exit(1);
}

static int
parse_ulong(const char *opt, const char *s, unsigned long *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (*s == '\0' || *s == '-' || *end != '\0' || errno != 0 ||
	    v > ULONG_MAX) {
		fprintf(stderr, "gen: %s: not a number: %s\n", opt, s);
		return -1;
	}
	*out = (unsigned long)v;
	return 0;
}

static int
mkdir_p(const char *dir)
{
	char *p = NULL, *slash, c;
	int rc = -1;

	if (*dir == '\0') {
		fprintf(stderr, "gen: empty OUTDIR\n");
		goto out;
	}
	if ((p = strdup(dir)) == NULL) {
		fprintf(stderr, "gen: out of memory\n");
		goto out;
	}
	for (slash = p + 1;; slash++) {
		if (*slash != '/' && *slash != '\0')
			continue;
		c = *slash;
		*slash = '\0';
		if (mkdir(p, 0777) == -1 && errno != EEXIST) {
			fprintf(
			    stderr, "gen: mkdir %s: %s\n", p, strerror(errno));
			goto out;
		}
		*slash = c;
		if (c == '\0')
			break;
	}
	rc = 0;
out:
	free(p);
	return rc;
}

/* Open OUTDIR/name for writing; *pathp is for gen_close's messages. */
static FILE *
gen_open(const struct gen *g, const char *name, char **pathp)
{
	FILE *f;

	if (asprintf(pathp, "%s/%s", g->g_outdir, name) == -1) {
		*pathp = NULL;
		fprintf(stderr, "gen: out of memory\n");
		return NULL;
	}
	if ((f = fopen(*pathp, "w")) == NULL) {
		fprintf(stderr, "gen: %s: %s\n", *pathp, strerror(errno));
		free(*pathp);
		*pathp = NULL;
		return NULL;
	}
	/* A large buffer: the 100k-VM run writes tens of megabytes. */
	setvbuf(f, NULL, _IOFBF, 1 << 16);
	return f;
}

/*
 * Close f, reporting any write error that stdio kept to itself until now.
 * Frees path either way.
 */
static int
gen_close(struct gen *g, FILE *f, char *path)
{
	long len;
	int rc = -1;

	if ((len = ftell(f)) == -1 || ferror(f)) {
		fprintf(stderr, "gen: %s: write error\n", path);
		fclose(f);
		goto out;
	}
	if (fclose(f) == EOF) {
		fprintf(stderr, "gen: %s: %s\n", path, strerror(errno));
		goto out;
	}
	if ((unsigned long)len > GEN_FILE_LIMIT)
		fprintf(stderr,
		    "gen: warning: %s is %ld bytes, over the "
		    "loader's 16 MiB limit; use more --files\n",
		    path, len);
	g->g_bytes += (uint64_t)len;
	rc = 0;
out:
	free(path);
	return rc;
}

/*
 * The lb tier is placed, not drawn: g_lb VMs evenly through the index
 * range, so its `spread: host` SLA never selects more VMs than hosts.
 */
static int
is_lb(const struct gen *g, unsigned long i)
{
	unsigned long stride;

	if (g->g_lb == 0)
		return 0;
	stride = g->g_vms / g->g_lb;
	return i % stride == stride / 2 && i / stride < g->g_lb;
}

static int
write_hosts(struct gen *g)
{
	FILE *f;
	char *path, mem[32];
	uint64_t per, mib;
	unsigned long h;

	/*
	 * Enough memory for twice a fair share of the largest VMs (8GiB
	 * with ballooning): random pinning is uneven, and host_failures: 1
	 * needs room to take a failed host's VMs.  Whole TiB, at least 1.
	 */
	per = (g->g_vms + g->g_hosts - 1) / g->g_hosts;
	mib = per * 8 * GEN_MIB * 2;
	mib = (mib + GEN_MIB * GEN_MIB - 1) / (GEN_MIB * GEN_MIB);
	mib = (mib ? mib : 1) * GEN_MIB * GEN_MIB;
	fmt_size(mem, sizeof(mem), mib);

	if ((f = gen_open(g, "hosts.yaml", &path)) == NULL)
		return -1;
	fprintf(f, "# %lu Hosts, generated by bench/gen --seed %" PRIu64 "\n",
	    g->g_hosts, g->g_seed);
	for (h = 0; h < g->g_hosts; h++) {
		if (h > 0)
			fputs("---\n", f);
		fprintf(f,
		    "kind: Host\n"
		    "name: xen-%03lu\n"
		    "labels: {rack: r%02lu}\n"
		    "memory: %s\n"
		    "cpus: 64\n"
		    "state: active\n",
		    h, h / 16, mem);
	}
	return gen_close(g, f, path);
}

/*
 * A handful of short names: the default bridge "xdc-" + name must fit in
 * 15 characters, and one network spells its bridge out.
 */
static int
write_networks(struct gen *g)
{
	FILE *f;
	char *path;

	if ((f = gen_open(g, "networks.yaml", &path)) == NULL)
		return -1;
	fputs("# Networks, generated by bench/gen\n"
	      "kind: Network\n"
	      "name: mgmt\n"
	      "uplink: eth0\n"
	      "mtu: 1500\n"
	      "---\n"
	      "kind: Network\n"
	      "name: dmz\n"
	      "uplink: eth1\n"
	      "vlan: 20\n"
	      "---\n"
	      "kind: Network\n"
	      "name: app\n"
	      "uplink: eth1\n"
	      "vlan: 30\n"
	      "---\n"
	      "kind: Network\n"
	      "name: db\n"
	      "uplink: eth1\n"
	      "vlan: 40\n"
	      "---\n"
	      "kind: Network\n"
	      "name: stor\n"
	      "bridge: xdc-storage\n"
	      "mtu: 9000\n",
	    f);
	return gen_close(g, f, path);
}

static void
write_vm(struct gen *g, FILE *f, unsigned long i)
{
	static const unsigned mem_mib[] = { 256, 512, 1024, 1024, 2048, 2048,
		4096 };
	uint64_t s, mac;
	enum tier t;
	unsigned vcpus, mib, n, nnics, r;
	int explicit_mac;
	const char *net;
	char name[32], size[32];

	/* Each VM its own stream, independent of the file it lands in. */
	s = g->g_seed ^ (0x2545f4914f6cdd1dULL * (i + 1));
	splitmix64(&s);
	snprintf(name, sizeof(name), "vm-%06lu", i);

	if (is_lb(g, i))
		t = T_LB;
	else {
		/* web 30%, app 25%, db 10%, cache 10%, batch 25% */
		r = pick(&s, 100);
		t = r < 30   ? T_WEB
		    : r < 55 ? T_APP
		    : r < 65 ? T_DB
		    : r < 75 ? T_CACHE
		             : T_BATCH;
	}
	g->g_ntier[t]++;

	fprintf(f,
	    "kind: VM\n"
	    "name: %s\n"
	    "labels: {tier: %s, app: %s}\n"
	    "type: pvh\n",
	    name, tier_names[t],
	    apps[pick(&s, sizeof(apps) / sizeof(apps[0]))]);

	mib = mem_mib[pick(&s, sizeof(mem_mib) / sizeof(mem_mib[0]))];
	fmt_size(size, sizeof(size), mib);
	fprintf(f, "memory: %s\n", size);
	if (chance(&s, 20)) {
		fmt_size(size, sizeof(size), (uint64_t)mib * 2);
		fprintf(f, "max_memory: %s\n", size);
	}
	vcpus = 1 + pick(&s, 4);
	fprintf(f, "vcpus: %u\n", vcpus);
	if (chance(&s, 10))
		fprintf(f, "max_vcpus: %u\n", vcpus * 2);

	fputs("kernel: /var/lib/xdc/kernels/vmlinuz-6.1.0-18-amd64\n", f);
	if (chance(&s, 50))
		fputs("ramdisk: /var/lib/xdc/kernels/initrd.img-6.1.0-18-amd64"
		      "\n",
		    f);
	fprintf(f, "cmdline: \"console=hvc0 root=/dev/xvda1 ro%s\"\n",
	    chance(&s, 50) ? " quiet" : "");

	fprintf(f,
	    "disks:\n"
	    "  - {target: /dev/vg0/%s, vdev: xvda, format: raw}\n",
	    name);
	if (chance(&s, 40))
		fprintf(f,
		    "  - {target: /srv/xdc/images/%s-data.qcow2, "
		    "vdev: xvdb, format: qcow2}\n",
		    name);

	/*
	 * MACs: 24 bits from (VM, NIC) through an odd multiplier, a
	 * bijection mod 2^24, so explicit MACs are unique yet look random.
	 * About one VM in eight leaves them to xdc to derive.
	 */
	nnics = chance(&s, 30) ? 2 : 1;
	explicit_mac = !chance(&s, 12);

	fputs("nics:\n", f);
	for (n = 0; n < nnics; n++) {
		net = n == 0 ? tier_net[t] : "mgmt";
		if (!explicit_mac) {
			fprintf(f, "  - {network: %s}\n", net);
			continue;
		}
		mac = (((uint64_t)i * 2 + n) * 0x9e3779ULL + 0x5ac10f) %
		      GEN_MAX_MAC;
		fprintf(f,
		    "  - {network: %s, mac: \"00:16:3e:%02x:%02x:%02x\"}"
		    "\n",
		    net, (unsigned)(mac >> 16) & 0xff,
		    (unsigned)(mac >> 8) & 0xff, (unsigned)mac & 0xff);
	}

	/* Pin some, but never where spread or host_failures apply. */
	if (t != T_WEB && t != T_LB && chance(&s, 20))
		fprintf(f, "host: xen-%03lu\n",
		    (unsigned long)(splitmix64(&s) % g->g_hosts));
	fputs("state: running\n", f);
	if (t == T_DB && chance(&s, 5))
		fputs("protect: true\n", f);
}

static int
write_vms(struct gen *g)
{
	FILE *f;
	char *path, name[32];
	unsigned long file, i, lo, hi;

	for (file = 0; file < g->g_files; file++) {
		lo = g->g_vms * file / g->g_files;
		hi = g->g_vms * (file + 1) / g->g_files;
		snprintf(name, sizeof(name), "vms-%04lu.yaml", file);
		if ((f = gen_open(g, name, &path)) == NULL)
			return -1;
		fprintf(f,
		    "# VMs %lu..%lu, generated by bench/gen --seed %" PRIu64
		    "\n",
		    lo, hi - 1, g->g_seed);
		for (i = lo; i < hi; i++) {
			if (i > lo)
				fputs("---\n", f);
			write_vm(g, f, i);
		}
		if (gen_close(g, f, path) == -1)
			return -1;
	}
	return 0;
}

/*
 * One SLA.  min_running is half the VMs it selects, and only written when
 * that is at least one, so the budget can always be met.
 */
static void
write_sla(FILE *f, const char *name, enum tier t, unsigned weight, unsigned cap,
    const char *restart, unsigned long nvms, int spread, int host_failures,
    const char *window)
{
	fprintf(f,
	    "kind: SLA\n"
	    "name: %s\n"
	    "selector: {tier: %s}\n"
	    "cpu:\n"
	    "  weight: %u\n"
	    "  cap: %u\n"
	    "availability:\n"
	    "  restart: %s\n",
	    name, tier_names[t], weight, cap, restart);
	if (strcmp(restart, "never") != 0)
		fputs("  restart_limit: 5/1h\n", f);
	if (spread)
		fputs("  spread: host\n", f);
	if (nvms / 2 >= 1)
		fprintf(f, "  min_running: %lu\n", nvms / 2);
	if (host_failures)
		fputs("  host_failures: 1\n", f);
	if (window != NULL)
		fprintf(f,
		    "maintenance:\n"
		    "  window: \"%s\"\n",
		    window);
}

/* Written last: min_running needs the tier counts write_vms drew. */
static int
write_slas(struct gen *g)
{
	FILE *f;
	char *path;

	if ((f = gen_open(g, "slas.yaml", &path)) == NULL)
		return -1;
	fputs(
	    "# SLAs, generated by bench/gen; one tier each, so disjoint\n", f);
	/* N+1 asks for a second host: one host alone cannot promise it. */
	write_sla(f, "gold", T_WEB, 512, 0, "always", g->g_ntier[T_WEB], 0,
	    g->g_hosts >= 2, NULL);
	fputs("---\n", f);
	write_sla(
	    f, "edge", T_LB, 1024, 0, "always", g->g_ntier[T_LB], 1, 0, NULL);
	fputs("---\n", f);
	write_sla(f, "silver", T_APP, 256, 100, "on-crash", g->g_ntier[T_APP],
	    0, 0, NULL);
	fputs("---\n", f);
	write_sla(f, "data", T_DB, 768, 0, "always", g->g_ntier[T_DB], 0, 0,
	    "Sat 02:00-04:00 UTC");
	fputs("---\n", f);
	write_sla(f, "bronze", T_BATCH, 64, 50, "never", 0, 0, 0, NULL);
	return gen_close(g, f, path);
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "vms", required_argument, NULL, 'n' },
		{ "hosts", required_argument, NULL, 'H' },
		{ "files", required_argument, NULL, 'f' }, { NULL, 0, NULL, 0 }
	};
	struct gen g;
	unsigned long seed = 1, vms = 0, hosts = 0, files = 0;
	int ch, have_vms = 0;

	while ((ch = getopt_long(argc, argv, "s:n:H:f:", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			if (parse_ulong("--seed", optarg, &seed) == -1)
				return 1;
			break;
		case 'n':
			if (parse_ulong("--vms", optarg, &vms) == -1)
				return 1;
			have_vms = 1;
			break;
		case 'H':
			if (parse_ulong("--hosts", optarg, &hosts) == -1)
				return 1;
			break;
		case 'f':
			if (parse_ulong("--files", optarg, &files) == -1)
				return 1;
			break;
		default:
			usage();
		}
	}
	if (!have_vms || optind != argc - 1)
		usage();
	if (vms == 0 || vms > GEN_MAX_MAC / 2) {
		fprintf(
		    stderr, "gen: --vms must be 1..%llu\n", GEN_MAX_MAC / 2);
		return 1;
	}
	if (hosts == 0)
		hosts = vms / 40 > 3 ? vms / 40 : 3;
	if (files == 0)
		files = vms / 500 > 1 ? vms / 500 : 1;
	if (files > vms || files > 10000) {
		fprintf(stderr, "gen: --files must be 1..min(VMs, 10000)\n");
		return 1;
	}

	memset(&g, 0, sizeof(g));
	g.g_seed = seed;
	g.g_vms = vms;
	g.g_hosts = hosts;
	g.g_files = files;
	g.g_lb = hosts < 4 ? hosts : 4;
	if (g.g_lb > vms)
		g.g_lb = vms;
	g.g_outdir = argv[optind];

	if (mkdir_p(g.g_outdir) == -1 || write_hosts(&g) == -1 ||
	    write_networks(&g) == -1 || write_vms(&g) == -1 ||
	    write_slas(&g) == -1)
		return 1;
	printf("%lu VMs, %lu hosts, %lu VM files, %" PRIu64 " bytes in %s\n",
	    g.g_vms, g.g_hosts, g.g_files, g.g_bytes, g.g_outdir);
	return 0;
}
