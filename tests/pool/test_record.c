/*
 * A host's record in the pool (pool/record.c): the bytes an agent
 * publishes, what they carry besides the observation, and that every
 * agent reads them back.
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
		    test_the_event_reader_leaves_odd_records_to_jansson),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
