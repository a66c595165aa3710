/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the shmnic unit tests: aligned region buffers, a
 * deterministic frame generator/checker, a futex doorbell.
 */
#ifndef SHMNIC_TEST_UTIL_H
#define SHMNIC_TEST_UTIL_H

#include <shmnic/ring.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace shmnic_test {

/* --- memory ------------------------------------------------------------- */

struct FreeDeleter {
	void operator()(void *p) const { std::free(p); }
};
using Buffer = std::unique_ptr<u8, FreeDeleter>;

/* Zeroed buffer of @size bytes aligned to @align. */
inline Buffer alloc_aligned(size_t size, size_t align = SHMNIC_PAGE)
{
	size_t rounded = (size + align - 1) / align * align;
	void *p = std::aligned_alloc(align, rounded ? rounded : align);
	if (!p)
		throw std::bad_alloc();
	std::memset(p, 0, rounded ? rounded : align);
	return Buffer(static_cast<u8 *>(p));
}

/* Exactly @size bytes from malloc (so ASan sees any overrun). */
inline Buffer alloc_exact(size_t size)
{
	void *p = std::malloc(size ? size : 1);
	if (!p)
		throw std::bad_alloc();
	std::memset(p, 0, size ? size : 1);
	return Buffer(static_cast<u8 *>(p));
}

/* The driver's default flow table: 1024 entries per node (main.c). */
constexpr u32 DEFAULT_FLOW_SLOTS = 1024;

inline shmnic_geometry geometry(u32 max_nodes, u32 ring_slots, u32 buf_size,
				u32 bcast_slots, u32 nets, u32 mcast_rings = 0,
				u32 flow_slots = DEFAULT_FLOW_SLOTS)
{
	shmnic_geometry g{};
	g.mcast_rings = mcast_rings;
	g.flow_slots = flow_slots;
	g.max_nodes = max_nodes;
	g.ring_slots = ring_slots;
	g.buf_size = buf_size;
	g.bcast_slots = bcast_slots;
	g.nets = nets;
	return g;
}

inline shmnic_geometry default_geometry()
{
	return geometry(8, 256, 2048, 256, 1, 4);
}

/*
 * A whole region in an aligned heap buffer, laid out and formatted like a
 * real one; the rings are initialised (the receiver's setup is done by the
 * tests, with their own views).
 */
struct Region {
	shmnic_layout l{};
	Buffer mem;

	explicit Region(const shmnic_geometry &g)
	{
		if (shmnic_layout_compute(&g, ~0ull, &l))
			throw std::invalid_argument("bad geometry");
		mem = alloc_aligned(l.size);
		auto *r = reinterpret_cast<shmnic_region *>(mem.get());
		shmnic_region_fill(r, &l, 0);
		r->state = SHMNIC_FMT_READY;
	}
	void *base() { return mem.get(); }
	void *pair(u32 from, u32 to, u32 net = 0)
	{
		return shmnic_pair_ring_at(base(), &l, net, from, to);
	}
	void *bcast(u32 net = 0) { return shmnic_bcast_ring_at(base(), &l, net); }
	void *mcast(u32 i, u32 net = 0)
	{
		return shmnic_mcast_ring_at(base(), &l, net, i);
	}
};

/* --- deterministic frames ------------------------------------------------ */

inline u64 splitmix64(u64 x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

struct XorShift {
	u64 s;
	explicit XorShift(u64 seed) : s(splitmix64(seed) | 1) {}
	u64 next()
	{
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		return s;
	}
	u32 below(u32 n) { return (u32)(next() % n); }
};

/*
 * Frame @key (a sequence number, or a writer/sequence combination): the
 * first 8 bytes are the key, the next 4 the length, the rest a xorshift
 * stream seeded by the key. Any prefix of that is a valid frame of that
 * length.
 */
inline void make_frame(u8 *dst, u32 len, u64 key)
{
	u8 head[12];
	std::memcpy(head, &key, 8);
	std::memcpy(head + 8, &len, 4);
	u32 h = len < 12 ? len : 12;
	std::memcpy(dst, head, h);
	XorShift x(key);
	u32 i = 12;
	for (; i + 8 <= len; i += 8) {
		u64 v = x.next();
		std::memcpy(dst + i, &v, 8);
	}
	if (i < len) {
		u64 v = x.next();
		std::memcpy(dst + i, &v, len - i);
	}
}

/* Is @p (@len bytes) exactly frame @key of length @len? */
inline bool check_frame(const u8 *p, u32 len, u64 key)
{
	u8 head[12];
	std::memcpy(head, &key, 8);
	std::memcpy(head + 8, &len, 4);
	u32 h = len < 12 ? len : 12;
	if (std::memcmp(p, head, h))
		return false;
	XorShift x(key);
	u32 i = 12;
	for (; i + 8 <= len; i += 8) {
		u64 v = x.next(), got;
		std::memcpy(&got, p + i, 8);
		if (v != got)
			return false;
	}
	if (i < len) {
		u64 v = x.next();
		if (std::memcmp(p + i, &v, len - i))
			return false;
	}
	return true;
}

inline std::vector<u8> frame(u32 len, u64 key)
{
	std::vector<u8> v(len);
	make_frame(v.data(), len, key);
	return v;
}

/* --- waiting --------------------------------------------------------------- */

/* Spin politely: pause, and yield now and then (2 cores, more threads). */
struct Backoff {
	unsigned n = 0;
	void wait()
	{
		if (++n % 64 == 0)
			sched_yield();
		else
			cpu_relax();
	}
	void reset() { n = 0; }
};

/*
 * A doorbell like an eventfd or an interrupt: ringing it bumps a counter;
 * a waiter sleeps until the counter differs from what it saw before arming.
 */
class Doorbell {
public:
	u32 snapshot() const { return word_.load(std::memory_order_seq_cst); }
	void ring()
	{
		word_.fetch_add(1, std::memory_order_seq_cst);
		syscall(SYS_futex, reinterpret_cast<u32 *>(&word_),
			FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
	}
	/* true once the counter differs from @seen, false after @ms. */
	bool wait(u32 seen, long ms)
	{
		struct timespec ts;
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (ms % 1000) * 1000000L;
		while (word_.load(std::memory_order_seq_cst) == seen) {
			long rc = syscall(SYS_futex, reinterpret_cast<u32 *>(&word_),
					  FUTEX_WAIT_PRIVATE, seen, &ts, nullptr,
					  0);
			if (rc && errno == ETIMEDOUT)
				return word_.load(std::memory_order_seq_cst) != seen;
		}
		return true;
	}

private:
	std::atomic<u32> word_{0};
	static_assert(sizeof(std::atomic<u32>) == sizeof(u32));
};

} // namespace shmnic_test

#endif /* SHMNIC_TEST_UTIL_H */
