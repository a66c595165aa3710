// SPDX-License-Identifier: GPL-2.0
/*
 * Multicast rings. Each network has mcast_rings rings laid out like the
 * broadcast ring. A ring carries one group, named by its label: the first
 * node to send to a group labels a free ring with it and owns it; every
 * sender to the group writes on that ring under the ring's lock; nodes read
 * only the rings of the groups they joined (ndo_set_rx_mode), and ring the
 * doorbell only of nodes whose published filter has the group's bit. When
 * the owner dies a live sender takes the ring over; an owner gives up a ring
 * nobody wrote for SHMNIC_MC_IDLE. When no ring is free, frames go on the
 * broadcast ring, where receivers filter them.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/etherdevice.h>

#include "shmnic.h"
#include "stats.h"

int shmnic_mc_init(struct shmnic_net *sn)
{
	struct shmnic_dev *sd = sn->sd;
	u32 i;

	spin_lock_init(&sn->mc_lock);
	sn->mc_rings = sd->lay.g.mcast_rings;
	if (!sn->mc_rings)
		return 0;
	sn->mc = kcalloc(sn->mc_rings, sizeof(*sn->mc), GFP_KERNEL);
	if (!sn->mc)
		return -ENOMEM;
	for (i = 0; i < sn->mc_rings; i++) {
		struct shmnic_mc_ring *m = &sn->mc[i];

		shmnic_ring_init_bcast(&m->tx,
				       shmnic_mcast_ring_at(sd->shm, &sd->lay,
							    sn->net, i),
				       &sd->lay);
		m->rx = m->tx;
		u64_stats_init(&m->tx_rs.syncp);
		u64_stats_init(&m->rx_rs.syncp);
		m->idle_stamp = jiffies;
	}
	return 0;
}

void shmnic_mc_free(struct shmnic_net *sn)
{
	kfree(sn->mc);
	sn->mc = NULL;
}

/* Interface up, NAPI not yet enabled: read no ring until we join a group,
 * and take every label there now as already seen.
 */
void shmnic_mc_open(struct shmnic_net *sn)
{
	u32 i;

	for (i = 0; i < sn->mc_rings; i++) {
		sn->mc[i].active = false;
		sn->mc[i].gen_seen = READ_ONCE(sn->mc[i].rx.bc->gen);
	}
	spin_lock_bh(&sn->mc_lock);
	sn->mc_rx = sn->mc_new;
	sn->mc_rx_version = sn->mc_version;
	spin_unlock_bh(&sn->mc_lock);
}

static bool shmnic_mc_in(const struct shmnic_mc_list *ml, const u8 *mac)
{
	u32 i;

	if (ml->all)
		return true;
	for (i = 0; i < ml->count; i++)
		if (ether_addr_equal(ml->addr[i], mac))
			return true;
	return false;
}

/* ndo_set_rx_mode (BHs off). */
void shmnic_set_rx_mode(struct net_device *ndev)
{
	struct shmnic_net *sn = netdev_priv(ndev);
	struct shmnic_dev *sd = sn->sd;
	struct netdev_hw_addr *ha;
	struct shmnic_mc_list *ml = &sn->mc_new;
	u64 filter = 0;

	lockdep_assert_held(&ndev->addr_list_lock);
	spin_lock_bh(&sn->mc_lock);
	ml->count = 0;
	ml->all = ndev->flags & (IFF_PROMISC | IFF_ALLMULTI) ||
		  netdev_mc_count(ndev) > SHMNIC_MC_ADDRS;
	netdev_for_each_mc_addr(ha, ndev) {
		if (ml->count == SHMNIC_MC_ADDRS)
			break;
		ether_addr_copy(ml->addr[ml->count++], ha->addr);
		filter |= BIT_ULL(shmnic_mc_hash(ha->addr));
	}
	if (ml->all)
		filter = ~0ULL;
	sn->mc_version++;
	spin_unlock_bh(&sn->mc_lock);

	/* Senders read it to choose whom to wake; the heartbeat rewrites it. */
	WRITE_ONCE(sd->mc_filter[sn->net], filter);
	WRITE_ONCE(sd->self->mc_filter[sn->net], filter);
	if (netif_running(ndev))
		napi_schedule(&sn->napi);
}

/* NAPI: is a frame to group @mac for us? */
bool shmnic_mc_wanted(const struct shmnic_net *sn, const u8 *mac)
{
	return is_broadcast_ether_addr(mac) || shmnic_mc_in(&sn->mc_rx, mac);
}

/* NAPI: look at the labels once, start or stop reading rings. */
static void shmnic_mc_scan_once(struct shmnic_net *sn)
{
	u32 nodes = shmnic_nodes(sn->sd), i;
	struct shmnic_label lab;

	for (i = 0; i < sn->mc_rings; i++) {
		struct shmnic_mc_ring *m = &sn->mc[i];
		bool fresh;

		if (shmnic_mc_label_read(&m->rx, nodes, &lab))
			continue;	/* being relabelled: next time */
		fresh = lab.gen != m->gen_seen;
		m->gen_seen = lab.gen;
		if (!lab.claimed || !shmnic_mc_in(&sn->mc_rx, lab.group)) {
			m->active = false;
		} else if (!m->active || !ether_addr_equal(m->group, lab.group)) {
			/* A group we joined is here since we last looked:
			 * from its start; one we just joined: from now.
			 */
			shmnic_mc_reader_init(&m->rx, &lab, fresh);
			ether_addr_copy(m->group, lab.group);
			m->active = true;
		}
		/* else the same group, perhaps with a new owner: read on */
	}
}

/* NAPI, before reading. When the joined groups changed, first look with the
 * old list, so that only the groups just joined start from now.
 */
void shmnic_mc_scan(struct shmnic_net *sn)
{
	if (!sn->mc_rings)
		return;
	if (READ_ONCE(sn->mc_version) != sn->mc_rx_version) {
		shmnic_mc_scan_once(sn);
		spin_lock(&sn->mc_lock);
		sn->mc_rx = sn->mc_new;
		sn->mc_rx_version = sn->mc_version;
		spin_unlock(&sn->mc_lock);
	}
	shmnic_mc_scan_once(sn);
}

/* NAPI, before sleeping: anything new on a ring we read? */
bool shmnic_mc_pending(const struct shmnic_net *sn)
{
	u32 i;

	for (i = 0; i < sn->mc_rings; i++)
		if (sn->mc[i].active &&
		    READ_ONCE(sn->mc[i].rx.bc->widx) != sn->mc[i].rx.idx)
			return true;
	return false;
}

/* --- transmit, under the TX queue lock ---------------------------------- */

static bool shmnic_mc_owner_alive(const struct shmnic_dev *sd, u32 owner)
{
	return owner == sd->id || READ_ONCE(sd->nodes[owner].up);
}

/* The first ring labelled with @group, or NULL. */
static struct shmnic_mc_ring *shmnic_mc_find(struct shmnic_net *sn,
					     const u8 *group,
					     struct shmnic_label *lab)
{
	u32 nodes = shmnic_nodes(sn->sd), i;

	for (i = 0; i < sn->mc_rings; i++)
		if (!shmnic_mc_label_read(&sn->mc[i].tx, nodes, lab) &&
		    lab->claimed && ether_addr_equal(lab->group, group))
			return &sn->mc[i];
	return NULL;
}

/* May we take ring @m, labelled @lab, for another group? */
static bool shmnic_mc_takeable(const struct shmnic_net *sn,
			       const struct shmnic_mc_ring *m,
			       const struct shmnic_label *lab, bool free_only)
{
	if (!lab->claimed)
		return true;
	/* Its owner is dead and nobody wrote on it for a while (we may
	 * only just have come up, and not know yet who is alive).
	 */
	return !free_only && !shmnic_mc_owner_alive(sn->sd, lab->owner) &&
	       READ_ONCE(m->tx.bc->widx) == m->idle_widx &&
	       time_after(jiffies, m->idle_stamp + SHMNIC_DOWN_TIMEOUT);
}

/* Label a ring with @group and return it locked: a free ring if there is
 * one, else an idle one whose owner is dead. NULL when every ring is in use.
 */
static struct shmnic_mc_ring *shmnic_mc_claim(struct shmnic_net *sn,
					      const u8 *group)
{
	struct shmnic_dev *sd = sn->sd;
	u32 nodes = shmnic_nodes(sd), i, pass;
	struct shmnic_label lab;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < sn->mc_rings; i++) {
			struct shmnic_mc_ring *m = &sn->mc[i];

			if (shmnic_mc_label_read(&m->tx, nodes, &lab) ||
			    !shmnic_mc_takeable(sn, m, &lab, !pass) ||
			    !shmnic_bc_trylock(&m->tx, sd->id))
				continue;
			/* Under the lock, is it still what we saw? */
			if (READ_ONCE(m->tx.bc->gen) != lab.gen) {
				shmnic_bc_unlock(&m->tx, sd->id);
				continue;
			}
			shmnic_mc_label_write(&m->tx, sd->id, group);
			shmnic_tx_xinc(sn, mc_claims);
			return m;
		}
	}
	return NULL;
}

/* The ring for @group, locked; NULL when there is none to be had. */
static struct shmnic_mc_ring *shmnic_mc_lock(struct shmnic_net *sn,
					     const u8 *group, int *err)
{
	struct shmnic_dev *sd = sn->sd;
	struct shmnic_mc_ring *m;
	struct shmnic_label lab;
	int tries;

	for (tries = 0; tries < 2; tries++) {
		m = shmnic_mc_find(sn, group, &lab);
		if (!m) {
			m = shmnic_mc_claim(sn, group);
			*err = m ? 0 : -ENOBUFS;
			return m;
		}
		if (!shmnic_group_lock(&m->tx, sd->id)) {
			*err = -EBUSY;
			return m;
		}
		if (READ_ONCE(m->tx.bc->gen) != lab.gen) {
			/* Relabelled before we got the lock: look again. */
			shmnic_bc_unlock(&m->tx, sd->id);
			continue;
		}
		if (!shmnic_mc_owner_alive(sd, lab.owner)) {
			shmnic_mc_label_write(&m->tx, sd->id, group);
			shmnic_tx_xinc(sn, mc_takeovers);
		}
		*err = 0;
		return m;
	}
	*err = -EBUSY;
	return NULL;
}

/* Wake the nodes that may have joined @group. */
static u32 shmnic_mc_wake(struct shmnic_net *sn, const u8 *group)
{
	struct shmnic_dev *sd = sn->sd;
	u64 bit = BIT_ULL(shmnic_mc_hash(group));
	u32 id, rung = 0;

	for (id = 0; id < shmnic_nodes(sd); id++) {
		const struct shmnic_node *n = shmnic_node_at(sd->shm, &sd->lay,
							     id);

		if (id == sd->id || !shmnic_node_reachable(sd, id, sn->net) ||
		    !(READ_ONCE(n->mc_filter[sn->net]) & bit))
			continue;
		shmnic_doorbell(sd, id, SHMNIC_VEC_RX);
		rung++;
	}
	return rung;
}

/* The ring for @skb's multicast group, locked, for send.c to write the
 * frame on. NULL with -ENOBUFS when the frame should go on the broadcast
 * ring instead, with another error when it is dropped (counted on the
 * ring).
 */
struct shmnic_mc_ring *shmnic_mc_tx_lock(struct shmnic_net *sn,
					 struct sk_buff *skb, int *err)
{
	const u8 *group = skb->data;
	struct shmnic_mc_ring *m;

	*err = -ENOBUFS;
	if (!sn->mc_rings || !shmnic_mc_uses_ring(group))
		return NULL;
	m = shmnic_mc_lock(sn, group, err);
	if (*err == -ENOBUFS)
		shmnic_tx_xinc(sn, mc_overflow);
	if (*err) {
		if (m)
			shmnic_rs_add(&m->tx_rs, SHMNIC_RS_DROPS, 1);
		return NULL;
	}
	return m;
}

/* After send.c wrote @skb on @m and unlocked it: wake the nodes that may
 * have joined the group, and count the frame.
 */
void shmnic_mc_tx_done(struct shmnic_net *sn, struct shmnic_mc_ring *m,
		       struct sk_buff *skb)
{
	shmnic_rs_add(&m->tx_rs, SHMNIC_RS_DOORBELLS,
		      shmnic_mc_wake(sn, skb->data));
	shmnic_rs_add(&m->tx_rs, SHMNIC_RS_PACKETS, 1);
	shmnic_rs_add(&m->tx_rs, SHMNIC_RS_BYTES, skb->len);
}

/* --- heartbeat timer ---------------------------------------------------- */

/* A label that stays odd (mid-rewrite) for a second was left so by a writer
 * that died or by a scribbler: free the ring. Returns true if it is busy.
 */
static bool shmnic_mc_repair(struct shmnic_net *sn, struct shmnic_mc_ring *m)
{
	u32 gen = READ_ONCE(m->tx.bc->gen), me = sn->sd->id;

	if (!(gen & 1))
		return false;
	if (gen != m->busy_gen) {
		m->busy_gen = gen;
		m->busy_stamp = jiffies;
		return true;
	}
	if (!time_after(jiffies, m->busy_stamp + SHMNIC_LOCK_TIMEOUT) ||
	    !shmnic_bc_trylock(&m->tx, me))
		return true;
	if (READ_ONCE(m->tx.bc->gen) == gen) {
		shmnic_mc_label_write(&m->tx, me, NULL);
		if (net_ratelimit())
			netdev_info(sn->ndev, "freed multicast ring %ld: its label was left half written\n",
				    (long)(m - sn->mc));
	}
	shmnic_bc_unlock(&m->tx, me);
	return true;
}

/* Give up ring @m if we own it and nobody wrote on it for a while. */
static void shmnic_mc_idle(struct shmnic_net *sn, struct shmnic_mc_ring *m)
{
	struct shmnic_dev *sd = sn->sd;
	u32 widx = READ_ONCE(m->tx.bc->widx);
	struct shmnic_label lab;

	if (shmnic_mc_repair(sn, m))
		return;
	if (shmnic_mc_label_read(&m->tx, shmnic_nodes(sd), &lab) ||
	    !lab.claimed || lab.owner != sd->id || widx != m->idle_widx) {
		m->idle_widx = widx;
		m->idle_stamp = jiffies;
		return;
	}
	if (!time_after(jiffies, m->idle_stamp + SHMNIC_MC_IDLE) ||
	    !shmnic_bc_trylock(&m->tx, sd->id))
		return;
	if (READ_ONCE(m->tx.bc->gen) == lab.gen &&
	    READ_ONCE(m->tx.bc->widx) == widx) {
		shmnic_mc_label_write(&m->tx, sd->id, NULL);
		shmnic_tx_xinc(sn, mc_releases);
	}
	shmnic_bc_unlock(&m->tx, sd->id);
	m->idle_stamp = jiffies;
}

void shmnic_mc_watchdog(struct shmnic_net *sn)
{
	struct netdev_queue *txq;
	u32 i;

	if (!sn->mc_rings)
		return;
	for (i = 0; i < sn->mc_rings; i++)
		shmnic_lock_watch(sn, &sn->mc[i].watch, &sn->mc[i].tx, i);
	txq = netdev_get_tx_queue(sn->ndev, SHMNIC_TXQ_GROUP);
	__netif_tx_lock(txq, smp_processor_id());
	for (i = 0; i < sn->mc_rings; i++)
		shmnic_mc_idle(sn, &sn->mc[i]);
	__netif_tx_unlock(txq);
}
