# shellcheck shell=sh
# SPDX-License-Identifier: GPL-2.0
#
# Helpers for cluster selftests. Source it from a test run inside the VMs
# of qemu/cluster (busybox sh):
#     . "$(dirname "$0")/lib.sh"       # or: . /usr/lib/shmnic/lib.sh
#
# Exit codes (kselftest): 0 pass, 1 fail, 4 skip.
#
# Environment (set by the VM init): SHMNIC_NODE_ID (-1 on ext),
# SHMNIC_NODES (nodes, ext not counted), SHMNIC_ROLE (node, or ext on the
# external VM of qemu/cluster --external), SHMNIC_EXTERNAL (0/1: the run
# has ext), SHMNIC_VM (nodeI or ext), SHMNIC_RESTARTED (0/1), SHMNIC_LOADED
# (0/1: shmnic loaded and shml0 configured; 0 on ext), SHMNIC_OUT (a
# directory shared with the host and every VM of the run). Commands:
# barrier NAME [TIMEOUT_S] (every VM, ext included), killvm [--restart] NAME.

KSFT_PASS=0
KSFT_FAIL=1
KSFT_SKIP=4

ME=${SHMNIC_NODE_ID:-0}
NODES=${SHMNIC_NODES:-1}
KTAP_COUNT=0
KTAP_FAILED=0

# --- addresses -------------------------------------------------------------
ip_of() { echo "10.10.0.$(($1 + 1))"; }     # shml0, IPv4
ip6_of() { echo "fd00:10::$(($1 + 1))"; }   # shml0, IPv6
vip_of() { echo "10.20.0.$(($1 + 1))"; }    # eth0 (virtio-net, node0/1)
vip6_of() { echo "fd00:20::$(($1 + 1))"; }  # eth0, IPv6
mac_of() { printf '02:53:4d:00:%02x:%02x\n' $(($1 >> 8 & 255)) $(($1 & 255)); }

# qemu/cluster --external: ext (eth0) and node0's interface to it (eth0;
# node0's link to node1 is then eth1).
EXT_IP=172.31.0.2
EXT_IP6=fd00:31::2
GW_IP=172.31.0.1
GW_IP6=fd00:31::1
# The global network's address, the same on every node (shmg0).
GLOBAL_IP=10.99.0.1
GLOBAL_IP6=fd00:99::1

is_ext() { [ "${SHMNIC_ROLE:-node}" = ext ]; }
is_node() { [ "${SHMNIC_ROLE:-node}" = node ]; }
# node0 is the gateway between ext and the global network.
is_gateway() { is_node && [ "$ME" = 0 ]; }
# The virtio-net interface of node0/node1 to each other.
vdev_of_me() {
	if [ "${SHMNIC_EXTERNAL:-0}" = 1 ] && [ "$ME" = 0 ]; then echo eth1; else echo eth0; fi
}

# Node ids other than this one.
other_nodes() {
	_i=0
	while [ "$_i" -lt "$NODES" ]; do
		[ "$_i" = "$ME" ] || echo "$_i"
		_i=$((_i + 1))
	done
}

all_nodes() { seq 0 $((NODES - 1)); }

# --- KTAP output -------------------------------------------------------------
# Lines are prefixed by nothing: each VM's output is its own log.
ktap_header() { echo "TAP version 13"; }
ktap_plan() { echo "1..$1"; }
info() { echo "# $SHMNIC_VM: $*"; }

ktap_ok() {
	KTAP_COUNT=$((KTAP_COUNT + 1))
	echo "ok $KTAP_COUNT $*"
}

ktap_fail() {
	KTAP_COUNT=$((KTAP_COUNT + 1))
	KTAP_FAILED=$((KTAP_FAILED + 1))
	echo "not ok $KTAP_COUNT $*"
}

# ktap_skip NAME REASON...
ktap_skip() {
	_n=$1
	shift
	KTAP_COUNT=$((KTAP_COUNT + 1))
	echo "ok $KTAP_COUNT $_n # SKIP $*"
}

# ktap_result NAME RC: ok if RC is 0, else not ok.
ktap_result() {
	if [ "$2" = 0 ]; then ktap_ok "$1"; else ktap_fail "$1"; fi
}

# Exit with 1 if any ktap_fail happened, else 0.
ktap_finish() {
	echo "# $SHMNIC_VM: $KTAP_COUNT tests, $KTAP_FAILED failed"
	[ "$KTAP_FAILED" = 0 ] && exit $KSFT_PASS
	exit $KSFT_FAIL
}

# Skip the whole test (the harness reports SKIP if every node does so).
ktap_skip_all() {
	echo "# SKIP $*"
	exit $KSFT_SKIP
}

# --- checks ----------------------------------------------------------------
# check NAME CMD...: run CMD, report ok/not ok NAME.
check() {
	_n=$1
	shift
	if "$@"; then ktap_ok "$_n"; else ktap_fail "$_n"; fi
}

# ensure_pass DESC CMD...: CMD must succeed, else fail the test at once.
ensure_pass() {
	_d=$1
	shift
	"$@" && return 0
	echo "# $SHMNIC_VM: FAIL: $_d: '$*' failed" >&2
	exit $KSFT_FAIL
}

# ensure_fail DESC CMD...: CMD must fail, else fail the test at once.
ensure_fail() {
	_d=$1
	shift
	"$@" || return 0
	echo "# $SHMNIC_VM: FAIL: $_d: '$*' succeeded" >&2
	exit $KSFT_FAIL
}

# busywait TIMEOUT_MS CMD...: retry CMD every 0.1 s until it succeeds
# (return 0) or TIMEOUT_MS passed (return CMD's last status).
busywait() {
	_limit=$(($1 / 100))
	shift
	_t=0
	while :; do
		"$@" && return 0
		_rc=$?
		[ "$_t" -ge "$_limit" ] && return $_rc
		sleep 0.1
		_t=$((_t + 1))
	done
}

# Skip the test unless the run has ext (a test header
# "# cluster-args: --external" asks run_all for it).
require_external() {
	[ "${SHMNIC_EXTERNAL:-0}" = 1 ] ||
		ktap_skip_all "needs qemu/cluster --external"
}

# Skip the test unless shmnic is loaded and shml0 configured.
require_shml0() {
	[ "${SHMNIC_LOADED:-0}" = 1 ] && [ -e /sys/class/net/shml0 ] ||
		ktap_skip_all "shmnic not loaded (qemu/cluster --no-load?)"
}

# checker_kernel: true on the debug lane's kernel (KASAN, lockdep,
# kmemleak). It runs several times slower than Debian's, and its throughput
# varies by a factor of two within one run: no throughput figure taken on it
# is a measure.
checker_kernel() { [ -e /sys/kernel/debug/kmemleak ]; }

# shml0_configure: shml0 up with this node's addresses, as qemu/init sets
# it up (after a reload of the module). One ip process: on a checker
# kernel each exec costs a good part of a second.
shml0_configure() {
	printf 'link set shml0 up\naddr add %s/24 dev shml0\naddr add %s/64 dev shml0 nodad\n' \
		"$(ip_of "$ME")" "$(ip6_of "$ME")" | ip -batch -
}

# now: this VM's uptime in seconds; since T0 [T1]: T1 (default: now) - T0,
# in seconds with two decimals. uptime_cs: the uptime in hundredths of a
# second in $UPTIME_CS, without a fork.
now() { cut -d' ' -f1 /proc/uptime; }
uptime_cs() {
	read -r _up _ </proc/uptime
	UPTIME_CS=$(( ${_up%.*} * 100 + 1${_up#*.} - 100 ))
}
since() { awk "BEGIN { printf \"%.2f\", ${2:-$(now)} - $1 }"; }

require_nodes() {
	[ "$NODES" -ge "$1" ] || ktap_skip_all "needs at least $1 nodes, have $NODES"
}

# ping_ok IP [COUNT]: IP answers (ping -c COUNT, default 1, 2 s deadline each).
ping_ok() {
	case $1 in
	*:*) ping -6 -c "${2:-1}" -W 2 "$1" >/dev/null 2>&1 ;;
	*) ping -c "${2:-1}" -W 2 "$1" >/dev/null 2>&1 ;;
	esac
}

# --- iperf3 ------------------------------------------------------------------
# iperf3_server: start "iperf3 -s" in the background, wait until it listens.
iperf3_server() {
	iperf3 -s -D -I /tmp/iperf3.pid
	busywait 5000 sh -c "netstat -ltn 2>/dev/null | grep -q ':5201 '"
}

iperf3_server_stop() { kill "$(cat /tmp/iperf3.pid)" 2>/dev/null; }

# iperf3_tcp NAME ADDR SECONDS: a TCP run to ADDR; ok NAME if iperf3
# succeeded and data arrived.
iperf3_tcp() {
	iperf3 -c "$2" -t "$3" -J >/tmp/tcp.json 2>&1
	_rc=$?
	_bps=$(jq -r '.end.sum_received.bits_per_second // 0' </tmp/tcp.json)
	info "tcp to $2: rc $_rc, $_bps bit/s"
	_ok=1
	[ "$_rc" = 0 ] && [ "${_bps%%.*}" -gt 0 ] && _ok=0
	ktap_result "$1" $_ok
}

# stat_of NAME [DEV]: the value of counter NAME in ethtool -S DEV (default
# shml0; 0 if absent).
stat_of() {
	ethtool -S "${2:-shml0}" | awk -v n="$1:" '$1 == n { v = $2 } END { print v + 0 }'
}

# stat_sum ERE: the sum of the ethtool -S shml0 counters whose names match
# the extended regular expression ERE (anchored), e.g. 'mcast[0-9]+_rx_packets'.
stat_sum() {
	ethtool -S shml0 | awk -v re="^($1):\$" '$1 ~ re { s += $2 } END { print s + 0 }'
}

# --- files over TCP ----------------------------------------------------------
# file_make MIB TAG: /tmp/file holding MIB MiB of random data (size
# checked); its sha256 goes to $SHMNIC_OUT/TAG.sha256 for the receiver.
file_make() {
	dd if=/dev/urandom of=/tmp/file bs=1M count="$1" 2>/dev/null
	ensure_pass "$1 MiB of random data" [ "$(wc -c </tmp/file)" = $(($1 * 1048576)) ]
	sha256sum </tmp/file | cut -d' ' -f1 >"$SHMNIC_OUT/$2.sha256"
}

# file_listen PORT: receive one TCP connection into /tmp/file, in the
# background; returns once listening.
file_listen() {
	socat -u "TCP-LISTEN:$1,reuseaddr" CREATE:/tmp/file &
	FILE_PID=$!
	busywait 5000 sh -c "netstat -ltn 2>/dev/null | grep -q ':$1 '"
}

# file_check NAME MIB TAG: wait for file_listen's connection to end; ok NAME
# if /tmp/file holds MIB MiB with the sha256 the sender left in TAG.
file_check() {
	wait "$FILE_PID"
	_want=$(cat "$SHMNIC_OUT/$3.sha256")
	_got=$(sha256sum </tmp/file | cut -d' ' -f1)
	_size=$(wc -c </tmp/file)
	info "size $_size sha256 $_got (sent $_want)"
	_ok=1
	[ "$_size" = $(($2 * 1048576)) ] && [ "$_got" = "$_want" ] && _ok=0
	ktap_result "$1" $_ok
}

# --- global network (shmg0) ----------------------------------------------------
# global_setup: this node's part of the global network: GLOBAL_IP and
# GLOBAL_IP6 on shmg0 (every node the same), no reverse-path filtering;
# the gateways forward. With one gateway the nodes route ext's network
# through node0 over shml0 (static routes; qemu/init routes 10.99.0.0/24
# and fd00:99::/64 on ext through node0). With several (qemu/cluster
# --gateways), BIRD routes: its routes out of the cluster take the GLOBAL
# address as source, so the kernel accepts them only now; wait (10 s) until
# they are there. Nothing to do on ext. Returns non-zero on the first
# failure.
global_setup() {
	is_ext && return 0
	[ -e /sys/class/net/shmg0 ] || { info "global_setup: no shmg0"; return 1; }
	ip link set shmg0 up || return 1
	shmnicctl global add dev shmg0 addr "$GLOBAL_IP" &&
	shmnicctl global add dev shmg0 addr "$GLOBAL_IP6" &&
	sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.shmg0.rp_filter=0 ||
		return 1
	if is_gateway; then
		sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
			net.ipv4.conf.shml0.accept_local=1
	elif [ "${SHMNIC_GATEWAYS:-1}" -ge 2 ] && [ "${SHMNIC_ROUTING:-bird}" = static ]; then
		routes_out_via 0
	elif [ "${SHMNIC_GATEWAYS:-1}" -ge 2 ]; then
		busywait 10000 route_from_global "$EXT_IP" &&
			busywait 10000 route_from_global "$EXT_IP6"
	else
		ip route add 172.31.0.0/24 via 10.10.0.1 dev shml0 src "$GLOBAL_IP" &&
		ip -6 route add fd00:31::/64 via fd00:10::1 dev shml0 src "$GLOBAL_IP6"
	fi
}

# routes_out_via ID...: (qemu/cluster --routing static) this node's way to
# ext's links, over shml0 through gateway ID, or through several (ECMP:
# the kernel needs CONFIG_IP_ROUTE_MULTIPATH, which the checker kernel
# has not), from the GLOBAL address; replaces what was there (a script
# playing the routing daemon when a gateway dies).
routes_out_via() {
	_v4=""
	_v6=""
	_nh=""
	[ $# -gt 1 ] && _nh=nexthop
	for _g in "$@"; do
		_v4="$_v4 $_nh via $(ip_of "$_g") dev shml0"
		_v6="$_v6 $_nh via $(ip6_of "$_g") dev shml0"
	done
	# shellcheck disable=SC2086 # one word per nexthop field
	ip route replace 172.31.0.0/16 src "$GLOBAL_IP" $_v4 &&
		ip -6 route replace fd00:31::/32 src "$GLOBAL_IP6" $_v6
}

# Is this node one of the gateways (node0, or node0..node(N-1) with
# qemu/cluster --gateways N)?
is_gateway() {
	! is_ext && [ "$ME" -lt "${SHMNIC_GATEWAYS:-1}" ]
}

# The kernel's route to ADDR leaves shml0 from the GLOBAL address.
route_from_global() { # ADDR
	case $1 in
	*:*) ip -6 route get "$1" 2>/dev/null | grep -q "dev shml0 .*src $GLOBAL_IP6" ;;
	*) ip route get "$1" 2>/dev/null | grep -q "dev shml0 .*src $GLOBAL_IP" ;;
	esac
}

# --- flowbench -------------------------------------------------------------------
# flowbench_serve PORT NAME [ARGS...]: "flowbench serve" (TCP and UDP) in
# the background, PID in FLOWBENCH_PID, output in /tmp/flowbench.PORT.log;
# returns once it listens (5 s), else non-zero.
flowbench_serve() {
	_p=$1
	_n=$2
	shift 2
	flowbench serve --port "$_p" --name "$_n" "$@" >"/tmp/flowbench.$_p.log" 2>&1 &
	FLOWBENCH_PID=$!
	busywait 5000 sh -c "netstat -ltn 2>/dev/null | grep -q ':$_p '"
}

# spread FILE N A B: flowbench connect's JSON: all N ok, only servers A
# and B answered, each at least 30% of N.
spread() {
	jq -e --argjson n "$2" --arg a "$3" --arg b "$4" '.passed and .ok == $n and
		((.servers | keys) - [$a, $b] | length) == 0 and
		(.servers[$a] // 0) * 10 >= $n * 3 and
		(.servers[$b] // 0) * 10 >= $n * 3' "$1" >/dev/null
}

# connect_spread NAME ADDR N A B: N connections to ADDR:80 (4 at a time),
# checked as NAME: spread over servers A and B.
connect_spread() {
	flowbench connect "$2" 80 --conns "$3" --parallel 4 -j >"/tmp/$1.json"
	info "$1: $(jq -c '{ok, failed, servers, failures, conns_per_s}' "/tmp/$1.json")"
	check "$1" spread "/tmp/$1.json" "$3" "$4" "$5"
}

# published: how many listeners this node publishes for the gateways
# (include/shmnic/listen.h), by its gauge gw_listeners_published.
published() {
	stat_of gw_listeners_published shmg0
}

# published_is CMP N: "published" compares to N (test's -ge, -eq, ...);
# wait_published CMP N: until it does, within 5 s (the node walks its
# sockets once per heartbeat).
published_is() {
	test "$(published)" "$1" "$2"
}
wait_published() {
	busywait 5000 published_is "$1" "$2"
}

# flowbench_stop: SIGTERM the server of flowbench_serve, wait for it;
# returns its exit status (0: it exited cleanly).
flowbench_stop() {
	[ -n "${FLOWBENCH_PID:-}" ] || return 0
	kill "$FLOWBENCH_PID" 2>/dev/null
	wait "$FLOWBENCH_PID"
	_rc=$?
	FLOWBENCH_PID=""
	return $_rc
}
