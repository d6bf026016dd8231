# shellcheck shell=sh
# What tests/pool/run's cases are written with, sourced by it: the
# counters and checks (ok, check, until_ok), the agents (start, stop,
# killed), the sampler and the proxy, what the pool files, the status and
# the events say (doms, on, one_copy, pool_is, ev_count, no_dup), and
# the configurations (hosts_yaml, vm_yaml, sla_yaml, failover_cfg,
# fence_cmd). It uses run's variables: XDC, PY, ETCD, tmp, HOSTS, CASES,
# and the current case's case and pool (new_case).

pass=0
fail=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
not_ok() {
	echo "not ok - $1"
	fail=$((fail + 1))
	# The agents' last lines and the sampler's findings say why.
	for f in "$case"/*.log; do
		[ -f "$f" ] || continue
		echo "# $f:"
		grep -v 'msg=cycle .*outcome=converged' "$f" | tail -n 12 |
		    sed 's/^/#   /'
	done
	if [ -f "$case/events" ]; then
		echo "# $case/events (dup, low, fenced):"
		grep -E ' (dup|undup|low|unlow|etcd-down|etcd-up) | key[+-] fenc' \
		    "$case/events" | tail -n 12 | sed 's/^/#   /'
	fi
}
check() { # NAME COMMAND...: ok when COMMAND succeeds
	_name=$1
	shift
	if "$@"; then ok "$_name"; else not_ok "$_name"; fi
}

now_ms() { date +%s%3N; }

# until_ok SECONDS COMMAND...: run COMMAND until it succeeds, or fail
# once SECONDS have passed.
until_ok() {
	_end=$(($(now_ms) + $1 * 1000))
	shift
	while :; do
		"$@" && return 0
		[ "$(now_ms)" -ge "$_end" ] && return 1
		sleep 0.05
	done
}

# ---------------------------------------------------------------------
# Agents, the sampler, the proxy.

# A new case: its directory, configuration directory and pool name.
new_case() {
	case="$tmp/$1"
	pool=t-$1
	mkdir -p "$case/cfg"
	echo "# case $1"
}

# start HOST [ARGS...]: HOST's agent in the background, with its own pool
# file CASE/HOST.json and state directory CASE/sd-HOST; its pid, log and
# exit status go to CASE/HOST.pid, .log, .rc. AGENT_ETCD, when set, is
# the endpoint it is given instead of etcd's.
start() {
	_h=$1
	shift
	rm -f "$case/$_h.pid" "$case/$_h.rc"
	(
		sh -c 'echo $$ >"$0"; exec "$@"' "$case/$_h.pid" \
		    "$XDC" run "$case/cfg" --driver sim --state "$case/$_h.json" \
		    --state-dir "$case/sd-$_h" --host "$_h" \
		    --etcd "${AGENT_ETCD:-$ETCD}" --pool "$pool" --lease 3s \
		    --interval 1s "$@" 2>>"$case/$_h.log"
		echo $? >"$case/$_h.rc"
	) &
	until_ok 5 test -s "$case/$_h.pid"
}
start_all() { # [ARGS...]: the three agents
	for _s in $HOSTS; do start "$_s" "$@"; done
}
pid_of() { cat "$case/$1.pid"; }
exited() { test -s "$case/$1.rc"; }

# stop HOST: SIGTERM (after SIGCONT), then xdc's exit status (255: it did
# not exit in 10 s).
stop() {
	[ -s "$case/$1.pid" ] || return 0
	kill -CONT "$(pid_of "$1")" 2>/dev/null
	kill -TERM "$(pid_of "$1")" 2>/dev/null
	if ! until_ok 10 exited "$1"; then
		kill -KILL "$(pid_of "$1")" 2>/dev/null
		rm -f "$case/$1.pid"
		return 255
	fi
	rm -f "$case/$1.pid"
	return "$(cat "$case/$1.rc")"
}
stop_all() { # every agent of the case; 0 when all exited 0
	_rc=0
	for _s in $HOSTS; do stop "$_s" || _rc=1; done
	return $_rc
}
# killed HOST: SIGKILL, and wait until it is gone.
killed() {
	kill -KILL "$(pid_of "$1")" 2>/dev/null
	until_ok 5 exited "$1"
	rm -f "$case/$1.pid"
}

# sampler_start [ARGS...]: tests/pool/sample on the case's three pool
# files and pool keys, writing CASE/events.
sampler_start() {
	_f=
	for _s in $HOSTS; do _f="$_f --file $_s=$case/$_s.json"; done
	# shellcheck disable=SC2086 # the options, split
	"$PY" tests/pool/sample $_f --etcd "$ETCD" --pool "$pool" "$@" \
	    >"$case/events" 2>"$case/sample.err" &
	echo $! >"$case/sample.pid"
}
sampler_stop() {
	[ -s "$case/sample.pid" ] || return 0
	kill -TERM "$(cat "$case/sample.pid")" 2>/dev/null
	until_ok 5 grep -q ' end ' "$case/events"
	rm -f "$case/sample.pid"
}

# proxy_start: tests/pool/proxy in front of etcd, on CASE/proxy.port (the
# same port again after a kill).
proxy_start() {
	"$PY" tests/pool/proxy "$case/proxy.port" "${ETCD#http://}" \
	    2>"$case/proxy.err" &
	echo $! >"$case/proxy.pid"
	until_ok 5 test -s "$case/proxy.port" &&
	    until_ok 5 curl -sf --max-time 1 \
	        "http://127.0.0.1:$(cat "$case/proxy.port")/health" >/dev/null
}

# ---------------------------------------------------------------------
# The pool as the files say, and what the events say.

# doms: "HOST VM STATE KERNEL DOMID MEMORY" of every managed domain of
# the three files, as of now (a host past its watchdog deadline has
# rebooted: nothing of it is listed).
doms() {
	for _s in $HOSTS; do
		[ -f "$case/$_s.json" ] || continue
		jq -r --arg h "$_s" '(now * 1000) as $t | .hosts[] |
		    select(.name == $h) |
		    select((.watchdog.deadline // 1e18) > $t) |
		    .domains[] | select(.managed) |
		    "\($h) \(.name) \(.state) \(.build.kernel // "-") \(.domid) \(.memory)"' \
		    "$case/$_s.json" 2>/dev/null
	done
}
# on VM: the hosts VM runs on (running or paused), one a line.
on() {
	doms | awk -v v="$1" '$2 == v && ($3 == "running" || $3 == "paused") {
	    print $1 }'
}
# one_copy VM [HOST]: VM runs on exactly one host (HOST).
one_copy() {
	_o=$(on "$1")
	[ -n "$_o" ] && [ "$(echo "$_o" | wc -l)" -eq 1 ] &&
	    { [ -z "${2:-}" ] || [ "$_o" = "$2" ]; }
}
all_one() { # VM...: each runs on exactly one host
	for _v in "$@"; do one_copy "$_v" || return 1; done
}
on_one_of() { # VM HOST...: VM runs on one host, one of HOSTs
	_v=$1
	shift
	_o=$(on "$_v")
	[ -n "$_o" ] && [ "$(echo "$_o" | wc -l)" -eq 1 ] || return 1
	for _s in "$@"; do [ "$_o" = "$_s" ] && return 0; done
	return 1
}
vms_on() { # HOST: the VMs running on HOST
	doms | awk -v h="$1" '$1 == h && $3 == "running" { print $2 }' | sort
}
placement() { # "VM HOST DOMID" of every running VM, sorted
	doms | awk '$3 == "running" { print $2, $1, $5 }' | sort
}

outcome() { # HOST: the outcome in HOST's status.json
	jq -r .outcome "$case/sd-$1/status.json" 2>/dev/null
}
all_converged() {
	for _s in $HOSTS; do
		[ "$(outcome "$_s")" = converged ] || return 1
	done
}
# pool_field HOST FIELD: FIELD of the "pool" object of `xdc status --json`.
pool_field() {
	"$XDC" status --state-dir "$case/sd-$1" --json 2>/dev/null |
	    jq -r ".pool.$2" 2>/dev/null
}
pool_is() { # HOST FIELD VALUE
	[ "$(pool_field "$1" "$2")" = "$3" ]
}

etcd_get() { # KEY below the pool's prefix: its value, or nothing
	etcdctl --endpoints "$ETCD" get --print-value-only "/xdc/$pool/$1" \
	    2>/dev/null
}
no_key() { [ -z "$(etcd_get "$1")" ]; }

# ev_first AWK-CONDITION: the time of the first event matching.
ev_first() {
	awk "$1 { print \$1; exit }" "$case/events"
}
# ev_count AWK-CONDITION [SINCE_MS]
ev_count() {
	awk -v since="${2:-0}" "\$1 >= since && ($1) { n++ } END { print n + 0 }" \
	    "$case/events"
}
no_dup() { [ "$(ev_count '$2 == "dup"' "${1:-0}")" -eq 0 ]; }
ms_of_ts() { # ISO time of a log line: milliseconds
	date -d "$1" +%s%3N
}
# log_after HOST MS PATTERN: HOST's log lines matching PATTERN at or
# after MS.
log_after() {
	grep -- "$3" "$case/$1.log" 2>/dev/null | while read -r _l; do
		_ts=${_l#ts=}
		_ts=${_ts%% *}
		[ "$(ms_of_ts "$_ts")" -ge "$2" ] && echo "$_l"
	done
}

# ---------------------------------------------------------------------
# Configurations.

hosts_yaml() {
	for _s in $HOSTS; do
		printf 'kind: Host\nname: %s\nmemory: 4GiB\ncpus: 4\n' "$_s" \
		    >"$case/cfg/host-$_s.yaml"
	done
}
# vm_yaml NAME TIER KERNEL [HOST] [MEMORY]
vm_yaml() {
	{
		printf 'kind: VM\nname: %s\n' "$1"
		if [ -n "$2" ]; then printf 'labels: {tier: %s}\n' "$2"; fi
		printf 'memory: %s\nmax_memory: 512MiB\nvcpus: 1\nkernel: %s\n' \
		    "${5:-256MiB}" "$3"
		if [ -n "${4:-}" ]; then printf 'host: %s\n' "$4"; fi
	} >"$case/cfg/vm-$1.yaml.tmp" &&
	    mv "$case/cfg/vm-$1.yaml.tmp" "$case/cfg/vm-$1.yaml"
}
sla_yaml() { # NAME AVAILABILITY-LINES...
	_n=$1
	shift
	{
		printf 'kind: SLA\nname: %s\nselector: {tier: %s}\navailability:\n' \
		    "$_n" "$_n"
		for _l in "$@"; do printf '  %s\n' "$_l"; done
	} >"$case/cfg/sla-$_n.yaml"
}

# The failover configuration: six web VMs that fail over, placed by the
# planner; app-1 pinned to xen-c and app-2 placed, neither failing over.
FO_VMS="web-1 web-2 web-3 web-4 web-5 web-6 app-1 app-2"
failover_cfg() {
	hosts_yaml
	sla_yaml web 'failover: true'
	sla_yaml app 'restart: always'
	for i in 1 2 3 4 5 6; do vm_yaml "web-$i" web /boot/k1; done
	vm_yaml app-1 app /boot/k1 xen-c
	vm_yaml app-2 app /boot/k1
}
# A fence command that powers HOST off in its pool file, and says when
# in CASE/fence.log.
fence_cmd() {
	echo "echo \"\$(date +%s%3N) \$1\" >>$case/fence.log && $XDC sim power-off \"\$1\" --state $case/\$1.json >/dev/null"
}
# ... and one that only says so: the host goes on running.
fence_lie() {
	echo "echo \"\$(date +%s%3N) \$1\" >>$case/fence.log"
}

# The failover cases begin alike: agents started with ARGS, converged,
# the placement kept in CASE/before, xen-c's web VMs in $moved.
failover_start() {
	_c=$1
	shift
	failover_cfg
	sampler_start
	start_all "$@"
	if until_ok 30 all_one $FO_VMS && until_ok 10 all_converged; then
		ok "$_c: three agents converge"
	else
		not_ok "$_c: three agents converge"
	fi
	placement >"$case/before"
	moved=$(vms_on xen-c | grep '^web-' | tr '\n' ' ')
	check "$_c: the placement puts web VMs on xen-c ($moved)" \
	    test -n "$moved"
}

# home: every VM of the failover configuration runs once, where it ran
# before the fault.
home() {
	all_one $FO_VMS || return 1
	placement | awk '{ print $1, $2 }' >"$case/now"
	awk '{ print $1, $2 }' "$case/before" | cmp -s - "$case/now"
}

# first_elsewhere VM...: the earliest time one of VMs appeared on another
# host than xen-c (nothing when none did).
first_elsewhere() {
	for _v in "$@"; do
		ev_first "\$2 == \"vm+\" && \$3 == \"$_v\" && \$4 != \"xen-c\""
	done | sort -n | head -n 1
}
# The same, once the sampler has caught up: the pool files say the VMs
# moved, but under load the sampler's next sample may come seconds later.
first_elsewhere_seen() {
	until_ok 10 eval '[ -n "$(first_elsewhere '"$*"')" ]' >/dev/null 2>&1
	first_elsewhere "$@"
}

case_on() { echo " $CASES " | grep -q " $1 "; }
