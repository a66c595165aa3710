#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# nodes: 3
# timeout: 180
# checker-lane: skip every other test pings over shml0 (IPv4 and IPv6)
#
# Every node pings every other node over shml0, IPv4 and IPv6, and has the
# peer's shmnic MAC in its neighbour table afterwards.
. "${SHMNIC_LIB:-$(dirname "$0")/lib.sh}"
require_shml0
require_nodes 2
ktap_header
ktap_plan $((3 * (NODES - 1)))

barrier start
for peer in $(other_nodes); do
	# the first answer may take a moment while the peers come up
	busywait 10000 ping_ok "$(ip_of "$peer")"
	check "ping_node${peer}_ipv4" ping_ok "$(ip_of "$peer")" 3
	busywait 10000 ping_ok "$(ip6_of "$peer")"
	check "ping_node${peer}_ipv6" ping_ok "$(ip6_of "$peer")" 3
	lladdr=$(ip neigh show "$(ip_of "$peer")" dev shml0 | sed -n 's/.*lladdr \([^ ]*\).*/\1/p')
	info "node$peer is at ${lladdr:-?}"
	check "neigh_node${peer}_mac" [ "$lladdr" = "$(mac_of "$peer")" ]
done
barrier done
ktap_finish
