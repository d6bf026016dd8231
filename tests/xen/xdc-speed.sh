# tests/xen/xdc-speed.sh: how fast xdc brings up a host full of guests,
# against what an admin would otherwise run, a shell loop of `xl create`.
# Sourced by tests/xen/suite.sh (check, note, now, since, LOG from there).
#
# N is as many 96 MiB PV guests as Xen's free memory holds, at most 16. Both
# sides get the same guests (name, type, memory, vCPUs, kernel, ramdisk,
# cmdline) and return once Xen runs them as declared; the xl loop goes first
# each time, so that xdc is the one that finds memory Xen freed moments ago.
# Twice: the guests declared paused (`xl create -p`), which times the
# toolstacks alone, then running, which also times N guests booting on an
# emulated CPU meanwhile. The figures go to the log and to $LOG/speed.txt.
#
# Domain-0 gets the top credit2 weight meanwhile (it is put back after),
# as Xen advises for a busy dom0: under emulation every guest's boot costs
# tens of seconds of CPU, and without it what is timed is mostly which of
# the guests booting so far gets the CPU, not the toolstack. One dom0 vCPU:
# a second one makes both sides slower under TCG.

SPEED=/tmp/xdc-speed
rm -rf "$SPEED"
mkdir -p "$SPEED/xl" "$SPEED/none"
: >"$SPEED/none/vms.yaml"

free_mib=$(xl info | awk '$1 == "free_memory" { print $3 }')
# A 96 MiB PV guest costs Xen about 97 MiB with its page tables; keep
# 64 MiB aside for Xen's own allocations.
N=$(((free_mib - 64) / 98))
# At most 16: enough to show overlap, and the lab's time stays bounded
# when it is given more memory.
[ "$N" -le 16 ] || N=16
echo "# ---- speed: $N guests of 96 MiB ($free_mib MiB free)"

for state in paused running; do
	mkdir -p "$SPEED/$state"
	i=0
	while [ "$i" -lt "$N" ]; do
		[ "$i" -gt 0 ] && echo "---" >>"$SPEED/$state/vms.yaml"
		cat >>"$SPEED/$state/vms.yaml" <<-EOF
			kind: VM
			name: s-$i
			type: pv
			memory: 96MiB
			vcpus: 1
			kernel: /var/lib/xdc-lab/guest/vmlinux
			ramdisk: /var/lib/xdc-lab/guest/initrd.img
			cmdline: "console=hvc0 quiet"
			state: $state
		EOF
		i=$((i + 1))
	done
done
i=0
while [ "$i" -lt "$N" ]; do
	cat >"$SPEED/xl/s-$i.cfg" <<-EOF
		name = "s-$i"
		type = "pv"
		memory = 96
		vcpus = 1
		kernel = "/var/lib/xdc-lab/guest/vmlinux"
		ramdisk = "/var/lib/xdc-lab/guest/initrd.img"
		cmdline = "console=hvc0 quiet"
	EOF
	i=$((i + 1))
done

guests() { xl list | awk 'NR > 1 && $1 ~ /^s-/' | wc -l; }
# Guests in the state: paused (p), or live (not paused, shut down,
# crashed or dying).
guests_in() {	# paused|running
	xl list | awk -v st="$1" 'NR > 1 && $1 ~ /^s-/ {
		bad = $5 ~ /^...s|^....c|^.....d/
		p = $5 ~ /^..p/
		if (!bad && (st == "paused" ? p : !p)) n++
	} END { print n + 0 }'
}
ratio() { awk -v a="$1" -v b="$2" \
	'BEGIN { if (b > 0) printf "%.2f", a / b; else print "inf" }'; }

dom0_weight=$(xl sched-credit2 -d Domain-0 |
	awk '$1 == "Domain-0" { print $3 }')
xl sched-credit2 -d Domain-0 -w 65535
: >"$LOG/speed.txt"

for state in paused running; do
	flag=
	[ "$state" = paused ] && flag=-p
	t0=$(now)
	for f in "$SPEED"/xl/*.cfg; do
		xl create $flag -q "$f" || echo "# xl create $f failed"
	done
	xl_create=$(since "$t0")
	check "the xl loop made $N guests $state ($xl_create s)" \
		[ "$(guests_in $state)" -eq "$N" ]
	# xl leaves a monitoring daemon per guest in dom0's 384 MiB.
	note "dom0 after the xl loop: $(free -m | awk 'NR == 2 {
	    print $7 " MiB available" }'), $(pgrep -c -x xl 2>/dev/null ||
	    ps | grep -c "[x]l ") xl processes"
	t0=$(now)
	for d in $(xl list | awk 'NR > 1 && $1 ~ /^s-/ { print $1 }'); do
		xl destroy "$d"
	done
	xl_destroy=$(since "$t0")

	t0=$(now)
	xdc apply "$SPEED/$state" >"$LOG/speed-apply.out" 2>&1
	rc=$?
	xdc_create=$(since "$t0")
	tail -n 3 "$LOG/speed-apply.out" | sed 's/^/#   /'
	check "xdc apply made $N guests $state ($xdc_create s)" \
		eval '[ "$rc" -eq 0 ] && [ "$(guests_in $state)" -eq "$N" ]'
	t0=$(now)
	xdc plan "$SPEED/$state" --detailed-exitcode \
		>"$LOG/speed-plan.out" 2>&1
	rc=$?
	xdc_plan=$(since "$t0")
	check "the next plan, over $N managed guests, is empty ($xdc_plan s)" \
		[ "$rc" -eq 0 ]
	t0=$(now)
	xdc apply "$SPEED/none" --max-destroy "$N" \
		>"$LOG/speed-destroy.out" 2>&1
	rc=$?
	xdc_destroy=$(since "$t0")
	check "xdc apply destroyed the $N guests ($xdc_destroy s)" \
		eval '[ "$rc" -eq 0 ] && [ "$(guests)" -eq 0 ]'

	r=$(ratio "$xl_create" "$xdc_create")
	{
		echo "$N PV guests of 96 MiB, 1 vCPU, $state:" \
		    "xl create loop $xl_create s, xdc apply $xdc_create s:" \
		    "${r}x"
		echo "  (then: xdc plan, no changes, $xdc_plan s; xdc" \
		    "destroying them $xdc_destroy s; xl destroy loop" \
		    "$xl_destroy s)"
	} >>"$LOG/speed.txt"
	eval "ratio_$state=\$r xl_$state=\$xl_create xdc_$state=\$xdc_create"
done
xl sched-credit2 -d Domain-0 -w "${dom0_weight:-256}"

sed 's/^/# speed: /' "$LOG/speed.txt"
# A benchmark, not a test: the ratios are reported, never asserted (under
# TCG on two cores they swing with whatever else the machine runs). What
# is checked above is that both sides made every guest as declared.
note "speed: xl loop / xdc apply, paused ${ratio_paused}x, running ${ratio_running}x (above 1: xdc is faster)"
