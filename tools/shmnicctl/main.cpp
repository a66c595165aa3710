// SPDX-License-Identifier: GPL-2.0
// shmnicctl: show and change a shmnic node through the "shmnic" generic
// netlink family (man page: shmnicctl.8).
#include <cerrno>
#include <chrono>
#include <thread>
#include <cstdio>
#include <iostream>
#include <net/if.h>
#include <optional>
#include <string>
#include <vector>

#include "cli.h"
#include "netlink.h"
#include "render.h"
#include "stats.h"

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

void print_table(const Options &o, const std::vector<Record> &recs,
		 const std::vector<Column> &cols)
{
	std::cout << (o.json ? render_json(recs) : render_table(recs, cols));
	std::cout.flush();
}

// The adapter GLOBAL addresses go on: the device's global adapter if the
// module names it, else the device given.
std::uint32_t global_adapter(Client &nl, std::uint32_t ifindex)
{
	return nl.get_region(ifindex).global_ifindex.value_or(ifindex);
}

// Put the address on the global adapter (unless there already), then make
// it GLOBAL; if that fails, take away what was added.
void global_add(Client &nl, std::uint32_t ifindex, const Address &a)
{
	const std::uint32_t on = global_adapter(nl, ifindex);
	Route rt;
	const bool added = rt.add_address(on, a);
	try {
		nl.global(true, ifindex, a);
	} catch (const NlError &) {
		if (added) {
			try {
				rt.del_address(on, a);
			} catch (const NlError &e) {
				std::cerr << "shmnicctl: " << e.what() << "\n";
			}
		}
		throw;
	}
}

void global_del(Client &nl, std::uint32_t ifindex, const Address &a)
{
	const std::uint32_t on = global_adapter(nl, ifindex);
	nl.global(false, ifindex, a);
	Route().del_address(on, a);
}

// Two reads @o.watch (or 1) seconds apart, then a table of the second with
// the rates between them; with --watch, again until interrupted. The
// Prometheus text needs no rates: one read.
void stats(const Options &o, Client &nl, std::uint32_t ifindex)
{
	if (o.prometheus) {
		std::cout << render_prometheus(nl.get_stats(ifindex));
		std::cout.flush();
		return;
	}
	const auto period = std::chrono::seconds(o.watch.value_or(1));
	std::vector<NodeStats> before = nl.get_stats(ifindex);
	for (;;) {
		std::this_thread::sleep_for(period);
		std::vector<NodeStats> after = nl.get_stats(ifindex);
		const std::vector<StatsRow> rows = stats_rows(before, after);
		std::cout << (o.json ? render_json(stats_records(rows)) : render_stats_table(rows));
		if (!o.watch)
			break;
		if (!o.json)
			std::cout << "\n";
		std::cout.flush();
		before = std::move(after);
	}
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
	case Cmd::set: {
		std::optional<Policy> policy;
		if (o.policy != Policy::unknown)
			policy = o.policy;
		if (!ifindex)	// the policy alone: the first device's
			ifindex = nl.get_region(0).ifindex;
		nl.set(ifindex, o.mtu, o.ring_depth, policy);
		break;
	}
	case Cmd::global_add:
		global_add(nl, ifindex, o.addr);
		break;
	case Cmd::global_del:
		global_del(nl, ifindex, o.addr);
		break;
	case Cmd::policy:
		if (!ifindex)
			ifindex = nl.get_region(0).ifindex;
		nl.set(ifindex, std::nullopt, std::nullopt, o.policy);
		break;
	case Cmd::flows: {
		std::vector<Record> recs;
		for (const Flow &f : nl.get_flows(ifindex))
			recs.push_back(to_record(f));
		print_table(o, recs, flow_columns());
		break;
	}
	case Cmd::monitor:
		nl.monitor([&](const Event &e) {
			Record r = to_record(e);
			const bool flow = std::holds_alternative<FlowEvent>(e);
			std::cout << (o.json ? render_json(r) :
				      render_text_line(r, flow ? flow_columns() :
								 std::vector<Column>{}));
			std::cout.flush();
			return true;
		}, [] { std::cerr << "shmnicctl: events lost (receive buffer overflow)\n"; });
		break;
	case Cmd::stats:
		stats(o, nl, ifindex);
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
