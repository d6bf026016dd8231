/*
 * xdc show [--json]: the observed state, through the driver. The text is
 * `xl list` per host, with what xdc adds (scheduler parameters, ownership)
 * and the host's bridges; the JSON is the shape SPEC §5 fixes, for scripts.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "drivers/driver.h"
#include "drivers/obs_json.h"
#include "reconciler/cli.h"
#include "reconciler/show.h"
#include "base/error.h"
#include "schema/model.h"

#define MIB (1024ULL * 1024)

static const char *
managed_word(const struct xdc_obs_domain *d)
{
	if (!d->od_managed)
		return "no";
	return d->od_protect ? "protected" : "yes";
}

static void
print_host(FILE *fp, const struct xdc_obs_host *h)
{
	const struct xdc_obs_domain *d;
	const struct xdc_obs_network *n;
	int w = 4; /* "Name" */
	size_t i;

	for (i = 0; i < h->oh_ndomains; i++)
		if ((int)strlen(h->oh_domains[i].od_name) > w)
			w = (int)strlen(h->oh_domains[i].od_name);
	/* MiB, as xl prints memory, so the header adds up with the table. */
	fprintf(fp, "%s: %llu MiB memory, %llu MiB free, %u CPUs\n", h->oh_name,
	    (unsigned long long)(h->oh_memory / MIB),
	    (unsigned long long)(h->oh_free_memory / MIB), h->oh_cpus);
	fprintf(fp, "%-*s %5s %9s %5s %-8s %6s %4s %s\n", w, "Name", "ID",
	    "Mem(MiB)", "VCPUs", "State", "Weight", "Cap", "Managed");
	for (i = 0; i < h->oh_ndomains; i++) {
		d = &h->oh_domains[i];
		fprintf(fp, "%-*s %5u %9llu %5u %-8s %6u %4u %s\n", w,
		    d->od_name, d->od_domid,
		    (unsigned long long)(d->od_memory / MIB), d->od_vcpus,
		    xdc_dom_state_name(d->od_state), d->od_weight, d->od_cap,
		    managed_word(d));
	}
	if (h->oh_nnetworks == 0)
		return;
	fprintf(fp, "\n%-15s %5s %-3s %-7s %s\n", "Bridge", "MTU", "Up",
	    "Managed", "Network");
	for (i = 0; i < h->oh_nnetworks; i++) {
		n = &h->oh_networks[i];
		fprintf(fp, "%-15s %5u %-3s %-7s %s\n", n->on_bridge, n->on_mtu,
		    n->on_up ? "yes" : "no", n->on_managed ? "yes" : "no",
		    n->on_name != NULL ? n->on_name : "-");
	}
}

static int
print_json(FILE *fp, const struct xdc_observed *obs)
{
	json_t *hosts = json_array(), *root = NULL;
	int rc = XDC_ERR;
	size_t i;

	for (i = 0; i < obs->obs_nhosts; i++)
		json_array_append_new(
		    hosts, obs_json_host(&obs->obs_hosts[i], 0));
	if (json_array_size(hosts) != obs->obs_nhosts) {
		json_decref(hosts);
		rc = xdc_error(XDC_ERR, "cannot encode the observed state as "
		                        "JSON (a name that is not UTF-8?)");
		goto out;
	}
	/* Keys stay in insertion order: the order SPEC §5 lists them in. */
	root = json_pack("{s:o}", "hosts", hosts);
	if (root == NULL || json_dumpf(root, fp, JSON_INDENT(2)) < 0) {
		rc = xdc_error(XDC_ERR, "cannot write the observed state");
		goto out;
	}
	fputc('\n', fp);
	rc = 0;
out:
	json_decref(root);
	return rc;
}

int
show_print(FILE *fp, const struct xdc_observed *obs, int json)
{
	size_t i;

	if (json)
		return print_json(fp, obs);
	for (i = 0; i < obs->obs_nhosts; i++) {
		if (i > 0)
			fputc('\n', fp);
		print_host(fp, &obs->obs_hosts[i]);
	}
	return 0;
}

int
show_run(struct cli *cli, struct xdc_driver *drv, int json)
{
	struct xdc_observed *obs = NULL;
	int exit_code = XDC_EXIT_ERROR;

	if (drv->observe(drv, &obs) != 0 ||
	    show_print(stdout, obs, json) != 0) {
		fprintf(stderr, "%s: %s\n", cli->cl_prog, xdc_error_last());
		goto out;
	}
	if (fflush(stdout) != 0) {
		fprintf(stderr, "%s: cannot write the output\n", cli->cl_prog);
		goto out;
	}
	exit_code = XDC_EXIT_OK;
out:
	xdc_observed_free(obs);
	return exit_code;
}

enum { OPT_JSON = 2000 };

static const struct option show_longopts[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ NULL, 0, NULL, 0 },
};

static int
show_opt(struct cli *cli, int c, const char *optarg, void *arg)
{
	(void)cli;
	(void)optarg;
	if (c != OPT_JSON)
		return -1;
	*(int *)arg = 1;
	return 0;
}

int
cmd_show(struct cli *cli, int argc, char **argv)
{
	struct xdc_driver *drv = NULL;
	int rc, json = 0, exit_code = XDC_EXIT_ERROR;

	if ((rc = cli_parse(cli, argc, argv, NULL, show_longopts, show_opt,
	         &json, NULL, 0)))
		return rc > 0 ? XDC_EXIT_OK : XDC_EXIT_ERROR;
	if (cli_open_driver(cli, NULL, NULL, &drv) != 0) {
		fprintf(stderr, "%s: %s\n", cli->cl_prog, xdc_error_last());
		goto out;
	}
	exit_code = show_run(cli, drv, json);
out:
	if (drv != NULL)
		drv->free(drv);
	return exit_code;
}
