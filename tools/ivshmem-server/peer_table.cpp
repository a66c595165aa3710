// SPDX-License-Identifier: GPL-2.0
#include "peer_table.h"

namespace ivshmem {

std::optional<std::uint16_t> PeerTable::free_id() const
{
	unsigned id = 0;

	for (const auto &entry : peers_) {
		if (entry.first != id)
			break;
		id++;
	}
	if (id >= max_peers_)
		return std::nullopt;
	return static_cast<std::uint16_t>(id);
}

Peer &PeerTable::add(Peer peer)
{
	std::uint16_t id = peer.id;
	return peers_.insert_or_assign(id, std::move(peer)).first->second;
}

std::optional<Peer> PeerTable::take(std::uint16_t id)
{
	auto node = peers_.extract(id);
	if (node.empty())
		return std::nullopt;
	return std::move(node.mapped());
}

Peer *PeerTable::find(std::uint16_t id)
{
	auto it = peers_.find(id);
	return it == peers_.end() ? nullptr : &it->second;
}

} // namespace ivshmem
