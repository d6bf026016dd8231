/*
 * What the checks of verify.c run on: a private directory for each check
 * ($TMPDIR/xdc-verify-XXXXXX) and the files put in it, removed with it; a
 * tool (ssh-keygen, gpgconf) spawned without a shell, its stdin a file,
 * its output kept up to VERIFY_OUT_MAX and its time bounded, stopped when
 * the check is cancelled; and the message a refusal becomes, the same for
 * both kinds of key.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "reconciler/verify.h"
#include "reconciler/verify_priv.h"
#include "base/error.h"

extern char **environ;

/* ---- A private directory, and the files in it ----------------------- */

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void
verify_dir_remove(const char *dir)
{
	if (dir != NULL)
		nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

int
verify_dir_make(char **out)
{
	const char *tmp = getenv("TMPDIR");

	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	xdc_asprintf(out, "%s/xdc-verify-XXXXXX", tmp);
	if (mkdtemp(*out) == NULL) {
		free(*out);
		*out = NULL;
		return xdc_error_sys(XDC_ERR,
		    "cannot make a directory in %s to check a signature", tmp);
	}
	return 0;
}

/* A new file of the private directory: no sync, it lives for a check. */
int
verify_put_file(
    const char *dir, const char *name, const void *buf, size_t len, char **path)
{
	const char *p;
	char *file = NULL;
	ssize_t n;
	int fd, rc = 0;

	xdc_asprintf(&file, "%s/%s", dir, name);
	fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = xdc_error_sys(XDC_ERR, "cannot create %s", file);
		goto out;
	}
	for (p = buf; len > 0; p += n, len -= (size_t)n)
		if ((n = write(fd, p, len)) < 0 && errno != EINTR) {
			rc = xdc_error_sys(XDC_ERR, "cannot write %s", file);
			break;
		} else if (n < 0) {
			n = 0;
		}
	if (close(fd) < 0 && rc == 0)
		rc = xdc_error_sys(XDC_ERR, "cannot write %s", file);
	if (rc == 0 && path != NULL) {
		*path = file;
		file = NULL;
	}
out:
	free(file);
	return rc;
}

/* ---- Running a tool --------------------------------------------------- */

void
verify_tool_free(struct tool *t)
{
	free(t->tl_out);
	free(t->tl_err);
	memset(t, 0, sizeof(*t));
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Keep what fits of what fd has; 0 at EOF. */
static int
drain(int fd, char **buf, size_t *len)
{
	char chunk[4096];
	ssize_t n = read(fd, chunk, sizeof(chunk));
	size_t keep;

	if (n <= 0)
		return n < 0 && (errno == EINTR || errno == EAGAIN) ? 1 : 0;
	keep = *len + (size_t)n > VERIFY_OUT_MAX ? VERIFY_OUT_MAX - *len
	                                         : (size_t)n;
	if (keep > 0) {
		*buf = realloc(*buf, *len + keep + 1);
		if (*buf == NULL)
			abort();
		memcpy(*buf + *len, chunk, keep);
		*len += keep;
		(*buf)[*len] = '\0';
	}
	return 1;
}

/*
 * Run argv (argv[0] found on PATH) with stdin from the file in (NULL:
 * /dev/null), without a shell, for at most VERIFY_TOOL_MS, or until
 * *cancel (when not NULL) is set, seen within VERIFY_POLL_MS; it inherits
 * no signal mask (the loop blocks some for its signalfd) and no open
 * descriptor but 0, 1 and 2.
 */
int
verify_tool_run(char *const argv[], const char *in, const atomic_int *cancel,
    struct tool *t)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	struct pollfd pfd[2];
	sigset_t none, dfl;
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, st, rc, open_fds;
	int64_t deadline;
	pid_t pid = -1;

	memset(t, 0, sizeof(*t));
	t->tl_out = xdc_strdup("");
	t->tl_err = xdc_strdup("");
	if (cancel != NULL && atomic_load(cancel))
		return xdc_error(XDC_ERR, "the check was cancelled");
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
		rc = xdc_error_sys(XDC_ERR, "cannot run %s", argv[0]);
		goto out;
	}
	posix_spawn_file_actions_addopen(
	    &fa, 0, in != NULL ? in : "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err[1], 2);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGCHLD);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	posix_spawnattr_setflags(
	    &attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	if ((rc = posix_spawnp(&pid, argv[0], &fa, &attr, argv, environ)) !=
	    0) {
		pid = -1;
		errno = rc;
		rc = xdc_error_sys(XDC_ERR, "cannot run %s", argv[0]);
		goto out;
	}
	close(out[1]);
	close(err[1]);
	out[1] = err[1] = -1;

	deadline = now_ms() + VERIFY_TOOL_MS;
	open_fds = 2;
	pfd[0].fd = out[0];
	pfd[1].fd = err[0];
	while (open_fds > 0) {
		int64_t left = deadline - now_ms();
		int i;

		if (left <= 0) {
			kill(pid, SIGKILL);
			rc = xdc_error(XDC_ERR,
			    "%s did not finish within %d s; killed", argv[0],
			    VERIFY_TOOL_MS / 1000);
			goto out;
		}
		if (cancel != NULL && atomic_load(cancel)) {
			kill(pid, SIGKILL);
			rc = xdc_error(XDC_ERR, "the check was cancelled");
			goto out;
		}
		if (cancel != NULL && left > VERIFY_POLL_MS)
			left = VERIFY_POLL_MS;
		pfd[0].events = pfd[1].events = POLLIN;
		if (poll(pfd, 2, (int)left) < 0 && errno != EINTR) {
			kill(pid, SIGKILL);
			rc = xdc_error_sys(XDC_ERR, "poll");
			goto out;
		}
		for (i = 0; i < 2; i++) {
			if (pfd[i].fd < 0 || pfd[i].revents == 0)
				continue;
			if (!drain(pfd[i].fd, i == 0 ? &t->tl_out : &t->tl_err,
			        i == 0 ? &t->tl_outlen : &t->tl_errlen)) {
				pfd[i].fd = -1;
				open_fds--;
			}
		}
	}
	rc = 0;
out:
	if (pid > 0) {
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		t->tl_status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	}
	if (out[0] >= 0)
		close(out[0]);
	if (out[1] >= 0)
		close(out[1]);
	if (err[0] >= 0)
		close(err[0]);
	if (err[1] >= 0)
		close(err[1]);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	return rc;
}

/* Whether name is a program on PATH, as posix_spawnp would find it. */
int
verify_on_path(const char *name)
{
	const char *path = getenv("PATH"), *s, *e;
	char *p = NULL;
	int found = 0;

	if (path == NULL)
		path = "/usr/bin:/bin";
	for (s = path; !found; s = e + 1) {
		e = strchrnul(s, ':');
		xdc_asprintf(
		    &p, "%.*s/%s", (int)(e - s), e == s ? "." : s, name);
		found = access(p, X_OK) == 0;
		free(p);
		if (*e == '\0')
			break;
	}
	return found;
}

/* The first line of s (a tool's stderr), for a message; borrowed. */
const char *
verify_first_line(char *s)
{
	s[strcspn(s, "\r\n")] = '\0';
	return s;
}

/* ---- Messages --------------------------------------------------------- */

int
verify_refuse(struct finding *f, enum verify_reason *reason)
{
	const char *d = f->fd_detail, *sep = d != NULL ? " (" : "";
	const char *close = d != NULL ? ")" : "";
	char *key = NULL;
	int rc;

	/* " key X" when the key could be named, else " key". */
	xdc_asprintf(&key, " key%s%s", f->fd_key != NULL ? " " : "",
	    f->fd_key != NULL ? f->fd_key : "");
	*reason = f->fd_reason;
	if (d == NULL)
		d = "";
	switch (f->fd_reason) {
	case VERIFY_UNKNOWN_KEY:
		if (f->fd_file == NULL)
			rc = xdc_error(XDC_EUNVERIFIED,
			    "unable to verify %s with any of the given keys: "
			    "it is signed by %s%s, and no %s file is given",
			    f->fd_what, f->fd_kind, key, f->fd_flag);
		else
			rc = xdc_error(XDC_EUNVERIFIED,
			    "unable to verify %s with any of the given keys: "
			    "it is signed by %s%s, which is not in %s%s%s%s",
			    f->fd_what, f->fd_kind, key, f->fd_file, sep, d,
			    close);
		break;
	case VERIFY_EXPIRED_KEY:
		rc = xdc_error(XDC_EUNVERIFIED,
		    "%s is signed by %s%s, which has expired%s%s%s", f->fd_what,
		    f->fd_kind, key, sep, d, close);
		break;
	case VERIFY_REVOKED_KEY:
		rc = xdc_error(XDC_EUNVERIFIED,
		    "%s is signed by %s%s, which is revoked%s%s%s", f->fd_what,
		    f->fd_kind, key, sep, d, close);
		break;
	default:
		*reason = VERIFY_BAD_SIGNATURE;
		rc = xdc_error(XDC_EUNVERIFIED,
		    "bad signature: %s does not match its %s "
		    "signature%s%s%s%s%s",
		    f->fd_what, f->fd_kind, f->fd_key != NULL ? " by" : "",
		    f->fd_key != NULL ? key : "", sep, d, close);
		break;
	}
	free(key);
	return rc;
}
