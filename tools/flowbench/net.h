// SPDX-License-Identifier: GPL-2.0
// Thin socket helpers for flowbench: an owning file descriptor, address
// resolution, and blocking-with-deadline I/O on non-blocking sockets.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "report.h"

namespace flowbench {

class Fd {
public:
	Fd() = default;
	explicit Fd(int fd) : fd_(fd) {}
	Fd(const Fd &) = delete;
	Fd &operator=(const Fd &) = delete;
	Fd(Fd &&o) noexcept : fd_(o.release()) {}
	Fd &operator=(Fd &&o) noexcept
	{
		if (this != &o)
			reset(o.release());
		return *this;
	}
	~Fd() { reset(); }

	int get() const { return fd_; }
	explicit operator bool() const { return fd_ >= 0; }
	int release()
	{
		int f = fd_;
		fd_ = -1;
		return f;
	}
	void reset(int fd = -1);

private:
	int fd_ = -1;
};

struct Address {
	sockaddr_storage ss{};
	socklen_t len = 0;
	int family() const { return ss.ss_family; }
};

// Numeric address or host name, and port; throws std::runtime_error.
Address resolve(const std::string &host, std::uint16_t port, int socktype);
std::string to_string(const Address &a);
std::uint16_t local_port(int fd);

using Clock = std::chrono::steady_clock;

// A failed network operation, classified for the connect summary.
struct NetError : std::runtime_error {
	NetError(Failure k, const std::string &what) : std::runtime_error(what), kind(k) {}
	Failure kind;
};

// The source address (port 0) the kernel would use towards dst; NetError
// if it has no route there.
Address source_for(const Address &dst);
// a with port 0 (a raw socket's destination, a source to bind).
Address without_port(Address a);
// A non-blocking TCP connection to a, established before deadline.
Fd tcp_connect(const Address &a, Clock::time_point deadline);
void write_all(int fd, std::string_view data, Clock::time_point deadline);
// Read what is there (at least one byte) into buf; 0 on EOF.
std::size_t read_some(int fd, char *buf, std::size_t len, Clock::time_point deadline);

std::string errno_text(int err);

// SIGTERM and SIGINT blocked and readable from the returned signalfd
// (non-blocking): a poll loop ends cleanly on them. Throws on failure.
Fd stop_signals();

}  // namespace flowbench
