// SPDX-License-Identifier: GPL-2.0
/*
 * Cracking a packet for the gateway hook: the 5-tuple of the flow it
 * belongs to, as seen from outside (peer -> GLOBAL address), its TCP flags,
 * and for an ICMP error the flow of the packet it quotes.
 *
 * Returns 0, -EFAULT for a fragment (no defragmenter ran before the hook),
 * or -EINVAL for a packet that belongs to no flow (ping, other protocols,
 * truncated headers): the hook lets the local stack have those.
 */
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <net/ip.h>
#include <net/ipv6.h>

#include "shmnic.h"
#include "gw.h"

/* Ports at @off of the network header, into @pk; TCP flags too. */
static int shmnic_crack_ports(struct sk_buff *skb, u32 off, u8 proto,
			      struct shmnic_gw_pkt *pk)
{
	const struct tcphdr *th;
	const __be16 *ports;

	if (proto == IPPROTO_TCP) {
		if (!pskb_may_pull(skb, off + sizeof(*th)))
			return -EINVAL;
		th = (const void *)(skb_network_header(skb) + off);
		pk->syn = th->syn;
		pk->ack = th->ack;
		pk->fin = th->fin;
		pk->rst = th->rst;
	} else if (proto == IPPROTO_UDP) {
		if (!pskb_may_pull(skb, off + sizeof(struct udphdr)))
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	ports = (const void *)(skb_network_header(skb) + off);
	pk->key.proto = proto;
	pk->key.sport = (__force u16)ports[0];
	pk->key.dport = (__force u16)ports[1];
	return 0;
}

/* The flow of the packet an ICMP error at @off quotes: its source is the
 * GLOBAL address, so the flow is its reverse.
 */
static int shmnic_crack_icmp4(struct sk_buff *skb, u32 off,
			      struct shmnic_gw_pkt *pk)
{
	const struct icmphdr *ih;
	const struct iphdr *in;
	const __be16 *ports;
	u32 ihl;

	if (!pskb_may_pull(skb, off + sizeof(*ih) + sizeof(*in)))
		return -EINVAL;
	ih = (const void *)(skb_network_header(skb) + off);
	if (ih->type != ICMP_DEST_UNREACH && ih->type != ICMP_TIME_EXCEEDED &&
	    ih->type != ICMP_PARAMETERPROB)
		return -EINVAL;
	in = (const void *)(ih + 1);
	ihl = in->ihl * 4;
	if (ihl < sizeof(*in) ||
	    (in->protocol != IPPROTO_TCP && in->protocol != IPPROTO_UDP) ||
	    !pskb_may_pull(skb, off + sizeof(*ih) + ihl + 4))
		return -EINVAL;
	in = (const void *)(skb_network_header(skb) + off + sizeof(*ih));
	ports = (const void *)((const u8 *)in + ihl);
	pk->key.proto = in->protocol;
	memcpy(pk->key.saddr, &in->daddr, 4);
	memcpy(pk->key.daddr, &in->saddr, 4);
	pk->key.sport = (__force u16)ports[1];
	pk->key.dport = (__force u16)ports[0];
	pk->icmp = true;
	return 0;
}

int shmnic_gw_parse4(struct sk_buff *skb, struct shmnic_gw_pkt *pk)
{
	const struct iphdr *iph = ip_hdr(skb);
	u32 off = iph->ihl * 4;

	if (ip_is_fragment(iph))
		return -EFAULT;
	pk->key.family = 4;
	if (iph->protocol == IPPROTO_ICMP)
		return shmnic_crack_icmp4(skb, off, pk);
	memcpy(pk->key.saddr, &iph->saddr, 4);
	memcpy(pk->key.daddr, &iph->daddr, 4);
	return shmnic_crack_ports(skb, off, iph->protocol, pk);
}

#if IS_ENABLED(CONFIG_IPV6)
static int shmnic_crack_icmp6(struct sk_buff *skb, u32 off,
			      struct shmnic_gw_pkt *pk)
{
	const struct icmp6hdr *ih;
	const struct ipv6hdr *in;
	const __be16 *ports;

	if (!pskb_may_pull(skb, off + sizeof(*ih) + sizeof(*in) + 4))
		return -EINVAL;
	ih = (const void *)(skb_network_header(skb) + off);
	/* Errors only (types below 128); the quoted packet without
	 * extension headers.
	 */
	if (ih->icmp6_type >= 128)
		return -EINVAL;
	in = (const void *)(ih + 1);
	if (in->nexthdr != IPPROTO_TCP && in->nexthdr != IPPROTO_UDP)
		return -EINVAL;
	ports = (const void *)(in + 1);
	pk->key.proto = in->nexthdr;
	memcpy(pk->key.saddr, &in->daddr, 16);
	memcpy(pk->key.daddr, &in->saddr, 16);
	pk->key.sport = (__force u16)ports[1];
	pk->key.dport = (__force u16)ports[0];
	pk->icmp = true;
	return 0;
}

int shmnic_gw_parse6(struct sk_buff *skb, struct shmnic_gw_pkt *pk)
{
	const struct ipv6hdr *ip6h = ipv6_hdr(skb);
	unsigned int off = 0;
	unsigned short frag = 0;
	int flags = 0, proto;

	pk->key.family = 6;
	memcpy(pk->key.saddr, &ip6h->saddr, 16);
	memcpy(pk->key.daddr, &ip6h->daddr, 16);
	proto = ipv6_find_hdr(skb, &off, -1, &frag, &flags);
	if (flags & IP6_FH_F_FRAG)
		return -EFAULT;
	if (proto < 0)
		return -EINVAL;
	if (proto == IPPROTO_ICMPV6)
		return shmnic_crack_icmp6(skb, off, pk);
	return shmnic_crack_ports(skb, off, proto, pk);
}
#else
int shmnic_gw_parse6(struct sk_buff *skb, struct shmnic_gw_pkt *pk)
{
	return -EINVAL;
}
#endif
