/*
 * publish: the records the agents of a simulated pool would publish.
 *
 *	publish [--path PATH] [--commit COMMIT] [--skip HOST] POOLFILE
 *
 * Reads the sim pool file POOLFILE through the sim driver (sim_open, no
 * configuration: the hosts the file holds, nothing added) and observes it
 * as `xdc show --driver sim --state POOLFILE` does; an agent of one host
 * (sim_open_host) observes that host the same. For every host but HOST
 * (--skip, which may be given more than once), in name order, it prints
 * one line
 *
 *	HOST <TAB> RECORD
 *
 * where RECORD is the compact JSON an agent publishes under
 * /xdc/POOL/hosts/HOST, built by the agent's own code (pool_record_text):
 * the observation, "source" {PATH, COMMIT} (null when not given) and the
 * version; no watchdog. bench/pool-view puts them into etcd.
 *
 * Exits 1 when the file does not read or does not exist (the sim would
 * see one empty host "local" instead) or a record cannot be encoded.
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/error.h"
#include "drivers/driver.h"
#include "drivers/sim.h"
#include "pool/record.h"

static void
usage(void)
{
	fprintf(stderr, "usage: publish [--path PATH] [--commit COMMIT] "
	                "[--skip HOST] POOLFILE\n");
	exit(2);
}

static int
skipped(char **skip, size_t nskip, const char *host)
{
	size_t i;

	for (i = 0; i < nskip; i++)
		if (strcmp(skip[i], host) == 0)
			return 1;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "path", required_argument, NULL, 'p' },
		{ "commit", required_argument, NULL, 'c' },
		{ "skip", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL, *commit = NULL;
	struct xdc_driver *drv = NULL;
	struct xdc_observed *obs = NULL;
	const struct xdc_obs_host *h;
	char **skip = NULL, *text;
	size_t nskip = 0, i, n = 0;
	struct stat st;
	int c, rc = 1;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			path = optarg;
			break;
		case 'c':
			commit = optarg;
			break;
		case 's':
			skip = realloc(skip, (nskip + 1) * sizeof(*skip));
			if (skip == NULL) {
				perror("publish");
				return 1;
			}
			skip[nskip++] = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind + 1 != argc)
		usage();
	if (stat(argv[optind], &st) != 0) {
		fprintf(
		    stderr, "publish: %s: no such pool file\n", argv[optind]);
		goto out;
	}
	if (sim_open(argv[optind], NULL, &drv) != 0 ||
	    drv->observe(drv, &obs) != 0) {
		fprintf(stderr, "publish: %s\n", xdc_error_last());
		goto out;
	}
	for (i = 0; i < obs->obs_nhosts; i++) {
		h = &obs->obs_hosts[i];
		if (skipped(skip, nskip, h->oh_name))
			continue;
		if ((text = pool_record_text(h, path, commit, 0)) == NULL) {
			fprintf(stderr,
			    "publish: host %s: cannot encode its record\n",
			    h->oh_name);
			goto out;
		}
		printf("%s\t%s\n", h->oh_name, text);
		free(text);
		n++;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "publish: cannot write the records\n");
		goto out;
	}
	fprintf(
	    stderr, "publish: %zu records of %zu hosts\n", n, obs->obs_nhosts);
	rc = 0;
out:
	xdc_observed_free(obs);
	if (drv != NULL)
		drv->free(drv);
	free(skip);
	return rc;
}
