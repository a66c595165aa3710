/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * shmnic generic netlink interface (family "shmnic", version 1).
 *
 * Every request names the shmnic device by the ifindex of one of its
 * adapters (shml0 or shmg0) where one is needed; replies name it by the
 * ifindex of shml0. Changes need CAP_NET_ADMIN. Attributes are
 * validated strictly: an unknown attribute or a value out of its range is
 * refused with an extended ack message.
 *
 * SHMNIC_CMD_GET_REGION (doit)
 *   request:
 *     SHMNIC_A_IFINDEX: u32                      optional: the first device
 *   reply:
 *     SHMNIC_A_IFINDEX: u32
 *     SHMNIC_A_IFNAME: string
 *     SHMNIC_A_NODE_ID: u32                      this node
 *     SHMNIC_A_EPOCH: u32                        this node's epoch
 *     SHMNIC_A_LAYOUT_VERSION: u32
 *     SHMNIC_A_REGION_SIZE: u64                  bytes of the region laid out
 *     SHMNIC_A_MAX_NODES: u32
 *     SHMNIC_A_RING_SLOTS: u32                   slots of each pair ring
 *     SHMNIC_A_BUF_SIZE: u32                     bytes per slot
 *     SHMNIC_A_BCAST_SLOTS: u32
 *     SHMNIC_A_MCAST_RINGS: u32                  per network
 *     SHMNIC_A_NETS: u32                         networks laid out
 *     SHMNIC_A_RX_DEPTH: u32                     our receive ring depth
 *     SHMNIC_A_MTU: u32                          of shml0
 *     SHMNIC_A_GLOBAL_IFINDEX: u32               shmg0
 *     SHMNIC_A_GLOBAL_IFNAME: string
 *     SHMNIC_A_POLICY: u8                        enum shmnic_policy
 *     SHMNIC_A_FLOW_SLOTS: u32                   flow entries per gateway
 *     SHMNIC_A_GLOBALS: nest                     the GLOBAL addresses
 *       SHMNIC_A_ADDR: binary[4 or 16]           (repeated)
 *
 * SHMNIC_CMD_GET_NODES (dumpit; one message per node id)
 *   request:
 *     SHMNIC_A_IFINDEX: u32                      optional: every device
 *   reply:
 *     SHMNIC_A_IFINDEX: u32
 *     SHMNIC_A_NODE: nest
 *       SHMNIC_NODE_A_ID: u32
 *       SHMNIC_NODE_A_STATE: u8                  enum shmnic_node_state
 *       SHMNIC_NODE_A_SELF: flag                 this node
 *       SHMNIC_NODE_A_EPOCH: u32
 *       SHMNIC_NODE_A_MAC: binary[6]
 *       SHMNIC_NODE_A_MTU: u32
 *       SHMNIC_NODE_A_RX_DEPTH: u32
 *       SHMNIC_NODE_A_HEARTBEAT: u64
 *       SHMNIC_NODE_A_TX: nest                   our ring to that node
 *         SHMNIC_RING_A_PACKETS: u64
 *         SHMNIC_RING_A_BYTES: u64
 *         SHMNIC_RING_A_DROPS: u64
 *       SHMNIC_NODE_A_RX: nest                   its ring to us
 *         (same as SHMNIC_NODE_A_TX)
 *
 * SHMNIC_CMD_SET (doit, CAP_NET_ADMIN)
 *   request:
 *     SHMNIC_A_IFINDEX: u32                      required
 *     SHMNIC_A_RX_DEPTH: u32                     optional, as ethtool -G rx
 *     SHMNIC_A_MTU: u32                          optional, as ip link set mtu
 *                                                of the adapter named
 *     SHMNIC_A_POLICY: u8                        optional, enum shmnic_policy
 *   (at least one of SHMNIC_A_RX_DEPTH, SHMNIC_A_MTU and SHMNIC_A_POLICY)
 *
 * SHMNIC_CMD_GLOBAL_ADD, SHMNIC_CMD_GLOBAL_DEL (doit, CAP_NET_ADMIN)
 *   Mark an address GLOBAL (or no longer): the gateway hook dispatches
 *   packets for it. The address itself is put on shmg0 with rtnetlink
 *   (shmnicctl does both). At most SHMNIC_MAX_GLOBALS addresses.
 *   request:
 *     SHMNIC_A_IFINDEX: u32                      required
 *     SHMNIC_A_ADDR: binary[4 or 16]             required, IPv4 or IPv6
 *
 * SHMNIC_CMD_GET_FLOWS (dumpit; one message per flow)
 *   request:
 *     SHMNIC_A_IFINDEX: u32                      optional: every device
 *   reply:
 *     SHMNIC_A_IFINDEX: u32
 *     SHMNIC_A_FLOW: nest
 *       SHMNIC_FLOW_A_FAMILY: u8                 AF_INET or AF_INET6
 *       SHMNIC_FLOW_A_PROTO: u8                  IPPROTO_TCP or IPPROTO_UDP
 *       SHMNIC_FLOW_A_SADDR: binary[4 or 16]     the outside peer
 *       SHMNIC_FLOW_A_SPORT: u16                 host byte order
 *       SHMNIC_FLOW_A_DADDR: binary[4 or 16]     the global address
 *       SHMNIC_FLOW_A_DPORT: u16
 *       SHMNIC_FLOW_A_NODE: u32                  the node serving it
 *       SHMNIC_FLOW_A_GATEWAY: u32               the gateway that wrote it
 *       SHMNIC_FLOW_A_STATE: u8                  enum shmnic_flow_state
 *       SHMNIC_FLOW_A_IDLE_MS: u32               since a packet last used it
 *
 * SHMNIC_CMD_FLOW_NEW, SHMNIC_CMD_FLOW_DEL (notifications, group "events")
 *     SHMNIC_A_IFINDEX: u32
 *     SHMNIC_A_FLOW: nest                        as in SHMNIC_CMD_GET_FLOWS
 *       SHMNIC_FLOW_A_REASON: u8                 FLOW_DEL: enum shmnic_flow_reason
 *
 * SHMNIC_CMD_NODE_EVENT (notification, multicast group "events")
 *     SHMNIC_A_IFINDEX: u32
 *     SHMNIC_A_NODE: nest
 *       SHMNIC_NODE_A_ID: u32
 *       SHMNIC_NODE_A_STATE: u8                  SHMNIC_NODE_STATE_UP or _DOWN
 *       SHMNIC_NODE_A_EPOCH: u32
 */
#ifndef _UAPI_LINUX_SHMNIC_H
#define _UAPI_LINUX_SHMNIC_H

#define SHMNIC_GENL_NAME		"shmnic"
#define SHMNIC_GENL_VERSION		1
#define SHMNIC_GENL_MCGRP_EVENTS	"events"

enum shmnic_cmd {
	SHMNIC_CMD_UNSPEC,
	SHMNIC_CMD_GET_REGION,
	SHMNIC_CMD_GET_NODES,
	SHMNIC_CMD_SET,
	SHMNIC_CMD_NODE_EVENT,
	SHMNIC_CMD_GLOBAL_ADD,
	SHMNIC_CMD_GLOBAL_DEL,
	SHMNIC_CMD_GET_FLOWS,
	SHMNIC_CMD_FLOW_NEW,
	SHMNIC_CMD_FLOW_DEL,
	__SHMNIC_CMD_MAX
};

#define SHMNIC_CMD_MAX (__SHMNIC_CMD_MAX - 1)

enum shmnic_attr {
	SHMNIC_A_UNSPEC,
	SHMNIC_A_PAD,
	SHMNIC_A_IFINDEX,
	SHMNIC_A_IFNAME,
	SHMNIC_A_NODE_ID,
	SHMNIC_A_EPOCH,
	SHMNIC_A_LAYOUT_VERSION,
	SHMNIC_A_REGION_SIZE,
	SHMNIC_A_MAX_NODES,
	SHMNIC_A_RING_SLOTS,
	SHMNIC_A_BUF_SIZE,
	SHMNIC_A_BCAST_SLOTS,
	SHMNIC_A_MCAST_RINGS,
	SHMNIC_A_NETS,
	SHMNIC_A_RX_DEPTH,
	SHMNIC_A_MTU,
	SHMNIC_A_NODE,
	SHMNIC_A_GLOBAL_IFINDEX,
	SHMNIC_A_GLOBAL_IFNAME,
	SHMNIC_A_POLICY,
	SHMNIC_A_FLOW_SLOTS,
	SHMNIC_A_GLOBALS,
	SHMNIC_A_ADDR,
	SHMNIC_A_FLOW,
	__SHMNIC_A_MAX
};

#define SHMNIC_A_MAX (__SHMNIC_A_MAX - 1)

/* A node as this node sees it. */
enum shmnic_node_state {
	SHMNIC_NODE_STATE_ABSENT,	/* no entry in the node table */
	SHMNIC_NODE_STATE_DOWN,		/* in the table, not reachable */
	SHMNIC_NODE_STATE_UP,
};

enum shmnic_node_attr {
	SHMNIC_NODE_A_UNSPEC,
	SHMNIC_NODE_A_PAD,
	SHMNIC_NODE_A_ID,
	SHMNIC_NODE_A_STATE,
	SHMNIC_NODE_A_SELF,
	SHMNIC_NODE_A_EPOCH,
	SHMNIC_NODE_A_MAC,
	SHMNIC_NODE_A_MTU,
	SHMNIC_NODE_A_RX_DEPTH,
	SHMNIC_NODE_A_HEARTBEAT,
	SHMNIC_NODE_A_TX,
	SHMNIC_NODE_A_RX,
	__SHMNIC_NODE_A_MAX
};

#define SHMNIC_NODE_A_MAX (__SHMNIC_NODE_A_MAX - 1)

enum shmnic_ring_attr {
	SHMNIC_RING_A_UNSPEC,
	SHMNIC_RING_A_PAD,
	SHMNIC_RING_A_PACKETS,
	SHMNIC_RING_A_BYTES,
	SHMNIC_RING_A_DROPS,
	__SHMNIC_RING_A_MAX
};

#define SHMNIC_RING_A_MAX (__SHMNIC_RING_A_MAX - 1)

/* GLOBAL addresses per device */
#define SHMNIC_MAX_GLOBALS	16

/* How a gateway picks among several nodes listening on a port. */
enum shmnic_policy {
	SHMNIC_POLICY_UNSPEC,
	SHMNIC_POLICY_HASH,	/* Maglev consistent hash of the 5-tuple */
	SHMNIC_POLICY_RR,	/* round-robin, per gateway */
	__SHMNIC_POLICY_MAX
};

#define SHMNIC_POLICY_MAX (__SHMNIC_POLICY_MAX - 1)

enum shmnic_flow_state {
	SHMNIC_FLOW_STATE_NONE,
	SHMNIC_FLOW_STATE_SYN,		/* TCP, handshake not seen completed */
	SHMNIC_FLOW_STATE_ESTABLISHED,	/* TCP */
	SHMNIC_FLOW_STATE_CLOSING,	/* TCP, a FIN seen */
	SHMNIC_FLOW_STATE_UDP,
	__SHMNIC_FLOW_STATE_MAX
};

enum shmnic_flow_reason {
	SHMNIC_FLOW_REASON_NONE,
	SHMNIC_FLOW_REASON_RST,		/* a TCP reset */
	SHMNIC_FLOW_REASON_TIMEOUT,	/* idle longer than its state allows */
	SHMNIC_FLOW_REASON_NODE_DOWN,	/* the serving node left or died */
	SHMNIC_FLOW_REASON_EVICTED,	/* room made for a new flow */
	__SHMNIC_FLOW_REASON_MAX
};

enum shmnic_flow_attr {
	SHMNIC_FLOW_A_UNSPEC,
	SHMNIC_FLOW_A_FAMILY,
	SHMNIC_FLOW_A_PROTO,
	SHMNIC_FLOW_A_SADDR,
	SHMNIC_FLOW_A_SPORT,
	SHMNIC_FLOW_A_DADDR,
	SHMNIC_FLOW_A_DPORT,
	SHMNIC_FLOW_A_NODE,
	SHMNIC_FLOW_A_GATEWAY,
	SHMNIC_FLOW_A_STATE,
	SHMNIC_FLOW_A_IDLE_MS,
	SHMNIC_FLOW_A_REASON,
	__SHMNIC_FLOW_A_MAX
};

#define SHMNIC_FLOW_A_MAX (__SHMNIC_FLOW_A_MAX - 1)

#endif /* _UAPI_LINUX_SHMNIC_H */
