// SPDX-License-Identifier: GPL-2.0
// QEMU's ivshmem server protocol (docs/specs/ivshmem-spec.rst): the server
// sends 8-byte little-endian signed integers, each optionally carrying one
// file descriptor as SCM_RIGHTS ancillary data.
//
// To a new client:   0 (version), own id, -1 + shm fd,
//                    for every other peer: its id + eventfd, once per vector,
//                    own id + own eventfd, once per vector.
// To the others:     new id + eventfd, once per vector.
// On a disconnect:   the departed id, without fd, to every remaining peer.
#pragma once

#include <cstdint>

namespace ivshmem {

inline constexpr std::int64_t kProtocolVersion = 0;
inline constexpr std::int64_t kShmMessage = -1;

// Sends one message; fd < 0 sends none. Returns false with errno set on
// failure (a short write is reported as EIO).
bool send_msg(int sock, std::int64_t value, int fd = -1);

} // namespace ivshmem
