#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# nodes: 2
# timeout: 240
# checker-lane: skip an ordering property of the ring; its UDP path is test_iperf's and test_global's
#
# Sequence-numbered UDP datagrams from node0 to node1 over shml0, sent as
# fast as socat can: those that arrive arrive in order, none twice.
. "${SHMNIC_LIB:-$(dirname "$0")/lib.sh}"
require_shml0
require_nodes 2
ktap_header
ktap_plan 1

PORT=6000
COUNT=20000
case $ME in
0)
	barrier listening
	# one 16-byte line per datagram (space-padded: busybox awk reads 0-padded numbers as octal)
	seq 1 $COUNT | awk '{ printf "%15d\n", $1 }' |
		socat -u -b 16 - "UDP-SENDTO:$(ip_of 1):$PORT"
	barrier sent
	ktap_skip "udp_in_order" "sender side"
	;;
1)
	socat -u "UDP-RECV:$PORT" - >/tmp/seq &
	pid=$!
	busywait 5000 sh -c "netstat -lun 2>/dev/null | grep -q ':$PORT '"
	barrier listening
	barrier sent
	sleep 1
	kill $pid
	n=$(wc -l </tmp/seq)
	bad=$(awk 'NR > 1 && $1 + 0 <= prev { bad++ } { prev = $1 + 0 }
		END { print bad + 0 }' /tmp/seq)
	info "received $n of $COUNT datagrams, $bad out of order"
	ok=1
	[ "$n" -ge $((COUNT / 10)) ] && [ "$bad" = 0 ] && ok=0
	ktap_result "udp_in_order" $ok
	;;
esac
ktap_finish
