/*
 * The sim driver's pool in memory, shared by its three files: the model
 * and what can happen to it (sim_pool.c, sim_apply.c), the pool file
 * (sim_file.c) and the driver vtable (sim.c). Nothing here touches a file:
 * a pool is built, changed and looked at in memory, and p_dirty says
 * whether it differs from the file it was read from. Whatever changes a
 * host says so with sim_host_touch, so that a write encodes again only
 * the hosts that changed.
 *
 * A pool is an arena (strings, build records) plus a few growable
 * arrays. Hosts are sorted by name, each host's domains by name (in one
 * array, found by a binary search), each host's networks by bridge.
 * Every host has a Domain-0, the domain with id 0, whose memory is its
 * own reservation: sh_used counts the guests only. The strings and
 * arrays in the arena are never changed once written (a domain's NICs, a
 * network's scopes are written anew), so that an observation may borrow
 * them (sim_pool_observe); the domains themselves change in place. A
 * host's array of domains is counted too: an observation borrows it
 * whole, and the host copies it before its first change after that.
 */
#ifndef XDC_SIM_POOL_H
#define XDC_SIM_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "drivers/driver.h"

#define SIM_GIB (1024ULL * 1024 * 1024)
/* A host whose capacity is undeclared. */
#define SIM_HOST_MEMORY     (64 * SIM_GIB)
#define SIM_HOST_CPUS       16
#define SIM_DOM0_NAME       "Domain-0"
#define SIM_DOM0_MEMORY     SIM_GIB
#define SIM_WEIGHT          256 /* credit2's default */
#define SIM_MTU             1500
#define SIM_SLOW_MAX_MS     (24ULL * 3600 * 1000)      /* an action's longest */
#define SIM_WATCHDOG_MAX_MS ((int64_t)SIM_SLOW_MAX_MS) /* likewise */

/*
 * One domain, an element of its host's array: exactly what observe
 * reports, so that an observation may borrow the array as it is.
 */
struct sim_dom {
	struct xdc_obs_domain sd_d;
};

/*
 * A host's domains, sorted by name: the host holds one reference, every
 * observation that borrows them one more.
 */
struct sim_doms {
	unsigned ds_refs;
	size_t ds_cap;
	struct sim_dom ds_v[];
};

struct sim_host {
	const char *sh_name;
	uint64_t sh_memory; /* offered to guests */
	uint32_t sh_cpus;
	uint64_t sh_used; /* the guests' memory: every domain but Domain-0 */
	struct sim_doms *sh_doms; /* NULL while it has none */
	size_t sh_ndoms;
	struct xdc_obs_network *sh_nets; /* sorted by bridge */
	size_t sh_nnets;
	/*
	 * The host's watchdog: when it fires (wall-clock ms, as every
	 * process sharing the file reads the same clock) unless petted, and
	 * the timeout it was armed with; 0 and 0 when disarmed.
	 */
	int64_t sh_wd_deadline;
	int64_t sh_wd_timeout;
	/*
	 * The host's text in the pool file as the last write encoded it
	 * (sim_file.c), or NULL: encoded again at the next write. Whatever
	 * changes the host drops it, through sim_host_touch.
	 */
	char *sh_text;
	size_t sh_textlen;
};

struct sim_fault {
	enum xdc_op sf_op;
	const char *sf_name;
	unsigned sf_times;
};

/* The next sl_times actions sl_op on sl_name take sl_ms each. */
struct sim_slow {
	enum xdc_op sl_op;
	const char *sl_name;
	uint64_t sl_ms;
	unsigned sl_times;
};

/*
 * The pool's arena, counted: the pool holds one reference, and every
 * observation that borrows from it one more, so that the strings and
 * arrays an observation points to outlive a pool read again or freed.
 */
struct sim_store {
	struct xdc_arena *st_arena;
	unsigned st_refs;
};

struct sim_pool {
	struct xdc_arena *p_arena; /* p_store's */
	struct sim_store *p_store;
	/*
	 * The strings that repeat across domains and networks (kernels,
	 * command lines, bridges, scopes), kept once in p_arena.
	 */
	struct xdc_strtab *p_strs;
	struct sim_host *p_hosts; /* sorted by name */
	size_t p_nhosts;
	uint32_t p_next_domid;
	struct sim_fault *p_faults; /* in the order they were injected */
	size_t p_nfaults;
	struct sim_slow *p_slows; /* likewise */
	size_t p_nslows;
	int p_dirty; /* differs from the file it was read from */
};

/* A Host the configuration declares; 0 for what it leaves undeclared. */
struct sim_cfg_host {
	char *ch_name;
	uint64_t ch_memory;
	uint32_t ch_cpus;
};

/* ---- The model (sim_pool.c) ------------------------------------------ */

/* An empty pool: no hosts, the next domid 1. Free with sim_pool_free. */
struct sim_pool *sim_pool_new(void);
void sim_pool_free(struct sim_pool *);
/* s copied into the pool's arena; NULL stays NULL. */
const char *sim_pool_strdup(struct sim_pool *, const char *s);
/*
 * Likewise for a string that repeats across domains (a kernel, a command
 * line, a bridge, a vdev, a scope): one copy in the arena for all.
 */
const char *sim_pool_share(struct sim_pool *, const char *s);

static inline int
sim_is_dom0(const struct sim_dom *d)
{
	return d->sd_d.od_domid == 0;
}

/* The host's domains, sorted by name: sh_ndoms of them. */
static inline struct sim_dom *
sim_host_doms(const struct sim_host *h)
{
	return h->sh_doms != NULL ? h->sh_doms->ds_v : NULL;
}

/*
 * Domains of a host, by name, for the caller to change: the host's array
 * is its own again (copied when an observation borrows it). The pointer
 * is good until the next sim_dom_insert or sim_dom_remove on this host.
 */
struct sim_dom *sim_dom_find(struct sim_host *, const char *name);
/*
 * A copy of *d joins the host's domains, where the name sorts; the caller
 * has made sure the name is free on this host. Returns the copy, good as
 * sim_dom_find's.
 */
struct sim_dom *sim_dom_insert(struct sim_host *, const struct sim_dom *d);
/* d is one of the host's, from sim_dom_find or sim_dom_insert. */
void sim_dom_remove(struct sim_host *, struct sim_dom *d);
/*
 * An array for n domains, for the caller to fill and hand to
 * sim_host_take_doms.
 */
struct sim_doms *sim_doms_new(size_t n);
void sim_doms_drop(struct sim_doms *);
/*
 * The host, which has no domains yet, takes ds, n domains sorted by name
 * with no two alike.
 */
void sim_host_take_doms(struct sim_host *, struct sim_doms *ds, size_t n);
/* A new host's Domain-0 joins it. */
void sim_host_add_dom0(struct sim_host *);

struct sim_host *sim_host_find(struct sim_pool *, const char *name);
/*
 * The host changed (or is about to, in this call's caller): the pool
 * differs from its file, and the host's text is encoded again.
 */
void sim_host_touch(struct sim_pool *, struct sim_host *);
/*
 * Add a host with no domains, keeping the hosts sorted; name is new. The
 * hosts may move: a host pointer is good until the next sim_host_add.
 */
struct sim_host *sim_host_add(
    struct sim_pool *, const char *name, uint64_t memory, uint32_t cpus);
int sim_host_has_dom0(const struct sim_host *);
/* The memory guests may still take. */
uint64_t sim_host_free_memory(const struct sim_host *);

/* The index of the bridge, or -(insertion point) - 1. */
long sim_net_find(const struct sim_host *, const char *bridge);
/* A zeroed network at index at, the ones after it moved up. */
struct xdc_obs_network *sim_net_insert(struct sim_host *, size_t at);

struct sim_fault *sim_fault_find(
    struct sim_pool *, enum xdc_op, const char *name);
void sim_fault_remove(struct sim_pool *, struct sim_fault *);
/* Set a fault's count; times 0 removes it. */
void sim_fault_set(
    struct sim_pool *, enum xdc_op, const char *name, unsigned times);

/* Set how long the next times actions op on name take; times 0 removes. */
void sim_slow_set(struct sim_pool *, enum xdc_op, const char *name, uint64_t ms,
    unsigned times);
/*
 * How long the action takes, in ms, 0 for no time at all: a slowness set
 * for it is used once.
 */
uint64_t sim_slow_take(struct sim_pool *, const struct xdc_action *);

/*
 * Bring the pool in line with the configuration's Hosts: add the missing
 * ones, update declared capacities. Returns whether anything changed.
 */
int sim_pool_reconcile(
    struct sim_pool *, const struct sim_cfg_host *, size_t ncfg);
/* A new pool: the configuration's Hosts, or one host "local". */
struct sim_pool *sim_pool_default(const struct sim_cfg_host *, size_t ncfg);

/*
 * What observe reports of the pool, for the caller to free: its hosts,
 * domains and networks are copies, so that the pool may change while the
 * caller keeps it, and their strings and arrays the pool's own, borrowed
 * (the observation holds the pool's arena until it is freed). With host
 * not NULL, that host alone (nothing when the pool lacks it).
 */
struct xdc_observed *sim_pool_observe(
    const struct sim_pool *, const char *host);

/* ---- What happens to it (sim_apply.c) -------------------------------- */

/*
 * Apply one action to the pool, as Xen would: 0 when done, or a negative
 * code with the reason in xdc_error_last(); a failed action changes
 * nothing but an injected fault's count.
 */
int sim_pool_apply(struct sim_pool *, const struct xdc_action *);
/* The disturbances of sim.h, on the pool in memory. */
int sim_pool_crash(struct sim_pool *, const char *name);
int sim_pool_add_unmanaged(
    struct sim_pool *, const char *name, uint64_t memory, const char *host);
/*
 * The host named loses its power and boots again: every domain but
 * Domain-0 is gone. *gone (when gone is not NULL) gets the names of those
 * that went, sorted, in a NULL-terminated array that is one allocation
 * for the caller to free(). XDC_ENOTFOUND when the pool lacks the host.
 */
int sim_pool_power_off(struct sim_pool *, const char *host, char ***gone);
/*
 * Arm or pet the watchdog of the host named to fire timeout_ms after
 * now_ms (wall-clock ms), or disarm it with timeout_ms 0. XDC_ENOTFOUND
 * when the pool lacks the host.
 */
int sim_pool_watchdog_set(
    struct sim_pool *, const char *host, int64_t timeout_ms, int64_t now_ms);
/*
 * Every host whose watchdog has fired by now_ms reboots as power-off
 * has it, its watchdog disarmed. Returns how many did.
 */
size_t sim_pool_watchdog_expire(struct sim_pool *, int64_t now_ms);

#endif /* XDC_SIM_POOL_H */
