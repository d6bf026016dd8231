/*
 * The net driver's names (see net.c), pure, without the kernel: the
 * ownership mark an xdc link carries as its alias ("xdc:net:NETWORK", and
 * the scopes that share the network), the name of the VLAN interface xdc
 * makes on an uplink, and what kind of port a bridge port is (a VM's, an
 * uplink, a VLAN interface). tests/drivers/test_net.c tests them.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "drivers/net_priv.h"
#include "base/arena.h"
#include "schema/values.h"

/* ---- Pure helpers (tests/drivers/test_net.c) -------------------------- */

/* The network an alias marks as xdc's, or NULL when it is not xdc's. */
const char *
net_mark_network(const char *alias)
{
	size_t len = sizeof(NET_MARK) - 1;

	if (alias == NULL || strncmp(alias, NET_MARK, len) != 0 ||
	    alias[len] == '\0')
		return NULL;
	return alias + len;
}

/* The length of the network's name at the start of what the mark names. */
size_t
net_mark_name_len(const char *network)
{
	return strcspn(network, ":");
}

/* Whether an alias marks the link as network's. */
int
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
int
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
void
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
int
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

/*
 * What a bridge port is, by its name and link kind. Xen names its
 * backends vif<domid>.<n> (and vif<domid>.<n>-emu, tap<domid>.<n> for an
 * HVM guest's emulated NIC); netback registers no link kind, so the name
 * is what tells them from a physical port. Every other port can be an
 * uplink.
 */
enum net_port
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
