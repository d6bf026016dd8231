/*
 * Observed state as JSON (drivers/obs_json.c): what is written reads back
 * the same, sorted; what etcd could hand over broken or hostile is
 * refused with where and why.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/arena.h"
#include "base/error.h"
#include "drivers/obs_json.h"

static struct xdc_disk disk = { .d_target = "/dev/vg0/web-1",
	.d_vdev = "xvda",
	.d_format = XDC_DISK_RAW,
	.d_readonly = 1 };

static void
sample(struct xdc_obs_host *h, struct xdc_obs_domain d[2],
    struct xdc_obs_nic *nic, struct xdc_obs_network *n)
{
	memset(h, 0, sizeof(*h));
	memset(d, 0, 2 * sizeof(*d));
	memset(n, 0, sizeof(*n));
	nic->on_bridge = "xdc-dmz";
	memcpy(nic->on_mac, "\x00\x16\x3e\x00\x00\x01", 6);
	d[0].od_name = "Domain-0";
	d[0].od_state = XDC_DOM_RUNNING;
	d[0].od_memory = d[0].od_max_memory = 1 << 30;
	d[0].od_vcpus = d[0].od_max_vcpus = 1;
	d[0].od_weight = 256;
	d[1].od_name = "web-1";
	d[1].od_domid = 7;
	d[1].od_state = XDC_DOM_PAUSED;
	d[1].od_memory = 512ULL << 20;
	d[1].od_max_memory = 1ULL << 30;
	d[1].od_vcpus = 1;
	d[1].od_max_vcpus = 2;
	d[1].od_weight = 512;
	d[1].od_cap = 150;
	d[1].od_nics = nic;
	d[1].od_nnics = 1;
	d[1].od_managed = d[1].od_protect = 1;
	d[1].od_hash = 0xfedcba9876543210ULL;
	d[1].od_has_build = 1;
	d[1].od_build.ob_type = XDC_VM_PV;
	d[1].od_build.ob_kernel = "/boot/vmlinuz";
	d[1].od_build.ob_disks = &disk;
	d[1].od_build.ob_ndisks = 1;
	n->on_name = "dmz";
	n->on_bridge = "xdc-dmz";
	n->on_uplink = "eth0";
	n->on_vlan = 20;
	n->on_mtu = 9000;
	n->on_up = n->on_managed = 1;
	h->oh_name = "xen-a";
	h->oh_memory = 64ULL << 30;
	h->oh_free_memory = 60ULL << 30;
	h->oh_cpus = 16;
	h->oh_domains = d;
	h->oh_ndomains = 2;
	h->oh_networks = n;
	h->oh_nnetworks = 1;
}

static void
test_a_full_host_reads_back_the_same(void **state)
{
	struct xdc_obs_host h, back;
	struct xdc_obs_domain d[2];
	struct xdc_obs_nic nic;
	struct xdc_obs_network n;
	struct xdc_arena *a = xdc_arena_new();
	json_t *o;
	const struct xdc_obs_domain *w;

	(void)state;
	sample(&h, d, &nic, &n);
	o = obs_json_host(&h, OBS_JSON_FULL);
	assert_non_null(o);
	assert_int_equal(obs_json_read_host(o, "test", a, &back), 0);
	assert_string_equal(back.oh_name, "xen-a");
	assert_int_equal(back.oh_memory, 64ULL << 30);
	assert_int_equal(back.oh_free_memory, 60ULL << 30);
	assert_int_equal(back.oh_ndomains, 2);
	w = &back.oh_domains[1];
	assert_string_equal(w->od_name, "web-1");
	assert_int_equal(w->od_domid, 7);
	assert_int_equal(w->od_state, XDC_DOM_PAUSED);
	assert_int_equal(w->od_max_memory, 1ULL << 30);
	assert_int_equal(w->od_max_vcpus, 2);
	assert_int_equal(w->od_weight, 512);
	assert_int_equal(w->od_cap, 150);
	assert_true(w->od_managed && w->od_protect);
	assert_true(w->od_hash == 0xfedcba9876543210ULL);
	assert_int_equal(w->od_nnics, 1);
	assert_memory_equal(w->od_nics[0].on_mac, nic.on_mac, 6);
	assert_true(w->od_has_build);
	assert_int_equal(w->od_build.ob_type, XDC_VM_PV);
	assert_string_equal(w->od_build.ob_kernel, "/boot/vmlinuz");
	assert_null(w->od_build.ob_ramdisk);
	assert_int_equal(w->od_build.ob_ndisks, 1);
	assert_string_equal(w->od_build.ob_disks[0].d_vdev, "xvda");
	assert_true(w->od_build.ob_disks[0].d_readonly);
	assert_int_equal(back.oh_nnetworks, 1);
	assert_string_equal(back.oh_networks[0].on_uplink, "eth0");
	assert_int_equal(back.oh_networks[0].on_vlan, 20);
	assert_int_equal(back.oh_networks[0].on_mtu, 9000);
	json_decref(o);
	xdc_arena_free(a);
}

/* Without OBS_JSON_FULL: the shape of `xdc show --json`, nothing more. */
static void
test_the_show_shape_has_no_planner_fields(void **state)
{
	struct xdc_obs_host h;
	struct xdc_obs_domain d[2];
	struct xdc_obs_nic nic;
	struct xdc_obs_network n;
	json_t *o, *dom;

	(void)state;
	sample(&h, d, &nic, &n);
	o = obs_json_host(&h, 0);
	dom = json_array_get(json_object_get(o, "domains"), 1);
	assert_null(json_object_get(dom, "hash"));
	assert_null(json_object_get(dom, "build"));
	assert_null(json_object_get(
	    json_array_get(json_object_get(o, "networks"), 0), "vlan"));
	assert_non_null(json_object_get(dom, "cpu"));
	json_decref(o);
}

/* What a reader must refuse, and the words it must use. */
static void
refused(const char *text, const char *words)
{
	struct xdc_arena *a = xdc_arena_new();
	struct xdc_obs_host h;
	json_t *o = json_loads(text, 0, NULL);

	assert_non_null(o);
	assert_int_equal(
	    obs_json_read_host(o, "key /x/hosts/a", a, &h), XDC_ERR);
	if (strstr(xdc_error_last(), words) == NULL)
		fail_msg("\"%s\" does not say \"%s\"", xdc_error_last(), words);
	json_decref(o);
	xdc_arena_free(a);
}

static void
test_broken_records_are_refused_with_the_reason(void **state)
{
	(void)state;
	refused("[]", "not a JSON object");
	refused("{\"memory\": 1}", "\"name\" is missing");
	refused("{\"name\": \"a\"}", "\"memory\" is missing");
	refused("{\"name\": \"a\", \"memory\": -1}", "\"memory\" must be");
	refused("{\"name\": \"a\", \"memory\": 1, \"domains\": {}}",
	    "\"domains\" must be an array");
	refused("{\"name\": \"a\", \"memory\": 1, \"domains\": [{\"name\": "
	        "\"x\", \"domid\": 1, \"state\": \"melting\", \"memory\": 1}]}",
	    "host a, domain x: \"state\" has an unknown value");
	refused("{\"name\": \"a\", \"memory\": 1, \"domains\": [{\"name\": "
	        "\"x\", \"domid\": 4294967296, \"state\": \"running\", "
	        "\"memory\": 1}]}",
	    "\"domid\" must be");
	refused("{\"name\": \"a\", \"memory\": 1, \"domains\": [{\"name\": "
	        "\"x\", \"domid\": 1, \"state\": \"running\", \"memory\": 1, "
	        "\"hash\": \"-1\"}]}",
	    "\"hash\" must be");
	refused("{\"name\": \"a\", \"memory\": 1, \"domains\": [{\"name\": "
	        "\"x\", \"domid\": 1, \"state\": \"running\", \"memory\": 1}, "
	        "{\"name\": \"x\", \"domid\": 2, \"state\": \"running\", "
	        "\"memory\": 1}]}",
	    "two domains are named x");
	refused("{\"name\": \"a\", \"memory\": 1, \"domains\": [{\"name\": "
	        "\"x\", \"domid\": 1, \"state\": \"running\", \"memory\": 1, "
	        "\"nics\": [{\"bridge\": \"b\", \"mac\": \"zz\"}]}]}",
	    "\"mac\" must be a MAC address");
	refused("{\"name\": \"a\", \"memory\": 1, \"networks\": [{\"bridge\": "
	        "\"b\", \"vlan\": 5000}]}",
	    "\"vlan\" must be");
}

/*
 * One domain or network at a time, as the sim's pool file is read: a
 * record must say a domain's state, a hand-written file need not, and
 * what it leaves out is what a fresh domain or network has.
 */
static void
test_one_domain_and_network_with_defaults(void **state)
{
	struct xdc_arena *a = xdc_arena_new();
	struct xdc_obs_domain d;
	struct xdc_obs_network n;
	json_t *o;

	(void)state;
	o = json_loads(
	    "{\"name\": \"web\", \"domid\": 3, \"memory\": 5}", 0, NULL);
	assert_int_equal(
	    obs_json_read_domain(o, "rec", "a", 0, a, &d), XDC_ERR);
	if (strstr(xdc_error_last(),
	        "rec: host a, domain web: \"state\" is missing") == NULL)
		fail_msg("%s", xdc_error_last());
	assert_int_equal(
	    obs_json_read_domain(o, "rec", "a", OBS_JSON_DEFAULTS, a, &d), 0);
	assert_string_equal(d.od_name, "web");
	assert_int_equal(d.od_domid, 3);
	assert_int_equal(d.od_state, XDC_DOM_RUNNING);
	assert_int_equal(d.od_max_memory, 5);
	assert_int_equal(d.od_vcpus, 1);
	assert_int_equal(d.od_weight, XDC_DEFAULT_WEIGHT);
	assert_false(d.od_managed || d.od_stub || d.od_has_build);
	json_decref(o);

	o = json_loads("{\"bridge\": \"br0\"}", 0, NULL);
	assert_int_equal(obs_json_read_network(o, "rec", "a", 0, a, &n), 0);
	assert_false(n.on_up);
	assert_int_equal(
	    obs_json_read_network(o, "rec", "a", OBS_JSON_DEFAULTS, a, &n), 0);
	assert_string_equal(n.on_bridge, "br0");
	assert_true(n.on_up);
	assert_int_equal(n.on_mtu, 1500);
	assert_null(n.on_name);
	json_decref(o);

	/* A domain written whole reads back the same, one at a time. */
	o = json_loads("{\"name\": \"x\", \"domid\": 1, \"state\": "
	               "\"crashed\", \"memory\": 1, \"cpu\": {\"weight\": 7}, "
	               "\"stub\": true, \"hash\": \"ff\"}",
	    0, NULL);
	assert_int_equal(
	    obs_json_read_domain(o, "rec", "a", OBS_JSON_DEFAULTS, a, &d), 0);
	assert_int_equal(d.od_state, XDC_DOM_CRASHED);
	assert_int_equal(d.od_weight, 7);
	assert_true(d.od_stub);
	assert_true(d.od_hash == 0xff);
	json_decref(o);
	xdc_arena_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_full_host_reads_back_the_same),
		cmocka_unit_test(test_the_show_shape_has_no_planner_fields),
		cmocka_unit_test(
		    test_broken_records_are_refused_with_the_reason),
		cmocka_unit_test(test_one_domain_and_network_with_defaults),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
