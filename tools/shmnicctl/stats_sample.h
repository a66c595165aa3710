// SPDX-License-Identifier: GPL-2.0
// Sample records for the stats tests and for the promtool check: node 0
// (ourselves, up), node 1 (down: last figures, stale), node 2 (torn).
#pragma once

#include <vector>

#include "model.h"

namespace shmnicctl {

// The cluster at step @k: each step is 2 s of node 0's clock and 1000
// packets of 1500 bytes more each way on each network.
inline std::vector<NodeStats> sample_stats(std::uint64_t k)
{
	std::vector<NodeStats> v(3);
	for (std::uint32_t id = 0; id < 2; id++) {
		NodeStats &s = v[id];
		s.ifindex = 3;
		s.id = id;
		s.self = id == 0;
		s.state = id == 0 ? NodeState::up : NodeState::down;
		s.epoch = s.writer_epoch.emplace(4);
		s.heartbeat = 100 + k * 20;
		s.time_ns = 5'000'000'000 + k * 2'000'000'000;
		const std::uint64_t p = id == 0 ? 10000 + k * 1000 : 777;
		for (auto &n : s.net)
			n = NetCounters{ p, p * 1500, p, p * 1500, 1, 2, 0, 0, 0, 5 };
		auto &gw = s.gw.emplace();
		gw.fill(0);
		gw[static_cast<std::size_t>(GwCounter::forwarded)] = p;
		s.peers.push_back({ id == 0 ? 1u : 0u, 0, p, p * 100, p, p * 100 });
	}
	v[1].flags.stale = true;
	v[1].silent_ms = 3000;
	v[2].id = 2;
	v[2].ifindex = 3;
	v[2].state = NodeState::up;
	v[2].epoch = 9;
	v[2].flags.torn = true;
	return v;
}

} // namespace shmnicctl
