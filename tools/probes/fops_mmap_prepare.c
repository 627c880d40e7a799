// SPDX-License-Identifier: GPL-2.0
/* file_operations.mmap_prepare, beside .mmap (6.17). */
#include <linux/fs.h>
#include <linux/stddef.h>

int probe(void);
int probe(void)
{
	return offsetof(const struct file_operations, mmap_prepare);
}
