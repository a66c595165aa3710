// SPDX-License-Identifier: GPL-2.0
#include "shm.h"

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <sys/mman.h>
#include <system_error>
#include <unistd.h>

namespace ivshmem {

static std::system_error sys_error(const std::string &what)
{
	return std::system_error(errno, std::generic_category(), what);
}

static UniqueFd create_posix(const std::string &name)
{
	const int flags = O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC;
	UniqueFd fd(shm_open(name.c_str(), flags, 0600));

	// A stale object (say, from a server that was killed) is replaced,
	// so that the memory always starts out zeroed.
	if (!fd && errno == EEXIST && shm_unlink(name.c_str()) == 0)
		fd.reset(shm_open(name.c_str(), flags, 0600));
	if (!fd)
		throw sys_error("cannot create shared memory object '" + name + "'");
	return fd;
}

static UniqueFd create_in_dir(const std::string &dir)
{
	std::string path = dir + "/ivshmem.XXXXXX";
	UniqueFd fd(mkostemp(path.data(), O_CLOEXEC));

	if (!fd)
		throw sys_error("cannot create a file in '" + dir + "'");
	unlink(path.c_str());
	return fd;
}

SharedMemory::SharedMemory(const Options &opts)
{
	if (!opts.shm_name.empty()) {
		fd_ = create_posix(opts.shm_name);
		name_ = NameGuard(opts.shm_name, shm_unlink);
	} else {
		fd_ = create_in_dir(opts.shm_dir);
	}
	if (ftruncate(fd_.get(), static_cast<off_t>(opts.shm_size)) < 0)
		throw sys_error("cannot set the size of the shared memory to " +
				std::to_string(opts.shm_size) + " bytes");
}

} // namespace ivshmem
