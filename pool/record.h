/*
 * A host's record in the pool (SPEC §8, docs/pool.md): what an agent
 * publishes under /xdc/POOL/hosts/HOST. One writer for the agent and for
 * the tools that publish records as an agent would (bench/publish), so
 * that the bytes are the same.
 */
#ifndef XDC_POOL_RECORD_H
#define XDC_POOL_RECORD_H

#include <stdint.h>

struct xdc_arena;
struct xdc_obs_host;

/*
 * The record of host h as compact JSON: its observation (obs_json_host
 * with OBS_JSON_FULL), "source" {path, commit} (either may be NULL),
 * "watchdog_ms" when watchdog_ms > 0, and "version". The caller frees
 * the string with free(); NULL when it cannot be encoded (a name that is
 * not UTF-8).
 */
char *pool_record_text(const struct xdc_obs_host *h, const char *path,
    const char *commit, int64_t watchdog_ms);

/*
 * A record's text read back by the event reader (drivers/obs_read.h):
 * the host into *out, its strings in arena, and "source"'s path and
 * commit (NULL when null) and "watchdog_ms" (0 when absent) as the agent
 * keeps them. 0, or -1 when the reader gave up, saying nothing: the
 * caller reads the text with jansson and obs_json_read_host, which say
 * why it is refused, or read it all the same.
 */
int pool_record_read(const char *text, size_t len, struct xdc_arena *,
    struct xdc_obs_host *out, const char **path, const char **commit,
    int64_t *watchdog_ms);

#endif /* XDC_POOL_RECORD_H */
