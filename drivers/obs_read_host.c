/*
 * Observed state by the event reader (see obs_read.h): a domain, a
 * network, a host, each with the defaults, ranges and sorting of
 * obs_json.c's reader; what that reader would refuse gives up here.
 */
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "drivers/obs_json.h"
#include "drivers/obs_read.h"
#include "drivers/obs_read_dom.h"
#include "schema/values.h"

/* ---- Observed state --------------------------------------------------- */

static int
read_disk(struct obs_read *r, struct xdc_arena *arena, struct xdc_disk *d)
{
	static const char *const keys[] = { "target", "vdev", "format",
		"readonly" };
	unsigned format = XDC_DISK_RAW;
	uint32_t seen = 0;
	size_t n;
	int rc;

	if (obs_read_map(r, &n) != 0)
		return -1;
	while (n-- > 0) {
		switch (obs_read_member(r, keys, 4, &seen)) {
		case 0:
			rc = obs_read_str(r, arena, &d->d_target);
			break;
		case 1:
			rc = obs_read_str(r, arena, &d->d_vdev);
			break;
		case 2:
			rc = obs_read_enum(r, obs_json_format_name, 3, &format);
			break;
		case 3:
			rc = obs_read_bool(r, &d->d_readonly);
			break;
		default:
			return -1;
		}
		if (rc != 0)
			return -1;
	}
	d->d_format = (enum xdc_disk_format)format;
	return (seen & 3) == 3 ? 0 : -1;
}

static int
read_build(struct obs_read *r, struct xdc_arena *arena, struct xdc_obs_build *b)
{
	static const char *const keys[] = { "type", "kernel", "ramdisk",
		"cmdline", "disks" };
	unsigned type = XDC_VM_PVH;
	uint32_t seen = 0;
	size_t n, i;
	int rc;

	if (obs_read_map(r, &n) != 0)
		return -1;
	while (n-- > 0) {
		switch (obs_read_member(r, keys, 5, &seen)) {
		case 0:
			rc = obs_read_enum(r, obs_json_type_name, 3, &type);
			break;
		case 1:
			rc = obs_read_str_or_null(r, arena, &b->ob_kernel);
			break;
		case 2:
			rc = obs_read_str_or_null(r, arena, &b->ob_ramdisk);
			break;
		case 3:
			rc = obs_read_str_or_null(r, arena, &b->ob_cmdline);
			break;
		case 4:
			if ((rc = obs_read_array(r, &b->ob_ndisks)) != 0)
				break;
			b->ob_disks = xdc_arena_zalloc(
			    arena, (b->ob_ndisks + 1) * sizeof(*b->ob_disks));
			for (i = 0; rc == 0 && i < b->ob_ndisks; i++)
				rc = read_disk(r, arena, &b->ob_disks[i]);
			break;
		default:
			return -1;
		}
		if (rc != 0)
			return -1;
	}
	b->ob_type = (enum xdc_vm_type)type;
	/* No "disks": none, in an array of its own, as rd_build has it. */
	if (!(seen & (1U << 4)))
		b->ob_disks = xdc_arena_zalloc(arena, sizeof(*b->ob_disks));
	return (seen & 1) ? 0 : -1;
}

static int
read_nic(struct obs_read *r, struct xdc_arena *arena, struct xdc_obs_nic *nic)
{
	static const char *const keys[] = { "bridge", "mac" };
	char mac[XDC_MAC_BUFSZ];
	uint32_t seen = 0;
	const char *s;
	size_t n, len;

	if (obs_read_map(r, &n) != 0)
		return -1;
	while (n-- > 0) {
		switch (obs_read_member(r, keys, 2, &seen)) {
		case 0:
			if (obs_read_str(r, arena, &nic->on_bridge) != 0)
				return -1;
			break;
		case 1:
			if (obs_read_text(r, &s, &len) != 0 ||
			    len >= sizeof(mac))
				return -1;
			memcpy(mac, s, len);
			mac[len] = '\0';
			if (xdc_parse_mac(mac, nic->on_mac) != NULL)
				return -1;
			break;
		default:
			return -1;
		}
	}
	return seen == 3 ? 0 : -1;
}

static int
read_nics(struct obs_read *r, struct xdc_arena *arena, struct xdc_obs_domain *d)
{
	size_t i;

	if (obs_read_array(r, &d->od_nnics) != 0)
		return -1;
	d->od_nics =
	    xdc_arena_zalloc(arena, (d->od_nnics + 1) * sizeof(*d->od_nics));
	for (i = 0; i < d->od_nnics; i++)
		if (read_nic(r, arena, &d->od_nics[i]) != 0)
			return -1;
	return 0;
}

static int
read_cpu(struct obs_read *r, uint32_t *weight, uint32_t *cap)
{
	static const char *const keys[] = { "weight", "cap" };
	uint32_t s = 0;
	size_t n;
	int rc;

	if (obs_read_map(r, &n) != 0)
		return -1;
	while (n-- > 0) {
		switch (obs_read_member(r, keys, 2, &s)) {
		case 0:
			rc = obs_read_u32(r, weight);
			break;
		case 1:
			rc = obs_read_u32(r, cap);
			break;
		default:
			return -1;
		}
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* Up to 16 hex digits, as strtoull would take them but no more. */
static int
read_hash(struct obs_read *r, uint64_t *out)
{
	const char *s;
	size_t n;

	if (obs_read_text(r, &s, &n) != 0 || !obs_read_hex(s, n, out))
		return -1;
	return 0;
}

static const char *const dom_keys[D__COUNT] = { "name", "domid", "state",
	"memory", "max_memory", "vcpus", "max_vcpus", "cpu", "managed",
	"protect", "nics", "scope", "applied", "expires", "stub", "hash",
	"build" };

#define SEEN(k) (seen & (1U << (k)))

int
obs_read_domain(struct obs_read *r, unsigned flags, struct xdc_arena *arena,
    struct xdc_obs_domain *d)
{
	int dflt = (flags & OBS_JSON_DEFAULTS) != 0, rc;
	unsigned state = XDC_DOM_RUNNING;
	uint64_t applied = 0, expires = 0;
	uint32_t seen = 0;
	size_t n;

	/* Read already, straight from the events (obs_read_domains)? */
	if ((rc = obs_read_built(r, flags, d)) != 0)
		return rc > 0 ? 0 : -1;
	memset(d, 0, sizeof(*d));
	d->od_weight = dflt ? XDC_DEFAULT_WEIGHT : 0;
	if (obs_read_map(r, &n) != 0)
		return -1;
	while (n-- > 0) {
		switch (obs_read_member(r, dom_keys, D__COUNT, &seen)) {
		case D_NAME:
			rc = obs_read_str(r, arena, &d->od_name);
			break;
		case D_DOMID:
			rc = obs_read_u32(r, &d->od_domid);
			break;
		case D_STATE:
			rc = obs_read_enum(r, obs_json_state_name, 4, &state);
			break;
		case D_MEMORY:
			rc = obs_read_u64(r, INT64_MAX, &d->od_memory);
			break;
		case D_MAX_MEMORY:
			rc = obs_read_u64(r, INT64_MAX, &d->od_max_memory);
			break;
		case D_VCPUS:
			rc = obs_read_u32(r, &d->od_vcpus);
			break;
		case D_MAX_VCPUS:
			rc = obs_read_u32(r, &d->od_max_vcpus);
			break;
		case D_CPU:
			rc = read_cpu(r, &d->od_weight, &d->od_cap);
			break;
		case D_MANAGED:
			rc = obs_read_bool(r, &d->od_managed);
			break;
		case D_PROTECT:
			rc = obs_read_bool(r, &d->od_protect);
			break;
		case D_NICS:
			rc = read_nics(r, arena, d);
			break;
		case D_SCOPE:
			rc = obs_read_str_or_null(r, arena, &d->od_scope);
			break;
		case D_APPLIED:
			rc = obs_read_u64(r, INT64_MAX, &applied);
			break;
		case D_EXPIRES:
			rc = obs_read_u64(r, INT64_MAX, &expires);
			break;
		case D_STUB:
			rc = obs_read_bool(r, &d->od_stub);
			break;
		case D_HASH:
			rc = read_hash(r, &d->od_hash);
			break;
		case D_BUILD:
			if (obs_read_null(r)) {
				rc = 0;
				break;
			}
			rc = read_build(r, arena, &d->od_build);
			d->od_has_build = 1;
			break;
		default:
			return -1;
		}
		if (rc != 0)
			return -1;
	}
	if (!SEEN(D_NAME) || !SEEN(D_DOMID) || !SEEN(D_MEMORY) ||
	    (!SEEN(D_STATE) && !dflt))
		return -1;
	d->od_state = (enum xdc_dom_state)state;
	if (!SEEN(D_MAX_MEMORY))
		d->od_max_memory = d->od_memory;
	if (!SEEN(D_VCPUS))
		d->od_vcpus = 1;
	if (!SEEN(D_MAX_VCPUS))
		d->od_max_vcpus = d->od_vcpus;
	if (!SEEN(D_NICS))
		d->od_nics = xdc_arena_zalloc(arena, sizeof(*d->od_nics));
	/* rd_scope's: a name or nothing; the times only when managed. */
	if (d->od_scope != NULL && !xdc_name_valid(d->od_scope))
		return -1;
	if (!d->od_managed) {
		d->od_scope = NULL;
		return 0;
	}
	if (d->od_scope == NULL)
		d->od_scope = XDC_SCOPE_DEFAULT;
	d->od_applied = (int64_t)applied;
	d->od_expires = (int64_t)expires;
	return 0;
}

enum { N_NAME, N_BRIDGE, N_MTU, N_UP, N_MANAGED, N_UPLINK, N_VLAN, N_SCOPES };

static const char *const net_keys[] = { "name", "bridge", "mtu", "up",
	"managed", "uplink", "vlan", "scopes" };

/* The scopes' names, read whether or not the network is managed. */
static int
read_scopes(struct obs_read *r, struct xdc_arena *arena, const char ***out,
    size_t *nout)
{
	const char **w;
	size_t n, i;

	if (obs_read_array(r, &n) != 0)
		return -1;
	w = xdc_arena_zalloc(arena, (n ? n : 1) * sizeof(*w));
	for (i = 0; i < n; i++)
		if (obs_read_str(r, arena, &w[i]) != 0 || !xdc_name_valid(w[i]))
			return -1;
	*out = w;
	*nout = n;
	return 0;
}

int
obs_read_network(struct obs_read *r, unsigned flags, struct xdc_arena *arena,
    struct xdc_obs_network *net)
{
	static const char *const dflt_scopes[] = { XDC_SCOPE_DEFAULT };
	const char **scopes = NULL;
	size_t n, nscopes = 0;
	uint32_t seen = 0;
	uint64_t vlan = 0;
	int rc;

	memset(net, 0, sizeof(*net));
	net->on_mtu = 1500;
	net->on_up = (flags & OBS_JSON_DEFAULTS) != 0;
	if (obs_read_map(r, &n) != 0)
		return -1;
	while (n-- > 0) {
		switch (obs_read_member(r, net_keys, 8, &seen)) {
		case N_NAME:
			rc = obs_read_str_or_null(r, arena, &net->on_name);
			break;
		case N_BRIDGE:
			rc = obs_read_str(r, arena, &net->on_bridge);
			break;
		case N_MTU:
			rc = obs_read_u32(r, &net->on_mtu);
			break;
		case N_UP:
			rc = obs_read_bool(r, &net->on_up);
			break;
		case N_MANAGED:
			rc = obs_read_bool(r, &net->on_managed);
			break;
		case N_UPLINK:
			rc = obs_read_str_or_null(r, arena, &net->on_uplink);
			break;
		case N_VLAN:
			rc = obs_read_u64(r, 4094, &vlan);
			break;
		case N_SCOPES:
			rc = read_scopes(r, arena, &scopes, &nscopes);
			break;
		default:
			return -1;
		}
		if (rc != 0)
			return -1;
	}
	if (!SEEN(N_BRIDGE))
		return -1;
	net->on_vlan = (uint16_t)vlan;
	if (!net->on_managed)
		return 0;
	if (nscopes == 0) {
		net->on_scopes = dflt_scopes;
		net->on_nscopes = 1;
	} else {
		net->on_scopes = scopes;
		net->on_nscopes = nscopes;
	}
	return 0;
}

enum { H_NAME, H_MEMORY, H_FREE_MEMORY, H_CPUS, H_DOMAINS, H_NETWORKS };

static const char *const host_keys[] = { "name", "memory", "free_memory",
	"cpus", "domains", "networks" };

static int
read_domains(
    struct obs_read *r, struct xdc_arena *arena, struct xdc_obs_host *h)
{
	size_t i;

	if (obs_read_array(r, &h->oh_ndomains) != 0)
		return -1;
	h->oh_domains = xdc_arena_zalloc(
	    arena, (h->oh_ndomains + 1) * sizeof(*h->oh_domains));
	for (i = 0; i < h->oh_ndomains; i++)
		if (obs_read_domain(r, 0, arena, &h->oh_domains[i]) != 0)
			return -1;
	qsort(h->oh_domains, h->oh_ndomains, sizeof(*h->oh_domains),
	    obs_json_domain_cmp);
	for (i = 1; i < h->oh_ndomains; i++)
		if (!strcmp(
		        h->oh_domains[i].od_name, h->oh_domains[i - 1].od_name))
			return -1;
	return 0;
}

static int
read_networks(
    struct obs_read *r, struct xdc_arena *arena, struct xdc_obs_host *h)
{
	size_t i;

	if (obs_read_array(r, &h->oh_nnetworks) != 0)
		return -1;
	h->oh_networks = xdc_arena_zalloc(
	    arena, (h->oh_nnetworks + 1) * sizeof(*h->oh_networks));
	for (i = 0; i < h->oh_nnetworks; i++)
		if (obs_read_network(r, 0, arena, &h->oh_networks[i]) != 0)
			return -1;
	qsort(h->oh_networks, h->oh_nnetworks, sizeof(*h->oh_networks),
	    obs_json_network_cmp);
	for (i = 1; i < h->oh_nnetworks; i++)
		if (!strcmp(h->oh_networks[i].on_bridge,
		        h->oh_networks[i - 1].on_bridge))
			return -1;
	return 0;
}

int
obs_read_host(struct obs_read *r, struct xdc_arena *arena,
    struct xdc_obs_host *h, obs_read_extra_fn *extra, void *arg)
{
	const char *k;
	size_t n, len;
	uint32_t seen = 0;
	int rc;

	memset(h, 0, sizeof(*h));
	if (obs_read_map(r, &n) != 0)
		return -1;
	while (n-- > 0) {
		switch (obs_read_member(r, host_keys, 6, &seen)) {
		case H_NAME:
			rc = obs_read_str(r, arena, &h->oh_name);
			break;
		case H_MEMORY:
			rc = obs_read_u64(r, INT64_MAX, &h->oh_memory);
			break;
		case H_FREE_MEMORY:
			rc = obs_read_u64(r, INT64_MAX, &h->oh_free_memory);
			break;
		case H_CPUS:
			rc = obs_read_u32(r, &h->oh_cpus);
			break;
		case H_DOMAINS:
			rc = read_domains(r, arena, h);
			break;
		case H_NETWORKS:
			rc = read_networks(r, arena, h);
			break;
		case -2:
			rc = extra != NULL && obs_read_key(r, &k, &len) == 0
			         ? extra(r, k, len, arg)
			         : -1;
			break;
		default:
			return -1;
		}
		if (rc != 0)
			return -1;
	}
	if (!SEEN(H_NAME) || !SEEN(H_MEMORY))
		return -1;
	if (!SEEN(H_DOMAINS))
		h->oh_domains = xdc_arena_zalloc(arena, sizeof(*h->oh_domains));
	if (!SEEN(H_NETWORKS))
		h->oh_networks =
		    xdc_arena_zalloc(arena, sizeof(*h->oh_networks));
	return 0;
}
