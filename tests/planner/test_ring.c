/*
 * The placement ring's sort (planner/place.c's ring_sort, a radix sort by
 * hash): by property, against a qsort by (hash, host) of points made in
 * host order, as ring_new makes them, with hashes that share bytes and
 * hashes that repeat.
 *
 * place.c keeps the ring static, so the test includes its source.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "planner/place.c"

static int
point_cmp(const void *a, const void *b)
{
	const struct point *x = a, *y = b;

	if (x->pt_hash != y->pt_hash)
		return x->pt_hash < y->pt_hash ? -1 : 1;
	return x->pt_host < y->pt_host ? -1 : x->pt_host > y->pt_host;
}

static uint64_t rng_state;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* n points over hosts of per points each; mask keeps some hash bits. */
static void
check_sort(uint64_t seed, size_t n, size_t per, uint64_t mask)
{
	struct point *got = calloc(n + 1, sizeof(*got));
	struct point *want = calloc(n + 1, sizeof(*want));
	size_t i;

	assert_non_null(got);
	assert_non_null(want);
	rng_state = seed;
	for (i = 0; i < n; i++) {
		got[i].pt_hash = rng() & mask;
		got[i].pt_host = (uint32_t)(i / per);
	}
	memcpy(want, got, n * sizeof(*got));
	qsort(want, n, sizeof(*want), point_cmp);
	ring_sort(got, n);
	for (i = 0; i < n; i++) {
		assert_true(got[i].pt_hash == want[i].pt_hash);
		assert_int_equal(got[i].pt_host, want[i].pt_host);
	}
	free(got);
	free(want);
}

static void
test_ring_sorted_by_hash_then_host(void **state)
{
	uint64_t seed;

	(void)state;
	for (seed = 1; seed <= 30; seed++)
		check_sort(seed, seed * 131, RING_POINTS, UINT64_MAX);
}

static void
test_ring_repeated_hashes_keep_host_order(void **state)
{
	(void)state;
	/* Few distinct hashes, in every byte: ties everywhere. */
	check_sort(5, 4000, 7, 0x0300000000000003ULL);
	check_sort(6, 4000, 64, 0xff);
	check_sort(7, 4000, 3, 0xff00000000000000ULL);
	check_sort(8, 1000, 1, 0);
}

static void
test_ring_tiny(void **state)
{
	(void)state;
	check_sort(9, 0, 1, UINT64_MAX);
	check_sort(10, 1, 1, UINT64_MAX);
	check_sort(11, 2, 1, UINT64_MAX);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring_sorted_by_hash_then_host),
		cmocka_unit_test(test_ring_repeated_hashes_keep_host_order),
		cmocka_unit_test(test_ring_tiny),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
