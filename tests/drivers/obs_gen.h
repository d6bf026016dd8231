/*
 * Random observations for property tests: a host with up to a dozen
 * domains (Domain-0 among them at times, managed or not, with a build,
 * NICs, a scope and times, or without) and a few networks, every number
 * somewhere in its range, the edges included. Names are distinct, as a
 * driver gives them. With g_odd set, a string now and then needs a JSON
 * escape or is not ASCII, which the event reader leaves to jansson.
 * Deterministic from the seed; everything in the arena.
 */
#ifndef XDC_TESTS_DRIVERS_OBS_GEN_H
#define XDC_TESTS_DRIVERS_OBS_GEN_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/arena.h"
#include "drivers/driver.h"
#include "schema/model.h"

struct obs_gen {
	uint64_t g_s; /* xorshift64 state, never 0 */
	struct xdc_arena *g_arena;
	int g_odd;
};

static inline uint64_t
gen_u64(struct obs_gen *g)
{
	g->g_s ^= g->g_s << 13;
	g->g_s ^= g->g_s >> 7;
	g->g_s ^= g->g_s << 17;
	return g->g_s;
}

/* Below n, or 0 when n is 0. */
static inline uint64_t
gen_below(struct obs_gen *g, uint64_t n)
{
	return n ? gen_u64(g) % n : 0;
}

/* A number up to max: 0, 1, max, or any in between. */
static inline uint64_t
gen_upto(struct obs_gen *g, uint64_t max)
{
	switch (gen_below(g, 6)) {
	case 0:
		return 0;
	case 1:
		return 1;
	case 2:
		return max;
	case 3:
		return gen_below(g, 4096);
	default:
		return max == UINT64_MAX ? gen_u64(g) : gen_below(g, max + 1);
	}
}

/* prefix and a number; one in 16 odd, when odd strings are wanted. */
static inline const char *
gen_str(struct obs_gen *g, const char *prefix, uint64_t n)
{
	static const char *const odd[] = { "q\"uote", "back\\slash", "tab\t",
		"caf\xc3\xa9", "new\nline", "sl/ash", "u\x7f" };

	if (g->g_odd && gen_below(g, 16) == 0)
		return xdc_arena_printf(g->g_arena, "%s%s%llu", prefix,
		    odd[gen_below(g, sizeof(odd) / sizeof(odd[0]))],
		    (unsigned long long)n);
	return xdc_arena_printf(
	    g->g_arena, "%s%llu", prefix, (unsigned long long)n);
}

/* A string or, one time in three, NULL. */
static inline const char *
gen_maybe(struct obs_gen *g, const char *prefix)
{
	return gen_below(g, 3) == 0 ? NULL
	                            : gen_str(g, prefix, gen_below(g, 1000));
}

/* A scope's name: a DNS label. */
static inline const char *
gen_scope(struct obs_gen *g)
{
	static const char *const names[] = { "default", "ci-a", "ci-b", "x",
		"team-7" };

	return names[gen_below(g, sizeof(names) / sizeof(names[0]))];
}

static inline void
gen_build(struct obs_gen *g, struct xdc_obs_build *b)
{
	size_t i;

	b->ob_type = (enum xdc_vm_type)gen_below(g, 3);
	b->ob_kernel = gen_maybe(g, "/boot/vmlinuz-");
	b->ob_ramdisk = gen_maybe(g, "/boot/initrd-");
	b->ob_cmdline = gen_maybe(g, "console=hvc0 root=/dev/xvda");
	b->ob_ndisks = gen_below(g, 4);
	b->ob_disks = xdc_arena_zalloc(
	    g->g_arena, (b->ob_ndisks + 1) * sizeof(*b->ob_disks));
	for (i = 0; i < b->ob_ndisks; i++) {
		b->ob_disks[i].d_target = gen_str(g, "/dev/vg0/d", i);
		b->ob_disks[i].d_vdev = gen_str(g, "xvd", i);
		b->ob_disks[i].d_format = (enum xdc_disk_format)gen_below(g, 3);
		b->ob_disks[i].d_readonly = (int)gen_below(g, 2);
	}
}

/* Domain number i of a host: Domain-0 (domid 0) when i is 0 and dom0. */
static inline void
gen_domain(struct obs_gen *g, size_t i, int dom0, struct xdc_obs_domain *d)
{
	size_t k;

	memset(d, 0, sizeof(*d));
	if (i == 0 && dom0) {
		d->od_name = "Domain-0";
	} else {
		d->od_name = gen_str(g, "vm-", i);
		d->od_domid = (uint32_t)(1 + gen_below(g, UINT32_MAX));
	}
	d->od_state = (enum xdc_dom_state)gen_below(g, 4);
	d->od_memory = gen_upto(g, INT64_MAX);
	d->od_max_memory = gen_upto(g, INT64_MAX);
	d->od_vcpus = (uint32_t)gen_upto(g, UINT32_MAX);
	d->od_max_vcpus = (uint32_t)gen_upto(g, UINT32_MAX);
	d->od_weight = (uint32_t)gen_upto(g, UINT32_MAX);
	d->od_cap = (uint32_t)gen_upto(g, UINT32_MAX);
	d->od_nnics = gen_below(g, 4);
	d->od_nics = xdc_arena_zalloc(
	    g->g_arena, (d->od_nnics + 1) * sizeof(*d->od_nics));
	for (k = 0; k < d->od_nnics; k++) {
		d->od_nics[k].on_bridge = gen_str(g, "xdc-br", gen_below(g, 5));
		d->od_nics[k].on_mac[0] = 0x00;
		d->od_nics[k].on_mac[1] = 0x16;
		d->od_nics[k].on_mac[2] = 0x3e;
		d->od_nics[k].on_mac[3] = (uint8_t)gen_u64(g);
		d->od_nics[k].on_mac[4] = (uint8_t)gen_u64(g);
		d->od_nics[k].on_mac[5] = (uint8_t)(1 + gen_below(g, 255));
	}
	d->od_managed = (int)gen_below(g, 2);
	d->od_protect = (int)gen_below(g, 2);
	d->od_stub = (int)gen_below(g, 2);
	d->od_hash = gen_u64(g) >> gen_below(g, 64);
	if (d->od_managed) {
		d->od_scope = gen_below(g, 4) ? gen_scope(g) : NULL;
		d->od_applied = (int64_t)gen_upto(g, INT64_MAX);
		d->od_expires = (int64_t)gen_upto(g, INT64_MAX);
	}
	if ((d->od_has_build = (int)gen_below(g, 2)))
		gen_build(g, &d->od_build);
}

static inline void
gen_network(struct obs_gen *g, size_t i, struct xdc_obs_network *n)
{
	const char **scopes;
	size_t k;

	memset(n, 0, sizeof(*n));
	n->on_bridge = gen_str(g, "xdc-net", i);
	n->on_name = gen_maybe(g, "net");
	n->on_uplink = gen_maybe(g, "eth");
	n->on_vlan = (uint16_t)gen_upto(g, 4094);
	n->on_mtu = (uint32_t)gen_upto(g, UINT32_MAX);
	n->on_up = (int)gen_below(g, 2);
	n->on_managed = (int)gen_below(g, 2);
	n->on_nscopes = gen_below(g, 4);
	scopes =
	    xdc_arena_zalloc(g->g_arena, (n->on_nscopes + 1) * sizeof(*scopes));
	for (k = 0; k < n->on_nscopes; k++)
		scopes[k] = gen_scope(g);
	n->on_scopes = scopes;
}

/* A host, its domains and networks in random order (a reader sorts). */
static inline void
gen_host(struct obs_gen *g, const char *name, struct xdc_obs_host *h)
{
	size_t i;
	int dom0 = (int)gen_below(g, 2);

	memset(h, 0, sizeof(*h));
	h->oh_name = name;
	h->oh_memory = gen_upto(g, INT64_MAX);
	h->oh_free_memory = gen_upto(g, INT64_MAX);
	h->oh_cpus = (uint32_t)gen_upto(g, UINT32_MAX);
	h->oh_ndomains = gen_below(g, 13);
	h->oh_domains = xdc_arena_zalloc(
	    g->g_arena, (h->oh_ndomains + 1) * sizeof(*h->oh_domains));
	for (i = 0; i < h->oh_ndomains; i++)
		gen_domain(g, i, dom0, &h->oh_domains[i]);
	h->oh_nnetworks = gen_below(g, 5);
	h->oh_networks = xdc_arena_zalloc(
	    g->g_arena, (h->oh_nnetworks + 1) * sizeof(*h->oh_networks));
	for (i = 0; i < h->oh_nnetworks; i++)
		gen_network(g, i, &h->oh_networks[i]);
}

#endif /* XDC_TESTS_DRIVERS_OBS_GEN_H */
