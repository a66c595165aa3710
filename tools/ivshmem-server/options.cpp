// SPDX-License-Identifier: GPL-2.0
#include "options.h"

#include <cctype>
#include <charconv>
#include <limits>
#include <unistd.h>

namespace ivshmem {

const char kUsage[] =
	"Usage: ivshmem-server [-F] [-v] [-K] [-p PIDFILE] -S SOCKET_PATH\n"
	"                      (-M SHM_NAME | -m SHM_DIR) [-l SIZE] [-n VECTORS] [-N MAX_PEERS]\n"
	"\n"
	"Serve QEMU ivshmem-doorbell devices: give every client the shared memory\n"
	"and the eventfds of all peers (QEMU's ivshmem server protocol).\n"
	"\n"
	"  -h              show this help and exit\n"
	"  -F              stay in the foreground (default: detach as a daemon,\n"
	"                  whose output then goes to /dev/null)\n"
	"  -v              verbose: also log every message sent\n"
	"  -K              keep a departed peer's eventfds for the next client with\n"
	"                  its id, and send no disconnect messages (QEMU's ivshmem\n"
	"                  corrupts its heap when a peer id is reused after a\n"
	"                  disconnect message; see ivshmem-server(8))\n"
	"  -p PIDFILE      write the server's pid to PIDFILE (removed on exit)\n"
	"  -S SOCKET_PATH  UNIX socket to listen on (a stale socket is replaced)\n"
	"  -M SHM_NAME     create POSIX shared memory object SHM_NAME (shm_open(3))\n"
	"  -m SHM_DIR      create the shared memory as an unlinked file in SHM_DIR\n"
	"  -l SIZE         shared memory size, a power of two; K/M/G suffixes\n"
	"                  allowed (default 4M)\n"
	"  -n VECTORS      eventfds (interrupt vectors) per peer, 1..64 (default 1)\n"
	"  -N MAX_PEERS    maximum number of peers, 1..65536 (default 16)\n"
	"\n"
	"The socket and the shared memory object are removed on SIGTERM, SIGINT\n"
	"or SIGHUP.\n";

std::optional<std::uint64_t> parse_size(std::string_view s)
{
	std::uint64_t value = 0;
	auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
	if (ec != std::errc() || end == s.data())
		return std::nullopt;

	std::string_view suffix(end, s.data() + s.size() - end);
	unsigned shift = 0;
	if (suffix.size() > 1)
		return std::nullopt;
	if (suffix.size() == 1) {
		switch (std::toupper(static_cast<unsigned char>(suffix[0]))) {
		case 'K': shift = 10; break;
		case 'M': shift = 20; break;
		case 'G': shift = 30; break;
		default: return std::nullopt;
		}
	}
	if (value > (std::numeric_limits<std::uint64_t>::max() >> shift))
		return std::nullopt;
	return value << shift;
}

static unsigned parse_count(const char *arg, char opt, unsigned max)
{
	std::string_view s(arg);
	unsigned value = 0;
	auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
	if (ec != std::errc() || end != s.data() + s.size() || value < 1 || value > max)
		throw UsageError(std::string("-") + opt + ": expected a number from 1 to " +
				 std::to_string(max) + ", got '" + arg + "'");
	return value;
}

Options parse_options(int argc, char *argv[])
{
	Options o;
	int c;

	optind = 0;	// glibc: full rescan, so this can be called more than once
	opterr = 0;
	while ((c = getopt(argc, argv, "+:hFvKp:S:M:m:l:n:N:")) != -1) {
		switch (c) {
		case 'h': o.help = true; break;
		case 'F': o.foreground = true; break;
		case 'v': o.verbose = true; break;
		case 'K': o.keep_departed = true; break;
		case 'p': o.pid_file = optarg; break;
		case 'S': o.socket_path = optarg; break;
		case 'M': o.shm_name = optarg; break;
		case 'm': o.shm_dir = optarg; break;
		case 'l': {
			auto size = parse_size(optarg);
			if (!size || *size == 0 ||
			    *size > static_cast<std::uint64_t>(std::numeric_limits<off_t>::max()))
				throw UsageError(std::string("-l: invalid size '") + optarg + "'");
			// QEMU maps it as a PCI BAR, and aborts on other sizes.
			if (*size & (*size - 1))
				throw UsageError(std::string("-l: size must be a power of two, got '") +
						 optarg + "'");
			o.shm_size = *size;
			break;
		}
		case 'n': o.vectors = parse_count(optarg, 'n', kMaxVectors); break;
		case 'N': o.max_peers = parse_count(optarg, 'N', kMaxPeers); break;
		case ':':
			throw UsageError(std::string("option -") + char(optopt) + " needs an argument");
		default:
			throw UsageError(std::string("unknown option -") + char(optopt));
		}
	}
	if (optind < argc)
		throw UsageError(std::string("unexpected argument '") + argv[optind] + "'");
	if (o.help)
		return o;
	if (o.socket_path.empty())
		throw UsageError("missing -S SOCKET_PATH");
	if (o.shm_name.empty() == o.shm_dir.empty())
		throw UsageError("give exactly one of -M SHM_NAME and -m SHM_DIR");
	return o;
}

} // namespace ivshmem
