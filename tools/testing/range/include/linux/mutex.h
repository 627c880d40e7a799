/* SPDX-License-Identifier: GPL-2.0 */
/* Stand-in for the range test: a flag lockdep_assert_held() checks. */
#ifndef _RANGE_TEST_LINUX_MUTEX_H
#define _RANGE_TEST_LINUX_MUTEX_H

#include <stdbool.h>

struct mutex {
	bool held;
};

#endif /* _RANGE_TEST_LINUX_MUTEX_H */
