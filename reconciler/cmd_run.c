/*
 * xdc run [PATH] [--interval 60s] [--max-destroy N] [--force]: the
 * continuous loop, in the foreground (loop.c does the work).
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconciler/cli.h"
#include "reconciler/loop.h"
#include "base/error.h"
#include "schema/schema.h"
#include "schema/values.h"

#define RUN_INTERVAL_MIN_MS 100
#define RUN_INTERVAL_MAX_MS (7LL * 24 * 3600 * 1000)

enum { OPT_INTERVAL = 4000, OPT_MAX_DESTROY, OPT_FORCE };

/* "60s", "500ms", "5m", "1h", "7d"; a bare number is seconds. */
static int
parse_interval(const char *s, int64_t *out)
{
	static const struct {
		const char *u_name;
		int64_t u_ms;
	} units[] = { { "ms", 1 }, { "s", 1000 }, { "m", 60000 },
		{ "h", 3600000 }, { "d", 86400000 }, { "", 1000 } };
	char *end;
	unsigned long long v;
	size_t i;

	if (*s < '0' || *s > '9')
		return -1;
	v = strtoull(s, &end, 10);
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].u_name) != 0)
			continue;
		if (v >
		    (unsigned long long)(RUN_INTERVAL_MAX_MS / units[i].u_ms))
			return -1;
		*out = (int64_t)v * units[i].u_ms;
		return *out >= RUN_INTERVAL_MIN_MS &&
		               *out <= RUN_INTERVAL_MAX_MS
		           ? 0
		           : -1;
	}
	return -1;
}

static int
run_opt(struct cli *cli, int c, const char *arg, void *v)
{
	struct loop_opts *lo = v;

	switch (c) {
	case OPT_INTERVAL:
		if (parse_interval(arg, &lo->lo_interval_ms) != 0) {
			fprintf(stderr,
			    "%s run: --interval: expected a duration from "
			    "100ms to 7d such as 60s, 5m, 1h or 1d, got "
			    "\"%s\"\n",
			    cli->cl_prog, arg);
			return -1;
		}
		return 0;
	case OPT_MAX_DESTROY:
		return cli_max_destroy(cli, arg, &lo->lo_max_destroy);
	case OPT_FORCE:
		lo->lo_force = 1;
		return 0;
	}
	return -1;
}

int
cmd_run(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "interval", required_argument, NULL, OPT_INTERVAL },
		{ "max-destroy", required_argument, NULL, OPT_MAX_DESTROY },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ NULL, 0, NULL, 0 },
	};
	struct loop_opts lo;
	const char *path = NULL;
	int rc;

	memset(&lo, 0, sizeof(lo));
	lo.lo_interval_ms = LOOP_INTERVAL_MS;
	lo.lo_max_destroy = -1;
	if ((rc = cli_parse(
	         cli, argc, argv, NULL, longopts, run_opt, &lo, &path, 1)))
		return rc > 0 ? XDC_EXIT_OK : XDC_EXIT_ERROR;
	/* A pipe is read once; the loop reads PATH again at every change. */
	if (path != NULL && cli->cl_git == NULL &&
	    !strcmp(path, XDC_STDIN_PATH)) {
		fprintf(stderr,
		    "%s run: PATH %s: the loop reads its configuration again "
		    "at every change, and a stream can be read only once\n",
		    cli->cl_prog, path);
		return XDC_EXIT_ERROR;
	}
	/* With --git, PATH is inside the repository: all of it by default. */
	lo.lo_path = path != NULL ? path : (cli->cl_git != NULL ? NULL : ".");
	if (loop_run(cli, &lo) != 0) {
		fprintf(stderr, "%s run: %s\n", cli->cl_prog, xdc_error_last());
		return XDC_EXIT_ERROR;
	}
	return XDC_EXIT_OK;
}
