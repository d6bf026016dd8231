/*
 * A host's record in the pool (see record.h). The keys are written in
 * this order, and the agents read them back (rec_parse in agent_view.c)
 * with the event reader of obs_read.h, or, when it gives up, with
 * jansson and obs_json_read_host.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/arena.h"
#include "base/strtab.h"
#include "drivers/obs_json.h"
#include "drivers/obs_read.h"
#include "pool/record.h"

char *
pool_record_text(const struct xdc_obs_host *h, const char *path,
    const char *commit, int64_t watchdog_ms)
{
	json_t *o = obs_json_host(h, OBS_JSON_FULL);
	char *text;

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "source",
	    json_pack("{s:s?, s:s?}", "path", path, "commit", commit));
	if (watchdog_ms > 0)
		json_object_set_new(
		    o, "watchdog_ms", json_integer(watchdog_ms));
	json_object_set_new(o, "version", json_string(XDC_VERSION));
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return text;
}

/* ---- Reading ---------------------------------------------------------- */

struct rec_extra {
	struct xdc_arena *x_arena;
	const char **x_path;
	const char **x_commit;
	int64_t *x_watchdog_ms;
	uint32_t x_seen;
};

/* A string, maybe empty, or null. */
static int
rd_text(struct obs_read *r, struct xdc_arena *arena, const char **out)
{
	const char *s;
	size_t n;

	*out = NULL;
	if (obs_read_null(r))
		return 0;
	if (obs_read_text(r, &s, &n) != 0)
		return -1;
	*out = xdc_arena_strndup(arena, s, n);
	return 0;
}

static int
rd_source(struct obs_read *r, struct rec_extra *x)
{
	static const char *const keys[] = { "path", "commit" };
	uint32_t seen = 0;
	size_t n;

	if (obs_read_map(r, &n) != 0)
		return -1;
	while (n-- > 0) {
		switch (obs_read_member(r, keys, 2, &seen)) {
		case 0:
			if (rd_text(r, x->x_arena, x->x_path) != 0)
				return -1;
			break;
		case 1:
			if (rd_text(r, x->x_arena, x->x_commit) != 0)
				return -1;
			break;
		default:
			return -1;
		}
	}
	return 0;
}

/* What a record has besides the observation; anything else gives up. */
static int
rd_extra(struct obs_read *r, const char *key, size_t len, void *arg)
{
	static const char *const keys[] = { "source", "watchdog_ms",
		"version" };
	struct rec_extra *x = arg;
	uint64_t wd;
	const char *s;
	size_t i, n;

	for (i = 0; i < 3; i++)
		if (strlen(keys[i]) == len && !memcmp(key, keys[i], len))
			break;
	if (i == 3 || (x->x_seen & (1U << i)))
		return -1;
	x->x_seen |= 1U << i;
	switch (i) {
	case 0:
		return rd_source(r, x);
	case 1:
		if (obs_read_u64(r, INT64_MAX, &wd) != 0)
			return -1;
		*x->x_watchdog_ms = (int64_t)wd;
		return 0;
	default:
		return obs_read_text(r, &s, &n);
	}
}

/*
 * What repeats across the host's domains (kernels, command lines,
 * bridges, vdevs, scopes) is kept once, in a table that lives as long as
 * the read: its strings are the arena's, the record's, so they go with
 * it, and no table grows for as long as an agent runs (a CI
 * environment's scope is new every run).
 */
int
pool_record_read(const char *text, size_t len, struct xdc_arena *arena,
    struct xdc_obs_host *out, const char **path, const char **commit,
    int64_t *watchdog_ms)
{
	struct rec_extra x = { arena, path, commit, watchdog_ms, 0 };
	struct xdc_strtab *strs = xdc_strtab_new(arena);
	struct obs_read r;
	int rc;

	*path = *commit = NULL;
	*watchdog_ms = 0;
	obs_read_init(&r);
	obs_read_domains(&r, 0, arena);
	obs_read_share(&r, strs);
	rc = obs_read_parse(&r, text, len) != 0 ||
	             obs_read_host(&r, arena, out, rd_extra, &x) != 0 ||
	             !obs_read_done(&r)
	         ? -1
	         : 0;
	obs_read_fini(&r);
	xdc_strtab_free(strs);
	if (rc != 0) {
		*path = *commit = NULL;
		*watchdog_ms = 0;
	}
	return rc;
}
