// SPDX-License-Identifier: GPL-2.0
#include "listener.h"

#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <system_error>

namespace ivshmem {

static std::system_error sys_error(int err, const std::string &what)
{
	return std::system_error(err, std::generic_category(), what);
}

static void remove_stale(const std::string &path, const sockaddr_un &addr)
{
	struct stat st;

	if (lstat(path.c_str(), &st) < 0) {
		if (errno == ENOENT)
			return;
		throw sys_error(errno, "cannot stat '" + path + "'");
	}
	if (!S_ISSOCK(st.st_mode))
		throw sys_error(EEXIST, "'" + path + "' exists and is not a socket");

	UniqueFd probe(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
	if (!probe)
		throw sys_error(errno, "socket");
	if (connect(probe.get(), reinterpret_cast<const sockaddr *>(&addr), sizeof(addr)) == 0)
		throw sys_error(EADDRINUSE, "'" + path + "' is in use by a running server");
	if (unlink(path.c_str()) < 0 && errno != ENOENT)
		throw sys_error(errno, "cannot remove stale socket '" + path + "'");
}

Listener::Listener(const std::string &path)
{
	sockaddr_un addr = {};

	addr.sun_family = AF_UNIX;
	if (path.empty() || path.size() >= sizeof(addr.sun_path))
		throw sys_error(ENAMETOOLONG, "socket path '" + path + "'");
	std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);

	remove_stale(path, addr);
	fd_.reset(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
	if (!fd_)
		throw sys_error(errno, "socket");
	if (bind(fd_.get(), reinterpret_cast<const sockaddr *>(&addr), sizeof(addr)) < 0)
		throw sys_error(errno, "cannot bind to '" + path + "'");
	path_ = NameGuard(path, unlink);
	if (listen(fd_.get(), SOMAXCONN) < 0)
		throw sys_error(errno, "cannot listen on '" + path + "'");
}

} // namespace ivshmem
