// SPDX-License-Identifier: GPL-2.0
// flowbench connect, rr and udp: the network part; what they count and
// print is in report.cpp.
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "flowbench.h"
#include "net.h"
#include "proto.h"
#include "report.h"

namespace flowbench {

namespace {

constexpr std::size_t kUdpWindow = 16;  // udp: datagrams in flight

std::string random_bytes(std::mt19937_64 &rng, std::size_t n)
{
	std::string s(n, '\0');
	for (std::size_t i = 0; i < n; i += 8) {
		std::uint64_t x = rng();
		for (std::size_t j = 0; j < 8 && i + j < n; j++)
			s[i + j] = static_cast<char>(x >> (8 * j));
	}
	return s;
}

double seconds_since(Clock::time_point t0)
{
	return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Send one request on fd and read its response (until deadline).
Reply round_trip(int fd, FrameDecoder &dec, const std::string &payload, Clock::time_point deadline)
{
	write_all(fd, encode_frame(payload), deadline);
	std::array<char, 65536> buf{};
	std::string body;
	for (;;) {
		switch (dec.next(body)) {
		case FrameDecoder::Status::frame: {
			auto r = parse_reply(body);
			if (!r)
				throw NetError(Failure::corrupt, "response without a server name");
			if (r->payload != payload)
				throw NetError(Failure::corrupt, "echoed payload differs (" + std::to_string(r->payload.size()) +
									 " B back for " + std::to_string(payload.size()) + " B)");
			return std::move(*r);
		}
		case FrameDecoder::Status::too_large:
			throw NetError(Failure::corrupt, "response frame too large");
		case FrameDecoder::Status::need_more:
			break;
		}
		std::size_t n = read_some(fd, buf.data(), buf.size(), deadline);
		if (n == 0)
			throw NetError(Failure::reset, "connection closed before the answer");
		dec.feed(std::string_view(buf.data(), n));
	}
}

void print(const std::string &s)
{
	std::fputs(s.c_str(), stdout);
	std::fflush(stdout);
}

}  // namespace

int run_connect(const ConnectOptions &o)
{
	Address target = resolve(o.addr, o.port, SOCK_STREAM);
	ConnectSummary sum;
	sum.addr = o.addr;
	sum.port = o.port;
	sum.conns = o.conns;
	sum.parallel = o.parallel;
	sum.size = o.size;
	sum.requests = o.requests;
	std::mutex mu;
	std::atomic<std::uint64_t> next{0};
	auto t0 = Clock::now();
	{
		std::vector<std::jthread> workers;
		for (unsigned w = 0; w < o.parallel; w++)
			workers.emplace_back([&, w] {
				std::mt19937_64 rng(std::random_device{}() ^ (std::uint64_t{w} << 32));
				for (std::uint64_t k; (k = next.fetch_add(1)) < o.conns;) {
					if (o.interval_ms)
						std::this_thread::sleep_until(
							t0 + std::chrono::milliseconds(k * o.interval_ms));
					auto deadline = Clock::now() + std::chrono::milliseconds(o.timeout_ms);
					try {
						Fd fd = tcp_connect(target, deadline);
						if (o.rate)  // TCP paces itself (no fq qdisc needed)
							::setsockopt(fd.get(), SOL_SOCKET, SO_MAX_PACING_RATE, &o.rate,
								     sizeof(o.rate));
						FrameDecoder dec(kMaxFrame);
						std::string name;
						for (std::uint64_t i = 0; i < o.requests; i++) {
							Reply r = round_trip(fd.get(), dec, random_bytes(rng, o.size),
									     deadline);
							if (i > 0 && r.name != name)
								throw NetError(Failure::corrupt,
									       "one connection answered by " + name +
										       " and " + r.name);
							name = std::move(r.name);
						}
						std::lock_guard lock(mu);
						if (sum.ok++ == 0)
							sum.first_ok_s = seconds_since(t0);
						sum.servers[name]++;
					} catch (const NetError &e) {
						std::lock_guard lock(mu);
						sum.failures.add(e.kind);
						if (sum.first_error.empty())
							sum.first_error = e.what();
					}
				}
			});
	}  // jthreads join here
	sum.elapsed_s = seconds_since(t0);
	print(o.json ? connect_json(sum) : connect_text(sum));
	return sum.passed() ? 0 : 1;
}

int run_rr(const RrOptions &o)
{
	Address target = resolve(o.addr, o.port, SOCK_STREAM);
	RrSummary sum;
	sum.addr = o.addr;
	sum.port = o.port;
	sum.requests = o.requests;
	sum.size = o.size;
	sum.latencies_us.reserve(o.requests);
	std::mt19937_64 rng(std::random_device{}());
	auto t0 = Clock::now();
	try {
		Fd fd = tcp_connect(target, t0 + std::chrono::milliseconds(o.timeout_ms));
		FrameDecoder dec(kMaxFrame);
		t0 = Clock::now();  // round trips only
		for (std::uint64_t i = 0; i < o.requests; i++) {
			auto payload = random_bytes(rng, o.size);
			auto t = Clock::now();
			Reply r = round_trip(fd.get(), dec, payload, t + std::chrono::milliseconds(o.timeout_ms));
			sum.latencies_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t).count());
			sum.servers[r.name]++;
		}
	} catch (const NetError &e) {
		sum.error = e.what();
	}
	sum.elapsed_s = seconds_since(t0);
	print(o.json ? rr_json(sum) : rr_text(sum));
	return sum.passed() ? 0 : 1;
}

int run_udp(const UdpOptions &o)
{
	Address target = resolve(o.addr, o.port, SOCK_DGRAM);
	UdpTracker tr(o.flows, o.packets);
	UdpSummary sum;
	sum.addr = o.addr;
	sum.port = o.port;
	sum.size = o.size;
	sum.retries = o.retries;
	// all sockets open at once: distinct source ports
	std::vector<Fd> socks;
	std::vector<pollfd> pfds;
	for (unsigned f = 0; f < o.flows; f++) {
		Fd fd(::socket(target.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
		if (!fd)
			throw std::runtime_error("socket: " + errno_text(errno));
		if (::connect(fd.get(), reinterpret_cast<const sockaddr *>(&target.ss), target.len) != 0)
			throw std::runtime_error("connect " + to_string(target) + ": " + errno_text(errno));
		tr.set_src_port(f, local_port(fd.get()));
		pfds.push_back({fd.get(), POLLIN, 0});
		socks.push_back(std::move(fd));
	}
	auto t0 = Clock::now();
	std::array<char, 65536> buf{};
	// Read every answer waiting on the sockets, until `until` holds or the
	// deadline passes.
	auto receive = [&](Clock::time_point deadline, auto &&until) {
		while (!until()) {
			auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
			if (left <= 0)
				return;
			int n = ::poll(pfds.data(), pfds.size(), static_cast<int>(left) + 1);
			if (n < 0 && errno != EINTR)
				throw std::runtime_error("poll: " + errno_text(errno));
			for (unsigned f = 0; n > 0 && f < o.flows; f++) {
				if (!pfds[f].revents)
					continue;
				for (;;) {
					ssize_t r = ::recv(socks[f].get(), buf.data(), buf.size(), 0);
					if (r < 0)
						break;  // EAGAIN, or ECONNREFUSED (ICMP): lost
					tr.answer(f, std::string_view(buf.data(), static_cast<std::size_t>(r)));
				}
			}
		}
	};
	// Each round sends what is still unanswered, the flows interleaved,
	// kUdpWindow datagrams at a time: the next window goes once this one
	// is answered or timeout_ms passed (a burst would overflow the
	// receivers' socket buffers and only measure that).
	for (unsigned round = 0; round <= o.retries && !tr.complete(); round++) {
		std::vector<std::pair<unsigned, std::uint32_t>> todo;
		std::vector<std::vector<std::uint32_t>> missing(o.flows);
		std::size_t most = 0;
		for (unsigned f = 0; f < o.flows; f++) {
			missing[f] = tr.missing(f);
			most = std::max(most, missing[f].size());
		}
		for (std::size_t i = 0; i < most; i++)
			for (unsigned f = 0; f < o.flows; f++)
				if (i < missing[f].size())
					todo.emplace_back(f, missing[f][i]);
		for (std::size_t at = 0; at < todo.size(); at += kUdpWindow) {
			std::size_t end = std::min(todo.size(), at + kUdpWindow);
			for (std::size_t k = at; k < end; k++) {
				auto [f, seq] = todo[k];
				auto p = encode_probe(f, seq, o.size);
				// a full socket buffer or an ICMP error: the next round resends
				(void)::send(socks[f].get(), p.data(), p.size(), 0);
				tr.sent(f, round > 0);
			}
			receive(Clock::now() + std::chrono::milliseconds(o.timeout_ms), [&] {
				for (std::size_t k = at; k < end; k++)
					if (!tr.answered(todo[k].first, todo[k].second))
						return false;
				return true;
			});
		}
	}
	// late answers to the last window
	receive(Clock::now() + std::chrono::milliseconds(10), [] { return false; });
	sum.elapsed_s = seconds_since(t0);
	print(o.json ? udp_json(sum, tr) : udp_text(sum, tr));
	return udp_passed(sum, tr) ? 0 : 1;
}

}  // namespace flowbench
