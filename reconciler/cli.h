/*
 * The command line: a table of commands (xl's xl_cmdtable.c, vmctl's
 * ctl_commands[]) and the options every command shares.
 */
#ifndef XDC_CLI_H
#define XDC_CLI_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

struct cli {
	const char *cl_prog; /* "xdc" */
	const struct xdc_cmd *cl_cmd;
	int cl_verbose;           /* -1 quiet, 0 normal, 1.. verbose */
	const char *cl_driver;    /* --driver */
	const char *cl_net;       /* --net */
	const char *cl_git;       /* --git */
	const char *cl_ref;       /* --ref */
	const char *cl_host;      /* --host */
	const char *cl_state;     /* --state */
	const char *cl_state_dir; /* --state-dir */
	const char *cl_trust_gpg; /* --trust-gpg */
	const char *cl_trust_ssh; /* --trust-ssh */
	/*
	 * This agent has the pool view (--etcd, SPEC §8): the sim's pool
	 * file is its host's alone (sim_open_host), as Xen sees one host.
	 */
	int cl_pool_view;
	const char *cl_etcd;          /* --etcd URL[,URL...] */
	const char *cl_etcd_cacert;   /* --etcd-cacert */
	const char *cl_etcd_cert;     /* --etcd-cert */
	const char *cl_etcd_key;      /* --etcd-key */
	const char *cl_pool;          /* --pool, "default" when NULL */
	int64_t cl_lease_ms;          /* --lease; 0: CLI_LEASE_MS */
	const char *cl_fence_command; /* --fence-command */
	int64_t cl_watchdog_ms;       /* --watchdog; 0: none */
	const char *cl_scope;         /* --scope: a valid name, or NULL */
};

#define CLI_LEASE_MS 10000 /* --lease's default (SPEC §8) */

struct xdc_cmd {
	const char *c_name;
	int (*c_fn)(struct cli *, int argc, char **argv);
	/*
	 * Acts on the pool through the driver: takes the state directory's
	 * lock (session_lock), one such command at a time per directory.
	 */
	int c_modifies;
	const char *c_usage;
	const char *c_summary;
	const char *c_options; /* the command's own options, for --help */
};

extern const struct xdc_cmd xdc_cmds[];
/* Commands xdc runs itself, not listed by `xdc --help`. */
extern const struct xdc_cmd xdc_hidden_cmds[];

/* Exit codes (SPEC §5). */
#define XDC_EXIT_OK      0
#define XDC_EXIT_ERROR   1
#define XDC_EXIT_CHANGES 2

int cli_main(int argc, char **argv);

/*
 * Parse a command's arguments: the options every command shares, the
 * command's own (longopts/shortopts as getopt_long, handled by fn), and at
 * most max_args positional arguments into args. Prints usage and returns -1
 * on a mistake; returns 1 when --help was given (usage printed), else 0.
 */
struct option;
int cli_parse(struct cli *, int argc, char **argv, const char *shortopts,
    const struct option *longopts,
    int (*fn)(struct cli *, int, const char *, void *), void *arg,
    const char **args, int max_args);

void cli_usage(const struct cli *, FILE *);

/*
 * --max-destroy's value, 0 to CLI_MAX_DESTROY_MAX, into *out; -1 (the
 * reason printed) when it is not a whole number or out of that range.
 */
#define CLI_MAX_DESTROY_MAX 1000000000
int cli_max_destroy(const struct cli *, const char *arg, long *out);
/*
 * A duration: "60s", "500ms", "5m", "1h", "7d", a bare number being
 * seconds; into *out in ms. -1 when it is not one, or is out of
 * [min_ms, max_ms].
 */
int cli_duration(const char *s, int64_t min_ms, int64_t max_ms, int64_t *out);
void cli_log(const struct cli *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Open the driver the options name (--driver, --state): xen where
 * /proc/xen or /dev/xen exists, else sim, said once on stderr. cfg may be
 * NULL; when given, the sim's pool gets the Hosts it declares. The driver
 * is checked to speak this interface and, when ev is not NULL, lent the
 * event loop its actions wait in (a command that only observes passes
 * NULL). The caller frees the driver with its free().
 */
struct xdc_config;
struct xdc_driver;
struct xdc_ev;
int cli_open_driver(struct cli *, const struct xdc_config *, struct xdc_ev *,
    struct xdc_driver **out);
/* The host this agent is: --host, else local, or the hostname when the
 * configuration declares Hosts (SPEC §5). Borrowed. */
const char *cli_host_name(struct cli *, const struct xdc_config *);

/* The time plans are made at: now, or XDC_NOW when set (session.c). */
time_t cli_now(void);

int cmd_validate(struct cli *, int, char **);
int cmd_plan(struct cli *, int, char **);
int cmd_apply(struct cli *, int, char **);
int cmd_show(struct cli *, int, char **);
int cmd_sim(struct cli *, int, char **);
int cmd_run(struct cli *, int, char **);
int cmd_status(struct cli *, int, char **);
int cmd_import(struct cli *, int, char **);
int cmd_version(struct cli *, int, char **);
int cmd_destroy(struct cli *, int, char **);
int cmd_gc(struct cli *, int, char **);

/*
 * Take scope down through the session s (cmd_destroy.c): plan its
 * teardown (teardown.h; the Hosts of hosts, a configuration, when given,
 * else the hosts observed), print the plan, and unless dry_run apply it,
 * printing each action as apply does. why explains each destroy. Returns
 * an exit code: XDC_EXIT_OK, or XDC_EXIT_ERROR when something could not
 * be done.
 */
struct session;
int cli_teardown(struct session *s, const char *scope,
    const struct xdc_config *hosts, const char *why, int dry_run);
int cmd_migrate_receive(struct cli *, int, char **);

#endif /* XDC_CLI_H */
