/*
 * xdc import [PATH] [--from-xl FILE...] [-o DIR|--out DIR]: the domains a
 * host already runs (through the driver), or xl configuration files, as
 * configuration documents with adopt: true, so that the next apply takes
 * them over without a restart (docs/import.md).
 *
 * PATH, when given, is the existing configuration: NICs name its Networks
 * by bridge, and its VMs are not imported again. Nothing is written when
 * anything fails, and a file that exists is never overwritten.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "drivers/driver.h"
#include "reconciler/cli.h"
#include "reconciler/import.h"
#include "base/error.h"
#include "schema/schema.h"

#define NETS_FILE "imported-networks.yaml"

struct import_opts {
	const char **io_xl; /* --from-xl FILEs */
	size_t io_nxl;
	const char *io_out; /* -o DIR; NULL or "-": stdout */
};

enum { OPT_FROM_XL = 2000, OPT_OUT };

static const struct option import_longopts[] = {
	{ "from-xl", required_argument, NULL, OPT_FROM_XL },
	{ "out", required_argument, NULL, OPT_OUT },
	{ NULL, 0, NULL, 0 },
};

static int
import_opt(struct cli *cli, int c, const char *arg, void *p)
{
	struct import_opts *o = p;

	(void)cli;
	switch (c) {
	case OPT_FROM_XL:
		o->io_xl = xdc_reallocarray(
		    o->io_xl, o->io_nxl + 1, sizeof(*o->io_xl));
		o->io_xl[o->io_nxl++] = arg;
		return 0;
	case 'o':
	case OPT_OUT:
		o->io_out = arg;
		return 0;
	default:
		return -1;
	}
}

static int
is_yaml_or_dir(const char *path)
{
	struct stat st;
	size_t n = strlen(path);

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return 1;
	return (n > 5 && !strcmp(path + n - 5, ".yaml")) ||
	       (n > 4 && !strcmp(path + n - 4, ".yml"));
}

/*
 * The positional arguments: with --from-xl, a shell glob's further xl
 * files and at most one configuration (a directory or a .yaml file);
 * without, the configuration alone.
 */
static int
split_args(struct cli *cli, struct import_opts *o, const char **args, int nargs,
    const char **path)
{
	int i;

	*path = NULL;
	for (i = 0; i < nargs; i++) {
		if (o->io_nxl > 0 && !is_yaml_or_dir(args[i])) {
			o->io_xl = xdc_reallocarray(
			    o->io_xl, o->io_nxl + 1, sizeof(*o->io_xl));
			o->io_xl[o->io_nxl++] = args[i];
		} else if (*path == NULL) {
			*path = args[i];
		} else {
			fprintf(stderr,
			    "%s import: one configuration PATH at most "
			    "(\"%s\", "
			    "\"%s\")\n",
			    cli->cl_prog, *path, args[i]);
			return -1;
		}
	}
	return 0;
}

static int
load_config(struct cli *cli, const char *path, struct xdc_config **cfg)
{
	struct xdc_diags *diags = xdc_diags_new();
	int rc = schema_load(path, cfg, diags);

	if (rc == XDC_EINVALID) {
		xdc_diags_print(diags, stderr);
		fprintf(stderr,
		    "%s: %s: fix the configuration to import into "
		    "it\n",
		    cli->cl_prog, path);
	} else if (rc != 0) {
		fprintf(stderr, "%s: %s\n", cli->cl_prog, xdc_error_last());
	}
	xdc_diags_free(diags);
	return rc;
}

static int
from_driver(
    struct cli *cli, const struct xdc_config *cfg, struct import_set *set)
{
	struct xdc_driver *drv = NULL;
	struct xdc_observed *obs = NULL;
	int rc;

	if ((rc = cli_open_driver(cli, cfg, NULL, &drv)) != 0 ||
	    (rc = drv->observe(drv, &obs)) != 0) {
		fprintf(stderr, "%s: %s\n", cli->cl_prog, xdc_error_last());
		goto out;
	}
	import_observed(set, obs);
out:
	xdc_observed_free(obs);
	if (drv != NULL)
		drv->free(drv);
	return rc;
}

static int
from_xl(struct cli *cli, const struct import_opts *o, struct import_set *set)
{
	size_t i;
	int rc = 0;

	/* Every file is read, so that every mistake is reported at once. */
	for (i = 0; i < o->io_nxl; i++) {
		if (import_xl_file(set, o->io_xl[i]) != 0) {
			fprintf(
			    stderr, "%s: %s\n", cli->cl_prog, xdc_error_last());
			rc = XDC_ERR;
		}
	}
	return rc;
}

/* DIR/NAME.yaml for each VM, and DIR/imported-networks.yaml. */
static char **
out_files(const struct import_set *set, const char *dir, size_t *n)
{
	char **v = xdc_calloc(set->is_nvms + 2, sizeof(*v));
	size_t i;

	for (i = 0; i < set->is_nvms; i++)
		xdc_asprintf(&v[i], "%s/%s.yaml", dir, set->is_vms[i].vm_name);
	*n = set->is_nvms;
	if (set->is_nnets > 0)
		xdc_asprintf(&v[(*n)++], "%s/%s", dir, NETS_FILE);
	return v;
}

static int
write_one(const struct import_set *set, const char *file, size_t vm)
{
	FILE *fp;
	int fd, rc;

	/* O_EXCL: a file that appeared since the check is not overwritten
	 * either. */
	if ((fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0644)) < 0)
		return xdc_error_sys(XDC_ERR, "%s", file);
	if ((fp = fdopen(fd, "w")) == NULL) {
		close(fd);
		return xdc_error_sys(XDC_ERR, "%s", file);
	}
	rc = vm == IMPORT_ALL ? import_emit_networks(set, fp)
	                      : import_emit(set, vm, fp);
	if (fclose(fp) != 0 && rc == 0)
		rc = xdc_error_sys(XDC_ERR, "%s", file);
	return rc;
}

static int
write_dir(struct cli *cli, const struct import_set *set, const char *dir)
{
	char **files;
	size_t n, i;
	int rc = 0;

	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		fprintf(
		    stderr, "%s: %s: %s\n", cli->cl_prog, dir, strerror(errno));
		return XDC_ERR;
	}
	files = out_files(set, dir, &n);
	/* All or nothing: every file is checked before one is written. */
	for (i = 0; i < n; i++) {
		if (access(files[i], F_OK) == 0) {
			fprintf(stderr,
			    "%s: %s exists; xdc import never overwrites a "
			    "file (move it away, or write elsewhere with -o)\n",
			    cli->cl_prog, files[i]);
			rc = XDC_ERR;
		}
	}
	for (i = 0; rc == 0 && i < n; i++) {
		rc =
		    write_one(set, files[i], i < set->is_nvms ? i : IMPORT_ALL);
		if (rc != 0)
			fprintf(
			    stderr, "%s: %s\n", cli->cl_prog, xdc_error_last());
		else
			printf("%s\n", files[i]);
	}
	for (i = 0; i < n; i++)
		free(files[i]);
	free(files);
	return rc;
}

int
cmd_import(struct cli *cli, int argc, char **argv)
{
	struct import_opts o;
	struct xdc_config *cfg = NULL;
	struct import_set *set = NULL;
	const char *args[64], *path = NULL;
	int nargs, rc, exit_code = XDC_EXIT_ERROR;

	memset(&o, 0, sizeof(o));
	memset(args, 0, sizeof(args));
	if ((rc = cli_parse(cli, argc, argv, "o:", import_longopts, import_opt,
	         &o, args, 64)))
		return rc > 0 ? XDC_EXIT_OK : XDC_EXIT_ERROR;
	for (nargs = 0; nargs < 64 && args[nargs] != NULL; nargs++)
		;
	if (split_args(cli, &o, args, nargs, &path) != 0)
		goto out;
	if (path != NULL && load_config(cli, path, &cfg) != 0)
		goto out;
	set = import_set_new(cfg);
	rc = o.io_nxl > 0 ? from_xl(cli, &o, set) : from_driver(cli, cfg, set);
	import_print_warnings(set, stderr);
	if (rc != 0) {
		fprintf(stderr, "%s: nothing is written\n", cli->cl_prog);
		goto out;
	}
	if (set->is_nvms == 0) {
		cli_log(cli, "no unmanaged domain to import");
		exit_code = XDC_EXIT_OK;
		goto out;
	}
	if (o.io_out == NULL || !strcmp(o.io_out, "-"))
		rc = import_emit(set, IMPORT_ALL, stdout);
	else
		rc = write_dir(cli, set, o.io_out);
	if (rc != 0) {
		if (o.io_out == NULL || !strcmp(o.io_out, "-"))
			fprintf(
			    stderr, "%s: %s\n", cli->cl_prog, xdc_error_last());
		goto out;
	}
	cli_log(cli,
	    "imported %zu VM%s and %zu new Network%s, each VM with "
	    "adopt: true",
	    set->is_nvms, set->is_nvms == 1 ? "" : "s", set->is_nnets,
	    set->is_nnets == 1 ? "" : "s");
	exit_code = XDC_EXIT_OK;
out:
	import_set_free(set);
	xdc_config_free(cfg);
	free(o.io_xl);
	return exit_code;
}
