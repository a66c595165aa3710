// SPDX-License-Identifier: GPL-2.0
/*
 * The gateway's side of the flow table (include/shmnic/flow.h): looking a
 * flow up in every gateway's part, recording flows in our own part, moving
 * TCP state on with the packets, ageing and purging, and the flow events.
 * Only this node writes its part, under gw->flow_lock.
 */
#include <linux/in.h>

#include "shmnic.h"
#include "gw.h"

/* Flow entries aged per heartbeat. */
#define SHMNIC_GW_AGE_BATCH	4096u

/* The clock of node @id's part: its heartbeat (ours without a trip through
 * the region). A node that is down no longer beats: its part goes on
 * ageing by our clock, the heartbeats that would have passed since we last
 * saw its heartbeat move, so that its flows stay usable by the other
 * gateways for as long as their state allows and no longer.
 */
u32 shmnic_flow_clock(const struct shmnic_dev *sd, u32 id)
{
	const struct shmnic_node_view *v = &sd->nodes[id];
	u32 hb;

	if (id == sd->id)
		return (u32)READ_ONCE(sd->heartbeat);
	hb = (u32)READ_ONCE(shmnic_node_at(sd->shm, &sd->lay, id)->heartbeat);
	if (READ_ONCE(v->up))
		return hb;
	return hb + (u32)((jiffies - READ_ONCE(v->stamp)) / SHMNIC_HB_INTERVAL);
}

/* Is @f, read from node @id's part, a flow still in use? */
bool shmnic_flow_live(const struct shmnic_dev *sd, u32 id,
		      const struct shmnic_flow *f)
{
	return f->node < shmnic_nodes(sd) &&
	       !shmnic_flow_expired(f->state, f->last,
				    shmnic_flow_clock(sd, id));
}

static u32 shmnic_gw_now(const struct shmnic_dev *sd)
{
	return shmnic_flow_clock(sd, sd->id);
}

static void shmnic_gw_flow_event(struct shmnic_gw *gw,
				 const struct shmnic_flow *f, bool add,
				 u8 reason)
{
	shmnic_genl_flow_event(gw->sd, f, gw->sd->id, 0,
			       add ? SHMNIC_CMD_FLOW_NEW : SHMNIC_CMD_FLOW_DEL,
			       reason);
}

/* Look @k up in every node's part, ours first, then the other gateways',
 * up or down. Returns the serving node or -ENOENT; @own gets the index of
 * our own entry, or -1.
 */
int shmnic_gw_flow_lookup(struct shmnic_gw *gw,
			  const struct shmnic_flow_key *k, u32 hash,
			  struct shmnic_flow *f, int *own)
{
	struct shmnic_dev *sd = gw->sd;
	u32 slots = sd->lay.g.flow_slots, id;
	int i;

	*own = -1;
	i = shmnic_flow_find(gw->part, slots, k, hash, f);
	if (i >= 0 && shmnic_flow_live(sd, sd->id, f)) {
		*own = i;
		return f->node;
	}
	for (id = 0; id < shmnic_nodes(sd); id++) {
		if (id == sd->id)
			continue;
		/* Another gateway's entry, aged by that gateway's clock. */
		if (shmnic_flow_find(shmnic_flow_part(sd->shm, &sd->lay, id),
				     slots, k, hash, f) >= 0 &&
		    shmnic_flow_live(sd, id, f))
			return f->node;
	}
	return -ENOENT;
}

u8 shmnic_gw_tcp_state(u8 old, bool syn, bool ack, bool fin)
{
	if (fin)
		return SHMNIC_FS_CLOSING;
	if (old == SHMNIC_FS_CLOSING)
		return old;
	if (syn && !ack)
		return SHMNIC_FS_SYN;
	return ack ? SHMNIC_FS_EST : old;
}

/* Record that flow @k goes to @node; @adopted: as another gateway's entry
 * said.
 */
void shmnic_gw_flow_add(struct shmnic_gw *gw,
			const struct shmnic_flow_key *k, u32 hash,
			u32 node, u8 state, bool adopted)
{
	struct shmnic_dev *sd = gw->sd;
	struct shmnic_flow f = {}, old;
	bool evicted = false;
	int i, evict, own;

	spin_lock_bh(&gw->flow_lock);
	i = shmnic_flow_find(gw->part, sd->lay.g.flow_slots, k, hash, &old);
	own = i;
	if (i < 0)
		i = shmnic_flow_place(gw->part, sd->lay.g.flow_slots, hash,
				      shmnic_gw_now(sd), &evict);
	if (i < 0) {
		spin_unlock_bh(&gw->flow_lock);
		shmnic_gw_count(gw, SHMNIC_GWS_FLOWS_FULL);
		return;
	}
	if (own < 0 && evict && !shmnic_flow_read(&gw->part[i], &old))
		evicted = true;
	f.state = state;
	f.node = node;
	f.last = shmnic_gw_now(sd);
	f.hash = hash;
	f.key = *k;
	shmnic_flow_write(&gw->part[i], &f);
	spin_unlock_bh(&gw->flow_lock);

	if (evicted) {
		shmnic_gw_count(gw, SHMNIC_GWS_FLOWS_EVICTED);
		shmnic_gw_flow_event(gw, &old, false, SHMNIC_FLOW_REASON_EVICTED);
	}
	shmnic_gw_count(gw, adopted ? SHMNIC_GWS_FLOWS_ADOPTED :
				      SHMNIC_GWS_FLOWS_NEW);
	shmnic_gw_flow_event(gw, &f, true, 0);
}

/* A packet of flow @f, found in another gateway's part: the flow now comes
 * through us (the upstream moved it: that gateway died, or came back).
 * Copy it into our own part, with its state moved on by the packet, so
 * that it no longer depends on the other part: that gateway clears its
 * part when it attaches again, and a dead one's entries age out. @f came
 * from the region: its node was bounded by the lookup, its state is
 * bounded here, the key is the packet's own.
 */
void shmnic_gw_flow_adopt(struct shmnic_gw *gw, const struct shmnic_gw_pkt *pk,
			  u32 hash, const struct shmnic_flow *f)
{
	u8 state = f->state;

	if (pk->key.proto == IPPROTO_TCP) {
		if (pk->rst)
			return;
		state = shmnic_gw_tcp_state(state, pk->syn, pk->ack, pk->fin);
		if (state == SHMNIC_FS_UDP)
			state = SHMNIC_FS_EST;
	} else {
		state = SHMNIC_FS_UDP;
	}
	shmnic_gw_flow_add(gw, &pk->key, hash, f->node, state, true);
}

/* A packet used our entry @i (snapshot @f): move its state on, or drop it
 * on a reset.
 */
void shmnic_gw_flow_touch(struct shmnic_gw *gw, int i,
			  const struct shmnic_flow *f,
			  const struct shmnic_gw_pkt *pk)
{
	struct shmnic_dev *sd = gw->sd;
	struct shmnic_flow e = *f;
	struct shmnic_flow cur;
	u32 now = shmnic_gw_now(sd);

	if (pk->key.proto == IPPROTO_TCP)
		e.state = pk->rst ? SHMNIC_FS_FREE :
			  shmnic_gw_tcp_state(f->state, pk->syn, pk->ack,
					      pk->fin);
	if (e.state == f->state && f->last == now)
		return;
	spin_lock_bh(&gw->flow_lock);
	/* Still the same flow: another CPU may have replaced it. */
	if (shmnic_flow_read(&gw->part[i], &cur) || cur.seq != f->seq) {
		spin_unlock_bh(&gw->flow_lock);
		return;
	}
	if (e.state == SHMNIC_FS_FREE) {
		shmnic_flow_clear(&gw->part[i]);
	} else if (e.state == f->state) {
		WRITE_ONCE(gw->part[i].last, now);
	} else {
		e.last = now;
		shmnic_flow_write(&gw->part[i], &e);
	}
	spin_unlock_bh(&gw->flow_lock);
	if (e.state == SHMNIC_FS_FREE) {
		shmnic_gw_count(gw, SHMNIC_GWS_FLOWS_CLOSED);
		shmnic_gw_flow_event(gw, f, false, SHMNIC_FLOW_REASON_RST);
	}
}

/* Heartbeat: age our part of the flow table, purge flows of nodes gone. */
void shmnic_gw_flow_age(struct shmnic_gw *gw)
{
	struct shmnic_dev *sd = gw->sd;
	u32 slots = sd->lay.g.flow_slots, now = shmnic_gw_now(sd);
	u32 n = min(slots, SHMNIC_GW_AGE_BATCH), i;
	struct shmnic_flow f;

	for (i = 0; i < n; i++) {
		u32 at = (gw->age_next + i) & (slots - 1);
		u8 reason = 0;

		if (READ_ONCE(gw->part[at].state) == SHMNIC_FS_FREE)
			continue;
		spin_lock_bh(&gw->flow_lock);
		if (shmnic_flow_read(&gw->part[at], &f)) {
			/* Not consistent although only we write it: scribbled. */
			if (!(READ_ONCE(gw->part[at].seq) & 1) ||
			    READ_ONCE(gw->part[at].state) != SHMNIC_FS_FREE)
				shmnic_flow_clear(&gw->part[at]);
		} else if (f.node >= shmnic_nodes(sd)) {
			shmnic_flow_clear(&gw->part[at]);
		} else if (shmnic_flow_expired(f.state, f.last, now)) {
			reason = SHMNIC_FLOW_REASON_TIMEOUT;
		} else if (f.node != sd->id &&
			   !shmnic_node_reachable(sd, f.node, SHMNIC_NET_GLOBAL)) {
			reason = SHMNIC_FLOW_REASON_NODE_DOWN;
		}
		if (reason)
			shmnic_flow_clear(&gw->part[at]);
		spin_unlock_bh(&gw->flow_lock);
		if (!reason)
			continue;
		shmnic_gw_count(gw, reason == SHMNIC_FLOW_REASON_TIMEOUT ?
				    SHMNIC_GWS_FLOWS_EXPIRED :
				    SHMNIC_GWS_FLOWS_PURGED);
		shmnic_gw_flow_event(gw, &f, false, reason);
	}
	gw->age_next = (gw->age_next + n) & (slots - 1);
}

/* Node @node handed back a packet of flow @k: drop our entry if it still
 * sends the flow there.
 */
void shmnic_gw_flow_forget(struct shmnic_gw *gw,
			   const struct shmnic_flow_key *k, u32 hash, u32 node)
{
	struct shmnic_flow f;
	int i;

	spin_lock_bh(&gw->flow_lock);
	i = shmnic_flow_find(gw->part, gw->sd->lay.g.flow_slots, k, hash, &f);
	if (i >= 0 && f.node == node)
		shmnic_flow_clear(&gw->part[i]);
	spin_unlock_bh(&gw->flow_lock);
	if (i >= 0 && f.node == node)
		shmnic_gw_flow_event(gw, &f, false,
				     SHMNIC_FLOW_REASON_HANDED_BACK);
}

/* The live entry @i of node @gw's part of the flow table, if it is one:
 * for dumps.
 */
bool shmnic_gw_flow_get(struct shmnic_dev *sd, u32 gw, u32 i,
			struct shmnic_flow *f, u32 *idle_ms)
{
	struct shmnic_flow *part = shmnic_flow_part(sd->shm, &sd->lay, gw);

	if (shmnic_flow_read(&part[i], f) ||
	    (f->key.family != 4 && f->key.family != 6) ||
	    !shmnic_flow_live(sd, gw, f))
		return false;
	*idle_ms = (shmnic_flow_clock(sd, gw) - f->last) * (1000 / SHMNIC_HB_HZ);
	return true;
}
