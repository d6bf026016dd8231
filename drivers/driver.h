/*
 * The driver interface: the vocabulary of observed state and actions, and
 * the versioned vtable every driver implements (libgit2's backends,
 * networkd's NetDevVTable).
 *
 * A driver observes hosts (their capacity, domains and networks) and applies
 * one action at a time. It knows nothing of YAML, of the planner or of other
 * drivers: what it needs of the desired model reaches it resolved, in the
 * action (struct xdc_dom_spec).
 */
#ifndef XDC_DRIVER_H
#define XDC_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#include "schema/model.h"

#define XDC_DRIVER_VERSION 2

/* ---- Observed state --------------------------------------------------- */

enum xdc_dom_state {
	XDC_DOM_RUNNING,
	XDC_DOM_PAUSED,
	XDC_DOM_STOPPED, /* shut down, not yet destroyed */
	XDC_DOM_CRASHED,
};

struct xdc_obs_nic {
	const char *on_bridge;
	uint8_t on_mac[6];
};

/*
 * What the build of a domain fixed, as the driver can recover it (libxl's
 * retrieved configuration; the sim's record). When a driver cannot recover
 * it, od_has_build is 0 and the planner compares spec hashes only.
 */
struct xdc_obs_build {
	enum xdc_vm_type ob_type;
	const char *ob_kernel; /* NULL when none */
	const char *ob_ramdisk;
	const char *ob_cmdline;
	struct xdc_disk *ob_disks; /* only target, vdev, format, readonly */
	size_t ob_ndisks;
};

struct xdc_obs_domain {
	const char *od_name;
	uint32_t od_domid;
	enum xdc_dom_state od_state;
	uint64_t od_memory; /* bytes: the current target */
	uint64_t od_max_memory;
	uint32_t od_vcpus; /* online */
	uint32_t od_max_vcpus;
	uint32_t od_weight; /* credit2; 0 when unknown */
	uint32_t od_cap;
	struct xdc_obs_nic *od_nics;
	size_t od_nnics;
	/* xdc's ownership marker (xenstore for xen). */
	int od_managed;
	int od_stub; /* a stub domain: never xdc's, never adopted */
	int od_protect;
	uint64_t od_hash; /* of the build spec, see plan_spec_hash() */
	/*
	 * The scope the marker records (SPEC §9), XDC_SCOPE_DEFAULT for a
	 * marker older than scopes; NULL when unmanaged. od_applied is when
	 * that scope was last applied, as far as this marker knows, and
	 * od_expires when the scope expires: seconds since the epoch, 0 when
	 * unknown (an older marker) or never.
	 */
	const char *od_scope;
	int64_t od_applied;
	int64_t od_expires;
	int od_has_build;
	struct xdc_obs_build od_build;
};

struct xdc_obs_network {
	const char *on_name; /* the Network's name when managed, else NULL */
	const char *on_bridge;
	const char *on_uplink; /* NULL when none */
	uint16_t on_vlan;
	uint32_t on_mtu;
	int on_up;
	int on_managed;
	/*
	 * The scopes that declare a managed network, in the order they
	 * joined it: the first owns its settings, and the network goes when
	 * the last one drops it (SPEC §9). [XDC_SCOPE_DEFAULT] for a mark
	 * older than scopes.
	 */
	const char *const *on_scopes;
	size_t on_nscopes;
};

struct xdc_obs_host {
	const char *oh_name;
	uint64_t oh_memory;      /* offered to guests */
	uint64_t oh_free_memory; /* what is left of it */
	uint32_t oh_cpus;
	struct xdc_obs_domain *oh_domains; /* sorted by name */
	size_t oh_ndomains;
	struct xdc_obs_network *oh_networks; /* sorted by bridge */
	size_t oh_nnetworks;
};

struct xdc_arena;

/*
 * One observation. Hosts are sorted by name. Only the hosts listed were
 * observed; the planner leaves the others alone. Owned by the caller of
 * observe(), released with xdc_observed_free().
 */
struct xdc_observed {
	struct xdc_obs_host *obs_hosts;
	size_t obs_nhosts;
	struct xdc_arena *obs_arena;
};

struct xdc_observed *xdc_observed_new(void);
void xdc_observed_free(struct xdc_observed *);
const struct xdc_obs_host *xdc_observed_host(
    const struct xdc_observed *, const char *name);
const struct xdc_obs_domain *xdc_obs_host_domain(
    const struct xdc_obs_host *, const char *name);
const char *xdc_dom_state_name(enum xdc_dom_state);

/* ---- Actions ---------------------------------------------------------- */

enum xdc_op {
	XDC_OP_CREATE,
	XDC_OP_UPDATE,
	XDC_OP_REPLACE,
	XDC_OP_DESTROY,
	XDC_OP_START,
	XDC_OP_STOP,
	XDC_OP_PAUSE,
	XDC_OP_UNPAUSE,
	XDC_OP_RESTART,
	/*
	 * Move a running domain live to a_to_host (a_host is where it runs
	 * now, whose agent carries it out). Only given to a driver with
	 * XDC_DRV_MIGRATE.
	 */
	XDC_OP_MIGRATE,
	XDC_OP__COUNT
};

enum xdc_obj_kind { XDC_OBJ_VM, XDC_OBJ_NETWORK };

const char *xdc_op_name(enum xdc_op);
const char *xdc_obj_kind_name(enum xdc_obj_kind);

/*
 * Xen's default credit2 weight: what a domain gets when no SLA gives it
 * cpu.weight. The planner asks for it, the drivers set and observe it, and
 * import tells it from a weight someone set: one definition for all.
 */
#define XDC_DEFAULT_WEIGHT 256

/*
 * Everything a driver needs to build or tune one domain: the declared VM and
 * what the planner resolved for it. The VM points into the configuration,
 * which outlives the plan.
 */
struct xdc_dom_spec {
	const struct xdc_vm *ds_vm;
	const char **ds_bridges; /* one per NIC: its network's bridge */
	uint32_t ds_weight;      /* credit2 weight, or XDC_DEFAULT_WEIGHT */
	uint32_t ds_cap;         /* percent of one CPU; 0 = none */
	uint64_t ds_hash;        /* recorded in the ownership marker */
	int ds_protect;
	/* Also recorded there: the scope, when it was applied and when it
	 * expires (see struct xdc_obs_domain). */
	const char *ds_scope;
	int64_t ds_applied;
	int64_t ds_expires;
};

/* What an update changes in place, so the driver touches only that. */
#define XDC_UPD_MEMORY 0x01
#define XDC_UPD_VCPUS  0x02
#define XDC_UPD_SCHED  0x04
#define XDC_UPD_NICS   0x08
#define XDC_UPD_MARKER 0x10 /* protect flag or hash: the marker only */
#define XDC_UPD_MTU    0x20
#define XDC_UPD_UPLINK 0x40
#define XDC_UPD_UP     0x80 /* a network is brought up; every update does */
/*
 * Take ownership of a domain xdc does not manage (a VM with adopt: true):
 * write the whole marker, spec hash and build record included, for the
 * domain as it is; the other flags then tune it like any update. The
 * driver refuses it for Domain-0, a stub domain, or a domain that is
 * managed already by another spec.
 */
#define XDC_UPD_ADOPT 0x100
/* A network's list of scopes (a_scopes) changes: one joins or leaves. */
#define XDC_UPD_SCOPES 0x200

struct xdc_action {
	enum xdc_op a_op;
	enum xdc_obj_kind a_kind;
	const char *a_name;
	const char *a_host;
	int a_disruptive;
	unsigned a_update; /* XDC_UPD_* for updates */
	/* VM actions: the desired spec (NULL for destroy) and the domain. */
	const struct xdc_dom_spec *a_spec;
	uint32_t a_domid; /* the observed domain, when there is one */
	/* Network actions: the declared network (NULL for destroy). */
	const struct xdc_network *a_net;
	const char *a_bridge; /* the bridge acted on */
	/* A network's scopes once a create or update is done, in order. */
	const char *const *a_scopes;
	size_t a_nscopes;
	/* A migrate: the host the domain goes to. */
	const char *a_to_host;
};

/* ---- The driver vtable ------------------------------------------------ */

/*
 * What a driver can do beyond the interface's core, in xdc_driver.caps.
 *
 * XDC_DRV_MIGRATE: it carries out XDC_OP_MIGRATE between the hosts it
 * observes, live. The planner is told so as data (plan_opts.po_migrate)
 * and plans a migrate rather than a destroy and a create for a running VM
 * whose host changes.
 */
#define XDC_DRV_MIGRATE 0x01

struct xdc_ev;

/*
 * A driver, embedded as the first member of each implementation. Every
 * function returns 0 or a negative code with the reason in
 * xdc_error_last().
 *
 * Version 2: nothing a driver does may block the caller's event loop for
 * longer than a quick system call. A driver whose actions are quick
 * (netlink, the sim's file) has apply(); a driver whose actions take
 * seconds (libxl's asynchronous operations, a delayed sim action) has
 * submit() and reap(), and lends its file descriptors and timers to the
 * caller's loop through attach().
 */
struct xdc_driver {
	unsigned version; /* XDC_DRIVER_VERSION */
	const char *name;
	unsigned caps; /* XDC_DRV_* */
	/* Observe the hosts this driver sees. */
	int (*observe)(struct xdc_driver *, struct xdc_observed **out);
	/* Optional: bracket a batch of actions (a lock, a single write). */
	int (*begin)(struct xdc_driver *);
	int (*end)(struct xdc_driver *);
	/* Quick drivers: carry out one action before returning. */
	int (*apply)(struct xdc_driver *, const struct xdc_action *);
	/*
	 * Slow drivers: submit starts an action and returns at once (the
	 * action and what it points to must outlive it); the driver's fds
	 * and timers, in the loop attach() gave it, move it on. reap hands
	 * over one finished action: 0 with its token, its result (0, or a
	 * code) and, for a failure, its own message in *msg (the caller
	 * frees it); XDC_ENOTFOUND when none has finished. reap never
	 * waits. The caller submits only actions whose dependencies are
	 * done, so independent ones overlap.
	 */
	int (*submit)(
	    struct xdc_driver *, const struct xdc_action *, uint64_t token);
	int (*reap)(
	    struct xdc_driver *, uint64_t *token, int *result, char **msg);
	/*
	 * Optional: lend the driver's fds and timers to ev, the caller's
	 * event loop, before any submit. Until then a driver waits in a
	 * loop of its own. ev must outlive the driver.
	 */
	int (*attach)(struct xdc_driver *, struct xdc_ev *ev);
	/*
	 * Free the driver. Actions still in flight are abandoned: the
	 * next observation shows how far they got.
	 */
	void (*free)(struct xdc_driver *);
	/*
	 * Optional, for the loop: a file descriptor that becomes readable
	 * when the pool changes behind xdc's back (a domain appears or dies:
	 * xenstore's @introduceDomain/@releaseDomain; the sim's file), for
	 * poll(); watch_drain consumes what made it readable. -1 when the
	 * driver cannot tell. The loop owns no driver internals: it polls.
	 */
	int (*watch_fd)(struct xdc_driver *);
	void (*watch_drain)(struct xdc_driver *);
	/*
	 * Optional: the host's watchdog (SPEC §8, --watchdog). timeout_ms >
	 * 0 arms it, or pets it if armed: unless petted again within
	 * timeout_ms, the host reboots, every domain but Domain-0 gone, so
	 * that a hung or killed agent takes its VMs down with it. A driver
	 * may round the timeout up to what its device counts in (xen: whole
	 * seconds), never down. 0 disarms it cleanly, as an agent that
	 * stops on purpose does; disarming a watchdog not armed does
	 * nothing. NULL when the driver has none for its host.
	 */
	int (*watchdog)(struct xdc_driver *, int64_t timeout_ms);
	/*
	 * Optional: what the actions reaped so far did, made visible to
	 * every other host's observation, before the pool agent lets go of
	 * the claim or slot they held. A driver whose reaped actions are
	 * visible already (xen: the hypervisor did them) has none; the sim,
	 * which writes its file once a batch, writes it now.
	 */
	int (*sync)(struct xdc_driver *);
};

/*
 * Whether drv speaks this interface: its version is XDC_DRIVER_VERSION,
 * and it has observe, free, and apply or both submit and reap. Returns 0,
 * or XDC_ERR naming the driver and what is wrong.
 */
int xdc_driver_check(const struct xdc_driver *drv);

#endif /* XDC_DRIVER_H */
