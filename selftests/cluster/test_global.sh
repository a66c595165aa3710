#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# nodes: 4
# timeout: 360
# cluster-args: --external
#
# The global network's user story: every node carries 10.99.0.1 and
# fd00:99::1 on shmg0 (GLOBAL); node1 and node2 serve port 80 (flowbench,
# TCP and UDP), node0 is the gateway, node3 serves nothing. From ext:
# 100 TCP connections to each global address complete with their data
# intact, spread over node1 and node2 (each at least 30); a persistent
# connection is served start to end by one node; UDP flows stick to one
# node; a port nobody listens on gets no answer (dropped and counted) and
# the gateway keeps working. node0's flow table and counters say the same,
# and shmnicctl monitor shows the flows as they are made. node1 and node2
# publish their listeners before ext starts: node0 sends every one of
# those new flows without a query. Then node3 publishes a TCP listener on
# port 80 it does not have (shmnic-scribble --publish, run on the host):
# of 30 connections the gateway sends some to node3, which hands their SYN
# back, and all 30 are served by node1 and node2; then node3 publishes two
# junk entries, which node0 ignores and counts, and 20 connections work;
# then a listener opened and closed on node3 replaces its page and empties
# it again. With
# "shmnicctl device set policy rr" on the gateway, 20 connections one after another
# alternate between node1 and node2, and a TCP segment of no connection (a
# late ACK, a FIN, a RST, a SYN+ACK from flowbench stray) takes no turn and
# gets no flow entry: the gateway's own stack answers it with a reset
# (gw_no_conn). A connection held open from ext keeps an established entry
# in the flow table while the nodes read it.
. "${SHMNIC_LIB:-$(dirname "$0")/lib.sh}"
require_external
require_nodes 4

# one_server FILE: flowbench rr's JSON: passed, one server, node1 or node2.
one_server() {
	jq -e '.passed and (.servers | keys | length) == 1 and
		((.servers | keys) - ["node1", "node2"] | length) == 0' "$1" >/dev/null
}

# sticky FILE: flowbench udp's JSON: every datagram answered, no flow
# answered by two nodes, only node1 and node2.
sticky() {
	jq -e '.passed and .lost == 0 and .non_sticky_flows == 0 and
		((.servers | keys) - ["node1", "node2"] | length) == 0' "$1" >/dev/null
}

# unserved ADDR: a connection to port 81 (nobody listens) fails within its
# 2 s timeout and the client does not hang.
unserved() {
	_t0=$(date +%s)
	flowbench connect "$1" 81 --conns 1 --timeout-ms 2000 -j >/tmp/unserved.json
	_rc=$?
	_t1=$(date +%s)
	info "port 81 on $1: rc $_rc in $((_t1 - _t0)) s, $(jq -c .failures /tmp/unserved.json)"
	[ "$_rc" != 0 ] && [ $((_t1 - _t0)) -le 5 ] &&
		jq -e '.ok == 0' /tmp/unserved.json >/dev/null
}

# flows_ok: node0's flow table (shmnicctl -j flow) has entries, all served
# by node1 or node2, for the global addresses, one established (ext holds
# a connection open).
flows_ok() {
	shmnicctl -j flow >/tmp/flows.json || return 1
	info "flows: $(jq length /tmp/flows.json) entries, by node: $(jq -c 'group_by(.node) | map({node: .[0].node, n: length})' /tmp/flows.json)"
	jq -e --arg g "$GLOBAL_IP" --arg g6 "$GLOBAL_IP6" 'any(.[]; .state == "established") and
		all(.[]; (.node == 1 or .node == 2) and
			(.daddr == $g or .daddr == $g6))' /tmp/flows.json >/dev/null
}

gstat() { stat_of "$1" shmg0; }

# served_by: the name of the node that serves one new connection to port 80.
served_by() {
	flowbench connect "$GLOBAL_IP" 80 --conns 1 -j | jq -r '.servers | keys | .[0] // "none"'
}

# strays_take_no_turn: with policy rr, a connection, then a stray segment
# of each kind, each followed by a connection: consecutive connections go
# to different nodes, and every stray but the RST is answered with a RST.
strays_take_no_turn() {
	_prev=$(served_by)
	for _k in ack fin rst synack; do
		# a RST gets no answer: 1 s shows it; a reset may take longer
		_want=rst
		_ms=3000
		[ "$_k" = rst ] && _want=none && _ms=1000
		flowbench stray "$GLOBAL_IP" 80 --kind "$_k" --timeout-ms "$_ms" -j >"/tmp/stray_$_k.json" || return 1
		_now=$(served_by)
		info "stray $_k: $(cat "/tmp/stray_$_k.json"), connections around it: $_prev, $_now"
		jq -e --arg w "$_want" '.reply == $w' "/tmp/stray_$_k.json" >/dev/null || return 1
		[ "$_now" != none ] && [ "$_now" != "$_prev" ] || return 1
		_prev=$_now
	done
}

# only_node1_node2 FILE N: flowbench connect's JSON: all N ok, only node1
# and node2 answered.
only_node1_node2() {
	jq -e --argjson n "$2" '.passed and .ok == $n and
		((.servers | keys) - ["node1", "node2"] | length) == 0' "$1" >/dev/null
}

# no_stray_flows: no flow entry from a port flowbench stray uses (61000 and
# above; ext's own connections come from the ephemeral range below).
no_stray_flows() {
	shmnicctl -j flow | jq -e 'all(.[]; .sport < 61000)' >/dev/null
}

ktap_header
if is_ext; then
	ktap_plan 14
	barrier ready
	connect_spread "tcp_100_ipv4" "$GLOBAL_IP" 100 node1 node2
	connect_spread "tcp_100_ipv6" "$GLOBAL_IP6" 100 node1 node2
	for a in "$GLOBAL_IP" "$GLOBAL_IP6"; do
		flowbench rr "$a" 80 --requests 200 --size 1000 -j >/tmp/rr.json
		info "rr $a: $(jq -c '{completed, servers, requests_per_s, error}' /tmp/rr.json)"
		check "persistent_one_node_$a" one_server /tmp/rr.json
	done
	for a in "$GLOBAL_IP" "$GLOBAL_IP6"; do
		flowbench udp "$a" 80 --flows 20 --packets 5 -j >/tmp/udp.json
		info "udp $a: $(jq -c '{answered, lost, non_sticky_flows, servers}' /tmp/udp.json)"
		check "udp_sticky_$a" sticky /tmp/udp.json
	done
	check "unserved_port_ipv4" unserved "$GLOBAL_IP"
	check "unserved_port_ipv6" unserved "$GLOBAL_IP6"
	flowbench connect "$GLOBAL_IP" 80 --conns 10 -j >/tmp/after.json
	check "gateway_works_after" jq -e '.passed and .ok == 10' /tmp/after.json
	barrier counted
	barrier fake_listener
	flowbench connect "$GLOBAL_IP" 80 --conns 30 -j >/tmp/handback.json
	info "node3 publishes a listener it does not have: $(jq -c '{ok, servers}' /tmp/handback.json)"
	check "handed_back_flows_served" only_node1_node2 /tmp/handback.json 30
	barrier junk_listener
	flowbench connect "$GLOBAL_IP6" 80 --conns 20 -j >/tmp/junk.json
	info "node3 publishes junk: $(jq -c '{ok, servers}' /tmp/junk.json)"
	check "junk_listeners_ignored" only_node1_node2 /tmp/junk.json 20
	barrier page_fresh
	barrier policy_rr
	flowbench connect "$GLOBAL_IP" 80 --conns 20 -j >/tmp/rr_policy.json
	info "policy rr: $(jq -c '{ok, servers}' /tmp/rr_policy.json)"
	check "policy_rr_alternates" jq -e '.passed and .servers.node1 == 10 and .servers.node2 == 10' /tmp/rr_policy.json
	check "strays_take_no_turn" strays_take_no_turn
	# held open (established: 300 s) while the nodes read the flow table
	sleep 600 | socat -u - "TCP:$GLOBAL_IP:80" &
	HELD=$!
	check "held_connection" busywait 5000 sh -c "netstat -tn 2>/dev/null | grep -q '$GLOBAL_IP:80 *ESTABLISHED'"
	barrier traffic_done
	barrier checked
	kill "$HELD"
	ktap_finish
fi

ensure_pass "global_setup" global_setup
case $ME in
0)
	shmnicctl -j monitor >/tmp/monitor.json 2>/tmp/monitor.err &
	MONITOR=$!
	;;
1 | 2)
	ensure_pass "serve_port_80" flowbench_serve 80 "node$ME" --udp
	# TCP and UDP, IPv4 and IPv6 (one socket on ::)
	ensure_pass "listeners_published" wait_published -ge 4
	;;
esac
barrier ready
barrier counted
if [ "$ME" = 0 ]; then
	NEW_FLOWS=$(gstat gw_flows_new)
	PUBLISHED=$(gstat gw_published_dispatches)
	info "before node3 lies: $NEW_FLOWS new flows, $PUBLISHED sent by the published listeners"
fi
[ "$ME" = 3 ] && ensure_pass "publish_fake_listener" hostscribble start --publish 3,tcp,80
barrier fake_listener
[ "$ME" = 3 ] && ensure_pass "publish_junk" hostscribble start --publish 3,junk,80
barrier junk_listener
if [ "$ME" = 3 ]; then
	# Its own listener (socat: IPv4 only) replaces the page the host
	# wrote, and closing it empties the page again.
	socat TCP-LISTEN:82,reuseaddr - >/dev/null 2>&1 &
	LISTENER=$!
	wait_published -eq 1
	OWN=$?
	kill "$LISTENER"
	wait "$LISTENER" 2>/dev/null
	wait_published -eq 0
	CLOSED=$?
fi
barrier page_fresh
[ "$ME" = 0 ] && ensure_pass "policy rr" shmnicctl device set policy rr
barrier policy_rr
barrier traffic_done
case $ME in
0)
	ktap_plan 13
	shmnicctl device set policy hash
	check "new_flows_without_query" test "$NEW_FLOWS" -ge 200 -a "$PUBLISHED" = "$NEW_FLOWS"
	check "handbacks_received" [ "$(gstat gw_handbacks)" -ge 1 ]
	check "junk_counted" [ "$(gstat gw_published_bad)" -ge 2 ]
	check "policy_hash_again" sh -c "shmnicctl -j region | jq -e '.policy == \"hash\"' >/dev/null"
	check "flows_listed" flows_ok
	kill "$MONITOR"
	info "monitor: $(jq -s -c 'group_by(.flow) | map({(.[0].flow // "node"): length}) | add' /tmp/monitor.json)"
	check "flow_events" jq -s -e '[.[] | select(.flow == "new")] | length >= 250' /tmp/monitor.json
	check "nodes_all_up" sh -c "shmnicctl -j node | jq -e '[.[] | select(.state == \"up\")] | length == 4' >/dev/null"
	info "gw counters: $(ethtool -S shmg0 | grep ' gw_' | tr -s ' \n' ' ')"
	check "gw_forwarded" [ "$(gstat gw_forwarded)" -ge 400 ]
	check "gw_no_server_counted" [ "$(gstat gw_no_server)" -ge 2 ]
	# answers after the 50 ms deadline count too
	check "gw_queries_answered" [ $(($(gstat gw_answers) * 100)) -ge $(($(gstat gw_queries) * 95)) ]
	check "no_tx_errors" [ "$(gstat gw_tx_errors)" = 0 ]
	check "gw_no_conn_counted" [ "$(gstat gw_no_conn)" -ge 4 ]
	check "no_stray_flows" no_stray_flows
	;;
1 | 2)
	ktap_plan 2
	check "answered_queries" [ "$(gstat gw_queries_answered)" -gt 0 ]
	check "server_stops_cleanly" flowbench_stop
	;;
*)
	ktap_plan 5
	check "handed_back" [ "$(gstat gw_handed_back)" -ge 1 ]
	ktap_result "own_listener_published" "$OWN"
	ktap_result "closed_listener_unpublished" "$CLOSED"
	# node3 serves nothing: it answers queries, gets no flow.
	check "answered_queries" [ "$(gstat gw_queries_answered)" -gt 0 ]
	# and it reads the gateway's part of the flow table as node0 does
	check "sees_gateway_flows" sh -c "shmnicctl -j flow | jq -e 'length > 0 and all(.[]; .gateway == 0 and (.node == 1 or .node == 2))' >/dev/null"
	;;
esac
barrier checked
ktap_finish
