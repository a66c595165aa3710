// SPDX-License-Identifier: GPL-2.0
// The listening UNIX socket; its path is removed on destruction.
#pragma once

#include "raii.h"

#include <string>

namespace ivshmem {

class Listener {
public:
	// Replaces a stale socket at path, but refuses to replace a socket
	// that a live server still accepts on, or anything that is not a
	// socket. Throws std::system_error.
	explicit Listener(const std::string &path);
	Listener(const Listener &) = delete;
	Listener &operator=(const Listener &) = delete;

	int fd() const { return fd_.get(); }

private:
	UniqueFd fd_;
	NameGuard path_;
};

} // namespace ivshmem
