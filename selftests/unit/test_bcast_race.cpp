// SPDX-License-Identifier: GPL-2.0
/*
 * Broadcast ring: a race made deterministic (x86-64 Linux only).
 */
#include "test_util.h"

#include <gtest/gtest.h>

#if defined(__x86_64__) && defined(__linux__)
#include <csignal>
#include <string>
#include <sys/mman.h>
#include <ucontext.h>

using namespace shmnic_test;

namespace {

constexpr u32 MAX_NODES = 4;

/*
 * A writer laps the reader between bc_peek()'s check of the slot's sequence
 * number and its snapshot of the descriptor (a reader preempted there, e.g.
 * a vCPU descheduled). The slot is being rewritten: that is -ESTALE with the
 * slots counted in @lost, like every other lap, not -EBADMSG (corruption).
 *
 * To stop the reader exactly there, the descriptor's page is made
 * inaccessible: the sequence load faults, the SIGSEGV handler makes the page
 * accessible again and sets the trap flag, so the load runs and is followed
 * by a single-step SIGTRAP, whose handler plays the lapping writer.
 */
struct LapAfterSeqCheck {
	u8 *page = nullptr;
	shmnic_ring *writer = nullptr;
	u32 len = 0;
	int segvs = 0, traps = 0;
} g_lap;

constexpr greg_t X86_TF = 0x100;

void lap_on_segv(int, siginfo_t *si, void *uc)
{
	auto *ctx = static_cast<ucontext_t *>(uc);
	u8 *a = static_cast<u8 *>(si->si_addr);
	if (!g_lap.page || a < g_lap.page || a >= g_lap.page + SHMNIC_PAGE ||
	    g_lap.segvs++) {
		signal(SIGSEGV, SIG_DFL); /* a real crash: let it happen */
		return;
	}
	mprotect(g_lap.page, SHMNIC_PAGE, PROT_READ | PROT_WRITE);
	ctx->uc_mcontext.gregs[REG_EFL] |= X86_TF;
}

void lap_on_trap(int, siginfo_t *, void *uc)
{
	auto *ctx = static_cast<ucontext_t *>(uc);
	ctx->uc_mcontext.gregs[REG_EFL] &= ~X86_TF;
	if (g_lap.traps++)
		return;
	/* the lapping writer */
	static u8 data[16384];
	shmnic_bc_trylock(g_lap.writer, 3);
	shmnic_bc_write(g_lap.writer, 3, data, g_lap.len, 0, nullptr);
	shmnic_bc_unlock(g_lap.writer, 3);
}

/* bc_peek() at a reader exactly @behind slots behind; the writer writes a
 * frame of @len bytes right after the sequence check. */
int peek_lapped_after_seq_check(u32 behind, u32 len, shmnic_frame *f, u64 *lost,
				int *stopped)
{
	Region region(geometry(MAX_NODES, 256, 2048, 256, 1));
	shmnic_ring w, r;
	shmnic_ring_init_bcast(&w, region.bcast(), &region.l);
	shmnic_ring_init_bcast(&r, region.bcast(), &region.l);
	const u32 at = 130; /* its descriptor is alone on the ring's 2nd page */
	u8 *desc_page = reinterpret_cast<u8 *>(region.bcast()) + SHMNIC_PAGE;
	u8 *d = reinterpret_cast<u8 *>(shmnic_slot_desc(&r, at));
	if (d < desc_page || d >= desc_page + SHMNIC_PAGE)
		return -1000;
	static u8 buf[100];
	auto put = [&] {
		shmnic_bc_trylock(&w, 1);
		shmnic_bc_write(&w, 1, buf, sizeof(buf), 0, nullptr);
		shmnic_bc_unlock(&w, 1);
	};
	for (u32 i = 0; i < at; i++)
		put();
	shmnic_bc_reader_init(&r);
	for (u32 i = 0; i < behind; i++)
		put();

	struct sigaction sa {}, old_segv, old_trap;
	sa.sa_flags = SA_SIGINFO;
	sa.sa_sigaction = lap_on_segv;
	sigaction(SIGSEGV, &sa, &old_segv);
	sa.sa_sigaction = lap_on_trap;
	sigaction(SIGTRAP, &sa, &old_trap);
	g_lap = LapAfterSeqCheck{desc_page, &w, len, 0, 0};
	mprotect(desc_page, SHMNIC_PAGE, PROT_NONE);
	int rc = shmnic_bc_peek(&r, MAX_NODES, f, lost);
	mprotect(desc_page, SHMNIC_PAGE, PROT_READ | PROT_WRITE);
	sigaction(SIGSEGV, &old_segv, nullptr);
	sigaction(SIGTRAP, &old_trap, nullptr);
	*stopped = g_lap.traps;
	if (rc == 0) {
		std::vector<u8> dst(f->total_len);
		rc = shmnic_bc_copy(&r, f, dst.data(), lost);
		if (rc == 0)
			rc = 1; /* accepted */
	}
	return rc;
}

} // namespace

TEST(BcastRingRace, DescriptorRewrittenAfterSeqCheckIsESTALE)
{
	shmnic_frame f{};
	u64 lost = 0;
	int stopped = 0;

	/* rewritten as the first slot of a new frame: peek's snapshot looks
	 * valid, bc_copy()'s re-check catches it */
	int rc = peek_lapped_after_seq_check(256, 100, &f, &lost, &stopped);
	ASSERT_EQ(stopped, 1) << "the reader was not stopped after the seq load";
	EXPECT_EQ(rc, -ESTALE);
	EXPECT_GT(lost, 0u);

	/* rewritten as the middle slot of a 3-slot frame that starts one slot
	 * earlier: the snapshot is a chained descriptor (total_len 0) */
	lost = 0;
	rc = peek_lapped_after_seq_check(255, 5000, &f, &lost, &stopped);
	ASSERT_EQ(stopped, 1);
	EXPECT_EQ(rc, -ESTALE)
		<< "a slot rewritten by a lapping writer between bc_peek()'s seq "
		   "check and its descriptor snapshot is reported as "
		<< (rc == -EBADMSG ? "-EBADMSG (corruption)" : std::to_string(rc));
	EXPECT_EQ(lost, 255u) << "the skipped slots are counted as lost";
}

#endif /* x86-64 Linux */
