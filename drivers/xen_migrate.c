/*
 * Live migration between dom0s (xen_migrate.h), the sender: a state
 * machine in the xen driver's event loop that moves one running domain to
 * another host. It retrieves the domain's configuration and offers it,
 * streams the domain with libxl_domain_suspend(LIBXL_SUSPEND_LIVE), renames
 * its copy away once the receiver has restored it, destroys it, and tells
 * the receiver to go; on any failure before the receiver keeps the domain
 * it takes the domain back (its name, a resume) and says why. The ssh
 * transport and the receiver's lines are xen_migrate_wire.c's, the
 * receiving end (`xdc migrate-receive`) xen_migrate_recv.c's. The
 * handshake and why it is shaped so are in xen_migrate.h;
 * tools/xl/xl_migrate.c has the same phases.
 */
#include "drivers/xen_migrate_int.h" /* first: xenctrl.h before libxl.h */

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>

#include <jansson.h>

#include "base/error.h"
#include "base/ev.h"
#include "schema/model.h"

static void mig_resume(struct xen_mig *);
static int dom_gone(struct xen_mig *, xc_domaininfo_t *);

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
	mig_transport_close(m);
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

/*
 * Tell the driver how it ended, once the transport has exited too: by
 * then the receiver has destroyed its copy, if it was to, and the action's
 * end is the migration's. A failure leaves the domain here, marked (see
 * mig_resume: a receiver on this same host shares its /vm/UUID).
 */
void
mig_report(struct xen_mig *m)
{
	xen_mig_done_fn *done = m->m_done;
	xc_domaininfo_t info;

	if (m->m_state != MS_DONE || m->m_pidfd >= 0 || m->m_reported)
		return;
	m->m_reported = 1;
	if (m->m_final_rc != 0 && dom_gone(m, &info) == 0)
		(void)mig_marker_put(m->m_env->me_xsh, m->m_uuid, m->m_marker);
	m->m_done = NULL;
	if (done != NULL)
		done(m->m_arg, m->m_final_rc, m->m_final_why);
	if (!m->m_busy)
		mig_free(m);
}

/* The migration is over: let the transport exit, then report. */
void
mig_finish(struct xen_mig *m, int rc, const char *why)
{
	m->m_state = MS_DONE;
	m->m_t_done = xdc_ev_now();
	trace(m, rc);
	m->m_final_rc = rc;
	m->m_final_why = why != NULL ? xdc_strdup(why) : NULL;
	mig_transport_close(m);
	/* The driver is going away: no loop will see the transport exit. */
	if (m->m_aborting)
		mig_transport_kill(m);
	/* ssh exits once its stdin is closed; else it is killed. */
	if (m->m_pidfd >= 0)
		xdc_ev_timer_in(m->m_timer, MIG_REAP_MS);
	else
		xdc_ev_timer_stop(m->m_timer);
	mig_report(m);
}

/* Wait for the receiver's next line, at most MIG_WAIT_MS. */
void
mig_wait(struct xen_mig *m, enum mig_state st)
{
	m->m_state = st;
	xdc_ev_timer_in(m->m_timer, MIG_WAIT_MS);
}

/*
 * Write the marker's keys (a JSON object of strings) under the domain's
 * /vm/UUID/xdc, in one transaction: 0, or -1 with errno.
 */
int
mig_marker_put(struct xs_handle *xsh, const uint8_t uuid[16], json_t *marker)
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

libxl_asyncop_how
mig_how(struct xen_mig *m, void (*cb)(libxl_ctx *, int, void *))
{
	libxl_asyncop_how how;

	memset(&how, 0, sizeof(how));
	how.callback = cb;
	how.u.for_callback = m;
	return how;
}

const char *
mig_lx_why(struct xen_mig *m, int rc, uint64_t mark, char buf[XEN_MIG_WHYSZ])
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
void
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
		    mig_lx_why(m, rc, m->m_mark, why));
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
		    m->m_why, mig_lx_why(m, rc, m->m_mark, why));
	else
		xdc_asprintf(&msg, "%s; %s runs on host %s again", m->m_why,
		    m->m_name, m->m_env->me_host);
	mig_finish(m, m->m_rc, msg);
	free(msg);
}

void
mig_on_suspended(libxl_ctx *ctx, int rc, void *arg)
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
		    mig_lx_why(m, rc, m->m_mark, why));
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
void
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
		    mig_lx_why(m, rc, mark, why));
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

void
mig_on_destroyed(libxl_ctx *ctx, int rc, void *arg)
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
		    rc != 0 ? mig_lx_why(m, rc, m->m_mark, why)
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
void
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
		if (*mig_err_last_line(m, line, sizeof(line)) != '\0' &&
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
		/* Stop the stream; mig_on_suspended takes the domain back. */
		(void)libxl_ao_abort(m->m_env->me_ctx,
		    &(libxl_asyncop_how){
		        .callback = mig_on_suspended, .u.for_callback = m });
		return;
	case MS_HAVE:
	case MS_LEAVE:
		mig_resume(m);
		return;
	case MS_DESTROY:
		return; /* mig_on_destroyed looks at what is left */
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
		(void)mig_marker_put(m->m_env->me_xsh, m->m_uuid, m->m_marker);
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
		    m->m_why, mig_lx_why(m, rc, mark, why));
		mig_finish(m, m->m_rc, msg);
		free(msg);
	}
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
	m->m_timer = xdc_ev_timer_new(ev, mig_on_timer, m);
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
	if ((rc = mig_transport_spawn(m)) != 0)
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
		    env->me_host, name, mig_lx_why(m, rc, mark, why));
		goto out;
	}
	return 0;
out:
	/* Nothing was done to the domain; the transport sees EOF. */
	m->m_state = MS_DONE;
	mig_transport_close(m);
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
