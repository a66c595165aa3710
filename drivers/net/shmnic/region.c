// SPDX-License-Identifier: GPL-2.0
/*
 * The shared region: formatting it or joining it, and our own entry in its
 * node table (up, leaving, gone, which networks we receive on). The other
 * nodes' entries are read in members.c.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/etherdevice.h>
#include <linux/slab.h>

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

/* Without force_format=1, a region is formatted only when its first page is
 * all zero (a fresh shared memory file) or carries our magic with no layout
 * (a formatter gave up): never one that holds someone else's data, which
 * udev's autoloading for every ivshmem device would otherwise destroy. The
 * state word's compare-and-swap elects the formatter. @state gets the word
 * as found: SHMNIC_FMT_BLANK when we are to format.
 */
static int shmnic_region_claim(struct shmnic_dev *sd, u32 *state)
{
	struct shmnic_region *hdr = sd->shm;
	enum shmnic_region_kind kind;
	u8 *page;

	page = kmalloc(SHMNIC_PAGE, GFP_KERNEL);
	if (!page)
		return -ENOMEM;
	memcpy(page, sd->shm, SHMNIC_PAGE);
	kind = shmnic_region_classify(page);
	if (kind == SHMNIC_REGION_FOREIGN) {
		dev_err(&sd->pdev->dev,
			"the shared region holds data that is not shmnic's (it begins %*ph): left untouched; load with force_format=1 to format it\n",
			16, page);
		kfree(page);
		return -EBUSY;
	}
	kfree(page);
	if (kind == SHMNIC_REGION_FORMATTING)
		*state = READ_ONCE(hdr->state);
	else
		*state = shmnic_cmpxchg32(&hdr->state, SHMNIC_FMT_BLANK,
					  SHMNIC_FMT_BUSY);
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

	if (force_format) {
		WRITE_ONCE(hdr->state, SHMNIC_FMT_BUSY);
		state = SHMNIC_FMT_BLANK;
	} else {
		err = shmnic_region_claim(sd, &state);
		if (err)
			return err;
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

	spin_lock_bh(&sd->self_lock);
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
	spin_unlock_bh(&sd->self_lock);
}

void shmnic_node_leave(struct shmnic_dev *sd)
{
	WRITE_ONCE(sd->leaving, true);
	WRITE_ONCE(sd->self->state, SHMNIC_NODE_LEAVING);
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
