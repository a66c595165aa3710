// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink family "shmnic" (include/uapi/linux/shmnic.h): the
 * region geometry, the node table as this node sees it, ring depth and MTU,
 * GLOBAL addresses, the dispatch policy, the flow table, and node and flow
 * events.
 *
 * The handlers find devices in shmnic_devs, under shmnic_devs_lock, which
 * they hold for the whole request: remove() takes a device off the list
 * first, so no handler uses a device being torn down. Lock order: RTNL,
 * then shmnic_devs_lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/etherdevice.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/rtnetlink.h>
#include <net/genetlink.h>
#include <net/ipv6.h>
#include <net/netlink.h>
#include <net/sock.h>

#include <uapi/linux/shmnic.h>

#include "shmnic.h"
#include "gw.h"
#include "genl.h"

/* Entries a dump call looks at before it ends with what it has */
#define SHMNIC_DUMP_BATCH	4096

static LIST_HEAD(shmnic_devs);
static DEFINE_MUTEX(shmnic_devs_lock);
static unsigned int shmnic_devs_gen;	/* bumped at every change */

static struct genl_family shmnic_genl_family;

enum {
	SHMNIC_MCGRP_EVENTS,
};

static const struct genl_multicast_group shmnic_mcgrps[] = {
	[SHMNIC_MCGRP_EVENTS] = { .name = SHMNIC_GENL_MCGRP_EVENTS },
};

/* not const: 6.1 takes a plain pointer */
static struct netlink_range_validation shmnic_mtu_range = {
	.min = ETH_MIN_MTU,
	.max = 65535,
};

static struct netlink_range_validation shmnic_depth_range = {
	.min = SHMNIC_MIN_SLOTS,
	.max = SHMNIC_MAX_SLOTS,
};

static const struct nla_policy shmnic_get_policy[SHMNIC_A_MAX + 1] = {
	[SHMNIC_A_IFINDEX] = NLA_POLICY_MIN(NLA_U32, 1),
};

static const struct nla_policy shmnic_set_policy[SHMNIC_A_MAX + 1] = {
	[SHMNIC_A_IFINDEX] = NLA_POLICY_MIN(NLA_U32, 1),
	[SHMNIC_A_POLICY] = NLA_POLICY_RANGE(NLA_U8, SHMNIC_POLICY_HASH,
					     SHMNIC_POLICY_MAX),
	[SHMNIC_A_RX_DEPTH] = NLA_POLICY_FULL_RANGE(NLA_U32,
						    &shmnic_depth_range),
	[SHMNIC_A_MTU] = NLA_POLICY_FULL_RANGE(NLA_U32, &shmnic_mtu_range),
};

static const struct nla_policy shmnic_global_policy[SHMNIC_A_MAX + 1] = {
	[SHMNIC_A_IFINDEX] = NLA_POLICY_MIN(NLA_U32, 1),
	[SHMNIC_A_ADDR] = NLA_POLICY_RANGE(NLA_BINARY, 4, 16),
};

void shmnic_genl_add(struct shmnic_dev *sd)
{
	mutex_lock(&shmnic_devs_lock);
	list_add_tail(&sd->genl_node, &shmnic_devs);
	shmnic_devs_gen++;
	mutex_unlock(&shmnic_devs_lock);
}

void shmnic_genl_del(struct shmnic_dev *sd)
{
	mutex_lock(&shmnic_devs_lock);
	list_del_init(&sd->genl_node);
	shmnic_devs_gen++;
	mutex_unlock(&shmnic_devs_lock);
}

static bool shmnic_dev_is(const struct shmnic_dev *sd, u32 ifindex)
{
	return sd->local->ndev->ifindex == ifindex ||
	       sd->global->ndev->ifindex == ifindex;
}

/* The device whose shml0 or shmg0 is @ifindex in @net; NULL and a message
 * if none.
 */
static struct shmnic_dev *shmnic_genl_find(struct net *net,
					   const struct nlattr *attr,
					   struct netlink_ext_ack *extack)
{
	struct shmnic_dev *sd;
	u32 ifindex = attr ? nla_get_u32(attr) : 0;

	lockdep_assert_held(&shmnic_devs_lock);
	list_for_each_entry(sd, &shmnic_devs, genl_node) {
		struct net_device *ndev = sd->local->ndev;

		if (!net_eq(dev_net(ndev), net))
			continue;
		if (!ifindex || shmnic_dev_is(sd, ifindex))
			return sd;
	}
	if (attr)
		NL_SET_ERR_MSG_ATTR(extack, attr, "no shmnic device with this ifindex");
	else
		NL_SET_ERR_MSG(extack, "no shmnic device in this network namespace");
	return NULL;
}

static int shmnic_get_region_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct shmnic_dev *sd;
	struct sk_buff *msg;
	void *hdr;
	int err;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &shmnic_genl_family, 0,
				SHMNIC_CMD_GET_REGION);
	if (!hdr) {
		err = -EMSGSIZE;
		goto err_free;
	}

	mutex_lock(&shmnic_devs_lock);
	sd = shmnic_genl_find(genl_info_net(info),
			      info->attrs[SHMNIC_A_IFINDEX], info->extack);
	err = sd ? shmnic_put_region(msg, sd) : -ENODEV;
	mutex_unlock(&shmnic_devs_lock);
	if (err)
		goto err_free;

	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_free:
	nlmsg_free(msg);
	return err;
}

/* One message of a dump: item @i of device @sd, or -ENOENT to skip it. */
typedef int (*shmnic_dump_put_t)(struct sk_buff *skb, struct shmnic_dev *sd,
				 u64 i);

/* Dump @count(sd) items of each device of the requester's namespace (or of
 * the one named by SHMNIC_A_IFINDEX), each as one @cmd message holding
 * SHMNIC_A_IFINDEX and what @put adds. cb->args[0]: devices done, [1]: next
 * item of the current device.
 */
static int shmnic_dump(struct sk_buff *skb, struct netlink_callback *cb,
		       u8 cmd, u64 (*count)(const struct shmnic_dev *sd),
		       shmnic_dump_put_t put)
{
	const struct nlattr *ifattr = shmnic_dump_attrs(cb)[SHMNIC_A_IFINDEX];
	struct net *net = sock_net(skb->sk);
	struct shmnic_dev *sd;
	unsigned long devno = 0;
	u64 scanned = 0;
	int err = 0, ret;

	mutex_lock(&shmnic_devs_lock);
	cb->seq = shmnic_devs_gen;
	if (ifattr && !cb->args[0] && !cb->args[1] &&
	    !shmnic_genl_find(net, ifattr, cb->extack)) {
		err = -ENODEV;
		goto out;
	}
	list_for_each_entry(sd, &shmnic_devs, genl_node) {
		struct net_device *ndev = sd->local->ndev;
		u64 i, n = count(sd);

		if (!net_eq(dev_net(ndev), net) ||
		    (ifattr && !shmnic_dev_is(sd, nla_get_u32(ifattr))))
			continue;
		if (devno++ < cb->args[0])
			continue;
		for (i = cb->args[1]; i < n; i++) {
			void *hdr;

			/* The flow table has up to 64 x 65536 entries, most
			 * of them empty: end the call after a batch once
			 * something is in the message, else yield.
			 */
			if (++scanned % SHMNIC_DUMP_BATCH == 0) {
				if (skb->len) {
					cb->args[1] = i;
					goto out;
				}
				cond_resched();
			}
			hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
					  cb->nlh->nlmsg_seq,
					  &shmnic_genl_family, NLM_F_MULTI, cmd);
			if (!hdr) {
				ret = -EMSGSIZE;
				goto full;
			}
			genl_dump_check_consistent(cb, hdr);
			ret = nla_put_u32(skb, SHMNIC_A_IFINDEX, ndev->ifindex);
			if (!ret)
				ret = put(skb, sd, i);
			if (ret) {
				genlmsg_cancel(skb, hdr);
				if (ret != -ENOENT)
					goto full;
				continue;
			}
			genlmsg_end(skb, hdr);
			cb->args[1] = i + 1;
		}
		cb->args[0]++;
		cb->args[1] = 0;
	}
	goto out;
full:
	/* The next call goes on after the last item put (cb->args[1]); an
	 * item that does not fit even an empty message would end the dump
	 * early without a word: say why.
	 */
	if (!skb->len)
		err = ret;
out:
	mutex_unlock(&shmnic_devs_lock);
	return err ? err : skb->len;
}

static u64 shmnic_node_count(const struct shmnic_dev *sd)
{
	return shmnic_nodes(sd);
}

static int shmnic_dump_node(struct sk_buff *skb, struct shmnic_dev *sd, u64 i)
{
	return shmnic_put_node(skb, sd, i);
}

static int shmnic_get_nodes_dumpit(struct sk_buff *skb,
				   struct netlink_callback *cb)
{
	return shmnic_dump(skb, cb, SHMNIC_CMD_GET_NODES, shmnic_node_count,
			   shmnic_dump_node);
}

static int shmnic_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *depth_attr = info->attrs[SHMNIC_A_RX_DEPTH];
	struct nlattr *mtu_attr = info->attrs[SHMNIC_A_MTU];
	struct nlattr *policy_attr = info->attrs[SHMNIC_A_POLICY];
	struct netlink_ext_ack *extack = info->extack;
	struct shmnic_dev *sd;
	u32 depth = 0;
	int err = 0;

	if (GENL_REQ_ATTR_CHECK(info, SHMNIC_A_IFINDEX))
		return -EINVAL;
	if (!depth_attr && !mtu_attr && !policy_attr) {
		NL_SET_ERR_MSG(extack, "nothing to set: give a ring depth, an MTU or a policy");
		return -EINVAL;
	}

	rtnl_lock();
	mutex_lock(&shmnic_devs_lock);
	sd = shmnic_genl_find(genl_info_net(info),
			      info->attrs[SHMNIC_A_IFINDEX], extack);
	if (!sd) {
		err = -ENODEV;
		goto out;
	}
	/* Check both before changing either. */
	if (depth_attr) {
		depth = nla_get_u32(depth_attr);
		if (!shmnic_depth_valid(&sd->lay.g, depth)) {
			NL_SET_ERR_MSG_ATTR(extack, depth_attr,
					    "ring depth must be a power of two with room for two 64 KiB frames, at most the region's ring_slots");
			err = -EINVAL;
			goto out;
		}
	}
	if (mtu_attr) {
		u32 ifindex = nla_get_u32(info->attrs[SHMNIC_A_IFINDEX]);
		struct net_device *ndev = sd->global->ndev->ifindex == ifindex ?
					  sd->global->ndev : sd->local->ndev;
		u32 mtu = nla_get_u32(mtu_attr);

		if (mtu < ndev->min_mtu || mtu > ndev->max_mtu) {
			NL_SET_ERR_MSG_ATTR(extack, mtu_attr,
					    "MTU out of the device's range (ip -d link: minmtu, maxmtu)");
			err = -EINVAL;
			goto out;
		}
		err = dev_set_mtu(ndev, mtu);
		if (err) {
			NL_SET_ERR_MSG_ATTR(extack, mtu_attr,
					    "the device refused this MTU");
			goto out;
		}
	}
	if (depth_attr) {
		err = shmnic_set_rx_depth(sd, depth);
		if (err)
			NL_SET_ERR_MSG_ATTR(extack, depth_attr,
					    "cannot set the ring depth");
	}
	if (!err && policy_attr)
		shmnic_gw_set_policy(sd, nla_get_u8(policy_attr));
out:
	mutex_unlock(&shmnic_devs_lock);
	rtnl_unlock();
	return err;
}

/* Unicast, not unspecified, loopback or (IPv4) broadcast. */
static bool shmnic_global_addr_ok(const void *addr, int len)
{
	__be32 a4;

	if (len == 16)
		return !ipv6_addr_any(addr) && !ipv6_addr_loopback(addr) &&
		       !ipv6_addr_is_multicast(addr);
	memcpy(&a4, addr, 4);
	return !ipv4_is_zeronet(a4) && !ipv4_is_loopback(a4) &&
	       !ipv4_is_multicast(a4) && !ipv4_is_lbcast(a4);
}

static int shmnic_global_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *addr = info->attrs[SHMNIC_A_ADDR];
	struct shmnic_dev *sd;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, SHMNIC_A_IFINDEX) ||
	    GENL_REQ_ATTR_CHECK(info, SHMNIC_A_ADDR))
		return -EINVAL;
	if (nla_len(addr) != 4 && nla_len(addr) != 16) {
		NL_SET_ERR_MSG_ATTR(info->extack, addr,
				    "an address is 4 (IPv4) or 16 (IPv6) bytes");
		return -EINVAL;
	}
	if (!shmnic_global_addr_ok(nla_data(addr), nla_len(addr))) {
		NL_SET_ERR_MSG_ATTR(info->extack, addr,
				    "a GLOBAL address must be a unicast address");
		return -EINVAL;
	}
	mutex_lock(&shmnic_devs_lock);
	sd = shmnic_genl_find(genl_info_net(info),
			      info->attrs[SHMNIC_A_IFINDEX], info->extack);
	err = sd ? shmnic_gw_global_set(sd, nla_data(addr), nla_len(addr),
					info->genlhdr->cmd ==
						SHMNIC_CMD_GLOBAL_ADD,
					info->extack) : -ENODEV;
	mutex_unlock(&shmnic_devs_lock);
	return err;
}

static u64 shmnic_flow_count(const struct shmnic_dev *sd)
{
	return (u64)shmnic_nodes(sd) * sd->lay.g.flow_slots;
}

/* Entry @at of the flow table (gateway at / flow_slots), if live. */
static int shmnic_dump_flow(struct sk_buff *skb, struct shmnic_dev *sd, u64 at)
{
	struct shmnic_flow f;
	u32 gw, i, idle;

	gw = div_u64_rem(at, sd->lay.g.flow_slots, &i);
	if (!shmnic_gw_flow_get(sd, gw, i, &f, &idle))
		return -ENOENT;
	return shmnic_put_flow(skb, &f, gw, idle, 0);
}

static int shmnic_get_flows_dumpit(struct sk_buff *skb,
				   struct netlink_callback *cb)
{
	return shmnic_dump(skb, cb, SHMNIC_CMD_GET_FLOWS, shmnic_flow_count,
			   shmnic_dump_flow);
}

static u64 shmnic_stats_count(const struct shmnic_dev *sd)
{
	return shmnic_nodes(sd);
}

static int shmnic_dump_stats(struct sk_buff *skb, struct shmnic_dev *sd, u64 i)
{
	/* Only this message's header and SHMNIC_A_IFINDEX in the skb. */
	bool first = skb->len <= NLMSG_HDRLEN + GENL_HDRLEN +
				 nla_total_size(sizeof(u32));

	return shmnic_put_stats(skb, sd, i, first);
}

static int shmnic_get_stats_dumpit(struct sk_buff *skb,
				   struct netlink_callback *cb)
{
	return shmnic_dump(skb, cb, SHMNIC_CMD_GET_STATS, shmnic_stats_count,
			   shmnic_dump_stats);
}

static const struct genl_ops shmnic_genl_ops[] = {
	{
		.cmd = SHMNIC_CMD_GET_REGION,
		.doit = shmnic_get_region_doit,
		.policy = shmnic_get_policy,
		.maxattr = SHMNIC_A_MAX,
	},
	{
		.cmd = SHMNIC_CMD_GET_NODES,
		.dumpit = shmnic_get_nodes_dumpit,
		.policy = shmnic_get_policy,
		.maxattr = SHMNIC_A_MAX,
	},
	{
		.cmd = SHMNIC_CMD_SET,
		.doit = shmnic_set_doit,
		.policy = shmnic_set_policy,
		.maxattr = SHMNIC_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = SHMNIC_CMD_GLOBAL_ADD,
		.doit = shmnic_global_doit,
		.policy = shmnic_global_policy,
		.maxattr = SHMNIC_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = SHMNIC_CMD_GLOBAL_DEL,
		.doit = shmnic_global_doit,
		.policy = shmnic_global_policy,
		.maxattr = SHMNIC_A_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = SHMNIC_CMD_GET_FLOWS,
		.dumpit = shmnic_get_flows_dumpit,
		.policy = shmnic_get_policy,
		.maxattr = SHMNIC_A_MAX,
		/* the outside peers' addresses, as conntrack -L */
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = SHMNIC_CMD_GET_STATS,
		.dumpit = shmnic_get_stats_dumpit,
		.policy = shmnic_get_policy,
		.maxattr = SHMNIC_A_MAX,
	},
};

static struct genl_family shmnic_genl_family __ro_after_init = {
	.name = SHMNIC_GENL_NAME,
	.version = SHMNIC_GENL_VERSION,
	.maxattr = SHMNIC_A_MAX,
	.netnsok = true,
	.module = THIS_MODULE,
	.ops = shmnic_genl_ops,
	.n_ops = ARRAY_SIZE(shmnic_genl_ops),
	.mcgrps = shmnic_mcgrps,
	.n_mcgrps = ARRAY_SIZE(shmnic_mcgrps),
};

/* A notification @cmd about device @ndev holding SHMNIC_A_IFINDEX, or
 * NULL when nobody listens (or no memory). Under RCU; @hdr for
 * shmnic_event_send().
 */
static struct sk_buff *shmnic_event_start(struct net_device *ndev, u8 cmd,
					  void **hdr)
{
	struct sk_buff *msg;

	if (!genl_has_listeners(&shmnic_genl_family, dev_net(ndev),
				SHMNIC_MCGRP_EVENTS))
		return NULL;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_ATOMIC);
	if (!msg)
		return NULL;
	*hdr = genlmsg_put(msg, 0, 0, &shmnic_genl_family, 0, cmd);
	if (!*hdr || nla_put_u32(msg, SHMNIC_A_IFINDEX, ndev->ifindex)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

static void shmnic_event_send(struct net_device *ndev, struct sk_buff *msg,
			      void *hdr)
{
	genlmsg_end(msg, hdr);
	genlmsg_multicast_netns(&shmnic_genl_family, dev_net(ndev), msg, 0,
				SHMNIC_MCGRP_EVENTS, GFP_ATOMIC);
}

/* Node @id went up or down, or came back with a new epoch. Any context. */
void shmnic_genl_node_event(struct shmnic_dev *sd, u32 id, bool up, u32 epoch)
{
	struct net_device *ndev = sd->local ? sd->local->ndev : NULL;
	struct nlattr *nest;
	struct sk_buff *msg;
	void *hdr;

	if (!ndev)
		return;
	rcu_read_lock();
	msg = shmnic_event_start(ndev, SHMNIC_CMD_NODE_EVENT, &hdr);
	if (!msg)
		goto out;
	nest = nla_nest_start(msg, SHMNIC_A_NODE);
	if (!nest ||
	    nla_put_u32(msg, SHMNIC_NODE_A_ID, id) ||
	    nla_put_u8(msg, SHMNIC_NODE_A_STATE, up ? SHMNIC_NODE_STATE_UP :
						   SHMNIC_NODE_STATE_DOWN) ||
	    nla_put_u32(msg, SHMNIC_NODE_A_EPOCH, epoch)) {
		nlmsg_free(msg);
		goto out;
	}
	nla_nest_end(msg, nest);
	shmnic_event_send(ndev, msg, hdr);
out:
	rcu_read_unlock();
}

/* A flow was added to or removed from our part of the flow table. Any
 * context.
 */
void shmnic_genl_flow_event(struct shmnic_dev *sd, const struct shmnic_flow *f,
			    u32 gw, u32 idle_ms, u8 cmd, u8 reason)
{
	struct net_device *ndev = sd->local->ndev;
	struct sk_buff *msg;
	void *hdr;

	rcu_read_lock();
	msg = shmnic_event_start(ndev, cmd, &hdr);
	if (msg && shmnic_put_flow(msg, f, gw, idle_ms, reason))
		nlmsg_free(msg);
	else if (msg)
		shmnic_event_send(ndev, msg, hdr);
	rcu_read_unlock();
}

int __init shmnic_genl_init(void)
{
	return genl_register_family(&shmnic_genl_family);
}

/* After the PCI driver: no device is left to send an event. */
void shmnic_genl_exit(void)
{
	genl_unregister_family(&shmnic_genl_family);
}
