/*
 * Live migration between dom0s (xen_migrate.h): the sender, a state
 * machine in the xen driver's event loop, and the receiver, `xdc
 * migrate-receive`, a process of its own that blocks as `xl
 * migrate-receive` does. The handshake and why it is shaped so are in
 * xen_migrate.h; tools/xl/xl_migrate.c has the same phases.
 */
#include "drivers/xen_migrate.h" /* first: xenctrl.h before libxl.h */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <xentoollog.h>

#include "base/error.h"
#include "base/ev.h"
#include "schema/model.h"

extern char **environ;

/* How long the receiver may take over each of its steps. */
#define MIG_WAIT_MS (120 * 1000)
/* How long the transport may take to exit once the migration is over. */
#define MIG_REAP_MS   (10 * 1000)
#define MIG_LINE_MAX  1024
#define MIG_OFFER_MAX (1 << 20)
#define MIG_ERRTAIL   512
#define MIG_BANNER    "xdc-migrate"

/* ---- The sender ------------------------------------------------------- */

enum mig_state {
	MS_CONNECT, /* the transport started; the banner and config awaited */
	MS_OFFERED, /* the offer sent; "ready" awaited */
	MS_SUSPEND, /* libxl_domain_suspend streams the domain */
	MS_HAVE,    /* the stream sent; "have" awaited */
	MS_LEAVE,   /* renamed away, "leave" sent; "kept" awaited */
	MS_DESTROY, /* destroying this host's copy */
	MS_GO,      /* "go" sent; "done" awaited */
	MS_RESUME,  /* failed before the receiver kept it: taking it back */
	MS_DONE,    /* reported; the transport may still be exiting */
};

static const char *const mig_waits[] = {
	[MS_CONNECT] = "to start",
	[MS_OFFERED] = "to accept the offer",
	[MS_HAVE] = "to restore the domain",
	[MS_LEAVE] = "to keep the domain",
	[MS_GO] = "to start the domain",
};

struct xen_mig {
	struct xen_mig *m_next; /* in the env's list */
	struct xen_mig_env *m_env;
	struct xdc_ev *m_ev;
	char *m_name;
	char *m_away; /* NAME--migratedaway */
	char *m_to;
	uint32_t m_domid;
	uint8_t m_uuid[16];
	uint64_t m_memory; /* what it holds, for the receiver's check */
	json_t *m_marker;  /* the marker's keys and values */
	enum mig_state m_state;
	int m_got_banner;
	int m_got_have;
	int m_renamed;   /* this host's copy is NAME--migratedaway */
	int m_busy;      /* a libxl operation of this migration is in flight */
	uint64_t m_mark; /* the driver's log mark when it started */
	int m_aborting;
	libxl_domain_config m_cfg; /* while libxl retrieves it */
	int m_has_cfg;
	char *m_offer; /* "offer LEN\n" and the JSON, once both are known */
	/* The transport: ssh and the ends of its stdin, stdout, stderr. */
	char **m_argv;
	char *m_cmd; /* the argv as one line, for messages */
	pid_t m_pid;
	int m_pidfd;
	int m_status; /* its wait status once reaped, or -1 */
	int m_tx, m_rx, m_err;
	struct xdc_ev_io *m_rx_io, *m_err_io, *m_pid_io;
	struct xdc_ev_timer *m_timer;
	char m_line[MIG_LINE_MAX];
	size_t m_nline;
	char m_errtail[MIG_ERRTAIL];
	size_t m_nerr;
	/* How it failed, kept while the domain is taken back. */
	int m_rc;
	char *m_why;
	/* How it ended, reported once the transport has exited. */
	int m_final_rc;
	char *m_final_why;
	int m_reported;
	xen_mig_done_fn *m_done;
	void *m_arg;
	/* Phase times (monotonic ms), for XDC_MIGRATE_TRACE. */
	int64_t m_t0, m_t_ready, m_t_sent, m_t_have, m_t_away, m_t_gone,
	    m_t_done;
	/* What the loop waited for, synchronously (µs): the start (xenstore,
	 * getinfo, spawning ssh) and the rename. */
	int64_t m_us_start, m_us_rename, m_us_config;
};

static int64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void mig_fail(struct xen_mig *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void mig_resume(struct xen_mig *);
static void mig_have(struct xen_mig *);

/* The last line the transport wrote on stderr (ssh's or the receiver's). */
static const char *
err_last_line(struct xen_mig *m, char *buf, size_t n)
{
	size_t len = m->m_nerr, i;

	while (len > 0 &&
	       (m->m_errtail[len - 1] == '\n' || m->m_errtail[len - 1] == '\r'))
		len--;
	for (i = len; i > 0 && m->m_errtail[i - 1] != '\n'; i--)
		;
	snprintf(buf, n, "%.*s", (int)(len - i), m->m_errtail + i);
	return buf;
}

/* Close our ends of the transport: it sees EOF and exits. */
static void
transport_close(struct xen_mig *m)
{
	if (m->m_rx_io != NULL)
		xdc_ev_io_del(m->m_rx_io);
	if (m->m_err_io != NULL)
		xdc_ev_io_del(m->m_err_io);
	m->m_rx_io = m->m_err_io = NULL;
	if (m->m_tx >= 0)
		close(m->m_tx);
	if (m->m_rx >= 0)
		close(m->m_rx);
	if (m->m_err >= 0)
		close(m->m_err);
	m->m_tx = m->m_rx = m->m_err = -1;
}

static void
mig_free(struct xen_mig *m)
{
	struct xen_mig **pp;
	size_t i;

	for (pp = &m->m_env->me_migs; *pp != NULL; pp = &(*pp)->m_next)
		if (*pp == m) {
			*pp = m->m_next;
			break;
		}
	/* libxl may still write into it (a driver freed mid-stream): the
	 * fd stays open rather than be reused under libxl's feet. */
	if (m->m_busy)
		m->m_tx = -1;
	transport_close(m);
	if (m->m_pid_io != NULL)
		xdc_ev_io_del(m->m_pid_io);
	if (m->m_pidfd >= 0)
		close(m->m_pidfd);
	xdc_ev_timer_free(m->m_timer);
	if (m->m_has_cfg)
		libxl_domain_config_dispose(&m->m_cfg);
	json_decref(m->m_marker);
	for (i = 0; m->m_argv != NULL && m->m_argv[i] != NULL; i++)
		free(m->m_argv[i]);
	free(m->m_argv);
	free(m->m_cmd);
	free(m->m_offer);
	free(m->m_why);
	free(m->m_final_why);
	free(m->m_name);
	free(m->m_away);
	free(m->m_to);
	free(m);
}

static void
trace(const struct xen_mig *m, int rc)
{
	const char *t = getenv("XDC_MIGRATE_TRACE");
	int64_t z = m->m_t0;

	if (t == NULL || *t == '\0' || !strcmp(t, "0"))
		return;
	/* A debugging aid for measurements, off by default: the driver
	 * prints nothing otherwise. */
	fprintf(stderr,
	    "xdc: migrate %s to %s: rc %d; ms from start: ready %" PRId64
	    ", stream sent %" PRId64 ", have %" PRId64 ", renamed away %" PRId64
	    ", source gone %" PRId64 ", done %" PRId64
	    "; synchronous: start %" PRId64 " us, configuration %" PRId64
	    " us, rename %" PRId64 " us\n",
	    m->m_name, m->m_to, rc, m->m_t_ready ? m->m_t_ready - z : -1,
	    m->m_t_sent ? m->m_t_sent - z : -1,
	    m->m_t_have ? m->m_t_have - z : -1,
	    m->m_t_away ? m->m_t_away - z : -1,
	    m->m_t_gone ? m->m_t_gone - z : -1,
	    m->m_t_done ? m->m_t_done - z : -1, m->m_us_start, m->m_us_config,
	    m->m_us_rename);
}

static int marker_put(struct xs_handle *, const uint8_t uuid[16], json_t *);
static int dom_gone(struct xen_mig *, xc_domaininfo_t *);

/*
 * Tell the driver how it ended, once the transport has exited too: by
 * then the receiver has destroyed its copy, if it was to, and the action's
 * end is the migration's. A failure leaves the domain here, marked (see
 * mig_resume: a receiver on this same host shares its /vm/UUID).
 */
static void
mig_report(struct xen_mig *m)
{
	xen_mig_done_fn *done = m->m_done;
	xc_domaininfo_t info;

	if (m->m_state != MS_DONE || m->m_pidfd >= 0 || m->m_reported)
		return;
	m->m_reported = 1;
	if (m->m_final_rc != 0 && dom_gone(m, &info) == 0)
		(void)marker_put(m->m_env->me_xsh, m->m_uuid, m->m_marker);
	m->m_done = NULL;
	if (done != NULL)
		done(m->m_arg, m->m_final_rc, m->m_final_why);
	if (!m->m_busy)
		mig_free(m);
}

/* Reap the transport now: it is killed, so the wait is short. */
static void
transport_kill(struct xen_mig *m)
{
	if (m->m_pidfd < 0)
		return;
	(void)pidfd_send_signal(m->m_pidfd, SIGKILL, NULL, 0);
	(void)waitpid(m->m_pid, &m->m_status, 0);
	if (m->m_pid_io != NULL)
		xdc_ev_io_del(m->m_pid_io);
	m->m_pid_io = NULL;
	close(m->m_pidfd);
	m->m_pidfd = -1;
}

/* The migration is over: let the transport exit, then report. */
static void
mig_finish(struct xen_mig *m, int rc, const char *why)
{
	m->m_state = MS_DONE;
	m->m_t_done = xdc_ev_now();
	trace(m, rc);
	m->m_final_rc = rc;
	m->m_final_why = why != NULL ? xdc_strdup(why) : NULL;
	transport_close(m);
	/* The driver is going away: no loop will see the transport exit. */
	if (m->m_aborting)
		transport_kill(m);
	/* ssh exits once its stdin is closed; else it is killed. */
	if (m->m_pidfd >= 0)
		xdc_ev_timer_in(m->m_timer, MIG_REAP_MS);
	else
		xdc_ev_timer_stop(m->m_timer);
	mig_report(m);
}

/* Best effort: a line to the receiver; 0 or -1. Never blocks the loop. */
static int
mig_send(struct xen_mig *m, const char *line)
{
	size_t n = strlen(line);
	ssize_t w;

	if (m->m_tx < 0)
		return -1;
	/*
	 * Our end stays blocking, for libxl's save helper, which writes the
	 * stream into it; MSG_DONTWAIT makes this one send non-blocking.
	 * The lines are short and the receiver reads each before it answers,
	 * so a full socket buffer here means a receiver gone astray.
	 */
	do
		w = send(m->m_tx, line, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	return w == (ssize_t)n ? 0 : -1;
}

/* Wait for the receiver's next line, at most MIG_WAIT_MS. */
static void
mig_wait(struct xen_mig *m, enum mig_state st)
{
	m->m_state = st;
	xdc_ev_timer_in(m->m_timer, MIG_WAIT_MS);
}

/*
 * Write the marker's keys (a JSON object of strings) under the domain's
 * /vm/UUID/xdc, in one transaction: 0, or -1 with errno.
 */
static int
marker_put(struct xs_handle *xsh, const uint8_t uuid[16], json_t *marker)
{
	char dir[XEN_MARKER_PATHSZ], path[XEN_MARKER_PATHSZ + 16];
	xs_transaction_t t;
	const char *key;
	json_t *v;

	xen_marker_path(uuid, dir);
	for (;;) {
		if ((t = xs_transaction_start(xsh)) == XBT_NULL)
			return -1;
		json_object_foreach(marker, key, v)
		{
			if (!json_is_string(v))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, key);
			if (!xs_write(xsh, t, path, json_string_value(v),
			        (unsigned int)strlen(json_string_value(v)))) {
				xs_transaction_end(xsh, t, true);
				return -1;
			}
		}
		if (xs_transaction_end(xsh, t, false))
			return 0;
		if (errno != EAGAIN)
			return -1;
	}
}

/* ---- libxl's steps ---------------------------------------------------- */

static libxl_asyncop_how
mig_how(struct xen_mig *m, void (*cb)(libxl_ctx *, int, void *))
{
	libxl_asyncop_how how;

	memset(&how, 0, sizeof(how));
	how.callback = cb;
	how.u.for_callback = m;
	return how;
}

static const char *
lx_why(struct xen_mig *m, int rc, uint64_t mark, char buf[XEN_MIG_WHYSZ])
{
	return m->m_env->me_why(m->m_env->me_arg, rc, mark, m->m_domid, buf);
}

/* What Xen says of the domain now: 1 gone (or dying), 0 there, <0 error. */
static int
dom_gone(struct xen_mig *m, xc_domaininfo_t *info)
{
	int got = xc_domain_getinfolist(m->m_env->me_xch, m->m_domid, 1, info);

	if (got < 0)
		return -1;
	return got != 1 || info->domain != m->m_domid ||
	       memcmp(info->handle, m->m_uuid, 16) != 0 ||
	       (info->flags & XEN_DOMINF_dying);
}

static int
dom_suspended(const xc_domaininfo_t *info)
{
	return (info->flags & XEN_DOMINF_shutdown) &&
	       ((info->flags >> XEN_DOMINF_shutdownshift) &
	           XEN_DOMINF_shutdownmask) == SHUTDOWN_suspend;
}

static char *
offer_make(struct xen_mig *m)
{
	char *cfg, *text, *line;
	json_t *o;

	cfg = libxl_domain_config_to_json(m->m_env->me_ctx, &m->m_cfg);
	if (cfg == NULL)
		return NULL;
	o = json_pack("{s:i, s:s, s:I, s:s, s:O}", "version", XEN_MIG_VERSION,
	    "name", m->m_name, "memory", (json_int_t)m->m_memory, "config", cfg,
	    "marker", m->m_marker);
	free(cfg);
	if (o == NULL)
		return NULL;
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (text == NULL)
		return NULL;
	xdc_asprintf(&line, "offer %zu\n%s", strlen(text), text);
	free(text);
	return line;
}

/* Both the banner and the configuration are in: offer the domain. */
static void
mig_offer(struct xen_mig *m)
{
	size_t n, off = 0;
	ssize_t w;

	if (!m->m_got_banner || m->m_offer == NULL || m->m_state != MS_CONNECT)
		return;
	/* The offer is a few KiB, the socket's buffer a hundred or more. */
	n = strlen(m->m_offer);
	while (off < n) {
		w = send(m->m_tx, m->m_offer + off, n - off,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			/* Nothing was sent before it: a full buffer is a
			 * transport that reads nothing. */
			mig_fail(m, "cannot send the offer: the transport does "
			            "not read");
			return;
		}
		if (w <= 0) {
			mig_fail(
			    m, "cannot send the offer: %s", strerror(errno));
			return;
		}
		off += (size_t)w;
	}
	mig_wait(m, MS_OFFERED);
}

static void
on_config(libxl_ctx *ctx, int rc, void *arg)
{
	struct xen_mig *m = arg;
	char why[XEN_MIG_WHYSZ];

	(void)ctx;
	m->m_busy = 0;
	if (m->m_state == MS_DONE) {
		if (m->m_reported)
			mig_free(m);
		return;
	}
	if (rc != 0) {
		mig_fail(m, "cannot retrieve its configuration: %s",
		    lx_why(m, rc, m->m_mark, why));
		return;
	}
	if ((m->m_offer = offer_make(m)) == NULL) {
		mig_fail(m, "cannot write its configuration as JSON");
		return;
	}
	mig_offer(m);
}

static void
on_resumed(libxl_ctx *ctx, int rc, void *arg)
{
	struct xen_mig *m = arg;
	char why[XEN_MIG_WHYSZ], *msg;

	(void)ctx;
	m->m_busy = 0;
	if (rc != 0)
		xdc_asprintf(&msg, "%s; and resuming it here failed: %s",
		    m->m_why, lx_why(m, rc, m->m_mark, why));
	else
		xdc_asprintf(&msg, "%s; %s runs on host %s again", m->m_why,
		    m->m_name, m->m_env->me_host);
	mig_finish(m, m->m_rc, msg);
	free(msg);
}

static void
on_suspended(libxl_ctx *ctx, int rc, void *arg)
{
	struct xen_mig *m = arg;
	char why[XEN_MIG_WHYSZ];

	(void)ctx;
	m->m_busy = 0;
	m->m_t_sent = xdc_ev_now();
	if (m->m_why != NULL) { /* failed meanwhile: the receiver, an abort */
		mig_resume(m);
		return;
	}
	if (rc != 0) {
		/* The stream is over: what is left is to take it back. */
		m->m_state = MS_HAVE;
		mig_fail(m, "libxl_domain_suspend: %s",
		    lx_why(m, rc, m->m_mark, why));
		return;
	}
	if (!m->m_got_have) {
		mig_wait(m, MS_HAVE);
		return;
	}
	/* "have" came before libxl said it was done: go on. */
	m->m_state = MS_HAVE;
	mig_have(m);
}

/* The receiver has it, paused: let go of this host's copy. */
static void
mig_have(struct xen_mig *m)
{
	uint64_t mark = m->m_mark = m->m_env->me_mark(m->m_env->me_arg);
	char why[XEN_MIG_WHYSZ];
	int rc;

	m->m_t_have = xdc_ev_now();
	/*
	 * Renamed first, as xl does: should anything go wrong from here,
	 * this host's copy is not mistaken for the VM.
	 */
	m->m_us_rename = mono_us();
	rc = libxl_domain_rename(
	    m->m_env->me_ctx, m->m_domid, m->m_name, m->m_away);
	m->m_us_rename = mono_us() - m->m_us_rename;
	if (rc != 0) {
		mig_fail(m, "cannot rename it %s: %s", m->m_away,
		    lx_why(m, rc, mark, why));
		return;
	}
	m->m_renamed = 1;
	m->m_t_away = xdc_ev_now();
	if (mig_send(m, "leave\n") != 0) {
		mig_fail(m, "the transport closed before \"leave\"");
		return;
	}
	mig_wait(m, MS_LEAVE);
}

static void
on_destroyed(libxl_ctx *ctx, int rc, void *arg)
{
	struct xen_mig *m = arg;
	xc_domaininfo_t info;
	char why[XEN_MIG_WHYSZ];
	int gone;

	(void)ctx;
	m->m_busy = 0;
	/* Whatever libxl says, what counts is whether the copy is gone. */
	gone = dom_gone(m, &info);
	if (gone != 1) {
		/* Still here: the receiver is told to drop its copy. */
		m->m_state = MS_LEAVE;
		mig_fail(m, "cannot destroy this host's copy: %s",
		    rc != 0 ? lx_why(m, rc, m->m_mark, why)
		            : "it is still there");
		return;
	}
	m->m_t_gone = xdc_ev_now();
	if (mig_send(m, "go\n") != 0) {
		mig_fail(m, "the transport closed before \"go\"");
		return;
	}
	mig_wait(m, MS_GO);
}

/* ---- Failures --------------------------------------------------------- */

/*
 * Something failed. Before "kept" the domain is this host's: take it back
 * (mig_resume). After "go" it is the receiver's: say where it is.
 */
static void
mig_fail(struct xen_mig *m, const char *fmt, ...)
{
	char buf[1024], line[256], *msg;
	va_list ap;

	if (fmt == NULL || m->m_state == MS_DONE || m->m_state == MS_RESUME)
		return;
	if (m->m_why == NULL) {
		va_start(ap, fmt);
		vsnprintf(buf, sizeof(buf), fmt, ap);
		va_end(ap);
		m->m_rc = XDC_EDRIVER;
		xdc_asprintf(&m->m_why,
		    "host %s: cannot migrate %s to host %s: %s",
		    m->m_env->me_host, m->m_name, m->m_to, buf);
		if (*err_last_line(m, line, sizeof(line)) != '\0' &&
		    strstr(buf, line) == NULL) {
			msg = m->m_why;
			xdc_asprintf(&m->m_why, "%s (the transport said: %s)",
			    msg, line);
			free(msg);
		}
	}
	xdc_ev_timer_stop(m->m_timer);
	switch (m->m_state) {
	case MS_CONNECT:
	case MS_OFFERED:
		/* The domain was never touched. */
		if (m->m_busy) /* the configuration: let libxl finish it */
			(void)libxl_ao_abort(m->m_env->me_ctx,
			    &(libxl_asyncop_how){
			        .callback = on_config, .u.for_callback = m });
		(void)mig_send(m, "abort\n");
		xdc_asprintf(&msg, "%s; %s runs on host %s still", m->m_why,
		    m->m_name, m->m_env->me_host);
		mig_finish(m, m->m_rc, msg);
		free(msg);
		return;
	case MS_SUSPEND:
		/* Stop the stream; on_suspended then takes the domain back. */
		(void)libxl_ao_abort(m->m_env->me_ctx,
		    &(libxl_asyncop_how){
		        .callback = on_suspended, .u.for_callback = m });
		return;
	case MS_HAVE:
	case MS_LEAVE:
		mig_resume(m);
		return;
	case MS_DESTROY:
		return; /* on_destroyed looks at what is left */
	case MS_GO:
		/* This host's copy is gone: the receiver's is the VM. */
		xdc_asprintf(&msg,
		    "%s; this host's copy is gone, and host %s has %s paused "
		    "(named %s or %s%s): the next plan there finds it",
		    m->m_why, m->m_to, m->m_name, m->m_name, m->m_name,
		    XEN_MIG_INCOMING);
		mig_finish(m, m->m_rc, msg);
		free(msg);
		return;
	case MS_RESUME:
	case MS_DONE:
		return;
	}
}

/* Take the domain back: its name, and resume it if it is suspended. */
static void
mig_resume(struct xen_mig *m)
{
	libxl_asyncop_how how = mig_how(m, on_resumed);
	uint64_t mark = m->m_mark = m->m_env->me_mark(m->m_env->me_arg);
	char why[XEN_MIG_WHYSZ], *msg;
	xc_domaininfo_t info;
	int leaving = m->m_state == MS_LEAVE || m->m_state == MS_DESTROY;
	int gone, rc, told;

	m->m_state = MS_RESUME;
	xdc_ev_timer_stop(m->m_timer);
	told = mig_send(m, "abort\n") == 0;
	if (leaving && !told) {
		/* It may keep its copy, as it must once told "leave". */
		msg = m->m_why;
		xdc_asprintf(&m->m_why,
		    "%s; host %s may keep a paused copy named %s%s, never "
		    "run: destroy it there (xl destroy)",
		    msg, m->m_to, m->m_name, XEN_MIG_INCOMING);
		free(msg);
	}
	if (m->m_renamed && libxl_domain_rename(m->m_env->me_ctx, m->m_domid,
	                        m->m_away, m->m_name) == 0)
		m->m_renamed = 0;
	gone = dom_gone(m, &info);
	/*
	 * Its marker, again: a receiver on this same host (a localhost
	 * migration) shares its /vm/UUID, which libxl rebuilds for the
	 * receiver's copy and removes with it.
	 */
	if (gone == 0)
		(void)marker_put(m->m_env->me_xsh, m->m_uuid, m->m_marker);
	if (gone != 0 || !dom_suspended(&info)) {
		xdc_asprintf(&msg,
		    gone == 0 ? "%s; %s runs on host %s still"
		              : "%s; and %s is gone from host %s",
		    m->m_why, m->m_name, m->m_env->me_host);
		mig_finish(m, m->m_rc, msg);
		free(msg);
		return;
	}
	m->m_busy = 1;
	/* Co-operative: the guest sees its suspend cancelled (xl does). */
	rc = libxl_domain_resume(m->m_env->me_ctx, m->m_domid, 1, &how);
	if (rc != 0) {
		m->m_busy = 0;
		xdc_asprintf(&msg, "%s; and resuming it here failed: %s",
		    m->m_why, lx_why(m, rc, mark, why));
		mig_finish(m, m->m_rc, msg);
		free(msg);
	}
}

/* ---- The receiver's lines --------------------------------------------- */

static void
mig_line(struct xen_mig *m, char *line)
{
	libxl_asyncop_how how;
	uint64_t mark;
	char why[XEN_MIG_WHYSZ];
	int rc;

	if (!strncmp(line, "refuse ", 7)) {
		mig_fail(m, "host %s refused it: %s", m->m_to, line + 7);
		return;
	}
	if (!strncmp(line, "fail ", 5)) {
		mig_fail(m, "host %s: %s", m->m_to, line + 5);
		return;
	}
	switch (m->m_state) {
	case MS_CONNECT:
		if (!strncmp(line, MIG_BANNER " ", sizeof(MIG_BANNER)) &&
		    atoi(line + sizeof(MIG_BANNER)) == XEN_MIG_VERSION) {
			xdc_ev_timer_stop(m->m_timer);
			m->m_got_banner = 1;
			mig_offer(m);
			return;
		}
		break;
	case MS_OFFERED:
		if (!strcmp(line, "ready")) {
			m->m_t_ready = xdc_ev_now();
			xdc_ev_timer_stop(m->m_timer);
			how = mig_how(m, on_suspended);
			mark = m->m_mark = m->m_env->me_mark(m->m_env->me_arg);
			m->m_state = MS_SUSPEND;
			m->m_busy = 1;
			rc = libxl_domain_suspend(m->m_env->me_ctx, m->m_domid,
			    m->m_tx, LIBXL_SUSPEND_LIVE, &how);
			if (rc != 0) {
				m->m_busy = 0;
				m->m_state = MS_OFFERED;
				mig_fail(m, "libxl_domain_suspend: %s",
				    lx_why(m, rc, mark, why));
			}
			return;
		}
		break;
	case MS_SUSPEND:
	case MS_HAVE:
		if (!strcmp(line, "have")) {
			m->m_got_have = 1;
			if (m->m_state == MS_HAVE) {
				xdc_ev_timer_stop(m->m_timer);
				mig_have(m);
			}
			return;
		}
		break;
	case MS_LEAVE:
		if (!strcmp(line, "kept")) {
			xdc_ev_timer_stop(m->m_timer);
			how = mig_how(m, on_destroyed);
			mark = m->m_mark = m->m_env->me_mark(m->m_env->me_arg);
			m->m_state = MS_DESTROY;
			m->m_busy = 1;
			rc = libxl_domain_destroy(
			    m->m_env->me_ctx, m->m_domid, &how);
			if (rc != 0) {
				m->m_busy = 0;
				m->m_state = MS_LEAVE;
				mig_fail(m,
				    "cannot destroy this host's copy: %s",
				    lx_why(m, rc, mark, why));
			}
			return;
		}
		break;
	case MS_GO:
		if (!strncmp(line, "done", 4)) {
			xdc_ev_timer_stop(m->m_timer);
			mig_finish(m, 0, NULL);
			return;
		}
		break;
	default:
		return;
	}
	mig_fail(m,
	    "host %s said \"%.64s\" where the handshake wants "
	    "otherwise",
	    m->m_to, line);
}

static void
mig_eof(struct xen_mig *m, int err)
{
	char status[64] = "";

	if (m->m_state == MS_DONE || m->m_state == MS_RESUME)
		return;
	if (m->m_status >= 0 && WIFEXITED(m->m_status))
		snprintf(status, sizeof(status), ", exit status %d",
		    WEXITSTATUS(m->m_status));
	if (err != 0)
		mig_fail(m, "reading from the transport: %s", strerror(err));
	else
		mig_fail(m, "the transport (%s) closed%s", m->m_cmd, status);
}

static void
on_rx(struct xdc_ev_io *io, int fd, short revents, void *arg)
{
	struct xen_mig *m = arg;
	char buf[512], *nl, *start;
	ssize_t n;
	size_t i;

	(void)io;
	(void)revents;
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			xdc_ev_io_del(m->m_rx_io);
			m->m_rx_io = NULL;
			mig_eof(m, n < 0 ? errno : 0);
			return;
		}
		for (i = 0; i < (size_t)n; i++) {
			if (m->m_nline + 1 >= sizeof(m->m_line)) {
				mig_fail(
				    m, "host %s said a line too long", m->m_to);
				return;
			}
			m->m_line[m->m_nline++] = buf[i];
			if (buf[i] != '\n')
				continue;
			m->m_line[m->m_nline - 1] = '\0';
			m->m_nline = 0;
			start = m->m_line;
			if ((nl = strchr(start, '\r')) != NULL)
				*nl = '\0';
			mig_line(m, start);
			/* Over: what else it says does not matter. */
			if (m->m_rx_io == NULL || m->m_state == MS_DONE ||
			    m->m_state == MS_RESUME)
				return;
		}
	}
}

static void
on_err(struct xdc_ev_io *io, int fd, short revents, void *arg)
{
	struct xen_mig *m = arg;
	char buf[512];
	ssize_t n;
	size_t keep;

	(void)io;
	(void)revents;
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			xdc_ev_io_del(m->m_err_io);
			m->m_err_io = NULL;
			return;
		}
		/* Keep the last MIG_ERRTAIL bytes. */
		if ((size_t)n >= sizeof(m->m_errtail)) {
			memcpy(m->m_errtail, buf + n - sizeof(m->m_errtail),
			    sizeof(m->m_errtail));
			m->m_nerr = sizeof(m->m_errtail);
			continue;
		}
		keep = sizeof(m->m_errtail) - (size_t)n;
		if (m->m_nerr > keep) {
			memmove(m->m_errtail, m->m_errtail + m->m_nerr - keep,
			    keep);
			m->m_nerr = keep;
		}
		memcpy(m->m_errtail + m->m_nerr, buf, (size_t)n);
		m->m_nerr += (size_t)n;
	}
}

static void
on_pid(struct xdc_ev_io *io, int fd, short revents, void *arg)
{
	struct xen_mig *m = arg;
	siginfo_t si;

	(void)io;
	(void)revents;
	memset(&si, 0, sizeof(si));
	if (waitid(P_PIDFD, (id_t)fd, &si, WEXITED | WNOHANG) < 0 ||
	    si.si_pid == 0)
		return;
	m->m_status = si.si_code == CLD_EXITED ? W_EXITCODE(si.si_status, 0)
	                                       : W_EXITCODE(0, si.si_status);
	xdc_ev_io_del(m->m_pid_io);
	m->m_pid_io = NULL;
	close(m->m_pidfd);
	m->m_pidfd = -1;
	mig_report(m);
}

static void
on_timer(struct xdc_ev_timer *t, void *arg)
{
	struct xen_mig *m = arg;

	(void)t;
	if (m->m_state == MS_DONE) {
		/* The transport did not exit when told: it is killed. */
		if (m->m_pidfd >= 0)
			(void)pidfd_send_signal(m->m_pidfd, SIGKILL, NULL, 0);
		return;
	}
	mig_fail(m, "host %s did not answer within %d s (waiting for it %s)",
	    m->m_to, MIG_WAIT_MS / 1000,
	    (size_t)m->m_state < sizeof(mig_waits) / sizeof(mig_waits[0]) &&
	            mig_waits[m->m_state] != NULL
	        ? mig_waits[m->m_state]
	        : "to answer");
}

/* ---- The transport ---------------------------------------------------- */

/*
 * `ssh -o BatchMode=yes ... TO xdc migrate-receive NAME --host TO`, or, for
 * tests, XDC_MIGRATE_SSH's words instead of ssh and its options.
 */
static void
transport_argv(struct xen_mig *m)
{
	static const char *const ssh[] = { "ssh", "-o", "BatchMode=yes", "-o",
		"ServerAliveInterval=5", "-o", "ServerAliveCountMax=6", NULL };
	const char *rsh = getenv("XDC_MIGRATE_SSH"), *p, *q;
	char **v;
	size_t n = 0, i, len;

	v = xdc_calloc(64, sizeof(*v));
	if (rsh != NULL && *rsh != '\0') {
		for (p = rsh; *p != '\0' && n < 56;) {
			while (*p == ' ' || *p == '\t')
				p++;
			for (q = p; *q != '\0' && *q != ' ' && *q != '\t'; q++)
				;
			if (q > p)
				xdc_asprintf(&v[n++], "%.*s", (int)(q - p), p);
			p = q;
		}
	} else {
		for (i = 0; ssh[i] != NULL; i++)
			v[n++] = xdc_strdup(ssh[i]);
	}
	v[n++] = xdc_strdup(m->m_to);
	v[n++] = xdc_strdup("xdc");
	v[n++] = xdc_strdup("migrate-receive");
	v[n++] = xdc_strdup(m->m_name);
	v[n++] = xdc_strdup("--host");
	v[n++] = xdc_strdup(m->m_to);
	m->m_argv = v;
	for (i = 0, len = 1; i < n; i++)
		len += strlen(v[i]) + 1;
	m->m_cmd = xdc_calloc(1, len);
	for (i = 0; i < n; i++) {
		if (i > 0)
			strcat(m->m_cmd, " ");
		strcat(m->m_cmd, v[i]);
	}
}

static int
transport_spawn(struct xen_mig *m)
{
	int tx[2] = { -1, -1 }, rx[2] = { -1, -1 }, er[2] = { -1, -1 };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, def;
	int rc = XDC_EDRIVER, e;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, tx) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, rx) < 0 ||
	    pipe2(er, O_CLOEXEC) < 0) {
		rc = xdc_error_sys(XDC_EDRIVER,
		    "host %s: cannot migrate %s: socketpair", m->m_env->me_host,
		    m->m_name);
		goto out;
	}
	transport_argv(m);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, tx[1], 0);
	posix_spawn_file_actions_adddup2(&fa, rx[1], 1);
	posix_spawn_file_actions_adddup2(&fa, er[1], 2);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&at);
	/*
	 * Its own session, away from a terminal's ^C; the loop's blocked
	 * signals unblocked, and what xdc ignores (SIGPIPE) back to default.
	 */
	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	sigaddset(&def, SIGINT);
	sigaddset(&def, SIGTERM);
	sigaddset(&def, SIGHUP);
	sigaddset(&def, SIGCHLD);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &def);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
	                                  POSIX_SPAWN_SETSIGDEF |
	                                  POSIX_SPAWN_SETSID);
	e = posix_spawnp(&m->m_pid, m->m_argv[0], &fa, &at, m->m_argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (e != 0) {
		errno = e;
		rc = xdc_error_sys(XDC_EDRIVER,
		    "host %s: cannot migrate %s: cannot run %s",
		    m->m_env->me_host, m->m_name, m->m_argv[0]);
		goto out;
	}
	if ((m->m_pidfd = pidfd_open(m->m_pid, 0)) < 0) {
		/* Nothing else can reap it safely: kill and wait here. */
		rc = xdc_error_sys(XDC_EDRIVER,
		    "host %s: cannot migrate %s: pidfd_open", m->m_env->me_host,
		    m->m_name);
		kill(m->m_pid, SIGKILL);
		(void)waitpid(m->m_pid, NULL, 0);
		goto out;
	}
	m->m_tx = tx[0];
	m->m_rx = rx[0];
	m->m_err = er[0];
	tx[0] = rx[0] = er[0] = -1;
	(void)fcntl(m->m_rx, F_SETFL, O_NONBLOCK);
	(void)fcntl(m->m_err, F_SETFL, O_NONBLOCK);
	m->m_rx_io = xdc_ev_io_add(m->m_ev, m->m_rx, POLLIN, on_rx, m);
	m->m_err_io = xdc_ev_io_add(m->m_ev, m->m_err, POLLIN, on_err, m);
	m->m_pid_io = xdc_ev_io_add(m->m_ev, m->m_pidfd, POLLIN, on_pid, m);
	rc = 0;
out:
	if (tx[0] >= 0)
		close(tx[0]);
	if (rx[0] >= 0)
		close(rx[0]);
	if (er[0] >= 0)
		close(er[0]);
	if (tx[1] >= 0)
		close(tx[1]);
	if (rx[1] >= 0)
		close(rx[1]);
	if (er[1] >= 0)
		close(er[1]);
	return rc;
}

/* ---- Start, abort, free ----------------------------------------------- */

int
xen_mig_start(struct xen_mig_env *env, struct xdc_ev *ev, const char *name,
    uint32_t domid, const char *const marker[XEN_MK__COUNT], const char *to,
    xen_mig_done_fn *done, void *arg, struct xen_mig **out)
{
	struct xen_mig *m = xdc_calloc(1, sizeof(*m));
	libxl_asyncop_how how;
	xc_domaininfo_t info;
	char why[XEN_MIG_WHYSZ];
	uint64_t mark;
	size_t i;
	int rc;

	*out = NULL;
	m->m_env = env;
	m->m_ev = ev;
	m->m_name = xdc_strdup(name);
	xdc_asprintf(&m->m_away, "%s%s", name, XEN_MIG_AWAY);
	m->m_to = xdc_strdup(to);
	m->m_domid = domid;
	m->m_tx = m->m_rx = m->m_err = m->m_pidfd = -1;
	m->m_status = -1;
	m->m_t0 = xdc_ev_now();
	m->m_us_start = mono_us();
	m->m_timer = xdc_ev_timer_new(ev, on_timer, m);
	m->m_next = env->me_migs;
	env->me_migs = m;
	if (xc_domain_getinfolist(env->me_xch, domid, 1, &info) != 1 ||
	    info.domain != domid) {
		rc = xdc_error(XDC_EDRIVER,
		    "host %s: cannot migrate %s: domain %" PRIu32 " is gone",
		    env->me_host, name, domid);
		goto out;
	}
	memcpy(m->m_uuid, info.handle, 16);
	m->m_memory = (uint64_t)info.tot_pages * XC_PAGE_SIZE;
	m->m_marker = json_object();
	for (i = 0; i < XEN_MK__COUNT; i++)
		if (marker[i] != NULL)
			json_object_set_new(m->m_marker, xen_marker_keys[i],
			    json_string(marker[i]));
	if ((rc = transport_spawn(m)) != 0)
		goto out;
	m->m_us_start = mono_us() - m->m_us_start;
	xdc_ev_timer_in(m->m_timer, MIG_WAIT_MS);
	/*
	 * From here on done tells the end, maybe even before libxl returns
	 * (libxl may call back from inside its initiating call).
	 */
	m->m_done = done;
	m->m_arg = arg;
	*out = m;
	/* The configuration, while ssh connects: the same JSON xl sends. */
	libxl_domain_config_init(&m->m_cfg);
	m->m_has_cfg = 1;
	how = mig_how(m, on_config);
	mark = m->m_mark = env->me_mark(env->me_arg);
	m->m_busy = 1;
	m->m_us_config = mono_us();
	rc = libxl_retrieve_domain_configuration(
	    env->me_ctx, domid, &m->m_cfg, &how);
	m->m_us_config = mono_us() - m->m_us_config;
	if (rc != 0) {
		/* Not started, no callback: nothing was done either. */
		m->m_busy = 0;
		m->m_done = NULL;
		*out = NULL;
		rc = xdc_error(XDC_EDRIVER,
		    "host %s: cannot migrate %s: cannot retrieve its "
		    "configuration: %s",
		    env->me_host, name, lx_why(m, rc, mark, why));
		goto out;
	}
	return 0;
out:
	/* Nothing was done to the domain; the transport sees EOF. */
	m->m_state = MS_DONE;
	transport_close(m);
	if (m->m_pidfd >= 0)
		xdc_ev_timer_in(m->m_timer, MIG_REAP_MS);
	else
		mig_free(m);
	return rc;
}

void
xen_mig_abort(struct xen_mig *m)
{
	if (m == NULL || m->m_state == MS_DONE)
		return;
	m->m_aborting = 1;
	mig_fail(m, "xdc is stopping");
}

void
xen_mig_detach(struct xen_mig *m)
{
	if (m != NULL)
		m->m_done = NULL;
}

void
xen_mig_free_all(struct xen_mig_env *env)
{
	struct xen_mig *m;

	while ((m = env->me_migs) != NULL) {
		if (m->m_pidfd >= 0) {
			(void)pidfd_send_signal(m->m_pidfd, SIGKILL, NULL, 0);
			(void)waitpid(m->m_pid, NULL, 0);
		}
		mig_free(m);
	}
}

/* ---- The receiver ----------------------------------------------------- */

/*
 * A logger for the receiver's libxl: errors go to stderr, which ssh
 * carries back to the sender, and the first since a mark is kept for the
 * "fail" line.
 */
struct rlog {
	xentoollog_logger rl_vtable; /* first: libxl calls through it */
	char rl_first[512];
};

struct rcv {
	const char *r_host;
	const char *r_name;
	char *r_incoming;
	int r_in, r_out;
	struct rlog r_log;
	libxl_ctx *r_ctx;
	xc_interface *r_xch;
	struct xs_handle *r_xsh;
	uint32_t r_domid; /* its copy, once restored */
	json_t *r_offer;
	libxl_domain_config r_cfg;
	int r_has_cfg;
	char r_why[1024];
};

static void rlog_vmessage(xentoollog_logger *lg, xentoollog_level level,
    int errnoval, const char *context, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));

static void
rlog_vmessage(xentoollog_logger *lg, xentoollog_level level, int errnoval,
    const char *context, const char *fmt, va_list ap)
{
	struct rlog *l = (struct rlog *)lg;
	char buf[512], *msg = buf, *p;
	size_t n;

	(void)context;
	if (level < XTL_ERROR)
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	/* libxl says where: "libxl_create.c:662:libxl__domain_make: ". */
	if ((p = strstr(buf, ".c:")) != NULL && p - buf < 48 &&
	    (p = strchr(p + 3, ':')) != NULL && (p = strchr(p + 1, ':')) &&
	    p[1] == ' ')
		msg = p + 2;
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	fprintf(stderr, "xdc migrate-receive: libxl: %s%s%s\n", msg,
	    errnoval > 0 ? ": " : "", errnoval > 0 ? strerror(errnoval) : "");
	if (l->rl_first[0] == '\0')
		snprintf(l->rl_first, sizeof(l->rl_first), "%s%s%s", msg,
		    errnoval > 0 ? ": " : "",
		    errnoval > 0 ? strerror(errnoval) : "");
}

static void
rlog_progress(xentoollog_logger *lg, const char *context, const char *what,
    int percent, unsigned long done, unsigned long total)
{
	(void)lg, (void)context, (void)what, (void)percent, (void)done;
	(void)total;
}

static void
rlog_destroy(xentoollog_logger *lg)
{
	(void)lg;
}

static const char *
rcv_lx(struct rcv *r, int rc)
{
	static char buf[600];

	if (r->r_log.rl_first[0] != '\0')
		snprintf(buf, sizeof(buf), "%s", r->r_log.rl_first);
	else
		snprintf(buf, sizeof(buf), "libxl error %d", rc);
	r->r_log.rl_first[0] = '\0';
	return buf;
}

/* A line to the sender; 0, or -1 when it is gone. */
static int rcv_say(struct rcv *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
rcv_say(struct rcv *r, const char *fmt, ...)
{
	char line[MIG_LINE_MAX];
	struct pollfd pfd;
	size_t n, off = 0;
	ssize_t w;
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (len < 0)
		return -1;
	n = (size_t)len < sizeof(line) - 2 ? (size_t)len : sizeof(line) - 2;
	/* One line: a reason with a newline in it would end it early. */
	for (off = 0; off < n; off++)
		if (line[off] == '\n' || line[off] == '\r')
			line[off] = ' ';
	line[n++] = '\n';
	for (off = 0; off < n;) {
		w = write(r->r_out, line + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			pfd.fd = r->r_out;
			pfd.events = POLLOUT;
			(void)poll(&pfd, 1, 1000);
			continue;
		}
		if (w <= 0)
			return -1;
		off += (size_t)w;
	}
	return 0;
}

/* Read exactly n bytes; 0, 1 at EOF, -1 on error or timeout. */
static int
rcv_read(struct rcv *r, char *buf, size_t n, int timeout_ms)
{
	struct pollfd pfd;
	size_t off = 0;
	ssize_t got;
	int p;

	while (off < n) {
		pfd.fd = r->r_in;
		pfd.events = POLLIN;
		p = poll(&pfd, 1, timeout_ms);
		if (p < 0 && errno == EINTR)
			continue;
		if (p == 0) {
			snprintf(r->r_why, sizeof(r->r_why),
			    "the sender said nothing for %d s",
			    timeout_ms / 1000);
			return -1;
		}
		if (p < 0) {
			snprintf(r->r_why, sizeof(r->r_why), "poll: %s",
			    strerror(errno));
			return -1;
		}
		got = read(r->r_in, buf + off, n - off);
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (got == 0)
			return 1;
		if (got < 0) {
			snprintf(r->r_why, sizeof(r->r_why), "read: %s",
			    strerror(errno));
			return -1;
		}
		off += (size_t)got;
	}
	return 0;
}

/*
 * One line from the sender, byte by byte: whatever follows it (the libxl
 * stream) is libxl's to read. 0, 1 at EOF, -1 on error or timeout.
 */
static int
rcv_line(struct rcv *r, char *buf, size_t n, int timeout_ms)
{
	size_t i = 0;
	int rc;

	for (;;) {
		if (i + 1 >= n) {
			snprintf(r->r_why, sizeof(r->r_why),
			    "the sender's line is too long");
			return -1;
		}
		if ((rc = rcv_read(r, buf + i, 1, timeout_ms)) != 0)
			return rc;
		if (buf[i] == '\n') {
			buf[i] = '\0';
			return 0;
		}
		i++;
	}
}

/* Is there a live domain of that name here? Its domid, or -1. */
static long
rcv_named(struct rcv *r, const char *name)
{
	uint32_t domid;

	if (libxl_name_to_domid(r->r_ctx, name, &domid) != 0)
		return -1;
	return (long)domid;
}

/*
 * Whether the domain domid is the one being migrated: the same UUID. On
 * another host that is a copy that must not be there; on this same host
 * (a localhost migration, a test) it is the sender's own.
 */
static int
rcv_same_uuid(struct rcv *r, long domid)
{
	xc_domaininfo_t info;

	return xc_domain_getinfolist(r->r_xch, (uint32_t)domid, 1, &info) ==
	           1 &&
	       info.domain == (uint32_t)domid &&
	       memcmp(info.handle,
	           libxl_uuid_bytearray_const(&r->r_cfg.c_info.uuid), 16) == 0;
}

/* Read and check the offer; on refusal, r_why says why. */
static int
rcv_offer(struct rcv *r)
{
	char line[MIG_LINE_MAX], *text = NULL, need[XDC_SIZE_BUFSZ],
	                         avail[XDC_SIZE_BUFSZ];
	const char *name, *cfg;
	json_error_t jerr;
	json_t *marker, *v;
	xc_physinfo_t pi;
	unsigned long len;
	json_int_t memory;
	uint64_t free_mem;
	long other;
	int rc;

	if ((rc = rcv_line(r, line, sizeof(line), MIG_WAIT_MS)) != 0) {
		if (rc > 0)
			snprintf(r->r_why, sizeof(r->r_why),
			    "the sender closed before its offer");
		return -1;
	}
	if (sscanf(line, "offer %lu", &len) != 1 || len == 0 ||
	    len > MIG_OFFER_MAX) {
		snprintf(r->r_why, sizeof(r->r_why),
		    "the sender said \"%.64s\", not an offer", line);
		return -1;
	}
	text = xdc_malloc(len + 1);
	if ((rc = rcv_read(r, text, len, MIG_WAIT_MS)) != 0) {
		if (rc > 0)
			snprintf(r->r_why, sizeof(r->r_why),
			    "the sender closed in its offer");
		free(text);
		return -1;
	}
	text[len] = '\0';
	r->r_offer = json_loads(text, 0, &jerr);
	free(text);
	if (r->r_offer == NULL ||
	    json_unpack(r->r_offer, "{s:s, s:I, s:s, s:o}", "name", &name,
	        "memory", &memory, "config", &cfg, "marker", &marker) != 0 ||
	    memory < 0) {
		snprintf(r->r_why, sizeof(r->r_why),
		    "the offer is not what version %d sends", XEN_MIG_VERSION);
		return -1;
	}
	if (strcmp(name, r->r_name) != 0) {
		snprintf(r->r_why, sizeof(r->r_why),
		    "the offer is for %.64s, not %s", name, r->r_name);
		return -1;
	}
	v = json_object_get(marker, xen_marker_keys[XEN_MK_NAME]);
	if (!json_is_string(v) || strcmp(json_string_value(v), name) != 0) {
		snprintf(r->r_why, sizeof(r->r_why),
		    "the offer carries no marker of xdc's for %s", name);
		return -1;
	}
	memset(&pi, 0, sizeof(pi));
	if (xc_physinfo(r->r_xch, &pi) == 0) {
		free_mem = (uint64_t)pi.free_pages * XC_PAGE_SIZE;
		if ((uint64_t)memory > free_mem) {
			snprintf(r->r_why, sizeof(r->r_why),
			    "it needs %s of memory and %s is free",
			    xdc_size_fmt((uint64_t)memory, need),
			    xdc_size_fmt(free_mem, avail));
			return -1;
		}
	}
	libxl_domain_config_init(&r->r_cfg);
	r->r_has_cfg = 1;
	if ((rc = libxl_domain_config_from_json(r->r_ctx, &r->r_cfg, cfg)) !=
	    0) {
		snprintf(r->r_why, sizeof(r->r_why),
		    "libxl cannot read its configuration: %s", rcv_lx(r, rc));
		return -1;
	}
	/* A domain of the name here that is not this one (see above). */
	if (((other = rcv_named(r, name)) >= 0 && !rcv_same_uuid(r, other)) ||
	    (other = rcv_named(r, r->r_incoming)) >= 0) {
		snprintf(r->r_why, sizeof(r->r_why),
		    "a domain of that name runs here (domid %ld)", other);
		return -1;
	}
	free(r->r_cfg.c_info.name);
	r->r_cfg.c_info.name = strdup(r->r_incoming);
	return 0;
}

/* The marker, as the sender's domain had it, for this copy. */
static int
rcv_marker(struct rcv *r)
{
	xc_domaininfo_t info;

	if (xc_domain_getinfolist(r->r_xch, r->r_domid, 1, &info) != 1 ||
	    info.domain != r->r_domid) {
		snprintf(r->r_why, sizeof(r->r_why),
		    "domain %" PRIu32 " is gone", r->r_domid);
		return -1;
	}
	if (marker_put(r->r_xsh, info.handle,
	        json_object_get(r->r_offer, "marker")) != 0) {
		snprintf(r->r_why, sizeof(r->r_why),
		    "cannot write the marker: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Its paused copy goes: the sender still has the domain. */
static void
rcv_destroy(struct rcv *r)
{
	if (r->r_domid == (uint32_t)INVALID_DOMID)
		return;
	if (libxl_domain_destroy(r->r_ctx, r->r_domid, NULL) != 0)
		fprintf(stderr,
		    "xdc migrate-receive: host %s: cannot destroy %s (domid "
		    "%" PRIu32 "): %s\n",
		    r->r_host, r->r_incoming, r->r_domid, rcv_lx(r, -1));
	r->r_domid = (uint32_t)INVALID_DOMID;
}

int
xen_mig_receive(const char *host, const char *name, int in, int out)
{
	libxl_domain_restore_params params;
	struct rcv r;
	char line[MIG_LINE_MAX];
	int rc, status = 1;

	memset(&r, 0, sizeof(r));
	r.r_host = host;
	r.r_name = name;
	r.r_in = in;
	r.r_out = out;
	r.r_domid = (uint32_t)INVALID_DOMID;
	xdc_asprintf(&r.r_incoming, "%s%s", name, XEN_MIG_INCOMING);
	r.r_log.rl_vtable.vmessage = rlog_vmessage;
	r.r_log.rl_vtable.progress = rlog_progress;
	r.r_log.rl_vtable.destroy = rlog_destroy;
	libxl_domain_restore_params_init(&params);
	/* A sender that goes away is an error to report, not a death. */
	signal(SIGPIPE, SIG_IGN);

	if (libxl_ctx_alloc(&r.r_ctx, LIBXL_VERSION, 0, &r.r_log.rl_vtable) !=
	        0 ||
	    (r.r_xch = xc_interface_open(
	         &r.r_log.rl_vtable, &r.r_log.rl_vtable, 0)) == NULL ||
	    (r.r_xsh = xs_open(0)) == NULL) {
		snprintf(r.r_why, sizeof(r.r_why),
		    "cannot open libxl, libxenctrl and xenstore (xdc "
		    "migrate-receive runs in dom0, as root): %s",
		    rcv_lx(&r, ERROR_FAIL));
		(void)rcv_say(&r, "refuse %s", r.r_why);
		goto out;
	}
	if (rcv_say(&r, "%s %d", MIG_BANNER, XEN_MIG_VERSION) != 0) {
		snprintf(r.r_why, sizeof(r.r_why), "the sender is gone");
		goto out;
	}
	if (rcv_offer(&r) != 0) {
		(void)rcv_say(&r, "refuse %s", r.r_why);
		goto out;
	}
	if (rcv_say(&r, "ready") != 0) {
		snprintf(r.r_why, sizeof(r.r_why), "the sender is gone");
		goto out;
	}

	/* The stream, restored paused, under the name NAME--incoming. */
	params.checkpointed_stream = LIBXL_CHECKPOINTED_STREAM_NONE;
	params.stream_version = 2; /* libxl_domain_suspend's */
	rc = libxl_domain_create_restore(
	    r.r_ctx, &r.r_cfg, &r.r_domid, r.r_in, -1, &params, NULL, NULL);
	if (rc != 0) {
		snprintf(r.r_why, sizeof(r.r_why), "cannot restore it: %s",
		    rcv_lx(&r, rc));
		(void)rcv_say(&r, "fail %s", r.r_why);
		/* libxl destroys what its failed build made; anything left: */
		if (r.r_domid != (uint32_t)INVALID_DOMID &&
		    rcv_named(&r, r.r_incoming) == (long)r.r_domid)
			rcv_destroy(&r);
		goto out;
	}
	if (rcv_say(&r, "have") != 0) {
		snprintf(r.r_why, sizeof(r.r_why),
		    "the sender went away after the stream");
		rcv_destroy(&r);
		goto out;
	}

	/* Until "leave", the sender has the domain: ours may go. */
	rc = rcv_line(&r, line, sizeof(line), MIG_WAIT_MS);
	if (rc != 0 || strcmp(line, "leave") != 0) {
		if (rc == 0 && !strcmp(line, "abort"))
			snprintf(r.r_why, sizeof(r.r_why),
			    "the sender aborted; it keeps the domain");
		else if (rc == 0)
			snprintf(r.r_why, sizeof(r.r_why),
			    "the sender said \"%.64s\"", line);
		else if (rc > 0)
			snprintf(r.r_why, sizeof(r.r_why),
			    "the sender went away before \"leave\"");
		rcv_destroy(&r);
		goto out;
	}
	/* From here on ours is never destroyed: it may be the only copy. */
	if (rcv_say(&r, "kept") != 0) {
		snprintf(r.r_why, sizeof(r.r_why),
		    "the sender went away after \"leave\"; %s stays here, "
		    "paused (domid %" PRIu32 ")",
		    r.r_incoming, r.r_domid);
		goto out;
	}
	rc = rcv_line(&r, line, sizeof(line), MIG_WAIT_MS);
	if (rc == 0 && !strcmp(line, "abort")) {
		/* The sender kept its own and takes it back. */
		snprintf(r.r_why, sizeof(r.r_why), "the sender aborted");
		rcv_destroy(&r);
		goto out;
	}
	if (rc != 0 || strcmp(line, "go") != 0) {
		snprintf(r.r_why, sizeof(r.r_why),
		    "no \"go\" from the sender; %s stays here, paused (domid "
		    "%" PRIu32 "), as the sender may have destroyed its copy",
		    r.r_incoming, r.r_domid);
		goto out;
	}

	/* The sender's copy is gone: ours is the VM. */
	if ((rc = libxl_domain_rename(
	         r.r_ctx, r.r_domid, r.r_incoming, r.r_name)) != 0) {
		snprintf(r.r_why, sizeof(r.r_why),
		    "cannot rename %s %s: %s; it stays here, paused",
		    r.r_incoming, r.r_name, rcv_lx(&r, rc));
		(void)rcv_say(&r, "fail %s", r.r_why);
		goto out;
	}
	if (rcv_marker(&r) != 0) {
		(void)rcv_say(
		    &r, "fail %s; %s stays here, paused", r.r_why, r.r_name);
		goto out;
	}
	if ((rc = libxl_domain_unpause(r.r_ctx, r.r_domid, NULL)) != 0) {
		snprintf(r.r_why, sizeof(r.r_why),
		    "cannot unpause %s: %s; it stays here, paused, and xdc's "
		    "next plan unpauses it",
		    r.r_name, rcv_lx(&r, rc));
		(void)rcv_say(&r, "fail %s", r.r_why);
		goto out;
	}
	(void)rcv_say(&r, "done %" PRIu32, r.r_domid);
	status = 0;
out:
	if (status != 0 && r.r_why[0] != '\0')
		fprintf(stderr, "xdc migrate-receive: host %s: %s: %s\n", host,
		    name, r.r_why);
	libxl_domain_restore_params_dispose(&params);
	if (r.r_has_cfg)
		libxl_domain_config_dispose(&r.r_cfg);
	json_decref(r.r_offer);
	if (r.r_xsh != NULL)
		xs_close(r.r_xsh);
	if (r.r_xch != NULL)
		xc_interface_close(r.r_xch);
	libxl_ctx_free(r.r_ctx);
	free(r.r_incoming);
	return status;
}
