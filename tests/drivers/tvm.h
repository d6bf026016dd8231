/*
 * The sim driver's tests build VMs as structs, the way the planner hands
 * them to a driver: a VM with one disk and up to two NICs, and the action
 * that carries it (to XDC_LOCAL_HOST; a test of several hosts sets
 * act.a_host).
 */
#ifndef XDC_TESTS_DRIVERS_TVM_H
#define XDC_TESTS_DRIVERS_TVM_H

#include <stdint.h>
#include <string.h>

#include "drivers/driver.h"
#include "schema/model.h"

struct tvm {
	struct xdc_vm vm;
	struct xdc_disk disk;
	struct xdc_nic nics[2];
	const char *bridges[2];
	struct xdc_dom_spec spec;
	struct xdc_action act;
};

static inline void
tvm_init(struct tvm *t, const char *name, uint64_t memory, uint32_t vcpus)
{
	memset(t, 0, sizeof(*t));
	t->vm.vm_name = name;
	t->vm.vm_type = XDC_VM_PVH;
	t->vm.vm_memory = t->vm.vm_max_memory = memory;
	t->vm.vm_vcpus = t->vm.vm_max_vcpus = vcpus;
	t->vm.vm_kernel = "/boot/vmlinuz";
	t->vm.vm_cmdline = "console=hvc0";
	t->disk.d_target = "/dev/vg0/disk";
	t->disk.d_vdev = "xvda";
	t->vm.vm_disks = &t->disk;
	t->vm.vm_ndisks = 1;
	t->vm.vm_nics = t->nics;
	t->vm.vm_nnics = 1;
	t->nics[0].nic_network = "dmz";
	xdc_mac_derive(name, 0, t->nics[0].nic_mac);
	t->bridges[0] = "xdc-dmz";
	t->spec.ds_vm = &t->vm;
	t->spec.ds_bridges = t->bridges;
	t->spec.ds_weight = XDC_DEFAULT_WEIGHT;
	t->spec.ds_hash = 0x1234;
	t->act.a_kind = XDC_OBJ_VM;
	t->act.a_name = name;
	t->act.a_host = XDC_LOCAL_HOST;
	t->act.a_spec = &t->spec;
}

#endif /* XDC_TESTS_DRIVERS_TVM_H */
