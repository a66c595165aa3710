#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# nodes: 3
# timeout: 300
# checker-lane: skip test_rmmod_storm pulls the module under traffic on every node, round after round
#
# rmmod shmnic on node2 while it sends and receives, then insmod again:
# node0 and node1 keep talking meanwhile, node2 is reachable again within
# 5 s of coming back, and nobody's kernel complains.
. "${SHMNIC_LIB:-$(dirname "$0")/lib.sh}"
require_shml0
require_nodes 3
ktap_header
ktap_plan 3

KO=/lib/modules/shmnic/shmnic.ko

case $ME in
2)
	iperf3_server
	barrier server-up
	# node0 streams to us; we stream to node1, then pull the module.
	iperf3 -c "$(ip_of 1)" -t 30 >/dev/null 2>&1 &
	sleep 2
	rmmod shmnic
	ktap_result "rmmod_under_traffic" $?
	kill %1 2>/dev/null
	iperf3_server_stop
	sleep 1
	insmod "$KO" && busywait 5000 test -e /sys/class/net/shml0 && shml0_configure
	ktap_result "insmod_again" $?
	barrier reloaded
	barrier checked
	ktap_skip "reachable_again" "checked by node0"
	;;
1)
	iperf3_server
	barrier server-up
	barrier reloaded
	barrier checked
	iperf3_server_stop
	ktap_skip "rmmod_under_traffic" "node2 does it"
	ktap_skip "insmod_again" "node2 does it"
	ktap_skip "reachable_again" "checked by node0"
	;;
0)
	barrier server-up
	iperf3 -c "$(ip_of 2)" -t 30 >/dev/null 2>&1 &
	# node0 <-> node1 must keep working while node2 goes and comes back
	ping -c 40 -i 0.1 "$(ip_of 1)" >/tmp/ping1 2>&1
	got=$(sed -n 's/.* \([0-9]*\) packets received.*/\1/p' /tmp/ping1)
	info "node1 answered $got of 40 pings during the reload"
	ok=1
	[ "${got:-0}" -ge 36 ] && ok=0
	ktap_result "others_unaffected" $ok
	kill %1 2>/dev/null
	barrier reloaded
	t0=$(cut -d' ' -f1 /proc/uptime)
	busywait 5000 ping_ok "$(ip_of 2)"
	rc=$?
	t1=$(cut -d' ' -f1 /proc/uptime)
	info "node2 answered after $(awk "BEGIN { print $t1 - $t0 }") s (rc $rc)"
	ktap_result "reachable_again_within_5s" $rc
	busywait 5000 ping_ok "$(ip6_of 2)"
	ktap_result "reachable_again_ipv6" $?
	barrier checked
	;;
*)
	barrier server-up
	barrier reloaded
	barrier checked
	;;
esac
ktap_finish
