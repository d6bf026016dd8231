/*
 * The pool agent (see agent.h). Everything lives in etcd under the pool's
 * prefix P = /xdc/NAME/ (docs/pool.md):
 *
 *	P hosts/HOST          this host's record, under its lease
 *	P claims/VM           the host that runs VM, under that host's lease
 *	P budget/SLA/K        slot K of SLA's budget: {"host","vm"}, leased
 *	P fencing/HOST        the survivor running the fence command, leased
 *	P fenced/HOST         HOST is known off: {"by","method","at"}; no
 *	                      lease; HOST's agent deletes it when it is back
 *
 * The agent reads the prefix once, then watches it from the next
 * revision, and keeps a copy in memory; every decision is made on that
 * copy and every change of it is a compare-and-swap in etcd, so two
 * agents that decide on stale copies cannot both win.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "base/arena.h"
#include "base/error.h"
#include "base/ev.h"
#include "drivers/obs_json.h"
#include "pool/agent.h"
#include "pool/record.h"
#include "schema/model.h"

extern char **environ;

#define FENCE_TIMEOUT_MS 60000 /* a fence command that hangs is a failure */
#define FENCE_RETRY_MS   5000  /* after a failed fence, at first */
#define FENCE_RETRY_MAX  60000
#define WATCHDOG_MARGIN  1000 /* past lease + timeout, to be sure */
#define TICK_MS          1000 /* lost hosts are looked at this often */
#define CLAIMS_IN_FLIGHT 16
#define OUTPUT_MAX       2048 /* of a fence command, kept for the log */

/* A host's published record; immutable, shared by snapshots. */
struct rec {
	int r_refs;
	char *r_text;
	size_t r_len;
	struct xdc_arena *r_arena;
	struct xdc_obs_host r_obs;
	const char *r_path;
	const char *r_commit;
	int64_t r_watchdog_ms;
};

struct host {
	char *h_name;
	struct rec *h_rec;     /* NULL: no live lease publishes it */
	int64_t h_lost_since;  /* monotonic ms its record went; 0 live */
	int64_t h_watchdog_ms; /* its last record's, kept once it is lost */
	char *h_fenced;        /* the method, when P fenced/HOST says off */
	char *h_fencer;        /* who runs the fence command now, if anyone */
	int64_t h_fence_retry; /* no attempt before (monotonic ms) */
	int64_t h_fence_delay;
};

struct claim {
	char *c_vm;
	char *c_host;
};

struct slot {
	char *s_sla;
	unsigned s_k;
	char *s_vm;
	char *s_host;
};

/*
 * A VM of this host whose budget slot is wanted by an action that has not
 * ended: the slot is kept, though the VM still runs, until the action is
 * over (pool_agent_done) or no plan has asked for it for two snapshots.
 */
struct busy {
	char *b_vm;
	uint64_t b_gen; /* the snapshot whose plan last asked for it */
	int b_started;  /* the action runs */
	int b_moved;    /* destroyed here to run elsewhere: slots_settle's */
};

/* A key of this host's being given back (cas_release). */
struct release {
	struct pool_agent *r_pa;
	char *r_key;
	char *r_value;
	int64_t r_lease; /* the lease it was taken under */
	struct etcd_req *r_req;
};

/* A compare-and-swap in flight: a claim or a slot being taken. */
struct cas {
	struct pool_agent *cs_pa;
	struct etcd_req *cs_req;
	char *cs_key;
	char *cs_vm;
	int cs_slot;
};

/* The fence command in flight. */
struct fence {
	char *f_host;
	pid_t f_pid;
	int f_pidfd;
	int f_out;
	struct xdc_ev_io *f_pid_io;
	struct xdc_ev_io *f_out_io;
	struct xdc_ev_timer *f_timer;
	char f_output[OUTPUT_MAX];
	size_t f_len;
};

struct pool_agent {
	struct pool_agent_opts a_o;
	struct xdc_ev *a_ev;
	struct etcd *a_etcd;
	char *a_prefix;
	char *a_self;
	char *a_fence_cmd;
	/*
	 * pool_agent_free has begun: replies that its last requests bring in
	 * (the revoke is waited for) must not start anything, a fence least
	 * of all.
	 */
	int a_closing;

	/* The lease. */
	int64_t a_lease;
	int64_t a_ttl;         /* seconds */
	int64_t a_renewed;     /* monotonic ms of the last good renewal */
	int64_t a_petted;      /* monotonic ms of the last good pet; 0 none */
	int64_t a_ready_since; /* lease held and pool read, since */
	struct etcd_req *a_grant;
	struct etcd_req *a_keepalive;
	struct xdc_ev_timer *a_renew_timer;
	struct xdc_ev_timer *a_pet_timer;
	struct xdc_ev_timer *a_tick;
	char *a_why; /* what the agent waits for */

	/* The pool as read: the range, then the watch. */
	struct etcd_req *a_range;
	struct etcd_watch *a_watch;
	int a_synced;
	struct host *a_hosts; /* sorted by name */
	size_t a_nhosts;
	struct claim *a_claims; /* sorted by VM */
	size_t a_nclaims;
	struct slot *a_slots;
	size_t a_nslots;
	struct busy *a_busy; /* this host's slots that actions want */
	size_t a_nbusy;
	uint64_t a_gen; /* snapshots taken */

	/* What this agent does to it. */
	char *a_published; /* the record last put */
	char *a_pending;   /* the record to put next */
	struct etcd_req *a_put;
	struct cas **a_cas;
	size_t a_ncas;
	struct release **a_rel;
	size_t a_nrel;
	struct fence *a_fence;
	uint64_t a_fence_attempts, a_fence_failures, a_fence_successes;
	/* The hosts the configuration declares, as of the last snapshot. */
	char **a_declared;
	size_t a_ndeclared;
};

static void changed(struct pool_agent *);
static void lease_grant(struct pool_agent *);
static void publish_next(struct pool_agent *);

/* ---- Small helpers ---------------------------------------------------- */

static void
plog(const struct pool_agent *a, int level, const char *msg, const char *k1,
    const char *v1, const char *k2, const char *v2, const char *k3,
    const char *v3)
{
	if (a->a_o.pa_log != NULL)
		a->a_o.pa_log(
		    a->a_o.pa_arg, level, msg, k1, v1, k2, v2, k3, v3);
}

static void
changed(struct pool_agent *a)
{
	if (a->a_o.pa_changed != NULL)
		a->a_o.pa_changed(a->a_o.pa_arg);
}

static void set_why(struct pool_agent *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
set_why(struct pool_agent *a, const char *fmt, ...)
{
	va_list ap;

	free(a->a_why);
	a->a_why = NULL;
	if (fmt == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&a->a_why, fmt, ap) < 0)
		a->a_why = NULL;
	va_end(ap);
}

static char *
key_of(const struct pool_agent *a, const char *kind, const char *name)
{
	char *k = NULL;

	xdc_asprintf(&k, "%s%s/%s", a->a_prefix, kind, name);
	return k;
}

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

static int
lease_held(const struct pool_agent *a)
{
	return a->a_lease != 0 && xdc_ev_now() - a->a_renewed < a->a_ttl * 1000;
}

/* ---- Records ---------------------------------------------------------- */

static void
rec_unref(struct rec *r)
{
	if (r == NULL || --r->r_refs > 0)
		return;
	xdc_arena_free(r->r_arena);
	free(r->r_text);
	free(r);
}

/*
 * A record from etcd, or NULL when it does not read. A record whose name
 * is not the host of its key is refused: an agent publishes only itself.
 */
static struct rec *
rec_parse(struct pool_agent *a, const char *host, const char *text, size_t len)
{
	struct rec *r = xdc_calloc(1, sizeof(*r));
	json_t *root = NULL, *src, *v;
	json_error_t err;
	char *what = key_of(a, "hosts", host);

	r->r_refs = 1;
	r->r_text = xdc_malloc(len + 1);
	memcpy(r->r_text, text, len);
	r->r_text[len] = '\0';
	r->r_len = len;
	r->r_arena = xdc_arena_new();
	if ((root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err)) ==
	    NULL) {
		xdc_error(XDC_ERR, "%s: not JSON: %s", what, err.text);
		goto bad;
	}
	if (obs_json_read_host(root, what, r->r_arena, &r->r_obs) != 0)
		goto bad;
	if (strcmp(r->r_obs.oh_name, host) != 0) {
		xdc_error(XDC_ERR,
		    "%s: the record is of host %.64s, not of the host of its "
		    "key",
		    what, r->r_obs.oh_name);
		goto bad;
	}
	src = json_object_get(root, "source");
	if ((v = json_object_get(src, "path")) != NULL && json_is_string(v))
		r->r_path = xdc_arena_strdup(r->r_arena, json_string_value(v));
	if ((v = json_object_get(src, "commit")) != NULL && json_is_string(v))
		r->r_commit =
		    xdc_arena_strdup(r->r_arena, json_string_value(v));
	v = json_object_get(root, "watchdog_ms");
	if (v != NULL && json_is_integer(v) && json_integer_value(v) > 0)
		r->r_watchdog_ms = json_integer_value(v);
	json_decref(root);
	free(what);
	return r;
bad:
	plog(a, POOL_LOG_WARN, "record refused", "host", host, "error",
	    xdc_error_last(), NULL, NULL);
	json_decref(root);
	free(what);
	rec_unref(r);
	return NULL;
}

/* ---- The copy of the pool -------------------------------------------- */

static struct host *
host_get(struct pool_agent *a, const char *name, int add)
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

static const char *
claim_holder(const struct pool_agent *a, const char *vm)
{
	int found;
	size_t i = claim_at(a, vm, &found);

	return found ? a->a_claims[i].c_host : NULL;
}

static void
claim_set(struct pool_agent *a, const char *vm, const char *host)
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

static void
slot_free(struct slot *s)
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
			slot_free(&a->a_slots[i]);
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

static struct busy *
busy_find(const struct pool_agent *a, const char *vm)
{
	size_t i;

	for (i = 0; i < a->a_nbusy; i++)
		if (!strcmp(a->a_busy[i].b_vm, vm))
			return &a->a_busy[i];
	return NULL;
}

/* vm's entry, made if need be, as asked for by this snapshot's plan. */
static struct busy *
busy_want(struct pool_agent *a, const char *vm)
{
	struct busy *b = busy_find(a, vm);

	if (b == NULL) {
		a->a_busy = xdc_reallocarray(
		    a->a_busy, a->a_nbusy + 1, sizeof(*a->a_busy));
		b = &a->a_busy[a->a_nbusy++];
		memset(b, 0, sizeof(*b));
		b->b_vm = xdc_strdup(vm);
	}
	b->b_gen = a->a_gen;
	return b;
}

static void
busy_drop(struct pool_agent *a, const char *vm)
{
	struct busy *b = busy_find(a, vm);

	if (b == NULL)
		return;
	free(b->b_vm);
	*b = a->a_busy[--a->a_nbusy];
}

static void
fenced_set(
    struct pool_agent *a, const char *host, const char *value, size_t len)
{
	struct host *h = host_get(a, host, 1);
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

/* One key of the pool, put (value) or deleted (NULL). */
static void
apply_key(struct pool_agent *a, const struct etcd_kv *kv, int put)
{
	const char *key = kv->kv_key, *name;
	struct host *h;
	struct rec *r;

	if ((name = key_name(a, key, "hosts")) != NULL) {
		h = host_get(a, name, 1);
		if (put) {
			if ((r = rec_parse(a, name, kv->kv_value,
			         kv->kv_value_len)) == NULL)
				return;
			rec_unref(h->h_rec);
			h->h_rec = r;
			h->h_lost_since = 0;
			h->h_watchdog_ms = r->r_watchdog_ms;
			h->h_fence_delay = 0;
		} else if (h->h_rec != NULL) {
			rec_unref(h->h_rec);
			h->h_rec = NULL;
			h->h_lost_since = xdc_ev_now();
			if (strcmp(name, a->a_self) != 0)
				plog(a, POOL_LOG_WARN, "host lost", "host",
				    name, "why",
				    "its lease expired or was revoked", NULL,
				    NULL);
		}
	} else if ((name = key_name(a, key, "claims")) != NULL) {
		claim_set(a, name, put ? kv->kv_value : NULL);
	} else if ((name = key_name(a, key, "budget")) != NULL) {
		slot_set(a, name, put ? kv->kv_value : NULL, kv->kv_value_len);
	} else if ((name = key_name(a, key, "fenced")) != NULL) {
		fenced_set(
		    a, name, put ? kv->kv_value : NULL, kv->kv_value_len);
	} else if ((name = key_name(a, key, "fencing")) != NULL) {
		h = host_get(a, name, 1);
		free(h->h_fencer);
		h->h_fencer = put ? xdc_strdup(kv->kv_value) : NULL;
	}
}

/* ---- Reading and watching --------------------------------------------- */

static void start_range(struct pool_agent *);

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
		changed(a);
		break;
	case ETCD_WATCH_COMPACTED:
		/* Events were lost: read it all again. */
		etcd_watch_free(a->a_watch);
		a->a_watch = NULL;
		a->a_synced = 0;
		start_range(a);
		break;
	case ETCD_WATCH_BROKEN:
		plog(a, POOL_LOG_WARN, "etcd watch broken", "error",
		    m->wm_error, "resume", "from the next revision", NULL,
		    NULL);
		break;
	default:
		break;
	}
}

static void
on_range(struct etcd_req *req, const struct etcd_result *res, void *arg)
{
	struct pool_agent *a = arg;
	size_t i;

	(void)req;
	a->a_range = NULL;
	if (res->res_rc != 0) {
		set_why(
		    a, "cannot read the pool from etcd: %s", res->res_error);
		plog(a, POOL_LOG_WARN, "etcd read failed", "error",
		    res->res_error, NULL, NULL, NULL, NULL);
		/* The tick tries again. */
		return;
	}
	/* What the range holds replaces what was known. */
	for (i = 0; i < a->a_nhosts; i++) {
		if (a->a_hosts[i].h_rec != NULL) {
			rec_unref(a->a_hosts[i].h_rec);
			a->a_hosts[i].h_rec = NULL;
			a->a_hosts[i].h_lost_since = xdc_ev_now();
		}
		free(a->a_hosts[i].h_fenced);
		a->a_hosts[i].h_fenced = NULL;
		free(a->a_hosts[i].h_fencer);
		a->a_hosts[i].h_fencer = NULL;
	}
	while (a->a_nclaims > 0)
		claim_set(a, a->a_claims[0].c_vm, NULL);
	while (a->a_nslots > 0)
		slot_free(&a->a_slots[--a->a_nslots]);
	for (i = 0; i < res->res_nkvs; i++)
		apply_key(a, &res->res_kvs[i], 1);
	if (etcd_watch(a->a_etcd, a->a_prefix, ETCD_PREFIX,
	        res->res_revision + 1, on_watch, a, &a->a_watch) != 0) {
		set_why(a, "cannot watch the pool: %s", xdc_error_last());
		return;
	}
	a->a_synced = 1;
	if (a->a_lease != 0 && a->a_ready_since == 0)
		a->a_ready_since = xdc_ev_now();
	changed(a);
}

static void
start_range(struct pool_agent *a)
{
	if (a->a_range != NULL || a->a_synced)
		return;
	a->a_range =
	    etcd_range(a->a_etcd, a->a_prefix, ETCD_PREFIX, on_range, a);
}

/* ---- The lease -------------------------------------------------------- */

static void
on_deleted(struct etcd_req *req, const struct etcd_result *res, void *arg)
{
	(void)req;
	(void)res;
	(void)arg;
}

static void
lease_lost(struct pool_agent *a, const char *why)
{
	plog(a, POOL_LOG_ERROR, "lease lost", "lease", NULL, "why", why, NULL,
	    NULL);
	a->a_lease = 0;
	a->a_ready_since = 0;
	while (a->a_nbusy > 0)
		busy_drop(a, a->a_busy[0].b_vm);
	free(a->a_published);
	a->a_published = NULL;
	set_why(a, "the lease is lost (%s): taking a new one", why);
	changed(a);
	lease_grant(a);
}

static void
on_keepalive(struct etcd_req *req, const struct etcd_result *res, void *arg)
{
	struct pool_agent *a = arg;

	(void)req;
	a->a_keepalive = NULL;
	if (res->res_rc == 0 && res->res_ttl > 0) {
		a->a_renewed = xdc_ev_now();
		return;
	}
	if (res->res_rc == 0 || res->res_rc == XDC_ENOTFOUND) {
		lease_lost(a, "etcd says it expired");
		return;
	}
	/* etcd cannot be reached: the lease may live; the timer retries. */
	plog(a, POOL_LOG_WARN, "lease renewal failed", "error", res->res_error,
	    NULL, NULL, NULL, NULL);
	if (!lease_held(a) && a->a_lease != 0)
		set_why(a, "the lease could not be renewed for %llds: %s",
		    (long long)a->a_ttl, res->res_error);
}

static void
on_renew_timer(struct xdc_ev_timer *t, void *arg)
{
	struct pool_agent *a = arg;

	xdc_ev_timer_in(t, a->a_ttl * 1000 / 3);
	if (a->a_lease == 0 || a->a_keepalive != NULL)
		return;
	a->a_keepalive =
	    etcd_lease_keepalive(a->a_etcd, a->a_lease, on_keepalive, a);
}

static void
on_grant(struct etcd_req *req, const struct etcd_result *res, void *arg)
{
	struct pool_agent *a = arg;
	char id[32], *k;

	(void)req;
	a->a_grant = NULL;
	if (res->res_rc != 0) {
		set_why(a, "cannot take a lease in etcd: %s", res->res_error);
		plog(a, POOL_LOG_WARN, "lease grant failed", "error",
		    res->res_error, NULL, NULL, NULL, NULL);
		return; /* the tick tries again */
	}
	a->a_lease = res->res_lease;
	a->a_renewed = xdc_ev_now();
	snprintf(id, sizeof(id), "%llx", (long long)a->a_lease);
	plog(a, POOL_LOG_INFO, "lease granted", "lease", id, "endpoint",
	    res->res_endpoint, NULL, NULL);
	set_why(a, NULL);
	/* Back: whatever said this host was off is over. */
	k = key_of(a, "fenced", a->a_self);
	etcd_delete(a->a_etcd, k, 0, on_deleted, NULL);
	free(k);
	xdc_ev_timer_in(a->a_renew_timer, a->a_ttl * 1000 / 3);
	if (a->a_synced && a->a_ready_since == 0)
		a->a_ready_since = xdc_ev_now();
	publish_next(a);
	changed(a);
}

static void
lease_grant(struct pool_agent *a)
{
	if (a->a_grant != NULL || a->a_lease != 0)
		return;
	a->a_grant = etcd_lease_grant(a->a_etcd, a->a_ttl, on_grant, a);
}

/* ---- The watchdog ----------------------------------------------------- */

/*
 * Pet only while the lease is known renewed: an agent that is hung,
 * killed, or cut off from etcd lets its host reboot, before anyone may
 * take its VMs over (lease + timeout).
 */
static void
on_pet(struct xdc_ev_timer *t, void *arg)
{
	struct pool_agent *a = arg;

	int64_t now = xdc_ev_now(), was = a->a_petted;

	xdc_ev_timer_in(t, a->a_o.pa_watchdog_ms / 3);
	if (a->a_lease == 0 || now - a->a_renewed >= a->a_ttl * 1000 / 2 ||
	    a->a_o.pa_pet == NULL)
		return;
	if (a->a_o.pa_pet(a->a_o.pa_arg, a->a_o.pa_watchdog_ms) != 0) {
		a->a_petted = 0; /* not armed: the fence command's job */
		return;
	}
	a->a_petted = now;
	/* Past the deadline, pool_agent_gate held what starts VMs. */
	if (was != 0 && now - was >= a->a_o.pa_watchdog_ms)
		changed(a);
}

/*
 * Whether this host's watchdog, armed, went unpetted for its timeout: its
 * host has rebooted (on Xen the agent with it; the sim's agent lives on).
 * Whatever it would start now, under claims taken before, runs beside
 * the copies the survivors start once the lease has expired.
 */
static int
watchdog_lapsed(const struct pool_agent *a)
{
	return a->a_o.pa_watchdog_ms > 0 && a->a_petted != 0 &&
	       xdc_ev_now() - a->a_petted >= a->a_o.pa_watchdog_ms;
}

/* ---- Publishing ------------------------------------------------------- */

static void
on_put(struct etcd_req *req, const struct etcd_result *res, void *arg)
{
	struct pool_agent *a = arg;

	(void)req;
	a->a_put = NULL;
	if (res->res_rc != 0) {
		plog(a, POOL_LOG_WARN, "publish failed", "error",
		    res->res_error, NULL, NULL, NULL, NULL);
		free(a->a_published);
		a->a_published = NULL;
		return;
	}
	publish_next(a);
}

static void
publish_next(struct pool_agent *a)
{
	char *k;

	if (a->a_put != NULL || a->a_lease == 0 || a->a_pending == NULL)
		return;
	if (a->a_published != NULL && !strcmp(a->a_published, a->a_pending))
		return;
	free(a->a_published);
	a->a_published = xdc_strdup(a->a_pending);
	k = key_of(a, "hosts", a->a_self);
	a->a_put = etcd_put(a->a_etcd, k, a->a_published,
	    strlen(a->a_published), a->a_lease, on_put, a);
	free(k);
}

/* ---- Compare-and-swap: claims and slots ------------------------------- */

static void
cas_end(struct pool_agent *a, struct cas *c)
{
	size_t i;

	for (i = 0; i < a->a_ncas; i++)
		if (a->a_cas[i] == c) {
			a->a_cas[i] = a->a_cas[--a->a_ncas];
			break;
		}
	free(c->cs_key);
	free(c->cs_vm);
	free(c);
}

static struct cas *
cas_find(const struct pool_agent *a, const char *vm, int slot)
{
	size_t i;

	for (i = 0; i < a->a_ncas; i++)
		if (a->a_cas[i]->cs_slot == slot &&
		    !strcmp(a->a_cas[i]->cs_vm, vm))
			return a->a_cas[i];
	return NULL;
}

static void
on_cas(struct etcd_req *req, const struct etcd_result *res, void *arg)
{
	struct cas *c = arg;
	struct pool_agent *a = c->cs_pa;

	(void)req;
	if (res->res_rc != 0)
		plog(a, POOL_LOG_WARN,
		    c->cs_slot ? "budget slot not taken" : "claim not taken",
		    "vm", c->cs_vm, "error", res->res_error, NULL, NULL);
	/* Won or lost, the watch brings the key's value: ask again then. */
	cas_end(a, c);
	changed(a);
}

/* Put value at key under the lease, if nothing is there. */
static int
cas_create(struct pool_agent *a, const char *key, const char *vm,
    const char *value, int slot)
{
	struct etcd_cmp cmp;
	struct etcd_op put;
	struct cas *c;

	if (a->a_ncas >= CLAIMS_IN_FLIGHT || a->a_lease == 0)
		return -1;
	memset(&cmp, 0, sizeof(cmp));
	cmp.cmp_key = key;
	cmp.cmp_target = ETCD_CMP_CREATE;
	cmp.cmp_result = ETCD_EQUAL;
	cmp.cmp_number = 0;
	memset(&put, 0, sizeof(put));
	put.op_kind = ETCD_PUT;
	put.op_key = key;
	put.op_value = value;
	put.op_value_len = strlen(value);
	put.op_lease = a->a_lease;
	c = xdc_calloc(1, sizeof(*c));
	c->cs_pa = a;
	c->cs_key = xdc_strdup(key);
	c->cs_vm = xdc_strdup(vm);
	c->cs_slot = slot;
	c->cs_req = etcd_txn(a->a_etcd, &cmp, 1, &put, 1, NULL, 0, on_cas, c);
	if (c->cs_req == NULL) {
		free(c->cs_key);
		free(c->cs_vm);
		free(c);
		return -1;
	}
	a->a_cas = xdc_reallocarray(a->a_cas, a->a_ncas + 1, sizeof(*a->a_cas));
	a->a_cas[a->a_ncas++] = c;
	return 0;
}

/* Delete key if its value is value (ours): a claim or slot given back. */
/*
 * Delete key if it still holds value under this lease; a release etcd
 * did not answer is tried again at each tick until it does, or the lease
 * goes (and the key with it): a claim given back into a dead link would
 * otherwise stay, under a lease that lives on, keeping its VM from
 * starting anywhere.
 */
static void release_send(struct pool_agent *, struct release *);

static void
on_released(struct etcd_req *req, const struct etcd_result *res, void *arg)
{
	struct release *r = arg;
	struct pool_agent *a = r->r_pa;
	size_t i;

	(void)req;
	r->r_req = NULL;
	if (res->res_rc != 0 && res->res_rc != XDC_ENOTFOUND)
		return; /* the tick tries again */
	for (i = 0; i < a->a_nrel; i++)
		if (a->a_rel[i] == r) {
			a->a_rel[i] = a->a_rel[--a->a_nrel];
			break;
		}
	free(r->r_key);
	free(r->r_value);
	free(r);
}

static void
release_send(struct pool_agent *a, struct release *r)
{
	struct etcd_cmp cmp[2];
	struct etcd_op del;

	if (r->r_req != NULL)
		return;
	memset(cmp, 0, sizeof(cmp));
	cmp[0].cmp_key = r->r_key;
	cmp[0].cmp_target = ETCD_CMP_VALUE;
	cmp[0].cmp_result = ETCD_EQUAL;
	cmp[0].cmp_value = r->r_value;
	cmp[0].cmp_value_len = strlen(r->r_value);
	cmp[1].cmp_key = r->r_key;
	cmp[1].cmp_target = ETCD_CMP_LEASE;
	cmp[1].cmp_result = ETCD_EQUAL;
	cmp[1].cmp_number = r->r_lease;
	memset(&del, 0, sizeof(del));
	del.op_kind = ETCD_DELETE;
	del.op_key = r->r_key;
	r->r_req =
	    etcd_txn(a->a_etcd, cmp, 2, &del, 1, NULL, 0, on_released, r);
}

static void
cas_release(struct pool_agent *a, const char *key, const char *value)
{
	struct release *r;
	size_t i;

	if (a->a_lease == 0)
		return; /* the key went with the lease */
	for (i = 0; i < a->a_nrel; i++)
		if (!strcmp(a->a_rel[i]->r_key, key))
			return; /* under way */
	r = xdc_calloc(1, sizeof(*r));
	r->r_pa = a;
	r->r_key = xdc_strdup(key);
	r->r_value = xdc_strdup(value);
	r->r_lease = a->a_lease;
	a->a_rel = xdc_reallocarray(a->a_rel, a->a_nrel + 1, sizeof(*a->a_rel));
	a->a_rel[a->a_nrel++] = r;
	release_send(a, r);
}

/* The releases not yet answered: again, or dropped with their lease. */
static void
releases_retry(struct pool_agent *a)
{
	struct release *r;
	size_t i;

	for (i = 0; i < a->a_nrel; i++) {
		r = a->a_rel[i];
		if (r->r_lease == a->a_lease) {
			release_send(a, r);
			continue;
		}
		if (r->r_req != NULL)
			etcd_req_cancel(r->r_req);
		a->a_rel[i--] = a->a_rel[--a->a_nrel];
		free(r->r_key);
		free(r->r_value);
		free(r);
	}
}

static void
claim_take(struct pool_agent *a, const char *vm)
{
	char *k;

	if (cas_find(a, vm, 0) != NULL)
		return;
	k = key_of(a, "claims", vm);
	(void)cas_create(a, k, vm, a->a_self, 0);
	free(k);
}

static char *
slot_value(const struct pool_agent *a, const char *vm)
{
	json_t *o = json_pack("{s:s, s:s}", "host", a->a_self, "vm", vm);
	char *s = json_dumps(o, JSON_COMPACT);

	json_decref(o);
	return s != NULL ? s : xdc_strdup("{}");
}

/* ---- Fencing ---------------------------------------------------------- */

static void fence_end(struct pool_agent *, int ok, const char *why);

static void
mark_fenced(struct pool_agent *a, const char *host, const char *method)
{
	struct etcd_cmp cmp;
	struct etcd_op put;
	json_t *o;
	char *k = key_of(a, "fenced", host), *v, at[32];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
	o = json_pack(
	    "{s:s, s:s, s:s}", "by", a->a_self, "method", method, "at", at);
	v = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	memset(&cmp, 0, sizeof(cmp));
	cmp.cmp_key = k;
	cmp.cmp_target = ETCD_CMP_CREATE;
	cmp.cmp_result = ETCD_EQUAL;
	memset(&put, 0, sizeof(put));
	put.op_kind = ETCD_PUT;
	put.op_key = k;
	put.op_value = v;
	put.op_value_len = strlen(v);
	(void)etcd_txn(a->a_etcd, &cmp, 1, &put, 1, NULL, 0, on_deleted, NULL);
	plog(a, POOL_LOG_WARN, "fenced", "host", host, "method", method, "by",
	    a->a_self);
	free(k);
	free(v);
}

static void
on_fence_output(struct xdc_ev_io *io, int fd, short re, void *arg)
{
	struct fence *f = arg;
	char buf[512];
	ssize_t n;

	(void)re;
	n = read(fd, buf, sizeof(buf));
	if (n <= 0) {
		xdc_ev_io_del(io);
		f->f_out_io = NULL;
		return;
	}
	/* Keep the end (buf is smaller than the output kept): the last
	 * lines say what went wrong. */
	if (f->f_len + (size_t)n >= sizeof(f->f_output)) {
		size_t drop = f->f_len + (size_t)n - (sizeof(f->f_output) - 1);

		memmove(f->f_output, f->f_output + drop, f->f_len - drop);
		f->f_len -= drop;
	}
	memcpy(f->f_output + f->f_len, buf, (size_t)n);
	f->f_len += (size_t)n;
	f->f_output[f->f_len] = '\0';
}

static void
on_fence_exit(struct xdc_ev_io *io, int fd, short re, void *arg)
{
	struct pool_agent *a = arg;
	struct fence *f = a->a_fence;
	char why[128];
	int st = 0;

	(void)io;
	(void)fd;
	(void)re;
	if (waitpid(f->f_pid, &st, WNOHANG) != f->f_pid)
		return;
	f->f_pid = -1;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		fence_end(a, 1, NULL);
		return;
	}
	if (WIFEXITED(st))
		snprintf(why, sizeof(why), "exit status %d", WEXITSTATUS(st));
	else
		snprintf(why, sizeof(why), "killed by signal %d",
		    WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	fence_end(a, 0, why);
}

static void
on_fence_timeout(struct xdc_ev_timer *t, void *arg)
{
	struct pool_agent *a = arg;
	struct fence *f = a->a_fence;

	(void)t;
	if (f->f_pid > 0) {
		kill(f->f_pid, SIGKILL);
		(void)waitpid(f->f_pid, NULL, 0);
		f->f_pid = -1;
	}
	fence_end(a, 0, "it did not finish in 60 s");
}

static void
fence_end(struct pool_agent *a, int ok, const char *why)
{
	struct fence *f = a->a_fence;
	struct host *h = host_get(a, f->f_host, 1);
	char *k = key_of(a, "fencing", f->f_host), *line, *nl;

	line = f->f_output;
	while ((nl = strrchr(line, '\n')) != NULL && nl[1] == '\0')
		*nl = '\0';
	if ((nl = strrchr(line, '\n')) != NULL)
		line = nl + 1;
	if (ok) {
		a->a_fence_successes++;
		mark_fenced(a, f->f_host, "command");
	} else {
		a->a_fence_failures++;
		h->h_fence_delay = h->h_fence_delay == 0 ? FENCE_RETRY_MS
		                                         : h->h_fence_delay * 2;
		if (h->h_fence_delay > FENCE_RETRY_MAX)
			h->h_fence_delay = FENCE_RETRY_MAX;
		h->h_fence_retry = xdc_ev_now() + h->h_fence_delay;
		plog(a, POOL_LOG_ERROR, "fence failed", "host", f->f_host,
		    "error", why, "output", line);
	}
	cas_release(a, k, a->a_self);
	free(k);
	if (f->f_pid_io != NULL)
		xdc_ev_io_del(f->f_pid_io);
	if (f->f_out_io != NULL)
		xdc_ev_io_del(f->f_out_io);
	xdc_ev_timer_free(f->f_timer);
	if (f->f_pidfd >= 0)
		close(f->f_pidfd);
	if (f->f_out >= 0)
		close(f->f_out);
	free(f->f_host);
	free(f);
	a->a_fence = NULL;
	changed(a);
}

/*
 * Run the fence command for host: /bin/sh -c CMD with the host's name as
 * $1, its output kept for the log, its end heard through a pidfd in the
 * loop: nothing waits for it.
 */
static void
fence_run(struct pool_agent *a, const char *host)
{
	posix_spawn_file_actions_t fa;
	struct fence *f;
	char *argv[6];
	int out[2] = { -1, -1 }, devnull;

	if (pipe2(out, O_CLOEXEC) != 0)
		return;
	f = xdc_calloc(1, sizeof(*f));
	f->f_host = xdc_strdup(host);
	f->f_pidfd = -1;
	f->f_out = out[0];
	argv[0] = (char *)"/bin/sh";
	argv[1] = (char *)"-c";
	argv[2] = a->a_fence_cmd;
	argv[3] = (char *)"xdc-fence";
	argv[4] = f->f_host;
	argv[5] = NULL;
	posix_spawn_file_actions_init(&fa);
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (devnull >= 0)
		posix_spawn_file_actions_adddup2(&fa, devnull, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, out[1], 2);
	a->a_fence_attempts++;
	plog(a, POOL_LOG_WARN, "fencing", "host", host, "command",
	    a->a_fence_cmd, NULL, NULL);
	if (posix_spawn(&f->f_pid, "/bin/sh", &fa, NULL, argv, environ) != 0)
		f->f_pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	if (devnull >= 0)
		close(devnull);
	close(out[1]);
	a->a_fence = f;
	if (f->f_pid < 0) {
		fence_end(a, 0, "cannot run /bin/sh");
		return;
	}
	f->f_pidfd = (int)syscall(SYS_pidfd_open, f->f_pid, 0);
	fcntl(f->f_out, F_SETFL, fcntl(f->f_out, F_GETFL) | O_NONBLOCK);
	f->f_out_io =
	    xdc_ev_io_add(a->a_ev, f->f_out, POLLIN, on_fence_output, f);
	f->f_timer = xdc_ev_timer_new(a->a_ev, on_fence_timeout, a);
	xdc_ev_timer_in(f->f_timer, FENCE_TIMEOUT_MS);
	if (f->f_pidfd >= 0)
		f->f_pid_io = xdc_ev_io_add(
		    a->a_ev, f->f_pidfd, POLLIN, on_fence_exit, a);
}

static void
on_fence_lock(struct etcd_req *req, const struct etcd_result *res, void *arg)
{
	struct cas *c = arg;
	struct pool_agent *a = c->cs_pa;
	struct host *h = host_get(a, c->cs_vm, 1);

	(void)req;
	/* Won the lock and the host is still lost: fence it. */
	if (!a->a_closing && res->res_rc == 0 && res->res_succeeded &&
	    h->h_rec == NULL && h->h_fenced == NULL && a->a_fence == NULL)
		fence_run(a, c->cs_vm);
	else if (res->res_rc == 0 && res->res_succeeded) {
		char *k = key_of(a, "fencing", c->cs_vm);

		cas_release(a, k, a->a_self);
		free(k);
	}
	free(c->cs_key);
	free(c->cs_vm);
	free(c);
}

/*
 * Lost hosts: one survivor fences each with the command, or each is known
 * off once its lease and its watchdog's timeout have passed. Nothing is
 * fenced until this agent has held its lease, with the pool read, for a
 * whole lease: after an outage of etcd, the others get as long to come
 * back as their leases give them.
 */
static void
fence_check(struct pool_agent *a)
{
	int64_t now = xdc_ev_now();
	struct etcd_cmp cmp;
	struct etcd_op put;
	struct host *h;
	struct cas *c;
	size_t i;

	if (!a->a_synced || !lease_held(a) || a->a_ready_since == 0 ||
	    now - a->a_ready_since < a->a_ttl * 1000)
		return;
	for (i = 0; i < a->a_ndeclared; i++) {
		h = host_get(a, a->a_declared[i], 1);
		if (h->h_rec != NULL || h->h_fenced != NULL ||
		    !strcmp(h->h_name, a->a_self))
			continue;
		if (h->h_watchdog_ms > 0 && now >= h->h_lost_since +
		                                       h->h_watchdog_ms +
		                                       WATCHDOG_MARGIN) {
			mark_fenced(a, h->h_name, "watchdog");
			continue;
		}
		if (a->a_fence_cmd == NULL || a->a_fence != NULL ||
		    h->h_fencer != NULL || now < h->h_fence_retry)
			continue;
		/* One survivor fences: whoever creates P fencing/HOST. */
		c = xdc_calloc(1, sizeof(*c));
		c->cs_pa = a;
		c->cs_key = key_of(a, "fencing", h->h_name);
		c->cs_vm = xdc_strdup(h->h_name);
		memset(&cmp, 0, sizeof(cmp));
		cmp.cmp_key = c->cs_key;
		cmp.cmp_target = ETCD_CMP_CREATE;
		cmp.cmp_result = ETCD_EQUAL;
		memset(&put, 0, sizeof(put));
		put.op_kind = ETCD_PUT;
		put.op_key = c->cs_key;
		put.op_value = a->a_self;
		put.op_value_len = strlen(a->a_self);
		put.op_lease = a->a_lease;
		h->h_fence_retry = now + FENCE_RETRY_MS;
		if (etcd_txn(a->a_etcd, &cmp, 1, &put, 1, NULL, 0,
		        on_fence_lock, c) == NULL) {
			free(c->cs_key);
			free(c->cs_vm);
			free(c);
		}
		return; /* one at a time */
	}
}

/* ---- The tick --------------------------------------------------------- */

/* What failed is tried again, and lost hosts are looked at, each second. */
static void
on_tick(struct xdc_ev_timer *t, void *arg)
{
	struct pool_agent *a = arg;

	xdc_ev_timer_in(t, TICK_MS);
	start_range(a);
	if (a->a_o.pa_observer)
		return;
	lease_grant(a);
	publish_next(a);
	releases_retry(a);
	fence_check(a);
}

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

/* ---- The interface ---------------------------------------------------- */

int
pool_agent_new(
    struct xdc_ev *ev, const struct pool_agent_opts *o, struct pool_agent **out)
{
	struct pool_agent *a;
	int rc;

	*out = NULL;
	if (o->pa_lease_ms < 3000)
		return xdc_error(XDC_ERR,
		    "--lease: %lld ms is too short: at least 3s",
		    (long long)o->pa_lease_ms);
	if (o->pa_watchdog_ms > 0 && o->pa_watchdog_ms >= o->pa_lease_ms)
		return xdc_error(XDC_ERR,
		    "--watchdog: the watchdog's timeout (%lld ms) must be "
		    "shorter than the lease (%lld ms)",
		    (long long)o->pa_watchdog_ms, (long long)o->pa_lease_ms);
	a = xdc_calloc(1, sizeof(*a));
	a->a_o = *o;
	a->a_ev = ev;
	a->a_self = xdc_strdup(o->pa_host);
	a->a_fence_cmd =
	    o->pa_fence_command ? xdc_strdup(o->pa_fence_command) : NULL;
	xdc_asprintf(&a->a_prefix, "/xdc/%s/",
	    o->pa_pool != NULL && *o->pa_pool ? o->pa_pool : "default");
	a->a_ttl = (o->pa_lease_ms + 999) / 1000;
	if ((rc = etcd_new(ev, o->pa_endpoints, &o->pa_tls, &a->a_etcd)) != 0) {
		pool_agent_free(a, 0);
		return rc;
	}
	/* A request takes at most a third of the lease: a renewal retried
	 * once still lands in time. */
	etcd_set_timeouts(
	    a->a_etcd, (int)(a->a_ttl * 1000 / 3), (int)(a->a_ttl * 1000 / 6));
	set_why(a, "waiting for etcd at %s", o->pa_endpoints);
	a->a_renew_timer = xdc_ev_timer_new(ev, on_renew_timer, a);
	a->a_tick = xdc_ev_timer_new(ev, on_tick, a);
	xdc_ev_timer_in(a->a_tick, TICK_MS);
	start_range(a);
	if (o->pa_observer)
		goto out;
	if (o->pa_watchdog_ms > 0) {
		a->a_pet_timer = xdc_ev_timer_new(ev, on_pet, a);
		xdc_ev_timer_in(a->a_pet_timer, 0);
	}
	lease_grant(a);
out:
	*out = a;
	return 0;
}

void
pool_agent_free(struct pool_agent *a, int clean)
{
	size_t i;

	if (a == NULL)
		return;
	a->a_closing = 1;
	if (a->a_fence != NULL) {
		if (a->a_fence->f_pid > 0)
			kill(a->a_fence->f_pid, SIGKILL);
		fence_end(a, 0, "xdc stopped");
	}
	if (a->a_etcd != NULL && a->a_lease != 0) {
		struct etcd_req *r;

		etcd_set_timeouts(a->a_etcd, 1000, 500);
		r = etcd_lease_revoke(a->a_etcd, a->a_lease, on_deleted, NULL);
		if (r != NULL)
			(void)etcd_wait(a->a_etcd, r);
	}
	if (clean && a->a_o.pa_watchdog_ms > 0 && a->a_o.pa_pet != NULL)
		(void)a->a_o.pa_pet(a->a_o.pa_arg, 0);
	while (a->a_ncas > 0)
		cas_end(a, a->a_cas[a->a_ncas - 1]);
	free(a->a_cas);
	a->a_lease = 0;
	releases_retry(a); /* all dropped: no lease */
	free(a->a_rel);
	if (a->a_watch != NULL)
		etcd_watch_free(a->a_watch);
	etcd_free(a->a_etcd);
	for (i = 0; i < a->a_nhosts; i++) {
		rec_unref(a->a_hosts[i].h_rec);
		free(a->a_hosts[i].h_name);
		free(a->a_hosts[i].h_fenced);
		free(a->a_hosts[i].h_fencer);
	}
	free(a->a_hosts);
	while (a->a_nclaims > 0)
		claim_set(a, a->a_claims[0].c_vm, NULL);
	free(a->a_claims);
	for (i = 0; i < a->a_nslots; i++)
		slot_free(&a->a_slots[i]);
	free(a->a_slots);
	while (a->a_nbusy > 0)
		busy_drop(a, a->a_busy[0].b_vm);
	free(a->a_busy);
	xdc_ev_timer_free(a->a_renew_timer);
	xdc_ev_timer_free(a->a_pet_timer);
	xdc_ev_timer_free(a->a_tick);
	for (i = 0; i < a->a_ndeclared; i++)
		free(a->a_declared[i]);
	free(a->a_declared);
	free(a->a_published);
	free(a->a_pending);
	free(a->a_why);
	free(a->a_prefix);
	free(a->a_self);
	free(a->a_fence_cmd);
	free(a);
}

int
pool_agent_ready(const struct pool_agent *a, const char **why)
{
	if (a->a_synced && (a->a_o.pa_observer || lease_held(a))) {
		*why = NULL;
		return 1;
	}
	*why = a->a_why != NULL ? a->a_why
	       : !a->a_synced   ? "reading the pool from etcd"
	                        : "renewing the lease";
	return 0;
}

void
pool_agent_publish(struct pool_agent *a, const struct xdc_obs_host *h,
    const char *path, const char *commit)
{
	const struct xdc_obs_domain *d;
	const char *holder;
	char *text;
	size_t i;
	int armed;

	if (a->a_o.pa_observer)
		return;
	/*
	 * Survivors count on a published watchdog to have rebooted this
	 * host: only one armed, and petted in time, is published.
	 */
	armed = a->a_o.pa_watchdog_ms > 0 && a->a_petted != 0 &&
	        !watchdog_lapsed(a);
	text = pool_record_text(
	    h, path, commit, armed ? a->a_o.pa_watchdog_ms : 0);
	if (text == NULL)
		return;
	free(a->a_pending);
	a->a_pending = text;
	publish_next(a);
	/* What this host runs and nobody claims is claimed for it. */
	if (!a->a_synced || a->a_lease == 0)
		return;
	for (i = 0; i < h->oh_ndomains; i++) {
		d = &h->oh_domains[i];
		if (!d->od_managed || d->od_domid == 0 ||
		    (d->od_state != XDC_DOM_RUNNING &&
		        d->od_state != XDC_DOM_PAUSED))
			continue;
		holder = claim_holder(a, d->od_name);
		if (holder == NULL)
			claim_take(a, d->od_name);
	}
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

static int
runs_somewhere(const struct xdc_observed *obs, const char *vm)
{
	const struct xdc_obs_domain *d;
	size_t i;

	for (i = 0; i < obs->obs_nhosts; i++) {
		d = xdc_obs_host_domain(&obs->obs_hosts[i], vm);
		if (d != NULL && (d->od_state == XDC_DOM_RUNNING ||
		                     d->od_state == XDC_DOM_PAUSED))
			return 1;
	}
	return 0;
}

/*
 * This host's slots outlive the action that took them while the VM is
 * down elsewhere: a VM moved away (destroyed here, created on another
 * host) is still disrupted until it runs there. A slot taken for an
 * action is kept until that action ends (pool_agent_done), though the VM
 * runs until the action stops it: the cycle that follows the taking
 * plans before it starts it. A slot goes back here once its VM runs on
 * some live host and no action wants it (moved away, or not asked for by
 * the last two plans), or once its VM is no longer declared.
 */
static void
slots_settle(struct pool_agent *a, const struct xdc_config *cfg,
    const struct xdc_observed *obs)
{
	struct slot *sl;
	struct busy *b;
	char *key, *val;
	size_t i;

	for (i = 0; i < a->a_nslots; i++) {
		sl = &a->a_slots[i];
		if (strcmp(sl->s_host, a->a_self) != 0 ||
		    cas_find(a, sl->s_vm, 1) != NULL)
			continue;
		b = busy_find(a, sl->s_vm);
		if (xdc_config_vm(cfg, sl->s_vm) != NULL) {
			if (!runs_somewhere(obs, sl->s_vm))
				continue;
			if (b != NULL && !b->b_moved &&
			    (b->b_started || b->b_gen + 2 >= a->a_gen))
				continue;
		}
		busy_drop(a, sl->s_vm);
		xdc_asprintf(
		    &key, "%sbudget/%s/%u", a->a_prefix, sl->s_sla, sl->s_k);
		val = slot_value(a, sl->s_vm);
		cas_release(a, key, val);
		free(key);
		free(val);
	}
}

/*
 * This host's claims of VMs it does not have: a claim taken for a start
 * that its plan then gave up (the set of lost hosts changed between the
 * claim and the start, so placement did) goes back once no plan has asked
 * for it for two snapshots; otherwise the VM could start nowhere else.
 */
static void
claims_settle(struct pool_agent *a, const struct xdc_observed *obs)
{
	const struct xdc_obs_host *self = xdc_observed_host(obs, a->a_self);
	const struct busy *b;
	char *key;
	size_t i;

	if (self == NULL)
		return; /* not observed: nothing to say */
	for (i = 0; i < a->a_nclaims; i++) {
		if (strcmp(a->a_claims[i].c_host, a->a_self) != 0 ||
		    xdc_obs_host_domain(self, a->a_claims[i].c_vm) != NULL ||
		    cas_find(a, a->a_claims[i].c_vm, 0) != NULL)
			continue;
		b = busy_find(a, a->a_claims[i].c_vm);
		if (b != NULL && (b->b_started || b->b_gen + 2 >= a->a_gen))
			continue;
		key = key_of(a, "claims", a->a_claims[i].c_vm);
		cas_release(a, key, a->a_self);
		free(key);
	}
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
	fence_check(a);
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
		h = host_get(a, cfg->cfg_hosts[i].h_name, 1);
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
	slots_settle(a, cfg, obs);
	claims_settle(a, obs);
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
		rec_unref(s->ps_recs[i]);
	free(s->ps_recs);
	xdc_arena_free(s->ps_arena);
	free(s);
}

/* How many of the SLA's VMs may be disrupted at once, by the config. */
static long
slot_count(const struct xdc_config *cfg, const struct xdc_sla *sla)
{
	size_t i, si = (size_t)(sla - cfg->cfg_slas), selected = 0;

	for (i = 0; i < cfg->cfg_nvms; i++)
		if (cfg->cfg_vms[i].vm_sla[XDC_POL_MIN_RUNNING] == si)
			selected++;
	return (long)selected - (long)sla->s_min_running;
}

static int
needs_claim(const struct xdc_action *a)
{
	return a->a_kind == XDC_OBJ_VM &&
	       (a->a_op == XDC_OP_CREATE || a->a_op == XDC_OP_START ||
	           a->a_op == XDC_OP_RESTART || a->a_op == XDC_OP_REPLACE);
}

int
pool_agent_gate(struct pool_agent *a, const struct xdc_config *cfg,
    const struct xdc_plan *plan, size_t i, const char **why)
{
	const struct xdc_action *act = plan_action(plan, i);
	const struct xdc_vm *vm;
	const struct xdc_sla *sla;
	const char *holder;
	long nslots, held = 0;
	unsigned k;
	size_t j;
	char *key, *val, *msg;
	uint8_t *used;
	const char *ready_why;
	struct busy *b;

	*why = NULL;
	if (act->a_kind != XDC_OBJ_VM || act->a_host == NULL ||
	    strcmp(act->a_host, a->a_self) != 0)
		return 0;
	if (!pool_agent_ready(a, &ready_why)) {
		*why = ready_why;
		return 1;
	}
	if (needs_claim(act) && watchdog_lapsed(a)) {
		*why = "this host's watchdog went unpetted past its timeout: "
		       "the host has rebooted; waiting for the lease";
		return 1;
	}
	if (needs_claim(act)) {
		busy_want(a, act->a_name); /* claims_settle keeps its claim */
		holder = claim_holder(a, act->a_name);
		if (holder != NULL && strcmp(holder, a->a_self) != 0) {
			free(a->a_why);
			xdc_asprintf(&a->a_why, "%s is claimed by host %s",
			    act->a_name, holder);
			*why = a->a_why;
			return 1;
		}
		if (holder == NULL) {
			claim_take(a, act->a_name);
			*why = "taking its claim in etcd";
			return 1;
		}
	}
	vm = xdc_config_vm(cfg, act->a_name);
	if (!act->a_disruptive || vm == NULL ||
	    vm->vm_sla[XDC_POL_MIN_RUNNING] == XDC_NO_SLA) {
		if ((b = busy_find(a, act->a_name)) != NULL)
			b->b_started = 1;
		return 0;
	}
	sla = &cfg->cfg_slas[vm->vm_sla[XDC_POL_MIN_RUNNING]];
	nslots = slot_count(cfg, sla);
	for (j = 0; j < a->a_nslots; j++) {
		if (strcmp(a->a_slots[j].s_sla, sla->s_name) != 0)
			continue;
		if (!strcmp(a->a_slots[j].s_vm, act->a_name) &&
		    !strcmp(a->a_slots[j].s_host, a->a_self)) {
			/* Ours already: kept until the action ends. */
			busy_want(a, act->a_name)->b_started = 1;
			return 0;
		}
		held++;
	}
	busy_want(a, act->a_name);
	if (cas_find(a, act->a_name, 1) != NULL) {
		*why = "taking a slot of its SLA's budget in etcd";
		return 1;
	}
	if (nslots <= 0 || held >= nslots) {
		xdc_asprintf(&msg,
		    "sla %s: its budget of %ld disruption%s at once is in use "
		    "by other hosts",
		    sla->s_name, nslots > 0 ? nslots : 0,
		    nslots == 1 ? "" : "s");
		free(a->a_why);
		a->a_why = msg;
		*why = a->a_why;
		return 1;
	}
	/* The first slot free in this copy; the txn says if it still is. */
	used = xdc_calloc((size_t)nslots + 1, 1);
	for (j = 0; j < a->a_nslots; j++)
		if (!strcmp(a->a_slots[j].s_sla, sla->s_name) &&
		    a->a_slots[j].s_k < (unsigned)nslots)
			used[a->a_slots[j].s_k] = 1;
	for (k = 0; k < (unsigned)nslots && used[k]; k++)
		;
	free(used);
	if (k == (unsigned)nslots) {
		*why = "its SLA's budget is in use";
		return 1;
	}
	xdc_asprintf(&key, "%sbudget/%s/%u", a->a_prefix, sla->s_name, k);
	val = slot_value(a, act->a_name);
	(void)cas_create(a, key, act->a_name, val, 1);
	free(key);
	free(val);
	*why = "taking a slot of its SLA's budget in etcd";
	return 1;
}

/*
 * Whether destroying act's VM here is a move: the configuration still
 * declares it, so it is to run elsewhere (an agent's plan of its own part
 * need not hold the create on the other host), or plan creates it there.
 */
static int
moves_away(const struct xdc_config *cfg, const struct xdc_plan *plan,
    const struct xdc_action *act)
{
	const struct xdc_action *b;
	size_t i;

	if (cfg != NULL && xdc_config_vm(cfg, act->a_name) != NULL)
		return 1;
	for (i = 0; i < plan_count(plan); i++) {
		b = plan_action(plan, i);
		if (b->a_kind == XDC_OBJ_VM && b->a_op == XDC_OP_CREATE &&
		    !strcmp(b->a_name, act->a_name) && b->a_host != NULL &&
		    strcmp(b->a_host, act->a_host) != 0)
			return 1;
	}
	return 0;
}

void
pool_agent_done(struct pool_agent *a, const struct xdc_config *cfg,
    const struct xdc_plan *plan, size_t i, int done)
{
	const struct xdc_action *act = plan_action(plan, i);
	struct busy *b;
	char *key, *val;
	size_t j;

	if (act->a_kind != XDC_OBJ_VM || act->a_host == NULL ||
	    strcmp(act->a_host, a->a_self) != 0)
		return;
	/*
	 * The slot goes back once the VM runs again, or the action failed;
	 * a VM destroyed here to move to another host keeps it until it runs
	 * there (slots_settle).
	 */
	if (done && act->a_op == XDC_OP_DESTROY && moves_away(cfg, plan, act)) {
		if ((b = busy_find(a, act->a_name)) != NULL) {
			b->b_moved = 1;
			b->b_started = 0;
		}
		goto claims;
	}
	busy_drop(a, act->a_name);
	for (j = 0; j < a->a_nslots; j++) {
		if (strcmp(a->a_slots[j].s_vm, act->a_name) != 0 ||
		    strcmp(a->a_slots[j].s_host, a->a_self) != 0)
			continue;
		xdc_asprintf(&key, "%sbudget/%s/%u", a->a_prefix,
		    a->a_slots[j].s_sla, a->a_slots[j].s_k);
		val = slot_value(a, act->a_name);
		cas_release(a, key, val);
		free(key);
		free(val);
	}
claims:
	/*
	 * Gone from here, by a destroy or a live migration: the claim goes
	 * back; the host it runs on now claims it when it publishes it
	 * running (a claim is held under its holder's own lease).
	 */
	if (done &&
	    (act->a_op == XDC_OP_DESTROY || act->a_op == XDC_OP_MIGRATE) &&
	    claim_holder(a, act->a_name) != NULL &&
	    !strcmp(claim_holder(a, act->a_name), a->a_self)) {
		key = key_of(a, "claims", act->a_name);
		cas_release(a, key, a->a_self);
		free(key);
	}
}

void
pool_agent_stats(const struct pool_agent *a, const struct xdc_config *cfg,
    struct pool_agent_stats *st)
{
	const struct host *h;
	size_t i;

	memset(st, 0, sizeof(*st));
	for (i = 0; cfg != NULL && i < cfg->cfg_nhosts; i++) {
		h = host_get((struct pool_agent *)(uintptr_t)a,
		    cfg->cfg_hosts[i].h_name, 0);
		if (h == NULL || h->h_rec == NULL) {
			if (!strcmp(cfg->cfg_hosts[i].h_name, a->a_self) &&
			    lease_held(a))
				st->ps_live++;
			else if (h != NULL && h->h_fenced != NULL)
				st->ps_fenced++;
			else
				st->ps_lost++;
		} else {
			st->ps_live++;
		}
	}
	for (i = 0; i < a->a_nslots; i++)
		st->ps_slots_held += !strcmp(a->a_slots[i].s_host, a->a_self);
	for (i = 0; i < a->a_nclaims; i++)
		st->ps_claims_held += !strcmp(a->a_claims[i].c_host, a->a_self);
	st->ps_fence_attempts = a->a_fence_attempts;
	st->ps_fence_failures = a->a_fence_failures;
	st->ps_fence_successes = a->a_fence_successes;
	st->ps_lease = a->a_lease;
	etcd_stats(a->a_etcd, &st->ps_etcd);
	st->ps_renew_rtt_us = st->ps_etcd.st_keepalive_rtt_us;
}

void
pool_agent_hosts(const struct pool_agent *a, const struct xdc_config *cfg,
    void (*fn)(void *, const char *, int, int, const struct xdc_obs_host *,
        const char *, const char *),
    void *arg)
{
	struct pool_agent *m = (struct pool_agent *)(uintptr_t)a;
	const struct host *h;
	size_t i;

	for (i = 0; cfg != NULL && i < cfg->cfg_nhosts; i++)
		(void)host_get(m, cfg->cfg_hosts[i].h_name, 1);
	for (i = 0; i < a->a_nhosts; i++) {
		h = &a->a_hosts[i];
		fn(arg, h->h_name, h->h_rec != NULL, h->h_fenced != NULL,
		    h->h_rec ? &h->h_rec->r_obs : NULL,
		    h->h_rec ? h->h_rec->r_path : NULL,
		    h->h_rec ? h->h_rec->r_commit : NULL);
	}
}

const char *
pool_agent_prefix(const struct pool_agent *a)
{
	return a->a_prefix;
}
