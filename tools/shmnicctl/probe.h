// SPDX-License-Identifier: GPL-2.0
// shmnic-nlprobe's requests, which shmnicctl would never send (bad lengths,
// missing, unknown or out-of-range attributes, bad headers), and the reading
// of the kernel's answers. No socket, so unit-tested; nlprobe.cpp sends them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "message.h"

struct nlmsghdr;

namespace shmnicctl::probe {

// One attribute exactly as it goes on the wire: any type, any payload.
struct RawAttr {
	std::uint16_t type = 0;	// may carry NLA_F_NESTED
	std::vector<std::uint8_t> data;
};

RawAttr u8_attr(std::uint16_t type, std::uint8_t v);
RawAttr u32_attr(std::uint16_t type, std::uint32_t v);
// @n bytes 0x0a, 0x62, 0, 1, ... (10.98.0.1 for n = 4).
RawAttr bytes_attr(std::uint16_t type, std::size_t n);
RawAttr ipv4_attr(std::uint16_t type, std::uint8_t a, std::uint8_t b, std::uint8_t c,
		  std::uint8_t d);

// A generic netlink request of @family with exactly @attrs (NLM_F_ACK and
// @flags). Throws NlError(ENOMEM).
Msg raw_request(int family, std::uint8_t cmd, int flags, const std::vector<RawAttr> &attrs);

// What the kernel answered a request with: an NLMSG_ERROR (an ack when
// err is 0) or, ending a dump, an NLMSG_DONE; err is a positive errno.
struct Answer {
	int err = 0;
	std::string msg;			// NLMSGERR_ATTR_MSG
	std::optional<std::uint32_t> miss_type;	// NLMSGERR_ATTR_MISS_TYPE
	std::optional<std::uint32_t> offset;	// NLMSGERR_ATTR_OFFS
};

// @nlh's answer if it is an NLMSG_ERROR or an NLMSG_DONE (of @len bytes
// received, which may be less than nlmsg_len claims), else nullopt.
std::optional<Answer> parse_answer(const nlmsghdr *nlh, int len);

// "EINVAL", "0", or the number.
std::string errno_name(int err);

// The device the requests name and the other ifindexes they use.
struct Target {
	int family = 0;
	std::uint32_t ifindex = 0;	// shml0 (or shmg0) of a shmnic device
	std::uint32_t lo = 1;		// a device that is not shmnic's
	std::uint32_t bogus = 0;	// no device at all
};

// A request and what the kernel must answer.
struct Case {
	std::string name;
	Msg msg;
	std::vector<int> errs;		// accepted errnos (0: success)
	std::string msg_has;		// the extack message contains this ("": any)
	std::optional<std::uint32_t> miss_type;	// the missing attribute named
	bool dump = false;
};

// The fixed list of bad requests, none of which changes anything: each
// must be refused.
std::vector<Case> bad_cases(const Target &t);

} // namespace shmnicctl::probe
