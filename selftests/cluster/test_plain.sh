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
	iperf3 -c "$(ip_of 1)" -t 3 -J >/tmp/tcp.json 2>&1
	rc=$?
	bps=$(jq -r '.end.sum_received.bits_per_second // 0' </tmp/tcp.json)
	info "tcp rc $rc, $bps bit/s"
	ok=1
	[ "$rc" = 0 ] && [ "${bps%%.*}" -gt 0 ] && ok=0
	ktap_result "iperf3_tcp" $ok
	barrier done
	;;
1)
	iperf3 -s -D -I /tmp/iperf3.pid
	busywait 5000 sh -c "netstat -ltn 2>/dev/null | grep -q ':5201 '"
	barrier server-up
	barrier done
	kill "$(cat /tmp/iperf3.pid)"
	ktap_skip "iperf3_tcp" "server side"
	;;
*)
	barrier server-up
	barrier done
	ktap_skip "iperf3_tcp" "node0 and node1 only"
	;;
esac
ktap_finish
