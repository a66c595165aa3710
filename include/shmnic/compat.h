/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Portability shim: lets the shared-memory ABI and ring algorithms in
 * include/shmnic/ compile as kernel C and as userspace C++20 (tests, fuzzers,
 * benchmarks). Only what those headers use is provided.
 */
#ifndef _SHMNIC_COMPAT_H
#define _SHMNIC_COMPAT_H

#ifdef __KERNEL__

#include <linux/types.h>
#include <linux/compiler.h>
#include <linux/errno.h>
#include <linux/string.h>
#include <linux/build_bug.h>
#include <linux/atomic.h>
#include <asm/barrier.h>
#include <linux/prefetch.h>

#define SHMNIC_STATIC_ASSERT(e) static_assert(e, #e)

/*
 * Copy into shared memory that another CPU reads next, without keeping the
 * lines in this CPU's cache (non-temporal stores where the architecture has
 * them). Weakly ordered: shmnic_nt_fence() before publishing the data.
 */
static inline void shmnic_memcpy_nt(void *dst, const void *src, size_t len)
{
	memcpy_flushcache(dst, src, len);
}

#define shmnic_nt_fence()	wmb()
#define shmnic_prefetch(p)	prefetch(p)

static inline u32 shmnic_cmpxchg32(u32 *p, u32 old, u32 val)
{
	return cmpxchg(p, old, val);
}

#else /* userspace, C or C++ */

#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <errno.h>
#ifndef __cplusplus
#include <stdbool.h>
#endif

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef int32_t s32;
typedef uint64_t u64;

/* The kernel's barrier and access primitives, as GCC atomics. */
#define READ_ONCE(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define smp_load_acquire(p)	__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define smp_store_release(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define smp_mb()		__atomic_thread_fence(__ATOMIC_SEQ_CST)
#define smp_rmb()		__atomic_thread_fence(__ATOMIC_ACQUIRE)
#define smp_wmb()		__atomic_thread_fence(__ATOMIC_RELEASE)
#ifndef likely
#define likely(x)		__builtin_expect(!!(x), 1)
#define unlikely(x)		__builtin_expect(!!(x), 0)
#endif

/* The kernel's busy-wait hint. */
static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

/* See the kernel version above. */
#if defined(__x86_64__) || (defined(__i386__) && defined(__SSE2__))
#include <emmintrin.h>

static inline void shmnic_memcpy_nt(void *dst, const void *src, size_t len)
{
	u8 *d = (u8 *)dst;
	const u8 *s = (const u8 *)src;
	size_t head = (size_t)(-(uintptr_t)d & 15);

	if (len < 64) {
		memcpy(d, s, len);
		return;
	}
	memcpy(d, s, head);
	d += head;
	s += head;
	len -= head;
	for (; len >= 64; len -= 64, d += 64, s += 64) {
		__m128i a = _mm_loadu_si128((const __m128i *)s);
		__m128i b = _mm_loadu_si128((const __m128i *)(s + 16));
		__m128i c = _mm_loadu_si128((const __m128i *)(s + 32));
		__m128i e = _mm_loadu_si128((const __m128i *)(s + 48));

		_mm_stream_si128((__m128i *)d, a);
		_mm_stream_si128((__m128i *)(d + 16), b);
		_mm_stream_si128((__m128i *)(d + 32), c);
		_mm_stream_si128((__m128i *)(d + 48), e);
	}
	memcpy(d, s, len);
}

#define shmnic_nt_fence()	_mm_sfence()
#else
static inline void shmnic_memcpy_nt(void *dst, const void *src, size_t len)
{
	memcpy(dst, src, len);
}

#define shmnic_nt_fence()	__atomic_thread_fence(__ATOMIC_RELEASE)
#endif
#define shmnic_prefetch(p)	__builtin_prefetch(p)

#ifdef __cplusplus
#define SHMNIC_STATIC_ASSERT(e) static_assert(e, #e)
#else
#define SHMNIC_STATIC_ASSERT(e) _Static_assert(e, #e)
#endif

static inline u32 shmnic_cmpxchg32(u32 *p, u32 old, u32 val)
{
	__atomic_compare_exchange_n(p, &old, val, 0, __ATOMIC_SEQ_CST,
				    __ATOMIC_SEQ_CST);
	return old;
}

#endif /* __KERNEL__ */

#endif /* _SHMNIC_COMPAT_H */
