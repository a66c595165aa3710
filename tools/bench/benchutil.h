// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers shared by the userspace benchmarks (ringbench and its ping-pong
 * rows): a monotonic clock, CPU pinning, a shared formatted region, and
 * order statistics.
 */
#ifndef SHMNIC_BENCHUTIL_H
#define SHMNIC_BENCHUTIL_H

#include <shmnic/ring.h>

#include <cstddef>
#include <vector>

namespace bench {

/* CLOCK_MONOTONIC in seconds. */
double now();

/* Pin the calling thread to @cpu; false if @cpu < 0 or it failed. */
bool pin(int cpu);

/* The CPUs this process may run on, in order. */
std::vector<int> allowed_cpus();

/* The first number of /proc/loadavg, or -1. */
double loadavg();

/* Print "ringbench: WHAT: strerror(errno)" and exit 1. */
[[noreturn]] void die(const char *what);

/*
 * A region formatted like the driver's, in a MAP_SHARED anonymous mapping
 * that survives fork(): @geometry's layout, state READY. Unmapped by the
 * destructor.
 */
class SharedRegion {
public:
	explicit SharedRegion(const shmnic_geometry &geometry);
	~SharedRegion();
	SharedRegion(const SharedRegion &) = delete;
	SharedRegion &operator=(const SharedRegion &) = delete;

	/* Both sides of pair ring @from -> @to of the local network, the
	 * receiver set up with epoch 1 and the sender connected to it.
	 */
	void pair(u32 from, u32 to, shmnic_ring *tx, shmnic_ring *rx);

private:
	void *base_;
	shmnic_layout layout_;
};

/* One anonymous MAP_SHARED page, for results a child reports. */
class SharedPage {
public:
	SharedPage();
	~SharedPage();
	SharedPage(const SharedPage &) = delete;
	SharedPage &operator=(const SharedPage &) = delete;
	void *get() const { return p_; }

private:
	void *p_;
};

/* The @q quantile (0..1) of @v (reordered), nearest rank; 0 if empty. */
double quantile(std::vector<double> &v, double q);

} // namespace bench

#endif
