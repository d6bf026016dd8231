/*
 * xdc sim: inspect and disturb the simulated pool, for tests, demos and CI
 * drills: show it, crash a domain, make the next actions on an object fail
 * or take their time, start a domain xdc does not own, cut a host's power
 * as a fence does. Always the sim driver, on the --state file, whatever
 * machine this is.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/driver.h"
#include "drivers/sim.h"
#include "reconciler/cli.h"
#include "reconciler/show.h"
#include "base/error.h"
#include "schema/model.h"
#include "schema/values.h"

#define SIM_ARGS_MAX 16 /* words after `xdc sim`, options included */

struct sim_opts {
	const char *so_times;  /* --times, as given */
	const char *so_memory; /* --memory, as given */
	int so_json;           /* --json */
	/* Parsed from the words above by sim_check. */
	unsigned so_ntimes;
	uint64_t so_bytes;
	uint64_t so_ms; /* slow's DURATION */
	enum xdc_op so_op;
};

struct sim_sub {
	const char *ss_name;
	int ss_nargs; /* NAME, OP NAME, or OP NAME DURATION */
	const char *ss_usage;
	int (*ss_fn)(struct cli *, struct xdc_driver *, const char **,
	    const struct sim_opts *);
};

static int usage_error(struct cli *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static int
usage_error(struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s sim: ", cli->cl_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	/* The usage line only: the mistake should not scroll away. */
	fprintf(stderr, "\nusage: %s %s\n", cli->cl_prog,
	    cli->cl_cmd != NULL ? cli->cl_cmd->c_usage : "sim ...");
	return XDC_EXIT_ERROR;
}

static int
sim_failed(struct cli *cli)
{
	fprintf(stderr, "%s sim: %s\n", cli->cl_prog, xdc_error_last());
	return XDC_EXIT_ERROR;
}

static int
sub_show(struct cli *cli, struct xdc_driver *drv, const char **args,
    const struct sim_opts *o)
{
	(void)args;
	return show_run(cli, drv, o->so_json);
}

static int
sub_crash(struct cli *cli, struct xdc_driver *drv, const char **args,
    const struct sim_opts *o)
{
	(void)o;
	if (sim_crash(drv, args[0]) != 0)
		return sim_failed(cli);
	cli_log(cli, "sim: %s crashed", args[0]);
	return XDC_EXIT_OK;
}

static int
sub_fail(struct cli *cli, struct xdc_driver *drv, const char **args,
    const struct sim_opts *o)
{
	if (sim_fail(drv, o->so_op, args[1], o->so_ntimes) != 0)
		return sim_failed(cli);
	if (o->so_ntimes == 0)
		cli_log(cli, "sim: %s %s no longer fails", args[0], args[1]);
	else
		cli_log(cli, "sim: %s %s will fail %u time%s", args[0], args[1],
		    o->so_ntimes, o->so_ntimes == 1 ? "" : "s");
	return XDC_EXIT_OK;
}

/* A duration as sim_check read it: "3s", "1500ms", "2m", "1h". */
static const char *
ms_fmt(uint64_t ms, char *buf, size_t len)
{
	if (ms % 3600000 == 0 && ms > 0)
		snprintf(buf, len, "%lluh", (unsigned long long)(ms / 3600000));
	else if (ms % 60000 == 0 && ms > 0)
		snprintf(buf, len, "%llum", (unsigned long long)(ms / 60000));
	else if (ms % 1000 == 0)
		snprintf(buf, len, "%llus", (unsigned long long)(ms / 1000));
	else
		snprintf(buf, len, "%llums", (unsigned long long)ms);
	return buf;
}

static const char *
times_fmt(unsigned times, char *buf, size_t len)
{
	if (times == 1)
		return "once";
	snprintf(buf, len, "%u times", times);
	return buf;
}

static int
sub_slow(struct cli *cli, struct xdc_driver *drv, const char **args,
    const struct sim_opts *o)
{
	char d[32], n[32];

	if (sim_delay(drv, o->so_op, args[1], o->so_ms, o->so_ntimes) != 0)
		return sim_failed(cli);
	if (o->so_ntimes == 0 || o->so_ms == 0)
		cli_log(cli, "sim: %s %s no longer takes its time", args[0],
		    args[1]);
	else
		cli_log(cli, "sim: %s %s will take %s, %s", args[0], args[1],
		    ms_fmt(o->so_ms, d, sizeof(d)),
		    times_fmt(o->so_ntimes, n, sizeof(n)));
	return XDC_EXIT_OK;
}

static int
sub_add(struct cli *cli, struct xdc_driver *drv, const char **args,
    const struct sim_opts *o)
{
	char size[XDC_SIZE_BUFSZ];

	if (sim_add_unmanaged(drv, args[0], o->so_bytes, cli->cl_host) != 0)
		return sim_failed(cli);
	cli_log(cli, "sim: %s (%s) runs unmanaged", args[0],
	    xdc_size_fmt(o->so_bytes, size));
	return XDC_EXIT_OK;
}

/*
 * A fence's stand-in (SPEC §8): the host's domains are gone, each named
 * on stdout, and exit 0 says the host is off; a host the pool file does
 * not hold is a fence that failed.
 */
static int
sub_power_off(struct cli *cli, struct xdc_driver *drv, const char **args,
    const struct sim_opts *o)
{
	char **gone = NULL;
	size_t i;

	(void)o;
	if (sim_power_off(drv, args[0], &gone) != 0)
		return sim_failed(cli);
	for (i = 0; gone[i] != NULL; i++)
		printf("%s\n", gone[i]);
	cli_log(cli,
	    "sim: host %s powered off: %zu domain%s gone; it boots "
	    "again with Domain-0 alone",
	    args[0], i, i == 1 ? "" : "s");
	free(gone);
	return XDC_EXIT_OK;
}

static const struct sim_sub sim_subs[] = {
	{ "show", 0, "show [--json]", sub_show },
	{ "crash", 1, "crash NAME", sub_crash },
	{ "fail", 2, "fail OP NAME [--times N]", sub_fail },
	{ "slow", 3, "slow OP NAME DURATION [--times N]", sub_slow },
	{ "add-unmanaged", 1, "add-unmanaged NAME --memory SIZE [--host H]",
	    sub_add },
	{ "power-off", 1, "power-off HOST", sub_power_off },
	{ NULL, 0, NULL, NULL },
};

enum { OPT_TIMES = 2100, OPT_MEMORY, OPT_JSON };

static const struct option sim_longopts[] = {
	{ "times", required_argument, NULL, OPT_TIMES },
	{ "memory", required_argument, NULL, OPT_MEMORY },
	{ "json", no_argument, NULL, OPT_JSON },
	{ NULL, 0, NULL, 0 },
};

static int
sim_opt(struct cli *cli, int c, const char *optarg, void *arg)
{
	struct sim_opts *o = arg;

	(void)cli;
	switch (c) {
	case OPT_TIMES:
		o->so_times = optarg;
		return 0;
	case OPT_MEMORY:
		o->so_memory = optarg;
		return 0;
	case OPT_JSON:
		o->so_json = 1;
		return 0;
	default:
		return -1;
	}
}

/* The subcommand and its operands, wherever options stand among them. */
static int
sim_parse(struct cli *cli, int argc, char **argv, struct sim_opts *o,
    const char **pos, int *npos)
{
	int rc;

	*npos = 0;
	if ((rc = cli_parse(cli, argc, argv, NULL, sim_longopts, sim_opt, o,
	         pos, SIM_ARGS_MAX)))
		return rc;
	while (*npos < SIM_ARGS_MAX && pos[*npos] != NULL)
		(*npos)++;
	return 0;
}

/*
 * "1500ms", "3s", "2m", "1h"; a bare number is seconds. At most 24h: 0
 * and NULL on success, else what is wrong.
 */
static const char *
parse_duration(const char *s, uint64_t *ms)
{
	static const struct {
		const char *u_name;
		uint64_t u_ms;
	} units[] = { { "ms", 1 }, { "s", 1000 }, { "m", 60000 },
		{ "h", 3600000 }, { "", 1000 } };
	const uint64_t max = 24ULL * 3600000;
	unsigned long long v;
	char *end;
	size_t i;

	if (*s < '0' || *s > '9')
		return "expected a duration such as 3s, 1500ms or 2m";
	errno = 0;
	v = strtoull(s, &end, 10);
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].u_name) != 0)
			continue;
		if (errno != 0 || v > max / units[i].u_ms)
			return "an action may take 24h at most";
		*ms = v * units[i].u_ms;
		return NULL;
	}
	return "expected a duration such as 3s, 1500ms or 2m";
}

/* Check the words before touching the pool: a mistake changes nothing. */
static int
sim_check(struct cli *cli, const struct sim_sub *ss, const char **args,
    struct sim_opts *o)
{
	const char *why;
	uint64_t n;
	unsigned op;

	if (o->so_times != NULL && strcmp(ss->ss_name, "fail") != 0 &&
	    strcmp(ss->ss_name, "slow") != 0)
		return usage_error(cli, "--times goes with fail and slow only");
	if (o->so_memory != NULL && strcmp(ss->ss_name, "add-unmanaged") != 0)
		return usage_error(
		    cli, "--memory goes with add-unmanaged only");
	if (o->so_json && strcmp(ss->ss_name, "show") != 0)
		return usage_error(cli, "--json goes with show only");
	if (!strcmp(ss->ss_name, "slow") &&
	    (why = parse_duration(args[2], &o->so_ms)) != NULL)
		return usage_error(
		    cli, "DURATION: %s, got \"%s\"", why, args[2]);
	if (!strcmp(ss->ss_name, "fail") || !strcmp(ss->ss_name, "slow")) {
		for (op = 0; op < XDC_OP__COUNT; op++)
			if (!strcmp(args[0], xdc_op_name((enum xdc_op)op)))
				break;
		if (op == XDC_OP__COUNT)
			return usage_error(cli,
			    "unknown operation \"%s\" "
			    "(expected create, update, "
			    "replace, destroy, start, "
			    "stop, pause, unpause or "
			    "restart)",
			    args[0]);
		o->so_op = (enum xdc_op)op;
		o->so_ntimes = 1;
		if (o->so_times != NULL) {
			if (xdc_parse_uint(o->so_times, UINT_MAX, &n) != NULL)
				return usage_error(cli,
				    "--times: expected a "
				    "count, got \"%s\"",
				    o->so_times);
			o->so_ntimes = (unsigned)n;
		}
	}
	if (!strcmp(ss->ss_name, "add-unmanaged")) {
		if (o->so_memory == NULL)
			return usage_error(
			    cli, "add-unmanaged needs --memory SIZE");
		if (xdc_parse_size(o->so_memory, &o->so_bytes) != NULL ||
		    o->so_bytes == 0)
			return usage_error(cli,
			    "--memory: expected a size "
			    "such as 512MiB, got \"%s\"",
			    o->so_memory);
	}
	return 0;
}

int
cmd_sim(struct cli *cli, int argc, char **argv)
{
	const char *args[SIM_ARGS_MAX] = { NULL };
	const struct sim_sub *ss;
	struct xdc_driver *drv = NULL;
	struct sim_opts o;
	int rc, nargs, exit_code = XDC_EXIT_ERROR;

	memset(&o, 0, sizeof(o));
	if ((rc = sim_parse(cli, argc, argv, &o, args, &nargs)))
		return rc > 0 ? XDC_EXIT_OK : XDC_EXIT_ERROR;
	if (nargs == 0)
		return usage_error(cli, "which subcommand?");
	for (ss = sim_subs; ss->ss_name != NULL; ss++)
		if (!strcmp(args[0], ss->ss_name))
			break;
	if (ss->ss_name == NULL)
		return usage_error(cli, "unknown subcommand \"%s\"", args[0]);
	if (nargs - 1 != ss->ss_nargs)
		return usage_error(cli, "%s takes %d argument%s: %s",
		    ss->ss_name, ss->ss_nargs, ss->ss_nargs == 1 ? "" : "s",
		    ss->ss_usage);
	if (sim_check(cli, ss, args + 1, &o) != 0)
		goto out;
	/* Whatever the machine runs: `xdc sim` is about the simulation. */
	cli->cl_driver = "sim";
	if (cli_open_driver(cli, NULL, NULL, &drv) != 0) {
		sim_failed(cli);
		goto out;
	}
	exit_code = ss->ss_fn(cli, drv, args + 1, &o);
out:
	if (drv != NULL)
		drv->free(drv);
	return exit_code;
}
