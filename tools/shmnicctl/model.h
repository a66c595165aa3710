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

// An IPv4 or IPv6 address, network byte order.
struct Address {
	bool v6 = false;
	std::array<std::uint8_t, 16> bytes{};

	std::size_t size() const { return v6 ? 16 : 4; }
	bool operator==(const Address &) const = default;
};

std::string address_string(const Address &a);

// How a gateway picks among several nodes listening on a port.
enum class Policy { unknown, hash, rr };

const char *policy_name(Policy p);

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
	// The global network: absent from an older module, or a device
	// without one.
	std::optional<std::uint32_t> global_ifindex;
	std::optional<std::string> global_ifname;
	std::optional<Policy> policy;
	std::optional<std::uint32_t> flow_slots;
	std::optional<std::vector<Address>> globals;
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
	bool stalled = false;	// our frames to it are dropped: it stopped draining
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

enum class FlowState { unknown, syn, established, closing, udp };
enum class FlowReason { unknown, rst, timeout, node_down, evicted, handed_back };

const char *flow_state_name(FlowState s);
const char *flow_reason_name(FlowReason r);
std::string proto_name(std::uint8_t proto);

// A gateway's flow entry: packets from saddr:sport to the global
// daddr:dport go to node.
struct Flow {
	std::uint32_t ifindex = 0;
	std::uint8_t proto = 0;		// IPPROTO_TCP, IPPROTO_UDP
	Address saddr;			// the outside peer
	std::uint16_t sport = 0;
	Address daddr;			// the global address
	std::uint16_t dport = 0;
	std::uint32_t node = 0;		// serving it
	std::uint32_t gateway = 0;	// that wrote it
	FlowState state = FlowState::unknown;
	std::optional<std::uint32_t> idle_ms;
};

struct FlowEvent {
	bool added = true;		// FLOW_NEW, else FLOW_DEL
	Flow flow;
	std::optional<FlowReason> reason;	// FLOW_DEL
};

using Event = std::variant<NodeEvent, FlowEvent>;

// One adapter's counters as its node published them (ip -s link there).
struct NetCounters {
	std::uint64_t rx_packets = 0, rx_bytes = 0, tx_packets = 0, tx_bytes = 0;
	std::uint64_t rx_dropped = 0, tx_dropped = 0, rx_errors = 0, tx_errors = 0;
	std::uint64_t rx_missed = 0, tx_stops = 0;
};

// The pair rings joining a node to one peer on one network.
struct PeerCounters {
	std::uint32_t id = 0;
	std::uint8_t net = 0;
	std::uint64_t tx_packets = 0, tx_bytes = 0, rx_packets = 0, rx_bytes = 0;
};

// The gateway counters a node publishes, in the order of the
// SHMNIC_GW_STATS_A_* attributes.
enum class GwCounter { rx, forwarded, local, flows_new, published, queries, no_server,
		       tx_errors, handbacks, count };

// What the read of a node's part found (SHMNIC_STATS_F_*).
struct StatsFlags {
	bool torn = false, empty = false, absurd = false, stale = false, peers_cut = false;
	bool operator==(const StatsFlags &) const = default;
};

// One node's published counters, as the node asked read them.
struct NodeStats {
	std::uint32_t ifindex = 0;
	std::uint32_t id = 0;
	NodeState state = NodeState::absent;
	bool self = false;
	std::uint32_t epoch = 0;
	std::uint32_t silent_ms = 0;
	StatsFlags flags;
	// absent when the part had no figures (torn, empty)
	std::optional<std::uint32_t> writer_epoch;
	std::optional<std::uint64_t> heartbeat;
	std::optional<std::uint64_t> time_ns;
	std::array<std::optional<NetCounters>, 2> net;	// local, global
	std::optional<std::array<std::uint64_t, static_cast<std::size_t>(GwCounter::count)>> gw;
	std::vector<PeerCounters> peers;
};

// The one form every output takes before it is rendered as text or JSON.
enum class Unit { none, bytes, millis };

struct Record;

struct Field {
	std::string key;
	std::variant<std::uint64_t, std::string, bool, std::vector<Record>,
		     std::vector<std::string>>
		value;
	Unit unit = Unit::none;
	// JSON: records as an array even when there is one (else one record
	// prints as an object).
	bool list = false;
};

struct Record {
	std::vector<Field> fields;
};

} // namespace shmnicctl
