/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * shmnic generic netlink interface (family "shmnic", version 1).
 *
 * Every request names the shmnic device by the ifindex of its local adapter
 * (shml0) where one is needed. Changes need CAP_NET_ADMIN. Attributes are
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
 *   (at least one of SHMNIC_A_RX_DEPTH and SHMNIC_A_MTU)
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

#endif /* _UAPI_LINUX_SHMNIC_H */
