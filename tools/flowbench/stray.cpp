// SPDX-License-Identifier: GPL-2.0
// flowbench stray: one TCP segment of no connection (a late ACK, a FIN, a
// RST, a SYN+ACK) sent from a raw socket, and the answer it gets, if any.
// A host answers such a segment with a RST (none for a RST); a load
// balancer must not place it on a server. Also a plain SYN or a UDP
// datagram, with --bad-checksum a wrong checksum: a receiver must drop it
// (no SYN+ACK), whatever carried it there.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>
#include <span>
#include <string_view>
#include <vector>

#include "flowbench.h"
#include "net.h"
#include "segment.h"

namespace flowbench {

namespace {

// Source ports above Linux's default ephemeral range (32768..60999), so
// that no socket of ours owns the one we use.
constexpr std::uint16_t kPortLo = 61000, kPortSpan = 4000;

std::span<const std::uint8_t> ip_bytes(const sockaddr_storage &ss)
{
	if (ss.ss_family == AF_INET) {
		const auto &a = reinterpret_cast<const sockaddr_in &>(ss).sin_addr;
		return {reinterpret_cast<const std::uint8_t *>(&a), 4};
	}
	const auto &a = reinterpret_cast<const sockaddr_in6 &>(ss).sin6_addr;
	return {reinterpret_cast<const std::uint8_t *>(&a), 16};
}

// The TCP segment in a packet a raw socket received: IPv4 raw sockets see
// the IP header, IPv6 ones do not.
std::span<const std::uint8_t> tcp_of(int family, std::span<const std::uint8_t> pkt)
{
	if (family != AF_INET)
		return pkt;
	if (pkt.empty())
		return {};
	std::size_t ihl = (pkt[0] & 0x0fu) * 4u;
	return ihl >= 20 && ihl <= pkt.size() ? pkt.subspan(ihl) : std::span<const std::uint8_t>{};
}

}  // namespace

int run_stray(const StrayOptions &o)
{
	const bool udp = o.kind == StrayKind::udp;
	const std::uint8_t proto = udp ? kProtoUdp : kProtoTcp;
	Address dst = resolve(o.addr, o.port, udp ? SOCK_DGRAM : SOCK_STREAM);
	Address src = source_for(dst);
	Fd raw(::socket(dst.family(), SOCK_RAW | SOCK_CLOEXEC, proto));
	if (!raw)
		throw std::runtime_error("raw socket (needs CAP_NET_RAW): " + errno_text(errno));

	std::mt19937 rng(std::random_device{}());
	auto sport = o.sport ? o.sport : static_cast<std::uint16_t>(kPortLo + rng() % kPortSpan);
	std::vector<std::uint8_t> pkt;
	if (udp) {
		static constexpr std::string_view kPayload = "flowbench stray\n";
		pkt = udp_datagram(ip_bytes(src.ss), ip_bytes(dst.ss), sport, o.port,
				   std::span(reinterpret_cast<const std::uint8_t *>(kPayload.data()),
					     kPayload.size()));
	} else {
		auto seg = tcp_segment(ip_bytes(src.ss), ip_bytes(dst.ss), sport, o.port, rng(), rng(),
				       stray_flags(o.kind));
		pkt.assign(seg.begin(), seg.end());
	}
	if (o.bad_checksum)
		spoil_checksum(pkt, proto);
	Address to = without_port(dst);  // raw sockets take no port
	if (::sendto(raw.get(), pkt.data(), pkt.size(), 0, reinterpret_cast<const sockaddr *>(&to.ss), to.len) !=
	    static_cast<ssize_t>(pkt.size()))
		throw std::runtime_error("send to " + to_string(dst) + ": " + errno_text(errno));

	// Wait for the answer: from dst's port to ours.
	std::optional<TcpFlags> reply;
	auto deadline = Clock::now() + std::chrono::milliseconds(o.timeout_ms);
	std::array<std::uint8_t, 2048> buf{};
	while (!udp && !reply) {
		auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
		pollfd p{raw.get(), POLLIN, 0};
		if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0)
			break;
		sockaddr_storage from{};
		socklen_t flen = sizeof(from);
		ssize_t n = ::recvfrom(raw.get(), buf.data(), buf.size(), 0, reinterpret_cast<sockaddr *>(&from), &flen);
		if (n <= 0 || from.ss_family != dst.family())
			continue;
		auto want = ip_bytes(dst.ss), got = ip_bytes(from);
		if (!std::equal(want.begin(), want.end(), got.begin(), got.end()))
			continue;
		auto t = parse_tcp(tcp_of(dst.family(), std::span(buf.data(), static_cast<std::size_t>(n))));
		if (t && t->sport == o.port && t->dport == sport)
			reply = t->flags;
	}
	std::string kind(stray_name(o.kind)), answer = reply ? flags_text(*reply) : "none";
	const char *csum = o.bad_checksum ? "bad" : "good";
	if (o.json)
		std::printf("{\"mode\":\"stray\",\"kind\":\"%s\",\"checksum\":\"%s\",\"addr\":\"%s\","
			    "\"port\":%u,\"sport\":%u,\"reply\":\"%s\"}\n",
			    kind.c_str(), csum, json_escape(o.addr).c_str(), unsigned{o.port},
			    unsigned{sport}, answer.c_str());
	else
		std::printf("%s (%s checksum) from port %u to %s: reply %s\n", kind.c_str(), csum,
			    unsigned{sport}, to_string(dst).c_str(), answer.c_str());
	return 0;
}

}  // namespace flowbench
