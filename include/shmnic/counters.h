/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shmnic: the traffic counters every node publishes in the region.
 *
 * At every heartbeat each node copies its adapters' counters (what
 * `ip -s link` shows for shml0 and shmg0, plus the ring-full stops), its
 * pair rings' counters per peer and its gateway counters into its own part
 * of the region (layout.h: ctrs_off), under a sequence word (odd while it
 * changes), stamped with its epoch, its heartbeat and its own monotonic
 * clock. Any node reads every node's part without sending a frame: that is
 * the cluster's management view (`shmnicctl stats`).
 *
 * Everything a reader finds here is hostile input. A part whose sequence
 * word never settles has no figures; one from another epoch of its node,
 * or of a node that is not up, is stale; one whose figures cannot be true
 * (shmnic_ctrs_net_sane()) is shown as absurd. Counts are clamped. The
 * worst a lying node can do is lie about its own traffic.
 */
#ifndef _SHMNIC_COUNTERS_H
#define _SHMNIC_COUNTERS_H

#include "compat.h"
#include "layout.h"

#define SHMNIC_CTRS_BYTES	(2 * SHMNIC_PAGE)	/* one node's part */

/* Gateway counters published, in this order (ethtool -S of shmg0: gw_*). */
enum shmnic_ctrs_gw_idx {
	SHMNIC_CTRS_GW_RX,		/* packets for a GLOBAL address */
	SHMNIC_CTRS_GW_FORWARDED,	/* sent to the node serving them */
	SHMNIC_CTRS_GW_LOCAL,		/* served by the gateway itself */
	SHMNIC_CTRS_GW_FLOWS_NEW,	/* flows dispatched */
	SHMNIC_CTRS_GW_PUBLISHED,	/* ... by the published listeners */
	SHMNIC_CTRS_GW_QUERIES,		/* queries sent */
	SHMNIC_CTRS_GW_NO_SERVER,	/* flows nobody serves: dropped */
	SHMNIC_CTRS_GW_TX_ERRORS,	/* forwarding failed */
	SHMNIC_CTRS_GW_HANDBACKS,	/* flows handed back by their node */
	SHMNIC_CTRS_GW_MAX
};

#define SHMNIC_CTRS_GW_SLOTS	16u

/* The counters of one network's adapter, as `ip -s link` shows them. */
struct shmnic_ctrs_net {
	u64 rx_packets;
	u64 rx_bytes;
	u64 tx_packets;
	u64 tx_bytes;
	u64 rx_dropped;
	u64 tx_dropped;
	u64 rx_errors;
	u64 tx_errors;
	u64 rx_missed;		/* broadcast and multicast slots missed */
	u64 tx_stops;		/* TX queue stopped because a ring was full */
	u64 pad[6];
};

/* The pair rings joining us to one peer on one network. */
struct shmnic_ctrs_peer {
	u64 tx_packets;
	u64 tx_bytes;
	u64 rx_packets;
	u64 rx_bytes;
};

struct shmnic_ctrs_hdr {
	u32 seq;		/* odd while the part changes */
	u32 epoch;		/* the writer's epoch when it wrote */
	u64 heartbeat;		/* the writer's heartbeat when it wrote */
	u64 time_ns;		/* the writer's monotonic clock when it wrote */
	u32 nets;		/* entries of net[] filled */
	u32 peers;		/* entries of peer[n][] filled per network */
	u32 gw_count;		/* entries of gw[] filled */
	u32 pad0;
	u8 pad[24];
};

/* One node's part: the first page for itself, the second for its peers. */
struct shmnic_ctrs {
	struct shmnic_ctrs_hdr hdr;
	struct shmnic_ctrs_net net[SHMNIC_MAX_NETS];
	u64 gw[SHMNIC_CTRS_GW_SLOTS];
	u8 pad[SHMNIC_PAGE - SHMNIC_CACHELINE -
	       SHMNIC_MAX_NETS * sizeof(struct shmnic_ctrs_net) -
	       SHMNIC_CTRS_GW_SLOTS * sizeof(u64)];
	struct shmnic_ctrs_peer peer[SHMNIC_MAX_NETS][SHMNIC_MAX_NODES];
};

SHMNIC_STATIC_ASSERT(sizeof(struct shmnic_ctrs_hdr) == SHMNIC_CACHELINE);
SHMNIC_STATIC_ASSERT(sizeof(struct shmnic_ctrs_net) == 2 * SHMNIC_CACHELINE);
SHMNIC_STATIC_ASSERT(sizeof(struct shmnic_ctrs) == SHMNIC_CTRS_BYTES);
SHMNIC_STATIC_ASSERT(SHMNIC_CTRS_GW_MAX <= SHMNIC_CTRS_GW_SLOTS);

/* Node @id's part. */
static inline struct shmnic_ctrs *
shmnic_ctrs_at(void *base, const struct shmnic_layout *l, u32 id)
{
	return (struct shmnic_ctrs *)((u8 *)base + l->ctrs_off +
				      (u64)id * SHMNIC_CTRS_BYTES);
}

/* Largest counter value taken at face value: 2^62. */
#define SHMNIC_CTRS_LIMIT	(1ull << 62)

/* Could @packets frames carry @bytes? (Both below SHMNIC_CTRS_LIMIT.) */
static inline bool shmnic_ctrs_fits(u64 packets, u64 bytes)
{
	return (bytes + SHMNIC_MAX_FRAME - 1) / SHMNIC_MAX_FRAME <= packets;
}

/*
 * Could @n be true? Every counter below SHMNIC_CTRS_LIMIT, no bytes
 * without packets, and no more bytes than maximal frames could carry.
 */
static inline bool shmnic_ctrs_net_sane(const struct shmnic_ctrs_net *n)
{
	if (n->rx_packets >= SHMNIC_CTRS_LIMIT ||
	    n->tx_packets >= SHMNIC_CTRS_LIMIT ||
	    n->rx_bytes >= SHMNIC_CTRS_LIMIT ||
	    n->tx_bytes >= SHMNIC_CTRS_LIMIT ||
	    n->rx_dropped >= SHMNIC_CTRS_LIMIT ||
	    n->tx_dropped >= SHMNIC_CTRS_LIMIT ||
	    n->rx_errors >= SHMNIC_CTRS_LIMIT ||
	    n->tx_errors >= SHMNIC_CTRS_LIMIT ||
	    n->rx_missed >= SHMNIC_CTRS_LIMIT ||
	    n->tx_stops >= SHMNIC_CTRS_LIMIT)
		return false;
	return shmnic_ctrs_fits(n->rx_packets, n->rx_bytes) &&
	       shmnic_ctrs_fits(n->tx_packets, n->tx_bytes);
}

static inline bool shmnic_ctrs_peer_sane(const struct shmnic_ctrs_peer *p)
{
	return p->tx_packets < SHMNIC_CTRS_LIMIT &&
	       p->rx_packets < SHMNIC_CTRS_LIMIT &&
	       p->tx_bytes < SHMNIC_CTRS_LIMIT &&
	       p->rx_bytes < SHMNIC_CTRS_LIMIT &&
	       shmnic_ctrs_fits(p->tx_packets, p->tx_bytes) &&
	       shmnic_ctrs_fits(p->rx_packets, p->rx_bytes);
}

/* What shmnic_ctrs_read() found. */
#define SHMNIC_CTRS_TORN	0x1u	/* never settled: no figures */
#define SHMNIC_CTRS_OTHER_EPOCH	0x2u	/* written in another attach */
#define SHMNIC_CTRS_ABSURD	0x4u	/* figures that cannot be true */
#define SHMNIC_CTRS_EMPTY	0x8u	/* never written */

/*
 * Copy part @src into @dst, trying @tries times for a settled copy, and
 * check it against @epoch, the epoch its node has in the node table.
 * Counts are clamped and counters of entries not filled are zeroed, so
 * that @dst may be used whatever the flags say. Returns SHMNIC_CTRS_*
 * flags.
 */
static inline u32 shmnic_ctrs_read(const struct shmnic_ctrs *src,
				   struct shmnic_ctrs *dst, u32 epoch,
				   u32 max_nodes, u32 tries)
{
	u32 flags = SHMNIC_CTRS_TORN, i, n, seq;

	while (tries--) {
		/* Acquire: the sequence word before what it vouches for. */
		seq = smp_load_acquire(&src->hdr.seq);
		if (seq & 1)
			continue;
		memcpy(dst, src, sizeof(*dst));
		/* The copy before the second look at the sequence word. */
		smp_rmb();
		if (READ_ONCE(src->hdr.seq) == seq) {
			flags = 0;
			break;
		}
	}
	if (flags) {
		memset(dst, 0, sizeof(*dst));
		return flags;
	}
	if (!dst->hdr.seq && !dst->hdr.epoch)
		flags |= SHMNIC_CTRS_EMPTY;
	else if (dst->hdr.epoch != epoch)
		flags |= SHMNIC_CTRS_OTHER_EPOCH;
	if (dst->hdr.nets > SHMNIC_MAX_NETS)
		dst->hdr.nets = SHMNIC_MAX_NETS;
	if (dst->hdr.peers > max_nodes)
		dst->hdr.peers = max_nodes;
	if (dst->hdr.gw_count > SHMNIC_CTRS_GW_SLOTS)
		dst->hdr.gw_count = SHMNIC_CTRS_GW_SLOTS;
	for (n = 0; n < SHMNIC_MAX_NETS; n++) {
		if (n >= dst->hdr.nets)
			memset(&dst->net[n], 0, sizeof(dst->net[n]));
		else if (!shmnic_ctrs_net_sane(&dst->net[n]))
			flags |= SHMNIC_CTRS_ABSURD;
		for (i = 0; i < SHMNIC_MAX_NODES; i++) {
			if (n >= dst->hdr.nets || i >= dst->hdr.peers)
				memset(&dst->peer[n][i], 0,
				       sizeof(dst->peer[n][i]));
			else if (!shmnic_ctrs_peer_sane(&dst->peer[n][i]))
				flags |= SHMNIC_CTRS_ABSURD;
		}
	}
	for (i = dst->hdr.gw_count; i < SHMNIC_CTRS_GW_SLOTS; i++)
		dst->gw[i] = 0;
	for (i = 0; i < dst->hdr.gw_count; i++)
		if (dst->gw[i] >= SHMNIC_CTRS_LIMIT)
			flags |= SHMNIC_CTRS_ABSURD;
	return flags;
}

/* Write @c (prepared by the caller) into our part @dst. */
static inline void shmnic_ctrs_publish(struct shmnic_ctrs *dst,
				       const struct shmnic_ctrs *c)
{
	u32 seq = READ_ONCE(dst->hdr.seq) | 1;

	WRITE_ONCE(dst->hdr.seq, seq);
	/* Readers see the odd sequence before anything changes. */
	smp_wmb();
	memcpy((u8 *)dst + sizeof(dst->hdr.seq),
	       (const u8 *)c + sizeof(c->hdr.seq),
	       sizeof(*c) - sizeof(c->hdr.seq));
	/* Everything before the even sequence that vouches for it. */
	smp_wmb();
	WRITE_ONCE(dst->hdr.seq, seq + 1);
}

#endif /* _SHMNIC_COUNTERS_H */
