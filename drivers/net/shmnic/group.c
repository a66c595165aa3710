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

/* Break the lock of ring @r if it stays held with no progress: its holder
 * died or went mad. Heartbeat timer.
 */
void shmnic_lock_watch(struct shmnic_net *sn, struct shmnic_lock_watch *w,
		       struct shmnic_ring *r, int mcast)
{
	u32 lock = READ_ONCE(r->bc->lock);
	u32 widx = READ_ONCE(r->bc->widx);
	/* A holder that is no node at all is a scribble: break it now. */
	bool bogus = lock > shmnic_nodes(sn->sd);

	if (!bogus && (!lock || lock != w->lock || widx != w->widx)) {
		w->lock = lock;
		w->widx = widx;
		w->stamp = jiffies;
		return;
	}
	if (!bogus && !time_after(jiffies, w->stamp + SHMNIC_LOCK_TIMEOUT))
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
