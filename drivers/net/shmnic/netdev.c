// SPDX-License-Identifier: GPL-2.0
/*
 * One adapter (shml0 or shmg0) as a net_device: create and destroy, the ndo
 * operations, stats64, and the heartbeat's watchdog work.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/etherdevice.h>
#include <linux/if_vlan.h>

#include "shmnic.h"
#include "stats.h"

/* --- control ------------------------------------------------------------ */

/* Membership changed: a stopped queue may have to be woken. */
void shmnic_net_node_change(struct shmnic_net *sn)
{
	if (netif_running(sn->ndev))
		napi_schedule(&sn->napi);
}

/* Rewrite the sender's line of every ring we are connected to, and look
 * for receivers that stopped draining.
 */
static void shmnic_tx_refresh_all(struct shmnic_net *sn)
{
	u32 id;

	for (id = 0; id < shmnic_nodes(sn->sd); id++) {
		struct netdev_queue *txq = shmnic_txq(sn, id);
		struct shmnic_peer *p = &sn->peers[id];

		if (id == sn->sd->id)
			continue;
		__netif_tx_lock(txq, smp_processor_id());
		if (p->tx_epoch)
			shmnic_tx_refresh(&p->tx, sn->sd->epoch, p->tx_epoch);
		shmnic_tx_stall_watch(sn, p, txq);
		__netif_tx_unlock(txq);
	}
}

/* Heartbeat-timer work: rewrite our ring words (another node may have
 * scribbled on them), catch any lost doorbell, break ring locks held by
 * dead nodes, give up idle multicast rings.
 */
void shmnic_net_watchdog(struct shmnic_net *sn)
{
	shmnic_lock_watch(sn, &sn->bc_watch, &sn->bc_tx, -1);
	shmnic_mc_watchdog(sn);
	shmnic_tx_refresh_all(sn);
	WRITE_ONCE(sn->rx_refresh, true);
	if (netif_running(sn->ndev))
		napi_schedule(&sn->napi);
}

static int shmnic_open(struct net_device *ndev)
{
	struct shmnic_net *sn = netdev_priv(ndev);
	u32 id;
	int err;

	err = shmnic_rx_pool_create(sn);
	if (err)
		return err;
	for (id = 0; id < shmnic_nodes(sn->sd); id++) {
		if (id == sn->sd->id)
			continue;
		shmnic_rx_reset(&sn->peers[id].rx);
		shmnic_rx_refresh(&sn->peers[id].rx, sn->sd->epoch);
	}
	shmnic_bc_reader_init(&sn->bc_rx);
	shmnic_mc_open(sn);
	napi_enable(&sn->napi);
	shmnic_node_set_rx(sn->sd, sn->net, true);
	netif_carrier_on(ndev);
	netif_tx_start_all_queues(ndev);
	shmnic_ctrl_send(sn, SHMNIC_CTRL_HELLO, 0);
	napi_schedule(&sn->napi);
	return 0;
}

static int shmnic_stop(struct net_device *ndev)
{
	struct shmnic_net *sn = netdev_priv(ndev);

	shmnic_node_set_rx(sn->sd, sn->net, false);
	netif_tx_stop_all_queues(ndev);
	netif_carrier_off(ndev);
	napi_disable(&sn->napi);
	shmnic_rx_pool_destroy(sn);
	return 0;
}

static int shmnic_change_mtu(struct net_device *ndev, int mtu)
{
	struct shmnic_net *sn = netdev_priv(ndev);

	WRITE_ONCE(ndev->mtu, mtu);
	if (sn->net == SHMNIC_NET_LOCAL)
		WRITE_ONCE(sn->sd->self->mtu, mtu);
	return 0;
}

static void shmnic_fetch(const struct shmnic_pcpu_stats *s, u64 *packets,
			 u64 *bytes)
{
	unsigned int start;

	do {
		start = u64_stats_fetch_begin(&s->syncp);
		*packets = u64_stats_read(&s->packets);
		*bytes = u64_stats_read(&s->bytes);
	} while (u64_stats_fetch_retry(&s->syncp, start));
}

static void shmnic_get_stats64(struct net_device *ndev,
			       struct rtnl_link_stats64 *st)
{
	struct shmnic_net *sn = netdev_priv(ndev);
	unsigned int start;
	int cpu;
	u32 i;

	for_each_possible_cpu(cpu) {
		u64 packets, bytes;

		shmnic_fetch(per_cpu_ptr(sn->tx_stats, cpu), &packets, &bytes);
		st->tx_packets += packets;
		st->tx_bytes += bytes;
	}
	shmnic_fetch(&sn->rx_stats, &st->rx_packets, &st->rx_bytes);
	st->tx_dropped = atomic_long_read(&sn->tx_dropped);
	st->rx_dropped = atomic_long_read(&sn->rx_dropped);
	do {
		start = u64_stats_fetch_begin(&sn->rx_x.syncp);
		st->rx_errors = u64_stats_read(&sn->rx_x.bad_frames);
	} while (u64_stats_fetch_retry(&sn->rx_x.syncp, start));
	st->rx_errors += shmnic_rs_sum(sn, true, SHMNIC_RS_RESETS);
	st->rx_missed_errors = shmnic_rs_read(&sn->bc_rx_rs, SHMNIC_RS_LOST);
	for (i = 0; i < sn->mc_rings; i++)
		st->rx_missed_errors += shmnic_rs_read(&sn->mc[i].rx_rs,
						       SHMNIC_RS_LOST);
}

static const struct net_device_ops shmnic_netdev_ops = {
	.ndo_open = shmnic_open,
	.ndo_stop = shmnic_stop,
	.ndo_start_xmit = shmnic_start_xmit,
	.ndo_select_queue = shmnic_select_queue,
	.ndo_change_mtu = shmnic_change_mtu,
	.ndo_get_stats64 = shmnic_get_stats64,
	.ndo_set_rx_mode = shmnic_set_rx_mode,
	.ndo_set_mac_address = eth_mac_addr,
	.ndo_validate_addr = eth_validate_addr,
};

static int shmnic_stats_init(struct shmnic_net *sn)
{
	u64_stats_init(&sn->rx_stats.syncp);
	u64_stats_init(&sn->rx_x.syncp);
	u64_stats_init(&sn->bc_tx_rs.syncp);
	u64_stats_init(&sn->bc_rx_rs.syncp);
	sn->tx_stats = netdev_alloc_pcpu_stats(struct shmnic_pcpu_stats);
	sn->tx_x = netdev_alloc_pcpu_stats(struct shmnic_xstats);
	if (sn->tx_stats && sn->tx_x)
		return 0;
	free_percpu(sn->tx_stats);
	free_percpu(sn->tx_x);
	return -ENOMEM;
}

static void shmnic_stats_free(struct shmnic_net *sn)
{
	free_percpu(sn->tx_stats);
	free_percpu(sn->tx_x);
}

struct shmnic_net *shmnic_net_create(struct shmnic_dev *sd, u32 net)
{
	const struct shmnic_layout *l = &sd->lay;
	struct net_device *ndev;
	struct shmnic_net *sn;
	u8 mac[ETH_ALEN];
	u32 id;

	/* One TX queue per destination node and one for broadcast and
	 * multicast: a full ring stops the traffic to its node only.
	 */
	ndev = alloc_netdev_mqs(sizeof(*sn),
				net == SHMNIC_NET_LOCAL ? "shml%d" : "shmg%d",
				NET_NAME_ENUM, ether_setup,
				SHMNIC_TXQ_NODE0 + l->g.max_nodes, 1);
	if (!ndev)
		return ERR_PTR(-ENOMEM);
	sn = netdev_priv(ndev);
	sn->ndev = ndev;
	sn->sd = sd;
	sn->net = net;
	if (shmnic_stats_init(sn))
		goto err_netdev;

	sn->peers = kcalloc(l->g.max_nodes, sizeof(*sn->peers), GFP_KERNEL);
	if (!sn->peers)
		goto err_stats;
	for (id = 0; id < l->g.max_nodes; id++) {
		struct shmnic_peer *p = &sn->peers[id];

		p->id = id;
		u64_stats_init(&p->tx_rs.syncp);
		u64_stats_init(&p->rx_rs.syncp);
		if (id == sd->id)
			continue;
		shmnic_ring_init_pair(&p->tx,
				      shmnic_pair_ring_at(sd->shm, l, net,
							  sd->id, id), l);
		shmnic_ring_init_pair(&p->rx,
				      shmnic_pair_ring_at(sd->shm, l, net,
							  id, sd->id), l);
	}
	shmnic_net_rx_setup(sn);
	shmnic_ring_init_bcast(&sn->bc_rx,
			       shmnic_bcast_ring_at(sd->shm, l, net), l);
	sn->bc_tx = sn->bc_rx;
	if (shmnic_mc_init(sn))
		goto err_peers;

	SET_NETDEV_DEV(ndev, &sd->pdev->dev);
	ndev->netdev_ops = &shmnic_netdev_ops;
	ndev->ethtool_ops = &shmnic_ethtool_ops;
	ndev->min_mtu = ETH_MIN_MTU;
	ndev->max_mtu = SHMNIC_MAX_FRAME - VLAN_ETH_HLEN;
	ndev->hw_features = NETIF_F_SG | NETIF_F_HW_CSUM | NETIF_F_TSO |
			    NETIF_F_TSO6 | NETIF_F_TSO_ECN | NETIF_F_RXCSUM |
			    NETIF_F_GRO;
	ndev->features = ndev->hw_features | NETIF_F_HIGHDMA;
	ndev->vlan_features = ndev->features;
	ndev->priv_flags |= IFF_LIVE_ADDR_CHANGE;
	/* Every node carries the global addresses: no node may answer for
	 * them inside the cluster (the gateway hook picks the node).
	 */
	if (net == SHMNIC_NET_GLOBAL)
		ndev->flags |= IFF_NOARP;
	shmnic_node_mac(mac, net, sd->id);
	eth_hw_addr_set(ndev, mac);
	netif_set_tso_max_size(ndev, GSO_LEGACY_MAX_SIZE);
	netif_napi_add(ndev, &sn->napi, shmnic_poll);
	netif_carrier_off(ndev);
	return sn;

err_peers:
	kfree(sn->peers);
err_stats:
	shmnic_stats_free(sn);
err_netdev:
	free_netdev(ndev);
	return ERR_PTR(-ENOMEM);
}

int shmnic_net_register(struct shmnic_net *sn)
{
	return register_netdev(sn->ndev);
}

/* Queue the adapter on @list for unregister_netdevice_many(), if it was
 * registered.
 */
void shmnic_net_unregister(struct shmnic_net *sn, struct list_head *list)
{
	ASSERT_RTNL();
	if (sn->ndev->reg_state == NETREG_REGISTERED)
		unregister_netdevice_queue(sn->ndev, list);
}

/* Free an adapter that is not (or no longer) registered. */
void shmnic_net_destroy(struct shmnic_net *sn)
{
	struct net_device *ndev = sn->ndev;

	WARN_ON_ONCE(ndev->reg_state == NETREG_REGISTERED);
	netif_napi_del(&sn->napi);
	shmnic_mc_free(sn);
	kfree(sn->peers);
	shmnic_stats_free(sn);
	free_netdev(ndev);
}
