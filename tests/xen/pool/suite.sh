#!/bin/sh
# tests/xen/pool/suite.sh: the pool suite, on two real Xen hosts.  It runs
# in xen-a's dom0 of the pool lab (`make check-xen-pool` is
# `tests/xen-lab/run --pool tests/xen/pool/suite.sh`), where xen-b answers
# over ssh, etcd is at $XDC_ETCD and lab-power-off/on switch xen-b.
#
# The parts, each sourced in turn, share the helpers below:
#   lab.sh        the lab itself: two hosts, xl, ssh both ways, etcd from
#                 both, the shared L2
#   xl-migrate.sh a PV guest moved with `xl migrate` there and back, with
#                 the migration time and the guest's downtime (pings) as
#                 figures
#   xdc-migrate.sh
#                 xdc's live migration there and back, through xdc's plan
#                 (a VM whose host changes) and the xen driver, never two
#                 running copies; its figures against `xl migrate` of the
#                 same guest
#   migrate.sh    the same by the pool agents (`xdc run --etcd`): a drain
#                 by commit; run once `xdc run` has --etcd
#   failover.sh   failover by the agents: a fence command (the lab's
#                 power-off), then xen-b's rejoin (its guest home by live
#                 migration), then Xen's watchdog (xen_wdt) instead
#   lab-power.sh  xen-b's power cut and restored, and its Xen watchdog
#                 noticed by the lab
#
# Every check prints "ok - ..." or "not ok - ..."; figures are "# figure:
# ..." lines, also collected in $LOG/figures.txt.  The last line is "N
# passed, N failed" and the exit code is 1 when anything failed.
set -u

passed=0
failed=0
LOG=${XDC_LAB_RESULTS:-/tmp}/pool
ME=$(hostname)

# The whole log goes to $LOG/suite.log on the share; the console, which
# leaves through Xen's emulated UART, gets one line per check and the
# notes.
rm -rf "$LOG"
mkdir -p "$LOG"
: >"$LOG/figures.txt"
exec 3>&1 >"$LOG/suite.log" 2>&1
say() { echo "$*"; echo "$*" >&3; }

check() {	# description command...
	desc=$1
	shift
	if "$@"; then
		say "ok - $desc"
		passed=$((passed + 1))
	else
		say "not ok - $desc"
		failed=$((failed + 1))
	fi
}

# Seconds since boot, to the hundredth, and since an earlier reading.
now() { awk '{ print $1 }' /proc/uptime; }
since() { awk -v t0="$1" '{ printf "%.1f", $1 - t0 }' /proc/uptime; }
# A note in the log and on the console, not counted.
note() { say "# $*"; }
# A measured figure: a note, and a line of $LOG/figures.txt.
figure() {
	say "# figure: $*"
	echo "$*" >>"$LOG/figures.txt"
}

# Runs a command on a pool host: here, or over ssh.  The suite's own ssh
# calls share one connection a host (a new one costs seconds of key
# exchange under emulation); the master notices a dead host within 15 s
# (ServerAlive) and the next call connects afresh.  Other ssh users (xl
# migrate, xdc) are left with plain connections.
SSH_MUX="-o ControlMaster=auto -o ControlPath=/run/xdc-lab-ssh-%C -o ControlPersist=300"
on() {	# host command...
	h=$1
	shift
	if [ "$h" = "$ME" ]; then
		sh -c "$*"
	else
		# shellcheck disable=SC2086 # options
		ssh $SSH_MUX "$h" "$*"
	fi
}

# The names of the domains a host runs, Domain-0 included.
domains() {	# host
	on "$1" xl list | awk 'NR > 1 { print $1 }'
}

# Only Domain-0 on a host: no part may leave a guest behind.
only_dom0() {	# host
	[ "$(domains "$1")" = "Domain-0" ]
}

# On how many hosts a domain of that name exists.
copies() {	# name
	n=0
	for h in $XDC_LAB_HOSTS; do
		if domains "$h" | grep -qxF "$1"; then
			n=$((n + 1))
		fi
	done
	echo "$n"
}

# The lab guest's initrd with an /init that prints its uptime every
# USECONDS ("tick UPTIME" on its console, after "xdc-lab-guest: up"), as
# DIR/tick.img: the parts' guests, whose ticks show a boot and a pause.
tick_initrd() {	# dir useconds
	ti_root=$1/tick-root
	rm -rf "$ti_root" && mkdir -p "$ti_root" &&
	(cd "$ti_root" && zcat "$XDC_LAB_GUEST/initrd.img" | cpio -id 2>/dev/null) &&
	cat >"$ti_root/init" <<-EOF &&
		#!/bin/sh
		mount -t proc proc /proc
		echo "xdc-lab-guest: up (ticking)"
		while :; do
			read -r up idle </proc/uptime
			echo "tick \$up"
			usleep $2
		done
	EOF
	chmod 0755 "$ti_root/init" &&
	(cd "$ti_root" && find . | cpio -o -H newc 2>/dev/null | gzip) >"$1/tick.img" &&
	rm -rf "$ti_root"
}

# Repeats a command until it succeeds, for at most $1 seconds.
wait_until() {	# seconds command...
	wu_limit=$1
	shift
	wu_t0=$(now)
	until "$@"; do
		[ "$(since "$wu_t0" | cut -d. -f1)" -lt "$wu_limit" ] || return 1
		sleep 0.5
	done
}

t_suite=$(now)
# The pool agent's parts need `xdc run --etcd`.
agent_parts=""
if xdc run --help 2>&1 | grep -q -e '--etcd'; then
	agent_parts="migrate failover"
else
	note "migrate.sh and failover.sh skipped: this xdc run has no --etcd (the pool agent is not wired into it)"
fi
# XDC_POOL_PARTS: only these parts (a script of one's own that sources
# this file sets it, to look at one part without the others' minutes).
for part in ${XDC_POOL_PARTS:-lab xl-migrate xdc-migrate $agent_parts lab-power}; do
	echo "# ---- tests/xen/pool/$part.sh"
	t_part=$(now)
	. "tests/xen/pool/$part.sh"
	note "$part.sh took $(since "$t_part") s"
done

echo "# ---- after the tests"
for h in $XDC_LAB_HOSTS; do
	echo "# $h:"
	on "$h" xl list
	check "xl list on $h shows only Domain-0 at the end" only_dom0 "$h"
done
note "the pool suite took $(since "$t_suite") s"
say "$passed passed, $failed failed (the whole log: $LOG/suite.log)"
[ "$failed" -eq 0 ]
