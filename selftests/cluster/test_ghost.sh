#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# nodes: 3
# timeout: 300
#
# A ghost node must not slow the others. The ghost (shmnic-scribble
# --ghost 3, run on the host by hostscribble) joins the region as node 3:
# it heartbeats and publishes receive rings, and then drains nothing, or
# drains 20 frames a second while it holds the broadcast lock and moves
# the write index. Three conditions, the same traffic in each: node0 and
# node2 ping the ghost's address (1400 B, every 10 ms), flood it with UDP
# (flowbench udp, 1400 B datagrams) and ARP for it (broadcast ring);
# meanwhile node0 runs iperf3 to node1 for 5 s, and node0 and node2 ping
# node1 every 50 ms.
#   A. no ghost (its frames are dropped at once, the peer is down)
#   B. a ghost that never drains
#   C. a ghost that drains slowly and holds the broadcast lock
# In B and C: no ping between real nodes is lost, and iperf3 keeps at least
# half its throughput in A (a ghost that blocked node0's queue would take
# it to nothing); the ratios are printed against the 90 % the ghost should
# cost at most, not judged there (see Documentation/performance.rst: in a
# fresh-clone CI run B and C came out at 0.82 and 0.75, with A itself
# between 500 and 700 Mbit/s). The conditions take turns, A B C A B C A,
# and each one's figure is the median of all its iperf3 1 s intervals but
# each run's first (slow start): the harness' three VMs share two host
# CPUs, and one 8 s run per condition differed by up to 40 % between two
# runs of the same condition (the host's share of CPU drifts over tens of
# seconds); taking turns spreads that drift over all three. An unmeasured
# 3 s run first warms TCG's translation cache. On the debug lane's checker
# kernel the figures are not judged: it runs B and C once, and no A. In B
# node0 declares node3 stalled and drops its frames (peer3_tx_stalled_drops
# rises, shmnicctl shows it stalled).
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

# The phases, in turn; a phase's letter is its condition.
PHASES="A1 B1 C1 A2 B2 C2 A3"
checker_kernel && PHASES="B1 C1"
PHASE_S=5

# One phase on node0 (iperf3, pings) or node2 (pings); the ghost is
# already in the state the phase needs.
phase() { # NAME
	rm -f /tmp/stop
	[ "$ME" = 0 ] && flood_ghost
	sleep 1
	ping -i 0.05 -c $((PHASE_S * 20)) "$(ip_of 1)" >"$OUTD/$1.$SHMNIC_VM.ping" 2>&1 &
	pinger=$!
	if [ "$ME" = 0 ]; then
		iperf3 -c "$(ip_of 1)" -t $PHASE_S -J >"$OUTD/$1.iperf.json" 2>&1
		info "phase $1: iperf3 to node1, Mbit/s a second: $(jq -c '[.intervals[].sum.bits_per_second / 1e6 | floor]' "$OUTD/$1.iperf.json" 2>/dev/null)"
	fi
	wait "$pinger"
	touch /tmp/stop
	# shellcheck disable=SC2086
	[ "$ME" = 0 ] && kill $floods 2>/dev/null
	wait 2>/dev/null
	info "phase $1: $(grep 'packets transmitted' "$OUTD/$1.$SHMNIC_VM.ping")"
}

# bps_of LETTER: the median of the 1 s intervals of that condition's
# iperf3 runs, each run's first left out (slow start); 0 if none.
bps_of() {
	jq -s -r '[.[] | .intervals[1:][].sum.bits_per_second] | sort |
		if length == 0 then 0 else .[length / 2 | floor] end | floor' \
		"$OUTD"/"$1"?.iperf.json 2>/dev/null || echo 0
}

pings_all_back() { # PHASE
	grep -q "^$((PHASE_S * 20)) packets transmitted, $((PHASE_S * 20)) packets received" "$OUTD/$1.$SHMNIC_VM.ping"
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
	for ph in $PHASES; do
		barrier "$ph"
	done
	iperf3_server_stop
	check "ghost_gone" ghost_is_not up
	;;
0 | 2)
	[ "$ME" = 0 ] && ktap_plan 10 || ktap_plan 4
	# Every phase addresses the ghost by a fixed neighbour entry: the ghost
	# answers no ARP.
	ip neigh replace "$GIP" lladdr "$(mac_of $GHOST)" dev shml0 nud permanent
	barrier ready
	checker_kernel || { [ "$ME" = 0 ] && iperf3 -c "$(ip_of 1)" -t 3 >/dev/null 2>&1; }

	up_b=0 up_c=0 lost_b=0 lost_c=0 stalled=0
	for ph in $PHASES; do
		case $ph in
		A*) phase "$ph" ;;
		B*)
			ghost_start || up_b=1
			phase "$ph"
			pings_all_back "$ph" || lost_b=1
			if [ "$ME" = 0 ]; then
				st=$(ghost_state)
				info "phase $ph: node3 is '$st', $(stat_of peer3_tx_stalled_drops) frames dropped as stalled so far, $(stat_of peer3_tx_queue_stops) queue stops"
				ghost_is "up stalled" || stalled=1
			fi
			ghost_stop
			;;
		C*)
			ghost_start --ghost-drain 20 --ghost-hold-lock || up_c=1
			phase "$ph"
			pings_all_back "$ph" || lost_c=1
			[ "$ME" = 0 ] && info "phase $ph: tx_bcast_busy $(stat_of tx_bcast_busy)"
			ghost_stop
			;;
		esac
		barrier "$ph"
	done
	ktap_result "ghost_up" $up_b
	ktap_result "slow_ghost_holding_lock_up" $up_c
	ktap_result "pings_lost_none_with_ghost" $lost_b
	ktap_result "pings_lost_none_with_slow_ghost" $lost_c

	if [ "$ME" = 0 ]; then
		ktap_result "ghost_declared_stalled" $stalled
		check "frames_to_ghost_dropped" [ "$(stat_of peer3_tx_stalled_drops)" -gt 0 ]
		a=$(bps_of A)
		b=$(bps_of B)
		c=$(bps_of C)
		if checker_kernel; then
			info "iperf3 node0 -> node1 with the ghost: B $b bit/s, C $c bit/s"
			why="a checker kernel's throughput is no measure (KASAN, lockdep): no baseline A"
			ktap_skip "baseline_ran" "$why"
			ktap_skip "iperf_half_with_ghost" "$why"
			ktap_skip "iperf_half_with_slow_ghost" "$why"
		else
			info "iperf3 node0 -> node1, median of 1 s intervals: without the ghost (A) $a bit/s; B $b ($(awk "BEGIN { printf \"%.2f\", $b / ($a + 1) }")), C $c ($(awk "BEGIN { printf \"%.2f\", $c / ($a + 1) }")) of it (0.50 asked; the aim is 0.90)"
			check "baseline_ran" [ "$a" -gt 0 ]
			check "iperf_half_with_ghost" awk "BEGIN { exit !($b >= 0.5 * $a) }"
			check "iperf_half_with_slow_ghost" awk "BEGIN { exit !($c >= 0.5 * $a) }"
		fi
		ip neigh del "$GIP" dev shml0
		check "ghost_gone" ghost_is_not up
	fi
	;;
esac
ktap_finish
