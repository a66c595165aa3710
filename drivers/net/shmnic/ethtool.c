// SPDX-License-Identifier: GPL-2.0
/* ethtool: driver info, ring geometry and the driver's own counters. */
#include <linux/ethtool.h>
#include <linux/netdevice.h>

#include "shmnic.h"

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
};

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
	ring->rx_pending = slots;
	ring->tx_pending = slots;
	kring->rx_buf_len = sn->sd->lay.g.buf_size;
}

static int shmnic_get_sset_count(struct net_device *ndev, int sset)
{
	return sset == ETH_SS_STATS ? ARRAY_SIZE(shmnic_xstat_names) :
				      -EOPNOTSUPP;
}

static void shmnic_get_strings(struct net_device *ndev, u32 sset, u8 *buf)
{
	if (sset == ETH_SS_STATS)
		memcpy(buf, shmnic_xstat_names, sizeof(shmnic_xstat_names));
}

static void shmnic_get_ethtool_stats(struct net_device *ndev,
				     struct ethtool_stats *stats, u64 *data)
{
	struct shmnic_net *sn = netdev_priv(ndev);
	const struct shmnic_xstats *tx = &sn->tx_x, *rx = &sn->rx_x;
	unsigned int start;

	do {
		start = u64_stats_fetch_begin(&tx->syncp);
		data[0] = u64_stats_read(&tx->kicks);
		data[1] = u64_stats_read(&tx->kicks_saved);
		data[2] = u64_stats_read(&tx->stops);
		data[3] = u64_stats_read(&tx->no_peer);
		data[4] = u64_stats_read(&tx->bc_busy);
	} while (u64_stats_fetch_retry(&tx->syncp, start));
	do {
		start = u64_stats_fetch_begin(&rx->syncp);
		data[5] = u64_stats_read(&rx->ring_resets);
		data[6] = u64_stats_read(&rx->bad_frames);
		data[7] = u64_stats_read(&rx->bc_lost);
		data[8] = u64_stats_read(&rx->space_kicks);
	} while (u64_stats_fetch_retry(&rx->syncp, start));
}

const struct ethtool_ops shmnic_ethtool_ops = {
	.get_drvinfo = shmnic_get_drvinfo,
	.get_link = ethtool_op_get_link,
	.get_ringparam = shmnic_get_ringparam,
	.get_sset_count = shmnic_get_sset_count,
	.get_strings = shmnic_get_strings,
	.get_ethtool_stats = shmnic_get_ethtool_stats,
};
