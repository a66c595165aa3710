/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A hook run inside a seqcount reader (shmnic_flow_read(),
 * shmnic_listen_scan()) between its copy and the second look at the
 * sequence word: lets a test play a writer that runs exactly there.
 * Include it after test_util.h (ring.h keeps the plain barrier) and before
 * flow.h or listen.h; all their functions are static inline.
 */
#ifndef SHMNIC_TEST_RMB_HOOK_H
#define SHMNIC_TEST_RMB_HOOK_H

namespace {
void (*g_rmb_hook)();
inline void run_rmb_hook()
{
	if (g_rmb_hook) {
		auto h = g_rmb_hook;
		g_rmb_hook = nullptr;
		h();
	}
}
} // namespace
#undef smp_rmb
#define smp_rmb() (__atomic_thread_fence(__ATOMIC_ACQUIRE), run_rmb_hook())

#endif /* SHMNIC_TEST_RMB_HOOK_H */
