#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# nodes: 3
# timeout: 300
#
# Hostile shared memory: while tools/shmnic-scribble writes random bytes and
# targeted bad values into the region for 30 s (hostscribble, run on the
# host by the harness), every node pings every other (IPv4 and IPv6),
# flushes its neighbours now and then (ARP/ND through the broadcast ring)
# node0 streams TCP to node1, and node2 sends to multicast group 239.9.9.9,
# which node0 and node1 joined. No kernel may warn, oops or panic (the
# harness checks the consoles). Within 5 s of the scribbler stopping, every
# node pings every other again (IPv4, measured); then IPv6, a TCP run
# node0 -> node1 and the multicast group work too. The drivers' error counters (rx_ring_resets,
# rx_bad_frames, rx_bcast_lost, tx_bcast_busy) must have moved on at least
# one node: proof that the scribbler reached them. Every node reads the
# management view (shmnicctl -j stats: every node's published counters)
# over and over while the region is scribbled on: every read succeeds;
# within 5 s of the scribbler stopping, the view shows every node up with
# clean figures, and the ids the scribbler made up as down or absent, with
# a note (their parts stay garbage: nobody rewrites them).
#
# SCRIBBLE_SECONDS (default 30) and SCRIBBLE_ARGS (more shmnic-scribble
# options, e.g. "--kinds pair_epoch --seed 7") can be set at the top of a
# copy of this script run with qemu/cluster --run (the VMs do not see the
# host's environment): to find which damage a node does not recover from.
. "${SHMNIC_LIB:-$(dirname "$0")/lib.sh}"
require_shml0
require_nodes 3
ktap_header
ktap_plan 9

SECS=${SCRIBBLE_SECONDS:-30}
COUNTERS="rx_ring_resets rx_bad_frames rx_bcast_lost tx_bcast_busy"
OUTD=$SHMNIC_OUT/scribble
mkdir -p "$OUTD"


# Sum of the counters named $1 in "ethtool -S shml0" (also per peer/ring
# copies ending in _$1), from file $2.
counter() {
	awk -v n="$1" '{ sub(/^[ \t]+/, ""); k = $1; sub(/:$/, "", k) }
		k == n || k ~ ("_" n "$") { s += $2 } END { print s + 0 }' "$2"
}

# Every other node answers an IPv4 (or, with -6, IPv6) ping; gives up
# after $1 s. Prints the seconds it took.
all_pairs() { # LIMIT [-6]
	_t0=$(now)
	for _p in $(other_nodes); do
		if [ "${2:-}" = -6 ]; then _a=$(ip6_of "$_p"); else _a=$(ip_of "$_p"); fi
		until ping_ok "$_a"; do
			if awk "BEGIN { exit !($(now) - $_t0 > $1) }"; then
				echo "node$_p ($_a) silent, gave up after $(since "$_t0")"
				return 1
			fi
			sleep 0.05
		done
	done
	since "$_t0"
}

[ "$ME" = 1 ] && { iperf3_server; iperf3 -s -p 5202 -D -I /tmp/iperf3b.pid; }
MCG=239.9.9.9
mc_send() { # TEXT
	echo "$1" | socat -u - "UDP4-DATAGRAM:$MCG:7100,ip-multicast-if=$(ip_of 2)"
}
if [ "$ME" = 2 ]; then
	ip route add 239.0.0.0/8 dev shml0
else
	socat -u "UDP4-RECV:7100,ip-add-membership=$MCG:shml0" OPEN:/tmp/mcg,creat,append &
	mc_rcv=$!
fi
ethtool -S shml0 >"$OUTD/$SHMNIC_VM.before"
barrier ready

# stats_loop FILE: read the management view until killed; one line per read
# in FILE: its exit status and the notes it saw.
stats_loop() {
	while :; do
		shmnicctl -j stats >/tmp/stats.json 2>>/tmp/stats.err
		_rc=$?
		echo "$_rc $(jq -r '[.[] | .notes[]] | join(",")' /tmp/stats.json 2>/dev/null)" >>"$1"
	done
}

# stats_clean N: the view shows nodes 0..N-1 up, with no note; the ids
# the scribbler made up (its phantom nodes, whose node entries and counters
# nobody rewrites) are not up and carry a note.
stats_clean() {
	shmnicctl -j stats | jq -e --argjson n "$1" '
		([.[] | select(.node < $n)] | length == $n and
			all(.[]; .state == "up" and (.notes | length) == 0)) and
		all(.[] | select(.node >= $n); .state != "up" and (.notes | length) > 0)' >/dev/null
}

# --- traffic, then the scribbler ---------------------------------------------
pids=""
for p in $(other_nodes); do
	ping -q -i 0.2 -W 1 -w $((SECS + 5)) "$(ip_of "$p")" >/dev/null 2>&1 &
	pids="$pids $!"
	ping -6 -q -i 0.5 -W 1 -w $((SECS + 5)) "$(ip6_of "$p")" >/dev/null 2>&1 &
	pids="$pids $!"
done
( while :; do sleep 3; ip neigh flush dev shml0 2>/dev/null; done ) &
flusher=$!
: >/tmp/stats.log
stats_loop /tmp/stats.log &
stats_reader=$!
if [ "$ME" = 2 ]; then
	( while :; do mc_send during; sleep 0.2; done ) &
	mc_sender=$!
fi
if [ "$ME" = 0 ]; then
	iperf3 -c "$(ip_of 1)" -t $((SECS + 5)) -J >/tmp/scribble-tcp.json 2>&1 &
	pids="$pids $!"
	sleep 2
	# shellcheck disable=SC2086
	hostscribble start --duration 0 --nodes "$NODES" ${SCRIBBLE_ARGS:-}
	ktap_result "scribbler_started" $?
	touch "$OUTD/started"
	sleep "$SECS"
	hostscribble stop
	ktap_result "scribbler_stopped" $?
	touch "$OUTD/stopped"
else
	busywait $(((SECS + 60) * 1000)) test -e "$OUTD/stopped"
	ktap_skip "scribbler_started" "node0 runs it"
	ktap_skip "scribbler_stopped" "node0 runs it"
fi

# --- recovery ----------------------------------------------------------------
t0=$(now)
kill $flusher $stats_reader ${mc_sender:-} 2>/dev/null
dt=$(all_pairs 30)
rc=$?
info "all peers answer IPv4 ping ${dt} s after the scribbler stopped (as seen here)"
ok=1
[ $rc = 0 ] && awk "BEGIN { exit !($(since "$t0") <= 5.0) }" && ok=0
ktap_result "all_pairs_ipv4_within_5s" $ok
[ $ok = 0 ] || ip neigh show dev shml0 | sed 's/^/# /'

dt=$(all_pairs 10 -6)
rc=$?
info "all peers answer IPv6 ping after ${dt} s more"
ktap_result "all_pairs_ipv6" $rc

# (after the timed recovery: each exec costs on the checker kernel)
reads=$(wc -l </tmp/stats.log)
failed=$(awk '$1 != 0' /tmp/stats.log | wc -l)
info "management view: $reads reads while scribbled, $failed failed, notes seen: $(
	awk '{ n = split($2, a, ","); for (i = 1; i <= n; i++) seen[a[i]]++ }
	END { for (k in seen) printf "%s %d ", k, seen[k] }' /tmp/stats.log)"
[ "$failed" = 0 ] || head -3 /tmp/stats.err | sed 's/^/# /'
ktap_result "stats_read_while_scribbled" "$([ "$reads" -ge 3 ] && [ "$failed" = 0 ]; echo $?)"

busywait 5000 stats_clean "$NODES"
rc=$?
[ $rc = 0 ] || shmnicctl stats | sed 's/^/# /'
ktap_result "stats_clean_after" $rc

# the pings and the stream of the scribbling phase
# shellcheck disable=SC2086
kill $pids 2>/dev/null
# shellcheck disable=SC2086
wait $pids
if [ "$ME" = 0 ]; then
	info "stream during scribbling: $(jq -c '{bps: .end.sum_received.bits_per_second, error: .error}' \
		</tmp/scribble-tcp.json 2>/dev/null)"
	iperf3 -c "$(ip_of 1)" -p 5202 -t 3 -J >/tmp/tcp.json 2>&1
	r=$?
	bps=$(jq -r '.end.sum_received.bits_per_second // 0' </tmp/tcp.json)
	info "tcp to node1 after: rc $r, $bps bit/s"
	ok=1
	[ "$r" = 0 ] && [ "${bps%%.*}" -gt 0 ] && ok=0
	ktap_result "tcp_after" $ok
else
	ktap_skip "tcp_after" "node0 runs it"
fi

barrier mc_after
if [ "$ME" = 2 ]; then
	for i in 1 2 3 4 5 6 7 8 9 10; do mc_send "after $i"; sleep 0.1; done
	ktap_skip "multicast_after" "node2 sends"
else
	busywait 5000 sh -c '[ "$(grep -c "^after" /tmp/mcg)" -ge 10 ]'
	info "multicast: $(grep -c during /tmp/mcg) datagrams during, $(grep -c '^after' /tmp/mcg) of 10 after"
	ktap_result "multicast_after" $?
	kill "$mc_rcv" 2>/dev/null
fi

# --- proof the scribbler hit the nodes -----------------------------------------
ethtool -S shml0 >"$OUTD/$SHMNIC_VM.after"
barrier counted
if [ "$ME" = 0 ]; then
	total=0
	for vm in $(all_nodes); do
		line=""
		for c in $COUNTERS; do
			d=$(($(counter "$c" "$OUTD/node$vm.after") - $(counter "$c" "$OUTD/node$vm.before")))
			line="$line $c +$d"
			total=$((total + d))
		done
		info "node$vm:$line"
	done
	[ "$total" -gt 0 ]
	ktap_result "error_counters_moved" $?
else
	ktap_skip "error_counters_moved" "node0 sums them"
fi
[ "$ME" = 1 ] && { iperf3_server_stop; kill "$(cat /tmp/iperf3b.pid)" 2>/dev/null; }
barrier finished
ktap_finish
