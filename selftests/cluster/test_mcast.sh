#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# nodes: 4
# timeout: 300
#
# Multicast rings. node1 and node2 join 239.1.2.3 and ff05::1:3, node3 joins
# nothing; node0 sends to both groups: the datagrams reach exactly node1 and
# node2, over multicast rings (not the broadcast ring), and node3's rings and
# sockets see none of them. Then node0 sends to ten more groups at once, node1
# joined to all of them: there are more groups than rings, so some go over the
# broadcast ring (counted as overflow), node1 still gets every datagram, and
# node2, which did not join, drops the overflowed ones in the driver.
. "${SHMNIC_LIB:-$(dirname "$0")/lib.sh}"
require_shml0
require_nodes 4
ktap_header

G4=239.1.2.3
G6=ff05::1:3
COUNT=20
EXTRA=10	# more groups than the default 8 multicast rings

# recv4 PORT GROUP FILE / recv6: a socat receiver appending to FILE.
recv4() {
	socat -u "UDP4-RECV:$1,ip-add-membership=$2:shml0" "OPEN:$3,creat,append" &
}
recv6() {
	socat -u "UDP6-RECV:$1,ipv6-join-group=[$2]:shml0" "OPEN:$3,creat,append" &
}
lines() { [ -f "$1" ] && wc -l <"$1" || echo 0; }
joined() { ip maddr show dev shml0 | grep -q "$1"; }

case $ME in
0)
	ktap_plan 5
	ip route add 239.0.0.0/8 dev shml0
	ip -6 route add ff05::/16 dev shml0 table local metric 1
	barrier joined 60
	claims0=$(stat_of tx_mcast_claims)
	i=0
	while [ $i -lt $COUNT ]; do
		echo "v4 $i" | socat -u - "UDP4-DATAGRAM:$G4:5000,ip-multicast-if=$(ip_of 0)"
		echo "v6 $i" | socat -u - "UDP6-DATAGRAM:[$G6]:5001"
		i=$((i + 1))
	done
	mc_tx=$(stat_sum 'mcast[0-9]+_tx_packets')
	claims=$(($(stat_of tx_mcast_claims) - claims0))
	info "multicast ring frames sent $mc_tx, rings claimed $claims"
	check "two_groups_two_rings" [ "$claims" = 2 ]
	check "sent_on_multicast_rings" [ "$mc_tx" -ge $((2 * COUNT)) ]
	check "no_overflow_yet" [ "$(stat_of tx_mcast_overflow)" = 0 ]
	barrier sent 60
	barrier checked 60

	# All groups at once, each written every 2 s: an owner gives up a ring
	# nobody wrote on for 10 s, and a slow (debug) kernel starting one
	# socat after another would free rings faster than it fills them.
	g=1
	while [ $g -le $EXTRA ]; do
		for i in 0 1 2; do echo "g$g $i"; sleep 2; done |
			socat -u - "UDP4-DATAGRAM:239.1.3.$g:$((6000 + g)),ip-multicast-if=$(ip_of 0)" &
		g=$((g + 1))
	done
	wait
	over=$(stat_of tx_mcast_overflow)
	info "overflow frames $over"
	check "overflow_counted" [ "$over" -gt 0 ]
	check "every_ring_claimed" [ "$(stat_of tx_mcast_claims)" -ge 8 ]
	barrier sent_extra 60
	;;
1|2)
	ktap_plan 4
	recv4 5000 $G4 /tmp/mc4
	recv6 5001 $G6 /tmp/mc6
	if [ "$ME" = 1 ]; then
		g=1
		while [ $g -le $EXTRA ]; do
			recv4 $((6000 + g)) 239.1.3.$g /tmp/extra
			g=$((g + 1))
		done
	fi
	ensure_pass "joined 239.1.2.3" busywait 5000 joined 01:00:5e:01:02:03
	ensure_pass "joined ff05::1:3" busywait 5000 joined 33:33:00:01:00:03
	barrier joined 60
	barrier sent 60
	busywait 5000 sh -c "[ \$(wc -l </tmp/mc4) -ge $COUNT ] && [ \$(wc -l </tmp/mc6) -ge $COUNT ]"
	info "received $(lines /tmp/mc4) IPv4 and $(lines /tmp/mc6) IPv6 datagrams"
	check "ipv4_group_received" [ "$(sort -u /tmp/mc4 | wc -l)" = $COUNT ]
	check "ipv6_group_received" [ "$(sort -u /tmp/mc6 | wc -l)" = $COUNT ]
	mc_rx=$(stat_sum 'mcast[0-9]+_rx_packets')
	info "multicast ring frames received $mc_rx"
	check "received_on_multicast_rings" [ "$mc_rx" -ge $((2 * COUNT)) ]
	barrier checked 60
	filtered0=$(stat_of rx_mcast_filtered)
	barrier sent_extra 60
	if [ "$ME" = 1 ]; then
		busywait 5000 sh -c "[ \$(wc -l </tmp/extra) -ge $((3 * EXTRA)) ]"
		info "received $(lines /tmp/extra) of $((3 * EXTRA)) datagrams to $EXTRA groups"
		check "all_extra_groups_received" [ "$(sort -u /tmp/extra | wc -l)" = $((3 * EXTRA)) ]
	else
		sleep 1
		filtered=$(($(stat_of rx_mcast_filtered) - filtered0))
		info "dropped $filtered overflowed frames to groups not joined"
		check "overflow_filtered_by_driver" [ "$filtered" -gt 0 ]
	fi
	kill $(jobs -p) 2>/dev/null
	;;
3)
	ktap_plan 2
	# a socket on the ports, without joining: still nothing may arrive
	socat -u UDP4-RECV:5000 OPEN:/tmp/mc4,creat,append &
	socat -u UDP6-RECV:5001 OPEN:/tmp/mc6,creat,append &
	barrier joined 60
	barrier sent 60
	sleep 1
	mc_rx=$(stat_sum 'mcast[0-9]+_rx_packets')
	info "multicast ring frames received $mc_rx, datagrams $(lines /tmp/mc4) + $(lines /tmp/mc6)"
	check "not_joined_no_ring_frames" [ "$mc_rx" = 0 ]
	check "not_joined_no_datagrams" [ "$(($(lines /tmp/mc4) + $(lines /tmp/mc6)))" = 0 ]
	barrier checked 60
	barrier sent_extra 60
	kill $(jobs -p) 2>/dev/null
	;;
*)
	ktap_plan 0
	barrier joined 60
	barrier sent 60
	barrier checked 60
	barrier sent_extra 60
	;;
esac
ktap_finish
