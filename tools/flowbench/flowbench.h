// SPDX-License-Identifier: GPL-2.0
// The subcommands; each returns the process exit status (0 ok, 1 a check
// failed). They throw std::runtime_error on setup errors.
#pragma once

#include "cli.h"

namespace flowbench {

int serve(ServeOptions o);
int run_connect(const ConnectOptions &o);
int run_rr(const RrOptions &o);
int run_udp(const UdpOptions &o);
int run_stray(const StrayOptions &o);
int run_stream(const StreamOptions &o);

}  // namespace flowbench
