/* SPDX-License-Identifier: GPL-2.0 */
/* The driver's own types (a device, its adapters, their rings and counters)
 * and the calls each file offers the others (Documentation/code-map.rst).
 */
#ifndef _DRIVERS_NET_SHMNIC_H
#define _DRIVERS_NET_SHMNIC_H

#include <linux/netdevice.h>
#include <linux/pci.h>
#include <linux/timer.h>
#include <linux/hrtimer.h>
#include <linux/spinlock.h>
#include <linux/u64_stats_sync.h>

#include <shmnic/ring.h>

#include "compat.h"

#define SHMNIC_VERSION		"0.1"

/* ivshmem BAR0 registers */
#define IVSHMEM_INTR_MASK	0x00
#define IVSHMEM_INTR_STATUS	0x04
#define IVSHMEM_IV_POSITION	0x08
#define IVSHMEM_DOORBELL	0x0c

/* MSI-X vectors: frames to receive, and room freed for a waiting sender */
#define SHMNIC_VEC_RX		0
#define SHMNIC_VEC_SPACE	1
#define SHMNIC_NVEC		2

#define SHMNIC_HB_HZ		10	/* heartbeats per second */
#define SHMNIC_HB_INTERVAL	(HZ / SHMNIC_HB_HZ)
/* A node whose heartbeat has not moved for this long is down. */
#define SHMNIC_DOWN_TIMEOUT	(HZ)
/* A broadcast lock held this long without progress is broken. */
#define SHMNIC_LOCK_TIMEOUT	(HZ)
/* A receiver that keeps its ring full this long while up is "stalled": its
 * frames are dropped (not queued) until it drains again.
 */
#define SHMNIC_STALL_TIMEOUT	(2 * HZ)
/* TX queue 0 carries broadcast and multicast; node N's frames queue N + 1. */
#define SHMNIC_TXQ_GROUP	0
#define SHMNIC_TXQ_NODE0	1
/* A multicast ring its owner has not written for this long is given up. */
#define SHMNIC_MC_IDLE		(10 * HZ)
/* Groups a node filters exactly; with more it takes every multicast frame. */
#define SHMNIC_MC_ADDRS		32

/* Largest control frame on a pair ring */
#define SHMNIC_PEER_CTRL_MAX	256

/* Locally administered MACs 02:53:4d:<net>:<id high>:<id low> */
#define SHMNIC_OUI0		0x02
#define SHMNIC_OUI1		0x53
#define SHMNIC_OUI2		0x4d

struct shmnic_dev;
struct shmnic_gw;

/* What this node knows of another node; written under shmnic_dev.lock. */
struct shmnic_node_view {
	bool sampled;
	bool up;		/* read locklessly by the data path */
	u32 epoch;		/* read locklessly by the data path */
	u64 heartbeat;
	unsigned long stamp;	/* jiffies when the heartbeat last moved */
};

/* Counters of one ring, one direction (ethtool -S: peerN_tx_*, bcast_rx_*) */
enum shmnic_rs {
	SHMNIC_RS_PACKETS,
	SHMNIC_RS_BYTES,
	SHMNIC_RS_DROPS,
	SHMNIC_RS_DOORBELLS,		/* rung (TX: frames; RX: room) */
	SHMNIC_RS_SAVED,		/* frames published without one */
	SHMNIC_RS_STOPS,		/* TX queue stopped for this ring */
	SHMNIC_RS_RESETS,		/* found corrupt and reset */
	SHMNIC_RS_LOST,			/* broadcast slots missed */
	SHMNIC_RS_STALLED,		/* frames dropped: receiver stalled */
	SHMNIC_RS_MAX
};

struct shmnic_ring_stats {
	u64_stats_t c[SHMNIC_RS_MAX];
	struct u64_stats_sync syncp;
};

/* Per network and per other node: the two rings joining us. */
struct shmnic_peer {
	u32 id;
	u32 tx_epoch;		/* receiver epoch the TX side is connected to */
	struct shmnic_ring tx;	/* from us to it; under the TX queue lock */
	struct shmnic_ring rx;	/* from it to us; NAPI only */
	struct shmnic_ring_stats tx_rs;	/* under the TX queue lock */
	struct shmnic_ring_stats rx_rs;	/* NAPI */
	/* Under the TX queue lock: a receiver that stopped draining. */
	bool stalled;		/* read locklessly by netlink */
	u32 stall_cons;		/* its consumer index when last seen moving */
	unsigned long stall_stamp;	/* ... and when */
};

struct shmnic_pcpu_stats {
	u64_stats_t packets;
	u64_stats_t bytes;
	struct u64_stats_sync syncp;
};

/* Counters that belong to no one ring. The other totals of ethtool -S are
 * sums of the rings' own counters (struct shmnic_ring_stats).
 */
struct shmnic_xstats {
	u64_stats_t no_peer;		/* frames for a node that is not up */
	u64_stats_t bc_busy;		/* broadcast lock not obtained */
	u64_stats_t wrong_queue;	/* frames on another node's TX queue */
	u64_stats_t bad_frames;		/* invalid frames dropped */
	u64_stats_t mc_claims;		/* multicast rings given a group */
	u64_stats_t mc_takeovers;	/* ... taken from a dead owner */
	u64_stats_t mc_releases;	/* ... given up when idle */
	/* frames sent on the broadcast ring for want of a multicast ring */
	u64_stats_t mc_overflow;
	u64_stats_t mc_filtered;	/* frames to groups not joined */
	struct u64_stats_sync syncp;
};

/* Watching a ring lock for a holder that makes no progress. */
struct shmnic_lock_watch {
	u32 lock;
	u32 widx;
	unsigned long stamp;
};

/* The multicast groups this node receives. */
struct shmnic_mc_list {
	u8 addr[SHMNIC_MC_ADDRS][ETH_ALEN];
	u32 count;
	bool all;			/* every multicast frame */
};

/* One multicast ring of one network. */
struct shmnic_mc_ring {
	struct shmnic_ring tx;		/* sender's view; the ring's lock */
	struct shmnic_ring rx;		/* our cursor; NAPI only */
	struct shmnic_ring_stats tx_rs;	/* under the TX queue lock */
	struct shmnic_ring_stats rx_rs;	/* NAPI */
	/* NAPI: the label as last seen, and whether we read the ring */
	u32 gen_seen;
	bool active;
	u8 group[ETH_ALEN];
	/* heartbeat timer */
	struct shmnic_lock_watch watch;
	u32 idle_widx;
	unsigned long idle_stamp;
	u32 busy_gen;			/* label seen mid-rewrite ... */
	unsigned long busy_stamp;	/* ... since then */
};

/* One adapter (shml0 or shmg0): a net_device and its rings. */
struct shmnic_net {
	struct net_device *ndev;
	struct shmnic_dev *sd;
	u32 net;
	struct napi_struct napi;
	struct page_pool *rx_pool;	/* large frames' pages, while open */
	struct shmnic_peer *peers;	/* [max_nodes], ours unused */
	struct shmnic_ring bc_rx;	/* our cursor on the broadcast ring */
	struct shmnic_ring bc_tx;
	struct shmnic_ring_stats bc_tx_rs;	/* under the TX queue lock */
	struct shmnic_ring_stats bc_rx_rs;	/* NAPI */
	u32 rx_next;			/* first ring polled, for fairness */
	bool rx_refresh;		/* NAPI: rewrite our receive lines */

	/* per CPU: each TX queue (one per destination) has its own lock */
	struct shmnic_pcpu_stats __percpu *tx_stats;
	struct shmnic_pcpu_stats rx_stats;	/* NAPI */
	struct shmnic_xstats __percpu *tx_x;
	struct shmnic_xstats rx_x;		/* NAPI */
	atomic_long_t tx_dropped;
	atomic_long_t rx_dropped;

	struct shmnic_lock_watch bc_watch;	/* heartbeat timer only */

	/* Control frames on the pair rings (the gateway's queries), NAPI */
	void (*peer_ctrl)(struct shmnic_dev *sd, u32 from, const void *data,
			  u32 len);

	struct shmnic_mc_ring *mc;	/* [mc_rings] */
	u32 mc_rings;
	spinlock_t mc_lock;		/* mc_new, mc_version */
	struct shmnic_mc_list mc_new;	/* from ndo_set_rx_mode */
	u32 mc_version;
	struct shmnic_mc_list mc_rx;	/* NAPI's copy */
	u32 mc_rx_version;
};

/* One ivshmem device: the region and this node's place in it. */
struct shmnic_dev {
	struct pci_dev *pdev;
	void __iomem *regs;
	void *shm;
	u64 shm_size;
	struct shmnic_layout lay;
	struct shmnic_node *self;	/* our node table entry */
	u32 id;
	u32 epoch;			/* bumped again when rx_slots changes */
	u32 rx_slots;			/* depth of the rings we receive on */
	u64 heartbeat;
	u32 node_flags;
	u64 mc_filter[SHMNIC_MAX_NETS];	/* published in our node entry */
	bool leaving;			/* remove() has begun */
	int nvec;			/* MSI-X vectors, 0: polling */
	struct timer_list hb_timer;
	struct hrtimer poll_timer;
	ktime_t poll_period;
	spinlock_t lock;		/* node views, node_flags */
	/* Taken before sd->lock is dropped and held while node events are
	 * sent: they leave in the order the views changed.
	 */
	spinlock_t ev_lock;
	/* Our node entry's writers (heartbeat, ethtool -G): rx_slots and the
	 * epoch that announces it are published together.
	 */
	spinlock_t self_lock;
	struct shmnic_node_view *nodes;	/* [max_nodes] */
	struct shmnic_net *local;	/* shml0 */
	struct shmnic_net *global;	/* shmg0 */
	struct shmnic_gw *gw;		/* global dispatch, gw.c */
	struct shmnic_ctrs *ctrs;	/* counters to publish, ctrs.c */
	struct list_head genl_node;	/* on shmnic_devs, genl.c */
};

/* pci.c */
int shmnic_pci_init(void);
void shmnic_pci_exit(void);
void shmnic_doorbell(struct shmnic_dev *sd, u32 node, u32 vec);

/* region.c */
int shmnic_region_attach(struct shmnic_dev *sd, bool force_format,
			 const struct shmnic_geometry *want);
void shmnic_node_up(struct shmnic_dev *sd);
void shmnic_node_leave(struct shmnic_dev *sd);
void shmnic_node_gone(struct shmnic_dev *sd);
void shmnic_node_set_rx(struct shmnic_dev *sd, u32 net, bool on);

/* What changed among the other nodes, gathered under shmnic_dev.lock and
 * handed to shmnic_dev_node_event() once it is dropped.
 */
struct shmnic_node_events {
	DECLARE_BITMAP(ids, SHMNIC_MAX_NODES);	/* netlink must hear of */
	DECLARE_BITMAP(up, SHMNIC_MAX_NODES);
	u32 epoch[SHMNIC_MAX_NODES];
	bool wake;			/* a node went up or down */
	struct shmnic_net *answer;	/* answer a HELLO on this adapter */
};

/* members.c */
bool shmnic_node_reachable(struct shmnic_dev *sd, u32 id, u32 net);
void shmnic_hello_rcv(struct shmnic_dev *sd, struct shmnic_net *sn,
		      const struct shmnic_ctrl *c);
void shmnic_members_scan(struct shmnic_dev *sd, struct shmnic_node_events *ev)
	__acquires(&sd->ev_lock);

/* dev.c */
int shmnic_dev_create(struct shmnic_dev *sd);
int shmnic_dev_start(struct shmnic_dev *sd);
void shmnic_dev_stop(struct shmnic_dev *sd);
void shmnic_dev_destroy(struct shmnic_dev *sd);
void shmnic_dev_node_event(struct shmnic_dev *sd,
			   const struct shmnic_node_events *ev)
	__releases(&sd->ev_lock);
void shmnic_hb_timer(struct timer_list *t);
int shmnic_set_rx_depth(struct shmnic_dev *sd, u32 slots);

/* netdev.c */
struct shmnic_net *shmnic_net_create(struct shmnic_dev *sd, u32 net);
int shmnic_net_register(struct shmnic_net *sn);
void shmnic_net_unregister(struct shmnic_net *sn, struct list_head *list);
void shmnic_net_destroy(struct shmnic_net *sn);
void shmnic_net_node_change(struct shmnic_net *sn);
void shmnic_net_watchdog(struct shmnic_net *sn);

/* send.c */
netdev_tx_t shmnic_start_xmit(struct sk_buff *skb, struct net_device *ndev);
u16 shmnic_select_queue(struct net_device *ndev, struct sk_buff *skb,
			struct net_device *sb_dev);
void shmnic_tx_maybe_wake(struct shmnic_net *sn);
void shmnic_tx_stall_watch(struct shmnic_net *sn, struct shmnic_peer *p,
			   struct netdev_queue *txq);

/* The TX queue of the frames for node @id. */
static inline struct netdev_queue *shmnic_txq(const struct shmnic_net *sn,
					      u32 id)
{
	return netdev_get_tx_queue(sn->ndev, SHMNIC_TXQ_NODE0 + id);
}

int shmnic_ctrl_send(struct shmnic_net *sn, u16 type, u32 reply);
int shmnic_peer_ctrl_send(struct shmnic_net *sn, u32 id, const void *data,
			  u32 len);

/* receive.c */
int shmnic_poll(struct napi_struct *napi, int budget);
int shmnic_rx_pool_create(struct shmnic_net *sn);
void shmnic_rx_pool_destroy(struct shmnic_net *sn);
void shmnic_net_rx_setup(struct shmnic_net *sn);

/* group.c */
bool shmnic_group_lock(struct shmnic_ring *r, u32 me);
void shmnic_lock_watch(struct shmnic_net *sn, struct shmnic_lock_watch *w,
		       struct shmnic_ring *r, int mcast);

/* mcast.c */
int shmnic_mc_init(struct shmnic_net *sn);
void shmnic_mc_free(struct shmnic_net *sn);
void shmnic_mc_open(struct shmnic_net *sn);
void shmnic_set_rx_mode(struct net_device *ndev);
struct shmnic_mc_ring *shmnic_mc_tx_lock(struct shmnic_net *sn,
					 struct sk_buff *skb, int *err);
void shmnic_mc_tx_done(struct shmnic_net *sn, struct shmnic_mc_ring *m,
		       struct sk_buff *skb);
void shmnic_mc_scan(struct shmnic_net *sn);
bool shmnic_mc_pending(const struct shmnic_net *sn);
bool shmnic_mc_wanted(const struct shmnic_net *sn, const u8 *mac);
void shmnic_mc_watchdog(struct shmnic_net *sn);

/* gw.c */
int shmnic_gw_init(struct shmnic_dev *sd);
void shmnic_gw_free(struct shmnic_dev *sd);
void shmnic_gw_start(struct shmnic_dev *sd);
void shmnic_gw_stop(struct shmnic_dev *sd);
void shmnic_gw_tick(struct shmnic_dev *sd);
void shmnic_gw_set_policy(struct shmnic_dev *sd, u8 policy);
u8 shmnic_gw_policy(const struct shmnic_dev *sd);
int shmnic_gw_register(void);
void shmnic_gw_unregister(void);

/* gw_query.c */
void shmnic_gw_ctrl_rcv(struct shmnic_dev *sd, u32 from, const void *data,
			u32 len);

/* gw_addr.c */
int shmnic_gw_global_set(struct shmnic_dev *sd, const void *addr, u32 len,
			 bool add, struct netlink_ext_ack *extack);

/* ethtool.c */
extern const struct ethtool_ops shmnic_ethtool_ops;

/* ctrs.c */
int shmnic_ctrs_init(struct shmnic_dev *sd);
void shmnic_ctrs_tick(struct shmnic_dev *sd);

/* genl.c */
int shmnic_genl_init(void);
void shmnic_genl_exit(void);
void shmnic_genl_add(struct shmnic_dev *sd);
void shmnic_genl_del(struct shmnic_dev *sd);
void shmnic_genl_node_event(struct shmnic_dev *sd, u32 id, bool up, u32 epoch);
struct shmnic_flow;
void shmnic_genl_flow_event(struct shmnic_dev *sd, const struct shmnic_flow *f,
			    u32 gw, u32 idle_ms, u8 cmd, u8 reason);

static inline u32 shmnic_nodes(const struct shmnic_dev *sd)
{
	return sd->lay.g.max_nodes;
}

/* The MAC of node @id's adapter on network @net. */
static inline void shmnic_node_mac(u8 *mac, u32 net, u32 id)
{
	mac[0] = SHMNIC_OUI0;
	mac[1] = SHMNIC_OUI1;
	mac[2] = SHMNIC_OUI2;
	mac[3] = net;
	mac[4] = id >> 8;
	mac[5] = id & 0xff;
}

#endif /* _DRIVERS_NET_SHMNIC_H */
