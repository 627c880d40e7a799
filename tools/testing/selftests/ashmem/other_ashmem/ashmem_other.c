// SPDX-License-Identifier: GPL-2.0
/*
 * A stand-in for another ashmem driver (ashmem_linux from Anbox or
 * redroid): it only takes the name /dev/ashmem, so that the tests can
 * check that ashmem refuses to load beside it, cleanly.
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>

static const struct file_operations ashmem_other_fops = {
	.owner	= THIS_MODULE,
};

static struct miscdevice ashmem_other_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "ashmem",
	.fops	= &ashmem_other_fops,
};
module_misc_device(ashmem_other_misc);

MODULE_DESCRIPTION("Test module: another driver's /dev/ashmem");
MODULE_LICENSE("GPL");
