// SPDX-License-Identifier: GPL-2.0
/*
 * A ghost node: a program on the host that joins a running cluster's region
 * as one more node, heartbeats and publishes receive rings, then misbehaves
 * in one of the ways a stuck or hostile VM would (see shmnic-scribble.1).
 */
#ifndef SHMNIC_SCRIBBLE_GHOST_H
#define SHMNIC_SCRIBBLE_GHOST_H

#include <shmnic/layout.h>

#include <csignal>
#include <cstdio>
#include <string>

// What the ghost does; --ghost-control can change it while it runs.
struct GhostMode {
	bool absent = false;		// not in the cluster (entry absent)
	u64 drain = 0;			// frames consumed per second, 0: none
	bool hold_lock = false;		// hold the broadcast lock, bump widx

	bool operator==(const GhostMode &) const = default;
};

struct GhostOptions {
	u32 id = 0;			// node id to join as
	GhostMode mode;			// from --ghost-drain, --ghost-hold-lock
	std::string control;		// --ghost-control FILE, "" if none
	double duration = 0;		// seconds, 0: until stopped
};

// Parse the value of --ghost-drain ("never" or frames per second).
bool ghost_parse_drain(const std::string &s, u64 &fps);

// Parse one line of a --ghost-control file: "absent", or a --ghost-drain
// value ("never" or N) optionally followed by " lock" (hold the broadcast
// lock). Trailing white space is ignored.
bool ghost_parse_control(const std::string &line, GhostMode &m);

// Join region @base (layout @l, validated) as node o.id and run until
// @stop is set or the duration is over; leaves the node table entry
// absent. Prints what it did to @out. Returns 0, or 1 when the id is not
// free.
int ghost_run(u8 *base, const shmnic_layout &l, const GhostOptions &o,
	      const volatile std::sig_atomic_t &stop, std::FILE *out);

#endif
