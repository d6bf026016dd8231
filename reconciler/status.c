/*
 * The status object (see status.h and docs/status.md): what the loop
 * keeps for its life -- counters by op and result, drift seen, the last
 * success -- and what one cycle found, and its saving. status.json and
 * metrics.prom are written from it (status_json.c, status_prom.c) and
 * replaced whole after each cycle (xdc_file_replace: a temporary file,
 * fsync, rename), so a reader -- `xdc status`, node_exporter -- never
 * sees half of one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "reconciler/status.h"
#include "reconciler/status_priv.h"
#include "reconciler/verify.h"
#include "base/diag.h"
#include "base/error.h"
#include "base/file.h"

const char *const status_outcome_names[STATUS__COUNT] = {
	"converged",
	"applied",
	"pending",
	"failed",
	"invalid",
	"unverified",
	"unreachable",
};

const char *const status_result_names[STATUS_RESULT__COUNT] = {
	"done",
	"failed",
	"skipped",
	"held",
	"other_host",
};

const char *
status_outcome_name(enum status_outcome o)
{
	return (unsigned)o < STATUS__COUNT ? status_outcome_names[o]
	                                   : "unknown";
}

const char *
status_result_name(enum status_result r)
{
	return (unsigned)r < STATUS_RESULT__COUNT ? status_result_names[r]
	                                          : "unknown";
}

/* ---- Small helpers ---------------------------------------------------- */

static void
set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = s != NULL ? xdc_strdup(s) : NULL;
}

json_t *
status_jstr(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

/* "2024-05-01T12:00:00Z" for ms since the epoch, or null for 0. */
json_t *
status_jtime(int64_t ms)
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
	free(st->st_unv_commit);
	free(st->st_unv_reason);
	free(st->st_unv_key);
	free(st->st_message);
	json_decref(st->st_pool);
	free(st);
}

void
status_set_pool(struct status *st, json_t *pool)
{
	json_decref(st->st_pool);
	st->st_pool = pool;
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
status_set_unverified(
    struct status *st, const char *commit, const char *reason, const char *key)
{
	set_str(&st->st_unv_commit, reason != NULL ? commit : NULL);
	set_str(&st->st_unv_reason, reason);
	set_str(&st->st_unv_key, reason != NULL ? key : NULL);
}

void
status_count_unverified(struct status *st, const char *reason)
{
	int r;

	for (r = VERIFY_UNSIGNED; r < VERIFY__COUNT; r++)
		if (!strcmp(reason, verify_reason_name(r)))
			st->st_unverified[r]++;
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
	json_object_set_new(o, "message", status_jstr(message));
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

	json_object_set_new(o, "op", status_jstr(it->si_op));
	json_object_set_new(o, "kind", status_jstr(it->si_kind));
	json_object_set_new(o, "name", status_jstr(it->si_name));
	json_object_set_new(o, "host", status_jstr(it->si_host));
	if (it->si_state != NULL)
		json_object_set_new(o, "state", json_string(it->si_state));
	if (it->si_why != NULL)
		json_object_set_new(o, "why", json_string(it->si_why));
	if (it->si_failures > 0)
		json_object_set_new(
		    o, "failures", json_integer(it->si_failures));
	if (it->si_retry_at != 0)
		json_object_set_new(
		    o, "retry_at", status_jtime(it->si_retry_at));
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

void
status_count_reaped(struct status *st)
{
	st->st_reaped_total++;
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
