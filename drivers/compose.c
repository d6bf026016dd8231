/*
 * The composing driver (compose.h): one driver made of two, a domain
 * driver (xen or sim) and a network driver (netlink), when Networks do
 * not go where domains go. It routes each action by its kind and lays the
 * network driver's observation of this host over the domain driver's, so
 * that the planner sees one pool. A network action is quick (netlink): it
 * is carried out at submit and its outcome, with its own message, waits
 * for the next reap beside the domain driver's.
 */
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/error.h"
#include "drivers/compose.h"
#include "drivers/driver.h"

/* An outcome of a quick action, waiting for reap. */
struct done {
	uint64_t d_token;
	int d_rc;
	char *d_msg;
};

struct compose {
	struct xdc_driver c_drv; /* first: the vtable callers see */
	struct xdc_driver *c_dom;
	struct xdc_driver *c_net;
	char *c_host;
	/* Quick actions done at submit, in order, for the next reaps. */
	struct done *c_done;
	size_t c_ndone;
	size_t c_first;
};

static struct xdc_driver *
route(struct compose *c, const struct xdc_action *a)
{
	return a->a_kind == XDC_OBJ_NETWORK ? c->c_net : c->c_dom;
}

/* A network's list of scopes (SPEC §9), copied into arena. */
static const char *const *
scopes_dup(struct xdc_arena *a, const struct xdc_obs_network *n)
{
	const char **w;
	size_t i;

	w = xdc_arena_alloc(a, (n->on_nscopes + 1) * sizeof(*w));
	for (i = 0; i < n->on_nscopes; i++)
		w[i] = xdc_arena_strdup(a, n->on_scopes[i]);
	return w;
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
			v[i].on_scopes =
			    scopes_dup(obs->obs_arena, &from->oh_networks[i]);
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
	struct done *dn;

	if (d->submit != NULL)
		return d->submit(d, a, token);
	/* A quick driver works at once; reap reports it, its message kept. */
	if (c->c_first == c->c_ndone)
		c->c_first = c->c_ndone = 0;
	c->c_done =
	    xdc_reallocarray(c->c_done, c->c_ndone + 1, sizeof(*c->c_done));
	dn = &c->c_done[c->c_ndone++];
	dn->d_token = token;
	dn->d_rc = d->apply(d, a);
	dn->d_msg = dn->d_rc != 0 ? xdc_strdup(xdc_error_last()) : NULL;
	return 0;
}

static int
compose_reap(struct xdc_driver *drv, uint64_t *token, int *result, char **msg)
{
	struct compose *c = (struct compose *)drv;
	struct done *dn;

	if (c->c_first < c->c_ndone) {
		dn = &c->c_done[c->c_first++];
		*token = dn->d_token;
		*result = dn->d_rc;
		*msg = dn->d_msg;
		dn->d_msg = NULL;
		return 0;
	}
	if (c->c_dom->reap != NULL)
		return c->c_dom->reap(c->c_dom, token, result, msg);
	return XDC_ENOTFOUND;
}

static int
compose_attach(struct xdc_driver *drv, struct xdc_ev *ev)
{
	struct compose *c = (struct compose *)drv;
	int rc;

	if (c->c_dom->attach != NULL && (rc = c->c_dom->attach(c->c_dom, ev)))
		return rc;
	if (c->c_net->attach != NULL)
		return c->c_net->attach(c->c_net, ev);
	return 0;
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

/* The host's watchdog is the domains' driver's. */
static int
compose_watchdog(struct xdc_driver *drv, int64_t timeout_ms)
{
	struct compose *c = (struct compose *)drv;

	return c->c_dom->watchdog(c->c_dom, timeout_ms);
}

static void
compose_free(struct xdc_driver *drv)
{
	struct compose *c = (struct compose *)drv;
	size_t i;

	c->c_dom->free(c->c_dom);
	c->c_net->free(c->c_net);
	for (i = c->c_first; i < c->c_ndone; i++)
		free(c->c_done[i].d_msg);
	free(c->c_done);
	free(c->c_host);
	free(c);
}

int
compose_new(struct xdc_driver *dom, struct xdc_driver *net, const char *host,
    struct xdc_driver **out)
{
	struct compose *c;
	int rc;

	*out = NULL;
	if ((rc = xdc_driver_check(dom)) != 0 ||
	    (rc = xdc_driver_check(net)) != 0)
		return rc;
	if (net->submit != NULL)
		return xdc_error(XDC_ERR,
		    "driver %s: a network driver must be quick (apply)",
		    net->name);
	c = xdc_calloc(1, sizeof(*c));
	c->c_drv.version = XDC_DRIVER_VERSION;
	c->c_drv.name = dom->name;
	c->c_drv.caps = dom->caps; /* a migrate is a VM action: dom's */
	c->c_drv.observe = compose_observe;
	c->c_drv.begin = compose_begin;
	c->c_drv.end = compose_end;
	c->c_drv.attach = compose_attach;
	c->c_drv.free = compose_free;
	c->c_drv.watch_fd = compose_watch_fd;
	c->c_drv.watch_drain = compose_watch_drain;
	if (dom->watchdog != NULL)
		c->c_drv.watchdog = compose_watchdog;
	if (dom->submit != NULL) {
		c->c_drv.submit = compose_submit;
		c->c_drv.reap = compose_reap;
	} else {
		c->c_drv.apply = compose_apply;
	}
	c->c_dom = dom;
	c->c_net = net;
	c->c_host = xdc_strdup(host);
	*out = &c->c_drv;
	return 0;
}
