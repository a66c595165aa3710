// SPDX-License-Identifier: GPL-2.0
#include "cli.h"

#include <charconv>

namespace shmnicctl {

namespace {

struct Subcommand {
	const char *name;
	Cmd cmd;
	const char *help;
};

constexpr Subcommand subcommands[] = {
	{ "show", Cmd::show, "show [DEV]                    region geometry and this node" },
	{ "nodes", Cmd::nodes, "nodes [DEV]                   every node: state, MAC, MTU, ring counters" },
	{ "set", Cmd::set, "set DEV [mtu N] [ring-depth N]\n                                change the MTU and/or the receive ring depth" },
	{ "monitor", Cmd::monitor, "monitor                       print node up/down events until interrupted" },
	{ "help", Cmd::help, "help                          this text" },
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
	const Subcommand *sub = nullptr;
	for (const auto &c : subcommands)
		if (name == c.name)
			sub = &c;
	if (!sub)
		throw UsageError("unknown command '" + name + "'");
	o.cmd = sub->cmd;

	switch (o.cmd) {
	case Cmd::show:
	case Cmd::nodes:
		if (i < args.size())
			o.dev = args[i++];
		break;
	case Cmd::set:
		if (i == args.size())
			throw UsageError("set: which device?");
		o.dev = args[i++];
		while (i < args.size()) {
			const std::string &key = args[i++];
			std::optional<std::uint32_t> *slot;
			if (key == "mtu")
				slot = &o.mtu;
			else if (key == "ring-depth")
				slot = &o.ring_depth;
			else
				throw UsageError("set: unknown setting '" + key +
						 "' (mtu, ring-depth)");
			if (i == args.size())
				throw UsageError("set: " + key + " needs a value");
			if (slot->has_value())
				throw UsageError("set: " + key + " given twice");
			*slot = parse_u32(key, args[i++]);
		}
		if (!o.mtu && !o.ring_depth)
			throw UsageError("set: nothing to set (mtu N, ring-depth N)");
		break;
	case Cmd::monitor:
	case Cmd::help:
	case Cmd::version:
		break;
	}
	if (i < args.size())
		throw UsageError(name + ": unexpected argument '" + args[i] + "'");
	return o;
}

} // namespace shmnicctl
