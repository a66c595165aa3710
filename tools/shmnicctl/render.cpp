// SPDX-License-Identifier: GPL-2.0
#include "render.h"

#include <cstdio>
#include <type_traits>

namespace shmnicctl {

const char *state_name(NodeState s)
{
	switch (s) {
	case NodeState::up:
		return "up";
	case NodeState::down:
		return "down";
	case NodeState::absent:
		break;
	}
	return "absent";
}

std::string human_bytes(std::uint64_t v)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	if (v < 1024)
		return std::to_string(v) + " B";
	double d = static_cast<double>(v) / 1024;
	std::size_t u = 0;
	while (d >= 1024 && u + 1 < std::size(units)) {
		d /= 1024;
		u++;
	}
	char buf[32];
	std::snprintf(buf, sizeof(buf), "%.1f %s", d, units[u]);
	return buf;
}

std::string mac_string(const std::array<std::uint8_t, 6> &mac)
{
	char buf[18];
	std::snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0],
		      mac[1], mac[2], mac[3], mac[4], mac[5]);
	return buf;
}

namespace {

Field num(std::string key, std::uint64_t v, Unit u = Unit::none)
{
	return Field{ std::move(key), v, u };
}

Field str(std::string key, std::string v)
{
	return Field{ std::move(key), std::move(v), Unit::none };
}

Record ring_record(const RingCounters &c)
{
	return Record{ { num("packets", c.packets), num("bytes", c.bytes, Unit::bytes),
			 num("drops", c.drops) } };
}

} // namespace

Record to_record(const Region &r)
{
	return Record{ {
		str("dev", r.ifname),
		num("ifindex", r.ifindex),
		num("node_id", r.node_id),
		num("epoch", r.epoch),
		num("mtu", r.mtu),
		num("rx_depth", r.rx_depth),
		num("layout_version", r.layout_version),
		num("region_size", r.region_size, Unit::bytes),
		num("max_nodes", r.max_nodes),
		num("nets", r.nets),
		num("ring_slots", r.ring_slots),
		num("buf_size", r.buf_size, Unit::bytes),
		num("bcast_slots", r.bcast_slots),
		num("mcast_rings", r.mcast_rings),
	} };
}

Record to_record(const Node &n)
{
	Record rec{ {
		num("node", n.id),
		num("ifindex", n.ifindex),
		str("state", state_name(n.state)),
		Field{ "self", n.self, Unit::none },
		num("epoch", n.epoch),
	} };
	if (n.mac)
		rec.fields.push_back(str("mac", mac_string(*n.mac)));
	if (n.mtu)
		rec.fields.push_back(num("mtu", *n.mtu));
	if (n.rx_depth)
		rec.fields.push_back(num("rx_depth", *n.rx_depth));
	if (n.heartbeat)
		rec.fields.push_back(num("heartbeat", *n.heartbeat));
	if (n.tx)
		rec.fields.push_back(Field{ "tx", std::vector<Record>{ ring_record(*n.tx) } });
	if (n.rx)
		rec.fields.push_back(Field{ "rx", std::vector<Record>{ ring_record(*n.rx) } });
	return rec;
}

Record to_record(const NodeEvent &e)
{
	return Record{ {
		num("node", e.id),
		num("ifindex", e.ifindex),
		str("state", state_name(e.state)),
		num("epoch", e.epoch),
	} };
}

namespace {

std::string text_value(const Field &f)
{
	return std::visit(
		[&](const auto &v) -> std::string {
			using T = std::decay_t<decltype(v)>;
			if constexpr (std::is_same_v<T, std::uint64_t>)
				return f.unit == Unit::bytes ? human_bytes(v) : std::to_string(v);
			else if constexpr (std::is_same_v<T, std::string>)
				return v;
			else if constexpr (std::is_same_v<T, bool>)
				return v ? "yes" : "no";
			else {
				// nested records, inline: "packets 3, bytes 1.5 KiB"
				std::string s;
				for (const Record &r : v) {
					for (const Field &g : r.fields) {
						if (!s.empty())
							s += ", ";
						s += g.key + " " + text_value(g);
					}
				}
				return s;
			}
		},
		f.value);
}

void json_string(std::string &out, const std::string &s)
{
	out += '"';
	for (unsigned char c : s) {
		if (c == '"' || c == '\\') {
			out += '\\';
			out += static_cast<char>(c);
		} else if (c < 0x20) {
			char buf[8];
			std::snprintf(buf, sizeof(buf), "\\u%04x", c);
			out += buf;
		} else {
			out += static_cast<char>(c);
		}
	}
	out += '"';
}

void json_record(std::string &out, const Record &rec)
{
	out += '{';
	bool first = true;
	for (const Field &f : rec.fields) {
		if (!first)
			out += ',';
		first = false;
		json_string(out, f.key);
		out += ':';
		std::visit(
			[&](const auto &v) {
				using T = std::decay_t<decltype(v)>;
				if constexpr (std::is_same_v<T, std::uint64_t>)
					out += std::to_string(v);
				else if constexpr (std::is_same_v<T, std::string>)
					json_string(out, v);
				else if constexpr (std::is_same_v<T, bool>)
					out += v ? "true" : "false";
				else if (v.size() == 1)
					json_record(out, v.front());
				else {
					out += '[';
					for (std::size_t i = 0; i < v.size(); i++) {
						if (i)
							out += ',';
						json_record(out, v[i]);
					}
					out += ']';
				}
			},
			f.value);
	}
	out += '}';
}

} // namespace

std::string render_text(const std::vector<Record> &recs)
{
	std::string out;
	for (std::size_t i = 0; i < recs.size(); i++) {
		if (i)
			out += '\n';
		for (const Field &f : recs[i].fields) {
			std::string key = f.key + ":";
			key.resize(std::max<std::size_t>(key.size(), 16), ' ');
			out += key + text_value(f) + "\n";
		}
	}
	return out;
}

std::string render_text_line(const Record &rec)
{
	Field all{ "", std::vector<Record>{ rec } };
	return text_value(all) + "\n";
}

std::string render_json(const Record &rec)
{
	std::string out;
	json_record(out, rec);
	return out + "\n";
}

std::string render_json(const std::vector<Record> &recs)
{
	std::string out = "[";
	for (std::size_t i = 0; i < recs.size(); i++) {
		if (i)
			out += ',';
		json_record(out, recs[i]);
	}
	return out + "]\n";
}

} // namespace shmnicctl
