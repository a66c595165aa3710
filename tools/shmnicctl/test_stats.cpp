// SPDX-License-Identifier: GPL-2.0
// shmnicctl stats: its arguments, the records it parses, rates between two
// reads, and its three outputs; the Prometheus text is held to the format
// by a strict parser here (and by promtool, see CMakeLists.txt).
#include <gtest/gtest.h>

#include <linux/shmnic.h>
#include <map>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <regex>
#include <set>
#include <sstream>

#include "cli.h"
#include "message.h"
#include "render.h"
#include "stats.h"
#include "stats_sample.h"

using namespace shmnicctl;

namespace {

TEST(StatsParse, Options)
{
	Options o = parse_args({ "stats" });
	EXPECT_EQ(o.cmd, Cmd::stats);
	EXPECT_FALSE(o.watch);
	EXPECT_FALSE(o.prometheus);
	o = parse_args({ "stats", "-j", "--watch", "2", "dev", "shml0" });
	EXPECT_TRUE(o.json);
	EXPECT_EQ(o.watch, 2u);
	EXPECT_EQ(o.dev, "shml0");
	o = parse_args({ "-j", "stats" });
	EXPECT_TRUE(o.json);
	EXPECT_TRUE(parse_args({ "stats", "--prometheus" }).prometheus);
	EXPECT_THROW(parse_args({ "stats", "--watch" }), UsageError);
	EXPECT_THROW(parse_args({ "stats", "--watch", "0" }), UsageError);
	EXPECT_THROW(parse_args({ "stats", "--watch", "x" }), UsageError);
	EXPECT_THROW(parse_args({ "stats", "--prometheus", "-j" }), UsageError);
	EXPECT_THROW(parse_args({ "stats", "--bogus" }), UsageError);
	EXPECT_NE(usage().find("stats [dev DEV] [-j] [--watch SECONDS] [--prometheus]"),
		  std::string::npos);
}

// ---- the netlink record ----

void put_net(nl_msg *m, std::uint8_t net, std::uint64_t base)
{
	nlattr *n = nla_nest_start(m, SHMNIC_STATS_A_NET);
	nla_put_u8(m, SHMNIC_NET_STATS_A_NET, net);
	for (int a = SHMNIC_NET_STATS_A_RX_PACKETS; a <= SHMNIC_NET_STATS_A_TX_STOPS; a++)
		nla_put_u64(m, a, base + static_cast<std::uint64_t>(a));
	nla_nest_end(m, n);
}

TEST(StatsMessage, ParsesEveryPart)
{
	Msg m = genl_request(0x1f, SHMNIC_CMD_GET_STATS, 0, 3);
	nlattr *s = nla_nest_start(m.get(), SHMNIC_A_STATS);
	nla_put_u32(m.get(), SHMNIC_STATS_A_ID, 2);
	nla_put_u8(m.get(), SHMNIC_STATS_A_STATE, SHMNIC_NODE_STATE_DOWN);
	nla_put_u32(m.get(), SHMNIC_STATS_A_EPOCH, 5);
	nla_put_u32(m.get(), SHMNIC_STATS_A_SILENT_MS, 1500);
	nla_put_u32(m.get(), SHMNIC_STATS_A_FLAGS, SHMNIC_STATS_F_STALE);
	nla_put_u32(m.get(), SHMNIC_STATS_A_WRITER_EPOCH, 5);
	nla_put_u64(m.get(), SHMNIC_STATS_A_HEARTBEAT, 99);
	nla_put_u64(m.get(), SHMNIC_STATS_A_TIME_NS, 123456789);
	put_net(m.get(), 0, 1000);
	put_net(m.get(), 1, 2000);
	put_net(m.get(), 7, 3000);	// no such network: ignored
	nlattr *g = nla_nest_start(m.get(), SHMNIC_STATS_A_GW);
	nla_put_u64(m.get(), SHMNIC_GW_STATS_A_FORWARDED, 77);
	nla_put_u64(m.get(), SHMNIC_GW_STATS_A_HANDBACKS, 3);
	nla_nest_end(m.get(), g);
	for (std::uint32_t peer : { 0u, 1u }) {
		nlattr *p = nla_nest_start(m.get(), SHMNIC_STATS_A_PEER);
		nla_put_u32(m.get(), SHMNIC_PEER_STATS_A_ID, peer);
		nla_put_u8(m.get(), SHMNIC_PEER_STATS_A_NET, 0);
		nla_put_u64(m.get(), SHMNIC_PEER_STATS_A_TX_BYTES, 500 + peer);
		nla_nest_end(m.get(), p);
	}
	nla_nest_end(m.get(), s);

	nlmsghdr *nlh = nlmsg_hdr(m.get());
	nlattr *tb[SHMNIC_A_MAX + 1] = {};
	ASSERT_EQ(genlmsg_parse(nlh, 0, tb, SHMNIC_A_MAX, nullptr), 0);
	auto st = parse_stats(tb);
	ASSERT_TRUE(st);
	EXPECT_EQ(st->ifindex, 3u);
	EXPECT_EQ(st->id, 2u);
	EXPECT_EQ(st->state, NodeState::down);
	EXPECT_EQ(st->epoch, 5u);
	EXPECT_EQ(st->silent_ms, 1500u);
	EXPECT_TRUE(st->flags.stale);
	EXPECT_FALSE(st->flags.absurd);
	EXPECT_EQ(st->heartbeat, 99u);
	EXPECT_EQ(st->time_ns, 123456789u);
	ASSERT_TRUE(st->net[0] && st->net[1]);
	EXPECT_EQ(st->net[0]->rx_packets, 1000u + SHMNIC_NET_STATS_A_RX_PACKETS);
	EXPECT_EQ(st->net[1]->tx_stops, 2000u + SHMNIC_NET_STATS_A_TX_STOPS);
	ASSERT_TRUE(st->gw);
	EXPECT_EQ((*st->gw)[static_cast<int>(GwCounter::forwarded)], 77u);
	EXPECT_EQ((*st->gw)[static_cast<int>(GwCounter::handbacks)], 3u);
	EXPECT_EQ((*st->gw)[static_cast<int>(GwCounter::rx)], 0u);
	ASSERT_EQ(st->peers.size(), 2u);
	EXPECT_EQ(st->peers[1].id, 1u);
	EXPECT_EQ(st->peers[1].tx_bytes, 501u);
}

TEST(StatsMessage, NoRecordNoNode)
{
	Msg m = genl_request(0x1f, SHMNIC_CMD_GET_STATS, 0, 3);
	nlattr *tb[SHMNIC_A_MAX + 1] = {};
	ASSERT_EQ(genlmsg_parse(nlmsg_hdr(m.get()), 0, tb, SHMNIC_A_MAX, nullptr), 0);
	EXPECT_FALSE(parse_stats(tb));
}

// ---- rates ----

TEST(StatsRows, RatesOverTheWritersClock)
{
	auto before = sample_stats(0);
	auto after = sample_stats(1);
	auto rows = stats_rows(before, after);
	ASSERT_EQ(rows.size(), after.size());
	const StatsRow &r = rows[0];
	ASSERT_TRUE(r.interval_s);
	EXPECT_DOUBLE_EQ(*r.interval_s, 2.0);	// the sample's clock: 2 s a step
	ASSERT_TRUE(r.rates[0]);
	// 1000 packets and 1.5 MB more per step, over 2 s
	EXPECT_DOUBLE_EQ(r.rates[0]->rx_pps, 500);
	EXPECT_DOUBLE_EQ(r.rates[0]->rx_bps, 1500000.0 * 8 / 2);
	EXPECT_FALSE(r.backwards);
}

TEST(StatsRows, NoRatesAcrossEpochsOrWithoutFigures)
{
	auto before = sample_stats(0);
	auto after = sample_stats(1);
	after[0].writer_epoch = 99;	// it restarted
	after[1].flags.torn = true;
	after[1].time_ns.reset();
	auto rows = stats_rows(before, after);
	EXPECT_FALSE(rows[0].interval_s);
	EXPECT_FALSE(rows[0].rates[0]);
	EXPECT_FALSE(rows[1].rates[0]);
	// a node new in the second read
	rows = stats_rows({}, after);
	EXPECT_FALSE(rows[2].rates[0]);
}

TEST(StatsRows, BackwardsIsSaid)
{
	auto before = sample_stats(1);
	auto after = sample_stats(2);
	after[0].net[1]->tx_bytes = 1;	// went down in the same epoch
	auto rows = stats_rows(before, after);
	EXPECT_TRUE(rows[0].backwards);
	EXPECT_FALSE(rows[0].rates[0]);
	EXPECT_EQ(stats_notes(rows[0]), std::vector<std::string>{ "backwards" });
	EXPECT_NE(render_stats_table(rows).find("backwards"), std::string::npos);
	// the clock itself going back
	after = sample_stats(2);
	*after[1].time_ns = 1;
	EXPECT_TRUE(stats_rows(before, after)[1].backwards);
}

TEST(StatsRender, HumanRates)
{
	EXPECT_EQ(human_rate(0), "0");
	EXPECT_EQ(human_rate(999), "999");
	EXPECT_EQ(human_rate(1234), "1.23k");
	EXPECT_EQ(human_rate(12345678), "12.3M");
	EXPECT_EQ(human_rate(2.5e9), "2.50G");
	EXPECT_EQ(human_rate(999e9), "999G");
}

TEST(StatsRender, TableShowsEveryNodeAndNetwork)
{
	auto rows = stats_rows(sample_stats(0), sample_stats(1));
	const std::string t = render_stats_table(rows);
	std::istringstream in(t);
	std::vector<std::string> lines;
	for (std::string l; std::getline(in, l);)
		lines.push_back(l);
	// header, two lines per node with figures, one for the torn one
	ASSERT_EQ(lines.size(), 1u + 2 + 2 + 1);
	EXPECT_EQ(lines[0].rfind("NODE", 0), 0u);
	EXPECT_NE(lines[0].find("RX PKT/S"), std::string::npos);
	EXPECT_NE(lines[1].find("0*"), std::string::npos);	// ourselves
	EXPECT_NE(lines[1].find("local"), std::string::npos);
	EXPECT_NE(lines[1].find("500"), std::string::npos);	// rx pkt/s
	EXPECT_NE(lines[1].find("6.00M"), std::string::npos);	// rx bit/s
	EXPECT_NE(lines[2].find("global"), std::string::npos);
	// node 1 is down: its last figures, marked stale, and how long silent
	EXPECT_NE(lines[3].find("down"), std::string::npos);
	EXPECT_NE(lines[3].find("stale"), std::string::npos);
	EXPECT_NE(lines[3].find("silent 3.0s"), std::string::npos);
	EXPECT_NE(lines[5].find("torn"), std::string::npos);
}

TEST(StatsRender, JsonRecords)
{
	auto rows = stats_rows(sample_stats(0), sample_stats(1));
	const std::string j = render_json(stats_records(rows));
	EXPECT_EQ(j.front(), '[');
	EXPECT_NE(j.find("\"node\":0"), std::string::npos) << j;
	EXPECT_NE(j.find("\"net\":\"local\""), std::string::npos);
	EXPECT_NE(j.find("\"rx_pps\":500"), std::string::npos);
	EXPECT_NE(j.find("\"notes\":[\"stale\"]"), std::string::npos);
	EXPECT_NE(j.find("\"forwarded\":"), std::string::npos);
	EXPECT_NE(j.find("\"peers\":[{\"peer\":1"), std::string::npos) << j;
}

// ---- Prometheus text format 0.0.4, strictly ----

// Checks what node_exporter's textfile collector and Prometheus need, and
// more: every sample's family has HELP and TYPE lines before it, families
// are contiguous and unique, names and labels are well formed, no series
// is repeated, counters end in _total and never go negative.
std::string prometheus_problems(const std::string &text)
{
	static const std::regex help(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+))");
	static const std::regex type(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge))");
	static const std::regex sample(
		R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]*")*\})? (-?[0-9]+(\.[0-9]+)?(e[+-]?[0-9]+)?))");
	std::istringstream in(text);
	std::set<std::string> families, series;
	std::map<std::string, std::string> types;
	std::string cur, l;
	bool have_help = false;
	int n = 0;
	if (text.empty() || text.back() != '\n')
		return "does not end with a newline";
	while (std::getline(in, l)) {
		n++;
		std::smatch m;
		const std::string where = "line " + std::to_string(n) + ": ";
		if (std::regex_match(l, m, help)) {
			if (families.count(m[1]))
				return where + "family " + m[1].str() + " again";
			families.insert(m[1]);
			cur = m[1];
			have_help = true;
		} else if (std::regex_match(l, m, type)) {
			if (m[1] != cur || !have_help || types.count(cur))
				return where + "TYPE without its HELP";
			types[cur] = m[2];
			if ((m[2] == "counter") != (cur.size() > 6 &&
						    cur.compare(cur.size() - 6, 6, "_total") == 0))
				return where + "only counters end in _total";
		} else if (std::regex_match(l, m, sample)) {
			if (m[1] != cur || !types.count(cur))
				return where + "sample outside its family";
			if (!series.insert(m[1].str() + m[2].str()).second)
				return where + "series repeated";
			if (types[cur] == "counter" && m[4].str()[0] == '-')
				return where + "negative counter";
		} else {
			return where + "not HELP, TYPE or a sample: " + l;
		}
	}
	return "";
}

TEST(StatsPrometheus, StrictParserCatchesMistakes)
{
	EXPECT_EQ(prometheus_problems("# HELP a_total x\n# TYPE a_total counter\na_total{node=\"1\"} 3\n"),
		  "");
	EXPECT_NE(prometheus_problems("a_total 3\n"), "");
	EXPECT_NE(prometheus_problems("# HELP a x\n# TYPE a counter\na 3\n"), "");
	EXPECT_NE(prometheus_problems("# HELP a_total x\n# TYPE a_total counter\na_total{node=1} 3\n"),
		  "");
	EXPECT_NE(prometheus_problems("# HELP a_total x\n# TYPE a_total counter\na_total 3\na_total 4\n"),
		  "");
	EXPECT_NE(prometheus_problems("# HELP g x\n# TYPE g gauge\ng 1"), "");
}

TEST(StatsPrometheus, WellFormed)
{
	const std::string p = render_prometheus(sample_stats(1));
	EXPECT_EQ(prometheus_problems(p), "") << p;
	EXPECT_NE(p.find("shmnic_rx_bytes_total{node=\"0\",net=\"local\"} "), std::string::npos);
	EXPECT_NE(p.find("shmnic_gw_forwarded_total{node=\"0\"} "), std::string::npos);
	EXPECT_NE(p.find("shmnic_peer_tx_bytes_total{node=\"0\",net=\"local\",peer=\"1\"} "),
		  std::string::npos);
	EXPECT_NE(p.find("shmnic_node_up{node=\"1\"} 0\n"), std::string::npos);
	EXPECT_NE(p.find("shmnic_stats_stale{node=\"1\"} 1\n"), std::string::npos);
	// the down node's last figures are kept
	EXPECT_NE(p.find("shmnic_rx_packets_total{node=\"1\",net=\"local\"} "), std::string::npos);
	// the torn node: its state, no figures
	EXPECT_NE(p.find("shmnic_stats_valid{node=\"2\"} 0\n"), std::string::npos);
	EXPECT_EQ(p.find("net_total{node=\"2\""), std::string::npos);
	EXPECT_EQ(p.find("{node=\"2\",net="), std::string::npos);
}

TEST(StatsPrometheus, AbsurdFiguresAreLeftOut)
{
	auto s = sample_stats(1);
	s[0].flags.absurd = true;
	const std::string p = render_prometheus(s);
	EXPECT_EQ(prometheus_problems(p), "");
	EXPECT_NE(p.find("shmnic_stats_valid{node=\"0\"} 0\n"), std::string::npos);
	EXPECT_EQ(p.find("{node=\"0\",net="), std::string::npos);
}

} // namespace
