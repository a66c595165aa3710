// SPDX-License-Identifier: GPL-2.0
// Helpers for the end-to-end tests: the server binary as a child process,
// fake QEMU clients, and checks of the message sequences they receive. Every
// read has a timeout, so a broken server fails a test instead of hanging it.
#pragma once

#include "raii.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <endian.h>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <poll.h>
#include <stdexcept>
#include <string>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace ivshmem_test {

using ivshmem::UniqueFd;
namespace fs = std::filesystem;

inline constexpr int kTimeoutMs = 5000;	// for anything that must happen
inline constexpr int kQuietMs = 200;		// for making sure nothing happens

[[noreturn]] inline void fail(const std::string &what)
{
	throw std::runtime_error(what + (errno ? std::string(": ") + std::strerror(errno) : ""));
}

inline std::string unique_suffix()
{
	static int counter;	// inline function: one counter per program
	return std::to_string(getpid()) + "-" + std::to_string(counter++);
}

inline bool is_eventfd(int fd)
{
	char buf[64] = {};
	std::string link = "/proc/self/fd/" + std::to_string(fd);
	return readlink(link.c_str(), buf, sizeof(buf) - 1) > 0 &&
	       std::string(buf) == "anon_inode:[eventfd]";
}

inline bool readable(int fd, int timeout_ms)
{
	pollfd p = { fd, POLLIN, 0 };
	return poll(&p, 1, timeout_ms) == 1;
}

// Waits for a child for at most timeout_ms; returns its wait status.
inline std::optional<int> wait_for(pid_t pid, int timeout_ms)
{
	auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
	int status;

	do {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		if (r < 0)
			return std::nullopt;
		std::this_thread::sleep_for(std::chrono::milliseconds(10));
	} while (std::chrono::steady_clock::now() < deadline);
	return std::nullopt;
}

// Reads from fd until EOF or the deadline.
inline std::string read_all(int fd, int timeout_ms)
{
	std::string out;
	char buf[4096];

	while (readable(fd, timeout_ms)) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		out.append(buf, n);
	}
	return out;
}

// A fresh directory under /tmp, removed with its contents on destruction.
struct TempDir {
	std::string path;

	TempDir()
	{
		char tmpl[] = "/tmp/ivshmem-test.XXXXXX";
		if (!mkdtemp(tmpl))
			fail("mkdtemp");
		path = tmpl;
	}
	~TempDir()
	{
		std::error_code ec;
		fs::remove_all(path, ec);
	}
};

// A unique POSIX shm name, unlinked on destruction (in case a test failed).
struct ShmName {
	std::string name = "ivshmem-test-" + unique_suffix();
	~ShmName() { shm_unlink(name.c_str()); }
};

struct Msg {
	std::int64_t value;
	UniqueFd fd;
};

class Client {
public:
	explicit Client(const std::string &path)
	{
		sockaddr_un addr = {};
		addr.sun_family = AF_UNIX;
		std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
		sock_.reset(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
		if (!sock_ || connect(sock_.get(), reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) < 0)
			fail("connect to " + path);
	}

	// One message, or nullopt on EOF. Throws on timeout and errors.
	std::optional<Msg> recv(int timeout_ms = kTimeoutMs)
	{
		std::uint64_t le;
		iovec iov = { .iov_base = &le, .iov_len = sizeof(le) };
		union {
			cmsghdr align;
			char buf[CMSG_SPACE(sizeof(int) * 4)];
		} control;
		msghdr msg = {};

		errno = 0;
		if (!readable(sock_.get(), timeout_ms))
			fail("timed out waiting for a message");
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = control.buf;
		msg.msg_controllen = sizeof(control.buf);
		ssize_t n = recvmsg(sock_.get(), &msg, MSG_CMSG_CLOEXEC);
		if (n < 0)
			fail("recvmsg");
		if (n == 0)
			return std::nullopt;
		if (n != sizeof(le))
			fail("short message of " + std::to_string(n) + " bytes");
		if (msg.msg_flags & MSG_CTRUNC)
			fail("control data truncated");

		Msg m{ static_cast<std::int64_t>(le64toh(le)), {} };
		for (cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
			if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
				fail("unexpected control message");
			std::size_t nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			std::vector<int> fds(nfds);
			std::memcpy(fds.data(), CMSG_DATA(c), nfds * sizeof(int));
			for (int fd : fds) {
				if (m.fd) {
					::close(fd);
					fail("more than one fd in a message");
				}
				m.fd.reset(fd);
			}
		}
		return m;
	}

	Msg expect(int64_t value, bool with_fd)
	{
		std::optional<Msg> m = recv();
		if (!m)
			fail("EOF, expected " + std::to_string(value));
		EXPECT_EQ(m->value, value);
		EXPECT_EQ(bool(m->fd), with_fd) << "message " << value;
		return std::move(*m);
	}

	// True if nothing (no message, no EOF) arrives for a while.
	bool quiet(int ms = kQuietMs) { return !readable(sock_.get(), ms); }

	// True if the server closed the connection without sending anything.
	bool refused()
	{
		errno = 0;
		return !recv().has_value();
	}

	void send_junk() { ASSERT_EQ(::send(sock_.get(), "hello", 5, MSG_NOSIGNAL), 5); }
	void close() { sock_.reset(); }

private:
	UniqueFd sock_;
};

// What a client learned from its handshake.
struct Handshake {
	std::int64_t id = -1;
	UniqueFd shm;
	std::map<std::int64_t, std::vector<UniqueFd>> peers;
	std::vector<UniqueFd> own;
};

// Checks the exact initial sequence: version, id, shm, every existing peer
// (in id order) once per vector, then the client's own id once per vector.
inline Handshake expect_handshake(Client &c, std::int64_t id,
				  const std::vector<std::int64_t> &existing, unsigned vectors,
				  std::uint64_t shm_size)
{
	Handshake h;

	c.expect(0, false);
	h.id = c.expect(id, false).value;
	h.shm = std::move(c.expect(-1, true).fd);
	struct stat st;
	if (fstat(h.shm.get(), &st) < 0)
		fail("fstat shm");
	EXPECT_EQ(static_cast<std::uint64_t>(st.st_size), shm_size);
	EXPECT_FALSE(is_eventfd(h.shm.get()));
	for (std::int64_t peer : existing)
		for (unsigned v = 0; v < vectors; v++) {
			Msg m = c.expect(peer, true);
			EXPECT_TRUE(is_eventfd(m.fd.get()));
			h.peers[peer].push_back(std::move(m.fd));
		}
	for (unsigned v = 0; v < vectors; v++) {
		Msg m = c.expect(id, true);
		EXPECT_TRUE(is_eventfd(m.fd.get()));
		h.own.push_back(std::move(m.fd));
	}
	return h;
}

// Checks that a peer announces itself: its id once per vector with an eventfd.
inline std::vector<UniqueFd> expect_new_peer(Client &c, std::int64_t id, unsigned vectors)
{
	std::vector<UniqueFd> fds;

	for (unsigned v = 0; v < vectors; v++) {
		Msg m = c.expect(id, true);
		EXPECT_TRUE(is_eventfd(m.fd.get()));
		fds.push_back(std::move(m.fd));
	}
	return fds;
}

// Checks that kicking senders[i] is seen on receivers[i] and on no other
// vector: the two lists are the same eventfds, in the same order.
inline void expect_same_eventfds(const std::vector<UniqueFd> &senders,
				 const std::vector<UniqueFd> &receivers)
{
	ASSERT_EQ(senders.size(), receivers.size());
	for (std::size_t i = 0; i < senders.size(); i++) {
		std::uint64_t one = 1, value = 0;
		ASSERT_EQ(write(senders[i].get(), &one, sizeof(one)), 8);
		// Eventfd writes are synchronous: no need to wait.
		for (std::size_t j = 0; j < receivers.size(); j++)
			EXPECT_EQ(readable(receivers[j].get(), 0), i == j)
				<< "kicked vector " << i << ", looked at vector " << j;
		if (!readable(receivers[i].get(), 0))
			continue;
		ASSERT_EQ(read(receivers[i].get(), &value, sizeof(value)), 8);
		EXPECT_EQ(value, 1u);
	}
}

// The server binary, run in the foreground with a socket in a fresh temporary
// directory and a unique shm name. Killed on destruction if still running.
class ServerProcess {
public:
	explicit ServerProcess(std::vector<std::string> extra, bool use_shm_name = true)
	{
		dir = tmp_.path;
		socket_path = dir + "/sock";
		shm_name = shm_.name;

		std::vector<std::string> args{ IVSHMEM_SERVER_BIN, "-F", "-S", socket_path };
		if (use_shm_name) {
			args.push_back("-M");
			args.push_back(shm_name);
		}
		args.insert(args.end(), extra.begin(), extra.end());
		args_ = args;
		start();
	}

	~ServerProcess()
	{
		if (pid_ > 0) {
			kill(pid_, SIGKILL);
			waitpid(pid_, nullptr, 0);
		}
	}

	// Waits for a line of output; all lines seen are kept in `lines`.
	bool wait_line(const std::string &line, int timeout_ms = kTimeoutMs)
	{
		auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
		for (;;) {
			if (std::find(lines.begin() + seen_, lines.end(), line) != lines.end()) {
				seen_ = std::find(lines.begin() + seen_, lines.end(), line) - lines.begin() + 1;
				return true;
			}
			auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
				deadline - std::chrono::steady_clock::now());
			if (left.count() <= 0 || !readable(out_.get(), left.count()))
				return false;
			char buf[1024];
			ssize_t n = read(out_.get(), buf, sizeof(buf));
			if (n <= 0)
				return false;
			partial_.append(buf, n);
			std::size_t nl;
			while ((nl = partial_.find('\n')) != std::string::npos) {
				lines.push_back(partial_.substr(0, nl));
				partial_.erase(0, nl + 1);
			}
		}
	}

	bool ready() { return wait_line("ivshmem-server: listening on " + socket_path); }

	// Sends sig and waits for the exit; returns the wait status.
	std::optional<int> stop(int sig)
	{
		kill(pid_, sig);
		std::optional<int> status = wait_for(pid_, kTimeoutMs);
		if (status)
			pid_ = -1;
		return status;
	}

	// Kills the server without giving it a chance to clean up, and starts
	// a new one with the same arguments.
	void crash_and_restart()
	{
		kill(pid_, SIGKILL);
		waitpid(pid_, nullptr, 0);
		start();
	}

	pid_t pid() const { return pid_; }

	std::string dir, socket_path, shm_name;
	std::vector<std::string> lines;

private:
	void start()
	{
		int p[2];
		if (pipe2(p, O_CLOEXEC) < 0)
			fail("pipe");
		UniqueFd rd(p[0]), wr(p[1]);
		std::vector<char *> argv;
		for (const auto &a : args_)
			argv.push_back(const_cast<char *>(a.c_str()));
		argv.push_back(nullptr);

		lines.clear();
		partial_.clear();
		seen_ = 0;
		pid_ = fork();
		if (pid_ < 0)
			fail("fork");
		if (pid_ == 0) {
			dup2(wr.get(), STDOUT_FILENO);
			execv(argv[0], argv.data());
			_exit(127);
		}
		out_ = std::move(rd);
	}

	TempDir tmp_;
	ShmName shm_;
	std::vector<std::string> args_;
	pid_t pid_ = -1;
	UniqueFd out_;
	std::string partial_;
	std::size_t seen_ = 0;
};

struct RunResult {
	int status = -1;
	std::string out, err;
};

// Runs the binary to completion (at most kTimeoutMs) with the given arguments.
inline RunResult run(const std::vector<std::string> &args)
{
	int out[2], err[2];
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
		fail("pipe");
	UniqueFd out_rd(out[0]), out_wr(out[1]), err_rd(err[0]), err_wr(err[1]);
	std::vector<std::string> all{ IVSHMEM_SERVER_BIN };
	all.insert(all.end(), args.begin(), args.end());
	std::vector<char *> argv;
	for (const auto &a : all)
		argv.push_back(const_cast<char *>(a.c_str()));
	argv.push_back(nullptr);

	pid_t pid = fork();
	if (pid < 0)
		fail("fork");
	if (pid == 0) {
		dup2(out_wr.get(), STDOUT_FILENO);
		dup2(err_wr.get(), STDERR_FILENO);
		execv(argv[0], argv.data());
		_exit(127);
	}
	out_wr.reset();
	err_wr.reset();
	RunResult r;
	std::optional<int> status = wait_for(pid, kTimeoutMs);
	if (!status) {
		kill(pid, SIGKILL);
		waitpid(pid, nullptr, 0);
		fail("server did not exit");
	}
	r.status = *status;
	r.out = read_all(out_rd.get(), 0);
	r.err = read_all(err_rd.get(), 0);
	return r;
}

inline bool exists(const std::string &path)
{
	struct stat st;
	return lstat(path.c_str(), &st) == 0;
}

inline std::string shm_path(const std::string &name) { return "/dev/shm/" + name; }

} // namespace ivshmem_test
