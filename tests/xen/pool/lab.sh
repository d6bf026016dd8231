# tests/xen/pool/lab.sh: the pool lab itself, sourced by suite.sh on
# xen-a: two Xen hosts with their own names, xl on both, ssh both ways
# without a prompt, xdc on both PATHs, etcd on the CI machine reachable
# from both, and the shared L2 between them.

check "this host is xen-a and the pool is xen-a xen-b" \
	eval '[ "$ME" = xen-a ] && [ "$XDC_LAB_HOSTS" = "xen-a xen-b" ]'

t0=$(now)
check "ssh xen-b: it answers with its own name" \
	eval '[ "$(ssh xen-b hostname)" = xen-b ]'
note "ssh xen-a -> xen-b took $(since "$t0") s (a new connection)"
t0=$(now)
check "ssh from xen-b back to xen-a: it answers with its own name" \
	eval '[ "$(ssh xen-b ssh xen-a hostname)" = xen-a ]'
note "ssh xen-a -> xen-b -> xen-a took $(since "$t0") s"
on xen-b true
t0=$(now)
on xen-b true
note "a command on xen-b over the suite's shared connection took $(since "$t0") s"

for h in $XDC_LAB_HOSTS; do
	echo "# xl info on $h"
	on "$h" xl info | grep -E '^(host|xen_version|nr_cpus|total_memory|free_memory) '
	check "xl list on $h works and shows only Domain-0" only_dom0 "$h"
	# A missing shared library makes the loader exit 127, a crash
	# gives 128 and up.
	check "xdc is on $h's PATH and starts" \
		eval 'on "$h" "xdc --help >/dev/null 2>&1; [ \$? -lt 126 ]"'
	check "XDC_ETCD is set on $h" \
		eval '[ -n "$(on "$h" "echo \$XDC_ETCD")" ]'
done

# etcd, both ways: what one host puts, every host reads.
key=/xdc-lab/pool-suite/$$
etcd_from() {	# host
	v="from-$1-$(now)"
	on "$1" "etcdctl put $key/$1 $v" >/dev/null || return 1
	for r in $XDC_LAB_HOSTS; do
		[ "$(on "$r" "etcdctl get --print-value-only $key/$1")" = "$v" ] ||
			return 1
	done
}
for h in $XDC_LAB_HOSTS; do
	check "etcd: a key put on $h ($XDC_ETCD) is read on every host" \
		etcd_from "$h"
done
etcdctl del --prefix "$key" >/dev/null

# The shared L2: dom0 to dom0 over xenbr0.
ping -c 5 -i 0.2 xen-b >"$LOG/ping-xen-b.txt" 2>&1
cat "$LOG/ping-xen-b.txt"
check "xen-a pings xen-b over the shared L2 (5 of 5)" \
	grep -q ' 5 packets received' "$LOG/ping-xen-b.txt"
note "ping xen-b: $(sed -n 's/^round-trip //p' "$LOG/ping-xen-b.txt")"
