#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# nodes: 2
#
# Where the guests' CPUs go while they move bulk TCP (or, with UDP=SIZE,
# UDP datagrams of SIZE bytes sent as fast as iperf3 can), run on both VMs by
# tools/bench/profile through
#   qemu/cluster --nodes 2 --links KINDS --run tools/bench/profile_guest.sh
# with perf in the VMs (SHMNIC_GUEST_PROGS=/usr/bin/perf). For shml0 and
# each virtio-net link in turn: node0 runs iperf3 to node1 for SECS s while
# both VMs sample every CPU with perf (cpu-clock, FREQ Hz: TCG has no PMU);
# each VM then writes its busiest symbols and its CPU time by kind
# (/proc/stat: user, system, softirq, idle) to
# $SHMNIC_OUT/profile/<vm>.<link>.txt, and node0 prints the bytes moved.
# Settings (tools/bench/profile puts assignments right below this header):
: "${SECS:=10}" "${FREQ:=499}" "${TOP:=30}" "${UDP:=}"

# shellcheck source=selftests/cluster/lib.sh
. "${SHMNIC_LIB:-$(dirname "$0")/lib.sh}"
require_shml0
require_nodes 2

ST=$SHMNIC_OUT/profile
mkdir -p "$ST"
command -v perf >/dev/null || { echo "# SKIP no perf in the VM (SHMNIC_GUEST_PROGS=/usr/bin/perf)"; exit 4; }

LINKS=shml0
K=0
for kind in ${SHMNIC_LINKS:-dgram}; do
	LINKS="$LINKS virtio-$kind:$K"
	K=$((K + 1))
done

# "user nice system idle iowait irq softirq" of /proc/stat, in ticks
stat_cpu() { awk '$1 == "cpu" { print $2, $3, $4, $5, $6, $7, $8 }' /proc/stat; }

# cpu_split BEFORE AFTER: the share of each kind of CPU time between them.
cpu_split() {
	echo "$1 $2" | awk '{
		n = split("user nice system idle iowait irq softirq", k, " ")
		for (i = 1; i <= n; i++) { d[i] = $(i + n) - $i; t += d[i] }
		for (i = 1; i <= n; i++)
			if (d[i])
				printf "%s %.1f%%  ", k[i], 100 * d[i] / t
		printf "(%d ticks)\n", t
	}'
}

# iperf3's extra arguments, and the jq summary node0 prints of its JSON
if [ -n "$UDP" ]; then
	udp_args="-u -b 0 -l $UDP"
	summary='"\(.end.sum.packets // 0) datagrams of '"$UDP"' B sent, \(.end.sum.lost_packets // 0) lost, \(((.end.sum.packets // 0) - (.end.sum.lost_packets // 0)) / (.end.sum.seconds // 1) / 10 | floor / 100) kpps received"'
else
	udp_args=""
	summary='"\(.end.sum_received.bytes // 0) bytes in \(.end.sum_received.seconds // 0) s, \(((.end.sum_received.bits_per_second // 0) / 1e9 * 1000 | floor) / 1000) Gbit/s"'
fi

[ "$ME" = 1 ] && iperf3_server
n=0
for l in $LINKS; do
	n=$((n + 1))
	name=${l%%:*}
	if [ "$name" = shml0 ]; then addr=$(ip_of 1); else addr=10.2${l#*:}.0.2; fi
	out=$ST/$SHMNIC_VM.$name.txt
	barrier "start-$n"
	c0=$(stat_cpu)
	perf record -a -F "$FREQ" -e cpu-clock -o "/tmp/perf.$name.data" \
		-- sleep $((SECS + 1)) >/dev/null 2>"/tmp/perf.$name.err" &
	rec=$!
	if [ "$ME" = 0 ]; then
		sleep 0.5
		# shellcheck disable=SC2086 # $udp_args: words on purpose
		iperf3 -c "$addr" -t "$SECS" $udp_args -J >"/tmp/iperf.$name.json" 2>&1
		info "$name: $(jq -r "$summary" "/tmp/iperf.$name.json")"
	fi
	wait "$rec" || info "$name: perf record failed: $(tail -n 2 "/tmp/perf.$name.err")"
	c1=$(stat_cpu)
	{
		echo "== $SHMNIC_VM, $name: CPU $(cpu_split "$c0" "$c1")"
		perf report -i "/tmp/perf.$name.data" --stdio --no-children \
			--sort sym --percent-limit 0.3 2>/dev/null |
			grep -v -e '^#' -e '^$' | head -n "$TOP"
	} >"$out"
	rm -f "/tmp/perf.$name.data"
	barrier "end-$n"
done
[ "$ME" = 1 ] && iperf3_server_stop
exit 0
