/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A pair ring (node 0 -> node 1) inside a formatted region, with one
 * private view for the sender and one for the receiver.
 */
#ifndef SHMNIC_PAIR_FIXTURE_H
#define SHMNIC_PAIR_FIXTURE_H

#include "test_util.h"

#include <gtest/gtest.h>

namespace shmnic_test {

class PairRingTest : public ::testing::Test {
protected:
	static constexpr u32 TX_EPOCH = 7, RX_EPOCH = 9;

	explicit PairRingTest(shmnic_geometry g = geometry(2, 256, 2048, 128, 1))
		: region(g)
	{
		void *ring = region.pair(0, 1);
		shmnic_ring_init_pair(&tx, ring, &region.l);
		shmnic_ring_init_pair(&rx, ring, &region.l);
		shmnic_rx_setup(&rx, RX_EPOCH);
		shmnic_tx_connect(&tx, TX_EPOCH, RX_EPOCH, 0);
	}

	u32 slots() const { return region.l.g.ring_slots; }
	u32 buf() const { return region.l.g.buf_size; }
	u32 nslots(u32 len) const { return shmnic_frame_slots(len, buf()); }

	/* Descriptor @i of the frame at the receiver's cursor. */
	shmnic_desc *rdesc(u32 i = 0) { return shmnic_slot_desc(&rx, rx.idx + i); }

	int put(u32 len, u64 key, u16 flags = 0, const shmnic_meta *meta = nullptr)
	{
		auto f = frame(len, key);
		return shmnic_tx_put(&tx, f.data(), len, flags, meta);
	}

	/* Receive one frame and check it is frame @key of @len bytes. */
	::testing::AssertionResult recv(u32 len, u64 key,
					shmnic_frame *out = nullptr)
	{
		shmnic_frame f{};
		int rc = shmnic_rx_peek(&rx, &f);
		if (rc)
			return ::testing::AssertionFailure() << "peek: " << rc;
		if (f.total_len != len)
			return ::testing::AssertionFailure()
			       << "total_len " << f.total_len << " != " << len;
		if (f.nslots != nslots(len))
			return ::testing::AssertionFailure()
			       << "nslots " << f.nslots << " != " << nslots(len);
		Buffer dst = alloc_exact(f.total_len);
		rc = shmnic_rx_copy(&rx, &f, dst.get());
		if (rc)
			return ::testing::AssertionFailure() << "copy: " << rc;
		if (!check_frame(dst.get(), len, key))
			return ::testing::AssertionFailure()
			       << "content of frame " << key << " differs";
		shmnic_rx_consume(&rx, &f);
		if (out)
			*out = f;
		return ::testing::AssertionSuccess();
	}

	/* The ring carries frames correctly (after a reset, say). */
	void expect_ring_works(u64 key0 = 1000)
	{
		const u32 lens[] = {60, 1, 2048, 2049, 9000, SHMNIC_MAX_FRAME, 1500};
		for (int round = 0; round < 3; round++) {
			u64 k = key0 + round * 100;
			for (u32 len : lens)
				ASSERT_EQ(put(len, k++), 0) << len;
			k = key0 + round * 100;
			for (u32 len : lens)
				ASSERT_TRUE(recv(len, k++)) << len;
			shmnic_frame f{};
			ASSERT_EQ(shmnic_rx_peek(&rx, &f), -EAGAIN);
		}
	}

	Region region;
	shmnic_ring tx{}, rx{};
};

} // namespace shmnic_test

#endif /* SHMNIC_PAIR_FIXTURE_H */
