// SPDX-License-Identifier: GPL-2.0
#include "report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <stdexcept>

#include "proto.h"

namespace flowbench {

namespace {

std::string fmt(const char *f, double v)
{
	char b[64];
	std::snprintf(b, sizeof(b), f, v);
	return b;
}

std::string num(double v, int decimals = 3)
{
	char f[16];
	std::snprintf(f, sizeof(f), "%%.%df", decimals);
	return fmt(f, v);
}

std::string q(std::string_view s) { return "\"" + json_escape(s) + "\""; }

std::string json_counts(const std::map<std::string, std::uint64_t> &m)
{
	std::string out = "{";
	bool first = true;
	for (const auto &[k, v] : m) {
		out += (first ? "" : ",") + q(k) + ":" + std::to_string(v);
		first = false;
	}
	return out + "}";
}

std::string text_counts(const std::map<std::string, std::uint64_t> &m, std::string_view unit)
{
	std::string out;
	for (const auto &[k, v] : m)
		out += "  " + k + ": " + std::to_string(v) + " " + std::string(unit) + "\n";
	return out;
}

std::string json_failures(const Failures &f)
{
	return "{\"refused\":" + std::to_string(f.refused) + ",\"timeout\":" + std::to_string(f.timeout) +
	       ",\"corrupt\":" + std::to_string(f.corrupt) + ",\"reset\":" + std::to_string(f.reset) +
	       ",\"other\":" + std::to_string(f.other) + "}";
}

}  // namespace

std::string json_escape(std::string_view s)
{
	std::string out;
	for (char c : s) {
		auto u = static_cast<unsigned char>(c);
		switch (c) {
		case '"': out += "\\\""; break;
		case '\\': out += "\\\\"; break;
		case '\n': out += "\\n"; break;
		case '\r': out += "\\r"; break;
		case '\t': out += "\\t"; break;
		default:
			if (u < 0x20 || u == 0x7f) {
				char b[8];
				std::snprintf(b, sizeof(b), "\\u%04x", u);
				out += b;
			} else {
				out += c;  // UTF-8 passes through
			}
		}
	}
	return out;
}

void Failures::add(Failure f)
{
	switch (f) {
	case Failure::refused: refused++; break;
	case Failure::timeout: timeout++; break;
	case Failure::corrupt: corrupt++; break;
	case Failure::reset: reset++; break;
	case Failure::other: other++; break;
	}
}

std::string connect_text(const ConnectSummary &s)
{
	std::string out = "flowbench connect " + s.addr + " port " + std::to_string(s.port) + ": " +
			  std::to_string(s.conns) + " connections (" + std::to_string(s.parallel) +
			  " at a time, " + std::to_string(s.size) + " B), " + std::to_string(s.ok) + " ok, " +
			  std::to_string(s.failures.total()) + " failed\n";
	out += text_counts(s.servers, "connections");
	const auto &f = s.failures;
	out += "failures: refused " + std::to_string(f.refused) + ", timeout " + std::to_string(f.timeout) +
	       ", corrupt " + std::to_string(f.corrupt) + ", reset " + std::to_string(f.reset) + ", other " +
	       std::to_string(f.other) + "\n";
	if (!s.first_error.empty())
		out += "first failure: " + s.first_error + "\n";
	out += "elapsed " + num(s.elapsed_s) + " s, " + num(s.conns_per_s(), 1) + " connections/s\n";
	return out;
}

std::string connect_json(const ConnectSummary &s)
{
	return "{\"mode\":\"connect\",\"addr\":" + q(s.addr) + ",\"port\":" + std::to_string(s.port) +
	       ",\"conns\":" + std::to_string(s.conns) + ",\"parallel\":" + std::to_string(s.parallel) +
	       ",\"size\":" + std::to_string(s.size) + ",\"requests\":" + std::to_string(s.requests) +
	       ",\"ok\":" + std::to_string(s.ok) +
	       ",\"failed\":" + std::to_string(s.failures.total()) + ",\"servers\":" + json_counts(s.servers) +
	       ",\"failures\":" + json_failures(s.failures) + ",\"first_error\":" + q(s.first_error) +
	       ",\"elapsed_s\":" + num(s.elapsed_s, 6) +
	       ",\"first_ok_s\":" + (s.first_ok_s < 0 ? std::string("null") : num(s.first_ok_s, 6)) +
	       ",\"conns_per_s\":" + num(s.conns_per_s(), 3) +
	       ",\"passed\":" + (s.passed() ? "true" : "false") + "}\n";
}

double percentile(std::vector<double> v, double p)
{
	if (v.empty())
		return 0;
	std::sort(v.begin(), v.end());
	auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
	rank = std::clamp<std::size_t>(rank, 1, v.size());
	return v[rank - 1];
}

LatencyStats latency_stats(const std::vector<double> &us)
{
	LatencyStats st;
	if (us.empty())
		return st;
	auto [mn, mx] = std::minmax_element(us.begin(), us.end());
	st.min = *mn;
	st.max = *mx;
	st.median = percentile(us, 50);
	st.p99 = percentile(us, 99);
	st.mean = std::accumulate(us.begin(), us.end(), 0.0) / static_cast<double>(us.size());
	return st;
}

std::string rr_text(const RrSummary &s)
{
	auto st = latency_stats(s.latencies_us);
	std::string out = "flowbench rr " + s.addr + " port " + std::to_string(s.port) + ": " +
			  std::to_string(s.completed()) + "/" + std::to_string(s.requests) + " requests (" +
			  std::to_string(s.size) + " B) on one connection\n";
	out += text_counts(s.servers, "requests");
	if (s.servers.size() > 1)
		out += "error: " + std::to_string(s.servers.size()) + " server names on one connection\n";
	if (!s.error.empty())
		out += "error: " + s.error + "\n";
	out += "elapsed " + num(s.elapsed_s) + " s, " + num(s.requests_per_s(), 1) + " requests/s\n";
	out += "latency us: min " + num(st.min, 1) + ", median " + num(st.median, 1) + ", p99 " +
	       num(st.p99, 1) + ", max " + num(st.max, 1) + "\n";
	return out;
}

std::string rr_json(const RrSummary &s)
{
	auto st = latency_stats(s.latencies_us);
	return "{\"mode\":\"rr\",\"addr\":" + q(s.addr) + ",\"port\":" + std::to_string(s.port) +
	       ",\"requests\":" + std::to_string(s.requests) + ",\"size\":" + std::to_string(s.size) +
	       ",\"completed\":" + std::to_string(s.completed()) + ",\"servers\":" + json_counts(s.servers) +
	       ",\"error\":" + q(s.error) + ",\"elapsed_s\":" + num(s.elapsed_s, 6) +
	       ",\"requests_per_s\":" + num(s.requests_per_s(), 3) + ",\"latency_us\":{\"min\":" +
	       num(st.min, 1) + ",\"median\":" + num(st.median, 1) + ",\"p99\":" + num(st.p99, 1) +
	       ",\"max\":" + num(st.max, 1) + ",\"mean\":" + num(st.mean, 1) + "},\"passed\":" +
	       (s.passed() ? "true" : "false") + "}\n";
}

UdpTracker::UdpTracker(unsigned flows, unsigned packets) : flows_(flows), packets_(packets)
{
	for (auto &f : flows_)
		f.got.assign(packets, false);
}

void UdpTracker::sent(unsigned flow, bool retransmit)
{
	(void)flows_.at(flow);
	sent_++;
	if (retransmit)
		retransmits_++;
}

bool UdpTracker::answer(unsigned flow, std::string_view datagram)
{
	auto &f = flows_.at(flow);
	auto reply = parse_reply(datagram);
	std::optional<Probe> probe;
	if (reply)
		probe = decode_probe(reply->payload);
	if (!probe || probe->flow != flow || probe->seq >= packets_) {
		corrupt_++;
		return false;
	}
	f.names.insert(reply->name);
	if (f.got[probe->seq]) {
		f.duplicates++;
	} else {
		f.got[probe->seq] = true;
		f.answered++;
		answered_++;
	}
	return true;
}

std::vector<std::uint32_t> UdpTracker::missing(unsigned flow) const
{
	std::vector<std::uint32_t> out;
	const auto &f = flows_.at(flow);
	for (std::uint32_t i = 0; i < packets_; i++)
		if (!f.got[i])
			out.push_back(i);
	return out;
}

std::uint64_t udp_lost(const UdpTracker &t)
{
	return static_cast<std::uint64_t>(t.flows().size()) * t.packets() - t.answered();
}

unsigned non_sticky_flows(const UdpTracker &t)
{
	return static_cast<unsigned>(
		std::count_if(t.flows().begin(), t.flows().end(), [](const auto &f) { return f.names.size() > 1; }));
}

std::map<std::string, std::uint64_t> udp_servers(const UdpTracker &t)
{
	std::map<std::string, std::uint64_t> m;
	for (const auto &f : t.flows())
		for (const auto &n : f.names)
			m[n]++;
	return m;
}

bool udp_passed(const UdpSummary &s, const UdpTracker &t)
{
	return s.error.empty() && udp_lost(t) == 0 && non_sticky_flows(t) == 0 && t.corrupt() == 0;
}

namespace {

std::string names_list(const std::set<std::string> &names, const char *sep)
{
	std::string out;
	for (const auto &n : names)
		out += (out.empty() ? "" : sep) + n;
	return out;
}

}  // namespace

std::string udp_text(const UdpSummary &s, const UdpTracker &t)
{
	std::string out = "flowbench udp " + s.addr + " port " + std::to_string(s.port) + ": " +
			  std::to_string(t.flows().size()) + " flows x " + std::to_string(t.packets()) +
			  " datagrams (" + std::to_string(s.size) + " B)\n";
	for (std::size_t i = 0; i < t.flows().size(); i++) {
		const auto &f = t.flows()[i];
		out += "  flow " + std::to_string(i) + " (source port " + std::to_string(f.src_port) +
		       "): " + std::to_string(f.answered) + "/" + std::to_string(t.packets()) +
		       " answered, servers " + (f.names.empty() ? "-" : names_list(f.names, ",")) +
		       (f.names.size() > 1 ? "  NOT STICKY" : "") + "\n";
	}
	out += "servers (flows): ";
	std::string sv;
	for (const auto &[n, c] : udp_servers(t))
		sv += (sv.empty() ? "" : ", ") + n + " " + std::to_string(c);
	out += (sv.empty() ? "-" : sv) + "\n";
	out += "sent " + std::to_string(t.datagrams_sent()) + " (" + std::to_string(t.retransmits()) +
	       " resent), answered " + std::to_string(t.answered()) + ", lost " + std::to_string(udp_lost(t)) +
	       ", corrupt " + std::to_string(t.corrupt()) + ", non-sticky flows " +
	       std::to_string(non_sticky_flows(t)) + "\n";
	if (!s.error.empty())
		out += "error: " + s.error + "\n";
	out += "elapsed " + num(s.elapsed_s) + " s\n";
	return out;
}

std::string udp_json(const UdpSummary &s, const UdpTracker &t)
{
	std::string flows = "[";
	for (std::size_t i = 0; i < t.flows().size(); i++) {
		const auto &f = t.flows()[i];
		std::string names = "[";
		for (const auto &n : f.names)
			names += (names.size() > 1 ? "," : "") + q(n);
		flows += (i ? "," : "") + std::string("{\"flow\":") + std::to_string(i) +
			 ",\"src_port\":" + std::to_string(f.src_port) + ",\"answered\":" +
			 std::to_string(f.answered) + ",\"duplicates\":" + std::to_string(f.duplicates) +
			 ",\"servers\":" + names + "],\"sticky\":" + (f.names.size() <= 1 ? "true" : "false") + "}";
	}
	flows += "]";
	return "{\"mode\":\"udp\",\"addr\":" + q(s.addr) + ",\"port\":" + std::to_string(s.port) +
	       ",\"flows\":" + std::to_string(t.flows().size()) + ",\"packets\":" + std::to_string(t.packets()) +
	       ",\"size\":" + std::to_string(s.size) + ",\"sent\":" + std::to_string(t.datagrams_sent()) +
	       ",\"retransmits\":" + std::to_string(t.retransmits()) + ",\"answered\":" +
	       std::to_string(t.answered()) + ",\"lost\":" + std::to_string(udp_lost(t)) +
	       ",\"corrupt\":" + std::to_string(t.corrupt()) + ",\"non_sticky_flows\":" +
	       std::to_string(non_sticky_flows(t)) + ",\"servers\":" + json_counts(udp_servers(t)) +
	       ",\"per_flow\":" + flows + ",\"error\":" + q(s.error) + ",\"elapsed_s\":" + num(s.elapsed_s, 6) +
	       ",\"passed\":" + (udp_passed(s, t) ? "true" : "false") + "}\n";
}

}  // namespace flowbench
