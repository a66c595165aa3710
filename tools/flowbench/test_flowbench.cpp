// SPDX-License-Identifier: GPL-2.0
// Unit tests of flowbench's framing, option parsing and summaries.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli.h"
#include "proto.h"
#include "report.h"
#include "segment.h"

using namespace flowbench;

namespace {

Command parse(std::vector<std::string_view> v) { return parse_command_line(v); }

std::string frame_body(const std::string &frame)
{
	FrameDecoder d(kMaxFrame);
	d.feed(frame);
	std::string body;
	EXPECT_EQ(d.next(body), FrameDecoder::Status::frame);
	return body;
}

}  // namespace

TEST(Frame, HeaderIsBigEndianLength)
{
	auto f = encode_frame(std::string(258, 'x'));
	ASSERT_EQ(f.size(), 4u + 258u);
	EXPECT_EQ(f.substr(0, 4), std::string("\0\0\x01\x02", 4));
	EXPECT_EQ(encode_frame(""), std::string(4, '\0'));
}

TEST(Frame, DecoderByteByByteAndBackToBack)
{
	std::string payload("a\0b\nc", 5);
	std::string stream = encode_frame(payload) + encode_frame("") + encode_frame("second");
	FrameDecoder d(100);
	std::vector<std::string> got;
	std::string body;
	for (char c : stream) {
		d.feed(std::string_view(&c, 1));
		while (d.next(body) == FrameDecoder::Status::frame)
			got.push_back(body);
	}
	ASSERT_EQ(got.size(), 3u);
	EXPECT_EQ(got[0], payload);
	EXPECT_EQ(got[1], "");
	EXPECT_EQ(got[2], "second");
	EXPECT_EQ(d.pending(), 0u);
}

TEST(Frame, PartialHeaderAndBodyNeedMore)
{
	FrameDecoder d(100);
	std::string body;
	auto f = encode_frame("hello");
	d.feed(f.substr(0, 3));
	EXPECT_EQ(d.next(body), FrameDecoder::Status::need_more);
	d.feed(f.substr(3, 4));
	EXPECT_EQ(d.next(body), FrameDecoder::Status::need_more);
	d.feed(f.substr(7));
	EXPECT_EQ(d.next(body), FrameDecoder::Status::frame);
	EXPECT_EQ(body, "hello");
}

TEST(Frame, TooLargeIsStickyAndLimitInclusive)
{
	FrameDecoder ok(5);
	std::string body;
	ok.feed(encode_frame("12345"));
	EXPECT_EQ(ok.next(body), FrameDecoder::Status::frame);

	FrameDecoder d(5);
	d.feed(encode_frame("123456"));
	EXPECT_EQ(d.next(body), FrameDecoder::Status::too_large);
	d.feed(encode_frame("1"));
	EXPECT_EQ(d.next(body), FrameDecoder::Status::too_large);
}

TEST(Frame, LargeStreamCompacts)
{
	FrameDecoder d(kMaxFrame);
	std::string body, big(70000, 'z');
	for (int i = 0; i < 20; i++) {
		d.feed(encode_frame(big + std::to_string(i)));
		ASSERT_EQ(d.next(body), FrameDecoder::Status::frame);
		EXPECT_EQ(body, big + std::to_string(i));
	}
	EXPECT_EQ(d.pending(), 0u);
}

TEST(Reply, ResponseRoundTrip)
{
	std::string payload("x\ny\0z", 5);
	auto r = parse_reply(frame_body(encode_response("node1", payload)));
	ASSERT_TRUE(r);
	EXPECT_EQ(r->name, "node1");
	EXPECT_EQ(r->payload, payload);  // the payload's own "\n" is kept
}

TEST(Reply, UdpAnswerAndBadReplies)
{
	auto r = parse_reply(encode_udp_answer("n", ""));
	ASSERT_TRUE(r);
	EXPECT_EQ(r->name, "n");
	EXPECT_EQ(r->payload, "");
	EXPECT_FALSE(parse_reply("no newline"));
	EXPECT_FALSE(parse_reply("\npayload"));  // empty name
	EXPECT_FALSE(parse_reply(std::string("a\0b\npayload", 11)));
	EXPECT_FALSE(parse_reply(std::string(256, 'n') + "\n"));
	EXPECT_TRUE(parse_reply(std::string(255, 'n') + "\n"));
}

TEST(Probe, RoundTripAndDamage)
{
	auto p = encode_probe(7, 12345, 100);
	ASSERT_EQ(p.size(), 100u);
	auto d = decode_probe(p);
	ASSERT_TRUE(d);
	EXPECT_EQ(d->flow, 7u);
	EXPECT_EQ(d->seq, 12345u);
	for (std::size_t i : {0ul, 5ul, 9ul, 13ul, 16ul, 99ul}) {
		auto bad = p;
		bad[i] = static_cast<char>(bad[i] ^ 1);
		EXPECT_FALSE(decode_probe(bad)) << "byte " << i;
	}
	EXPECT_FALSE(decode_probe(p.substr(0, 99)));  // truncated
	EXPECT_EQ(encode_probe(1, 2, 3).size(), kProbeHeader);
	EXPECT_TRUE(decode_probe(encode_probe(1, 2, 0)));
}

TEST(Cli, ServeDefaultsAndOptions)
{
	auto s = std::get<ServeOptions>(parse({"serve"}));
	EXPECT_EQ(s.port, kDefaultPort);
	EXPECT_EQ(s.bind, "");
	EXPECT_FALSE(s.udp);
	s = std::get<ServeOptions>(parse({"serve", "--port", "80", "--bind", "::", "--name", "node1", "--udp"}));
	EXPECT_EQ(s.port, 80);
	EXPECT_EQ(s.bind, "::");
	EXPECT_EQ(s.name, "node1");
	EXPECT_TRUE(s.udp);
}

TEST(Cli, ConnectRrUdp)
{
	auto c = std::get<ConnectOptions>(
		parse({"connect", "10.99.0.1", "80", "--conns", "200", "--parallel", "8", "--size", "100", "-j"}));
	EXPECT_EQ(c.addr, "10.99.0.1");
	EXPECT_EQ(c.port, 80);
	EXPECT_EQ(c.conns, 200u);
	EXPECT_EQ(c.parallel, 8u);
	EXPECT_EQ(c.size, 100u);
	EXPECT_EQ(c.requests, 1u);
	EXPECT_EQ(c.rate, 0u);
	EXPECT_TRUE(c.json);
	c = std::get<ConnectOptions>(parse({"connect", "h", "1", "--requests", "12", "--rate", "1000000"}));
	EXPECT_EQ(c.requests, 12u);
	EXPECT_EQ(c.rate, 1000000u);
	EXPECT_EQ(c.interval_ms, 0u);
	c = std::get<ConnectOptions>(parse({"connect", "h", "1", "--interval-ms", "300"}));
	EXPECT_EQ(c.interval_ms, 300u);
	// options may come first; parallel is capped by conns
	c = std::get<ConnectOptions>(parse({"connect", "--parallel", "8", "--conns", "3", "::1", "7"}));
	EXPECT_EQ(c.addr, "::1");
	EXPECT_EQ(c.parallel, 3u);
	auto st = std::get<StrayOptions>(parse({"stray", "h", "80", "--kind", "syn", "--sport", "62001"}));
	EXPECT_EQ(st.sport, 62001u);
	EXPECT_EQ(std::get<StrayOptions>(parse({"stray", "h", "80"})).sport, 0u);
	auto r = std::get<RrOptions>(parse({"rr", "h", "1", "--requests", "2000", "--timeout-ms", "50"}));
	EXPECT_EQ(r.requests, 2000u);
	EXPECT_EQ(r.timeout_ms, 50);
	EXPECT_FALSE(r.json);
	auto u = std::get<UdpOptions>(parse({"udp", "h", "1", "--flows", "4", "--packets", "9", "--retries", "0"}));
	EXPECT_EQ(u.flows, 4u);
	EXPECT_EQ(u.packets, 9u);
	EXPECT_EQ(u.retries, 0u);
	EXPECT_EQ(u.size, 64u);
	u = std::get<UdpOptions>(parse({"udp", "h", "1", "--size", "1"}));
	EXPECT_EQ(u.size, kProbeHeader);
	EXPECT_TRUE(std::holds_alternative<HelpRequest>(parse({"--help"})));
	auto s = std::get<StrayOptions>(parse({"stray", "10.99.0.1", "80", "--kind", "fin", "-j"}));
	EXPECT_EQ(s.port, 80);
	EXPECT_EQ(s.kind, StrayKind::fin);
	EXPECT_TRUE(s.json);
	EXPECT_EQ(std::get<StrayOptions>(parse({"stray", "h", "1"})).kind, StrayKind::ack);
	EXPECT_FALSE(std::get<StrayOptions>(parse({"stray", "h", "1"})).bad_checksum);
	s = std::get<StrayOptions>(parse({"stray", "h", "1", "--kind", "udp", "--bad-checksum"}));
	EXPECT_EQ(s.kind, StrayKind::udp);
	EXPECT_TRUE(s.bad_checksum);
}

TEST(Cli, Stream)
{
	auto s = std::get<StreamOptions>(parse({"stream"}));
	EXPECT_TRUE(s.addrs.empty());
	EXPECT_EQ(s.port, kDefaultPort);
	EXPECT_EQ(s.to_port, kDefaultPort);
	EXPECT_EQ(s.idle_ms, 2000);
	EXPECT_EQ(s.retry_ms, 100);
	EXPECT_EQ(s.rate, 0u);
	s = std::get<StreamOptions>(parse({"stream", "--port", "7300", "10.10.0.2", "fd00:10::3",
					   "--idle-ms", "500", "--retry-ms", "20", "--rate", "1000000", "-j"}));
	EXPECT_EQ(s.addrs, (std::vector<std::string>{"10.10.0.2", "fd00:10::3"}));
	EXPECT_EQ(s.port, 7300);
	EXPECT_EQ(s.to_port, 7300);
	EXPECT_EQ(s.idle_ms, 500);
	EXPECT_EQ(s.retry_ms, 20);
	EXPECT_EQ(s.rate, 1000000u);
	EXPECT_TRUE(s.json);
	EXPECT_EQ(std::get<StreamOptions>(parse({"stream", "--port", "1", "--to-port", "2"})).to_port, 2);
}

TEST(Cli, Errors)
{
	using V = std::vector<std::string_view>;
	for (const V &bad : {V{}, V{"bogus"}, V{"serve", "--port"}, V{"serve", "--port", "0"},
			     V{"serve", "--port", "65536"}, V{"serve", "--name", ""}, V{"serve", "x"},
			     V{"connect", "h"}, V{"connect", "h", "1", "2"}, V{"connect", "h", "1", "--conns", "0"},
			     V{"connect", "h", "1", "--conns", "12x"}, V{"connect", "h", "1", "--requests", "0"},
			     V{"connect", "h", "1", "--rate", "0"}, V{"connect", "h", "1", "--interval-ms", "0"}, V{"stray", "h", "1", "--sport", "0"}, V{"rr", "h", "1", "--rate", "5"},
			     V{"rr", "h", "1", "--flows", "2"}, V{"udp", "h", "1", "--size", "65500"},
			     V{"connect", "h", "1", "--size", "2000000"}, V{"rr", "h", "-5"},
			     V{"stray", "h", "1", "--kind", "synfin"}, V{"stray", "h", "1", "--kind"},
			     V{"stream", "--idle-ms", "99"}, V{"stream", "--to-port", "0"},
			     V{"stream", "--retry-ms"}, V{"stream", "h", "--bogus"}})
		EXPECT_THROW(parse_command_line(bad), UsageError) << (bad.empty() ? "" : bad[0]);
}

TEST(Report, Percentiles)
{
	std::vector<double> v;
	for (int i = 100; i >= 1; i--)
		v.push_back(i);
	EXPECT_EQ(percentile(v, 50), 50);
	EXPECT_EQ(percentile(v, 99), 99);
	EXPECT_EQ(percentile(v, 100), 100);
	EXPECT_EQ(percentile(v, 0), 1);
	EXPECT_EQ(percentile({}, 50), 0);
	EXPECT_EQ(percentile({7}, 99), 7);
	auto st = latency_stats({4, 1, 3, 2});
	EXPECT_EQ(st.min, 1);
	EXPECT_EQ(st.max, 4);
	EXPECT_EQ(st.median, 2);
	EXPECT_EQ(st.p99, 4);
	EXPECT_DOUBLE_EQ(st.mean, 2.5);
}

TEST(Report, JsonEscape)
{
	EXPECT_EQ(json_escape("a\"b\\c\nd\x01"), "a\\\"b\\\\c\\nd\\u0001");
	EXPECT_EQ(json_escape("n\xc3\xa9"), "n\xc3\xa9");
}

TEST(Report, ConnectVerdictAndJson)
{
	ConnectSummary s;
	s.addr = "10.99.0.1";
	s.port = 80;
	s.conns = 4;
	s.parallel = 2;
	s.size = 64;
	s.ok = 4;
	s.servers = {{"node1", 3}, {"node2", 1}};
	s.elapsed_s = 2;
	EXPECT_TRUE(s.passed());
	EXPECT_DOUBLE_EQ(s.conns_per_s(), 2);
	auto j = connect_json(s);
	EXPECT_NE(j.find("\"size\":64,\"requests\":1,"), std::string::npos) << j;
	EXPECT_NE(j.find("\"servers\":{\"node1\":3,\"node2\":1}"), std::string::npos) << j;
	EXPECT_NE(j.find("\"conns_per_s\":2.000"), std::string::npos) << j;
	EXPECT_NE(j.find("\"first_ok_s\":null,"), std::string::npos) << j;
	s.first_ok_s = 0.25;
	EXPECT_NE(connect_json(s).find("\"first_ok_s\":0.250000,"), std::string::npos);
	EXPECT_NE(j.find("\"passed\":true"), std::string::npos) << j;
	EXPECT_NE(connect_text(s).find("  node1: 3 connections\n"), std::string::npos);
	s.ok = 3;
	s.failures.add(Failure::corrupt);
	EXPECT_FALSE(s.passed());
	EXPECT_EQ(s.failures.total(), 1u);
	EXPECT_NE(connect_json(s).find("\"corrupt\":1"), std::string::npos);
	EXPECT_NE(connect_json(s).find("\"passed\":false"), std::string::npos);
}

TEST(Report, RrNeedsExactlyOneServer)
{
	RrSummary s;
	s.requests = 2;
	s.latencies_us = {10, 20};
	s.servers = {{"node1", 2}};
	s.elapsed_s = 0.5;
	EXPECT_TRUE(s.passed());
	EXPECT_DOUBLE_EQ(s.requests_per_s(), 4);
	s.servers = {{"node1", 1}, {"node2", 1}};
	EXPECT_FALSE(s.passed());
	EXPECT_NE(rr_text(s).find("2 server names on one connection"), std::string::npos);
	s.servers = {{"node1", 1}};
	s.latencies_us = {10};
	EXPECT_FALSE(s.passed());  // one request short
	s.latencies_us = {10, 20};
	s.error = "timeout";
	EXPECT_FALSE(s.passed());
	EXPECT_NE(rr_json(s).find("\"latency_us\":{\"min\":10.0,\"median\":10.0,\"p99\":20.0"), std::string::npos)
		<< rr_json(s);
}

TEST(Report, UdpTrackerStickinessLossAndCorruption)
{
	UdpTracker t(2, 3);
	for (unsigned f = 0; f < 2; f++)
		for (unsigned i = 0; i < 3; i++)
			t.sent(f, false);
	EXPECT_EQ(t.missing(0).size(), 3u);
	EXPECT_TRUE(t.answer(0, encode_udp_answer("node1", encode_probe(0, 0, 64))));
	EXPECT_TRUE(t.answer(0, encode_udp_answer("node1", encode_probe(0, 2, 64))));
	EXPECT_TRUE(t.answer(0, encode_udp_answer("node1", encode_probe(0, 2, 64))));  // duplicate
	EXPECT_EQ(t.missing(0), std::vector<std::uint32_t>{1});
	// a probe of flow 0 on flow 1's socket, a damaged one, a bad seq
	EXPECT_FALSE(t.answer(1, encode_udp_answer("node2", encode_probe(0, 1, 64))));
	auto bad = encode_udp_answer("node2", encode_probe(1, 0, 64));
	bad.back() = static_cast<char>(bad.back() ^ 0x40);
	EXPECT_FALSE(t.answer(1, bad));
	EXPECT_FALSE(t.answer(1, encode_udp_answer("node2", encode_probe(1, 3, 64))));
	EXPECT_FALSE(t.answer(1, "garbage"));
	EXPECT_EQ(t.corrupt(), 4u);
	for (unsigned i = 0; i < 3; i++)
		EXPECT_TRUE(t.answer(1, encode_udp_answer(i == 2 ? "node3" : "node2", encode_probe(1, i, 64))));
	t.sent(0, true);
	EXPECT_TRUE(t.answer(0, encode_udp_answer("node1", encode_probe(0, 1, 64))));
	EXPECT_TRUE(t.complete());
	EXPECT_EQ(udp_lost(t), 0u);
	EXPECT_EQ(t.retransmits(), 1u);
	EXPECT_EQ(t.datagrams_sent(), 7u);
	EXPECT_EQ(t.flows()[0].duplicates, 1u);
	EXPECT_EQ(non_sticky_flows(t), 1u);
	auto servers = udp_servers(t);
	EXPECT_EQ(servers["node1"], 1u);
	EXPECT_EQ(servers["node2"], 1u);
	EXPECT_EQ(servers["node3"], 1u);
	UdpSummary s;
	EXPECT_FALSE(udp_passed(s, t));  // corrupt and not sticky
	auto j = udp_json(s, t);
	EXPECT_NE(j.find("\"non_sticky_flows\":1"), std::string::npos) << j;
	EXPECT_NE(j.find("\"servers\":[\"node2\",\"node3\"],\"sticky\":false"), std::string::npos) << j;
	EXPECT_NE(udp_text(s, t).find("NOT STICKY"), std::string::npos);

	UdpTracker good(1, 2);
	good.answer(0, encode_udp_answer("a", encode_probe(0, 0, 16)));
	EXPECT_FALSE(udp_passed(s, good));  // one lost
	EXPECT_EQ(udp_lost(good), 1u);
	good.answer(0, encode_udp_answer("a", encode_probe(0, 1, 16)));
	EXPECT_TRUE(udp_passed(s, good));
}

/* --- stray segments -------------------------------------------------------- */

TEST(Segment, KindsAndTheirFlags)
{
	EXPECT_EQ(stray_flags(StrayKind::ack), (TcpFlags{.ack = true}));
	EXPECT_EQ(stray_flags(StrayKind::fin), (TcpFlags{.ack = true, .fin = true}));
	EXPECT_EQ(stray_flags(StrayKind::rst), (TcpFlags{.rst = true}));
	EXPECT_EQ(stray_flags(StrayKind::synack), (TcpFlags{.syn = true, .ack = true}));
	EXPECT_EQ(stray_flags(StrayKind::syn), (TcpFlags{.syn = true}));
	EXPECT_EQ(stray_flags(StrayKind::udp), (TcpFlags{}));
	for (auto k : {StrayKind::ack, StrayKind::fin, StrayKind::rst, StrayKind::synack,
		       StrayKind::syn, StrayKind::udp})
		EXPECT_EQ(parse_stray_kind(stray_name(k)), k);
	EXPECT_FALSE(parse_stray_kind("synfin"));
	EXPECT_EQ(flags_text({.syn = true, .ack = true}), "syn,ack");
	EXPECT_EQ(flags_text({.ack = true, .rst = true}), "rst,ack");
	EXPECT_EQ(flags_text({}), "none");
}

TEST(Segment, HeaderFieldsAndChecksum)
{
	const std::uint8_t src4[4] = {172, 31, 0, 2}, dst4[4] = {10, 99, 0, 1};
	auto h = tcp_segment(src4, dst4, 61234, 80, 0x01020304, 0x0a0b0c0d, {.ack = true, .fin = true});
	EXPECT_EQ(h[0], 61234 >> 8);
	EXPECT_EQ(h[1], 61234 & 0xff);
	EXPECT_EQ(h[3], 80);
	EXPECT_EQ(h[4], 1);
	EXPECT_EQ(h[7], 4);
	EXPECT_EQ(h[8], 0x0a);
	EXPECT_EQ(h[12], 0x50);		/* 5 words, no options */
	EXPECT_EQ(h[13], 0x11);		/* FIN|ACK */
	/* a right checksum sums to zero with the pseudo-header */
	EXPECT_EQ(tcp_checksum(src4, dst4, h), 0);
	auto bad = h;
	bad[4] ^= 1;
	EXPECT_NE(tcp_checksum(src4, dst4, bad), 0);
	/* another destination is another pseudo-header */
	const std::uint8_t other[4] = {10, 99, 0, 2};
	EXPECT_NE(tcp_checksum(src4, other, h), 0);

	std::uint8_t src6[16] = {0xfd, 0, 0, 0x31}, dst6[16] = {0xfd, 0, 0, 0x99};
	src6[15] = 2;
	dst6[15] = 1;
	auto r = tcp_segment(src6, dst6, 1, 2, 3, 4, {.rst = true});
	EXPECT_EQ(r[13], 0x04);
	EXPECT_EQ(r[8] | r[9] | r[10] | r[11], 0);	/* no ACK: ack field 0 */
	EXPECT_EQ(tcp_checksum(src6, dst6, r), 0);
	EXPECT_THROW(tcp_checksum(src4, dst6, r), std::invalid_argument);
}

TEST(Segment, UdpDatagramAndSpoiledChecksums)
{
	const std::uint8_t src4[4] = {172, 31, 0, 2}, dst4[4] = {10, 10, 0, 2};
	const std::uint8_t payload[] = {'h', 'e', 'l', 'l', 'o'};
	auto d = udp_datagram(src4, dst4, 61000, 7071, payload);
	ASSERT_EQ(d.size(), kUdpHeader + sizeof(payload));
	EXPECT_EQ(d[2] << 8 | d[3], 7071);
	EXPECT_EQ(d[4] << 8 | d[5], static_cast<int>(d.size()));
	EXPECT_NE(d[6] | d[7], 0) << "0 would mean no checksum";
	EXPECT_EQ(l4_checksum(src4, dst4, kProtoUdp, d), 0);
	EXPECT_NE(l4_checksum(src4, dst4, kProtoTcp, d), 0) << "the protocol is in the pseudo-header";
	auto bad = d;
	spoil_checksum(bad, kProtoUdp);
	EXPECT_NE(l4_checksum(src4, dst4, kProtoUdp, bad), 0);
	EXPECT_NE(bad[6] | bad[7], 0);
	auto seg = tcp_segment(src4, dst4, 61000, 7070, 1, 0, {.syn = true});
	std::vector<std::uint8_t> t(seg.begin(), seg.end());
	spoil_checksum(t, kProtoTcp);
	EXPECT_NE(tcp_checksum(src4, dst4, t), 0);
	/* every checksum value spoils into one that does not verify */
	for (unsigned c = 0; c <= 0xffff; c++) {
		std::vector<std::uint8_t> u = d;
		u[6] = static_cast<std::uint8_t>(c >> 8);
		u[7] = static_cast<std::uint8_t>(c);
		const bool was_right = l4_checksum(src4, dst4, kProtoUdp, u) == 0;
		spoil_checksum(u, kProtoUdp);
		if (was_right) {
			ASSERT_NE(l4_checksum(src4, dst4, kProtoUdp, u), 0) << c;
		}
		ASSERT_NE(u[6] | u[7], 0) << c;
	}
	std::vector<std::uint8_t> tiny(7);
	EXPECT_THROW(spoil_checksum(tiny, kProtoUdp), std::invalid_argument);
}

TEST(Segment, ParseRoundTripAndShortInput)
{
	const std::uint8_t a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8};
	auto h = tcp_segment(a, b, 4242, 8080, 1, 2, {.syn = true, .ack = true});
	auto t = parse_tcp(h);
	ASSERT_TRUE(t);
	EXPECT_EQ(t->sport, 4242);
	EXPECT_EQ(t->dport, 8080);
	EXPECT_EQ(t->flags, (TcpFlags{.syn = true, .ack = true}));
	EXPECT_FALSE(parse_tcp(std::span(h.data(), kTcpHeader - 1)));
	auto bad = h;
	bad[12] = 0x40;			/* a data offset below the header */
	EXPECT_FALSE(parse_tcp(bad));
}
