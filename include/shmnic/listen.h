/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shmnic global network: the listeners every node publishes.
 *
 * Each node walks its listening sockets once per heartbeat and writes those
 * a packet for a GLOBAL address could reach (TCP sockets in LISTEN and
 * unconnected UDP sockets, bound to a GLOBAL address or to the wildcard, on
 * no device or on shmg0) into its own page of the region (layout.h:
 * listen_off), so that a gateway can send the first packet of a new flow
 * at once instead of asking every node. A node is the only writer of its
 * page; it rewrites it only when the set changes, under a sequence word
 * (odd while it changes), and stamps it with its epoch: a page written in
 * an earlier attach of its node means nothing.
 *
 * Everything a reader finds here is hostile input: the count is bounded,
 * each entry is checked (shmnic_listener_valid()) and a bad one is ignored,
 * and a page whose sequence word never settles counts as empty. The worst
 * a lying node can do is attract flows to itself, which it could do anyway
 * by answering queries.
 */
#ifndef _SHMNIC_LISTEN_H
#define _SHMNIC_LISTEN_H

#include "compat.h"
#include "layout.h"

#define SHMNIC_LISTEN_BYTES	SHMNIC_PAGE	/* one node's page */
#define SHMNIC_LISTEN_ENTRY	24u
#define SHMNIC_LISTEN_SLOTS						\
	((SHMNIC_LISTEN_BYTES - SHMNIC_CACHELINE) / SHMNIC_LISTEN_ENTRY)

/* shmnic_listen_hdr.flags */
#define SHMNIC_LISTEN_F_FULL	0x1u	/* more listeners than slots */

struct shmnic_listen_hdr {
	u32 seq;		/* odd while the page changes */
	u32 epoch;		/* the writer's epoch when it wrote the page */
	u32 count;		/* entries that follow */
	u32 flags;		/* SHMNIC_LISTEN_F_* */
	u8 pad[48];
};

/*
 * One listener. A socket listening on the IPv6 wildcard that also takes
 * IPv4 is published twice, once per family, so that a reader compares
 * families only.
 */
struct shmnic_listener {
	u8 family;		/* 4 or 6 */
	u8 proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	u16 port;		/* network byte order, as on the wire */
	u8 addr[16];		/* all zero: the wildcard; IPv4: first 4 */
	u32 pad;		/* 0 */
};

SHMNIC_STATIC_ASSERT(sizeof(struct shmnic_listen_hdr) == SHMNIC_CACHELINE);
SHMNIC_STATIC_ASSERT(sizeof(struct shmnic_listener) == SHMNIC_LISTEN_ENTRY);
SHMNIC_STATIC_ASSERT(SHMNIC_CACHELINE + SHMNIC_LISTEN_SLOTS *
		     SHMNIC_LISTEN_ENTRY <= SHMNIC_LISTEN_BYTES);

#define SHMNIC_PROTO_TCP	6u	/* IPPROTO_TCP, without the headers */
#define SHMNIC_PROTO_UDP	17u

/* Node @id's page. */
static inline struct shmnic_listen_hdr *
shmnic_listen_page(void *base, const struct shmnic_layout *l, u32 id)
{
	return (struct shmnic_listen_hdr *)((u8 *)base + l->listen_off +
					    (u64)id * SHMNIC_LISTEN_BYTES);
}

static inline struct shmnic_listener *
shmnic_listen_entries(struct shmnic_listen_hdr *h)
{
	return (struct shmnic_listener *)((u8 *)h + SHMNIC_CACHELINE);
}

/* Is the address of entry @e the wildcard (all zero)? */
static inline bool shmnic_listener_any(const struct shmnic_listener *e)
{
	u32 i;

	for (i = 0; i < sizeof(e->addr); i++)
		if (e->addr[i])
			return false;
	return true;
}

/* May entry @e be used at all? */
static inline bool shmnic_listener_valid(const struct shmnic_listener *e)
{
	u32 i;

	if ((e->family != 4 && e->family != 6) ||
	    (e->proto != SHMNIC_PROTO_TCP && e->proto != SHMNIC_PROTO_UDP) ||
	    !e->port || e->pad)
		return false;
	if (e->family == 4)
		for (i = 4; i < sizeof(e->addr); i++)
			if (e->addr[i])
				return false;
	return true;
}

/*
 * Does valid entry @e take a packet of @proto to @addr (16 bytes, IPv4 in
 * the first 4), port @port, of @family?
 */
static inline bool shmnic_listener_match(const struct shmnic_listener *e,
					 u8 family, u8 proto, u16 port,
					 const u8 *addr)
{
	return e->family == family && e->proto == proto && e->port == port &&
	       (shmnic_listener_any(e) ||
		!memcmp(e->addr, addr, sizeof(e->addr)));
}

/* What a reader found on one node's page. */
struct shmnic_listen_found {
	u32 matches;		/* entries that take the packet */
	u32 bad;		/* entries ignored as invalid */
};

/*
 * Look through page @h, written in epoch @epoch, for a listener taking a
 * packet of @family, @proto to @addr:@port. Returns 0 with @out filled,
 * -ESTALE when the page belongs to another epoch of its node, or -EAGAIN
 * when it changed under us @tries times (it then counts as empty).
 */
static inline int shmnic_listen_scan(struct shmnic_listen_hdr *h, u32 epoch,
				     u8 family, u8 proto, u16 port,
				     const u8 *addr, u32 tries,
				     struct shmnic_listen_found *out)
{
	const struct shmnic_listener *ents = shmnic_listen_entries(h);

	while (tries--) {
		/* Acquire: the sequence word before what it vouches for. */
		u32 seq = smp_load_acquire(&h->seq);
		u32 n, i;

		if (seq & 1)
			continue;
		if (READ_ONCE(h->epoch) != epoch)
			return -ESTALE;
		n = READ_ONCE(h->count);
		if (n > SHMNIC_LISTEN_SLOTS)
			n = SHMNIC_LISTEN_SLOTS;
		out->matches = 0;
		out->bad = 0;
		for (i = 0; i < n; i++) {
			struct shmnic_listener e;

			memcpy(&e, &ents[i], sizeof(e));	/* read once */
			if (!shmnic_listener_valid(&e))
				out->bad++;
			else if (shmnic_listener_match(&e, family, proto, port,
						       addr))
				out->matches++;
		}
		/* The entries before the second look at the sequence word. */
		smp_rmb();
		if (READ_ONCE(h->seq) == seq)
			return 0;
	}
	return -EAGAIN;
}

/* Write @n entries of @ents and @flags into our page @h for @epoch. */
static inline void shmnic_listen_publish(struct shmnic_listen_hdr *h,
					 u32 epoch,
					 const struct shmnic_listener *ents,
					 u32 n, u32 flags)
{
	u32 seq = READ_ONCE(h->seq) | 1;

	WRITE_ONCE(h->seq, seq);
	/* Readers see the odd sequence before anything changes. */
	smp_wmb();
	if (n)
		memcpy(shmnic_listen_entries(h), ents, (size_t)n * sizeof(*ents));
	WRITE_ONCE(h->count, n);
	WRITE_ONCE(h->flags, flags);
	WRITE_ONCE(h->epoch, epoch);
	/* Everything before the even sequence that vouches for it. */
	smp_wmb();
	WRITE_ONCE(h->seq, seq + 1);
}

#endif /* _SHMNIC_LISTEN_H */
