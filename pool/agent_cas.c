/*
 * The pool agent's compare-and-swaps (see agent_priv.h). A claim of a VM
 * (P claims/VM) or a slot of an SLA's budget (P budget/SLA/K) is taken
 * by a txn that creates its key under this host's lease only if nothing
 * is there, and given back by one that deletes it only if it still holds
 * this host's value under that lease; a release etcd did not answer is
 * sent again at each tick. The executor's side is here too:
 * pool_agent_gate takes what an action needs before it starts, and
 * pool_agent_done and the settling at each snapshot give it back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/error.h"
#include "pool/agent.h"
#include "pool/agent_priv.h"
#include "schema/model.h"

#define CLAIMS_IN_FLIGHT 16

/* ---- The slots this host's actions want -------------------------------- */

static struct busy *
busy_find(const struct pool_agent *a, const char *vm)
{
	size_t i;

	for (i = 0; i < a->a_nbusy; i++)
		if (!strcmp(a->a_busy[i].b_vm, vm))
			return &a->a_busy[i];
	return NULL;
}

/* vm's entry, made if need be, as asked for by this snapshot's plan. */
static struct busy *
busy_want(struct pool_agent *a, const char *vm)
{
	struct busy *b = busy_find(a, vm);

	if (b == NULL) {
		a->a_busy = xdc_reallocarray(
		    a->a_busy, a->a_nbusy + 1, sizeof(*a->a_busy));
		b = &a->a_busy[a->a_nbusy++];
		memset(b, 0, sizeof(*b));
		b->b_vm = xdc_strdup(vm);
	}
	b->b_gen = a->a_gen;
	return b;
}

void
agent_cas_busy_drop(struct pool_agent *a, const char *vm)
{
	struct busy *b = busy_find(a, vm);

	if (b == NULL)
		return;
	free(b->b_vm);
	*b = a->a_busy[--a->a_nbusy];
}

/* ---- Compare-and-swap: claims and slots ------------------------------- */

void
agent_cas_end(struct pool_agent *a, struct cas *c)
{
	size_t i;

	for (i = 0; i < a->a_ncas; i++)
		if (a->a_cas[i] == c) {
			a->a_cas[i] = a->a_cas[--a->a_ncas];
			break;
		}
	free(c->cs_key);
	free(c->cs_vm);
	free(c);
}

static struct cas *
cas_find(const struct pool_agent *a, const char *vm, int slot)
{
	size_t i;

	for (i = 0; i < a->a_ncas; i++)
		if (a->a_cas[i]->cs_slot == slot &&
		    !strcmp(a->a_cas[i]->cs_vm, vm))
			return a->a_cas[i];
	return NULL;
}

static void
on_cas(struct etcd_req *req, const struct etcd_result *res, void *arg)
{
	struct cas *c = arg;
	struct pool_agent *a = c->cs_pa;

	(void)req;
	if (res->res_rc != 0)
		agent_log(a, POOL_LOG_WARN,
		    c->cs_slot ? "budget slot not taken" : "claim not taken",
		    "vm", c->cs_vm, "error", res->res_error, NULL, NULL);
	/* Won or lost, the watch brings the key's value: ask again then. */
	agent_cas_end(a, c);
	agent_changed(a);
}

/* Put value at key under the lease, if nothing is there. */
static int
cas_create(struct pool_agent *a, const char *key, const char *vm,
    const char *value, int slot)
{
	struct etcd_cmp cmp;
	struct etcd_op put;
	struct cas *c;

	if (a->a_ncas >= CLAIMS_IN_FLIGHT || a->a_lease == 0)
		return -1;
	memset(&cmp, 0, sizeof(cmp));
	cmp.cmp_key = key;
	cmp.cmp_target = ETCD_CMP_CREATE;
	cmp.cmp_result = ETCD_EQUAL;
	cmp.cmp_number = 0;
	memset(&put, 0, sizeof(put));
	put.op_kind = ETCD_PUT;
	put.op_key = key;
	put.op_value = value;
	put.op_value_len = strlen(value);
	put.op_lease = a->a_lease;
	c = xdc_calloc(1, sizeof(*c));
	c->cs_pa = a;
	c->cs_key = xdc_strdup(key);
	c->cs_vm = xdc_strdup(vm);
	c->cs_slot = slot;
	c->cs_req = etcd_txn(a->a_etcd, &cmp, 1, &put, 1, NULL, 0, on_cas, c);
	if (c->cs_req == NULL) {
		free(c->cs_key);
		free(c->cs_vm);
		free(c);
		return -1;
	}
	a->a_cas = xdc_reallocarray(a->a_cas, a->a_ncas + 1, sizeof(*a->a_cas));
	a->a_cas[a->a_ncas++] = c;
	return 0;
}

/* Delete key if its value is value (ours): a claim or slot given back. */
/*
 * Delete key if it still holds value under this lease; a release etcd
 * did not answer is tried again at each tick until it does, or the lease
 * goes (and the key with it): a claim given back into a dead link would
 * otherwise stay, under a lease that lives on, keeping its VM from
 * starting anywhere.
 */
static void release_send(struct pool_agent *, struct release *);

static void
on_released(struct etcd_req *req, const struct etcd_result *res, void *arg)
{
	struct release *r = arg;
	struct pool_agent *a = r->r_pa;
	size_t i;

	(void)req;
	r->r_req = NULL;
	if (res->res_rc != 0 && res->res_rc != XDC_ENOTFOUND)
		return; /* the tick tries again */
	for (i = 0; i < a->a_nrel; i++)
		if (a->a_rel[i] == r) {
			a->a_rel[i] = a->a_rel[--a->a_nrel];
			break;
		}
	free(r->r_key);
	free(r->r_value);
	free(r);
}

static void
release_send(struct pool_agent *a, struct release *r)
{
	struct etcd_cmp cmp[2];
	struct etcd_op del;

	if (r->r_req != NULL)
		return;
	memset(cmp, 0, sizeof(cmp));
	cmp[0].cmp_key = r->r_key;
	cmp[0].cmp_target = ETCD_CMP_VALUE;
	cmp[0].cmp_result = ETCD_EQUAL;
	cmp[0].cmp_value = r->r_value;
	cmp[0].cmp_value_len = strlen(r->r_value);
	cmp[1].cmp_key = r->r_key;
	cmp[1].cmp_target = ETCD_CMP_LEASE;
	cmp[1].cmp_result = ETCD_EQUAL;
	cmp[1].cmp_number = r->r_lease;
	memset(&del, 0, sizeof(del));
	del.op_kind = ETCD_DELETE;
	del.op_key = r->r_key;
	r->r_req =
	    etcd_txn(a->a_etcd, cmp, 2, &del, 1, NULL, 0, on_released, r);
}

void
agent_cas_release(struct pool_agent *a, const char *key, const char *value)
{
	struct release *r;
	size_t i;

	if (a->a_lease == 0)
		return; /* the key went with the lease */
	for (i = 0; i < a->a_nrel; i++)
		if (!strcmp(a->a_rel[i]->r_key, key))
			return; /* under way */
	r = xdc_calloc(1, sizeof(*r));
	r->r_pa = a;
	r->r_key = xdc_strdup(key);
	r->r_value = xdc_strdup(value);
	r->r_lease = a->a_lease;
	a->a_rel = xdc_reallocarray(a->a_rel, a->a_nrel + 1, sizeof(*a->a_rel));
	a->a_rel[a->a_nrel++] = r;
	release_send(a, r);
}

/* The releases not yet answered: again, or dropped with their lease. */
void
agent_cas_releases_retry(struct pool_agent *a)
{
	struct release *r;
	size_t i;

	for (i = 0; i < a->a_nrel; i++) {
		r = a->a_rel[i];
		if (r->r_lease == a->a_lease) {
			release_send(a, r);
			continue;
		}
		if (r->r_req != NULL)
			etcd_req_cancel(r->r_req);
		a->a_rel[i--] = a->a_rel[--a->a_nrel];
		free(r->r_key);
		free(r->r_value);
		free(r);
	}
}

void
agent_cas_claim_take(struct pool_agent *a, const char *vm)
{
	char *k;

	if (cas_find(a, vm, 0) != NULL)
		return;
	k = agent_key_of(a, "claims", vm);
	(void)cas_create(a, k, vm, a->a_self, 0);
	free(k);
}

static char *
slot_value(const struct pool_agent *a, const char *vm)
{
	json_t *o = json_pack("{s:s, s:s}", "host", a->a_self, "vm", vm);
	char *s = json_dumps(o, JSON_COMPACT);

	json_decref(o);
	return s != NULL ? s : xdc_strdup("{}");
}

/* ---- Giving back what is no longer wanted ---------------------------- */

static int
runs_somewhere(const struct xdc_observed *obs, const char *vm)
{
	const struct xdc_obs_domain *d;
	size_t i;

	for (i = 0; i < obs->obs_nhosts; i++) {
		d = xdc_obs_host_domain(&obs->obs_hosts[i], vm);
		if (d != NULL && (d->od_state == XDC_DOM_RUNNING ||
		                     d->od_state == XDC_DOM_PAUSED))
			return 1;
	}
	return 0;
}

/*
 * This host's slots outlive the action that took them while the VM is
 * down elsewhere: a VM moved away (destroyed here, created on another
 * host) is still disrupted until it runs there. A slot taken for an
 * action is kept until that action ends (pool_agent_done), though the VM
 * runs until the action stops it: the cycle that follows the taking
 * plans before it starts it. A slot goes back here once its VM runs on
 * some live host and no action wants it (moved away, or not asked for by
 * the last two plans), or once its VM is no longer declared.
 */
void
agent_cas_slots_settle(struct pool_agent *a, const struct xdc_config *cfg,
    const struct xdc_observed *obs)
{
	struct slot *sl;
	struct busy *b;
	char *key, *val;
	size_t i;

	for (i = 0; i < a->a_nslots; i++) {
		sl = &a->a_slots[i];
		if (strcmp(sl->s_host, a->a_self) != 0 ||
		    cas_find(a, sl->s_vm, 1) != NULL)
			continue;
		b = busy_find(a, sl->s_vm);
		if (xdc_config_vm(cfg, sl->s_vm) != NULL) {
			if (!runs_somewhere(obs, sl->s_vm))
				continue;
			if (b != NULL && !b->b_moved &&
			    (b->b_started || b->b_gen + 2 >= a->a_gen))
				continue;
		}
		agent_cas_busy_drop(a, sl->s_vm);
		xdc_asprintf(
		    &key, "%sbudget/%s/%u", a->a_prefix, sl->s_sla, sl->s_k);
		val = slot_value(a, sl->s_vm);
		agent_cas_release(a, key, val);
		free(key);
		free(val);
	}
}

/*
 * This host's claims of VMs it does not have: a claim taken for a start
 * that its plan then gave up (the set of lost hosts changed between the
 * claim and the start, so placement did) goes back once no plan has asked
 * for it for two snapshots; otherwise the VM could start nowhere else.
 */
void
agent_cas_claims_settle(struct pool_agent *a, const struct xdc_observed *obs)
{
	const struct xdc_obs_host *self = xdc_observed_host(obs, a->a_self);
	const struct busy *b;
	char *key;
	size_t i;

	if (self == NULL)
		return; /* not observed: nothing to say */
	for (i = 0; i < a->a_nclaims; i++) {
		if (strcmp(a->a_claims[i].c_host, a->a_self) != 0 ||
		    xdc_obs_host_domain(self, a->a_claims[i].c_vm) != NULL ||
		    cas_find(a, a->a_claims[i].c_vm, 0) != NULL)
			continue;
		b = busy_find(a, a->a_claims[i].c_vm);
		if (b != NULL && (b->b_started || b->b_gen + 2 >= a->a_gen))
			continue;
		key = agent_key_of(a, "claims", a->a_claims[i].c_vm);
		agent_cas_release(a, key, a->a_self);
		free(key);
	}
}

/* ---- The gate and the end of an action ----------------------------- */

/* How many of the SLA's VMs may be disrupted at once, by the config. */
static long
slot_count(const struct xdc_config *cfg, const struct xdc_sla *sla)
{
	size_t i, si = (size_t)(sla - cfg->cfg_slas), selected = 0;

	for (i = 0; i < cfg->cfg_nvms; i++)
		if (cfg->cfg_vms[i].vm_sla[XDC_POL_MIN_RUNNING] == si)
			selected++;
	return (long)selected - (long)sla->s_min_running;
}

static int
needs_claim(const struct xdc_action *a)
{
	return a->a_kind == XDC_OBJ_VM &&
	       (a->a_op == XDC_OP_CREATE || a->a_op == XDC_OP_START ||
	           a->a_op == XDC_OP_RESTART || a->a_op == XDC_OP_REPLACE);
}

int
pool_agent_gate(struct pool_agent *a, const struct xdc_config *cfg,
    const struct xdc_plan *plan, size_t i, const char **why)
{
	const struct xdc_action *act = plan_action(plan, i);
	const struct xdc_vm *vm;
	const struct xdc_sla *sla;
	const char *holder;
	long nslots, held = 0;
	unsigned k;
	size_t j;
	char *key, *val, *msg;
	uint8_t *used;
	const char *ready_why;
	struct busy *b;

	*why = NULL;
	if (act->a_kind != XDC_OBJ_VM || act->a_host == NULL ||
	    strcmp(act->a_host, a->a_self) != 0)
		return 0;
	if (!pool_agent_ready(a, &ready_why)) {
		*why = ready_why;
		return 1;
	}
	if (needs_claim(act) && agent_watchdog_lapsed(a)) {
		*why = "this host's watchdog went unpetted past its timeout: "
		       "the host has rebooted; waiting for the lease";
		return 1;
	}
	if (needs_claim(act)) {
		busy_want(a,
		    act->a_name); /* agent_cas_claims_settle keeps its claim */
		holder = agent_view_claim_holder(a, act->a_name);
		if (holder != NULL && strcmp(holder, a->a_self) != 0) {
			free(a->a_why);
			xdc_asprintf(&a->a_why, "%s is claimed by host %s",
			    act->a_name, holder);
			*why = a->a_why;
			return 1;
		}
		if (holder == NULL) {
			agent_cas_claim_take(a, act->a_name);
			*why = "taking its claim in etcd";
			return 1;
		}
	}
	vm = xdc_config_vm(cfg, act->a_name);
	if (!act->a_disruptive || vm == NULL ||
	    vm->vm_sla[XDC_POL_MIN_RUNNING] == XDC_NO_SLA) {
		if ((b = busy_find(a, act->a_name)) != NULL)
			b->b_started = 1;
		return 0;
	}
	sla = &cfg->cfg_slas[vm->vm_sla[XDC_POL_MIN_RUNNING]];
	nslots = slot_count(cfg, sla);
	for (j = 0; j < a->a_nslots; j++) {
		if (strcmp(a->a_slots[j].s_sla, sla->s_name) != 0)
			continue;
		if (!strcmp(a->a_slots[j].s_vm, act->a_name) &&
		    !strcmp(a->a_slots[j].s_host, a->a_self)) {
			/* Ours already: kept until the action ends. */
			busy_want(a, act->a_name)->b_started = 1;
			return 0;
		}
		held++;
	}
	busy_want(a, act->a_name);
	if (cas_find(a, act->a_name, 1) != NULL) {
		*why = "taking a slot of its SLA's budget in etcd";
		return 1;
	}
	if (nslots <= 0 || held >= nslots) {
		xdc_asprintf(&msg,
		    "sla %s: its budget of %ld disruption%s at once is in use "
		    "by other hosts",
		    sla->s_name, nslots > 0 ? nslots : 0,
		    nslots == 1 ? "" : "s");
		free(a->a_why);
		a->a_why = msg;
		*why = a->a_why;
		return 1;
	}
	/* The first slot free in this copy; the txn says if it still is. */
	used = xdc_calloc((size_t)nslots + 1, 1);
	for (j = 0; j < a->a_nslots; j++)
		if (!strcmp(a->a_slots[j].s_sla, sla->s_name) &&
		    a->a_slots[j].s_k < (unsigned)nslots)
			used[a->a_slots[j].s_k] = 1;
	for (k = 0; k < (unsigned)nslots && used[k]; k++)
		;
	free(used);
	if (k == (unsigned)nslots) {
		*why = "its SLA's budget is in use";
		return 1;
	}
	xdc_asprintf(&key, "%sbudget/%s/%u", a->a_prefix, sla->s_name, k);
	val = slot_value(a, act->a_name);
	(void)cas_create(a, key, act->a_name, val, 1);
	free(key);
	free(val);
	*why = "taking a slot of its SLA's budget in etcd";
	return 1;
}

/*
 * Whether destroying act's VM here is a move: the configuration still
 * declares it, so it is to run elsewhere (an agent's plan of its own part
 * need not hold the create on the other host), or plan creates it there.
 */
static int
moves_away(const struct xdc_config *cfg, const struct xdc_plan *plan,
    const struct xdc_action *act)
{
	const struct xdc_action *b;
	size_t i;

	if (cfg != NULL && xdc_config_vm(cfg, act->a_name) != NULL)
		return 1;
	for (i = 0; i < plan_count(plan); i++) {
		b = plan_action(plan, i);
		if (b->a_kind == XDC_OBJ_VM && b->a_op == XDC_OP_CREATE &&
		    !strcmp(b->a_name, act->a_name) && b->a_host != NULL &&
		    strcmp(b->a_host, act->a_host) != 0)
			return 1;
	}
	return 0;
}

void
pool_agent_done(struct pool_agent *a, const struct xdc_config *cfg,
    const struct xdc_plan *plan, size_t i, int done)
{
	const struct xdc_action *act = plan_action(plan, i);
	struct busy *b;
	char *key, *val;
	size_t j;

	if (act->a_kind != XDC_OBJ_VM || act->a_host == NULL ||
	    strcmp(act->a_host, a->a_self) != 0)
		return;
	/*
	 * The slot goes back once the VM runs again, or the action failed;
	 * a VM destroyed here to move to another host keeps it until it runs
	 * there (agent_cas_slots_settle).
	 */
	if (done && act->a_op == XDC_OP_DESTROY && moves_away(cfg, plan, act)) {
		if ((b = busy_find(a, act->a_name)) != NULL) {
			b->b_moved = 1;
			b->b_started = 0;
		}
		goto claims;
	}
	agent_cas_busy_drop(a, act->a_name);
	for (j = 0; j < a->a_nslots; j++) {
		if (strcmp(a->a_slots[j].s_vm, act->a_name) != 0 ||
		    strcmp(a->a_slots[j].s_host, a->a_self) != 0)
			continue;
		xdc_asprintf(&key, "%sbudget/%s/%u", a->a_prefix,
		    a->a_slots[j].s_sla, a->a_slots[j].s_k);
		val = slot_value(a, act->a_name);
		agent_cas_release(a, key, val);
		free(key);
		free(val);
	}
claims:
	/*
	 * Gone from here, by a destroy or a live migration: the claim goes
	 * back; the host it runs on now claims it when it publishes it
	 * running (a claim is held under its holder's own lease).
	 */
	if (done &&
	    (act->a_op == XDC_OP_DESTROY || act->a_op == XDC_OP_MIGRATE) &&
	    agent_view_claim_holder(a, act->a_name) != NULL &&
	    !strcmp(agent_view_claim_holder(a, act->a_name), a->a_self)) {
		key = agent_key_of(a, "claims", act->a_name);
		agent_cas_release(a, key, a->a_self);
		free(key);
	}
}
