/*
 * Placement's own declarations, shared by planner/place.c (where each
 * VM goes, capacity, spread, the observed hosts' memory) and
 * planner/place_nk.c (N+k: whether the SLAs' VMs still fit when hosts
 * fail). Not for the rest of the planner: place_vms (planner.h) is.
 */
#ifndef XDC_PLANNER_PLACE_H
#define XDC_PLANNER_PLACE_H

#include <stdint.h>

#include "planner/planner.h"

#define UNBOUNDED UINT64_MAX

struct phost {
	const char *ph_name;
	int ph_active;
	uint64_t ph_mem;   /* capacity, or UNBOUNDED */
	uint64_t ph_used;  /* by the VMs placed so far */
	uint64_t ph_bound; /* its fair share, plus a quarter */
	uint32_t ph_cpus;  /* 0: unknown */
};

struct placer {
	struct xdc_plan *pl_plan;
	struct phost *pl_hosts;
	size_t pl_nhosts;
	uint32_t *pl_vm_host;    /* per VM, index into pl_hosts */
	uint8_t *pl_spread_used; /* [sla * nhosts + host] */
};

static inline int
vm_consumes(const struct xdc_vm *vm)
{
	return vm->vm_state != XDC_VM_STOPPED;
}

static inline uint64_t
host_free(const struct phost *h)
{
	if (h->ph_mem == UNBOUNDED)
		return UNBOUNDED;
	return h->ph_used >= h->ph_mem ? 0 : h->ph_mem - h->ph_used;
}

/* A size for a message, in the plan's arena. */
const char *place_size_str(struct xdc_plan *, uint64_t);
/* N+k, every SLA with host_failures: errors in the plan (place_nk.c). */
void place_check_failures(struct placer *);

#endif /* XDC_PLANNER_PLACE_H */
