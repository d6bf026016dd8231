/*
 * The loop's log: one logfmt line per event on stderr, `ts=... level=...
 * msg=... key=value ...`, which journald keeps and Loki or any logfmt
 * reader parses as it is (docs/status.md lists the messages). A line is
 * built in a buffer of its own and written with one write, so lines never
 * interleave; -v shows debug lines, -q only warnings and errors.
 */
#ifndef XDC_LOG_H
#define XDC_LOG_H

#include <stddef.h>
#include <stdint.h>

enum { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

struct logline {
	char ll_buf[2048];
	size_t ll_n;
	int ll_level;
};

/* -1 quiet, 0 normal, 1 and more verbose: the cli's cl_verbose. */
void log_set_verbose(int);

/* A line at level about msg; then its key=value pairs; then log_end. */
void log_begin(struct logline *, int level, const char *msg);
/* value is quoted when it must be; NULL leaves the key out. */
void log_str(struct logline *, const char *key, const char *value);
void log_int(struct logline *, const char *key, long long value);
void log_end(struct logline *);

/* A line with one error: the common case. */
void log_err(int level, const char *msg, const char *err);

/* ms since the epoch as 2024-01-02T03:04:05Z, in buf. */
const char *log_iso_time(int64_t ms, char buf[32]);

#endif /* XDC_LOG_H */
