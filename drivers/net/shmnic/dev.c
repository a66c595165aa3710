// SPDX-License-Identifier: GPL-2.0
/*
 * One shmnic device, both adapters: the heartbeat (our node entry, the
 * others' liveness, the adapters' watchdog work, the gateway's ageing) and
 * a change of the receive rings' depth.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/rtnetlink.h>

#include "shmnic.h"

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
	WRITE_ONCE(sd->rx_slots, slots);
	WRITE_ONCE(sd->epoch, epoch);
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

/* The one sink of node events, called with no lock held: netlink hears of
 * each node that went up or down or came back in a new epoch, both
 * adapters look again at queues stopped for a node (@ev->wake), and a
 * newcomer's HELLO is answered (@ev->answer).
 */
void shmnic_dev_node_event(struct shmnic_dev *sd,
			   const struct shmnic_node_events *ev)
{
	u32 id;

	for_each_set_bit(id, ev->ids, SHMNIC_MAX_NODES)
		shmnic_genl_node_event(sd, id, test_bit(id, ev->up),
				       ev->epoch[id]);
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

	mod_timer(&sd->hb_timer, jiffies + SHMNIC_HB_INTERVAL);
}
