/*
 * The sim driver's vtable (see sim.h): observe, begin/apply/end,
 * submit/reap on the caller's event loop, and the watch the loop polls,
 * over a pool kept in a JSON file shared between processes. The pool
 * itself, and what an action does to it, live in sim_pool.c and
 * sim_apply.c; its file and lock in sim_file.c. Here is when each is
 * used: a writer (begin, a lone apply, submit, a disturbance) takes the
 * lock exclusively and reads the file again unless it is still the one
 * last read; actions change memory only; the writer's end writes the file
 * once and unlocks, so a batch of ten thousand creates costs one read and
 * one write. observe() reads under a shared lock. A slow action (sim
 * slow) waits for a timer of the loop without the lock, then takes it to
 * be applied and written. Whoever reads the pool, reader or writer,
 * first reboots the hosts whose watchdog has fired (sim_watchdog).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/ev.h"
#include "base/error.h"
#include "base/file.h"
#include "drivers/driver.h"
#include "drivers/sim.h"
#include "drivers/sim_file.h"
#include "drivers/sim_pool.h"
#include "schema/model.h"

/* A delayed action, submitted and waiting for its timer. */
struct sim_wait {
	struct sim *w_sim;
	const struct xdc_action *w_act; /* the caller's, until reaped */
	uint64_t w_token;
	struct xdc_ev_timer *w_timer;
	struct sim_wait *w_next;
};

/* A finished action, for reap. */
struct sim_done {
	uint64_t d_token;
	int d_result;
	char *d_msg; /* the failure's own message; NULL when done */
};

struct sim {
	struct xdc_driver s_drv; /* first: the vtable */
	char *s_path;
	char *s_lock_path;
	char *s_dir;  /* the pool file's directory */
	int s_lockfd; /* -1 until a writer creates it, or a reader finds it */
	struct sim_pool *s_pool; /* as last read, and changed since */
	int s_batch;             /* between begin and end */
	int s_locked; /* the exclusive lock is held: s_pool is the truth */
	int s_swept;  /* a writer has swept the leftovers */
	unsigned long s_writes;
	struct sim_cfg_host *s_cfg_hosts; /* what the configuration declares */
	size_t s_ncfg_hosts;
	/*
	 * One host's pool (sim_open_host): the host this driver is, which
	 * it alone observes and acts on; NULL for the pool of every host.
	 */
	char *s_host;
	int s_watch_fd; /* inotify on the pool file, for the loop; -1 */
	int s_watch_wd;
	/*
	 * s_pool is exactly the pool of the file read, s_read_st: read, in
	 * line with the configuration and not changed since. While the file
	 * is still that one, the next observe or begin takes s_pool rather
	 * than reading and parsing the file again (sim_reload).
	 */
	int s_fresh;
	struct stat s_read_st;
	/*
	 * The pool holds a change no observe has seen since: another
	 * process's write, or a watchdog that fired. Until one has, a pet
	 * does not drop the events it caused (watch_forget_own).
	 */
	int s_unseen;
	/* Asynchronous actions: submit, a timer for the slow ones, reap. */
	struct xdc_ev *s_ev;      /* the caller's loop, once attached */
	struct xdc_ev *s_own_ev;  /* before that, one of the sim's own */
	struct sim_wait *s_waits; /* delayed actions not yet done */
	struct sim_done *s_done;  /* finished ones, oldest first */
	size_t s_ndone, s_done_first;
};

static int sim_observe(struct xdc_driver *, struct xdc_observed **);
static int sim_begin(struct xdc_driver *);
static int sim_apply(struct xdc_driver *, const struct xdc_action *);
static int sim_end(struct xdc_driver *);
static void sim_free(struct xdc_driver *);
static int sim_watch_fd(struct xdc_driver *);
static void sim_watch_drain(struct xdc_driver *);

/* Wall-clock ms: every process that shares the file reads this clock. */
static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Read the pool afresh into s_pool (the lock is held): the file's, brought
 * in line with the configuration, or a new one when there is no file.
 */
static int
sim_load(struct sim *s)
{
	struct sim_pool *p = NULL;
	int rc;

	s->s_fresh = 0;
	if ((rc = sim_file_read(s->s_path, &p, &s->s_read_st)))
		return rc;
	if (p == NULL) {
		p = sim_pool_default(s->s_cfg_hosts, s->s_ncfg_hosts);
		p->p_dirty = 1;
	} else if (sim_pool_reconcile(p, s->s_cfg_hosts, s->s_ncfg_hosts)) {
		p->p_dirty = 1;
	}
	/*
	 * A watchdog that fired while nobody looked: its host has rebooted
	 * for whoever reads the file, and a writer writes that back.
	 */
	sim_pool_watchdog_expire(p, wall_ms());
	sim_pool_free(s->s_pool);
	s->s_pool = p;
	s->s_fresh = !p->p_dirty;
	s->s_unseen = 1;
	return 0;
}

/* sim_load, unless s_pool is still the file's pool (see s_fresh). */
static int
sim_reload(struct sim *s)
{
	if (s->s_fresh && sim_file_unchanged(s->s_path, &s->s_read_st)) {
		/* The same file, but a watchdog may have fired since. */
		if (sim_pool_watchdog_expire(s->s_pool, wall_ms()) > 0) {
			s->s_fresh = 0;
			s->s_unseen = 1;
		}
		return 0;
	}
	return sim_load(s);
}

/*
 * Read the pool as a reader: under a shared lock when there is a lock
 * file. A reader creates none: without one, no writer has come yet, and
 * every write is a rename, so the file read is whole either way.
 */
static int
sim_read(struct sim *s)
{
	int rc;

	if (s->s_lockfd < 0 &&
	    (rc = sim_file_lock_open(s->s_lock_path, 0, &s->s_lockfd)))
		return rc;
	if (s->s_lockfd >= 0 &&
	    (rc = sim_file_lock(s->s_lockfd, s->s_lock_path, LOCK_SH)))
		return rc;
	/* After open, parsing it again was most of a plan. */
	rc = sim_reload(s);
	if (s->s_lockfd >= 0)
		sim_file_unlock(s->s_lockfd);
	if (rc != 0)
		return rc;
	/* A reader does not write; a later batch will. */
	s->s_pool->p_dirty = 0;
	return 0;
}

/*
 * A writer's start: the exclusive lock (waiting for it, or with trylock
 * not: 1 when another process holds it), and s_pool the file's.
 */
static int
sim_lock(struct sim *s, int trylock)
{
	int rc;

	if (s->s_locked)
		return 0;
	if (s->s_lockfd < 0 &&
	    (rc = sim_file_lock_open(s->s_lock_path, 1, &s->s_lockfd)))
		return rc;
	rc = trylock ? sim_file_trylock(s->s_lockfd, s->s_lock_path)
	             : sim_file_lock(s->s_lockfd, s->s_lock_path, LOCK_EX);
	if (rc != 0)
		return rc;
	/*
	 * A writer killed between its temporary file and the rename left
	 * the file behind; none is between the two now.
	 */
	if (!s->s_swept) {
		xdc_file_sweep(s->s_path);
		s->s_swept = 1;
	}
	if ((rc = sim_reload(s))) {
		sim_file_unlock(s->s_lockfd);
		return rc;
	}
	/* The writer changes s_pool: it is no longer the file's. */
	s->s_fresh = 0;
	s->s_locked = 1;
	return 0;
}

/* Under the lock: the file written, when the pool changed. */
static int
sim_flush(struct sim *s)
{
	int rc;

	if (!s->s_pool->p_dirty)
		return 0;
	if ((rc = sim_file_write(s->s_path, s->s_pool)) != 0)
		return rc;
	s->s_pool->p_dirty = 0;
	s->s_writes++;
	/* Nobody can have replaced it since: the lock is ours. */
	s->s_fresh = stat(s->s_path, &s->s_read_st) == 0;
	return 0;
}

/* A writer's end: the file written, once, when the pool changed. */
static int
sim_unlock(struct sim *s)
{
	int rc;

	if (!s->s_locked)
		return 0;
	rc = sim_flush(s);
	s->s_locked = 0;
	sim_file_unlock(s->s_lockfd);
	return rc;
}

static int
sim_begin(struct xdc_driver *drv)
{
	struct sim *s = (struct sim *)drv;
	int rc;

	if (s->s_batch)
		return xdc_error(XDC_ERR, "sim: begin inside a batch");
	if ((rc = sim_lock(s, 0)))
		return rc;
	s->s_batch = 1;
	return 0;
}

/* Inside a batch, the file written now, the lock kept. */
static int
sim_sync(struct xdc_driver *drv)
{
	struct sim *s = (struct sim *)drv;

	return s->s_batch && s->s_locked ? sim_flush(s) : 0;
}

static int
sim_end(struct xdc_driver *drv)
{
	struct sim *s = (struct sim *)drv;

	if (!s->s_batch)
		return 0;
	s->s_batch = 0;
	return sim_unlock(s);
}

/*
 * An apply, a submit or a disturbance: under the lock, which a batch
 * keeps and which is let go at once outside one.
 */
static int
txn_begin(struct sim *s)
{
	return sim_lock(s, 0);
}

static int
txn_end(struct sim *s, int rc)
{
	int rc2;

	if (s->s_batch)
		return rc;
	rc2 = sim_unlock(s);
	return rc != 0 ? rc : rc2;
}

static int
sim_observe(struct xdc_driver *drv, struct xdc_observed **out)
{
	struct sim *s = (struct sim *)drv;
	int rc = 0;

	*out = NULL;
	/* Under the lock the pool in memory is the truth, and ours. */
	if (s->s_locked)
		sim_pool_watchdog_expire(s->s_pool, wall_ms());
	else if ((rc = sim_read(s)) != 0)
		return rc;
	*out = sim_pool_observe(s->s_pool, s->s_host);
	s->s_unseen = 0;
	return 0;
}

/* Sleep ms, whatever signals come: apply's way to take its time. */
static void
sleep_ms(uint64_t ms)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/*
 * Apply one action to the pool in memory. One host's pool takes actions
 * for that host only, as a Xen host does: another host's is refused.
 */
static int
sim_do(struct sim *s, const struct xdc_action *a)
{
	struct xdc_action own;

	if (s->s_host == NULL)
		return sim_pool_apply(s->s_pool, a);
	if (a->a_host != NULL && strcmp(a->a_host, s->s_host) != 0)
		return xdc_error(XDC_EDRIVER,
		    "%s %s: host %s is not this one: %s is the pool of host "
		    "%s alone",
		    xdc_op_name(a->a_op), a->a_name ? a->a_name : "?",
		    a->a_host, s->s_path, s->s_host);
	own = *a;
	own.a_host = s->s_host;
	return sim_pool_apply(s->s_pool, &own);
}

static int
sim_apply(struct xdc_driver *drv, const struct xdc_action *a)
{
	struct sim *s = (struct sim *)drv;
	uint64_t ms;
	int rc;

	if ((rc = txn_begin(s)))
		return rc;
	/*
	 * A slow action: apply is the synchronous way, so it waits here,
	 * the lock let go meanwhile, as submit's timer would.
	 */
	if ((ms = sim_slow_take(s->s_pool, a)) > 0) {
		if ((rc = sim_unlock(s)))
			return rc;
		sleep_ms(ms);
		if ((rc = txn_begin(s)))
			return rc;
	}
	rc = sim_do(s, a);
	return txn_end(s, rc);
}

/* ---- Submit and reap ------------------------------------------------- */

/* How often a delayed action tries again for a lock another process holds. */
#define SIM_LOCK_RETRY_MS 10

static struct xdc_ev *
sim_ev(struct sim *s)
{
	if (s->s_ev != NULL)
		return s->s_ev;
	if (s->s_own_ev == NULL)
		s->s_own_ev = xdc_ev_new();
	return s->s_own_ev;
}

/* An outcome for reap; msg, a failure's message, is handed over. */
static void
done_push(struct sim *s, uint64_t token, int result, char *msg)
{
	struct sim_done *d;

	/* Room at the end: move what is left to the front first. */
	if (s->s_done_first > 0) {
		memmove(s->s_done, s->s_done + s->s_done_first,
		    (s->s_ndone - s->s_done_first) * sizeof(*s->s_done));
		s->s_ndone -= s->s_done_first;
		s->s_done_first = 0;
	}
	s->s_done =
	    xdc_reallocarray(s->s_done, s->s_ndone + 1, sizeof(*s->s_done));
	d = &s->s_done[s->s_ndone++];
	d->d_token = token;
	d->d_result = result;
	d->d_msg = msg;
}

static void
wait_free(struct sim *s, struct sim_wait *w)
{
	struct sim_wait **pp;

	for (pp = &s->s_waits; *pp != NULL; pp = &(*pp)->w_next)
		if (*pp == w) {
			*pp = w->w_next;
			break;
		}
	xdc_ev_timer_free(w->w_timer);
	free(w);
}

/*
 * A delayed action's time is up: it takes the lock, reads the pool again,
 * is applied and written, as a lone apply would be. Under a batch that
 * holds the lock, the pool in memory is the file's, and the batch writes.
 */
static void
wait_fire(struct xdc_ev_timer *t, void *arg)
{
	struct sim_wait *w = arg;
	struct sim *s = w->w_sim;
	int rc = 0, rc2, own = !s->s_locked;
	char *msg = NULL;

	if (own && (rc = sim_lock(s, 1)) == 1) {
		/* Another process holds it: never wait in the loop. */
		xdc_ev_timer_in(t, SIM_LOCK_RETRY_MS);
		return;
	}
	if (rc == 0)
		rc = sim_do(s, w->w_act);
	if (rc != 0)
		msg = xdc_strdup(xdc_error_last());
	/* Applied in memory but not written is not done either. */
	if (own && s->s_locked && (rc2 = sim_unlock(s)) != 0 && rc == 0) {
		rc = rc2;
		msg = xdc_strdup(xdc_error_last());
	}
	done_push(s, w->w_token, rc, msg);
	wait_free(s, w);
}

static int
sim_submit(struct xdc_driver *drv, const struct xdc_action *a, uint64_t token)
{
	struct sim *s = (struct sim *)drv;
	struct sim_wait *w;
	char *msg = NULL;
	uint64_t ms;
	int rc, rc2;

	if ((rc = txn_begin(s)))
		return rc;
	if ((ms = sim_slow_take(s->s_pool, a)) == 0) {
		/* Done at once; the next reap says so. */
		if ((rc = sim_do(s, a)) != 0)
			msg = xdc_strdup(xdc_error_last());
	}
	/* Not written, it did not happen: submit fails, nothing to reap. */
	if ((rc2 = txn_end(s, 0)) != 0) {
		free(msg);
		return rc2;
	}
	if (ms == 0) {
		done_push(s, token, rc, msg);
		return 0;
	}
	w = xdc_calloc(1, sizeof(*w));
	w->w_sim = s;
	w->w_act = a;
	w->w_token = token;
	w->w_timer = xdc_ev_timer_new(sim_ev(s), wait_fire, w);
	xdc_ev_timer_in(w->w_timer, (int64_t)ms);
	w->w_next = s->s_waits;
	s->s_waits = w;
	return 0;
}

static int
sim_reap(struct xdc_driver *drv, uint64_t *token, int *result, char **msg)
{
	struct sim *s = (struct sim *)drv;
	struct sim_done *d;
	int rc;

	*msg = NULL;
	/* Not attached: the sim's own loop, for what is due now. */
	if (s->s_ev == NULL && s->s_own_ev != NULL &&
	    (rc = xdc_ev_run_once(s->s_own_ev, 0)) < 0)
		return rc;
	if (s->s_done_first < s->s_ndone) {
		d = &s->s_done[s->s_done_first++];
		*token = d->d_token;
		*result = d->d_result;
		*msg = d->d_msg;
		if (s->s_done_first == s->s_ndone)
			s->s_ndone = s->s_done_first = 0;
		return 0;
	}
	/*
	 * Nothing more now: the caller goes back to its loop. While an
	 * action waits there, the lock is not ours to keep: what the batch
	 * did so far is written, and its next action takes the lock again,
	 * so that another process may change the pool meanwhile.
	 */
	if (s->s_waits != NULL && (rc = sim_unlock(s)) != 0)
		return rc;
	return XDC_ENOTFOUND;
}

static int
sim_attach(struct xdc_driver *drv, struct xdc_ev *ev)
{
	struct sim *s = (struct sim *)drv;

	if (s->s_waits != NULL)
		return xdc_error(XDC_ERR, "sim: attach after a submit");
	s->s_ev = ev;
	return 0;
}

/* ---- Disturbances ---------------------------------------------------- */

static struct sim *
sim_of(const struct xdc_driver *drv)
{
	if (drv == NULL || drv->observe != sim_observe)
		return NULL;
	return (struct sim *)(uintptr_t)drv;
}

static int
not_sim(void)
{
	return xdc_error(XDC_ERR, "not the sim driver");
}

int
sim_crash(struct xdc_driver *drv, const char *name)
{
	struct sim *s = sim_of(drv);
	int rc;

	if (s == NULL)
		return not_sim();
	if ((rc = txn_begin(s)))
		return rc;
	rc = sim_pool_crash(s->s_pool, name);
	return txn_end(s, rc);
}

int
sim_fail(
    struct xdc_driver *drv, enum xdc_op op, const char *name, unsigned times)
{
	struct sim *s = sim_of(drv);
	int rc;

	if (s == NULL)
		return not_sim();
	if ((unsigned)op >= XDC_OP__COUNT || name == NULL || *name == '\0')
		return xdc_error(XDC_ERR, "sim: a fault needs an operation and "
		                          "a name");
	if ((rc = txn_begin(s)))
		return rc;
	sim_fault_set(s->s_pool, op, name, times);
	return txn_end(s, 0);
}

int
sim_delay(struct xdc_driver *drv, enum xdc_op op, const char *name, uint64_t ms,
    unsigned times)
{
	struct sim *s = sim_of(drv);
	int rc;

	if (s == NULL)
		return not_sim();
	if ((unsigned)op >= XDC_OP__COUNT || name == NULL || *name == '\0')
		return xdc_error(XDC_ERR, "sim: a delay needs an operation and "
		                          "a name");
	if (ms > SIM_SLOW_MAX_MS)
		return xdc_error(XDC_ERR,
		    "sim: %s %s: an action may take %lluh at most",
		    xdc_op_name(op), name,
		    (unsigned long long)(SIM_SLOW_MAX_MS / 3600000));
	if ((rc = txn_begin(s)))
		return rc;
	sim_slow_set(s->s_pool, op, name, ms, times);
	return txn_end(s, 0);
}

int
sim_add_unmanaged(
    struct xdc_driver *drv, const char *name, uint64_t memory, const char *host)
{
	struct sim *s = sim_of(drv);
	int rc;

	if (s == NULL)
		return not_sim();
	if (name == NULL || *name == '\0' || memory == 0)
		return xdc_error(XDC_ERR, "sim: an unmanaged domain needs a "
		                          "name and memory");
	if ((rc = txn_begin(s)))
		return rc;
	rc = sim_pool_add_unmanaged(
	    s->s_pool, name, memory, host != NULL ? host : s->s_host);
	return txn_end(s, rc);
}

/* The pool's hosts, "a, b and 3 more", for a message. */
static const char *
hosts_list(const struct sim_pool *p, char *buf, size_t len)
{
	size_t i, at = 0, shown = 3;

	buf[0] = '\0';
	for (i = 0; i < p->p_nhosts && i < shown && at < len; i++)
		at += (size_t)snprintf(buf + at, len - at, "%s%s",
		    i == 0 ? "" : ", ", p->p_hosts[i].sh_name);
	if (p->p_nhosts > shown && at < len)
		snprintf(
		    buf + at, len - at, " and %zu more", p->p_nhosts - shown);
	return buf;
}

static int
no_file(const struct sim *s, const char *host)
{
	return xdc_error(XDC_ENOTFOUND,
	    "cannot power off host %s: there is no pool file %s", host,
	    s->s_path);
}

int
sim_power_off(struct xdc_driver *drv, const char *host, char ***gone)
{
	struct sim *s = sim_of(drv);
	char held[256];
	int rc;

	if (gone != NULL)
		*gone = NULL;
	if (s == NULL)
		return not_sim();
	if (host == NULL || *host == '\0')
		return xdc_error(XDC_ERR, "sim: power-off needs a host");
	/*
	 * Without a file, the pool is the one a writer would create, and no
	 * host of it exists: a fence that finds none creates nothing, not
	 * even the lock. Checked again under the lock.
	 */
	if (access(s->s_path, F_OK) != 0)
		return no_file(s, host);
	if ((rc = txn_begin(s)))
		return rc;
	if (access(s->s_path, F_OK) != 0) {
		s->s_pool->p_dirty = 0;
		rc = no_file(s, host);
	} else if ((rc = sim_pool_power_off(s->s_pool, host, gone)) != 0) {
		rc = xdc_error(XDC_ENOTFOUND,
		    "cannot power off host %s: the pool file %s holds no such "
		    "host (it holds %s)",
		    host, s->s_path, hosts_list(s->s_pool, held, sizeof(held)));
	}
	return txn_end(s, rc);
}

unsigned long
sim_write_count(const struct xdc_driver *drv)
{
	const struct sim *s = sim_of(drv);

	return s != NULL ? s->s_writes : 0;
}

int
sim_parse_pool(const char *name, const char *text, size_t len, char **out)
{
	struct sim_pool *p = NULL;
	size_t n;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (name == NULL)
		name = "pool";
	if ((rc = sim_file_parse(name, text, len, &p)) == 0 && out != NULL)
		rc = sim_file_text(name, p, out, &n);
	sim_pool_free(p);
	return rc;
}

/* ---- The watchdog ----------------------------------------------------- */

static void watch_forget_own(struct sim *);

/*
 * One host's watchdog, in the pool file (sh_wd_*): whoever reads the file
 * once its deadline has passed sees the host rebooted, so that a stopped
 * or killed agent's host reboots though no process runs for it. A pet is
 * written at once, even inside a batch (whose actions so far are written
 * with it): a deadline not on disk would fire for every other reader.
 */
static int
sim_watchdog(struct xdc_driver *drv, int64_t timeout_ms)
{
	struct sim *s = (struct sim *)drv;
	int rc, rc2, own = !s->s_locked;
	int64_t now = wall_ms();

	if (timeout_ms < 0 || timeout_ms > SIM_WATCHDOG_MAX_MS)
		return xdc_error(XDC_ERR,
		    "sim: host %s: a watchdog's timeout is from 1 ms to 24h "
		    "(0 disarms it), not %lld ms",
		    s->s_host, (long long)timeout_ms);
	if ((rc = sim_lock(s, 0)))
		return rc;
	/*
	 * A pet that comes after the deadline is too late: the host has
	 * rebooted first (sim_lock read it so; a batch's pool is told here).
	 */
	if (sim_pool_watchdog_expire(s->s_pool, now) > 0)
		s->s_unseen = 1;
	rc = sim_pool_watchdog_set(s->s_pool, s->s_host, timeout_ms, now);
	if ((rc2 = sim_flush(s)) == 0)
		watch_forget_own(s);
	else if (rc == 0)
		rc = rc2;
	if (own && (rc2 = sim_unlock(s)) != 0 && rc == 0)
		rc = rc2;
	return rc;
}

/* ---- The watch, for the loop ----------------------------------------- */

/*
 * The pool file's own inode is watched, not its directory: the directory
 * is also the loop's default state directory, and the status files the
 * loop writes there after every cycle would wake it again and again. The
 * file is replaced by rename on every write, so each drain watches the
 * file that is there now; a change between the rename and the drain is
 * seen by the cycle that follows the drain, which reads the file anew.
 */
#define SIM_WATCH_MASK                                                         \
	(IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF)

static void
sim_watch_arm(struct sim *s)
{
	int wd = inotify_add_watch(s->s_watch_fd, s->s_path, SIM_WATCH_MASK);

	/* The old file is gone: its watch would only echo that. */
	if (s->s_watch_wd >= 0 && wd != s->s_watch_wd)
		inotify_rm_watch(s->s_watch_fd, s->s_watch_wd);
	s->s_watch_wd = wd;
}

static int
sim_watch_fd(struct xdc_driver *drv)
{
	struct sim *s = (struct sim *)drv;

	if (s->s_watch_fd < 0) {
		/*
		 * Only the loop watches, and it changes the pool: a pool
		 * with no file yet gets one, for the watch to have a file.
		 */
		if (access(s->s_path, F_OK) != 0 && errno == ENOENT &&
		    (drv->begin(drv) != 0 || drv->end(drv) != 0))
			return -1;
		s->s_watch_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (s->s_watch_fd < 0)
			return -1;
		sim_watch_arm(s);
	}
	return s->s_watch_fd;
}

/*
 * A pet rewrites the file every few seconds, and the loop that watches it
 * would wake each time for nothing. When every change before it has been
 * observed, what the watch holds was caused by this driver: it is
 * dropped, still under the lock, so that no other writer's can be.
 */
static void
watch_forget_own(struct sim *s)
{
	if (s->s_watch_fd >= 0 && !s->s_unseen)
		sim_watch_drain(&s->s_drv);
}

static void
sim_watch_drain(struct xdc_driver *drv)
{
	struct sim *s = (struct sim *)drv;
	char buf[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));

	if (s->s_watch_fd < 0)
		return;
	while (read(s->s_watch_fd, buf, sizeof(buf)) > 0)
		;
	sim_watch_arm(s);
}

/* ---- Open and free ---------------------------------------------------- */

static void
sim_free(struct xdc_driver *drv)
{
	struct sim *s = (struct sim *)drv;
	size_t i;

	if (s == NULL)
		return;
	/*
	 * A delayed action still waiting is abandoned: it has not touched
	 * the pool, and now never will.
	 */
	while (s->s_waits != NULL)
		wait_free(s, s->s_waits);
	for (i = s->s_done_first; i < s->s_ndone; i++)
		free(s->s_done[i].d_msg);
	free(s->s_done);
	xdc_ev_free(s->s_own_ev);
	/* What a batch did has happened; a forgotten end() still saves it. */
	if (s->s_batch)
		sim_end(drv);
	if (s->s_lockfd >= 0)
		close(s->s_lockfd);
	if (s->s_watch_fd >= 0)
		close(s->s_watch_fd);
	sim_pool_free(s->s_pool);
	for (i = 0; i < s->s_ncfg_hosts; i++)
		free(s->s_cfg_hosts[i].ch_name);
	free(s->s_cfg_hosts);
	free(s->s_host);
	free(s->s_path);
	free(s->s_lock_path);
	free(s->s_dir);
	free(s);
}

/* Host name as cfg declares it, or undeclared (0: the default). */
static void
cfg_host_one(
    struct sim_cfg_host *ch, const char *name, const struct xdc_config *cfg)
{
	size_t i;

	ch->ch_name = xdc_strdup(name);
	for (i = 0; cfg != NULL && i < cfg->cfg_nhosts; i++) {
		if (strcmp(cfg->cfg_hosts[i].h_name, name) != 0)
			continue;
		ch->ch_memory = cfg->cfg_hosts[i].h_memory;
		ch->ch_cpus = cfg->cfg_hosts[i].h_cpus;
	}
}

/* sim_open and sim_open_host: host NULL is the pool of every host. */
static int
sim_new(const char *path, const struct xdc_config *cfg, const char *host,
    struct xdc_driver **out)
{
	struct sim_cfg_host *ch;
	struct stat st;
	struct sim *s;
	const char *slash;
	size_t i;
	int rc;

	*out = NULL;
	if (path == NULL || *path == '\0')
		return xdc_error(XDC_ERR, "sim: no pool file given");
	s = xdc_calloc(1, sizeof(*s));
	s->s_drv.version = XDC_DRIVER_VERSION;
	s->s_drv.name = "sim";
	/*
	 * A file of every host moves domains between them; one host's file
	 * cannot reach the others'.
	 */
	s->s_drv.caps = host == NULL ? XDC_DRV_MIGRATE : 0;
	s->s_drv.observe = sim_observe;
	s->s_drv.begin = sim_begin;
	s->s_drv.apply = sim_apply;
	s->s_drv.end = sim_end;
	s->s_drv.sync = sim_sync;
	s->s_drv.submit = sim_submit;
	s->s_drv.reap = sim_reap;
	s->s_drv.attach = sim_attach;
	s->s_drv.free = sim_free;
	s->s_drv.watch_fd = sim_watch_fd;
	s->s_drv.watch_drain = sim_watch_drain;
	if (host != NULL)
		s->s_drv.watchdog = sim_watchdog;
	s->s_lockfd = -1;
	s->s_watch_fd = -1;
	s->s_watch_wd = -1;
	s->s_path = xdc_strdup(path);
	xdc_asprintf(&s->s_lock_path, "%s.lock", path);
	slash = strrchr(path, '/');
	if (slash == NULL)
		s->s_dir = xdc_strdup(".");
	else if (slash == path)
		s->s_dir = xdc_strdup("/");
	else
		xdc_asprintf(&s->s_dir, "%.*s", (int)(slash - path), path);
	if (host != NULL) {
		/* As a Xen host sees itself: its own capacity, nothing more. */
		s->s_host = xdc_strdup(host);
		s->s_ncfg_hosts = 1;
		s->s_cfg_hosts = xdc_calloc(1, sizeof(*s->s_cfg_hosts));
		cfg_host_one(&s->s_cfg_hosts[0], host, cfg);
	} else if (cfg != NULL && cfg->cfg_nhosts == 0) {
		/* A configuration without Hosts manages one host, local. */
		s->s_ncfg_hosts = 1;
		s->s_cfg_hosts = xdc_calloc(1, sizeof(*s->s_cfg_hosts));
		s->s_cfg_hosts[0].ch_name = xdc_strdup(XDC_LOCAL_HOST);
	} else if (cfg != NULL) {
		s->s_ncfg_hosts = cfg->cfg_nhosts;
		s->s_cfg_hosts =
		    xdc_calloc(cfg->cfg_nhosts, sizeof(*s->s_cfg_hosts));
		for (i = 0; i < cfg->cfg_nhosts; i++) {
			ch = &s->s_cfg_hosts[i];
			ch->ch_name = xdc_strdup(cfg->cfg_hosts[i].h_name);
			ch->ch_memory = cfg->cfg_hosts[i].h_memory;
			ch->ch_cpus = cfg->cfg_hosts[i].h_cpus;
		}
	}
	/* Said of the directory, not of the lock a writer would create. */
	if (stat(s->s_dir, &st) != 0) {
		rc = errno == ENOENT
		         ? xdc_error(XDC_ERR,
		               "%s: the directory %s does not exist", path,
		               s->s_dir)
		         : xdc_error_sys(XDC_ERR, "%s: %s", path, s->s_dir);
		goto out;
	}
	if (!S_ISDIR(st.st_mode)) {
		rc = xdc_error(
		    XDC_ERR, "%s: %s is not a directory", path, s->s_dir);
		goto out;
	}
	/* Read it now: what is not a pool is refused at once. */
	if ((rc = sim_read(s)))
		goto out;
	*out = &s->s_drv;
	s = NULL;
out:
	sim_free(s ? &s->s_drv : NULL);
	return rc;
}

int
sim_open(
    const char *path, const struct xdc_config *cfg, struct xdc_driver **out)
{
	return sim_new(path, cfg, NULL, out);
}

int
sim_open_host(const char *path, const struct xdc_config *cfg, const char *host,
    struct xdc_driver **out)
{
	*out = NULL;
	if (host == NULL || *host == '\0')
		return xdc_error(XDC_ERR, "sim: %s: no host given", path);
	return sim_new(path, cfg, host, out);
}
