// SPDX-License-Identifier: GPL-2.0
#include "segment.h"

#include <algorithm>
#include <stdexcept>

namespace flowbench {

namespace {

constexpr std::uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kAck = 0x10;

struct Kind {
	StrayKind kind;
	std::string_view name;
	TcpFlags flags;
};

constexpr std::array<Kind, 6> kKinds{{
	{StrayKind::ack, "ack", {.ack = true}},
	{StrayKind::fin, "fin", {.ack = true, .fin = true}},
	{StrayKind::rst, "rst", {.rst = true}},
	{StrayKind::synack, "synack", {.syn = true, .ack = true}},
	{StrayKind::syn, "syn", {.syn = true}},
	{StrayKind::udp, "udp", {}},
}};

const Kind &kind_of(StrayKind k)
{
	for (const auto &e : kKinds)
		if (e.kind == k)
			return e;
	throw std::logic_error("unknown stray kind");
}

void put16(std::uint8_t *p, std::uint16_t v)
{
	p[0] = static_cast<std::uint8_t>(v >> 8);
	p[1] = static_cast<std::uint8_t>(v);
}

void put32(std::uint8_t *p, std::uint32_t v)
{
	put16(p, static_cast<std::uint16_t>(v >> 16));
	put16(p + 2, static_cast<std::uint16_t>(v));
}

std::uint32_t sum16(std::uint32_t sum, std::span<const std::uint8_t> b)
{
	for (std::size_t i = 0; i < b.size(); i += 2)
		sum += static_cast<std::uint32_t>(b[i] << 8) | (i + 1 < b.size() ? b[i + 1] : 0u);
	return sum;
}

}  // namespace

std::optional<StrayKind> parse_stray_kind(std::string_view s)
{
	for (const auto &e : kKinds)
		if (e.name == s)
			return e.kind;
	return std::nullopt;
}

std::string_view stray_name(StrayKind k) { return kind_of(k).name; }

TcpFlags stray_flags(StrayKind k) { return kind_of(k).flags; }

std::string flags_text(const TcpFlags &f)
{
	std::string s;
	auto add = [&s](bool on, const char *name) {
		if (!on)
			return;
		if (!s.empty())
			s += ',';
		s += name;
	};
	add(f.syn, "syn");
	add(f.fin, "fin");
	add(f.rst, "rst");
	add(f.ack, "ack");
	return s.empty() ? "none" : s;
}

std::uint16_t l4_checksum(std::span<const std::uint8_t> src, std::span<const std::uint8_t> dst,
			  std::uint8_t proto, std::span<const std::uint8_t> seg)
{
	if (src.size() != dst.size() || (src.size() != 4 && src.size() != 16))
		throw std::invalid_argument("l4_checksum: addresses of 4 or 16 bytes");
	std::uint32_t sum = sum16(sum16(0, src), dst);
	sum += proto;
	sum += static_cast<std::uint32_t>(seg.size());  // segments here are < 64 KiB
	sum = sum16(sum, seg);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return static_cast<std::uint16_t>(~sum);
}

std::uint16_t tcp_checksum(std::span<const std::uint8_t> src, std::span<const std::uint8_t> dst,
			   std::span<const std::uint8_t> seg)
{
	return l4_checksum(src, dst, kProtoTcp, seg);
}

std::vector<std::uint8_t> udp_datagram(std::span<const std::uint8_t> src,
				       std::span<const std::uint8_t> dst, std::uint16_t sport,
				       std::uint16_t dport, std::span<const std::uint8_t> payload)
{
	std::vector<std::uint8_t> d(kUdpHeader + payload.size());
	if (d.size() > 65535)
		throw std::invalid_argument("udp_datagram: too long");
	put16(&d[0], sport);
	put16(&d[2], dport);
	put16(&d[4], static_cast<std::uint16_t>(d.size()));
	std::copy(payload.begin(), payload.end(), d.begin() + kUdpHeader);
	std::uint16_t c = l4_checksum(src, dst, kProtoUdp, d);
	put16(&d[6], c ? c : 0xffff);  // 0 means "no checksum": send its twin
	return d;
}

void spoil_checksum(std::span<std::uint8_t> pkt, std::uint8_t proto)
{
	std::size_t at = proto == kProtoUdp ? 6 : 16;
	if (pkt.size() < at + 2)
		throw std::invalid_argument("spoil_checksum: too short");
	// Flipping the low byte never turns 0x0000 into 0xffff (the same
	// value in one's complement) nor the other way round.
	pkt[at + 1] ^= 0xff;
	if (proto == kProtoUdp && !pkt[at] && !pkt[at + 1])
		pkt[at] = 1;
}

std::array<std::uint8_t, kTcpHeader> tcp_segment(std::span<const std::uint8_t> src,
						 std::span<const std::uint8_t> dst, std::uint16_t sport,
						 std::uint16_t dport, std::uint32_t seq, std::uint32_t ack,
						 const TcpFlags &f)
{
	std::array<std::uint8_t, kTcpHeader> h{};
	put16(&h[0], sport);
	put16(&h[2], dport);
	put32(&h[4], seq);
	put32(&h[8], f.ack ? ack : 0);
	h[12] = (kTcpHeader / 4) << 4;
	h[13] = static_cast<std::uint8_t>((f.fin ? kFin : 0) | (f.syn ? kSyn : 0) | (f.rst ? kRst : 0) |
					  (f.ack ? kAck : 0));
	put16(&h[14], 65535);  // window
	put16(&h[16], tcp_checksum(src, dst, h));
	return h;
}

std::optional<TcpHeader> parse_tcp(std::span<const std::uint8_t> seg)
{
	if (seg.size() < kTcpHeader || (seg[12] >> 4) * 4u < kTcpHeader)
		return std::nullopt;
	TcpHeader t;
	t.sport = static_cast<std::uint16_t>(seg[0] << 8 | seg[1]);
	t.dport = static_cast<std::uint16_t>(seg[2] << 8 | seg[3]);
	t.flags.fin = seg[13] & kFin;
	t.flags.syn = seg[13] & kSyn;
	t.flags.rst = seg[13] & kRst;
	t.flags.ack = seg[13] & kAck;
	return t;
}

}  // namespace flowbench
