/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shmnic shared-memory layout.
 *
 * All nodes of a cluster run on one host, so words are in native byte order.
 * Every word has exactly one writer (see the comments on each struct), except
 * the broadcast ring's lock word, which is taken with compare-and-swap.
 *
 *   offset 0                  struct shmnic_region (one page)
 *   node_off                  struct shmnic_node[max_nodes]
 *   net_off[n]                network n:
 *                               broadcast ring (struct shmnic_bcast_hdr,
 *                               descriptors, buffers)
 *                               mcast_rings multicast rings, each laid out
 *                               like the broadcast ring
 *                               pair rings, receiver-major: the ring from
 *                               node a to node b is ring number
 *                               b * max_nodes + a
 *   flow_off                  the flow table: per node, flow_slots
 *                             entries (struct shmnic_flow, flow.h),
 *                             written only by that node as a gateway
 *   listen_off                the published listeners: per node one page
 *                             (struct shmnic_listen_hdr and entries,
 *                             listen.h), written only by that node
 *   ctrs_off                  the published counters: per node two pages
 *                             (struct shmnic_ctrs, counters.h), written
 *                             only by that node
 *
 * A reader never trusts an offset stored in the region: every node derives
 * the layout from the geometry with shmnic_layout_compute() and checks that
 * the stored offsets agree.
 */
#ifndef _SHMNIC_LAYOUT_H
#define _SHMNIC_LAYOUT_H

#include "compat.h"

#define SHMNIC_MAGIC		0x4e4d4853u	/* "SHMN" */
#define SHMNIC_LAYOUT_VERSION	5u
#define SHMNIC_CACHELINE	64u
#define SHMNIC_PAGE		4096u

#define SHMNIC_MAX_NODES	64u	/* node ids are 0 .. max_nodes - 1 */
#define SHMNIC_MAX_NETS		2u	/* local, global */
#define SHMNIC_NET_LOCAL	0u
#define SHMNIC_NET_GLOBAL	1u

#define SHMNIC_MAX_MCAST	16u	/* multicast rings per network */

#define SHMNIC_MIN_SLOTS	16u
#define SHMNIC_MAX_SLOTS	16384u
#define SHMNIC_MIN_FLOWS	64u	/* flow entries per gateway */
#define SHMNIC_MAX_FLOWS	65536u
#define SHMNIC_FLOW_BYTES	64u	/* sizeof(struct shmnic_flow) */
#define SHMNIC_MIN_BUF		256u
#define SHMNIC_MAX_BUF		65536u

/* Largest frame carried: 64 KiB of payload plus an Ethernet/VLAN header. */
#define SHMNIC_MAX_FRAME	(65535u + 18u)
/* Largest number of slots one frame may span. */
#define SHMNIC_MAX_CHAIN	(SHMNIC_MAX_FRAME / SHMNIC_MIN_BUF + 1u)

/* shmnic_region.state: who formats the region is decided by CAS on it. */
#define SHMNIC_FMT_BLANK	0u
#define SHMNIC_FMT_BUSY		1u
#define SHMNIC_FMT_READY	2u

/* Region header, offset 0. Written once by the formatting node. */
struct shmnic_region {
	u32 magic;
	u32 version;
	u32 state;		/* SHMNIC_FMT_*, CAS */
	u32 formatter;		/* node id of the formatter */
	u64 size;		/* bytes of the region laid out */
	u32 max_nodes;
	u32 ring_slots;		/* slots per pair ring, power of two */
	u32 buf_size;		/* bytes per slot buffer, multiple of 64 */
	u32 bcast_slots;	/* slots of the broadcast ring, power of two */
	u32 nets;		/* networks laid out */
	u32 mcast_rings;	/* multicast rings per network */
	u64 node_off;
	u64 net_off[SHMNIC_MAX_NETS];
	u64 ring_bytes;		/* bytes of one pair ring */
	u64 bcast_bytes;	/* bytes of one broadcast or multicast ring */
	u64 net_bytes;		/* bytes of one network */
	u32 flow_slots;		/* flow entries per node, power of two */
	u32 pad0;
	u64 flow_off;
	u64 listen_off;
	u64 ctrs_off;
};

/* shmnic_node.state */
#define SHMNIC_NODE_ABSENT	0u
#define SHMNIC_NODE_UP		1u
#define SHMNIC_NODE_LEAVING	2u

/* shmnic_node.flags: bit n set while the node receives on network n */
#define SHMNIC_NODE_F_RX(net)	(1u << (net))

/* Node table entry, one cache line, written only by its node. */
struct shmnic_node {
	u32 state;		/* SHMNIC_NODE_* */
	u32 epoch;		/* bumped at every attach, never 0 when up */
	u64 heartbeat;		/* bumped by the node on a timer */
	u8 mac[6];
	u16 flags;
	u32 mtu;
	u32 features;
	u32 rx_slots;		/* receive ring depth in use, <= ring_slots */
	u32 pad0;
	/* per network: bit shmnic_mc_hash(group) set for each group joined */
	u64 mc_filter[SHMNIC_MAX_NETS];
	u8 pad[8];
};

/* Descriptor flags */
#define SHMNIC_DESC_MORE	0x0001u	/* another slot of this frame follows */
#define SHMNIC_DESC_CTRL	0x0002u	/* driver-internal control frame */
#define SHMNIC_DESC_FLAGS	(SHMNIC_DESC_MORE | SHMNIC_DESC_CTRL)

/*
 * Offload metadata, carried in the first descriptor of a frame. Same meaning
 * as the fields of struct virtio_net_hdr.
 */
struct shmnic_meta {
	u8 flags;		/* VIRTIO_NET_HDR_F_* */
	u8 gso_type;		/* VIRTIO_NET_HDR_GSO_* */
	u16 hdr_len;
	u16 gso_size;
	u16 csum_start;
	u16 csum_offset;
};

/* One slot descriptor. Written by the ring's sender. */
struct shmnic_desc {
	u32 len;		/* bytes of data in this slot */
	u16 off;		/* where the data starts in the slot buffer */
	u16 flags;		/* SHMNIC_DESC_* */
	u32 total_len;		/* first slot: bytes of the whole frame */
	u16 nslots;		/* first slot: slots the frame spans */
	u16 src;		/* broadcast rings: sending node id */
	u32 seq;		/* broadcast rings: slot index + 1, 0 while written */
	struct shmnic_meta meta;	/* first slot */
	u16 pad;
};

/* Pair ring, sender's cache line. */
struct shmnic_ring_tx {
	u32 prod;		/* frames published up to here (slot index) */
	u32 tx_epoch;		/* sender's epoch */
	u32 rx_epoch;		/* receiver epoch the sender connected to */
	u32 kick_ack;		/* last shmnic_ring_rx.kick_req answered */
	u32 space_req;		/* bumped when the sender waits for room */
	u32 pad[11];
};

/* Pair ring, receiver's cache line. */
struct shmnic_ring_rx {
	u32 cons;		/* slots consumed up to here */
	u32 rx_epoch;		/* receiver's epoch when it set the ring up */
	u32 kick_req;		/* != kick_ack: receiver wants a doorbell */
	u32 space_ack;		/* last shmnic_ring_tx.space_req answered */
	u32 pad[12];
};

struct shmnic_ring_hdr {
	struct shmnic_ring_tx tx;
	struct shmnic_ring_rx rx;
};

/*
 * Broadcast and multicast ring header: the lock line, the write-index line
 * and, for multicast rings, the label line. All but the lock word are
 * written only by the holder of the lock.
 */
struct shmnic_bcast_hdr {
	u32 lock;		/* 0 free, else holder node id + 1; CAS */
	u32 pad0[15];
	u32 widx;		/* next slot written */
	u32 pad1[15];
	u32 gen;		/* label generation: odd while it is rewritten */
	u32 owner;		/* node id + 1 of the ring's owner, 0 free */
	u32 start;		/* widx when the group was given this ring */
	u8 group[6];		/* the group's MAC address */
	u8 pad2[46];
};

SHMNIC_STATIC_ASSERT(sizeof(struct shmnic_region) <= SHMNIC_PAGE);
SHMNIC_STATIC_ASSERT(sizeof(struct shmnic_node) == SHMNIC_CACHELINE);
SHMNIC_STATIC_ASSERT(sizeof(struct shmnic_desc) == 32);
SHMNIC_STATIC_ASSERT(sizeof(struct shmnic_ring_tx) == SHMNIC_CACHELINE);
SHMNIC_STATIC_ASSERT(sizeof(struct shmnic_ring_rx) == SHMNIC_CACHELINE);
SHMNIC_STATIC_ASSERT(sizeof(struct shmnic_bcast_hdr) == 3 * SHMNIC_CACHELINE);

/* Control frames (SHMNIC_DESC_CTRL): never passed to the network stack. */
#define SHMNIC_CTRL_HELLO	1u
#define SHMNIC_CTRL_BYE		2u

struct shmnic_ctrl {
	u16 type;		/* SHMNIC_CTRL_* */
	u16 node;		/* sender */
	u32 epoch;		/* sender's epoch */
	u32 reply;		/* HELLO: nonzero when answering a HELLO */
	u32 pad;
};

/* Geometry chosen by the formatter; everything else is derived from it. */
struct shmnic_geometry {
	u32 max_nodes;
	u32 ring_slots;
	u32 buf_size;
	u32 bcast_slots;
	u32 nets;
	u32 mcast_rings;	/* 0 .. SHMNIC_MAX_MCAST */
	u32 flow_slots;		/* flow entries per node, power of two */
};

struct shmnic_layout {
	struct shmnic_geometry g;
	u64 size;
	u64 node_off;
	u64 net_off[SHMNIC_MAX_NETS];
	u64 ring_bytes;
	u64 bcast_bytes;
	u64 net_bytes;
	u64 flow_off;
	u64 listen_off;		/* max_nodes pages of published listeners */
	u64 ctrs_off;		/* max_nodes parts of published counters */
	/* offsets inside one ring (pair or broadcast) */
	u64 ring_desc_off;
	u64 ring_buf_off;
	u64 bcast_desc_off;
	u64 bcast_buf_off;
};

static inline u64 shmnic_align(u64 v, u64 a)
{
	return (v + a - 1) & ~(a - 1);
}

static inline int shmnic_is_pow2(u32 v)
{
	return v && !(v & (v - 1));
}

/* Slots needed for a frame of @len bytes. */
static inline u32 shmnic_frame_slots(u32 len, u32 buf_size)
{
	return len ? (len + buf_size - 1) / buf_size : 1;
}

static inline int shmnic_geometry_valid(const struct shmnic_geometry *g)
{
	return g->max_nodes >= 2 && g->max_nodes <= SHMNIC_MAX_NODES &&
	       shmnic_is_pow2(g->ring_slots) &&
	       g->ring_slots >= SHMNIC_MIN_SLOTS &&
	       g->ring_slots <= SHMNIC_MAX_SLOTS &&
	       shmnic_is_pow2(g->bcast_slots) &&
	       g->bcast_slots >= SHMNIC_MIN_SLOTS &&
	       g->bcast_slots <= SHMNIC_MAX_SLOTS &&
	       g->buf_size >= SHMNIC_MIN_BUF && g->buf_size <= SHMNIC_MAX_BUF &&
	       !(g->buf_size % SHMNIC_CACHELINE) &&
	       /* a maximal frame must fit in half of every ring */
	       shmnic_frame_slots(SHMNIC_MAX_FRAME, g->buf_size) <=
			g->ring_slots / 2 &&
	       shmnic_frame_slots(SHMNIC_MAX_FRAME, g->buf_size) <=
			g->bcast_slots / 2 &&
	       g->nets >= 1 && g->nets <= SHMNIC_MAX_NETS &&
	       g->mcast_rings <= SHMNIC_MAX_MCAST &&
	       shmnic_is_pow2(g->flow_slots) &&
	       g->flow_slots >= SHMNIC_MIN_FLOWS &&
	       g->flow_slots <= SHMNIC_MAX_FLOWS;
}

/*
 * May a receiver use @slots of each of its rings' ring_slots? A power of
 * two, at most what the region was formatted with, with room for two
 * maximal frames.
 */
static inline int shmnic_depth_valid(const struct shmnic_geometry *g,
				     u32 slots)
{
	return shmnic_is_pow2(slots) && slots <= g->ring_slots &&
	       shmnic_frame_slots(SHMNIC_MAX_FRAME, g->buf_size) <= slots / 2;
}

/*
 * Compute the layout for @g. Returns 0, -EINVAL for a bad geometry or
 * -ENOSPC when it does not fit in @region_size bytes.
 */
static inline int shmnic_layout_compute(const struct shmnic_geometry *g,
					u64 region_size,
					struct shmnic_layout *l)
{
	u64 off, pairs;
	u32 n;

	if (!shmnic_geometry_valid(g))
		return -EINVAL;

	memset(l, 0, sizeof(*l));
	l->g = *g;
	l->node_off = SHMNIC_PAGE;

	l->ring_desc_off = sizeof(struct shmnic_ring_hdr);
	l->ring_buf_off = shmnic_align(l->ring_desc_off +
				       (u64)g->ring_slots *
				       sizeof(struct shmnic_desc),
				       SHMNIC_CACHELINE);
	l->ring_bytes = shmnic_align(l->ring_buf_off +
				     (u64)g->ring_slots * g->buf_size,
				     SHMNIC_PAGE);

	l->bcast_desc_off = sizeof(struct shmnic_bcast_hdr);
	l->bcast_buf_off = shmnic_align(l->bcast_desc_off +
					(u64)g->bcast_slots *
					sizeof(struct shmnic_desc),
					SHMNIC_CACHELINE);
	l->bcast_bytes = shmnic_align(l->bcast_buf_off +
				      (u64)g->bcast_slots * g->buf_size,
				      SHMNIC_PAGE);

	pairs = (u64)g->max_nodes * g->max_nodes;
	l->net_bytes = (1 + (u64)g->mcast_rings) * l->bcast_bytes +
		       pairs * l->ring_bytes;

	off = shmnic_align(l->node_off +
			   (u64)g->max_nodes * sizeof(struct shmnic_node),
			   SHMNIC_PAGE);
	for (n = 0; n < g->nets; n++) {
		l->net_off[n] = off;
		off += l->net_bytes;
	}
	l->flow_off = off;
	off += shmnic_align((u64)g->max_nodes * g->flow_slots *
			    SHMNIC_FLOW_BYTES, SHMNIC_PAGE);
	l->listen_off = off;
	off += (u64)g->max_nodes * SHMNIC_PAGE;
	l->ctrs_off = off;
	off += (u64)g->max_nodes * 2 * SHMNIC_PAGE;
	l->size = off;
	return off <= region_size ? 0 : -ENOSPC;
}

/*
 * Check a snapshot of the region header (copied out of shared memory by the
 * caller) against a region of @region_size bytes and derive its layout.
 * Returns 0 or -EINVAL.
 */
static inline int shmnic_region_check(const struct shmnic_region *r,
				      u64 region_size,
				      struct shmnic_layout *l)
{
	struct shmnic_geometry g;
	u32 n;

	if (r->magic != SHMNIC_MAGIC || r->version != SHMNIC_LAYOUT_VERSION ||
	    r->state != SHMNIC_FMT_READY)
		return -EINVAL;
	g.max_nodes = r->max_nodes;
	g.ring_slots = r->ring_slots;
	g.buf_size = r->buf_size;
	g.bcast_slots = r->bcast_slots;
	g.nets = r->nets;
	g.mcast_rings = r->mcast_rings;
	g.flow_slots = r->flow_slots;
	if (shmnic_layout_compute(&g, region_size, l))
		return -EINVAL;
	if (r->size != l->size || r->node_off != l->node_off ||
	    r->flow_off != l->flow_off || r->listen_off != l->listen_off ||
	    r->ctrs_off != l->ctrs_off ||
	    r->ring_bytes != l->ring_bytes ||
	    r->bcast_bytes != l->bcast_bytes || r->net_bytes != l->net_bytes)
		return -EINVAL;
	for (n = 0; n < g.nets; n++)
		if (r->net_off[n] != l->net_off[n])
			return -EINVAL;
	return 0;
}

/* What a node finds in the first page of the region before it attaches. */
enum shmnic_region_kind {
	SHMNIC_REGION_ZERO,		/* all zero: a fresh shared memory file */
	/* a node won the state word and has not written the header yet */
	SHMNIC_REGION_FORMATTING,
	SHMNIC_REGION_OURS,		/* shmnic's magic */
	SHMNIC_REGION_FOREIGN,		/* anything else: someone else's data */
};

/*
 * Classify @page, a copy of the region's first SHMNIC_PAGE bytes. Only a
 * ZERO region may be formatted without force_format=1 (and an OURS one
 * whose formatter gave up): the module never writes into a region that
 * holds someone else's data, such as a Looking Glass frame buffer.
 */
static inline enum shmnic_region_kind
shmnic_region_classify(const void *page)
{
	const struct shmnic_region *r = (const struct shmnic_region *)page;
	const u64 *w = (const u64 *)page;
	const u32 state_word = offsetof(struct shmnic_region, state) / sizeof(u64);
	u64 rest = 0;
	u32 i;

	if (r->magic == SHMNIC_MAGIC)
		return SHMNIC_REGION_OURS;
	for (i = 0; i < SHMNIC_PAGE / sizeof(u64); i++)
		if (i != state_word)
			rest |= w[i];
	/* The state word shares its u64 with the formatter's id. */
	if (rest || r->formatter)
		return SHMNIC_REGION_FOREIGN;
	if (r->state == SHMNIC_FMT_BLANK)
		return SHMNIC_REGION_ZERO;
	return r->state == SHMNIC_FMT_BUSY ? SHMNIC_REGION_FORMATTING :
					     SHMNIC_REGION_FOREIGN;
}

/* Fill a region header for layout @l (the formatter, before READY). */
static inline void shmnic_region_fill(struct shmnic_region *r,
				      const struct shmnic_layout *l, u32 me)
{
	u32 n;

	r->magic = SHMNIC_MAGIC;
	r->version = SHMNIC_LAYOUT_VERSION;
	r->formatter = me;
	r->size = l->size;
	r->max_nodes = l->g.max_nodes;
	r->ring_slots = l->g.ring_slots;
	r->buf_size = l->g.buf_size;
	r->bcast_slots = l->g.bcast_slots;
	r->nets = l->g.nets;
	r->mcast_rings = l->g.mcast_rings;
	r->node_off = l->node_off;
	for (n = 0; n < SHMNIC_MAX_NETS; n++)
		r->net_off[n] = n < l->g.nets ? l->net_off[n] : 0;
	r->ring_bytes = l->ring_bytes;
	r->bcast_bytes = l->bcast_bytes;
	r->net_bytes = l->net_bytes;
	r->flow_slots = l->g.flow_slots;
	r->flow_off = l->flow_off;
	r->listen_off = l->listen_off;
	r->ctrs_off = l->ctrs_off;
}

static inline struct shmnic_node *shmnic_node_at(void *base,
						 const struct shmnic_layout *l,
						 u32 id)
{
	return (struct shmnic_node *)((u8 *)base + l->node_off) + id;
}

/* The pair ring carrying frames from node @from to node @to. */
static inline void *shmnic_pair_ring_at(void *base,
					const struct shmnic_layout *l,
					u32 net, u32 from, u32 to)
{
	return (u8 *)base + l->net_off[net] +
	       (1 + (u64)l->g.mcast_rings) * l->bcast_bytes +
	       ((u64)to * l->g.max_nodes + from) * l->ring_bytes;
}

static inline void *shmnic_bcast_ring_at(void *base,
					 const struct shmnic_layout *l,
					 u32 net)
{
	return (u8 *)base + l->net_off[net];
}

/* Multicast ring @i (0 .. mcast_rings - 1) of network @net. */
static inline void *shmnic_mcast_ring_at(void *base,
					 const struct shmnic_layout *l,
					 u32 net, u32 i)
{
	return (u8 *)base + l->net_off[net] + (1 + (u64)i) * l->bcast_bytes;
}

/*
 * The bit of struct shmnic_node.mc_filter that stands for group MAC @mac: a
 * sender rings the doorbell only of nodes with the bit set.
 */
static inline u32 shmnic_mc_hash(const u8 *mac)
{
	u32 h = 0, i;

	for (i = 0; i < 6; i++)
		h = (h ^ mac[i]) * 0x01000193u;	/* FNV-1a */
	return (h ^ (h >> 16)) & 63;
}

/*
 * Does a frame to multicast MAC @mac get a multicast ring of its own? IPv4
 * and IPv6 groups do, except the link-local control groups that nearly
 * every node joins or that come and go with every address (224.0.0.0/24,
 * 33:33:00:00:00:xx such as all-nodes and MLD, 33:33:ff:xx:xx:xx
 * solicited-node): those, and all non-IP multicast, use the broadcast ring.
 */
static inline int shmnic_mc_uses_ring(const u8 *mac)
{
	if (mac[0] == 0x01 && mac[1] == 0x00 && mac[2] == 0x5e)
		return mac[3] || mac[4];
	if (mac[0] == 0x33 && mac[1] == 0x33)
		return mac[2] != 0xff && (mac[2] || mac[3] || mac[4]);
	return 0;
}

#endif /* _SHMNIC_LAYOUT_H */
