#!/bin/sh
# tests/xen/show-speed.sh: what one look at a host full of guests costs,
# `xdc show` against xl's own listings. It runs in the lab's dom0
# (`make xen-show-speed`, which is `tests/xen-lab/run
# tests/xen/show-speed.sh` with the memory 50 guests need).
#
# N small PV guests (XDC_SHOW_GUESTS, 50; fewer when Xen's free memory
# does not hold them) are made paused by `xl create -p`, as an admin's own
# would be: unmanaged, so xdc reads of each what it would need to import
# or adopt it. Each has a NIC on a bridge with a MAC of its own; every
# tenth a disk (every twentieth read-only), every fifth two vCPUs of
# which one is online, every seventh a credit2 weight and cap of its own.
# Then, RUNS times (XDC_SHOW_RUNS, 7) in turn, `xl list`, `xl list -l`,
# `xdc show` and `xdc show --json`, each timed; the median, least and most
# are printed and written to $XDC_LAB_RESULTS/show-speed/figures.txt.
# Timing is reported, never asserted. What is checked is that the guests
# were made and every command listed all of them.
#
# Another build of xdc on dom0's PATH as xdc-before (`make xen-show-speed
# XDC_BEFORE=path/to/xdc`) is timed in the same rounds, and must observe
# exactly what xdc does: its `show --json` is compared with xdc's, byte
# for byte. Last, one more run of each command with xenstored's trace on
# counts the xenstore requests it makes, a figure the machine's load does
# not move.
set -u

N=${XDC_SHOW_GUESTS:-50}
RUNS=${XDC_SHOW_RUNS:-7}
OUT=${XDC_LAB_RESULTS:-/tmp}/show-speed
GUEST=${XDC_LAB_GUEST:-/var/lib/xdc-lab/guest}
WORK=/tmp/show-speed
BR=xdcshow
failed=0

rm -rf "$OUT" "$WORK"
mkdir -p "$OUT" "$WORK"

# Seconds since boot, to the hundredth, and since an earlier reading.
now() { awk '{ print $1 }' /proc/uptime; }
since() { awk -v t0="$1" '{ printf "%.2f\n", $1 - t0 }' /proc/uptime; }
check() {	# description command...
	desc=$1
	shift
	if "$@"; then
		echo "ok - $desc"
	else
		echo "not ok - $desc"
		failed=$((failed + 1))
	fi
}
not_grep() { ! grep -q "$@"; }
guests() { xl list | awk 'NR > 1 && $1 ~ /^s-/' | wc -l; }

free_mib=$(xl info | awk '$1 == "free_memory" { print $3 }')
# A 96 MiB PV guest costs Xen about 97 MiB with its page tables (the
# lab's guest kernel needs most of it to be loaded at all); 64 MiB stay
# aside for Xen's own allocations.
fit=$(((free_mib - 64) / 98))
if [ "$fit" -lt "$N" ]; then
	echo "# only $fit guests of 96 MiB fit in $free_mib MiB (XDC_LAB_MEM?)"
	N=$fit
fi
echo "# ---- show-speed: $N paused PV guests of 96 MiB ($free_mib MiB free)"

ip link add "$BR" type bridge && ip link set "$BR" up ||
	echo "# could not make the bridge $BR"
i=0
while [ "$i" -lt "$N" ]; do
	vcpus="vcpus = 1"
	[ $((i % 5)) -eq 0 ] && vcpus="vcpus = 1
maxvcpus = 2"
	disk=
	if [ $((i % 10)) -eq 0 ]; then
		truncate -s 8M "$WORK/d-$i.img"
		access=rw
		[ $((i % 20)) -eq 0 ] && access=ro
		disk="disk = [ 'format=raw, vdev=xvda, access=$access, target=$WORK/d-$i.img' ]"
	fi
	cat >"$WORK/s-$i.cfg" <<-EOF
		name = "s-$i"
		type = "pv"
		memory = 96
		$vcpus
		kernel = "$GUEST/vmlinux"
		ramdisk = "$GUEST/initrd.img"
		cmdline = "console=hvc0 quiet"
		vif = [ 'bridge=$BR,mac=00:16:3e:5e:00:$(printf %02x "$i")' ]
		$disk
	EOF
	i=$((i + 1))
done

t0=$(now)
i=0
while [ "$i" -lt "$N" ]; do
	xl create -p -q "$WORK/s-$i.cfg" >"$WORK/create.out" 2>&1 || {
		echo "# xl create s-$i failed:"
		sed 's/^/#   /' "$WORK/create.out"
	}
	[ $((i % 7)) -eq 0 ] && xl sched-credit2 -d "s-$i" -w 384 -c 25
	i=$((i + 1))
done
echo "# xl create -p of $N guests: $(since "$t0") s"
check "xl made the $N guests, paused" [ "$(guests)" -eq "$N" ]

# Each command in turn, RUNS rounds, so that whatever else the machine
# does weighs on all four alike. A command's output is kept from its last
# run; its exit code must be 0 every time.
CMDS="xl_list xl_list_l xdc_show xdc_show_json"
command -v xdc-before >/dev/null && CMDS="$CMDS before_show before_show_json"
run() {	# name
	case "$1" in
	xl_list) xl list ;;
	xl_list_l) xl list -l ;;
	xdc_show) xdc show ;;
	xdc_show_json) xdc show --json ;;
	before_show) xdc-before show ;;
	before_show_json) xdc-before show --json ;;
	esac
}
label() {	# name
	case "$1" in
	xl_list) echo "xl list" ;;
	xl_list_l) echo "xl list -l" ;;
	xdc_show) echo "xdc show" ;;
	xdc_show_json) echo "xdc show --json" ;;
	before_show) echo "xdc-before show" ;;
	before_show_json) echo "xdc-before show --json" ;;
	esac
}
for c in $CMDS; do : >"$OUT/$c.times"; : >"$OUT/$c.rc"; done
r=0
while [ "$r" -lt "$RUNS" ]; do
	for c in $CMDS; do
		t0=$(now)
		run "$c" >"$OUT/$c.out" 2>&1
		echo $? >>"$OUT/$c.rc"
		since "$t0" >>"$OUT/$c.times"
	done
	r=$((r + 1))
done
cp "$OUT/xdc_show_json.out" "$OUT/show.json"
if command -v xdc-before >/dev/null; then
	diff -u "$OUT/before_show_json.out" "$OUT/show.json" >"$OUT/show.diff"
	check "xdc-before and xdc observe the same (show --json, $(wc -c \
	    <"$OUT/show.json") bytes)" [ ! -s "$OUT/show.diff" ]
	head -n 40 "$OUT/show.diff" | sed 's/^/#   /'
fi

# The xenstore requests of one run: xenstored's trace (xenstore-control
# logfile) around it, less those of an empty command (the trace's own).
xs_trace() {	# name
	rm -f "$WORK/xs.trace"
	xenstore-control logfile "$WORK/xs.trace" >/dev/null 2>&1 || return
	run "$1" >/dev/null 2>&1
	xenstore-control log off >/dev/null 2>&1
}
xs_trace none
base=$(grep -c '^IN ' "$WORK/xs.trace" 2>/dev/null)
for c in $CMDS; do
	xs_trace "$c"
	n=$(grep -c '^IN ' "$WORK/xs.trace" 2>/dev/null)
	echo $((${n:-0} - ${base:-0})) >"$OUT/$c.xs"
	awk '$1 == "IN" { print $5 }' "$WORK/xs.trace" 2>/dev/null |
		sort | uniq -c | sort -rn | awk '{ printf "%s %s ", $2, $1 }' \
		>"$OUT/$c.xstypes"
done

for c in $CMDS; do
	check "$c exits 0 every time" not_grep -v '^0$' "$OUT/$c.rc"
done
check "xl list lists the $N guests" \
	[ "$(awk '$1 ~ /^s-/' "$OUT/xl_list.out" | wc -l)" -eq "$N" ]
check "xl list -l gives each guest's configuration" \
	[ "$(grep -c '"name": "s-' "$OUT/xl_list_l.out")" -eq "$N" ]
check "xdc show lists the $N guests" \
	[ "$(awk '$1 ~ /^s-/' "$OUT/xdc_show.out" | wc -l)" -eq "$N" ]
check "xdc show --json lists the $N guests" \
	[ "$(grep -c '"name": "s-' "$OUT/show.json")" -eq "$N" ]

stats() {	# file: median least most
	sort -n "$1" | awk '{ v[NR] = $1 }
	END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.2f %.2f %.2f", m, v[1], v[NR]
	}'
}
{
	echo "$N paused PV guests (1 NIC each, $((N / 10 + (N % 10 > 0))) with a disk)," \
	    "$RUNS runs each: seconds, median (least-most); xenstore requests"
	for c in $CMDS; do
		# shellcheck disable=SC2046 # three numbers
		set -- $(stats "$OUT/$c.times")
		printf '  %-22s %6s  (%s-%s)  %s\n' "$(label "$c")" "$1" "$2" \
		    "$3" "$(cat "$OUT/$c.xs" 2>/dev/null)"
	done
	echo "  xenstore requests of xdc show: $(cat "$OUT/xdc_show.xstypes")"
	if [ -f "$OUT/before_show.xstypes" ]; then
		echo "  of xdc-before show: $(cat "$OUT/before_show.xstypes")"
	fi
	echo "  dom0 load average: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT/figures.txt"
sed 's/^/# show-speed: /' "$OUT/figures.txt"

for d in $(xl list | awk 'NR > 1 && $1 ~ /^s-/ { print $1 }'); do
	xl destroy "$d"
done
ip link del "$BR" 2>/dev/null
check "the guests are gone" [ "$(guests)" -eq 0 ]
echo "# show-speed: $failed failed"
[ "$failed" -eq 0 ]
