// SPDX-License-Identifier: GPL-2.0
// Interoperability with QEMU's ivshmem-doorbell device. QEMU runs without a
// guest (-S) and is driven through its qtest protocol: program the PCI BARs,
// read the IVPosition register, ring doorbells, touch the shared memory.
// Skipped when qemu-system-x86_64 is not installed.
#include "test_helpers.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>

using namespace ivshmem_test;

namespace {

constexpr unsigned kDevice = 4;			// PCI 00:04.0
constexpr std::uint64_t kBar0 = 0xfe000000;	// registers
constexpr std::uint64_t kBar2 = 0xe0000000;	// shared memory
constexpr std::uint64_t kIVPosition = 8;
constexpr std::uint64_t kDoorbell = 12;

std::string find_qemu()
{
	const char *path = std::getenv("PATH");
	std::stringstream dirs(path ? path : "/usr/bin");
	std::string dir;

	while (std::getline(dirs, dir, ':')) {
		std::string exe = dir + "/qemu-system-x86_64";
		if (access(exe.c_str(), X_OK) == 0)
			return exe;
	}
	return "";
}

class Qemu {
public:
	Qemu(const std::string &exe, const std::string &socket_path, unsigned vectors)
	{
		std::vector<std::string> args{
			exe, "-machine", "q35,accel=tcg", "-S", "-display", "none", "-nodefaults",
			"-qtest", "stdio", "-qtest-log", "/dev/null",
			"-chardev", "socket,path=" + socket_path + ",id=ivs",
			"-device", "ivshmem-doorbell,chardev=ivs,vectors=" + std::to_string(vectors) +
				",addr=" + std::to_string(kDevice) + ".0",
		};
		std::vector<char *> argv;
		for (const auto &a : args)
			argv.push_back(const_cast<char *>(a.c_str()));
		argv.push_back(nullptr);

		int in[2], out[2], err[2];
		if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
			fail("pipe");
		UniqueFd in_rd(in[0]), out_wr(out[1]), err_wr(err[1]);
		in_.reset(in[1]);
		out_.reset(out[0]);
		err_.reset(err[0]);
		pid_ = fork();
		if (pid_ < 0)
			fail("fork");
		if (pid_ == 0) {
			dup2(in_rd.get(), STDIN_FILENO);
			dup2(out_wr.get(), STDOUT_FILENO);
			dup2(err_wr.get(), STDERR_FILENO);
			execv(argv[0], argv.data());
			_exit(127);
		}
	}

	~Qemu()
	{
		if (pid_ > 0) {
			kill(pid_, SIGKILL);
			waitpid(pid_, nullptr, 0);
		}
	}

	// One qtest command; returns the value of an "OK <value>" answer.
	std::uint64_t cmd(const std::string &line)
	{
		std::string request = line + "\n";
		if (write(in_.get(), request.data(), request.size()) != ssize_t(request.size()))
			fail("qtest: write '" + line + "'");
		for (;;) {
			std::string answer = read_line();
			if (answer == "OK")
				return 0;
			if (answer.rfind("OK ", 0) == 0)
				return std::stoull(answer.substr(3), nullptr, 0);
			if (answer.rfind("FAIL", 0) == 0 || answer.rfind("ERR", 0) == 0)
				fail("qtest: '" + line + "': " + answer);
		}
	}

	std::uint32_t readl(std::uint64_t addr) { return cmd("readl " + hex(addr)); }
	void writel(std::uint64_t addr, std::uint32_t v) { cmd("writel " + hex(addr) + " " + hex(v)); }

	void config_write(unsigned reg, std::uint32_t v)
	{
		cmd("outl 0xcf8 " + hex(0x80000000u | kDevice << 11 | reg));
		cmd("outl 0xcfc " + hex(v));
	}

	std::uint32_t config_read(unsigned reg)
	{
		cmd("outl 0xcf8 " + hex(0x80000000u | kDevice << 11 | reg));
		return static_cast<std::uint32_t>(cmd("inl 0xcfc"));
	}

	// Places BAR0 and BAR2 and enables memory decoding, as a guest would.
	void setup_pci()
	{
		ASSERT_EQ(config_read(0x00), 0x11101af4u) << "not an ivshmem device";
		config_write(0x10, kBar0);
		config_write(0x18, static_cast<std::uint32_t>(kBar2));
		config_write(0x1c, 0);
		config_write(0x04, 0x2);	// memory space enable
	}

	std::uint32_t ivposition() { return readl(kBar0 + kIVPosition); }
	void ring(unsigned peer, unsigned vector) { writel(kBar0 + kDoorbell, peer << 16 | vector); }

	// SIGTERM; returns the wait status, with QEMU's stderr in `errors`.
	std::optional<int> stop()
	{
		kill(pid_, SIGTERM);
		std::optional<int> status = wait_for(pid_, kTimeoutMs);
		if (status)
			pid_ = -1;
		errors = read_all(err_.get(), 0);
		return status;
	}

	std::string errors;

private:
	static std::string hex(std::uint64_t v)
	{
		std::stringstream s;
		s << "0x" << std::hex << v;
		return s.str();
	}

	std::string read_line()
	{
		std::size_t nl;
		while ((nl = buf_.find('\n')) == std::string::npos) {
			char chunk[256];
			errno = 0;
			if (!readable(out_.get(), kTimeoutMs))
				fail("qtest: no answer");
			ssize_t n = read(out_.get(), chunk, sizeof(chunk));
			if (n <= 0)
				fail("qtest: QEMU went away: " + read_all(err_.get(), 0));
			buf_.append(chunk, n);
		}
		std::string line = buf_.substr(0, nl);
		buf_.erase(0, nl + 1);
		return line;
	}

	pid_t pid_ = -1;
	UniqueFd in_, out_, err_;
	std::string buf_;
};

// QEMU takes the eventfds that follow the shared memory asynchronously, so
// ring until the peer's eventfd fires. Then check no other vector fired.
bool ring_until_readable(Qemu &q, unsigned peer, unsigned vector,
			 const std::vector<UniqueFd> &peer_eventfds)
{
	bool fired = false;

	for (int i = 0; i < kTimeoutMs / 50 && !fired; i++) {
		q.ring(peer, vector);
		fired = readable(peer_eventfds[vector].get(), 50);
	}
	for (std::size_t v = 0; v < peer_eventfds.size(); v++) {
		std::uint64_t count;
		if (v != vector && readable(peer_eventfds[v].get(), 0))
			return false;
		if (v == vector && fired &&
		    read(peer_eventfds[v].get(), &count, sizeof(count)) != sizeof(count))
			return false;
	}
	return fired;
}

// QEMU watches its own eventfds: a kick on one is read (consumed) by QEMU.
bool consumed_by_qemu(const UniqueFd &eventfd)
{
	std::uint64_t one = 1;

	if (write(eventfd.get(), &one, sizeof(one)) != sizeof(one))
		return false;
	for (int i = 0; i < kTimeoutMs / 10; i++) {
		if (!readable(eventfd.get(), 0))
			return true;
		std::this_thread::sleep_for(std::chrono::milliseconds(10));
	}
	return false;
}

void expect_clean_exit(Qemu &q)
{
	std::optional<int> status = q.stop();
	ASSERT_TRUE(status) << "QEMU did not exit on SIGTERM";
	EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
		<< "QEMU wait status " << *status << ": " << q.errors;
	EXPECT_EQ(q.errors.find("ivshmem"), std::string::npos) << q.errors;
}

} // namespace

TEST(Qemu, DoorbellsAndSharedMemory)
{
	std::string exe = find_qemu();
	if (exe.empty())
		GTEST_SKIP() << "qemu-system-x86_64 is not installed";
	ServerProcess server({ "-n", "2", "-l", "1M" });
	ASSERT_TRUE(server.ready());
	Client a(server.socket_path);
	Handshake ha = expect_handshake(a, 0, {}, 2, 1 << 20);

	Qemu q(exe, server.socket_path, 2);
	std::vector<UniqueFd> a_sees_q = expect_new_peer(a, 1, 2);
	ASSERT_TRUE(server.wait_line("ivshmem-server: peer 1 connected"));
	ASSERT_NO_FATAL_FAILURE(q.setup_pci());
	EXPECT_EQ(q.ivposition(), 1u);

	// QEMU maps the server's shared memory.
	std::uint32_t word = 0x5eedf00d;
	ASSERT_EQ(pwrite(ha.shm.get(), &word, sizeof(word), 64), 4);
	EXPECT_EQ(q.readl(kBar2 + 64), word);
	q.writel(kBar2 + 128, 0xc0ffee);
	ASSERT_EQ(pread(ha.shm.get(), &word, sizeof(word), 128), 4);
	EXPECT_EQ(word, 0xc0ffeeu);

	// Doorbells both ways.
	EXPECT_TRUE(ring_until_readable(q, 0, 1, ha.own));
	EXPECT_TRUE(ring_until_readable(q, 0, 0, ha.own));
	EXPECT_TRUE(consumed_by_qemu(a_sees_q[0]));
	EXPECT_TRUE(consumed_by_qemu(a_sees_q[1]));

	// A later peer, which QEMU learns about and then sees leave.
	auto b = std::make_unique<Client>(server.socket_path);
	Handshake hb = expect_handshake(*b, 2, { 0, 1 }, 2, 1 << 20);
	expect_new_peer(a, 2, 2);
	EXPECT_TRUE(ring_until_readable(q, 2, 1, hb.own));
	EXPECT_TRUE(consumed_by_qemu(hb.peers[1][0]));
	b.reset();
	a.expect(2, false);
	ASSERT_TRUE(server.wait_line("ivshmem-server: peer 2 disconnected"));
	EXPECT_EQ(q.ivposition(), 1u);

	expect_clean_exit(q);
	a.expect(1, false);
	EXPECT_TRUE(server.wait_line("ivshmem-server: peer 1 disconnected"));
}

// QEMU (7.2 at least) frees a peer's eventfd array on a disconnect message
// and writes into it on the next connect message for that id: reusing an id
// corrupts its heap. With -K the server never sends either for a reused id,
// and the new peer with that id gets the eventfds QEMU already holds.
TEST(Qemu, ReconnectWithKeptEventfds)
{
	std::string exe = find_qemu();
	if (exe.empty())
		GTEST_SKIP() << "qemu-system-x86_64 is not installed";
	ServerProcess server({ "-K", "-n", "2", "-l", "1M" });
	ASSERT_TRUE(server.ready());

	Qemu q(exe, server.socket_path, 2);
	ASSERT_TRUE(server.wait_line("ivshmem-server: peer 0 connected"));
	ASSERT_NO_FATAL_FAILURE(q.setup_pci());
	EXPECT_EQ(q.ivposition(), 0u);

	for (int round = 0; round < 3; round++) {
		Client b(server.socket_path);
		Handshake hb = expect_handshake(b, 1, { 0 }, 2, 1 << 20);
		EXPECT_TRUE(ring_until_readable(q, 1, round % 2, hb.own)) << "round " << round;
		EXPECT_TRUE(consumed_by_qemu(hb.peers[0][1])) << "round " << round;
		b.close();
		ASSERT_TRUE(server.wait_line("ivshmem-server: peer 1 disconnected"));
	}
	EXPECT_EQ(q.ivposition(), 0u);
	expect_clean_exit(q);
}
