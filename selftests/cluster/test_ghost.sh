#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# nodes: 3
# timeout: 300
#
# A ghost node must not slow the others. The ghost (shmnic-scribble
# --ghost 3, run on the host by hostscribble) joins the region as node 3:
# it heartbeats and publishes receive rings, and then drains nothing, or
# drains 20 frames a second while it holds the broadcast lock and moves
# the write index. Three phases, the same traffic in each: node0 and node2
# ping the ghost's address (1400 B, every 10 ms), flood it with UDP
# (flowbench udp, 1400 B datagrams) and ARP for it (broadcast ring);
# meanwhile node0 runs iperf3 to node1 for 8 s, and node0 and node2 ping
# node1 every 50 ms.
#   A. no ghost (its frames are dropped at once, the peer is down)
#   B. a ghost that never drains
#   C. a ghost that drains slowly and holds the broadcast lock
#   D. no ghost again
# In B and C: no ping between real nodes is lost, and iperf3 keeps at least
# half the throughput without the ghost (the mean of A and D). A ghost that
# blocked node0's queue would take it to nothing. The ratios are printed
# against the 90 % the ghost should cost at most, but not judged at 90 %:
# A and D of one fresh-clone run differed by 42 % (870 and 507 Mbit/s),
# and a test that fails on the harness' noise is a flaky test. On the debug
# lane's checker kernel the figures are printed only. In B node0 declares
# node3 stalled and drops its frames (peer3_tx_stalled_drops rises,
# shmnicctl shows it stalled).
. "${SHMNIC_LIB:-$(dirname "$0")/lib.sh}"
require_shml0
require_nodes 3
ktap_header

GHOST=3
GIP=$(ip_of $GHOST)
OUTD=$SHMNIC_OUT/ghost
mkdir -p "$OUTD"

# ghost_state: node3's state in our view ("up", "down", "absent"...),
# "stalled" added when we declared it so.
ghost_state() {
	shmnicctl -j node show dev shml0 |
		jq -r ".[] | select(.node == $GHOST) | .state + (if .stalled then \" stalled\" else \"\" end)"
}

# Traffic to the ghost's address until the file /tmp/stop exists, light
# enough to leave node0's CPU to iperf3 (some 400 frames a second); the
# senders' pids in $floods.
flood_ghost() {
	ping -q -i 0.01 -s 1400 "$GIP" >/dev/null 2>&1 &
	floods=$!
	flowbench udp "$GIP" 9 --flows 8 --packets 4 --size 1400 \
		--timeout-ms 100 --retries 100000 >/dev/null 2>&1 &
	floods="$floods $!"
	(while [ ! -e /tmp/stop ]; do
		arping -q -c 1 -w 1 -I shml0 "$GIP"
	done) >/dev/null 2>&1 &
	floods="$floods $!"
}

# One phase on node0 (iperf3, pings) or node2 (pings); the ghost is
# already in the state the phase needs.
phase() { # NAME
	rm -f /tmp/stop
	[ "$ME" = 0 ] && flood_ghost
	sleep 1
	ping -i 0.05 -c 160 "$(ip_of 1)" >"$OUTD/$1.$SHMNIC_VM.ping" 2>&1 &
	pinger=$!
	if [ "$ME" = 0 ]; then
		iperf3 -c "$(ip_of 1)" -t 8 -J >"$OUTD/$1.iperf.json" 2>&1
		info "phase $1: iperf3 to node1: $(bps_of "$OUTD/$1.iperf.json") bit/s"
	fi
	wait "$pinger"
	touch /tmp/stop
	# shellcheck disable=SC2086
	[ "$ME" = 0 ] && kill $floods 2>/dev/null
	wait 2>/dev/null
	info "phase $1: $(grep 'packets transmitted' "$OUTD/$1.$SHMNIC_VM.ping")"
}

bps_of() { jq -r '.end.sum_received.bits_per_second // 0 | floor' <"$1"; }

pings_all_back() { # NAME
	grep -q '^160 packets transmitted, 160 packets received' "$OUTD/$1.$SHMNIC_VM.ping"
}

# Start the ghost (node0 asks the host) and wait until we see it up.
ghost_start() { # ARGS...
	if [ "$ME" = 0 ]; then
		hostscribble start --ghost $GHOST --duration 0 "$@" || return 1
	fi
	busywait 5000 ghost_is up
}

ghost_stop() {
	[ "$ME" = 0 ] && hostscribble stop
	busywait 5000 ghost_is_not up
}

ghost_is() { ghost_state | grep -q "^$1"; }
ghost_is_not() { ! ghost_is "$1"; }

case $ME in
1)
	ktap_plan 1
	iperf3_server
	barrier ready
	barrier A
	barrier B
	barrier C
	barrier D
	iperf3_server_stop
	check "ghost_gone" ghost_is_not up
	;;
0 | 2)
	[ "$ME" = 0 ] && ktap_plan 10 || ktap_plan 4
	# Both phases address the ghost by a fixed neighbour entry: the ghost
	# answers no ARP.
	ip neigh replace "$GIP" lladdr "$(mac_of $GHOST)" dev shml0 nud permanent
	barrier ready

	# On the checker kernel the figures are not judged: no baselines.
	checker_kernel || phase A
	barrier A

	ghost_start
	ktap_result "ghost_up" $?
	phase B
	if [ "$ME" = 0 ]; then
		st=$(ghost_state)
		info "phase B: node3 is '$st', $(stat_of peer3_tx_stalled_drops) frames dropped as stalled, $(stat_of peer3_tx_queue_stops) queue stops"
		check "ghost_declared_stalled" ghost_is "up stalled"
		check "frames_to_ghost_dropped" [ "$(stat_of peer3_tx_stalled_drops)" -gt 0 ]
	fi
	check "pings_lost_none_with_ghost" pings_all_back B
	ghost_stop
	barrier B

	ghost_start --ghost-drain 20 --ghost-hold-lock
	ktap_result "slow_ghost_holding_lock_up" $?
	phase C
	check "pings_lost_none_with_slow_ghost" pings_all_back C
	[ "$ME" = 0 ] && info "phase C: tx_bcast_busy $(stat_of tx_bcast_busy)"
	ghost_stop
	barrier C
	checker_kernel || phase D
	barrier D

	if [ "$ME" = 0 ] && checker_kernel; then
		info "iperf3 node0 -> node1 with the ghost: B $(bps_of "$OUTD/B.iperf.json") bit/s, C $(bps_of "$OUTD/C.iperf.json") bit/s"
		why="a checker kernel's throughput is no measure (KASAN, lockdep): no baselines A and D"
		ktap_skip "baseline_ran" "$why"
		ktap_skip "iperf_half_with_ghost" "$why"
		ktap_skip "iperf_half_with_slow_ghost" "$why"
		ip neigh del "$GIP" dev shml0
		check "ghost_gone" ghost_is_not up
	elif [ "$ME" = 0 ]; then
		ad=$(( ($(bps_of "$OUTD/A.iperf.json") + $(bps_of "$OUTD/D.iperf.json")) / 2 ))
		b=$(bps_of "$OUTD/B.iperf.json")
		c=$(bps_of "$OUTD/C.iperf.json")
		info "iperf3 node0 -> node1 without the ghost (A, D): $ad bit/s; B: $b ($(awk "BEGIN { printf \"%.2f\", $b / ($ad + 1) }")), C: $c ($(awk "BEGIN { printf \"%.2f\", $c / ($ad + 1) }")) of it, against a target of 0.90; D/A $(awk "BEGIN { printf \"%.2f\", $(bps_of "$OUTD/D.iperf.json") / ($(bps_of "$OUTD/A.iperf.json") + 1) }")"
		check "baseline_ran" [ "$ad" -gt 0 ]
		check "iperf_half_with_ghost" awk "BEGIN { exit !($b >= 0.5 * $ad) }"
		check "iperf_half_with_slow_ghost" awk "BEGIN { exit !($c >= 0.5 * $ad) }"
		ip neigh del "$GIP" dev shml0
		check "ghost_gone" ghost_is_not up
	fi
	;;
esac
ktap_finish
