/*
 * Tests of schema/label_index.c, the (key, value, VM) index SLA selectors
 * are matched through: by property, against a qsort of the references by
 * strcmp, over random VMs whose label strings are shared (one pointer per
 * text, as the loader gives them) or not (equal text at other pointers,
 * as a configuration built by hand may have), and with hash collisions
 * forced by many distinct pairs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "schema/label_index.h"

static int
ref_cmp(const void *a, const void *b)
{
	const struct label_ref *x = a, *y = b;
	int c;

	if ((c = strcmp(x->lr_key, y->lr_key)) != 0)
		return c;
	if ((c = strcmp(x->lr_value, y->lr_value)) != 0)
		return c;
	return x->lr_vm < y->lr_vm ? -1 : x->lr_vm > y->lr_vm;
}

static uint32_t rng_state;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

/*
 * nvms VMs of up to 4 labels each, keys from nkeys, values from nvalues.
 * shared: one pointer per text; otherwise each label its own copy.
 */
static void
check_random(
    uint32_t seed, size_t nvms, size_t nkeys, size_t nvalues, int shared)
{
	struct xdc_config cfg;
	struct xdc_vm *vms = calloc(nvms + 1, sizeof(*vms));
	char **keys = calloc(nkeys, sizeof(*keys));
	char **values = calloc(nvalues, sizeof(*values));
	char **owned = calloc(nvms * 8 + 1, sizeof(*owned));
	struct label_ref *got, *want;
	size_t i, j, k, n = 0, total = 0, nlab, start, nowned = 0;
	char buf[32];

	assert_non_null(vms);
	rng_state = seed;
	for (i = 0; i < nkeys; i++) {
		snprintf(buf, sizeof(buf), "k%zu", i);
		keys[i] = strdup(buf);
	}
	for (i = 0; i < nvalues; i++) {
		snprintf(buf, sizeof(buf), "v%zu", i);
		values[i] = strdup(buf);
	}
	for (i = 0; i < nvms; i++) {
		nlab = rng() % 5;
		if (nlab > nkeys)
			nlab = nkeys;
		vms[i].vm_labels.lb_v =
		    calloc(nlab + 1, sizeof(*vms[i].vm_labels.lb_v));
		/* Keys unique within a VM: consecutive from a random start. */
		start = rng() % nkeys;
		for (j = 0; j < nlab; j++) {
			k = (start + j) % nkeys;
			vms[i].vm_labels.lb_v[j].key =
			    shared ? keys[k]
			           : (owned[nowned++] = strdup(keys[k]));
			k = rng() % nvalues;
			vms[i].vm_labels.lb_v[j].value =
			    shared ? values[k]
			           : (owned[nowned++] = strdup(values[k]));
		}
		vms[i].vm_labels.lb_n = nlab;
		total += nlab;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.cfg_vms = vms;
	cfg.cfg_nvms = nvms;

	got = label_index(&cfg, &n);
	assert_int_equal(n, total);
	want = calloc(total + 1, sizeof(*want));
	for (i = 0, k = 0; i < nvms; i++)
		for (j = 0; j < vms[i].vm_labels.lb_n; j++, k++) {
			want[k].lr_key = vms[i].vm_labels.lb_v[j].key;
			want[k].lr_value = vms[i].vm_labels.lb_v[j].value;
			want[k].lr_vm = (uint32_t)i;
		}
	qsort(want, total, sizeof(*want), ref_cmp);
	for (k = 0; k < total; k++) {
		assert_string_equal(got[k].lr_key, want[k].lr_key);
		assert_string_equal(got[k].lr_value, want[k].lr_value);
		assert_int_equal(got[k].lr_vm, want[k].lr_vm);
		/* The VM's own label, not another's copy of its text. */
		if (!shared) {
			for (j = 0; j < vms[got[k].lr_vm].vm_labels.lb_n; j++)
				if (vms[got[k].lr_vm].vm_labels.lb_v[j].key ==
				    got[k].lr_key)
					break;
			assert_true(j < vms[got[k].lr_vm].vm_labels.lb_n);
			assert_ptr_equal(got[k].lr_value,
			    vms[got[k].lr_vm].vm_labels.lb_v[j].value);
		}
	}
	free(got);
	free(want);
	for (i = 0; i < nowned; i++)
		free(owned[i]);
	free(owned);
	for (i = 0; i < nvms; i++)
		free(vms[i].vm_labels.lb_v);
	for (i = 0; i < nkeys; i++)
		free(keys[i]);
	for (i = 0; i < nvalues; i++)
		free(values[i]);
	free(keys);
	free(values);
	free(vms);
}

static void
test_shared_strings_sorted_as_by_strcmp(void **state)
{
	uint32_t seed;

	(void)state;
	for (seed = 1; seed <= 40; seed++)
		check_random(
		    seed, 1 + seed * 37, 1 + seed % 6, 1 + seed % 9, 1);
}

static void
test_unshared_equal_text_one_rank(void **state)
{
	uint32_t seed;

	(void)state;
	for (seed = 1; seed <= 40; seed++)
		check_random(
		    seed, 1 + seed * 11, 1 + seed % 4, 1 + seed % 3, 0);
}

static void
test_many_pairs_collide_in_the_table(void **state)
{
	(void)state;
	check_random(7, 5000, 40, 500, 1);
	check_random(8, 3000, 7, 300, 0);
}

static void
test_no_labels_empty_index(void **state)
{
	struct xdc_config cfg;
	struct xdc_vm vms[3];
	struct label_ref *got;
	size_t n = 99;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	memset(vms, 0, sizeof(vms));
	got = label_index(&cfg, &n);
	assert_int_equal(n, 0);
	free(got);
	cfg.cfg_vms = vms;
	cfg.cfg_nvms = 3;
	n = 99;
	got = label_index(&cfg, &n);
	assert_int_equal(n, 0);
	free(got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared_strings_sorted_as_by_strcmp),
		cmocka_unit_test(test_unshared_equal_text_one_rank),
		cmocka_unit_test(test_many_pairs_collide_in_the_table),
		cmocka_unit_test(test_no_labels_empty_index),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
