/*
 * The diff of networks: for each observed host, what its bridges need to
 * become what the configuration declares, one typed action per difference,
 * and the bridges of the plan's scope it no longer declares. A network
 * shared by scopes is checked against its owner's settings (SPEC §9).
 */
#include <stdio.h>
#include <string.h>

#include "planner/planner.h"
#include "base/error.h"

static struct xdc_loc
net_decl(const struct xdc_plan *p, const struct xdc_network *n)
{
	return xdc_network_loc(
	    p->p_cfg, n, n->n_pos[NET_F_KIND] ? NET_F_KIND : NET_F_NAME);
}

static const struct xdc_obs_network *
obs_network(const struct xdc_obs_host *oh, const char *bridge)
{
	size_t lo = 0, hi = oh->oh_nnetworks, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(bridge, oh->oh_networks[mid].on_bridge);
		if (c == 0)
			return &oh->oh_networks[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static const struct xdc_network *
declared_bridge(const struct xdc_config *cfg, const char *bridge)
{
	size_t i;

	/* Networks are few (a dozen, not thousands): a scan is enough. */
	for (i = 0; i < cfg->cfg_nnetworks; i++)
		if (!strcmp(cfg->cfg_networks[i].n_bridge, bridge))
			return &cfg->cfg_networks[i];
	return NULL;
}

static const char *
net_fields_reason(
    struct xdc_plan *p, const struct xdc_network *n, uint32_t mask)
{
	static const struct {
		enum chg c;
		enum xdc_net_field f;
		const char *name;
	} map[] = {
		{ CH_UPLINK, NET_F_UPLINK, "uplink" },
		{ CH_VLAN, NET_F_VLAN, "vlan" },
		{ CH_MTU, NET_F_MTU, "mtu" },
		{ CH_UP, NET_F_KIND, "up: it is down" },
		{ CH_SCOPES, NET_F_KIND, "scopes: this scope declares it too" },
	};
	const char *r = NULL;
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (!(mask & CH_BIT(map[i].c)))
			continue;
		r = xdc_arena_printf(p->p_arena, "%s%s%s (%s)", r ? r : "",
		    r ? "; " : "",
		    plan_where(p, n->n_pos[map[i].f]
		                      ? xdc_network_loc(p->p_cfg, n, map[i].f)
		                      : net_decl(p, n)),
		    map[i].name);
	}
	return r;
}

/*
 * Whether the plan's scope may use the managed network on as it declares
 * it (1), or not (0, the reason reported). A network shared by scopes has
 * one owner of its settings, the first in its list: another scope that
 * declares it must declare what it has, and one that wants to share it
 * must declare it under the same name with the same settings.
 */
static int
net_shareable(struct xdc_plan *p, const struct xdc_obs_host *oh,
    const struct xdc_network *n, const struct xdc_obs_network *on,
    uint32_t mask)
{
	const char *owner = scope_net_owner(on), *what = NULL;
	enum xdc_net_field f;
	char have[64];

	if (!strcmp(owner, p->p_scope))
		return 1;
	if (on->on_name != NULL && strcmp(on->on_name, n->n_name) != 0) {
		plan_error(p, xdc_network_loc(p->p_cfg, n, NET_F_NAME),
		    "Network %s: bridge %s on host %s is Network %s of scope "
		    "%s; declare it under that name to share it, or choose "
		    "another \"bridge\"",
		    n->n_name, n->n_bridge, oh->oh_name, on->on_name, owner);
		return 0;
	}
	if (mask == 0)
		return 1;
	if (mask & CH_BIT(CH_MTU)) {
		snprintf(have, sizeof(have), "mtu %u", on->on_mtu);
		what = have;
	} else if (on->on_uplink == NULL) {
		what = "no uplink";
	} else if (on->on_vlan != 0) {
		snprintf(have, sizeof(have), "uplink %.15s vlan %u",
		    on->on_uplink, on->on_vlan);
		what = have;
	} else {
		snprintf(have, sizeof(have), "uplink %.15s", on->on_uplink);
		what = have;
	}
	f = (mask & CH_BIT(CH_MTU))      ? NET_F_MTU
	    : (mask & CH_BIT(CH_UPLINK)) ? NET_F_UPLINK
	                                 : NET_F_VLAN;
	if (n->n_pos[f] == 0)
		f = NET_F_NAME;
	plan_error(p, xdc_network_loc(p->p_cfg, n, f),
	    "Network %s on host %s is shared, and scope %s owns its "
	    "settings: it has %s; declare the same settings here, or change "
	    "them in scope %s",
	    n->n_name, oh->oh_name, owner, what, owner);
	return 0;
}

void
diff_networks(struct xdc_plan *p, uint32_t host)
{
	const struct xdc_config *cfg = p->p_cfg;
	const struct xdc_obs_host *oh = &p->p_obs->obs_hosts[host];
	const struct xdc_obs_network *on;
	const struct xdc_network *n;
	struct paction *a;
	uint32_t mask;
	size_t i;
	int build = plan_builds(p, host);

	if (!diff_host_declared(p, oh))
		return;
	for (i = 0; i < cfg->cfg_nnetworks; i++) {
		n = &cfg->cfg_networks[i];
		on = obs_network(oh, n->n_bridge);
		if (on == NULL && !build)
			continue;
		if (on == NULL) {
			a = plan_add(p, XDC_OP_CREATE, XDC_OBJ_NETWORK, host);
			a->pa_group = G_NET_UP;
			a->pa.a_name = n->n_name;
			a->pa.a_net = n;
			a->pa.a_bridge = n->n_bridge;
			a->pa_net = n;
			if (n->n_set & (1u << NET_F_BRIDGE))
				a->pa_changes |= CH_BIT(CH_BRIDGE);
			if (n->n_uplink)
				a->pa_changes |= CH_BIT(CH_UPLINK);
			if (n->n_vlan)
				a->pa_changes |= CH_BIT(CH_VLAN);
			if (n->n_mtu)
				a->pa_changes |= CH_BIT(CH_MTU);
			a->pa_reason = plan_where(p, net_decl(p, n));
			a->pa.a_scopes = &p->p_scope;
			a->pa.a_nscopes = 1;
			continue;
		}
		if (!on->on_managed) {
			plan_error(p, xdc_network_loc(p->p_cfg, n, NET_F_NAME),
			    "Network %s: bridge %s on host %s exists and is "
			    "not managed by xdc; choose another \"bridge\"",
			    n->n_name, n->n_bridge, oh->oh_name);
			continue;
		}
		mask = 0;
		if (n->n_mtu != 0 && n->n_mtu != on->on_mtu)
			mask |= CH_BIT(CH_MTU);
		if (!plan_str_eq(n->n_uplink, on->on_uplink))
			mask |= CH_BIT(CH_UPLINK);
		if (n->n_vlan != on->on_vlan)
			mask |= CH_BIT(CH_VLAN);
		/* A host not built is checked, not planned (own.c). */
		if (!net_shareable(p, oh, n, on, mask & ~CH_BIT(CH_UP)) ||
		    !build)
			continue;
		/* A bridge someone took down is drift like any other. */
		if (!on->on_up)
			mask |= CH_BIT(CH_UP);
		if (!scope_net_member(on, p->p_scope))
			mask |= CH_BIT(CH_SCOPES);
		if (mask == 0)
			continue;
		a = plan_add(p, XDC_OP_UPDATE, XDC_OBJ_NETWORK, host);
		a->pa_group = G_NET_UP;
		a->pa.a_name = n->n_name;
		a->pa.a_net = n;
		a->pa.a_bridge = n->n_bridge;
		a->pa.a_update =
		    ((mask & CH_BIT(CH_MTU)) ? XDC_UPD_MTU : 0) |
		    ((mask & (CH_BIT(CH_UPLINK) | CH_BIT(CH_VLAN)))
		            ? XDC_UPD_UPLINK
		            : 0) |
		    ((mask & CH_BIT(CH_UP)) ? XDC_UPD_UP : 0) |
		    ((mask & CH_BIT(CH_SCOPES)) ? XDC_UPD_SCOPES : 0);
		a->pa_net = n;
		a->pa_onet = on;
		a->pa_changes = mask;
		a->pa_reason = net_fields_reason(p, n, mask);
		scope_net_join(p, on, a);
	}

	for (i = 0; build && i < oh->oh_nnetworks; i++) {
		on = &oh->oh_networks[i];
		/* Another scope's network is not this plan's to drop. */
		if (!on->on_managed || declared_bridge(cfg, on->on_bridge) ||
		    !scope_net_member(on, p->p_scope))
			continue;
		a = plan_add(p, XDC_OP_DESTROY, XDC_OBJ_NETWORK, host);
		a->pa_group = G_NET_DOWN;
		a->pa.a_name = on->on_name ? on->on_name : on->on_bridge;
		a->pa.a_bridge = on->on_bridge;
		a->pa_onet = on;
		a->pa_reason = diff_undeclared(p);
		scope_net_leave(p, on, a);
		if (a->pa.a_nscopes == 0)
			continue;
		/* Others still declare it: this scope only leaves it. */
		a->pa.a_op = XDC_OP_UPDATE;
		a->pa.a_update = XDC_UPD_SCOPES;
		a->pa_changes = CH_BIT(CH_SCOPES);
		a->pa_reason = xdc_arena_printf(p->p_arena,
		    "%s; scope %s still declares it%s", a->pa_reason,
		    a->pa.a_scopes[0],
		    a->pa.a_nscopes > 1 ? ", and others" : "");
	}
}
