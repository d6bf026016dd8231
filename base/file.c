/*
 * Whole files (see file.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "base/file.h"

#define TMP_INFIX  ".tmp-"
#define TMP_SUFFIX "XXXXXX"

const char *
xdc_file_kind(const struct stat *st)
{
	switch (st->st_mode & S_IFMT) {
	case S_IFREG:
		return "a regular file";
	case S_IFDIR:
		return "a directory";
	case S_IFIFO:
		return "a FIFO";
	case S_IFCHR:
		return "a character device";
	case S_IFBLK:
		return "a block device";
	case S_IFSOCK:
		return "a socket";
	case S_IFLNK:
		return "a symbolic link";
	}
	return "not a regular file";
}

int
xdc_file_read(
    const char *path, size_t limit, unsigned flags, char **buf, size_t *len)
{
	struct stat st;
	char *b = NULL;
	size_t off = 0, cap;
	ssize_t r;
	int fd = -1, rc, stream;

	*buf = NULL;
	*len = 0;
	/*
	 * O_NONBLOCK: opening a FIFO without a writer would wait for one.
	 * Whether to read it at all is decided once it is open.
	 */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)) <
	    0) {
		rc = xdc_error_sys(
		    errno == ENOENT ? XDC_ENOTFOUND : XDC_ERR, "%s", path);
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		rc = xdc_error_sys(XDC_ERR, "%s", path);
		goto out;
	}
	stream =
	    S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode) || S_ISSOCK(st.st_mode);
	if (!S_ISREG(st.st_mode) && !(stream && (flags & XDC_FILE_STREAM))) {
		rc = xdc_error(XDC_ERR,
		    "%s: is %s, not a regular file; refusing to read it", path,
		    xdc_file_kind(&st));
		goto out;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		rc = xdc_error_sys(XDC_ERR, "%s", path);
		goto out;
	}
	/* Past the limit, only the size matters: the caller refuses it. */
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > limit) {
		*len = (size_t)st.st_size;
		rc = 0;
		goto out;
	}
	/* st_size is a hint: 0 for a pipe or /proc, stale if it grows. */
	cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1
	                                            : 4096;
	b = xdc_malloc(cap + 1);
	for (;;) {
		if (off == cap) {
			if (cap > limit) {
				*len = off;
				rc = 0;
				goto out;
			}
			cap *= 2;
			b = xdc_reallocarray(b, cap + 1, 1);
		}
		r = read(fd, b + off, cap - off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = xdc_error_sys(XDC_ERR, "%s", path);
			goto out;
		}
		if (r == 0)
			break;
		off += (size_t)r;
	}
	if (off > limit) {
		*len = off;
		rc = 0;
		goto out;
	}
	b[off] = '\0';
	*buf = b;
	*len = off;
	b = NULL;
	rc = 0;
out:
	free(b);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* path's directory and base name, each a new string. */
static void
split(const char *path, char **dir, char **base)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL) {
		*dir = xdc_strdup(".");
		*base = xdc_strdup(path);
	} else {
		xdc_asprintf(
		    dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
		*base = xdc_strdup(slash + 1);
	}
}

int
xdc_file_replace(
    const char *path, mode_t mode, int (*fn)(void *, FILE *), void *arg)
{
	char *dir = NULL, *base = NULL, *tmp = NULL;
	FILE *fp = NULL;
	int fd = -1, rc;

	split(path, &dir, &base);
	xdc_asprintf(&tmp, "%s/.%s" TMP_INFIX TMP_SUFFIX, dir, base);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		rc = xdc_error_sys(
		    XDC_ERR, "cannot create a file beside %s", path);
		free(tmp);
		tmp = NULL;
		goto out;
	}
	if (fchmod(fd, mode) < 0 || (fp = fdopen(fd, "w")) == NULL) {
		rc = xdc_error_sys(XDC_ERR, "cannot write %s", tmp);
		goto out;
	}
	fd = -1; /* fp owns it */
	if ((rc = fn(arg, fp)) != 0)
		goto out;
	if (fflush(fp) != 0 || fsync(fileno(fp)) != 0) {
		rc = xdc_error_sys(XDC_ERR, "cannot write %s", tmp);
		goto out;
	}
	rc = fclose(fp);
	fp = NULL;
	if (rc != 0) {
		rc = xdc_error_sys(XDC_ERR, "cannot write %s", tmp);
		goto out;
	}
	if (rename(tmp, path) < 0) {
		rc =
		    xdc_error_sys(XDC_ERR, "cannot rename %s to %s", tmp, path);
		goto out;
	}
	free(tmp);
	tmp = NULL;
	/* The rename is durable once the directory is. */
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (fsync(fd) < 0 && errno != EINVAL)) {
		rc =
		    xdc_error_sys(XDC_ERR, "cannot sync the directory %s", dir);
		goto out;
	}
	rc = 0;
out:
	if (fp != NULL)
		fclose(fp);
	if (fd >= 0)
		close(fd);
	if (tmp != NULL)
		unlink(tmp);
	free(tmp);
	free(dir);
	free(base);
	return rc;
}

struct bufarg {
	const void *b_buf;
	size_t b_len;
};

static int
write_buf(void *arg, FILE *fp)
{
	const struct bufarg *b = arg;

	if (b->b_len > 0 && fwrite(b->b_buf, 1, b->b_len, fp) != b->b_len)
		return xdc_error_sys(XDC_ERR, "cannot write");
	return 0;
}

int
xdc_file_replace_buf(const char *path, mode_t mode, const void *buf, size_t len)
{
	struct bufarg b = { buf, len };

	return xdc_file_replace(path, mode, write_buf, &b);
}

void
xdc_file_sweep(const char *path)
{
	char *dir = NULL, *base = NULL;
	const char *name, *rest;
	struct dirent *de;
	size_t n, i;
	DIR *d;

	split(path, &dir, &base);
	n = strlen(base);
	if ((d = opendir(dir)) == NULL)
		goto out;
	while ((de = readdir(d)) != NULL) {
		name = de->d_name;
		if (name[0] != '.' || strncmp(name + 1, base, n) != 0)
			continue;
		rest = name + 1 + n;
		if (strncmp(rest, TMP_INFIX, strlen(TMP_INFIX)) != 0)
			continue;
		rest += strlen(TMP_INFIX);
		if (strlen(rest) != strlen(TMP_SUFFIX))
			continue;
		/* mkostemp's letters: [A-Za-z0-9]. */
		for (i = 0; rest[i] != '\0'; i++)
			if (!((rest[i] >= 'a' && rest[i] <= 'z') ||
			        (rest[i] >= 'A' && rest[i] <= 'Z') ||
			        (rest[i] >= '0' && rest[i] <= '9')))
				break;
		if (rest[i] == '\0' && de->d_type != DT_DIR)
			unlinkat(dirfd(d), name, 0);
	}
	closedir(d);
out:
	free(dir);
	free(base);
}
