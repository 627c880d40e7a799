/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR Apache-2.0 */
/*
 * Android anonymous shared memory (ashmem): the userspace ABI of /dev/ashmem.
 *
 * Each open file of /dev/ashmem is one region. Give it a name and a size,
 * then mmap() it; the memory is shared by every mapping, fork child and
 * descriptor passed over a unix socket. Unpinned pages may be purged by the
 * kernel under memory pressure; a later PIN reports whether that happened.
 *
 * Usable from C and C++ with only <linux/ioctl.h> and <linux/types.h>.
 */
#ifndef _UAPI_LINUX_ASHMEM_H
#define _UAPI_LINUX_ASHMEM_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define ASHMEM_NAME_LEN		256

/* What GET_NAME returns for a region that was never named. */
#define ASHMEM_NAME_DEF		"dev/ashmem"

/* Return values from ASHMEM_PIN: was the range purged while unpinned? */
#define ASHMEM_NOT_PURGED	0
#define ASHMEM_WAS_PURGED	1

/* Return values from ASHMEM_GET_PIN_STATUS: is any page of it unpinned? */
#define ASHMEM_IS_UNPINNED	0
#define ASHMEM_IS_PINNED	1

/*
 * A range of a region for PIN, UNPIN and GET_PIN_STATUS, in bytes.
 * Both fields must be multiples of the page size. len == 0 means "from
 * offset to the end of the region", computed in 64 bits, so it reaches the
 * real end of regions larger than 4 GiB. The empty range at the end
 * (offset equal to the size rounded up to pages, len == 0) is accepted and
 * does nothing: PIN answers ASHMEM_NOT_PURGED, UNPIN 0, GET_PIN_STATUS
 * ASHMEM_IS_PINNED.
 */
struct ashmem_pin {
	__u32 offset;	/* offset into the region, in bytes */
	__u32 len;	/* length from offset, in bytes */
};

#define __ASHMEMIOC		0x77

#define ASHMEM_SET_NAME		_IOW(__ASHMEMIOC, 1, char[ASHMEM_NAME_LEN])
#define ASHMEM_GET_NAME		_IOR(__ASHMEMIOC, 2, char[ASHMEM_NAME_LEN])
#define ASHMEM_SET_SIZE		_IOW(__ASHMEMIOC, 3, __kernel_size_t)
#define ASHMEM_GET_SIZE		_IO(__ASHMEMIOC, 4)
#define ASHMEM_SET_PROT_MASK	_IOW(__ASHMEMIOC, 5, unsigned long)
#define ASHMEM_GET_PROT_MASK	_IO(__ASHMEMIOC, 6)
#define ASHMEM_PIN		_IOW(__ASHMEMIOC, 7, struct ashmem_pin)
#define ASHMEM_UNPIN		_IOW(__ASHMEMIOC, 8, struct ashmem_pin)
#define ASHMEM_GET_PIN_STATUS	_IO(__ASHMEMIOC, 9)
#define ASHMEM_PURGE_ALL_CACHES	_IO(__ASHMEMIOC, 10)
#define ASHMEM_GET_FILE_ID	_IOR(__ASHMEMIOC, 11, unsigned long)

#endif /* _UAPI_LINUX_ASHMEM_H */
