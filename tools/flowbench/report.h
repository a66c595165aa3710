// SPDX-License-Identifier: GPL-2.0
// flowbench results: what the clients collect, the verdicts, and their
// text and JSON forms. No networking here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace flowbench {

std::string json_escape(std::string_view s);

// Why a connection failed.
enum class Failure { refused, timeout, corrupt, reset, other };

struct Failures {
	std::uint64_t refused = 0, timeout = 0, corrupt = 0, reset = 0, other = 0;
	void add(Failure f);
	std::uint64_t total() const { return refused + timeout + corrupt + reset + other; }
};

struct ConnectSummary {
	std::string addr;
	std::uint16_t port = 0;
	std::uint64_t conns = 0;
	unsigned parallel = 1;
	std::size_t size = 0;
	std::uint64_t requests = 1;  // per connection
	std::uint64_t ok = 0;
	std::map<std::string, std::uint64_t> servers;  // name -> connections
	Failures failures;
	std::string first_error;
	double elapsed_s = 0;
	double first_ok_s = -1;  // start to the first connection done; -1: none
	double conns_per_s() const { return elapsed_s > 0 ? static_cast<double>(ok) / elapsed_s : 0; }
	bool passed() const { return failures.total() == 0 && ok == conns; }
};

std::string connect_text(const ConnectSummary &s);
std::string connect_json(const ConnectSummary &s);

struct LatencyStats {
	double min = 0, median = 0, p99 = 0, max = 0, mean = 0;
};

// Nearest-rank percentile (p in 0..100) of unsorted values; 0 if none.
double percentile(std::vector<double> v, double p);
LatencyStats latency_stats(const std::vector<double> &us);

struct RrSummary {
	std::string addr;
	std::uint16_t port = 0;
	std::uint64_t requests = 0;
	std::size_t size = 0;
	std::vector<double> latencies_us;  // one per completed round trip
	std::map<std::string, std::uint64_t> servers;
	std::string error;  // the first failure, which ends the run
	double elapsed_s = 0;
	std::uint64_t completed() const { return latencies_us.size(); }
	double requests_per_s() const
	{
		return elapsed_s > 0 ? static_cast<double>(completed()) / elapsed_s : 0;
	}
	bool passed() const { return error.empty() && completed() == requests && servers.size() == 1; }
};

std::string rr_text(const RrSummary &s);
std::string rr_json(const RrSummary &s);

// The udp client's bookkeeping: which (flow, seq) were answered, and by
// whom.
class UdpTracker {
public:
	UdpTracker(unsigned flows, unsigned packets);

	void set_src_port(unsigned flow, std::uint16_t port) { flows_.at(flow).src_port = port; }
	void sent(unsigned flow, bool retransmit);
	// An answer on flow's socket (NAME "\n" payload); false if it is not
	// an intact probe of that flow (counted as corrupt).
	bool answer(unsigned flow, std::string_view datagram);
	std::vector<std::uint32_t> missing(unsigned flow) const;
	bool answered(unsigned flow, std::uint32_t seq) const { return flows_.at(flow).got.at(seq); }
	bool complete() const { return answered_ == static_cast<std::uint64_t>(flows_.size()) * packets_; }

	struct Flow {
		std::uint16_t src_port = 0;
		std::vector<bool> got;
		std::uint64_t answered = 0;    // distinct sequence numbers
		std::uint64_t duplicates = 0;  // answers to a seq already answered
		std::set<std::string> names;
	};
	const std::vector<Flow> &flows() const { return flows_; }
	unsigned packets() const { return packets_; }
	std::uint64_t datagrams_sent() const { return sent_; }
	std::uint64_t retransmits() const { return retransmits_; }
	std::uint64_t answered() const { return answered_; }
	std::uint64_t corrupt() const { return corrupt_; }

private:
	std::vector<Flow> flows_;
	unsigned packets_;
	std::uint64_t sent_ = 0, retransmits_ = 0, answered_ = 0, corrupt_ = 0;
};

struct UdpSummary {
	std::string addr;
	std::uint16_t port = 0;
	std::size_t size = 0;
	unsigned retries = 0;
	std::string error;  // socket-level failure
	double elapsed_s = 0;
};

// (flow, seq) never answered
std::uint64_t udp_lost(const UdpTracker &t);
unsigned non_sticky_flows(const UdpTracker &t);
// name -> number of flows that saw it
std::map<std::string, std::uint64_t> udp_servers(const UdpTracker &t);
bool udp_passed(const UdpSummary &s, const UdpTracker &t);
std::string udp_text(const UdpSummary &s, const UdpTracker &t);
std::string udp_json(const UdpSummary &s, const UdpTracker &t);

}  // namespace flowbench
