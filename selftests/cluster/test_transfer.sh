#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# nodes: 2
# timeout: 300
# checker-lane: skip TCP with a sha256 check is test_rmmod_storm's last step on this lane, test_iperf carries more
#
# A 64 MiB random file sent from node0 to node1 over shml0 arrives intact.
. "${SHMNIC_LIB:-$(dirname "$0")/lib.sh}"
require_shml0
require_nodes 2
ktap_header
ktap_plan 1

PORT=5001
case $ME in
0)
	file_make 64 transfer
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
	file_listen $PORT
	barrier listening
	barrier sent
	file_check "transfer_64MiB_sha256" 64 transfer
	;;
*)
	barrier file-ready
	barrier listening
	barrier sent
	ktap_skip "transfer_64MiB" "node $ME only watches"
	;;
esac
ktap_finish
