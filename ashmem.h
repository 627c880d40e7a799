/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal structures of the ashmem driver.
 */
#ifndef _ASHMEM_H
#define _ASHMEM_H

#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/minmax.h>
#include <linux/rbtree.h>
#include <linux/string_helpers.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

/* The userspace ABI header comes first: ASHMEM_NAME_LEN is defined there. */

/* The backing shmem file is named "dev/ashmem/<name>", as Android's is. */
#define ASHMEM_NAME_PREFIX	"dev/ashmem/"
#define ASHMEM_NAME_PREFIX_LEN	(sizeof(ASHMEM_NAME_PREFIX) - 1)
#define ASHMEM_FULL_NAME_LEN	(ASHMEM_NAME_PREFIX_LEN + ASHMEM_NAME_LEN)

#define ASHMEM_PROT_ALL		(PROT_READ | PROT_WRITE | PROT_EXEC)

/*
 * How region names are printed (fdinfo, debugfs, trace events): every
 * byte that is not printable ASCII, and the backslash, escaped as \n, \t,
 * \e, \\ or \xHH, so that a name can neither start a line of its own nor
 * carry terminal controls.
 */
#define ASHMEM_NAME_ESCAPE	(ESCAPE_NAP | ESCAPE_SPACE | ESCAPE_SPECIAL | \
				 ESCAPE_HEX | ESCAPE_APPEND)
#define ASHMEM_NAME_ESCAPE_ALSO	"\\"

/* The length of @name escaped, without the terminating NUL. */
static inline size_t ashmem_escaped_len(const char *name)
{
	return string_escape_str(name, NULL, 0, ASHMEM_NAME_ESCAPE,
				 ASHMEM_NAME_ESCAPE_ALSO);
}

/* Writes @name escaped to @buf of @size bytes, NUL-terminated. */
static inline void ashmem_escape(char *buf, size_t size, const char *name)
{
	size_t len = string_escape_str(name, buf, size - 1, ASHMEM_NAME_ESCAPE,
				       ASHMEM_NAME_ESCAPE_ALSO);

	buf[min(len, size - 1)] = '\0';
}

/**
 * struct ashmem_area - one region: the private data of an open /dev/ashmem
 * @lock:		protects @name, @size, @prot_mask and the creation of
 *			@file; held across the whole of mmap
 * @name:		"dev/ashmem/" followed by the user's name, if any
 * @size:		size in bytes as set by userspace; fixed once @file exists
 * @prot_mask:		PROT_* bits mappings may still ask for
 * @file:		backing shmem file, created by the first mmap; written
 *			once under @lock with release semantics, after which
 *			@size never changes, so readers may load it with
 *			acquire semantics and no lock
 * @ranges_lock:	protects @ranges, @unpinned_pages, @purged_pages,
 *			@idle_ranges, @punch_queue, @queued and @punching;
 *			reclaim only ever trylocks it
 * @ranges:		unpinned ranges, in page units, disjoint and ordered
 * @unpinned_pages:	pages in @ranges
 * @purged_pages:	pages in @ranges that were purged
 * @idle_ranges:	unpurged ranges that reclaim found holding no memory
 * @punch_queue:	purged ranges whose pages are still to be punched
 * @queued:		ranges on @punch_queue
 * @punching:		punches in flight with @ranges_lock dropped
 * @punch_done:		woken when @punching drops to 0; @queued and
 *			@punching are written under @ranges_lock and read
 *			without it by waiters
 * @punch_work:		punches @punch_queue; holds a reference while queued
 * @ref:		the open file holds one reference, @punch_work and
 *			reclaim waiting for it one each
 * @link:		on the list of all areas, under ashmem_regions_lock
 * @pid:		the process that opened it, for debugfs
 */
struct ashmem_area {
	struct mutex lock;		/* see above */
	char name[ASHMEM_FULL_NAME_LEN];
	size_t size;
	unsigned long prot_mask;
	struct file *file;

	struct mutex ranges_lock;	/* see above */
	struct rb_root_cached ranges;
	pgoff_t unpinned_pages;
	pgoff_t purged_pages;
	struct list_head idle_ranges;
	struct list_head punch_queue;
	unsigned long queued;
	unsigned int punching;
	wait_queue_head_t punch_done;
	struct work_struct punch_work;

	struct kref ref;
	struct list_head link;
	pid_t pid;
};

/**
 * struct ashmem_range - pages [@start, @last] of an area, unpinned
 * @node:		in the area's interval tree
 * @start:		first page
 * @last:		last page (inclusive)
 * @subtree_last:	interval tree bookkeeping
 * @lru:		on ashmem_lru (or idle_ranges, if @idle) while not purged;
 *			on the area's punch_queue while @punch_queued;
 *			otherwise free for the local lists the range is
 *			freed through
 * @area:		the area it belongs to
 * @purged:		reclaim took its pages while it was unpinned: they are
 *			punched out, or queued to be (@punch_queued)
 * @punch_queued:	purged, pages not yet punched
 * @idle:		not purged, and on the area's idle_ranges rather than
 *			ashmem_lru: reclaim found it holding no memory
 *
 * All fields are protected by the area's ranges_lock; @lru's linkage on
 * the LRU also by the list_lru lock.
 */
struct ashmem_range {
	struct rb_node node;
	pgoff_t start;
	pgoff_t last;
	pgoff_t subtree_last;
	struct list_head lru;
	struct ashmem_area *area;
	bool purged;
	bool punch_queued;
	bool idle;
};

#endif /* _ASHMEM_H */
