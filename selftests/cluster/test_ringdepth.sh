#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# nodes: 3
# timeout: 300
#
# Each node chooses the depth of the rings it receives on: ethtool -G
# shml0 rx N (within the geometry the region was formatted with). Senders
# pick the change up by the node's new epoch. Changing it under a TCP
# stream keeps the stream going; bad values are refused; setting the same
# value again changes nothing.
. "${SHMNIC_LIB:-$(dirname "$0")/lib.sh}"
require_shml0
require_nodes 2
ktap_header
ktap_plan 6

rx_depth() { ethtool -g shml0 | awk '/^Current/ { c = 1 } c && /^RX:/ { print $2; exit }'; }
rx_max() { ethtool -g shml0 | awk '/^Pre-set/ { c = 1 } c && /^RX:/ { print $2; exit }'; }
epochs() { dmesg | grep -c "receive rings now"; }

case $ME in
1)
	max=$(rx_max)
	info "rx depth $(rx_depth) of $max"
	iperf3_server
	barrier server-up
	barrier streaming
	ok=0
	for n in 128 $((max / 2)) $max; do
		ethtool -G shml0 rx "$n" && [ "$(rx_depth)" = "$n" ] || ok=1
		info "rx depth now $(rx_depth)"
		sleep 1
	done
	ktap_result "set_rx_depth_under_traffic" $ok
	barrier changed
	barrier done
	iperf3_server_stop
	# refused: not a power of two, too small for two 64 KiB frames,
	# more than the region holds, a TX depth
	ok=0
	for bad in "rx 100" "rx 64" "rx $((max * 2))" "tx 128"; do
		# shellcheck disable=SC2086
		ethtool -G shml0 $bad 2>/dev/null && { info "accepted: $bad"; ok=1; }
	done
	[ "$(rx_depth)" = "$max" ] || ok=1
	ktap_result "bad_depths_refused" $ok
	before=$(epochs)
	ethtool -G shml0 rx "$max" 2>/dev/null
	ktap_result "same_depth_changes_nothing" $([ "$(epochs)" = "$before" ]; echo $?)
	ethtool -G shml0 rx 128 && ping_ok "$(ip_of 0)" 3
	ktap_result "reachable_at_depth_128" $?
	barrier last
	# stay up until node0 has pinged us
	barrier checked
	ktap_skip "stream_survives" "node0 streams"
	ktap_skip "senders_follow" "node0 checks"
	;;
0)
	barrier server-up
	iperf3 -c "$(ip_of 1)" -t 12 -J >/tmp/tcp.json 2>&1 &
	pid=$!
	sleep 2
	barrier streaming
	barrier changed
	wait $pid
	rc=$?
	bps=$(jq -r '.end.sum_received.bits_per_second // 0' </tmp/tcp.json)
	info "stream across three depth changes: rc $rc, $bps bit/s"
	ok=1
	[ "$rc" = 0 ] && [ "${bps%%.*}" -gt 0 ] && ok=0
	ktap_result "stream_survives" $ok
	barrier done
	barrier last
	# node1 now receives on 128 slots: our frames to it still arrive
	busywait 5000 ping_ok "$(ip_of 1)" 3
	ktap_result "senders_follow" $?
	barrier checked
	ktap_skip "set_rx_depth_under_traffic" "node1 does it"
	ktap_skip "bad_depths_refused" "node1 does it"
	ktap_skip "same_depth_changes_nothing" "node1 does it"
	ktap_skip "reachable_at_depth_128" "node1 does it"
	;;
*)
	for b in server-up streaming changed done last checked; do barrier $b; done
	for t in set_rx_depth_under_traffic bad_depths_refused \
		same_depth_changes_nothing reachable_at_depth_128 \
		stream_survives senders_follow; do
		ktap_skip "$t" "node0 and node1 only"
	done
	;;
esac
ktap_finish
