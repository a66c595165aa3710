/* SPDX-License-Identifier: GPL-2.0 */
/* Counter helpers of the data path: per-adapter, per-ring and extra
 * counters under u64_stats, read by ndo_get_stats64 and ethtool -S.
 */
#ifndef _DRIVERS_NET_SHMNIC_STATS_H
#define _DRIVERS_NET_SHMNIC_STATS_H

#include "shmnic.h"

static inline void shmnic_stats_add(struct shmnic_pcpu_stats *s,
				    unsigned int len)
{
	u64_stats_update_begin(&s->syncp);
	u64_stats_inc(&s->packets);
	u64_stats_add(&s->bytes, len);
	u64_stats_update_end(&s->syncp);
}

static inline void shmnic_xstat_inc(struct shmnic_xstats *x,
				    u64_stats_t *ctr)
{
	u64_stats_update_begin(&x->syncp);
	u64_stats_inc(ctr);
	u64_stats_update_end(&x->syncp);
}

/* Count one of the TX side's extra counters (struct shmnic_xstats, at
 * offset @off) on this CPU: any TX queue, BHs off.
 */
static inline void shmnic_tx_xinc_at(struct shmnic_net *sn, size_t off)
{
	struct shmnic_xstats *x = this_cpu_ptr(sn->tx_x);

	shmnic_xstat_inc(x, (void *)x + off);
}

#define shmnic_tx_xinc(sn, field) \
	shmnic_tx_xinc_at(sn, offsetof(struct shmnic_xstats, field))

static inline void shmnic_rs_add(struct shmnic_ring_stats *rs,
				 enum shmnic_rs c, u64 v)
{
	u64_stats_update_begin(&rs->syncp);
	u64_stats_add(&rs->c[c], v);
	u64_stats_update_end(&rs->syncp);
}

static inline u64 shmnic_rs_read(const struct shmnic_ring_stats *rs,
				 enum shmnic_rs c)
{
	unsigned int start;
	u64 v;

	do {
		start = u64_stats_fetch_begin(&rs->syncp);
		v = u64_stats_read(&rs->c[c]);
	} while (u64_stats_fetch_retry(&rs->syncp, start));
	return v;
}

/* Counter @c summed over the pair rings of one direction. */
static inline u64 shmnic_rs_sum(const struct shmnic_net *sn, bool rx,
				enum shmnic_rs c)
{
	u64 sum = 0;
	u32 id;

	for (id = 0; id < shmnic_nodes(sn->sd); id++)
		if (id != sn->sd->id)
			sum += shmnic_rs_read(rx ? &sn->peers[id].rx_rs :
					      &sn->peers[id].tx_rs, c);
	return sum;
}

#endif /* _DRIVERS_NET_SHMNIC_STATS_H */
