#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# nodes: 3
# timeout: 240
# checker-lane: skip test_ghost stops and stalls one peer's queue, test_scribble takes nodes down and back with their epoch, on this lane
#
# One node that stops draining must not stall the others. node0 streams
# TCP to node2 (iperf3) and pings node1 every 50 ms (140 pings); a second
# into the pings node2's QEMU is stopped through QMP for 3 s (pausevm), so
# node0's ring to node2 fills. Not one of node0's pings to node1 may be
# lost: node2's full ring stops node2's TX queue only. Once node2 goes on,
# node0 reaches it again within 3 s.
. "${SHMNIC_LIB:-$(dirname "$0")/lib.sh}"
require_shml0
require_nodes 3
ktap_header


case $ME in
0)
	ktap_plan 3
	barrier ready
	iperf3 -c "$(ip_of 2)" -t 30 >/tmp/stream.log 2>&1 &
	stream=$!
	sleep 2
	ping -i 0.05 -c 140 "$(ip_of 1)" >/tmp/ping.log 2>&1 &
	pinger=$!
	sleep 1
	ensure_pass "pausevm node2" pausevm node2 3
	t_paused=$(now)
	check "stream_running_when_paused" kill -0 "$stream"
	wait "$pinger"
	stats=$(grep 'packets transmitted' /tmp/ping.log)
	info "pings to node1 while node2 was paused: $stats"
	info "queue stops for node2: $(stat_of peer2_tx_queue_stops), drops: $(stat_of peer2_tx_drops)"
	check "pings_to_node1_lost_none" sh -c "echo '$stats' | grep -q '^140 packets transmitted, 140 packets received'"
	# node2 goes on 3 s after it was stopped
	sleep "$(awk "BEGIN { d = $t_paused + 3 - $(now); print (d > 0 ? d : 0) }")"
	t_back=$(now)
	busywait 3000 ping_ok "$(ip_of 2)"
	ktap_result "node2_back_within_3s" $?
	info "node2 answered $(awk "BEGIN { print $(now) - $t_back }") s after it went on"
	kill "$stream" 2>/dev/null
	wait "$stream" 2>/dev/null
	barrier done
	# node1 and node2 ping us before we power off
	barrier checked
	;;
2)
	ktap_plan 1
	iperf3_server
	barrier ready
	barrier done
	iperf3_server_stop
	check "still_up_after_pause" ping_ok "$(ip_of 0)"
	barrier checked
	;;
*)
	ktap_plan 1
	barrier ready
	barrier done
	check "answers_node0" ping_ok "$(ip_of 0)"
	barrier checked
	;;
esac
ktap_finish
