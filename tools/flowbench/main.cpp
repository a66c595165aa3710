// SPDX-License-Identifier: GPL-2.0
// flowbench: connections/s, request/response and UDP flow stickiness
// against "flowbench serve", and bulk streams (man page: flowbench.1).
#include <cstdio>
#include <exception>
#include <string_view>
#include <variant>
#include <vector>

#include "flowbench.h"

int main(int argc, char **argv)
{
	using namespace flowbench;
	std::vector<std::string_view> args(argv + 1, argv + argc);
	Command cmd;
	try {
		cmd = parse_command_line(args);
	} catch (const UsageError &e) {
		std::fprintf(stderr, "flowbench: %s\n%s", e.what(), usage_text().c_str());
		return 2;
	}
	try {
		return std::visit(
			[](auto &&o) -> int {
				using T = std::decay_t<decltype(o)>;
				if constexpr (std::is_same_v<T, HelpRequest>) {
					std::fputs(usage_text().c_str(), stdout);
					return 0;
				} else if constexpr (std::is_same_v<T, ServeOptions>) {
					return serve(o);
				} else if constexpr (std::is_same_v<T, ConnectOptions>) {
					return run_connect(o);
				} else if constexpr (std::is_same_v<T, RrOptions>) {
					return run_rr(o);
				} else if constexpr (std::is_same_v<T, UdpOptions>) {
					return run_udp(o);
				} else if constexpr (std::is_same_v<T, StrayOptions>) {
					return run_stray(o);
				} else {
					return run_stream(o);
				}
			},
			cmd);
	} catch (const std::exception &e) {
		std::fprintf(stderr, "flowbench: error: %s\n", e.what());
		return 1;
	}
}
