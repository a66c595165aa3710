// SPDX-License-Identifier: GPL-2.0
/*
 * include/shmnic/flow.h: the flow table (hash, seqcount snapshots, the
 * 4-way sets, placement and eviction, timeouts) and Maglev.
 */
#include "test_util.h"

#include "rmb_hook.h"
#include <shmnic/flow.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <thread>
#include <vector>

using namespace shmnic_test;

extern "C" u32 shmnic_c_flow_hash(const struct shmnic_flow_key *k);
extern "C" void shmnic_c_maglev_fill(u8 *table, const u8 *ids, u32 n);
extern "C" u32 shmnic_c_maglev_pick(const u8 *ids, u32 n, u32 hash);
extern "C" int shmnic_c_flow_find(const struct shmnic_flow *part, u32 slots,
				  const struct shmnic_flow_key *k,
				  struct shmnic_flow *out);
extern "C" int shmnic_c_flow_place(const struct shmnic_flow *part, u32 slots,
				   u32 hash, u32 now, int *evict);

namespace {

constexpr u32 M = SHMNIC_MAGLEV_M;

/* An IPv4 TCP key: @saddr:@sport -> @daddr:@dport, host byte order in. */
shmnic_flow_key key4(u32 saddr, u16 sport, u32 daddr = 0xc0a87a0a,
		     u16 dport = 80, u8 proto = 6)
{
	shmnic_flow_key k{};
	k.family = 4;
	k.proto = proto;
	k.sport = (u16)(sport >> 8 | sport << 8);
	k.dport = (u16)(dport >> 8 | dport << 8);
	for (int i = 0; i < 4; i++) {
		k.saddr[i] = (u8)(saddr >> (24 - 8 * i));
		k.daddr[i] = (u8)(daddr >> (24 - 8 * i));
	}
	return k;
}

/* A random key (IPv4 or IPv6, TCP or UDP), pad and unused bytes zero. */
shmnic_flow_key random_key(XorShift &x)
{
	shmnic_flow_key k{};
	k.family = x.below(4) ? 4 : 6;
	k.proto = x.below(4) ? 6 : 17;
	k.sport = (u16)x.next();
	k.dport = (u16)x.next();
	u32 alen = k.family == 4 ? 4 : 16;
	for (u32 i = 0; i < alen; i++) {
		k.saddr[i] = (u8)x.next();
		k.daddr[i] = (u8)x.next();
	}
	return k;
}

/* The flow table part of one node: @slots entries in an aligned buffer. */
struct Part {
	u32 slots;
	Buffer mem;
	explicit Part(u32 s) : slots(s), mem(alloc_aligned((size_t)s * sizeof(shmnic_flow))) {}
	shmnic_flow *p() { return reinterpret_cast<shmnic_flow *>(mem.get()); }
	shmnic_flow &operator[](u32 i) { return p()[i]; }
	u32 used()
	{
		u32 n = 0;
		for (u32 i = 0; i < slots; i++)
			n += p()[i].state != SHMNIC_FS_FREE;
		return n;
	}
	std::vector<u8> bytes() const
	{
		return std::vector<u8>(mem.get(), mem.get() + (size_t)slots * sizeof(shmnic_flow));
	}
};

shmnic_flow make_flow(const shmnic_flow_key &k, u8 state, u16 node, u32 last)
{
	shmnic_flow f{};
	f.state = state;
	f.node = node;
	f.last = last;
	f.key = k;
	f.hash = shmnic_flow_hash(&k);
	return f;
}

/* An entry of @state, stamped @last, written at @i. */
void put(Part &part, u32 i, u8 state, u32 last, u16 node = 1)
{
	shmnic_flow_key k = key4(0x0a000000 + i, (u16)(1000 + i));
	shmnic_flow f = make_flow(k, state, node, last);
	shmnic_flow_write(&part[i], &f);
}

struct AddResult {
	int idx;	/* entry used, or -ENOSPC */
	bool found;	/* the flow already had an entry */
	int evict;	/* a live entry was pushed out */
};

/* What a gateway does for a packet of flow @k (global.c: flow_add). */
AddResult add(Part &part, const shmnic_flow_key &k, u8 state, u16 node, u32 now)
{
	shmnic_flow old;
	u32 hash = shmnic_flow_hash(&k);
	AddResult r{-1, false, 0};
	r.idx = shmnic_flow_find(part.p(), part.slots, &k, hash, &old);
	r.found = r.idx >= 0;
	if (!r.found)
		r.idx = shmnic_flow_place(part.p(), part.slots, hash, now, &r.evict);
	if (r.idx < 0)
		return r;
	shmnic_flow f = make_flow(k, state, node, now);
	shmnic_flow_write(&part[(u32)r.idx], &f);
	return r;
}

/* FNV-1a 32 and the finaliser, written out from their definitions. */
u32 reference_hash(const shmnic_flow_key &k)
{
	u8 b[sizeof(k)];
	std::memcpy(b, &k, sizeof(k));
	u32 h = 2166136261u;
	for (u8 c : b) {
		h ^= c;
		h *= 16777619u;
	}
	h ^= h >> 16;
	h *= 0x7feb352du;
	h ^= h >> 15;
	h *= 0x846ca68bu;
	h ^= h >> 16;
	return h;
}

std::vector<u8> maglev_table(const std::vector<u8> &ids)
{
	std::vector<u8> t(M);
	u32 next[SHMNIC_MAX_NODES];
	shmnic_maglev_fill(t.data(), ids.data(), (u32)ids.size(), next);
	return t;
}

} // namespace

/* --- hash and key -------------------------------------------------------- */

TEST(FlowHash, IsFnv1aWithFinaliserAndDeterministic)
{
	XorShift x(1);
	for (int i = 0; i < 5000; i++) {
		shmnic_flow_key k = random_key(x), copy = k;
		u32 h = shmnic_flow_hash(&k);
		ASSERT_EQ(h, reference_hash(k));
		ASSERT_EQ(h, shmnic_flow_hash(&copy));
		/* the C build of the header computes the same */
		ASSERT_EQ(h, shmnic_c_flow_hash(&k));
	}
	/* every node must agree across versions: pin two values */
	shmnic_flow_key zero{};
	EXPECT_EQ(shmnic_flow_hash(&zero), reference_hash(zero));
	shmnic_flow_key k = key4(0x0a000002, 40000, 0xc0a87a0a, 80);
	EXPECT_EQ(shmnic_flow_hash(&k), reference_hash(k));
	std::printf("hash(zero key) = %#x, hash(10.0.0.2:40000 -> 192.168.122.10:80) = %#x\n",
		    shmnic_flow_hash(&zero), shmnic_flow_hash(&k));
}

TEST(FlowHash, EveryBitOfTheKeyMatters)
{
	XorShift x(2);
	u64 flipped = 0, total = 0;
	for (int n = 0; n < 200; n++) {
		shmnic_flow_key k = random_key(x);
		u32 h = shmnic_flow_hash(&k);
		for (u32 bit = 0; bit < sizeof(k) * 8; bit++) {
			shmnic_flow_key k2 = k;
			reinterpret_cast<u8 *>(&k2)[bit / 8] ^= (u8)(1u << (bit % 8));
			u32 h2 = shmnic_flow_hash(&k2);
			ASSERT_NE(h, h2) << "bit " << bit;
			flipped += (u32)__builtin_popcount(h ^ h2);
			total++;
		}
	}
	/* avalanche: about half of the 32 bits change */
	double avg = (double)flipped / (double)total;
	std::printf("one key bit flipped: %.2f hash bits change on average\n", avg);
	EXPECT_GT(avg, 15.0);
	EXPECT_LT(avg, 17.0);
}

namespace {
/* Chi-square of @counts against a uniform spread. */
double chi2(const std::vector<u32> &counts, u64 total)
{
	double e = (double)total / (double)counts.size(), s = 0;
	for (u32 c : counts)
		s += (c - e) * (c - e) / e;
	return s;
}
} // namespace

TEST(FlowHash, SpreadsOverTheSets)
{
	const u32 slots = 1024, sets = slots / SHMNIC_FLOW_WAYS;
	/* k = sets - 1 degrees of freedom: mean 255, sd sqrt(2k) ~ 22.6 */
	const double limit = (sets - 1) + 6 * std::sqrt(2.0 * (sets - 1));

	/* random clients */
	std::vector<u32> c(sets);
	XorShift x(3);
	const u32 n = 100000;
	for (u32 i = 0; i < n; i++) {
		shmnic_flow_key k = random_key(x);
		c[shmnic_flow_set(shmnic_flow_hash(&k), slots) / SHMNIC_FLOW_WAYS]++;
	}
	double s1 = chi2(c, n);
	auto mm = std::minmax_element(c.begin(), c.end());
	std::printf("random keys: chi2 %.1f (limit %.1f), per set %u..%u, mean %.1f\n",
		    s1, limit, *mm.first, *mm.second, (double)n / sets);
	EXPECT_LT(s1, limit);
	EXPECT_GT(*mm.first, n / sets * 3 / 4);
	EXPECT_LT(*mm.second, n / sets * 5 / 4);

	/* one client, every source port (a SYN flood from one address) */
	std::fill(c.begin(), c.end(), 0);
	for (u32 p = 1; p <= 65535; p++) {
		shmnic_flow_key k = key4(0xc6336401, (u16)p);
		c[shmnic_flow_set(shmnic_flow_hash(&k), slots) / SHMNIC_FLOW_WAYS]++;
	}
	double s2 = chi2(c, 65535);
	mm = std::minmax_element(c.begin(), c.end());
	std::printf("one client, all ports: chi2 %.1f, per set %u..%u\n", s2, *mm.first,
		    *mm.second);
	EXPECT_LT(s2, limit);
	EXPECT_GT(*mm.first, 0u);

	/* consecutive client addresses, one port */
	std::fill(c.begin(), c.end(), 0);
	for (u32 a = 0; a < 65536; a++) {
		shmnic_flow_key k = key4(0x0a000000 + a, 5555);
		c[shmnic_flow_set(shmnic_flow_hash(&k), slots) / SHMNIC_FLOW_WAYS]++;
	}
	double s3 = chi2(c, 65536);
	std::printf("consecutive addresses: chi2 %.1f\n", s3);
	EXPECT_LT(s3, limit);

	/* the smallest table: sets are used evenly too, and the set is always
	 * the first of 4 ways inside the part */
	for (u32 sl : {SHMNIC_MIN_FLOWS, 128u, SHMNIC_MAX_FLOWS}) {
		std::vector<u32> cc(sl / SHMNIC_FLOW_WAYS);
		for (u32 i = 0; i < 50000; i++) {
			shmnic_flow_key k = random_key(x);
			u32 f = shmnic_flow_set(shmnic_flow_hash(&k), sl);
			ASSERT_EQ(f % SHMNIC_FLOW_WAYS, 0u);
			ASSERT_LE(f + SHMNIC_FLOW_WAYS, sl);
			cc[f / SHMNIC_FLOW_WAYS]++;
		}
		if (sl <= 128) {
			EXPECT_LT(chi2(cc, 50000), (sl / 4 - 1) + 6 * std::sqrt(2.0 * (sl / 4 - 1)))
				<< sl;
		}
	}
}

TEST(FlowKey, EqualityIsByteWise)
{
	shmnic_flow_key a = key4(0x0a000001, 1234), b = a;
	EXPECT_TRUE(shmnic_flow_key_eq(&a, &b));
	for (u32 i = 0; i < sizeof(a); i++) {
		shmnic_flow_key c = a;
		reinterpret_cast<u8 *>(&c)[i] ^= 0x01;
		EXPECT_FALSE(shmnic_flow_key_eq(&a, &c)) << "byte " << i;
		EXPECT_FALSE(shmnic_flow_key_eq(&c, &a)) << "byte " << i;
	}
	/* the pad and the unused address bytes count: keys must be zeroed */
	shmnic_flow_key d = a;
	d.pad = 1;
	EXPECT_FALSE(shmnic_flow_key_eq(&a, &d));
	EXPECT_NE(shmnic_flow_hash(&a), shmnic_flow_hash(&d));
	d = a;
	d.saddr[15] = 1;
	EXPECT_FALSE(shmnic_flow_key_eq(&a, &d));
	/* direction matters: the reply's key is another key */
	shmnic_flow_key r = a;
	std::swap(r.sport, r.dport);
	std::swap(r.saddr, r.daddr);
	EXPECT_FALSE(shmnic_flow_key_eq(&a, &r));
	EXPECT_NE(shmnic_flow_hash(&a), shmnic_flow_hash(&r));
	/* v4 and v6 with the same bytes are different flows */
	shmnic_flow_key v6 = a;
	v6.family = 6;
	EXPECT_FALSE(shmnic_flow_key_eq(&a, &v6));
}

/* --- entries: seqcount write, read, clear --------------------------------- */

TEST(FlowEntry, WriteReadClearRoundTrip)
{
	Part part(64);
	shmnic_flow &e = part[5];
	shmnic_flow out;
	EXPECT_EQ(shmnic_flow_read(&e, &out), -EAGAIN) << "a zeroed entry is free";

	shmnic_flow f = make_flow(key4(0x0a000001, 4321), SHMNIC_FS_EST, 3, 1234);
	f.seq = 0x12345; /* ignored */
	shmnic_flow_write(&e, &f);
	EXPECT_EQ(e.seq, 2u);
	ASSERT_EQ(shmnic_flow_read(&e, &out), 0);
	EXPECT_EQ(out.seq, 2u);
	EXPECT_EQ(out.state, SHMNIC_FS_EST);
	EXPECT_EQ(out.node, 3u);
	EXPECT_EQ(out.last, 1234u);
	EXPECT_EQ(out.hash, f.hash);
	EXPECT_TRUE(shmnic_flow_key_eq(&out.key, &f.key));

	/* a rewrite moves the sequence on by 2 */
	f.state = SHMNIC_FS_CLOSING;
	f.node = 7;
	f.last = 0xfffffff0u;
	shmnic_flow_write(&e, &f);
	EXPECT_EQ(e.seq, 4u);
	ASSERT_EQ(shmnic_flow_read(&e, &out), 0);
	EXPECT_EQ(out.seq, 4u);
	EXPECT_EQ(out.state, SHMNIC_FS_CLOSING);
	EXPECT_EQ(out.node, 7u);
	EXPECT_EQ(out.last, 0xfffffff0u);

	/* cleared: free, not readable, sequence moved on */
	shmnic_flow_clear(&e);
	EXPECT_EQ(e.seq, 6u);
	EXPECT_EQ(e.state, SHMNIC_FS_FREE);
	EXPECT_EQ(shmnic_flow_read(&e, &out), -EAGAIN);
	/* and written again */
	shmnic_flow_write(&e, &f);
	EXPECT_EQ(e.seq, 8u);
	EXPECT_EQ(shmnic_flow_read(&e, &out), 0);

	/* the neighbours were not touched */
	for (u32 i = 0; i < part.slots; i++)
		if (i != 5) {
			EXPECT_EQ(part[i].seq, 0u) << i;
			EXPECT_EQ(part[i].state, 0u) << i;
		}
	/* every state a writer may use reads back; others do not */
	for (u32 st = 0; st < 256; st++) {
		f.state = (u8)st;
		shmnic_flow_write(&e, &f);
		EXPECT_EQ(shmnic_flow_read(&e, &out) == 0,
			  st >= SHMNIC_FS_SYN && st <= SHMNIC_FS_MAX) << st;
	}
}

TEST(FlowEntry, ReaderGivesUpOnAnOddSequence)
{
	Part part(64);
	shmnic_flow &e = part[0];
	shmnic_flow f = make_flow(key4(1, 2), SHMNIC_FS_SYN, 1, 10), out;
	shmnic_flow_write(&e, &f);
	for (u32 seq : {1u, 3u, 0x7fffffffu, 0xffffffffu}) {
		e.seq = seq;
		EXPECT_EQ(shmnic_flow_read(&e, &out), -EAGAIN) << seq;
		EXPECT_EQ(shmnic_flow_find(part.p(), part.slots, &f.key, f.hash, &out), -ENOENT)
			<< seq;
	}
	/* a writer that died halfway (odd word) is repaired by the next write */
	e.seq = 7;
	shmnic_flow_write(&e, &f);
	EXPECT_EQ(e.seq, 8u);
	EXPECT_EQ(shmnic_flow_read(&e, &out), 0);
	e.seq = 9;
	shmnic_flow_clear(&e);
	EXPECT_EQ(e.seq, 10u);
	/* the sequence word wraps */
	e.seq = 0xfffffffeu;
	shmnic_flow_write(&e, &f);
	EXPECT_EQ(e.seq, 0u);
	EXPECT_EQ(shmnic_flow_read(&e, &out), 0);
}

namespace {
shmnic_flow *g_hook_entry;
} // namespace

TEST(FlowEntry, ReaderGivesUpWhenTheSequenceChangesUnderIt)
{
	Part part(64);
	shmnic_flow &e = part[9];
	shmnic_flow f = make_flow(key4(5, 6), SHMNIC_FS_EST, 2, 100), out;
	shmnic_flow_write(&e, &f);
	g_hook_entry = &e;

	/* control: the hook runs, changes nothing, the snapshot is good */
	g_rmb_hook = [] {};
	EXPECT_EQ(shmnic_flow_read(&e, &out), 0);
	EXPECT_EQ(g_rmb_hook, nullptr) << "the hook did not run";

	/* a whole write (even to even) between the copy and the check */
	g_rmb_hook = [] {
		shmnic_flow g = make_flow(key4(7, 8), SHMNIC_FS_SYN, 4, 200);
		shmnic_flow_write(g_hook_entry, &g);
	};
	EXPECT_EQ(shmnic_flow_read(&e, &out), -EAGAIN);
	EXPECT_EQ(e.seq, 4u);
	/* the new contents are then read as they are */
	ASSERT_EQ(shmnic_flow_read(&e, &out), 0);
	EXPECT_EQ(out.node, 4u);

	/* a writer starting (odd) between the copy and the check */
	g_rmb_hook = [] { WRITE_ONCE(g_hook_entry->seq, g_hook_entry->seq | 1); };
	EXPECT_EQ(shmnic_flow_read(&e, &out), -EAGAIN);
	e.seq = 6;

	/* cleared under the reader */
	g_rmb_hook = [] { shmnic_flow_clear(g_hook_entry); };
	EXPECT_EQ(shmnic_flow_read(&e, &out), -EAGAIN);

	/* rewritten under find(): the flow is not reported this time */
	u32 at = shmnic_flow_set(f.hash, part.slots);
	shmnic_flow_clear(&e);
	shmnic_flow_write(&part[at + 1], &f);
	g_hook_entry = &part[at + 1];
	g_rmb_hook = [] { g_hook_entry->seq += 2; };
	EXPECT_EQ(shmnic_flow_find(part.p(), part.slots, &f.key, f.hash, &out), -ENOENT);
	EXPECT_EQ(shmnic_flow_find(part.p(), part.slots, &f.key, f.hash, &out), (int)at + 1);
	g_rmb_hook = nullptr;
}

/* A real writer and a real reader on two threads: a snapshot is never torn. */
TEST(FlowEntry, ConcurrentSnapshotsAreNeverTorn)
{
	Part part(64);
	shmnic_flow &e = part[0];
	auto value = [](u32 v) {
		shmnic_flow f{};
		f.state = (u8)(1 + v % 4);
		f.node = (u16)v;
		f.last = v;
		f.hash = v * 2654435761u;
		for (u32 j = 0; j < sizeof(f.key); j++)
			reinterpret_cast<u8 *>(&f.key)[j] = (u8)(v + j);
		return f;
	};
	shmnic_flow first = value(1);
	shmnic_flow_write(&e, &first);
	std::atomic<bool> done{false};
	std::thread writer([&] {
		for (u32 v = 2; !done.load(std::memory_order_relaxed); v++) {
			shmnic_flow f = value(v);
			if (v % 7 == 0)
				shmnic_flow_clear(&e);
			else
				shmnic_flow_write(&e, &f);
		}
	});
	u64 ok = 0, again = 0, torn = 0;
	u32 torn_value = 0;
	const auto t0 = std::chrono::steady_clock::now();
	while (!torn && std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(300)) {
		for (int i = 0; i < 1000; i++) {
			shmnic_flow out;
			if (shmnic_flow_read(&e, &out)) {
				again++;
				continue;
			}
			ok++;
			shmnic_flow want = value(out.last);
			want.seq = out.seq;
			if (out.seq % 2 ||
			    std::memcmp(&out, &want, offsetof(shmnic_flow, pad1))) {
				torn++;
				torn_value = out.last;
				break;
			}
		}
	}
	done = true;
	writer.join();
	EXPECT_EQ(torn, 0u) << "torn snapshot of value " << torn_value;
	std::printf("%llu consistent snapshots, %llu given up\n",
		    (unsigned long long)ok, (unsigned long long)again);
	EXPECT_GT(ok, 0u);
}

/* --- find ------------------------------------------------------------------ */

TEST(FlowFind, FindsOnlyInTheKeysSet)
{
	Part part(64);
	shmnic_flow_key k = key4(0x0a000001, 1111);
	const u32 h = shmnic_flow_hash(&k), at = shmnic_flow_set(h, part.slots);
	shmnic_flow out;
	ASSERT_EQ(shmnic_flow_find(part.p(), part.slots, &k, h, &out), -ENOENT);

	/* in every way of its set */
	for (u32 w = 0; w < SHMNIC_FLOW_WAYS; w++) {
		shmnic_flow f = make_flow(k, SHMNIC_FS_EST, 3, 50);
		shmnic_flow_write(&part[at + w], &f);
		ASSERT_EQ(shmnic_flow_find(part.p(), part.slots, &k, h, &out), (int)(at + w));
		EXPECT_EQ(out.node, 3u);
		EXPECT_TRUE(shmnic_flow_key_eq(&out.key, &k));
		EXPECT_EQ(shmnic_c_flow_find(part.p(), part.slots, &k, &out), (int)(at + w));
		shmnic_flow_clear(&part[at + w]);
		ASSERT_EQ(shmnic_flow_find(part.p(), part.slots, &k, h, &out), -ENOENT) << w;
	}
	/* outside its set: not found */
	for (u32 i = 0; i < part.slots; i++) {
		if (i >= at && i < at + SHMNIC_FLOW_WAYS)
			continue;
		shmnic_flow f = make_flow(k, SHMNIC_FS_EST, 3, 50);
		shmnic_flow_write(&part[i], &f);
	}
	EXPECT_EQ(shmnic_flow_find(part.p(), part.slots, &k, h, &out), -ENOENT);
}

TEST(FlowFind, SameHashOtherKeyIsNotAMatch)
{
	Part part(64);
	shmnic_flow_key k = key4(0x0a000001, 1111), other = key4(0x0a000002, 2222);
	const u32 h = shmnic_flow_hash(&k), at = shmnic_flow_set(h, part.slots);
	shmnic_flow out;

	/* another flow claiming our hash in way 0, ours in way 2 */
	shmnic_flow f = make_flow(other, SHMNIC_FS_EST, 1, 10);
	f.hash = h;
	shmnic_flow_write(&part[at], &f);
	EXPECT_EQ(shmnic_flow_find(part.p(), part.slots, &k, h, &out), -ENOENT);
	shmnic_flow g = make_flow(k, SHMNIC_FS_UDP, 2, 10);
	shmnic_flow_write(&part[at + 2], &g);
	EXPECT_EQ(shmnic_flow_find(part.p(), part.slots, &k, h, &out), (int)at + 2);
	EXPECT_EQ(out.node, 2u);
	/* our key with a wrong hash stored: not a match either */
	part[at + 2].hash = h ^ 0x100;
	EXPECT_EQ(shmnic_flow_find(part.p(), part.slots, &k, h, &out), -ENOENT);
}

TEST(FlowFind, InTheRightPartOfTheRegion)
{
	Region region(geometry(4, 256, 2048, 256, 1, 0, 128));
	shmnic_flow_key k = key4(0xc0a80001, 5000);
	const u32 h = shmnic_flow_hash(&k), slots = region.l.g.flow_slots;
	shmnic_flow *p2 = shmnic_flow_part(region.base(), &region.l, 2);
	shmnic_flow out;
	shmnic_flow f = make_flow(k, SHMNIC_FS_EST, 1, 0);
	int evict;
	int i = shmnic_flow_place(p2, slots, h, 0, &evict);
	ASSERT_GE(i, 0);
	shmnic_flow_write(&p2[i], &f);
	for (u32 id = 0; id < 4; id++) {
		int r = shmnic_flow_find(shmnic_flow_part(region.base(), &region.l, id),
					 slots, &k, h, &out);
		EXPECT_EQ(r >= 0, id == 2) << id;
	}
	/* the entry sits where the layout says */
	EXPECT_EQ((u8 *)&p2[i] - (u8 *)region.base(),
		  (ptrdiff_t)(region.l.flow_off + (2ull * slots + (u32)i) * 64));
}

/* --- place ------------------------------------------------------------------ */

TEST(FlowPlace, FreeEntryFirst)
{
	Part part(64);
	const u32 h = 0x12345678u, at = shmnic_flow_set(h, 64);
	int evict = 7;
	EXPECT_EQ(shmnic_flow_place(part.p(), 64, h, 1000, &evict), (int)at);
	EXPECT_EQ(evict, 0);
	/* the ways fill in order while free ones are left */
	for (u32 w = 0; w < SHMNIC_FLOW_WAYS; w++) {
		int i = shmnic_flow_place(part.p(), 64, h, 1000, &evict);
		ASSERT_EQ(i, (int)(at + w));
		EXPECT_EQ(evict, 0);
		put(part, (u32)i, SHMNIC_FS_EST, 1000);
	}
	EXPECT_EQ(shmnic_flow_place(part.p(), 64, h, 1000, &evict), -ENOSPC);
	EXPECT_EQ(evict, 0);
	/* a free entry among live ones of any state is taken, without evicting */
	for (u8 st : {SHMNIC_FS_SYN, SHMNIC_FS_EST, SHMNIC_FS_CLOSING, SHMNIC_FS_UDP}) {
		for (u32 w = 0; w < SHMNIC_FLOW_WAYS; w++)
			put(part, at + w, st, 1000);
		shmnic_flow_clear(&part[at + 2]);
		EXPECT_EQ(shmnic_flow_place(part.p(), 64, h, 1001, &evict), (int)at + 2);
		EXPECT_EQ(evict, 0);
	}
	/* and so is an entry with a state no writer uses */
	for (u32 w = 0; w < SHMNIC_FLOW_WAYS; w++)
		put(part, at + w, SHMNIC_FS_EST, 1000);
	part[at + 3].state = 0x77;
	EXPECT_EQ(shmnic_flow_place(part.p(), 64, h, 1001, &evict), (int)at + 3);
	EXPECT_EQ(evict, 0);
}

TEST(FlowPlace, ExpiredEntryNext)
{
	Part part(64);
	const u32 h = 0x9abcdef1u, at = shmnic_flow_set(h, 64);
	const u32 now = 100000;
	int evict;
	/* all live except one expired entry, per state */
	const u8 states[] = {SHMNIC_FS_SYN, SHMNIC_FS_EST, SHMNIC_FS_CLOSING, SHMNIC_FS_UDP};
	for (u8 st : states) {
		for (u32 w = 0; w < SHMNIC_FLOW_WAYS; w++)
			put(part, at + w, SHMNIC_FS_EST, now - 5);
		u32 to = shmnic_flow_timeout(st);
		put(part, at + 1, st, now - to); /* exactly at the timeout: live */
		EXPECT_EQ(shmnic_flow_place(part.p(), 64, h, now, &evict),
			  st == SHMNIC_FS_EST ? -ENOSPC : (int)at + 1) << (int)st;
		EXPECT_EQ(evict, st == SHMNIC_FS_EST ? 0 : 1) << (int)st;
		put(part, at + 1, st, now - to - 1); /* one past: expired */
		EXPECT_EQ(shmnic_flow_place(part.p(), 64, h, now, &evict), (int)at + 1)
			<< (int)st;
		EXPECT_EQ(evict, 0) << "an expired entry is not an eviction";
	}
	/* an expired entry beats an older live one that is not established */
	for (u32 w = 0; w < SHMNIC_FLOW_WAYS; w++)
		put(part, at + w, SHMNIC_FS_EST, now - 5);
	put(part, at + 0, SHMNIC_FS_SYN, now - 90);
	put(part, at + 3, SHMNIC_FS_UDP, now - 301);
	EXPECT_EQ(shmnic_flow_place(part.p(), 64, h, now, &evict), (int)at + 3);
	EXPECT_EQ(evict, 0);
}

TEST(FlowPlace, StalestNotEstablishedIsEvicted)
{
	Part part(64);
	const u32 h = 0x1111u, at = shmnic_flow_set(h, 64);
	const u32 now = 5000;
	int evict;
	/* four live SYNs of different ages: the oldest goes, whichever way */
	for (u32 oldest = 0; oldest < SHMNIC_FLOW_WAYS; oldest++) {
		for (u32 w = 0; w < SHMNIC_FLOW_WAYS; w++)
			put(part, at + w, SHMNIC_FS_SYN, now - 10 - w);
		put(part, at + oldest, SHMNIC_FS_SYN, now - 60);
		EXPECT_EQ(shmnic_flow_place(part.p(), 64, h, now, &evict), (int)(at + oldest));
		EXPECT_EQ(evict, 1);
		EXPECT_EQ(shmnic_c_flow_place(part.p(), 64, h, now, &evict), (int)(at + oldest));
	}
	/* established flows are never chosen, however old (but live) */
	for (u32 w = 0; w < SHMNIC_FLOW_WAYS; w++)
		put(part, at + w, SHMNIC_FS_EST, now - 2999);
	put(part, at + 2, SHMNIC_FS_CLOSING, now);
	EXPECT_EQ(shmnic_flow_place(part.p(), 64, h, now, &evict), (int)at + 2);
	EXPECT_EQ(evict, 1);
	put(part, at + 2, SHMNIC_FS_EST, now);
	EXPECT_EQ(shmnic_flow_place(part.p(), 64, h, now, &evict), -ENOSPC);
	EXPECT_EQ(evict, 0);
	/* mixed states: UDP, SYN, CLOSING are all fair game, stalest first */
	put(part, at + 0, SHMNIC_FS_UDP, now - 200);
	put(part, at + 1, SHMNIC_FS_SYN, now - 50);
	put(part, at + 2, SHMNIC_FS_EST, now - 2000);
	put(part, at + 3, SHMNIC_FS_CLOSING, now - 20);
	EXPECT_EQ(shmnic_flow_place(part.p(), 64, h, now, &evict), (int)at + 0);
	EXPECT_EQ(evict, 1);
	/* placement only reads */
	auto before = part.bytes();
	for (u32 t = 0; t < 100; t++)
		(void)shmnic_flow_place(part.p(), 64, h, now + t, &evict);
	EXPECT_EQ(before, part.bytes());
}

TEST(FlowPlace, SynFloodNeverPushesOutEstablishedFlows)
{
	const u32 slots = 1024;
	Part part(slots);
	u32 now = 1000;
	/* fill the whole table with established flows */
	std::vector<shmnic_flow_key> est;
	XorShift x(11);
	for (u32 tries = 0; est.size() < slots; tries++) {
		ASSERT_LT(tries, 1000000u);
		shmnic_flow_key k = random_key(x);
		AddResult r = add(part, k, SHMNIC_FS_EST, 1, now);
		if (r.idx >= 0 && !r.found)
			est.push_back(k);
		ASSERT_EQ(r.evict, 0);
	}
	ASSERT_EQ(part.used(), slots);
	const auto before = part.bytes();

	/* 100000 distinct SYNs over the next 299.9 s: all refused */
	u64 refused = 0;
	for (u32 i = 0; i < 100000; i++) {
		shmnic_flow_key k = key4(0xcb007100 + (i >> 16), (u16)i, 0xc0a87a0a, 443);
		AddResult r = add(part, k, SHMNIC_FS_SYN, 2, now + i * 2999 / 100000);
		ASSERT_FALSE(r.found);
		ASSERT_EQ(r.idx, -ENOSPC) << i;
		refused++;
	}
	EXPECT_EQ(refused, 100000u);
	EXPECT_EQ(before, part.bytes()) << "the table changed";
	shmnic_flow out;
	for (const auto &k : est)
		ASSERT_GE(shmnic_flow_find(part.p(), slots, &k, shmnic_flow_hash(&k), &out), 0);

	/* once the established flows time out, new flows get their places */
	now += SHMNIC_FLOW_TO_EST + 1;
	AddResult r = add(part, key4(1, 1), SHMNIC_FS_SYN, 2, now);
	EXPECT_GE(r.idx, 0);
	EXPECT_EQ(r.evict, 0);
}

TEST(FlowPlace, SynFloodChurnsOnlyTheNonEstablishedWays)
{
	const u32 slots = 1024;
	Part part(slots);
	const u32 now0 = 7;
	/* half of every set established */
	std::vector<shmnic_flow_key> est;
	std::vector<u32> per_set(slots / SHMNIC_FLOW_WAYS);
	XorShift x(12);
	while (est.size() < slots / 2) {
		shmnic_flow_key k = random_key(x);
		u32 s = shmnic_flow_set(shmnic_flow_hash(&k), slots) / SHMNIC_FLOW_WAYS;
		if (per_set[s] == 2)
			continue;
		per_set[s]++;
		AddResult r = add(part, k, SHMNIC_FS_EST, 1, now0);
		ASSERT_GE(r.idx, 0);
		est.push_back(k);
	}
	/* the flood: every packet a new SYN, the clock ticking */
	u64 placed = 0, evicted = 0, refused = 0;
	for (u32 i = 0; i < 200000; i++) {
		u32 now = now0 + i / 100; /* 2000 heartbeats: < the EST timeout */
		shmnic_flow_key k = key4(0x64400000 + i, (u16)(i * 7));
		AddResult r = add(part, k, SHMNIC_FS_SYN, 2, now);
		if (r.idx < 0) {
			refused++;
		} else {
			placed++;
			evicted += r.evict;
		}
		if (i % 10000 == 0) {
			ASSERT_LE(part.used(), slots);
		}
	}
	std::printf("flood: %llu placed (%llu evicting a SYN), %llu refused\n",
		    (unsigned long long)placed, (unsigned long long)evicted,
		    (unsigned long long)refused);
	EXPECT_EQ(refused, 0u) << "two ways of each set stay open to new flows";
	EXPECT_GT(evicted, 0u);
	EXPECT_LE(part.used(), slots);
	/* every established flow survived, unchanged */
	u32 est_now = 0;
	shmnic_flow out;
	for (const auto &k : est) {
		ASSERT_GE(shmnic_flow_find(part.p(), slots, &k, shmnic_flow_hash(&k), &out), 0);
		EXPECT_EQ(out.state, SHMNIC_FS_EST);
		EXPECT_EQ(out.last, now0);
	}
	for (u32 i = 0; i < slots; i++)
		est_now += part[i].state == SHMNIC_FS_EST;
	EXPECT_EQ(est_now, slots / 2);
}

/* --- which TCP segment opens a flow -------------------------------------- */

TEST(FlowTcp, OnlyAPlainSynOpensAConnection)
{
	/* every combination of SYN, ACK, FIN and RST */
	for (unsigned f = 0; f < 16; f++) {
		bool syn = f & 1, ack = f & 2, fin = f & 4, rst = f & 8;

		EXPECT_EQ(shmnic_flow_tcp_opens(syn, ack, fin, rst), f == 1) << f;
	}
	/* the strays a gateway sees: a late ACK or FIN, a RST, a SYN+ACK */
	EXPECT_FALSE(shmnic_flow_tcp_opens(false, true, false, false));
	EXPECT_FALSE(shmnic_flow_tcp_opens(false, true, true, false));
	EXPECT_FALSE(shmnic_flow_tcp_opens(false, false, false, true));
	EXPECT_FALSE(shmnic_flow_tcp_opens(true, true, false, false));
	EXPECT_TRUE(shmnic_flow_tcp_opens(true, false, false, false));
}

/* --- time ----------------------------------------------------------------- */

TEST(FlowTime, TimeoutsPerState)
{
	EXPECT_EQ(shmnic_flow_timeout(SHMNIC_FS_SYN), 100u);	/* 10 s */
	EXPECT_EQ(shmnic_flow_timeout(SHMNIC_FS_EST), 3000u);	/* 300 s */
	EXPECT_EQ(shmnic_flow_timeout(SHMNIC_FS_CLOSING), 100u);
	EXPECT_EQ(shmnic_flow_timeout(SHMNIC_FS_UDP), 300u);	/* 30 s */
	EXPECT_EQ(shmnic_flow_timeout(SHMNIC_FS_FREE), 0u);
	for (u32 st = SHMNIC_FS_MAX + 1; st < 300; st++)
		EXPECT_EQ(shmnic_flow_timeout(st), 0u) << st;

	const u32 last = 50000;
	for (u32 st = SHMNIC_FS_SYN; st <= SHMNIC_FS_MAX; st++) {
		u32 to = shmnic_flow_timeout(st);
		EXPECT_FALSE(shmnic_flow_expired(st, last, last)) << st;
		EXPECT_FALSE(shmnic_flow_expired(st, last, last + 1)) << st;
		EXPECT_FALSE(shmnic_flow_expired(st, last, last + to)) << st;
		EXPECT_TRUE(shmnic_flow_expired(st, last, last + to + 1)) << st;
		EXPECT_TRUE(shmnic_flow_expired(st, last, last + 0x7fffffffu)) << st;
	}
	/* free entries and unknown states are always expired */
	EXPECT_TRUE(shmnic_flow_expired(SHMNIC_FS_FREE, last, last));
	EXPECT_TRUE(shmnic_flow_expired(5, last, last));
	EXPECT_TRUE(shmnic_flow_expired(255, last, last));
	EXPECT_TRUE(shmnic_flow_expired(0x100 + SHMNIC_FS_EST, last, last));
}

TEST(FlowTime, HeartbeatWrapsAround)
{
	/* the u32 clock wraps after 13.6 years at 10 Hz; the 64-bit heartbeat
	 * truncated, as the driver stores it, wraps at once when started high */
	for (u32 st = SHMNIC_FS_SYN; st <= SHMNIC_FS_MAX; st++) {
		u32 to = shmnic_flow_timeout(st);
		for (u32 before = 1; before <= to; before += to / 4 ? to / 4 : 1) {
			u32 last = 0u - before; /* shortly before the wrap */
			EXPECT_FALSE(shmnic_flow_expired(st, last, last + to))
				<< st << " " << before;
			EXPECT_TRUE(shmnic_flow_expired(st, last, last + to + 1))
				<< st << " " << before;
			EXPECT_FALSE(shmnic_flow_expired(st, last, 0)) << st;
		}
		EXPECT_FALSE(shmnic_flow_expired(st, 0xffffffffu, to - 1)) << st;
		EXPECT_TRUE(shmnic_flow_expired(st, 0xffffffffu, to)) << st;
	}
	/* place(): ages across the wrap pick the stalest */
	Part part(64);
	const u32 h = 0x4444u, at = shmnic_flow_set(h, 64);
	int evict;
	const u32 now = 40;
	put(part, at + 0, SHMNIC_FS_SYN, 10);		/* age 30 */
	put(part, at + 1, SHMNIC_FS_SYN, 0xfffffff0u);	/* age 56, before the wrap */
	put(part, at + 2, SHMNIC_FS_SYN, 0);		/* age 40 */
	put(part, at + 3, SHMNIC_FS_EST, 0xffffff00u);	/* age 296, established */
	EXPECT_EQ(shmnic_flow_place(part.p(), 64, h, now, &evict), (int)at + 1);
	EXPECT_EQ(evict, 1);
	/* and an established flow from before the wrap expires on time */
	for (u32 w = 0; w < 3; w++)
		put(part, at + w, SHMNIC_FS_EST, 2000);
	EXPECT_EQ(shmnic_flow_place(part.p(), 64, h, 0xffffff00u + 3000, &evict), -ENOSPC);
	EXPECT_EQ(shmnic_flow_place(part.p(), 64, h, 0xffffff00u + 3001, &evict), (int)at + 3);
	EXPECT_EQ(evict, 0);
}

/* --- Maglev ---------------------------------------------------------------- */

TEST(Maglev, EveryEntryIsACandidate)
{
	for (u32 n = 1; n <= SHMNIC_MAX_NODES; n++) {
		std::vector<u8> ids;
		for (u32 i = 0; i < n; i++)
			ids.push_back((u8)(i * 37 % SHMNIC_MAX_NODES));
		std::sort(ids.begin(), ids.end());
		ASSERT_EQ(std::unique(ids.begin(), ids.end()), ids.end());
		auto t = maglev_table(ids);
		std::set<u8> cand(ids.begin(), ids.end());
		for (u32 j = 0; j < M; j++)
			ASSERT_TRUE(cand.count(t[j])) << "n " << n << " entry " << j << " = "
						      << (int)t[j];
		/* the C build agrees */
		std::vector<u8> tc(M);
		shmnic_c_maglev_fill(tc.data(), ids.data(), n);
		ASSERT_EQ(t, tc) << n;
	}
}

TEST(Maglev, EntriesAreSpreadEvenly)
{
	/* Maglev fills round-robin, one entry per candidate per round: each
	 * gets floor(M/n) or ceil(M/n) entries, far inside 0.8..1.2 * M/n */
	const std::vector<std::vector<u8>> sets = {
		{0, 1}, {1, 2}, {3, 9}, {0, 1, 2}, {0, 1, 2, 3}, {4, 5, 6, 7, 8},
		{0, 1, 2, 3, 4, 5}, {1, 2, 3, 4, 5, 6, 7}, {0, 1, 2, 3, 4, 5, 6, 7},
		{2, 5, 11, 17, 23, 42, 51, 63},
	};
	for (const auto &ids : sets) {
		const u32 n = (u32)ids.size();
		auto t = maglev_table(ids);
		std::map<u8, u32> c;
		for (u8 v : t)
			c[v]++;
		ASSERT_EQ(c.size(), n);
		for (auto [id, cnt] : c) {
			EXPECT_GE(cnt, M / n) << "n " << n << " id " << (int)id;
			EXPECT_LE(cnt, (M + n - 1) / n) << "n " << n << " id " << (int)id;
			EXPECT_GE(cnt, 0.8 * M / n);
			EXPECT_LE(cnt, 1.2 * M / n);
		}
	}
	/* the same for every candidate count up to 64 */
	for (u32 n = 2; n <= SHMNIC_MAX_NODES; n++) {
		std::vector<u8> ids;
		for (u32 i = 0; i < n; i++)
			ids.push_back((u8)i);
		auto t = maglev_table(ids);
		std::vector<u32> c(n);
		for (u8 v : t)
			c[v]++;
		for (u32 i = 0; i < n; i++) {
			EXPECT_GE(c[i], M / n) << n;
			EXPECT_LE(c[i], (M + n - 1) / n) << n;
		}
	}
}

TEST(Maglev, IsDeterministic)
{
	const std::vector<u8> ids = {1, 4, 6, 9};
	auto a = maglev_table(ids), b = maglev_table(ids);
	EXPECT_EQ(a, b);
	/* scratch contents do not matter */
	std::vector<u8> t(M, 0x5a);
	u32 next[SHMNIC_MAX_NODES];
	std::fill(std::begin(next), std::end(next), 0xdeadbeefu);
	shmnic_maglev_fill(t.data(), ids.data(), (u32)ids.size(), next);
	EXPECT_EQ(a, t);
	for (u32 h = 0; h < 1000; h++)
		ASSERT_EQ(shmnic_maglev_pick(ids.data(), 4, h * 2654435761u),
			  a[h * 2654435761u % M]);
}

TEST(Maglev, OrderOfCandidatesDoesNotMatter)
{
	/* every permutation of small sets */
	for (u32 n = 2; n <= 5; n++) {
		std::vector<u8> ids;
		for (u32 i = 0; i < n; i++)
			ids.push_back((u8)(i * 3 + 1));
		const auto ref = maglev_table(ids);
		u32 perms = 0;
		while (std::next_permutation(ids.begin(), ids.end())) {
			ASSERT_EQ(maglev_table(ids), ref)
				<< "n " << n << ", permutation " << perms;
			perms++;
		}
	}
	/* shuffles of larger ones */
	XorShift x(21);
	for (u32 n : {6u, 8u, 16u, 64u}) {
		std::vector<u8> ids;
		for (u32 i = 0; i < n; i++)
			ids.push_back((u8)(SHMNIC_MAX_NODES - 1 - i));
		const auto ref = maglev_table(ids);
		for (int s = 0; s < 50; s++) {
			for (u32 i = n - 1; i > 0; i--)
				std::swap(ids[i], ids[x.below(i + 1)]);
			ASSERT_EQ(maglev_table(ids), ref) << "n " << n << " shuffle " << s;
		}
	}
}

/* Out of its bounds (n = 0: nobody to pick; more than 64) fill() returns
 * with no candidate in the table instead of looping for ever. */
TEST(Maglev, NoCandidatesLeavesTheTableEmpty)
{
	std::vector<u8> t(M, 0);
	u32 next[SHMNIC_MAX_NODES + 1];
	u8 ids[SHMNIC_MAX_NODES + 1];
	shmnic_maglev_fill(t.data(), ids, 0, next);
	EXPECT_EQ(t, std::vector<u8>(M, 0xff));
	for (u32 i = 0; i <= SHMNIC_MAX_NODES; i++)
		ids[i] = (u8)i;
	std::fill(t.begin(), t.end(), 0);
	shmnic_maglev_fill(t.data(), ids, SHMNIC_MAX_NODES + 1, next);
	EXPECT_EQ(t, std::vector<u8>(M, 0xff));
}

TEST(Maglev, RemovingACandidateMovesLittleElse)
{
	const u32 keys = 10000;
	std::vector<u32> hashes;
	XorShift x(31);
	for (u32 i = 0; i < keys; i++) {
		shmnic_flow_key k = random_key(x);
		hashes.push_back(shmnic_flow_hash(&k));
	}
	double worst_extra = 0;
	for (const std::vector<u8> &all : std::vector<std::vector<u8>>{
		     {0, 1}, {0, 1, 2}, {0, 1, 2, 3}, {1, 2, 3, 4, 5},
		     {0, 1, 2, 3, 4, 5}, {0, 1, 2, 3, 4, 5, 6}, {0, 1, 2, 3, 4, 5, 6, 7},
		     {2, 5, 11, 17, 23, 42, 51, 63}}) {
		const u32 n = (u32)all.size();
		for (u32 gone = 0; gone < n; gone++) {
			std::vector<u8> rest = all;
			rest.erase(rest.begin() + gone);
			u32 on_gone = 0, moved = 0, extra = 0;
			for (u32 h : hashes) {
				u32 a = shmnic_maglev_pick(all.data(), n, h);
				u32 b = shmnic_maglev_pick(rest.data(), n - 1, h);
				ASSERT_NE(b, (u32)all[gone]);
				if (a == all[gone])
					on_gone++;
				if (a != b)
					moved++;
				if (a != all[gone] && a != b)
					extra++;
			}
			double fm = (double)moved / keys, fe = (double)extra / keys;
			worst_extra = std::max(worst_extra, fe);
			if (gone == 0 || gone == n - 1)
				std::printf("n %u, remove %u: %.3f moved (%.3f were on it, "
					    "%.3f others)\n",
					    n, all[gone], fm, (double)on_gone / keys, fe);
			EXPECT_LT(fm, 1.0 / n + 0.10) << "n " << n << " remove " << (int)all[gone];
			EXPECT_LT(fe, 0.10) << "n " << n << " remove " << (int)all[gone];
			/* joining is the reverse: the same flows move back */
		}
	}
	std::printf("worst share of other flows moved: %.3f\n", worst_extra);
}

TEST(Maglev, OneCandidateTakesEverything)
{
	for (u8 id : {(u8)0, (u8)5, (u8)63}) {
		XorShift x(id);
		for (int i = 0; i < 2000; i++)
			ASSERT_EQ(shmnic_maglev_pick(&id, 1, (u32)x.next()), (u32)id);
		ASSERT_EQ(shmnic_maglev_pick(&id, 1, 0), (u32)id);
		ASSERT_EQ(shmnic_maglev_pick(&id, 1, 0xffffffffu), (u32)id);
	}
}

TEST(Maglev, HundredFlowsOverTwoNodesSplitFairly)
{
	/* what the cluster test will see: 100 flows, neither node below 30 */
	u32 worst = 100;
	for (u32 a = 0; a < 8; a++)
		for (u32 b = a + 1; b < 8; b++) {
			const u8 ids[2] = {(u8)a, (u8)b};
			/* random clients */
			XorShift x(a * 8 + b);
			u32 ca = 0, cb = 0;
			for (int i = 0; i < 100; i++) {
				shmnic_flow_key k = random_key(x);
				u32 p = shmnic_maglev_pick(ids, 2, shmnic_flow_hash(&k));
				ASSERT_TRUE(p == a || p == b);
				(p == a ? ca : cb)++;
			}
			EXPECT_GE(ca, 30u) << a << "," << b;
			EXPECT_GE(cb, 30u) << a << "," << b;
			worst = std::min({worst, ca, cb});
			/* one client, 100 consecutive ephemeral ports */
			ca = cb = 0;
			for (u32 port = 40000; port < 40100; port++) {
				shmnic_flow_key k = key4(0xc0a87a01, (u16)port, 0xc0a87a64, 8080);
				u32 p = shmnic_maglev_pick(ids, 2, shmnic_flow_hash(&k));
				(p == a ? ca : cb)++;
			}
			EXPECT_GE(ca, 30u) << a << "," << b << " ports";
			EXPECT_GE(cb, 30u) << a << "," << b << " ports";
			worst = std::min({worst, ca, cb});
		}
	std::printf("100 flows over 2 nodes: the smaller share was at least %u\n", worst);
}
