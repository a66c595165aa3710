// SPDX-License-Identifier: GPL-2.0
#include "render.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
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

const char *policy_name(Policy p)
{
	switch (p) {
	case Policy::hash:
		return "hash";
	case Policy::rr:
		return "rr";
	case Policy::unknown:
		break;
	}
	return "unknown";
}

const char *flow_state_name(FlowState s)
{
	switch (s) {
	case FlowState::syn:
		return "syn";
	case FlowState::established:
		return "established";
	case FlowState::closing:
		return "closing";
	case FlowState::udp:
		return "udp";
	case FlowState::unknown:
		break;
	}
	return "unknown";
}

const char *flow_reason_name(FlowReason r)
{
	switch (r) {
	case FlowReason::rst:
		return "rst";
	case FlowReason::timeout:
		return "timeout";
	case FlowReason::node_down:
		return "node_down";
	case FlowReason::evicted:
		return "evicted";
	case FlowReason::handed_back:
		return "handed_back";
	case FlowReason::unknown:
		break;
	}
	return "unknown";
}

std::string proto_name(std::uint8_t proto)
{
	switch (proto) {
	case 6:
		return "tcp";
	case 17:
		return "udp";
	default:
		return std::to_string(proto);
	}
}

std::string address_string(const Address &a)
{
	char buf[INET6_ADDRSTRLEN];
	if (!inet_ntop(a.v6 ? AF_INET6 : AF_INET, a.bytes.data(), buf, sizeof(buf)))
		return "?";
	return buf;
}

std::string endpoint_string(const std::string &addr, std::uint64_t port)
{
	if (addr.find(':') != std::string::npos)
		return "[" + addr + "]:" + std::to_string(port);
	return addr + ":" + std::to_string(port);
}

std::string human_millis(std::uint64_t ms)
{
	char buf[48];
	const std::uint64_t s = ms / 1000, m = s / 60, h = m / 60, d = h / 24;
	if (ms < 1000)
		std::snprintf(buf, sizeof(buf), "%llums", static_cast<unsigned long long>(ms));
	else if (s < 60)
		std::snprintf(buf, sizeof(buf), "%llu.%llus", static_cast<unsigned long long>(s),
			      static_cast<unsigned long long>(ms % 1000 / 100));
	else if (m < 60)
		std::snprintf(buf, sizeof(buf), "%llum%02llus", static_cast<unsigned long long>(m),
			      static_cast<unsigned long long>(s % 60));
	else if (h < 24)
		std::snprintf(buf, sizeof(buf), "%lluh%02llum", static_cast<unsigned long long>(h),
			      static_cast<unsigned long long>(m % 60));
	else
		std::snprintf(buf, sizeof(buf), "%llud%02lluh", static_cast<unsigned long long>(d),
			      static_cast<unsigned long long>(h % 24));
	return buf;
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
	Record rec{ {
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
	if (r.global_ifname)
		rec.fields.push_back(str("global_dev", *r.global_ifname));
	if (r.global_ifindex)
		rec.fields.push_back(num("global_ifindex", *r.global_ifindex));
	if (r.policy)
		rec.fields.push_back(str("policy", policy_name(*r.policy)));
	if (r.flow_slots)
		rec.fields.push_back(num("flow_slots", *r.flow_slots));
	if (r.globals) {
		std::vector<std::string> addrs;
		for (const Address &a : *r.globals)
			addrs.push_back(address_string(a));
		rec.fields.push_back(Field{ "globals", std::move(addrs), Unit::none });
	}
	return rec;
}

Record to_record(const Node &n)
{
	Record rec{ {
		num("node", n.id),
		num("ifindex", n.ifindex),
		str("state", state_name(n.state)),
		Field{ "self", n.self, Unit::none },
		Field{ "stalled", n.stalled, Unit::none },
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

Record to_record(const Flow &f)
{
	Record rec{ {
		num("ifindex", f.ifindex),
		str("proto", proto_name(f.proto)),
		str("saddr", address_string(f.saddr)),
		num("sport", f.sport),
		str("daddr", address_string(f.daddr)),
		num("dport", f.dport),
		num("node", f.node),
		num("gateway", f.gateway),
		str("state", flow_state_name(f.state)),
	} };
	if (f.idle_ms)
		rec.fields.push_back(num("idle_ms", *f.idle_ms, Unit::millis));
	return rec;
}

Record to_record(const FlowEvent &e)
{
	Record rec = to_record(e.flow);
	rec.fields.insert(rec.fields.begin(), str("flow", e.added ? "new" : "del"));
	if (e.reason)
		rec.fields.push_back(str("reason", flow_reason_name(*e.reason)));
	return rec;
}

Record to_record(const Event &e)
{
	return std::visit([](const auto &v) { return to_record(v); }, e);
}

const std::vector<Column> &flow_columns()
{
	static const std::vector<Column> cols = {
		{ "proto", { "proto" } },
		{ "peer", { "saddr", "sport" } },
		{ "global", { "daddr", "dport" } },
		{ "node", { "node" } },
		{ "gateway", { "gateway" } },
		{ "state", { "state" } },
		{ "idle", { "idle_ms" } },
	};
	return cols;
}

namespace {

std::string text_value(const Field &f)
{
	return std::visit(
		[&](const auto &v) -> std::string {
			using T = std::decay_t<decltype(v)>;
			if constexpr (std::is_same_v<T, std::uint64_t>) {
				if (f.unit == Unit::bytes)
					return human_bytes(v);
				if (f.unit == Unit::millis)
					return human_millis(v);
				return std::to_string(v);
			} else if constexpr (std::is_same_v<T, std::string>)
				return v;
			else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
				std::string s;
				for (const std::string &e : v)
					s += (s.empty() ? "" : ", ") + e;
				return v.empty() ? "none" : s;
			}
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
				else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
					out += '[';
					for (std::size_t i = 0; i < v.size(); i++) {
						if (i)
							out += ',';
						json_string(out, v[i]);
					}
					out += ']';
				} else if (v.size() == 1 && !f.list)
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

namespace {

const Field *find_field(const Record &rec, const std::string &key)
{
	for (const Field &f : rec.fields)
		if (f.key == key)
			return &f;
	return nullptr;
}

// The text of @col for @rec; nullopt if a field it shows is missing.
std::optional<std::string> cell(const Record &rec, const Column &col)
{
	std::vector<const Field *> fs;
	for (const std::string &k : col.keys) {
		const Field *f = find_field(rec, k);
		if (!f)
			return std::nullopt;
		fs.push_back(f);
	}
	if (fs.size() == 2 && std::holds_alternative<std::uint64_t>(fs[1]->value))
		return endpoint_string(text_value(*fs[0]), std::get<std::uint64_t>(fs[1]->value));
	std::string s;
	for (const Field *f : fs)
		s += (s.empty() ? "" : " ") + text_value(*f);
	return s;
}

} // namespace

std::string render_text_line(const Record &rec, const std::vector<Column> &cols)
{
	std::string out;
	std::vector<std::string> done;
	for (const Field &f : rec.fields) {
		if (std::find(done.begin(), done.end(), f.key) != done.end())
			continue;
		std::string label = f.key, value;
		const Column *col = nullptr;
		for (const Column &c : cols)
			if (!c.keys.empty() && c.keys.front() == f.key)
				col = &c;
		std::optional<std::string> v;
		if (col && (v = cell(rec, *col))) {
			label = col->header;
			value = *v;
			done.insert(done.end(), col->keys.begin(), col->keys.end());
		} else {
			value = text_value(f);
		}
		if (!out.empty())
			out += ", ";
		out += label + " " + value;
	}
	return out + "\n";
}

std::string render_table(const std::vector<Record> &recs, const std::vector<Column> &cols)
{
	std::vector<std::vector<std::string>> rows;
	std::vector<std::string> head;
	for (const Column &c : cols) {
		std::string h = c.header;
		for (char &ch : h)
			ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
		head.push_back(h);
	}
	rows.push_back(head);
	for (const Record &r : recs) {
		std::vector<std::string> row;
		for (const Column &c : cols)
			row.push_back(cell(r, c).value_or("-"));
		rows.push_back(row);
	}
	std::vector<std::size_t> width(cols.size(), 0);
	for (const auto &row : rows)
		for (std::size_t i = 0; i < row.size(); i++)
			width[i] = std::max(width[i], row[i].size());
	std::string out;
	for (const auto &row : rows) {
		std::string line;
		for (std::size_t i = 0; i < row.size(); i++) {
			line += row[i];
			if (i + 1 < row.size())
				line += std::string(width[i] - row[i].size() + 2, ' ');
		}
		out += line + "\n";
	}
	return out;
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
