#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# nodes: 4
# timeout: 600
# cluster-args: --gateways 2 --routing static
#
# A gateway dies under long connections and the other one carries them on
# from the dead one's part of the flow table, with static routes and no
# routing daemon: the kernel paths of test_gateway_failover (a lookup in a
# dead gateway's part, its clock, adoption), without BIRD's timers, so
# that they also run on the checker lane (KASAN, lockdep). The script
# plays the routing daemon. node2 and node3 serve port 80; ext's routes to
# the GLOBAL addresses go through node0 only. ext opens 20 paced
# connections (10 IPv4, 10 IPv6, each 8 round trips of 256 KiB at
# 128 KB/s, every byte echoed and compared); once all are established,
# node0 is killed (killvm), ext's routes move to node1, and node2 and
# node3 send their replies through node1 only. node1 finds every flow in
# node0's part (gw_flows_adopted), all 20 complete intact, and 20 new
# connections per address work through node1.
. "${SHMNIC_LIB:-$(dirname "$0")/lib.sh}"
require_external
require_nodes 4

gstat() { stat_of "$1" shmg0; }

# through K: ext's routes to the GLOBAL addresses go through gateway K.
through() {
	ip route replace "$GLOBAL_IP/32" via "172.31.$1.1" dev "eth$1" &&
		ip -6 route replace "$GLOBAL_IP6/128" via "fd00:31:$1::1" dev "eth$1"
}

# long NAME ADDR: 10 paced connections in the background, JSON in
# /tmp/NAME.json.
long() {
	flowbench connect "$2" 80 --conns 10 --parallel 10 --size 262144 \
		--requests 8 --rate 131072 --timeout-ms 300000 -j >"/tmp/$1.json" &
}

# established: ext holds the 20 connections.
established() {
	[ "$(netstat -tn 2>/dev/null | grep -c "$GLOBAL_IP:80 *ESTABLISHED")" -ge 10 ] &&
		[ "$(netstat -tn 2>/dev/null | grep -c "$GLOBAL_IP6:80 *ESTABLISHED")" -ge 10 ]
}

# all_done NAME N: the N connections of NAME completed intact.
all_done() {
	info "$1: $(jq -c '{ok, failed, servers, failures, first_error, elapsed_s}' "/tmp/$1.json")"
	jq -e --argjson n "$2" '.passed and .ok == $n' "/tmp/$1.json" >/dev/null
}

ktap_header
if is_ext; then
	ktap_plan 7
	check "routes_through_node0" through 0
	barrier ready
	long long4 "$GLOBAL_IP"
	L4=$!
	long long6 "$GLOBAL_IP6"
	L6=$!
	check "all_established" busywait 60000 established
	check "node0_killed" killvm node0
	check "routes_through_node1" through 1
	barrier rerouted
	wait "$L4"
	wait "$L6"
	check "long_ipv4_intact" all_done long4 10
	check "long_ipv6_intact" all_done long6 10
	flowbench connect "$GLOBAL_IP" 80 --conns 20 -j >/tmp/after4.json
	flowbench connect "$GLOBAL_IP6" 80 --conns 20 -j >/tmp/after6.json
	all_done after4 20 && all_done after6 20
	NEW_FAILED=$?
	barrier finished
	ktap_result "new_connections_through_node1" "${NEW_FAILED:-0}"
	ktap_finish
fi

ensure_pass "global_setup" global_setup
if [ "$ME" -ge 2 ]; then
	ensure_pass "serve_port_80" flowbench_serve 80 "node$ME"
	ensure_pass "listeners_published" wait_published -ge 2
fi
barrier ready
# node0 is killed before it gets here
barrier rerouted
case $ME in
1)
	ktap_plan 2
	barrier finished
	info "gw counters: $(ethtool -S shmg0 | grep ' gw_' | tr -s ' \n' ' ')"
	check "adopted_from_dead_gateway" [ "$(gstat gw_flows_adopted)" -ge 1 ]
	check "no_tx_errors" [ "$(gstat gw_tx_errors)" = 0 ]
	;;
*)
	ktap_plan 2
	# what a routing daemon would do: node0 is gone
	check "replies_through_node1" routes_out_via 1
	barrier finished
	check "server_stops_cleanly" flowbench_stop
	;;
esac
ktap_finish
