/* SPDX-License-Identifier: GPL-2.0 */
/* Stand-in for the range test: tools' types.h, and what it lacks. */
#ifndef _RANGE_TEST_LINUX_TYPES_H
#define _RANGE_TEST_LINUX_TYPES_H

#include_next <linux/types.h>
#include <sys/types.h>

/* A typedef in the kernel. */
#define pgoff_t	unsigned long

#endif /* _RANGE_TEST_LINUX_TYPES_H */
