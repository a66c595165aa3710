// SPDX-License-Identifier: GPL-2.0
// flowbench command line: parsed into one options struct per subcommand.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "segment.h"

namespace flowbench {

inline constexpr std::uint16_t kDefaultPort = 7007;

struct UsageError : std::runtime_error {
	using std::runtime_error::runtime_error;
};

struct HelpRequest {};

struct ServeOptions {
	std::uint16_t port = kDefaultPort;
	std::string bind;  // empty: "::" (dual-stack), else 0.0.0.0 without IPv6
	std::string name;  // empty: the host name
	bool udp = false;  // also serve UDP on the same port
};

struct ConnectOptions {
	std::string addr;
	std::uint16_t port = 0;
	std::uint64_t conns = 100;
	unsigned parallel = 1;
	std::size_t size = 64;
	std::uint64_t requests = 1;  // round trips per connection
	std::uint64_t rate = 0;      // bytes/s a connection may send; 0: any
	int timeout_ms = 5000;  // per connection, connect to last byte
	// connection k starts no earlier than k * interval_ms after the first;
	// 0: each as soon as a worker is free
	std::uint64_t interval_ms = 0;
	bool json = false;
};

struct RrOptions {
	std::string addr;
	std::uint16_t port = 0;
	std::uint64_t requests = 1000;
	std::size_t size = 64;
	int timeout_ms = 5000;  // connect, and each round trip
	bool json = false;
};

struct UdpOptions {
	std::string addr;
	std::uint16_t port = 0;
	unsigned flows = 16;
	unsigned packets = 10;
	std::size_t size = 64;
	int timeout_ms = 1000;  // wait for answers, per round
	unsigned retries = 3;   // rounds resending what was not answered
	bool json = false;
};

struct StrayOptions {
	std::string addr;
	std::uint16_t port = 0;
	StrayKind kind = StrayKind::ack;
	bool bad_checksum = false;
	std::uint16_t sport = 0;  // 0: a random one above the ephemeral range
	std::size_t size = 0;   // unused; parse_client's common options
	int timeout_ms = 1000;  // wait for the answer
	bool json = false;
};

struct StreamOptions {
	std::vector<std::string> addrs;  // stream to each; none: only receive
	std::uint16_t port = kDefaultPort;  // listen here
	std::uint16_t to_port = 0;          // connect here; 0: port
	int idle_ms = 2000;   // a connection without progress this long is closed
	int retry_ms = 100;   // then its address is tried again this much later
	std::uint64_t rate = 0;  // bytes/s per connection (SO_MAX_PACING_RATE); 0: no limit
	bool json = false;
};

using Command = std::variant<HelpRequest, ServeOptions, ConnectOptions, RrOptions, UdpOptions, StrayOptions,
			     StreamOptions>;

// args excludes argv[0]. Throws UsageError.
Command parse_command_line(std::span<const std::string_view> args);

std::string usage_text();

}  // namespace flowbench
