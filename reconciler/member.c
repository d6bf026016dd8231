/*
 * This agent's membership of the pool (see member.h): the pool agent's
 * options from the command line, its callbacks (log lines, the watchdog,
 * changes) and the pool's part of the status.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "base/ev.h"
#include "drivers/driver.h"
#include "planner/plan.h"
#include "pool/agent.h"
#include "reconciler/cli.h"
#include "reconciler/log.h"
#include "reconciler/member.h"
#include "reconciler/session.h"
#include "schema/model.h"

struct member {
	struct session *m_se;
	struct xdc_ev *m_ev;
	struct pool_agent *m_agent;
	void (*m_changed)(void *);
	void *m_arg;
	int m_pet_failed; /* said once */
};

static const int log_levels[] = {
	[POOL_LOG_DEBUG] = LOG_DEBUG,
	[POOL_LOG_INFO] = LOG_INFO,
	[POOL_LOG_WARN] = LOG_WARN,
	[POOL_LOG_ERROR] = LOG_ERROR,
};

static void
on_log(void *arg, int level, const char *msg, const char *k1, const char *v1,
    const char *k2, const char *v2, const char *k3, const char *v3)
{
	struct logline ll;

	(void)arg;
	if (level < POOL_LOG_DEBUG || level > POOL_LOG_ERROR)
		level = POOL_LOG_INFO;
	log_begin(&ll, log_levels[level], msg);
	log_str(&ll, "component", "pool");
	if (k1 != NULL)
		log_str(&ll, k1, v1);
	if (k2 != NULL)
		log_str(&ll, k2, v2);
	if (k3 != NULL)
		log_str(&ll, k3, v3);
	log_end(&ll);
}

static void
on_changed(void *arg)
{
	struct member *m = arg;

	if (m->m_changed != NULL)
		m->m_changed(m->m_arg);
}

/*
 * The watchdog is the host's, reached through the driver of the moment:
 * a driver reopened by a new configuration is petted from then on. A
 * driver that has none, or fails, is said once: the host then relies on
 * the fence command.
 */
static int
on_pet(void *arg, int64_t timeout_ms)
{
	struct member *m = arg;
	struct xdc_driver *drv = m->m_se->se_drv;
	int rc;

	if (drv == NULL)
		return XDC_ERETRY;
	if (drv->watchdog == NULL)
		rc = xdc_error(
		    XDC_ERR, "the %s driver has no watchdog", drv->name);
	else
		rc = drv->watchdog(drv, timeout_ms);
	if (rc != 0 && !m->m_pet_failed)
		log_err(LOG_ERROR, "watchdog not armed", xdc_error_last());
	else if (rc == 0 && m->m_pet_failed)
		log_err(LOG_INFO, "watchdog armed again", NULL);
	m->m_pet_failed = rc != 0;
	return rc;
}

int
member_open(struct session *se, struct xdc_ev *ev, const char *host,
    int observer, void (*changed)(void *), void *arg, struct member **out)
{
	const struct cli *cli = se->se_cli;
	struct pool_agent_opts o;
	struct member *m;
	char name[256];
	int rc;

	*out = NULL;
	/* Without --host, the machine's name, as for Hosts (SPEC §5). */
	if (host == NULL) {
		if (gethostname(name, sizeof(name) - 1) != 0)
			return xdc_error_sys(
			    XDC_ERR, "--etcd: this host's name (gethostname)");
		name[sizeof(name) - 1] = '\0';
		host = name;
	}
	m = xdc_calloc(1, sizeof(*m));
	m->m_se = se;
	m->m_ev = ev;
	m->m_changed = changed;
	m->m_arg = arg;
	memset(&o, 0, sizeof(o));
	o.pa_endpoints = cli->cl_etcd;
	o.pa_tls.tls_cacert = cli->cl_etcd_cacert;
	o.pa_tls.tls_cert = cli->cl_etcd_cert;
	o.pa_tls.tls_key = cli->cl_etcd_key;
	o.pa_pool = cli->cl_pool;
	o.pa_host = host;
	o.pa_lease_ms = cli->cl_lease_ms > 0 ? cli->cl_lease_ms : CLI_LEASE_MS;
	o.pa_observer = observer;
	if (!observer) {
		o.pa_fence_command = cli->cl_fence_command;
		/* --watchdog without a value: half the lease. */
		o.pa_watchdog_ms = cli->cl_watchdog_ms < 0
		                       ? o.pa_lease_ms / 2
		                       : cli->cl_watchdog_ms;
		o.pa_pet = on_pet;
	}
	o.pa_changed = on_changed;
	o.pa_log = on_log;
	o.pa_arg = m;
	if ((rc = pool_agent_new(ev, &o, &m->m_agent)) != 0) {
		free(m);
		return rc;
	}
	se->se_pool = m->m_agent;
	*out = m;
	return 0;
}

void
member_free(struct member *m, int clean)
{
	if (m == NULL)
		return;
	if (m->m_se->se_pool == m->m_agent)
		m->m_se->se_pool = NULL;
	pool_agent_free(m->m_agent, clean);
	free(m);
}

int
member_wait_ready(struct member *m, int64_t timeout_ms)
{
	int64_t end = xdc_ev_now() + timeout_ms, left;
	const char *why;

	while (!pool_agent_ready(m->m_agent, &why)) {
		if ((left = end - xdc_ev_now()) <= 0)
			return xdc_error(XDC_ERETRY,
			    "etcd at %s: no pool view after %llds: %s",
			    m->m_se->se_cli->cl_etcd,
			    (long long)timeout_ms / 1000, why);
		if (xdc_ev_run_once(m->m_ev, (int)(left > 200 ? 200 : left)) <
		    0)
			return xdc_error(XDC_ERR, "the event loop failed: %s",
			    xdc_error_last());
	}
	return 0;
}

/* ---- The status ------------------------------------------------------- */

struct hosts_arg {
	json_t *ha_hosts;
	const struct xdc_config *ha_cfg;
};

static void
host_state(void *arg, const char *host, int live, int fenced,
    const struct xdc_obs_host *obs, const char *path, const char *commit)
{
	struct hosts_arg *ha = arg;
	const struct xdc_host *h = xdc_config_host(ha->ha_cfg, host);

	(void)obs;
	(void)path;
	(void)commit;
	/* A host the configuration does not declare is not the pool's. */
	if (h == NULL)
		return;
	json_object_set_new(ha->ha_hosts, host,
	    json_string(live     ? "live"
	                : fenced ? "fenced"
	                         : "lost"));
}

json_t *
member_status(const struct member *m, const struct xdc_config *cfg,
    const struct xdc_plan *plan)
{
	struct pool_agent_stats st;
	struct hosts_arg ha;
	json_t *o, *fences;
	const char *why;
	char lease[32];

	pool_agent_stats(m->m_agent, cfg, &st);
	o = json_object();
	json_object_set_new(o, "etcd", json_string(m->m_se->se_cli->cl_etcd));
	json_object_set_new(o, "pool",
	    json_string(m->m_se->se_cli->cl_pool != NULL
	                    ? m->m_se->se_cli->cl_pool
	                    : "default"));
	json_object_set_new(
	    o, "ready", json_boolean(pool_agent_ready(m->m_agent, &why)));
	json_object_set_new(o, "waiting", why ? json_string(why) : json_null());
	snprintf(lease, sizeof(lease), "%llx", (long long)st.ps_lease);
	json_object_set_new(
	    o, "lease", st.ps_lease ? json_string(lease) : json_null());
	json_object_set_new(o, "live", json_integer((json_int_t)st.ps_live));
	json_object_set_new(o, "lost", json_integer((json_int_t)st.ps_lost));
	json_object_set_new(
	    o, "fenced", json_integer((json_int_t)st.ps_fenced));
	ha.ha_hosts = json_object();
	ha.ha_cfg = cfg;
	if (cfg != NULL)
		pool_agent_hosts(m->m_agent, cfg, host_state, &ha);
	json_object_set_new(o, "hosts", ha.ha_hosts);
	json_object_set_new(
	    o, "claims", json_integer((json_int_t)st.ps_claims_held));
	json_object_set_new(
	    o, "slots", json_integer((json_int_t)st.ps_slots_held));
	json_object_set_new(o, "failovers",
	    json_integer(plan ? (json_int_t)plan_nfailovers(plan) : 0));
	fences = json_object();
	json_object_set_new(
	    fences, "attempts", json_integer((json_int_t)st.ps_fence_attempts));
	json_object_set_new(fences, "succeeded",
	    json_integer((json_int_t)st.ps_fence_successes));
	json_object_set_new(
	    fences, "failed", json_integer((json_int_t)st.ps_fence_failures));
	json_object_set_new(o, "fences", fences);
	json_object_set_new(o, "renew_rtt_seconds",
	    st.ps_renew_rtt_us >= 0
	        ? json_real((double)st.ps_renew_rtt_us / 1e6)
	        : json_null());
	return o;
}
