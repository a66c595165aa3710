# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# The virtio-net links between node0 and node1, sourced by qemu/cluster.
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
# A restart (killvm --restart) of node0 cuts its stream and socket links.

LINK_KINDS="dgram stream socket l2tpv3 tap"
LINKS=(dgram)
declare -a LINK_PORT LINK_PORT2
LINK_BRIDGE=""
declare -a LINK_TAPS

# links_parse LIST: sets LINKS; exits 2 on a bad list.
links_parse() {
	local k seen=" "
	IFS=, read -r -a LINKS <<<"$1"
	[ ${#LINKS[@]} -ge 1 ] && [ ${#LINKS[@]} -le 10 ] ||
		{ err "--links: 1 to 10 kinds"; exit 2; }
	for k in "${LINKS[@]}"; do
		[[ " $LINK_KINDS " == *" $k "* ]] ||
			{ err "--links: unknown kind '$k' (kinds: $LINK_KINDS)"; exit 2; }
		[[ $seen != *" $k "* ]] || { err "--links: '$k' twice"; exit 2; }
		seen="$seen$k "
	done
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

# links_prepare: ports, and the bridge and taps of a tap link. Needs
# RUNDIR; call links_cleanup on exit.
links_prepare() {
	local k kind i
	[ "$NODES" -ge 2 ] || return 0
	for ((k = 0; k < ${#LINKS[@]}; k++)); do
		kind=${LINKS[k]}
		case $kind in
		socket)
			LINK_PORT[k]=$(pick_port) || die "no free TCP port for link $k (socket)"
			;;
		l2tpv3)
			LINK_PORT[k]=$(pick_udp_port) && LINK_PORT2[k]=$(pick_udp_port) &&
				[ "${LINK_PORT[k]}" != "${LINK_PORT2[k]}" ] ||
				die "no free UDP ports for link $k (l2tpv3)"
			;;
		tap)
			# interface names of at most 15 characters, unique per run
			LINK_BRIDGE=shbr$$
			ip link add "$LINK_BRIDGE" type bridge stp_state 0 forward_delay 0 2>/dev/null ||
				die "link $k (tap): cannot create bridge $LINK_BRIDGE (root and CAP_NET_ADMIN needed)"
			sysctl -qw "net.ipv6.conf.$LINK_BRIDGE.disable_ipv6=1" 2>/dev/null || true
			for i in 0 1; do
				LINK_TAPS[i]=sht$$v$i
				ip tuntap add dev "${LINK_TAPS[i]}" mode tap ||
					die "link $k (tap): cannot create ${LINK_TAPS[i]}"
				sysctl -qw "net.ipv6.conf.${LINK_TAPS[i]}.disable_ipv6=1" 2>/dev/null || true
				# jumbo frames pass (the guests choose their MTU; a tap's most)
				ip link set "${LINK_TAPS[i]}" mtu 65521 master "$LINK_BRIDGE" up ||
					die "link $k (tap): cannot attach ${LINK_TAPS[i]}"
			done
			ip link set "$LINK_BRIDGE" up || die "link $k (tap): cannot bring $LINK_BRIDGE up"
			;;
		esac
	done
}

links_cleanup() {
	local t
	for t in "${LINK_TAPS[@]}"; do
		ip link del "$t" 2>/dev/null
	done
	[ -z "$LINK_BRIDGE" ] || ip link del "$LINK_BRIDGE" 2>/dev/null
	LINK_TAPS=()
	LINK_BRIDGE=""
}

# links_args I: QEMU arguments of VM I's links, one per line.
links_args() {
	local i=$1 k o netdev
	[ "$NODES" -ge 2 ] && [ "$i" -lt 2 ] || return 0
	o=$((1 - i))
	for ((k = 0; k < ${#LINKS[@]}; k++)); do
		case ${LINKS[k]} in
		dgram)
			netdev="dgram,id=vn$k,local.type=unix,local.path=$RUNDIR/vnet$k.$i.sock"
			netdev+=",remote.type=unix,remote.path=$RUNDIR/vnet$k.$o.sock"
			;;
		stream)
			netdev="stream,id=vn$k,server=$([ "$i" = 0 ] && echo on || echo off)"
			netdev+=",addr.type=unix,addr.path=$RUNDIR/vstream$k.sock"
			;;
		socket)
			if [ "$i" = 0 ]; then
				netdev="socket,id=vn$k,listen=127.0.0.1:${LINK_PORT[k]}"
			else
				netdev="socket,id=vn$k,connect=127.0.0.1:${LINK_PORT[k]}"
			fi
			;;
		l2tpv3)
			local mine=${LINK_PORT[k]} theirs=${LINK_PORT2[k]}
			[ "$i" = 0 ] || { mine=${LINK_PORT2[k]}; theirs=${LINK_PORT[k]}; }
			netdev="l2tpv3,id=vn$k,src=127.0.0.1,dst=127.0.0.1,udp=on"
			netdev+=",srcport=$mine,dstport=$theirs,txsession=1,rxsession=1"
			;;
		tap)
			netdev="tap,id=vn$k,ifname=${LINK_TAPS[i]},script=no,downscript=no"
			;;
		esac
		echo -netdev
		echo "$netdev"
		echo -device
		echo "virtio-net-pci,netdev=vn$k,mac=52:54:00:2$k:00:0$i"
	done
}

# links_wait I: after starting VM I, wait (bounded) until the listening
# ends of its links exist, so that node1's QEMU finds them.
links_wait() {
	local i=$1 k n
	[ "$i" = 0 ] && [ "$NODES" -ge 2 ] || return 0
	for ((k = 0; k < ${#LINKS[@]}; k++)); do
		for ((n = 0; n < 200; n++)); do
			case ${LINKS[k]} in
			stream) [ -S "$RUNDIR/vstream$k.sock" ] && break ;;
			socket) [ -n "$(ss -Htln "sport = :${LINK_PORT[k]}" 2>/dev/null)" ] && break ;;
			*) break ;;
			esac
			kill -0 "${PID[0]}" 2>/dev/null || return 0
			sleep 0.05
		done
	done
}

# The kinds, in link order, for the VMs' run configuration.
links_list() { echo "${LINKS[*]}"; }
