#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# nodes: 3
# timeout: 400
#
# Every node pulls the module at the same moment while every pair streams,
# 20 rounds. A round: every node loads and configures shml0 and shmg0 and
# pings every other node until it answers; one barrier once all are up;
# each node then streams TCP at full speed to every other node over shml0
# ("flowbench stream", one process for all its peers); once every node's
# streams have carried 1 MB (which must take less than 10 s), a second
# barrier, and every node pulls the module while the streams run. One "flowbench stream" per node takes what the others send
# for the whole test. rmmod must succeed every time, and no kernel may
# warn, oops or leak (the harness checks the consoles; the debug lane runs
# it under KASAN, lockdep and kmemleak). After the last insmod every node
# reaches every other again (IPv4 and IPv6) within 5 s, and a TCP transfer
# carries its bytes intact.
#
# Nothing streams while the nodes load: on the checker kernel streams that
# ran through the whole round (paced or not) took the guests' CPU from
# insmod and the barrier, and a round from some 15 s to 40 s.
. "${SHMNIC_LIB:-$(dirname "$0")/lib.sh}"
require_shml0
require_nodes 3
ktap_header
ktap_plan 7

ROUNDS=20
KO=/lib/modules/shmnic/shmnic.ko
PORT=7300

# Load the module and configure it: 0, or 1 if shml0 did not come.
load() {
	insmod "$KO" || return 1
	busywait 10000 test -e /sys/class/net/shmg0 || return 1
	shml0_configure && ip link set shmg0 up
}

# Wait until every other node answers a ping: a stream that starts before
# its peer has seen us up loses its SYN and waits out TCP's backoff (a
# round once sent 70 bytes in the last half second before the pull).
reach_peers() {
	for p in $(other_nodes); do
		busywait 10000 ping_ok "$(ip_of "$p")" || return 1
	done
}

rmmod_failed=0
insmod_failed=0
quiet_rounds=0
peers=""
for p in $(other_nodes); do
	peers="$peers $(ip_of "$p")"
done
flowbench stream --port "$PORT" >/dev/null 2>&1 &
receiver=$!
# A round forks little: on the checker kernel an exec costs a good part
# of a second (timings with uptime_cs, counters with read).
i=1
unreached=0
while [ $i -le $ROUNDS ]; do
	reach_peers || { unreached=$((unreached + 1)); info "round $i: a peer did not answer within 10 s"; }
	barrier "up-$i"
	uptime_cs
	t0=$UPTIME_CS
	read -r sent0 </sys/class/net/shml0/statistics/tx_bytes
	# shellcheck disable=SC2086
	flowbench stream --port $((PORT + 1)) --to-port "$PORT" --idle-ms 1000 $peers >/dev/null 2>&1 &
	sender=$!
	# Pull once the streams have carried 1 MB (at most 10 s): starting
	# flowbench alone can take a second there.
	sleep 1
	n=0
	while :; do
		read -r sent </sys/class/net/shml0/statistics/tx_bytes
		sent=$((sent - sent0))
		[ "$sent" -ge 1000000 ] || [ $n -ge 40 ] && break
		n=$((n + 1))
		sleep 0.25
	done
	[ "$sent" -ge 1000000 ] || quiet_rounds=$((quiet_rounds + 1))
	# Pull together: a node whose flowbench took long to start would
	# otherwise find its peers already gone and its streams stalled (CI
	# once saw 717 kB in 13.7 s on the debug kernel).
	barrier "pull-$i"
	uptime_cs
	t1=$UPTIME_CS
	if ! rmmod shmnic; then
		rmmod_failed=$((rmmod_failed + 1))
		info "round $i: rmmod failed"
	fi
	uptime_cs
	t2=$UPTIME_CS
	kill -TERM "$sender"
	wait "$sender"
	if ! load; then
		insmod_failed=$((insmod_failed + 1))
		info "round $i: insmod or configure failed"
	fi
	uptime_cs
	info "round $i: $sent bytes sent when it pulled; streams started $(( (t1 - t0) * 10 )) ms before it; rmmod $(( (t2 - t1) * 10 )) ms; stopping the streams, loading and configuring $(( (UPTIME_CS - t2) * 10 )) ms"
	i=$((i + 1))
done
kill -TERM "$receiver"
wait "$receiver"
info "$ROUNDS rounds: rmmod failed $rmmod_failed times, insmod $insmod_failed times; the streams had not carried 1 MB within 10 s in $quiet_rounds (the last round: $sent bytes)"
ktap_result "streaming_at_every_pull" "$([ $quiet_rounds = 0 ] && echo 0 || echo 1)"
ktap_result "rmmod_every_round" "$([ $rmmod_failed = 0 ] && echo 0 || echo 1)"
ktap_result "insmod_every_round" "$([ $insmod_failed = 0 ] && echo 0 || echo 1)"
ktap_result "peers_back_every_round" "$([ $unreached = 0 ] && echo 0 || echo 1)"

barrier loaded
t0=$(cut -d' ' -f1 /proc/uptime)
reach_all() { # [-6]
	for p in $(other_nodes); do
		if [ "${1:-}" = -6 ]; then a=$(ip6_of "$p"); else a=$(ip_of "$p"); fi
		busywait 5000 ping_ok "$a" || { info "node$p ($a) silent"; return 1; }
	done
}
check "all_reachable_within_5s" reach_all
info "every node answered $(awk "BEGIN { print $(cut -d' ' -f1 /proc/uptime) - $t0 }") s after the last insmod"
check "all_reachable_ipv6" reach_all -6

# A ring of transfers: each node sends 4 MiB to the next one and checks
# what the previous one sent it by sha256.
next=$(( (ME + 1) % NODES ))
prev=$(( (ME + NODES - 1) % NODES ))
socat -u "TCP4-LISTEN:7400,reuseaddr" CREATE:/tmp/in &
getter=$!
busywait 5000 sh -c "netstat -ltn 2>/dev/null | grep -q ':7400 '"
dd if=/dev/urandom of=/tmp/out bs=1M count=4 2>/dev/null
sha256sum </tmp/out | cut -d' ' -f1 >"$SHMNIC_OUT/storm-$ME.sha256"
barrier transfer
socat -u OPEN:/tmp/out "TCP4:$(ip_of "$next"):7400"
wait "$getter"
barrier sent
got=$(sha256sum </tmp/in | cut -d' ' -f1)
info "from node$prev: $(wc -c </tmp/in) bytes, sha256 $got"
check "transfer_intact" [ "$got" = "$(cat "$SHMNIC_OUT/storm-$prev.sha256")" ]
ktap_finish
