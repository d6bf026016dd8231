/*
 * What the reconciler asks of a plan beyond its actions in order: the
 * deferred actions and why each is held, and the --max-destroy guard of
 * SPEC §3. Pure functions of the plan, so that plan, apply and run ask
 * the same questions and get the same answers.
 */
#include <stdlib.h>

#include "planner/planner.h"
#include "base/error.h"

const struct xdc_action *
plan_deferred(const struct xdc_plan *p, size_t i)
{
	return i < p->p_ndef ? &p->p_def[i]->pa : NULL;
}

const char *
plan_deferred_held(const struct xdc_plan *p, size_t i)
{
	return i < p->p_ndef ? p->p_def[i]->pa_hold : NULL;
}

size_t
plan_destroy_limit(const struct xdc_plan *p, long max_destroy)
{
	size_t managed = plan_managed_vms(p);

	if (max_destroy >= 0)
		return (size_t)max_destroy;
	/* 25% of the managed VMs, at least 1. */
	return managed / 4 > 0 ? managed / 4 : 1;
}

int
plan_check_destroys(
    const struct xdc_plan *p, long max_destroy, int force, char **msg)
{
	size_t destroys = plan_vm_destroys(p);
	size_t limit = plan_destroy_limit(p, max_destroy);

	*msg = NULL;
	if (destroys <= limit || force)
		return 0;
	xdc_asprintf(msg,
	    "the plan destroys %zu of %zu managed VMs, more than "
	    "--max-destroy %zu",
	    destroys, plan_managed_vms(p), limit);
	return XDC_EINVALID;
}
