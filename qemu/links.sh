# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# The virtio-net links between node0 and node1, and the gateways' links to
# ext (--external, --gateways), sourced by qemu/cluster.
# --links KIND[,KIND...] gives one link per entry, K = 0, 1, ... in order;
# link K is a virtio-net NIC in each of the two VMs, MAC 52:54:00:2K:00:0i,
# addressed by qemu/init as 10.2K.0.(i+1)/24 and fd00:2K::(i+1)/64. The
# kinds are QEMU's network backends that keep traffic on this machine:
#   dgram   datagram UNIX sockets, one per VM (the default, link 0 alone)
#   stream  a stream UNIX socket: node0's QEMU listens, node1's connects
#   socket  the older socket backend over TCP on 127.0.0.1
#   l2tpv3  L2TPv3 over UDP on 127.0.0.1
#   tap     a tap device per VM on a host bridge that holds only those two
#           taps, made for the run and removed after it (root); the only
#           kind with the virtio-net header, hence checksum and TSO offload
# The ext links are of one of these kinds too (--ext-link, default
# socket): ext link K joins node K (K < --gateways; its first side) to ext
# (the second side), MACs 52:54:00:31:0K:01 and :02. A restart (killvm
# --restart) of a node cuts its stream and socket links; dgram, l2tpv3 and
# tap links survive it.

LINK_KINDS="dgram stream socket l2tpv3 tap"
LINKS=(dgram)
EXT_LINK=socket
# Slot of ext link 0 in the arrays below (ext link K: EXT_K + K); node
# links are 0..9.
EXT_K=10
GATEWAYS=1
declare -a LINK_PORT LINK_PORT2 LINK_BRIDGE LINK_TAP0 LINK_TAP1

link_kind_ok() { [[ " $LINK_KINDS " == *" $1 "* ]]; }

# links_parse LIST: sets LINKS; exits 2 on a bad list.
links_parse() {
	local k seen=" "
	IFS=, read -r -a LINKS <<<"$1"
	[ ${#LINKS[@]} -ge 1 ] && [ ${#LINKS[@]} -le 10 ] ||
		{ err "--links: 1 to 10 kinds"; exit 2; }
	for k in "${LINKS[@]}"; do
		link_kind_ok "$k" ||
			{ err "--links: unknown kind '$k' (kinds: $LINK_KINDS)"; exit 2; }
		[[ $seen != *" $k "* ]] || { err "--links: '$k' twice"; exit 2; }
		seen="$seen$k "
	done
}

# ext_link_parse KIND: sets EXT_LINK; exits 2 on a bad kind.
ext_link_parse() {
	link_kind_ok "$1" || { err "--ext-link: unknown kind '$1' (kinds: $LINK_KINDS)"; exit 2; }
	EXT_LINK=$1
}

# A UDP port on 127.0.0.1 that nothing uses, like pick_port for TCP.
pick_udp_port() {
	local p n
	for ((n = 0; n < 100; n++)); do
		p=$((20000 + RANDOM % 12000))
		[ -z "$(ss -Huln "sport = :$p" 2>/dev/null)" ] && { echo "$p"; return 0; }
	done
	return 1
}

# new_port PICKER: a port from PICKER (pick_port or pick_udp_port) that no
# other link of the run was given.
new_port() {
	local p n
	for ((n = 0; n < 20; n++)); do
		p=$("$1") || return 1
		[[ " ${LINK_PORT[*]} ${LINK_PORT2[*]} " == *" $p "* ]] || { echo "$p"; return 0; }
	done
	return 1
}

# link_prepare K KIND: link K's ports, or its bridge and taps.
link_prepare() {
	local k=$1 kind=$2 i tap
	case $kind in
	socket)
		LINK_PORT[k]=$(new_port pick_port) || die "no free TCP port for link $k (socket)"
		;;
	l2tpv3)
		LINK_PORT[k]=$(new_port pick_udp_port) && LINK_PORT2[k]=$(new_port pick_udp_port) ||
			die "no free UDP ports for link $k (l2tpv3)"
		;;
	tap)
		# interface names of at most 15 characters, unique per run
		LINK_BRIDGE[k]=sh$$b$k
		ip link add "${LINK_BRIDGE[k]}" type bridge stp_state 0 forward_delay 0 2>/dev/null ||
			die "link $k (tap): cannot create bridge ${LINK_BRIDGE[k]} (root and CAP_NET_ADMIN needed)"
		sysctl -qw "net.ipv6.conf.${LINK_BRIDGE[k]}.disable_ipv6=1" 2>/dev/null || true
		for i in 0 1; do
			tap=sh$$t${k}v$i
			ip tuntap add dev "$tap" mode tap || die "link $k (tap): cannot create $tap"
			if [ "$i" = 0 ]; then LINK_TAP0[k]=$tap; else LINK_TAP1[k]=$tap; fi
			sysctl -qw "net.ipv6.conf.$tap.disable_ipv6=1" 2>/dev/null || true
			# jumbo frames pass (the guests choose their MTU; a tap's most)
			ip link set "$tap" mtu 65521 master "${LINK_BRIDGE[k]}" up ||
				die "link $k (tap): cannot attach $tap"
		done
		ip link set "${LINK_BRIDGE[k]}" up || die "link $k (tap): cannot bring ${LINK_BRIDGE[k]} up"
		;;
	esac
}

# links_prepare: every link's ports, bridges and taps. Needs RUNDIR; call
# links_cleanup on exit.
links_prepare() {
	local k
	if [ "$NODES" -ge 2 ]; then
		for ((k = 0; k < ${#LINKS[@]}; k++)); do
			link_prepare "$k" "${LINKS[k]}"
		done
	fi
	if [ "$EXTERNAL" = 1 ]; then
		for ((k = 0; k < GATEWAYS; k++)); do
			link_prepare $((EXT_K + k)) "$EXT_LINK"
		done
	fi
}

links_cleanup() {
	local t
	for t in "${LINK_TAP0[@]}" "${LINK_TAP1[@]}"; do
		ip link del "$t" 2>/dev/null
	done
	for t in "${LINK_BRIDGE[@]}"; do
		ip link del "$t" 2>/dev/null
	done
	LINK_TAP0=()
	LINK_TAP1=()
	LINK_BRIDGE=()
}

# link_netdev K KIND SIDE ME OTHER ID: the -netdev value of link K's side
# SIDE (0: the side that listens, 1: the one that connects) in VM ME, whose
# other end is VM OTHER; ID its netdev id.
link_netdev() {
	local k=$1 kind=$2 side=$3 me=$4 other=$5 id=$6 mine theirs
	case $kind in
	dgram)
		echo "dgram,id=$id,local.type=unix,local.path=$RUNDIR/vnet$k.$me.sock,remote.type=unix,remote.path=$RUNDIR/vnet$k.$other.sock"
		;;
	stream)
		echo "stream,id=$id,server=$([ "$side" = 0 ] && echo on || echo off),addr.type=unix,addr.path=$RUNDIR/vstream$k.sock"
		;;
	socket)
		if [ "$side" = 0 ]; then
			echo "socket,id=$id,listen=127.0.0.1:${LINK_PORT[k]}"
		else
			echo "socket,id=$id,connect=127.0.0.1:${LINK_PORT[k]}"
		fi
		;;
	l2tpv3)
		mine=${LINK_PORT[k]} theirs=${LINK_PORT2[k]}
		[ "$side" = 0 ] || { mine=${LINK_PORT2[k]}; theirs=${LINK_PORT[k]}; }
		echo "l2tpv3,id=$id,src=127.0.0.1,dst=127.0.0.1,udp=on,srcport=$mine,dstport=$theirs,txsession=1,rxsession=1"
		;;
	tap)
		if [ "$side" = 0 ]; then mine=${LINK_TAP0[k]}; else mine=${LINK_TAP1[k]}; fi
		echo "tap,id=$id,ifname=$mine,script=no,downscript=no"
		;;
	esac
}

# links_args I: QEMU arguments of VM I's links to node1 or node0, one per
# line.
links_args() {
	local i=$1 k
	[ "$NODES" -ge 2 ] && [ "$i" -lt 2 ] || return 0
	for ((k = 0; k < ${#LINKS[@]}; k++)); do
		echo -netdev
		link_netdev "$k" "${LINKS[k]}" "$i" "$i" $((1 - i)) "vn$k"
		echo -device
		echo "virtio-net-pci,netdev=vn$k,mac=52:54:00:2$k:00:0$i"
	done
}

# ext_link_arg K SIDE I OTHER: QEMU arguments of side SIDE of ext link K,
# in VM I whose other end is VM OTHER.
ext_link_arg() {
	local k=$1 side=$2
	echo -netdev
	link_netdev $((EXT_K + k)) "$EXT_LINK" "$side" "$3" "$4" "xn$k"
	echo -device
	echo "virtio-net-pci,netdev=xn$k,mac=52:54:00:31:0$k:0$((side + 1))"
}

# ext_link_args I: QEMU arguments of the ext links of VM I: gateway K's
# one link, or all of ext's in order (its eth0, eth1, ...).
ext_link_args() {
	local i=$1 k
	if [ "$i" != "$EXT" ]; then
		ext_link_arg "$i" 0 "$i" "$EXT"
		return
	fi
	for ((k = 0; k < GATEWAYS; k++)); do
		ext_link_arg "$k" 1 "$i" "$k"
	done
}

# link_listening K KIND: the listening end of link K exists (a link of a
# kind without one: at once).
link_listening() {
	case $2 in
	stream) [ -S "$RUNDIR/vstream$1.sock" ] ;;
	socket) [ -n "$(ss -Htln "sport = :${LINK_PORT[$1]}" 2>/dev/null)" ] ;;
	*) true ;;
	esac
}

# links_wait I: after starting VM I, wait (bounded) until the listening
# ends of its links exist, so that node1's QEMU finds them.
links_wait() {
	local i=$1 k n
	[ "$i" = 0 ] && [ "$NODES" -ge 2 ] || return 0
	for ((k = 0; k < ${#LINKS[@]}; k++)); do
		for ((n = 0; n < 200; n++)); do
			link_listening "$k" "${LINKS[k]}" && break
			kill -0 "${PID[0]}" 2>/dev/null || return 0
			sleep 0.05
		done
	done
}

links_list() { echo "${LINKS[*]}"; }
