/*
 * The xen driver's reading of Xen (xen_observe.c): every domain of the host
 * with what xdc shows and plans from, and the few reads the actions of
 * xen.c share with it (the domain list, a domain's ownership). Only reads:
 * nothing here changes a domain. The handles are xen.c's, borrowed.
 */
#ifndef XDC_XEN_OBSERVE_H
#define XDC_XEN_OBSERVE_H

#include "drivers/xen_config.h" /* first: xenctrl.h before libxl.h */

#include <stddef.h>

#include <xenstore.h>

#include "drivers/driver.h"

/* What xenstore says of a live domain: is it a stub, is it xdc's. */
struct xen_own {
	int ow_stub;
	int ow_managed;
	struct xen_marker ow_mk;
	char *ow_vals[XEN_MK__COUNT]; /* the marker's strings */
};

/* The value at the path, NULL when absent; the caller frees it. */
char *xen_xs_get(struct xs_handle *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Every domain, in one hypercall unless there are very many; *out is the
 * caller's to free. host names the host in an error. */
int xen_list_domains(
    xc_interface *, const char *host, xc_domaininfo_t **out, size_t *n);

/*
 * Whether a live domain is a stub domain and whether it carries xdc's
 * marker naming it (name: /local/domain/ID/name, NULL when unnamed). The
 * marker's strings are ow's until xen_own_free().
 */
void xen_own_read(struct xs_handle *, const xc_domaininfo_t *, const char *name,
    struct xen_own *ow);
void xen_own_free(struct xen_own *);

/*
 * The host as xdc observes it, under the name host: every domain but the
 * dying, and the host's capacity. On success hands *out to the caller.
 */
int xen_observe_host(xc_interface *, struct xs_handle *, const char *host,
    struct xdc_observed **out);

#endif /* XDC_XEN_OBSERVE_H */
