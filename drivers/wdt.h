/*
 * A Linux watchdog device (the kernel's Documentation/watchdog/
 * watchdog-api.rst), as the xen driver arms Xen's through the xen_wdt
 * module: opening /dev/watchdog starts it, WDIOC_SETTIMEOUT sets its
 * timeout in whole seconds, WDIOC_KEEPALIVE pets it, and a 'V' written
 * before the close (the "magic close") stops it, where a close without
 * one leaves it running: a killed process still reboots its host.
 */
#ifndef XDC_WDT_H
#define XDC_WDT_H

#include <stdint.h>

/*
 * One device; WDT_INIT(path) before the first call. The device opens once,
 * at the first arm, and stays open until it is disarmed: the kernel lets
 * one process at a time hold it.
 */
struct wdt {
	const char *w_path; /* "/dev/watchdog" */
	int w_fd;           /* -1 while disarmed */
	int w_secs;         /* the timeout the device was given */
};
#define WDT_INIT(path)                                                         \
	{                                                                      \
		(path), -1, 0                                                  \
	}

/*
 * timeout_ms in the whole seconds a device counts in, rounded up (a
 * watchdog that fires later than asked, never sooner); -1 when it is not
 * from 1 ms to INT_MAX seconds.
 */
int wdt_secs(int64_t timeout_ms);

/*
 * timeout_ms > 0 arms the device (opened and given the timeout) or pets
 * it (given the timeout again when it changed); 0 disarms it, cleanly,
 * which does nothing when it is not armed. Returns 0, or XDC_EDRIVER with
 * the reason in xdc_error_last(): no device ("load xen_wdt"), a device
 * that keeps another timeout than the one asked, one that cannot be
 * stopped (nowayout). An arm that fails leaves the device disarmed; a
 * pet or a disarm that fails leaves it armed.
 */
int wdt_set(struct wdt *, int64_t timeout_ms);

#endif /* XDC_WDT_H */
