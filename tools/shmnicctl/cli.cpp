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

// The old spellings, kept as aliases ----------------------------------

// show, nodes: [[dev] DEV]
void parse_dev_optional(const std::string &name, Args &a, Options &o)
{
	if (!a.dev(name, o) && !a.done())
		o.dev = a.take();
}

// A u32 setting: the next word is its value; given at most once.
void take_u32(const std::string &what, const std::string &key, Args &a,
	      std::optional<std::uint32_t> &slot)
{
	if (a.done())
		throw UsageError(what + ": " + key + " needs a value");
	if (slot.has_value())
		throw UsageError(what + ": " + key + " given twice");
	slot = parse_u32(key, a.take());
}

// set DEV [mtu N] [ring-depth N]
void parse_set(const std::string &, Args &a, Options &o)
{
	if (a.done())
		throw UsageError("set: which device?");
	o.dev = a.take();
	while (!a.done()) {
		const std::string key = a.take();
		if (key == "mtu")
			take_u32("set", key, a, o.mtu);
		else if (key == "ring-depth")
			take_u32("set", key, a, o.ring_depth);
		else
			throw UsageError("set: unknown setting '" + key + "' (mtu, ring-depth)");
	}
	if (!o.mtu && !o.ring_depth)
		throw UsageError("set: nothing to set (mtu N, ring-depth N)");
}

// policy rr|hash [dev DEV]
void parse_policy_cmd(const std::string &, Args &a, Options &o)
{
	if (a.done())
		throw UsageError("policy: which one? (rr, hash)");
	o.policy = parse_policy("policy", a.take());
	a.dev("policy", o);
}

// The grammar: OBJECT [VERB] [dev DEV] [KEY VALUE]... ------------------

// global add|del [dev DEV] [addr] ADDR (the address may come first, bare)
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
		if (a.peek() == "addr") {
			a.take();
			if (a.done())
				throw UsageError(what + ": addr needs an address");
		}
		o.addr = parse_address(what, a.take());
		have_addr = true;
	}
	if (!have_addr)
		throw UsageError(what + ": which address?");
	if (o.dev.empty())
		throw UsageError(what + ": which device? (dev DEV)");
}

// region|node|flow [show] [dev DEV]
void parse_show(const std::string &name, Args &a, Options &o)
{
	if (!a.done() && a.peek() == "show")
		a.take();
	a.dev(name, o);
}

// device set [dev DEV] [mtu N] [ring-depth N] [policy rr|hash]
void parse_device(const std::string &, Args &a, Options &o)
{
	if (a.done() || a.peek() != "set")
		throw UsageError("device: set what? (device set dev DEV KEY VALUE...)");
	a.take();
	const std::string what = "device set";
	while (!a.done()) {
		if (a.dev(what, o))
			continue;
		const std::string key = a.take();
		if (key == "mtu") {
			take_u32(what, key, a, o.mtu);
		} else if (key == "ring-depth") {
			take_u32(what, key, a, o.ring_depth);
		} else if (key == "policy") {
			if (a.done())
				throw UsageError(what + ": policy needs a value (rr, hash)");
			if (o.policy != Policy::unknown)
				throw UsageError(what + ": policy given twice");
			o.policy = parse_policy(what, a.take());
		} else {
			throw UsageError(what + ": unknown setting '" + key +
					 "' (mtu, ring-depth, policy)");
		}
	}
	if (!o.mtu && !o.ring_depth && o.policy == Policy::unknown)
		throw UsageError(what + ": nothing to set (mtu N, ring-depth N, policy rr|hash)");
	// The MTU and the ring depth are an adapter's; the policy is the
	// cluster's (the first device when none is named).
	if ((o.mtu || o.ring_depth) && o.dev.empty())
		throw UsageError(what + ": which device? (dev DEV)");
}

// flows [dev DEV]
void parse_dev_keyword(const std::string &name, Args &a, Options &o)
{
	a.dev(name, o);
}

void parse_nothing(const std::string &, Args &, Options &)
{
}
// stats [dev DEV] [-j] [--watch SECONDS] [--prometheus]
void parse_stats(const std::string &name, Args &a, Options &o)
{
	while (!a.done()) {
		if (a.dev(name, o))
			continue;
		const std::string opt = a.take();
		if (opt == "-j" || opt == "--json") {
			o.json = true;
		} else if (opt == "--prometheus") {
			o.prometheus = true;
		} else if (opt == "--watch") {
			take_u32(name, opt, a, o.watch);
			if (!*o.watch)
				throw UsageError(name + ": --watch needs at least 1 second");
		} else {
			throw UsageError(name + ": unknown argument '" + opt +
					 "' (dev DEV, -j, --watch SECONDS, --prometheus)");
		}
	}
	if (o.prometheus && o.json)
		throw UsageError(name + ": --prometheus or -j, not both");
}

// One row per command: its name, what it is, how its arguments are read,
// and its line of help (none for an old spelling kept as an alias). A new
// command is a new row (and its case in main.cpp's run()).
struct Subcommand {
	const char *name;
	Cmd cmd;
	void (*parse)(const std::string &name, Args &a, Options &o);
	const char *help;
};

constexpr Subcommand subcommands[] = {
	{ "region", Cmd::show, parse_show,
	  "region [show] [dev DEV]       region geometry, this node, the global network" },
	{ "node", Cmd::nodes, parse_show,
	  "node [show] [dev DEV]         every node: state, MAC, MTU, ring counters" },
	{ "flow", Cmd::flows, parse_show,
	  "flow [show] [dev DEV]         the gateways' flow table" },
	{ "device", Cmd::set, parse_device,
	  "device set [dev DEV] [mtu N] [ring-depth N] [policy rr|hash]\n"
	  "                              change an adapter's MTU or receive ring depth\n"
	  "                              (dev needed), how gateways pick among the\n"
	  "                              nodes serving a port" },
	{ "global", Cmd::global_add, parse_global,
	  "global add|del dev DEV [addr] ADDR\n"
	  "                              make ADDR a GLOBAL address (and put it on the\n"
	  "                              global adapter), or no longer" },
	{ "stats", Cmd::stats, parse_stats,
	  "stats [dev DEV] [-j] [--watch SECONDS] [--prometheus]\n"
	  "                              every node's traffic, read from the region:\n"
	  "                              totals and rates over 1 s (or SECONDS, again\n"
	  "                              and again), JSON, or Prometheus text" },
	{ "monitor", Cmd::monitor, parse_nothing,
	  "monitor                       print node up/down and flow events until interrupted" },
	{ "help", Cmd::help, parse_nothing, "help                          this text" },
	// Old spellings.
	{ "show", Cmd::show, parse_dev_optional, nullptr },
	{ "nodes", Cmd::nodes, parse_dev_optional, nullptr },
	{ "flows", Cmd::flows, parse_dev_keyword, nullptr },
	{ "set", Cmd::set, parse_set, nullptr },
	{ "policy", Cmd::policy, parse_policy_cmd, nullptr },
};

} // namespace

std::string usage()
{
	std::string s = "usage: shmnicctl [-j|--json] [OBJECT [VERB] [dev DEV] [KEY VALUE]...]\n"
			"       (no object: region show)\n"
			"       shmnicctl -V|--version\nobjects:\n";
	for (const auto &c : subcommands)
		if (c.help)
			s += std::string("  ") + c.help + "\n";
	s += "old spellings, still accepted:\n"
	     "  show [[dev] DEV], nodes [[dev] DEV], flows [dev DEV],\n"
	     "  set DEV [mtu N] [ring-depth N], policy rr|hash [dev DEV],\n"
	     "  global add|del ADDR dev DEV\n";
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
