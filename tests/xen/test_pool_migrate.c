/*
 * test_pool_migrate: xdc's plan carried out by the xen driver between the
 * pool lab's two hosts, the way an agent with the pool view does it (SPEC
 * §8), while `xdc run --etcd` is not there to do it. It observes this host
 * through the xen driver and the other through `ssh PEER xdc show --json`
 * (standing in for the observation an agent reads from etcd), plans
 * CONFIG for this host with the driver's capabilities (po_migrate), prints
 * the plan, and applies the actions that are this host's, in order, each
 * submitted and reaped as exec does, with its time. A VM whose host
 * changes in CONFIG thus moves as the plan says: live, when the plan says
 * migrate.
 *
 *   test_pool_migrate SELF PEER CONFIG
 *
 * Output: the plan's text, then for each action "action: LINE" and
 * "ok - ..." or "not ok - ..." with its time in seconds ("took 12.34
 * s"). The exit code is 1 when planning or an action failed.
 */
#include "drivers/xen_config.h" /* first: xenctrl.h before libxl.h */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "base/arena.h"
#include "base/diag.h"
#include "base/error.h"
#include "base/ev.h"
#include "drivers/driver.h"
#include "drivers/obs_json.h"
#include "drivers/xen.h"
#include "planner/plan.h"
#include "schema/schema.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* PEER's host as `xdc show --json` there prints it, named PEER. */
static int
peer_observe(
    const char *peer, struct xdc_arena *arena, struct xdc_obs_host *out)
{
	char cmd[256];
	json_error_t jerr;
	json_t *root = NULL, *hosts;
	FILE *fp;
	int rc = XDC_ERR;

	snprintf(cmd, sizeof(cmd),
	    "ssh -o BatchMode=yes %s xdc show --json --host %s", peer, peer);
	if ((fp = popen(cmd, "r")) == NULL)
		return xdc_error_sys(XDC_ERR, "%s", cmd);
	root = json_loadf(fp, 0, &jerr);
	if (pclose(fp) != 0 || root == NULL) {
		rc = xdc_error(XDC_ERR, "%s: failed or no JSON (%s)", cmd,
		    root == NULL ? jerr.text : "exit status not 0");
		goto out;
	}
	hosts = json_object_get(root, "hosts");
	if (!json_is_array(hosts) || json_array_size(hosts) != 1) {
		rc = xdc_error(XDC_ERR, "%s: not one host", cmd);
		goto out;
	}
	if ((rc = obs_json_read_host(
	         json_array_get(hosts, 0), cmd, arena, out)) != 0)
		goto out;
	out->oh_name = xdc_arena_strdup(arena, peer);
out:
	json_decref(root);
	return rc;
}

/* One action, submitted and reaped as exec does; its result. */
static int
apply_wait(
    struct xdc_driver *drv, struct xdc_ev *ev, const struct xdc_action *a)
{
	uint64_t token;
	char *msg = NULL;
	int rc, result;

	if ((rc = drv->submit(drv, a, 1)) != 0)
		return rc;
	while ((rc = drv->reap(drv, &token, &result, &msg)) == XDC_ENOTFOUND)
		if (xdc_ev_run_once(ev, 100) < 0)
			return xdc_error(XDC_ERR, "the event loop failed");
	if (rc == 0 && result != 0)
		rc =
		    xdc_error(result, "%s", msg != NULL ? msg : "(no message)");
	free(msg);
	return rc;
}

int
main(int argc, char **argv)
{
	struct xdc_diags *diags = xdc_diags_new();
	struct xdc_observed *own = NULL, *obs = xdc_observed_new();
	struct xdc_config *cfg = NULL;
	struct xdc_driver *drv = NULL;
	struct xdc_plan *plan = NULL;
	struct xdc_obs_host peer;
	struct xdc_ev *ev = xdc_ev_new();
	struct plan_opts po;
	const struct xdc_action *a;
	const char *self, *peer_name;
	double t0;
	size_t i, mine = 0;
	int rc, failed = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 4) {
		fprintf(stderr, "usage: test_pool_migrate SELF PEER CONFIG\n");
		return 2;
	}
	self = argv[1];
	peer_name = argv[2];
	if ((rc = schema_load(argv[3], &cfg, diags)) != 0) {
		xdc_diags_print(diags, stdout);
		printf("not ok - load %s: %s\n", argv[3],
		    rc == XDC_EINVALID ? "invalid" : xdc_error_last());
		return 1;
	}
	if ((rc = xen_open(self, &drv)) != 0 ||
	    (rc = drv->attach(drv, ev)) != 0 ||
	    (rc = drv->observe(drv, &own)) != 0) {
		printf("not ok - the xen driver as host %s: %s\n", self,
		    xdc_error_last());
		return 1;
	}
	memset(&peer, 0, sizeof(peer));
	if (peer_observe(peer_name, obs->obs_arena, &peer) != 0) {
		printf("not ok - observe host %s: %s\n", peer_name,
		    xdc_error_last());
		return 1;
	}
	/* Both hosts, sorted by name, as drivers give them. */
	obs->obs_nhosts = 2;
	obs->obs_hosts =
	    xdc_arena_zalloc(obs->obs_arena, 2 * sizeof(*obs->obs_hosts));
	i = strcmp(self, peer_name) < 0 ? 0 : 1;
	obs->obs_hosts[i] = own->obs_hosts[0];
	obs->obs_hosts[1 - i] = peer;

	memset(&po, 0, sizeof(po));
	po.po_now = time(NULL);
	po.po_self = self;
	po.po_migrate = (drv->caps & XDC_DRV_MIGRATE) != 0;
	if ((rc = plan_compute(cfg, obs, &po, &plan, diags)) != 0) {
		xdc_diags_print(diags, stdout);
		printf("not ok - plan %s as host %s: %s\n", argv[3], self,
		    rc == XDC_EINVALID ? "cannot be satisfied"
		                       : xdc_error_last());
		return 1;
	}
	plan_print_text(plan, stdout);
	for (i = 0; i < plan_count(plan); i++) {
		a = plan_action(plan, i);
		if (a->a_host == NULL || strcmp(a->a_host, self) != 0)
			continue;
		mine++;
		/* The headline, without a newline of its own. */
		printf("action: ");
		plan_print_action(plan, i, stdout);
		printf("\n");
		t0 = now();
		rc = apply_wait(drv, ev, a);
		printf("%s - %s %s: took %.2f s%s%s\n", rc ? "not ok" : "ok",
		    xdc_op_name(a->a_op), a->a_name ? a->a_name : "",
		    now() - t0, rc ? ": " : "", rc ? xdc_error_last() : "");
		if (rc != 0) {
			failed = 1;
			break; /* what follows may depend on it */
		}
	}
	printf("# %zu of %zu actions are host %s's\n", mine, plan_count(plan),
	    self);
	xdc_plan_free(plan);
	xdc_observed_free(obs);
	xdc_observed_free(own);
	drv->free(drv);
	xdc_config_free(cfg);
	xdc_diags_free(diags);
	xdc_ev_free(ev);
	return failed;
}
