#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# nodes: 3
# timeout: 240
# cluster-args: --plain
#
# ivshmem-plain: no server and no interrupts. shmnic polls, the node id is a
# module parameter; the nodes find each other and carry IPv4, IPv6 and TCP.
. "${SHMNIC_LIB:-$(dirname "$0")/lib.sh}"
require_shml0
ktap_header
ktap_plan 4

dmesg | grep -q "node $ME of [0-9]*, epoch [0-9]*, polling"
ktap_result "polling_mode" $?
barrier up
ok=0
for peer in $(other_nodes); do
	busywait 5000 ping_ok "$(ip_of "$peer")" || ok=1
done
ktap_result "ping_all_ipv4" $ok
ok=0
for peer in $(other_nodes); do
	busywait 5000 ping_ok "$(ip6_of "$peer")" || ok=1
done
ktap_result "ping_all_ipv6" $ok
barrier pinged

case $ME in
0)
	barrier server-up
	iperf3_tcp "iperf3_tcp" "$(ip_of 1)" 3
	barrier done
	;;
1)
	iperf3_server
	barrier server-up
	barrier done
	iperf3_server_stop
	ktap_skip "iperf3_tcp" "server side"
	;;
*)
	barrier server-up
	barrier done
	ktap_skip "iperf3_tcp" "node0 and node1 only"
	;;
esac
ktap_finish
