/*
 * The scalar grammars (see values.h).
 */
#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "schema/values.h"

const char *
xdc_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	const char *p;

	if (*s == '\0')
		return "expected a whole number";
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return "expected a whole number";
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return "is too large";
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v > max)
		return "is too large";
	*out = v;
	return NULL;
}

static const struct {
	const char *u_name;
	unsigned u_shift;
} size_units[] = {
	{ "", 0 },
	{ "KiB", 10 },
	{ "MiB", 20 },
	{ "GiB", 30 },
	{ "TiB", 40 },
};

#define SIZE_TOO_LARGE                                                         \
	"is too large: a size is at most 9223372036854775807 bytes (2^63 - "   \
	"1, "                                                                  \
	"just under 8388608TiB)"

const char *
xdc_parse_size(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	const char *p;
	size_t i;

	for (p = s; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return SIZE_TOO_LARGE;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (p == s)
		return "expected a size such as 512MiB or 2GiB";
	for (i = 0; i < sizeof(size_units) / sizeof(size_units[0]); i++) {
		if (strcmp(p, size_units[i].u_name) != 0)
			continue;
		if (v > (XDC_SIZE_MAX >> size_units[i].u_shift))
			return SIZE_TOO_LARGE;
		*out = v << size_units[i].u_shift;
		return NULL;
	}
	return "expected a size such as 512MiB or 2GiB "
	       "(units are KiB, MiB, GiB, TiB)";
}

const char *
xdc_parse_bool(const char *s, int *out)
{
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")) {
		*out = 1;
		return NULL;
	}
	if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")) {
		*out = 0;
		return NULL;
	}
	return "expected true or false";
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

const char *
xdc_parse_mac(const char *s, uint8_t mac[6])
{
	uint8_t m[6];
	int i, hi, lo;

	for (i = 0; i < 6; i++) {
		hi = hexval((unsigned char)s[0]);
		lo = hi < 0 ? -1 : hexval((unsigned char)s[1]);
		if (lo < 0)
			goto syntax;
		m[i] = (uint8_t)(hi << 4 | lo);
		s += 2;
		if (i < 5 && *s++ != ':')
			goto syntax;
	}
	if (*s != '\0')
		goto syntax;
	if (m[0] & 1)
		return "is a multicast address; a NIC needs a unicast one";
	if ((m[0] | m[1] | m[2] | m[3] | m[4] | m[5]) == 0)
		return "is the all-zero address";
	memcpy(mac, m, sizeof(m));
	return NULL;
syntax:
	return "expected a MAC address such as 00:16:3e:00:00:01";
}

static const char *const day_names[7] = { "sun", "mon", "tue", "wed", "thu",
	"fri", "sat" };

static int
parse_day(const char **sp)
{
	int d;

	for (d = 0; d < 7; d++) {
		if (strncasecmp(*sp, day_names[d], 3) == 0 &&
		    !isalpha((unsigned char)(*sp)[3])) {
			*sp += 3;
			return d;
		}
	}
	return -1;
}

static int
parse_hhmm(const char **sp, int allow_24)
{
	const char *s = *sp;
	int h, m;

	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
	    s[2] != ':' || !isdigit((unsigned char)s[3]) ||
	    !isdigit((unsigned char)s[4]))
		return -1;
	h = (s[0] - '0') * 10 + (s[1] - '0');
	m = (s[3] - '0') * 10 + (s[4] - '0');
	if (m > 59 || h > 24 || (h == 24 && (m != 0 || !allow_24)))
		return -1;
	*sp = s + 5;
	return h * 60 + m;
}

const char *
xdc_parse_window(const char *s, struct xdc_window *out)
{
	struct xdc_window w = { 0, 0, 0 };
	int d0, d1, start, end;

	/* Days: "daily", or a comma-separated list of days and day ranges. */
	if (strncmp(s, "daily ", 6) == 0) {
		w.w_days = 0x7f;
		s += 6;
	} else if (isalpha((unsigned char)*s)) {
		for (;;) {
			if ((d0 = parse_day(&s)) < 0)
				return "expected days such as Sat, Mon-Fri or "
				       "daily";
			d1 = d0;
			if (*s == '-') {
				s++;
				if ((d1 = parse_day(&s)) < 0)
					return "expected days such as Sat, "
					       "Mon-Fri or daily";
			}
			for (;;) {
				w.w_days |= (uint8_t)(1u << d0);
				if (d0 == d1)
					break;
				d0 = (d0 + 1) % 7;
			}
			if (*s != ',')
				break;
			s++;
		}
		if (*s++ != ' ')
			return "expected a space between the days and the "
			       "times";
	} else {
		return "expected days, then times, such as \"Sat 02:00-04:00 "
		       "UTC\"";
	}

	if ((start = parse_hhmm(&s, 0)) < 0)
		return "expected a time range such as 02:00-04:00";
	if (*s++ != '-')
		return "expected a time range such as 02:00-04:00";
	if ((end = parse_hhmm(&s, 1)) < 0)
		return "expected a time range such as 02:00-04:00";
	if (start == end)
		return "the window is empty (it starts when it ends)";
	if (strcmp(s, " UTC") != 0)
		return "expected the time zone \"UTC\" after the times "
		       "(windows are in UTC, so every host agrees)";
	w.w_start = (uint16_t)start;
	w.w_end = (uint16_t)(end % (24 * 60));
	*out = w;
	return NULL;
}

const char *
xdc_parse_rate(const char *s, struct xdc_rate *out)
{
	uint64_t count = 0, n = 0, unit;
	const char *p = s;

	/* Saturate just past UINT32_MAX: enough to say "too large". */
	for (; *p >= '0' && *p <= '9'; p++)
		if (count <= UINT32_MAX)
			count = count * 10 + (uint64_t)(*p - '0');
	if (p == s || *p != '/')
		goto syntax;
	s = ++p;
	for (; *p >= '0' && *p <= '9'; p++)
		if (n <= UINT32_MAX)
			n = n * 10 + (uint64_t)(*p - '0');
	if (p == s)
		goto syntax;
	switch (*p++) {
	case 's':
		unit = 1;
		break;
	case 'm':
		unit = 60;
		break;
	case 'h':
		unit = 3600;
		break;
	case 'd':
		unit = 86400;
		break;
	default:
		goto syntax;
	}
	if (*p != '\0')
		goto syntax;
	if (count == 0 || n == 0)
		return "count and period must be at least 1";
	if (count > UINT32_MAX || n * unit > UINT32_MAX)
		return "is too large";
	out->r_count = (uint32_t)count;
	out->r_period = (uint32_t)(n * unit);
	return NULL;
syntax:
	return "expected a count per period such as 5/1h "
	       "(periods in s, m, h or d)";
}

int
xdc_name_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > XDC_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		if ((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9'))
			continue;
		if (s[i] == '-' && i != 0 && i != n - 1)
			continue;
		return 0;
	}
	return 1;
}

int
xdc_ifname_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > XDC_IFNAME_MAX)
		return 0;
	if (!strcmp(s, ".") || !strcmp(s, ".."))
		return 0;
	for (; *s != '\0'; s++)
		if (*s == '/' || *s == ':' || isspace((unsigned char)*s))
			return 0;
	return 1;
}

size_t
xdc_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, prev, tmp, best;
	size_t row[64];

	/* Keys are short; anything longer is no typo of one. */
	if (la >= 64 || lb >= 64)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			tmp = row[j];
			best = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = tmp;
		}
	}
	return row[lb];
}
