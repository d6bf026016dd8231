/*
 * A scope's teardown (see teardown.h). The configuration it is planned
 * with is made as YAML and loaded as any other, so that it is checked as
 * any other: a Scope of the scope's name and Hosts. Names are DNS labels,
 * so quoting them is all the YAML needs ("null" is a name).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "drivers/driver.h"
#include "planner/plan.h"
#include "reconciler/session.h"
#include "reconciler/teardown.h"
#include "schema/schema.h"

/* What the made configuration is called in messages. */
#define TEARDOWN_FILE "(xdc destroy)"

static void
add_host(char **buf, const char *name)
{
	char *next;

	xdc_asprintf(&next, "%s---\nkind: Host\nname: \"%s\"\n", *buf, name);
	free(*buf);
	*buf = next;
}

/*
 * The Scope, and the Hosts of hosts or, without it, the hosts obs holds
 * (none when that is the implicit local host alone).
 */
static int
teardown_config(const char *scope, const struct xdc_config *hosts,
    const struct xdc_observed *obs, struct xdc_config **out,
    struct xdc_diags *diags)
{
	struct schema_loader *sl;
	char *buf = NULL;
	size_t i;

	xdc_asprintf(&buf, "kind: Scope\nname: \"%s\"\n", scope);
	if (hosts != NULL) {
		for (i = 0; i < hosts->cfg_nhosts; i++)
			add_host(&buf, hosts->cfg_hosts[i].h_name);
	} else if (!(obs->obs_nhosts == 1 &&
	               !strcmp(obs->obs_hosts[0].oh_name, XDC_LOCAL_HOST))) {
		for (i = 0; i < obs->obs_nhosts; i++)
			add_host(&buf, obs->obs_hosts[i].oh_name);
	}
	sl = schema_loader_new(TEARDOWN_FILE, diags);
	schema_loader_add(sl, TEARDOWN_FILE, buf, strlen(buf));
	free(buf);
	return schema_loader_finish(sl, out);
}

int
teardown_plan(struct session *s, const char *scope,
    const struct xdc_config *hosts, const char *why, struct xdc_config **cfg,
    struct xdc_observed **obs, struct xdc_plan **plan, struct xdc_diags *diags)
{
	int rc;

	*cfg = NULL;
	*plan = NULL;
	if ((rc = session_observe(s, NULL, obs)) != 0)
		return rc;
	if ((rc = teardown_config(scope, hosts, *obs, cfg, diags)) != 0)
		return rc == XDC_EINVALID
		           ? rc
		           : xdc_error(XDC_EINVALID, "%s", xdc_error_last());
	return session_plan_obs(s, *cfg, NULL, *obs, why, plan, diags);
}

void
teardown_expired(const struct xdc_observed *obs, time_t now, const char *skip,
    struct teardown_expired **out, size_t *n, size_t *nscopes)
{
	struct xdc_scope_state *st = NULL;
	struct teardown_expired *te;
	size_t ns = 0, i;

	*out = NULL;
	*n = 0;
	plan_scopes(obs, &st, &ns);
	*nscopes = ns;
	for (i = 0; i < ns; i++) {
		if (!plan_scope_expired(&st[i], now) ||
		    (skip != NULL && !strcmp(st[i].ss_name, skip)))
			continue;
		*out = xdc_reallocarray(*out, *n + 1, sizeof(**out));
		te = &(*out)[(*n)++];
		te->te_scope = xdc_strdup(st[i].ss_name);
		te->te_domains = st[i].ss_domains;
		if (st[i].ss_applied != 0)
			xdc_time_fmt(st[i].ss_applied, te->te_applied);
		else
			snprintf(
			    te->te_applied, sizeof(te->te_applied), "unknown");
		xdc_time_fmt(st[i].ss_expires, te->te_expired);
	}
	free(st);
}

void
teardown_expired_free(struct teardown_expired *te, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(te[i].te_scope);
	free(te);
}
