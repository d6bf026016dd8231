/*
 * The index of the VMs' labels that SLA selectors are matched through:
 * one (key, value, VM) reference per label of every VM, ordered by key,
 * value and VM index, as strcmp orders the strings.
 */
#ifndef XDC_SCHEMA_LABEL_INDEX_H
#define XDC_SCHEMA_LABEL_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "schema/model.h"

struct label_ref {
	const char *lr_key;
	const char *lr_value;
	uint32_t lr_vm;
};

/* The references of cfg's VMs, sorted; *np of them. Free it. */
struct label_ref *label_index(const struct xdc_config *cfg, size_t *np);

#endif
