/*
 * xl(1) domain configuration files (xl.cfg(5)) into VMs, for xdc import.
 *
 * libxlutil, xl's own parser, reads the values, so a file means here what
 * it means to xl: its disk specifications go through xlu_disk_parse().
 * libxlutil has no way to list the keys a file sets, and every key xdc
 * cannot express must be reported rather than dropped; so the file is also
 * scanned for its top-level assignments, which gives each key its line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libxl.h under -std=c11: see drivers/xen_config.h. */
#pragma push_macro("__STRICT_ANSI__")
#undef __STRICT_ANSI__
#include <libxlutil.h>
#pragma pop_macro("__STRICT_ANSI__")

#include "reconciler/import.h"
#include "base/arena.h"
#include "base/error.h"
#include "base/file.h"
#include "schema/schema.h"
#include "schema/values.h"

#define MIB (1024ULL * 1024)

/* libxl's memory when a file sets none (max_memkb's default). */
#define XL_DEFAULT_MIB 32
/* xl's bridge for a vif that names none. */
#define XL_DEFAULT_BRIDGE "xenbr0"

struct xl_key {
	const char *k_name;
	unsigned k_line;
};

struct xl {
	struct import_set *x_set;
	const char *x_path;
	XLU_Config *x_cfg;
	struct xl_key *x_keys;
	size_t x_nkeys;
};

/* ---- The keys a file sets, and their lines ---------------------------- */

static int
ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int
ident_char(char c)
{
	return ident_start(c) || (c >= '0' && c <= '9');
}

/*
 * The top-level assignments of xl's grammar: KEY = VALUE or KEY += VALUE,
 * ended by a newline or ';' outside brackets; '#' comments to the end of
 * the line; strings in single or double quotes.
 */
static void
xl_scan(struct xl *x, const char *buf, size_t len)
{
	unsigned line = 1;
	int depth = 0, stmt = 1;
	size_t i = 0, j, cap = 0;
	char q;

	while (i < len) {
		char c = buf[i];

		if (c == '\n') {
			line++;
			stmt = stmt || depth == 0;
			i++;
		} else if (c == '#') {
			while (i < len && buf[i] != '\n')
				i++;
		} else if (c == '\'' || c == '"') {
			for (q = c, i++; i < len && buf[i] != q; i++)
				line += buf[i] == '\n';
			i++;
			stmt = 0;
		} else if (c == '[' || c == ']') {
			depth += c == '[' ? 1 : -1;
			stmt = 0;
			i++;
		} else if (c == ';' && depth == 0) {
			stmt = 1;
			i++;
		} else if (stmt && depth == 0 && ident_start(c)) {
			for (j = i; j < len && ident_char(buf[j]); j++)
				;
			if (x->x_nkeys == cap) {
				cap = cap ? cap * 2 : 16;
				x->x_keys = xdc_reallocarray(
				    x->x_keys, cap, sizeof(*x->x_keys));
			}
			x->x_keys[x->x_nkeys].k_name = xdc_arena_strndup(
			    x->x_set->is_arena, buf + i, j - i);
			x->x_keys[x->x_nkeys++].k_line = line;
			stmt = 0;
			i = j;
		} else {
			stmt = stmt && (c == ' ' || c == '\t' || c == '\r');
			i++;
		}
	}
}

static unsigned
key_line(const struct xl *x, const char *key)
{
	size_t i;

	for (i = 0; i < x->x_nkeys; i++)
		if (!strcmp(x->x_keys[i].k_name, key))
			return x->x_keys[i].k_line;
	return 0;
}

/* "FILE:LINE" of the key, or "FILE" when the file does not set it. */
static const char *
where(const struct xl *x, const char *key)
{
	unsigned line = key_line(x, key);

	if (line == 0)
		return x->x_path;
	return xdc_arena_printf(x->x_set->is_arena, "%s:%u", x->x_path, line);
}

static void warn(struct xl *x, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
warn(struct xl *x, const char *key, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	import_warn(x->x_set, where(x, key), "%s: %s", key, msg ? msg : fmt);
	free(msg);
}

/* ---- Values ----------------------------------------------------------- */

static const char *
get_str(struct xl *x, const char *key)
{
	const char *v = NULL;

	if (xlu_cfg_get_string(x->x_cfg, key, &v, 1) != 0)
		return NULL;
	return xdc_arena_strdup(x->x_set->is_arena, v);
}

/* A whole number, 0 when absent; a wrong one is warned of. */
static long
get_long(struct xl *x, const char *key, long lo, long hi)
{
	long v = 0;
	int rc = xlu_cfg_get_long(x->x_cfg, key, &v, 1);

	if (rc == ESRCH)
		return 0;
	if (rc != 0 || v < lo || v > hi) {
		warn(x, key, "not a whole number from %ld to %ld; dropped", lo,
		    hi);
		return 0;
	}
	return v;
}

static int
xl_type(struct xl *x, struct xdc_vm *vm)
{
	const char *type = get_str(x, "type"), *builder = get_str(x, "builder");

	vm->vm_set |= 1u << VM_F_TYPE;
	/* xl's default is a PV guest; builder is the older spelling. */
	vm->vm_type = XDC_VM_PV;
	if (type != NULL) {
		if (!strcmp(type, "pvh"))
			vm->vm_type = XDC_VM_PVH;
		else if (!strcmp(type, "hvm"))
			vm->vm_type = XDC_VM_HVM;
		else if (strcmp(type, "pv") != 0)
			return xdc_error(XDC_ERR,
			    "%s:%u: type \"%s\" is none of pv, pvh, hvm",
			    x->x_path, key_line(x, "type"), type);
	} else if (builder != NULL && !strcmp(builder, "hvm")) {
		vm->vm_type = XDC_VM_HVM;
	}
	return 0;
}

static void
xl_memory(struct xl *x, struct xdc_vm *vm)
{
	long mem = get_long(x, "memory", 1, 1L << 30);
	long max = get_long(x, "maxmem", 1, 1L << 30);

	if (mem == 0) {
		warn(x, "memory", "not set; written as libxl's default, %dMiB",
		    XL_DEFAULT_MIB);
		mem = XL_DEFAULT_MIB;
	}
	vm->vm_memory = (uint64_t)mem * MIB;
	vm->vm_max_memory = vm->vm_memory;
	vm->vm_set |= 1u << VM_F_MEMORY;
	if (max > mem) {
		vm->vm_max_memory = (uint64_t)max * MIB;
		vm->vm_set |= 1u << VM_F_MAX_MEMORY;
	} else if (max != 0 && max < mem) {
		warn(x, "maxmem", "%ldMiB is less than memory %ldMiB; dropped",
		    max, mem);
	}
}

static void
xl_vcpus(struct xl *x, struct xdc_vm *vm)
{
	long n = get_long(x, "vcpus", 1, 512);
	long max = get_long(x, "maxvcpus", 1, 512);

	vm->vm_vcpus = n ? (uint32_t)n : 1;
	vm->vm_max_vcpus = vm->vm_vcpus;
	vm->vm_set |= 1u << VM_F_VCPUS;
	if (max > (long)vm->vm_vcpus) {
		vm->vm_max_vcpus = (uint32_t)max;
		vm->vm_set |= 1u << VM_F_MAX_VCPUS;
	} else if (max != 0 && max < (long)vm->vm_vcpus) {
		warn(x, "maxvcpus", "%ld is less than vcpus %u; dropped", max,
		    vm->vm_vcpus);
	}
}

/* What the guest's kernel is given: xl's cmdline, or root= and extra. */
static void
xl_boot(struct xl *x, struct xdc_vm *vm)
{
	const char *cmdline = get_str(x, "cmdline");
	const char *root = get_str(x, "root"), *extra = get_str(x, "extra");
	struct xdc_arena *a = x->x_set->is_arena;

	vm->vm_kernel = get_str(x, "kernel");
	vm->vm_ramdisk = get_str(x, "ramdisk");
	if (cmdline != NULL) {
		vm->vm_cmdline = cmdline;
		if (root != NULL || extra != NULL)
			warn(x, root ? "root" : "extra",
			    "dropped: cmdline is set, and xl boots with it "
			    "alone");
	} else if (root != NULL) {
		vm->vm_cmdline =
		    extra ? xdc_arena_printf(a, "root=%s %s", root, extra)
		          : xdc_arena_printf(a, "root=%s", root);
	} else {
		vm->vm_cmdline = extra;
	}
	if (vm->vm_kernel == NULL && vm->vm_type != XDC_VM_HVM)
		warn(x, "kernel",
		    "a %s VM boots a kernel xdc names (kernel:); add one "
		    "before the configuration validates",
		    xdc_vm_type_name(vm->vm_type));
}

static int
disk_format(libxl_disk_format f, enum xdc_disk_format *out)
{
	switch (f) {
	case LIBXL_DISK_FORMAT_UNKNOWN:
	case LIBXL_DISK_FORMAT_RAW:
		*out = XDC_DISK_RAW;
		return 0;
	case LIBXL_DISK_FORMAT_QCOW2:
		*out = XDC_DISK_QCOW2;
		return 0;
	case LIBXL_DISK_FORMAT_VHD:
		*out = XDC_DISK_VHD;
		return 0;
	default:
		return -1;
	}
}

static void
xl_disks(struct xl *x, struct xdc_vm *vm)
{
	struct xdc_arena *a = x->x_set->is_arena;
	XLU_ConfigList *list = NULL;
	libxl_device_disk d;
	struct xdc_disk *out;
	const char *spec;
	int n = 0, i;

	if (xlu_cfg_get_list(x->x_cfg, "disk", &list, &n, 1) != 0 || n <= 0)
		return;
	vm->vm_disks = xdc_arena_zalloc(a, (size_t)n * sizeof(*vm->vm_disks));
	for (i = 0; i < n; i++) {
		spec = xlu_cfg_get_listitem(list, i);
		libxl_device_disk_init(&d);
		if (spec == NULL || xlu_disk_parse(x->x_cfg, 1, &spec, &d)) {
			warn(x, "disk",
			    "[%d] \"%s\": not a disk xl accepts; "
			    "dropped",
			    i, spec ? spec : "");
		} else if (d.is_cdrom || d.pdev_path == NULL ||
		           d.pdev_path[0] == '\0') {
			warn(x, "disk",
			    "[%d] \"%s\": a CD-ROM or empty drive, which xdc "
			    "cannot declare; dropped",
			    i, spec);
		} else {
			out = &vm->vm_disks[vm->vm_ndisks];
			if (disk_format(d.format, &out->d_format) != 0) {
				warn(x, "disk",
				    "[%d] \"%s\": format %s is none of raw, "
				    "qcow2, vhd; dropped",
				    i, spec,
				    libxl_disk_format_to_string(d.format));
			} else {
				out->d_target =
				    xdc_arena_strdup(a, d.pdev_path);
				out->d_vdev = xdc_arena_strdup(a, d.vdev);
				out->d_readonly = !d.readwrite;
				vm->vm_ndisks++;
			}
		}
		libxl_device_disk_dispose(&d);
	}
	if (vm->vm_ndisks > 0)
		vm->vm_set |= 1u << VM_F_DISKS;
}

/* One vif = [ 'mac=...,bridge=...' ] item; 0, or -1 when dropped. */
static int
xl_vif(struct xl *x, int idx, const char *spec, struct xdc_nic *nic)
{
	char *copy = xdc_strdup(spec), *item, *save = NULL, *eq;
	const char *bridge = XL_DEFAULT_BRIDGE;
	int rc = 0;

	for (item = strtok_r(copy, ",", &save); item != NULL;
	     item = strtok_r(NULL, ",", &save)) {
		while (*item == ' ' || *item == '\t')
			item++;
		if (*item == '\0')
			continue;
		if ((eq = strchr(item, '=')) == NULL) {
			warn(x, "vif",
			    "[%d] \"%s\": \"%s\" is not KEY=VALUE; "
			    "dropped",
			    idx, spec, item);
			continue;
		}
		*eq++ = '\0';
		if (!strcmp(item, "mac")) {
			if (xdc_parse_mac(eq, nic->nic_mac) != NULL)
				warn(x, "vif",
				    "[%d] mac \"%s\" is not a unicast MAC "
				    "address; xdc derives one",
				    idx, eq);
			else
				nic->nic_set |= 1u << NIC_F_MAC;
		} else if (!strcmp(item, "bridge")) {
			bridge = xdc_arena_strdup(x->x_set->is_arena, eq);
		} else {
			warn(x, "vif",
			    "[%d] %s=%s: xdc has no place for it; dropped", idx,
			    item, eq);
		}
	}
	if (!xdc_ifname_valid(bridge)) {
		warn(x, "vif",
		    "[%d] bridge \"%s\" is not an interface name; "
		    "the NIC is dropped",
		    idx, bridge);
		rc = -1;
	} else {
		nic->nic_network = import_network_for(x->x_set, bridge);
		nic->nic_set |= 1u << NIC_F_NETWORK;
	}
	free(copy);
	return rc;
}

static void
xl_vifs(struct xl *x, struct xdc_vm *vm)
{
	XLU_ConfigList *list = NULL;
	const char *spec;
	int n = 0, i;

	if (xlu_cfg_get_list(x->x_cfg, "vif", &list, &n, 1) != 0 || n <= 0)
		return;
	vm->vm_nics = xdc_arena_zalloc(
	    x->x_set->is_arena, (size_t)n * sizeof(*vm->vm_nics));
	for (i = 0; i < n; i++) {
		spec = xlu_cfg_get_listitem(list, i);
		memset(&vm->vm_nics[vm->vm_nnics], 0, sizeof(*vm->vm_nics));
		if (spec != NULL &&
		    xl_vif(x, i, spec, &vm->vm_nics[vm->vm_nnics]) == 0)
			vm->vm_nnics++;
	}
	if (vm->vm_nnics > 0)
		vm->vm_set |= 1u << VM_F_NICS;
}

/* ---- Keys xdc has no place for ---------------------------------------- */

static const char *const xl_mapped[] = {
	"name",
	"type",
	"builder",
	"memory",
	"maxmem",
	"vcpus",
	"maxvcpus",
	"kernel",
	"ramdisk",
	"cmdline",
	"root",
	"extra",
	"disk",
	"vif",
	NULL,
};

/* Why a key is dropped, where there is more to say than that it is. */
static const struct {
	const char *key;
	const char *why;
} xl_why[] = {
	{ "uuid", "an adopted domain keeps its own; one xdc creates gets a "
	          "UUID derived from its name" },
	{ "on_poweroff", "what xdc does when a guest stops is an SLA's "
	                 "availability.restart" },
	{ "on_reboot", "what xdc does when a guest stops is an SLA's "
	               "availability.restart" },
	{ "on_crash", "what xdc does when a guest stops is an SLA's "
	              "availability.restart" },
	{ "cpu_weight", "an SLA sets it (cpu: weight)" },
	{ "cap", "an SLA sets it (cpu: cap)" },
	{ "bootloader", "xdc boots the kernel a VM names (kernel:)" },
};

static void
xl_unmapped(struct xl *x)
{
	const char *why;
	size_t i, j;

	for (i = 0; i < x->x_nkeys; i++) {
		for (j = 0; xl_mapped[j] != NULL; j++)
			if (!strcmp(x->x_keys[i].k_name, xl_mapped[j]))
				break;
		if (xl_mapped[j] != NULL)
			continue;
		why = "xdc has no place for it";
		for (j = 0; j < sizeof(xl_why) / sizeof(xl_why[0]); j++)
			if (!strcmp(x->x_keys[i].k_name, xl_why[j].key))
				why = xl_why[j].why;
		import_warn(x->x_set,
		    xdc_arena_printf(x->x_set->is_arena, "%s:%u", x->x_path,
		        x->x_keys[i].k_line),
		    "%s: dropped: %s", x->x_keys[i].k_name, why);
	}
}

/* ---- A file ----------------------------------------------------------- */

/* An xl file, read to EOF; a stream only as /dev/stdin, as for YAML. */
static int
read_file(const char *path, char **out, size_t *len)
{
	if (xdc_file_read(path, XDC_FILE_MAX,
	        !strcmp(path, XDC_STDIN_PATH) ? XDC_FILE_STREAM : 0, out,
	        len) != 0)
		return XDC_ERR; /* missing or not, the file is at fault */
	if (*out == NULL)
		return xdc_error(XDC_ERR,
		    "%s: larger than 16 MiB (%zu bytes): not an xl "
		    "configuration",
		    path, *len);
	return 0;
}

static int
xl_vm(struct xl *x)
{
	const char *name = get_str(x, "name");
	struct xdc_vm *vm;
	int rc;

	if (name == NULL)
		return xdc_error(XDC_ERR,
		    "%s: no name = \"...\": not a domain configuration",
		    x->x_path);
	if (!xdc_name_valid(name))
		return xdc_error(XDC_ERR,
		    "%s:%u: name \"%s\" is not a lower-case DNS label, which "
		    "a VM's name must be; rename the domain",
		    x->x_path, key_line(x, "name"), name);
	if ((vm = import_add_vm(x->x_set, name)) == NULL)
		return xdc_error(XDC_ERR,
		    "%s:%u: a VM named %s is declared or imported already",
		    x->x_path, key_line(x, "name"), name);
	if ((rc = xl_type(x, vm)) != 0) {
		x->x_set->is_nvms--; /* the VM just added */
		return rc;
	}
	xl_memory(x, vm);
	xl_vcpus(x, vm);
	xl_boot(x, vm);
	xl_disks(x, vm);
	xl_vifs(x, vm);
	xl_unmapped(x);
	return 0;
}

int
import_xl_file(struct import_set *s, const char *path)
{
	struct xl x;
	char *buf = NULL, *report = NULL;
	size_t len = 0, rlen = 0;
	FILE *rfp = NULL;
	int rc;

	memset(&x, 0, sizeof(x));
	x.x_set = s;
	x.x_path = xdc_arena_strdup(s->is_arena, path);
	if ((rc = read_file(path, &buf, &len)) != 0)
		goto out;
	/* libxlutil reports to a stream; it becomes the error's text. */
	if ((rfp = open_memstream(&report, &rlen)) == NULL ||
	    (x.x_cfg = xlu_cfg_init(rfp, path)) == NULL) {
		rc = xdc_error_sys(XDC_ERR, "%s: cannot start libxlutil", path);
		goto out;
	}
	if (xlu_cfg_readdata(x.x_cfg, buf, (int)len) != 0) {
		fflush(rfp);
		rc = xdc_error(XDC_ERR, "%s: not an xl configuration%s%.*s",
		    path, rlen ? ":\n" : "",
		    (int)(rlen && report[rlen - 1] == '\n' ? rlen - 1 : rlen),
		    report ? report : "");
		goto out;
	}
	xl_scan(&x, buf, len);
	rc = xl_vm(&x);
out:
	if (x.x_cfg != NULL)
		xlu_cfg_destroy(x.x_cfg);
	if (rfp != NULL)
		fclose(rfp);
	free(report);
	free(x.x_keys);
	free(buf);
	return rc;
}
