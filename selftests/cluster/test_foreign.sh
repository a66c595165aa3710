#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# nodes: 3
# timeout: 300
# cluster-args: --no-load --region-fill lookingglass
#
# With the module installed, udev loads it for every ivshmem device,
# including one that carries someone else's shared memory: it must never
# format that. The region starts with a Looking Glass (KVMFR) header and
# 1 MiB of random bytes (qemu/cluster --region-fill). Every node loads
# shmnic.ko: the module loads but binds no device (no shml0), and its
# message says why and names force_format=1; the region's sha256 on the
# host is what it was before. Then node0 loads it with force_format=1: it
# formats the region (its sha256 changes), the other nodes bind as usual,
# and every node pings every other. (An all-zero region is formatted
# without force_format=1 by every other test.)
. "${SHMNIC_LIB:-$(dirname "$0")/lib.sh}"
require_nodes 3
grep -q 'shmnic.ko$' /etc/shmnic/shmnic-modules 2>/dev/null ||
	ktap_skip_all "shmnic.ko is not in the image (make module)"

# load_shmnic [PARAMS...]: shmnic.ko and what it needs, as qemu/init would.
load_shmnic() {
	while read -r _m; do
		case $_m in
		*/shmnic.ko) insmod "$_m" "$@" || return 1 ;;
		*) insmod "$_m" 2>/dev/null ;;
		esac
	done </etc/shmnic/shmnic-modules
	grep -q '^shmnic ' /proc/modules
}

# refused: the module said why it left the region alone, naming
# force_format=1.
refused() {
	_msg=$(dmesg | grep "not shmnic's" | tail -n 1)
	info "kernel: ${_msg#*] }"
	echo "$_msg" | grep -q "left untouched; load with force_format=1"
}

# ping_all: every other node answers on shml0 (10 s each).
ping_all() {
	for _p in $(other_nodes); do
		busywait 10000 ping_ok "$(ip_of "$_p")" || return 1
	done
}

ktap_header
ktap_plan 7
SUMS=$SHMNIC_OUT/foreign
[ "$ME" = 0 ] && regionsum >"$SUMS.before"
barrier before

check "module_loads" load_shmnic
sleep 2
check "no_device_bound" test ! -e /sys/class/net/shml0
check "refusal_names_force_format" refused
barrier tried

# same_sum A B, differ_sum A B: two sha256 the host gave, equal or not.
same_sum() { [ -s "$1" ] && [ -s "$2" ] && cmp -s "$1" "$2"; }
differ_sum() { [ -s "$1" ] && [ -s "$2" ] && ! cmp -s "$1" "$2"; }

# bind [PARAMS...]: unload, load again with PARAMS, shml0 configured.
bind() {
	rmmod shmnic && load_shmnic "$@" &&
		busywait 10000 test -e /sys/class/net/shml0 && shml0_configure
}

if [ "$ME" = 0 ]; then
	regionsum >"$SUMS.after"
	info "region sha256 before $(cat "$SUMS.before"), after $(cat "$SUMS.after")"
	check "region_untouched" same_sum "$SUMS.before" "$SUMS.after"
	check "bound_with_force_format" bind force_format=1
	regionsum >"$SUMS.formatted"
	check "region_formatted" differ_sum "$SUMS.before" "$SUMS.formatted"
	barrier formatted
else
	ktap_skip "region_untouched" "node0 asks the host"
	barrier formatted
	check "bound_without_force_format" bind
	ktap_skip "region_formatted" "node0 formats it"
fi
barrier bound
check "all_ping" ping_all
ktap_finish
