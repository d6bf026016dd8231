/*
 * The schema as data: one table per kind of document, one line per key
 * (networkd's gperf tables). The loader walks these tables, so adding a key
 * is one line here and a field in model.h; unknown keys fall out for free.
 *
 * Each kind's finish function applies the defaults and the rules that
 * involve several keys of one object. Rules that span objects (names,
 * references, SLAs) are in check.c.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "schema/loader.h"
#include "schema/values.h"

static const char *const host_states[] = { "active", "drained", "failed",
	NULL };
static const char *const vm_types[] = { "pv", "pvh", "hvm", NULL };
static const char *const vm_states[] = { "running", "stopped", "paused", NULL };
static const char *const disk_formats[] = { "raw", "qcow2", "vhd", NULL };
static const char *const restarts[] = { "always", "on-crash", "never", NULL };
static const char *const spreads[] = { "none", "host", NULL };

#define KEY(k, id, type, st, member)                                           \
	{                                                                      \
		.f_key = k, .f_id = id, .f_type = type,                        \
		.f_off = offsetof(st, member)                                  \
	}
#define SHARED(k, id, type, st, member, flags)                                 \
	{                                                                      \
		.f_key = k, .f_id = id, .f_type = type,                        \
		.f_off = offsetof(st, member), .f_flags = F_SHARED | (flags)   \
	}
#define REQ(k, id, type, st, member)                                           \
	{                                                                      \
		.f_key = k, .f_id = id, .f_type = type,                        \
		.f_off = offsetof(st, member), .f_flags = F_REQUIRED           \
	}
#define NUM(k, id, type, st, member, lo, hi)                                   \
	{                                                                      \
		.f_key = k, .f_id = id, .f_type = type,                        \
		.f_off = offsetof(st, member), .f_min = lo, .f_max = hi        \
	}
#define ENUM(k, id, st, member, names)                                         \
	{                                                                      \
		.f_key = k, .f_id = id, .f_type = FT_ENUM,                     \
		.f_off = offsetof(st, member), .f_enum = names                 \
	}
#define MAP(k, id, sub)                                                        \
	{                                                                      \
		.f_key = k, .f_id = id, .f_type = FT_MAP, .f_sub = &sub        \
	}
#define LIST(k, id, st, member, count, sub, most)                              \
	{                                                                      \
		.f_key = k, .f_id = id, .f_type = FT_LIST,                     \
		.f_off = offsetof(st, member), .f_max = most,                  \
		.f_count_off = offsetof(st, count), .f_sub = &sub              \
	}
#define KIND(id)                                                               \
	{                                                                      \
		.f_key = "kind", .f_id = id, .f_type = FT_KIND                 \
	}

#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

/* A node to report at when a rule concerns a key that may be absent. */
static struct node
at_loc(const struct loader *l, const struct xdc_at *obj, uint32_t pos,
    const struct node *fallback)
{
	struct xdc_loc loc = loader_loc(l, obj, pos);
	struct node n = *fallback;

	if (loc.line != 0) {
		n.nd_line = loc.line;
		n.nd_col = loc.col;
	}
	return n;
}

/* ---- Host ------------------------------------------------------------- */

static void
host_finish(struct loader *l, void *obj, const struct node *map)
{
	struct xdc_host *h = obj;
	struct node at;

	if ((h->h_set & (1u << HOST_F_MEMORY)) && h->h_memory < (1u << 20)) {
		at = at_loc(l, &h->h_at, h->h_pos[HOST_F_MEMORY], map);
		loader_diag(l, &at,
		    "memory: a host offers at least 1MiB "
		    "(a size without a unit is in bytes)");
	}
}

static const struct field host_fields[] = {
	KIND(HOST_F_KIND),
	REQ("name", HOST_F_NAME, FT_NAME, struct xdc_host, h_name),
	KEY("labels", HOST_F_LABELS, FT_LABELS, struct xdc_host, h_labels),
	KEY("memory", HOST_F_MEMORY, FT_SIZE, struct xdc_host, h_memory),
	NUM("cpus", HOST_F_CPUS, FT_U32, struct xdc_host, h_cpus, 1, 4096),
	ENUM("state", HOST_F_STATE, struct xdc_host, h_state, host_states),
};

static const struct object_type host_type = {
	"Host",
	host_fields,
	NFIELDS(host_fields),
	sizeof(struct xdc_host),
	offsetof(struct xdc_host, h_set),
	offsetof(struct xdc_host, h_at),
	offsetof(struct xdc_host, h_pos),
	host_finish,
};

/* ---- Network ---------------------------------------------------------- */

static void
network_finish(struct loader *l, void *obj, const struct node *map)
{
	struct xdc_network *n = obj;
	struct node at;

	/* A bridge or uplink that failed to parse was reported already. */
	if (n->n_pos[NET_F_BRIDGE] == 0 && n->n_name != NULL) {
		n->n_bridge = xdc_arena_printf(l->l_arena, "xdc-%s", n->n_name);
		if (strlen(n->n_bridge) > XDC_IFNAME_MAX) {
			at = at_loc(l, &n->n_at, n->n_pos[NET_F_NAME], map);
			loader_diag(l, &at,
			    "name: the default bridge \"%s\" is longer than "
			    "%d characters; set \"bridge\"",
			    n->n_bridge, XDC_IFNAME_MAX);
		}
	}
	if ((n->n_set & (1u << NET_F_VLAN)) && n->n_pos[NET_F_UPLINK] == 0) {
		at = at_loc(l, &n->n_at, n->n_pos[NET_F_VLAN], map);
		loader_diag(l, &at,
		    "vlan: needs an \"uplink\" to make the VLAN interface on");
	}
}

static const struct field network_fields[] = {
	KIND(NET_F_KIND),
	REQ("name", NET_F_NAME, FT_NAME, struct xdc_network, n_name),
	KEY("bridge", NET_F_BRIDGE, FT_IFNAME, struct xdc_network, n_bridge),
	KEY("uplink", NET_F_UPLINK, FT_IFNAME, struct xdc_network, n_uplink),
	NUM("vlan", NET_F_VLAN, FT_U16, struct xdc_network, n_vlan, 1, 4094),
	NUM("mtu", NET_F_MTU, FT_U32, struct xdc_network, n_mtu, 68, 65535),
};

static const struct object_type network_type = {
	"Network",
	network_fields,
	NFIELDS(network_fields),
	sizeof(struct xdc_network),
	offsetof(struct xdc_network, n_set),
	offsetof(struct xdc_network, n_at),
	offsetof(struct xdc_network, n_pos),
	network_finish,
};

/* ---- VM --------------------------------------------------------------- */

static const struct field disk_fields[] = {
	REQ("target", DISK_F_TARGET, FT_PATH, struct xdc_disk, d_target),
	SHARED("vdev", DISK_F_VDEV, FT_STRING, struct xdc_disk, d_vdev, 0),
	ENUM("format", DISK_F_FORMAT, struct xdc_disk, d_format, disk_formats),
	KEY("readonly", DISK_F_READONLY, FT_BOOL, struct xdc_disk, d_readonly),
};

static const struct object_type disk_type = {
	"disk",
	disk_fields,
	NFIELDS(disk_fields),
	sizeof(struct xdc_disk),
	offsetof(struct xdc_disk, d_set),
	offsetof(struct xdc_disk, d_at),
	offsetof(struct xdc_disk, d_pos),
	NULL,
};

static const struct field nic_fields[] = {
	SHARED("network", NIC_F_NETWORK, FT_NAME, struct xdc_nic, nic_network,
	    F_REQUIRED),
	KEY("mac", NIC_F_MAC, FT_MAC, struct xdc_nic, nic_mac),
};

static const struct object_type nic_type = {
	"nic",
	nic_fields,
	NFIELDS(nic_fields),
	sizeof(struct xdc_nic),
	offsetof(struct xdc_nic, nic_set),
	offsetof(struct xdc_nic, nic_at),
	offsetof(struct xdc_nic, nic_pos),
	NULL,
};

/* Xen's virtual disk names: xvda..xvdzz, hda.., sda.., with partitions. */
static int
vdev_valid(const char *s)
{
	size_t n;

	if (!strncmp(s, "xvd", 3))
		s += 3;
	else if (!strncmp(s, "hd", 2) || !strncmp(s, "sd", 2))
		s += 2;
	else
		return 0;
	for (n = 0; *s >= 'a' && *s <= 'z'; s++)
		n++;
	if (n == 0 || n > 3)
		return 0;
	for (n = 0; *s >= '0' && *s <= '9'; s++)
		n++;
	return *s == '\0' && n <= 2;
}

static void
vm_disks_finish(struct loader *l, struct xdc_vm *vm, const struct node *map)
{
	struct xdc_disk *d, *e;
	struct node at;
	size_t i, j;
	int dflt;

	for (i = 0; i < vm->vm_ndisks; i++) {
		d = &vm->vm_disks[i];
		if (d->d_set == 0)
			continue; /* not a mapping; reported */
		dflt = !(d->d_set & (1u << DISK_F_VDEV));
		if (dflt) {
			/* xvda, xvdb, ... in declaration order. */
			d->d_vdev =
			    i < 26 ? xdc_arena_printf(
			                 l->l_arena, "xvd%c", (int)('a' + i))
			           : xdc_arena_printf(l->l_arena, "xvd%c%c",
			                 (int)('a' + i / 26 - 1),
			                 (int)('a' + i % 26));
			/* An earlier disk may have declared it. */
			at = at_loc(l, &d->d_at, d->d_pos[DISK_F_TARGET], map);
		} else {
			at = at_loc(l, &d->d_at, d->d_pos[DISK_F_VDEV], map);
			if (!vdev_valid(d->d_vdev)) {
				loader_diag(l, &at,
				    "disks[%zu].vdev: \"%s\" is not a virtual "
				    "disk name such as xvda, hdb or sdc",
				    i, d->d_vdev);
				continue;
			}
		}
		for (j = 0; j < i; j++) {
			e = &vm->vm_disks[j];
			if (e->d_vdev != NULL &&
			    !strcmp(e->d_vdev, d->d_vdev)) {
				loader_diag(l, &at,
				    "disks[%zu].vdev: %s\"%s\" is already used "
				    "by disks[%zu]%s",
				    i, dflt ? "the default " : "", d->d_vdev, j,
				    dflt ? "; set \"vdev\"" : "");
				break;
			}
		}
	}
}

static void
vm_finish(struct loader *l, void *obj, const struct node *map)
{
	struct xdc_vm *vm = obj;
	char a[XDC_SIZE_BUFSZ], b[XDC_SIZE_BUFSZ];
	struct node at;
	size_t i;
	/* A kernel that failed to parse is reported already, not missing. */
	int kernel = vm->vm_pos[VM_F_KERNEL] != 0;

	for (i = 0; i < XDC_POL__COUNT; i++)
		vm->vm_sla[i] = XDC_NO_SLA;
	if (!(vm->vm_set & (1u << VM_F_TYPE)))
		vm->vm_type = XDC_VM_PVH;
	if (!(vm->vm_set & (1u << VM_F_VCPUS)))
		vm->vm_vcpus = 1;
	if (!(vm->vm_set & (1u << VM_F_MAX_VCPUS)))
		vm->vm_max_vcpus = vm->vm_vcpus;
	if (!(vm->vm_set & (1u << VM_F_MAX_MEMORY)))
		vm->vm_max_memory = vm->vm_memory;

	if (vm->vm_set & (1u << VM_F_MEMORY)) {
		at = at_loc(l, &vm->vm_at, vm->vm_pos[VM_F_MEMORY], map);
		if (vm->vm_memory < (1u << 20))
			loader_diag(l, &at,
			    "memory: a VM needs at least 1MiB (a size "
			    "without a unit is in bytes)");
		else if (vm->vm_memory % 1024 != 0)
			loader_diag(l, &at,
			    "memory: %s is not a whole number of KiB (Xen "
			    "counts memory in KiB)",
			    xdc_size_fmt(vm->vm_memory, a));
		else if (vm->vm_memory > vm->vm_max_memory)
			loader_diag(l, &at,
			    "memory: %s is more than max_memory %s",
			    xdc_size_fmt(vm->vm_memory, a),
			    xdc_size_fmt(vm->vm_max_memory, b));
	}
	if ((vm->vm_set & (1u << VM_F_MAX_MEMORY)) &&
	    vm->vm_max_memory % 1024 != 0) {
		at = at_loc(l, &vm->vm_at, vm->vm_pos[VM_F_MAX_MEMORY], map);
		loader_diag(l, &at,
		    "max_memory: %s is not a whole number of KiB (Xen counts "
		    "memory in KiB)",
		    xdc_size_fmt(vm->vm_max_memory, a));
	}
	if (vm->vm_vcpus > vm->vm_max_vcpus) {
		at = at_loc(l, &vm->vm_at, vm->vm_pos[VM_F_VCPUS], map);
		loader_diag(l, &at, "vcpus: %u is more than max_vcpus %u",
		    vm->vm_vcpus, vm->vm_max_vcpus);
	}
	/* An invalid type was reported; which kernel rule applies is moot. */
	if (vm->vm_type != XDC_VM_HVM && !kernel &&
	    !(vm->vm_pos[VM_F_TYPE] != 0 && !(vm->vm_set & (1u << VM_F_TYPE))))
		loader_diag(l, map,
		    "missing required key \"kernel\" in VM (a %s guest boots "
		    "a kernel)",
		    xdc_vm_type_name(vm->vm_type));
	if (!kernel) {
		if (vm->vm_set & (1u << VM_F_RAMDISK)) {
			at = at_loc(
			    l, &vm->vm_at, vm->vm_pos[VM_F_RAMDISK], map);
			loader_diag(l, &at, "ramdisk: needs a \"kernel\"");
		}
		if (vm->vm_set & (1u << VM_F_CMDLINE)) {
			at = at_loc(
			    l, &vm->vm_at, vm->vm_pos[VM_F_CMDLINE], map);
			loader_diag(l, &at, "cmdline: needs a \"kernel\"");
		}
	}
	vm_disks_finish(l, vm, map);
	/* Declared MACs are checked across VMs, derived ones made, in check.c.
	 */
}

static const struct field vm_fields[] = {
	KIND(VM_F_KIND),
	REQ("name", VM_F_NAME, FT_NAME, struct xdc_vm, vm_name),
	KEY("labels", VM_F_LABELS, FT_LABELS, struct xdc_vm, vm_labels),
	ENUM("type", VM_F_TYPE, struct xdc_vm, vm_type, vm_types),
	{ .f_key = "memory",
	    .f_id = VM_F_MEMORY,
	    .f_type = FT_SIZE,
	    .f_off = offsetof(struct xdc_vm, vm_memory),
	    .f_flags = F_REQUIRED },
	KEY("max_memory", VM_F_MAX_MEMORY, FT_SIZE, struct xdc_vm,
	    vm_max_memory),
	NUM("vcpus", VM_F_VCPUS, FT_U32, struct xdc_vm, vm_vcpus, 1, 512),
	NUM("max_vcpus", VM_F_MAX_VCPUS, FT_U32, struct xdc_vm, vm_max_vcpus, 1,
	    512),
	SHARED("kernel", VM_F_KERNEL, FT_PATH, struct xdc_vm, vm_kernel, 0),
	SHARED("ramdisk", VM_F_RAMDISK, FT_PATH, struct xdc_vm, vm_ramdisk, 0),
	SHARED(
	    "cmdline", VM_F_CMDLINE, FT_STRING, struct xdc_vm, vm_cmdline, 0),
	/* Bounds that no real VM reaches, so a runaway list is refused. */
	LIST("disks", VM_F_DISKS, struct xdc_vm, vm_disks, vm_ndisks, disk_type,
	    256),
	LIST("nics", VM_F_NICS, struct xdc_vm, vm_nics, vm_nnics, nic_type, 64),
	SHARED("host", VM_F_HOST, FT_NAME, struct xdc_vm, vm_host, 0),
	ENUM("state", VM_F_STATE, struct xdc_vm, vm_state, vm_states),
	KEY("protect", VM_F_PROTECT, FT_BOOL, struct xdc_vm, vm_protect),
	KEY("adopt", VM_F_ADOPT, FT_BOOL, struct xdc_vm, vm_adopt),
};

static const struct object_type vm_type = {
	"VM",
	vm_fields,
	NFIELDS(vm_fields),
	sizeof(struct xdc_vm),
	offsetof(struct xdc_vm, vm_set),
	offsetof(struct xdc_vm, vm_at),
	offsetof(struct xdc_vm, vm_pos),
	vm_finish,
};

/* ---- SLA -------------------------------------------------------------- */

/*
 * The nested mappings of an SLA are stored flat in struct xdc_sla: each
 * sub-table shares the SLA's set mask and locations, so every policy field
 * has one bit and one position however deep it was written.
 */
static const struct field cpu_fields[] = {
	NUM("weight", SLA_F_CPU_WEIGHT, FT_U32, struct xdc_sla, s_cpu_weight, 1,
	    65535),
	NUM("cap", SLA_F_CPU_CAP, FT_U32, struct xdc_sla, s_cpu_cap, 0, 65535),
};

static const struct object_type cpu_type = {
	"SLA cpu",
	cpu_fields,
	NFIELDS(cpu_fields),
	sizeof(struct xdc_sla),
	offsetof(struct xdc_sla, s_set),
	offsetof(struct xdc_sla, s_at),
	offsetof(struct xdc_sla, s_pos),
	NULL,
};

static const struct field availability_fields[] = {
	ENUM("restart", SLA_F_RESTART, struct xdc_sla, s_restart, restarts),
	KEY("restart_limit", SLA_F_RESTART_LIMIT, FT_RATE, struct xdc_sla,
	    s_restart_limit),
	ENUM("spread", SLA_F_SPREAD, struct xdc_sla, s_spread, spreads),
	NUM("min_running", SLA_F_MIN_RUNNING, FT_U32, struct xdc_sla,
	    s_min_running, 0, 1000000),
	NUM("host_failures", SLA_F_HOST_FAILURES, FT_U32, struct xdc_sla,
	    s_host_failures, 0, 255),
	KEY("failover", SLA_F_FAILOVER, FT_BOOL, struct xdc_sla, s_failover),
};

static const struct object_type availability_type = {
	"SLA availability",
	availability_fields,
	NFIELDS(availability_fields),
	sizeof(struct xdc_sla),
	offsetof(struct xdc_sla, s_set),
	offsetof(struct xdc_sla, s_at),
	offsetof(struct xdc_sla, s_pos),
	NULL,
};

static const struct field maintenance_fields[] = {
	KEY("window", SLA_F_WINDOW, FT_WINDOW, struct xdc_sla, s_window),
};

static const struct object_type maintenance_type = {
	"SLA maintenance",
	maintenance_fields,
	NFIELDS(maintenance_fields),
	sizeof(struct xdc_sla),
	offsetof(struct xdc_sla, s_set),
	offsetof(struct xdc_sla, s_at),
	offsetof(struct xdc_sla, s_pos),
	NULL,
};

static const struct field sla_fields[] = {
	KIND(SLA_F_KIND),
	REQ("name", SLA_F_NAME, FT_NAME, struct xdc_sla, s_name),
	{ .f_key = "selector",
	    .f_id = SLA_F_SELECTOR,
	    .f_type = FT_LABELS,
	    .f_off = offsetof(struct xdc_sla, s_selector),
	    .f_flags = F_REQUIRED },
	MAP("cpu", SLA_F_CPU, cpu_type),
	MAP("availability", SLA_F_AVAILABILITY, availability_type),
	MAP("maintenance", SLA_F_MAINTENANCE, maintenance_type),
};

static const struct object_type sla_type = {
	"SLA",
	sla_fields,
	NFIELDS(sla_fields),
	sizeof(struct xdc_sla),
	offsetof(struct xdc_sla, s_set),
	offsetof(struct xdc_sla, s_at),
	offsetof(struct xdc_sla, s_pos),
	NULL,
};

const struct object_type *const schema_kinds[KIND__COUNT] = {
	[KIND_HOST] = &host_type,
	[KIND_NETWORK] = &network_type,
	[KIND_VM] = &vm_type,
	[KIND_SLA] = &sla_type,
};
