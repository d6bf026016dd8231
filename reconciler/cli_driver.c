/*
 * Which drivers a command talks to (SPEC §5, §7): domains go to xen where
 * the machine runs Xen and to the simulated pool everywhere else; Networks
 * go to netlink with xen and to the simulated pool with sim, unless --net
 * says otherwise. When they differ, a small composing driver routes each
 * action by its kind and lays the network driver's observation of this
 * host over the domain driver's, so that the planner sees one pool.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "drivers/driver.h"
#include "drivers/net.h"
#include "drivers/sim.h"
#include "drivers/xen.h"
#include "reconciler/cli.h"
#include "reconciler/source.h"
#include "base/arena.h"
#include "base/error.h"

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

/* ---- Composition ------------------------------------------------------ */

struct compose {
	struct xdc_driver c_drv; /* first: the vtable callers see */
	struct xdc_driver *c_dom;
	struct xdc_driver *c_net;
	const char *c_host;
	/* Network actions done at submit, reported at the next wait. */
	uint64_t *c_done_tok;
	int *c_done_rc;
	size_t c_ndone;
};

static struct xdc_driver *
route(struct compose *c, const struct xdc_action *a)
{
	return a->a_kind == XDC_OBJ_NETWORK ? c->c_net : c->c_dom;
}

static int
compose_observe(struct xdc_driver *drv, struct xdc_observed **out)
{
	struct compose *c = (struct compose *)drv;
	struct xdc_observed *obs = NULL, *nobs = NULL;
	const struct xdc_obs_host *from;
	struct xdc_obs_host *to;
	struct xdc_obs_network *v;
	size_t i, h;
	int rc;

	if ((rc = c->c_dom->observe(c->c_dom, &obs)) != 0)
		goto out;
	if ((rc = c->c_net->observe(c->c_net, &nobs)) != 0)
		goto out;
	from = xdc_observed_host(nobs, c->c_host);
	for (h = 0; h < obs->obs_nhosts; h++) {
		to = &obs->obs_hosts[h];
		if (strcmp(to->oh_name, c->c_host) != 0)
			continue;
		/* This host's bridges are the network driver's to say. */
		to->oh_networks = NULL;
		to->oh_nnetworks = 0;
		if (from == NULL || from->oh_nnetworks == 0)
			continue;
		v = xdc_arena_alloc(
		    obs->obs_arena, from->oh_nnetworks * sizeof(*v));
		for (i = 0; i < from->oh_nnetworks; i++) {
			v[i] = from->oh_networks[i];
			v[i].on_name = from->oh_networks[i].on_name
			                   ? xdc_arena_strdup(obs->obs_arena,
			                         from->oh_networks[i].on_name)
			                   : NULL;
			v[i].on_bridge = xdc_arena_strdup(
			    obs->obs_arena, from->oh_networks[i].on_bridge);
			v[i].on_uplink =
			    from->oh_networks[i].on_uplink
			        ? xdc_arena_strdup(obs->obs_arena,
			              from->oh_networks[i].on_uplink)
			        : NULL;
		}
		to->oh_networks = v;
		to->oh_nnetworks = from->oh_nnetworks;
	}
	*out = obs;
	obs = NULL;
out:
	xdc_observed_free(obs);
	xdc_observed_free(nobs);
	return rc;
}

static int
compose_begin(struct xdc_driver *drv)
{
	struct compose *c = (struct compose *)drv;
	int rc;

	if (c->c_dom->begin != NULL && (rc = c->c_dom->begin(c->c_dom)) != 0)
		return rc;
	if (c->c_net->begin != NULL && (rc = c->c_net->begin(c->c_net)) != 0)
		return rc;
	return 0;
}

static int
compose_end(struct xdc_driver *drv)
{
	struct compose *c = (struct compose *)drv;
	int rc = 0, rc2 = 0;

	if (c->c_net->end != NULL)
		rc = c->c_net->end(c->c_net);
	if (c->c_dom->end != NULL)
		rc2 = c->c_dom->end(c->c_dom);
	return rc != 0 ? rc : rc2;
}

static int
compose_apply(struct xdc_driver *drv, const struct xdc_action *a)
{
	struct compose *c = (struct compose *)drv;
	struct xdc_driver *d = route(c, a);

	return d->apply(d, a);
}

static int
compose_submit(
    struct xdc_driver *drv, const struct xdc_action *a, uint64_t token)
{
	struct compose *c = (struct compose *)drv;
	struct xdc_driver *d = route(c, a);

	if (d->submit != NULL)
		return d->submit(d, a, token);
	/* A driver without submit works at once; wait() reports it. */
	c->c_done_tok = xdc_reallocarray(
	    c->c_done_tok, c->c_ndone + 1, sizeof(*c->c_done_tok));
	c->c_done_rc = xdc_reallocarray(
	    c->c_done_rc, c->c_ndone + 1, sizeof(*c->c_done_rc));
	c->c_done_tok[c->c_ndone] = token;
	c->c_done_rc[c->c_ndone] = d->apply(d, a);
	c->c_ndone++;
	return 0;
}

static int
compose_wait(struct xdc_driver *drv, uint64_t *token, int *result)
{
	struct compose *c = (struct compose *)drv;

	if (c->c_ndone > 0) {
		c->c_ndone--;
		*token = c->c_done_tok[c->c_ndone];
		*result = c->c_done_rc[c->c_ndone];
		return 0;
	}
	if (c->c_dom->wait != NULL)
		return c->c_dom->wait(c->c_dom, token, result);
	return XDC_ENOTFOUND;
}

/* The pool's events are the domain driver's: bridges do not die alone. */
static int
compose_watch_fd(struct xdc_driver *drv)
{
	struct compose *c = (struct compose *)drv;

	return c->c_dom->watch_fd != NULL ? c->c_dom->watch_fd(c->c_dom) : -1;
}

static void
compose_watch_drain(struct xdc_driver *drv)
{
	struct compose *c = (struct compose *)drv;

	if (c->c_dom->watch_drain != NULL)
		c->c_dom->watch_drain(c->c_dom);
}

static void
compose_free(struct xdc_driver *drv)
{
	struct compose *c = (struct compose *)drv;

	c->c_dom->free(c->c_dom);
	c->c_net->free(c->c_net);
	free(c->c_done_tok);
	free(c->c_done_rc);
	free(c);
}

static struct xdc_driver *
compose_new(struct xdc_driver *dom, struct xdc_driver *net, const char *host)
{
	struct compose *c = xdc_calloc(1, sizeof(*c));

	c->c_drv.version = XDC_DRIVER_VERSION;
	c->c_drv.name = dom->name;
	c->c_drv.observe = compose_observe;
	c->c_drv.begin = compose_begin;
	c->c_drv.apply = compose_apply;
	c->c_drv.end = compose_end;
	c->c_drv.free = compose_free;
	c->c_drv.watch_fd = compose_watch_fd;
	c->c_drv.watch_drain = compose_watch_drain;
	if (dom->submit != NULL) {
		c->c_drv.submit = compose_submit;
		c->c_drv.wait = compose_wait;
	}
	c->c_dom = dom;
	c->c_net = net;
	c->c_host = host;
	return &c->c_drv;
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
cli_open_driver(
    struct cli *cli, const struct xdc_config *cfg, struct xdc_driver **out)
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
		if ((rc = sim_open(path, cfg, &dom)) != 0)
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
	*out = compose_new(dom, nd, host);
	dom = nd = NULL;
	rc = 0;
out:
	if (dom != NULL)
		dom->free(dom);
	if (nd != NULL)
		nd->free(nd);
	return rc;
}
