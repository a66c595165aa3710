// SPDX-License-Identifier: GPL-2.0
/*
 * Receive, for both adapters: NAPI drains the pair, broadcast and multicast
 * rings fairly within the budget, checks every frame read from the region,
 * builds the skb and hands it to GRO, and takes control frames aside.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/etherdevice.h>
#include <linux/if_vlan.h>
#include <linux/virtio_net.h>

#include "compat.h"
#include "shmnic.h"
#include "stats.h"

#define SHMNIC_RX_BATCH		16

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
	int err;

	/* As virtio_net does: DATA_VALID only when the sender knew the
	 * checksum good (its stack or its NIC checked it); a frame without it
	 * stays unverified and our stack checks it. The copy through memory
	 * adds no errors, but it must not hide the ones a frame came with.
	 */
	if (h.flags & ~(VIRTIO_NET_HDR_F_NEEDS_CSUM |
			VIRTIO_NET_HDR_F_DATA_VALID))
		return -EINVAL;
	err = virtio_net_hdr_to_skb(skb, &h, true);
	if (!err && (h.flags & VIRTIO_NET_HDR_F_DATA_VALID) &&
	    skb->ip_summed == CHECKSUM_NONE)
		skb->ip_summed = CHECKSUM_UNNECESSARY;
	return err;
}

/* --- receive ------------------------------------------------------------ */

/* Bytes of a large frame copied into the skb's linear part: the headers
 * the stack reads next. The rest goes to page fragments.
 */
#define SHMNIC_RX_LINEAR	256
/* Pages of 16 KiB for the rest: a 64 KiB frame in four fragments, where
 * order-0 pages took sixteen and cost more per byte without ERMS (see
 * Documentation/performance.rst).
 */
#define SHMNIC_RX_PAGE_ORDER	2
#define SHMNIC_RX_PAGE_SIZE	(PAGE_SIZE << SHMNIC_RX_PAGE_ORDER)

/* An skb for a frame of @len bytes: linear when small; when large, a small
 * head and pages from the adapter's page pool. Those pages come back
 * to the pool when the stack frees the skb and are not zeroed again, where
 * a page from the allocator is (CONFIG_INIT_ON_ALLOC_DEFAULT_ON), at a cost
 * close to the copy's own.
 */
static struct sk_buff *shmnic_rx_alloc(struct shmnic_net *sn, u32 len)
{
	struct sk_buff *skb;
	struct page *page;
	u32 left, c;
	int i;

	if (len <= SKB_WITH_OVERHEAD(PAGE_SIZE) - NET_SKB_PAD - NET_IP_ALIGN) {
		skb = napi_alloc_skb(&sn->napi, len);
		if (skb)
			skb_put(skb, len);
		return skb;
	}
	skb = napi_alloc_skb(&sn->napi, SHMNIC_RX_LINEAR);
	if (!skb)
		return NULL;
	skb_mark_for_recycle(skb);
	skb_put(skb, SHMNIC_RX_LINEAR);
	left = len - SHMNIC_RX_LINEAR;
	/* At most MAX_SKB_FRAGS: see shmnic_rx_pool_create() */
	for (i = 0; left; i++) {
		page = page_pool_dev_alloc_pages(sn->rx_pool);
		if (!page) {
			kfree_skb(skb);
			return NULL;
		}
		c = min_t(u32, left, SHMNIC_RX_PAGE_SIZE);
		skb_add_rx_frag(skb, i, page, 0, c, SHMNIC_RX_PAGE_SIZE);
		left -= c;
	}
	return skb;
}

/* The page pool of the large frames' fragments (shmnic_rx_alloc()), from
 * ndo_open to ndo_stop. Pages still in the stack when it is destroyed go
 * back to the allocator as they come home (the core's work, not ours).
 */
int shmnic_rx_pool_create(struct shmnic_net *sn)
{
	struct page_pool_params pp = {
		.order = SHMNIC_RX_PAGE_ORDER,
		/* 8 MiB: a TCP receive window (tcp_rmem: 6 MiB) */
		.pool_size = 512,
		.nid = NUMA_NO_NODE,
		.dev = sn->ndev->dev.parent,
	};

	BUILD_BUG_ON(DIV_ROUND_UP(SHMNIC_MAX_FRAME - SHMNIC_RX_LINEAR,
				  SHMNIC_RX_PAGE_SIZE) > MAX_SKB_FRAGS);
	sn->rx_pool = page_pool_create(&pp);
	if (IS_ERR(sn->rx_pool)) {
		int err = PTR_ERR(sn->rx_pool);

		sn->rx_pool = NULL;
		return err;
	}
	return 0;
}

void shmnic_rx_pool_destroy(struct shmnic_net *sn)
{
	page_pool_destroy(sn->rx_pool);
	sn->rx_pool = NULL;
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

/* A control frame on a pair ring, for the adapter's peer_ctrl hook (the
 * gateway's queries and answers on shmg0). Consumes the frame.
 */
static void shmnic_peer_ctrl_rcv(struct shmnic_net *sn, struct shmnic_peer *p,
				 const struct shmnic_frame *f)
{
	u8 buf[SHMNIC_PEER_CTRL_MAX];
	bool ok = sn->peer_ctrl && f->total_len <= sizeof(buf) &&
		  !shmnic_rx_copy(&p->rx, f, buf);

	shmnic_rx_consume(&p->rx, f);
	if (ok)
		sn->peer_ctrl(sn->sd, p->id, buf, f->total_len);
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

/* Read up to @quota frames from broadcast or multicast ring @r. A lapped
 * read or a bad frame counts against the quota too: a writer that keeps
 * lapping us, or a scribbler, cannot keep NAPI here.
 */
static int shmnic_poll_group(struct shmnic_net *sn, struct shmnic_ring *r,
			     struct shmnic_ring_stats *rs, int quota)
{
	struct shmnic_frame f;
	struct sk_buff *skb;
	u64 lost = 0;
	int budget = quota, err;

	while ((err = shmnic_bc_next(r, shmnic_nodes(sn->sd), &f, &lost,
				     &budget)) != -EAGAIN) {
		if (err == -EBADMSG) {
			shmnic_xstat_inc(&sn->rx_x, &sn->rx_x.bad_frames);
			shmnic_rs_add(rs, SHMNIC_RS_DROPS, 1);
		}
		if (err)
			continue;
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
	return quota - budget;
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

/* The multicast rings we read (mcast.c keeps which: active). */
static int shmnic_mc_poll(struct shmnic_net *sn, int quota)
{
	int done = 0;
	u32 i;

	for (i = 0; i < sn->mc_rings && done < quota; i++)
		if (sn->mc[i].active)
			done += shmnic_poll_group(sn, &sn->mc[i].rx,
						  &sn->mc[i].rx_rs,
						  quota - done);
	return done;
}

int shmnic_poll(struct napi_struct *napi, int budget)
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
