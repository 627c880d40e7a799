/* SPDX-License-Identifier: GPL-2.0 */
/* Stand-in for the range test: pages of 4 KiB, as on x86. */
#ifndef _RANGE_TEST_LINUX_MM_H
#define _RANGE_TEST_LINUX_MM_H

#define PAGE_SHIFT	12
#define PAGE_SIZE	4096UL
#define PAGE_MASK	(~(PAGE_SIZE - 1))
#define PAGE_ALIGN(addr)						\
	(((addr) + (typeof(addr))PAGE_SIZE - 1) & ~((typeof(addr))PAGE_SIZE - 1))

#endif /* _RANGE_TEST_LINUX_MM_H */
