// SPDX-License-Identifier: GPL-2.0
/*
 * One shmnic device, both adapters: creating and destroying them with the
 * gateway state, the heartbeat (our node entry, the others' liveness, the
 * adapters' watchdog work, the gateway's ageing, the published counters),
 * the one sink of node events, and a change of the receive rings' depth.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/rtnetlink.h>

#include "shmnic.h"

/* Both adapters and the gateway state, once the region is attached. */
int shmnic_dev_create(struct shmnic_dev *sd)
{
	int err;

	sd->nodes = devm_kcalloc(&sd->pdev->dev, shmnic_nodes(sd),
				 sizeof(*sd->nodes), GFP_KERNEL);
	if (!sd->nodes)
		return -ENOMEM;

	err = shmnic_ctrs_init(sd);
	if (err)
		return err;
	sd->local = shmnic_net_create(sd, SHMNIC_NET_LOCAL);
	if (IS_ERR(sd->local))
		return PTR_ERR(sd->local);
	sd->global = shmnic_net_create(sd, SHMNIC_NET_GLOBAL);
	if (IS_ERR(sd->global)) {
		err = PTR_ERR(sd->global);
		goto err_local;
	}
	/* Queries and answers travel on the global adapter's pair rings. */
	sd->global->peer_ctrl = shmnic_gw_ctrl_rcv;
	err = shmnic_gw_init(sd);
	if (err)
		goto err_global;
	return 0;

err_global:
	shmnic_net_destroy(sd->global);
err_local:
	shmnic_net_destroy(sd->local);
	return err;
}

/* Our node entry up, the adapters registered, the heartbeat running, then
 * the gateway hooks and netlink may find the device.
 */
int shmnic_dev_start(struct shmnic_dev *sd)
{
	int err;

	shmnic_node_up(sd);
	err = shmnic_net_register(sd->local);
	if (err)
		goto err_gone;
	err = shmnic_net_register(sd->global);
	if (err)
		goto err_unreg;

	timer_setup(&sd->hb_timer, shmnic_hb_timer, 0);
	mod_timer(&sd->hb_timer, jiffies + 1);
	shmnic_gw_start(sd);
	shmnic_genl_add(sd);
	return 0;

err_unreg:
	unregister_netdev(sd->local->ndev);
err_gone:
	shmnic_node_gone(sd);
	return err;
}

/* The reverse of shmnic_dev_start(), up to the adapters. */
void shmnic_dev_stop(struct shmnic_dev *sd)
{
	/* No netlink request may find us from now on. */
	shmnic_genl_del(sd);
	/* Nor any packet from the gateway hooks. */
	shmnic_gw_stop(sd);
	/* Tell the others first, so that they stop sending to us. */
	shmnic_node_leave(sd);
	shmnic_ctrl_send(sd->local, SHMNIC_CTRL_BYE, 0);
	timer_delete_sync(&sd->hb_timer);
}

/* Once the interrupts are gone: the adapters and the gateway state. Both
 * adapters are unregistered, together, before either is freed: the NAPI of
 * one reaches the other (a node event), and so does ethtool -G on shml0.
 */
void shmnic_dev_destroy(struct shmnic_dev *sd)
{
	LIST_HEAD(gone);

	rtnl_lock();
	shmnic_net_unregister(sd->global, &gone);
	shmnic_net_unregister(sd->local, &gone);
	unregister_netdevice_many(&gone);
	rtnl_unlock();
	shmnic_net_destroy(sd->global);
	shmnic_net_destroy(sd->local);
	shmnic_gw_free(sd);
	shmnic_node_gone(sd);
}

/* Receive on @slots of each ring from now on (ethtool -G), under RTNL. The
 * rings are set up again under a new epoch: senders see the epoch change,
 * reconnect and read the new depth from our node table entry.
 */
int shmnic_set_rx_depth(struct shmnic_dev *sd, u32 slots)
{
	struct shmnic_net *nets[] = { sd->local, sd->global };
	bool running[ARRAY_SIZE(nets)];
	u32 epoch, i;

	ASSERT_RTNL();
	if (!shmnic_depth_valid(&sd->lay.g, slots))
		return -EINVAL;
	if (slots == sd->rx_slots)
		return 0;
	for (i = 0; i < ARRAY_SIZE(nets); i++) {
		running[i] = netif_running(nets[i]->ndev);
		if (running[i])
			napi_disable(&nets[i]->napi);
	}
	epoch = sd->epoch + 1 ? sd->epoch + 1 : 1;
	/* Not between the heartbeat's reads of the two (shmnic_node_up()). */
	spin_lock_bh(&sd->self_lock);
	WRITE_ONCE(sd->rx_slots, slots);
	WRITE_ONCE(sd->epoch, epoch);
	spin_unlock_bh(&sd->self_lock);
	for (i = 0; i < ARRAY_SIZE(nets); i++)
		shmnic_net_rx_setup(nets[i]);
	shmnic_node_up(sd);
	for (i = 0; i < ARRAY_SIZE(nets); i++) {
		if (!running[i])
			continue;
		napi_enable(&nets[i]->napi);
		shmnic_ctrl_send(nets[i], SHMNIC_CTRL_HELLO, 0);
		napi_schedule(&nets[i]->napi);
	}
	dev_info(&sd->pdev->dev, "receive rings now %u slots deep (epoch %u)\n",
		 slots, epoch);
	return 0;
}

/* The one sink of node events, called with sd->ev_lock held (taken before
 * sd->lock was dropped, so that events leave in the order the views
 * changed) and no other lock: netlink hears of each node that went up or
 * down or came back in a new epoch; then, with no lock held, both adapters
 * look again at queues stopped for a node (@ev->wake), and a newcomer's
 * HELLO is answered (@ev->answer).
 */
void shmnic_dev_node_event(struct shmnic_dev *sd,
			   const struct shmnic_node_events *ev)
	__releases(&sd->ev_lock)
{
	u32 id;

	lockdep_assert_held(&sd->ev_lock);
	for_each_set_bit(id, ev->ids, SHMNIC_MAX_NODES)
		shmnic_genl_node_event(sd, id, test_bit(id, ev->up),
				       ev->epoch[id]);
	spin_unlock(&sd->ev_lock);
	if (ev->wake) {
		shmnic_net_node_change(sd->local);
		shmnic_net_node_change(sd->global);
	}
	if (ev->answer)
		shmnic_ctrl_send(ev->answer, SHMNIC_CTRL_HELLO, 1);
}

void shmnic_hb_timer(struct timer_list *t)
{
	struct shmnic_dev *sd = from_timer(sd, t, hb_timer);
	struct shmnic_node_events ev = {};

	sd->heartbeat++;
	if (READ_ONCE(sd->leaving))
		WRITE_ONCE(sd->self->heartbeat, sd->heartbeat);
	else
		shmnic_node_up(sd);

	shmnic_members_scan(sd, &ev);
	shmnic_dev_node_event(sd, &ev);
	shmnic_net_watchdog(sd->local);
	shmnic_net_watchdog(sd->global);
	shmnic_gw_tick(sd);
	shmnic_ctrs_tick(sd);

	mod_timer(&sd->hb_timer, jiffies + SHMNIC_HB_INTERVAL);
}
