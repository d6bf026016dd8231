/*
 * The event reader of observed state (drivers/obs_read.c) against
 * jansson's (drivers/obs_json.c), and the sim's pool file read both ways
 * (drivers/sim_file_events.c against sim_file.c): random observations,
 * written as the writers write them, read the same by both, every field;
 * the event reader takes all of them (it is the fast path) but for the
 * odd strings it leaves to jansson; texts broken at random are taken by
 * neither or read the same; and what it gives up on gets jansson's
 * message, word for word.
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
#include "base/error.h"
#include "drivers/obs_json.h"
#include "drivers/obs_read.h"
#include "drivers/sim_file.h"
#include "drivers/sim_file_int.h"
#include "drivers/sim_pool.h"
#include "tests/drivers/obs_eq.h"
#include "tests/drivers/obs_gen.h"
#include "tests/drivers/pool_gen.h"

#define ROUNDS 400

/* jansson's way: 0 and *out, or the code. */
static int
read_json(
    const char *text, size_t len, struct xdc_arena *a, struct xdc_obs_host *out)
{
	json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	int rc;

	if (o == NULL)
		return XDC_ERR;
	rc = obs_json_read_host(o, "test", a, out);
	json_decref(o);
	return rc;
}

/*
 * The event reader's: 0 and *out, or -1 when it gives up; the domains
 * as tokens, or straight from the events when direct (obs_read_domains).
 */
static int
read_events(const char *text, size_t len, struct xdc_arena *a,
    struct xdc_obs_host *out, int direct)
{
	struct obs_read r;
	int rc;

	obs_read_init(&r);
	if (direct)
		obs_read_domains(&r, 0, a);
	rc = obs_read_parse(&r, text, len) != 0 ||
	             obs_read_host(&r, a, out, NULL, NULL) != 0 ||
	             !obs_read_done(&r)
	         ? -1
	         : 0;
	obs_read_fini(&r);
	return rc;
}

/*
 * Members dropped at random, one in eight, at every depth: what a record
 * or a hand-written file may leave out takes its default, and what it
 * must not is refused, by both readers.
 */
static void
thin(struct obs_gen *g, json_t *v)
{
	const char *key;
	json_t *e;
	void *tmp;
	size_t i;

	if (json_is_array(v))
		json_array_foreach(v, i, e) thin(g, e);
	if (!json_is_object(v))
		return;
	json_object_foreach_safe(v, tmp, key, e)
	{
		if (gen_below(g, 8) == 0)
			json_object_del(v, key);
		else
			thin(g, e);
	}
}

/* h's text, in one of three layouts; thinned when g is not NULL. */
static char *
dump(
    const struct xdc_obs_host *h, unsigned flags, size_t how, struct obs_gen *g)
{
	static const size_t dumps[] = { JSON_COMPACT, JSON_INDENT(2), 0 };
	json_t *o = obs_json_host(h, flags);
	char *text;

	assert_non_null(o);
	if (g != NULL)
		thin(g, o);
	text = json_dumps(o, dumps[how % 3]);
	json_decref(o);
	assert_non_null(text);
	return text;
}

/*
 * Both readers on one text: whatever the event reader takes, jansson takes
 * and reads the same. Returns whether the event reader took it.
 */
static int
agree(const char *text, size_t len)
{
	struct xdc_arena *a = xdc_arena_new();
	struct xdc_obs_host ev, js, st;
	char why[OBS_EQ_WHY];
	int took, straight;

	took = read_events(text, len, a, &ev, 0) == 0;
	/* The domains straight from the events: the same. */
	straight = read_events(text, len, a, &st, 1) == 0;
	if (took != straight)
		fail_msg("the domains read straight %s: %.*s",
		    took ? "gave up" : "did not give up", (int)len, text);
	if (took && obs_host_diff(&ev, &st, why))
		fail_msg("the domains read straight differ: %s: %.*s", why,
		    (int)len, text);
	if (took && read_json(text, len, a, &js) != 0)
		fail_msg("the event reader took what jansson refuses (%s): "
		         "%.*s",
		    xdc_error_last(), (int)len, text);
	if (took && obs_host_diff(&ev, &js, why))
		fail_msg("the readers differ: %s: %.*s", why, (int)len, text);
	xdc_arena_free(a);
	return took;
}

static void
test_random_hosts_read_the_same_both_ways(void **state)
{
	struct obs_gen g = { 0x9e3779b97f4a7c15ULL, NULL, 0 };
	struct xdc_obs_host h;
	unsigned flags;
	char *text;
	size_t i;

	(void)state;
	g.g_arena = xdc_arena_new();
	for (i = 0; i < ROUNDS; i++) {
		gen_host(&g, "xen-a", &h);
		/* The records' shape, and show's. */
		flags = i % 4 ? OBS_JSON_FULL : 0;
		text = dump(&h, flags, i, NULL);
		if (!agree(text, strlen(text)))
			fail_msg("the event reader gave up on a plain host: %s",
			    text);
		free(text);
	}
	xdc_arena_free(g.g_arena);
}

/* Keys left out: the same defaults, or the same refusal. */
static void
test_hosts_with_keys_left_out_read_the_same(void **state)
{
	struct obs_gen g = { 0x5555aaaa3333ccccULL, NULL, 0 };
	struct xdc_arena *a = xdc_arena_new();
	struct xdc_obs_host h, js;
	size_t i, took = 0, refused = 0;
	char *text;
	int ok;

	(void)state;
	g.g_arena = xdc_arena_new();
	for (i = 0; i < 4 * ROUNDS; i++) {
		gen_host(&g, "xen-a", &h);
		text = dump(&h, OBS_JSON_FULL, i, &g);
		ok = read_json(text, strlen(text), a, &js) == 0;
		/* Whatever jansson reads, the event reader reads too. */
		if (agree(text, strlen(text)) != ok)
			fail_msg("the event reader gave up on %s", text);
		took += ok;
		refused += !ok;
		free(text);
	}
	assert_true(took > 0 && refused > 0);
	xdc_arena_free(a);
	xdc_arena_free(g.g_arena);
}

/* Escapes and bytes past ASCII: jansson's, and the same either way. */
static void
test_odd_strings_are_left_to_jansson(void **state)
{
	struct obs_gen g = { 0x1234567887654321ULL, NULL, 1 };
	struct xdc_arena *a = xdc_arena_new();
	struct xdc_obs_host h, js;
	size_t i, took = 0, left = 0;
	char *text;

	(void)state;
	g.g_arena = xdc_arena_new();
	for (i = 0; i < ROUNDS; i++) {
		gen_host(&g, "xen-a", &h);
		text = dump(&h, OBS_JSON_FULL, i, NULL);
		assert_int_equal(read_json(text, strlen(text), a, &js), 0);
		if (agree(text, strlen(text)))
			took++;
		else
			left++;
		free(text);
	}
	assert_true(took > 0 && left > 0);
	xdc_arena_free(g.g_arena);
	xdc_arena_free(a);
}

static void
test_broken_texts_are_refused_or_read_the_same(void **state)
{
	struct obs_gen g = { 0xdeadbeefcafef00dULL, NULL, 0 };
	struct xdc_obs_host h;
	size_t i, len, took = 0;
	char *text;

	(void)state;
	g.g_arena = xdc_arena_new();
	for (i = 0; i < 20 * ROUNDS; i++) {
		gen_host(&g, "xen-a", &h);
		text = dump(&h, OBS_JSON_FULL, i, NULL);
		len = gen_mutate(&g, text, strlen(text));
		took += agree(text, len);
		free(text);
	}
	/* Some changes leave a valid record (a digit for a digit). */
	assert_true(took > 0);
	xdc_arena_free(g.g_arena);
}

/* Texts jansson takes, or refuses, that the event reader gives up on. */
static void
test_the_event_reader_gives_up_on_the_unusual(void **state)
{
#define DOM "{\"name\":\"a\",\"memory\":1,\"domains\":[{\"name\":"
	static const char *const texts[] = {
		/* jansson takes these: an unknown key, an escape, a byte
		 * past ASCII, a hash strtoull reads with a space, -0 */
		"{\"name\":\"a\",\"memory\":1,\"extra\":1}",
		"{\"name\":\"\\u0061\",\"memory\":1}",
		"{\"name\":\"caf\xc3\xa9\",\"memory\":1}",
		"{\"name\":\"a\",\"memory\":1,\"domains\":[{\"name\":\"x\","
		"\"domid\":1,\"state\":\"running\",\"memory\":1,\"hash\":\" "
		"ff\"}]}",
		"{\"name\":\"a\",\"memory\":-0}",
		/* jansson refuses these */
		"{\"name\":\"a\",\"memory\":1,\"memory\":2}",
		"{\"name\":\"a\",\"memory\":\"1\"}",
		"{\"name\":\"a\",\"memory\":99999999999999999999}",
		"{\"name\":\"a\",\"memory\":9223372036854775808}",
		"{\"name\":\"a\",\"memory\":1.0}",
		"{\"name\":\"a\",\"memory\":1e3}",
		"{\"name\":\"a\",\"memory\":01}",
		"{\"name\":\"a\",\"memory\":1}x",
		"{\"name\":\"a\",\"memory\":1}\v",
		"\f{\"name\":\"a\",\"memory\":1}",
		"{\"name\":\"a\",/* c */\"memory\":1}",
		"{\"name\":\"\\ud800\",\"memory\":1}",
		"{\"name\":\"\xc0\x80\",\"memory\":1}",
		"{\"name\":\"\xed\xa0\x80\",\"memory\":1}",
		"{\"name\":\"a\"}",
		"{\"name\":\"\",\"memory\":1}",
		"[{\"name\":\"a\",\"memory\":1}]",
		"{\"name\":\"a\",\"memory\":1,\"domains\":[{\"name\":\"x\","
		"\"domid\":1,\"state\":\"running\",\"memory\":1},{\"name\":"
		"\"x\",\"domid\":2,\"state\":\"running\",\"memory\":1}]}",
		/* In a domain, read straight or not. */
		DOM "\"\\u0078\",\"domid\":1,\"state\":\"running\","
		    "\"memory\":1}]}",
		DOM "\"x\",\"domid\":1,\"state\":\"running\",\"memory\":1,"
		    "\"colour\":1}]}",
		DOM "\"x\",\"domid\":1,\"state\":\"running\",\"memory\":1,"
		    "\"cpu\":{\"weight\":4294967296}}]}",
		DOM "\"x\",\"domid\":1,\"state\":\"running\",\"memory\":1,"
		    "\"nics\":[{\"bridge\":\"b\",\"mac\":\"00:16:3e:00:00:"
		    "0\\u0031\"}]}]}",
		DOM "\"x\",\"domid\":1,\"state\":\"running\",\"memory\":1,"
		    "\"nics\":[{\"bridge\":\"b\"}]}]}",
		DOM "\"x\",\"domid\":1,\"state\":\"running\",\"memory\":1,"
		    "\"build\":{\"type\":\"pvh\",\"disks\":null}}]}",
		DOM "\"x\",\"domid\":1,\"state\":\"running\",\"memory\":1,"
		    "\"build\":{\"kernel\":\"k\"}}]}",
		DOM "\"x\",\"domid\":1,\"state\":\"running\",\"memory\":1,"
		    "\"build\":{\"type\":\"pvh\",\"disks\":[{\"target\":"
		    "\"t\",\"vdev\":\"xvda\",\"readonly\":1}]}}]}",
		DOM "\"x\",\"domid\":1,\"memory\":1}]}",
		DOM "\"x\",\"domid\":1,\"state\":\"running\",\"memory\":1,"
		    "\"scope\":\"\"}]}",
		DOM "\"x\",\"domid\":1,\"state\":\"running\",\"memory\":1,"
		    "\"managed\":true,\"scope\":\"-x\"}]}",
		DOM "\"x\",\"domid\":1,\"state\":\"running\",\"memory\":1,"
		    "\"hash\":\"12345678901234567\"}]}",
	};
	static const char took[] = DOM "\"x\",\"domid\":1,\"state\":"
	                               "\"running\",\"memory\":1}]}";
	struct xdc_arena *a = xdc_arena_new();
	struct xdc_obs_host h;
	size_t i;
	int direct;

	(void)state;
	for (direct = 0; direct < 2; direct++) {
		/* What it must take, for the cases above to mean something. */
		assert_int_equal(read_events("{\"name\":\"a\",\"memory\":1}",
		                     23, a, &h, direct),
		    0);
		assert_string_equal(h.oh_name, "a");
		assert_int_equal(
		    read_events(took, strlen(took), a, &h, direct), 0);
		assert_string_equal(h.oh_domains[0].od_name, "x");
		for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
			if (read_events(texts[i], strlen(texts[i]), a, &h,
			        direct) != -1)
				fail_msg("the event reader took %s", texts[i]);
	}
	xdc_arena_free(a);
#undef DOM
}

/* ---- The sim's pool file -------------------------------------------- */

struct both {
	int b_rc[2];
	char *b_text[2]; /* sim_file_text of the pool read */
	char *b_msg[2];
};

/* The text read by jansson alone ([0]) and with the event reader ([1]). */
static void
read_both(const char *text, size_t len, struct both *b)
{
	struct sim_pool *p;
	size_t n;
	int on;

	for (on = 0; on < 2; on++) {
		obs_read_enable(on);
		b->b_text[on] = b->b_msg[on] = NULL;
		b->b_rc[on] = sim_file_parse("pool.json", text, len, &p);
		if (b->b_rc[on] == 0)
			assert_int_equal(
			    sim_file_text("pool.json", p, &b->b_text[on], &n),
			    0);
		else
			b->b_msg[on] = strdup(xdc_error_last());
		sim_pool_free(p);
	}
	obs_read_enable(1);
	assert_int_equal(b->b_rc[0], b->b_rc[1]);
	if (b->b_rc[0] == 0)
		assert_string_equal(b->b_text[0], b->b_text[1]);
	else
		assert_string_equal(b->b_msg[0], b->b_msg[1]);
}

static void
both_free(struct both *b)
{
	free(b->b_text[0]);
	free(b->b_text[1]);
	free(b->b_msg[0]);
	free(b->b_msg[1]);
}

/* Whether the event reader takes the file by itself. */
static int
events_take(const char *text, size_t len)
{
	struct sim_pool *p = NULL;
	int rc = sim_file_events(text, len, &p);

	sim_pool_free(p);
	return rc == 0;
}

static void
test_random_pools_read_the_same_both_ways(void **state)
{
	struct obs_gen g = { 0x0123456789abcdefULL, NULL, 0 };
	struct sim_pool *p;
	struct both b;
	size_t i, len, left = 0;
	char *text;

	(void)state;
	g.g_arena = xdc_arena_new();
	for (i = 0; i < ROUNDS / 4; i++) {
		g.g_odd = i % 2;
		p = gen_pool(&g);
		/* Faults and slow actions are jansson's to read. */
		if (i % 8 == 3)
			sim_fault_set(p, XDC_OP_CREATE, "vm-1", 2);
		assert_int_equal(sim_file_text("pool.json", p, &text, &len), 0);
		read_both(text, len, &b);
		assert_int_equal(b.b_rc[0], 0);
		/* The same pool again, and its bytes. */
		assert_string_equal(b.b_text[0], text);
		if (!events_take(text, len)) {
			if (!g.g_odd && i % 8 != 3)
				fail_msg("the event reader gave up: %s", text);
			left++;
		}
		both_free(&b);
		free(text);
		sim_pool_free(p);
	}
	assert_true(left > 0);
	xdc_arena_free(g.g_arena);
}

static void
test_broken_pool_files_are_refused_or_read_the_same(void **state)
{
	struct obs_gen g = { 0xfeedfacef00dbeefULL, NULL, 0 };
	struct sim_pool *p;
	struct both b;
	json_t *o;
	size_t i, len, read = 0;
	char *text;

	(void)state;
	g.g_arena = xdc_arena_new();
	for (i = 0; i < 4 * ROUNDS; i++) {
		p = gen_pool(&g);
		assert_int_equal(sim_file_text("pool.json", p, &text, &len), 0);
		if (i % 2) {
			len = gen_mutate(&g, text, len);
		} else {
			/* Keys left out: the defaults of a hand-written file.
			 */
			o = json_loadb(text, len, 0, NULL);
			assert_non_null(o);
			thin(&g, json_object_get(o, "hosts"));
			free(text);
			text = json_dumps(o, JSON_INDENT(2));
			len = strlen(text);
			json_decref(o);
		}
		read_both(text, len, &b);
		read += b.b_rc[0] == 0;
		both_free(&b);
		free(text);
		sim_pool_free(p);
	}
	assert_true(read > 0);
	xdc_arena_free(g.g_arena);
}

/* What the event reader gives up on gets the message it had before. */
static void
test_a_refused_pool_file_says_the_same_either_way(void **state)
{
#define HEAD "{\"format_version\": 1, \"hosts\": [{\"name\": \"a\", "
#define DOM  "\"domains\": [{\"name\": \"x\", \"domid\": 1, "
	static const struct {
		const char *text, *words;
	} cases[] = {
		{ HEAD DOM "\"memory\": 1, \"memory\": 2}]}]}",
		    "duplicate object key" },
		{ HEAD DOM "\"memory\": \"1\"}]}]}",
		    "host a, domain x: \"memory\" must be a whole number" },
		{ HEAD DOM "\"memory\": 99999999999999999999}]}]}",
		    "too big integer" },
		{ HEAD DOM "\"memory\": 9223372036854775808}]}]}",
		    "too big integer" },
		{ HEAD "\"cpus\": 4294967296}]}",
		    "\"cpus\" must be an integer" },
		{ HEAD "\"name\": \"b\"}]}", "duplicate object key" },
		{ "{\"hosts\": [{\"name\": \"a\"}, {\"name\": \"a\"}]}",
		    "host a: \"name\" is a duplicate" },
		{ HEAD DOM "\"memory\": 1}, {\"name\": \"x\", \"domid\": 2, "
		           "\"memory\": 1}]}]}",
		    "host a, domain x: \"name\" is a duplicate" },
		{ HEAD "\"domains\": [{\"name\": \"x\", \"domid\": 0, "
		       "\"memory\": 1}]}]}",
		    "\"domid\" is 0 for Domain-0 and no other" },
		{ HEAD "\"watchdog\": {\"timeout_ms\": 0, \"deadline\": 5}}]}",
		    "\"watchdog\" must have a timeout_ms" },
		{ HEAD "\"networks\": [{\"bridge\": \"b\"}, {\"bridge\": "
		       "\"b\"}]}]}",
		    "host a, bridge b: \"bridge\" is a duplicate" },
		{ "{\"format_version\": 2, \"hosts\": [{\"name\": \"a\"}]}",
		    "\"format_version\" is not 1" },
		{ "{\"hosts\": []}", "no hosts" },
	};
	/* Taken all the same: the unknown key is jansson's to ignore. */
	static const char unknown[] = HEAD "\"colour\": \"red\"}]}";
	struct both b;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_false(events_take(cases[i].text, strlen(cases[i].text)));
		read_both(cases[i].text, strlen(cases[i].text), &b);
		assert_int_not_equal(b.b_rc[0], 0);
		if (strstr(b.b_msg[0], cases[i].words) == NULL)
			fail_msg("\"%s\" does not say \"%s\"", b.b_msg[0],
			    cases[i].words);
		both_free(&b);
	}
	assert_false(events_take(unknown, strlen(unknown)));
	read_both(unknown, strlen(unknown), &b);
	assert_int_equal(b.b_rc[0], 0);
	both_free(&b);
#undef HEAD
#undef DOM
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_hosts_read_the_same_both_ways),
		cmocka_unit_test(test_hosts_with_keys_left_out_read_the_same),
		cmocka_unit_test(test_odd_strings_are_left_to_jansson),
		cmocka_unit_test(
		    test_broken_texts_are_refused_or_read_the_same),
		cmocka_unit_test(test_the_event_reader_gives_up_on_the_unusual),
		cmocka_unit_test(test_random_pools_read_the_same_both_ways),
		cmocka_unit_test(
		    test_broken_pool_files_are_refused_or_read_the_same),
		cmocka_unit_test(
		    test_a_refused_pool_file_says_the_same_either_way),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
