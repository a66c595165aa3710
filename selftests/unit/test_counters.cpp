// SPDX-License-Identifier: GPL-2.0
/*
 * include/shmnic/counters.h: the counters each node publishes for the
 * management view. A part is read whole or not at all, one of another
 * epoch or never written is said to be, figures that cannot be true are
 * flagged, and whatever a hostile writer puts in a part is bounded.
 */
#include "test_util.h"

#include "rmb_hook.h"
#include <shmnic/counters.h>

#include <gtest/gtest.h>

#include <random>

using namespace shmnic_test;

namespace {

struct Part {
	Buffer mem = alloc_aligned(SHMNIC_CTRS_BYTES);
	Buffer out_mem = alloc_aligned(SHMNIC_CTRS_BYTES);
	Buffer src_mem = alloc_aligned(SHMNIC_CTRS_BYTES);
	shmnic_ctrs *p = reinterpret_cast<shmnic_ctrs *>(mem.get());
	shmnic_ctrs *out = reinterpret_cast<shmnic_ctrs *>(out_mem.get());
	shmnic_ctrs *src = reinterpret_cast<shmnic_ctrs *>(src_mem.get());

	Part()
	{
		std::memset(p, 0, SHMNIC_CTRS_BYTES);
		std::memset(src, 0, SHMNIC_CTRS_BYTES);
	}
	/* A plausible part of a node in @epoch with @peers peers. */
	void publish(u32 epoch, u64 packets, u32 peers = 4)
	{
		src->hdr.epoch = epoch;
		src->hdr.heartbeat = packets;
		src->hdr.time_ns = packets * 1000;
		src->hdr.nets = SHMNIC_MAX_NETS;
		src->hdr.peers = peers;
		src->hdr.gw_count = SHMNIC_CTRS_GW_MAX;
		for (auto &n : src->net) {
			n.rx_packets = n.tx_packets = packets;
			n.rx_bytes = n.tx_bytes = packets * 1500;
		}
		for (u32 i = 0; i < peers; i++)
			src->peer[0][i] = { packets, packets * 100, packets,
					    packets * 100 };
		src->gw[SHMNIC_CTRS_GW_RX] = packets;
		shmnic_ctrs_publish(p, src);
	}
	u32 read(u32 epoch, u32 max_nodes = 8, u32 tries = 3)
	{
		return shmnic_ctrs_read(p, out, epoch, max_nodes, tries);
	}
};

TEST(Counters, Abi)
{
	EXPECT_EQ(sizeof(shmnic_ctrs), (size_t)SHMNIC_CTRS_BYTES);
	EXPECT_EQ(sizeof(shmnic_ctrs_hdr), (size_t)SHMNIC_CACHELINE);
	EXPECT_EQ(offsetof(shmnic_ctrs, net), (size_t)SHMNIC_CACHELINE);
	/* the peers fill the second page exactly */
	EXPECT_EQ(offsetof(shmnic_ctrs, peer), (size_t)SHMNIC_PAGE);
	EXPECT_EQ(sizeof(shmnic_ctrs::peer), (size_t)SHMNIC_PAGE);
	EXPECT_EQ(offsetof(shmnic_ctrs_net, tx_stops), 72u);
}

TEST(Counters, PartsFollowTheListeners)
{
	shmnic_geometry g = { 8, 256, 2048, 256, 2, 4, 1024 };
	shmnic_layout l;
	ASSERT_EQ(shmnic_layout_compute(&g, ~0ull, &l), 0);
	u8 *base = reinterpret_cast<u8 *>(0x100000);
	for (u32 id = 0; id < g.max_nodes; id++) {
		u8 *at = reinterpret_cast<u8 *>(shmnic_ctrs_at(base, &l, id));
		EXPECT_EQ(at - base, (ptrdiff_t)(l.ctrs_off + id * 8192ull));
		EXPECT_LE((u64)(at - base) + SHMNIC_CTRS_BYTES, l.size);
	}
	EXPECT_EQ(l.ctrs_off % SHMNIC_PAGE, 0u);
}

TEST(Counters, ReadsWhatWasPublished)
{
	Part t;
	t.publish(7, 1000);
	EXPECT_EQ(t.read(7), 0u);
	EXPECT_EQ(t.out->hdr.epoch, 7u);
	EXPECT_EQ(t.out->net[1].tx_bytes, 1500000u);
	EXPECT_EQ(t.out->peer[0][3].rx_bytes, 100000u);
	EXPECT_EQ(t.out->gw[SHMNIC_CTRS_GW_RX], 1000u);
	EXPECT_EQ(t.p->hdr.seq, 2u);
	t.publish(7, 2000);
	EXPECT_EQ(t.p->hdr.seq, 4u);
	EXPECT_EQ(t.read(7), 0u);
	EXPECT_EQ(t.out->net[0].rx_packets, 2000u);
}

TEST(Counters, EmptyAndOtherEpoch)
{
	Part t;
	EXPECT_EQ(t.read(3), (u32)SHMNIC_CTRS_EMPTY);
	t.publish(3, 10);
	/* the node came back in epoch 4 and has not written yet: the old
	 * figures are kept, and said to be from another epoch */
	EXPECT_EQ(t.read(4), (u32)SHMNIC_CTRS_OTHER_EPOCH);
	EXPECT_EQ(t.out->net[0].rx_packets, 10u);
}

TEST(Counters, NeverSettledIsTorn)
{
	Part t;
	t.publish(1, 10);
	t.p->hdr.seq |= 1;
	EXPECT_EQ(t.read(1), (u32)SHMNIC_CTRS_TORN);
	/* nothing of it is handed out */
	EXPECT_EQ(t.out->net[0].rx_packets, 0u);
	EXPECT_EQ(t.out->hdr.epoch, 0u);
}

TEST(Counters, WriterBetweenCopyAndCheckIsRetried)
{
	static Part t;
	t.publish(1, 10);
	/* a writer lands between the copy and the second look: the first
	 * copy is thrown away and the second one has the new figures */
	g_rmb_hook = [] { t.publish(1, 20); };
	EXPECT_EQ(t.read(1), 0u);
	EXPECT_EQ(t.out->net[0].rx_packets, 20u);
	/* ...and with a single try it counts as torn */
	g_rmb_hook = [] { t.publish(1, 30); };
	EXPECT_EQ(t.read(1, 8, 1), (u32)SHMNIC_CTRS_TORN);
}

TEST(Counters, AbsurdFiguresAreFlagged)
{
	Part t;
	t.publish(1, 10);
	t.p->net[1].rx_bytes = 10ull * SHMNIC_MAX_FRAME + 1; /* too many */
	EXPECT_EQ(t.read(1), (u32)SHMNIC_CTRS_ABSURD);
	t.publish(1, 10);
	t.p->net[0].tx_packets = ~0ull;
	EXPECT_EQ(t.read(1), (u32)SHMNIC_CTRS_ABSURD);
	t.publish(1, 10);
	t.p->peer[0][2].tx_bytes = 5; /* bytes without packets */
	t.p->peer[0][2].tx_packets = 0;
	EXPECT_EQ(t.read(1), (u32)SHMNIC_CTRS_ABSURD);
	t.publish(1, 10);
	t.p->gw[SHMNIC_CTRS_GW_FORWARDED] = SHMNIC_CTRS_LIMIT;
	EXPECT_EQ(t.read(1), (u32)SHMNIC_CTRS_ABSURD);
	/* the largest true figures are not absurd */
	t.publish(1, 10);
	t.p->net[0].rx_bytes = 10ull * SHMNIC_MAX_FRAME;
	t.p->net[0].tx_packets = SHMNIC_CTRS_LIMIT - 1;
	EXPECT_EQ(t.read(1), 0u);
}

TEST(Counters, CountsAreClampedAndTheRestZeroed)
{
	Part t;
	t.publish(1, 10, 8);
	t.p->hdr.nets = 1000;
	t.p->hdr.peers = ~0u;
	t.p->hdr.gw_count = 99;
	/* a node claims 64 peers in a cluster of 4 */
	EXPECT_EQ(t.read(1, 4), 0u);
	EXPECT_EQ(t.out->hdr.nets, SHMNIC_MAX_NETS);
	EXPECT_EQ(t.out->hdr.peers, 4u);
	EXPECT_EQ(t.out->hdr.gw_count, SHMNIC_CTRS_GW_SLOTS);
	EXPECT_EQ(t.out->peer[0][3].tx_packets, 10u);
	EXPECT_EQ(t.out->peer[0][4].tx_packets, 0u);
	/* one network filled: the other one reads as zero */
	t.publish(1, 10, 8);
	t.p->hdr.nets = 1;
	t.p->net[1].rx_bytes = ~0ull;
	EXPECT_EQ(t.read(1), 0u);
	EXPECT_EQ(t.out->net[1].rx_bytes, 0u);
	EXPECT_EQ(t.out->net[0].rx_bytes, 15000u);
}

/* Whatever a hostile node writes: the reader returns, with its counts in
 * bounds, and a part it calls clean is sane throughout.
 */
TEST(Counters, RandomPartsAreBounded)
{
	std::mt19937_64 rng(20261203);
	Part t;
	for (int round = 0; round < 2000; round++) {
		u8 *raw = reinterpret_cast<u8 *>(t.p);
		for (u32 i = 0; i < SHMNIC_CTRS_BYTES; i += 8) {
			u64 v = rng();
			std::memcpy(raw + i, &v, 8);
		}
		t.p->hdr.seq &= ~1u;
		if (round & 1)
			t.p->hdr.epoch = 5;
		if (round & 2) {
			t.p->hdr.nets %= 4;
			t.p->hdr.peers %= 70;
			t.p->hdr.gw_count %= 20;
		}
		u32 f = t.read(5);
		EXPECT_LE(t.out->hdr.nets, SHMNIC_MAX_NETS);
		EXPECT_LE(t.out->hdr.peers, 8u);
		EXPECT_LE(t.out->hdr.gw_count, SHMNIC_CTRS_GW_SLOTS);
		if (f & SHMNIC_CTRS_ABSURD)
			continue;
		for (u32 n = 0; n < t.out->hdr.nets; n++) {
			EXPECT_TRUE(shmnic_ctrs_net_sane(&t.out->net[n]));
		}
	}
}

} // namespace
