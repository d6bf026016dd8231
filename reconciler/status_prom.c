/*
 * metrics.prom (see status.h and docs/status.md): the status object's
 * counters and gauges in Prometheus' text format, for node_exporter's
 * textfile collector, with the pool view's when there is one. Label
 * values are escaped as the format asks.
 */
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "reconciler/status.h"
#include "reconciler/status_priv.h"
#include "reconciler/verify.h"
#include "base/error.h"

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

static double
num(const json_t *o, const char *key)
{
	return json_number_value(json_object_get(o, key));
}

/* The pool view's metrics (docs/status.md), from its status object. */
static void
pool_metrics(FILE *fp, const json_t *p)
{
	static const char *const states[] = { "live", "lost", "fenced" };
	static const char *const results[] = { "succeeded", "failed" };
	const json_t *f = json_object_get(p, "fences");
	size_t i;

	metric(fp, "xdc_pool_ready", "gauge",
	    "1 when this agent holds its lease and has read the pool.",
	    json_is_true(json_object_get(p, "ready")) ? 1 : 0);
	head(fp, "xdc_pool_hosts", "gauge",
	    "The configuration's Hosts by state in the pool view: live (a "
	    "lease), lost (none), fenced (known off).");
	for (i = 0; i < 3; i++)
		fprintf(fp, "xdc_pool_hosts{state=\"%s\"} %.17g\n", states[i],
		    num(p, states[i]));
	metric(fp, "xdc_pool_claims", "gauge",
	    "VMs this host holds the claim of in etcd.", num(p, "claims"));
	metric(fp, "xdc_pool_budget_slots", "gauge",
	    "Budget slots (min_running) this host holds in etcd.",
	    num(p, "slots"));
	metric(fp, "xdc_pool_failovers", "gauge",
	    "VMs the last plan restarts away from a lost host.",
	    num(p, "failovers"));
	head(fp, "xdc_pool_fences_total", "counter",
	    "Fence commands this agent ran, by result.");
	for (i = 0; i < 2; i++)
		fprintf(fp, "xdc_pool_fences_total{result=\"%s\"} %.17g\n",
		    results[i], num(f, results[i]));
	if (json_is_number(json_object_get(p, "renew_rtt_seconds")))
		metric(fp, "xdc_pool_lease_renew_seconds", "gauge",
		    "The last lease renewal's round trip to etcd.",
		    num(p, "renew_rtt_seconds"));
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
		label(fp, status_outcome_names[o]);
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
			label(fp, status_result_names[r]);
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
	metric(fp, "xdc_scopes_reaped_total", "counter",
	    "Expired scopes this agent took down (SPEC §9).",
	    (double)st->st_reaped_total);
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
	head(fp, "xdc_unverified_commits_total", "counter",
	    "Commits refused as not signed by a trusted key, each once, by "
	    "reason.");
	for (r = VERIFY_UNSIGNED; r < VERIFY__COUNT; r++) {
		fputs("xdc_unverified_commits_total{reason=", fp);
		label(fp, verify_reason_name((enum verify_reason)r));
		fprintf(
		    fp, "} %llu\n", (unsigned long long)st->st_unverified[r]);
	}
	metric(fp, "xdc_managed_vms", "gauge",
	    "Domains xdc manages, as the last cycle observed them.",
	    (double)st->st_managed);
	metric(fp, "xdc_restart_limited_vms", "gauge",
	    "VMs whose restarts are held back because their SLA's "
	    "restart_limit is reached.",
	    (double)st->st_limited);

	if (st->st_pool != NULL)
		pool_metrics(fp, st->st_pool);

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
