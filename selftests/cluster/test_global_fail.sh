#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# nodes: 4
# timeout: 360
# cluster-args: --external
#
# The global network when servers and nodes go away. node1, node2 and
# node3 serve port 80 (TCP and UDP); node0 is the gateway.
# 1. ext opens 30 UDP flows (they stay in the flow table 30 s); node3 is
#    removed (rmmod): node0 purges its flows at once and keeps every
#    other flow as it was; new TCP connections and UDP flows go to node1
#    and node2 only, none fails.
# 2. node1's server is killed while ext opens connections: the
#    connections opened after that all go to node2, none fails.
# 3. The gateway's module is removed while ext opens connections, and
#    loaded again: no kernel complains, and once node0 is configured again
#    connections through it work (to node2).
. "${SHMNIC_LIB:-$(dirname "$0")/lib.sh}"
require_external
require_nodes 4

# only FILE NODES...: flowbench JSON: passed, and only node<N> of NODES
# answered.
only() {
	_f=$1
	shift
	_want=$(for n in "$@"; do printf '"node%s",' "$n"; done)
	jq -e "(.passed) and ((.servers | keys) - [${_want%,}] | length) == 0" "$_f" >/dev/null
}

# flow_keys FILE: the flows of shmnicctl -j flow FILE other than node3's,
# one line each.
flow_keys() {
	jq -r '.[] | select(.node != 3) | "\(.proto) \(.saddr) \(.sport) \(.node)"' "$1" | sort
}

# purged: node3's flows are gone and every other flow is still there.
purged() {
	shmnicctl -j flow >/tmp/after.json || return 1
	[ "$(jq '[.[] | select(.node == 3)] | length' /tmp/after.json)" = 0 ] || return 1
	flow_keys /tmp/after.json >/tmp/after.keys
	# flows added since (none expected) do not matter; none may be missing
	[ -z "$(comm -23 /tmp/before.keys /tmp/after.keys)" ]
}

gstat() { stat_of "$1" shmg0; }

ktap_header
if is_ext; then
	ktap_plan 7
	barrier ready
	flowbench udp "$GLOBAL_IP" 80 --flows 30 --packets 3 -j >/tmp/udp1.json
	info "udp before: $(jq -c '{answered, lost, servers}' /tmp/udp1.json)"
	check "udp_flows_on_three_nodes" only /tmp/udp1.json 1 2 3
	barrier flows_made
	barrier removing
	barrier node3_removed
	flowbench connect "$GLOBAL_IP" 80 --conns 30 --parallel 2 -j >/tmp/c2.json
	info "tcp after removal: $(jq -c '{ok, failed, servers}' /tmp/c2.json)"
	check "tcp_after_removal_node1_node2" only /tmp/c2.json 1 2
	flowbench udp "$GLOBAL_IP6" 80 --flows 10 --packets 3 -j >/tmp/udp2.json
	info "udp after removal: $(jq -c '{answered, lost, servers}' /tmp/udp2.json)"
	check "udp_after_removal_node1_node2" only /tmp/udp2.json 1 2
	# phase 2: node1's server dies while connections are being opened
	flowbench connect "$GLOBAL_IP" 80 --conns 150 --parallel 2 --timeout-ms 3000 -j \
		>/tmp/mid.json &
	mid=$!
	barrier kill_now
	barrier killed
	wait "$mid"
	info "during the kill: $(jq -c '{ok, failed, servers, failures}' /tmp/mid.json)"
	check "connections_during_kill_answered" jq -e '.ok > 0' /tmp/mid.json
	flowbench connect "$GLOBAL_IP" 80 --conns 40 --parallel 2 -j >/tmp/c3.json
	info "tcp after the kill: $(jq -c '{ok, failed, servers}' /tmp/c3.json)"
	check "tcp_after_kill_all_node2" only /tmp/c3.json 2
	flowbench connect "$GLOBAL_IP6" 80 --conns 20 --parallel 2 -j >/tmp/c4.json
	info "tcp6 after the kill: $(jq -c '{ok, failed, servers}' /tmp/c4.json)"
	check "tcp6_after_kill_all_node2" only /tmp/c4.json 2
	# phase 3: the gateway reloads under traffic
	flowbench connect "$GLOBAL_IP" 80 --conns 300 --parallel 2 --timeout-ms 2000 -j \
		>/tmp/reload.json &
	mid=$!
	barrier gw_reload
	barrier gw_back
	wait "$mid"
	info "during the reload: $(jq -c '{ok, failed, servers}' /tmp/reload.json)"
	busywait 10000 flowbench connect "$GLOBAL_IP" 80 --conns 1 --timeout-ms 1000 -j >/dev/null
	flowbench connect "$GLOBAL_IP" 80 --conns 20 --parallel 2 -j >/tmp/c5.json
	info "tcp after the gateway's reload: $(jq -c '{ok, failed, servers}' /tmp/c5.json)"
	check "tcp_after_gateway_reload" only /tmp/c5.json 2
	barrier done
	ktap_finish
fi

KO=/lib/modules/shmnic/shmnic.ko

# gw_reload: node0 pulls the module under traffic and configures it again.
gw_reload() {
	sleep 1
	rmmod shmnic || return 1
	insmod "$KO" || return 1
	ip link set shml0 up &&
		ip addr add "$(ip_of 0)/24" dev shml0 &&
		ip -6 addr add "$(ip6_of 0)/64" dev shml0 nodad &&
		global_setup
}

ensure_pass "global_setup" global_setup
[ "$ME" = 0 ] || ensure_pass "serve_port_80" flowbench_serve 80 "node$ME" --udp
barrier ready
barrier flows_made
case $ME in
0)
	ktap_plan 4
	shmnicctl -j flow >/tmp/before.json
	flow_keys /tmp/before.json >/tmp/before.keys
	info "flows before: $(jq -c 'group_by(.node) | map({node: .[0].node, n: length})' /tmp/before.json)"
	check "node3_has_flows" jq -e '[.[] | select(.node == 3)] | length > 0' /tmp/before.json >/dev/null
	barrier removing
	# marked down at once (BYE), purged within a heartbeat or two
	busywait 3000 purged
	info "flows after: $(jq -c 'group_by(.node) | map({node: .[0].node, n: length})' /tmp/after.json)"
	check "node3_flows_purged_others_kept" purged
	check "purge_counted" [ "$(gstat gw_flows_purged)" -gt 0 ]
	barrier node3_removed
	;;
3)
	ktap_plan 1
	barrier removing
	flowbench_stop
	check "rmmod" rmmod shmnic
	barrier node3_removed
	;;
*)
	ktap_plan 1
	barrier removing
	barrier node3_removed
	check "serving" [ -n "$FLOWBENCH_PID" ]
	;;
esac
barrier kill_now
if [ "$ME" = 1 ]; then
	sleep 1
	flowbench_stop
fi
barrier killed
barrier gw_reload
[ "$ME" = 0 ] && check "gateway_reloaded" gw_reload
barrier gw_back
barrier done
[ "$ME" = 3 ] || flowbench_stop
ktap_finish
