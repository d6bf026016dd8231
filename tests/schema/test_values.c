/*
 * Tests of schema/values.c, the scalar grammars (sizes, numbers, booleans,
 * MACs, windows, rates, names), and of the canonical forms in model.c that
 * go with them (xdc_size_fmt, xdc_mac_derive).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "schema/model.h"
#include "schema/values.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Parse a size that must be valid and return it. */
static uint64_t
size_ok(const char *s)
{
	uint64_t v = 0;
	const char *why = xdc_parse_size(s, &v);

	if (why != NULL)
		fail_msg("\"%s\": %s", s, why);
	return v;
}

/* A size that must be refused, leaving the output untouched. */
static void
size_bad(const char *s, const char *substr)
{
	uint64_t v = 12345;
	const char *why = xdc_parse_size(s, &v);

	if (why == NULL)
		fail_msg(
		    "\"%s\" was accepted as %llu", s, (unsigned long long)v);
	if (strstr(why, substr) == NULL)
		fail_msg("\"%s\": \"%s\" does not say \"%s\"", s, why, substr);
	assert_int_equal(v, 12345);
}

/* ---- Sizes ------------------------------------------------------------ */

static void
test_size_binary_units(void **state)
{
	(void)state;
	assert_int_equal(size_ok("1KiB"), 1024);
	assert_int_equal(size_ok("512MiB"), 512ULL << 20);
	assert_int_equal(size_ok("2GiB"), 2ULL << 30);
	assert_int_equal(size_ok("1TiB"), 1ULL << 40);
}

static void
test_size_bare_integer_is_bytes(void **state)
{
	(void)state;
	assert_int_equal(size_ok("0"), 0);
	assert_int_equal(size_ok("4096"), 4096);
	assert_int_equal(size_ok("007"), 7);
	assert_int_equal(size_ok("9223372036854775807"), INT64_MAX);
}

static void
test_size_overflow_rejected_at_every_unit(void **state)
{
	/*
	 * The largest value each unit can say under 2^63, and one more:
	 * 2^63 bytes and more were written as negative numbers.
	 */
	static const struct {
		const char *max, *over;
		uint64_t value;
	} cases[] = {
		{ "9223372036854775807", "9223372036854775808", INT64_MAX },
		{ "9007199254740991KiB", "9007199254740992KiB",
		    ((1ULL << 53) - 1) << 10 },
		{ "8796093022207MiB", "8796093022208MiB",
		    ((1ULL << 43) - 1) << 20 },
		{ "8589934591GiB", "8589934592GiB", ((1ULL << 33) - 1) << 30 },
		{ "8388607TiB", "8388608TiB", ((1ULL << 23) - 1) << 40 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		assert_int_equal(size_ok(cases[i].max), cases[i].value);
		size_bad(cases[i].over,
		    "is too large: a size is at most 9223372036854775807 bytes "
		    "(2^63 - 1, just under 8388608TiB)");
	}
	size_bad("18446744073709551615", "too large");
	size_bad("99999999999999999999999999TiB", "too large");
}

static void
test_size_decimal_units_rejected(void **state)
{
	static const char *const bad[] = { "1GB", "1KB", "1MB", "1TB", "1G",
		"1k", "1K", "1gib", "1GIB", "1B", "1PiB" };
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(bad); i++)
		size_bad(bad[i], "units are KiB, MiB, GiB, TiB");
}

static void
test_size_garbage_rejected(void **state)
{
	static const char *const bad[] = { "abc", "GiB", "-1", "+1", "1.5GiB",
		" 1GiB", "1 GiB", "1GiB ", "0x10", "1GiBx" };
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(bad); i++)
		size_bad(bad[i], "expected a size");
}

static void
test_size_empty_rejected(void **state)
{
	(void)state;
	size_bad("", "expected a size");
}

/* ---- Whole numbers ---------------------------------------------------- */

static void
test_uint_max_accepted(void **state)
{
	uint64_t v = 0;

	(void)state;
	assert_null(xdc_parse_uint("512", 512, &v));
	assert_int_equal(v, 512);
	assert_null(xdc_parse_uint("18446744073709551615", UINT64_MAX, &v));
	assert_int_equal(v, UINT64_MAX);
	assert_null(xdc_parse_uint("0", 0, &v));
	assert_int_equal(v, 0);
}

static void
test_uint_above_max_rejected(void **state)
{
	uint64_t v = 7;

	(void)state;
	assert_string_equal(xdc_parse_uint("513", 512, &v), "is too large");
	assert_int_equal(v, 7);
}

static void
test_uint_overflow_rejected(void **state)
{
	uint64_t v = 7;

	(void)state;
	assert_string_equal(
	    xdc_parse_uint("18446744073709551616", UINT64_MAX, &v),
	    "is too large");
	assert_string_equal(
	    xdc_parse_uint("99999999999999999999999", UINT64_MAX, &v),
	    "is too large");
	assert_int_equal(v, 7);
}

static void
test_uint_garbage_rejected(void **state)
{
	static const char *const bad[] = { "", "-1", "+1", "1.0", "0x1", " 1",
		"1 ", "1e3", "one" };
	uint64_t v = 7;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(bad); i++) {
		if (xdc_parse_uint(bad[i], UINT64_MAX, &v) == NULL)
			fail_msg("\"%s\" was accepted", bad[i]);
	}
	assert_int_equal(v, 7);
}

/* ---- Booleans --------------------------------------------------------- */

static void
test_bool_core_forms_accepted(void **state)
{
	static const struct {
		const char *s;
		int v;
	} ok[] = { { "true", 1 }, { "True", 1 }, { "TRUE", 1 }, { "false", 0 },
		{ "False", 0 }, { "FALSE", 0 } };
	size_t i;
	int b;

	(void)state;
	for (i = 0; i < NELEM(ok); i++) {
		b = -1;
		assert_null(xdc_parse_bool(ok[i].s, &b));
		assert_int_equal(b, ok[i].v);
	}
}

static void
test_bool_yaml11_forms_rejected(void **state)
{
	static const char *const bad[] = { "yes", "no", "Yes", "on", "off", "y",
		"n", "1", "0", "tRUE", "fALSE", "", "true " };
	size_t i;
	int b = -1;

	(void)state;
	for (i = 0; i < NELEM(bad); i++) {
		if (xdc_parse_bool(bad[i], &b) == NULL)
			fail_msg("\"%s\" was accepted", bad[i]);
	}
	assert_int_equal(b, -1);
}

/* ---- MAC addresses ---------------------------------------------------- */

static void
test_mac_lower_and_upper_case_accepted(void **state)
{
	static const uint8_t want[6] = { 0x00, 0x16, 0x3e, 0xab, 0xcd, 0xef };
	uint8_t m[6];

	(void)state;
	memset(m, 0, sizeof(m));
	assert_null(xdc_parse_mac("00:16:3e:ab:cd:ef", m));
	assert_memory_equal(m, want, 6);
	memset(m, 0, sizeof(m));
	assert_null(xdc_parse_mac("00:16:3E:AB:CD:EF", m));
	assert_memory_equal(m, want, 6);
	memset(m, 0, sizeof(m));
	assert_null(xdc_parse_mac("00:16:3e:Ab:cD:eF", m));
	assert_memory_equal(m, want, 6);
}

static void
test_mac_locally_administered_accepted(void **state)
{
	uint8_t m[6];

	(void)state;
	assert_null(xdc_parse_mac("02:00:00:00:00:01", m));
	assert_int_equal(m[0], 0x02);
	assert_int_equal(m[5], 0x01);
}

static void
test_mac_syntax_rejected(void **state)
{
	static const char *const bad[] = { "", "00:16:3e:00:00",
		"00:16:3e:00:00:01:02", "00-16-3e-00-00-01", "0:16:3e:00:00:01",
		"00:16:3e:00:00:1", "00:16:3e:00:00:001", "00163e000001",
		"00:16:3e:00:00:0g", "00:16:3e:00:00:01:", " 00:16:3e:00:00:01",
		"00:16:3e:00:00:01 ", "00:16:3e::00:01" };
	uint8_t m[6] = { 9, 9, 9, 9, 9, 9 };
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(bad); i++) {
		why = xdc_parse_mac(bad[i], m);
		if (why == NULL || strstr(why, "expected a MAC") == NULL)
			fail_msg("\"%s\": %s", bad[i], why ? why : "accepted");
	}
	assert_int_equal(m[0], 9);
}

static void
test_mac_multicast_rejected(void **state)
{
	static const char *const bad[] = { "01:00:5e:00:00:01",
		"33:33:00:00:00:01", "ff:ff:ff:ff:ff:ff", "03:16:3e:00:00:01" };
	uint8_t m[6] = { 9, 9, 9, 9, 9, 9 };
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(bad); i++) {
		why = xdc_parse_mac(bad[i], m);
		if (why == NULL || strstr(why, "multicast") == NULL)
			fail_msg("\"%s\": %s", bad[i], why ? why : "accepted");
	}
	assert_int_equal(m[0], 9);
}

static void
test_mac_all_zero_rejected(void **state)
{
	uint8_t m[6] = { 9, 9, 9, 9, 9, 9 };
	const char *why = xdc_parse_mac("00:00:00:00:00:00", m);

	(void)state;
	assert_non_null(why);
	assert_non_null(strstr(why, "all-zero"));
	assert_int_equal(m[0], 9);
}

/* ---- Maintenance windows ---------------------------------------------- */

#define SUN (1u << 0)
#define MON (1u << 1)
#define TUE (1u << 2)
#define WED (1u << 3)
#define THU (1u << 4)
#define FRI (1u << 5)
#define SAT (1u << 6)

static struct xdc_window
window_ok(const char *s)
{
	struct xdc_window w = { 0, 0, 0 };
	const char *why = xdc_parse_window(s, &w);

	if (why != NULL)
		fail_msg("\"%s\": %s", s, why);
	return w;
}

static void
window_bad(const char *s, const char *substr)
{
	struct xdc_window w = { 0x55, 7, 9 };
	const char *why = xdc_parse_window(s, &w);

	if (why == NULL)
		fail_msg("\"%s\" was accepted", s);
	if (strstr(why, substr) == NULL)
		fail_msg("\"%s\": \"%s\" does not say \"%s\"", s, why, substr);
	assert_int_equal(w.w_days, 0x55);
	assert_int_equal(w.w_start, 7);
	assert_int_equal(w.w_end, 9);
}

static void
test_window_one_day(void **state)
{
	struct xdc_window w = window_ok("Sat 02:00-04:00 UTC");

	(void)state;
	assert_int_equal(w.w_days, SAT);
	assert_int_equal(w.w_start, 120);
	assert_int_equal(w.w_end, 240);
}

static void
test_window_day_names_any_case(void **state)
{
	(void)state;
	assert_int_equal(window_ok("sat 02:00-04:00 UTC").w_days, SAT);
	assert_int_equal(window_ok("SUN 02:00-04:00 UTC").w_days, SUN);
}

static void
test_window_day_range(void **state)
{
	(void)state;
	assert_int_equal(window_ok("Mon-Fri 01:00-02:00 UTC").w_days,
	    MON | TUE | WED | THU | FRI);
}

static void
test_window_day_range_wraps_past_sunday(void **state)
{
	(void)state;
	assert_int_equal(
	    window_ok("Fri-Mon 01:00-02:00 UTC").w_days, FRI | SAT | SUN | MON);
}

static void
test_window_day_list(void **state)
{
	(void)state;
	assert_int_equal(window_ok("Mon,Wed,Sat-Sun 01:00-02:00 UTC").w_days,
	    MON | WED | SAT | SUN);
}

static void
test_window_daily(void **state)
{
	struct xdc_window w = window_ok("daily 01:00-02:30 UTC");

	(void)state;
	assert_int_equal(w.w_days, 0x7f);
	assert_int_equal(w.w_start, 60);
	assert_int_equal(w.w_end, 150);
}

static void
test_window_wraps_midnight(void **state)
{
	struct xdc_window w = window_ok("Mon-Fri,Sun 22:00-02:00 UTC");

	(void)state;
	assert_int_equal(w.w_days, MON | TUE | WED | THU | FRI | SUN);
	assert_int_equal(w.w_start, 22 * 60);
	assert_int_equal(w.w_end, 2 * 60);
}

static void
test_window_end_2400_is_midnight(void **state)
{
	struct xdc_window w = window_ok("Sat 22:00-24:00 UTC");

	(void)state;
	assert_int_equal(w.w_start, 22 * 60);
	assert_int_equal(w.w_end, 0);
	w = window_ok("daily 00:00-24:00 UTC");
	assert_int_equal(w.w_start, 0);
	assert_int_equal(w.w_end, 0);
	assert_int_equal(
	    window_ok("Sat 23:59-24:00 UTC").w_start, 23 * 60 + 59);
}

static void
test_window_start_2400_rejected(void **state)
{
	(void)state;
	window_bad("Sat 24:00-02:00 UTC", "time range");
}

static void
test_window_empty_rejected(void **state)
{
	(void)state;
	window_bad("Sat 02:00-02:00 UTC", "empty");
	window_bad("daily 00:00-00:00 UTC", "empty");
}

static void
test_window_missing_utc_rejected(void **state)
{
	(void)state;
	window_bad("Sat 02:00-04:00", "UTC");
	window_bad("Sat 02:00-04:00 CET", "UTC");
	window_bad("Sat 02:00-04:00 utc", "UTC");
	window_bad("Sat 02:00-04:00  UTC", "UTC");
	window_bad("Sat 02:00-04:00 UTC ", "UTC");
	window_bad("Sat 02:00-04:00 UTC+1", "UTC");
}

static void
test_window_bad_times_rejected(void **state)
{
	static const char *const bad[] = { "Sat 2:00-04:00 UTC",
		"Sat 25:00-04:00 UTC", "Sat 02:60-04:00 UTC",
		"Sat 02:00-24:01 UTC", "Sat 02:00-25:00 UTC", "Sat 02:00 UTC",
		"Sat 02:00-04 UTC", "Sat 02:00--04:00 UTC",
		"Sat 02.00-04.00 UTC", "Sat 0200-0400 UTC",
		"Sat  02:00-04:00 UTC" };
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(bad); i++)
		window_bad(bad[i], "time range");
}

static void
test_window_bad_days_rejected(void **state)
{
	static const char *const bad[] = { "Sa 02:00-04:00 UTC",
		"Saturday 02:00-04:00 UTC", "Funday 02:00-04:00 UTC",
		"Mon- 02:00-04:00 UTC", "Mon,,Tue 02:00-04:00 UTC",
		"Mon, Tue 02:00-04:00 UTC", "Daily 02:00-04:00 UTC" };
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(bad); i++)
		window_bad(bad[i], "days");
	window_bad("Sat02:00-04:00 UTC", "space between the days");
	window_bad("", "expected days");
	window_bad("02:00-04:00 UTC", "expected days");
}

/* ---- Rates ------------------------------------------------------------ */

static void
test_rate_units(void **state)
{
	static const struct {
		const char *s;
		uint32_t count, period;
	} ok[] = { { "1/30s", 1, 30 }, { "3/2m", 3, 120 }, { "5/1h", 5, 3600 },
		{ "10/1d", 10, 86400 }, { "4294967295/1s", UINT32_MAX, 1 },
		{ "1/49710d", 1, 49710u * 86400u } };
	struct xdc_rate r;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(ok); i++) {
		memset(&r, 0, sizeof(r));
		assert_null(xdc_parse_rate(ok[i].s, &r));
		assert_int_equal(r.r_count, ok[i].count);
		assert_int_equal(r.r_period, ok[i].period);
	}
}

static void
test_rate_zero_rejected(void **state)
{
	struct xdc_rate r = { 7, 9 };

	(void)state;
	assert_non_null(strstr(xdc_parse_rate("0/1h", &r), "at least 1"));
	assert_non_null(strstr(xdc_parse_rate("5/0h", &r), "at least 1"));
	assert_int_equal(r.r_count, 7);
	assert_int_equal(r.r_period, 9);
}

static void
test_rate_overflow_rejected(void **state)
{
	static const char *const bad[] = { "4294967296/1s", "1/4294967296s",
		"1/49711d", "1/71582789m", "99999999999999999999/1h",
		"1/99999999999999999999s" };
	struct xdc_rate r = { 7, 9 };
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(bad); i++) {
		why = xdc_parse_rate(bad[i], &r);
		if (why == NULL || strstr(why, "too large") == NULL)
			fail_msg("\"%s\": %s", bad[i], why ? why : "accepted");
	}
	assert_int_equal(r.r_count, 7);
}

static void
test_rate_syntax_rejected(void **state)
{
	static const char *const bad[] = { "", "5", "5/", "5/h", "/1h", "5/1",
		"5/1x", "5/1hh", "5/1H", " 5/1h", "5 /1h", "5/ 1h", "-5/1h",
		"5/1h ", "5//1h" };
	struct xdc_rate r = { 7, 9 };
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(bad); i++) {
		why = xdc_parse_rate(bad[i], &r);
		if (why == NULL || strstr(why, "count per period") == NULL)
			fail_msg("\"%s\": %s", bad[i], why ? why : "accepted");
	}
	assert_int_equal(r.r_count, 7);
}

/* ---- Names ------------------------------------------------------------ */

static void
test_name_dns_labels_accepted(void **state)
{
	static const char *const ok[] = { "a", "0", "web-1", "a--b", "9lives",
		"x-0" };
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(ok); i++)
		assert_true(xdc_name_valid(ok[i]));
}

static void
test_name_63_chars_accepted_64_rejected(void **state)
{
	char s[80];

	(void)state;
	memset(s, 'a', 63);
	s[63] = '\0';
	assert_true(xdc_name_valid(s));
	s[63] = 'a';
	s[64] = '\0';
	assert_false(xdc_name_valid(s));
}

static void
test_name_outside_dns_label_rejected(void **state)
{
	static const char *const bad[] = { "", "-a", "a-", "-", "A", "Web",
		"a_b", "a.b", "a b", "a/b", "caf\xc3\xa9" };
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(bad); i++)
		if (xdc_name_valid(bad[i]))
			fail_msg("\"%s\" was accepted", bad[i]);
}

/* ---- Interface names -------------------------------------------------- */

static void
test_ifname_15_chars_accepted_16_rejected(void **state)
{
	(void)state;
	assert_true(xdc_ifname_valid("abcdefghijklmno"));
	assert_false(xdc_ifname_valid("abcdefghijklmnop"));
}

static void
test_ifname_kernel_forms_accepted(void **state)
{
	(void)state;
	assert_true(xdc_ifname_valid("eth0"));
	assert_true(xdc_ifname_valid("eth0.20"));
	assert_true(xdc_ifname_valid("xdc-dmz"));
	assert_true(xdc_ifname_valid("..."));
	assert_true(xdc_ifname_valid("Br_0"));
}

static void
test_ifname_kernel_refusals_rejected(void **state)
{
	static const char *const bad[] = { "", ".", "..", "a/b", "a:b", "a b",
		"a\tb", "eth0\n", "/" };
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(bad); i++)
		if (xdc_ifname_valid(bad[i]))
			fail_msg("\"%s\" was accepted", bad[i]);
}

/* ---- Edit distance ---------------------------------------------------- */

static void
test_edit_distance_counts_edits(void **state)
{
	(void)state;
	assert_int_equal(xdc_edit_distance("memory", "memory"), 0);
	assert_int_equal(xdc_edit_distance("", "abc"), 3);
	assert_int_equal(xdc_edit_distance("abc", ""), 3);
	assert_int_equal(xdc_edit_distance("kitten", "sitting"), 3);
	assert_int_equal(xdc_edit_distance("memroy", "memory"), 2);
	assert_int_equal(xdc_edit_distance("vcpu", "vcpus"), 1);
	assert_int_equal(xdc_edit_distance("vcpus", "vcpu"), 1);
	assert_int_equal(xdc_edit_distance("kernal", "kernel"), 1);
}

static void
test_edit_distance_long_strings_never_close(void **state)
{
	char a[70], b[70];

	(void)state;
	memset(a, 'a', 64);
	a[64] = '\0';
	memcpy(b, a, sizeof(a));
	assert_int_equal(xdc_edit_distance(a, b), SIZE_MAX);
	a[63] = '\0';
	b[63] = '\0';
	assert_int_equal(xdc_edit_distance(a, b), 0);
}

/* ---- Canonical sizes -------------------------------------------------- */

static void
test_size_fmt_largest_exact_unit(void **state)
{
	static const struct {
		uint64_t v;
		const char *s;
	} cases[] = {
		{ 0, "0" },
		{ 1, "1" },
		{ 1023, "1023" },
		{ 1024, "1KiB" },
		{ 1025, "1025" },
		{ 1536, "1536" },
		{ 1536ULL << 10, "1536KiB" },
		{ 2ULL << 20, "2MiB" },
		{ 512ULL << 20, "512MiB" },
		{ 3ULL << 30, "3GiB" },
		{ 1ULL << 40, "1TiB" },
		{ 1ULL << 50, "1024TiB" },
		{ UINT64_MAX, "18446744073709551615" },
	};
	char buf[XDC_SIZE_BUFSZ];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++)
		assert_string_equal(xdc_size_fmt(cases[i].v, buf), cases[i].s);
}

static void
test_size_fmt_parses_back(void **state)
{
	static const uint64_t v[] = { 0, 1, 4097, 1ULL << 10, 3ULL << 20,
		(1ULL << 40) + (1ULL << 10), XDC_SIZE_MAX,
		(XDC_SIZE_MAX >> 40) << 40 };
	char buf[XDC_SIZE_BUFSZ];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(v); i++)
		assert_int_equal(size_ok(xdc_size_fmt(v[i], buf)), v[i]);
}

/* ---- Derived MACs ----------------------------------------------------- */

static void
test_mac_derive_stable(void **state)
{
	/*
	 * A VM keeps its MACs across re-creation and versions: this value is
	 * FNV-1a of "web-1/0", and changing it renumbers every guest's NIC.
	 */
	static const uint8_t want[6] = { 0x00, 0x16, 0x3e, 0x52, 0x0a, 0x84 };
	uint8_t a[6], b[6];

	(void)state;
	xdc_mac_derive("web-1", 0, a);
	xdc_mac_derive("web-1", 0, b);
	assert_memory_equal(a, b, 6);
	assert_memory_equal(a, want, 6);
}

static void
test_mac_derive_xen_oui_unicast(void **state)
{
	static const char *const names[] = { "a", "web-1", "db", "x-0" };
	char buf[XDC_MAC_BUFSZ];
	uint8_t m[6], back[6];
	size_t i, j;

	(void)state;
	for (i = 0; i < NELEM(names); i++) {
		for (j = 0; j < 8; j++) {
			xdc_mac_derive(names[i], j, m);
			assert_int_equal(m[0], 0x00);
			assert_int_equal(m[1], 0x16);
			assert_int_equal(m[2], 0x3e);
			assert_int_equal(m[3] & 0x80, 0);
			/* What the loader would accept if it were declared. */
			assert_null(xdc_parse_mac(xdc_mac_fmt(m, buf), back));
			assert_memory_equal(m, back, 6);
		}
	}
}

static void
test_mac_derive_differs_by_index_and_name(void **state)
{
	uint8_t a[6], b[6], c[6];

	(void)state;
	xdc_mac_derive("web-1", 0, a);
	xdc_mac_derive("web-1", 1, b);
	xdc_mac_derive("web-2", 0, c);
	assert_memory_not_equal(a, b, 6);
	assert_memory_not_equal(a, c, 6);
	assert_memory_not_equal(b, c, 6);
}

static void
test_mac_fmt_lower_case_colons(void **state)
{
	static const uint8_t m[6] = { 0x00, 0x16, 0x3e, 0xab, 0x0c, 0xff };
	char buf[XDC_MAC_BUFSZ];

	(void)state;
	assert_string_equal(xdc_mac_fmt(m, buf), "00:16:3e:ab:0c:ff");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_size_binary_units),
		cmocka_unit_test(test_size_bare_integer_is_bytes),
		cmocka_unit_test(test_size_overflow_rejected_at_every_unit),
		cmocka_unit_test(test_size_decimal_units_rejected),
		cmocka_unit_test(test_size_garbage_rejected),
		cmocka_unit_test(test_size_empty_rejected),
		cmocka_unit_test(test_uint_max_accepted),
		cmocka_unit_test(test_uint_above_max_rejected),
		cmocka_unit_test(test_uint_overflow_rejected),
		cmocka_unit_test(test_uint_garbage_rejected),
		cmocka_unit_test(test_bool_core_forms_accepted),
		cmocka_unit_test(test_bool_yaml11_forms_rejected),
		cmocka_unit_test(test_mac_lower_and_upper_case_accepted),
		cmocka_unit_test(test_mac_locally_administered_accepted),
		cmocka_unit_test(test_mac_syntax_rejected),
		cmocka_unit_test(test_mac_multicast_rejected),
		cmocka_unit_test(test_mac_all_zero_rejected),
		cmocka_unit_test(test_window_one_day),
		cmocka_unit_test(test_window_day_names_any_case),
		cmocka_unit_test(test_window_day_range),
		cmocka_unit_test(test_window_day_range_wraps_past_sunday),
		cmocka_unit_test(test_window_day_list),
		cmocka_unit_test(test_window_daily),
		cmocka_unit_test(test_window_wraps_midnight),
		cmocka_unit_test(test_window_end_2400_is_midnight),
		cmocka_unit_test(test_window_start_2400_rejected),
		cmocka_unit_test(test_window_empty_rejected),
		cmocka_unit_test(test_window_missing_utc_rejected),
		cmocka_unit_test(test_window_bad_times_rejected),
		cmocka_unit_test(test_window_bad_days_rejected),
		cmocka_unit_test(test_rate_units),
		cmocka_unit_test(test_rate_zero_rejected),
		cmocka_unit_test(test_rate_overflow_rejected),
		cmocka_unit_test(test_rate_syntax_rejected),
		cmocka_unit_test(test_name_dns_labels_accepted),
		cmocka_unit_test(test_name_63_chars_accepted_64_rejected),
		cmocka_unit_test(test_name_outside_dns_label_rejected),
		cmocka_unit_test(test_ifname_15_chars_accepted_16_rejected),
		cmocka_unit_test(test_ifname_kernel_forms_accepted),
		cmocka_unit_test(test_ifname_kernel_refusals_rejected),
		cmocka_unit_test(test_edit_distance_counts_edits),
		cmocka_unit_test(test_edit_distance_long_strings_never_close),
		cmocka_unit_test(test_size_fmt_largest_exact_unit),
		cmocka_unit_test(test_size_fmt_parses_back),
		cmocka_unit_test(test_mac_derive_stable),
		cmocka_unit_test(test_mac_derive_xen_oui_unicast),
		cmocka_unit_test(test_mac_derive_differs_by_index_and_name),
		cmocka_unit_test(test_mac_fmt_lower_case_colons),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
