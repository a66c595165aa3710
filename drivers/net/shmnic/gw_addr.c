// SPDX-License-Identifier: GPL-2.0
/* The GLOBAL addresses of a gateway's shmg0, read by the hooks under RCU. */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>

#include "shmnic.h"
#include "gw.h"

/* --- GLOBAL addresses ---------------------------------------------------- */

/* The index of address @addr of @family (4 or 6) in @g, or -1. */
static int shmnic_globals_find(const struct shmnic_globals *g, u8 family,
			       const void *addr)
{
	u32 len = family == 4 ? 4 : 16, i;

	for (i = 0; g && i < g->n; i++)
		if (g->a[i].family == family && !memcmp(g->a[i].addr, addr, len))
			return i;
	return -1;
}

bool shmnic_gw_is_global(const struct shmnic_gw *gw, u8 family,
			 const void *addr)
{
	return shmnic_globals_find(rcu_dereference(gw->globals), family,
				   addr) >= 0;
}

static int shmnic_gw_globals_change(struct shmnic_gw *gw, const void *addr,
				    u32 len, bool add,
				    struct netlink_ext_ack *extack)
{
	struct shmnic_globals *old, *new;
	u8 family = len == 4 ? 4 : 6;
	int found, i;

	old = rcu_dereference_protected(gw->globals,
					lockdep_is_held(&gw->conf_lock));
	found = shmnic_globals_find(old, family, addr);
	if (add && found >= 0)
		return 0;
	if (!add && found < 0) {
		NL_SET_ERR_MSG(extack, "not a GLOBAL address of this device");
		return -ENOENT;
	}
	if (add && old && old->n >= SHMNIC_MAX_GLOBALS) {
		NL_SET_ERR_MSG(extack, "too many GLOBAL addresses");
		return -ENOSPC;
	}
	new = kzalloc(sizeof(*new), GFP_KERNEL);
	if (!new)
		return -ENOMEM;
	for (i = 0; old && i < old->n; i++)
		if (i != found)
			new->a[new->n++] = old->a[i];
	if (add) {
		new->a[new->n].family = family;
		memcpy(new->a[new->n].addr, addr, len);
		new->n++;
	}
	rcu_assign_pointer(gw->globals, new);
	if (old)
		kfree_rcu(old, rcu);
	return 0;
}

/* Add (@add) or remove GLOBAL address @addr of @len bytes. */
int shmnic_gw_global_set(struct shmnic_dev *sd, const void *addr, u32 len,
			 bool add, struct netlink_ext_ack *extack)
{
	struct shmnic_gw *gw = sd->gw;
	int err;

	mutex_lock(&gw->conf_lock);
	err = shmnic_gw_globals_change(gw, addr, len, add, extack);
	mutex_unlock(&gw->conf_lock);
	if (err)
		return err;
	if (len == 4)
		netdev_info(sd->global->ndev, "%s GLOBAL address %pI4\n",
			    add ? "added" : "removed", addr);
	else
		netdev_info(sd->global->ndev, "%s GLOBAL address %pI6c\n",
			    add ? "added" : "removed", addr);
	return 0;
}

/* When the gateway goes: no hook reads the addresses any more. */
void shmnic_gw_globals_free(struct shmnic_gw *gw)
{
	struct shmnic_globals *g;

	mutex_lock(&gw->conf_lock);
	g = rcu_replace_pointer(gw->globals, NULL,
				lockdep_is_held(&gw->conf_lock));
	mutex_unlock(&gw->conf_lock);
	kfree(g);
}
