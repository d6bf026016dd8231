# tests/xen/pool/migrate.sh: xdc's live migration between the pool lab's
# two hosts, sourced by tests/xen/pool/suite.sh on xen-a (check, note,
# figure, on, domains, copies, wait_until, now, since, LOG, ME,
# XDC_LAB_HOSTS, XDC_ETCD, XDC_LAB_GUEST come from there).
#
# Both hosts run an agent (`xdc run --etcd`) on the same configuration: a
# PVH guest of 96 MiB (PV cannot migrate live on Debian's Xen, which lacks shadow
# paging) whose /init prints its uptime every 20 ms. Then:
#  - a commit drains the guest's host: its agent migrates it live to the
#    other host; `xl list` on both hosts, polled all along, never shows two
#    copies; the guest's ticks go on (one boot, not two); the figures are
#    the time from the commit to the guest running on the other host and
#    the downtime, the largest gap between two ticks;
#  - the host is made active again, so placement (a function of the
#    configuration) wants the guest back, but that host has no room (an
#    unmanaged paused domain holds its memory): for a minute the guest
#    runs on where it is, once (the agents' log lines say why); with the
#    room back, it moves, live.
# The same guest's `xl migrate` figures are xl-migrate.sh's.
# The agents' actions, warnings and errors are printed as notes after each
# move. What it drives, the xen driver's migrate, runs in `make check-xen`
# on one host too (tests/xen/xdc-migrate.sh).

PM=/tmp/xdc-pool-mig
PM_VM=mig-1
CONDIR=/var/log/xen/console

# The same directory on both hosts: the configuration, the ticking
# initrd (the same path on both, as a VM's disks must be).
pm_setup() {
	rm -rf "$PM" && mkdir -p "$PM/cfg" && tick_initrd "$PM" 20000 &&
	on xen-b "rm -rf $PM && mkdir -p $PM/cfg" &&
	ssh xen-b "cat >$PM/tick.img" <"$PM/tick.img"
}

# The configuration, written on both hosts: STATE-A STATE-B.
pm_config() {
	for h in $XDC_LAB_HOSTS; do
		on "$h" "cat >$PM/cfg/pool.yaml" <<-EOF || return 1
			kind: Host
			name: xen-a
			state: $1
			---
			kind: Host
			name: xen-b
			state: $2
			---
			kind: VM
			name: $PM_VM
			type: pvh
			memory: 96MiB
			kernel: $XDC_LAB_GUEST/vmlinux
			ramdisk: $PM/tick.img
			cmdline: "console=hvc0 quiet"
		EOF
	done
}

pm_agent() {	# host
	on "$1" "cd $PM && setsid xdc run $PM/cfg --host $1 --etcd $XDC_ETCD \
	    --pool migrate --interval 2s --state-dir $PM/state \
	    >$PM/agent.log 2>&1 </dev/null & echo \$! >$PM/agent.pid"
}
pm_stop() {	# host
	on "$1" "kill \$(cat $PM/agent.pid) 2>/dev/null; sleep 1"
}
pm_where() {	# the host that runs the VM, if one
	for h in $XDC_LAB_HOSTS; do
		domains "$h" | grep -qxF "$PM_VM" && echo "$h"
	done
}
pm_on() {	# host: the VM runs there, and only there
	[ "$(pm_where)" = "$1" ]
}
pm_console() {	# all its console lines, on both hosts, under both names
	for h in $XDC_LAB_HOSTS; do
		on "$h" "cat $CONDIR/guest-$PM_VM.log $CONDIR/guest-$PM_VM--incoming.log 2>/dev/null"
	done
}
pm_actions() {	# host: its agent's actions and errors, and its last cycle, as notes
	on "$1" "grep -E 'msg=action|level=error' $PM/agent.log | tail -n 12;
	    grep 'msg=cycle' $PM/agent.log | tail -n 1" |
	    sed "s/^/#   $1: /"
}
pm_boots() { pm_console | grep -c '^xdc-lab-guest: up'; }
pm_gap() {	# the largest gap between consecutive ticks
	pm_console | awk '$1 == "tick" { print $2 }' | sort -n |
	    awk 'NR > 1 && $1 - last > gap { gap = $1 - last } { last = $1 }
	         END { printf "%.2f", gap + 0 }'
}
# The copies of the VM that run (not paused, not suspended), across both
# hosts, under its migration names too: a copy the driver keeps while it
# migrates is paused (the receiver's) or suspended (the sender's).
pm_running_copies() {
	n=0
	for h in $XDC_LAB_HOSTS; do
		c=$(on "$h" xl list | awk -v v="$PM_VM" '$1 ~ "^" v "(--incoming|--migratedaway)?$" && $5 !~ /[ps]/ { n++ } END { print n + 0 }')
		n=$((n + c))
	done
	echo "$n"
}
# Polls xl list on both hosts until the file $PM/watch goes, recording
# the most running copies of the VM seen at once.
pm_watch() {
	max=0
	while [ -f "$PM/watch" ]; do
		n=$(pm_running_copies)
		[ "$n" -gt "$max" ] && max=$n
		echo "$max" >"$PM/maxrunning"
		sleep 0.2
	done
}

check "migrate: the ticking guest's initrd and the pool's configuration on both hosts" \
	eval 'pm_setup && pm_config active active'
pm_agent xen-a
pm_agent xen-b
check "migrate: both agents place and start $PM_VM, which boots once" \
	eval 'wait_until 240 eval "[ -n \"\$(pm_where)\" ] && [ \"\$(pm_boots)\" -eq 1 ]"'
from=$(pm_where)
to=xen-b
[ "$from" = xen-b ] && to=xen-a
note "migrate: $PM_VM runs on $from"
sleep 3

# The drain: a commit on both hosts (as a git ref would bring it).
touch "$PM/watch"
pm_watch &
watcher=$!
boots0=$(pm_boots)
t0=$(now)
if [ "$from" = xen-a ]; then pm_config drained active; else pm_config active drained; fi
check "migrate: draining $from moves $PM_VM to $to" wait_until 300 pm_on "$to"
took=$(since "$t0")
sleep 3
rm -f "$PM/watch"
wait "$watcher"
check "migrate: xl list on both hosts, polled all along, never showed two running copies of $PM_VM" \
	eval '[ "$(cat "$PM/maxrunning")" -le 1 ] && [ "$(pm_running_copies)" -eq 1 ]'
check "migrate: $from's agent did it, as one migrate action" \
	eval 'on "$from" "grep -q \"op=migrate.*name=$PM_VM.*result=done\" $PM/agent.log" &&
	    ! on "$to" "grep -q \"op=create.*name=$PM_VM.*result=done\" $PM/agent.log"'
check "migrate: the guest ticks on, on $to, booted once (not restarted)" \
	eval 'wait_until 30 eval "on $to \"grep -c ^tick $CONDIR/guest-$PM_VM--incoming.log\" | grep -qv ^0\$" &&
	    [ "$(pm_boots)" -eq "$boots0" ]'
figure "xdc migrate $from -> $to, a 96 MiB PVH guest, by a drain commit: $took s from the commit to the guest on $to; downtime $(pm_gap) s (the largest gap between the guest's ticks every 20 ms)"
pm_actions "$from"

# Back, with no room there: it runs on where it is.
hog_mem=$(on "$from" "xl info" | awk '$1 == "free_memory" { print $3 - 64 }')
on "$from" "printf 'name=\"pm-hog\"\ntype=\"pvh\"\nmemory=$hog_mem\nkernel=\"$XDC_LAB_GUEST/vmlinux\"\n' >/tmp/pm-hog.cfg && xl create -p -q /tmp/pm-hog.cfg"
pm_config active active
# The agents see xen-a's free memory in its record: whether the plan
# holds the move back or the migration is tried and fails on the
# receiving side, the guest must run on where it is, once.
mig0=$(on "$to" "grep -c 'op=migrate.*name=$PM_VM.*result=done' $PM/agent.log")
sleep 60
check "migrate: with no room on $from, $PM_VM runs on $to still, once, and did not move" \
	eval 'pm_on "$to" && [ "$(pm_running_copies)" -eq 1 ] &&
	    [ "$(on "$to" "grep -c \"op=migrate.*name=$PM_VM.*result=done\" $PM/agent.log")" = "$mig0" ] &&
	    [ "$(pm_boots)" -eq "$boots0" ]'
pm_actions "$to"
on "$from" "xl destroy pm-hog"
check "migrate: with the room back, a later cycle moves it to $from, live" \
	eval 'wait_until 420 pm_on "$from" && [ "$(pm_boots)" -eq "$boots0" ]'
pm_actions "$to"

pm_stop xen-a
pm_stop xen-b
for h in $XDC_LAB_HOSTS; do
	for d in "$PM_VM" "$PM_VM--incoming" "$PM_VM--migratedaway" pm-hog; do
		domains "$h" | grep -qxF "$d" && on "$h" "xl destroy $d"
	done
done
