// SPDX-License-Identifier: GPL-2.0
#include "netlink.h"

#include <cerrno>
#include <cstring>
#include <linux/netlink.h>
#include <linux/shmnic.h>
#include <net/if.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>
#include <sys/socket.h>

#include "message.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

namespace shmnicctl {

namespace {

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

NlError nl_error(int err, const std::string &what)
{
	return NlError(err, what + ": " + nl_geterror(err));
}

} // namespace

void Client::SockDeleter::operator()(nl_sock *s) const
{
	nl_socket_free(s);
}

namespace {

// Connect @sock to @protocol, asking for extended acks without the
// request echoed.
void connect_socket(nl_sock *sock, int protocol, const char *what)
{
	if (!sock)
		throw NlError(ENOMEM, "cannot allocate a netlink socket");
	int err = nl_connect(sock, protocol);
	if (err < 0)
		throw nl_error(err, std::string("cannot open a ") + what + " socket");
	int one = 1;
	setsockopt(nl_socket_get_fd(sock), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(nl_socket_get_fd(sock), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
}

} // namespace

Client::Client() : sock_(nl_socket_alloc())
{
	connect_socket(sock_.get(), NETLINK_GENERIC, "generic netlink");
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
		if (e == EOPNOTSUPP && x.extack.empty())
			what = "not supported by this shmnic module (older than shmnicctl?)";
		throw NlError(e, what);
	}
}

} // namespace

Region Client::get_region(std::uint32_t ifindex)
{
	Msg msg = genl_request(family_, SHMNIC_CMD_GET_REGION, 0, ifindex);
	Region r;
	Exchange x;
	x.on_msg = [&](nlattr **tb) { r = parse_region(tb); };
	transact(sock_.get(), msg.get(), x);
	return r;
}

namespace {

// The records of a dump of @cmd that @parse makes something of.
template <typename T>
std::vector<T> dump(nl_sock *sock, int family, std::uint8_t cmd, std::uint32_t ifindex,
		    std::optional<T> (*parse)(nlattr **))
{
	Msg msg = genl_request(family, cmd, NLM_F_DUMP, ifindex);
	std::vector<T> out;
	Exchange x;
	x.on_msg = [&](nlattr **tb) {
		if (auto v = parse(tb))
			out.push_back(std::move(*v));
	};
	transact(sock, msg.get(), x);
	return out;
}

} // namespace

std::vector<NodeStats> Client::get_stats(std::uint32_t ifindex)
{
	auto stats = dump(sock_.get(), family_, SHMNIC_CMD_GET_STATS, ifindex, parse_stats);
	// A dump of every device: the first one's nodes only.
	if (!ifindex && !stats.empty()) {
		const std::uint32_t first = stats.front().ifindex;
		std::erase_if(stats, [&](const NodeStats &s) { return s.ifindex != first; });
	}
	return stats;
}

std::vector<Node> Client::get_nodes(std::uint32_t ifindex)
{
	return dump(sock_.get(), family_, SHMNIC_CMD_GET_NODES, ifindex, parse_node);
}

void Client::set(std::uint32_t ifindex, std::optional<std::uint32_t> mtu,
		 std::optional<std::uint32_t> ring_depth, std::optional<Policy> policy)
{
	Msg msg = set_request(family_, ifindex, mtu, ring_depth, policy);
	Exchange x;
	transact(sock_.get(), msg.get(), x);
}

void Client::global(bool add, std::uint32_t ifindex, const Address &a)
{
	Msg msg = global_request(family_, add, ifindex, a);
	Exchange x;
	transact(sock_.get(), msg.get(), x);
}

std::vector<Flow> Client::get_flows(std::uint32_t ifindex)
{
	return dump(sock_.get(), family_, SHMNIC_CMD_GET_FLOWS, ifindex, parse_flow);
}

namespace {

struct MonitorCtx {
	const std::function<bool(const Event &)> *fn;
	bool stop = false;
};

int on_event(nl_msg *msg, void *arg)
{
	auto *ctx = static_cast<MonitorCtx *>(arg);
	auto e = parse_event(nlmsg_hdr(msg));
	if (!e)
		return NL_OK;
	if (!(*ctx->fn)(*e)) {
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

void Client::monitor(const std::function<bool(const Event &)> &fn,
		     const std::function<void()> &lost)
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
	// Room for bursts of flow events; capped by net.core.rmem_max.
	nl_socket_set_buffer_size(sock_.get(), 4 << 20, 0);
	while (!ctx.stop) {
		err = nl_recvmsgs(sock_.get(), cb.get());
		if (err == -NLE_NOMEM) {	// ENOBUFS: the socket overflowed
			if (lost)
				lost();
			continue;
		}
		if (err < 0 && err != -NLE_INTR)
			throw nl_error(err, "cannot read events");
	}
}

void Route::SockDeleter::operator()(nl_sock *s) const
{
	nl_socket_free(s);
}

Route::Route() : sock_(nl_socket_alloc())
{
	connect_socket(sock_.get(), NETLINK_ROUTE, "rtnetlink");
}

Route::~Route() = default;

namespace {

// "198.51.100.1/32 on shmg0"
std::string addr_on(std::uint32_t ifindex, const Address &a)
{
	char name[IF_NAMESIZE] = {};
	std::string dev = if_indextoname(ifindex, name) ? name : "ifindex " + std::to_string(ifindex);
	return address_string(a) + "/" + std::to_string(a.size() * 8) + " on " + dev;
}

} // namespace

bool Route::add_address(std::uint32_t ifindex, const Address &a)
{
	Msg msg = addr_request(true, ifindex, a);
	Exchange x;
	try {
		transact(sock_.get(), msg.get(), x);
	} catch (const NlError &e) {
		if (e.err == EEXIST)
			return false;
		throw NlError(e.err, "cannot put " + addr_on(ifindex, a) + ": " + e.what());
	}
	return true;
}

bool Route::del_address(std::uint32_t ifindex, const Address &a)
{
	Msg msg = addr_request(false, ifindex, a);
	Exchange x;
	try {
		transact(sock_.get(), msg.get(), x);
	} catch (const NlError &e) {
		if (e.err == EADDRNOTAVAIL)
			return false;
		throw NlError(e.err, "cannot remove " + addr_on(ifindex, a) + ": " + e.what());
	}
	return true;
}

} // namespace shmnicctl
