// SPDX-License-Identifier: GPL-2.0
// Command line of ivshmem-server (mirrors QEMU's contrib/ivshmem-server).
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace ivshmem {

inline constexpr unsigned kMaxVectors = 64;
inline constexpr unsigned kMaxPeers = 65536;	// ids are 0 .. 65535

struct Options {
	bool help = false;
	bool foreground = false;
	bool verbose = false;
	bool keep_departed = false;	// -K
	std::string pid_file;
	std::string socket_path;
	std::string shm_name;	// -M: POSIX shm object
	std::string shm_dir;	// -m: unlinked file in this directory
	std::uint64_t shm_size = 4 << 20;
	unsigned vectors = 1;
	unsigned max_peers = 16;
};

class UsageError : public std::runtime_error {
	using std::runtime_error::runtime_error;
};

// "4096", "64K", "4M", "1G" (binary suffixes, any case); nullopt if malformed.
std::optional<std::uint64_t> parse_size(std::string_view s);

// Throws UsageError on a bad command line.
Options parse_options(int argc, char *argv[]);

extern const char kUsage[];

} // namespace ivshmem
