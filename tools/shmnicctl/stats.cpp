// SPDX-License-Identifier: GPL-2.0
#include "stats.h"

#include <cstdio>
#include <map>

#include "render.h"

namespace shmnicctl {

namespace {

const char *const kNetNames[] = { "local", "global" };

constexpr std::size_t kGw = static_cast<std::size_t>(GwCounter::count);

// Name and help of each gateway counter, in GwCounter order.
const std::array<std::pair<const char *, const char *>, kGw> kGwCounters = { {
	{ "rx", "Packets for a GLOBAL address received by the gateway." },
	{ "forwarded", "Packets the gateway sent to the node serving them." },
	{ "local", "Packets the gateway served itself." },
	{ "flows_new", "Flows the gateway dispatched." },
	{ "published", "Flows dispatched by the published listeners." },
	{ "queries", "Queries the gateway sent to the nodes." },
	{ "no_server", "Flows nobody served: dropped." },
	{ "tx_errors", "Packets the gateway failed to forward." },
	{ "handbacks", "Flows handed back to the gateway by their node." },
} };

// Each counter of a network: its name (JSON key; Prometheus shmnic_NAME_total),
// its help, and where it is.
struct NetField {
	const char *name, *help;
	std::uint64_t NetCounters::*field;
};
const NetField kNetFields[] = {
	{ "rx_packets", "Packets received by the node's adapter.", &NetCounters::rx_packets },
	{ "rx_bytes", "Bytes received by the node's adapter.", &NetCounters::rx_bytes },
	{ "tx_packets", "Packets sent by the node's adapter.", &NetCounters::tx_packets },
	{ "tx_bytes", "Bytes sent by the node's adapter.", &NetCounters::tx_bytes },
	{ "rx_dropped", "Received packets dropped.", &NetCounters::rx_dropped },
	{ "tx_dropped", "Packets to send dropped.", &NetCounters::tx_dropped },
	{ "rx_errors", "Receive errors.", &NetCounters::rx_errors },
	{ "tx_errors", "Send errors.", &NetCounters::tx_errors },
	{ "rx_missed", "Broadcast and multicast slots missed.", &NetCounters::rx_missed },
	{ "tx_stops", "Times a transmit queue stopped for a full ring.",
	  &NetCounters::tx_stops },
};

bool went_down(const NetCounters &a, const NetCounters &b)
{
	for (const NetField &f : kNetFields)
		if (b.*f.field < a.*f.field)
			return true;
	return false;
}

bool has_figures(const NodeStats &s)
{
	return s.time_ns && !s.flags.torn && !s.flags.empty;
}

std::string u64s(std::uint64_t v)
{
	return std::to_string(v);
}

} // namespace

std::vector<StatsRow> stats_rows(const std::vector<NodeStats> &before,
				 const std::vector<NodeStats> &after)
{
	std::map<std::uint32_t, const NodeStats *> prev;
	for (const NodeStats &s : before)
		prev[s.id] = &s;
	std::vector<StatsRow> rows;
	for (const NodeStats &s : after) {
		StatsRow r;
		r.now = s;
		auto it = prev.find(s.id);
		if (it == prev.end() || !has_figures(s) || !has_figures(*it->second) ||
		    s.writer_epoch != it->second->writer_epoch) {
			rows.push_back(std::move(r));
			continue;
		}
		const NodeStats &p = *it->second;
		for (std::size_t n = 0; n < s.net.size(); n++)
			if (s.net[n] && p.net[n] && went_down(*p.net[n], *s.net[n]))
				r.backwards = true;
		if (s.gw && p.gw)
			for (std::size_t i = 0; i < kGw; i++)
				if ((*s.gw)[i] < (*p.gw)[i])
					r.backwards = true;
		if (*s.time_ns < *p.time_ns)
			r.backwards = true;
		if (r.backwards || *s.time_ns == *p.time_ns) {
			rows.push_back(std::move(r));
			continue;
		}
		const double dt = static_cast<double>(*s.time_ns - *p.time_ns) / 1e9;
		r.interval_s = dt;
		for (std::size_t n = 0; n < s.net.size(); n++) {
			if (!s.net[n] || !p.net[n])
				continue;
			const NetCounters &a = *p.net[n], &b = *s.net[n];
			NetRates &x = r.rates[n].emplace();
			x.rx_pps = static_cast<double>(b.rx_packets - a.rx_packets) / dt;
			x.tx_pps = static_cast<double>(b.tx_packets - a.tx_packets) / dt;
			x.rx_bps = static_cast<double>(b.rx_bytes - a.rx_bytes) * 8 / dt;
			x.tx_bps = static_cast<double>(b.tx_bytes - a.tx_bytes) * 8 / dt;
		}
		rows.push_back(std::move(r));
	}
	return rows;
}

std::string human_rate(double v)
{
	static const char *const units[] = { "k", "M", "G", "T", "P" };
	char buf[32];
	if (v < 1000) {
		std::snprintf(buf, sizeof(buf), "%.0f", v);
		return buf;
	}
	std::size_t u = 0;
	v /= 1000;
	while (v >= 1000 && u + 1 < std::size(units)) {
		v /= 1000;
		u++;
	}
	std::snprintf(buf, sizeof(buf), v < 10 ? "%.2f%s" : v < 100 ? "%.1f%s" : "%.0f%s", v,
		      units[u]);
	return buf;
}

std::vector<std::string> stats_notes(const StatsRow &r)
{
	const StatsFlags &f = r.now.flags;
	std::vector<std::string> notes;
	if (f.stale)
		notes.push_back("stale");
	if (f.absurd)
		notes.push_back("absurd");
	if (f.torn)
		notes.push_back("torn");
	if (f.empty)
		notes.push_back("empty");
	if (r.backwards)
		notes.push_back("backwards");
	if (f.peers_cut)
		notes.push_back("peers-cut");
	return notes;
}

namespace {

std::string joined(const std::vector<std::string> &v)
{
	std::string s;
	for (const auto &x : v)
		s += (s.empty() ? "" : ",") + x;
	return s;
}

const std::vector<Column> &stats_columns()
{
	static const std::vector<Column> cols = {
		{ "node", { "node" } },	      { "state", { "state" } },
		{ "epoch", { "epoch" } },     { "net", { "net" } },
		{ "rx pkt/s", { "rx_pps" } }, { "rx bit/s", { "rx_bps" } },
		{ "tx pkt/s", { "tx_pps" } }, { "tx bit/s", { "tx_bps" } },
		{ "rx total", { "rx" } },     { "tx total", { "tx" } },
		{ "drops", { "drops" } },     { "gw fwd", { "gw" } },
		{ "note", { "note" } },
	};
	return cols;
}

// "1234 pkt / 1.2 MiB"
std::string total(std::uint64_t packets, std::uint64_t bytes)
{
	return u64s(packets) + "/" + human_bytes(bytes);
}

} // namespace

std::string render_stats_table(const std::vector<StatsRow> &rows)
{
	std::vector<Record> recs;
	for (const StatsRow &r : rows) {
		const NodeStats &s = r.now;
		std::string note = joined(stats_notes(r));
		if (s.state != NodeState::up && s.silent_ms)
			note += (note.empty() ? "" : ",") + std::string("silent ") +
				human_millis(s.silent_ms);
		bool any = false;
		for (std::size_t n = 0; n < s.net.size(); n++) {
			if (!s.net[n])
				continue;
			const NetCounters &c = *s.net[n];
			Record rec;
			auto put = [&](const char *k, std::string v) {
				rec.fields.push_back({ k, std::move(v) });
			};
			put("node", any ? "" : u64s(s.id) + (s.self ? "*" : ""));
			put("state", any ? "" : state_name(s.state));
			put("epoch", any ? "" : u64s(s.epoch));
			put("net", kNetNames[n]);
			if (r.rates[n]) {
				put("rx_pps", human_rate(r.rates[n]->rx_pps));
				put("rx_bps", human_rate(r.rates[n]->rx_bps));
				put("tx_pps", human_rate(r.rates[n]->tx_pps));
				put("tx_bps", human_rate(r.rates[n]->tx_bps));
			}
			put("rx", total(c.rx_packets, c.rx_bytes));
			put("tx", total(c.tx_packets, c.tx_bytes));
			put("drops", u64s(c.rx_dropped + c.tx_dropped));
			if (n == 1 && s.gw)
				put("gw", u64s((*s.gw)[static_cast<std::size_t>(GwCounter::forwarded)]));
			put("note", any ? "" : note);
			recs.push_back(std::move(rec));
			any = true;
		}
		if (!any) {
			Record rec;
			rec.fields = { { "node", u64s(s.id) + (s.self ? "*" : "") },
				       { "state", std::string(state_name(s.state)) },
				       { "epoch", u64s(s.epoch) },
				       { "note", note } };
			recs.push_back(std::move(rec));
		}
	}
	return render_table(recs, stats_columns());
}

std::vector<Record> stats_records(const std::vector<StatsRow> &rows)
{
	std::vector<Record> out;
	for (const StatsRow &r : rows) {
		const NodeStats &s = r.now;
		Record rec;
		auto &f = rec.fields;
		f.push_back({ "node", std::uint64_t{ s.id } });
		f.push_back({ "self", s.self });
		f.push_back({ "state", std::string(state_name(s.state)) });
		f.push_back({ "epoch", std::uint64_t{ s.epoch } });
		f.push_back({ "silent_ms", std::uint64_t{ s.silent_ms } });
		f.push_back({ "notes", stats_notes(r) });
		if (s.writer_epoch)
			f.push_back({ "writer_epoch", std::uint64_t{ *s.writer_epoch } });
		if (s.heartbeat)
			f.push_back({ "heartbeat", *s.heartbeat });
		if (s.time_ns)
			f.push_back({ "time_ns", *s.time_ns });
		if (r.interval_s)
			f.push_back({ "interval_us",
				      static_cast<std::uint64_t>(*r.interval_s * 1e6) });
		std::vector<Record> nets;
		for (std::size_t n = 0; n < s.net.size(); n++) {
			if (!s.net[n])
				continue;
			const NetCounters &c = *s.net[n];
			Record nr;
			nr.fields = { { "net", std::string(kNetNames[n]) } };
			for (const NetField &f : kNetFields)
				nr.fields.push_back({ f.name, c.*f.field });
			if (r.rates[n]) {
				const NetRates &x = *r.rates[n];
				auto round = [](double v) { return static_cast<std::uint64_t>(v + 0.5); };
				nr.fields.push_back({ "rx_pps", round(x.rx_pps) });
				nr.fields.push_back({ "rx_bps", round(x.rx_bps) });
				nr.fields.push_back({ "tx_pps", round(x.tx_pps) });
				nr.fields.push_back({ "tx_bps", round(x.tx_bps) });
			}
			nets.push_back(std::move(nr));
		}
		f.push_back({ "nets", std::move(nets), Unit::none, true });
		if (s.gw) {
			Record g;
			for (std::size_t i = 0; i < kGw; i++)
				g.fields.push_back({ kGwCounters[i].first, (*s.gw)[i] });
			f.push_back({ "gateway", std::vector<Record>{ std::move(g) } });
		}
		std::vector<Record> peers;
		for (const PeerCounters &p : s.peers) {
			Record pr;
			pr.fields = { { "peer", std::uint64_t{ p.id } },
				      { "net", std::string(p.net < 2 ? kNetNames[p.net] : "?") },
				      { "tx_packets", p.tx_packets }, { "tx_bytes", p.tx_bytes },
				      { "rx_packets", p.rx_packets }, { "rx_bytes", p.rx_bytes } };
			peers.push_back(std::move(pr));
		}
		f.push_back({ "peers", std::move(peers), Unit::none, true });
		out.push_back(std::move(rec));
	}
	return out;
}

namespace {

// One metric family: HELP, TYPE, then its samples.
struct Family {
	std::string name, help, type;
	std::vector<std::pair<std::string, std::uint64_t>> samples;	// labels, value
};

std::string labels(std::uint32_t node, const char *net = nullptr,
		   std::optional<std::uint32_t> peer = std::nullopt)
{
	std::string l = "{node=\"" + std::to_string(node) + "\"";
	if (net)
		l += ",net=\"" + std::string(net) + "\"";
	if (peer)
		l += ",peer=\"" + std::to_string(*peer) + "\"";
	return l + "}";
}

} // namespace

std::string render_prometheus(const std::vector<NodeStats> &stats)
{
	std::vector<Family> fams;
	auto family = [&](const std::string &name, const std::string &help,
			  const char *type) -> Family & {
		for (Family &f : fams)
			if (f.name == name)
				return f;
		fams.push_back({ name, help, type, {} });
		return fams.back();
	};
	for (const NodeStats &s : stats) {
		family("shmnic_node_up", "1 if the node is up in the reporting node's view.", "gauge")
			.samples.emplace_back(labels(s.id), s.state == NodeState::up);
		family("shmnic_node_epoch", "The node's epoch (bumped at every attach).", "gauge")
			.samples.emplace_back(labels(s.id), s.epoch);
		family("shmnic_node_silent_seconds",
		       "Seconds since the node's heartbeat last moved (0: it moves).", "gauge")
			.samples.emplace_back(labels(s.id), s.silent_ms / 1000);
		family("shmnic_stats_stale",
		       "1 if the node's figures are its last ones: it is not up, or they are from another epoch.",
		       "gauge")
			.samples.emplace_back(labels(s.id), s.flags.stale);
		family("shmnic_stats_valid",
		       "1 if the node's figures were read whole and could be true.", "gauge")
			.samples.emplace_back(labels(s.id), has_figures(s) && !s.flags.absurd);
		if (!has_figures(s) || s.flags.absurd)
			continue;
		for (std::size_t n = 0; n < s.net.size(); n++) {
			if (!s.net[n])
				continue;
			for (const NetField &f : kNetFields)
				family(std::string("shmnic_") + f.name + "_total", f.help, "counter")
					.samples.emplace_back(labels(s.id, kNetNames[n]),
							      (*s.net[n]).*f.field);
		}
		if (s.gw)
			for (std::size_t i = 0; i < kGw; i++)
				family(std::string("shmnic_gw_") + kGwCounters[i].first + "_total",
				       kGwCounters[i].second, "counter")
					.samples.emplace_back(labels(s.id), (*s.gw)[i]);
		for (const PeerCounters &p : s.peers) {
			if (p.net >= 2)
				continue;
			const std::string l = labels(s.id, kNetNames[p.net], p.id);
			family("shmnic_peer_tx_packets_total", "Packets sent to one peer.", "counter")
				.samples.emplace_back(l, p.tx_packets);
			family("shmnic_peer_tx_bytes_total", "Bytes sent to one peer.", "counter")
				.samples.emplace_back(l, p.tx_bytes);
			family("shmnic_peer_rx_packets_total", "Packets received from one peer.",
			       "counter")
				.samples.emplace_back(l, p.rx_packets);
			family("shmnic_peer_rx_bytes_total", "Bytes received from one peer.", "counter")
				.samples.emplace_back(l, p.rx_bytes);
		}
	}
	std::string out;
	for (const Family &f : fams) {
		out += "# HELP " + f.name + " " + f.help + "\n";
		out += "# TYPE " + f.name + " " + f.type + "\n";
		for (const auto &[l, v] : f.samples)
			out += f.name + l + " " + std::to_string(v) + "\n";
	}
	return out;
}

} // namespace shmnicctl
