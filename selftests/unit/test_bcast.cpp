// SPDX-License-Identifier: GPL-2.0
/*
 * Broadcast ("ticker tape") ring: ordering, lapped readers, slots rewritten
 * under a reader, the writers' lock, and a multi-writer/multi-reader run in
 * which readers may lose frames but must never accept a damaged one.
 */
#include "test_util.h"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>

using namespace shmnic_test;

namespace {

constexpr u32 MAX_NODES = 4;

class BcastRing : public ::testing::Test {
protected:
	explicit BcastRing(shmnic_geometry g = geometry(MAX_NODES, 256, 2048, 128, 1))
		: region(g)
	{
		shmnic_ring_init_bcast(&w, region.bcast(), &region.l);
		shmnic_ring_init_bcast(&r, region.bcast(), &region.l);
		shmnic_bc_reader_init(&r);
	}

	u32 slots() const { return region.l.g.bcast_slots; }
	u32 nslots(u32 len) const
	{
		return shmnic_frame_slots(len, region.l.g.buf_size);
	}

	void write(u32 me, u32 len, u64 key, u16 flags = 0,
		   const shmnic_meta *meta = nullptr)
	{
		auto f = frame(len, key);
		ASSERT_TRUE(shmnic_bc_trylock(&w, me));
		shmnic_bc_write(&w, me, f.data(), len, flags, meta);
		shmnic_bc_unlock(&w, me);
		ASSERT_EQ(w.bc->lock, 0u);
	}

	::testing::AssertionResult read(u32 len, u64 key, u32 src = 1,
					shmnic_frame *out = nullptr)
	{
		shmnic_frame f{};
		u64 lost0 = lost;
		int rc = shmnic_bc_peek(&r, MAX_NODES, &f, &lost);
		if (rc)
			return ::testing::AssertionFailure() << "bc_peek " << rc;
		if (f.total_len != len || f.nslots != nslots(len) || f.src != src)
			return ::testing::AssertionFailure()
			       << "frame len " << f.total_len << " nslots "
			       << f.nslots << " src " << f.src;
		Buffer dst = alloc_exact(len);
		rc = shmnic_bc_copy(&r, &f, dst.get(), &lost);
		if (rc)
			return ::testing::AssertionFailure() << "bc_copy " << rc;
		if (lost != lost0)
			return ::testing::AssertionFailure() << "lost changed";
		if (!check_frame(dst.get(), len, key))
			return ::testing::AssertionFailure()
			       << "content of " << key << " differs";
		if (out)
			*out = f;
		return ::testing::AssertionSuccess();
	}

	Region region;
	shmnic_ring w{}, r{};
	u64 lost = 0;
};

} // namespace

TEST_F(BcastRing, SingleWriterSingleReaderInOrder)
{
	XorShift rnd(11);
	u64 wk = 0, rk = 0;
	std::vector<u32> lens;
	while (wk < 5000) {
		/* write a burst that fits, then read it all */
		u32 used = 0;
		for (;;) {
			u32 len = 1 + rnd.below(5 * 2048);
			if (used + nslots(len) > slots())
				break;
			used += nslots(len);
			shmnic_meta m{};
			m.gso_size = (u16)wk;
			write(2, len, wk, wk % 3 ? 0 : SHMNIC_DESC_CTRL, &m);
			lens.push_back(len);
			wk++;
		}
		while (rk < wk) {
			shmnic_frame f{};
			ASSERT_TRUE(read(lens[rk], rk, 2, &f)) << rk;
			EXPECT_EQ(f.flags, rk % 3 ? 0 : SHMNIC_DESC_CTRL);
			EXPECT_EQ(f.meta.gso_size, (u16)rk);
			rk++;
		}
		shmnic_frame f{};
		ASSERT_EQ(shmnic_bc_peek(&r, MAX_NODES, &f, &lost), -EAGAIN);
	}
	EXPECT_EQ(lost, 0u);
	EXPECT_EQ(r.idx, w.bc->widx);
}

TEST_F(BcastRing, ReaderStartsAtTheWriteIndex)
{
	for (u64 k = 0; k < 5; k++)
		write(1, 100, k);
	shmnic_ring r2;
	shmnic_ring_init_bcast(&r2, region.bcast(), &region.l);
	shmnic_bc_reader_init(&r2);
	shmnic_frame f{};
	EXPECT_EQ(shmnic_bc_peek(&r2, MAX_NODES, &f, &lost), -EAGAIN);
	write(1, 100, 5);
	r = r2;
	EXPECT_TRUE(read(100, 5));
}

TEST_F(BcastRing, ExactlyOneRingBehindIsNotLapped)
{
	for (u64 k = 0; k < slots(); k++)
		write(1, 100, k);
	for (u64 k = 0; k < slots(); k++)
		ASSERT_TRUE(read(100, k)) << k;
	EXPECT_EQ(lost, 0u);
}

TEST_F(BcastRing, LappedReaderGetsESTALEThenResynchronises)
{
	write(1, 100, 0);
	ASSERT_TRUE(read(100, 0));
	/* the writer writes more than a ring's worth */
	const u32 n = slots() + 6;
	for (u64 k = 1; k <= n; k++)
		write(1, 100, k);
	shmnic_frame f{};
	EXPECT_EQ(shmnic_bc_peek(&r, MAX_NODES, &f, &lost), -ESTALE);
	/* at most one ring's worth is counted per resynchronisation */
	EXPECT_EQ(lost, slots());
	EXPECT_EQ(r.idx, w.bc->widx);
	EXPECT_EQ(shmnic_bc_peek(&r, MAX_NODES, &f, &lost), -EAGAIN);
	/* new frames are delivered again, multi-slot ones too */
	write(1, 100, 1000);
	write(3, 9000, 1001);
	ASSERT_TRUE(read(100, 1000));
	ASSERT_TRUE(read(9000, 1001, 3));
	EXPECT_EQ(lost, slots());
}

TEST_F(BcastRing, ScribbledWriteIndexCountsAtMostOneRing)
{
	write(1, 100, 0);
	ASSERT_TRUE(read(100, 0));
	shmnic_frame f{};
	for (u32 jump : { 0x40000000u, 0x80000000u, 0xfffffff0u }) {
		const u64 before = lost;

		w.bc->widx = r.idx + jump;
		EXPECT_EQ(shmnic_bc_peek(&r, MAX_NODES, &f, &lost), -ESTALE);
		EXPECT_LE(lost - before, slots()) << "jump " << jump;
		EXPECT_EQ(r.idx, w.bc->widx);
	}
}

/*
 * A writer (or scribbler) that moves the write index before every look
 * never lets the ring look empty: every peek is -ESTALE or -EBADMSG, never
 * -EAGAIN. shmnic_poll_group() runs until shmnic_bc_next() says -EAGAIN,
 * which it does once the budget is spent, errors included: the loop below
 * is the kernel's, and it ends after exactly its budget of looks.
 */
TEST_F(BcastRing, WriterThatKeepsLappingCannotHoldAPollLoop)
{
	write(1, 100, 0);
	ASSERT_TRUE(read(100, 0));
	const int quota = 64;
	int budget = quota, looks = 0, rc;
	shmnic_frame f{};

	for (;;) {
		/* the hostile writer: a jump past the reader, every time */
		w.bc->widx = r.idx + slots() + 1 + (u32)looks;
		rc = shmnic_bc_next(&r, MAX_NODES, &f, &lost, &budget);
		if (rc == -EAGAIN)
			break;
		ASSERT_LT(++looks, 100000) << "the loop has no bound";
		EXPECT_TRUE(rc == -ESTALE || rc == -EBADMSG) << rc;
		EXPECT_EQ(r.idx, w.bc->widx) << "the cursor resynchronises";
	}
	EXPECT_EQ(looks, quota);
	EXPECT_EQ(budget, 0);
	EXPECT_LE(lost, (u64)quota * slots());
}

TEST_F(BcastRing, PollBudgetCountsFramesAndLeavesTheRestForLater)
{
	for (u64 k = 0; k < 3; k++)
		write(1, 100, k);
	shmnic_frame f{};
	int budget = 2;

	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(shmnic_bc_next(&r, MAX_NODES, &f, &lost, &budget), 0);
		shmnic_bc_skip(&r, &f);
	}
	EXPECT_EQ(budget, 0);
	EXPECT_EQ(shmnic_bc_next(&r, MAX_NODES, &f, &lost, &budget), -EAGAIN)
		<< "a spent budget ends the loop with a frame left";
	budget = 5;
	ASSERT_EQ(shmnic_bc_next(&r, MAX_NODES, &f, &lost, &budget), 0);
	shmnic_bc_skip(&r, &f);
	EXPECT_EQ(shmnic_bc_next(&r, MAX_NODES, &f, &lost, &budget), -EAGAIN);
	EXPECT_EQ(budget, 4) << "an empty ring costs nothing";
	EXPECT_EQ(lost, 0u);
}

TEST_F(BcastRing, SlotBeingRewrittenAtPeekIsESTALE)
{
	/* reader exactly a ring behind, a lapping writer has begun */
	for (u64 k = 0; k < slots(); k++)
		write(1, 100, k);
	ASSERT_TRUE(shmnic_bc_trylock(&w, 1));
	u32 at = shmnic_bc_begin(&w, 100);
	EXPECT_EQ(at & (slots() - 1), r.idx & (slots() - 1));
	shmnic_frame f{};
	EXPECT_EQ(shmnic_bc_peek(&r, MAX_NODES, &f, &lost), -ESTALE);
	EXPECT_EQ(lost, slots());
	shmnic_bc_publish(&w, at, 1, 100, 0, nullptr);
	shmnic_bc_unlock(&w, 1);
	EXPECT_EQ(shmnic_bc_peek(&r, MAX_NODES, &f, &lost), 0)
		<< "the frame published after the resync is delivered";
}

TEST_F(BcastRing, SlotRewrittenDuringCopyIsESTALE)
{
	/* first slot of a frame, then the last slot of a chained one */
	for (u32 which : {0u, 4u}) {
		SCOPED_TRACE(which);
		write(1, 9000, 1); /* 5 slots */
		shmnic_frame f{};
		ASSERT_EQ(shmnic_bc_peek(&r, MAX_NODES, &f, &lost), 0);
		/* a writer invalidates (seq 0) and later republishes the slot */
		shmnic_slot_desc(&r, r.idx + which)->seq = 0;
		u64 lost0 = lost;
		Buffer dst = alloc_exact(f.total_len);
		EXPECT_EQ(shmnic_bc_copy(&r, &f, dst.get(), &lost), -ESTALE);
		EXPECT_GT(lost, lost0);
		EXPECT_EQ(r.idx, w.bc->widx);
		write(1, 100, 2);
		ASSERT_TRUE(read(100, 2));
	}
	/* a newer lap's sequence number is as bad as 0 */
	write(1, 100, 3);
	shmnic_frame f{};
	ASSERT_EQ(shmnic_bc_peek(&r, MAX_NODES, &f, &lost), 0);
	shmnic_slot_desc(&r, r.idx)->seq = r.idx + slots() + 1;
	Buffer dst = alloc_exact(f.total_len);
	EXPECT_EQ(shmnic_bc_copy(&r, &f, dst.get(), &lost), -ESTALE);
}

/*
 * bc_copy()/bc_done() on a frame overwritten while it was copied: as
 * documented, the frame's slots are counted in @lost and the cursor moves
 * to the write index (the slots skipped beyond the frame are not counted).
 */
TEST_F(BcastRing, StaleCopyCountsTheFrameAndMovesToTheWriteIndex)
{
	write(1, 3000, 1); /* 2 slots */
	shmnic_frame f{};
	ASSERT_EQ(shmnic_bc_peek(&r, MAX_NODES, &f, &lost), 0);
	/* the writer laps the reader while it copies */
	for (u64 k = 2; k < 2 + slots(); k++)
		write(1, 100, k);
	Buffer dst = alloc_exact(f.total_len);
	ASSERT_EQ(shmnic_bc_copy(&r, &f, dst.get(), &lost), -ESTALE);
	EXPECT_EQ(r.idx, w.bc->widx);
	EXPECT_EQ(lost, 2u);
	write(1, 100, 99);
	EXPECT_TRUE(read(100, 99));
}

TEST_F(BcastRing, ChunkedReadWithBcDone)
{
	/* the paged receive path: walk the chunks, then bc_done() */
	write(2, 5000, 7);
	shmnic_frame f{};
	ASSERT_EQ(shmnic_bc_peek(&r, MAX_NODES, &f, &lost), 0);
	ASSERT_EQ(f.nslots, 3);
	std::vector<u8> out;
	for (u32 i = 0, copied = 0; i < f.nslots; i++) {
		const u8 *data = nullptr;
		u32 len = 0;
		ASSERT_EQ(shmnic_frame_chunk(&r, r.idx, &f, i, copied, &data, &len), 0);
		EXPECT_EQ(data, shmnic_slot_buf(&r, r.idx + i));
		out.insert(out.end(), data, data + len);
		copied += len;
	}
	ASSERT_EQ(out.size(), 5000u);
	EXPECT_EQ(shmnic_bc_done(&r, &f, &lost), 0);
	EXPECT_TRUE(check_frame(out.data(), 5000, 7));
	EXPECT_EQ(r.idx, w.bc->widx);
	/* rewritten while walked: bc_done() says so */
	write(2, 5000, 8);
	ASSERT_EQ(shmnic_bc_peek(&r, MAX_NODES, &f, &lost), 0);
	shmnic_slot_desc(&r, r.idx + 1)->seq = 0;
	EXPECT_EQ(shmnic_bc_done(&r, &f, &lost), -ESTALE);
	EXPECT_EQ(lost, 3u);
	EXPECT_EQ(r.idx, w.bc->widx);
}

TEST_F(BcastRing, SkipOwnFrame)
{
	write(1, 9000, 1); /* ours: skipped without copying */
	write(2, 100, 2);
	shmnic_frame f{};
	ASSERT_EQ(shmnic_bc_peek(&r, MAX_NODES, &f, &lost), 0);
	EXPECT_EQ(f.src, 1);
	shmnic_bc_skip(&r, &f);
	EXPECT_TRUE(read(100, 2, 2));
	EXPECT_EQ(lost, 0u);
}

TEST_F(BcastRing, SourceBeyondMaxNodesIsEBADMSG)
{
	shmnic_frame f{};
	write(MAX_NODES - 1, 100, 1);
	ASSERT_TRUE(read(100, 1, MAX_NODES - 1));
	for (u32 src : {MAX_NODES, MAX_NODES + 1, 0xfffeu}) {
		write(src, 100, 2);
		write(0, 100, 3);
		EXPECT_EQ(shmnic_bc_peek(&r, MAX_NODES, &f, &lost), -EBADMSG) << src;
		EXPECT_EQ(r.idx, w.bc->widx) << "cursor moved to the write index";
		write(0, 100, 4);
		ASSERT_TRUE(read(100, 4, 0));
	}
}

TEST_F(BcastRing, BadFirstDescriptorIsEBADMSGAndSkipped)
{
	shmnic_frame f{};
	const std::array<void (*)(shmnic_desc *), 5> bad = {
		[](shmnic_desc *d) { d->total_len = 0; },
		[](shmnic_desc *d) { d->total_len = SHMNIC_MAX_FRAME + 1; },
		[](shmnic_desc *d) { d->nslots = 9; },
		[](shmnic_desc *d) { d->flags |= 0x10; },
		[](shmnic_desc *d) { d->flags &= ~SHMNIC_DESC_MORE; },
	};
	for (size_t i = 0; i < bad.size(); i++) {
		write(1, 9000, i);
		bad[i](shmnic_slot_desc(&r, r.idx));
		EXPECT_EQ(shmnic_bc_peek(&r, MAX_NODES, &f, &lost), -EBADMSG) << i;
		write(1, 60, 100 + i);
		ASSERT_TRUE(read(60, 100 + i)) << i;
	}
	/* a chained slot's bad length is caught by the copy */
	write(1, 9000, 50);
	ASSERT_EQ(shmnic_bc_peek(&r, MAX_NODES, &f, &lost), 0);
	shmnic_slot_desc(&r, r.idx + 2)->len = 2049;
	Buffer dst = alloc_exact(f.total_len);
	EXPECT_EQ(shmnic_bc_copy(&r, &f, dst.get(), &lost), -EBADMSG);
	write(1, 60, 51);
	ASSERT_TRUE(read(60, 51));
}

TEST_F(BcastRing, LockTrylockUnlockByTwoNodes)
{
	shmnic_ring a, b;
	shmnic_ring_init_bcast(&a, region.bcast(), &region.l);
	shmnic_ring_init_bcast(&b, region.bcast(), &region.l);
	EXPECT_EQ(w.bc->lock, 0u);
	EXPECT_TRUE(shmnic_bc_trylock(&a, 0));
	EXPECT_EQ(w.bc->lock, 1u) << "holder id + 1";
	EXPECT_FALSE(shmnic_bc_trylock(&b, 2));
	EXPECT_FALSE(shmnic_bc_trylock(&a, 0)) << "not recursive";
	shmnic_bc_unlock(&b, 2); /* not the holder: no effect */
	EXPECT_EQ(w.bc->lock, 1u);
	shmnic_bc_unlock(&a, 0);
	EXPECT_EQ(w.bc->lock, 0u);
	EXPECT_TRUE(shmnic_bc_trylock(&b, 2));
	EXPECT_EQ(w.bc->lock, 3u);
	EXPECT_FALSE(shmnic_bc_trylock(&a, 0));
	shmnic_bc_unlock(&b, 2);
	EXPECT_TRUE(shmnic_bc_trylock(&a, 0));
	shmnic_bc_unlock(&a, 0);
	EXPECT_EQ(w.bc->lock, 0u);
}

TEST_F(BcastRing, BreakAHeldLock)
{
	shmnic_ring a, b;
	shmnic_ring_init_bcast(&a, region.bcast(), &region.l);
	shmnic_ring_init_bcast(&b, region.bcast(), &region.l);
	ASSERT_TRUE(shmnic_bc_trylock(&a, 5));
	u32 word = w.bc->lock;
	EXPECT_EQ(word, 6u);
	EXPECT_FALSE(shmnic_bc_break(&b, 0)) << "0 is never a holder";
	EXPECT_FALSE(shmnic_bc_break(&b, 7)) << "not the current holder";
	EXPECT_EQ(w.bc->lock, 6u);
	EXPECT_TRUE(shmnic_bc_break(&b, word));
	EXPECT_EQ(w.bc->lock, 0u);
	EXPECT_FALSE(shmnic_bc_break(&b, word)) << "already broken";
	ASSERT_TRUE(shmnic_bc_trylock(&b, 1));
	/* the old holder's late unlock must not free the new holder's lock */
	shmnic_bc_unlock(&a, 5);
	EXPECT_EQ(w.bc->lock, 2u);
	/* a dead writer's half-written frame: next writer starts over */
	u32 at = shmnic_bc_begin(&b, 3000);
	(void)at; /* dies before publishing */
	EXPECT_TRUE(shmnic_bc_break(&a, 2));
	write(2, 100, 9);
	ASSERT_TRUE(read(100, 9, 2));
	EXPECT_EQ(lost, 0u);
}

TEST(BcastLockWatch, BreaksAtOnceForNoNodeOrADeadOne)
{
	const u32 nodes = 8, me = 2;
	/* free: nothing to break, whatever else is said */
	EXPECT_FALSE(shmnic_bc_lock_breakable(0, nodes, me, 0, 1));
	/* a holder that is no node: at once, even while widx moves */
	EXPECT_TRUE(shmnic_bc_lock_breakable(nodes + 1, nodes, me, 1, 0));
	EXPECT_TRUE(shmnic_bc_lock_breakable(0xffffffffu, nodes, me, 1, 0));
	/* a dead holder: at once, not after the watcher saw no progress */
	EXPECT_TRUE(shmnic_bc_lock_breakable(4 + 1, nodes, me, 0, 0));
	EXPECT_TRUE(shmnic_bc_lock_breakable(nodes, nodes, me, 0, 0)) << "last node id";
	/* a live holder: only when stuck */
	EXPECT_FALSE(shmnic_bc_lock_breakable(4 + 1, nodes, me, 1, 0));
	EXPECT_TRUE(shmnic_bc_lock_breakable(4 + 1, nodes, me, 1, 1));
	/* our own id: we may be writing on another CPU; only when stuck */
	EXPECT_FALSE(shmnic_bc_lock_breakable(me + 1, nodes, me, 0, 0));
	EXPECT_TRUE(shmnic_bc_lock_breakable(me + 1, nodes, me, 0, 1));
}

namespace {
/* A geometry shmnic_geometry_valid() accepts carries a max broadcast frame. */
::testing::AssertionResult valid_implies_max_bcast_frame(const shmnic_geometry &g)
{
	if (!shmnic_geometry_valid(&g))
		return ::testing::AssertionSuccess() << "(rejected: fine)";
	Region region(g);
	shmnic_ring w, r;
	shmnic_ring_init_bcast(&w, region.bcast(), &region.l);
	shmnic_ring_init_bcast(&r, region.bcast(), &region.l);
	shmnic_bc_reader_init(&r);
	auto data = frame(SHMNIC_MAX_FRAME, 1);
	if (!shmnic_bc_trylock(&w, 0))
		return ::testing::AssertionFailure() << "trylock";
	shmnic_bc_write(&w, 0, data.data(), SHMNIC_MAX_FRAME, 0, nullptr);
	shmnic_bc_unlock(&w, 0);
	shmnic_frame f{};
	u64 lost = 0;
	int rc = shmnic_bc_peek(&r, 2, &f, &lost);
	if (rc)
		return ::testing::AssertionFailure()
		       << "valid geometry, but bc_peek " << rc << " (lost " << lost
		       << "): a max frame needs "
		       << shmnic_frame_slots(SHMNIC_MAX_FRAME, g.buf_size)
		       << " slots, the broadcast ring has " << g.bcast_slots;
	std::vector<u8> dst(f.total_len);
	rc = shmnic_bc_copy(&r, &f, dst.data(), &lost);
	if (rc)
		return ::testing::AssertionFailure() << "bc_copy " << rc;
	if (!check_frame(dst.data(), SHMNIC_MAX_FRAME, 1))
		return ::testing::AssertionFailure() << "content differs";
	return ::testing::AssertionSuccess();
}
} // namespace

/*
 * shmnic_geometry_valid() makes a maximal frame fit in half a pair ring but
 * does not look at the broadcast ring: a frame spanning more slots than the
 * broadcast ring overwrites its own beginning and can never be delivered.
 * Either such geometries are rejected or the frame is delivered.
 */
TEST(BcastRingGeometry, ValidGeometryCarriesAMaxBroadcastFrame)
{
	const shmnic_geometry ok = geometry(2, 256, 2048, 128, 1);
	ASSERT_TRUE(shmnic_geometry_valid(&ok));
	EXPECT_TRUE(valid_implies_max_bcast_frame(ok));
	EXPECT_TRUE(valid_implies_max_bcast_frame(geometry(2, 16, 65536, 16, 1)));
	EXPECT_TRUE(valid_implies_max_bcast_frame(geometry(2, 256, 2048, 64, 1)));
	EXPECT_TRUE(valid_implies_max_bcast_frame(geometry(2, 256, 2048, 32, 1)));
	EXPECT_TRUE(valid_implies_max_bcast_frame(geometry(2, 256, 2048, 16, 1)));
	EXPECT_TRUE(valid_implies_max_bcast_frame(geometry(2, 1024, 256, 64, 1)));
}

/* --- many writers, many readers --------------------------------------------- */

namespace {

constexpr int WRITERS = 3, READERS = 2;

u32 bc_len(u64 key)
{
	u64 r = splitmix64(key);
	if (r % 64 == 0)
		return 16 + (u32)((r >> 8) % 20000); /* up to 10 slots */
	return 16 + (u32)((r >> 8) % 3000);
}

u64 bc_key(u32 writer, u64 seq) { return (u64)writer << 48 | seq; }

struct ReaderStats {
	u64 accepted = 0, stale = 0, lost = 0, badmsg_peek = 0, badmsg_copy = 0,
	    corrupt = 0, out_of_order = 0;
	std::array<u64, WRITERS> per_writer{};
	std::string first_error;
};

} // namespace

TEST(BcastRingStress, ThreeWritersTwoReadersNeverAcceptDamagedFrames)
{
	const u64 PER_WRITER = 150000;
	Region region(geometry(MAX_NODES, 256, 2048, 128, 1));
	std::atomic<int> writers_done{0};
	std::atomic<u32> in_lock{0};
	std::atomic<u64> lock_violations{0}, lock_spins{0};
	std::array<ReaderStats, READERS> rs;

	std::vector<std::thread> th;
	for (int id = 0; id < WRITERS; id++)
		th.emplace_back([&, id] {
			const u32 me = (u32)id + 1; /* node ids 1..3 */
			shmnic_ring w;
			shmnic_ring_init_bcast(&w, region.bcast(), &region.l);
			std::vector<u8> data(20016);
			for (u64 seq = 1; seq <= PER_WRITER; seq++) {
				u64 key = bc_key(me, seq);
				u32 len = bc_len(key);
				make_frame(data.data(), len, key);
				Backoff b;
				while (!shmnic_bc_trylock(&w, me)) {
					lock_spins.fetch_add(1, std::memory_order_relaxed);
					b.wait();
				}
				if (in_lock.exchange(me) != 0)
					lock_violations++;
				shmnic_bc_write(&w, me, data.data(), len, 0, nullptr);
				if (in_lock.exchange(0) != me)
					lock_violations++;
				shmnic_bc_unlock(&w, me);
				if (seq % 16 == 0)
					sched_yield();
			}
			writers_done++;
		});
	for (int id = 0; id < READERS; id++)
		th.emplace_back([&, id] {
			ReaderStats &s = rs[id];
			shmnic_ring r;
			shmnic_ring_init_bcast(&r, region.bcast(), &region.l);
			shmnic_bc_reader_init(&r);
			std::array<u64, WRITERS> last{};
			std::vector<u8> dst(SHMNIC_MAX_FRAME);
			Backoff b;
			for (;;) {
				shmnic_frame f{};
				int rc = shmnic_bc_peek(&r, MAX_NODES, &f, &s.lost);
				if (rc == -EAGAIN) {
					if (writers_done == WRITERS &&
					    r.idx == smp_load_acquire(&r.bc->widx))
						break;
					b.wait();
					continue;
				}
				b.reset();
				if (rc == -ESTALE) {
					s.stale++;
					continue;
				}
				if (rc == -EBADMSG) {
					s.badmsg_peek++;
					continue;
				}
				if (rc) {
					s.corrupt++;
					s.first_error = "bc_peek " + std::to_string(rc);
					continue;
				}
				rc = shmnic_bc_copy(&r, &f, dst.data(), &s.lost);
				if (rc == -ESTALE) {
					s.stale++;
					continue;
				}
				if (rc == -EBADMSG) {
					s.badmsg_copy++;
					continue;
				}
				/* accepted: it must be exactly what a writer wrote */
				u64 key = 0;
				std::memcpy(&key, dst.data(), 8);
				u32 wr = (u32)(key >> 48);
				u64 seq = key & 0xffffffffffffull;
				bool ok = rc == 0 && f.total_len >= 16 && wr >= 1 &&
					  wr <= WRITERS && f.src == wr &&
					  f.total_len == bc_len(key) &&
					  check_frame(dst.data(), f.total_len, key);
				if (!ok) {
					if (!s.corrupt++)
						s.first_error =
							"accepted a damaged frame: rc " +
							std::to_string(rc) + " len " +
							std::to_string(f.total_len) +
							" src " + std::to_string(f.src);
					continue;
				}
				if (seq <= last[wr - 1] && !s.out_of_order++)
					s.first_error = "writer " + std::to_string(wr) +
							": seq " + std::to_string(seq) +
							" after " +
							std::to_string(last[wr - 1]);
				last[wr - 1] = seq;
				s.per_writer[wr - 1]++;
				s.accepted++;
			}
		});
	for (auto &t : th)
		t.join();

	EXPECT_EQ(lock_violations, 0u) << "two writers inside the lock";
	for (int id = 0; id < READERS; id++) {
		const ReaderStats &s = rs[id];
		std::printf("reader %d: accepted %llu (%llu/%llu/%llu), stale %llu, "
			    "lost slots %llu, EBADMSG peek %llu copy %llu\n",
			    id, (unsigned long long)s.accepted,
			    (unsigned long long)s.per_writer[0],
			    (unsigned long long)s.per_writer[1],
			    (unsigned long long)s.per_writer[2],
			    (unsigned long long)s.stale, (unsigned long long)s.lost,
			    (unsigned long long)s.badmsg_peek,
			    (unsigned long long)s.badmsg_copy);
		EXPECT_EQ(s.corrupt, 0u) << "reader " << id << ": " << s.first_error;
		EXPECT_EQ(s.out_of_order, 0u) << "reader " << id << ": " << s.first_error;
		EXPECT_EQ(s.badmsg_copy, 0u) << "reader " << id;
		EXPECT_GT(s.accepted, 0u);
		EXPECT_LE(s.accepted, WRITERS * PER_WRITER);
		for (int wr = 0; wr < WRITERS; wr++)
			EXPECT_GT(s.per_writer[wr], 0u) << "writer " << wr + 1;
	}
}
