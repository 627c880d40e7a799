// SPDX-License-Identifier: GPL-2.0
/*
 * compat_set_desc_from_vma() and __compat_vma_mmap() (7.0): an ->mmap
 * handler runs another file's ->mmap_prepare on its vma in two steps.
 */
#include <linux/fs.h>
#include <linux/mm.h>

int probe(struct file *file, struct vm_area_struct *vma);
int probe(struct file *file, struct vm_area_struct *vma)
{
	struct vm_area_desc desc;

	compat_set_desc_from_vma(&desc, file, vma);
	return __compat_vma_mmap(&desc, vma);
}
