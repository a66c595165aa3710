#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# nodes: 2
# timeout: 300
# cluster-args: --external
# checker-lane: skip the checksum state rides in every frame's slot; test_global forwards ext's unverified packets through the gateway on this lane
#
# Checksums end to end. node1 listens on TCP port 7070 and receives UDP on
# port 7071; node0 is the gateway of the global address and routes ext's
# traffic to the shml0 network. From ext, a plain SYN and a UDP datagram
# with a wrong checksum go to the global address (IPv4 and IPv6: the
# gateway dispatches them over shmg0) and to node1's shml0 address (IPv4,
# routed by node0 over shml0): node1's stack drops every one (no SYN+ACK,
# nothing for the UDP receiver, its Tcp and Udp InCsumErrors rise by
# exactly that many), and the same packets with the right checksum pass
# (a SYN+ACK each; the datagrams arrive). Nobody checked these checksums
# on the way: shmnic must carry "unverified" to node1, not "verified".
. "${SHMNIC_LIB:-$(dirname "$0")/lib.sh}"
require_external
require_nodes 2

TCP_PORT=7070
UDP_PORT=7071
TARGETS="$GLOBAL_IP $GLOBAL_IP6 $(ip_of 1)"

# in_csum_errors Tcp|Udp: InCsumErrors in /proc/net/snmp (TCP counts both
# families there; for UDP, Udp6InCsumErrors of /proc/net/snmp6 is added).
in_csum_errors() {
	_v=$(awk -v p="$1:" '$1 == p {
		if (!c) { for (i = 2; i <= NF; i++) if ($i == "InCsumErrors") c = i }
		else print $c }' /proc/net/snmp)
	if [ "$1" = Udp ]; then
		_v6=$(awk '$1 == "Udp6InCsumErrors" { print $2 }' /proc/net/snmp6)
		_v=$((${_v:-0} + ${_v6:-0}))
	fi
	echo "${_v:-0}"
}

# reply KIND ADDR PORT [bad]: the TCP flags of the answer flowbench stray
# saw ("none" for UDP or no answer).
reply() {
	flowbench stray "$2" "$3" --kind "$1" ${4:+--bad-checksum} --timeout-ms 2000 -j |
		jq -r .reply
}

ktap_header
ensure_pass "global setup" global_setup
if is_ext; then
	ktap_plan 4
	ensure_pass "route to shml0 via node0" ip route add 10.10.0.0/24 via "$GW_IP"
	barrier listening
	ok=0
	for a in $TARGETS; do
		r=$(reply syn "$a" $TCP_PORT bad)
		info "SYN with a bad checksum to $a: reply $r"
		[ "$r" = none ] || ok=1
	done
	ktap_result "bad_syn_unanswered" $ok
	ok=0
	for a in $TARGETS; do
		r=$(reply syn "$a" $TCP_PORT)
		info "SYN with a good checksum to $a: reply $r"
		[ "$r" = syn,ack ] || ok=1
	done
	ktap_result "good_syn_answered" $ok
	ok=0
	for a in $TARGETS; do
		reply udp "$a" $UDP_PORT bad >/dev/null || ok=1
	done
	ktap_result "bad_udp_sent" $ok
	sleep 1
	ok=0
	for a in $TARGETS; do
		reply udp "$a" $UDP_PORT >/dev/null || ok=1
	done
	ktap_result "good_udp_sent" $ok
	barrier sent
elif [ "$ME" = 1 ]; then
	ktap_plan 3
	ensure_pass "TCP listener" flowbench_serve $TCP_PORT node1
	socat -u "UDP6-RECV:$UDP_PORT,ipv6-v6only=0" OPEN:/tmp/udp,creat,append &
	tcp0=$(in_csum_errors Tcp)
	udp0=$(in_csum_errors Udp)
	barrier listening
	barrier sent
	n=$(echo $TARGETS | wc -w)
	busywait 5000 sh -c "[ \"\$(grep -c 'flowbench stray' /tmp/udp)\" -ge $n ]"
	tcp=$(($(in_csum_errors Tcp) - tcp0))
	udp=$(($(in_csum_errors Udp) - udp0))
	got=$(grep -c 'flowbench stray' /tmp/udp)
	info "InCsumErrors: TCP +$tcp, UDP +$udp; datagrams received: $got of $n good ones"
	check "tcp_csum_errors_counted" [ "$tcp" = "$n" ]
	check "udp_csum_errors_counted" [ "$udp" = "$n" ]
	check "only_good_datagrams_arrived" [ "$got" = "$n" ]
	kill %2 2>/dev/null
	flowbench_stop
else
	# The gateway checks nothing: every bad packet reaches node1.
	ktap_plan 1
	tcp0=$(in_csum_errors Tcp)
	udp0=$(in_csum_errors Udp)
	barrier listening
	barrier sent
	ok=0
	[ "$(in_csum_errors Tcp)" = "$tcp0" ] && [ "$(in_csum_errors Udp)" = "$udp0" ] || ok=1
	ktap_result "gateway_checked_nothing" $ok
fi
barrier done
ktap_finish
