#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# nodes: 4
# timeout: 420
# cluster-args: --gateways 2
# checker-lane: skip BIRD's BFD and OSPF timers flap on debug guests under TCG (Documentation/testing.rst); 6.1 lane only
#
# Two gateways, routed by BIRD (qemu/cluster --gateways 2, the configs of
# Documentation/bird/): once the nodes have their GLOBAL addresses, ext
# reaches them through node0 and node1 at equal cost (two next hops each,
# within 10 s), and every node has
# its way out from OSPF, over shml0, with the GLOBAL source and no static
# route. node2 and node3 serve port 80. From ext, 100 TCP connections to
# each global address complete, spread over node2 and node3 (each at least
# 30), and both gateways dispatch some of each family (at least 10 IPv4
# and 10 IPv6 connections each: ECMP hashes their ports).
# Each gateway sends every new flow by the listeners node2 and node3
# publish, without a query. The gateways agree: the same 10 new TCP flows
# per address (flowbench
# stray SYNs from fixed ports, pinned to a gateway by a host route with
# ext's link-0 source), first through node0, then through node1, are each
# placed on the same node by both (Maglev, policy hash; shmnicctl monitor
# on each), every SYN answered; node1 decides them itself (the RST ext
# sends back for each SYN+ACK removed node0's entry: nothing to adopt).
# Then BIRD dies on node1: ext drops node1's next hop (BFD) within 5 s,
# and 50 more connections to each address all complete through node0.
. "${SHMNIC_LIB:-$(dirname "$0")/lib.sh}"
require_external
require_nodes 4

# hops PREFIX: the number of next hops of ext's route to PREFIX (one line
# each, whether the kernel shows one multipath route or several routes).
hops() {
	case $1 in
	*:*) ip -6 route show "$1" | grep -c 'via ' ;;
	*) ip route show "$1" | grep -c 'via ' ;;
	esac
}

two_hops() { [ "$(hops "$1")" = 2 ]; }

# single_hop: ext's routes to both global prefixes have only node0's next
# hop left.
single_hop() {
	[ "$(hops "$GLOBAL_IP")" = 1 ] && [ "$(hops "$GLOBAL_IP6")" = 1 ] &&
		ip route show "$GLOBAL_IP" | grep -q "via 172.31.0.1 dev eth0" &&
		ip -6 route show "$GLOBAL_IP6" | grep -q "via fe80:.* dev eth0"
}

# ospf_way_out: this node's routes to ext's links come from BIRD, over
# shml0, from the GLOBAL address; no static route leads out.
ospf_way_out() {
	ip route show 172.31.0.0/24 | grep -q "proto bird .*src $GLOBAL_IP" &&
		ip -6 route show fd00:31::/64 | grep -q "proto bird .*src $GLOBAL_IP6" &&
		! ip route | grep -v 'proto bird' | grep -q '^172\.31\.' &&
		route_from_global "$EXT_IP" && route_from_global "$EXT_IP6"
}

gstat() { stat_of "$1" shmg0; }

# syns_through K: SYNs from ports 62001-62010 to each GLOBAL address,
# through gateway K only; every one answered with a SYN+ACK.
syns_through() {
	ip route replace "$GLOBAL_IP/32" via "172.31.$1.1" dev "eth$1" src "$EXT_IP" metric 1 &&
		ip -6 route replace "$GLOBAL_IP6/128" via "fd00:31:$1::1" dev "eth$1" src "$EXT_IP6" metric 1 ||
		return 1
	_ok=0
	for _p in 1 2 3 4 5 6 7 8 9 10; do
		for _a in "$GLOBAL_IP" "$GLOBAL_IP6"; do
			flowbench stray "$_a" 80 --kind syn --sport $((62000 + _p)) -j >>"/tmp/syns.$1.json" &&
				_ok=$((_ok + 1))
		done
	done
	ip route del "$GLOBAL_IP/32" metric 1
	ip -6 route del "$GLOBAL_IP6/128" metric 1
	info "through node$1: $(jq -s -c 'group_by(.reply) | map({(.[0].reply): length}) | add' "/tmp/syns.$1.json")"
	[ "$_ok" = 20 ] && jq -s -e 'length == 20 and all(.[]; .reply == "syn,ack")' "/tmp/syns.$1.json" >/dev/null
}

# placed: this gateway's flow events for the stray SYNs, "addr port node"
# per line, sorted, into $SHMNIC_OUT/placed.N.
placed() {
	jq -r 'select(.flow == "new" and .dport == 80 and .sport > 62000 and .sport <= 62010) |
		"\(.saddr) \(.sport) \(.node)"' /tmp/monitor.json | sort >"$SHMNIC_OUT/placed.$ME"
}

# carried FAMILY: the number of ext's connections (not the stray SYNs) of
# FAMILY (4 or 6) this gateway recorded as new flows.
carried() {
	jq -r 'select(.flow == "new" and .dport == 80 and (.sport <= 62000 or .sport > 62010)) |
		.saddr' /tmp/monitor.json | awk -v f="$1" '(f == 6) == /:/' | wc -l
}

# gateways_agree: node0 and node1 placed the same 20 flows on the same
# nodes.
gateways_agree() {
	info "node0 placed: $(awk '{ n[$3]++ } END { for (k in n) printf "node%s:%d ", k, n[k] }' "$SHMNIC_OUT/placed.0")"
	[ "$(wc -l <"$SHMNIC_OUT/placed.0")" = 20 ] &&
		cmp -s "$SHMNIC_OUT/placed.0" "$SHMNIC_OUT/placed.1"
}

ktap_header
if is_ext; then
	ktap_plan 10
	barrier ready
	check "ecmp_ipv4" busywait 10000 two_hops "$GLOBAL_IP"
	check "ecmp_ipv6" busywait 10000 two_hops "$GLOBAL_IP6"
	info "routes: $(ip route show "$GLOBAL_IP" | tr -s ' \n' ' ')"
	connect_spread "tcp_100_ipv4" "$GLOBAL_IP" 100 node2 node3
	connect_spread "tcp_100_ipv6" "$GLOBAL_IP6" 100 node2 node3
	check "syns_through_node0" syns_through 0
	check "syns_through_node1" syns_through 1
	barrier traffic_done
	barrier placed
	barrier bird_killed
	t0=$(cut -d' ' -f1 /proc/uptime)
	check "bird_death_withdraws_node1" busywait 5000 single_hop
	info "node1's next hop gone $(awk "BEGIN { print $(cut -d' ' -f1 /proc/uptime) - $t0 }") s after its BIRD died: $(ip route show "$GLOBAL_IP" | tr -s ' \n' ' ')"
	connect_spread "tcp_50_ipv4_one_gateway" "$GLOBAL_IP" 50 node2 node3
	connect_spread "tcp_50_ipv6_one_gateway" "$GLOBAL_IP6" 50 node2 node3
	barrier finished
	ktap_finish
fi

ensure_pass "global_setup" global_setup
if [ "$ME" -ge 2 ]; then
	ensure_pass "serve_port_80" flowbench_serve 80 "node$ME"
	ensure_pass "listeners_published" wait_published -ge 2
fi
if [ "$ME" -lt 2 ]; then
	shmnicctl -j monitor >/tmp/monitor.json 2>/tmp/monitor.err &
	MONITOR=$!
fi
barrier ready
barrier traffic_done
case $ME in
0 | 1)
	ktap_plan 6
	kill "$MONITOR"
	placed
	info "gw counters: $(ethtool -S shmg0 | grep ' gw_' | tr -s ' \n' ' ')"
	c4=$(carried 4)
	c6=$(carried 6)
	info "carried $c4 IPv4 and $c6 IPv6 connections"
	# ECMP hashes each connection's ports: both families on both gateways
	check "carried_ipv4_flows" [ "$c4" -ge 10 ]
	check "carried_ipv6_flows" [ "$c6" -ge 10 ]
	# every new flow by the listeners node2 and node3 publish, no query
	check "new_flows_without_query" [ "$(gstat gw_published_dispatches)" = "$(gstat gw_flows_new)" ]
	check "no_tx_errors" [ "$(gstat gw_tx_errors)" = 0 ]
	# nothing moved from a gateway to another yet: each decided alone
	check "adopted_nothing" [ "$(gstat gw_flows_adopted)" = 0 ]
	barrier placed
	if [ "$ME" = 0 ]; then
		check "gateways_agree" gateways_agree
	else
		check "placed_20" [ "$(wc -l <"$SHMNIC_OUT/placed.1")" = 20 ]
	fi
	# node1's BIRD dies: its BFD sessions stop, the others withdraw it
	[ "$ME" = 1 ] && killall -KILL bird
	barrier bird_killed
	;;
*)
	ktap_plan 2
	check "ospf_way_out" ospf_way_out
	barrier placed
	barrier bird_killed
	;;
esac
barrier finished
[ "$ME" -ge 2 ] && check "server_stops_cleanly" flowbench_stop
ktap_finish
