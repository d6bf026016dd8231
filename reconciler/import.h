/*
 * xdc import: what already runs on a Xen host, or what xl(1) configuration
 * files describe, as configuration documents, so that an existing host is
 * adopted without retyping it (docs/import.md).
 *
 * An import set collects VMs (each with adopt: true) and the Networks
 * their NICs need, in the desired model's own structs, and renders them as
 * YAML with libyaml's emitter. What the format cannot express is never
 * dropped silently: it becomes a warning in the set, naming the xl file and
 * line or the domain, and the key.
 */
#ifndef XDC_IMPORT_H
#define XDC_IMPORT_H

#include <stddef.h>
#include <stdio.h>

#include "drivers/driver.h"
#include "schema/model.h"

struct import_set {
	/* The configuration imported into (NICs name its Networks), or NULL;
	 * borrowed. */
	const struct xdc_config *is_cfg;
	struct xdc_vm *is_vms; /* in the order they were added */
	size_t is_nvms;
	struct xdc_network *is_nets; /* Networks to write: bridges is_cfg
	                                lacks */
	size_t is_nnets;
	/* Warnings, each "FILE:LINE: warning: ..." or "domain ...: ...",
	 * in the order found. */
	char **is_warn;
	size_t is_nwarn;
	struct xdc_arena *is_arena;
};

/* A set to import into cfg (NULL: none); free with import_set_free(). */
struct import_set *import_set_new(const struct xdc_config *cfg);
void import_set_free(struct import_set *);

/*
 * The unmanaged domains the driver observes, but Domain-0 and stubs: one VM
 * each, with what observation tells (memory, vCPUs, state, NICs, and the
 * build record when the driver has one); the host is written when it is
 * not the implicit "local". Returns the number of VMs added.
 */
size_t import_observed(struct import_set *, const struct xdc_observed *);

/*
 * One xl domain configuration file (xl.cfg(5)), read with libxlutil: one VM.
 * Returns 0, or XDC_ERR with the reason in xdc_error_last() when the file
 * cannot be read or parsed, or names no domain.
 */
int import_xl_file(struct import_set *, const char *path);

/* A new VM named name, with adopt: true and the model's defaults; NULL
 * when the set or the configuration has one of that name. */
struct xdc_vm *import_add_vm(struct import_set *, const char *name);

/* The Network a NIC on bridge names: the configuration's, or one the set
 * writes (added on first use). */
const char *import_network_for(struct import_set *, const char *bridge);

/*
 * Render as YAML documents: VM vm, or with IMPORT_ALL the Networks the set
 * writes, then every VM. Returns 0 or XDC_ERR.
 */
#define IMPORT_ALL ((size_t)-1)
int import_emit(const struct import_set *, size_t vm, FILE *);
/* The Networks the set writes, alone. */
int import_emit_networks(const struct import_set *, FILE *);

/* Add a warning: where is "FILE:LINE", "FILE" or NULL (a domain's). */
void import_warn(struct import_set *, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Print the warnings, one per line. */
void import_print_warnings(const struct import_set *, FILE *);

#endif /* XDC_IMPORT_H */
