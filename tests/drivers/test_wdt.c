/*
 * The watchdog device (drivers/wdt.c), without a watchdog: the device is
 * a file of the test's, and ioctl(2) on it is answered here, as xen_wdt
 * would answer, or as a device that misbehaves. What the host does when
 * the device fires is for the Xen lab (docs/xen-lab.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/watchdog.h>

#include "base/error.h"
#include "drivers/wdt.h"

/* The fake device: what it answers, and what it was asked. */
static struct {
	char path[64];
	ino_t ino;
	int took;        /* the timeout it keeps; 0: the one asked */
	int disable_err; /* WDIOS_DISABLECARD's errno; 0: it stops */
	int timeout;     /* the last one set */
	int n_timeouts, n_pets, n_disables;
} dev;

/*
 * Every ioctl of this program comes here: the fake device's are answered,
 * any other goes to the kernel.
 */
int
ioctl(int fd, unsigned long req, ...)
{
	struct stat st;
	va_list ap;
	int *arg;

	va_start(ap, req);
	arg = va_arg(ap, int *);
	va_end(ap);
	if (fstat(fd, &st) != 0 || st.st_ino != dev.ino || dev.ino == 0)
		return (int)syscall(SYS_ioctl, fd, req, arg);
	switch (req) {
	case WDIOC_SETTIMEOUT:
		dev.n_timeouts++;
		dev.timeout = dev.took ? dev.took : *arg;
		*arg = dev.timeout;
		return 0;
	case WDIOC_KEEPALIVE:
		dev.n_pets++;
		return 0;
	case WDIOC_SETOPTIONS:
		dev.n_disables++;
		if (*arg == WDIOS_DISABLECARD && dev.disable_err == 0)
			return 0;
		errno = dev.disable_err ? dev.disable_err : EINVAL;
		return -1;
	default:
		errno = ENOTTY;
		return -1;
	}
}

static int
setup(void **state)
{
	struct stat st;
	int fd;

	(void)state;
	memset(&dev, 0, sizeof(dev));
	snprintf(dev.path, sizeof(dev.path), "/tmp/xdc-test-wdt.XXXXXX");
	if ((fd = mkstemp(dev.path)) < 0 || fstat(fd, &st) != 0)
		return -1;
	dev.ino = st.st_ino;
	close(fd);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(dev.path);
	return 0;
}

/* What was written to the device: the magic close's 'V', or nothing. */
static char
written(void)
{
	char c = 0;
	int fd = open(dev.path, O_RDONLY);

	assert_true(fd >= 0);
	if (read(fd, &c, 1) != 1)
		c = 0;
	close(fd);
	return c;
}

#define assert_error_has(s)                                                    \
	do {                                                                   \
		if (strstr(xdc_error_last(), (s)) == NULL)                     \
			fail_msg("\"%s\" does not say \"%s\"",                 \
			    xdc_error_last(), (s));                            \
	} while (0)

static void
test_seconds_round_up(void **state)
{
	(void)state;
	assert_int_equal(wdt_secs(1), 1);
	assert_int_equal(wdt_secs(999), 1);
	assert_int_equal(wdt_secs(1000), 1);
	assert_int_equal(wdt_secs(1001), 2);
	assert_int_equal(wdt_secs(2500), 3);
	assert_int_equal(wdt_secs(3000), 3);
	assert_int_equal(wdt_secs((int64_t)INT_MAX * 1000), INT_MAX);
	assert_int_equal(wdt_secs((int64_t)INT_MAX * 1000 + 1), -1);
	assert_int_equal(wdt_secs(0), -1);
	assert_int_equal(wdt_secs(-1000), -1);
}

static void
test_no_device_says_load_xen_wdt(void **state)
{
	struct wdt w = WDT_INIT("/nonexistent/watchdog");

	(void)state;
	assert_int_equal(wdt_set(&w, 3000), XDC_EDRIVER);
	assert_error_has("/nonexistent/watchdog: no watchdog device here");
	assert_error_has("load xen_wdt");
	assert_int_equal(w.w_fd, -1);
	/* Nothing armed, nothing to disarm. */
	assert_int_equal(wdt_set(&w, 0), 0);
	assert_int_equal(wdt_set(&w, -1), XDC_EDRIVER);
	assert_error_has("out of range");
}

static void
test_arm_pet_and_disarm(void **state)
{
	struct wdt w = WDT_INIT(dev.path);

	(void)state;
	assert_int_equal(wdt_set(&w, 2500), 0);
	assert_true(w.w_fd >= 0);
	assert_int_equal(dev.n_timeouts, 1);
	assert_int_equal(dev.timeout, 3);
	assert_int_equal(dev.n_pets, 1);
	/* A pet with the same timeout only pets. */
	assert_int_equal(wdt_set(&w, 2500), 0);
	assert_int_equal(dev.n_timeouts, 1);
	assert_int_equal(dev.n_pets, 2);
	/* Another timeout is given to the device. */
	assert_int_equal(wdt_set(&w, 4000), 0);
	assert_int_equal(dev.n_timeouts, 2);
	assert_int_equal(dev.timeout, 4);
	assert_int_equal(dev.n_pets, 3);
	assert_int_equal(written(), 0);
	/* Disarmed: stopped, the magic close written, the device let go. */
	assert_int_equal(wdt_set(&w, 0), 0);
	assert_int_equal(dev.n_disables, 1);
	assert_int_equal(written(), 'V');
	assert_int_equal(w.w_fd, -1);
	assert_int_equal(wdt_set(&w, 0), 0);
	assert_int_equal(dev.n_disables, 1);
	/* Armed again: opened again, given its timeout again. */
	assert_int_equal(wdt_set(&w, 1000), 0);
	assert_int_equal(dev.n_timeouts, 3);
	assert_int_equal(dev.timeout, 1);
	assert_int_equal(wdt_set(&w, 0), 0);
}

/* A device that keeps its own timeout would fire when nobody expects. */
static void
test_a_device_that_keeps_another_timeout_is_refused(void **state)
{
	struct wdt w = WDT_INIT(dev.path);

	(void)state;
	dev.took = 60;
	assert_int_equal(wdt_set(&w, 3000), XDC_EDRIVER);
	assert_error_has("took a timeout of 60 s, not the 3 s asked");
	/* The arm failed: the watchdog it started is stopped. */
	assert_int_equal(w.w_fd, -1);
	assert_int_equal(written(), 'V');
}

/* With nowayout the watchdog cannot stop: said, and still petted. */
static void
test_a_watchdog_that_cannot_stop_says_so(void **state)
{
	struct wdt w = WDT_INIT(dev.path);

	(void)state;
	assert_int_equal(wdt_set(&w, 3000), 0);
	dev.disable_err = EBUSY;
	assert_int_equal(wdt_set(&w, 0), XDC_EDRIVER);
	assert_error_has("cannot be stopped (the kernel's nowayout is set)");
	assert_true(w.w_fd >= 0);
	assert_int_equal(written(), 0);
	assert_int_equal(wdt_set(&w, 3000), 0);
	assert_int_equal(dev.n_pets, 2);
	dev.disable_err = 0;
	assert_int_equal(wdt_set(&w, 0), 0);
	assert_int_equal(w.w_fd, -1);
}

/*
 * A device without WDIOS_DISABLECARD stops at the magic close; a file that
 * is no watchdog at all is refused, and left as if never armed.
 */
static void
test_magic_close_alone_and_no_watchdog(void **state)
{
	struct wdt w = WDT_INIT(dev.path);
	struct wdt null = WDT_INIT("/dev/null");

	(void)state;
	dev.disable_err = ENOTTY;
	assert_int_equal(wdt_set(&w, 3000), 0);
	assert_int_equal(wdt_set(&w, 0), 0);
	assert_int_equal(written(), 'V');
	assert_int_equal(w.w_fd, -1);
	assert_int_equal(wdt_set(&null, 3000), XDC_EDRIVER);
	assert_error_has("/dev/null: cannot set the watchdog's timeout to 3 s");
	assert_int_equal(null.w_fd, -1);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_seconds_round_up),
		T(test_no_device_says_load_xen_wdt),
		T(test_arm_pet_and_disarm),
		T(test_a_device_that_keeps_another_timeout_is_refused),
		T(test_a_watchdog_that_cannot_stop_says_so),
		T(test_magic_close_alone_and_no_watchdog),
	};

	return cmocka_run_group_tests_name("drivers/wdt", tests, NULL, NULL);
}
