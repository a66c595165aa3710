// SPDX-License-Identifier: GPL-2.0
/*
 * shmnic: Ethernet over memory shared by the virtual machines of one host
 * (QEMU ivshmem). Module init and exit, in mirror order.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>

#include "shmnic.h"

static int __init shmnic_init(void)
{
	int err;

	/* The family first: probe() adds devices its handlers look up. */
	err = shmnic_genl_init();
	if (err)
		return err;
	err = shmnic_gw_register();
	if (err)
		goto err_genl;
	err = shmnic_pci_init();
	if (err)
		goto err_gw;
	return 0;

err_gw:
	shmnic_gw_unregister();
err_genl:
	shmnic_genl_exit();
	return err;
}

static void __exit shmnic_exit(void)
{
	/* remove() takes each device off the family's list before it tears
	 * it down, and stops its timers: once the driver is gone, nothing
	 * sends an event and no request finds a device.
	 */
	shmnic_pci_exit();
	shmnic_gw_unregister();
	shmnic_genl_exit();
}

module_init(shmnic_init);
module_exit(shmnic_exit);

MODULE_DESCRIPTION("Ethernet over ivshmem shared memory");
MODULE_AUTHOR("The shmnic authors");
MODULE_LICENSE("GPL");
MODULE_VERSION(SHMNIC_VERSION);
