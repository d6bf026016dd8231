/*
 * The pool agent's fencing of lost hosts (see agent_priv.h). Once this
 * agent has held its lease, with the pool read, for a whole lease, a
 * declared host with no record is known off when its published
 * watchdog's timeout has passed as well (the watchdog's route: P
 * fenced/HOST, method "watchdog"); otherwise one survivor, whoever
 * creates P fencing/HOST, runs the fence command and, if it succeeds,
 * marks the host fenced. A failed fence is tried again later, each time
 * after a longer wait.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "base/error.h"
#include "base/ev.h"
#include "pool/agent.h"
#include "pool/agent_priv.h"

extern char **environ;

#define FENCE_TIMEOUT_MS 60000 /* a fence command that hangs is a failure */
#define FENCE_RETRY_MS   5000  /* after a failed fence, at first */
#define FENCE_RETRY_MAX  60000
#define WATCHDOG_MARGIN  1000 /* past lease + timeout, to be sure */

static void
mark_fenced(struct pool_agent *a, const char *host, const char *method)
{
	struct etcd_cmp cmp;
	struct etcd_op put;
	json_t *o;
	char *k = agent_key_of(a, "fenced", host), *v, at[32];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
	o = json_pack(
	    "{s:s, s:s, s:s}", "by", a->a_self, "method", method, "at", at);
	v = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	memset(&cmp, 0, sizeof(cmp));
	cmp.cmp_key = k;
	cmp.cmp_target = ETCD_CMP_CREATE;
	cmp.cmp_result = ETCD_EQUAL;
	memset(&put, 0, sizeof(put));
	put.op_kind = ETCD_PUT;
	put.op_key = k;
	put.op_value = v;
	put.op_value_len = strlen(v);
	(void)etcd_txn(
	    a->a_etcd, &cmp, 1, &put, 1, NULL, 0, agent_on_deleted, NULL);
	agent_log(a, POOL_LOG_WARN, "fenced", "host", host, "method", method,
	    "by", a->a_self);
	free(k);
	free(v);
}

static void
on_fence_output(struct xdc_ev_io *io, int fd, short re, void *arg)
{
	struct fence *f = arg;
	char buf[512];
	ssize_t n;

	(void)re;
	n = read(fd, buf, sizeof(buf));
	if (n <= 0) {
		xdc_ev_io_del(io);
		f->f_out_io = NULL;
		return;
	}
	/* Keep the end (buf is smaller than the output kept): the last
	 * lines say what went wrong. */
	if (f->f_len + (size_t)n >= sizeof(f->f_output)) {
		size_t drop = f->f_len + (size_t)n - (sizeof(f->f_output) - 1);

		memmove(f->f_output, f->f_output + drop, f->f_len - drop);
		f->f_len -= drop;
	}
	memcpy(f->f_output + f->f_len, buf, (size_t)n);
	f->f_len += (size_t)n;
	f->f_output[f->f_len] = '\0';
}

static void
on_fence_exit(struct xdc_ev_io *io, int fd, short re, void *arg)
{
	struct pool_agent *a = arg;
	struct fence *f = a->a_fence;
	char why[128];
	int st = 0;

	(void)io;
	(void)fd;
	(void)re;
	if (waitpid(f->f_pid, &st, WNOHANG) != f->f_pid)
		return;
	f->f_pid = -1;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		agent_fence_end(a, 1, NULL);
		return;
	}
	if (WIFEXITED(st))
		snprintf(why, sizeof(why), "exit status %d", WEXITSTATUS(st));
	else
		snprintf(why, sizeof(why), "killed by signal %d",
		    WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	agent_fence_end(a, 0, why);
}

static void
on_fence_timeout(struct xdc_ev_timer *t, void *arg)
{
	struct pool_agent *a = arg;
	struct fence *f = a->a_fence;

	(void)t;
	if (f->f_pid > 0) {
		kill(f->f_pid, SIGKILL);
		(void)waitpid(f->f_pid, NULL, 0);
		f->f_pid = -1;
	}
	agent_fence_end(a, 0, "it did not finish in 60 s");
}

void
agent_fence_end(struct pool_agent *a, int ok, const char *why)
{
	struct fence *f = a->a_fence;
	struct host *h = agent_view_host_get(a, f->f_host, 1);
	char *k = agent_key_of(a, "fencing", f->f_host), *line, *nl;

	line = f->f_output;
	while ((nl = strrchr(line, '\n')) != NULL && nl[1] == '\0')
		*nl = '\0';
	if ((nl = strrchr(line, '\n')) != NULL)
		line = nl + 1;
	if (ok) {
		a->a_fence_successes++;
		mark_fenced(a, f->f_host, "command");
	} else {
		a->a_fence_failures++;
		h->h_fence_delay = h->h_fence_delay == 0 ? FENCE_RETRY_MS
		                                         : h->h_fence_delay * 2;
		if (h->h_fence_delay > FENCE_RETRY_MAX)
			h->h_fence_delay = FENCE_RETRY_MAX;
		h->h_fence_retry = xdc_ev_now() + h->h_fence_delay;
		agent_log(a, POOL_LOG_ERROR, "fence failed", "host", f->f_host,
		    "error", why, "output", line);
	}
	agent_cas_release(a, k, a->a_self);
	free(k);
	if (f->f_pid_io != NULL)
		xdc_ev_io_del(f->f_pid_io);
	if (f->f_out_io != NULL)
		xdc_ev_io_del(f->f_out_io);
	xdc_ev_timer_free(f->f_timer);
	if (f->f_pidfd >= 0)
		close(f->f_pidfd);
	if (f->f_out >= 0)
		close(f->f_out);
	free(f->f_host);
	free(f);
	a->a_fence = NULL;
	agent_changed(a);
}

/*
 * Run the fence command for host: /bin/sh -c CMD with the host's name as
 * $1, its output kept for the log, its end heard through a pidfd in the
 * loop: nothing waits for it.
 */
static void
fence_run(struct pool_agent *a, const char *host)
{
	posix_spawn_file_actions_t fa;
	struct fence *f;
	char *argv[6];
	int out[2] = { -1, -1 }, devnull;

	if (pipe2(out, O_CLOEXEC) != 0)
		return;
	f = xdc_calloc(1, sizeof(*f));
	f->f_host = xdc_strdup(host);
	f->f_pidfd = -1;
	f->f_out = out[0];
	argv[0] = (char *)"/bin/sh";
	argv[1] = (char *)"-c";
	argv[2] = a->a_fence_cmd;
	argv[3] = (char *)"xdc-fence";
	argv[4] = f->f_host;
	argv[5] = NULL;
	posix_spawn_file_actions_init(&fa);
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (devnull >= 0)
		posix_spawn_file_actions_adddup2(&fa, devnull, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, out[1], 2);
	a->a_fence_attempts++;
	agent_log(a, POOL_LOG_WARN, "fencing", "host", host, "command",
	    a->a_fence_cmd, NULL, NULL);
	if (posix_spawn(&f->f_pid, "/bin/sh", &fa, NULL, argv, environ) != 0)
		f->f_pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	if (devnull >= 0)
		close(devnull);
	close(out[1]);
	a->a_fence = f;
	if (f->f_pid < 0) {
		agent_fence_end(a, 0, "cannot run /bin/sh");
		return;
	}
	f->f_pidfd = (int)syscall(SYS_pidfd_open, f->f_pid, 0);
	fcntl(f->f_out, F_SETFL, fcntl(f->f_out, F_GETFL) | O_NONBLOCK);
	f->f_out_io =
	    xdc_ev_io_add(a->a_ev, f->f_out, POLLIN, on_fence_output, f);
	f->f_timer = xdc_ev_timer_new(a->a_ev, on_fence_timeout, a);
	xdc_ev_timer_in(f->f_timer, FENCE_TIMEOUT_MS);
	if (f->f_pidfd >= 0)
		f->f_pid_io = xdc_ev_io_add(
		    a->a_ev, f->f_pidfd, POLLIN, on_fence_exit, a);
}

static void
on_fence_lock(struct etcd_req *req, const struct etcd_result *res, void *arg)
{
	struct cas *c = arg;
	struct pool_agent *a = c->cs_pa;
	struct host *h = agent_view_host_get(a, c->cs_vm, 1);

	(void)req;
	/* Won the lock and the host is still lost: fence it. */
	if (!a->a_closing && res->res_rc == 0 && res->res_succeeded &&
	    h->h_rec == NULL && h->h_fenced == NULL && a->a_fence == NULL)
		fence_run(a, c->cs_vm);
	else if (res->res_rc == 0 && res->res_succeeded) {
		char *k = agent_key_of(a, "fencing", c->cs_vm);

		agent_cas_release(a, k, a->a_self);
		free(k);
	}
	free(c->cs_key);
	free(c->cs_vm);
	free(c);
}

/*
 * Lost hosts: one survivor fences each with the command, or each is known
 * off once its lease and its watchdog's timeout have passed. Nothing is
 * fenced until this agent has held its lease, with the pool read, for a
 * whole lease: after an outage of etcd, the others get as long to come
 * back as their leases give them.
 */
void
agent_fence_check(struct pool_agent *a)
{
	int64_t now = xdc_ev_now();
	struct etcd_cmp cmp;
	struct etcd_op put;
	struct host *h;
	struct cas *c;
	size_t i;

	if (!a->a_synced || !agent_lease_held(a) || a->a_ready_since == 0 ||
	    now - a->a_ready_since < a->a_ttl * 1000)
		return;
	for (i = 0; i < a->a_ndeclared; i++) {
		h = agent_view_host_get(a, a->a_declared[i], 1);
		if (h->h_rec != NULL || h->h_fenced != NULL ||
		    !strcmp(h->h_name, a->a_self))
			continue;
		if (h->h_watchdog_ms > 0 && now >= h->h_lost_since +
		                                       h->h_watchdog_ms +
		                                       WATCHDOG_MARGIN) {
			mark_fenced(a, h->h_name, "watchdog");
			continue;
		}
		if (a->a_fence_cmd == NULL || a->a_fence != NULL ||
		    h->h_fencer != NULL || now < h->h_fence_retry)
			continue;
		/* One survivor fences: whoever creates P fencing/HOST. */
		c = xdc_calloc(1, sizeof(*c));
		c->cs_pa = a;
		c->cs_key = agent_key_of(a, "fencing", h->h_name);
		c->cs_vm = xdc_strdup(h->h_name);
		memset(&cmp, 0, sizeof(cmp));
		cmp.cmp_key = c->cs_key;
		cmp.cmp_target = ETCD_CMP_CREATE;
		cmp.cmp_result = ETCD_EQUAL;
		memset(&put, 0, sizeof(put));
		put.op_kind = ETCD_PUT;
		put.op_key = c->cs_key;
		put.op_value = a->a_self;
		put.op_value_len = strlen(a->a_self);
		put.op_lease = a->a_lease;
		h->h_fence_retry = now + FENCE_RETRY_MS;
		if (etcd_txn(a->a_etcd, &cmp, 1, &put, 1, NULL, 0,
		        on_fence_lock, c) == NULL) {
			free(c->cs_key);
			free(c->cs_vm);
			free(c);
		}
		return; /* one at a time */
	}
}
