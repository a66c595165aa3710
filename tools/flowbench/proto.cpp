// SPDX-License-Identifier: GPL-2.0
#include "proto.h"

namespace flowbench {

void put_be32(char *p, std::uint32_t v)
{
	p[0] = static_cast<char>(v >> 24);
	p[1] = static_cast<char>(v >> 16);
	p[2] = static_cast<char>(v >> 8);
	p[3] = static_cast<char>(v);
}

std::uint32_t get_be32(const char *p)
{
	auto b = [p](int i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(p[i])); };
	return b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3);
}

std::string encode_frame(std::string_view payload)
{
	std::string out(kHeaderLen, '\0');
	put_be32(out.data(), static_cast<std::uint32_t>(payload.size()));
	out.append(payload);
	return out;
}

std::string encode_udp_answer(std::string_view name, std::string_view payload)
{
	std::string out;
	out.reserve(name.size() + 1 + payload.size());
	out.append(name);
	out.push_back('\n');
	out.append(payload);
	return out;
}

std::string encode_response(std::string_view name, std::string_view payload)
{
	return encode_frame(encode_udp_answer(name, payload));
}

bool valid_name(std::string_view name)
{
	return !name.empty() && name.size() <= kMaxName &&
	       name.find_first_of(std::string_view("\n\0", 2)) == std::string_view::npos;
}

std::optional<Reply> parse_reply(std::string_view body)
{
	auto nl = body.find('\n');
	if (nl == std::string_view::npos)
		return std::nullopt;
	auto name = body.substr(0, nl);
	if (!valid_name(name))
		return std::nullopt;
	return Reply{std::string(name), std::string(body.substr(nl + 1))};
}

FrameDecoder::Status FrameDecoder::next(std::string &out)
{
	if (broken_)
		return Status::too_large;
	if (pending() < kHeaderLen)
		return Status::need_more;
	std::uint32_t len = get_be32(buf_.data() + pos_);
	if (len > max_len_) {
		broken_ = true;
		return Status::too_large;
	}
	if (pending() < kHeaderLen + len)
		return Status::need_more;
	out.assign(buf_, pos_ + kHeaderLen, len);
	pos_ += kHeaderLen + len;
	// compact once the consumed part dominates
	if (pos_ == buf_.size()) {
		buf_.clear();
		pos_ = 0;
	} else if (pos_ > 65536 && pos_ > buf_.size() / 2) {
		buf_.erase(0, pos_);
		pos_ = 0;
	}
	return Status::frame;
}

namespace {

constexpr char kMagic[4] = {'F', 'B', 'P', '1'};

char filler(std::uint32_t flow, std::uint32_t seq, std::size_t i)
{
	// splitmix64: every bit of flow, seq and i reaches the low byte
	std::uint64_t z = (std::uint64_t{flow} << 32 | seq) + (i + 1) * 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return static_cast<char>(z ^ (z >> 31));
}

}  // namespace

std::string encode_probe(std::uint32_t flow, std::uint32_t seq, std::size_t size)
{
	if (size < kProbeHeader)
		size = kProbeHeader;
	std::string out(size, '\0');
	out.replace(0, 4, kMagic, 4);
	put_be32(out.data() + 4, flow);
	put_be32(out.data() + 8, seq);
	put_be32(out.data() + 12, static_cast<std::uint32_t>(size));
	for (std::size_t i = kProbeHeader; i < size; i++)
		out[i] = filler(flow, seq, i);
	return out;
}

std::optional<Probe> decode_probe(std::string_view p)
{
	if (p.size() < kProbeHeader || p.substr(0, 4) != std::string_view(kMagic, 4))
		return std::nullopt;
	Probe probe{get_be32(p.data() + 4), get_be32(p.data() + 8)};
	if (get_be32(p.data() + 12) != p.size())
		return std::nullopt;
	for (std::size_t i = kProbeHeader; i < p.size(); i++)
		if (p[i] != filler(probe.flow, probe.seq, i))
			return std::nullopt;
	return probe;
}

}  // namespace flowbench
