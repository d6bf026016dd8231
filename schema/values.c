/*
 * The scalar grammars (see values.h).
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

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

/* ---- Durations and times --------------------------------------------- */

static const struct {
	char du_unit;
	uint64_t du_secs;
} duration_units[] = {
	{ 'w', 7 * 86400 },
	{ 'd', 86400 },
	{ 'h', 3600 },
	{ 'm', 60 },
	{ 's', 1 },
};

#define NUNITS (sizeof(duration_units) / sizeof(duration_units[0]))

const char *
xdc_parse_duration(const char *s, uint64_t *out)
{
	uint64_t total = 0, n;
	const char *p = s;
	size_t u;

	if (*p == '\0')
		goto syntax;
	while (*p != '\0') {
		/* Saturate past the maximum: enough to say "too long". */
		for (n = 0; *p >= '0' && *p <= '9'; p++)
			if (n <= XDC_DURATION_MAX)
				n = n * 10 + (uint64_t)(*p - '0');
		if (p == s || !(p[-1] >= '0' && p[-1] <= '9'))
			goto syntax;
		for (u = 0; u < NUNITS; u++)
			if (*p == duration_units[u].du_unit)
				break;
		if (u == NUNITS)
			goto syntax;
		p++;
		if (n > XDC_DURATION_MAX / duration_units[u].du_secs)
			return "is too long (at most 36600d)";
		total += n * duration_units[u].du_secs;
		if (total > XDC_DURATION_MAX)
			return "is too long (at most 36600d)";
		s = p;
	}
	if (total == 0)
		return "must be longer than 0s";
	*out = total;
	return NULL;
syntax:
	return "expected a duration such as 48h, 30m or 1h30m "
	       "(units w, d, h, m, s)";
}

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar. */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* n digits at *sp as a number, or -1. */
static int
digits(const char **sp, int n)
{
	int v = 0;

	for (; n > 0; n--, (*sp)++) {
		if (**sp < '0' || **sp > '9')
			return -1;
		v = v * 10 + (**sp - '0');
	}
	return v;
}

const char *
xdc_parse_time(const char *s, int64_t *out)
{
	static const unsigned mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30,
		31, 30, 31 };
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	int64_t t;

	if ((y = digits(&s, 4)) < 0 || *s++ != '-' ||
	    (mo = digits(&s, 2)) < 0 || *s++ != '-' ||
	    (d = digits(&s, 2)) < 0 || (*s != 'T' && *s != 't') ||
	    (s++, h = digits(&s, 2)) < 0 || *s++ != ':' ||
	    (mi = digits(&s, 2)) < 0 || *s++ != ':' ||
	    (sec = digits(&s, 2)) < 0)
		goto syntax;
	if (*s == '.') {
		if (!(*++s >= '0' && *s <= '9'))
			goto syntax;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s++ == '-' ? -1 : 1;
		if ((oh = digits(&s, 2)) < 0 || *s++ != ':' ||
		    (om = digits(&s, 2)) < 0 || oh > 23 || om > 59)
			goto syntax;
	} else {
		goto syntax;
	}
	if (*s != '\0')
		goto syntax;
	if (mo < 1 || mo > 12 || d < 1 || (unsigned)d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 &&
	        !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))))
		return "is not a date (no such month or day)";
	/* A leap second is the second after :59. */
	if (h > 23 || mi > 59 || sec > 60)
		return "is not a time of day";
	t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 +
	    mi * 60 + sec - sign * (oh * 3600 + om * 60);
	if (t < 0)
		return "is before 1970";
	*out = t;
	return NULL;
syntax:
	return "expected an RFC 3339 time such as 2026-12-01T00:00:00Z";
}

const char *
xdc_parse_expiry(const char *s, struct xdc_expiry *out)
{
	const char *why;
	uint64_t ttl;
	int64_t at;

	/* A time begins with its four-digit year and a '-'. */
	if (strlen(s) > 4 && s[4] == '-') {
		if ((why = xdc_parse_time(s, &at)) != NULL)
			return why;
		if (at == 0)
			return "is the epoch itself; expires needs a later "
			       "time";
		out->ex_ttl = 0;
		out->ex_at = at;
		return NULL;
	}
	if ((why = xdc_parse_duration(s, &ttl)) != NULL)
		return strncmp(why, "expected", 8) == 0
		           ? "expected a duration such as 48h, or an RFC 3339 "
		             "time such as 2026-12-01T00:00:00Z"
		           : why;
	out->ex_ttl = ttl;
	out->ex_at = 0;
	return NULL;
}

const char *
xdc_time_fmt(int64_t t, char buf[XDC_TIME_BUFSZ])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, XDC_TIME_BUFSZ, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, XDC_TIME_BUFSZ, "@%lld", (long long)t);
	return buf;
}

const char *
xdc_duration_fmt(uint64_t secs, char buf[XDC_DURATION_BUFSZ])
{
	size_t u, n = 0;
	uint64_t q;

	buf[0] = '\0';
	/* Weeks are left out: "14d" reads better than "2w". */
	for (u = 1; u < NUNITS; u++) {
		q = secs / duration_units[u].du_secs;
		if (q == 0)
			continue;
		secs -= q * duration_units[u].du_secs;
		n += (size_t)snprintf(buf + n, XDC_DURATION_BUFSZ - n, "%llu%c",
		    (unsigned long long)q, duration_units[u].du_unit);
	}
	if (n == 0)
		snprintf(buf, XDC_DURATION_BUFSZ, "0s");
	return buf;
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
