// SPDX-License-Identifier: GPL-2.0
// One print path: the model becomes Records, Records become text or JSON.
#pragma once

#include <string>
#include <vector>

#include "model.h"

namespace shmnicctl {

std::string human_bytes(std::uint64_t v);
std::string mac_string(const std::array<std::uint8_t, 6> &mac);

Record to_record(const Region &r);
Record to_record(const Node &n);
Record to_record(const NodeEvent &e);

// Text: "key: value" lines, byte counts in KiB/MiB/..., a blank line
// between records. JSON: raw numbers; an object, or an array when asked.
std::string render_text(const std::vector<Record> &recs);
std::string render_text_line(const Record &rec);	// "key value, ..."
std::string render_json(const Record &rec);
std::string render_json(const std::vector<Record> &recs);

} // namespace shmnicctl
