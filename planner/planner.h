/*
 * The planner's private vocabulary, shared by plan.c (the whole pass and the
 * ordering), place.c (placement, capacity, N+k), diff.c (desired vs
 * observed, per object), sla.c (what SLAs hold back) and output.c,
 * output_text.c (JSON and text). Nothing outside planner/ includes this.
 */
#ifndef XDC_PLANNER_H
#define XDC_PLANNER_H

#include <stdint.h>

#include "planner/plan.h"
#include "base/arena.h"

/* The fields an action can change, as named in its "changes". */
enum chg {
	/* An adoption: first, so that it leads the list of changes. */
	CH_MANAGED,
	/* A handover from another scope (adopt_from). */
	CH_SCOPE,
	/* Fixed at domain build: a change replaces the domain. */
	CH_TYPE,
	CH_KERNEL,
	CH_RAMDISK,
	CH_CMDLINE,
	CH_MAX_MEMORY,
	CH_MAX_VCPUS,
	CH_DISKS,
	CH_SPEC, /* the build hash, when the fields cannot be observed */
	/* Changeable at run time. */
	CH_MEMORY,
	CH_VCPUS,
	CH_WEIGHT,
	CH_CAP,
	CH_NICS,
	CH_PROTECT,
	CH_EXPIRES, /* the scope's expiry in the marker (scope.c) */
	CH_STATE,
	CH_HOST,
	/* Networks. */
	CH_BRIDGE,
	CH_UPLINK,
	CH_VLAN,
	CH_MTU,
	CH_UP,
	CH_SCOPES, /* the scopes sharing a network */
	CH__COUNT
};

#define CH_BIT(c)     (1u << (c))
#define CH_BUILD_MASK (CH_BIT(CH_SPEC + 1) - CH_BIT(CH_TYPE))

/* The order actions run in (SPEC §4): networks up, VMs down, VMs up, ... */
enum group {
	G_NET_UP,    /* network create, update */
	G_VM_DOWN,   /* destroy, stop: frees memory before creates */
	G_VM_MOVE,   /* migrate: after the downs on its new host */
	G_VM_UP,     /* create, replace, start, restart */
	G_VM_UPDATE, /* in-place updates */
	G_VM_STATE,  /* pause, unpause */
	G_NET_DOWN,  /* network destroy, after the VMs left it */
};

#define NO_INDEX UINT32_MAX

/* Why an action is deferred, in kinds the plan's summary counts. */
enum hold_why {
	HOLD_NONE,
	HOLD_PROTECT, /* protect: true */
	HOLD_POLICY,  /* a restart policy that does not restart it */
	HOLD_WINDOW,  /* outside a maintenance window */
	HOLD_BUDGET,  /* min_running */
	HOLD_DEPENDS, /* after another deferred action */
	HOLD__COUNT
};

struct paction {
	struct xdc_action pa;
	enum group pa_group;
	uint32_t pa_changes; /* CH_BIT()s */
	uint32_t pa_host;    /* index into obs_hosts */
	uint32_t pa_vmi;     /* index into cfg_vms, or NO_INDEX */
	const struct xdc_vm *pa_vm;
	const struct xdc_obs_domain *pa_dom;
	const struct xdc_network *pa_net;
	const struct xdc_obs_network *pa_onet;
	const char *pa_from_host; /* a VM moving between hosts */
	uint32_t pa_to;           /* a migrate: its new host, in obs_hosts */
	const char *pa_reason;
	const char *pa_hold;       /* why it is deferred, or NULL */
	enum hold_why pa_hold_why; /* the same, for the plan's summary */
	const struct xdc_sla *pa_hold_sla;
	uint32_t *pa_deps; /* indices into p_all until numbered */
	uint32_t pa_ndeps;
	uint32_t pa_index; /* in p_act or p_def, once ordered */
	int pa_rejoin;     /* a copy another host claims (pool.c) */
};

/* A domain this plan leaves alone: xdc's in another scope, or not xdc's. */
struct unmanaged {
	const struct xdc_obs_domain *um_dom;
	const char *um_host;
	const char *um_scope; /* the other scope, or NULL when unmanaged */
};

struct xdc_plan {
	const struct xdc_config *p_cfg;
	const struct xdc_observed *p_obs;
	struct plan_opts p_opts;
	const char *p_scope; /* the scope planned (SPEC §9) */
	int64_t p_expires;   /* when it expires, or 0 (see xdc_dom_spec) */
	struct xdc_diags *p_diags;
	struct xdc_arena *p_arena;

	struct paction *p_all; /* every action found, in no order */
	size_t p_nall;
	size_t p_capall;
	struct paction **p_act; /* to apply, ordered */
	size_t p_nact;
	struct paction **p_def; /* deferred, ordered */
	size_t p_ndef;

	struct unmanaged *p_unmanaged;
	size_t p_nunmanaged;
	size_t p_managed_vms;

	/* Placement: the host each declared VM belongs on. */
	const char **p_place;
	/* Its index in p_hnames, or NO_INDEX (pool_view_at). */
	uint32_t *p_place_h;
	/* The observed host index of each VM's placement, or NO_INDEX. */
	uint32_t *p_place_obs;
	/* The host a VM's domain is leaving, when it moves. */
	const char **p_moved_from;
	/* Whether a VM's domain moves live (a migrate), by VM. */
	uint8_t *p_migrating;
	/* Each VM's resolved spec (bridges, weight, cap, hash). */
	struct xdc_dom_spec *p_specs;

	/* The pool (pool.c): how each placement host is seen. */
	const char **p_hnames; /* the hosts placement knows, by index */
	enum xdc_host_view *p_hview;
	size_t p_nhosts;
	int p_partial; /* some declared host is unseen: no pool view */
	/* VMs failed over: the host each left, or NULL. */
	const char **p_failed_from;
	size_t p_nfailovers;
	/* This host destroys copies others claim before anything else. */
	size_t p_nrejoin;

	/* An agent's own part (own.c). */
	int p_own;         /* po_self without po_whole */
	uint32_t p_self;   /* its index in obs_hosts, or NO_INDEX */
	uint8_t *p_build;  /* by obs host: its actions are built; NULL: all */
	uint32_t *p_light; /* by SLA: the first host not built whose diff
	                    * may take from its min_running budget */
	int p_inexact;     /* a built action's budget needed such a host */
	size_t p_destroys_else; /* VM destroys in no built action kept */
};

/* plan.c */
struct paction *plan_add(
    struct xdc_plan *, enum xdc_op, enum xdc_obj_kind, uint32_t host);
/* "FILE:LINE" of a location, in the plan's arena. */
const char *plan_where(const struct xdc_plan *, struct xdc_loc);
/* A diagnostic at loc; at the configuration's path for XDC_NOWHERE. */
void plan_error(struct xdc_plan *, struct xdc_loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* place.c: fills p_place; reports what cannot fit. */
int place_vms(struct xdc_plan *);

/* pool.c: how each host is seen, and what the pool view forbids. */
void pool_views(struct xdc_plan *);
enum xdc_host_view pool_view_of(const struct xdc_plan *, const char *host);
/* The same by index in p_hnames (NO_INDEX: unseen), without a scan. */
enum xdc_host_view pool_view_at(const struct xdc_plan *, uint32_t h);
/* The host claiming a VM in the pool view, or NULL. */
const char *pool_claim(const struct xdc_plan *, const char *vm);
/* Whether a slot of a budget is held for the VM. */
int pool_slot_held(const struct xdc_plan *, const char *vm);
/* Whether host is this agent's (always when it plays the whole pool). */
int pool_is_self(const struct xdc_plan *, const char *host);
/* Hold what the pool view forbids: claims, rejoin, unseen hosts. */
void pool_hold(struct xdc_plan *);

/* diff.c, diffnet.c */
/* Two strings equal, NULL equal to NULL only (diff.c). */
int plan_str_eq(const char *, const char *);
void diff_networks(struct xdc_plan *, uint32_t host);
void diff_vms(struct xdc_plan *, uint32_t host);
void diff_absent(struct xdc_plan *);
/* Is this observed host one the configuration declares? */
int diff_host_declared(const struct xdc_plan *, const struct xdc_obs_host *);
/* Why an object of the scope the configuration does not declare goes. */
const char *diff_undeclared(struct xdc_plan *);

/*
 * own.c: an agent's own part. own_begin says which hosts' actions are
 * built (all, unless own is set); a host not built is still diffed for
 * its errors and for what the built ones need of it (diff.c). own_note
 * records, for a host not built, a disruption of a VM of a min_running
 * SLA; own_prune keeps this host's actions and what they wait for.
 */
void own_begin(struct xdc_plan *, int own, int all);
static inline int
plan_builds(const struct xdc_plan *p, uint32_t host)
{
	return p->p_build == NULL || p->p_build[host];
}
void own_note(struct xdc_plan *, uint32_t host, const struct xdc_vm *);
void own_prune(struct xdc_plan *, struct paction **v, size_t *n);

/* scope.c */
/* The plan's scope and expiry; an expiry already past is an error. */
void scope_resolve(struct xdc_plan *);
/*
 * Whether the expiry a domain's marker records is to be written again:
 * it differs from the plan's (a new or no `expires`), or, for an expiry
 * counted from the last apply, the stamp is older than an eighth of it,
 * so that an apply with nothing else to do still counts as one.
 */
int scope_expiry_stale(const struct xdc_plan *, const struct xdc_obs_domain *);
/* Why: the Scope document's expires, or that it has none. */
const char *scope_expiry_reason(struct xdc_plan *);
/* Whether a domain is xdc's in the plan's own scope. */
int plan_ours(const struct xdc_plan *, const struct xdc_obs_domain *);
/*
 * A managed domain of another scope on a declared host. Returns the
 * index of the VM that hands it over to this scope (adopt_from naming its
 * scope, placed on its host), or NO_INDEX: then it is listed with its
 * scope, and a VM of its name is a plan error naming that scope.
 */
uint32_t scope_foreign(
    struct xdc_plan *, uint32_t host, const struct xdc_obs_domain *);
/* Whether scope declares the observed network (is in its list). */
int scope_net_member(const struct xdc_obs_network *, const char *scope);
/* The network's owner: the first scope in its list. */
const char *scope_net_owner(const struct xdc_obs_network *);
/* The network's list of scopes with the plan's added, or taken out. */
void scope_net_join(
    struct xdc_plan *, const struct xdc_obs_network *, struct paction *);
void scope_net_leave(
    struct xdc_plan *, const struct xdc_obs_network *, struct paction *);

/* sla.c: holds back what SLAs and protection forbid now. */
void sla_hold(struct xdc_plan *);
/* Is t inside the window? Returns 1 or 0; *opens is the next opening. */
int sla_window_open(const struct xdc_window *, time_t t, time_t *opens);

#endif /* XDC_PLANNER_H */
