/*
 * The logfmt logger (see log.h). Values with spaces, quotes, '=' or
 * control characters are quoted, with '"' and '\' escaped, newlines as
 * \n and other control characters as spaces, so that a message from a
 * driver or a configuration cannot forge a line or a key.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "reconciler/log.h"

static int log_verbose;

void
log_set_verbose(int v)
{
	log_verbose = v;
}

const char *
log_iso_time(int64_t ms, char buf[32])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

static void
ll_raw(struct logline *ll, const char *s, size_t n)
{
	/* Room for the newline log_end adds; the rest is cut. */
	if (ll->ll_n + n >= sizeof(ll->ll_buf) - 1)
		n = sizeof(ll->ll_buf) - 2 - ll->ll_n;
	memcpy(ll->ll_buf + ll->ll_n, s, n);
	ll->ll_n += n;
}

void
log_str(struct logline *ll, const char *key, const char *v)
{
	const char *s;
	int quote = 0;
	char esc[2] = { '\\', 0 };

	if (v == NULL)
		return;
	for (s = v; *s != '\0'; s++)
		if (*s <= ' ' || *s == '=' || *s == '"' || *s == '\\')
			quote = 1;
	ll_raw(ll, " ", 1);
	ll_raw(ll, key, strlen(key));
	ll_raw(ll, "=", 1);
	if (!quote && *v != '\0') {
		ll_raw(ll, v, strlen(v));
		return;
	}
	ll_raw(ll, "\"", 1);
	for (s = v; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\') {
			esc[1] = *s;
			ll_raw(ll, esc, 2);
		} else if (*s == '\n') {
			ll_raw(ll, "\\n", 2);
		} else if ((unsigned char)*s < ' ') {
			ll_raw(ll, " ", 1);
		} else {
			ll_raw(ll, s, 1);
		}
	}
	ll_raw(ll, "\"", 1);
}

void
log_int(struct logline *ll, const char *key, long long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", v);
	log_str(ll, key, buf);
}

void
log_begin(struct logline *ll, int level, const char *msg)
{
	static const char *const names[] = { "debug", "info", "warn", "error" };
	char ts[40];
	struct timespec now;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, 24, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + strlen(ts), sizeof(ts) - strlen(ts), ".%03ldZ",
	    now.tv_nsec / 1000000);
	ll->ll_n = 0;
	ll->ll_level = level;
	ll_raw(ll, "ts=", 3);
	ll_raw(ll, ts, strlen(ts));
	log_str(ll, "level", names[level]);
	log_str(ll, "msg", msg);
}

void
log_end(struct logline *ll)
{
	if ((log_verbose < 0 && ll->ll_level < LOG_WARN) ||
	    (log_verbose == 0 && ll->ll_level < LOG_INFO))
		return;
	ll->ll_buf[ll->ll_n++] = '\n';
	/* One write: a line is never interleaved with another. */
	(void)!write(STDERR_FILENO, ll->ll_buf, ll->ll_n);
}

void
log_err(int level, const char *msg, const char *err)
{
	struct logline ll;

	log_begin(&ll, level, msg);
	log_str(&ll, "error", err);
	log_end(&ll);
}
