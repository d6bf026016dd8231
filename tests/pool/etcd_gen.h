/*
 * What the tests of etcd's event readers (test_etcd_json_events.c,
 * test_etcd_json_events_watch.c) share: a recorded file read whole, and
 * a generator of etcd's JSON, random but valid (a seeded xorshift, so
 * every run is the same): fields in any order or left out, int64 as
 * strings or numbers, keys and values of random bytes in every base64
 * form etcd_b64_decode takes, unknown fields of any JSON. Header-only,
 * static, as each test is one file.
 */
#ifndef XDC_TESTS_ETCD_GEN_H
#define XDC_TESTS_ETCD_GEN_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/file.h"
#include "pool/etcd_json.h"
#include "tests/pool/sb.h"

/* The whole file, through the project's own reader. */
static char *
slurp(const char *path, size_t *len)
{
	char *buf = NULL;

	assert_int_equal(xdc_file_read(path, SIZE_MAX, 0, &buf, len), 0);
	assert_non_null(buf);
	return buf;
}

static uint64_t rng = 88172645463325252ULL;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11) % n;
}

static void
ws(struct sb *b)
{
	static const char *const w[] = { "", "", "", " ", "\n", "\t",
		"\r\n  " };

	sb_printf(b, "%s", w[rnd(7)]);
}

static void
key(struct sb *b, const char *name)
{
	ws(b);
	sb_printf(b, "\"%s\"", name);
	ws(b);
	sb_add(b, ":", 1);
	ws(b);
}

/* An int64, as a string or a number, or null. */
static void
i64(struct sb *b)
{
	static const long long edge[] = { 0, 1, -1, 9223372036854775807LL,
		-9223372036854775807LL - 1, 100, 2324035763481305360LL };
	long long v = rnd(3) == 0
	                  ? edge[rnd(7)]
	                  : (long long)rnd(1000000) - (long long)rnd(10);

	switch (rnd(5)) {
	case 0:
		sb_printf(b, "%lld", v);
		break;
	case 1:
		sb_add(b, "null", 4);
		break;
	default:
		sb_printf(b, "\"%lld\"", v);
	}
}

/*
 * Random bytes, of every value, as base64 in one of the forms that
 * etcd_b64_decode takes.
 */
static void
bytes(struct sb *b, size_t max)
{
	unsigned char buf[512];
	size_t n = rnd((uint32_t)max + 1), i, l;
	char *s;

	for (i = 0; i < n; i++)
		buf[i] = (unsigned char)rnd(256);
	s = etcd_b64_encode(buf, n);
	l = strlen(s);
	if (rnd(4) == 0)
		for (i = 0; i < l; i++)
			s[i] = s[i] == '+' ? '-' : s[i] == '/' ? '_' : s[i];
	if (rnd(4) == 0)
		while (l > 0 && s[l - 1] == '=')
			l--;
	sb_add(b, "\"", 1);
	sb_add(b, s, l);
	sb_add(b, "\"", 1);
	free(s);
}

/* A value nobody reads: any JSON etcd could add in a newer version. */
static void
unknown(struct sb *b, int depth)
{
	size_t i, n;

	switch (rnd(depth > 2 ? 5 : 7)) {
	case 0:
		sb_printf(b, "\"%u abc-XYZ_./:\"", rnd(1000));
		break;
	case 1:
		sb_printf(b, "%d", (int)rnd(100000) - 500);
		break;
	case 2:
		sb_printf(b, "%s", rnd(2) ? "true" : "false");
		break;
	case 3:
		sb_add(b, "null", 4);
		break;
	case 4:
		sb_add(b, "\"\"", 2);
		break;
	case 5:
		sb_add(b, "[", 1);
		for (i = 0, n = rnd(4); i < n; i++) {
			if (i > 0)
				sb_add(b, ",", 1);
			ws(b);
			unknown(b, depth + 1);
		}
		sb_add(b, "]", 1);
		break;
	default:
		sb_add(b, "{", 1);
		for (i = 0, n = rnd(4); i < n; i++) {
			if (i > 0)
				sb_add(b, ",", 1);
			/* Our own names too, one level down: not ours there. */
			key(b, rnd(2) ? "kvs" : "zz");
			unknown(b, depth + 1);
		}
		sb_add(b, "}", 1);
	}
}

/* The fields of an object in a random order, each at most once. */
static void
object(struct sb *b, const char *const *names, size_t n,
    void (*value)(struct sb *, const char *))
{
	size_t order[16], i, j, t, k = 0;

	for (i = 0; i < n; i++)
		order[i] = i;
	for (i = n; i > 1; i--) {
		j = rnd((uint32_t)i);
		t = order[i - 1], order[i - 1] = order[j], order[j] = t;
	}
	sb_add(b, "{", 1);
	for (i = 0; i < n; i++) {
		if (rnd(5) == 0)
			continue; /* left out, as at its default */
		if (k++ > 0)
			sb_add(b, ",", 1);
		key(b, names[order[i]]);
		value(b, names[order[i]]);
		ws(b);
	}
	sb_add(b, "}", 1);
}

static void
kv_value(struct sb *b, const char *name)
{
	if (strcmp(name, "key") == 0)
		bytes(b, 40);
	else if (strcmp(name, "value") == 0 && rnd(8) == 0)
		sb_add(b, "null", 4);
	else if (strcmp(name, "value") == 0)
		bytes(b, 300);
	else if (strcmp(name, "x_new") == 0)
		unknown(b, 0);
	else
		i64(b);
}

static void
header_value(struct sb *b, const char *name)
{
	if (strcmp(name, "revision") == 0)
		i64(b);
	else
		sb_printf(b, "\"%u\"", rnd(1000000));
}

#endif
