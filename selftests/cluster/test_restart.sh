#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# nodes: 3
# timeout: 300
# checker-lane: skip test_failover boots its killed node again on this lane: a new epoch, reachable within 5 s
#
# node2's VM is killed and booted again: the ivshmem server gives it its id
# back, it rejoins with a new epoch, and is reachable within 5 s of being
# configured.
. "${SHMNIC_LIB:-$(dirname "$0")/lib.sh}"
require_shml0
require_nodes 3
ktap_header

if [ "$ME" = 2 ]; then
	ktap_plan 1
	if [ "${SHMNIC_RESTARTED:-0}" = 0 ]; then
		barrier up
		sleep 600	# killed and restarted before this ends
		exit 1
	fi
	epoch=$(dmesg | sed -n 's/.*node 2 of [0-9]*, epoch \([0-9]*\).*/\1/p' | tail -1)
	info "back with epoch $epoch"
	ok=1
	[ "${epoch:-0}" -ge 2 ] && ok=0
	ktap_result "new_epoch" $ok
	barrier back
	barrier done
	ktap_finish
fi

ktap_plan 3
barrier up
[ "$ME" = 0 ] && killvm --restart node2
barrier back
t0=$(cut -d' ' -f1 /proc/uptime)
busywait 5000 ping_ok "$(ip_of 2)"
rc=$?
info "node2 answered after $(awk "BEGIN { print $(cut -d' ' -f1 /proc/uptime) - $t0 }") s"
ktap_result "reachable_within_5s" $rc
busywait 5000 ping_ok "$(ip6_of 2)"
ktap_result "reachable_ipv6" $?
dmesg | grep -q "node 2 up (epoch [2-9]" 
ktap_result "saw_new_epoch" $?
barrier done
ktap_finish
