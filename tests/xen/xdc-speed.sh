# tests/xen/xdc-speed.sh: how fast xdc brings up a host full of guests,
# against what an admin would otherwise run, a shell loop of `xl create`.
# Sourced by tests/xen/suite.sh (check, note, now, since, LOG from there).
#
# N is as many 96 MiB PV guests as Xen's free memory holds. Both sides get
# the same guests (name, type, memory, vCPUs, kernel, ramdisk, cmdline),
# start them running and return once they are; the xl loop goes first, so
# that xdc is the one that finds memory Xen freed moments ago. The figures
# go to the log and to $LOG/speed.txt.
#
# Domain-0 gets the top credit2 weight meanwhile (it is put back after),
# as Xen advises for a busy dom0: under emulation every guest's boot costs
# tens of seconds of CPU, and without it what is timed is mostly which of
# the guests booting so far gets the CPU, not the toolstack. One dom0 vCPU:
# a second one makes both sides slower under TCG.

SPEED=/tmp/xdc-speed
rm -rf "$SPEED"
mkdir -p "$SPEED/xdc" "$SPEED/xl" "$SPEED/none"
: >"$SPEED/none/vms.yaml"

free_mib=$(xl info | awk '$1 == "free_memory" { print $3 }')
# A 96 MiB PV guest costs Xen about 97 MiB with its page tables; keep
# 64 MiB aside for Xen's own allocations.
N=$(((free_mib - 64) / 98))
echo "# ---- speed: $N guests of 96 MiB ($free_mib MiB free)"

i=0
while [ "$i" -lt "$N" ]; do
	[ "$i" -gt 0 ] && echo "---" >>"$SPEED/xdc/vms.yaml"
	cat >>"$SPEED/xdc/vms.yaml" <<-EOF
		kind: VM
		name: s-$i
		type: pv
		memory: 96MiB
		vcpus: 1
		kernel: /var/lib/xdc-lab/guest/vmlinux
		ramdisk: /var/lib/xdc-lab/guest/initrd.img
		cmdline: "console=hvc0 quiet"
	EOF
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

dom0_weight=$(xl sched-credit2 -d Domain-0 | awk '$1 == "Domain-0" { print $3 }')
xl sched-credit2 -d Domain-0 -w 65535

guests() { xl list | awk 'NR > 1 && $1 ~ /^s-/' | wc -l; }
# Live guests: not paused, shut down, crashed or dying.
live_guests() {
	xl list | awk 'NR > 1 && $1 ~ /^s-/ && $5 !~ /^..p|^...s|^....c|^.....d/' |
		wc -l
}

t0=$(now)
for f in "$SPEED"/xl/*.cfg; do
	xl create -q "$f" || echo "# xl create $f failed"
done
xl_create=$(since "$t0")
check "the xl loop started $N guests ($xl_create s)" \
	[ "$(live_guests)" -eq "$N" ]
t0=$(now)
for d in $(xl list | awk 'NR > 1 && $1 ~ /^s-/ { print $1 }'); do
	xl destroy "$d"
done
xl_destroy=$(since "$t0")

t0=$(now)
xdc apply "$SPEED/xdc" >"$LOG/speed-apply.out" 2>&1
rc=$?
xdc_create=$(since "$t0")
tail -n 3 "$LOG/speed-apply.out" | sed 's/^/#   /'
check "xdc apply started $N guests ($xdc_create s)" \
	eval '[ "$rc" -eq 0 ] && [ "$(live_guests)" -eq "$N" ]'
t0=$(now)
xdc plan "$SPEED/xdc" --detailed-exitcode >"$LOG/speed-plan.out" 2>&1
rc=$?
xdc_plan=$(since "$t0")
check "the next plan, over $N managed guests, is empty ($xdc_plan s)" \
	[ "$rc" -eq 0 ]
t0=$(now)
xdc apply "$SPEED/none" --max-destroy "$N" >"$LOG/speed-destroy.out" 2>&1
rc=$?
xdc_destroy=$(since "$t0")
check "xdc apply destroyed the $N guests ($xdc_destroy s)" \
	eval '[ "$rc" -eq 0 ] && [ "$(guests)" -eq 0 ]'

xl sched-credit2 -d Domain-0 -w "${dom0_weight:-256}"

ratio=$(awk -v a="$xl_create" -v b="$xdc_create" \
	'BEGIN { if (b > 0) printf "%.2f", a / b; else print "inf" }')
{
	echo "guests: $N PV guests of 96 MiB, 1 vCPU, running"
	echo "xl create loop: $xl_create s (xl destroy loop: $xl_destroy s)"
	echo "xdc apply: $xdc_create s (empty plan: $xdc_plan s;" \
	    "destroy: $xdc_destroy s)"
	echo "xdc is ${ratio}x as fast as the xl loop"
} >"$LOG/speed.txt"
sed 's/^/# speed: /' "$LOG/speed.txt"
check "xdc apply converges $N guests faster than the xl loop (${ratio}x)" \
	awk -v a="$xl_create" -v b="$xdc_create" 'BEGIN { exit !(b < a) }'
