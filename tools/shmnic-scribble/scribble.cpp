// SPDX-License-Identifier: GPL-2.0
/*
 * shmnic-scribble: corrupt a running cluster's shared region on purpose.
 *
 * Maps the region file (e.g. /dev/shm/<name>) MAP_SHARED and, for a given
 * time and at a given rate, writes random bytes anywhere (also into the
 * region header, unless --spare-header) and targeted bad values into the
 * words the nodes read: ring indices, descriptors, fake frames, broadcast
 * lock and write index, node table entries, flow table entries, the region
 * header. The layout
 * is found with shmnic_region_check() on the header; when the header is not
 * valid only random bytes are written. See shmnic-scribble.1.
 */
#include "ghost.h"

#include <shmnic/counters.h>
#include <shmnic/flow.h>
#include <shmnic/layout.h>
#include <shmnic/listen.h>

#include <algorithm>

#include <array>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

namespace {

constexpr const char *kProg = "shmnic-scribble";

volatile std::sig_atomic_t g_stop;

void on_signal(int) { g_stop = 1; }

// SIGTERM, SIGINT and SIGHUP end the run (the summary is still printed).
void catch_signals()
{
	struct sigaction sa{};

	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, nullptr);
	sigaction(SIGINT, &sa, nullptr);
	sigaction(SIGHUP, &sa, nullptr);
}

// --- resources ---------------------------------------------------------------

class UniqueFd {
public:
	explicit UniqueFd(int fd) noexcept : fd_(fd) {}
	UniqueFd(const UniqueFd &) = delete;
	UniqueFd &operator=(const UniqueFd &) = delete;
	~UniqueFd()
	{
		if (fd_ >= 0)
			::close(fd_);
	}
	int get() const noexcept { return fd_; }

private:
	int fd_;
};

class Mapping {
public:
	Mapping(void *p, size_t len) noexcept : p_(p), len_(len) {}
	Mapping(const Mapping &) = delete;
	Mapping &operator=(const Mapping &) = delete;
	~Mapping()
	{
		if (p_ != MAP_FAILED)
			::munmap(p_, len_);
	}
	bool ok() const noexcept { return p_ != MAP_FAILED; }
	u8 *data() const noexcept { return static_cast<u8 *>(p_); }

private:
	void *p_;
	size_t len_;
};

// --- options -------------------------------------------------------------------

// Kinds of writes, counted separately in the summary.
enum Kind {
	K_RANDOM_ANY,		// random bytes anywhere
	K_RANDOM_HOT,		// random bytes in headers, descriptors, node table
	K_PAIR_PROD,		// pair ring producer index jumps
	K_PAIR_CONS,		// pair ring consumer index jumps
	K_PAIR_EPOCH,		// pair ring tx/rx epochs
	K_PAIR_BELL,		// kick/space request and answer words
	K_PAIR_DESC,		// bad values in descriptors near the indices
	K_PAIR_FRAME,		// fake frames published in a pair ring
	K_BC_LOCK,		// broadcast lock held by bogus holders
	K_BC_WIDX,		// broadcast write index jumps
	K_BC_HDR,		// multicast label: gen, owner, start, group
	K_BC_DESC,		// broadcast descriptors with plausible seq
	K_BC_FRAME,		// fake broadcast frames
	K_NODE,			// node table entries
	K_HEADER,		// region header fields
	K_DATA,			// random bytes in slot buffers near the indices
	K_FLOW,			// flow table entries (struct shmnic_flow)
	K_LISTEN,		// published listeners (struct shmnic_listen_hdr)
	K_CTRS,			// published counters (struct shmnic_ctrs)
	K_COUNT
};

constexpr std::array<const char *, K_COUNT> kKindName = {
	"random_any", "random_hot", "pair_prod", "pair_cons", "pair_epoch",
	"pair_doorbell", "pair_desc", "pair_frame", "bcast_lock",
	"bcast_widx", "bcast_hdr", "bcast_desc", "bcast_frame", "node_table",
	"region_header", "slot_data", "flow_table", "listen_page",
	"counters",
};


enum class Mode { Random, Targeted, Both };

struct Options {
	std::string region;
	double duration = 10.0;		// seconds, 0: until SIGTERM/SIGINT
	u64 rate = 20000;		// writes per second, 0: unlimited
	std::optional<u64> seed;
	Mode mode = Mode::Both;
	bool spare_header = false;
	u32 nodes = 0;			// 0: from the node table
	bool quiet = false;
	std::vector<int> kinds;		// --kinds: only these (Kind values)
	bool ghost = false;		// --ghost ID: be a ghost node instead
	std::optional<shmnic_listener> publish;	// --publish: ... and its node
	u32 publish_node = 0;
	GhostOptions g;
};

void usage(FILE *f)
{
	std::fprintf(f,
		"usage: %s --region FILE [--duration S] [--rate N] [--seed N]\n"
		"       [--mode random|targeted|both] [--spare-header] [--nodes N]\n"
		"       [--kinds KIND,...] [--quiet]\n"
		"       %s --region FILE --ghost ID [--ghost-drain never|N]\n"
		"       [--ghost-hold-lock] [--ghost-control FILE] [--duration S]\n"
		"       %s --region FILE --publish ID,tcp|udp|junk,PORT\n"
		"Write random bytes and targeted bad values into a shmnic region\n"
		"(see shmnic-scribble(1)). Defaults: --duration 10 (0: until SIGTERM),\n"
		"--rate 20000 writes/s (0: unlimited), --mode both, random seed.\n"
		"--ghost: join as node ID and never drain (or drain N frames/s);\n"
		"--ghost-control: take the mode from FILE's first line, read again\n"
		"every 10 ms (absent | never | N, then \" lock\" to hold the lock).\n"
		"--publish: add a listener on PORT (any address, IPv4 and IPv6) to\n"
		"node ID's published listeners, as that node would, and exit (junk:\n"
		"two entries no reader may accept).\n",
		kProg, kProg, kProg);
}

bool parse_u64(std::string_view s, u64 &v)
{
	char *end = nullptr;
	std::string str(s);

	if (str.empty() || str[0] == '-')
		return false;
	errno = 0;
	v = std::strtoull(str.c_str(), &end, 0);
	return !errno && *end == '\0';
}

bool parse_seconds(std::string_view s, double &v)
{
	char *end = nullptr;
	std::string str(s);

	if (str.empty())
		return false;
	errno = 0;
	v = std::strtod(str.c_str(), &end);
	return !errno && *end == '\0' && v >= 0 && v < 1e7;
}

// --publish ID,tcp|udp,PORT
bool parse_publish(std::string_view v, Options &o)
{
	size_t c1 = v.find(','), c2 = v.rfind(',');
	u64 id, port;

	if (c1 == v.npos || c1 == c2 || !parse_u64(v.substr(0, c1), id) ||
	    id >= SHMNIC_MAX_NODES || !parse_u64(v.substr(c2 + 1), port) ||
	    !port || port > 65535)
		return false;
	std::string_view proto = v.substr(c1 + 1, c2 - c1 - 1);
	shmnic_listener e{};
	if (proto == "tcp")
		e.proto = SHMNIC_PROTO_TCP;
	else if (proto == "udp")
		e.proto = SHMNIC_PROTO_UDP;
	else if (proto == "junk")
		e.proto = 1;	/* ICMP: never valid, and the family is bad too */
	else
		return false;
	e.port = htons(static_cast<u16>(port));
	o.publish = e;
	o.publish_node = static_cast<u32>(id);
	return true;
}

// Returns 0, or the exit status (2 usage error, -1 help printed).
int parse_args(int argc, char **argv, Options &o)
{
	for (int i = 1; i < argc; i++) {
		std::string_view a = argv[i];
		auto value = [&](std::string_view &v) {
			if (i + 1 >= argc) {
				std::fprintf(stderr, "%s: %s needs a value\n", kProg,
					     argv[i]);
				return false;
			}
			v = argv[++i];
			return true;
		};
		std::string_view v;
		u64 n;

		if (a == "-h" || a == "--help") {
			usage(stdout);
			return -1;
		} else if (a == "--spare-header") {
			o.spare_header = true;
		} else if (a == "--quiet") {
			o.quiet = true;
		} else if (a == "--region") {
			if (!value(v))
				return 2;
			o.region = v;
		} else if (a == "--duration") {
			if (!value(v) || !parse_seconds(v, o.duration)) {
				std::fprintf(stderr, "%s: bad --duration\n", kProg);
				return 2;
			}
		} else if (a == "--rate") {
			if (!value(v) || !parse_u64(v, o.rate) ||
			    o.rate > 100000000) {
				std::fprintf(stderr, "%s: bad --rate\n", kProg);
				return 2;
			}
		} else if (a == "--seed") {
			if (!value(v) || !parse_u64(v, n)) {
				std::fprintf(stderr, "%s: bad --seed\n", kProg);
				return 2;
			}
			o.seed = n;
		} else if (a == "--nodes") {
			if (!value(v) || !parse_u64(v, n) || n < 1 ||
			    n > SHMNIC_MAX_NODES) {
				std::fprintf(stderr, "%s: --nodes must be 1..%u\n",
					     kProg, SHMNIC_MAX_NODES);
				return 2;
			}
			o.nodes = static_cast<u32>(n);
		} else if (a == "--kinds") {
			if (!value(v))
				return 2;
			while (!v.empty()) {
				size_t c = v.find(',');
				std::string_view k = v.substr(0, c);
				int found = -1;

				for (int j = 0; j < K_COUNT; j++)
					if (k == kKindName[j])
						found = j;
				if (found < 0) {
					std::fprintf(stderr, "%s: unknown kind '%.*s'\n",
						     kProg, (int)k.size(), k.data());
					return 2;
				}
				o.kinds.push_back(found);
				v = c == v.npos ? std::string_view() : v.substr(c + 1);
			}
		} else if (a == "--ghost") {
			if (!value(v) || !parse_u64(v, n) || n >= SHMNIC_MAX_NODES) {
				std::fprintf(stderr, "%s: --ghost must be 0..%u\n",
					     kProg, SHMNIC_MAX_NODES - 1);
				return 2;
			}
			o.ghost = true;
			o.g.id = static_cast<u32>(n);
		} else if (a == "--publish") {
			if (!value(v) || !parse_publish(v, o)) {
				std::fprintf(stderr, "%s: --publish takes ID,tcp|udp|junk,PORT\n",
					     kProg);
				return 2;
			}
		} else if (a == "--ghost-drain") {
			if (!value(v) || !ghost_parse_drain(std::string(v), o.g.mode.drain)) {
				std::fprintf(stderr, "%s: bad --ghost-drain\n", kProg);
				return 2;
			}
		} else if (a == "--ghost-hold-lock") {
			o.g.mode.hold_lock = true;
		} else if (a == "--ghost-control") {
			if (!value(v))
				return 2;
			o.g.control = std::string(v);
		} else if (a == "--mode") {
			if (!value(v))
				return 2;
			if (v == "random")
				o.mode = Mode::Random;
			else if (v == "targeted")
				o.mode = Mode::Targeted;
			else if (v == "both")
				o.mode = Mode::Both;
			else {
				std::fprintf(stderr, "%s: bad --mode '%s'\n", kProg,
					     argv[i]);
				return 2;
			}
		} else {
			std::fprintf(stderr, "%s: unknown argument '%s'\n", kProg,
				     argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (!o.ghost && (o.g.mode.drain || o.g.mode.hold_lock || !o.g.control.empty())) {
		std::fprintf(stderr, "%s: --ghost-drain, --ghost-hold-lock and --ghost-control need --ghost\n",
			     kProg);
		return 2;
	}
	if (o.region.empty()) {
		std::fprintf(stderr, "%s: --region FILE is required\n", kProg);
		usage(stderr);
		return 2;
	}
	return 0;
}

// --- the scribbler -------------------------------------------------------------

class Scribbler {
public:
	Scribbler(u8 *base, u64 size, const Options &o, u64 seed)
		: base_(base), size_(size), o_(o), rng_(seed)
	{
		lo_ = o.spare_header && size > SHMNIC_PAGE ? SHMNIC_PAGE : 0;
	}

	// Take the layout from a snapshot of the header. False if not valid.
	bool find_layout()
	{
		struct shmnic_region r;

		std::memcpy(&r, base_, sizeof(r));
		if (shmnic_region_check(&r, size_, &l_))
			return false;
		have_layout_ = true;
		nodes_ = o_.nodes ? o_.nodes : nodes_in_table();
		if (nodes_ > l_.g.max_nodes)
			nodes_ = l_.g.max_nodes;
		return true;
	}

	bool have_layout() const { return have_layout_; }
	u32 nodes() const { return nodes_; }
	const shmnic_layout &layout() const { return l_; }

	void one(Mode mode)
	{
		bool targeted = have_layout_ &&
				(mode == Mode::Targeted ||
				 (mode == Mode::Both && (rng_() & 1)));

		if (have_layout_ && !o_.kinds.empty()) {
			kind_ = static_cast<Kind>(o_.kinds[below(o_.kinds.size())]);
			if (kind_ == K_RANDOM_ANY)
				random_any();
			else if (kind_ == K_RANDOM_HOT)
				random_hot();
			else
				one_targeted(kind_);
		} else if (targeted) {
			one_targeted(static_cast<Kind>(K_PAIR_PROD +
						       below(K_COUNT - K_PAIR_PROD)));
		} else if (have_layout_ && (rng_() & 1)) {
			random_hot();
		} else {
			random_any();
		}
		count_[kind_]++;
		writes_++;
	}

	void summary(FILE *f, double secs, u64 seed) const
	{
		std::fprintf(f,
			"%s: %" PRIu64 " writes in %.2f s (%.0f/s), %" PRIu64
			" stores, %" PRIu64 " bytes changed, seed %" PRIu64 "\n",
			kProg, writes_, secs, secs > 0 ? writes_ / secs : 0.0,
			stores_, changed_, seed);
		for (int k = 0; k < K_COUNT; k++)
			if (count_[k])
				std::fprintf(f, "%s:   %-14s %" PRIu64 "\n", kProg,
					     kKindName[k], count_[k]);
	}

private:
	u8 *base_;
	u64 size_;
	u64 lo_;
	const Options &o_;
	std::mt19937_64 rng_;
	shmnic_layout l_{};
	bool have_layout_ = false;
	u32 nodes_ = 0;
	u64 writes_ = 0;
	u64 changed_ = 0;
	u64 stores_ = 0;
	std::array<u64, K_COUNT> count_{};
	Kind kind_ = K_RANDOM_ANY;

	// -- primitives --

	u64 below(u64 n) { return n ? rng_() % n : 0; }
	bool chance(u32 one_in) { return below(one_in) == 0; }

	template <typename T, size_t N>
	T pick(const std::array<T, N> &a) { return a[below(N)]; }

	// Store @v at @off (naturally aligned) as one access, like a peer would.
	template <typename T> void put(u64 off, T v)
	{
		static_assert(sizeof(T) <= 8);
		if (off < lo_ || off + sizeof(T) > size_ || off % sizeof(T))
			return;
		T *p = reinterpret_cast<T *>(base_ + off);
		T old = __atomic_load_n(p, __ATOMIC_RELAXED);

		__atomic_store_n(p, v, __ATOMIC_RELEASE);
		for (size_t i = 0; i < sizeof(T); i++)
			changed_ += ((old ^ v) >> (8 * i) & 0xff) != 0;
		stores_++;
	}

	template <typename T> T get(u64 off) const
	{
		if (off + sizeof(T) > size_ || off % sizeof(T))
			return 0;
		return __atomic_load_n(reinterpret_cast<const T *>(base_ + off),
				       __ATOMIC_ACQUIRE);
	}

	void put_bytes(u64 off, u64 len)
	{
		for (u64 i = 0; i < len; i++)
			put<u8>(off + i, static_cast<u8>(rng_()));
	}

	// Random bytes (1, 2, 4, 8 bytes as one store, or a run) at [lo, hi).
	void random_in(u64 lo, u64 hi)
	{
		u64 off, len;

		lo = lo < lo_ ? lo_ : lo;
		if (hi > size_)
			hi = size_;
		if (hi <= lo)
			return;
		off = lo + below(hi - lo);
		switch (below(5)) {
		case 0: put<u8>(off, static_cast<u8>(rng_())); break;
		case 1: put<u16>(off & ~1ull, static_cast<u16>(rng_())); break;
		case 2: put<u32>(off & ~3ull, static_cast<u32>(rng_())); break;
		case 3: put<u64>(off & ~7ull, rng_()); break;
		default:
			len = 1 + below(64);
			put_bytes(off, len < hi - off ? len : hi - off);
		}
	}

	void random_any()
	{
		kind_ = K_RANDOM_ANY;
		random_in(0, size_);
	}

	// -- where things are --

	u32 max_nodes() const { return l_.g.max_nodes; }
	u32 node() { return static_cast<u32>(below(nodes_)); }
	u32 net() { return l_.g.nets > 1 && chance(8) ? 1 : 0; }

	// Nodes whose table entry is not ABSENT: the highest id + 1, at least 2.
	u32 nodes_in_table() const
	{
		u32 n = 2;

		for (u32 id = 0; id < l_.g.max_nodes; id++) {
			u64 off = l_.node_off + id * sizeof(shmnic_node) +
				  offsetof(shmnic_node, state);
			if (get<u32>(off) != SHMNIC_NODE_ABSENT)
				n = id + 1;
		}
		return n;
	}

	u64 node_off(u32 id) const
	{
		return l_.node_off + (u64)id * sizeof(shmnic_node);
	}

	// Entry @i (taken modulo flow_slots) of node @id's flow table part.
	u64 flow_off(u32 id, u32 i) const
	{
		return l_.flow_off +
		       ((u64)id * l_.g.flow_slots + (i & (l_.g.flow_slots - 1))) *
		       sizeof(shmnic_flow);
	}

	u64 pair_off(u32 net, u32 from, u32 to) const
	{
		return l_.net_off[net] +
		       (1 + (u64)l_.g.mcast_rings) * l_.bcast_bytes +
		       ((u64)to * l_.g.max_nodes + from) * l_.ring_bytes;
	}

	/* The broadcast ring or one of the multicast rings, at random. */
	u64 bcast_off(u32 net)
	{
		return l_.net_off[net] +
		       (u64)below(1 + l_.g.mcast_rings) * l_.bcast_bytes;
	}

	u64 desc_off(u64 ring, u64 desc_base, u32 slots, u32 i) const
	{
		return ring + desc_base + (u64)(i & (slots - 1)) *
		       sizeof(shmnic_desc);
	}

	// A pair ring among the targeted nodes (from != to).
	u64 some_pair(u32 &from, u32 &to)
	{
		u32 nt = net();

		from = node();
		to = node();
		if (to == from)
			to = (from + 1) % (nodes_ < 2 ? 2 : nodes_);
		return pair_off(nt, from, to);
	}

	// -- bad values --

	// An index near @cur that no honest peer would write.
	u32 bad_index(u32 cur, u32 slots)
	{
		switch (below(9)) {
		case 0: return cur + slots + 1;
		case 1: return cur - 1;
		case 2: return cur + 0x80000000u;
		case 3: return cur - slots - 1;
		case 4: return cur + slots * (2 + (u32)below(100));
		case 5: return cur + 1 + (u32)below(slots);	/* garbage published */
		case 6: return 0;
		case 7: return 0xffffffffu;
		default: return static_cast<u32>(rng_());
		}
	}

	u32 bad_epoch(u32 cur)
	{
		return pick(std::array<u32, 7>{ 0, cur + 1, cur - 1, 1,
					       0xffffffffu, cur ^ 0x10000u,
					       static_cast<u32>(rng_()) });
	}

	u32 bad_len()
	{
		u32 b = l_.g.buf_size;

		return pick(std::array<u32, 9>{ 0, b, b + 1, b * 2, 0xffffffffu,
					       SHMNIC_MAX_FRAME,
					       SHMNIC_MAX_FRAME + 1, 0x80000000u,
					       static_cast<u32>(rng_()) });
	}

	u16 bad_off()
	{
		u32 b = l_.g.buf_size;

		return pick(std::array<u16, 6>{ static_cast<u16>(b - 1),
					       static_cast<u16>(b),
					       static_cast<u16>(b + 64), 0xffff,
					       0x8000, static_cast<u16>(rng_()) });
	}

	u32 bad_total()
	{
		return pick(std::array<u32, 8>{ 0, 1, 13, SHMNIC_MAX_FRAME,
					       SHMNIC_MAX_FRAME + 1, 0xffffffffu,
					       0x10000u,
					       static_cast<u32>(rng_()) });
	}

	u16 bad_nslots(u32 slots)
	{
		return pick(std::array<u16, 9>{ 0, 1, 2,
					       static_cast<u16>(SHMNIC_MAX_CHAIN),
					       static_cast<u16>(SHMNIC_MAX_CHAIN + 1),
					       static_cast<u16>(slots),
					       static_cast<u16>(slots + 1), 0xffff,
					       static_cast<u16>(rng_()) });
	}

	u16 bad_flags()
	{
		return pick(std::array<u16, 7>{ 0x0004, 0x8000, 0xfffc, 0xffff,
					       SHMNIC_DESC_MORE | 0x0010,
					       SHMNIC_DESC_CTRL | 0x0100,
					       static_cast<u16>(rng_()) });
	}

	u16 bad_src()
	{
		u32 m = max_nodes();

		return pick(std::array<u16, 6>{ static_cast<u16>(m),
					       static_cast<u16>(m + 1), 0xffff,
					       0x8000, static_cast<u16>(node()),
					       static_cast<u16>(rng_()) });
	}

	// virtio_net_hdr-like metadata that should not be believed.
	shmnic_meta bad_meta()
	{
		shmnic_meta m;

		m.flags = pick(std::array<u8, 6>{ 1, 2, 3, 0x80, 0xff,
						  static_cast<u8>(rng_()) });
		m.gso_type = pick(std::array<u8, 8>{ 0, 1, 3, 4, 5, 0x81, 0x7f,
						     static_cast<u8>(rng_()) });
		m.hdr_len = pick(std::array<u16, 5>{ 0, 14, 54, 0xffff,
						     static_cast<u16>(rng_()) });
		m.gso_size = pick(std::array<u16, 5>{ 0, 1, 8, 0xffff,
						      static_cast<u16>(rng_()) });
		m.csum_start = pick(std::array<u16, 5>{ 0, 14, 0xfff0, 0xffff,
							static_cast<u16>(rng_()) });
		m.csum_offset = pick(std::array<u16, 5>{ 6, 16, 0xfffe, 0xffff,
							 static_cast<u16>(rng_()) });
		return m;
	}

	void put_meta(u64 d, const shmnic_meta &m)
	{
		u64 o = d + offsetof(shmnic_desc, meta);

		put<u8>(o + offsetof(shmnic_meta, flags), m.flags);
		put<u8>(o + offsetof(shmnic_meta, gso_type), m.gso_type);
		put<u16>(o + offsetof(shmnic_meta, hdr_len), m.hdr_len);
		put<u16>(o + offsetof(shmnic_meta, gso_size), m.gso_size);
		put<u16>(o + offsetof(shmnic_meta, csum_start), m.csum_start);
		put<u16>(o + offsetof(shmnic_meta, csum_offset), m.csum_offset);
	}

	// One bad field in the descriptor at @d.
	void bad_desc_field(u64 d, u32 slots, u32 seq_ok)
	{
		switch (below(seq_ok ? 9 : 8)) {
		case 0: put<u32>(d + offsetof(shmnic_desc, len), bad_len()); break;
		case 1: put<u16>(d + offsetof(shmnic_desc, off), bad_off()); break;
		case 2: put<u16>(d + offsetof(shmnic_desc, flags), bad_flags()); break;
		case 3: put<u32>(d + offsetof(shmnic_desc, total_len), bad_total()); break;
		case 4: put<u16>(d + offsetof(shmnic_desc, nslots), bad_nslots(slots)); break;
		case 5: put<u16>(d + offsetof(shmnic_desc, src), bad_src()); break;
		case 6: put_meta(d, bad_meta()); break;
		case 7: put<u32>(d + offsetof(shmnic_desc, seq),
				 bad_index(seq_ok ? seq_ok : 1, slots)); break;
		default:
			/* broadcast: make the slot look freshly written */
			put<u32>(d + offsetof(shmnic_desc, seq), seq_ok);
		}
	}

	/*
	 * A frame of @len bytes at slots @first.. of a ring: Ethernet header
	 * from @src_id to @dst_mac, random payload, descriptors that are
	 * plausible except for (sometimes) one lie, bad offload metadata.
	 * Returns the slots it claims to span.
	 */
	u32 fake_frame(u64 ring, u64 desc_base, u64 buf_base, u32 slots,
		       u32 first, const u8 *dst_mac, u32 src_id, u32 seq_base)
	{
		u32 b = l_.g.buf_size;
		u32 len = chance(4) ? 1 + (u32)below(SHMNIC_MAX_FRAME)
				    : 14 + (u32)below(3 * b);
		u32 n = shmnic_frame_slots(len, b), left = len, i;
		u32 lie = chance(2) ? (u32)below(6) : 6;
		bool ctrl = chance(8);

		if (n > slots / 2)
			n = slots / 2;
		for (i = 0; i < n; i++) {
			u64 d = desc_off(ring, desc_base, slots, first + i);
			u64 buf = ring + buf_base +
				  (u64)((first + i) & (slots - 1)) * b;
			u32 chunk = left < b ? left : b;
			u16 fl = (ctrl ? SHMNIC_DESC_CTRL : 0) |
				 (i + 1 < n ? SHMNIC_DESC_MORE : 0);

			if (i == 0) {
				/* Ethernet header, then a random run */
				for (u32 k = 0; k < 6; k++)
					put<u8>(buf + k, dst_mac[k]);
				put<u8>(buf + 6, 0x02);
				put<u8>(buf + 7, 0x53);
				put<u8>(buf + 8, 0x4d);
				put<u8>(buf + 9, 0);
				put<u8>(buf + 10, static_cast<u8>(src_id >> 8));
				put<u8>(buf + 11, static_cast<u8>(src_id));
				u16 type = pick(std::array<u16, 5>{
					0x0008, 0xdd86, 0x0608, 0x0081,
					static_cast<u16>(rng_()) });
				put<u16>(buf + 12, type);
				put_bytes(buf + 14, 32 + below(64));
			} else if (chance(2)) {
				put_bytes(buf + below(b - 64), 64);
			}
			put<u32>(d + offsetof(shmnic_desc, len),
				 lie == 0 && i == n - 1 ? chunk + 1 : chunk);
			put<u16>(d + offsetof(shmnic_desc, off),
				 lie == 1 ? static_cast<u16>(b - 8) : 0);
			put<u16>(d + offsetof(shmnic_desc, flags),
				 lie == 2 ? fl ^ SHMNIC_DESC_MORE : fl);
			put<u16>(d + offsetof(shmnic_desc, src),
				 lie == 3 ? bad_src() : static_cast<u16>(src_id));
			if (i == 0) {
				put<u32>(d + offsetof(shmnic_desc, total_len),
					 lie == 4 ? len + 1 : len);
				put<u16>(d + offsetof(shmnic_desc, nslots),
					 lie == 5 ? bad_nslots(slots)
						  : static_cast<u16>(n));
				if (chance(2))
					put_meta(d, bad_meta());
				else
					put_meta(d, shmnic_meta{});
			}
			if (seq_base)
				put<u32>(d + offsetof(shmnic_desc, seq),
					 seq_base + i);
			left -= chunk;
		}
		return n;
	}

	static void mac_of(u32 id, u8 *mac)
	{
		const u8 m[6] = { 0x02, 0x53, 0x4d, 0x00,
				  static_cast<u8>(id >> 8), static_cast<u8>(id) };

		std::memcpy(mac, m, sizeof(m));
	}

	// -- targeted writes --

	void random_hot()
	{
		u32 from, to, nt = net();
		u64 ring;

		kind_ = K_RANDOM_HOT;
		switch (below(5)) {
		case 0:
			random_in(l_.node_off, node_off(max_nodes()));
			break;
		case 1:
			ring = some_pair(from, to);
			random_in(ring, ring + l_.ring_buf_off);
			break;
		case 2:
			ring = bcast_off(nt);
			random_in(ring, ring + l_.bcast_buf_off);
			break;
		case 3:
			/* the flow table part of a targeted node */
			ring = flow_off(node(), 0);
			random_in(ring, ring + (u64)l_.g.flow_slots *
					 sizeof(shmnic_flow));
			break;
		default:
			if (!o_.spare_header)
				random_in(0, sizeof(shmnic_region));
			else
				random_in(l_.node_off, node_off(max_nodes()));
		}
	}

	void one_targeted(Kind kind)
	{
		u32 from, to, nt, slots = l_.g.ring_slots, i;
		u64 ring, d;
		u8 mac[6];

		kind_ = kind;
		switch (kind_) {
		case K_PAIR_PROD:
			ring = some_pair(from, to) + offsetof(shmnic_ring_hdr, tx) +
			       offsetof(shmnic_ring_tx, prod);
			put<u32>(ring, bad_index(get<u32>(ring), slots));
			break;
		case K_PAIR_CONS:
			ring = some_pair(from, to) + offsetof(shmnic_ring_hdr, rx) +
			       offsetof(shmnic_ring_rx, cons);
			put<u32>(ring, bad_index(get<u32>(ring), slots));
			break;
		case K_PAIR_EPOCH: {
			static constexpr std::array<u64, 3> off = {
				offsetof(shmnic_ring_hdr, tx) + offsetof(shmnic_ring_tx, tx_epoch),
				offsetof(shmnic_ring_hdr, tx) + offsetof(shmnic_ring_tx, rx_epoch),
				offsetof(shmnic_ring_hdr, rx) + offsetof(shmnic_ring_rx, rx_epoch),
			};
			ring = some_pair(from, to) + pick(off);
			put<u32>(ring, bad_epoch(get<u32>(ring)));
			break;
		}
		case K_PAIR_BELL: {
			static constexpr std::array<u64, 4> off = {
				offsetof(shmnic_ring_hdr, tx) + offsetof(shmnic_ring_tx, kick_ack),
				offsetof(shmnic_ring_hdr, tx) + offsetof(shmnic_ring_tx, space_req),
				offsetof(shmnic_ring_hdr, rx) + offsetof(shmnic_ring_rx, kick_req),
				offsetof(shmnic_ring_hdr, rx) + offsetof(shmnic_ring_rx, space_ack),
			};
			ring = some_pair(from, to) + pick(off);
			put<u32>(ring, get<u32>(ring) + 1 + (u32)below(3));
			break;
		}
		case K_PAIR_DESC: {
			ring = some_pair(from, to);
			/* the slots the receiver looks at next, or the last ones */
			u32 at = chance(2) ? get<u32>(ring + offsetof(shmnic_ring_hdr, rx))
					   : get<u32>(ring) - 4;
			d = desc_off(ring, l_.ring_desc_off, slots, at + (u32)below(8));
			bad_desc_field(d, slots, 0);
			break;
		}
		case K_PAIR_FRAME: {
			ring = some_pair(from, to);
			u32 p = get<u32>(ring + offsetof(shmnic_ring_hdr, tx) +
					 offsetof(shmnic_ring_tx, prod));
			mac_of(to, mac);
			if (chance(8))
				std::memset(mac, 0xff, sizeof(mac));
			u32 n = fake_frame(ring, l_.ring_desc_off, l_.ring_buf_off,
					   slots, p, mac, from, 0);
			put<u32>(ring + offsetof(shmnic_ring_hdr, tx) +
				 offsetof(shmnic_ring_tx, prod), p + n);
			break;
		}
		case K_BC_LOCK:
			nt = net();
			put<u32>(bcast_off(nt) + offsetof(shmnic_bcast_hdr, lock),
				 pick(std::array<u32, 6>{ max_nodes() + 1, 0xffffffffu,
							 node() + 1, max_nodes(),
							 0x80000000u,
							 static_cast<u32>(rng_()) }));
			break;
		case K_BC_WIDX:
			ring = bcast_off(net()) + offsetof(shmnic_bcast_hdr, widx);
			put<u32>(ring, bad_index(get<u32>(ring), l_.g.bcast_slots));
			break;
		case K_BC_HDR:
			ring = bcast_off(net());
			switch (below(4)) {
			case 0:
				put<u32>(ring + offsetof(shmnic_bcast_hdr, owner),
					 pick(std::array<u32, 4>{ 0, max_nodes() + 1,
								 node() + 1,
								 static_cast<u32>(rng_()) }));
				break;
			case 1:
				put<u32>(ring + offsetof(shmnic_bcast_hdr, gen),
					 get<u32>(ring + offsetof(shmnic_bcast_hdr, gen)) +
						 1 + (u32)below(2));
				break;
			case 2:
				ring += offsetof(shmnic_bcast_hdr, start);
				put<u32>(ring, bad_index(get<u32>(ring), l_.g.bcast_slots));
				break;
			default:
				put_bytes(ring + offsetof(shmnic_bcast_hdr, group), 6);
			}
			break;
		case K_BC_DESC: {
			ring = bcast_off(net());
			u32 w = get<u32>(ring + offsetof(shmnic_bcast_hdr, widx));
			u32 bs = l_.g.bcast_slots;
			i = w - 1 - (u32)below(8) + (chance(2) ? 8 : 0);
			d = desc_off(ring, l_.bcast_desc_off, bs, i);
			bad_desc_field(d, bs, i + 1);
			break;
		}
		case K_BC_FRAME: {
			ring = bcast_off(net());
			u32 w = get<u32>(ring + offsetof(shmnic_bcast_hdr, widx));
			std::memset(mac, 0xff, sizeof(mac));
			u32 n = fake_frame(ring, l_.bcast_desc_off, l_.bcast_buf_off,
					   l_.g.bcast_slots, w, mac, node(), w + 1);
			put<u32>(ring + offsetof(shmnic_bcast_hdr, widx), w + n);
			break;
		}
		case K_NODE:
			target_node();
			break;
		case K_FLOW:
			target_flow();
			break;
		case K_LISTEN:
			target_listen();
			break;
		case K_CTRS:
			target_ctrs();
			break;
		case K_HEADER:
			if (o_.spare_header) {
				kind_ = K_NODE;
				target_node();
			} else {
				target_header();
			}
			break;
		default: /* K_DATA */
			ring = some_pair(from, to);
			i = get<u32>(ring) - (u32)below(4);
			random_in(ring + l_.ring_buf_off +
				  (u64)(i & (slots - 1)) * l_.g.buf_size,
				  ring + l_.ring_buf_off +
				  (u64)((i & (slots - 1)) + 1) * l_.g.buf_size);
			break;
		}
	}

	void target_node()
	{
		/* also phantom ids beyond the cluster, up to max_nodes - 1 */
		u32 id = chance(4) ? (u32)below(max_nodes()) : node();
		u64 n = node_off(id);
		u64 hb = n + offsetof(shmnic_node, heartbeat);

		switch (below(8)) {
		case 0:
			put<u32>(n + offsetof(shmnic_node, state),
				 pick(std::array<u32, 6>{ SHMNIC_NODE_ABSENT,
							 SHMNIC_NODE_UP,
							 SHMNIC_NODE_LEAVING, 3,
							 0xffffffffu,
							 static_cast<u32>(rng_()) }));
			break;
		case 1:
			put<u32>(n + offsetof(shmnic_node, epoch),
				 bad_epoch(get<u32>(n + offsetof(shmnic_node, epoch))));
			break;
		case 2:
			put<u64>(hb, pick(std::array<u64, 4>{ 0, get<u64>(hb) + 1,
							     get<u64>(hb) - 1000,
							     rng_() }));
			break;
		case 3:
			put_bytes(n + offsetof(shmnic_node, mac), 6);
			break;
		case 4:
			put<u16>(n + offsetof(shmnic_node, flags),
				 static_cast<u16>(rng_()));
			break;
		case 5:
			put<u32>(n + offsetof(shmnic_node, mtu),
				 pick(std::array<u32, 7>{ 0, 1, 67, 65536, 1u << 20,
							 0xffffffffu,
							 static_cast<u32>(rng_()) }));
			break;
		case 6:
			put<u32>(n + offsetof(shmnic_node, features),
				 static_cast<u32>(rng_()));
			break;
		default:
			put<u32>(n + offsetof(shmnic_node, rx_slots),
				 pick(std::array<u32, 7>{ 0, 1, 3, l_.g.ring_slots + 1,
							 l_.g.ring_slots * 2,
							 0xffffffffu,
							 static_cast<u32>(rng_()) }));
		}
	}

	/*
	 * One flow table entry, of a targeted node's part or (sometimes) of a
	 * phantom id: mostly an entry in use if one is near, so that gateways
	 * really look at what is written. Fields are set to what the owner
	 * would never write, or a whole entry is faked so that it is found:
	 * consistent sequence, the hash of its key, in its key's set, serving
	 * a node that does not exist or is not up.
	 */
	// A node's page of published listeners: its header words, and
	// entries that are plausible, garbage, or well-formed lies.
	void target_listen()
	{
		u32 id = chance(4) ? (u32)below(max_nodes()) : node();
		u64 h = l_.listen_off + (u64)id * SHMNIC_LISTEN_BYTES;
		u64 seq = h + offsetof(shmnic_listen_hdr, seq);
		u64 e = h + SHMNIC_CACHELINE +
			below(SHMNIC_LISTEN_SLOTS) * sizeof(shmnic_listener);

		switch (below(6)) {
		case 0:
			put<u32>(seq, pick(std::array<u32, 5>{
				get<u32>(seq) | 1, get<u32>(seq) + 2, 0,
				0xffffffffu, static_cast<u32>(rng_()) }));
			break;
		case 1:
			put<u32>(h + offsetof(shmnic_listen_hdr, count),
				 pick(std::array<u32, 5>{ 0, SHMNIC_LISTEN_SLOTS,
							 SHMNIC_LISTEN_SLOTS + 1,
							 0xffffffffu,
							 static_cast<u32>(rng_()) }));
			break;
		case 2:
			put<u32>(h + offsetof(shmnic_listen_hdr, epoch),
				 bad_epoch(get<u32>(h + offsetof(shmnic_listen_hdr,
								 epoch))));
			break;
		case 3:
			put<u8>(e + offsetof(shmnic_listener, family),
				pick(std::array<u8, 4>{ 0, 4, 6, static_cast<u8>(rng_()) }));
			break;
		case 4:
			put<u8>(e + offsetof(shmnic_listener, proto),
				pick(std::array<u8, 4>{ 0, 6, 17, static_cast<u8>(rng_()) }));
			break;
		default:
			random_in(e, e + sizeof(shmnic_listener));
		}
	}

	// A node's part of the published counters: its sequence word, its
	// counts, its epoch, and figures that cannot be true.
	void target_ctrs()
	{
		u32 id = chance(4) ? (u32)below(max_nodes()) : node();
		u64 c = l_.ctrs_off + (u64)id * SHMNIC_CTRS_BYTES;
		u64 hdr = c + offsetof(shmnic_ctrs, hdr);
		u64 net = c + offsetof(shmnic_ctrs, net) +
			  below(SHMNIC_MAX_NETS) * sizeof(shmnic_ctrs_net);
		u64 seq = hdr + offsetof(shmnic_ctrs_hdr, seq);

		switch (below(6)) {
		case 0:
			put<u32>(seq, pick(std::array<u32, 4>{
				get<u32>(seq) | 1, get<u32>(seq) + 2, 0,
				static_cast<u32>(rng_()) }));
			break;
		case 1:
			put<u32>(hdr + pick(std::array<u32, 3>{
					 offsetof(shmnic_ctrs_hdr, nets),
					 offsetof(shmnic_ctrs_hdr, peers),
					 offsetof(shmnic_ctrs_hdr, gw_count) }),
				 pick(std::array<u32, 4>{ 0, 3, 0xffffffffu,
							 static_cast<u32>(rng_()) }));
			break;
		case 2:
			put<u32>(hdr + offsetof(shmnic_ctrs_hdr, epoch),
				 bad_epoch(get<u32>(hdr + offsetof(shmnic_ctrs_hdr, epoch))));
			break;
		case 3:
			/* more bytes than the packets could carry, or ~0 */
			put<u64>(net + offsetof(shmnic_ctrs_net, rx_bytes),
				 pick(std::array<u64, 2>{ ~0ull, SHMNIC_CTRS_LIMIT - 1 }));
			break;
		case 4:
			put<u64>(hdr + offsetof(shmnic_ctrs_hdr, time_ns),
				 pick(std::array<u64, 3>{ 0, ~0ull, rng_() }));
			break;
		default: {
			u64 at = c + below(SHMNIC_CTRS_BYTES - 64);

			random_in(at, at + 64);
		}
		}
	}

	void target_flow()
	{
		const u32 slots = l_.g.flow_slots;
		u32 id = chance(4) ? (u32)below(max_nodes()) : node();
		u32 i = (u32)below(slots), k;

		for (k = 0; k < 16; k++)	/* prefer a used entry */
			if (get<u8>(flow_off(id, i + k) +
				    offsetof(shmnic_flow, state)) != SHMNIC_FS_FREE)
				break;
		if (k < 16)
			i += k;
		u64 e = flow_off(id, i);
		u64 seq = e + offsetof(shmnic_flow, seq);
		u64 last = e + offsetof(shmnic_flow, last);
		u64 hash = e + offsetof(shmnic_flow, hash);
		u64 key = e + offsetof(shmnic_flow, key);

		switch (below(9)) {
		case 0:
			/* odd: a writer that never finishes; or moved on */
			put<u32>(seq, pick(std::array<u32, 6>{
				get<u32>(seq) | 1, get<u32>(seq) + 2, 0, 1,
				0xffffffffu, static_cast<u32>(rng_()) }));
			break;
		case 1:
			put<u8>(e + offsetof(shmnic_flow, state),
				pick(std::array<u8, 8>{ SHMNIC_FS_FREE, SHMNIC_FS_SYN,
							SHMNIC_FS_EST, SHMNIC_FS_CLOSING,
							SHMNIC_FS_UDP, SHMNIC_FS_MAX + 1,
							0xff, static_cast<u8>(rng_()) }));
			break;
		case 2:
			put<u16>(e + offsetof(shmnic_flow, node), bad_src());
			break;
		case 3: {
			/* stamps far ahead or behind, and just at the timeouts */
			u32 hb = static_cast<u32>(get<u64>(node_off(id) +
					offsetof(shmnic_node, heartbeat)));
			put<u32>(last, pick(std::array<u32, 8>{
				0, hb, hb + 1, hb - SHMNIC_FLOW_TO_EST,
				hb - SHMNIC_FLOW_TO_EST - 1, hb + 0x80000000u,
				0xffffffffu, static_cast<u32>(rng_()) }));
			break;
		}
		case 4:
			/* a hash of another set, of the same set, or random */
			put<u32>(hash, pick(std::array<u32, 4>{
				get<u32>(hash) ^ 1, get<u32>(hash) ^ SHMNIC_FLOW_WAYS,
				(static_cast<u32>(rng_()) & ~(slots - 1)) |
					(i & (slots - 1)),
				static_cast<u32>(rng_()) }));
			break;
		case 5:
			/* key bytes: family, protocol, ports, addresses, pad */
			put_bytes(key + below(sizeof(shmnic_flow_key)), 1 + below(8));
			break;
		case 6:
			fake_flow(id, i);
			break;
		case 7:
			/* torn: odd sequence, then fields changed */
			put<u32>(seq, get<u32>(seq) | 1);
			put_bytes(e + offsetof(shmnic_flow, state),
				  sizeof(shmnic_flow) - offsetof(shmnic_flow, state));
			break;
		default:
			put_bytes(e + below(sizeof(shmnic_flow)), 1 + below(64));
		}
	}

	/*
	 * A consistent entry that find() will match for its key, written where
	 * the owner would put it (its key's set in part @id), pointing at a
	 * node that may not exist or serve it.
	 */
	void fake_flow(u32 id, u32 near)
	{
		shmnic_flow_key k{};
		const u32 slots = l_.g.flow_slots;

		k.family = chance(4) ? 6 : 4;
		k.proto = chance(4) ? 17 : 6;
		k.sport = static_cast<u16>(rng_());
		k.dport = pick(std::array<u16, 4>{ 0x5000, 0xbb01, 0x511f,
						   static_cast<u16>(rng_()) });
		for (u32 b = 0; b < (k.family == 4 ? 4u : 16u); b++) {
			k.saddr[b] = static_cast<u8>(rng_());
			k.daddr[b] = static_cast<u8>(rng_());
		}
		if (chance(8))
			k.pad = static_cast<u16>(rng_());	/* never matched */
		u32 h = shmnic_flow_hash(&k);
		/* in its own set, or (sometimes) where it was asked to go */
		u32 at = chance(4) ? near : shmnic_flow_set(h, slots) +
					     (u32)below(SHMNIC_FLOW_WAYS);
		u64 e = flow_off(id, at);
		u32 seq = get<u32>(e + offsetof(shmnic_flow, seq));
		u32 hb = static_cast<u32>(get<u64>(node_off(id) +
				offsetof(shmnic_node, heartbeat)));

		put<u32>(e + offsetof(shmnic_flow, seq), seq | 1);
		put<u8>(e + offsetof(shmnic_flow, state),
			static_cast<u8>(SHMNIC_FS_SYN + below(SHMNIC_FS_MAX)));
		put<u16>(e + offsetof(shmnic_flow, node),
			 chance(2) ? static_cast<u16>(node()) : bad_src());
		put<u32>(e + offsetof(shmnic_flow, last), hb);
		put<u32>(e + offsetof(shmnic_flow, hash), h);
		const u8 *kb = reinterpret_cast<const u8 *>(&k);
		for (u32 b = 0; b < sizeof(k); b++)
			put<u8>(e + offsetof(shmnic_flow, key) + b, kb[b]);
		/* published (even), or left odd now and then */
		put<u32>(e + offsetof(shmnic_flow, seq),
			 chance(8) ? (seq | 1) : (seq | 1) + 1);
	}

	void target_header()
	{
		switch (below(8)) {
		case 0:
			put<u32>(offsetof(shmnic_region, magic), static_cast<u32>(rng_()));
			break;
		case 1:
			put<u32>(offsetof(shmnic_region, state),
				 pick(std::array<u32, 4>{ SHMNIC_FMT_BLANK,
							 SHMNIC_FMT_BUSY, 7,
							 static_cast<u32>(rng_()) }));
			break;
		case 2:
			put<u32>(offsetof(shmnic_region, max_nodes),
				 pick(std::array<u32, 4>{ 0, 1, 65, 0xffffffffu }));
			break;
		case 3:
			put<u32>(offsetof(shmnic_region, ring_slots),
				 pick(std::array<u32, 4>{ 0, 3, 1u << 30, 0xffffffffu }));
			break;
		case 4:
			put<u64>(offsetof(shmnic_region, size), rng_());
			break;
		case 5:
			put<u32>(offsetof(shmnic_region, flow_slots),
				 pick(std::array<u32, 5>{ 0, 63, l_.g.flow_slots * 2,
							 1u << 31, 0xffffffffu }));
			break;
		case 6:
			put<u64>(offsetof(shmnic_region, flow_off),
				 pick(std::array<u64, 4>{ l_.flow_off + SHMNIC_PAGE,
							 l_.net_off[0], 0, rng_() }));
			break;
		default:
			put<u64>(offsetof(shmnic_region, net_off), rng_());
		}
	}
};

double now_s()
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

const char *mode_name(Mode m)
{
	switch (m) {
	case Mode::Random: return "random";
	case Mode::Targeted: return "targeted";
	default: return "both";
	}
}

int fail_layout(const Options &o)
{
	std::fprintf(stderr, "%s: %s: no valid layout\n", kProg, o.region.c_str());
	return 1;
}

// --publish: append the listener, IPv4 and IPv6, to the node's page as
// its own writer would (sequence word odd around the change, its epoch
// kept), so that gateways believe it.
int publish(u8 *base, const shmnic_layout &l, const Options &o)
{
	if (o.publish_node >= l.g.max_nodes) {
		std::fprintf(stderr, "%s: --publish: the region has ids 0..%u\n",
			     kProg, l.g.max_nodes - 1);
		return 1;
	}
	shmnic_listen_hdr *h = shmnic_listen_page(base, &l, o.publish_node);
	u32 n = std::min<u32>(READ_ONCE(h->count), SHMNIC_LISTEN_SLOTS);
	if (n + 2 > SHMNIC_LISTEN_SLOTS) {
		std::fprintf(stderr, "%s: --publish: node %u's page is full\n",
			     kProg, o.publish_node);
		return 1;
	}
	std::vector<shmnic_listener> ents(shmnic_listen_entries(h),
					  shmnic_listen_entries(h) + n);
	for (u8 family : { 4, 6 }) {
		shmnic_listener e = *o.publish;
		e.family = e.proto == 1 ? 0x5a : family;
		ents.push_back(e);
	}
	shmnic_listen_publish(h, READ_ONCE(h->epoch), ents.data(),
			      static_cast<u32>(ents.size()), READ_ONCE(h->flags));
	std::printf("%s: node %u now publishes %zu listeners (epoch %u)\n", kProg,
		    o.publish_node, ents.size(), READ_ONCE(h->epoch));
	return 0;
}

int run(const Options &o)
{
	UniqueFd fd(::open(o.region.c_str(), O_RDWR | O_CLOEXEC));
	struct stat st;

	if (fd.get() < 0) {
		std::fprintf(stderr, "%s: %s: %s\n", kProg, o.region.c_str(),
			     std::strerror(errno));
		return 1;
	}
	if (::fstat(fd.get(), &st) || st.st_size < (off_t)sizeof(shmnic_region)) {
		std::fprintf(stderr, "%s: %s: not a region (size %lld)\n", kProg,
			     o.region.c_str(), (long long)st.st_size);
		return 1;
	}
	u64 size = static_cast<u64>(st.st_size);
	Mapping map(::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED,
			   fd.get(), 0), size);
	if (!map.ok()) {
		std::fprintf(stderr, "%s: mmap %s: %s\n", kProg, o.region.c_str(),
			     std::strerror(errno));
		return 1;
	}

	u64 seed = o.seed ? *o.seed : (static_cast<u64>(std::random_device{}()) << 32 |
				       std::random_device{}());
	Scribbler s(map.data(), size, o, seed);
	Mode mode = o.mode;

	if (o.publish) {
		if (!s.find_layout())
			return fail_layout(o);
		return publish(map.data(), s.layout(), o);
	}
	if (o.ghost) {
		if (!s.find_layout()) {
			std::fprintf(stderr, "%s: %s: no valid layout to join\n",
				     kProg, o.region.c_str());
			return 1;
		}
		catch_signals();
		GhostOptions g = o.g;
		g.duration = o.duration;
		return ghost_run(map.data(), s.layout(), g, g_stop, stdout);
	}
	if (s.find_layout()) {
		const shmnic_layout &l = s.layout();
		if (!o.quiet)
			std::printf("%s: %s: %" PRIu64 " bytes, layout of %u nodes "
				    "(%u targeted), %u nets, %u ring slots of %u bytes, "
				    "%u broadcast slots, %u flow entries per node\n",
				    kProg, o.region.c_str(), size, l.g.max_nodes,
				    s.nodes(), l.g.nets, l.g.ring_slots,
				    l.g.buf_size, l.g.bcast_slots, l.g.flow_slots);
	} else {
		if (!o.quiet)
			std::printf("%s: %s: %" PRIu64 " bytes, header not valid: "
				    "random bytes only\n",
				    kProg, o.region.c_str(), size);
		mode = Mode::Random;
	}
	if (!o.quiet) {
		char dur[32] = "until stopped";

		if (o.duration > 0)
			std::snprintf(dur, sizeof(dur), "for %g s", o.duration);
		std::printf("%s: mode %s, %" PRIu64 " writes/s, %s, seed %" PRIu64
			    ", %s\n", kProg, mode_name(mode), o.rate, dur, seed,
			    o.spare_header ? "header spared" : "header too");
		std::fflush(stdout);
	}

	catch_signals();

	double t0 = now_s(), t = t0;
	u64 done = 0;

	while (!g_stop) {
		t = now_s();
		if (o.duration > 0 && t - t0 >= o.duration)
			break;
		u64 due = o.rate ? static_cast<u64>((t - t0) * o.rate) : done + 1000;
		if (done >= due) {
			struct timespec ts = { 0, 200000 };	/* 0.2 ms */
			nanosleep(&ts, nullptr);
			continue;
		}
		/* at most 10 ms worth in a burst: stay responsive, stay paced */
		u64 burst = due - done;
		u64 cap = o.rate ? o.rate / 100 + 1 : 1000;
		if (burst > cap)
			burst = cap;
		for (u64 i = 0; i < burst; i++)
			s.one(mode);
		done += burst;
	}
	s.summary(stdout, now_s() - t0, seed);
	return 0;
}

} // namespace

int main(int argc, char **argv)
{
	Options o;
	int rc = parse_args(argc, argv, o);

	if (rc)
		return rc < 0 ? 0 : rc;
	std::setvbuf(stdout, nullptr, _IOLBF, 0);
	return run(o);
}
