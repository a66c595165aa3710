// SPDX-License-Identifier: GPL-2.0
/*
 * The attributes of the shmnic family's replies and notifications, written
 * from a device's state (layout in include/uapi/linux/shmnic.h): the
 * region, a node, a ring's counters, a flow, the GLOBAL addresses.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/etherdevice.h>
#include <net/netlink.h>

#include <uapi/linux/shmnic.h>

#include "shmnic.h"
#include "stats.h"
#include "gw.h"
#include "genl.h"

int shmnic_put_globals(struct sk_buff *skb, struct shmnic_dev *sd)
{
	const struct shmnic_globals *g;
	struct nlattr *nest;
	int err = 0;
	u32 i;

	nest = nla_nest_start(skb, SHMNIC_A_GLOBALS);
	if (!nest)
		return -EMSGSIZE;
	rcu_read_lock();
	g = rcu_dereference(sd->gw->globals);
	for (i = 0; g && i < g->n && !err; i++)
		err = nla_put(skb, SHMNIC_A_ADDR, g->a[i].family == 4 ? 4 : 16,
			      g->a[i].addr);
	rcu_read_unlock();
	if (err) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

int shmnic_put_region(struct sk_buff *skb, struct shmnic_dev *sd)
{
	const struct shmnic_geometry *g = &sd->lay.g;
	struct net_device *ndev = sd->local->ndev;

	if (nla_put_u32(skb, SHMNIC_A_IFINDEX, ndev->ifindex) ||
	    nla_put_string(skb, SHMNIC_A_IFNAME, ndev->name) ||
	    nla_put_u32(skb, SHMNIC_A_NODE_ID, sd->id) ||
	    nla_put_u32(skb, SHMNIC_A_EPOCH, READ_ONCE(sd->epoch)) ||
	    nla_put_u32(skb, SHMNIC_A_LAYOUT_VERSION, SHMNIC_LAYOUT_VERSION) ||
	    nla_put_u64_64bit(skb, SHMNIC_A_REGION_SIZE, sd->lay.size,
			      SHMNIC_A_PAD) ||
	    nla_put_u32(skb, SHMNIC_A_MAX_NODES, g->max_nodes) ||
	    nla_put_u32(skb, SHMNIC_A_RING_SLOTS, g->ring_slots) ||
	    nla_put_u32(skb, SHMNIC_A_BUF_SIZE, g->buf_size) ||
	    nla_put_u32(skb, SHMNIC_A_BCAST_SLOTS, g->bcast_slots) ||
	    nla_put_u32(skb, SHMNIC_A_MCAST_RINGS, g->mcast_rings) ||
	    nla_put_u32(skb, SHMNIC_A_NETS, g->nets) ||
	    nla_put_u32(skb, SHMNIC_A_RX_DEPTH, READ_ONCE(sd->rx_slots)) ||
	    nla_put_u32(skb, SHMNIC_A_MTU, READ_ONCE(ndev->mtu)) ||
	    nla_put_u32(skb, SHMNIC_A_GLOBAL_IFINDEX, sd->global->ndev->ifindex) ||
	    nla_put_string(skb, SHMNIC_A_GLOBAL_IFNAME, sd->global->ndev->name) ||
	    nla_put_u8(skb, SHMNIC_A_POLICY, shmnic_gw_policy(sd)) ||
	    nla_put_u32(skb, SHMNIC_A_FLOW_SLOTS, g->flow_slots))
		return -EMSGSIZE;
	return shmnic_put_globals(skb, sd);
}

int shmnic_put_ring(struct sk_buff *skb, int type,
		    const struct shmnic_ring_stats *rs)
{
	struct nlattr *nest = nla_nest_start(skb, type);

	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u64_64bit(skb, SHMNIC_RING_A_PACKETS,
			      shmnic_rs_read(rs, SHMNIC_RS_PACKETS),
			      SHMNIC_RING_A_PAD) ||
	    nla_put_u64_64bit(skb, SHMNIC_RING_A_BYTES,
			      shmnic_rs_read(rs, SHMNIC_RS_BYTES),
			      SHMNIC_RING_A_PAD) ||
	    nla_put_u64_64bit(skb, SHMNIC_RING_A_DROPS,
			      shmnic_rs_read(rs, SHMNIC_RS_DROPS),
			      SHMNIC_RING_A_PAD)) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

/* Node @id's table entry and our view of it, as one SHMNIC_A_NODE. */
int shmnic_put_node(struct sk_buff *skb, struct shmnic_dev *sd, u32 id)
{
	const struct shmnic_node *n = shmnic_node_at(sd->shm, &sd->lay, id);
	struct shmnic_net *sn = sd->local;
	bool self = id == sd->id;
	struct nlattr *nest;
	u8 mac[ETH_ALEN];
	u32 epoch, mtu, depth, table_state;
	u64 hb;
	u8 state;
	bool up;

	/* The entry is written by its node: read each word once. */
	table_state = READ_ONCE(n->state);
	memcpy(mac, n->mac, ETH_ALEN);
	mtu = READ_ONCE(n->mtu);
	depth = READ_ONCE(n->rx_slots);
	hb = READ_ONCE(n->heartbeat);
	if (self) {
		up = !READ_ONCE(sd->leaving);
		epoch = READ_ONCE(sd->epoch);
	} else {
		spin_lock_bh(&sd->lock);
		up = sd->nodes[id].up;
		epoch = sd->nodes[id].epoch;
		spin_unlock_bh(&sd->lock);
	}
	if (up)
		state = SHMNIC_NODE_STATE_UP;
	else if (table_state != SHMNIC_NODE_ABSENT)
		state = SHMNIC_NODE_STATE_DOWN;
	else
		state = SHMNIC_NODE_STATE_ABSENT;

	nest = nla_nest_start(skb, SHMNIC_A_NODE);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u32(skb, SHMNIC_NODE_A_ID, id) ||
	    nla_put_u8(skb, SHMNIC_NODE_A_STATE, state) ||
	    (self && nla_put_flag(skb, SHMNIC_NODE_A_SELF)) ||
	    nla_put_u32(skb, SHMNIC_NODE_A_EPOCH, epoch))
		goto err_cancel;
	if (state != SHMNIC_NODE_STATE_ABSENT &&
	    (nla_put(skb, SHMNIC_NODE_A_MAC, ETH_ALEN, mac) ||
	     nla_put_u32(skb, SHMNIC_NODE_A_MTU, mtu) ||
	     nla_put_u32(skb, SHMNIC_NODE_A_RX_DEPTH, depth) ||
	     nla_put_u64_64bit(skb, SHMNIC_NODE_A_HEARTBEAT, hb,
			       SHMNIC_NODE_A_PAD)))
		goto err_cancel;
	if (!self &&
	    (shmnic_put_ring(skb, SHMNIC_NODE_A_TX, &sn->peers[id].tx_rs) ||
	     shmnic_put_ring(skb, SHMNIC_NODE_A_RX, &sn->peers[id].rx_rs)))
		goto err_cancel;
	if (!self && (READ_ONCE(sd->local->peers[id].stalled) ||
		      READ_ONCE(sd->global->peers[id].stalled)) &&
	    nla_put_flag(skb, SHMNIC_NODE_A_STALLED))
		goto err_cancel;
	nla_nest_end(skb, nest);
	return 0;

err_cancel:
	nla_nest_cancel(skb, nest);
	return -EMSGSIZE;
}

/* Flow @f from gateway @gw's part as one SHMNIC_A_FLOW. */
int shmnic_put_flow(struct sk_buff *skb, const struct shmnic_flow *f,
		    u32 gw, u32 idle_ms, u8 reason)
{
	const struct shmnic_flow_key *k = &f->key;
	u32 alen = k->family == 4 ? 4 : 16;
	struct nlattr *nest = nla_nest_start(skb, SHMNIC_A_FLOW);

	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u8(skb, SHMNIC_FLOW_A_FAMILY,
		       k->family == 4 ? AF_INET : AF_INET6) ||
	    nla_put_u8(skb, SHMNIC_FLOW_A_PROTO, k->proto) ||
	    nla_put(skb, SHMNIC_FLOW_A_SADDR, alen, k->saddr) ||
	    nla_put_u16(skb, SHMNIC_FLOW_A_SPORT, ntohs((__force __be16)k->sport)) ||
	    nla_put(skb, SHMNIC_FLOW_A_DADDR, alen, k->daddr) ||
	    nla_put_u16(skb, SHMNIC_FLOW_A_DPORT, ntohs((__force __be16)k->dport)) ||
	    nla_put_u32(skb, SHMNIC_FLOW_A_NODE, f->node) ||
	    nla_put_u32(skb, SHMNIC_FLOW_A_GATEWAY, gw) ||
	    nla_put_u8(skb, SHMNIC_FLOW_A_STATE, f->state) ||
	    nla_put_u32(skb, SHMNIC_FLOW_A_IDLE_MS, idle_ms) ||
	    (reason && nla_put_u8(skb, SHMNIC_FLOW_A_REASON, reason))) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}
