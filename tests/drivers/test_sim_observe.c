/*
 * What the sim driver's observe reports (sim_pool_observe in
 * drivers/sim_pool.c): copies of the hosts and networks, each host's
 * domains borrowed whole (the host copies them before its next change),
 * their strings and arrays borrowed from the pool's arena. The observation
 * must keep saying what it saw however the pool changes after it, and
 * what it borrows must outlive a pool freed or read again (ASan, in `make
 * check`, sees a string freed early; the counts below see it anywhere).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/arena.h"
#include "base/error.h"
#include "drivers/driver.h"
#include "drivers/sim.h"
#include "drivers/sim_file.h"
#include "drivers/sim_pool.h"
#include "schema/model.h"
#include "tests/drivers/tvm.h"

#define GIB (1024ULL * 1024 * 1024)

static const struct xdc_obs_domain *
dom_of(const struct xdc_observed *obs, const char *name)
{
	return xdc_obs_host_domain(
	    xdc_observed_host(obs, XDC_LOCAL_HOST), name);
}

static int
vm_do(struct sim_pool *p, struct tvm *t, enum xdc_op op, unsigned update)
{
	t->act.a_op = op;
	t->act.a_update = update;
	t->act.a_spec = op == XDC_OP_DESTROY ? NULL : &t->spec;
	return sim_pool_apply(p, &t->act);
}

static int
net_do(struct sim_pool *p, const struct xdc_network *n, enum xdc_op op,
    const char *const *scopes, size_t nscopes)
{
	struct xdc_action a;

	memset(&a, 0, sizeof(a));
	a.a_op = op;
	a.a_kind = XDC_OBJ_NETWORK;
	a.a_name = n->n_name;
	a.a_host = XDC_LOCAL_HOST;
	a.a_net = n;
	a.a_bridge = n->n_bridge;
	a.a_scopes = scopes;
	a.a_nscopes = nscopes;
	return sim_pool_apply(p, &a);
}

/* A pool of host "local" with VMs a and b on xdc-dmz, and network dmz. */
static struct sim_pool *
pool_two(struct tvm *a, struct tvm *b, const struct xdc_network *dmz)
{
	static const char *const one[] = { "team-a" };
	struct sim_pool *p = sim_pool_default(NULL, 0);

	tvm_init(a, "a", GIB, 1);
	tvm_init(b, "b", GIB, 1);
	assert_int_equal(vm_do(p, a, XDC_OP_CREATE, 0), 0);
	assert_int_equal(vm_do(p, b, XDC_OP_CREATE, 0), 0);
	assert_int_equal(net_do(p, dmz, XDC_OP_CREATE, one, 1), 0);
	return p;
}

static void
test_observation_keeps_what_it_saw_while_the_pool_changes(void **state)
{
	static const char *const two[] = { "team-a", "team-b" };
	struct xdc_network dmz = { .n_name = "dmz", .n_bridge = "xdc-dmz" };
	struct tvm a, b;
	struct sim_pool *p = pool_two(&a, &b, &dmz);
	struct xdc_observed *before = sim_pool_observe(p, NULL), *after;
	const struct xdc_obs_domain *d;
	const struct xdc_obs_network *n;

	(void)state;
	/* a's NICs move to another bridge; b goes; dmz gains a scope. */
	a.bridges[0] = "xdc-lan";
	a.vm.vm_memory = GIB / 2;
	assert_int_equal(
	    vm_do(p, &a, XDC_OP_UPDATE, XDC_UPD_NICS | XDC_UPD_MEMORY), 0);
	assert_int_equal(vm_do(p, &b, XDC_OP_DESTROY, 0), 0);
	assert_int_equal(net_do(p, &dmz, XDC_OP_UPDATE, two, 2), 0);
	after = sim_pool_observe(p, NULL);

	d = dom_of(before, "a");
	assert_non_null(d);
	assert_int_equal(d->od_nnics, 1);
	assert_string_equal(d->od_nics[0].on_bridge, "xdc-dmz");
	assert_int_equal(d->od_memory, GIB);
	assert_non_null(dom_of(before, "b"));
	n = &before->obs_hosts[0].oh_networks[0];
	assert_int_equal(before->obs_hosts[0].oh_nnetworks, 1);
	assert_int_equal(n->on_nscopes, 1);
	assert_string_equal(n->on_scopes[0], "team-a");

	d = dom_of(after, "a");
	assert_string_equal(d->od_nics[0].on_bridge, "xdc-lan");
	assert_int_equal(d->od_memory, GIB / 2);
	assert_null(dom_of(after, "b"));
	n = &after->obs_hosts[0].oh_networks[0];
	assert_int_equal(n->on_nscopes, 2);
	assert_string_equal(n->on_scopes[1], "team-b");
	/* Both borrow: the pool's own kernel string, not a copy of it. */
	assert_ptr_equal(
	    dom_of(before, "a")->od_build.ob_kernel, d->od_build.ob_kernel);
	xdc_observed_free(before);
	xdc_observed_free(after);
	sim_pool_free(p);
}

static void
test_observation_holds_the_pools_arena_until_freed(void **state)
{
	struct xdc_network dmz = { .n_name = "dmz", .n_bridge = "xdc-dmz" };
	struct tvm a, b;
	struct sim_pool *p = pool_two(&a, &b, &dmz);
	struct sim_store *st = p->p_store;
	struct xdc_observed *o1, *o2;
	const struct xdc_obs_domain *d;

	(void)state;
	assert_int_equal(st->st_refs, 1);
	o1 = sim_pool_observe(p, NULL);
	o2 = sim_pool_observe(p, XDC_LOCAL_HOST);
	assert_int_equal(st->st_refs, 3);
	xdc_observed_free(o2);
	assert_int_equal(st->st_refs, 2);
	/* The pool goes first: what o1 borrowed stays until o1 goes. */
	sim_pool_free(p);
	assert_int_equal(st->st_refs, 1);
	d = dom_of(o1, "b");
	assert_non_null(d);
	assert_string_equal(d->od_name, "b");
	assert_string_equal(d->od_scope, XDC_SCOPE_DEFAULT);
	assert_string_equal(d->od_build.ob_kernel, "/boot/vmlinuz");
	assert_string_equal(d->od_build.ob_cmdline, "console=hvc0");
	assert_int_equal(d->od_build.ob_ndisks, 1);
	assert_string_equal(d->od_build.ob_disks[0].d_target, "/dev/vg0/disk");
	assert_string_equal(d->od_nics[0].on_bridge, "xdc-dmz");
	assert_string_equal(o1->obs_hosts[0].oh_name, XDC_LOCAL_HOST);
	assert_string_equal(
	    o1->obs_hosts[0].oh_networks[0].on_scopes[0], "team-a");
	xdc_observed_free(o1);
}

/*
 * A host's domains are lent, not copied: the observation points at the
 * host's own array until the host changes, which copies it first; a
 * crash, a power-off and a migration after two observations leave each
 * saying what it saw.
 */
static void
test_observation_borrows_a_hosts_domains_until_it_changes(void **state)
{
	static const struct sim_cfg_host two[] = { { "h1", 0, 0 },
		{ "h2", 0, 0 } };
	struct tvm a, b;
	struct sim_pool *p = sim_pool_default(two, 2);
	struct xdc_observed *o1, *o2;
	struct sim_doms *lent;
	const struct xdc_obs_host *oh;

	(void)state;
	tvm_init(&a, "a", GIB, 1);
	tvm_init(&b, "b", GIB, 1);
	a.act.a_host = b.act.a_host = "h1";
	assert_int_equal(vm_do(p, &a, XDC_OP_CREATE, 0), 0);
	assert_int_equal(vm_do(p, &b, XDC_OP_CREATE, 0), 0);
	o1 = sim_pool_observe(p, NULL);
	lent = p->p_hosts[0].sh_doms;
	oh = xdc_observed_host(o1, "h1");
	assert_ptr_equal(oh->oh_domains, &lent->ds_v[0].sd_d);
	assert_int_equal(lent->ds_refs, 2);

	assert_int_equal(sim_pool_crash(p, "a"), 0);
	assert_ptr_not_equal(p->p_hosts[0].sh_doms, lent);
	assert_int_equal(lent->ds_refs, 1);
	assert_int_equal(
	    xdc_obs_host_domain(oh, "a")->od_state, XDC_DOM_RUNNING);
	o2 = sim_pool_observe(p, NULL);
	assert_int_equal(
	    xdc_obs_host_domain(xdc_observed_host(o2, "h1"), "a")->od_state,
	    XDC_DOM_CRASHED);

	/* b runs on h2, then h1 loses its power. */
	b.act.a_op = XDC_OP_MIGRATE;
	b.act.a_to_host = "h2";
	b.act.a_spec = &b.spec;
	assert_int_equal(sim_pool_apply(p, &b.act), 0);
	assert_int_equal(sim_pool_power_off(p, "h1", NULL), 0);
	assert_int_equal(p->p_hosts[0].sh_ndoms, 1);
	assert_int_equal(p->p_hosts[1].sh_ndoms, 2);

	assert_int_equal(oh->oh_ndomains, 3);
	assert_non_null(xdc_obs_host_domain(oh, "b"));
	assert_null(xdc_obs_host_domain(xdc_observed_host(o1, "h2"), "b"));
	oh = xdc_observed_host(o2, "h1");
	assert_int_equal(oh->oh_ndomains, 3);
	assert_int_equal(
	    xdc_obs_host_domain(oh, "a")->od_state, XDC_DOM_CRASHED);
	xdc_observed_free(o1);
	sim_pool_free(p);
	assert_string_equal(xdc_obs_host_domain(oh, "b")->od_name, "b");
	xdc_observed_free(o2);
}

/*
 * What repeats across domains is kept once in the pool (sim_pool_share):
 * two VMs booting one kernel on one bridge point at one copy of each,
 * and what differs (names, disk targets) stays apart.
 */
static void
test_repeated_strings_are_kept_once(void **state)
{
	struct xdc_network dmz = { .n_name = "dmz", .n_bridge = "xdc-dmz" };
	struct tvm a, b;
	struct sim_pool *p = pool_two(&a, &b, &dmz);
	struct xdc_observed *obs = sim_pool_observe(p, NULL);
	const struct xdc_obs_domain *x = dom_of(obs, "a"),
	                            *y = dom_of(obs, "b");

	(void)state;
	assert_ptr_equal(x->od_build.ob_kernel, y->od_build.ob_kernel);
	assert_ptr_equal(x->od_build.ob_cmdline, y->od_build.ob_cmdline);
	assert_ptr_equal(x->od_nics[0].on_bridge, y->od_nics[0].on_bridge);
	assert_ptr_equal(x->od_nics[0].on_bridge,
	    obs->obs_hosts[0].oh_networks[0].on_bridge);
	assert_ptr_equal(x->od_scope, y->od_scope);
	assert_ptr_equal(
	    x->od_build.ob_disks[0].d_vdev, y->od_build.ob_disks[0].d_vdev);
	/* Not the caller's strings: the pool's own copies. */
	assert_ptr_not_equal(x->od_build.ob_kernel, a.vm.vm_kernel);
	assert_ptr_not_equal(x->od_name, y->od_name);
	assert_ptr_not_equal(
	    x->od_build.ob_disks[0].d_target, y->od_build.ob_disks[0].d_target);
	xdc_observed_free(obs);
	sim_pool_free(p);
}

/* Likewise for a pool read from its file, by the event reader. */
static void
test_a_pool_read_keeps_repeated_strings_once(void **state)
{
	struct xdc_network dmz = { .n_name = "dmz", .n_bridge = "xdc-dmz" };
	struct tvm a, b;
	struct sim_pool *p = pool_two(&a, &b, &dmz), *q = NULL;
	struct xdc_observed *obs;
	const struct xdc_obs_domain *x, *y;
	char *text = NULL;
	size_t len;

	(void)state;
	assert_int_equal(sim_file_text("pool", p, &text, &len), 0);
	assert_int_equal(sim_file_parse("pool", text, len, &q), 0);
	obs = sim_pool_observe(q, NULL);
	x = dom_of(obs, "a");
	y = dom_of(obs, "b");
	assert_non_null(x);
	assert_non_null(y);
	assert_string_equal(x->od_build.ob_kernel, "/boot/vmlinuz");
	assert_ptr_equal(x->od_build.ob_kernel, y->od_build.ob_kernel);
	assert_ptr_equal(x->od_build.ob_cmdline, y->od_build.ob_cmdline);
	assert_ptr_equal(x->od_nics[0].on_bridge, y->od_nics[0].on_bridge);
	assert_ptr_equal(x->od_scope, y->od_scope);
	assert_ptr_not_equal(x->od_name, y->od_name);
	xdc_observed_free(obs);
	sim_pool_free(q);
	sim_pool_free(p);
	free(text);
}

/* Domain-0 has no NICs and no disks: empty arrays, as a copy gave. */
static void
test_domain0s_empty_arrays_are_not_null(void **state)
{
	struct sim_pool *p = sim_pool_default(NULL, 0);
	struct xdc_observed *obs = sim_pool_observe(p, NULL);
	const struct xdc_obs_domain *d = dom_of(obs, SIM_DOM0_NAME);

	(void)state;
	assert_non_null(d);
	assert_int_equal(d->od_nnics, 0);
	assert_non_null(d->od_nics);
	assert_int_equal(d->od_build.ob_ndisks, 0);
	assert_non_null(d->od_build.ob_disks);
	xdc_observed_free(obs);
	sim_pool_free(p);
}

/*
 * Through the driver: another process's write makes the next observe
 * read the file again and free the pool the first observation borrowed
 * from; then the driver itself goes. The first observation still says
 * what it saw.
 */
static void
test_observation_outlives_a_pool_read_again_and_the_driver(void **state)
{
	char dir[] = "/tmp/xdc-test-sim-observe.XXXXXX", path[96], lock[112];
	struct xdc_driver *one = NULL, *other = NULL;
	struct xdc_observed *seen, *now;
	const struct xdc_obs_domain *d;
	struct tvm a, b;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sim.json", dir);
	snprintf(lock, sizeof(lock), "%s.lock", path);
	assert_int_equal(sim_open(path, NULL, &one), 0);
	tvm_init(&a, "a", GIB, 1);
	a.act.a_op = XDC_OP_CREATE;
	assert_int_equal(one->apply(one, &a.act), 0);
	assert_int_equal(one->observe(one, &seen), 0);

	assert_int_equal(sim_open(path, NULL, &other), 0);
	a.act.a_op = XDC_OP_DESTROY;
	a.act.a_spec = NULL;
	assert_int_equal(other->apply(other, &a.act), 0);
	tvm_init(&b, "b", GIB, 1);
	b.act.a_op = XDC_OP_CREATE;
	assert_int_equal(other->apply(other, &b.act), 0);
	other->free(other);

	assert_int_equal(one->observe(one, &now), 0);
	assert_null(dom_of(now, "a"));
	assert_non_null(dom_of(now, "b"));
	xdc_observed_free(now);
	one->free(one);

	d = dom_of(seen, "a");
	assert_non_null(d);
	assert_string_equal(d->od_name, "a");
	assert_string_equal(d->od_build.ob_kernel, "/boot/vmlinuz");
	assert_string_equal(d->od_nics[0].on_bridge, "xdc-dmz");
	assert_null(dom_of(seen, "b"));
	xdc_observed_free(seen);
	unlink(path);
	unlink(lock);
	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_observation_keeps_what_it_saw_while_the_pool_changes),
		cmocka_unit_test(
		    test_observation_holds_the_pools_arena_until_freed),
		cmocka_unit_test(
		    test_observation_borrows_a_hosts_domains_until_it_changes),
		cmocka_unit_test(test_repeated_strings_are_kept_once),
		cmocka_unit_test(test_a_pool_read_keeps_repeated_strings_once),
		cmocka_unit_test(test_domain0s_empty_arrays_are_not_null),
		cmocka_unit_test(
		    test_observation_outlives_a_pool_read_again_and_the_driver),
	};

	return cmocka_run_group_tests_name(
	    "drivers/sim_observe", tests, NULL, NULL);
}
