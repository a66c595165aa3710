// SPDX-License-Identifier: GPL-2.0
// shmnicctl's parsing and both renderers; no kernel needed.
#include <gtest/gtest.h>

#include "cli.h"
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
	EXPECT_NE(t.find("mac:            02:53:4d:00:00:01\n"), std::string::npos) << t;
	EXPECT_NE(t.find("tx:             packets 10, bytes 1.5 KiB, drops 0\n"),
		  std::string::npos) << t;
	EXPECT_NE(t.find("rx:             packets 9, bytes 3.0 MiB, drops 2\n"),
		  std::string::npos) << t;
}

TEST(Render, NodeJson)
{
	std::string j = render_json(std::vector<Record>{ to_record(sample_node()) });
	EXPECT_EQ(j, "[{\"node\":1,\"ifindex\":3,\"state\":\"up\",\"self\":false,\"epoch\":7,"
		     "\"mac\":\"02:53:4d:00:00:01\",\"mtu\":1500,\"rx_depth\":256,"
		     "\"heartbeat\":42,\"tx\":{\"packets\":10,\"bytes\":1536,\"drops\":0},"
		     "\"rx\":{\"packets\":9,\"bytes\":3145728,\"drops\":2}}]\n");
}

TEST(Render, AbsentNodeHasNoDetails)
{
	Node n;
	n.id = 5;
	std::string j = render_json(to_record(n));
	EXPECT_EQ(j, "{\"node\":5,\"ifindex\":0,\"state\":\"absent\",\"self\":false,\"epoch\":0}\n");
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
