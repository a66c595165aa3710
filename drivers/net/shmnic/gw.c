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
 *   3. a packet that may open a flow (UDP, a TCP SYN) and nodes that
 *      publish a listener for it (gw_listen.c): one of them, by the
 *      dispatch policy, at once;
 *   4. else ask every other node (SHMNIC_CTRL_QUERY on the global pair
 *      rings; one query per flow, its later packets wait for the answers,
 *      at most SHMNIC_GW_QUERY_WAIT): a node with the connection wins, else
 *      one of the nodes listening on the port, by the dispatch policy
 *      (Maglev consistent hash, or round-robin) if the packet may open
 *      a flow (UDP, a TCP SYN); a TCP segment of no connection is left to
 *      our own stack, which resets it, and starts no flow;
 *   5. else drop and count.
 * The choice goes into our part of the flow table, and the packet travels
 * to that node's shmg0 on the global rings, which hands it to its stack.
 * ICMP errors follow the flow of the packet they quote.
 *
 * This file: the hooks, the dispatch and the gateway's life. Below it:
 * gw_query.c (asking the nodes, deciding), gw_flow.c (our part of the flow
 * table), gw_fwd.c (moving a packet to a node), gw_addr.c (the GLOBAL
 * addresses), gw_parse.c (a packet's 5-tuple).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ethtool.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/rculist.h>
#include <linux/slab.h>

#include <uapi/linux/shmnic.h>
#include <shmnic/flow.h>

#include "shmnic.h"
#include "gw.h"

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
	[SHMNIC_GWS_FLOWS_ADOPTED] = "gw_flows_adopted",
	[SHMNIC_GWS_PUBLISHED] = "gw_published_dispatches",
	[SHMNIC_GWS_LISTEN_BAD] = "gw_published_bad",
	[SHMNIC_GWS_HANDED_BACK] = "gw_handed_back",
	[SHMNIC_GWS_HANDBACKS] = "gw_handbacks",
	[SHMNIC_GWS_LISTEN_WALK_US] = "gw_listen_walk_us",
	[SHMNIC_GWS_LISTENERS] = "gw_listeners_published",
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
	/* Another gateway's flow, served by a node gone since: ask. */
	if (node >= 0 && own < 0 && node != sd->id &&
	    !shmnic_node_reachable(sd, node, SHMNIC_NET_GLOBAL))
		node = -ENOENT;
	if (node >= 0) {
		if (own >= 0 && !pk->icmp)
			shmnic_gw_flow_touch(gw, own, &f, pk);
		else if (!pk->icmp)
			shmnic_gw_flow_adopt(gw, pk, hash, &f);
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
				   SHMNIC_FS_UDP : SHMNIC_FS_EST, false);
		shmnic_gw_count(gw, SHMNIC_GWS_LOCAL);
		return NF_ACCEPT;
	}
	if (shmnic_gw_pkt_opens(pk)) {
		u8 ids[SHMNIC_MAX_NODES];
		u32 n = shmnic_gw_published(gw, &pk->key, ids);

		if (n) {
			node = shmnic_gw_pick(gw, ids, n, hash);
			shmnic_gw_flow_add(gw, &pk->key, hash, node,
					   pk->key.proto == IPPROTO_UDP ?
					   SHMNIC_FS_UDP : SHMNIC_FS_SYN,
					   false);
			shmnic_gw_count(gw, SHMNIC_GWS_PUBLISHED);
			if (node == sd->id) {
				shmnic_gw_count(gw, SHMNIC_GWS_LOCAL);
				return NF_ACCEPT;
			}
			shmnic_gw_send(gw, skb, node);
			return NF_STOLEN;
		}
	}
	shmnic_gw_ask(gw, skb, pk, hash, local);
	return NF_STOLEN;
}

/* The gateway whose GLOBAL address @daddr is; @arrived: the packet came in
 * on its shmg0 (from another gateway), not from outside.
 */
static struct shmnic_gw *shmnic_gw_for(const struct nf_hook_state *state,
				       u8 family, const void *daddr,
				       bool *arrived)
{
	struct shmnic_gw *gw;

	if (!state->in || (state->in->flags & IFF_LOOPBACK))
		return NULL;
	list_for_each_entry_rcu(gw, &shmnic_gws, list) {
		if (net_eq(dev_net(gw->sd->global->ndev), state->net) &&
		    shmnic_gw_is_global(gw, family, daddr)) {
			*arrived = state->in == gw->sd->global->ndev;
			return gw;
		}
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
	bool arrived;
	int err;

	gw = shmnic_gw_for(state, family, daddr, &arrived);
	if (!gw)
		return NF_ACCEPT;
	err = parse(skb, &pk);
	if (arrived)
		return err ? NF_ACCEPT : shmnic_gw_arrived(gw, skb, &pk);
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
	int err;
	u32 i;

	gw = kzalloc(sizeof(*gw), GFP_KERNEL);
	if (!gw)
		return -ENOMEM;
	gw->sd = sd;
	gw->policy = SHMNIC_POLICY_HASH;
	mutex_init(&gw->conf_lock);
	spin_lock_init(&gw->flow_lock);
	shmnic_gw_query_init(gw);
	INIT_LIST_HEAD(&gw->list);
	gw->maglev = alloc_percpu(struct shmnic_gw_maglev);
	if (!gw->maglev) {
		kfree(gw);
		return -ENOMEM;
	}
	err = shmnic_gw_listen_init(gw);
	if (err) {
		free_percpu(gw->maglev);
		kfree(gw);
		return err;
	}
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

	rtnl_lock();
	list_del_rcu(&gw->list);
	rtnl_unlock();
	synchronize_net();
	shmnic_gw_query_stop(gw);
}

void shmnic_gw_free(struct shmnic_dev *sd)
{
	struct shmnic_gw *gw = sd->gw;

	if (!gw)
		return;
	timer_delete_sync(&gw->timer);
	shmnic_gw_globals_free(gw);
	shmnic_gw_listen_free(gw);
	free_percpu(gw->maglev);
	mutex_destroy(&gw->conf_lock);
	kfree(gw);
	sd->gw = NULL;
}

void shmnic_gw_set_policy(struct shmnic_dev *sd, u8 policy)
{
	mutex_lock(&sd->gw->conf_lock);
	WRITE_ONCE(sd->gw->policy, policy);
	mutex_unlock(&sd->gw->conf_lock);
}

u8 shmnic_gw_policy(const struct shmnic_dev *sd)
{
	return READ_ONCE(sd->gw->policy);
}

void shmnic_gw_tick(struct shmnic_dev *sd)
{
	if (!sd->gw)
		return;
	shmnic_gw_flow_age(sd->gw);
	shmnic_gw_listen_walk(sd->gw);
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
