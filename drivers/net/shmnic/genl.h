/* SPDX-License-Identifier: GPL-2.0 */
/* The shmnic family's attribute writers (genl_put.c), for genl.c. */
#ifndef _DRIVERS_NET_SHMNIC_GENL_H
#define _DRIVERS_NET_SHMNIC_GENL_H

#include <linux/skbuff.h>

struct shmnic_dev;
struct shmnic_flow;
struct shmnic_ring_stats;

int shmnic_put_globals(struct sk_buff *skb, struct shmnic_dev *sd);
int shmnic_put_region(struct sk_buff *skb, struct shmnic_dev *sd);
int shmnic_put_ring(struct sk_buff *skb, int type,
		    const struct shmnic_ring_stats *rs);
int shmnic_put_node(struct sk_buff *skb, struct shmnic_dev *sd, u32 id);
int shmnic_put_stats(struct sk_buff *skb, struct shmnic_dev *sd, u32 id,
		     bool first);
int shmnic_put_flow(struct sk_buff *skb, const struct shmnic_flow *f,
		    u32 gw, u32 idle_ms, u8 reason);

#endif /* _DRIVERS_NET_SHMNIC_GENL_H */
