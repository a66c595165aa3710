// SPDX-License-Identifier: GPL-2.0
/*
 * include/shmnic/layout.h: geometry validation, layout computation, the
 * region header round trip.
 */
#include "test_util.h"

#include <shmnic/flow.h>
#include <shmnic/listen.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <set>
#include <utility>

using namespace shmnic_test;

namespace {

constexpr u64 MiB = 1024 * 1024;

struct Span {
	u64 start, end; /* [start, end) */
	std::string what;
};

/* Every structure of the region as byte ranges relative to the base. */
std::vector<Span> spans(const shmnic_layout &l)
{
	std::vector<Span> v;
	v.push_back({0, sizeof(shmnic_region), "region header"});
	v.push_back({l.node_off,
		     l.node_off + (u64)l.g.max_nodes * sizeof(shmnic_node),
		     "node table"});
	for (u32 n = 0; n < l.g.nets; n++) {
		v.push_back({l.net_off[n], l.net_off[n] + l.bcast_bytes,
			     "bcast net " + std::to_string(n)});
		for (u32 i = 0; i < l.g.mcast_rings; i++) {
			u8 *base = reinterpret_cast<u8 *>(SHMNIC_PAGE);
			u64 off = (u64)((u8 *)shmnic_mcast_ring_at(base, &l, n,
								   i) - base);
			v.push_back({off, off + l.bcast_bytes,
				     "mcast " + std::to_string(i) + " net " +
					     std::to_string(n)});
		}
		for (u32 to = 0; to < l.g.max_nodes; to++)
			for (u32 from = 0; from < l.g.max_nodes; from++) {
				u8 *base = reinterpret_cast<u8 *>(SHMNIC_PAGE);
				u64 off = (u64)((u8 *)shmnic_pair_ring_at(
						base, &l, n, from, to) - base);
				v.push_back({off, off + l.ring_bytes,
					     "pair " + std::to_string(from) +
						     "->" + std::to_string(to) +
						     " net " + std::to_string(n)});
			}
	}
	/* the flow table: one part per node */
	for (u32 id = 0; id < l.g.max_nodes; id++) {
		u8 *base = reinterpret_cast<u8 *>(SHMNIC_PAGE);
		u64 off = (u64)((u8 *)shmnic_flow_part(base, &l, id) - base);
		v.push_back({off, off + (u64)l.g.flow_slots * sizeof(shmnic_flow),
			     "flow part " + std::to_string(id)});
	}
	return v;
}

/* Bytes of the whole flow table of layout @l. */
u64 flow_bytes(const shmnic_layout &l)
{
	return (u64)l.g.max_nodes * l.g.flow_slots * sizeof(shmnic_flow);
}

void expect_layout_sane(const shmnic_geometry &g, const shmnic_layout &l)
{
	SCOPED_TRACE(::testing::Message()
		     << "geometry {" << g.max_nodes << "," << g.ring_slots << ","
		     << g.buf_size << "," << g.bcast_slots << "," << g.nets
		     << "," << g.mcast_rings << "," << g.flow_slots << "}");
	/* alignment */
	EXPECT_EQ(l.node_off % SHMNIC_PAGE, 0u);
	for (u32 n = 0; n < g.nets; n++)
		EXPECT_EQ(l.net_off[n] % SHMNIC_PAGE, 0u) << "net " << n;
	EXPECT_EQ(l.ring_bytes % SHMNIC_PAGE, 0u);
	EXPECT_EQ(l.bcast_bytes % SHMNIC_PAGE, 0u);
	EXPECT_EQ(l.net_bytes % SHMNIC_PAGE, 0u);
	EXPECT_EQ(l.size % SHMNIC_PAGE, 0u);
	EXPECT_EQ(l.ring_desc_off % SHMNIC_CACHELINE, 0u);
	EXPECT_EQ(l.ring_buf_off % SHMNIC_CACHELINE, 0u);
	EXPECT_EQ(l.bcast_desc_off % SHMNIC_CACHELINE, 0u);
	EXPECT_EQ(l.bcast_buf_off % SHMNIC_CACHELINE, 0u);
	EXPECT_EQ(l.flow_off % SHMNIC_PAGE, 0u);

	/* the flow table: after the last network; then one page of
	 * published listeners per node, then two pages of published
	 * counters per node, up to the end of the region */
	EXPECT_EQ(l.g.flow_slots, g.flow_slots);
	EXPECT_EQ(l.flow_off, l.net_off[g.nets - 1] + l.net_bytes);
	EXPECT_EQ(l.listen_off,
		  l.flow_off + shmnic_align(flow_bytes(l), SHMNIC_PAGE));
	EXPECT_EQ(l.ctrs_off, l.listen_off + (u64)g.max_nodes * SHMNIC_LISTEN_BYTES);
	EXPECT_EQ(l.size, l.ctrs_off + (u64)g.max_nodes * 2 * SHMNIC_PAGE);
	EXPECT_LE(l.flow_off + flow_bytes(l), l.listen_off);
	EXPECT_EQ(sizeof(shmnic_flow), (size_t)SHMNIC_FLOW_BYTES);

	/* inside one ring: header, descriptors, buffers, in that order */
	EXPECT_GE(l.ring_desc_off, sizeof(shmnic_ring_hdr));
	EXPECT_GE(l.ring_buf_off,
		  l.ring_desc_off + (u64)g.ring_slots * sizeof(shmnic_desc));
	EXPECT_LE(l.ring_buf_off + (u64)g.ring_slots * g.buf_size, l.ring_bytes);
	EXPECT_GE(l.bcast_desc_off, sizeof(shmnic_bcast_hdr));
	EXPECT_GE(l.bcast_buf_off,
		  l.bcast_desc_off + (u64)g.bcast_slots * sizeof(shmnic_desc));
	EXPECT_LE(l.bcast_buf_off + (u64)g.bcast_slots * g.buf_size,
		  l.bcast_bytes);

	/* nothing overlaps, everything is inside the region */
	auto v = spans(l);
	std::sort(v.begin(), v.end(),
		  [](const Span &a, const Span &b) { return a.start < b.start; });
	for (size_t i = 0; i < v.size(); i++) {
		EXPECT_LT(v[i].start, v[i].end) << v[i].what;
		EXPECT_LE(v[i].end, l.size) << v[i].what;
		if (i) {
			EXPECT_LE(v[i - 1].end, v[i].start)
				<< v[i - 1].what << " overlaps " << v[i].what;
		}
	}
	for (const auto &s : v) {
		if (s.what.rfind("pair", 0) == 0 || s.what.rfind("bcast", 0) == 0 ||
		    s.what.rfind("mcast", 0) == 0 || s.what == "flow part 0") {
			EXPECT_EQ(s.start % SHMNIC_PAGE, 0u) << s.what;
		}
	}
}

} // namespace

TEST(Layout, StructSizesAndOffsetsAreTheAbi)
{
	EXPECT_EQ(sizeof(shmnic_desc), 32u);
	EXPECT_EQ(offsetof(shmnic_desc, seq), 16u);
	EXPECT_EQ(offsetof(shmnic_desc, meta), 20u);
	EXPECT_EQ(sizeof(shmnic_ring_hdr), 2 * SHMNIC_CACHELINE);
	EXPECT_EQ(offsetof(shmnic_ring_hdr, rx), SHMNIC_CACHELINE);
	EXPECT_EQ(offsetof(shmnic_bcast_hdr, widx), SHMNIC_CACHELINE);
	EXPECT_EQ(sizeof(shmnic_node), SHMNIC_CACHELINE);
	EXPECT_LE(sizeof(shmnic_region), SHMNIC_PAGE);
	EXPECT_EQ(SHMNIC_MAX_FRAME, 65553u);
	EXPECT_EQ(SHMNIC_MAX_CHAIN, 257u);
}

TEST(Layout, DefaultGeometryFitsIn64MiB)
{
	shmnic_geometry g = default_geometry();
	shmnic_layout l;
	ASSERT_TRUE(shmnic_geometry_valid(&g));
	ASSERT_EQ(shmnic_layout_compute(&g, 64 * MiB, &l), 0);
	EXPECT_LE(l.size, 64 * MiB);
	EXPECT_EQ(l.g.max_nodes, 8u);
	EXPECT_EQ(l.node_off, SHMNIC_PAGE);
	EXPECT_EQ(l.net_bytes, 5 * l.bcast_bytes + 64 * l.ring_bytes);
	EXPECT_EQ(l.g.flow_slots, DEFAULT_FLOW_SLOTS);
	EXPECT_EQ(l.flow_off, l.net_off[0] + l.net_bytes);
	/* 8 nodes * 1024 entries * 64 bytes = 512 KiB, already page aligned,
	 * then 8 pages of listeners and 16 of counters */
	EXPECT_EQ(l.listen_off, l.flow_off + 512 * 1024);
	EXPECT_EQ(l.ctrs_off, l.listen_off + 8 * SHMNIC_PAGE);
	EXPECT_EQ(l.size, l.ctrs_off + 16 * SHMNIC_PAGE);
	expect_layout_sane(g, l);
}

TEST(Layout, OtherValidGeometriesAreSane)
{
	const shmnic_geometry gs[] = {
		geometry(2, 256, 2048, 128, 1),
		geometry(2, 16, 65536, 16, 2),
		geometry(2, 16, 65536, 16, 2, 16),
		geometry(64, 64, 4096, 1024, 2, 7),
		geometry(3, 1024, 256, 1024, 1),
		geometry(5, 128, 4160, 32, 2), /* buf not a power of two */
		geometry(64, 16384, 65536, 16384, 2, 16), /* largest */
		geometry(64, 16384, 65536, 16384, 2, 16, SHMNIC_MAX_FLOWS),
		geometry(2, 256, 2048, 128, 1, 0, SHMNIC_MIN_FLOWS),
		geometry(3, 256, 2048, 128, 2, 1, 128),
		geometry(64, 64, 4096, 1024, 1, 0, SHMNIC_MIN_FLOWS),
	};
	for (const auto &g : gs) {
		shmnic_layout l;
		ASSERT_TRUE(shmnic_geometry_valid(&g));
		ASSERT_EQ(shmnic_layout_compute(&g, ~0ull, &l), 0);
		expect_layout_sane(g, l);
	}
}

TEST(Layout, PairRingsAreDistinctForEveryFromTo)
{
	shmnic_geometry g = geometry(8, 256, 2048, 256, 2);
	shmnic_layout l;
	ASSERT_EQ(shmnic_layout_compute(&g, ~0ull, &l), 0);
	std::set<void *> seen;
	u8 *base = reinterpret_cast<u8 *>(0x100000);
	for (u32 n = 0; n < g.nets; n++) {
		seen.insert(shmnic_bcast_ring_at(base, &l, n));
		for (u32 from = 0; from < g.max_nodes; from++)
			for (u32 to = 0; to < g.max_nodes; to++) {
				void *p = shmnic_pair_ring_at(base, &l, n, from, to);
				EXPECT_TRUE(seen.insert(p).second)
					<< "net " << n << " " << from << "->" << to;
				/* receiver-major, as documented */
				EXPECT_EQ((u8 *)p - base,
					  (ptrdiff_t)(l.net_off[n] + l.bcast_bytes +
						      (to * g.max_nodes + from) *
							      l.ring_bytes));
			}
	}
	EXPECT_EQ(seen.size(), (size_t)g.nets * (1 + 64));
	EXPECT_EQ((u8 *)shmnic_node_at(base, &l, 3) - base,
		  (ptrdiff_t)(l.node_off + 3 * sizeof(shmnic_node)));
}

TEST(Layout, InvalidGeometriesAreRejected)
{
	const struct {
		shmnic_geometry g;
		const char *why;
	} bad[] = {
		{geometry(8, 100, 2048, 256, 1), "ring_slots not a power of two"},
		{geometry(8, 0, 2048, 256, 1), "ring_slots 0"},
		{geometry(8, 8, 65536, 256, 1), "ring_slots < MIN_SLOTS"},
		{geometry(8, 32768, 2048, 256, 1), "ring_slots > MAX_SLOTS"},
		{geometry(8, 256, 2048, 100, 1), "bcast_slots not a power of two"},
		{geometry(8, 256, 2048, 0, 1), "bcast_slots 0"},
		{geometry(8, 256, 2048, 8, 1), "bcast_slots < MIN_SLOTS"},
		{geometry(8, 256, 2048, 32768, 1), "bcast_slots > MAX_SLOTS"},
		{geometry(8, 256, 2000, 256, 1), "buf_size not a multiple of 64"},
		{geometry(8, 256, 2049, 256, 1), "buf_size not a multiple of 64"},
		{geometry(8, 1024, 192, 256, 1), "buf_size < MIN_BUF"},
		{geometry(8, 256, 65536 + 64, 256, 1), "buf_size > MAX_BUF"},
		{geometry(8, 256, 0, 256, 1), "buf_size 0"},
		{geometry(0, 256, 2048, 256, 1), "max_nodes 0"},
		{geometry(1, 256, 2048, 256, 1), "max_nodes 1"},
		{geometry(65, 256, 2048, 256, 1), "max_nodes > 64"},
		{geometry(8, 256, 2048, 256, 0), "nets 0"},
		{geometry(8, 256, 2048, 256, 3), "nets > MAX_NETS"},
		{geometry(8, 64, 2048, 256, 1), "max frame (33 slots) > half ring"},
		{geometry(8, 512, 256, 256, 1), "max frame (257 slots) > half ring"},
		{geometry(8, 16, 8192, 256, 1), "max frame (9 slots) > half ring"},
		{geometry(8, 256, 2048, 256, 1, 0, 0), "flow_slots 0"},
		{geometry(8, 256, 2048, 256, 1, 0, 1), "flow_slots 1"},
		{geometry(8, 256, 2048, 256, 1, 0, 4), "flow_slots 4 (one set)"},
		{geometry(8, 256, 2048, 256, 1, 0, 32), "flow_slots < MIN_FLOWS"},
		{geometry(8, 256, 2048, 256, 1, 0, 65), "flow_slots 65"},
		{geometry(8, 256, 2048, 256, 1, 0, 1000), "flow_slots not a power of two"},
		{geometry(8, 256, 2048, 256, 1, 0, 65535), "flow_slots 65535"},
		{geometry(8, 256, 2048, 256, 1, 0, 131072), "flow_slots > MAX_FLOWS"},
		{geometry(8, 256, 2048, 256, 1, 0, 0x80000000u), "flow_slots 2^31"},
		{geometry(8, 256, 2048, 256, 1, 0, 0xffffffffu), "flow_slots ~0"},
	};
	for (const auto &b : bad) {
		shmnic_layout l;
		EXPECT_FALSE(shmnic_geometry_valid(&b.g)) << b.why;
		EXPECT_EQ(shmnic_layout_compute(&b.g, ~0ull, &l), -EINVAL) << b.why;
	}
	/* the boundaries just inside are valid */
	const shmnic_geometry good[] = {
		geometry(2, 256, 2048, 256, 1),
		geometry(64, 256, 2048, 256, 1),
		geometry(8, 1024, 256, 1024, 1), /* 257 slots <= 512 */
		geometry(8, 16, 65536, 16, 1),   /* 2 slots <= 8 */
		geometry(8, 128, 2048, 128, 2),  /* 33 <= 64 */
		geometry(8, 16384, 65536, 16384, 2),
		geometry(8, 256, 2048, 256, 1, 0, SHMNIC_MIN_FLOWS),
		geometry(8, 256, 2048, 256, 1, 0, SHMNIC_MAX_FLOWS),
	};
	for (const auto &g : good)
		EXPECT_TRUE(shmnic_geometry_valid(&g))
			<< g.max_nodes << "," << g.ring_slots << "," << g.buf_size;
}

TEST(Layout, TooSmallRegionGivesENOSPC)
{
	shmnic_geometry g = default_geometry();
	shmnic_layout l;
	ASSERT_EQ(shmnic_layout_compute(&g, ~0ull, &l), 0);
	u64 need = l.size;
	shmnic_layout l2;
	EXPECT_EQ(shmnic_layout_compute(&g, need, &l2), 0);
	EXPECT_EQ(shmnic_layout_compute(&g, need - 1, &l2), -ENOSPC);
	EXPECT_EQ(shmnic_layout_compute(&g, 1 * MiB, &l2), -ENOSPC);
	EXPECT_EQ(shmnic_layout_compute(&g, 0, &l2), -ENOSPC);
	/* a larger geometry does not fit in 64 MiB */
	shmnic_geometry big = geometry(64, 256, 2048, 256, 1);
	EXPECT_EQ(shmnic_layout_compute(&big, 64 * MiB, &l2), -ENOSPC);
}

TEST(Layout, RegionFillThenCheckRoundTrips)
{
	for (u32 nets = 1; nets <= 2; nets++) {
		shmnic_geometry g = default_geometry();
		g.nets = nets;
		shmnic_layout l, l2;
		const u64 bar = nets * 64 * MiB;
		ASSERT_EQ(shmnic_layout_compute(&g, bar, &l), 0);
		shmnic_region r;
		std::memset(&r, 0xa5, sizeof(r));
		shmnic_region_fill(&r, &l, 5);
		EXPECT_EQ(r.formatter, 5u);
		EXPECT_EQ(r.net_off[0], l.net_off[0]);
		EXPECT_EQ(r.flow_slots, l.g.flow_slots);
		EXPECT_EQ(r.flow_off, l.flow_off);
		if (nets == 1) {
			EXPECT_EQ(r.net_off[1], 0u);
		}
		/* not READY yet: refused */
		r.state = SHMNIC_FMT_BUSY;
		EXPECT_EQ(shmnic_region_check(&r, bar, &l2), -EINVAL);
		r.state = SHMNIC_FMT_READY;
		ASSERT_EQ(shmnic_region_check(&r, bar, &l2), 0);
		EXPECT_EQ(std::memcmp(&l, &l2, sizeof(l)), 0);
		EXPECT_EQ(l2.flow_off, l.flow_off);
		EXPECT_EQ(l2.g.flow_slots, DEFAULT_FLOW_SLOTS);
		/* a BAR that ends inside the flow table */
		EXPECT_EQ(shmnic_region_check(&r, l.flow_off + flow_bytes(l) - 1,
					      &l2), -EINVAL);
		/* a smaller BAR than what was laid out */
		EXPECT_EQ(shmnic_region_check(&r, l.size - SHMNIC_PAGE, &l2),
			  -EINVAL);
	}
}

TEST(Layout, RegionCheckRejectsAnySingleChangedField)
{
	shmnic_geometry g = geometry(8, 256, 2048, 256, 2, 3);
	shmnic_layout l, l2;
	ASSERT_EQ(shmnic_layout_compute(&g, 128 * MiB, &l), 0);
	shmnic_region good;
	std::memset(&good, 0, sizeof(good));
	shmnic_region_fill(&good, &l, 1);
	good.state = SHMNIC_FMT_READY;
	ASSERT_EQ(shmnic_region_check(&good, 128 * MiB, &l2), 0);

#define FIELD(f) {#f, offsetof(shmnic_region, f), sizeof(good.f)}
	const struct {
		const char *name;
		size_t off, size;
	} fields[] = {
		FIELD(magic), FIELD(version), FIELD(state), FIELD(size),
		FIELD(max_nodes), FIELD(ring_slots), FIELD(buf_size),
		FIELD(bcast_slots), FIELD(nets), FIELD(mcast_rings),
		FIELD(node_off),
		{"net_off[0]", offsetof(shmnic_region, net_off), 8},
		{"net_off[1]", offsetof(shmnic_region, net_off) + 8, 8},
		FIELD(ring_bytes), FIELD(bcast_bytes), FIELD(net_bytes),
		FIELD(flow_slots), FIELD(flow_off), FIELD(listen_off),
		FIELD(ctrs_off),
	};
#undef FIELD
	/* a few kinds of change per field: +1, -1, one high bit, zero, ~0 */
	for (const auto &f : fields) {
		for (int kind = 0; kind < 6; kind++) {
			shmnic_region r = good;
			u8 *p = reinterpret_cast<u8 *>(&r) + f.off;
			u64 v = 0;
			std::memcpy(&v, p, f.size);
			u64 orig = v;
			switch (kind) {
			case 0: v += 1; break;
			case 1: v -= 1; break;
			case 2: v ^= (u64)1 << (f.size * 8 - 1); break;
			case 3: v = 0; break;
			case 4: v = ~0ull; break;
			case 5: v += SHMNIC_PAGE; break;
			}
			std::memcpy(p, &v, f.size);
			std::memcpy(&v, p, f.size);
			if (v == orig)
				continue;
			EXPECT_EQ(shmnic_region_check(&r, 128 * MiB, &l2), -EINVAL)
				<< f.name << " changed from " << orig << " (kind "
				<< kind << ")";
		}
	}
	/* the padding word next to flow_slots is not part of the layout */
	{
		shmnic_region r = good;
		r.pad0 = 0xdeadbeef;
		EXPECT_EQ(shmnic_region_check(&r, 128 * MiB, &l2), 0);
	}
	/* the formatter id is informational */
	shmnic_region r = good;
	r.formatter = 7;
	EXPECT_EQ(shmnic_region_check(&r, 128 * MiB, &l2), 0);
}

TEST(Layout, MismatchedFlowAreaIsRefused)
{
	shmnic_geometry g = geometry(4, 256, 2048, 256, 2, 2);
	shmnic_layout l, l2;
	ASSERT_EQ(shmnic_layout_compute(&g, ~0ull, &l), 0);
	const u64 bar = l.size + 4 * MiB;
	shmnic_region good{};
	shmnic_region_fill(&good, &l, 0);
	good.state = SHMNIC_FMT_READY;
	ASSERT_EQ(shmnic_region_check(&good, bar, &l2), 0);

	/* flow_off pointing anywhere else: into the last net, at its start,
	 * one entry or one page on, at 0, past the end */
	const u64 offs[] = {
		l.flow_off - SHMNIC_PAGE, l.flow_off + SHMNIC_PAGE,
		l.flow_off + sizeof(shmnic_flow), l.flow_off - 1,
		l.net_off[1], l.net_off[0], l.node_off, 0, l.size, bar,
		~0ull,
	};
	for (u64 off : offs) {
		shmnic_region r = good;
		r.flow_off = off;
		EXPECT_EQ(shmnic_region_check(&r, bar, &l2), -EINVAL)
			<< "flow_off " << off << " (layout " << l.flow_off << ")";
	}
	/* another valid flow_slots: the size no longer agrees */
	for (u32 fs : {SHMNIC_MIN_FLOWS, 512u, 2048u, SHMNIC_MAX_FLOWS}) {
		shmnic_region r = good;
		r.flow_slots = fs;
		EXPECT_EQ(shmnic_region_check(&r, bar, &l2), -EINVAL)
			<< "flow_slots " << fs;
	}
	/* ...but a header that is consistent with it (size and flow_off of
	 * that geometry) is accepted, when it fits */
	{
		shmnic_geometry g2 = g;
		g2.flow_slots = 2048;
		shmnic_layout l3;
		ASSERT_EQ(shmnic_layout_compute(&g2, ~0ull, &l3), 0);
		EXPECT_EQ(l3.flow_off, l.flow_off); /* only listeners follow */
		shmnic_region r = good;
		r.flow_slots = 2048;
		r.size = l3.size;
		r.listen_off = l3.listen_off;
		r.ctrs_off = l3.ctrs_off;
		EXPECT_EQ(shmnic_region_check(&r, bar, &l2), 0);
		EXPECT_EQ(l2.g.flow_slots, 2048u);
		EXPECT_EQ(shmnic_region_check(&r, l3.size - 1, &l2), -EINVAL);
	}
	/* a version 2 header (no flow table) is refused */
	{
		shmnic_region r = good;
		r.version = 2;
		EXPECT_EQ(shmnic_region_check(&r, bar, &l2), -EINVAL);
	}
}

TEST(Layout, FlowPartsAreDistinctAndInOrder)
{
	shmnic_geometry g = geometry(8, 256, 2048, 256, 2, 1, 256);
	shmnic_layout l;
	ASSERT_EQ(shmnic_layout_compute(&g, ~0ull, &l), 0);
	u8 *base = reinterpret_cast<u8 *>(0x100000);
	for (u32 id = 0; id < g.max_nodes; id++) {
		shmnic_flow *p = shmnic_flow_part(base, &l, id);
		EXPECT_EQ((u8 *)p - base,
			  (ptrdiff_t)(l.flow_off + (u64)id * 256 * 64)) << id;
		/* the last entry of the last part ends inside the region */
		EXPECT_LE((u64)((u8 *)(p + g.flow_slots) - base), l.size) << id;
	}
	/* the largest table: 64 nodes of 65536 entries, 256 MiB */
	shmnic_geometry big = geometry(64, 16, 65536, 16, 1, 0, SHMNIC_MAX_FLOWS);
	ASSERT_EQ(shmnic_layout_compute(&big, ~0ull, &l), 0);
	EXPECT_EQ(l.listen_off - l.flow_off, 256 * MiB);
	EXPECT_EQ((u8 *)shmnic_flow_part(base, &l, 63) - base,
		  (ptrdiff_t)(l.flow_off + 63ull * 65536 * 64));
}

/* The header compiled as C (see c_compile.c) agrees with the C++ view. */
extern "C" int shmnic_c_layout(const struct shmnic_geometry *g, u64 size,
			       struct shmnic_layout *l);
extern "C" size_t shmnic_c_sizeof(int which);
extern "C" size_t shmnic_c_offsetof(int which);

TEST(Layout, CAndCxxAgreeOnLayout)
{
	shmnic_geometry g = default_geometry();
	shmnic_layout a, b;
	ASSERT_EQ(shmnic_layout_compute(&g, 64 * MiB, &a), 0);
	ASSERT_EQ(shmnic_c_layout(&g, 64 * MiB, &b), 0);
	EXPECT_EQ(std::memcmp(&a, &b, sizeof(a)), 0);
	EXPECT_EQ(shmnic_c_sizeof(0), sizeof(shmnic_region));
	EXPECT_EQ(shmnic_c_sizeof(1), sizeof(shmnic_desc));
	EXPECT_EQ(shmnic_c_sizeof(2), sizeof(shmnic_ring));
	EXPECT_EQ(shmnic_c_sizeof(3), sizeof(shmnic_layout));
	EXPECT_EQ(shmnic_c_sizeof(4), sizeof(shmnic_flow));
	EXPECT_EQ(shmnic_c_sizeof(5), sizeof(shmnic_flow_key));
	EXPECT_EQ(shmnic_c_sizeof(6), sizeof(shmnic_query));
	EXPECT_EQ(shmnic_c_offsetof(0), offsetof(shmnic_region, flow_slots));
	EXPECT_EQ(shmnic_c_offsetof(1), offsetof(shmnic_region, flow_off));
	EXPECT_EQ(shmnic_c_offsetof(2), offsetof(shmnic_layout, flow_off));
	EXPECT_EQ(shmnic_c_offsetof(3), offsetof(shmnic_flow, key));
	EXPECT_EQ(shmnic_c_offsetof(4), offsetof(shmnic_query, key));
}

TEST(Layout, FlowAbiOffsets)
{
	EXPECT_EQ(sizeof(shmnic_flow), SHMNIC_CACHELINE);
	EXPECT_EQ(offsetof(shmnic_flow, seq), 0u);
	EXPECT_EQ(offsetof(shmnic_flow, state), 4u);
	EXPECT_EQ(offsetof(shmnic_flow, node), 6u);
	EXPECT_EQ(offsetof(shmnic_flow, last), 8u);
	EXPECT_EQ(offsetof(shmnic_flow, hash), 12u);
	EXPECT_EQ(offsetof(shmnic_flow, key), 16u);
	EXPECT_EQ(sizeof(shmnic_flow_key), 40u);
	EXPECT_EQ(offsetof(shmnic_flow_key, saddr), 8u);
	EXPECT_EQ(offsetof(shmnic_flow_key, daddr), 24u);
	EXPECT_EQ(offsetof(shmnic_region, flow_off) % 8, 0u);
	EXPECT_LE(sizeof(shmnic_region), SHMNIC_PAGE);
}

/* Which regions a node may format without force_format=1. */
TEST(Layout, RegionClassify)
{
	std::vector<u64> page(SHMNIC_PAGE / 8, 0);
	auto r = reinterpret_cast<shmnic_region *>(page.data());
	auto kind = [&] { return shmnic_region_classify(page.data()); };

	EXPECT_EQ(kind(), SHMNIC_REGION_ZERO);
	/* a node won the state word and has not written the header */
	r->state = SHMNIC_FMT_BUSY;
	EXPECT_EQ(kind(), SHMNIC_REGION_FORMATTING);
	r->state = SHMNIC_FMT_READY;	/* READY without our magic */
	EXPECT_EQ(kind(), SHMNIC_REGION_FOREIGN);
	r->state = 0;
	r->magic = SHMNIC_MAGIC;
	EXPECT_EQ(kind(), SHMNIC_REGION_OURS);
	r->magic = 0;
	/* one byte anywhere in the page makes it someone else's */
	for (u32 off : { 4u, 12u, 100u, SHMNIC_PAGE - 1 }) {
		reinterpret_cast<u8 *>(page.data())[off] = 0x5a;
		EXPECT_EQ(kind(), SHMNIC_REGION_FOREIGN) << off;
		reinterpret_cast<u8 *>(page.data())[off] = 0;
	}
	/* a Looking Glass (KVMFR) header, whose state word reads 0 */
	std::memcpy(page.data(), "KVMFR---", 8);
	page[2] = 0x1234;
	EXPECT_EQ(r->state, 0u);
	EXPECT_EQ(kind(), SHMNIC_REGION_FOREIGN);
}
