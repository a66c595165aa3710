// SPDX-License-Identifier: GPL-2.0
/*
 * Multicast rings: which groups get one, the filter hash, labels (claim,
 * takeover, release, a label being rewritten, a scribbled label), and where
 * a reader starts.
 */
#include "test_util.h"

#include <gtest/gtest.h>

#include <array>
#include <set>

using namespace shmnic_test;

namespace {

constexpr u32 MAX_NODES = 4;

using Mac = std::array<u8, 6>;

TEST(Mcast, ControlGroupsStayOnTheBroadcastRing)
{
	const struct {
		Mac mac;
		bool ring;
		const char *what;
	} cases[] = {
		{{0x01, 0x00, 0x5e, 0x01, 0x02, 0x03}, true, "239.1.2.3"},
		{{0x01, 0x00, 0x5e, 0x00, 0x01, 0x01}, true, "224.0.1.1"},
		{{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}, false, "224.0.0.1"},
		{{0x01, 0x00, 0x5e, 0x00, 0x00, 0x16}, false, "224.0.0.22 IGMPv3"},
		{{0x33, 0x33, 0x00, 0x01, 0x00, 0x03}, true, "ff05::1:3"},
		{{0x33, 0x33, 0x12, 0x34, 0x56, 0x78}, true, "ff0e::1234:5678"},
		{{0x33, 0x33, 0x00, 0x00, 0x00, 0x01}, false, "ff02::1"},
		{{0x33, 0x33, 0x00, 0x00, 0x00, 0x16}, false, "ff02::16 MLDv2"},
		{{0x33, 0x33, 0xff, 0x00, 0x00, 0x02}, false, "solicited-node"},
		{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, false, "broadcast"},
		{{0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e}, false, "LLDP"},
	};
	for (const auto &c : cases)
		EXPECT_EQ(!!shmnic_mc_uses_ring(c.mac.data()), c.ring) << c.what;
}

TEST(Mcast, FilterHashSpreadsGroups)
{
	std::set<u32> bits;
	for (u32 i = 0; i < 256; i++) {
		Mac m = {0x01, 0x00, 0x5e, 0x01, 0x02, (u8)i};
		u32 h = shmnic_mc_hash(m.data());
		ASSERT_LT(h, 64u);
		bits.insert(h);
	}
	/* 256 groups differing in one byte reach most of the 64 bits */
	EXPECT_GE(bits.size(), 48u);
}

class McastRing : public ::testing::Test {
protected:
	McastRing() : region(geometry(MAX_NODES, 256, 2048, 128, 1, 3))
	{
		for (u32 i = 0; i < 3; i++)
			shmnic_ring_init_bcast(&ring[i], region.mcast(i),
					       &region.l);
	}

	shmnic_label label(u32 i)
	{
		shmnic_label lab{};
		EXPECT_EQ(shmnic_mc_label_read(&ring[i], MAX_NODES, &lab), 0);
		return lab;
	}

	void send(u32 i, u32 me, u32 len)
	{
		auto f = frame(len, len);
		ASSERT_TRUE(shmnic_bc_trylock(&ring[i], me));
		shmnic_bc_write(&ring[i], me, f.data(), len, 0, nullptr);
		shmnic_bc_unlock(&ring[i], me);
	}

	Region region;
	shmnic_ring ring[3];
	const Mac g1 = {0x01, 0x00, 0x5e, 0x01, 0x02, 0x03};
	const Mac g2 = {0x33, 0x33, 0x00, 0x01, 0x00, 0x03};
};

TEST_F(McastRing, FormattedRingsAreFreeAndDistinct)
{
	for (u32 i = 0; i < 3; i++) {
		shmnic_label lab = label(i);
		EXPECT_FALSE(lab.claimed) << i;
		EXPECT_EQ(lab.gen, 0u);
		EXPECT_NE(region.mcast(i), region.bcast());
	}
	EXPECT_NE(region.mcast(0), region.mcast(1));
	/* the pair rings start after the last multicast ring */
	EXPECT_GE((u8 *)region.pair(0, 0),
		  (u8 *)region.mcast(2) + region.l.bcast_bytes);
}

TEST_F(McastRing, ClaimTakeoverRelease)
{
	send(0, 1, 100);
	send(0, 1, 100);
	u32 widx = ring[0].bc->widx;

	/* node 2 claims the ring for g1: it starts at the write index */
	ASSERT_TRUE(shmnic_bc_trylock(&ring[0], 2));
	u32 gen = shmnic_mc_label_write(&ring[0], 2, g1.data());
	shmnic_bc_unlock(&ring[0], 2);
	shmnic_label lab = label(0);
	EXPECT_EQ(lab.gen, gen);
	EXPECT_EQ(gen % 2, 0u);
	EXPECT_TRUE(lab.claimed);
	EXPECT_EQ(lab.owner, 2u);
	EXPECT_EQ(lab.start, widx);
	EXPECT_EQ(0, memcmp(lab.group, g1.data(), 6));

	/* node 3 takes it over for the same group: the start is kept */
	send(0, 2, 100);
	ASSERT_TRUE(shmnic_bc_trylock(&ring[0], 3));
	u32 gen2 = shmnic_mc_label_write(&ring[0], 3, g1.data());
	shmnic_bc_unlock(&ring[0], 3);
	lab = label(0);
	EXPECT_GT(gen2, gen);
	EXPECT_EQ(lab.owner, 3u);
	EXPECT_EQ(lab.start, widx);

	/* released, then given to another group: a new start */
	ASSERT_TRUE(shmnic_bc_trylock(&ring[0], 3));
	shmnic_mc_label_write(&ring[0], 3, nullptr);
	shmnic_bc_unlock(&ring[0], 3);
	EXPECT_FALSE(label(0).claimed);
	ASSERT_TRUE(shmnic_bc_trylock(&ring[0], 1));
	shmnic_mc_label_write(&ring[0], 1, g2.data());
	shmnic_bc_unlock(&ring[0], 1);
	lab = label(0);
	EXPECT_EQ(lab.owner, 1u);
	EXPECT_EQ(lab.start, ring[0].bc->widx);
	EXPECT_EQ(0, memcmp(lab.group, g2.data(), 6));
	/* the other rings never changed */
	EXPECT_FALSE(label(1).claimed);
	EXPECT_FALSE(label(2).claimed);
}

TEST_F(McastRing, LabelBeingRewrittenIsBusy)
{
	shmnic_label lab{};
	ring[1].bc->gen = 5; /* a writer in the middle, or died there */
	EXPECT_EQ(shmnic_mc_label_read(&ring[1], MAX_NODES, &lab), -EBUSY);
	/* the next write gets past it */
	ASSERT_TRUE(shmnic_bc_trylock(&ring[1], 0));
	EXPECT_EQ(shmnic_mc_label_write(&ring[1], 0, g1.data()), 6u);
	shmnic_bc_unlock(&ring[1], 0);
	EXPECT_TRUE(label(1).claimed);
}

TEST_F(McastRing, ScribbledOwnerReadsAsFree)
{
	for (u32 bad : {MAX_NODES + 1, 1000u, 0xffffffffu}) {
		ring[2].bc->owner = bad;
		shmnic_label lab = label(2);
		EXPECT_FALSE(lab.claimed) << bad;
		EXPECT_EQ(lab.owner, 0u);
	}
	ring[2].bc->owner = MAX_NODES; /* node MAX_NODES - 1 */
	EXPECT_TRUE(label(2).claimed);
	EXPECT_EQ(label(2).owner, MAX_NODES - 1);
}

TEST_F(McastRing, ReaderStartsAtTheClaimOnlyWhenFresh)
{
	ASSERT_TRUE(shmnic_bc_trylock(&ring[0], 1));
	shmnic_mc_label_write(&ring[0], 1, g1.data());
	shmnic_bc_unlock(&ring[0], 1);
	send(0, 1, 64);
	send(0, 1, 3000); /* two slots */
	shmnic_label lab = label(0);

	shmnic_ring r;
	shmnic_ring_init_bcast(&r, region.mcast(0), &region.l);
	shmnic_mc_reader_init(&r, &lab, 1);
	EXPECT_EQ(r.idx, lab.start);
	shmnic_frame f{};
	u64 lost = 0;
	ASSERT_EQ(shmnic_bc_peek(&r, MAX_NODES, &f, &lost), 0);
	EXPECT_EQ(f.total_len, 64u);
	EXPECT_EQ(f.src, 1u);

	shmnic_mc_reader_init(&r, &lab, 0);
	EXPECT_EQ(r.idx, ring[0].bc->widx);
	EXPECT_EQ(shmnic_bc_peek(&r, MAX_NODES, &f, &lost), -EAGAIN);

	/* a start more than a ring behind (or scribbled) is not used */
	for (u32 i = 0; i < 140; i++)
		send(0, 1, 64);
	shmnic_mc_reader_init(&r, &lab, 1);
	EXPECT_EQ(r.idx, ring[0].bc->widx);
	ring[0].bc->start = ring[0].bc->widx + 5;
	lab = label(0);
	shmnic_mc_reader_init(&r, &lab, 1);
	EXPECT_EQ(r.idx, ring[0].bc->widx);
	EXPECT_EQ(lost, 0u);
}

} // namespace
