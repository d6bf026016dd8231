/*
 * Strings kept once (base/strtab.c): equal strings, however they come
 * (whole, or cut from a longer text), get one copy; different ones never
 * share, through the table's growth and whatever their hashes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/arena.h"
#include "base/strtab.h"

static void
test_equal_strings_share_one_copy(void **state)
{
	struct xdc_arena *a = xdc_arena_new();
	struct xdc_strtab *t = xdc_strtab_new(a);
	char buf[] = "/boot/vmlinuz";
	const char *one = xdc_strtab_str(t, "/boot/vmlinuz");

	(void)state;
	assert_string_equal(one, "/boot/vmlinuz");
	assert_ptr_not_equal(one, buf);
	assert_ptr_equal(xdc_strtab_str(t, buf), one);
	/* A piece of a longer text, not NUL-terminated where it ends. */
	assert_ptr_equal(xdc_strtab_intern(t, "/boot/vmlinuz-6.1", 13), one);
	assert_ptr_not_equal(xdc_strtab_str(t, "/boot/vmlinuz-6.1"), one);
	assert_ptr_not_equal(xdc_strtab_str(t, "/boot/vmlinu"), one);
	assert_string_equal(xdc_strtab_intern(t, "", 0), "");
	assert_null(xdc_strtab_str(t, NULL));
	xdc_strtab_free(t);
	/* The strings are the arena's: still there without the table. */
	assert_string_equal(one, "/boot/vmlinuz");
	xdc_arena_free(a);
}

static void
test_many_strings_stay_distinct_through_growth(void **state)
{
	struct xdc_arena *a = xdc_arena_new();
	struct xdc_strtab *t = xdc_strtab_new(a);
	const char *v[1000];
	char s[32];
	size_t i;

	(void)state;
	for (i = 0; i < 1000; i++) {
		snprintf(s, sizeof(s), "xdc-br%zu", i);
		v[i] = xdc_strtab_str(t, s);
	}
	for (i = 0; i < 1000; i++) {
		snprintf(s, sizeof(s), "xdc-br%zu", i);
		assert_ptr_equal(xdc_strtab_str(t, s), v[i]);
		assert_string_equal(v[i], s);
		if (i > 0)
			assert_ptr_not_equal(v[i], v[i - 1]);
	}
	xdc_strtab_free(t);
	xdc_arena_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_equal_strings_share_one_copy),
		cmocka_unit_test(
		    test_many_strings_stay_distinct_through_growth),
	};

	return cmocka_run_group_tests_name("base/strtab", tests, NULL, NULL);
}
