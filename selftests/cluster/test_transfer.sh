#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# nodes: 2
# timeout: 300
#
# A 64 MiB random file sent from node0 to node1 over shml0 arrives intact.
. "${SHMNIC_LIB:-$(dirname "$0")/lib.sh}"
require_shml0
require_nodes 2
ktap_header
ktap_plan 1

PORT=5001
SIZE=$((64 * 1024 * 1024))
case $ME in
0)
	dd if=/dev/urandom of=/tmp/file bs=1M count=64 2>/dev/null
	ensure_pass "64 MiB of random data" [ "$(wc -c </tmp/file)" = $SIZE ]
	sha256sum </tmp/file | cut -d' ' -f1 >"$SHMNIC_OUT/transfer.sha256"
	barrier file-ready
	barrier listening
	start=$(date +%s)
	socat -u OPEN:/tmp/file "TCP:$(ip_of 1):$PORT,connect-timeout=10"
	rc=$?
	info "sent 64 MiB in $(($(date +%s) - start)) s (socat rc $rc)"
	barrier sent
	ktap_result "transfer_64MiB_send" $rc
	;;
1)
	barrier file-ready
	socat -u "TCP-LISTEN:$PORT,reuseaddr" CREATE:/tmp/file &
	pid=$!
	busywait 5000 sh -c "netstat -ltn 2>/dev/null | grep -q ':$PORT '"
	barrier listening
	barrier sent
	wait $pid
	want=$(cat "$SHMNIC_OUT/transfer.sha256")
	got=$(sha256sum </tmp/file | cut -d' ' -f1)
	size=$(wc -c </tmp/file)
	info "size $size sha256 $got (sent $want)"
	ok=1
	[ "$size" = $SIZE ] && [ "$got" = "$want" ] && ok=0
	ktap_result "transfer_64MiB_sha256" $ok
	;;
*)
	barrier file-ready
	barrier listening
	barrier sent
	ktap_skip "transfer_64MiB" "node $ME only watches"
	;;
esac
ktap_finish
