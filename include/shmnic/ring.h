/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shmnic ring algorithms: the pair ring (one sender, one receiver) and the
 * broadcast "ticker tape" ring (writers serialised by a lock word, readers
 * never block writers).
 *
 * A struct shmnic_ring is a node's private view of one ring: pointers into the
 * region plus the index this node owns (producer index for a sender, consumer
 * index or read cursor for a receiver). The private index is the truth; the
 * copy in shared memory is only ever written, never read back, by its owner.
 *
 * Everything read from the region is hostile input: each shared word is read
 * once into a local, then bounded before use. No function here can be made
 * to access memory outside the ring by the contents of the region.
 */
#ifndef _SHMNIC_RING_H
#define _SHMNIC_RING_H

#include "layout.h"

struct shmnic_ring {
	struct shmnic_ring_tx *tx;	/* pair rings */
	struct shmnic_ring_rx *rx;	/* pair rings */
	struct shmnic_bcast_hdr *bc;	/* broadcast rings */
	struct shmnic_desc *desc;
	u8 *bufs;
	u32 slots;			/* power of two */
	u32 buf_size;
	u32 idx;			/* this node's index (see above) */
	u32 kick;			/* sender: kick_ack; receiver: kick_req */
	u32 space;			/* sender: space_req; receiver: space_ack */
};

/* A frame found by a receiver, from its (validated) first descriptor. */
struct shmnic_frame {
	u32 total_len;
	u16 nslots;
	u16 flags;		/* SHMNIC_DESC_CTRL or 0 */
	u16 src;		/* broadcast rings: sending node, < max_nodes */
	struct shmnic_meta meta;
};

static inline void shmnic_ring_init_pair(struct shmnic_ring *r, void *ring,
					 const struct shmnic_layout *l)
{
	struct shmnic_ring_hdr *h = (struct shmnic_ring_hdr *)ring;

	memset(r, 0, sizeof(*r));
	r->tx = &h->tx;
	r->rx = &h->rx;
	r->desc = (struct shmnic_desc *)((u8 *)ring + l->ring_desc_off);
	r->bufs = (u8 *)ring + l->ring_buf_off;
	r->slots = l->g.ring_slots;
	r->buf_size = l->g.buf_size;
}

static inline void shmnic_ring_init_bcast(struct shmnic_ring *r, void *ring,
					  const struct shmnic_layout *l)
{
	memset(r, 0, sizeof(*r));
	r->bc = (struct shmnic_bcast_hdr *)ring;
	r->desc = (struct shmnic_desc *)((u8 *)ring + l->bcast_desc_off);
	r->bufs = (u8 *)ring + l->bcast_buf_off;
	r->slots = l->g.bcast_slots;
	r->buf_size = l->g.buf_size;
}

static inline struct shmnic_desc *shmnic_slot_desc(const struct shmnic_ring *r,
						   u32 i)
{
	return &r->desc[i & (r->slots - 1)];
}

static inline u8 *shmnic_slot_buf(const struct shmnic_ring *r, u32 i)
{
	return r->bufs + (u64)(i & (r->slots - 1)) * r->buf_size;
}

/*
 * Frames of this many bytes and more are written into the ring with
 * non-temporal stores (shmnic_ring_write()). The sender never reads them
 * back, and a cached store would first have to take every line away from
 * the receiver's cache, where the previous lap of the ring left it: that
 * round trip per line was what held 9 KiB and 64 KiB frames to a quarter of
 * memcpy bandwidth (see Documentation/performance.rst). Smaller frames stay
 * cached: the receiver reads them sooner than memory could deliver them.
 */
#define SHMNIC_NT_MIN		4096u
/* Bytes of the next slot a receiver prefetches while copying one. */
#define SHMNIC_PREFETCH_MAX	2048u

/* Write @len bytes of a frame of @frame_len bytes into a slot buffer. */
static inline void shmnic_ring_write(void *dst, const void *src, u32 len,
				     u32 frame_len)
{
	if (frame_len >= SHMNIC_NT_MIN)
		shmnic_memcpy_nt(dst, src, len);
	else
		memcpy(dst, src, len);
}

/* Start fetching the buffer of slot @i (its first SHMNIC_PREFETCH_MAX bytes). */
static inline void shmnic_prefetch_slot(const struct shmnic_ring *r, u32 i)
{
	const u8 *b = shmnic_slot_buf(r, i);
	u32 n = r->buf_size < SHMNIC_PREFETCH_MAX ? r->buf_size :
						    SHMNIC_PREFETCH_MAX;
	u32 off;

	for (off = 0; off < n; off += SHMNIC_CACHELINE)
		shmnic_prefetch(b + off);
}

/*
 * Fill the descriptors of a frame of @len bytes written at slots
 * @first .. @first + nslots - 1, each slot full but the last.
 */
static inline u32 shmnic_fill_descs(struct shmnic_ring *r, u32 first, u32 len,
				    u16 flags, u16 src,
				    const struct shmnic_meta *meta)
{
	u32 n = shmnic_frame_slots(len, r->buf_size);
	u32 i, left = len;

	/* Non-temporal data stores before the descriptors and the index. */
	if (len >= SHMNIC_NT_MIN)
		shmnic_nt_fence();
	for (i = 0; i < n; i++) {
		struct shmnic_desc *d = shmnic_slot_desc(r, first + i);
		u32 chunk = left < r->buf_size ? left : r->buf_size;

		d->len = chunk;
		d->off = 0;
		d->flags = (flags & SHMNIC_DESC_CTRL) |
			   (i + 1 < n ? SHMNIC_DESC_MORE : 0);
		d->src = src;
		if (i == 0) {
			d->total_len = len;
			d->nslots = (u16)n;
			if (meta)
				d->meta = *meta;
			else
				memset(&d->meta, 0, sizeof(d->meta));
		} else {
			d->total_len = 0;
			d->nslots = 0;
		}
		left -= chunk;
	}
	return n;
}

/*
 * Validate a first descriptor copied out of the region. @avail bounds the
 * slots the frame may span.
 */
static inline int shmnic_check_first(const struct shmnic_desc *d, u32 avail,
				     u32 buf_size, struct shmnic_frame *f)
{
	u32 n = d->nslots;

	if (d->total_len == 0 || d->total_len > SHMNIC_MAX_FRAME ||
	    d->flags & ~SHMNIC_DESC_FLAGS)
		return -EBADMSG;
	if (n < shmnic_frame_slots(d->total_len, buf_size) ||
	    n > SHMNIC_MAX_CHAIN || n > avail)
		return -EBADMSG;
	if (!(d->flags & SHMNIC_DESC_MORE) != !(n - 1))
		return -EBADMSG;
	f->total_len = d->total_len;
	f->nslots = (u16)n;
	f->flags = d->flags & SHMNIC_DESC_CTRL;
	f->src = d->src;
	f->meta = d->meta;
	return 0;
}

/*
 * Slot @i of frame @f, which starts at slot @first, after @copied bytes of
 * the frame: checks its descriptor (read once) against the slot buffer and
 * what is left of the frame, and points @data and @len at its bytes.
 * Returns 0 or -EBADMSG. Walk i = 0 .. f->nslots - 1, then check that the
 * bytes add up to f->total_len.
 */
static inline int shmnic_frame_chunk(const struct shmnic_ring *r, u32 first,
				     const struct shmnic_frame *f, u32 i,
				     u32 copied, const u8 **data, u32 *len)
{
	const struct shmnic_desc *d = shmnic_slot_desc(r, first + i);
	u32 l = READ_ONCE(d->len);
	u32 off = READ_ONCE(d->off);
	u32 more = READ_ONCE(d->flags) & SHMNIC_DESC_MORE;

	if (off > r->buf_size || l > r->buf_size - off ||
	    l > f->total_len - copied)
		return -EBADMSG;
	if (!more != (i + 1 == f->nslots))
		return -EBADMSG;
	/* The next slot arrives while this one is copied. */
	if (more)
		shmnic_prefetch_slot(r, first + i + 1);
	*data = shmnic_slot_buf(r, first + i) + off;
	*len = l;
	return 0;
}

/*
 * Copy the frame @f starting at slot @first into @dst (room for
 * f->total_len bytes). Returns 0 or -EBADMSG.
 */
static inline int shmnic_copy_frame(const struct shmnic_ring *r, u32 first,
				    const struct shmnic_frame *f, u8 *dst)
{
	u32 copied = 0, i, len;
	const u8 *data;

	for (i = 0; i < f->nslots; i++) {
		if (shmnic_frame_chunk(r, first, f, i, copied, &data, &len))
			return -EBADMSG;
		memcpy(dst + copied, data, len);
		copied += len;
	}
	return copied == f->total_len ? 0 : -EBADMSG;
}

/* --- Pair rings: sender side ------------------------------------------- */

/*
 * Free slots for the sender, or -EPIPE when the receiver's index is
 * impossible (corrupt region or a receiver that went away and came back).
 */
static inline int shmnic_tx_room(const struct shmnic_ring *r)
{
	/* Acquire: the receiver is done with the slots before cons. */
	u32 cons = smp_load_acquire(&r->rx->cons);
	u32 used = r->idx - cons;

	if (used > r->slots)
		return -EPIPE;
	return (int)(r->slots - used);
}

/* Buffer of the @i-th slot of the frame being written. */
static inline u8 *shmnic_tx_buf(const struct shmnic_ring *r, u32 i)
{
	return shmnic_slot_buf(r, r->idx + i);
}

/*
 * Publish a frame of @len bytes whose data the caller wrote into
 * shmnic_tx_buf(r, 0 .. n - 1) (with memcpy() or shmnic_ring_write()),
 * after checking shmnic_tx_room().
 */
static inline void shmnic_tx_publish(struct shmnic_ring *r, u32 len, u16 flags,
				     const struct shmnic_meta *meta)
{
	r->idx += shmnic_fill_descs(r, r->idx, len, flags, 0, meta);
	/* Release: descriptors and data before the producer index. */
	smp_store_release(&r->tx->prod, r->idx);
}

/* Write and publish a frame held in one buffer. Returns 0 or -ENOSPC. */
static inline int shmnic_tx_put(struct shmnic_ring *r, const void *data,
				u32 len, u16 flags,
				const struct shmnic_meta *meta)
{
	u32 n = shmnic_frame_slots(len, r->buf_size), i, off = 0;
	int room = shmnic_tx_room(r);

	if (!len || len > SHMNIC_MAX_FRAME)
		return -EINVAL;
	if (room < 0)
		return room;
	if ((u32)room < n)
		return -ENOSPC;
	for (i = 0; i < n; i++) {
		u32 chunk = len - off < r->buf_size ? len - off : r->buf_size;

		shmnic_ring_write(shmnic_tx_buf(r, i), (const u8 *)data + off,
				  chunk, len);
		off += chunk;
	}
	shmnic_tx_publish(r, len, flags, meta);
	return 0;
}

/*
 * A request word written by one side, answered by the other: true once per
 * new value of *@req. @seen is the answering side's private copy of its
 * last answer, @ack the shared copy. A request is never answered twice,
 * and a requester does not repeat a request still unanswered.
 */
static inline int shmnic_answer_once(const u32 *req, u32 *seen, u32 *ack)
{
	u32 v = READ_ONCE(*req);

	if (v == *seen)
		return 0;
	*seen = v;
	WRITE_ONCE(*ack, v);
	return 1;
}

/*
 * Does the receiver want a doorbell? Call after publishing, with a full
 * barrier between the publish and this read.
 */
static inline int shmnic_tx_kick_needed(struct shmnic_ring *r)
{
	return shmnic_answer_once(&r->rx->kick_req, &r->kick,
				  &r->tx->kick_ack);
}

/*
 * (Re)connect the sending side to a receiver that set the ring up with
 * epoch @rx_epoch. Keeps the producer index when it is consistent with the
 * receiver's, so a receiver still draining is not confused.
 */
static inline void shmnic_tx_connect(struct shmnic_ring *r, u32 tx_epoch,
				     u32 rx_epoch, u32 old_prod)
{
	u32 cons = READ_ONCE(r->rx->cons);

	WRITE_ONCE(r->tx->rx_epoch, 0);
	/* Hide the ring from the receiver while its indices change. */
	smp_wmb();
	r->idx = (u32)(old_prod - cons) <= r->slots ? old_prod : cons;
	/* Treat the receiver's current request as unanswered: kick once. */
	r->kick = READ_ONCE(r->rx->kick_req) - 1;
	/* Start from the receiver's last answer: no request pending, and the
	 * next one differs from what it answered.
	 */
	r->space = READ_ONCE(r->rx->space_ack);
	WRITE_ONCE(r->tx->prod, r->idx);
	WRITE_ONCE(r->tx->kick_ack, r->kick);
	WRITE_ONCE(r->tx->space_req, r->space);
	WRITE_ONCE(r->tx->tx_epoch, tx_epoch);
	/* Indices before the epoch that lets the receiver read the ring. */
	smp_wmb();
	WRITE_ONCE(r->tx->rx_epoch, rx_epoch);
}

/*
 * Rewrite the sender's line from its private state, so that a scribbled
 * word cannot silence the ring for good. Called now and then with the
 * sender's lock held, while connected to receiver epoch @rx_epoch.
 */
static inline void shmnic_tx_refresh(struct shmnic_ring *r, u32 tx_epoch,
				     u32 rx_epoch)
{
	WRITE_ONCE(r->tx->kick_ack, r->kick);
	WRITE_ONCE(r->tx->space_req, r->space);
	WRITE_ONCE(r->tx->tx_epoch, tx_epoch);
	/* Release: pairs with the acquire in shmnic_rx_avail(). */
	smp_store_release(&r->tx->prod, r->idx);
	WRITE_ONCE(r->tx->rx_epoch, rx_epoch);
}

/* --- Pair rings: receiver side ----------------------------------------- */

/* Set up the receiving side with this node's @epoch: the ring is empty. */
static inline void shmnic_rx_setup(struct shmnic_ring *r, u32 epoch)
{
	WRITE_ONCE(r->rx->rx_epoch, 0);
	/* Hide the ring from the sender while its indices change. */
	smp_wmb();
	r->idx = READ_ONCE(r->tx->prod);
	r->kick = 0;
	r->space = READ_ONCE(r->tx->space_req);
	WRITE_ONCE(r->rx->cons, r->idx);
	WRITE_ONCE(r->rx->kick_req, 0);
	WRITE_ONCE(r->rx->space_ack, r->space);
	/* Indices before the epoch that lets the sender connect. */
	smp_wmb();
	WRITE_ONCE(r->rx->rx_epoch, epoch);
}

/* Slots published and not yet consumed, or -EPROTO if impossible. */
static inline int shmnic_rx_avail(const struct shmnic_ring *r)
{
	/* Acquire: pairs with the release in shmnic_tx_publish(). */
	u32 avail = smp_load_acquire(&r->tx->prod) - r->idx;

	if (avail > r->slots)
		return -EPROTO;
	return (int)avail;
}

/*
 * Look at the next frame. Returns 0 with @f filled, -EAGAIN when the ring is
 * empty, -EPROTO when its indices are corrupt, -EBADMSG when the frame's
 * first descriptor is invalid (the caller resets the ring).
 */
static inline int shmnic_rx_peek(const struct shmnic_ring *r,
				 struct shmnic_frame *f)
{
	struct shmnic_desc d;
	int avail = shmnic_rx_avail(r);

	if (avail <= 0)
		return avail ? avail : -EAGAIN;
	memcpy(&d, shmnic_slot_desc(r, r->idx), sizeof(d));
	return shmnic_check_first(&d, (u32)avail, r->buf_size, f);
}

static inline int shmnic_rx_copy(const struct shmnic_ring *r,
				 const struct shmnic_frame *f, u8 *dst)
{
	return shmnic_copy_frame(r, r->idx, f, dst);
}

/* Give the slots of frame @f back to the sender. */
static inline void shmnic_rx_consume(struct shmnic_ring *r,
				     const struct shmnic_frame *f)
{
	r->idx += f->nslots;
	/* Release: done with the slots before giving them back. */
	smp_store_release(&r->rx->cons, r->idx);
}

/* The receiver's twin of shmnic_tx_refresh(), in the receiving context. */
static inline void shmnic_rx_refresh(struct shmnic_ring *r, u32 epoch)
{
	WRITE_ONCE(r->rx->kick_req, r->kick);
	WRITE_ONCE(r->rx->space_ack, r->space);
	/* Release: pairs with the acquire in shmnic_tx_room(). */
	smp_store_release(&r->rx->cons, r->idx);
	WRITE_ONCE(r->rx->rx_epoch, epoch);
}

/* Drop everything pending: used after the ring was found corrupt. */
static inline void shmnic_rx_reset(struct shmnic_ring *r)
{
	r->idx = READ_ONCE(r->tx->prod);
	/* Release: pairs with the acquire in shmnic_tx_room(). */
	smp_store_release(&r->rx->cons, r->idx);
}

/*
 * Ask the sender for a doorbell on the next frame, unless that request is
 * already outstanding. The caller then re-checks the ring (full barrier
 * first) to close the race with a sender that published meanwhile.
 */
static inline void shmnic_rx_arm(struct shmnic_ring *r)
{
	if (READ_ONCE(r->tx->kick_ack) != r->kick)
		return;
	r->kick++;
	WRITE_ONCE(r->rx->kick_req, r->kick);
}

/*
 * Is the sender waiting for room? The caller rings the sender's doorbell
 * when this returns true.
 */
static inline int shmnic_rx_space_wanted(struct shmnic_ring *r)
{
	return shmnic_answer_once(&r->tx->space_req, &r->space,
				  &r->rx->space_ack);
}

/* Sender: ask for a doorbell when the receiver frees slots. */
static inline void shmnic_tx_want_space(struct shmnic_ring *r)
{
	r->space++;
	WRITE_ONCE(r->tx->space_req, r->space);
}

/* --- Broadcast ring ------------------------------------------------------ */

static inline int shmnic_bc_trylock(struct shmnic_ring *r, u32 me)
{
	return shmnic_cmpxchg32(&r->bc->lock, 0, me + 1) == 0;
}

static inline void shmnic_bc_unlock(struct shmnic_ring *r, u32 me)
{
	shmnic_cmpxchg32(&r->bc->lock, me + 1, 0);
}

/* Break a lock still held by @holder_word (its raw value). */
static inline int shmnic_bc_break(struct shmnic_ring *r, u32 holder_word)
{
	return holder_word &&
	       shmnic_cmpxchg32(&r->bc->lock, holder_word, 0) == holder_word;
}

/*
 * Should a watcher break lock word @lock (0: free, else holder id + 1) of a
 * broadcast or multicast ring? At once when the holder is no node of the
 * @max_nodes, or another node than @me that is not alive (@holder_alive,
 * from the watcher's view): a lock held by the dead is never released, and
 * a scribbler bumping the write index must not keep it so. Otherwise only
 * when the lock stayed held with no progress for the lock timeout
 * (@stuck).
 */
static inline int shmnic_bc_lock_breakable(u32 lock, u32 max_nodes, u32 me,
					   int holder_alive, int stuck)
{
	if (!lock)
		return 0;
	if (lock > max_nodes)
		return 1;
	if (lock - 1 != me && !holder_alive)
		return 1;
	return stuck;
}

/*
 * Writing a broadcast frame, with the lock held: shmnic_bc_begin() returns
 * the first slot and invalidates the slots (seq 0) so that a lapped reader
 * copying one of them notices; the caller fills shmnic_slot_buf(r, w + i)
 * for each of the shmnic_frame_slots(len) slots; shmnic_bc_publish() writes
 * the descriptors, the sequence numbers and the write index.
 */
static inline u32 shmnic_bc_begin(struct shmnic_ring *r, u32 len)
{
	u32 w = READ_ONCE(r->bc->widx);
	u32 n = shmnic_frame_slots(len, r->buf_size), i;

	for (i = 0; i < n; i++)
		WRITE_ONCE(shmnic_slot_desc(r, w + i)->seq, 0);
	/* seq 0 visible before any slot is rewritten. */
	smp_wmb();
	return w;
}

static inline void shmnic_bc_publish(struct shmnic_ring *r, u32 w, u32 me,
				     u32 len, u16 flags,
				     const struct shmnic_meta *meta)
{
	u32 n = shmnic_fill_descs(r, w, len, flags, (u16)me, meta), i;

	/* Data and descriptors before the sequence numbers. */
	smp_wmb();
	for (i = 0; i < n; i++)
		WRITE_ONCE(shmnic_slot_desc(r, w + i)->seq, w + i + 1);
	/* Release: the slots before the write index. */
	smp_store_release(&r->bc->widx, w + n);
}

/* Write a frame held in one buffer; the caller holds the lock. */
static inline void shmnic_bc_write(struct shmnic_ring *r, u32 me,
				   const void *data, u32 len, u16 flags,
				   const struct shmnic_meta *meta)
{
	u32 w = shmnic_bc_begin(r, len);
	u32 n = shmnic_frame_slots(len, r->buf_size), i, off = 0;

	for (i = 0; i < n; i++) {
		u32 chunk = len - off < r->buf_size ? len - off : r->buf_size;

		shmnic_ring_write(shmnic_slot_buf(r, w + i),
				  (const u8 *)data + off, chunk, len);
		off += chunk;
	}
	shmnic_bc_publish(r, w, me, len, flags, meta);
}

/* Start reading at the current write index (nothing old is delivered). */
static inline void shmnic_bc_reader_init(struct shmnic_ring *r)
{
	/* Acquire: pairs with the release in shmnic_bc_publish(). */
	r->idx = smp_load_acquire(&r->bc->widx);
}

/*
 * Look at the next broadcast frame. Returns 0 with @f filled; -EAGAIN when
 * there is nothing new; -ESTALE when the reader was lapped or the slot is
 * being rewritten: @lost is increased by the slots skipped and the cursor
 * moved to the write index; -EBADMSG for an invalid descriptor (the cursor
 * is moved to the write index too).
 */
static inline int shmnic_bc_peek(struct shmnic_ring *r, u32 max_nodes,
				 struct shmnic_frame *f, u64 *lost)
{
	/* Acquire: pairs with the release in shmnic_bc_publish(). */
	u32 w = smp_load_acquire(&r->bc->widx);
	u32 avail = w - r->idx;
	struct shmnic_desc d;
	u32 seq;

	if (!avail)
		return -EAGAIN;
	if (avail > r->slots)
		goto stale;
	/* Acquire: seq before the descriptor and data it covers. */
	seq = smp_load_acquire(&shmnic_slot_desc(r, r->idx)->seq);
	if (seq != r->idx + 1)
		goto stale;
	memcpy(&d, shmnic_slot_desc(r, r->idx), sizeof(d));
	/* The copy before the second look: a writer may have lapped us. */
	smp_rmb();
	if (READ_ONCE(shmnic_slot_desc(r, r->idx)->seq) != seq)
		goto stale;
	if (shmnic_check_first(&d, avail, r->buf_size, f) ||
	    d.src >= max_nodes) {
		r->idx = w;
		return -EBADMSG;
	}
	return 0;
stale:
	/*
	 * At most a ring's worth per resynchronisation: a scribbled or
	 * backwards write index must not make the count meaningless.
	 */
	*lost += avail < r->slots ? avail : r->slots;
	r->idx = w;
	return -ESTALE;
}

/*
 * shmnic_bc_peek() for a poll loop with @budget results left: every result
 * but -EAGAIN costs one, errors included, and -EAGAIN is returned once the
 * budget is spent. A writer that moves the write index before every look
 * never lets the ring look empty (each look is -ESTALE or -EBADMSG), so a
 * loop that ended only on -EAGAIN or on frames taken would never end; one
 * that runs until this returns -EAGAIN takes at most @budget turns.
 */
static inline int shmnic_bc_next(struct shmnic_ring *r, u32 max_nodes,
				 struct shmnic_frame *f, u64 *lost, int *budget)
{
	int err;

	if (*budget <= 0)
		return -EAGAIN;
	err = shmnic_bc_peek(r, max_nodes, f, lost);
	if (err != -EAGAIN)
		(*budget)--;
	return err;
}

/*
 * After copying frame @f (with shmnic_frame_chunk() from r->idx, or
 * shmnic_bc_copy()): check that no writer overwrote its slots meanwhile and
 * advance the cursor. Returns 0, or -ESTALE when the copy is garbage (the
 * frame is counted in @lost and the cursor moved to the write index).
 */
static inline int shmnic_bc_done(struct shmnic_ring *r,
				 const struct shmnic_frame *f, u64 *lost)
{
	u32 i;

	/* The copy before the second look at the sequence numbers. */
	smp_rmb();
	for (i = 0; i < f->nslots; i++) {
		if (READ_ONCE(shmnic_slot_desc(r, r->idx + i)->seq) !=
		    r->idx + i + 1) {
			*lost += f->nslots;
			/* Acquire: pairs with the release in shmnic_bc_publish(). */
			r->idx = smp_load_acquire(&r->bc->widx);
			return -ESTALE;
		}
	}
	r->idx += f->nslots;
	return 0;
}

/* Skip frame @f (our own, or one not wanted). */
static inline void shmnic_bc_skip(struct shmnic_ring *r,
				  const struct shmnic_frame *f)
{
	r->idx += f->nslots;
}

/*
 * Copy frame @f into @dst and advance the cursor. Returns 0, -ESTALE (see
 * shmnic_bc_done()) or -EBADMSG.
 */
static inline int shmnic_bc_copy(struct shmnic_ring *r,
				 const struct shmnic_frame *f, u8 *dst,
				 u64 *lost)
{
	int err = shmnic_copy_frame(r, r->idx, f, dst);
	int stale = shmnic_bc_done(r, f, lost);

	return stale ? stale : err;
}

/* --- Multicast ring labels ---------------------------------------------- */

/*
 * A multicast ring is a broadcast ring with a label: the group it carries and
 * the node that claimed it. The label is rewritten only with the ring's lock
 * held, seqcount-style: gen is odd while the words change.
 */
struct shmnic_label {
	u32 gen;
	u32 owner;		/* node id, valid when @claimed */
	u32 start;		/* widx when the group was given the ring */
	u8 group[6];
	u8 claimed;		/* the ring carries @group */
};

/*
 * Read the label of multicast ring @r. Returns 0, or -EBUSY while it is being
 * rewritten. An owner that is not a node id (a scribbled label) reads as a
 * free ring.
 */
static inline int shmnic_mc_label_read(const struct shmnic_ring *r,
				       u32 max_nodes, struct shmnic_label *lab)
{
	/* Acquire: the gen before the words it covers. */
	u32 gen = smp_load_acquire(&r->bc->gen);
	u32 owner;

	if (gen & 1)
		return -EBUSY;
	owner = READ_ONCE(r->bc->owner);
	lab->start = READ_ONCE(r->bc->start);
	memcpy(lab->group, r->bc->group, sizeof(lab->group));
	/* The words before the second look at gen. */
	smp_rmb();
	if (READ_ONCE(r->bc->gen) != gen)
		return -EBUSY;
	lab->gen = gen;
	lab->claimed = owner && owner - 1 < max_nodes;
	lab->owner = lab->claimed ? owner - 1 : 0;
	return 0;
}

/*
 * Give ring @r (lock held by @me) to @group with owner @owner, or free it
 * when @group is NULL. A new group starts at the current write index; the
 * same group keeps its start (a takeover). Returns the new generation.
 */
static inline u32 shmnic_mc_label_write(struct shmnic_ring *r, u32 owner,
					const u8 *group)
{
	u32 gen = READ_ONCE(r->bc->gen) | 1;

	WRITE_ONCE(r->bc->gen, gen);
	/* Odd gen visible before the words change. */
	smp_wmb();
	if (!group) {
		WRITE_ONCE(r->bc->owner, 0);
	} else {
		if (memcmp(r->bc->group, group, 6) ||
		    !READ_ONCE(r->bc->owner)) {
			memcpy(r->bc->group, group, 6);
			WRITE_ONCE(r->bc->start, READ_ONCE(r->bc->widx));
		}
		WRITE_ONCE(r->bc->owner, owner + 1);
	}
	/* Release: the words before the even gen. */
	smp_store_release(&r->bc->gen, gen + 1);
	return gen + 1;
}

/*
 * Where a reader that just found label @lab starts: at its start when the
 * group was given the ring since the reader last looked (@fresh), so that
 * no frame sent to a group it had joined is missed, else at the write index.
 */
static inline void shmnic_mc_reader_init(struct shmnic_ring *r,
					 const struct shmnic_label *lab,
					 int fresh)
{
	shmnic_bc_reader_init(r);
	if (fresh && r->idx - lab->start <= r->slots)
		r->idx = lab->start;
}

#endif /* _SHMNIC_RING_H */
