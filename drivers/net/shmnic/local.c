// SPDX-License-Identifier: GPL-2.0
/*
 * The local network adapter (shml0): one Ethernet segment joining every node.
 * Unicast frames go over the pair ring to the node named by the destination
 * MAC, multicast over the group's multicast ring (mcast.c), broadcast and the
 * rest over the broadcast ring. Receive is NAPI, woken by a doorbell that
 * senders ring only when the receiver asked for one.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/etherdevice.h>
#include <linux/if_vlan.h>
#include <linux/virtio_net.h>

#include "shmnic.h"
#include "stats.h"

#define SHMNIC_RX_BATCH		16
/* How long a broadcast sender waits for the ring's lock, in 100 ns steps */
#define SHMNIC_BC_SPIN		2000

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
	/* Only fails for GSO types we do not advertise. */
	if (virtio_net_hdr_from_skb(skb, &h, true, false, 0))
		return;
	m->flags = h.flags;
	m->gso_type = h.gso_type;
	m->hdr_len = __virtio16_to_cpu(true, h.hdr_len);
	m->gso_size = __virtio16_to_cpu(true, h.gso_size);
	m->csum_start = __virtio16_to_cpu(true, h.csum_start);
	m->csum_offset = __virtio16_to_cpu(true, h.csum_offset);
}

static int shmnic_meta_to_skb(struct sk_buff *skb, const struct shmnic_meta *m)
{
	struct virtio_net_hdr h = {
		.flags = m->flags,
		.gso_type = m->gso_type,
		.hdr_len = __cpu_to_virtio16(true, m->hdr_len),
		.gso_size = __cpu_to_virtio16(true, m->gso_size),
		.csum_start = __cpu_to_virtio16(true, m->csum_start),
		.csum_offset = __cpu_to_virtio16(true, m->csum_offset),
	};

	/* The copy through memory cannot corrupt data: trust it. */
	if (!h.flags && h.gso_type == VIRTIO_NET_HDR_GSO_NONE) {
		skb->ip_summed = CHECKSUM_UNNECESSARY;
		return 0;
	}
	return virtio_net_hdr_to_skb(skb, &h, true);
}

/* --- transmit ----------------------------------------------------------- */

/* Connect our TX side to peer @p if needed, at the ring depth the peer
 * chose (ethtool -G on its side). Under the TX queue lock.
 */
static bool shmnic_tx_ready(struct shmnic_net *sn, struct shmnic_peer *p)
{
	struct shmnic_dev *sd = sn->sd;
	u32 epoch = READ_ONCE(sd->nodes[p->id].epoch);
	u32 rx_epoch = READ_ONCE(p->tx.rx->rx_epoch);
	u32 slots;

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
	return true;
}

/* Does peer @p keep the queue stopped? Under the TX queue lock. */
static bool shmnic_tx_blocked(struct shmnic_net *sn, struct shmnic_peer *p)
{
	int room;

	if (!shmnic_node_reachable(sn->sd, p->id, sn->net) ||
	    p->tx_epoch != READ_ONCE(p->tx.rx->rx_epoch))
		return false;
	room = shmnic_tx_room(&p->tx);
	return room >= 0 && room < shmnic_stop_slots(sn);
}

static void shmnic_tx_stop(struct shmnic_net *sn, struct shmnic_peer *p)
{
	set_bit(p->id, sn->stopped_for);
	netif_stop_queue(sn->ndev);
	shmnic_rs_add(&p->tx_rs, SHMNIC_RS_STOPS, 1);
	shmnic_tx_want_space(&p->tx);
	/* Pairs with the barrier after the receiver publishes cons. */
	smp_mb();
	if (!shmnic_tx_blocked(sn, p)) {
		clear_bit(p->id, sn->stopped_for);
		if (bitmap_empty(sn->stopped_for, SHMNIC_MAX_NODES))
			netif_wake_queue(sn->ndev);
	}
}

/* Wake the queue if no ring keeps it stopped any more. */
static void shmnic_tx_maybe_wake(struct shmnic_net *sn)
{
	struct netdev_queue *txq = netdev_get_tx_queue(sn->ndev, 0);
	u32 id;

	if (!netif_tx_queue_stopped(txq))
		return;
	__netif_tx_lock(txq, smp_processor_id());
	for_each_set_bit(id, sn->stopped_for, SHMNIC_MAX_NODES)
		if (!shmnic_tx_blocked(sn, &sn->peers[id]))
			clear_bit(id, sn->stopped_for);
	if (bitmap_empty(sn->stopped_for, SHMNIC_MAX_NODES) &&
	    netif_running(sn->ndev))
		netif_tx_wake_queue(txq);
	__netif_tx_unlock(txq);
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
			    struct sk_buff *skb)
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
		shmnic_tx_stop(sn, p);
	return 0;
}

/* Take the lock of broadcast or multicast ring @r, waiting a bounded time. */
bool shmnic_group_lock(struct shmnic_ring *r, u32 me)
{
	int i;

	for (i = 0; i < SHMNIC_BC_SPIN; i++) {
		if (shmnic_bc_trylock(r, me))
			return true;
		ndelay(100);
	}
	return false;
}

/* Write a frame, from @skb or @data of @len bytes, on broadcast or multicast
 * ring @r, whose lock we hold. The frame fits: see shmnic_geometry_valid().
 */
void shmnic_group_put(struct shmnic_ring *r, u32 me, struct sk_buff *skb,
		      const void *data, u32 len, u16 flags)
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
	struct netdev_queue *txq = netdev_get_tx_queue(sn->ndev, 0);
	struct shmnic_meta meta = {};
	struct shmnic_peer *p;
	int err;

	if (id >= shmnic_nodes(sn->sd) || id == sn->sd->id ||
	    len > SHMNIC_PEER_CTRL_MAX)
		return -EINVAL;
	p = &sn->peers[id];
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
		shmnic_xstat_inc(&sn->tx_x, &sn->tx_x.bc_busy);
	shmnic_rs_add(&sn->bc_tx_rs, err ? SHMNIC_RS_DROPS : SHMNIC_RS_PACKETS,
		      1);
	if (!err)
		shmnic_rs_add(&sn->bc_tx_rs, SHMNIC_RS_BYTES, skb->len);
	return err;
}

static netdev_tx_t shmnic_start_xmit(struct sk_buff *skb,
				     struct net_device *ndev)
{
	struct shmnic_net *sn = netdev_priv(ndev);
	unsigned int len = skb->len;
	int err, id;

	if (unlikely(len < ETH_HLEN || len > SHMNIC_MAX_FRAME)) {
		err = -EINVAL;
	} else if (is_multicast_ether_addr(skb->data)) {
		err = shmnic_mc_xmit(sn, skb);
		if (err == -ENOBUFS)
			err = shmnic_bc_xmit(sn, skb);
	} else {
		id = shmnic_mac_to_node(sn, skb->data);
		err = id < 0 ? -EHOSTUNREACH :
			       shmnic_xmit_peer(sn, &sn->peers[id], skb);
		if (err == -EHOSTUNREACH)
			shmnic_xstat_inc(&sn->tx_x, &sn->tx_x.no_peer);
		if (err && id >= 0)
			shmnic_rs_add(&sn->peers[id].tx_rs, SHMNIC_RS_DROPS, 1);
	}

	if (err) {
		atomic_long_inc(&sn->tx_dropped);
		dev_kfree_skb_any(skb);
	} else {
		shmnic_stats_add(&sn->tx_stats, len);
		dev_consume_skb_any(skb);
	}
	return NETDEV_TX_OK;
}

/* --- receive ------------------------------------------------------------ */

/* An skb for a frame of @len bytes: linear when small, paged when large. */
static struct sk_buff *shmnic_rx_alloc(struct shmnic_net *sn, u32 len)
{
	const u32 linear = 256;
	struct sk_buff *skb;
	int err;

	if (len <= SKB_WITH_OVERHEAD(PAGE_SIZE) - NET_SKB_PAD - NET_IP_ALIGN) {
		skb = napi_alloc_skb(&sn->napi, len);
		if (skb)
			skb_put(skb, len);
		return skb;
	}
	skb = alloc_skb_with_frags(linear + NET_IP_ALIGN, len - linear, 0,
				   &err, GFP_ATOMIC);
	if (!skb)
		return NULL;
	skb_reserve(skb, NET_IP_ALIGN);
	skb_put(skb, linear);
	skb->data_len = len - linear;
	skb->len += len - linear;
	return skb;
}

/* skb_store_bits() for a large frame in an skb of shmnic_rx_alloc(): the
 * linear part (the headers the stack reads next) with memcpy(), the page
 * fragments (payload, not read before the application copies it out) with
 * non-temporal stores, as a DMA engine would write them.
 */
static void shmnic_skb_store_nt(struct sk_buff *skb, u32 off, const u8 *src,
				u32 len)
{
	u32 hl = skb_headlen(skb), i, c, p_off, p_len, done;
	struct page *p;
	u8 *vaddr;

	if (off < hl) {
		c = min(len, hl - off);
		memcpy(skb->data + off, src, c);
		off += c;
		src += c;
		len -= c;
	}
	off -= hl;
	for (i = 0; len && i < skb_shinfo(skb)->nr_frags; i++) {
		const skb_frag_t *f = &skb_shinfo(skb)->frags[i];
		u32 size = skb_frag_size(f);

		if (off >= size) {
			off -= size;
			continue;
		}
		c = min(len, size - off);
		skb_frag_foreach_page(f, skb_frag_off(f) + off, c, p, p_off,
				      p_len, done) {
			vaddr = kmap_local_page(p);
			shmnic_memcpy_nt(vaddr + p_off, src + done, p_len);
			kunmap_local(vaddr);
		}
		src += c;
		len -= c;
		off = 0;
	}
}

/* Copy frame @f, starting at slot @first of @r, into a new skb. */
static struct sk_buff *shmnic_rx_skb(struct shmnic_net *sn,
				     const struct shmnic_ring *r, u32 first,
				     const struct shmnic_frame *f,
				     struct shmnic_ring_stats *rs)
{
	struct sk_buff *skb;
	u32 i, copied = 0, len;
	const u8 *data;

	skb = shmnic_rx_alloc(sn, f->total_len);
	if (!skb) {
		atomic_long_inc(&sn->rx_dropped);
		shmnic_rs_add(rs, SHMNIC_RS_DROPS, 1);
		return NULL;
	}
	for (i = 0; i < f->nslots; i++) {
		if (shmnic_frame_chunk(r, first, f, i, copied, &data, &len))
			goto bad;
		if (f->total_len >= SHMNIC_NT_MIN)
			shmnic_skb_store_nt(skb, copied, data, len);
		else
			skb_store_bits(skb, copied, data, len);
		copied += len;
	}
	if (copied != f->total_len)
		goto bad;
	/* Before another CPU may look at the non-temporal stores. */
	if (f->total_len >= SHMNIC_NT_MIN)
		shmnic_nt_fence();
	return skb;
bad:
	shmnic_xstat_inc(&sn->rx_x, &sn->rx_x.bad_frames);
	shmnic_rs_add(rs, SHMNIC_RS_DROPS, 1);
	kfree_skb(skb);
	return NULL;
}

static void shmnic_rx_deliver(struct shmnic_net *sn, struct sk_buff *skb,
			      const struct shmnic_frame *f,
			      struct shmnic_ring_stats *rs)
{
	struct net_device *ndev = sn->ndev;

	if (f->total_len < ETH_HLEN || shmnic_meta_to_skb(skb, &f->meta)) {
		shmnic_xstat_inc(&sn->rx_x, &sn->rx_x.bad_frames);
		shmnic_rs_add(rs, SHMNIC_RS_DROPS, 1);
		kfree_skb(skb);
		return;
	}
	skb->protocol = eth_type_trans(skb, ndev);
	shmnic_stats_add(&sn->rx_stats, f->total_len);
	shmnic_rs_add(rs, SHMNIC_RS_PACKETS, 1);
	shmnic_rs_add(rs, SHMNIC_RS_BYTES, f->total_len);
	napi_gro_receive(&sn->napi, skb);
}

static void shmnic_ring_bad(struct shmnic_net *sn, struct shmnic_peer *p,
			    int err)
{
	shmnic_rx_reset(&p->rx);
	shmnic_rs_add(&p->rx_rs, SHMNIC_RS_RESETS, 1);
	if (net_ratelimit())
		netdev_info(sn->ndev, "ring from node %u corrupt (%d), reset\n",
			    p->id, err);
}

/* A control frame on a pair ring: the global network's dispatch queries
 * and answers. Consumes the frame.
 */
static void shmnic_peer_ctrl_rcv(struct shmnic_net *sn, struct shmnic_peer *p,
				 const struct shmnic_frame *f)
{
	u8 buf[SHMNIC_PEER_CTRL_MAX];
	bool ok = sn->net == SHMNIC_NET_GLOBAL && f->total_len <= sizeof(buf) &&
		  !shmnic_rx_copy(&p->rx, f, buf);

	shmnic_rx_consume(&p->rx, f);
	if (ok)
		shmnic_gw_ctrl_rcv(sn->sd, p->id, buf, f->total_len);
	else
		shmnic_xstat_inc(&sn->rx_x, &sn->rx_x.bad_frames);
}

static int shmnic_poll_peer(struct shmnic_net *sn, struct shmnic_peer *p,
			    int quota)
{
	struct shmnic_ring *r = &p->rx;
	struct shmnic_frame f;
	struct sk_buff *skb;
	int done = 0, err;

	if (READ_ONCE(r->tx->rx_epoch) != sn->sd->epoch)
		return 0;
	while (done < quota) {
		err = shmnic_rx_peek(r, &f);
		if (err == -EAGAIN)
			break;
		if (err) {
			shmnic_ring_bad(sn, p, err);
			break;
		}
		if (f.flags & SHMNIC_DESC_CTRL) {
			shmnic_peer_ctrl_rcv(sn, p, &f);
			done++;
			continue;
		}
		skb = shmnic_rx_skb(sn, r, r->idx, &f, &p->rx_rs);
		shmnic_rx_consume(r, &f);
		if (skb)
			shmnic_rx_deliver(sn, skb, &f, &p->rx_rs);
		done++;
	}
	if (done) {
		/* Pairs with the barrier in shmnic_tx_stop(). */
		smp_mb();
		if (shmnic_rx_space_wanted(r)) {
			shmnic_doorbell(sn->sd, p->id, SHMNIC_VEC_SPACE);
			shmnic_rs_add(&p->rx_rs, SHMNIC_RS_DOORBELLS, 1);
		}
	}
	return done;
}

/* A control frame: only the broadcast ring carries them. */
static void shmnic_ctrl_rcv(struct shmnic_net *sn, struct shmnic_ring *r,
			    const struct shmnic_frame *f)
{
	struct shmnic_ctrl c;
	u64 lost = 0;

	if (r != &sn->bc_rx || f->total_len != sizeof(c)) {
		shmnic_bc_skip(r, f);
		return;
	}
	if (shmnic_bc_copy(r, f, (u8 *)&c, &lost))
		return;
	if (c.node == f->src)
		shmnic_hello_rcv(sn->sd, sn, &c);
}

/* A frame from a broadcast or multicast ring: for us unless it is to a
 * multicast group we have not joined.
 */
static void shmnic_group_deliver(struct shmnic_net *sn, struct sk_buff *skb,
				 const struct shmnic_frame *f,
				 struct shmnic_ring_stats *rs)
{
	if (skb_headlen(skb) >= ETH_ALEN && is_multicast_ether_addr(skb->data) &&
	    !shmnic_mc_wanted(sn, skb->data)) {
		shmnic_xstat_inc(&sn->rx_x, &sn->rx_x.mc_filtered);
		consume_skb(skb);
		return;
	}
	shmnic_rx_deliver(sn, skb, f, rs);
}

/* Read up to @quota frames from broadcast or multicast ring @r. */
int shmnic_poll_group(struct shmnic_net *sn, struct shmnic_ring *r,
		      struct shmnic_ring_stats *rs, int quota)
{
	struct shmnic_frame f;
	struct sk_buff *skb;
	u64 lost = 0;
	int done = 0, err;

	while (done < quota) {
		err = shmnic_bc_peek(r, shmnic_nodes(sn->sd), &f, &lost);
		if (err == -EAGAIN)
			break;
		if (err == -EBADMSG) {
			shmnic_xstat_inc(&sn->rx_x, &sn->rx_x.bad_frames);
			shmnic_rs_add(rs, SHMNIC_RS_DROPS, 1);
		}
		if (err)
			continue;
		done++;
		if (f.src == sn->sd->id) {
			shmnic_bc_skip(r, &f);
		} else if (f.flags & SHMNIC_DESC_CTRL) {
			shmnic_ctrl_rcv(sn, r, &f);
		} else {
			skb = shmnic_rx_skb(sn, r, r->idx, &f, rs);
			if (shmnic_bc_done(r, &f, &lost))
				kfree_skb(skb);
			else if (skb)
				shmnic_group_deliver(sn, skb, &f, rs);
		}
	}
	if (lost)
		shmnic_rs_add(rs, SHMNIC_RS_LOST, lost);
	return done;
}

/* Ask every sender for a doorbell; true if frames arrived meanwhile. */
static bool shmnic_rx_arm_all(struct shmnic_net *sn)
{
	struct shmnic_dev *sd = sn->sd;
	u32 id;

	for (id = 0; id < shmnic_nodes(sd); id++)
		if (id != sd->id)
			shmnic_rx_arm(&sn->peers[id].rx);
	/* Pairs with the barrier in shmnic_xmit_peer(). */
	smp_mb();
	if (READ_ONCE(sn->bc_rx.bc->widx) != sn->bc_rx.idx ||
	    shmnic_mc_pending(sn))
		return true;
	for (id = 0; id < shmnic_nodes(sd); id++) {
		struct shmnic_ring *r = &sn->peers[id].rx;

		if (id != sd->id && READ_ONCE(r->tx->rx_epoch) == sd->epoch &&
		    shmnic_rx_avail(r))
			return true;
	}
	return false;
}

/* Set up every ring we receive on, at our depth and epoch (attach, or
 * ethtool -G with NAPI off): empty, and visible to senders only once ready.
 */
void shmnic_net_rx_setup(struct shmnic_net *sn)
{
	struct shmnic_dev *sd = sn->sd;
	u32 id;

	for (id = 0; id < shmnic_nodes(sd); id++) {
		if (id == sd->id)
			continue;
		sn->peers[id].rx.slots = sd->rx_slots;
		shmnic_rx_setup(&sn->peers[id].rx, sd->epoch);
	}
}

/* Rewrite the receiver's line of every ring we read (see the watchdog). */
static void shmnic_rx_refresh_all(struct shmnic_net *sn)
{
	u32 id;

	WRITE_ONCE(sn->rx_refresh, false);
	for (id = 0; id < shmnic_nodes(sn->sd); id++)
		if (id != sn->sd->id)
			shmnic_rx_refresh(&sn->peers[id].rx, sn->sd->epoch);
}

static int shmnic_poll(struct napi_struct *napi, int budget)
{
	struct shmnic_net *sn = container_of(napi, struct shmnic_net, napi);
	u32 nodes = shmnic_nodes(sn->sd);
	int work = 0, done, quota;
	bool more = true;
	u32 i, id;

	if (READ_ONCE(sn->rx_refresh))
		shmnic_rx_refresh_all(sn);
	shmnic_tx_maybe_wake(sn);
	shmnic_mc_scan(sn);

	while (more && work < budget) {
		more = false;
		quota = min(budget - work, SHMNIC_RX_BATCH);
		done = shmnic_poll_group(sn, &sn->bc_rx, &sn->bc_rx_rs, quota);
		work += done;
		more |= done == quota;
		quota = min(budget - work, SHMNIC_RX_BATCH);
		done = shmnic_mc_poll(sn, quota);
		work += done;
		more |= done == quota && quota;
		for (i = 0; i < nodes && work < budget; i++) {
			id = (sn->rx_next + i) % nodes;
			if (id == sn->sd->id)
				continue;
			quota = min(budget - work, SHMNIC_RX_BATCH);
			done = shmnic_poll_peer(sn, &sn->peers[id], quota);
			work += done;
			more |= done == quota;
		}
		sn->rx_next = (sn->rx_next + 1) % nodes;
	}

	if (work < budget && napi_complete_done(napi, work) &&
	    shmnic_rx_arm_all(sn))
		napi_schedule(napi);
	return work;
}

/* --- control ------------------------------------------------------------ */

/* Membership changed: a stopped queue may have to be woken. */
void shmnic_net_node_change(struct shmnic_net *sn)
{
	if (netif_running(sn->ndev))
		napi_schedule(&sn->napi);
}

/* Rewrite the sender's line of every ring we are connected to. */
static void shmnic_tx_refresh_all(struct shmnic_net *sn)
{
	struct netdev_queue *txq = netdev_get_tx_queue(sn->ndev, 0);
	u32 id;

	__netif_tx_lock(txq, smp_processor_id());
	for (id = 0; id < shmnic_nodes(sn->sd); id++) {
		struct shmnic_peer *p = &sn->peers[id];

		if (id != sn->sd->id && p->tx_epoch)
			shmnic_tx_refresh(&p->tx, sn->sd->epoch, p->tx_epoch);
	}
	__netif_tx_unlock(txq);
}

/* Break the lock of ring @r if it stays held with no progress: its holder
 * died or went mad. Heartbeat timer.
 */
void shmnic_lock_watch(struct shmnic_net *sn, struct shmnic_lock_watch *w,
		       struct shmnic_ring *r, int mcast)
{
	u32 lock = READ_ONCE(r->bc->lock);
	u32 widx = READ_ONCE(r->bc->widx);
	/* A holder that is no node at all is a scribble: break it now. */
	bool bogus = lock > shmnic_nodes(sn->sd);

	if (!bogus && (!lock || lock != w->lock || widx != w->widx)) {
		w->lock = lock;
		w->widx = widx;
		w->stamp = jiffies;
		return;
	}
	if (!bogus && !time_after(jiffies, w->stamp + SHMNIC_LOCK_TIMEOUT))
		return;
	if (!shmnic_bc_break(r, lock))
		return;
	w->lock = 0;
	if (!net_ratelimit())
		return;
	if (mcast < 0)
		netdev_info(sn->ndev, "broke the broadcast lock held by node %d\n",
			    (int)lock - 1);
	else
		netdev_info(sn->ndev,
			    "broke the lock of multicast ring %d held by node %d\n",
			    mcast, (int)lock - 1);
}

/* Heartbeat-timer work: rewrite our ring words (another node may have
 * scribbled on them), catch any lost doorbell, break ring locks held by
 * dead nodes, give up idle multicast rings.
 */
void shmnic_net_watchdog(struct shmnic_net *sn)
{
	shmnic_lock_watch(sn, &sn->bc_watch, &sn->bc_tx, -1);
	shmnic_mc_watchdog(sn);
	shmnic_tx_refresh_all(sn);
	WRITE_ONCE(sn->rx_refresh, true);
	if (netif_running(sn->ndev))
		napi_schedule(&sn->napi);
}

static int shmnic_open(struct net_device *ndev)
{
	struct shmnic_net *sn = netdev_priv(ndev);
	u32 id;

	for (id = 0; id < shmnic_nodes(sn->sd); id++) {
		if (id == sn->sd->id)
			continue;
		shmnic_rx_reset(&sn->peers[id].rx);
		shmnic_rx_refresh(&sn->peers[id].rx, sn->sd->epoch);
	}
	shmnic_bc_reader_init(&sn->bc_rx);
	shmnic_mc_open(sn);
	bitmap_zero(sn->stopped_for, SHMNIC_MAX_NODES);
	napi_enable(&sn->napi);
	shmnic_node_set_rx(sn->sd, sn->net, true);
	netif_carrier_on(ndev);
	netif_start_queue(ndev);
	shmnic_ctrl_send(sn, SHMNIC_CTRL_HELLO, 0);
	napi_schedule(&sn->napi);
	return 0;
}

static int shmnic_stop(struct net_device *ndev)
{
	struct shmnic_net *sn = netdev_priv(ndev);

	shmnic_node_set_rx(sn->sd, sn->net, false);
	netif_stop_queue(ndev);
	netif_carrier_off(ndev);
	napi_disable(&sn->napi);
	return 0;
}

static int shmnic_change_mtu(struct net_device *ndev, int mtu)
{
	struct shmnic_net *sn = netdev_priv(ndev);

	WRITE_ONCE(ndev->mtu, mtu);
	if (sn->net == SHMNIC_NET_LOCAL)
		WRITE_ONCE(sn->sd->self->mtu, mtu);
	return 0;
}

static void shmnic_fetch(const struct shmnic_pcpu_stats *s, u64 *packets,
			 u64 *bytes)
{
	unsigned int start;

	do {
		start = u64_stats_fetch_begin(&s->syncp);
		*packets = u64_stats_read(&s->packets);
		*bytes = u64_stats_read(&s->bytes);
	} while (u64_stats_fetch_retry(&s->syncp, start));
}

static void shmnic_get_stats64(struct net_device *ndev,
			       struct rtnl_link_stats64 *st)
{
	struct shmnic_net *sn = netdev_priv(ndev);
	unsigned int start;
	u32 i;

	shmnic_fetch(&sn->tx_stats, &st->tx_packets, &st->tx_bytes);
	shmnic_fetch(&sn->rx_stats, &st->rx_packets, &st->rx_bytes);
	st->tx_dropped = atomic_long_read(&sn->tx_dropped);
	st->rx_dropped = atomic_long_read(&sn->rx_dropped);
	do {
		start = u64_stats_fetch_begin(&sn->rx_x.syncp);
		st->rx_errors = u64_stats_read(&sn->rx_x.bad_frames);
	} while (u64_stats_fetch_retry(&sn->rx_x.syncp, start));
	st->rx_errors += shmnic_rs_sum(sn, true, SHMNIC_RS_RESETS);
	st->rx_missed_errors = shmnic_rs_read(&sn->bc_rx_rs, SHMNIC_RS_LOST);
	for (i = 0; i < sn->mc_rings; i++)
		st->rx_missed_errors += shmnic_rs_read(&sn->mc[i].rx_rs,
						       SHMNIC_RS_LOST);
}

static const struct net_device_ops shmnic_netdev_ops = {
	.ndo_open = shmnic_open,
	.ndo_stop = shmnic_stop,
	.ndo_start_xmit = shmnic_start_xmit,
	.ndo_change_mtu = shmnic_change_mtu,
	.ndo_get_stats64 = shmnic_get_stats64,
	.ndo_set_rx_mode = shmnic_set_rx_mode,
	.ndo_set_mac_address = eth_mac_addr,
	.ndo_validate_addr = eth_validate_addr,
};

static void shmnic_stats_init(struct shmnic_net *sn)
{
	u64_stats_init(&sn->tx_stats.syncp);
	u64_stats_init(&sn->rx_stats.syncp);
	u64_stats_init(&sn->tx_x.syncp);
	u64_stats_init(&sn->rx_x.syncp);
	u64_stats_init(&sn->bc_tx_rs.syncp);
	u64_stats_init(&sn->bc_rx_rs.syncp);
}

struct shmnic_net *shmnic_net_create(struct shmnic_dev *sd, u32 net)
{
	const struct shmnic_layout *l = &sd->lay;
	struct net_device *ndev;
	struct shmnic_net *sn;
	u8 mac[ETH_ALEN];
	u32 id;

	ndev = alloc_netdev(sizeof(*sn),
			    net == SHMNIC_NET_LOCAL ? "shml%d" : "shmg%d",
			    NET_NAME_ENUM, ether_setup);
	if (!ndev)
		return ERR_PTR(-ENOMEM);
	sn = netdev_priv(ndev);
	sn->ndev = ndev;
	sn->sd = sd;
	sn->net = net;
	shmnic_stats_init(sn);

	sn->peers = kcalloc(l->g.max_nodes, sizeof(*sn->peers), GFP_KERNEL);
	if (!sn->peers) {
		free_netdev(ndev);
		return ERR_PTR(-ENOMEM);
	}
	for (id = 0; id < l->g.max_nodes; id++) {
		struct shmnic_peer *p = &sn->peers[id];

		p->id = id;
		u64_stats_init(&p->tx_rs.syncp);
		u64_stats_init(&p->rx_rs.syncp);
		if (id == sd->id)
			continue;
		shmnic_ring_init_pair(&p->tx,
				      shmnic_pair_ring_at(sd->shm, l, net,
							  sd->id, id), l);
		shmnic_ring_init_pair(&p->rx,
				      shmnic_pair_ring_at(sd->shm, l, net,
							  id, sd->id), l);
	}
	shmnic_net_rx_setup(sn);
	shmnic_ring_init_bcast(&sn->bc_rx,
			       shmnic_bcast_ring_at(sd->shm, l, net), l);
	sn->bc_tx = sn->bc_rx;
	if (shmnic_mc_init(sn)) {
		kfree(sn->peers);
		free_netdev(ndev);
		return ERR_PTR(-ENOMEM);
	}

	SET_NETDEV_DEV(ndev, &sd->pdev->dev);
	ndev->netdev_ops = &shmnic_netdev_ops;
	ndev->ethtool_ops = &shmnic_ethtool_ops;
	ndev->min_mtu = ETH_MIN_MTU;
	ndev->max_mtu = SHMNIC_MAX_FRAME - VLAN_ETH_HLEN;
	ndev->hw_features = NETIF_F_SG | NETIF_F_HW_CSUM | NETIF_F_TSO |
			    NETIF_F_TSO6 | NETIF_F_TSO_ECN | NETIF_F_RXCSUM |
			    NETIF_F_GRO;
	ndev->features = ndev->hw_features | NETIF_F_HIGHDMA;
	ndev->vlan_features = ndev->features;
	ndev->priv_flags |= IFF_LIVE_ADDR_CHANGE;
	/* Every node carries the global addresses: no node may answer for
	 * them inside the cluster (the gateway hook picks the node).
	 */
	if (net == SHMNIC_NET_GLOBAL)
		ndev->flags |= IFF_NOARP;
	shmnic_node_mac(mac, net, sd->id);
	eth_hw_addr_set(ndev, mac);
	netif_set_tso_max_size(ndev, GSO_LEGACY_MAX_SIZE);
	netif_napi_add(ndev, &sn->napi, shmnic_poll);
	netif_carrier_off(ndev);
	return sn;
}

int shmnic_net_register(struct shmnic_net *sn)
{
	return register_netdev(sn->ndev);
}

void shmnic_net_destroy(struct shmnic_net *sn)
{
	struct net_device *ndev = sn->ndev;

	if (ndev->reg_state == NETREG_REGISTERED)
		unregister_netdev(ndev);
	netif_napi_del(&sn->napi);
	shmnic_mc_free(sn);
	kfree(sn->peers);
	free_netdev(ndev);
}
