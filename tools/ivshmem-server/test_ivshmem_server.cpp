// SPDX-License-Identifier: GPL-2.0
// End-to-end tests: run the real ivshmem-server binary and talk to it as
// fake QEMU clients.
#include "test_helpers.h"

#include <gtest/gtest.h>

#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>

using namespace ivshmem_test;

TEST(Handshake, ExactSequence)
{
	ServerProcess server({ "-l", "1M", "-n", "3" });
	ASSERT_TRUE(server.ready());

	Client a(server.socket_path);
	Handshake h = expect_handshake(a, 0, {}, 3, 1 << 20);
	EXPECT_TRUE(a.quiet());
	EXPECT_TRUE(server.wait_line("ivshmem-server: peer 0 connected"));
	// The own eventfds are three different ones.
	expect_same_eventfds(h.own, h.own);
}

TEST(Handshake, DefaultsAreFourMegabytesAndOneVector)
{
	ServerProcess server({});
	ASSERT_TRUE(server.ready());

	Client a(server.socket_path);
	expect_handshake(a, 0, {}, 1, 4 << 20);
	EXPECT_TRUE(a.quiet());
}

TEST(Peers, ExchangeEventfds)
{
	const unsigned n = 2;
	ServerProcess server({ "-l", "64K", "-n", "2" });
	ASSERT_TRUE(server.ready());

	Client a(server.socket_path);
	Handshake ha = expect_handshake(a, 0, {}, n, 64 << 10);
	ASSERT_TRUE(server.wait_line("ivshmem-server: peer 0 connected"));

	Client b(server.socket_path);
	Handshake hb = expect_handshake(b, 1, { 0 }, n, 64 << 10);
	std::vector<UniqueFd> a_sees_b = expect_new_peer(a, 1, n);
	ASSERT_TRUE(server.wait_line("ivshmem-server: peer 1 connected"));

	Client c(server.socket_path);
	Handshake hc = expect_handshake(c, 2, { 0, 1 }, n, 64 << 10);
	std::vector<UniqueFd> a_sees_c = expect_new_peer(a, 2, n);
	std::vector<UniqueFd> b_sees_c = expect_new_peer(b, 2, n);
	ASSERT_TRUE(server.wait_line("ivshmem-server: peer 2 connected"));
	EXPECT_TRUE(a.quiet());
	EXPECT_TRUE(b.quiet());
	EXPECT_TRUE(c.quiet());

	// Everybody's copy of a peer's eventfds are that peer's own eventfds.
	expect_same_eventfds(a_sees_b, hb.own);
	expect_same_eventfds(hb.peers[0], ha.own);
	expect_same_eventfds(hc.peers[0], ha.own);
	expect_same_eventfds(hc.peers[1], hb.own);
	expect_same_eventfds(a_sees_c, hc.own);
	expect_same_eventfds(b_sees_c, hc.own);
	// A kicks B's vector 1: B sees it on its own vector 1, and C, which
	// holds the same eventfd, sees it too.
	expect_same_eventfds(a_sees_b, hc.peers[1]);
}

TEST(Peers, SharedMemoryIsShared)
{
	const std::size_t size = 1 << 20;
	ServerProcess server({ "-l", "1M" });
	ASSERT_TRUE(server.ready());

	Client a(server.socket_path);
	Handshake ha = expect_handshake(a, 0, {}, 1, size);
	Client b(server.socket_path);
	Handshake hb = expect_handshake(b, 1, { 0 }, 1, size);

	auto map = [&](int fd) {
		void *p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			fail("mmap");
		return static_cast<volatile std::uint8_t *>(p);
	};
	volatile std::uint8_t *ma = map(ha.shm.get());
	volatile std::uint8_t *mb = map(hb.shm.get());

	EXPECT_EQ(mb[0], 0u) << "fresh memory is zeroed";
	ma[0] = 0xa5;
	ma[size - 1] = 0x5a;
	mb[4096] = 0x42;
	EXPECT_EQ(mb[0], 0xa5);
	EXPECT_EQ(mb[size - 1], 0x5a);
	EXPECT_EQ(ma[4096], 0x42);

	// -M names a POSIX shm object: it is the one in /dev/shm.
	UniqueFd named(open(shm_path(server.shm_name).c_str(), O_RDONLY | O_CLOEXEC));
	ASSERT_TRUE(named);
	std::uint8_t byte = 0;
	ASSERT_EQ(pread(named.get(), &byte, 1, size - 1), 1);
	EXPECT_EQ(byte, 0x5a);

	munmap(const_cast<std::uint8_t *>(ma), size);
	munmap(const_cast<std::uint8_t *>(mb), size);
}

TEST(Peers, DisconnectAndLowestFreeId)
{
	ServerProcess server({ "-n", "2", "-l", "4K" });
	ASSERT_TRUE(server.ready());

	Client a(server.socket_path);
	Handshake ha = expect_handshake(a, 0, {}, 2, 4096);
	auto b = std::make_unique<Client>(server.socket_path);
	expect_handshake(*b, 1, { 0 }, 2, 4096);
	expect_new_peer(a, 1, 2);
	Client c(server.socket_path);
	Handshake hc = expect_handshake(c, 2, { 0, 1 }, 2, 4096);
	expect_new_peer(a, 2, 2);
	expect_new_peer(*b, 2, 2);

	b->close();
	a.expect(1, false);
	c.expect(1, false);
	EXPECT_TRUE(server.wait_line("ivshmem-server: peer 1 disconnected"));
	EXPECT_TRUE(a.quiet());
	EXPECT_TRUE(c.quiet());

	// The reconnecting client gets the lowest free id, 1, and fresh eventfds.
	Client d(server.socket_path);
	Handshake hd = expect_handshake(d, 1, { 0, 2 }, 2, 4096);
	std::vector<UniqueFd> a_sees_d = expect_new_peer(a, 1, 2);
	std::vector<UniqueFd> c_sees_d = expect_new_peer(c, 1, 2);
	EXPECT_TRUE(server.wait_line("ivshmem-server: peer 1 connected"));
	expect_same_eventfds(a_sees_d, hd.own);
	expect_same_eventfds(c_sees_d, hd.own);
	expect_same_eventfds(hd.peers[0], ha.own);
	expect_same_eventfds(hd.peers[2], hc.own);

	// Id 0 leaves; the next newcomer is 0, then 3.
	a.close();
	c.expect(0, false);
	d.expect(0, false);
	Client e(server.socket_path);
	expect_handshake(e, 0, { 1, 2 }, 2, 4096);
	Client f(server.socket_path);
	expect_handshake(f, 3, { 0, 1, 2 }, 2, 4096);
}

// -K: a departed peer's eventfds stay with its id; nobody hears of the
// departure, and the next client with that id gets the same eventfds.
TEST(Peers, KeepDepartedReusesEventfds)
{
	ServerProcess server({ "-K", "-n", "2", "-l", "4K" });
	ASSERT_TRUE(server.ready());

	Client a(server.socket_path);
	Handshake ha = expect_handshake(a, 0, {}, 2, 4096);
	auto b = std::make_unique<Client>(server.socket_path);
	expect_handshake(*b, 1, { 0 }, 2, 4096);
	std::vector<UniqueFd> a_sees_b = expect_new_peer(a, 1, 2);
	Client c(server.socket_path);
	Handshake hc = expect_handshake(c, 2, { 0, 1 }, 2, 4096);
	expect_new_peer(a, 2, 2);
	expect_new_peer(*b, 2, 2);
	auto d = std::make_unique<Client>(server.socket_path);
	Handshake hd = expect_handshake(*d, 3, { 0, 1, 2 }, 2, 4096);
	std::vector<UniqueFd> a_sees_d = expect_new_peer(a, 3, 2);
	expect_new_peer(*b, 3, 2);
	expect_new_peer(c, 3, 2);

	b->close();
	d->close();
	EXPECT_TRUE(server.wait_line("ivshmem-server: peer 1 disconnected"));
	EXPECT_TRUE(server.wait_line("ivshmem-server: peer 3 disconnected"));
	EXPECT_TRUE(a.quiet());
	EXPECT_TRUE(c.quiet());

	// E takes id 1 with B's eventfds, and also gets the departed 3's.
	Client e(server.socket_path);
	Handshake he = expect_handshake(e, 1, { 0, 2, 3 }, 2, 4096);
	EXPECT_TRUE(server.wait_line("ivshmem-server: peer 1 connected"));
	EXPECT_TRUE(a.quiet());
	EXPECT_TRUE(c.quiet());
	expect_same_eventfds(a_sees_b, he.own);
	expect_same_eventfds(hc.peers[1], he.own);
	expect_same_eventfds(he.peers[0], ha.own);
	expect_same_eventfds(he.peers[3], a_sees_d);

	// F takes id 3 with D's eventfds; again nobody is told.
	Client f(server.socket_path);
	Handshake hf = expect_handshake(f, 3, { 0, 1, 2 }, 2, 4096);
	EXPECT_TRUE(a.quiet());
	EXPECT_TRUE(e.quiet());
	expect_same_eventfds(a_sees_d, hf.own);
	expect_same_eventfds(he.peers[3], hf.own);
	expect_same_eventfds(hf.peers[1], he.own);

	// A new id is announced as usual.
	Client g(server.socket_path);
	expect_handshake(g, 4, { 0, 1, 2, 3 }, 2, 4096);
	for (Client *other : { &a, &c, &e, &f })
		expect_new_peer(*other, 4, 2);
}

TEST(Peers, ClientDataIsIgnored)
{
	ServerProcess server({});
	ASSERT_TRUE(server.ready());

	Client a(server.socket_path);
	expect_handshake(a, 0, {}, 1, 4 << 20);
	a.send_junk();
	Client b(server.socket_path);
	expect_handshake(b, 1, { 0 }, 1, 4 << 20);
	expect_new_peer(a, 1, 1);
}

TEST(Peers, MaxPeersRefused)
{
	ServerProcess server({ "-N", "2" });
	ASSERT_TRUE(server.ready());

	Client a(server.socket_path);
	expect_handshake(a, 0, {}, 1, 4 << 20);
	Client b(server.socket_path);
	expect_handshake(b, 1, { 0 }, 1, 4 << 20);
	expect_new_peer(a, 1, 1);

	Client c(server.socket_path);
	EXPECT_TRUE(c.refused());
	EXPECT_TRUE(a.quiet());
	EXPECT_TRUE(b.quiet());

	// Once a slot is free again, a client is accepted into it.
	a.close();
	b.expect(0, false);
	Client d(server.socket_path);
	expect_handshake(d, 0, { 1 }, 1, 4 << 20);
	expect_new_peer(b, 0, 1);
}

TEST(Peers, StaleSocketAndShmAreReplaced)
{
	ServerProcess server({ "-l", "4K" });
	ASSERT_TRUE(server.ready());
	{
		Client a(server.socket_path);
		Handshake h = expect_handshake(a, 0, {}, 1, 4096);
		std::uint8_t dirty = 0xff;
		ASSERT_EQ(pwrite(h.shm.get(), &dirty, 1, 0), 1);
	}

	server.crash_and_restart();
	ASSERT_TRUE(server.ready());
	Client b(server.socket_path);
	Handshake h = expect_handshake(b, 0, {}, 1, 4096);
	std::uint8_t byte = 0xff;
	ASSERT_EQ(pread(h.shm.get(), &byte, 1, 0), 1);
	EXPECT_EQ(byte, 0) << "a stale shm object must be replaced by a fresh one";
}

TEST(Peers, ShmDirectory)
{
	TempDir tmp;
	std::string dir = tmp.path;
	{
		ServerProcess server({ "-m", dir, "-l", "8K" }, false);
		ASSERT_TRUE(server.ready());
		Client a(server.socket_path);
		Handshake ha = expect_handshake(a, 0, {}, 1, 8192);
		Client b(server.socket_path);
		Handshake hb = expect_handshake(b, 1, { 0 }, 1, 8192);

		std::uint8_t in = 0x77, out = 0;
		ASSERT_EQ(pwrite(ha.shm.get(), &in, 1, 100), 1);
		ASSERT_EQ(pread(hb.shm.get(), &out, 1, 100), 1);
		EXPECT_EQ(out, in);
		// The file lives in dir but has no name there.
		EXPECT_TRUE(fs::is_empty(dir));
		struct stat st;
		ASSERT_EQ(fstat(ha.shm.get(), &st), 0);
		EXPECT_EQ(st.st_nlink, 0u);
	}
	EXPECT_TRUE(fs::is_empty(dir));
}

class Termination : public ::testing::TestWithParam<int> {};

TEST_P(Termination, RemovesSocketShmAndPidFile)
{
	TempDir tmp;
	std::string pid_file = tmp.path + "/pid";
	ServerProcess server({ "-p", pid_file, "-n", "2" });
	ASSERT_TRUE(server.ready());

	EXPECT_TRUE(exists(server.socket_path));
	EXPECT_TRUE(exists(shm_path(server.shm_name)));
	std::ifstream pf(pid_file);
	pid_t pid = 0;
	pf >> pid;
	EXPECT_EQ(pid, server.pid());

	Client a(server.socket_path);
	expect_handshake(a, 0, {}, 2, 4 << 20);
	std::optional<int> status = server.stop(GetParam());
	ASSERT_TRUE(status) << "server did not exit on signal " << GetParam();
	EXPECT_TRUE(WIFEXITED(*status));
	EXPECT_EQ(WEXITSTATUS(*status), 0);
	EXPECT_FALSE(exists(server.socket_path));
	EXPECT_FALSE(exists(shm_path(server.shm_name)));
	EXPECT_FALSE(exists(pid_file));
	EXPECT_TRUE(a.refused());
}

INSTANTIATE_TEST_SUITE_P(Signals, Termination, ::testing::Values(SIGTERM, SIGINT, SIGHUP));

TEST(Daemon, DetachesAndWritesPidFile)
{
	TempDir tmp;
	ShmName shm_name;
	std::string sock = tmp.path + "/sock", pid_file = tmp.path + "/pid";
	const std::string &shm = shm_name.name;

	RunResult r = run({ "-S", sock, "-M", shm, "-p", pid_file });
	ASSERT_TRUE(WIFEXITED(r.status));
	ASSERT_EQ(WEXITSTATUS(r.status), 0) << r.err;
	EXPECT_NE(r.out.find("ivshmem-server: listening on " + sock + "\n"), std::string::npos);

	pid_t pid = 0;
	std::ifstream(pid_file) >> pid;
	ASSERT_GT(pid, 0);
	struct Killer {
		pid_t pid;
		~Killer() { kill(pid, SIGKILL); }
	} killer{ pid };
	EXPECT_EQ(kill(pid, 0), 0);
	EXPECT_EQ(getsid(pid), pid) << "the daemon leads its own session";
	{
		Client a(sock);
		expect_handshake(a, 0, {}, 1, 4 << 20);
	}

	ASSERT_EQ(kill(pid, SIGTERM), 0);
	for (int i = 0; i < kTimeoutMs / 10 && (exists(sock) || exists(pid_file)); i++)
		std::this_thread::sleep_for(std::chrono::milliseconds(10));
	EXPECT_FALSE(exists(sock));
	EXPECT_FALSE(exists(pid_file));
	EXPECT_FALSE(exists(shm_path(shm)));
}

TEST(Cli, Help)
{
	RunResult r = run({ "-h" });
	ASSERT_TRUE(WIFEXITED(r.status));
	EXPECT_EQ(WEXITSTATUS(r.status), 0);
	EXPECT_EQ(r.out.rfind("Usage: ivshmem-server", 0), 0u) << r.out;
	EXPECT_EQ(r.err, "");
}

TEST(Cli, BadArgumentsFail)
{
	TempDir tmp;
	ShmName shm_name;
	const std::string &shm = shm_name.name;
	std::string sock = tmp.path + "/sock";
	std::vector<std::vector<std::string>> bad = {
		{ "-F" },
		{ "-F", "-M", shm },
		{ "-F", "-S", sock },
		{ "-F", "-S", sock, "-M", shm, "-m", "/tmp" },
		{ "-F", "-S", sock, "-M", shm, "-n", "65" },
		{ "-F", "-S", sock, "-M", shm, "-N", "65537" },
		{ "-F", "-S", sock, "-M", shm, "-l", "0" },
		{ "-F", "-S", sock, "-M", shm, "-l", "4X" },
		{ "-F", "-S", sock, "-M", shm, "-l", "3M" },
		{ "-F", "-S", sock, "-M", shm, "-x" },
		{ "-F", "-S", sock, "-M", "bad/name" },
		{ "-F", "-S", sock, "-m", "/nonexistent-ivshmem-dir" },
		{ "-F", "-S", "/nonexistent-ivshmem-dir/sock", "-M", shm },
		{ "-F", "-S", "/tmp/" + std::string(120, 'x'), "-M", shm },
	};
	for (const auto &args : bad) {
		std::string cmd;
		for (const auto &a : args)
			cmd += " " + a;
		RunResult r = run(args);
		EXPECT_TRUE(WIFEXITED(r.status)) << cmd;
		EXPECT_NE(WEXITSTATUS(r.status), 0) << cmd;
		EXPECT_EQ(r.err.rfind("ivshmem-server: ", 0), 0u) << cmd << ": " << r.err;
		EXPECT_EQ(r.out, "") << cmd;
		EXPECT_FALSE(exists(sock)) << cmd;
		EXPECT_FALSE(exists(shm_path(shm))) << cmd;
	}
}

TEST(Cli, RefusesLiveSocketAndNonSocket)
{
	ServerProcess server({});
	ASSERT_TRUE(server.ready());
	ShmName shm_name;
	const std::string &shm = shm_name.name;

	RunResult r = run({ "-F", "-S", server.socket_path, "-M", shm });
	EXPECT_NE(WEXITSTATUS(r.status), 0);
	EXPECT_NE(r.err.find("in use"), std::string::npos) << r.err;
	EXPECT_FALSE(exists(shm_path(shm)));
	// The running server still works.
	Client a(server.socket_path);
	expect_handshake(a, 0, {}, 1, 4 << 20);

	std::string file = server.dir + "/file";
	std::ofstream(file) << "precious";
	r = run({ "-F", "-S", file, "-M", shm });
	EXPECT_NE(WEXITSTATUS(r.status), 0);
	EXPECT_NE(r.err.find("not a socket"), std::string::npos) << r.err;
	EXPECT_TRUE(exists(file));
}
