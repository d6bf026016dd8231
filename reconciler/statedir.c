/*
 * The state directory's checks and its lock (see statedir.h). The lock
 * file is created with O_EXCL or opened with O_NOFOLLOW, and written only
 * once fstat has shown a regular file of the user's own with one link:
 * a symbolic or hard link planted at STATE_DIR/lock can never make xdc
 * truncate or overwrite its target.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "reconciler/statedir.h"

int
statedir_check(const char *dir)
{
	struct stat st;

	if (stat(dir, &st) < 0)
		return errno == ENOENT
		           ? xdc_error(XDC_ERR,
		                 "the state directory %s does not exist", dir)
		           : xdc_error_sys(XDC_ERR, "%s", dir);
	if (!S_ISDIR(st.st_mode))
		return xdc_error(
		    XDC_ERR, "%s: the state directory is not a directory", dir);
	if (st.st_uid != geteuid())
		return xdc_error(XDC_ERR,
		    "%s: the state directory belongs to uid %u, not to uid "
		    "%u who runs xdc; whoever controls it controls the git "
		    "cache, and so the configuration: use a directory of "
		    "your own (--state-dir)",
		    dir, (unsigned)st.st_uid, (unsigned)geteuid());
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return xdc_error(XDC_ERR,
		    "%s: the state directory is writable by %s (mode %04o); "
		    "whoever can write it controls the git cache, and so the "
		    "configuration: chmod go-w %s",
		    dir, (st.st_mode & S_IWOTH) ? "every user" : "its group",
		    (unsigned)(st.st_mode & 07777), dir);
	return 0;
}

/* Who holds the lock, from what it says: "pid N, xdc CMD". */
static void
holder(int fd, char *buf, size_t size)
{
	char text[64], cmd[16];
	long pid;
	ssize_t n;

	n = pread(fd, text, sizeof(text) - 1, 0);
	text[n > 0 ? n : 0] = '\0';
	cmd[0] = '\0';
	if (sscanf(text, "%ld %15[a-z]", &pid, cmd) >= 1 && pid > 0)
		snprintf(
		    buf, size, "xdc %s (pid %ld)", cmd[0] ? cmd : "run", pid);
	else
		snprintf(buf, size, "another xdc (pid unknown)");
}

int
statedir_lock(const char *dir, const char *command, int *fd)
{
	char *path = NULL, text[64], who[64];
	struct stat st;
	int rc, created = 1;

	*fd = -1;
	if ((rc = statedir_check(dir)) != 0)
		return rc;
	xdc_asprintf(&path, "%s/%s", dir, STATEDIR_LOCK_FILE);
	*fd = open(
	    path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (*fd < 0 && errno == EEXIST) {
		created = 0;
		*fd = open(path, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	}
	if (*fd < 0) {
		rc = errno == ELOOP
		         ? xdc_error(XDC_ERR,
		               "%s is a symbolic link: refused, as xdc "
		               "would write through it; remove it",
		               path)
		         : xdc_error_sys(XDC_ERR, "cannot open %s", path);
		goto out;
	}
	if (fstat(*fd, &st) < 0) {
		rc = xdc_error_sys(XDC_ERR, "%s", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1 ||
	    st.st_uid != geteuid()) {
		rc = xdc_error(XDC_ERR,
		    "%s is not a regular file of uid %u's own with one link: "
		    "refused, as xdc would write to it; remove it",
		    path, (unsigned)geteuid());
		goto out;
	}
	/*
	 * 0644 whatever the umask, for xdc status run by another user to ask
	 * the lock whether a loop runs; a lock file that exists keeps the
	 * mode its owner gave it.
	 */
	if (created && fchmod(*fd, 0644) < 0) {
		rc = xdc_error_sys(XDC_ERR, "cannot chmod %s", path);
		goto out;
	}
	if (flock(*fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK) {
			rc = xdc_error_sys(XDC_ERR, "cannot lock %s", path);
			goto out;
		}
		holder(*fd, who, sizeof(who));
		rc = xdc_error(XDC_ERR,
		    "%s is held by %s: one xdc at a time acts on a state "
		    "directory",
		    path, who);
		goto out;
	}
	/* Written, then cut to length: never empty while it is held. */
	snprintf(text, sizeof(text), "%ld %s\n", (long)getpid(), command);
	if (pwrite(*fd, text, strlen(text), 0) < 0 ||
	    ftruncate(*fd, (off_t)strlen(text)) < 0) {
		rc = xdc_error_sys(XDC_ERR, "cannot write %s", path);
		goto out;
	}
	rc = 0;
out:
	if (rc != 0 && *fd >= 0) {
		close(*fd);
		*fd = -1;
	}
	free(path);
	return rc;
}
