/*
 * A Linux watchdog device (see wdt.h): armed on the first call, petted by
 * the next, stopped by the magic close. Every step is a quick system
 * call, so an agent may pet from its event loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/watchdog.h>

#include "base/error.h"
#include "drivers/wdt.h"

int
wdt_secs(int64_t timeout_ms)
{
	if (timeout_ms <= 0 || timeout_ms > (int64_t)INT_MAX * 1000)
		return -1;
	return (int)((timeout_ms + 999) / 1000);
}

/*
 * Stop the device and let it go. WDIOS_DISABLECARD says when the kernel
 * was told never to stop it (nowayout), which a magic close alone would
 * not: the host would then reboot after its timeout, though the agent
 * stopped cleanly. A device without that ioctl stops at the magic close.
 */
static int
wdt_stop(struct wdt *w)
{
	int opt = WDIOS_DISABLECARD;

	if (w->w_fd < 0)
		return 0;
	if (ioctl(w->w_fd, WDIOC_SETOPTIONS, &opt) < 0 && errno == EBUSY)
		return xdc_error(XDC_EDRIVER,
		    "%s: the watchdog cannot be stopped (the kernel's nowayout "
		    "is set): the host reboots unless it is petted",
		    w->w_path);
	if (write(w->w_fd, "V", 1) != 1)
		return xdc_error_sys(XDC_EDRIVER,
		    "%s: cannot stop the watchdog (its magic close)",
		    w->w_path);
	close(w->w_fd);
	w->w_fd = -1;
	w->w_secs = 0;
	return 0;
}

static int
wdt_open(struct wdt *w)
{
	w->w_fd = open(w->w_path, O_WRONLY | O_CLOEXEC);
	if (w->w_fd >= 0)
		return 0;
	if (errno == ENOENT || errno == ENODEV || errno == ENXIO)
		return xdc_error(XDC_EDRIVER,
		    "%s: no watchdog device here: load xen_wdt (modprobe "
		    "xen_wdt) for --watchdog",
		    w->w_path);
	if (errno == EBUSY)
		return xdc_error(XDC_EDRIVER,
		    "%s: the watchdog is held by another process (another "
		    "xdc, or a watchdog daemon)",
		    w->w_path);
	return xdc_error_sys(XDC_EDRIVER, "cannot open %s", w->w_path);
}

/* Give the device the timeout; it says which it took. */
static int
wdt_timeout(struct wdt *w, int secs)
{
	int got = secs;

	if (ioctl(w->w_fd, WDIOC_SETTIMEOUT, &got) < 0)
		return xdc_error_sys(XDC_EDRIVER,
		    "%s: cannot set the watchdog's timeout to %d s", w->w_path,
		    secs);
	/*
	 * A device that keeps another timeout would fire when nobody
	 * expects it: sooner than the pets come, or later than the others
	 * wait before they take over the host's VMs.
	 */
	if (got != secs)
		return xdc_error(XDC_EDRIVER,
		    "%s: the watchdog took a timeout of %d s, not the %d s "
		    "asked",
		    w->w_path, got, secs);
	w->w_secs = secs;
	return 0;
}

int
wdt_set(struct wdt *w, int64_t timeout_ms)
{
	char why[512];
	int secs, rc, opened = 0;

	if (timeout_ms == 0)
		return wdt_stop(w);
	if ((secs = wdt_secs(timeout_ms)) < 0)
		return xdc_error(XDC_EDRIVER,
		    "%s: a watchdog timeout of %lld ms is out of range",
		    w->w_path, (long long)timeout_ms);
	if (w->w_fd < 0) {
		if ((rc = wdt_open(w)) != 0)
			return rc;
		opened = 1;
	}
	if (secs != w->w_secs && (rc = wdt_timeout(w, secs)) != 0)
		goto fail;
	if (ioctl(w->w_fd, WDIOC_KEEPALIVE, 0) < 0) {
		rc = xdc_error_sys(
		    XDC_EDRIVER, "%s: cannot pet the watchdog", w->w_path);
		goto fail;
	}
	return 0;
fail:
	/* An arm that failed leaves no watchdog running, at its default. */
	if (opened) {
		snprintf(why, sizeof(why), "%s", xdc_error_last());
		xdc_error(rc, "%s%s", why,
		    wdt_stop(w) != 0 ? "; and it could not be stopped" : "");
	}
	return rc;
}
