/* SPDX-License-Identifier: GPL-2.0 */
/* Stand-in for the range test, which queues no work. */
#ifndef _RANGE_TEST_LINUX_WORKQUEUE_H
#define _RANGE_TEST_LINUX_WORKQUEUE_H

struct work_struct {
	void (*func)(struct work_struct *work);
};

#endif /* _RANGE_TEST_LINUX_WORKQUEUE_H */
