// SPDX-License-Identifier: GPL-2.0
// flowbench stray: TCP segments of no connection (and a SYN, and a UDP
// datagram, to check checksums), built and parsed as bytes (no sockets
// here, unit-tested).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace flowbench {

struct TcpFlags {
	bool syn = false, ack = false, fin = false, rst = false;
	bool operator==(const TcpFlags &) const = default;
};

// What flowbench stray sends: a late ACK, a FIN+ACK, a RST, a SYN+ACK; or a
// plain SYN, or a UDP datagram (udp: no TCP flags).
enum class StrayKind { ack, fin, rst, synack, syn, udp };

std::optional<StrayKind> parse_stray_kind(std::string_view s);
std::string_view stray_name(StrayKind k);
TcpFlags stray_flags(StrayKind k);
// "syn,ack" and the like, "none" for no flag.
std::string flags_text(const TcpFlags &f);

inline constexpr std::size_t kTcpHeader = 20;

// A TCP header without options, its checksum over the pseudo-header of
// src and dst (both 4 or both 16 bytes: IPv4 or IPv6).
std::array<std::uint8_t, kTcpHeader> tcp_segment(std::span<const std::uint8_t> src,
						 std::span<const std::uint8_t> dst, std::uint16_t sport,
						 std::uint16_t dport, std::uint32_t seq, std::uint32_t ack,
						 const TcpFlags &f);

// The one's complement sum of the pseudo-header (protocol @proto) and seg,
// folded and inverted: 0 for a segment whose checksum is right.
std::uint16_t l4_checksum(std::span<const std::uint8_t> src, std::span<const std::uint8_t> dst,
			  std::uint8_t proto, std::span<const std::uint8_t> seg);
std::uint16_t tcp_checksum(std::span<const std::uint8_t> src, std::span<const std::uint8_t> dst,
			   std::span<const std::uint8_t> seg);

inline constexpr std::uint8_t kProtoTcp = 6, kProtoUdp = 17;
inline constexpr std::size_t kUdpHeader = 8;

// A UDP datagram carrying payload, its checksum over the pseudo-header.
std::vector<std::uint8_t> udp_datagram(std::span<const std::uint8_t> src,
				       std::span<const std::uint8_t> dst, std::uint16_t sport,
				       std::uint16_t dport, std::span<const std::uint8_t> payload);

// Make the checksum of a TCP segment or UDP datagram (@proto) wrong, and
// never one a receiver could take for right (nor UDP's "no checksum", 0).
void spoil_checksum(std::span<std::uint8_t> pkt, std::uint8_t proto);

struct TcpHeader {
	std::uint16_t sport = 0, dport = 0;
	TcpFlags flags;
};

// The ports and flags of a TCP segment (at least a whole header), or
// nothing.
std::optional<TcpHeader> parse_tcp(std::span<const std::uint8_t> seg);

}  // namespace flowbench
