/*
 * What the status' files share, and nobody else: status.c (the object and
 * its saving), status_json.c (status.json, written and read) and
 * status_prom.c (metrics.prom). The status object's structure, the names
 * of outcomes and results, and the JSON helpers the object and
 * status.json both use. Not part of status.h's interface.
 */
#ifndef XDC_RECONCILER_STATUS_PRIV_H
#define XDC_RECONCILER_STATUS_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "reconciler/status.h"
#include "reconciler/verify.h"

/* Indexed by enum status_outcome and enum status_result. */
extern const char *const status_outcome_names[STATUS__COUNT];
extern const char *const status_result_names[STATUS_RESULT__COUNT];

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
	uint64_t st_reaped_total; /* expired scopes taken down */
	struct op_counts *st_ops; /* sorted by op */
	size_t st_nops;
	uint64_t st_unverified[VERIFY__COUNT]; /* by verify_reason */
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
	char *st_unv_commit; /* refused as unverified, or NULL */
	char *st_unv_reason;
	char *st_unv_key;
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
	json_t *st_pool; /* NULL: no pool view */
	size_t st_npending, st_ndeferred, st_ndrift, st_nerrors;
	struct keyset st_drift_cur;
};

/* status.c: s as a JSON string, null for NULL; ms as an ISO 8601 time. */
json_t *status_jstr(const char *s);
json_t *status_jtime(int64_t ms);

#endif
