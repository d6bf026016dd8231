/*
 * The planner: desired model + observed state -> an ordered, explained plan.
 *
 * Planning is a pure function of the configuration, the observation and the
 * time (maintenance windows): the same inputs give the same plan, byte for
 * byte, on any host. Placement of unpinned VMs depends on the configuration
 * alone, so every agent of a pool computes the same one without talking to
 * the others (SPEC §8).
 */
#ifndef XDC_PLAN_H
#define XDC_PLAN_H

#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "drivers/driver.h"
#include "base/diag.h"
#include "schema/model.h"

struct xdc_plan;

struct plan_opts {
	time_t po_now;         /* for maintenance windows */
	const char *po_commit; /* the git commit planned, or NULL */
};

/*
 * Plan cfg against obs. On success returns 0 and hands *out to the caller
 * (xdc_plan_free); the plan borrows from cfg and obs, which must outlive it.
 * A configuration that cannot be satisfied (capacity, spread, N+k, a name
 * taken by an unmanaged domain) returns XDC_EINVALID with the reasons in
 * diags, naming the SLA, the host and the shortfall.
 */
int plan_compute(const struct xdc_config *cfg, const struct xdc_observed *obs,
    const struct plan_opts *opts, struct xdc_plan **out,
    struct xdc_diags *diags);
void xdc_plan_free(struct xdc_plan *);

/* The actions to apply, in order; borrowed. */
size_t plan_count(const struct xdc_plan *);
const struct xdc_action *plan_action(const struct xdc_plan *, size_t i);
/* Indices of earlier actions action i waits for. */
const uint32_t *plan_depends(const struct xdc_plan *, size_t i, size_t *n);
const char *plan_reason(const struct xdc_plan *, size_t i);
/* Actions held back (min_running, maintenance windows, protect, restart). */
size_t plan_ndeferred(const struct xdc_plan *);

/* For the --max-destroy guard: managed VMs observed, and VMs destroyed. */
size_t plan_managed_vms(const struct xdc_plan *);
size_t plan_vm_destroys(const struct xdc_plan *);
/* Counts by op, SPEC §4's summary: create, update, replace, destroy, other. */
void plan_summary(const struct xdc_plan *, size_t counts[5]);

/* Print the plan: Terraform-style text, or SPEC §4's JSON. */
void plan_print_text(const struct xdc_plan *, FILE *);
int plan_print_json(const struct xdc_plan *, FILE *);
/* One action as a line of text without its newline, "+ create VM ...". */
void plan_print_action(const struct xdc_plan *, size_t i, FILE *);

/* The hash of what a domain's build fixes, kept in its ownership marker. */
uint64_t plan_spec_hash(const struct xdc_vm *);

#endif /* XDC_PLAN_H */
