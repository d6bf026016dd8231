/*
 * The command table, option parsing shared by every command, and the entry
 * point. Each command lives in its own cmd_*.c file.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconciler/cli.h"
#include "schema/values.h"

#define COMMON_OPTIONS                                                         \
	"common options:\n"                                                    \
	"  --driver xen|sim     where domains go (default: xen where "         \
	"/proc/xen "                                                           \
	"or /dev/xen exists, else sim)\n"                                      \
	"  --net netlink|sim    where Networks go\n"                           \
	"  --git URL|DIR --ref REF\n"                                          \
	"                       read the configuration from a git commit\n"    \
	"  --host NAME          which host this agent is\n"                    \
	"  --state FILE         the sim driver's pool (default "               \
	".xdc/sim.json)\n"                                                     \
	"  --state-dir DIR      status, metrics, lock and git cache\n"         \
	"  --trust-gpg FILE     with --git: apply only commits signed by a "   \
	"key of\n"                                                             \
	"                       FILE (armored OpenPGP public keys)\n"          \
	"  --trust-ssh FILE     ... or of FILE (an SSH allowed_signers "       \
	"file)\n"                                                              \
	"  --etcd URL[,URL...]  the pool view through etcd (SPEC 8): every "   \
	"host's\n"                                                             \
	"                       observation, claims, budgets, failover\n"      \
	"  --etcd-cacert FILE, --etcd-cert FILE, --etcd-key FILE\n"            \
	"                       TLS for https:// endpoints, as etcdctl's\n"    \
	"  --pool NAME          the pool's keys, /xdc/NAME/ (default: "        \
	"default)\n"                                                           \
	"  --lease DURATION     this agent's lease (default 10s, at least "    \
	"3s)\n"                                                                \
	"  --fence-command CMD  fence a lost host: /bin/sh -c CMD with the "   \
	"host as $1;\n"                                                        \
	"                       exit 0 means it is off\n"                      \
	"  --watchdog[=DURATION]\n"                                            \
	"                       arm this host's watchdog (default: half the "  \
	"lease),\n"                                                            \
	"                       petted while the lease is renewed\n"           \
	"  --scope NAME         which configuration's objects these are "      \
	"(default:\n"                                                          \
	"                       the Scope document's name, else default)\n"    \
	"  -v, -q               more, less logging\n"                          \
	"  -h, --help           this help\n"

const struct xdc_cmd xdc_cmds[] = {
	{ "validate", cmd_validate, 0, "validate [PATH]",
	    "check a configuration and print every error",
	    "PATH is a directory of *.yaml/*.yml files or one file (default: "
	    "the current directory).\n"
	    "Exits 0 when the configuration is valid, 1 otherwise.\n" },
	{ "plan", cmd_plan, 0,
	    "plan [PATH] [--json] [--detailed-exitcode] [-o FILE | --plan "
	    "FILE]",
	    "show what apply would change",
	    "  --json               the plan as JSON (format_version 1)\n"
	    "  --detailed-exitcode  exit 2 when the plan has changes, 0 when "
	    "none\n"
	    "  -o, --out FILE       save the plan, with what it was made from, "
	    "for\n"
	    "                       apply --plan FILE (docs/saved-plans.md)\n"
	    "  --plan FILE          show the saved plan FILE; nothing is "
	    "observed\n" },
	{ "apply", cmd_apply, 1,
	    "apply [PATH] [--dry-run] [--max-destroy N] [--force] [--plan "
	    "FILE]",
	    "make the pool match the configuration",
	    "  --dry-run            plan and print, change nothing\n"
	    "  --plan FILE          apply the saved plan FILE (xdc plan -o), "
	    "exactly,\n"
	    "                       or refuse it when what it touches "
	    "changed, or\n"
	    "                       when it was applied before\n"
	    "  --max-destroy N      refuse a plan destroying more than N "
	    "managed "
	    "VMs\n"
	    "                       (default: 25% of them, at least 1)\n"
	    "  --force              apply past --max-destroy\n" },
	{ "run", cmd_run, 1,
	    "run [PATH] [--interval 60s] [--max-destroy N] [--force]",
	    "keep the pool converged: the continuous loop (foreground)",
	    "PATH is the configuration (default: the current directory), or "
	    "with --git a\n"
	    "directory or file inside the repository (default: all of it).\n"
	    "  --interval DURATION  resync (and fetch, with --git) every "
	    "DURATION:\n"
	    "                       60s by default; from 100ms to 7d: 500ms, "
	    "5m, 1h, 1d, ...\n"
	    "  --max-destroy N      refuse a plan destroying more than N "
	    "managed "
	    "VMs\n"
	    "                       (default: 25% of them, at least 1)\n"
	    "  --force              apply past --max-destroy\n"
	    "\nIt reloads on a change under PATH, a new commit, SIGHUP or a "
	    "domain that\n"
	    "appears or dies; SIGTERM lets actions in flight run 300 ms, then "
	    "abandons them\n"
	    "and exits 0. It writes STATE_DIR/status.json and "
	    "STATE_DIR/metrics.prom; one\n"
	    "xdc run or apply at a time per state directory. Logs are logfmt "
	    "lines on stderr.\n" },
	{ "status", cmd_status, 0, "status [--json]",
	    "print what the running loop last did",
	    "  --json               STATE_DIR/status.json as written by xdc "
	    "run\n"
	    "Exits 1 when there is no status, when no xdc run holds the "
	    "state directory's\n"
	    "lock, or when the last cycle's outcome is failed, invalid or "
	    "unreachable\n"
	    "(see docs/status.md).\n" },
	{ "show", cmd_show, 0, "show [--json]",
	    "print the observed state, through the driver (like xl list)",
	    "  --json               as JSON\n" },
	/*
	 * sim disturbs the simulated pool under the pool file's own lock,
	 * as a fault in the hypervisor would, behind the back of any xdc
	 * that holds the state directory: it takes no lock of that.
	 */
	{ "sim", cmd_sim, 0,
	    "sim show|crash NAME|fail OP NAME [--times N]|slow OP NAME "
	    "DURATION [--times N]|add-unmanaged NAME --memory SIZE [--host H]"
	    "|power-off HOST",
	    "inspect and disturb the simulated pool",
	    "  show                       the pool, as xdc show does\n"
	    "  crash NAME                 the domain NAME crashes\n"
	    "  fail OP NAME [--times N]   the next N (default 1) OP actions on "
	    "NAME fail\n"
	    "  slow OP NAME DURATION [--times N]\n"
	    "                             the next N (default 1) OP actions on "
	    "NAME take\n"
	    "                             DURATION (3s, 1500ms; 0 ends it)\n"
	    "  add-unmanaged NAME --memory SIZE [--host H]\n"
	    "                             a domain xdc does not own "
	    "appears\n"
	    "  power-off HOST             every domain of HOST is gone, as "
	    "when a fence\n"
	    "                             cuts its power (exit 1: no such "
	    "host)\n" },
	{ "import", cmd_import, 0, "import [PATH] [--from-xl FILE...] [-o DIR]",
	    "write YAML for domains xdc does not manage, to adopt them",
	    "Without --from-xl, the unmanaged domains the driver observes "
	    "(not Domain-0,\n"
	    "not stub domains); with it, xl(1) domain configuration files. "
	    "Each becomes a\n"
	    "VM with adopt: true. PATH is the existing configuration: NICs "
	    "name its\n"
	    "Networks by bridge, and a bridge it lacks gets a Network "
	    "document.\n"
	    "  --from-xl FILE       an xl configuration file; repeatable, and "
	    "further\n"
	    "                       files may follow as arguments\n"
	    "  -o, --out DIR        one file per VM in DIR (never overwriting "
	    "one);\n"
	    "                       default, or -: every document to stdout\n"
	    "What a VM cannot express is a warning on stderr, naming the "
	    "file:line or the\n"
	    "domain, and the key.\n" },
	{ "destroy", cmd_destroy, 1,
	    "destroy [PATH] [--scope NAME] [--dry-run]",
	    "take down everything of one scope",
	    "The scope is --scope NAME, else the Scope document of the "
	    "configuration PATH;\n"
	    "no scope is taken down by default. Its VMs are destroyed and its "
	    "Networks\n"
	    "released (destroyed when no other scope declares them), without "
	    "needing its\n"
	    "files; PATH, when given, says which Hosts. Protected VMs stay, "
	    "and are\n"
	    "reported. The destroy guard of apply does not hold here: the "
	    "command is\n"
	    "the intent.\n"
	    "  --dry-run            print the plan, change nothing\n" },
	{ "gc", cmd_gc, 1, "gc [--dry-run]",
	    "destroy the scopes whose expires has passed",
	    "A scope expires when it has not been applied for its Scope's "
	    "expires (a\n"
	    "duration), or at its expires (a time), as the markers of its "
	    "domains record.\n"
	    "Each expired scope is taken down as xdc destroy does, and "
	    "logged.\n"
	    "  --dry-run            list what would go, change nothing\n" },
	{ "version", cmd_version, 0, "version", "print xdc's version", "" },
	{ NULL, NULL, 0, NULL, NULL, NULL },
};

const struct xdc_cmd xdc_hidden_cmds[] = {
	{ "migrate-receive", cmd_migrate_receive, 1, "migrate-receive NAME",
	    "receive VM NAME's live migration (the sending host's xdc runs it "
	    "over ssh)",
	    "The receiving end of the xen driver's migrate, as xl "
	    "migrate-receive is xl\n"
	    "migrate's: it speaks xdc's handshake on stdin and stdout "
	    "(docs/xen-driver.md)\n"
	    "in the destination's dom0, as root. --host names this host as "
	    "the pool does.\n" },
	{ NULL, NULL, 0, NULL, NULL, NULL },
};

void
cli_usage(const struct cli *cli, FILE *fp)
{
	const struct xdc_cmd *c;

	if (cli->cl_cmd != NULL) {
		fprintf(fp, "usage: %s %s\n%s.\n\n%s\n%s", cli->cl_prog,
		    cli->cl_cmd->c_usage, cli->cl_cmd->c_summary,
		    cli->cl_cmd->c_options, COMMON_OPTIONS);
		return;
	}
	fprintf(fp, "usage: %s COMMAND [ARGS]\n\ncommands:\n", cli->cl_prog);
	for (c = xdc_cmds; c->c_name != NULL; c++)
		fprintf(fp, "  %-34s %s\n", c->c_usage, c->c_summary);
	fprintf(fp, "\n%s COMMAND --help tells more.\n", cli->cl_prog);
}

void
cli_log(const struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	if (cli->cl_verbose < 0)
		return;
	fprintf(stderr, "%s: ", cli->cl_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

enum {
	OPT_DRIVER = 1000,
	OPT_NET,
	OPT_GIT,
	OPT_REF,
	OPT_HOST,
	OPT_STATE,
	OPT_STATE_DIR,
	OPT_TRUST_GPG,
	OPT_TRUST_SSH,
	OPT_ETCD,
	OPT_ETCD_CACERT,
	OPT_ETCD_CERT,
	OPT_ETCD_KEY,
	OPT_POOL,
	OPT_LEASE,
	OPT_FENCE_COMMAND,
	OPT_WATCHDOG,
	OPT_SCOPE,
};

static const struct option common_longopts[] = {
	{ "driver", required_argument, NULL, OPT_DRIVER },
	{ "net", required_argument, NULL, OPT_NET },
	{ "git", required_argument, NULL, OPT_GIT },
	{ "ref", required_argument, NULL, OPT_REF },
	{ "host", required_argument, NULL, OPT_HOST },
	{ "state", required_argument, NULL, OPT_STATE },
	{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
	{ "trust-gpg", required_argument, NULL, OPT_TRUST_GPG },
	{ "trust-ssh", required_argument, NULL, OPT_TRUST_SSH },
	{ "etcd", required_argument, NULL, OPT_ETCD },
	{ "etcd-cacert", required_argument, NULL, OPT_ETCD_CACERT },
	{ "etcd-cert", required_argument, NULL, OPT_ETCD_CERT },
	{ "etcd-key", required_argument, NULL, OPT_ETCD_KEY },
	{ "pool", required_argument, NULL, OPT_POOL },
	{ "lease", required_argument, NULL, OPT_LEASE },
	{ "fence-command", required_argument, NULL, OPT_FENCE_COMMAND },
	{ "watchdog", optional_argument, NULL, OPT_WATCHDOG },
	{ "scope", required_argument, NULL, OPT_SCOPE },
	{ "help", no_argument, NULL, 'h' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ NULL, 0, NULL, 0 },
};

/* Without the terminator, which cli_find_command's getopt_long needs. */
#define NCOMMON (sizeof(common_longopts) / sizeof(common_longopts[0]) - 1)

int
cli_duration(const char *s, int64_t min_ms, int64_t max_ms, int64_t *out)
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
		if (v > (unsigned long long)(max_ms / units[i].u_ms))
			return -1;
		*out = (int64_t)v * units[i].u_ms;
		return *out >= min_ms && *out <= max_ms ? 0 : -1;
	}
	return -1;
}

/* The pool's options (SPEC §8); 0, or -1 with the reason printed. */
static int
pool_opt(struct cli *cli, int c, const char *arg)
{
	const char *name = NULL;
	int64_t ms;

	switch (c) {
	case OPT_ETCD:
		if (*arg == '\0')
			name = "--etcd: empty; expected http://HOST:PORT or "
			       "https://HOST:PORT, comma-separated";
		cli->cl_etcd = arg;
		cli->cl_pool_view = 1;
		break;
	case OPT_ETCD_CACERT:
		cli->cl_etcd_cacert = arg;
		break;
	case OPT_ETCD_CERT:
		cli->cl_etcd_cert = arg;
		break;
	case OPT_ETCD_KEY:
		cli->cl_etcd_key = arg;
		break;
	case OPT_POOL:
		/* It is a key prefix: a slash would reach another pool's. */
		if (*arg == '\0' || strchr(arg, '/') != NULL)
			name = "--pool: expected a name without '/'";
		cli->cl_pool = arg;
		break;
	case OPT_LEASE:
		if (cli_duration(arg, 3000, 3600 * 1000, &ms) != 0)
			name = "--lease: expected a duration from 3s to 1h "
			       "such as 10s";
		cli->cl_lease_ms = ms;
		break;
	case OPT_FENCE_COMMAND:
		if (*arg == '\0')
			name = "--fence-command: empty";
		cli->cl_fence_command = arg;
		break;
	case OPT_WATCHDOG:
		/* Without a value: half the lease, decided at start. */
		ms = -1;
		if (arg != NULL &&
		    cli_duration(arg, 1000, 3600 * 1000, &ms) != 0)
			name =
			    "--watchdog: expected a duration from 1s, shorter "
			    "than the lease, such as 5s";
		cli->cl_watchdog_ms = ms;
		break;
	}
	if (name == NULL)
		return 0;
	fprintf(stderr, "%s: %s, got \"%s\"\n", cli->cl_prog, name,
	    arg != NULL ? arg : "");
	return -1;
}

int
cli_parse(struct cli *cli, int argc, char **argv, const char *shortopts,
    const struct option *longopts,
    int (*fn)(struct cli *, int, const char *, void *), void *arg,
    const char **args, int max_args)
{
	struct option opts[64];
	char sopts[64];
	size_t n = 0;
	int c, nargs = 0;

	memcpy(opts, common_longopts, NCOMMON * sizeof(common_longopts[0]));
	n = NCOMMON;
	for (; longopts != NULL && longopts->name != NULL && n < 63; longopts++)
		opts[n++] = *longopts;
	memset(&opts[n], 0, sizeof(opts[n]));
	snprintf(sopts, sizeof(sopts), "hvq%s", shortopts ? shortopts : "");

	/* 0, not 1: glibc then forgets the REQUIRE_ORDER of cli_main's scan. */
	optind = 0;
	while ((c = getopt_long(argc, argv, sopts, opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			cli_usage(cli, stdout);
			return 1;
		case 'v':
			cli->cl_verbose++;
			break;
		case 'q':
			cli->cl_verbose--;
			break;
		case OPT_DRIVER:
			if (strcmp(optarg, "xen") && strcmp(optarg, "sim")) {
				fprintf(stderr,
				    "%s: --driver: expected xen or "
				    "sim, got \"%s\"\n",
				    cli->cl_prog, optarg);
				return -1;
			}
			cli->cl_driver = optarg;
			break;
		case OPT_NET:
			if (strcmp(optarg, "netlink") &&
			    strcmp(optarg, "sim")) {
				fprintf(stderr,
				    "%s: --net: expected netlink "
				    "or sim, got \"%s\"\n",
				    cli->cl_prog, optarg);
				return -1;
			}
			cli->cl_net = optarg;
			break;
		case OPT_GIT:
		case OPT_REF:
			/* An empty one is a mistake of the caller's shell. */
			if (*optarg == '\0') {
				fprintf(stderr,
				    "%s: --%s: empty; expected %s\n",
				    cli->cl_prog, c == OPT_GIT ? "git" : "ref",
				    c == OPT_GIT
				        ? "a URL or a directory"
				        : "a branch, a tag or a commit "
				          "id");
				return -1;
			}
			if (c == OPT_GIT)
				cli->cl_git = optarg;
			else
				cli->cl_ref = optarg;
			break;
		case OPT_HOST:
			cli->cl_host = optarg;
			break;
		case OPT_STATE:
			cli->cl_state = optarg;
			break;
		case OPT_STATE_DIR:
			cli->cl_state_dir = optarg;
			break;
		case OPT_TRUST_GPG:
			cli->cl_trust_gpg = optarg;
			break;
		case OPT_TRUST_SSH:
			cli->cl_trust_ssh = optarg;
			break;
		case OPT_ETCD:
		case OPT_ETCD_CACERT:
		case OPT_ETCD_CERT:
		case OPT_ETCD_KEY:
		case OPT_POOL:
		case OPT_LEASE:
		case OPT_FENCE_COMMAND:
		case OPT_WATCHDOG:
			if (pool_opt(cli, c, optarg) != 0)
				return -1;
			break;
		case OPT_SCOPE:
			/* It goes into every marker: a name, as a Scope's. */
			if (!xdc_name_valid(optarg)) {
				fprintf(stderr,
				    "%s: --scope: \"%s\" is not a valid name "
				    "(lower-case letters, digits and '-', at "
				    "most 63, starting and ending with a "
				    "letter "
				    "or digit)\n",
				    cli->cl_prog, optarg);
				return -1;
			}
			/*
			 * The loop plans on its own, and would not hear of
			 * it: a Scope document says it to xdc run.
			 */
			if (cli->cl_cmd != NULL &&
			    cli->cl_cmd->c_fn == cmd_run) {
				fprintf(stderr,
				    "%s run: --scope is not taken by run yet; "
				    "give the configuration a Scope "
				    "document\n",
				    cli->cl_prog);
				return -1;
			}
			cli->cl_scope = optarg;
			break;
		case '?':
			cli_usage(cli, stderr);
			return -1;
		default:
			if (fn == NULL || fn(cli, c, optarg, arg) != 0) {
				cli_usage(cli, stderr);
				return -1;
			}
			break;
		}
	}
	for (; optind < argc; optind++) {
		if (nargs >= max_args) {
			fprintf(stderr, "%s %s: unexpected argument \"%s\"\n",
			    cli->cl_prog, cli->cl_cmd->c_name, argv[optind]);
			cli_usage(cli, stderr);
			return -1;
		}
		args[nargs++] = argv[optind];
	}
	return 0;
}

int
cli_max_destroy(const struct cli *cli, const char *arg, long *out)
{
	const char *why;
	uint64_t n;

	if ((why = xdc_parse_uint(arg, CLI_MAX_DESTROY_MAX, &n)) == NULL) {
		*out = (long)n;
		return 0;
	}
	if (!strcmp(why, "is too large"))
		fprintf(stderr,
		    "%s %s: --max-destroy: %s is out of range (0 to %d)\n",
		    cli->cl_prog, cli->cl_cmd->c_name, arg,
		    CLI_MAX_DESTROY_MAX);
	else
		fprintf(stderr,
		    "%s %s: --max-destroy: expected a whole number from 0 to "
		    "%d, got \"%s\"\n",
		    cli->cl_prog, cli->cl_cmd->c_name, CLI_MAX_DESTROY_MAX,
		    arg);
	return -1;
}

int
cmd_version(struct cli *cli, int argc, char **argv)
{
	int rc;

	if ((rc = cli_parse(cli, argc, argv, NULL, NULL, NULL, NULL, NULL, 0)))
		return rc > 0 ? XDC_EXIT_OK : XDC_EXIT_ERROR;
	printf("xdc %s\n", XDC_VERSION);
	return XDC_EXIT_OK;
}

/*
 * Where the command name is, past the common options before it (SPEC §5:
 * `xdc --driver sim plan DIR`). getopt_long in REQUIRE_ORDER ("+") knows
 * which options take an argument, so `--state plan plan` and `--state=F`
 * read as they do after the command. Returns the index of the command
 * name, argc when there is none, or -1 (message printed) on an option that
 * is not a common one, is ambiguous or lacks its argument.
 */
static int
cli_find_command(int argc, char **argv, int *help)
{
	int c;

	*help = 0;
	argv[0] = (char *)"xdc"; /* getopt_long's messages begin with it */
	optind = 0;
	while ((c = getopt_long(argc, argv, "+hvq", common_longopts, NULL)) !=
	       -1) {
		if (c == 'h')
			*help = 1;
		else if (c == '?') {
			/*
			 * getopt_long said what is wrong with it; an option
			 * of ours without its argument needs no more.
			 */
			if (optopt >= OPT_DRIVER)
				return -1;
			fprintf(stderr,
			    "xdc: before the command go only the options "
			    "every command takes;\n"
			    "a command's own options go after it\n");
			return -1;
		}
	}
	return optind;
}

int
cli_main(int argc, char **argv)
{
	struct cli cli;
	const struct xdc_cmd *c;
	char **av = NULL;
	int i, n, at, help, rc;

	memset(&cli, 0, sizeof(cli));
	cli.cl_prog = "xdc";
	if (argc >= 2 && !strcmp(argv[1], "--version"))
		argv[1] = (char *)"version";
	if (argc >= 2 && !strcmp(argv[1], "help")) {
		cli_usage(&cli, stdout);
		return XDC_EXIT_OK;
	}
	if ((at = cli_find_command(argc, argv, &help)) < 0) {
		cli_usage(&cli, stderr);
		return XDC_EXIT_ERROR;
	}
	if (at >= argc) {
		cli_usage(&cli, help ? stdout : stderr);
		return help ? XDC_EXIT_OK : XDC_EXIT_ERROR;
	}
	for (c = xdc_cmds; c->c_name != NULL; c++)
		if (!strcmp(argv[at], c->c_name))
			break;
	if (c->c_name == NULL)
		for (c = xdc_hidden_cmds; c->c_name != NULL; c++)
			if (!strcmp(argv[1], c->c_name))
				break;
	if (c->c_name == NULL) {
		fprintf(stderr, "%s: unknown command \"%s\"\n\n", cli.cl_prog,
		    argv[at]);
		cli_usage(&cli, stderr);
		return XDC_EXIT_ERROR;
	}
	cli.cl_cmd = c;
	/*
	 * The command sees its name, then the options given before it, then
	 * the rest: the same argv as `xdc CMD OPTIONS... REST...`. A "--"
	 * that ended the options before the command is dropped, or it would
	 * end the command's options too.
	 */
	if ((av = calloc((size_t)argc + 1, sizeof(*av))) == NULL) {
		fprintf(stderr, "%s: out of memory\n", cli.cl_prog);
		return XDC_EXIT_ERROR;
	}
	n = 0;
	av[n++] = argv[at];
	for (i = 1; i < at; i++)
		if (!(i == at - 1 && !strcmp(argv[i], "--")))
			av[n++] = argv[i];
	for (i = at + 1; i < argc; i++)
		av[n++] = argv[i];
	av[n] = NULL;
	rc = c->c_fn(&cli, n, av);
	free(av);
	return rc;
}
