// SPDX-License-Identifier: GPL-2.0
// Command line: parsed into a plain description of what to do.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "model.h"

namespace shmnicctl {

struct UsageError : std::runtime_error {
	using std::runtime_error::runtime_error;
};

enum class Cmd { show, nodes, set, global_add, global_del, policy, flows, monitor, stats, help,
		 version };

struct Options {
	Cmd cmd = Cmd::show;
	bool json = false;
	std::string dev;			// show, nodes, policy, flows: optional;
						// set, global: required
	std::optional<std::uint32_t> mtu;
	std::optional<std::uint32_t> ring_depth;
	Address addr;				// global add, global del
	Policy policy = Policy::unknown;	// policy
	std::optional<std::uint32_t> watch;	// stats: seconds between tables
	bool prometheus = false;		// stats: Prometheus text
};

// Throws UsageError with a message naming what was wrong.
Options parse_args(const std::vector<std::string> &args);
std::uint32_t parse_u32(const std::string &what, const std::string &s);
// An IPv4 or IPv6 unicast address, without a prefix length.
Address parse_address(const std::string &what, const std::string &s);
Policy parse_policy(const std::string &what, const std::string &s);
std::string usage();

} // namespace shmnicctl
