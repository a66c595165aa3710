// SPDX-License-Identifier: GPL-2.0
// What shmnicctl knows, independent of netlink and of the output format.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace shmnicctl {

struct Region {
	std::uint32_t ifindex = 0;
	std::string ifname;
	std::uint32_t node_id = 0;
	std::uint32_t epoch = 0;
	std::uint32_t layout_version = 0;
	std::uint64_t region_size = 0;
	std::uint32_t max_nodes = 0;
	std::uint32_t ring_slots = 0;
	std::uint32_t buf_size = 0;
	std::uint32_t bcast_slots = 0;
	std::uint32_t mcast_rings = 0;
	std::uint32_t nets = 0;
	std::uint32_t rx_depth = 0;
	std::uint32_t mtu = 0;
};

struct RingCounters {
	std::uint64_t packets = 0;
	std::uint64_t bytes = 0;
	std::uint64_t drops = 0;
};

enum class NodeState { absent, down, up };

const char *state_name(NodeState s);

struct Node {
	std::uint32_t ifindex = 0;
	std::uint32_t id = 0;
	NodeState state = NodeState::absent;
	bool self = false;
	std::uint32_t epoch = 0;
	std::optional<std::array<std::uint8_t, 6>> mac;
	std::optional<std::uint32_t> mtu;
	std::optional<std::uint32_t> rx_depth;
	std::optional<std::uint64_t> heartbeat;
	std::optional<RingCounters> tx;	// our ring to that node
	std::optional<RingCounters> rx;	// its ring to us
};

struct NodeEvent {
	std::uint32_t ifindex = 0;
	std::uint32_t id = 0;
	NodeState state = NodeState::down;
	std::uint32_t epoch = 0;
};

// The one form every output takes before it is rendered as text or JSON.
enum class Unit { none, bytes };

struct Record;

struct Field {
	std::string key;
	std::variant<std::uint64_t, std::string, bool, std::vector<Record>> value;
	Unit unit = Unit::none;
};

struct Record {
	std::vector<Field> fields;
};

} // namespace shmnicctl
