// SPDX-License-Identifier: GPL-2.0
/*
 * The ABI headers compiled as userspace C (they are also kernel C and
 * userspace C++): a few entry points the C++ tests compare against.
 */
#include <shmnic/ring.h>

int shmnic_c_layout(const struct shmnic_geometry *g, u64 size,
		    struct shmnic_layout *l);
size_t shmnic_c_sizeof(int which);

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
	}
	return 0;
}
