/*
 * Live migration between dom0s (xen_migrate.h), the sender's transport:
 * `ssh DEST xdc migrate-receive NAME` spawned with socket pairs for its
 * stdin and stdout and a pipe for its stderr, reaped through a pidfd, all
 * of them fds of the event loop; and the handshake as the sender reads it,
 * the receiver's lines (banner, ready, have, kept, done, refuse, fail)
 * turned into the sender's next step (xen_migrate.c), its silence into a
 * timeout, its end of the channel into a failure that names the command
 * and its exit status. Nothing here blocks the loop: xdc's own lines go
 * with send(MSG_DONTWAIT) on a socket that stays blocking for libxl's save
 * helper, which writes the stream into it.
 */
#include "drivers/xen_migrate_int.h" /* first: xenctrl.h before libxl.h */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/error.h"
#include "base/ev.h"

extern char **environ;

static const char *const mig_waits[] = {
	[MS_CONNECT] = "to start",
	[MS_OFFERED] = "to accept the offer",
	[MS_HAVE] = "to restore the domain",
	[MS_LEAVE] = "to keep the domain",
	[MS_GO] = "to start the domain",
};

/* The last line the transport wrote on stderr (ssh's or the receiver's). */
const char *
mig_err_last_line(struct xen_mig *m, char *buf, size_t n)
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
void
mig_transport_close(struct xen_mig *m)
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

/* Reap the transport now: it is killed, so the wait is short. */
void
mig_transport_kill(struct xen_mig *m)
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

/* Best effort: a line to the receiver; 0 or -1. Never blocks the loop. */
int
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
			how = mig_how(m, mig_on_suspended);
			mark = m->m_mark = m->m_env->me_mark(m->m_env->me_arg);
			m->m_state = MS_SUSPEND;
			m->m_busy = 1;
			rc = libxl_domain_suspend(m->m_env->me_ctx, m->m_domid,
			    m->m_tx, LIBXL_SUSPEND_LIVE, &how);
			if (rc != 0) {
				m->m_busy = 0;
				m->m_state = MS_OFFERED;
				mig_fail(m, "libxl_domain_suspend: %s",
				    mig_lx_why(m, rc, mark, why));
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
			how = mig_how(m, mig_on_destroyed);
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
				    mig_lx_why(m, rc, mark, why));
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

void
mig_on_timer(struct xdc_ev_timer *t, void *arg)
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

/* ---- Spawning the transport ------------------------------------------- */

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

int
mig_transport_spawn(struct xen_mig *m)
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
