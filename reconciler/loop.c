/*
 * The continuous loop (see loop.h): one base/ev loop, in one thread, that
 * never waits on anything but poll(). Signals arrive on a signalfd (no
 * handlers at all), changes of PATH on inotify (watch.c), changes of the
 * pool on the driver's watch fd, a git fetch's end on its thread's eventfd
 * (source.c), and the driver's own fds and timers are lent to the same
 * loop. Time is timers: the resync interval, the debounce of file
 * changes, the next backoff retry, an overdue fetch, SIGTERM's grace.
 *
 * Events only say what is due; a cycle (cycle.c) starts when one is due
 * and none is under way, and is stepped after every event, and at once
 * while its executor can move without one. So during a 30 s action a
 * SIGTERM, a file change, a domain that dies or a timer is served at
 * once: what it makes due waits for the cycle under way to end. SIGTERM
 * stops starting actions, gives what runs LOOP_GRACE_MS, then abandons it
 * and exits 0.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "base/error.h"
#include "base/ev.h"
#include "drivers/driver.h"
#include "reconciler/backoff.h"
#include "reconciler/cli.h"
#include "reconciler/cycle.h"
#include "reconciler/log.h"
#include "reconciler/loop.h"
#include "reconciler/source.h"
#include "reconciler/status.h"
#include "reconciler/watch.h"

struct loop {
	struct agent l_ag;
	const struct loop_opts *l_opts;
	struct xdc_ev *l_ev;
	char *l_state_dir;
	int l_sigfd;
	struct watch *l_watch; /* a path source: its inotify */
	struct xdc_ev_io *l_sig_io, *l_watch_io, *l_drv_io, *l_fetch_io;
	int l_drv_fd; /* the driver's watch fd l_drv_io polls, or -1 */
	struct xdc_ev_timer *l_resync, *l_debounce, *l_retry, *l_grace,
	    *l_overdue;
	int64_t l_debounce_first;

	struct cycle *l_cycle;       /* under way, or NULL */
	int l_due;                   /* a cycle is due ... */
	const char *l_trigger;       /* ... for this */
	const char *l_fetch_trigger; /* what the fetch under way is for */
	int64_t l_fetch_started;
	int l_first_fetch; /* git: no cycle before the first fetch ends */
	int l_stop;
};

/* ---- What is due ------------------------------------------------------ */

static void
due(struct loop *l, const char *trigger)
{
	/* A retry is the least of reasons: any other names the cycle. */
	if (!l->l_due || strcmp(trigger, "retry") != 0)
		l->l_trigger = trigger;
	l->l_due = 1;
}

/* A fetch that has not ended after one interval (at least
 * LOOP_FETCH_OVERDUE_MS) is overdue: the remote is not answering. */
static int64_t
overdue_ms(const struct loop *l)
{
	return l->l_opts->lo_interval_ms > LOOP_FETCH_OVERDUE_MS
	           ? l->l_opts->lo_interval_ms
	           : LOOP_FETCH_OVERDUE_MS;
}

static void fetch_ended(struct xdc_ev_io *, int, short, void *);

/*
 * Start a fetch for trigger; its end makes a cycle due. One at a time:
 * while one is out, the cycle trigger asks for runs at once, on the
 * commit in force.
 */
static void
fetch(struct loop *l, const char *trigger)
{
	int fd;

	if (source_fetching(l->l_ag.ag_src)) {
		log_err(LOG_DEBUG, "fetch still under way",
		    source_name(l->l_ag.ag_src));
		due(l, trigger);
		return;
	}
	if (source_fetch_start(l->l_ag.ag_src, &fd) != 0) {
		free(l->l_ag.ag_unreachable);
		l->l_ag.ag_unreachable = xdc_strdup(xdc_error_last());
		log_err(LOG_WARN, "fetch failed", xdc_error_last());
		due(l, trigger);
		return;
	}
	l->l_fetch_trigger = trigger;
	l->l_fetch_started = xdc_ev_now();
	l->l_fetch_io = xdc_ev_io_add(l->l_ev, fd, POLLIN, fetch_ended, l);
	xdc_ev_timer_in(l->l_overdue, overdue_ms(l));
}

static void
fetch_ended(struct xdc_ev_io *io, int fd, short revents, void *arg)
{
	struct loop *l = arg;
	struct agent *ag = &l->l_ag;
	int rc;

	(void)io;
	(void)fd;
	(void)revents;
	if ((rc = source_fetch_end(ag->ag_src)) == XDC_ERETRY)
		return;
	xdc_ev_io_del(l->l_fetch_io);
	l->l_fetch_io = NULL;
	xdc_ev_timer_stop(l->l_overdue);
	l->l_first_fetch = 0;
	if (rc != 0) {
		if (ag->ag_unreachable == NULL ||
		    strcmp(ag->ag_unreachable, xdc_error_last()))
			log_err(LOG_WARN, "fetch failed", xdc_error_last());
		free(ag->ag_unreachable);
		ag->ag_unreachable = xdc_strdup(xdc_error_last());
	} else if (ag->ag_unreachable != NULL) {
		log_err(LOG_INFO, "fetch works again", ag->ag_unreachable);
		free(ag->ag_unreachable);
		ag->ag_unreachable = NULL;
	}
	due(l, l->l_fetch_trigger);
}

/* The fetch has not ended: say so, and let a cycle record it. */
static void
fetch_overdue(struct xdc_ev_timer *t, void *arg)
{
	struct loop *l = arg;
	struct agent *ag = &l->l_ag;
	char *msg = NULL;

	(void)t;
	if (!source_fetching(ag->ag_src))
		return;
	xdc_asprintf(&msg,
	    "%s: no answer for %llds: the fetch is still under way (a remote "
	    "that accepts and never answers holds it for ever); no other "
	    "fetch starts until it ends",
	    source_name(ag->ag_src),
	    (long long)(xdc_ev_now() - l->l_fetch_started) / 1000);
	log_err(LOG_WARN, "fetch overdue", msg);
	free(ag->ag_unreachable);
	ag->ag_unreachable = msg;
	l->l_first_fetch = 0;
	due(l, l->l_fetch_trigger);
}

/* ---- Timers ----------------------------------------------------------- */

/* A debug line for what an event made due, and when it runs. */
static void
log_due(const struct loop *l, const char *msg)
{
	struct logline ll;

	log_begin(&ll, LOG_DEBUG, msg);
	log_str(&ll, "cycle",
	    l->l_cycle != NULL ? "after the one under way" : "now");
	log_end(&ll);
}

static void
resync(struct xdc_ev_timer *t, void *arg)
{
	struct loop *l = arg;

	xdc_ev_timer_in(t, l->l_opts->lo_interval_ms);
	log_due(l, "resync due");
	if (source_is_git(l->l_ag.ag_src)) {
		fetch(l, "timer");
		return;
	}
	l->l_ag.ag_reload = 1;
	due(l, "timer");
}

static void
debounced(struct xdc_ev_timer *t, void *arg)
{
	struct loop *l = arg;

	(void)t;
	l->l_debounce_first = 0;
	l->l_ag.ag_reload = 1;
	log_due(l, "configuration changed");
	due(l, "config");
}

static void
retry(struct xdc_ev_timer *t, void *arg)
{
	(void)t;
	due(arg, "retry");
}

/* After a cycle: the next time backoff lets something be tried. */
static void
arm_retry(struct loop *l)
{
	int64_t now = xdc_ev_realtime();
	int64_t next = backoff_next(l->l_ag.ag_bo, now);

	if (next == 0)
		xdc_ev_timer_stop(l->l_retry);
	else
		xdc_ev_timer_in(l->l_retry, next - now);
}

/* SIGTERM's grace is over: what still runs is abandoned. */
static void
grace_over(struct xdc_ev_timer *t, void *arg)
{
	struct loop *l = arg;

	(void)t;
	if (l->l_cycle != NULL) {
		log_err(LOG_WARN, "stopping",
		    "the action in flight did not end within the grace; "
		    "abandoned");
		cycle_end(l->l_cycle);
		l->l_cycle = NULL;
	}
}

/* ---- Events ----------------------------------------------------------- */

static void
stop(struct loop *l)
{
	if (l->l_stop)
		return;
	l->l_stop = 1;
	/* A fetch that progresses stops; one that hangs is left behind. */
	source_fetch_cancel(l->l_ag.ag_src);
	if (l->l_cycle != NULL) {
		cycle_stop(l->l_cycle);
		xdc_ev_timer_in(l->l_grace, LOOP_GRACE_MS);
	}
}

static void
signals_read(struct xdc_ev_io *io, int fd, short revents, void *arg)
{
	struct loop *l = arg;
	struct signalfd_siginfo si;
	struct logline ll;

	(void)io;
	(void)revents;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		log_begin(&ll, LOG_INFO, "signal");
		log_int(&ll, "signo", si.ssi_signo);
		log_end(&ll);
		if (si.ssi_signo != SIGHUP) {
			stop(l);
			continue;
		}
		l->l_ag.ag_reload = l->l_ag.ag_force = 1;
		if (source_is_git(l->l_ag.ag_src))
			fetch(l, "sighup");
		else
			due(l, "sighup");
	}
}

static void
watch_changed(struct xdc_ev_io *io, int fd, short revents, void *arg)
{
	struct loop *l = arg;
	int64_t now = xdc_ev_now(), at;

	(void)io;
	(void)fd;
	(void)revents;
	if (!watch_read(l->l_watch))
		return;
	/* Quiet for LOOP_DEBOUNCE_MS, but no later than _MAX_MS after the
	 * first change: a stream of writes cannot hold a reload back. */
	if (l->l_debounce_first == 0)
		l->l_debounce_first = now;
	at = now + LOOP_DEBOUNCE_MS;
	if (at > l->l_debounce_first + LOOP_DEBOUNCE_MAX_MS)
		at = l->l_debounce_first + LOOP_DEBOUNCE_MAX_MS;
	xdc_ev_timer_at(l->l_debounce, at);
}

static void
pool_changed(struct xdc_ev_io *io, int fd, short revents, void *arg)
{
	struct loop *l = arg;
	struct xdc_driver *drv = l->l_ag.ag_se.se_drv;

	(void)io;
	(void)fd;
	(void)revents;
	if (drv != NULL)
		drv->watch_drain(drv);
	log_due(l, "pool changed");
	due(l, "hypervisor");
}

/* Poll the watch fd of the driver there is now: cycles may reopen it. */
static void
watch_driver(struct loop *l)
{
	struct xdc_driver *drv = l->l_ag.ag_se.se_drv;
	int fd = -1;

	if (drv != NULL && drv->watch_fd != NULL && drv->watch_drain != NULL)
		fd = drv->watch_fd(drv);
	if (fd == l->l_drv_fd)
		return;
	xdc_ev_io_del(l->l_drv_io);
	l->l_drv_io = NULL;
	l->l_drv_fd = fd;
	if (fd >= 0)
		l->l_drv_io =
		    xdc_ev_io_add(l->l_ev, fd, POLLIN, pool_changed, l);
}

/* ---- Cycles ----------------------------------------------------------- */

static void
begin_cycle(struct loop *l)
{
	struct agent *ag = &l->l_ag;

	l->l_due = 0;
	/* A path is watched as it is when it is read. */
	if (l->l_watch != NULL && (ag->ag_reload || ag->ag_cfg == NULL))
		watch_setup(l->l_watch);
	l->l_cycle = cycle_start(ag, l->l_trigger);
	watch_driver(l);
}

static void
end_cycle(struct loop *l)
{
	cycle_end(l->l_cycle);
	l->l_cycle = NULL;
	xdc_ev_timer_stop(l->l_grace);
	/* The driver may have been closed by a failure. */
	watch_driver(l);
	arm_retry(l);
}

/* ---- Setting up ------------------------------------------------------- */

static int
signals_open(struct loop *l)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return xdc_error_sys(XDC_ERR, "cannot block signals");
	l->l_sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (l->l_sigfd < 0)
		return xdc_error_sys(XDC_ERR, "cannot open a signalfd");
	l->l_sig_io =
	    xdc_ev_io_add(l->l_ev, l->l_sigfd, POLLIN, signals_read, l);
	return 0;
}

static int
loop_open(struct loop *l, struct cli *cli)
{
	struct agent *ag = &l->l_ag;
	int rc;

	l->l_ev = xdc_ev_new();
	agent_init(ag, cli, l->l_opts->lo_interval_ms);
	session_init(&ag->ag_se, cli, l->l_ev);
	ag->ag_se.se_max_destroy = l->l_opts->lo_max_destroy;
	ag->ag_se.se_force = l->l_opts->lo_force;
	ag->ag_se.se_watch = 1;
	/* One xdc at a time acts on a state directory (the command table). */
	if ((rc = source_state_dir(cli, &l->l_state_dir)) ||
	    (rc = session_lock(&ag->ag_se)))
		return rc;
	ag->ag_state_dir = l->l_state_dir;
	/* Ours now: what writers killed before their rename left is not. */
	status_sweep(l->l_state_dir);
	if ((rc = signals_open(l)) ||
	    (rc = source_new(cli, l->l_opts->lo_path, &ag->ag_src)))
		return rc;
	if (!source_is_git(ag->ag_src)) {
		if ((rc = watch_new(
		         l->l_opts->lo_path, l->l_state_dir, &l->l_watch)))
			return rc;
		l->l_watch_io = xdc_ev_io_add(
		    l->l_ev, watch_fd(l->l_watch), POLLIN, watch_changed, l);
	}
	l->l_resync = xdc_ev_timer_new(l->l_ev, resync, l);
	l->l_debounce = xdc_ev_timer_new(l->l_ev, debounced, l);
	l->l_retry = xdc_ev_timer_new(l->l_ev, retry, l);
	l->l_grace = xdc_ev_timer_new(l->l_ev, grace_over, l);
	l->l_overdue = xdc_ev_timer_new(l->l_ev, fetch_overdue, l);
	return 0;
}

static void
loop_close(struct loop *l)
{
	if (l->l_cycle != NULL)
		cycle_end(l->l_cycle);
	/* The driver before the loop its fds and timers live in; the lock
	 * goes with the session. */
	session_close(&l->l_ag.ag_se);
	/* A fetch that hangs is not waited for: source_free leaves it. */
	source_free(l->l_ag.ag_src);
	agent_free(&l->l_ag);
	watch_free(l->l_watch);
	xdc_ev_free(l->l_ev);
	if (l->l_sigfd >= 0)
		close(l->l_sigfd);
	free(l->l_state_dir);
}

static void
log_start(const struct loop *l, const struct cli *cli)
{
	struct logline ll;
	char ms[32];

	log_begin(&ll, LOG_INFO, "starting");
	log_str(&ll, "source", source_name(l->l_ag.ag_src));
	log_str(&ll, "state_dir", l->l_state_dir);
	log_str(&ll, "host", cli->cl_host);
	if (l->l_opts->lo_interval_ms % 1000 == 0)
		snprintf(ms, sizeof(ms), "%llds",
		    (long long)l->l_opts->lo_interval_ms / 1000);
	else
		snprintf(ms, sizeof(ms), "%lldms",
		    (long long)l->l_opts->lo_interval_ms);
	log_str(&ll, "interval", ms);
	log_int(&ll, "pid", (long long)getpid());
	log_end(&ll);
}

/* ---- The loop --------------------------------------------------------- */

int
loop_run(struct cli *cli, const struct loop_opts *opts)
{
	struct loop l;
	struct logline ll;
	int rc, timeout;

	memset(&l, 0, sizeof(l));
	l.l_opts = opts;
	l.l_sigfd = l.l_drv_fd = -1;
	log_set_verbose(cli->cl_verbose);
	if ((rc = loop_open(&l, cli)) != 0)
		goto out;
	log_start(&l, cli);

	/* The first cycle: at once for a path, after the fetch for git. */
	l.l_ag.ag_reload = 1;
	if (source_is_git(l.l_ag.ag_src)) {
		l.l_first_fetch = 1;
		fetch(&l, "start");
		l.l_first_fetch = source_fetching(l.l_ag.ag_src);
	} else {
		due(&l, "start");
	}
	xdc_ev_timer_in(l.l_resync, opts->lo_interval_ms);

	while (!l.l_stop || l.l_cycle != NULL) {
		if (l.l_cycle == NULL && l.l_due && !l.l_stop &&
		    !l.l_first_fetch)
			begin_cycle(&l);
		timeout = -1;
		if (l.l_cycle != NULL) {
			if (cycle_step(l.l_cycle) != 0) {
				end_cycle(&l);
				continue;
			}
			/* Quick actions one after another, polling between. */
			if (cycle_ready(l.l_cycle))
				timeout = 0;
		}
		if ((rc = xdc_ev_run_once(l.l_ev, timeout)) < 0)
			goto out;
	}
	log_begin(&ll, LOG_INFO, "stopped");
	log_end(&ll);
	rc = 0;
out:
	loop_close(&l);
	return rc;
}
