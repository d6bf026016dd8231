/*
 * The desired model: what a configuration declares, typed and validated.
 *
 * This header is the vocabulary shared by the loader, the planner and the
 * drivers, and it deliberately knows nothing of YAML. A loaded configuration
 * is plain data: arrays of structs that every layer reads and none writes
 * (libxl's libxl_domain_config is the model). Every object and every field
 * remembers where it was declared, so that the planner can explain an action
 * by FILE:LINE and a cross-object check can point at the offending value.
 */
#ifndef XDC_MODEL_H
#define XDC_MODEL_H

#include <stddef.h>
#include <stdint.h>

/*
 * Where a node was declared: file is an index into xdc_config.cfg_files,
 * line and col are 1-based; all 0 for a field never written. This is what
 * diagnostics print; objects keep their locations packed (below) and hand
 * them out unpacked, through xdc_host_loc() and its siblings.
 */
struct xdc_loc {
	uint32_t file;
	uint32_t line;
	uint32_t col;
};

/* No location: a diagnostic about the configuration as a whole. */
#define XDC_NOWHERE ((struct xdc_loc){ 0, 0, 0 })

/*
 * Every object remembers where each of its fields was written, and a
 * configuration has tens of fields per VM: twelve bytes each were a third
 * of the model. So an object keeps its file and first line once, in a
 * struct xdc_at, and each field one uint32_t "pos": the line counted from
 * the object's in the high 16 bits, the column in the low 16, 0 when the
 * field was never written. A location that does not fit (a field 32,768
 * lines into its object, or past column 65,535) is kept whole in the
 * configuration's cfg_wide, and its pos is XDC_POS_WIDE | its index there.
 */
struct xdc_at {
	uint32_t at_file;
	uint32_t at_line;
};

#define XDC_POS_WIDE     0x80000000u
#define XDC_POS_MAX_LINE 0x7fffu
#define XDC_POS_MAX_COL  0xffffu

/* A field's location from its object's at and pos; wide is cfg_wide. */
struct xdc_loc xdc_loc_unpack(
    const struct xdc_loc *wide, const struct xdc_at *, uint32_t pos);

struct xdc_label {
	const char *key;
	const char *value;
};

struct xdc_labels {
	struct xdc_label *lb_v; /* sorted by key, keys unique */
	size_t lb_n;
};

/* ---- Host ------------------------------------------------------------ */

/*
 * active: takes VMs. drained: gets none, its VMs are moved off. failed:
 * the admin says the host is down and fenced; its VMs with
 * availability.failover are restarted elsewhere at once, the others wait.
 */
enum xdc_host_state { XDC_HOST_ACTIVE, XDC_HOST_DRAINED, XDC_HOST_FAILED };

enum xdc_host_field {
	HOST_F_KIND,
	HOST_F_NAME,
	HOST_F_LABELS,
	HOST_F_MEMORY,
	HOST_F_CPUS,
	HOST_F_STATE,
	HOST_F__COUNT
};

struct xdc_host {
	const char *h_name;
	struct xdc_labels h_labels;
	uint64_t h_memory; /* bytes; 0 when not declared (ask the hypervisor) */
	uint32_t h_cpus;   /* 0 when not declared */
	enum xdc_host_state h_state;
	uint32_t h_set; /* bit (1 << field) for each key written */
	struct xdc_at h_at;
	uint32_t h_pos[HOST_F__COUNT]; /* see struct xdc_at */
};

/* ---- Network --------------------------------------------------------- */

enum xdc_net_field {
	NET_F_KIND,
	NET_F_NAME,
	NET_F_BRIDGE,
	NET_F_UPLINK,
	NET_F_VLAN,
	NET_F_MTU,
	NET_F__COUNT
};

struct xdc_network {
	const char *n_name;
	const char *n_bridge; /* always set: declared, or "xdc-" + name */
	const char *n_uplink; /* NULL when none */
	uint16_t n_vlan;      /* 0 when none */
	uint32_t n_mtu;       /* 0 when not declared (leave the kernel's) */
	uint32_t n_set;
	struct xdc_at n_at;
	uint32_t n_pos[NET_F__COUNT]; /* see struct xdc_at */
};

/* ---- VM -------------------------------------------------------------- */

enum xdc_vm_type { XDC_VM_PV, XDC_VM_PVH, XDC_VM_HVM };
enum xdc_vm_state { XDC_VM_RUNNING, XDC_VM_STOPPED, XDC_VM_PAUSED };
enum xdc_disk_format { XDC_DISK_RAW, XDC_DISK_QCOW2, XDC_DISK_VHD };

enum xdc_disk_field {
	DISK_F_TARGET,
	DISK_F_VDEV,
	DISK_F_FORMAT,
	DISK_F_READONLY,
	DISK_F__COUNT
};

struct xdc_disk {
	const char *d_target;
	const char *d_vdev; /* always set: declared, or xvda, xvdb, ... */
	enum xdc_disk_format d_format;
	int d_readonly;
	uint32_t d_set;
	struct xdc_at d_at;
	uint32_t d_pos[DISK_F__COUNT]; /* see struct xdc_at */
};

enum xdc_nic_field { NIC_F_NETWORK, NIC_F_MAC, NIC_F__COUNT };

struct xdc_nic {
	const char *nic_network;
	uint32_t nic_net; /* index into cfg_networks, resolved by the loader */
	uint32_t nic_set;
	uint8_t nic_mac[6]; /* always set: declared, or derived (see below) */
	struct xdc_at nic_at;
	uint32_t nic_pos[NIC_F__COUNT]; /* see struct xdc_at */
};

enum xdc_vm_field {
	VM_F_KIND,
	VM_F_NAME,
	VM_F_LABELS,
	VM_F_TYPE,
	VM_F_MEMORY,
	VM_F_MAX_MEMORY,
	VM_F_VCPUS,
	VM_F_MAX_VCPUS,
	VM_F_KERNEL,
	VM_F_RAMDISK,
	VM_F_CMDLINE,
	VM_F_DISKS,
	VM_F_NICS,
	VM_F_HOST,
	VM_F_STATE,
	VM_F_PROTECT,
	VM_F_ADOPT,
	VM_F__COUNT
};

/*
 * The policy fields an SLA can set, and which SLA set them for one VM. The
 * loader resolves selectors once, so that the planner reads a VM's policy
 * without matching labels again.
 */
enum xdc_policy {
	XDC_POL_CPU_WEIGHT,
	XDC_POL_CPU_CAP,
	XDC_POL_RESTART,
	XDC_POL_RESTART_LIMIT,
	XDC_POL_SPREAD,
	XDC_POL_MIN_RUNNING,
	XDC_POL_HOST_FAILURES,
	XDC_POL_FAILOVER,
	XDC_POL_WINDOW,
	XDC_POL__COUNT
};

#define XDC_NO_SLA ((uint32_t)-1)

struct xdc_vm {
	const char *vm_name;
	struct xdc_labels vm_labels;
	uint64_t vm_memory;     /* bytes, a whole number of KiB */
	uint64_t vm_max_memory; /* bytes; = vm_memory when not declared */
	uint32_t vm_vcpus;
	uint32_t vm_max_vcpus; /* = vm_vcpus when not declared */
	const char *vm_kernel; /* NULL when none */
	const char *vm_ramdisk;
	const char *vm_cmdline;
	struct xdc_disk *vm_disks;
	size_t vm_ndisks;
	struct xdc_nic *vm_nics;
	size_t vm_nnics;
	const char *vm_host; /* NULL when the planner places it */
	enum xdc_vm_type vm_type;
	enum xdc_vm_state vm_state;
	int vm_protect;
	/* May take over an unmanaged domain of its name (xdc import). */
	int vm_adopt;
	uint32_t vm_set;
	struct xdc_at vm_at;
	uint32_t vm_pos[VM_F__COUNT]; /* see struct xdc_at */
	/* Index into cfg_slas of the SLA that sets each policy field. */
	uint32_t vm_sla[XDC_POL__COUNT];
};

/* ---- SLA ------------------------------------------------------------- */

enum xdc_restart {
	XDC_RESTART_ALWAYS,
	XDC_RESTART_ON_CRASH,
	XDC_RESTART_NEVER
};
enum xdc_spread { XDC_SPREAD_NONE, XDC_SPREAD_HOST };

/* A maintenance window, in UTC: days of the week and minutes of the day. */
struct xdc_window {
	uint8_t w_days;   /* bit d for day d, 0 = Sunday (as struct tm) */
	uint16_t w_start; /* minutes after midnight */
	uint16_t w_end;   /* exclusive; <= w_start means it ends the next day */
};

struct xdc_rate {
	uint32_t r_count;  /* at most this many ... */
	uint32_t r_period; /* ... in this many seconds */
};

enum xdc_sla_field {
	SLA_F_KIND,
	SLA_F_NAME,
	SLA_F_SELECTOR,
	SLA_F_CPU,
	SLA_F_AVAILABILITY,
	SLA_F_MAINTENANCE,
	/* The policy fields, in enum xdc_policy's order. */
	SLA_F_CPU_WEIGHT,
	SLA_F_CPU_CAP,
	SLA_F_RESTART,
	SLA_F_RESTART_LIMIT,
	SLA_F_SPREAD,
	SLA_F_MIN_RUNNING,
	SLA_F_HOST_FAILURES,
	SLA_F_FAILOVER,
	SLA_F_WINDOW,
	SLA_F__COUNT
};

#define XDC_SLA_POLICY_FIELD(pol)                                              \
	((enum xdc_sla_field)(SLA_F_CPU_WEIGHT + (pol)))

struct xdc_sla {
	const char *s_name;
	struct xdc_labels s_selector;
	uint32_t s_cpu_weight;
	uint32_t s_cpu_cap;
	enum xdc_restart s_restart;
	struct xdc_rate s_restart_limit;
	enum xdc_spread s_spread;
	uint32_t s_min_running;
	uint32_t s_host_failures;
	int s_failover; /* restart its VMs elsewhere when their host is lost */
	struct xdc_window s_window;
	uint32_t s_set;
	struct xdc_at s_at;
	uint32_t s_pos[SLA_F__COUNT]; /* see struct xdc_at */
};

/* ---- The configuration ---------------------------------------------- */

struct xdc_arena;

/*
 * A whole configuration. Owned by whoever loaded it and released with
 * xdc_config_free(); every string and array in it lives as long as it does.
 * Each array is sorted by name, so that lookups are binary searches and
 * every consumer sees the same order whatever the file layout.
 */
struct xdc_config {
	const char *cfg_path;   /* what was loaded, as the user named it */
	const char **cfg_files; /* cfg_files[0] unused; loc.file indexes it */
	size_t cfg_nfiles;
	/* The locations too far into their object to pack (struct xdc_at). */
	const struct xdc_loc *cfg_wide;
	struct xdc_host *cfg_hosts;
	size_t cfg_nhosts;
	struct xdc_network *cfg_networks;
	size_t cfg_nnetworks;
	struct xdc_vm *cfg_vms;
	size_t cfg_nvms;
	struct xdc_sla *cfg_slas;
	size_t cfg_nslas;
	struct xdc_arena *cfg_arena;
};

void xdc_config_free(struct xdc_config *);

/* Lookups by name; NULL when absent. */
const struct xdc_host *xdc_config_host(const struct xdc_config *, const char *);
const struct xdc_network *xdc_config_network(
    const struct xdc_config *, const char *);
const struct xdc_vm *xdc_config_vm(const struct xdc_config *, const char *);
const struct xdc_sla *xdc_config_sla(const struct xdc_config *, const char *);

/*
 * A binary search of n objects of size bytes, sorted by name, whose first
 * member is the name (every array of the model, and of observed state).
 */
const void *xdc_find_named(
    const void *base, size_t n, size_t size, const char *name);

/* Where a field of an object was written; all 0 when it was not. */
struct xdc_loc xdc_host_loc(
    const struct xdc_config *, const struct xdc_host *, enum xdc_host_field);
struct xdc_loc xdc_network_loc(
    const struct xdc_config *, const struct xdc_network *, enum xdc_net_field);
struct xdc_loc xdc_vm_loc(
    const struct xdc_config *, const struct xdc_vm *, enum xdc_vm_field);
struct xdc_loc xdc_disk_loc(
    const struct xdc_config *, const struct xdc_disk *, enum xdc_disk_field);
struct xdc_loc xdc_nic_loc(
    const struct xdc_config *, const struct xdc_nic *, enum xdc_nic_field);
struct xdc_loc xdc_sla_loc(
    const struct xdc_config *, const struct xdc_sla *, enum xdc_sla_field);

/* The SLA that sets a policy field of a VM, or NULL. */
const struct xdc_sla *xdc_vm_policy(
    const struct xdc_config *, const struct xdc_vm *, enum xdc_policy);

/* The implicit host of a configuration that declares none. */
#define XDC_LOCAL_HOST "local"

/* ---- Values ---------------------------------------------------------- */

/* Canonical text forms, shared by diagnostics, plans and show. */
#define XDC_SIZE_BUFSZ 32
#define XDC_MAC_BUFSZ  18
const char *xdc_size_fmt(uint64_t bytes, char buf[XDC_SIZE_BUFSZ]);
const char *xdc_mac_fmt(const uint8_t mac[6], char buf[XDC_MAC_BUFSZ]);

/*
 * The MAC of a NIC whose declaration has none: Xen's OUI 00:16:3e and three
 * bytes of a hash of the VM's name and the NIC's index, so a VM keeps its
 * addresses across re-creation and every host derives the same ones.
 */
void xdc_mac_derive(const char *vm, size_t index, uint8_t mac[6]);

const char *xdc_vm_type_name(enum xdc_vm_type);
const char *xdc_vm_state_name(enum xdc_vm_state);
const char *xdc_disk_format_name(enum xdc_disk_format);
const char *xdc_restart_name(enum xdc_restart);
const char *xdc_policy_name(enum xdc_policy); /* "cpu.weight", ... */

#endif /* XDC_MODEL_H */
