// SPDX-License-Identifier: GPL-2.0
#include "protocol.h"

#include <cerrno>
#include <cstring>
#include <endian.h>
#include <sys/socket.h>

namespace ivshmem {

bool send_msg(int sock, std::int64_t value, int fd)
{
	std::uint64_t le = htole64(static_cast<std::uint64_t>(value));
	struct iovec iov = { .iov_base = &le, .iov_len = sizeof(le) };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct msghdr msg = {};
	ssize_t n;

	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (fd >= 0) {
		std::memset(&control, 0, sizeof(control));
		msg.msg_control = control.buf;
		msg.msg_controllen = sizeof(control.buf);
		struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		std::memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	}
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n == sizeof(le))
		return true;
	if (n >= 0)
		errno = EIO;
	return false;
}

} // namespace ivshmem
