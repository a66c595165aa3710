#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# nodes: 3
# timeout: 420
#
# A ghost node must not slow the others. The ghost (shmnic-scribble
# --ghost 3, run on the host by hostscribble) joins the region as node 3:
# it heartbeats and publishes receive rings, and then drains nothing, or
# drains 20 frames a second while it holds the broadcast lock and moves
# the write index. Three conditions:
#   A. no ghost (its frames are dropped at once, the peer is down)
#   B. a ghost that never drains
#   C. a ghost that drains slowly and holds the broadcast lock
# Through all of them node0 sends the ghost's address pings (1400 B, every
# 10 ms), UDP (flowbench udp, 1400 B datagrams) and ARP (broadcast ring);
# one iperf3 stream runs from node0 to node1; node0 and node2 ping node1
# every 50 ms and must lose none.
#
# The ghost runs once, for the whole test; node0 switches it between the
# conditions through its control file (shmnic-scribble --ghost-control),
# which the ghost reads every 10 ms, and waits until it sees the switch
# (about 2 s: its checks are execs on a busy vCPU). The throughput each condition keeps is measured
# in segments of SEG_S seconds, in turns that put an A between any two
# others (A B A C A, ROUNDS times): the bytes node0 sent node1 in the
# segment (its peer1_tx_bytes), per second; each B or C segment is divided
# by the mean of its two A neighbours, and a condition's figure is the
# median of its ratios, which must be at least 0.9. The three VMs share
# the host's two CPUs, whose speed under load moves by 2x within seconds
# (Documentation/performance.rst): a single segment's ratio can be off by
# 30 % either way, the median of twelve neighbouring ones was within 5 %
# of 1.0 in five runs, so twelve rounds are run (eight, to keep CI short,
# gave medians of 0.87 and 0.89 once in CI, with the A segments of that
# run between 272 and 588 MB; a switch costs about 2 s); whole runs per
# condition were not (B and C
# came out at 0.82 and 0.75 once, 1.51 another time). The segments are
# shorter than the 2 s after which node0 declares the ghost stalled and
# drops its frames (peer3_tx_stalled_drops, shmnicctl): one more B, not
# measured, waits for that. On the debug lane's checker kernel (KASAN,
# lockdep) throughput is no measure: it runs one round and judges no
# figure.
. "${SHMNIC_LIB:-$(dirname "$0")/lib.sh}"
require_shml0
require_nodes 3
ktap_header

GHOST=3
GIP=$(ip_of $GHOST)
OUTD=$SHMNIC_OUT/ghost
mkdir -p "$OUTD"

SEG_S=2
ROUNDS=12
checker_kernel && ROUNDS=1
PLAN=A
i=0
while [ $i -lt $ROUNDS ]; do
	PLAN="$PLAN B A C A"
	i=$((i + 1))
done
CONTROL=/host/ghost-mode

# ghost_state: node3's state in our view ("up", "down", "absent"...),
# "stalled" added when we declared it so.
ghost_state() {
	shmnicctl -j node show dev shml0 |
		jq -r ".[] | select(.node == $GHOST) | .state + (if .stalled then \" stalled\" else \"\" end)"
}
ghost_is() { ghost_state | grep -q "^$1"; }
ghost_is_not() { ! ghost_is "$1"; }

# ghost_mode MODE: what the ghost does now (shmnic-scribble(1),
# --ghost-control): absent, never, or N frames a second, then " lock".
ghost_mode() { echo "$*" >"$CONTROL"; }

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

# ping node1 every 50 ms until ping_stop; lost_none afterwards.
ping_start() {
	ping -i 0.05 "$(ip_of 1)" >"$OUTD/$SHMNIC_VM.ping" 2>&1 &
	pinger=$!
}
# Called once the load is gone: 2 s more of pings first, so that the
# replies queued behind it come home (on the checker lane's kernel some
# took 1.5 s under the load, and ten were on their way when ping was
# stopped at once).
ping_stop() {
	sleep 2
	kill -INT "$pinger"
	wait "$pinger"
	info "pings to node1: $(grep 'packets transmitted' "$OUTD/$SHMNIC_VM.ping")"
}
# Every ping answered, but the last one, which may still be on its way
# when ping is stopped.
lost_none() {
	awk '/ seq=/ { s = $0; sub(/.* seq=/, "", s); sub(/ .*/, "", s); got[s + 0] = 1 }
		/packets transmitted/ { sent = $1 }
		END {
			for (i = 0; i < sent - 1; i++)
				if (!(i in got))
					lost++
			exit !(sent > 10 && !lost)
		}' "$OUTD/$SHMNIC_VM.ping"
}

# segment COND: put condition COND in place, then count for SEG_S seconds
# the bytes node0 sends node1; appends "COND centiseconds bytes" to
# $OUTD/segments, then the centiseconds the switch took.
segment() {
	uptime_cs
	s0=$UPTIME_CS
	case $1 in
	A)
		ghost_mode absent
		busywait 5000 ghost_is_not up || gone=1
		;;
	B)
		ghost_mode never
		busywait 5000 ghost_is up || up_b=1
		;;
	C)
		ghost_mode 20 lock
		busywait 5000 ghost_is up || up_c=1
		;;
	esac
	b0=$(stat_of peer1_tx_bytes)
	uptime_cs
	t0=$UPTIME_CS
	sleep $SEG_S
	b1=$(stat_of peer1_tx_bytes)
	uptime_cs
	echo "$1 $((UPTIME_CS - t0)) $((b1 - b0)) $((t0 - s0))" >>"$OUTD/segments"
}

# ratios COND: for each COND segment, its rate over the mean rate of the
# segments before and after it; the list, then their median.
ratios() {
	awk -v c="$1" '
		{ cond[NR] = $1; rate[NR] = $3 / ($2 > 0 ? $2 : 1) }
		END {
			for (i = 2; i < NR; i++)
				if (cond[i] == c) {
					a = (rate[i - 1] + rate[i + 1]) / 2
					r[++n] = a > 0 ? rate[i] / a : 0
				}
			for (i = 1; i <= n; i++)
				for (j = i + 1; j <= n; j++)
					if (r[j] < r[i]) { t = r[i]; r[i] = r[j]; r[j] = t }
			for (i = 1; i <= n; i++)
				printf "%.2f ", r[i]
			m = n % 2 ? r[(n + 1) / 2] : (r[n / 2] + r[n / 2 + 1]) / 2
			printf "median %.2f\n", n ? m : 0
		}' "$OUTD/segments"
}

case $ME in
1)
	ktap_plan 1
	iperf3_server
	barrier ready
	barrier finished
	iperf3_server_stop
	check "ghost_gone" ghost_is_not up
	;;
2)
	ktap_plan 1
	barrier ready
	ping_start
	barrier finished
	ping_stop
	check "pings_lost_none" lost_none
	;;
0)
	ktap_plan 10
	# The ghost answers no ARP: it is addressed by a fixed neighbour entry.
	ip neigh replace "$GIP" lladdr "$(mac_of $GHOST)" dev shml0 nud permanent
	ghost_mode absent
	check "ghost_started" hostscribble start --ghost $GHOST --duration 0 \
		--ghost-control $CONTROL
	barrier ready
	rm -f /tmp/stop "$OUTD/segments"
	# killed once the segments are over
	iperf3 -c "$(ip_of 1)" -t 1000 -i 0 >"$OUTD/iperf3.out" 2>&1 &
	iperf=$!
	ping_start
	flood_ghost
	# TCP past slow start, and TCG's translation cache warm
	sleep 3
	up_b=0 up_c=0 gone=0 stalled=0
	for cond in $PLAN; do
		segment "$cond"
	done
	# The segments are shorter than the 2 s after which a full ring's
	# owner is declared stalled: one B for that, measured by nobody.
	ghost_mode never
	busywait 5000 ghost_is up || up_b=1
	busywait 8000 ghost_is "up stalled" || stalled=1
	ghost_mode absent
	busywait 5000 ghost_is_not up || gone=1
	touch /tmp/stop
	check "iperf3_ran_throughout" kill -0 "$iperf"
	# shellcheck disable=SC2086
	kill $floods "$iperf" 2>/dev/null
	ping_stop
	barrier finished
	wait 2>/dev/null
	hostscribble stop | sed 's/^/# node0: /'

	ktap_result "ghost_up_in_b" $up_b
	ktap_result "slow_ghost_holding_lock_up_in_c" $up_c
	ktap_result "ghost_gone_in_a" $gone
	check "pings_lost_none" lost_none
	ktap_result "ghost_declared_stalled" $stalled
	check "frames_to_ghost_dropped" [ "$(stat_of peer3_tx_stalled_drops)" -gt 0 ]
	info "$(stat_of peer3_tx_stalled_drops) frames to the ghost dropped as stalled, $(stat_of peer3_tx_queue_stops) queue stops, $(stat_of tx_bcast_busy) broadcasts not sent for the lock"
	info "segments (condition, centiseconds, bytes to node1, centiseconds to switch): $(tr '\n' ';' <"$OUTD/segments")"
	rb=$(ratios B)
	rc=$(ratios C)
	info "iperf3 node0 -> node1 with the ghost, against the segments without it on either side: B $rb; C $rc"
	if checker_kernel; then
		why="a checker kernel's throughput is no measure (KASAN, lockdep)"
		ktap_skip "iperf_90pct_with_ghost" "$why"
		ktap_skip "iperf_90pct_with_slow_ghost" "$why"
	else
		check "iperf_90pct_with_ghost" awk "BEGIN { exit !(${rb##* } >= 0.9) }"
		check "iperf_90pct_with_slow_ghost" awk "BEGIN { exit !(${rc##* } >= 0.9) }"
	fi
	ip neigh del "$GIP" dev shml0
	;;
esac
ktap_finish
