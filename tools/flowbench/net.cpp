// SPDX-License-Identifier: GPL-2.0
#include "net.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

namespace flowbench {

void Fd::reset(int fd)
{
	if (fd_ >= 0)
		::close(fd_);
	fd_ = fd;
}

std::string errno_text(int err) { return std::strerror(err); }

Fd stop_signals()
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0)
		throw std::runtime_error("sigprocmask: " + errno_text(errno));
	Fd fd(::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
	if (!fd)
		throw std::runtime_error("signalfd: " + errno_text(errno));
	return fd;
}

Address resolve(const std::string &host, std::uint16_t port, int socktype)
{
	addrinfo hints{};
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = socktype;
	hints.ai_flags = AI_NUMERICSERV;
	addrinfo *res = nullptr;
	std::string service = std::to_string(port);
	int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res);
	if (rc != 0)
		throw std::runtime_error("cannot resolve '" + host + "': " + gai_strerror(rc));
	Address a;
	std::memcpy(&a.ss, res->ai_addr, res->ai_addrlen);
	a.len = res->ai_addrlen;
	::freeaddrinfo(res);
	return a;
}

std::string to_string(const Address &a)
{
	char host[INET6_ADDRSTRLEN] = "?";
	std::uint16_t port = 0;
	if (a.family() == AF_INET) {
		const auto *s = reinterpret_cast<const sockaddr_in *>(&a.ss);
		::inet_ntop(AF_INET, &s->sin_addr, host, sizeof(host));
		port = ntohs(s->sin_port);
		return std::string(host) + ":" + std::to_string(port);
	}
	const auto *s = reinterpret_cast<const sockaddr_in6 *>(&a.ss);
	::inet_ntop(AF_INET6, &s->sin6_addr, host, sizeof(host));
	port = ntohs(s->sin6_port);
	return "[" + std::string(host) + "]:" + std::to_string(port);
}

std::uint16_t local_port(int fd)
{
	sockaddr_storage ss{};
	socklen_t len = sizeof(ss);
	if (::getsockname(fd, reinterpret_cast<sockaddr *>(&ss), &len) != 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(reinterpret_cast<sockaddr_in *>(&ss)->sin_port);
	return ntohs(reinterpret_cast<sockaddr_in6 *>(&ss)->sin6_port);
}

namespace {

int ms_left(Clock::time_point deadline)
{
	auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
	return left <= 0 ? 0 : static_cast<int>(left) + 1;
}

// Wait for events on fd until deadline; throws a timeout NetError.
void wait_for(int fd, short events, Clock::time_point deadline, const char *what)
{
	for (;;) {
		int left = ms_left(deadline);
		if (left == 0)
			throw NetError(Failure::timeout, std::string("timeout ") + what);
		pollfd p{fd, events, 0};
		int n = ::poll(&p, 1, left);
		if (n > 0)
			return;
		if (n < 0 && errno != EINTR)
			throw NetError(Failure::other, std::string("poll: ") + errno_text(errno));
	}
}

Failure classify(int err)
{
	switch (err) {
	case ECONNREFUSED: return Failure::refused;
	case ETIMEDOUT: return Failure::timeout;
	case ECONNRESET:
	case EPIPE: return Failure::reset;
	default: return Failure::other;
	}
}

}  // namespace

Address source_for(const Address &dst)
{
	Fd u(::socket(dst.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0));
	if (!u) {
		int err = errno;
		throw NetError(classify(err), "socket: " + errno_text(err));
	}
	Address src;
	src.len = sizeof(src.ss);
	if (::connect(u.get(), reinterpret_cast<const sockaddr *>(&dst.ss), dst.len) != 0 ||
	    ::getsockname(u.get(), reinterpret_cast<sockaddr *>(&src.ss), &src.len) != 0) {
		int err = errno;
		throw NetError(classify(err), "no route to " + to_string(dst) + ": " + errno_text(err));
	}
	return without_port(src);
}

Address without_port(Address a)
{
	if (a.family() == AF_INET)
		reinterpret_cast<sockaddr_in &>(a.ss).sin_port = 0;
	else
		reinterpret_cast<sockaddr_in6 &>(a.ss).sin6_port = 0;
	return a;
}

Fd tcp_connect(const Address &a, Clock::time_point deadline)
{
	Fd fd(::socket(a.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
	if (!fd)
		throw NetError(Failure::other, "socket: " + errno_text(errno));
	int one = 1;
	::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	// An unbound IPv6 socket's connect() routes the SYN as from address
	// :: and port 0, and keeps that route (Linux 6.1, tcp_v6_connect and
	// ip6_dst_lookup_tail): an ECMP route hashed on the 5-tuple sends
	// every connection to one address and port by the same next hop, and
	// moves one to its own tuple's next hop whenever a route change makes
	// its socket route again. Bound first to its source address and a
	// port, the socket is routed by its real 5-tuple from the start, as
	// forwarded packets are (the source address may then belong to
	// another link than the next hop's, as IPv4's often does). IPv4's
	// connect() routes again once it has both. A link-local source
	// without a scope cannot be bound: such a socket connects unbound.
	if (a.family() == AF_INET6) {
		Address src = source_for(a);
		const auto &s6 = reinterpret_cast<const sockaddr_in6 &>(src.ss);
		if ((!IN6_IS_ADDR_LINKLOCAL(&s6.sin6_addr) || s6.sin6_scope_id != 0) &&
		    ::bind(fd.get(), reinterpret_cast<const sockaddr *>(&src.ss), src.len) != 0) {
			int err = errno;
			throw NetError(classify(err), "bind: " + errno_text(err));
		}
	}
	if (::connect(fd.get(), reinterpret_cast<const sockaddr *>(&a.ss), a.len) != 0) {
		int err = errno;
		if (err != EINPROGRESS)
			throw NetError(classify(err), "connect: " + errno_text(err));
		wait_for(fd.get(), POLLOUT, deadline, "connecting");
		err = 0;
		socklen_t len = sizeof(err);
		::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
		if (err != 0)
			throw NetError(classify(err), "connect: " + errno_text(err));
	}
	return fd;
}

void write_all(int fd, std::string_view data, Clock::time_point deadline)
{
	while (!data.empty()) {
		ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
		if (n > 0) {
			data.remove_prefix(static_cast<std::size_t>(n));
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			wait_for(fd, POLLOUT, deadline, "sending");
			continue;
		}
		throw NetError(classify(errno), "send: " + errno_text(errno));
	}
}

std::size_t read_some(int fd, char *buf, std::size_t len, Clock::time_point deadline)
{
	for (;;) {
		ssize_t n = ::recv(fd, buf, len, 0);
		if (n >= 0)
			return static_cast<std::size_t>(n);
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			wait_for(fd, POLLIN, deadline, "waiting for the answer");
			continue;
		}
		throw NetError(classify(errno), "recv: " + errno_text(errno));
	}
}

}  // namespace flowbench
