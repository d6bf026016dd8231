# tests/xen/xdc-migrate.sh: live migration on the lab's one host, to
# itself (xl's localhost migration), by xdc's xen driver and by `xl
# migrate`, of the same (PVH) guest in the same boot. Sourced by
# tests/xen/suite.sh (check, note, run_program, LOG come from there).
#
# Both go through tests/xen/migrate-transport, which stands in for ssh to
# the other dom0. The guest is the lab's, with an /init that prints its
# uptime every 20 ms ("tick 12.34"): the largest gap between two ticks,
# before and after, is how long it did not run (its downtime), and a
# second "xdc-lab-guest: up" would be a reboot. What two hosts add (ssh,
# the network between them) is tests/xen/pool/migrate.sh's.

MIG=/tmp/xdc-suite/migrate
TRANSPORT=$(pwd)/tests/xen/migrate-transport
mkdir -p "$MIG"

# The ticking initrd: the lab guest's, with another /init.
tick_initrd() {
	rm -rf "$MIG/root" && mkdir -p "$MIG/root" &&
	(cd "$MIG/root" && zcat "$XDC_LAB_GUEST/initrd.img" | cpio -id 2>/dev/null) &&
	cat >"$MIG/root/init" <<-'EOF' &&
		#!/bin/sh
		mount -t proc proc /proc
		echo "xdc-lab-guest: up (ticking)"
		while :; do
			read -r up idle </proc/uptime
			echo "tick $up"
			usleep 20000
		done
	EOF
	chmod 0755 "$MIG/root/init" &&
	(cd "$MIG/root" && find . | cpio -o -H newc 2>/dev/null | gzip) >"$MIG/tick.img"
}

# The largest gap between consecutive ticks on NAME's consoles.
tick_gap() {	# name
	cat /var/log/xen/console/guest-"$1".log \
	    /var/log/xen/console/guest-"$1"--incoming.log 2>/dev/null |
	    awk '$1 == "tick" { if (n++ && $2 - last > gap) gap = $2 - last; last = $2 }
	         END { printf "%.2f", gap + 0 }'
}

echo "# ---- live migration, to this same host"
check "a ticking initrd for the guest" tick_initrd

# xdc: the driver's migrate, as a plan's would be, and its failures.
XDC_TEST_GUEST_RAMDISK=$MIG/tick.img run_program test_xen_driver migrate
grep '^# xdc migrate' "$LOG/test_xen_driver.out" >&3

# xl: the same guest, the same way.
rm -f /var/log/xen/console/guest-mig-xl*.log
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
xl_up() { grep -q "xdc-lab-guest: up" /var/log/xen/console/guest-mig-xl.log 2>/dev/null; }
xl create -q "$MIG/mig-xl.cfg"
check "xl: mig-xl boots" eventually 90 xl_up
old=$(domid_of mig-xl)
t0=$(now)
xl migrate -s "$TRANSPORT" mig-xl twin >"$LOG/xl-migrate.out" 2>&1
rc=$?
t_xl=$(since "$t0")
sed 's/^/#   /' "$LOG/xl-migrate.out"
new=$(domid_of mig-xl)
check "xl migrate mig-xl to this host: exit 0, a new domid ($old -> $new)" \
	eval '[ "$rc" -eq 0 ] && [ -n "$new" ] && [ "$new" != "$old" ]'
sleep 2
check "xl: one boot on its consoles" \
	eval '[ "$(cat /var/log/xen/console/guest-mig-xl*.log | grep -c "xdc-lab-guest: up")" -eq 1 ]'
note "xl migrate: $t_xl s, downtime $(tick_gap mig-xl) s (the largest gap in the guest's ticks)"
xl destroy mig-xl 2>/dev/null
