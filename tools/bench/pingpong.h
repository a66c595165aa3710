// SPDX-License-Identifier: GPL-2.0
/*
 * Ping-pong latency between two processes: a frame goes one way and the
 * same bytes come back, one round trip at a time, over
 *  - two shmnic pair rings (one each way), the receiver busy polling or
 *    sleeping on an eventfd doorbell rung through the rings' request/answer
 *    suppression protocol (shmnic_rx_arm, shmnic_tx_kick_needed), as the
 *    driver's interrupt path does;
 *  - a UNIX stream socket pair;
 *  - a TCP connection over 127.0.0.1 (TCP_NODELAY).
 */
#ifndef SHMNIC_PINGPONG_H
#define SHMNIC_PINGPONG_H

#include <shmnic/compat.h>

#include <string>

namespace bench {

struct PingPong {
	std::string transport;	/* "shmnic-ring", "unix-socketpair", "tcp-loopback" */
	std::string mode;	/* "busy-poll", "doorbell", "blocking" */
	u32 size = 0;		/* bytes each way */
	u64 rounds = 0;		/* round trips measured */
	double min_us = 0, median_us = 0, p99_us = 0;
	double kicks_per_round = 0;	/* doorbells rung by both sides (ring) */
};

/*
 * Round trips of @size bytes for @secs seconds (after a short warm-up), the
 * initiator pinned to @cpu_a and the echoing child to @cpu_b (-1: not
 * pinned). Exit the process with a message on any failure.
 */
PingPong pingpong_ring(u32 size, bool doorbell, double secs, int cpu_a, int cpu_b);
PingPong pingpong_socket(bool tcp, u32 size, double secs, int cpu_a, int cpu_b);

} // namespace bench

#endif
