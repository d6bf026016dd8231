/*
 * The index of the VMs' labels that SLA selectors are matched through
 * (check.c). The loader shares the strings of labels (load.c), so
 * 100,000 VMs carry a few dozen distinct (key, value) pairs of pointers:
 * each reference is counted into its pair through a hash of the two
 * pointers, the few pairs are sorted by their text, and the references
 * are dealt into place in VM order. That is one pass where a sort of the
 * references compared strings n log n times. Equal text under different
 * pointers (a configuration the loader did not build) is still one rank:
 * pairs of equal text are merged once they are sorted.
 */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "schema/label_index.h"

struct pair {
	const char *p_key;
	const char *p_value;
	uint32_t p_rank;
};

static uint32_t
pair_hash(const char *k, const char *v)
{
	uint64_t h = (uint64_t)(uintptr_t)k * 0x9e3779b97f4a7c15ull +
	             (uint64_t)(uintptr_t)v * 0xc2b2ae3d27d4eb4full;

	return (uint32_t)(h >> 32);
}

static int
pair_cmp(const void *a, const void *b)
{
	const struct pair *x = *(const struct pair *const *)a;
	const struct pair *y = *(const struct pair *const *)b;
	int c;

	if ((c = strcmp(x->p_key, y->p_key)) != 0)
		return c;
	return strcmp(x->p_value, y->p_value);
}

/* Rank the pairs by their text, equal text one rank; how many ranks. */
static uint32_t
rank_pairs(struct pair *pairs, size_t npairs)
{
	struct pair **order = xdc_calloc(npairs + 1, sizeof(*order));
	uint32_t ranks = 0;
	size_t i;

	for (i = 0; i < npairs; i++)
		order[i] = &pairs[i];
	qsort(order, npairs, sizeof(*order), pair_cmp);
	for (i = 0; i < npairs; i++) {
		if (i > 0 && pair_cmp(&order[i - 1], &order[i]) != 0)
			ranks++;
		order[i]->p_rank = ranks;
	}
	free(order);
	return npairs > 0 ? ranks + 1 : 0;
}

struct label_ref *
label_index(const struct xdc_config *cfg, size_t *np)
{
	const struct xdc_label *lb;
	struct label_ref *idx;
	struct pair *pairs, *p;
	uint32_t *slot, *of, *start, ranks;
	size_t cap, npairs = 0, n = 0, total = 0, i, j, h, k;

	for (i = 0; i < cfg->cfg_nvms; i++)
		total += cfg->cfg_vms[i].vm_labels.lb_n;
	for (cap = 16; cap < total * 2; cap *= 2)
		;
	slot = xdc_calloc(cap, sizeof(*slot)); /* a pair's index + 1, or 0 */
	pairs = xdc_calloc(total + 1, sizeof(*pairs));
	of = xdc_calloc(total + 1, sizeof(*of)); /* each reference's pair */
	for (i = 0; i < cfg->cfg_nvms; i++) {
		for (j = 0; j < cfg->cfg_vms[i].vm_labels.lb_n; j++) {
			lb = &cfg->cfg_vms[i].vm_labels.lb_v[j];
			for (h = pair_hash(lb->key, lb->value) & (cap - 1);
			     slot[h] != 0; h = (h + 1) & (cap - 1)) {
				p = &pairs[slot[h] - 1];
				if (p->p_key == lb->key &&
				    p->p_value == lb->value)
					break;
			}
			if (slot[h] == 0) {
				pairs[npairs].p_key = lb->key;
				pairs[npairs].p_value = lb->value;
				slot[h] = (uint32_t)++npairs;
			}
			of[n++] = slot[h] - 1;
		}
	}
	ranks = rank_pairs(pairs, npairs);

	/* Where each rank starts; then the references, in VM order. */
	start = xdc_calloc((size_t)ranks + 1, sizeof(*start));
	for (k = 0; k < n; k++)
		start[pairs[of[k]].p_rank + 1]++;
	for (k = 1; k <= ranks; k++)
		start[k] += start[k - 1];
	idx = xdc_calloc(n + 1, sizeof(*idx));
	for (i = 0, k = 0; i < cfg->cfg_nvms; i++) {
		for (j = 0; j < cfg->cfg_vms[i].vm_labels.lb_n; j++, k++) {
			lb = &cfg->cfg_vms[i].vm_labels.lb_v[j];
			h = start[pairs[of[k]].p_rank]++;
			idx[h].lr_key = lb->key;
			idx[h].lr_value = lb->value;
			idx[h].lr_vm = (uint32_t)i;
		}
	}
	free(start);
	free(of);
	free(pairs);
	free(slot);
	*np = n;
	return idx;
}
