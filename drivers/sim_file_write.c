/*
 * Writing the sim driver's pool file (see sim_file.h): the pool as JSON
 * in a fixed order, so that the same pool is the same bytes, replaced
 * whole so that a reader, or a kill at any instant, sees the old pool or
 * the new one. Each host keeps its text from the last write until
 * something changes it (sim_host_touch), and a write encodes only the
 * hosts without one and splices the rest: the bytes of a full encode.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "base/arena.h"
#include "base/error.h"
#include "base/file.h"
#include "drivers/obs_json.h"
#include "drivers/sim_file.h"
#include "drivers/sim_pool.h"
#include "schema/model.h"
#include "schema/values.h"

/*
 * A host's JSON. Keys come in a fixed order (jansson keeps insertion
 * order) and arrays are sorted, so the same pool is the same bytes. A
 * domain or network is written as the codec of observed state writes it
 * with everything a planner needs (OBS_JSON_FULL). NULL when a value
 * cannot be encoded (a string that is not UTF-8).
 */
static json_t *
wr_host(const struct sim_host *h)
{
	json_t *doms = json_array(), *nets = json_array(), *o;
	const struct sim_dom *v = sim_host_doms(h);
	size_t i;

	for (i = 0; i < h->sh_ndoms; i++)
		json_array_append_new(
		    doms, obs_json_domain(&v[i].sd_d, OBS_JSON_FULL));
	for (i = 0; i < h->sh_nnets; i++)
		json_array_append_new(
		    nets, obs_json_network(&h->sh_nets[i], OBS_JSON_FULL));
	if (json_array_size(doms) != h->sh_ndoms ||
	    json_array_size(nets) != h->sh_nnets) {
		json_decref(doms);
		json_decref(nets);
		return NULL;
	}
	o = json_pack("{s:s, s:I, s:I, s:o, s:o}", "name", h->sh_name, "memory",
	    (json_int_t)h->sh_memory, "cpus", (json_int_t)h->sh_cpus, "domains",
	    doms, "networks", nets);
	/* Only while it is armed: a pool without one reads as before. */
	if (o != NULL && h->sh_wd_deadline != 0 &&
	    json_object_set_new(o, "watchdog",
	        json_pack("{s:I, s:I}", "timeout_ms",
	            (json_int_t)h->sh_wd_timeout, "deadline",
	            (json_int_t)h->sh_wd_deadline)) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/*
 * json_dumps's text of v (JSON_INDENT(2)) as it reads depth levels into
 * the file: two more spaces after each newline per level, as jansson
 * indents a nested value (a newline is never inside a string: it is
 * escaped there). *len its length; NULL when it cannot be encoded.
 */
static char *
dump_at(json_t *v, int depth, size_t *len)
{
	char *t, *out, *o;
	const char *c;
	size_t n = 0, pad = 2 * (size_t)depth;

	if (v == NULL || (t = json_dumps(v, JSON_INDENT(2))) == NULL)
		return NULL;
	for (c = t; *c != '\0'; c++)
		n += *c == '\n';
	if (n == 0 || pad == 0) {
		*len = strlen(t);
		return t;
	}
	o = out = xdc_malloc(strlen(t) + n * pad + 1);
	for (c = t; *c != '\0'; c++) {
		*o++ = *c;
		if (*c == '\n') {
			memset(o, ' ', pad);
			o += pad;
		}
	}
	*o = '\0';
	*len = (size_t)(o - out);
	free(t);
	return out;
}

/*
 * A host's text in the file: in "hosts", two levels in, laid out as
 * json_dumps(JSON_INDENT(2)) would but for its domains and networks,
 * each on a line of its own: a reader lexes half the bytes (the
 * indentation was half the file), and a diff or a grep of the file
 * still shows one domain a line.
 */
static char *
host_text(const struct sim_host *h, size_t *len)
{
	json_t *o = wr_host(h), *v, *e;
	const char *key;
	char *out = NULL, *t;
	size_t i, n;
	FILE *fp;
	int sep = 0, ok = o != NULL;

	if (!ok || (fp = open_memstream(&out, len)) == NULL) {
		json_decref(o);
		return NULL;
	}
	fputs("{", fp);
	json_object_foreach(o, key, v)
	{
		fprintf(fp, "%s\n      \"%s\": ", sep++ ? "," : "", key);
		if (json_is_array(v) &&
		    (!strcmp(key, "domains") || !strcmp(key, "networks"))) {
			fputs("[", fp);
			json_array_foreach(v, i, e)
			{
				if ((t = json_dumps(e, 0)) == NULL) {
					ok = 0;
					break;
				}
				fprintf(fp, "%s\n        %s", i ? "," : "", t);
				free(t);
			}
			fputs(json_array_size(v) ? "\n      ]" : "]", fp);
		} else if ((t = json_is_object(v) || json_is_array(v)
		                    ? dump_at(v, 3, &n)
		                    : json_dumps(v, JSON_ENCODE_ANY)) != NULL) {
			fputs(t, fp);
			free(t);
		} else
			ok = 0;
	}
	fputs("\n    }", fp);
	json_decref(o);
	if (fclose(fp) != 0 || !ok) {
		free(out);
		return NULL;
	}
	return out;
}

/* The faults, and the slow actions: arrays one level in. */
static char *
faults_text(const struct sim_pool *p, size_t *len)
{
	json_t *faults = json_array();
	const struct sim_fault *f;
	char *t;
	size_t i;

	for (i = 0; i < p->p_nfaults; i++) {
		f = &p->p_faults[i];
		json_array_append_new(faults,
		    json_pack("{s:s, s:s, s:I}", "op", xdc_op_name(f->sf_op),
		        "name", f->sf_name, "times", (json_int_t)f->sf_times));
	}
	t = json_array_size(faults) == p->p_nfaults ? dump_at(faults, 1, len)
	                                            : NULL;
	json_decref(faults);
	return t;
}

static char *
slows_text(const struct sim_pool *p, size_t *len)
{
	json_t *slows = json_array();
	const struct sim_slow *sl;
	char *t;
	size_t i;

	for (i = 0; i < p->p_nslows; i++) {
		sl = &p->p_slows[i];
		json_array_append_new(
		    slows, json_pack("{s:s, s:s, s:I, s:I}", "op",
		               xdc_op_name(sl->sl_op), "name", sl->sl_name,
		               "ms", (json_int_t)sl->sl_ms, "times",
		               (json_int_t)sl->sl_times));
	}
	t = json_array_size(slows) == p->p_nslows ? dump_at(slows, 1, len)
	                                          : NULL;
	json_decref(slows);
	return t;
}

/*
 * The file's text: the root object as json_dumps(JSON_INDENT(2)) writes
 * it, keys in this order, with the hosts' texts (hosts[i], lens[i]) put
 * in place, then a newline and, past *len, a NUL. Spliced rather than
 * dumped whole so that a host's text can be the one a write before
 * encoded: tests/drivers/test_sim_file.c checks the layout, and that a
 * write after a change gives the bytes of a full encode.
 */
static int
pool_splice(const char *path, const struct sim_pool *p, char *const *hosts,
    const size_t *lens, char **out, size_t *len)
{
	char head[128], *faults = NULL, *slows = NULL, *t, *o;
	size_t nf = 0, ns = 0, nh, n, i;
	int rc = 0;

	*out = NULL;
	nh = (size_t)snprintf(head, sizeof(head),
	    "{\n  \"format_version\": %d,\n  \"next_domid\": "
	    "%" JSON_INTEGER_FORMAT ",\n  \"hosts\": [",
	    SIM_FILE_FORMAT, (json_int_t)p->p_next_domid);
	if ((faults = faults_text(p, &nf)) == NULL ||
	    (p->p_nslows > 0 && (slows = slows_text(p, &ns)) == NULL)) {
		rc = xdc_error(XDC_ERR,
		    "%s: cannot encode the pool as JSON "
		    "(a name that is not UTF-8?)",
		    path);
		goto done;
	}
	n = nh + 4 + strlen(",\n  \"faults\": ") + nf + 3;
	for (i = 0; i < p->p_nhosts; i++)
		n += 6 + lens[i];
	if (slows != NULL)
		n += strlen(",\n  \"slow\": ") + ns;
	o = t = xdc_malloc(n + 1);
#define PUT(s, l) (memcpy(o, (s), (l)), o += (l))
	PUT(head, nh);
	for (i = 0; i < p->p_nhosts; i++) {
		/* The first host without the comma before it. */
		PUT(&",\n    "[i == 0], 6 - (i == 0));
		PUT(hosts[i], lens[i]);
	}
	if (p->p_nhosts > 0)
		PUT("\n  ", 3);
	PUT("],\n  \"faults\": ", strlen("],\n  \"faults\": "));
	PUT(faults, nf);
	if (slows != NULL) {
		PUT(",\n  \"slow\": ", strlen(",\n  \"slow\": "));
		PUT(slows, ns);
	}
	PUT("\n}\n", 3);
#undef PUT
	*o = '\0';
	*len = (size_t)(o - t);
	*out = t;
done:
	free(faults);
	free(slows);
	return rc;
}

static int
host_bad(const char *path, const struct sim_host *h)
{
	return xdc_error(XDC_ERR,
	    "%s: cannot encode host %s as JSON (a name that is not UTF-8?)",
	    path, h->sh_name);
}

int
sim_file_text(
    const char *path, const struct sim_pool *p, char **out, size_t *len)
{
	char **hosts = xdc_calloc(p->p_nhosts + 1, sizeof(*hosts));
	size_t *lens = xdc_calloc(p->p_nhosts + 1, sizeof(*lens));
	size_t i;
	int rc = 0;

	*out = NULL;
	for (i = 0; rc == 0 && i < p->p_nhosts; i++)
		if ((hosts[i] = host_text(&p->p_hosts[i], &lens[i])) == NULL)
			rc = host_bad(path, &p->p_hosts[i]);
	if (rc == 0)
		rc = pool_splice(path, p, hosts, lens, out, len);
	for (i = 0; i < p->p_nhosts; i++)
		free(hosts[i]);
	free(hosts);
	free(lens);
	return rc;
}

int
sim_file_write(const char *path, struct sim_pool *p)
{
	char **hosts = xdc_calloc(p->p_nhosts + 1, sizeof(*hosts));
	size_t *lens = xdc_calloc(p->p_nhosts + 1, sizeof(*lens));
	struct sim_host *h;
	char *text = NULL;
	size_t i, len;
	int rc = 0;

	/* Only the hosts changed since the last write are encoded. */
	for (i = 0; rc == 0 && i < p->p_nhosts; i++) {
		h = &p->p_hosts[i];
		if (h->sh_text == NULL &&
		    (h->sh_text = host_text(h, &h->sh_textlen)) == NULL)
			rc = host_bad(path, h);
		hosts[i] = h->sh_text;
		lens[i] = h->sh_textlen;
	}
	if (rc == 0 &&
	    (rc = pool_splice(path, p, hosts, lens, &text, &len)) == 0)
		rc = xdc_file_replace_buf(path, 0644, text, len);
	free(text);
	free(hosts);
	free(lens);
	return rc;
}
