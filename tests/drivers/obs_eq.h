/*
 * Two observations of a host compared field by field, for the tests and
 * the fuzzer that hold obs_read.h's event reader against jansson's
 * (obs_json.h): 0 when they are the same, or 1 and, in why, the first
 * field that differs. Strings compare by their bytes, and an array's
 * pointer by whether it is NULL (a reader gives an empty array or none).
 */
#ifndef XDC_TESTS_DRIVERS_OBS_EQ_H
#define XDC_TESTS_DRIVERS_OBS_EQ_H

#include <stdio.h>
#include <string.h>

#include "drivers/driver.h"

#define OBS_EQ_WHY 256

static inline int
obs_eq_str(const char *a, const char *b)
{
	return (a == NULL || b == NULL) ? a == b : strcmp(a, b) == 0;
}

#define OBS_EQ(cond, ...)                                                      \
	do {                                                                   \
		if (!(cond)) {                                                 \
			snprintf(why, OBS_EQ_WHY, __VA_ARGS__);                \
			return 1;                                              \
		}                                                              \
	} while (0)

static inline int
obs_build_diff(const struct xdc_obs_build *a, const struct xdc_obs_build *b,
    const char *dom, char *why)
{
	size_t i;

	OBS_EQ(a->ob_type == b->ob_type, "%s: build type", dom);
	OBS_EQ(obs_eq_str(a->ob_kernel, b->ob_kernel), "%s: kernel", dom);
	OBS_EQ(obs_eq_str(a->ob_ramdisk, b->ob_ramdisk), "%s: ramdisk", dom);
	OBS_EQ(obs_eq_str(a->ob_cmdline, b->ob_cmdline), "%s: cmdline", dom);
	OBS_EQ(a->ob_ndisks == b->ob_ndisks, "%s: ndisks", dom);
	OBS_EQ(
	    (a->ob_disks == NULL) == (b->ob_disks == NULL), "%s: disks", dom);
	for (i = 0; i < a->ob_ndisks; i++) {
		OBS_EQ(obs_eq_str(
		           a->ob_disks[i].d_target, b->ob_disks[i].d_target),
		    "%s: disk %zu target", dom, i);
		OBS_EQ(obs_eq_str(a->ob_disks[i].d_vdev, b->ob_disks[i].d_vdev),
		    "%s: disk %zu vdev", dom, i);
		OBS_EQ(a->ob_disks[i].d_format == b->ob_disks[i].d_format,
		    "%s: disk %zu format", dom, i);
		OBS_EQ(a->ob_disks[i].d_readonly == b->ob_disks[i].d_readonly,
		    "%s: disk %zu readonly", dom, i);
	}
	return 0;
}

static inline int
obs_domain_diff(
    const struct xdc_obs_domain *a, const struct xdc_obs_domain *b, char *why)
{
	const char *n = a->od_name != NULL ? a->od_name : "(null)";
	size_t i;

	OBS_EQ(obs_eq_str(a->od_name, b->od_name), "domain name %s", n);
	OBS_EQ(a->od_domid == b->od_domid, "%s: domid", n);
	OBS_EQ(a->od_state == b->od_state, "%s: state", n);
	OBS_EQ(a->od_memory == b->od_memory, "%s: memory", n);
	OBS_EQ(a->od_max_memory == b->od_max_memory, "%s: max_memory", n);
	OBS_EQ(a->od_vcpus == b->od_vcpus, "%s: vcpus", n);
	OBS_EQ(a->od_max_vcpus == b->od_max_vcpus, "%s: max_vcpus", n);
	OBS_EQ(a->od_weight == b->od_weight, "%s: weight", n);
	OBS_EQ(a->od_cap == b->od_cap, "%s: cap", n);
	OBS_EQ(a->od_nnics == b->od_nnics, "%s: nnics", n);
	OBS_EQ((a->od_nics == NULL) == (b->od_nics == NULL), "%s: nics", n);
	for (i = 0; i < a->od_nnics; i++) {
		OBS_EQ(obs_eq_str(
		           a->od_nics[i].on_bridge, b->od_nics[i].on_bridge),
		    "%s: nic %zu bridge", n, i);
		OBS_EQ(!memcmp(a->od_nics[i].on_mac, b->od_nics[i].on_mac, 6),
		    "%s: nic %zu mac", n, i);
	}
	OBS_EQ(a->od_managed == b->od_managed, "%s: managed", n);
	OBS_EQ(a->od_stub == b->od_stub, "%s: stub", n);
	OBS_EQ(a->od_protect == b->od_protect, "%s: protect", n);
	OBS_EQ(a->od_hash == b->od_hash, "%s: hash", n);
	OBS_EQ(obs_eq_str(a->od_scope, b->od_scope), "%s: scope", n);
	OBS_EQ(a->od_applied == b->od_applied, "%s: applied", n);
	OBS_EQ(a->od_expires == b->od_expires, "%s: expires", n);
	OBS_EQ(a->od_has_build == b->od_has_build, "%s: has_build", n);
	return a->od_has_build
	           ? obs_build_diff(&a->od_build, &b->od_build, n, why)
	           : 0;
}

static inline int
obs_network_diff(
    const struct xdc_obs_network *a, const struct xdc_obs_network *b, char *why)
{
	const char *n = a->on_bridge != NULL ? a->on_bridge : "(null)";
	size_t i;

	OBS_EQ(obs_eq_str(a->on_bridge, b->on_bridge), "bridge %s", n);
	OBS_EQ(obs_eq_str(a->on_name, b->on_name), "%s: name", n);
	OBS_EQ(obs_eq_str(a->on_uplink, b->on_uplink), "%s: uplink", n);
	OBS_EQ(a->on_vlan == b->on_vlan, "%s: vlan", n);
	OBS_EQ(a->on_mtu == b->on_mtu, "%s: mtu", n);
	OBS_EQ(a->on_up == b->on_up, "%s: up", n);
	OBS_EQ(a->on_managed == b->on_managed, "%s: managed", n);
	OBS_EQ(a->on_nscopes == b->on_nscopes, "%s: nscopes", n);
	OBS_EQ(
	    (a->on_scopes == NULL) == (b->on_scopes == NULL), "%s: scopes", n);
	for (i = 0; i < a->on_nscopes; i++)
		OBS_EQ(obs_eq_str(a->on_scopes[i], b->on_scopes[i]),
		    "%s: scope %zu", n, i);
	return 0;
}

static inline int
obs_host_diff(
    const struct xdc_obs_host *a, const struct xdc_obs_host *b, char *why)
{
	size_t i;

	OBS_EQ(obs_eq_str(a->oh_name, b->oh_name), "host name");
	OBS_EQ(a->oh_memory == b->oh_memory, "host memory");
	OBS_EQ(a->oh_free_memory == b->oh_free_memory, "host free_memory");
	OBS_EQ(a->oh_cpus == b->oh_cpus, "host cpus");
	OBS_EQ(a->oh_ndomains == b->oh_ndomains, "host ndomains");
	OBS_EQ(
	    (a->oh_domains == NULL) == (b->oh_domains == NULL), "host domains");
	OBS_EQ(a->oh_nnetworks == b->oh_nnetworks, "host nnetworks");
	OBS_EQ((a->oh_networks == NULL) == (b->oh_networks == NULL),
	    "host networks");
	for (i = 0; i < a->oh_ndomains; i++)
		if (obs_domain_diff(&a->oh_domains[i], &b->oh_domains[i], why))
			return 1;
	for (i = 0; i < a->oh_nnetworks; i++)
		if (obs_network_diff(
		        &a->oh_networks[i], &b->oh_networks[i], why))
			return 1;
	return 0;
}

#undef OBS_EQ

#endif /* XDC_TESTS_DRIVERS_OBS_EQ_H */
