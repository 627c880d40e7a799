// SPDX-License-Identifier: GPL-2.0
/* vm_flags_clear(): vm_flags became read-only behind accessors (6.3). */
#include <linux/mm.h>

void probe(struct vm_area_struct *vma);
void probe(struct vm_area_struct *vma)
{
	vm_flags_clear(vma, VM_MAYWRITE);
}
