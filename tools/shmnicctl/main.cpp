// SPDX-License-Identifier: GPL-2.0
// shmnicctl: show and change a shmnic node through the "shmnic" generic
// netlink family (man page: shmnicctl.8).
#include <cerrno>
#include <cstdio>
#include <iostream>
#include <net/if.h>
#include <string>
#include <vector>

#include "cli.h"
#include "netlink.h"
#include "render.h"

using namespace shmnicctl;

namespace {

std::uint32_t ifindex_of(const std::string &dev)
{
	if (dev.empty())
		return 0;
	unsigned int idx = if_nametoindex(dev.c_str());
	if (!idx)
		throw NlError(ENODEV, "unknown device '" + dev + "'");
	return idx;
}

void print(const Options &o, const std::vector<Record> &recs, bool one)
{
	if (o.json)
		std::cout << (one && recs.size() == 1 ? render_json(recs.front()) : render_json(recs));
	else
		std::cout << render_text(recs);
	std::cout.flush();
}

int run(const Options &o)
{
	switch (o.cmd) {
	case Cmd::help:
		std::cout << usage();
		return 0;
	case Cmd::version:
		std::cout << "shmnicctl (shmnic) 0.1\n";
		return 0;
	default:
		break;
	}
	std::uint32_t ifindex = ifindex_of(o.dev);
	Client nl;
	switch (o.cmd) {
	case Cmd::show:
		print(o, { to_record(nl.get_region(ifindex)) }, true);
		break;
	case Cmd::nodes: {
		std::vector<Record> recs;
		for (const Node &n : nl.get_nodes(ifindex))
			recs.push_back(to_record(n));
		print(o, recs, false);
		break;
	}
	case Cmd::set:
		nl.set(ifindex, o.mtu, o.ring_depth);
		break;
	case Cmd::monitor:
		nl.monitor([&](const NodeEvent &e) {
			Record r = to_record(e);
			std::cout << (o.json ? render_json(r) : render_text_line(r));
			std::cout.flush();
			return true;
		});
		break;
	case Cmd::help:
	case Cmd::version:
		break;
	}
	return 0;
}

} // namespace

int main(int argc, char **argv)
{
	try {
		return run(parse_args(std::vector<std::string>(argv + 1, argv + argc)));
	} catch (const UsageError &e) {
		std::cerr << "shmnicctl: " << e.what() << "\n" << usage();
		return 2;
	} catch (const NlError &e) {
		std::cerr << "shmnicctl: " << e.what() << "\n";
		return 1;
	} catch (const std::exception &e) {
		std::cerr << "shmnicctl: " << e.what() << "\n";
		return 1;
	}
}
