/*
 * The pipeline plan, apply and run share (see session.h). The stages
 * return codes and leave their messages in xdc_error_last(), for the loop
 * to log and to record in its status; session_plan, the one-shot
 * commands' front end, prints them.
 */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "base/arena.h"
#include "base/error.h"
#include "base/ev.h"
#include "drivers/driver.h"
#include "planner/plan.h"
#include "pool/agent.h"
#include "reconciler/cli.h"
#include "reconciler/exec.h"
#include "reconciler/member.h"
#include "reconciler/session.h"
#include "reconciler/source.h"
#include "reconciler/statedir.h"
#include "schema/schema.h"

/*
 * The time plans are made at. XDC_NOW (seconds since the epoch, or
 * YYYY-MM-DDTHH:MM:SSZ) fixes it, so that tests and reviews of
 * maintenance windows are reproducible.
 */
time_t
cli_now(void)
{
	const char *s = getenv("XDC_NOW");
	struct tm tm;
	char *end;
	long long v;

	if (s == NULL || *s == '\0')
		return time(NULL);
	v = strtoll(s, &end, 10);
	if (*end == '\0')
		return (time_t)v;
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end != NULL && *end == '\0')
		return timegm(&tm);
	fprintf(stderr, "xdc: XDC_NOW=\"%s\" is not a time; using now\n", s);
	return time(NULL);
}

void
session_init(struct session *s, struct cli *cli, struct xdc_ev *ev)
{
	memset(s, 0, sizeof(*s));
	s->se_cli = cli;
	s->se_ev = ev;
	if (ev == NULL) {
		s->se_ev = xdc_ev_new();
		s->se_own_ev = 1;
	}
	s->se_lockfd = -1;
	s->se_max_destroy = -1;
}

void
session_close(struct session *s)
{
	xdc_plan_free(s->se_plan);
	xdc_observed_free(s->se_obs);
	pool_snapshot_free(s->se_snap);
	member_free(s->se_member, 1);
	session_driver_close(s);
	xdc_config_free(s->se_cfg);
	if (s->se_own_ev)
		xdc_ev_free(s->se_ev);
	if (s->se_lockfd >= 0)
		close(s->se_lockfd);
	memset(s, 0, sizeof(*s));
	s->se_lockfd = -1;
}

/* ---- The lock --------------------------------------------------------- */

/*
 * The state directory, made when it is missing, unless it is the sim
 * pool's own directory (--state without --state-dir): a pool in a
 * directory that is not there is a mistake, which the sim names.
 */
static int
state_dir(struct cli *cli, char **dir)
{
	const char *pool = cli->cl_state, *slash;
	int rc;

	if ((rc = source_state_dir(cli, dir)) != 0)
		return rc;
	slash = pool != NULL ? strrchr(pool, '/') : NULL;
	if (cli->cl_state_dir == NULL && slash != NULL &&
	    strlen(*dir) == (size_t)(slash - pool) &&
	    !strncmp(*dir, pool, (size_t)(slash - pool)) &&
	    access(*dir, F_OK) != 0)
		return xdc_error(
		    XDC_ERR, "the directory %s does not exist", *dir);
	return source_mkdirs(*dir);
}

int
session_lock(struct session *s)
{
	const struct xdc_cmd *cmd = s->se_cli->cl_cmd;
	char *dir = NULL;
	int rc;

	if (s->se_lockfd >= 0 || cmd == NULL || !cmd->c_modifies)
		return 0;
	if ((rc = state_dir(s->se_cli, &dir)) == 0)
		rc = statedir_lock(dir, cmd->c_name, &s->se_lockfd);
	free(dir);
	return rc;
}

/* ---- The driver ------------------------------------------------------- */

/* What of a configuration the driver depends on: its Hosts, and whether
 * it declares Networks (cli_open_driver). The caller frees it. */
static char *
driver_sig(const struct xdc_config *cfg)
{
	char *buf = NULL;
	size_t len = 0, i;
	FILE *fp;

	/* None: every network the pool has (destroy, gc). */
	if (cfg == NULL)
		return xdc_strdup("*");
	if ((fp = open_memstream(&buf, &len)) == NULL)
		return xdc_strdup("?");
	fprintf(fp, "nets=%d", cfg->cfg_nnetworks > 0);
	for (i = 0; i < cfg->cfg_nhosts; i++)
		fprintf(fp, ";%s:%llu:%u", cfg->cfg_hosts[i].h_name,
		    (unsigned long long)cfg->cfg_hosts[i].h_memory,
		    cfg->cfg_hosts[i].h_cpus);
	fclose(fp);
	return buf;
}

void
session_driver_close(struct session *s)
{
	if (s->se_drv != NULL)
		s->se_drv->free(s->se_drv);
	s->se_drv = NULL;
	free(s->se_drv_sig);
	s->se_drv_sig = NULL;
}

int
session_driver(struct session *s, const struct xdc_config *cfg)
{
	char *sig = driver_sig(cfg);
	int rc;

	if (s->se_drv != NULL && (cfg == NULL || !strcmp(sig, s->se_drv_sig))) {
		free(sig);
		return 0;
	}
	session_driver_close(s);
	if ((rc = cli_open_driver(s->se_cli, cfg, s->se_ev, &s->se_drv))) {
		free(sig);
		return rc;
	}
	s->se_drv_sig = sig;
	/* Watch before the first observation, so no change falls between. */
	if (s->se_watch && s->se_drv->watch_fd != NULL)
		(void)s->se_drv->watch_fd(s->se_drv);
	return 0;
}

/* ---- Which host ------------------------------------------------------- */

/* Xen, and netlink's bridges, are the machine xdc runs on. */
static int
drives_this_machine(const struct session *s)
{
	return (s->se_drv != NULL && !strcmp(s->se_drv->name, "xen")) ||
	       (s->se_cli->cl_net != NULL &&
	           !strcmp(s->se_cli->cl_net, "netlink"));
}

const char *
session_host(const struct session *s, const struct xdc_config *cfg)
{
	if (s->se_cli->cl_host != NULL)
		return s->se_cli->cl_host;
	/* With the pool view, the sim's pool file is one host's too. */
	if (drives_this_machine(s) || s->se_cli->cl_pool_view)
		return cli_host_name(s->se_cli, cfg);
	/* The sim's pool file holds every host: one agent may play all. */
	return NULL;
}

int
session_check_host(const struct session *s, const struct xdc_config *cfg)
{
	const char *host = session_host(s, cfg);
	char *list = NULL, *next;
	size_t i;
	int rc;

	if (host == NULL || cfg->cfg_nhosts == 0 ||
	    xdc_config_host(cfg, host) != NULL)
		return 0;
	for (i = 0; i < cfg->cfg_nhosts; i++) {
		xdc_asprintf(&next, "%s%s%s", list ? list : "",
		    i == 0                     ? ""
		    : i + 1 == cfg->cfg_nhosts ? " and "
		                               : ", ",
		    cfg->cfg_hosts[i].h_name);
		free(list);
		list = next;
	}
	rc = xdc_error(XDC_EINVALID,
	    "%s \"%s\" is not a Host of %s, which declares %s: this agent "
	    "would have nothing to do",
	    s->se_cli->cl_host != NULL ? "--host" : "this host", host,
	    cfg->cfg_path, list);
	free(list);
	return rc;
}

/* ---- Observe, plan, guard, execute ------------------------------------ */

/* The error so far, with what failed before it, as code. */
static int
prefix_error(int code, const char *what)
{
	char *msg = xdc_strdup(xdc_error_last());
	int rc;

	rc = xdc_error(code, "%s: %s", what, msg);
	free(msg);
	return rc;
}

/*
 * This host's observation published, and the pool's view taken: the
 * other live hosts' observations join obs, and po gets what the planner
 * must know of lost, fenced and claimed (SPEC §8).
 */
static int
pool_view(struct session *s, const struct xdc_config *cfg, const char *commit,
    struct xdc_observed *obs, struct plan_opts *po)
{
	const struct xdc_obs_host *own;
	const char *why;
	int rc;

	own = po->po_self != NULL ? xdc_observed_host(obs, po->po_self) : NULL;
	if (own != NULL)
		pool_agent_publish(s->se_pool, own, cfg->cfg_path,
		    commit != NULL && *commit ? commit : NULL);
	pool_snapshot_free(s->se_snap);
	s->se_snap = NULL;
	if (!pool_agent_ready(s->se_pool, &why))
		return xdc_error(
		    XDC_ERETRY, "waiting for the pool view: %s", why);
	if ((rc = pool_agent_snapshot(s->se_pool, cfg, obs, &s->se_snap)))
		return prefix_error(rc, "waiting for the pool view");
	po->po_pool = pool_snapshot_view(s->se_snap);
	return 0;
}

int
session_observe(
    struct session *s, const struct xdc_config *cfg, struct xdc_observed **obs)
{
	int rc;

	*obs = NULL;
	if ((rc = session_driver(s, cfg)) != 0)
		return prefix_error(XDC_EDRIVER, "cannot open the driver");
	if (cfg != NULL && (rc = session_check_host(s, cfg)) != 0)
		return rc;
	if ((rc = s->se_drv->observe(s->se_drv, obs)) != 0)
		return prefix_error(XDC_EDRIVER, "cannot observe the pool");
	return 0;
}

int
session_plan_obs(struct session *s, const struct xdc_config *cfg,
    const char *commit, struct xdc_observed *obs, const char *teardown,
    struct xdc_plan **plan, struct xdc_diags *diags)
{
	struct plan_opts po;
	int rc;

	memset(&po, 0, sizeof(po));
	po.po_now = cli_now();
	po.po_commit = commit != NULL && *commit ? commit : NULL;
	po.po_self = session_host(s, cfg);
	po.po_migrate =
	    s->se_drv != NULL && (s->se_drv->caps & XDC_DRV_MIGRATE) != 0;
	if (s->se_pool != NULL && (rc = pool_view(s, cfg, commit, obs, &po)))
		return rc;
	/* A teardown's configuration names the scope it takes down. */
	po.po_scope = teardown == NULL ? s->se_cli->cl_scope : NULL;
	po.po_teardown = teardown;
	rc = plan_compute(cfg, obs, &po, plan, diags);
	if (rc != 0 && rc != XDC_EINVALID)
		rc = prefix_error(XDC_EINVALID, "cannot plan");
	return rc;
}

int
session_gate(struct session *s, const struct xdc_config *cfg,
    const struct xdc_plan *plan, size_t i, const char **why)
{
	*why = NULL;
	if (s->se_pool == NULL)
		return 0;
	return pool_agent_gate(s->se_pool, cfg, plan, i, why) != 0;
}

void
session_done(struct session *s, const struct xdc_config *cfg,
    const struct xdc_plan *plan, size_t i, int done)
{
	if (s->se_pool == NULL)
		return;
	/*
	 * What the action did is seen by the other hosts before its claim
	 * or slot is given back: the next holder must not find this host's
	 * copy still there. What cannot be shown is kept, as if not done.
	 */
	if (done && s->se_drv != NULL && s->se_drv->sync != NULL &&
	    s->se_drv->sync(s->se_drv) != 0)
		done = 0;
	pool_agent_done(s->se_pool, cfg, plan, i, done);
}

int
session_observe_plan(struct session *s, const struct xdc_config *cfg,
    const char *commit, struct xdc_observed **obs, struct xdc_plan **plan,
    struct xdc_diags *diags)
{
	int rc;

	*plan = NULL;
	if ((rc = session_observe(s, cfg, obs)) != 0)
		return rc;
	return session_plan_obs(s, cfg, commit, *obs, NULL, plan, diags);
}

int
session_guard(const struct session *s, const struct xdc_plan *plan, char **msg)
{
	return plan_check_destroys(plan, s->se_max_destroy, s->se_force, msg);
}

int
session_exec(struct session *s, const struct xdc_config *cfg,
    const struct xdc_plan *plan, const struct exec_ops *ops, struct exec **out)
{
	return exec_new(s->se_drv, plan, session_host(s, cfg), ops, out);
}

/* ---- The one-shot commands -------------------------------------------- */

struct fetch_wait {
	struct source *fw_src;
	int fw_sigfd;
	int fw_signo; /* the signal that stopped it, or 0 */
	int fw_done;
};

static void
fetch_ended(struct xdc_ev_io *io, int fd, short revents, void *arg)
{
	struct fetch_wait *fw = arg;

	(void)io;
	(void)fd;
	(void)revents;
	fw->fw_done = 1;
}

static void
fetch_signal(struct xdc_ev_io *io, int fd, short revents, void *arg)
{
	struct fetch_wait *fw = arg;
	struct signalfd_siginfo si;

	(void)io;
	(void)revents;
	if (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		fw->fw_signo = (int)si.ssi_signo;
}

/*
 * A one-shot fetch may take as long as the remote does, but SIGINT and
 * SIGTERM end it at once: the fetch runs in its thread, and the command
 * waits for either its end or a signal. A fetch that hangs is left to
 * itself; the process exits.
 */
static int
fetch_wait(struct session *s, struct source *src)
{
	struct fetch_wait fw;
	struct xdc_ev_io *fio = NULL, *sio = NULL;
	sigset_t set, old;
	int rc, fd;

	memset(&fw, 0, sizeof(fw));
	fw.fw_src = src;
	fw.fw_sigfd = -1;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, &old) < 0)
		return xdc_error_sys(XDC_ERR, "cannot block signals");
	fw.fw_sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fw.fw_sigfd < 0) {
		rc = xdc_error_sys(XDC_ERR, "cannot open a signalfd");
		goto out;
	}
	if ((rc = source_fetch_start(src, &fd)) != 0)
		goto out;
	fio = xdc_ev_io_add(s->se_ev, fd, POLLIN, fetch_ended, &fw);
	sio = xdc_ev_io_add(s->se_ev, fw.fw_sigfd, POLLIN, fetch_signal, &fw);
	while (!fw.fw_done && fw.fw_signo == 0)
		if ((rc = xdc_ev_run_once(s->se_ev, -1)) < 0)
			goto out;
	if (fw.fw_signo != 0) {
		source_fetch_cancel(src);
		rc = xdc_error(XDC_ERR,
		    "interrupted (%s) while fetching %s: nothing is done",
		    fw.fw_signo == SIGINT ? "SIGINT" : "SIGTERM",
		    source_name(src));
		goto out;
	}
	/* The end said; a last read of its eventfd may race its write. */
	while ((rc = source_fetch_end(src)) == XDC_ERETRY)
		if ((rc = xdc_ev_run_once(s->se_ev, 10)) < 0)
			goto out;
out:
	xdc_ev_io_del(fio);
	xdc_ev_io_del(sio);
	if (fw.fw_sigfd >= 0)
		close(fw.fw_sigfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return rc;
}

int
session_load(struct session *s, const char *path, struct xdc_diags *diags)
{
	struct cli *cli = s->se_cli;
	struct source *src = NULL;
	char *dir = NULL;
	size_t n;
	int rc;

	if ((rc = source_new(cli, path, &src)) != 0)
		goto fail;
	if (source_is_git(src)) {
		/* Its git cache is the configuration: it must be ours. */
		if ((rc = state_dir(cli, &dir)) != 0 ||
		    (rc = statedir_check(dir)) != 0 ||
		    (rc = fetch_wait(s, src)) != 0)
			goto fail;
	}
	source_keep(src, s->se_keep, s->se_keep_arg);
	rc = source_load(src, &s->se_cfg, diags, s->se_commit);
	if (rc == XDC_EINVALID) {
		xdc_diags_print(diags, stderr);
		n = xdc_diags_count(diags);
		fprintf(stderr, "%s: %s: %zu %s; nothing is applied\n",
		    cli->cl_prog, source_name(src), n,
		    n == 1 ? "error" : "errors");
		goto out;
	}
	if (rc == XDC_EUNVERIFIED) {
		/* The commit is the location, as FILE:LINE:COL is. */
		fprintf(
		    stderr, "%s: error: %s\n", s->se_commit, xdc_error_last());
		fprintf(stderr,
		    "%s: %s: the commit is not verified; nothing is "
		    "applied\n",
		    cli->cl_prog, source_name(src));
		goto out;
	}
	if (rc == 0)
		goto out;
fail:
	fprintf(stderr, "%s: %s\n", cli->cl_prog, xdc_error_last());
out:
	free(dir);
	source_free(src);
	return rc;
}

#define SESSION_JOIN_MS 15000 /* for etcd to answer, and a lease */

static void
pool_changed(void *arg)
{
	((struct session *)arg)->se_pool_changed = 1;
}

/* Join the pool for one command, and wait until the view is there. */
static int
join(struct session *s, int observer)
{
	int rc;

	if ((rc = member_open(s, s->se_ev, s->se_cli->cl_host, observer,
	         pool_changed, s, &s->se_member)) != 0)
		return rc;
	return member_wait_ready(s->se_member, SESSION_JOIN_MS);
}

int
session_replan(struct session *s, int64_t timeout_ms)
{
	struct xdc_diags *diags;
	int64_t end = xdc_ev_now() + timeout_ms;
	int rc;

	while (!s->se_pool_changed && xdc_ev_now() < end)
		if (xdc_ev_run_once(s->se_ev, 100) < 0)
			break;
	s->se_pool_changed = 0;
	xdc_plan_free(s->se_plan);
	xdc_observed_free(s->se_obs);
	s->se_plan = NULL;
	s->se_obs = NULL;
	diags = xdc_diags_new();
	rc = session_observe_plan(
	    s, s->se_cfg, s->se_commit, &s->se_obs, &s->se_plan, diags);
	if (rc == XDC_EINVALID && xdc_diags_count(diags) > 0)
		xdc_diags_print(diags, stderr);
	else if (rc != 0)
		fprintf(
		    stderr, "%s: %s\n", s->se_cli->cl_prog, xdc_error_last());
	xdc_diags_free(diags);
	return rc;
}

int
session_plan(struct session *s, const char *path, int lock)
{
	struct cli *cli = s->se_cli;
	struct xdc_diags *diags = xdc_diags_new();
	size_t n;
	int rc;

	if ((rc = session_load(s, path, diags)) != 0)
		goto out;
	/* Before observing: what is planned is what no one else changes. */
	if (lock && (rc = session_lock(s)) != 0) {
		fprintf(stderr, "%s: %s\n", cli->cl_prog, xdc_error_last());
		goto out;
	}
	if (cli->cl_etcd != NULL && (rc = join(s, !lock)) != 0) {
		fprintf(stderr, "%s: %s\n", cli->cl_prog, xdc_error_last());
		goto out;
	}
	rc = session_observe_plan(
	    s, s->se_cfg, s->se_commit, &s->se_obs, &s->se_plan, diags);
	if (rc == XDC_EINVALID && xdc_diags_count(diags) > 0) {
		xdc_diags_print(diags, stderr);
		n = xdc_diags_count(diags);
		fprintf(stderr,
		    "%s: %s cannot be satisfied (%zu %s); nothing is applied\n",
		    cli->cl_prog, s->se_cfg->cfg_path, n,
		    n == 1 ? "error" : "errors");
	} else if (rc != 0) {
		fprintf(stderr, "%s: %s\n", cli->cl_prog, xdc_error_last());
	}
out:
	xdc_diags_free(diags);
	return rc;
}
