// SPDX-License-Identifier: GPL-2.0
/*
 * The shared region: formatting, joining, the node table, heartbeats and
 * membership. There is no join protocol: a node that attaches marks itself
 * up and says HELLO on the broadcast ring; the others see it there or in the
 * node table. A node whose heartbeat stalls is marked down.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/etherdevice.h>
#include <linux/rtnetlink.h>

#include "shmnic.h"

#define SHMNIC_FORMAT_WAIT_MS	3000

static int shmnic_format(struct shmnic_dev *sd,
			 const struct shmnic_geometry *want)
{
	struct shmnic_region *hdr = sd->shm;
	struct shmnic_geometry g = *want;
	struct shmnic_layout l;
	int err;

	/* Shrink the rings until the layout fits in the region. */
	while ((err = shmnic_layout_compute(&g, sd->shm_size, &l)) == -ENOSPC &&
	       g.ring_slots > SHMNIC_MIN_SLOTS)
		g.ring_slots /= 2;
	if (err) {
		dev_err(&sd->pdev->dev,
			"geometry %u nodes x %u slots x %u B does not fit in %llu bytes\n",
			want->max_nodes, want->ring_slots, want->buf_size,
			sd->shm_size);
		WRITE_ONCE(hdr->state, SHMNIC_FMT_BLANK);
		return err;
	}

	memset((u8 *)sd->shm + l.node_off, 0, l.size - l.node_off);
	shmnic_region_fill(hdr, &l, sd->id);
	/* The layout before the state word that says it is ready. */
	smp_wmb();
	WRITE_ONCE(hdr->state, SHMNIC_FMT_READY);
	dev_info(&sd->pdev->dev, "formatted the region: %u nodes, %u slots\n",
		 g.max_nodes, g.ring_slots);
	return 0;
}

int shmnic_region_attach(struct shmnic_dev *sd, bool force_format,
			 const struct shmnic_geometry *want)
{
	struct shmnic_region *hdr = sd->shm;
	struct shmnic_region snap;
	unsigned int waited = 0;
	u32 state;
	int err;

	if (sd->shm_size < SHMNIC_PAGE)
		return -ENODEV;

	state = shmnic_cmpxchg32(&hdr->state, SHMNIC_FMT_BLANK,
				 SHMNIC_FMT_BUSY);
	if (force_format) {
		WRITE_ONCE(hdr->state, SHMNIC_FMT_BUSY);
		state = SHMNIC_FMT_BLANK;
	}
	if (state == SHMNIC_FMT_BLANK) {
		err = shmnic_format(sd, want);
		if (err)
			return err;
	}

	/* Another node may be formatting: wait for it. */
	while (READ_ONCE(hdr->state) == SHMNIC_FMT_BUSY &&
	       waited < SHMNIC_FORMAT_WAIT_MS) {
		msleep(20);
		waited += 20;
	}

	/* The state word before the header it vouches for. */
	smp_rmb();
	memcpy(&snap, hdr, sizeof(snap));
	err = shmnic_region_check(&snap, sd->shm_size, &sd->lay);
	if (err) {
		dev_err(&sd->pdev->dev,
			"the shared region holds no valid shmnic layout (state %u); load with force_format=1 to reformat it\n",
			snap.state);
		return err;
	}
	if (sd->id >= sd->lay.g.max_nodes) {
		dev_err(&sd->pdev->dev, "node id %u >= max_nodes %u\n",
			sd->id, sd->lay.g.max_nodes);
		return -ERANGE;
	}

	sd->self = shmnic_node_at(sd->shm, &sd->lay, sd->id);
	sd->rx_slots = sd->lay.g.ring_slots;
	WRITE_ONCE(sd->self->state, SHMNIC_NODE_ABSENT);
	sd->epoch = READ_ONCE(sd->self->epoch) + 1;
	if (!sd->epoch)
		sd->epoch = 1;
	return 0;
}

/* Write our whole node table entry from private state: at attach (the
 * receive rings are set up by then), and on every heartbeat, so that
 * whatever a scribbler changed in it is put back.
 */
void shmnic_node_up(struct shmnic_dev *sd)
{
	struct shmnic_node *n = sd->self;
	u8 mac[ETH_ALEN];
	u32 i;

	ether_addr_copy(mac, sd->local->ndev->dev_addr);
	memcpy(n->mac, mac, ETH_ALEN);
	WRITE_ONCE(n->mtu, READ_ONCE(sd->local->ndev->mtu));
	WRITE_ONCE(n->rx_slots, READ_ONCE(sd->rx_slots));
	WRITE_ONCE(n->flags, READ_ONCE(sd->node_flags));
	for (i = 0; i < SHMNIC_MAX_NETS; i++)
		WRITE_ONCE(n->mc_filter[i], READ_ONCE(sd->mc_filter[i]));
	WRITE_ONCE(n->heartbeat, sd->heartbeat);
	/* A sender reads rx_slots once it has seen this epoch. */
	smp_wmb();
	WRITE_ONCE(n->epoch, READ_ONCE(sd->epoch));
	/* The entry before the state that makes others read it. */
	smp_wmb();
	WRITE_ONCE(n->state, SHMNIC_NODE_UP);
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

void shmnic_node_leave(struct shmnic_dev *sd)
{
	WRITE_ONCE(sd->leaving, true);
	WRITE_ONCE(sd->self->state, SHMNIC_NODE_LEAVING);
	shmnic_ctrl_send(sd->local, SHMNIC_CTRL_BYE, 0);
}

void shmnic_node_gone(struct shmnic_dev *sd)
{
	WRITE_ONCE(sd->self->flags, 0);
	WRITE_ONCE(sd->self->state, SHMNIC_NODE_ABSENT);
}

void shmnic_node_set_rx(struct shmnic_dev *sd, u32 net, bool on)
{
	spin_lock_bh(&sd->lock);
	if (on)
		sd->node_flags |= SHMNIC_NODE_F_RX(net);
	else
		sd->node_flags &= ~SHMNIC_NODE_F_RX(net);
	WRITE_ONCE(sd->self->flags, sd->node_flags);
	spin_unlock_bh(&sd->lock);
}

/* May frames be sent to node @id on network @net? Lockless, data path. */
bool shmnic_node_reachable(struct shmnic_dev *sd, u32 id, u32 net)
{
	const struct shmnic_node *n = shmnic_node_at(sd->shm, &sd->lay, id);

	return READ_ONCE(sd->nodes[id].up) &&
	       (READ_ONCE(n->flags) & SHMNIC_NODE_F_RX(net));
}

static void shmnic_view_set(struct shmnic_dev *sd, u32 id, bool up,
			    u32 epoch, const char *why)
{
	struct shmnic_node_view *v = &sd->nodes[id];
	bool was_up = v->up;
	u32 was_epoch = v->epoch;

	if (v->up == up && v->epoch == epoch)
		return;
	if (up)
		dev_info(&sd->pdev->dev, "node %u up (epoch %u)\n", id, epoch);
	else if (v->up)
		dev_info(&sd->pdev->dev, "node %u down (%s)\n", id, why);
	WRITE_ONCE(v->epoch, epoch);
	WRITE_ONCE(v->up, up);
	if (was_up != up || (up && was_epoch != epoch))
		shmnic_genl_node_event(sd, id, up, epoch);
}

/* Sample node @id's table entry; called with sd->lock held. */
static bool shmnic_scan_node(struct shmnic_dev *sd, u32 id)
{
	const struct shmnic_node *n = shmnic_node_at(sd->shm, &sd->lay, id);
	struct shmnic_node_view *v = &sd->nodes[id];
	u32 state = READ_ONCE(n->state);
	u32 epoch = READ_ONCE(n->epoch);
	u64 hb = READ_ONCE(n->heartbeat);
	bool was_up = v->up;

	if (state != SHMNIC_NODE_UP || !epoch) {
		shmnic_view_set(sd, id, false, v->epoch,
				state == SHMNIC_NODE_LEAVING ? "leaving" :
							       "absent");
	} else if (!v->sampled || epoch != v->epoch) {
		/* New, or back with a new epoch: up once its heartbeat moves. */
		shmnic_view_set(sd, id, false, epoch, "restarted");
		v->heartbeat = hb;
		v->stamp = jiffies;
	} else if (hb != v->heartbeat) {
		v->heartbeat = hb;
		v->stamp = jiffies;
		shmnic_view_set(sd, id, true, epoch, NULL);
	} else if (v->up && time_after(jiffies,
				       v->stamp + SHMNIC_DOWN_TIMEOUT)) {
		shmnic_view_set(sd, id, false, epoch, "heartbeat stalled");
	}
	v->sampled = true;
	return was_up != v->up;
}

void shmnic_hello_rcv(struct shmnic_dev *sd, struct shmnic_net *sn,
		      const struct shmnic_ctrl *c)
{
	u32 id = c->node;
	const struct shmnic_node *n;
	struct shmnic_node_view *v;
	bool changed = false;

	if (id >= shmnic_nodes(sd) || id == sd->id)
		return;
	n = shmnic_node_at(sd->shm, &sd->lay, id);
	v = &sd->nodes[id];

	spin_lock(&sd->lock);
	if (c->type == SHMNIC_CTRL_BYE) {
		if (c->epoch == v->epoch && v->up) {
			shmnic_view_set(sd, id, false, v->epoch, "said bye");
			changed = true;
		}
	} else if (c->epoch && c->epoch == READ_ONCE(n->epoch) &&
		   READ_ONCE(n->state) == SHMNIC_NODE_UP &&
		   (!v->up || v->epoch != c->epoch)) {
		v->sampled = true;
		v->heartbeat = READ_ONCE(n->heartbeat);
		v->stamp = jiffies;
		shmnic_view_set(sd, id, true, c->epoch, NULL);
		changed = true;
	}
	spin_unlock(&sd->lock);

	if (changed) {
		shmnic_net_node_change(sd->local);
		shmnic_net_node_change(sd->global);
	}
	/* Answer a newcomer's HELLO so that it learns about us at once. */
	if (changed && c->type == SHMNIC_CTRL_HELLO && !c->reply)
		shmnic_ctrl_send(sn, SHMNIC_CTRL_HELLO, 1);
}

void shmnic_hb_timer(struct timer_list *t)
{
	struct shmnic_dev *sd = from_timer(sd, t, hb_timer);
	bool changed = false;
	u32 id;

	sd->heartbeat++;
	if (READ_ONCE(sd->leaving))
		WRITE_ONCE(sd->self->heartbeat, sd->heartbeat);
	else
		shmnic_node_up(sd);

	spin_lock(&sd->lock);
	for (id = 0; id < shmnic_nodes(sd); id++)
		if (id != sd->id)
			changed |= shmnic_scan_node(sd, id);
	spin_unlock(&sd->lock);

	if (changed) {
		shmnic_net_node_change(sd->local);
		shmnic_net_node_change(sd->global);
	}
	shmnic_net_watchdog(sd->local);
	shmnic_net_watchdog(sd->global);
	shmnic_gw_tick(sd);

	mod_timer(&sd->hb_timer, jiffies + SHMNIC_HB_INTERVAL);
}
