#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# nodes: 2
#
# Cluster benchmark, run on every VM by tools/bench/run through
#   qemu/cluster --nodes 2 --links KINDS --run tools/bench/cluster_bench.sh
# node1 serves iperf3; node0 measures, in the same run and towards the same
# peer VM, over shml0 (10.10.0.2) and over each virtio-net link the harness
# made (SHMNIC_LINKS: link K of kind KIND is "virtio-KIND", 10.2K.0.2):
#   - ping RTT: PINGS echo requests, INTERVAL s apart, on the idle link;
#     the same to 127.0.0.1 gives the guest's own floor ("loopback");
#   - iperf3 TCP node0 -> node1 for IPERF_TIME s, 1 stream and 4 streams,
#     at MTU 1500 and again at MTU JUMBO on every link (both VMs): a user
#     of a link without TSO (every virtio-net backend but tap) would raise
#     its MTU to cut the packets per byte;
#   - iperf3 UDP node0 -> node1, 64 B and 1400 B datagrams sent as fast as
#     iperf3 can (-b 0), at MTU 1500: datagrams received per second;
#   - guest CPU seconds (user, nice, system, irq, softirq and steal of
#     /proc/stat, both VMs) per GB received, for each iperf3 run.
# node0 prints one "BENCH ..." line per measurement (key=value), then the
# table between "=== table" and "=== end": one column per link, and shml0
# against the best virtio-net link of the run for each row.
# Settings (tools/bench/run may put assignments right below this header):
: "${IPERF_TIME:=10}" "${PINGS:=50}" "${INTERVAL:=0.05}" "${JUMBO:=65520}"

# shellcheck source=selftests/cluster/lib.sh
. "${SHMNIC_LIB:-$(dirname "$0")/lib.sh}"
require_shml0
require_nodes 2

ST=$SHMNIC_OUT/cluster_bench
mkdir -p "$ST"

LINKS=shml0
for kind in ${SHMNIC_LINKS:-dgram}; do
	LINKS="$LINKS virtio-$kind"
done

# link_k LINK: K of a virtio-net link "virtio-KIND" (its position in
# SHMNIC_LINKS); nothing for shml0.
link_k() {
	_k=0
	for _kind in ${SHMNIC_LINKS:-dgram}; do
		[ "$1" = "virtio-$_kind" ] && { echo "$_k"; return; }
		_k=$((_k + 1))
	done
}

# dev_of LINK: this VM's device of LINK (no --external: link K is ethK).
dev_of() {
	if [ "$1" = shml0 ]; then echo shml0; else echo "eth$(link_k "$1")"; fi
}

# set_mtu MTU: on every link of this VM.
set_mtu() {
	for _l in $LINKS; do
		ip link set "$(dev_of "$_l")" mtu "$1" || echo "# $SHMNIC_VM: MTU $1 refused on $_l"
	done
}

# addr_of LINK: node1's address on it.
addr_of() {
	if [ "$1" = shml0 ]; then ip_of 1; else echo "10.2$(link_k "$1").0.2"; fi
}

# "RUNG SAVED": shml0's doorbell counters (ethtool -S).
doorbells() {
	ethtool -S shml0 | awk '$1 == "tx_doorbells:" { k = $2 }
		$1 == "tx_doorbells_saved:" { s = $2 } END { print k + 0, s + 0 }'
}

# Busy CPU time of this VM in USER_HZ ticks.
cpu_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }

# rtt LINK ADDR: ping and print a "BENCH rtt ..." line.
rtt() {
	_out=/tmp/ping.$1
	ping -c "$PINGS" -i "$INTERVAL" -W 2 "$2" >"$_out" 2>&1
	sed -n 's/^.* time=\([0-9.][0-9.]*\) ms.*$/\1/p' "$_out" | sort -n >"$_out.ms"
	if [ ! -s "$_out.ms" ]; then
		echo "BENCH rtt link=$1 addr=$2 sent=$PINGS received=0 error=no_replies"
		return 1
	fi
	awk -v link="$1" -v addr="$2" -v sent="$PINGS" '
		{ v[NR] = $1 }
		END {
			n = NR
			med = n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
			printf "BENCH rtt link=%s addr=%s sent=%d received=%d loss_pct=%.1f min_ms=%.3f median_ms=%.3f max_ms=%.3f\n",
				link, addr, sent, n, 100 * (sent - n) / sent, v[1], med, v[n]
		}' "$_out.ms"
}

# measure NAME ARGS...: iperf3 -J ARGS to node1 with both VMs' busy CPU
# ticks around it (node1 takes its own at the same barriers): the JSON in
# /tmp/NAME.json, the ticks of both VMs in TICKS. iperf3's status.
MEASURE=0
measure() {
	_name=$1
	shift
	MEASURE=$((MEASURE + 1))
	barrier "start-$MEASURE"
	# a new MTU for this run: node1 sets it before the first SYN
	[ -e "$ST/mtu-$MEASURE" ] && barrier "mtu-set-$MEASURE"
	_c0=$(cpu_ticks)
	iperf3 -J "$@" >"/tmp/$_name.json" 2>&1
	_rc=$?
	_c1=$(cpu_ticks)
	# node1 takes its figure between these two: node0 reads it after
	barrier "stop-$MEASURE"
	barrier "end-$MEASURE"
	_p0=$(cat "$ST/node1.start-$MEASURE")
	_p1=$(cat "$ST/node1.end-$MEASURE")
	TICKS=$((_c1 - _c0 + _p1 - _p0))
	return $_rc
}

# bench FUNCTION ARGS...: run a measurement in this shell (not in a
# pipeline's subshell: measure() counts the barriers in MEASURE), print its
# line and keep it in /tmp/bench.lines.
bench() {
	"$@" >/tmp/bench.line
	cat /tmp/bench.line
	cat /tmp/bench.line >>/tmp/bench.lines
}

# tcp LINK ADDR STREAMS: a "BENCH tcp ..." line, at the link's MTU now.
tcp() {
	[ "$1" = shml0 ] && [ "$3" = 1 ] && doorbells >/tmp/db.before
	measure "tcp.$1.$3" -c "$2" -t "$IPERF_TIME" -P "$3"
	_rc=$?
	_ticks=$TICKS
	[ "$1" = shml0 ] && [ "$3" = 1 ] && doorbells >/tmp/db.after
	_j=/tmp/tcp.$1.$3.json
	_mtu=$(cat "/sys/class/net/$(dev_of "$1")/mtu")
	_bytes=$(jq -r '.end.sum_received.bytes // 0' "$_j" 2>/dev/null)
	_secs=$(jq -r '.end.sum_received.seconds // 0' "$_j" 2>/dev/null)
	_re=$(jq -r '.end.sum_sent.retransmits // 0' "$_j" 2>/dev/null)
	if [ "$_rc" != 0 ] || [ "${_bytes:-0}" = 0 ]; then
		echo "BENCH tcp link=$1 addr=$2 streams=$3 mtu=$_mtu error=iperf3_failed rc=$_rc $(jq -c '.error // empty' "$_j" 2>/dev/null)"
		return 1
	fi
	awk -v l="$1" -v a="$2" -v p="$3" -v m="$_mtu" -v b="$_bytes" -v s="$_secs" -v r="$_re" -v t="$_ticks" 'BEGIN {
		printf "BENCH tcp link=%s addr=%s streams=%d mtu=%d seconds=%.2f gbit_s=%.4f retransmits=%d cpu_s=%.2f cpu_s_per_gb=%.3f\n",
			l, a, p, m, s, 8 * b / s / 1e9, r, t / 100, (t / 100) / (b / 1e9)
	}'
}

# udp LINK ADDR SIZE: a "BENCH udp ..." line: datagrams received per second.
udp() {
	measure "udp.$1.$3" -c "$2" -u -b 0 -l "$3" -t "$IPERF_TIME"
	_rc=$?
	_ticks=$TICKS
	_j=/tmp/udp.$1.$3.json
	_sent=$(jq -r '.end.sum.packets // 0' "$_j" 2>/dev/null)
	_lost=$(jq -r '.end.sum.lost_packets // 0' "$_j" 2>/dev/null)
	_secs=$(jq -r '.end.sum.seconds // 0' "$_j" 2>/dev/null)
	if [ "$_rc" != 0 ] || [ "${_sent:-0}" = 0 ]; then
		echo "BENCH udp link=$1 addr=$2 size=$3 error=iperf3_failed rc=$_rc $(jq -c '.error // empty' "$_j" 2>/dev/null)"
		return 1
	fi
	awk -v l="$1" -v a="$2" -v z="$3" -v n="$_sent" -v x="$_lost" -v s="$_secs" -v t="$_ticks" 'BEGIN {
		got = n - x
		printf "BENCH udp link=%s addr=%s size=%d seconds=%.2f sent=%d received=%d kpps=%.2f cpu_s=%.2f cpu_s_per_gb=%.3f\n",
			l, a, z, s, n, got, got / s / 1e3, t / 100, got ? (t / 100) / (got * z / 1e9) : 0
	}'
}

# The table from the BENCH lines in FILE: one column per link, then the
# best virtio-net link and shml0's ratio to it.
table() {
	awk -v links="$LINKS" -v jumbo="$JUMBO" '
		function kv(line, key,   n, i, a, p) {
			n = split(line, a, " ")
			for (i = 1; i <= n; i++) {
				p = index(a[i], "=")
				if (p && substr(a[i], 1, p - 1) == key)
					return substr(a[i], p + 1)
			}
			return ""
		}
		# ROW: KEY of the BENCH lines of class WHAT (see below), higher
		# (dir 1) or lower (dir -1) is better.
		function row(label, what, key, dir,   i, l, v, best, bl) {
			printf "%-24s", label
			best = ""
			for (i = 1; i <= nl; i++) {
				l = L[i]
				v = get[what, l, key]
				printf " %13s", v == "" ? "-" : v
				if (l != "shml0" && v != "" && (best == "" || dir * (v - best) > 0)) {
					best = v
					bl = l
				}
			}
			v = get[what, "shml0", key]
			printf " %15s %8s\n", best == "" ? "-" : substr(bl, 8) " " best,
				(best == "" || v == "" || best + 0 == 0 || v + 0 == 0) ? "-" :
				sprintf("%.2f", dir > 0 ? v / best : best / v)
		}
		# the class of a BENCH line: tcp<streams>@<mtu>, udp<size>, rtt
		/^BENCH / {
			kind = $2
			l = kv($0, "link")
			what = kind == "tcp" ? "tcp" kv($0, "streams") "@" (kv($0, "mtu") == 1500 ? "std" : "jumbo") :
			       kind == "udp" ? "udp" kv($0, "size") : kind
			n = split("gbit_s kpps cpu_s_per_gb median_ms min_ms", keys, " ")
			for (i = 1; i <= n; i++)
				if ((x = kv($0, keys[i])) != "")
					get[what, l, keys[i]] = x
			if (kind == "rtt" && l == "loopback")
				floor = kv($0, "median_ms")
			if (kind == "skip")
				skips = skips " " l
		}
		END {
			nl = split(links, L, " ")
			for (i = 1; i <= nl; i++)
				if (floor != "" && get["rtt", L[i], "median_ms"] != "")
					get["rtt", L[i], "above_ms"] = sprintf("%.3f",
						get["rtt", L[i], "median_ms"] - floor)
			printf "%-24s", "node0 -> node1"
			for (i = 1; i <= nl; i++)
				printf " %13s", L[i]
			printf " %15s %8s\n", "best virtio", "shml0/best"
			row("TCP 1 stream Gbit/s", "tcp1@std", "gbit_s", 1)
			row("TCP 4 streams Gbit/s", "tcp4@std", "gbit_s", 1)
			row("  MTU " jumbo ", 1 stream", "tcp1@jumbo", "gbit_s", 1)
			row("  MTU " jumbo ", 4 streams", "tcp4@jumbo", "gbit_s", 1)
			row("UDP 64 B kpps", "udp64", "kpps", 1)
			row("UDP 1400 B kpps", "udp1400", "kpps", 1)
			row("CPU s/GB, TCP 1", "tcp1@std", "cpu_s_per_gb", -1)
			row("CPU s/GB, TCP 4", "tcp4@std", "cpu_s_per_gb", -1)
			row("  MTU " jumbo ", TCP 1", "tcp1@jumbo", "cpu_s_per_gb", -1)
			row("RTT median ms", "rtt", "median_ms", -1)
			row("RTT min ms", "rtt", "min_ms", -1)
			row("RTT above loopback", "rtt", "above_ms", -1)
			printf "(loopback RTT median inside the guest: %s ms; ratios are shml0/best for\n", floor == "" ? "-" : floor
			printf " rates and best/shml0 for CPU and RTT: above 1 means shml0 is better)\n"
			if (skips != "")
				printf "(no MTU %s rows for%s: a ping of that size got no reply)\n", jumbo, skips
		}' "$1"
}

case $ME in
1)
	iperf3 -s -D -I /tmp/iperf3.pid
	busywait 10000 sh -c "netstat -ltn 2>/dev/null | grep -q ':5201 '" ||
		echo "# node1: iperf3 server not listening"
	barrier bench-server
	# CPU ticks at node0's measurement barriers, until node0 is done
	n=1
	while :; do
		barrier "start-$n"
		[ -e "$ST/done" ] && break
		if [ -e "$ST/mtu-$n" ]; then
			set_mtu "$(cat "$ST/mtu-$n")"
			barrier "mtu-set-$n"
		fi
		cpu_ticks >"$ST/node1.start-$n"
		# node0 reaches stop-N when its iperf3 is done
		barrier "stop-$n"
		cpu_ticks >"$ST/node1.end-$n"
		barrier "end-$n"
		n=$((n + 1))
	done
	kill "$(cat /tmp/iperf3.pid)" 2>/dev/null
	exit 0
	;;
0)
	barrier bench-server
	echo "# cluster_bench: links $LINKS; $PINGS pings every ${INTERVAL}s; iperf3 ${IPERF_TIME}s per run, node0 -> node1"
	# resolve neighbours first so the first RTT is not an ARP exchange
	for link in $LINKS; do
		ping -c 2 -i 0.2 -W 2 "$(addr_of "$link")" >/dev/null 2>&1
	done
	: >/tmp/bench.lines
	bench rtt loopback 127.0.0.1
	for link in $LINKS; do
		bench rtt "$link" "$(addr_of "$link")"
	done
	for link in $LINKS; do
		a=$(addr_of "$link")
		bench tcp "$link" "$a" 1
		bench tcp "$link" "$a" 4
		bench udp "$link" "$a" 64
		bench udp "$link" "$a" 1400
	done
	set_mtu "$JUMBO"
	echo "$JUMBO" >"$ST/mtu-$((MEASURE + 1))"
	for link in $LINKS; do
		a=$(addr_of "$link")
		# A backend that cannot carry frames of that size (l2tpv3 puts
		# each frame in one host UDP datagram) has no jumbo rows: said,
		# not failed.
		if ! ping -c 2 -W 2 -s $((JUMBO - 28)) "$a" >/dev/null 2>&1; then
			echo "BENCH skip link=$link mtu=$JUMBO reason=no_reply_to_a_ping_of_that_size" |
				tee -a /tmp/bench.lines
			continue
		fi
		bench tcp "$link" "$a" 1
		bench tcp "$link" "$a" 4
	done
	touch "$ST/done"
	if [ -s /tmp/db.after ]; then
		read -r k0 s0 </tmp/db.before
		read -r k1 s1 </tmp/db.after
		awk -v k=$((k1 - k0)) -v s=$((s1 - s0)) 'BEGIN {
			printf "# shml0 doorbells during the 1-stream TCP run: %d rung, %d saved (%.0f%% of frames without a doorbell)\n",
				k, s, k + s ? 100 * s / (k + s) : 0
		}'
	fi
	barrier "start-$((MEASURE + 1))"
	fail=0
	grep -q 'error=' /tmp/bench.lines && fail=1
	# a skipped link has one line for its two jumbo runs; shml0 is never
	# skipped
	grep -q '^BENCH skip link=shml0 ' /tmp/bench.lines && fail=1
	skipped=$(grep -c '^BENCH skip ' /tmp/bench.lines)
	want=$((1 + 7 * $(echo "$LINKS" | wc -w) - skipped))
	[ "$(grep -c '^BENCH ' /tmp/bench.lines)" = "$want" ] || fail=1
	echo "=== table"
	table /tmp/bench.lines
	echo "=== end"
	exit $fail
	;;
*)
	barrier bench-server
	n=1
	while :; do
		barrier "start-$n"
		[ -e "$ST/done" ] && break
		[ -e "$ST/mtu-$n" ] && barrier "mtu-set-$n"
		barrier "stop-$n"
		barrier "end-$n"
		n=$((n + 1))
	done
	exit 0
	;;
esac
