/*
 * The net driver's pure parts (drivers/net_mark.c, net_link.c): the
 * ownership mark, the names of VLAN interfaces, which bridge ports can be
 * uplinks, and how the kernel's answer becomes an error message. What
 * touches the kernel is tested for real in a network namespace by
 * tests/net/run.
 *
 * These functions are the driver's own, shared by its files through
 * drivers/net_priv.h, which the test includes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <netlink/errno.h>
#include <netlink/netlink.h>

#include "drivers/net_priv.h"
#include "base/arena.h"

/* ---- The ownership mark ----------------------------------------------- */

static void
test_mark_names_the_network(void **state)
{
	(void)state;
	assert_string_equal(net_mark_network("xdc:net:dmz"), "dmz");
	assert_string_equal(net_mark_network("xdc:net:a-b-1"), "a-b-1");
}

static void
test_other_aliases_are_not_xdcs(void **state)
{
	(void)state;
	assert_null(net_mark_network(NULL));
	assert_null(net_mark_network(""));
	assert_null(net_mark_network("uplink to the core"));
	assert_null(net_mark_network("xdc:net:")); /* no network */
	assert_null(net_mark_network("xdc:net"));  /* no separator */
	assert_null(net_mark_network("XDC:net:dmz"));
	assert_null(net_mark_network("xdc:vm:web-1"));
	assert_null(net_mark_network(" xdc:net:dmz"));
}

/* The default scope's mark is the mark made before scopes existed. */
static void
test_mark_lists_the_scopes_but_the_default_alone(void **state)
{
	const char *const dflt[] = { "default" };
	const char *const two[] = { "mr-12", "default" };
	char alias[NET_ALIAS_MAX + 1];

	(void)state;
	assert_int_equal(net_mark_encode("ci", NULL, 0, alias), 0);
	assert_string_equal(alias, "xdc:net:ci");
	assert_int_equal(net_mark_encode("ci", dflt, 1, alias), 0);
	assert_string_equal(alias, "xdc:net:ci");
	assert_int_equal(net_mark_encode("ci", two, 2, alias), 0);
	assert_string_equal(alias, "xdc:net:ci:mr-12,default");
	assert_true(net_mark_is(alias, "ci"));
	assert_false(net_mark_is(alias, "c"));
	assert_false(net_mark_is(alias, "ci-2"));
	assert_true(net_mark_is("xdc:net:ci", "ci"));
}

static void
test_mark_scopes_read_back_in_order(void **state)
{
	struct xdc_arena *a = xdc_arena_new();
	const char *const *v;
	size_t n;

	(void)state;
	net_mark_scopes("xdc:net:ci", a, &v, &n);
	assert_int_equal(n, 1);
	assert_string_equal(v[0], "default");
	net_mark_scopes("xdc:net:ci:mr-14,mr-12", a, &v, &n);
	assert_int_equal(n, 2);
	assert_string_equal(v[0], "mr-14");
	assert_string_equal(v[1], "mr-12");
	/* What is not a name is no scope; nothing left is the default. */
	net_mark_scopes("xdc:net:ci:Bad,,ok", a, &v, &n);
	assert_int_equal(n, 1);
	assert_string_equal(v[0], "ok");
	net_mark_scopes("xdc:net:ci:", a, &v, &n);
	assert_int_equal(n, 1);
	assert_string_equal(v[0], "default");
	xdc_arena_free(a);
}

/* The kernel keeps 255 bytes of an alias: a longer list is refused. */
static void
test_mark_that_does_not_fit_is_refused(void **state)
{
	const char *v[40];
	char names[40][8], alias[NET_ALIAS_MAX + 1];
	size_t i;

	(void)state;
	for (i = 0; i < 40; i++) {
		snprintf(names[i], sizeof(names[i]), "mr-%04zu", i);
		v[i] = names[i];
	}
	/* "xdc:net:ci" and 30 ":mr-NNNN" of 8 bytes: 250. */
	assert_int_equal(net_mark_encode("ci", v, 30, alias), 0);
	assert_int_equal(strlen(alias), 250);
	assert_int_equal(net_mark_encode("ci", v, 31, alias), -1);
}

/* ---- VLAN interface names --------------------------------------------- */

static void
test_vlan_name_is_uplink_dot_vid_when_it_fits(void **state)
{
	char name[NET_IFNAMSIZ];

	(void)state;
	assert_int_equal(net_vlan_ifname("eth1", 20, name), 0);
	assert_string_equal(name, "eth1.20");
	assert_int_equal(net_vlan_ifname("eth1", 4094, name), 0);
	assert_string_equal(name, "eth1.4094");
	/* 12 + ".20" is exactly 15 characters. */
	assert_int_equal(net_vlan_ifname("enp0s31f6abc", 20, name), 0);
	assert_string_equal(name, "enp0s31f6abc.20");
}

static void
test_vlan_name_is_short_and_stable_when_too_long(void **state)
{
	char a[NET_IFNAMSIZ], b[NET_IFNAMSIZ];

	(void)state;
	/* A USB NIC's name: 15 characters already. */
	assert_int_equal(net_vlan_ifname("enx001122334455", 4094, a), 0);
	assert_int_equal(strlen(a), 15);
	assert_int_equal(strncmp(a, "enx001", 6), 0);
	assert_string_equal(a + strlen(a) - 5, ".4094");
	assert_int_equal(net_vlan_ifname("enx001122334455", 4094, b), 0);
	assert_string_equal(a, b);
	/*
	 * Pinned: a new name in a new release would orphan the interfaces
	 * the old one made (docs/networks.md shows this one).
	 */
	assert_string_equal(a, "enx00123f0.4094");
	/* 13 + ".20" is one too many. */
	assert_int_equal(net_vlan_ifname("enp0s31f6abcd", 20, a), 0);
	assert_true(strlen(a) <= 15);
	assert_string_equal(a + strlen(a) - 3, ".20");
	assert_int_not_equal(strcmp(a, "enp0s31f6abcd.20"), 0);
}

static void
test_vlan_names_differ_for_uplinks_sharing_a_prefix(void **state)
{
	char a[NET_IFNAMSIZ], b[NET_IFNAMSIZ], c[NET_IFNAMSIZ];

	(void)state;
	assert_int_equal(net_vlan_ifname("enx001122334455", 100, a), 0);
	assert_int_equal(net_vlan_ifname("enx001122334466", 100, b), 0);
	assert_string_not_equal(a, b);
	/* And for one uplink, per VLAN. */
	assert_int_equal(net_vlan_ifname("enx001122334455", 101, c), 0);
	assert_string_not_equal(a, c);
}

static void
test_vlan_name_refuses_what_names_no_interface(void **state)
{
	char name[NET_IFNAMSIZ];

	(void)state;
	assert_int_equal(net_vlan_ifname("eth1", 0, name), -1);
	assert_int_equal(net_vlan_ifname("eth1", 4095, name), -1);
	assert_int_equal(net_vlan_ifname("", 20, name), -1);
	assert_int_equal(net_vlan_ifname(NULL, 20, name), -1);
	assert_int_equal(net_vlan_ifname("a23456789012345x", 20, name), -1);
}

/* ---- Bridge ports ----------------------------------------------------- */

static void
test_xen_backends_are_guest_ports(void **state)
{
	(void)state;
	assert_int_equal(net_port_kind("vif3.0", NULL), NET_PORT_GUEST);
	assert_int_equal(net_port_kind("vif12.1-emu", "tun"), NET_PORT_GUEST);
	assert_int_equal(net_port_kind("tap3.0", NULL), NET_PORT_GUEST);
	assert_int_equal(net_port_kind("qemu-nic", "tun"), NET_PORT_GUEST);
}

static void
test_ports_that_can_be_uplinks(void **state)
{
	(void)state;
	assert_int_equal(net_port_kind("eth0", NULL), NET_PORT_UPLINK);
	assert_int_equal(net_port_kind("bond0", "bond"), NET_PORT_UPLINK);
	assert_int_equal(net_port_kind("eth-up", "dummy"), NET_PORT_UPLINK);
	assert_int_equal(net_port_kind("eth-up", "veth"), NET_PORT_UPLINK);
	assert_int_equal(net_port_kind("eth0.20", "vlan"), NET_PORT_VLAN);
	/* A VLAN is one whatever its name. */
	assert_int_equal(net_port_kind("vif-ish", "vlan"), NET_PORT_VLAN);
}

/* ---- The kernel's reasons --------------------------------------------- */

/*
 * An NLMSG_ERROR as the kernel sends it with NETLINK_EXT_ACK: the header,
 * struct nlmsgerr (with the request's header), the request's payload
 * unless capped, then NLMSGERR_ATTR_MSG.
 */
static size_t
error_msg(unsigned char *buf, size_t size, int err, int capped, size_t payload,
    const char *text)
{
	struct nlmsghdr *h = (struct nlmsghdr *)(void *)buf;
	struct nlmsgerr *e;
	struct nlattr *a;
	size_t off, tlen = strlen(text) + 1;

	memset(buf, 0, size);
	e = (struct nlmsgerr *)(void *)(buf + NLMSG_HDRLEN);
	e->error = err;
	e->msg.nlmsg_len = (uint32_t)(NLMSG_HDRLEN + payload);
	e->msg.nlmsg_type = RTM_NEWLINK;
	off = NLMSG_HDRLEN + sizeof(*e);
	if (!capped) {
		memset(buf + off, 0xab, payload); /* the request, echoed */
		off += NLMSG_ALIGN(payload);
	}
	a = (struct nlattr *)(void *)(buf + off);
	a->nla_type = NLMSGERR_ATTR_MSG;
	a->nla_len = (uint16_t)(NLA_HDRLEN + tlen);
	memcpy(buf + off + NLA_HDRLEN, text, tlen);
	off += NLA_ALIGN(a->nla_len);
	h->nlmsg_len = (uint32_t)off;
	h->nlmsg_type = NLMSG_ERROR;
	h->nlmsg_flags = NLM_F_ACK_TLVS | (capped ? NLM_F_CAPPED : 0);
	assert_true(off <= size);
	return off;
}

static void
test_extack_message_is_read_capped_or_not(void **state)
{
	unsigned char buf[512];
	struct net n;

	(void)state;
	memset(&n, 0, sizeof(n));
	error_msg(buf, sizeof(buf), -EOPNOTSUPP, 1, 0, "Unknown device type");
	assert_int_equal(
	    net_on_error(
	        NULL, (struct nlmsgerr *)(void *)(buf + NLMSG_HDRLEN), &n),
	    NL_STOP);
	assert_int_equal(n.n_errno, EOPNOTSUPP);
	assert_string_equal(n.n_extack, "Unknown device type");

	memset(&n, 0, sizeof(n));
	error_msg(buf, sizeof(buf), -ERANGE, 0, 42,
	    "mtu greater than device maximum.");
	net_on_error(NULL, (struct nlmsgerr *)(void *)(buf + NLMSG_HDRLEN), &n);
	assert_int_equal(n.n_errno, ERANGE);
	/* The trailing full stop goes: the message goes on after it. */
	assert_string_equal(n.n_extack, "mtu greater than device maximum");
}

static void
test_error_without_extack_leaves_the_message_empty(void **state)
{
	unsigned char buf[128];
	struct nlmsghdr *h = (struct nlmsghdr *)(void *)buf;
	struct net n;

	(void)state;
	memset(&n, 0, sizeof(n));
	strcpy(n.n_extack, "stale");
	error_msg(buf, sizeof(buf), -EBUSY, 1, 0, "x");
	h->nlmsg_flags = NLM_F_CAPPED; /* no TLVs */
	net_on_error(NULL, (struct nlmsgerr *)(void *)(buf + NLMSG_HDRLEN), &n);
	assert_int_equal(n.n_errno, EBUSY);
	assert_string_equal(n.n_extack, "");
}

static void
test_reason_is_libnl_words_and_the_kernels(void **state)
{
	struct net n;

	(void)state;
	memset(&n, 0, sizeof(n));
	n.n_errno = EOPNOTSUPP;
	strcpy(n.n_extack, "Unknown device type");
	assert_string_equal(net_reason(&n, -NLE_OPNOTSUPP),
	    "Operation not supported: Unknown device type");
	net_clear(&n);
	assert_string_equal(
	    net_reason(&n, -NLE_OPNOTSUPP), "Operation not supported");
	/* libnl's catch-all gives way to the errno. */
	n.n_errno = ELOOP;
	assert_string_equal(net_reason(&n, -NLE_FAILURE), strerror(ELOOP));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mark_names_the_network),
		cmocka_unit_test(test_other_aliases_are_not_xdcs),
		cmocka_unit_test(
		    test_mark_lists_the_scopes_but_the_default_alone),
		cmocka_unit_test(test_mark_scopes_read_back_in_order),
		cmocka_unit_test(test_mark_that_does_not_fit_is_refused),
		cmocka_unit_test(test_vlan_name_is_uplink_dot_vid_when_it_fits),
		cmocka_unit_test(
		    test_vlan_name_is_short_and_stable_when_too_long),
		cmocka_unit_test(
		    test_vlan_names_differ_for_uplinks_sharing_a_prefix),
		cmocka_unit_test(
		    test_vlan_name_refuses_what_names_no_interface),
		cmocka_unit_test(test_xen_backends_are_guest_ports),
		cmocka_unit_test(test_ports_that_can_be_uplinks),
		cmocka_unit_test(test_extack_message_is_read_capped_or_not),
		cmocka_unit_test(
		    test_error_without_extack_leaves_the_message_empty),
		cmocka_unit_test(test_reason_is_libnl_words_and_the_kernels),
	};

	return cmocka_run_group_tests_name("drivers/net", tests, NULL, NULL);
}
