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
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/if.h>
#include <linux/netlink.h>

#include <netlink/errno.h>
#include <netlink/handlers.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/vlan.h>
#include <netlink/socket.h>

#include "drivers/driver.h"
#include "drivers/net.h"
#include "base/arena.h"
#include "base/error.h"
#include "schema/values.h"

/*
 * The ownership mark, as the interface alias: NET_MARK + network name,
 * then, on a bridge that scopes other than the default one declare (SPEC
 * §9), ":" and their names in the order they joined, comma-separated:
 * "xdc:net:ci:mr-12,mr-14". A mark without the list, as every mark made
 * before scopes, is the default scope's. The kernel keeps an alias of at
 * most NET_ALIAS_MAX bytes, which bounds how many scopes can share one
 * network: an update that would need more is refused, naming the bridge.
 */
#define NET_MARK      "xdc:net:"
#define NET_IFNAMSIZ  16  /* IFNAMSIZ: 15 characters and the NUL */
#define NET_ALIAS_MAX 255 /* IFALIASZ less the NUL */

struct net {
	struct xdc_driver n_drv; /* first: the vtable callers see */
	char *n_host;
	struct nl_sock *n_sock;
	/* The kernel's answer to the last request that failed. */
	int n_errno;
	char n_extack[256];
	char n_reason[512];
};

/* ---- Pure helpers (tests/drivers/test_net.c) -------------------------- */

/* The network an alias marks as xdc's, or NULL when it is not xdc's. */
static const char *
net_mark_network(const char *alias)
{
	size_t len = sizeof(NET_MARK) - 1;

	if (alias == NULL || strncmp(alias, NET_MARK, len) != 0 ||
	    alias[len] == '\0')
		return NULL;
	return alias + len;
}

/* The length of the network's name at the start of what the mark names. */
static size_t
net_mark_name_len(const char *network)
{
	return strcspn(network, ":");
}

/* Whether an alias marks the link as network's. */
static int
net_mark_is(const char *alias, const char *network)
{
	const char *m = net_mark_network(alias);

	return m != NULL && net_mark_name_len(m) == strlen(network) &&
	       strncmp(m, network, strlen(network)) == 0;
}

/*
 * The alias that marks a bridge as network's, declared by scopes (none,
 * or only the default scope: the mark without a list). Returns 0, or -1
 * when it does not fit in NET_ALIAS_MAX bytes.
 */
static int
net_mark_encode(const char *network, const char *const *scopes, size_t n,
    char buf[NET_ALIAS_MAX + 1])
{
	size_t len, i;
	int w;

	w = snprintf(buf, NET_ALIAS_MAX + 1, "%s%s", NET_MARK, network);
	if (w < 0 || w > NET_ALIAS_MAX)
		return -1;
	len = (size_t)w;
	if (n == 0 || (n == 1 && !strcmp(scopes[0], XDC_SCOPE_DEFAULT)))
		return 0;
	for (i = 0; i < n; i++) {
		w = snprintf(buf + len, NET_ALIAS_MAX + 1 - len, "%c%s",
		    i == 0 ? ':' : ',', scopes[i]);
		if (w < 0 || (size_t)w > NET_ALIAS_MAX - len)
			return -1;
		len += (size_t)w;
	}
	return 0;
}

/*
 * The scopes an alias lists, into the arena: ["default"] for a mark
 * without a list. What is not a name is skipped: it cannot be a scope.
 */
static void
net_mark_scopes(const char *alias, struct xdc_arena *a, const char *const **out,
    size_t *nout)
{
	const char *m = net_mark_network(alias), *p, *e;
	const char **v;
	char name[XDC_NAME_MAX + 1];
	size_t n = 0, cap;

	p = m != NULL ? m + net_mark_name_len(m) : "";
	cap = 1;
	for (e = p; *e != '\0'; e++)
		cap += *e == ',';
	v = xdc_arena_alloc(a, (cap + 1) * sizeof(*v));
	if (*p == ':') {
		for (p++; *p != '\0'; p = *e ? e + 1 : e) {
			e = p + strcspn(p, ",");
			if ((size_t)(e - p) > XDC_NAME_MAX)
				continue;
			memcpy(name, p, (size_t)(e - p));
			name[e - p] = '\0';
			if (xdc_name_valid(name))
				v[n++] = xdc_arena_strdup(a, name);
		}
	}
	if (n == 0)
		v[n++] = XDC_SCOPE_DEFAULT;
	*out = v;
	*nout = n;
}

/*
 * The name of the VLAN interface xdc makes for vid on uplink: "eth1.20"
 * when it fits in 15 characters, else as much of the uplink's name as
 * fits, four hex digits of a hash of the whole name (so two long uplinks
 * that share a prefix differ) and ".vid": "enp0s2a1b2.4094". Deterministic,
 * so every observation and every retry names the same interface. Returns
 * -1 when uplink or vid cannot name one.
 */
static int
net_vlan_ifname(const char *uplink, unsigned vid, char out[NET_IFNAMSIZ])
{
	char suffix[8];
	size_t ulen, slen, keep;
	uint32_t h = 2166136261u; /* FNV-1a */
	const char *p;

	if (uplink == NULL || vid < 1 || vid > 4094)
		return -1;
	ulen = strlen(uplink);
	if (ulen == 0 || ulen >= NET_IFNAMSIZ)
		return -1;
	slen = (size_t)snprintf(suffix, sizeof(suffix), ".%u", vid);
	if (ulen + slen < NET_IFNAMSIZ) {
		snprintf(out, NET_IFNAMSIZ, "%s%s", uplink, suffix);
		return 0;
	}
	for (p = uplink; *p != '\0'; p++) {
		h ^= (unsigned char)*p;
		h *= 16777619u;
	}
	keep = NET_IFNAMSIZ - 1 - slen - 4;
	snprintf(out, NET_IFNAMSIZ, "%.*s%04x%s", (int)keep, uplink,
	    (unsigned)((h >> 16) ^ (h & 0xffff)), suffix);
	return 0;
}

enum net_port {
	NET_PORT_GUEST,  /* a VM's: Xen's backend vif, a tap */
	NET_PORT_UPLINK, /* a physical port, dummy, bond, veth, ... */
	NET_PORT_VLAN,   /* a VLAN sub-interface */
};

/*
 * What a bridge port is, by its name and link kind. Xen names its
 * backends vif<domid>.<n> (and vif<domid>.<n>-emu, tap<domid>.<n> for an
 * HVM guest's emulated NIC); netback registers no link kind, so the name
 * is what tells them from a physical port. Every other port can be an
 * uplink.
 */
static enum net_port
net_port_kind(const char *name, const char *kind)
{
	if (kind != NULL && strcmp(kind, "vlan") == 0)
		return NET_PORT_VLAN;
	if (kind != NULL && strcmp(kind, "tun") == 0)
		return NET_PORT_GUEST;
	if (name != NULL &&
	    (strncmp(name, "vif", 3) == 0 || strncmp(name, "tap", 3) == 0))
		return NET_PORT_GUEST;
	return NET_PORT_UPLINK;
}

/* ---- The kernel's reasons --------------------------------------------- */

/*
 * libnl maps the kernel's errno to its own codes and drops the extended
 * ack; this keeps both, from the NLMSG_ERROR itself, for net_reason().
 */
static int
net_on_error(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	struct net *n = arg;
	const struct nlmsghdr *h;
	const struct nlattr *a;
	size_t off, len;
	int rem;

	(void)who;
	n->n_errno = e->error < 0 ? -e->error : e->error;
	n->n_extack[0] = '\0';
	/* The error message's header comes just before its payload. */
	h = (const struct nlmsghdr *)(const void *)((const char *)e -
	                                            NLMSG_HDRLEN);
	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return NL_STOP;
	/* The TLVs follow the request, whole or capped to its header. */
	off = NLMSG_HDRLEN + sizeof(*e);
	if (!(h->nlmsg_flags & NLM_F_CAPPED) &&
	    e->msg.nlmsg_len >= sizeof(e->msg))
		off += NLMSG_ALIGN(e->msg.nlmsg_len - sizeof(e->msg));
	if (h->nlmsg_len < off)
		return NL_STOP;
	len = h->nlmsg_len - off;
	a = (const struct nlattr *)(const void *)((const char *)h + off);
	rem = (int)len;
	for (; nla_ok(a, rem); a = nla_next(a, &rem)) {
		if (nla_type(a) != NLMSGERR_ATTR_MSG || nla_len(a) < 1)
			continue;
		snprintf(n->n_extack, sizeof(n->n_extack), "%.*s", nla_len(a),
		    (const char *)nla_data(a));
		len = strlen(n->n_extack);
		while (len > 0 && (n->n_extack[len - 1] == '\n' ||
		                      n->n_extack[len - 1] == '.'))
			n->n_extack[--len] = '\0';
		break;
	}
	return NL_STOP; /* libnl turns the errno into its code */
}

static void
net_clear(struct net *n)
{
	n->n_errno = 0;
	n->n_extack[0] = '\0';
}

/*
 * The kernel's reason for a failed request: libnl's message for its code
 * (or strerror when libnl has no better word than "Unspecific failure"),
 * and what the kernel's extended ack said. Borrowed until the next call.
 */
static const char *
net_reason(struct net *n, int nlerr)
{
	const char *what = nl_geterror(nlerr);

	if ((nlerr < 0 ? -nlerr : nlerr) == NLE_FAILURE && n->n_errno != 0)
		what = strerror(n->n_errno);
	if (n->n_extack[0] != '\0' && strcmp(n->n_extack, what) != 0)
		snprintf(n->n_reason, sizeof(n->n_reason), "%s: %s", what,
		    n->n_extack);
	else
		snprintf(n->n_reason, sizeof(n->n_reason), "%s", what);
	return n->n_reason;
}

/* ---- Links ------------------------------------------------------------ */

static const char *
link_kind(struct rtnl_link *l)
{
	return rtnl_link_get_type(l);
}

static int
link_is(struct rtnl_link *l, const char *kind)
{
	const char *k = link_kind(l);

	return k != NULL && strcmp(k, kind) == 0;
}

static int
link_is_up(struct rtnl_link *l)
{
	return (rtnl_link_get_flags(l) & IFF_UP) != 0;
}

/* What a link is, for messages: "a veth link", "a physical port". */
static const char *
link_what(struct rtnl_link *l)
{
	static char buf[64];
	const char *k = link_kind(l);

	if (k == NULL)
		return "a physical port";
	snprintf(buf, sizeof(buf), "a %s link", k);
	return buf;
}

/*
 * The link named name, fresh from the kernel: 0 and *out (the caller puts
 * it), XDC_ENOTFOUND when there is none, or an error.
 */
static int
link_get(struct net *n, const char *name, struct rtnl_link **out)
{
	int err;

	*out = NULL;
	net_clear(n);
	err = rtnl_link_get_kernel(n->n_sock, 0, name, out);
	if (err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV)
		return XDC_ENOTFOUND;
	if (err < 0)
		return xdc_error(XDC_EDRIVER, "cannot read link %s: %s", name,
		    net_reason(n, err));
	return 0;
}

/* Every link of the namespace, at this moment. */
static int
links_load(struct net *n, struct nl_cache **out)
{
	int err;

	*out = NULL;
	net_clear(n);
	if ((err = rtnl_link_alloc_cache(n->n_sock, AF_UNSPEC, out)) < 0)
		return xdc_error(
		    XDC_EDRIVER, "cannot list links: %s", net_reason(n, err));
	return 0;
}

/* Apply changes to the link l; errors say "<who>: cannot <what> <l>". */
static int
link_change(struct net *n, struct rtnl_link *l, struct rtnl_link *changes,
    const char *who, const char *what)
{
	int err;

	net_clear(n);
	if ((err = rtnl_link_change(n->n_sock, l, changes, 0)) < 0)
		return xdc_error(XDC_EDRIVER, "%s: cannot %s %s: %s", who, what,
		    rtnl_link_get_name(l), net_reason(n, err));
	return 0;
}

static int
link_delete(struct net *n, struct rtnl_link *l, const char *who)
{
	int err;

	net_clear(n);
	err = rtnl_link_delete(n->n_sock, l);
	if (err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV)
		return 0;
	if (err < 0)
		return xdc_error(XDC_EDRIVER, "%s: cannot delete %s: %s", who,
		    rtnl_link_get_name(l), net_reason(n, err));
	return 0;
}

/* Make l a port of master (0: of none) and, when up, set it up. */
static int
link_set_master(
    struct net *n, struct rtnl_link *l, int master, int up, const char *who)
{
	struct rtnl_link *c = rtnl_link_alloc();
	int rc;

	if (c == NULL)
		return xdc_error(XDC_ERR, "out of memory");
	rtnl_link_set_master(c, master);
	if (up)
		rtnl_link_set_flags(c, IFF_UP);
	rc = link_change(n, l, c, who, master ? "enslave" : "release");
	rtnl_link_put(c);
	return rc;
}

static int
link_set_mtu(struct net *n, struct rtnl_link *l, unsigned mtu, const char *who)
{
	struct rtnl_link *c = rtnl_link_alloc();
	char what[48];
	int rc;

	if (c == NULL)
		return xdc_error(XDC_ERR, "out of memory");
	rtnl_link_set_mtu(c, mtu);
	snprintf(what, sizeof(what), "set MTU %u on", mtu);
	rc = link_change(n, l, c, who, what);
	rtnl_link_put(c);
	return rc;
}

static int
link_set_up(struct net *n, struct rtnl_link *l, const char *who)
{
	struct rtnl_link *c;
	int rc;

	if (link_is_up(l))
		return 0;
	if ((c = rtnl_link_alloc()) == NULL)
		return xdc_error(XDC_ERR, "out of memory");
	rtnl_link_set_flags(c, IFF_UP);
	rc = link_change(n, l, c, who, "set up");
	rtnl_link_put(c);
	return rc;
}

/*
 * Mark a link as the network's, and set it up when up says so (a VLAN
 * interface cannot be up before its parent is). A link xdc has just
 * created (fresh) that cannot be marked is deleted again: left unmarked,
 * xdc would refuse to touch it ever after.
 */
static int
link_mark(struct net *n, struct rtnl_link *l, const char *network,
    const char *const *scopes, size_t nscopes, int fresh, int up,
    const char *who)
{
	struct rtnl_link *c;
	char alias[NET_ALIAS_MAX + 1];
	int rc;

	if (net_mark_encode(network, scopes, nscopes, alias) != 0) {
		rc = xdc_error(XDC_EDRIVER,
		    "%s: the %zu scopes that declare Network %s do not fit in "
		    "its alias (%d bytes); fewer scopes can share it",
		    who, nscopes, network, NET_ALIAS_MAX);
		if (fresh) {
			net_clear(n);
			(void)rtnl_link_delete(n->n_sock, l);
		}
		return rc;
	}
	if ((c = rtnl_link_alloc()) == NULL)
		return xdc_error(XDC_ERR, "out of memory");
	rtnl_link_set_ifalias(c, alias);
	if (up)
		rtnl_link_set_flags(c, IFF_UP);
	rc = link_change(n, l, c, who, "mark");
	rtnl_link_put(c);
	if (rc != 0 && fresh) {
		net_clear(n);
		(void)rtnl_link_delete(n->n_sock, l);
	}
	return rc;
}

/* The network a link is marked for, or NULL. */
static const char *
link_network(struct rtnl_link *l)
{
	return net_mark_network(rtnl_link_get_ifalias(l));
}

/*
 * The uplink port of the bridge with ifindex br in cache (borrowed), or
 * NULL: a VLAN interface xdc made first, else the oldest (lowest ifindex)
 * port that is not a VM's.
 */
static struct rtnl_link *
bridge_uplink(struct nl_cache *cache, int br)
{
	struct rtnl_link *best = NULL, *l;
	struct nl_object *o;
	int best_rank = 0, rank;

	for (o = nl_cache_get_first(cache); o != NULL;
	     o = nl_cache_get_next(o)) {
		l = (struct rtnl_link *)o;
		if (rtnl_link_get_master(l) != br)
			continue;
		switch (net_port_kind(rtnl_link_get_name(l), link_kind(l))) {
		case NET_PORT_GUEST:
			continue;
		case NET_PORT_VLAN:
			rank = link_network(l) != NULL ? 0 : 1;
			break;
		default:
			rank = 1;
			break;
		}
		if (best == NULL || rank < best_rank ||
		    (rank == best_rank && rtnl_link_get_ifindex(l) <
		                              rtnl_link_get_ifindex(best))) {
			best = l;
			best_rank = rank;
		}
	}
	return best;
}

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
	if ((rc = links_load(n, &cache)) != 0)
		goto out;
	obs = xdc_observed_new();
	oh = xdc_arena_zalloc(obs->obs_arena, sizeof(*oh));
	oh->oh_name = xdc_arena_strdup(obs->obs_arena, n->n_host);
	obs->obs_hosts = oh;
	obs->obs_nhosts = 1;

	for (o = nl_cache_get_first(cache); o != NULL; o = nl_cache_get_next(o))
		if (link_is((struct rtnl_link *)o, "bridge"))
			nbr++;
	oh->oh_networks = nbr > 0 ? xdc_arena_zalloc(obs->obs_arena,
	                                nbr * sizeof(*oh->oh_networks))
	                          : NULL;
	for (o = nl_cache_get_first(cache); o != NULL;
	     o = nl_cache_get_next(o)) {
		l = (struct rtnl_link *)o;
		if (!link_is(l, "bridge"))
			continue;
		on = &oh->oh_networks[oh->oh_nnetworks++];
		on->on_bridge =
		    xdc_arena_strdup(obs->obs_arena, rtnl_link_get_name(l));
		on->on_mtu = rtnl_link_get_mtu(l);
		on->on_up = link_is_up(l);
		network = link_network(l);
		on->on_managed = network != NULL;
		on->on_name = network != NULL
		                  ? xdc_arena_strndup(obs->obs_arena, network,
		                        net_mark_name_len(network))
		                  : NULL;
		if (network != NULL)
			net_mark_scopes(rtnl_link_get_ifalias(l),
			    obs->obs_arena, &on->on_scopes, &on->on_nscopes);
		port = bridge_uplink(cache, rtnl_link_get_ifindex(l));
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

/* ---- Apply ------------------------------------------------------------ */

/*
 * The bridge an action may change: a bridge, marked as xdc's. Anything
 * else of that name is refused, naming it.
 */
static int
bridge_check(struct rtnl_link *br, const char *bridge, enum xdc_op op)
{
	if (!link_is(br, "bridge"))
		return xdc_error(XDC_EDRIVER,
		    "bridge %s: refusing to %s it: the link %s is %s, not a "
		    "bridge, and xdc does not manage it",
		    bridge, xdc_op_name(op), bridge, link_what(br));
	if (link_network(br) == NULL)
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
	if ((rc = link_get(n, name, &v)) != 0)
		return rc == XDC_ENOTFOUND
		           ? xdc_error(XDC_EDRIVER,
		                 "vlan %s: %s vanished as it was "
		                 "created",
		                 bridge, name)
		           : rc;
	snprintf(who, sizeof(who), "vlan %s", bridge);
	if ((rc = link_mark(n, v, network, NULL, 0, 1, 0, who)) != 0) {
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
	if ((rc = links_load(n, &cache)) != 0)
		goto out;
	if (decl->n_uplink != NULL) {
		up = rtnl_link_get_by_name(cache, decl->n_uplink);
		if (up == NULL) {
			rc = xdc_error(XDC_EDRIVER,
			    "bridge %s: uplink %s does not exist", bridge,
			    decl->n_uplink);
			goto out;
		}
		if (link_is(up, "bridge")) {
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
		kind = net_port_kind(name, link_kind(l));
		if (kind == NET_PORT_GUEST)
			continue;
		if (kind == NET_PORT_VLAN && link_network(l) != NULL)
			rc = link_delete(n, l, who);
		else
			rc = link_set_master(n, l, 0, 0, who);
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
		if (master != brx || !link_is_up(up))
			rc = link_set_master(n, up, brx, 1, who);
		goto out;
	}

	/* A VLAN: xdc's sub-interface on the uplink, both up. */
	port = rtnl_link_get_by_name(cache, vname);
	if (port != NULL) {
		if (!rtnl_link_is_vlan(port) || link_network(port) == NULL) {
			rc = xdc_error(XDC_EDRIVER,
			    "vlan %s: %s exists and xdc does not manage it "
			    "(%s without the alias \"" NET_MARK "<network>\"); "
			    "xdc neither takes nor deletes it",
			    bridge, vname, link_what(port));
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
			if ((rc = link_delete(n, port, who)) != 0)
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
	if ((rc = link_set_up(n, up, who)) != 0)
		goto out;
	if (rtnl_link_get_master(port) != brx || !link_is_up(port))
		rc = link_set_master(n, port, brx, 1, who);
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
	if ((rc = links_load(n, &cache)) != 0)
		goto out;
	port = bridge_uplink(cache, rtnl_link_get_ifindex(br));
	/* Only the declared uplink: the MTU of a stray port is not ours. */
	if (port != NULL && decl->n_uplink != NULL) {
		if (decl->n_vlan != 0 && rtnl_link_is_vlan(port) &&
		    link_network(port) != NULL &&
		    net_vlan_ifname(decl->n_uplink, decl->n_vlan, vname) == 0 &&
		    strcmp(rtnl_link_get_name(port), vname) == 0) {
			parent = rtnl_link_get(cache, rtnl_link_get_link(port));
			if (parent != NULL && rtnl_link_get_mtu(parent) < mtu &&
			    (rc = link_set_mtu(n, parent, mtu, who)) != 0)
				goto out;
			if (rtnl_link_get_mtu(port) != mtu &&
			    (rc = link_set_mtu(n, port, mtu, who)) != 0)
				goto out;
		} else if (decl->n_vlan == 0 &&
		           strcmp(rtnl_link_get_name(port), decl->n_uplink) ==
		               0 &&
		           rtnl_link_get_mtu(port) < mtu) {
			if ((rc = link_set_mtu(n, port, mtu, who)) != 0)
				goto out;
		}
	}
	/* The cache is from before the ports moved: ask again. */
	if ((rc = link_get(n, bridge, &b)) != 0)
		goto out;
	if (rtnl_link_get_mtu(b) != mtu)
		rc = link_set_mtu(n, b, mtu, who);
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
	rc = link_get(n, bridge, &br);
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
		if ((rc = link_get(n, bridge, &br)) != 0)
			goto out;
		if ((rc = link_mark(n, br, decl->n_name, a->a_scopes,
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
		if ((rc = link_mark(n, br, decl->n_name, a->a_scopes,
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
	rc = link_get(n, bridge, &br);
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
	    (rc = link_mark(n, br, decl->n_name, a->a_scopes, a->a_nscopes, 0,
	         link_is_up(br), who)) != 0)
		goto out;
	/* A scope joining changes the mark, not the owner's settings. */
	if ((what & (XDC_UPD_MTU | XDC_UPD_UPLINK | XDC_UPD_SCOPES)) == 0)
		what = XDC_UPD_MTU | XDC_UPD_UPLINK;
	if ((what & (XDC_UPD_MTU | XDC_UPD_UPLINK)) != 0 &&
	    (rc = bridge_converge(n, decl, br, what)) != 0)
		goto out;
	/* A declared Network is up, whatever else the update is for. */
	rc = link_set_up(n, br, who);
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
	rc = link_get(n, bridge, &br);
	if (rc == XDC_ENOTFOUND) {
		rc = 0; /* gone already: done */
		goto out;
	}
	if (rc != 0)
		goto out;
	if ((rc = bridge_check(br, bridge, XDC_OP_DESTROY)) != 0)
		goto out;
	snprintf(network, sizeof(network), "%.*s",
	    (int)net_mark_name_len(link_network(br)), link_network(br));
	brx = rtnl_link_get_ifindex(br);
	if ((rc = links_load(n, &cache)) != 0)
		goto out;
	guests[0] = '\0';
	for (o = nl_cache_get_first(cache); o != NULL;
	     o = nl_cache_get_next(o)) {
		l = (struct rtnl_link *)o;
		if (rtnl_link_get_master(l) == brx &&
		    net_port_kind(rtnl_link_get_name(l), link_kind(l)) ==
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
	if ((rc = link_delete(n, br, who)) != 0)
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
		if ((rc = link_delete(n, l, who)) != 0)
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
	rc = link_get(n, bridge, &br);
	if (rc == XDC_ENOTFOUND)
		rc = xdc_error(XDC_ENOTFOUND,
		    "bridge %s: cannot update it: no such bridge", bridge);
	if (rc != 0)
		goto out;
	if ((rc = bridge_check(br, bridge, XDC_OP_UPDATE)) != 0)
		goto out;
	m = link_network(br);
	snprintf(
	    network, sizeof(network), "%.*s", (int)net_mark_name_len(m), m);
	rc = link_mark(
	    n, br, network, a->a_scopes, a->a_nscopes, 0, link_is_up(br), who);
out:
	if (br != NULL)
		rtnl_link_put(br);
	return rc;
}

static int
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
