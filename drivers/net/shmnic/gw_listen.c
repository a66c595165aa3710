// SPDX-License-Identifier: GPL-2.0
/*
 * The published listeners (include/shmnic/listen.h). Every node walks its
 * listening sockets at each heartbeat and writes those a GLOBAL address
 * reaches into its page of the region; a gateway sends the first packet of
 * a new flow to a node that publishes a listener for it without asking
 * anyone. A node that receives such a packet while it no longer has the
 * socket (it closed within the last heartbeat) hands it back to the
 * gateway, which then asks every node as before: a server that stops costs
 * no connection, and nobody answers with a reset.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/etherdevice.h>
#include <linux/slab.h>
#include <linux/tcp.h>
#include <net/inet_hashtables.h>
#include <net/ipv6.h>
#include <net/udp.h>

#include "shmnic.h"
#include "gw.h"

/* Tries to read a page that keeps changing before it counts as empty. */
#define SHMNIC_LISTEN_TRIES	3

/* --- our page ------------------------------------------------------------ */

/* Add @e to the walk's set, once; only a wildcard or a GLOBAL address. */
static void shmnic_gw_walk_add(struct shmnic_gw *gw,
			       const struct shmnic_listener *e)
{
	u32 i;

	if (!shmnic_listener_any(e) &&
	    !shmnic_gw_is_global(gw, e->family, e->addr))
		return;
	for (i = 0; i < gw->nwalk; i++)
		if (!memcmp(&gw->walk[i], e, sizeof(*e)))
			return;
	if (gw->nwalk == SHMNIC_LISTEN_SLOTS) {
		gw->walk_flags |= SHMNIC_LISTEN_F_FULL;
		return;
	}
	gw->walk[gw->nwalk++] = *e;
}

/* Socket @sk of @proto, found by the walk. */
static void shmnic_gw_walk_sock(struct shmnic_gw *gw, struct net *net,
				int ifindex, struct sock *sk, u8 proto)
{
	struct shmnic_listener e = {
		.proto = proto,
		.port = (__force u16)htons(READ_ONCE(sk->sk_num)),
	};
	int bound = READ_ONCE(sk->sk_bound_dev_if);

	if (!net_eq(sock_net(sk), net) || !e.port ||
	    (bound && bound != ifindex))
		return;
	if (proto == IPPROTO_TCP ? READ_ONCE(sk->sk_state) != TCP_LISTEN :
				   READ_ONCE(sk->sk_state) == TCP_ESTABLISHED)
		return;
	if (sk->sk_family == AF_INET) {
		e.family = 4;
		memcpy(e.addr, &sk->sk_rcv_saddr, 4);
		shmnic_gw_walk_add(gw, &e);
#if IS_ENABLED(CONFIG_IPV6)
	} else if (sk->sk_family == AF_INET6) {
		const struct in6_addr *a = &sk->sk_v6_rcv_saddr;

		if (ipv6_addr_v4mapped(a)) {
			e.family = 4;
			memcpy(e.addr, &a->s6_addr32[3], 4);
			shmnic_gw_walk_add(gw, &e);
			return;
		}
		e.family = 6;
		memcpy(e.addr, a, sizeof(e.addr));
		shmnic_gw_walk_add(gw, &e);
		if (ipv6_addr_any(a) && !ipv6_only_sock(sk)) {
			e.family = 4;
			shmnic_gw_walk_add(gw, &e);
		}
#endif
	}
}

/* Every listening TCP socket and unconnected UDP socket. Under RCU, as the
 * stack's own lookups walk these chains.
 */
static void shmnic_gw_walk_socks(struct shmnic_gw *gw, struct net *net,
				 int ifindex)
{
	struct inet_hashinfo *hi = net->ipv4.tcp_death_row.hashinfo;
	struct udp_table *ut = shmnic_udp_table(net);
	struct hlist_nulls_node *nn;
	struct sock *sk;
	u32 i;

	for (i = 0; i <= hi->lhash2_mask; i++) {
		struct inet_listen_hashbucket *ilb = &hi->lhash2[i];

		if (hlist_nulls_empty(&ilb->nulls_head))
			continue;
		sk_nulls_for_each_rcu(sk, nn, &ilb->nulls_head)
			shmnic_gw_walk_sock(gw, net, ifindex, sk, IPPROTO_TCP);
	}
	for (i = 0; i <= ut->mask; i++) {
		struct udp_hslot *hs = &ut->hash[i];

		if (hlist_empty(&hs->head))
			continue;
		sk_for_each_rcu(sk, &hs->head)
			shmnic_gw_walk_sock(gw, net, ifindex, sk, IPPROTO_UDP);
	}
}

/* Heartbeat: walk our sockets, and write our page if the set changed. */
void shmnic_gw_listen_walk(struct shmnic_gw *gw)
{
	struct shmnic_dev *sd = gw->sd;
	struct net_device *gdev = sd->global->ndev;
	u32 epoch = READ_ONCE(sd->epoch);
	u64 t0 = ktime_get_ns();

	gw->nwalk = 0;
	gw->walk_flags = 0;
	rcu_read_lock();
	shmnic_gw_walk_socks(gw, dev_net(gdev), gdev->ifindex);
	rcu_read_unlock();
	atomic64_set(&gw->stats[SHMNIC_GWS_LISTEN_WALK_US],
		     div_u64(ktime_get_ns() - t0, NSEC_PER_USEC));

	if (gw->nwalk == gw->npublished && gw->walk_flags ==
	    gw->published_flags && epoch == gw->published_epoch &&
	    !memcmp(gw->walk, gw->published, gw->nwalk * sizeof(*gw->walk)))
		return;
	shmnic_listen_publish(shmnic_listen_page(sd->shm, &sd->lay, sd->id),
			      epoch, gw->walk, gw->nwalk, gw->walk_flags);
	swap(gw->walk, gw->published);
	gw->npublished = gw->nwalk;
	atomic64_set(&gw->stats[SHMNIC_GWS_LISTENERS], gw->npublished);
	gw->published_flags = gw->walk_flags;
	gw->published_epoch = epoch;
}

int shmnic_gw_listen_init(struct shmnic_gw *gw)
{
	struct shmnic_dev *sd = gw->sd;

	gw->walk = kcalloc(SHMNIC_LISTEN_SLOTS, sizeof(*gw->walk), GFP_KERNEL);
	gw->published = kcalloc(SHMNIC_LISTEN_SLOTS, sizeof(*gw->walk),
				GFP_KERNEL);
	if (!gw->walk || !gw->published) {
		shmnic_gw_listen_free(gw);
		return -ENOMEM;
	}
	/* What an earlier attach of ours left there means nothing now. */
	shmnic_listen_publish(shmnic_listen_page(sd->shm, &sd->lay, sd->id),
			      0, gw->walk, 0, 0);
	return 0;
}

void shmnic_gw_listen_free(struct shmnic_gw *gw)
{
	kfree(gw->walk);
	kfree(gw->published);
	gw->walk = NULL;
	gw->published = NULL;
}

/* --- the gateway's side -------------------------------------------------- */

/* The nodes whose published listeners take flow @k, into @ids (room for
 * SHMNIC_MAX_NODES); returns how many. Us included, by our own page, so
 * that every gateway decides from the same pages.
 */
u32 shmnic_gw_published(struct shmnic_gw *gw, const struct shmnic_flow_key *k,
			u8 *ids)
{
	struct shmnic_dev *sd = gw->sd;
	struct shmnic_listen_found scan;
	u32 id, n = 0, epoch;
	int err;

	for (id = 0; id < shmnic_nodes(sd); id++) {
		if (id == sd->id) {
			epoch = READ_ONCE(sd->epoch);
		} else {
			if (!shmnic_node_reachable(sd, id, SHMNIC_NET_GLOBAL))
				continue;
			epoch = READ_ONCE(sd->nodes[id].epoch);
		}
		err = shmnic_listen_scan(shmnic_listen_page(sd->shm, &sd->lay,
							    id),
					 epoch, k->family, k->proto, k->dport,
					 k->daddr, SHMNIC_LISTEN_TRIES, &scan);
		/* A page that never settles is a writer that lies, or died
		 * mid-write; one of another epoch is not written yet.
		 */
		if (err == -EAGAIN)
			shmnic_gw_count(gw, SHMNIC_GWS_LISTEN_BAD);
		if (err)
			continue;
		if (scan.bad)
			atomic64_add(scan.bad,
				     &gw->stats[SHMNIC_GWS_LISTEN_BAD]);
		if (scan.matches)
			ids[n++] = id;
	}
	return n;
}

/* The other node that sent @skb to our shmg0, by its MAC, or -1. */
static int shmnic_gw_sender(struct shmnic_dev *sd, const struct sk_buff *skb)
{
	const struct ethhdr *eth;
	u8 mac[ETH_ALEN];
	u32 id;

	if (!skb_mac_header_was_set(skb) || skb_mac_header_len(skb) < ETH_HLEN)
		return -1;
	eth = eth_hdr(skb);
	id = (eth->h_source[4] << 8) | eth->h_source[5];
	shmnic_node_mac(mac, SHMNIC_NET_GLOBAL, id);
	if (id >= shmnic_nodes(sd) || id == sd->id ||
	    !ether_addr_equal(mac, eth->h_source))
		return -1;
	return id;
}

/* Send @skb (a packet that opens flow @pk) back to gateway @to. */
static void shmnic_gw_hand_back(struct shmnic_gw *gw, struct sk_buff *skb,
				const struct shmnic_gw_pkt *pk, u32 to)
{
	struct shmnic_dev *sd = gw->sd;
	u8 buf[SHMNIC_PEER_CTRL_MAX];
	struct shmnic_handback h = {
		.type = SHMNIC_CTRL_HANDBACK,
		.node = sd->id,
		.epoch = READ_ONCE(sd->epoch),
		.key = pk->key,
	};

	/* The gateway sends on what we send it, complete. */
	if (skb->len <= sizeof(buf) - sizeof(h) &&
	    (skb->ip_summed != CHECKSUM_PARTIAL || !skb_checksum_help(skb)) &&
	    !skb_copy_bits(skb, 0, buf + sizeof(h), skb->len))
		h.len = skb->len;
	memcpy(buf, &h, sizeof(h));
	if (!shmnic_peer_ctrl_send(sd->global, to, buf, sizeof(h) + h.len))
		shmnic_gw_count(gw, SHMNIC_GWS_HANDED_BACK);
	consume_skb(skb);
}

/* A packet for a GLOBAL address that came in on our shmg0 (@skb at its
 * network header): a gateway sent it. The first packet of a flow no socket
 * of ours takes goes back to that gateway.
 */
unsigned int shmnic_gw_arrived(struct shmnic_gw *gw, struct sk_buff *skb,
			       const struct shmnic_gw_pkt *pk)
{
	struct shmnic_dev *sd = gw->sd;
	int from;

	if (pk->icmp || !shmnic_gw_pkt_opens(pk) ||
	    shmnic_gw_sock_lookup(sd, &pk->key) != SHMNIC_ANS_NONE)
		return NF_ACCEPT;
	from = shmnic_gw_sender(sd, skb);
	if (from < 0 || !shmnic_node_reachable(sd, from, SHMNIC_NET_GLOBAL))
		return NF_ACCEPT;
	shmnic_gw_hand_back(gw, skb, pk, from);
	return NF_STOLEN;
}

/* Node @from handed back a packet we sent it (SHMNIC_CTRL_HANDBACK, @len
 * bytes at @data, read once here). Forget that it serves the flow, and ask
 * every node where the packet goes now. NAPI.
 */
void shmnic_gw_handback_rcv(struct shmnic_gw *gw, u32 from, const void *data,
			    u32 len)
{
	struct shmnic_dev *sd = gw->sd;
	struct net_device *gdev = sd->global->ndev;
	struct shmnic_handback h;
	struct shmnic_gw_pkt pk = {};
	struct sk_buff *skb;
	bool ours;
	u32 hash;
	int err;

	if (len < sizeof(h))
		return;
	memcpy(&h, data, sizeof(h));
	if (h.node != from || h.len != len - sizeof(h) ||
	    (h.key.family != 4 && h.key.family != 6) ||
	    (h.key.proto != IPPROTO_TCP && h.key.proto != IPPROTO_UDP))
		return;
	rcu_read_lock();
	ours = shmnic_gw_is_global(gw, h.key.family, h.key.daddr);
	rcu_read_unlock();
	if (!ours)
		return;
	shmnic_gw_count(gw, SHMNIC_GWS_HANDBACKS);
	hash = shmnic_flow_hash(&h.key);
	shmnic_gw_flow_forget(gw, &h.key, hash, from);
	shmnic_gw_svc_forget(gw, from, &h.key);
	if (!h.len)
		return;

	skb = netdev_alloc_skb(gdev, h.len);
	if (!skb)
		return;
	skb_put_data(skb, (const u8 *)data + sizeof(h), h.len);
	skb_reset_network_header(skb);
	skb->protocol = htons(h.key.family == 4 ? ETH_P_IP : ETH_P_IPV6);
	err = h.key.family == 4 ? shmnic_gw_parse4(skb, &pk) :
				  shmnic_gw_parse6(skb, &pk);
	/* Only the packet it says it is, and one that may open the flow. */
	if (err || pk.icmp || !shmnic_gw_pkt_opens(&pk) ||
	    !shmnic_flow_key_eq(&pk.key, &h.key)) {
		kfree_skb(skb);
		return;
	}
	rcu_read_lock();
	shmnic_gw_ask(gw, skb, &pk, hash, shmnic_gw_sock_lookup(sd, &pk.key));
	rcu_read_unlock();
}
