// SPDX-License-Identifier: GPL-2.0
// flowbench serve: one thread, epoll, non-blocking sockets; SIGTERM and
// SIGINT arrive through a signalfd and end the loop cleanly.
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <memory>
#include <unordered_map>

#include "flowbench.h"
#include "net.h"
#include "proto.h"

namespace flowbench {

namespace {

struct Conn {
	Fd fd;
	FrameDecoder in{kMaxPayload};
	std::string out;
	std::size_t out_pos = 0;
	bool peer_closed = false;
};

struct Stats {
	std::uint64_t conns = 0, requests = 0, datagrams = 0, bad = 0;
};

Fd listen_socket(const ServeOptions &o, int type, bool &v6)
{
	std::string host = o.bind.empty() ? "::" : o.bind;
	Address a;
	try {
		a = resolve(host, o.port, type);
	} catch (const std::runtime_error &) {
		if (!o.bind.empty())
			throw;
		a = resolve("0.0.0.0", o.port, type);
	}
	Fd fd(::socket(a.family(), type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
	if (!fd && o.bind.empty() && a.family() == AF_INET6 && errno == EAFNOSUPPORT) {
		a = resolve("0.0.0.0", o.port, type);
		fd.reset(::socket(a.family(), type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
	}
	if (!fd)
		throw std::runtime_error("socket: " + errno_text(errno));
	int one = 1, zero = 0;
	::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	v6 = a.family() == AF_INET6;
	if (v6)  // "::" accepts IPv4 too
		::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (::bind(fd.get(), reinterpret_cast<const sockaddr *>(&a.ss), a.len) != 0)
		throw std::runtime_error("bind " + to_string(a) + ": " + errno_text(errno));
	if (type == SOCK_STREAM && ::listen(fd.get(), 1024) != 0)
		throw std::runtime_error("listen: " + errno_text(errno));
	return fd;
}

class Server {
public:
	explicit Server(const ServeOptions &o) : name_(o.name)
	{
		sig_ = stop_signals();
		ep_.reset(::epoll_create1(EPOLL_CLOEXEC));
		if (!ep_)
			throw std::runtime_error("epoll: " + errno_text(errno));
		bool v6 = false;
		tcp_ = listen_socket(o, SOCK_STREAM, v6);
		add(sig_.get(), EPOLLIN);
		add(tcp_.get(), EPOLLIN);
		if (o.udp) {
			bool v6u = false;
			udp_ = listen_socket(o, SOCK_DGRAM, v6u);
			add(udp_.get(), EPOLLIN);
		}
		std::fprintf(stderr, "flowbench serve: %s listening on %s port %u (TCP%s) as '%s'\n",
			     v6 ? "IPv6/IPv4" : "IPv4", o.bind.empty() ? "::" : o.bind.c_str(),
			     unsigned{o.port}, o.udp ? " and UDP" : "", name_.c_str());
	}

	void run()
	{
		std::array<epoll_event, 64> ev{};
		while (!stop_) {
			int n = ::epoll_wait(ep_.get(), ev.data(), static_cast<int>(ev.size()), -1);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				throw std::runtime_error("epoll_wait: " + errno_text(errno));
			}
			for (int i = 0; i < n; i++) {
				int fd = ev[static_cast<std::size_t>(i)].data.fd;
				std::uint32_t e = ev[static_cast<std::size_t>(i)].events;
				if (fd == sig_.get())
					stop_ = true;
				else if (fd == tcp_.get())
					accept_all();
				else if (udp_ && fd == udp_.get())
					udp_all();
				else
					conn_event(fd, e);
			}
		}
		std::fprintf(stderr,
			     "flowbench serve: stopped: %llu connections, %llu requests, %llu datagrams, %llu bad\n",
			     static_cast<unsigned long long>(st_.conns), static_cast<unsigned long long>(st_.requests),
			     static_cast<unsigned long long>(st_.datagrams), static_cast<unsigned long long>(st_.bad));
	}

private:
	void add(int fd, std::uint32_t events)
	{
		epoll_event e{};
		e.events = events;
		e.data.fd = fd;
		if (::epoll_ctl(ep_.get(), EPOLL_CTL_ADD, fd, &e) != 0)
			throw std::runtime_error("epoll_ctl: " + errno_text(errno));
	}

	void modify(int fd, std::uint32_t events)
	{
		epoll_event e{};
		e.events = events;
		e.data.fd = fd;
		::epoll_ctl(ep_.get(), EPOLL_CTL_MOD, fd, &e);
	}

	void accept_all()
	{
		for (;;) {
			Fd c(::accept4(tcp_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
			if (!c) {
				if (errno == EINTR || errno == ECONNABORTED)
					continue;
				return;  // EAGAIN, or out of fds: retried on the next event
			}
			int fd = c.get();
			auto conn = std::make_unique<Conn>();
			conn->fd = std::move(c);
			add(fd, EPOLLIN | EPOLLRDHUP);
			conns_.emplace(fd, std::move(conn));
			st_.conns++;
		}
	}

	void close_conn(int fd) { conns_.erase(fd); }  // Fd closes, epoll forgets

	void conn_event(int fd, std::uint32_t e)
	{
		auto it = conns_.find(fd);
		if (it == conns_.end())
			return;
		Conn &c = *it->second;
		if (e & (EPOLLERR)) {
			close_conn(fd);
			return;
		}
		if (c.out_pos < c.out.size()) {  // answers first: backpressure
			if (!flush(c)) {
				close_conn(fd);
				return;
			}
		} else if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) {
			if (!read_requests(c)) {
				close_conn(fd);
				return;
			}
			if (!flush(c)) {
				close_conn(fd);
				return;
			}
		}
		bool pending = c.out_pos < c.out.size();
		if (!pending && c.peer_closed) {
			close_conn(fd);
			return;
		}
		modify(fd, pending ? EPOLLOUT : EPOLLIN | EPOLLRDHUP);
	}

	// false: close the connection (error or bad frame)
	bool read_requests(Conn &c)
	{
		std::array<char, 65536> buf{};
		for (;;) {
			ssize_t n = ::recv(c.fd.get(), buf.data(), buf.size(), 0);
			if (n > 0) {
				c.in.feed(std::string_view(buf.data(), static_cast<std::size_t>(n)));
				if (!answer(c))
					return false;
				if (c.out.size() - c.out_pos > (4u << 20))
					return true;  // send these first
				continue;
			}
			if (n == 0) {
				c.peer_closed = true;
				return true;
			}
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK;
		}
	}

	bool answer(Conn &c)
	{
		std::string body;
		for (;;) {
			switch (c.in.next(body)) {
			case FrameDecoder::Status::need_more: return true;
			case FrameDecoder::Status::too_large: st_.bad++; return false;
			case FrameDecoder::Status::frame:
				if (c.out_pos == c.out.size()) {
					c.out.clear();
					c.out_pos = 0;
				}
				c.out += encode_response(name_, body);
				st_.requests++;
				break;
			}
		}
	}

	bool flush(Conn &c)
	{
		while (c.out_pos < c.out.size()) {
			ssize_t n = ::send(c.fd.get(), c.out.data() + c.out_pos, c.out.size() - c.out_pos, MSG_NOSIGNAL);
			if (n > 0) {
				c.out_pos += static_cast<std::size_t>(n);
				continue;
			}
			if (n < 0 && errno == EINTR)
				continue;
			return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
		}
		c.out.clear();
		c.out_pos = 0;
		return true;
	}

	void udp_all()
	{
		std::array<char, 65536> buf{};
		for (;;) {
			sockaddr_storage from{};
			socklen_t len = sizeof(from);
			ssize_t n = ::recvfrom(udp_.get(), buf.data(), buf.size(), 0, reinterpret_cast<sockaddr *>(&from),
					       &len);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				return;
			}
			st_.datagrams++;
			auto reply = encode_udp_answer(name_, std::string_view(buf.data(), static_cast<std::size_t>(n)));
			if (reply.size() > kMaxDatagram) {
				st_.bad++;
				continue;
			}
			::sendto(udp_.get(), reply.data(), reply.size(), 0, reinterpret_cast<sockaddr *>(&from), len);
		}
	}

	std::string name_;
	Fd sig_, ep_, tcp_, udp_;
	std::unordered_map<int, std::unique_ptr<Conn>> conns_;
	Stats st_;
	bool stop_ = false;
};

}  // namespace

int serve(ServeOptions o)
{
	if (o.name.empty()) {
		std::array<char, 256> host{};
		if (::gethostname(host.data(), host.size() - 1) != 0 || !valid_name(host.data()))
			throw std::runtime_error("no host name: give --name");
		o.name = host.data();
	}
	Server s(o);
	s.run();
	return 0;
}

}  // namespace flowbench
