/*
 * The composing driver (drivers/compose.c): what it forwards to the
 * domains' driver and what it leaves out. Its domains' driver here is the
 * sim, its network driver one that does nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/error.h"
#include "drivers/compose.h"
#include "drivers/driver.h"
#include "drivers/sim.h"

static int
none_observe(struct xdc_driver *drv, struct xdc_observed **out)
{
	(void)drv;
	*out = xdc_observed_new();
	return 0;
}

static int
none_apply(struct xdc_driver *drv, const struct xdc_action *a)
{
	(void)drv;
	(void)a;
	return 0;
}

static void
none_free(struct xdc_driver *drv)
{
	free(drv);
}

static struct xdc_driver *
none_new(void)
{
	struct xdc_driver *d = xdc_calloc(1, sizeof(*d));

	d->version = XDC_DRIVER_VERSION;
	d->name = "none";
	d->observe = none_observe;
	d->apply = none_apply;
	d->free = none_free;
	return d;
}

/* The host's watchdog is the domains' driver's, when it has one. */
static void
test_the_watchdog_is_the_domain_drivers(void **state)
{
	char dir[] = "/tmp/xdc-test-compose.XXXXXX", path[64], lock[80];
	struct xdc_driver *dom, *out;
	char *text = NULL;
	size_t len;
	FILE *fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/a.json", dir);
	snprintf(lock, sizeof(lock), "%s.lock", path);

	assert_int_equal(sim_open(path, NULL, &dom), 0);
	assert_int_equal(compose_new(dom, none_new(), "local", &out), 0);
	assert_null(out->watchdog);
	out->free(out);

	assert_int_equal(sim_open_host(path, NULL, "xen-a", &dom), 0);
	assert_int_equal(compose_new(dom, none_new(), "xen-a", &out), 0);
	assert_non_null(out->watchdog);
	assert_int_equal(out->watchdog(out, 5000), 0);
	out->free(out);
	assert_non_null(fp = fopen(path, "r"));
	assert_true(getdelim(&text, &len, '\0', fp) > 0);
	fclose(fp);
	assert_non_null(strstr(text, "\"timeout_ms\": 5000"));
	free(text);
	unlink(path);
	unlink(lock);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_watchdog_is_the_domain_drivers),
	};

	return cmocka_run_group_tests_name(
	    "drivers/compose", tests, NULL, NULL);
}
