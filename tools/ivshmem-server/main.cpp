// SPDX-License-Identifier: GPL-2.0
// ivshmem-server: QEMU's ivshmem server protocol, for ivshmem-doorbell devices.
#include "listener.h"
#include "options.h"
#include "raii.h"
#include "server.h"
#include "shm.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <string>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <system_error>
#include <unistd.h>

using namespace ivshmem;

static std::system_error sys_error(const std::string &what)
{
	return std::system_error(errno, std::generic_category(), what);
}

// Every peer costs `vectors` eventfds: allow as many fds as we may.
static void raise_fd_limit()
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static UniqueFd termination_signals()
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, nullptr) < 0)
		throw sys_error("sigprocmask");
	UniqueFd fd(signalfd(-1, &mask, SFD_CLOEXEC));
	if (!fd)
		throw sys_error("signalfd");
	return fd;
}

// Forks; the parent waits until the child reports that it is ready (by
// writing to the returned pipe) and exits without running destructors.
static UniqueFd daemonize()
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		throw sys_error("pipe");
	UniqueFd rd(p[0]), wr(p[1]);
	pid_t pid = fork();
	if (pid < 0)
		throw sys_error("fork");
	if (pid > 0) {
		char c;
		wr.reset();
		_exit(read(rd.get(), &c, 1) == 1 ? 0 : 1);
	}
	if (setsid() < 0)
		throw sys_error("setsid");
	return wr;
}

static void detach_stdio()
{
	UniqueFd null(open("/dev/null", O_RDWR | O_CLOEXEC));

	if (!null)
		throw sys_error("/dev/null");
	std::fflush(stdout);
	for (int fd = 0; fd <= 2; fd++)
		if (dup2(null.get(), fd) < 0)
			throw sys_error("dup2");
}

static NameGuard write_pid_file(const std::string &path)
{
	std::string pid = std::to_string(getpid()) + "\n";
	UniqueFd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));

	if (!fd)
		throw sys_error("cannot create pid file '" + path + "'");
	NameGuard guard(path, unlink);
	if (write(fd.get(), pid.data(), pid.size()) != static_cast<ssize_t>(pid.size()))
		throw sys_error("cannot write pid file '" + path + "'");
	return guard;
}

static int serve(const Options &opts)
{
	raise_fd_limit();
	UniqueFd signals = termination_signals();
	SharedMemory shm(opts);
	Listener listener(opts.socket_path);
	Server server(listener.fd(), shm.fd(),
		      { .vectors = opts.vectors,
			.max_peers = opts.max_peers,
			.keep_departed = opts.keep_departed,
			.verbose = opts.verbose });

	UniqueFd ready;
	if (!opts.foreground)
		ready = daemonize();
	NameGuard pid_file;
	if (!opts.pid_file.empty())
		pid_file = write_pid_file(opts.pid_file);
	if (opts.verbose)
		std::printf("ivshmem-server: debug: %llu bytes of shared memory, %u vectors, "
			    "at most %u peers\n",
			    static_cast<unsigned long long>(opts.shm_size), opts.vectors,
			    opts.max_peers);
	std::printf("ivshmem-server: listening on %s\n", opts.socket_path.c_str());
	if (ready) {
		detach_stdio();
		if (write(ready.get(), "", 1) != 1)
			throw sys_error("cannot notify the parent process");
		ready.reset();
	}

	server.run(signals.get());
	return 0;
}

int main(int argc, char *argv[])
{
	Options opts;

	std::setvbuf(stdout, nullptr, _IOLBF, 0);
	try {
		opts = parse_options(argc, argv);
	} catch (const UsageError &e) {
		std::fprintf(stderr, "ivshmem-server: %s\nTry 'ivshmem-server -h' for help.\n",
			     e.what());
		return 1;
	}
	if (opts.help) {
		std::fputs(kUsage, stdout);
		return 0;
	}
	try {
		return serve(opts);
	} catch (const std::exception &e) {
		std::fprintf(stderr, "ivshmem-server: %s\n", e.what());
		return 1;
	}
}
