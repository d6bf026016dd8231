/*
 * The xen driver: domains through libxl, observed through libxenctrl and
 * libxl, owned through markers in xenstore. It runs on a Xen dom0, as root.
 */
#ifndef XDC_XEN_H
#define XDC_XEN_H

#include "drivers/driver.h"

/*
 * Open the driver for the host this dom0 is, observed under the name host.
 * On success hands *out to the caller (free with its free()).
 */
int xen_open(const char *host, struct xdc_driver **out);

#endif /* XDC_XEN_H */
