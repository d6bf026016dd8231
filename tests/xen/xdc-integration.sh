# tests/xen/xdc-integration.sh: xdc against the real Xen of the lab, through
# its command line, with the --driver xen it picks by itself in dom0.
# Sourced by tests/xen/suite.sh (check, note, LOG come from there).
#
# It applies examples/xen-lab and checks what Xen then runs with xl, the
# toolstack xdc does not use; then it changes the configuration the way a
# commit would (memory, vcpus, the SLA, NICs, the kernel, the state, a
# removal) and disturbs the host the way people do (xl destroy, xl pause,
# xl create), and checks after each step what Xen runs and that the next
# plan is empty. Domain-0 and a domain xdc did not make must come through
# untouched.

EXAMPLE=examples/xen-lab
CFG=/tmp/xdc-suite/cfg
VMS="web-1 app-1 db-1"

# What `xl list NAME` says, one column: 3 memory (MiB), 4 vCPUs, 5 state.
xl_col() {	# name column
	xl list "$1" 2>/dev/null | awk -v c="$2" 'NR == 2 { print $c }'
}
domid_of() { xl domid "$1" 2>/dev/null; }
uuid_of() { xl list -v "$1" 2>/dev/null | awk 'NR == 2 { print $7 }'; }
# "weight/cap" as xl sched-credit2 reports them.
sched_of() {
	xl sched-credit2 -d "$1" 2>/dev/null |
		awk -v n="$1" '$1 == n { print $3 "/" $4 }'
}
exists() { xl domid "$1" >/dev/null 2>&1; }
gone() { ! exists "$1"; }
# Live: listed, and not paused, shut down, crashed or dying (xl's r, b or
# neither: a runnable guest waiting for a CPU shows "------").
live() {
	s=$(xl_col "$1" 5)
	case "$s" in
	"" | ??p* | ???s* | ????c* | ?????d*) return 1 ;;
	esac
	return 0
}
# Paused (xl's third letter; a paused guest may also show b or r).
is_paused() {
	case "$(xl_col "$1" 5)" in
	??p*) return 0 ;;
	esac
	return 1
}

eventually() {	# seconds command...: retry every half second
	n=$(($1 * 2))
	shift
	while [ "$n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.5
		n=$((n - 1))
	done
	"$@"
}

# Runs xdc, its output into the log with a "#   " margin; returns its code.
# Bounded: a hung xdc is one failed check, not a lab that times out.
xdc_run() {
	timeout -s ABRT 300 xdc "$@" >"$LOG/xdc.out" 2>&1
	rc=$?
	sed 's/^/#   /' "$LOG/xdc.out"
	return $rc
}
xdc_said() { grep -q -- "$1" "$LOG/xdc.out"; }
# Nothing to do now: no change (0), or only work held back (a protected
# VM no longer declared), which --detailed-exitcode counts as a change (2).
plan_empty() {	# config
	xdc_run plan "$1" --detailed-exitcode
	case $? in
	0) return 0 ;;
	2) xdc_said "^Plan: 0 to create, 0 to update, 0 to replace, 0 to destroy, 0 other; [0-9]* deferred" ;;
	*) return 1 ;;
	esac
}
plan_changes() {	# config: the plan has changes (--detailed-exitcode 2)
	xdc_run plan "$1" --detailed-exitcode
	[ $? -eq 2 ]
}

# Sets a top-level key of one VM (replaced, or added after its name); an
# empty value removes the key.
vm_set() {	# vm key value
	awk -v vm="$1" -v key="$2" -v val="$3" '
		/^---/ { here = 0 }
		$0 == "name: " vm { here = 1; print; if (val != "") print key ": " val; next }
		here && index($0, key ": ") == 1 { next }
		{ print }' "$CFG/vms.yaml" >"$CFG/vms.new"
	mv "$CFG/vms.new" "$CFG/vms.yaml"
}
# Removes one VM's document from the copy.
vm_remove() {	# vm
	awk -v vm="$1" '
		/^---/ { n++; next }
		{ doc[n] = doc[n] $0 "\n"; if ($0 == "name: " vm) drop[n] = 1 }
		END {
			first = 1
			for (i = 0; i <= n; i++) {
				if (drop[i] || doc[i] == "")
					continue
				if (!first)
					print "---"
				printf "%s", doc[i]
				first = 0
			}
		}' "$CFG/vms.yaml" >"$CFG/vms.new"
	mv "$CFG/vms.new" "$CFG/vms.yaml"
}

xs() { xenstore-read "$1" 2>/dev/null; }
# NICs as xl network-list shows them: how many, and the first one's MAC.
nics_of() { xl network-list "$1" 2>/dev/null | awk 'NR > 1' | wc -l; }
mac_of() { xl network-list "$1" 2>/dev/null | awk 'NR == 2 { print $3 }'; }
# Whether the domain's first vif is a port of the bridge.
on_bridge() {	# vm bridge
	[ -e "/sys/class/net/$2/brif/vif$(domid_of "$1").0" ]
}
marker() {	# vm key
	xs "/vm/$(uuid_of "$1")/xdc/$2"
}
console_up() {	# vm
	grep -q "xdc-lab-guest: up" "/var/log/xen/console/guest-$1.log" \
		2>/dev/null
}

# Whether the guest came up (0), or died on the way (1: shut down).
booted() {	# vm
	n=180
	while [ "$n" -gt 0 ]; do
		console_up "$1" && return 0
		case "$(xl_col "$1" 5)" in
		???s* | ????c*) return 1 ;;
		esac
		sleep 0.5
		n=$((n - 1))
	done
	return 1
}
# A PVH guest under the lab's emulation now and then triple-faults early
# in its boot (docs/xen-lab.md: its kernel reads a PIT it does not have
# 50,000 times, and TCG's SVM fumbles one of those exits). Xen leaves it
# shut down, and the next apply starts it again, as `xdc run` would: do
# that, at most twice, and say so. Any other way to die is a failure.
boots() {	# vm config
	for try in 1 2 3; do
		booted "$1" && return 0
		xl dmesg -c | grep -q "Triple fault" || return 1
		[ "$try" -eq 3 ] && return 1
		note "$1 triple-faulted booting (the lab's PVH flake): xdc apply starts it again"
		xdc_run apply "$2" || return 1
	done
}

echo "# ---- xdc on Xen: $EXAMPLE"
rm -rf /tmp/xdc-suite /tmp/xdc-lab
mkdir -p /tmp/xdc-suite /tmp/xdc-lab "$LOG"
cp -r "$EXAMPLE" "$CFG"
# db-1's data disk, a sparse file (the block hotplug script loops it).
truncate -s 64M /tmp/xdc-lab/db-1.img
for vm in $VMS; do rm -f "/var/log/xen/console/guest-$vm.log"; done

dom0_before="$(xl_col Domain-0 3) $(xl_col Domain-0 4) $(sched_of Domain-0)"

xdc_run show
check "xdc picks the xen driver in dom0 (xdc show: the real Domain-0)" \
	eval 'xdc_said "^Domain-0  *0  *$(xl_col Domain-0 3) " &&
	    ! xdc_said "simulated"'
# Networks plan alike whichever driver runs the domains: examples/lab
# (two networks, 2 GiB of VMs) under xen in dom0, and on an empty sim pool.
networks_of() { grep '"kind": "Network"' "$1"; }
xdc plan examples/lab --json >"$LOG/lab-xen.json" 2>&1
xdc plan examples/lab --json --driver sim --state /tmp/xdc-suite/sim.json \
	>"$LOG/lab-sim.json" 2>&1
networks_of "$LOG/lab-xen.json" | sed 's/^/#   /'
check "examples/lab: the same Network actions under --driver xen and sim" \
	eval '[ "$(networks_of "$LOG/lab-xen.json" | wc -l)" -eq 2 ] &&
	    networks_of "$LOG/lab-xen.json" >"$LOG/lab-xen.net" &&
	    networks_of "$LOG/lab-sim.json" | cmp -s - "$LOG/lab-xen.net"'
# Domain-0 is shown as Xen has it, weight included, though never changed.
xdc show --json >"$LOG/show.json" 2>&1
check "xdc show --json: Domain-0's credit2 weight is xl's ($(sched_of Domain-0))" \
	eval '[ "$(awk "/\"name\": \"Domain-0\"/ { d = 1 } d && /\"weight\":/ {
	    gsub(/[^0-9]/, \"\"); print; exit }" "$LOG/show.json")" = \
	    "$(sched_of Domain-0 | cut -d/ -f1)" ]'
check "the first plan creates the network and the three VMs" \
	eval 'plan_changes $EXAMPLE && xdc_said "Plan: 4 to create"'
xdc plan "$EXAMPLE" --json >"$LOG/plan.json" 2>&1
web_mac=$(grep '"name": "web-1"' "$LOG/plan.json" |
	sed -n 's/.*"mac": "\([^"]*\)".*/\1/p')
t0=$(now)
xdc_run apply "$EXAMPLE"
rc=$?
note "xdc apply $EXAMPLE: $(since "$t0") s"
check "xdc apply $EXAMPLE succeeds" [ "$rc" -eq 0 ]
xl list

for vm in app-1 db-1; do
	check "$vm runs" live "$vm"
done
check "web-1 has 128 MiB and 1 vCPU (xl list)" \
	eval '[ "$(xl_col web-1 3)" = 128 ] && [ "$(xl_col web-1 4)" = 1 ]'
# app-1 may have 2 vCPUs: its kernel brings both up while it boots, then
# takes down the one whose availability is offline.
check "app-1 has 96 MiB and 1 vCPU (xl list)" \
	eventually 60 eval '[ "$(xl_col app-1 3)" = 96 ] && [ "$(xl_col app-1 4)" = 1 ]'
check "db-1 has 96 MiB and 1 vCPU (xl list)" \
	eval '[ "$(xl_col db-1 3)" = 96 ] && [ "$(xl_col db-1 4)" = 1 ]'
check "web-1 has the SLA's weight 512 and cap 50 (xl sched-credit2)" \
	[ "$(sched_of web-1)" = 512/50 ]
check "app-1 and db-1 have Xen's default weight 256, no cap" \
	eval '[ "$(sched_of app-1)" = 256/0 ] && [ "$(sched_of db-1)" = 256/0 ]'
check "web-1's UUID derives from its name (uuid5 in xdc's namespace)" \
	[ "$(uuid_of web-1)" = 0dff5bc2-fdb1-56e7-b577-7258498ed9a3 ]
check "db-1 has its disk (xl block-list)" \
	eval '[ "$(xl block-list db-1 | awk "NR > 1" | wc -l)" -eq 1 ]'
check "the network's bridge xdc-lab is up in dom0" \
	eval 'ip -o link show xdc-lab | grep -q ",UP"'
check "web-1 and app-1 have a NIC each, a port of xdc-lab" \
	eval '[ "$(nics_of web-1)" = 1 ] && [ "$(nics_of app-1)" = 1 ] &&
	    on_bridge web-1 xdc-lab && on_bridge app-1 xdc-lab'
check "web-1's NIC has the MAC the plan derived ($web_mac)" \
	eval '[ -n "$web_mac" ] && [ "$(mac_of web-1)" = "$web_mac" ]'
check "the ownership marker is in xenstore (/vm/UUID/xdc: managed, name)" \
	eval '[ "$(marker web-1 managed)" = 1 ] &&
	    [ "$(marker web-1 name)" = web-1 ]'
check "db-1's marker records protect=1" [ "$(marker db-1 protect)" = 1 ]
# (n0,rD): owned by dom0, readable by the guest, writable by nobody else.
check "the guest may read its marker but not write it" \
	eval 'xenstore-ls -p "/vm/$(uuid_of web-1)/xdc" |
	    grep "managed" | grep -q "(n0,r$(domid_of web-1))"'
check "web-1 boots: its console says \"xdc-lab-guest: up\"" \
	boots web-1 "$EXAMPLE"
check "web-1 runs" live web-1
for vm in app-1 db-1; do
	check "$vm boots: its console says \"xdc-lab-guest: up\"" \
		eventually 90 console_up "$vm"
done
check "a second plan is empty" plan_empty "$EXAMPLE"

echo "# ---- memory: a live update"
id=$(domid_of app-1)
vm_set app-1 memory 112MiB
check "the plan updates app-1's memory in place" \
	eval 'plan_changes $CFG && xdc_said "~ update VM app-1" &&
	    xdc_said "memory: 96MiB -> 112MiB" && ! xdc_said "replace VM"'
check "xdc apply succeeds" xdc_run apply "$CFG"
check "app-1's memory target is 112 MiB (xenstore memory/target)" \
	[ "$(xs /local/domain/"$id"/memory/target)" = 114688 ]
check "app-1 balloons to 112 MiB (xl list)" \
	eventually 30 eval '[ "$(xl_col app-1 3)" = 112 ]'
check "app-1 kept its domid $id" [ "$(domid_of app-1)" = "$id" ]
check "the next plan is empty" plan_empty "$CFG"

echo "# ---- vcpus and the SLA: live updates"
vm_set app-1 vcpus 2
sed -i 's/^  cap: 50$/  cap: 80/' "$CFG/sla.yaml"
check "the plan updates app-1's vcpus and web-1's cap in place" \
	eval 'plan_changes $CFG && xdc_said "vcpus: 1 -> 2" &&
	    xdc_said "cpu.cap: 50 -> 80" && ! xdc_said "replace VM"'
check "xdc apply succeeds" xdc_run apply "$CFG"
# The guest brings vCPU 1 up itself (udev does in a full distribution;
# the lab's busybox guest only sees it appear): what xdc controls is its
# availability.
check "app-1's second vCPU is online for the guest (cpu/1/availability)" \
	[ "$(xs /local/domain/"$id"/cpu/1/availability)" = online ]
check "web-1's cap is 80 (xl sched-credit2)" [ "$(sched_of web-1)" = 512/80 ]
check "app-1 kept its domid $id" [ "$(domid_of app-1)" = "$id" ]
check "the next plan is empty" plan_empty "$CFG"

echo "# ---- NICs: attach and detach, live"
id=$(domid_of db-1)
vm_set db-1 nics "[{network: lab}]"
check "the plan attaches a NIC to db-1 in place" \
	eval 'plan_changes $CFG && xdc_said "~ update VM db-1" &&
	    xdc_said "nics" && ! xdc_said "replace VM"'
check "xdc apply succeeds" xdc_run apply "$CFG"
check "db-1 has a NIC on xdc-lab, same domid" \
	eval '[ "$(nics_of db-1)" = 1 ] && on_bridge db-1 xdc-lab &&
	    [ "$(domid_of db-1)" = "$id" ]'
check "the next plan is empty" plan_empty "$CFG"
vm_set db-1 nics ""
check "xdc apply detaches it again" \
	eval 'xdc_run apply "$CFG" && [ "$(nics_of db-1)" = 0 ] &&
	    [ "$(domid_of db-1)" = "$id" ]'
check "the next plan is empty" plan_empty "$CFG"

echo "# ---- the kernel: a replace"
id=$(domid_of web-1)
uuid=$(uuid_of web-1)
ln -sf /var/lib/xdc-lab/guest/vmlinux /tmp/xdc-lab/vmlinux-2
rm -f /var/log/xen/console/guest-web-1.log
vm_set web-1 kernel /tmp/xdc-lab/vmlinux-2
check "the plan replaces web-1 because its kernel changed" \
	eval 'plan_changes $CFG && xdc_said "replace VM web-1" &&
	    xdc_said "kernel: "'
check "xdc apply succeeds" xdc_run apply "$CFG"
check "web-1 is a new domain (domid $id -> $(domid_of web-1))" \
	eval '[ -n "$(domid_of web-1)" ] && [ "$(domid_of web-1)" != "$id" ]'
check "the new web-1 boots" boots web-1 "$CFG"
check "web-1 runs the new kernel's domain, with the same UUID" \
	eval 'live web-1 && [ "$(uuid_of web-1)" = "$uuid" ]'
check "the next plan is empty" plan_empty "$CFG"

echo "# ---- pause and unpause (Xen counts pauses)"
vm_set web-1 state paused
check "xdc apply pauses web-1" \
	eval 'xdc_run apply "$CFG" && is_paused web-1'
xl pause web-1
check "the next plan is empty (web-1 paused twice is still paused)" \
	plan_empty "$CFG"
vm_set web-1 state ""
check "xdc apply unpauses web-1, paused twice" \
	eval 'xdc_run apply "$CFG" && live web-1'
check "the next plan is empty" plan_empty "$CFG"

echo "# ---- a domain destroyed behind xdc's back"
uuid=$(uuid_of db-1)
xl destroy db-1
check "the plan creates db-1 again" \
	eval 'plan_changes $CFG && xdc_said "+ create VM db-1"'
check "xdc apply succeeds" xdc_run apply "$CFG"
check "db-1 runs again with the UUID it had" \
	eval 'live db-1 && [ "$(uuid_of db-1)" = "$uuid" ]'
check "the next plan is empty" plan_empty "$CFG"

echo "# ---- xdc run: a domain destroyed outside, back through the xenstore watch"
# The resync timer is an hour away: only the watch on @releaseDomain can
# wake the loop in time. Its log is logfmt, one line per cycle and action.
RUN_DIR=/tmp/xdc-suite/run
mkdir -p "$RUN_DIR"
xdc run "$CFG" --interval 1h --state-dir "$RUN_DIR" >"$LOG/run.log" 2>&1 &
run_pid=$!
check "xdc run starts and its first cycle finds nothing to do" \
	eventually 60 eval 'grep -q "msg=cycle trigger=start outcome=converged" \
	    "$LOG/run.log"'
uuid=$(uuid_of db-1)
lines=$(wc -l <"$LOG/run.log")
t0=$(now)
xl destroy db-1
check "the loop re-creates db-1, destroyed with xl destroy" \
	eventually 120 eval 'live db-1 && [ "$(uuid_of db-1)" = "$uuid" ]'
note "db-1 back in $(since "$t0") s"
# What the loop logged since the destroy.
since_destroy() { tail -n +$((lines + 1)) "$LOG/run.log"; }
check "it created db-1 in a cycle the hypervisor woke (trigger=hypervisor)" \
	eval 'since_destroy | grep -q "msg=action op=create kind=VM name=db-1 .*result=done" &&
	    since_destroy | grep -q "msg=cycle trigger=hypervisor outcome=applied"'
check "the resync timer never fired" eval '! grep -q "trigger=timer" "$LOG/run.log"'
check "xdc status reports the loop's last cycle" \
	eval 'xdc_run status --state-dir "$RUN_DIR" && xdc_said "^last cycle: "'
kill -TERM "$run_pid"
wait "$run_pid"
check "xdc run exits 0 on SIGTERM" [ $? -eq 0 ]
sed 's/^/#   /' "$LOG/run.log"
check "the next plan is empty" plan_empty "$CFG"

echo "# ---- a domain xdc did not make"
xl create -q /etc/xdc-lab/guest-pv.cfg
lab_id=$(domid_of lab-pv)
xdc_run plan "$CFG" --json
# Anywhere in the list: a domain being built or destroyed meanwhile (by
# libxl, for anyone) is listed too, first, as "(domid N, ...)".
check "the plan reports lab-pv as unmanaged" \
	eval 'tr -d " \n" <"$LOG/xdc.out" |
	    grep -q "\"unmanaged\":\[[^]]*{\"name\":\"lab-pv\",\"host\""'
check "and has nothing to do" plan_empty "$CFG"
check "xdc apply succeeds" xdc_run apply "$CFG"
check "lab-pv is untouched (same domid, running)" \
	eval '[ "$(domid_of lab-pv)" = "$lab_id" ] && live lab-pv'

echo "# ---- stop"
vm_set web-1 state stopped
t0=$(now)
check "xdc apply stops web-1: shut down, then destroyed" \
	eval 'xdc_run apply "$CFG" && gone web-1'
note "web-1 stopped in $(since "$t0") s"
check "web-1 shut down gracefully (its console says it powered off)" \
	grep -q "powering off" /var/log/xen/console/guest-web-1.log
check "the next plan is empty" plan_empty "$CFG"

echo "# ---- removals"
uuid=$(uuid_of app-1)
vm_remove app-1
check "the plan destroys app-1, no longer declared" \
	eval 'plan_changes $CFG && xdc_said "destroy VM app-1"'
check "xdc apply succeeds" xdc_run apply "$CFG"
check "app-1 is gone, and its marker with it" \
	eval 'gone app-1 && [ -z "$(xs /vm/$uuid/xdc/managed)" ]'
id=$(domid_of db-1)
vm_remove db-1
check "the plan holds back the protected db-1, and changes nothing" \
	eval 'plan_empty "$CFG" && xdc_said "db-1 is protected"'
check "xdc apply succeeds" xdc_run apply "$CFG"
check "db-1 survives the removal of its declaration (same domid)" \
	eval 'live db-1 && [ "$(domid_of db-1)" = "$id" ]'

echo "# ---- untouched"
check "lab-pv, made with xl create, is untouched" \
	eval '[ "$(domid_of lab-pv)" = "$lab_id" ] && live lab-pv'
check "Domain-0 is untouched (memory, vCPUs, weight/cap)" \
	[ "$(xl_col Domain-0 3) $(xl_col Domain-0 4) $(sched_of Domain-0)" = \
	    "$dom0_before" ]

echo "# ---- adopting lab-pv, made with xl create: xdc import --from-xl"
IMP=/tmp/xdc-suite/import
check "xdc import --from-xl writes lab-pv's declaration, adopt: true" \
	eval 'xdc_run import "$CFG" --from-xl /etc/xdc-lab/guest-pv.cfg \
	    -o "$IMP" && grep -q "^adopt: true" "$IMP/lab-pv.yaml"'
cp "$IMP"/*.yaml "$CFG"/
sed 's/^/#   /' "$IMP/lab-pv.yaml"
xdc plan "$CFG" --json >"$LOG/adopt.json" 2>&1
sed 's/^/#   /' "$LOG/adopt.json"
check "the plan only takes ownership of lab-pv: one update, managed false -> true" \
	eval 'grep -q "\"op\": \"update\", \"kind\": \"VM\", \"name\": \"lab-pv\".*\"changes\": \[{\"field\": \"managed\", \"from\": false, \"to\": true}\]," "$LOG/adopt.json" &&
	    grep -q "\"summary\": {\"create\": 0, \"update\": 1, \"replace\": 0, \"destroy\": 0, \"other\": 0}" "$LOG/adopt.json"'
check "xdc apply adopts it" xdc_run apply "$CFG"
check "lab-pv runs on, same domid, with xdc's marker" \
	eval '[ "$(domid_of lab-pv)" = "$lab_id" ] && live lab-pv &&
	    [ "$(marker lab-pv managed)" = 1 ]'
check "the next plan is empty" plan_empty "$CFG"

echo "# ---- adopting lab-pv2, made with xl create: xdc import through the driver"
cat >/tmp/xdc-suite/lab-pv2.cfg <<EOF
name = "lab-pv2"
type = "pv"
memory = 96
vcpus = 1
kernel = "/var/lib/xdc-lab/guest/vmlinux"
ramdisk = "/var/lib/xdc-lab/guest/initrd.img"
cmdline = "console=hvc0 quiet"
EOF
xl create -q /tmp/xdc-suite/lab-pv2.cfg
pv2_id=$(domid_of lab-pv2)
IMP2=/tmp/xdc-suite/import2
check "xdc import writes lab-pv2 from what Xen runs: type, kernel, memory" \
	eval 'xdc_run import "$CFG" -o "$IMP2" &&
	    grep -qx "type: pv" "$IMP2/lab-pv2.yaml" &&
	    grep -q "^kernel: \"*/var/lib/xdc-lab/guest/vmlinux" "$IMP2/lab-pv2.yaml" &&
	    grep -q "^cmdline: \"console=hvc0 quiet\"" "$IMP2/lab-pv2.yaml" &&
	    grep -qx "memory: 96MiB" "$IMP2/lab-pv2.yaml" &&
	    grep -qx "adopt: true" "$IMP2/lab-pv2.yaml" && [ ! -e "$IMP2/lab-pv.yaml" ]'
sed 's/^/#   /' "$IMP2/lab-pv2.yaml"
cp "$IMP2/lab-pv2.yaml" "$CFG"/
xdc plan "$CFG" --json >"$LOG/adopt2.json" 2>&1
check "the plan only takes ownership of lab-pv2" \
	eval 'grep -q "\"name\": \"lab-pv2\".*\"changes\": \[{\"field\": \"managed\", \"from\": false, \"to\": true}\]," "$LOG/adopt2.json" &&
	    grep -q "\"summary\": {\"create\": 0, \"update\": 1, \"replace\": 0, \"destroy\": 0, \"other\": 0}" "$LOG/adopt2.json"'
check "xdc apply adopts it, same domid, marked" \
	eval 'xdc_run apply "$CFG" && [ "$(domid_of lab-pv2)" = "$pv2_id" ] &&
	    [ "$(marker lab-pv2 managed)" = 1 ] && plan_empty "$CFG"'

echo "# ---- a PVH guest"
# Short-lived: under the lab's TCG a PVH guest now and then triple-faults
# (boots() starts it again when that happens as it boots).
cat >"$CFG/pvh.yaml" <<EOF
kind: VM
name: pvh-1
type: pvh
memory: 128MiB
vcpus: 1
kernel: /var/lib/xdc-lab/guest/vmlinux
ramdisk: /var/lib/xdc-lab/guest/initrd.img
cmdline: "console=hvc0 quiet"
EOF
rm -f /var/log/xen/console/guest-pvh-1.log
check "the plan creates pvh-1 and nothing else" \
	eval 'plan_changes "$CFG" && xdc_said "+ create VM pvh-1 on local (pvh" &&
	    xdc_said "Plan: 1 to create, 0 to update, 0 to replace, 0 to destroy"'
check "xdc apply creates it" xdc_run apply "$CFG"
check "pvh-1 is a PVH domain (xl list -l: \"type\": \"pvh\")" \
	eval 'xl list -l pvh-1 | grep -q "\"type\": \"pvh\""'
check "pvh-1 boots" boots pvh-1 "$CFG"
rm "$CFG/pvh.yaml"
check "xdc apply destroys it once its file is gone" \
	eval 'xdc_run apply "$CFG" && gone pvh-1 && plan_empty "$CFG"'

echo "# ---- clean up: protect: false first, then the removal"
cp "$EXAMPLE/vms.yaml" "$CFG/vms.yaml"
vm_remove web-1
vm_remove app-1
vm_set db-1 protect false
check "xdc apply lifts db-1's protection (marker protect=0)" \
	eval 'xdc_run apply "$CFG" && [ "$(marker db-1 protect)" = 0 ]'
vm_remove db-1
check "xdc apply destroys db-1" eval 'xdc_run apply "$CFG" && gone db-1'
rm "$CFG/networks.yaml"
# With no Network declared xdc opens no network driver unless told to:
# --net netlink, so that it sees the bridge it made and removes it.
check "xdc apply --net netlink removes the network's bridge" \
	eval 'xdc_run apply "$CFG" --net netlink &&
	    ! ip link show xdc-lab >/dev/null 2>&1'
xl destroy lab-pv
xl destroy lab-pv2
