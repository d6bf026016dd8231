# shellcheck shell=sh
# tests/pool/run's lease cases (lease, leasefence, leasestop), sourced by
# it after the others, with tests/pool/lib.sh's helpers: a host's lease
# ended behind its agent's back while the agent and its VM live on.

# ---------------------------------------------------------------------
# lease, leasefence: xen-a's lease ends behind its back while its agent
# and its copy of fo-1 live on, and xen-b's agent comes back at that
# moment (the Xen pool lab's accident, docs/pool.md). Two hosts; fo-1
# pinned to xen-b, failover: true, runs on xen-a: xen-b was fenced
# (fenced/xen-b, as a survivor writes it) and its agent stopped. xen-a
# reaches etcd through the proxy, which is killed (its keepalives go
# nowhere, the agent runs on), and its lease is revoked: its record and
# its claim on fo-1 are gone. xen-b's agent then starts, finds fo-1
# placed on xen-b again and its claim free, and may not start it while
# xen-a is lost and not fenced:
#  - lease: no fencing. xen-b holds fo-1 with the lost-host reason; the
#    proxy back, xen-a takes a new lease on its own, claims fo-1 again,
#    and fo-1 goes home to xen-b, one copy at every sampled instant;
#  - leasefence: xen-b has a fence command (power-off). It holds fo-1
#    until it has fenced xen-a (a whole lease of its own first), then
#    starts it; xen-a, back, runs nothing.

# held_b: xen-b's status holds fo-1's create for the lost-host reason
# (planner/pool.c), xen-a lost: prints that part of the reason.
held_b() {
	jq -e -r '.pool.hosts["xen-a"] == "lost" and .pool.fenced == 0' \
	    "$case/sd-xen-b/status.json" >/dev/null 2>&1 &&
	    jq -r '.deferred[] | select(.name == "fo-1" and .op == "create") |
	        .why' "$case/sd-xen-b/status.json" 2>/dev/null |
	    grep -o "host xen-a is lost and not fenced, and may still run fo-1[^:]*: fo-1 starts once xen-a is back or fenced"
}

# lease_of HOST: the lease of HOST's record, in hexadecimal as etcdctl
# wants it (-w json's number would lose digits in jq).
lease_of() {
	_l=$(etcdctl --endpoints "$ETCD" get -w fields "/xdc/$pool/hosts/$1" |
	    awk '$1 == "\"Lease\"" { print $3 }')
	printf %x "${_l:-0}"
}
# fenced_b: xen-b is fenced, as a survivor would write it.
fenced_b() {
	etcdctl --endpoints "$ETCD" put "/xdc/$pool/fenced/xen-b" \
	    '{"by":"tests/pool","method":"command","at":"2026-01-01T00:00:00Z"}' \
	    >/dev/null
}
# fo_on_a NAME: fo-1 runs on xen-a alone, which claims it, converged.
claimed_by_a() {
	[ "$(etcd_get claims/fo-1)" = xen-a ] &&
	    [ "$(outcome xen-a)" = converged ]
}
fo_on_a() {
	if until_ok 20 one_copy fo-1 xen-a && until_ok 10 claimed_by_a; then
		ok "$1: xen-b fenced, fo-1 fails over to xen-a, which claims it"
	else
		not_ok "$1: xen-b fenced, fo-1 fails over to xen-a, which claims it"
	fi
}
lapse_cfg() {
	hosts_yaml
	sla_yaml fo 'failover: true'
	vm_yaml fo-1 fo /boot/k1 xen-b
}

cycles() { jq -r .cycles "$case/sd-$1/status.json" 2>/dev/null; }
more_cycles() { [ "$(cycles xen-b)" -ge $((c0 + 3)) ]; } # since c0
relet() { # xen-a took a lease since t_back
	[ -n "$(log_after xen-a "$t_back" 'msg="lease granted"')" ]
}

# lapse_start CASE [XEN-B-ARGS...]: the above up to xen-b's hold.
lapse_start() {
	_c=$1
	shift
	lapse_cfg
	fenced_b
	proxy_start
	sampler_start --every 0.05
	AGENT_ETCD=http://127.0.0.1:$(cat "$case/proxy.port")
	start xen-a
	AGENT_ETCD=
	fo_on_a "$_c"
	lease_a=$(lease_of xen-a)
	t_cut=$(now_ms)
	kill -KILL "$(cat "$case/proxy.pid")"
	etcdctl --endpoints "$ETCD" lease revoke "$lease_a" >"$case/revoke" 2>&1
	revoked=$?
	gone() { no_key hosts/xen-a && no_key claims/fo-1; }
	# At once: its expiry would take 3 s.
	check "$_c: xen-a's lease $lease_a revoked: its record and its claim on fo-1 are gone" \
	    test "$revoked" -eq 0 -a -n "$(until_ok 5 gone && echo y)"
	check "$_c: ... while xen-a's agent runs on, and fo-1 on xen-a" \
	    test ! -s "$case/xen-a.rc" -a "$(on fo-1)" = xen-a
	t_b=$(now_ms)
	start xen-b "$@"
	if until_ok 20 held_b >/dev/null; then
		ok "$_c: xen-b's agent, started, holds fo-1 while xen-a is lost: \"$(held_b)\""
		echo "# xen-b started to fo-1 held: $(($(now_ms) - t_b)) ms"
	else
		not_ok "$_c: xen-b's agent, started, holds fo-1 while xen-a is lost (lost-host reason)"
		jq -c .deferred "$case/sd-xen-b/status.json" 2>&1 | sed 's/^/#   /'
	fi
}

if case_on lease; then
	HOSTS="xen-a xen-b"
	new_case lease
	lapse_start lease
	# Three cycles of xen-b's more, each of which would start fo-1.
	c0=$(cycles xen-b)
	check "lease: three cycles of xen-b's later, fo-1 is still held for xen-a" \
	    eval 'until_ok 20 more_cycles && held_b >/dev/null'
	# The log says why once, as the hold starts, not at each cycle.
	check "lease: xen-b's log gives the lost-host reason once in all those cycles" \
	    test "$(grep -c 'op=create kind=VM name=fo-1 host=xen-b result=deferred why=".*host xen-a is lost and not fenced, and may still run fo-1' "$case/xen-b.log")" -eq 1
	check "lease: xen-b started no fo-1 while xen-a was lost" \
	    test "$(ev_count '$2 == "vm+" && $3 == "fo-1" && $4 == "xen-b"' "$t_cut")" -eq 0 -a \
	    -z "$(log_after xen-b "$t_b" 'op=create.*name=fo-1.*result=done')"
	check "lease: no fo-1 on two hosts while xen-a was lost" no_dup
	t_back=$(now_ms)
	proxy_start
	check "lease: the proxy back, xen-a's agent takes a new lease on its own" \
	    until_ok 15 relet
	if until_ok 30 one_copy fo-1 xen-b && until_ok 10 all_converged; then
		ok "lease: fo-1 goes home to xen-b, one copy"
		echo "# proxy back to fo-1 home: $(($(now_ms) - t_back)) ms"
	else
		not_ok "lease: fo-1 goes home to xen-b, one copy"
	fi
	check "lease: fo-1 never ran on two hosts at once" no_dup
	check "lease: xen-b's log says fo-1's hold ended as it started fo-1" \
	    test -n "$(grep 'op=create kind=VM name=fo-1 host=xen-b result=released held_since=' "$case/xen-b.log")"
	sampler_stop
	stop_all
	kill -KILL "$(cat "$case/proxy.pid")" 2>/dev/null
	HOSTS="xen-a xen-b xen-c"
fi

if case_on leasefence; then
	HOSTS="xen-a xen-b"
	new_case leasefence
	lapse_start leasefence --fence-command "$(fence_cmd)"
	if until_ok 20 one_copy fo-1 xen-b; then
		ok "leasefence: xen-b fences xen-a, then fo-1 runs on xen-b only"
	else
		not_ok "leasefence: xen-b fences xen-a, then fo-1 runs on xen-b only"
	fi
	t_fenced=$(ev_first '$2 == "key+" && $3 == "fenced/xen-a"')
	t_off=$(ev_first '$2 == "vm-" && $3 == "fo-1" && $4 == "xen-a"')
	t_up=$(ev_first '$2 == "vm+" && $3 == "fo-1" && $4 == "xen-b"')
	echo "# xen-a cut $t_cut, fenced +$((${t_fenced:-0} - t_cut)), fo-1 gone from xen-a +$((${t_off:-0} - t_cut)), on xen-b +$((${t_up:-0} - t_cut)) ms"
	check "leasefence: fo-1 started on xen-b only after fenced/xen-a and xen-a's power-off" \
	    test -n "$t_fenced" -a -n "$t_off" -a -n "$t_up" -a \
	    "${t_fenced:-0}" -le "${t_up:-0}" -a "${t_off:-0}" -le "${t_up:-0}"
	check "leasefence: xen-b ran the fence command once, for xen-a" \
	    test "$(awk '{ print $2 }' "$case/fence.log" 2>/dev/null)" = xen-a
	t_back=$(now_ms)
	proxy_start
	check "leasefence: the proxy back, xen-a's agent takes a new lease on its own" \
	    until_ok 15 relet
	check "leasefence: ... and deletes fenced/xen-a" until_ok 10 no_key fenced/xen-a
	check "leasefence: both agents converge" until_ok 10 all_converged
	check "leasefence: fo-1 stays on xen-b, one copy" one_copy fo-1 xen-b
	check "leasefence: fo-1 never ran on two hosts at once" no_dup
	sampler_stop
	stop_all
	kill -KILL "$(cat "$case/proxy.pid")" 2>/dev/null
	HOSTS="xen-a xen-b xen-c"
fi

# ---------------------------------------------------------------------
# leasestop: the same, xen-a's agent SIGSTOPped instead (its keepalives
# late, as under load) while its lease is revoked and xen-b's agent
# starts; xen-b holds fo-1 until xen-a, SIGCONTed, takes a new lease.
# Then the race not held open, three times: xen-b fenced again by hand
# (agent killed, host powered off, lease revoked, fenced/xen-b), fo-1
# back on xen-a, and xen-a's lease revoked, xen-a still running and
# connected, the moment xen-b's agent starts. xen-a finds its lease gone
# at its next renewal (a third of a lease at most) and takes another;
# xen-b's first plans may fall in between, or xen-a's move of fo-1 home
# may come first.

if case_on leasestop; then
	HOSTS="xen-a xen-b"
	new_case leasestop
	lapse_cfg
	fenced_b
	sampler_start --every 0.05
	start xen-a
	fo_on_a leasestop
	lease_a=$(lease_of xen-a)
	t_i=$(now_ms)
	kill -STOP "$(pid_of xen-a)"
	etcdctl --endpoints "$ETCD" lease revoke "$lease_a" >"$case/revoke" 2>&1
	check "leasestop: xen-a's agent stopped, its lease $lease_a revoked" test $? -eq 0
	start xen-b
	if until_ok 20 held_b >/dev/null; then
		ok "leasestop: xen-b's agent, started, holds fo-1 for the lost xen-a"
	else
		not_ok "leasestop: xen-b's agent, started, holds fo-1 for the lost xen-a"
	fi
	c0=$(cycles xen-b)
	check "leasestop: three cycles of xen-b's later, fo-1 is still held for xen-a" \
	    eval 'until_ok 20 more_cycles && held_b >/dev/null'
	check "leasestop: fo-1 never ran on two hosts while xen-a was stopped" no_dup
	t_back=$(now_ms)
	kill -CONT "$(pid_of xen-a)"
	check "leasestop: xen-a's agent, resumed, takes a new lease on its own" \
	    until_ok 15 relet
	if until_ok 30 one_copy fo-1 xen-b && until_ok 10 all_converged; then
		ok "leasestop: fo-1 goes home to xen-b, one copy"
	else
		not_ok "leasestop: fo-1 goes home to xen-b, one copy"
	fi
	check "leasestop: fo-1 never ran on two hosts at once" no_dup
	# ev_after T AWK-CONDITION: the first event from T on that matches.
	ev_after() {
		awk -v t="$1" "\$1 >= t && ($2) { print \$1; exit }" "$case/events"
	}
	since() { [ -n "$1" ] && echo "+$(($1 - t_i))" || echo "?"; }
	for i in 1 2 3; do
		lease_b=$(lease_of xen-b)
		killed xen-b
		"$XDC" sim power-off xen-b --state "$case/xen-b.json" >/dev/null 2>&1
		etcdctl --endpoints "$ETCD" lease revoke "$lease_b" >/dev/null 2>&1
		fenced_b
		fo_on_a "leasestop, race $i"
		lease_a=$(lease_of xen-a)
		t_i=$(now_ms)
		etcdctl --endpoints "$ETCD" lease revoke "$lease_a" >"$case/revoke" 2>&1
		revoked=$?
		start xen-b
		check "leasestop, race $i: xen-a's lease $lease_a revoked, xen-b's agent started" \
		    test "$revoked" -eq 0
		if until_ok 30 one_copy fo-1 xen-b && until_ok 10 all_converged; then
			ok "leasestop, race $i: fo-1 goes home to xen-b, one copy"
		else
			not_ok "leasestop, race $i: fo-1 goes home to xen-b, one copy"
		fi
		# How it went: xen-a's record back, xen-b's first plan,
		# fo-1's move (as the sampler saw them).
		t_plan=$(log_after xen-b "$t_i" 'msg=cycle ' |
		    grep -v 'outcome=pending' | head -n 1 | sed 's/^ts=\([^ ]*\).*/\1/')
		[ -n "$t_plan" ] && t_plan=$(ms_of_ts "$t_plan")
		echo "# race $i, from the revoke: xen-a back $(since "$(ev_after "$t_i" '$2 == "key+" && $3 == "hosts/xen-a"')"), xen-b's first plan $(since "$t_plan"), fo-1 off xen-a $(since "$(ev_after "$t_i" '$2 == "vm-" && $3 == "fo-1" && $4 == "xen-a"')"), on xen-b $(since "$(ev_after "$t_i" '$2 == "vm+" && $3 == "fo-1" && $4 == "xen-b"')") ms"
		check "leasestop, race $i: fo-1 never ran on two hosts at once" \
		    no_dup "$t_i"
	done
	sampler_stop
	stop_all
	HOSTS="xen-a xen-b xen-c"
fi
