#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# nodes: 2
#
# Cluster benchmark, run on every VM by tools/bench/run through
#   qemu/cluster --nodes 2 --run tools/bench/cluster_bench.sh
# node1 serves iperf3; node0 measures, over shml0 (10.10.0.2) and over the
# virtio-net link eth0 (10.20.0.2) to the same peer VM, in the same run:
#   - ping RTT: PINGS echo requests, INTERVAL s apart (busybox ping), on the
#     idle link: min / avg / median / max and loss;
#   - iperf3 TCP throughput node0 -> node1 for IPERF_TIME s.
# node0 prints one "BENCH ..." line per measurement (key=value, for
# tools/bench/run), then a side-by-side table.
# Settings (tools/bench/run may put assignments right below this header):
: "${IPERF_TIME:=10}" "${PINGS:=50}" "${INTERVAL:=0.05}"

# shellcheck source=selftests/cluster/lib.sh
. "${SHMNIC_LIB:-$(dirname "$0")/lib.sh}"
require_shml0
require_nodes 2

LINKS="shml0 virtio-net"

addr_of() { # LINK
	case $1 in
	shml0) ip_of 1 ;;
	virtio-net) vip_of 1 ;;
	esac
}

# rtt LINK ADDR: ping and print a "BENCH rtt ..." line.
rtt() {
	_out=/tmp/ping.$1
	ping -c "$PINGS" -i "$INTERVAL" -W 2 "$2" >"$_out" 2>&1
	_sent=$PINGS
	_recv=$(sed -n 's/^.* \([0-9][0-9]*\) packets received.*$/\1/p' "$_out")
	sed -n 's/^.* time=\([0-9.][0-9.]*\) ms.*$/\1/p' "$_out" | sort -n >"$_out.ms"
	if [ ! -s "$_out.ms" ]; then
		echo "BENCH rtt link=$1 addr=$2 sent=$_sent received=0 error=no_replies"
		tail -n 3 "$_out" | sed 's/^/# /'
		return 1
	fi
	awk -v link="$1" -v addr="$2" -v sent="$_sent" '
		{ v[NR] = $1; s += $1 }
		END {
			n = NR
			med = n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
			printf "BENCH rtt link=%s addr=%s sent=%d received=%d loss_pct=%.1f min_ms=%.3f avg_ms=%.3f median_ms=%.3f max_ms=%.3f\n",
				link, addr, sent, n, 100 * (sent - n) / sent, v[1], s / n, med, v[n]
		}' "$_out.ms"
}

# Throughput in bit/s from iperf3's text output (no jq): receiver line.
bps_from_text() {
	awk '/receiver/ {
		for (i = 1; i < NF; i++)
			if ($(i + 1) ~ /bits\/sec$/) {
				v = $i; u = $(i + 1)
				m = u ~ /^G/ ? 1e9 : u ~ /^M/ ? 1e6 : u ~ /^K/ ? 1e3 : 1
				printf "%.0f\n", v * m
			}
	}' "$1" | tail -n 1
}

# "KICKS SAVED": shml0's doorbell counters (ethtool -S).
doorbells() {
	ethtool -S shml0 | awk '$1 == "tx_doorbells:" { k = $2 }
		$1 == "tx_doorbells_saved:" { s = $2 } END { print k + 0, s + 0 }'
}

# tcp LINK ADDR: iperf3 and print a "BENCH tcp ..." line.
tcp() {
	_out=/tmp/iperf.$1
	if command -v jq >/dev/null 2>&1; then
		iperf3 -c "$2" -t "$IPERF_TIME" -J >"$_out" 2>&1
		_rc=$?
		_bps=$(jq -r '.end.sum_received.bits_per_second // 0' "$_out" 2>/dev/null)
		_re=$(jq -r '.end.sum_sent.retransmits // 0' "$_out" 2>/dev/null)
		_err=$(jq -r '.error // empty' "$_out" 2>/dev/null)
	else
		iperf3 -c "$2" -t "$IPERF_TIME" >"$_out" 2>&1
		_rc=$?
		_bps=$(bps_from_text "$_out")
		_re=$(awk '/sender/ { print $(NF - 1) }' "$_out" | tail -n 1)
		_err=$(grep -m1 'error' "$_out")
	fi
	_bps=${_bps%%.*}
	case $_bps in '' | *[!0-9]* | 0) _bps=0 ;; esac
	if [ "$_rc" != 0 ] || [ "$_bps" = 0 ]; then
		echo "BENCH tcp link=$1 addr=$2 error=iperf3_failed rc=$_rc"
		[ -n "$_err" ] && echo "# iperf3: $_err"
		return 1
	fi
	awk -v link="$1" -v addr="$2" -v bps="$_bps" -v re="${_re:-0}" -v t="$IPERF_TIME" 'BEGIN {
		printf "BENCH tcp link=%s addr=%s seconds=%d gbit_s=%.4f retransmits=%s\n",
			link, addr, t, bps / 1e9, re
	}'
}

# The table from this node's BENCH lines.
table() {
	awk '
		function kv(line, key,   n, i, a, p) {
			n = split(line, a, " ")
			for (i = 1; i <= n; i++) {
				p = index(a[i], "=")
				if (p && substr(a[i], 1, p - 1) == key)
					return substr(a[i], p + 1)
			}
			return ""
		}
		function ratio(a, b) { return (a != "" && b != "" && b + 0 > 0) ? sprintf("%.2f", a / b) : "-" }
		function show(label, key, kind) {
			s = val[kind, "shml0", key]; v = val[kind, "virtio-net", key]
			printf "%-18s %12s %12s %14s\n", label, s == "" ? "-" : s,
				v == "" ? "-" : v, ratio(s, v)
		}
		/^BENCH / {
			link = kv($0, "link")
			split("gbit_s retransmits min_ms avg_ms median_ms max_ms loss_pct", keys, " ")
			for (k in keys)
				if ((x = kv($0, keys[k])) != "")
					val[$2, link, keys[k]] = x
		}
		END {
			printf "%-18s %12s %12s %14s\n", "node0 -> node1", "shml0", "virtio-net", "shml0/virtio"
			show("TCP Gbit/s", "gbit_s", "tcp")
			show("TCP retransmits", "retransmits", "tcp")
			show("RTT min ms", "min_ms", "rtt")
			show("RTT avg ms", "avg_ms", "rtt")
			show("RTT median ms", "median_ms", "rtt")
			show("RTT max ms", "max_ms", "rtt")
			show("ping loss %", "loss_pct", "rtt")
		}' "$1"
}

case $ME in
1)
	iperf3 -s -D -I /tmp/iperf3.pid
	busywait 10000 sh -c "netstat -ltn 2>/dev/null | grep -q ':5201 '" ||
		echo "# node1: iperf3 server not listening"
	barrier bench-server
	barrier bench-done
	kill "$(cat /tmp/iperf3.pid)" 2>/dev/null
	exit 0
	;;
0)
	barrier bench-server
	fail=0
	echo "# cluster_bench: $PINGS pings every ${INTERVAL}s, iperf3 TCP ${IPERF_TIME}s, node0 -> node1"
	# resolve neighbours first so the first RTT is not an ARP exchange
	for link in $LINKS; do
		ping -c 2 -i 0.2 -W 2 "$(addr_of "$link")" >/dev/null 2>&1
	done
	: >/tmp/bench.lines
	for link in $LINKS; do
		rtt "$link" "$(addr_of "$link")" | tee -a /tmp/bench.lines
	done
	for link in $LINKS; do
		[ "$link" = shml0 ] && doorbells >/tmp/db.before
		tcp "$link" "$(addr_of "$link")" | tee -a /tmp/bench.lines
		[ "$link" = shml0 ] && doorbells >/tmp/db.after
	done
	# how many frames of the shml0 TCP run needed a doorbell
	read -r k0 s0 </tmp/db.before
	read -r k1 s1 </tmp/db.after
	awk -v k=$((k1 - k0)) -v s=$((s1 - s0)) 'BEGIN {
		printf "# shml0 doorbells during the TCP run: %d rung, %d saved (%.0f%% of frames without a doorbell)\n",
			k, s, k + s ? 100 * s / (k + s) : 0
	}'
	grep -q 'error=' /tmp/bench.lines && fail=1
	[ "$(grep -c '^BENCH ' /tmp/bench.lines)" = 4 ] || fail=1
	echo
	table /tmp/bench.lines
	barrier bench-done
	exit $fail
	;;
*)
	barrier bench-server
	barrier bench-done
	exit 0
	;;
esac
