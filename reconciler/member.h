/*
 * This agent's membership of the pool (SPEC §8), between the command line
 * and pool/agent.h: the pool agent made from --etcd, --pool, --lease,
 * --fence-command and --watchdog, lent the session's event loop; its
 * lines in the loop's logfmt; its host's watchdog petted through the
 * session's driver; and what the status and the metrics say of the pool.
 * The session (session.c) asks it for the pool view at each plan and for
 * leave before each action; the loop makes a cycle due when it says the
 * pool changed.
 */
#ifndef XDC_MEMBER_H
#define XDC_MEMBER_H

#include <jansson.h>

struct pool_agent;
struct session;
struct xdc_config;
struct xdc_ev;
struct xdc_plan;

struct member;

/*
 * Join the pool the session's command line names (cl_etcd), as host:
 * changed(arg) is called when the pool changed in a way a plan or a
 * waiting action cares about. With observer set it only looks (no lease,
 * nothing published, claimed or fenced). The session gets the agent
 * (se_pool) until member_free.
 */
int member_open(struct session *, struct xdc_ev *, const char *host,
    int observer, void (*changed)(void *), void *arg, struct member **out);
/* Leave: the lease revoked; with clean set the watchdog disarmed. */
void member_free(struct member *, int clean);

/*
 * Wait in the session's loop, at most timeout_ms, until the agent has
 * read the pool (and holds its lease, unless an observer): the one-shot
 * commands. 0, or XDC_ERETRY naming what it still waits for.
 */
int member_wait_ready(struct member *, int64_t timeout_ms);

/*
 * The pool as the status file and the metrics show it (docs/status.md):
 * hosts live, lost and fenced, the lease, fences, claims, slots, and the
 * failovers plan (may be NULL) makes. A new reference.
 */
json_t *member_status(const struct member *, const struct xdc_config *,
    const struct xdc_plan *plan);

#endif /* XDC_MEMBER_H */
