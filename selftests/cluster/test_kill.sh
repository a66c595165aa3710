#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# nodes: 3
# timeout: 300
# checker-lane: skip test_failover kills a node under a stream on this lane: down within 2 s, the others talk, no queue left stopped
#
# node2 is killed (its QEMU gets SIGKILL) while node0 streams to it: node0
# and node1 mark it down within 2 s, and keep talking to each other; no TX
# queue stays stopped.
. "${SHMNIC_LIB:-$(dirname "$0")/lib.sh}"
require_shml0
require_nodes 3
ktap_header
ktap_plan 3


# Seconds from $1 until the kernel logs that node 2 is down (max 5 s).
wait_down() {
	busywait 5000 sh -c 'dmesg | grep -q "node 2 down"' || return 1
	awk "BEGIN { print $(now) - $1 }"
}

case $ME in
2)
	iperf3 -s -D
	barrier server-up
	barrier streaming
	sleep 600	# killed before this ends
	;;
0|1)
	barrier server-up
	[ "$ME" = 0 ] && { iperf3 -c "$(ip_of 2)" -t 60 >/dev/null 2>&1 & }
	sleep 2
	barrier streaming
	if [ "$ME" = 0 ]; then
		killvm node2
		touch "$SHMNIC_OUT/node2.killed"
	else
		busywait 30000 test -e "$SHMNIC_OUT/node2.killed"
	fi
	t0=$(now)
	dt=$(wait_down "$t0")
	rc=$?
	info "node 2 marked down after ${dt:-never} s"
	ok=1
	[ $rc = 0 ] && awk "BEGIN { exit !($dt <= 2.0) }" && ok=0
	ktap_result "node2_down_within_2s" $ok
	kill %1 2>/dev/null
	barrier noticed
	peer=$((1 - ME))
	busywait 3000 ping_ok "$(ip_of $peer)" 5
	ktap_result "survivors_talk_ipv4" $?
	busywait 3000 ping_ok "$(ip6_of $peer)" 5
	ktap_result "survivors_talk_ipv6" $?
	;;
*)
	barrier server-up
	barrier streaming
	barrier noticed
	;;
esac
ktap_finish
