/*
 * The xen driver's translations, kept apart from every call into Xen: a
 * declared VM into libxl's libxl_domain_config, a domain's xenctrl record
 * and xenstore facts into observed state, a VM's name into its UUID, and
 * xdc's ownership marker into xenstore values and back.
 *
 * Everything here is a pure function: no libxl context, no hypercall, no
 * xenstore. drivers/xen.c does the talking; tests/drivers/test_xen_config.c
 * checks every field of the translation on any machine, without Xen.
 */
#ifndef XDC_XEN_CONFIG_H
#define XDC_XEN_CONFIG_H

#include <stddef.h>
#include <stdint.h>

/*
 * The Xen public headers under xenctrl.h are GNU C: they refuse strict ISO
 * mode (anonymous unions, __align8__) although C11 has what they use. xdc
 * builds with -std=c11, so they are read as if it did not. They must come
 * before libxl.h, which includes some of them without the tools' parts.
 */
#pragma push_macro("__STRICT_ANSI__")
#undef __STRICT_ANSI__
#include <xenctrl.h>
#pragma pop_macro("__STRICT_ANSI__")
#include <libxl.h>
#include <libxl_utils.h>

#include "drivers/driver.h"

struct xdc_arena;

/* ---- Identity --------------------------------------------------------- */

/*
 * The UUID of the VM named name: an RFC 4122 version 5 (SHA-1) name-based
 * UUID in xdc's own namespace. Every host derives the same one, and a VM
 * that is destroyed and created again keeps it, so tools that key on the
 * UUID (xl list -v, monitoring) recognise it.
 */
void xen_uuid_from_name(const char *name, libxl_uuid *out);

#define XEN_UUID_BUFSZ 37
/* 8-4-4-4-12 lower-case hex. */
const char *xen_uuid_fmt(const uint8_t uuid[16], char buf[XEN_UUID_BUFSZ]);

/* ---- The ownership marker --------------------------------------------- */

/*
 * The marker lives under the domain's VM path, /vm/UUID/xdc/: libxl makes
 * /vm/UUID owned by dom0 and only readable by the guest (libxl__domain_make
 * gives it roperm), and removes it when it destroys the domain
 * (devices_destroy_cb), so a guest cannot forge or erase it and it dies
 * with the domain. /local/domain/ID is no place for it: the guest writes
 * parts of it.
 */
#define XEN_MARKER_PATHSZ 64
const char *xen_marker_path(
    const uint8_t uuid[16], char buf[XEN_MARKER_PATHSZ]);

enum xen_marker_key {
	XEN_MK_MANAGED, /* "1" */
	XEN_MK_NAME,    /* the VM's name: the marker must name its domain */
	XEN_MK_HASH,    /* 16 hex digits of plan_spec_hash() */
	XEN_MK_PROTECT, /* "0" or "1" */
	/*
	 * The scope (SPEC §9), its last apply and its expiry (seconds since
	 * the epoch, "0" for never). Absent in a marker older than scopes:
	 * then the scope is "default", the times unknown.
	 */
	XEN_MK_SCOPE,
	XEN_MK_APPLIED,
	XEN_MK_EXPIRES,
	/*
	 * What the domain was built from, which Xen keeps nowhere for a PVH
	 * or HVM guest: so that a plan can say which field forces a replace.
	 * Absent when the VM declares none.
	 */
	XEN_MK_KERNEL,
	XEN_MK_RAMDISK,
	XEN_MK_CMDLINE,
	XEN_MK__COUNT
};
/* The key names, in enum xen_marker_key's order. */
extern const char *const xen_marker_keys[XEN_MK__COUNT];
/* How many keys from the first an update of the marker rewrites: the
 * ownership, not the build record (a new build is a new domain). */
#define XEN_MK_OWNERSHIP (XEN_MK_EXPIRES + 1)

struct xen_marker {
	const char *mk_name;
	uint64_t mk_hash;
	int mk_protect;
	const char *mk_scope;  /* XDC_SCOPE_DEFAULT when the key is absent */
	int64_t mk_applied;    /* 0 when unknown */
	int64_t mk_expires;    /* 0 when never, or unknown */
	const char *mk_kernel; /* NULL when none */
	const char *mk_ramdisk;
	const char *mk_cmdline;
};

/* The values to write, one per key (NULL: leave the key out); they borrow
 * from the marker and from the struct. */
struct xen_marker_vals {
	const char *mv_v[XEN_MK__COUNT];
	char mv_hash[17];
	char mv_protect[2];
	char mv_applied[24];
	char mv_expires[24];
};
void xen_marker_encode(const struct xen_marker *, struct xen_marker_vals *);
/*
 * Read back the values of the keys (NULL: absent). Returns 0 when they are
 * a marker that names the domain called name (the marker's strings borrow
 * vals), XDC_ENOTFOUND when there is no marker or it names another domain
 * (a renamed domain is no longer the VM it was), XDC_ERR when it is
 * malformed; the domain is managed only on 0.
 */
int xen_marker_parse(const char *const vals[XEN_MK__COUNT], const char *name,
    struct xen_marker *out);
/* The marker of the VM a spec declares. */
void xen_marker_from_spec(const struct xdc_dom_spec *, struct xen_marker *);

/* ---- Desired: a VM into libxl's configuration ------------------------- */

/*
 * Fill out, which the caller has libxl_domain_config_init()ed and will
 * libxl_domain_config_dispose(), from the spec: type, name and UUID;
 * memory, max_memory, vcpus and max_vcpus; kernel, ramdisk and cmdline;
 * disks; NICs on their bridges with their MACs; the credit2 weight and
 * cap; what Xen does when the guest stops. Returns 0, or XDC_EDRIVER with
 * the reason (a spec libxl would refuse) in xdc_error_last().
 */
int xen_config_from_spec(const struct xdc_dom_spec *, libxl_domain_config *out);
/* NIC i of the spec (libxl_device_nic_init()ed by the caller). */
int xen_nic_from_spec(
    const struct xdc_dom_spec *, size_t i, libxl_device_nic *out);
/* Weight and cap for libxl_domain_sched_params_set(), in the domain's
 * scheduler (credit2 on a default Xen). */
void xen_sched_from_spec(
    const struct xdc_dom_spec *, libxl_domain_sched_params *out);
/*
 * A domain's NICs as libxl lists them, put in device-id order (the order
 * they were attached in) into out, which has room for n.
 */
void xen_nics_order(
    const libxl_device_nic *, int n, const libxl_device_nic **out);
/*
 * How many of the domain's NICs (in device-id order) to keep when it
 * should have the spec's: those before the first that differs from the
 * declared one at its place (bridge or MAC). The rest are detached and the
 * declared ones from there attached in order, so that the domain's NICs
 * stay in declaration order, which is how the planner compares them.
 */
size_t xen_nics_keep(
    const libxl_device_nic *const *have, size_t n, const struct xdc_dom_spec *);
/* vCPUs 0..online-1 of max set (out libxl_bitmap_init()ed). */
void xen_vcpu_bitmap(uint32_t online, uint32_t max, libxl_bitmap *out);

/* ---- Observed: Xen's records into observed state ---------------------- */

/* What the driver reads of one domain besides its xenctrl record. */
struct xen_dom_facts {
	const char *df_name; /* /local/domain/ID/name; NULL when unnamed */
	int df_stubdom;      /* a device-model or xenstore stub domain */
	/* A marker naming this domain, or NULL: then it is unmanaged. */
	const struct xen_marker *df_marker;
	/* Read for every domain but Domain-0 and stubs; -1 when not read.
	 * The memory target, video RAM included (memory/target +
	 * memory/videoram). */
	int64_t df_target_kib;
	int64_t df_static_max_kib; /* memory/static-max: max_memory */
	int32_t df_vcpus_online;   /* cpu/N/availability = "online" */
	int32_t df_weight;         /* the scheduler's parameters */
	int32_t df_cap;
};

/* Facts with nothing read. */
void xen_dom_facts_init(struct xen_dom_facts *);
/* A number of KiB as xenstore holds it (memory/target): -1 when it is not
 * one. */
int64_t xen_parse_kib(const char *);

/* Whether observe reports the domain: one dying is on its way out. */
int xen_obs_reportable(const xc_domaininfo_t *);
/* running/blocked: running; paused: paused; shut down: crashed when it
 * crashed (or its watchdog fired), stopped otherwise. */
enum xdc_dom_state xen_state_from_info(const xc_domaininfo_t *);
/*
 * Fill od from the xenctrl record and the facts; strings borrow from the
 * facts. NICs and the build record are left empty (see below). A managed
 * domain, or an unmanaged one whose facts were read (one xdc may import or
 * adopt), reports the memory target and the vCPUs the toolstack set (what
 * xdc compares with the declaration and changes); Domain-0 and stub
 * domains what they hold. od_stub says a stub domain.
 */
void xen_obs_from_info(const xc_domaininfo_t *, const struct xen_dom_facts *,
    struct xdc_obs_domain *od);
/*
 * od's build record, copied into the arena: the type libxl recorded
 * (/libxl/ID/type: "pv", "pvh" or "hvm"; NULL leaves od without a build
 * record), kernel, ramdisk and cmdline from the marker, and the disks
 * libxl lists (target, vdev, format, read-only).
 */
void xen_obs_build(const char *type, const struct xen_marker *,
    const libxl_device_disk *, int ndisks, struct xdc_arena *,
    struct xdc_obs_domain *od);
/* od's NICs (bridge, MAC) in device-id order, the order they were declared
 * and attached in, copied into the arena. */
void xen_obs_nics(const libxl_device_nic *, int n, struct xdc_arena *,
    struct xdc_obs_domain *od);
/*
 * The host's capacity. Memory offered to guests is what Xen has free (or
 * is scrubbing) plus what the guests hold, guest_pages (every domain but
 * Domain-0): all of the machine but Xen's own and Domain-0's share. Free
 * memory is what Xen has free, less outstanding claims. CPUs: nr_cpus.
 */
void xen_host_from_physinfo(
    const xc_physinfo_t *, uint64_t guest_pages, struct xdc_obs_host *oh);

#endif /* XDC_XEN_CONFIG_H */
