// SPDX-License-Identifier: GPL-2.0
/*
 * The lock of a broadcast or multicast ("group") ring, which every sender
 * takes in the region: taking it with a bounded wait, and breaking it when
 * its holder stops making progress (it died or went mad).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>

#include "shmnic.h"

/* How long a broadcast sender waits for the ring's lock, in 100 ns steps */
#define SHMNIC_BC_SPIN		2000

/* Take the lock of broadcast or multicast ring @r, waiting a bounded time. */
bool shmnic_group_lock(struct shmnic_ring *r, u32 me)
{
	int i;

	for (i = 0; i < SHMNIC_BC_SPIN; i++) {
		if (shmnic_bc_trylock(r, me))
			return true;
		ndelay(100);
	}
	return false;
}

/* Is node @id alive as far as a lock is concerned? Not while our view has
 * it down and its heartbeat has not moved for the down timeout: a node just
 * (re)joining is down in our view for a moment but its heartbeat moves.
 */
static bool shmnic_lock_holder_alive(struct shmnic_dev *sd, u32 id)
{
	const struct shmnic_node_view *v = &sd->nodes[id];

	return READ_ONCE(v->up) ||
	       !time_after(jiffies, READ_ONCE(v->stamp) + SHMNIC_DOWN_TIMEOUT);
}

/* Break the lock of ring @r if its holder is no node or a dead one, or if
 * it stays held with no progress: its holder went mad. Heartbeat timer.
 */
void shmnic_lock_watch(struct shmnic_net *sn, struct shmnic_lock_watch *w,
		       struct shmnic_ring *r, int mcast)
{
	struct shmnic_dev *sd = sn->sd;
	u32 nodes = shmnic_nodes(sd);
	u32 lock = READ_ONCE(r->bc->lock);
	u32 widx = READ_ONCE(r->bc->widx);
	bool alive = lock && lock <= nodes &&
		     shmnic_lock_holder_alive(sd, lock - 1);
	bool moved = lock != w->lock || widx != w->widx;

	if (!lock || moved) {
		w->lock = lock;
		w->widx = widx;
		w->stamp = jiffies;
	}
	if (!shmnic_bc_lock_breakable(lock, nodes, sd->id, alive,
				      !moved && time_after(jiffies, w->stamp +
							   SHMNIC_LOCK_TIMEOUT)))
		return;
	if (!shmnic_bc_break(r, lock))
		return;
	w->lock = 0;
	if (!net_ratelimit())
		return;
	if (mcast < 0)
		netdev_info(sn->ndev, "broke the broadcast lock held by node %d\n",
			    (int)lock - 1);
	else
		netdev_info(sn->ndev,
			    "broke the lock of multicast ring %d held by node %d\n",
			    mcast, (int)lock - 1);
}
