// SPDX-License-Identifier: GPL-2.0
/*
 * The other nodes as this node sees them. There is no join protocol: a node
 * that attaches marks itself up in the node table and says HELLO on the
 * broadcast ring; the others see it there or in the table. A node whose
 * heartbeat stalls, that says BYE or leaves the table is marked down; one
 * back with a new epoch is up again once its heartbeat moves.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include "shmnic.h"

/* May frames be sent to node @id on network @net? Lockless, data path. */
bool shmnic_node_reachable(struct shmnic_dev *sd, u32 id, u32 net)
{
	const struct shmnic_node *n = shmnic_node_at(sd->shm, &sd->lay, id);

	return READ_ONCE(sd->nodes[id].up) &&
	       (READ_ONCE(n->flags) & SHMNIC_NODE_F_RX(net));
}

/* Our view of node @id becomes @up in @epoch; @ev gets what netlink must
 * hear of it.
 */
static void shmnic_view_set(struct shmnic_dev *sd, u32 id, bool up,
			    u32 epoch, const char *why,
			    struct shmnic_node_events *ev)
{
	struct shmnic_node_view *v = &sd->nodes[id];
	bool was_up = v->up;
	u32 was_epoch = v->epoch;

	lockdep_assert_held(&sd->lock);
	if (v->up == up && v->epoch == epoch)
		return;
	if (up)
		dev_info(&sd->pdev->dev, "node %u up (epoch %u)\n", id, epoch);
	else if (v->up)
		dev_info(&sd->pdev->dev, "node %u down (%s, %u ms since its heartbeat last moved)\n",
			 id, why, jiffies_to_msecs(jiffies - v->stamp));
	WRITE_ONCE(v->epoch, epoch);
	WRITE_ONCE(v->up, up);
	if (was_up != up || (up && was_epoch != epoch)) {
		set_bit(id, ev->ids);
		__assign_bit(id, ev->up, up);
		ev->epoch[id] = epoch;
	}
}

/* Sample node @id's table entry. */
static bool shmnic_scan_node(struct shmnic_dev *sd, u32 id,
			     struct shmnic_node_events *ev)
{
	const struct shmnic_node *n = shmnic_node_at(sd->shm, &sd->lay, id);
	struct shmnic_node_view *v = &sd->nodes[id];
	u32 state = READ_ONCE(n->state);
	u32 epoch = READ_ONCE(n->epoch);
	u64 hb = READ_ONCE(n->heartbeat);
	bool was_up = v->up;

	lockdep_assert_held(&sd->lock);
	if (state != SHMNIC_NODE_UP || !epoch) {
		shmnic_view_set(sd, id, false, v->epoch,
				state == SHMNIC_NODE_LEAVING ? "leaving" :
							       "absent", ev);
	} else if (!v->sampled || epoch != v->epoch) {
		/* New, or back with a new epoch: up once its heartbeat moves. */
		shmnic_view_set(sd, id, false, epoch, "restarted", ev);
		v->heartbeat = hb;
		v->stamp = jiffies;
	} else if (hb != v->heartbeat) {
		v->heartbeat = hb;
		v->stamp = jiffies;
		shmnic_view_set(sd, id, true, epoch, NULL, ev);
	} else if (v->up && time_after(jiffies,
				       v->stamp + SHMNIC_DOWN_TIMEOUT)) {
		shmnic_view_set(sd, id, false, epoch, "heartbeat stalled",
				ev);
	}
	v->sampled = true;
	return was_up != v->up;
}

/* Sample every other node's entry (heartbeat timer); @ev gets the events.
 * Returns with sd->ev_lock held, for shmnic_dev_node_event().
 */
void shmnic_members_scan(struct shmnic_dev *sd, struct shmnic_node_events *ev)
	__acquires(&sd->ev_lock)
{
	u32 id;

	spin_lock(&sd->lock);
	for (id = 0; id < shmnic_nodes(sd); id++)
		if (id != sd->id)
			ev->wake |= shmnic_scan_node(sd, id, ev);
	/* Released by shmnic_dev_node_event(). */
	spin_lock(&sd->ev_lock);
	spin_unlock(&sd->lock);
}

/* A HELLO or BYE from node c->node on adapter @sn (NAPI). */
void shmnic_hello_rcv(struct shmnic_dev *sd, struct shmnic_net *sn,
		      const struct shmnic_ctrl *c)
{
	struct shmnic_node_events ev = {};
	u32 id = c->node;
	const struct shmnic_node *n;
	struct shmnic_node_view *v;

	if (id >= shmnic_nodes(sd) || id == sd->id)
		return;
	n = shmnic_node_at(sd->shm, &sd->lay, id);
	v = &sd->nodes[id];

	spin_lock(&sd->lock);
	if (c->type == SHMNIC_CTRL_BYE) {
		if (c->epoch == v->epoch && v->up) {
			shmnic_view_set(sd, id, false, v->epoch, "said bye",
					&ev);
			ev.wake = true;
		}
	} else if (c->epoch && c->epoch == READ_ONCE(n->epoch) &&
		   READ_ONCE(n->state) == SHMNIC_NODE_UP &&
		   (!v->up || v->epoch != c->epoch)) {
		v->sampled = true;
		v->heartbeat = READ_ONCE(n->heartbeat);
		v->stamp = jiffies;
		shmnic_view_set(sd, id, true, c->epoch, NULL, &ev);
		ev.wake = true;
	}
	if (!ev.wake) {
		spin_unlock(&sd->lock);
		return;
	}
	spin_lock(&sd->ev_lock);
	spin_unlock(&sd->lock);
	/* Answer a newcomer's HELLO so that it learns about us at once. */
	if (c->type == SHMNIC_CTRL_HELLO && !c->reply)
		ev.answer = sn;
	shmnic_dev_node_event(sd, &ev);
}
