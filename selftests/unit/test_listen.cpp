// SPDX-License-Identifier: GPL-2.0
/*
 * include/shmnic/listen.h: the listeners each node publishes. Entries are
 * checked and matched, a page of another epoch or one that never settles
 * is refused, and whatever a hostile writer puts in a page is bounded.
 */
#include "test_util.h"

#include "rmb_hook.h"
#include <shmnic/listen.h>

#include <gtest/gtest.h>

#include <array>
#include <random>
#include <vector>

using namespace shmnic_test;

namespace {

constexpr u16 be16(u16 v)
{
	return (u16)((v >> 8) | (v << 8));
}

shmnic_listener entry(u8 family, u8 proto, u16 port,
		      std::initializer_list<u8> addr = {})
{
	shmnic_listener e{};
	e.family = family;
	e.proto = proto;
	e.port = be16(port);
	std::copy(addr.begin(), addr.end(), e.addr);
	return e;
}

const std::array<u8, 16> kGlobal4 = { 10, 99, 0, 1 };
const std::array<u8, 16> kOther4 = { 10, 99, 0, 2 };
const std::array<u8, 16> kGlobal6 = { 0xfd, 0, 0, 0x99, 0, 0, 0, 0,
				      0,    0, 0, 0,    0, 0, 0, 1 };

struct Page {
	Buffer mem = alloc_aligned(SHMNIC_LISTEN_BYTES);
	shmnic_listen_hdr *h = reinterpret_cast<shmnic_listen_hdr *>(mem.get());

	Page() { std::memset(h, 0, SHMNIC_LISTEN_BYTES); }
	void publish(u32 epoch, const std::vector<shmnic_listener> &v)
	{
		shmnic_listen_publish(h, epoch, v.data(), (u32)v.size(), 0);
	}
	int scan(u32 epoch, u8 family, u8 proto, u16 port,
		 const std::array<u8, 16> &addr, shmnic_listen_found *out)
	{
		return shmnic_listen_scan(h, epoch, family, proto, be16(port),
					  addr.data(), 3, out);
	}
};

TEST(Listen, Abi)
{
	EXPECT_EQ(sizeof(shmnic_listen_hdr), (size_t)SHMNIC_CACHELINE);
	EXPECT_EQ(sizeof(shmnic_listener), 24u);
	EXPECT_EQ(offsetof(shmnic_listener, port), 2u);
	EXPECT_EQ(offsetof(shmnic_listener, addr), 4u);
	EXPECT_EQ(SHMNIC_LISTEN_SLOTS, 168u);
	EXPECT_LE(SHMNIC_CACHELINE + SHMNIC_LISTEN_SLOTS * sizeof(shmnic_listener),
		  (size_t)SHMNIC_LISTEN_BYTES);
}

bool valid(shmnic_listener e)
{
	return shmnic_listener_valid(&e);
}

TEST(Listen, ValidEntries)
{
	EXPECT_TRUE(valid(entry(4, 6, 80)));
	EXPECT_TRUE(valid(entry(6, 17, 53, { 0xfd })));
	EXPECT_TRUE(valid(entry(4, 17, 1, { 10, 99, 0, 1 })));
	EXPECT_FALSE(valid(entry(0, 6, 80)));
	EXPECT_FALSE(valid(entry(5, 6, 80)));
	EXPECT_FALSE(valid(entry(4, 1, 80)));	/* ICMP */
	EXPECT_FALSE(valid(entry(4, 6, 0)));	/* port 0 */
	/* IPv4 with bytes past the fourth */
	EXPECT_FALSE(valid(entry(4, 6, 80,
						  { 10, 0, 0, 1, 0, 0, 0, 0, 0, 1 })));
	shmnic_listener e = entry(4, 6, 80);
	e.pad = 1;
	EXPECT_FALSE(shmnic_listener_valid(&e));
}

TEST(Listen, MatchesByFamilyProtoPortAndAddress)
{
	const shmnic_listener any4 = entry(4, 6, 80);
	const shmnic_listener one4 = entry(4, 6, 80, { 10, 99, 0, 1 });
	const u16 p80 = be16(80);

	EXPECT_TRUE(shmnic_listener_match(&any4, 4, 6, p80, kGlobal4.data()));
	EXPECT_TRUE(shmnic_listener_match(&any4, 4, 6, p80, kOther4.data()));
	EXPECT_TRUE(shmnic_listener_match(&one4, 4, 6, p80, kGlobal4.data()));
	EXPECT_FALSE(shmnic_listener_match(&one4, 4, 6, p80, kOther4.data()));
	EXPECT_FALSE(shmnic_listener_match(&any4, 6, 6, p80, kGlobal6.data()));
	EXPECT_FALSE(shmnic_listener_match(&any4, 4, 17, p80, kGlobal4.data()));
	EXPECT_FALSE(shmnic_listener_match(&any4, 4, 6, be16(81),
					   kGlobal4.data()));
}

TEST(Listen, ScanCountsMatchesAndBadEntries)
{
	Page p;
	p.publish(7, { entry(4, 6, 80), entry(6, 6, 80), entry(4, 17, 80),
		       entry(9, 6, 80), entry(4, 6, 0), entry(4, 6, 80, { 10, 99, 0, 1 }) });
	shmnic_listen_found s{};
	ASSERT_EQ(p.scan(7, 4, 6, 80, kGlobal4, &s), 0);
	EXPECT_EQ(s.matches, 2u);
	EXPECT_EQ(s.bad, 2u);
	ASSERT_EQ(p.scan(7, 4, 6, 80, kOther4, &s), 0);
	EXPECT_EQ(s.matches, 1u);
	ASSERT_EQ(p.scan(7, 6, 6, 80, kGlobal6, &s), 0);
	EXPECT_EQ(s.matches, 1u);
	ASSERT_EQ(p.scan(7, 4, 6, 443, kGlobal4, &s), 0);
	EXPECT_EQ(s.matches, 0u);
}

TEST(Listen, PageOfAnotherEpochIsStale)
{
	Page p;
	p.publish(7, { entry(4, 6, 80) });
	shmnic_listen_found s{};
	EXPECT_EQ(p.scan(8, 4, 6, 80, kGlobal4, &s), -ESTALE);
	/* the page a node clears at attach (epoch 0) matches no live node */
	p.publish(0, {});
	EXPECT_EQ(p.scan(7, 4, 6, 80, kGlobal4, &s), -ESTALE);
}

TEST(Listen, PageBeingWrittenIsRetriedThenRefused)
{
	Page p;
	p.publish(3, { entry(4, 6, 80) });
	/* odd sequence for good: never settles */
	p.h->seq |= 1;
	shmnic_listen_found s{};
	EXPECT_EQ(p.scan(3, 4, 6, 80, kGlobal4, &s), -EAGAIN);
	p.h->seq++;
	ASSERT_EQ(p.scan(3, 4, 6, 80, kGlobal4, &s), 0);
	EXPECT_EQ(s.matches, 1u);
}

TEST(Listen, WriterBetweenCopyAndCheckForcesARetry)
{
	static Page *page;
	Page p;
	page = &p;
	p.publish(3, { entry(4, 6, 80) });
	/* the writer replaces the listener while the reader copies */
	g_rmb_hook = [] { page->publish(3, { entry(4, 6, 81) }); };
	shmnic_listen_found s{};
	ASSERT_EQ(p.scan(3, 4, 6, 80, kGlobal4, &s), 0);
	/* the retry saw the new page */
	EXPECT_EQ(s.matches, 0u);
	ASSERT_EQ(p.scan(3, 4, 6, 81, kGlobal4, &s), 0);
	EXPECT_EQ(s.matches, 1u);
}

TEST(Listen, HostileCountIsBounded)
{
	Page p;
	std::vector<shmnic_listener> full(SHMNIC_LISTEN_SLOTS, entry(4, 6, 80));
	p.publish(1, full);
	p.h->count = ~0u;
	shmnic_listen_found s{};
	ASSERT_EQ(p.scan(1, 4, 6, 80, kGlobal4, &s), 0);
	EXPECT_EQ(s.matches, SHMNIC_LISTEN_SLOTS);
}

TEST(Listen, RandomPagesNeverMisbehave)
{
	std::mt19937 rng(14);
	Page p;
	u8 *bytes = reinterpret_cast<u8 *>(p.h);
	for (int round = 0; round < 2000; round++) {
		for (u32 i = 0; i < SHMNIC_LISTEN_BYTES; i++)
			bytes[i] = (u8)rng();
		/* keep some sequence words even, some counts small */
		if (round & 1)
			p.h->seq &= ~1u;
		if (round & 2)
			p.h->count %= SHMNIC_LISTEN_SLOTS + 2;
		shmnic_listen_found s{};
		int err = p.scan(p.h->epoch, 4, 6, 80, kGlobal4, &s);
		if (err)
			continue;
		EXPECT_LE(s.matches + s.bad, SHMNIC_LISTEN_SLOTS);
	}
}

} // namespace
