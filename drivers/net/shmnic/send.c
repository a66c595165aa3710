// SPDX-License-Identifier: GPL-2.0
/*
 * Transmit, for both adapters (shml0 and shmg0): a unicast frame goes over
 * the pair ring to the node its destination MAC names, multicast over its
 * group's ring (mcast.c), broadcast and the rest over the broadcast ring;
 * control frames travel the same rings. Each destination node has a TX
 * queue of its own, broadcast and multicast share queue 0: a full ring
 * stops its node's queue only, until the receiver rings the "space"
 * doorbell; a receiver that keeps it full while up is "stalled" and its
 * frames are dropped until it drains.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/etherdevice.h>
#include <linux/if_vlan.h>
#include <linux/virtio_net.h>

#include "shmnic.h"
#include "stats.h"

/* Node id of a MAC on network @net, or -1 if it is not one of ours. */
static int shmnic_mac_to_node(const struct shmnic_net *sn, const u8 *mac)
{
	u32 id;

	if (mac[0] != SHMNIC_OUI0 || mac[1] != SHMNIC_OUI1 ||
	    mac[2] != SHMNIC_OUI2 || mac[3] != sn->net)
		return -1;
	id = (mac[4] << 8) | mac[5];
	if (id >= shmnic_nodes(sn->sd) || id == sn->sd->id)
		return -1;
	return id;
}

/* Slots a sender keeps free so that the next frame always fits. */
static u32 shmnic_stop_slots(const struct shmnic_net *sn)
{
	u32 max = max_t(u32, READ_ONCE(sn->ndev->mtu) + VLAN_ETH_HLEN,
			sn->ndev->tso_max_size);

	return shmnic_frame_slots(min_t(u32, max, SHMNIC_MAX_FRAME),
				  sn->sd->lay.g.buf_size);
}

static void shmnic_skb_to_meta(const struct sk_buff *skb,
			       struct shmnic_meta *m)
{
	struct virtio_net_hdr h;

	memset(m, 0, sizeof(*m));
	/* DATA_VALID for a frame our stack (or the NIC it came in on)
	 * verified; none for one nobody checked. Only fails for GSO types we
	 * do not advertise.
	 */
	if (virtio_net_hdr_from_skb(skb, &h, true, true, 0))
		return;
	m->flags = h.flags;
	m->gso_type = h.gso_type;
	m->hdr_len = __virtio16_to_cpu(true, h.hdr_len);
	m->gso_size = __virtio16_to_cpu(true, h.gso_size);
	m->csum_start = __virtio16_to_cpu(true, h.csum_start);
	m->csum_offset = __virtio16_to_cpu(true, h.csum_offset);
}

/* --- transmit ----------------------------------------------------------- */

/* Queue 0 for broadcast, multicast and frames for no node of ours; node
 * N's queue for its unicast frames.
 */
u16 shmnic_select_queue(struct net_device *ndev, struct sk_buff *skb,
			struct net_device *sb_dev)
{
	struct shmnic_net *sn = netdev_priv(ndev);
	int id;

	if (skb_headlen(skb) < ETH_HLEN || is_multicast_ether_addr(skb->data))
		return SHMNIC_TXQ_GROUP;
	id = shmnic_mac_to_node(sn, skb->data);
	return id < 0 ? SHMNIC_TXQ_GROUP : SHMNIC_TXQ_NODE0 + id;
}

/* Peer @p's TX state is guarded by its queue's lock. */
static void shmnic_tx_assert_locked(struct shmnic_net *sn,
				    const struct shmnic_peer *p)
{
	lockdep_assert_held(&shmnic_txq(sn, p->id)->_xmit_lock);
}

/* Connect our TX side to peer @p if needed, at the ring depth the peer
 * chose (ethtool -G on its side).
 */
static bool shmnic_tx_ready(struct shmnic_net *sn, struct shmnic_peer *p)
{
	struct shmnic_dev *sd = sn->sd;
	u32 epoch = READ_ONCE(sd->nodes[p->id].epoch);
	u32 rx_epoch = READ_ONCE(p->tx.rx->rx_epoch);
	u32 slots;

	shmnic_tx_assert_locked(sn, p);
	if (rx_epoch != epoch)		/* its ring is not set up for us */
		return false;
	if (p->tx_epoch == epoch)
		return true;
	/* The depth it published with that epoch. */
	smp_rmb();
	slots = READ_ONCE(shmnic_node_at(sd->shm, &sd->lay, p->id)->rx_slots);
	if (!shmnic_depth_valid(&sd->lay.g, slots))
		return false;
	p->tx.slots = slots;
	shmnic_tx_connect(&p->tx, READ_ONCE(sd->epoch), epoch, p->tx.idx);
	p->tx_epoch = epoch;
	WRITE_ONCE(p->stalled, false);
	return true;
}

/* Does peer @p keep the queue stopped? */
static bool shmnic_tx_blocked(struct shmnic_net *sn, struct shmnic_peer *p)
{
	int room;

	shmnic_tx_assert_locked(sn, p);
	if (!shmnic_node_reachable(sn->sd, p->id, sn->net) ||
	    p->tx_epoch != READ_ONCE(p->tx.rx->rx_epoch))
		return false;
	room = shmnic_tx_room(&p->tx);
	return room >= 0 && room < shmnic_stop_slots(sn);
}

/* Peer @p, stalled, has room again: it drained, went down or set its ring
 * up anew.
 */
static void shmnic_tx_unstall(struct shmnic_net *sn, struct shmnic_peer *p)
{
	const char *why = "it drains again";

	WRITE_ONCE(p->stalled, false);
	if (!shmnic_node_reachable(sn->sd, p->id, sn->net))
		why = "it is down";
	else if (p->tx_epoch != READ_ONCE(p->tx.rx->rx_epoch))
		why = "it set its ring up again";
	netdev_info(sn->ndev, "node %u no longer stalled: %s\n", p->id, why);
}

static void shmnic_tx_stop(struct shmnic_net *sn, struct shmnic_peer *p,
			   struct netdev_queue *txq)
{
	netif_tx_stop_queue(txq);
	shmnic_rs_add(&p->tx_rs, SHMNIC_RS_STOPS, 1);
	p->stall_cons = READ_ONCE(p->tx.rx->cons);
	p->stall_stamp = jiffies;
	shmnic_tx_want_space(&p->tx);
	/* Pairs with the barrier after the receiver publishes cons. */
	smp_mb();
	if (!shmnic_tx_blocked(sn, p))
		netif_tx_wake_queue(txq);
}

/* Wake the queues whose rings have room again (NAPI, after a space
 * doorbell or a node event).
 */
void shmnic_tx_maybe_wake(struct shmnic_net *sn)
{
	u32 id;

	for (id = 0; id < shmnic_nodes(sn->sd); id++) {
		struct netdev_queue *txq = shmnic_txq(sn, id);

		if (id == sn->sd->id || !netif_tx_queue_stopped(txq))
			continue;
		__netif_tx_lock(txq, smp_processor_id());
		if (!shmnic_tx_blocked(sn, &sn->peers[id]) &&
		    netif_running(sn->ndev))
			netif_tx_wake_queue(txq);
		__netif_tx_unlock(txq);
	}
}

/* Heartbeat timer, under @txq's lock: a peer that is up but has kept its
 * ring full, consuming nothing, for SHMNIC_STALL_TIMEOUT is stalled: its
 * queue is woken and its frames dropped (counted) until it drains, so that
 * the senders to it are not held for good.
 */
void shmnic_tx_stall_watch(struct shmnic_net *sn, struct shmnic_peer *p,
			   struct netdev_queue *txq)
{
	u32 cons = READ_ONCE(p->tx.rx->cons);

	shmnic_tx_assert_locked(sn, p);
	if (p->stalled && !shmnic_tx_blocked(sn, p))
		shmnic_tx_unstall(sn, p);
	if (!netif_tx_queue_stopped(txq) || cons != p->stall_cons) {
		p->stall_cons = cons;
		p->stall_stamp = jiffies;
		return;
	}
	if (p->stalled || !shmnic_tx_blocked(sn, p) ||
	    !time_after(jiffies, p->stall_stamp + SHMNIC_STALL_TIMEOUT))
		return;
	WRITE_ONCE(p->stalled, true);
	netdev_warn(sn->ndev, "node %u stalled: it consumed nothing for %u ms; dropping its frames until it drains\n",
		    p->id, jiffies_to_msecs(SHMNIC_STALL_TIMEOUT));
	if (netif_running(sn->ndev))
		netif_tx_wake_queue(txq);
}

/* Copy a large frame into the slots from r->idx on, with the ring's
 * non-temporal copy (shmnic_ring_write()): the sender never reads it back,
 * and the receiver's CPU would otherwise first have to give up each line.
 */
/* Copy @skb into the slots of @r from slot @first on, with cached stores:
 * small frames, and every frame of a broadcast or multicast ring, whose
 * "seq 0 before the data" ordering (shmnic_bc_begin()) non-temporal stores
 * would not keep.
 */
static void shmnic_skb_to_slots(const struct sk_buff *skb,
				const struct shmnic_ring *r, u32 first)
{
	u32 i, off = 0, chunk;

	for (i = 0; off < skb->len; i++) {
		chunk = min(skb->len - off, r->buf_size);
		skb_copy_bits(skb, off, shmnic_slot_buf(r, first + i), chunk);
		off += chunk;
	}
}

static void shmnic_skb_to_ring(struct sk_buff *skb, struct shmnic_ring *r)
{
	struct skb_seq_state st;
	u32 slot = 0, pos = 0, consumed = 0, len, c;
	const u8 *data;

	skb_prepare_seq_read(skb, 0, skb->len, &st);
	while ((len = skb_seq_read(consumed, &data, &st))) {
		consumed += len;
		while (len) {
			c = min(len, r->buf_size - pos);
			shmnic_ring_write(shmnic_tx_buf(r, slot) + pos, data, c,
					  skb->len);
			data += c;
			len -= c;
			pos += c;
			if (pos == r->buf_size) {
				slot++;
				pos = 0;
			}
		}
	}
}

static int shmnic_xmit_peer(struct shmnic_net *sn, struct shmnic_peer *p,
			    struct sk_buff *skb, struct netdev_queue *txq)
{
	struct shmnic_ring *r = &p->tx;
	u32 n = shmnic_frame_slots(skb->len, r->buf_size);
	struct shmnic_meta meta;
	int room;

	if (!shmnic_node_reachable(sn->sd, p->id, sn->net) ||
	    !shmnic_tx_ready(sn, p))
		return -EHOSTUNREACH;
	room = shmnic_tx_room(r);
	if (room < 0) {
		p->tx_epoch = 0;	/* impossible indices: reconnect */
		return room;
	}
	if (p->stalled) {
		if (room < shmnic_stop_slots(sn)) {
			shmnic_rs_add(&p->tx_rs, SHMNIC_RS_STALLED, 1);
			return -ENOBUFS;
		}
		shmnic_tx_unstall(sn, p);
	}
	if (room < n)
		return -ENOSPC;

	shmnic_skb_to_meta(skb, &meta);
	if (skb->len >= SHMNIC_NT_MIN)
		shmnic_skb_to_ring(skb, r);
	else
		shmnic_skb_to_slots(skb, r, r->idx);
	shmnic_tx_publish(r, skb->len, 0, &meta);

	/* Pairs with the barrier in shmnic_rx_arm_all(). */
	smp_mb();
	if (shmnic_tx_kick_needed(r)) {
		shmnic_doorbell(sn->sd, p->id, SHMNIC_VEC_RX);
		shmnic_rs_add(&p->tx_rs, SHMNIC_RS_DOORBELLS, 1);
	} else {
		shmnic_rs_add(&p->tx_rs, SHMNIC_RS_SAVED, 1);
	}
	shmnic_rs_add(&p->tx_rs, SHMNIC_RS_PACKETS, 1);
	shmnic_rs_add(&p->tx_rs, SHMNIC_RS_BYTES, skb->len);

	if (room - n < shmnic_stop_slots(sn))
		shmnic_tx_stop(sn, p, txq);
	return 0;
}

/* Write a frame, from @skb or @data of @len bytes, on broadcast or multicast
 * ring @r, whose lock we hold. The frame fits: see shmnic_geometry_valid().
 */
static void shmnic_group_put(struct shmnic_ring *r, u32 me,
			     struct sk_buff *skb, const void *data, u32 len,
			     u16 flags)
{
	struct shmnic_meta meta;
	u32 w;

	if (!skb) {
		shmnic_bc_write(r, me, data, len, flags, NULL);
		return;
	}
	len = skb->len;
	shmnic_skb_to_meta(skb, &meta);
	w = shmnic_bc_begin(r, len);
	shmnic_skb_to_slots(skb, r, w);
	shmnic_bc_publish(r, w, me, len, flags, &meta);
}

/* Send @skb on its multicast group's ring. Returns 0 when sent, -ENOBUFS
 * when it should go on the broadcast ring instead, another error when it
 * was dropped.
 */
static int shmnic_mc_xmit(struct shmnic_net *sn, struct sk_buff *skb)
{
	struct shmnic_mc_ring *m;
	u32 me = sn->sd->id;
	int err;

	m = shmnic_mc_tx_lock(sn, skb, &err);
	if (!m)
		return err;
	shmnic_group_put(&m->tx, me, skb, NULL, 0, 0);
	shmnic_bc_unlock(&m->tx, me);
	shmnic_mc_tx_done(sn, m, skb);
	return 0;
}

/* Send on the broadcast ring: from @skb, or @data of @len bytes. */
static int shmnic_bc_send(struct shmnic_net *sn, struct sk_buff *skb,
			  const void *data, u32 len, u16 flags)
{
	struct shmnic_dev *sd = sn->sd;
	struct shmnic_ring *r = &sn->bc_tx;
	u32 id;

	if (!shmnic_group_lock(r, sd->id))
		return -EBUSY;
	shmnic_group_put(r, sd->id, skb, data, len, flags);
	shmnic_bc_unlock(r, sd->id);

	for (id = 0; id < shmnic_nodes(sd); id++)
		if (id != sd->id && shmnic_node_reachable(sd, id, sn->net))
			shmnic_doorbell(sd, id, SHMNIC_VEC_RX);
	return 0;
}

/* From any context: the ring's lock is never held where we could sleep,
 * be preempted, or be interrupted by our own timer's HELLO.
 */
int shmnic_ctrl_send(struct shmnic_net *sn, u16 type, u32 reply)
{
	struct shmnic_ctrl c = {
		.type = type,
		.node = sn->sd->id,
		.epoch = READ_ONCE(sn->sd->epoch),
		.reply = reply,
	};
	int err;

	local_bh_disable();
	err = shmnic_bc_send(sn, NULL, &c, sizeof(c), SHMNIC_DESC_CTRL);
	local_bh_enable();
	return err;
}

/* Send control frame @data of @len bytes to node @id on its pair ring.
 * Softirq or process context; never waits for room.
 */
int shmnic_peer_ctrl_send(struct shmnic_net *sn, u32 id, const void *data,
			  u32 len)
{
	struct shmnic_meta meta = {};
	struct netdev_queue *txq;
	struct shmnic_peer *p;
	int err;

	if (id >= shmnic_nodes(sn->sd) || id == sn->sd->id ||
	    len > SHMNIC_PEER_CTRL_MAX)
		return -EINVAL;
	p = &sn->peers[id];
	txq = shmnic_txq(sn, id);
	local_bh_disable();
	__netif_tx_lock(txq, smp_processor_id());
	if (!shmnic_node_reachable(sn->sd, id, sn->net) ||
	    !shmnic_tx_ready(sn, p))
		err = -EHOSTUNREACH;
	else
		err = shmnic_tx_put(&p->tx, data, len, SHMNIC_DESC_CTRL, &meta);
	if (!err) {
		/* Pairs with the barrier in shmnic_rx_arm_all(). */
		smp_mb();
		if (shmnic_tx_kick_needed(&p->tx))
			shmnic_doorbell(sn->sd, id, SHMNIC_VEC_RX);
	}
	__netif_tx_unlock(txq);
	local_bh_enable();
	return err;
}

static int shmnic_bc_xmit(struct shmnic_net *sn, struct sk_buff *skb)
{
	int err = shmnic_bc_send(sn, skb, NULL, 0, 0);

	if (err == -EBUSY)
		shmnic_tx_xinc(sn, bc_busy);
	shmnic_rs_add(&sn->bc_tx_rs, err ? SHMNIC_RS_DROPS : SHMNIC_RS_PACKETS,
		      1);
	if (!err)
		shmnic_rs_add(&sn->bc_tx_rs, SHMNIC_RS_BYTES, skb->len);
	return err;
}

netdev_tx_t shmnic_start_xmit(struct sk_buff *skb, struct net_device *ndev)
{
	struct shmnic_net *sn = netdev_priv(ndev);
	u16 q = skb_get_queue_mapping(skb);
	unsigned int len = skb->len;
	int err, id = -1;

	if (unlikely(len < ETH_HLEN || len > SHMNIC_MAX_FRAME))
		err = -EINVAL;
	else if (shmnic_select_queue(ndev, skb, NULL) != q)
		err = -EXDEV;	/* queued by hand (pktgen, skbedit) elsewhere */
	else if (q == SHMNIC_TXQ_GROUP && !is_multicast_ether_addr(skb->data))
		err = -EHOSTUNREACH;
	else if (q == SHMNIC_TXQ_GROUP)
		err = shmnic_mc_xmit(sn, skb);
	else
		err = shmnic_xmit_peer(sn, &sn->peers[id = q - SHMNIC_TXQ_NODE0],
				       skb, netdev_get_tx_queue(ndev, q));

	if (err == -ENOBUFS && id < 0)
		err = shmnic_bc_xmit(sn, skb);
	if (err == -EHOSTUNREACH)
		shmnic_tx_xinc(sn, no_peer);
	if (err == -EXDEV)
		shmnic_tx_xinc(sn, wrong_queue);
	if (err && id >= 0)
		shmnic_rs_add(&sn->peers[id].tx_rs, SHMNIC_RS_DROPS, 1);

	if (err) {
		atomic_long_inc(&sn->tx_dropped);
		dev_kfree_skb_any(skb);
	} else {
		shmnic_stats_add(this_cpu_ptr(sn->tx_stats), len);
		dev_consume_skb_any(skb);
	}
	return NETDEV_TX_OK;
}
