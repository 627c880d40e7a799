/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stand-in for the range test: what ashmem.h's name escaping refers to.
 * The range code prints no names.
 */
#ifndef _RANGE_TEST_LINUX_STRING_HELPERS_H
#define _RANGE_TEST_LINUX_STRING_HELPERS_H

#include <stdlib.h>

#define ESCAPE_SPACE	0x01
#define ESCAPE_SPECIAL	0x02
#define ESCAPE_NULL	0x04
#define ESCAPE_OCTAL	0x08
#define ESCAPE_HEX	0x10
#define ESCAPE_NA	0x20
#define ESCAPE_NP	0x40
#define ESCAPE_NAP	0x80
#define ESCAPE_APPEND	0x100

static inline int string_escape_str(const char *src, char *dst, size_t sz,
				    unsigned int flags, const char *only)
{
	abort();
}

#endif /* _RANGE_TEST_LINUX_STRING_HELPERS_H */
