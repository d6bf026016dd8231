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
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "reconciler/cli.h"
#include "reconciler/source.h"
#include "reconciler/status.h"
#include "schema/error.h"

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

static const char *
str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

static void
print_items(const char *title, json_t *arr)
{
	json_t *it, *v;
	size_t i;

	if (json_array_size(arr) == 0)
		return;
	printf("%s:\n", title);
	json_array_foreach(arr, i, it)
	{
		printf("  %s %s %s on %s", str(it, "op"), str(it, "kind"),
		    str(it, "name"), str(it, "host"));
		if ((v = json_object_get(it, "state")) != NULL)
			printf(" [%s]", json_string_value(v));
		if ((v = json_object_get(it, "why")) != NULL)
			printf(": %s", json_string_value(v));
		putchar('\n');
	}
}

static void
print_errors(json_t *arr)
{
	json_t *e;
	size_t i;

	if (json_array_size(arr) == 0)
		return;
	printf("errors:\n");
	json_array_foreach(arr, i, e)
	{
		if (json_object_get(e, "file") != NULL)
			printf("  %s:%lld:%lld: error: %s\n", str(e, "file"),
			    (long long)json_integer_value(
			        json_object_get(e, "line")),
			    (long long)json_integer_value(
			        json_object_get(e, "col")),
			    str(e, "message"));
		else
			printf("  %s\n", str(e, "message"));
	}
}

static void
print_text(json_t *root, const char *dir, int running)
{
	json_t *src = json_object_get(root, "source");
	json_t *rej = json_object_get(root, "rejected");
	json_t *c = json_object_get(root, "counts");
	double age = difftime(time(NULL),
	    (time_t)json_number_value(json_object_get(root, "timestamp")));

	printf("xdc run in %s: %s", dir,
	    running > 0    ? "running"
	    : running == 0 ? "not running"
	                   : "unknown");
	printf(" (pid %lld",
	    (long long)json_integer_value(json_object_get(root, "pid")));
	if (json_is_string(json_object_get(root, "host")))
		printf(", host %s", str(root, "host"));
	printf(")\n");
	printf("last cycle: %s (%.0f s ago, %.3f s, trigger %s, cycle %lld)\n",
	    str(root, "time"), age,
	    json_number_value(json_object_get(root, "duration_seconds")),
	    str(root, "trigger"),
	    (long long)json_integer_value(json_object_get(root, "cycles")));
	printf("outcome: %s", str(root, "outcome"));
	if (json_is_string(json_object_get(root, "message")))
		printf(": %s", str(root, "message"));
	putchar('\n');
	printf("source: %s", json_is_string(json_object_get(src, "path"))
	                         ? str(src, "path")
	                         : "none");
	if (json_is_string(json_object_get(src, "commit")))
		printf(" commit %s", str(src, "commit"));
	putchar('\n');
	if (json_is_object(rej)) {
		printf("refused: %s", str(rej, "path"));
		if (json_is_string(json_object_get(rej, "commit")))
			printf(" commit %s", str(rej, "commit"));
		putchar('\n');
	}
	printf("actions: %lld planned, %lld done, %lld failed, %lld held, "
	       "%lld skipped, %lld for other hosts, %lld deferred\n",
	    (long long)json_integer_value(json_object_get(c, "planned")),
	    (long long)json_integer_value(json_object_get(c, "done")),
	    (long long)json_integer_value(json_object_get(c, "failed")),
	    (long long)json_integer_value(json_object_get(c, "held")),
	    (long long)json_integer_value(json_object_get(c, "skipped")),
	    (long long)json_integer_value(json_object_get(c, "other_hosts")),
	    (long long)json_integer_value(json_object_get(c, "deferred")));
	print_items("pending", json_object_get(root, "pending"));
	print_items("deferred", json_object_get(root, "deferred"));
	print_items("drift", json_object_get(root, "drift"));
	print_errors(json_object_get(root, "errors"));
}

int
cmd_status(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ NULL, 0, NULL, 0 },
	};
	json_error_t jerr;
	json_t *root = NULL;
	char *dir = NULL, *path = NULL;
	const char *outcome;
	int rc, json = 0, exit_code = XDC_EXIT_ERROR;

	if ((rc = cli_parse(
	         cli, argc, argv, NULL, longopts, status_opt, &json, NULL, 0)))
		return rc > 0 ? XDC_EXIT_OK : XDC_EXIT_ERROR;
	if (source_state_dir(cli, &dir) != 0) {
		fprintf(stderr, "%s: %s\n", cli->cl_prog, xdc_error_last());
		goto out;
	}
	xdc_asprintf(&path, "%s/%s", dir, STATUS_FILE);
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL || !json_is_object(root)) {
		if (access(path, F_OK) != 0)
			fprintf(stderr,
			    "%s: no status in %s: xdc run has not "
			    "run there (see --state-dir)\n",
			    cli->cl_prog, dir);
		else
			fprintf(stderr, "%s: %s: not a status file: %s\n",
			    cli->cl_prog, path, jerr.text);
		goto out;
	}
	if (json) {
		if (json_dumpf(root, stdout, JSON_INDENT(2)) != 0)
			goto out;
		putchar('\n');
	} else {
		print_text(root, dir, loop_running(dir));
	}
	if (fflush(stdout) != 0)
		goto out;
	outcome = str(root, "outcome");
	exit_code = !strcmp(outcome, "converged") ||
	                    !strcmp(outcome, "applied") ||
	                    !strcmp(outcome, "pending")
	                ? XDC_EXIT_OK
	                : XDC_EXIT_ERROR;
out:
	json_decref(root);
	free(path);
	free(dir);
	return exit_code;
}
