// SPDX-License-Identifier: GPL-2.0
// Prints shmnicctl stats --prometheus of the sample cluster, for
// `promtool check metrics` (CMakeLists.txt).
#include <iostream>

#include "stats.h"
#include "stats_sample.h"

int main()
{
	std::cout << shmnicctl::render_prometheus(shmnicctl::sample_stats(1));
	return 0;
}
