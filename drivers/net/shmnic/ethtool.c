// SPDX-License-Identifier: GPL-2.0
/* ethtool: driver info, ring geometry and the driver's own counters. */
#include <linux/ethtool.h>
#include <linux/netdevice.h>

#include "shmnic.h"
#include "stats.h"
#include "gw.h"

static const char shmnic_xstat_names[][ETH_GSTRING_LEN] = {
	"tx_doorbells",
	"tx_doorbells_saved",
	"tx_queue_stops",
	"tx_no_peer",
	"tx_bcast_busy",
	"rx_ring_resets",
	"rx_bad_frames",
	"rx_bcast_lost",
	"rx_space_doorbells",
	"tx_mcast_claims",
	"tx_mcast_takeovers",
	"tx_mcast_releases",
	"tx_mcast_overflow",
	"rx_mcast_filtered",
};

static const char shmnic_rs_names[SHMNIC_RS_MAX][ETH_GSTRING_LEN] = {
	[SHMNIC_RS_PACKETS] = "packets",
	[SHMNIC_RS_BYTES] = "bytes",
	[SHMNIC_RS_DROPS] = "drops",
	[SHMNIC_RS_DOORBELLS] = "doorbells",
	[SHMNIC_RS_SAVED] = "doorbells_saved",
	[SHMNIC_RS_STOPS] = "queue_stops",
	[SHMNIC_RS_RESETS] = "resets",
	[SHMNIC_RS_LOST] = "lost",
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
	return ARRAY_SIZE(shmnic_xstat_names) + shmnic_rs_count(sn) +
	       (sn->net == SHMNIC_NET_GLOBAL ? shmnic_gw_stat_count() : 0);
}

static void shmnic_get_strings(struct net_device *ndev, u32 sset, u8 *buf)
{
	struct shmnic_net *sn = netdev_priv(ndev);
	u32 id;

	if (sset != ETH_SS_STATS)
		return;
	memcpy(buf, shmnic_xstat_names, sizeof(shmnic_xstat_names));
	buf += sizeof(shmnic_xstat_names);
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
	const struct shmnic_xstats *tx = &sn->tx_x, *rx = &sn->rx_x;
	unsigned int start;
	u32 id;

	data[0] = shmnic_rs_sum(sn, false, SHMNIC_RS_DOORBELLS);
	data[1] = shmnic_rs_sum(sn, false, SHMNIC_RS_SAVED);
	data[2] = shmnic_rs_sum(sn, false, SHMNIC_RS_STOPS);
	do {
		start = u64_stats_fetch_begin(&tx->syncp);
		data[3] = u64_stats_read(&tx->no_peer);
		data[4] = u64_stats_read(&tx->bc_busy);
		data[9] = u64_stats_read(&tx->mc_claims);
		data[10] = u64_stats_read(&tx->mc_takeovers);
		data[11] = u64_stats_read(&tx->mc_releases);
		data[12] = u64_stats_read(&tx->mc_overflow);
	} while (u64_stats_fetch_retry(&tx->syncp, start));
	data[5] = shmnic_rs_sum(sn, true, SHMNIC_RS_RESETS);
	do {
		start = u64_stats_fetch_begin(&rx->syncp);
		data[6] = u64_stats_read(&rx->bad_frames);
		data[13] = u64_stats_read(&rx->mc_filtered);
	} while (u64_stats_fetch_retry(&rx->syncp, start));
	data[7] = shmnic_rs_read(&sn->bc_rx_rs, SHMNIC_RS_LOST);
	data[8] = shmnic_rs_sum(sn, true, SHMNIC_RS_DOORBELLS);

	data += ARRAY_SIZE(shmnic_xstat_names);
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
