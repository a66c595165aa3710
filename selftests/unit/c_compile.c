// SPDX-License-Identifier: GPL-2.0
/*
 * The ABI headers compiled as userspace C (they are also kernel C and
 * userspace C++): a few entry points the C++ tests compare against.
 */
#include <shmnic/ring.h>
#include <shmnic/flow.h>
#include <shmnic/listen.h>
#include <shmnic/counters.h>

#include <stddef.h>

int shmnic_c_layout(const struct shmnic_geometry *g, u64 size,
		    struct shmnic_layout *l);
size_t shmnic_c_sizeof(int which);
size_t shmnic_c_offsetof(int which);
u32 shmnic_c_flow_hash(const struct shmnic_flow_key *k);
void shmnic_c_maglev_fill(u8 *table, const u8 *ids, u32 n);
u32 shmnic_c_maglev_pick(const u8 *ids, u32 n, u32 hash);
int shmnic_c_flow_find(const struct shmnic_flow *part, u32 slots,
		       const struct shmnic_flow_key *k, struct shmnic_flow *out);
int shmnic_c_flow_place(const struct shmnic_flow *part, u32 slots, u32 hash,
			u32 now, int *evict);

int shmnic_c_layout(const struct shmnic_geometry *g, u64 size,
		    struct shmnic_layout *l)
{
	return shmnic_layout_compute(g, size, l);
}

size_t shmnic_c_sizeof(int which)
{
	switch (which) {
	case 0: return sizeof(struct shmnic_region);
	case 1: return sizeof(struct shmnic_desc);
	case 2: return sizeof(struct shmnic_ring);
	case 3: return sizeof(struct shmnic_layout);
	case 4: return sizeof(struct shmnic_flow);
	case 5: return sizeof(struct shmnic_flow_key);
	case 6: return sizeof(struct shmnic_query);
	}
	return 0;
}

size_t shmnic_c_offsetof(int which)
{
	switch (which) {
	case 0: return offsetof(struct shmnic_region, flow_slots);
	case 1: return offsetof(struct shmnic_region, flow_off);
	case 2: return offsetof(struct shmnic_layout, flow_off);
	case 3: return offsetof(struct shmnic_flow, key);
	case 4: return offsetof(struct shmnic_query, key);
	}
	return 0;
}

u32 shmnic_c_flow_hash(const struct shmnic_flow_key *k)
{
	return shmnic_flow_hash(k);
}

void shmnic_c_maglev_fill(u8 *table, const u8 *ids, u32 n)
{
	u32 next[SHMNIC_MAX_NODES];

	shmnic_maglev_fill(table, ids, n, next);
}

u32 shmnic_c_maglev_pick(const u8 *ids, u32 n, u32 hash)
{
	return shmnic_maglev_pick(ids, n, hash);
}

int shmnic_c_flow_find(const struct shmnic_flow *part, u32 slots,
		       const struct shmnic_flow_key *k, struct shmnic_flow *out)
{
	return shmnic_flow_find(part, slots, k, shmnic_flow_hash(k), out);
}

int shmnic_c_flow_place(const struct shmnic_flow *part, u32 slots, u32 hash,
			u32 now, int *evict)
{
	return shmnic_flow_place(part, slots, hash, now, evict);
}
