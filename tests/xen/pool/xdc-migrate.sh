# tests/xen/pool/xdc-migrate.sh: xdc's live migration between the pool
# lab's two hosts, through xdc's plan, sourced by tests/xen/pool/suite.sh
# on xen-a (check, note, figure, on, domains, wait_until, now, since, LOG,
# XDC_LAB_HOSTS, XDC_LAB_GUEST come from there).
#
# One configuration, two versions: the VM mig-1 (PVH, whose /init prints
# its uptime every 20 ms; 96 MiB as in check-xen's migrations, since the
# stream crosses the L2 at about 1 MB/s) pinned to xen-a, then to xen-b.
# test_pool_migrate plans a version on a host, seeing the other host
# through `xdc show --json` over ssh as an agent would through etcd, and
# applies that host's actions with the xen driver. Then:
#  - on xen-a, the first version creates mig-1 there;
#  - on xen-a, the second plans one migrate (no destroy, no create) and
#    the driver moves mig-1 live to xen-b over ssh;
#  - on xen-b, the first again moves it back the same way.
# Each time `xl list` on both hosts, polled all along, never shows two
# running copies; the guest ticks on (one boot); the figures are the
# action's time and the guest's downtime, the largest gap between its
# ticks. `xl migrate` of the same guest, measured the same way in the
# same run, is the baseline. What the pool agent adds (`xdc run --etcd`:
# the drain by commit, the claim moving in etcd) is migrate.sh's.

XM=/tmp/xdc-pool-xm
XM_VM=mig-1
XM_XL=mig-xl
XM_CON=/var/log/xen/console

# The ticking initrd and both versions of the configuration, at the same
# paths on both hosts (a VM's files must be).
xm_setup() {
	rm -rf "$XM" && mkdir -p "$XM/on-xen-a" "$XM/on-xen-b" &&
	tick_initrd "$XM" 20000 &&
	for h in xen-a xen-b; do
		cat >"$XM/on-$h/pool.yaml" <<-EOF || return 1
			kind: Host
			name: xen-a
			---
			kind: Host
			name: xen-b
			---
			kind: VM
			name: $XM_VM
			type: pvh
			memory: 96MiB
			host: $h
			kernel: $XDC_LAB_GUEST/vmlinux
			ramdisk: $XM/tick.img
			cmdline: "console=hvc0 quiet"
		EOF
	done &&
	cat >"$XM/xl.cfg" <<-EOF &&
		name = "$XM_XL"
		type = "pvh"
		memory = 96
		vcpus = 1
		kernel = "$XDC_LAB_GUEST/vmlinux"
		ramdisk = "$XM/tick.img"
		cmdline = "console=hvc0 quiet"
		on_crash = "destroy"
	EOF
	(cd "$XM" && tar cf - tick.img on-xen-a on-xen-b xl.cfg) |
		on xen-b "rm -rf $XM && mkdir -p $XM && tar xf - -C $XM"
}

# Where a guest runs, and its console lines on both hosts, under both
# names a host gives it.
xm_where() {	# name
	for h in $XDC_LAB_HOSTS; do
		domains "$h" | grep -qxF "$1" && echo "$h"
	done
}
xm_console() {	# name
	for h in $XDC_LAB_HOSTS; do
		on "$h" "cat $XM_CON/guest-$1.log $XM_CON/guest-$1--incoming.log 2>/dev/null"
	done
}
xm_boots() { xm_console "$1" | grep -c '^xdc-lab-guest: up'; }
# The guest's latest tick (its uptime), and the largest gap between two
# consecutive ticks from a given one on.
xm_tick() {	# name
	xm_console "$1" | awk '$1 == "tick" { print $2 }' | sort -n | tail -n 1
}
xm_gap() {	# name from-tick
	xm_console "$1" | awk -v t0="$2" '$1 == "tick" && $2 >= t0 { print $2 }' |
	    sort -n | awk 'NR > 1 && $1 - last > gap { gap = $1 - last } { last = $1 }
	         END { printf "%.2f", gap + 0 }'
}
# The copies of a guest that run (not paused, not suspended) on both
# hosts, under its migration names too.
xm_running() {	# name
	n=0
	for h in $XDC_LAB_HOSTS; do
		c=$(on "$h" xl list | awk -v v="$1" '$1 ~ "^" v "(--incoming|--migratedaway)?$" && $5 !~ /[ps]/ { n++ } END { print n + 0 }')
		n=$((n + c))
	done
	echo "$n"
}
# Polls both hosts until $XM/watch goes; the most running copies seen.
xm_watch() {	# name
	max=0
	while [ -f "$XM/watch" ]; do
		n=$(xm_running "$1")
		[ "$n" -gt "$max" ] && max=$n
		echo "$max" >"$XM/maxrunning"
		sleep 0.2
	done
}
xm_watch_start() {	# name
	echo 0 >"$XM/maxrunning"
	touch "$XM/watch"
	xm_watch "$1" &
	xm_watcher=$!
}
xm_watch_stop() {
	rm -f "$XM/watch"
	wait "$xm_watcher"
}
xm_up() {	# name
	xm_console "$1" | grep -q '^tick '
}

# A move by xdc's plan: VERSION planned and applied on host FROM.
xm_move() {	# from to
	from=$1
	to=$2
	out=$LOG/xdc-migrate-$from-$to.out
	sleep 3
	tick0=$(xm_tick "$XM_VM")
	boots0=$(xm_boots "$XM_VM")
	xm_watch_start "$XM_VM"
	t0=$(now)
	on "$from" "test_pool_migrate $from $to $XM/on-$to/pool.yaml" >"$out" 2>&1
	rc=$?
	took=$(since "$t0")
	sleep 3
	xm_watch_stop
	cat "$out"
	check "xdc: planned on $from, $XM_VM pinned to $to is one migrate from $from to $to, and nothing else" \
		eval 'grep "^action: " "$out" | grep -q "migrate VM $XM_VM.* from $from to $to" &&
		    [ "$(grep -c "^action: " "$out")" -eq 1 ]'
	check "xdc: the xen driver moved $XM_VM live to $to (exit $rc)" \
		eval '[ "$rc" -eq 0 ] && grep -q "^ok - migrate $XM_VM" "$out"'
	check "xdc: $XM_VM runs on $to only, and xl list on both hosts, polled all along, never showed two running copies" \
		eval '[ "$(xm_where "$XM_VM")" = "$to" ] && [ "$(cat "$XM/maxrunning")" -le 1 ] &&
		    [ "$(xm_running "$XM_VM")" -eq 1 ]'
	check "xdc: the guest ticks on, on $to, and booted once (not restarted)" \
		eval 'wait_until 30 eval "[ \"\$(xm_tick $XM_VM)\" != \"$tick0\" ]" &&
		    [ "$(xm_boots "$XM_VM")" -eq "$boots0" ]'
	action=$(sed -n "s/^ok - migrate $XM_VM: took \([0-9.]*\) s.*/\1/p" "$out")
	figure "xdc migrate $from -> $to (xdc's plan, the xen driver), a 96 MiB PVH guest: ${action:-?} s the action ($took s with planning, ssh and xdc show); downtime $(xm_gap "$XM_VM" "$tick0") s (the largest gap between the guest's ticks every 20 ms)"
}

check "xdc-migrate: the ticking initrd and both versions of the configuration on both hosts" xm_setup
check "xdc-migrate: test_pool_migrate is on both hosts' PATH" \
	eval 'on xen-b "command -v test_pool_migrate" >/dev/null && command -v test_pool_migrate >/dev/null'

# Created by the plan on xen-a. Now and then a PVH guest dies of a triple
# fault early in its boot (docs/xen-lab.md): up to three tries.
tries=0
until [ $tries -ge 3 ]; do
	tries=$((tries + 1))
	test_pool_migrate xen-a xen-b "$XM/on-xen-a/pool.yaml" >"$LOG/xdc-create.out" 2>&1
	wait_until 120 xm_up "$XM_VM" && break
	note "$XM_VM did not come up (try $tries), again"
	xl destroy "$XM_VM" 2>/dev/null
	rm -f "$XM_CON/guest-$XM_VM.log"
done
cat "$LOG/xdc-create.out"
check "xdc: the plan on xen-a creates $XM_VM there, and it boots and ticks ($tries tries)" \
	eval 'grep -q "^ok - create $XM_VM" "$LOG/xdc-create.out" &&
	    [ "$(xm_where "$XM_VM")" = xen-a ] && xm_up "$XM_VM"'

if [ "$(xm_where "$XM_VM")" = xen-a ]; then
	xm_move xen-a xen-b
	[ "$(xm_where "$XM_VM")" = xen-b ] && xm_move xen-b xen-a
fi
for h in $XDC_LAB_HOSTS; do
	for d in "$XM_VM" "$XM_VM--incoming" "$XM_VM--migratedaway"; do
		domains "$h" | grep -qxF "$d" && on "$h" "xl destroy $d"
	done
done

# The baseline: xl migrate of the same guest, measured the same way.
xl create -q "$XM/xl.cfg"
check "xl: $XM_XL, the same guest, boots on xen-a" wait_until 120 xm_up "$XM_XL"
if [ "$(xm_where "$XM_XL")" = xen-a ]; then
	sleep 3
	tick0=$(xm_tick "$XM_XL")
	xm_watch_start "$XM_XL"
	t0=$(now)
	xl migrate "$XM_XL" xen-b >"$LOG/xl-migrate-ticks.out" 2>&1
	rc=$?
	took=$(since "$t0")
	sleep 3
	xm_watch_stop
	check "xl migrate $XM_XL xen-b: exit $rc, it runs on xen-b, the same boot" \
		eval '[ "$rc" -eq 0 ] && [ "$(xm_where "$XM_XL")" = xen-b ] &&
		    [ "$(xm_boots "$XM_XL")" -eq 1 ]'
	note "xl migrate: most running copies seen at once by the same polling: $(cat "$XM/maxrunning") (xl lets the target run before the source is destroyed)"
	figure "xl migrate xen-a -> xen-b, the same 96 MiB PVH guest: $took s; downtime $(xm_gap "$XM_XL" "$tick0") s (the largest gap between the guest's ticks every 20 ms)"
fi
for h in $XDC_LAB_HOSTS; do
	for d in "$XM_XL" "$XM_XL--incoming" "$XM_XL--migratedaway"; do
		domains "$h" | grep -qxF "$d" && on "$h" "xl destroy $d"
	done
done
