#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# nodes: 5
# timeout: 600
# cluster-args: --external
# checker-lane: skip its shmnic paths run on this lane in test_global (dispatch to published listeners, IPv4 and IPv6), test_failover and test_global_fail (a node killed or removed) and test_scribble (the counters read while scribbled on); nftables and HAProxy are not shmnic's code
#
# Network functions chained over the two networks, watched from one node
# (Documentation/appliance.rst). node0 is the gateway and the firewall:
# nftables at the ingress of its outside link (eth0) drops what comes from
# a denied client (172.31.0.66) and whatever is for HAProxy's stats port
# (8404). node1 runs HAProxy on the GLOBAL address (ports 80 and 8404),
# which spreads requests round robin over two backends, node2 and node3
# (busybox httpd on their shml0 addresses, port 8080). node4 runs the
# management view, shmnicctl stats. From ext: before the rules, the stats
# page and the denied client are served; after them, 24 requests from
# ext's own address (20 IPv4, 4 IPv6) are answered by both backends, four
# 1 MiB downloads arrive intact, and 3 requests from the denied client and
# 3 to the stats port get nothing, show in the firewall's counters and
# never reach a backend (their logs). node4's view shows each hop's
# traffic (the gateway's forwarded packets, node0 to node1 on the global
# network, node1 to both backends and back and node1 to node0 on the local
# one), and its figures for every node lie between that node's own
# counters (ip -s link) read just before and just after the view was read.
# Then node3 is killed: the view shows it down within 2 s (the turn, by
# the module's own count of the silence; and a read from the kill request,
# on Debian's kernel), its last figures kept and marked stale.
. "${SHMNIC_LIB:-$(dirname "$0")/lib.sh}"
require_external
require_nodes 5

DATA=${SHMNIC_OUT:-/tmp}/chain
DENIED=172.31.0.66
WHO=/tmp/who.txt

# counters_to FILE: this node's own counters of both adapters as ip -s link
# shows them, one line per adapter: "NET rx_packets rx_bytes tx_packets
# tx_bytes" (NET: local, global).
counters_to() {
	{
		ip -s -j link show shml0 | jq -r '.[0].stats64 |
			"local \(.rx.packets) \(.rx.bytes) \(.tx.packets) \(.tx.bytes)"'
		ip -s -j link show shmg0 | jq -r '.[0].stats64 |
			"global \(.rx.packets) \(.rx.bytes) \(.tx.packets) \(.tx.bytes)"'
	} >"$1.tmp" && mv "$1.tmp" "$1"
}

# http URL [FROM]: the body (curl, within HTTP_S seconds, default 5),
# from address FROM if given.
http() { curl -sf -m "${HTTP_S:-5}" ${2:+--interface "$2"} "$1"; }

# answered_none N URL [FROM]: none of N requests got an answer.
answered_none() {
	_tries=$1
	shift
	_got=0
	for _i in $(seq "$_tries"); do
		HTTP_S=3 http "$@" >/dev/null && _got=$((_got + 1))
	done
	info "answered $_got of $_tries requests to $1 from ${2:-ext}"
	[ "$_got" = 0 ]
}

# fw_drops: packets each firewall rule dropped: "DENIED_SRC STATS_PORT".
fw_drops() {
	nft -j list chain netdev fw in | jq -r '[.nftables[] | select(.rule) |
		.rule.expr[] | select(.counter) | .counter.packets] | "\(.[0]) \(.[1])"'
}

fw_install() {
	while read -r _m; do
		insmod "$_m" 2>/dev/null
	done </etc/shmnic/nft-modules
	nft -f - <<EOF
table netdev fw {
	chain in {
		type filter hook ingress device eth0 priority 0; policy accept;
		ip saddr $DENIED counter drop
		tcp dport 8404 counter drop
	}
}
EOF
}

haproxy_start() {
	cat >/tmp/haproxy.cfg <<EOF
global
	maxconn 256
	pidfile /tmp/haproxy.pid
defaults
	mode http
	timeout connect 5s
	timeout client 30s
	timeout server 30s
frontend web
	bind $GLOBAL_IP:80
	bind [$GLOBAL_IP6]:80
	default_backend app
frontend stats
	bind $GLOBAL_IP:8404
	stats enable
	stats uri /stats
backend app
	balance roundrobin
	server node2 $(ip_of 2):8080
	server node3 $(ip_of 3):8080
EOF
	haproxy -D -f /tmp/haproxy.cfg &&
		busywait 5000 sh -c "netstat -ltn 2>/dev/null | grep -q '$GLOBAL_IP:80 '"
}

# backend_start: busybox httpd on our shml0 address: /who names us, /data
# is the blob node2 made.
backend_start() {
	mkdir -p /tmp/www &&
		echo "node$ME" >/tmp/www/who &&
		cp "$DATA/blob" /tmp/www/data &&
		{ httpd -f -vv -p "$(ip_of "$ME"):8080" -h /tmp/www 2>/tmp/httpd.log & } &&
		busywait 5000 sh -c "netstat -ltn 2>/dev/null | grep -q '$(ip_of "$ME"):8080 '"
}

# view_between_own_counters: every node's figures in the view lie between
# its own counters before and after (one jq and one awk).
view_between_own_counters() {
	jq -r '.[] | .node as $n | .nets[] |
		"\($n) \(.net) \(.rx_packets) \(.rx_bytes) \(.tx_packets) \(.tx_bytes)"' \
		"$DATA/view.json" >/tmp/view.lines
	for _n in 0 1 2 3 4; do
		sed "s/^/$_n t1 /" "$DATA/node$_n.t1"
		sed "s/^/$_n t3 /" "$DATA/node$_n.t3"
	done >/tmp/own.lines
	awk '
		FNR == NR { own[$1 " " $3 " " $2] = $4 " " $5 " " $6 " " $7; next }
		{
			k = $1 " " $2
			split(own[k " t1"], a); split(own[k " t3"], b)
			if (own[k " t1"] == "" || own[k " t3"] == "") { print "# node" k ": no own counters"; bad = 1; next }
			for (i = 1; i <= 4; i++)
				if (a[i] > $(i + 2) || $(i + 2) > b[i]) {
					print "# node" $1 " " $2 ": own before " own[k " t1"] ", view " $3 " " $4 " " $5 " " $6 ", own after " own[k " t3"]
					bad = 1
					break
				}
			seen++
		}
		END { exit bad || seen != 10 }' /tmp/own.lines /tmp/view.lines
}

# view_hops: each hop's traffic in the view, with its floor: the gateway's
# forwarded packets, node0 to node1 on the global network, node1 to each
# backend, each backend back to node1, node1 to node0 on the local one.
view_hops() {
	jq -r 'def tx($n; $net; $p; $what): [.[] | select(.node == $n) | .peers[] |
			select(.net == $net and .peer == $p) | .["tx_" + $what]][0] // 0;
		"gateway_forwarded \([.[] | select(.node == 0) | .gateway.forwarded][0] // 0) 84",
		"node0_to_node1_global_packets \(tx(0; "global"; 1; "packets")) 84",
		"node1_to_node2_local_packets \(tx(1; "local"; 2; "packets")) 24",
		"node1_to_node3_local_packets \(tx(1; "local"; 3; "packets")) 24",
		"node2_to_node1_local_bytes \(tx(2; "local"; 1; "bytes")) 1048576",
		"node3_to_node1_local_bytes \(tx(3; "local"; 1; "bytes")) 1048576",
		"node1_to_node0_local_bytes \(tx(1; "local"; 0; "bytes")) 4194304"' \
		"$DATA/view.json" | awk '
		{ print "# view: " $1 " = " $2 " (at least " $3 ")"; if ($2 < $3) bad = 1; n++ }
		END { exit bad || n != 7 }'
}

# served_before_rules: HAProxy's stats page, and a backend for the client
# about to be denied.
served_before_rules() {
	_code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://$GLOBAL_IP:8404/stats")
	_who=$(http "http://$GLOBAL_IP/who" "$DENIED")
	info "before the rules: stats page HTTP $_code, denied client answered by '$_who'"
	[ "$_code" = 200 ] && echo "$_who" | grep -qx 'node[23]'
}

# busiest FILE: of the tables shmnicctl stats --watch wrote, the one with
# the most packets per second.
busiest() {
	awk 'function v(s) {
		if (s ~ /k$/) return s * 1e3
		if (s ~ /M$/) return s * 1e6
		if (s ~ /G$/) return s * 1e9
		return s + 0
	}
	BEGIN { RS = ""; ORS = "\n" }
	{
		n = split($0, line, "\n")
		pps = 0
		for (i = 2; i <= n; i++) {
			m = split(line[i], f, " +")
			for (j = 1; j <= m; j++)
				if (f[j] == "local" || f[j] == "global") {
					pps += v(f[j + 1]) + v(f[j + 3])
					break
				}
		}
		if (pps >= best) { best = pps; table = $0 }
	}
	END { print table }' "$1"
}

# flip_after_kill ID: seconds from the "killing node ID" mark this script
# wrote to the kernel log to the module's "node ID down", both in the
# kernel log's clock: when the view turned, with the harness' time to kill
# the VM in it, without the cost of reading the view.
flip_after_kill() {
	dmesg | awk -v id="$1" '
		{ t = $0; sub(/^\[ */, "", t); sub(/\].*/, "", t) }
		index($0, "test_chain: killing node" id) { mark = t; next }
		mark != "" && index($0, "node " id " down") { printf "%.2f", t - mark; exit }'
}

# silent_at_turn ID: the module's own figure, when it turned node ID down:
# milliseconds since it last saw ID's heartbeat move.
silent_at_turn() {
	dmesg | sed -n "s/.*node $1 down (heartbeat stalled, \([0-9]*\) ms since.*/\1/p" | tail -n 1
}

# down_in_view ID: node ID is down in the view (one read, no rates).
down_in_view() {
	shmnicctl stats --prometheus | grep -qx "shmnic_node_up{node=\"$1\"} 0"
}

ktap_header
case $SHMNIC_VM in
ext)
	ktap_plan 6
	ensure_pass "denied address" ip addr add "$DENIED/24" dev eth0
	barrier blob
	barrier ready
	check "served_before_the_rules" served_before_rules
	barrier checked
	barrier rules
	: >"$WHO"
	for i in $(seq 20); do http "http://$GLOBAL_IP/who" >>"$WHO"; done
	for i in $(seq 4); do http "http://[$GLOBAL_IP6]/who" >>"$WHO"; done
	info "answers: $(sort "$WHO" | uniq -c | tr -s ' \n' ' ')"
	check "allowed_all_answered" test "$(grep -cx 'node[23]' "$WHO")" = 24
	check "spread_over_both_backends" sh -c \
		"[ \$(grep -cx node2 $WHO) -ge 8 ] && [ \$(grep -cx node3 $WHO) -ge 8 ]"
	want=$(cat "$DATA/blob.sha256")
	intact=0
	t0=$(now)
	for _ in 1 2 3 4; do
		# 1 MiB through three VMs
		[ "$(HTTP_S=120 http "http://$GLOBAL_IP/data" | sha256sum | cut -d' ' -f1)" = "$want" ] &&
			intact=$((intact + 1))
	done
	info "$intact of 4 downloads intact, in $(since "$t0") s"
	check "downloads_intact" test "$intact" = 4
	check "denied_client_gets_nothing" answered_none 3 "http://$GLOBAL_IP/forbidden-src" "$DENIED"
	check "stats_port_gets_nothing" answered_none 3 "http://$GLOBAL_IP:8404/forbidden-port"
	barrier traffic
	barrier t1
	barrier view
	barrier t3
	barrier end
	;;
*)
	case $ME in
	0 | 2 | 3) ktap_plan 3 ;;
	1) ktap_plan 1 ;;
	4) ktap_plan 6 ;;
	esac
	check "global_setup" global_setup
	if [ "$ME" = 2 ]; then
		mkdir -p "$DATA" && head -c 1048576 /dev/urandom >"$DATA/blob" &&
			sha256sum <"$DATA/blob" | cut -d' ' -f1 >"$DATA/blob.sha256"
	fi
	barrier blob
	case $ME in
	1) ensure_pass "haproxy" haproxy_start ;;
	2 | 3) check "backend_serves" backend_start ;;
	esac
	barrier ready
	barrier checked
	[ "$ME" = 0 ] && check "firewall_installed" fw_install
	barrier rules
	# node4 watches while ext's requests go through: the last table
	# shows the rates.
	[ "$ME" = 4 ] && { shmnicctl stats --watch 1 >/tmp/watch.txt 2>&1 & WATCH=$!; }
	barrier traffic
	case $ME in
	0)
		drops=$(fw_drops)
		info "firewall drops (denied source, stats port): $drops"
		check "firewall_counted" sh -c "set -- $drops; [ \$1 -ge 3 ] && [ \$2 -ge 3 ]"
		;;
	2 | 3)
		info "served: $(grep -c 'url:/who' /tmp/httpd.log) /who, $(grep -c 'url:/data' /tmp/httpd.log) /data"
		check "nothing_forbidden_arrived" sh -c "! grep -q 'url:/forbidden' /tmp/httpd.log"
		;;
	4)
		kill "$WATCH" 2>/dev/null
		wait "$WATCH" 2>/dev/null
		info "shmnicctl stats --watch 1 while ext's requests went through (the busiest table):"
		busiest /tmp/watch.txt | sed "s/^/# $SHMNIC_VM: /"
		;;
	esac
	counters_to "$DATA/node$ME.t1"
	barrier t1
	if [ "$ME" = 4 ]; then
		# our part is rewritten every 100 ms: two heartbeats, then the
		# view (two reads, 1 s apart)
		sleep 0.3
		shmnicctl -j stats >"$DATA/view.json"
		shmnicctl stats >"$DATA/view.txt"
	fi
	barrier view
	counters_to "$DATA/node$ME.t3"
	barrier t3
	if [ "$ME" = 4 ]; then
		info "shmnicctl stats after the traffic:"
		sed "s/^/# $SHMNIC_VM: /" "$DATA/view.txt"
		check "view_matches_own_counters" view_between_own_counters
		check "view_shows_each_hop" view_hops
		last=$(jq -r '.[] | select(.node == 3) | .nets[] | select(.net == "local") | .tx_bytes' \
			"$DATA/view.json")
		# the clocks start before the request: upper bounds, with the
		# harness' time to kill the VM in them
		echo "test_chain: killing node3" >/dev/kmsg
		t0=$(now)
		killvm node3 >/dev/null || ktap_fail "killvm"
		busywait 5000 down_in_view 3
		took=$(since "$t0")
		flip=$(flip_after_kill 3)
		silent=$(silent_at_turn 3)
		info "node3 down in the view: turned ${silent:-?} ms after its last heartbeat (as node4 saw it), $flip s after the kill was asked for; read $took s after"
		check "view_down_within_2s" awk -v t="${silent:-99999}" 'BEGIN { exit !(t <= 2000) }'
		check "seen_down_within_2s" awk -v t="$took" 'BEGIN { exit !(t <= 2.0) }'
		shmnicctl -j stats >"$DATA/after_kill.json"
		jq -c '.[] | select(.node == 3) | {state, notes, silent_ms}' "$DATA/after_kill.json" |
			sed "s/^/# $SHMNIC_VM: node3: /"
		check "last_figures_kept_stale" jq -e --argjson last "$last" '.[] | select(.node == 3) |
			.state == "down" and (.notes | index("stale")) != null and
			([.nets[] | select(.net == "local") | .tx_bytes][0] >= $last)' \
			"$DATA/after_kill.json"
	fi
	barrier end
	;;
esac
ktap_finish
