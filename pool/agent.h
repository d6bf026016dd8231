/*
 * The pool agent (SPEC §8): one host's membership of the pool, kept in
 * etcd through the client of etcd.h, from the agent's one event loop.
 *
 * It holds a lease and renews it; publishes, under the lease, this host's
 * observation and the source it applies; watches every other host's; and
 * from that tells which hosts are live, lost and fenced, and what claims
 * and budget slots are held. The planner gets all of it as data (a
 * snapshot: struct xdc_pool_view plus the live hosts' observations); the
 * executor asks the agent before an action starts (pool_agent_gate:
 * claims, budget slots) and tells it how each ended (pool_agent_done).
 * A lost host is fenced by one survivor running --fence-command, or is
 * known off once its lease and its watchdog's timeout have passed. The
 * key layout is in docs/pool.md.
 */
#ifndef XDC_POOL_AGENT_H
#define XDC_POOL_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "planner/plan.h"
#include "pool/etcd.h"

struct xdc_config;
struct xdc_ev;
struct xdc_obs_host;
struct xdc_observed;
struct pool_agent;
struct pool_snapshot;

enum { POOL_LOG_DEBUG, POOL_LOG_INFO, POOL_LOG_WARN, POOL_LOG_ERROR };

struct pool_agent_opts {
	const char *pa_endpoints; /* --etcd */
	struct etcd_tls pa_tls;
	const char *pa_pool;          /* --pool: keys live under /xdc/POOL/ */
	const char *pa_host;          /* the host this agent is */
	int64_t pa_lease_ms;          /* --lease, at least 3 s */
	const char *pa_fence_command; /* NULL: this agent fences nothing */
	/*
	 * > 0: this host's watchdog is armed with this timeout (shorter
	 * than the lease), published so that survivors know when the host
	 * is off; pa_pet keeps it from firing while the lease is renewed,
	 * and is called with 0 to disarm it when the agent stops cleanly.
	 */
	int64_t pa_watchdog_ms;
	int (*pa_pet)(void *arg, int64_t timeout_ms);
	/* Something changed that planning or a waiting action cares about. */
	void (*pa_changed)(void *arg);
	/* One logfmt line: msg and up to three key/value pairs (NULL ends). */
	void (*pa_log)(void *arg, int level, const char *msg, const char *k1,
	    const char *v1, const char *k2, const char *v2, const char *k3,
	    const char *v3);
	void *pa_arg;
};

/* Starts at once: grants the lease, reads and watches the pool. */
int pool_agent_new(
    struct xdc_ev *, const struct pool_agent_opts *, struct pool_agent **out);
/*
 * Leave the pool: the lease is revoked (waiting at most a second), so
 * that others see this host gone at once rather than at its expiry. With
 * clean set the watchdog is disarmed.
 */
void pool_agent_free(struct pool_agent *, int clean);

/*
 * Whether the agent can take part: it holds a lease and has read the
 * pool. When not, why (borrowed) says what it waits for.
 */
int pool_agent_ready(const struct pool_agent *, const char **why);

/*
 * This host's observation, and the source it applies (path, and commit
 * or NULL): published under the lease when it differs from the last.
 * Running managed domains nobody claims are claimed for this host.
 */
void pool_agent_publish(struct pool_agent *, const struct xdc_obs_host *,
    const char *path, const char *commit);

/*
 * A snapshot of the pool for one plan: obs (the agent's own observation)
 * gets the live hosts' published observations added, for the hosts cfg
 * declares; the snapshot's view says the rest. The snapshot pins what
 * obs and the view point to: free it after the plan. XDC_ERETRY when the
 * agent is not ready.
 */
int pool_agent_snapshot(struct pool_agent *, const struct xdc_config *cfg,
    struct xdc_observed *obs, struct pool_snapshot **out);
const struct xdc_pool_view *pool_snapshot_view(const struct pool_snapshot *);
void pool_snapshot_free(struct pool_snapshot *);

/*
 * Before action i of plan starts on this host: 0 when it may go; 1 when
 * it must wait (a claim or a budget slot is being taken, or another host
 * holds it: pa_changed is called when that may have changed), with why.
 * cfg is the plan's configuration.
 */
int pool_agent_gate(struct pool_agent *, const struct xdc_config *cfg,
    const struct xdc_plan *plan, size_t i, const char **why);
/* Action i of plan ended (done or not): slots go back, destroys release. */
void pool_agent_done(
    struct pool_agent *, const struct xdc_plan *plan, size_t i, int done);

/* What status and metrics say of the pool. */
struct pool_agent_stats {
	size_t ps_live, ps_lost, ps_fenced; /* of the declared hosts */
	uint64_t ps_fence_attempts, ps_fence_failures, ps_fence_successes;
	size_t ps_slots_held; /* by this host */
	size_t ps_claims_held;
	int64_t ps_lease;        /* 0: none */
	int64_t ps_renew_rtt_us; /* the last renewal's round trip; -1 none */
	struct etcd_stats ps_etcd;
};
void pool_agent_stats(const struct pool_agent *, const struct xdc_config *,
    struct pool_agent_stats *);

/*
 * Every host that has published, live or lost, for `xdc show --etcd`:
 * fn is called for each declared or published host in name order, with
 * its observation (NULL when lost) and the source it applies.
 */
void pool_agent_hosts(const struct pool_agent *, const struct xdc_config *,
    void (*fn)(void *, const char *host, int live, int fenced,
        const struct xdc_obs_host *, const char *path, const char *commit),
    void *arg);

/* The key prefix of pool name, "/xdc/NAME/", for tools and tests. */
const char *pool_agent_prefix(const struct pool_agent *);

#endif /* XDC_POOL_AGENT_H */
