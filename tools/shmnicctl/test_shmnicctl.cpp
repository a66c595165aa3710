// SPDX-License-Identifier: GPL-2.0
// shmnicctl's parsing, both renderers, and the netlink messages it builds
// and parses; no kernel needed.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <cstring>
#include <linux/genetlink.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <linux/shmnic.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <set>

#include "cli.h"
#include "message.h"
#include "probe.h"
#include "render.h"

using namespace shmnicctl;

namespace {

Options parse(std::vector<std::string> args)
{
	return parse_args(args);
}

Node sample_node()
{
	Node n;
	n.ifindex = 3;
	n.id = 1;
	n.state = NodeState::up;
	n.epoch = 7;
	n.mac = std::array<std::uint8_t, 6>{ 0x02, 0x53, 0x4d, 0x00, 0x00, 0x01 };
	n.mtu = 1500;
	n.rx_depth = 256;
	n.heartbeat = 42;
	n.tx = RingCounters{ 10, 1536, 0 };
	n.rx = RingCounters{ 9, 3 * 1024 * 1024, 2 };
	return n;
}

Address v4(const char *s)
{
	Address a;
	EXPECT_EQ(inet_pton(AF_INET, s, a.bytes.data()), 1) << s;
	return a;
}

Address v6(const char *s)
{
	Address a;
	a.v6 = true;
	EXPECT_EQ(inet_pton(AF_INET6, s, a.bytes.data()), 1) << s;
	return a;
}

Flow sample_flow()
{
	Flow f;
	f.ifindex = 3;
	f.proto = 6;
	f.saddr = v4("203.0.113.7");
	f.sport = 40000;
	f.daddr = v4("198.51.100.1");
	f.dport = 80;
	f.node = 2;
	f.gateway = 0;
	f.state = FlowState::established;
	f.idle_ms = 350;
	return f;
}

Flow sample_flow6()
{
	Flow f;
	f.ifindex = 3;
	f.proto = 17;
	f.saddr = v6("2001:db8::7");
	f.sport = 5353;
	f.daddr = v6("2001:db8:1::1");
	f.dport = 53;
	f.node = 1;
	f.gateway = 4;
	f.state = FlowState::udp;
	f.idle_ms = 190000;
	return f;
}

} // namespace

TEST(Parse, NoArgumentsMeansShow)
{
	Options o = parse({});
	EXPECT_EQ(o.cmd, Cmd::show);
	EXPECT_FALSE(o.json);
	EXPECT_TRUE(o.dev.empty());
}

TEST(Parse, JsonFlag)
{
	Options o = parse({ "-j", "nodes" });
	EXPECT_EQ(o.cmd, Cmd::nodes);
	EXPECT_TRUE(o.json);
	EXPECT_TRUE(parse({ "--json", "show", "shml0" }).json);
	EXPECT_EQ(parse({ "--json", "show", "shml0" }).dev, "shml0");
}

TEST(Parse, SetBoth)
{
	Options o = parse({ "set", "shml0", "mtu", "9000", "ring-depth", "128" });
	EXPECT_EQ(o.cmd, Cmd::set);
	EXPECT_EQ(o.dev, "shml0");
	EXPECT_EQ(o.mtu, 9000u);
	EXPECT_EQ(o.ring_depth, 128u);
}

TEST(Parse, SetEither)
{
	Options o = parse({ "set", "shml0", "ring-depth", "64" });
	EXPECT_FALSE(o.mtu);
	EXPECT_EQ(o.ring_depth, 64u);
	o = parse({ "set", "shml0", "mtu", "1500" });
	EXPECT_EQ(o.mtu, 1500u);
	EXPECT_FALSE(o.ring_depth);
}

TEST(Parse, SetErrors)
{
	EXPECT_THROW(parse({ "set" }), UsageError);
	EXPECT_THROW(parse({ "set", "shml0" }), UsageError);
	EXPECT_THROW(parse({ "set", "shml0", "mtu" }), UsageError);
	EXPECT_THROW(parse({ "set", "shml0", "mtu", "x" }), UsageError);
	EXPECT_THROW(parse({ "set", "shml0", "mtu", "15x" }), UsageError);
	EXPECT_THROW(parse({ "set", "shml0", "mtu", "-1" }), UsageError);
	EXPECT_THROW(parse({ "set", "shml0", "mtu", "4294967296" }), UsageError);
	EXPECT_THROW(parse({ "set", "shml0", "mtu", "1", "mtu", "2" }), UsageError);
	EXPECT_THROW(parse({ "set", "shml0", "speed", "1" }), UsageError);
}

TEST(Parse, UnknownThings)
{
	EXPECT_THROW(parse({ "frobnicate" }), UsageError);
	EXPECT_THROW(parse({ "-x" }), UsageError);
	EXPECT_THROW(parse({ "monitor", "extra" }), UsageError);
	EXPECT_THROW(parse({ "show", "a", "b" }), UsageError);
}

TEST(Parse, Help)
{
	EXPECT_EQ(parse({ "-h" }).cmd, Cmd::help);
	EXPECT_EQ(parse({ "help" }).cmd, Cmd::help);
	EXPECT_NE(usage().find("ring-depth"), std::string::npos);
}

TEST(Units, HumanBytes)
{
	EXPECT_EQ(human_bytes(0), "0 B");
	EXPECT_EQ(human_bytes(1023), "1023 B");
	EXPECT_EQ(human_bytes(1024), "1.0 KiB");
	EXPECT_EQ(human_bytes(1536), "1.5 KiB");
	EXPECT_EQ(human_bytes(3ull << 20), "3.0 MiB");
	EXPECT_EQ(human_bytes(5ull << 30), "5.0 GiB");
	EXPECT_EQ(human_bytes(~0ull), "16.0 EiB");
}

TEST(Render, NodeText)
{
	std::string t = render_text({ to_record(sample_node()) });
	EXPECT_NE(t.find("node:           1\n"), std::string::npos) << t;
	EXPECT_NE(t.find("state:          up\n"), std::string::npos) << t;
	EXPECT_NE(t.find("self:           no\n"), std::string::npos) << t;
	EXPECT_NE(t.find("stalled:        no\n"), std::string::npos) << t;
	Node st = sample_node();
	st.stalled = true;
	EXPECT_NE(render_text({ to_record(st) }).find("stalled:        yes\n"), std::string::npos);
	EXPECT_NE(t.find("mac:            02:53:4d:00:00:01\n"), std::string::npos) << t;
	EXPECT_NE(t.find("tx:             packets 10, bytes 1.5 KiB, drops 0\n"),
		  std::string::npos) << t;
	EXPECT_NE(t.find("rx:             packets 9, bytes 3.0 MiB, drops 2\n"),
		  std::string::npos) << t;
}

TEST(Render, NodeJson)
{
	std::string j = render_json(std::vector<Record>{ to_record(sample_node()) });
	EXPECT_EQ(j, "[{\"node\":1,\"ifindex\":3,\"state\":\"up\",\"self\":false,\"stalled\":false,\"epoch\":7,"
		     "\"mac\":\"02:53:4d:00:00:01\",\"mtu\":1500,\"rx_depth\":256,"
		     "\"heartbeat\":42,\"tx\":{\"packets\":10,\"bytes\":1536,\"drops\":0},"
		     "\"rx\":{\"packets\":9,\"bytes\":3145728,\"drops\":2}}]\n");
}

TEST(Render, AbsentNodeHasNoDetails)
{
	Node n;
	n.id = 5;
	std::string j = render_json(to_record(n));
	EXPECT_EQ(j, "{\"node\":5,\"ifindex\":0,\"state\":\"absent\",\"self\":false,\"stalled\":false,\"epoch\":0}\n");
}

TEST(Render, RegionBothWays)
{
	Region r;
	r.ifname = "shml0";
	r.ifindex = 3;
	r.region_size = 16ull << 20;
	r.buf_size = 2048;
	r.max_nodes = 8;
	std::string t = render_text({ to_record(r) });
	EXPECT_NE(t.find("dev:            shml0\n"), std::string::npos) << t;
	EXPECT_NE(t.find("region_size:    16.0 MiB\n"), std::string::npos) << t;
	EXPECT_NE(t.find("buf_size:       2.0 KiB\n"), std::string::npos) << t;
	std::string j = render_json(to_record(r));
	EXPECT_NE(j.find("\"region_size\":16777216"), std::string::npos) << j;
	EXPECT_NE(j.find("\"dev\":\"shml0\""), std::string::npos) << j;
}

TEST(Render, JsonEscapes)
{
	Record r{ { Field{ "name", std::string("a\"b\\c\n"), Unit::none } } };
	EXPECT_EQ(render_json(r), "{\"name\":\"a\\\"b\\\\c\\u000a\"}\n");
}

TEST(Render, EventLine)
{
	NodeEvent e{ 3, 2, NodeState::down, 4 };
	EXPECT_EQ(render_text_line(to_record(e)), "node 2, ifindex 3, state down, epoch 4\n");
	EXPECT_EQ(render_json(to_record(e)),
		  "{\"node\":2,\"ifindex\":3,\"state\":\"down\",\"epoch\":4}\n");
}

// ---- the global network's commands ----

TEST(Parse, ShowAndNodesTakeDevKeyword)
{
	EXPECT_EQ(parse({ "show", "dev", "shmg0" }).dev, "shmg0");
	EXPECT_EQ(parse({ "nodes", "dev", "shml0" }).dev, "shml0");
	EXPECT_EQ(parse({ "nodes", "shml0" }).dev, "shml0");
	EXPECT_THROW(parse({ "show", "dev" }), UsageError);
}

TEST(Parse, GlobalAddIPv4)
{
	Options o = parse({ "global", "add", "198.51.100.1", "dev", "shmg0" });
	EXPECT_EQ(o.cmd, Cmd::global_add);
	EXPECT_EQ(o.dev, "shmg0");
	EXPECT_FALSE(o.addr.v6);
	EXPECT_EQ(o.addr.size(), 4u);
	EXPECT_EQ(o.addr, v4("198.51.100.1"));
}

TEST(Parse, GlobalDelIPv6DevFirst)
{
	Options o = parse({ "global", "del", "dev", "shmg0", "2001:db8::1" });
	EXPECT_EQ(o.cmd, Cmd::global_del);
	EXPECT_EQ(o.dev, "shmg0");
	EXPECT_TRUE(o.addr.v6);
	EXPECT_EQ(o.addr.size(), 16u);
	EXPECT_EQ(o.addr, v6("2001:db8::1"));
}

// what() of the UsageError @args throw, "" if none.
std::string usage_error(std::vector<std::string> args)
{
	try {
		parse_args(args);
	} catch (const UsageError &e) {
		return e.what();
	}
	return "";
}

TEST(Parse, GlobalBadAddresses)
{
	for (const char *bad : { "1.2.3", "1.2.3.4.5", "256.1.1.1", "x", "", "fd00:::1",
				 "fd00::1%eth0", "10.0.0.1 " }) {
		std::string e = usage_error({ "global", "add", bad, "dev", "shmg0" });
		EXPECT_NE(e.find("bad address '" + std::string(bad) + "'"), std::string::npos)
			<< bad << ": " << e;
		EXPECT_NE(e.find("IPv4 or IPv6 expected"), std::string::npos) << e;
	}
	EXPECT_NE(usage_error({ "global", "add", "10.0.0.1/32", "dev", "shmg0" }).find("prefix"),
		  std::string::npos);
	for (const char *notuni : { "0.0.0.0", "127.0.0.1", "224.0.0.1", "255.255.255.255", "::",
				    "::1", "ff02::1" })
		EXPECT_NE(usage_error({ "global", "del", notuni, "dev", "shmg0" })
				  .find("not a unicast address"),
			  std::string::npos)
			<< notuni;
	EXPECT_NE(usage_error({ "global", "add", "::ffff:10.0.0.1", "dev", "shmg0" })
			  .find("IPv4-mapped"),
		  std::string::npos);
}

TEST(Parse, GlobalArgumentErrors)
{
	EXPECT_EQ(usage_error({ "global" }), "global: add or del?");
	EXPECT_EQ(usage_error({ "global", "show" }), "global: unknown operation 'show' (add, del)");
	EXPECT_EQ(usage_error({ "global", "add" }), "global add: which address?");
	EXPECT_EQ(usage_error({ "global", "add", "dev", "shmg0" }), "global add: which address?");
	EXPECT_EQ(usage_error({ "global", "add", "10.0.0.1" }),
		  "global add: which device? (dev DEV)");
	EXPECT_EQ(usage_error({ "global", "add", "10.0.0.1", "dev" }),
		  "global add: dev needs a device name");
	EXPECT_EQ(usage_error({ "global", "add", "10.0.0.1", "dev", "a", "dev", "b" }),
		  "global add: dev given twice");
	EXPECT_EQ(usage_error({ "global", "add", "10.0.0.1", "10.0.0.2", "dev", "shmg0" }),
		  "global add: unexpected argument '10.0.0.2'");
}

TEST(Parse, Policy)
{
	Options o = parse({ "policy", "rr" });
	EXPECT_EQ(o.cmd, Cmd::policy);
	EXPECT_EQ(o.policy, Policy::rr);
	EXPECT_TRUE(o.dev.empty());
	o = parse({ "-j", "policy", "hash", "dev", "shmg0" });
	EXPECT_EQ(o.policy, Policy::hash);
	EXPECT_EQ(o.dev, "shmg0");
	EXPECT_EQ(usage_error({ "policy" }), "policy: which one? (rr, hash)");
	EXPECT_EQ(usage_error({ "policy", "random" }), "policy: unknown policy 'random' (rr, hash)");
	EXPECT_EQ(usage_error({ "policy", "RR" }), "policy: unknown policy 'RR' (rr, hash)");
	EXPECT_EQ(usage_error({ "policy", "rr", "shmg0" }),
		  "policy: unexpected argument 'shmg0'");
	EXPECT_EQ(usage_error({ "policy", "rr", "dev" }), "policy: dev needs a device name");
}

TEST(Parse, Flows)
{
	Options o = parse({ "flows" });
	EXPECT_EQ(o.cmd, Cmd::flows);
	EXPECT_TRUE(o.dev.empty());
	EXPECT_EQ(parse({ "-j", "flows", "dev", "shmg0" }).dev, "shmg0");
	EXPECT_EQ(usage_error({ "flows", "shmg0" }), "flows: unexpected argument 'shmg0'");
}

TEST(Parse, UsageNamesTheNewCommands)
{
	for (const char *w : { "global add|del ADDR dev DEV", "policy rr|hash", "flows [dev DEV]" })
		EXPECT_NE(usage().find(w), std::string::npos) << w;
}

TEST(Units, HumanMillis)
{
	EXPECT_EQ(human_millis(0), "0ms");
	EXPECT_EQ(human_millis(350), "350ms");
	EXPECT_EQ(human_millis(999), "999ms");
	EXPECT_EQ(human_millis(1000), "1.0s");
	EXPECT_EQ(human_millis(12400), "12.4s");
	EXPECT_EQ(human_millis(12499), "12.4s");
	EXPECT_EQ(human_millis(59999), "59.9s");
	EXPECT_EQ(human_millis(60000), "1m00s");
	EXPECT_EQ(human_millis(190000), "3m10s");
	EXPECT_EQ(human_millis(3599999), "59m59s");
	EXPECT_EQ(human_millis(3600000), "1h00m");
	EXPECT_EQ(human_millis(7500000), "2h05m");
	EXPECT_EQ(human_millis(86400000), "1d00h");
	EXPECT_EQ(human_millis(4294967295u), "49d17h");
}

TEST(Units, Endpoints)
{
	EXPECT_EQ(endpoint_string("203.0.113.7", 40000), "203.0.113.7:40000");
	EXPECT_EQ(endpoint_string("2001:db8::7", 53), "[2001:db8::7]:53");
	EXPECT_EQ(address_string(v6("2001:db8:0:0:0:0:0:1")), "2001:db8::1");
	EXPECT_EQ(address_string(v4("10.0.0.1")), "10.0.0.1");
}

TEST(Render, FlowsTable)
{
	Flow nidle = sample_flow();
	nidle.idle_ms.reset();
	nidle.state = FlowState::syn;
	std::string t = render_table({ to_record(sample_flow()), to_record(sample_flow6()),
				       to_record(nidle) },
				     flow_columns());
	EXPECT_EQ(t, "PROTO  PEER                GLOBAL              NODE  GATEWAY  STATE        IDLE\n"
		     "tcp    203.0.113.7:40000   198.51.100.1:80     2     0        established  350ms\n"
		     "udp    [2001:db8::7]:5353  [2001:db8:1::1]:53  1     4        udp          3m10s\n"
		     "tcp    203.0.113.7:40000   198.51.100.1:80     2     0        syn          -\n");
}

TEST(Render, FlowsEmpty)
{
	EXPECT_EQ(render_table({}, flow_columns()),
		  "PROTO  PEER  GLOBAL  NODE  GATEWAY  STATE  IDLE\n");
	EXPECT_EQ(render_json(std::vector<Record>{}), "[]\n");
}

TEST(Render, FlowsJson)
{
	EXPECT_EQ(render_json(std::vector<Record>{ to_record(sample_flow()), to_record(sample_flow6()) }),
		  "[{\"ifindex\":3,\"proto\":\"tcp\",\"saddr\":\"203.0.113.7\",\"sport\":40000,"
		  "\"daddr\":\"198.51.100.1\",\"dport\":80,\"node\":2,\"gateway\":0,"
		  "\"state\":\"established\",\"idle_ms\":350},"
		  "{\"ifindex\":3,\"proto\":\"udp\",\"saddr\":\"2001:db8::7\",\"sport\":5353,"
		  "\"daddr\":\"2001:db8:1::1\",\"dport\":53,\"node\":1,\"gateway\":4,"
		  "\"state\":\"udp\",\"idle_ms\":190000}]\n");
}

TEST(Render, FlowStatesAndProtos)
{
	Flow f = sample_flow();
	f.state = FlowState::closing;
	f.proto = 132;
	std::string j = render_json(to_record(f));
	EXPECT_NE(j.find("\"state\":\"closing\""), std::string::npos) << j;
	EXPECT_NE(j.find("\"proto\":\"132\""), std::string::npos) << j;
	f.state = FlowState::unknown;
	EXPECT_NE(render_json(to_record(f)).find("\"state\":\"unknown\""), std::string::npos);
}

Region sample_region()
{
	Region r;
	r.ifname = "shml0";
	r.ifindex = 3;
	return r;
}

TEST(Render, ShowWithoutTheGlobalNetwork)
{
	Region r = sample_region();
	std::string t = render_text({ to_record(r) });
	std::string j = render_json(to_record(r));
	for (const char *k : { "global", "policy", "flow_slots" }) {
		EXPECT_EQ(t.find(k), std::string::npos) << t;
		EXPECT_EQ(j.find(k), std::string::npos) << j;
	}
}

TEST(Render, ShowTheGlobalNetwork)
{
	Region r = sample_region();
	r.global_ifindex = 4;
	r.global_ifname = "shmg0";
	r.policy = Policy::rr;
	r.flow_slots = 4096;
	r.globals = std::vector<Address>{ v4("198.51.100.1"), v6("2001:db8::1") };
	std::string t = render_text({ to_record(r) });
	EXPECT_NE(t.find("global_dev:     shmg0\n"), std::string::npos) << t;
	EXPECT_NE(t.find("global_ifindex: 4\n"), std::string::npos) << t;
	EXPECT_NE(t.find("policy:         rr\n"), std::string::npos) << t;
	EXPECT_NE(t.find("flow_slots:     4096\n"), std::string::npos) << t;
	EXPECT_NE(t.find("globals:        198.51.100.1, 2001:db8::1\n"), std::string::npos) << t;
	std::string j = render_json(to_record(r));
	EXPECT_NE(j.find(",\"global_dev\":\"shmg0\",\"global_ifindex\":4,\"policy\":\"rr\","
			 "\"flow_slots\":4096,\"globals\":[\"198.51.100.1\",\"2001:db8::1\"]}\n"),
		  std::string::npos)
		<< j;
}

TEST(Render, ShowNoGlobalAddresses)
{
	Region r = sample_region();
	r.policy = Policy::hash;
	r.globals = std::vector<Address>{};
	std::string t = render_text({ to_record(r) });
	EXPECT_NE(t.find("globals:        none\n"), std::string::npos) << t;
	EXPECT_NE(t.find("policy:         hash\n"), std::string::npos) << t;
	EXPECT_NE(render_json(to_record(r)).find("\"globals\":[]"), std::string::npos);
}

TEST(Render, FlowEvents)
{
	FlowEvent nw{ true, sample_flow(), std::nullopt };
	nw.flow.state = FlowState::syn;
	nw.flow.idle_ms = 0;
	EXPECT_EQ(render_text_line(to_record(Event{ nw }), flow_columns()),
		  "flow new, ifindex 3, proto tcp, peer 203.0.113.7:40000, global 198.51.100.1:80, "
		  "node 2, gateway 0, state syn, idle 0ms\n");
	FlowEvent del{ false, sample_flow6(), FlowReason::node_down };
	EXPECT_EQ(render_text_line(to_record(Event{ del }), flow_columns()),
		  "flow del, ifindex 3, proto udp, peer [2001:db8::7]:5353, global [2001:db8:1::1]:53, "
		  "node 1, gateway 4, state udp, idle 3m10s, reason node_down\n");
	EXPECT_EQ(render_json(to_record(Event{ del })),
		  "{\"flow\":\"del\",\"ifindex\":3,\"proto\":\"udp\",\"saddr\":\"2001:db8::7\","
		  "\"sport\":5353,\"daddr\":\"2001:db8:1::1\",\"dport\":53,\"node\":1,"
		  "\"gateway\":4,\"state\":\"udp\",\"idle_ms\":190000,\"reason\":\"node_down\"}\n");
	for (auto [r, name] : { std::pair{ FlowReason::rst, "rst" },
				std::pair{ FlowReason::timeout, "timeout" },
				std::pair{ FlowReason::evicted, "evicted" },
				std::pair{ FlowReason::handed_back, "handed_back" } }) {
		del.reason = r;
		EXPECT_NE(render_json(to_record(del)).find(std::string("\"reason\":\"") + name + "\""),
			  std::string::npos);
	}
}

TEST(Render, NodeEventThroughTheVariant)
{
	Event e = NodeEvent{ 3, 2, NodeState::up, 5 };
	EXPECT_EQ(render_text_line(to_record(e)), "node 2, ifindex 3, state up, epoch 5\n");
}

// ---- netlink messages, built and parsed without a socket ----

namespace {

constexpr int fam = 0x1f;

// The top-level attributes of a generic netlink message of @msg.
struct Parsed {
	genlmsghdr *g = nullptr;
	nlattr *tb[SHMNIC_A_MAX + 1] = {};
};

Parsed parse_genl(const Msg &msg)
{
	Parsed p;
	nlmsghdr *nlh = nlmsg_hdr(msg.get());
	EXPECT_EQ(nlh->nlmsg_type, fam);
	p.g = static_cast<genlmsghdr *>(nlmsg_data(nlh));
	EXPECT_EQ(genlmsg_parse(nlh, 0, p.tb, SHMNIC_A_MAX, nullptr), 0);
	return p;
}

void put_flow(nl_msg *m, const Flow &f, std::optional<std::uint8_t> reason = std::nullopt)
{
	nlattr *nest = nla_nest_start(m, SHMNIC_A_FLOW);
	ASSERT_NE(nest, nullptr);
	nla_put_u8(m, SHMNIC_FLOW_A_FAMILY, f.saddr.v6 ? AF_INET6 : AF_INET);
	nla_put_u8(m, SHMNIC_FLOW_A_PROTO, f.proto);
	nla_put(m, SHMNIC_FLOW_A_SADDR, static_cast<int>(f.saddr.size()), f.saddr.bytes.data());
	nla_put_u16(m, SHMNIC_FLOW_A_SPORT, f.sport);
	nla_put(m, SHMNIC_FLOW_A_DADDR, static_cast<int>(f.daddr.size()), f.daddr.bytes.data());
	nla_put_u16(m, SHMNIC_FLOW_A_DPORT, f.dport);
	nla_put_u32(m, SHMNIC_FLOW_A_NODE, f.node);
	nla_put_u32(m, SHMNIC_FLOW_A_GATEWAY, f.gateway);
	nla_put_u8(m, SHMNIC_FLOW_A_STATE, SHMNIC_FLOW_STATE_ESTABLISHED);
	if (f.idle_ms)
		nla_put_u32(m, SHMNIC_FLOW_A_IDLE_MS, *f.idle_ms);
	if (reason)
		nla_put_u8(m, SHMNIC_FLOW_A_REASON, *reason);
	nla_nest_end(m, nest);
}

} // namespace

TEST(Message, GlobalAddIPv4)
{
	Msg m = global_request(fam, true, 4, v4("198.51.100.1"));
	EXPECT_TRUE(nlmsg_hdr(m.get())->nlmsg_flags & NLM_F_ACK);
	Parsed p = parse_genl(m);
	EXPECT_EQ(p.g->cmd, SHMNIC_CMD_GLOBAL_ADD);
	EXPECT_EQ(p.g->version, SHMNIC_GENL_VERSION);
	ASSERT_TRUE(p.tb[SHMNIC_A_IFINDEX]);
	EXPECT_EQ(nla_get_u32(p.tb[SHMNIC_A_IFINDEX]), 4u);
	ASSERT_TRUE(p.tb[SHMNIC_A_ADDR]);
	ASSERT_EQ(nla_len(p.tb[SHMNIC_A_ADDR]), 4);
	EXPECT_EQ(std::memcmp(nla_data(p.tb[SHMNIC_A_ADDR]), "\xc6\x33\x64\x01", 4), 0);
}

TEST(Message, GlobalDelIPv6)
{
	Address a = v6("2001:db8::1");
	Msg m = global_request(fam, false, 4, a);
	Parsed p = parse_genl(m);
	EXPECT_EQ(p.g->cmd, SHMNIC_CMD_GLOBAL_DEL);
	ASSERT_TRUE(p.tb[SHMNIC_A_ADDR]);
	ASSERT_EQ(nla_len(p.tb[SHMNIC_A_ADDR]), 16);
	EXPECT_EQ(std::memcmp(nla_data(p.tb[SHMNIC_A_ADDR]), a.bytes.data(), 16), 0);
}

TEST(Message, SetPolicyOnly)
{
	Msg m = set_request(fam, 3, std::nullopt, std::nullopt, Policy::rr);
	Parsed p = parse_genl(m);
	EXPECT_EQ(p.g->cmd, SHMNIC_CMD_SET);
	EXPECT_EQ(nla_get_u32(p.tb[SHMNIC_A_IFINDEX]), 3u);
	ASSERT_TRUE(p.tb[SHMNIC_A_POLICY]);
	EXPECT_EQ(nla_len(p.tb[SHMNIC_A_POLICY]), 1);
	EXPECT_EQ(nla_get_u8(p.tb[SHMNIC_A_POLICY]), SHMNIC_POLICY_RR);
	EXPECT_FALSE(p.tb[SHMNIC_A_MTU]);
	EXPECT_FALSE(p.tb[SHMNIC_A_RX_DEPTH]);
	Msg h = set_request(fam, 3, std::nullopt, std::nullopt, Policy::hash);
	EXPECT_EQ(nla_get_u8(parse_genl(h).tb[SHMNIC_A_POLICY]), SHMNIC_POLICY_HASH);
}

TEST(Message, SetWithoutPolicy)
{
	Msg m = set_request(fam, 3, 9000u, 128u, std::nullopt);
	Parsed p = parse_genl(m);
	EXPECT_EQ(nla_get_u32(p.tb[SHMNIC_A_MTU]), 9000u);
	EXPECT_EQ(nla_get_u32(p.tb[SHMNIC_A_RX_DEPTH]), 128u);
	EXPECT_FALSE(p.tb[SHMNIC_A_POLICY]);
}

TEST(Message, FlowsDumpEveryDevice)
{
	Msg m = genl_request(fam, SHMNIC_CMD_GET_FLOWS, NLM_F_DUMP, 0);
	EXPECT_EQ(nlmsg_hdr(m.get())->nlmsg_flags & NLM_F_DUMP, NLM_F_DUMP);
	Parsed p = parse_genl(m);
	EXPECT_EQ(p.g->cmd, SHMNIC_CMD_GET_FLOWS);
	EXPECT_FALSE(p.tb[SHMNIC_A_IFINDEX]);
}

struct RtAddr {
	nlmsghdr *nlh;
	ifaddrmsg *ifa;
	nlattr *tb[IFA_MAX + 1] = {};
};

RtAddr parse_rt(const Msg &m)
{
	RtAddr r;
	r.nlh = nlmsg_hdr(m.get());
	r.ifa = static_cast<ifaddrmsg *>(nlmsg_data(r.nlh));
	EXPECT_EQ(nlmsg_parse(r.nlh, sizeof(ifaddrmsg), r.tb, IFA_MAX, nullptr), 0);
	return r;
}

TEST(Message, AddressAddIPv4)
{
	Msg m = addr_request(true, 7, v4("198.51.100.1"));
	RtAddr r = parse_rt(m);
	EXPECT_EQ(r.nlh->nlmsg_type, RTM_NEWADDR);
	EXPECT_EQ(r.nlh->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL | NLM_F_REPLACE),
		  NLM_F_CREATE | NLM_F_EXCL);
	EXPECT_EQ(r.ifa->ifa_family, AF_INET);
	EXPECT_EQ(r.ifa->ifa_prefixlen, 32);
	EXPECT_EQ(r.ifa->ifa_index, 7u);
	EXPECT_EQ(r.ifa->ifa_scope, RT_SCOPE_UNIVERSE);
	EXPECT_EQ(r.ifa->ifa_flags & IFA_F_NODAD, 0);
	ASSERT_TRUE(r.tb[IFA_LOCAL]);
	ASSERT_EQ(nla_len(r.tb[IFA_LOCAL]), 4);
	EXPECT_EQ(std::memcmp(nla_data(r.tb[IFA_LOCAL]), "\xc6\x33\x64\x01", 4), 0);
}

TEST(Message, AddressAddIPv6NoDad)
{
	Address a = v6("2001:db8::1");
	Msg m = addr_request(true, 7, a);
	RtAddr r = parse_rt(m);
	EXPECT_EQ(r.nlh->nlmsg_type, RTM_NEWADDR);
	EXPECT_TRUE(r.nlh->nlmsg_flags & NLM_F_EXCL);
	EXPECT_EQ(r.ifa->ifa_family, AF_INET6);
	EXPECT_EQ(r.ifa->ifa_prefixlen, 128);
	std::uint32_t flags = r.ifa->ifa_flags;
	if (r.tb[IFA_FLAGS])
		flags = nla_get_u32(r.tb[IFA_FLAGS]);
	EXPECT_EQ(flags, static_cast<std::uint32_t>(IFA_F_NODAD));
	ASSERT_TRUE(r.tb[IFA_LOCAL]);
	ASSERT_EQ(nla_len(r.tb[IFA_LOCAL]), 16);
	EXPECT_EQ(std::memcmp(nla_data(r.tb[IFA_LOCAL]), a.bytes.data(), 16), 0);
}

TEST(Message, AddressDel)
{
	Msg m = addr_request(false, 7, v6("2001:db8::1"));
	RtAddr r = parse_rt(m);
	EXPECT_EQ(r.nlh->nlmsg_type, RTM_DELADDR);
	EXPECT_EQ(r.nlh->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL), 0);
	EXPECT_EQ(r.ifa->ifa_prefixlen, 128);
	EXPECT_EQ(r.ifa->ifa_index, 7u);
	ASSERT_TRUE(r.tb[IFA_LOCAL]);
	EXPECT_EQ(nla_len(r.tb[IFA_LOCAL]), 16);
}

TEST(Message, ParseRegionWithTheGlobalNetwork)
{
	Msg m = genl_request(fam, SHMNIC_CMD_GET_REGION, 0, 3);
	nla_put_string(m.get(), SHMNIC_A_IFNAME, "shml0");
	nla_put_u32(m.get(), SHMNIC_A_GLOBAL_IFINDEX, 4);
	nla_put_string(m.get(), SHMNIC_A_GLOBAL_IFNAME, "shmg0");
	nla_put_u8(m.get(), SHMNIC_A_POLICY, SHMNIC_POLICY_RR);
	nla_put_u32(m.get(), SHMNIC_A_FLOW_SLOTS, 4096);
	nlattr *g = nla_nest_start(m.get(), SHMNIC_A_GLOBALS);
	Address a4 = v4("198.51.100.1"), a6 = v6("2001:db8::1");
	nla_put(m.get(), SHMNIC_A_ADDR, 4, a4.bytes.data());
	nla_put(m.get(), SHMNIC_A_ADDR, 16, a6.bytes.data());
	nla_put(m.get(), SHMNIC_A_ADDR, 5, a6.bytes.data());	// ignored
	nla_nest_end(m.get(), g);
	Region r = parse_region(parse_genl(m).tb);
	EXPECT_EQ(r.ifindex, 3u);
	EXPECT_EQ(r.ifname, "shml0");
	EXPECT_EQ(r.global_ifindex, 4u);
	EXPECT_EQ(r.global_ifname, "shmg0");
	EXPECT_EQ(r.policy, Policy::rr);
	EXPECT_EQ(r.flow_slots, 4096u);
	ASSERT_TRUE(r.globals);
	EXPECT_EQ(*r.globals, (std::vector<Address>{ a4, a6 }));
}

TEST(Message, ParseRegionWithoutTheGlobalNetwork)
{
	Msg m = genl_request(fam, SHMNIC_CMD_GET_REGION, 0, 3);
	nla_put_u32(m.get(), SHMNIC_A_MTU, 1500);
	Region r = parse_region(parse_genl(m).tb);
	EXPECT_EQ(r.mtu, 1500u);
	EXPECT_FALSE(r.global_ifindex);
	EXPECT_FALSE(r.global_ifname);
	EXPECT_FALSE(r.policy);
	EXPECT_FALSE(r.flow_slots);
	EXPECT_FALSE(r.globals);
}

TEST(Message, ParseFlowIPv4AndIPv6)
{
	for (const Flow &want : { sample_flow(), sample_flow6() }) {
		Msg m = genl_request(fam, SHMNIC_CMD_GET_FLOWS, 0, 3);
		put_flow(m.get(), want);
		auto f = parse_flow(parse_genl(m).tb);
		ASSERT_TRUE(f);
		EXPECT_EQ(f->ifindex, 3u);
		EXPECT_EQ(f->proto, want.proto);
		EXPECT_EQ(f->saddr, want.saddr);
		EXPECT_EQ(f->sport, want.sport);
		EXPECT_EQ(f->daddr, want.daddr);
		EXPECT_EQ(f->dport, want.dport);
		EXPECT_EQ(f->node, want.node);
		EXPECT_EQ(f->gateway, want.gateway);
		EXPECT_EQ(f->state, FlowState::established);
		EXPECT_EQ(f->idle_ms, want.idle_ms);
	}
}

TEST(Message, ParseFlowRefusesMismatchedAddresses)
{
	Flow f = sample_flow();
	f.daddr = v6("2001:db8::1");
	Msg m = genl_request(fam, SHMNIC_CMD_GET_FLOWS, 0, 3);
	put_flow(m.get(), f);
	EXPECT_FALSE(parse_flow(parse_genl(m).tb));
	Msg none = genl_request(fam, SHMNIC_CMD_GET_FLOWS, 0, 3);
	EXPECT_FALSE(parse_flow(parse_genl(none).tb));
}

TEST(Message, ParseEvents)
{
	Msg m = genl_request(fam, SHMNIC_CMD_FLOW_DEL, 0, 3);
	genlmsg_hdr(nlmsg_hdr(m.get()))->cmd = SHMNIC_CMD_FLOW_DEL;
	put_flow(m.get(), sample_flow6(), SHMNIC_FLOW_REASON_TIMEOUT);
	auto e = parse_event(nlmsg_hdr(m.get()));
	ASSERT_TRUE(e);
	ASSERT_TRUE(std::holds_alternative<FlowEvent>(*e));
	const auto &fe = std::get<FlowEvent>(*e);
	EXPECT_FALSE(fe.added);
	EXPECT_EQ(fe.reason, FlowReason::timeout);
	EXPECT_EQ(fe.flow.saddr, v6("2001:db8::7"));

	Msg n = genl_request(fam, SHMNIC_CMD_FLOW_NEW, 0, 3);
	put_flow(n.get(), sample_flow());
	e = parse_event(nlmsg_hdr(n.get()));
	ASSERT_TRUE(e);
	EXPECT_TRUE(std::get<FlowEvent>(*e).added);
	EXPECT_FALSE(std::get<FlowEvent>(*e).reason);

	Msg node = genl_request(fam, SHMNIC_CMD_NODE_EVENT, 0, 3);
	nlattr *nest = nla_nest_start(node.get(), SHMNIC_A_NODE);
	nla_put_u32(node.get(), SHMNIC_NODE_A_ID, 2);
	nla_put_u8(node.get(), SHMNIC_NODE_A_STATE, SHMNIC_NODE_STATE_DOWN);
	nla_put_u32(node.get(), SHMNIC_NODE_A_EPOCH, 9);
	nla_nest_end(node.get(), nest);
	e = parse_event(nlmsg_hdr(node.get()));
	ASSERT_TRUE(e);
	const auto &ne = std::get<NodeEvent>(*e);
	EXPECT_EQ(ne.id, 2u);
	EXPECT_EQ(ne.state, NodeState::down);
	EXPECT_EQ(ne.epoch, 9u);

	Msg other = genl_request(fam, SHMNIC_CMD_GET_FLOWS, 0, 3);
	put_flow(other.get(), sample_flow());
	EXPECT_FALSE(parse_event(nlmsg_hdr(other.get())));
}

// shmnic-nlprobe's requests (probe.cpp): built exactly as described, and
// the kernel's answers read with their extack attributes.

TEST(Probe, RawRequestKeepsBadAttributes)
{
	using namespace shmnicctl::probe;
	Msg m = raw_request(fam, SHMNIC_CMD_SET, 0,
			    { u8_attr(SHMNIC_A_POLICY, 3), u32_attr(SHMNIC_A_MAX + 5, 7),
			      bytes_attr(SHMNIC_A_ADDR, 5) });
	nlmsghdr *nlh = nlmsg_hdr(m.get());
	EXPECT_TRUE(nlh->nlmsg_flags & NLM_F_ACK);
	EXPECT_EQ(static_cast<genlmsghdr *>(nlmsg_data(nlh))->cmd, SHMNIC_CMD_SET);
	// walk the attributes by hand: a policy-less parse would drop type 28
	std::vector<std::pair<int, int>> seen;
	nlattr *a;
	int rem;
	nla_for_each_attr(a, genlmsg_attrdata(static_cast<genlmsghdr *>(nlmsg_data(nlh)), 0),
			  genlmsg_attrlen(static_cast<genlmsghdr *>(nlmsg_data(nlh)), 0), rem)
		seen.emplace_back(nla_type(a), nla_len(a));
	std::vector<std::pair<int, int>> want{ { SHMNIC_A_POLICY, 1 }, { SHMNIC_A_MAX + 5, 4 },
					       { SHMNIC_A_ADDR, 5 } };
	EXPECT_EQ(seen, want);
	EXPECT_EQ(bytes_attr(SHMNIC_A_ADDR, 4).data, (std::vector<std::uint8_t>{ 10, 98, 0, 1 }));
}

TEST(Probe, BadCasesAreDistinctAndShaped)
{
	using namespace shmnicctl::probe;
	std::vector<Case> cases = bad_cases(Target{ fam, 5, 1, 99999 });
	ASSERT_GE(cases.size(), 20u);
	std::set<std::string> names;
	const Case *three = nullptr, *unknown = nullptr, *flows = nullptr;
	for (const Case &c : cases) {
		EXPECT_TRUE(names.insert(c.name).second) << c.name;
		ASSERT_FALSE(c.errs.empty()) << c.name;
		for (int e : c.errs)
			EXPECT_NE(e, 0) << c.name << ": a bad case must be refused";
		if (c.name == "global_add_addr_3_bytes")
			three = &c;
		if (c.name == "set_unknown_attr")
			unknown = &c;
		if (c.name == "get_flows_ifindex_bogus")
			flows = &c;
	}
	ASSERT_TRUE(three && unknown && flows);
	Parsed p = parse_genl(three->msg);
	EXPECT_EQ(p.g->cmd, SHMNIC_CMD_GLOBAL_ADD);
	ASSERT_TRUE(p.tb[SHMNIC_A_ADDR]);
	EXPECT_EQ(nla_len(p.tb[SHMNIC_A_ADDR]), 3);
	EXPECT_EQ(nla_get_u32(p.tb[SHMNIC_A_IFINDEX]), 5u);
	EXPECT_EQ(three->errs, std::vector<int>{ ERANGE });
	EXPECT_EQ(unknown->errs, std::vector<int>{ EINVAL });
	EXPECT_TRUE(flows->dump);
	EXPECT_EQ(nlmsg_hdr(flows->msg.get())->nlmsg_flags & NLM_F_DUMP, NLM_F_DUMP);
	EXPECT_EQ(nla_get_u32(parse_genl(flows->msg).tb[SHMNIC_A_IFINDEX]), 99999u);
}

namespace {

// An NLMSG_ERROR as the kernel sends it with NETLINK_CAP_ACK and
// NETLINK_EXT_ACK: error, the request's header, then TLVs.
std::vector<std::uint8_t> error_message(int err, const char *msg,
					std::optional<std::uint32_t> miss)
{
	Msg m(nlmsg_alloc_simple(NLMSG_ERROR, NLM_F_CAPPED | (msg || miss ? NLM_F_ACK_TLVS : 0)));
	nlmsgerr e{};
	e.error = -err;
	e.msg.nlmsg_len = 100;	// capped: the payload is not there
	EXPECT_EQ(nlmsg_append(m.get(), &e, sizeof(e), NLMSG_ALIGNTO), 0);
	if (msg)
		nla_put_string(m.get(), NLMSGERR_ATTR_MSG, msg);
	if (miss)
		nla_put_u32(m.get(), NLMSGERR_ATTR_MISS_TYPE, *miss);
	nlmsghdr *nlh = nlmsg_hdr(m.get());
	auto *b = reinterpret_cast<std::uint8_t *>(nlh);
	return std::vector<std::uint8_t>(b, b + nlh->nlmsg_len);
}

} // namespace

TEST(Probe, ParseAnswer)
{
	using namespace shmnicctl::probe;
	auto buf = error_message(ERANGE, "integer out of range", std::nullopt);
	auto *nlh = reinterpret_cast<nlmsghdr *>(buf.data());
	auto a = parse_answer(nlh, static_cast<int>(buf.size()));
	ASSERT_TRUE(a);
	EXPECT_EQ(a->err, ERANGE);
	EXPECT_EQ(a->msg, "integer out of range");
	EXPECT_FALSE(a->miss_type);

	buf = error_message(EINVAL, nullptr, SHMNIC_A_ADDR);
	a = parse_answer(reinterpret_cast<nlmsghdr *>(buf.data()), static_cast<int>(buf.size()));
	ASSERT_TRUE(a);
	EXPECT_EQ(a->err, EINVAL);
	EXPECT_EQ(a->msg, "");
	EXPECT_EQ(a->miss_type, std::optional<std::uint32_t>(SHMNIC_A_ADDR));

	buf = error_message(0, nullptr, std::nullopt);	// an ack
	a = parse_answer(reinterpret_cast<nlmsghdr *>(buf.data()), static_cast<int>(buf.size()));
	ASSERT_TRUE(a);
	EXPECT_EQ(a->err, 0);
	// a truncated message is no answer
	EXPECT_FALSE(parse_answer(reinterpret_cast<nlmsghdr *>(buf.data()), 10));

	// the end of a failed dump: the errno, then the message
	Msg done(nlmsg_alloc_simple(NLMSG_DONE, NLM_F_MULTI | NLM_F_ACK_TLVS));
	int e = -ENODEV;
	ASSERT_EQ(nlmsg_append(done.get(), &e, sizeof(e), NLMSG_ALIGNTO), 0);
	nla_put_string(done.get(), NLMSGERR_ATTR_MSG, "no shmnic device with this ifindex");
	nlmsghdr *d = nlmsg_hdr(done.get());
	a = parse_answer(d, static_cast<int>(d->nlmsg_len));
	ASSERT_TRUE(a);
	EXPECT_EQ(a->err, ENODEV);
	EXPECT_EQ(a->msg, "no shmnic device with this ifindex");

	Msg other = genl_request(fam, SHMNIC_CMD_GET_REGION, 0, 0);
	EXPECT_FALSE(parse_answer(nlmsg_hdr(other.get()),
				  static_cast<int>(nlmsg_hdr(other.get())->nlmsg_len)));
	EXPECT_EQ(errno_name(EINVAL), "EINVAL");
	EXPECT_EQ(errno_name(0), "0");
}

TEST(Grammar, ObjectsShowWithOptionalVerb)
{
	EXPECT_EQ(parse({ "region" }).cmd, Cmd::show);
	EXPECT_EQ(parse({ "region", "show", "dev", "shmg0" }).dev, "shmg0");
	EXPECT_EQ(parse({ "node", "show" }).cmd, Cmd::nodes);
	EXPECT_EQ(parse({ "-j", "node", "dev", "shml0" }).dev, "shml0");
	EXPECT_EQ(parse({ "flow", "show", "dev", "shmg0" }).cmd, Cmd::flows);
	EXPECT_EQ(usage_error({ "node", "show", "shml0" }), "node: unexpected argument 'shml0'");
	EXPECT_EQ(usage_error({ "flow", "list" }), "flow: unexpected argument 'list'");
}

TEST(Grammar, DeviceSet)
{
	Options o = parse({ "device", "set", "dev", "shml0", "mtu", "9000", "ring-depth", "128" });
	EXPECT_EQ(o.cmd, Cmd::set);
	EXPECT_EQ(o.dev, "shml0");
	EXPECT_EQ(o.mtu, 9000u);
	EXPECT_EQ(o.ring_depth, 128u);
	EXPECT_EQ(o.policy, Policy::unknown);
	o = parse({ "device", "set", "mtu", "1500", "dev", "shmg0", "policy", "rr" });
	EXPECT_EQ(o.dev, "shmg0");
	EXPECT_EQ(o.mtu, 1500u);
	EXPECT_EQ(o.policy, Policy::rr);
	o = parse({ "device", "set", "policy", "hash" });
	EXPECT_TRUE(o.dev.empty());
	EXPECT_EQ(o.policy, Policy::hash);
}

TEST(Grammar, DeviceSetErrors)
{
	EXPECT_EQ(usage_error({ "device" }),
		  "device: set what? (device set dev DEV KEY VALUE...)");
	EXPECT_EQ(usage_error({ "device", "set" }),
		  "device set: nothing to set (mtu N, ring-depth N, policy rr|hash)");
	EXPECT_EQ(usage_error({ "device", "set", "mtu", "9000" }),
		  "device set: which device? (dev DEV)");
	EXPECT_EQ(usage_error({ "device", "set", "dev", "shml0", "speed", "1" }),
		  "device set: unknown setting 'speed' (mtu, ring-depth, policy)");
	EXPECT_EQ(usage_error({ "device", "set", "dev", "shml0", "mtu" }),
		  "device set: mtu needs a value");
	EXPECT_EQ(usage_error({ "device", "set", "dev", "shml0", "mtu", "1", "mtu", "2" }),
		  "device set: mtu given twice");
	EXPECT_EQ(usage_error({ "device", "set", "policy" }),
		  "device set: policy needs a value (rr, hash)");
	EXPECT_EQ(usage_error({ "device", "set", "policy", "rr", "policy", "rr" }),
		  "device set: policy given twice");
	EXPECT_EQ(usage_error({ "device", "set", "policy", "lc" }),
		  "device set: unknown policy 'lc' (rr, hash)");
	EXPECT_EQ(usage_error({ "device", "set", "dev", "a", "dev", "b", "mtu", "1" }),
		  "device set: dev given twice");
}

TEST(Grammar, GlobalWithAddrKey)
{
	Options o = parse({ "global", "add", "dev", "shmg0", "addr", "198.51.100.1" });
	EXPECT_EQ(o.cmd, Cmd::global_add);
	EXPECT_EQ(o.dev, "shmg0");
	EXPECT_EQ(o.addr, v4("198.51.100.1"));
	o = parse({ "global", "del", "addr", "2001:db8::1", "dev", "shmg0" });
	EXPECT_EQ(o.cmd, Cmd::global_del);
	EXPECT_EQ(o.addr, v6("2001:db8::1"));
	EXPECT_EQ(usage_error({ "global", "add", "dev", "shmg0", "addr" }),
		  "global add: addr needs an address");
}

TEST(Grammar, UsageShowsTheGrammarAndTheOldSpellings)
{
	const std::string u = usage();
	for (const char *w : { "OBJECT [VERB] [dev DEV] [KEY VALUE]", "region [show]", "node [show]",
			       "flow [show]", "device set [dev DEV]", "old spellings" })
		EXPECT_NE(u.find(w), std::string::npos) << w;
}
