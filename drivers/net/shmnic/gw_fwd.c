// SPDX-License-Identifier: GPL-2.0
/* Moving a dispatched packet: to another node's shmg0, or up our own. */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/etherdevice.h>
#include <net/netfilter/nf_conntrack.h>

#include "shmnic.h"
#include "gw.h"

/* --- moving packets ----------------------------------------------------- */

/* @skb leaves the path it came in on for our shmg0. */
static void shmnic_gw_take(struct shmnic_gw *gw, struct sk_buff *skb)
{
	nf_reset_ct(skb);
	skb_dst_drop(skb);
	skb->dev = gw->sd->global->ndev;
}

/* Hand @skb (data at its network header) to our own stack, through
 * PRE_ROUTING again, now from a global adapter. Consumes @skb.
 */
void shmnic_gw_up(struct shmnic_gw *gw, struct sk_buff *skb)
{
	shmnic_gw_take(gw, skb);
	skb->pkt_type = PACKET_HOST;
	netif_rx(skb);
}

/* Send @skb (data at its network header) to node @node's shmg0, or up our
 * own shmg0 when @node is us. Consumes @skb.
 */
void shmnic_gw_send(struct shmnic_gw *gw, struct sk_buff *skb, u32 node)
{
	struct shmnic_dev *sd = gw->sd;
	struct net_device *gdev = sd->global->ndev;
	struct ethhdr *eth;

	if (node == sd->id) {
		shmnic_gw_count(gw, SHMNIC_GWS_LOCAL);
		shmnic_gw_up(gw, skb);
		return;
	}
	shmnic_gw_take(gw, skb);
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
