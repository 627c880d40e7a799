// SPDX-License-Identifier: GPL-2.0
/* shmem_file_setup() takes a vma_flags_t, from mk_vma_flags() (7.x). */
#include <linux/mm.h>
#include <linux/shmem_fs.h>

struct file *probe(void);
struct file *probe(void)
{
	return shmem_file_setup("probe", 0, mk_vma_flags(VMA_NORESERVE_BIT));
}
