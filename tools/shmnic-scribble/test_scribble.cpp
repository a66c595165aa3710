// SPDX-License-Identifier: GPL-2.0
/*
 * Smoke test of shmnic-scribble: lay out a region in a temp file
 * (shmnic_layout_compute + shmnic_region_fill, three nodes up), run the
 * scribbler on it for 0.5 s and check that it exits 0 and changed bytes,
 * also in the node table and ring headers (targeted writes). Then: with
 * --spare-header the header page stays intact; with a damaged header and
 * --mode targeted it falls back to random bytes; --kinds restricts the
 * writes (node_table, flow_table: only the node table, only the flow
 * table changes); bad usage exits 2. The ghost node (--ghost 3): it comes
 * up with a new epoch and a moving heartbeat and sets up its receive rings;
 * with --ghost-drain 10 it consumes some but not all of 60 frames node 0
 * sends it in a second, with --ghost-drain never none; with
 * --ghost-hold-lock it holds the broadcast lock and moves the write index;
 * when it is stopped its entry is absent and the lock free; with
 * --ghost-control it changes mode as its control file says.
 *
 * usage: test_shmnic_scribble PATH-TO-shmnic-scribble
 */
#include <shmnic/counters.h>
#include <shmnic/flow.h>
#include <shmnic/listen.h>
#include <shmnic/layout.h>
#include <shmnic/ring.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <csignal>

#include <arpa/inet.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

namespace {

int failures;

#define CHECK(cond, ...)                                                   \
	do {                                                               \
		if (!(cond)) {                                             \
			std::fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__,  \
				     __LINE__, #cond);                     \
			std::fprintf(stderr, __VA_ARGS__);                 \
			std::fputc('\n', stderr);                          \
			failures++;                                        \
		}                                                          \
	} while (0)

// A temp file holding a region, removed and unmapped when destroyed.
class TempRegion {
public:
	explicit TempRegion(u64 size) : size_(size)
	{
		const char *dir = std::getenv("TMPDIR");

		path_ = std::string(dir && *dir ? dir : "/tmp") +
			"/shmnic-scribble-test.XXXXXX";
		fd_ = ::mkstemp(path_.data());
		if (fd_ < 0 || ::ftruncate(fd_, (off_t)size))
			return;
		void *p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE,
				 MAP_SHARED, fd_, 0);
		base_ = p == MAP_FAILED ? nullptr : static_cast<u8 *>(p);
	}
	TempRegion(const TempRegion &) = delete;
	TempRegion &operator=(const TempRegion &) = delete;
	~TempRegion()
	{
		if (base_)
			::munmap(base_, size_);
		if (fd_ >= 0) {
			::close(fd_);
			::unlink(path_.c_str());
		}
	}
	bool ok() const { return base_ != nullptr; }
	u8 *base() const { return base_; }
	u64 size() const { return size_; }
	const std::string &path() const { return path_; }

private:
	std::string path_;
	int fd_ = -1;
	u64 size_;
	u8 *base_ = nullptr;
};

void format(TempRegion &r, const shmnic_layout &l)
{
	auto *hdr = reinterpret_cast<shmnic_region *>(r.base());

	std::memset(r.base(), 0, r.size());
	shmnic_region_fill(hdr, &l, 0);
	hdr->state = SHMNIC_FMT_READY;
	for (u32 id = 0; id < 3; id++) {
		shmnic_node *n = shmnic_node_at(r.base(), &l, id);
		n->state = SHMNIC_NODE_UP;
		n->epoch = 1;
		n->heartbeat = 100;
	}
}

// Start the scribbler with @args; its pid, or -1.
pid_t start(const std::string &prog, std::vector<std::string> args)
{
	std::vector<char *> argv;
	pid_t pid;

	args.insert(args.begin(), prog);
	for (auto &a : args)
		argv.push_back(a.data());
	argv.push_back(nullptr);
	if (posix_spawn(&pid, prog.c_str(), nullptr, nullptr, argv.data(),
			environ))
		return -1;
	return pid;
}

// Exit status of scribbler @pid, or -1.
int reap(pid_t pid)
{
	int st;

	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

// Exit status of the scribbler run with @args, or -1.
int scribble(const std::string &prog, std::vector<std::string> args)
{
	return reap(start(prog, std::move(args)));
}

// Wait up to 2 s for @cond.
template <typename F> bool wait_for(F cond)
{
	for (int i = 0; i < 200; i++) {
		if (cond())
			return true;
		::usleep(10000);
	}
	return cond();
}

// Run a ghost as node 3 with @extra options for 1 s while node 0 sends it
// 60 one-slot frames; returns how many it consumed, or -1.
int ghost_consumed(const std::string &prog, TempRegion &r,
		   const shmnic_layout &l, std::vector<std::string> extra)
{
	format(r, l);
	shmnic_node *n = shmnic_node_at(r.base(), &l, 3);
	std::vector<std::string> args = { "--region", r.path(), "--ghost", "3",
					  "--duration", "1" };
	args.insert(args.end(), extra.begin(), extra.end());
	pid_t pid = start(prog, args);
	CHECK(pid > 0, "spawn failed");
	CHECK(wait_for([&] { return __atomic_load_n(&n->state, __ATOMIC_ACQUIRE) ==
				    SHMNIC_NODE_UP; }), "ghost not up");
	u32 epoch = __atomic_load_n(&n->epoch, __ATOMIC_ACQUIRE);
	u64 hb = __atomic_load_n(&n->heartbeat, __ATOMIC_ACQUIRE);
	CHECK(epoch == 1, "ghost epoch %u", epoch);
	CHECK(n->rx_slots == l.g.ring_slots && (n->flags & SHMNIC_NODE_F_RX(0)),
	      "entry: rx_slots %u flags %#x", n->rx_slots, n->flags);

	shmnic_ring tx;
	shmnic_ring_init_pair(&tx, shmnic_pair_ring_at(r.base(), &l, 0, 0, 3), &l);
	CHECK(wait_for([&] { return __atomic_load_n(&tx.rx->rx_epoch, __ATOMIC_ACQUIRE) ==
				    epoch; }), "ring 0->3 not set up");
	shmnic_tx_connect(&tx, 1, epoch, 0);
	const char frame[64] = "a frame for the ghost";
	int sent = 0;
	for (; sent < 60; sent++)
		if (shmnic_tx_put(&tx, frame, sizeof(frame), 0, nullptr))
			break;
	CHECK(sent == 60, "only %d frames fit", sent);
	CHECK(wait_for([&] { return __atomic_load_n(&n->heartbeat, __ATOMIC_ACQUIRE) !=
				    hb; }), "heartbeat stuck");
	int rc = reap(pid);
	CHECK(rc == 0, "ghost exit status %d", rc);
	CHECK(n->state == SHMNIC_NODE_ABSENT, "ghost entry left state %u", n->state);
	return static_cast<int>(__atomic_load_n(&tx.rx->cons, __ATOMIC_ACQUIRE) - tx.idx + 60);
}

// Write @mode into control file @path as a test would: a new file renamed
// over the old one.
void set_control(const std::string &path, const char *mode)
{
	const std::string tmp = path + ".tmp";
	std::FILE *f = std::fopen(tmp.c_str(), "w");

	CHECK(f && std::fprintf(f, "%s\n", mode) > 0 && !std::fclose(f) &&
	      !std::rename(tmp.c_str(), path.c_str()), "cannot write %s", path.c_str());
}

// --ghost-control: the ghost starts absent, joins, takes the lock, leaves
// and joins again under a new epoch as the file says; a line it cannot
// parse changes nothing.
void ghost_control(const std::string &prog, TempRegion &r, const shmnic_layout &l)
{
	format(r, l);
	const std::string ctl = r.path() + ".ghost";
	shmnic_node *n = shmnic_node_at(r.base(), &l, 3);
	auto *bc = static_cast<shmnic_bcast_hdr *>(shmnic_bcast_ring_at(r.base(), &l, 0));
	auto up = [&] { return __atomic_load_n(&n->state, __ATOMIC_ACQUIRE) == SHMNIC_NODE_UP; };
	auto locked = [&] { return __atomic_load_n(&bc->lock, __ATOMIC_ACQUIRE) == 4; };

	set_control(ctl, "absent");
	pid_t pid = start(prog, { "--region", r.path(), "--ghost", "3",
				  "--ghost-control", ctl, "--duration", "5" });
	CHECK(pid > 0, "spawn failed");
	::usleep(300000);
	CHECK(!up(), "a ghost told to be absent is up");
	set_control(ctl, "never");
	CHECK(wait_for(up), "the ghost did not join");
	u32 e1 = __atomic_load_n(&n->epoch, __ATOMIC_ACQUIRE);
	set_control(ctl, "20 lock");
	CHECK(wait_for(locked), "the ghost did not take the lock (%u)", bc->lock);
	set_control(ctl, "absent");
	CHECK(wait_for([&] { return !up() && !locked(); }),
	      "the ghost did not leave (state %u, lock %u)", n->state, bc->lock);
	set_control(ctl, "never");
	CHECK(wait_for(up), "the ghost did not join again");
	CHECK(n->epoch == e1 + 1, "epoch %u after %u", n->epoch, e1);
	set_control(ctl, "bogus");
	::usleep(100000);
	CHECK(up(), "a line it cannot parse changed the mode");
	CHECK(::kill(pid, SIGTERM) == 0, "kill");
	int rc = reap(pid);
	CHECK(rc == 0 && !up(), "exit %d, state %u", rc, n->state);
	::unlink(ctl.c_str());
}

u64 changed(const std::vector<u8> &before, const u8 *now, u64 from, u64 to)
{
	u64 n = 0;

	for (u64 i = from; i < to; i++)
		n += before[i] != now[i];
	return n;
}

} // namespace

int main(int argc, char **argv)
{
	if (argc != 2) {
		std::fprintf(stderr, "usage: %s PATH-TO-shmnic-scribble\n", argv[0]);
		return 2;
	}
	const std::string prog = argv[1];
	const shmnic_geometry g = { .max_nodes = 4, .ring_slots = 128,
				    .buf_size = 2048, .bcast_slots = 128,
				    .nets = 2, .mcast_rings = 2,
				    .flow_slots = 256 };
	shmnic_layout l;

	if (shmnic_layout_compute(&g, ~0ull, &l)) {
		std::fprintf(stderr, "layout_compute failed\n");
		return 1;
	}
	TempRegion r(l.size);
	if (!r.ok()) {
		std::perror("temp region");
		return 1;
	}

	/* 1. default mode (both), 0.5 s */
	format(r, l);
	std::vector<u8> before(r.base(), r.base() + r.size());
	int rc = scribble(prog, { "--region", r.path(), "--duration", "0.5",
				  "--seed", "1", "--nodes", "3" });
	CHECK(rc == 0, "exit status %d", rc);
	u64 all = changed(before, r.base(), 0, r.size());
	u64 nodes = changed(before, r.base(), l.node_off, l.net_off[0]);
	u64 rings = 0;
	for (u32 to = 0; to < 3; to++)
		for (u32 from = 0; from < 3; from++) {
			u64 o = (u8 *)shmnic_pair_ring_at(r.base(), &l, 0, from, to) -
				r.base();
			rings += changed(before, r.base(), o, o + l.ring_desc_off);
		}
	const u64 flow_end = l.flow_off + (u64)g.max_nodes * g.flow_slots *
					      sizeof(shmnic_flow);
	u64 flows = changed(before, r.base(), l.flow_off, flow_end);
	std::printf("both: %llu bytes changed, %llu in the node table, %llu in "
		    "ring headers of nodes 0-2, %llu in the flow table\n",
		    (unsigned long long)all, (unsigned long long)nodes,
		    (unsigned long long)rings, (unsigned long long)flows);
	CHECK(all > 1000, "only %llu bytes changed", (unsigned long long)all);
	CHECK(nodes > 0, "node table untouched");
	CHECK(rings > 0, "ring headers untouched");
	CHECK(flows > 0, "flow table untouched");

	/* 2. --spare-header: the header page stays as it was */
	format(r, l);
	before.assign(r.base(), r.base() + r.size());
	rc = scribble(prog, { "--region", r.path(), "--duration", "0.3",
			      "--rate", "50000", "--spare-header", "--quiet" });
	CHECK(rc == 0, "exit status %d", rc);
	all = changed(before, r.base(), 0, r.size());
	u64 hdr = changed(before, r.base(), 0, SHMNIC_PAGE);
	std::printf("spare-header: %llu bytes changed, %llu in the header page\n",
		    (unsigned long long)all, (unsigned long long)hdr);
	CHECK(all > 0, "nothing changed");
	CHECK(hdr == 0, "header page changed (%llu bytes)", (unsigned long long)hdr);

	/* 3. damaged header, --mode targeted: random bytes, still exit 0 */
	format(r, l);
	reinterpret_cast<shmnic_region *>(r.base())->magic = 0;
	before.assign(r.base(), r.base() + r.size());
	rc = scribble(prog, { "--region", r.path(), "--duration", "0.2",
			      "--mode", "targeted" });
	CHECK(rc == 0, "exit status %d", rc);
	all = changed(before, r.base(), 0, r.size());
	std::printf("damaged header: %llu bytes changed\n", (unsigned long long)all);
	CHECK(all > 0, "nothing changed");

	/* 4. --kinds node_table: only the node table changes */
	format(r, l);
	before.assign(r.base(), r.base() + r.size());
	rc = scribble(prog, { "--region", r.path(), "--duration", "0.2",
			      "--kinds", "node_table", "--quiet" });
	CHECK(rc == 0, "exit status %d", rc);
	nodes = changed(before, r.base(), l.node_off, l.net_off[0]);
	all = changed(before, r.base(), 0, r.size());
	std::printf("kinds node_table: %llu bytes changed, %llu in the node table\n",
		    (unsigned long long)all, (unsigned long long)nodes);
	CHECK(nodes > 0 && all == nodes, "writes outside the node table");

	/* 5. --kinds flow_table: only the flow table changes, and some
	 * entries end up readable (fake entries) */
	format(r, l);
	before.assign(r.base(), r.base() + r.size());
	rc = scribble(prog, { "--region", r.path(), "--duration", "0.3",
			      "--kinds", "flow_table", "--nodes", "3", "--seed", "5",
			      "--quiet" });
	CHECK(rc == 0, "exit status %d", rc);
	flows = changed(before, r.base(), l.flow_off, flow_end);
	all = changed(before, r.base(), 0, r.size());
	u64 readable = 0;
	for (u32 id = 0; id < g.max_nodes; id++) {
		shmnic_flow *part = shmnic_flow_part(r.base(), &l, id);
		for (u32 i = 0; i < g.flow_slots; i++) {
			shmnic_flow f;
			readable += !shmnic_flow_read(&part[i], &f);
		}
	}
	std::printf("kinds flow_table: %llu bytes changed, %llu in the flow table, "
		    "%llu entries readable\n", (unsigned long long)all,
		    (unsigned long long)flows, (unsigned long long)readable);
	CHECK(flows > 0 && all == flows, "writes outside the flow table");
	CHECK(readable > 0, "no consistent fake entries");

	/* 5b. --kinds listen_page, counters: only the listener pages, only
	 * the counters' parts change */
	auto only_in = [&](const char *kind, const char *seed, u64 lo, u64 hi) {
		format(r, l);
		before.assign(r.base(), r.base() + r.size());
		int st = scribble(prog, { "--region", r.path(), "--duration", "0.2",
					  "--kinds", kind, "--nodes", "3", "--seed", seed,
					  "--quiet" });
		CHECK(st == 0, "%s: exit status %d", kind, st);
		u64 in = changed(before, r.base(), lo, hi);
		u64 any = changed(before, r.base(), 0, r.size());
		std::printf("kinds %s: %llu bytes changed, %llu where it aims\n", kind,
			    (unsigned long long)any, (unsigned long long)in);
		CHECK(in > 0 && any == in, "%s: writes outside where it aims", kind);
	};
	only_in("listen_page", "6", l.listen_off,
		l.listen_off + (u64)g.max_nodes * SHMNIC_LISTEN_BYTES);
	only_in("counters", "7", l.ctrs_off, l.ctrs_off + (u64)g.max_nodes * SHMNIC_CTRS_BYTES);
	u64 pages;

	/* 5c. --publish: node 1 publishes a TCP listener on port 80, IPv4
	 * and IPv6, which a gateway's scan finds; nothing else changes */
	format(r, l);
	before.assign(r.base(), r.base() + r.size());
	rc = scribble(prog, { "--region", r.path(), "--publish", "1,tcp,80" });
	CHECK(rc == 0, "--publish: exit status %d", rc);
	pages = changed(before, r.base(), l.listen_off,
			l.listen_off + (u64)g.max_nodes * SHMNIC_LISTEN_BYTES);
	all = changed(before, r.base(), 0, r.size());
	{
		const u8 addr[16] = { 10, 99, 0, 1 };
		shmnic_listen_found f{};
		int err = shmnic_listen_scan(shmnic_listen_page(r.base(), &l, 1), 0, 4,
					     SHMNIC_PROTO_TCP, htons(80), addr, 1, &f);
		std::printf("publish: %llu bytes changed, scan %d, %u matches\n",
			    (unsigned long long)all, err, f.matches);
		CHECK(err == 0 && f.matches == 1 && f.bad == 0, "the listener is not found");
		CHECK(all == pages, "--publish wrote outside the listener pages");
	}
	CHECK(scribble(prog, { "--region", r.path(), "--publish", "1,icmp,80" }) == 2,
	      "--publish with a bad protocol accepted");

	/* 6. the ghost node */
	int slow = ghost_consumed(prog, r, l, { "--ghost-drain", "10" });
	int never = ghost_consumed(prog, r, l, {});
	std::printf("ghost: drained %d of 60 frames at 10/s, %d with never\n", slow, never);
	CHECK(slow >= 1 && slow <= 30, "--ghost-drain 10 consumed %d", slow);
	CHECK(never == 0, "a ghost that never drains consumed %d", never);

	format(r, l);
	auto *bc = static_cast<shmnic_bcast_hdr *>(shmnic_bcast_ring_at(r.base(), &l, 0));
	pid_t pid = start(prog, { "--region", r.path(), "--ghost", "3",
				  "--ghost-hold-lock", "--duration", "0.5" });
	CHECK(wait_for([&] { return __atomic_load_n(&bc->lock, __ATOMIC_ACQUIRE) == 4 &&
				    __atomic_load_n(&bc->widx, __ATOMIC_ACQUIRE) > 1; }),
	      "lock %u widx %u", bc->lock, bc->widx);
	rc = reap(pid);
	CHECK(rc == 0 && bc->lock == 0, "exit %d, lock %u after the ghost", rc, bc->lock);
	ghost_control(prog, r, l);
	format(r, l);
	{
		// node 2 is up and alive: its heartbeat moves
		std::atomic<bool> done{ false };
		std::thread beat([&] {
			shmnic_node *n2 = shmnic_node_at(r.base(), &l, 2);
			while (!done) {
				__atomic_fetch_add(&n2->heartbeat, 1, __ATOMIC_RELEASE);
				::usleep(50000);
			}
		});
		rc = scribble(prog, { "--region", r.path(), "--ghost", "2",
				      "--duration", "0.1" });
		done = true;
		beat.join();
		CHECK(rc == 1, "a ghost took node 2, which is up (exit %d)", rc);
	}
	format(r, l);
	rc = scribble(prog, { "--region", r.path(), "--ghost", "2", "--duration",
			      "0.1" });
	CHECK(rc == 0, "a ghost did not take node 2, dead (exit %d)", rc);

	/* 7. usage errors */
	CHECK(scribble(prog, { "--region", r.path(), "--mode", "bogus" }) == 2,
	      "bad --mode accepted");
	CHECK(scribble(prog, { "--duration", "1" }) == 2, "missing --region accepted");
	CHECK(scribble(prog, { "--region", r.path(), "--kinds", "pair_prod,bogus" }) == 2,
	      "bad --kinds accepted");
	CHECK(scribble(prog, { "--region", r.path(), "--ghost-drain", "5" }) == 2,
	      "--ghost-drain without --ghost accepted");
	CHECK(scribble(prog, { "--region", r.path(), "--ghost-control", "f" }) == 2,
	      "--ghost-control without --ghost accepted");
	CHECK(scribble(prog, { "--region", r.path(), "--ghost", "3", "--ghost-drain",
			       "-1" }) == 2, "bad --ghost-drain accepted");
	CHECK(scribble(prog, { "--region", r.path() + ".missing", "--duration",
			       "0.1" }) == 1, "missing file accepted");

	if (failures) {
		std::fprintf(stderr, "%d check(s) failed\n", failures);
		return 1;
	}
	std::printf("PASS\n");
	return 0;
}
