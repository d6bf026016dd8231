/*
 * The desired model's accessors and canonical text forms (see model.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "schema/model.h"

void
xdc_config_free(struct xdc_config *cfg)
{
	if (cfg == NULL)
		return;
	/* Everything a configuration holds lives in its arena. */
	xdc_arena_free(cfg->cfg_arena);
	free(cfg);
}

const void *
xdc_find_named(const void *base, size_t n, size_t size, const char *name)
{
	size_t lo = 0, hi = n, mid;
	const char *const *p;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		p = (const char *const *)((const char *)base + mid * size);
		c = strcmp(name, *p);
		if (c == 0)
			return p;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const struct xdc_host *
xdc_config_host(const struct xdc_config *cfg, const char *name)
{
	return xdc_find_named(
	    cfg->cfg_hosts, cfg->cfg_nhosts, sizeof(*cfg->cfg_hosts), name);
}

const struct xdc_network *
xdc_config_network(const struct xdc_config *cfg, const char *name)
{
	return xdc_find_named(cfg->cfg_networks, cfg->cfg_nnetworks,
	    sizeof(*cfg->cfg_networks), name);
}

const struct xdc_vm *
xdc_config_vm(const struct xdc_config *cfg, const char *name)
{
	return xdc_find_named(
	    cfg->cfg_vms, cfg->cfg_nvms, sizeof(*cfg->cfg_vms), name);
}

const struct xdc_sla *
xdc_config_sla(const struct xdc_config *cfg, const char *name)
{
	return xdc_find_named(
	    cfg->cfg_slas, cfg->cfg_nslas, sizeof(*cfg->cfg_slas), name);
}

struct xdc_loc
xdc_loc_unpack(
    const struct xdc_loc *wide, const struct xdc_at *at, uint32_t pos)
{
	struct xdc_loc loc = { 0, 0, 0 };

	if (pos & XDC_POS_WIDE)
		return wide[pos & ~XDC_POS_WIDE];
	if (pos != 0) {
		loc.file = at->at_file;
		loc.line = at->at_line + (pos >> 16);
		loc.col = pos & XDC_POS_MAX_COL;
	}
	return loc;
}

struct xdc_loc
xdc_host_loc(const struct xdc_config *cfg, const struct xdc_host *h,
    enum xdc_host_field f)
{
	return xdc_loc_unpack(cfg->cfg_wide, &h->h_at, h->h_pos[f]);
}

struct xdc_loc
xdc_network_loc(const struct xdc_config *cfg, const struct xdc_network *n,
    enum xdc_net_field f)
{
	return xdc_loc_unpack(cfg->cfg_wide, &n->n_at, n->n_pos[f]);
}

struct xdc_loc
xdc_vm_loc(
    const struct xdc_config *cfg, const struct xdc_vm *vm, enum xdc_vm_field f)
{
	return xdc_loc_unpack(cfg->cfg_wide, &vm->vm_at, vm->vm_pos[f]);
}

struct xdc_loc
xdc_disk_loc(const struct xdc_config *cfg, const struct xdc_disk *d,
    enum xdc_disk_field f)
{
	return xdc_loc_unpack(cfg->cfg_wide, &d->d_at, d->d_pos[f]);
}

struct xdc_loc
xdc_nic_loc(const struct xdc_config *cfg, const struct xdc_nic *nic,
    enum xdc_nic_field f)
{
	return xdc_loc_unpack(cfg->cfg_wide, &nic->nic_at, nic->nic_pos[f]);
}

struct xdc_loc
xdc_sla_loc(
    const struct xdc_config *cfg, const struct xdc_sla *s, enum xdc_sla_field f)
{
	return xdc_loc_unpack(cfg->cfg_wide, &s->s_at, s->s_pos[f]);
}

const struct xdc_sla *
xdc_vm_policy(
    const struct xdc_config *cfg, const struct xdc_vm *vm, enum xdc_policy pol)
{
	uint32_t i = vm->vm_sla[pol];

	return i == XDC_NO_SLA ? NULL : &cfg->cfg_slas[i];
}

const char *
xdc_size_fmt(uint64_t bytes, char buf[XDC_SIZE_BUFSZ])
{
	static const char *const units[] = { "TiB", "GiB", "MiB", "KiB" };
	unsigned shift = 40;
	size_t i;

	/* The largest unit that says it exactly, as a user would write it. */
	for (i = 0; i < 4; i++, shift -= 10) {
		if (bytes != 0 && (bytes & ((1ULL << shift) - 1)) == 0) {
			snprintf(buf, XDC_SIZE_BUFSZ, "%llu%s",
			    (unsigned long long)(bytes >> shift), units[i]);
			return buf;
		}
	}
	snprintf(buf, XDC_SIZE_BUFSZ, "%llu", (unsigned long long)bytes);
	return buf;
}

const char *
xdc_mac_fmt(const uint8_t m[6], char buf[XDC_MAC_BUFSZ])
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	/* By hand: a plan prints one per NIC, and snprintf is most of it. */
	for (i = 0; i < 6; i++) {
		buf[i * 3] = hex[m[i] >> 4];
		buf[i * 3 + 1] = hex[m[i] & 0xf];
		buf[i * 3 + 2] = i < 5 ? ':' : '\0';
	}
	return buf;
}

void
xdc_mac_derive(const char *vm, size_t index, uint8_t mac[6])
{
	/* FNV-1a over "name/index": tiny, stable across hosts and versions. */
	uint64_t h = 0xcbf29ce484222325ULL;
	char idx[24];
	const char *p;

	snprintf(idx, sizeof(idx), "/%zu", index);
	for (p = vm; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	for (p = idx; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	h ^= h >> 32;
	mac[0] = 0x00;
	mac[1] = 0x16;
	mac[2] = 0x3e;
	/* Xen's own tools keep the top bit of the fourth octet clear. */
	mac[3] = (uint8_t)((h >> 16) & 0x7f);
	mac[4] = (uint8_t)(h >> 8);
	mac[5] = (uint8_t)h;
}

const char *
xdc_vm_type_name(enum xdc_vm_type t)
{
	static const char *const n[] = { "pv", "pvh", "hvm" };

	return (unsigned)t < 3 ? n[t] : "?";
}

const char *
xdc_vm_state_name(enum xdc_vm_state s)
{
	static const char *const n[] = { "running", "stopped", "paused" };

	return (unsigned)s < 3 ? n[s] : "?";
}

const char *
xdc_disk_format_name(enum xdc_disk_format f)
{
	static const char *const n[] = { "raw", "qcow2", "vhd" };

	return (unsigned)f < 3 ? n[f] : "?";
}

const char *
xdc_restart_name(enum xdc_restart r)
{
	static const char *const n[] = { "always", "on-crash", "never" };

	return (unsigned)r < 3 ? n[r] : "?";
}

const char *
xdc_policy_name(enum xdc_policy p)
{
	static const char *const n[XDC_POL__COUNT] = {
		"cpu.weight",
		"cpu.cap",
		"availability.restart",
		"availability.restart_limit",
		"availability.spread",
		"availability.min_running",
		"availability.host_failures",
		"availability.failover",
		"maintenance.window",
	};

	return (unsigned)p < XDC_POL__COUNT ? n[p] : "?";
}
