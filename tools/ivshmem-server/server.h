// SPDX-License-Identifier: GPL-2.0
// The ivshmem server proper: accepts clients, hands out ids, shared memory
// and eventfds, and tells the peers about each other.
#pragma once

#include "peer_table.h"
#include "raii.h"

#include <cstdint>
#include <map>
#include <set>
#include <vector>

namespace ivshmem {

struct ServerConfig {
	unsigned vectors = 1;
	unsigned max_peers = 16;
	// Keep a departed peer's eventfds for its id and give them to the
	// next client with that id, instead of announcing the departure (see
	// -K in ivshmem-server.8).
	bool keep_departed = false;
	bool verbose = false;
};

class Server {
public:
	// listen_fd and shm_fd are borrowed and must outlive the server.
	Server(int listen_fd, int shm_fd, const ServerConfig &config);

	// Serves until stop_fd (e.g. a signalfd) becomes readable. Throws
	// std::system_error if poll() fails.
	void run(int stop_fd);

private:
	using Eventfds = std::vector<UniqueFd>;

	void accept_client();
	void add_client(UniqueFd sock);
	bool client_gone(Peer &peer);
	bool send_initial(Peer &peer);
	void send_to(Peer &peer, std::int64_t value, int fd = -1);
	void reap();

	int listen_fd_;
	int shm_fd_;
	ServerConfig config_;
	PeerTable peers_;
	std::map<std::uint16_t, Eventfds> departed_;	// with keep_departed
	std::set<std::uint16_t> dead_;			// peers a send to failed
};

} // namespace ivshmem
