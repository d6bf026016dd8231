/*
 * Which drivers a command talks to (SPEC §5, §7): domains go to xen where
 * the machine runs Xen and to the simulated pool everywhere else; Networks
 * go to netlink with xen and to the simulated pool with sim, unless --net
 * says otherwise. When they differ, the composing driver (drivers/compose.h)
 * puts the two together. Every driver opened here is checked to speak this
 * version of the interface and is lent the command's event loop.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "drivers/compose.h"
#include "drivers/driver.h"
#include "drivers/net.h"
#include "drivers/sim.h"
#include "drivers/xen.h"
#include "reconciler/cli.h"
#include "reconciler/source.h"

#define CLI_SIM_DIR  ".xdc"
#define CLI_SIM_PATH CLI_SIM_DIR "/sim.json"

/* The first of Xen's device files that exists, or NULL. */
static const char *
xen_present(void)
{
	static const char *const paths[] = { "/proc/xen", "/dev/xen" };
	size_t i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (access(paths[i], F_OK) == 0)
			return paths[i];
	return NULL;
}

/* ---- Choosing --------------------------------------------------------- */

const char *
cli_host_name(struct cli *cli, const struct xdc_config *cfg)
{
	static char name[256];

	if (cli->cl_host != NULL)
		return cli->cl_host;
	if (cfg == NULL || cfg->cfg_nhosts == 0)
		return XDC_LOCAL_HOST;
	/* With Hosts declared, an agent is the host it runs on. */
	if (gethostname(name, sizeof(name) - 1) != 0)
		return XDC_LOCAL_HOST;
	name[sizeof(name) - 1] = '\0';
	return name;
}

int
cli_open_driver(struct cli *cli, const struct xdc_config *cfg,
    struct xdc_ev *ev, struct xdc_driver **out)
{
	/* A loop may open the driver more than once; say the choice once. */
	static int said;
	const char *driver = cli->cl_driver, *net = cli->cl_net;
	const char *path = cli->cl_state, *host = cli_host_name(cli, cfg);
	struct xdc_driver *dom = NULL, *nd = NULL;
	int rc;

	*out = NULL;
	if (driver == NULL) {
		driver = xen_present() != NULL ? "xen" : "sim";
		if (!strcmp(driver, "sim") && !said) {
			cli_log(cli,
			    "no Xen here (no /proc/xen or /dev/xen): "
			    "using the simulated pool %s",
			    path != NULL ? path : CLI_SIM_PATH);
			said = 1;
		}
	}
	if (net == NULL)
		net = !strcmp(driver, "xen") ? "netlink" : "sim";

	if (!strcmp(driver, "xen")) {
		if ((rc = xen_open(host, &dom)) != 0)
			goto out;
	} else {
		if (path == NULL) {
			path = CLI_SIM_PATH;
			if ((rc = source_mkdirs(CLI_SIM_DIR)) != 0)
				goto out;
		}
		/* With the pool view, the file is this host's alone. */
		rc = cli->cl_pool_view ? sim_open_host(path, cfg, host, &dom)
		                       : sim_open(path, cfg, &dom);
		if (rc != 0)
			goto out;
	}
	/*
	 * Without Networks declared and without --net, xdc manages no
	 * bridges here, and needs no network driver.
	 */
	if (cli->cl_net == NULL && strcmp(driver, "xen") == 0 && cfg != NULL &&
	    cfg->cfg_nnetworks == 0) {
		*out = dom;
		dom = NULL;
		rc = 0;
		goto out;
	}
	if (!strcmp(net, "sim")) {
		if (strcmp(driver, "sim") != 0) {
			rc = xdc_error(XDC_ERR, "--net sim goes with --driver "
			                        "sim: the simulated pool keeps "
			                        "the networks");
			goto out;
		}
		*out = dom;
		dom = NULL;
		rc = 0;
		goto out;
	}
	if ((rc = net_open(host, &nd)) != 0)
		goto out;
	if ((rc = compose_new(dom, nd, host, out)) != 0)
		goto out;
	dom = nd = NULL;
out:
	/* Whichever driver it is, it speaks this interface and waits in ev. */
	if (rc == 0 && (rc = xdc_driver_check(*out)) == 0 && ev != NULL &&
	    (*out)->attach != NULL)
		rc = (*out)->attach(*out, ev);
	if (rc != 0 && *out != NULL) {
		(*out)->free(*out);
		*out = NULL;
	}
	if (dom != NULL)
		dom->free(dom);
	if (nd != NULL)
		nd->free(nd);
	return rc;
}
