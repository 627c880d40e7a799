/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/*
 * libashmem: Android's libcutils ashmem API for Linux.
 *
 * Regions live on /dev/ashmem when the ashmem module is loaded (Android
 * 15's /dev/ashmem<boot_id> first, then /dev/ashmem), and on memfd when
 * it is not, as Android itself does; the functions below take either.
 * Errors return -1 with errno set, as the libcutils functions do.
 *
 * Build with `pkg-config --cflags --libs ashmem`.
 */
#ifndef _CUTILS_ASHMEM_H
#define _CUTILS_ASHMEM_H

#include <stddef.h>

#include <linux/ashmem.h>	/* ASHMEM_WAS_PURGED and the ioctls */

#ifdef __cplusplus
extern "C" {
#endif

/*
 * 1 if @fd is a region: an open /dev/ashmem (the device this library opens,
 * compared by st_rdev) or a memfd; 0 otherwise: other files, tmpfs files
 * and bad descriptors included.
 */
int ashmem_valid(int fd);

/*
 * A new region of @size bytes named @name (NULL: unnamed), as a descriptor
 * opened close-on-exec; -1 on error. Names are cut to what the backend
 * keeps: 255 bytes for ashmem, 249 for memfd. The size is fixed from
 * then on.
 */
int ashmem_create_region(const char *name, size_t size);

/*
 * Restricts the PROT_* bits any later mapping of the region may have: 0 on
 * success, -1 with EINVAL if @prot adds a bit. On memfd only PROT_WRITE
 * is enforced, by F_SEAL_FUTURE_WRITE.
 */
int ashmem_set_prot_region(int fd, int prot);

/*
 * Pins or unpins [@offset, @offset + @len) of a mapped region, in bytes,
 * page aligned; @len 0 means to the end. Pinning returns ASHMEM_WAS_PURGED
 * if the kernel dropped unpinned pages of the range meanwhile, else
 * ASHMEM_NOT_PURGED; unpinning returns 0. memfd pages are never purged:
 * both return 0 there. -1 on error (EINVAL past 4 GiB: the ABI's offsets
 * are 32 bits).
 */
int ashmem_pin_region(int fd, size_t offset, size_t len);
int ashmem_unpin_region(int fd, size_t offset, size_t len);

/*
 * The size of the region in bytes, or -1 on error: EOVERFLOW if it is
 * past INT_MAX, on ashmem as on memfd.
 */
int ashmem_get_size_region(int fd);

#ifdef __cplusplus
}
#endif

#endif /* _CUTILS_ASHMEM_H */
