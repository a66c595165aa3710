// SPDX-License-Identifier: GPL-2.0
#include "server.h"

#include "protocol.h"

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <system_error>
#include <vector>

namespace ivshmem {

// A client that stops reading must not stall the server forever.
static constexpr int kSendTimeoutSec = 5;

__attribute__((format(printf, 2, 3)))
static void note(FILE *f, const char *fmt, ...)
{
	va_list ap;

	std::fputs("ivshmem-server: ", f);
	va_start(ap, fmt);
	std::vfprintf(f, fmt, ap);
	va_end(ap);
	std::fputc('\n', f);
}

Server::Server(int listen_fd, int shm_fd, const ServerConfig &config)
	: listen_fd_(listen_fd), shm_fd_(shm_fd), config_(config), peers_(config.max_peers)
{
}

void Server::run(int stop_fd)
{
	std::vector<pollfd> pfds;
	std::vector<std::uint16_t> ids;

	for (;;) {
		pfds.assign({ { stop_fd, POLLIN, 0 }, { listen_fd_, POLLIN, 0 } });
		ids.clear();
		for (auto &[id, peer] : peers_) {
			pfds.push_back({ peer.sock.get(), POLLIN, 0 });
			ids.push_back(id);
		}
		if (poll(pfds.data(), pfds.size(), -1) < 0) {
			if (errno == EINTR)
				continue;
			throw std::system_error(errno, std::generic_category(), "poll");
		}
		if (pfds[0].revents)
			return;
		// Disconnects first, so that a VM that reconnects at once
		// gets its old id back.
		for (std::size_t i = 0; i < ids.size(); i++) {
			Peer *peer = peers_.find(ids[i]);
			if (pfds[i + 2].revents && peer && client_gone(*peer))
				dead_.insert(ids[i]);
		}
		reap();
		if (pfds[1].revents & POLLIN)
			accept_client();
	}
}

void Server::accept_client()
{
	UniqueFd sock(accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC));

	if (!sock) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			note(stderr, "accept: %s", std::strerror(errno));
		return;
	}
	add_client(std::move(sock));
}

// Clients never send anything meaningful: EOF or an error means they left.
bool Server::client_gone(Peer &peer)
{
	char buf[64];
	ssize_t n = recv(peer.sock.get(), buf, sizeof(buf), MSG_DONTWAIT);

	if (n > 0 && config_.verbose)
		note(stdout, "debug: ignoring %zd bytes from peer %u", n, peer.id);
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR);
}

void Server::send_to(Peer &peer, std::int64_t value, int fd)
{
	if (dead_.contains(peer.id))
		return;
	if (config_.verbose)
		note(stdout, "debug: to peer %u: %lld%s", peer.id, static_cast<long long>(value),
		    fd >= 0 ? " + fd" : "");
	if (!send_msg(peer.sock.get(), value, fd)) {
		note(stderr, "peer %u: send failed: %s", peer.id, std::strerror(errno));
		dead_.insert(peer.id);
	}
}

bool Server::send_initial(Peer &peer)
{
	const int sock = peer.sock.get();
	auto send = [&](std::int64_t value, int fd = -1) {
		if (config_.verbose)
			note(stdout, "debug: to new peer %u: %lld%s", peer.id,
			    static_cast<long long>(value), fd >= 0 ? " + fd" : "");
		return send_msg(sock, value, fd);
	};

	if (!send(kProtocolVersion) || !send(peer.id) || !send(kShmMessage, shm_fd_))
		return false;
	// The other peers, and the departed ones whose eventfds we kept, by id.
	std::map<std::uint16_t, const Eventfds *> others;
	for (auto &[id, other] : peers_)
		others[id] = &other.eventfds;
	for (auto &[id, eventfds] : departed_)
		if (id != peer.id)
			others[id] = &eventfds;
	for (auto &[id, eventfds] : others)
		for (const UniqueFd &efd : *eventfds)
			if (!send(id, efd.get()))
				return false;
	for (const UniqueFd &efd : peer.eventfds)
		if (!send(peer.id, efd.get()))
			return false;
	return true;
}

void Server::add_client(UniqueFd sock)
{
	std::optional<std::uint16_t> id = peers_.free_id();
	if (!id) {
		note(stderr, "refusing client: all %u peer ids are in use", peers_.max_peers());
		return;
	}

	Peer peer{ .id = *id, .sock = std::move(sock), .eventfds = {} };
	// A kept id: every peer already has its eventfds.
	auto kept = departed_.find(*id);
	bool announce = kept == departed_.end();
	if (!announce)
		peer.eventfds = std::move(kept->second);
	for (unsigned i = peer.eventfds.size(); i < config_.vectors; i++) {
		UniqueFd efd(eventfd(0, EFD_CLOEXEC));
		if (!efd) {
			note(stderr, "refusing client: eventfd: %s", std::strerror(errno));
			return;
		}
		peer.eventfds.push_back(std::move(efd));
	}

	const timeval timeout = { .tv_sec = kSendTimeoutSec, .tv_usec = 0 };
	setsockopt(peer.sock.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
	if (!send_initial(peer)) {
		note(stderr, "dropping new client: send failed: %s", std::strerror(errno));
		if (!announce)
			kept->second = std::move(peer.eventfds);
		return;
	}
	if (announce) {
		for (auto &[other_id, other] : peers_)
			for (const UniqueFd &efd : peer.eventfds)
				send_to(other, peer.id, efd.get());
	} else {
		departed_.erase(kept);
	}
	peers_.add(std::move(peer));
	note(stdout, "peer %u connected", *id);
	reap();
}

// Removes the dead peers. Telling the others may find more dead ones.
void Server::reap()
{
	while (!dead_.empty()) {
		std::uint16_t id = *dead_.begin();
		std::optional<Peer> gone = peers_.take(id);

		if (gone && config_.keep_departed) {
			departed_[id] = std::move(gone->eventfds);
		} else if (gone) {
			for (auto &[other_id, other] : peers_)
				send_to(other, id);
		}
		dead_.erase(id);
		if (gone)
			note(stdout, "peer %u disconnected", id);
	}
}

} // namespace ivshmem
