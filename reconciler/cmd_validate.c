/*
 * xdc validate [PATH]: load a configuration, print every mistake in it, or
 * a one-line summary when there is none.
 */
#include <stdio.h>

#include "reconciler/cli.h"
#include "reconciler/source.h"
#include "base/error.h"
#include "schema/schema.h"

static const char *
plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

int
cmd_validate(struct cli *cli, int argc, char **argv)
{
	struct xdc_diags *diags = NULL;
	struct xdc_config *cfg = NULL;
	struct source *src = NULL;
	char commit[SOURCE_COMMIT_HEXSZ];
	const char *path = ".";
	size_t n;
	int rc, exit_code = XDC_EXIT_ERROR;

	if ((rc = cli_parse(cli, argc, argv, NULL, NULL, NULL, NULL, &path, 1)))
		return rc > 0 ? XDC_EXIT_OK : XDC_EXIT_ERROR;

	diags = xdc_diags_new();
	/* With --git, the commit --ref names, fetched first. */
	if ((rc = source_new(cli, path, &src)) != 0 ||
	    (rc = source_fetch(src)) != 0) {
		fprintf(stderr, "%s: %s\n", cli->cl_prog, xdc_error_last());
		goto out;
	}
	rc = source_load(src, &cfg, diags, commit);
	if (rc == XDC_EINVALID) {
		xdc_diags_print(diags, stderr);
		n = xdc_diags_count(diags);
		fprintf(stderr, "%s: %s: %zu %s\n", cli->cl_prog,
		    source_name(src), n, plural(n, "error", "errors"));
		goto out;
	}
	if (rc == XDC_EUNVERIFIED) {
		/* As plan says it: the commit is the location. */
		fprintf(stderr, "%s: error: %s\n", commit, xdc_error_last());
		goto out;
	}
	if (rc != 0) {
		fprintf(stderr, "%s: %s\n", cli->cl_prog, xdc_error_last());
		goto out;
	}
	if (commit[0] != '\0')
		printf("%s (commit %s)", source_name(src), commit);
	else
		printf("%s", source_name(src));
	printf(": valid: %zu %s, %zu %s, %zu %s, %zu %s (%zu %s)\n",
	    cfg->cfg_nhosts, plural(cfg->cfg_nhosts, "host", "hosts"),
	    cfg->cfg_nnetworks,
	    plural(cfg->cfg_nnetworks, "network", "networks"), cfg->cfg_nvms,
	    plural(cfg->cfg_nvms, "VM", "VMs"), cfg->cfg_nslas,
	    plural(cfg->cfg_nslas, "SLA", "SLAs"), cfg->cfg_nfiles,
	    plural(cfg->cfg_nfiles, "file", "files"));
	exit_code = XDC_EXIT_OK;
out:
	source_free(src);
	xdc_config_free(cfg);
	xdc_diags_free(diags);
	return exit_code;
}
