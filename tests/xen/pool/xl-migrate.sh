# tests/xen/pool/xl-migrate.sh: Xen's own live migration between the
# pool lab's hosts, sourced by suite.sh on xen-a.
#
# A PVH guest on xenbr0 (an address on the shared L2, a tick a second on
# its console) moves with `xl migrate GUEST xen-b`.  Afterwards: exactly
# one copy, on the target; the guest answers pings there; its ticks go on
# from where they were (the same guest, not a new boot).  Figures: the
# time `xl migrate` takes, and the guest's downtime, the longest time
# without a reply to pings sent from xen-a every 0.1 s.  xdc-migrate.sh
# compares xdc's own live migration with xl's on a guest of its own.
#
# PVH, because Debian's Xen 4.17 is built without shadow paging
# (CONFIG_SHADOW_PAGING is not set), and a PV guest's log-dirty mode, which
# live migration needs, is shadow paging: xl migrate of a PV guest fails
# ("Failed to enable logdirty: 95").  A PV guest is tried too, to show that
# a failed migration leaves it running on its source and nothing on the
# target.
#
# The target's xenconsoled names the console log after the domain's name
# when it appeared there, NAME--incoming (xl renames it once the stream is
# in), so ticks are looked for in both logs.

MIG_GUEST=pool-mig
MIG_MEM=128
MIG_IP=$XDC_LAB_POOL_NET.10
MIG_CFG=/tmp/$MIG_GUEST.cfg
CONDIR=/var/log/xen/console
MIG_CON=$CONDIR/guest-$MIG_GUEST.log
mig_cfg() {	# name type ip-suffix mac-suffix
	cat <<-EOF
		name = "$1"
		type = "$2"
		memory = $MIG_MEM
		vcpus = 1
		kernel = "$XDC_LAB_GUEST/vmlinux"
		ramdisk = "$XDC_LAB_GUEST/initrd.img"
		cmdline = "console=hvc0 quiet xdclab.ip=$XDC_LAB_POOL_NET.$3/24 xdclab.tick"
		vif = [ "mac=00:16:3e:77:00:$4,bridge=xenbr0" ]
		on_crash = "destroy"
	EOF
}
mig_cfg "$MIG_GUEST" pvh 10 10 >"$MIG_CFG"

# A guest's console, under both names it may have on a host.
console_of() {	# host name
	on "$1" "cat $CONDIR/guest-$2.log $CONDIR/guest-$2--incoming.log 2>/dev/null"
}
# The highest tick a guest printed on a host (0: none yet).
last_tick() {	# host [name]
	console_of "$1" "${2:-$MIG_GUEST}" |
		sed -n 's/^xdc-lab-guest: tick \([0-9]*\).*/\1/p' | sort -n |
		tail -n 1 | grep . || echo 0
}
# How many times the guest booted, by its console logs on a host.
boots_on() {	# host
	console_of "$1" "$MIG_GUEST" | grep -c '^xdc-lab-guest: up'
}
ticks_beyond() {	# host tick [name]
	[ "$(last_tick "$1" "${3:-$MIG_GUEST}")" -gt "$2" ]
}
# Each line with this dom0's uptime in front.
stamp() {
	awk '{
		getline u < "/proc/uptime"
		close("/proc/uptime")
		split(u, f, " ")
		print f[1], $0
		fflush()
	}'
}
pings() {	# count
	ping -c "$1" -W 2 "$MIG_IP" >/dev/null 2>&1
}

# Moves the guest from one host to the other with xl migrate on the
# source, pinging it from here all along.
xl_migrate() {	# from to
	from=$1
	to=$2
	plog=$LOG/ping-$from-$to.txt
	tick0=$(last_tick "$from")
	ups0=$(boots_on "$to")
	# Every reply stamped with this dom0's uptime: busybox ping has no
	# timestamps of its own.
	(
		ping -i 0.1 "$MIG_IP" &
		echo $! >"$LOG/ping.pid"
		wait
	) 2>&1 | stamp >"$plog" &
	pipe=$!
	sleep 2
	t0=$(now)
	# Its lines stamped too, to see where the time goes.
	(
		on "$from" "xl migrate $MIG_GUEST $to" 2>&1
		echo $? >"$LOG/xl-migrate.rc"
	) | stamp >"$LOG/xl-migrate-$from-$to.out"
	rc=$(cat "$LOG/xl-migrate.rc")
	took=$(since "$t0")
	t1=$(now)
	cat "$LOG/xl-migrate-$from-$to.out"
	check "xl migrate $MIG_GUEST $to on $from exits 0 (in $took s)" \
		[ "$rc" -eq 0 ]
	# Pings go on until the guest answered for 2 s, or 30 s.
	wait_until 30 eval 'awk -v t="$t1" "\$1 > t + 2 && / seq=/" "$plog" | grep -q .'
	kill "$(cat "$LOG/ping.pid")" 2>/dev/null
	wait "$pipe"
	check "after the migration exactly one copy of $MIG_GUEST runs in the pool" \
		[ "$(copies "$MIG_GUEST")" -eq 1 ]
	check "$MIG_GUEST runs on $to, not on $from" \
		eval 'domains "$to" | grep -qxF "$MIG_GUEST" &&
		    ! domains "$from" | grep -qxF "$MIG_GUEST"'
	check "$MIG_GUEST answers pings on $to" pings 3
	check "$MIG_GUEST's console ticks on from $tick0 on $to: the same guest, not booted again" \
		eval 'wait_until 20 ticks_beyond "$to" "$tick0" &&
		    [ "$(boots_on "$to")" -eq "$ups0" ]'
	# The longest time without a reply while the migration ran, and
	# how many pings went unanswered.
	set -- $(awk -v t0="$t0" '
		/ seq=/ {
			n++
			if (last != "" && $1 > t0 - 1 && $1 - last > gap)
				gap = $1 - last
			last = $1
			s = $0
			sub(/.* seq=/, "", s)
			sub(/ .*/, "", s)
			if (s + 0 > max)
				max = s + 0
		}
		END { printf "%.1f %d %d\n", gap, max + 1 - n, max + 1 }' "$plog")
	figure "xl migrate $from -> $to, a $MIG_MEM MiB PVH guest: $took s; downtime $1 s (the longest time without a reply to pings every 0.1 s; $2 of $3 lost)"
	# Where the time went, by xl's own lines: the memory stream, the
	# target setting up the devices before it may start the domain, and
	# the source destroying its copy after the target started it.
	awk '
		/Restoring domain/ { s = $1 }
		/Restore successful/ { r = $1 }
		/Transfer complete/ { c = $1 }
		/Domain started/ { d = $1 }
		/Migration successful/ { m = $1 }
		END {
			if (s && r && c && d && m)
				printf "memory stream %.1f s, target devices %.1f s, source copy gone %.1f s after the start\n", r - s, c - r, m - d
		}' "$LOG/xl-migrate-$from-$to.out" >"$LOG/xl-migrate.parts"
	[ ! -s "$LOG/xl-migrate.parts" ] ||
		note "xl migrate $from -> $to: $(cat "$LOG/xl-migrate.parts")"
}

# A PV guest: Xen cannot migrate it live; it goes on running on xen-a.
PV_GUEST=pool-pv
mig_cfg "$PV_GUEST" pv 11 11 >/tmp/$PV_GUEST.cfg
check "xl create of $PV_GUEST ($MIG_MEM MiB PV) on xen-a" \
	eval 'xl create -q /tmp/$PV_GUEST.cfg &&
	    wait_until 120 grep -q "^xdc-lab-guest: tick" "$CONDIR/guest-$PV_GUEST.log"'
t0=$(now)
xl migrate "$PV_GUEST" xen-b >"$LOG/xl-migrate-pv.out" 2>&1
rc=$?
cat "$LOG/xl-migrate-pv.out"
note "xl migrate of a PV guest exits $rc after $(since "$t0") s: $(grep -m1 -o 'Failed to enable logdirty[^(]*' "$LOG/xl-migrate-pv.out")"
if [ "$rc" -ne 0 ]; then
	tick0=$(last_tick xen-a "$PV_GUEST")
	check "after the failed migration $PV_GUEST runs on xen-a, ticking on, and xen-b has no copy" \
		eval '[ "$(copies "$PV_GUEST")" -eq 1 ] &&
		    domains xen-a | grep -qxF "$PV_GUEST" &&
		    wait_until 20 ticks_beyond xen-a "$tick0" "$PV_GUEST"'
fi
xl destroy "$PV_GUEST" 2>/dev/null
on xen-b "xl destroy $PV_GUEST" 2>/dev/null

# The PVH guest.  Now and then one dies of a triple fault early in its
# boot (docs/xen-lab.md): try up to three times.
t0=$(now)
tries=0
until [ $tries -ge 3 ]; do
	tries=$((tries + 1))
	xl create -q "$MIG_CFG" || break
	if wait_until 120 eval 'grep -q "^xdc-lab-guest: eth0 $MIG_IP" "$MIG_CON" ||
	    ! xl domid "$MIG_GUEST" >/dev/null 2>&1'; then
		grep -q "^xdc-lab-guest: eth0 $MIG_IP" "$MIG_CON" && break
	fi
	note "$MIG_GUEST did not come up (try $tries), again"
	xl destroy "$MIG_GUEST" 2>/dev/null
done
check "$MIG_GUEST ($MIG_MEM MiB PVH, NIC on xenbr0) runs on xen-a and its console says eth0 has $MIG_IP" \
	grep -q "^xdc-lab-guest: eth0 $MIG_IP" "$MIG_CON"
check "$MIG_GUEST answers pings from xen-a" wait_until 60 pings 1
note "$MIG_GUEST up and answering after $(since "$t0") s ($tries tries)"

# One way: xdc-migrate.sh moves its guest there and back, and each
# migration costs minutes of the suite (the stream crosses the L2 at about
# 1 MB/s).
if domains xen-a | grep -qxF "$MIG_GUEST"; then
	xl_migrate xen-a xen-b
fi
echo "# guest console on xen-a:"
console_of xen-a "$MIG_GUEST" | tail -n 5

# No guest left behind, wherever it ended up.
for h in $XDC_LAB_HOSTS; do
	if domains "$h" | grep -qxF "$MIG_GUEST"; then
		on "$h" "xl destroy $MIG_GUEST"
	fi
done
