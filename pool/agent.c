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
 *
 * This file is the agent's own part: its lease, the petting of the
 * watchdog, publishing this host's record, the tick that tries again what
 * failed, and agent.h's interface but for the snapshot (agent_view.c:
 * the records, the copy of the pool, reading and watching it) and
 * pool_agent_gate and pool_agent_done (agent_cas.c: claims and budget
 * slots by compare-and-swap). Fencing is in agent_fence.c; what the
 * files share is in agent_priv.h.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/error.h"
#include "base/ev.h"
#include "drivers/obs_json.h"
#include "pool/agent.h"
#include "pool/agent_priv.h"
#include "pool/record.h"
#include "schema/model.h"

#define TICK_MS 1000 /* lost hosts are looked at this often */

static void lease_grant(struct pool_agent *);
static void publish_next(struct pool_agent *);

/* ---- Small helpers ---------------------------------------------------- */

void
agent_log(const struct pool_agent *a, int level, const char *msg,
    const char *k1, const char *v1, const char *k2, const char *v2,
    const char *k3, const char *v3)
{
	if (a->a_o.pa_log != NULL)
		a->a_o.pa_log(
		    a->a_o.pa_arg, level, msg, k1, v1, k2, v2, k3, v3);
}

void
agent_changed(struct pool_agent *a)
{
	if (a->a_o.pa_changed != NULL)
		a->a_o.pa_changed(a->a_o.pa_arg);
}

void
agent_set_why(struct pool_agent *a, const char *fmt, ...)
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

char *
agent_key_of(const struct pool_agent *a, const char *kind, const char *name)
{
	char *k = NULL;

	xdc_asprintf(&k, "%s%s/%s", a->a_prefix, kind, name);
	return k;
}

int
agent_lease_held(const struct pool_agent *a)
{
	return a->a_lease != 0 && xdc_ev_now() - a->a_renewed < a->a_ttl * 1000;
}

/* ---- The lease -------------------------------------------------------- */

void
agent_on_deleted(struct etcd_req *req, const struct etcd_result *res, void *arg)
{
	(void)req;
	(void)res;
	(void)arg;
}

static void
lease_lost(struct pool_agent *a, const char *why)
{
	agent_log(a, POOL_LOG_ERROR, "lease lost", "lease", NULL, "why", why,
	    NULL, NULL);
	a->a_lease = 0;
	a->a_ready_since = 0;
	a->a_rejoin_domid = 0;
	a->a_rejoin_set = 0;
	while (a->a_nbusy > 0)
		agent_cas_busy_drop(a, a->a_busy[0].b_vm);
	free(a->a_published);
	a->a_published = NULL;
	/*
	 * The copy of the pool still lists this host's claims, which went
	 * with the lease, and may miss what others did while it could not
	 * be renewed (the watch resumes late on a link just back): a VM
	 * started on such a claim, without asking etcd, runs beside the
	 * copy of the host that took it since. Read the pool again first.
	 */
	agent_view_resync(a);
	agent_set_why(a, "the lease is lost (%s): taking a new one", why);
	agent_changed(a);
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
	agent_log(a, POOL_LOG_WARN, "lease renewal failed", "error",
	    res->res_error, NULL, NULL, NULL, NULL);
	if (!agent_lease_held(a) && a->a_lease != 0)
		agent_set_why(a, "the lease could not be renewed for %llds: %s",
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
		agent_set_why(
		    a, "cannot take a lease in etcd: %s", res->res_error);
		agent_log(a, POOL_LOG_WARN, "lease grant failed", "error",
		    res->res_error, NULL, NULL, NULL, NULL);
		return; /* the tick tries again */
	}
	a->a_lease = res->res_lease;
	a->a_renewed = xdc_ev_now();
	snprintf(id, sizeof(id), "%llx", (long long)a->a_lease);
	agent_log(a, POOL_LOG_INFO, "lease granted", "lease", id, "endpoint",
	    res->res_endpoint, NULL, NULL);
	agent_set_why(a, NULL);
	/* Back: whatever said this host was off is over. */
	k = agent_key_of(a, "fenced", a->a_self);
	etcd_delete(a->a_etcd, k, 0, agent_on_deleted, NULL);
	free(k);
	xdc_ev_timer_in(a->a_renew_timer, a->a_ttl * 1000 / 3);
	if (a->a_synced && a->a_ready_since == 0)
		a->a_ready_since = xdc_ev_now();
	publish_next(a);
	agent_changed(a);
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
		agent_changed(a);
}

/*
 * Whether this host's watchdog, armed, went unpetted for its timeout: its
 * host has rebooted (on Xen the agent with it; the sim's agent lives on).
 * Whatever it would start now, under claims taken before, runs beside
 * the copies the survivors start once the lease has expired.
 */
int
agent_watchdog_lapsed(const struct pool_agent *a)
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
		agent_log(a, POOL_LOG_WARN, "publish failed", "error",
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
	k = agent_key_of(a, "hosts", a->a_self);
	a->a_put = etcd_put(a->a_etcd, k, a->a_published,
	    strlen(a->a_published), a->a_lease, on_put, a);
	free(k);
}

/* ---- The tick --------------------------------------------------------- */

/* What failed is tried again, and lost hosts are looked at, each second. */
static void
on_tick(struct xdc_ev_timer *t, void *arg)
{
	struct pool_agent *a = arg;

	xdc_ev_timer_in(t, TICK_MS);
	agent_view_start_range(a);
	if (a->a_o.pa_observer)
		return;
	lease_grant(a);
	publish_next(a);
	agent_cas_releases_retry(a);
	agent_fence_check(a);
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
	agent_request_limits(a, 0);
	agent_set_why(a, "waiting for etcd at %s", o->pa_endpoints);
	a->a_renew_timer = xdc_ev_timer_new(ev, on_renew_timer, a);
	a->a_tick = xdc_ev_timer_new(ev, on_tick, a);
	xdc_ev_timer_in(a->a_tick, TICK_MS);
	agent_view_start_range(a);
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
		agent_fence_end(a, 0, "xdc stopped");
	}
	if (a->a_etcd != NULL && a->a_lease != 0) {
		struct etcd_req *r;

		etcd_set_timeouts(a->a_etcd, 1000, 500);
		r = etcd_lease_revoke(
		    a->a_etcd, a->a_lease, agent_on_deleted, NULL);
		if (r != NULL)
			(void)etcd_wait(a->a_etcd, r);
	}
	if (clean && a->a_o.pa_watchdog_ms > 0 && a->a_o.pa_pet != NULL)
		(void)a->a_o.pa_pet(a->a_o.pa_arg, 0);
	while (a->a_ncas > 0)
		agent_cas_end(a, a->a_cas[a->a_ncas - 1]);
	free(a->a_cas);
	a->a_lease = 0;
	agent_cas_releases_retry(a); /* all dropped: no lease */
	free(a->a_rel);
	if (a->a_watch != NULL)
		etcd_watch_free(a->a_watch);
	etcd_free(a->a_etcd);
	agent_view_range_forget(a); /* a range etcd_free cut short */
	for (i = 0; i < a->a_nhosts; i++) {
		agent_view_rec_unref(a->a_hosts[i].h_rec);
		free(a->a_hosts[i].h_name);
		free(a->a_hosts[i].h_fenced);
		free(a->a_hosts[i].h_fencer);
	}
	free(a->a_hosts);
	while (a->a_nclaims > 0)
		agent_view_claim_set(a, a->a_claims[0].c_vm, NULL);
	free(a->a_claims);
	for (i = 0; i < a->a_nslots; i++)
		agent_view_slot_free(&a->a_slots[i]);
	free(a->a_slots);
	while (a->a_nbusy > 0)
		agent_cas_busy_drop(a, a->a_busy[0].b_vm);
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
	if (a->a_synced && (a->a_o.pa_observer || agent_lease_held(a))) {
		*why = NULL;
		return 1;
	}
	*why = a->a_why != NULL ? a->a_why
	       : !a->a_synced   ? "reading the pool from etcd"
	                        : "renewing the lease";
	return 0;
}

/*
 * A request takes at most a third of the lease, so that a renewal retried
 * once still lands in time; a connection a sixth. long_ms > 0: for the
 * requests started until the next call, that much, or two leases if
 * longer (the one read of the whole pool).
 */
void
agent_request_limits(struct pool_agent *a, int64_t long_ms)
{
	int64_t lease_ms = a->a_ttl * 1000;
	int64_t req_ms = lease_ms / 3;

	if (long_ms > 0)
		req_ms = 2 * lease_ms > long_ms ? 2 * lease_ms : long_ms;
	etcd_set_timeouts(a->a_etcd, (int)req_ms, (int)(lease_ms / 6));
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
	        !agent_watchdog_lapsed(a);
	text = pool_record_text(
	    h, path, commit, armed ? a->a_o.pa_watchdog_ms : 0);
	if (text == NULL)
		return;
	free(a->a_pending);
	a->a_pending = text;
	publish_next(a);
	if (!a->a_synced || a->a_lease == 0)
		return;
	/* What it ran as it (re)joined: what the rejoin rule weighs. */
	if (!a->a_rejoin_set) {
		a->a_rejoin_set = 1;
		a->a_rejoin_domid = 0; /* dom0 alone: nothing to weigh */
		for (i = 0; i < h->oh_ndomains; i++)
			if (h->oh_domains[i].od_domid > a->a_rejoin_domid)
				a->a_rejoin_domid = h->oh_domains[i].od_domid;
	}
	/* What this host runs and nobody claims is claimed for it. */
	for (i = 0; i < h->oh_ndomains; i++) {
		d = &h->oh_domains[i];
		if (!d->od_managed || d->od_domid == 0 ||
		    (d->od_state != XDC_DOM_RUNNING &&
		        d->od_state != XDC_DOM_PAUSED))
			continue;
		holder = agent_view_claim_holder(a, d->od_name);
		if (holder == NULL)
			agent_cas_claim_take(a, d->od_name);
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
		h = agent_view_host_get((struct pool_agent *)(uintptr_t)a,
		    cfg->cfg_hosts[i].h_name, 0);
		if (h == NULL || h->h_rec == NULL) {
			if (!strcmp(cfg->cfg_hosts[i].h_name, a->a_self) &&
			    agent_lease_held(a))
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
		(void)agent_view_host_get(m, cfg->cfg_hosts[i].h_name, 1);
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
