// SPDX-License-Identifier: GPL-2.0
/*
 * Pair ring stress: a sender and a receiver thread, each with its own
 * struct shmnic_ring view, push a million self-describing frames of random
 * sizes through one ring and check every byte, with both doorbells (data
 * for the receiver, space for the sender) driven by the ring protocol, and
 * prove that no wakeup is ever lost.
 */
#include "test_util.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

using namespace shmnic_test;

namespace {

/* Size of frame @k: mostly 60 B .. 9 KiB, 1% up to SHMNIC_MAX_FRAME, a few
 * runts. */
u32 frame_len(u64 k)
{
	u64 r = splitmix64(k ^ 0x5eedull);
	u64 pick = r % 1000, v = r >> 16;

	if (pick < 10) /* 1%: big, an eighth of them exactly the maximum */
		return v % 8 ? 9217 + (u32)(v % (SHMNIC_MAX_FRAME - 9217 + 1))
			     : SHMNIC_MAX_FRAME;
	if (pick < 15) /* 0.5%: runts */
		return 1 + (u32)(v % 59);
	return 60 + (u32)(v % (9216 - 60 + 1));
}

u64 env_u64(const char *name, u64 dflt)
{
	const char *s = std::getenv(name);
	return s && *s ? std::strtoull(s, nullptr, 0) : dflt;
}

struct Shared {
	Doorbell rx_bell;		/* rung by the sender (data) */
	Doorbell tx_bell;		/* rung by the receiver (space) */
	/* producer index after the sender's latest completed kick check */
	std::atomic<u32> kick_checked{0};
	/* consumer index after the receiver's latest completed space check */
	std::atomic<u32> space_checked{0};
	std::atomic<bool> stop{false};
	std::mutex err_lock;
	std::string error;

	void fail(const std::string &e)
	{
		std::lock_guard<std::mutex> g(err_lock);
		if (error.empty())
			error = e;
		stop = true;
	}
};

struct Stats {
	u64 frames = 0, bytes = 0, spins_out = 0, sleeps = 0, requests = 0,
	    kicks = 0, lost_wakeups = 0, slow_wakeups = 0;
};

constexpr int SPIN = 256;	  /* polls before arming the doorbell */
constexpr long WAIT_MS = 20;	  /* doorbell wait slice */
constexpr int DEADLINE_S = 120;	  /* give up (a hang) */
constexpr u64 MAX_LOST = 10;	  /* stop early once clearly broken */

} // namespace

TEST(PairRingStress, MillionRandomFramesInOrderWithDoorbellsNoLostWakeups)
{
	const u64 N = env_u64("SHMNIC_STRESS_FRAMES", 1000000);
	Region region(geometry(2, 256, 2048, 128, 1));
	shmnic_ring tx, rx;
	void *ring = region.pair(0, 1);
	shmnic_ring_init_pair(&tx, ring, &region.l);
	shmnic_ring_init_pair(&rx, ring, &region.l);
	shmnic_rx_setup(&rx, 1);
	shmnic_tx_connect(&tx, 2, 1, 0);
	ASSERT_EQ(shmnic_frame_slots(SHMNIC_MAX_FRAME, tx.buf_size), 33u);

	Shared sh;
	Stats ts, rs;
	const auto t0 = std::chrono::steady_clock::now();
	auto expired = [&] {
		return std::chrono::steady_clock::now() - t0 >
		       std::chrono::seconds(DEADLINE_S);
	};

	std::thread sender([&] {
		std::vector<u8> data(SHMNIC_MAX_FRAME);
		for (u64 k = 0; k < N && !sh.stop; k++) {
			const u32 len = frame_len(k);
			const u32 n = shmnic_frame_slots(len, tx.buf_size);
			make_frame(data.data(), len, k);
			int spins = 0;
			for (;;) {
				int room = shmnic_tx_room(&tx);
				if (room < 0)
					return sh.fail("tx_room " + std::to_string(room));
				if ((u32)room >= n)
					break;
				if (sh.stop)
					return;
				if (++spins < SPIN) {
					cpu_relax();
					continue;
				}
				spins = 0;
				/* ask for a space doorbell, then look again */
				u32 seen = sh.tx_bell.snapshot();
				shmnic_tx_want_space(&tx);
				ts.requests++;
				smp_mb();
				room = shmnic_tx_room(&tx);
				if (room < 0 || (u32)room >= n)
					continue;
				const u32 cons_seen = tx.idx - tx.slots + (u32)room;
				ts.sleeps++;
				while (!sh.tx_bell.wait(seen, WAIT_MS)) {
					/* Did the receiver free slots we did not
					 * see, check for our request afterwards
					 * and still not ring? That is a lost
					 * wakeup. */
					u32 c = sh.space_checked.load(std::memory_order_acquire);
					if ((int32_t)(c - cons_seen) > 0 &&
					    sh.tx_bell.snapshot() == seen) {
						if (++ts.lost_wakeups >= MAX_LOST)
							return sh.fail("lost space wakeups");
						break;
					}
					ts.slow_wakeups++;
					if (sh.stop || expired())
						return sh.fail("sender stuck waiting for space");
				}
			}
			if (k % 2) {
				int rc = shmnic_tx_put(&tx, data.data(), len, 0, nullptr);
				if (rc)
					return sh.fail("tx_put " + std::to_string(rc));
			} else {
				for (u32 i = 0, off = 0; i < n; i++, off += tx.buf_size)
					std::memcpy(shmnic_tx_buf(&tx, i), data.data() + off,
						    std::min(tx.buf_size, len - off));
				shmnic_tx_publish(&tx, len, 0, nullptr);
			}
			ts.frames++;
			ts.bytes += len;
			smp_mb();
			if (shmnic_tx_kick_needed(&tx)) {
				ts.kicks++;
				sh.rx_bell.ring();
			}
			sh.kick_checked.store(tx.idx, std::memory_order_release);
			/* now and then go quiet so the receiver sleeps */
			if (splitmix64(k) % 2048 == 0)
				std::this_thread::sleep_for(std::chrono::microseconds(50));
		}
	});

	std::thread receiver([&] {
		std::vector<u8> dst(SHMNIC_MAX_FRAME);
		u64 k = 0;
		int spins = 0;
		while (k < N && !sh.stop) {
			shmnic_frame f{};
			int rc = shmnic_rx_peek(&rx, &f);
			if (rc == 0) {
				const u32 len = frame_len(k);
				if (f.total_len != len || f.flags)
					return sh.fail("frame " + std::to_string(k) +
						       ": total_len " +
						       std::to_string(f.total_len) +
						       " expected " + std::to_string(len));
				rc = shmnic_rx_copy(&rx, &f, dst.data());
				if (rc)
					return sh.fail("rx_copy " + std::to_string(rc));
				if (!check_frame(dst.data(), len, k))
					return sh.fail("frame " + std::to_string(k) +
						       " content differs");
				shmnic_rx_consume(&rx, &f);
				rs.frames++;
				rs.bytes += len;
				k++;
				spins = 0;
				smp_mb();
				if (shmnic_rx_space_wanted(&rx)) {
					rs.kicks++;
					sh.tx_bell.ring();
				}
				sh.space_checked.store(rx.idx, std::memory_order_release);
				continue;
			}
			if (rc != -EAGAIN)
				return sh.fail("rx_peek " + std::to_string(rc));
			if (++spins < SPIN) {
				cpu_relax();
				continue;
			}
			spins = 0;
			/* idle: arm, then re-check before sleeping */
			u32 seen = sh.rx_bell.snapshot();
			u32 before = rx.kick;
			shmnic_rx_arm(&rx);
			if (rx.kick != before)
				rs.requests++;
			smp_mb();
			int avail = shmnic_rx_avail(&rx);
			if (avail < 0)
				return sh.fail("rx_avail " + std::to_string(avail));
			if (avail)
				continue;
			const u32 idx_seen = rx.idx;
			rs.sleeps++;
			while (!sh.rx_bell.wait(seen, WAIT_MS)) {
				/* Did the sender publish past what we saw,
				 * check for our request afterwards, and not
				 * ring? That is a lost wakeup. */
				u32 p = sh.kick_checked.load(std::memory_order_acquire);
				if ((int32_t)(p - idx_seen) > 0 &&
				    sh.rx_bell.snapshot() == seen) {
					if (++rs.lost_wakeups >= MAX_LOST)
						return sh.fail("lost data wakeups");
					break;
				}
				rs.slow_wakeups++;
				if (sh.stop || expired())
					return sh.fail("receiver stuck waiting for data");
			}
		}
	});

	sender.join();
	receiver.join();
	const double secs =
		std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
			.count();

	std::printf("%llu frames, %.2f GB in %.2f s; receiver: %llu sleeps, "
		    "%llu doorbell requests, %llu data kicks by the sender; "
		    "sender: %llu sleeps, %llu space requests, %llu space kicks\n",
		    (unsigned long long)rs.frames, rs.bytes / 1e9, secs,
		    (unsigned long long)rs.sleeps, (unsigned long long)rs.requests,
		    (unsigned long long)ts.kicks, (unsigned long long)ts.sleeps,
		    (unsigned long long)ts.requests, (unsigned long long)rs.kicks);

	ASSERT_EQ(sh.error, "");
	EXPECT_EQ(ts.frames, N);
	EXPECT_EQ(rs.frames, N);
	EXPECT_EQ(rs.bytes, ts.bytes);
	EXPECT_EQ(rx.idx, tx.idx);
	EXPECT_EQ(rs.lost_wakeups, 0u) << "receiver left asleep with data";
	EXPECT_EQ(ts.lost_wakeups, 0u) << "sender left asleep with room";
	/* the doorbell protocol was exercised, and suppresses kicks: at most
	 * one per request (+1 for the one owed after connect) */
	EXPECT_GT(rs.sleeps, 0u);
	EXPECT_GT(ts.kicks, 0u);
	EXPECT_LE(ts.kicks, rs.requests + 1);
	EXPECT_LE(rs.kicks, ts.requests);
	EXPECT_LT(ts.kicks, N / 4) << "doorbells are not being suppressed";
}
