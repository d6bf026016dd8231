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
/* Deferred action i, and why it is held ("FILE:LINE (sla ...): ..."), as
 * the plan's "deferred" list has them; borrowed, NULL past the end. */
const struct xdc_action *plan_deferred(const struct xdc_plan *, size_t i);
const char *plan_deferred_held(const struct xdc_plan *, size_t i);
/*
 * The changes of action i, SPEC §4's list of {field, from, to} as the
 * plan's JSON has it, in compact JSON text: [{"field":"memory",
 * "from":1073741824,"to":2147483648}]. The caller frees it.
 */
char *plan_changes_json(const struct xdc_plan *, size_t i);

/* For the --max-destroy guard: managed VMs observed, and VMs destroyed. */
size_t plan_managed_vms(const struct xdc_plan *);
size_t plan_vm_destroys(const struct xdc_plan *);
/*
 * The guard itself (SPEC §3), one rule for plan, apply and run: how many
 * VM destroys max_destroy allows (-1: 25% of the managed VMs, at least
 * 1), and whether the plan stays within it. plan_check_destroys returns
 * 0 when it does or force is set, else XDC_EINVALID with *msg (the
 * caller frees it) saying how many it destroys of how many, and the
 * limit; *msg is NULL on 0.
 */
size_t plan_destroy_limit(const struct xdc_plan *, long max_destroy);
int plan_check_destroys(
    const struct xdc_plan *, long max_destroy, int force, char **msg);
/* Counts by op, SPEC §4's summary: create, update, replace, destroy, other. */
void plan_summary(const struct xdc_plan *, size_t counts[5]);

/* Print the plan: Terraform-style text, or SPEC §4's JSON. */
void plan_print_text(const struct xdc_plan *, FILE *);
int plan_print_json(const struct xdc_plan *, FILE *);
/* One action as a line of text without its newline, "+ create VM ...". */
void plan_print_action(const struct xdc_plan *, size_t i, FILE *);

/* The hash of what a domain's build fixes, kept in its ownership marker. */
uint64_t plan_spec_hash(const struct xdc_vm *);

/* Xen's default credit2 weight, for VMs no SLA gives one. */
#define XDC_DEFAULT_WEIGHT 256

#endif /* XDC_PLAN_H */
