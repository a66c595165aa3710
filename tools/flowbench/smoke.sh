#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# smoke.sh FLOWBENCH: the CTest smoke test of flowbench on this host.
# "flowbench serve --udp" on [::] (a free port), then connect, rr and udp
# over 127.0.0.1 and ::1 must pass and name the server; connect to a port
# nobody serves must fail (refused); SIGTERM must stop the server with
# status 0. Bounded: every client has a timeout, the whole test 60 s.
set -euo pipefail

FB=${1:?usage: smoke.sh FLOWBENCH}
TMP=$(mktemp -d /tmp/flowbench-smoke.XXXXXX)
PID=""
FAILED=0

cleanup() {
	[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; FAILED=1; }

# 127.0.0.1 and ::1 (skip ::1 only if this host has no IPv6 loopback)
ADDRS="127.0.0.1"
if [ -e /proc/net/if_inet6 ] && grep -q '^0*1 ' /proc/net/if_inet6; then
	ADDRS="$ADDRS ::1"
else
	echo "# no IPv6 loopback on this host: ::1 not tested"
fi

# a free port: the server exits at once if the bind fails
for _ in 1 2 3 4 5 6 7 8 9 10; do
	PORT=$((20000 + RANDOM % 20000))
	"$FB" serve --port "$PORT" --name smoke-srv --udp 2>"$TMP/serve.log" &
	PID=$!
	for _ in $(seq 50); do
		grep -q listening "$TMP/serve.log" && break
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$PID" 2>/dev/null && grep -q listening "$TMP/serve.log" && break
	wait "$PID" 2>/dev/null || true
	PID=""
	echo "# port $PORT: $(cat "$TMP/serve.log")"
done
[ -n "$PID" ] || { echo "not ok - server did not start"; exit 1; }
echo "# $(cat "$TMP/serve.log")"

# run NAME EXPECT CMD...: CMD's exit status must be EXPECT (0 or 1), and
# on success its output must name the server.
run() {
	local name=$1 want=$2 st=0
	shift 2
	timeout 30 "$@" >"$TMP/out" 2>&1 || st=$?
	sed 's/^/# /' "$TMP/out"
	if [ "$st" != "$want" ]; then
		not_ok "$name (exit $st, expected $want)"
	elif [ "$want" = 0 ] && ! grep -q smoke-srv "$TMP/out"; then
		not_ok "$name (server name missing)"
	else
		ok "$name"
	fi
}

for a in $ADDRS; do
	run "connect $a" 0 "$FB" connect "$a" "$PORT" --conns 300 --parallel 40 --size 1000
	run "connect $a sequential" 0 "$FB" connect "$a" "$PORT" --conns 200
	run "connect $a json, large" 0 "$FB" connect "$a" "$PORT" --conns 20 --parallel 20 --size 300000 -j
	grep -q '"passed":true' "$TMP/out" && grep -q '"servers":{"smoke-srv":20}' "$TMP/out" ||
		not_ok "connect $a json fields"
	run "rr $a" 0 "$FB" rr "$a" "$PORT" --requests 2000 --size 100
	run "rr $a json" 0 "$FB" rr "$a" "$PORT" --requests 100 -j
	grep -q '"completed":100' "$TMP/out" || not_ok "rr $a json fields"
	run "udp $a" 0 "$FB" udp "$a" "$PORT" --flows 20 --packets 20 --size 200
	run "udp $a json" 0 "$FB" udp "$a" "$PORT" --flows 4 --packets 5 -j
	grep -q '"lost":0' "$TMP/out" && grep -q '"non_sticky_flows":0' "$TMP/out" ||
		not_ok "udp $a json fields"
done

# failures must be failures: nobody listens on PORT+1 (checked first)
if [ -z "$(ss -Htln "sport = :$((PORT + 1))" 2>/dev/null)" ]; then
	run "connect refused" 1 "$FB" connect 127.0.0.1 $((PORT + 1)) --conns 3 -j
	grep -q '"refused":3' "$TMP/out" || not_ok "refusals counted"
	# paced: refusals come at once, the 4th attempt still starts 600 ms in
	run "connect refused, paced" 1 "$FB" connect 127.0.0.1 $((PORT + 1)) --conns 4 \
		--interval-ms 200 -j
	e=$(sed -n 's/.*"elapsed_s":\([0-9.]*\).*/\1/p' "$TMP/out")
	if grep -q '"refused":4' "$TMP/out" && awk "BEGIN { exit !($e >= 0.6 && $e < 5) }"; then
		ok "--interval-ms paces attempts that fail at once ($e s for 4)"
	else
		not_ok "--interval-ms: 4 refused attempts took '$e' s, want 0.6 to 5"
	fi
	run "udp unanswered" 1 "$FB" udp 127.0.0.1 $((PORT + 1)) --flows 2 --packets 2 --timeout-ms 100 --retries 1
fi
run "usage error" 2 "$FB" connect 127.0.0.1

# stray: a late ACK to the listening port gets a RST, a RST gets nothing, a
# plain SYN a SYN+ACK
if [ "$(id -u)" = 0 ]; then
	for a in $ADDRS; do
		stray() { # KIND EXPECTED-REPLY
			timeout 10 "$FB" stray "$a" "$PORT" --kind "$1" --timeout-ms 500 -j >"$TMP/out" 2>&1 || true
			sed 's/^/# /' "$TMP/out"
			if grep -q "\"reply\":\"$2\"" "$TMP/out"; then
				ok "stray $1 $a: reply $2"
			else
				not_ok "stray $1 $a: expected reply $2"
			fi
		}
		stray ack rst
		stray fin rst
		stray synack rst
		stray rst none
		stray syn syn,ack
	done
else
	echo "# SKIP stray: raw sockets need root (CAP_NET_RAW), this is uid $(id -u)"
fi
run "usage error stray" 2 "$FB" stray 127.0.0.1 80 --kind synfin

# stream: A sends to B's port; B goes and comes back: A connects again.
# Both report bytes moved on SIGTERM.
stream_json() { # FILE KEY: the number KEY in FILE's JSON
	sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p" "$1"
}
SP=$((PORT + 2))
"$FB" stream --port "$SP" -j >"$TMP/b1" 2>/dev/null &
B=$!
sleep 0.3
"$FB" stream --port $((SP + 1)) --to-port "$SP" --retry-ms 50 127.0.0.1 -j >"$TMP/a" 2>/dev/null &
A=$!
sleep 0.5
kill -TERM "$B"
wait "$B" || true
sleep 0.3
"$FB" stream --port "$SP" -j >"$TMP/b2" 2>/dev/null &
B=$!
sleep 0.5
kill -TERM "$A" "$B"
wait "$A" "$B" || true
sed 's/^/# a: /' "$TMP/a"
sed 's/^/# b: /' "$TMP/b1" "$TMP/b2"
if [ "$(stream_json "$TMP/a" connections)" -ge 2 ] 2>/dev/null &&
	[ "$(stream_json "$TMP/b1" received)" -gt 0 ] 2>/dev/null &&
	[ "$(stream_json "$TMP/b2" received)" -gt 0 ] 2>/dev/null; then
	ok "stream connects again once its peer is back"
else
	not_ok "stream: expected 2 connections, and bytes at both receivers"
fi

kill -TERM "$PID"
st=0
wait "$PID" || st=$?
PID=""
if [ "$st" = 0 ] && grep -q 'stopped:' "$TMP/serve.log"; then
	ok "serve exits 0 on SIGTERM ($(grep stopped: "$TMP/serve.log"))"
else
	not_ok "serve on SIGTERM: exit $st; $(tail -n 2 "$TMP/serve.log")"
fi
exit $FAILED
