/*
 * A host's record in the pool (see record.h). The keys are written in
 * this order, and the agent's own reader (rec_parse in agent.c) and every
 * other agent's read them back with obs_json_read_host.
 */
#include <stdlib.h>

#include <jansson.h>

#include "drivers/obs_json.h"
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
