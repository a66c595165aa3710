// SPDX-License-Identifier: GPL-2.0
#include "message.h"

#include <cerrno>
#include <cstring>
#include <linux/if_addr.h>
#include <linux/shmnic.h>
#include <netlink/addr.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <sys/socket.h>

#include "netlink.h"

namespace shmnicctl {

void MsgDeleter::operator()(nl_msg *m) const
{
	nlmsg_free(m);
}

namespace {

[[noreturn]] void no_memory()
{
	throw NlError(ENOMEM, "cannot build the request");
}

// Attributes whose payload is too short to hold their type are ignored,
// as if absent: the replies are parsed without a policy.
template <typename T> std::optional<T> get(nlattr *a)
{
	if (!a || nla_len(a) < static_cast<int>(sizeof(T)))
		return std::nullopt;
	T v;
	std::memcpy(&v, nla_data(a), sizeof(v));
	return v;
}

std::uint32_t u32_or(nlattr *a, std::uint32_t dflt = 0)
{
	return get<std::uint32_t>(a).value_or(dflt);
}

// An address attribute: 4 bytes IPv4, 16 bytes IPv6, anything else none.
std::optional<Address> get_address(nlattr *a)
{
	if (!a || (nla_len(a) != 4 && nla_len(a) != 16))
		return std::nullopt;
	Address addr;
	addr.v6 = nla_len(a) == 16;
	std::memcpy(addr.bytes.data(), nla_data(a), addr.size());
	return addr;
}

RingCounters parse_ring(nlattr *nest)
{
	nlattr *tb[SHMNIC_RING_A_MAX + 1] = {};
	RingCounters c;
	if (nla_parse_nested(tb, SHMNIC_RING_A_MAX, nest, nullptr))
		return c;
	c.packets = get<std::uint64_t>(tb[SHMNIC_RING_A_PACKETS]).value_or(0);
	c.bytes = get<std::uint64_t>(tb[SHMNIC_RING_A_BYTES]).value_or(0);
	c.drops = get<std::uint64_t>(tb[SHMNIC_RING_A_DROPS]).value_or(0);
	return c;
}

NodeState to_node_state(std::uint8_t s)
{
	switch (s) {
	case SHMNIC_NODE_STATE_UP:
		return NodeState::up;
	case SHMNIC_NODE_STATE_DOWN:
		return NodeState::down;
	default:
		return NodeState::absent;
	}
}

Policy to_policy(std::uint8_t p)
{
	switch (p) {
	case SHMNIC_POLICY_HASH:
		return Policy::hash;
	case SHMNIC_POLICY_RR:
		return Policy::rr;
	default:
		return Policy::unknown;
	}
}

std::uint8_t from_policy(Policy p)
{
	switch (p) {
	case Policy::hash:
		return SHMNIC_POLICY_HASH;
	case Policy::rr:
		return SHMNIC_POLICY_RR;
	case Policy::unknown:
		break;
	}
	return SHMNIC_POLICY_UNSPEC;
}

FlowState to_flow_state(std::uint8_t s)
{
	switch (s) {
	case SHMNIC_FLOW_STATE_SYN:
		return FlowState::syn;
	case SHMNIC_FLOW_STATE_ESTABLISHED:
		return FlowState::established;
	case SHMNIC_FLOW_STATE_CLOSING:
		return FlowState::closing;
	case SHMNIC_FLOW_STATE_UDP:
		return FlowState::udp;
	default:
		return FlowState::unknown;
	}
}

FlowReason to_flow_reason(std::uint8_t r)
{
	switch (r) {
	case SHMNIC_FLOW_REASON_RST:
		return FlowReason::rst;
	case SHMNIC_FLOW_REASON_TIMEOUT:
		return FlowReason::timeout;
	case SHMNIC_FLOW_REASON_NODE_DOWN:
		return FlowReason::node_down;
	case SHMNIC_FLOW_REASON_EVICTED:
		return FlowReason::evicted;
	case SHMNIC_FLOW_REASON_HANDED_BACK:
		return FlowReason::handed_back;
	default:
		return FlowReason::unknown;
	}
}

// The SHMNIC_A_FLOW nest into @fb; false if there is none.
bool flow_attrs(nlattr **tb, nlattr **fb)
{
	return tb[SHMNIC_A_FLOW] &&
	       nla_parse_nested(fb, SHMNIC_FLOW_A_MAX, tb[SHMNIC_A_FLOW], nullptr) == 0;
}

// Both addresses, of the same family (the FAMILY attribute's, if given).
std::optional<Flow> flow_from(nlattr **tb, nlattr **fb)
{
	auto saddr = get_address(fb[SHMNIC_FLOW_A_SADDR]);
	auto daddr = get_address(fb[SHMNIC_FLOW_A_DADDR]);
	if (!saddr || !daddr || saddr->v6 != daddr->v6)
		return std::nullopt;
	if (auto fam = get<std::uint8_t>(fb[SHMNIC_FLOW_A_FAMILY]);
	    fam && *fam != (saddr->v6 ? AF_INET6 : AF_INET))
		return std::nullopt;
	Flow f;
	f.ifindex = u32_or(tb[SHMNIC_A_IFINDEX]);
	f.proto = get<std::uint8_t>(fb[SHMNIC_FLOW_A_PROTO]).value_or(0);
	f.saddr = *saddr;
	f.sport = get<std::uint16_t>(fb[SHMNIC_FLOW_A_SPORT]).value_or(0);
	f.daddr = *daddr;
	f.dport = get<std::uint16_t>(fb[SHMNIC_FLOW_A_DPORT]).value_or(0);
	f.node = u32_or(fb[SHMNIC_FLOW_A_NODE]);
	f.gateway = u32_or(fb[SHMNIC_FLOW_A_GATEWAY]);
	f.state = to_flow_state(get<std::uint8_t>(fb[SHMNIC_FLOW_A_STATE]).value_or(0));
	f.idle_ms = get<std::uint32_t>(fb[SHMNIC_FLOW_A_IDLE_MS]);
	return f;
}

struct RtnlAddrDeleter {
	void operator()(rtnl_addr *a) const { rtnl_addr_put(a); }
};
struct NlAddrDeleter {
	void operator()(nl_addr *a) const { nl_addr_put(a); }
};

} // namespace

Msg genl_request(int family, std::uint8_t cmd, int flags, std::uint32_t ifindex)
{
	Msg msg(nlmsg_alloc());
	if (!msg || !genlmsg_put(msg.get(), NL_AUTO_PORT, NL_AUTO_SEQ, family, 0,
				 flags | NLM_F_ACK, cmd, SHMNIC_GENL_VERSION))
		no_memory();
	if (ifindex && nla_put_u32(msg.get(), SHMNIC_A_IFINDEX, ifindex) < 0)
		no_memory();
	return msg;
}

Msg set_request(int family, std::uint32_t ifindex, std::optional<std::uint32_t> mtu,
		std::optional<std::uint32_t> ring_depth, std::optional<Policy> policy)
{
	Msg msg = genl_request(family, SHMNIC_CMD_SET, 0, ifindex);
	if ((mtu && nla_put_u32(msg.get(), SHMNIC_A_MTU, *mtu) < 0) ||
	    (ring_depth && nla_put_u32(msg.get(), SHMNIC_A_RX_DEPTH, *ring_depth) < 0) ||
	    (policy && nla_put_u8(msg.get(), SHMNIC_A_POLICY, from_policy(*policy)) < 0))
		no_memory();
	return msg;
}

Msg global_request(int family, bool add, std::uint32_t ifindex, const Address &a)
{
	Msg msg = genl_request(family, add ? SHMNIC_CMD_GLOBAL_ADD : SHMNIC_CMD_GLOBAL_DEL, 0,
			       ifindex);
	if (nla_put(msg.get(), SHMNIC_A_ADDR, static_cast<int>(a.size()), a.bytes.data()) < 0)
		no_memory();
	return msg;
}

Msg addr_request(bool add, std::uint32_t ifindex, const Address &a)
{
	const int af = a.v6 ? AF_INET6 : AF_INET;
	std::unique_ptr<rtnl_addr, RtnlAddrDeleter> ra(rtnl_addr_alloc());
	std::unique_ptr<nl_addr, NlAddrDeleter> local(nl_addr_build(af, a.bytes.data(), a.size()));
	if (!ra || !local)
		no_memory();
	rtnl_addr_set_ifindex(ra.get(), static_cast<int>(ifindex));
	rtnl_addr_set_family(ra.get(), af);
	if (rtnl_addr_set_local(ra.get(), local.get()) < 0)
		no_memory();
	rtnl_addr_set_prefixlen(ra.get(), static_cast<int>(a.size() * 8));
	if (add && a.v6)
		rtnl_addr_set_flags(ra.get(), IFA_F_NODAD);
	nl_msg *m = nullptr;
	int err = add ? rtnl_addr_build_add_request(ra.get(), NLM_F_EXCL, &m) :
			rtnl_addr_build_delete_request(ra.get(), 0, &m);
	Msg msg(m);
	if (err < 0 || !msg)
		no_memory();
	return msg;
}

Region parse_region(nlattr **tb)
{
	Region r;
	r.ifindex = u32_or(tb[SHMNIC_A_IFINDEX]);
	if (tb[SHMNIC_A_IFNAME])
		r.ifname = nla_get_string(tb[SHMNIC_A_IFNAME]);
	r.node_id = u32_or(tb[SHMNIC_A_NODE_ID]);
	r.epoch = u32_or(tb[SHMNIC_A_EPOCH]);
	r.layout_version = u32_or(tb[SHMNIC_A_LAYOUT_VERSION]);
	r.region_size = get<std::uint64_t>(tb[SHMNIC_A_REGION_SIZE]).value_or(0);
	r.max_nodes = u32_or(tb[SHMNIC_A_MAX_NODES]);
	r.ring_slots = u32_or(tb[SHMNIC_A_RING_SLOTS]);
	r.buf_size = u32_or(tb[SHMNIC_A_BUF_SIZE]);
	r.bcast_slots = u32_or(tb[SHMNIC_A_BCAST_SLOTS]);
	r.mcast_rings = u32_or(tb[SHMNIC_A_MCAST_RINGS]);
	r.nets = u32_or(tb[SHMNIC_A_NETS]);
	r.rx_depth = u32_or(tb[SHMNIC_A_RX_DEPTH]);
	r.mtu = u32_or(tb[SHMNIC_A_MTU]);
	r.global_ifindex = get<std::uint32_t>(tb[SHMNIC_A_GLOBAL_IFINDEX]);
	if (tb[SHMNIC_A_GLOBAL_IFNAME])
		r.global_ifname = nla_get_string(tb[SHMNIC_A_GLOBAL_IFNAME]);
	if (auto p = get<std::uint8_t>(tb[SHMNIC_A_POLICY]))
		r.policy = to_policy(*p);
	r.flow_slots = get<std::uint32_t>(tb[SHMNIC_A_FLOW_SLOTS]);
	if (tb[SHMNIC_A_GLOBALS]) {
		r.globals.emplace();
		nlattr *a;
		int rem;
		nla_for_each_nested(a, tb[SHMNIC_A_GLOBALS], rem) {
			if (nla_type(a) != SHMNIC_A_ADDR)
				continue;
			if (auto addr = get_address(a))
				r.globals->push_back(*addr);
		}
	}
	return r;
}

std::optional<Node> parse_node(nlattr **tb)
{
	nlattr *nb[SHMNIC_NODE_A_MAX + 1] = {};
	if (!tb[SHMNIC_A_NODE] ||
	    nla_parse_nested(nb, SHMNIC_NODE_A_MAX, tb[SHMNIC_A_NODE], nullptr))
		return std::nullopt;
	auto id = get<std::uint32_t>(nb[SHMNIC_NODE_A_ID]);
	if (!id)
		return std::nullopt;
	Node n;
	n.ifindex = u32_or(tb[SHMNIC_A_IFINDEX]);
	n.id = *id;
	n.state = to_node_state(get<std::uint8_t>(nb[SHMNIC_NODE_A_STATE])
					.value_or(SHMNIC_NODE_STATE_ABSENT));
	n.self = nb[SHMNIC_NODE_A_SELF] != nullptr;
	n.stalled = nb[SHMNIC_NODE_A_STALLED] != nullptr;
	n.epoch = u32_or(nb[SHMNIC_NODE_A_EPOCH]);
	if (nb[SHMNIC_NODE_A_MAC] && nla_len(nb[SHMNIC_NODE_A_MAC]) == 6) {
		std::array<std::uint8_t, 6> mac;
		std::memcpy(mac.data(), nla_data(nb[SHMNIC_NODE_A_MAC]), 6);
		n.mac = mac;
	}
	n.mtu = get<std::uint32_t>(nb[SHMNIC_NODE_A_MTU]);
	n.rx_depth = get<std::uint32_t>(nb[SHMNIC_NODE_A_RX_DEPTH]);
	n.heartbeat = get<std::uint64_t>(nb[SHMNIC_NODE_A_HEARTBEAT]);
	if (nb[SHMNIC_NODE_A_TX])
		n.tx = parse_ring(nb[SHMNIC_NODE_A_TX]);
	if (nb[SHMNIC_NODE_A_RX])
		n.rx = parse_ring(nb[SHMNIC_NODE_A_RX]);
	return n;
}

std::optional<Flow> parse_flow(nlattr **tb)
{
	nlattr *fb[SHMNIC_FLOW_A_MAX + 1] = {};
	if (!flow_attrs(tb, fb))
		return std::nullopt;
	return flow_from(tb, fb);
}

namespace {

NetCounters parse_net_counters(nlattr **nb)
{
	auto u = [&](int type) { return get<std::uint64_t>(nb[type]).value_or(0); };
	NetCounters c;
	c.rx_packets = u(SHMNIC_NET_STATS_A_RX_PACKETS);
	c.rx_bytes = u(SHMNIC_NET_STATS_A_RX_BYTES);
	c.tx_packets = u(SHMNIC_NET_STATS_A_TX_PACKETS);
	c.tx_bytes = u(SHMNIC_NET_STATS_A_TX_BYTES);
	c.rx_dropped = u(SHMNIC_NET_STATS_A_RX_DROPPED);
	c.tx_dropped = u(SHMNIC_NET_STATS_A_TX_DROPPED);
	c.rx_errors = u(SHMNIC_NET_STATS_A_RX_ERRORS);
	c.tx_errors = u(SHMNIC_NET_STATS_A_TX_ERRORS);
	c.rx_missed = u(SHMNIC_NET_STATS_A_RX_MISSED);
	c.tx_stops = u(SHMNIC_NET_STATS_A_TX_STOPS);
	return c;
}

StatsFlags to_stats_flags(std::uint32_t f)
{
	StatsFlags s;
	s.torn = f & SHMNIC_STATS_F_TORN;
	s.empty = f & SHMNIC_STATS_F_EMPTY;
	s.absurd = f & SHMNIC_STATS_F_ABSURD;
	s.stale = f & SHMNIC_STATS_F_STALE;
	s.peers_cut = f & SHMNIC_STATS_F_PEERS_CUT;
	return s;
}

} // namespace

static_assert(static_cast<int>(GwCounter::count) ==
	      SHMNIC_GW_STATS_A_MAX - SHMNIC_GW_STATS_A_RX + 1);

std::optional<NodeStats> parse_stats(nlattr **tb)
{
	nlattr *sb[SHMNIC_STATS_A_MAX + 1] = {};
	if (!tb[SHMNIC_A_STATS] ||
	    nla_parse_nested(sb, SHMNIC_STATS_A_MAX, tb[SHMNIC_A_STATS], nullptr))
		return std::nullopt;
	auto id = get<std::uint32_t>(sb[SHMNIC_STATS_A_ID]);
	if (!id)
		return std::nullopt;
	NodeStats s;
	s.ifindex = u32_or(tb[SHMNIC_A_IFINDEX]);
	s.id = *id;
	s.state = to_node_state(get<std::uint8_t>(sb[SHMNIC_STATS_A_STATE])
					.value_or(SHMNIC_NODE_STATE_ABSENT));
	s.self = sb[SHMNIC_STATS_A_SELF] != nullptr;
	s.epoch = u32_or(sb[SHMNIC_STATS_A_EPOCH]);
	s.silent_ms = u32_or(sb[SHMNIC_STATS_A_SILENT_MS]);
	s.flags = to_stats_flags(u32_or(sb[SHMNIC_STATS_A_FLAGS]));
	s.writer_epoch = get<std::uint32_t>(sb[SHMNIC_STATS_A_WRITER_EPOCH]);
	s.heartbeat = get<std::uint64_t>(sb[SHMNIC_STATS_A_HEARTBEAT]);
	s.time_ns = get<std::uint64_t>(sb[SHMNIC_STATS_A_TIME_NS]);
	nlattr *a;
	int rem;
	// SHMNIC_STATS_A_NET and _PEER come several times: walk them all.
	nla_for_each_nested(a, tb[SHMNIC_A_STATS], rem) {
		const int type = nla_type(a);
		if (type == SHMNIC_STATS_A_NET) {
			nlattr *nb[SHMNIC_NET_STATS_A_MAX + 1] = {};
			if (nla_parse_nested(nb, SHMNIC_NET_STATS_A_MAX, a, nullptr))
				continue;
			auto net = get<std::uint8_t>(nb[SHMNIC_NET_STATS_A_NET]);
			if (net && *net < s.net.size())
				s.net[*net] = parse_net_counters(nb);
		} else if (type == SHMNIC_STATS_A_PEER) {
			nlattr *pb[SHMNIC_PEER_STATS_A_MAX + 1] = {};
			if (nla_parse_nested(pb, SHMNIC_PEER_STATS_A_MAX, a, nullptr))
				continue;
			auto u = [&](int t) { return get<std::uint64_t>(pb[t]).value_or(0); };
			PeerCounters p;
			p.id = u32_or(pb[SHMNIC_PEER_STATS_A_ID]);
			p.net = get<std::uint8_t>(pb[SHMNIC_PEER_STATS_A_NET]).value_or(0);
			p.tx_packets = u(SHMNIC_PEER_STATS_A_TX_PACKETS);
			p.tx_bytes = u(SHMNIC_PEER_STATS_A_TX_BYTES);
			p.rx_packets = u(SHMNIC_PEER_STATS_A_RX_PACKETS);
			p.rx_bytes = u(SHMNIC_PEER_STATS_A_RX_BYTES);
			s.peers.push_back(p);
		}
	}
	if (sb[SHMNIC_STATS_A_GW]) {
		nlattr *gb[SHMNIC_GW_STATS_A_MAX + 1] = {};
		if (!nla_parse_nested(gb, SHMNIC_GW_STATS_A_MAX, sb[SHMNIC_STATS_A_GW], nullptr)) {
			auto &gw = s.gw.emplace();
			for (std::size_t i = 0; i < gw.size(); i++)
				gw[i] = get<std::uint64_t>(gb[SHMNIC_GW_STATS_A_RX + i]).value_or(0);
		}
	}
	return s;
}

std::optional<Event> parse_event(nlmsghdr *nlh)
{
	if (!genlmsg_valid_hdr(nlh, 0))
		return std::nullopt;
	nlattr *tb[SHMNIC_A_MAX + 1] = {};
	const auto *g = static_cast<const genlmsghdr *>(nlmsg_data(nlh));
	if (genlmsg_parse(nlh, 0, tb, SHMNIC_A_MAX, nullptr))
		return std::nullopt;
	switch (g->cmd) {
	case SHMNIC_CMD_NODE_EVENT: {
		auto n = parse_node(tb);
		if (!n)
			return std::nullopt;
		return NodeEvent{ n->ifindex, n->id, n->state, n->epoch };
	}
	case SHMNIC_CMD_FLOW_NEW:
	case SHMNIC_CMD_FLOW_DEL: {
		nlattr *fb[SHMNIC_FLOW_A_MAX + 1] = {};
		if (!flow_attrs(tb, fb))
			return std::nullopt;
		auto f = flow_from(tb, fb);
		if (!f)
			return std::nullopt;
		FlowEvent e;
		e.added = g->cmd == SHMNIC_CMD_FLOW_NEW;
		e.flow = *f;
		if (auto r = get<std::uint8_t>(fb[SHMNIC_FLOW_A_REASON]))
			e.reason = to_flow_reason(*r);
		return e;
	}
	default:
		return std::nullopt;
	}
}

} // namespace shmnicctl
