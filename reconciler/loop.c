/*
 * The continuous loop (see loop.h).
 *
 * Everything happens in one thread around one poll(): signals arrive on a
 * signalfd (no handlers at all), configuration changes on an inotify fd,
 * changes of the pool on the driver's watch fd, and time -- the resync
 * interval, the debounce of file changes, the next backoff retry -- is the
 * poll timeout. Idle, the loop sleeps until the nearest of those.
 *
 * A cycle: reload the source if it changed (parse -> validate), plan with
 * the new configuration and swap it in only if it plans (bgpd's
 * reconfigure), else plan with the one in force; hold back actions that
 * back off or hit their restart_limit; apply the rest through exec_run,
 * which keeps unrelated actions going when one fails; then write the
 * status and the metrics, and log one logfmt line per action and per cycle.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "base/ev.h"
#include "drivers/driver.h"
#include "planner/plan.h"
#include "reconciler/backoff.h"
#include "reconciler/cli.h"
#include "reconciler/exec.h"
#include "reconciler/loop.h"
#include "reconciler/source.h"
#include "reconciler/status.h"
#include "base/error.h"
#include "schema/model.h"

#define LOOP_LOCK_FILE  "lock"
#define LOOP_DRIVER_KEY "driver" /* backoff of a driver that failed */
/* An action needed again this soon after it was done did not hold. */
#define LOOP_REPEAT_MS 2000
#define LOOP_LOG_DIAGS 20 /* diagnostics logged of a refused config */

#define INO_MASK                                                               \
	(IN_CREATE | IN_DELETE | IN_CLOSE_WRITE | IN_MODIFY | IN_MOVED_FROM |  \
	    IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)

enum { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* A watched directory; w_only: only events on that name count. */
struct watch {
	int w_wd;
	char *w_path;
	char *w_only;
};

/* Why the loop held an action back, for the status. */
struct held {
	char *h_why;
	const char *h_state; /* backoff, restart_limit */
	int64_t h_retry_at;
	unsigned h_failures;
};

struct loop {
	struct cli *l_cli;
	const struct loop_opts *l_opts;
	char *l_state_dir;
	dev_t l_state_dev; /* not watched, should it lie under PATH */
	ino_t l_state_ino;
	int l_lockfd;
	int l_sigfd;
	int l_inofd;
	struct watch *l_watches;
	size_t l_nwatches;
	int l_watch_warned;
	struct source *l_src;
	struct backoff *l_bo;
	struct status *l_st;
	struct xdc_ev *l_ev; /* where the driver's actions wait */

	/* The configuration in force, and the driver opened for it. */
	struct xdc_config *l_cfg;
	char l_commit[SOURCE_COMMIT_HEXSZ];
	struct xdc_driver *l_drv;
	char *l_drv_sig;

	/* What is wrong with the source, kept until it is put right. */
	char *l_unreachable;
	int l_invalid;
	char l_bad_commit[SOURCE_COMMIT_HEXSZ];
	struct xdc_diags *l_bad_diags;
	char *l_bad_msg;

	/* What is due. */
	int l_stop;
	int l_cycle;
	int l_reload;          /* a path: read it again */
	int l_fetch;           /* git: fetch */
	int l_force;           /* SIGHUP: load again even what was refused */
	const char *l_trigger; /* what made the next cycle due */
	int64_t l_resync_at;   /* monotonic ms */
	int64_t l_debounce_at;
	int64_t l_debounce_first;
	int64_t l_retry_at; /* real ms: the backoff timer armed */

	/* The cycle under way. */
	const char *l_ctrigger; /* l_trigger when it started */
	const struct xdc_config *l_ccfg;
	const struct xdc_plan *l_cplan;
	struct held *l_held;
	char *l_driver_err;
	size_t l_done, l_failed, l_stuck, l_waiting;
	/* Actions done by the previous cycle, and when. */
	char **l_prev_done;
	size_t l_nprev_done;
	char **l_cur_done;
	size_t l_ncur_done;
	int64_t l_prev_time;
};

/* ---- Clocks and logs -------------------------------------------------- */

static int64_t
clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
mono_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

static int64_t
real_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

static const char *
iso_time(int64_t ms, char buf[32])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

/* One logfmt line: ts=... level=... msg=... key=value ... */
struct logline {
	char ll_buf[2048];
	size_t ll_n;
	int ll_level;
};

static void
ll_raw(struct logline *ll, const char *s, size_t n)
{
	if (ll->ll_n + n >= sizeof(ll->ll_buf) - 1)
		n = sizeof(ll->ll_buf) - 2 - ll->ll_n;
	memcpy(ll->ll_buf + ll->ll_n, s, n);
	ll->ll_n += n;
}

static void
ll_str(struct logline *ll, const char *key, const char *v)
{
	const char *s;
	int quote = 0;
	char esc[2] = { '\\', 0 };

	if (v == NULL)
		return;
	for (s = v; *s != '\0'; s++)
		if (*s <= ' ' || *s == '=' || *s == '"' || *s == '\\')
			quote = 1;
	ll_raw(ll, " ", 1);
	ll_raw(ll, key, strlen(key));
	ll_raw(ll, "=", 1);
	if (!quote && *v != '\0') {
		ll_raw(ll, v, strlen(v));
		return;
	}
	ll_raw(ll, "\"", 1);
	for (s = v; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\') {
			esc[1] = *s;
			ll_raw(ll, esc, 2);
		} else if (*s == '\n') {
			ll_raw(ll, "\\n", 2);
		} else if ((unsigned char)*s < ' ') {
			ll_raw(ll, " ", 1);
		} else {
			ll_raw(ll, s, 1);
		}
	}
	ll_raw(ll, "\"", 1);
}

static void
ll_int(struct logline *ll, const char *key, long long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", v);
	ll_str(ll, key, buf);
}

static void
ll_begin(struct logline *ll, int level, const char *msg)
{
	static const char *const names[] = { "debug", "info", "warn", "error" };
	char ts[40];
	struct timespec now;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, 24, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + strlen(ts), sizeof(ts) - strlen(ts), ".%03ldZ",
	    now.tv_nsec / 1000000);
	ll->ll_n = 0;
	ll->ll_level = level;
	ll_raw(ll, "ts=", 3);
	ll_raw(ll, ts, strlen(ts));
	ll_str(ll, "level", names[level]);
	ll_str(ll, "msg", msg);
}

static void
ll_end(const struct loop *l, struct logline *ll)
{
	int v = l->l_cli->cl_verbose;

	if ((v < 0 && ll->ll_level < LOG_WARN) ||
	    (v == 0 && ll->ll_level < LOG_INFO))
		return;
	ll->ll_buf[ll->ll_n++] = '\n';
	fwrite(ll->ll_buf, 1, ll->ll_n, stderr);
	fflush(stderr);
}

/* A line with one error: the common case. */
static void
log_err(const struct loop *l, int level, const char *msg, const char *err)
{
	struct logline ll;

	ll_begin(&ll, level, msg);
	ll_str(&ll, "error", err);
	ll_end(l, &ll);
}

/* ---- Setting up: the lock, the signals -------------------------------- */

/* One instance per state directory: an flock held for life. */
static int
lock_state_dir(struct loop *l)
{
	char *path = NULL, pid[32];
	struct stat sb;
	ssize_t n;
	int rc;

	if ((rc = source_mkdirs(l->l_state_dir)))
		return rc;
	xdc_asprintf(&path, "%s/%s", l->l_state_dir, LOOP_LOCK_FILE);
	/*
	 * 0644 whatever the umask, for xdc status run by another user to ask
	 * the lock whether a loop runs; a lock file that exists keeps the
	 * mode its owner gave it.
	 */
	l->l_lockfd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (l->l_lockfd >= 0 && fchmod(l->l_lockfd, 0644) < 0) {
		rc = xdc_error_sys(XDC_ERR, "cannot chmod %s", path);
		goto out;
	}
	if (l->l_lockfd < 0 && errno == EEXIST)
		l->l_lockfd = open(path, O_RDWR | O_CLOEXEC);
	if (l->l_lockfd < 0) {
		rc = xdc_error_sys(XDC_ERR, "cannot open %s", path);
		goto out;
	}
	if (flock(l->l_lockfd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK) {
			rc = xdc_error_sys(XDC_ERR, "cannot lock %s", path);
			goto out;
		}
		n = pread(l->l_lockfd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		rc = xdc_error(XDC_ERR,
		    "%s is held by another xdc run (pid %s): "
		    "one instance per state directory",
		    path, pid[0] ? pid : "unknown");
		goto out;
	}
	/* Ours now: what writers killed before their rename left is not. */
	status_sweep(l->l_state_dir);
	if (stat(l->l_state_dir, &sb) == 0) {
		l->l_state_dev = sb.st_dev;
		l->l_state_ino = sb.st_ino;
	}
	snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(l->l_lockfd, 0) < 0 ||
	    pwrite(l->l_lockfd, pid, strlen(pid), 0) < 0) {
		rc = xdc_error_sys(XDC_ERR, "cannot write %s", path);
		goto out;
	}
	rc = 0;
out:
	free(path);
	return rc;
}

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
	return 0;
}

static void
signals_read(struct loop *l)
{
	struct signalfd_siginfo si;
	struct logline ll;

	while (read(l->l_sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		ll_begin(&ll, LOG_INFO, "signal");
		ll_int(&ll, "signo", si.ssi_signo);
		ll_end(l, &ll);
		if (si.ssi_signo == SIGHUP) {
			l->l_reload = l->l_fetch = l->l_force = 1;
			l->l_cycle = 1;
			l->l_trigger = "sighup";
		} else {
			l->l_stop = 1;
		}
	}
}

/* exec's stop callback and the fetch's cancel: a SIGTERM arrived? */
static int
stopping(void *arg)
{
	struct loop *l = arg;

	signals_read(l);
	return l->l_stop;
}

/* ---- inotify over the configuration ----------------------------------- */

static struct watch *
watch_find(struct loop *l, int wd)
{
	size_t i;

	for (i = 0; i < l->l_nwatches; i++)
		if (l->l_watches[i].w_wd == wd)
			return &l->l_watches[i];
	return NULL;
}

static void
watch_add(struct loop *l, const char *dir, const char *only)
{
	struct watch *w;
	int wd;

	wd = inotify_add_watch(l->l_inofd, dir, INO_MASK | IN_ONLYDIR);
	if (wd < 0) {
		/* Once: past fs.inotify.max_user_watches, every one fails. */
		if (errno != ENOENT && errno != ENOTDIR && !l->l_watch_warned) {
			log_err(l, LOG_WARN,
			    "cannot watch a directory; "
			    "changes under it wait for the "
			    "resync",
			    strerror(errno));
			l->l_watch_warned = 1;
		}
		return;
	}
	if ((w = watch_find(l, wd)) == NULL) {
		l->l_watches = xdc_reallocarray(
		    l->l_watches, l->l_nwatches + 1, sizeof(*l->l_watches));
		w = &l->l_watches[l->l_nwatches++];
		memset(w, 0, sizeof(*w));
		w->w_wd = wd;
	}
	free(w->w_path);
	free(w->w_only);
	w->w_path = xdc_strdup(dir);
	w->w_only = only != NULL ? xdc_strdup(only) : NULL;
}

static void
watch_remove(struct loop *l, struct watch *w)
{
	free(w->w_path);
	free(w->w_only);
	*w = l->l_watches[--l->l_nwatches];
}

/* A directory and every directory below it, hidden ones skipped as the
 * loader skips them; links to directories are not followed. */
static void
watch_tree(struct loop *l, const char *dir)
{
	struct dirent *de;
	struct stat st;
	char *sub = NULL;
	DIR *d;

	watch_add(l, dir, NULL);
	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		xdc_asprintf(&sub, "%s/%s", dir, de->d_name);
		if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode) &&
		    !(st.st_dev == l->l_state_dev &&
		        st.st_ino == l->l_state_ino))
			watch_tree(l, sub);
		free(sub);
		sub = NULL;
	}
	closedir(d);
}

/* Watch what PATH is now: a tree, or a file through its directory. */
static void
watch_setup(struct loop *l)
{
	const char *path = l->l_opts->lo_path, *slash;
	char *dir = NULL;
	struct stat st;

	if (l->l_inofd < 0)
		return;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		watch_tree(l, path);
		return;
	}
	/* A file (or nothing yet): editors replace files by renaming. */
	slash = strrchr(path, '/');
	if (slash == NULL)
		dir = xdc_strdup(".");
	else if (slash == path)
		dir = xdc_strdup("/");
	else
		xdc_asprintf(&dir, "%.*s", (int)(slash - path), path);
	watch_add(l, dir, slash ? slash + 1 : path);
	free(dir);
}

static int
is_yaml(const char *name)
{
	size_t n = strlen(name);

	return (n > 5 && !strcmp(name + n - 5, ".yaml")) ||
	       (n > 4 && !strcmp(name + n - 4, ".yml"));
}

static void
debounce(struct loop *l)
{
	int64_t now = mono_ms();

	if (l->l_debounce_at == 0)
		l->l_debounce_first = now;
	l->l_debounce_at = now + LOOP_DEBOUNCE_MS;
	if (l->l_debounce_at > l->l_debounce_first + LOOP_DEBOUNCE_MAX_MS)
		l->l_debounce_at = l->l_debounce_first + LOOP_DEBOUNCE_MAX_MS;
}

static void
inotify_read(struct loop *l)
{
	char buf[8192]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	struct watch *w;
	char *sub = NULL;
	ssize_t n;
	size_t off;
	int relevant = 0;

	while ((n = read(l->l_inofd, buf, sizeof(buf))) > 0) {
		for (off = 0; off < (size_t)n; off += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(const void *)(buf +
			                                                  off);
			if (ev->mask & IN_Q_OVERFLOW) {
				relevant = 1;
				continue;
			}
			w = watch_find(l, ev->wd);
			if (ev->mask & IN_IGNORED) {
				if (w != NULL)
					watch_remove(l, w);
				continue;
			}
			if (w == NULL)
				continue;
			if (ev->len > 0 && ev->name[0] == '.')
				continue;
			if (w->w_only != NULL &&
			    (ev->len == 0 || strcmp(ev->name, w->w_only)))
				continue;
			/*
			 * Only what the loader reads: YAML files and the
			 * directories that hold them. A status file or a
			 * pool written under PATH must not wake the loop.
			 */
			if (w->w_only == NULL && ev->len > 0 &&
			    !(ev->mask & IN_ISDIR) && !is_yaml(ev->name))
				continue;
			relevant = 1;
			/* A new directory: watch it, and what it holds. */
			if (w->w_only == NULL && ev->len > 0 &&
			    (ev->mask & IN_ISDIR) &&
			    (ev->mask & (IN_CREATE | IN_MOVED_TO))) {
				xdc_asprintf(
				    &sub, "%s/%s", w->w_path, ev->name);
				watch_tree(l, sub);
				free(sub);
				sub = NULL;
			}
		}
	}
	if (relevant)
		debounce(l);
}

/* ---- The source ------------------------------------------------------- */

static void
clear_invalid(struct loop *l)
{
	l->l_invalid = 0;
	l->l_bad_commit[0] = '\0';
	xdc_diags_free(l->l_bad_diags);
	l->l_bad_diags = NULL;
	free(l->l_bad_msg);
	l->l_bad_msg = NULL;
}

/* The newest configuration is refused; diags (owned now) or msg say why. */
static void
refuse(struct loop *l, const char *commit, struct xdc_diags *diags,
    const char *msg)
{
	const struct xdc_diag *d;
	struct logline ll;
	size_t i, n = diags != NULL ? xdc_diags_count(diags) : 0;
	int quiet;

	/* The same refusal at each resync is logged once. */
	quiet = l->l_invalid && !strcmp(l->l_ctrigger, "timer") &&
	        !strcmp(commit, l->l_bad_commit);
	clear_invalid(l);
	l->l_invalid = 1;
	snprintf(l->l_bad_commit, sizeof(l->l_bad_commit), "%s", commit);
	l->l_bad_diags = diags;
	l->l_bad_msg = msg != NULL ? xdc_strdup(msg) : NULL;
	if (quiet)
		return;
	ll_begin(&ll, LOG_ERROR, "configuration refused");
	ll_str(&ll, "source", source_name(l->l_src));
	if (*commit)
		ll_str(&ll, "commit", commit);
	if (msg != NULL)
		ll_str(&ll, "error", msg);
	else
		ll_int(&ll, "errors", (long long)n);
	ll_str(&ll, "keeping",
	    l->l_cfg == NULL ? "nothing"
	    : *l->l_commit   ? l->l_commit
	                     : "the last good configuration");
	ll_end(l, &ll);
	for (i = 0; i < n && i < LOOP_LOG_DIAGS; i++) {
		d = xdc_diags_get(diags, i);
		ll_begin(&ll, LOG_ERROR, "configuration error");
		ll_str(&ll, "file", d->dg_file);
		ll_int(&ll, "line", d->dg_line);
		ll_int(&ll, "col", d->dg_col);
		ll_str(&ll, "error", d->dg_msg);
		ll_end(l, &ll);
	}
}

/*
 * Fetch when due, and load the configuration when it changed: *cand gets
 * a configuration that parsed and validated, not yet planned.
 */
static void
source_step(
    struct loop *l, struct xdc_config **cand, char commit[SOURCE_COMMIT_HEXSZ])
{
	struct xdc_diags *diags = NULL;
	struct logline ll;
	char hex[SOURCE_COMMIT_HEXSZ];
	int rc;

	*cand = NULL;
	commit[0] = '\0';
	if (source_is_git(l->l_src)) {
		if (l->l_fetch) {
			l->l_fetch = 0;
			if ((rc = source_fetch(l->l_src)) != 0) {
				if (l->l_stop)
					return;
				if (l->l_unreachable == NULL ||
				    strcmp(l->l_unreachable, xdc_error_last()))
					log_err(l, LOG_WARN, "fetch failed",
					    xdc_error_last());
				free(l->l_unreachable);
				l->l_unreachable = xdc_strdup(xdc_error_last());
			} else if (l->l_unreachable != NULL) {
				log_err(l, LOG_INFO, "fetch works again",
				    l->l_unreachable);
				free(l->l_unreachable);
				l->l_unreachable = NULL;
			}
		}
		if ((rc = source_resolve(l->l_src, hex)) != 0) {
			/* Nothing to load: unreachable says it already. */
			if (l->l_unreachable == NULL)
				refuse(l, "", NULL, xdc_error_last());
			return;
		}
		if (l->l_cfg != NULL && !strcmp(hex, l->l_commit) &&
		    !l->l_force) {
			/* Back to the commit in force: nothing is refused. */
			clear_invalid(l);
			return;
		}
		if (l->l_invalid && !strcmp(hex, l->l_bad_commit) &&
		    !l->l_force)
			return;
	} else {
		if (!l->l_reload && l->l_cfg != NULL)
			return;
		l->l_reload = 0;
		watch_setup(l);
	}
	l->l_force = 0;
	diags = xdc_diags_new();
	rc = source_load(l->l_src, cand, diags, commit);
	if (rc == XDC_EINVALID) {
		refuse(l, commit, diags, NULL);
		diags = NULL;
	} else if (rc != 0) {
		refuse(l, commit, NULL, xdc_error_last());
	} else if (strcmp(l->l_ctrigger, "timer") != 0 || *commit) {
		ll_begin(&ll, LOG_INFO, "configuration loaded");
		ll_str(&ll, "source", source_name(l->l_src));
		if (*commit)
			ll_str(&ll, "commit", commit);
		ll_end(l, &ll);
	}
	xdc_diags_free(diags);
}

/* ---- The driver ------------------------------------------------------- */

/* What of a configuration the driver depends on: its Hosts, and whether
 * it declares Networks (cli_open_driver). The caller frees it. */
static char *
driver_sig(const struct xdc_config *cfg)
{
	char *buf = NULL;
	size_t len = 0, i;
	FILE *fp = open_memstream(&buf, &len);

	if (fp == NULL)
		return xdc_strdup("?");
	fprintf(fp, "nets=%d", cfg->cfg_nnetworks > 0);
	for (i = 0; i < cfg->cfg_nhosts; i++)
		fprintf(fp, ";%s:%llu:%u", cfg->cfg_hosts[i].h_name,
		    (unsigned long long)cfg->cfg_hosts[i].h_memory,
		    cfg->cfg_hosts[i].h_cpus);
	fclose(fp);
	return buf;
}

static void
driver_close(struct loop *l)
{
	if (l->l_drv != NULL)
		l->l_drv->free(l->l_drv);
	l->l_drv = NULL;
	free(l->l_drv_sig);
	l->l_drv_sig = NULL;
}

static int
driver_for(struct loop *l, const struct xdc_config *cfg)
{
	char *sig = driver_sig(cfg);
	int rc;

	if (l->l_drv != NULL && !strcmp(sig, l->l_drv_sig)) {
		free(sig);
		return 0;
	}
	driver_close(l);
	if ((rc = cli_open_driver(l->l_cli, cfg, l->l_ev, &l->l_drv)) != 0) {
		free(sig);
		return rc;
	}
	l->l_drv_sig = sig;
	/* Watch before the first observation, so no change falls between. */
	if (l->l_drv->watch_fd != NULL)
		(void)l->l_drv->watch_fd(l->l_drv);
	return 0;
}

/* A driver that failed is opened afresh, after a backoff. */
static void
driver_failed(struct loop *l, const char *what)
{
	char *msg = NULL;

	xdc_asprintf(&msg, "%s: %s", what, xdc_error_last());
	log_err(l, LOG_ERROR, "driver failed", msg);
	backoff_fail(l->l_bo, LOOP_DRIVER_KEY, msg, real_ms());
	free(l->l_driver_err);
	l->l_driver_err = msg;
	driver_close(l);
}

static const char *exec_host(struct loop *, const struct xdc_config *);

/* Observe and plan cfg; *obs and *plan go to the caller. */
static int
plan_for(struct loop *l, const struct xdc_config *cfg, const char *commit,
    struct xdc_observed **obs, struct xdc_plan **plan, struct xdc_diags *diags)
{
	struct plan_opts po;
	int rc;

	*obs = NULL;
	*plan = NULL;
	if ((rc = driver_for(l, cfg)) != 0) {
		driver_failed(l, "cannot open the driver");
		return XDC_EDRIVER;
	}
	if ((rc = l->l_drv->observe(l->l_drv, obs)) != 0) {
		driver_failed(l, "cannot observe the pool");
		return XDC_EDRIVER;
	}
	backoff_success(l->l_bo, LOOP_DRIVER_KEY);
	memset(&po, 0, sizeof(po));
	po.po_now = cli_now();
	po.po_commit = commit != NULL && *commit ? commit : NULL;
	po.po_self = exec_host(l, cfg);
	po.po_migrate = (l->l_drv->caps & XDC_DRV_MIGRATE) != 0;
	rc = plan_compute(cfg, *obs, &po, plan, diags);
	if (rc != 0 && rc != XDC_EINVALID)
		rc = xdc_error(
		    XDC_EINVALID, "cannot plan: %s", xdc_error_last());
	return rc;
}

/* The --max-destroy guard of apply (SPEC §3), for bad commits. */
static int
guard(const struct loop *l, const struct xdc_plan *plan, char **msg)
{
	size_t managed = plan_managed_vms(plan);
	size_t destroys = plan_vm_destroys(plan), limit;

	limit = l->l_opts->lo_max_destroy >= 0
	            ? (size_t)l->l_opts->lo_max_destroy
	            : (managed / 4 > 0 ? managed / 4 : 1);
	if (destroys <= limit || l->l_opts->lo_force)
		return 0;
	xdc_asprintf(msg,
	    "the plan destroys %zu of %zu managed VMs, more than "
	    "--max-destroy %zu",
	    destroys, managed, limit);
	return -1;
}

/* ---- Applying --------------------------------------------------------- */

static char *
action_key(const struct xdc_action *a)
{
	char *key = NULL;

	xdc_asprintf(&key, "%s/%s/%s/%s", xdc_op_name(a->a_op),
	    xdc_obj_kind_name(a->a_kind), a->a_name ? a->a_name : "",
	    a->a_host ? a->a_host : "");
	return key;
}

static int
is_restart(const struct xdc_action *a)
{
	return a->a_kind == XDC_OBJ_VM &&
	       (a->a_op == XDC_OP_RESTART || a->a_op == XDC_OP_START);
}

static int
keys_have(char *const *v, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(v[i], key))
			return 1;
	return 0;
}

static void
keys_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
item_of(struct status_item *it, const struct xdc_action *a)
{
	memset(it, 0, sizeof(*it));
	it->si_op = xdc_op_name(a->a_op);
	it->si_kind = xdc_obj_kind_name(a->a_kind);
	it->si_name = a->a_name;
	it->si_host = a->a_host;
}

/* One line per action: what, where, the result, and up to two more
 * key=value pairs (a NULL key ends them). */
static void
log_action(const struct loop *l, int level, const struct xdc_action *a,
    const char *result, const char *k1, const char *v1, const char *k2,
    const char *v2)
{
	struct logline ll;

	ll_begin(&ll, level, "action");
	ll_str(&ll, "op", xdc_op_name(a->a_op));
	ll_str(&ll, "kind", xdc_obj_kind_name(a->a_kind));
	ll_str(&ll, "name", a->a_name);
	ll_str(&ll, "host", a->a_host);
	ll_str(&ll, "result", result);
	if (k1 != NULL)
		ll_str(&ll, k1, v1);
	if (k1 != NULL && k2 != NULL)
		ll_str(&ll, k2, v2);
	ll_end(l, &ll);
}

/* exec's hold callback: backoff, then the restart limit. */
static int
hold(void *arg, size_t i)
{
	struct loop *l = arg;
	const struct xdc_action *a = plan_action(l->l_cplan, i);
	const struct xdc_vm *vm;
	const struct xdc_sla *sla;
	struct backoff_info bi;
	struct held *h = &l->l_held[i];
	char *key = action_key(a), t[32], rate[BACKOFF_RATE_BUFSZ];
	int64_t now = real_ms(), next;
	int held = 1;

	/* Done a moment ago and needed again: it did not hold. Back off. */
	if (l->l_prev_time != 0 && now - l->l_prev_time < LOOP_REPEAT_MS &&
	    keys_have(l->l_prev_done, l->l_nprev_done, key) &&
	    backoff_ready(l->l_bo, key, now, NULL))
		backoff_fail(l->l_bo, key,
		    "it was done a moment ago and is needed again", now);
	if (!backoff_ready(l->l_bo, key, now, &bi)) {
		h->h_state = "backoff";
		h->h_retry_at = bi.bi_next;
		h->h_failures = bi.bi_failures;
		xdc_asprintf(&h->h_why,
		    "backing off after %u %s (%s): next "
		    "try at %s",
		    bi.bi_failures,
		    bi.bi_failures == 1 ? "failure" : "failures", bi.bi_error,
		    iso_time(bi.bi_next, t));
		goto out;
	}
	if (is_restart(a)) {
		vm = xdc_config_vm(l->l_ccfg, a->a_name);
		sla = vm != NULL
		          ? xdc_vm_policy(l->l_ccfg, vm, XDC_POL_RESTART_LIMIT)
		          : NULL;
		if (!backoff_restart_ready(l->l_bo, a->a_name,
		        sla != NULL ? &sla->s_restart_limit : NULL, now,
		        &next)) {
			h->h_state = "restart_limit";
			h->h_retry_at = next;
			xdc_asprintf(&h->h_why,
			    "restart_limit %s reached for "
			    "%s (sla %s): next restart "
			    "after %s",
			    backoff_rate_fmt(&sla->s_restart_limit, rate),
			    a->a_name, sla->s_name, iso_time(next, t));
			goto out;
		}
	}
	held = 0;
out:
	free(key);
	return held;
}

/* exec's report callback: every outcome is counted, logged, remembered. */
static void
report(void *arg, const struct exec *x, size_t i, enum exec_status st,
    const char *msg)
{
	struct loop *l = arg;
	const struct xdc_action *a = plan_action(l->l_cplan, i);
	const struct held *h = &l->l_held[i];
	struct status_item it;
	struct backoff_info bi;
	char *key = action_key(a), t[32];
	const char *op = xdc_op_name(a->a_op);
	int64_t now = real_ms(), next;

	(void)x;
	item_of(&it, a);
	switch (st) {
	case EXEC_DONE:
		backoff_success(l->l_bo, key);
		if (is_restart(a))
			backoff_restart_done(l->l_bo, a->a_name, now);
		l->l_cur_done = xdc_reallocarray(
		    l->l_cur_done, l->l_ncur_done + 1, sizeof(*l->l_cur_done));
		l->l_cur_done[l->l_ncur_done++] = key;
		key = NULL;
		l->l_done++;
		status_count(l->l_st, op, STATUS_DONE);
		log_action(l, LOG_INFO, a, "done", NULL, NULL, NULL, NULL);
		break;
	case EXEC_FAILED:
		next = backoff_fail(l->l_bo, key, msg, now);
		backoff_ready(l->l_bo, key, now, &bi);
		it.si_state = "failed";
		it.si_why = msg;
		it.si_failures = bi.bi_failures;
		it.si_retry_at = next;
		status_add_pending(l->l_st, &it);
		status_count(l->l_st, op, STATUS_FAILED_ACTION);
		l->l_failed++;
		log_action(l, LOG_WARN, a, "failed", "error", msg, "retry_at",
		    iso_time(next, t));
		break;
	case EXEC_HELD:
		it.si_state = h->h_state;
		it.si_why = h->h_why;
		it.si_failures = h->h_failures;
		it.si_retry_at = h->h_retry_at;
		status_add_pending(l->l_st, &it);
		status_count(l->l_st, op, STATUS_HELD);
		l->l_stuck++;
		log_action(l,
		    !strcmp(h->h_state, "restart_limit") ? LOG_WARN : LOG_INFO,
		    a, "held", "why", h->h_why, NULL, NULL);
		break;
	case EXEC_SKIPPED:
	case EXEC_WAITING:
		/* Waiting for another host is not a failure of ours. */
		if (st == EXEC_WAITING) {
			it.si_state = "waiting";
			l->l_waiting++;
		} else {
			it.si_state = "skipped";
			l->l_stuck++;
		}
		it.si_why = msg;
		status_add_pending(l->l_st, &it);
		status_count(l->l_st, op, STATUS_SKIPPED);
		log_action(l, LOG_INFO, a, "skipped", "why", msg, NULL, NULL);
		break;
	case EXEC_NOT_OURS:
		status_count(l->l_st, op, STATUS_OTHER_HOST);
		log_action(
		    l, LOG_DEBUG, a, "other_host", NULL, NULL, NULL, NULL);
		break;
	default:
		break;
	}
	free(key);
}

/* The plan's own JSON: the changes of each action, and the deferred. */
static json_t *
plan_json(const struct xdc_plan *plan)
{
	char *buf = NULL;
	size_t len = 0;
	json_t *root = NULL;
	FILE *fp = open_memstream(&buf, &len);

	if (fp == NULL)
		return NULL;
	if (plan_print_json(plan, fp) == 0 && fflush(fp) == 0)
		root = json_loadb(buf, len, 0, NULL);
	fclose(fp);
	free(buf);
	return root;
}

static int
ours(const char *host, const char *a_host)
{
	return host == NULL || (a_host != NULL && !strcmp(host, a_host));
}

/* The host whose actions this agent applies; NULL for all of them. */
static const char *
exec_host(struct loop *l, const struct xdc_config *cfg)
{
	if (l->l_cli->cl_host != NULL)
		return l->l_cli->cl_host;
	/* A Xen agent is one host; a sim agent may play the whole pool. */
	if (l->l_drv != NULL && !strcmp(l->l_drv->name, "xen"))
		return cli_host_name(l->l_cli, cfg);
	return NULL;
}

static void
apply(struct loop *l, const struct xdc_config *cfg, const struct xdc_plan *plan)
{
	const char *host = exec_host(l, cfg);
	struct status_item it;
	struct exec_ops ops;
	struct exec *x = NULL;
	json_t *root = NULL, *arr, *o, *changes;
	char *text;
	size_t i, n = plan_count(plan), mine = 0;
	int rc;

	l->l_ccfg = cfg;
	l->l_cplan = plan;
	if (n > 0 || plan_ndeferred(plan) > 0)
		root = plan_json(plan);
	if (n > 0) {
		l->l_held = xdc_calloc(n, sizeof(*l->l_held));
		memset(&ops, 0, sizeof(ops));
		ops.eo_report = report;
		ops.eo_hold = hold;
		ops.eo_arg = l;
		backoff_sweep_begin(l->l_bo);
		if ((rc = exec_new(l->l_drv, plan, host, &ops, &x)) == 0) {
			while ((rc = exec_step(x)) == 0) {
				if (stopping(l))
					exec_stop(x);
				if (!exec_ready(x) &&
				    xdc_ev_run_once(l->l_ev, 100) < 0)
					break;
			}
			rc = rc < 0 ? rc : 0;
		}
		backoff_sweep_end(l->l_bo, real_ms());
		if (rc != 0)
			driver_failed(l, "cannot apply");
	}
	/* What the plan found different, as far as this agent applies it. */
	arr = json_object_get(root, "actions");
	for (i = 0; i < n; i++) {
		const struct xdc_action *a = plan_action(plan, i);

		if (!ours(host, a->a_host))
			continue;
		mine++;
		item_of(&it, a);
		it.si_why = plan_reason(plan, i);
		o = json_array_get(arr, i);
		changes = json_object_get(o, "changes");
		text =
		    changes != NULL ? json_dumps(changes, JSON_COMPACT) : NULL;
		it.si_changes = text;
		status_add_drift(l->l_st, &it);
		free(text);
	}
	status_set_planned(l->l_st, mine);
	arr = json_object_get(root, "deferred");
	for (i = 0; i < json_array_size(arr); i++) {
		o = json_array_get(arr, i);
		memset(&it, 0, sizeof(it));
		it.si_op = json_string_value(json_object_get(o, "op"));
		it.si_kind = json_string_value(json_object_get(o, "kind"));
		it.si_name = json_string_value(json_object_get(o, "name"));
		it.si_host = json_string_value(json_object_get(o, "host"));
		it.si_why = json_string_value(json_object_get(o, "held"));
		if (ours(host, it.si_host))
			status_add_deferred(l->l_st, &it);
	}
	for (i = 0; l->l_held != NULL && i < n; i++)
		free(l->l_held[i].h_why);
	free(l->l_held);
	l->l_held = NULL;
	json_decref(root);
	exec_free(x);
	l->l_ccfg = NULL;
	l->l_cplan = NULL;
}

/* ---- One cycle -------------------------------------------------------- */

static void
finish(struct loop *l, const struct xdc_plan *plan)
{
	enum status_outcome o;
	struct logline ll;
	char *msg = NULL, *keep = NULL;
	const char *name = source_name(l->l_src);
	size_t nd;

	status_set_source(
	    l->l_st, l->l_cfg ? l->l_cfg->cfg_path : name, l->l_commit);
	status_set_rejected(l->l_st, NULL, NULL);
	if (l->l_cfg == NULL)
		keep = xdc_strdup("nothing is applied");
	else if (*l->l_commit)
		xdc_asprintf(&keep, "commit %.12s stays in force", l->l_commit);
	else
		keep = xdc_strdup("the last good configuration stays in force");

	if (l->l_unreachable != NULL) {
		o = STATUS_UNREACHABLE;
		status_add_error(l->l_st, NULL, 0, 0, l->l_unreachable);
		xdc_asprintf(
		    &msg, "unreachable: %s; %s", l->l_unreachable, keep);
	} else if (l->l_invalid) {
		o = STATUS_INVALID;
		nd = l->l_bad_diags ? xdc_diags_count(l->l_bad_diags) : 0;
		if (l->l_bad_msg != NULL)
			xdc_asprintf(&msg, "%s%s%.12s: %s; %s", name,
			    *l->l_bad_commit ? " commit " : "", l->l_bad_commit,
			    l->l_bad_msg, keep);
		else
			xdc_asprintf(&msg, "%s%s%.12s: %zu %s; %s", name,
			    *l->l_bad_commit ? " commit " : "", l->l_bad_commit,
			    nd, nd == 1 ? "error" : "errors", keep);
	} else if (l->l_driver_err != NULL || l->l_failed > 0 ||
	           l->l_stuck > 0) {
		o = STATUS_FAILED;
		if (l->l_driver_err != NULL)
			msg = xdc_strdup(l->l_driver_err);
		else if (l->l_failed > 0 && l->l_stuck > 0)
			xdc_asprintf(&msg,
			    "%zu failed, %zu held back or "
			    "skipped (see pending)",
			    l->l_failed, l->l_stuck);
		else if (l->l_failed > 0)
			xdc_asprintf(&msg,
			    "%zu failed; retried with backoff "
			    "(see pending)",
			    l->l_failed);
		else
			xdc_asprintf(&msg,
			    "%zu held back or skipped (see "
			    "pending)",
			    l->l_stuck);
	} else if (l->l_waiting > 0) {
		o = STATUS_PENDING;
		xdc_asprintf(&msg, "%zu waiting for another host's actions",
		    l->l_waiting);
	} else if (l->l_done > 0) {
		o = STATUS_APPLIED;
		xdc_asprintf(&msg, "%zu done", l->l_done);
	} else {
		o = STATUS_CONVERGED;
	}
	if (l->l_invalid) {
		status_set_rejected(l->l_st, name, l->l_bad_commit);
		if (l->l_bad_msg != NULL)
			status_add_error(l->l_st, NULL, 0, 0, l->l_bad_msg);
		status_add_diags(l->l_st, l->l_bad_diags);
	}
	if (l->l_driver_err != NULL)
		status_add_error(l->l_st, NULL, 0, 0, l->l_driver_err);
	status_set_outcome(l->l_st, o, msg);
	status_set_gauges(l->l_st, plan != NULL ? plan_managed_vms(plan) : 0,
	    backoff_restart_limited(l->l_bo, real_ms()));
	status_end(l->l_st, real_ms());
	if (status_save(l->l_st, l->l_state_dir) != 0)
		log_err(
		    l, LOG_WARN, "cannot write the status", xdc_error_last());

	ll_begin(&ll, o >= STATUS_FAILED ? LOG_WARN : LOG_INFO, "cycle");
	ll_str(&ll, "trigger", l->l_ctrigger);
	ll_str(&ll, "outcome", status_outcome_name(o));
	ll_str(&ll, "source", l->l_cfg ? l->l_cfg->cfg_path : name);
	if (*l->l_commit)
		ll_str(&ll, "commit", l->l_commit);
	ll_int(&ll, "done", (long long)l->l_done);
	ll_int(&ll, "failed", (long long)l->l_failed);
	ll_int(&ll, "held", (long long)l->l_stuck);
	ll_int(&ll, "waiting", (long long)l->l_waiting);
	ll_int(&ll, "deferred", plan ? (long long)plan_ndeferred(plan) : 0);
	if (msg != NULL && o != STATUS_APPLIED)
		ll_str(&ll, "why", msg);
	ll_end(l, &ll);
	free(msg);
	free(keep);
}

static void
cycle(struct loop *l)
{
	struct xdc_config *cand = NULL;
	struct xdc_observed *obs = NULL;
	struct xdc_plan *plan = NULL;
	struct xdc_diags *diags = NULL;
	char commit[SOURCE_COMMIT_HEXSZ], *msg = NULL;
	struct logline ll;
	int rc, news;

	/* A SIGHUP during the cycle makes the next one due, not this. */
	l->l_ctrigger = l->l_trigger;
	status_begin(l->l_st, real_ms(), l->l_ctrigger);
	l->l_done = l->l_failed = l->l_stuck = l->l_waiting = 0;
	free(l->l_driver_err);
	l->l_driver_err = NULL;

	source_step(l, &cand, commit);
	if (l->l_stop)
		goto out;

	/* The new configuration first: it is taken only if it plans. */
	if (cand != NULL) {
		diags = xdc_diags_new();
		rc = plan_for(l, cand, commit, &obs, &plan, diags);
		if (rc == 0 && guard(l, plan, &msg) != 0) {
			refuse(l, commit, NULL, msg);
			rc = XDC_EINVALID;
		} else if (rc == XDC_EINVALID) {
			if (xdc_diags_count(diags) > 0) {
				refuse(l, commit, diags, NULL);
				diags = NULL;
			} else {
				refuse(l, commit, NULL, xdc_error_last());
			}
		}
		if (rc == 0) {
			/* A resync of an unchanged directory is no news. */
			news = l->l_invalid || l->l_cfg == NULL ||
			       strcmp(commit, l->l_commit) ||
			       strcmp(l->l_ctrigger, "timer");
			xdc_config_free(l->l_cfg);
			l->l_cfg = cand;
			cand = NULL;
			snprintf(
			    l->l_commit, sizeof(l->l_commit), "%s", commit);
			clear_invalid(l);
			ll_begin(&ll, news ? LOG_INFO : LOG_DEBUG,
			    "configuration in force");
			ll_str(&ll, "source", l->l_cfg->cfg_path);
			if (*commit)
				ll_str(&ll, "commit", commit);
			ll_end(l, &ll);
		} else {
			xdc_plan_free(plan);
			xdc_observed_free(obs);
			plan = NULL;
			obs = NULL;
			/* A driver failure is not the configuration's. */
			if (rc == XDC_EDRIVER && !source_is_git(l->l_src))
				l->l_reload = 1;
		}
		xdc_diags_free(diags);
		diags = NULL;
		free(msg);
		msg = NULL;
	}
	/* Else the one in force, unless the driver just failed. */
	if (plan == NULL && l->l_cfg != NULL && l->l_driver_err == NULL) {
		diags = xdc_diags_new();
		rc = plan_for(l, l->l_cfg, l->l_commit, &obs, &plan, diags);
		if (rc == XDC_EINVALID) {
			status_add_diags(l->l_st, diags);
			xdc_asprintf(&l->l_driver_err,
			    "%s cannot be satisfied now: %s",
			    l->l_cfg->cfg_path,
			    xdc_diags_count(diags) > 0
			        ? xdc_diags_get(diags, 0)->dg_msg
			        : xdc_error_last());
			log_err(l, LOG_ERROR, "cannot plan", l->l_driver_err);
		} else if (rc == 0 && guard(l, plan, &msg) != 0) {
			xdc_asprintf(&l->l_driver_err,
			    "refused: %s; fix the configuration, or run with "
			    "--force",
			    msg);
			log_err(l, LOG_ERROR, "plan refused", l->l_driver_err);
			xdc_plan_free(plan);
			plan = NULL;
		}
		free(msg);
		msg = NULL;
	}
	if (plan != NULL && l->l_drv != NULL)
		apply(l, l->l_cfg, plan);
out:
	finish(l, plan);
	/* What this cycle did is what the next one compares with. */
	keys_free(l->l_prev_done, l->l_nprev_done);
	l->l_prev_done = l->l_cur_done;
	l->l_nprev_done = l->l_ncur_done;
	l->l_cur_done = NULL;
	l->l_ncur_done = 0;
	l->l_prev_time = real_ms();
	xdc_diags_free(diags);
	xdc_plan_free(plan);
	xdc_observed_free(obs);
	xdc_config_free(cand);
}

/* ---- The loop --------------------------------------------------------- */

/* What time says is due; the poll timeout until the next of it. */
static int
timers(struct loop *l)
{
	int64_t now = mono_ms(), rnow = real_ms(), t;
	int git = source_is_git(l->l_src);

	if (l->l_debounce_at != 0 && now >= l->l_debounce_at) {
		l->l_debounce_at = 0;
		l->l_reload = 1;
		l->l_cycle = 1;
		l->l_trigger = "config";
	}
	if (now >= l->l_resync_at) {
		l->l_resync_at = now + l->l_opts->lo_interval_ms;
		if (git)
			l->l_fetch = 1;
		else
			l->l_reload = 1;
		l->l_cycle = 1;
		l->l_trigger = "timer";
	}
	if (l->l_retry_at != 0 && rnow >= l->l_retry_at) {
		l->l_retry_at = 0;
		if (!l->l_cycle)
			l->l_trigger = "retry";
		l->l_cycle = 1;
	}
	if (l->l_cycle)
		return 0;
	t = l->l_resync_at - now;
	if (l->l_debounce_at != 0 && l->l_debounce_at - now < t)
		t = l->l_debounce_at - now;
	l->l_retry_at = backoff_next(l->l_bo, rnow);
	if (l->l_retry_at != 0 && l->l_retry_at - rnow < t)
		t = l->l_retry_at - rnow;
	if (t < 0)
		t = 0;
	return t > INT_MAX ? INT_MAX : (int)t;
}

static int
loop_open(struct loop *l)
{
	int rc;

	if ((rc = source_state_dir(l->l_cli, &l->l_state_dir)) ||
	    (rc = lock_state_dir(l)) || (rc = signals_open(l)) ||
	    (rc = source_new(l->l_cli, l->l_opts->lo_path, &l->l_src)))
		return rc;
	source_set_cancel(l->l_src, stopping, l);
	if (!source_is_git(l->l_src)) {
		l->l_inofd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (l->l_inofd < 0)
			return xdc_error_sys(XDC_ERR, "cannot use inotify");
	}
	l->l_ev = xdc_ev_new();
	l->l_bo = backoff_new();
	l->l_st = status_new(l->l_cli->cl_host, l->l_opts->lo_interval_ms);
	return 0;
}

static void
loop_close(struct loop *l)
{
	size_t i;

	driver_close(l);
	xdc_ev_free(l->l_ev);
	xdc_config_free(l->l_cfg);
	clear_invalid(l);
	free(l->l_unreachable);
	free(l->l_driver_err);
	keys_free(l->l_prev_done, l->l_nprev_done);
	keys_free(l->l_cur_done, l->l_ncur_done);
	for (i = 0; i < l->l_nwatches; i++) {
		free(l->l_watches[i].w_path);
		free(l->l_watches[i].w_only);
	}
	free(l->l_watches);
	status_free(l->l_st);
	backoff_free(l->l_bo);
	source_free(l->l_src);
	if (l->l_inofd >= 0)
		close(l->l_inofd);
	if (l->l_sigfd >= 0)
		close(l->l_sigfd);
	if (l->l_lockfd >= 0)
		close(l->l_lockfd);
	free(l->l_state_dir);
}

int
loop_run(struct cli *cli, const struct loop_opts *opts)
{
	struct pollfd pfd[3];
	struct logline ll;
	struct loop l;
	nfds_t n;
	int rc, timeout, dfd, drv_at;
	char ms[32];

	memset(&l, 0, sizeof(l));
	l.l_cli = cli;
	l.l_opts = opts;
	l.l_lockfd = l.l_sigfd = l.l_inofd = -1;
	if ((rc = loop_open(&l)) != 0)
		goto out;

	ll_begin(&ll, LOG_INFO, "starting");
	ll_str(&ll, "source", source_name(l.l_src));
	ll_str(&ll, "state_dir", l.l_state_dir);
	ll_str(&ll, "host", cli->cl_host);
	if (opts->lo_interval_ms % 1000 == 0)
		snprintf(ms, sizeof(ms), "%llds",
		    (long long)opts->lo_interval_ms / 1000);
	else
		snprintf(
		    ms, sizeof(ms), "%lldms", (long long)opts->lo_interval_ms);
	ll_str(&ll, "interval", ms);
	ll_int(&ll, "pid", (long long)getpid());
	ll_end(&l, &ll);

	l.l_cycle = 1;
	l.l_reload = l.l_fetch = 1;
	l.l_trigger = "start";
	l.l_resync_at = mono_ms() + opts->lo_interval_ms;
	while (!l.l_stop) {
		timeout = timers(&l);
		if (l.l_cycle) {
			l.l_cycle = 0;
			cycle(&l);
			continue;
		}
		n = 0;
		pfd[n].fd = l.l_sigfd;
		pfd[n++].events = POLLIN;
		if (l.l_inofd >= 0) {
			pfd[n].fd = l.l_inofd;
			pfd[n++].events = POLLIN;
		}
		drv_at = -1;
		if (l.l_drv != NULL && l.l_drv->watch_fd != NULL &&
		    l.l_drv->watch_drain != NULL &&
		    (dfd = l.l_drv->watch_fd(l.l_drv)) >= 0) {
			drv_at = (int)n;
			pfd[n].fd = dfd;
			pfd[n++].events = POLLIN;
		}
		if (poll(pfd, n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			rc = xdc_error_sys(XDC_ERR, "poll");
			goto out;
		}
		if (pfd[0].revents != 0)
			signals_read(&l);
		if (l.l_inofd >= 0 && pfd[1].revents != 0)
			inotify_read(&l);
		if (drv_at >= 0 && pfd[drv_at].revents != 0) {
			l.l_drv->watch_drain(l.l_drv);
			l.l_cycle = 1;
			l.l_trigger = "hypervisor";
		}
	}
	ll_begin(&ll, LOG_INFO, "stopped");
	ll_end(&l, &ll);
	rc = 0;
out:
	loop_close(&l);
	return rc;
}
