/* SPDX-License-Identifier: GPL-2.0 */
/* Stand-in for the range test, which never waits. */
#ifndef _RANGE_TEST_LINUX_WAIT_H
#define _RANGE_TEST_LINUX_WAIT_H

struct wait_queue_head {
	int unused;
};

/* A typedef in the kernel. */
#define wait_queue_head_t	struct wait_queue_head

#endif /* _RANGE_TEST_LINUX_WAIT_H */
