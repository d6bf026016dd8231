/*
 * A host's record in the pool (pool/record.c): the bytes an agent
 * publishes, what they carry besides the observation, and that every
 * agent reads them back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/arena.h"
#include "drivers/obs_json.h"
#include "pool/record.h"
#include "tests/drivers/obs_eq.h"
#include "tests/drivers/obs_gen.h"

static void
sample(struct xdc_obs_host *h, struct xdc_obs_domain *d)
{
	memset(h, 0, sizeof(*h));
	memset(d, 0, sizeof(*d));
	d->od_name = "Domain-0";
	d->od_state = XDC_DOM_RUNNING;
	d->od_memory = d->od_max_memory = 1 << 30;
	d->od_vcpus = d->od_max_vcpus = 1;
	d->od_weight = 256;
	h->oh_name = "xen-a";
	h->oh_memory = 64ULL << 30;
	h->oh_free_memory = 63ULL << 30;
	h->oh_cpus = 16;
	h->oh_domains = d;
	h->oh_ndomains = 1;
}

/*
 * The bytes themselves: compact, the observation's keys first, then
 * source, watchdog_ms and version, in that order. An agent publishes
 * only when its record's text changes, and the pool's tools (bench/publish)
 * must give the bytes an agent gives: the writer must not drift.
 */
static void
test_the_record_is_the_observation_then_source_and_version(void **state)
{
	struct xdc_obs_host h;
	struct xdc_obs_domain d;
	char *text, *want;
	json_t *o;

	(void)state;
	sample(&h, &d);
	o = obs_json_host(&h, OBS_JSON_FULL);
	assert_non_null(o);
	want = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	assert_non_null(want);
	/* The observation's own closing brace is where the rest goes. */
	want[strlen(want) - 1] = '\0';
	text = pool_record_text(&h, "/etc/xdc", "0123abc", 3000);
	assert_non_null(text);
	assert_int_equal(strncmp(text, want, strlen(want)), 0);
	assert_string_equal(text + strlen(want),
	    ",\"source\":{\"path\":\"/etc/xdc\",\"commit\":\"0123abc\"},"
	    "\"watchdog_ms\":3000,\"version\":\"" XDC_VERSION "\"}");
	free(text);
	free(want);
}

static void
test_no_watchdog_and_no_source_are_said_so(void **state)
{
	struct xdc_obs_host h;
	struct xdc_obs_domain d;
	json_t *o, *src;
	char *text;

	(void)state;
	sample(&h, &d);
	text = pool_record_text(&h, NULL, NULL, 0);
	assert_non_null(text);
	o = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	assert_non_null(o);
	assert_null(json_object_get(o, "watchdog_ms"));
	src = json_object_get(o, "source");
	assert_true(json_is_object(src));
	assert_true(json_is_null(json_object_get(src, "path")));
	assert_true(json_is_null(json_object_get(src, "commit")));
	assert_string_equal(
	    json_string_value(json_object_get(o, "version")), XDC_VERSION);
	json_decref(o);
	free(text);
}

/* What one agent writes, every other reads: the host and its domains. */
static void
test_a_record_reads_back_as_the_host(void **state)
{
	struct xdc_obs_host h, back;
	struct xdc_obs_domain d;
	struct xdc_arena *a = xdc_arena_new();
	json_t *o;
	char *text;

	(void)state;
	sample(&h, &d);
	text = pool_record_text(&h, "cfg", NULL, 0);
	assert_non_null(text);
	o = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	assert_non_null(o);
	assert_int_equal(obs_json_read_host(o, "test", a, &back), 0);
	assert_string_equal(back.oh_name, "xen-a");
	assert_int_equal(back.oh_free_memory, 63ULL << 30);
	assert_int_equal(back.oh_ndomains, 1);
	assert_string_equal(back.oh_domains[0].od_name, "Domain-0");
	json_decref(o);
	free(text);
	xdc_arena_free(a);
}

/* A name that is not UTF-8 cannot be published: no record, not a bad one. */
static void
test_a_host_that_cannot_be_encoded_has_no_record(void **state)
{
	struct xdc_obs_host h;
	struct xdc_obs_domain d;

	(void)state;
	sample(&h, &d);
	h.oh_name = "xen-\xff";
	assert_null(pool_record_text(&h, "cfg", NULL, 0));
}

/*
 * The agents read records with the event reader (pool_record_read): every
 * record pool_record_text writes, random ones, reads as jansson reads it,
 * with its source and watchdog.
 */
static void
test_records_read_the_same_by_events_and_by_jansson(void **state)
{
	static const char *const paths[] = { NULL, "", "/etc/xdc",
		"https://git.example/dc.git" };
	struct obs_gen g = { 0x7777111122223333ULL, NULL, 0 };
	struct xdc_arena *a = xdc_arena_new();
	struct xdc_obs_host h, ev, js;
	const char *path, *commit, *p, *c;
	char why[OBS_EQ_WHY], *text;
	int64_t wd, w;
	json_t *o;
	size_t i;

	(void)state;
	g.g_arena = xdc_arena_new();
	for (i = 0; i < 300; i++) {
		gen_host(&g, "xen-a", &h);
		path = paths[gen_below(&g, 4)];
		commit = paths[gen_below(&g, 4)];
		wd = gen_below(&g, 2) ? (int64_t)gen_upto(&g, INT64_MAX) : 0;
		text = pool_record_text(&h, path, commit, wd);
		assert_non_null(text);
		if (pool_record_read(text, strlen(text), a, &ev, &p, &c, &w) !=
		    0)
			fail_msg("the event reader gave up on %s", text);
		o = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
		assert_non_null(o);
		assert_int_equal(obs_json_read_host(o, "test", a, &js), 0);
		if (obs_host_diff(&ev, &js, why))
			fail_msg("%s: %s", why, text);
		assert_true(obs_eq_str(p, path) && obs_eq_str(c, commit));
		assert_true(w == wd);
		json_decref(o);
		free(text);
	}
	xdc_arena_free(g.g_arena);
	xdc_arena_free(a);
}

/*
 * What repeats in a record (kernel, ramdisk, command line, bridge, vdev,
 * scope) is kept once in the record's arena, each equal to what jansson
 * reads; the table is the read's only: a second record, in an arena of
 * its own, shares nothing with the first, and outlives it (ASan sees a
 * string of the first's used after it is freed, LSan a table left
 * behind).
 */
static void
test_a_record_keeps_what_repeats_once_in_its_own_arena(void **state)
{
	struct xdc_obs_domain d[3];
	struct xdc_obs_nic nic[3];
	struct xdc_disk disk[3];
	struct xdc_obs_host h, ev, ev2, js;
	struct xdc_arena *a = xdc_arena_new(), *a2 = xdc_arena_new();
	struct xdc_arena *aj = xdc_arena_new();
	char why[OBS_EQ_WHY], *text, kernel[3][32], scope[3][16];
	const struct xdc_obs_build *b0, *b;
	const char *p, *c;
	int64_t w;
	json_t *o;
	size_t i;

	(void)state;
	sample(&h, &d[0]);
	memset(nic, 0, sizeof(nic));
	memset(disk, 0, sizeof(disk));
	for (i = 0; i < 3; i++) {
		if (i > 0)
			d[i] = d[0];
		d[i].od_name = i == 0 ? "vm-a" : i == 1 ? "vm-b" : "vm-c";
		d[i].od_domid = (uint32_t)i + 1;
		/* Equal strings, at different addresses. */
		snprintf(kernel[i], sizeof(kernel[i]), "/boot/vmlinuz");
		snprintf(scope[i], sizeof(scope[i]), "ci-run-7");
		d[i].od_managed = 1;
		d[i].od_scope = scope[i];
		d[i].od_has_build = 1;
		d[i].od_build.ob_type = XDC_VM_PVH;
		d[i].od_build.ob_kernel = kernel[i];
		d[i].od_build.ob_ramdisk = i == 2 ? "/boot/other" : "/boot/rd";
		d[i].od_build.ob_cmdline = "console=hvc0 root=/dev/xvda";
		nic[i].on_bridge = "xenbr0";
		nic[i].on_mac[0] = 0x02;
		nic[i].on_mac[5] = (uint8_t)i;
		d[i].od_nics = &nic[i];
		d[i].od_nnics = 1;
		disk[i].d_target = i == 0 ? "/dev/vg/a" : "/dev/vg/b";
		disk[i].d_vdev = "xvda";
		d[i].od_build.ob_disks = &disk[i];
		d[i].od_build.ob_ndisks = 1;
	}
	h.oh_domains = d;
	h.oh_ndomains = 3;
	text = pool_record_text(&h, "cfg", NULL, 0);
	assert_non_null(text);
	if (pool_record_read(text, strlen(text), a, &ev, &p, &c, &w) != 0)
		fail_msg("the event reader gave up on %s", text);
	assert_int_equal(
	    pool_record_read(text, strlen(text), a2, &ev2, &p, &c, &w), 0);
	o = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	assert_non_null(o);
	assert_int_equal(obs_json_read_host(o, "test", aj, &js), 0);
	if (obs_host_diff(&ev, &js, why))
		fail_msg("%s", why);
	assert_int_equal(ev.oh_ndomains, 3);
	b0 = &ev.oh_domains[0].od_build;
	assert_string_equal(b0->ob_kernel, "/boot/vmlinuz");
	assert_string_equal(ev.oh_domains[0].od_scope, "ci-run-7");
	for (i = 1; i < 3; i++) {
		b = &ev.oh_domains[i].od_build;
		assert_ptr_equal(b->ob_kernel, b0->ob_kernel);
		assert_ptr_equal(b->ob_cmdline, b0->ob_cmdline);
		assert_ptr_equal(b->ob_disks[0].d_vdev, b0->ob_disks[0].d_vdev);
		assert_ptr_equal(ev.oh_domains[i].od_nics[0].on_bridge,
		    ev.oh_domains[0].od_nics[0].on_bridge);
		assert_ptr_equal(
		    ev.oh_domains[i].od_scope, ev.oh_domains[0].od_scope);
	}
	/* Equal strings only: a ramdisk of its own stays its own. */
	assert_ptr_equal(ev.oh_domains[1].od_build.ob_ramdisk, b0->ob_ramdisk);
	assert_ptr_not_equal(
	    ev.oh_domains[2].od_build.ob_ramdisk, b0->ob_ramdisk);
	assert_string_equal(
	    ev.oh_domains[2].od_build.ob_ramdisk, "/boot/other");
	assert_ptr_not_equal(ev.oh_domains[1].od_build.ob_disks[0].d_target,
	    b0->ob_disks[0].d_target);
	/* The second record's strings are its own. */
	assert_ptr_not_equal(
	    ev2.oh_domains[0].od_build.ob_kernel, b0->ob_kernel);
	assert_ptr_not_equal(
	    ev2.oh_domains[0].od_scope, ev.oh_domains[0].od_scope);
	xdc_arena_free(a);
	if (obs_host_diff(&ev2, &js, why))
		fail_msg("after the first record is freed: %s", why);
	json_decref(o);
	free(text);
	xdc_arena_free(a2);
	xdc_arena_free(aj);
}

/* What it is not sure of, it leaves to jansson (rec_parse's). */
static void
test_the_event_reader_leaves_odd_records_to_jansson(void **state)
{
	static const char *const texts[] = {
		"{\"name\":\"a\",\"memory\":1,\"colour\":\"red\"}",
		"{\"name\":\"a\",\"memory\":1,\"version\":\"1\","
		"\"version\":\"2\"}",
		"{\"name\":\"a\",\"memory\":1,\"source\":\"here\"}",
		"{\"name\":\"a\",\"memory\":1,\"source\":{\"path\":1}}",
		"{\"name\":\"a\",\"memory\":1,\"source\":{\"path\":"
		"\"a\\/b\"}}",
		"{\"name\":\"a\",\"memory\":1,\"watchdog_ms\":-5}",
		"{\"name\":\"a\",\"memory\":1,\"version\":1}",
	};
	struct xdc_arena *a = xdc_arena_new();
	struct xdc_obs_host h;
	const char *p, *c;
	int64_t w;
	size_t i;

	(void)state;
	assert_int_equal(pool_record_read("{\"name\":\"a\",\"memory\":1,"
	                                  "\"source\":{\"path\":\"x\"},"
	                                  "\"watchdog_ms\":7}",
	                     61, a, &h, &p, &c, &w),
	    0);
	assert_string_equal(p, "x");
	assert_null(c);
	assert_true(w == 7);
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		if (pool_record_read(
		        texts[i], strlen(texts[i]), a, &h, &p, &c, &w) != -1)
			fail_msg("the event reader took %s", texts[i]);
		assert_true(p == NULL && c == NULL && w == 0);
	}
	xdc_arena_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_the_record_is_the_observation_then_source_and_version),
		cmocka_unit_test(test_no_watchdog_and_no_source_are_said_so),
		cmocka_unit_test(test_a_record_reads_back_as_the_host),
		cmocka_unit_test(
		    test_a_host_that_cannot_be_encoded_has_no_record),
		cmocka_unit_test(
		    test_records_read_the_same_by_events_and_by_jansson),
		cmocka_unit_test(
		    test_a_record_keeps_what_repeats_once_in_its_own_arena),
		cmocka_unit_test(
		    test_the_event_reader_leaves_odd_records_to_jansson),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
