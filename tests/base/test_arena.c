/*
 * The bump allocator (base/arena.c): what is deferred to the arena's end
 * runs once, newest first, when the arena is reset or freed, and what is
 * adopted is freed with it (ASan and valgrind see a leak otherwise); a
 * sized arena's first block.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/arena.h"
#include "base/error.h"

struct calls {
	char c_order[8];
	size_t c_n;
};

struct mark {
	struct calls *m_calls;
	char m_name;
};

static void
note(void *arg)
{
	struct mark *m = arg;

	m->m_calls->c_order[m->m_calls->c_n++] = m->m_name;
}

static void
test_deferred_calls_run_newest_first_at_free(void **state)
{
	struct calls calls = { { 0 }, 0 };
	struct mark x = { &calls, 'x' }, y = { &calls, 'y' };
	struct xdc_arena *a = xdc_arena_new();

	(void)state;
	xdc_arena_defer(a, note, &x);
	/* Enough between them for a second block. */
	xdc_arena_alloc(a, 100 * 1024);
	xdc_arena_defer(a, note, &y);
	assert_int_equal(calls.c_n, 0);
	xdc_arena_adopt(a, xdc_strdup("adopted"));
	xdc_arena_free(a);
	assert_int_equal(calls.c_n, 2);
	assert_memory_equal(calls.c_order, "yx", 2);
}

static void
test_deferred_calls_run_once_at_reset(void **state)
{
	struct calls calls = { { 0 }, 0 };
	struct mark x = { &calls, 'x' }, y = { &calls, 'y' };
	struct xdc_arena *a = xdc_arena_new();

	(void)state;
	xdc_arena_defer(a, note, &x);
	xdc_arena_reset(a);
	assert_int_equal(calls.c_n, 1);
	xdc_arena_defer(a, note, &y);
	xdc_arena_free(a);
	assert_int_equal(calls.c_n, 2);
	assert_memory_equal(calls.c_order, "xy", 2);
}

/*
 * A sized arena's first block is the size asked (or the first take's,
 * when larger), and what does not fit goes to a block of the usual 16 KB:
 * a record's observation in one block of about its size.
 */
static void
test_a_sized_arena_takes_one_block_of_that_size(void **state)
{
	struct xdc_arena *a = xdc_arena_new_size(1000), *b;
	char *p, *q;

	(void)state;
	assert_int_equal(xdc_arena_held(a), 0);
	p = memset(xdc_arena_alloc(a, 500), 'x', 500);
	q = xdc_arena_alloc(a, 400);
	assert_int_equal(xdc_arena_held(a), 1000);
	assert_int_equal(xdc_arena_used(a), 912); /* 500 aligned, then 400 */
	assert_true(q - p == 512);
	/* 88 bytes with its NUL: the block is full, and not more. */
	xdc_arena_strndup(a, (const char *)p, 87);
	assert_int_equal(xdc_arena_held(a), 1000);
	assert_int_equal(xdc_arena_used(a), 1000);
	xdc_arena_strdup(a, "spills");
	assert_int_equal(xdc_arena_held(a), 1000 + 16 * 1024);
	assert_int_equal(xdc_arena_used(a), 1007);
	xdc_arena_alloc(a, 20 * 1024);
	assert_int_equal(xdc_arena_held(a), 1000 + 16 * 1024 + 32 * 1024);
	xdc_arena_free(a);

	b = xdc_arena_new_size(64);
	xdc_arena_alloc(b, 4096);
	assert_int_equal(xdc_arena_held(b), 4096);
	xdc_arena_alloc(b, 1);
	assert_int_equal(xdc_arena_held(b), 4096 + 16 * 1024);
	xdc_arena_free(b);

	b = xdc_arena_new_size(0);
	xdc_arena_alloc(b, 1);
	assert_int_equal(xdc_arena_held(b), 16 * 1024);
	xdc_arena_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deferred_calls_run_newest_first_at_free),
		cmocka_unit_test(test_deferred_calls_run_once_at_reset),
		cmocka_unit_test(
		    test_a_sized_arena_takes_one_block_of_that_size),
	};

	return cmocka_run_group_tests_name("base/arena", tests, NULL, NULL);
}
