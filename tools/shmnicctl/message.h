// SPDX-License-Identifier: GPL-2.0
// Netlink messages of the "shmnic" family and of rtnetlink addresses:
// built and parsed here, sent by netlink.cpp. No socket, so unit-tested.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "model.h"

struct nl_msg;
struct nlattr;
struct nlmsghdr;

namespace shmnicctl {

struct MsgDeleter {
	void operator()(nl_msg *m) const;
};
using Msg = std::unique_ptr<nl_msg, MsgDeleter>;

// A request of generic netlink family @family, with SHMNIC_A_IFINDEX
// unless @ifindex is 0. Throws NlError(ENOMEM).
Msg genl_request(int family, std::uint8_t cmd, int flags, std::uint32_t ifindex);
Msg set_request(int family, std::uint32_t ifindex, std::optional<std::uint32_t> mtu,
		std::optional<std::uint32_t> ring_depth, std::optional<Policy> policy);
// SHMNIC_CMD_GLOBAL_ADD or _DEL.
Msg global_request(int family, bool add, std::uint32_t ifindex, const Address &a);
// RTM_NEWADDR (exclusive: EEXIST if there) or RTM_DELADDR of @a as a /32
// or a /128 (IPv6: IFA_F_NODAD) on @ifindex.
Msg addr_request(bool add, std::uint32_t ifindex, const Address &a);

// @tb: the top-level attributes of a reply, SHMNIC_A_MAX + 1 of them.
Region parse_region(nlattr **tb);
std::optional<Node> parse_node(nlattr **tb);
std::optional<Flow> parse_flow(nlattr **tb);
std::optional<NodeStats> parse_stats(nlattr **tb);
// A notification of the events group: node or flow; nullopt for any other
// message or one that does not parse.
std::optional<Event> parse_event(nlmsghdr *nlh);

} // namespace shmnicctl
