#!/bin/sh
# tests/xen/migrate-figures.sh: the figures of docs/xen-driver.md's live
# migration, measured in one lab boot:
#
#   tests/xen-lab/run tests/xen/migrate-figures.sh [N]
#
# N (default 3) live migrations of the same 96 MiB PVH guest to this same
# host by xdc's driver (test_xen_driver migrate-bench), then N by `xl
# migrate`, both through tests/xen/migrate-transport. Each: the time it
# took and the guest's downtime, the largest gap between the ticks its
# /init prints every 20 ms (tests/xen/xdc-migrate.sh builds that initrd).
# Figures, not checks: only a failed migration fails it.
set -u

N=${1:-3}
LOG=${XDC_LAB_RESULTS:-/tmp}/figures
mkdir -p "$LOG"
passed=0
failed=0
say() { echo "$*"; }
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
now() { awk '{ print $1 }' /proc/uptime; }
since() { awk -v t0="$1" '{ printf "%.2f", $1 - t0 }' /proc/uptime; }
note() { say "# $*"; }
domid_of() { xl domid "$1" 2>/dev/null; }
eventually() {	# seconds command...
	n=$(($1 * 2))
	shift
	while [ "$n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.5
		n=$((n - 1))
	done
	"$@"
}
run_program() {	# program args...
	"$@" 2>&1 | tee "$LOG/$1.out"
	passed=$((passed + $(grep -c '^ok - ' "$LOG/$1.out")))
	failed=$((failed + $(grep -c '^not ok - ' "$LOG/$1.out")))
}

MIG=/tmp/xdc-figures
TRANSPORT=$(pwd)/tests/xen/migrate-transport
CON=/var/log/xen/console
mkdir -p "$MIG"
rm -rf "$MIG/root" && mkdir -p "$MIG/root"
(cd "$MIG/root" && zcat "$XDC_LAB_GUEST/initrd.img" | cpio -id 2>/dev/null)
cat >"$MIG/root/init" <<'EOF'
#!/bin/sh
mount -t proc proc /proc
echo "xdc-lab-guest: up (ticking)"
while :; do
	read -r up idle </proc/uptime
	echo "tick $up"
	usleep 20000
done
EOF
chmod 0755 "$MIG/root/init"
(cd "$MIG/root" && find . | cpio -o -H newc 2>/dev/null | gzip) >"$MIG/tick.img"

xl info | grep -E '^(nr_cpus|free_memory) '
echo "# ---- xdc: $N migrations"
XDC_TEST_GUEST_RAMDISK=$MIG/tick.img run_program test_xen_driver migrate-bench "$N"

echo "# ---- xl migrate: $N migrations"
# The largest gap between ticks past each log's first lines ($1, $2).
lines() { cat "$CON/guest-mig-xl$1.log" 2>/dev/null | wc -l; }
gap_since() {	# skip-plain skip-incoming
	{
		tail -n +$(($1 + 1)) "$CON/guest-mig-xl.log" 2>/dev/null
		tail -n +$(($2 + 1)) "$CON/guest-mig-xl--incoming.log" 2>/dev/null
	} | awk '$1 == "tick" { print $2 }' | sort -n |
	    awk 'NR > 1 && $1 - last > gap { gap = $1 - last } { last = $1 }
	         END { printf "%.2f", gap + 0 }'
}
rm -f "$CON"/guest-mig-xl*.log
cat >"$MIG/mig-xl.cfg" <<EOF
name = "mig-xl"
type = "pvh"
memory = 96
maxmem = 112
vcpus = 1
kernel = "$XDC_LAB_GUEST/vmlinux"
ramdisk = "$MIG/tick.img"
cmdline = "console=hvc0 quiet"
EOF
xl create -q "$MIG/mig-xl.cfg"
check "xl: mig-xl boots" eventually 90 grep -q "xdc-lab-guest: up" "$CON/guest-mig-xl.log"
i=1
while [ "$i" -le "$N" ]; do
	sleep 3
	a=$(lines "") b=$(lines --incoming)
	t0=$(now)
	xl migrate -s "$TRANSPORT" mig-xl twin >"$LOG/xl-migrate-$i.out" 2>&1
	rc=$?
	t=$(since "$t0")
	sleep 3
	check "bench: xl migrate $i: $t s, downtime $(gap_since "$a" "$b") s" [ "$rc" -eq 0 ]
	i=$((i + 1))
done
xl destroy mig-xl
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
