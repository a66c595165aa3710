#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# nodes: 2
# timeout: 180
# cluster-args: --external
# checker-lane: skip ext and node0 over virtio-net only; test_global and test_global_fail route ext's traffic through node0 on this lane
#
# qemu/cluster --external: ext (no ivshmem, no shmnic) and node0 ping each
# other over the socket-backed virtio-net link, IPv4 and IPv6, with the
# fixed MACs; ext routes the global prefixes through node0; node0 and node1
# still reach each other over virtio-net (node0's eth1, node1's eth0) and
# over shml0; the barriers wait for ext (it arrives 3 s late at one).
. "${SHMNIC_LIB:-$(dirname "$0")/lib.sh}"
require_external

# route_via DST GW: the route to DST goes through GW on eth0.
route_via() {
	ip route get "$1" 2>/dev/null | grep -q "via $2 dev eth0"
}

neigh_mac() { # ADDR DEV
	ip neigh show "$1" dev "$2" | sed -n 's/.*lladdr \([^ ]*\).*/\1/p'
}

ext_env_ok() {
	[ "$SHMNIC_NODE_ID" = -1 ] && [ "$SHMNIC_VM" = ext ] && [ "$SHMNIC_LOADED" = 0 ] &&
		[ "$SHMNIC_NODES" = 2 ] && [ "$(hostname)" = ext ]
}

# no shml0, no shmnic module, no ivshmem PCI device (1af4:1110)
no_shmnic() {
	[ ! -e /sys/class/net/shml0 ] && [ ! -e /sys/module/shmnic ] &&
		! grep -qx 0x1110 /sys/bus/pci/devices/*/device
}

ktap_header
barrier start
if is_ext; then
	ktap_plan 8
	check "ext_env" ext_env_ok
	check "ext_no_shmnic_no_ivshmem" no_shmnic
	check "ext_eth0_mac" [ "$(cat /sys/class/net/eth0/address)" = 52:54:00:31:00:02 ]
	busywait 10000 ping_ok "$GW_IP"
	check "ping_node0_ipv4" ping_ok "$GW_IP" 3
	busywait 10000 ping_ok "$GW_IP6"
	check "ping_node0_ipv6" ping_ok "$GW_IP6" 3
	check "node0_mac" [ "$(neigh_mac "$GW_IP" eth0)" = 52:54:00:31:00:01 ]
	check "route_global_ipv4" route_via "$GLOBAL_IP" "$GW_IP"
	check "route_global_ipv6" route_via "$GLOBAL_IP6" "$GW_IP6"
	# the nodes must still be waiting for us after 3 s
	sleep 3
	barrier late
elif [ "$ME" = 0 ]; then
	ktap_plan 10
	check "eth0_is_ext_link" [ "$(cat /sys/class/net/eth0/address)" = 52:54:00:31:00:01 ]
	check "eth1_is_node1_link" [ "$(cat /sys/class/net/eth1/address)" = 52:54:00:20:00:00 ]
	busywait 10000 ping_ok "$EXT_IP"
	check "ping_ext_ipv4" ping_ok "$EXT_IP" 3
	busywait 10000 ping_ok "$EXT_IP6"
	check "ping_ext_ipv6" ping_ok "$EXT_IP6" 3
	check "ext_mac" [ "$(neigh_mac "$EXT_IP" eth0)" = 52:54:00:31:00:02 ]
	busywait 10000 ping_ok "$(vip_of 1)"
	check "virtio_node1_ipv4" ping_ok "$(vip_of 1)" 3
	check "virtio_node1_ipv6" ping_ok "$(vip6_of 1)" 3
	check "virtio_node1_via_eth1" sh -c "ip route get $(vip_of 1) | grep -q 'dev eth1'"
	check "shml0_node1" ping_ok "$(ip_of 1)" 3
	barrier late
	check "barrier_waited_for_ext" [ -e /host/barrier/late/ext ]
else
	ktap_plan 4
	check "eth0_is_node0_link" [ "$(cat /sys/class/net/eth0/address)" = "52:54:00:20:00:0$ME" ]
	busywait 10000 ping_ok "$(vip_of 0)"
	check "virtio_node0_ipv4" ping_ok "$(vip_of 0)" 3
	check "shml0_node0" ping_ok "$(ip_of 0)" 3
	barrier late
	check "barrier_waited_for_ext" [ -e /host/barrier/late/ext ]
fi
barrier done
ktap_finish
