/*
 * Scopes in the plan (planner/scope.c, SPEC §9): a plan touches only its
 * own scope's domains and networks; other scopes' domains are listed with
 * their scope and take room; a name another scope owns is an error naming
 * it, unless adopt_from hands the domain over; networks shared by scopes
 * have one owner of their settings and go with the last scope; and what
 * the markers say of each scope's expiry.
 */
#include "tests/planner/fixture.h"

static const char *const two_vms = "kind: Scope\n"
                                   "name: ci-a\n"
                                   "---\n"
                                   "kind: VM\n"
                                   "name: ci-a\n"
                                   "memory: 1GiB\n"
                                   "kernel: /boot/vmlinuz\n";

/* A managed domain of the VM in fx's configuration, in another scope. */
static struct xdc_obs_domain *
foreign(struct fx *fx, const char *name, const char *scope)
{
	struct xdc_obs_domain *d = fx_managed(fx, XDC_LOCAL_HOST, name);

	d->od_scope = scope;
	return d;
}

/* The unmanaged entry of name in the plan's JSON, or NULL. */
static json_t *
left_alone(struct fx *fx, const char *name)
{
	json_t *o;
	size_t i;

	json_array_foreach(json_object_get(fx_json(fx), "unmanaged"), i, o)
	{
		if (!strcmp(
		        json_string_value(json_object_get(o, "name")), name))
			return o;
	}
	return NULL;
}

static void
test_scope_is_the_documents_or_the_option_or_default(void **state)
{
	struct fx *fx = fx_new(two_vms);

	(void)state;
	fx_hosts(fx);
	fx_plan(fx);
	assert_string_equal(plan_scope(fx->plan), "ci-a");
	assert_string_equal(
	    json_string_value(json_object_get(fx_json(fx), "scope")), "ci-a");
	assert_string_equal(
	    plan_action(fx->plan, fx_action(fx, XDC_OP_CREATE, "ci-a", NULL))
	        ->a_spec->ds_scope,
	    "ci-a");
	fx->scope = "mr-7";
	fx_plan(fx);
	assert_string_equal(plan_scope(fx->plan), "mr-7");
	fx_free(fx);

	fx = fx_new("kind: Host\nname: local\n");
	fx_hosts(fx);
	fx_plan(fx);
	assert_string_equal(plan_scope(fx->plan), XDC_SCOPE_DEFAULT);
	fx_free(fx);
}

/* Another scope's domain: listed with its scope, never destroyed. */
static void
test_other_scopes_domain_is_left_alone_and_listed(void **state)
{
	struct fx *fx = fx_new("kind: Scope\nname: ci-b\n---\n"
	                       "kind: VM\nname: ci-b\nmemory: 1GiB\n"
	                       "kernel: /boot/vmlinuz\n");
	struct xdc_obs_domain *d;
	json_t *o;

	(void)state;
	fx_hosts(fx);
	fx_dom0(fx, XDC_LOCAL_HOST);
	d = fx_dom(fx, XDC_LOCAL_HOST, "ci-a");
	d->od_managed = 1;
	d->od_scope = "ci-a";
	d->od_protect = 0;
	fx_unmanaged(fx, XDC_LOCAL_HOST, "legacy", GIB);
	fx_plan(fx);
	assert_int_equal(fx_count(fx, XDC_OP_DESTROY, XDC_OBJ_VM), 0);
	assert_null(fx_find_deferred(fx, XDC_OP_DESTROY, "ci-a", NULL));
	fx_action(fx, XDC_OP_CREATE, "ci-b", XDC_LOCAL_HOST);
	assert_int_equal(plan_managed_vms(fx->plan), 0);
	o = left_alone(fx, "ci-a");
	assert_non_null(o);
	assert_string_equal(
	    json_string_value(json_object_get(o, "scope")), "ci-a");
	o = left_alone(fx, "legacy");
	assert_non_null(o);
	assert_true(json_is_null(json_object_get(o, "scope")));
	assert_null(left_alone(fx, "Domain-0"));
	fx_free(fx);
}

/* The default scope's plan does not see them either (an older xdc's). */
static void
test_default_scope_leaves_other_scopes_alone(void **state)
{
	struct fx *fx = fx_new("kind: VM\nname: web\nmemory: 1GiB\n"
	                       "kernel: /boot/vmlinuz\n");
	struct xdc_obs_domain *d;

	(void)state;
	fx_hosts(fx);
	fx_managed(fx, XDC_LOCAL_HOST, "web");
	d = fx_dom(fx, XDC_LOCAL_HOST, "ci-a");
	d->od_managed = 1;
	d->od_scope = "ci-a";
	/* Marked before scopes: the default scope's, so undeclared goes. */
	fx_dom(fx, XDC_LOCAL_HOST, "old")->od_managed = 1;
	fx_plan(fx);
	fx_action(fx, XDC_OP_DESTROY, "old", XDC_LOCAL_HOST);
	assert_int_equal(fx_find(fx, XDC_OP_DESTROY, "ci-a", NULL), -1);
	assert_int_equal(plan_managed_vms(fx->plan), 2);
	fx_free(fx);
}

static void
test_name_another_scope_owns_is_an_error_naming_it(void **state)
{
	struct fx *fx = fx_new(two_vms);

	(void)state;
	fx_hosts(fx);
	foreign(fx, "ci-a", "ci-b");
	fx_plan_fails(fx, "VM ci-a: scope ci-b owns a domain of that name");
	fx_plan_fails(fx, "adopt_from: ci-b");
	fx_free(fx);
}

/* adopt_from naming another scope than the owner is no handover. */
static void
test_adopt_from_the_wrong_scope_is_an_error(void **state)
{
	struct fx *fx = fx_new("kind: Scope\nname: ci-a\n---\n"
	                       "kind: VM\nname: ci-a\nmemory: 1GiB\n"
	                       "kernel: /boot/vmlinuz\nadopt_from: ci-c\n");

	(void)state;
	fx_hosts(fx);
	foreign(fx, "ci-a", "ci-b");
	fx_plan_fails(fx, "belongs to scope ci-b");
	fx_free(fx);
}

/* A handover rewrites the marker, restarts nothing, and tunes the rest. */
static void
test_adopt_from_hands_the_domain_over_in_one_update(void **state)
{
	struct fx *fx = fx_new("kind: Scope\nname: prod\n---\n"
	                       "kind: VM\nname: web\nmemory: 2GiB\n"
	                       "max_memory: 4GiB\nkernel: /boot/vmlinuz\n"
	                       "adopt_from: ci-a\n");
	const struct xdc_action *a;
	json_t *ch;
	size_t i;

	(void)state;
	fx_hosts(fx);
	foreign(fx, "web", "ci-a")->od_memory = GIB;
	fx_plan(fx);
	assert_int_equal(plan_count(fx->plan), 1);
	i = fx_action(fx, XDC_OP_UPDATE, "web", XDC_LOCAL_HOST);
	a = plan_action(fx->plan, i);
	assert_false(a->a_disruptive);
	assert_true(a->a_update & XDC_UPD_MARKER);
	assert_true(a->a_update & XDC_UPD_MEMORY);
	assert_false(a->a_update & XDC_UPD_ADOPT);
	assert_string_equal(a->a_spec->ds_scope, "prod");
	assert_string_equal(fx_fields(fx, i), "scope,memory");
	ch = fx_change(fx, i, "scope");
	assert_string_equal(
	    json_string_value(json_object_get(ch, "from")), "ci-a");
	assert_string_equal(
	    json_string_value(json_object_get(ch, "to")), "prod");
	/* Once it is this scope's, adopt_from has nothing more to do. */
	fx_find_dom(fx, XDC_LOCAL_HOST, "web")->od_scope = "prod";
	fx_find_dom(fx, XDC_LOCAL_HOST, "web")->od_memory = 2 * GIB;
	fx_plan(fx);
	assert_int_equal(plan_count(fx->plan), 0);
	fx_free(fx);
}

/* A handover that would need a new build would restart: refused. */
static void
test_adopt_from_with_another_build_is_an_error(void **state)
{
	struct fx *fx = fx_new("kind: Scope\nname: prod\n---\n"
	                       "kind: VM\nname: web\nmemory: 1GiB\n"
	                       "kernel: /boot/vmlinuz\nadopt_from: ci-a\n");
	struct xdc_obs_domain *d;

	(void)state;
	fx_hosts(fx);
	d = foreign(fx, "web", "ci-a");
	d->od_build.ob_kernel = "/boot/vmlinuz-old";
	d->od_hash ^= 1;
	fx_plan_fails(fx, "differs from this declaration in kernel");
	fx_free(fx);
}

/* Other scopes' domains count against capacity, as unmanaged ones do. */
static void
test_other_scopes_domains_take_room(void **state)
{
	struct fx *fx = fx_new("kind: Scope\nname: ci-a\n---\n"
	                       "kind: VM\nname: ci-a\nmemory: 3GiB\n"
	                       "kernel: /boot/vmlinuz\n");
	struct xdc_obs_domain *d;

	(void)state;
	fx_host(fx, XDC_LOCAL_HOST, 4 * GIB, 4);
	d = fx_dom(fx, XDC_LOCAL_HOST, "ci-b");
	d->od_managed = 1;
	d->od_scope = "ci-b";
	d->od_memory = 2 * GIB;
	fx_plan_fails(fx, "and other scopes' domains");
	d->od_memory = GIB;
	fx_plan(fx);
	fx_action(fx, XDC_OP_CREATE, "ci-a", XDC_LOCAL_HOST);
	fx_free(fx);
}

/* ---- Networks --------------------------------------------------------- */

static const char *const net_b =
    "kind: Scope\nname: ci-b\n---\nkind: Network\nname: ci\n";

static void
test_network_of_another_scope_is_joined(void **state)
{
	struct fx *fx = fx_new(net_b);
	const struct xdc_action *a;
	struct xdc_obs_network *n;
	static const char *const owners[] = { "ci-a" };
	size_t i;

	(void)state;
	fx_hosts(fx);
	n = fx_network(fx, XDC_LOCAL_HOST, "ci");
	n->on_scopes = owners;
	n->on_nscopes = 1;
	fx_plan(fx);
	i = fx_action(fx, XDC_OP_UPDATE, "ci", XDC_LOCAL_HOST);
	a = plan_action(fx->plan, i);
	assert_int_equal(a->a_update & XDC_UPD_SCOPES, XDC_UPD_SCOPES);
	assert_int_equal(a->a_nscopes, 2);
	assert_string_equal(a->a_scopes[0], "ci-a");
	assert_string_equal(a->a_scopes[1], "ci-b");
	assert_string_equal(fx_fields(fx, i), "scopes");
	fx_free(fx);
}

/* A network another scope owns: its settings are the owner's. */
static void
test_shared_network_settings_are_the_owners(void **state)
{
	struct fx *fx = fx_new("kind: Scope\nname: ci-b\n---\n"
	                       "kind: Network\nname: ci\nmtu: 9000\n");
	static const char *const owners[] = { "ci-a", "ci-b" };
	struct xdc_obs_network *n;

	(void)state;
	fx_hosts(fx);
	n = fx_network(fx, XDC_LOCAL_HOST, "ci");
	n->on_mtu = 1500;
	n->on_scopes = owners;
	n->on_nscopes = 2;
	fx_plan_fails(fx, "scope ci-a owns its settings: it has mtu 1500");
	/* The owner changes them. */
	fx->scope = "ci-a";
	fx_plan(fx);
	fx_action(fx, XDC_OP_UPDATE, "ci", XDC_LOCAL_HOST);
	fx_free(fx);
}

/* Another scope's network of the same bridge under another name. */
static void
test_shared_bridge_under_another_name_is_an_error(void **state)
{
	struct fx *fx = fx_new("kind: Scope\nname: ci-b\n---\n"
	                       "kind: Network\nname: lab\nbridge: xdc-ci\n");
	static const char *const owners[] = { "ci-a" };
	struct xdc_obs_network *n;

	(void)state;
	fx_hosts(fx);
	n = fx_bridge(fx, XDC_LOCAL_HOST, "xdc-ci");
	n->on_name = "ci";
	n->on_managed = 1;
	n->on_scopes = owners;
	n->on_nscopes = 1;
	fx_plan_fails(fx, "is Network ci of scope ci-a");
	fx_free(fx);
}

/* Dropped by one of its scopes: it leaves; by the last: destroyed. */
static void
test_network_goes_with_the_last_scope(void **state)
{
	struct fx *fx = fx_new("kind: Scope\nname: ci-b\n");
	static const char *const both[] = { "ci-a", "ci-b" };
	static const char *const b_only[] = { "ci-b" };
	static const char *const a_only[] = { "ci-a" };
	struct xdc_obs_network *n;
	const struct xdc_action *a;

	(void)state;
	fx_hosts(fx);
	n = fx_bridge(fx, XDC_LOCAL_HOST, "xdc-ci");
	n->on_name = "ci";
	n->on_managed = 1;
	n->on_scopes = both;
	n->on_nscopes = 2;
	fx_plan(fx);
	a = plan_action(
	    fx->plan, fx_action(fx, XDC_OP_UPDATE, "ci", XDC_LOCAL_HOST));
	assert_int_equal(a->a_update, XDC_UPD_SCOPES);
	assert_null(a->a_net);
	assert_int_equal(a->a_nscopes, 1);
	assert_string_equal(a->a_scopes[0], "ci-a");
	assert_int_equal(fx_count(fx, XDC_OP_DESTROY, XDC_OBJ_NETWORK), 0);

	fx_find_host(fx, XDC_LOCAL_HOST)->oh_networks[0].on_scopes = b_only;
	fx_find_host(fx, XDC_LOCAL_HOST)->oh_networks[0].on_nscopes = 1;
	fx_plan(fx);
	fx_action(fx, XDC_OP_DESTROY, "ci", XDC_LOCAL_HOST);

	/* Not in its list: not this scope's to drop at all. */
	fx_find_host(fx, XDC_LOCAL_HOST)->oh_networks[0].on_scopes = a_only;
	fx_plan(fx);
	assert_int_equal(plan_count(fx->plan), 0);
	fx_free(fx);
}

/* ---- Expiry ----------------------------------------------------------- */

static void
test_expiry_is_recorded_in_the_spec(void **state)
{
	struct fx *fx = fx_new("kind: Scope\nname: ci-a\nexpires: 48h\n---\n"
	                       "kind: VM\nname: ci-a\nmemory: 1GiB\n"
	                       "kernel: /boot/vmlinuz\n");
	const struct xdc_dom_spec *ds;

	(void)state;
	fx_hosts(fx);
	fx_plan(fx);
	ds = plan_action(fx->plan, fx_action(fx, XDC_OP_CREATE, "ci-a", NULL))
	         ->a_spec;
	assert_true(ds->ds_applied == (int64_t)FX_NOW);
	assert_true(ds->ds_expires == (int64_t)FX_NOW + 48 * 3600);
	fx_free(fx);
}

/* A scope past its time is not applied (gc would take it down again). */
static void
test_expiry_time_past_is_an_error(void **state)
{
	struct fx *fx = fx_new("kind: Scope\nname: ci-a\n"
	                       "expires: 2023-11-14T00:00:00Z\n");

	(void)state;
	fx_hosts(fx);
	fx_plan_fails(fx, "scope ci-a expired at 2023-11-14T00:00:00Z");
	fx->now = 1699900000; /* before it */
	fx_plan(fx);
	fx_free(fx);
}

static void
test_scopes_read_from_the_markers(void **state)
{
	struct fx *fx = fx_new("kind: Host\nname: local\n");
	struct xdc_scope_state *v;
	struct xdc_obs_domain *d;
	size_t n;

	(void)state;
	fx_hosts(fx);
	fx_dom0(fx, XDC_LOCAL_HOST);
	fx_unmanaged(fx, XDC_LOCAL_HOST, "legacy", GIB);
	d = fx_dom(fx, XDC_LOCAL_HOST, "a1");
	d->od_managed = 1;
	d->od_scope = "ci-a";
	d->od_applied = 100;
	d->od_expires = 200;
	/* The latest apply speaks: it said 300. */
	d = fx_dom(fx, XDC_LOCAL_HOST, "a2");
	d->od_managed = 1;
	d->od_scope = "ci-a";
	d->od_applied = 150;
	d->od_expires = 300;
	/* An apply that dropped expires: never. */
	d = fx_dom(fx, XDC_LOCAL_HOST, "b1");
	d->od_managed = 1;
	d->od_scope = "ci-b";
	d->od_applied = 100;
	d->od_expires = 200;
	d = fx_dom(fx, XDC_LOCAL_HOST, "b2");
	d->od_managed = 1;
	d->od_scope = "ci-b";
	d->od_applied = 120;
	d->od_expires = 0;
	/* Marked before scopes. */
	fx_dom(fx, XDC_LOCAL_HOST, "old")->od_managed = 1;
	assert_int_equal(plan_scopes(fx->obs, &v, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(v[0].ss_name, "ci-a");
	assert_int_equal(v[0].ss_domains, 2);
	assert_true(v[0].ss_applied == 150 && v[0].ss_expires == 300);
	assert_false(plan_scope_expired(&v[0], 299));
	assert_true(plan_scope_expired(&v[0], 300));
	assert_string_equal(v[1].ss_name, "ci-b");
	assert_true(v[1].ss_expires == 0);
	assert_false(plan_scope_expired(&v[1], 1000000));
	assert_string_equal(v[2].ss_name, XDC_SCOPE_DEFAULT);
	assert_false(plan_scope_expired(&v[2], 1000000));
	free(v);
	fx_free(fx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_scope_is_the_documents_or_the_option_or_default),
		cmocka_unit_test(
		    test_other_scopes_domain_is_left_alone_and_listed),
		cmocka_unit_test(test_default_scope_leaves_other_scopes_alone),
		cmocka_unit_test(
		    test_name_another_scope_owns_is_an_error_naming_it),
		cmocka_unit_test(test_adopt_from_the_wrong_scope_is_an_error),
		cmocka_unit_test(
		    test_adopt_from_hands_the_domain_over_in_one_update),
		cmocka_unit_test(
		    test_adopt_from_with_another_build_is_an_error),
		cmocka_unit_test(test_other_scopes_domains_take_room),
		cmocka_unit_test(test_network_of_another_scope_is_joined),
		cmocka_unit_test(test_shared_network_settings_are_the_owners),
		cmocka_unit_test(
		    test_shared_bridge_under_another_name_is_an_error),
		cmocka_unit_test(test_network_goes_with_the_last_scope),
		cmocka_unit_test(test_expiry_is_recorded_in_the_spec),
		cmocka_unit_test(test_expiry_time_past_is_an_error),
		cmocka_unit_test(test_scopes_read_from_the_markers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
