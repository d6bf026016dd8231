# tests/xen/pool/failover.sh: failover on two real Xen hosts, sourced by
# tests/xen/pool/suite.sh on xen-a (check, note, figure, on, domains,
# wait_until, now, since, LOG, XDC_LAB_HOSTS, XDC_ETCD, XDC_LAB_GUEST
# come from there).
#
# Both hosts run an agent (`xdc run --etcd`) on one configuration: two
# PVH guests of an SLA with `spread: host` and `failover: true`, so one
# runs on each host. A sampler on xen-a reads, every few tenths of a
# second and in this order, xen-b's power (the lab's), then `xl list` on
# xen-a, then on xen-b, all in xen-a's clock. Three checks:
#  - fence: xen-b's agent is SIGKILLed (its guest runs on). xen-a's agent,
#    with `--fence-command` set to the lab's power-off, sees xen-b's lease
#    expire, cuts its power, writes fenced/xen-b, and only then starts
#    xen-b's guest on xen-a (libxl's start_time of the copy it builds is
#    after the fence command returned, both in xen-a's clock);
#  - rejoin: xen-b is powered on and its agent started again: its guest
#    comes home by live migration, never two running copies, and the agent
#    deletes fenced/xen-b;
#  - watchdog: xen-b's agent, now with `--watchdog` (xen_wdt), is
#    SIGKILLed; xen-a's agent has no fence command. Xen's watchdog reboots
#    xen-b (the lab says "Watchdog timer fired" and leaves it off), and
#    only after xen-b's lease and its published watchdog timeout have
#    passed does xen-a write fenced/xen-b and start the guest.
# Each sample that shows a guest running on both hosts is a failure; each
# failover's times are figures.

FO=/tmp/xdc-pool-fo
FO_POOL=failover
# Under emulation a keepalive can be late by a second or two: the lease
# leaves room for that, and the watchdog is shorter than the lease as it
# must be, and longer than two keepalive periods.
FO_LEASE=12s
FO_WDT=8s

fo_setup() {
	rm -rf "$FO" && mkdir -p "$FO/cfg" && tick_initrd "$FO" 200000 &&
	cat >"$FO/cfg/pool.yaml" <<-EOF &&
		kind: Host
		name: xen-a
		---
		kind: Host
		name: xen-b
		---
		kind: SLA
		name: web
		selector: {tier: web}
		availability:
		  spread: host
		  failover: true
	EOF
	for v in fo-1 fo-2; do
		cat >>"$FO/cfg/pool.yaml" <<-EOF || return 1
			---
			kind: VM
			name: $v
			labels: {tier: web}
			type: pvh
			memory: 96MiB
			kernel: $XDC_LAB_GUEST/vmlinux
			ramdisk: $FO/tick.img
			cmdline: "console=hvc0 quiet"
		EOF
	done &&
	# The fence command: its start and end in xen-a's clock, then the
	# lab's power switch, as an IPMI fence agent would. The end in wall
	# time too, to the microsecond (bash's; dom0's date has no %N), to
	# compare with libxl's start_time of a domain.
	cat >"$FO/fence" <<-EOF &&
		#!/bin/bash
		echo "start \$(awk '{ print \$1 }' /proc/uptime) \$1" >>$FO/fence.log
		lab-power-off "\$1" || exit 1
		echo "off \$(awk '{ print \$1 }' /proc/uptime) \$1" >>$FO/fence.log
		echo "offwall \$EPOCHREALTIME \$1" >>$FO/fence.log
	EOF
	chmod 0755 "$FO/fence" &&
	(cd "$FO" && tar cf - tick.img cfg) |
	    on xen-b "rm -rf $FO && mkdir -p $FO && tar xf - -C $FO"
}

fo_agent() {	# host [options]
	h=$1
	shift
	on "$h" "cd $FO && setsid xdc run $FO/cfg --host $h --etcd $XDC_ETCD \
	    --pool $FO_POOL --interval 2s --lease $FO_LEASE --state-dir $FO/state $* \
	    >>$FO/agent.log 2>&1 </dev/null & echo \$! >$FO/agent.pid"
}
fo_kill() {	# host signal
	on "$1" "kill -$2 \$(cat $FO/agent.pid) 2>/dev/null; rm -f $FO/agent.pid"
}
fo_log() {	# host pattern: the host's agent's log lines matching it
	on "$1" "grep -e '$2' $FO/agent.log"
}

# The fo-* guests running on a host (not paused, not suspended), under
# their migration names too, comma-separated; "?" when it cannot be read.
fo_running() {	# host
	if [ "$1" = "$ME" ]; then
		fr_out=$(xl list 2>/dev/null) || { echo "?"; return; }
	else
		# shellcheck disable=SC2086 # options
		fr_out=$(timeout 4 ssh $SSH_MUX "$1" xl list 2>/dev/null) ||
		    { echo "?"; return; }
	fi
	echo "$fr_out" | awk '$1 ~ /^fo-[0-9]+(--incoming|--migratedaway)?$/ &&
	    $5 !~ /[ps]/ { sub(/--.*/, "", $1); v = v (v == "" ? "" : ",") $1 }
	    END { print (v == "" ? "-" : v) }'
}
# One sample: "T POWER XEN-A XEN-B". A guest is seen on xen-a after
# xen-b's power was read, so "off" in a sample is no later than what
# xen-a runs in it. xen-b off or booting runs nothing.
fo_sample() {
	fs_t=$(now)
	fs_p=$(fo_power)
	fs_a=$(fo_running xen-a)
	fs_b=-
	[ "$fs_p" = up ] && fs_b=$(fo_running xen-b)
	echo "$fs_t ${fs_p:-?} $fs_a $fs_b"
}
fo_watch() {
	while [ -f "$FO/watch" ]; do
		fo_sample >>"$FO/samples"
		sleep 0.2
	done
}
fo_watch_start() {
	: >"$FO/samples"
	touch "$FO/watch"
	fo_watch &
	fo_watcher=$!
}
fo_watch_stop() {
	rm -f "$FO/watch"
	wait "$fo_watcher"
}
# Samples (since T) where a guest ran on both hosts.
fo_dups() {	# [since]
	awk -v t0="${1:-0}" '$1 + 0 >= t0 + 0 && $3 != "?" && $4 != "?" && $4 != "-" {
		n = split($3, a, ","); m = split($4, b, ",")
		for (i = 1; i <= n; i++) for (j = 1; j <= m; j++)
			if (a[i] == b[j]) { print; next } }' "$FO/samples"
}
# The first sample since T where VM runs on HOST, or where xen-b's power
# is not up: its time.
fo_first_on() {	# vm host since
	awk -v v="$1" -v col="$([ "$2" = xen-a ] && echo 3 || echo 4)" -v t0="$3" '
	    $1 + 0 >= t0 + 0 { n = split($col, a, ","); for (i = 1; i <= n; i++)
		if (a[i] == v) { print $1; exit } }' "$FO/samples"
}
fo_first_off() {	# since
	awk -v t0="$1" '$1 + 0 >= t0 + 0 && $2 != "up" { print $1; exit }' "$FO/samples"
}
fo_where() {	# vm: the hosts it runs on now
	for h in $XDC_LAB_HOSTS; do
		fo_running "$h" | tr , '\n' | grep -qxF "$1" && echo "$h"
	done
}
fo_placed() {	# both guests run, one on each host
	[ "$(fo_where fo-1 | wc -l)" -eq 1 ] && [ "$(fo_where fo-2 | wc -l)" -eq 1 ] &&
	    [ "$(fo_where fo-1)" != "$(fo_where fo-2)" ]
}
fo_wall() { bash -c 'echo "$EPOCHREALTIME"'; }	# wall time, to the microsecond
fo_start_time() {	# vm: when xen-a's domain of it was built (seconds, wall clock)
	fst_d=$(xl domid "$1" 2>/dev/null) &&
	    fst_vm=$(xenstore-read "/local/domain/$fst_d/vm" 2>/dev/null) &&
	    xenstore-read "$fst_vm/start_time" 2>/dev/null
}
fo_power() { lab-power status xen-b | head -n 1 | cut -d' ' -f1; }
fo_key() {	# key under the pool: its value, empty when absent
	etcdctl get --print-value-only "/xdc/$FO_POOL/$1" 2>/dev/null
}
fo_leq() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 <= b + 0) }'; }
fo_show_samples() {	# since: the samples that changed, for the log
	awk -v t0="$1" '$1 + 0 >= t0 + 0 && ($2 $3 $4) != last { print "#   " $0; last = $2 $3 $4 }' \
	    "$FO/samples"
}

check "failover: the ticking initrd, the configuration and the fence command on both hosts" fo_setup
# The host to fence is the command's $1 (/bin/sh -c CMD xdc-fence HOST).
fo_agent xen-a --fence-command "'$FO/fence \"\$1\"'"
fo_agent xen-b
check "failover: both agents start fo-1 and fo-2, one on each host (spread: host)" \
	wait_until 300 fo_placed
vb=fo-1
[ "$(fo_where fo-2)" = xen-b ] && vb=fo-2
va=fo-2
[ "$vb" = fo-2 ] && va=fo-1
note "failover: $vb runs on xen-b, $va on xen-a"
# shellcheck disable=SC2034 # read in an eval below
domid_a=$(xl domid "$va" 2>/dev/null)
fo_watch_start

# ---- fence: xen-b's agent killed; its guest runs on, unmanaged.
sleep 3
t_kill=$(now)
t_kill_wall=$(fo_wall)
fo_kill xen-b KILL
check "fence: xen-b's agent SIGKILLed, xen-a's fences xen-b and starts $vb" \
	wait_until 180 eval '[ "$(fo_where "$vb")" = xen-a ]'
wait_until 30 eval '[ -n "$(fo_first_on "$vb" xen-a "$t_kill")" ]'
fence_start=$(awk '$1 == "start" { print $2; exit }' "$FO/fence.log" 2>/dev/null)
fence_off=$(awk '$1 == "off" { print $2; exit }' "$FO/fence.log" 2>/dev/null)
check "fence: the fence command ran once, for xen-b, and cut its power" \
	eval '[ "$(grep -c "^start .* xen-b$" "$FO/fence.log")" -eq 1 ] &&
	    [ -n "$fence_off" ] && [ "$(fo_power)" = off ]'
# When xen-a built its copy: libxl's start_time, in xen-a's clock as the
# fence command's wall time is. (A sample's time is when it began; its
# `xl list` of xen-a comes seconds later while xen-b's ssh times out.)
fence_wall=$(awk '$1 == "offwall" { print $2; exit }' "$FO/fence.log" 2>/dev/null)
vb_built=$(fo_start_time "$vb")
note "fence: the command returned at $fence_wall; xen-a built $vb at ${vb_built:-?} (libxl's start_time)"
check "fence: xen-b was off (the command returned) before xen-a built $vb" \
	eval '[ -n "$fence_wall" ] && [ -n "$vb_built" ] && fo_leq "$fence_wall" "$vb_built"'
check "fence: xen-a's agent logged the fence (method=command) and the failover" \
	eval 'fo_log xen-a "msg=fenced.*host=xen-b.*method=command" >/dev/null &&
	    fo_log xen-a "msg=failover" >/dev/null'
check "fence: fenced/xen-b is in etcd" eval '[ -n "$(fo_key fenced/xen-b)" ]'
check "fence: $va ran on in xen-a, untouched (same domid)" \
	eval '[ "$(xl domid "$va" 2>/dev/null)" = "$domid_a" ]'
check "fence: no sample showed a guest running on both hosts" \
	eval '[ -z "$(fo_dups "$t_kill")" ]'
figure "failover by fence command (lease $FO_LEASE): SIGKILL to the fence command $(awk -v a="$fence_start" -v b="$t_kill" 'BEGIN { printf "%.1f", a - b }') s, power off after $(awk -v a="$fence_off" -v b="$t_kill" 'BEGIN { printf "%.1f", a - b }') s, $vb built on xen-a (libxl's start_time) after $(awk -v a="$vb_built" -v b="$t_kill_wall" 'BEGIN { printf "%.1f", a - b }') s"
fo_show_samples "$t_kill" | tail -n 20
fo_log xen-a "fenced\|failover\|lost" | sed 's/^/#   /'

# ---- rejoin: xen-b back, its agent (with a watchdog now) rejoins.
t_on=$(now)
check "rejoin: lab-power-on xen-b boots it (xen_wdt loaded)" \
	eval 'lab-power-on xen-b && on xen-b "modprobe xen_wdt"'
on xen-b "mkdir -p $FO" && (cd "$FO" && tar cf - tick.img cfg) | on xen-b "tar xf - -C $FO"
t_join=$(now)
fo_agent xen-b --watchdog="$FO_WDT"
check "rejoin: $vb comes home to xen-b" \
	wait_until 600 eval '[ "$(fo_where "$vb")" = xen-b ] && fo_placed'
t_home=$(fo_first_on "$vb" xen-b "$t_join")
check "rejoin: by one live migration of xen-a's agent (no create on xen-b)" \
	eval 'fo_log xen-a "op=migrate.*name=$vb.*result=done" >/dev/null &&
	    ! fo_log xen-b "op=create.*name=$vb.*result=done" >/dev/null'
check "rejoin: xen-b's agent deleted fenced/xen-b" \
	wait_until 30 eval '[ -z "$(fo_key fenced/xen-b)" ]'
check "rejoin: no sample showed a guest running on both hosts" \
	eval '[ -z "$(fo_dups "$t_on")" ]'
figure "rejoin: xen-b powered on and its dom0 up in $(awk -v a="$t_join" -v b="$t_on" 'BEGIN { printf "%.1f", a - b }') s; from its agent's start to $vb running at home (a live migration of a 96 MiB PVH guest) $(awk -v a="$t_home" -v b="$t_join" 'BEGIN { printf "%.1f", a - b }') s"
fo_log xen-a "op=migrate" | sed 's/^/#   xen-a: /'
fo_log xen-b "msg=action\|level=warn\|level=error" | tail -n 12 | sed 's/^/#   xen-b: /'
on xen-b "cat $FO/agent.log" >"$LOG/failover-agent-xen-b-rejoin.log" 2>/dev/null

# ---- watchdog: no fence command; xen-b's agent killed, its watchdog
# lets Xen reboot xen-b, and the lab leaves it off.
fo_kill xen-a TERM
sleep 2
fo_agent xen-a
# A whole lease with the pool read before xen-a's agent fences anything.
sleep 15
check "watchdog: both agents hold their leases, the guests in place, xen-b's watchdog armed and published" \
	eval 'fo_placed && [ "$(fo_where "$vb")" = xen-b ] &&
	    fo_key hosts/xen-b | grep -q "\"watchdog_ms\": *8000" &&
	    ! fo_log xen-b "watchdog not armed" >/dev/null'
lab-power on-reboot xen-b stay-off >/dev/null 2>&1
t_kill=$(now)
t_kill_wall=$(fo_wall)
fo_kill xen-b KILL
check "watchdog: Xen's watchdog rebooted xen-b (the lab saw it fire)" \
	eval 'lab-power wait xen-b off 90 &&
	    lab-power status xen-b | grep -q "Watchdog timer fired"'
check "watchdog: xen-a's agent starts $vb once xen-b's lease and watchdog timeout passed" \
	wait_until 180 eval '[ "$(fo_where "$vb")" = xen-a ]'
# Both from the samples, once the sampler has seen the guest on xen-a:
# a sample takes seconds while xen-b's ssh times out.
wait_until 30 eval '[ -n "$(fo_first_on "$vb" xen-a "$t_kill")" ]'
t_off=$(fo_first_off "$t_kill")
t_fo=$(fo_first_on "$vb" xen-a "$t_kill")
check "watchdog: xen-b was off before $vb ran on xen-a" \
	eval '[ -n "$t_off" ] && [ -n "$t_fo" ] && fo_leq "$t_off" "$t_fo"'
# xen-b's watchdog fires at most its timeout after its last pet (no later
# than the kill); its lease ends at least a lease less one renewal period
# (a third) after the kill, and xen-a waits the timeout again after that.
# So xen-a's copy, built by its clock, comes at least that long after the
# kill: later than the watchdog's reset, whatever the samples caught.
vb_built=$(fo_start_time "$vb")
wd_min=$(awk -v l="${FO_LEASE%s}" -v w="${FO_WDT%s}" 'BEGIN { print l - l / 3 + w }')
check "watchdog: xen-a built $vb at least ${wd_min} s after the kill (the lease less a renewal period, plus the watchdog's timeout)" \
	eval '[ -n "$vb_built" ] && fo_leq "$(awk -v a="$t_kill_wall" -v m="$wd_min" "BEGIN { printf \"%.6f\", a + m }")" "$vb_built"'
check "watchdog: xen-a's agent wrote fenced/xen-b with method=watchdog" \
	eval 'fo_log xen-a "msg=fenced.*host=xen-b.*method=watchdog" >/dev/null &&
	    fo_key fenced/xen-b | grep -q watchdog'
check "watchdog: no sample showed a guest running on both hosts" \
	eval '[ -z "$(fo_dups "$t_kill")" ]'
figure "failover by Xen's watchdog (xen_wdt $FO_WDT, lease $FO_LEASE): SIGKILL to xen-b seen off $(awk -v a="$t_off" -v b="$t_kill" 'BEGIN { printf "%.1f", a - b }') s, $vb built on xen-a (libxl's start_time) after $(awk -v a="$vb_built" -v b="$t_kill_wall" 'BEGIN { printf "%.1f", a - b }') s"
fo_show_samples "$t_kill" | tail -n 20
fo_log xen-a "fenced\|failover\|lost" | tail -n 5 | sed 's/^/#   /'
fo_watch_stop

# ---- the end: xen-b on again, no agent, no guest left anywhere.
fo_kill xen-a TERM
lab-power on-reboot xen-b stay-off >/dev/null 2>&1
[ "$(fo_power)" = up ] || lab-power-on xen-b >/dev/null 2>&1
for h in $XDC_LAB_HOSTS; do
	for d in fo-1 fo-2 fo-1--incoming fo-2--incoming fo-1--migratedaway fo-2--migratedaway; do
		domains "$h" | grep -qxF "$d" && on "$h" "xl destroy $d"
	done
done
cp "$FO/samples" "$LOG/failover-samples.txt" 2>/dev/null
cp "$FO/agent.log" "$LOG/failover-agent-xen-a.log" 2>/dev/null
