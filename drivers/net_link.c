/*
 * The net driver's links, through rtnetlink with libnl-route-3 (see
 * net.c): a link read, changed, marked as xdc's, enslaved to a bridge,
 * given an MTU, set up or deleted, each failure naming the link and the
 * kernel's reason. libnl keeps only its own code for a failed request:
 * net_on_error keeps the kernel's errno and extended ack from the
 * NLMSG_ERROR itself, and net_reason words them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/if.h>
#include <linux/netlink.h>

#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>

#include "drivers/net_priv.h"
#include "base/error.h"

/* ---- The kernel's reasons --------------------------------------------- */

/*
 * libnl maps the kernel's errno to its own codes and drops the extended
 * ack; this keeps both, from the NLMSG_ERROR itself, for net_reason().
 */
int
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

void
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
const char *
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

const char *
net_link_kind(struct rtnl_link *l)
{
	return rtnl_link_get_type(l);
}

int
net_link_is(struct rtnl_link *l, const char *kind)
{
	const char *k = net_link_kind(l);

	return k != NULL && strcmp(k, kind) == 0;
}

int
net_link_is_up(struct rtnl_link *l)
{
	return (rtnl_link_get_flags(l) & IFF_UP) != 0;
}

/* What a link is, for messages: "a veth link", "a physical port". */
const char *
net_link_what(struct rtnl_link *l)
{
	static char buf[64];
	const char *k = net_link_kind(l);

	if (k == NULL)
		return "a physical port";
	snprintf(buf, sizeof(buf), "a %s link", k);
	return buf;
}

/*
 * The link named name, fresh from the kernel: 0 and *out (the caller puts
 * it), XDC_ENOTFOUND when there is none, or an error.
 */
int
net_link_get(struct net *n, const char *name, struct rtnl_link **out)
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
int
net_links_load(struct net *n, struct nl_cache **out)
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
net_link_change(struct net *n, struct rtnl_link *l, struct rtnl_link *changes,
    const char *who, const char *what)
{
	int err;

	net_clear(n);
	if ((err = rtnl_link_change(n->n_sock, l, changes, 0)) < 0)
		return xdc_error(XDC_EDRIVER, "%s: cannot %s %s: %s", who, what,
		    rtnl_link_get_name(l), net_reason(n, err));
	return 0;
}

int
net_link_delete(struct net *n, struct rtnl_link *l, const char *who)
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
int
net_link_set_master(
    struct net *n, struct rtnl_link *l, int master, int up, const char *who)
{
	struct rtnl_link *c = rtnl_link_alloc();
	int rc;

	if (c == NULL)
		return xdc_error(XDC_ERR, "out of memory");
	rtnl_link_set_master(c, master);
	if (up)
		rtnl_link_set_flags(c, IFF_UP);
	rc = net_link_change(n, l, c, who, master ? "enslave" : "release");
	rtnl_link_put(c);
	return rc;
}

int
net_link_set_mtu(
    struct net *n, struct rtnl_link *l, unsigned mtu, const char *who)
{
	struct rtnl_link *c = rtnl_link_alloc();
	char what[48];
	int rc;

	if (c == NULL)
		return xdc_error(XDC_ERR, "out of memory");
	rtnl_link_set_mtu(c, mtu);
	snprintf(what, sizeof(what), "set MTU %u on", mtu);
	rc = net_link_change(n, l, c, who, what);
	rtnl_link_put(c);
	return rc;
}

int
net_link_set_up(struct net *n, struct rtnl_link *l, const char *who)
{
	struct rtnl_link *c;
	int rc;

	if (net_link_is_up(l))
		return 0;
	if ((c = rtnl_link_alloc()) == NULL)
		return xdc_error(XDC_ERR, "out of memory");
	rtnl_link_set_flags(c, IFF_UP);
	rc = net_link_change(n, l, c, who, "set up");
	rtnl_link_put(c);
	return rc;
}

/*
 * Mark a link as the network's, and set it up when up says so (a VLAN
 * interface cannot be up before its parent is). A link xdc has just
 * created (fresh) that cannot be marked is deleted again: left unmarked,
 * xdc would refuse to touch it ever after.
 */
int
net_link_mark(struct net *n, struct rtnl_link *l, const char *network,
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
	rc = net_link_change(n, l, c, who, "mark");
	rtnl_link_put(c);
	if (rc != 0 && fresh) {
		net_clear(n);
		(void)rtnl_link_delete(n->n_sock, l);
	}
	return rc;
}

/* The network a link is marked for, or NULL. */
const char *
net_link_network(struct rtnl_link *l)
{
	return net_mark_network(rtnl_link_get_ifalias(l));
}

/*
 * The uplink port of the bridge with ifindex br in cache (borrowed), or
 * NULL: a VLAN interface xdc made first, else the oldest (lowest ifindex)
 * port that is not a VM's.
 */
struct rtnl_link *
net_bridge_uplink(struct nl_cache *cache, int br)
{
	struct rtnl_link *best = NULL, *l;
	struct nl_object *o;
	int best_rank = 0, rank;

	for (o = nl_cache_get_first(cache); o != NULL;
	     o = nl_cache_get_next(o)) {
		l = (struct rtnl_link *)o;
		if (rtnl_link_get_master(l) != br)
			continue;
		switch (
		    net_port_kind(rtnl_link_get_name(l), net_link_kind(l))) {
		case NET_PORT_GUEST:
			continue;
		case NET_PORT_VLAN:
			rank = net_link_network(l) != NULL ? 0 : 1;
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
