// SPDX-License-Identifier: GPL-2.0
#include "pingpong.h"

#include "benchutil.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace bench {
namespace {

/* At most this many round trips are kept (32 MiB of samples). */
constexpr size_t MAX_SAMPLES = 4u << 20;

/* A file descriptor, closed when it goes out of scope. */
class Fd {
public:
	explicit Fd(int fd = -1) : fd_(fd) {}
	~Fd() { reset(); }
	Fd(Fd &&o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
	Fd &operator=(Fd &&o) noexcept
	{
		if (this != &o) {
			reset();
			fd_ = o.fd_;
			o.fd_ = -1;
		}
		return *this;
	}
	Fd(const Fd &) = delete;
	Fd &operator=(const Fd &) = delete;
	int get() const { return fd_; }
	void reset()
	{
		if (fd_ >= 0)
			close(fd_);
		fd_ = -1;
	}

private:
	int fd_;
};

/* The echoing child: killed and reaped if still there when this ends. */
class Child {
public:
	explicit Child(pid_t pid) : pid_(pid) {}
	~Child()
	{
		if (pid_ > 0) {
			kill(pid_, SIGKILL);
			waitpid(pid_, nullptr, 0);
		}
	}
	Child(const Child &) = delete;
	Child &operator=(const Child &) = delete;
	/* Wait for a clean exit; false if it failed or was killed. */
	bool join()
	{
		int st = 0;
		pid_t p = pid_;

		pid_ = -1;
		return waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0;
	}
	/* Has it exited (without reaping it)? */
	bool gone() const
	{
		siginfo_t si{};
		return waitid(P_PID, (id_t)pid_, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
		       si.si_pid == pid_;
	}

private:
	pid_t pid_;
};

[[noreturn]] void fail(const char *what)
{
	std::fprintf(stderr, "ringbench: ping-pong: %s\n", what);
	std::exit(1);
}

/* fork(): 0 in the child, which dies with its parent and runs on @cpu. */
pid_t fork_echo(int cpu)
{
	std::fflush(nullptr);
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(1);
		pin(cpu);
	}
	return pid;
}

/* The bytes the initiator sends: not all the same. */
std::vector<u8> pattern(u32 size)
{
	std::vector<u8> v(size);

	for (u32 i = 0; i < size; i++)
		v[i] = (u8)(i * 131 + 7);
	return v;
}

PingPong summary(std::vector<double> &rtt_us)
{
	PingPong r;
	r.rounds = rtt_us.size();
	if (!rtt_us.empty()) {
		r.min_us = *std::min_element(rtt_us.begin(), rtt_us.end());
		r.median_us = quantile(rtt_us, 0.5);
		r.p99_us = quantile(rtt_us, 0.99);
	}
	return r;
}

/*
 * Time round trips with @once (one round trip; false on failure): a
 * warm-up, then @secs seconds or MAX_SAMPLES round trips. *@all counts the
 * warm-up's round trips too.
 */
template <typename F> std::vector<double> measure(double secs, F once, u64 *all)
{
	std::vector<double> rtt;
	double end = now() + std::min(0.2, secs / 10);
	u64 warm = 0;

	while (now() < end) {
		if (!once())
			fail("round trip failed during the warm-up");
		warm++;
	}
	rtt.reserve(std::min<size_t>(MAX_SAMPLES, 1u << 20));
	end = now() + secs;
	for (;;) {
		double t0 = now();

		if (!once())
			fail("round trip failed");
		double t1 = now();

		rtt.push_back((t1 - t0) * 1e6);
		if (t1 >= end || rtt.size() == MAX_SAMPLES)
			break;
	}
	*all = warm + rtt.size();
	return rtt;
}

/* --- shmnic rings ------------------------------------------------------- */

constexpr u16 STOP = SHMNIC_DESC_CTRL;

/* One side of the ring ping-pong: sends on @tx, receives on @rx. */
struct RingEnd {
	shmnic_ring tx, rx;
	int my_bell = -1;	/* eventfd we sleep on (doorbell mode) */
	int peer_bell = -1;	/* eventfd we ring */
	u64 kicks = 0;
	const Child *child = nullptr;	/* the initiator watches its child */

	/* Sleep until the doorbell rings; false if the other side is gone. */
	bool sleep()
	{
		u64 v;

		for (;;) {
			if (read(my_bell, &v, sizeof(v)) == (ssize_t)sizeof(v))
				return true;
			if (errno != EINTR || (child && child->gone()))
				return false;
		}
	}

	/* Wait for the next frame and copy it to @buf: its flags, or -1. */
	int receive(u8 *buf, u32 cap)
	{
		shmnic_frame f;
		u64 spins = 0;

		for (;;) {
			int rc = shmnic_rx_peek(&rx, &f);

			if (rc == 0)
				break;
			if (rc != -EAGAIN)
				return -1;
			if (my_bell >= 0) {
				/* arm, re-check (full barrier), sleep */
				shmnic_rx_arm(&rx);
				smp_mb();
				if (shmnic_rx_avail(&rx) == 0 && !sleep())
					return -1;
				continue;
			}
			if (++spins % 4096)
				cpu_relax();
			else if (child && spins % (1u << 22) == 0 && child->gone())
				return -1;
			else
				sched_yield(); /* fair to a CPU we might share */
		}
		if (f.total_len > cap || shmnic_rx_copy(&rx, &f, buf))
			return -1;
		shmnic_rx_consume(&rx, &f);
		return f.flags;
	}

	bool send(const u8 *buf, u32 len, u16 flags)
	{
		if (shmnic_tx_put(&tx, buf, len, flags, nullptr))
			return false; /* one frame in flight: never full */
		if (peer_bell < 0)
			return true;
		smp_mb();
		if (shmnic_tx_kick_needed(&tx)) {
			u64 one = 1;

			if (write(peer_bell, &one, sizeof(one)) != (ssize_t)sizeof(one))
				return false;
			kicks++;
		}
		return true;
	}
};

const shmnic_geometry RING_GEOMETRY = {2, 256, 2048, 256, 1, 0, SHMNIC_MIN_FLOWS};

/* SIGCHLD interrupts the initiator's doorbell sleep (no SA_RESTART). */
void on_sigchld(int) {}

} // namespace

PingPong pingpong_ring(u32 size, bool doorbell, double secs, int cpu_a, int cpu_b)
{
	if (!size || size > SHMNIC_MAX_FRAME)
		fail("bad frame size");
	SharedRegion region(RING_GEOMETRY);
	SharedPage page;
	auto *child_kicks = new (page.get()) std::atomic<u64>(0);
	RingEnd a, b; /* a: node 0, the initiator; b: node 1, the echo */

	region.pair(0, 1, &a.tx, &b.rx);
	region.pair(1, 0, &b.tx, &a.rx);
	Fd bell_a, bell_b;
	if (doorbell) {
		bell_a = Fd(eventfd(0, EFD_CLOEXEC));
		bell_b = Fd(eventfd(0, EFD_CLOEXEC));
		if (bell_a.get() < 0 || bell_b.get() < 0)
			die("eventfd");
		a.my_bell = b.peer_bell = bell_a.get();
		b.my_bell = a.peer_bell = bell_b.get();
	}
	struct sigaction sa{}, old{};
	sa.sa_handler = on_sigchld;
	sigaction(SIGCHLD, &sa, &old);

	std::vector<u8> buf(size);
	pid_t pid = fork_echo(cpu_b);
	if (pid == 0) {
		for (;;) {
			int flags = b.receive(buf.data(), size);

			if (flags < 0)
				_exit(1);
			if (flags & STOP)
				break;
			if (!b.send(buf.data(), size, 0))
				_exit(1);
		}
		child_kicks->store(b.kicks);
		_exit(0);
	}
	Child child(pid);
	a.child = &child;
	pin(cpu_a);
	buf = pattern(size);
	std::vector<u8> back(size);
	u64 all = 0;
	auto rtt = measure(secs, [&] {
		return a.send(buf.data(), size, 0) &&
		       a.receive(back.data(), size) == 0 &&
		       std::memcmp(back.data(), buf.data(), size) == 0;
	}, &all);
	u8 stop[64] = {};
	if (!a.send(stop, sizeof(stop), STOP) || !child.join())
		fail("the echoing process failed");
	sigaction(SIGCHLD, &old, nullptr);

	PingPong r = summary(rtt);
	r.transport = "shmnic-ring";
	r.mode = doorbell ? "doorbell" : "busy-poll";
	r.size = size;
	/* both sides' doorbells over every round trip, warm-up included */
	r.kicks_per_round = all ? (double)(a.kicks + child_kicks->load()) / (double)all : 0;
	return r;
}

namespace {

bool read_full(int fd, u8 *p, size_t n)
{
	while (n) {
		ssize_t k = read(fd, p, n);

		if (k <= 0) {
			if (k < 0 && errno == EINTR)
				continue;
			return false;
		}
		p += k;
		n -= (size_t)k;
	}
	return true;
}

bool write_full(int fd, const u8 *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		p += k;
		n -= (size_t)k;
	}
	return true;
}

/* Two connected TCP sockets over 127.0.0.1, Nagle off. */
void tcp_pair(Fd *a, Fd *b)
{
	Fd lst(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
	sockaddr_in sin{};
	socklen_t len = sizeof(sin);
	int one = 1;

	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lst.get() < 0 || bind(lst.get(), (sockaddr *)&sin, sizeof(sin)) ||
	    listen(lst.get(), 1) || getsockname(lst.get(), (sockaddr *)&sin, &len))
		die("tcp listen on 127.0.0.1");
	*a = Fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
	if (a->get() < 0 || connect(a->get(), (sockaddr *)&sin, sizeof(sin)))
		die("tcp connect to 127.0.0.1");
	*b = Fd(accept4(lst.get(), nullptr, nullptr, SOCK_CLOEXEC));
	if (b->get() < 0)
		die("tcp accept");
	if (setsockopt(a->get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ||
	    setsockopt(b->get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)))
		die("TCP_NODELAY");
}

} // namespace

PingPong pingpong_socket(bool tcp, u32 size, double secs, int cpu_a, int cpu_b)
{
	Fd a, b;

	if (!size)
		fail("bad message size");
	if (tcp) {
		tcp_pair(&a, &b);
	} else {
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
			die("socketpair");
		a = Fd(sv[0]);
		b = Fd(sv[1]);
	}
	std::vector<u8> buf(size);
	pid_t pid = fork_echo(cpu_b);
	if (pid == 0) {
		a.reset();
		while (read_full(b.get(), buf.data(), size))
			if (!write_full(b.get(), buf.data(), size))
				_exit(1);
		_exit(0); /* the initiator closed its end */
	}
	Child child(pid);
	b.reset();
	pin(cpu_a);
	buf = pattern(size);
	std::vector<u8> back(size);
	u64 all = 0;
	auto rtt = measure(secs, [&] {
		return write_full(a.get(), buf.data(), size) &&
		       read_full(a.get(), back.data(), size) &&
		       std::memcmp(back.data(), buf.data(), size) == 0;
	}, &all);
	a.reset();
	if (!child.join())
		fail("the echoing process failed");

	PingPong r = summary(rtt);
	r.transport = tcp ? "tcp-loopback" : "unix-socketpair";
	r.mode = "blocking";
	r.size = size;
	return r;
}

} // namespace bench
