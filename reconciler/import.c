/*
 * The import set (import.h): VMs from what the driver observes, the
 * Networks their NICs name, and the YAML they are written as.
 *
 * The YAML goes through libyaml's emitter, not printf: it quotes what needs
 * quoting, so a command line or a path with a colon in it reads back as
 * written. Every document written loads with xdc validate.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "reconciler/import.h"
#include "base/arena.h"
#include "base/error.h"
#include "schema/values.h"

struct import_set *
import_set_new(const struct xdc_config *cfg)
{
	struct import_set *s = xdc_calloc(1, sizeof(*s));

	s->is_cfg = cfg;
	s->is_arena = xdc_arena_new();
	return s;
}

void
import_set_free(struct import_set *s)
{
	size_t i;

	if (s == NULL)
		return;
	free(s->is_vms);
	free(s->is_nets);
	for (i = 0; i < s->is_nwarn; i++)
		free(s->is_warn[i]);
	free(s->is_warn);
	xdc_arena_free(s->is_arena);
	free(s);
}

struct xdc_vm *
import_add_vm(struct import_set *s, const char *name)
{
	struct xdc_vm *vm;
	size_t i;

	/* Names are unique across what is imported and what is declared. */
	if (s->is_cfg != NULL && xdc_config_vm(s->is_cfg, name) != NULL)
		return NULL;
	for (i = 0; i < s->is_nvms; i++)
		if (!strcmp(s->is_vms[i].vm_name, name))
			return NULL;
	s->is_vms =
	    xdc_reallocarray(s->is_vms, s->is_nvms + 1, sizeof(*s->is_vms));
	vm = &s->is_vms[s->is_nvms++];
	memset(vm, 0, sizeof(*vm));
	vm->vm_name = xdc_arena_strdup(s->is_arena, name);
	vm->vm_type = XDC_VM_PVH;
	vm->vm_vcpus = 1;
	/* What import is for: the domain becomes xdc's as it is. */
	vm->vm_adopt = 1;
	vm->vm_set = (1u << VM_F_NAME) | (1u << VM_F_ADOPT);
	return vm;
}

/* ---- Networks --------------------------------------------------------- */

static int
net_name_taken(const struct import_set *s, const char *name)
{
	size_t i;

	if (s->is_cfg != NULL && xdc_config_network(s->is_cfg, name) != NULL)
		return 1;
	for (i = 0; i < s->is_nnets; i++)
		if (!strcmp(s->is_nets[i].n_name, name))
			return 1;
	return 0;
}

/*
 * A Network's name for a bridge: what follows xdc's "xdc-" prefix, or the
 * bridge as a DNS label (lower case, anything else a '-'), made unique.
 */
static const char *
net_name(struct import_set *s, const char *bridge)
{
	char base[XDC_NAME_MAX + 1], *name;
	const char *p = bridge;
	size_t n = 0, k;

	if (!strncmp(p, "xdc-", 4) && xdc_name_valid(p + 4))
		p += 4;
	for (; *p != '\0' && n < sizeof(base) - 4; p++) {
		char c = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			c = '-';
		if (c == '-' && (n == 0 || base[n - 1] == '-'))
			continue;
		base[n++] = c;
	}
	while (n > 0 && base[n - 1] == '-')
		n--;
	base[n] = '\0';
	if (n == 0)
		strcpy(base, "net");
	name = xdc_arena_strdup(s->is_arena, base);
	for (k = 2; net_name_taken(s, name); k++)
		name = xdc_arena_printf(s->is_arena, "%s-%zu", base, k);
	return name;
}

const char *
import_network_for(struct import_set *s, const char *bridge)
{
	struct xdc_network *n;
	const char *name;
	size_t i;

	for (i = 0; s->is_cfg != NULL && i < s->is_cfg->cfg_nnetworks; i++)
		if (!strcmp(s->is_cfg->cfg_networks[i].n_bridge, bridge))
			return s->is_cfg->cfg_networks[i].n_name;
	for (i = 0; i < s->is_nnets; i++)
		if (!strcmp(s->is_nets[i].n_bridge, bridge))
			return s->is_nets[i].n_name;
	name = net_name(s, bridge);
	s->is_nets =
	    xdc_reallocarray(s->is_nets, s->is_nnets + 1, sizeof(*s->is_nets));
	n = &s->is_nets[s->is_nnets++];
	memset(n, 0, sizeof(*n));
	n->n_name = name;
	n->n_bridge = xdc_arena_strdup(s->is_arena, bridge);
	n->n_set = 1u << NET_F_NAME;
	/* The bridge is written unless it is the default, "xdc-" + name. */
	if (strncmp(bridge, "xdc-", 4) || strcmp(bridge + 4, name))
		n->n_set |= 1u << NET_F_BRIDGE;
	return name;
}

/* ---- From the driver's observation ------------------------------------ */

void
import_warn(struct import_set *s, const char *where, const char *fmt, ...)
{
	char *msg = NULL, *w;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (where != NULL)
		xdc_asprintf(&w, "%s: warning: %s", where, msg ? msg : fmt);
	else
		xdc_asprintf(&w, "xdc import: warning: %s", msg ? msg : fmt);
	free(msg);
	s->is_warn =
	    xdc_reallocarray(s->is_warn, s->is_nwarn + 1, sizeof(*s->is_warn));
	s->is_warn[s->is_nwarn++] = w;
}

static void
warn_dom(struct import_set *s, const char *host, const char *dom,
    const char *fmt, const char *what)
{
	import_warn(s, NULL, "domain %s on host %s: %s%s", dom, host, fmt,
	    what ? what : "");
}

static void
obs_build(struct import_set *s, struct xdc_vm *vm,
    const struct xdc_obs_domain *d, const char *host)
{
	const struct xdc_obs_build *b = &d->od_build;
	size_t i;

	vm->vm_set |= 1u << VM_F_TYPE;
	if (!d->od_has_build) {
		/* An HVM guest needs nothing more to be a valid declaration. */
		vm->vm_type = XDC_VM_HVM;
		warn_dom(s, host, d->od_name,
		    "the driver cannot tell its type, kernel, ramdisk, "
		    "cmdline or disks; written as type: hvm without disks. "
		    "Declare what it was built from before apply: adopting "
		    "records the declaration as its build",
		    NULL);
		return;
	}
	vm->vm_type = b->ob_type;
	vm->vm_kernel = b->ob_kernel;
	vm->vm_ramdisk = b->ob_ramdisk;
	vm->vm_cmdline = b->ob_cmdline;
	vm->vm_ndisks = b->ob_ndisks;
	vm->vm_disks = xdc_arena_zalloc(
	    s->is_arena, (b->ob_ndisks + 1) * sizeof(*vm->vm_disks));
	for (i = 0; i < b->ob_ndisks; i++)
		vm->vm_disks[i] = b->ob_disks[i];
}

static void
obs_domain(struct import_set *s, const struct xdc_obs_host *oh,
    const struct xdc_obs_domain *d)
{
	struct xdc_vm *vm;
	size_t i;

	if (!xdc_name_valid(d->od_name)) {
		warn_dom(s, oh->oh_name, d->od_name,
		    "not imported: a VM's name is a lower-case DNS label; "
		    "rename the domain (xl rename) and import again",
		    NULL);
		return;
	}
	if ((vm = import_add_vm(s, d->od_name)) == NULL) {
		warn_dom(s, oh->oh_name, d->od_name,
		    "not imported: a VM of that name is declared or imported "
		    "already (set adopt: true in its declaration to take the "
		    "domain over)",
		    NULL);
		return;
	}
	if (strcmp(oh->oh_name, XDC_LOCAL_HOST) != 0) {
		vm->vm_host = xdc_arena_strdup(s->is_arena, oh->oh_name);
		vm->vm_set |= 1u << VM_F_HOST;
	}
	vm->vm_memory = d->od_memory;
	vm->vm_max_memory = d->od_max_memory;
	vm->vm_set |= 1u << VM_F_MEMORY;
	if (d->od_max_memory != d->od_memory)
		vm->vm_set |= 1u << VM_F_MAX_MEMORY;
	vm->vm_vcpus = d->od_vcpus ? d->od_vcpus : 1;
	vm->vm_max_vcpus = d->od_max_vcpus;
	vm->vm_set |= 1u << VM_F_VCPUS;
	if (d->od_max_vcpus != vm->vm_vcpus)
		vm->vm_set |= 1u << VM_F_MAX_VCPUS;
	if (d->od_state == XDC_DOM_PAUSED) {
		vm->vm_state = XDC_VM_PAUSED;
		vm->vm_set |= 1u << VM_F_STATE;
	} else if (d->od_state != XDC_DOM_RUNNING) {
		warn_dom(s, oh->oh_name, d->od_name, "it is ",
		    xdc_arena_printf(s->is_arena,
		        "%s; written as running: the adoption takes it over "
		        "and the next plan starts it again",
		        xdc_dom_state_name(d->od_state)));
	}
	obs_build(s, vm, d, oh->oh_name);
	if ((d->od_weight != 0 && d->od_weight != XDC_DEFAULT_WEIGHT) ||
	    d->od_cap != 0)
		warn_dom(s, oh->oh_name, d->od_name, "",
		    xdc_arena_printf(s->is_arena,
		        "cpu weight %u, cap %u: a VM has no key for them, an "
		        "SLA sets them (cpu: weight, cap); without one, the "
		        "adoption sets Xen's defaults (%u, no cap)",
		        d->od_weight, d->od_cap, XDC_DEFAULT_WEIGHT));
	vm->vm_nnics = d->od_nnics;
	vm->vm_nics = xdc_arena_zalloc(
	    s->is_arena, (d->od_nnics + 1) * sizeof(*vm->vm_nics));
	for (i = 0; i < d->od_nnics; i++) {
		vm->vm_nics[i].nic_network =
		    import_network_for(s, d->od_nics[i].on_bridge);
		memcpy(vm->vm_nics[i].nic_mac, d->od_nics[i].on_mac, 6);
		vm->vm_nics[i].nic_set =
		    (1u << NIC_F_NETWORK) | (1u << NIC_F_MAC);
	}
	vm->vm_adopt = 1;
}

size_t
import_observed(struct import_set *s, const struct xdc_observed *obs)
{
	const struct xdc_obs_host *oh;
	const struct xdc_obs_domain *d;
	size_t h, i, before = s->is_nvms;

	for (h = 0; h < obs->obs_nhosts; h++) {
		oh = &obs->obs_hosts[h];
		for (i = 0; i < oh->oh_ndomains; i++) {
			d = &oh->oh_domains[i];
			/* Domain-0 and stubs are never xdc's. */
			if (d->od_domid == 0 || d->od_stub || d->od_managed)
				continue;
			obs_domain(s, oh, d);
		}
	}
	return s->is_nvms - before;
}

/* ---- YAML ------------------------------------------------------------- */

struct emit {
	yaml_emitter_t e_em;
	int e_ok;
	size_t e_docs;
};

static void
ev(struct emit *e, yaml_event_t *event)
{
	if (!e->e_ok) {
		yaml_event_delete(event);
		return;
	}
	/* The emitter takes the event, whatever it returns. */
	if (!yaml_emitter_emit(&e->e_em, event))
		e->e_ok = 0;
}

static void
scalar(struct emit *e, const char *v, yaml_scalar_style_t style)
{
	yaml_event_t event;

	yaml_scalar_event_initialize(&event, NULL, NULL,
	    (yaml_char_t *)(uintptr_t)v, (int)strlen(v), 1, 1, style);
	ev(e, &event);
}

static void
pair(struct emit *e, const char *key, const char *v)
{
	scalar(e, key, YAML_PLAIN_SCALAR_STYLE);
	scalar(e, v, YAML_ANY_SCALAR_STYLE);
}

/* Strings a person wrote (a command line, a path): quoted when plain
 * would not read back as the same string. */
static void
pair_quoted(struct emit *e, const char *key, const char *v)
{
	scalar(e, key, YAML_PLAIN_SCALAR_STYLE);
	scalar(e, v, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
}

static void
pair_size(struct emit *e, const char *key, uint64_t v)
{
	char buf[XDC_SIZE_BUFSZ];

	pair(e, key, xdc_size_fmt(v, buf));
}

static void
pair_u32(struct emit *e, const char *key, uint32_t v)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%u", v);
	pair(e, key, buf);
}

static void
map_start(struct emit *e, yaml_mapping_style_t style)
{
	yaml_event_t event;

	yaml_mapping_start_event_initialize(&event, NULL, NULL, 1, style);
	ev(e, &event);
}

static void
map_end(struct emit *e)
{
	yaml_event_t event;

	yaml_mapping_end_event_initialize(&event);
	ev(e, &event);
}

static void
seq(struct emit *e, const char *key, int start)
{
	yaml_event_t event;

	if (start) {
		scalar(e, key, YAML_PLAIN_SCALAR_STYLE);
		yaml_sequence_start_event_initialize(
		    &event, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
	} else {
		yaml_sequence_end_event_initialize(&event);
	}
	ev(e, &event);
}

static void
doc(struct emit *e, int start)
{
	yaml_event_t event;

	if (start) {
		/* "---" between documents, not before the first. */
		yaml_document_start_event_initialize(
		    &event, NULL, NULL, NULL, e->e_docs++ == 0);
		ev(e, &event);
		map_start(e, YAML_BLOCK_MAPPING_STYLE);
	} else {
		map_end(e);
		yaml_document_end_event_initialize(&event, 1);
		ev(e, &event);
	}
}

static void
emit_network(struct emit *e, const struct xdc_network *n)
{
	doc(e, 1);
	pair(e, "kind", "Network");
	pair(e, "name", n->n_name);
	if (n->n_set & (1u << NET_F_BRIDGE))
		pair(e, "bridge", n->n_bridge);
	doc(e, 0);
}

static void
emit_disks(struct emit *e, const struct xdc_vm *vm)
{
	const struct xdc_disk *d;
	size_t i;

	seq(e, "disks", 1);
	for (i = 0; i < vm->vm_ndisks; i++) {
		d = &vm->vm_disks[i];
		map_start(e, YAML_FLOW_MAPPING_STYLE);
		pair_quoted(e, "target", d->d_target);
		if (d->d_vdev != NULL)
			pair(e, "vdev", d->d_vdev);
		if (d->d_format != XDC_DISK_RAW)
			pair(e, "format", xdc_disk_format_name(d->d_format));
		if (d->d_readonly)
			pair(e, "readonly", "true");
		map_end(e);
	}
	seq(e, "disks", 0);
}

static void
emit_nics(struct emit *e, const struct xdc_vm *vm)
{
	char mac[XDC_MAC_BUFSZ];
	size_t i;

	seq(e, "nics", 1);
	for (i = 0; i < vm->vm_nnics; i++) {
		map_start(e, YAML_FLOW_MAPPING_STYLE);
		pair(e, "network", vm->vm_nics[i].nic_network);
		if (vm->vm_nics[i].nic_set & (1u << NIC_F_MAC))
			pair_quoted(
			    e, "mac", xdc_mac_fmt(vm->vm_nics[i].nic_mac, mac));
		map_end(e);
	}
	seq(e, "nics", 0);
}

static void
emit_vm(struct emit *e, const struct xdc_vm *vm)
{
	doc(e, 1);
	pair(e, "kind", "VM");
	pair(e, "name", vm->vm_name);
	if (vm->vm_host != NULL)
		pair(e, "host", vm->vm_host);
	pair(e, "type", xdc_vm_type_name(vm->vm_type));
	pair_size(e, "memory", vm->vm_memory);
	if (vm->vm_set & (1u << VM_F_MAX_MEMORY))
		pair_size(e, "max_memory", vm->vm_max_memory);
	pair_u32(e, "vcpus", vm->vm_vcpus);
	if (vm->vm_set & (1u << VM_F_MAX_VCPUS))
		pair_u32(e, "max_vcpus", vm->vm_max_vcpus);
	if (vm->vm_kernel != NULL)
		pair_quoted(e, "kernel", vm->vm_kernel);
	if (vm->vm_ramdisk != NULL)
		pair_quoted(e, "ramdisk", vm->vm_ramdisk);
	if (vm->vm_cmdline != NULL)
		pair_quoted(e, "cmdline", vm->vm_cmdline);
	if (vm->vm_ndisks > 0)
		emit_disks(e, vm);
	if (vm->vm_nnics > 0)
		emit_nics(e, vm);
	if (vm->vm_set & (1u << VM_F_STATE))
		pair(e, "state", xdc_vm_state_name(vm->vm_state));
	if (vm->vm_adopt)
		pair(e, "adopt", "true");
	doc(e, 0);
}

static int
emit(const struct import_set *s, size_t vm, int nets, FILE *fp)
{
	struct emit e;
	yaml_event_t event;
	size_t i;
	int rc;

	memset(&e, 0, sizeof(e));
	if (!yaml_emitter_initialize(&e.e_em))
		return xdc_error(XDC_ERR, "cannot start libyaml's emitter");
	e.e_ok = 1;
	yaml_emitter_set_output_file(&e.e_em, fp);
	yaml_emitter_set_unicode(&e.e_em, 1);
	/* A long command line stays on its line. */
	yaml_emitter_set_width(&e.e_em, -1);
	yaml_stream_start_event_initialize(&event, YAML_UTF8_ENCODING);
	ev(&e, &event);
	for (i = 0; nets && i < s->is_nnets; i++)
		emit_network(&e, &s->is_nets[i]);
	for (i = 0; i < s->is_nvms; i++)
		if (vm == IMPORT_ALL || vm == i)
			emit_vm(&e, &s->is_vms[i]);
	yaml_stream_end_event_initialize(&event);
	ev(&e, &event);
	if (e.e_ok && !yaml_emitter_flush(&e.e_em))
		e.e_ok = 0;
	rc = e.e_ok ? 0
	            : xdc_error(XDC_ERR, "cannot write YAML: %s",
	                  e.e_em.problem ? e.e_em.problem : "write error");
	yaml_emitter_delete(&e.e_em);
	return rc;
}

int
import_emit(const struct import_set *s, size_t vm, FILE *fp)
{
	return emit(s, vm, vm == IMPORT_ALL, fp);
}

int
import_emit_networks(const struct import_set *s, FILE *fp)
{
	/* No VM has this index: the Networks alone. */
	return emit(s, s->is_nvms, 1, fp);
}

void
import_print_warnings(const struct import_set *s, FILE *fp)
{
	size_t i;

	for (i = 0; i < s->is_nwarn; i++)
		fprintf(fp, "%s\n", s->is_warn[i]);
}
