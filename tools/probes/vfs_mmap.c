// SPDX-License-Identifier: GPL-2.0
/* vfs_mmap(): call_mmap() renamed, mapping ->mmap_prepare files too. */
#include <linux/fs.h>

int probe(struct file *file, struct vm_area_struct *vma);
int probe(struct file *file, struct vm_area_struct *vma)
{
	return vfs_mmap(file, vma);
}
