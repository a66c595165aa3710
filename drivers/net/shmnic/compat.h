/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel version differences, in one place. The module is written against
 * the newest API it supports (6.12); older kernels get it here.
 */
#ifndef _DRIVERS_NET_SHMNIC_COMPAT_H
#define _DRIVERS_NET_SHMNIC_COMPAT_H

#include <linux/version.h>
#include <linux/pci.h>
#include <net/genetlink.h>
#include <net/udp.h>

/* The receive path's pages come from a page_pool (receive.c). Every
 * distribution kernel has one (NIC drivers and veth select it); a kernel
 * configured without it cannot load the module.
 */
#if !IS_ENABLED(CONFIG_PAGE_POOL)
#error "shmnic needs a kernel with CONFIG_PAGE_POOL (selected by VETH and most NIC drivers)"
#endif

/* 6.6 split <net/page_pool.h> into types and helpers. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 6, 0)
#include <net/page_pool.h>
#else
#include <net/page_pool/helpers.h>
#endif

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 11, 0)
/* 6.11 added pcim_iomap_region() and deprecated pcim_iomap_table(). */
static inline void __iomem *pcim_iomap_region(struct pci_dev *pdev, int bar,
					      const char *name)
{
	int err = pcim_iomap_regions(pdev, BIT(bar), name);

	return err ? IOMEM_ERR_PTR(err) : pcim_iomap_table(pdev)[bar];
}
#endif

/* The attributes of a dump request, parsed by the core against the policy. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 5, 0)
#define shmnic_dump_attrs(cb) (genl_dumpit_info(cb)->attrs)
#else
#define shmnic_dump_attrs(cb) (genl_info_dump(cb)->attrs)
#endif

/* 6.2 gave each network namespace its own UDP hash table (it may be the
 * shared one).
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
#define shmnic_udp_table(net) (&udp_table)
#else
#define shmnic_udp_table(net) ((net)->ipv4.udp_table)
#endif

#endif /* _DRIVERS_NET_SHMNIC_COMPAT_H */
