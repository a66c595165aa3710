// SPDX-License-Identifier: GPL-2.0
// Unit tests: option parsing and peer id allocation.
#include "options.h"
#include "peer_table.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>

using namespace ivshmem;

namespace {

Options parse(std::initializer_list<const char *> args)
{
	std::vector<std::string> storage{ "ivshmem-server" };
	storage.insert(storage.end(), args.begin(), args.end());
	std::vector<char *> argv;
	for (auto &s : storage)
		argv.push_back(s.data());
	argv.push_back(nullptr);
	return parse_options(static_cast<int>(storage.size()), argv.data());
}

Peer peer(std::uint16_t id)
{
	return Peer{ .id = id, .sock = {}, .eventfds = {} };
}

} // namespace

TEST(ParseSize, Suffixes)
{
	EXPECT_EQ(parse_size("4096"), 4096u);
	EXPECT_EQ(parse_size("1K"), 1024u);
	EXPECT_EQ(parse_size("64k"), 64u << 10);
	EXPECT_EQ(parse_size("4M"), 4u << 20);
	EXPECT_EQ(parse_size("2G"), 2ull << 30);
	EXPECT_EQ(parse_size("1T"), std::nullopt);
	EXPECT_EQ(parse_size("0"), 0u);
}

TEST(ParseSize, Malformed)
{
	for (const char *s : { "", "M", "4X", "4MB", "-1", " 4", "4 ", "0x10", "99999999999999999999",
			       "17179869184G", "1T" })
		EXPECT_EQ(parse_size(s), std::nullopt) << "'" << s << "'";
}

TEST(ParseOptions, Defaults)
{
	Options o = parse({ "-S", "/tmp/s", "-M", "shm" });
	EXPECT_FALSE(o.foreground);
	EXPECT_FALSE(o.verbose);
	EXPECT_FALSE(o.keep_departed);
	EXPECT_EQ(o.socket_path, "/tmp/s");
	EXPECT_EQ(o.shm_name, "shm");
	EXPECT_EQ(o.shm_dir, "");
	EXPECT_EQ(o.shm_size, 4u << 20);
	EXPECT_EQ(o.vectors, 1u);
	EXPECT_EQ(o.max_peers, 16u);
}

TEST(ParseOptions, AllFlags)
{
	Options o = parse({ "-F", "-v", "-K", "-p", "/tmp/pid", "-S", "/tmp/s", "-m", "/dev/hugepages",
			    "-l", "2M", "-n", "64", "-N", "65536" });
	EXPECT_TRUE(o.foreground);
	EXPECT_TRUE(o.verbose);
	EXPECT_TRUE(o.keep_departed);
	EXPECT_EQ(o.pid_file, "/tmp/pid");
	EXPECT_EQ(o.shm_dir, "/dev/hugepages");
	EXPECT_EQ(o.shm_size, 2u << 20);
	EXPECT_EQ(o.vectors, 64u);
	EXPECT_EQ(o.max_peers, 65536u);
	EXPECT_TRUE(parse({ "-h" }).help);
}

TEST(ParseOptions, Errors)
{
	std::vector<std::vector<const char *>> bad = {
		{},
		{ "-M", "x" },
		{ "-S", "/tmp/s" },
		{ "-S", "/tmp/s", "-M", "x", "-m", "/tmp" },
		{ "-S", "/tmp/s", "-M", "x", "-n", "0" },
		{ "-S", "/tmp/s", "-M", "x", "-n", "65" },
		{ "-S", "/tmp/s", "-M", "x", "-n", "1x" },
		{ "-S", "/tmp/s", "-M", "x", "-N", "0" },
		{ "-S", "/tmp/s", "-M", "x", "-N", "65537" },
		{ "-S", "/tmp/s", "-M", "x", "-l", "0" },
		{ "-S", "/tmp/s", "-M", "x", "-l", "1Q" },
		{ "-S", "/tmp/s", "-M", "x", "-l", "3M" },
		{ "-S", "/tmp/s", "-M", "x", "-l", "4097" },
		{ "-S", "/tmp/s", "-M", "x", "-q" },
		{ "-S", "/tmp/s", "-M", "x", "extra" },
		{ "-S" },
	};
	for (auto &args : bad) {
		std::vector<std::string> storage{ "ivshmem-server" };
		storage.insert(storage.end(), args.begin(), args.end());
		std::vector<char *> argv;
		for (auto &s : storage)
			argv.push_back(s.data());
		argv.push_back(nullptr);
		EXPECT_THROW(parse_options(static_cast<int>(storage.size()), argv.data()), UsageError)
			<< "argument count " << args.size();
	}
}

TEST(PeerTable, LowestFreeId)
{
	PeerTable t(16);

	EXPECT_EQ(t.free_id(), 0u);
	for (std::uint16_t id = 0; id < 4; id++) {
		ASSERT_EQ(t.free_id(), id);
		t.add(peer(id));
	}
	ASSERT_TRUE(t.take(1));
	EXPECT_FALSE(t.take(1));
	EXPECT_EQ(t.free_id(), 1u);
	ASSERT_TRUE(t.take(0));
	EXPECT_EQ(t.free_id(), 0u);
	t.add(peer(0));
	EXPECT_EQ(t.free_id(), 1u);
	t.add(peer(1));
	EXPECT_EQ(t.free_id(), 4u);
	EXPECT_EQ(t.size(), 4u);
	EXPECT_NE(t.find(3), nullptr);
	EXPECT_EQ(t.find(4), nullptr);
}

TEST(PeerTable, Full)
{
	PeerTable t(2);

	t.add(peer(0));
	t.add(peer(1));
	EXPECT_EQ(t.free_id(), std::nullopt);
	t.take(0);
	EXPECT_EQ(t.free_id(), 0u);
}

TEST(PeerTable, AllSixteenBitIds)
{
	PeerTable t(kMaxPeers);

	for (unsigned i = 0; i < kMaxPeers; i++)
		t.add(peer(static_cast<std::uint16_t>(i)));
	EXPECT_EQ(t.free_id(), std::nullopt);
	t.take(65535);
	EXPECT_EQ(t.free_id(), 65535u);
}

TEST(PeerTable, IteratesInIdOrder)
{
	PeerTable t(8);
	std::vector<unsigned> seen;

	for (std::uint16_t id : { 5, 2, 7, 0 })
		t.add(peer(id));
	for (auto &[id, p] : t)
		seen.push_back(p.id);
	EXPECT_EQ(seen, (std::vector<unsigned>{ 0, 2, 5, 7 }));
}
