// SPDX-License-Identifier: GPL-2.0
// One print path: the model becomes Records, Records become text or JSON.
#pragma once

#include <string>
#include <vector>

#include "model.h"

namespace shmnicctl {

std::string human_bytes(std::uint64_t v);
std::string mac_string(const std::array<std::uint8_t, 6> &mac);
// 350ms, 12.4s, 3m10s, 2h05m, 3d04h (truncated, not rounded)
std::string human_millis(std::uint64_t ms);
// addr:port, [addr]:port for IPv6
std::string endpoint_string(const std::string &addr, std::uint64_t port);

Record to_record(const Region &r);
Record to_record(const Node &n);
Record to_record(const NodeEvent &e);
Record to_record(const Flow &f);
Record to_record(const FlowEvent &e);
Record to_record(const Event &e);

// A column of a text table: its header and the fields it shows. Two keys
// (address, port) make one endpoint cell.
struct Column {
	std::string header;
	std::vector<std::string> keys;
};

const std::vector<Column> &flow_columns();

// Text: "key: value" lines, byte counts in KiB/MiB/..., a blank line
// between records. JSON: raw numbers; an object, or an array when asked.
std::string render_text(const std::vector<Record> &recs);
// "key value, ...": fields named by @cols are labelled by the column's
// header, and an endpoint column's two fields are printed as one.
std::string render_text_line(const Record &rec, const std::vector<Column> &cols = {});
// A header line, then a line per record; a missing field prints "-".
std::string render_table(const std::vector<Record> &recs, const std::vector<Column> &cols);
std::string render_json(const Record &rec);
std::string render_json(const std::vector<Record> &recs);

} // namespace shmnicctl
