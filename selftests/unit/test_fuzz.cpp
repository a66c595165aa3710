// SPDX-License-Identifier: GPL-2.0
/*
 * Randomised hostile region contents: descriptors and indices filled with
 * random (or nearly valid) bytes, over and over. The receive functions must
 * return a documented error or a frame within bounds, never touch memory
 * outside the ring, never write to the ring, and never write past a
 * destination of exactly total_len bytes.
 *
 * Built twice: plainly (guard zones and canaries catch stray writes) and,
 * where the compiler supports it, with -fsanitize=address,undefined
 * (SHMNIC_SANITIZED=1), where the ring sits in a heap block of exactly its
 * used size and every destination in one of exactly total_len bytes, so
 * any out-of-bounds read or write is reported.
 */
#include "test_util.h"

#include <shmnic/flow.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cinttypes>

#ifndef SHMNIC_SANITIZED
#define SHMNIC_SANITIZED 0
#endif

using namespace shmnic_test;

namespace {

u64 iterations()
{
	const char *s = std::getenv("SHMNIC_FUZZ_ITERATIONS");
	return s && *s ? std::strtoull(s, nullptr, 0) : 100000;
}

constexpr size_t GUARD = SHMNIC_PAGE;
/* Compare the ring's header and descriptors before and after each receive
 * (the sanitized build checks bounds instead, and is slower per byte). */
constexpr bool CHECK_NO_WRITES = !SHMNIC_SANITIZED;
constexpr u8 GUARD_BYTE = 0xcd;

/*
 * One ring (pair or broadcast) in a block of exactly @used bytes (sanitized
 * build) or between two guard zones (plain build).
 */
class RingMemory {
public:
	explicit RingMemory(size_t used) : used_(used)
	{
		if (SHMNIC_SANITIZED) {
			mem_ = alloc_exact(used);
			ring_ = mem_.get();
		} else {
			mem_ = alloc_aligned(used + 2 * GUARD, SHMNIC_PAGE);
			std::memset(mem_.get(), GUARD_BYTE, GUARD);
			std::memset(mem_.get() + GUARD + used, GUARD_BYTE, GUARD);
			ring_ = mem_.get() + GUARD;
		}
	}
	u8 *ring() { return ring_; }
	bool guards_intact() const
	{
		if (SHMNIC_SANITIZED)
			return true;
		for (size_t i = 0; i < GUARD; i++)
			if (mem_.get()[i] != GUARD_BYTE ||
			    mem_.get()[GUARD + used_ + i] != GUARD_BYTE)
				return false;
		return true;
	}

private:
	size_t used_;
	Buffer mem_;
	u8 *ring_;
};

/* A destination of exactly @len bytes (plus a canary in the plain build). */
class Dest {
public:
	explicit Dest(u32 len) : len_(len)
	{
		mem_ = alloc_exact(len + (SHMNIC_SANITIZED ? 0 : 64));
		if (!SHMNIC_SANITIZED)
			std::memset(mem_.get() + len, GUARD_BYTE, 64);
	}
	u8 *get() { return mem_.get(); }
	bool canary_intact() const
	{
		if (SHMNIC_SANITIZED)
			return true;
		for (u32 i = 0; i < 64; i++)
			if (mem_.get()[len_ + i] != GUARD_BYTE)
				return false;
		return true;
	}

private:
	u32 len_;
	Buffer mem_;
};

void fill_random(XorShift &x, void *p, size_t n)
{
	u8 *b = static_cast<u8 *>(p);
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		u64 v = x.next();
		std::memcpy(b + i, &v, 8);
	}
	if (i < n) {
		u64 v = x.next();
		std::memcpy(b + i, &v, n - i);
	}
}

/* Values near the edges that matter for field checks. */
u32 interesting(XorShift &x, u32 buf_size)
{
	const u32 v[] = {0,
			 1,
			 buf_size - 1,
			 buf_size,
			 buf_size + 1,
			 2 * buf_size,
			 SHMNIC_MAX_FRAME,
			 SHMNIC_MAX_FRAME + 1,
			 0xffff,
			 0x10000,
			 0x7fffffff,
			 0x80000000u,
			 0xffffffffu,
			 x.below(buf_size + 2),
			 x.below(3 * buf_size),
			 x.below(SHMNIC_MAX_FRAME + 2)};
	return v[x.below(sizeof(v) / sizeof(v[0]))];
}

/* Nearly valid descriptors from @from for @n slots: random fields drawn
 * from interesting values, the rest of a real frame's shape. */
void structured_descs(XorShift &x, shmnic_ring *r, u32 from, u32 n, bool bcast)
{
	for (u32 i = 0; i < n; i++) {
		shmnic_desc *d = shmnic_slot_desc(r, from + i);
		u32 k = x.below(8);
		d->len = k < 4 ? x.below(r->buf_size + 1) : interesting(x, r->buf_size);
		d->off = (u16)(x.below(4) ? 0 : interesting(x, r->buf_size));
		u32 fl = x.below(8);
		d->flags = (u16)(fl < 6 ? (i + 1 < n ? SHMNIC_DESC_MORE : 0) |
						 (fl == 5 ? SHMNIC_DESC_CTRL : 0)
					: x.next());
		d->total_len = x.below(2) ? x.below(n * r->buf_size + 1)
					  : interesting(x, r->buf_size);
		d->nslots = (u16)(x.below(4) ? n : interesting(x, r->buf_size));
		d->src = (u16)(x.below(4) ? x.below(4) : x.next());
		if (bcast)
			d->seq = x.below(4) ? from + i + 1 : (u32)x.next();
	}
}

struct Geo {
	shmnic_geometry g;
	const char *name;
};

const Geo GEOMETRIES[] = {
	{geometry(2, 256, 2048, 128, 1), "256x2048"},
	{geometry(2, 16, 65536, 16, 1), "16x65536"},
	{geometry(2, 64, 4096, 64, 1), "64x4096"},
	{geometry(2, 1024, 256, 1024, 1), "1024x256"},
};

} // namespace

TEST(RingFuzz, PairRingReceiverStaysInBoundsOnRandomContents)
{
	const u64 iters = iterations();
	u64 frames_ok = 0, copy_bad = 0, peek_bad = 0, proto = 0, empty = 0;
	for (const Geo &geo : GEOMETRIES) {
		SCOPED_TRACE(geo.name);
		shmnic_layout l;
		ASSERT_EQ(shmnic_layout_compute(&geo.g, ~0ull, &l), 0);
		const size_t used = l.ring_buf_off + (size_t)geo.g.ring_slots * geo.g.buf_size;
		ASSERT_LE(used, l.ring_bytes);
		RingMemory mem(used);
		shmnic_ring rx, tx;
		shmnic_ring_init_pair(&rx, mem.ring(), &l);
		shmnic_ring_init_pair(&tx, mem.ring(), &l);
		const size_t meta_bytes = l.ring_buf_off; /* header + descriptors */
		std::vector<u8> before(meta_bytes), scratch(SHMNIC_MAX_FRAME);
		XorShift x(geo.g.ring_slots);
		const u64 n_iter = iters / (sizeof(GEOMETRIES) / sizeof(GEOMETRIES[0]));

		for (u64 it = 0; it < n_iter; it++) {
			const u32 mode = x.below(4);
			if (mode == 0) {
				/* everything random: header, descriptors, cursor */
				fill_random(x, mem.ring(), meta_bytes);
				rx.idx = (u32)x.next();
			} else if (mode == 1 || mode == 2) {
				/* a plausible cursor and producer, nearly valid
				 * descriptors (mode 2: random slot contents too) */
				rx.idx = (u32)x.next();
				u32 avail = x.below(8) ? x.below(std::min(rx.slots, 40u) + 1)
						       : x.below(rx.slots + 3);
				rx.tx->prod = rx.idx + avail;
				structured_descs(x, &rx, rx.idx,
						 std::min(avail + 2, rx.slots), false);
				if (mode == 2)
					fill_random(x, shmnic_slot_desc(&rx, x.next()),
						    sizeof(shmnic_desc));
			} else {
				/* real frames, then a few random bit flips */
				fill_random(x, mem.ring(), meta_bytes);
				shmnic_rx_setup(&rx, 1);
				shmnic_tx_connect(&tx, 1, 1, (u32)x.next());
				u32 nframes = 1 + x.below(4);
				for (u32 k = 0; k < nframes; k++) {
					u32 len = 1 + x.below(x.below(8) ? std::min(3 * rx.buf_size,
										    SHMNIC_MAX_FRAME)
									 : SHMNIC_MAX_FRAME);
					if (shmnic_tx_room(&tx) <
					    (int)shmnic_frame_slots(len, tx.buf_size))
						break;
					make_frame(scratch.data(), len, it);
					ASSERT_EQ(shmnic_tx_put(&tx, scratch.data(), len, 0, nullptr), 0);
				}
				u32 flips = x.below(4);
				for (u32 k = 0; k < flips; k++) {
					u32 bit = x.below((u32)meta_bytes * 8);
					mem.ring()[bit / 8] ^= (u8)(1u << (bit % 8));
				}
			}

			if (CHECK_NO_WRITES)
				std::memcpy(before.data(), mem.ring(), meta_bytes);
			const u32 idx0 = rx.idx;
			shmnic_frame f{};
			int avail = shmnic_rx_avail(&rx);
			int rc = shmnic_rx_peek(&rx, &f);
			ASSERT_TRUE(rc == 0 || rc == -EAGAIN || rc == -EPROTO ||
				    rc == -EBADMSG)
				<< rc;
			ASSERT_EQ(rc == -EPROTO, avail == -EPROTO);
			ASSERT_EQ(rc == -EAGAIN, avail == 0);
			if (rc == 0) {
				ASSERT_GE(f.total_len, 1u);
				ASSERT_LE(f.total_len, SHMNIC_MAX_FRAME);
				ASSERT_GE(f.nslots, shmnic_frame_slots(f.total_len, rx.buf_size));
				ASSERT_LE(f.nslots, (u32)avail);
				ASSERT_EQ(f.flags & ~SHMNIC_DESC_CTRL, 0);
				Dest dst(f.total_len);
				rc = shmnic_rx_copy(&rx, &f, dst.get());
				ASSERT_TRUE(rc == 0 || rc == -EBADMSG) << rc;
				ASSERT_TRUE(dst.canary_intact()) << "rx_copy wrote past total_len";
				if (rc == 0) {
					frames_ok++;
					shmnic_rx_consume(&rx, &f);
					ASSERT_EQ(rx.idx, idx0 + f.nslots);
				} else {
					copy_bad++;
				}
			} else if (rc == -EBADMSG) {
				peek_bad++;
			} else if (rc == -EPROTO) {
				proto++;
			} else {
				empty++;
			}
			/* the receiver writes only its cons word, and only on consume */
			if (!CHECK_NO_WRITES) {
			} else if (rc != 0 || rx.idx == idx0) {
				ASSERT_EQ(std::memcmp(before.data(), mem.ring(), meta_bytes), 0);
			} else {
				shmnic_ring_rx *rxl = reinterpret_cast<shmnic_ring_rx *>(
					before.data() + offsetof(shmnic_ring_hdr, rx));
				rxl->cons = rx.idx;
				ASSERT_EQ(std::memcmp(before.data(), mem.ring(), meta_bytes), 0);
			}

			/* the sender side on the same hostile words */
			tx.idx = x.below(2) ? (u32)x.next() : rx.tx->prod;
			int room = shmnic_tx_room(&tx);
			ASSERT_TRUE(room == -EPIPE || (room >= 0 && room <= (int)tx.slots))
				<< room;
			ASSERT_TRUE(mem.guards_intact());
		}
	}
	std::printf("pair: %llu frames copied, %llu bad on copy, %llu bad on peek, "
		    "%llu bad indices, %llu empty\n",
		    (unsigned long long)frames_ok, (unsigned long long)copy_bad,
		    (unsigned long long)peek_bad, (unsigned long long)proto,
		    (unsigned long long)empty);
	/* every outcome was reached, so the fuzzer is not stuck in one path */
	EXPECT_GT(frames_ok, 0u);
	EXPECT_GT(copy_bad, 0u);
	EXPECT_GT(peek_bad, 0u);
	EXPECT_GT(proto, 0u);
}

TEST(RingFuzz, BroadcastReaderStaysInBoundsOnRandomContents)
{
	const u64 iters = iterations();
	u64 frames_ok = 0, stale = 0, bad = 0, empty = 0;
	for (const Geo &geo : GEOMETRIES) {
		SCOPED_TRACE(geo.name);
		shmnic_layout l;
		ASSERT_EQ(shmnic_layout_compute(&geo.g, ~0ull, &l), 0);
		const size_t used =
			l.bcast_buf_off + (size_t)geo.g.bcast_slots * geo.g.buf_size;
		ASSERT_LE(used, l.bcast_bytes);
		RingMemory mem(used);
		shmnic_ring r;
		shmnic_ring_init_bcast(&r, mem.ring(), &l);
		const size_t meta_bytes = l.bcast_buf_off;
		std::vector<u8> before(meta_bytes), scratch(SHMNIC_MAX_FRAME);
		XorShift x(geo.g.bcast_slots * 7 + 1);
		const u32 max_nodes = 1 + x.below(SHMNIC_MAX_NODES);
		const u64 n_iter = iters / (sizeof(GEOMETRIES) / sizeof(GEOMETRIES[0]));

		for (u64 it = 0; it < n_iter; it++) {
			const u32 mode = x.below(3);
			if (mode == 0) {
				fill_random(x, mem.ring(), meta_bytes);
				r.idx = x.below(2) ? (u32)x.next() : r.bc->widx - x.below(r.slots + 2);
			} else if (mode == 1) {
				r.idx = (u32)x.next();
				u32 avail = x.below(8) ? x.below(std::min(r.slots, 40u) + 1)
						       : x.below(r.slots + 3);
				r.bc->widx = r.idx + avail;
				structured_descs(x, &r, r.idx, std::min(avail + 2, r.slots), true);
			} else {
				/* real frames from a writer, then bit flips */
				fill_random(x, mem.ring(), meta_bytes);
				r.bc->lock = 0;
				shmnic_bc_reader_init(&r);
				u32 nframes = 1 + x.below(4);
				for (u32 k = 0; k < nframes; k++) {
					u32 len = 1 + x.below(std::min(3 * r.buf_size, SHMNIC_MAX_FRAME));
					make_frame(scratch.data(), len, it);
					u32 me = x.below(max_nodes + 1);
					ASSERT_TRUE(shmnic_bc_trylock(&r, me));
					shmnic_bc_write(&r, me, scratch.data(), len, 0, nullptr);
					shmnic_bc_unlock(&r, me);
				}
				u32 flips = x.below(4);
				for (u32 k = 0; k < flips; k++) {
					u32 bit = x.below((u32)meta_bytes * 8);
					mem.ring()[bit / 8] ^= (u8)(1u << (bit % 8));
				}
			}

			if (CHECK_NO_WRITES)
				std::memcpy(before.data(), mem.ring(), meta_bytes);
			const u32 w = r.bc->widx;
			const u32 idx0 = r.idx;
			u64 lost = 0;
			shmnic_frame f{};
			int rc = shmnic_bc_peek(&r, max_nodes, &f, &lost);
			ASSERT_TRUE(rc == 0 || rc == -EAGAIN || rc == -ESTALE || rc == -EBADMSG)
				<< rc;
			if (rc == -EAGAIN) {
				ASSERT_EQ(idx0, w);
				empty++;
			} else if (rc == -ESTALE || rc == -EBADMSG) {
				ASSERT_EQ(r.idx, w) << "cursor moved to the write index";
				if (rc == -ESTALE)
					stale++;
				else
					bad++;
			} else {
				ASSERT_LT(f.src, max_nodes);
				ASSERT_GE(f.total_len, 1u);
				ASSERT_LE(f.total_len, SHMNIC_MAX_FRAME);
				ASSERT_LE(f.nslots, w - idx0);
				ASSERT_EQ(lost, 0u);
				Dest dst(f.total_len);
				rc = shmnic_bc_copy(&r, &f, dst.get(), &lost);
				ASSERT_TRUE(rc == 0 || rc == -ESTALE || rc == -EBADMSG) << rc;
				ASSERT_TRUE(dst.canary_intact()) << "bc_copy wrote past total_len";
				if (rc == 0) {
					ASSERT_EQ(r.idx, idx0 + f.nslots);
					frames_ok++;
				} else if (rc == -ESTALE) {
					stale++;
				} else {
					bad++;
				}
			}
			/* a reader never writes to the ring */
			if (CHECK_NO_WRITES) {
				ASSERT_EQ(std::memcmp(before.data(), mem.ring(), meta_bytes), 0);
			}
			ASSERT_TRUE(mem.guards_intact());
		}
	}
	std::printf("broadcast: %llu frames copied, %llu stale, %llu bad, %llu empty\n",
		    (unsigned long long)frames_ok, (unsigned long long)stale,
		    (unsigned long long)bad, (unsigned long long)empty);
	EXPECT_GT(frames_ok, 0u);
	EXPECT_GT(stale, 0u);
	EXPECT_GT(bad, 0u);
}

/* --- the flow table -------------------------------------------------------- */

/*
 * A node's part of the flow table as another node (or a scribbler) may
 * leave it: random bytes, nearly valid entries, real entries with bit
 * flips. find(), place() and read() must stay inside the part (the part
 * is a heap block of exactly its size in the sanitized build, between
 * guard zones in the plain one), stay in the key's set, never write, and
 * read() must hand out only consistent snapshots of a valid state.
 */
TEST(FlowFuzz, FindPlaceReadStayInThePart)
{
	const u64 iters = iterations() / 4;
	u64 found = 0, placed = 0, evicted = 0, full = 0, reads_ok = 0;
	XorShift x(0xf10e);
	for (u32 slots : {SHMNIC_MIN_FLOWS, 128u, 1024u}) {
		SCOPED_TRACE(slots);
		const size_t bytes = (size_t)slots * sizeof(shmnic_flow);
		RingMemory mem(bytes);
		auto *part = reinterpret_cast<shmnic_flow *>(mem.ring());
		std::vector<u8> before(bytes);
		/* a few keys that recur, so that find() has something to hit */
		std::vector<shmnic_flow_key> keys(16);
		for (auto &k : keys) {
			k = shmnic_flow_key{};
			k.family = 4;
			k.proto = 6;
			k.sport = (u16)x.next();
			fill_random(x, k.saddr, 4);
		}

		for (u64 it = 0; it < iters / 3; it++) {
			const u32 mode = x.below(4);
			if (mode == 0) {
				fill_random(x, part, bytes);
			} else if (mode == 1) {
				/* nearly valid: keys in their sets, fields from
				 * edge values */
				fill_random(x, part, bytes);
				for (u32 n = 0; n < 8; n++) {
					const shmnic_flow_key &k = keys[x.below(16)];
					u32 h = shmnic_flow_hash(&k);
					shmnic_flow *e = &part[shmnic_flow_set(h, slots) +
							       x.below(SHMNIC_FLOW_WAYS)];
					e->seq = x.below(4) ? (u32)x.next() & ~1u : (u32)x.next();
					e->state = (u8)(x.below(4) ? x.below(SHMNIC_FS_MAX + 1)
								 : x.next());
					e->node = (u16)(x.below(2) ? x.below(64) : x.next());
					e->last = x.below(2) ? (u32)x.next() : 1000 - x.below(4000);
					e->hash = x.below(8) ? h : (u32)x.next();
					e->key = k;
					if (!x.below(8))
						fill_random(x, &e->key, 1 + x.below(8));
				}
			} else {
				/* written the proper way, then a few bit flips */
				std::memset(part, 0, bytes);
				for (u32 n = 0; n < slots; n++) {
					shmnic_flow f{};
					f.key = keys[x.below(16)];
					f.key.dport = (u16)x.next();
					f.hash = shmnic_flow_hash(&f.key);
					f.state = (u8)(1 + x.below(SHMNIC_FS_MAX));
					f.node = (u16)x.below(8);
					f.last = 1000 - x.below(400);
					int ev;
					int i = shmnic_flow_place(part, slots, f.hash, 1000, &ev);
					if (i >= 0)
						shmnic_flow_write(&part[i], &f);
				}
				for (u32 k = x.below(8); k; k--) {
					u32 bit = x.below((u32)bytes * 8);
					mem.ring()[bit / 8] ^= (u8)(1u << (bit % 8));
				}
			}
			if (CHECK_NO_WRITES)
				std::memcpy(before.data(), part, bytes);

			const u32 now = x.below(2) ? 1000 : (u32)x.next();
			for (u32 q = 0; q < 8; q++) {
				shmnic_flow_key k = keys[x.below(16)];
				if (x.below(2))
					k.dport = (u16)x.next();
				const u32 h = x.below(8) ? shmnic_flow_hash(&k) : (u32)x.next();
				const u32 first = shmnic_flow_set(h, slots);
				ASSERT_EQ(first % SHMNIC_FLOW_WAYS, 0u);
				ASSERT_LE(first + SHMNIC_FLOW_WAYS, slots);
				shmnic_flow out;
				int i = shmnic_flow_find(part, slots, &k, h, &out);
				ASSERT_TRUE(i == -ENOENT || (i >= (int)first &&
							     i < (int)(first + SHMNIC_FLOW_WAYS)))
					<< i;
				if (i >= 0) {
					found++;
					ASSERT_TRUE(shmnic_flow_key_eq(&out.key, &k));
					ASSERT_EQ(out.hash, h);
					ASSERT_EQ(out.seq % 2, 0u);
					ASSERT_GE(out.state, SHMNIC_FS_SYN);
					ASSERT_LE(out.state, SHMNIC_FS_MAX);
				}
				int evict = -1;
				i = shmnic_flow_place(part, slots, h, now, &evict);
				ASSERT_TRUE(evict == 0 || evict == 1);
				if (i == -ENOSPC) {
					full++;
					ASSERT_EQ(evict, 0);
					/* only live established flows refuse */
					for (u32 w = first; w < first + SHMNIC_FLOW_WAYS; w++) {
						ASSERT_EQ(part[w].state, SHMNIC_FS_EST);
						ASSERT_FALSE(shmnic_flow_expired(part[w].state,
										 part[w].last, now));
					}
				} else {
					ASSERT_GE(i, (int)first);
					ASSERT_LT(i, (int)(first + SHMNIC_FLOW_WAYS));
					placed++;
					evicted += evict;
					if (evict) {
						ASSERT_NE(part[i].state, SHMNIC_FS_EST);
					}
				}
			}
			/* every entry read as a snapshot */
			for (u32 n = 0; n < 16; n++) {
				const u32 i = x.below(slots);
				shmnic_flow out;
				int rc = shmnic_flow_read(&part[i], &out);
				ASSERT_TRUE(rc == 0 || rc == -EAGAIN) << rc;
				if (rc == 0) {
					reads_ok++;
					ASSERT_EQ(out.seq, part[i].seq);
					ASSERT_EQ(out.seq % 2, 0u);
					ASSERT_GE(out.state, SHMNIC_FS_SYN);
					ASSERT_LE(out.state, SHMNIC_FS_MAX);
				}
			}
			if (CHECK_NO_WRITES) {
				ASSERT_EQ(std::memcmp(before.data(), part, bytes), 0)
					<< "find/place/read wrote to the part";
			}
			/* the owner's writes touch only their entry */
			{
				const u32 i = x.below(slots);
				shmnic_flow f{};
				fill_random(x, &f, sizeof(f));
				if (x.below(2))
					shmnic_flow_write(&part[i], &f);
				else
					shmnic_flow_clear(&part[i]);
				ASSERT_EQ(part[i].seq % 2, 0u);
				if (CHECK_NO_WRITES) {
					ASSERT_EQ(std::memcmp(before.data(), part,
							      (size_t)i * sizeof(shmnic_flow)), 0);
					ASSERT_EQ(std::memcmp(before.data() + (i + 1) * sizeof(shmnic_flow),
							      part + i + 1,
							      bytes - (i + 1) * sizeof(shmnic_flow)), 0);
				}
			}
			ASSERT_TRUE(mem.guards_intact());
		}
	}
	std::printf("flow: %llu found, %llu placed (%llu evicting), %llu set full, "
		    "%llu snapshots\n",
		    (unsigned long long)found, (unsigned long long)placed,
		    (unsigned long long)evicted, (unsigned long long)full,
		    (unsigned long long)reads_ok);
	EXPECT_GT(found, 0u);
	EXPECT_GT(evicted, 0u);
	EXPECT_GT(full, 0u);
	EXPECT_GT(reads_ok, 0u);
}

/* Maglev with random candidate sets: every pick is a candidate. */
TEST(FlowFuzz, MaglevPicksACandidate)
{
	XorShift x(0x3a61e);
	for (int it = 0; it < 2000; it++) {
		u8 ids[SHMNIC_MAX_NODES];
		u64 used = 0;
		u32 n = 1 + x.below(SHMNIC_MAX_NODES);
		for (u32 i = 0; i < n;) {
			u32 id = x.below(SHMNIC_MAX_NODES);
			if (used & (1ull << id))
				continue;
			used |= 1ull << id;
			ids[i++] = (u8)id;
		}
		for (int q = 0; q < 8; q++) {
			u32 p = shmnic_maglev_pick(ids, n, (u32)x.next());
			ASSERT_LT(p, SHMNIC_MAX_NODES);
			ASSERT_TRUE(used & (1ull << p)) << p;
		}
	}
}
