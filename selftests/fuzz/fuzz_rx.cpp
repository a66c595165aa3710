// SPDX-License-Identifier: GPL-2.0
//
// libFuzzer target: arbitrary bytes as the contents of the shared region,
// fed to the receive-side validation of include/shmnic/ exactly as the
// driver calls it. Each ring lives in a heap block of exactly its size, so
// AddressSanitizer catches any access outside it, and every copy goes to a
// buffer of exactly the frame's length.
//
// Input: byte 0 picks the geometry and the ring kind, then come the
// reader's private index, the shared producer (or write) index and the
// consumer line, then descriptors, written at the slots the reader will
// visit (from its index on): the fuzzer spends its bytes where validation
// happens. What is left is also read as a region header.
#include <shmnic/ring.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

[[noreturn]] void fail(const char *what)
{
	__builtin_trap();
	(void)what;
}

void expect(bool ok, const char *what)
{
	if (!ok)
		fail(what);
}

const shmnic_geometry kGeometries[] = {
	{ 2, 128, 2048, 128, 1, 0, SHMNIC_MIN_FLOWS },
	{ 2, 64, 4096, 64, 1, 0, SHMNIC_MIN_FLOWS },
	{ 2, 32, 8192, 32, 1, 0, SHMNIC_MIN_FLOWS },
	{ 2, 512, 512, 512, 1, 0, SHMNIC_MIN_FLOWS },
};

// The receiver of a pair ring, as in shmnic_poll_peer().
void fuzz_pair(const shmnic_layout &l, std::vector<u8> &mem, u32 cons)
{
	shmnic_ring r;

	shmnic_ring_init_pair(&r, mem.data(), &l);
	r.idx = cons;
	for (int n = 0; n < 64; n++) {
		shmnic_frame f;
		int err = shmnic_rx_peek(&r, &f);

		if (err == -EAGAIN)
			return;
		if (err) {
			expect(err == -EPROTO || err == -EBADMSG, "peek error");
			shmnic_rx_reset(&r);
			return;
		}
		expect(f.total_len >= 1 && f.total_len <= SHMNIC_MAX_FRAME, "len");
		expect(f.nslots >= 1 && f.nslots <= r.slots, "nslots");
		std::vector<u8> dst(f.total_len);
		err = shmnic_rx_copy(&r, &f, dst.data());
		expect(!err || err == -EBADMSG, "copy error");

		// The driver's chunked walk must agree with the linear copy.
		u32 copied = 0;
		bool ok = true;
		for (u32 i = 0; i < f.nslots && ok; i++) {
			const u8 *data;
			u32 len;

			ok = !shmnic_frame_chunk(&r, r.idx, &f, i, copied, &data, &len);
			if (ok) {
				expect(copied + len <= f.total_len, "chunk bound");
				std::memcpy(dst.data() + copied, data, len);
				copied += len;
			}
		}
		expect((ok && copied == f.total_len) == !err, "chunk walk");
		shmnic_rx_consume(&r, &f);
	}
}

// A broadcast or multicast reader, as in shmnic_poll_group().
void fuzz_bcast(const shmnic_layout &l, std::vector<u8> &mem, u32 cursor)
{
	shmnic_ring r;
	u64 lost = 0;

	shmnic_ring_init_bcast(&r, mem.data(), &l);
	/* the ring read as a multicast ring: its label, where a reader starts */
	shmnic_label lab;
	if (!shmnic_mc_label_read(&r, l.g.max_nodes, &lab)) {
		expect(!lab.claimed || lab.owner < l.g.max_nodes, "label owner");
		shmnic_mc_reader_init(&r, &lab, 1);
		expect(r.idx - lab.start <= r.slots ||
			       r.idx == r.bc->widx, "reader start");
	}
	r.idx = cursor;
	for (int n = 0; n < 64; n++) {
		shmnic_frame f;
		int err = shmnic_bc_peek(&r, l.g.max_nodes, &f, &lost);

		if (err == -EAGAIN)
			return;
		if (err) {
			expect(err == -ESTALE || err == -EBADMSG, "bc peek error");
			continue;
		}
		expect(f.src < l.g.max_nodes, "src");
		std::vector<u8> dst(f.total_len);
		err = shmnic_bc_copy(&r, &f, dst.data(), &lost);
		expect(!err || err == -ESTALE || err == -EBADMSG, "bc copy error");
	}
}

void fuzz_header(const u8 *data, size_t size)
{
	shmnic_region hdr = {};
	shmnic_layout l;
	u64 region_size = 64u << 20;

	std::memcpy(&hdr, data, size < sizeof(hdr) ? size : sizeof(hdr));
	if (size >= sizeof(hdr) + 8)
		std::memcpy(&region_size, data + sizeof(hdr), 8);
	if (shmnic_region_check(&hdr, region_size, &l))
		return;
	expect(l.size <= region_size, "layout fits");
	expect(shmnic_geometry_valid(&l.g), "geometry");
	for (u32 n = 0; n < l.g.nets; n++)
		expect(l.net_off[n] + l.net_bytes <= l.size, "net inside");
	expect(l.flow_off % SHMNIC_PAGE == 0, "flow area aligned");
	expect(l.flow_off >= l.net_off[l.g.nets - 1] + l.net_bytes,
	       "flow area after the nets");
	expect(l.flow_off + (u64)l.g.max_nodes * l.g.flow_slots *
		       SHMNIC_FLOW_BYTES <= l.size, "flow area inside");
}

// Ring memory ends exactly at the last buffer byte (no page padding), so
// AddressSanitizer sees an overrun of the last slot.
size_t ring_end(const shmnic_layout &l, bool bcast)
{
	return bcast ? l.bcast_buf_off + (size_t)l.g.bcast_slots * l.g.buf_size :
		       l.ring_buf_off + (size_t)l.g.ring_slots * l.g.buf_size;
}

struct Input {
	const u8 *p;
	size_t left;

	u32 u32_or0()
	{
		u32 v = 0;

		if (left >= 4) {
			std::memcpy(&v, p, 4);
			p += 4;
			left -= 4;
		}
		return v;
	}
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	if (size < 1)
		return 0;
	const shmnic_geometry &g = kGeometries[data[0] & 3];
	bool bcast = data[0] & 4;
	Input in = { data + 1, size - 1 };
	shmnic_layout l;

	if (shmnic_layout_compute(&g, 1ull << 32, &l))
		fail("geometry");
	std::vector<u8> mem(ring_end(l, bcast));
	u32 slots = bcast ? g.bcast_slots : g.ring_slots;
	u64 desc_off = bcast ? l.bcast_desc_off : l.ring_desc_off;

	u32 cursor = in.u32_or0();
	u32 prod = in.u32_or0();
	u32 word = in.u32_or0();
	if (bcast) {
		auto *h = reinterpret_cast<shmnic_bcast_hdr *>(mem.data());
		h->widx = prod;
		h->lock = word;
	} else {
		auto *h = reinterpret_cast<shmnic_ring_hdr *>(mem.data());
		h->tx.prod = prod;
		h->rx.cons = word;
	}
	const u8 *hdr = in.p;
	size_t hdr_len = in.left;
	auto *desc = reinterpret_cast<shmnic_desc *>(mem.data() + desc_off);
	for (u32 i = 0; i < slots && in.left; i++) {
		size_t n = in.left < sizeof(shmnic_desc) ? in.left : sizeof(shmnic_desc);

		std::memcpy(&desc[(cursor + i) & (slots - 1)], in.p, n);
		in.p += n;
		in.left -= n;
	}

	if (bcast)
		fuzz_bcast(l, mem, cursor);
	else
		fuzz_pair(l, mem, cursor);
	fuzz_header(hdr, hdr_len);
	return 0;
}
