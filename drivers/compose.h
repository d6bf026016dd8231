/*
 * The composing driver: one driver made of a domain driver (xen, sim)
 * and a network driver (netlink), for when Networks do not go where
 * domains go (SPEC §5: --net). Actions are routed by kind; the network
 * driver's observation of host replaces the domain driver's networks of
 * that host.
 */
#ifndef XDC_COMPOSE_H
#define XDC_COMPOSE_H

#include "drivers/driver.h"

/*
 * On success *out owns dom and net (its free() frees them); on failure
 * (either driver does not speak this interface) they stay the caller's.
 */
int compose_new(struct xdc_driver *dom, struct xdc_driver *net,
    const char *host, struct xdc_driver **out);

#endif /* XDC_COMPOSE_H */
