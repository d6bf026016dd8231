/*
 * The pipeline's rules (reconciler/session.c) that plan, apply and run
 * share: which host an agent applies, and that a host the configuration
 * does not declare is an error rather than an agent with nothing to do.
 * The drivers here are stand-ins: only their names matter.
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

#include "base/diag.h"
#include "base/error.h"
#include "drivers/driver.h"
#include "reconciler/cli.h"
#include "reconciler/session.h"
#include "schema/schema.h"

#define HOSTS_YAML                                                             \
	"kind: Host\nname: xen-a\n---\nkind: Host\nname: xen-b\n---\n"         \
	"kind: Host\nname: xen-c\n"

struct fx {
	struct cli cli;
	struct session s;
	struct xdc_driver drv;
	struct xdc_config *cfg;
};

static struct xdc_config *
config(const char *yaml)
{
	struct xdc_diags *d = xdc_diags_new();
	struct schema_loader *sl = schema_loader_new("cfg", d);
	struct xdc_config *cfg = NULL;

	schema_loader_add(sl, "cfg/hosts.yaml", yaml, strlen(yaml));
	assert_int_equal(schema_loader_finish(sl, &cfg), 0);
	xdc_diags_free(d);
	return cfg;
}

/* A session whose driver is named name, for a configuration of yaml. */
static struct fx *
fx_new(const char *driver, const char *yaml)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->cli.cl_prog = "xdc";
	f->drv.version = XDC_DRIVER_VERSION;
	f->drv.name = driver;
	session_init(&f->s, &f->cli, NULL);
	f->s.se_drv = &f->drv;
	f->cfg = config(yaml);
	return f;
}

static void
fx_free(struct fx *f)
{
	f->s.se_drv = NULL; /* not a driver to free */
	session_close(&f->s);
	xdc_config_free(f->cfg);
	free(f);
}

static void
test_host_option_names_the_host(void **state)
{
	struct fx *f = fx_new("sim", HOSTS_YAML);

	(void)state;
	f->cli.cl_host = "xen-b";
	assert_string_equal(session_host(&f->s, f->cfg), "xen-b");
	f->drv.name = "xen";
	assert_string_equal(session_host(&f->s, f->cfg), "xen-b");
	assert_int_equal(session_check_host(&f->s, f->cfg), 0);
	fx_free(f);
}

/* apply and run alike: a Xen agent applies its own host's actions only. */
static void
test_xen_agent_is_the_host_it_runs_on(void **state)
{
	struct fx *f = fx_new("xen", HOSTS_YAML);
	char name[256];

	(void)state;
	assert_int_equal(gethostname(name, sizeof(name)), 0);
	assert_non_null(session_host(&f->s, f->cfg));
	assert_string_equal(session_host(&f->s, f->cfg), name);
	fx_free(f);
	/* Without Hosts, the one host is local. */
	f = fx_new("xen", "kind: VM\nname: a\nmemory: 1GiB\nkernel: /k\n");
	assert_string_equal(session_host(&f->s, f->cfg), XDC_LOCAL_HOST);
	fx_free(f);
}

static void
test_netlink_agent_is_the_host_it_runs_on(void **state)
{
	struct fx *f = fx_new("sim", HOSTS_YAML);

	(void)state;
	f->cli.cl_net = "netlink";
	assert_non_null(session_host(&f->s, f->cfg));
	fx_free(f);
}

static void
test_sim_agent_plays_the_whole_pool(void **state)
{
	struct fx *f = fx_new("sim", HOSTS_YAML);

	(void)state;
	assert_null(session_host(&f->s, f->cfg));
	assert_int_equal(session_check_host(&f->s, f->cfg), 0);
	fx_free(f);
}

static void
test_undeclared_host_is_an_error_naming_the_hosts(void **state)
{
	struct fx *f = fx_new("sim", HOSTS_YAML);

	(void)state;
	f->cli.cl_host = "xen-z";
	assert_int_equal(session_check_host(&f->s, f->cfg), XDC_EINVALID);
	assert_string_equal(xdc_error_last(),
	    "--host \"xen-z\" is not a Host of cfg, which declares xen-a, "
	    "xen-b and xen-c: this agent would have nothing to do");
	fx_free(f);
}

static void
test_undeclared_hostname_of_a_xen_agent_is_an_error(void **state)
{
	struct fx *f = fx_new("xen", HOSTS_YAML);

	(void)state;
	assert_int_equal(session_check_host(&f->s, f->cfg), XDC_EINVALID);
	assert_non_null(strstr(xdc_error_last(), "this host \""));
	fx_free(f);
}

static void
test_any_host_goes_without_hosts_declared(void **state)
{
	struct fx *f =
	    fx_new("sim", "kind: VM\nname: a\nmemory: 1GiB\nkernel: /k\n");

	(void)state;
	f->cli.cl_host = "elsewhere";
	assert_int_equal(session_check_host(&f->s, f->cfg), 0);
	fx_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_option_names_the_host),
		cmocka_unit_test(test_xen_agent_is_the_host_it_runs_on),
		cmocka_unit_test(test_netlink_agent_is_the_host_it_runs_on),
		cmocka_unit_test(test_sim_agent_plays_the_whole_pool),
		cmocka_unit_test(
		    test_undeclared_host_is_an_error_naming_the_hosts),
		cmocka_unit_test(
		    test_undeclared_hostname_of_a_xen_agent_is_an_error),
		cmocka_unit_test(test_any_host_goes_without_hosts_declared),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
