// SPDX-License-Identifier: GPL-2.0
/*
 * The global network: every node carries the same GLOBAL addresses on
 * shmg0, and a gateway (a node that receives packets for them from
 * outside) dispatches each packet to the node that serves its flow.
 *
 * A netfilter hook at PRE_ROUTING, after defragmentation, takes packets for
 * a GLOBAL address that did not arrive on a global adapter and decides:
 *   1. the flow table (include/shmnic/flow.h, in the shared region, every
 *      gateway's part) has the 5-tuple: that node;
 *   2. our own stack has the connection: us;
 *   3. else ask every other node (SHMNIC_CTRL_QUERY on the global pair
 *      rings; one query per flow, its later packets wait for the answers,
 *      at most SHMNIC_GW_QUERY_WAIT): a node with the connection wins, else
 *      one of the nodes listening on the port, by the dispatch policy
 *      (Maglev consistent hash, or round-robin) if the packet may open
 *      a flow (UDP, a TCP SYN); a TCP segment of no connection is left to
 *      our own stack, which resets it, and starts no flow;
 *   4. else drop and count.
 * The choice goes into our part of the flow table, and the packet travels
 * to that node's shmg0 on the global rings, which hands it to its stack.
 * ICMP errors follow the flow of the packet they quote. The flow table's
 * side is in flow.c, cracking packets in crack.c.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/hashtable.h>
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/jhash.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/rculist.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <net/inet_hashtables.h>
#include <net/inet6_hashtables.h>
#include <net/ipv6.h>
#include <net/udp.h>
#include <net/netfilter/nf_conntrack.h>

#include <uapi/linux/shmnic.h>
#include <shmnic/flow.h>

#include "shmnic.h"
#include "gw.h"

/* How long a flow's packets wait for the other nodes' answers. */
#define SHMNIC_GW_QUERY_WAIT	(HZ / 20)
/* Flows waiting for answers, and packets queued per flow. */
#define SHMNIC_GW_MAX_PENDING	256
#define SHMNIC_GW_MAX_QUEUED	16
/* Services whose listeners a gateway remembers. */
#define SHMNIC_GW_MAX_SVCS	64

static const char shmnic_gw_stat_names[SHMNIC_GWS_MAX][ETH_GSTRING_LEN] = {
	[SHMNIC_GWS_RX] = "gw_rx",
	[SHMNIC_GWS_FORWARDED] = "gw_forwarded",
	[SHMNIC_GWS_LOCAL] = "gw_local",
	[SHMNIC_GWS_QUERIES] = "gw_queries",
	[SHMNIC_GWS_ANSWERS] = "gw_answers",
	[SHMNIC_GWS_QUERY_TIMEOUTS] = "gw_query_timeouts",
	[SHMNIC_GWS_NO_SERVER] = "gw_no_server",
	[SHMNIC_GWS_PENDING_FULL] = "gw_pending_full",
	[SHMNIC_GWS_FRAGMENTS] = "gw_fragments",
	[SHMNIC_GWS_TX_ERRORS] = "gw_tx_errors",
	[SHMNIC_GWS_FLOWS_NEW] = "gw_flows_new",
	[SHMNIC_GWS_FLOWS_FULL] = "gw_flows_full",
	[SHMNIC_GWS_FLOWS_EVICTED] = "gw_flows_evicted",
	[SHMNIC_GWS_FLOWS_CLOSED] = "gw_flows_closed",
	[SHMNIC_GWS_FLOWS_EXPIRED] = "gw_flows_expired",
	[SHMNIC_GWS_FLOWS_PURGED] = "gw_flows_purged",
	[SHMNIC_GWS_ANSWERED] = "gw_queries_answered",
	[SHMNIC_GWS_NO_CONN] = "gw_no_conn",
};

/* Gateways the hooks look at (normally one); RCU, writers under RTNL. */
static LIST_HEAD(shmnic_gws);

u32 shmnic_gw_stat_count(void)
{
	return SHMNIC_GWS_MAX;
}

void shmnic_gw_stat_strings(u8 **buf)
{
	u32 i;

	for (i = 0; i < SHMNIC_GWS_MAX; i++)
		ethtool_sprintf(buf, "%s", shmnic_gw_stat_names[i]);
}

u64 *shmnic_gw_stat_fetch(struct shmnic_dev *sd, u64 *data)
{
	u32 i;

	for (i = 0; i < SHMNIC_GWS_MAX; i++)
		*data++ = atomic64_read(&sd->gw->stats[i]);
	return data;
}

/* --- GLOBAL addresses ---------------------------------------------------- */

/* The index of address @addr of @family (4 or 6) in @g, or -1. */
static int shmnic_globals_find(const struct shmnic_globals *g, u8 family,
			       const void *addr)
{
	u32 len = family == 4 ? 4 : 16, i;

	for (i = 0; g && i < g->n; i++)
		if (g->a[i].family == family && !memcmp(g->a[i].addr, addr, len))
			return i;
	return -1;
}

static bool shmnic_gw_is_global(const struct shmnic_gw *gw, u8 family,
				const void *addr)
{
	return shmnic_globals_find(rcu_dereference(gw->globals), family,
				   addr) >= 0;
}

/* Add (@add) or remove GLOBAL address @addr of @len bytes. Under the genl
 * device lock.
 */
int shmnic_gw_global_set(struct shmnic_dev *sd, const void *addr, u32 len,
			 bool add, struct netlink_ext_ack *extack)
{
	struct shmnic_gw *gw = sd->gw;
	struct shmnic_globals *old, *new;
	u8 family = len == 4 ? 4 : 6;
	int found, i;

	old = rcu_dereference_protected(gw->globals, true);
	found = shmnic_globals_find(old, family, addr);
	if (add && found >= 0)
		return 0;
	if (!add && found < 0) {
		NL_SET_ERR_MSG(extack, "not a GLOBAL address of this device");
		return -ENOENT;
	}
	if (add && old && old->n >= SHMNIC_MAX_GLOBALS) {
		NL_SET_ERR_MSG(extack, "too many GLOBAL addresses");
		return -ENOSPC;
	}
	new = kzalloc(sizeof(*new), GFP_KERNEL);
	if (!new)
		return -ENOMEM;
	for (i = 0; old && i < old->n; i++)
		if (i != found)
			new->a[new->n++] = old->a[i];
	if (add) {
		new->a[new->n].family = family;
		memcpy(new->a[new->n].addr, addr, len);
		new->n++;
	}
	rcu_assign_pointer(gw->globals, new);
	if (old)
		kfree_rcu(old, rcu);
	if (len == 4)
		netdev_info(sd->global->ndev, "%s GLOBAL address %pI4\n",
			    add ? "added" : "removed", addr);
	else
		netdev_info(sd->global->ndev, "%s GLOBAL address %pI6c\n",
			    add ? "added" : "removed", addr);
	return 0;
}

/* --- this node's sockets ------------------------------------------------ */

/* Does this node's stack have flow @k (SHMNIC_ANS_CONN), a socket listening
 * for it (SHMNIC_ANS_LISTEN), or neither? Under RCU.
 */
static u32 shmnic_gw_sock_lookup(struct shmnic_dev *sd,
				 const struct shmnic_flow_key *k)
{
	struct net_device *gdev = sd->global->ndev;
	struct net *net = dev_net(gdev);
	struct inet_hashinfo *hi = net->ipv4.tcp_death_row.hashinfo;
	int dif = gdev->ifindex;
	u16 hnum = ntohs((__force __be16)k->dport);
	__be16 sport = (__force __be16)k->sport;
	__be16 dport = (__force __be16)k->dport;
	struct sock *sk = NULL;
	u32 ans = SHMNIC_ANS_NONE;

	if (k->family == 4) {
		__be32 saddr, daddr;

		memcpy(&saddr, k->saddr, 4);
		memcpy(&daddr, k->daddr, 4);
		if (k->proto == IPPROTO_TCP) {
			sk = __inet_lookup_established(net, hi, saddr, sport,
						       daddr, hnum, dif, 0);
			if (sk) {
				sock_gen_put(sk);
				return SHMNIC_ANS_CONN;
			}
			if (__inet_lookup_listener(net, hi, NULL, 0, saddr,
						   sport, daddr, hnum, dif, 0))
				ans = SHMNIC_ANS_LISTEN;
		} else {
			sk = __udp4_lib_lookup(net, saddr, sport, daddr, dport,
					       dif, 0, shmnic_udp_table(net),
					       NULL);
		}
#if IS_ENABLED(CONFIG_IPV6)
	} else {
		const struct in6_addr *saddr = (const void *)k->saddr;
		const struct in6_addr *daddr = (const void *)k->daddr;

		if (k->proto == IPPROTO_TCP) {
			sk = __inet6_lookup_established(net, hi, saddr, sport,
							daddr, hnum, dif, 0);
			if (sk) {
				sock_gen_put(sk);
				return SHMNIC_ANS_CONN;
			}
			if (inet6_lookup_listener(net, hi, NULL, 0, saddr,
						  sport, daddr, hnum, dif, 0))
				ans = SHMNIC_ANS_LISTEN;
		} else {
			sk = __udp6_lib_lookup(net, saddr, sport, daddr, dport,
					       dif, 0, shmnic_udp_table(net),
					       NULL);
		}
#endif
	}
	/* A connected UDP socket owns the flow; else it listens. (No
	 * reference: UDP sockets are freed after an RCU grace period.)
	 */
	if (sk)
		ans = sk->sk_state == TCP_ESTABLISHED ? SHMNIC_ANS_CONN :
							SHMNIC_ANS_LISTEN;
	return ans;
}

/* --- moving packets ----------------------------------------------------- */

/* Hand @skb (data at its network header) to our own stack, through
 * PRE_ROUTING again, now from a global adapter. Consumes @skb.
 */
static void shmnic_gw_up(struct shmnic_gw *gw, struct sk_buff *skb)
{
	nf_reset_ct(skb);
	skb_dst_drop(skb);
	skb->dev = gw->sd->global->ndev;
	skb->pkt_type = PACKET_HOST;
	netif_rx(skb);
}

/* Send @skb (data at its network header) to node @node's shmg0, or up our
 * own shmg0 when @node is us. Consumes @skb.
 */
static void shmnic_gw_send(struct shmnic_gw *gw, struct sk_buff *skb,
			   u32 node)
{
	struct shmnic_dev *sd = gw->sd;
	struct net_device *gdev = sd->global->ndev;
	struct ethhdr *eth;

	if (node == sd->id) {
		shmnic_gw_count(gw, SHMNIC_GWS_LOCAL);
		shmnic_gw_up(gw, skb);
		return;
	}
	nf_reset_ct(skb);
	skb_dst_drop(skb);
	skb->dev = gdev;
	if (skb_cow_head(skb, ETH_HLEN)) {
		shmnic_gw_count(gw, SHMNIC_GWS_TX_ERRORS);
		kfree_skb(skb);
		return;
	}
	/* The checksum of what we forward is no longer complete over it. */
	if (skb->ip_summed == CHECKSUM_COMPLETE)
		skb->ip_summed = CHECKSUM_NONE;
	eth = skb_push(skb, ETH_HLEN);
	skb_reset_mac_header(skb);
	shmnic_node_mac(eth->h_dest, SHMNIC_NET_GLOBAL, node);
	ether_addr_copy(eth->h_source, gdev->dev_addr);
	eth->h_proto = skb->protocol;
	if (dev_queue_xmit(skb))
		shmnic_gw_count(gw, SHMNIC_GWS_TX_ERRORS);
	else
		shmnic_gw_count(gw, SHMNIC_GWS_FORWARDED);
}

/* --- waiting for the other nodes ---------------------------------------- */

/* May @pk start a flow on a listening node? UDP yes, TCP only a SYN. */
static bool shmnic_gw_pkt_opens(const struct shmnic_gw_pkt *pk)
{
	return pk->key.proto == IPPROTO_UDP ||
	       shmnic_flow_tcp_opens(pk->syn, pk->ack, pk->fin, pk->rst);
}

static struct shmnic_gw_pend *shmnic_gw_pend_find(struct shmnic_gw *gw,
						  const struct shmnic_flow_key *k,
						  u32 hash)
{
	struct shmnic_gw_pend *p;

	hash_for_each_possible(gw->pend, p, node, hash)
		if (p->hash == hash && shmnic_flow_key_eq(&p->key, k))
			return p;
	return NULL;
}

/* --- what the nodes last said about a service --------------------------- */

static u32 shmnic_gw_svc_of(const struct shmnic_flow_key *k,
			    struct shmnic_gw_svc_key *sk)
{
	memset(sk, 0, sizeof(*sk));
	sk->family = k->family;
	sk->proto = k->proto;
	sk->dport = k->dport;
	memcpy(sk->daddr, k->daddr, sizeof(sk->daddr));
	return jhash(sk, sizeof(*sk), 0);
}

static struct shmnic_gw_svc *shmnic_gw_svc_find(struct shmnic_gw *gw,
						const struct shmnic_flow_key *k,
						bool create)
{
	struct shmnic_gw_svc_key sk;
	struct shmnic_gw_svc *s;
	u32 hash = shmnic_gw_svc_of(k, &sk);

	lockdep_assert_held(&gw->lock);
	hash_for_each_possible(gw->svc, s, node, hash)
		if (!memcmp(&s->key, &sk, sizeof(sk)))
			return s;
	if (!create || gw->nsvc >= SHMNIC_GW_MAX_SVCS)
		return NULL;
	s = kzalloc(sizeof(*s), GFP_ATOMIC);
	if (!s)
		return NULL;
	s->key = sk;
	hash_add(gw->svc, &s->node, hash);
	gw->nsvc++;
	return s;
}

/* Node @from answered @result about flow @k (in time or late). */
static void shmnic_gw_svc_note(struct shmnic_gw *gw, u32 from,
			       const struct shmnic_flow_key *k, u32 result)
{
	struct shmnic_gw_svc *s;

	/* A connection says nothing of the listeners. */
	if (result == SHMNIC_ANS_CONN)
		return;
	s = shmnic_gw_svc_find(gw, k, result == SHMNIC_ANS_LISTEN);
	if (!s)
		return;
	if (result == SHMNIC_ANS_LISTEN) {
		set_bit(from, s->listen);
		s->epoch[from] = READ_ONCE(gw->sd->nodes[from].epoch);
	} else {
		clear_bit(from, s->listen);
	}
}

/* The query of @p timed out: the nodes that did not answer count as what
 * they last said about its service, if they are still up in that epoch.
 */
static void shmnic_gw_svc_fill(struct shmnic_gw *gw, struct shmnic_gw_pend *p)
{
	struct shmnic_dev *sd = gw->sd;
	struct shmnic_gw_svc *s = shmnic_gw_svc_find(gw, &p->key, false);
	u32 id;

	if (!s)
		return;
	for_each_set_bit(id, p->asked, SHMNIC_MAX_NODES)
		if (test_bit(id, s->listen) &&
		    s->epoch[id] == READ_ONCE(sd->nodes[id].epoch) &&
		    shmnic_node_reachable(sd, id, SHMNIC_NET_GLOBAL))
			set_bit(id, p->listen);
}

static void shmnic_gw_svc_free(struct shmnic_gw *gw)
{
	struct shmnic_gw_svc *s;
	struct hlist_node *tmp;
	int bkt;

	hash_for_each_safe(gw->svc, bkt, tmp, s, node) {
		hash_del(&s->node);
		kfree(s);
	}
	gw->nsvc = 0;
}

/* Pick among the nodes that answered; -ENOTCONN: a TCP segment of no
 * connection, -ENOENT: nobody serves the flow.
 */
static int shmnic_gw_choose(struct shmnic_gw *gw, struct shmnic_gw_pend *p)
{
	u8 ids[SHMNIC_MAX_NODES];
	u32 n = 0, id;

	if (p->conn >= 0)
		return p->conn;
	if (!p->opens)
		return -ENOTCONN;
	for_each_set_bit(id, p->listen, SHMNIC_MAX_NODES)
		ids[n++] = id;
	if (!n)
		return -ENOENT;
	if (READ_ONCE(gw->policy) == SHMNIC_POLICY_RR)
		return ids[(u32)atomic_inc_return(&gw->rr) % n];
	return shmnic_maglev_pick(ids, n, p->hash);
}

/* Decide flow @p (taken off the table) and send its packets. */
static void shmnic_gw_resolve(struct shmnic_gw *gw, struct shmnic_gw_pend *p)
{
	int node = shmnic_gw_choose(gw, p);
	struct sk_buff *skb;

	if (node == -ENOENT) {
		shmnic_gw_count(gw, SHMNIC_GWS_NO_SERVER);
		__skb_queue_purge(&p->q);
		kfree(p);
		return;
	}
	if (node == -ENOTCONN) {
		/* Nobody has the connection: as any host, our stack answers
		 * with a reset (IPVS leaves such packets to its host too).
		 */
		atomic64_add(skb_queue_len(&p->q),
			     &gw->stats[SHMNIC_GWS_NO_CONN]);
		while ((skb = __skb_dequeue(&p->q)))
			shmnic_gw_up(gw, skb);
		kfree(p);
		return;
	}
	if (p->state != SHMNIC_FS_FREE)
		shmnic_gw_flow_add(gw, &p->key, p->hash, node, p->state);
	while ((skb = __skb_dequeue(&p->q)))
		shmnic_gw_send(gw, skb, node);
	kfree(p);
}

static void shmnic_gw_timer(struct timer_list *t)
{
	struct shmnic_gw *gw = from_timer(gw, t, timer);
	struct shmnic_gw_pend *p;
	struct hlist_node *tmp;
	unsigned long next = 0;
	HLIST_HEAD(done);
	int bkt;

	spin_lock_bh(&gw->lock);
	hash_for_each_safe(gw->pend, bkt, tmp, p, node) {
		if (time_before(jiffies, p->deadline)) {
			if (!next || time_before(p->deadline, next))
				next = p->deadline;
			continue;
		}
		hash_del(&p->node);
		gw->npend--;
		shmnic_gw_svc_fill(gw, p);
		hlist_add_head(&p->node, &done);
	}
	if (next && !gw->stopped)
		mod_timer(&gw->timer, next);
	spin_unlock_bh(&gw->lock);

	hlist_for_each_entry_safe(p, tmp, &done, node) {
		shmnic_gw_count(gw, SHMNIC_GWS_QUERY_TIMEOUTS);
		shmnic_gw_resolve(gw, p);
	}
}

/* An answer from node @from to our query; not @heard: none, because the
 * query could not be sent.
 */
static void shmnic_gw_answer(struct shmnic_gw *gw, u32 from,
			     const struct shmnic_query *q, bool heard)
{
	u32 hash = shmnic_flow_hash(&q->key);
	struct shmnic_gw_pend *p;
	bool done = false, ours;

	rcu_read_lock();
	ours = shmnic_gw_is_global(gw, q->key.family, q->key.daddr);
	rcu_read_unlock();
	if (!ours)
		return;
	if (heard)
		shmnic_gw_count(gw, SHMNIC_GWS_ANSWERS);
	spin_lock_bh(&gw->lock);
	if (heard && !gw->stopped)
		shmnic_gw_svc_note(gw, from, &q->key, q->result);
	p = shmnic_gw_pend_find(gw, &q->key, hash);
	if (!p || p->id != q->id || !test_bit(from, p->asked)) {
		/* Late: its flow was decided without it. */
		spin_unlock_bh(&gw->lock);
		return;
	}
	clear_bit(from, p->asked);
	if (q->result == SHMNIC_ANS_CONN && p->conn < 0)
		p->conn = from;
	else if (q->result == SHMNIC_ANS_LISTEN)
		set_bit(from, p->listen);
	if (p->conn >= 0 || bitmap_empty(p->asked, SHMNIC_MAX_NODES)) {
		hash_del(&p->node);
		gw->npend--;
		done = true;
	}
	spin_unlock_bh(&gw->lock);
	if (done)
		shmnic_gw_resolve(gw, p);
}

/* Answer a gateway's query about one of our flows. NAPI. */
static void shmnic_gw_query(struct shmnic_dev *sd, u32 from,
			    const struct shmnic_query *q)
{
	struct shmnic_query a = *q;

	a.type = SHMNIC_CTRL_ANSWER;
	a.node = sd->id;
	a.epoch = READ_ONCE(sd->epoch);
	rcu_read_lock();
	a.result = shmnic_gw_sock_lookup(sd, &q->key);
	rcu_read_unlock();
	if (!shmnic_peer_ctrl_send(sd->global, from, &a, sizeof(a)))
		shmnic_gw_count(sd->gw, SHMNIC_GWS_ANSWERED);
}

void shmnic_gw_ctrl_rcv(struct shmnic_dev *sd, u32 from, const void *data,
			u32 len)
{
	struct shmnic_query q;

	if (len != sizeof(q))
		return;
	memcpy(&q, data, sizeof(q));	/* read once */
	if (q.node != from || (q.key.family != 4 && q.key.family != 6) ||
	    (q.key.proto != IPPROTO_TCP && q.key.proto != IPPROTO_UDP))
		return;
	if (q.type == SHMNIC_CTRL_QUERY)
		shmnic_gw_query(sd, from, &q);
	else if (q.type == SHMNIC_CTRL_ANSWER)
		shmnic_gw_answer(sd->gw, from, &q, true);
}

/* A packet of a flow not in the table: ask the other nodes. Consumes @skb. */
static void shmnic_gw_ask(struct shmnic_gw *gw, struct sk_buff *skb,
			  const struct shmnic_gw_pkt *pk, u32 hash, u32 local)
{
	struct shmnic_dev *sd = gw->sd;
	struct shmnic_query q = {
		.type = SHMNIC_CTRL_QUERY,
		.node = sd->id,
		.epoch = READ_ONCE(sd->epoch),
		.key = pk->key,
	};
	DECLARE_BITMAP(asked, SHMNIC_MAX_NODES);
	struct shmnic_gw_pend *p;
	u32 id;

	spin_lock_bh(&gw->lock);
	p = shmnic_gw_pend_find(gw, &pk->key, hash);
	if (p) {
		if (skb_queue_len(&p->q) < SHMNIC_GW_MAX_QUEUED) {
			__skb_queue_tail(&p->q, skb);
			skb = NULL;
			if (shmnic_gw_pkt_opens(pk) && !p->opens) {
				p->opens = true;
				p->state = SHMNIC_FS_SYN;
			}
		}
		spin_unlock_bh(&gw->lock);
		if (skb) {
			shmnic_gw_count(gw, SHMNIC_GWS_PENDING_FULL);
			kfree_skb(skb);
		}
		return;
	}
	if (gw->stopped || gw->npend >= SHMNIC_GW_MAX_PENDING) {
		spin_unlock_bh(&gw->lock);
		shmnic_gw_count(gw, SHMNIC_GWS_PENDING_FULL);
		kfree_skb(skb);
		return;
	}
	p = kzalloc(sizeof(*p), GFP_ATOMIC);
	if (!p) {
		spin_unlock_bh(&gw->lock);
		kfree_skb(skb);
		return;
	}
	p->key = pk->key;
	p->hash = hash;
	p->id = ++gw->next_id;
	p->conn = -1;
	p->opens = shmnic_gw_pkt_opens(pk);
	if (pk->key.proto == IPPROTO_UDP)
		p->state = SHMNIC_FS_UDP;
	else if (pk->rst)
		p->state = SHMNIC_FS_FREE;	/* forwarded, never recorded */
	else
		p->state = shmnic_gw_tcp_state(SHMNIC_FS_SYN, pk->syn, pk->ack,
					       pk->fin);
	p->deadline = jiffies + SHMNIC_GW_QUERY_WAIT;
	__skb_queue_head_init(&p->q);
	__skb_queue_tail(&p->q, skb);
	if (local == SHMNIC_ANS_LISTEN)
		set_bit(sd->id, p->listen);
	for (id = 0; id < shmnic_nodes(sd); id++)
		if (id != sd->id &&
		    shmnic_node_reachable(sd, id, SHMNIC_NET_GLOBAL))
			set_bit(id, p->asked);
	if (bitmap_empty(p->asked, SHMNIC_MAX_NODES)) {
		/* Nobody else to ask. */
		spin_unlock_bh(&gw->lock);
		shmnic_gw_resolve(gw, p);
		return;
	}
	q.id = p->id;
	bitmap_copy(asked, p->asked, SHMNIC_MAX_NODES);
	hash_add(gw->pend, &p->node, hash);
	gw->npend++;
	if (!timer_pending(&gw->timer))
		mod_timer(&gw->timer, p->deadline);
	spin_unlock_bh(&gw->lock);

	/* From here on an answer may resolve and free p. */
	for_each_set_bit(id, asked, SHMNIC_MAX_NODES) {
		struct shmnic_query none = q;

		if (!shmnic_peer_ctrl_send(sd->global, id, &q, sizeof(q))) {
			shmnic_gw_count(gw, SHMNIC_GWS_QUERIES);
			continue;
		}
		/* Unreachable now: it has nothing for this flow. */
		none.result = SHMNIC_ANS_NONE;
		shmnic_gw_answer(gw, id, &none, false);
	}
}

/* --- the hook ----------------------------------------------------------- */

/* A packet for one of @gw's GLOBAL addresses, from outside. */
static unsigned int shmnic_gw_dispatch(struct shmnic_gw *gw,
				       struct sk_buff *skb,
				       struct shmnic_gw_pkt *pk)
{
	struct shmnic_dev *sd = gw->sd;
	u32 hash = shmnic_flow_hash(&pk->key), local;
	struct shmnic_flow f;
	int node, own;

	shmnic_gw_count(gw, SHMNIC_GWS_RX);
	node = shmnic_gw_flow_lookup(gw, &pk->key, hash, &f, &own);
	/* A new connection on the 5-tuple of an old one starts afresh. */
	if (node >= 0 && pk->key.proto == IPPROTO_TCP && !pk->icmp &&
	    shmnic_gw_pkt_opens(pk) && f.state != SHMNIC_FS_SYN)
		node = -ENOENT;
	if (node >= 0) {
		if (own >= 0 && !pk->icmp)
			shmnic_gw_flow_touch(gw, own, &f, pk);
		if (node == sd->id) {
			shmnic_gw_count(gw, SHMNIC_GWS_LOCAL);
			return NF_ACCEPT;
		}
		shmnic_gw_send(gw, skb, node);
		return NF_STOLEN;
	}
	/* An error about a flow nobody dispatched: our own stack's. */
	if (pk->icmp)
		return NF_ACCEPT;

	local = shmnic_gw_sock_lookup(sd, &pk->key);
	if (local == SHMNIC_ANS_CONN) {
		shmnic_gw_flow_add(gw, &pk->key, hash, sd->id,
				   pk->key.proto == IPPROTO_UDP ?
				   SHMNIC_FS_UDP : SHMNIC_FS_EST);
		shmnic_gw_count(gw, SHMNIC_GWS_LOCAL);
		return NF_ACCEPT;
	}
	shmnic_gw_ask(gw, skb, pk, hash, local);
	return NF_STOLEN;
}

static struct shmnic_gw *shmnic_gw_for(const struct nf_hook_state *state,
				       u8 family, const void *daddr)
{
	struct shmnic_gw *gw;

	if (!state->in || (state->in->flags & IFF_LOOPBACK))
		return NULL;
	list_for_each_entry_rcu(gw, &shmnic_gws, list) {
		if (state->in == gw->sd->global->ndev)
			return NULL;
		if (net_eq(dev_net(gw->sd->global->ndev), state->net) &&
		    shmnic_gw_is_global(gw, family, daddr))
			return gw;
	}
	return NULL;
}

/* Both hooks: a packet to @daddr of @family, cracked by @parse. */
static unsigned int shmnic_gw_hook(struct sk_buff *skb,
				   const struct nf_hook_state *state,
				   u8 family, const void *daddr,
				   int (*parse)(struct sk_buff *skb,
						struct shmnic_gw_pkt *pk))
{
	struct shmnic_gw_pkt pk = {};
	struct shmnic_gw *gw;
	int err;

	gw = shmnic_gw_for(state, family, daddr);
	if (!gw)
		return NF_ACCEPT;
	err = parse(skb, &pk);
	if (err == -EFAULT) {
		shmnic_gw_count(gw, SHMNIC_GWS_FRAGMENTS);
		return NF_DROP;
	}
	if (err)
		return NF_ACCEPT;	/* not a flow: ping and the like */
	return shmnic_gw_dispatch(gw, skb, &pk);
}

static unsigned int shmnic_gw_hook4(void *priv, struct sk_buff *skb,
				    const struct nf_hook_state *state)
{
	return shmnic_gw_hook(skb, state, 4, &ip_hdr(skb)->daddr,
			      shmnic_gw_parse4);
}

#if IS_ENABLED(CONFIG_IPV6)
static unsigned int shmnic_gw_hook6(void *priv, struct sk_buff *skb,
				    const struct nf_hook_state *state)
{
	return shmnic_gw_hook(skb, state, 6, &ipv6_hdr(skb)->daddr,
			      shmnic_gw_parse6);
}
#endif

static const struct nf_hook_ops shmnic_gw_ops[] = {
	{
		.hook = shmnic_gw_hook4,
		.pf = NFPROTO_IPV4,
		.hooknum = NF_INET_PRE_ROUTING,
		.priority = NF_IP_PRI_CONNTRACK_DEFRAG + 1,
	},
#if IS_ENABLED(CONFIG_IPV6)
	{
		.hook = shmnic_gw_hook6,
		.pf = NFPROTO_IPV6,
		.hooknum = NF_INET_PRE_ROUTING,
		.priority = NF_IP6_PRI_CONNTRACK_DEFRAG + 1,
	},
#endif
};

/* --- set up and tear down ----------------------------------------------- */

int shmnic_gw_init(struct shmnic_dev *sd)
{
	struct shmnic_gw *gw;
	u32 i;

	gw = kzalloc(sizeof(*gw), GFP_KERNEL);
	if (!gw)
		return -ENOMEM;
	gw->sd = sd;
	gw->policy = SHMNIC_POLICY_HASH;
	spin_lock_init(&gw->lock);
	spin_lock_init(&gw->flow_lock);
	hash_init(gw->pend);
	hash_init(gw->svc);
	timer_setup(&gw->timer, shmnic_gw_timer, 0);
	INIT_LIST_HEAD(&gw->list);
	gw->part = shmnic_flow_part(sd->shm, &sd->lay, sd->id);
	/* What an earlier attach of ours left there means nothing now. */
	for (i = 0; i < sd->lay.g.flow_slots; i++)
		shmnic_flow_clear(&gw->part[i]);
	sd->gw = gw;
	return 0;
}

void shmnic_gw_start(struct shmnic_dev *sd)
{
	rtnl_lock();
	list_add_tail_rcu(&sd->gw->list, &shmnic_gws);
	rtnl_unlock();
}

/* No hook, answer or timer uses the gateway state after this returns. */
void shmnic_gw_stop(struct shmnic_dev *sd)
{
	struct shmnic_gw *gw = sd->gw;
	struct shmnic_gw_pend *p;
	struct hlist_node *tmp;
	int bkt;

	rtnl_lock();
	list_del_rcu(&gw->list);
	rtnl_unlock();
	synchronize_net();

	spin_lock_bh(&gw->lock);
	gw->stopped = true;
	spin_unlock_bh(&gw->lock);
	timer_delete_sync(&gw->timer);
	spin_lock_bh(&gw->lock);
	hash_for_each_safe(gw->pend, bkt, tmp, p, node) {
		hash_del(&p->node);
		__skb_queue_purge(&p->q);
		kfree(p);
	}
	gw->npend = 0;
	shmnic_gw_svc_free(gw);
	spin_unlock_bh(&gw->lock);
}

void shmnic_gw_free(struct shmnic_dev *sd)
{
	struct shmnic_gw *gw = sd->gw;

	if (!gw)
		return;
	timer_delete_sync(&gw->timer);
	kfree(rcu_dereference_protected(gw->globals, true));
	kfree(gw);
	sd->gw = NULL;
}

void shmnic_gw_tick(struct shmnic_dev *sd)
{
	if (sd->gw)
		shmnic_gw_flow_age(sd->gw);
}

int shmnic_gw_register(void)
{
	return nf_register_net_hooks(&init_net, shmnic_gw_ops,
				     ARRAY_SIZE(shmnic_gw_ops));
}

void shmnic_gw_unregister(void)
{
	nf_unregister_net_hooks(&init_net, shmnic_gw_ops,
				ARRAY_SIZE(shmnic_gw_ops));
}
