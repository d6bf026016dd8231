/*
 * The net driver: Linux bridges, their uplinks (or an uplink's VLAN
 * sub-interface) and MTU, through rtnetlink (libnl-route-3). It observes one
 * host, this one, and applies Network actions only.
 */
#ifndef XDC_NET_H
#define XDC_NET_H

#include "drivers/driver.h"

/*
 * Open the driver for this host, observed under the name host. Its
 * observation holds one host with networks only (no domains, no capacity).
 */
int net_open(const char *host, struct xdc_driver **out);

#endif /* XDC_NET_H */
