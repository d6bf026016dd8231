#!/bin/sh
# tests/xen/suite.sh: xdc's Xen integration suite.  It runs inside the
# lab's dom0 (`make check-xen` is `tests/xen-lab/run tests/xen/suite.sh`),
# where xdc and the C test programs are on PATH, the repository is the
# working directory and the guest images are in $XDC_LAB_GUEST.
#
# In order: the lab itself and libxl (test_libxl_smoke), the other C test
# programs (test_xen_driver: the driver's actions one by one), xdc's
# command line against examples/xen-lab (xdc-integration.sh), two scopes'
# guests side by side (scopes.sh), xdc against a loop of xl create
# (xdc-speed.sh), and live migration to the same host, by the driver and
# by xl (xdc-migrate.sh).
#
# Every check prints "ok - ..." or "not ok - ..."; the C programs print
# theirs in the same form and are counted with the suite's own.  The last
# line is "N passed, N failed" and the exit code is 1 when anything failed.
set -u

passed=0
failed=0
LOG=${XDC_LAB_RESULTS:-/tmp}/suite
PROGRAM_TIMEOUT=300

# The whole log goes to $LOG/suite.log on the share (make check-xen shows
# it); the console gets one line per check and the notes. Dom0's console
# goes out through Xen's emulated UART, which under TCG carries a few
# hundred bytes a second: the suite would otherwise wait for its own output.
rm -rf "$LOG"
mkdir -p "$LOG"
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

# Runs a C test program and adds up its ok/not ok lines.  A program that
# fails without saying which check failed (a crash, a missing library)
# still counts as one failure.
run_program() {	# program args...
	prog=$1
	shift
	echo "# ---- $prog $*"
	if ! command -v "$prog" >/dev/null; then
		say "not ok - $prog is on PATH"
		failed=$((failed + 1))
		return
	fi
	mkdir -p "$LOG"
	# Streamed, so that a hang shows how far it got; bounded, so that a
	# hang is one failure rather than the whole lab timing out.
	(
		timeout "$PROGRAM_TIMEOUT" "$prog" "$@"
		echo $? >"$LOG/$prog.status"
	) 2>&1 | tee "$LOG/$prog.out"
	status=$(cat "$LOG/$prog.status")
	[ "$status" -ne 143 ] || echo "# $prog killed after $PROGRAM_TIMEOUT s"
	p=$(grep -c '^ok - ' "$LOG/$prog.out")
	f=$(grep -c '^not ok - ' "$LOG/$prog.out")
	passed=$((passed + p))
	failed=$((failed + f))
	grep '^not ok - ' "$LOG/$prog.out" >&3
	say "# $prog: $p passed, $f failed"
	if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
		say "not ok - $prog exited $status without a failed check"
		failed=$((failed + 1))
	fi
	if [ "$status" -eq 0 ] && [ "$p" -eq 0 ]; then
		say "not ok - $prog checked nothing"
		failed=$((failed + 1))
	fi
}

# Seconds since boot, to the hundredth, and since an earlier reading.
now() { awk '{ print $1 }' /proc/uptime; }
since() { awk -v t0="$1" '{ printf "%.1f", $1 - t0 }' /proc/uptime; }
# A note in the log and on the console, not counted.
note() { say "# $*"; }

# Only Domain-0 in `xl list`: no test may leave a guest behind.
only_dom0() {
	[ "$(xl list | awk 'NR > 1 { n++ } END { print n + 0 }')" -eq 1 ]
}

# xdc must be there and start: a missing shared library makes the loader
# exit 127, a crash gives 128 and up.
xdc_runs() {
	command -v xdc >/dev/null || return 1
	xdc --help >/dev/null 2>&1
	rc=$?
	[ "$rc" -lt 126 ]
}

echo "# ---- the lab"
xl info | grep -E '^(xen_version|xen_caps|virt_caps|total_memory|free_memory|nr_cpus) '
xl list
check "xl list shows only Domain-0 at the start" only_dom0
check "xdc is on PATH and starts in dom0" xdc_runs

# The libxl guest: create, observe (xl list while it runs), destroy.
run_program test_libxl_smoke --while-running "xl list"
echo "# ---- guest console (/var/log/xen/console/guest-xdc-smoke.log)"
cat /var/log/xen/console/guest-xdc-smoke.log 2>/dev/null ||
	echo "# (no console log)"

# Test programs added later are picked up without editing this file.
for t in /mnt/host/bin/test_*; do
	[ -x "$t" ] || continue
	case "${t##*/}" in
	# test_pool_migrate needs two hosts: the pool suite runs it.
	test_libxl_smoke | test_pool_migrate) ;;
	*) run_program "${t##*/}" ;;
	esac
done

# Networks on real bridges and VLANs in dom0, whose Debian kernel has the
# 8021q module that the CI machine's kernel may lack (tests/net/in-lab).
echo "# ---- tests/net/in-lab"
t_part=$(now)
sh tests/net/in-lab >"$LOG/net.out" 2>&1
status=$?
cat "$LOG/net.out"
p=$(grep -c '^ok ' "$LOG/net.out")
f=$(grep -c '^not ok ' "$LOG/net.out")
passed=$((passed + p))
failed=$((failed + f))
check "tests/net/in-lab exits 0, checks something and skips nothing (VLANs too)" \
	eval '[ "$status" -eq 0 ] && [ "$p" -gt 0 ] &&
	    ! grep -q "^SKIP" "$LOG/net.out"'
note "tests/net/in-lab took $(since "$t_part") s"

# xdc itself, through its command line: the integration suite, then how
# fast it brings up a host full of guests against a loop of xl create.
t_part=$(now)
. tests/xen/xdc-integration.sh
note "xdc-integration.sh took $(since "$t_part") s"
t_part=$(now)
. tests/xen/scopes.sh
note "scopes.sh took $(since "$t_part") s"
t_part=$(now)
. tests/xen/xdc-speed.sh
note "xdc-speed.sh took $(since "$t_part") s"
# Live migration, by the driver and by xl, to this same host.
t_part=$(now)
. tests/xen/xdc-migrate.sh
note "xdc-migrate.sh took $(since "$t_part") s"

echo "# ---- after the tests"
xl list
check "xl list shows only Domain-0 at the end" only_dom0
if [ "$failed" -ne 0 ]; then
	echo "# ---- xl dmesg (last 30 lines)"
	xl dmesg | tail -n 30
fi

say "$passed passed, $failed failed (the whole log: $LOG/suite.log)"
[ "$failed" -eq 0 ]
