// SPDX-License-Identifier: GPL-2.0
/*
 * The ghost node (shmnic-scribble --ghost ID). It does what a node's driver
 * does to be seen as up, and nothing a node does to be a good peer:
 *
 *  - writes its node table entry (state up, a new epoch, MAC
 *    02:53:4d:00:HH:LL, receiving on the local network) and bumps its
 *    heartbeat ten times a second, so every node sees it up;
 *  - sets up its receive ring from every other node on the local network,
 *    so senders connect to it, and then consumes nothing (default), or
 *    --ghost-drain N frames a second from each ring, never ringing a
 *    doorbell;
 *  - with --ghost-hold-lock, takes the local broadcast ring's lock and keeps
 *    it, moving the write index on by one slot every 50 ms, as a writer
 *    that never finishes would.
 *
 * It has no doorbell (it is no ivshmem peer): senders that wait for one
 * must find out by themselves that it does not come.
 *
 * With --ghost-control FILE it reads FILE every pass and takes on the mode
 * it names (ghost_parse_control()): a test switches between "no ghost" and
 * a misbehaving one in a fraction of a second, without a new process, to
 * compare the two in turns.
 */
#include "ghost.h"

#include <shmnic/ring.h>

#include <cctype>
#include <cerrno>
#include <cinttypes>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <vector>

namespace {

constexpr const char *kProg = "shmnic-scribble";
constexpr double kTick = 0.01;		// seconds between passes
constexpr double kBeat = 0.1;		// seconds between heartbeats
constexpr double kWidxStep = 0.05;	// --ghost-hold-lock: widx bump period

double mono_now()
{
	timespec ts{};

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
}

void sleep_s(double s)
{
	timespec ts{};

	ts.tv_sec = static_cast<time_t>(s);
	ts.tv_nsec = static_cast<long>((s - static_cast<double>(ts.tv_sec)) * 1e9);
	nanosleep(&ts, nullptr);
}

// A node id is free when its entry is not up, or up with a heartbeat that
// does not move for a second (a dead node's leftover).
bool id_free(const shmnic_node *n)
{
	if (READ_ONCE(n->state) != SHMNIC_NODE_UP)
		return true;
	u64 hb = READ_ONCE(n->heartbeat);
	sleep_s(1.2);
	return READ_ONCE(n->heartbeat) == hb;
}

struct RxRing {
	u32 from;
	shmnic_ring r;
	double credit = 0;	// frames it may still consume (--ghost-drain)
};

class Ghost {
public:
	Ghost(u8 *base, const shmnic_layout &l, u32 id)
		: base_(base), l_(l), id_(id), self_(shmnic_node_at(base, &l, id))
	{
		mode_.absent = true;
	}

	// Take on mode @m: join under a new epoch, leave, or change what it
	// does while up.
	void set_mode(const GhostMode &m)
	{
		if (m.absent && !mode_.absent)
			leave();
		if (!m.hold_lock)
			unlock();
		bool join_now = !m.absent && mode_.absent;
		mode_ = m;
		if (join_now)
			join();
	}

	// One pass: heartbeat, drain, lock; @dt seconds since the last one.
	void tick(double now, double dt)
	{
		if (mode_.absent)
			return;
		if (now - last_beat_ >= kBeat) {
			last_beat_ = now;
			write_entry();
		}
		if (mode_.drain)
			drain(dt);
		if (mode_.hold_lock)
			hold_lock(now);
	}

	void summary(std::FILE *out, double secs) const
	{
		u64 waiting = 0;

		for (const RxRing &rr : rings_) {
			int a = shmnic_rx_avail(&rr.r);
			if (a > 0)
				waiting += static_cast<u64>(a);
		}
		std::fprintf(out, "%s: ghost node %u (epoch %u): %" PRIu64
			     " frames consumed, %" PRIu64 " ring resets, %" PRIu64
			     " slots left unread, broadcast lock %s, write index "
			     "moved %" PRIu64 " times, %" PRIu64 " joins, %" PRIu64
			     " heartbeats in %.1f s\n",
			     kProg, id_, epoch_, consumed_, resets_, waiting,
			     locked_ ? "held to the end" : ever_locked_ ? "let go"
					    : "never taken",
			     widx_moves_, joins_, beats_, secs);
	}

	static void describe(std::FILE *out, u32 id, const GhostMode &m)
	{
		if (m.absent) {
			std::fprintf(out, "%s: ghost node %u: absent\n", kProg, id);
			return;
		}
		std::fprintf(out, "%s: ghost node %u: drains %s, %s\n", kProg, id,
			     m.drain ? (std::to_string(m.drain) + " frames/s per ring").c_str()
				     : "nothing",
			     m.hold_lock ? "holds the broadcast lock"
					 : "leaves the locks alone");
	}

private:
	void join()
	{
		u32 e = READ_ONCE(self_->epoch) + 1;

		epoch_ = e ? e : 1;
		WRITE_ONCE(self_->state, SHMNIC_NODE_ABSENT);
		rings_.clear();
		for (u32 from = 0; from < l_.g.max_nodes; from++) {
			if (from == id_)
				continue;
			RxRing rr{ from, {} };
			shmnic_ring_init_pair(&rr.r, shmnic_pair_ring_at(base_, &l_,
						SHMNIC_NET_LOCAL, from, id_), &l_);
			shmnic_rx_setup(&rr.r, epoch_);
			rings_.push_back(rr);
		}
		last_beat_ = mono_now();
		write_entry();
		joins_++;
	}

	void leave()
	{
		WRITE_ONCE(self_->state, SHMNIC_NODE_LEAVING);
		WRITE_ONCE(self_->flags, 0);
		WRITE_ONCE(self_->state, SHMNIC_NODE_ABSENT);
		unlock();
	}

	void unlock()
	{
		if (locked_)
			shmnic_cmpxchg32(&bc_.bc->lock, id_ + 1, 0);
		locked_ = false;
	}

	void write_entry()
	{
		const u8 mac[6] = { 0x02, 0x53, 0x4d, 0x00,
				    static_cast<u8>(id_ >> 8),
				    static_cast<u8>(id_) };

		std::memcpy(self_->mac, mac, sizeof(mac));
		WRITE_ONCE(self_->mtu, 1500u);
		WRITE_ONCE(self_->rx_slots, l_.g.ring_slots);
		WRITE_ONCE(self_->flags, static_cast<u16>(SHMNIC_NODE_F_RX(SHMNIC_NET_LOCAL)));
		WRITE_ONCE(self_->mc_filter[SHMNIC_NET_LOCAL], ~0ull);
		WRITE_ONCE(self_->heartbeat, ++beat_);
		smp_wmb();
		WRITE_ONCE(self_->epoch, epoch_);
		smp_wmb();
		WRITE_ONCE(self_->state, SHMNIC_NODE_UP);
		beats_++;
	}

	void drain(double dt)
	{
		for (RxRing &rr : rings_) {
			shmnic_frame f{};

			rr.credit += static_cast<double>(mode_.drain) * dt;
			if (rr.credit > static_cast<double>(mode_.drain))
				rr.credit = static_cast<double>(mode_.drain);
			if (READ_ONCE(rr.r.tx->rx_epoch) != epoch_)
				continue;
			while (rr.credit >= 1) {
				int err = shmnic_rx_peek(&rr.r, &f);

				if (err == -EAGAIN)
					break;
				if (err) {
					shmnic_rx_reset(&rr.r);
					resets_++;
					break;
				}
				shmnic_rx_consume(&rr.r, &f);
				rr.credit -= 1;
				consumed_++;
			}
		}
	}

	void hold_lock(double now)
	{
		if (!locked_) {
			shmnic_ring_init_bcast(&bc_, shmnic_bcast_ring_at(base_, &l_,
						SHMNIC_NET_LOCAL), &l_);
			locked_ = shmnic_bc_trylock(&bc_, id_);
			ever_locked_ |= locked_;
			return;
		}
		if (READ_ONCE(bc_.bc->lock) != id_ + 1) {
			locked_ = false;	// broken by a watcher: take it again
			return;
		}
		if (now - last_widx_ >= kWidxStep) {
			last_widx_ = now;
			WRITE_ONCE(bc_.bc->widx, READ_ONCE(bc_.bc->widx) + 1);
			widx_moves_++;
		}
	}

	u8 *base_;
	const shmnic_layout &l_;
	u32 id_;
	shmnic_node *self_;
	GhostMode mode_;
	u32 epoch_ = 0;
	u64 beat_ = 0;
	std::vector<RxRing> rings_;
	shmnic_ring bc_{};
	bool locked_ = false, ever_locked_ = false;
	double last_beat_ = 0, last_widx_ = 0;
	u64 consumed_ = 0, resets_ = 0, widx_moves_ = 0, joins_ = 0, beats_ = 0;
};

// The mode named in control file @path; false if it cannot be read or
// parsed (the caller keeps the mode it has).
bool read_control(const std::string &path, GhostMode &m)
{
	std::ifstream f(path);
	std::string line;

	return f && std::getline(f, line) && ghost_parse_control(line, m);
}

} // namespace

bool ghost_parse_drain(const std::string &s, u64 &fps)
{
	char *end = nullptr;

	if (s == "never") {
		fps = 0;
		return true;
	}
	if (s.empty() || s[0] == '-')
		return false;
	errno = 0;
	fps = std::strtoull(s.c_str(), &end, 10);
	return !errno && *end == '\0' && fps <= 1000000;
}

bool ghost_parse_control(const std::string &line, GhostMode &m)
{
	std::string s = line;
	GhostMode n;

	while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
		s.pop_back();
	if (s == "absent") {
		m = GhostMode{ .absent = true };
		return true;
	}
	const std::string lock = " lock";
	if (s.size() > lock.size() && s.ends_with(lock)) {
		n.hold_lock = true;
		s.resize(s.size() - lock.size());
	}
	if (!ghost_parse_drain(s, n.drain))
		return false;
	m = n;
	return true;
}

int ghost_run(u8 *base, const shmnic_layout &l, const GhostOptions &o,
	      const volatile std::sig_atomic_t &stop, std::FILE *out)
{
	if (o.id >= l.g.max_nodes) {
		std::fprintf(stderr, "%s: --ghost %u: the region has ids 0..%u\n",
			     kProg, o.id, l.g.max_nodes - 1);
		return 1;
	}
	if (!id_free(shmnic_node_at(base, &l, o.id))) {
		std::fprintf(stderr, "%s: --ghost %u: that node is up\n", kProg, o.id);
		return 1;
	}
	GhostMode mode = o.mode;
	if (!o.control.empty())
		read_control(o.control, mode);
	Ghost g(base, l, o.id);
	g.set_mode(mode);
	Ghost::describe(out, o.id, mode);
	std::fflush(out);

	double t0 = mono_now(), last = t0, now = t0;
	while (!stop && (o.duration <= 0 || now - t0 < o.duration)) {
		sleep_s(kTick);
		now = mono_now();
		GhostMode m = mode;
		if (!o.control.empty() && read_control(o.control, m) && !(m == mode)) {
			mode = m;
			g.set_mode(mode);
			Ghost::describe(out, o.id, mode);
			std::fflush(out);
		}
		g.tick(now, now - last);
		last = now;
	}
	g.summary(out, now - t0);
	g.set_mode(GhostMode{ .absent = true });
	return 0;
}
