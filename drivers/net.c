/*
 * The net driver: a Network is a Linux bridge, its uplink (a port, or the
 * port's VLAN sub-interface) and its MTU, kept through rtnetlink with
 * libnl-route-3 (no `ip`, no shell). It observes the bridges of the network
 * namespace it runs in, as one host, and applies Network actions only.
 *
 * Ownership: every link xdc creates (the bridge, a VLAN sub-interface)
 * carries the interface alias "xdc:net:<network>". A bridge without it is
 * observed (unmanaged) and never changed or deleted; a VLAN interface
 * without it is never taken, changed or deleted. The uplink a Network
 * names is the admin's own port: xdc enslaves it, sets it up and raises its
 * MTU when the bridge needs that, releases it, and never deletes it.
 *
 * The mark cannot go with the creation: the kernel ignores IFLA_IFALIAS in
 * a new link's request, so a link is created, then marked at once; if
 * marking fails, the link is deleted again.
 *
 * Errors name the link and the kernel's reason: nl_geterror() of libnl's
 * code, and the kernel's extended ack message when it gave one.
 *
 * Here is the driver itself: observing the bridges, and opening and
 * freeing it. Applying is net_apply.c's; the links and the kernel's
 * reasons are net_link.c's; the mark and the names net_mark.c's; what they
 * share is drivers/net_priv.h.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netlink.h>

#include <netlink/errno.h>
#include <netlink/handlers.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/vlan.h>
#include <netlink/socket.h>

#include "drivers/driver.h"
#include "drivers/net.h"
#include "drivers/net_priv.h"
#include "base/arena.h"
#include "base/error.h"

/* ---- Observe ---------------------------------------------------------- */

static int
obs_cmp(const void *a, const void *b)
{
	const struct xdc_obs_network *x = a, *y = b;

	return strcmp(x->on_bridge, y->on_bridge);
}

static int
net_observe(struct xdc_driver *drv, struct xdc_observed **out)
{
	struct net *n = (struct net *)drv;
	struct xdc_observed *obs = NULL;
	struct xdc_obs_host *oh;
	struct xdc_obs_network *on;
	struct nl_cache *cache = NULL;
	struct rtnl_link *l, *port, *parent;
	struct nl_object *o;
	size_t nbr = 0;
	const char *network;
	int rc;

	*out = NULL;
	if ((rc = net_links_load(n, &cache)) != 0)
		goto out;
	obs = xdc_observed_new();
	oh = xdc_arena_zalloc(obs->obs_arena, sizeof(*oh));
	oh->oh_name = xdc_arena_strdup(obs->obs_arena, n->n_host);
	obs->obs_hosts = oh;
	obs->obs_nhosts = 1;

	for (o = nl_cache_get_first(cache); o != NULL; o = nl_cache_get_next(o))
		if (net_link_is((struct rtnl_link *)o, "bridge"))
			nbr++;
	oh->oh_networks = nbr > 0 ? xdc_arena_zalloc(obs->obs_arena,
	                                nbr * sizeof(*oh->oh_networks))
	                          : NULL;
	for (o = nl_cache_get_first(cache); o != NULL;
	     o = nl_cache_get_next(o)) {
		l = (struct rtnl_link *)o;
		if (!net_link_is(l, "bridge"))
			continue;
		on = &oh->oh_networks[oh->oh_nnetworks++];
		on->on_bridge =
		    xdc_arena_strdup(obs->obs_arena, rtnl_link_get_name(l));
		on->on_mtu = rtnl_link_get_mtu(l);
		on->on_up = net_link_is_up(l);
		network = net_link_network(l);
		on->on_managed = network != NULL;
		on->on_name = network != NULL
		                  ? xdc_arena_strndup(obs->obs_arena, network,
		                        net_mark_name_len(network))
		                  : NULL;
		if (network != NULL)
			net_mark_scopes(rtnl_link_get_ifalias(l),
			    obs->obs_arena, &on->on_scopes, &on->on_nscopes);
		port = net_bridge_uplink(cache, rtnl_link_get_ifindex(l));
		if (port == NULL)
			continue;
		if (rtnl_link_is_vlan(port)) {
			parent = rtnl_link_get(cache, rtnl_link_get_link(port));
			/* A parent in another namespace has no name here. */
			on->on_uplink = xdc_arena_strdup(obs->obs_arena,
			    parent != NULL ? rtnl_link_get_name(parent) : "?");
			on->on_vlan = (uint16_t)rtnl_link_vlan_get_id(port);
			if (parent != NULL)
				rtnl_link_put(parent);
		} else {
			on->on_uplink = xdc_arena_strdup(
			    obs->obs_arena, rtnl_link_get_name(port));
		}
	}
	if (oh->oh_nnetworks > 1)
		qsort(oh->oh_networks, oh->oh_nnetworks,
		    sizeof(*oh->oh_networks), obs_cmp);
	*out = obs;
	obs = NULL;
	rc = 0;
out:
	if (cache != NULL)
		nl_cache_free(cache);
	xdc_observed_free(obs);
	return rc;
}

/* ---- Open and free ---------------------------------------------------- */

static void
net_free(struct xdc_driver *drv)
{
	struct net *n = (struct net *)drv;

	if (n == NULL)
		return;
	if (n->n_sock != NULL)
		nl_socket_free(n->n_sock);
	free(n->n_host);
	free(n);
}

int
net_open(const char *host, struct xdc_driver **out)
{
	struct net *n = xdc_calloc(1, sizeof(*n));
	struct nl_cb *cb;
	int err, one = 1, rc;

	*out = NULL;
	n->n_drv.version = XDC_DRIVER_VERSION;
	n->n_drv.name = "net";
	n->n_drv.observe = net_observe;
	n->n_drv.apply = net_apply;
	n->n_drv.free = net_free;
	n->n_host = xdc_strdup(host != NULL ? host : XDC_LOCAL_HOST);
	if ((n->n_sock = nl_socket_alloc()) == NULL) {
		rc = xdc_error(XDC_ERR, "cannot open rtnetlink: out of memory");
		goto out;
	}
	if ((err = nl_connect(n->n_sock, NETLINK_ROUTE)) < 0) {
		rc = xdc_error(
		    XDC_EDRIVER, "cannot open rtnetlink: %s", nl_geterror(err));
		goto out;
	}
	/* The kernel's own words for a failure, where it has some. */
	(void)setsockopt(nl_socket_get_fd(n->n_sock), SOL_NETLINK,
	    NETLINK_EXT_ACK, &one, sizeof(one));
	cb = nl_socket_get_cb(n->n_sock);
	nl_cb_err(cb, NL_CB_CUSTOM, net_on_error, n);
	nl_cb_put(cb);
	*out = &n->n_drv;
	n = NULL;
	rc = 0;
out:
	if (n != NULL)
		net_free(&n->n_drv);
	return rc;
}
