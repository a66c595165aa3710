// SPDX-License-Identifier: GPL-2.0
/*
 * Pair ring, single-threaded: the protocol step by step, then every kind of
 * corruption the receiver and the sender must reject, and recovery.
 */
#include "pair_fixture.h"

using namespace shmnic_test;

using PairRing = PairRingTest;
using PairRingCorrupt = PairRingTest;

/* --- protocol ------------------------------------------------------------- */

TEST_F(PairRing, EmptyRingPeeksEAGAIN)
{
	shmnic_frame f{};
	EXPECT_EQ(shmnic_rx_avail(&rx), 0);
	EXPECT_EQ(shmnic_rx_peek(&rx, &f), -EAGAIN);
	EXPECT_EQ(shmnic_tx_room(&tx), (int)slots());
	EXPECT_EQ(rx.rx->rx_epoch, RX_EPOCH);
	EXPECT_EQ(tx.tx->tx_epoch, TX_EPOCH);
	EXPECT_EQ(tx.tx->rx_epoch, RX_EPOCH);
}

TEST_F(PairRing, FramesOfEverySizeRoundTripWithMetaAndFlags)
{
	const u32 lens[] = {1,    12,   59,   60,   64,   1500, 2047, 2048,
			    2049, 4095, 4096, 4097, 9000, 9216, 65535,
			    SHMNIC_MAX_FRAME};
	u64 key = 1;
	for (u32 len : lens) {
		shmnic_meta m;
		m.flags = (u8)key;
		m.gso_type = 4;
		m.hdr_len = 54;
		m.gso_size = (u16)(1448 + key);
		m.csum_start = 34;
		m.csum_offset = 16;
		u16 flags = key % 2 ? SHMNIC_DESC_CTRL : 0;
		int room = shmnic_tx_room(&tx);
		ASSERT_EQ(put(len, key, flags, &m), 0) << len;
		EXPECT_EQ(shmnic_tx_room(&tx), room - (int)nslots(len));
		EXPECT_EQ(shmnic_rx_avail(&rx), (int)nslots(len));
		shmnic_frame f{};
		ASSERT_TRUE(recv(len, key, &f)) << len;
		EXPECT_EQ(f.flags, flags);
		EXPECT_EQ(std::memcmp(&f.meta, &m, sizeof(m)), 0);
		EXPECT_EQ(shmnic_tx_room(&tx), (int)slots());
		key++;
	}
}

TEST_F(PairRing, TxBufAndPublishPath)
{
	const u32 len = 5000; /* 3 slots */
	auto data = frame(len, 42);
	ASSERT_GE(shmnic_tx_room(&tx), 3);
	for (u32 i = 0, off = 0; i < 3; i++, off += buf())
		std::memcpy(shmnic_tx_buf(&tx, i), data.data() + off,
			    std::min(buf(), len - off));
	EXPECT_EQ(shmnic_rx_avail(&rx), 0); /* nothing visible yet */
	shmnic_tx_publish(&tx, len, 0, nullptr);
	EXPECT_EQ(shmnic_rx_avail(&rx), 3);
	EXPECT_TRUE(recv(len, 42));
}

TEST_F(PairRing, FullRingGivesENOSPCUntilConsumed)
{
	u32 n = 0;
	/* 1-slot frames fill the ring exactly */
	while (put(100, n) == 0)
		n++;
	EXPECT_EQ(n, slots());
	EXPECT_EQ(shmnic_tx_room(&tx), 0);
	EXPECT_EQ(put(100, 999), -ENOSPC);
	EXPECT_EQ(shmnic_rx_avail(&rx), (int)slots());
	ASSERT_TRUE(recv(100, 0));
	EXPECT_EQ(shmnic_tx_room(&tx), 1);
	EXPECT_EQ(put(3000, 999), -ENOSPC); /* needs 2 slots */
	EXPECT_EQ(put(100, n), 0);
	for (u32 k = 1; k <= n; k++)
		ASSERT_TRUE(recv(100, k));
	/* a max frame needs 33 free slots */
	for (u32 k = 0; k < slots() - 32; k++)
		ASSERT_EQ(put(60, k), 0);
	EXPECT_EQ(put(SHMNIC_MAX_FRAME, 1), -ENOSPC);
	ASSERT_TRUE(recv(60, 0));
	EXPECT_EQ(put(SHMNIC_MAX_FRAME, 1), 0);
}

TEST_F(PairRing, IndicesWrapAroundTheU32Range)
{
	/* Start both sides just below 2^32 and run well past it. */
	tx.tx->prod = 0xffffff00u;
	shmnic_rx_setup(&rx, RX_EPOCH);
	shmnic_tx_connect(&tx, TX_EPOCH, RX_EPOCH, 0xffffff00u);
	EXPECT_EQ(tx.idx, 0xffffff00u);
	XorShift rnd(3);
	for (u64 k = 0; k < 3000; k++) {
		u32 len = 1 + rnd.below(3 * 2048);
		ASSERT_EQ(put(len, k), 0);
		ASSERT_TRUE(recv(len, k)) << k;
	}
	EXPECT_LT(tx.idx, 0x10000u);
	EXPECT_EQ(tx.idx, rx.idx);
}

TEST_F(PairRing, ReconnectKeepsAConsistentProducerIndex)
{
	ASSERT_EQ(put(100, 1), 0);
	ASSERT_EQ(put(5000, 2), 0);
	u32 prod = tx.idx;
	/* sender restarts (new epoch), remembering its producer index */
	shmnic_ring tx2;
	shmnic_ring_init_pair(&tx2, region.pair(0, 1), &region.l);
	shmnic_tx_connect(&tx2, TX_EPOCH + 1, RX_EPOCH, prod);
	EXPECT_EQ(tx2.idx, prod);
	EXPECT_EQ(tx.tx->tx_epoch, TX_EPOCH + 1);
	/* the draining receiver is not confused */
	ASSERT_TRUE(recv(100, 1));
	ASSERT_TRUE(recv(5000, 2));
	/* an impossible remembered index falls back to the consumer's */
	shmnic_tx_connect(&tx2, TX_EPOCH + 2, RX_EPOCH, prod + slots() + 1);
	EXPECT_EQ(tx2.idx, rx.idx);
	shmnic_tx_connect(&tx2, TX_EPOCH + 3, RX_EPOCH, prod - 1);
	EXPECT_EQ(tx2.idx, rx.idx);
	tx = tx2;
	expect_ring_works();
}

TEST_F(PairRing, DoorbellRequestsAreAnsweredExactlyOnce)
{
	/* After connect the receiver's current request counts as unanswered. */
	ASSERT_EQ(put(60, 1), 0);
	smp_mb();
	EXPECT_TRUE(shmnic_tx_kick_needed(&tx));
	EXPECT_FALSE(shmnic_tx_kick_needed(&tx));
	ASSERT_TRUE(recv(60, 1));

	/* Receiver idle: arm. The next publish kicks, once. */
	shmnic_rx_arm(&rx);
	EXPECT_EQ(rx.rx->kick_req, 1u);
	ASSERT_EQ(put(60, 2), 0);
	EXPECT_TRUE(shmnic_tx_kick_needed(&tx));
	EXPECT_EQ(tx.tx->kick_ack, 1u);
	ASSERT_EQ(put(60, 3), 0);
	EXPECT_FALSE(shmnic_tx_kick_needed(&tx)) << "no request outstanding";
	ASSERT_TRUE(recv(60, 2));
	ASSERT_TRUE(recv(60, 3));

	/* Arming twice before the sender answered makes one request. */
	shmnic_rx_arm(&rx);
	shmnic_rx_arm(&rx);
	EXPECT_EQ(rx.rx->kick_req, 2u);
	ASSERT_EQ(put(60, 4), 0);
	EXPECT_TRUE(shmnic_tx_kick_needed(&tx));
	EXPECT_FALSE(shmnic_tx_kick_needed(&tx));
	ASSERT_TRUE(recv(60, 4));

	/* No arm: no kicks at all. */
	for (u64 k = 5; k < 50; k++) {
		ASSERT_EQ(put(60, k), 0);
		EXPECT_FALSE(shmnic_tx_kick_needed(&tx));
		ASSERT_TRUE(recv(60, k));
	}
}

TEST_F(PairRing, ReceiverRestartStillGetsAKick)
{
	/* A few answered requests; then the receiver sets up again. */
	for (u64 k = 10; k < 13; k++) {
		shmnic_rx_arm(&rx);
		ASSERT_EQ(put(60, k), 0);
		EXPECT_TRUE(shmnic_tx_kick_needed(&tx));
		EXPECT_FALSE(shmnic_tx_kick_needed(&tx));
		ASSERT_TRUE(recv(60, k));
	}
	shmnic_rx_arm(&rx);
	ASSERT_EQ(put(60, 1), 0);
	EXPECT_TRUE(shmnic_tx_kick_needed(&tx));
	shmnic_rx_setup(&rx, RX_EPOCH + 1); /* drops frame 1 */
	EXPECT_EQ(shmnic_rx_avail(&rx), 0);
	shmnic_rx_arm(&rx);
	ASSERT_EQ(put(60, 2), 0);
	EXPECT_TRUE(shmnic_tx_kick_needed(&tx))
		<< "a receiver that set the ring up again must not be left asleep";
	ASSERT_TRUE(recv(60, 2));
}

TEST_F(PairRing, SpaceRequestsAreAnsweredExactlyOnce)
{
	EXPECT_FALSE(shmnic_rx_space_wanted(&rx));
	for (u64 k = 0; k < slots(); k++)
		ASSERT_EQ(put(100, k), 0);
	ASSERT_EQ(put(100, 999), -ENOSPC);
	shmnic_tx_want_space(&tx);
	ASSERT_TRUE(recv(100, 0));
	EXPECT_TRUE(shmnic_rx_space_wanted(&rx));
	ASSERT_TRUE(recv(100, 1));
	EXPECT_FALSE(shmnic_rx_space_wanted(&rx));
	shmnic_tx_want_space(&tx);
	shmnic_tx_want_space(&tx);
	ASSERT_TRUE(recv(100, 2));
	EXPECT_TRUE(shmnic_rx_space_wanted(&rx));
	EXPECT_FALSE(shmnic_rx_space_wanted(&rx));
}

TEST_F(PairRing, SpaceRequestAfterReconnectIsAnswered)
{
	/* The receiver answered one request... */
	for (u64 k = 0; k < slots(); k++)
		ASSERT_EQ(put(100, k), 0);
	shmnic_tx_want_space(&tx);
	ASSERT_TRUE(recv(100, 0));
	ASSERT_TRUE(shmnic_rx_space_wanted(&rx));
	/* ...then the sender reconnects (a new epoch of its own) to the same
	 * receiver, which keeps its answer. The first request after that must
	 * still reach it: a sender starting again from 0 would ask with the
	 * very value already answered, and wait for a doorbell never rung.
	 */
	shmnic_tx_connect(&tx, TX_EPOCH + 1, RX_EPOCH, tx.idx);
	EXPECT_FALSE(shmnic_rx_space_wanted(&rx)) << "a reconnect is no request";
	ASSERT_EQ(put(100, 999), 0);
	ASSERT_EQ(put(100, 999), -ENOSPC);
	shmnic_tx_want_space(&tx);
	ASSERT_TRUE(recv(100, 1));
	EXPECT_TRUE(shmnic_rx_space_wanted(&rx));
}

TEST_F(PairRing, CopyHonoursPerSlotOffsets)
{
	/* A sender may place data anywhere in a slot. */
	const u32 len = 5000;
	auto data = frame(len, 77);
	ASSERT_EQ(put(len, 0), 0); /* any 3-slot frame, then rewrite it */
	const u32 off[3] = {0, 64, 1000}, chunk[3] = {2048, 1984, 968};
	for (u32 i = 0, pos = 0; i < 3; pos += chunk[i], i++) {
		shmnic_desc *d = rdesc(i);
		d->off = (u16)off[i];
		d->len = chunk[i];
		std::memcpy(shmnic_slot_buf(&rx, rx.idx + i) + off[i],
			    data.data() + pos, chunk[i]);
	}
	ASSERT_TRUE(recv(len, 77));
	/* zero-length trailing slots are fine when nslots is generous */
	ASSERT_EQ(put(len, 0), 0);
	ASSERT_EQ(put(60, 1), 0);
	rdesc(0)->nslots = 4;
	rdesc(2)->flags |= SHMNIC_DESC_MORE;
	rdesc(3)->len = 0;
	rdesc(3)->flags = 0;
	shmnic_frame f{};
	ASSERT_EQ(shmnic_rx_peek(&rx, &f), 0);
	EXPECT_EQ(f.nslots, 4);
	Buffer dst = alloc_exact(len);
	ASSERT_EQ(shmnic_rx_copy(&rx, &f, dst.get()), 0);
	EXPECT_TRUE(check_frame(dst.get(), len, 0));
}

TEST_F(PairRing, FrameChunkWalkPointsIntoSlotBuffers)
{
	const u32 len = 2 * 2048 + 500;
	ASSERT_EQ(put(len, 5), 0);
	shmnic_frame f{};
	ASSERT_EQ(shmnic_rx_peek(&rx, &f), 0);
	std::vector<u8> out;
	u32 copied = 0;
	for (u32 i = 0; i < f.nslots; i++) {
		const u8 *data = nullptr;
		u32 n = 0;
		ASSERT_EQ(shmnic_frame_chunk(&rx, rx.idx, &f, i, copied, &data, &n), 0);
		EXPECT_EQ(data, shmnic_slot_buf(&rx, rx.idx + i));
		EXPECT_EQ(n, i < 2 ? 2048u : 500u);
		out.insert(out.end(), data, data + n);
		copied += n;
	}
	EXPECT_EQ(copied, len);
	EXPECT_TRUE(check_frame(out.data(), len, 5));
	/* a chunk past the end of the frame's bytes is refused */
	rdesc(2)->len = 501;
	const u8 *data = nullptr;
	u32 n = 0;
	EXPECT_EQ(shmnic_frame_chunk(&rx, rx.idx, &f, 2, 4096, &data, &n), -EBADMSG);
	shmnic_rx_consume(&rx, &f);
}

/* --- corruption ------------------------------------------------------------ */

TEST_F(PairRingCorrupt, ProducerBeyondConsumerPlusSlotsIsEPROTO)
{
	ASSERT_EQ(put(100, 1), 0);
	ASSERT_EQ(put(5000, 2), 0);
	shmnic_frame f{};
	const u32 good = tx.tx->prod;
	const u32 bad[] = {rx.idx + slots() + 1, rx.idx - 1, rx.idx + 0x80000000u,
			   ~0u};
	for (u32 p : bad) {
		tx.tx->prod = p;
		EXPECT_EQ(shmnic_rx_avail(&rx), -EPROTO) << p;
		EXPECT_EQ(shmnic_rx_peek(&rx, &f), -EPROTO) << p;
	}
	/* exactly one ring's worth is not corrupt */
	tx.tx->prod = rx.idx + slots();
	EXPECT_EQ(shmnic_rx_avail(&rx), (int)slots());
	tx.tx->prod = good;
	ASSERT_TRUE(recv(100, 1));
}

TEST_F(PairRingCorrupt, ResetAfterCorruptProducerThenSenderReconnects)
{
	ASSERT_EQ(put(100, 1), 0);
	tx.tx->prod = rx.idx + slots() + 5;
	shmnic_frame f{};
	ASSERT_EQ(shmnic_rx_peek(&rx, &f), -EPROTO);
	shmnic_rx_reset(&rx);
	/* the receiver now holds the bogus index; the sender notices */
	EXPECT_EQ(shmnic_tx_room(&tx), -EPIPE);
	EXPECT_EQ(put(100, 2), -EPIPE);
	shmnic_tx_connect(&tx, TX_EPOCH, RX_EPOCH, tx.idx);
	EXPECT_EQ(tx.idx, rx.idx);
	expect_ring_works();
}

TEST_F(PairRingCorrupt, ResetAfterTransientCorruptProducer)
{
	ASSERT_EQ(put(100, 1), 0);
	const u32 good = tx.tx->prod;
	tx.tx->prod = good - 7; /* behind the consumer */
	shmnic_frame f{};
	ASSERT_EQ(shmnic_rx_peek(&rx, &f), -EPROTO);
	tx.tx->prod = good; /* the sender's next publish rewrites it */
	shmnic_rx_reset(&rx);
	EXPECT_EQ(shmnic_rx_peek(&rx, &f), -EAGAIN);
	EXPECT_EQ(shmnic_tx_room(&tx), (int)slots());
	expect_ring_works();
}

TEST_F(PairRingCorrupt, ImpossibleConsumerIndexIsEPIPE)
{
	ASSERT_EQ(put(100, 1), 0);
	ASSERT_EQ(put(100, 2), 0);
	const u32 bad[] = {tx.idx - slots() - 1, tx.idx + 1, tx.idx + 0x80000000u};
	for (u32 c : bad) {
		rx.rx->cons = c;
		EXPECT_EQ(shmnic_tx_room(&tx), -EPIPE) << c;
		EXPECT_EQ(put(100, 3), -EPIPE) << c;
	}
	rx.rx->cons = tx.idx - slots(); /* full, but possible */
	EXPECT_EQ(shmnic_tx_room(&tx), 0);
	EXPECT_EQ(put(100, 3), -ENOSPC);
	/* the receiver's reset rewrites its index: the ring works again */
	shmnic_rx_reset(&rx);
	EXPECT_EQ(shmnic_tx_room(&tx), (int)slots());
	expect_ring_works();
}

namespace {
struct DescCorruption {
	const char *name;
	u32 len;			  /* frame put before corrupting */
	void (*corrupt)(shmnic_desc *d0); /* first descriptor */
};
} // namespace

TEST_F(PairRingCorrupt, BadFirstDescriptorIsEBADMSG)
{
	const DescCorruption cases[] = {
		{"total_len 0", 100, [](shmnic_desc *d) { d->total_len = 0; }},
		{"total_len > MAX_FRAME", SHMNIC_MAX_FRAME,
		 [](shmnic_desc *d) { d->total_len = SHMNIC_MAX_FRAME + 1; }},
		{"total_len huge", SHMNIC_MAX_FRAME,
		 [](shmnic_desc *d) { d->total_len = 0xffffffffu; }},
		{"nslots 0", 100, [](shmnic_desc *d) { d->nslots = 0; }},
		{"nslots > avail", 100,
		 [](shmnic_desc *d) {
			 d->nslots = 3; /* 2 slots published */
			 d->flags |= SHMNIC_DESC_MORE;
		 }},
		{"nslots > avail (max frame)", SHMNIC_MAX_FRAME,
		 [](shmnic_desc *d) { d->nslots = 35; /* 34 published */ }},
		{"nslots > MAX_CHAIN", 100,
		 [](shmnic_desc *d) {
			 d->nslots = 0xffff;
			 d->flags |= SHMNIC_DESC_MORE;
		 }},
		{"nslots too small for total_len", 5000,
		 [](shmnic_desc *d) { d->nslots = 2; }},
		{"nslots 1 for 2 slots of data", 3000,
		 [](shmnic_desc *d) {
			 d->nslots = 1;
			 d->flags &= ~SHMNIC_DESC_MORE;
		 }},
		{"total_len grown past nslots", 2048,
		 [](shmnic_desc *d) { d->total_len = 2049; }},
		{"unknown flag 0x4", 100, [](shmnic_desc *d) { d->flags |= 0x4; }},
		{"unknown flag 0x8000", 100,
		 [](shmnic_desc *d) { d->flags |= 0x8000; }},
		{"MORE on a 1-slot frame", 100,
		 [](shmnic_desc *d) { d->flags |= SHMNIC_DESC_MORE; }},
		{"no MORE on a 3-slot frame", 5000,
		 [](shmnic_desc *d) { d->flags &= ~SHMNIC_DESC_MORE; }},
	};
	u64 key = 1;
	for (const auto &c : cases) {
		SCOPED_TRACE(c.name);
		ASSERT_EQ(put(c.len, key), 0);
		ASSERT_EQ(put(60, key + 1), 0); /* another frame behind it */
		c.corrupt(rdesc(0));
		shmnic_frame f{};
		EXPECT_EQ(shmnic_rx_peek(&rx, &f), -EBADMSG);
		shmnic_rx_reset(&rx);
		EXPECT_EQ(shmnic_rx_peek(&rx, &f), -EAGAIN);
		expect_ring_works(key * 1000);
		key += 2;
	}
}

namespace {
struct ChainCorruption {
	const char *name;
	void (*corrupt)(shmnic_desc *d[3], u32 buf_size);
};
} // namespace

TEST_F(PairRingCorrupt, BadChainedDescriptorIsEBADMSGOnCopy)
{
	/* a 5000-byte frame: 2048 + 2048 + 904 */
	const ChainCorruption cases[] = {
		{"slot 1 len > buf_size", [](shmnic_desc *d[3], u32 b) { d[1]->len = b + 1; }},
		{"slot 1 len huge", [](shmnic_desc *d[3], u32) { d[1]->len = 0xffffffffu; }},
		{"slot 0 len > buf_size", [](shmnic_desc *d[3], u32 b) { d[0]->len = b + 64; }},
		{"slot 2 off+len past the buffer",
		 [](shmnic_desc *d[3], u32 b) { d[2]->off = (u16)(b - 100); }},
		{"slot 2 off past the buffer",
		 [](shmnic_desc *d[3], u32 b) { d[2]->off = (u16)(b + 1); }},
		{"slot 2 off 0xffff", [](shmnic_desc *d[3], u32) { d[2]->off = 0xffff; }},
		{"slot 0 off+len past the buffer", [](shmnic_desc *d[3], u32) { d[0]->off = 1; }},
		{"sum of lens < total_len", [](shmnic_desc *d[3], u32) { d[2]->len = 900; }},
		{"sum of lens > total_len", [](shmnic_desc *d[3], u32) { d[2]->len = 905; }},
		{"slot 1 len 0", [](shmnic_desc *d[3], u32) { d[1]->len = 0; }},
		{"MORE missing in the middle",
		 [](shmnic_desc *d[3], u32) { d[1]->flags &= ~SHMNIC_DESC_MORE; }},
		{"MORE on the last slot",
		 [](shmnic_desc *d[3], u32) { d[2]->flags |= SHMNIC_DESC_MORE; }},
	};
	u64 key = 1;
	for (const auto &c : cases) {
		SCOPED_TRACE(c.name);
		ASSERT_EQ(put(5000, key), 0);
		shmnic_frame f{};
		ASSERT_EQ(shmnic_rx_peek(&rx, &f), 0);
		shmnic_desc *d[3] = {rdesc(0), rdesc(1), rdesc(2)};
		c.corrupt(d, buf());
		/* destination exactly total_len bytes: ASan sees an overrun */
		Buffer dst = alloc_exact(f.total_len);
		EXPECT_EQ(shmnic_rx_copy(&rx, &f, dst.get()), -EBADMSG);
		shmnic_rx_reset(&rx);
		expect_ring_works(key * 1000);
		key++;
	}
}
