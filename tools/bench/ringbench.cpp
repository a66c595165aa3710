// SPDX-License-Identifier: GPL-2.0
/*
 * ringbench: throughput of one shmnic pair ring between two processes.
 *
 * The region is a MAP_SHARED anonymous mapping laid out with
 * shmnic_layout_compute() and formatted like the driver's; the ring used is
 * node 0 -> node 1. After fork() the child is the receiver (shmnic_rx_peek,
 * shmnic_rx_copy into a destination buffer, shmnic_rx_consume: what the
 * driver does for each frame) and the parent the sender (shmnic_tx_put).
 * They are pinned to two different CPUs when there are two.
 *
 * Rows: busy-polling receiver at 64, 1500, 9000 and 65536-byte frames, and
 * a 64-byte run with the doorbell protocol (eventfd as the doorbell: the
 * receiver arms with shmnic_rx_arm when the ring is empty and sleeps in
 * read(); the sender rings when shmnic_tx_kick_needed says so). Next to
 * each, single-thread memcpy() bandwidth for the same chunk size over a
 * working set much larger than L2.
 *
 * Then ping-pong rows (pingpong.h): 64-byte round trips over two pair
 * rings, busy polling and with doorbells, next to a UNIX socket pair and
 * TCP over loopback in the same run: median, 99th percentile and minimum.
 *
 * usage: ringbench [--seconds S] [--json] [--cpus A,B] [--only throughput|pingpong]
 */
#include "benchutil.h"
#include "pingpong.h"

#include <shmnic/ring.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include <sched.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

namespace {

/* --- options ---------------------------------------------------------------- */

struct Options {
	double seconds = 2.0;
	bool json = false;
	int cpu_tx = -1, cpu_rx = -1;
	bool throughput = true, pingpong = true;
};

[[noreturn]] void usage(int st)
{
	std::fprintf(st ? stderr : stdout,
		     "usage: ringbench [--seconds S] [--json] [--cpus A,B]\n"
		     "                 [--only throughput|pingpong]\n"
		     "  --seconds S  measuring time per row (default 2)\n"
		     "  --json       print JSON instead of a table\n"
		     "  --cpus A,B   pin the sender (ping-pong: the initiator) to\n"
		     "               CPU A, the receiver (the echo) to B\n"
		     "               (default: the first two CPUs allowed)\n"
		     "  --only ROWS  only the throughput rows, or only ping-pong\n");
	std::exit(st);
}

Options parse(int argc, char **argv)
{
	Options o;
	for (int i = 1; i < argc; i++) {
		std::string a = argv[i];
		if (a == "--seconds" && i + 1 < argc) {
			char *end;
			o.seconds = std::strtod(argv[++i], &end);
			if (*end || !(o.seconds > 0) || o.seconds > 3600)
				usage(2);
		} else if (a == "--json") {
			o.json = true;
		} else if (a == "--cpus" && i + 1 < argc) {
			if (std::sscanf(argv[++i], "%d,%d", &o.cpu_tx, &o.cpu_rx) != 2 ||
			    o.cpu_tx < 0 || o.cpu_rx < 0)
				usage(2);
		} else if (a == "--only" && i + 1 < argc) {
			std::string w = argv[++i];
			if (w != "throughput" && w != "pingpong")
				usage(2);
			o.throughput = w == "throughput";
			o.pingpong = w == "pingpong";
		} else if (a == "-h" || a == "--help") {
			usage(0);
		} else {
			usage(2);
		}
	}
	return o;
}

using bench::die;
using bench::now;
using bench::pin;

/* --- the ring benchmark ----------------------------------------------------- */

constexpr u8 CTRL_MARK = 1; /* start measuring now */
constexpr u8 CTRL_STOP = 2; /* report and exit */

/* Results from the receiver, in a shared page of their own. */
struct Report {
	std::atomic<u32> ready;
	std::atomic<u32> go;
	u64 frames, bytes, sleeps;
	double secs;
	char error[200];
};

struct Result {
	std::string mode;
	u32 size = 0;
	double mpps = 0, gbps = 0, memcpy_gbps = 0, memcpy_mops = 0;
	u64 frames = 0, kicks = 0, sleeps = 0;
	double secs = 0;
};

const shmnic_geometry GEOMETRY = {2, 256, 2048, 256, 1, 0, SHMNIC_MIN_FLOWS};

void receiver(shmnic_ring rx, Report *rep, u32 size, int efd)
{
	/* destinations rotate over ~2 MiB, like a socket's worth of skbs */
	const size_t n_dst = std::max<size_t>(4, (2u << 20) / size);
	std::vector<u8> dst(n_dst * (size_t)size);
	u8 ctl[64];
	size_t which = 0;
	u64 frames = 0, bytes = 0, sleeps = 0, idle = 0;
	double t0 = now();
	u64 pending = 0;

	rep->ready.store(1);
	while (!rep->go.load(std::memory_order_acquire))
		cpu_relax();
	for (;;) {
		shmnic_frame f;
		int rc = shmnic_rx_peek(&rx, &f);
		if (rc == -EAGAIN) {
			if (efd < 0) {
				/* be fair to a CPU we might share */
				if (++idle % 4096 == 0)
					sched_yield();
				else
					cpu_relax();
				continue;
			}
			/* doorbell: arm, re-check, sleep */
			shmnic_rx_arm(&rx);
			smp_mb();
			if (shmnic_rx_avail(&rx))
				continue;
			if (read(efd, &pending, 8) != 8 && errno != EINTR) {
				std::snprintf(rep->error, sizeof(rep->error),
					      "eventfd read: %s", std::strerror(errno));
				return;
			}
			sleeps++;
			continue;
		}
		if (rc) {
			std::snprintf(rep->error, sizeof(rep->error), "rx_peek: %d", rc);
			return;
		}
		idle = 0;
		u8 *d;
		if (f.flags & SHMNIC_DESC_CTRL && f.total_len == sizeof(ctl)) {
			d = ctl;
		} else if (f.total_len == size) {
			d = dst.data() + which * size;
			which = which + 1 == n_dst ? 0 : which + 1;
		} else {
			std::snprintf(rep->error, sizeof(rep->error),
				      "frame of %u bytes, expected %u", f.total_len, size);
			return;
		}
		rc = shmnic_rx_copy(&rx, &f, d);
		if (rc) {
			std::snprintf(rep->error, sizeof(rep->error), "rx_copy: %d", rc);
			return;
		}
		shmnic_rx_consume(&rx, &f);
		if (d == ctl) {
			if (d[0] == CTRL_MARK) {
				t0 = now();
				frames = bytes = sleeps = 0;
			} else if (d[0] == CTRL_STOP) {
				rep->secs = now() - t0;
				rep->frames = frames;
				rep->bytes = bytes;
				rep->sleeps = sleeps;
				return;
			}
			continue;
		}
		frames++;
		bytes += f.total_len;
	}
}

Result run_ring(const Options &o, u32 size, bool doorbell)
{
	bench::SharedRegion region(GEOMETRY);
	bench::SharedPage page;
	auto *rep = new (page.get()) Report();
	shmnic_ring tx, rx;
	region.pair(0, 1, &tx, &rx);
	int efd = -1;
	if (doorbell && (efd = eventfd(0, EFD_CLOEXEC)) < 0)
		die("eventfd");

	std::fflush(nullptr);
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		pin(o.cpu_rx);
		receiver(rx, rep, size, efd);
		_exit(rep->error[0] ? 1 : 0);
	}
	pin(o.cpu_tx);

	std::vector<u8> data(size);
	for (u32 i = 0; i < size; i++)
		data[i] = (u8)(i * 131 + 7);
	u64 kicks = 0, sent = 0;
	bool child_gone = false;
	auto kick = [&] {
		if (efd < 0)
			return;
		smp_mb();
		if (shmnic_tx_kick_needed(&tx)) {
			u64 one = 1;
			if (write(efd, &one, 8) != 8)
				die("eventfd write");
			kicks++;
		}
	};
	auto put = [&](const void *p, u32 len, u16 flags) {
		u64 spins = 0;
		for (;;) {
			int rc = shmnic_tx_put(&tx, p, len, flags, nullptr);
			if (rc == 0)
				break;
			if (rc != -ENOSPC) {
				std::fprintf(stderr, "ringbench: tx_put: %d\n", rc);
				std::exit(1);
			}
			if (++spins % (1u << 20) == 0 &&
			    waitpid(pid, nullptr, WNOHANG) == pid) {
				child_gone = true;
				return;
			}
			if (spins % 4096 == 0)
				sched_yield(); /* fair to a CPU we might share */
			else
				cpu_relax();
		}
		kick();
	};
	auto ctrl = [&](u8 what) {
		u8 msg[64] = {what};
		put(msg, sizeof(msg), SHMNIC_DESC_CTRL);
	};

	while (!rep->ready.load())
		cpu_relax();
	rep->go.store(1, std::memory_order_release);
	const double warm = std::min(0.25, o.seconds * 0.1);
	double t = now(), end = t + warm;
	while (!child_gone && now() < end)
		for (int i = 0; i < 64 && !child_gone; i++)
			put(data.data(), size, 0);
	ctrl(CTRL_MARK);
	end = now() + o.seconds;
	while (!child_gone && now() < end)
		for (int i = 0; i < 64 && !child_gone; i++, sent++)
			put(data.data(), size, 0);
	u64 kicks_measured = kicks;
	if (!child_gone)
		ctrl(CTRL_STOP);

	int st = 0;
	if (!child_gone && waitpid(pid, &st, 0) != pid)
		die("waitpid");
	if (child_gone || !WIFEXITED(st) || WEXITSTATUS(st)) {
		std::fprintf(stderr, "ringbench: receiver failed: %s\n",
			     rep->error[0] ? rep->error : "died");
		std::exit(1);
	}

	Result r;
	r.mode = doorbell ? "doorbell" : "busy-poll";
	r.size = size;
	r.frames = rep->frames;
	r.secs = rep->secs;
	r.mpps = rep->frames / rep->secs / 1e6;
	r.gbps = rep->bytes / rep->secs / 1e9;
	r.kicks = kicks_measured;
	r.sleeps = rep->sleeps;
	(void)sent;
	if (efd >= 0)
		close(efd);
	return r;
}

/* --- memcpy baseline ---------------------------------------------------------- */

size_t working_set()
{
	long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
	long l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
	size_t ws = 64u << 20;
	if (l2 > 0)
		ws = std::max(ws, (size_t)l2 * 16);
	(void)l3; /* often misreported in VMs; 64 MiB is past L2 everywhere */
	return ws;
}

/* GB/s and millions of copies/s of @size-byte memcpy()s walking @ws bytes. */
void run_memcpy(const Options &o, u32 size, size_t ws, double *gbps, double *mops)
{
	static std::vector<u8> src, dst;
	if (src.size() != ws) {
		src.assign(ws, 0x5a);
		dst.assign(ws, 0);
	}
	const size_t n = ws / size;
	const double secs = std::min(1.0, std::max(0.1, o.seconds / 2));
	u64 copies = 0;
	size_t i = 0;
	double t0 = now(), t;
	do {
		for (int k = 0; k < 256; k++) {
			std::memcpy(dst.data() + i * size, src.data() + i * size, size);
			asm volatile("" ::"r"(dst.data()) : "memory");
			if (++i == n)
				i = 0;
		}
		copies += 256;
		t = now();
	} while (t - t0 < secs);
	*gbps = (double)copies * size / (t - t0) / 1e9;
	*mops = copies / (t - t0) / 1e6;
}

/* --- output ------------------------------------------------------------------- */

void print_pingpong_table(const std::vector<bench::PingPong> &ps)
{
	if (ps.empty())
		return;
	std::printf("\nping-pong: %u B each way, one round trip at a time (us)\n",
		    ps[0].size);
	std::printf("%-16s %-10s %10s %10s %10s %10s %12s\n", "transport", "mode",
		    "median", "p99", "min", "rounds", "kicks/round");
	for (const bench::PingPong &p : ps) {
		char kicks[32] = "-";
		if (p.mode == "doorbell")
			std::snprintf(kicks, sizeof(kicks), "%.3f", p.kicks_per_round);
		std::printf("%-16s %-10s %10.3f %10.3f %10.3f %10llu %12s\n",
			    p.transport.c_str(), p.mode.c_str(), p.median_us, p.p99_us,
			    p.min_us, (unsigned long long)p.rounds, kicks);
	}
}

void print_table(const Options &o, const std::vector<Result> &rs, size_t ws,
		 bool pinned, double load)
{
	std::printf("ringbench: one shmnic pair ring, %u slots x %u B, two processes",
		    GEOMETRY.ring_slots, GEOMETRY.buf_size);
	if (pinned)
		std::printf(" (sender CPU %d, receiver CPU %d)", o.cpu_tx, o.cpu_rx);
	else
		std::printf(" (not pinned)");
	std::printf(", %.2g s per row\n", o.seconds);
	std::printf("memcpy: one thread, %zu MiB working set\n", ws >> 20);
	std::printf("load average before the run: %.2f on %ld CPUs%s\n\n", load,
		    sysconf(_SC_NPROCESSORS_ONLN),
		    load > 0.5 ? " (other work running: expect noisy numbers)" : "");
	if (rs.empty())
		return;
	std::printf("%-10s %8s %10s %9s %12s %12s %12s\n", "mode", "frame_B", "Mpps",
		    "GB/s", "memcpy_GB/s", "ring/memcpy", "kicks/frame");
	for (const Result &r : rs) {
		char kicks[32] = "-";
		if (r.mode == "doorbell")
			std::snprintf(kicks, sizeof(kicks), "%.4f",
				      r.frames ? (double)r.kicks / r.frames : 0.0);
		std::printf("%-10s %8u %10.3f %9.3f %12.3f %12.3f %12s\n",
			    r.mode.c_str(), r.size, r.mpps, r.gbps, r.memcpy_gbps,
			    r.memcpy_gbps > 0 ? r.gbps / r.memcpy_gbps : 0.0, kicks);
	}
	for (const Result &r : rs)
		if (r.mode == "doorbell")
			std::printf("\ndoorbell: %llu kicks and %llu receiver sleeps for "
				    "%llu frames\n",
				    (unsigned long long)r.kicks,
				    (unsigned long long)r.sleeps,
				    (unsigned long long)r.frames);
}

void print_json(const Options &o, const std::vector<Result> &rs, size_t ws,
		bool pinned, double load, const std::vector<bench::PingPong> &ps)
{
	std::printf("{\n  \"geometry\": {\"ring_slots\": %u, \"buf_size\": %u},\n",
		    GEOMETRY.ring_slots, GEOMETRY.buf_size);
	std::printf("  \"seconds\": %g,\n  \"cpus\": ", o.seconds);
	if (pinned)
		std::printf("{\"sender\": %d, \"receiver\": %d},\n", o.cpu_tx, o.cpu_rx);
	else
		std::printf("null,\n");
	std::printf("  \"loadavg\": %.2f,\n", load);
	std::printf("  \"memcpy_working_set\": %zu,\n  \"results\": [\n", ws);
	for (size_t i = 0; i < rs.size(); i++) {
		const Result &r = rs[i];
		std::printf("    {\"mode\": \"%s\", \"frame_bytes\": %u, \"mpps\": %.4f, "
			    "\"gbytes_per_s\": %.4f, \"memcpy_gbytes_per_s\": %.4f, "
			    "\"memcpy_mops\": %.3f, \"ratio\": %.4f, \"frames\": %llu, "
			    "\"seconds\": %.4f, \"kicks\": %llu, \"sleeps\": %llu}%s\n",
			    r.mode.c_str(), r.size, r.mpps, r.gbps, r.memcpy_gbps,
			    r.memcpy_mops,
			    r.memcpy_gbps > 0 ? r.gbps / r.memcpy_gbps : 0.0,
			    (unsigned long long)r.frames, r.secs,
			    (unsigned long long)r.kicks, (unsigned long long)r.sleeps,
			    i + 1 < rs.size() ? "," : "");
	}
	std::printf("  ],\n  \"pingpong\": [\n");
	for (size_t i = 0; i < ps.size(); i++) {
		const bench::PingPong &p = ps[i];
		std::printf("    {\"transport\": \"%s\", \"mode\": \"%s\", \"bytes\": %u, "
			    "\"rounds\": %llu, \"median_us\": %.4f, \"p99_us\": %.4f, "
			    "\"min_us\": %.4f, \"kicks_per_round\": %.4f}%s\n",
			    p.transport.c_str(), p.mode.c_str(), p.size,
			    (unsigned long long)p.rounds, p.median_us, p.p99_us, p.min_us,
			    p.kicks_per_round, i + 1 < ps.size() ? "," : "");
	}
	std::printf("  ]\n}\n");
}

} // namespace

int main(int argc, char **argv)
{
	Options o = parse(argc, argv);
	auto cpus = bench::allowed_cpus();
	if (o.cpu_tx < 0 && cpus.size() >= 2) {
		o.cpu_tx = cpus[0];
		o.cpu_rx = cpus[1];
	}
	bool pinned = o.cpu_tx >= 0;
	signal(SIGPIPE, SIG_IGN);

	const double load = bench::loadavg();
	const size_t ws = working_set();
	std::vector<Result> rs;
	const u32 sizes[] = {64, 1500, 9000, 65536};
	static_assert(65536 <= SHMNIC_MAX_FRAME);
	if (o.throughput) {
		for (u32 s : sizes)
			rs.push_back(run_ring(o, s, false));
		rs.push_back(run_ring(o, 64, true));
	}
	std::vector<bench::PingPong> ps;
	if (o.pingpong) {
		const u32 size = 64;
		ps.push_back(bench::pingpong_ring(size, false, o.seconds, o.cpu_tx, o.cpu_rx));
		ps.push_back(bench::pingpong_ring(size, true, o.seconds, o.cpu_tx, o.cpu_rx));
		ps.push_back(bench::pingpong_socket(false, size, o.seconds, o.cpu_tx, o.cpu_rx));
		ps.push_back(bench::pingpong_socket(true, size, o.seconds, o.cpu_tx, o.cpu_rx));
	}

	/* memcpy on the sender's CPU, after the ring runs */
	pin(o.cpu_tx);
	for (Result &r : rs) {
		bool again = true;
		for (const Result &p : rs)
			if (&p != &r && p.size == r.size && p.memcpy_gbps > 0) {
				r.memcpy_gbps = p.memcpy_gbps;
				r.memcpy_mops = p.memcpy_mops;
				again = false;
			}
		if (again)
			run_memcpy(o, r.size, ws, &r.memcpy_gbps, &r.memcpy_mops);
	}

	if (o.json) {
		print_json(o, rs, ws, pinned, load, ps);
	} else {
		print_table(o, rs, ws, pinned, load);
		print_pingpong_table(ps);
	}
	return 0;
}
