/*
 * status.json (see status.h and docs/status.md): written from the status
 * object after each cycle, and read back for `xdc status`. The reader
 * takes the file as it finds it -- edited, from another version, written
 * by whoever can write the state directory: whatever it holds, it prints
 * or refuses, never trusting a key's type, and escapes every string it
 * shows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "reconciler/status.h"
#include "reconciler/status_priv.h"
#include "base/diag.h"
#include "base/error.h"

/* ---- status.json ------------------------------------------------------ */

static json_t *
status_json(const struct status *st)
{
	json_t *root = json_object(), *o;

	json_object_set_new(
	    root, "format_version", json_integer(STATUS_FORMAT));
	json_object_set_new(root, "pid", json_integer(st->st_pid));
	json_object_set_new(root, "host", status_jstr(st->st_host));
	json_object_set_new(root, "interval_seconds",
	    json_real((double)st->st_interval / 1000));
	json_object_set_new(root, "time", status_jtime(st->st_start));
	json_object_set_new(
	    root, "timestamp", json_real((double)st->st_start / 1000));
	json_object_set_new(root, "duration_seconds",
	    json_real((double)st->st_duration / 1000));
	json_object_set_new(root, "trigger", status_jstr(st->st_trigger));
	json_object_set_new(
	    root, "cycles", json_integer((json_int_t)st->st_cycles));
	json_object_set_new(
	    root, "outcome", json_string(status_outcome_name(st->st_outcome)));
	json_object_set_new(root, "message", status_jstr(st->st_message));

	o = json_object();
	json_object_set_new(o, "path", status_jstr(st->st_path));
	json_object_set_new(o, "commit", status_jstr(st->st_commit));
	json_object_set_new(root, "source", o);
	json_object_set_new(
	    root, "last_good_commit", status_jstr(st->st_commit));
	if (st->st_rej_path != NULL) {
		o = json_object();
		json_object_set_new(o, "path", status_jstr(st->st_rej_path));
		json_object_set_new(
		    o, "commit", status_jstr(st->st_rej_commit));
		json_object_set_new(root, "rejected", o);
	} else {
		json_object_set_new(root, "rejected", json_null());
	}
	if (st->st_unv_reason != NULL) {
		o = json_object();
		json_object_set_new(
		    o, "commit", status_jstr(st->st_unv_commit));
		json_object_set_new(
		    o, "reason", status_jstr(st->st_unv_reason));
		json_object_set_new(o, "key", status_jstr(st->st_unv_key));
		json_object_set_new(root, "unverified", o);
	} else {
		json_object_set_new(root, "unverified", json_null());
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
	if (st->st_pool != NULL)
		json_object_set(root, "pool", st->st_pool);
	json_object_set_new(
	    root, "last_success", status_jtime(st->st_last_success));
	json_object_set_new(
	    root, "last_drift", status_jtime(st->st_last_drift));
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

/* "pool dc1 via etcd ...: 2 live, 1 lost (xen-c), 0 fenced; lease ..." */
static void
print_pool(FILE *fp, json_t *p)
{
	static const char *const states[] = { "live", "lost", "fenced" };
	json_t *hosts = json_object_get(p, "hosts"), *v;
	const char *name;
	size_t i;
	int n;

	if (!json_is_object(p))
		return;
	fprintf(fp, "pool: %s at %s", str(p, "pool"), str(p, "etcd"));
	if (json_is_string(json_object_get(p, "waiting")))
		fprintf(fp, ", waiting: %s", str(p, "waiting"));
	fputc('\n', fp);
	fprintf(fp, "hosts:");
	for (i = 0; i < 3; i++) {
		fprintf(fp, "%s %lld %s", i ? "," : "",
		    (long long)json_integer_value(
		        json_object_get(p, states[i])),
		    states[i]);
		if (i == 0)
			continue;
		n = 0;
		json_object_foreach(hosts, name, v)
		{
			if (!json_is_string(v) ||
			    strcmp(json_string_value(v), states[i]) != 0)
				continue;
			fprintf(fp, "%s%s", n++ ? " " : " (", name);
		}
		if (n > 0)
			fputc(')', fp);
	}
	fprintf(fp, "; %lld VMs failed over\n",
	    (long long)json_integer_value(json_object_get(p, "failovers")));
}

static void
print_text(FILE *fp, json_t *root, const char *dir, int running)
{
	json_t *src = json_object_get(root, "source");
	json_t *rej = json_object_get(root, "rejected");
	json_t *unv = json_object_get(root, "unverified");
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
	if (json_is_object(unv)) {
		fprintf(fp, "unverified: %s", str(unv, "reason"));
		if (json_is_string(json_object_get(unv, "key")))
			fprintf(fp, ", %s", str(unv, "key"));
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
	print_pool(fp, json_object_get(root, "pool"));
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
