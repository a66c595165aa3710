#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# nodes: 2
# timeout: 240
# checker-lane: skip test_ghost and test_rmmod_storm stream TCP on this lane, test_global and test_mcast carry UDP
#
# iperf3 TCP and UDP from node0 to node1 over shml0. UDP datagrams must
# arrive in order (iperf3 counts out-of-order datagrams on the receiver).
. "${SHMNIC_LIB:-$(dirname "$0")/lib.sh}"
require_shml0
require_nodes 2
ktap_header
ktap_plan 3

case $ME in
0)
	barrier server-up
	b0=$(stat_of peer1_tx_bytes)
	iperf3_tcp "iperf3_tcp" "$(ip_of 1)" 5
	# what the server received has crossed the ring by the time iperf3
	# exits (what was sent may still be in our socket buffer)
	sent=$(jq -r '.end.sum_received.bytes // 0' </tmp/tcp.json)
	b1=$(stat_of peer1_tx_bytes)
	info "ethtool -S: peer1_tx_bytes +$((b1 - b0)) for $sent bytes of TCP payload received, peer5_tx_packets $(stat_of peer5_tx_packets)"
	ok=1
	[ "${sent%%.*}" -gt 0 ] && [ $((b1 - b0)) -ge "${sent%%.*}" ] &&
		[ "$(stat_of peer5_tx_packets)" = 0 ] && ok=0
	ktap_result "per_peer_counters" $ok

	iperf3 -c "$(ip_of 1)" -u -b 200M -l 1400 -t 5 -J >/tmp/udp.json 2>&1
	rc=$?
	jq -c '.end.sum' </tmp/udp.json
	pkts=$(jq -r '.end.sum.packets // 0' </tmp/udp.json)
	ooo=$(jq -r '.end.sum.out_of_order // 0' </tmp/udp.json)
	lost=$(jq -r '.end.sum.lost_packets // 0' </tmp/udp.json)
	info "udp rc $rc, $pkts packets, $lost lost, $ooo out of order"
	ok=1
	[ "$rc" = 0 ] && [ "$pkts" -gt 0 ] && [ "$ooo" = 0 ] && ok=0
	ktap_result "iperf3_udp_in_order" $ok
	barrier done
	;;
1)
	iperf3_server
	barrier server-up
	barrier done
	iperf3_server_stop
	ktap_skip "iperf3_tcp" "server side"
	ktap_skip "per_peer_counters" "server side"
	ktap_skip "iperf3_udp_in_order" "server side"
	;;
esac
ktap_finish
