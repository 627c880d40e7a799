/* SPDX-License-Identifier: GPL-2.0 */
/* Stand-in for the range test: every warning is counted, and fails it. */
#ifndef _RANGE_TEST_LINUX_BUG_H
#define _RANGE_TEST_LINUX_BUG_H

#include <stdbool.h>

void range_test_warn(const char *file, int line, const char *cond);

#define WARN_ON(cond) ({						\
	bool __warned = !!(cond);					\
	if (__warned)							\
		range_test_warn(__FILE__, __LINE__, #cond);		\
	__warned;							\
})
#define WARN_ON_ONCE(cond)	WARN_ON(cond)

#endif /* _RANGE_TEST_LINUX_BUG_H */
