// SPDX-License-Identifier: GPL-2.0
/*
 * The management view: at every heartbeat, our counters into our part of
 * the region (include/shmnic/counters.h); on request, every node's part as
 * netlink records (SHMNIC_CMD_GET_STATS), read as hostile input.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/netdevice.h>
#include <linux/slab.h>

#include <uapi/linux/shmnic.h>
#include <shmnic/counters.h>

#include "shmnic.h"
#include "genl.h"
#include "gw.h"
#include "stats.h"

/* Settled copies tried before a part counts as torn. */
#define SHMNIC_CTRS_TRIES	8

/* Where each published gateway counter comes from. */
static const u8 shmnic_ctrs_gw_src[SHMNIC_CTRS_GW_MAX] = {
	[SHMNIC_CTRS_GW_RX] = SHMNIC_GWS_RX,
	[SHMNIC_CTRS_GW_FORWARDED] = SHMNIC_GWS_FORWARDED,
	[SHMNIC_CTRS_GW_LOCAL] = SHMNIC_GWS_LOCAL,
	[SHMNIC_CTRS_GW_FLOWS_NEW] = SHMNIC_GWS_FLOWS_NEW,
	[SHMNIC_CTRS_GW_PUBLISHED] = SHMNIC_GWS_PUBLISHED,
	[SHMNIC_CTRS_GW_QUERIES] = SHMNIC_GWS_QUERIES,
	[SHMNIC_CTRS_GW_NO_SERVER] = SHMNIC_GWS_NO_SERVER,
	[SHMNIC_CTRS_GW_TX_ERRORS] = SHMNIC_GWS_TX_ERRORS,
	[SHMNIC_CTRS_GW_HANDBACKS] = SHMNIC_GWS_HANDBACKS,
};

int shmnic_ctrs_init(struct shmnic_dev *sd)
{
	/* The netlink attributes follow the ABI's order. */
	BUILD_BUG_ON(SHMNIC_GW_STATS_A_HANDBACKS - SHMNIC_GW_STATS_A_RX !=
		     SHMNIC_CTRS_GW_HANDBACKS);
	BUILD_BUG_ON(SHMNIC_NET_STATS_A_TX_STOPS -
		     SHMNIC_NET_STATS_A_RX_PACKETS !=
		     offsetof(struct shmnic_ctrs_net, tx_stops) / sizeof(u64));

	sd->ctrs = devm_kzalloc(&sd->pdev->dev, sizeof(*sd->ctrs),
				GFP_KERNEL);
	return sd->ctrs ? 0 : -ENOMEM;
}

/* One adapter's counters: what `ip -s link` shows, and the ring stops. */
static void shmnic_ctrs_fill_net(struct shmnic_net *sn,
				 struct shmnic_ctrs_net *c,
				 struct shmnic_ctrs_peer *peer)
{
	struct rtnl_link_stats64 st;
	u32 id;

	dev_get_stats(sn->ndev, &st);
	c->rx_packets = st.rx_packets;
	c->rx_bytes = st.rx_bytes;
	c->tx_packets = st.tx_packets;
	c->tx_bytes = st.tx_bytes;
	c->rx_dropped = st.rx_dropped;
	c->tx_dropped = st.tx_dropped;
	c->rx_errors = st.rx_errors;
	c->tx_errors = st.tx_errors;
	c->rx_missed = st.rx_missed_errors;
	c->tx_stops = shmnic_rs_sum(sn, false, SHMNIC_RS_STOPS) +
		      shmnic_rs_read(&sn->bc_tx_rs, SHMNIC_RS_STOPS);
	for (id = 0; id < shmnic_nodes(sn->sd); id++) {
		if (id == sn->sd->id)
			continue;
		peer[id].tx_packets = shmnic_rs_read(&sn->peers[id].tx_rs,
						     SHMNIC_RS_PACKETS);
		peer[id].tx_bytes = shmnic_rs_read(&sn->peers[id].tx_rs,
						   SHMNIC_RS_BYTES);
		peer[id].rx_packets = shmnic_rs_read(&sn->peers[id].rx_rs,
						     SHMNIC_RS_PACKETS);
		peer[id].rx_bytes = shmnic_rs_read(&sn->peers[id].rx_rs,
						   SHMNIC_RS_BYTES);
	}
}

/* Heartbeat timer: publish our counters. */
void shmnic_ctrs_tick(struct shmnic_dev *sd)
{
	struct shmnic_ctrs *c = sd->ctrs;
	u32 i;

	c->hdr.epoch = READ_ONCE(sd->epoch);
	c->hdr.heartbeat = sd->heartbeat;
	c->hdr.time_ns = ktime_get_ns();
	c->hdr.nets = SHMNIC_MAX_NETS;
	c->hdr.peers = shmnic_nodes(sd);
	c->hdr.gw_count = SHMNIC_CTRS_GW_MAX;
	shmnic_ctrs_fill_net(sd->local, &c->net[SHMNIC_NET_LOCAL],
			     c->peer[SHMNIC_NET_LOCAL]);
	shmnic_ctrs_fill_net(sd->global, &c->net[SHMNIC_NET_GLOBAL],
			     c->peer[SHMNIC_NET_GLOBAL]);
	for (i = 0; i < SHMNIC_CTRS_GW_MAX; i++)
		c->gw[i] = atomic64_read(&sd->gw->stats[shmnic_ctrs_gw_src[i]]);
	shmnic_ctrs_publish(shmnic_ctrs_at(sd->shm, &sd->lay, sd->id), c);
}

/* --- netlink --------------------------------------------------------------- */

static int shmnic_put_ctrs_net(struct sk_buff *skb, u8 net,
			       const struct shmnic_ctrs_net *c)
{
	struct nlattr *nest = nla_nest_start(skb, SHMNIC_STATS_A_NET);
	const u64 v[] = {
		c->rx_packets, c->rx_bytes, c->tx_packets, c->tx_bytes,
		c->rx_dropped, c->tx_dropped, c->rx_errors, c->tx_errors,
		c->rx_missed, c->tx_stops,
	};
	u32 i;

	if (!nest || nla_put_u8(skb, SHMNIC_NET_STATS_A_NET, net))
		goto err;
	/* The counters' attributes follow SHMNIC_NET_STATS_A_RX_PACKETS in
	 * the order of struct shmnic_ctrs_net.
	 */
	for (i = 0; i < ARRAY_SIZE(v); i++)
		if (nla_put_u64_64bit(skb, SHMNIC_NET_STATS_A_RX_PACKETS + i,
				      v[i], SHMNIC_NET_STATS_A_PAD))
			goto err;
	nla_nest_end(skb, nest);
	return 0;
err:
	nla_nest_cancel(skb, nest);
	return -EMSGSIZE;
}

static int shmnic_put_ctrs_gw(struct sk_buff *skb, const struct shmnic_ctrs *c)
{
	struct nlattr *nest = nla_nest_start(skb, SHMNIC_STATS_A_GW);
	u32 i;

	if (!nest)
		return -EMSGSIZE;
	/* In the order of enum shmnic_ctrs_gw_idx. */
	for (i = 0; i < min_t(u32, c->hdr.gw_count, SHMNIC_CTRS_GW_MAX); i++)
		if (nla_put_u64_64bit(skb, SHMNIC_GW_STATS_A_RX + i, c->gw[i],
				      SHMNIC_GW_STATS_A_PAD)) {
			nla_nest_cancel(skb, nest);
			return -EMSGSIZE;
		}
	nla_nest_end(skb, nest);
	return 0;
}

/* The peers this node has exchanged frames with. */
static int shmnic_put_ctrs_peers(struct sk_buff *skb,
				 const struct shmnic_ctrs *c, u32 self)
{
	u32 n, id;

	for (n = 0; n < c->hdr.nets; n++)
		for (id = 0; id < c->hdr.peers; id++) {
			const struct shmnic_ctrs_peer *p = &c->peer[n][id];
			struct nlattr *nest;

			if (id == self || (!p->tx_packets && !p->rx_packets))
				continue;
			nest = nla_nest_start(skb, SHMNIC_STATS_A_PEER);
			if (!nest ||
			    nla_put_u32(skb, SHMNIC_PEER_STATS_A_ID, id) ||
			    nla_put_u8(skb, SHMNIC_PEER_STATS_A_NET, n) ||
			    nla_put_u64_64bit(skb, SHMNIC_PEER_STATS_A_TX_PACKETS,
					      p->tx_packets,
					      SHMNIC_PEER_STATS_A_PAD) ||
			    nla_put_u64_64bit(skb, SHMNIC_PEER_STATS_A_TX_BYTES,
					      p->tx_bytes,
					      SHMNIC_PEER_STATS_A_PAD) ||
			    nla_put_u64_64bit(skb, SHMNIC_PEER_STATS_A_RX_PACKETS,
					      p->rx_packets,
					      SHMNIC_PEER_STATS_A_PAD) ||
			    nla_put_u64_64bit(skb, SHMNIC_PEER_STATS_A_RX_BYTES,
					      p->rx_bytes,
					      SHMNIC_PEER_STATS_A_PAD)) {
				if (nest)
					nla_nest_cancel(skb, nest);
				return -EMSGSIZE;
			}
			nla_nest_end(skb, nest);
		}
	return 0;
}

/* Our view of node @id: its state, its epoch and how long ago its
 * heartbeat last moved.
 */
static u8 shmnic_ctrs_view(struct shmnic_dev *sd, u32 id, u32 *epoch,
			   u32 *silent_ms)
{
	const struct shmnic_node *n = shmnic_node_at(sd->shm, &sd->lay, id);
	u32 table_state = READ_ONCE(n->state);
	bool up;

	if (id == sd->id) {
		*epoch = READ_ONCE(sd->epoch);
		*silent_ms = 0;
		return READ_ONCE(sd->leaving) ? SHMNIC_NODE_STATE_DOWN :
						SHMNIC_NODE_STATE_UP;
	}
	spin_lock_bh(&sd->lock);
	up = sd->nodes[id].up;
	*epoch = sd->nodes[id].epoch;
	*silent_ms = sd->nodes[id].sampled ?
		jiffies_to_msecs(jiffies - sd->nodes[id].stamp) : 0;
	spin_unlock_bh(&sd->lock);
	if (up)
		return SHMNIC_NODE_STATE_UP;
	return table_state != SHMNIC_NODE_ABSENT ? SHMNIC_NODE_STATE_DOWN :
						   SHMNIC_NODE_STATE_ABSENT;
}

/* Node @id's part as one SHMNIC_A_STATS, or -ENOENT for a node slot never
 * used. @first: nothing else is in the message being filled, so a record
 * too big for it goes without its peers (SHMNIC_STATS_F_PEERS_CUT).
 */
int shmnic_put_stats(struct sk_buff *skb, struct shmnic_dev *sd, u32 id,
		     bool first)
{
	struct shmnic_ctrs *c;
	struct nlattr *nest, *peers_at, *flags_at;
	u32 epoch, silent_ms, found, flags = 0;
	u8 state;
	int err = -EMSGSIZE;

	c = kmalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	state = shmnic_ctrs_view(sd, id, &epoch, &silent_ms);
	found = shmnic_ctrs_read(shmnic_ctrs_at(sd->shm, &sd->lay, id), c,
				 epoch, shmnic_nodes(sd), SHMNIC_CTRS_TRIES);
	if (state == SHMNIC_NODE_STATE_ABSENT && (found & SHMNIC_CTRS_EMPTY)) {
		err = -ENOENT;
		goto out;
	}
	if (found & SHMNIC_CTRS_TORN)
		flags |= SHMNIC_STATS_F_TORN;
	if (found & SHMNIC_CTRS_EMPTY)
		flags |= SHMNIC_STATS_F_EMPTY;
	if (found & SHMNIC_CTRS_ABSURD)
		flags |= SHMNIC_STATS_F_ABSURD;
	if ((found & SHMNIC_CTRS_OTHER_EPOCH) ||
	    state != SHMNIC_NODE_STATE_UP)
		flags |= SHMNIC_STATS_F_STALE;

	nest = nla_nest_start(skb, SHMNIC_A_STATS);
	if (!nest)
		goto out;
	if (nla_put_u32(skb, SHMNIC_STATS_A_ID, id) ||
	    nla_put_u8(skb, SHMNIC_STATS_A_STATE, state) ||
	    (id == sd->id && nla_put_flag(skb, SHMNIC_STATS_A_SELF)) ||
	    nla_put_u32(skb, SHMNIC_STATS_A_EPOCH, epoch) ||
	    nla_put_u32(skb, SHMNIC_STATS_A_SILENT_MS, silent_ms))
		goto cancel;
	/* Filled in last: cutting the peers sets a flag. */
	flags_at = nla_reserve(skb, SHMNIC_STATS_A_FLAGS, sizeof(u32));
	if (!flags_at)
		goto cancel;
	if (!(found & (SHMNIC_CTRS_TORN | SHMNIC_CTRS_EMPTY))) {
		if (nla_put_u32(skb, SHMNIC_STATS_A_WRITER_EPOCH,
				c->hdr.epoch) ||
		    nla_put_u64_64bit(skb, SHMNIC_STATS_A_HEARTBEAT,
				      c->hdr.heartbeat, SHMNIC_STATS_A_PAD) ||
		    nla_put_u64_64bit(skb, SHMNIC_STATS_A_TIME_NS, c->hdr.time_ns,
				      SHMNIC_STATS_A_PAD) ||
		    (c->hdr.nets > SHMNIC_NET_LOCAL &&
		     shmnic_put_ctrs_net(skb, SHMNIC_NET_LOCAL,
					 &c->net[SHMNIC_NET_LOCAL])) ||
		    (c->hdr.nets > SHMNIC_NET_GLOBAL &&
		     shmnic_put_ctrs_net(skb, SHMNIC_NET_GLOBAL,
					 &c->net[SHMNIC_NET_GLOBAL])) ||
		    shmnic_put_ctrs_gw(skb, c))
			goto cancel;
		peers_at = (struct nlattr *)skb_tail_pointer(skb);
		if (shmnic_put_ctrs_peers(skb, c, id)) {
			if (!first)
				goto cancel;
			nlmsg_trim(skb, peers_at);
			flags |= SHMNIC_STATS_F_PEERS_CUT;
		}
	}
	*(u32 *)nla_data(flags_at) = flags;
	nla_nest_end(skb, nest);
	err = 0;
	goto out;
cancel:
	nla_nest_cancel(skb, nest);
out:
	kfree(c);
	return err;
}
