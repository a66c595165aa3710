#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# nodes: 4
# timeout: 600
# cluster-args: --gateways 2 --ext-link dgram
# checker-lane: skip BIRD's BFD and OSPF timers flap on debug guests under TCG (Documentation/testing.rst); 6.1 lane only
#
# A gateway dies under long connections and comes back, and no connection
# is lost. node2 and node3 serve port 80; ext holds 20 connections to the
# GLOBAL addresses (10 IPv4, 10 IPv6), each 48 round trips of 64 KiB paced
# at 32 KiB/s (some 100 s), every byte echoed and compared. The load is
# light on purpose: 20 connections at 512 KB/s kept every VM's CPU busy
# under TCG, and ext's BIRD then missed BFD's 1 s detection time for the
# live gateway too (all four sessions expired at once, ext had no route
# for 5 s). Once they have run 3 s, node0 is killed (killvm). node1
# carries everything while node0 is away and finds the flows node0 carried
# in node0's part of the flow table (it adopts them: gw_flows_adopted); a
# new connection from ext succeeds within 3 s of the kill, IPv4 and IPv6.
# Once those 3 s have passed, node0 is booted again (killvm --restart; the
# dgram ext link survives it). node0 comes back, OSPF gives it its share
# of the flows again, and it finds them in node1's part. All 20 complete
# intact.
. "${SHMNIC_LIB:-$(dirname "$0")/lib.sh}"
require_external
require_nodes 4

gstat() { stat_of "$1" shmg0; }

# long NAME ADDR: 10 paced connections in the background, JSON in
# /tmp/NAME.json.
long() {
	flowbench connect "$2" 80 --conns 10 --parallel 10 --size 65536 \
		--requests 48 --rate 32768 --timeout-ms 300000 -j >"/tmp/$1.json" &
}

# all_done NAME: the 10 connections of long NAME completed intact.
all_done() {
	info "$1: $(jq -c '{ok, failed, servers, failures, first_error, elapsed_s}' "/tmp/$1.json")"
	jq -e '.passed and .ok == 10' "/tmp/$1.json" >/dev/null
}

now() { cut -d' ' -f1 /proc/uptime; }

# probe NAME ADDR: in the background, 30 new connections, one every 300 ms
# (each given 300 ms: a lost SYN is not waited for); --interval-ms keeps
# attempts that fail at once (no route while the routes change) from
# using up all 30 within the window. JSON in /tmp/NAME.json, its start
# (uptime) in /tmp/NAME.t.
probe() {
	now >"/tmp/$1.t"
	flowbench connect "$2" 80 --conns 30 --timeout-ms 300 --interval-ms 300 -j \
		>"/tmp/$1.json" &
}

# first_within_3s NAME T0: probe NAME's first connection succeeded within
# 3 s of T0 (uptime); says when.
first_within_3s() {
	_ms=$(jq -r --argjson t0 "$2" --argjson t "$(cat "/tmp/$1.t")" \
		'if .first_ok_s == null then "none" else (($t - $t0 + .first_ok_s) * 1000 | floor) end' \
		"/tmp/$1.json")
	info "$1: first new connection $_ms ms after the kill; $(jq -c '{ok, failures, first_error, elapsed_s}' "/tmp/$1.json")"
	[ "$_ms" != none ] && [ "$_ms" -le 3000 ]
}

ktap_header
if is_ext; then
	ktap_plan 5
	barrier ready
	busywait 10000 sh -c "ip route show $GLOBAL_IP | grep -c 'via ' | grep -qx 2"
	long long4 "$GLOBAL_IP"
	l4=$!
	long long6 "$GLOBAL_IP6"
	l6=$!
	sleep 3
	t_ask=$(now)
	killvm node0
	# killvm returns once node0's QEMU is dead: the kill
	t0=$(now)
	probe new4 "$GLOBAL_IP"
	p4=$!
	probe new6 "$GLOBAL_IP6"
	p6=$!
	info "killvm took $(awk "BEGIN { printf \"%d\", ($t0 - $t_ask) * 1000 }") ms"
	# node0 boots again once the 3 s the new connections are given have
	# passed. A dead gateway's host does not take CPU from the survivors;
	# here all VMs share two cores, and a VM booting within those 3 s
	# slowed the survivors' BFD, OSPF and TCP.
	sleep "$(awk "BEGIN { d = $t0 + 3.1 - $(now); printf \"%.2f\", (d > 0 ? d : 0) }")"
	killvm --restart node0
	info "node0 restarted $(awk "BEGIN { print $(now) - $t0 }") s after the kill"
	wait "$p4"
	wait "$p6"
	check "new_conn_within_3s_ipv4" first_within_3s new4 "$t0"
	check "new_conn_within_3s_ipv6" first_within_3s new6 "$t0"
	# node0 back in ext's routes: it gets flows again
	check "node0_back" busywait 60000 sh -c "ip route show $GLOBAL_IP | grep -c 'via ' | grep -qx 2"
	info "node0 back in the routes $(awk "BEGIN { print $(now) - $t0 }") s after the kill"
	wait "$l4"
	wait "$l6"
	check "long_ipv4_intact" all_done long4
	check "long_ipv6_intact" all_done long6
	barrier finished
	ktap_finish
fi

ensure_pass "global_setup" global_setup
if [ "$ME" -ge 2 ]; then
	ensure_pass "serve_port_80" flowbench_serve 80 "node$ME"
	ensure_pass "listeners_published" wait_published -ge 2
fi
if [ "$ME" = 0 ] && [ "${SHMNIC_RESTARTED:-0}" = 1 ]; then
	# node0 again: it finds the flows ECMP hands back to it in node1's part
	ktap_plan 1
	barrier finished
	info "gw counters: $(ethtool -S shmg0 | grep ' gw_' | tr -s ' \n' ' ')"
	check "adopted_node1s_flows" [ "$(gstat gw_flows_adopted)" -ge 1 ]
	ktap_finish
fi
barrier ready
barrier finished
case $ME in
0) ;;	# killed before this
1)
	ktap_plan 2
	info "gw counters: $(ethtool -S shmg0 | grep ' gw_' | tr -s ' \n' ' ')"
	check "adopted_node0s_flows" [ "$(gstat gw_flows_adopted)" -ge 1 ]
	check "no_tx_errors" [ "$(gstat gw_tx_errors)" = 0 ]
	;;
*)
	ktap_plan 1
	check "server_stops_cleanly" flowbench_stop
	;;
esac
ktap_finish
