// SPDX-License-Identifier: GPL-2.0
#include "benchutil.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <sched.h>
#include <sys/mman.h>
#include <time.h>

namespace bench {

double now()
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

bool pin(int cpu)
{
	if (cpu < 0)
		return false;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) == 0;
}

std::vector<int> allowed_cpus()
{
	std::vector<int> v;
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		for (int c = 0; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &set))
				v.push_back(c);
	return v;
}

double loadavg()
{
	double l = -1;
	FILE *f = std::fopen("/proc/loadavg", "r");
	if (f) {
		if (std::fscanf(f, "%lf", &l) != 1)
			l = -1;
		std::fclose(f);
	}
	return l;
}

void die(const char *what)
{
	std::fprintf(stderr, "ringbench: %s: %s\n", what, std::strerror(errno));
	std::exit(1);
}

SharedRegion::SharedRegion(const shmnic_geometry &geometry)
{
	if (shmnic_layout_compute(&geometry, ~0ull, &layout_))
		die("layout");
	base_ = mmap(nullptr, layout_.size, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (base_ == MAP_FAILED)
		die("mmap");
	auto *region = static_cast<shmnic_region *>(base_);
	shmnic_region_fill(region, &layout_, 0);
	region->state = SHMNIC_FMT_READY;
}

SharedRegion::~SharedRegion()
{
	munmap(base_, layout_.size);
}

void SharedRegion::pair(u32 from, u32 to, shmnic_ring *tx, shmnic_ring *rx)
{
	void *ring = shmnic_pair_ring_at(base_, &layout_, SHMNIC_NET_LOCAL, from, to);

	shmnic_ring_init_pair(rx, ring, &layout_);
	shmnic_ring_init_pair(tx, ring, &layout_);
	shmnic_rx_setup(rx, 1);
	shmnic_tx_connect(tx, 1, 1, 0);
}

SharedPage::SharedPage()
{
	p_ = mmap(nullptr, SHMNIC_PAGE, PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p_ == MAP_FAILED)
		die("mmap");
}

SharedPage::~SharedPage()
{
	munmap(p_, SHMNIC_PAGE);
}

double quantile(std::vector<double> &v, double q)
{
	if (v.empty())
		return 0;
	size_t k = (size_t)std::ceil(q * (double)v.size());
	k = std::clamp<size_t>(k, 1, v.size()) - 1;
	std::nth_element(v.begin(), v.begin() + (std::ptrdiff_t)k, v.end());
	return v[k];
}

} // namespace bench
