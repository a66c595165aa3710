// SPDX-License-Identifier: GPL-2.0
// flowbench wire format (see flowbench.1, "PROTOCOL").
//
// TCP, both ways: frames of a 4-byte big-endian length L and L bytes.
//   request:  L, payload
//   response: L, NAME "\n" payload      (the server echoes the payload)
// UDP: request datagram = payload; answer = NAME "\n" payload.
// The udp client's payloads are probes: magic, flow, sequence number and
// filler derived from them, so that a damaged answer is detected.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace flowbench {

inline constexpr std::size_t kHeaderLen = 4;
inline constexpr std::size_t kMaxPayload = 1u << 20;  // request payload
inline constexpr std::size_t kMaxName = 255;
// A response frame carries the name, the newline and the payload.
inline constexpr std::size_t kMaxFrame = kMaxPayload + kMaxName + 1;
inline constexpr std::size_t kMaxDatagram = 65507;  // UDP over IPv4

// L (big-endian) followed by the payload.
std::string encode_frame(std::string_view payload);
// A response frame: NAME "\n" payload.
std::string encode_response(std::string_view name, std::string_view payload);
// The UDP answer to a datagram.
std::string encode_udp_answer(std::string_view name, std::string_view payload);

// A server name is 1..kMaxName bytes without "\n" or NUL.
bool valid_name(std::string_view name);

struct Reply {
	std::string name;
	std::string payload;
};

// Split a response body (or a UDP answer) at its first "\n"; nullopt if
// there is none or the name is not valid.
std::optional<Reply> parse_reply(std::string_view body);

// Incremental decoder of length-prefixed frames read from a stream.
class FrameDecoder {
public:
	enum class Status { need_more, frame, too_large };

	explicit FrameDecoder(std::size_t max_len) : max_len_(max_len) {}

	void feed(std::string_view bytes) { buf_.append(bytes); }
	// The next complete frame's body into out (Status::frame), or
	// need_more, or too_large (sticky: the stream cannot be resynchronised).
	Status next(std::string &out);
	// Bytes received and not yet returned as frames.
	std::size_t pending() const { return buf_.size() - pos_; }

private:
	std::size_t max_len_;
	std::string buf_;
	std::size_t pos_ = 0;
	bool broken_ = false;
};

// UDP probes: 16-byte header (magic "FBP1", flow, seq, size; big-endian)
// then filler bytes that are a function of (flow, seq, index).
inline constexpr std::size_t kProbeHeader = 16;

struct Probe {
	std::uint32_t flow;
	std::uint32_t seq;
};

// size is clamped to at least kProbeHeader.
std::string encode_probe(std::uint32_t flow, std::uint32_t seq, std::size_t size);
// nullopt unless payload is an intact probe.
std::optional<Probe> decode_probe(std::string_view payload);

void put_be32(char *p, std::uint32_t v);
std::uint32_t get_be32(const char *p);

}  // namespace flowbench
