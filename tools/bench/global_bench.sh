#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# nodes: 4
# cluster-args: --external
#
# Global network benchmark, run on every VM by tools/bench/run through
#   qemu/cluster --nodes 4 --external --run tools/bench/global_bench.sh
# From ext, with flowbench, the same clients over three paths in one run:
#   gateway  ext -> 10.99.0.1 port 80: node0 dispatches each connection to
#            a node serving the global address (flowbench serve on node1
#            and node2, as "node1"/"node2"; global_setup of lib.sh on
#            every node);
#   ipvs     ext -> 10.98.0.1 port 81: IPVS on the same gateway node,
#            Maglev scheduler on the source address and port (ipvsadm -s mh
#            -b mh-port: with the address only, one client's connections
#            all go to one server), direct routing (-g) to the
#            same servers over shml0 (flowbench serve on port 81, the VIP on
#            their loopback, arp_ignore/arp_announce on shml0), no
#            connection tracking (net.ipv4.vs.conntrack=0, IPVS's default):
#            the fastest way IPVS does this job. Replies leave the servers
#            by the same route as the gateway path's (over shml0, through
#            node0), so both paths carry the same packets. Skipped, with
#            the reason, when the kernel has no ip_vs_mh;
#   direct   ext -> 172.31.0.1 port 8080: flowbench serve on node0 itself,
#            no dispatch.
# Measurements: "flowbench connect --conns CONNS --parallel PARALLEL"
# (connections/s) and "flowbench rr --requests REQUESTS" (requests/s,
# median and p99 latency), per path, in ROUNDS rounds that take the paths
# in turn (each round starts with the next one): what the host gives the
# VMs moves by 2x within seconds, so one burst per path says little. ext
# prints every round's figures as comments, one "BENCH ..." line per
# measurement and path with the medians and ranges over the rounds
# (key=value, for tools/bench/run), then a side-by-side table.
# With fewer nodes the servers are the nodes 1..2 that exist (checking the
# script on 2 nodes + ext). Without shmg0 (a shmnic.ko without the global
# network) every VM exits 4 after the direct figures: the gateway path is
# skipped, with the reason. A failed global_setup or measurement fails.
# Settings (tools/bench/run may put assignments right below this header):
: "${CONNS:=200}" "${PARALLEL:=8}" "${REQUESTS:=2000}" "${ROUNDS:=5}"

# shellcheck source=selftests/cluster/lib.sh
. "${SHMNIC_LIB:-$(dirname "$0")/lib.sh}"
require_external
require_nodes 2

GPORT=80      # the global service
DPORT=8080    # node0's own server (direct path)
VPORT=81      # the IPVS virtual service
VIP=10.98.0.1
ST=$SHMNIC_OUT/global_bench
mkdir -p "$ST"

# The servers behind the global address: nodes 1 and 2 (those present).
servers() {
	for _n in 1 2; do
		[ "$_n" -lt "$NODES" ] && echo "$_n"
	done
	return 0
}

is_server() { servers | grep -qx -e "$ME"; }

# bench_json KIND PATH ADDR PORT JQ ARGS...: "flowbench KIND ADDR PORT
# ARGS -j" from ext, its JSON turned into a BENCH line by the jq program JQ
# (given $p, the path, and $rc); flowbench's exit status.
bench_json() {
	_k=$1 _path=$2 _a=$3 _port=$4 _jq=$5
	shift 5
	flowbench "$_k" "$_a" "$_port" "$@" -j >/tmp/$_k.$_path.json 2>/tmp/$_k.$_path.err
	_rc=$?
	if [ -s /tmp/$_k.$_path.json ]; then
		jq -r --arg p "$_path" --arg rc "$_rc" "$_jq" /tmp/$_k.$_path.json
	else
		echo "BENCH $_k path=$_path addr=$_a port=$_port error=flowbench_failed rc=$_rc"
		sed 's/^/# /' /tmp/$_k.$_path.err
	fi
	return $_rc
}

# measure PATH ADDR PORT: connect and rr from ext; "BENCH" lines.
measure() {
	_fail=0
	bench_json connect "$1" "$2" "$3" \
		'"BENCH connect path=\($p) addr=\(.addr) port=\(.port) conns=\(.conns) parallel=\(.parallel) ok=\(.ok) failed=\(.failed) refused=\(.failures.refused) timeout=\(.failures.timeout) corrupt=\(.failures.corrupt) reset=\(.failures.reset) elapsed_s=\(.elapsed_s) conns_s=\(.conns_per_s) servers=\(.servers | to_entries | map("\(.key):\(.value)") | join(",")) rc=\($rc)"' \
		--conns "$CONNS" --parallel "$PARALLEL" || _fail=1
	bench_json rr "$1" "$2" "$3" \
		'"BENCH rr path=\($p) addr=\(.addr) port=\(.port) requests=\(.requests) completed=\(.completed) req_s=\(.requests_per_s) median_us=\(.latency_us.median) p99_us=\(.latency_us.p99) servers=\(.servers | keys | join(",")) rc=\($rc)\(if .error != "" then " error=" + (.error | gsub(" "; "_")) else "" end)"' \
		--requests "$REQUESTS" || _fail=1
	return $_fail
}

# ipvs_director: node0 becomes an IPVS director for VIP:VPORT, Maglev,
# direct routing to the servers' shml0 addresses.
ipvs_director() {
	# (one of the two crc32c may not load: the other does)
	while read -r _m; do
		insmod "$_m" 2>/dev/null
	done </etc/shmnic/ipvs-modules
	grep -q '^ip_vs_mh ' /proc/modules || return 1
	ip addr add "$VIP/32" dev lo &&
		sysctl -qw net.ipv4.vs.conntrack=0 &&
		ipvsadm -A -t "$VIP:$VPORT" -s mh -b mh-port || return 1
	for _n in $(servers); do
		ipvsadm -a -t "$VIP:$VPORT" -r "$(ip_of "$_n"):$VPORT" -g || return 1
	done
	ipvsadm -Ln | sed 's/^/# ipvs: /'
}

# ipvs_real_server: take VIP's packets from the director, never answer
# ARP for it on shml0 (the LVS-DR recipe).
ipvs_real_server() {
	sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \
		net.ipv4.conf.shml0.arp_ignore=1 net.ipv4.conf.shml0.arp_announce=2 &&
		ip addr add "$VIP/32" dev lo
}

# AWK_KV: kv(LINE, KEY), the value of KEY=VALUE in a BENCH line, for the
# awk programs below.
AWK_KV='
function kv(line, key,   n, i, a, p) {
	n = split(line, a, " ")
	for (i = 1; i <= n; i++) {
		p = index(a[i], "=")
		if (p && substr(a[i], 1, p - 1) == key)
			return substr(a[i], p + 1)
	}
	return ""
}'

# target PATH: the address and port ext measures PATH at.
target() {
	case $1 in
	gateway) echo "$GLOBAL_IP $GPORT" ;;
	ipvs) echo "$VIP $VPORT" ;;
	direct) echo "$GW_IP $DPORT" ;;
	esac
}

# rotate R PATH...: the paths, starting with the R-th (cyclically).
rotate() {
	_r=$1
	shift
	_k=$(( (_r - 1) % $# ))
	while [ "$_k" -gt 0 ]; do
		_first=$1
		shift
		set -- "$@" "$_first"
		_k=$((_k - 1))
	done
	echo "$@"
}

# medians FILE: from the "ROUND r connect|rr ..." lines, one BENCH line per
# kind and path: the median of each rate and latency over the rounds (and
# their range), failures added up, servers' shares added up, the worst rc.
medians() {
	awk "$AWK_KV"'
		function median(k,   n, i, j, t, v) {
			n = cnt[k]
			for (i = 1; i <= n; i++) v[i] = vals[k, i]
			for (i = 2; i <= n; i++)
				for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) {
					t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
				}
			lo[k] = v[1]; hi[k] = v[n]
			return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
		}
		/^ROUND / {
			id = $3 " " kv($0, "path")
			if (!(id in seen)) { seen[id] = 1; ids[++nid] = id }
			rounds[id]++
			split("conns_s req_s median_us p99_us", keys, " ")
			for (i = 1; i <= 4; i++)
				if ((x = kv($0, keys[i])) != "")
					vals[id, keys[i], ++cnt[id, keys[i]]] = x
			failed[id] += kv($0, "failed")
			if ((x = kv($0, "rc")) + 0 > rc[id] + 0) rc[id] = x
			n = split(kv($0, "servers"), sv, ",")
			for (i = 1; i <= n; i++) {
				split(sv[i], p, ":")
				if (!((id, p[1]) in share)) names[id] = names[id] (names[id] == "" ? "" : " ") p[1]
				share[id, p[1]] += p[2] == "" ? 1 : p[2]
			}
		}
		END {
			for (j = 1; j <= nid; j++) {
				id = ids[j]
				split(id, w, " ")
				line = "BENCH " w[1] " path=" w[2] " rounds=" rounds[id]
				for (i = 1; i <= 4; i++) {
					k = id SUBSEP keys[i]
					if (!cnt[k]) continue
					med = median(k)
					line = line " " keys[i] "=" med " " keys[i] "_min=" lo[k] " " keys[i] "_max=" hi[k]
				}
				if (w[1] == "connect") line = line " failed=" failed[id]
				n = split(names[id], nm, " ")
				s = ""
				for (i = 1; i <= n; i++) s = s (i > 1 ? "," : "") nm[i] ":" share[id, nm[i]]
				print line " servers=" s " rc=" (rc[id] == "" ? 0 : rc[id])
			}
		}' "$1"
}

# The table from ext's BENCH lines.
table() {
	awk "$AWK_KV"'
		function cell(x) { return x == "" ? "-" : x }
		function ratio(a, b) { return (a != "" && b != "" && b + 0 > 0) ? sprintf("%.2f", a / b) : "-" }
		function show(label, kind, key,   g, v, d) {
			g = val[kind, "gateway", key]; v = val[kind, "ipvs", key]
			d = val[kind, "direct", key]
			printf "%-22s %14s %14s %16s %14s %14s %14s\n", label, cell(g), cell(v),
				cell(d), ratio(g, v), ratio(g, d), ratio(v, d)
		}
		/^BENCH / {
			path = kv($0, "path")
			n = split("conns_s failed servers req_s median_us p99_us", keys, " ")
			for (i = 1; i <= n; i++)
				if ((x = kv($0, keys[i])) != "")
					val[$2, path, keys[i]] = x
		}
		END {
			printf "%-22s %14s %14s %16s %14s %14s %14s\n", "ext ->", "gateway", "ipvs", "direct",
				"gateway/ipvs", "gateway/direct", "ipvs/direct"
			printf "%-22s %14s %14s %16s\n", "", "10.99.0.1:80", "10.98.0.1:81", "172.31.0.1:8080"
			show("connections/s", "connect", "conns_s")
			show("failed connections", "connect", "failed")
			show("requests/s (rr)", "rr", "req_s")
			show("rr median (us)", "rr", "median_us")
			show("rr p99 (us)", "rr", "p99_us")
			printf "%-22s %14s %14s %16s\n", "servers (connect)", cell(val["connect", "gateway", "servers"]),
				cell(val["connect", "ipvs", "servers"]), cell(val["connect", "direct", "servers"])
		}' "$1"
}

barrier gb-start
fail=0
# 1. every path set up. direct: node0 serves on its own address; gateway:
# the global network on every node, servers on nodes 1..2; ipvs: node0
# directs to the same servers.
if is_gateway; then
	flowbench_serve "$DPORT" node0 --bind "$GW_IP" ||
		echo "flowbench serve failed on node0" >"$ST/failed.$SHMNIC_VM"
	DIRECT_SERVER=$FLOWBENCH_PID
	FLOWBENCH_PID=""
fi
if is_node; then
	if [ ! -e /sys/class/net/shmg0 ]; then
		echo "no shmg0 on $SHMNIC_VM (this shmnic.ko has no global network)" >"$ST/absent.$SHMNIC_VM"
	elif ! global_setup; then
		echo "global_setup failed on $SHMNIC_VM" >"$ST/failed.$SHMNIC_VM"
	elif is_server; then
		flowbench_serve "$GPORT" "$SHMNIC_VM" --bind :: ||
			echo "flowbench serve failed on $SHMNIC_VM" >"$ST/failed.$SHMNIC_VM"
	fi
fi
barrier gb-global-ready
absent=$(cat "$ST"/absent.* 2>/dev/null | head -n 1)
if [ -z "$absent" ]; then
	if is_gateway; then
		if [ ! -s /etc/shmnic/ipvs-modules ]; then
			echo "this kernel has no ip_vs_mh module" >"$ST/no-ipvs.$SHMNIC_VM"
		elif ! ipvs_director; then
			echo "IPVS setup failed on $SHMNIC_VM" >"$ST/failed.$SHMNIC_VM"
		fi
	fi
	if is_server && [ -n "${FLOWBENCH_PID:-}" ]; then
		_gw_server=$FLOWBENCH_PID
		if ! ipvs_real_server || ! flowbench_serve "$VPORT" "$SHMNIC_VM" --bind ::; then
			echo "IPVS real server setup failed on $SHMNIC_VM" >"$ST/failed.$SHMNIC_VM"
		fi
		IPVS_SERVER=$FLOWBENCH_PID
		FLOWBENCH_PID=$_gw_server
	fi
fi
barrier gb-ready
failed=$(cat "$ST"/failed.* 2>/dev/null | head -n 1)
no_ipvs=$(cat "$ST"/no-ipvs.* 2>/dev/null | head -n 1)

# 2. ROUNDS rounds from ext, the paths in turn (each round starts with
# the next path), the median of each figure kept.
if is_ext; then
	echo "# global_bench: $ROUNDS rounds of flowbench connect --conns $CONNS --parallel $PARALLEL and rr --requests $REQUESTS per path, from ext"
	paths=direct
	if [ -n "$absent" ]; then
		echo "# global_bench: gateway and IPVS paths not measured: $absent"
	else
		paths="gateway $paths"
		if [ -n "$no_ipvs" ]; then
			echo "# global_bench: IPVS path not measured: $no_ipvs"
		else
			ip route add "$VIP/32" via "$GW_IP" || fail=1
			paths="$paths ipvs"
		fi
	fi
	if [ -n "$failed" ]; then
		echo "BENCH connect path=all error=setup_failed"
		echo "# $failed"
		fail=1
	else
		: >/tmp/rounds.lines
		r=1
		while [ "$r" -le "$ROUNDS" ]; do
			for p in $(rotate "$r" $paths); do
				# (a failed measurement says rc=N in its lines)
				# shellcheck disable=SC2046 # address and port
				measure "$p" $(target "$p") | sed "s/^BENCH /ROUND $r /" >>/tmp/rounds.lines
			done
			r=$((r + 1))
		done
		sed 's/^/# /' /tmp/rounds.lines
		medians /tmp/rounds.lines | tee /tmp/bench.lines
		grep -q ' rc=[^0]' /tmp/bench.lines && fail=1
		echo
		table /tmp/bench.lines
	fi
fi
barrier gb-done
if is_gateway && [ -z "$no_ipvs" ] && [ -z "$absent" ]; then
	ipvsadm -Ln --stats | sed 's/^/# ipvs: /'
fi
for _pid in "${DIRECT_SERVER:-}" "${IPVS_SERVER:-}"; do
	[ -n "$_pid" ] || continue
	kill -TERM "$_pid"
	wait "$_pid" || { info "a flowbench serve did not exit cleanly"; fail=1; }
done
if is_server && [ -n "${FLOWBENCH_PID:-}" ]; then
	flowbench_stop || { info "flowbench serve did not exit cleanly"; fail=1; }
fi
[ "$fail" = 0 ] || exit 1
if [ -n "$absent" ]; then
	ktap_skip_all "gateway path not measured: $absent"
fi
exit 0
