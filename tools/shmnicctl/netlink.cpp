// SPDX-License-Identifier: GPL-2.0
#include "netlink.h"

#include <cerrno>
#include <cstring>
#include <linux/netlink.h>
#include <linux/shmnic.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>
#include <sys/socket.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

namespace shmnicctl {

namespace {

struct MsgDeleter {
	void operator()(nl_msg *m) const { nlmsg_free(m); }
};
using Msg = std::unique_ptr<nl_msg, MsgDeleter>;

struct CbDeleter {
	void operator()(nl_cb *c) const { nl_cb_put(c); }
};
using Cb = std::unique_ptr<nl_cb, CbDeleter>;

// What one request brought back: an error, the kernel's message, whether
// the exchange is over, and the parser for its replies.
struct Exchange {
	int err = 0;
	std::string extack;
	bool done = false;
	std::function<void(nlattr **)> on_msg;
};

void parse_extack(Exchange &x, nlattr *attrs, int len);

int on_error(sockaddr_nl *, nlmsgerr *e, void *arg)
{
	auto *x = static_cast<Exchange *>(arg);
	nlmsghdr *nlh = reinterpret_cast<nlmsghdr *>(e) - 1;
	x->err = e->error;
	x->done = true;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NL_STOP;
	// TLVs follow the error and the (capped) request header.
	std::size_t off = sizeof(*e);
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(e->msg);
	int len = static_cast<int>(nlh->nlmsg_len) - NLMSG_HDRLEN - static_cast<int>(off);
	if (len <= 0)
		return NL_STOP;
	parse_extack(*x, reinterpret_cast<nlattr *>(reinterpret_cast<char *>(e) + off), len);
	return NL_STOP;
}

void parse_extack(Exchange &x, nlattr *attrs, int len)
{
	nlattr *tb[NLMSGERR_ATTR_MAX + 1] = {};
	if (len > 0 && nla_parse(tb, NLMSGERR_ATTR_MAX, attrs, len, nullptr) == 0 &&
	    tb[NLMSGERR_ATTR_MSG])
		x.extack = nla_get_string(tb[NLMSGERR_ATTR_MSG]);
}

// The end of a dump, or an ack. A dump that failed ends with NLMSG_DONE
// carrying the error, then the extack TLVs.
int on_finish(nl_msg *msg, void *arg)
{
	auto *x = static_cast<Exchange *>(arg);
	nlmsghdr *nlh = nlmsg_hdr(msg);
	x->done = true;
	if (nlh->nlmsg_type == NLMSG_DONE && nlmsg_datalen(nlh) >= static_cast<int>(sizeof(int))) {
		int e;
		std::memcpy(&e, nlmsg_data(nlh), sizeof(e));
		x->err = e;
		if (e && (nlh->nlmsg_flags & NLM_F_ACK_TLVS))
			parse_extack(*x,
				     reinterpret_cast<nlattr *>(static_cast<char *>(nlmsg_data(nlh)) +
							       NLA_ALIGN(sizeof(int))),
				     nlmsg_datalen(nlh) - static_cast<int>(NLA_ALIGN(sizeof(int))));
	}
	return NL_STOP;
}

int on_valid(nl_msg *msg, void *arg)
{
	auto *x = static_cast<Exchange *>(arg);
	nlattr *tb[SHMNIC_A_MAX + 1] = {};
	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, SHMNIC_A_MAX, nullptr) == 0 && x->on_msg)
		x->on_msg(tb);
	return NL_OK;
}

std::uint32_t u32_or(nlattr *a, std::uint32_t dflt = 0)
{
	return a ? nla_get_u32(a) : dflt;
}

RingCounters parse_ring(nlattr *nest)
{
	nlattr *tb[SHMNIC_RING_A_MAX + 1] = {};
	RingCounters c;
	if (nla_parse_nested(tb, SHMNIC_RING_A_MAX, nest, nullptr))
		return c;
	if (tb[SHMNIC_RING_A_PACKETS])
		c.packets = nla_get_u64(tb[SHMNIC_RING_A_PACKETS]);
	if (tb[SHMNIC_RING_A_BYTES])
		c.bytes = nla_get_u64(tb[SHMNIC_RING_A_BYTES]);
	if (tb[SHMNIC_RING_A_DROPS])
		c.drops = nla_get_u64(tb[SHMNIC_RING_A_DROPS]);
	return c;
}

NodeState to_state(std::uint8_t s)
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

std::optional<Node> parse_node(nlattr **tb)
{
	nlattr *nb[SHMNIC_NODE_A_MAX + 1] = {};
	if (!tb[SHMNIC_A_NODE] ||
	    nla_parse_nested(nb, SHMNIC_NODE_A_MAX, tb[SHMNIC_A_NODE], nullptr) ||
	    !nb[SHMNIC_NODE_A_ID])
		return std::nullopt;
	Node n;
	n.ifindex = u32_or(tb[SHMNIC_A_IFINDEX]);
	n.id = nla_get_u32(nb[SHMNIC_NODE_A_ID]);
	n.state = nb[SHMNIC_NODE_A_STATE] ? to_state(nla_get_u8(nb[SHMNIC_NODE_A_STATE])) :
					    NodeState::absent;
	n.self = nb[SHMNIC_NODE_A_SELF] != nullptr;
	n.epoch = u32_or(nb[SHMNIC_NODE_A_EPOCH]);
	if (nb[SHMNIC_NODE_A_MAC] && nla_len(nb[SHMNIC_NODE_A_MAC]) == 6) {
		std::array<std::uint8_t, 6> mac;
		std::memcpy(mac.data(), nla_data(nb[SHMNIC_NODE_A_MAC]), 6);
		n.mac = mac;
	}
	if (nb[SHMNIC_NODE_A_MTU])
		n.mtu = nla_get_u32(nb[SHMNIC_NODE_A_MTU]);
	if (nb[SHMNIC_NODE_A_RX_DEPTH])
		n.rx_depth = nla_get_u32(nb[SHMNIC_NODE_A_RX_DEPTH]);
	if (nb[SHMNIC_NODE_A_HEARTBEAT])
		n.heartbeat = nla_get_u64(nb[SHMNIC_NODE_A_HEARTBEAT]);
	if (nb[SHMNIC_NODE_A_TX])
		n.tx = parse_ring(nb[SHMNIC_NODE_A_TX]);
	if (nb[SHMNIC_NODE_A_RX])
		n.rx = parse_ring(nb[SHMNIC_NODE_A_RX]);
	return n;
}

NlError nl_error(int err, const std::string &what)
{
	return NlError(err, what + ": " + nl_geterror(err));
}

} // namespace

void Client::SockDeleter::operator()(nl_sock *s) const
{
	nl_socket_free(s);
}

Client::Client() : sock_(nl_socket_alloc())
{
	if (!sock_)
		throw NlError(ENOMEM, "cannot allocate a netlink socket");
	int err = genl_connect(sock_.get());
	if (err < 0)
		throw nl_error(err, "cannot open a generic netlink socket");
	int one = 1;
	setsockopt(nl_socket_get_fd(sock_.get()), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(nl_socket_get_fd(sock_.get()), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	family_ = genl_ctrl_resolve(sock_.get(), SHMNIC_GENL_NAME);
	if (family_ < 0)
		throw NlError(ENOENT, "no generic netlink family \"" SHMNIC_GENL_NAME
				      "\": is the shmnic module loaded?");
}

Client::~Client() = default;

namespace {

// Send @msg and read replies until the ack or the end of the dump.
void transact(nl_sock *sock, nl_msg *msg, Exchange &x)
{
	Cb cb(nl_cb_alloc(NL_CB_DEFAULT));
	if (!cb)
		throw NlError(ENOMEM, "cannot allocate netlink callbacks");
	nl_cb_err(cb.get(), NL_CB_CUSTOM, on_error, &x);
	nl_cb_set(cb.get(), NL_CB_ACK, NL_CB_CUSTOM, on_finish, &x);
	nl_cb_set(cb.get(), NL_CB_FINISH, NL_CB_CUSTOM, on_finish, &x);
	nl_cb_set(cb.get(), NL_CB_VALID, NL_CB_CUSTOM, on_valid, &x);
	int err = nl_send_auto(sock, msg);
	if (err < 0)
		throw nl_error(err, "cannot send the request");
	while (!x.done) {
		err = nl_recvmsgs(sock, cb.get());
		if (err < 0 && !x.done)
			throw nl_error(err, "cannot read the reply");
	}
	if (x.err) {
		int e = -x.err;
		std::string what = x.extack.empty() ? std::strerror(e) : x.extack;
		if (e == EPERM && x.extack.empty())
			what = "permission denied (CAP_NET_ADMIN needed)";
		throw NlError(e, what);
	}
}

Msg request(int family, std::uint8_t cmd, int flags, std::uint32_t ifindex)
{
	Msg msg(nlmsg_alloc());
	if (!msg || !genlmsg_put(msg.get(), NL_AUTO_PORT, NL_AUTO_SEQ, family, 0,
				 flags | NLM_F_ACK, cmd, SHMNIC_GENL_VERSION))
		throw NlError(ENOMEM, "cannot build the request");
	if (ifindex && nla_put_u32(msg.get(), SHMNIC_A_IFINDEX, ifindex) < 0)
		throw NlError(ENOMEM, "cannot build the request");
	return msg;
}

} // namespace

Region Client::get_region(std::uint32_t ifindex)
{
	Msg msg = request(family_, SHMNIC_CMD_GET_REGION, 0, ifindex);
	Region r;
	Exchange x;
	x.on_msg = [&](nlattr **tb) {
		r.ifindex = u32_or(tb[SHMNIC_A_IFINDEX]);
		if (tb[SHMNIC_A_IFNAME])
			r.ifname = nla_get_string(tb[SHMNIC_A_IFNAME]);
		r.node_id = u32_or(tb[SHMNIC_A_NODE_ID]);
		r.epoch = u32_or(tb[SHMNIC_A_EPOCH]);
		r.layout_version = u32_or(tb[SHMNIC_A_LAYOUT_VERSION]);
		if (tb[SHMNIC_A_REGION_SIZE])
			r.region_size = nla_get_u64(tb[SHMNIC_A_REGION_SIZE]);
		r.max_nodes = u32_or(tb[SHMNIC_A_MAX_NODES]);
		r.ring_slots = u32_or(tb[SHMNIC_A_RING_SLOTS]);
		r.buf_size = u32_or(tb[SHMNIC_A_BUF_SIZE]);
		r.bcast_slots = u32_or(tb[SHMNIC_A_BCAST_SLOTS]);
		r.mcast_rings = u32_or(tb[SHMNIC_A_MCAST_RINGS]);
		r.nets = u32_or(tb[SHMNIC_A_NETS]);
		r.rx_depth = u32_or(tb[SHMNIC_A_RX_DEPTH]);
		r.mtu = u32_or(tb[SHMNIC_A_MTU]);
	};
	transact(sock_.get(), msg.get(), x);
	return r;
}

std::vector<Node> Client::get_nodes(std::uint32_t ifindex)
{
	Msg msg = request(family_, SHMNIC_CMD_GET_NODES, NLM_F_DUMP, ifindex);
	std::vector<Node> nodes;
	Exchange x;
	x.on_msg = [&](nlattr **tb) {
		if (auto n = parse_node(tb))
			nodes.push_back(*n);
	};
	transact(sock_.get(), msg.get(), x);
	return nodes;
}

void Client::set(std::uint32_t ifindex, std::optional<std::uint32_t> mtu,
		 std::optional<std::uint32_t> ring_depth)
{
	Msg msg = request(family_, SHMNIC_CMD_SET, 0, ifindex);
	if ((mtu && nla_put_u32(msg.get(), SHMNIC_A_MTU, *mtu) < 0) ||
	    (ring_depth && nla_put_u32(msg.get(), SHMNIC_A_RX_DEPTH, *ring_depth) < 0))
		throw NlError(ENOMEM, "cannot build the request");
	Exchange x;
	transact(sock_.get(), msg.get(), x);
}

namespace {

struct MonitorCtx {
	const std::function<bool(const NodeEvent &)> *fn;
	bool stop = false;
};

int on_event(nl_msg *msg, void *arg)
{
	auto *ctx = static_cast<MonitorCtx *>(arg);
	nlattr *tb[SHMNIC_A_MAX + 1] = {};
	genlmsghdr *g = static_cast<genlmsghdr *>(nlmsg_data(nlmsg_hdr(msg)));
	if (g->cmd != SHMNIC_CMD_NODE_EVENT ||
	    genlmsg_parse(nlmsg_hdr(msg), 0, tb, SHMNIC_A_MAX, nullptr))
		return NL_OK;
	auto n = parse_node(tb);
	if (!n)
		return NL_OK;
	NodeEvent e{ n->ifindex, n->id, n->state, n->epoch };
	if (!(*ctx->fn)(e)) {
		ctx->stop = true;
		return NL_STOP;
	}
	return NL_OK;
}

int no_seq_check(nl_msg *, void *)
{
	return NL_OK;
}

} // namespace

void Client::monitor(const std::function<bool(const NodeEvent &)> &fn)
{
	int grp = genl_ctrl_resolve_grp(sock_.get(), SHMNIC_GENL_NAME, SHMNIC_GENL_MCGRP_EVENTS);
	if (grp < 0)
		throw nl_error(grp, "no multicast group \"" SHMNIC_GENL_MCGRP_EVENTS "\"");
	int err = nl_socket_add_membership(sock_.get(), grp);
	if (err < 0)
		throw nl_error(err, "cannot join the events group");
	MonitorCtx ctx{ &fn };
	Cb cb(nl_cb_alloc(NL_CB_DEFAULT));
	if (!cb)
		throw NlError(ENOMEM, "cannot allocate netlink callbacks");
	nl_cb_set(cb.get(), NL_CB_VALID, NL_CB_CUSTOM, on_event, &ctx);
	// Notifications carry no sequence number of ours.
	nl_cb_set(cb.get(), NL_CB_SEQ_CHECK, NL_CB_CUSTOM, no_seq_check, nullptr);
	while (!ctx.stop) {
		err = nl_recvmsgs(sock_.get(), cb.get());
		if (err < 0 && err != -NLE_INTR)
			throw nl_error(err, "cannot read events");
	}
}

} // namespace shmnicctl
