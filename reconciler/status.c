/*
 * The status file and the metrics file (see status.h and docs/status.md).
 * Both are replaced whole after each cycle (xdc_file_replace: a temporary
 * file, fsync, rename), so a reader -- `xdc status`, node_exporter -- never
 * sees half of one. The status file's reader, for `xdc status`, is here too:
 * whatever the file holds, it prints or refuses, never trusting a key's type.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "reconciler/status.h"
#include "base/diag.h"
#include "base/error.h"
#include "base/file.h"

static const char *const outcome_names[STATUS__COUNT] = {
	"converged",
	"applied",
	"pending",
	"failed",
	"invalid",
	"unreachable",
};

static const char *const result_names[STATUS_RESULT__COUNT] = {
	"done",
	"failed",
	"skipped",
	"held",
	"other_host",
};

/* Counters of one op, by result. */
struct op_counts {
	char *oc_op; /* first: the sort key */
	uint64_t oc_n[STATUS_RESULT__COUNT];
};

struct keyset {
	char **ks_v; /* sorted */
	size_t ks_n;
};

struct status {
	/* For the life of the loop. */
	char *st_host;
	int64_t st_interval;
	long st_pid;
	uint64_t st_cycles;
	uint64_t st_drift_total;
	struct op_counts *st_ops; /* sorted by op */
	size_t st_nops;
	struct keyset st_drift_prev;
	int64_t st_last_success;
	int64_t st_last_drift;

	/* One cycle's. */
	int64_t st_start;
	int64_t st_duration;
	char *st_trigger;
	char *st_path;
	char *st_commit;
	char *st_rej_path;
	char *st_rej_commit;
	enum status_outcome st_outcome;
	char *st_message;
	size_t st_planned;
	size_t st_results[STATUS_RESULT__COUNT];
	size_t st_managed;
	size_t st_limited;
	json_t *st_pending;
	json_t *st_deferred;
	json_t *st_drift;
	json_t *st_errors;
	size_t st_npending, st_ndeferred, st_ndrift, st_nerrors;
	struct keyset st_drift_cur;
};

const char *
status_outcome_name(enum status_outcome o)
{
	return (unsigned)o < STATUS__COUNT ? outcome_names[o] : "unknown";
}

const char *
status_result_name(enum status_result r)
{
	return (unsigned)r < STATUS_RESULT__COUNT ? result_names[r] : "unknown";
}

/* ---- Small helpers ---------------------------------------------------- */

static void
set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = s != NULL ? xdc_strdup(s) : NULL;
}

static json_t *
jstr(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

/* "2024-05-01T12:00:00Z" for ms since the epoch, or null for 0. */
static json_t *
jtime(int64_t ms)
{
	char buf[32];
	struct tm tm;
	time_t t = (time_t)(ms / 1000);

	if (ms == 0 || gmtime_r(&t, &tm) == NULL)
		return json_null();
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

static void
keyset_clear(struct keyset *ks)
{
	size_t i;

	for (i = 0; i < ks->ks_n; i++)
		free(ks->ks_v[i]);
	free(ks->ks_v);
	ks->ks_v = NULL;
	ks->ks_n = 0;
}

/* 1 when key was already in ks; added otherwise. */
static int
keyset_add(struct keyset *ks, const char *key)
{
	size_t lo = 0, hi = ks->ks_n, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(key, ks->ks_v[mid]);
		if (c == 0)
			return 1;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	ks->ks_v = xdc_reallocarray(ks->ks_v, ks->ks_n + 1, sizeof(*ks->ks_v));
	memmove(&ks->ks_v[lo + 1], &ks->ks_v[lo],
	    (ks->ks_n - lo) * sizeof(*ks->ks_v));
	ks->ks_v[lo] = xdc_strdup(key);
	ks->ks_n++;
	return 0;
}

static int
keyset_has(const struct keyset *ks, const char *key)
{
	size_t lo = 0, hi = ks->ks_n, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(key, ks->ks_v[mid]);
		if (c == 0)
			return 1;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

/* ---- The object ------------------------------------------------------- */

static void
clear_cycle(struct status *st)
{
	json_decref(st->st_pending);
	json_decref(st->st_deferred);
	json_decref(st->st_drift);
	json_decref(st->st_errors);
	st->st_pending = json_array();
	st->st_deferred = json_array();
	st->st_drift = json_array();
	st->st_errors = json_array();
	st->st_npending = st->st_ndeferred = st->st_ndrift = st->st_nerrors = 0;
	st->st_planned = 0;
	memset(st->st_results, 0, sizeof(st->st_results));
	st->st_outcome = STATUS_CONVERGED;
	set_str(&st->st_message, NULL);
	keyset_clear(&st->st_drift_cur);
}

struct status *
status_new(const char *host, int64_t interval_ms)
{
	struct status *st = xdc_calloc(1, sizeof(*st));

	st->st_host = host != NULL ? xdc_strdup(host) : NULL;
	st->st_interval = interval_ms;
	st->st_pid = (long)getpid();
	clear_cycle(st);
	return st;
}

void
status_free(struct status *st)
{
	size_t i;

	if (st == NULL)
		return;
	clear_cycle(st);
	json_decref(st->st_pending);
	json_decref(st->st_deferred);
	json_decref(st->st_drift);
	json_decref(st->st_errors);
	keyset_clear(&st->st_drift_prev);
	for (i = 0; i < st->st_nops; i++)
		free(st->st_ops[i].oc_op);
	free(st->st_ops);
	free(st->st_host);
	free(st->st_trigger);
	free(st->st_path);
	free(st->st_commit);
	free(st->st_rej_path);
	free(st->st_rej_commit);
	free(st->st_message);
	free(st);
}

void
status_begin(struct status *st, int64_t now, const char *trigger)
{
	clear_cycle(st);
	st->st_start = now;
	st->st_duration = 0;
	set_str(&st->st_trigger, trigger);
}

void
status_end(struct status *st, int64_t now)
{
	st->st_duration = now > st->st_start ? now - st->st_start : 0;
	st->st_cycles++;
	if (st->st_outcome == STATUS_CONVERGED ||
	    st->st_outcome == STATUS_APPLIED)
		st->st_last_success = now;
	if (st->st_ndrift > 0)
		st->st_last_drift = st->st_start;
	/* What this cycle found is what the next one compares with. */
	keyset_clear(&st->st_drift_prev);
	st->st_drift_prev = st->st_drift_cur;
	memset(&st->st_drift_cur, 0, sizeof(st->st_drift_cur));
}

void
status_set_source(struct status *st, const char *path, const char *commit)
{
	set_str(&st->st_path, path);
	set_str(&st->st_commit, commit != NULL && *commit ? commit : NULL);
}

void
status_set_rejected(struct status *st, const char *path, const char *commit)
{
	set_str(&st->st_rej_path, path);
	set_str(&st->st_rej_commit, commit != NULL && *commit ? commit : NULL);
}

void
status_set_outcome(
    struct status *st, enum status_outcome o, const char *message)
{
	st->st_outcome = o;
	set_str(&st->st_message, message);
}

enum status_outcome
status_outcome(const struct status *st)
{
	return st->st_outcome;
}

void
status_set_gauges(struct status *st, size_t managed_vms, size_t limited)
{
	st->st_managed = managed_vms;
	st->st_limited = limited;
}

void
status_add_error(struct status *st, const char *file, unsigned line,
    unsigned col, const char *message)
{
	json_t *o;

	if (st->st_nerrors++ >= STATUS_ITEMS_MAX)
		return;
	o = json_object();
	if (file != NULL) {
		json_object_set_new(o, "file", json_string(file));
		json_object_set_new(o, "line", json_integer(line));
		json_object_set_new(o, "col", json_integer(col));
	}
	json_object_set_new(o, "message", jstr(message));
	json_array_append_new(st->st_errors, o);
}

void
status_add_diags(struct status *st, const struct xdc_diags *diags)
{
	const struct xdc_diag *d;
	size_t i;

	for (i = 0; diags != NULL && i < xdc_diags_count(diags); i++) {
		d = xdc_diags_get(diags, i);
		status_add_error(
		    st, d->dg_file, d->dg_line, d->dg_col, d->dg_msg);
	}
}

void
status_count(struct status *st, const char *op, enum status_result r)
{
	struct op_counts *oc;
	size_t i;

	if ((unsigned)r >= STATUS_RESULT__COUNT)
		return;
	st->st_results[r]++;
	for (i = 0; i < st->st_nops; i++)
		if (strcmp(op, st->st_ops[i].oc_op) <= 0)
			break;
	if (i == st->st_nops || strcmp(op, st->st_ops[i].oc_op) != 0) {
		st->st_ops = xdc_reallocarray(
		    st->st_ops, st->st_nops + 1, sizeof(*st->st_ops));
		memmove(&st->st_ops[i + 1], &st->st_ops[i],
		    (st->st_nops - i) * sizeof(*st->st_ops));
		st->st_nops++;
		memset(&st->st_ops[i], 0, sizeof(st->st_ops[i]));
		st->st_ops[i].oc_op = xdc_strdup(op);
	}
	oc = &st->st_ops[i];
	oc->oc_n[r]++;
}

void
status_set_planned(struct status *st, size_t n)
{
	st->st_planned = n;
}

static json_t *
item_json(const struct status_item *it)
{
	json_t *o = json_object(), *ch;

	json_object_set_new(o, "op", jstr(it->si_op));
	json_object_set_new(o, "kind", jstr(it->si_kind));
	json_object_set_new(o, "name", jstr(it->si_name));
	json_object_set_new(o, "host", jstr(it->si_host));
	if (it->si_state != NULL)
		json_object_set_new(o, "state", json_string(it->si_state));
	if (it->si_why != NULL)
		json_object_set_new(o, "why", json_string(it->si_why));
	if (it->si_failures > 0)
		json_object_set_new(
		    o, "failures", json_integer(it->si_failures));
	if (it->si_retry_at != 0)
		json_object_set_new(o, "retry_at", jtime(it->si_retry_at));
	if (it->si_changes != NULL &&
	    (ch = json_loads(it->si_changes, 0, NULL)) != NULL)
		json_object_set_new(o, "changes", ch);
	return o;
}

static void
add_item(json_t *arr, size_t *n, const struct status_item *it)
{
	if ((*n)++ < STATUS_ITEMS_MAX)
		json_array_append_new(arr, item_json(it));
}

void
status_add_pending(struct status *st, const struct status_item *it)
{
	add_item(st->st_pending, &st->st_npending, it);
}

void
status_add_deferred(struct status *st, const struct status_item *it)
{
	add_item(st->st_deferred, &st->st_ndeferred, it);
}

void
status_add_drift(struct status *st, const struct status_item *it)
{
	char *key = NULL;

	xdc_asprintf(&key, "%s/%s/%s/%s", it->si_op ? it->si_op : "",
	    it->si_kind ? it->si_kind : "", it->si_name ? it->si_name : "",
	    it->si_host ? it->si_host : "");
	/* Counted once while it lasts, not once per cycle that sees it. */
	if (!keyset_add(&st->st_drift_cur, key) &&
	    !keyset_has(&st->st_drift_prev, key))
		st->st_drift_total++;
	free(key);
	add_item(st->st_drift, &st->st_ndrift, it);
}

/* ---- status.json ------------------------------------------------------ */

static json_t *
status_json(const struct status *st)
{
	json_t *root = json_object(), *o;

	json_object_set_new(
	    root, "format_version", json_integer(STATUS_FORMAT));
	json_object_set_new(root, "pid", json_integer(st->st_pid));
	json_object_set_new(root, "host", jstr(st->st_host));
	json_object_set_new(root, "interval_seconds",
	    json_real((double)st->st_interval / 1000));
	json_object_set_new(root, "time", jtime(st->st_start));
	json_object_set_new(
	    root, "timestamp", json_real((double)st->st_start / 1000));
	json_object_set_new(root, "duration_seconds",
	    json_real((double)st->st_duration / 1000));
	json_object_set_new(root, "trigger", jstr(st->st_trigger));
	json_object_set_new(
	    root, "cycles", json_integer((json_int_t)st->st_cycles));
	json_object_set_new(
	    root, "outcome", json_string(status_outcome_name(st->st_outcome)));
	json_object_set_new(root, "message", jstr(st->st_message));

	o = json_object();
	json_object_set_new(o, "path", jstr(st->st_path));
	json_object_set_new(o, "commit", jstr(st->st_commit));
	json_object_set_new(root, "source", o);
	json_object_set_new(root, "last_good_commit", jstr(st->st_commit));
	if (st->st_rej_path != NULL) {
		o = json_object();
		json_object_set_new(o, "path", jstr(st->st_rej_path));
		json_object_set_new(o, "commit", jstr(st->st_rej_commit));
		json_object_set_new(root, "rejected", o);
	} else {
		json_object_set_new(root, "rejected", json_null());
	}
	json_object_set_new(
	    root, "config_valid", json_boolean(st->st_rej_path == NULL));

	o = json_object();
	json_object_set_new(
	    o, "planned", json_integer((json_int_t)st->st_planned));
	json_object_set_new(
	    o, "done", json_integer((json_int_t)st->st_results[STATUS_DONE]));
	json_object_set_new(o, "failed",
	    json_integer((json_int_t)st->st_results[STATUS_FAILED_ACTION]));
	json_object_set_new(o, "skipped",
	    json_integer((json_int_t)st->st_results[STATUS_SKIPPED]));
	json_object_set_new(
	    o, "held", json_integer((json_int_t)st->st_results[STATUS_HELD]));
	json_object_set_new(o, "other_hosts",
	    json_integer((json_int_t)st->st_results[STATUS_OTHER_HOST]));
	json_object_set_new(
	    o, "pending", json_integer((json_int_t)st->st_npending));
	json_object_set_new(
	    o, "deferred", json_integer((json_int_t)st->st_ndeferred));
	json_object_set_new(
	    o, "drift", json_integer((json_int_t)st->st_ndrift));
	json_object_set_new(
	    o, "errors", json_integer((json_int_t)st->st_nerrors));
	json_object_set_new(root, "counts", o);
	json_object_set_new(
	    root, "managed_vms", json_integer((json_int_t)st->st_managed));
	json_object_set_new(root, "restart_limited_vms",
	    json_integer((json_int_t)st->st_limited));

	json_object_set(root, "pending", st->st_pending);
	json_object_set(root, "deferred", st->st_deferred);
	json_object_set(root, "drift", st->st_drift);
	json_object_set(root, "errors", st->st_errors);
	json_object_set_new(root, "last_success", jtime(st->st_last_success));
	json_object_set_new(root, "last_drift", jtime(st->st_last_drift));
	return root;
}

int
status_write_json(const struct status *st, FILE *fp)
{
	json_t *root = status_json(st);
	int rc;

	rc = json_dumpf(root, fp, JSON_INDENT(2) | JSON_REAL_PRECISION(13));
	json_decref(root);
	if (rc != 0 || fputc('\n', fp) == EOF)
		return xdc_error(XDC_ERR, "cannot write the status");
	return 0;
}

/* ---- metrics.prom ----------------------------------------------------- */

/* A label value: backslash, double quote and newline escaped. */
static void
label(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; s != NULL && *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(fp, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", fp);
		else
			fputc(*s, fp);
	}
	fputc('"', fp);
}

static void
head(FILE *fp, const char *name, const char *type, const char *help)
{
	fprintf(fp, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
metric(FILE *fp, const char *name, const char *type, const char *help, double v)
{
	head(fp, name, type, help);
	fprintf(fp, "%s %.17g\n", name, v);
}

int
status_write_metrics(const struct status *st, FILE *fp)
{
	size_t i, r;
	int o;

	metric(fp, "xdc_cycles_total", "counter",
	    "Reconciliation cycles run since xdc run started.",
	    (double)st->st_cycles);
	metric(fp, "xdc_cycle_duration_seconds", "gauge",
	    "How long the last cycle took.", (double)st->st_duration / 1000);
	metric(fp, "xdc_last_cycle_timestamp_seconds", "gauge",
	    "When the last cycle started, in seconds since the epoch.",
	    (double)st->st_start / 1000);
	metric(fp, "xdc_last_success_timestamp_seconds", "gauge",
	    "When a cycle last ended converged or applied, in seconds since "
	    "the epoch; 0 when none has.",
	    (double)st->st_last_success / 1000);

	head(fp, "xdc_cycle_outcome", "gauge",
	    "1 for the outcome of the last cycle, 0 for the others.");
	for (o = 0; o < STATUS__COUNT; o++) {
		fputs("xdc_cycle_outcome{outcome=", fp);
		label(fp, outcome_names[o]);
		fprintf(fp, "} %d\n", (int)st->st_outcome == o);
	}

	head(fp, "xdc_actions_total", "counter",
	    "Actions of this host's plans by operation and result (done, "
	    "failed, skipped, held, other_host).");
	for (i = 0; i < st->st_nops; i++)
		for (r = 0; r < STATUS_RESULT__COUNT; r++) {
			if (st->st_ops[i].oc_n[r] == 0)
				continue;
			fputs("xdc_actions_total{op=", fp);
			label(fp, st->st_ops[i].oc_op);
			fputs(",result=", fp);
			label(fp, result_names[r]);
			fprintf(fp, "} %llu\n",
			    (unsigned long long)st->st_ops[i].oc_n[r]);
		}

	metric(fp, "xdc_pending_actions", "gauge",
	    "Actions of the last cycle not done: failed, backing off, held "
	    "by restart_limit, or waiting for another host.",
	    (double)st->st_npending);
	metric(fp, "xdc_deferred_actions", "gauge",
	    "Actions the last plan deferred by policy (min_running, "
	    "maintenance windows, restart policy).",
	    (double)st->st_ndeferred);
	metric(fp, "xdc_drift_total", "counter",
	    "Differences between the declared and the observed state found, "
	    "each counted once while it lasts.",
	    (double)st->st_drift_total);
	metric(fp, "xdc_last_drift_timestamp_seconds", "gauge",
	    "When a cycle last found drift, in seconds since the epoch; 0 "
	    "when none has.",
	    (double)st->st_last_drift / 1000);
	metric(fp, "xdc_config_valid", "gauge",
	    "1 when the newest configuration was taken, 0 when it was "
	    "refused and the last good one stays in force.",
	    st->st_rej_path == NULL ? 1 : 0);
	metric(fp, "xdc_managed_vms", "gauge",
	    "Domains xdc manages, as the last cycle observed them.",
	    (double)st->st_managed);
	metric(fp, "xdc_restart_limited_vms", "gauge",
	    "VMs whose restarts are held back because their SLA's "
	    "restart_limit is reached.",
	    (double)st->st_limited);

	head(fp, "xdc_info", "gauge",
	    "Always 1: the configuration in force, its commit and this "
	    "agent's host.");
	fputs("xdc_info{source=", fp);
	label(fp, st->st_path != NULL ? st->st_path : "");
	fputs(",commit=", fp);
	label(fp, st->st_commit != NULL ? st->st_commit : "");
	fputs(",host=", fp);
	label(fp, st->st_host != NULL ? st->st_host : "");
	fputs(",version=", fp);
	label(fp, XDC_VERSION);
	fputs("} 1\n", fp);
	if (ferror(fp))
		return xdc_error(XDC_ERR, "cannot write the metrics");
	return 0;
}

/* ---- Saving ----------------------------------------------------------- */

/* One of the two writers, as xdc_file_replace calls it. */
struct save {
	const struct status *sv_st;
	int (*sv_fn)(const struct status *, FILE *);
};

static int
save_write(void *arg, FILE *fp)
{
	const struct save *sv = arg;

	return sv->sv_fn(sv->sv_st, fp);
}

/* dir/name replaced whole by what fn writes of st. */
static int
save_one(const struct status *st, const char *dir, const char *name,
    int (*fn)(const struct status *, FILE *))
{
	struct save sv = { st, fn };
	char *path = NULL;
	int rc;

	xdc_asprintf(&path, "%s/%s", dir, name);
	rc = xdc_file_replace(path, 0644, save_write, &sv);
	free(path);
	return rc;
}

void
status_sweep(const char *dir)
{
	char *path = NULL;

	xdc_asprintf(&path, "%s/%s", dir, STATUS_FILE);
	xdc_file_sweep(path);
	free(path);
	xdc_asprintf(&path, "%s/%s", dir, STATUS_METRICS_FILE);
	xdc_file_sweep(path);
	free(path);
}

int
status_save(const struct status *st, const char *dir)
{
	int rc;

	if ((rc = save_one(st, dir, STATUS_FILE, status_write_json)))
		return rc;
	return save_one(st, dir, STATUS_METRICS_FILE, status_write_metrics);
}

/* ---- Reading status.json ---------------------------------------------- */

/*
 * Every string of the status, as a terminal may show it: a message quotes
 * the configuration's keys and values, and the file is anyone's who can
 * write the state directory (xdc_escape).
 */
static void
escape_strings(json_t *v)
{
	const char *key;
	json_t *x;
	size_t i;
	char *e;

	if (json_is_object(v)) {
		json_object_foreach(v, key, x)
		{
			escape_strings(x);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x)
		{
			escape_strings(x);
		}
	} else if (json_is_string(v)) {
		e = xdc_escape(json_string_value(v));
		if (strcmp(e, json_string_value(v)) != 0)
			json_string_set(v, e);
		free(e);
	}
}

static const char *
str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

static void
print_items(FILE *fp, const char *title, json_t *arr)
{
	json_t *it, *v;
	size_t i;

	if (json_array_size(arr) == 0)
		return;
	fprintf(fp, "%s:\n", title);
	json_array_foreach(arr, i, it)
	{
		fprintf(fp, "  %s %s %s on %s", str(it, "op"), str(it, "kind"),
		    str(it, "name"), str(it, "host"));
		if (json_is_string(v = json_object_get(it, "state")))
			fprintf(fp, " [%s]", json_string_value(v));
		if (json_is_string(v = json_object_get(it, "why")))
			fprintf(fp, ": %s", json_string_value(v));
		fputc('\n', fp);
	}
}

static void
print_errors(FILE *fp, json_t *arr)
{
	json_t *e;
	size_t i;

	if (json_array_size(arr) == 0)
		return;
	fprintf(fp, "errors:\n");
	json_array_foreach(arr, i, e)
	{
		if (json_object_get(e, "file") != NULL)
			fprintf(fp, "  %s:%lld:%lld: error: %s\n",
			    str(e, "file"),
			    (long long)json_integer_value(
			        json_object_get(e, "line")),
			    (long long)json_integer_value(
			        json_object_get(e, "col")),
			    str(e, "message"));
		else
			fprintf(fp, "  %s\n", str(e, "message"));
	}
}

/*
 * How long ago the cycle began, "?" when the timestamp is not one: the file
 * may be edited or from another version, and a double beyond time_t's
 * range does not convert.
 */
static void
print_age(FILE *fp, json_t *ts)
{
	double t = json_number_value(ts);

	if (json_is_number(ts) && t >= 0 && t < 1e15)
		fprintf(fp, "%.0f s ago", difftime(time(NULL), (time_t)t));
	else
		fprintf(fp, "? s ago");
}

static void
print_text(FILE *fp, json_t *root, const char *dir, int running)
{
	json_t *src = json_object_get(root, "source");
	json_t *rej = json_object_get(root, "rejected");
	json_t *c = json_object_get(root, "counts");

	fprintf(fp, "xdc run in %s: %s", dir,
	    running > 0    ? "running"
	    : running == 0 ? "not running"
	                   : "unknown");
	fprintf(fp, " (pid %lld",
	    (long long)json_integer_value(json_object_get(root, "pid")));
	if (json_is_string(json_object_get(root, "host")))
		fprintf(fp, ", host %s", str(root, "host"));
	fprintf(fp, ")\n");
	fprintf(fp, "last cycle: %s (", str(root, "time"));
	print_age(fp, json_object_get(root, "timestamp"));
	fprintf(fp, ", %.3f s, trigger %s, cycle %lld)\n",
	    json_number_value(json_object_get(root, "duration_seconds")),
	    str(root, "trigger"),
	    (long long)json_integer_value(json_object_get(root, "cycles")));
	fprintf(fp, "outcome: %s", str(root, "outcome"));
	if (json_is_string(json_object_get(root, "message")))
		fprintf(fp, ": %s", str(root, "message"));
	fputc('\n', fp);
	fprintf(fp, "source: %s",
	    json_is_string(json_object_get(src, "path")) ? str(src, "path")
	                                                 : "none");
	if (json_is_string(json_object_get(src, "commit")))
		fprintf(fp, " commit %s", str(src, "commit"));
	fputc('\n', fp);
	if (json_is_object(rej)) {
		fprintf(fp, "refused: %s", str(rej, "path"));
		if (json_is_string(json_object_get(rej, "commit")))
			fprintf(fp, " commit %s", str(rej, "commit"));
		fputc('\n', fp);
	}
	fprintf(fp,
	    "actions: %lld planned, %lld done, %lld failed, %lld held, "
	    "%lld skipped, %lld for other hosts, %lld deferred\n",
	    (long long)json_integer_value(json_object_get(c, "planned")),
	    (long long)json_integer_value(json_object_get(c, "done")),
	    (long long)json_integer_value(json_object_get(c, "failed")),
	    (long long)json_integer_value(json_object_get(c, "held")),
	    (long long)json_integer_value(json_object_get(c, "skipped")),
	    (long long)json_integer_value(json_object_get(c, "other_hosts")),
	    (long long)json_integer_value(json_object_get(c, "deferred")));
	print_items(fp, "pending", json_object_get(root, "pending"));
	print_items(fp, "deferred", json_object_get(root, "deferred"));
	print_items(fp, "drift", json_object_get(root, "drift"));
	print_errors(fp, json_object_get(root, "errors"));
}

int
status_print(FILE *fp, const char *text, size_t len, const char *dir,
    int running, int json)
{
	json_error_t jerr;
	json_t *root;
	const char *outcome;
	char *shown;
	int rc;

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL || !json_is_object(root)) {
		rc = xdc_error(XDC_ERR, "not a status file: %s",
		    root == NULL ? jerr.text : "not a JSON object");
		goto out;
	}
	if (json) {
		if (json_dumpf(root, fp, JSON_INDENT(2)) != 0 ||
		    fputc('\n', fp) == EOF) {
			rc = xdc_error(XDC_ERR, "cannot write the status");
			goto out;
		}
	} else {
		escape_strings(root);
		shown = xdc_escape(dir);
		print_text(fp, root, shown, running);
		free(shown);
	}
	outcome = str(root, "outcome");
	rc = !strcmp(outcome, "converged") || !strcmp(outcome, "applied") ||
	             !strcmp(outcome, "pending")
	         ? 0
	         : 1;
out:
	json_decref(root);
	return rc;
}
