// SPDX-License-Identifier: GPL-2.0
#include "probe.h"

#include <cerrno>
#include <cstring>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/shmnic.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include "netlink.h"

namespace shmnicctl::probe {

namespace {

[[noreturn]] void no_memory()
{
	throw NlError(ENOMEM, "cannot build the request");
}

template <typename T> RawAttr scalar_attr(std::uint16_t type, T v)
{
	RawAttr a{ type, std::vector<std::uint8_t>(sizeof(v)) };
	std::memcpy(a.data.data(), &v, sizeof(v));
	return a;
}

} // namespace

RawAttr u8_attr(std::uint16_t type, std::uint8_t v)
{
	return scalar_attr(type, v);
}

RawAttr u32_attr(std::uint16_t type, std::uint32_t v)
{
	return scalar_attr(type, v);
}

RawAttr bytes_attr(std::uint16_t type, std::size_t n)
{
	static constexpr std::uint8_t start[] = { 10, 98, 0 };
	RawAttr a{ type, std::vector<std::uint8_t>(n) };
	for (std::size_t i = 0; i < n; i++)
		a.data[i] = i < sizeof(start) ? start[i] : static_cast<std::uint8_t>(i - 2);
	return a;
}

RawAttr ipv4_attr(std::uint16_t type, std::uint8_t a, std::uint8_t b, std::uint8_t c,
		  std::uint8_t d)
{
	return RawAttr{ type, { a, b, c, d } };
}

Msg raw_request(int family, std::uint8_t cmd, int flags, const std::vector<RawAttr> &attrs)
{
	Msg msg = genl_request(family, cmd, flags, 0);
	for (const RawAttr &a : attrs)
		if (nla_put(msg.get(), a.type, static_cast<int>(a.data.size()), a.data.data()) < 0)
			no_memory();
	return msg;
}

std::optional<Answer> parse_answer(const nlmsghdr *nlh, int len)
{
	if (len < static_cast<int>(NLMSG_HDRLEN) || static_cast<int>(nlh->nlmsg_len) > len)
		return std::nullopt;
	const auto *base = reinterpret_cast<const char *>(nlh);
	const int datalen = static_cast<int>(nlh->nlmsg_len) - static_cast<int>(NLMSG_HDRLEN);
	const char *data = base + NLMSG_HDRLEN;
	Answer ans;
	int off;	// of the TLVs, from data
	switch (nlh->nlmsg_type) {
	case NLMSG_ERROR: {
		if (datalen < static_cast<int>(sizeof(nlmsgerr)))
			return std::nullopt;
		nlmsgerr e;
		std::memcpy(&e, data, sizeof(e));
		ans.err = -e.error;
		off = sizeof(e);
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED) && e.msg.nlmsg_len >= NLMSG_HDRLEN)
			off += NLMSG_ALIGN(e.msg.nlmsg_len - NLMSG_HDRLEN);
		break;
	}
	case NLMSG_DONE: {
		int e = 0;
		if (datalen >= static_cast<int>(sizeof(e)))
			std::memcpy(&e, data, sizeof(e));
		ans.err = -e;
		off = NLMSG_ALIGN(sizeof(e));
		break;
	}
	default:
		return std::nullopt;
	}
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || off >= datalen)
		return ans;
	nlattr *tb[NLMSGERR_ATTR_MAX + 1] = {};
	// libnl's nla_parse takes a non-const head; it does not write to it.
	auto *head = reinterpret_cast<nlattr *>(const_cast<char *>(data + off));
	if (nla_parse(tb, NLMSGERR_ATTR_MAX, head, datalen - off, nullptr) < 0)
		return ans;
	if (tb[NLMSGERR_ATTR_MSG] && nla_len(tb[NLMSGERR_ATTR_MSG]) > 0)
		ans.msg.assign(static_cast<const char *>(nla_data(tb[NLMSGERR_ATTR_MSG])),
			       strnlen(static_cast<const char *>(nla_data(tb[NLMSGERR_ATTR_MSG])),
				       static_cast<std::size_t>(nla_len(tb[NLMSGERR_ATTR_MSG]))));
	if (tb[NLMSGERR_ATTR_MISS_TYPE] && nla_len(tb[NLMSGERR_ATTR_MISS_TYPE]) >= 4)
		ans.miss_type = nla_get_u32(tb[NLMSGERR_ATTR_MISS_TYPE]);
	if (tb[NLMSGERR_ATTR_OFFS] && nla_len(tb[NLMSGERR_ATTR_OFFS]) >= 4)
		ans.offset = nla_get_u32(tb[NLMSGERR_ATTR_OFFS]);
	return ans;
}

std::string errno_name(int err)
{
	if (err == 0)
		return "0";
	if (const char *n = strerrorname_np(err))
		return n;
	return std::to_string(err);
}

namespace {

// The first genlmsghdr of @msg.
genlmsghdr *genl_header(const Msg &msg)
{
	return static_cast<genlmsghdr *>(nlmsg_data(nlmsg_hdr(msg.get())));
}

// Append @n raw bytes to @msg, growing nlmsg_len.
void append_raw(const Msg &msg, const void *p, std::size_t n)
{
	if (nlmsg_append(msg.get(), const_cast<void *>(p), n, NLMSG_ALIGNTO) < 0)
		no_memory();
}

} // namespace

std::vector<Case> bad_cases(const Target &t)
{
	const int fam = t.family;
	const auto ifx = u32_attr(SHMNIC_A_IFINDEX, t.ifindex);
	const auto a4 = ipv4_attr(SHMNIC_A_ADDR, 10, 98, 0, 200);
	const auto hash = u8_attr(SHMNIC_A_POLICY, SHMNIC_POLICY_HASH);
	constexpr const char *range = "out of range";
	constexpr const char *nodev = "no shmnic device with this ifindex";
	std::vector<Case> v;
	auto add = [&](std::string name, Msg m, std::vector<int> errs, std::string has = "",
		       std::optional<std::uint32_t> miss = std::nullopt, bool dump = false) {
		v.push_back(Case{ std::move(name), std::move(m), std::move(errs), std::move(has),
				  miss, dump });
	};
	auto gadd = [&](std::vector<RawAttr> attrs) {
		return raw_request(fam, SHMNIC_CMD_GLOBAL_ADD, 0, attrs);
	};
	auto set = [&](std::vector<RawAttr> attrs) {
		return raw_request(fam, SHMNIC_CMD_SET, 0, attrs);
	};

	// SHMNIC_A_ADDR: NLA_POLICY_RANGE(NLA_BINARY, 4, 16) lets 5..15 bytes
	// through to the handler, which wants 4 or 16; outside 4..16 the
	// policy refuses (nla_validate_range_unsigned: -ERANGE).
	add("global_add_addr_5_bytes", gadd({ ifx, bytes_attr(SHMNIC_A_ADDR, 5) }), { EINVAL },
	    "4 (IPv4) or 16 (IPv6) bytes");
	add("global_add_addr_3_bytes", gadd({ ifx, bytes_attr(SHMNIC_A_ADDR, 3) }), { ERANGE },
	    range);
	add("global_add_addr_17_bytes", gadd({ ifx, bytes_attr(SHMNIC_A_ADDR, 17) }), { ERANGE },
	    range);
	add("global_add_addr_0_bytes", gadd({ ifx, bytes_attr(SHMNIC_A_ADDR, 0) }), { ERANGE },
	    range);
	RawAttr nested = a4;
	nested.type |= NLA_F_NESTED;
	add("global_add_addr_nested_flag", gadd({ ifx, nested }), { EINVAL }, "NLA_F_NESTED");
	add("global_add_without_addr", gadd({ ifx }), { EINVAL }, "", SHMNIC_A_ADDR);
	add("global_add_without_ifindex", gadd({ a4 }), { EINVAL }, "", SHMNIC_A_IFINDEX);
	add("global_add_ifindex_0", gadd({ u32_attr(SHMNIC_A_IFINDEX, 0), a4 }), { ERANGE },
	    range);
	add("global_add_ifindex_2_bytes",
	    gadd({ RawAttr{ SHMNIC_A_IFINDEX, { 1, 0 } }, a4 }), { EINVAL },
	    "invalid attribute length");
	add("global_add_ifindex_lo", gadd({ u32_attr(SHMNIC_A_IFINDEX, t.lo), a4 }), { ENODEV },
	    nodev);
	add("global_add_ifindex_bogus", gadd({ u32_attr(SHMNIC_A_IFINDEX, t.bogus), a4 }),
	    { ENODEV }, nodev);
	add("global_del_not_global",
	    raw_request(fam, SHMNIC_CMD_GLOBAL_DEL, 0, { ifx, a4 }), { ENOENT },
	    "not a GLOBAL address");

	add("set_policy_0", set({ ifx, u8_attr(SHMNIC_A_POLICY, 0) }), { ERANGE }, range);
	add("set_policy_3", set({ ifx, u8_attr(SHMNIC_A_POLICY, 3) }), { ERANGE }, range);
	add("set_policy_as_u32", set({ ifx, u32_attr(SHMNIC_A_POLICY, SHMNIC_POLICY_RR) }),
	    { EINVAL }, "invalid attribute length");
	add("set_nothing", set({ ifx }), { EINVAL }, "nothing to set");
	add("set_without_ifindex", set({ hash }), { EINVAL }, "", SHMNIC_A_IFINDEX);
	add("set_rx_depth_100", set({ ifx, u32_attr(SHMNIC_A_RX_DEPTH, 100) }), { EINVAL },
	    "power of two");
	add("set_rx_depth_8", set({ ifx, u32_attr(SHMNIC_A_RX_DEPTH, 8) }), { ERANGE }, range);
	add("set_mtu_67", set({ ifx, u32_attr(SHMNIC_A_MTU, 67) }), { ERANGE }, range);
	add("set_unknown_attr", set({ ifx, hash, u32_attr(SHMNIC_A_MAX + 5, 1) }), { EINVAL },
	    "Unknown attribute type");
	add("set_attr_type_0", set({ ifx, hash, u32_attr(0, 1) }), { EINVAL },
	    "Unknown attribute type");
	add("set_reply_only_attr", set({ ifx, hash, u32_attr(SHMNIC_A_NODE_ID, 1) }),
	    { EINVAL }, "Unsupported attribute");
	add("set_ifindex_lo", set({ u32_attr(SHMNIC_A_IFINDEX, t.lo), hash }), { ENODEV }, nodev);

	add("get_region_ifindex_bogus",
	    raw_request(fam, SHMNIC_CMD_GET_REGION, 0, { u32_attr(SHMNIC_A_IFINDEX, t.bogus) }),
	    { ENODEV }, nodev);
	Msg reserved = raw_request(fam, SHMNIC_CMD_GET_REGION, 0, {});
	genl_header(reserved)->reserved = 1;
	add("get_region_reserved_not_0", std::move(reserved), { EINVAL }, "reserved");
	// An attribute header claiming 40 bytes with 4 following.
	Msg trunc = raw_request(fam, SHMNIC_CMD_GET_REGION, 0, {});
	const std::uint16_t bad[4] = { 40, SHMNIC_A_IFINDEX, 1, 0 };
	append_raw(trunc, bad, sizeof(bad));
	add("get_region_truncated_attr", std::move(trunc), { EINVAL }, "leftover");
	// An nlmsghdr alone, without its genlmsghdr.
	Msg bare(nlmsg_alloc_simple(fam, NLM_F_ACK));
	if (!bare)
		no_memory();
	add("genl_header_missing", std::move(bare), { EINVAL });
	add("unknown_command", raw_request(fam, __SHMNIC_CMD_MAX + 50, 0, { ifx }), { EOPNOTSUPP });
	add("get_nodes_as_doit", raw_request(fam, SHMNIC_CMD_GET_NODES, 0, { ifx }),
	    { EOPNOTSUPP });
	add("set_as_dump", raw_request(fam, SHMNIC_CMD_SET, NLM_F_DUMP, { ifx, hash }),
	    { EOPNOTSUPP }, "", std::nullopt, true);

	// Dumps: a policy failure is the ack of the request; the handler's
	// -ENODEV ends the dump (NLMSG_DONE).
	add("get_flows_ifindex_bogus",
	    raw_request(fam, SHMNIC_CMD_GET_FLOWS, NLM_F_DUMP,
			{ u32_attr(SHMNIC_A_IFINDEX, t.bogus) }),
	    { ENODEV }, nodev, std::nullopt, true);
	add("get_flows_ifindex_0",
	    raw_request(fam, SHMNIC_CMD_GET_FLOWS, NLM_F_DUMP, { u32_attr(SHMNIC_A_IFINDEX, 0) }),
	    { ERANGE }, range, std::nullopt, true);
	add("get_nodes_ifindex_lo",
	    raw_request(fam, SHMNIC_CMD_GET_NODES, NLM_F_DUMP,
			{ u32_attr(SHMNIC_A_IFINDEX, t.lo) }),
	    { ENODEV }, nodev, std::nullopt, true);
	return v;
}

} // namespace shmnicctl::probe
