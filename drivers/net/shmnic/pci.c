// SPDX-License-Identifier: GPL-2.0
/*
 * The ivshmem PCI device: probe and remove, the BARs (registers, shared
 * memory), interrupts or the polling timer, the doorbell, and the module
 * parameters that shape a region this node formats.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/pci.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/slab.h>

#include "shmnic.h"

static int node_id = -1;
module_param(node_id, int, 0444);
MODULE_PARM_DESC(node_id,
		 "This node's id; default: the ivshmem IVPosition register (needed with ivshmem-plain)");

static uint max_nodes = 8;
module_param(max_nodes, uint, 0444);
MODULE_PARM_DESC(max_nodes, "Nodes in the cluster (used when formatting the region)");

static uint ring_slots = 256;
module_param(ring_slots, uint, 0444);
MODULE_PARM_DESC(ring_slots,
		 "Slots per pair ring, a power of two (used when formatting; halved until the region fits)");

static uint buf_size = 2048;
module_param(buf_size, uint, 0444);
MODULE_PARM_DESC(buf_size, "Bytes per ring slot (used when formatting)");

static uint bcast_slots = 256;
module_param(bcast_slots, uint, 0444);
MODULE_PARM_DESC(bcast_slots, "Slots of the broadcast ring (used when formatting)");

static uint mcast_rings = 8;
module_param(mcast_rings, uint, 0444);
MODULE_PARM_DESC(mcast_rings, "Multicast rings per network, 0..16 (used when formatting)");

static uint flow_slots = 1024;
module_param(flow_slots, uint, 0444);
MODULE_PARM_DESC(flow_slots,
		 "Flow table entries per gateway, a power of two, 64..65536 (used when formatting)");

static bool force_format;
module_param(force_format, bool, 0444);
MODULE_PARM_DESC(force_format,
		 "Format the region whatever it holds: a valid layout, or someone else's data");

static uint poll_us = 200;
module_param(poll_us, uint, 0444);
MODULE_PARM_DESC(poll_us, "Receive polling period without interrupts (ivshmem-plain)");

void shmnic_doorbell(struct shmnic_dev *sd, u32 node, u32 vec)
{
	if (!sd->nvec)
		return;
	if (vec >= sd->nvec)
		vec = sd->nvec - 1;
	writel((node << 16) | vec, sd->regs + IVSHMEM_DOORBELL);
}

static irqreturn_t shmnic_interrupt(int irq, void *data)
{
	struct shmnic_dev *sd = data;

	/* One doorbell for both networks: whichever has work finds it. */
	napi_schedule_irqoff(&sd->local->napi);
	napi_schedule_irqoff(&sd->global->napi);
	return IRQ_HANDLED;
}

static enum hrtimer_restart shmnic_poll_timer(struct hrtimer *t)
{
	struct shmnic_dev *sd = container_of(t, struct shmnic_dev, poll_timer);

	napi_schedule(&sd->local->napi);
	napi_schedule(&sd->global->napi);
	hrtimer_forward_now(t, sd->poll_period);
	return HRTIMER_RESTART;
}

static int shmnic_irqs_request(struct shmnic_dev *sd)
{
	int i, err;

	for (i = 0; i < sd->nvec; i++) {
		err = request_irq(pci_irq_vector(sd->pdev, i), shmnic_interrupt,
				  0, KBUILD_MODNAME, sd);
		if (err)
			goto err_free;
	}
	return 0;

err_free:
	while (--i >= 0)
		free_irq(pci_irq_vector(sd->pdev, i), sd);
	return err;
}

static void shmnic_irqs_free(struct shmnic_dev *sd)
{
	int i;

	for (i = 0; i < sd->nvec; i++)
		free_irq(pci_irq_vector(sd->pdev, i), sd);
}

static int shmnic_map(struct shmnic_dev *sd)
{
	struct pci_dev *pdev = sd->pdev;
	resource_size_t start = pci_resource_start(pdev, 2);
	resource_size_t len = pci_resource_len(pdev, 2);

	sd->regs = pcim_iomap_region(pdev, 0, KBUILD_MODNAME);
	if (IS_ERR(sd->regs))
		return PTR_ERR(sd->regs);

	if (!len)
		return -ENODEV;
	if (!devm_request_mem_region(&pdev->dev, start, len, KBUILD_MODNAME))
		return -EBUSY;
	/* The VMs share the host's coherent memory: map it cacheable. */
	sd->shm = devm_memremap(&pdev->dev, start, len, MEMREMAP_WB);
	if (IS_ERR(sd->shm))
		return PTR_ERR(sd->shm);
	sd->shm_size = len;
	return 0;
}

static int shmnic_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct shmnic_geometry want = {
		.max_nodes = max_nodes,
		.ring_slots = ring_slots,
		.buf_size = buf_size,
		.bcast_slots = bcast_slots,
		.nets = 2,
		.mcast_rings = mcast_rings,
		.flow_slots = flow_slots,
	};
	struct shmnic_dev *sd;
	u32 pos;
	int err;

	sd = devm_kzalloc(&pdev->dev, sizeof(*sd), GFP_KERNEL);
	if (!sd)
		return -ENOMEM;
	sd->pdev = pdev;
	spin_lock_init(&sd->lock);
	spin_lock_init(&sd->ev_lock);
	spin_lock_init(&sd->self_lock);
	INIT_LIST_HEAD(&sd->genl_node);
	pci_set_drvdata(pdev, sd);

	err = pcim_enable_device(pdev);
	if (err)
		return err;
	pci_set_master(pdev);
	err = shmnic_map(sd);
	if (err) {
		dev_err(&pdev->dev, "cannot map the device: %d\n", err);
		return err;
	}

	err = pci_alloc_irq_vectors(pdev, 1, SHMNIC_NVEC, PCI_IRQ_MSIX);
	sd->nvec = err > 0 ? err : 0;

	pos = readl(sd->regs + IVSHMEM_IV_POSITION);
	sd->id = node_id >= 0 ? node_id : pos;
	if (sd->id >= SHMNIC_MAX_NODES) {
		dev_err(&pdev->dev,
			"no node id (IVPosition %d): load with node_id=N\n",
			(int)pos);
		return -EINVAL;
	}

	err = shmnic_region_attach(sd, force_format, &want);
	if (err)
		return err;

	err = shmnic_dev_create(sd);
	if (err)
		return err;

	if (sd->nvec) {
		err = shmnic_irqs_request(sd);
		if (err)
			goto err_dev;
	} else {
		sd->poll_period = ns_to_ktime(max(poll_us, 10U) * NSEC_PER_USEC);
		hrtimer_init(&sd->poll_timer, CLOCK_MONOTONIC,
			     HRTIMER_MODE_REL);
		sd->poll_timer.function = shmnic_poll_timer;
	}

	err = shmnic_dev_start(sd);
	if (err)
		goto err_irqs;
	if (!sd->nvec)
		hrtimer_start(&sd->poll_timer, sd->poll_period,
			      HRTIMER_MODE_REL);

	dev_info(&pdev->dev,
		 "node %u of %u, epoch %u, %s, region %llu MiB, ring %u x %u B\n",
		 sd->id, shmnic_nodes(sd), sd->epoch,
		 sd->nvec ? "doorbell" : "polling", sd->shm_size >> 20,
		 sd->lay.g.ring_slots, sd->lay.g.buf_size);
	return 0;

err_irqs:
	if (sd->nvec)
		shmnic_irqs_free(sd);
err_dev:
	shmnic_dev_destroy(sd);
	return err;
}

static void shmnic_remove(struct pci_dev *pdev)
{
	struct shmnic_dev *sd = pci_get_drvdata(pdev);

	shmnic_dev_stop(sd);
	if (sd->nvec)
		shmnic_irqs_free(sd);
	else
		hrtimer_cancel(&sd->poll_timer);
	shmnic_dev_destroy(sd);
}

static const struct pci_device_id shmnic_pci_ids[] = {
	{ PCI_DEVICE(PCI_VENDOR_ID_REDHAT_QUMRANET, 0x1110) },	/* ivshmem */
	{ }
};
MODULE_DEVICE_TABLE(pci, shmnic_pci_ids);

static struct pci_driver shmnic_pci_driver = {
	.name = KBUILD_MODNAME,
	.id_table = shmnic_pci_ids,
	.probe = shmnic_probe,
	.remove = shmnic_remove,
};

int shmnic_pci_init(void)
{
	return pci_register_driver(&shmnic_pci_driver);
}

void shmnic_pci_exit(void)
{
	pci_unregister_driver(&shmnic_pci_driver);
}
