// SPDX-License-Identifier: GPL-2.0
// The shared memory handed to every peer: a POSIX shm object (-M), removed
// again on destruction, or an already-unlinked file in a directory (-m).
#pragma once

#include "options.h"
#include "raii.h"

namespace ivshmem {

class SharedMemory {
public:
	// Throws std::system_error.
	explicit SharedMemory(const Options &opts);
	SharedMemory(const SharedMemory &) = delete;
	SharedMemory &operator=(const SharedMemory &) = delete;

	int fd() const { return fd_.get(); }

private:
	NameGuard name_;
	UniqueFd fd_;
};

} // namespace ivshmem
