/*
 * The pool agent's copy of the pool (see agent_priv.h): the hosts'
 * records as published under P hosts/, the claims, the budget slots, the
 * fenced marks and who is fencing whom, read once from the prefix and
 * then kept by its watch (read again when the watch was compacted). The
 * range's keys come one at a time as etcd's answer is read (a record
 * parsed as it comes, its text not kept), and are set aside until the
 * answer has been read whole: only then do they replace what was known,
 * so a range that fails halfway leaves the copy as it was. And
 * the snapshots of that copy the planner gets (pool_agent_snapshot):
 * taking one is also when this host gives back the claims and slots it
 * no longer needs (agent_cas.c) and looks at the lost hosts
 * (agent_fence.c).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/arena.h"
#include "base/error.h"
#include "base/ev.h"
#include "drivers/obs_json.h"
#include "pool/agent.h"
#include "pool/agent_priv.h"
#include "pool/record.h"
#include "schema/model.h"

/* The part of key after P KIND/, or NULL when key is not of that kind. */
static const char *
key_name(const struct pool_agent *a, const char *key, const char *kind)
{
	size_t np = strlen(a->a_prefix), nk = strlen(kind);

	if (strncmp(key, a->a_prefix, np) != 0 ||
	    strncmp(key + np, kind, nk) != 0 || key[np + nk] != '/' ||
	    key[np + nk + 1] == '\0')
		return NULL;
	return key + np + nk + 1;
}

/* ---- Records ---------------------------------------------------------- */

void
agent_view_rec_unref(struct rec *r)
{
	if (r == NULL || --r->r_refs > 0)
		return;
	xdc_arena_free(r->r_arena);
	free(r);
}

/*
 * A record the event reader gave up on (pool_record_read), read by
 * jansson: the same, or the reason it is refused.
 */
static int
rec_parse_json(struct rec *r, const char *what, const char *text, size_t len)
{
	json_t *root, *src, *v;
	json_error_t err;
	int rc;

	if ((root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err)) ==
	    NULL)
		return xdc_error(XDC_ERR, "%s: not JSON: %s", what, err.text);
	if ((rc = obs_json_read_host(root, what, r->r_arena, &r->r_obs)) != 0)
		goto out;
	src = json_object_get(root, "source");
	if ((v = json_object_get(src, "path")) != NULL && json_is_string(v))
		r->r_path = xdc_arena_strdup(r->r_arena, json_string_value(v));
	if ((v = json_object_get(src, "commit")) != NULL && json_is_string(v))
		r->r_commit =
		    xdc_arena_strdup(r->r_arena, json_string_value(v));
	v = json_object_get(root, "watchdog_ms");
	if (v != NULL && json_is_integer(v) && json_integer_value(v) > 0)
		r->r_watchdog_ms = json_integer_value(v);
out:
	json_decref(root);
	return rc;
}

/*
 * A record from etcd, or NULL when it does not read, with the reason in
 * xdc_error_last(). A record whose name is not the host of its key is
 * refused: an agent publishes only itself.
 */
static struct rec *
rec_parse(struct pool_agent *a, const char *host, const char *text, size_t len)
{
	struct rec *r = xdc_calloc(1, sizeof(*r));
	char *what = agent_key_of(a, "hosts", host);

	r->r_refs = 1;
	/*
	 * The observation takes 0.53 to 0.55 of its record's bytes (its
	 * repeated strings kept once, pool_record_read): one block of about
	 * that, where blocks of 16 KB doubling held 1.4 times what they
	 * used (at 10,000 VMs on 100 hosts).
	 */
	r->r_arena = xdc_arena_new_size(len / 2 + len / 16);
	if (pool_record_read(text, len, r->r_arena, &r->r_obs, &r->r_path,
	        &r->r_commit, &r->r_watchdog_ms) != 0 &&
	    rec_parse_json(r, what, text, len) != 0)
		goto bad;
	if (strcmp(r->r_obs.oh_name, host) != 0) {
		xdc_error(XDC_ERR,
		    "%s: the record is of host %.64s, not of the host of its "
		    "key",
		    what, r->r_obs.oh_name);
		goto bad;
	}
	free(what);
	return r;
bad:
	free(what);
	agent_view_rec_unref(r);
	return NULL;
}

static void
rec_refused(struct pool_agent *a, const char *host, const char *why)
{
	agent_log(a, POOL_LOG_WARN, "record refused", "host", host, "error",
	    why, NULL, NULL);
}

/* ---- The copy of the pool -------------------------------------------- */

struct host *
agent_view_host_get(struct pool_agent *a, const char *name, int add)
{
	size_t lo = 0, hi = a->a_nhosts, mid;
	int c;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if ((c = strcmp(name, a->a_hosts[mid].h_name)) == 0)
			return &a->a_hosts[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (!add)
		return NULL;
	a->a_hosts =
	    xdc_reallocarray(a->a_hosts, a->a_nhosts + 1, sizeof(*a->a_hosts));
	memmove(&a->a_hosts[lo + 1], &a->a_hosts[lo],
	    (a->a_nhosts - lo) * sizeof(*a->a_hosts));
	a->a_nhosts++;
	memset(&a->a_hosts[lo], 0, sizeof(a->a_hosts[lo]));
	a->a_hosts[lo].h_name = xdc_strdup(name);
	/* Not seen yet: lost since now, as far as this agent can say. */
	a->a_hosts[lo].h_lost_since = xdc_ev_now();
	return &a->a_hosts[lo];
}

static size_t
claim_at(const struct pool_agent *a, const char *vm, int *found)
{
	size_t lo = 0, hi = a->a_nclaims, mid;
	int c;

	*found = 0;
	while (lo < hi) {
		mid = (lo + hi) / 2;
		if ((c = strcmp(vm, a->a_claims[mid].c_vm)) == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

const char *
agent_view_claim_holder(const struct pool_agent *a, const char *vm)
{
	int found;
	size_t i = claim_at(a, vm, &found);

	return found ? a->a_claims[i].c_host : NULL;
}

void
agent_view_claim_set(struct pool_agent *a, const char *vm, const char *host)
{
	int found;
	size_t i = claim_at(a, vm, &found);

	if (host == NULL) {
		if (!found)
			return;
		free(a->a_claims[i].c_vm);
		free(a->a_claims[i].c_host);
		memmove(&a->a_claims[i], &a->a_claims[i + 1],
		    (a->a_nclaims - i - 1) * sizeof(*a->a_claims));
		a->a_nclaims--;
		return;
	}
	if (found) {
		free(a->a_claims[i].c_host);
		a->a_claims[i].c_host = xdc_strdup(host);
		return;
	}
	a->a_claims = xdc_reallocarray(
	    a->a_claims, a->a_nclaims + 1, sizeof(*a->a_claims));
	memmove(&a->a_claims[i + 1], &a->a_claims[i],
	    (a->a_nclaims - i) * sizeof(*a->a_claims));
	a->a_nclaims++;
	a->a_claims[i].c_vm = xdc_strdup(vm);
	a->a_claims[i].c_host = xdc_strdup(host);
}

void
agent_view_slot_free(struct slot *s)
{
	free(s->s_sla);
	free(s->s_vm);
	free(s->s_host);
}

/* "SLA/K" with its value {"host":..,"vm":..}; NULL value deletes. */
static void
slot_set(struct pool_agent *a, const char *name, const char *value, size_t len)
{
	const char *slash = strrchr(name, '/');
	json_t *root = NULL, *h, *v;
	struct slot s;
	size_t i;
	char *end;
	unsigned long k;

	if (slash == NULL || slash == name)
		return;
	k = strtoul(slash + 1, &end, 10);
	if (*end != '\0' || slash[1] == '\0' || k > 1000000)
		return;
	for (i = 0; i < a->a_nslots; i++)
		if (a->a_slots[i].s_k == k &&
		    strlen(a->a_slots[i].s_sla) == (size_t)(slash - name) &&
		    !strncmp(
		        a->a_slots[i].s_sla, name, (size_t)(slash - name))) {
			agent_view_slot_free(&a->a_slots[i]);
			a->a_slots[i] = a->a_slots[--a->a_nslots];
			break;
		}
	if (value == NULL)
		return;
	root = json_loadb(value, len, 0, NULL);
	h = json_object_get(root, "host");
	v = json_object_get(root, "vm");
	if (json_is_string(h) && json_is_string(v)) {
		xdc_asprintf(&s.s_sla, "%.*s", (int)(slash - name), name);
		s.s_k = (unsigned)k;
		s.s_host = xdc_strdup(json_string_value(h));
		s.s_vm = xdc_strdup(json_string_value(v));
		a->a_slots = xdc_reallocarray(
		    a->a_slots, a->a_nslots + 1, sizeof(*a->a_slots));
		a->a_slots[a->a_nslots++] = s;
	}
	json_decref(root);
}

static void
fenced_set(
    struct pool_agent *a, const char *host, const char *value, size_t len)
{
	struct host *h = agent_view_host_get(a, host, 1);
	json_t *root;
	const char *m = "unknown";

	free(h->h_fenced);
	h->h_fenced = NULL;
	if (value == NULL)
		return;
	root = json_loadb(value, len, 0, NULL);
	if (json_is_string(json_object_get(root, "method")))
		m = json_string_value(json_object_get(root, "method"));
	h->h_fenced = xdc_strdup(m);
	json_decref(root);
}

/* name's record r is put: it replaces what was known of it. */
static void
rec_put(struct pool_agent *a, const char *name, struct rec *r)
{
	struct host *h = agent_view_host_get(a, name, 1);

	agent_view_rec_unref(h->h_rec);
	h->h_rec = r;
	h->h_lost_since = 0;
	h->h_watchdog_ms = r->r_watchdog_ms;
	h->h_fence_delay = 0;
}

/* One key of the pool, put (value) or deleted (NULL). */
static void
apply_key(struct pool_agent *a, const struct etcd_kv *kv, int put)
{
	const char *key = kv->kv_key, *name;
	struct host *h;
	struct rec *r;

	if ((name = key_name(a, key, "hosts")) != NULL) {
		h = agent_view_host_get(a, name, 1);
		if (put) {
			if ((r = rec_parse(a, name, kv->kv_value,
			         kv->kv_value_len)) == NULL)
				rec_refused(a, name, xdc_error_last());
			else
				rec_put(a, name, r);
		} else if (h->h_rec != NULL) {
			agent_view_rec_unref(h->h_rec);
			h->h_rec = NULL;
			h->h_lost_since = xdc_ev_now();
			if (strcmp(name, a->a_self) != 0)
				agent_log(a, POOL_LOG_WARN, "host lost", "host",
				    name, "why",
				    "its lease expired or was revoked", NULL,
				    NULL);
		}
	} else if ((name = key_name(a, key, "claims")) != NULL) {
		agent_view_claim_set(a, name, put ? kv->kv_value : NULL);
	} else if ((name = key_name(a, key, "budget")) != NULL) {
		slot_set(a, name, put ? kv->kv_value : NULL, kv->kv_value_len);
	} else if ((name = key_name(a, key, "fenced")) != NULL) {
		fenced_set(
		    a, name, put ? kv->kv_value : NULL, kv->kv_value_len);
	} else if ((name = key_name(a, key, "fencing")) != NULL) {
		h = agent_view_host_get(a, name, 1);
		free(h->h_fencer);
		h->h_fencer = put ? xdc_strdup(kv->kv_value) : NULL;
	}
}

/* ---- Reading and watching --------------------------------------------- */

static void
on_watch(struct etcd_watch *w, const struct etcd_watch_msg *m, void *arg)
{
	struct pool_agent *a = arg;
	size_t i;

	(void)w;
	switch (m->wm_kind) {
	case ETCD_WATCH_EVENTS:
		for (i = 0; i < m->wm_nevents; i++)
			apply_key(a, &m->wm_events[i].ev_kv,
			    m->wm_events[i].ev_type == ETCD_EVENT_PUT);
		agent_changed(a);
		break;
	case ETCD_WATCH_COMPACTED:
		/* Events were lost: read it all again. */
		agent_view_resync(a);
		break;
	case ETCD_WATCH_BROKEN:
		agent_log(a, POOL_LOG_WARN, "etcd watch broken", "error",
		    m->wm_error, "resume", "from the next revision", NULL,
		    NULL);
		break;
	default:
		break;
	}
}

/*
 * A key of the range, set aside until the range has been read whole: a
 * host's record parsed (or why it is refused), any other key as it is.
 */
struct view_key {
	char *vk_key;
	struct rec *vk_rec; /* hosts/: the record; NULL when refused */
	char *vk_why;       /* hosts/: why it is refused */
	char *vk_value;     /* the other kinds: the value, NUL-terminated */
	size_t vk_value_len;
};

void
agent_view_range_forget(struct pool_agent *a)
{
	struct view_key *k;
	size_t i;

	for (i = 0; i < a->a_nrkeys; i++) {
		k = &a->a_rkeys[i];
		free(k->vk_key);
		agent_view_rec_unref(k->vk_rec);
		free(k->vk_why);
		free(k->vk_value);
	}
	free(a->a_rkeys);
	a->a_rkeys = NULL;
	a->a_nrkeys = a->a_caprkeys = 0;
}

/* One key of the range as it comes; NULL: forget those so far. */
static void
on_range_kv(const struct etcd_kv *kv, void *arg)
{
	struct pool_agent *a = arg;
	struct view_key *k;
	const char *name;

	if (kv == NULL) {
		agent_view_range_forget(a);
		return;
	}
	if (a->a_nrkeys == a->a_caprkeys) {
		a->a_caprkeys = a->a_caprkeys == 0 ? 64 : a->a_caprkeys * 2;
		a->a_rkeys = xdc_reallocarray(
		    a->a_rkeys, a->a_caprkeys, sizeof(*a->a_rkeys));
	}
	k = &a->a_rkeys[a->a_nrkeys++];
	memset(k, 0, sizeof(*k));
	k->vk_key = xdc_strdup(kv->kv_key);
	if ((name = key_name(a, kv->kv_key, "hosts")) != NULL) {
		k->vk_rec = rec_parse(a, name, kv->kv_value, kv->kv_value_len);
		if (k->vk_rec == NULL)
			k->vk_why = xdc_strdup(xdc_error_last());
		return;
	}
	k->vk_value = xdc_malloc(kv->kv_value_len + 1);
	memcpy(k->vk_value, kv->kv_value, kv->kv_value_len + 1);
	k->vk_value_len = kv->kv_value_len;
}

/* The range's keys, read whole, into the copy: as apply_key puts them. */
static void
apply_range(struct pool_agent *a)
{
	struct view_key *k;
	struct etcd_kv kv;
	const char *name;
	size_t i;

	for (i = 0; i < a->a_nrkeys; i++) {
		k = &a->a_rkeys[i];
		if ((name = key_name(a, k->vk_key, "hosts")) == NULL) {
			memset(&kv, 0, sizeof(kv));
			kv.kv_key = k->vk_key;
			kv.kv_key_len = strlen(k->vk_key);
			kv.kv_value = k->vk_value;
			kv.kv_value_len = k->vk_value_len;
			apply_key(a, &kv, 1);
			continue;
		}
		(void)agent_view_host_get(a, name, 1);
		if (k->vk_rec == NULL) {
			rec_refused(a, name, k->vk_why);
			continue;
		}
		rec_put(a, name, k->vk_rec);
		k->vk_rec = NULL;
	}
	agent_view_range_forget(a);
}

static void
on_range(struct etcd_req *req, const struct etcd_result *res, void *arg)
{
	struct pool_agent *a = arg;
	size_t i;

	(void)req;
	a->a_range = NULL;
	if (res->res_rc != 0) {
		/* Half a range decides nothing: the copy stays as it was. */
		agent_view_range_forget(a);
		agent_set_why(
		    a, "cannot read the pool from etcd: %s", res->res_error);
		agent_log(a, POOL_LOG_WARN, "etcd read failed", "error",
		    res->res_error, NULL, NULL, NULL, NULL);
		/* The tick tries again. */
		return;
	}
	/* What the range holds replaces what was known. */
	for (i = 0; i < a->a_nhosts; i++) {
		if (a->a_hosts[i].h_rec != NULL) {
			agent_view_rec_unref(a->a_hosts[i].h_rec);
			a->a_hosts[i].h_rec = NULL;
			a->a_hosts[i].h_lost_since = xdc_ev_now();
		}
		free(a->a_hosts[i].h_fenced);
		a->a_hosts[i].h_fenced = NULL;
		free(a->a_hosts[i].h_fencer);
		a->a_hosts[i].h_fencer = NULL;
	}
	while (a->a_nclaims > 0)
		agent_view_claim_set(a, a->a_claims[0].c_vm, NULL);
	while (a->a_nslots > 0)
		agent_view_slot_free(&a->a_slots[--a->a_nslots]);
	apply_range(a);
	if (etcd_watch(a->a_etcd, a->a_prefix, ETCD_PREFIX,
	        res->res_revision + 1, on_watch, a, &a->a_watch) != 0) {
		agent_set_why(a, "cannot watch the pool: %s", xdc_error_last());
		return;
	}
	a->a_synced = 1;
	if (a->a_lease != 0 && a->a_ready_since == 0)
		a->a_ready_since = xdc_ev_now();
	agent_changed(a);
}

/*
 * The whole pool in one read: at a thousand hosts tens of megabytes,
 * which etcd takes seconds to send. Its limit is not a renewal's third of
 * the lease (a renewal goes on meanwhile, on a connection of its own):
 * RANGE_MS, or two leases if longer. A read stuck on a cut link holds
 * the next one back that long at most.
 */
#define RANGE_MS 30000

void
agent_view_start_range(struct pool_agent *a)
{
	struct etcd_op op = { .op_kind = ETCD_RANGE,
		.op_key = a->a_prefix,
		.op_flags = ETCD_PREFIX };

	if (a->a_range != NULL || a->a_synced)
		return;
	agent_view_range_forget(a);
	agent_request_limits(a, RANGE_MS);
	a->a_range = etcd_range_each(a->a_etcd, &op, on_range_kv, on_range, a);
	agent_request_limits(a, 0);
}

void
agent_view_resync(struct pool_agent *a)
{
	if (a->a_watch != NULL)
		etcd_watch_free(a->a_watch);
	a->a_watch = NULL;
	a->a_synced = 0;
	agent_view_start_range(a);
}

/* ---- The snapshot --------------------------------------------------- */

static void
declared_set(struct pool_agent *a, const struct xdc_config *cfg)
{
	size_t i;

	for (i = 0; i < a->a_ndeclared; i++)
		free(a->a_declared[i]);
	a->a_ndeclared = cfg->cfg_nhosts;
	a->a_declared = xdc_reallocarray(
	    a->a_declared, a->a_ndeclared + 1, sizeof(*a->a_declared));
	for (i = 0; i < cfg->cfg_nhosts; i++)
		a->a_declared[i] = xdc_strdup(cfg->cfg_hosts[i].h_name);
}

struct pool_snapshot {
	struct xdc_pool_view ps_view;
	struct xdc_arena *ps_arena;
	struct rec **ps_recs;
	size_t ps_nrecs;
};

static int
obs_host_cmp(const void *x, const void *y)
{
	return strcmp(((const struct xdc_obs_host *)x)->oh_name,
	    ((const struct xdc_obs_host *)y)->oh_name);
}

int
pool_agent_snapshot(struct pool_agent *a, const struct xdc_config *cfg,
    struct xdc_observed *obs, struct pool_snapshot **out)
{
	struct pool_snapshot *s;
	struct xdc_obs_host *hosts;
	struct xdc_claim *claims;
	struct xdc_slot *slots;
	const char **fenced;
	struct host *h;
	size_t i, n, nf = 0, np = 0;
	const char *why;

	*out = NULL;
	declared_set(a, cfg);
	agent_fence_check(a);
	if (!pool_agent_ready(a, &why))
		return xdc_error(
		    XDC_ERETRY, "the pool view is not ready: %s", why);
	s = xdc_calloc(1, sizeof(*s));
	s->ps_arena = xdc_arena_new();
	s->ps_recs = xdc_calloc(cfg->cfg_nhosts + 1, sizeof(*s->ps_recs));
	fenced = xdc_arena_alloc(
	    s->ps_arena, (cfg->cfg_nhosts + 1) * sizeof(*fenced));
	/* The live hosts' observations, beside this host's own. */
	n = obs->obs_nhosts;
	hosts = xdc_arena_alloc(
	    obs->obs_arena, (n + cfg->cfg_nhosts + 1) * sizeof(*hosts));
	memcpy(hosts, obs->obs_hosts, n * sizeof(*hosts));
	for (i = 0; i < cfg->cfg_nhosts; i++) {
		h = agent_view_host_get(a, cfg->cfg_hosts[i].h_name, 1);
		if (!strcmp(h->h_name, a->a_self) ||
		    xdc_observed_host(obs, h->h_name) != NULL)
			continue;
		if (h->h_rec != NULL) {
			h->h_rec->r_refs++;
			s->ps_recs[s->ps_nrecs++] = h->h_rec;
			hosts[n++] = h->h_rec->r_obs;
		} else if (h->h_fenced != NULL) {
			fenced[nf++] = xdc_arena_strdup(s->ps_arena, h->h_name);
		}
	}
	qsort(hosts, n, sizeof(*hosts), obs_host_cmp);
	obs->obs_hosts = hosts;
	obs->obs_nhosts = n;
	a->a_gen++;
	agent_cas_slots_settle(a, cfg, obs);
	agent_cas_claims_settle(a, obs);
	claims =
	    xdc_arena_alloc(s->ps_arena, (a->a_nclaims + 1) * sizeof(*claims));
	for (i = 0; i < a->a_nclaims; i++) {
		claims[i].cl_vm =
		    xdc_arena_strdup(s->ps_arena, a->a_claims[i].c_vm);
		claims[i].cl_host =
		    xdc_arena_strdup(s->ps_arena, a->a_claims[i].c_host);
	}
	slots =
	    xdc_arena_alloc(s->ps_arena, (a->a_nslots + 1) * sizeof(*slots));
	for (i = 0; i < a->a_nslots; i++) {
		/* This host's own slots are its actions in flight: the
		 * planner sees those domains as they are. */
		if (!strcmp(a->a_slots[i].s_host, a->a_self))
			continue;
		slots[np].sl_sla =
		    xdc_arena_strdup(s->ps_arena, a->a_slots[i].s_sla);
		slots[np].sl_vm =
		    xdc_arena_strdup(s->ps_arena, a->a_slots[i].s_vm);
		slots[np].sl_host =
		    xdc_arena_strdup(s->ps_arena, a->a_slots[i].s_host);
		np++;
	}
	s->ps_view.pv_self = xdc_arena_strdup(s->ps_arena, a->a_self);
	s->ps_view.pv_fenced = fenced;
	s->ps_view.pv_nfenced = nf;
	s->ps_view.pv_claims = claims;
	s->ps_view.pv_nclaims = a->a_nclaims;
	s->ps_view.pv_slots = slots;
	s->ps_view.pv_nslots = np;
	s->ps_view.pv_rejoin_domid = a->a_rejoin_domid;
	*out = s;
	return 0;
}

const struct xdc_pool_view *
pool_snapshot_view(const struct pool_snapshot *s)
{
	return &s->ps_view;
}

void
pool_snapshot_free(struct pool_snapshot *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->ps_nrecs; i++)
		agent_view_rec_unref(s->ps_recs[i]);
	free(s->ps_recs);
	xdc_arena_free(s->ps_arena);
	free(s);
}
