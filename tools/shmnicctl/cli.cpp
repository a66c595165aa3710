// SPDX-License-Identifier: GPL-2.0
#include "cli.h"

#include <arpa/inet.h>
#include <charconv>
#include <cstring>

namespace shmnicctl {

std::uint32_t parse_u32(const std::string &what, const std::string &s)
{
	std::uint32_t v = 0;
	const char *end = s.data() + s.size();
	auto [p, ec] = std::from_chars(s.data(), end, v);
	if (s.empty() || ec == std::errc::result_out_of_range)
		throw UsageError(what + ": '" + s + "' is not a number from 0 to 4294967295");
	if (ec != std::errc() || p != end)
		throw UsageError(what + ": '" + s + "' is not a number");
	return v;
}

Address parse_address(const std::string &what, const std::string &s)
{
	Address a;
	const std::string bad = what + ": bad address '" + s + "'";
	if (s.find('/') != std::string::npos)
		throw UsageError(bad + " (no prefix length: it is a /32 or a /128)");
	if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) {
		a.v6 = false;
		const std::uint8_t b0 = a.bytes[0];
		const bool bcast = a.bytes[0] == 255 && a.bytes[1] == 255 &&
				   a.bytes[2] == 255 && a.bytes[3] == 255;
		if (b0 == 0 || b0 == 127 || b0 >= 224 || bcast)
			throw UsageError(bad + " (not a unicast address)");
		return a;
	}
	if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) {
		a.v6 = true;
		static const std::uint8_t zero[16] = {};
		static const std::uint8_t loop[16] = { 0, 0, 0, 0, 0, 0, 0, 0,
						       0, 0, 0, 0, 0, 0, 0, 1 };
		static const std::uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0,
							 0, 0, 0, 0, 0xff, 0xff };
		if (!std::memcmp(a.bytes.data(), zero, 16) ||
		    !std::memcmp(a.bytes.data(), loop, 16) || a.bytes[0] == 0xff)
			throw UsageError(bad + " (not a unicast address)");
		if (!std::memcmp(a.bytes.data(), mapped, 12))
			throw UsageError(bad + " (IPv4-mapped: give the IPv4 address)");
		return a;
	}
	throw UsageError(bad + " (IPv4 or IPv6 expected)");
}

Policy parse_policy(const std::string &what, const std::string &s)
{
	if (s == "rr")
		return Policy::rr;
	if (s == "hash")
		return Policy::hash;
	throw UsageError(what + ": unknown policy '" + s + "' (rr, hash)");
}

namespace {

// The words after a command's name, consumed in order.
class Args {
public:
	Args(const std::vector<std::string> &a, std::size_t i) : a_(a), i_(i) {}
	bool done() const { return i_ == a_.size(); }
	const std::string &peek() const { return a_[i_]; }
	const std::string &take() { return a_[i_++]; }
	// [dev DEV]: DEV into o.dev; false if the next word is not "dev".
	bool dev(const std::string &what, Options &o)
	{
		if (done() || peek() != "dev")
			return false;
		take();
		if (done())
			throw UsageError(what + ": dev needs a device name");
		if (!o.dev.empty())
			throw UsageError(what + ": dev given twice");
		o.dev = take();
		return true;
	}

private:
	const std::vector<std::string> &a_;
	std::size_t i_;
};

// show, nodes: [[dev] DEV]
void parse_dev_optional(const std::string &name, Args &a, Options &o)
{
	if (!a.dev(name, o) && !a.done())
		o.dev = a.take();
}

// set DEV [mtu N] [ring-depth N]
void parse_set(const std::string &, Args &a, Options &o)
{
	if (a.done())
		throw UsageError("set: which device?");
	o.dev = a.take();
	while (!a.done()) {
		const std::string key = a.take();
		std::optional<std::uint32_t> *slot;
		if (key == "mtu")
			slot = &o.mtu;
		else if (key == "ring-depth")
			slot = &o.ring_depth;
		else
			throw UsageError("set: unknown setting '" + key + "' (mtu, ring-depth)");
		if (a.done())
			throw UsageError("set: " + key + " needs a value");
		if (slot->has_value())
			throw UsageError("set: " + key + " given twice");
		*slot = parse_u32(key, a.take());
	}
	if (!o.mtu && !o.ring_depth)
		throw UsageError("set: nothing to set (mtu N, ring-depth N)");
}

// global add|del ADDR dev DEV
void parse_global(const std::string &, Args &a, Options &o)
{
	if (a.done())
		throw UsageError("global: add or del?");
	const std::string op = a.take();
	if (op == "del")
		o.cmd = Cmd::global_del;
	else if (op != "add")
		throw UsageError("global: unknown operation '" + op + "' (add, del)");
	const std::string what = "global " + op;
	bool have_addr = false;
	while (!a.done()) {
		if (a.dev(what, o))
			continue;
		if (have_addr)
			throw UsageError(what + ": unexpected argument '" + a.peek() + "'");
		o.addr = parse_address(what, a.take());
		have_addr = true;
	}
	if (!have_addr)
		throw UsageError(what + ": which address?");
	if (o.dev.empty())
		throw UsageError(what + ": which device? (dev DEV)");
}

// policy rr|hash [dev DEV]
void parse_policy_cmd(const std::string &, Args &a, Options &o)
{
	if (a.done())
		throw UsageError("policy: which one? (rr, hash)");
	o.policy = parse_policy("policy", a.take());
	a.dev("policy", o);
}

// flows [dev DEV]
void parse_dev_keyword(const std::string &name, Args &a, Options &o)
{
	a.dev(name, o);
}

void parse_nothing(const std::string &, Args &, Options &)
{
}

// One row per command: its name, what it is, how its arguments are read,
// and its line of help. A new command is a new row (and its case in
// main.cpp's run()).
struct Subcommand {
	const char *name;
	Cmd cmd;
	void (*parse)(const std::string &name, Args &a, Options &o);
	const char *help;
};

constexpr Subcommand subcommands[] = {
	{ "show", Cmd::show, parse_dev_optional,
	  "show [[dev] DEV]              region geometry, this node, the global network" },
	{ "nodes", Cmd::nodes, parse_dev_optional,
	  "nodes [[dev] DEV]             every node: state, MAC, MTU, ring counters" },
	{ "set", Cmd::set, parse_set,
	  "set DEV [mtu N] [ring-depth N]\n                                change the MTU and/or the receive ring depth" },
	{ "global", Cmd::global_add, parse_global,
	  "global add|del ADDR dev DEV   make ADDR a GLOBAL address (and put it on the\n                                global adapter), or no longer" },
	{ "policy", Cmd::policy, parse_policy_cmd,
	  "policy rr|hash [dev DEV]      how gateways pick among the nodes serving a port" },
	{ "flows", Cmd::flows, parse_dev_keyword, "flows [dev DEV]               the gateways' flow table" },
	{ "monitor", Cmd::monitor, parse_nothing,
	  "monitor                       print node up/down and flow events until interrupted" },
	{ "help", Cmd::help, parse_nothing, "help                          this text" },
};

} // namespace

std::string usage()
{
	std::string s = "usage: shmnicctl [-j|--json] [COMMAND [ARGS]]   (no command: show)\n"
			"       shmnicctl -V|--version\ncommands:\n";
	for (const auto &c : subcommands)
		s += std::string("  ") + c.help + "\n";
	return s;
}

Options parse_args(const std::vector<std::string> &args)
{
	Options o;
	std::size_t i = 0;

	for (; i < args.size() && args[i].size() > 1 && args[i][0] == '-'; i++) {
		const std::string &a = args[i];
		if (a == "-j" || a == "--json")
			o.json = true;
		else if (a == "-h" || a == "--help")
			o.cmd = Cmd::help;
		else if (a == "-V" || a == "--version")
			o.cmd = Cmd::version;
		else
			throw UsageError("unknown option '" + a + "'");
	}
	if (o.cmd == Cmd::help || o.cmd == Cmd::version || i == args.size())
		return o;

	const std::string &name = args[i++];
	for (const auto &c : subcommands) {
		if (name != c.name)
			continue;
		Args rest(args, i);
		o.cmd = c.cmd;
		c.parse(name, rest, o);
		if (!rest.done())
			throw UsageError(name + ": unexpected argument '" + rest.peek() + "'");
		return o;
	}
	throw UsageError("unknown command '" + name + "'");
}

} // namespace shmnicctl
