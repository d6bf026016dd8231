/*
 * The sim driver's pool file writer (drivers/sim_file.c): its text is
 * the whole pool laid out as jansson's JSON_INDENT(2) but for each domain
 * and network on a line of its own, then a newline, and a write after a
 * change, which encodes again only the hosts changed
 * since the last write, gives the same bytes as a full encode.
 *
 * The pool is built and changed in memory here, through sim_pool.h, as
 * the driver changes it: every kind of change to a host is made once,
 * and each is followed by a write compared with sim_file_text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/error.h"
#include "base/file.h"
#include "drivers/driver.h"
#include "drivers/sim_file.h"
#include "drivers/sim_pool.h"
#include "schema/model.h"
#include "tests/drivers/tvm.h"

#define GIB (1024ULL * 1024 * 1024)

struct fx {
	char dir[64];
	char path[96];
	struct sim_pool *p;
};

/* tvm_init's VM, its action on host. */
static void
tvm_on(struct tvm *t, const char *name, const char *host)
{
	tvm_init(t, name, GIB, 1);
	t->act.a_host = host;
}

static int
tvm_do(struct fx *f, struct tvm *t, enum xdc_op op)
{
	t->act.a_op = op;
	t->act.a_spec = op == XDC_OP_DESTROY ? NULL : &t->spec;
	return sim_pool_apply(f->p, &t->act);
}

static const struct sim_cfg_host cfg_hosts[] = {
	{ "xen-a", 16 * GIB, 8 },
	{ "xen-b", 16 * GIB, 8 },
	{ "xen-c", 16 * GIB, 8 },
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/xdc-test-sim-file.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/pool.json", f->dir);
	f->p = sim_pool_default(cfg_hosts, 3);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	sim_pool_free(f->p);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

/*
 * The domains and networks of root's hosts: each must sit on a line of
 * its own in text, the line (less its indentation and comma) the JSON of
 * that one object, in order.
 */
static void
one_a_line(const char *text, json_t *root)
{
	json_t *hosts = json_object_get(root, "hosts"), *h, *e, *line;
	const char *arrays[] = { "domains", "networks" }, *p = text, *nl;
	char buf[8192];
	size_t i, j, k, n, seen = 0, want = 0;

	json_array_foreach(hosts, i, h) for (k = 0; k < 2; k++)
	    json_array_foreach(json_object_get(h, arrays[k]), j, e)
	{
		/* The next line that holds an object alone. */
		for (;; p = nl + 1) {
			assert_non_null(nl = strchr(p, '\n'));
			n = (size_t)(nl - p);
			if (n > 8 && !strncmp(p, "        {", 9))
				break;
		}
		n -= 8 + (p[n - 1] == ',');
		assert_true(n < sizeof(buf));
		memcpy(buf, p + 8, n);
		buf[n] = '\0';
		assert_non_null(line = json_loads(buf, 0, NULL));
		assert_true(json_equal(line, e));
		json_decref(line);
		p = nl + 1;
		seen++;
	}
	json_array_foreach(hosts, i, h) for (k = 0; k < 2; k++) want +=
	    json_array_size(json_object_get(h, arrays[k]));
	assert_int_equal(seen, want);
}

/*
 * The text of a full encode: JSON, laid out as jansson's JSON_INDENT(2)
 * but for each domain and network on a line of its own.
 */
static char *
full_text(struct fx *f)
{
	char *text = NULL, *again;
	json_t *root, *reread;
	size_t len;

	assert_int_equal(sim_file_text(f->path, f->p, &text, &len), 0);
	assert_int_equal(len, strlen(text));
	assert_int_equal(text[len - 1], '\n');
	assert_non_null(root = json_loads(text, 0, NULL));
	one_a_line(text, root);
	/* Nothing but the layout differs from jansson's dump. */
	assert_non_null(again = json_dumps(root, JSON_INDENT(2)));
	assert_non_null(reread = json_loads(again, 0, NULL));
	assert_true(json_equal(root, reread));
	json_decref(reread);
	json_decref(root);
	free(again);
	return text;
}

/* Write the pool; the file must hold the bytes of a full encode. */
static void
write_check(struct fx *f)
{
	char *want = full_text(f), *got = NULL;
	size_t len = 0;

	assert_int_equal(sim_file_write(f->path, f->p), 0);
	assert_int_equal(xdc_file_read(f->path, 1 << 30, 0, &got, &len), 0);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(got, want, len);
	free(got);
	free(want);
}

static const char *
text_of(struct fx *f, const char *host)
{
	return sim_host_find(f->p, host)->sh_text;
}

/*
 * A write keeps every host's text; a change drops the changed hosts'
 * only, and the next write gives a full encode's bytes.
 */
static void
test_write_after_change(void **state)
{
	struct fx *f = *state;
	const char *a, *b, *c;
	struct tvm v1, v2;

	write_check(f);
	assert_non_null(a = text_of(f, "xen-a"));
	assert_non_null(b = text_of(f, "xen-b"));
	assert_non_null(c = text_of(f, "xen-c"));

	/* A create on xen-b: xen-b alone is encoded again. */
	tvm_on(&v1, "web-1", "xen-b");
	assert_int_equal(tvm_do(f, &v1, XDC_OP_CREATE), 0);
	assert_null(text_of(f, "xen-b"));
	assert_ptr_equal(text_of(f, "xen-a"), a);
	assert_ptr_equal(text_of(f, "xen-c"), c);
	write_check(f);
	assert_ptr_equal(text_of(f, "xen-a"), a);
	assert_ptr_equal(text_of(f, "xen-c"), c);
	assert_non_null(strstr(text_of(f, "xen-b"), "\"web-1\""));

	/* Every change the driver makes to a host, each then written. */
	tvm_on(&v2, "web-2", "xen-a");
	assert_int_equal(tvm_do(f, &v2, XDC_OP_CREATE), 0);
	write_check(f);
	assert_int_equal(tvm_do(f, &v1, XDC_OP_PAUSE), 0);
	assert_null(text_of(f, "xen-b"));
	write_check(f);
	assert_int_equal(tvm_do(f, &v1, XDC_OP_UNPAUSE), 0);
	write_check(f);
	assert_int_equal(tvm_do(f, &v1, XDC_OP_RESTART), 0);
	write_check(f);
	v1.act.a_update = XDC_UPD_VCPUS;
	v1.vm.vm_max_vcpus = 1;
	assert_int_equal(tvm_do(f, &v1, XDC_OP_UPDATE), 0);
	write_check(f);
	v1.vm.vm_memory = 2 * GIB;
	v1.vm.vm_max_memory = 2 * GIB;
	assert_int_equal(tvm_do(f, &v1, XDC_OP_REPLACE), 0);
	write_check(f);
	/* A migrate changes both hosts. */
	v1.act.a_to_host = "xen-c";
	c = text_of(f, "xen-c");
	assert_int_equal(tvm_do(f, &v1, XDC_OP_MIGRATE), 0);
	assert_null(text_of(f, "xen-b"));
	assert_null(text_of(f, "xen-c"));
	write_check(f);
	assert_non_null(strstr(text_of(f, "xen-c"), "\"web-1\""));
	assert_null(strstr(text_of(f, "xen-b"), "\"web-1\""));
	v1.act.a_host = "xen-c";
	v1.act.a_to_host = NULL;
	assert_int_equal(tvm_do(f, &v1, XDC_OP_STOP), 0);
	write_check(f);
	assert_int_equal(tvm_do(f, &v2, XDC_OP_DESTROY), 0);
	write_check(f);

	/* The disturbances. */
	assert_int_equal(
	    sim_pool_add_unmanaged(f->p, "stray", GIB, "xen-b"), 0);
	write_check(f);
	assert_int_equal(sim_pool_crash(f->p, "stray"), 0);
	write_check(f);
	assert_int_equal(sim_pool_watchdog_set(f->p, "xen-a", 5000, 1000), 0);
	write_check(f);
	assert_int_equal(sim_pool_watchdog_expire(f->p, 6000), 1);
	write_check(f);
	assert_int_equal(sim_pool_power_off(f->p, "xen-b", NULL), 0);
	write_check(f);
	assert_null(strstr(text_of(f, "xen-b"), "\"stray\""));
	/* What is the pool's, not a host's: faults, slowness, domids. */
	sim_fault_set(f->p, XDC_OP_CREATE, "web-9", 2);
	write_check(f);
	sim_slow_set(f->p, XDC_OP_START, "web-9", 3000, 1);
	write_check(f);
	/* A declared capacity that changed. */
	{
		struct sim_cfg_host more[] = {
			{ "xen-a", 32 * GIB, 8 },
			{ "xen-b", 16 * GIB, 8 },
			{ "xen-c", 16 * GIB, 4 },
			{ "xen-d", 0, 0 },
		};

		assert_int_equal(sim_pool_reconcile(f->p, more, 4), 1);
		write_check(f);
	}
}

/* A network's create, update and destroy drop their host's text. */
static void
test_write_after_network(void **state)
{
	struct fx *f = *state;
	struct xdc_network net;
	struct xdc_action a;
	const char *scopes[] = { "default" };

	write_check(f);
	memset(&net, 0, sizeof(net));
	net.n_name = "dmz";
	net.n_bridge = "xdc-dmz";
	net.n_mtu = 1500;
	memset(&a, 0, sizeof(a));
	a.a_op = XDC_OP_CREATE;
	a.a_kind = XDC_OBJ_NETWORK;
	a.a_name = "dmz";
	a.a_host = "xen-c";
	a.a_net = &net;
	a.a_scopes = scopes;
	a.a_nscopes = 1;
	assert_int_equal(sim_pool_apply(f->p, &a), 0);
	assert_null(text_of(f, "xen-c"));
	write_check(f);
	net.n_mtu = 9000;
	a.a_op = XDC_OP_UPDATE;
	a.a_update = XDC_UPD_MTU;
	assert_int_equal(sim_pool_apply(f->p, &a), 0);
	write_check(f);
	assert_non_null(strstr(text_of(f, "xen-c"), "9000"));
	a.a_op = XDC_OP_DESTROY;
	a.a_net = NULL;
	assert_int_equal(sim_pool_apply(f->p, &a), 0);
	write_check(f);
	assert_null(strstr(text_of(f, "xen-c"), "xdc-dmz"));
}

/* The splice is jansson's dump at the edges too: no host at all. */
static void
test_text_no_hosts(void **state)
{
	struct fx *f = *state;
	char *text;

	sim_pool_free(f->p);
	f->p = sim_pool_new();
	text = full_text(f);
	assert_non_null(strstr(text, "\"hosts\": [],"));
	free(text);
	write_check(f);
}

/* What a write wrote reads back as the same pool, and writes the same. */
static void
test_write_reads_back(void **state)
{
	struct fx *f = *state;
	struct sim_pool *back = NULL;
	char *one, *two;
	size_t n1, n2;
	struct tvm v;
	struct stat st;

	tvm_on(&v, "web-1", "xen-a");
	assert_int_equal(tvm_do(f, &v, XDC_OP_CREATE), 0);
	write_check(f);
	assert_int_equal(sim_file_read(f->path, &back, &st), 0);
	assert_non_null(back);
	assert_int_equal(sim_file_text(f->path, f->p, &one, &n1), 0);
	assert_int_equal(sim_file_text(f->path, back, &two, &n2), 0);
	assert_int_equal(n1, n2);
	assert_memory_equal(one, two, n1);
	free(one);
	free(two);
	sim_pool_free(back);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_write_after_change, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_write_after_network, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_text_no_hosts, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_write_reads_back, setup, teardown),
	};

	return cmocka_run_group_tests_name(
	    "drivers/sim_file", tests, NULL, NULL);
}
