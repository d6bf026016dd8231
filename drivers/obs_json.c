/*
 * Observed state as JSON (see obs_json.h). Writing follows the order SPEC
 * §5 lists the keys in (jansson keeps insertion order); reading checks
 * each key's type and range, refuses duplicates, and sorts what it read.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/error.h"
#include "drivers/obs_json.h"
#include "schema/values.h"

/* ---- Writing ---------------------------------------------------------- */

static json_t *
build_json(const struct xdc_obs_build *b)
{
	json_t *disks = json_array();
	size_t i;

	for (i = 0; i < b->ob_ndisks; i++)
		json_array_append_new(disks,
		    json_pack("{s:s, s:s, s:s, s:b}", "target",
		        b->ob_disks[i].d_target, "vdev", b->ob_disks[i].d_vdev,
		        "format", xdc_disk_format_name(b->ob_disks[i].d_format),
		        "readonly", b->ob_disks[i].d_readonly));
	if (json_array_size(disks) != b->ob_ndisks) {
		json_decref(disks);
		return NULL;
	}
	return json_pack("{s:s, s:s?, s:s?, s:s?, s:o}", "type",
	    xdc_vm_type_name(b->ob_type), "kernel", b->ob_kernel, "ramdisk",
	    b->ob_ramdisk, "cmdline", b->ob_cmdline, "disks", disks);
}

json_t *
obs_json_domain(const struct xdc_obs_domain *d, unsigned flags)
{
	json_t *nics = json_array(), *o, *build;
	char mac[XDC_MAC_BUFSZ], hash[24];
	size_t i;

	for (i = 0; i < d->od_nnics; i++)
		json_array_append_new(nics,
		    json_pack("{s:s, s:s}", "bridge", d->od_nics[i].on_bridge,
		        "mac", xdc_mac_fmt(d->od_nics[i].on_mac, mac)));
	if (json_array_size(nics) != d->od_nnics) {
		json_decref(nics);
		return NULL;
	}
	o = json_pack("{s:s, s:I, s:s, s:I, s:I, s:I, s:I, s:{s:I, s:I}, "
	              "s:b, s:b, s:o}",
	    "name", d->od_name, "domid", (json_int_t)d->od_domid, "state",
	    xdc_dom_state_name(d->od_state), "memory", (json_int_t)d->od_memory,
	    "max_memory", (json_int_t)d->od_max_memory, "vcpus",
	    (json_int_t)d->od_vcpus, "max_vcpus", (json_int_t)d->od_max_vcpus,
	    "cpu", "weight", (json_int_t)d->od_weight, "cap",
	    (json_int_t)d->od_cap, "managed", d->od_managed, "protect",
	    d->od_protect, "nics", nics);
	/* xdc's domains say their scope (SPEC §9); a pool's planner its times.
	 */
	if (o != NULL && d->od_managed &&
	    (json_object_set_new(o, "scope",
	         json_string(d->od_scope ? d->od_scope : XDC_SCOPE_DEFAULT)) ||
	        ((flags & OBS_JSON_FULL) &&
	            (json_object_set_new(o, "applied",
	                 json_integer((json_int_t)d->od_applied)) ||
	                json_object_set_new(o, "expires",
	                    json_integer((json_int_t)d->od_expires)))))) {
		json_decref(o);
		return NULL;
	}
	if (o == NULL || !(flags & OBS_JSON_FULL))
		return o;
	snprintf(hash, sizeof(hash), "%016" PRIx64, d->od_hash);
	build = d->od_has_build ? build_json(&d->od_build) : json_null();
	if (build == NULL ||
	    json_object_set_new(o, "stub", json_boolean(d->od_stub)) != 0 ||
	    json_object_set_new(o, "hash", json_string(hash)) != 0 ||
	    json_object_set_new(o, "build", build) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *
obs_json_network(const struct xdc_obs_network *n, unsigned flags)
{
	json_t *o, *scopes;
	size_t i;

	if (flags & OBS_JSON_FULL)
		o = json_pack("{s:s?, s:s, s:I, s:b, s:b, s:s?, s:I}", "name",
		    n->on_name, "bridge", n->on_bridge, "mtu",
		    (json_int_t)n->on_mtu, "up", n->on_up, "managed",
		    n->on_managed, "uplink", n->on_uplink, "vlan",
		    (json_int_t)n->on_vlan);
	else
		o = json_pack("{s:s?, s:s, s:I, s:b, s:b}", "name", n->on_name,
		    "bridge", n->on_bridge, "mtu", (json_int_t)n->on_mtu, "up",
		    n->on_up, "managed", n->on_managed);
	if (o == NULL || !n->on_managed)
		return o;
	/* The scopes that declare it, in the order they joined (SPEC §9). */
	scopes = json_array();
	for (i = 0; i < n->on_nscopes; i++)
		json_array_append_new(scopes, json_string(n->on_scopes[i]));
	if (n->on_nscopes == 0)
		json_array_append_new(scopes, json_string(XDC_SCOPE_DEFAULT));
	if (json_array_size(scopes) != (n->on_nscopes ? n->on_nscopes : 1) ||
	    json_object_set_new(o, "scopes", scopes)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *
obs_json_host(const struct xdc_obs_host *h, unsigned flags)
{
	json_t *doms = json_array(), *nets = json_array();
	size_t i;

	for (i = 0; i < h->oh_ndomains; i++)
		json_array_append_new(
		    doms, obs_json_domain(&h->oh_domains[i], flags));
	for (i = 0; i < h->oh_nnetworks; i++)
		json_array_append_new(
		    nets, obs_json_network(&h->oh_networks[i], flags));
	if (json_array_size(doms) != h->oh_ndomains ||
	    json_array_size(nets) != h->oh_nnetworks) {
		json_decref(doms);
		json_decref(nets);
		return NULL;
	}
	return json_pack("{s:s, s:I, s:I, s:I, s:o, s:o}", "name", h->oh_name,
	    "memory", (json_int_t)h->oh_memory, "free_memory",
	    (json_int_t)h->oh_free_memory, "cpus", (json_int_t)h->oh_cpus,
	    "domains", doms, "networks", nets);
}

/* ---- Reading ---------------------------------------------------------- */

struct rd {
	const char *r_what;
	struct xdc_arena *r_arena;
	unsigned r_flags; /* OBS_JSON_DEFAULTS */
	char r_where[160];
};

static int
bad(const struct rd *r, const char *key, const char *why)
{
	return xdc_error(XDC_ERR, "%s: %s%s\"%s\" %s", r->r_what, r->r_where,
	    r->r_where[0] ? ": " : "", key, why);
}

static int
rd_u64(const struct rd *r, const json_t *o, const char *key, int required,
    uint64_t def, uint64_t max, uint64_t *out)
{
	const json_t *v = json_object_get(o, key);

	if (v == NULL && !required) {
		*out = def;
		return 0;
	}
	if (v == NULL)
		return bad(r, key, "is missing");
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max)
		return bad(r, key, "must be a whole number in range");
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int
rd_u32(const struct rd *r, const json_t *o, const char *key, int required,
    uint32_t def, uint32_t *out)
{
	uint64_t v;
	int rc;

	if ((rc = rd_u64(r, o, key, required, def, UINT32_MAX, &v)) != 0)
		return rc;
	*out = (uint32_t)v;
	return 0;
}

static int
rd_str(const struct rd *r, const json_t *o, const char *key, int nullable,
    const char **out)
{
	const json_t *v = json_object_get(o, key);

	*out = NULL;
	if ((v == NULL || json_is_null(v)) && nullable)
		return 0;
	if (v == NULL)
		return bad(r, key, "is missing");
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return bad(r, key, "must be a non-empty string");
	*out = xdc_arena_strdup(r->r_arena, json_string_value(v));
	return 0;
}

static int
rd_bool(const struct rd *r, const json_t *o, const char *key, int def, int *out)
{
	const json_t *v = json_object_get(o, key);

	*out = def;
	if (v == NULL)
		return 0;
	if (!json_is_boolean(v))
		return bad(r, key, "must be true or false");
	*out = json_is_true(v);
	return 0;
}

static int
rd_array(
    const struct rd *r, const json_t *o, const char *key, const json_t **out)
{
	const json_t *v = json_object_get(o, key);

	*out = v;
	if (v != NULL && !json_is_array(v))
		return bad(r, key, "must be an array");
	return 0;
}

/* One of count names fn gives, as its index. */
static int
rd_enum(const struct rd *r, const json_t *o, const char *key, int required,
    const char *(*fn)(unsigned), unsigned count, unsigned *out)
{
	const json_t *v = json_object_get(o, key);
	unsigned i;

	if (v == NULL && !required)
		return 0;
	for (i = 0; v != NULL && json_is_string(v) && i < count; i++)
		if (!strcmp(json_string_value(v), fn(i))) {
			*out = i;
			return 0;
		}
	return bad(r, key, v == NULL ? "is missing" : "has an unknown value");
}

const char *
obs_json_state_name(unsigned i)
{
	return xdc_dom_state_name((enum xdc_dom_state)i);
}

const char *
obs_json_type_name(unsigned i)
{
	return xdc_vm_type_name((enum xdc_vm_type)i);
}

const char *
obs_json_format_name(unsigned i)
{
	return xdc_disk_format_name((enum xdc_disk_format)i);
}

static int
rd_build(const struct rd *r, const json_t *o, struct xdc_obs_build *b)
{
	const json_t *disks, *jd;
	struct xdc_disk *d;
	unsigned u = XDC_VM_PVH;
	size_t i;
	int rc;

	if (!json_is_object(o))
		return bad(r, "build", "must be an object or null");
	if ((rc = rd_enum(r, o, "type", 1, obs_json_type_name, 3, &u)) ||
	    (rc = rd_str(r, o, "kernel", 1, &b->ob_kernel)) ||
	    (rc = rd_str(r, o, "ramdisk", 1, &b->ob_ramdisk)) ||
	    (rc = rd_str(r, o, "cmdline", 1, &b->ob_cmdline)) ||
	    (rc = rd_array(r, o, "disks", &disks)))
		return rc;
	b->ob_type = (enum xdc_vm_type)u;
	b->ob_ndisks = json_array_size(disks);
	b->ob_disks = xdc_arena_zalloc(
	    r->r_arena, (b->ob_ndisks + 1) * sizeof(*b->ob_disks));
	for (i = 0; i < b->ob_ndisks; i++) {
		jd = json_array_get(disks, i);
		d = &b->ob_disks[i];
		u = XDC_DISK_RAW;
		if (!json_is_object(jd))
			return bad(r, "disks", "must hold objects");
		if ((rc = rd_str(r, jd, "target", 0, &d->d_target)) ||
		    (rc = rd_str(r, jd, "vdev", 0, &d->d_vdev)) ||
		    (rc = rd_enum(
		         r, jd, "format", 0, obs_json_format_name, 3, &u)) ||
		    (rc = rd_bool(r, jd, "readonly", 0, &d->d_readonly)))
			return rc;
		d->d_format = (enum xdc_disk_format)u;
	}
	return 0;
}

static int
rd_nics(const struct rd *r, const json_t *o, struct xdc_obs_domain *od)
{
	const json_t *nics, *jn, *mac;
	size_t i;
	int rc;

	if ((rc = rd_array(r, o, "nics", &nics)) != 0)
		return rc;
	od->od_nnics = json_array_size(nics);
	od->od_nics = xdc_arena_zalloc(
	    r->r_arena, (od->od_nnics + 1) * sizeof(*od->od_nics));
	for (i = 0; i < od->od_nnics; i++) {
		jn = json_array_get(nics, i);
		if (!json_is_object(jn))
			return bad(r, "nics", "must hold objects");
		if ((rc = rd_str(
		         r, jn, "bridge", 0, &od->od_nics[i].on_bridge)) != 0)
			return rc;
		mac = json_object_get(jn, "mac");
		if (!json_is_string(mac) ||
		    xdc_parse_mac(
		        json_string_value(mac), od->od_nics[i].on_mac) != NULL)
			return bad(r, "mac", "must be a MAC address");
	}
	return 0;
}

static int
rd_hash(const struct rd *r, const json_t *o, uint64_t *out)
{
	const json_t *v = json_object_get(o, "hash");
	const char *s;
	char *end;

	*out = 0;
	if (v == NULL)
		return 0;
	s = json_is_string(v) ? json_string_value(v) : "";
	errno = 0;
	*out = strtoull(s, &end, 16);
	if (*s == '\0' || *s == '-' || *s == '+' || *end != '\0' ||
	    errno != 0 || strlen(s) > 16)
		return bad(r, "hash", "must be up to 16 hex digits");
	return 0;
}

/* A managed domain's scope and times; "default" and 0 when absent. */
static int
rd_scope(const struct rd *r, const json_t *o, struct xdc_obs_domain *od)
{
	uint64_t applied, expires;
	int rc;

	if ((rc = rd_str(r, o, "scope", 1, &od->od_scope)) ||
	    (rc = rd_u64(r, o, "applied", 0, 0, INT64_MAX, &applied)) ||
	    (rc = rd_u64(r, o, "expires", 0, 0, INT64_MAX, &expires)))
		return rc;
	if (od->od_scope != NULL && !xdc_name_valid(od->od_scope))
		return bad(r, "scope", "must be a name");
	if (!od->od_managed) {
		od->od_scope = NULL;
		return 0;
	}
	if (od->od_scope == NULL)
		od->od_scope = XDC_SCOPE_DEFAULT;
	od->od_applied = (int64_t)applied;
	od->od_expires = (int64_t)expires;
	return 0;
}

/* A managed network's scopes, in order; ["default"] when absent. */
static int
rd_net_scopes(const struct rd *r, const json_t *o, struct xdc_obs_network *n)
{
	static const char *const dflt[] = { XDC_SCOPE_DEFAULT };
	const json_t *v, *e;
	const char **w;
	size_t i;
	int rc;

	if ((rc = rd_array(r, o, "scopes", &v)) != 0)
		return rc;
	if (!n->on_managed)
		return 0;
	if (v == NULL || json_array_size(v) == 0) {
		n->on_scopes = dflt;
		n->on_nscopes = 1;
		return 0;
	}
	w = xdc_arena_zalloc(r->r_arena, json_array_size(v) * sizeof(*w));
	json_array_foreach(v, i, e)
	{
		if (!json_is_string(e) || !xdc_name_valid(json_string_value(e)))
			return bad(r, "scopes", "must hold names");
		w[i] = xdc_arena_strdup(r->r_arena, json_string_value(e));
	}
	n->on_scopes = w;
	n->on_nscopes = json_array_size(v);
	return 0;
}

static int
rd_domain(
    struct rd *r, const char *host, const json_t *o, struct xdc_obs_domain *od)
{
	int dflt = (r->r_flags & OBS_JSON_DEFAULTS) != 0;
	unsigned state = XDC_DOM_RUNNING;
	const json_t *cpu, *build;
	int rc;

	if (!json_is_object(o))
		return bad(r, "domains", "must hold objects");
	if ((rc = rd_str(r, o, "name", 0, &od->od_name)) != 0)
		return rc;
	snprintf(r->r_where, sizeof(r->r_where), "host %s, domain %.64s", host,
	    od->od_name);
	cpu = json_object_get(o, "cpu");
	if (cpu != NULL && !json_is_object(cpu))
		return bad(r, "cpu", "must be an object");
	if ((rc = rd_u32(r, o, "domid", 1, 0, &od->od_domid)) ||
	    (rc = rd_enum(
	         r, o, "state", !dflt, obs_json_state_name, 4, &state)) ||
	    (rc = rd_u64(r, o, "memory", 1, 0, INT64_MAX, &od->od_memory)) ||
	    (rc = rd_u64(r, o, "max_memory", 0, od->od_memory, INT64_MAX,
	         &od->od_max_memory)) ||
	    (rc = rd_u32(r, o, "vcpus", 0, 1, &od->od_vcpus)) ||
	    (rc = rd_u32(
	         r, o, "max_vcpus", 0, od->od_vcpus, &od->od_max_vcpus)) ||
	    (rc = rd_u32(r, cpu, "weight", 0, dflt ? XDC_DEFAULT_WEIGHT : 0,
	         &od->od_weight)) ||
	    (rc = rd_u32(r, cpu, "cap", 0, 0, &od->od_cap)) ||
	    (rc = rd_bool(r, o, "managed", 0, &od->od_managed)) ||
	    (rc = rd_bool(r, o, "protect", 0, &od->od_protect)) ||
	    (rc = rd_bool(r, o, "stub", 0, &od->od_stub)) ||
	    (rc = rd_hash(r, o, &od->od_hash)) || (rc = rd_scope(r, o, od)) ||
	    (rc = rd_nics(r, o, od)))
		return rc;
	od->od_state = (enum xdc_dom_state)state;
	build = json_object_get(o, "build");
	if (build != NULL && !json_is_null(build)) {
		if ((rc = rd_build(r, build, &od->od_build)) != 0)
			return rc;
		od->od_has_build = 1;
	}
	return 0;
}

static int
rd_network(
    struct rd *r, const char *host, const json_t *o, struct xdc_obs_network *n)
{
	uint64_t vlan;
	int rc;

	if (!json_is_object(o))
		return bad(r, "networks", "must hold objects");
	if ((rc = rd_str(r, o, "bridge", 0, &n->on_bridge)) != 0)
		return rc;
	snprintf(r->r_where, sizeof(r->r_where), "host %s, bridge %.32s", host,
	    n->on_bridge);
	if ((rc = rd_str(r, o, "name", 1, &n->on_name)) ||
	    (rc = rd_str(r, o, "uplink", 1, &n->on_uplink)) ||
	    (rc = rd_u64(r, o, "vlan", 0, 0, 4094, &vlan)) ||
	    (rc = rd_u32(r, o, "mtu", 0, 1500, &n->on_mtu)) ||
	    (rc = rd_bool(r, o, "up", (r->r_flags & OBS_JSON_DEFAULTS) != 0,
	         &n->on_up)) ||
	    (rc = rd_bool(r, o, "managed", 0, &n->on_managed)) ||
	    (rc = rd_net_scopes(r, o, n)))
		return rc;
	n->on_vlan = (uint16_t)vlan;
	return 0;
}

int
obs_json_domain_cmp(const void *a, const void *b)
{
	return strcmp(((const struct xdc_obs_domain *)a)->od_name,
	    ((const struct xdc_obs_domain *)b)->od_name);
}

int
obs_json_network_cmp(const void *a, const void *b)
{
	return strcmp(((const struct xdc_obs_network *)a)->on_bridge,
	    ((const struct xdc_obs_network *)b)->on_bridge);
}

int
obs_json_read_host(const json_t *o, const char *what, struct xdc_arena *arena,
    struct xdc_obs_host *out)
{
	struct rd r;
	const json_t *doms, *nets;
	const char *name;
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&r, 0, sizeof(r));
	r.r_what = what;
	r.r_arena = arena;
	if (!json_is_object(o))
		return xdc_error(XDC_ERR, "%s: not a JSON object", what);
	if ((rc = rd_str(&r, o, "name", 0, &name)) != 0)
		return rc;
	snprintf(r.r_where, sizeof(r.r_where), "host %.64s", name);
	out->oh_name = name;
	if ((rc = rd_u64(&r, o, "memory", 1, 0, INT64_MAX, &out->oh_memory)) ||
	    (rc = rd_u64(&r, o, "free_memory", 0, 0, INT64_MAX,
	         &out->oh_free_memory)) ||
	    (rc = rd_u32(&r, o, "cpus", 0, 0, &out->oh_cpus)) ||
	    (rc = rd_array(&r, o, "domains", &doms)) ||
	    (rc = rd_array(&r, o, "networks", &nets)))
		return rc;
	out->oh_ndomains = json_array_size(doms);
	out->oh_domains = xdc_arena_zalloc(
	    arena, (out->oh_ndomains + 1) * sizeof(*out->oh_domains));
	for (i = 0; i < out->oh_ndomains; i++)
		if ((rc = rd_domain(&r, name, json_array_get(doms, i),
		         &out->oh_domains[i])) != 0)
			return rc;
	qsort(out->oh_domains, out->oh_ndomains, sizeof(*out->oh_domains),
	    obs_json_domain_cmp);
	for (i = 1; i < out->oh_ndomains; i++)
		if (!strcmp(out->oh_domains[i].od_name,
		        out->oh_domains[i - 1].od_name))
			return xdc_error(XDC_ERR,
			    "%s: host %s: two domains are named %.64s", what,
			    name, out->oh_domains[i].od_name);
	out->oh_nnetworks = json_array_size(nets);
	out->oh_networks = xdc_arena_zalloc(
	    arena, (out->oh_nnetworks + 1) * sizeof(*out->oh_networks));
	for (i = 0; i < out->oh_nnetworks; i++)
		if ((rc = rd_network(&r, name, json_array_get(nets, i),
		         &out->oh_networks[i])) != 0)
			return rc;
	qsort(out->oh_networks, out->oh_nnetworks, sizeof(*out->oh_networks),
	    obs_json_network_cmp);
	for (i = 1; i < out->oh_nnetworks; i++)
		if (!strcmp(out->oh_networks[i].on_bridge,
		        out->oh_networks[i - 1].on_bridge))
			return xdc_error(XDC_ERR,
			    "%s: host %s: two networks are bridge %.32s", what,
			    name, out->oh_networks[i].on_bridge);
	return 0;
}

/* A reader of one object of host's. */
static void
rd_init(struct rd *r, const char *what, const char *host, unsigned flags,
    struct xdc_arena *arena)
{
	memset(r, 0, sizeof(*r));
	r->r_what = what;
	r->r_arena = arena;
	r->r_flags = flags;
	snprintf(r->r_where, sizeof(r->r_where), "host %.64s", host);
}

int
obs_json_read_domain(const json_t *o, const char *what, const char *host,
    unsigned flags, struct xdc_arena *arena, struct xdc_obs_domain *out)
{
	struct rd r;

	memset(out, 0, sizeof(*out));
	rd_init(&r, what, host, flags, arena);
	return rd_domain(&r, host, o, out);
}

int
obs_json_read_network(const json_t *o, const char *what, const char *host,
    unsigned flags, struct xdc_arena *arena, struct xdc_obs_network *out)
{
	struct rd r;

	memset(out, 0, sizeof(*out));
	rd_init(&r, what, host, flags, arena);
	return rd_network(&r, host, o, out);
}
