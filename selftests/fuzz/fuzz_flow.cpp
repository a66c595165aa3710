// SPDX-License-Identifier: GPL-2.0
//
// libFuzzer target: arbitrary bytes as another node's part of the flow
// table (include/shmnic/flow.h), looked up as a gateway does. The part is a
// heap block of exactly its size, so AddressSanitizer catches any access
// outside it; nothing that only reads may change it.
//
// Input: byte 0 picks the part's size, then the gateway's clock (4 bytes),
// a key (40 bytes) and a raw hash (4 bytes), then the entries; what the
// input does not cover stays zero (free entries).
#include <shmnic/flow.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace {

void expect(bool ok)
{
	if (!ok)
		__builtin_trap();
}

void check_find(const std::vector<u8> &mem, u32 slots,
		const shmnic_flow_key &k, u32 hash)
{
	const auto *part = reinterpret_cast<const shmnic_flow *>(mem.data());
	const u32 first = shmnic_flow_set(hash, slots);
	shmnic_flow out;
	int i = shmnic_flow_find(part, slots, &k, hash, &out);

	expect(first + SHMNIC_FLOW_WAYS <= slots);
	expect(i == -ENOENT ||
	       (i >= (int)first && i < (int)(first + SHMNIC_FLOW_WAYS)));
	if (i >= 0)
		expect(shmnic_flow_key_eq(&out.key, &k) && out.hash == hash &&
		       !(out.seq & 1) && out.state >= SHMNIC_FS_SYN &&
		       out.state <= SHMNIC_FS_MAX);
}

void check_place(const std::vector<u8> &mem, u32 slots, u32 hash, u32 now)
{
	const auto *part = reinterpret_cast<const shmnic_flow *>(mem.data());
	const u32 first = shmnic_flow_set(hash, slots);
	int evict = -1;
	int i = shmnic_flow_place(part, slots, hash, now, &evict);

	expect(evict == 0 || evict == 1);
	if (i == -ENOSPC) {
		expect(!evict);
		for (u32 w = first; w < first + SHMNIC_FLOW_WAYS; w++)
			expect(part[w].state == SHMNIC_FS_EST &&
			       !shmnic_flow_expired(part[w].state, part[w].last,
						   now));
		return;
	}
	expect(i >= (int)first && i < (int)(first + SHMNIC_FLOW_WAYS));
	if (evict)
		expect(part[i].state != SHMNIC_FS_EST);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static const u32 kSlots[] = { SHMNIC_MIN_FLOWS, 128, 256, 1024 };
	shmnic_flow_key k{};
	u32 now = 0, raw = 0;

	if (size < 1)
		return 0;
	const u32 slots = kSlots[data[0] & 3];
	data++;
	size--;
	auto take = [&](void *dst, size_t n) {
		size_t c = size < n ? size : n;

		std::memcpy(dst, data, c);
		data += c;
		size -= c;
	};
	take(&now, sizeof(now));
	take(&k, sizeof(k));
	take(&raw, sizeof(raw));

	std::vector<u8> mem((size_t)slots * sizeof(shmnic_flow));
	take(mem.data(), mem.size());
	const std::vector<u8> before = mem;
	const auto *part = reinterpret_cast<const shmnic_flow *>(mem.data());

	check_find(mem, slots, k, shmnic_flow_hash(&k));
	check_find(mem, slots, k, raw);
	check_place(mem, slots, shmnic_flow_hash(&k), now);
	check_place(mem, slots, raw, now);
	for (u32 i = 0; i < slots; i++) {
		shmnic_flow out;
		int rc = shmnic_flow_read(&part[i], &out);

		expect(rc == 0 || rc == -EAGAIN);
		if (!rc)
			expect(!(out.seq & 1) && out.state >= SHMNIC_FS_SYN &&
			       out.state <= SHMNIC_FS_MAX);
		/* what a reader trusts must be bounded by the caller: the
		 * entry's own key finds it only in its own set */
		if (!rc) {
			shmnic_flow got;
			int j = shmnic_flow_find(part, slots, &out.key, out.hash,
						 &got);
			expect(j == -ENOENT ||
			       (u32)j / SHMNIC_FLOW_WAYS ==
				       shmnic_flow_set(out.hash, slots) /
					       SHMNIC_FLOW_WAYS);
		}
	}
	expect(mem == before);

	/* the owner rewriting one entry touches only that entry */
	u32 at = raw & (slots - 1);
	shmnic_flow f{};
	f.key = k;
	f.hash = shmnic_flow_hash(&k);
	f.state = SHMNIC_FS_SYN;
	f.last = now;
	shmnic_flow_write(reinterpret_cast<shmnic_flow *>(mem.data()) + at, &f);
	expect(!std::memcmp(mem.data(), before.data(), at * sizeof(shmnic_flow)));
	expect(!std::memcmp(mem.data() + (at + 1) * sizeof(shmnic_flow),
			    before.data() + (at + 1) * sizeof(shmnic_flow),
			    mem.size() - (at + 1) * sizeof(shmnic_flow)));

	/* Maglev over the candidates named by the key's bytes */
	u8 ids[SHMNIC_MAX_NODES];
	u64 seen = 0;
	u32 n = 0;
	for (u32 i = 0; i < sizeof(k); i++) {
		u8 id = reinterpret_cast<const u8 *>(&k)[i] % SHMNIC_MAX_NODES;

		if (!(seen & (1ull << id))) {
			seen |= 1ull << id;
			ids[n++] = id;
		}
	}
	u32 p = shmnic_maglev_pick(ids, n, raw);
	expect(p < SHMNIC_MAX_NODES && (seen & (1ull << p)));
	return 0;
}
