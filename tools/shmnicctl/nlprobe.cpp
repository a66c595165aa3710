// SPDX-License-Identifier: GPL-2.0
// shmnic-nlprobe: a test tool. It sends the "shmnic" generic netlink family
// requests shmnicctl never would (probe.cpp: bad lengths, missing, unknown
// and out-of-range attributes, bad headers, a 17th GLOBAL address), checks
// each is refused with the errno expected, and that the module still
// answers valid ones. KTAP on stdout; exit 0 if every expectation held.
//
//   shmnic-nlprobe [-v]              as root (CAP_NET_ADMIN)
//   shmnic-nlprobe --unprivileged    without it: reads work, changes EPERM
//
// It changes nothing it does not undo: the GLOBAL addresses it adds (only
// marked GLOBAL in the driver, never put on an interface) are removed at
// the end, also when it fails halfway.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/shmnic.h>
#include <memory>
#include <net/if.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <sstream>
#include <string>
#include <sys/socket.h>
#include <sys/time.h>
#include <vector>

#include "netlink.h"
#include "probe.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

using namespace shmnicctl;
using namespace shmnicctl::probe;

namespace {

struct SockDeleter {
	void operator()(nl_sock *s) const { nl_socket_free(s); }
};
struct BufDeleter {
	void operator()(unsigned char *p) const { std::free(p); }
};

// What came back for one request.
struct Result {
	bool answered = false;	// an ack, an error or the end of a dump
	Answer ans;
	std::vector<Region> regions;	// GET_REGION replies
	int replies = 0;		// messages of the family
};

// A generic netlink socket that sends a request and reads everything it
// brings back, without interpreting errors: that is the caller's job.
class Prober {
public:
	Prober() : sock_(nl_socket_alloc())
	{
		if (!sock_)
			throw NlError(ENOMEM, "cannot allocate a netlink socket");
		int err = nl_connect(sock_.get(), NETLINK_GENERIC);
		if (err < 0)
			throw NlError(-err, std::string("cannot open a generic netlink socket: ") +
						   nl_geterror(err));
		const int fd = nl_socket_get_fd(sock_.get());
		int one = 1;
		setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
		setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
		// A kernel that never answers fails the case, not the run.
		timeval tv{ 5, 0 };
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		family_ = genl_ctrl_resolve(sock_.get(), SHMNIC_GENL_NAME);
		if (family_ < 0)
			throw NlError(ENOENT, "no generic netlink family \"" SHMNIC_GENL_NAME
					      "\": is the shmnic module loaded?");
	}

	int family() const { return family_; }

	Result send(const Msg &msg)
	{
		Result r;
		int err = nl_send_auto(sock_.get(), msg.get());
		if (err < 0)
			throw NlError(-err, std::string("cannot send: ") + nl_geterror(err));
		const std::uint32_t seq = nlmsg_hdr(msg.get())->nlmsg_seq;
		while (!r.answered) {
			sockaddr_nl from{};
			unsigned char *raw = nullptr;
			int n = nl_recv(sock_.get(), &from, &raw, nullptr);
			std::unique_ptr<unsigned char, BufDeleter> buf(raw);
			if (n <= 0)
				break;	// timeout or error: not answered
			auto *nlh = reinterpret_cast<nlmsghdr *>(buf.get());
			for (; nlmsg_ok(nlh, n); nlh = nlmsg_next(nlh, &n)) {
				if (nlh->nlmsg_seq != seq)
					continue;
				if (auto a = parse_answer(nlh, static_cast<int>(nlh->nlmsg_len))) {
					r.answered = true;
					r.ans = *a;
					break;
				}
				if (nlh->nlmsg_type != family_)
					continue;
				r.replies++;
				nlattr *tb[SHMNIC_A_MAX + 1] = {};
				const auto *g = static_cast<const genlmsghdr *>(nlmsg_data(nlh));
				if (g->cmd == SHMNIC_CMD_GET_REGION &&
				    genlmsg_parse(nlh, 0, tb, SHMNIC_A_MAX, nullptr) == 0)
					r.regions.push_back(parse_region(tb));
			}
		}
		return r;
	}

private:
	std::unique_ptr<nl_sock, SockDeleter> sock_;
	int family_ = 0;
};

// KTAP with the plan printed first, so the cases are counted up front.
class Ktap {
public:
	explicit Ktap(int plan)
	{
		std::cout << "TAP version 13\n1.." << plan << "\n";
	}
	void result(const std::string &name, bool ok, const std::string &why = "")
	{
		++n_;
		if (!ok)
			++failed_;
		std::cout << (ok ? "ok " : "not ok ") << n_ << " " << name
			  << (why.empty() ? "" : " # " + why) << "\n";
		std::cout.flush();
	}
	void diag(const std::string &s) { std::cout << "# " << s << "\n"; }
	int count() const { return n_; }
	int failed() const { return failed_; }

private:
	int n_ = 0;
	int failed_ = 0;
};

std::string describe(const Result &r)
{
	if (!r.answered)
		return "no answer";
	std::string s = "errno " + errno_name(r.ans.err);
	if (!r.ans.msg.empty())
		s += ", extack \"" + r.ans.msg + "\"";
	if (r.ans.miss_type)
		s += ", missing attribute " + std::to_string(*r.ans.miss_type);
	if (r.ans.offset)
		s += ", at offset " + std::to_string(*r.ans.offset);
	return s;
}

std::string errs_string(const std::vector<int> &errs)
{
	std::string s;
	for (int e : errs)
		s += (s.empty() ? "" : " or ") + errno_name(e);
	return s;
}

// Check @r against @c; one KTAP line, the kernel's answer as a diagnostic.
void judge(Ktap &k, const Case &c, const Result &r, bool verbose)
{
	std::string why;
	if (!r.answered)
		why = "no answer within 5 s, expected " + errs_string(c.errs);
	else if (std::find(c.errs.begin(), c.errs.end(), r.ans.err) == c.errs.end())
		why = "errno " + errno_name(r.ans.err) + ", expected " + errs_string(c.errs);
	else if (!c.msg_has.empty() && r.ans.msg.find(c.msg_has) == std::string::npos)
		why = "extack \"" + r.ans.msg + "\", expected one with \"" + c.msg_has + "\"";
	else if (c.miss_type && r.ans.miss_type != c.miss_type)
		why = "missing attribute " +
		      (r.ans.miss_type ? std::to_string(*r.ans.miss_type) : "not named") +
		      ", expected " + std::to_string(*c.miss_type);
	if (verbose || !why.empty() || !r.ans.msg.empty() || r.ans.miss_type)
		k.diag(c.name + ": " + describe(r));
	k.result(c.name, why.empty(), why);
}

// A request that must succeed; false (and a diagnostic) if not.
bool ok_request(Ktap &k, Prober &p, const std::string &what, const Msg &m, Result *out = nullptr)
{
	Result r = p.send(m);
	if (out)
		*out = r;
	if (r.answered && r.ans.err == 0)
		return true;
	k.diag(what + ": " + describe(r));
	return false;
}

Address ipv4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d)
{
	Address x;
	x.bytes[0] = a;
	x.bytes[1] = b;
	x.bytes[2] = c;
	x.bytes[3] = d;
	return x;
}

bool has_global(const Region &r, const Address &a)
{
	return r.globals && std::find(r.globals->begin(), r.globals->end(), a) != r.globals->end();
}

std::size_t globals_of(const Region &r)
{
	return r.globals ? r.globals->size() : 0;
}

// GET_REGION of @ifindex; nullopt (and a diagnostic) if it fails.
std::optional<Region> region(Ktap &k, Prober &p, std::uint32_t ifindex)
{
	Result r;
	Msg m = genl_request(p.family(), SHMNIC_CMD_GET_REGION, 0, ifindex);
	if (!ok_request(k, p, "get_region", m, &r) || r.regions.size() != 1)
		return std::nullopt;
	return r.regions.front();
}

// The GLOBAL addresses this run added, removed again however it ends.
class AddedGlobals {
public:
	AddedGlobals(Prober &p, std::uint32_t ifindex) : p_(p), ifindex_(ifindex) {}
	~AddedGlobals()
	{
		try {
			remove_all();
		} catch (...) {
		}
	}
	AddedGlobals(const AddedGlobals &) = delete;
	AddedGlobals &operator=(const AddedGlobals &) = delete;

	// GLOBAL_ADD; the errno (0: added, remembered for removal).
	int add(const Address &a)
	{
		Result r = p_.send(global_request(p_.family(), true, ifindex_, a));
		int err = r.answered ? r.ans.err : ETIMEDOUT;
		if (err == 0)
			added_.push_back(a);
		return err;
	}
	// GLOBAL_DEL of every address added; the number that failed.
	int remove_all()
	{
		int failed = 0;
		for (const Address &a : added_) {
			Result r = p_.send(global_request(p_.family(), false, ifindex_, a));
			if (!r.answered || r.ans.err)
				failed++;
		}
		added_.clear();
		return failed;
	}
	std::size_t size() const { return added_.size(); }

private:
	Prober &p_;
	std::uint32_t ifindex_;
	std::vector<Address> added_;
};

// An ifindex no device has.
std::uint32_t bogus_ifindex()
{
	char name[IF_NAMESIZE];
	std::uint32_t i = 0x7ffffff0;
	while (if_indextoname(i, name))
		i--;
	return i;
}

int run_privileged(bool verbose)
{
	Prober p;
	// 4 before the bad cases, 5 after them
	Target t{ p.family(), 0, if_nametoindex("lo"), bogus_ifindex() };
	std::vector<Case> cases = bad_cases(t);
	Ktap k(static_cast<int>(cases.size()) + 9);

	std::optional<Region> before = region(k, p, 0);
	k.result("get_region_ok", before && before->ifindex);
	if (!before || !before->ifindex) {
		k.diag("no shmnic device answers GET_REGION: giving up");
		return 1;
	}
	t.ifindex = before->ifindex;
	k.diag("device " + before->ifname + " ifindex " + std::to_string(t.ifindex) +
	       ", lo " + std::to_string(t.lo) + ", bogus ifindex " + std::to_string(t.bogus) +
	       ", " + std::to_string(globals_of(*before)) + " GLOBAL addresses");
	cases = bad_cases(t);	// now naming the real device

	Result nodes;
	Msg dump = genl_request(p.family(), SHMNIC_CMD_GET_NODES, NLM_F_DUMP, t.ifindex);
	k.result("get_nodes_dump_ok", ok_request(k, p, "get_nodes", dump, &nodes) &&
					      nodes.replies >= 1);

	// A valid GLOBAL_ADD and GLOBAL_DEL, IPv4 and IPv6.
	for (bool v6 : { false, true }) {
		Address a = ipv4(10, 98, 0, 100);
		if (v6) {
			a.v6 = true;
			a.bytes = { 0xfd, 0, 0, 0x98, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x64 };
		}
		const std::string name = v6 ? "global_add_del_ipv6_ok" : "global_add_del_ipv4_ok";
		bool ok = ok_request(k, p, "add " + address_string(a),
				     global_request(p.family(), true, t.ifindex, a));
		auto mid = region(k, p, t.ifindex);
		ok = ok && mid && has_global(*mid, a);
		ok = ok_request(k, p, "del " + address_string(a),
				global_request(p.family(), false, t.ifindex, a)) && ok;
		auto after = region(k, p, t.ifindex);
		ok = ok && after && !has_global(*after, a);
		k.result(name, ok);
	}

	for (const Case &c : cases)
		judge(k, c, p.send(c.msg), verbose);

	// Fill the table to SHMNIC_MAX_GLOBALS with 10.98.0.1, .2, ...
	{
		AddedGlobals added(p, t.ifindex);
		auto now = region(k, p, t.ifindex);
		const std::size_t had = now ? globals_of(*now) : 0;
		int err = 0;
		for (std::uint8_t i = 1; now && had + added.size() < SHMNIC_MAX_GLOBALS && !err &&
					 i < 100;
		     i++)
			if (!has_global(*now, ipv4(10, 98, 0, i)))
				err = added.add(ipv4(10, 98, 0, i));
		now = region(k, p, t.ifindex);
		const bool full = !err && now && globals_of(*now) == SHMNIC_MAX_GLOBALS;
		if (!full)
			k.diag("globals_fill_to_16: " + std::to_string(added.size()) + " added, " +
			       (err ? "last one refused with " + errno_name(err) + ", " : "") +
			       std::to_string(now ? globals_of(*now) : 0) + " now");
		else
			k.diag("globals_fill_to_16: " + std::to_string(had) + " there, " +
			       std::to_string(added.size()) + " added");
		k.result("globals_fill_to_16", full);

		Case c17{ "global_add_17th", global_request(p.family(), true, t.ifindex,
							    ipv4(10, 98, 0, 17)),
			  { ENOSPC }, "too many GLOBAL addresses", std::nullopt, false };
		Result r17 = p.send(c17.msg);
		if (r17.answered && r17.ans.err == 0)	// remove it too
			p.send(global_request(p.family(), false, t.ifindex, ipv4(10, 98, 0, 17)));
		judge(k, c17, r17, verbose);

		const int failed = added.remove_all();
		now = region(k, p, t.ifindex);
		const bool back = !failed && now && globals_of(*now) == had;
		if (!back)
			k.diag("globals_removed: " + std::to_string(failed) + " deletes failed, " +
			       std::to_string(now ? globals_of(*now) : 0) + " left, " +
			       std::to_string(had) + " expected");
		k.result("globals_removed", back);
	}

	// Nothing refused changed anything; the module still answers.
	auto after = region(k, p, t.ifindex);
	const bool same = after && after->policy == before->policy &&
			  after->rx_depth == before->rx_depth && after->mtu == before->mtu &&
			  after->globals == before->globals;
	if (!same && after)
		k.diag("state_unchanged: rx_depth " + std::to_string(before->rx_depth) + " -> " +
		       std::to_string(after->rx_depth) + ", mtu " + std::to_string(before->mtu) +
		       " -> " + std::to_string(after->mtu));
	k.result("state_unchanged", same);
	k.result("get_region_ok_after", after.has_value());

	std::cout << "# Totals: pass:" << k.count() - k.failed() << " fail:" << k.failed()
		  << " xfail:0 xpass:0 skip:0 error:0\n";
	return k.failed() ? 1 : 0;
}

// Without CAP_NET_ADMIN: reads answer (but the flow table), changes are
// refused with EPERM (GENL_ADMIN_PERM), before any attribute is looked at.
int run_unprivileged(bool verbose)
{
	Prober p;
	const int fam = p.family();
	Ktap k(6);
	std::optional<Region> reg = region(k, p, 0);
	k.result("get_region_ok", reg.has_value());
	const std::uint32_t ifx = reg ? reg->ifindex : 1;
	k.result("get_nodes_dump_ok",
		 ok_request(k, p, "get_nodes",
			    genl_request(fam, SHMNIC_CMD_GET_NODES, NLM_F_DUMP, 0)));
	const Address a = ipv4(10, 98, 0, 100);
	std::vector<Case> cases;
	// The flow table names the outside peers: CAP_NET_ADMIN, as conntrack.
	cases.push_back(Case{ "get_flows_eperm",
			      genl_request(fam, SHMNIC_CMD_GET_FLOWS, NLM_F_DUMP, 0), { EPERM },
			      "", std::nullopt, true });
	cases.push_back(Case{ "global_add_eperm", global_request(fam, true, ifx, a), { EPERM }, "",
			      std::nullopt, false });
	cases.push_back(Case{ "global_del_eperm", global_request(fam, false, ifx, a), { EPERM }, "",
			      std::nullopt, false });
	cases.push_back(Case{ "set_policy_eperm",
			      set_request(fam, ifx, std::nullopt, std::nullopt, Policy::rr),
			      { EPERM }, "", std::nullopt, false });
	for (const Case &c : cases) {
		Result r = p.send(c.msg);
		judge(k, c, r, verbose);
		if (r.answered && r.ans.err == 0 && c.name == "global_add_eperm")
			p.send(global_request(fam, false, ifx, a));	// undo
	}
	return k.failed() ? 1 : 0;
}

void usage(std::ostream &o)
{
	o << "usage: shmnic-nlprobe [-v] [--unprivileged]\n"
	     "Send bad requests to the shmnic generic netlink family and check each is\n"
	     "refused with the expected errno (KTAP). --unprivileged: run without\n"
	     "CAP_NET_ADMIN, expect reads to work and changes to fail with EPERM.\n"
	     "Exit status: 0 all expectations met, 1 some not, 2 usage.\n";
}

} // namespace

int main(int argc, char **argv)
{
	bool verbose = false, unpriv = false;
	for (int i = 1; i < argc; i++) {
		const std::string a = argv[i];
		if (a == "-v" || a == "--verbose") {
			verbose = true;
		} else if (a == "--unprivileged") {
			unpriv = true;
		} else if (a == "-h" || a == "--help") {
			usage(std::cout);
			return 0;
		} else {
			usage(std::cerr);
			return 2;
		}
	}
	try {
		return unpriv ? run_unprivileged(verbose) : run_privileged(verbose);
	} catch (const std::exception &e) {
		std::cout << "# shmnic-nlprobe: " << e.what() << "\n";
		std::cerr << "shmnic-nlprobe: " << e.what() << "\n";
		return 1;
	}
}
