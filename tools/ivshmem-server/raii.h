// SPDX-License-Identifier: GPL-2.0
// Owners for the two kinds of resources the server holds: file descriptors
// and names in the file system (socket path, shm object, pid file).
#pragma once

#include <string>
#include <unistd.h>
#include <utility>

namespace ivshmem {

class UniqueFd {
public:
	UniqueFd() = default;
	explicit UniqueFd(int fd) noexcept : fd_(fd) {}
	UniqueFd(UniqueFd &&other) noexcept : fd_(other.release()) {}
	UniqueFd &operator=(UniqueFd &&other) noexcept
	{
		reset(other.release());
		return *this;
	}
	UniqueFd(const UniqueFd &) = delete;
	UniqueFd &operator=(const UniqueFd &) = delete;
	~UniqueFd() { reset(); }

	int get() const noexcept { return fd_; }
	explicit operator bool() const noexcept { return fd_ >= 0; }
	int release() noexcept { return std::exchange(fd_, -1); }
	void reset(int fd = -1) noexcept
	{
		if (fd_ >= 0)
			::close(fd_);
		fd_ = fd;
	}

private:
	int fd_ = -1;
};

// Removes a name with unlink_fn (unlink, shm_unlink) when destroyed.
class NameGuard {
public:
	using UnlinkFn = int (*)(const char *);

	NameGuard() = default;
	NameGuard(std::string name, UnlinkFn fn) : name_(std::move(name)), fn_(fn) {}
	NameGuard(NameGuard &&other) noexcept
		: name_(std::exchange(other.name_, {})), fn_(other.fn_) {}
	NameGuard &operator=(NameGuard &&other) noexcept
	{
		if (this != &other) {
			remove();
			name_ = std::exchange(other.name_, {});
			fn_ = other.fn_;
		}
		return *this;
	}
	NameGuard(const NameGuard &) = delete;
	NameGuard &operator=(const NameGuard &) = delete;
	~NameGuard() { remove(); }

	void remove() noexcept
	{
		if (!name_.empty() && fn_)
			fn_(name_.c_str());
		name_.clear();
	}

private:
	std::string name_;
	UnlinkFn fn_ = nullptr;
};

} // namespace ivshmem
