#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# nodes: 3
# timeout: 120
# checker-lane: skip module load, MACs and barriers: every other test starts the same way
#
# Smoke test of the cluster itself: every VM has shml0 with the MAC of its
# node id (02:53:4d:00:HH:LL), up and addressed, and barriers hold every
# node until all of them arrived.
. "${SHMNIC_LIB:-$(dirname "$0")/lib.sh}"
ktap_header
ktap_plan 5

if [ "${SHMNIC_LOADED:-0}" = 1 ]; then
	check shml0_exists test -e /sys/class/net/shml0
	mac=$(cat /sys/class/net/shml0/address 2>/dev/null)
	info "shml0 MAC $mac, expected $(mac_of "$ME")"
	check shml0_mac_is_node_id [ "$mac" = "$(mac_of "$ME")" ]
	check shml0_addressed sh -c "ip -br addr show dev shml0 | grep -q ' $(ip_of "$ME")/24 .*$(ip6_of "$ME")/64'"
else
	ktap_skip shml0_exists "shmnic not loaded"
	ktap_skip shml0_mac_is_node_id "shmnic not loaded"
	ktap_skip shml0_addressed "shmnic not loaded"
fi

# Everyone leaves a mark before the barrier: after it, all marks are there.
mkdir -p "$SHMNIC_OUT/boot-marks"
touch "$SHMNIC_OUT/boot-marks/$ME"
barrier marks
n=$(ls "$SHMNIC_OUT/boot-marks" | wc -l)
info "$n of $NODES marks after barrier 'marks'"
check barrier_waits_for_all [ "$n" = "$NODES" ]

# The last node to arrive is held back: nobody passes before it arrives.
[ "$ME" = $((NODES - 1)) ] && sleep 2 && touch "$SHMNIC_OUT/late-arrived"
barrier late
check barrier_waits_for_late_node test -e "$SHMNIC_OUT/late-arrived"
ktap_finish
