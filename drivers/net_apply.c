/*
 * The net driver's Network actions (see net.c): create, update, destroy
 * and rescope a bridge, with its one uplink (the admin's port, or a VLAN
 * interface xdc makes on it) and its MTU, in the order the kernel needs.
 * Only a bridge marked as xdc's is changed; anything else of that name is
 * refused, naming it. A create that fails deletes what it made.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/if.h>
#include <linux/netlink.h>

#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/vlan.h>

#include "drivers/driver.h"
#include "drivers/net_priv.h"
#include "base/error.h"
#include "schema/values.h"

/* ---- Apply ------------------------------------------------------------ */

/*
 * The bridge an action may change: a bridge, marked as xdc's. Anything
 * else of that name is refused, naming it.
 */
static int
bridge_check(struct rtnl_link *br, const char *bridge, enum xdc_op op)
{
	if (!net_link_is(br, "bridge"))
		return xdc_error(XDC_EDRIVER,
		    "bridge %s: refusing to %s it: the link %s is %s, not a "
		    "bridge, and xdc does not manage it",
		    bridge, xdc_op_name(op), bridge, net_link_what(br));
	if (net_link_network(br) == NULL)
		return xdc_error(XDC_EDRIVER,
		    "bridge %s: refusing to %s it: xdc does not manage it "
		    "(its alias is not \"" NET_MARK "<network>\")",
		    bridge, xdc_op_name(op));
	return 0;
}

/* The VLAN interface xdc made for a network; 8021q's reasons explained. */
static int
vlan_create(struct net *n, const char *bridge, const char *name,
    struct rtnl_link *up, unsigned vid, const char *network,
    struct rtnl_link **out)
{
	struct rtnl_link *v = NULL;
	char who[64];
	const char *hint = "";
	int err, rc;

	*out = NULL;
	if ((v = rtnl_link_vlan_alloc()) == NULL)
		return xdc_error(XDC_ERR, "out of memory");
	rtnl_link_set_name(v, name);
	rtnl_link_set_link(v, rtnl_link_get_ifindex(up));
	rtnl_link_vlan_set_id(v, (uint16_t)vid);
	net_clear(n);
	err = rtnl_link_add(n->n_sock, v, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(v);
	if (err < 0) {
		if (err == -NLE_OPNOTSUPP)
			hint = " (is the 8021q module loaded?)";
		else if (err == -NLE_EXIST)
			hint = " (does another VLAN interface have that id?)";
		return xdc_error(XDC_EDRIVER,
		    "vlan %s: cannot create %s on %s: %s%s", bridge, name,
		    rtnl_link_get_name(up), net_reason(n, err), hint);
	}
	if ((rc = net_link_get(n, name, &v)) != 0)
		return rc == XDC_ENOTFOUND
		           ? xdc_error(XDC_EDRIVER,
		                 "vlan %s: %s vanished as it was "
		                 "created",
		                 bridge, name)
		           : rc;
	snprintf(who, sizeof(who), "vlan %s", bridge);
	if ((rc = net_link_mark(n, v, network, NULL, 0, 1, 0, who)) != 0) {
		rtnl_link_put(v);
		return rc;
	}
	*out = v;
	return 0;
}

/*
 * Make the declared uplink (or its VLAN interface) the bridge's one
 * uplink: release every other port that is not a VM's (deleting the VLAN
 * interfaces xdc made), then enslave the declared one, up.
 */
static int
bridge_set_uplink(
    struct net *n, const struct xdc_network *decl, struct rtnl_link *br)
{
	const char *bridge = rtnl_link_get_name(br);
	int brx = rtnl_link_get_ifindex(br), master;
	struct nl_cache *cache = NULL;
	struct rtnl_link *up = NULL, *port = NULL, *l, *m;
	struct nl_object *o;
	char vname[NET_IFNAMSIZ], mname[NET_IFNAMSIZ + 8];
	const char *want = NULL, *name;
	enum net_port kind;
	char who[NET_IFNAMSIZ + 8]; /* "bridge <name>", for messages */
	int rc;

	snprintf(who, sizeof(who), "bridge %s", bridge);
	if ((rc = net_links_load(n, &cache)) != 0)
		goto out;
	if (decl->n_uplink != NULL) {
		up = rtnl_link_get_by_name(cache, decl->n_uplink);
		if (up == NULL) {
			rc = xdc_error(XDC_EDRIVER,
			    "bridge %s: uplink %s does not exist", bridge,
			    decl->n_uplink);
			goto out;
		}
		if (net_link_is(up, "bridge")) {
			rc = xdc_error(XDC_EDRIVER,
			    "bridge %s: uplink %s is a bridge, not a port",
			    bridge, decl->n_uplink);
			goto out;
		}
		want = decl->n_uplink;
		if (decl->n_vlan != 0) {
			if (net_vlan_ifname(
			        decl->n_uplink, decl->n_vlan, vname) != 0) {
				rc = xdc_error(XDC_EDRIVER,
				    "bridge %s: no VLAN interface name for "
				    "%s vlan %u",
				    bridge, decl->n_uplink, decl->n_vlan);
				goto out;
			}
			want = vname;
		}
	}

	/* Release what is not the declared uplink. */
	for (o = nl_cache_get_first(cache); o != NULL;
	     o = nl_cache_get_next(o)) {
		l = (struct rtnl_link *)o;
		name = rtnl_link_get_name(l);
		if (rtnl_link_get_master(l) != brx ||
		    (want != NULL && strcmp(name, want) == 0))
			continue;
		kind = net_port_kind(name, net_link_kind(l));
		if (kind == NET_PORT_GUEST)
			continue;
		if (kind == NET_PORT_VLAN && net_link_network(l) != NULL)
			rc = net_link_delete(n, l, who);
		else
			rc = net_link_set_master(n, l, 0, 0, who);
		if (rc != 0)
			goto out;
	}
	if (up == NULL)
		goto out;

	if (decl->n_vlan == 0) {
		master = rtnl_link_get_master(up);
		if (master != 0 && master != brx) {
			m = rtnl_link_get(cache, master);
			snprintf(mname, sizeof(mname), "%s",
			    m != NULL ? rtnl_link_get_name(m)
			              : "another master");
			if (m != NULL)
				rtnl_link_put(m);
			rc = xdc_error(XDC_EDRIVER,
			    "bridge %s: uplink %s is a port of %s; xdc does "
			    "not take a port from another master",
			    bridge, decl->n_uplink, mname);
			goto out;
		}
		if (master != brx || !net_link_is_up(up))
			rc = net_link_set_master(n, up, brx, 1, who);
		goto out;
	}

	/* A VLAN: xdc's sub-interface on the uplink, both up. */
	port = rtnl_link_get_by_name(cache, vname);
	if (port != NULL) {
		if (!rtnl_link_is_vlan(port) ||
		    net_link_network(port) == NULL) {
			rc = xdc_error(XDC_EDRIVER,
			    "vlan %s: %s exists and xdc does not manage it "
			    "(%s without the alias \"" NET_MARK "<network>\"); "
			    "xdc neither takes nor deletes it",
			    bridge, vname, net_link_what(port));
			goto out;
		}
		master = rtnl_link_get_master(port);
		if (master != 0 && master != brx) {
			rc = xdc_error(XDC_EDRIVER,
			    "vlan %s: %s is a port of another bridge (ifindex "
			    "%d); not taking it",
			    bridge, vname, master);
			goto out;
		}
		if (rtnl_link_get_link(port) != rtnl_link_get_ifindex(up) ||
		    rtnl_link_vlan_get_id(port) != (int)decl->n_vlan) {
			/* xdc's, but stale (another uplink or id): redo. */
			if ((rc = net_link_delete(n, port, who)) != 0)
				goto out;
			rtnl_link_put(port);
			port = NULL;
		}
	}
	if (port == NULL) {
		if ((rc = vlan_create(n, bridge, vname, up, decl->n_vlan,
		         decl->n_name, &port)) != 0)
			goto out;
	}
	/* Tagged frames pass only while the parent is up. */
	if ((rc = net_link_set_up(n, up, who)) != 0)
		goto out;
	if (rtnl_link_get_master(port) != brx || !net_link_is_up(port))
		rc = net_link_set_master(n, port, brx, 1, who);
out:
	if (port != NULL)
		rtnl_link_put(port);
	if (up != NULL)
		rtnl_link_put(up);
	if (cache != NULL)
		nl_cache_free(cache);
	return rc;
}

/*
 * The declared MTU, on the bridge and on what feeds it. What the kernel
 * requires:
 * - A VLAN interface's MTU may not exceed its parent's (8021q answers
 *   ERANGE); lowering the parent lowers its VLANs, raising it does not
 *   raise them. So the parent is raised first, then the VLAN interface.
 * - A bridge whose MTU nobody set follows its smallest port: every port
 *   that joins or changes MTU moves it (br_mtu_auto_adjust). An MTU set
 *   through a change request (not the one in a new link's request) pins
 *   it, and since Linux 4.17 it may exceed its ports' (kernels before that
 *   refuse an MTU above the smallest port's, EINVAL). So the ports come
 *   first and the bridge's MTU last, and a port smaller than the bridge
 *   would drop big frames: the uplink is raised when it is smaller.
 * - xdc lowers only its own VLAN interface; a physical uplink is left as
 *   it is when it is larger (other VLANs may ride on it).
 */
static int
bridge_set_mtu(
    struct net *n, const struct xdc_network *decl, struct rtnl_link *br)
{
	const char *bridge = rtnl_link_get_name(br);
	unsigned mtu = decl->n_mtu;
	struct nl_cache *cache = NULL;
	struct rtnl_link *port, *parent = NULL, *b = NULL;
	char vname[NET_IFNAMSIZ];
	char who[NET_IFNAMSIZ + 8]; /* "bridge <name>", for messages */
	int rc;

	snprintf(who, sizeof(who), "bridge %s", bridge);
	if ((rc = net_links_load(n, &cache)) != 0)
		goto out;
	port = net_bridge_uplink(cache, rtnl_link_get_ifindex(br));
	/* Only the declared uplink: the MTU of a stray port is not ours. */
	if (port != NULL && decl->n_uplink != NULL) {
		if (decl->n_vlan != 0 && rtnl_link_is_vlan(port) &&
		    net_link_network(port) != NULL &&
		    net_vlan_ifname(decl->n_uplink, decl->n_vlan, vname) == 0 &&
		    strcmp(rtnl_link_get_name(port), vname) == 0) {
			parent = rtnl_link_get(cache, rtnl_link_get_link(port));
			if (parent != NULL && rtnl_link_get_mtu(parent) < mtu &&
			    (rc = net_link_set_mtu(n, parent, mtu, who)) != 0)
				goto out;
			if (rtnl_link_get_mtu(port) != mtu &&
			    (rc = net_link_set_mtu(n, port, mtu, who)) != 0)
				goto out;
		} else if (decl->n_vlan == 0 &&
		           strcmp(rtnl_link_get_name(port), decl->n_uplink) ==
		               0 &&
		           rtnl_link_get_mtu(port) < mtu) {
			if ((rc = net_link_set_mtu(n, port, mtu, who)) != 0)
				goto out;
		}
	}
	/* The cache is from before the ports moved: ask again. */
	if ((rc = net_link_get(n, bridge, &b)) != 0)
		goto out;
	if (rtnl_link_get_mtu(b) != mtu)
		rc = net_link_set_mtu(n, b, mtu, who);
out:
	if (b != NULL)
		rtnl_link_put(b);
	if (parent != NULL)
		rtnl_link_put(parent);
	if (cache != NULL)
		nl_cache_free(cache);
	return rc;
}

/* Bring an xdc bridge to the declaration, in what the mask says. */
static int
bridge_converge(struct net *n, const struct xdc_network *decl,
    struct rtnl_link *br, unsigned what)
{
	int rc;

	if ((what & XDC_UPD_UPLINK) &&
	    (rc = bridge_set_uplink(n, decl, br)) != 0)
		return rc;
	/*
	 * A new port can move a bridge's MTU, and the new port needs the
	 * declared one: the MTU is redone whenever the uplink changes.
	 */
	if (decl->n_mtu != 0 && (what & (XDC_UPD_MTU | XDC_UPD_UPLINK)) &&
	    (rc = bridge_set_mtu(n, decl, br)) != 0)
		return rc;
	return 0;
}

static int net_destroy(struct net *, const char *);

/*
 * Create an xdc bridge, or finish one a failed create left. A bridge this
 * call made is deleted again when the rest fails (a missing uplink, no
 * 8021q), so that a failed create leaves nothing behind.
 */
static int
net_create(struct net *n, const struct xdc_network *decl, const char *bridge,
    const struct xdc_action *a)
{
	struct rtnl_link *br = NULL, *l = NULL;
	char why[1024];
	char who[NET_IFNAMSIZ + 8]; /* "bridge <name>", for messages */
	int err, rc, fresh = 0;

	snprintf(who, sizeof(who), "bridge %s", bridge);
	rc = net_link_get(n, bridge, &br);
	if (rc == XDC_ENOTFOUND) {
		if ((l = rtnl_link_alloc()) == NULL) {
			rc = xdc_error(XDC_ERR, "out of memory");
			goto out;
		}
		rtnl_link_set_name(l, bridge);
		if ((err = rtnl_link_set_type(l, "bridge")) < 0) {
			rc = xdc_error(XDC_EDRIVER,
			    "bridge %s: cannot create it: %s", bridge,
			    nl_geterror(err));
			goto out;
		}
		net_clear(n);
		err = rtnl_link_add(n->n_sock, l, NLM_F_CREATE | NLM_F_EXCL);
		if (err < 0) {
			rc = xdc_error(XDC_EDRIVER,
			    "bridge %s: cannot create it: %s", bridge,
			    net_reason(n, err));
			goto out;
		}
		if ((rc = net_link_get(n, bridge, &br)) != 0)
			goto out;
		if ((rc = net_link_mark(n, br, decl->n_name, a->a_scopes,
		         a->a_nscopes, 1, 1, who)) != 0)
			goto out;
		fresh = 1;
	} else if (rc != 0) {
		goto out;
	} else {
		/* A retried create: the bridge is there; if it is ours, go on.
		 */
		if ((rc = bridge_check(br, bridge, XDC_OP_CREATE)) != 0)
			goto out;
		if ((rc = net_link_mark(n, br, decl->n_name, a->a_scopes,
		         a->a_nscopes, 0, 1, who)) != 0)
			goto out;
	}
	rc = bridge_converge(n, decl, br, XDC_UPD_UPLINK | XDC_UPD_MTU);
	if (rc != 0 && fresh) {
		snprintf(why, sizeof(why), "%s", xdc_error_last());
		(void)net_destroy(n, bridge);
		xdc_error(rc, "%s", why);
	}
out:
	if (l != NULL)
		rtnl_link_put(l);
	if (br != NULL)
		rtnl_link_put(br);
	return rc;
}

static int
net_update(struct net *n, const struct xdc_network *decl, const char *bridge,
    const struct xdc_action *a)
{
	unsigned what = a->a_update;
	struct rtnl_link *br = NULL;
	char who[NET_IFNAMSIZ + 8]; /* "bridge <name>", for messages */
	int rc;

	snprintf(who, sizeof(who), "bridge %s", bridge);
	rc = net_link_get(n, bridge, &br);
	if (rc == XDC_ENOTFOUND)
		rc = xdc_error(XDC_ENOTFOUND,
		    "bridge %s: cannot update it: no such bridge", bridge);
	if (rc != 0)
		goto out;
	if ((rc = bridge_check(br, bridge, XDC_OP_UPDATE)) != 0)
		goto out;
	/* A scope joins (or the name changes): the mark says so first. */
	if (((what & XDC_UPD_SCOPES) ||
	        !net_mark_is(rtnl_link_get_ifalias(br), decl->n_name)) &&
	    (rc = net_link_mark(n, br, decl->n_name, a->a_scopes, a->a_nscopes,
	         0, net_link_is_up(br), who)) != 0)
		goto out;
	/* A scope joining changes the mark, not the owner's settings. */
	if ((what & (XDC_UPD_MTU | XDC_UPD_UPLINK | XDC_UPD_SCOPES)) == 0)
		what = XDC_UPD_MTU | XDC_UPD_UPLINK;
	if ((what & (XDC_UPD_MTU | XDC_UPD_UPLINK)) != 0 &&
	    (rc = bridge_converge(n, decl, br, what)) != 0)
		goto out;
	/* A declared Network is up, whatever else the update is for. */
	rc = net_link_set_up(n, br, who);
out:
	if (br != NULL)
		rtnl_link_put(br);
	return rc;
}

/*
 * Delete an xdc bridge, then the VLAN interfaces xdc made for its network
 * (those that were its ports, and any left without a bridge by an
 * interrupted create). A physical uplink is released with the bridge, and
 * kept. A bridge that VMs' ports still use is not deleted yet.
 */
static int
net_destroy(struct net *n, const char *bridge)
{
	struct rtnl_link *br = NULL, *l;
	struct nl_cache *cache = NULL;
	struct nl_object *o;
	char network[64], guests[128];
	char who[NET_IFNAMSIZ + 8]; /* "bridge <name>", for messages */
	int brx, master, rc;
	size_t len = 0;

	snprintf(who, sizeof(who), "bridge %s", bridge);
	rc = net_link_get(n, bridge, &br);
	if (rc == XDC_ENOTFOUND) {
		rc = 0; /* gone already: done */
		goto out;
	}
	if (rc != 0)
		goto out;
	if ((rc = bridge_check(br, bridge, XDC_OP_DESTROY)) != 0)
		goto out;
	snprintf(network, sizeof(network), "%.*s",
	    (int)net_mark_name_len(net_link_network(br)), net_link_network(br));
	brx = rtnl_link_get_ifindex(br);
	if ((rc = net_links_load(n, &cache)) != 0)
		goto out;
	guests[0] = '\0';
	for (o = nl_cache_get_first(cache); o != NULL;
	     o = nl_cache_get_next(o)) {
		l = (struct rtnl_link *)o;
		if (rtnl_link_get_master(l) == brx &&
		    net_port_kind(rtnl_link_get_name(l), net_link_kind(l)) ==
		        NET_PORT_GUEST &&
		    len < sizeof(guests))
			len +=
			    (size_t)snprintf(guests + len, sizeof(guests) - len,
			        "%s%s", len ? ", " : "", rtnl_link_get_name(l));
	}
	if (guests[0] != '\0') {
		rc = xdc_error(XDC_ERETRY,
		    "bridge %s: VMs' ports are still on it (%s); not deleting "
		    "it yet",
		    bridge, guests);
		goto out;
	}
	if ((rc = net_link_delete(n, br, who)) != 0)
		goto out;
	for (o = nl_cache_get_first(cache); o != NULL;
	     o = nl_cache_get_next(o)) {
		l = (struct rtnl_link *)o;
		if (!rtnl_link_is_vlan(l) ||
		    !net_mark_is(rtnl_link_get_ifalias(l), network))
			continue;
		master = rtnl_link_get_master(l);
		if (master != 0 && master != brx)
			continue; /* another bridge's now: not ours to end */
		if ((rc = net_link_delete(n, l, who)) != 0)
			goto out;
	}
out:
	if (cache != NULL)
		nl_cache_free(cache);
	if (br != NULL)
		rtnl_link_put(br);
	return rc;
}

/* Rewrite the list of scopes in a bridge's mark, and nothing else. */
static int
net_rescope(struct net *n, const char *bridge, const struct xdc_action *a)
{
	struct rtnl_link *br = NULL;
	char who[NET_IFNAMSIZ + 8]; /* "bridge <name>", for messages */
	char network[XDC_NAME_MAX + 1];
	const char *m;
	int rc;

	snprintf(who, sizeof(who), "bridge %s", bridge);
	rc = net_link_get(n, bridge, &br);
	if (rc == XDC_ENOTFOUND)
		rc = xdc_error(XDC_ENOTFOUND,
		    "bridge %s: cannot update it: no such bridge", bridge);
	if (rc != 0)
		goto out;
	if ((rc = bridge_check(br, bridge, XDC_OP_UPDATE)) != 0)
		goto out;
	m = net_link_network(br);
	snprintf(
	    network, sizeof(network), "%.*s", (int)net_mark_name_len(m), m);
	rc = net_link_mark(n, br, network, a->a_scopes, a->a_nscopes, 0,
	    net_link_is_up(br), who);
out:
	if (br != NULL)
		rtnl_link_put(br);
	return rc;
}

int
net_apply(struct xdc_driver *drv, const struct xdc_action *a)
{
	struct net *n = (struct net *)drv;
	const char *bridge = a->a_bridge;

	if (a->a_kind != XDC_OBJ_NETWORK)
		return xdc_error(XDC_EDRIVER, "the net driver cannot %s a %s",
		    xdc_op_name(a->a_op), xdc_obj_kind_name(a->a_kind));
	if (bridge == NULL && a->a_net != NULL)
		bridge = a->a_net->n_bridge;
	if (bridge == NULL)
		return xdc_error(XDC_EDRIVER, "%s network %s: no bridge given",
		    xdc_op_name(a->a_op), a->a_name ? a->a_name : "?");
	/* A scope leaving a network others still declare: the mark only. */
	if (a->a_op == XDC_OP_UPDATE && a->a_net == NULL &&
	    a->a_update == XDC_UPD_SCOPES)
		return net_rescope(n, bridge, a);
	switch (a->a_op) {
	case XDC_OP_CREATE:
	case XDC_OP_UPDATE:
		if (a->a_net == NULL)
			return xdc_error(XDC_EDRIVER,
			    "%s bridge %s: the action has no network",
			    xdc_op_name(a->a_op), bridge);
		if (a->a_op == XDC_OP_CREATE)
			return net_create(n, a->a_net, bridge, a);
		return net_update(n, a->a_net, bridge, a);
	case XDC_OP_DESTROY:
		return net_destroy(n, bridge);
	default:
		return xdc_error(XDC_EDRIVER, "bridge %s: cannot %s a Network",
		    bridge, xdc_op_name(a->a_op));
	}
}
