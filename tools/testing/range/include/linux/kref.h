/* SPDX-License-Identifier: GPL-2.0 */
/* Stand-in for the range test, which takes no references. */
#ifndef _RANGE_TEST_LINUX_KREF_H
#define _RANGE_TEST_LINUX_KREF_H

struct kref {
	int refcount;
};

#endif /* _RANGE_TEST_LINUX_KREF_H */
