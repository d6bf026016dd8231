/*
 * test_xen_driver: the xen driver (drivers/xen.c), action by action,
 * against the lab's real Xen. The command line's integration suite
 * (xdc-integration.sh) reaches the driver only through plans; this program
 * hands it the actions no plan makes (destroy Domain-0, touch a domain xdc
 * did not make, act twice) and the ones the lab's configuration cannot
 * reach yet (NICs, which need a Network and so the netlink driver), and
 * checks each against what libxl, xenctrl and xenstore then say. The
 * driver observes without libxl (xen_observe.c): what it reads of NICs,
 * disks and scheduler parameters is compared with libxl's lists.
 *
 * Live migration (XDC_OP_MIGRATE) goes to this same host under another
 * name, through tests/xen/migrate-transport as the driver's ssh: the
 * sender, `xdc migrate-receive` and libxl's stream are the real ones, on
 * one dom0 (xl's localhost migration). `test_xen_driver migrate` runs that
 * part (alone: tests/xen/xdc-migrate.sh gives it its own time budget);
 * XDC_TEST_GUEST_RAMDISK gives its guest another initrd (the suite's
 * ticking one, which prints its uptime every 20 ms: the largest gap
 * between two ticks is the guest's downtime).
 *
 * Each check prints "ok - ..." or "not ok - ..."; notes start with "# ".
 * The exit code is 1 when any check failed.
 */
#include "drivers/xen_config.h" /* first: xenctrl.h before libxl.h */

#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xenstore.h>
#include <xentoollog.h>

#include "base/error.h"
#include "base/ev.h"
#include "drivers/driver.h"
#include "drivers/xen.h"
#include "schema/model.h"

#define MIB         (1024ULL * 1024)
#define BRIDGE      "xdcbr0"
#define BRIDGE2     "xdcbr1"
#define CONSOLE_DIR "/var/log/xen/console"

static unsigned passed, failed;
static struct xdc_driver *drv;
static struct xdc_ev *ev; /* where the driver's actions wait */
static xc_interface *xch;
static struct xs_handle *xsh;

static bool check(bool ok, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static bool
check(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s - ", ok ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (ok)
		passed++;
	else
		failed++;
	return ok;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A VM as the planner hands it to a driver: the declaration, resolved. */
struct tvm {
	struct xdc_vm vm;
	struct xdc_nic nics[2];
	const char *bridges[2];
	struct xdc_dom_spec spec;
	struct xdc_action act;
};

static void
tvm_init(struct tvm *t, const char *name, enum xdc_vm_state state)
{
	const char *guest = getenv("XDC_LAB_GUEST");
	static char kernel[256], ramdisk[256];

	if (guest == NULL || *guest == '\0')
		guest = "/var/lib/xdc-lab/guest";
	snprintf(kernel, sizeof(kernel), "%s/vmlinux", guest);
	snprintf(ramdisk, sizeof(ramdisk), "%s/initrd.img", guest);
	memset(t, 0, sizeof(*t));
	t->vm.vm_name = name;
	t->vm.vm_type = XDC_VM_PV;
	t->vm.vm_memory = 96 * MIB;
	t->vm.vm_max_memory = 112 * MIB;
	t->vm.vm_vcpus = t->vm.vm_max_vcpus = 1;
	t->vm.vm_kernel = kernel;
	t->vm.vm_ramdisk = ramdisk;
	t->vm.vm_cmdline = "console=hvc0 quiet";
	t->vm.vm_state = state;
	t->vm.vm_nics = t->nics;
	t->spec.ds_vm = &t->vm;
	t->spec.ds_bridges = t->bridges;
	t->spec.ds_weight = 256;
	t->spec.ds_hash = 0x5eed;
	t->act.a_kind = XDC_OBJ_VM;
	t->act.a_name = name;
	t->act.a_host = "local";
	t->act.a_spec = &t->spec;
}

static void
tvm_nic(struct tvm *t, size_t i, const char *bridge)
{
	t->bridges[i] = bridge;
	xdc_mac_derive(t->vm.vm_name, i, t->nics[i].nic_mac);
	t->vm.vm_nnics = i + 1;
}

/*
 * Wait in the test's event loop, as exec does, until the driver hands over
 * a finished action: its token and result (its message, when it failed,
 * left in xdc_error_last()).
 */
static int
reap_wait(uint64_t *token, int *result)
{
	char *msg = NULL;
	int rc;

	while ((rc = drv->reap(drv, token, result, &msg)) == XDC_ENOTFOUND)
		if (xdc_ev_run_once(ev, 100) < 0)
			return XDC_ERR;
	if (rc == 0 && *result != 0)
		xdc_error(*result, "%s", msg != NULL ? msg : "(no message)");
	free(msg);
	return rc;
}

/* One action, submitted and waited for: apply as exec does it. */
static int
apply_wait(const struct xdc_action *a)
{
	uint64_t token;
	int rc, result;

	if ((rc = drv->submit(drv, a, 7)) != 0)
		return rc;
	if ((rc = reap_wait(&token, &result)) != 0)
		return rc;
	if (token != 7)
		return xdc_error(XDC_ERR, "reap gave token %" PRIu64, token);
	return result;
}

static int
act(struct tvm *t, enum xdc_op op, unsigned update)
{
	t->act.a_op = op;
	t->act.a_update = update;
	return apply_wait(&t->act);
}

/* An action on a domain named name only (destroy, stop, pause). */
static int
act_on(const char *name, enum xdc_op op)
{
	struct xdc_action a;

	memset(&a, 0, sizeof(a));
	a.a_op = op;
	a.a_kind = XDC_OBJ_VM;
	a.a_name = name;
	a.a_host = "local";
	return apply_wait(&a);
}

/* The domain as the driver observes it, copied out; false when absent. */
static bool
observe(
    const char *name, struct xdc_obs_domain *out, char *bridges, size_t size)
{
	struct xdc_observed *obs = NULL;
	const struct xdc_obs_domain *d;
	size_t i;
	bool found = false;

	if (bridges != NULL)
		bridges[0] = '\0';
	if (drv->observe(drv, &obs) != 0) {
		printf("# observe: %s\n", xdc_error_last());
		return false;
	}
	d = xdc_obs_host_domain(xdc_observed_host(obs, "local"), name);
	if (d != NULL) {
		*out = *d;
		out->od_name = NULL;
		out->od_nics = NULL;
		memset(&out->od_build, 0, sizeof(out->od_build));
		for (i = 0; bridges != NULL && i < d->od_nnics; i++)
			snprintf(bridges + strlen(bridges),
			    size - strlen(bridges), "%s%s", i ? "," : "",
			    d->od_nics[i].on_bridge);
		found = true;
	}
	xdc_observed_free(obs);
	return found;
}

static int
domid_of(const char *name, uint32_t *domid)
{
	xc_domaininfo_t v[64];
	char path[64], *s;
	unsigned int len;
	int n, i, rc = -1;

	n = xc_domain_getinfolist(xch, 0, 64, v);
	for (i = 0; i < n && rc != 0; i++) {
		if (v[i].flags & XEN_DOMINF_dying)
			continue;
		snprintf(
		    path, sizeof(path), "/local/domain/%u/name", v[i].domain);
		s = xs_read(xsh, XBT_NULL, path, &len);
		if (s != NULL && strcmp(s, name) == 0) {
			*domid = v[i].domain;
			rc = 0;
		}
		free(s);
	}
	return rc;
}

static bool
exists(const char *name)
{
	uint32_t d;

	return domid_of(name, &d) == 0;
}

static bool
paused(const char *name)
{
	xc_domaininfo_t info;
	uint32_t d;

	return domid_of(name, &d) == 0 &&
	       xc_domain_getinfolist(xch, d, 1, &info) == 1 &&
	       (info.flags & XEN_DOMINF_paused);
}

static bool
console_up(const char *name, unsigned secs)
{
	char path[128], line[256];
	double end = now() + secs;
	bool up = false;
	FILE *f;

	snprintf(path, sizeof(path), CONSOLE_DIR "/guest-%s.log", name);
	while (!up && now() < end) {
		if ((f = fopen(path, "r")) != NULL) {
			while (!up && fgets(line, sizeof(line), f) != NULL)
				up = strstr(line, "xdc-lab-guest: up") != NULL;
			fclose(f);
		}
		if (!up)
			usleep(250 * 1000);
	}
	return up;
}

static void
cleanup(void)
{
	static const char *const names[] = { "drv-a", "drv-b", "drv-c",
		"drv-bad", "drv-x", "drv-m", "drv-m--incoming",
		"drv-m--migratedaway", "drv-hog", "drv-u" };
	char cmd[64];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!exists(names[i]))
			continue;
		snprintf(cmd, sizeof(cmd), "xl destroy %s", names[i]);
		if (system(cmd) != 0)
			printf("# %s failed\n", cmd);
	}
	unlink(CONSOLE_DIR "/guest-drv-b.log");
	unlink(CONSOLE_DIR "/guest-drv-c.log");
	unlink(CONSOLE_DIR "/guest-drv-m.log");
	unlink(CONSOLE_DIR "/guest-drv-m--incoming.log");
}

static void
test_observe_and_refuse_domain0(void)
{
	struct xdc_obs_domain d;
	struct xdc_observed *obs = NULL;
	const struct xdc_obs_host *h;
	int rc;

	rc = drv->observe(drv, &obs);
	h = rc == 0 ? xdc_observed_host(obs, "local") : NULL;
	check(
	    h != NULL && h->oh_cpus > 0 && h->oh_memory > h->oh_free_memory / 2,
	    "observe: host local, %u CPUs, %" PRIu64 " MiB for guests",
	    h ? h->oh_cpus : 0, (uint64_t)(h ? h->oh_memory / MIB : 0));
	xdc_observed_free(obs);
	check(observe("Domain-0", &d, NULL, 0) && d.od_domid == 0 &&
	          !d.od_managed && d.od_state == XDC_DOM_RUNNING,
	    "Domain-0 is observed: domid 0, running, not managed");
	rc = act_on("Domain-0", XDC_OP_DESTROY);
	check(rc != 0 && strstr(xdc_error_last(), "refusing to destroy "
	                                          "Domain-0"),
	    "destroy Domain-0 is refused (%s)", xdc_error_last());
	rc = act_on("Domain-0", XDC_OP_PAUSE);
	check(rc != 0 && !paused("Domain-0"),
	    "pause Domain-0 is refused, and it runs");
}

/* Two creates submitted together, then waited for. */
static void
test_submit_overlaps_creates(struct tvm *a, struct tvm *b)
{
	uint64_t token, seen = 0;
	int result, ok = 1, i;
	struct xdc_obs_domain d;
	char bridges[64];
	double t0 = now();

	a->act.a_op = b->act.a_op = XDC_OP_CREATE;
	check(drv->submit(drv, &a->act, 1) == 0 &&
	          drv->submit(drv, &b->act, 2) == 0,
	    "submit: two creates start at once (%.2f s)", now() - t0);
	for (i = 0; i < 2; i++) {
		if (reap_wait(&token, &result) != 0 ||
		    (token != 1 && token != 2)) {
			ok = 0;
			break;
		}
		if (result != 0)
			printf("# create %" PRIu64 ": %s\n", token,
			    xdc_error_last());
		ok &= result == 0;
		seen |= 1u << token;
	}
	check(ok && seen == 6, "reap: both creates finished, 0 each (%.1f s)",
	    now() - t0);
	{
		char *msg = NULL;

		check(drv->reap(drv, &token, &result, &msg) == XDC_ENOTFOUND,
		    "reap: nothing more in flight");
		free(msg);
	}
	check(observe("drv-a", &d, NULL, 0) && d.od_managed &&
	          d.od_state == XDC_DOM_PAUSED && d.od_memory == 96 * MIB &&
	          d.od_max_memory == 112 * MIB && d.od_hash == 0x5eed,
	    "drv-a: managed, paused as declared, 96 of 112 MiB, its hash");
	check(observe("drv-b", &d, bridges, sizeof(bridges)) && d.od_managed &&
	          d.od_state == XDC_DOM_RUNNING && d.od_nnics == 1 &&
	          !strcmp(bridges, BRIDGE),
	    "drv-b: managed, running, one NIC on " BRIDGE " (%s)", bridges);
}

static void
test_idempotence_and_ownership(struct tvm *a)
{
	struct tvm x;
	uint32_t before, after;
	int rc;

	domid_of("drv-a", &before);
	rc = act(a, XDC_OP_CREATE, 0);
	domid_of("drv-a", &after);
	check(rc == 0 && before == after,
	    "create again, same spec: done, the same domain (%u)", after);
	a->spec.ds_hash = 0xbad;
	rc = act(a, XDC_OP_CREATE, 0);
	a->spec.ds_hash = 0x5eed;
	check(rc != 0 && strstr(xdc_error_last(), "different spec"),
	    "create again, another spec: refused (%s)", xdc_error_last());

	if (system(
	        "printf 'name=\"drv-x\"\\ntype=\"pv\"\\nmemory=96\\n"
	        "kernel=\"%s\"\\n' \"$XDC_LAB_GUEST/vmlinux\" >/tmp/drv-x.cfg"
	        " && xl create -p -q /tmp/drv-x.cfg") != 0)
		printf("# xl create drv-x failed\n");
	rc = act_on("drv-x", XDC_OP_DESTROY);
	check(rc != 0 && strstr(xdc_error_last(), "does not manage") &&
	          exists("drv-x"),
	    "destroy of a domain made by xl is refused, and it lives (%s)",
	    xdc_error_last());
	tvm_init(&x, "drv-x", XDC_VM_RUNNING);
	rc = act(&x, XDC_OP_CREATE, 0);
	check(rc != 0 && strstr(xdc_error_last(), "not managed by xdc"),
	    "create over it is refused too");
}

/* Xen counts the toolstack's pauses. */
static void
test_pause_counting(struct tvm *a)
{
	int rc;

	if (system("xl pause drv-a") != 0)
		printf("# xl pause drv-a failed\n");
	rc = act_on("drv-a", XDC_OP_UNPAUSE);
	check(rc == 0 && !paused("drv-a"),
	    "unpause of a domain paused twice leaves it running");
	rc = act_on("drv-a", XDC_OP_UNPAUSE);
	check(rc == 0 && !paused("drv-a"), "unpause again: nothing to do");
	rc = act_on("drv-a", XDC_OP_PAUSE);
	rc |= act_on("drv-a", XDC_OP_PAUSE);
	check(rc == 0 && paused("drv-a"), "pause twice: paused");
	rc = act_on("drv-a", XDC_OP_UNPAUSE);
	check(rc == 0 && !paused("drv-a"),
	    "one unpause runs it again: the second pause was not counted");
	a->vm.vm_state = XDC_VM_RUNNING;
}

static void
test_updates(struct tvm *a)
{
	struct xdc_obs_domain d;
	uint32_t before, after;
	int rc;

	domid_of("drv-a", &before);
	a->vm.vm_memory = 128 * MIB;
	rc = act(a, XDC_OP_UPDATE, XDC_UPD_MEMORY);
	check(rc != 0 && strstr(xdc_error_last(), "above its max_memory"),
	    "memory above max_memory is refused (%s)", xdc_error_last());
	a->vm.vm_memory = 104 * MIB;
	a->spec.ds_weight = 700;
	a->spec.ds_cap = 60;
	a->spec.ds_protect = 1;
	rc = act(
	    a, XDC_OP_UPDATE, XDC_UPD_MEMORY | XDC_UPD_SCHED | XDC_UPD_MARKER);
	domid_of("drv-a", &after);
	check(rc == 0 && observe("drv-a", &d, NULL, 0) &&
	          d.od_memory == 104 * MIB && d.od_weight == 700 &&
	          d.od_cap == 60 && d.od_protect && before == after,
	    "update memory, weight, cap and protect in place (domid %u)",
	    after);
}

static void
test_nics(struct tvm *b)
{
	struct xdc_obs_domain d;
	char bridges[64];
	int rc;

	tvm_nic(b, 1, BRIDGE2);
	rc = act(b, XDC_OP_UPDATE, XDC_UPD_NICS);
	if (rc != 0)
		printf("# %s\n", xdc_error_last());
	check(rc == 0 && observe("drv-b", &d, bridges, sizeof(bridges)) &&
	          !strcmp(bridges, BRIDGE "," BRIDGE2),
	    "attach a second NIC: " BRIDGE "," BRIDGE2 " (%s)", bridges);
	/* The first NIC goes: the second must stay second in line. */
	b->bridges[0] = BRIDGE2;
	xdc_mac_derive(b->vm.vm_name, 1, b->nics[0].nic_mac);
	b->vm.vm_nnics = 1;
	rc = act(b, XDC_OP_UPDATE, XDC_UPD_NICS);
	if (rc != 0)
		printf("# %s\n", xdc_error_last());
	check(rc == 0 && observe("drv-b", &d, bridges, sizeof(bridges)) &&
	          !strcmp(bridges, BRIDGE2),
	    "detach the first: " BRIDGE2 " is left (%s)", bridges);
	rc = act(b, XDC_OP_UPDATE, XDC_UPD_NICS);
	check(rc == 0 && observe("drv-b", &d, bridges, sizeof(bridges)) &&
	          !strcmp(bridges, BRIDGE2),
	    "the same NICs again: nothing changes");
}

/* Whether the driver's NIC is libxl's (bridge and MAC). */
static bool
nic_same(const struct xdc_obs_nic *o, const libxl_device_nic *l)
{
	return !strcmp(o->on_bridge, l->bridge != NULL ? l->bridge : "") &&
	       memcmp(o->on_mac, l->mac, 6) == 0;
}

/* Whether the driver's disk is libxl's (target, vdev, read-only, and
 * raw: libxl lists no format). */
static bool
disk_same(const struct xdc_disk *o, const libxl_device_disk *l)
{
	return o->d_target != NULL && l->pdev_path != NULL &&
	       !strcmp(o->d_target, l->pdev_path) && o->d_vdev != NULL &&
	       l->vdev != NULL && !strcmp(o->d_vdev, l->vdev) &&
	       o->d_readonly == !l->readwrite && o->d_format == XDC_DISK_RAW;
}

/*
 * One domain as libxl has it against the driver's observation: weight and
 * cap (libxl_domain_sched_params_get), NICs in device-id order
 * (libxl_device_nic_list), disks (libxl_device_disk_list). The number of
 * differences, each said in a note.
 */
static unsigned
dom_vs_libxl(libxl_ctx *ctx, const struct xdc_obs_domain *d, unsigned *nnics,
    unsigned *ndisks)
{
	libxl_domain_sched_params sp;
	libxl_device_nic *nics;
	libxl_device_disk *disks;
	const libxl_device_nic *order[8];
	int nall = 0, nn, nd = 0, i;
	unsigned bad = 0;
	uint32_t w = 0, c = 0;

	/* Stubs and domains without a name yet are reported bare. */
	if (d->od_stub || d->od_name[0] == '(')
		return 0;
	libxl_domain_sched_params_init(&sp);
	if (libxl_domain_sched_params_get(ctx, d->od_domid, &sp) == 0 &&
	    sp.weight >= 0) {
		w = (uint32_t)sp.weight;
		c = sp.cap >= 0 ? (uint32_t)sp.cap : 0;
	}
	libxl_domain_sched_params_dispose(&sp);
	if (d->od_weight != w || d->od_cap != c) {
		printf("# %s: weight/cap %u/%u, libxl %u/%u\n", d->od_name,
		    d->od_weight, d->od_cap, w, c);
		bad++;
	}
	if (d->od_domid == 0)
		return bad;
	nics = libxl_device_nic_list(ctx, d->od_domid, &nall);
	nn = nall < 8 ? nall : 8;
	xen_nics_order(nics, nn, order);
	if (d->od_nnics != (size_t)nn) {
		printf(
		    "# %s: %zu NICs, libxl %d\n", d->od_name, d->od_nnics, nn);
		bad++;
	}
	for (i = 0; i < nn && (size_t)i < d->od_nnics; i++, (*nnics)++)
		if (!nic_same(&d->od_nics[i], order[i])) {
			printf("# %s: NIC %d differs from libxl's\n",
			    d->od_name, i);
			bad++;
		}
	if (nics != NULL)
		libxl_device_nic_list_free(nics, nall);
	disks = libxl_device_disk_list(ctx, d->od_domid, &nd);
	if (d->od_has_build && d->od_build.ob_ndisks != (size_t)nd) {
		printf("# %s: %zu disks, libxl %d\n", d->od_name,
		    d->od_build.ob_ndisks, nd);
		bad++;
	}
	for (i = 0;
	     d->od_has_build && i < nd && (size_t)i < d->od_build.ob_ndisks;
	     i++, (*ndisks)++)
		if (!disk_same(&d->od_build.ob_disks[i], &disks[i])) {
			printf("# %s: disk %d differs from libxl's\n",
			    d->od_name, i);
			bad++;
		}
	if (disks != NULL)
		libxl_device_disk_list_free(disks, nd);
	return bad;
}

/*
 * The driver reads NICs, disks, weight and cap from xenstore and xenctrl
 * rather than through libxl (xen_observe.c): they must be what libxl
 * lists. Checked on every domain there is, drv-u among them: made by xl,
 * paused, with two NICs on two bridges, a disk read-write and one
 * read-only, one vCPU of two, and a weight and cap of its own.
 */
static void
test_observe_matches_libxl(void)
{
	const char *guest = getenv("XDC_LAB_GUEST");
	xentoollog_logger_stdiostream *lg;
	struct xdc_observed *obs = NULL;
	const struct xdc_obs_host *h = NULL;
	const struct xdc_obs_domain *u;
	libxl_ctx *ctx = NULL;
	unsigned bad = 0, nnics = 0, ndisks = 0;
	size_t i;
	FILE *f;

	if (guest == NULL || *guest == '\0')
		guest = "/var/lib/xdc-lab/guest";
	if ((f = fopen("/tmp/drv-u.cfg", "w")) != NULL) {
		fprintf(f,
		    "name = \"drv-u\"\ntype = \"pv\"\nmemory = 96\n"
		    "vcpus = 1\nmaxvcpus = 2\nkernel = \"%s/vmlinux\"\n"
		    "ramdisk = \"%s/initrd.img\"\n"
		    "cmdline = \"console=hvc0 quiet\"\n"
		    "vif = [ 'bridge=" BRIDGE2 ",mac=00:16:3e:0d:0e:01', "
		    "'bridge=" BRIDGE ",mac=00:16:3e:0d:0e:02' ]\n"
		    "disk = [ 'format=raw, vdev=xvda, access=rw, "
		    "target=/tmp/drv-u-a.img', 'format=raw, vdev=xvdb, "
		    "access=ro, target=/tmp/drv-u-b.img' ]\n",
		    guest, guest);
		fclose(f);
	}
	check(system("truncate -s 8M /tmp/drv-u-a.img /tmp/drv-u-b.img && "
	             "xl create -p -q /tmp/drv-u.cfg && "
	             "xl sched-credit2 -d drv-u -w 333 -c 10") == 0,
	    "xl makes drv-u: 2 NICs, 2 disks, weight 333, cap 10");
	lg = xtl_createlogger_stdiostream(stdout, XTL_ERROR, 0);
	if (libxl_ctx_alloc(&ctx, LIBXL_VERSION, 0, (xentoollog_logger *)lg) !=
	    0)
		ctx = NULL;
	if (ctx != NULL && drv->observe(drv, &obs) == 0)
		h = xdc_observed_host(obs, "local");
	for (i = 0; h != NULL && i < h->oh_ndomains; i++)
		bad += dom_vs_libxl(ctx, &h->oh_domains[i], &nnics, &ndisks);
	check(h != NULL && h->oh_ndomains >= 3 && bad == 0 && nnics >= 3 &&
	          ndisks >= 2,
	    "every domain's weight, cap, NICs and disks are libxl's (%zu "
	    "domains, %u NICs, %u disks, %u differences)",
	    h != NULL ? h->oh_ndomains : 0, nnics, ndisks, bad);
	u = h != NULL ? xdc_obs_host_domain(h, "drv-u") : NULL;
	check(
	    u != NULL && !u->od_managed && u->od_weight == 333 &&
	        u->od_cap == 10 && u->od_vcpus == 1 && u->od_max_vcpus == 2 &&
	        u->od_nnics == 2 && !strcmp(u->od_nics[0].on_bridge, BRIDGE2) &&
	        u->od_nics[0].on_mac[5] == 0x01 &&
	        !strcmp(u->od_nics[1].on_bridge, BRIDGE) &&
	        u->od_nics[1].on_mac[5] == 0x02 && u->od_has_build &&
	        u->od_build.ob_ndisks == 2 &&
	        !strcmp(u->od_build.ob_disks[0].d_target, "/tmp/drv-u-a.img") &&
	        !strcmp(u->od_build.ob_disks[0].d_vdev, "xvda") &&
	        !u->od_build.ob_disks[0].d_readonly &&
	        !strcmp(u->od_build.ob_disks[1].d_vdev, "xvdb") &&
	        u->od_build.ob_disks[1].d_readonly,
	    "drv-u is observed as xl made it: unmanaged, 333/10, 1 of 2 "
	    "vCPUs, NICs on " BRIDGE2 "," BRIDGE ", xvda rw and xvdb ro");
	xdc_observed_free(obs);
	if (ctx != NULL)
		libxl_ctx_free(ctx);
	xtl_logger_destroy((xentoollog_logger *)lg);
	if (system("xl destroy drv-u") != 0)
		printf("# xl destroy drv-u failed\n");
	unlink("/tmp/drv-u-a.img");
	unlink("/tmp/drv-u-b.img");
	unlink("/tmp/drv-u.cfg");
}

static void
test_replace_and_start(struct tvm *b)
{
	struct xdc_obs_domain d;
	uint32_t before, after;
	double t0;
	int rc;

	domid_of("drv-b", &before);
	b->vm.vm_cmdline = "console=hvc0 quiet xdc=replaced";
	b->spec.ds_hash = 0x5eee;
	rc = act(b, XDC_OP_REPLACE, 0);
	domid_of("drv-b", &after);
	check(rc == 0 && before != after && observe("drv-b", &d, NULL, 0) &&
	          d.od_hash == 0x5eee && d.od_has_build,
	    "replace: a new domain (%u -> %u) with the new hash", before,
	    after);
	check(console_up("drv-b", 90), "the replaced drv-b boots");
	/* A guest that shut down stays so: nobody acts on its on_poweroff. */
	if (system("xl shutdown -w drv-b >/dev/null") != 0)
		printf("# xl shutdown drv-b failed\n");
	check(observe("drv-b", &d, NULL, 0) && d.od_state == XDC_DOM_STOPPED,
	    "drv-b shut down by xl is observed stopped");
	before = d.od_domid;
	rc = act(b, XDC_OP_START, 0);
	domid_of("drv-b", &after);
	check(rc == 0 && after != before && observe("drv-b", &d, NULL, 0) &&
	          d.od_state == XDC_DOM_RUNNING,
	    "start builds it anew (domid %u -> %u)", before, after);
	check(console_up("drv-b", 90), "and it boots");
	t0 = now();
	rc = act(b, XDC_OP_STOP, 0);
	check(rc == 0 && !exists("drv-b"),
	    "stop: shut down gracefully, then destroyed (%.1f s)", now() - t0);
	check(act(b, XDC_OP_STOP, 0) == 0, "stop again: nothing to do");
}

static void
test_destroy(void)
{
	check(act_on("drv-a", XDC_OP_DESTROY) == 0 && !exists("drv-a"),
	    "destroy drv-a: gone");
	check(act_on("drv-a", XDC_OP_DESTROY) == 0,
	    "destroy again: a domain already gone is success");
}

static void
test_create_failure(void)
{
	struct tvm bad;
	int rc;

	tvm_init(&bad, "drv-bad", XDC_VM_RUNNING);
	bad.vm.vm_kernel = "/nonexistent/vmlinux";
	rc = act(&bad, XDC_OP_CREATE, 0);
	check(rc != 0 && strstr(xdc_error_last(), "drv-bad") &&
	          !exists("drv-bad"),
	    "a create that fails leaves no domain behind (%s)",
	    xdc_error_last());
}

/* ---- Live migration, to this same host --------------------------------- */

/* Lines of the guest's console logs (under both names) holding what. */
static int
console_count(const char *name, const char *what)
{
	static const char *const suffix[] = { "", "--incoming" };
	char path[160], line[256];
	int n = 0;
	size_t i;
	FILE *f;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), CONSOLE_DIR "/guest-%s%s.log",
		    name, suffix[i]);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		while (fgets(line, sizeof(line), f) != NULL)
			n += strstr(line, what) != NULL;
		fclose(f);
	}
	return n;
}

/* The marker key of the domain named name, or "" (a static buffer). */
static const char *
marker_of(const char *name, const char *key)
{
	static char val[64];
	xc_domaininfo_t info;
	char dir[XEN_MARKER_PATHSZ], path[XEN_MARKER_PATHSZ + 16], *s;
	unsigned int len;
	uint32_t d;

	val[0] = '\0';
	if (domid_of(name, &d) != 0 ||
	    xc_domain_getinfolist(xch, d, 1, &info) != 1)
		return val;
	xen_marker_path(info.handle, dir);
	snprintf(path, sizeof(path), "%s/%s", dir, key);
	if ((s = xs_read(xsh, XBT_NULL, path, &len)) != NULL) {
		snprintf(val, sizeof(val), "%s", s);
		free(s);
	}
	return val;
}

static int
dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * The largest gap between two consecutive "tick UPTIME" lines of the
 * guest's consoles (under its name, and under NAME--incoming, which
 * xenconsoled keeps for a domain that arrived so named), past the first
 * skip[i] lines of each: the time the guest did not run. Ticks are its
 * uptime, so sorted they are in time order whichever log has them.
 * Negative when there are fewer than two. lines[], when not NULL, gets
 * each log's line count, for the next call's skip.
 */
static double
tick_gap_since(const char *name, const long skip[2], long lines[2])
{
	static const char *const suffix[] = { "", "--incoming" };
	char path[160], line[256];
	double *v = NULL, t, gap = -1;
	size_t n = 0, cap = 0, i, k;
	long no;
	FILE *f;

	for (i = 0; i < 2; i++) {
		if (lines != NULL)
			lines[i] = 0;
		snprintf(path, sizeof(path), CONSOLE_DIR "/guest-%s%s.log",
		    name, suffix[i]);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		for (no = 0; fgets(line, sizeof(line), f) != NULL; no++) {
			if ((skip != NULL && no < skip[i]) ||
			    sscanf(line, "tick %lf", &t) != 1)
				continue;
			if (n == cap) {
				cap = cap ? 2 * cap : 1024;
				v = realloc(v, cap * sizeof(*v));
			}
			v[n++] = t;
		}
		if (lines != NULL)
			lines[i] = no;
		fclose(f);
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), dbl_cmp);
	for (k = 1; k < n; k++)
		if (v[k] - v[k - 1] > gap)
			gap = v[k] - v[k - 1];
	free(v);
	return gap;
}

static double
tick_gap(const char *name)
{
	return tick_gap_since(name, NULL, NULL);
}

/* Whether domid is gone (or dying): no second copy left behind. */
static bool
domid_gone(uint32_t domid)
{
	xc_domaininfo_t info;

	return xc_domain_getinfolist(xch, domid, 1, &info) != 1 ||
	       info.domain != domid || (info.flags & XEN_DOMINF_dying);
}

/* How many live domains are named name, its in-flight names included. */
static int
copies(const char *name)
{
	char n2[64], n3[64];

	snprintf(n2, sizeof(n2), "%s--incoming", name);
	snprintf(n3, sizeof(n3), "%s--migratedaway", name);
	return exists(name) + exists(n2) + exists(n3);
}

static void
test_migrate(void)
{
	const char *ramdisk = getenv("XDC_TEST_GUEST_RAMDISK");
	char transport[PATH_MAX];
	struct tvm m, hog;
	struct xdc_obs_domain d;
	xc_physinfo_t pi;
	uint32_t before, after, again;
	uint64_t free_mem;
	double t0;
	int rc;

	if (realpath("tests/xen/migrate-transport", transport) == NULL) {
		check(false, "tests/xen/migrate-transport is there");
		return;
	}
	setenv("XDC_MIGRATE_SSH", transport, 1);
	setenv("XDC_MIGRATE_TRACE", "1", 1);
	check((drv->caps & XDC_DRV_MIGRATE) != 0,
	    "the xen driver says it can migrate");
	/*
	 * A PV guest first. Live migration needs log-dirty mode, which for a
	 * PV guest is shadow paging, and Debian's Xen is built without it:
	 * the migration then fails at its start, and must leave the guest
	 * running here and say why. A Xen with shadow paging moves it.
	 */
	tvm_init(&m, "drv-m", XDC_VM_RUNNING);
	rc = act(&m, XDC_OP_CREATE, 0);
	check(rc == 0 && console_up("drv-m", 90), "PV drv-m runs and boots%s%s",
	    rc ? ": " : "", rc ? xdc_error_last() : "");
	domid_of("drv-m", &before);
	m.act.a_to_host = "twin";
	rc = act(&m, XDC_OP_MIGRATE, 0);
	domid_of("drv-m", &after);
	if (rc == 0)
		check(after != before && copies("drv-m") == 1,
		    "PV drv-m migrated (this Xen has shadow paging)");
	else
		check(after == before && !paused("drv-m") &&
		          copies("drv-m") == 1 &&
		          strstr(xdc_error_last(), "still") != NULL &&
		          observe("drv-m", &d, NULL, 0) && d.od_managed,
		    "PV drv-m cannot migrate here and runs on, xdc's, same "
		    "domid %u -> %u, paused %d, copies %d (%s)",
		    before, after, paused("drv-m"), copies("drv-m"),
		    xdc_error_last());
	if (act_on("drv-m", XDC_OP_DESTROY) != 0 && system("xl destroy drv-m"))
		printf("# cannot destroy drv-m\n");
	unlink(CONSOLE_DIR "/guest-drv-m.log");
	unlink(CONSOLE_DIR "/guest-drv-m--incoming.log");

	/*
	 * The PVH guest, live. Now and then one dies of a triple fault early
	 * in its boot (docs/xen-lab.md): up to three tries.
	 */
	tvm_init(&m, "drv-m", XDC_VM_RUNNING);
	m.vm.vm_type = XDC_VM_PVH;
	if (ramdisk != NULL && *ramdisk != '\0')
		m.vm.vm_ramdisk = ramdisk;
	m.spec.ds_protect = 1;
	for (int i = 0; i < 3; i++) {
		if ((rc = act(&m, XDC_OP_CREATE, 0)) == 0 &&
		    console_up("drv-m", 90))
			break;
		printf("# drv-m did not come up (try %d)\n", i + 1);
		act_on("drv-m", XDC_OP_DESTROY);
		unlink(CONSOLE_DIR "/guest-drv-m.log");
		rc = -1;
	}
	check(rc == 0, "PVH drv-m runs and boots");
	domid_of("drv-m", &before);

	/* To this host again, under the name twin, through the transport. */
	m.act.a_to_host = "twin";
	t0 = now();
	rc = act(&m, XDC_OP_MIGRATE, 0);
	printf("# migrate: %.2f s\n", now() - t0);
	if (rc != 0)
		printf("# %s\n", xdc_error_last());
	domid_of("drv-m", &after);
	check(rc == 0 && after != before && domid_gone(before),
	    "migrate drv-m live: domid %u -> %u, the old one gone (%.1f s)",
	    before, after, now() - t0);
	check(copies("drv-m") == 1, "exactly one copy of drv-m, named so");
	check(observe("drv-m", &d, NULL, 0) && d.od_managed && d.od_protect &&
	          d.od_hash == 0x5eed && d.od_state == XDC_DOM_RUNNING &&
	          d.od_memory == 96 * MIB,
	    "it is xdc's (marker, protect, hash moved with it) and runs");
	check(!strcmp(marker_of("drv-m", "name"), "drv-m") &&
	          !strcmp(marker_of("drv-m", "kernel"), m.vm.vm_kernel),
	    "the marker names it and keeps its build record");
	sleep(2);
	check(console_count("drv-m", "xdc-lab-guest: up") == 1,
	    "the guest was not rebooted (one boot on its consoles)");
	if (tick_gap("drv-m") >= 0)
		printf("# xdc migrate downtime: %.2f s (the largest gap in the "
		       "guest's ticks)\n",
		    tick_gap("drv-m"));
	domid_of("drv-m", &before);

	/* Refused: no room for a second copy; drv-m stays, running. */
	memset(&pi, 0, sizeof(pi));
	xc_physinfo(xch, &pi);
	free_mem = (uint64_t)pi.free_pages * 4096;
	tvm_init(&hog, "drv-hog", XDC_VM_PAUSED);
	hog.vm.vm_memory = hog.vm.vm_max_memory =
	    free_mem > 80 * MIB ? (free_mem - 48 * MIB) & ~(MIB - 1) : 32 * MIB;
	rc = act(&hog, XDC_OP_CREATE, 0);
	if (rc != 0)
		printf("# drv-hog: %s\n", xdc_error_last());
	rc = act(&m, XDC_OP_MIGRATE, 0);
	domid_of("drv-m", &again);
	check(rc != 0 && strstr(xdc_error_last(), "refused") &&
	          strstr(xdc_error_last(), "is free") &&
	          strstr(xdc_error_last(), "runs on host local still") &&
	          again == before && !paused("drv-m") && copies("drv-m") == 1,
	    "no room there: refused, drv-m runs here still (%s)",
	    xdc_error_last());
	act_on("drv-hog", XDC_OP_DESTROY);

	/* The channel cut in the stream: drv-m is resumed here. */
	setenv("XDC_TEST_CUT", "64", 1); /* reads: up to 4 MiB, the stream */
	t0 = now();
	rc = act(&m, XDC_OP_MIGRATE, 0);
	unsetenv("XDC_TEST_CUT");
	sleep(1);
	domid_of("drv-m", &again);
	check(rc != 0 && strstr(xdc_error_last(), "drv-m") &&
	          !strstr(xdc_error_last(), "did not answer") &&
	          again == before && !paused("drv-m") &&
	          observe("drv-m", &d, NULL, 0) &&
	          d.od_state == XDC_DOM_RUNNING && d.od_managed,
	    "the transport cut: drv-m runs here again, same domid (%.1f s: "
	    "%s)",
	    now() - t0, xdc_error_last());
	check(copies("drv-m") == 1, "and there is one copy of it");
	check(console_count("drv-m", "xdc-lab-guest: up") == 1,
	    "still not rebooted");

	/* Once more, for good: it still migrates after all that. */
	rc = act(&m, XDC_OP_MIGRATE, 0);
	domid_of("drv-m", &after);
	check(rc == 0 && after != before && copies("drv-m") == 1,
	    "migrate again: done (%s)", rc ? xdc_error_last() : "ok");
	check(act_on("drv-m", XDC_OP_DESTROY) == 0 && !exists("drv-m"),
	    "destroy drv-m");
	unsetenv("XDC_MIGRATE_SSH");
}

/*
 * `test_xen_driver migrate-bench N`: the figures, N live migrations of
 * one PVH guest to this same host, each with its time and the guest's
 * downtime (XDC_TEST_GUEST_RAMDISK: the ticking initrd).
 */
static void
bench_migrate(int n)
{
	const char *ramdisk = getenv("XDC_TEST_GUEST_RAMDISK");
	char transport[PATH_MAX];
	long off[2];
	struct tvm m;
	double t0, t;
	int i, rc;

	if (realpath("tests/xen/migrate-transport", transport) == NULL)
		return;
	setenv("XDC_MIGRATE_SSH", transport, 1);
	setenv("XDC_MIGRATE_TRACE", "1", 1);
	tvm_init(&m, "drv-m", XDC_VM_RUNNING);
	m.vm.vm_type = XDC_VM_PVH;
	if (ramdisk != NULL && *ramdisk != '\0')
		m.vm.vm_ramdisk = ramdisk;
	for (i = 0; i < 3; i++) {
		if ((rc = act(&m, XDC_OP_CREATE, 0)) == 0 &&
		    console_up("drv-m", 90))
			break;
		act_on("drv-m", XDC_OP_DESTROY);
		unlink(CONSOLE_DIR "/guest-drv-m.log");
		rc = -1;
	}
	if (!check(rc == 0, "bench: PVH drv-m runs and boots"))
		return;
	m.act.a_to_host = "twin";
	for (i = 0; i < n; i++) {
		sleep(3);
		tick_gap_since("drv-m", NULL, off);
		t0 = now();
		rc = act(&m, XDC_OP_MIGRATE, 0);
		t = now() - t0;
		sleep(3);
		check(rc == 0 && copies("drv-m") == 1,
		    "bench: xdc migrate %d: %.2f s, downtime %.2f s", i + 1, t,
		    tick_gap_since("drv-m", off, NULL));
	}
	act_on("drv-m", XDC_OP_DESTROY);
}

int
main(int argc, char **argv)
{
	struct tvm a, b;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	xch = xc_interface_open(NULL, NULL, 0);
	xsh = xs_open(0);
	if (!check(xch != NULL && xsh != NULL, "xenctrl and xenstore open"))
		return 1;
	cleanup();
	if (system("ip link add " BRIDGE " type bridge && ip link set " BRIDGE
	           " up && ip link add " BRIDGE2
	           " type bridge && ip link set " BRIDGE2 " up") != 0)
		printf("# could not make the bridges\n");
	ev = xdc_ev_new();
	rc = xen_open("local", &drv);
	if (rc == 0)
		rc = drv->attach(drv, ev);
	if (!check(rc == 0, "xen_open (%s)", rc ? xdc_error_last() : "ok"))
		return 1;

	if (argc > 1 && !strcmp(argv[1], "migrate")) {
		test_migrate();
		goto out;
	}
	if (argc > 2 && !strcmp(argv[1], "migrate-bench")) {
		bench_migrate(atoi(argv[2]));
		goto out;
	}
	tvm_init(&a, "drv-a", XDC_VM_PAUSED);
	tvm_init(&b, "drv-b", XDC_VM_RUNNING);
	tvm_nic(&b, 0, BRIDGE);
	test_observe_and_refuse_domain0();
	test_submit_overlaps_creates(&a, &b);
	test_idempotence_and_ownership(&a);
	test_pause_counting(&a);
	test_updates(&a);
	check(console_up("drv-b", 90), "drv-b boots");
	test_nics(&b);
	test_observe_matches_libxl();
	test_replace_and_start(&b);
	test_destroy();
	test_create_failure();
out:
	drv->free(drv);
	xdc_ev_free(ev);
	cleanup();
	if (system("ip link del " BRIDGE "; ip link del " BRIDGE2) != 0)
		printf("# could not remove the bridges\n");
	xs_close(xsh);
	xc_interface_close(xch);
	printf("# test_xen_driver: %u passed, %u failed\n", passed, failed);
	return failed == 0 && passed > 0 ? 0 : 1;
}
