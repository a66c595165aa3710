/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shmnic global network: the flow table and the consistent hash.
 *
 * The flow table lives in the shared region (layout.h: flow_off), so that
 * every gateway can see where the others sent a flow. Each node has its own
 * part of flow_slots entries and is the only writer of it; gateways read
 * every part. The part is a 4-way set-associative hash table: a flow's set
 * is chosen by shmnic_flow_hash(), and when a set is full a new flow takes
 * the place of an expired entry, else of the stalest entry not yet
 * established, else it is refused: a SYN flood can neither grow the table
 * nor push out established connections.
 *
 * An entry is written under a sequence word (odd while it changes) and read
 * as a snapshot that is retried or given up; its time stamp is the writer's
 * heartbeat counter (struct shmnic_node.heartbeat, 10 per second), the one
 * clock every node can read. Nothing read from another node's part is
 * trusted: the caller bounds the owner it finds.
 *
 * The consistent hash is Maglev's (Eisenbud et al., NSDI 2016): every
 * candidate node fills a table of SHMNIC_MAGLEV_M entries by its own
 * permutation, and a flow takes the entry its hash names. Gateways that see
 * the same candidates pick the same node, and a candidate joining or
 * leaving moves about 1/n of the flows.
 */
#ifndef _SHMNIC_FLOW_H
#define _SHMNIC_FLOW_H

#include "compat.h"
#include "layout.h"

#define SHMNIC_FLOW_WAYS	4u
/* Timeouts in heartbeats (tenths of a second), after IPVS's. */
#define SHMNIC_FLOW_TO_SYN	(10u * 10u)
#define SHMNIC_FLOW_TO_EST	(300u * 10u)
#define SHMNIC_FLOW_TO_CLOSING	(10u * 10u)
#define SHMNIC_FLOW_TO_UDP	(30u * 10u)

/* struct shmnic_flow.state; same values as enum shmnic_flow_state (uapi) */
#define SHMNIC_FS_FREE		0u
#define SHMNIC_FS_SYN		1u
#define SHMNIC_FS_EST		2u
#define SHMNIC_FS_CLOSING	3u
#define SHMNIC_FS_UDP		4u
#define SHMNIC_FS_MAX		4u

/* A flow as seen from outside the cluster: peer -> global address. */
struct shmnic_flow_key {
	u8 family;		/* 4 or 6 */
	u8 proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	u16 sport;		/* network byte order, as on the wire */
	u16 dport;
	u16 pad;
	u8 saddr[16];		/* IPv4: the first 4 bytes, the rest 0 */
	u8 daddr[16];
};

/* One entry, one cache line; written only by the owner of its part. */
struct shmnic_flow {
	u32 seq;		/* odd while written */
	u8 state;		/* SHMNIC_FS_* */
	u8 pad0;
	u16 node;		/* node serving the flow */
	u32 last;		/* writer's heartbeat when last used */
	u32 hash;		/* shmnic_flow_hash(&key) */
	struct shmnic_flow_key key;
	u8 pad1[8];
};

SHMNIC_STATIC_ASSERT(sizeof(struct shmnic_flow_key) == 40);
SHMNIC_STATIC_ASSERT(sizeof(struct shmnic_flow) == SHMNIC_FLOW_BYTES);

/*
 * Control frames of the global network's pair rings (SHMNIC_DESC_CTRL):
 * a gateway asks every node about a flow it has no entry for, each node
 * answers what its stack has. Values follow SHMNIC_CTRL_BYE (layout.h).
 */
#define SHMNIC_CTRL_QUERY	3u
#define SHMNIC_CTRL_ANSWER	4u
#define SHMNIC_CTRL_HANDBACK	5u

/* struct shmnic_query.result */
#define SHMNIC_ANS_NONE		0u	/* nothing for this flow */
#define SHMNIC_ANS_LISTEN	1u	/* a socket listening on its port */
#define SHMNIC_ANS_CONN		2u	/* the connection itself */

struct shmnic_query {
	u16 type;		/* SHMNIC_CTRL_QUERY or SHMNIC_CTRL_ANSWER */
	u16 node;		/* sender */
	u32 epoch;		/* sender's epoch */
	u32 id;			/* chosen by the gateway, echoed */
	u32 result;		/* answers: SHMNIC_ANS_* */
	struct shmnic_flow_key key;
};

SHMNIC_STATIC_ASSERT(sizeof(struct shmnic_query) == 56);

/*
 * A node hands back to its gateway the first packet of a new flow it no
 * longer serves (its listener closed after it last published it): @len
 * bytes of the packet, from its IP header, follow; 0 when it was too long
 * to carry and was dropped (the gateway then only forgets the flow).
 */
struct shmnic_handback {
	u16 type;		/* SHMNIC_CTRL_HANDBACK */
	u16 node;		/* sender */
	u32 epoch;		/* sender's epoch */
	u16 len;		/* bytes of packet that follow */
	u16 pad0;
	u32 pad1;
	struct shmnic_flow_key key;
};

SHMNIC_STATIC_ASSERT(sizeof(struct shmnic_handback) == 56);

/* The flow entries written by node @id. */
static inline struct shmnic_flow *shmnic_flow_part(void *base,
						   const struct shmnic_layout *l,
						   u32 id)
{
	return (struct shmnic_flow *)((u8 *)base + l->flow_off) +
	       (u64)id * l->g.flow_slots;
}

static inline u32 shmnic_flow_mix(u32 h)
{
	h ^= h >> 16;
	h *= 0x7feb352du;
	h ^= h >> 15;
	h *= 0x846ca68bu;
	h ^= h >> 16;
	return h;
}

/* FNV-1a over the key, then a finaliser: the same on every node. */
static inline u32 shmnic_flow_hash(const struct shmnic_flow_key *k)
{
	const u8 *p = (const u8 *)k;
	u32 h = 0x811c9dc5u, i;

	for (i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 0x01000193u;
	return shmnic_flow_mix(h);
}

static inline int shmnic_flow_key_eq(const struct shmnic_flow_key *a,
				     const struct shmnic_flow_key *b)
{
	return !memcmp(a, b, sizeof(*a));
}

/* Heartbeats entry state @state may stay unused. */
static inline u32 shmnic_flow_timeout(u32 state)
{
	switch (state) {
	case SHMNIC_FS_SYN:
		return SHMNIC_FLOW_TO_SYN;
	case SHMNIC_FS_EST:
		return SHMNIC_FLOW_TO_EST;
	case SHMNIC_FS_CLOSING:
		return SHMNIC_FLOW_TO_CLOSING;
	case SHMNIC_FS_UDP:
		return SHMNIC_FLOW_TO_UDP;
	}
	return 0;
}

static inline int shmnic_flow_expired(u32 state, u32 last, u32 now)
{
	return state == SHMNIC_FS_FREE || state > SHMNIC_FS_MAX ||
	       now - last > shmnic_flow_timeout(state);
}

/*
 * Copy entry @e into @out if it is a consistent, used entry. Returns 0, or
 * -EAGAIN when it is free or being written.
 */
static inline int shmnic_flow_read(const struct shmnic_flow *e,
				   struct shmnic_flow *out)
{
	/* Acquire: the sequence word before the fields it vouches for. */
	u32 seq = smp_load_acquire(&e->seq);

	if (seq & 1)
		return -EAGAIN;
	memcpy(out, e, sizeof(*out));
	/* The copy before the second look at the sequence word. */
	smp_rmb();
	if (READ_ONCE(e->seq) != seq || out->state == SHMNIC_FS_FREE ||
	    out->state > SHMNIC_FS_MAX)
		return -EAGAIN;
	out->seq = seq;
	return 0;
}

/* Rewrite entry @e (in our own part) as @f, @f->seq ignored. */
static inline void shmnic_flow_write(struct shmnic_flow *e,
				     const struct shmnic_flow *f)
{
	u32 seq = READ_ONCE(e->seq);

	seq |= 1;
	WRITE_ONCE(e->seq, seq);
	/* Readers see the odd sequence before any field changes. */
	smp_wmb();
	e->state = f->state;
	e->node = f->node;
	WRITE_ONCE(e->last, f->last);
	e->hash = f->hash;
	memcpy(&e->key, &f->key, sizeof(e->key));
	/* Every field before the even sequence that vouches for them. */
	smp_wmb();
	WRITE_ONCE(e->seq, seq + 1);
}

static inline void shmnic_flow_clear(struct shmnic_flow *e)
{
	u32 seq = READ_ONCE(e->seq) | 1;

	WRITE_ONCE(e->seq, seq);
	/* As in shmnic_flow_write(). */
	smp_wmb();
	e->state = SHMNIC_FS_FREE;
	/* As in shmnic_flow_write(). */
	smp_wmb();
	WRITE_ONCE(e->seq, seq + 1);
}

/* The first entry of the set of hash @hash in a part of @slots entries. */
static inline u32 shmnic_flow_set(u32 hash, u32 slots)
{
	return (hash & (slots - 1)) & ~(SHMNIC_FLOW_WAYS - 1);
}

/*
 * Find @k in part @part of @slots entries. Returns the entry's index and
 * its snapshot in @out, or -ENOENT.
 */
static inline int shmnic_flow_find(const struct shmnic_flow *part, u32 slots,
				   const struct shmnic_flow_key *k, u32 hash,
				   struct shmnic_flow *out)
{
	u32 first = shmnic_flow_set(hash, slots), i;

	for (i = first; i < first + SHMNIC_FLOW_WAYS; i++) {
		if (READ_ONCE(part[i].hash) != hash)
			continue;
		if (shmnic_flow_read(&part[i], out))
			continue;
		if (out->hash == hash && shmnic_flow_key_eq(&out->key, k))
			return (int)i;
	}
	return -ENOENT;
}

/*
 * Where may a new flow of hash @hash go in our part at heartbeat @now? A
 * free or expired entry; else the stalest entry that is not established.
 * Returns its index (@evict set when a live entry is pushed out), or
 * -ENOSPC when the set holds only live established flows.
 */
static inline int shmnic_flow_place(const struct shmnic_flow *part, u32 slots,
				    u32 hash, u32 now, int *evict)
{
	u32 first = shmnic_flow_set(hash, slots), i;
	u32 best_age = 0;
	int best = -ENOSPC;

	*evict = 0;
	for (i = first; i < first + SHMNIC_FLOW_WAYS; i++) {
		u32 state = READ_ONCE(part[i].state);
		u32 last = READ_ONCE(part[i].last);

		if (shmnic_flow_expired(state, last, now))
			return (int)i;
		if (state != SHMNIC_FS_EST &&
		    (best < 0 || now - last >= best_age)) {
			best = (int)i;
			best_age = now - last;
		}
	}
	*evict = best >= 0;
	return best;
}

/*
 * Does a TCP segment with these flags open a connection? Only a plain SYN
 * does (as IPVS decides): a segment of no known connection with any other
 * flags (a late ACK or FIN, a SYN+ACK, a RST, a scan) starts no flow and is
 * never load-balanced.
 */
static inline bool shmnic_flow_tcp_opens(bool syn, bool ack, bool fin,
					 bool rst)
{
	return syn && !ack && !fin && !rst;
}

/* --- Maglev ------------------------------------------------------------- */

#define SHMNIC_MAGLEV_M		251u	/* a prime well above 4 * max nodes */

/*
 * Fill @table (SHMNIC_MAGLEV_M entries) for the @n candidate node ids in
 * @ids (distinct, any order; 1 <= n <= SHMNIC_MAX_NODES). @next is scratch
 * space of @n entries. The candidates take turns in the order of their ids,
 * whatever the order of @ids: when two want the same entry the first to ask
 * gets it, so the table depends only on the set. Outside the bounds on @n,
 * every entry is left 0xff.
 */
static inline void shmnic_maglev_fill(u8 *table, const u8 *ids, u32 n,
				      u32 *next)
{
	u8 sorted[SHMNIC_MAX_NODES];
	u32 filled = 0, i, j;

	for (j = 0; j < SHMNIC_MAGLEV_M; j++)
		table[j] = 0xff;
	if (!n || n > SHMNIC_MAX_NODES)
		return;
	for (i = 0; i < n; i++) {
		for (j = i; j > 0 && sorted[j - 1] > ids[i]; j--)
			sorted[j] = sorted[j - 1];
		sorted[j] = ids[i];
		next[i] = 0;
	}
	while (filled < SHMNIC_MAGLEV_M) {
		for (i = 0; i < n && filled < SHMNIC_MAGLEV_M; i++) {
			u32 off = shmnic_flow_mix(sorted[i] * 2654435761u + 1) %
				  SHMNIC_MAGLEV_M;
			u32 skip = shmnic_flow_mix(sorted[i] * 40503u + 7) %
				   (SHMNIC_MAGLEV_M - 1) + 1;
			u32 c;

			do {
				c = (off + next[i] * skip) % SHMNIC_MAGLEV_M;
				next[i]++;
			} while (table[c] != 0xff);
			table[c] = sorted[i];
			filled++;
		}
	}
}

/* The node of @ids that Maglev gives the flow of hash @hash. */
static inline u32 shmnic_maglev_pick(const u8 *ids, u32 n, u32 hash)
{
	u8 table[SHMNIC_MAGLEV_M];
	u32 next[SHMNIC_MAX_NODES];

	shmnic_maglev_fill(table, ids, n, next);
	return table[hash % SHMNIC_MAGLEV_M];
}

#endif /* _SHMNIC_FLOW_H */
