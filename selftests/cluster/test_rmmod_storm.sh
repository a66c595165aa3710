#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# nodes: 3
# timeout: 400
#
# Every node pulls the module at the same moment while every pair streams,
# 20 rounds. A round: each node configures shml0 and shmg0, listens, streams
# TCP to every other node over shml0 (socat, /dev/zero; a sender retries
# until its peer is back) and pings them 100 times a second; after one
# barrier all nodes rmmod at once, then insmod again. rmmod must succeed
# every time, at least 100 kB must have left each node in the half second
# before each pull, and no kernel may warn, oops or leak (the harness
# checks the consoles; the debug lane runs it under KASAN, lockdep and
# kmemleak). After the last insmod every node reaches every other again
# (IPv4 and IPv6) within 5 s, and a TCP transfer carries its bytes intact.
. "${SHMNIC_LIB:-$(dirname "$0")/lib.sh}"
require_shml0
require_nodes 3
ktap_header
ktap_plan 6

ROUNDS=20
KO=/lib/modules/shmnic/shmnic.ko
PORT=7300


# Load the module and configure it: 0, or 1 if shml0 did not come.
load() {
	insmod "$KO" || return 1
	busywait 10000 test -e /sys/class/net/shmg0 || return 1
	shml0_configure && ip link set shmg0 up
}

# Stream to every other node and ping it. A sender whose peer is not back
# yet (no answer to ARP, or nothing listening) tries again: a node need not
# wait for the others before it starts. Loop pids in $senders.
start_traffic() {
	senders=""
	for p in $(other_nodes); do
		(while :; do
			socat -u OPEN:/dev/zero "TCP4:$(ip_of "$p"):$PORT,connect-timeout=1"
			sleep 0.2
		done) >/dev/null 2>&1 &
		senders="$senders $!"
		ping -q -i 0.01 "$(ip_of "$p")" >/dev/null 2>&1 &
		senders="$senders $!"
	done
}

# After the pull: the loops first, then every socat (senders, the listener
# and its children, whose connections died with the module) and ping.
stop_traffic() {
	# shellcheck disable=SC2086
	kill $senders 2>/dev/null
	killall -q socat ping
	wait 2>/dev/null
}

rmmod_failed=0
insmod_failed=0
quiet_rounds=0
i=1
while [ $i -le $ROUNDS ]; do
	t0=$(now)
	socat -u "TCP4-LISTEN:$PORT,fork,reuseaddr" /dev/null >/dev/null 2>&1 &
	start_traffic
	# The barrier opens once every node is loaded, listening and sending;
	# the last to arrive came up a second before, time for the others'
	# senders to reach it. Then every node samples half a second of its
	# traffic and pulls.
	sleep 1
	barrier "pull-$i"
	sent0=$(cat /sys/class/net/shml0/statistics/tx_bytes)
	sleep 0.5
	sent=$(( $(cat /sys/class/net/shml0/statistics/tx_bytes) - sent0 ))
	[ "$sent" -ge 100000 ] || quiet_rounds=$((quiet_rounds + 1))
	t1=$(now)
	if ! rmmod shmnic; then
		rmmod_failed=$((rmmod_failed + 1))
		info "round $i: rmmod failed"
	fi
	t2=$(now)
	stop_traffic
	t3=$(now)
	if ! load; then
		insmod_failed=$((insmod_failed + 1))
		info "round $i: insmod or configure failed"
	fi
	info "round $i: $sent bytes sent in the half second before the pull; $(since "$t0" "$t1") s from the start of the round to the pull; rmmod $(since "$t1" "$t2") s, stopping traffic $(since "$t2" "$t3") s, loading $(since "$t3") s"
	i=$((i + 1))
done
info "$ROUNDS rounds: rmmod failed $rmmod_failed times, insmod $insmod_failed times; less than 100 kB sent in the last half second before the pull in $quiet_rounds (the last round: $sent bytes)"
ktap_result "streaming_at_every_pull" "$([ $quiet_rounds = 0 ] && echo 0 || echo 1)"
ktap_result "rmmod_every_round" "$([ $rmmod_failed = 0 ] && echo 0 || echo 1)"
ktap_result "insmod_every_round" "$([ $insmod_failed = 0 ] && echo 0 || echo 1)"

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
