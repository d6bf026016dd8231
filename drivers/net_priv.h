/*
 * What the files of the net driver (net.c, net_apply.c, net_link.c,
 * net_mark.c) share: the driver's struct, the ownership mark's bounds,
 * and the functions between them. Nothing outside drivers/net*.c includes
 * it but tests/drivers/test_net.c.
 */
#ifndef XDC_NET_PRIV_H
#define XDC_NET_PRIV_H

#include <stddef.h>

#include <linux/netlink.h>

#include <netlink/cache.h>
#include <netlink/route/link.h>

#include "drivers/driver.h"

struct xdc_arena;
struct xdc_network;

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

enum net_port {
	NET_PORT_GUEST,  /* a VM's: Xen's backend vif, a tap */
	NET_PORT_UPLINK, /* a physical port, dummy, bond, veth, ... */
	NET_PORT_VLAN,   /* a VLAN sub-interface */
};

/* net_mark.c: the mark, the VLAN interface's name, a port's kind. */
const char *net_mark_network(const char *alias);
size_t net_mark_name_len(const char *network);
int net_mark_is(const char *alias, const char *network);
int net_mark_encode(const char *network, const char *const *scopes, size_t n,
    char buf[NET_ALIAS_MAX + 1]);
void net_mark_scopes(const char *alias, struct xdc_arena *a,
    const char *const **out, size_t *nout);
int net_vlan_ifname(const char *uplink, unsigned vid, char out[NET_IFNAMSIZ]);
enum net_port net_port_kind(const char *name, const char *kind);

/* net_link.c: the kernel's reasons, and the links. */
int net_on_error(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg);
void net_clear(struct net *n);
const char *net_reason(struct net *n, int nlerr);
const char *net_link_kind(struct rtnl_link *l);
int net_link_is(struct rtnl_link *l, const char *kind);
int net_link_is_up(struct rtnl_link *l);
const char *net_link_what(struct rtnl_link *l);
int net_link_get(struct net *n, const char *name, struct rtnl_link **out);
int net_links_load(struct net *n, struct nl_cache **out);
int net_link_delete(struct net *n, struct rtnl_link *l, const char *who);
int net_link_set_master(
    struct net *n, struct rtnl_link *l, int master, int up, const char *who);
int net_link_set_mtu(
    struct net *n, struct rtnl_link *l, unsigned mtu, const char *who);
int net_link_set_up(struct net *n, struct rtnl_link *l, const char *who);
int net_link_mark(struct net *n, struct rtnl_link *l, const char *network,
    const char *const *scopes, size_t nscopes, int fresh, int up,
    const char *who);
const char *net_link_network(struct rtnl_link *l);
struct rtnl_link *net_bridge_uplink(struct nl_cache *cache, int br);

/* net_apply.c: the driver's apply. */
int net_apply(struct xdc_driver *drv, const struct xdc_action *a);

#endif /* XDC_NET_PRIV_H */
