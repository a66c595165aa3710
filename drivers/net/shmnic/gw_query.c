// SPDX-License-Identifier: GPL-2.0
/*
 * The gateway's questions to the other nodes: a flow no table knows waits
 * while every node says whether it has the connection or listens; the
 * answers decide where the flow goes (the dispatch policy), and what the
 * nodes last said about a service stands in for an answer that comes late.
 * Also the other side: answering a gateway's query from our own sockets.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hashtable.h>
#include <linux/jhash.h>
#include <linux/slab.h>
#include <linux/tcp.h>
#include <net/inet_hashtables.h>
#include <net/inet6_hashtables.h>
#include <net/udp.h>

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

/* --- this node's sockets ------------------------------------------------ */

/* Does this node's stack have flow @k (SHMNIC_ANS_CONN), a socket listening
 * for it (SHMNIC_ANS_LISTEN), or neither? Under RCU.
 */
u32 shmnic_gw_sock_lookup(struct shmnic_dev *sd,
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

/* --- waiting for the other nodes ---------------------------------------- */

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

/* Node @from handed back a packet of flow @k: it no longer listens. */
void shmnic_gw_svc_forget(struct shmnic_gw *gw, u32 from,
			  const struct shmnic_flow_key *k)
{
	spin_lock_bh(&gw->lock);
	if (!gw->stopped)
		shmnic_gw_svc_note(gw, from, k, SHMNIC_ANS_NONE);
	spin_unlock_bh(&gw->lock);
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

/* The dispatch policy: one of the @n (>= 1) nodes @ids for hash @hash. */
u32 shmnic_gw_pick(struct shmnic_gw *gw, const u8 *ids, u32 n, u32 hash)
{
	u32 next[SHMNIC_MAX_NODES], i, node;
	struct shmnic_gw_maglev *m;
	u64 set = 0;

	if (READ_ONCE(gw->policy) == SHMNIC_POLICY_RR)
		return ids[(u32)atomic_inc_return(&gw->rr) % n];
	for (i = 0; i < n; i++)
		set |= BIT_ULL(ids[i]);
	/* Softirq, or a caller that could be interrupted by one. */
	local_bh_disable();
	m = this_cpu_ptr(gw->maglev);
	if (m->set != set) {
		shmnic_maglev_fill(m->table, ids, n, next);
		m->set = set;
	}
	node = m->table[hash % SHMNIC_MAGLEV_M];
	local_bh_enable();
	return node;
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
	return shmnic_gw_pick(gw, ids, n, p->hash);
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
		shmnic_gw_flow_add(gw, &p->key, p->hash, node, p->state, false);
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
	u16 type;

	if (len < sizeof(type))
		return;
	memcpy(&type, data, sizeof(type));
	if (type == SHMNIC_CTRL_HANDBACK) {
		shmnic_gw_handback_rcv(sd->gw, from, data, len);
		return;
	}
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
void shmnic_gw_ask(struct shmnic_gw *gw, struct sk_buff *skb,
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

/* --- set up and tear down ----------------------------------------------- */

void shmnic_gw_query_init(struct shmnic_gw *gw)
{
	spin_lock_init(&gw->lock);
	hash_init(gw->pend);
	hash_init(gw->svc);
	timer_setup(&gw->timer, shmnic_gw_timer, 0);
}

/* No answer or timer uses the query state after this returns; the hooks
 * are already gone.
 */
void shmnic_gw_query_stop(struct shmnic_gw *gw)
{
	struct shmnic_gw_pend *p;
	struct hlist_node *tmp;
	int bkt;

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
