/* SPDX-License-Identifier: GPL-2.0 */
/* Stand-in for the range test: min() and max() are in tools' kernel.h. */
#ifndef _RANGE_TEST_LINUX_MINMAX_H
#define _RANGE_TEST_LINUX_MINMAX_H

#include <linux/kernel.h>

#endif /* _RANGE_TEST_LINUX_MINMAX_H */
