#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# nodes: 3
# timeout: 360
#
# shmnicctl over the shmnic generic netlink family: every node shows the
# region and lists every node up with its MAC; node1 sets its ring depth
# (ethtool -g agrees), bad values and devices are refused with a message
# and a non-zero exit, a user without CAP_NET_ADMIN may look but not
# change; node1 runs shmnic-nlprobe (bad requests: each refused with the
# errno expected) and then still shows and pings, adds and removes a GLOBAL
# address (shmnicctl -j region and ip addr agree), switches the policy to rr
# and back, and a user without CAP_NET_ADMIN gets EPERM; node0's "shmnicctl
# monitor" sees node2 go down on rmmod and come back up on insmod. The
# old spellings (show, policy, global add ADDR dev DEV) are used beside
# the new grammar, so both keep working.
. "${SHMNIC_LIB:-$(dirname "$0")/lib.sh}"
require_shml0
require_nodes 3
command -v shmnicctl >/dev/null || ktap_skip_all "shmnicctl not in the VM (make tools)"
command -v shmnic-nlprobe >/dev/null || ktap_skip_all "shmnic-nlprobe not in the VM (make tools)"
ktap_header
ktap_plan 17

KO=/lib/modules/shmnic/shmnic.ko

rx_depth() { ethtool -g shml0 | awk '/^Current/ { c = 1 } c && /^RX:/ { print $2; exit }'; }

# Every node of the run is up in "shmnicctl -j node", with its MAC.
all_up() {
	shmnicctl -j node >/tmp/nodes.json || return 1
	for i in $(all_nodes); do
		got=$(jq -r ".[] | select(.node == $i) | \"\(.state) \(.mac)\"" </tmp/nodes.json)
		[ "$got" = "up $(mac_of "$i")" ] || return 1
	done
}

# refused NAME CMD...: CMD exits non-zero and says why on stderr.
refused() {
	_n=$1
	shift
	if "$@" >/tmp/out 2>/tmp/err; then
		info "$_n: accepted: $*"
		return 1
	fi
	info "$_n: $(head -n 1 /tmp/err)"	# (not the usage text after it)
	[ -s /tmp/err ]
}

# is_global ADDR: "shmnicctl -j region" lists ADDR among the GLOBAL addresses.
is_global() { shmnicctl -j region | jq -e --arg a "$1" '.globals | index($a)' >/dev/null; }

# on_shmg0 ADDR: ADDR/32 is on shmg0.
on_shmg0() { ip addr show dev shmg0 | grep -q "inet $1/32 "; }

policy_is() { [ "$(shmnicctl -j region | jq -r .policy)" = "$1" ]; }

# Run shmnicctl as a user without CAP_NET_ADMIN: busybox su to nobody
# (an /etc/passwd entry made here), else a user namespace, which has no
# capability over the initial network namespace.
unprivileged() {
	if [ -z "$UNPRIV" ]; then
		grep -q '^nobody:' /etc/passwd 2>/dev/null ||
			echo 'nobody:x:65534:65534:nobody:/:/bin/sh' >>/etc/passwd
		if su -s /bin/sh nobody -c 'id -u' 2>/dev/null | grep -qx 65534; then
			UNPRIV=su
		elif unshare -r true 2>/dev/null; then
			UNPRIV=userns
		else
			UNPRIV=none
		fi
	fi
	case $UNPRIV in
	su) su -s /bin/sh nobody -c "$*" ;;
	userns) unshare -r "$@" ;;
	*) return 99 ;;
	esac
}

barrier start
busywait 15000 all_up
rc=$?
[ "$rc" = 0 ] || info "nodes: $(cat /tmp/nodes.json)"
ktap_result "nodes_all_up_with_macs" $rc

shmnicctl show >/tmp/show && id=$(shmnicctl -j region | jq -r .node_id) &&
	[ "$id" = "$ME" ] && grep -q '^dev: *shml0$' /tmp/show &&
	grep -q '^region_size: .*iB$' /tmp/show
rc=$?
[ "$rc" = 0 ] || info "show: $(cat /tmp/show)"
ktap_result "show_this_node" $rc

# self is reported as such, with our own MTU
self=$(shmnicctl -j node | jq -r '.[] | select(.self) | "\(.node) \(.mtu)"')
ktap_result "nodes_self" "$([ "$self" = "$ME $(cat /sys/class/net/shml0/mtu)" ]; echo $?)"
barrier shown

case $ME in
1)
	shmnicctl device set dev shml0 ring-depth 128 && [ "$(rx_depth)" = 128 ] &&
		[ "$(shmnicctl -j region | jq -r .rx_depth)" = 128 ]
	ktap_result "set_ring_depth_128" $?
	shmnicctl device set dev shml0 mtu 9000 && [ "$(cat /sys/class/net/shml0/mtu)" = 9000 ] &&
		shmnicctl device set dev shml0 mtu 1500 ring-depth 256 &&
		[ "$(cat /sys/class/net/shml0/mtu)" = 1500 ] && [ "$(rx_depth)" = 256 ]
	ktap_result "set_mtu_and_both" $?
	ok=0
	refused depth100 shmnicctl device set dev shml0 ring-depth 100 || ok=1
	grep -q "power of two" /tmp/err || ok=1
	refused mtu70000 shmnicctl device set dev shml0 mtu 70000 || ok=1
	grep -qi "range" /tmp/err || ok=1
	refused nodev shmnicctl device set dev nosuch0 mtu 1500 || ok=1
	grep -q "unknown device" /tmp/err || ok=1
	refused notshmnic shmnicctl device set dev lo mtu 1500 || ok=1
	grep -q "no shmnic device" /tmp/err || ok=1
	[ "$(rx_depth)" = 256 ] || ok=1
	ktap_result "bad_values_refused" $ok
	unprivileged shmnicctl show >/dev/null 2>&1
	rc=$?
	if [ "$UNPRIV" = none ]; then
		ktap_skip "unprivileged_set_refused" "no way to drop CAP_NET_ADMIN here (busybox su and unshare -r both failed)"
	else
		ok=0
		[ "$rc" = 0 ] || { info "unprivileged show failed ($UNPRIV)"; ok=1; }
		refused unpriv unprivileged shmnicctl device set dev shml0 mtu 1400 || ok=1
		grep -qi "permission\|not permitted" /tmp/err || ok=1
		[ "$(cat /sys/class/net/shml0/mtu)" = 1500 ] || ok=1
		info "dropped CAP_NET_ADMIN by $UNPRIV"
		ktap_result "unprivileged_set_refused" $ok
	fi
	;;
*)
	for t in set_ring_depth_128 set_mtu_and_both bad_values_refused \
		unprivileged_set_refused; do
		ktap_skip "$t" "node1 does it"
	done
	;;
esac
barrier set

case $ME in
1)
	# bad requests, each refused as expected (its KTAP as diagnostics)
	shmnic-nlprobe >/tmp/probe 2>&1
	rc=$?
	sed 's/^/#   /' /tmp/probe
	ktap_result "nlprobe_refuses_bad_requests" $rc
	# the module keeps working
	ok=0
	shmnicctl show >/tmp/show || ok=1
	grep -q '^dev: *shml0$' /tmp/show || ok=1
	busywait 5000 ping_ok "$(ip_of 0)" || { info "no ping to node0 after the probe"; ok=1; }
	ktap_result "works_after_nlprobe" $ok

	ok=0
	shmnicctl global add dev shmg0 addr 10.97.0.1 || ok=1
	is_global 10.97.0.1 || { info "10.97.0.1 not in globals: $(shmnicctl -j region)"; ok=1; }
	on_shmg0 10.97.0.1 || { info "10.97.0.1/32 not on shmg0: $(ip -br addr show dev shmg0)"; ok=1; }
	ktap_result "global_add_shown" $ok
	ok=0
	shmnicctl global del 10.97.0.1 dev shmg0 || ok=1
	! is_global 10.97.0.1 || { info "10.97.0.1 still GLOBAL"; ok=1; }
	! on_shmg0 10.97.0.1 || { info "10.97.0.1 still on shmg0"; ok=1; }
	ktap_result "global_del_removes_both" $ok
	ok=0
	refused badaddr shmnicctl global add 300.1.1.1 dev shmg0 || ok=1
	grep -q "bad address '300.1.1.1'" /tmp/err || ok=1
	refused nodev shmnicctl global add 10.97.0.1 dev nosuchdev || ok=1
	grep -q "unknown device 'nosuchdev'" /tmp/err || ok=1
	! is_global 10.97.0.1 || ok=1
	ktap_result "global_bad_refused" $ok

	ok=0
	shmnicctl policy rr && policy_is rr || ok=1
	shmnicctl device set policy hash && policy_is hash || ok=1
	ktap_result "policy_rr_and_back" $ok
	ok=0
	refused policy shmnicctl policy bogus || ok=1
	grep -q "unknown policy 'bogus'" /tmp/err || ok=1
	policy_is hash || ok=1
	ktap_result "policy_bogus_refused" $ok

	unprivileged true
	if [ "$UNPRIV" = none ]; then
		ktap_skip "unprivileged_global_refused" "no way to drop CAP_NET_ADMIN here"
	else
		ok=0
		refused unpriv_global unprivileged shmnicctl global add 10.97.0.2 dev shmg0 || ok=1
		grep -qi "permission denied" /tmp/err || ok=1
		unprivileged shmnic-nlprobe --unprivileged >/tmp/probe 2>&1 || ok=1
		sed 's/^/#   /' /tmp/probe
		! is_global 10.97.0.2 && ! on_shmg0 10.97.0.2 || ok=1
		ktap_result "unprivileged_global_refused" $ok
	fi
	;;
*)
	for t in nlprobe_refuses_bad_requests works_after_nlprobe global_add_shown \
		global_del_removes_both global_bad_refused policy_rr_and_back \
		policy_bogus_refused unprivileged_global_refused; do
		ktap_skip "$t" "node1 does it"
	done
	;;
esac
barrier probed

case $ME in
0)
	shmnicctl monitor >/tmp/mon 2>&1 &
	mon=$!
	sleep 1
	barrier monitoring
	barrier gone
	busywait 10000 grep -q "^node 2, .*state down" /tmp/mon
	ktap_result "monitor_sees_down" $?
	barrier back
	busywait 15000 sh -c "sed -n '/^node 2, .*state down/,\$p' /tmp/mon | grep -q '^node 2, .*state up'"
	ktap_result "monitor_sees_up_again" $?
	info "events: $(tr '\n' ';' </tmp/mon)"
	kill "$mon"
	;;
2)
	barrier monitoring
	rmmod shmnic
	barrier gone
	insmod "$KO" && busywait 5000 test -e /sys/class/net/shml0 && shml0_configure
	rc=$?
	barrier back
	[ "$rc" = 0 ] || info "insmod again failed"
	ktap_skip "monitor_sees_down" "node0 checks"
	ktap_skip "monitor_sees_up_again" "node0 checks"
	;;
*)
	barrier monitoring
	barrier gone
	barrier back
	ktap_skip "monitor_sees_down" "node0 checks"
	ktap_skip "monitor_sees_up_again" "node0 checks"
	;;
esac
barrier done
ktap_finish
