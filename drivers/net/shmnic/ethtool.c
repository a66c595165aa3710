// SPDX-License-Identifier: GPL-2.0
/* ethtool: driver info, ring geometry and the driver's own counters. */
#include <linux/ethtool.h>
#include <linux/netdevice.h>

#include "shmnic.h"
#include "stats.h"
#include "gw.h"

/* Where an ethtool -S counter of the adapter comes from. */
enum shmnic_xsrc {
	SHMNIC_XS_TX,		/* a field of the TX side's struct shmnic_xstats */
	SHMNIC_XS_RX,		/* ... of the RX side's */
	SHMNIC_XS_PAIRS_TX,	/* a ring counter summed over our TX pair rings */
	SHMNIC_XS_PAIRS_RX,	/* ... over our RX pair rings */
	SHMNIC_XS_BCAST_RX,	/* a ring counter of the broadcast ring, RX */
};

struct shmnic_xstat_desc {
	char name[ETH_GSTRING_LEN];
	u8 src;			/* enum shmnic_xsrc */
	u16 at;			/* offsetof() in shmnic_xstats, or enum shmnic_rs */
};

#define SHMNIC_XSTAT(n, s, f) \
	{ n, SHMNIC_XS_##s, offsetof(struct shmnic_xstats, f) }
#define SHMNIC_XRING(n, s, c) { n, SHMNIC_XS_##s, SHMNIC_RS_##c }

static const struct shmnic_xstat_desc shmnic_xstat_descs[] = {
	SHMNIC_XRING("tx_doorbells", PAIRS_TX, DOORBELLS),
	SHMNIC_XRING("tx_doorbells_saved", PAIRS_TX, SAVED),
	SHMNIC_XRING("tx_queue_stops", PAIRS_TX, STOPS),
	SHMNIC_XRING("tx_stalled_drops", PAIRS_TX, STALLED),
	SHMNIC_XSTAT("tx_no_peer", TX, no_peer),
	SHMNIC_XSTAT("tx_bcast_busy", TX, bc_busy),
	SHMNIC_XSTAT("tx_wrong_queue", TX, wrong_queue),
	SHMNIC_XRING("rx_ring_resets", PAIRS_RX, RESETS),
	SHMNIC_XSTAT("rx_bad_frames", RX, bad_frames),
	SHMNIC_XRING("rx_bcast_lost", BCAST_RX, LOST),
	SHMNIC_XRING("rx_space_doorbells", PAIRS_RX, DOORBELLS),
	SHMNIC_XSTAT("tx_mcast_claims", TX, mc_claims),
	SHMNIC_XSTAT("tx_mcast_takeovers", TX, mc_takeovers),
	SHMNIC_XSTAT("tx_mcast_releases", TX, mc_releases),
	SHMNIC_XSTAT("tx_mcast_overflow", TX, mc_overflow),
	SHMNIC_XSTAT("rx_mcast_filtered", RX, mc_filtered),
};

static u64 shmnic_xstat_read(const struct shmnic_xstats *x, u16 at)
{
	const u64_stats_t *c = (const void *)x + at;
	unsigned int start;
	u64 v;

	do {
		start = u64_stats_fetch_begin(&x->syncp);
		v = u64_stats_read(c);
	} while (u64_stats_fetch_retry(&x->syncp, start));
	return v;
}

static u64 shmnic_xstat_get(const struct shmnic_net *sn,
			    const struct shmnic_xstat_desc *d)
{
	switch (d->src) {
	case SHMNIC_XS_TX: {
		u64 sum = 0;
		int cpu;

		for_each_possible_cpu(cpu)
			sum += shmnic_xstat_read(per_cpu_ptr(sn->tx_x, cpu),
						 d->at);
		return sum;
	}
	case SHMNIC_XS_RX:
		return shmnic_xstat_read(&sn->rx_x, d->at);
	case SHMNIC_XS_PAIRS_TX:
		return shmnic_rs_sum(sn, false, d->at);
	case SHMNIC_XS_PAIRS_RX:
		return shmnic_rs_sum(sn, true, d->at);
	default:
		return shmnic_rs_read(&sn->bc_rx_rs, d->at);
	}
}

static const char shmnic_rs_names[SHMNIC_RS_MAX][ETH_GSTRING_LEN] = {
	[SHMNIC_RS_PACKETS] = "packets",
	[SHMNIC_RS_BYTES] = "bytes",
	[SHMNIC_RS_DROPS] = "drops",
	[SHMNIC_RS_DOORBELLS] = "doorbells",
	[SHMNIC_RS_SAVED] = "doorbells_saved",
	[SHMNIC_RS_STOPS] = "queue_stops",
	[SHMNIC_RS_RESETS] = "resets",
	[SHMNIC_RS_LOST] = "lost",
	[SHMNIC_RS_STALLED] = "stalled_drops",
};

static u64 *shmnic_rs_fetch(const struct shmnic_ring_stats *rs, u64 *data)
{
	unsigned int start, i;

	do {
		start = u64_stats_fetch_begin(&rs->syncp);
		for (i = 0; i < SHMNIC_RS_MAX; i++)
			data[i] = u64_stats_read(&rs->c[i]);
	} while (u64_stats_fetch_retry(&rs->syncp, start));
	return data + SHMNIC_RS_MAX;
}

/* The counter names of one ring and direction: <ring>_<dir>_<counter>. */
static void shmnic_rs_strings(u8 **buf, const char *ring, int id,
			      const char *dir)
{
	unsigned int i;

	for (i = 0; i < SHMNIC_RS_MAX; i++) {
		if (id < 0)
			ethtool_sprintf(buf, "%s_%s_%s", ring, dir,
					shmnic_rs_names[i]);
		else
			ethtool_sprintf(buf, "%s%d_%s_%s", ring, id, dir,
					shmnic_rs_names[i]);
	}
}

/* Rows of ring counters: two rings per other node, and both directions of
 * the broadcast and each multicast ring.
 */
static unsigned int shmnic_rs_count(const struct shmnic_net *sn)
{
	return 2 * (shmnic_nodes(sn->sd) + sn->mc_rings) * SHMNIC_RS_MAX;
}

static void shmnic_get_drvinfo(struct net_device *ndev,
			       struct ethtool_drvinfo *info)
{
	struct shmnic_net *sn = netdev_priv(ndev);

	strscpy(info->driver, KBUILD_MODNAME, sizeof(info->driver));
	strscpy(info->version, SHMNIC_VERSION, sizeof(info->version));
	snprintf(info->fw_version, sizeof(info->fw_version),
		 "layout %u node %u/%u", SHMNIC_LAYOUT_VERSION, sn->sd->id,
		 sn->sd->lay.g.max_nodes);
	strscpy(info->bus_info, pci_name(sn->sd->pdev),
		sizeof(info->bus_info));
}

static void shmnic_get_ringparam(struct net_device *ndev,
				 struct ethtool_ringparam *ring,
				 struct kernel_ethtool_ringparam *kring,
				 struct netlink_ext_ack *extack)
{
	struct shmnic_net *sn = netdev_priv(ndev);
	u32 slots = sn->sd->lay.g.ring_slots;

	ring->rx_max_pending = slots;
	ring->tx_max_pending = slots;
	ring->rx_pending = READ_ONCE(sn->sd->rx_slots);
	ring->tx_pending = slots;
	kring->rx_buf_len = sn->sd->lay.g.buf_size;
}

static int shmnic_set_ringparam(struct net_device *ndev,
				struct ethtool_ringparam *ring,
				struct kernel_ethtool_ringparam *kring,
				struct netlink_ext_ack *extack)
{
	struct shmnic_net *sn = netdev_priv(ndev);
	const struct shmnic_geometry *g = &sn->sd->lay.g;

	if (ring->tx_pending != g->ring_slots) {
		NL_SET_ERR_MSG_MOD(extack,
				   "each node sets the depth of the rings it receives on: use rx");
		return -EINVAL;
	}
	if (kring->rx_buf_len && kring->rx_buf_len != g->buf_size) {
		NL_SET_ERR_MSG_MOD(extack, "the slot size is fixed when the region is formatted");
		return -EINVAL;
	}
	if (!shmnic_depth_valid(g, ring->rx_pending)) {
		NL_SET_ERR_MSG_MOD(extack,
				   "rx must be a power of two with room for two 64 KiB frames");
		return -EINVAL;
	}
	return shmnic_set_rx_depth(sn->sd, ring->rx_pending);
}

static int shmnic_get_sset_count(struct net_device *ndev, int sset)
{
	struct shmnic_net *sn = netdev_priv(ndev);

	if (sset != ETH_SS_STATS)
		return -EOPNOTSUPP;
	return ARRAY_SIZE(shmnic_xstat_descs) + shmnic_rs_count(sn) +
	       (sn->net == SHMNIC_NET_GLOBAL ? shmnic_gw_stat_count() : 0);
}

static void shmnic_get_strings(struct net_device *ndev, u32 sset, u8 *buf)
{
	struct shmnic_net *sn = netdev_priv(ndev);
	u32 id;

	if (sset != ETH_SS_STATS)
		return;
	for (id = 0; id < ARRAY_SIZE(shmnic_xstat_descs); id++)
		ethtool_sprintf(&buf, "%s", shmnic_xstat_descs[id].name);
	for (id = 0; id < shmnic_nodes(sn->sd); id++) {
		if (id == sn->sd->id)
			continue;
		shmnic_rs_strings(&buf, "peer", id, "tx");
		shmnic_rs_strings(&buf, "peer", id, "rx");
	}
	shmnic_rs_strings(&buf, "bcast", -1, "tx");
	shmnic_rs_strings(&buf, "bcast", -1, "rx");
	for (id = 0; id < sn->mc_rings; id++) {
		shmnic_rs_strings(&buf, "mcast", id, "tx");
		shmnic_rs_strings(&buf, "mcast", id, "rx");
	}
	if (sn->net == SHMNIC_NET_GLOBAL)
		shmnic_gw_stat_strings(&buf);
}

static void shmnic_get_ethtool_stats(struct net_device *ndev,
				     struct ethtool_stats *stats, u64 *data)
{
	struct shmnic_net *sn = netdev_priv(ndev);
	u32 id;

	for (id = 0; id < ARRAY_SIZE(shmnic_xstat_descs); id++)
		*data++ = shmnic_xstat_get(sn, &shmnic_xstat_descs[id]);
	for (id = 0; id < shmnic_nodes(sn->sd); id++) {
		if (id == sn->sd->id)
			continue;
		data = shmnic_rs_fetch(&sn->peers[id].tx_rs, data);
		data = shmnic_rs_fetch(&sn->peers[id].rx_rs, data);
	}
	data = shmnic_rs_fetch(&sn->bc_tx_rs, data);
	data = shmnic_rs_fetch(&sn->bc_rx_rs, data);
	for (id = 0; id < sn->mc_rings; id++) {
		data = shmnic_rs_fetch(&sn->mc[id].tx_rs, data);
		data = shmnic_rs_fetch(&sn->mc[id].rx_rs, data);
	}
	if (sn->net == SHMNIC_NET_GLOBAL)
		shmnic_gw_stat_fetch(sn->sd, data);
}

const struct ethtool_ops shmnic_ethtool_ops = {
	.get_drvinfo = shmnic_get_drvinfo,
	.get_link = ethtool_op_get_link,
	.get_ringparam = shmnic_get_ringparam,
	.set_ringparam = shmnic_set_ringparam,
	.get_sset_count = shmnic_get_sset_count,
	.get_strings = shmnic_get_strings,
	.get_ethtool_stats = shmnic_get_ethtool_stats,
};
