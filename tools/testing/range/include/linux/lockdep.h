/* SPDX-License-Identifier: GPL-2.0 */
/* Stand-in for the range test: the lock must be marked held. */
#ifndef _RANGE_TEST_LINUX_LOCKDEP_H
#define _RANGE_TEST_LINUX_LOCKDEP_H

#include <linux/bug.h>

#define lockdep_assert_held(lock)	WARN_ON(!(lock)->held)

#endif /* _RANGE_TEST_LINUX_LOCKDEP_H */
