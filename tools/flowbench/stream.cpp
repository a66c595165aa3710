// SPDX-License-Identifier: GPL-2.0
// flowbench stream: bulk TCP to every ADDR and from anyone, kept up across
// outages. One process, one thread, poll(): it forks nothing while the
// interfaces under it come and go (a selftest pulls the module under it
// round after round). A connection that makes no progress for --idle-ms
// is closed (TCP_USER_TIMEOUT does it for the sending side too) and the
// address tried again, --retry-ms later.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <vector>

#include "flowbench.h"
#include "net.h"

namespace flowbench {

namespace {

using Ms = std::chrono::milliseconds;

// One outgoing stream: connecting, or connected and sending.
struct Out {
	Address addr;
	std::string name;
	Fd fd;
	bool connected = false;
	Clock::time_point next_try{};	// when closed
	Clock::time_point progress{};	// connect started, or last byte sent
	std::uint64_t sent = 0;
	std::uint64_t connections = 0;
};

// One accepted connection: read and thrown away.
struct In {
	Fd fd;
	Clock::time_point progress{};
};

Fd stream_listener(std::uint16_t port)
{
	Fd fd(::socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
	int one = 1, zero = 0;
	if (!fd)
		throw std::runtime_error("socket: " + errno_text(errno));
	::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	sockaddr_in6 sin6{};
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(port);
	sin6.sin6_addr = in6addr_any;
	if (::bind(fd.get(), reinterpret_cast<const sockaddr *>(&sin6), sizeof(sin6)) != 0 ||
	    ::listen(fd.get(), 64) != 0)
		throw std::runtime_error("listen on port " + std::to_string(port) + ": " +
					 errno_text(errno));
	return fd;
}

class Streamer {
public:
	explicit Streamer(const StreamOptions &o) : o_(o), idle_(o.idle_ms), retry_(o.retry_ms)
	{
		sig_ = stop_signals();
		lst_ = stream_listener(o.port);
		for (const auto &a : o.addrs) {
			Out out;
			out.addr = resolve(a, o.to_port, SOCK_STREAM);
			out.name = a;
			outs_.push_back(std::move(out));
		}
		std::fprintf(stderr, "flowbench stream: listening on port %u, streaming to %zu address%s\n",
			     unsigned{o.port}, outs_.size(), outs_.size() == 1 ? "" : "es");
	}

	void run()
	{
		std::vector<pollfd> p;
		while (!stop_) {
			auto now = Clock::now();
			p.clear();
			p.push_back({sig_.get(), POLLIN, 0});
			p.push_back({lst_.get(), POLLIN, 0});
			for (auto &o : outs_) {
				if (!o.fd && now >= o.next_try)
					start(o, now);
				p.push_back({o.fd.get(), POLLOUT, 0});	// -1: ignored
			}
			for (auto &i : ins_)
				p.push_back({i.fd.get(), POLLIN, 0});
			int n = ::poll(p.data(), p.size(), 100);
			if (n < 0 && errno != EINTR)
				throw std::runtime_error("poll: " + errno_text(errno));
			now = Clock::now();
			if (p[0].revents)
				stop_ = true;
			for (std::size_t k = 0; k < outs_.size(); k++)
				service(outs_[k], p[2 + k].revents, now);
			for (std::size_t k = 0; k < ins_.size(); k++)
				drain(ins_[k], p[2 + outs_.size() + k].revents, now);
			std::erase_if(ins_, [](const In &i) { return !i.fd; });
			if (p[1].revents)
				accept_all(now);
		}
	}

	void report(bool json) const
	{
		std::uint64_t sent = 0, conns = 0;
		for (const auto &o : outs_) {
			sent += o.sent;
			conns += o.connections;
		}
		if (json) {
			std::printf("{\"sent\":%llu,\"connections\":%llu,\"received\":%llu,\"accepted\":%llu}\n",
				    static_cast<unsigned long long>(sent),
				    static_cast<unsigned long long>(conns),
				    static_cast<unsigned long long>(received_),
				    static_cast<unsigned long long>(accepted_));
			return;
		}
		std::printf("stream: sent %llu bytes over %llu connections to %zu addresses; received %llu bytes over %llu connections\n",
			    static_cast<unsigned long long>(sent),
			    static_cast<unsigned long long>(conns), outs_.size(),
			    static_cast<unsigned long long>(received_),
			    static_cast<unsigned long long>(accepted_));
	}

private:
	void start(Out &o, Clock::time_point now)
	{
		o.progress = now;
		o.connected = false;
		o.fd.reset(::socket(o.addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
		if (!o.fd) {
			close(o, now);
			return;
		}
		// A sender whose data stays unacknowledged this long gets an error.
		unsigned int ut = static_cast<unsigned int>(o_.idle_ms);
		::setsockopt(o.fd.get(), IPPROTO_TCP, TCP_USER_TIMEOUT, &ut, sizeof(ut));
		// TCP paces itself to this (no fq qdisc needed).
		if (o_.rate) {
			std::uint64_t rate = o_.rate;
			::setsockopt(o.fd.get(), SOL_SOCKET, SO_MAX_PACING_RATE, &rate, sizeof(rate));
		}
		if (::connect(o.fd.get(), reinterpret_cast<const sockaddr *>(&o.addr.ss), o.addr.len) != 0 &&
		    errno != EINPROGRESS)
			close(o, now);
	}

	void close(Out &o, Clock::time_point now)
	{
		o.fd.reset();
		o.connected = false;
		o.next_try = now + retry_;
	}

	void service(Out &o, short ev, Clock::time_point now)
	{
		if (!o.fd)
			return;
		if (ev && !o.connected) {
			int err = 0;
			socklen_t len = sizeof(err);
			::getsockopt(o.fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
			if (err != 0 || !(ev & POLLOUT)) {
				close(o, now);
				return;
			}
			o.connected = true;
			o.connections++;
			o.progress = now;
		}
		if (o.connected && (ev & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t k = ::send(o.fd.get(), zeros_.data(), zeros_.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
			if (k > 0) {
				o.sent += static_cast<std::uint64_t>(k);
				o.progress = now;
			} else if (k < 0 && errno != EAGAIN && errno != EINTR) {
				close(o, now);
				return;
			}
		}
		if (now - o.progress > idle_)
			close(o, now);
	}

	void accept_all(Clock::time_point now)
	{
		for (;;) {
			int fd = ::accept4(lst_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
			if (fd < 0)
				return;
			ins_.push_back(In{Fd(fd), now});
			accepted_++;
		}
	}

	void drain(In &i, short ev, Clock::time_point now)
	{
		if (ev) {
			ssize_t k = ::recv(i.fd.get(), buf_.data(), buf_.size(), MSG_DONTWAIT);
			if (k > 0) {
				received_ += static_cast<std::uint64_t>(k);
				i.progress = now;
			} else if (k == 0 || (errno != EAGAIN && errno != EINTR)) {
				i.fd.reset();
				return;
			}
		}
		if (now - i.progress > idle_)
			i.fd.reset();
	}

	StreamOptions o_;
	Ms idle_, retry_;
	Fd sig_, lst_;
	std::vector<Out> outs_;
	std::vector<In> ins_;
	std::array<char, 65536> zeros_{};
	std::array<char, 65536> buf_{};
	std::uint64_t received_ = 0, accepted_ = 0;
	bool stop_ = false;
};

}  // namespace

int run_stream(const StreamOptions &o)
{
	Streamer s(o);
	s.run();
	s.report(o.json);
	return 0;
}

}  // namespace flowbench
