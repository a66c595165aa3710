#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# nodes: 2
# timeout: 240
# cluster-args: --links dgram,stream,socket,l2tpv3,tap
# checker-lane: skip the harness' virtio-net links, which make bench measures next to shml0; no path of shmnic
#
# The harness joins node0 and node1 by one virtio-net link per QEMU
# backend that make bench measures shml0 against (qemu/cluster --links):
# each comes up as ethK with its MAC and addresses, carries IPv4 and IPv6
# pings both ways, and a 4 MiB TCP transfer from node0 to node1 arrives
# intact (sha256). The tap link is the only one with the virtio-net
# header: the guest offers TSO on it, and on no other.
. "${SHMNIC_LIB:-$(dirname "$0")/lib.sh}"
require_nodes 2
ktap_header

KINDS=${SHMNIC_LINKS:-dgram}
# the harness gave the links this test's header asks for
ensure_pass "links_as_asked" [ "$KINDS" = "dgram stream socket l2tpv3 tap" ]
set -- $KINDS
N=$#
PORT=7500

# dev_of K: link K's device (eth0 is link 0: no --external here).
dev_of() { echo "eth$1"; }
peer=$((1 - ME))

ktap_plan $((N * 5))
[ "$ME" = 0 ] && file_make 4 links
barrier ready
k=0
for kind in $KINDS; do
	dev=$(dev_of $k)
	check "link${k}_${kind}_mac" sh -c "[ \"\$(cat /sys/class/net/$dev/address)\" = 52:54:00:2$k:00:0$ME ]"
	busywait 10000 ping_ok "10.2$k.0.$((peer + 1))"
	check "link${k}_${kind}_ping" ping_ok "10.2$k.0.$((peer + 1))" 3
	check "link${k}_${kind}_ping6" busywait 10000 ping_ok "fd00:2$k::$((peer + 1))"
	tso=$(ethtool -k "$dev" | awk '$1 == "tcp-segmentation-offload:" { print $2 }')
	info "$dev ($kind): tcp-segmentation-offload $tso"
	if [ "$kind" = tap ]; then
		check "link${k}_${kind}_tso_offered" [ "$tso" = on ]
	else
		check "link${k}_${kind}_no_tso" [ "$tso" = off ]
	fi
	k=$((k + 1))
done
barrier pinged

# 4 MiB over each link, node0 -> node1
k=0
for kind in $KINDS; do
	if [ "$ME" = 1 ]; then
		file_listen $((PORT + k))
		barrier "listening-$k"
		barrier "sent-$k"
		file_check "transfer_link${k}_${kind}" 4 links
	else
		barrier "listening-$k"
		socat -u OPEN:/tmp/file "TCP:10.2$k.0.2:$((PORT + k)),connect-timeout=10" ||
			info "link $k ($kind): socat failed"
		barrier "sent-$k"
		ktap_skip "transfer_link${k}_${kind}" "node1 checks it"
	fi
	k=$((k + 1))
done
barrier done
ktap_finish
