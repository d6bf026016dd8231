/*
 * The status file and the metrics file (reconciler/status.c): status.json
 * is valid JSON with the keys docs/status.md documents; metrics.prom is
 * Prometheus text format, every sample under its # HELP and # TYPE.
 */
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "reconciler/status.h"
#include "base/diag.h"
#include "base/error.h"

#define T0 ((int64_t)1700000000 * 1000) /* 2023-11-14T22:13:20Z */

/* What one writer printed, as text. */
static char *
written(const struct status *st, int (*fn)(const struct status *, FILE *))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	assert_non_null(fp);
	assert_int_equal(fn(st, fp), 0);
	assert_int_equal(fclose(fp), 0);
	return buf;
}

static json_t *
status_doc(const struct status *st)
{
	char *text = written(st, status_write_json);
	json_error_t err;
	json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &err);

	if (root == NULL)
		fail_msg("status.json is not JSON: %s: %s", err.text, text);
	free(text);
	return root;
}

/* A cycle with one of everything. */
static struct status *
busy_status(void)
{
	struct status *st = status_new("xen-a", 60000);
	struct xdc_diags *d = xdc_diags_new();
	struct status_item it;

	status_begin(st, T0, "config");
	status_set_source(st, "https://git.example/dc.git@main",
	    "0123456789abcdef0123456789abcdef01234567");
	status_set_rejected(st, "https://git.example/dc.git@main",
	    "fedcba9876543210fedcba9876543210fedcba98");
	xdc_diag(d, "vms/web.yaml", 3, 9, "memory: \"lots\" is not a size");
	status_add_diags(st, d);
	xdc_diags_free(d);
	status_add_error(st, NULL, 0, 0, "fetch failed");

	memset(&it, 0, sizeof(it));
	it.si_op = "create";
	it.si_kind = "VM";
	it.si_name = "web-2";
	it.si_host = "xen-a";
	it.si_state = "failed";
	it.si_why = "injected fault: create web-2";
	it.si_failures = 2;
	it.si_retry_at = T0 + 4000;
	status_add_pending(st, &it);
	status_count(st, "create", STATUS_FAILED_ACTION);

	memset(&it, 0, sizeof(it));
	it.si_op = "restart";
	it.si_kind = "VM";
	it.si_name = "web-1";
	it.si_host = "xen-a";
	it.si_why = "sla.yaml:8 (sla web: restart always): web-1 crashed";
	it.si_changes = "[{\"field\":\"state\",\"from\":\"crashed\","
	                "\"to\":\"running\"}]";
	status_add_drift(st, &it);
	status_count(st, "restart", STATUS_DONE);

	memset(&it, 0, sizeof(it));
	it.si_op = "replace";
	it.si_kind = "VM";
	it.si_name = "db-1";
	it.si_host = "xen-a";
	it.si_why = "maintenance window Sat 02:00-04:00 UTC";
	status_add_deferred(st, &it);

	status_set_planned(st, 2);
	status_set_gauges(st, 7, 1);
	status_set_outcome(st, STATUS_INVALID, "commit fedcba987654: 1 error");
	status_end(st, T0 + 250);
	return st;
}

static void
test_json_has_the_documented_keys(void **state)
{
	static const char *const keys[] = { "format_version", "pid", "host",
		"interval_seconds", "time", "timestamp", "duration_seconds",
		"trigger", "cycles", "outcome", "message", "source",
		"last_good_commit", "rejected", "config_valid", "counts",
		"managed_vms", "restart_limited_vms", "pending", "deferred",
		"drift", "errors", "last_success", "last_drift" };
	struct status *st = busy_status();
	json_t *root = status_doc(st);
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (json_object_get(root, keys[i]) == NULL)
			fail_msg("status.json lacks \"%s\"", keys[i]);
	assert_int_equal(
	    json_object_size(root), sizeof(keys) / sizeof(keys[0]));
	assert_int_equal(
	    json_integer_value(json_object_get(root, "format_version")),
	    STATUS_FORMAT);
	assert_string_equal(json_string_value(json_object_get(root, "time")),
	    "2023-11-14T22:13:20Z");
	assert_true(
	    json_real_value(json_object_get(root, "duration_seconds")) == 0.25);
	assert_string_equal(
	    json_string_value(json_object_get(root, "outcome")), "invalid");
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(root, "source"), "commit")),
	    "0123456789abcdef0123456789abcdef01234567");
	assert_string_equal(
	    json_string_value(json_object_get(root, "last_good_commit")),
	    "0123456789abcdef0123456789abcdef01234567");
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(root, "rejected"), "commit")),
	    "fedcba9876543210fedcba9876543210fedcba98");
	assert_true(json_is_false(json_object_get(root, "config_valid")));
	assert_int_equal(
	    json_integer_value(json_object_get(root, "cycles")), 1);
	json_decref(root);
	status_free(st);
}

static void
test_counts_and_lists(void **state)
{
	struct status *st = busy_status();
	json_t *root = status_doc(st), *c, *p, *d, *e;

	(void)state;
	c = json_object_get(root, "counts");
	assert_int_equal(json_integer_value(json_object_get(c, "planned")), 2);
	assert_int_equal(json_integer_value(json_object_get(c, "done")), 1);
	assert_int_equal(json_integer_value(json_object_get(c, "failed")), 1);
	assert_int_equal(json_integer_value(json_object_get(c, "pending")), 1);
	assert_int_equal(json_integer_value(json_object_get(c, "deferred")), 1);
	assert_int_equal(json_integer_value(json_object_get(c, "drift")), 1);
	assert_int_equal(json_integer_value(json_object_get(c, "errors")), 2);

	p = json_array_get(json_object_get(root, "pending"), 0);
	assert_string_equal(
	    json_string_value(json_object_get(p, "state")), "failed");
	assert_int_equal(json_integer_value(json_object_get(p, "failures")), 2);
	assert_string_equal(json_string_value(json_object_get(p, "retry_at")),
	    "2023-11-14T22:13:24Z");

	d = json_array_get(json_object_get(root, "drift"), 0);
	assert_string_equal(
	    json_string_value(json_object_get(
	        json_array_get(json_object_get(d, "changes"), 0), "to")),
	    "running");

	e = json_array_get(json_object_get(root, "errors"), 0);
	assert_string_equal(
	    json_string_value(json_object_get(e, "file")), "vms/web.yaml");
	assert_int_equal(json_integer_value(json_object_get(e, "line")), 3);
	assert_int_equal(json_integer_value(json_object_get(e, "col")), 9);
	e = json_array_get(json_object_get(root, "errors"), 1);
	assert_null(json_object_get(e, "file"));
	assert_string_equal(
	    json_string_value(json_object_get(e, "message")), "fetch failed");
	json_decref(root);
	status_free(st);
}

static void
test_a_new_cycle_clears_the_lists(void **state)
{
	struct status *st = busy_status();
	json_t *root;

	(void)state;
	status_begin(st, T0 + 60000, "timer");
	status_set_source(st, "cfg", NULL);
	status_set_rejected(st, NULL, NULL);
	status_end(st, T0 + 60010);
	root = status_doc(st);
	assert_int_equal(json_array_size(json_object_get(root, "pending")), 0);
	assert_int_equal(json_array_size(json_object_get(root, "errors")), 0);
	assert_true(json_is_null(json_object_get(root, "rejected")));
	assert_true(json_is_null(
	    json_object_get(json_object_get(root, "source"), "commit")));
	assert_string_equal(
	    json_string_value(json_object_get(root, "outcome")), "converged");
	assert_int_equal(
	    json_integer_value(json_object_get(root, "cycles")), 2);
	json_decref(root);
	status_free(st);
}

static void
test_lists_are_capped_counts_are_not(void **state)
{
	struct status *st = status_new(NULL, 1000);
	struct status_item it;
	json_t *root;
	char name[32];
	int i;

	(void)state;
	status_begin(st, T0, "start");
	for (i = 0; i < STATUS_ITEMS_MAX + 50; i++) {
		snprintf(name, sizeof(name), "vm-%d", i);
		memset(&it, 0, sizeof(it));
		it.si_op = "create";
		it.si_kind = "VM";
		it.si_name = name;
		it.si_host = "local";
		status_add_drift(st, &it);
	}
	status_end(st, T0 + 1);
	root = status_doc(st);
	assert_int_equal(
	    json_array_size(json_object_get(root, "drift")), STATUS_ITEMS_MAX);
	assert_int_equal(json_integer_value(json_object_get(
	                     json_object_get(root, "counts"), "drift")),
	    STATUS_ITEMS_MAX + 50);
	json_decref(root);
	status_free(st);
}

/* ---- Metrics ---------------------------------------------------------- */

/* The value of a sample line "NAME VALUE" (no labels), or -1. */
static double
sample(const char *text, const char *name)
{
	const char *p = text;
	size_t n = strlen(name);

	while ((p = strstr(p, name)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return strtod(p + n + 1, NULL);
		p += n;
	}
	return -1;
}

static void
test_metrics_parse_as_prometheus_text(void **state)
{
	struct status *st = busy_status();
	char *text = written(st, status_write_metrics), *line, *save = NULL;
	char family[128] = "", help[128] = "", type[128] = "";
	regex_t re_help, re_type, re_sample;
	regmatch_t m[2];
	size_t nsamples = 0;

	(void)state;
	assert_int_equal(
	    regcomp(&re_help, "^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) [^ ].*$",
	        REG_EXTENDED),
	    0);
	assert_int_equal(regcomp(&re_type,
	                     "^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) "
	                     "(counter|gauge)$",
	                     REG_EXTENDED),
	    0);
	assert_int_equal(regcomp(&re_sample,
	                     "^([a-zA-Z_:][a-zA-Z0-9_:]*)"
	                     "(\\{[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|\\\\.)*\""
	                     "(,[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|\\\\.)*\")*"
	                     "\\})? -?[0-9][0-9.e+-]*$",
	                     REG_EXTENDED),
	    0);
	assert_true(strlen(text) > 0 && text[strlen(text) - 1] == '\n');
	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (regexec(&re_help, line, 2, m, 0) == 0) {
			snprintf(help, sizeof(help), "%.*s",
			    (int)(m[1].rm_eo - m[1].rm_so), line + m[1].rm_so);
			continue;
		}
		if (regexec(&re_type, line, 2, m, 0) == 0) {
			snprintf(type, sizeof(type), "%.*s",
			    (int)(m[1].rm_eo - m[1].rm_so), line + m[1].rm_so);
			/* TYPE right after HELP, for the same family. */
			assert_string_equal(type, help);
			snprintf(family, sizeof(family), "%s", type);
			continue;
		}
		if (regexec(&re_sample, line, 2, m, 0) != 0)
			fail_msg("not Prometheus text format: \"%s\"", line);
		/* Every sample belongs to the family last declared. */
		if ((size_t)(m[1].rm_eo - m[1].rm_so) != strlen(family) ||
		    strncmp(line, family, strlen(family)) != 0)
			fail_msg("sample \"%s\" is not under its # TYPE", line);
		nsamples++;
	}
	assert_true(nsamples >= 12);
	regfree(&re_help);
	regfree(&re_type);
	regfree(&re_sample);
	free(text);
	status_free(st);
}

static void
test_metrics_values(void **state)
{
	struct status *st = busy_status();
	char *text = written(st, status_write_metrics);

	(void)state;
	assert_true(sample(text, "xdc_cycles_total") == 1);
	assert_true(sample(text, "xdc_cycle_duration_seconds") == 0.25);
	assert_true(
	    sample(text, "xdc_last_cycle_timestamp_seconds") == 1700000000);
	assert_true(sample(text, "xdc_pending_actions") == 1);
	assert_true(sample(text, "xdc_deferred_actions") == 1);
	assert_true(sample(text, "xdc_drift_total") == 1);
	assert_true(sample(text, "xdc_config_valid") == 0);
	assert_true(sample(text, "xdc_managed_vms") == 7);
	assert_true(sample(text, "xdc_restart_limited_vms") == 1);
	assert_non_null(strstr(
	    text, "xdc_actions_total{op=\"create\",result=\"failed\"} 1\n"));
	assert_non_null(strstr(
	    text, "xdc_actions_total{op=\"restart\",result=\"done\"} 1\n"));
	assert_non_null(
	    strstr(text, "xdc_cycle_outcome{outcome=\"invalid\"} 1\n"));
	assert_non_null(
	    strstr(text, "xdc_cycle_outcome{outcome=\"converged\"} 0\n"));
	assert_non_null(strstr(text,
	    "xdc_info{source=\"https://git.example/dc.git@main\",commit="
	    "\"0123456789abcdef0123456789abcdef01234567\",host=\"xen-a\""));
	free(text);
	status_free(st);
}

static void
test_label_values_are_escaped(void **state)
{
	struct status *st = status_new(NULL, 1000);
	char *text;

	(void)state;
	status_begin(st, T0, "start");
	status_set_source(st, "dir with \"quotes\"\\and\nnewline", NULL);
	status_end(st, T0);
	text = written(st, status_write_metrics);
	assert_non_null(strstr(
	    text, "source=\"dir with \\\"quotes\\\"\\\\and\\nnewline\""));
	free(text);
	status_free(st);
}

static void
test_drift_counts_each_difference_once(void **state)
{
	struct status *st = status_new(NULL, 1000);
	struct status_item it;
	char *text;
	int c;

	(void)state;
	memset(&it, 0, sizeof(it));
	it.si_op = "create";
	it.si_kind = "VM";
	it.si_name = "web-2";
	it.si_host = "local";
	/* Found by three cycles in a row (it keeps failing): once. */
	for (c = 0; c < 3; c++) {
		status_begin(st, T0 + c, "retry");
		status_add_drift(st, &it);
		status_end(st, T0 + c);
	}
	/* Gone, then found again: a new difference. */
	status_begin(st, T0 + 10, "timer");
	status_end(st, T0 + 10);
	status_begin(st, T0 + 20, "hypervisor");
	status_add_drift(st, &it);
	status_end(st, T0 + 20);
	text = written(st, status_write_metrics);
	assert_true(sample(text, "xdc_drift_total") == 2);
	free(text);
	status_free(st);
}

static void
test_save_writes_both_files_atomically(void **state)
{
	struct status *st = busy_status();
	char dir[] = "/tmp/xdc-status-XXXXXX", path[128];
	struct dirent *de;
	struct stat sb;
	json_t *root;
	DIR *d;
	int n = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(status_save(st, dir), 0);
	assert_int_equal(status_save(st, dir), 0); /* replaces */
	snprintf(path, sizeof(path), "%s/%s", dir, STATUS_FILE);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0644);
	root = json_load_file(path, 0, NULL);
	assert_non_null(root);
	json_decref(root);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s", dir, STATUS_METRICS_FILE);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0644);
	unlink(path);
	/* No temporary file is left behind. */
	assert_non_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	assert_int_equal(n, 0);
	assert_int_equal(rmdir(dir), 0);
	/* A directory that is not there is an error, not a crash. */
	assert_int_not_equal(status_save(st, "/nonexistent/xdc"), 0);
	status_free(st);
}

/* What status_print printed from text, and what it returned in *rc. */
static char *
printed(const char *text, int running, int json, int *rc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	assert_non_null(fp);
	*rc =
	    status_print(fp, text, strlen(text), "/var/lib/xdc", running, json);
	assert_int_equal(fclose(fp), 0);
	return buf;
}

static void
test_print_reads_back_what_the_loop_wrote(void **state)
{
	struct status *st = busy_status();
	char *text = written(st, status_write_json), *out;
	int rc;

	(void)state;
	out = printed(text, 1, 0, &rc);
	/* busy_status's configuration is invalid: the exit says so. */
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "xdc run in /var/lib/xdc: running"));
	assert_non_null(strstr(out, "host xen-a"));
	assert_non_null(strstr(out, "outcome: invalid: commit fedcba987654"));
	assert_non_null(
	    strstr(out, "pending:\n  create VM web-2 on xen-a "
	                "[failed]: injected fault: create web-2\n"));
	assert_non_null(strstr(out, "  vms/web.yaml:3:9: error: memory:"));
	free(out);
	/* --json prints the file itself. */
	out = printed(text, -1, 1, &rc);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "\"format_version\": 1"));
	free(out);
	free(text);
	status_free(st);
}

static void
test_print_outcome_decides_the_exit(void **state)
{
	char *out;
	int rc;

	(void)state;
	out = printed("{\"outcome\": \"converged\"}", 0, 0, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "not running"));
	free(out);
	out = printed("{\"outcome\": \"pending\"}", 0, 1, &rc);
	assert_int_equal(rc, 0);
	free(out);
	out = printed("{}", 0, 0, &rc);
	assert_int_equal(rc, 1);
	free(out);
}

static void
test_print_refuses_what_is_not_a_status_file(void **state)
{
	char *out;
	int rc;

	(void)state;
	out = printed("[1, 2]", 0, 0, &rc);
	assert_true(rc < 0);
	assert_non_null(strstr(xdc_error_last(), "not a status file"));
	free(out);
	out = printed("{\"outcome\": ", 0, 0, &rc);
	assert_true(rc < 0);
	free(out);
	out = printed("{\"a\": 1, \"a\": 2}", 0, 0, &rc);
	assert_true(rc < 0);
	free(out);
}

/*
 * Found by fuzz_status: a timestamp beyond time_t's range was converted
 * to time_t anyway (undefined behaviour), and an item's "state" or "why"
 * that is not a string went to printf's %s as NULL.
 */
static void
test_print_survives_keys_of_the_wrong_type(void **state)
{
	static const char *const bad[] = {
		"{\"timestamp\": 171844674407370955161695258045.552}",
		"{\"timestamp\": -1e300}",
		"{\"timestamp\": \"yesterday\"}",
		"{\"pending\": [{\"state\": 1, \"why\": [], \"op\": {}}]}",
		"{\"drift\": [7, null], \"errors\": [{\"file\": 1}, 2]}",
		"{\"source\": [], \"rejected\": {\"path\": 3}, "
		"\"counts\": 1}",
	};
	char *out;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		out = printed(bad[i], 0, 0, &rc);
		assert_int_equal(rc, 1);
		assert_non_null(strstr(out, "last cycle: "));
		assert_null(strstr(out, "(null)"));
		free(out);
	}
	out = printed(bad[0], 0, 0, &rc);
	assert_non_null(strstr(out, "(? s ago,"));
	free(out);
	out = printed(bad[3], 0, 0, &rc);
	assert_non_null(strstr(out, "pending:\n     on \n"));
	free(out);
}

static void
test_sweep_removes_only_temporary_files(void **state)
{
	static const char *const gone[] = { ".status.json.tmp-Ab12Cd",
		".metrics.prom.tmp-xY9zzz" };
	/* A user's copies among them: only xdc's own pattern goes. */
	static const char *const kept[] = { STATUS_FILE, STATUS_METRICS_FILE,
		"lock", ".status.json.tmp-toolong", "status.json.tmp-Ab12Cd",
		".other.json.tmp-Ab12Cd", ".status.json.backup",
		".metrics.prom.orig01" };
	char dir[] = "/tmp/xdc-status-XXXXXX", path[128];
	size_t i;
	FILE *fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	for (i = 0; i < 2 + 8; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir,
		    i < 2 ? gone[i] : kept[i - 2]);
		assert_non_null(fp = fopen(path, "w"));
		assert_int_equal(fclose(fp), 0);
	}
	status_sweep(dir);
	for (i = 0; i < 2 + 8; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir,
		    i < 2 ? gone[i] : kept[i - 2]);
		assert_int_equal(access(path, F_OK), i < 2 ? -1 : 0);
		unlink(path);
	}
	assert_int_equal(rmdir(dir), 0);
}

static void
test_outcome_names(void **state)
{
	(void)state;
	assert_string_equal(status_outcome_name(STATUS_CONVERGED), "converged");
	assert_string_equal(status_outcome_name(STATUS_APPLIED), "applied");
	assert_string_equal(status_outcome_name(STATUS_PENDING), "pending");
	assert_string_equal(status_outcome_name(STATUS_FAILED), "failed");
	assert_string_equal(status_outcome_name(STATUS_INVALID), "invalid");
	assert_string_equal(
	    status_outcome_name(STATUS_UNREACHABLE), "unreachable");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_has_the_documented_keys),
		cmocka_unit_test(test_counts_and_lists),
		cmocka_unit_test(test_a_new_cycle_clears_the_lists),
		cmocka_unit_test(test_lists_are_capped_counts_are_not),
		cmocka_unit_test(test_metrics_parse_as_prometheus_text),
		cmocka_unit_test(test_metrics_values),
		cmocka_unit_test(test_label_values_are_escaped),
		cmocka_unit_test(test_drift_counts_each_difference_once),
		cmocka_unit_test(test_save_writes_both_files_atomically),
		cmocka_unit_test(test_outcome_names),
		cmocka_unit_test(test_sweep_removes_only_temporary_files),
		cmocka_unit_test(test_print_reads_back_what_the_loop_wrote),
		cmocka_unit_test(test_print_outcome_decides_the_exit),
		cmocka_unit_test(test_print_refuses_what_is_not_a_status_file),
		cmocka_unit_test(test_print_survives_keys_of_the_wrong_type),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
