// SPDX-License-Identifier: GPL-2.0
/*
 * mm_account_reclaimed_pages(): reclaim_state->reclaimed_slab became
 * ->reclaimed, behind this helper, in 6.4.
 */
#include <linux/swap.h>

void probe(unsigned long pages);
void probe(unsigned long pages)
{
	mm_account_reclaimed_pages(pages);
}
