/*
 * xdc status [--json]: what the running loop last did, from the status file
 * it writes in the state directory (docs/status.md): a summary, or the
 * file itself with --json. Whether a loop still runs is told by its lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "reconciler/cli.h"
#include "reconciler/source.h"
#include "reconciler/status.h"
#include "base/error.h"

enum { OPT_JSON = 5000 };

static int
status_opt(struct cli *cli, int c, const char *arg, void *v)
{
	(void)cli;
	(void)arg;
	if (c != OPT_JSON)
		return -1;
	*(int *)v = 1;
	return 0;
}

/* Whether an xdc run holds the state directory's lock: 1, 0, or -1. */
static int
loop_running(const char *dir)
{
	char *path = NULL;
	int fd, rc = -1;

	xdc_asprintf(&path, "%s/lock", dir);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		if (flock(fd, LOCK_SH | LOCK_NB) == 0)
			rc = 0;
		else if (errno == EWOULDBLOCK)
			rc = 1;
		close(fd);
	} else if (errno == ENOENT) {
		rc = 0;
	}
	free(path);
	return rc;
}

/* Says that no xdc run holds dir's lock, and since when it has not. */
static void
not_running(const struct cli *cli, const char *dir, const char *path)
{
	struct stat st;
	struct tm tm;
	char when[32];

	if (stat(path, &st) != 0 || gmtime_r(&st.st_mtime, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		fprintf(stderr,
		    "%s: xdc run is not running in %s (nothing holds "
		    "%s/lock): this status is not kept up to date\n",
		    cli->cl_prog, dir, dir);
		return;
	}
	fprintf(stderr,
	    "%s: xdc run is not running in %s (nothing holds %s/lock); "
	    "it last wrote this status at %s, %.0f s ago, and has not "
	    "kept it up to date since\n",
	    cli->cl_prog, dir, dir, when, difftime(time(NULL), st.st_mtime));
}

/*
 * The status file, whole, in a buffer the caller frees. A status file is
 * small (its lists are capped), so anything over STATUS_READ_MAX is not one.
 */
#define STATUS_READ_MAX (16 * 1024 * 1024)

static int
read_status(const char *path, char **out, size_t *len)
{
	FILE *fp = fopen(path, "re");
	size_t cap = 0, n = 0, got;
	char *buf = NULL;
	int rc = 0;

	*out = NULL;
	if (fp == NULL)
		return xdc_error_sys(XDC_ERR, "cannot read %s", path);
	do {
		if (n == cap) {
			cap = cap ? cap * 2 : 64 * 1024;
			buf = xdc_reallocarray(buf, cap, 1);
		}
		got = fread(buf + n, 1, cap - n, fp);
		n += got;
	} while (got > 0 && n <= STATUS_READ_MAX);
	if (ferror(fp))
		rc = xdc_error_sys(XDC_ERR, "cannot read %s", path);
	else if (n > STATUS_READ_MAX)
		rc = xdc_error(
		    XDC_ERR, "%s: not a status file: over 16MiB", path);
	fclose(fp);
	if (rc != 0) {
		free(buf);
		return rc;
	}
	*out = buf;
	*len = n;
	return 0;
}

int
cmd_status(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ NULL, 0, NULL, 0 },
	};
	char *dir = NULL, *path = NULL, *text = NULL;
	size_t len = 0;
	int rc, json = 0, running, exit_code = XDC_EXIT_ERROR;

	if ((rc = cli_parse(
	         cli, argc, argv, NULL, longopts, status_opt, &json, NULL, 0)))
		return rc > 0 ? XDC_EXIT_OK : XDC_EXIT_ERROR;
	if (source_state_dir(cli, &dir) != 0) {
		fprintf(stderr, "%s: %s\n", cli->cl_prog, xdc_error_last());
		goto out;
	}
	xdc_asprintf(&path, "%s/%s", dir, STATUS_FILE);
	if (access(path, F_OK) != 0) {
		fprintf(stderr,
		    "%s: no status in %s: xdc run has not "
		    "run there (see --state-dir)\n",
		    cli->cl_prog, dir);
		goto out;
	}
	if (read_status(path, &text, &len) != 0) {
		fprintf(stderr, "%s: %s\n", cli->cl_prog, xdc_error_last());
		goto out;
	}
	running = loop_running(dir);
	rc = status_print(stdout, text, len, dir, json ? -1 : running, json);
	if (rc < 0) {
		fprintf(stderr, "%s: %s: %s\n", cli->cl_prog, path,
		    xdc_error_last());
		goto out;
	}
	if (fflush(stdout) != 0)
		goto out;
	/*
	 * A status whose writer is gone says what was, not what is: a
	 * "converged" of an agent killed an hour ago is no longer true.
	 */
	if (running == 0) {
		not_running(cli, dir, path);
		goto out;
	}
	exit_code = rc == 0 ? XDC_EXIT_OK : XDC_EXIT_ERROR;
out:
	free(text);
	free(path);
	free(dir);
	return exit_code;
}
