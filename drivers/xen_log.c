/*
 * The xen driver's logger (xen_priv.h): libxl and libxc report errors
 * through a xentoollog logger, and this one keeps the last few in a ring
 * instead of printing them, so that a failure reaches the user through
 * xdc_error() in libxl's own words, first cause and last word, leaving
 * out what other domains' operations logged meanwhile.
 */
#include "drivers/xen_priv.h" /* first: xenctrl.h before libxl.h */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/error.h"

static void log_vmessage(xentoollog_logger *lg, xentoollog_level level,
    int errnoval, const char *context, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));

static void
log_vmessage(xentoollog_logger *lg, xentoollog_level level, int errnoval,
    const char *context, const char *fmt, va_list ap)
{
	struct xen_log *l = (struct xen_log *)lg;
	char msg[512], *slot;
	const char *m = msg, *p;
	size_t n;

	(void)context;
	if (level < XTL_ERROR)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* libxl says where: "libxl_create.c:662:libxl__domain_make: ". */
	if ((p = strstr(msg, ".c:")) != NULL && p - msg < 48 &&
	    (p = strchr(p + 3, ':')) != NULL && (p = strchr(p + 1, ':')) &&
	    p[1] == ' ')
		m = p + 2;
	n = strlen(m);
	while (n > 0 && (m[n - 1] == '\n' || m[n - 1] == ' '))
		n--;
	slot = l->lg_msg[l->lg_seq % XEN_LOG_RING];
	if (errnoval > 0)
		snprintf(slot, XEN_LOG_MSGSZ, "%.*s: %s", (int)n, m,
		    strerror(errnoval));
	else
		snprintf(slot, XEN_LOG_MSGSZ, "%.*s", (int)n, m);
	l->lg_seq++;
}

static void
log_progress(xentoollog_logger *lg, const char *context, const char *what,
    int percent, unsigned long done, unsigned long total)
{
	(void)lg, (void)context, (void)what, (void)percent, (void)done;
	(void)total;
}

static void
log_destroy(xentoollog_logger *lg)
{
	(void)lg; /* embedded in struct xen, freed with it */
}

/* Forget earlier errors: what follows is about the next call. */
void
xen_log_clear(struct xen *x)
{
	x->x_log.lg_mark = x->x_log.lg_seq;
}

/* Whether a message is about another domain than domid ("Domain 7:..."). */
static int
log_other_domain(const char *msg, uint32_t domid)
{
	unsigned d;

	return domid != XEN_NO_DOMID && sscanf(msg, "Domain %u:", &d) == 1 &&
	       d != domid;
}

/*
 * libxl's words for a failure: the first error logged since seq (the
 * cause) and the last (what gave up), leaving out those about other
 * domains, which actions in flight at the same time log too; or its code.
 */
const char *
xen_lx_why(struct xen *x, int rc, uint64_t seq, uint32_t domid,
    char buf[XEN_WHY_BUFSZ])
{
	const struct xen_log *l = &x->x_log;
	const char *first = NULL, *last = NULL, *m;

	if (l->lg_seq > XEN_LOG_RING && seq < l->lg_seq - XEN_LOG_RING)
		seq = l->lg_seq - XEN_LOG_RING;
	for (; seq < l->lg_seq; seq++) {
		m = l->lg_msg[seq % XEN_LOG_RING];
		if (log_other_domain(m, domid))
			continue;
		if (first == NULL)
			first = m;
		last = m;
	}
	if (first == NULL)
		snprintf(buf, XEN_WHY_BUFSZ, "libxl error %d", rc);
	else if (first == last)
		snprintf(buf, XEN_WHY_BUFSZ, "%s", first);
	else
		snprintf(buf, XEN_WHY_BUFSZ, "%s; %s", first, last);
	return buf;
}

/* "host H: cannot VERB NAME: WHY" with libxl's reason since xen_log_clear(). */
int
xen_lx_fail(struct xen *x, int rc, const char *verb, const char *name)
{
	char why[XEN_WHY_BUFSZ];

	return xdc_error(XDC_EDRIVER, "host %s: cannot %s %s: %s", x->x_host,
	    verb, name, xen_lx_why(x, rc, x->x_log.lg_mark, XEN_NO_DOMID, why));
}
void
xen_log_init(struct xen_log *l)
{
	memset(l, 0, sizeof(*l));
	l->lg_vtable.vmessage = log_vmessage;
	l->lg_vtable.progress = log_progress;
	l->lg_vtable.destroy = log_destroy;
}
