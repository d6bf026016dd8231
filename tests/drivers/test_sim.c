/*
 * The sim driver (drivers/sim.c): a simulated pool that must behave like
 * Xen where xdc can tell (capacity, domain ids, crashes, ownership) and
 * keep its file valid and cheap to update.
 *
 * Each test gets a fresh directory with the pool file in it. VMs are built
 * as structs here, the way the planner hands them to a driver.
 */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "drivers/driver.h"
#include "drivers/sim.h"
#include "base/error.h"
#include "base/ev.h"
#include "schema/model.h"
#include "tests/drivers/tvm.h"

#define MIB (1024ULL * 1024)
#define GIB (1024 * MIB)

struct fx {
	char dir[64];
	char path[96];
	struct xdc_driver *drv;
	struct xdc_ev *ev; /* the loop the driver is attached to, or NULL */
};

static int
tvm_do(struct fx *f, struct tvm *t, enum xdc_op op)
{
	t->act.a_op = op;
	t->act.a_spec = op == XDC_OP_DESTROY ? NULL : &t->spec;
	return f->drv->apply(f->drv, &t->act);
}

/* An action on a domain by name only, as for destroy or a lifecycle op. */
static int
op_on(struct fx *f, enum xdc_op op, const char *name)
{
	struct xdc_action a;

	memset(&a, 0, sizeof(a));
	a.a_op = op;
	a.a_kind = XDC_OBJ_VM;
	a.a_name = name;
	a.a_host = XDC_LOCAL_HOST;
	return f->drv->apply(f->drv, &a);
}

static struct xdc_observed *
observe(struct xdc_driver *drv)
{
	struct xdc_observed *obs = NULL;

	assert_int_equal(drv->observe(drv, &obs), 0);
	assert_non_null(obs);
	return obs;
}

/* The domain on host "local", or NULL; the observation stays the caller's. */
static const struct xdc_obs_domain *
local_dom(const struct xdc_observed *obs, const char *name)
{
	return xdc_obs_host_domain(
	    xdc_observed_host(obs, XDC_LOCAL_HOST), name);
}

static uint64_t
local_free(struct fx *f)
{
	struct xdc_observed *obs = observe(f->drv);
	uint64_t n = xdc_observed_host(obs, XDC_LOCAL_HOST)->oh_free_memory;

	xdc_observed_free(obs);
	return n;
}

static uint32_t
domid_of(struct fx *f, const char *name)
{
	struct xdc_observed *obs = observe(f->drv);
	const struct xdc_obs_domain *d = local_dom(obs, name);
	uint32_t id;

	assert_non_null(d);
	id = d->od_domid;
	xdc_observed_free(obs);
	return id;
}

static enum xdc_dom_state
state_of(struct fx *f, const char *name)
{
	struct xdc_observed *obs = observe(f->drv);
	const struct xdc_obs_domain *d = local_dom(obs, name);
	enum xdc_dom_state st;

	assert_non_null(d);
	st = d->od_state;
	xdc_observed_free(obs);
	return st;
}

static int
has_dom(struct fx *f, const char *name)
{
	struct xdc_observed *obs = observe(f->drv);
	int found = local_dom(obs, name) != NULL;

	xdc_observed_free(obs);
	return found;
}

#define assert_error_has(s) check_error_has(s, __FILE__, __LINE__)

static void
check_error_has(const char *s, const char *file, int line)
{
	if (strstr(xdc_error_last(), s) != NULL)
		return;
	print_error("expected the error to mention \"%s\", got \"%s\"\n", s,
	    xdc_error_last());
	_fail(file, line);
}

static char *
slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *buf;
	long n;

	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	rewind(fp);
	buf = xdc_malloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static void
spit(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

/* Make the pool file exist: an empty batch writes the pool it read. */
static void
write_pool(struct fx *f)
{
	assert_int_equal(f->drv->begin(f->drv), 0);
	assert_int_equal(f->drv->end(f->drv), 0);
	assert_int_equal(access(f->path, F_OK), 0);
}

static int
setup_dir(void **state)
{
	struct fx *f = xdc_calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/xdc-test-sim.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/sim.json", f->dir);
	*state = f;
	return 0;
}

/* A fresh directory and a default pool (no configuration) in it. */
static int
setup(void **state)
{
	struct fx *f;

	if (setup_dir(state) != 0)
		return -1;
	f = *state;
	return sim_open(f->path, NULL, &f->drv);
}

/* The same, the driver lent a real event loop, as the loop would. */
static int
setup_ev(void **state)
{
	struct fx *f;

	if (setup(state) != 0)
		return -1;
	f = *state;
	f->ev = xdc_ev_new();
	return f->drv->attach(f->drv, f->ev);
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	struct dirent *de;
	char p[512];
	DIR *d;

	if (f->drv != NULL)
		f->drv->free(f->drv);
	xdc_ev_free(f->ev);
	if ((d = opendir(f->dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (!strcmp(de->d_name, ".") ||
			    !strcmp(de->d_name, ".."))
				continue;
			snprintf(p, sizeof(p), "%s/%s", f->dir, de->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

/* ---- The pool -------------------------------------------------------- */

static void
test_default_pool_is_local_16_cpus_64gib(void **state)
{
	struct fx *f = *state;
	struct xdc_observed *obs = observe(f->drv);
	const struct xdc_obs_host *h;
	const struct xdc_obs_domain *d0;

	assert_int_equal(obs->obs_nhosts, 1);
	h = &obs->obs_hosts[0];
	assert_string_equal(h->oh_name, "local");
	assert_int_equal(h->oh_cpus, 16);
	assert_int_equal(h->oh_memory, 64 * GIB);
	/* Domain-0 has its own reservation: all 64GiB are free for guests. */
	assert_int_equal(h->oh_free_memory, 64 * GIB);
	assert_int_equal(h->oh_ndomains, 1);
	d0 = &h->oh_domains[0];
	assert_string_equal(d0->od_name, "Domain-0");
	assert_int_equal(d0->od_domid, 0);
	assert_int_equal(d0->od_memory, GIB);
	assert_int_equal(d0->od_vcpus, 1);
	assert_int_equal(d0->od_state, XDC_DOM_RUNNING);
	assert_false(d0->od_managed);
	xdc_observed_free(obs);
}

static void
test_pool_is_created_from_cfg_hosts(void **state)
{
	struct fx *f = *state;
	struct xdc_host hosts[2];
	struct xdc_config cfg;
	struct xdc_observed *obs;

	memset(hosts, 0, sizeof(hosts));
	memset(&cfg, 0, sizeof(cfg));
	hosts[0].h_name = "xen-a"; /* capacity undeclared */
	hosts[1].h_name = "xen-b";
	hosts[1].h_memory = 32 * GIB;
	hosts[1].h_cpus = 8;
	cfg.cfg_hosts = hosts;
	cfg.cfg_nhosts = 2;
	assert_int_equal(sim_open(f->path, &cfg, &f->drv), 0);
	obs = observe(f->drv);
	assert_int_equal(obs->obs_nhosts, 2);
	assert_string_equal(obs->obs_hosts[0].oh_name, "xen-a");
	assert_int_equal(obs->obs_hosts[0].oh_memory, 64 * GIB);
	assert_int_equal(obs->obs_hosts[0].oh_cpus, 16);
	assert_string_equal(obs->obs_hosts[1].oh_name, "xen-b");
	assert_int_equal(obs->obs_hosts[1].oh_memory, 32 * GIB);
	assert_int_equal(obs->obs_hosts[1].oh_cpus, 8);
	assert_non_null(xdc_obs_host_domain(&obs->obs_hosts[1], "Domain-0"));
	assert_null(xdc_observed_host(obs, "local"));
	xdc_observed_free(obs);
}

static void
test_existing_pool_gains_declared_hosts_and_capacities(void **state)
{
	struct fx *f = *state;
	struct xdc_driver *drv;
	struct xdc_host host;
	struct xdc_config cfg;
	struct xdc_observed *obs;
	struct tvm a;

	tvm_init(&a, "a", GIB, 1);
	assert_int_equal(tvm_do(f, &a, XDC_OP_CREATE), 0);
	memset(&host, 0, sizeof(host));
	memset(&cfg, 0, sizeof(cfg));
	host.h_name = "local";
	host.h_memory = 8 * GIB;
	host.h_cpus = 4;
	cfg.cfg_hosts = &host;
	cfg.cfg_nhosts = 1;
	assert_int_equal(sim_open(f->path, &cfg, &drv), 0);
	obs = observe(drv);
	assert_int_equal(obs->obs_nhosts, 1);
	assert_int_equal(obs->obs_hosts[0].oh_memory, 8 * GIB);
	assert_int_equal(obs->obs_hosts[0].oh_cpus, 4);
	assert_int_equal(obs->obs_hosts[0].oh_free_memory, 7 * GIB);
	assert_non_null(local_dom(obs, "a"));
	xdc_observed_free(obs);
	drv->free(drv);
}

/* ---- One host's pool ------------------------------------------------- */

/* Whether the driver observes a domain of that name on that host. */
static int
has_dom_on(struct fx *f, const char *host, const char *name)
{
	struct xdc_observed *obs = observe(f->drv);
	int found =
	    xdc_obs_host_domain(xdc_observed_host(obs, host), name) != NULL;

	xdc_observed_free(obs);
	return found;
}

/* Two declared Hosts: xen-a with 32GiB and 8 CPUs, xen-b undeclared. */
static void
cfg_ab(struct xdc_config *cfg, struct xdc_host hosts[2])
{
	memset(hosts, 0, 2 * sizeof(*hosts));
	memset(cfg, 0, sizeof(*cfg));
	hosts[0].h_name = "xen-a";
	hosts[0].h_memory = 32 * GIB;
	hosts[0].h_cpus = 8;
	hosts[1].h_name = "xen-b";
	cfg->cfg_hosts = hosts;
	cfg->cfg_nhosts = 2;
}

/* How many hosts the pool file holds. */
static size_t
file_hosts(struct fx *f)
{
	json_t *root = json_load_file(f->path, 0, NULL);
	size_t n;

	assert_non_null(root);
	n = json_array_size(json_object_get(root, "hosts"));
	json_decref(root);
	return n;
}

static void
test_one_hosts_pool_holds_that_host_alone(void **state)
{
	struct fx *f = *state;
	struct xdc_host hosts[2];
	struct xdc_config cfg;
	struct xdc_observed *obs;
	struct tvm a, b, c;

	cfg_ab(&cfg, hosts);
	assert_int_equal(sim_open_host(f->path, &cfg, "xen-a", &f->drv), 0);
	obs = observe(f->drv);
	assert_int_equal(obs->obs_nhosts, 1);
	assert_string_equal(obs->obs_hosts[0].oh_name, "xen-a");
	assert_int_equal(obs->obs_hosts[0].oh_memory, 32 * GIB);
	assert_int_equal(obs->obs_hosts[0].oh_cpus, 8);
	xdc_observed_free(obs);
	write_pool(f);
	assert_int_equal(file_hosts(f), 1);

	tvm_init(&a, "a", GIB, 1);
	a.act.a_host = "xen-a";
	assert_int_equal(tvm_do(f, &a, XDC_OP_CREATE), 0);
	/* Another host's action: that host is not here. */
	tvm_init(&b, "b", GIB, 1);
	b.act.a_host = "xen-b";
	assert_int_equal(tvm_do(f, &b, XDC_OP_CREATE), XDC_EDRIVER);
	assert_error_has("host xen-b is not this one");
	assert_error_has("host xen-a alone");
	/* An action that names no host is this host's. */
	tvm_init(&c, "c", GIB, 1);
	c.act.a_host = NULL;
	assert_int_equal(tvm_do(f, &c, XDC_OP_CREATE), 0);
	obs = observe(f->drv);
	assert_non_null(xdc_obs_host_domain(&obs->obs_hosts[0], "a"));
	assert_non_null(xdc_obs_host_domain(&obs->obs_hosts[0], "c"));
	assert_int_equal(obs->obs_hosts[0].oh_ndomains, 3);
	xdc_observed_free(obs);
	assert_int_equal(file_hosts(f), 1);
	/* A sim_add_unmanaged without a host lands on this host too. */
	assert_int_equal(sim_add_unmanaged(f->drv, "legacy", GIB, NULL), 0);
	assert_int_equal(file_hosts(f), 1);
	f->drv->free(f->drv);

	/* Without the pool view the same file is shared: xen-b joins it. */
	assert_int_equal(sim_open(f->path, &cfg, &f->drv), 0);
	write_pool(f);
	assert_int_equal(file_hosts(f), 2);
}

/* A file that holds several hosts: one host's driver sees its own. */
static void
test_one_host_of_a_shared_file_sees_itself_only(void **state)
{
	struct fx *f = *state;
	struct xdc_host hosts[2];
	struct xdc_config cfg;
	struct xdc_observed *obs;
	struct xdc_driver *b;
	struct tvm wa, wb;

	cfg_ab(&cfg, hosts);
	assert_int_equal(sim_open(f->path, &cfg, &f->drv), 0);
	tvm_init(&wa, "web-a", GIB, 1);
	wa.act.a_host = "xen-a";
	assert_int_equal(tvm_do(f, &wa, XDC_OP_CREATE), 0);
	assert_int_equal(sim_open_host(f->path, &cfg, "xen-b", &b), 0);
	obs = observe(b);
	assert_int_equal(obs->obs_nhosts, 1);
	assert_string_equal(obs->obs_hosts[0].oh_name, "xen-b");
	assert_int_equal(obs->obs_hosts[0].oh_memory, 64 * GIB);
	assert_null(xdc_observed_host(obs, "xen-a"));
	xdc_observed_free(obs);
	tvm_init(&wb, "web-b", GIB, 1);
	wb.act.a_host = "xen-b";
	wb.act.a_op = XDC_OP_CREATE;
	assert_int_equal(b->apply(b, &wb.act), 0);
	b->free(b);
	/* What xen-b's driver wrote kept xen-a's domain. */
	obs = observe(f->drv);
	assert_int_equal(obs->obs_nhosts, 2);
	assert_non_null(
	    xdc_obs_host_domain(xdc_observed_host(obs, "xen-a"), "web-a"));
	assert_non_null(
	    xdc_obs_host_domain(xdc_observed_host(obs, "xen-b"), "web-b"));
	xdc_observed_free(obs);
}

static void
test_one_hosts_pool_needs_a_host(void **state)
{
	struct fx *f = *state;
	struct xdc_observed *obs;

	assert_int_equal(sim_open_host(f->path, NULL, NULL, &f->drv), XDC_ERR);
	assert_null(f->drv);
	assert_int_equal(sim_open_host(f->path, NULL, "", &f->drv), XDC_ERR);
	assert_error_has("no host given");
	/* Undeclared, the host has the default capacity. */
	assert_int_equal(sim_open_host(f->path, NULL, "xen-c", &f->drv), 0);
	obs = observe(f->drv);
	assert_int_equal(obs->obs_nhosts, 1);
	assert_string_equal(obs->obs_hosts[0].oh_name, "xen-c");
	assert_int_equal(obs->obs_hosts[0].oh_memory, 64 * GIB);
	assert_int_equal(obs->obs_hosts[0].oh_cpus, 16);
	xdc_observed_free(obs);
}

/* ---- Create ---------------------------------------------------------- */

static void
test_create_records_everything_observe_reports(void **state)
{
	struct fx *f = *state;
	struct xdc_observed *obs;
	const struct xdc_obs_domain *d;
	struct tvm a;

	tvm_init(&a, "web-1", GIB, 2);
	a.vm.vm_max_memory = 2 * GIB;
	a.vm.vm_max_vcpus = 4;
	a.spec.ds_weight = 512;
	a.spec.ds_cap = 150;
	a.spec.ds_protect = 1;
	a.spec.ds_hash = 0xfedcba9876543210ULL;
	assert_int_equal(tvm_do(f, &a, XDC_OP_CREATE), 0);
	obs = observe(f->drv);
	d = local_dom(obs, "web-1");
	assert_non_null(d);
	assert_int_equal(d->od_state, XDC_DOM_RUNNING);
	assert_int_equal(d->od_memory, GIB);
	assert_int_equal(d->od_max_memory, 2 * GIB);
	assert_int_equal(d->od_vcpus, 2);
	assert_int_equal(d->od_max_vcpus, 4);
	assert_int_equal(d->od_weight, 512);
	assert_int_equal(d->od_cap, 150);
	assert_true(d->od_managed);
	assert_true(d->od_protect);
	assert_true(d->od_hash == 0xfedcba9876543210ULL);
	assert_int_equal(d->od_nnics, 1);
	assert_string_equal(d->od_nics[0].on_bridge, "xdc-dmz");
	assert_memory_equal(d->od_nics[0].on_mac, a.nics[0].nic_mac, 6);
	assert_true(d->od_has_build);
	assert_int_equal(d->od_build.ob_type, XDC_VM_PVH);
	assert_string_equal(d->od_build.ob_kernel, "/boot/vmlinuz");
	assert_null(d->od_build.ob_ramdisk);
	assert_string_equal(d->od_build.ob_cmdline, "console=hvc0");
	assert_int_equal(d->od_build.ob_ndisks, 1);
	assert_string_equal(d->od_build.ob_disks[0].d_target, "/dev/vg0/disk");
	assert_string_equal(d->od_build.ob_disks[0].d_vdev, "xvda");
	assert_int_equal(
	    xdc_observed_host(obs, "local")->oh_free_memory, 63 * GIB);
	xdc_observed_free(obs);
}

/*
 * A domain created without a weight gets credit2's default, the one the
 * planner asks for when no SLA gives one: otherwise every plan would
 * update cpu.weight of every VM without an SLA.
 */
static void
test_create_without_weight_gets_the_default(void **state)
{
	struct fx *f = *state;
	struct xdc_observed *obs;
	struct tvm a;

	tvm_init(&a, "web-1", GIB, 1);
	a.spec.ds_weight = 0;
	assert_int_equal(tvm_do(f, &a, XDC_OP_CREATE), 0);
	obs = observe(f->drv);
	assert_int_equal(
	    local_dom(obs, "web-1")->od_weight, XDC_DEFAULT_WEIGHT);
	xdc_observed_free(obs);
}

static void
test_create_paused_vm_is_paused(void **state)
{
	struct fx *f = *state;
	struct tvm a;

	tvm_init(&a, "a", GIB, 1);
	a.vm.vm_state = XDC_VM_PAUSED;
	assert_int_equal(tvm_do(f, &a, XDC_OP_CREATE), 0);
	assert_int_equal(state_of(f, "a"), XDC_DOM_PAUSED);
}

static void
test_domids_increase_and_are_never_reused(void **state)
{
	struct fx *f = *state;
	struct tvm a, b, c;

	tvm_init(&a, "a", GIB, 1);
	tvm_init(&b, "b", GIB, 1);
	tvm_init(&c, "c", GIB, 1);
	assert_int_equal(tvm_do(f, &a, XDC_OP_CREATE), 0);
	assert_int_equal(tvm_do(f, &b, XDC_OP_CREATE), 0);
	assert_int_equal(domid_of(f, "a"), 1);
	assert_int_equal(domid_of(f, "b"), 2);
	assert_int_equal(tvm_do(f, &b, XDC_OP_DESTROY), 0);
	assert_int_equal(tvm_do(f, &c, XDC_OP_CREATE), 0);
	assert_int_equal(domid_of(f, "c"), 3);
	assert_int_equal(tvm_do(f, &b, XDC_OP_CREATE), 0);
	assert_int_equal(domid_of(f, "b"), 4);
}

static void
test_create_beyond_free_memory_fails_and_changes_nothing(void **state)
{
	struct fx *f = *state;
	char *before, *after;
	struct tvm a, b;

	tvm_init(&a, "a", 60 * GIB, 1);
	tvm_init(&b, "b", 8 * GIB, 1);
	assert_int_equal(tvm_do(f, &a, XDC_OP_CREATE), 0);
	before = slurp(f->path);
	assert_int_equal(tvm_do(f, &b, XDC_OP_CREATE), XDC_EDRIVER);
	assert_error_has("host local: cannot create b");
	assert_error_has("needs 8GiB");
	assert_error_has("4GiB is free");
	after = slurp(f->path);
	assert_string_equal(before, after);
	assert_false(has_dom(f, "b"));
	assert_int_equal(local_free(f), 4 * GIB);
	free(before);
	free(after);
}

static void
test_create_with_more_vcpus_than_cpus_fails(void **state)
{
	struct fx *f = *state;
	struct tvm a;

	tvm_init(&a, "a", GIB, 2);
	a.vm.vm_max_vcpus = 17;
	assert_int_equal(tvm_do(f, &a, XDC_OP_CREATE), XDC_EDRIVER);
	assert_error_has("17 vCPUs");
	assert_error_has("16 CPUs");
	assert_false(has_dom(f, "a"));
}

static void
test_create_again_with_same_hash_is_done(void **state)
{
	struct fx *f = *state;
	struct tvm a;

	tvm_init(&a, "a", GIB, 1);
	assert_int_equal(tvm_do(f, &a, XDC_OP_CREATE), 0);
	assert_int_equal(tvm_do(f, &a, XDC_OP_CREATE), 0);
	assert_int_equal(domid_of(f, "a"), 1);
	assert_int_equal(local_free(f), 63 * GIB);
}

static void
test_create_over_a_different_domain_fails(void **state)
{
	struct fx *f = *state;
	struct tvm a;

	tvm_init(&a, "a", GIB, 1);
	assert_int_equal(tvm_do(f, &a, XDC_OP_CREATE), 0);
	a.spec.ds_hash = 0x9999;
	assert_int_equal(tvm_do(f, &a, XDC_OP_CREATE), XDC_EDRIVER);
	assert_error_has("different spec");
	assert_int_equal(sim_add_unmanaged(f->drv, "legacy", GIB, NULL), 0);
	tvm_init(&a, "legacy", GIB, 1);
	assert_int_equal(tvm_do(f, &a, XDC_OP_CREATE), XDC_EDRIVER);
	assert_error_has("not managed");
}

static void
test_apply_on_unknown_host_is_not_found(void **state)
{
	struct fx *f = *state;
	struct tvm a;

	tvm_init(&a, "a", GIB, 1);
	a.act.a_host = "xen-z";
	assert_int_equal(tvm_do(f, &a, XDC_OP_CREATE), XDC_ENOTFOUND);
	assert_error_has("xen-z");
}

/* ---- Destroy --------------------------------------------------------- */

static void
test_destroy_frees_memory_and_gone_is_done(void **state)
{
	struct fx *f = *state;
	struct tvm a;

	tvm_init(&a, "a", 4 * GIB, 1);
	assert_int_equal(tvm_do(f, &a, XDC_OP_CREATE), 0);
	assert_int_equal(tvm_do(f, &a, XDC_OP_DESTROY), 0);
	assert_false(has_dom(f, "a"));
	assert_int_equal(local_free(f), 64 * GIB);
	assert_int_equal(tvm_do(f, &a, XDC_OP_DESTROY), 0);
}

static void
test_destroy_refuses_unmanaged(void **state)
{
	struct fx *f = *state;

	assert_int_equal(sim_add_unmanaged(f->drv, "legacy", 2 * GIB, NULL), 0);
	assert_int_equal(op_on(f, XDC_OP_DESTROY, "legacy"), XDC_EDRIVER);
	assert_error_has("legacy");
	assert_error_has("does not manage");
	assert_true(has_dom(f, "legacy"));
	/* An unmanaged domain counts against capacity. */
	assert_int_equal(local_free(f), 62 * GIB);
}

static void
test_destroy_refuses_domain0(void **state)
{
	struct fx *f = *state;

	assert_int_equal(op_on(f, XDC_OP_DESTROY, "Domain-0"), XDC_EDRIVER);
	assert_error_has("Domain-0");
	assert_true(has_dom(f, "Domain-0"));
}

/* ---- Update ---------------------------------------------------------- */

static void
test_update_memory_within_max_memory(void **state)
{
	struct fx *f = *state;
	struct tvm a;

	tvm_init(&a, "a", GIB, 1);
	a.vm.vm_max_memory = 2 * GIB;
	assert_int_equal(tvm_do(f, &a, XDC_OP_CREATE), 0);
	a.vm.vm_memory = 2 * GIB;
	a.act.a_update = XDC_UPD_MEMORY;
	assert_int_equal(tvm_do(f, &a, XDC_OP_UPDATE), 0);
	assert_int_equal(local_free(f), 62 * GIB);
	a.vm.vm_memory = 3 * GIB;
	assert_int_equal(tvm_do(f, &a, XDC_OP_UPDATE), XDC_EDRIVER);
	assert_error_has("max_memory");
	assert_int_equal(local_free(f), 62 * GIB);
}

static void
test_update_memory_increase_must_fit_free_memory(void **state)
{
	struct fx *f = *state;
	struct tvm a, b;

	tvm_init(&a, "a", GIB, 1);
	a.vm.vm_max_memory = 16 * GIB;
	tvm_init(&b, "b", 62 * GIB, 1);
	assert_int_equal(tvm_do(f, &a, XDC_OP_CREATE), 0);
	assert_int_equal(tvm_do(f, &b, XDC_OP_CREATE), 0);
	a.vm.vm_memory = 4 * GIB;
	a.act.a_update = XDC_UPD_MEMORY;
	assert_int_equal(tvm_do(f, &a, XDC_OP_UPDATE), XDC_EDRIVER);
	assert_error_has("1GiB is free");
	a.vm.vm_memory = 2 * GIB;
	assert_int_equal(tvm_do(f, &a, XDC_OP_UPDATE), 0);
	assert_int_equal(local_free(f), 0);
}

static void
test_update_changes_only_what_is_flagged(void **state)
{
	struct fx *f = *state;
	struct xdc_observed *obs;
	const struct xdc_obs_domain *d;
	struct tvm a;

	tvm_init(&a, "a", GIB, 1);
	a.vm.vm_max_memory = 4 * GIB;
	a.vm.vm_max_vcpus = 4;
	assert_int_equal(tvm_do(f, &a, XDC_OP_CREATE), 0);
	a.vm.vm_memory = 2 * GIB;
	a.vm.vm_vcpus = 3;
	a.spec.ds_weight = 1024;
	a.spec.ds_cap = 50;
	a.spec.ds_protect = 1;
	a.spec.ds_hash = 0x77;
	a.act.a_update = XDC_UPD_SCHED | XDC_UPD_VCPUS;
	assert_int_equal(tvm_do(f, &a, XDC_OP_UPDATE), 0);
	obs = observe(f->drv);
	d = local_dom(obs, "a");
	assert_int_equal(d->od_weight, 1024);
	assert_int_equal(d->od_cap, 50);
	assert_int_equal(d->od_vcpus, 3);
	assert_int_equal(d->od_memory, GIB);
	assert_false(d->od_protect);
	assert_true(d->od_hash == 0x1234);
	xdc_observed_free(obs);
}

static void
test_update_vcpus_above_max_vcpus_fails(void **state)
{
	struct fx *f = *state;
	struct tvm a;

	tvm_init(&a, "a", GIB, 2);
	assert_int_equal(tvm_do(f, &a, XDC_OP_CREATE), 0);
	a.vm.vm_vcpus = 3;
	a.act.a_update = XDC_UPD_VCPUS;
	assert_int_equal(tvm_do(f, &a, XDC_OP_UPDATE), XDC_EDRIVER);
	assert_error_has("max_vcpus");
}

static void
test_update_marker_and_nics(void **state)
{
	struct fx *f = *state;
	struct xdc_observed *obs;
	const struct xdc_obs_domain *d;
	struct tvm a;

	tvm_init(&a, "a", GIB, 1);
	assert_int_equal(tvm_do(f, &a, XDC_OP_CREATE), 0);
	a.vm.vm_nnics = 2;
	a.nics[1].nic_network = "backend";
	memcpy(a.nics[1].nic_mac, "\x00\x16\x3e\x00\x00\x02", 6);
	a.bridges[1] = "xdc-backend";
	a.spec.ds_protect = 1;
	a.spec.ds_hash = 0xabc;
	a.act.a_update = XDC_UPD_NICS | XDC_UPD_MARKER;
	assert_int_equal(tvm_do(f, &a, XDC_OP_UPDATE), 0);
	obs = observe(f->drv);
	d = local_dom(obs, "a");
	assert_int_equal(d->od_nnics, 2);
	assert_string_equal(d->od_nics[1].on_bridge, "xdc-backend");
	assert_int_equal(d->od_nics[1].on_mac[5], 2);
	assert_true(d->od_protect);
	assert_true(d->od_hash == 0xabc);
	assert_int_equal(d->od_domid, 1);
	xdc_observed_free(obs);
}

static void
test_update_refuses_unmanaged(void **state)
{
	struct fx *f = *state;
	struct tvm a;

	assert_int_equal(sim_add_unmanaged(f->drv, "legacy", GIB, NULL), 0);
	tvm_init(&a, "legacy", 2 * GIB, 1);
	a.act.a_update = XDC_UPD_MARKER;
	assert_int_equal(tvm_do(f, &a, XDC_OP_UPDATE), XDC_EDRIVER);
	assert_error_has("does not manage");
}

/* ---- Adoption --------------------------------------------------------- */

static void
test_adopt_marks_managed_with_hash_protect_and_build(void **state)
{
	struct fx *f = *state;
	struct xdc_observed *obs;
	const struct xdc_obs_domain *d;
	uint32_t domid;
	struct tvm a;

	assert_int_equal(sim_add_unmanaged(f->drv, "legacy", GIB, NULL), 0);
	domid = domid_of(f, "legacy");
	tvm_init(&a, "legacy", GIB, 1);
	a.vm.vm_nnics = 0;
	a.spec.ds_protect = 1;
	a.spec.ds_hash = 0xfeed;
	a.act.a_update = XDC_UPD_ADOPT;
	assert_int_equal(tvm_do(f, &a, XDC_OP_UPDATE), 0);
	obs = observe(f->drv);
	d = local_dom(obs, "legacy");
	assert_non_null(d);
	assert_true(d->od_managed);
	assert_true(d->od_protect);
	assert_true(d->od_hash == 0xfeed);
	/* The same domain, taken over, not rebuilt. */
	assert_int_equal(d->od_domid, domid);
	assert_int_equal(d->od_memory, GIB);
	assert_int_equal(d->od_state, XDC_DOM_RUNNING);
	/* The build record is the declaration's. */
	assert_true(d->od_has_build);
	assert_int_equal(d->od_build.ob_type, XDC_VM_PVH);
	assert_string_equal(d->od_build.ob_kernel, "/boot/vmlinuz");
	assert_string_equal(d->od_build.ob_cmdline, "console=hvc0");
	assert_int_equal(d->od_build.ob_ndisks, 1);
	assert_string_equal(d->od_build.ob_disks[0].d_target, "/dev/vg0/disk");
	xdc_observed_free(obs);
	/* Now it is xdc's like any other: a destroy is allowed. */
	assert_int_equal(op_on(f, XDC_OP_DESTROY, "legacy"), 0);
	assert_false(has_dom(f, "legacy"));
}

static void
test_adopt_with_tuning_checks_first(void **state)
{
	struct fx *f = *state;
	struct xdc_observed *obs;
	const struct xdc_obs_domain *d;
	struct tvm a;

	assert_int_equal(sim_add_unmanaged(f->drv, "legacy", GIB, NULL), 0);
	tvm_init(&a, "legacy", 2 * GIB, 1);
	a.act.a_update = XDC_UPD_ADOPT | XDC_UPD_MEMORY;
	/* Above the domain's max_memory: nothing changes, not even owner. */
	assert_int_equal(tvm_do(f, &a, XDC_OP_UPDATE), XDC_EDRIVER);
	assert_error_has("max_memory");
	obs = observe(f->drv);
	assert_false(local_dom(obs, "legacy")->od_managed);
	xdc_observed_free(obs);

	tvm_init(&a, "legacy", 512 * MIB, 1);
	a.act.a_update = XDC_UPD_ADOPT | XDC_UPD_MEMORY | XDC_UPD_NICS;
	assert_int_equal(tvm_do(f, &a, XDC_OP_UPDATE), 0);
	obs = observe(f->drv);
	d = local_dom(obs, "legacy");
	assert_true(d->od_managed);
	assert_int_equal(d->od_memory, 512 * MIB);
	assert_int_equal(d->od_nnics, 1);
	assert_string_equal(d->od_nics[0].on_bridge, "xdc-dmz");
	xdc_observed_free(obs);
}

static void
test_adopt_refuses_domain0_and_another_spec(void **state)
{
	struct fx *f = *state;
	struct tvm a, b;

	tvm_init(&a, "Domain-0", GIB, 1);
	a.act.a_update = XDC_UPD_ADOPT;
	assert_int_equal(tvm_do(f, &a, XDC_OP_UPDATE), XDC_EDRIVER);
	assert_error_has("Domain-0");

	tvm_init(&b, "b", GIB, 1);
	assert_int_equal(tvm_do(f, &b, XDC_OP_CREATE), 0);
	b.spec.ds_hash = 0x9999;
	b.act.a_update = XDC_UPD_ADOPT;
	assert_int_equal(tvm_do(f, &b, XDC_OP_UPDATE), XDC_EDRIVER);
	assert_error_has("manages it already");
	/* The same spec again (a retried apply) is done. */
	b.spec.ds_hash = 0x1234;
	assert_int_equal(tvm_do(f, &b, XDC_OP_UPDATE), 0);
}

/* ---- Replace and the life cycle -------------------------------------- */

static void
test_replace_gives_new_domid_and_keeps_name(void **state)
{
	struct fx *f = *state;
	struct xdc_observed *obs;
	const struct xdc_obs_domain *d;
	struct tvm a;

	tvm_init(&a, "a", GIB, 1);
	assert_int_equal(tvm_do(f, &a, XDC_OP_CREATE), 0);
	a.vm.vm_kernel = "/boot/vmlinuz-new";
	a.spec.ds_hash = 0x5678;
	assert_int_equal(tvm_do(f, &a, XDC_OP_REPLACE), 0);
	obs = observe(f->drv);
	d = local_dom(obs, "a");
	assert_non_null(d);
	assert_int_equal(d->od_domid, 2);
	assert_string_equal(d->od_build.ob_kernel, "/boot/vmlinuz-new");
	assert_true(d->od_hash == 0x5678);
	assert_int_equal(xdc_observed_host(obs, "local")->oh_ndomains, 2);
	xdc_observed_free(obs);
}

static void
test_replace_counts_old_memory_as_freed(void **state)
{
	struct fx *f = *state;
	struct tvm a;

	tvm_init(&a, "a", 40 * GIB, 1);
	assert_int_equal(tvm_do(f, &a, XDC_OP_CREATE), 0);
	a.vm.vm_memory = a.vm.vm_max_memory = 60 * GIB;
	assert_int_equal(tvm_do(f, &a, XDC_OP_REPLACE), 0);
	assert_int_equal(local_free(f), 4 * GIB);
	a.vm.vm_memory = a.vm.vm_max_memory = 65 * GIB;
	assert_int_equal(tvm_do(f, &a, XDC_OP_REPLACE), XDC_EDRIVER);
	assert_int_equal(domid_of(f, "a"), 2);
}

static void
test_crash_keeps_memory_then_restart_runs_with_new_domid(void **state)
{
	struct fx *f = *state;
	struct tvm a;

	tvm_init(&a, "a", 2 * GIB, 1);
	assert_int_equal(tvm_do(f, &a, XDC_OP_CREATE), 0);
	assert_int_equal(sim_crash(f->drv, "a"), 0);
	assert_int_equal(state_of(f, "a"), XDC_DOM_CRASHED);
	assert_int_equal(local_free(f), 62 * GIB);
	assert_int_equal(op_on(f, XDC_OP_RESTART, "a"), 0);
	assert_int_equal(state_of(f, "a"), XDC_DOM_RUNNING);
	assert_int_equal(domid_of(f, "a"), 2);
	assert_int_equal(local_free(f), 62 * GIB);
}

static void
test_start_crashed_domain_runs_and_running_is_done(void **state)
{
	struct fx *f = *state;
	struct tvm a;

	tvm_init(&a, "a", GIB, 1);
	assert_int_equal(tvm_do(f, &a, XDC_OP_CREATE), 0);
	assert_int_equal(op_on(f, XDC_OP_START, "a"), 0);
	assert_int_equal(domid_of(f, "a"), 1);
	assert_int_equal(sim_crash(f->drv, "a"), 0);
	assert_int_equal(op_on(f, XDC_OP_START, "a"), 0);
	assert_int_equal(state_of(f, "a"), XDC_DOM_RUNNING);
	assert_int_equal(domid_of(f, "a"), 2);
}

static void
test_crash_of_unknown_domain_is_not_found(void **state)
{
	struct fx *f = *state;

	assert_int_equal(sim_crash(f->drv, "ghost"), XDC_ENOTFOUND);
	assert_string_equal(
	    xdc_error_last(), "no domain named ghost in the pool");
}

static void
test_pause_and_unpause_are_idempotent(void **state)
{
	struct fx *f = *state;
	struct tvm a;

	tvm_init(&a, "a", GIB, 1);
	assert_int_equal(tvm_do(f, &a, XDC_OP_CREATE), 0);
	assert_int_equal(op_on(f, XDC_OP_PAUSE, "a"), 0);
	assert_int_equal(state_of(f, "a"), XDC_DOM_PAUSED);
	assert_int_equal(op_on(f, XDC_OP_PAUSE, "a"), 0);
	assert_int_equal(state_of(f, "a"), XDC_DOM_PAUSED);
	assert_int_equal(op_on(f, XDC_OP_UNPAUSE, "a"), 0);
	assert_int_equal(state_of(f, "a"), XDC_DOM_RUNNING);
	assert_int_equal(op_on(f, XDC_OP_UNPAUSE, "a"), 0);
	assert_int_equal(state_of(f, "a"), XDC_DOM_RUNNING);
	assert_int_equal(domid_of(f, "a"), 1);
}

static void
test_pause_of_crashed_domain_fails(void **state)
{
	struct fx *f = *state;
	struct tvm a;

	tvm_init(&a, "a", GIB, 1);
	assert_int_equal(tvm_do(f, &a, XDC_OP_CREATE), 0);
	assert_int_equal(sim_crash(f->drv, "a"), 0);
	assert_int_equal(op_on(f, XDC_OP_PAUSE, "a"), XDC_EDRIVER);
	assert_error_has("crashed");
}

static void
test_stop_removes_the_domain(void **state)
{
	struct fx *f = *state;
	struct tvm a;

	tvm_init(&a, "a", GIB, 1);
	assert_int_equal(tvm_do(f, &a, XDC_OP_CREATE), 0);
	assert_int_equal(op_on(f, XDC_OP_STOP, "a"), 0);
	assert_false(has_dom(f, "a"));
	assert_int_equal(local_free(f), 64 * GIB);
	assert_int_equal(op_on(f, XDC_OP_STOP, "a"), 0);
	assert_int_equal(op_on(f, XDC_OP_START, "a"), XDC_ENOTFOUND);
}

/* ---- Faults ---------------------------------------------------------- */

static void
test_fault_fails_exactly_n_times_then_succeeds(void **state)
{
	struct fx *f = *state;
	struct tvm a;

	tvm_init(&a, "a", GIB, 1);
	assert_int_equal(sim_fail(f->drv, XDC_OP_CREATE, "a", 2), 0);
	assert_int_equal(tvm_do(f, &a, XDC_OP_CREATE), XDC_EDRIVER);
	assert_string_equal(xdc_error_last(), "injected fault: create a");
	assert_int_equal(tvm_do(f, &a, XDC_OP_CREATE), XDC_EDRIVER);
	assert_false(has_dom(f, "a"));
	assert_int_equal(tvm_do(f, &a, XDC_OP_CREATE), 0);
	assert_true(has_dom(f, "a"));
	/* Only that operation on that name fails. */
	assert_int_equal(sim_fail(f->drv, XDC_OP_DESTROY, "b", 1), 0);
	assert_int_equal(tvm_do(f, &a, XDC_OP_DESTROY), 0);
}

static void
test_fault_survives_in_the_file(void **state)
{
	struct fx *f = *state;
	struct xdc_driver *other;
	struct tvm a;

	assert_int_equal(sim_fail(f->drv, XDC_OP_CREATE, "a", 1), 0);
	assert_int_equal(sim_open(f->path, NULL, &other), 0);
	tvm_init(&a, "a", GIB, 1);
	a.act.a_op = XDC_OP_CREATE;
	assert_int_equal(other->apply(other, &a.act), XDC_EDRIVER);
	other->free(other);
	/* The other process used the fault up. */
	assert_int_equal(tvm_do(f, &a, XDC_OP_CREATE), 0);
}

/* ---- The file -------------------------------------------------------- */

static void
assert_obs_equal(const struct xdc_observed *x, const struct xdc_observed *y)
{
	const struct xdc_obs_host *hx, *hy;
	const struct xdc_obs_domain *dx, *dy;
	size_t i, j;

	assert_int_equal(x->obs_nhosts, y->obs_nhosts);
	for (i = 0; i < x->obs_nhosts; i++) {
		hx = &x->obs_hosts[i];
		hy = &y->obs_hosts[i];
		assert_string_equal(hx->oh_name, hy->oh_name);
		assert_int_equal(hx->oh_memory, hy->oh_memory);
		assert_int_equal(hx->oh_free_memory, hy->oh_free_memory);
		assert_int_equal(hx->oh_cpus, hy->oh_cpus);
		assert_int_equal(hx->oh_ndomains, hy->oh_ndomains);
		assert_int_equal(hx->oh_nnetworks, hy->oh_nnetworks);
		for (j = 0; j < hx->oh_ndomains; j++) {
			dx = &hx->oh_domains[j];
			dy = &hy->oh_domains[j];
			assert_string_equal(dx->od_name, dy->od_name);
			assert_int_equal(dx->od_domid, dy->od_domid);
			assert_int_equal(dx->od_state, dy->od_state);
			assert_int_equal(dx->od_memory, dy->od_memory);
			assert_int_equal(dx->od_max_memory, dy->od_max_memory);
			assert_int_equal(dx->od_vcpus, dy->od_vcpus);
			assert_int_equal(dx->od_max_vcpus, dy->od_max_vcpus);
			assert_int_equal(dx->od_weight, dy->od_weight);
			assert_int_equal(dx->od_cap, dy->od_cap);
			assert_int_equal(dx->od_managed, dy->od_managed);
			assert_int_equal(dx->od_protect, dy->od_protect);
			assert_true(dx->od_hash == dy->od_hash);
			assert_int_equal(dx->od_nnics, dy->od_nnics);
			if (dx->od_nnics > 0) {
				assert_string_equal(dx->od_nics[0].on_bridge,
				    dy->od_nics[0].on_bridge);
				assert_memory_equal(dx->od_nics[0].on_mac,
				    dy->od_nics[0].on_mac, 6);
			}
			assert_int_equal(dx->od_has_build, dy->od_has_build);
			if (!dx->od_has_build)
				continue;
			assert_int_equal(
			    dx->od_build.ob_type, dy->od_build.ob_type);
			assert_string_equal(
			    dx->od_build.ob_kernel, dy->od_build.ob_kernel);
			assert_int_equal(
			    dx->od_build.ob_ndisks, dy->od_build.ob_ndisks);
		}
		for (j = 0; j < hx->oh_nnetworks; j++) {
			assert_string_equal(hx->oh_networks[j].on_bridge,
			    hy->oh_networks[j].on_bridge);
			assert_int_equal(hx->oh_networks[j].on_mtu,
			    hy->oh_networks[j].on_mtu);
		}
	}
}

static void
net_action(struct xdc_action *a, struct xdc_network *n, enum xdc_op op,
    const char *name, const char *bridge)
{
	memset(a, 0, sizeof(*a));
	memset(n, 0, sizeof(*n));
	n->n_name = name;
	n->n_bridge = bridge;
	a->a_op = op;
	a->a_kind = XDC_OBJ_NETWORK;
	a->a_name = name;
	a->a_host = XDC_LOCAL_HOST;
	a->a_net = op == XDC_OP_DESTROY ? NULL : n;
	a->a_bridge = bridge;
}

static void
test_file_after_end_is_valid_json_and_reopens_the_same(void **state)
{
	struct fx *f = *state;
	struct xdc_observed *x, *y;
	struct xdc_driver *other;
	struct xdc_network n;
	struct xdc_action na;
	json_error_t jerr;
	json_t *root;
	struct tvm a, b;
	struct stat st;

	tvm_init(&a, "a", GIB, 1);
	tvm_init(&b, "b", 2 * GIB, 2);
	b.vm.vm_ramdisk = "/boot/initrd";
	net_action(&na, &n, XDC_OP_CREATE, "dmz", "xdc-dmz");
	assert_int_equal(f->drv->begin(f->drv), 0);
	assert_int_equal(f->drv->apply(f->drv, &na), 0);
	assert_int_equal(tvm_do(f, &a, XDC_OP_CREATE), 0);
	assert_int_equal(tvm_do(f, &b, XDC_OP_CREATE), 0);
	assert_int_equal(op_on(f, XDC_OP_PAUSE, "b"), 0);
	assert_int_equal(f->drv->end(f->drv), 0);
	assert_int_equal(sim_add_unmanaged(f->drv, "legacy", GIB, NULL), 0);

	root = json_load_file(f->path, JSON_REJECT_DUPLICATES, &jerr);
	assert_non_null(root);
	assert_true(json_is_array(json_object_get(root, "hosts")));
	json_decref(root);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);

	assert_int_equal(sim_open(f->path, NULL, &other), 0);
	x = observe(f->drv);
	y = observe(other);
	assert_obs_equal(x, y);
	assert_int_equal(xdc_observed_host(y, "local")->oh_ndomains, 4);
	assert_string_equal(
	    local_dom(y, "b")->od_build.ob_ramdisk, "/boot/initrd");
	xdc_observed_free(x);
	xdc_observed_free(y);
	other->free(other);
}

static void
test_same_pool_writes_the_same_bytes(void **state)
{
	struct fx *f = *state;
	struct xdc_driver *other;
	char *first, *second;
	struct tvm a;

	tvm_init(&a, "a", GIB, 1);
	assert_int_equal(tvm_do(f, &a, XDC_OP_CREATE), 0);
	first = slurp(f->path);
	/* A change and its undoing: the file is rewritten, the same. */
	assert_int_equal(sim_fail(f->drv, XDC_OP_STOP, "z", 1), 0);
	assert_int_equal(sim_fail(f->drv, XDC_OP_STOP, "z", 0), 0);
	assert_int_equal(sim_open(f->path, NULL, &other), 0);
	second = slurp(f->path);
	assert_string_equal(first, second);
	assert_non_null(strstr(first, "\"next_domid\": 2"));
	other->free(other);
	free(first);
	free(second);
}

static void
test_batch_of_1000_creates_writes_the_file_once(void **state)
{
	struct fx *f = *state;
	struct xdc_observed *obs;
	struct stat before, during;
	unsigned long writes;
	char name[32];
	struct tvm t;
	int i;

	write_pool(f);
	assert_int_equal(stat(f->path, &before), 0);
	writes = sim_write_count(f->drv);
	assert_int_equal(f->drv->begin(f->drv), 0);
	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "vm-%04d", 999 - i);
		tvm_init(&t, name, 32 * MIB, 1);
		assert_int_equal(tvm_do(f, &t, XDC_OP_CREATE), 0);
	}
	/* Inside the batch the pool in memory is what observe sees. */
	obs = observe(f->drv);
	assert_int_equal(xdc_observed_host(obs, "local")->oh_ndomains, 1001);
	assert_string_equal(obs->obs_hosts[0].oh_domains[1].od_name, "vm-0000");
	xdc_observed_free(obs);
	assert_int_equal(sim_write_count(f->drv), writes);
	assert_int_equal(stat(f->path, &during), 0);
	assert_int_equal(during.st_ino, before.st_ino);
	assert_int_equal(during.st_size, before.st_size);
	assert_int_equal(f->drv->end(f->drv), 0);
	assert_int_equal(sim_write_count(f->drv), writes + 1);
	obs = observe(f->drv);
	assert_int_equal(xdc_observed_host(obs, "local")->oh_ndomains, 1001);
	assert_int_equal(xdc_observed_host(obs, "local")->oh_free_memory,
	    64 * GIB - 1000 * 32 * MIB);
	xdc_observed_free(obs);
}

/*
 * sync, inside a batch: what was done so far is in the file for the other
 * hosts (a pool agent gives a claim back only then), the lock kept, and
 * the batch goes on; outside one, and with nothing new, it writes nothing.
 */
static void
test_sync_writes_the_batch_so_far(void **state)
{
	struct fx *f = *state;
	struct xdc_driver *other;
	struct xdc_observed *obs;
	unsigned long writes;
	struct tvm a, b;
	char *text;

	write_pool(f);
	writes = sim_write_count(f->drv);
	assert_int_equal(f->drv->sync(f->drv), 0);
	assert_int_equal(sim_write_count(f->drv), writes);
	assert_int_equal(f->drv->begin(f->drv), 0);
	tvm_init(&a, "a", GIB, 1);
	assert_int_equal(tvm_do(f, &a, XDC_OP_CREATE), 0);
	assert_int_equal(sim_write_count(f->drv), writes);
	assert_int_equal(f->drv->sync(f->drv), 0);
	assert_int_equal(sim_write_count(f->drv), writes + 1);
	text = slurp(f->path);
	assert_non_null(strstr(text, "\"a\""));
	free(text);
	/* Nothing new: no second write. */
	assert_int_equal(f->drv->sync(f->drv), 0);
	assert_int_equal(sim_write_count(f->drv), writes + 1);
	tvm_init(&b, "b", GIB, 1);
	assert_int_equal(tvm_do(f, &b, XDC_OP_CREATE), 0);
	assert_int_equal(f->drv->end(f->drv), 0);
	assert_int_equal(sim_write_count(f->drv), writes + 2);
	/* Another process sees both. */
	assert_int_equal(sim_open(f->path, NULL, &other), 0);
	obs = observe(other);
	assert_non_null(local_dom(obs, "a"));
	assert_non_null(local_dom(obs, "b"));
	xdc_observed_free(obs);
	other->free(other);
}

static void
test_begin_rereads_what_another_process_wrote(void **state)
{
	struct fx *f = *state;
	struct xdc_driver *other;
	struct xdc_observed *obs;
	struct tvm a;

	assert_int_equal(sim_open(f->path, NULL, &other), 0);
	tvm_init(&a, "a", GIB, 1);
	a.act.a_op = XDC_OP_CREATE;
	assert_int_equal(other->apply(other, &a.act), 0);
	other->free(other);
	assert_int_equal(f->drv->begin(f->drv), 0);
	obs = observe(f->drv);
	assert_non_null(local_dom(obs, "a"));
	xdc_observed_free(obs);
	assert_int_equal(f->drv->end(f->drv), 0);
}

/* Open reads the pool; its first observe must still see a later write. */
static void
test_first_observe_sees_a_write_after_open(void **state)
{
	struct fx *f = *state;
	struct xdc_driver *other;
	struct xdc_observed *obs;
	struct tvm a;

	/* The file exists now: this open reads it, and writes nothing. */
	write_pool(f);
	f->drv->free(f->drv);
	assert_int_equal(sim_open(f->path, NULL, &f->drv), 0);
	assert_int_equal(sim_write_count(f->drv), 0);
	assert_int_equal(sim_open(f->path, NULL, &other), 0);
	tvm_init(&a, "a", GIB, 1);
	a.act.a_op = XDC_OP_CREATE;
	assert_int_equal(other->apply(other, &a.act), 0);
	other->free(other);
	obs = observe(f->drv);
	assert_non_null(local_dom(obs, "a"));
	xdc_observed_free(obs);
}

/*
 * An observe leaves the pool it read for the next begin, unless the file
 * changed in between: then begin, and a later observe, read it again.
 */
static void
test_begin_after_observe_sees_a_write_in_between(void **state)
{
	struct fx *f = *state;
	struct xdc_driver *other;
	struct xdc_observed *obs;
	struct tvm a, b;

	xdc_observed_free(observe(f->drv));
	assert_int_equal(sim_open(f->path, NULL, &other), 0);
	tvm_init(&a, "a", GIB, 1);
	a.act.a_op = XDC_OP_CREATE;
	assert_int_equal(other->apply(other, &a.act), 0);
	obs = observe(f->drv);
	assert_non_null(local_dom(obs, "a"));
	xdc_observed_free(obs);
	tvm_init(&b, "b", GIB, 1);
	b.act.a_op = XDC_OP_CREATE;
	assert_int_equal(other->apply(other, &b.act), 0);
	other->free(other);
	assert_int_equal(f->drv->begin(f->drv), 0);
	obs = observe(f->drv);
	assert_non_null(local_dom(obs, "a"));
	assert_non_null(local_dom(obs, "b"));
	xdc_observed_free(obs);
	assert_int_equal(f->drv->end(f->drv), 0);
}

/* Nor may it miss an edit in place that keeps the file's size. */
static void
test_first_observe_sees_an_edit_in_place(void **state)
{
	struct fx *f = *state;
	struct xdc_observed *obs;
	char *text, *at;

	write_pool(f);
	f->drv->free(f->drv);
	assert_int_equal(sim_open(f->path, NULL, &f->drv), 0);
	text = slurp(f->path);
	assert_non_null(at = strstr(text, "\"cpus\": 16"));
	memcpy(at, "\"cpus\": 32", strlen("\"cpus\": 32"));
	spit(f->path, text);
	free(text);
	obs = observe(f->drv);
	assert_int_equal(xdc_observed_host(obs, XDC_LOCAL_HOST)->oh_cpus, 32);
	xdc_observed_free(obs);
}

static void
test_invalid_json_is_an_error_naming_the_file(void **state)
{
	struct fx *f = *state;

	spit(f->path, "{\"hosts\": [");
	assert_int_equal(sim_open(f->path, NULL, &f->drv), XDC_ERR);
	assert_null(f->drv);
	assert_error_has(f->path);
	assert_error_has("not valid JSON");
}

static void
test_json_that_is_not_a_pool_is_an_error(void **state)
{
	struct fx *f = *state;

	spit(f->path, "{\"hosts\": [{\"name\": \"local\", \"domains\": "
	              "[{\"name\": \"x\"}]}]}");
	assert_int_equal(sim_open(f->path, NULL, &f->drv), XDC_ERR);
	assert_error_has(f->path);
	assert_error_has("not a simulated pool");
	assert_error_has("domain x");
	spit(f->path, "[1, 2]");
	assert_int_equal(sim_open(f->path, NULL, &f->drv), XDC_ERR);
	assert_error_has("not a simulated pool");
}

/* Files beside the pool: xdc's leftovers, and a user's own copies. */
static const char *const leftovers[] = { ".sim.json.tmp-Ab12Cd",
	".sim.json.tmp-000000" };
static const char *const bystanders[] = { "sim.json.backup", "sim.json.orig01",
	"sim.json.Ab12Cd", "sim.json.keep-me", ".sim.json.tmp-Ab12C",
	"other.json.Ab12Cd", ".other.json.tmp-Ab12Cd" };

static void
plant(struct fx *f, const char *const *names, size_t n)
{
	char p[600];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/%s", f->dir, names[i]);
		spit(p, "{\"hosts\": [");
	}
}

/* How many of the names are still there. */
static size_t
present(struct fx *f, const char *const *names, size_t n)
{
	char p[600];
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/%s", f->dir, names[i]);
		k += access(p, F_OK) == 0;
	}
	return k;
}

#define NLEFT (sizeof(leftovers) / sizeof(leftovers[0]))
#define NBYST (sizeof(bystanders) / sizeof(bystanders[0]))

/* The directory's entries but "." and "..". */
static size_t
entries(const char *dir)
{
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	assert_non_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL)
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

static void
test_a_writer_removes_temporary_files_of_killed_writers(void **state)
{
	struct fx *f = *state;
	char p[600];

	plant(f, leftovers, NLEFT);
	plant(f, bystanders, NBYST);
	/* A reader leaves them: no writer is known to be done with them. */
	assert_int_equal(sim_open(f->path, NULL, &f->drv), 0);
	xdc_observed_free(observe(f->drv));
	assert_int_equal(present(f, leftovers, NLEFT), NLEFT);
	/* A writer, holding the lock, sweeps xdc's own and only those. */
	write_pool(f);
	assert_int_equal(present(f, leftovers, NLEFT), 0);
	assert_int_equal(present(f, bystanders, NBYST), NBYST);
	snprintf(p, sizeof(p), "%s.lock", f->path);
	assert_int_equal(access(p, F_OK), 0);
}

/*
 * Opening and observing a pool that has no file yet creates nothing, not
 * even the lock, and sees the pool a writer would create.
 */
static void
test_a_reader_creates_no_file(void **state)
{
	struct fx *f = *state;
	struct xdc_observed *obs;
	struct xdc_host host;
	struct xdc_config cfg;
	char p[600];

	memset(&host, 0, sizeof(host));
	memset(&cfg, 0, sizeof(cfg));
	host.h_name = "xen-a";
	host.h_memory = 8 * GIB;
	cfg.cfg_hosts = &host;
	cfg.cfg_nhosts = 1;
	assert_int_equal(sim_open(f->path, &cfg, &f->drv), 0);
	obs = observe(f->drv);
	assert_int_equal(obs->obs_nhosts, 1);
	assert_string_equal(obs->obs_hosts[0].oh_name, "xen-a");
	assert_int_equal(obs->obs_hosts[0].oh_memory, 8 * GIB);
	assert_int_equal(obs->obs_hosts[0].oh_ndomains, 1);
	xdc_observed_free(obs);
	assert_int_equal(entries(f->dir), 0);
	assert_int_equal(sim_write_count(f->drv), 0);
	/* An existing pool without a lock file is read, and gains none. */
	write_pool(f);
	f->drv->free(f->drv);
	snprintf(p, sizeof(p), "%s.lock", f->path);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(sim_open(f->path, NULL, &f->drv), 0);
	obs = observe(f->drv);
	assert_non_null(xdc_observed_host(obs, "xen-a"));
	xdc_observed_free(obs);
	assert_int_equal(access(p, F_OK), -1);
	assert_int_equal(entries(f->dir), 1);
	/* The first change writes it, with the lock. */
	assert_int_equal(sim_crash(f->drv, "nothing"), XDC_ENOTFOUND);
	assert_int_equal(access(p, F_OK), 0);
}

/* A pool path that is not a regular file is refused, and gains no lock. */
static void
test_a_fifo_as_the_pool_is_refused(void **state)
{
	struct fx *f = *state;

	assert_int_equal(mkfifo(f->path, 0600), 0);
	assert_int_equal(sim_open(f->path, NULL, &f->drv), XDC_ERR);
	assert_error_has(f->path);
	assert_error_has("a FIFO");
	assert_int_equal(entries(f->dir), 1);
}

/*
 * A symbolic link planted at the lock's path: neither a reader nor a
 * writer opens, locks or creates what it points to, and each says why.
 */
static void
test_a_link_at_the_lock_path_is_refused(void **state)
{
	struct fx *f = *state;
	char lock[600], target[600], nowhere[600], *text;
	struct xdc_driver *other = NULL;
	struct stat st;

	snprintf(lock, sizeof(lock), "%s.lock", f->path);
	snprintf(target, sizeof(target), "%s/precious", f->dir);
	snprintf(nowhere, sizeof(nowhere), "%s/nowhere", f->dir);
	spit(target, "root's own\n");
	/* A writer opened before the link was planted. */
	assert_int_equal(sim_open(f->path, NULL, &f->drv), 0);
	assert_int_equal(symlink(target, lock), 0);
	/* A reader. */
	assert_int_equal(sim_open(f->path, NULL, &other), XDC_ERR);
	assert_error_has(lock);
	assert_error_has("a symbolic link");
	assert_int_equal(sim_crash(f->drv, "x"), XDC_ERR);
	assert_error_has("a symbolic link");
	assert_int_equal(sim_write_count(f->drv), 0);
	text = slurp(target);
	assert_string_equal(text, "root's own\n");
	free(text);
	assert_int_equal(lstat(lock, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	/* A link to nowhere: its target is not created. */
	assert_int_equal(unlink(lock), 0);
	assert_int_equal(symlink(nowhere, lock), 0);
	assert_int_equal(sim_crash(f->drv, "x"), XDC_ERR);
	assert_error_has("a symbolic link");
	assert_int_equal(access(nowhere, F_OK), -1);
	assert_int_equal(access(f->path, F_OK), -1);
	/* Gone, the lock is created as a file. */
	assert_int_equal(unlink(lock), 0);
	assert_int_equal(sim_crash(f->drv, "x"), XDC_ENOTFOUND);
	assert_int_equal(lstat(lock, &st), 0);
	assert_true(S_ISREG(st.st_mode));
}

/* A pool in a directory that is not there: the message says so. */
static void
test_a_missing_directory_is_named(void **state)
{
	struct fx *f = *state;
	char p[600];

	snprintf(p, sizeof(p), "%s/no/such/p.json", f->dir);
	assert_int_equal(sim_open(p, NULL, &f->drv), XDC_ERR);
	assert_error_has(p);
	snprintf(
	    p, sizeof(p), "the directory %s/no/such does not exist", f->dir);
	assert_error_has(p);
	assert_null(strstr(xdc_error_last(), ".lock"));
	/* A file where the directory should be. */
	spit(f->path, "x");
	snprintf(p, sizeof(p), "%s/p.json", f->path);
	assert_int_equal(sim_open(p, NULL, &f->drv), XDC_ERR);
	assert_error_has("is not a directory");
	assert_int_equal(entries(f->dir), 1);
}

static void
test_parse_pool_writes_back_what_it_reads(void **state)
{
	struct fx *f = *state;
	char *file, *once = NULL, *twice = NULL;

	assert_int_equal(sim_open(f->path, NULL, &f->drv), 0);
	assert_int_equal(sim_fail(f->drv, XDC_OP_CREATE, "web-9", 2), 0);
	assert_int_equal(sim_add_unmanaged(f->drv, "legacy", GIB, NULL), 0);
	file = slurp(f->path);
	/* What the driver wrote reads, and writes back the same bytes. */
	assert_int_equal(sim_parse_pool("p", file, strlen(file), &once), 0);
	assert_string_equal(once, file);
	assert_int_equal(sim_parse_pool("p", once, strlen(once), &twice), 0);
	assert_string_equal(twice, once);
	/* Without out, it only checks. */
	assert_int_equal(sim_parse_pool("p", file, strlen(file), NULL), 0);
	/* The name given is the one errors name; len is honoured. */
	assert_int_equal(sim_parse_pool("here.json", file, 10, NULL), XDC_ERR);
	assert_error_has("here.json: not valid JSON");
	free(file);
	free(once);
	free(twice);
}

/*
 * Found by fuzz_sim: a domain named Domain-0 whose id was not 0 met the
 * Domain-0 every host is given, and the pool written held two domains of
 * one name, which it then refused to read back.
 */
static void
test_domain0_is_the_domain_with_id_0(void **state)
{
	static const char *const bad[] = {
		"{\"hosts\": [{\"name\": \"a\", \"domains\": [{\"name\": "
		"\"Domain-0\", \"domid\": 5, \"memory\": 1}]}]}",
		"{\"hosts\": [{\"name\": \"a\", \"domains\": [{\"name\": "
		"\"web\", \"domid\": 0, \"memory\": 1}]}]}",
	};
	static const char good[] =
	    "{\"hosts\": [{\"name\": \"a\", \"domains\": [{\"name\": "
	    "\"Domain-0\", \"domid\": 0, \"memory\": 1}]}]}";
	char *out = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(
		    sim_parse_pool("p", bad[i], strlen(bad[i]), NULL), XDC_ERR);
		assert_error_has("\"domid\" is 0 for Domain-0 and no other");
	}
	assert_int_equal(sim_parse_pool("p", good, strlen(good), &out), 0);
	/* Its own Domain-0 is kept, not given a second one. */
	assert_non_null(strstr(out, "\"name\": \"Domain-0\""));
	assert_null(strstr(strstr(out, "\"name\": \"Domain-0\"") + 1,
	    "\"name\": \"Domain-0\""));
	free(out);
}

/*
 * A pool file written before the sim's domains and networks went through
 * obs_json (keys in another order, no "stub"), and a hand-written one that
 * leaves out what it may: both read, with every value kept or defaulted.
 */
static void
test_an_older_pool_file_reads(void **state)
{
	static const char old[] =
	    "{\"format_version\": 1, \"next_domid\": 3, \"hosts\": [{\"name\": "
	    "\"local\", \"memory\": 68719476736, \"cpus\": 16, \"domains\": "
	    "[{\"name\": \"Domain-0\", \"domid\": 0, \"state\": \"running\", "
	    "\"memory\": 1073741824, \"max_memory\": 1073741824, \"vcpus\": 1, "
	    "\"max_vcpus\": 1, \"cpu\": {\"weight\": 256, \"cap\": 0}, "
	    "\"managed\": false, \"protect\": false, \"hash\": "
	    "\"0000000000000000\", \"nics\": [], \"build\": null}, {\"name\": "
	    "\"web-1\", \"domid\": 2, \"state\": \"paused\", \"memory\": "
	    "536870912, \"max_memory\": 1073741824, \"vcpus\": 1, "
	    "\"max_vcpus\": "
	    "2, \"cpu\": {\"weight\": 512, \"cap\": 150}, \"managed\": true, "
	    "\"protect\": true, \"hash\": \"a24b3d728ebe98df\", \"nics\": "
	    "[{\"bridge\": \"xdc-dmz\", \"mac\": \"00:16:3e:52:0a:84\"}], "
	    "\"build\": {\"type\": \"pvh\", \"kernel\": \"/boot/k\", "
	    "\"ramdisk\": null, \"cmdline\": \"ro\", \"disks\": [{\"target\": "
	    "\"/d/web-1.img\", \"vdev\": \"xvda\", \"format\": \"qcow2\", "
	    "\"readonly\": true}]}}], \"networks\": [{\"name\": \"dmz\", "
	    "\"bridge\": \"xdc-dmz\", \"mtu\": 9000, \"uplink\": \"eth0\", "
	    "\"vlan\": 20, \"up\": false, \"managed\": true}]}], \"faults\": "
	    "[]}";
	static const char hand[] =
	    "{\"hosts\": [{\"name\": \"local\", \"domains\": [{\"name\": "
	    "\"legacy\", \"domid\": 4, \"memory\": 1024}], \"networks\": "
	    "[{\"bridge\": \"br0\"}]}]}";
	struct fx *f = *state;
	struct xdc_observed *obs;
	const struct xdc_obs_domain *d;
	const struct xdc_obs_network *n;

	spit(f->path, old);
	assert_int_equal(sim_open(f->path, NULL, &f->drv), 0);
	obs = observe(f->drv);
	assert_non_null(d = local_dom(obs, "web-1"));
	assert_int_equal(d->od_domid, 2);
	assert_int_equal(d->od_state, XDC_DOM_PAUSED);
	assert_int_equal(d->od_max_memory, GIB);
	assert_int_equal(d->od_max_vcpus, 2);
	assert_int_equal(d->od_weight, 512);
	assert_int_equal(d->od_cap, 150);
	assert_true(d->od_managed && d->od_protect && !d->od_stub);
	assert_true(d->od_hash == 0xa24b3d728ebe98dfULL);
	assert_string_equal(d->od_nics[0].on_bridge, "xdc-dmz");
	assert_true(d->od_has_build);
	assert_string_equal(d->od_build.ob_cmdline, "ro");
	assert_int_equal(d->od_build.ob_disks[0].d_format, XDC_DISK_QCOW2);
	assert_true(d->od_build.ob_disks[0].d_readonly);
	n = &xdc_observed_host(obs, XDC_LOCAL_HOST)->oh_networks[0];
	assert_string_equal(n->on_uplink, "eth0");
	assert_int_equal(n->on_vlan, 20);
	assert_int_equal(n->on_mtu, 9000);
	assert_false(n->on_up);
	xdc_observed_free(obs);
	f->drv->free(f->drv);

	spit(f->path, hand);
	assert_int_equal(sim_open(f->path, NULL, &f->drv), 0);
	obs = observe(f->drv);
	assert_non_null(d = local_dom(obs, "legacy"));
	assert_int_equal(d->od_state, XDC_DOM_RUNNING);
	assert_int_equal(d->od_weight, XDC_DEFAULT_WEIGHT);
	assert_int_equal(d->od_vcpus, 1);
	assert_false(d->od_managed);
	n = &xdc_observed_host(obs, XDC_LOCAL_HOST)->oh_networks[0];
	assert_true(n->on_up);
	assert_int_equal(n->on_mtu, 1500);
	/* Domain-0 is given to a host whose file lacks one. */
	assert_non_null(local_dom(obs, "Domain-0"));
	xdc_observed_free(obs);
}

/* ---- Power off ------------------------------------------------------- */

static void
test_power_off_leaves_the_host_with_domain0_alone(void **state)
{
	struct fx *f = *state;
	struct xdc_host hosts[2];
	struct xdc_config cfg;
	struct xdc_observed *obs;
	const struct xdc_obs_host *a, *b;
	struct tvm w1, w2, wb, w3;
	char **gone = NULL;
	uint32_t id;

	cfg_ab(&cfg, hosts);
	assert_int_equal(sim_open(f->path, &cfg, &f->drv), 0);
	tvm_init(&w1, "w1", GIB, 1);
	w1.act.a_host = "xen-a";
	tvm_init(&w2, "w2", 2 * GIB, 1);
	w2.act.a_host = "xen-a";
	tvm_init(&wb, "wb", GIB, 1);
	wb.act.a_host = "xen-b";
	assert_int_equal(tvm_do(f, &w2, XDC_OP_CREATE), 0);
	assert_int_equal(tvm_do(f, &w1, XDC_OP_CREATE), 0);
	assert_int_equal(tvm_do(f, &wb, XDC_OP_CREATE), 0);
	assert_int_equal(sim_crash(f->drv, "w2"), 0);

	assert_int_equal(sim_power_off(f->drv, "xen-a", &gone), 0);
	assert_non_null(gone);
	assert_string_equal(gone[0], "w1");
	assert_string_equal(gone[1], "w2");
	assert_null(gone[2]);
	free(gone);
	/* Another process reads the file: the host is empty, b is not. */
	f->drv->free(f->drv);
	assert_int_equal(sim_open(f->path, NULL, &f->drv), 0);
	obs = observe(f->drv);
	a = xdc_observed_host(obs, "xen-a");
	b = xdc_observed_host(obs, "xen-b");
	assert_int_equal(a->oh_ndomains, 1);
	assert_string_equal(a->oh_domains[0].od_name, "Domain-0");
	assert_int_equal(a->oh_free_memory, 32 * GIB);
	assert_non_null(xdc_obs_host_domain(b, "wb"));
	xdc_observed_free(obs);
	/* Ids are not given again after the reboot. */
	tvm_init(&w3, "w1", GIB, 1);
	w3.act.a_host = "xen-a";
	assert_int_equal(tvm_do(f, &w3, XDC_OP_CREATE), 0);
	obs = observe(f->drv);
	id = xdc_obs_host_domain(xdc_observed_host(obs, "xen-a"), "w1")
	         ->od_domid;
	assert_int_equal(id, 4);
	xdc_observed_free(obs);
	/* An empty host powers off too, and nothing went. */
	assert_int_equal(sim_power_off(f->drv, "xen-b", NULL), 0);
	assert_int_equal(sim_power_off(f->drv, "xen-b", &gone), 0);
	assert_null(gone[0]);
	free(gone);
}

/* A fence that cannot reach its host fails, and changes nothing. */
static void
test_power_off_of_a_host_not_in_the_file_fails(void **state)
{
	struct fx *f = *state;
	char **gone = (char **)1;
	unsigned long writes;
	char lock[128];

	assert_int_equal(sim_open(f->path, NULL, &f->drv), 0);
	assert_int_equal(sim_power_off(f->drv, "local", &gone), XDC_ENOTFOUND);
	assert_null(gone);
	assert_error_has("cannot power off host local: there is no pool file");
	assert_int_not_equal(access(f->path, F_OK), 0);
	snprintf(lock, sizeof(lock), "%s.lock", f->path);
	assert_int_not_equal(access(lock, F_OK), 0);
	write_pool(f);
	writes = sim_write_count(f->drv);
	assert_int_equal(sim_power_off(f->drv, "xen-z", NULL), XDC_ENOTFOUND);
	assert_error_has("host xen-z");
	assert_error_has("holds no such host (it holds local)");
	assert_int_equal(sim_write_count(f->drv), writes);
}

/* ---- The watchdog ---------------------------------------------------- */

static void
nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0)
		;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* xen-a's pool with one VM, "web", running on it. */
static void
host_with_web(struct fx *f)
{
	struct tvm w;

	assert_int_equal(sim_open_host(f->path, NULL, "xen-a", &f->drv), 0);
	assert_non_null(f->drv->watchdog);
	tvm_init(&w, "web", GIB, 1);
	w.act.a_host = "xen-a";
	assert_int_equal(tvm_do(f, &w, XDC_OP_CREATE), 0);
}

/* Whether another process, opening the file now, sees web on xen-a. */
static int
others_see_web(struct fx *f)
{
	struct xdc_driver *other;
	struct xdc_observed *obs;
	int found;

	assert_int_equal(sim_open(f->path, NULL, &other), 0);
	obs = observe(other);
	found =
	    xdc_obs_host_domain(xdc_observed_host(obs, "xen-a"), "web") != NULL;
	assert_non_null(
	    xdc_obs_host_domain(xdc_observed_host(obs, "xen-a"), "Domain-0"));
	xdc_observed_free(obs);
	other->free(other);
	return found;
}

/* The file's "watchdog" of xen-a, or NULL (a new reference). */
static json_t *
file_watchdog(struct fx *f)
{
	json_t *root = json_load_file(f->path, 0, NULL), *w;

	assert_non_null(root);
	w = json_object_get(
	    json_array_get(json_object_get(root, "hosts"), 0), "watchdog");
	json_incref(w);
	json_decref(root);
	return w;
}

/*
 * Armed with 300 ms and never petted: whoever reads the file after 400 ms
 * sees the host rebooted, though no process ran for it meanwhile; a
 * reader writes nothing, a writer writes the reboot back.
 */
static void
test_a_watchdog_not_petted_reboots_the_host(void **state)
{
	struct fx *f = *state;
	struct xdc_driver *other;
	int64_t before = now_ms();
	json_t *w;
	char *text;

	host_with_web(f);
	assert_int_equal(f->drv->watchdog(f->drv, 300), 0);
	assert_non_null(w = file_watchdog(f));
	assert_int_equal(
	    json_integer_value(json_object_get(w, "timeout_ms")), 300);
	assert_true(
	    json_integer_value(json_object_get(w, "deadline")) >= before + 300);
	assert_true(json_integer_value(json_object_get(w, "deadline")) <=
	            now_ms() + 300);
	json_decref(w);
	f->drv->free(f->drv);
	f->drv = NULL;
	assert_true(others_see_web(f));

	nap_ms(400);
	assert_false(others_see_web(f));
	/* A reader saw it, and wrote nothing. */
	text = slurp(f->path);
	assert_non_null(strstr(text, "\"web\""));
	assert_non_null(strstr(text, "\"watchdog\""));
	free(text);
	/* A writer (a disturbance, here) writes it back. */
	assert_int_equal(sim_open(f->path, NULL, &other), 0);
	assert_int_equal(sim_fail(other, XDC_OP_CREATE, "x", 1), 0);
	other->free(other);
	text = slurp(f->path);
	assert_null(strstr(text, "\"web\""));
	assert_null(strstr(text, "\"watchdog\""));
	free(text);
}

/* The host's own driver, kept open, sees it too; a late pet saves nothing. */
static void
test_a_pet_after_the_deadline_is_too_late(void **state)
{
	struct fx *f = *state;
	json_t *w;

	host_with_web(f);
	assert_int_equal(f->drv->watchdog(f->drv, 300), 0);
	assert_true(has_dom_on(f, "xen-a", "web"));
	nap_ms(400);
	assert_false(has_dom_on(f, "xen-a", "web"));
	assert_int_equal(f->drv->watchdog(f->drv, 300), 0);
	assert_false(has_dom_on(f, "xen-a", "web"));
	assert_false(others_see_web(f));
	/* Armed again by that pet, for the host as it is now. */
	assert_non_null(w = file_watchdog(f));
	json_decref(w);
}

static void
test_a_watchdog_petted_in_time_keeps_the_host(void **state)
{
	struct fx *f = *state;
	int i;

	host_with_web(f);
	/* Petted 5 times a timeout, with room for a loaded machine's naps. */
	for (i = 0; i < 8; i++) {
		assert_int_equal(f->drv->watchdog(f->drv, 2000), 0);
		nap_ms(100);
	}
	assert_true(others_see_web(f));
	assert_true(has_dom_on(f, "xen-a", "web"));
}

static void
test_a_disarmed_watchdog_does_nothing(void **state)
{
	struct fx *f = *state;
	unsigned long writes;

	host_with_web(f);
	/* Disarming one never armed changes nothing, and writes nothing. */
	writes = sim_write_count(f->drv);
	assert_int_equal(f->drv->watchdog(f->drv, 0), 0);
	assert_int_equal(sim_write_count(f->drv), writes);
	assert_int_equal(f->drv->watchdog(f->drv, 300), 0);
	assert_int_equal(f->drv->watchdog(f->drv, 0), 0);
	assert_null(file_watchdog(f));
	nap_ms(400);
	assert_true(others_see_web(f));
	assert_true(has_dom_on(f, "xen-a", "web"));
}

/* Only one host's pool has one; a timeout out of range is refused. */
static void
test_a_watchdog_is_one_hosts_and_in_range(void **state)
{
	struct fx *f = *state;

	assert_int_equal(sim_open(f->path, NULL, &f->drv), 0);
	assert_null(f->drv->watchdog);
	f->drv->free(f->drv);
	host_with_web(f);
	assert_int_equal(f->drv->watchdog(f->drv, -1), XDC_ERR);
	assert_error_has("from 1 ms to 24h");
	assert_int_equal(
	    f->drv->watchdog(f->drv, 24LL * 3600 * 1000 + 1), XDC_ERR);
	assert_null(file_watchdog(f));
	assert_int_equal(f->drv->watchdog(f->drv, 24LL * 3600 * 1000), 0);
}

/*
 * power-off is a reboot too: the host comes back with no agent yet to
 * arm its watchdog.
 */
static void
test_power_off_disarms_the_watchdog(void **state)
{
	struct fx *f = *state;

	host_with_web(f);
	assert_int_equal(f->drv->watchdog(f->drv, 60000), 0);
	assert_int_equal(sim_power_off(f->drv, "xen-a", NULL), 0);
	assert_null(file_watchdog(f));
}

/* Whether fd is readable now. */
static int
readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1;
}

/*
 * A pet rewrites the file: the loop that watches it must not wake for
 * that, but must still wake for another process's change, even one a
 * pet read before any observe did.
 */
static void
test_a_pet_wakes_no_watch_but_another_write_does(void **state)
{
	struct fx *f = *state;
	struct xdc_driver *other;
	int fd;

	host_with_web(f);
	assert_true((fd = f->drv->watch_fd(f->drv)) >= 0);
	xdc_observed_free(observe(f->drv));
	f->drv->watch_drain(f->drv);
	assert_int_equal(f->drv->watchdog(f->drv, 5000), 0);
	assert_false(readable(fd));
	assert_int_equal(f->drv->watchdog(f->drv, 5000), 0);
	assert_false(readable(fd));

	assert_int_equal(sim_open(f->path, NULL, &other), 0);
	assert_int_equal(sim_crash(other, "web"), 0);
	assert_true(readable(fd));
	/* The pet reads that change before the loop observes it. */
	assert_int_equal(f->drv->watchdog(f->drv, 5000), 0);
	assert_true(readable(fd));
	f->drv->watch_drain(f->drv);
	xdc_observed_free(observe(f->drv));
	assert_int_equal(f->drv->watchdog(f->drv, 5000), 0);
	assert_false(readable(fd));
	assert_int_equal(sim_fail(other, XDC_OP_CREATE, "x", 1), 0);
	assert_true(readable(fd));
	other->free(other);
}

/*
 * A pet inside a batch is written at once, or the deadline on disk would
 * pass for every other reader while the agent pets.
 */
static void
test_a_pet_in_a_batch_is_written_at_once(void **state)
{
	struct fx *f = *state;
	json_t *w;

	host_with_web(f);
	assert_int_equal(f->drv->begin(f->drv), 0);
	assert_int_equal(f->drv->watchdog(f->drv, 300), 0);
	assert_non_null(w = file_watchdog(f));
	json_decref(w);
	assert_int_equal(f->drv->end(f->drv), 0);
	assert_non_null(w = file_watchdog(f));
	json_decref(w);
	/* Nor does a batch that holds the lock save a host too late. */
	assert_int_equal(f->drv->begin(f->drv), 0);
	nap_ms(400);
	assert_int_equal(f->drv->watchdog(f->drv, 300), 0);
	assert_false(has_dom_on(f, "xen-a", "web"));
	assert_int_equal(f->drv->end(f->drv), 0);
	assert_false(others_see_web(f));
}
/* ---- Networks -------------------------------------------------------- */

static void
test_network_create_update_destroy(void **state)
{
	struct fx *f = *state;
	struct xdc_observed *obs;
	const struct xdc_obs_network *on;
	struct xdc_network n;
	struct xdc_action a;

	net_action(&a, &n, XDC_OP_CREATE, "dmz", "xdc-dmz");
	assert_int_equal(f->drv->apply(f->drv, &a), 0);
	obs = observe(f->drv);
	assert_int_equal(obs->obs_hosts[0].oh_nnetworks, 1);
	on = &obs->obs_hosts[0].oh_networks[0];
	assert_string_equal(on->on_bridge, "xdc-dmz");
	assert_string_equal(on->on_name, "dmz");
	assert_int_equal(on->on_mtu, 1500);
	assert_true(on->on_up);
	assert_true(on->on_managed);
	assert_null(on->on_uplink);
	xdc_observed_free(obs);

	net_action(&a, &n, XDC_OP_UPDATE, "dmz", "xdc-dmz");
	n.n_mtu = 9000;
	n.n_uplink = "eth0";
	n.n_vlan = 20;
	a.a_update = XDC_UPD_MTU | XDC_UPD_UPLINK;
	assert_int_equal(f->drv->apply(f->drv, &a), 0);
	obs = observe(f->drv);
	on = &obs->obs_hosts[0].oh_networks[0];
	assert_int_equal(on->on_mtu, 9000);
	assert_string_equal(on->on_uplink, "eth0");
	assert_int_equal(on->on_vlan, 20);
	xdc_observed_free(obs);

	net_action(&a, &n, XDC_OP_DESTROY, "dmz", "xdc-dmz");
	assert_int_equal(f->drv->apply(f->drv, &a), 0);
	obs = observe(f->drv);
	assert_int_equal(obs->obs_hosts[0].oh_nnetworks, 0);
	xdc_observed_free(obs);
	assert_int_equal(f->drv->apply(f->drv, &a), 0);
}

static void
test_networks_are_sorted_by_bridge(void **state)
{
	struct fx *f = *state;
	struct xdc_observed *obs;
	struct xdc_network n;
	struct xdc_action a;

	net_action(&a, &n, XDC_OP_CREATE, "web", "xdc-web");
	assert_int_equal(f->drv->apply(f->drv, &a), 0);
	net_action(&a, &n, XDC_OP_CREATE, "app", "xdc-app");
	assert_int_equal(f->drv->apply(f->drv, &a), 0);
	obs = observe(f->drv);
	assert_int_equal(obs->obs_hosts[0].oh_nnetworks, 2);
	assert_string_equal(
	    obs->obs_hosts[0].oh_networks[0].on_bridge, "xdc-app");
	assert_string_equal(
	    obs->obs_hosts[0].oh_networks[1].on_bridge, "xdc-web");
	xdc_observed_free(obs);
}

static void
test_network_refuses_unmanaged_bridge(void **state)
{
	struct fx *f = *state;
	struct xdc_observed *obs;
	struct xdc_network n;
	struct xdc_action a;

	spit(f->path, "{\"hosts\": [{\"name\": \"local\", \"networks\": "
	              "[{\"name\": null, \"bridge\": \"xenbr0\", \"mtu\": "
	              "1500, \"up\": true, \"managed\": false}]}]}");
	assert_int_equal(sim_open(f->path, NULL, &f->drv), 0);
	net_action(&a, &n, XDC_OP_DESTROY, "xenbr0", "xenbr0");
	assert_int_equal(f->drv->apply(f->drv, &a), XDC_EDRIVER);
	assert_error_has("xenbr0");
	net_action(&a, &n, XDC_OP_UPDATE, "lan", "xenbr0");
	n.n_mtu = 9000;
	assert_int_equal(f->drv->apply(f->drv, &a), XDC_EDRIVER);
	net_action(&a, &n, XDC_OP_CREATE, "lan", "xenbr0");
	assert_int_equal(f->drv->apply(f->drv, &a), XDC_EDRIVER);
	obs = observe(f->drv);
	assert_int_equal(obs->obs_hosts[0].oh_nnetworks, 1);
	assert_null(obs->obs_hosts[0].oh_networks[0].on_name);
	assert_int_equal(obs->obs_hosts[0].oh_networks[0].on_mtu, 1500);
	assert_false(obs->obs_hosts[0].oh_networks[0].on_managed);
	/* A hand-written pool still gets its Domain-0. */
	assert_non_null(local_dom(obs, "Domain-0"));
	xdc_observed_free(obs);
}

/* ---- Scopes (SPEC §9) ------------------------------------------------ */

static void
test_marker_records_scope_and_times_across_a_reopen(void **state)
{
	struct fx *f = *state;
	struct xdc_observed *obs;
	const struct xdc_obs_domain *d;
	struct xdc_driver *other;
	struct tvm a;

	tvm_init(&a, "ci-a", GIB, 1);
	a.spec.ds_scope = "mr-12";
	a.spec.ds_applied = 1790000000;
	a.spec.ds_expires = 1790172800;
	assert_int_equal(tvm_do(f, &a, XDC_OP_CREATE), 0);
	assert_int_equal(sim_open(f->path, NULL, &other), 0);
	obs = observe(other);
	d = local_dom(obs, "ci-a");
	assert_non_null(d);
	assert_string_equal(d->od_scope, "mr-12");
	assert_true(d->od_applied == 1790000000);
	assert_true(d->od_expires == 1790172800);
	/* Domain-0 is nobody's. */
	assert_null(local_dom(obs, "Domain-0")->od_scope);
	xdc_observed_free(obs);

	/* A marker update moves it to another scope (adopt_from). */
	a.spec.ds_scope = "prod";
	a.spec.ds_expires = 0;
	a.act.a_update = XDC_UPD_MARKER;
	assert_int_equal(tvm_do(f, &a, XDC_OP_UPDATE), 0);
	obs = observe(other);
	d = local_dom(obs, "ci-a");
	assert_string_equal(d->od_scope, "prod");
	assert_true(d->od_expires == 0);
	xdc_observed_free(obs);
	other->free(other);
}

/* A pool file written before scopes: its xdc domains are default's. */
static void
test_pool_older_than_scopes_is_the_default_scopes(void **state)
{
	struct fx *f = *state;
	struct xdc_observed *obs;
	const struct xdc_obs_domain *d;
	const struct xdc_obs_network *on;

	spit(f->path,
	    "{\"hosts\": [{\"name\": \"local\", \"domains\": ["
	    "{\"name\": \"web\", \"domid\": 4, \"memory\": 1073741824, "
	    "\"managed\": true, \"hash\": \"00000000000000aa\"},"
	    "{\"name\": \"legacy\", \"domid\": 5, \"memory\": 1048576}],"
	    "\"networks\": [{\"name\": \"dmz\", \"bridge\": \"xdc-dmz\", "
	    "\"up\": true, \"managed\": true}]}]}");
	assert_int_equal(sim_open(f->path, NULL, &f->drv), 0);
	obs = observe(f->drv);
	d = local_dom(obs, "web");
	assert_non_null(d);
	assert_true(d->od_managed);
	assert_string_equal(d->od_scope, XDC_SCOPE_DEFAULT);
	assert_true(d->od_applied == 0 && d->od_expires == 0);
	assert_null(local_dom(obs, "legacy")->od_scope);
	on = &obs->obs_hosts[0].oh_networks[0];
	assert_int_equal(on->on_nscopes, 1);
	assert_string_equal(on->on_scopes[0], XDC_SCOPE_DEFAULT);
	xdc_observed_free(obs);
}

/* A network's scopes: set by a create, rewritten alone when one leaves. */
static void
test_network_scopes_join_and_leave(void **state)
{
	const char *const both[] = { "a", "b" };
	const char *const a_only[] = { "a" };
	const char *const b_only[] = { "b" };
	struct fx *f = *state;
	struct xdc_observed *obs;
	const struct xdc_obs_network *on;
	struct xdc_network n;
	struct xdc_action a;

	net_action(&a, &n, XDC_OP_CREATE, "ci", "xdc-ci");
	n.n_mtu = 9000;
	a.a_scopes = a_only;
	a.a_nscopes = 1;
	assert_int_equal(f->drv->apply(f->drv, &a), 0);
	/* b joins, declaring no mtu: the owner's 9000 stays. */
	net_action(&a, &n, XDC_OP_UPDATE, "ci", "xdc-ci");
	a.a_update = XDC_UPD_SCOPES;
	a.a_scopes = both;
	a.a_nscopes = 2;
	assert_int_equal(f->drv->apply(f->drv, &a), 0);
	obs = observe(f->drv);
	on = &obs->obs_hosts[0].oh_networks[0];
	assert_int_equal(on->on_nscopes, 2);
	assert_string_equal(on->on_scopes[1], "b");
	assert_int_equal(on->on_mtu, 9000);
	xdc_observed_free(obs);
	net_action(&a, &n, XDC_OP_UPDATE, "ci", "xdc-ci");
	a.a_net = NULL;
	a.a_update = XDC_UPD_SCOPES;
	a.a_scopes = b_only;
	a.a_nscopes = 1;
	assert_int_equal(f->drv->apply(f->drv, &a), 0);
	obs = observe(f->drv);
	on = &obs->obs_hosts[0].oh_networks[0];
	assert_int_equal(on->on_nscopes, 1);
	assert_string_equal(on->on_scopes[0], "b");
	assert_int_equal(on->on_mtu, 9000); /* nothing else changed */
	assert_string_equal(on->on_name, "ci");
	xdc_observed_free(obs);
}

/* ---- Slow actions: submit, the loop, reap ---------------------------- */

/* What reap handed over. */
struct reaped {
	uint64_t token;
	int result;
	char *msg;
	int64_t at; /* xdc_ev_now() when it was reaped */
};

/* Reap one, now: 1 when there was one, 0 when none has finished. */
static int
reap_now(struct fx *f, struct reaped *r)
{
	int rc;

	memset(r, 0, sizeof(*r));
	rc = f->drv->reap(f->drv, &r->token, &r->result, &r->msg);
	if (rc == XDC_ENOTFOUND)
		return 0;
	assert_int_equal(rc, 0);
	r->at = xdc_ev_now();
	return 1;
}

/* Run the loop until an action is reaped, for at most limit_ms. */
static void
reap_wait(struct fx *f, struct reaped *r, int64_t limit_ms)
{
	int64_t end = xdc_ev_now() + limit_ms;

	while (!reap_now(f, r)) {
		assert_true(xdc_ev_now() < end);
		assert_true(xdc_ev_run_once(f->ev, 50) >= 0);
	}
}

static void
on_timer(struct xdc_ev_timer *t, void *arg)
{
	(void)t;
	*(int64_t *)arg = xdc_ev_now();
}

/* Without a delay, submit applies at once and the next reap says so. */
static void
test_submit_without_delay_is_done_at_once(void **state)
{
	struct fx *f = *state;
	struct reaped r;
	struct tvm a, b;

	tvm_init(&a, "a", GIB, 1);
	tvm_init(&b, "b", 65 * GIB, 1);
	a.act.a_op = b.act.a_op = XDC_OP_CREATE;
	assert_int_equal(f->drv->submit(f->drv, &a.act, 7), 0);
	assert_int_equal(f->drv->submit(f->drv, &b.act, 8), 0);
	assert_true(has_dom(f, "a"));
	assert_int_equal(reap_now(f, &r), 1);
	assert_int_equal(r.token, 7);
	assert_int_equal(r.result, 0);
	assert_null(r.msg);
	/* A failure comes with its own message. */
	assert_int_equal(reap_now(f, &r), 1);
	assert_int_equal(r.token, 8);
	assert_int_equal(r.result, XDC_EDRIVER);
	assert_non_null(strstr(r.msg, "cannot create b"));
	free(r.msg);
	assert_int_equal(reap_now(f, &r), 0);
}

/*
 * A slow action: submit returns at once, the action is done when the
 * loop's timer fires, no earlier than its delay, and not before reap.
 */
static void
test_slow_action_completes_no_earlier_than_its_delay(void **state)
{
	struct fx *f = *state;
	struct reaped r;
	struct tvm a;
	int64_t t0;

	tvm_init(&a, "a", GIB, 1);
	a.act.a_op = XDC_OP_CREATE;
	assert_int_equal(sim_delay(f->drv, XDC_OP_CREATE, "a", 300, 1), 0);
	t0 = xdc_ev_now();
	assert_int_equal(f->drv->submit(f->drv, &a.act, 1), 0);
	assert_true(xdc_ev_now() - t0 < 100);
	assert_int_equal(reap_now(f, &r), 0);
	assert_false(has_dom(f, "a"));
	reap_wait(f, &r, 5000);
	assert_int_equal(r.token, 1);
	assert_int_equal(r.result, 0);
	assert_true(r.at - t0 >= 300);
	assert_true(has_dom(f, "a"));
	/* Once: the next create of a is quick. */
	assert_int_equal(tvm_do(f, &a, XDC_OP_DESTROY), 0);
	a.act.a_spec = &a.spec;
	t0 = xdc_ev_now();
	assert_int_equal(f->drv->submit(f->drv, &a.act, 2), 0);
	assert_int_equal(reap_now(f, &r), 1);
	assert_true(xdc_ev_now() - t0 < 300);
}

/* A timer armed while a slow action waits fires on time, long before. */
static void
test_a_timer_fires_on_time_while_a_slow_action_waits(void **state)
{
	struct fx *f = *state;
	struct xdc_ev_timer *tm;
	int64_t t0, fired = 0;
	struct reaped r;
	struct tvm a;

	tvm_init(&a, "a", GIB, 1);
	a.act.a_op = XDC_OP_CREATE;
	assert_int_equal(sim_delay(f->drv, XDC_OP_CREATE, "a", 1500, 1), 0);
	t0 = xdc_ev_now();
	assert_int_equal(f->drv->submit(f->drv, &a.act, 1), 0);
	tm = xdc_ev_timer_new(f->ev, on_timer, &fired);
	xdc_ev_timer_in(tm, 100);
	while (fired == 0) {
		assert_int_equal(reap_now(f, &r), 0);
		assert_true(xdc_ev_run_once(f->ev, -1) >= 0);
	}
	assert_true(fired - t0 >= 100);
	assert_true(fired - t0 < 1000);
	assert_int_equal(reap_now(f, &r), 0);
	reap_wait(f, &r, 5000);
	assert_true(r.at - t0 >= 1500);
	xdc_ev_timer_free(tm);
}

/* Two slow actions run side by side: both done in about one delay. */
static void
test_two_slow_actions_overlap(void **state)
{
	struct fx *f = *state;
	struct reaped r1, r2;
	struct tvm a, b;
	int64_t t0;

	tvm_init(&a, "a", GIB, 1);
	tvm_init(&b, "b", GIB, 1);
	a.act.a_op = b.act.a_op = XDC_OP_CREATE;
	assert_int_equal(sim_delay(f->drv, XDC_OP_CREATE, "a", 600, 1), 0);
	assert_int_equal(sim_delay(f->drv, XDC_OP_CREATE, "b", 600, 1), 0);
	t0 = xdc_ev_now();
	assert_int_equal(f->drv->submit(f->drv, &a.act, 1), 0);
	assert_int_equal(f->drv->submit(f->drv, &b.act, 2), 0);
	reap_wait(f, &r1, 5000);
	reap_wait(f, &r2, 5000);
	assert_int_equal(r1.result, 0);
	assert_int_equal(r2.result, 0);
	assert_true(r1.token + r2.token == 3);
	assert_true(r1.at - t0 >= 600 && r2.at - t0 >= 600);
	/* One after the other would take 1200 ms. */
	assert_true(r2.at - t0 < 1100);
	assert_true(has_dom(f, "a") && has_dom(f, "b"));
}

/*
 * While a slow action waits, even inside a batch, the pool's lock is
 * free: another process changes the pool, and the action, when done,
 * reads that change back rather than writing over it.
 */
static void
test_the_lock_is_free_while_a_slow_action_waits(void **state)
{
	struct fx *f = *state;
	struct xdc_driver *other;
	struct tvm a, b;
	struct reaped r;
	char lock[600];
	int fd;

	tvm_init(&a, "a", GIB, 1);
	tvm_init(&b, "b", GIB, 1);
	a.act.a_op = b.act.a_op = XDC_OP_CREATE;
	assert_int_equal(sim_delay(f->drv, XDC_OP_CREATE, "a", 300, 1), 0);
	assert_int_equal(f->drv->begin(f->drv), 0);
	assert_int_equal(f->drv->submit(f->drv, &b.act, 1), 0);
	assert_int_equal(f->drv->submit(f->drv, &a.act, 2), 0);
	assert_int_equal(reap_now(f, &r), 1);
	assert_int_equal(r.token, 1);
	assert_int_equal(reap_now(f, &r), 0);
	snprintf(lock, sizeof(lock), "%s.lock", f->path);
	assert_true((fd = open(lock, O_RDONLY)) >= 0);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
	assert_int_equal(flock(fd, LOCK_UN), 0);
	close(fd);
	/* What the batch did is in the file already. */
	assert_int_equal(sim_open(f->path, NULL, &other), 0);
	assert_int_equal(sim_add_unmanaged(other, "legacy", GIB, NULL), 0);
	assert_true(has_dom(f, "b"));
	other->free(other);
	reap_wait(f, &r, 5000);
	assert_int_equal(r.token, 2);
	assert_int_equal(r.result, 0);
	assert_int_equal(f->drv->end(f->drv), 0);
	assert_true(has_dom(f, "a"));
	assert_true(has_dom(f, "b"));
	assert_true(has_dom(f, "legacy"));
}

/*
 * A slow action whose time is up while another process holds the lock
 * waits for it without holding up the loop, then completes.
 */
static void
test_a_slow_action_never_waits_for_the_lock_in_the_loop(void **state)
{
	struct fx *f = *state;
	struct reaped r;
	struct tvm a;
	char lock[600];
	int64_t t0;
	int fd, i;

	tvm_init(&a, "a", GIB, 1);
	a.act.a_op = XDC_OP_CREATE;
	assert_int_equal(sim_delay(f->drv, XDC_OP_CREATE, "a", 50, 1), 0);
	assert_int_equal(f->drv->submit(f->drv, &a.act, 1), 0);
	snprintf(lock, sizeof(lock), "%s.lock", f->path);
	assert_true((fd = open(lock, O_RDONLY)) >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	t0 = xdc_ev_now();
	for (i = 0; i < 20; i++) {
		assert_true(xdc_ev_run_once(f->ev, 20) >= 0);
		assert_int_equal(reap_now(f, &r), 0);
	}
	/* Twenty rounds of 20 ms at most, none of them stuck in flock. */
	assert_true(xdc_ev_now() - t0 < 2000);
	assert_int_equal(flock(fd, LOCK_UN), 0);
	close(fd);
	reap_wait(f, &r, 5000);
	assert_int_equal(r.result, 0);
	assert_true(has_dom(f, "a"));
}

/* Freed with a slow action waiting: the pool is as if it never ran. */
static void
test_freeing_abandons_a_slow_action(void **state)
{
	struct fx *f = *state;
	unsigned armed = 1;
	struct tvm a;

	tvm_init(&a, "a", GIB, 1);
	a.act.a_op = XDC_OP_CREATE;
	assert_int_equal(sim_delay(f->drv, XDC_OP_CREATE, "a", 200, 1), 0);
	assert_int_equal(f->drv->submit(f->drv, &a.act, 1), 0);
	f->drv->free(f->drv);
	(void)xdc_ev_count(f->ev, &armed);
	assert_int_equal(armed, 0);
	assert_int_equal(sim_open(f->path, NULL, &f->drv), 0);
	assert_true(xdc_ev_run_once(f->ev, 300) >= 0);
	assert_false(has_dom(f, "a"));
}

/* apply, the synchronous way, takes the time itself; the fault still fails. */
static void
test_apply_of_a_slow_action_takes_its_time(void **state)
{
	struct fx *f = *state;
	struct tvm a;
	int64_t t0;

	tvm_init(&a, "a", GIB, 1);
	assert_int_equal(sim_delay(f->drv, XDC_OP_CREATE, "a", 200, 2), 0);
	assert_int_equal(sim_fail(f->drv, XDC_OP_CREATE, "a", 1), 0);
	t0 = xdc_ev_now();
	assert_int_equal(tvm_do(f, &a, XDC_OP_CREATE), XDC_EDRIVER);
	assert_true(xdc_ev_now() - t0 >= 200);
	assert_string_equal(xdc_error_last(), "injected fault: create a");
	assert_int_equal(tvm_do(f, &a, XDC_OP_CREATE), 0);
	assert_true(xdc_ev_now() - t0 >= 400);
	assert_true(has_dom(f, "a"));
}

/* A delay is in the file, for another process, and can be taken back. */
static void
test_a_delay_survives_in_the_file(void **state)
{
	struct fx *f = *state;
	struct xdc_driver *other;
	char *text, *again = NULL;

	assert_int_equal(sim_delay(f->drv, XDC_OP_STOP, "a", 2500, 3), 0);
	text = slurp(f->path);
	assert_non_null(strstr(text, "\"slow\""));
	assert_non_null(strstr(text, "\"ms\": 2500"));
	assert_int_equal(sim_parse_pool("t", text, strlen(text), &again), 0);
	assert_string_equal(text, again);
	free(text);
	free(again);
	assert_int_equal(sim_open(f->path, NULL, &other), 0);
	assert_int_equal(sim_delay(other, XDC_OP_STOP, "a", 2500, 0), 0);
	other->free(other);
	text = slurp(f->path);
	assert_null(strstr(text, "\"slow\""));
	free(text);
	assert_int_equal(sim_delay(f->drv, XDC_OP__COUNT, "a", 1, 1), XDC_ERR);
	assert_int_equal(
	    sim_delay(f->drv, XDC_OP_STOP, "a", 25 * 3600 * 1000ULL, 1),
	    XDC_ERR);
	assert_error_has("at most");
}

/* ---- Unmanaged domains ---------------------------------------------- */

static void
test_add_unmanaged_beyond_free_memory_fails(void **state)
{
	struct fx *f = *state;

	assert_int_equal(
	    sim_add_unmanaged(f->drv, "big", 65 * GIB, NULL), XDC_EDRIVER);
	assert_false(has_dom(f, "big"));
	assert_int_equal(
	    sim_add_unmanaged(f->drv, "x", GIB, "nohost"), XDC_ENOTFOUND);
	assert_int_equal(sim_add_unmanaged(f->drv, "x", GIB, "local"), 0);
	assert_int_equal(sim_add_unmanaged(f->drv, "x", GIB, "local"), XDC_ERR);
}

/* ---- Migration ------------------------------------------------------- */

/* A pool of xen-a (64GiB, 16 CPUs) and xen-b (4GiB, 2 CPUs). */
static int
setup_two(void **state)
{
	struct xdc_host hosts[2];
	struct xdc_config cfg;
	struct fx *f;

	if (setup_dir(state) != 0)
		return -1;
	f = *state;
	memset(hosts, 0, sizeof(hosts));
	memset(&cfg, 0, sizeof(cfg));
	hosts[0].h_name = "xen-a";
	hosts[1].h_name = "xen-b";
	hosts[1].h_memory = 4 * GIB;
	hosts[1].h_cpus = 2;
	cfg.cfg_hosts = hosts;
	cfg.cfg_nhosts = 2;
	return sim_open(f->path, &cfg, &f->drv);
}

/* The domain name on host, copied out of an observation (0s when none). */
static struct xdc_obs_domain
dom_on(struct fx *f, const char *host, const char *name)
{
	struct xdc_observed *obs = observe(f->drv);
	const struct xdc_obs_domain *d =
	    xdc_obs_host_domain(xdc_observed_host(obs, host), name);
	struct xdc_obs_domain out;

	memset(&out, 0, sizeof(out));
	if (d != NULL) {
		out = *d;
		out.od_name = "";
		out.od_nics = NULL;
		memset(&out.od_build, 0, sizeof(out.od_build));
	}
	xdc_observed_free(obs);
	return out;
}

static uint64_t
free_on(struct fx *f, const char *host)
{
	struct xdc_observed *obs = observe(f->drv);
	uint64_t n = xdc_observed_host(obs, host)->oh_free_memory;

	xdc_observed_free(obs);
	return n;
}

static int
migrate(struct fx *f, struct tvm *t, const char *from, const char *to)
{
	t->act.a_op = XDC_OP_MIGRATE;
	t->act.a_host = from;
	t->act.a_to_host = to;
	t->act.a_spec = &t->spec;
	return f->drv->apply(f->drv, &t->act);
}

static void
test_sim_can_migrate(void **state)
{
	struct fx *f = *state;

	assert_true(f->drv->caps & XDC_DRV_MIGRATE);
}

/* One host's file cannot reach the others': no migrate is planned. */
static void
test_one_hosts_sim_cannot_migrate(void **state)
{
	struct fx *f = *state;
	struct xdc_driver *one = NULL;
	struct xdc_host hosts[2];
	struct xdc_config cfg;
	struct tvm t;

	cfg_ab(&cfg, hosts);
	assert_int_equal(sim_open_host(f->path, &cfg, "xen-a", &one), 0);
	assert_false(one->caps & XDC_DRV_MIGRATE);
	tvm_init(&t, "m", GIB, 1);
	t.act.a_op = XDC_OP_CREATE;
	t.act.a_host = "xen-a";
	assert_int_equal(one->apply(one, &t.act), 0);
	t.act.a_op = XDC_OP_MIGRATE;
	t.act.a_to_host = "xen-b";
	assert_int_equal(one->apply(one, &t.act), XDC_EDRIVER);
	assert_non_null(strstr(xdc_error_last(), "not in this pool file"));
	one->free(one);
}

static void
test_migrate_moves_the_running_domain_with_its_marker(void **state)
{
	struct fx *f = *state;
	struct xdc_obs_domain before, after;
	struct xdc_driver *again = NULL;
	struct xdc_observed *obs;
	struct tvm t;

	tvm_init(&t, "web", 2 * GIB, 2);
	t.spec.ds_protect = 1;
	t.act.a_host = "xen-a";
	assert_int_equal(tvm_do(f, &t, XDC_OP_CREATE), 0);
	before = dom_on(f, "xen-a", "web");
	assert_int_equal(free_on(f, "xen-a"), 62 * GIB);
	assert_int_equal(migrate(f, &t, "xen-a", "xen-b"), 0);
	assert_int_equal(dom_on(f, "xen-a", "web").od_domid, 0);
	after = dom_on(f, "xen-b", "web");
	assert_true(after.od_domid > before.od_domid);
	assert_int_equal(after.od_state, XDC_DOM_RUNNING);
	assert_true(after.od_managed);
	assert_true(after.od_protect);
	assert_int_equal(after.od_hash, 0x1234);
	assert_int_equal(after.od_memory, 2 * GIB);
	assert_int_equal(after.od_vcpus, 2);
	assert_int_equal(free_on(f, "xen-a"), 64 * GIB);
	assert_int_equal(free_on(f, "xen-b"), 2 * GIB);
	/* The file says the same to another process. */
	assert_int_equal(sim_open(f->path, NULL, &again), 0);
	obs = observe(again);
	assert_null(
	    xdc_obs_host_domain(xdc_observed_host(obs, "xen-a"), "web"));
	assert_non_null(
	    xdc_obs_host_domain(xdc_observed_host(obs, "xen-b"), "web"));
	xdc_observed_free(obs);
	again->free(again);
	/* Done already is done. */
	assert_int_equal(migrate(f, &t, "xen-a", "xen-b"), 0);
	assert_int_equal(dom_on(f, "xen-b", "web").od_domid, after.od_domid);
}

/* Each refusal says why and leaves the domain running where it was. */
static void
test_migrate_refusals_leave_the_domain(void **state)
{
	struct fx *f = *state;
	struct tvm big, t, other;
	uint32_t id;

	tvm_init(&big, "big", 8 * GIB, 1);
	big.act.a_host = "xen-a";
	assert_int_equal(tvm_do(f, &big, XDC_OP_CREATE), 0);
	id = dom_on(f, "xen-a", "big").od_domid;
	assert_int_equal(migrate(f, &big, "xen-a", "xen-b"), XDC_EDRIVER);
	assert_error_has("host xen-a: cannot migrate big to host xen-b: it "
	                 "needs 8GiB of memory and 4GiB is free there");
	assert_int_equal(migrate(f, &big, "xen-a", "xen-z"), XDC_EDRIVER);
	assert_error_has("cannot migrate big to host xen-z: it is not in this "
	                 "pool file");
	assert_int_equal(migrate(f, &big, "xen-a", "xen-a"), XDC_EDRIVER);
	assert_error_has("it is on that host already");

	tvm_init(&t, "wide", GIB, 4);
	t.act.a_host = "xen-a";
	assert_int_equal(tvm_do(f, &t, XDC_OP_CREATE), 0);
	assert_int_equal(migrate(f, &t, "xen-a", "xen-b"), XDC_EDRIVER);
	assert_error_has("it has 4 vCPUs, the host has 2 CPUs");

	tvm_init(&t, "web", GIB, 1);
	t.act.a_host = "xen-a";
	assert_int_equal(tvm_do(f, &t, XDC_OP_CREATE), 0);
	tvm_init(&other, "web", GIB, 1);
	other.act.a_host = "xen-b";
	assert_int_equal(tvm_do(f, &other, XDC_OP_CREATE), 0);
	assert_int_equal(migrate(f, &t, "xen-a", "xen-b"), XDC_EDRIVER);
	assert_error_has("host xen-b has a domain of that name");
	t.act.a_op = XDC_OP_PAUSE;
	assert_int_equal(f->drv->apply(f->drv, &t.act), 0);
	assert_int_equal(migrate(f, &t, "xen-a", "xen-b"), XDC_EDRIVER);
	assert_error_has("cannot migrate web: it is paused");

	assert_int_equal(dom_on(f, "xen-a", "big").od_domid, id);
	assert_int_equal(dom_on(f, "xen-a", "big").od_state, XDC_DOM_RUNNING);
	assert_int_equal(dom_on(f, "xen-a", "wide").od_state, XDC_DOM_RUNNING);
	assert_int_equal(dom_on(f, "xen-a", "web").od_state, XDC_DOM_PAUSED);
	assert_int_equal(free_on(f, "xen-b"), 3 * GIB);
}

static void
test_migrate_of_an_unmanaged_domain_is_refused(void **state)
{
	struct fx *f = *state;
	struct tvm t;

	assert_int_equal(sim_add_unmanaged(f->drv, "legacy", GIB, "xen-a"), 0);
	tvm_init(&t, "legacy", GIB, 1);
	assert_int_equal(migrate(f, &t, "xen-a", "xen-b"), XDC_EDRIVER);
	assert_error_has("xdc does not manage it");
	assert_int_equal(dom_on(f, "xen-b", "legacy").od_domid, 0);
}

static void
test_migrate_fault_is_injected(void **state)
{
	struct fx *f = *state;
	struct tvm t;

	tvm_init(&t, "web", GIB, 1);
	t.act.a_host = "xen-a";
	assert_int_equal(tvm_do(f, &t, XDC_OP_CREATE), 0);
	assert_int_equal(sim_fail(f->drv, XDC_OP_MIGRATE, "web", 1), 0);
	assert_int_equal(migrate(f, &t, "xen-a", "xen-b"), XDC_EDRIVER);
	assert_error_has("injected fault: migrate web");
	assert_int_equal(dom_on(f, "xen-a", "web").od_state, XDC_DOM_RUNNING);
	assert_int_equal(migrate(f, &t, "xen-a", "xen-b"), 0);
	assert_int_equal(dom_on(f, "xen-b", "web").od_state, XDC_DOM_RUNNING);
}

#define T(fn)  cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define TE(fn) cmocka_unit_test_setup_teardown(fn, setup_ev, teardown)
#define TD(fn) cmocka_unit_test_setup_teardown(fn, setup_dir, teardown)
#define T2(fn) cmocka_unit_test_setup_teardown(fn, setup_two, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_default_pool_is_local_16_cpus_64gib),
		TD(test_pool_is_created_from_cfg_hosts),
		T(test_existing_pool_gains_declared_hosts_and_capacities),
		TD(test_one_hosts_pool_holds_that_host_alone),
		TD(test_one_host_of_a_shared_file_sees_itself_only),
		TD(test_one_hosts_pool_needs_a_host),
		T(test_create_records_everything_observe_reports),
		T(test_create_without_weight_gets_the_default),
		T(test_create_paused_vm_is_paused),
		T(test_domids_increase_and_are_never_reused),
		T(test_create_beyond_free_memory_fails_and_changes_nothing),
		T(test_create_with_more_vcpus_than_cpus_fails),
		T(test_create_again_with_same_hash_is_done),
		T(test_create_over_a_different_domain_fails),
		T(test_apply_on_unknown_host_is_not_found),
		T(test_destroy_frees_memory_and_gone_is_done),
		T(test_destroy_refuses_unmanaged),
		T(test_destroy_refuses_domain0),
		T(test_update_memory_within_max_memory),
		T(test_update_memory_increase_must_fit_free_memory),
		T(test_update_changes_only_what_is_flagged),
		T(test_update_vcpus_above_max_vcpus_fails),
		T(test_update_marker_and_nics),
		T(test_update_refuses_unmanaged),
		T(test_adopt_marks_managed_with_hash_protect_and_build),
		T(test_adopt_with_tuning_checks_first),
		T(test_adopt_refuses_domain0_and_another_spec),
		T(test_replace_gives_new_domid_and_keeps_name),
		T(test_replace_counts_old_memory_as_freed),
		T(test_crash_keeps_memory_then_restart_runs_with_new_domid),
		T(test_start_crashed_domain_runs_and_running_is_done),
		T(test_crash_of_unknown_domain_is_not_found),
		T(test_pause_and_unpause_are_idempotent),
		T(test_pause_of_crashed_domain_fails),
		T(test_stop_removes_the_domain),
		T(test_fault_fails_exactly_n_times_then_succeeds),
		T(test_fault_survives_in_the_file),
		T(test_file_after_end_is_valid_json_and_reopens_the_same),
		T(test_same_pool_writes_the_same_bytes),
		T(test_batch_of_1000_creates_writes_the_file_once),
		T(test_sync_writes_the_batch_so_far),
		T(test_begin_rereads_what_another_process_wrote),
		T(test_first_observe_sees_a_write_after_open),
		T(test_first_observe_sees_an_edit_in_place),
		T(test_begin_after_observe_sees_a_write_in_between),
		TD(test_invalid_json_is_an_error_naming_the_file),
		TD(test_json_that_is_not_a_pool_is_an_error),
		TD(test_parse_pool_writes_back_what_it_reads),
		TD(test_a_writer_removes_temporary_files_of_killed_writers),
		TD(test_a_reader_creates_no_file),
		TD(test_a_fifo_as_the_pool_is_refused),
		TD(test_a_link_at_the_lock_path_is_refused),
		TD(test_a_missing_directory_is_named),
		TD(test_domain0_is_the_domain_with_id_0),
		TD(test_an_older_pool_file_reads),
		TD(test_power_off_leaves_the_host_with_domain0_alone),
		TD(test_power_off_of_a_host_not_in_the_file_fails),
		TD(test_a_watchdog_not_petted_reboots_the_host),
		TD(test_a_pet_after_the_deadline_is_too_late),
		TD(test_a_watchdog_petted_in_time_keeps_the_host),
		TD(test_a_disarmed_watchdog_does_nothing),
		TD(test_a_watchdog_is_one_hosts_and_in_range),
		TD(test_power_off_disarms_the_watchdog),
		TD(test_a_pet_wakes_no_watch_but_another_write_does),
		TD(test_a_pet_in_a_batch_is_written_at_once),
		T(test_network_create_update_destroy),
		T(test_networks_are_sorted_by_bridge),
		TD(test_network_refuses_unmanaged_bridge),
		T(test_marker_records_scope_and_times_across_a_reopen),
		TD(test_pool_older_than_scopes_is_the_default_scopes),
		T(test_network_scopes_join_and_leave),
		T(test_add_unmanaged_beyond_free_memory_fails),
		T2(test_sim_can_migrate),
		TD(test_one_hosts_sim_cannot_migrate),
		T2(test_migrate_moves_the_running_domain_with_its_marker),
		T2(test_migrate_refusals_leave_the_domain),
		T2(test_migrate_of_an_unmanaged_domain_is_refused),
		T2(test_migrate_fault_is_injected),
		TE(test_submit_without_delay_is_done_at_once),
		TE(test_slow_action_completes_no_earlier_than_its_delay),
		TE(test_a_timer_fires_on_time_while_a_slow_action_waits),
		TE(test_two_slow_actions_overlap),
		TE(test_the_lock_is_free_while_a_slow_action_waits),
		TE(test_a_slow_action_never_waits_for_the_lock_in_the_loop),
		TE(test_freeing_abandons_a_slow_action),
		T(test_apply_of_a_slow_action_takes_its_time),
		T(test_a_delay_survives_in_the_file),
	};

	return cmocka_run_group_tests_name("drivers/sim", tests, NULL, NULL);
}
