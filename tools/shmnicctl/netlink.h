// SPDX-License-Identifier: GPL-2.0
// The generic netlink family "shmnic", through libnl-genl-3.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "model.h"

struct nl_sock;

namespace shmnicctl {

// A failed request: errno and, if the kernel sent one, its extack message.
struct NlError : std::runtime_error {
	NlError(int err, const std::string &what) : std::runtime_error(what), err(err) {}
	int err;
};

class Client {
public:
	// Throws NlError(ENOENT) when the family is not registered (module
	// not loaded).
	Client();
	~Client();
	Client(const Client &) = delete;
	Client &operator=(const Client &) = delete;

	Region get_region(std::uint32_t ifindex);	// 0: the first device
	std::vector<Node> get_nodes(std::uint32_t ifindex);	// 0: every device
	void set(std::uint32_t ifindex, std::optional<std::uint32_t> mtu,
		 std::optional<std::uint32_t> ring_depth,
		 std::optional<Policy> policy = std::nullopt);
	// SHMNIC_CMD_GLOBAL_ADD or _DEL.
	void global(bool add, std::uint32_t ifindex, const Address &a);
	std::vector<Flow> get_flows(std::uint32_t ifindex);	// 0: every device
	// Every node's published counters (the first device's if 0).
	std::vector<NodeStats> get_stats(std::uint32_t ifindex);
	// Calls @fn for each node or flow event until it returns false or an
	// error; @lost when the socket overflowed and events were lost (a busy
	// gateway's flow events), after which it goes on.
	void monitor(const std::function<bool(const Event &)> &fn,
		     const std::function<void()> &lost = {});

private:
	struct SockDeleter {
		void operator()(nl_sock *s) const;
	};
	std::unique_ptr<nl_sock, SockDeleter> sock_;
	int family_ = 0;
};

// rtnetlink, for the GLOBAL addresses on the global adapter: a /32 or a
// /128 (IPv6 without duplicate address detection).
class Route {
public:
	Route();
	~Route();
	Route(const Route &) = delete;
	Route &operator=(const Route &) = delete;

	// False if the address was there already.
	bool add_address(std::uint32_t ifindex, const Address &a);
	// False if it was not there.
	bool del_address(std::uint32_t ifindex, const Address &a);

private:
	struct SockDeleter {
		void operator()(nl_sock *s) const;
	};
	std::unique_ptr<nl_sock, SockDeleter> sock_;
};

} // namespace shmnicctl
