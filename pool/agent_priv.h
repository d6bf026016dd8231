/*
 * What the pool agent's files share, and nobody else: agent.c (its lease,
 * the watchdog's petting, publishing this host's record, the tick and
 * the rest of agent.h's interface), agent_view.c (the hosts' records, the
 * copy of the pool, reading and watching it, and the snapshots of it the
 * planner gets), agent_cas.c (compare-and-swap: claims and budget slots
 * taken and given back, for pool_agent_gate and pool_agent_done) and
 * agent_fence.c (lost hosts: the fence command, the fenced marks, the
 * watchdog's route). The structures of the agent and of its copy of the
 * pool, and the functions one file calls in another. Not part of
 * agent.h's interface.
 */
#ifndef XDC_POOL_AGENT_PRIV_H
#define XDC_POOL_AGENT_PRIV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "drivers/driver.h"
#include "pool/agent.h"
#include "pool/etcd.h"

struct xdc_arena;
struct xdc_config;
struct xdc_ev;
struct xdc_ev_io;
struct xdc_ev_timer;
struct xdc_observed;

#define OUTPUT_MAX 2048 /* of a fence command, kept for the log */

/* A host's published record; immutable, shared by snapshots. */
struct rec {
	int r_refs;
	struct xdc_arena *r_arena;
	struct xdc_obs_host r_obs;
	const char *r_path;
	const char *r_commit;
	int64_t r_watchdog_ms;
};

struct host {
	char *h_name;
	struct rec *h_rec;     /* NULL: no live lease publishes it */
	int64_t h_lost_since;  /* monotonic ms its record went; 0 live */
	int64_t h_watchdog_ms; /* its last record's, kept once it is lost */
	char *h_fenced;        /* the method, when P fenced/HOST says off */
	char *h_fencer;        /* who runs the fence command now, if anyone */
	int64_t h_fence_retry; /* no attempt before (monotonic ms) */
	int64_t h_fence_delay;
};

struct claim {
	char *c_vm;
	char *c_host;
};

struct slot {
	char *s_sla;
	unsigned s_k;
	char *s_vm;
	char *s_host;
};

/*
 * A VM of this host whose budget slot is wanted by an action that has not
 * ended: the slot is kept, though the VM still runs, until the action is
 * over (pool_agent_done) or no plan has asked for it for two snapshots.
 */
struct busy {
	char *b_vm;
	uint64_t b_gen; /* the snapshot whose plan last asked for it */
	int b_started;  /* the action runs */
	int b_moved;    /* destroyed here to run elsewhere:
	                   agent_cas_slots_settle's */
};

/* A key of this host's being given back (agent_cas_release). */
struct release {
	struct pool_agent *r_pa;
	char *r_key;
	char *r_value;
	int64_t r_lease; /* the lease it was taken under */
	struct etcd_req *r_req;
};

/* A compare-and-swap in flight: a claim or a slot being taken. */
struct cas {
	struct pool_agent *cs_pa;
	struct etcd_req *cs_req;
	char *cs_key;
	char *cs_vm;
	int cs_slot;
};

/* The fence command in flight. */
struct fence {
	char *f_host;
	pid_t f_pid;
	int f_pidfd;
	int f_out;
	struct xdc_ev_io *f_pid_io;
	struct xdc_ev_io *f_out_io;
	struct xdc_ev_timer *f_timer;
	char f_output[OUTPUT_MAX];
	size_t f_len;
};

struct pool_agent {
	struct pool_agent_opts a_o;
	struct xdc_ev *a_ev;
	struct etcd *a_etcd;
	char *a_prefix;
	char *a_self;
	char *a_fence_cmd;
	/*
	 * pool_agent_free has begun: replies that its last requests bring in
	 * (the revoke is waited for) must not start anything, a fence least
	 * of all.
	 */
	int a_closing;

	/* The lease. */
	int64_t a_lease;
	int64_t a_ttl;         /* seconds */
	int64_t a_renewed;     /* monotonic ms of the last good renewal */
	int64_t a_petted;      /* monotonic ms of the last good pet; 0 none */
	int64_t a_ready_since; /* lease held and pool read, since */
	/*
	 * The highest domid this host had at its first record published
	 * with the current lease and the pool read: the domains the rejoin
	 * rule weighs (plan.h's pv_rejoin_domid). 0 until then.
	 */
	uint32_t a_rejoin_domid;
	int a_rejoin_set;
	struct etcd_req *a_grant;
	struct etcd_req *a_keepalive;
	struct xdc_ev_timer *a_renew_timer;
	struct xdc_ev_timer *a_pet_timer;
	struct xdc_ev_timer *a_tick;
	char *a_why; /* what the agent waits for */

	/* The pool as read: the range, then the watch. */
	struct etcd_req *a_range;
	struct view_key *a_rkeys; /* the range's keys so far (agent_view.c) */
	size_t a_nrkeys, a_caprkeys;
	struct etcd_watch *a_watch;
	int a_synced;
	struct host *a_hosts; /* sorted by name */
	size_t a_nhosts;
	struct claim *a_claims; /* sorted by VM */
	size_t a_nclaims;
	struct slot *a_slots;
	size_t a_nslots;
	struct busy *a_busy; /* this host's slots that actions want */
	size_t a_nbusy;
	uint64_t a_gen; /* snapshots taken */

	/* What this agent does to it. */
	char *a_published; /* the record last put */
	char *a_pending;   /* the record to put next */
	struct etcd_req *a_put;
	struct cas **a_cas;
	size_t a_ncas;
	struct release **a_rel;
	size_t a_nrel;
	struct fence *a_fence;
	uint64_t a_fence_attempts, a_fence_failures, a_fence_successes;
	/* The hosts the configuration declares, as of the last snapshot. */
	char **a_declared;
	size_t a_ndeclared;
};

/* agent.c: the helpers every part uses, the lease and the watchdog. */
void agent_log(const struct pool_agent *, int level, const char *msg,
    const char *k1, const char *v1, const char *k2, const char *v2,
    const char *k3, const char *v3);
void agent_changed(struct pool_agent *);
void agent_set_why(struct pool_agent *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* P KIND/NAME, allocated. */
char *agent_key_of(
    const struct pool_agent *, const char *kind, const char *name);
/* A lease is held and was renewed within its TTL. */
int agent_lease_held(const struct pool_agent *);
void agent_request_limits(struct pool_agent *, int64_t long_ms);
int agent_watchdog_lapsed(const struct pool_agent *);
/* A reply nobody waits for. */
void agent_on_deleted(struct etcd_req *, const struct etcd_result *, void *arg);

/* agent_view.c: the copy of the pool. */
void agent_view_rec_unref(struct rec *);
/* NAME's entry; made (lost since now) if add and there is none. */
struct host *agent_view_host_get(
    struct pool_agent *, const char *name, int add);
const char *agent_view_claim_holder(const struct pool_agent *, const char *vm);
/* host NULL: VM's claim is gone. */
void agent_view_claim_set(
    struct pool_agent *, const char *vm, const char *host);
void agent_view_slot_free(struct slot *);
/* What a range read so far, when it will not be read to its end. */
void agent_view_range_forget(struct pool_agent *);
/* Read the prefix, unless a read is under way or the watch runs. */
void agent_view_start_range(struct pool_agent *);
/* What is known of the pool may be stale: no decision on it until the
 * prefix is read again (the watch stopped, restarted after). */
void agent_view_resync(struct pool_agent *);

/* agent_cas.c: claims and budget slots. */
/* c is over: out of the list, and freed. */
void agent_cas_end(struct pool_agent *, struct cas *);
/*
 * Give key back if it still holds value under this lease; sent again at
 * each tick until etcd answers.
 */
void agent_cas_release(struct pool_agent *, const char *key, const char *value);
/* At each tick: unanswered releases again, or dropped with their lease. */
void agent_cas_releases_retry(struct pool_agent *);
void agent_cas_claim_take(struct pool_agent *, const char *vm);
void agent_cas_busy_drop(struct pool_agent *, const char *vm);
/* At each snapshot: this host's slots and claims no longer wanted go back. */
void agent_cas_slots_settle(struct pool_agent *, const struct xdc_config *,
    const struct xdc_observed *);
void agent_cas_claims_settle(struct pool_agent *, const struct xdc_observed *);

/* agent_fence.c: lost hosts. */
/* The fence command in flight is over: ok, or failed for why. */
void agent_fence_end(struct pool_agent *, int ok, const char *why);
/* Lost hosts: mark fenced by their watchdog, or fence one. */
void agent_fence_check(struct pool_agent *);

#endif
