// SPDX-License-Identifier: GPL-2.0
// The connected peers, keyed by id. A new peer gets the lowest free id, so a
// VM that reconnects gets its old id back.
#pragma once

#include "raii.h"

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

namespace ivshmem {

struct Peer {
	std::uint16_t id = 0;
	UniqueFd sock;
	std::vector<UniqueFd> eventfds;	// one per vector
};

class PeerTable {
public:
	explicit PeerTable(unsigned max_peers) : max_peers_(max_peers) {}

	// Lowest id not in use, or nullopt when max_peers are connected.
	std::optional<std::uint16_t> free_id() const;
	Peer &add(Peer peer);
	// Removes and returns the peer (nullopt if there is none with that id).
	std::optional<Peer> take(std::uint16_t id);
	Peer *find(std::uint16_t id);

	std::size_t size() const { return peers_.size(); }
	unsigned max_peers() const { return max_peers_; }
	// Iteration is in increasing id order.
	auto begin() { return peers_.begin(); }
	auto end() { return peers_.end(); }

private:
	unsigned max_peers_;
	std::map<std::uint16_t, Peer> peers_;
};

} // namespace ivshmem
