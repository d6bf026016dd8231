/*
 * test_libxl_smoke: the first Xen integration test, run inside the lab's
 * dom0 (tests/xen-lab, docs/xen-lab.md).  It talks to the hypervisor the
 * way the xdc driver will: through libxl and libxenstore, never by running
 * `xl`.  It lists domains, reads physinfo, writes and reads xenstore, then
 * creates a tiny PV guest from the lab's images, watches it come up on its
 * console, and destroys it.
 *
 * Each check prints "ok - ..." or "not ok - ..."; notes start with "# ".
 * The exit code is 1 when any check failed, 2 on bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libxl.h>
#include <libxl_utils.h>
#include <xenstore.h>
#include <xentoollog.h>

#define SMOKE_GUEST_LINE  "xdc-lab-guest: up"
#define SMOKE_CONSOLE_DIR "/var/log/xen/console"
#define SMOKE_XS_DIR      "/local/domain/0/xdc-lab"
/* libxl.h spells it ~0, an int. */
#define SMOKE_NO_DOMID ((uint32_t)INVALID_DOMID)

struct smoke {
	libxl_ctx *sm_ctx;
	const char *sm_kernel;
	const char *sm_ramdisk;
	const char *sm_name;
	const char *sm_cmdline;
	const char *sm_while_running; /* shell command, or NULL */
	unsigned sm_memory_mib;
	unsigned sm_console_secs;
	unsigned sm_passed;
	unsigned sm_failed;
};

/* Records one check and prints its line; returns ok as 0 or -1. */
static int smoke_check(struct smoke *sm, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
smoke_check(struct smoke *sm, bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s - ", ok ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (ok)
		sm->sm_passed++;
	else
		sm->sm_failed++;
	return ok ? 0 : -1;
}

static double
smoke_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Domain-0 must be there, and nothing dying. */
static int
smoke_list_domains(struct smoke *sm)
{
	libxl_dominfo *list = NULL;
	int nb = 0, i, rc = -1;
	bool dom0 = false;

	list = libxl_list_domain(sm->sm_ctx, &nb);
	if (smoke_check(sm, list != NULL, "libxl_list_domain returns a list") <
	    0)
		goto out;
	for (i = 0; i < nb; i++) {
		char *name = libxl_domid_to_name(sm->sm_ctx, list[i].domid);

		printf("# domain %" PRIu32 " %s, %" PRIu64 " MiB\n",
		    list[i].domid, name ? name : "(no name)",
		    list[i].current_memkb / 1024);
		if (list[i].domid == 0 && name && !strcmp(name, "Domain-0"))
			dom0 = true;
		free(name);
	}
	rc = smoke_check(sm, dom0, "Domain-0 is listed among %d domain(s)", nb);
out:
	if (list)
		libxl_dominfo_list_free(list, nb);
	return rc;
}

static int
smoke_physinfo(struct smoke *sm)
{
	libxl_physinfo pi;
	int rc;

	libxl_physinfo_init(&pi);
	rc = libxl_get_physinfo(sm->sm_ctx, &pi);
	if (smoke_check(sm, rc == 0, "libxl_get_physinfo (rc %d)", rc) < 0)
		goto out;
	printf("# physinfo: nr_cpus %" PRIu32 ", total %" PRIu64
	       " MiB, free %" PRIu64 " MiB, pv %d, hvm %d, hap %d\n",
	    pi.nr_cpus, pi.total_pages / 256, pi.free_pages / 256, pi.cap_pv,
	    pi.cap_hvm, pi.cap_hap);
	rc = smoke_check(sm,
	    pi.nr_cpus > 0 && pi.total_pages > 0 &&
	        pi.free_pages <= pi.total_pages && pi.cap_pv,
	    "physinfo is sane (cpus, memory, PV capable)");
out:
	libxl_physinfo_dispose(&pi);
	return rc;
}

/* Write, read back and remove a key of our own; read what xen-init-dom0
 * wrote. */
static int
smoke_xenstore(struct smoke *sm)
{
	struct xs_handle *xsh = NULL;
	char path[128], value[64];
	char *got = NULL;
	unsigned int len = 0;
	bool ok;
	int rc = -1;

	xsh = xs_open(0);
	if (smoke_check(sm, xsh != NULL, "xs_open (%s)",
	        xsh ? "connected" : strerror(errno)) < 0)
		goto out;

	got = xs_read(xsh, XBT_NULL, "/local/domain/0/name", &len);
	smoke_check(sm, got && !strcmp(got, "Domain-0"),
	    "xenstore /local/domain/0/name is \"%s\"",
	    got ? got : "(unreadable)");
	free(got);
	got = NULL;

	snprintf(path, sizeof(path), SMOKE_XS_DIR "/smoke-%ld", (long)getpid());
	snprintf(value, sizeof(value), "hello from pid %ld", (long)getpid());
	ok = xs_write(xsh, XBT_NULL, path, value, (unsigned int)strlen(value));
	if (smoke_check(sm, ok, "xs_write %s", path) < 0)
		goto out;
	got = xs_read(xsh, XBT_NULL, path, &len);
	if (smoke_check(sm, got && len == strlen(value) && !strcmp(got, value),
	        "xs_read gives back \"%s\"", got ? got : "(nothing)") < 0)
		goto out;
	free(got);
	got = NULL;
	if (smoke_check(sm, xs_rm(xsh, XBT_NULL, SMOKE_XS_DIR), "xs_rm %s",
	        SMOKE_XS_DIR) < 0)
		goto out;
	got = xs_read(xsh, XBT_NULL, path, &len);
	rc = smoke_check(
	    sm, got == NULL && errno == ENOENT, "removed key reads as ENOENT");
out:
	free(got);
	xs_close(xsh);
	return rc;
}

/* Fills d_config for a PV guest the way xl's parser would for
 *   type="pv" memory=M vcpus=1 kernel=K ramdisk=R cmdline=C
 * d_config must have been libxl_domain_config_init()ed. */
static int
smoke_guest_config(struct smoke *sm, libxl_domain_config *dc)
{
	libxl_domain_create_info *c = &dc->c_info;
	libxl_domain_build_info *b = &dc->b_info;

	c->type = LIBXL_DOMAIN_TYPE_PV;
	c->name = strdup(sm->sm_name);
	libxl_domain_build_info_init_type(b, LIBXL_DOMAIN_TYPE_PV);
	b->max_vcpus = 1;
	if (libxl_cpu_bitmap_alloc(sm->sm_ctx, &b->avail_vcpus, 1))
		return -1;
	libxl_bitmap_set_none(&b->avail_vcpus);
	libxl_bitmap_set(&b->avail_vcpus, 0);
	b->max_memkb = (uint64_t)sm->sm_memory_mib * 1024;
	b->target_memkb = b->max_memkb;
	b->kernel = strdup(sm->sm_kernel);
	b->ramdisk = strdup(sm->sm_ramdisk);
	b->cmdline = strdup(sm->sm_cmdline);
	/* A test guest that stops must not come back. */
	dc->on_poweroff = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
	dc->on_reboot = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
	dc->on_crash = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
	if (!c->name || !b->kernel || !b->ramdisk || !b->cmdline)
		return -1;
	return 0;
}

/* Copies the first line of the file at path holding SMOKE_GUEST_LINE into
 * line; returns 0 when there is one. */
static int
smoke_find_line(const char *path, char *line, size_t size)
{
	FILE *f = NULL;
	char *buf = NULL;
	size_t cap = 0;
	int rc = -1;

	f = fopen(path, "r");
	if (!f)
		goto out;
	while (getline(&buf, &cap, f) != -1) {
		char *hit = strstr(buf, SMOKE_GUEST_LINE);

		if (hit) {
			hit[strcspn(hit, "\r\n")] = '\0';
			snprintf(line, size, "%s", hit);
			rc = 0;
			break;
		}
	}
out:
	free(buf);
	if (f)
		fclose(f);
	return rc;
}

/* Waits until the guest's console log holds SMOKE_GUEST_LINE.  xenconsoled
 * (--log=guest) writes the log. */
static int
smoke_wait_console(struct smoke *sm, const char *log)
{
	double start = smoke_now(), waited = 0;
	char line[256] = SMOKE_GUEST_LINE;
	bool found = false;

	for (;;) {
		found = smoke_find_line(log, line, sizeof(line)) == 0;
		waited = smoke_now() - start;
		if (found || waited >= sm->sm_console_secs)
			break;
		usleep(250 * 1000);
	}
	return smoke_check(sm, found,
	    "guest console says \"%s\" after %.1f s (%s)", line, waited, log);
}

/* The guest must exist, run (or block: it idles) and have its memory. */
static int
smoke_observe(struct smoke *sm, uint32_t domid)
{
	libxl_dominfo info;
	char *name = NULL;
	uint64_t want = (uint64_t)sm->sm_memory_mib * 1024;
	int rc;

	libxl_dominfo_init(&info);
	rc = libxl_domain_info(sm->sm_ctx, &info, domid);
	if (smoke_check(sm, rc == 0,
	        "libxl_domain_info on domid %" PRIu32 " (rc %d)", domid,
	        rc) < 0)
		goto out;
	printf("# domid %" PRIu32 ": running %d blocked %d paused %d "
	       "shutdown %d dying %d, current %" PRIu64 " KiB, max %" PRIu64
	       " KiB, vcpus online %" PRIu32 "\n",
	    domid, info.running, info.blocked, info.paused, info.shutdown,
	    info.dying, info.current_memkb, info.max_memkb, info.vcpu_online);
	smoke_check(sm, !info.paused && !info.shutdown && !info.dying,
	    "guest is live (not paused, shut down or dying)");
	smoke_check(
	    sm, info.domain_type == LIBXL_DOMAIN_TYPE_PV, "guest is PV");
	/* Xen counts a few pages more or less than the target (page tables,
	 * the start-info page); the size must be the one asked for. */
	smoke_check(sm,
	    info.current_memkb >= want * 9 / 10 &&
	        info.current_memkb <= want + 4096,
	    "guest has about %u MiB (%" PRIu64 " KiB)", sm->sm_memory_mib,
	    info.current_memkb);
	name = libxl_domid_to_name(sm->sm_ctx, domid);
	rc = smoke_check(sm, name && !strcmp(name, sm->sm_name),
	    "domid %" PRIu32 " is named %s", domid, name ? name : "(nothing)");
out:
	free(name);
	libxl_dominfo_dispose(&info);
	return rc;
}

/* After destroy, libxl, the domain list and xenstore must all forget it. */
static int
smoke_gone(struct smoke *sm, uint32_t domid)
{
	libxl_dominfo *list = NULL;
	struct xs_handle *xsh = NULL;
	char path[64];
	char *got = NULL;
	unsigned int len;
	int nb = 0, i, rc;
	bool listed = false;

	rc = libxl_domain_info(sm->sm_ctx, NULL, domid);
	smoke_check(sm, rc == ERROR_DOMAIN_NOTFOUND,
	    "libxl_domain_info says domid %" PRIu32 " is not found (rc %d)",
	    domid, rc);
	list = libxl_list_domain(sm->sm_ctx, &nb);
	for (i = 0; list && i < nb; i++)
		if (list[i].domid == domid)
			listed = true;
	smoke_check(sm, list && !listed,
	    "libxl_list_domain no longer lists it (%d domain(s))", nb);
	xsh = xs_open(0);
	snprintf(path, sizeof(path), "/local/domain/%" PRIu32, domid);
	if (xsh)
		got = xs_read(xsh, XBT_NULL, path, &len);
	rc = smoke_check(sm, xsh && !got, "xenstore %s is gone", path);
	free(got);
	xs_close(xsh);
	if (list)
		libxl_dominfo_list_free(list, nb);
	return rc;
}

/* Creates the guest, lets it run and watches it come up.  *domid is set
 * as soon as a domain exists, even a half-created one, so that the caller
 * destroys whatever was made. */
static int
smoke_guest_run(struct smoke *sm, uint32_t *domid)
{
	libxl_domain_config dc;
	char log[256];
	double t;
	int rc, ret = -1;

	libxl_domain_config_init(&dc);
	snprintf(
	    log, sizeof(log), SMOKE_CONSOLE_DIR "/guest-%s.log", sm->sm_name);
	/* An old console log would make the console check lie. */
	unlink(log);

	if (smoke_check(sm, smoke_guest_config(sm, &dc) == 0,
	        "guest configuration built") < 0)
		goto out;
	t = smoke_now();
	rc = libxl_domain_create_new(sm->sm_ctx, &dc, domid, NULL, NULL);
	if (smoke_check(sm, rc == 0,
	        "libxl_domain_create_new: PV guest %s, %u MiB, domid %" PRIu32
	        " in %.1f s (rc %d)",
	        sm->sm_name, sm->sm_memory_mib, *domid, smoke_now() - t,
	        rc) < 0)
		goto out;
	rc = libxl_domain_unpause(sm->sm_ctx, *domid, NULL);
	if (smoke_check(sm, rc == 0, "libxl_domain_unpause (rc %d)", rc) < 0)
		goto out;
	if (smoke_observe(sm, *domid) < 0)
		goto out;
	if (sm->sm_while_running) {
		printf("# while the guest runs: %s\n", sm->sm_while_running);
		fflush(stdout);
		if (system(sm->sm_while_running) != 0)
			printf("# (that command failed)\n");
		fflush(stdout);
	}
	if (smoke_wait_console(sm, log) < 0)
		goto out;
	/* Coming up must not have been its last act. */
	rc = libxl_domain_info(sm->sm_ctx, NULL, *domid);
	if (smoke_check(sm, rc == 0, "guest still exists after booting") < 0)
		goto out;
	ret = 0;
out:
	libxl_domain_config_dispose(&dc);
	return ret;
}

static int
smoke_destroy(struct smoke *sm, uint32_t domid)
{
	double t = smoke_now();
	int rc;

	rc = libxl_domain_destroy(sm->sm_ctx, domid, NULL);
	if (smoke_check(sm, rc == 0,
	        "libxl_domain_destroy domid %" PRIu32 " in %.1f s (rc %d)",
	        domid, smoke_now() - t, rc) < 0)
		return -1;
	return smoke_gone(sm, domid);
}

/* The guest's whole life: create, observe, destroy. */
static int
smoke_guest(struct smoke *sm)
{
	uint32_t domid = SMOKE_NO_DOMID, stale;
	int rc;

	if (smoke_check(sm,
	        access(sm->sm_kernel, R_OK) == 0 &&
	            access(sm->sm_ramdisk, R_OK) == 0,
	        "guest images readable (%s, %s)", sm->sm_kernel,
	        sm->sm_ramdisk) < 0)
		return -1;
	/* A guest left over by an earlier, interrupted run would make the
	 * checks below lie. */
	if (libxl_name_to_domid(sm->sm_ctx, sm->sm_name, &stale) == 0) {
		printf("# destroying stale %s (domid %" PRIu32 ")\n",
		    sm->sm_name, stale);
		libxl_domain_destroy(sm->sm_ctx, stale, NULL);
	}
	rc = smoke_guest_run(sm, &domid);
	if (domid != SMOKE_NO_DOMID && smoke_destroy(sm, domid) < 0)
		rc = -1;
	return rc;
}

static void
smoke_usage(void)
{
	fprintf(stderr,
	    "usage: test_libxl_smoke [-v] [--kernel FILE] [--ramdisk FILE]\n"
	    "           [--name NAME] [--cmdline ARGS] [--memory MIB]\n"
	    "           [--console-timeout S]\n"
	    "           [--while-running CMD]\n"
	    "Guest images default to $XDC_LAB_GUEST/{vmlinux,initrd.img}\n"
	    "(/var/lib/xdc-lab/guest).\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "ramdisk", required_argument, NULL, 'r' },
		{ "name", required_argument, NULL, 'n' },
		{ "cmdline", required_argument, NULL, 'c' },
		{ "memory", required_argument, NULL, 'm' },
		{ "console-timeout", required_argument, NULL, 't' },
		{ "while-running", required_argument, NULL, 'x' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct smoke sm = {
		.sm_name = "xdc-smoke",
		/* quiet: the kernel's boot messages would bury the guest's line
		 * in the console log; pass --cmdline console=hvc0 to see them.
		 */
		.sm_cmdline = "console=hvc0 quiet",
		.sm_memory_mib = 128,
		.sm_console_secs = 90,
	};
	xentoollog_logger_stdiostream *logger = NULL;
	xentoollog_level level = XTL_WARN;
	const char *guest_dir = getenv("XDC_LAB_GUEST");
	char kernel[512], ramdisk[512];
	int c, ret = 1;

	if (!guest_dir || !*guest_dir)
		guest_dir = "/var/lib/xdc-lab/guest";
	snprintf(kernel, sizeof(kernel), "%s/vmlinux", guest_dir);
	snprintf(ramdisk, sizeof(ramdisk), "%s/initrd.img", guest_dir);
	sm.sm_kernel = kernel;
	sm.sm_ramdisk = ramdisk;

	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			sm.sm_kernel = optarg;
			break;
		case 'r':
			sm.sm_ramdisk = optarg;
			break;
		case 'n':
			sm.sm_name = optarg;
			break;
		case 'c':
			sm.sm_cmdline = optarg;
			break;
		case 'm':
			sm.sm_memory_mib = (unsigned)atoi(optarg);
			break;
		case 't':
			sm.sm_console_secs = (unsigned)atoi(optarg);
			break;
		case 'x':
			sm.sm_while_running = optarg;
			break;
		case 'v':
			level = XTL_DEBUG;
			break;
		case 'h':
			smoke_usage();
			return 0;
		default:
			smoke_usage();
			return 2;
		}
	}
	if (optind != argc || sm.sm_memory_mib < 16) {
		smoke_usage();
		return 2;
	}

	logger = xtl_createlogger_stdiostream(stderr, level, 0);
	if (smoke_check(&sm, logger != NULL, "xentoollog logger") < 0)
		goto out;
	if (smoke_check(&sm,
	        libxl_ctx_alloc(&sm.sm_ctx, LIBXL_VERSION, 0,
	            (xentoollog_logger *)logger) == 0,
	        "libxl_ctx_alloc") < 0)
		goto out;

	/* Each part reports its own checks; later parts still run when an
	 * earlier one failed, so that one run shows everything broken. */
	smoke_list_domains(&sm);
	smoke_physinfo(&sm);
	smoke_xenstore(&sm);
	smoke_guest(&sm);
out:
	if (sm.sm_ctx)
		libxl_ctx_free(sm.sm_ctx);
	if (logger)
		xtl_logger_destroy((xentoollog_logger *)logger);
	printf("# test_libxl_smoke: %u passed, %u failed\n", sm.sm_passed,
	    sm.sm_failed);
	if (sm.sm_failed == 0 && sm.sm_passed > 0)
		ret = 0;
	return ret;
}
