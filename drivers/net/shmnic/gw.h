/* SPDX-License-Identifier: GPL-2.0 */
/* The gateway of the global network: its state, and its files' calls. */
#ifndef _DRIVERS_NET_SHMNIC_GW_H
#define _DRIVERS_NET_SHMNIC_GW_H

#include <linux/hashtable.h>
#include <linux/mutex.h>
#include <linux/skbuff.h>
#include <linux/timer.h>
#include <uapi/linux/shmnic.h>
#include <shmnic/flow.h>
#include <shmnic/listen.h>

enum shmnic_gw_stat {
	SHMNIC_GWS_RX,			/* packets for a GLOBAL address */
	SHMNIC_GWS_FORWARDED,		/* sent to the node serving them */
	SHMNIC_GWS_LOCAL,		/* served here */
	SHMNIC_GWS_QUERIES,		/* queries sent */
	SHMNIC_GWS_ANSWERS,		/* answers received */
	SHMNIC_GWS_QUERY_TIMEOUTS,	/* flows decided without every answer */
	SHMNIC_GWS_NO_SERVER,		/* flows nobody serves: dropped */
	SHMNIC_GWS_PENDING_FULL,	/* packets dropped waiting */
	SHMNIC_GWS_FRAGMENTS,		/* fragments (no defragmenter) dropped */
	SHMNIC_GWS_TX_ERRORS,		/* forwarding failed */
	SHMNIC_GWS_FLOWS_NEW,
	SHMNIC_GWS_FLOWS_FULL,		/* no room in the flow table */
	SHMNIC_GWS_FLOWS_EVICTED,
	SHMNIC_GWS_FLOWS_CLOSED,	/* reset */
	SHMNIC_GWS_FLOWS_EXPIRED,
	SHMNIC_GWS_FLOWS_PURGED,	/* their node went away */
	SHMNIC_GWS_ANSWERED,		/* other gateways' queries answered */
	SHMNIC_GWS_NO_CONN,		/* TCP segments of no connection, not a
					 * SYN: left to our stack (a reset)
					 */
	SHMNIC_GWS_FLOWS_ADOPTED,	/* copied from another gateway's part */
	SHMNIC_GWS_PUBLISHED,		/* new flows sent by the published
					 * listeners, without a query
					 */
	SHMNIC_GWS_LISTEN_BAD,		/* published entries ignored */
	SHMNIC_GWS_HANDED_BACK,		/* new flows we no longer serve, sent
					 * back to their gateway
					 */
	SHMNIC_GWS_HANDBACKS,		/* such flows handed back to us */
	SHMNIC_GWS_LISTEN_WALK_US,	/* the last walk of our sockets (a
					 * gauge)
					 */
	SHMNIC_GWS_LISTENERS,		/* entries on our page (a gauge) */
	SHMNIC_GWS_MAX
};

struct shmnic_globals {
	u32 n;
	struct {
		u8 family;		/* 4 or 6 */
		u8 addr[16];
	} a[SHMNIC_MAX_GLOBALS];
	struct rcu_head rcu;
};

/* What the hook found in a packet. */
struct shmnic_gw_pkt {
	struct shmnic_flow_key key;
	bool syn, ack, fin, rst;
	bool icmp;			/* an ICMP error quoting the flow */
};

/* A flow waiting for the other nodes' answers. */
struct shmnic_gw_pend {
	struct hlist_node node;
	struct shmnic_flow_key key;
	u32 hash;
	u32 id;
	int conn;			/* node with the connection, or -1 */
	u8 state;			/* SHMNIC_FS_* to record, or FREE: none */
	bool opens;			/* a packet may start the flow (UDP, SYN) */
	unsigned long deadline;
	DECLARE_BITMAP(asked, SHMNIC_MAX_NODES);	/* not answered yet */
	DECLARE_BITMAP(listen, SHMNIC_MAX_NODES);
	struct sk_buff_head q;
};

/* What the nodes last answered about a service: a GLOBAL address, a
 * protocol and a port. A node that answers a query late counts as
 * listening if its last answer for the service, in its current epoch, was
 * that it listens.
 */
struct shmnic_gw_svc_key {
	u8 family;
	u8 proto;
	u16 dport;
	u8 daddr[16];
};

struct shmnic_gw_svc {
	struct hlist_node node;
	struct shmnic_gw_svc_key key;
	DECLARE_BITMAP(listen, SHMNIC_MAX_NODES);
	u32 epoch[SHMNIC_MAX_NODES];	/* our view of the node's, at its answer */
};

/* The Maglev table of the last candidate set a CPU picked from: a table
 * depends only on its set, and filling one is the dear part of a pick.
 */
struct shmnic_gw_maglev {
	u64 set;			/* bit n: node n; 0: nothing yet */
	u8 table[SHMNIC_MAGLEV_M];
};

struct shmnic_gw {
	struct shmnic_dev *sd;
	struct list_head list;		/* on shmnic_gws, RCU */
	struct mutex conf_lock;		/* writers of globals and policy */
	struct shmnic_globals __rcu *globals;
	u8 policy;			/* enum shmnic_policy */
	atomic_t rr;
	struct shmnic_gw_maglev __percpu *maglev;

	spinlock_t lock;		/* pend, npend, svc, nsvc, next_id, stopped */
	DECLARE_HASHTABLE(pend, 6);
	u32 npend;
	DECLARE_HASHTABLE(svc, 4);
	u32 nsvc;
	u32 next_id;
	bool stopped;
	struct timer_list timer;	/* query deadlines */

	/* Our published listeners (gw_listen.c; the heartbeat timer only):
	 * what the walk found, and what our page holds.
	 */
	struct shmnic_listener *walk;
	struct shmnic_listener *published;
	u32 nwalk, npublished, walk_flags, published_flags, published_epoch;

	spinlock_t flow_lock;		/* writes to our part */
	struct shmnic_flow *part;	/* our part of the flow table */
	u32 age_next;			/* heartbeat timer */

	atomic64_t stats[SHMNIC_GWS_MAX];
};

/* May @pk start a flow on a listening node? UDP yes, TCP only a SYN. */
static inline bool shmnic_gw_pkt_opens(const struct shmnic_gw_pkt *pk)
{
	return pk->key.proto == IPPROTO_UDP ||
	       shmnic_flow_tcp_opens(pk->syn, pk->ack, pk->fin, pk->rst);
}

static inline void shmnic_gw_count(struct shmnic_gw *gw,
				   enum shmnic_gw_stat s)
{
	atomic64_inc(&gw->stats[s]);
}

/* gw_flow.c */
u32 shmnic_flow_clock(const struct shmnic_dev *sd, u32 id);
bool shmnic_flow_live(const struct shmnic_dev *sd, u32 id,
		      const struct shmnic_flow *f);
int shmnic_gw_flow_lookup(struct shmnic_gw *gw,
			  const struct shmnic_flow_key *k, u32 hash,
			  struct shmnic_flow *f, int *own);
u8 shmnic_gw_tcp_state(u8 old, bool syn, bool ack, bool fin);
void shmnic_gw_flow_add(struct shmnic_gw *gw, const struct shmnic_flow_key *k,
			u32 hash, u32 node, u8 state, bool adopted);
void shmnic_gw_flow_adopt(struct shmnic_gw *gw, const struct shmnic_gw_pkt *pk,
			  u32 hash, const struct shmnic_flow *f);
void shmnic_gw_flow_touch(struct shmnic_gw *gw, int i,
			  const struct shmnic_flow *f,
			  const struct shmnic_gw_pkt *pk);
void shmnic_gw_flow_age(struct shmnic_gw *gw);
void shmnic_gw_flow_forget(struct shmnic_gw *gw,
			   const struct shmnic_flow_key *k, u32 hash, u32 node);
bool shmnic_gw_flow_get(struct shmnic_dev *sd, u32 gw, u32 i,
			struct shmnic_flow *f, u32 *idle_ms);

/* gw.c */
u32 shmnic_gw_stat_count(void);
void shmnic_gw_stat_strings(u8 **buf);
u64 *shmnic_gw_stat_fetch(struct shmnic_dev *sd, u64 *data);

/* gw_query.c */
void shmnic_gw_query_init(struct shmnic_gw *gw);
void shmnic_gw_query_stop(struct shmnic_gw *gw);
u32 shmnic_gw_sock_lookup(struct shmnic_dev *sd,
			  const struct shmnic_flow_key *k);
void shmnic_gw_ask(struct shmnic_gw *gw, struct sk_buff *skb,
		   const struct shmnic_gw_pkt *pk, u32 hash, u32 local);
u32 shmnic_gw_pick(struct shmnic_gw *gw, const u8 *ids, u32 n, u32 hash);
void shmnic_gw_svc_forget(struct shmnic_gw *gw, u32 node,
			  const struct shmnic_flow_key *k);

/* gw_listen.c */
int shmnic_gw_listen_init(struct shmnic_gw *gw);
void shmnic_gw_listen_free(struct shmnic_gw *gw);
void shmnic_gw_listen_walk(struct shmnic_gw *gw);
u32 shmnic_gw_published(struct shmnic_gw *gw, const struct shmnic_flow_key *k,
			u8 *ids);
unsigned int shmnic_gw_arrived(struct shmnic_gw *gw, struct sk_buff *skb,
			       const struct shmnic_gw_pkt *pk);
void shmnic_gw_handback_rcv(struct shmnic_gw *gw, u32 from, const void *data,
			    u32 len);

/* gw_fwd.c */
void shmnic_gw_up(struct shmnic_gw *gw, struct sk_buff *skb);
void shmnic_gw_send(struct shmnic_gw *gw, struct sk_buff *skb, u32 node);

/* gw_addr.c */
bool shmnic_gw_is_global(const struct shmnic_gw *gw, u8 family,
			 const void *addr);
void shmnic_gw_globals_free(struct shmnic_gw *gw);

/* gw_parse.c */
int shmnic_gw_parse4(struct sk_buff *skb, struct shmnic_gw_pkt *pk);
int shmnic_gw_parse6(struct sk_buff *skb, struct shmnic_gw_pkt *pk);

#endif /* _DRIVERS_NET_SHMNIC_GW_H */
