// SPDX-License-Identifier: GPL-2.0
#include "cli.h"

#include <charconv>
#include <limits>

#include "proto.h"

namespace flowbench {

namespace {

std::uint64_t parse_uint(std::string_view opt, std::string_view v, std::uint64_t lo, std::uint64_t hi)
{
	std::uint64_t x = 0;
	auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
	if (v.empty() || ec != std::errc() || p != v.data() + v.size() || x < lo || x > hi)
		throw UsageError(std::string(opt) + ": expected an integer in " + std::to_string(lo) +
				 ".." + std::to_string(hi) + ", got '" + std::string(v) + "'");
	return x;
}

// Walks the arguments of one subcommand.
class Args {
public:
	explicit Args(std::span<const std::string_view> a) : a_(a) {}
	bool done() const { return i_ >= a_.size(); }
	std::string_view take() { return a_[i_++]; }
	std::string_view value(std::string_view opt)
	{
		if (done())
			throw UsageError(std::string(opt) + " needs a value");
		return take();
	}

private:
	std::span<const std::string_view> a_;
	std::size_t i_ = 0;
};

std::uint16_t parse_port(std::string_view opt, std::string_view v)
{
	return static_cast<std::uint16_t>(parse_uint(opt, v, 1, 65535));
}

ServeOptions parse_serve(Args &a)
{
	ServeOptions o;
	while (!a.done()) {
		auto arg = a.take();
		if (arg == "--port")
			o.port = parse_port(arg, a.value(arg));
		else if (arg == "--bind")
			o.bind = std::string(a.value(arg));
		else if (arg == "--name") {
			o.name = std::string(a.value(arg));
			if (!valid_name(o.name))
				throw UsageError("--name: 1..255 bytes without newline");
		} else if (arg == "--udp")
			o.udp = true;
		else
			throw UsageError("serve: unknown argument '" + std::string(arg) + "'");
	}
	return o;
}

StreamOptions parse_stream(Args &a)
{
	StreamOptions o;
	while (!a.done()) {
		auto arg = a.take();
		if (arg == "--port")
			o.port = parse_port(arg, a.value(arg));
		else if (arg == "--to-port")
			o.to_port = parse_port(arg, a.value(arg));
		else if (arg == "--idle-ms")
			o.idle_ms = static_cast<int>(parse_uint(arg, a.value(arg), 100, 3600000));
		else if (arg == "--retry-ms")
			o.retry_ms = static_cast<int>(parse_uint(arg, a.value(arg), 1, 3600000));
		else if (arg == "--rate")
			o.rate = parse_uint(arg, a.value(arg), 0, 1ull << 40);
		else if (arg == "-j" || arg == "--json")
			o.json = true;
		else if (arg.size() > 1 && arg[0] == '-')
			throw UsageError("stream: unknown option '" + std::string(arg) + "'");
		else
			o.addrs.emplace_back(arg);
	}
	if (!o.to_port)
		o.to_port = o.port;
	return o;
}

// ADDR PORT then options; returns false for an option it does not know.
template <class O, class F>
O parse_client(std::string_view cmd, Args &a, F &&option)
{
	O o;
	std::size_t positional = 0;
	while (!a.done()) {
		auto arg = a.take();
		if (arg == "-j" || arg == "--json") {
			o.json = true;
		} else if (arg == "--size") {
			o.size = parse_uint(arg, a.value(arg), 0, kMaxPayload);
		} else if (arg == "--timeout-ms") {
			o.timeout_ms = static_cast<int>(parse_uint(arg, a.value(arg), 1, 3600000));
		} else if (arg.size() > 1 && arg[0] == '-') {
			if (!option(o, arg, a))
				throw UsageError(std::string(cmd) + ": unknown option '" + std::string(arg) + "'");
		} else if (positional == 0) {
			o.addr = std::string(arg);
			positional++;
		} else if (positional == 1) {
			o.port = parse_port("PORT", arg);
			positional++;
		} else {
			throw UsageError(std::string(cmd) + ": unexpected argument '" + std::string(arg) + "'");
		}
	}
	if (positional != 2)
		throw UsageError(std::string(cmd) + ": needs ADDR PORT");
	return o;
}

}  // namespace

Command parse_command_line(std::span<const std::string_view> args)
{
	if (args.empty())
		throw UsageError("no subcommand");
	auto cmd = args[0];
	Args a(args.subspan(1));
	if (cmd == "-h" || cmd == "--help" || cmd == "help")
		return HelpRequest{};
	if (cmd == "serve")
		return parse_serve(a);
	if (cmd == "stream")
		return parse_stream(a);
	if (cmd == "connect") {
		auto o = parse_client<ConnectOptions>(cmd, a, [](ConnectOptions &c, std::string_view opt, Args &r) {
			if (opt == "--conns")
				c.conns = parse_uint(opt, r.value(opt), 1, 100000000);
			else if (opt == "--parallel")
				c.parallel = static_cast<unsigned>(parse_uint(opt, r.value(opt), 1, 1024));
			else if (opt == "--requests")
				c.requests = parse_uint(opt, r.value(opt), 1, 100000000);
			else if (opt == "--rate")
				c.rate = parse_uint(opt, r.value(opt), 1, 1ull << 40);
			else if (opt == "--interval-ms")
				c.interval_ms = parse_uint(opt, r.value(opt), 1, 3600000);
			else
				return false;
			return true;
		});
		if (o.parallel > o.conns)
			o.parallel = static_cast<unsigned>(o.conns);
		return o;
	}
	if (cmd == "rr")
		return parse_client<RrOptions>(cmd, a, [](RrOptions &c, std::string_view opt, Args &r) {
			if (opt != "--requests")
				return false;
			c.requests = parse_uint(opt, r.value(opt), 1, 100000000);
			return true;
		});
	if (cmd == "udp") {
		auto o = parse_client<UdpOptions>(cmd, a, [](UdpOptions &c, std::string_view opt, Args &r) {
			if (opt == "--flows")
				c.flows = static_cast<unsigned>(parse_uint(opt, r.value(opt), 1, 1000));
			else if (opt == "--packets")
				c.packets = static_cast<unsigned>(parse_uint(opt, r.value(opt), 1, 100000));
			else if (opt == "--retries")
				c.retries = static_cast<unsigned>(parse_uint(opt, r.value(opt), 0, 100));
			else
				return false;
			return true;
		});
		if (o.size > kMaxDatagram - kMaxName - 1)
			throw UsageError("udp: --size at most " + std::to_string(kMaxDatagram - kMaxName - 1));
		if (o.size < kProbeHeader)
			o.size = kProbeHeader;
		return o;
	}
	if (cmd == "stray")
		return parse_client<StrayOptions>(cmd, a, [](StrayOptions &c, std::string_view opt, Args &r) {
			if (opt == "--bad-checksum") {
				c.bad_checksum = true;
				return true;
			}
			if (opt == "--sport") {
				c.sport = static_cast<std::uint16_t>(parse_uint(opt, r.value(opt), 1, 65535));
				return true;
			}
			if (opt != "--kind")
				return false;
			auto v = r.value(opt);
			auto k = parse_stray_kind(v);
			if (!k)
				throw UsageError("--kind: ack, fin, rst, synack, syn or udp, got '" +
						 std::string(v) + "'");
			c.kind = *k;
			return true;
		});
	throw UsageError("unknown subcommand '" + std::string(cmd) + "'");
}

std::string usage_text()
{
	return "usage: flowbench serve [--port P] [--bind ADDR] [--name NAME] [--udp]\n"
	       "       flowbench connect ADDR PORT [--conns N] [--parallel K] [--size B]\n"
	       "                         [--requests R] [--rate B] [--interval-ms I]\n"
	       "                         [--timeout-ms T] [-j]\n"
	       "       flowbench rr ADDR PORT [--requests N] [--size B] [--timeout-ms T] [-j]\n"
	       "       flowbench udp ADDR PORT [--flows F] [--packets P] [--size B]\n"
	       "                     [--timeout-ms T] [--retries R] [-j]\n"
	       "       flowbench stray ADDR PORT [--kind ack|fin|rst|synack|syn|udp]\n"
	       "                       [--bad-checksum] [--sport P] [--timeout-ms T] [-j]\n"
	       "       flowbench stream [--port P] [--to-port Q] [--idle-ms T] [--retry-ms T]\n"
	       "                        [--rate B] [-j] [ADDR...]\n"
	       "\n"
	       "serve: answer each request frame with NAME \"\\n\" and the payload (TCP,\n"
	       "  and UDP on the same port with --udp); default port 7007, bind :: (dual\n"
	       "  stack), NAME the host name; exits 0 on SIGTERM/SIGINT.\n"
	       "connect: N connections, K at a time, R requests each (default 100, 1,\n"
	       "  64 B, 1, 5000 ms); per-server counts, failures, connections/s;\n"
	       "  --rate: at most B bytes/s sent per connection; --interval-ms:\n"
	       "  connection k starts no earlier than k * I ms after the first.\n"
	       "rr: N round trips on one connection (default 1000); requests/s, median\n"
	       "  and p99 latency; exactly one server name must answer.\n"
	       "udp: F sockets (source ports), P datagrams each (default 16, 10, 64 B,\n"
	       "  1000 ms per round, 3 retries); every datagram answered, each flow by\n"
	       "  one server.\n"
	       "stray: one TCP segment of no connection from a raw socket (default a\n"
	       "  late ACK; 1000 ms for the answer); prints the answer's flags or none.\n"
	       "  syn: a plain SYN; udp: a UDP datagram (no answer awaited);\n"
	       "  --bad-checksum: with a wrong TCP or UDP checksum; --sport: from port P\n"
	       "  (default a random one above the ephemeral range).\n"
	       "stream: until SIGTERM/SIGINT, listen on P (default 7007) and discard\n"
	       "  what arrives, and send zeros to each ADDR:Q (default Q = P); a\n"
	       "  connection without progress for T ms (default 2000) is closed, its\n"
	       "  address tried again 100 ms later (--retry-ms); --rate: at most B\n"
	       "  bytes/s per connection; prints the bytes and connections at the end.\n"
	       "-j prints one JSON object. Exit status: 0 ok, 1 a check failed, 2 usage.\n"
	       "See flowbench(1).\n";
}

}  // namespace flowbench
