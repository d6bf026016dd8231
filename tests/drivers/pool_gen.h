/*
 * Random pool files for property tests of the sim's pool file readers: a
 * pool of random hosts (obs_gen.h) as the sim keeps it, and a text broken
 * at random. Deterministic from the seed.
 */
#ifndef XDC_TESTS_DRIVERS_POOL_GEN_H
#define XDC_TESTS_DRIVERS_POOL_GEN_H

#include <stdint.h>
#include <string.h>

#include "base/arena.h"
#include "drivers/sim_pool.h"
#include "tests/drivers/obs_gen.h"

/* A byte changed, dropped or repeated, up to three times. */
static inline size_t
gen_mutate(struct obs_gen *g, char *s, size_t len)
{
	static const char bytes[] = "{}[],:\"\\0123456789-+.eEtfn \t\n\v\f"
	                            "\x80\xc3\xff/u";
	size_t k, at, n = 1 + gen_below(g, 3);

	for (k = 0; k < n && len > 1; k++) {
		at = gen_below(g, len);
		switch (gen_below(g, 3)) {
		case 0:
			s[at] = bytes[gen_below(g, sizeof(bytes) - 1)];
			break;
		case 1:
			memmove(s + at, s + at + 1, len - at - 1);
			len--;
			break;
		default:
			s[at] = s[gen_below(g, len)];
			break;
		}
	}
	return len;
}

/*
 * A random pool of one to four hosts, as the sim keeps it: its next domid
 * past every domain's, as a read makes it.
 */
static inline struct sim_pool *
gen_pool_n(struct obs_gen *g, size_t n)
{
	struct sim_pool *p = sim_pool_new();
	uint32_t next = (uint32_t)(1 + gen_below(g, UINT32_MAX - 1));
	struct xdc_obs_host oh;
	struct sim_host *h;
	struct sim_dom d;
	size_t i, k;
	long at;
	char name[32]; /* "xen-" and any size_t */

	if (n == 0)
		n = 1 + gen_below(g, 4);

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "xen-%zu", i);
		gen_host(g, name, &oh);
		h = sim_host_add(p, name, oh.oh_memory, oh.oh_cpus);
		for (k = 0; k < oh.oh_ndomains; k++) {
			d.sd_d = oh.oh_domains[k];
			if (d.sd_d.od_domid == UINT32_MAX)
				d.sd_d.od_domid--;
			if (d.sd_d.od_domid >= next)
				next = d.sd_d.od_domid + 1;
			if (sim_dom_find(h, d.sd_d.od_name) == NULL)
				sim_dom_insert(h, &d);
		}
		if (!sim_host_has_dom0(h))
			sim_host_add_dom0(h);
		for (k = 0; k < oh.oh_nnetworks; k++) {
			at = sim_net_find(h, oh.oh_networks[k].on_bridge);
			if (at < 0)
				*sim_net_insert(h, (size_t)(-at - 1)) =
				    oh.oh_networks[k];
		}
		if (gen_below(g, 3) == 0)
			sim_pool_watchdog_set(p, name,
			    (int64_t)(1 + gen_below(g, SIM_WATCHDOG_MAX_MS)),
			    (int64_t)gen_below(g, INT64_MAX / 2));
	}
	p->p_next_domid = next;
	return p;
}

/* A pool of one to four random hosts. */
static inline struct sim_pool *
gen_pool(struct obs_gen *g)
{
	return gen_pool_n(g, 0);
}

#endif /* XDC_TESTS_DRIVERS_POOL_GEN_H */
