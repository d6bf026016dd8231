/*
 * Tests of drivers/json_split.c, the cut of a large JSON document into
 * pieces, and of the sim's pool file read host by host with it
 * (drivers/sim_file.c): the same pool as a whole read, and the whole
 * read's message for whatever it does not take.
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

#include "base/error.h"
#include "drivers/json_split.h"
#include "drivers/sim.h"

/* The element spans of doc's "hosts", "|"-joined, and its rest. */
static char *
cut(const char *doc, char **rest)
{
	struct json_split_it it;
	size_t restlen, start, end, s, e, n = 0;
	char *out = NULL;
	size_t len = 0;
	FILE *fp;
	int rc;

	if (json_split_member(
	        doc, strlen(doc), "hosts", rest, &restlen, &start, &end) != 0)
		return NULL;
	assert_int_equal(strlen(*rest), restlen);
	assert_int_equal(doc[start], '[');
	assert_int_equal(doc[end - 1], ']');
	fp = open_memstream(&out, &len);
	json_split_begin(&it, doc, start, end);
	while ((rc = json_split_next(&it, &s, &e)) == 1)
		fprintf(fp, "%s%.*s", n++ ? "|" : "", (int)(e - s), doc + s);
	fclose(fp);
	if (rc != 0) {
		free(out);
		free(*rest);
		*rest = NULL;
		return NULL;
	}
	return out;
}

static void
test_cut_skips_brackets_in_strings_and_nested_keys(void **state)
{
	static const char doc[] =
	    " {\"a\": \"x]}\\\"{\", \"hosts\" :\n[ {\"n\": \"[\\\\\"}, "
	    "[1, [2]] ,3,\"s,]\" ,true], \"b\": {\"hosts\": 1}} \n";
	char *rest = NULL, *parts;

	(void)state;
	parts = cut(doc, &rest);
	assert_non_null(parts);
	assert_string_equal(
	    parts, "{\"n\": \"[\\\\\"}|[1, [2]]|3|\"s,]\"|true");
	assert_string_equal(rest, " {\"a\": \"x]}\\\"{\", \"hosts\" :\n[], "
	                          "\"b\": {\"hosts\": 1}} \n");
	free(parts);
	free(rest);
	parts = cut("{\"hosts\": []}", &rest);
	assert_string_equal(parts, "");
	assert_string_equal(rest, "{\"hosts\": []}");
	free(parts);
	free(rest);
}

/* What is not cut so is left to a whole parse: nothing is guessed. */
static void
test_cut_refuses_what_it_cannot_vouch_for(void **state)
{
	static const char *const bad[] = {
		"[{\"hosts\": []}]",              /* not an object */
		"{}",                             /* no key */
		"{\"a\": 1}",                     /* not there */
		"{\"hosts\": {}}",                /* not an array */
		"{\"hosts\": [], \"hosts\": []}", /* twice */
		"{\"host\\u0073\": []}",          /* escaped: jansson's */
		"{\"hosts\": [1,]}",              /* trailing comma */
		"{\"hosts\": [,1]}",              /* leading comma */
		"{\"hosts\": [1 2]}",             /* no comma */
		"{\"hosts\": [1],}",              /* trailing comma */
		"{\"hosts\": [1]} x",             /* after the root */
		"{\"hosts\": [1] \"a\": 2}",      /* no comma */
		"{\"hosts\" [1]}",                /* no colon */
		"{\"hosts\": [\"1]}",             /* open string */
		"{\"hosts\": [{]}",               /* unbalanced */
		"{\"a\": , \"hosts\": []}",       /* no value */
		"\xef\xbb\xbf{\"hosts\": []}",    /* a BOM */
	};
	char *rest = NULL, *parts;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		parts = cut(bad[i], &rest);
		if (parts != NULL)
			fail_msg("cut \"%s\": %s", bad[i], parts);
		assert_null(rest);
	}
}

#define HOST(name, extra)                                                      \
	"{\"name\": \"" name "\", \"memory\": 17179869184, \"cpus\": 8, "      \
	"\"domains\": [{\"name\": \"web-" name "\", \"domid\": 1, "            \
	"\"memory\": 1073741824}]" extra "}"

/* The pool read host by host and read whole: the same pool. */
static void
test_pool_read_by_host_is_the_whole_read(void **state)
{
	static const char split[] =
	    "{\"format_version\": 1, \"next_domid\": 7, \"hosts\": [" HOST(
	        "b", "") ", " HOST("a", "") "], \"faults\": []}";
	/* An escaped key is not cut: this one is read whole. */
	static const char whole[] =
	    "{\"format_version\": 1, \"next_domid\": 7, \"host\\u0073\": "
	    "[" HOST("b", "") ", " HOST("a", "") "], \"faults\": []}";
	char *a = NULL, *b = NULL;

	(void)state;
	assert_int_equal(sim_parse_pool("p", split, strlen(split), &a), 0);
	assert_int_equal(sim_parse_pool("p", whole, strlen(whole), &b), 0);
	assert_string_equal(a, b);
	assert_non_null(strstr(a, "\"web-a\""));
	assert_non_null(strstr(a, "\"web-b\""));
	free(a);
	free(b);
}

/* The message jansson gives for text read whole, as the sim words it. */
static char *
whole_message(const char *text)
{
	json_error_t jerr;
	char *msg = NULL;

	assert_null(
	    json_loadb(text, strlen(text), JSON_REJECT_DUPLICATES, &jerr));
	xdc_asprintf(&msg, "p: not valid JSON: line %d, column %d: %s",
	    jerr.line, jerr.column, jerr.text);
	return msg;
}

/*
 * A fault in any piece is reported as the whole read reports it: the
 * place in the file, and the first fault in it, even after a host that
 * is not a pool's.
 */
static void
test_a_fault_in_a_host_is_the_whole_reads(void **state)
{
	static const char *const bad[] = {
		/* The second host's text is broken. */
		"{\"hosts\": [" HOST("a", "") ",\n" HOST(
		    "b", ", \"x\": tru") "]}",
		/* The first host is no pool's, the second not JSON. */
		"{\"hosts\": [{\"name\": \"a\", \"domains\": [{}]},\n" HOST(
		    "b", ", \"x\": tru") "]}",
		/* A key twice in a host. */
		"{\"hosts\": [" HOST("a", ", \"cpus\": 4") "]}",
		/* The hosts twice. */
		"{\"hosts\": [" HOST("a", "") "], \"hosts\": []}",
	};
	static const char notpool[] =
	    "{\"hosts\": [" HOST("b", "") ", {\"name\": \"a\", \"cpus\": -1}]}";
	static const char notpool_whole[] =
	    "{\"host\\u0073\": [" HOST("b", "") ", {\"name\": \"a\", "
	                                        "\"cpus\": -1}]}";
	char *msg;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		msg = whole_message(bad[i]);
		assert_int_equal(
		    sim_parse_pool("p", bad[i], strlen(bad[i]), NULL), XDC_ERR);
		assert_string_equal(xdc_error_last(), msg);
		free(msg);
	}
	/* Valid JSON, not a pool: the same message either way. */
	assert_int_equal(
	    sim_parse_pool("p", notpool, strlen(notpool), NULL), XDC_ERR);
	msg = xdc_strdup(xdc_error_last());
	assert_non_null(strstr(msg, "not a simulated pool: host a"));
	assert_int_equal(
	    sim_parse_pool("p", notpool_whole, strlen(notpool_whole), NULL),
	    XDC_ERR);
	assert_string_equal(xdc_error_last(), msg);
	free(msg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_cut_skips_brackets_in_strings_and_nested_keys),
		cmocka_unit_test(test_cut_refuses_what_it_cannot_vouch_for),
		cmocka_unit_test(test_pool_read_by_host_is_the_whole_read),
		cmocka_unit_test(test_a_fault_in_a_host_is_the_whole_reads),
	};

	return cmocka_run_group_tests_name(
	    "drivers/json_split", tests, NULL, NULL);
}
