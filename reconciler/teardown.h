/*
 * Taking a scope down (SPEC §9), for `xdc destroy`, `xdc gc` and the
 * agents of `xdc run` that reap expired scopes. A scope is taken down by
 * the plan its configuration would get if it declared nothing: every
 * domain of the scope destroyed unless protected, every Network it
 * declares released. That plan is made by the session's own stages
 * (session_observe, session_plan_obs) of a configuration made here, so a
 * teardown is observed, planned, ordered and applied as an apply is.
 */
#ifndef XDC_TEARDOWN_H
#define XDC_TEARDOWN_H

#include <stddef.h>
#include <time.h>

#include "base/diag.h"
#include "schema/values.h"

struct session;
struct xdc_config;
struct xdc_observed;
struct xdc_plan;

/*
 * Observe through the session's driver (opened for no configuration when
 * it is not open) and plan scope's teardown into *cfg, *obs and *plan
 * (the caller's). hosts, a configuration, says which Hosts; NULL: the
 * hosts observed. why is each destroy's reason. Returns 0, XDC_EDRIVER
 * (xdc_error_last() says why) or XDC_EINVALID (diags).
 */
int teardown_plan(struct session *, const char *scope,
    const struct xdc_config *hosts, const char *why, struct xdc_config **cfg,
    struct xdc_observed **obs, struct xdc_plan **plan, struct xdc_diags *);

/*
 * What an expired scope's markers say, for the log and gc's listing. The
 * names are copies.
 */
struct teardown_expired {
	char *te_scope;
	size_t te_domains;
	char te_applied[XDC_TIME_BUFSZ]; /* RFC 3339, or "unknown" */
	char te_expired[XDC_TIME_BUFSZ];
};

/*
 * The scopes of obs expired at now, but skip (the scope an agent applies
 * itself: it is not left unapplied), into *out (teardown_expired_free).
 * *nscopes is how many scopes obs has.
 */
void teardown_expired(const struct xdc_observed *, time_t now, const char *skip,
    struct teardown_expired **out, size_t *n, size_t *nscopes);
void teardown_expired_free(struct teardown_expired *, size_t n);

#endif /* XDC_TEARDOWN_H */
