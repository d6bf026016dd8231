/*
 * Saved plans (see saved_plan.h): the file is one JSON object, written
 * and read with jansson. Blob ids and the configuration's digest are
 * git's (git_odb_hash), so `git hash-object FILE` names each file as the
 * saved plan does, for a path as for a commit.
 *
 * A touched object is compared whole, as obs_json writes it with
 * OBS_JSON_FULL: its state, its resources, its marker (scope, spec hash,
 * last apply), its domain id (a restart is a change). The plan made again
 * catches what the objects alone do not: a host's free memory that another
 * scope took, a maintenance window that closed.
 */
#include <git2.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "base/error.h"
#include "base/file.h"
#include "drivers/driver.h"
#include "drivers/obs_json.h"
#include "planner/plan.h"
#include "reconciler/cli.h"
#include "reconciler/saved_plan.h"
#include "reconciler/session.h"
#include "reconciler/source.h"
#include "schema/schema.h"
#include "schema/values.h"

#define SAVED_PLAN_MAGIC "xdc-saved-plan"
#define SAVED_PLAN_DIR   "plans" /* in the state directory */

/* ---- The configuration's files ---------------------------------------- */

struct saved_file {
	char *sf_name;
	char *sf_buf;
	size_t sf_len;
	char sf_blob[GIT_OID_HEXSZ + 1];
};

struct saved_files {
	struct saved_file *sf_v;
	size_t sf_n;
	char sf_digest[5 + GIT_OID_HEXSZ + 1];
};

struct saved_files *
saved_files_new(void)
{
	return xdc_calloc(1, sizeof(struct saved_files));
}

void
saved_files_free(struct saved_files *sf)
{
	size_t i;

	if (sf == NULL)
		return;
	for (i = 0; i < sf->sf_n; i++) {
		free(sf->sf_v[i].sf_name);
		free(sf->sf_v[i].sf_buf);
	}
	free(sf->sf_v);
	free(sf);
}

static void
blob_hex(const char *buf, size_t len, char hex[GIT_OID_HEXSZ + 1])
{
	git_oid oid;

	if (git_odb_hash(&oid, buf, len, GIT_OBJECT_BLOB) < 0)
		memset(&oid, 0, sizeof(oid));
	git_oid_tostr(hex, GIT_OID_HEXSZ + 1, &oid);
}

void
saved_files_keep(void *arg, const char *file, const char *buf, size_t len)
{
	struct saved_files *sf = arg;
	struct saved_file *f;

	sf->sf_v = xdc_reallocarray(sf->sf_v, sf->sf_n + 1, sizeof(*sf->sf_v));
	f = &sf->sf_v[sf->sf_n++];
	f->sf_name = xdc_strdup(file);
	f->sf_buf = xdc_calloc(1, len + 1);
	memcpy(f->sf_buf, buf, len);
	f->sf_len = len;
	blob_hex(buf, len, f->sf_blob);
	sf->sf_digest[0] = '\0';
}

const char *
saved_files_digest(struct saved_files *sf)
{
	char *list = NULL, hex[GIT_OID_HEXSZ + 1];
	size_t len = 0, i;
	FILE *fp;

	if (sf->sf_digest[0] != '\0')
		return sf->sf_digest;
	/* A tree's content in spirit: each file's blob id and name. */
	if ((fp = open_memstream(&list, &len)) == NULL)
		return "sha1:?";
	for (i = 0; i < sf->sf_n; i++)
		fprintf(
		    fp, "%s %s\n", sf->sf_v[i].sf_blob, sf->sf_v[i].sf_name);
	fclose(fp);
	blob_hex(list, len, hex);
	free(list);
	snprintf(sf->sf_digest, sizeof(sf->sf_digest), "sha1:%s", hex);
	return sf->sf_digest;
}

/* ---- The touched objects ---------------------------------------------- */

static const char *
kind_name(enum xdc_obj_kind k)
{
	return k == XDC_OBJ_VM ? "VM" : "Network";
}

/* The domain named name, on whichever host has it. */
static const struct xdc_obs_domain *
find_domain(const struct xdc_observed *obs, const char *name, const char **host)
{
	const struct xdc_obs_domain *d;
	size_t i;

	for (i = 0; i < obs->obs_nhosts; i++)
		if ((d = xdc_obs_host_domain(&obs->obs_hosts[i], name)) !=
		    NULL) {
			*host = obs->obs_hosts[i].oh_name;
			return d;
		}
	*host = NULL;
	return NULL;
}

static const struct xdc_obs_network *
find_network(const struct xdc_observed *obs, const char *host, const char *br)
{
	const struct xdc_obs_host *h = xdc_observed_host(obs, host);
	size_t i;

	for (i = 0; h != NULL && br != NULL && i < h->oh_nnetworks; i++)
		if (!strcmp(h->oh_networks[i].on_bridge, br))
			return &h->oh_networks[i];
	return NULL;
}

/* What obs says now of an object: {kind, name, host, bridge, observed}. */
static json_t *
touched_now(const struct xdc_observed *obs, const char *kind, const char *name,
    const char *host, const char *bridge)
{
	const struct xdc_obs_domain *d;
	const struct xdc_obs_network *n;
	json_t *o = NULL;

	if (!strcmp(kind, "VM")) {
		if ((d = find_domain(obs, name, &host)) != NULL)
			o = obs_json_domain(d, OBS_JSON_FULL);
	} else if ((n = find_network(obs, host, bridge)) != NULL) {
		o = obs_json_network(n, OBS_JSON_FULL);
	}
	return json_pack("{s:s, s:s, s:s?, s:s?, s:o}", "kind", kind, "name",
	    name, "host", host, "bridge", bridge, "observed",
	    o != NULL ? o : json_null());
}

static json_t *
touched_all(const struct xdc_plan *plan, const struct xdc_observed *obs)
{
	json_t *v = json_array(), *e;
	const struct xdc_action *a;
	const char *bridge;
	size_t i, j;
	int seen;

	for (i = 0; i < plan_count(plan); i++) {
		a = plan_action(plan, i);
		bridge = a->a_kind == XDC_OBJ_NETWORK ? a->a_bridge : NULL;
		/* An object once, whatever number of actions touch it. */
		seen = 0;
		json_array_foreach(v, j, e)
		{
			if (!strcmp(
			        json_string_value(json_object_get(e, "kind")),
			        kind_name(a->a_kind)) &&
			    !strcmp(
			        json_string_value(json_object_get(e, "name")),
			        a->a_name) &&
			    (a->a_kind == XDC_OBJ_VM ||
			        !strcmp(json_string_value(
			                    json_object_get(e, "host")),
			            a->a_host)))
				seen = 1;
		}
		if (!seen)
			json_array_append_new(
			    v, touched_now(obs, kind_name(a->a_kind), a->a_name,
			           a->a_host, bridge));
	}
	return v;
}

/* ---- Writing ----------------------------------------------------------- */

/* What fn writes to a stream, as a string (the caller frees it). */
static char *
capture(void (*fn)(const struct xdc_plan *, FILE *), const struct xdc_plan *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	if (fp == NULL)
		return xdc_strdup("");
	fn(p, fp);
	fclose(fp);
	return buf;
}

static void
print_json(const struct xdc_plan *p, FILE *fp)
{
	(void)plan_print_json(p, fp);
}

static json_t *
plan_json(const struct xdc_plan *p)
{
	char *text = capture(print_json, p);
	json_error_t err;
	json_t *j = json_loads(text, 0, &err);

	free(text);
	return j;
}

static int
write_json(void *arg, FILE *fp)
{
	if (json_dumpf(arg, fp, JSON_INDENT(1) | JSON_ENSURE_ASCII) != 0 ||
	    fputc('\n', fp) == EOF)
		return xdc_error(XDC_ERR, "cannot write the plan");
	return 0;
}

int
saved_plan_write(const char *path, const struct session *s,
    struct saved_files *sf, const char *src_name, const char *url,
    const char *ref, const char *tree_path)
{
	const struct cli *cli = s->se_cli;
	unsigned char rnd[16];
	char id[33], now[XDC_TIME_BUFSZ], *text = NULL;
	json_t *root = NULL, *files, *f, *pj;
	size_t i;
	int rc = XDC_ERR;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return xdc_error_sys(XDC_ERR, "cannot make the plan's id");
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(id + 2 * i, 3, "%02x", rnd[i]);
	files = json_array();
	for (i = 0; i < sf->sf_n; i++) {
		f = json_pack("{s:s, s:s, s:s%}", "path", sf->sf_v[i].sf_name,
		    "blob", sf->sf_v[i].sf_blob, "text", sf->sf_v[i].sf_buf,
		    sf->sf_v[i].sf_len);
		if (f == NULL) {
			json_decref(files);
			return xdc_error(XDC_ERR,
			    "%s: not UTF-8 text: it cannot be saved in a plan",
			    sf->sf_v[i].sf_name);
		}
		json_array_append_new(files, f);
	}
	if ((pj = plan_json(s->se_plan)) == NULL) {
		json_decref(files);
		return xdc_error(XDC_ERR, "cannot encode the plan");
	}
	text = capture(plan_print_text, s->se_plan);
	root =
	    json_pack("{s:s, s:i, s:s, s:s, "
	              "s:{s:s, s:s, s:s?, s:s?, s:s?, s:s?}, s:{s:s?, s:s?}, "
	              "s:s, s:{s:s, s:o}, s:o, s:o, s:s}",
	        "format", SAVED_PLAN_MAGIC, "format_version", SAVED_PLAN_FORMAT,
	        "id", id, "created", xdc_time_fmt((int64_t)cli_now(), now),
	        "source", "name", src_name, "path", s->se_cfg->cfg_path, "git",
	        url, "ref", ref, "tree_path", tree_path, "commit",
	        s->se_commit[0] != '\0' ? s->se_commit : NULL, "options",
	        "scope", cli->cl_scope, "host", cli->cl_host, "scope",
	        plan_scope(s->se_plan), "config", "digest",
	        saved_files_digest(sf), "files", files, "observed",
	        touched_all(s->se_plan, s->se_obs), "plan", pj, "text", text);
	if (root == NULL) {
		rc = xdc_error(XDC_ERR, "cannot encode the saved plan");
		goto out;
	}
	if ((rc = xdc_file_replace(path, 0644, write_json, root)) != 0)
		rc = xdc_error(XDC_ERR, "%s: %s", path, xdc_error_last());
out:
	free(text);
	json_decref(root);
	return rc;
}

/* ---- Reading ----------------------------------------------------------- */

struct saved_plan {
	json_t *sp_root;
	char *sp_path;
};

static const char *
str_at(const json_t *o, const char *k1, const char *k2)
{
	const json_t *v = json_object_get(o, k1);

	if (k2 != NULL)
		v = json_object_get(v, k2);
	return json_string_value(v);
}

int
saved_plan_read(const char *path, struct saved_plan **out)
{
	json_error_t err;
	json_t *root;
	json_int_t v;
	const json_t *files, *f;
	size_t i;

	*out = NULL;
	if ((root = json_load_file(path, JSON_REJECT_DUPLICATES, &err)) == NULL)
		return xdc_error(XDC_ERR, "%s:%d:%d: not a saved plan: %s",
		    path, err.line, err.column, err.text);
	if (!json_is_object(root) ||
	    strcmp(str_at(root, "format", NULL) ? str_at(root, "format", NULL)
	                                        : "",
	        SAVED_PLAN_MAGIC) != 0) {
		json_decref(root);
		return xdc_error(XDC_ERR,
		    "%s: not a saved plan (no \"format\": \"%s\"); make one "
		    "with xdc plan -o",
		    path, SAVED_PLAN_MAGIC);
	}
	v = json_integer_value(json_object_get(root, "format_version"));
	if (v != SAVED_PLAN_FORMAT) {
		json_decref(root);
		return xdc_error(XDC_ERR,
		    "%s: a saved plan of format %lld; this xdc reads format "
		    "%d: "
		    "make the plan again with this xdc",
		    path, (long long)v, SAVED_PLAN_FORMAT);
	}
	files = json_object_get(json_object_get(root, "config"), "files");
	if (str_at(root, "id", NULL) == NULL ||
	    str_at(root, "config", "digest") == NULL ||
	    str_at(root, "source", "path") == NULL || !json_is_array(files) ||
	    !json_is_array(json_object_get(root, "observed")) ||
	    !json_is_object(json_object_get(root, "plan")) ||
	    !json_is_string(json_object_get(root, "text"))) {
		json_decref(root);
		return xdc_error(XDC_ERR,
		    "%s: a saved plan without its id, source, config, "
		    "observed, plan or text",
		    path);
	}
	json_array_foreach(files, i, f)
	{
		if (!json_is_string(json_object_get(f, "path")) ||
		    !json_is_string(json_object_get(f, "text"))) {
			json_decref(root);
			return xdc_error(XDC_ERR,
			    "%s: config.files[%zu] has no path or text", path,
			    i);
		}
	}
	/* A path inside it names an id of ours: hex only. */
	if (strspn(str_at(root, "id", NULL), "0123456789abcdef") !=
	        strlen(str_at(root, "id", NULL)) ||
	    strlen(str_at(root, "id", NULL)) != 32) {
		json_decref(root);
		return xdc_error(
		    XDC_ERR, "%s: the id is not 32 hex digits", path);
	}
	*out = xdc_calloc(1, sizeof(**out));
	(*out)->sp_root = root;
	(*out)->sp_path = xdc_strdup(path);
	return 0;
}

void
saved_plan_free(struct saved_plan *sp)
{
	if (sp == NULL)
		return;
	json_decref(sp->sp_root);
	free(sp->sp_path);
	free(sp);
}

const char *
saved_plan_id(const struct saved_plan *sp)
{
	return str_at(sp->sp_root, "id", NULL);
}

const char *
saved_plan_commit(const struct saved_plan *sp)
{
	return str_at(sp->sp_root, "source", "commit");
}

const char *
saved_plan_url(const struct saved_plan *sp)
{
	return str_at(sp->sp_root, "source", "git");
}

const char *
saved_plan_tree_path(const struct saved_plan *sp)
{
	return str_at(sp->sp_root, "source", "tree_path");
}

const char *
saved_plan_digest(const struct saved_plan *sp)
{
	return str_at(sp->sp_root, "config", "digest");
}

const char *
saved_plan_scope_opt(const struct saved_plan *sp)
{
	return str_at(sp->sp_root, "options", "scope");
}

const char *
saved_plan_host_opt(const struct saved_plan *sp)
{
	return str_at(sp->sp_root, "options", "host");
}

int
saved_plan_show(const struct saved_plan *sp, int json, FILE *fp)
{
	const json_t *r = sp->sp_root;
	json_t *out;
	int rc = 0;

	if (json) {
		/* SPEC §4's plan, with what it was saved from. */
		out = json_deep_copy(json_object_get(r, "plan"));
		json_object_set_new(out, "saved",
		    json_pack("{s:O, s:O, s:O, s:O, s:O}", "format_version",
		        json_object_get(r, "format_version"), "id",
		        json_object_get(r, "id"), "created",
		        json_object_get(r, "created"), "source",
		        json_object_get(r, "source"), "digest",
		        json_object_get(
		            json_object_get(r, "config"), "digest")));
		if (json_dumpf(out, fp, JSON_INDENT(1)) != 0 ||
		    fputc('\n', fp) == EOF)
			rc = xdc_error(XDC_ERR, "cannot write the plan");
		json_decref(out);
		return rc;
	}
	fprintf(fp, "Saved plan %s, made %s\n", str_at(r, "id", NULL),
	    str_at(r, "created", NULL) ? str_at(r, "created", NULL) : "?");
	fprintf(fp, "  from %s",
	    str_at(r, "source", "name") ? str_at(r, "source", "name")
	                                : str_at(r, "source", "path"));
	if (str_at(r, "source", "commit") != NULL)
		fprintf(fp, ", commit %s", str_at(r, "source", "commit"));
	fprintf(fp, "\n  configuration %s, %zu files\n",
	    str_at(r, "config", "digest"),
	    json_array_size(
	        json_object_get(json_object_get(r, "config"), "files")));
	fprintf(fp, "  %zu objects as observed then\n\n",
	    json_array_size(json_object_get(r, "observed")));
	fputs(str_at(r, "text", NULL), fp);
	return 0;
}

/* ---- Applying ---------------------------------------------------------- */

int
saved_plan_config(const struct saved_plan *sp, struct xdc_config **out,
    struct xdc_diags *diags)
{
	struct saved_files *sf = saved_files_new();
	struct schema_loader *sl;
	const json_t *files, *f;
	const char *blob;
	size_t i;
	int rc = 0;

	*out = NULL;
	files =
	    json_object_get(json_object_get(sp->sp_root, "config"), "files");
	sl = schema_loader_new(str_at(sp->sp_root, "source", "path"), diags);
	json_array_foreach(files, i, f)
	{
		saved_files_keep(sf, str_at(f, "path", NULL),
		    json_string_value(json_object_get(f, "text")),
		    json_string_length(json_object_get(f, "text")));
		blob = str_at(f, "blob", NULL);
		if (blob == NULL || strcmp(blob, sf->sf_v[i].sf_blob) != 0)
			rc = xdc_error(XDC_ERR,
			    "%s: %s was changed after the plan was made (its "
			    "blob is %s, the plan says %s): nothing is applied",
			    sp->sp_path, sf->sf_v[i].sf_name,
			    sf->sf_v[i].sf_blob,
			    blob != NULL ? blob : "nothing");
		schema_loader_add(sl, sf->sf_v[i].sf_name, sf->sf_v[i].sf_buf,
		    sf->sf_v[i].sf_len);
	}
	if (rc == 0 && strcmp(saved_files_digest(sf), saved_plan_digest(sp)))
		rc = xdc_error(XDC_ERR,
		    "%s: the configuration's digest is %s, the plan says %s: "
		    "nothing is applied",
		    sp->sp_path, saved_files_digest(sf), saved_plan_digest(sp));
	if (rc != 0) {
		schema_loader_free(sl);
		goto out;
	}
	rc = schema_loader_finish(sl, out);
out:
	saved_files_free(sf);
	return rc;
}

static char *
dump(const json_t *v)
{
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
}

/* One line of *why. */
static void say(char **why, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
say(char **why, const char *fmt, ...)
{
	char *line = NULL, *next = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&line, fmt, ap) < 0)
		line = NULL;
	va_end(ap);
	xdc_asprintf(&next, "%s  %s\n", *why != NULL ? *why : "",
	    line != NULL ? line : "?");
	free(line);
	free(*why);
	*why = next;
}

/* What differs between a touched object then and now. */
static void
compare_object(const json_t *then, const json_t *now, char **why)
{
	const char *kind = str_at(then, "kind", NULL);
	const char *name = str_at(then, "name", NULL);
	const char *h0 = str_at(then, "host", NULL),
	           *h1 = str_at(now, "host", NULL);
	json_t *o0 = json_object_get(then, "observed");
	json_t *o1 = json_object_get(now, "observed");
	const char *key;
	json_t *keys, *v;
	char *a, *b;
	size_t i;

	if (json_equal(o0, o1) && (h0 == h1 || (h0 && h1 && !strcmp(h0, h1))))
		return;
	if (json_is_null(o0)) {
		say(why, "%s %s: absent when planned, now on host %s", kind,
		    name, h1 != NULL ? h1 : "?");
		return;
	}
	if (json_is_null(o1)) {
		say(why, "%s %s: on host %s when planned, now gone", kind, name,
		    h0 != NULL ? h0 : "?");
		return;
	}
	if (h0 != NULL && h1 != NULL && strcmp(h0, h1) != 0)
		say(why, "%s %s: on host %s when planned, now on %s", kind,
		    name, h0, h1);
	/* Field by field, in order, the union of both. */
	keys = json_array();
	json_object_foreach(o0, key, v)
	{
		json_array_append_new(keys, json_string(key));
	}
	json_object_foreach(o1, key, v)
	{
		if (json_object_get(o0, key) == NULL)
			json_array_append_new(keys, json_string(key));
	}
	json_array_foreach(keys, i, v)
	{
		key = json_string_value(v);
		if (json_equal(
		        json_object_get(o0, key), json_object_get(o1, key)))
			continue;
		a = json_object_get(o0, key) ? dump(json_object_get(o0, key))
		                             : xdc_strdup("nothing");
		b = json_object_get(o1, key) ? dump(json_object_get(o1, key))
		                             : xdc_strdup("nothing");
		say(why, "%s %s: %s was %s, now %s", kind, name, key, a, b);
		free(a);
		free(b);
	}
	json_decref(keys);
}

/* An action as a line: "create VM web-1 on local". */
static char *
action_line(const json_t *a)
{
	char *s = NULL;

	xdc_asprintf(&s, "%s %s %s on %s",
	    str_at(a, "op", NULL) ? str_at(a, "op", NULL) : "?",
	    str_at(a, "kind", NULL) ? str_at(a, "kind", NULL) : "?",
	    str_at(a, "name", NULL) ? str_at(a, "name", NULL) : "?",
	    str_at(a, "host", NULL) ? str_at(a, "host", NULL) : "?");
	return s;
}

/* The action of v that is a's operation on a's object, or NULL. */
static const json_t *
same_action(const json_t *v, const json_t *a)
{
	static const char *const keys[] = { "op", "kind", "name", "host" };
	const json_t *e;
	size_t i, k;

	json_array_foreach(v, i, e)
	{
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (!json_equal(json_object_get(e, keys[k]),
			        json_object_get(a, keys[k])))
				break;
		if (k == sizeof(keys) / sizeof(keys[0]))
			return e;
	}
	return NULL;
}

/* What the plan made again has that the saved one has not, and back. */
static void
compare_actions(const json_t *saved, const json_t *now, char **why)
{
	static const char *const keys[] = { "changes", "reason", "disruptive" };
	const json_t *a, *b;
	char *line, *x, *y;
	size_t i, k;

	json_array_foreach(saved, i, a)
	{
		line = action_line(a);
		if ((b = same_action(now, a)) == NULL)
			say(why, "the plan's %s would now be gone", line);
		for (k = 0; b != NULL && k < sizeof(keys) / sizeof(keys[0]);
		     k++) {
			if (json_equal(json_object_get(a, keys[k]),
			        json_object_get(b, keys[k])))
				continue;
			x = dump(json_object_get(a, keys[k]));
			y = dump(json_object_get(b, keys[k]));
			say(why, "the plan's %s: %s was %s, would now be %s",
			    line, keys[k], x, y);
			free(x);
			free(y);
		}
		free(line);
	}
	json_array_foreach(now, i, b)
	{
		if (same_action(saved, b) != NULL)
			continue;
		line = action_line(b);
		say(why, "the plan would now also %s", line);
		free(line);
	}
	if (*why == NULL)
		say(why, "the plan's actions would now be in another order");
}

int
saved_plan_check(const struct saved_plan *sp, const struct xdc_observed *obs,
    const struct xdc_plan *plan, char **why)
{
	const json_t *then, *saved;
	json_t *now, *pj = NULL, *acts;
	size_t i, n0;

	*why = NULL;
	json_array_foreach(json_object_get(sp->sp_root, "observed"), i, then)
	{
		now = touched_now(obs, str_at(then, "kind", NULL),
		    str_at(then, "name", NULL), str_at(then, "host", NULL),
		    str_at(then, "bridge", NULL));
		compare_object(then, now, why);
		json_decref(now);
	}
	/* The objects alone may hold while the plan does not. */
	n0 = *why != NULL ? strlen(*why) : 0;
	saved =
	    json_object_get(json_object_get(sp->sp_root, "plan"), "actions");
	if ((pj = plan_json(plan)) == NULL)
		return xdc_error(XDC_ERR, "cannot encode the plan");
	acts = json_object_get(pj, "actions");
	if (n0 == 0 && !json_equal(saved, acts))
		compare_actions(saved, acts, why);
	json_decref(pj);
	return *why != NULL ? XDC_EINVALID : 0;
}

static char *
record_path(const struct saved_plan *sp, const char *dir)
{
	char *p = NULL;

	xdc_asprintf(&p, "%s/%s/%s", dir, SAVED_PLAN_DIR, saved_plan_id(sp));
	return p;
}

int
saved_plan_applied(const struct saved_plan *sp, const char *dir, char **when)
{
	char *path = record_path(sp, dir), *buf = NULL;
	size_t len = 0;
	int rc;

	*when = NULL;
	rc = xdc_file_read(path, 4096, 0, &buf, &len);
	free(path);
	if (rc != 0)
		return 0;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\0'))
		buf[--len] = '\0';
	*when = buf;
	return 1;
}

int
saved_plan_record(const struct saved_plan *sp, const char *dir)
{
	char *sub = NULL, *path = record_path(sp, dir), *text = NULL;
	char now[XDC_TIME_BUFSZ];
	int rc;

	xdc_asprintf(&sub, "%s/%s", dir, SAVED_PLAN_DIR);
	xdc_asprintf(&text, "%s\n", xdc_time_fmt((int64_t)cli_now(), now));
	if ((rc = source_mkdirs(sub)) == 0)
		rc = xdc_file_replace_buf(path, 0644, text, strlen(text));
	free(text);
	free(sub);
	free(path);
	return rc;
}
