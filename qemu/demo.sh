#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Demo script run on every VM by qemu/demo (through qemu/cluster --run).
# Each section is written to $SHMNIC_OUT/<NN-name>/ (a title file and one
# file per node); qemu/demo prints them in order on the host.
. "${SHMNIC_LIB:-$(dirname "$0")/lib.sh}"
require_shml0

IPERF_TIME=${IPERF_TIME:-5}

# section NN-NAME TITLE: start a section; output goes to $SEC/$SHMNIC_VM
section() {
	SEC=$SHMNIC_OUT/$1
	mkdir -p "$SEC"
	[ "$ME" = 0 ] && echo "$2" >"$SEC/title"
	: >"$SEC/$SHMNIC_VM"
}

out() { cat >>"$SEC/$SHMNIC_VM"; }

# ping summary: "node0 -> node1 (10.10.0.2): 3/3 received, rtt min/avg/max = ..."
ping_line() { # PEER ADDR
	_o=$(ping -c 3 -i 0.2 -W 2 "$2" 2>&1)
	_rx=$(echo "$_o" | sed -n 's/.* \([0-9]*\) packets received.*/\1/p')
	_rtt=$(echo "$_o" | sed -n 's/^round-trip \(.*\)/\1/p')
	echo "$SHMNIC_VM -> node$1 ($2): ${_rx:-0}/3 received${_rtt:+, $_rtt}"
}

# iperf3 TCP client run, one line: "<Mbit/s> sender, <Mbit/s> receiver, N retransmits"
iperf_line() { # ADDR
	iperf3 -c "$1" -t "$IPERF_TIME" -J >/tmp/iperf.json 2>&1 || {
		echo "iperf3 to $1 failed: $(jq -r '.error // empty' /tmp/iperf.json 2>/dev/null)"
		return
	}
	jq -r '"\(.end.sum_sent.bits_per_second / 1e6 | floor) Mbit/s sent, \(.end.sum_received.bits_per_second / 1e6 | floor) Mbit/s received, \(.end.sum_sent.retransmits // 0) retransmits"' /tmp/iperf.json
}

section 01-link "ip -d link show shml0 (each node)"
{ ip -d link show shml0; ip -br addr show dev shml0; } | out
barrier link-done

section 02-ping "ping -c 3 between every pair, over shml0 (IPv4, then IPv6)"
for peer in $(other_nodes); do
	ping_line "$peer" "$(ip_of "$peer")"
done | out
for peer in $(other_nodes); do
	ping_line "$peer" "$(ip6_of "$peer")"
done | out
barrier ping-done

section 03-neigh "neighbours on shml0 after the pings, and the nodes each one knows (dmesg)"
{
	ip neigh show dev shml0 | sort
	dmesg | sed -n 's/.*shmnic [^ ]*: \(node [0-9]* up.*\)/\1/p'
	command -v shmnicctl >/dev/null && shmnicctl 2>&1
} | out
barrier neigh-done

section 04-iperf "iperf3 TCP node0 -> node1, ${IPERF_TIME} s each, same two VMs"
if [ "$NODES" -ge 2 ]; then
	case $ME in
	1)
		iperf3 -s -D -I /tmp/iperf3.pid
		busywait 5000 sh -c "netstat -ltn 2>/dev/null | grep -q ':5201 '"
		barrier iperf-server
		barrier iperf-done
		kill "$(cat /tmp/iperf3.pid)" 2>/dev/null
		;;
	0)
		barrier iperf-server
		echo "shml0      (10.10.0.2): $(iperf_line "$(ip_of 1)")" | out
		echo "virtio-net (10.20.0.2): $(iperf_line "$(vip_of 1)")" | out
		barrier iperf-done
		;;
	*)
		barrier iperf-server
		barrier iperf-done
		;;
	esac
fi
exit 0
