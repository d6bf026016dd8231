/*
 * Observed state: the container every driver fills (its arena holds all
 * strings and arrays of one observation), lookups in it, and the names of
 * the interface's enums as plans, logs and `xdc show` print them, and
 * the check that a driver speaks this version of the interface.
 */
#include <stdlib.h>
#include <string.h>

#include "drivers/driver.h"
#include "base/arena.h"
#include "base/error.h"

struct xdc_observed *
xdc_observed_new(void)
{
	struct xdc_observed *obs = xdc_calloc(1, sizeof(*obs));

	obs->obs_arena = xdc_arena_new();
	return obs;
}

void
xdc_observed_free(struct xdc_observed *obs)
{
	if (obs == NULL)
		return;
	xdc_arena_free(obs->obs_arena);
	free(obs);
}

/* Hosts and domains are sorted by name, and the name comes first. */
const struct xdc_obs_host *
xdc_observed_host(const struct xdc_observed *obs, const char *name)
{
	if (obs == NULL || name == NULL)
		return NULL;
	return xdc_find_named(
	    obs->obs_hosts, obs->obs_nhosts, sizeof(*obs->obs_hosts), name);
}

const struct xdc_obs_domain *
xdc_obs_host_domain(const struct xdc_obs_host *h, const char *name)
{
	if (h == NULL || name == NULL)
		return NULL;
	return xdc_find_named(
	    h->oh_domains, h->oh_ndomains, sizeof(*h->oh_domains), name);
}

const char *
xdc_dom_state_name(enum xdc_dom_state s)
{
	static const char *const n[] = { "running", "paused", "stopped",
		"crashed" };

	return (unsigned)s < 4 ? n[s] : "?";
}

const char *
xdc_op_name(enum xdc_op op)
{
	static const char *const n[XDC_OP__COUNT] = { "create", "update",
		"replace", "destroy", "start", "stop", "pause", "unpause",
		"restart", "migrate" };

	return (unsigned)op < XDC_OP__COUNT ? n[op] : "?";
}

const char *
xdc_obj_kind_name(enum xdc_obj_kind k)
{
	static const char *const n[] = { "VM", "Network" };

	return (unsigned)k < 2 ? n[k] : "?";
}

int
xdc_driver_check(const struct xdc_driver *drv)
{
	const char *name = drv->name != NULL ? drv->name : "(unnamed)";

	if (drv->version != XDC_DRIVER_VERSION)
		return xdc_error(XDC_ERR,
		    "driver %s speaks interface version %u; this xdc speaks "
		    "version %u",
		    name, drv->version, XDC_DRIVER_VERSION);
	if (drv->observe == NULL || drv->free == NULL)
		return xdc_error(
		    XDC_ERR, "driver %s has no observe or no free", name);
	if ((drv->submit == NULL) != (drv->reap == NULL))
		return xdc_error(XDC_ERR, "driver %s has %s without %s", name,
		    drv->submit != NULL ? "submit" : "reap",
		    drv->submit != NULL ? "reap" : "submit");
	if (drv->apply == NULL && drv->submit == NULL)
		return xdc_error(
		    XDC_ERR, "driver %s can carry out no action", name);
	return 0;
}
