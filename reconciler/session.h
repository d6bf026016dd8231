/*
 * The one pipeline of plan, apply and run: load the configuration, open
 * the driver, observe, plan, guard, execute (SPEC §3-§6). Each stage is a
 * function here, and `xdc plan`, `xdc apply` and each cycle of `xdc run`
 * call the same ones, so that they cannot disagree on which host an agent
 * applies, on the --max-destroy rule or on the lock.
 *
 * A session owns the driver (kept from one cycle of the loop to the next
 * while the configuration's Hosts stay the same), the state directory's
 * lock once taken, and for the one-shot commands what the pipeline made:
 * the configuration, its observation and its plan.
 */
#ifndef XDC_SESSION_H
#define XDC_SESSION_H

#include "base/diag.h"
#include "reconciler/source.h"
#include "schema/schema.h"

struct cli;
struct exec;
struct member;
struct pool_agent;
struct pool_snapshot;
struct exec_ops;
struct xdc_config;
struct xdc_driver;
struct xdc_ev;
struct xdc_observed;
struct xdc_plan;

struct session {
	struct cli *se_cli;
	struct xdc_ev *se_ev; /* where the driver's actions wait */
	int se_own_ev;
	struct xdc_driver *se_drv;
	char *se_drv_sig;    /* what of the configuration it was opened for */
	int se_lockfd;       /* the state directory's lock, or -1 */
	long se_max_destroy; /* -1: 25% of the managed VMs, at least 1 */
	int se_force;        /* apply past se_max_destroy */
	int se_watch;        /* the loop: arm the driver's watch at open */
	/*
	 * The pool view (--etcd, member.h), or NULL; and the snapshot the
	 * last plan was made on, which pins what its observation points to.
	 */
	struct pool_agent *se_pool;
	struct pool_snapshot *se_snap;
	struct member *se_member; /* the one-shot commands' own */
	int se_pool_changed;      /* ... and whether it changed since */
	schema_keep_fn se_keep;   /* session_load: each file loaded, too */
	void *se_keep_arg;

	/* The one-shot commands' products (session_plan). */
	struct xdc_config *se_cfg;
	char se_commit[SOURCE_COMMIT_HEXSZ]; /* "" for a path */
	struct xdc_observed *se_obs;
	struct xdc_plan *se_plan;
};

/*
 * A session for cli's options, its driver waiting in ev (NULL: a loop of
 * the session's own). session_close frees what it holds, the lock too.
 */
void session_init(struct session *, struct cli *, struct xdc_ev *ev);
void session_close(struct session *);

/*
 * Take the state directory's lock (statedir_lock) when the command table
 * says the command modifies the pool; 0 at once for one that does not,
 * or when the lock is held already.
 */
int session_lock(struct session *);

/*
 * Stage 2: the driver for cfg, lent the session's loop; kept when cfg
 * declares the same Hosts and Networks as the last one. On failure the
 * session has no driver and xdc_error_last() says why.
 */
int session_driver(struct session *, const struct xdc_config *cfg);
void session_driver_close(struct session *);

/*
 * The host whose actions this agent applies, NULL for every host (one
 * rule for apply and run): --host when given; else an agent on real
 * hardware (the xen driver, or netlink's bridges) is the host it runs on
 * (cli_host_name); else a simulated pool is played whole, each host
 * its pool file holds. Needs the driver open. Borrowed.
 */
const char *session_host(const struct session *, const struct xdc_config *);

/*
 * That host, when Hosts are declared, must be one of them: an agent of
 * an undeclared host would find nothing to do and say it converged.
 * Returns 0, or XDC_EINVALID naming the host and the declared ones.
 */
int session_check_host(const struct session *, const struct xdc_config *);

/*
 * Stages 2-4: open the driver (session_driver), check the host, observe
 * and plan cfg (commit: its git commit, or NULL). *obs and *plan go to
 * the caller. Returns 0; XDC_EDRIVER when the driver cannot be opened or
 * cannot observe (xdc_error_last() says which); XDC_EINVALID when the
 * configuration cannot be satisfied (diags) or names an undeclared host
 * (xdc_error_last(), no diagnostic); XDC_ERETRY when the pool view is
 * not there yet (no lease, the pool not read: xdc_error_last() says).
 *
 * With the pool view, this host's observation is published first, and
 * *obs gets the live hosts' published ones; it must be freed before the
 * next call, which takes a new snapshot of the pool.
 */
int session_observe_plan(struct session *, const struct xdc_config *cfg,
    const char *commit, struct xdc_observed **obs, struct xdc_plan **plan,
    struct xdc_diags *diags);

/*
 * Before action i of plan starts, with the pool view: 0 when it may go, 1
 * when it waits for a claim or a budget slot (*why); without the pool
 * view, always 0. session_done tells the pool the action ended.
 */
int session_gate(struct session *, const struct xdc_config *cfg,
    const struct xdc_plan *plan, size_t i, const char **why);
void session_done(struct session *, const struct xdc_config *cfg,
    const struct xdc_plan *plan, size_t i, int done);

/*
 * Stage 3 alone: open the driver for cfg (NULL: for no configuration, as
 * destroy and gc need it, with every network the pool has) unless it is
 * open, check the host, and observe into *obs (the caller's).
 */
int session_observe(
    struct session *, const struct xdc_config *cfg, struct xdc_observed **obs);

/*
 * Stage 4 alone: plan cfg against obs as session_observe_plan does, in
 * the scope --scope names (else cfg's), with teardown as the plan's
 * reason for destroying what the scope has and cfg lacks (NULL: "not
 * declared"). *plan goes to the caller.
 */
int session_plan_obs(struct session *, const struct xdc_config *cfg,
    const char *commit, struct xdc_observed *obs, const char *teardown,
    struct xdc_plan **plan, struct xdc_diags *diags);

/* Stage 5: the --max-destroy guard (plan_check_destroys). */
int session_guard(const struct session *, const struct xdc_plan *, char **msg);

/*
 * Stage 6: an executor for plan, through the session's driver, for the
 * actions of session_host's host (exec_new).
 */
int session_exec(struct session *, const struct xdc_config *cfg,
    const struct xdc_plan *plan, const struct exec_ops *ops, struct exec **out);

/*
 * The one-shot commands' stage 1, with every error printed: load PATH or
 * fetch and load --git's commit (the fetch honours SIGINT and SIGTERM)
 * into se_cfg and se_commit.
 */
int session_load(struct session *, const char *path, struct xdc_diags *);

/*
 * The one-shot commands' stages 1-4, with every error printed: load PATH
 * or fetch and load --git's commit (the fetch honours SIGINT and
 * SIGTERM), take the lock when lock is set, then session_observe_plan
 * into se_cfg, se_obs and se_plan. With --etcd it first joins the pool:
 * as an observer without lock (plan), as a member with it (apply).
 */
int session_plan(struct session *, const char *path, int lock);

/*
 * The one-shot commands with the pool view: plan se_cfg again into
 * se_obs and se_plan once the pool changed (or timeout_ms passed), for
 * the actions that waited for a claim or a slot. Errors printed.
 */
int session_replan(struct session *, int64_t timeout_ms);

#endif /* XDC_SESSION_H */
