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

/*
 * How this agent sees each host of the pool (SPEC §8).
 */
enum xdc_host_view {
	XDC_HV_LIVE,   /* observed: by this agent, or published under a live
	                * lease */
	XDC_HV_UNSEEN, /* not observed, and no pool view to say more */
	XDC_HV_LOST,   /* the pool view has no live lease for it */
	XDC_HV_FENCED, /* lost, and known to be off: fenced, or rebooted by
	                * its watchdog */
};

/* A VM claimed in the pool view by the agent of cl_host (SPEC §8). */
struct xdc_claim {
	const char *cl_vm;
	const char *cl_host;
};

/* A slot of an SLA's disruption budget, held for cl_vm by cl_host. */
struct xdc_slot {
	const char *sl_sla;
	const char *sl_vm;
	const char *sl_host;
};

/*
 * The pool as this agent sees it through etcd, given to the planner as
 * data: the planner never talks to etcd. The observation given with it
 * holds this host's own and the published observations of the live
 * hosts. Arrays are sorted by their first member; the view and what it
 * points to are the caller's and must outlive the plan.
 */
struct xdc_pool_view {
	const char *pv_self;  /* the host this agent is */
	const char **pv_lost; /* hosts without a live lease */
	size_t pv_nlost;
	const char **pv_fenced; /* of those, the ones known to be off */
	size_t pv_nfenced;
	const struct xdc_claim *pv_claims;
	size_t pv_nclaims;
	const struct xdc_slot *pv_slots;
	size_t pv_nslots;
	/*
	 * The rejoin rule (pool.c) weighs this host's domains up to this
	 * domid: those it ran when this agent's lease was new (it started,
	 * or took one again after losing it). Such a copy of a VM that
	 * another live host claims and runs is stale, and goes first. A
	 * domain made since (Xen's domids grow) is no such copy: one that
	 * arrived by live migration, say, its source's record and claim not
	 * yet caught up, is left alone. 0: none is weighed.
	 */
	uint32_t pv_rejoin_domid;
};

struct plan_opts {
	time_t po_now;         /* for maintenance windows */
	const char *po_commit; /* the git commit planned, or NULL */
	/*
	 * The pool view (--etcd), or NULL: then what the driver observes is
	 * all there is. A declared host it does not observe is unseen: its
	 * VMs are neither counted as down nor started elsewhere.
	 */
	const struct xdc_pool_view *po_pool;
	/*
	 * The host this agent is, or NULL when it plays the whole pool.
	 * The plan is then this host's part: its actions, and the other
	 * hosts' it waits for (a migrate's networks on its new host, a
	 * move's destroy on its old one); the rest of the pool is checked,
	 * not planned. po_whole plans every host's actions even so.
	 */
	const char *po_self;
	int po_whole;
	/*
	 * The scope planned (--scope): it overrides the configuration's
	 * Scope document; NULL takes the document's name, or
	 * XDC_SCOPE_DEFAULT without one (SPEC §9).
	 */
	const char *po_scope;
	/*
	 * Why what the scope has and the configuration does not declare
	 * goes, when that is not a configuration's doing ("xdc destroy
	 * --scope ci"); NULL: "not declared in PATH".
	 */
	const char *po_teardown;
	/*
	 * The driver moves running domains live between hosts
	 * (XDC_DRV_MIGRATE): a running VM whose host changes is then a
	 * migrate when both hosts are live, rather than a destroy on the
	 * old host and a create on the new.
	 */
	int po_migrate;
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

/* How the plan saw each host: by name; XDC_HV_UNSEEN for an unknown one. */
enum xdc_host_view plan_host_view(const struct xdc_plan *, const char *host);
/*
 * VMs restarted elsewhere because their host is lost and fenced, or
 * declared failed: the VM, the host it left and the host it now has.
 */
size_t plan_nfailovers(const struct xdc_plan *);
void plan_failover(const struct xdc_plan *, size_t i, const char **vm,
    const char **from, const char **to);

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

/* ---- Scopes (scope.c, SPEC §9) ---------------------------------------- */

/* The scope a plan is in; borrowed from the options or the configuration. */
const char *plan_scope(const struct xdc_plan *);
/*
 * The scope a plan of cfg is in, with opts (po_scope, or the Scope
 * document, or XDC_SCOPE_DEFAULT); borrowed from them.
 */
const char *plan_scope_of(const struct xdc_config *, const struct plan_opts *);
/* The scope an observed domain belongs to, or NULL when it is unmanaged. */
const char *plan_dom_scope(const struct xdc_obs_domain *);

/*
 * What an observation says of each scope that has domains in it: how
 * many, when it was last applied and when it expires (seconds since the
 * epoch; 0 when never), from the markers of its domains. The latest
 * apply's record speaks for the scope: a marker written by an earlier
 * apply may carry an older expiry.
 */
struct xdc_scope_state {
	const char *ss_name; /* borrowed from the observation */
	size_t ss_domains;
	int64_t ss_applied;
	int64_t ss_expires;
};
/* The scopes of obs, sorted by name, into *out (free() it). */
int plan_scopes(
    const struct xdc_observed *, struct xdc_scope_state **out, size_t *n);
/* Whether a scope has expired at now. */
int plan_scope_expired(const struct xdc_scope_state *, time_t now);

#endif /* XDC_PLAN_H */
