// SPDX-License-Identifier: GPL-2.0
// shmnicctl stats: the cluster's published counters as one table, JSON
// records or Prometheus text, with rates from two reads. No netlink here,
// so unit-tested.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "model.h"

namespace shmnicctl {

struct NetRates {
	double rx_pps = 0, rx_bps = 0, tx_pps = 0, tx_bps = 0;	// bits/s
};

// A node's figures of the later read, with rates over the two reads.
struct StatsRow {
	NodeStats now;
	// The node's own clock between the two parts read: rates need it.
	std::optional<double> interval_s;
	std::array<std::optional<NetRates>, 2> rates;
	// A counter went down between two parts of the same epoch: no rates,
	// and a reader is told so.
	bool backwards = false;
};

// Match the nodes of two reads and compute their rates. Rates are given
// only for a node with figures in both reads, of the same epoch, whose
// clock moved forward and whose counters did not go down.
std::vector<StatsRow> stats_rows(const std::vector<NodeStats> &before,
				 const std::vector<NodeStats> &after);

// 950, 1.2k, 12.3M, 1.05G
std::string human_rate(double v);
// The notes of a row: stale, absurd, torn, empty, backwards, peers-cut.
std::vector<std::string> stats_notes(const StatsRow &r);

// One line per node and network.
std::string render_stats_table(const std::vector<StatsRow> &rows);
// One record per node, raw numbers, for render_json().
std::vector<Record> stats_records(const std::vector<StatsRow> &rows);
// The Prometheus text format (version 0.0.4), for node_exporter's textfile
// collector: counters with node and net labels. Parts without figures and
// absurd ones give only the node's state gauges.
std::string render_prometheus(const std::vector<NodeStats> &stats);

} // namespace shmnicctl
