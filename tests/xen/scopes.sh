# tests/xen/scopes.sh: two scopes' guests side by side on the lab's real
# Xen (SPEC §9). Sourced by tests/xen/suite.sh after xdc-integration.sh,
# whose helpers (xdc_run, xdc_said, xl_col, live, gone, domid_of, marker,
# boots, eventually) it uses; check, note and LOG come from the suite.
#
# Scope sc-a and scope sc-b each apply one PV guest on a Network both
# declare. Each plan must see the other's guest as another scope's and
# leave it alone; the bridge's alias must list both scopes; a VM named
# like the other's guest must be a plan error naming that scope. Then
# sc-a is destroyed with `xdc destroy --scope`, and sc-b's guest must run
# on untouched (same domid, xl list), the bridge now sc-b's alone; last,
# sc-b expires and `xdc gc` takes it down, bridge and all.

SC=/tmp/xdc-scopes
SC_KERNEL=/var/lib/xdc-lab/guest/vmlinux
SC_INITRD=/var/lib/xdc-lab/guest/initrd.img

# scope_cfg DIR SCOPE EXPIRES VM: one scope's configuration.
scope_cfg() {
	mkdir -p "$1"
	cat >"$1/env.yaml" <<-EOF
	kind: Scope
	name: $2
	expires: $3
	---
	kind: Network
	name: scopes
	---
	kind: VM
	name: $4
	type: pv
	memory: 96MiB
	kernel: $SC_KERNEL
	ramdisk: $SC_INITRD
	cmdline: "console=hvc0 quiet"
	nics:
	  - {network: scopes}
	EOF
}
alias_of() {	# link
	# The kernel's own copy (dom0's ip may not print an alias).
	cat "/sys/class/net/$1/ifalias" 2>/dev/null
}

echo "# ---- xdc on Xen: two scopes side by side"
rm -rf "$SC"
for vm in sc-a-1 sc-b-1; do rm -f "/var/log/xen/console/guest-$vm.log"; done
scope_cfg "$SC/a" sc-a 4h sc-a-1
scope_cfg "$SC/b" sc-b 4h sc-b-1

check "scope sc-a: xdc apply creates its network and guest" \
	xdc_run apply "$SC/a"
check "scope sc-b: the plan joins the network and creates its guest only" \
	eval 'xdc_run plan "$SC/b" --detailed-exitcode; [ $? -eq 2 ] &&
	    xdc_said "update Network scopes" && xdc_said "create VM sc-b-1" &&
	    ! xdc_said "destroy VM" && ! xdc_said "destroy Network" &&
	    xdc_said "sc-a-1 on .*scope sc-a)"'
check "scope sc-b: xdc apply" xdc_run apply "$SC/b"
xl list
check "both guests boot" \
	eval 'boots sc-a-1 "$SC/a" && boots sc-b-1 "$SC/b"'
a_id=$(domid_of sc-a-1)
b_id=$(domid_of sc-b-1)
check "the markers record each guest's scope (xenstore /vm/UUID/xdc/scope)" \
	eval '[ "$(marker sc-a-1 scope)" = sc-a ] &&
	    [ "$(marker sc-b-1 scope)" = sc-b ]'
check "the markers record the last apply and the expiry, four hours apart" \
	eval '[ "$(marker sc-a-1 expires)" -eq $(($(marker sc-a-1 applied) + 14400)) ]'
check "the bridge's alias lists both scopes, sc-a first (its owner)" \
	[ "$(alias_of xdc-scopes)" = "xdc:net:scopes:sc-a,sc-b" ]
check "each scope's plan is empty and leaves the other's guest alone" \
	eval 'xdc_run plan "$SC/a" --detailed-exitcode &&
	    xdc_said "sc-b-1 on .*scope sc-b)" &&
	    xdc_run plan "$SC/b" --detailed-exitcode &&
	    xdc_said "sc-a-1 on .*scope sc-a)"'
scope_cfg "$SC/steal" sc-b 4h sc-a-1
check "a VM named like scope sc-a's guest is a plan error naming sc-a" \
	eval '! xdc_run plan "$SC/steal" &&
	    xdc_said "VM sc-a-1: scope sc-a owns a domain of that name"'

check "xdc destroy --scope sc-a succeeds" xdc_run destroy --scope sc-a
check "sc-a's guest is gone (xl list)" eventually 30 gone sc-a-1
check "sc-b's guest runs on untouched: same domid ($b_id)" \
	eval 'live sc-b-1 && [ "$(domid_of sc-b-1)" = "$b_id" ]'
check "the bridge stays, sc-b's alone" \
	[ "$(alias_of xdc-scopes)" = "xdc:net:scopes:sc-b" ]
check "scope sc-b's plan is still empty" \
	xdc_run plan "$SC/b" --detailed-exitcode

# Forty minutes on (more than an eighth of its 4 h), an apply with nothing
# else to do renews sc-b's stamp: one update of the marker in xenstore.
XDC_NOW=$(($(date +%s) + 2400))
export XDC_NOW
check "an apply 40 min on renews sc-b's expiry in its marker, and nothing else" \
	eval 'xdc_run apply "$SC/b" && xdc_said "update VM sc-b-1" &&
	    [ "$(marker sc-b-1 applied)" -eq "$XDC_NOW" ] &&
	    [ "$(marker sc-b-1 expires)" -eq $((XDC_NOW + 14400)) ] &&
	    [ "$(domid_of sc-b-1)" = "$b_id" ]'
# Five hours on, sc-b has not been applied for its four: gc takes it down.
XDC_NOW=$(($(date +%s) + 18000))
export XDC_NOW
check "xdc gc --dry-run lists sc-b and destroys nothing" \
	eval 'xdc_run gc --dry-run &&
	    xdc_said "gc: 1 scope expired, of 1; none destroyed" &&
	    live sc-b-1'
check "xdc gc takes sc-b down, its guest and the bridge" \
	eval 'xdc_run gc &&
	    xdc_said "gc: 1 scope expired, of 1; 1 taken down" &&
	    eventually 30 gone sc-b-1 && ! ip link show xdc-scopes >/dev/null 2>&1'
unset XDC_NOW
note "scopes: sc-a-1 was domain $a_id, sc-b-1 domain $b_id"
# Whatever failed above, leave no guest behind for the suite's last check.
for vm in sc-a-1 sc-b-1; do
	exists "$vm" && xl destroy "$vm"
done
ip link del xdc-scopes 2>/dev/null || true
rm -rf "$SC"
