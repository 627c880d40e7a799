// SPDX-License-Identifier: GPL-2.0
/*
 * ashmem: Android anonymous shared memory.
 *
 * Each open file of /dev/ashmem is a region: a name, a size and a
 * protection mask, backed from its first mmap by one shmem file that every
 * mapping, fork child and passed descriptor shares. Userspace unpins page
 * ranges it can regenerate; under memory pressure the shrinker punches
 * unpinned pages out of the shmem file, and a later PIN reports that.
 *
 * Locking
 *
 *   ashmem_regions_lock	the list of all areas, for debugfs
 *   mmap_lock
 *     area->lock		name, size, prot_mask, creating area->file
 *
 *   area->ranges_lock		one area's unpinned ranges and page counts
 *     list_lru lock		ashmem_lru, the unpurged ranges of all areas
 *
 * area->lock and area->ranges_lock never nest. Reclaim holds the list_lru
 * lock and only trylocks area->ranges_lock, then drops the list_lru lock
 * before it purges. No allocation happens under area->ranges_lock, and no
 * user copy under either area lock.
 *
 * Purge invariant: pages of a range are punched only while ranges_lock is
 * held and the range is still unpinned. PIN takes ranges out of the tree
 * under the same lock, so once PIN returns, no purge of those pages is in
 * flight and none can start.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/compat.h>
#include <linux/debugfs.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/interval_tree_generic.h>
#include <linux/list_lru.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/module.h>
#include <linux/percpu_counter.h>
#include <linux/personality.h>
#include <linux/seq_file.h>
#include <linux/shmem_fs.h>
#include <linux/shrinker.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uio.h>

#include "uapi/linux/ashmem.h"
#include "ashmem.h"
#include "ashmem_compat.h"

#define CREATE_TRACE_POINTS
#include "ashmem_trace.h"

static struct kmem_cache *ashmem_area_cache;
static struct kmem_cache *ashmem_range_cache;

/* Unpinned, unpurged ranges, oldest first, per memory cgroup and node. */
static struct list_lru ashmem_lru;
static struct shrinker *ashmem_shrinker;

/*
 * Page counts over all areas, per CPU so that pin and unpin on different
 * regions do not share a cache line: pages in the ranges on ashmem_lru,
 * and pages purged and still unpinned.
 */
static struct percpu_counter ashmem_lru_pages;
static struct percpu_counter ashmem_purged_pages;
/* Totals since load, for debugfs. */
static atomic_long_t ashmem_purged_total = ATOMIC_LONG_INIT(0);
static atomic_long_t ashmem_shrinker_scans = ATOMIC_LONG_INIT(0);

static DEFINE_MUTEX(ashmem_regions_lock);	/* protects the two below */
static LIST_HEAD(ashmem_regions);
static unsigned long ashmem_nr_regions;

static struct dentry *ashmem_debugfs;

/*
 * Allocations made on userspace's behalf: when the caller's memory cgroup
 * or the machine is out of memory, the caller gets ENOMEM rather than
 * the OOM killer being sent after a task.
 */
#define ASHMEM_GFP	(GFP_KERNEL | __GFP_RETRY_MAYFAIL | __GFP_NOWARN)

/* ---- Unpinned ranges ---------------------------------------------------- */

#define RANGE_START(range)	((range)->start)
#define RANGE_LAST(range)	((range)->last)

INTERVAL_TREE_DEFINE(struct ashmem_range, node, pgoff_t, subtree_last,
		     RANGE_START, RANGE_LAST, static inline, range_tree)

static pgoff_t range_pages(const struct ashmem_range *range)
{
	return range->last - range->start + 1;
}

static struct ashmem_range *range_next(struct ashmem_range *range)
{
	struct rb_node *node = rb_next(&range->node);

	return node ? rb_entry(node, struct ashmem_range, node) : NULL;
}

static struct ashmem_range *range_first(struct ashmem_area *area)
{
	struct rb_node *node = rb_first_cached(&area->ranges);

	return node ? rb_entry(node, struct ashmem_range, node) : NULL;
}

/* The name userspace gave the region, or the default one. */
static const char *area_name(const struct ashmem_area *area)
{
	const char *name = area->name + ASHMEM_NAME_PREFIX_LEN;

	return *name ? name : ASHMEM_NAME_DEF;
}

static struct ashmem_range *range_prev(struct ashmem_range *range)
{
	struct rb_node *node = rb_prev(&range->node);

	return node ? rb_entry(node, struct ashmem_range, node) : NULL;
}

/* The first range that overlaps [start, last] or touches either end. */
static struct ashmem_range *range_first_touching(struct ashmem_area *area,
						 pgoff_t start, pgoff_t last)
{
	return range_tree_iter_first(&area->ranges, start ? start - 1 : 0,
				     last + 1);
}

/*
 * On kernels built to check themselves (CONFIG_DEBUG_VM), checks after
 * every change of [start, last] that the ranges there and their neighbours
 * are ordered, disjoint, inside the region, never empty or inverted, that
 * no two unpurged ones touch (they would have merged) and that the
 * counters are in bounds (release checks that they end at 0). Only around
 * the change: a walk of every range would make each change O(n), and a
 * region of 256k ranges unusable.
 */
static void ranges_check(struct ashmem_area *area, pgoff_t start,
			 pgoff_t last)
{
	pgoff_t end = PAGE_ALIGN((u64)area->size) >> PAGE_SHIFT;
	struct ashmem_range *range, *prev;

	if (!IS_ENABLED(CONFIG_DEBUG_VM))
		return;
	lockdep_assert_held(&area->ranges_lock);

	WARN_ON_ONCE(area->unpinned_pages > end);
	WARN_ON_ONCE(area->purged_pages > area->unpinned_pages);
	range = range_first_touching(area, start, last);
	if (!range)
		return;
	prev = range_prev(range);
	for (; range; prev = range, range = range_next(range)) {
		WARN_ON_ONCE(range->last < range->start || range->last >= end);
		if (prev) {
			WARN_ON_ONCE(prev->last >= range->start);
			WARN_ON_ONCE(prev->last + 1 == range->start &&
				     !prev->purged && !range->purged);
		}
		/* The first range past the change is the last one to check. */
		if (range->start > last + 1)
			break;
	}
}

/* Adds @range to @area; an unpurged range also joins the LRU's tail. */
static void range_insert(struct ashmem_area *area, struct ashmem_range *range)
{
	pgoff_t pages = range_pages(range);

	lockdep_assert_held(&area->ranges_lock);
	WARN_ON_ONCE(range->last < range->start);

	range->area = area;
	range_tree_insert(range, &area->ranges);
	area->unpinned_pages += pages;
	if (range->purged) {
		area->purged_pages += pages;
		percpu_counter_add(&ashmem_purged_pages, pages);
	} else {
		list_lru_add_obj(&ashmem_lru, &range->lru);
		percpu_counter_add(&ashmem_lru_pages, pages);
	}
}

static void range_remove(struct ashmem_area *area, struct ashmem_range *range)
{
	pgoff_t pages = range_pages(range);

	lockdep_assert_held(&area->ranges_lock);

	range_tree_remove(range, &area->ranges);
	area->unpinned_pages -= pages;
	if (range->purged) {
		area->purged_pages -= pages;
		percpu_counter_sub(&ashmem_purged_pages, pages);
	} else {
		list_lru_del_obj(&ashmem_lru, &range->lru);
		percpu_counter_sub(&ashmem_lru_pages, pages);
	}
}

static void ranges_free(struct list_head *list)
{
	struct ashmem_range *range, *next;

	list_for_each_entry_safe(range, next, list, lru)
		kmem_cache_free(ashmem_range_cache, range);
}

/*
 * Tops @spare up to @want ranges. They are allocated before ranges_lock is
 * taken, as reclaim may be waiting for that lock, and through the LRU so
 * that the caller's memory cgroup has its list ready for them.
 */
static int ranges_reserve(struct list_head *spare, unsigned int *nr,
			  unsigned int want)
{
	struct ashmem_range *range;

	while (*nr < want) {
		range = kmem_cache_alloc_lru(ashmem_range_cache, &ashmem_lru,
					     ASHMEM_GFP);
		if (!range)
			return -ENOMEM;
		list_add(&range->lru, spare);
		(*nr)++;
	}
	return 0;
}

static struct ashmem_range *range_take(struct list_head *spare,
				       pgoff_t start, pgoff_t last, bool purged)
{
	struct ashmem_range *range;

	range = list_first_entry(spare, struct ashmem_range, lru);
	list_del_init(&range->lru);
	range->start = start;
	range->last = last;
	range->purged = purged;
	return range;
}

/*
 * Takes @area's ranges_lock with at least as many ranges in @spare as
 * @pieces says a change of [start, last] will create, @want at first
 * guess. They are allocated with the lock dropped, and counted again
 * under it, since the ranges may change in between. Returns 0 with the
 * lock held.
 */
static int ranges_lock_reserved(struct ashmem_area *area, pgoff_t start,
				pgoff_t last,
				unsigned int (*pieces)(struct ashmem_area *area,
						       pgoff_t start,
						       pgoff_t last),
				unsigned int want, struct list_head *spare)
{
	unsigned int nr = 0;
	int ret;

	for (;;) {
		ret = ranges_reserve(spare, &nr, want);
		if (ret)
			return ret;
		mutex_lock(&area->ranges_lock);
		want = pieces(area, start, last);
		if (want <= nr)
			return 0;
		mutex_unlock(&area->ranges_lock);
	}
}

/*
 * Pins [start, last]: every range is cut back to what lies outside it.
 * A range that covers it on both sides is split, using @spare.
 */
static int pin_locked(struct ashmem_area *area, pgoff_t start, pgoff_t last,
		      struct list_head *spare, struct list_head *dead)
{
	struct ashmem_range *range, *tail;
	int ret = ASHMEM_NOT_PURGED;

	lockdep_assert_held(&area->ranges_lock);

	while ((range = range_tree_iter_first(&area->ranges, start, last))) {
		if (range->purged)
			ret = ASHMEM_WAS_PURGED;
		range_remove(area, range);

		if (range->start < start && range->last > last) {
			tail = range_take(spare, last + 1, range->last,
					  range->purged);
			range_insert(area, tail);
		}
		if (range->start < start) {
			range->last = start - 1;
			range_insert(area, range);
		} else if (range->last > last) {
			range->start = last + 1;
			range_insert(area, range);
		} else {
			list_add(&range->lru, dead);
		}
	}
	return ret;
}

/* How many ranges pinning [start, last] creates: one if it splits one. */
static unsigned int pin_pieces(struct ashmem_area *area, pgoff_t start,
			       pgoff_t last)
{
	struct ashmem_range *range;

	range = range_tree_iter_first(&area->ranges, start, last);
	return range && range->start < start && range->last > last;
}

static int ashmem_pin(struct ashmem_area *area, pgoff_t start, pgoff_t last)
{
	LIST_HEAD(spare);
	LIST_HEAD(dead);
	int ret;

	/* Most pins split nothing: allocate only if this one does. */
	ret = ranges_lock_reserved(area, start, last, pin_pieces, 0, &spare);
	if (!ret) {
		ret = pin_locked(area, start, last, &spare, &dead);
		ranges_check(area, start, last);
		mutex_unlock(&area->ranges_lock);
	}
	ranges_free(&spare);
	ranges_free(&dead);
	trace_ashmem_pin(area_name(area), start, last - start + 1, ret);
	return ret;
}

/*
 * Unpinning [start, last] turns the pages of it that are still pinned into
 * unpurged ranges, merged with the unpurged ranges they overlap or touch.
 * Purged ranges keep their pages and their state, so that PIN can still
 * report them, and the new range comes out in pieces between them.
 */
struct unpin_sweep {
	struct ashmem_area *area;
	struct list_head *spare;
	bool open;
	pgoff_t start;
	pgoff_t last;
};

static void sweep_close(struct unpin_sweep *sweep)
{
	if (!sweep->open)
		return;
	range_insert(sweep->area, range_take(sweep->spare, sweep->start,
					     sweep->last, false));
	sweep->open = false;
}

static void sweep_add(struct unpin_sweep *sweep, pgoff_t start, pgoff_t last)
{
	if (sweep->open && start <= sweep->last + 1) {
		sweep->last = max(sweep->last, last);
		return;
	}
	sweep_close(sweep);
	sweep->open = true;
	sweep->start = start;
	sweep->last = last;
}

/* How many ranges unpinning [start, last] may create, at most. */
static unsigned int unpin_pieces(struct ashmem_area *area, pgoff_t start,
				 pgoff_t last)
{
	struct ashmem_range *range = range_first_touching(area, start, last);
	unsigned int pieces = 1;

	for (; range && range->start <= last + 1; range = range_next(range))
		pieces += range->purged;
	return pieces;
}

static void unpin_locked(struct ashmem_area *area, pgoff_t start,
			 pgoff_t last, struct list_head *spare,
			 struct list_head *dead)
{
	struct unpin_sweep sweep = { .area = area, .spare = spare };
	struct ashmem_range *range, *next;
	pgoff_t pos = start;	/* first page of [start, last] not yet seen */

	lockdep_assert_held(&area->ranges_lock);

	range = range_first_touching(area, start, last);
	for (; range && range->start <= last + 1; range = next) {
		next = range_next(range);
		if (pos < range->start && pos <= last)
			sweep_add(&sweep, pos, min(range->start - 1, last));
		pos = max(pos, range->last + 1);
		if (range->purged) {
			sweep_close(&sweep);
			continue;
		}
		sweep_add(&sweep, range->start, range->last);
		range_remove(area, range);
		list_add(&range->lru, dead);
	}
	if (pos <= last)
		sweep_add(&sweep, pos, last);
	sweep_close(&sweep);
}

static int ashmem_unpin(struct ashmem_area *area, pgoff_t start, pgoff_t last)
{
	LIST_HEAD(spare);
	LIST_HEAD(dead);
	int ret;

	ret = ranges_lock_reserved(area, start, last, unpin_pieces, 1, &spare);
	if (!ret) {
		unpin_locked(area, start, last, &spare, &dead);
		ranges_check(area, start, last);
		mutex_unlock(&area->ranges_lock);
	}
	ranges_free(&spare);
	ranges_free(&dead);
	trace_ashmem_unpin(area_name(area), start, last - start + 1, ret);
	return ret;
}

static int ashmem_pin_status(struct ashmem_area *area, pgoff_t start,
			     pgoff_t last)
{
	bool unpinned;

	mutex_lock(&area->ranges_lock);
	unpinned = range_tree_iter_first(&area->ranges, start, last);
	mutex_unlock(&area->ranges_lock);
	return unpinned ? ASHMEM_IS_UNPINNED : ASHMEM_IS_PINNED;
}

/* ---- Reclaim ------------------------------------------------------------ */

/*
 * Punches the range's pages out of the backing file; they read back as
 * zeros. Not vfs_fallocate(): a region whose mask lost PROT_WRITE has its
 * file sealed against writes, which also refuses hole punching. Returns
 * how many of them were in memory: a range is often partly or never
 * touched, and only what was resident is memory given back.
 */
static unsigned long range_punch(struct ashmem_area *area,
				 struct ashmem_range *range)
{
	struct inode *inode = file_inode(area->file);
	struct address_space *mapping = inode->i_mapping;
	loff_t start = (loff_t)range->start << PAGE_SHIFT;
	loff_t end = ((loff_t)range->last + 1) << PAGE_SHIFT;
	unsigned long before, after;

	lockdep_assert_held(&area->ranges_lock);

	/*
	 * Other pages of the file may be faulted in or swapped out
	 * meanwhile: the count is then off by those few, which is as
	 * exact as reclaim needs.
	 */
	before = READ_ONCE(mapping->nrpages);
	unmap_mapping_range(mapping, start, end - start, 0);
	shmem_truncate_range(inode, start, end - 1);
	after = READ_ONCE(mapping->nrpages);
	return before > after ? before - after : 0;
}

static void ashmem_area_free(struct kref *ref)
{
	kmem_cache_free(ashmem_area_cache,
			container_of(ref, struct ashmem_area, ref));
}

struct purge_control {
	unsigned long target;	/* pages wanted */
	unsigned long freed;	/* pages purged */
	bool contended;		/* skipped a busy area */
	bool by_shrinker;	/* rather than PURGE_ALL_CACHES */
};

/*
 * Called by the list_lru walk with the list's lock held. The range is on
 * the LRU, so its area still exists: release must take the range off the
 * LRU, under this lock, before it lets the area go. A purge drops the lock
 * and returns LRU_REMOVED_RETRY without it: the walk takes it again.
 */
static enum lru_status ashmem_lru_isolate(struct list_head *item,
					  struct list_lru_one *list, void *arg)
	__must_hold(ashmem_lru_walk_lock(&ashmem_lru, list, item))
{
	spinlock_t *lru_lock = ashmem_lru_walk_lock(&ashmem_lru, list, item);
	struct ashmem_range *range = container_of(item, struct ashmem_range,
						  lru);
	struct ashmem_area *area = range->area;
	struct purge_control *pc = arg;
	pgoff_t pages = range_pages(range);
	unsigned long resident;

	if (pc->freed >= pc->target)
		return LRU_SKIP;
	if (!mutex_trylock(&area->ranges_lock)) {
		pc->contended = true;
		return LRU_SKIP;
	}

	list_lru_isolate(list, item);
	range->purged = true;
	area->purged_pages += pages;
	percpu_counter_sub(&ashmem_lru_pages, pages);
	percpu_counter_add(&ashmem_purged_pages, pages);
	kref_get(&area->ref);
	spin_unlock(lru_lock);

	resident = range_punch(area, range);
	/*
	 * Tell reclaim what memory it got back, as slab and inode pruning
	 * do, so that it does not escalate or call the OOM killer while
	 * purging is freeing pages. Outside reclaim this does nothing.
	 */
	mm_account_reclaimed_pages(resident);
	ranges_check(area, range->start, range->last);
	trace_ashmem_purge(area_name(area), range->start, pages, resident,
			   pc->by_shrinker);
	pc->freed += pages;
	atomic_long_add(pages, &ashmem_purged_total);
	mutex_unlock(&area->ranges_lock);
	kref_put(&area->ref, ashmem_area_free);

	__acquire(lru_lock);	/* by the walk */
	return LRU_REMOVED_RETRY;
}

/*
 * list_lru counts ranges, reclaim wants pages: scale this list's share of
 * the ranges by the average range size. Exact while there is one list.
 * The page count is summed, not read: a read may miss up to a batch per
 * CPU, and a few unpinned pages would then never be purged.
 */
static unsigned long ashmem_shrink_count(struct shrinker *shrinker,
					 struct shrink_control *sc)
{
	unsigned long ranges = list_lru_shrink_count(&ashmem_lru, sc);
	unsigned long all, pages, count = 0;

	if (!ranges)
		goto out;
	all = list_lru_count(&ashmem_lru);
	pages = percpu_counter_sum_positive(&ashmem_lru_pages);
	if (all && pages)
		count = ranges >= all ? pages : mult_frac(pages, ranges, all);
out:
	trace_ashmem_shrink_count(sc->nid, count);
	return count;
}

static unsigned long ashmem_shrink_scan(struct shrinker *shrinker,
					struct shrink_control *sc)
{
	struct purge_control pc = {
		.target = sc->nr_to_scan,
		.by_shrinker = true,
	};

	/* Truncating shmem pages may recurse into the filesystem. */
	if (!(sc->gfp_mask & __GFP_FS))
		return SHRINK_STOP;

	atomic_long_inc(&ashmem_shrinker_scans);
	list_lru_shrink_walk(&ashmem_lru, sc, ashmem_lru_isolate, &pc);
	trace_ashmem_shrink_scan(sc->nid, pc.target, pc.freed);
	/*
	 * Nothing purged: the list is empty or busy. Reclaim would otherwise
	 * call again for every batch of a count that can reach 2^40 pages.
	 */
	if (!pc.freed)
		return SHRINK_STOP;
	return pc.freed;
}

static long ashmem_purge_all(void)
{
	struct purge_control pc = { .target = ULONG_MAX };

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;

	list_lru_walk(&ashmem_lru, ashmem_lru_isolate, &pc, ULONG_MAX);
	return min_t(unsigned long, pc.freed, INT_MAX);
}

/* ---- Region state ------------------------------------------------------- */

static unsigned long prot_to_vm_flags(unsigned long prot)
{
	return (prot & PROT_READ ? VM_READ : 0) |
	       (prot & PROT_WRITE ? VM_WRITE : 0) |
	       (prot & PROT_EXEC ? VM_EXEC : 0);
}

static unsigned long prot_to_vm_may_flags(unsigned long prot)
{
	return (prot & PROT_READ ? VM_MAYREAD : 0) |
	       (prot & PROT_WRITE ? VM_MAYWRITE : 0) |
	       (prot & PROT_EXEC ? VM_MAYEXEC : 0);
}

static struct file *area_backing_file(struct ashmem_area *area)
{
	/* Pairs with smp_store_release() in area_create_file(). */
	return smp_load_acquire(&area->file);
}

/*
 * Seals the backing file the way the mask says, so that it cannot be mapped
 * with more rights or resized when reopened from outside, for example
 * through /proc/PID/map_files. The file was created with F_SEAL_SEAL, so
 * nobody else can change its seals; area->lock orders our own updates.
 */
static void area_seal_file(struct ashmem_area *area, struct file *file)
{
	struct shmem_inode_info *info = SHMEM_I(file_inode(file));
	unsigned int seals = F_SEAL_SHRINK | F_SEAL_GROW;

	lockdep_assert_held(&area->lock);

	if (!(area->prot_mask & PROT_WRITE))
		seals |= F_SEAL_FUTURE_WRITE;
	WRITE_ONCE(info->seals, info->seals | seals);
}

static int area_create_file(struct ashmem_area *area)
{
	const char *name = area->name;
	struct file *file;

	lockdep_assert_held(&area->lock);

	if (area->file)
		return 0;
	/* "dev/ashmem/<name>", or "dev/ashmem" for an unnamed region */
	if (!area->name[ASHMEM_NAME_PREFIX_LEN])
		name = ASHMEM_NAME_DEF;

	/* Like memfd: pages are accounted as they are used, not up front. */
	file = shmem_file_setup(name, area->size,
				mk_vma_flags(VMA_NORESERVE_BIT));
	if (IS_ERR(file)) {
		/*
		 * The internal shmem mount has no size or inode limit, so
		 * its ENOSPC means the inode allocation failed: say so, as
		 * mmap(2) does for any other lack of memory.
		 */
		if (PTR_ERR(file) == -ENOSPC)
			return -ENOMEM;
		return PTR_ERR(file);
	}
	area_seal_file(area, file);
	/* Publishes the size and seals with the file; see struct ashmem_area. */
	smp_store_release(&area->file, file);
	trace_ashmem_create(area_name(area), area->size);
	return 0;
}

static int ashmem_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct ashmem_area *area = file->private_data;
	unsigned long len = vma->vm_end - vma->vm_start;
	unsigned long prot_flags = VM_READ | VM_WRITE | VM_EXEC;
	unsigned long end;
	int ret;

	mutex_lock(&area->lock);
	end = PAGE_ALIGN(area->size);
	if (!area->size || vma->vm_pgoff > end >> PAGE_SHIFT ||
	    len > end - (vma->vm_pgoff << PAGE_SHIFT)) {
		ret = -EINVAL;
		goto out_unlock;
	}
	if (vma->vm_flags & prot_flags & ~prot_to_vm_flags(area->prot_mask)) {
		ret = -EPERM;
		goto out_unlock;
	}
	ret = area_create_file(area);
	if (ret)
		goto out_unlock;

	/* mprotect() may never add what the mask lacks. */
	vm_flags_clear(vma, prot_to_vm_may_flags(ASHMEM_PROT_ALL &
						 ~area->prot_mask));
	/*
	 * The mapping belongs to the shmem file from here on: its vm_ops and
	 * vm_file are the kernel's own, never this module's.
	 */
	vma_set_file(vma, area->file);
	ret = vfs_mmap(vma->vm_file, vma);
out_unlock:
	mutex_unlock(&area->lock);
	return ret;
}

static long ashmem_set_name(struct ashmem_area *area, const char __user *uname)
{
	char name[ASHMEM_NAME_LEN];
	long len;
	int ret = 0;

	len = strncpy_from_user(name, uname, sizeof(name));
	if (len < 0)
		return len;
	name[sizeof(name) - 1] = '\0';	/* longer names are cut */

	mutex_lock(&area->lock);
	if (area->file)
		ret = -EINVAL;
	else
		strscpy(area->name + ASHMEM_NAME_PREFIX_LEN, name,
			ASHMEM_NAME_LEN);
	mutex_unlock(&area->lock);
	return ret;
}

static long ashmem_get_name(struct ashmem_area *area, char __user *uname)
{
	char name[ASHMEM_NAME_LEN];

	mutex_lock(&area->lock);
	strscpy(name, area_name(area), sizeof(name));
	mutex_unlock(&area->lock);

	if (copy_to_user(uname, name, strlen(name) + 1))
		return -EFAULT;
	return 0;
}

static long ashmem_set_size(struct ashmem_area *area, unsigned long size)
{
	int ret = 0;

	if (size > MAX_LFS_FILESIZE)
		return -EINVAL;

	mutex_lock(&area->lock);
	if (area->file)
		ret = -EINVAL;
	else
		area->size = size;
	mutex_unlock(&area->lock);
	return ret;
}

static long ashmem_set_prot_mask(struct ashmem_area *area, unsigned long prot)
{
	int ret = 0;

	mutex_lock(&area->lock);
	/* Applications that expect PROT_READ to imply PROT_EXEC get both. */
	if ((prot & PROT_READ) && (current->personality & READ_IMPLIES_EXEC))
		prot |= area->prot_mask & PROT_EXEC;

	/* Bits can only be taken away. */
	if ((area->prot_mask & prot) != prot) {
		ret = -EINVAL;
	} else {
		area->prot_mask = prot;
		if (area->file)
			area_seal_file(area, area->file);
	}
	mutex_unlock(&area->lock);
	return ret;
}

static long ashmem_get_file_id(struct ashmem_area *area,
			       unsigned long __user *uid)
{
	struct file *backing = area_backing_file(area);

	/* The inode does not exist before the first mmap. */
	if (!backing)
		return -EINVAL;
	return put_user(file_inode(backing)->i_ino, uid);
}

/*
 * PIN, UNPIN and GET_PIN_STATUS take a byte range, page aligned, len 0
 * meaning "to the end"; it is computed in 64 bits so that it reaches the
 * end of regions larger than 4 GiB.
 */
static long ashmem_pin_ioctl(struct ashmem_area *area, unsigned int cmd,
			     struct ashmem_pin __user *upin)
{
	struct ashmem_pin pin;
	struct file *backing;
	u64 end, len;
	pgoff_t start, last;

	if (copy_from_user(&pin, upin, sizeof(pin)))
		return -EFAULT;
	backing = area_backing_file(area);
	if (!backing)
		return -EINVAL;

	end = PAGE_ALIGN((u64)area->size);
	if ((pin.offset | pin.len) & ~PAGE_MASK || pin.offset > end)
		return -EINVAL;
	len = pin.len ? pin.len : end - pin.offset;
	if (len > end - pin.offset)
		return -EINVAL;

	/* The empty range at the end: nothing to do. */
	if (!len) {
		if (cmd == ASHMEM_PIN)
			return ASHMEM_NOT_PURGED;
		return cmd == ASHMEM_UNPIN ? 0 : ASHMEM_IS_PINNED;
	}

	start = pin.offset >> PAGE_SHIFT;
	last = start + (len >> PAGE_SHIFT) - 1;
	switch (cmd) {
	case ASHMEM_PIN:
		return ashmem_pin(area, start, last);
	case ASHMEM_UNPIN:
		return ashmem_unpin(area, start, last);
	default:
		return ashmem_pin_status(area, start, last);
	}
}

/* ---- File operations ---------------------------------------------------- */

static long ashmem_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	struct ashmem_area *area = file->private_data;
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case ASHMEM_SET_NAME:
		return ashmem_set_name(area, argp);
	case ASHMEM_GET_NAME:
		return ashmem_get_name(area, argp);
	case ASHMEM_SET_SIZE:
		return ashmem_set_size(area, arg);
	case ASHMEM_GET_SIZE:
		return READ_ONCE(area->size);
	case ASHMEM_SET_PROT_MASK:
		return ashmem_set_prot_mask(area, arg);
	case ASHMEM_GET_PROT_MASK:
		return READ_ONCE(area->prot_mask);
	case ASHMEM_PIN:
	case ASHMEM_UNPIN:
	case ASHMEM_GET_PIN_STATUS:
		return ashmem_pin_ioctl(area, cmd, argp);
	case ASHMEM_PURGE_ALL_CACHES:
		return ashmem_purge_all();
	case ASHMEM_GET_FILE_ID:
		return ashmem_get_file_id(area, argp);
	}
	return -ENOTTY;
}

#ifdef CONFIG_COMPAT
/* Numbers whose argument type is smaller for 32-bit callers. */
#define COMPAT_ASHMEM_SET_SIZE		_IOW(__ASHMEMIOC, 3, compat_size_t)
#define COMPAT_ASHMEM_SET_PROT_MASK	_IOW(__ASHMEMIOC, 5, compat_ulong_t)
#define COMPAT_ASHMEM_GET_FILE_ID	_IOR(__ASHMEMIOC, 11, compat_ulong_t)

static long ashmem_compat_get_file_id(struct ashmem_area *area,
				      compat_ulong_t __user *uid)
{
	struct file *backing = area_backing_file(area);
	unsigned long ino;

	if (!backing)
		return -EINVAL;
	ino = file_inode(backing)->i_ino;
	if (ino > U32_MAX)
		return -EOVERFLOW;
	return put_user(ino, uid);
}

static long ashmem_compat_ioctl(struct file *file, unsigned int cmd,
				unsigned long arg)
{
	switch (cmd) {
	case COMPAT_ASHMEM_SET_SIZE:
		return ashmem_ioctl(file, ASHMEM_SET_SIZE, arg);
	case COMPAT_ASHMEM_SET_PROT_MASK:
		return ashmem_ioctl(file, ASHMEM_SET_PROT_MASK, arg);
	case COMPAT_ASHMEM_GET_FILE_ID:
		return ashmem_compat_get_file_id(file->private_data,
						 compat_ptr(arg));
	}
	return ashmem_ioctl(file, cmd, (unsigned long)compat_ptr(arg));
}
#endif

/*
 * The size and the backing file a read or seek works on. No lock is held
 * afterwards: the file lives as long as the region, and a read may fault.
 */
static struct file *area_io_file(struct ashmem_area *area, size_t *size)
{
	struct file *backing;

	mutex_lock(&area->lock);
	*size = area->size;
	backing = area->file;
	mutex_unlock(&area->lock);
	if (*size && !backing)
		return ERR_PTR(-EBADF);
	return backing;
}

static ssize_t ashmem_read_iter(struct kiocb *iocb, struct iov_iter *iter)
{
	struct ashmem_area *area = iocb->ki_filp->private_data;
	struct file *backing;
	size_t size;

	backing = area_io_file(area, &size);
	if (IS_ERR(backing))
		return PTR_ERR(backing);
	if (!size)
		return 0;
	return vfs_iter_read(backing, iter, &iocb->ki_pos, 0);
}

static loff_t ashmem_llseek(struct file *file, loff_t offset, int whence)
{
	struct ashmem_area *area = file->private_data;
	struct file *backing;
	size_t size;
	loff_t pos;

	backing = area_io_file(area, &size);
	if (IS_ERR(backing))
		return PTR_ERR(backing);
	if (!size)
		return -EINVAL;

	if (whence != SEEK_DATA && whence != SEEK_HOLE)
		return generic_file_llseek_size(file, offset, whence,
						MAX_LFS_FILESIZE, size);

	/* Only shmem knows its holes; the position stays this file's own. */
	pos = vfs_llseek(backing, offset, whence);
	if (pos < 0)
		return pos;
	return vfs_setpos(file, pos, MAX_LFS_FILESIZE);
}

static void ashmem_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct ashmem_area *area = file->private_data;
	unsigned long prot_mask;
	pgoff_t pages, unpinned, purged;
	struct file *backing;
	size_t size;

	mutex_lock(&area->lock);
	seq_puts(m, "ashmem_name:\t");
	seq_escape(m, area_name(area), "\n\\");
	seq_putc(m, '\n');
	size = area->size;
	prot_mask = area->prot_mask;
	backing = area->file;
	mutex_unlock(&area->lock);

	mutex_lock(&area->ranges_lock);
	unpinned = area->unpinned_pages;
	purged = area->purged_pages;
	mutex_unlock(&area->ranges_lock);

	pages = PAGE_ALIGN((u64)size) >> PAGE_SHIFT;
	seq_printf(m, "ashmem_size:\t%zu\n", size);
	seq_printf(m, "ashmem_prot_mask:\t%#lx\n", prot_mask);
	seq_printf(m, "ashmem_pinned_pages:\t%lu\n", pages - unpinned);
	seq_printf(m, "ashmem_unpinned_pages:\t%lu\n", unpinned);
	seq_printf(m, "ashmem_purged_pages:\t%lu\n", purged);
	if (backing)
		seq_printf(m, "ashmem_file_id:\t%llu\n",
			   (u64)file_inode(backing)->i_ino);
}

static int ashmem_open(struct inode *inode, struct file *file)
{
	struct ashmem_area *area;

	area = kmem_cache_zalloc(ashmem_area_cache, ASHMEM_GFP);
	if (!area)
		return -ENOMEM;

	mutex_init(&area->lock);
	memcpy(area->name, ASHMEM_NAME_PREFIX, ASHMEM_NAME_PREFIX_LEN);
	area->prot_mask = ASHMEM_PROT_ALL;
	mutex_init(&area->ranges_lock);
	area->ranges = RB_ROOT_CACHED;
	kref_init(&area->ref);
	area->pid = task_tgid_nr(current);

	mutex_lock(&ashmem_regions_lock);
	list_add_tail(&area->link, &ashmem_regions);
	ashmem_nr_regions++;
	mutex_unlock(&ashmem_regions_lock);

	file->private_data = area;
	return 0;
}

static int ashmem_release(struct inode *inode, struct file *file)
{
	struct ashmem_area *area = file->private_data;
	struct ashmem_range *range;
	LIST_HEAD(dead);

	mutex_lock(&ashmem_regions_lock);
	list_del(&area->link);
	ashmem_nr_regions--;
	mutex_unlock(&ashmem_regions_lock);

	mutex_lock(&area->ranges_lock);
	while ((range = range_first(area))) {
		range_remove(area, range);
		list_add(&range->lru, &dead);
	}
	/* Every change kept the counters; with no range left they are 0. */
	WARN_ON_ONCE(IS_ENABLED(CONFIG_DEBUG_VM) &&
		     (area->unpinned_pages || area->purged_pages));
	mutex_unlock(&area->ranges_lock);
	ranges_free(&dead);

	trace_ashmem_release(area_name(area), area->size);

	if (area->file)
		fput(area->file);
	kref_put(&area->ref, ashmem_area_free);
	return 0;
}

static const struct file_operations ashmem_fops = {
	.owner		= THIS_MODULE,
	.open		= ashmem_open,
	.release	= ashmem_release,
	.read_iter	= ashmem_read_iter,
	.llseek		= ashmem_llseek,
	.mmap		= ashmem_mmap,
	.unlocked_ioctl	= ashmem_ioctl,
#ifdef CONFIG_COMPAT
	.compat_ioctl	= ashmem_compat_ioctl,
#endif
	.show_fdinfo	= ashmem_show_fdinfo,
};

/* ---- debugfs ------------------------------------------------------------ */

static int ashmem_stats_show(struct seq_file *m, void *unused)
{
	s64 lru = percpu_counter_sum_positive(&ashmem_lru_pages);
	s64 purged = percpu_counter_sum_positive(&ashmem_purged_pages);

	/* A snapshot: an open or close may race with it, and that is fine. */
	seq_printf(m, "regions %lu\n", data_race(ashmem_nr_regions));
	seq_printf(m, "unpinned_pages %lld\n", lru + purged);
	seq_printf(m, "purged_pages %lld\n", purged);
	seq_printf(m, "purged_total %ld\n",
		   atomic_long_read(&ashmem_purged_total));
	seq_printf(m, "shrinker_scans %ld\n",
		   atomic_long_read(&ashmem_shrinker_scans));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(ashmem_stats);

static void *ashmem_regions_start(struct seq_file *m, loff_t *pos)
{
	mutex_lock(&ashmem_regions_lock);
	return seq_list_start_head(&ashmem_regions, *pos);
}

static void *ashmem_regions_next(struct seq_file *m, void *v, loff_t *pos)
{
	return seq_list_next(v, &ashmem_regions, pos);
}

static void ashmem_regions_stop(struct seq_file *m, void *v)
{
	mutex_unlock(&ashmem_regions_lock);
}

/*
 * One line per region. The page counts are read without ranges_lock, so
 * that reading this never holds up pin and unpin.
 */
static int ashmem_regions_show(struct seq_file *m, void *v)
{
	pgoff_t unpinned, purged;
	struct ashmem_area *area;

	if (v == &ashmem_regions) {
		seq_puts(m, "pid size unpinned_pages purged_pages name\n");
		return 0;
	}
	area = list_entry(v, struct ashmem_area, link);
	/* Racy reads by design, see above */
	unpinned = data_race(area->unpinned_pages);
	/* Racy reads by design, see above */
	purged = data_race(area->purged_pages);

	mutex_lock(&area->lock);
	seq_printf(m, "%d %zu %lu %lu ", area->pid, area->size, unpinned,
		   purged);
	seq_escape(m, area_name(area), "\n\\");
	seq_putc(m, '\n');
	mutex_unlock(&area->lock);
	return 0;
}

static const struct seq_operations ashmem_regions_sops = {
	.start	= ashmem_regions_start,
	.next	= ashmem_regions_next,
	.stop	= ashmem_regions_stop,
	.show	= ashmem_regions_show,
};
DEFINE_SEQ_ATTRIBUTE(ashmem_regions);

static void ashmem_debugfs_init(void)
{
	ashmem_debugfs = debugfs_create_dir("ashmem", NULL);
	debugfs_create_file("stats", 0444, ashmem_debugfs, NULL,
			    &ashmem_stats_fops);
	debugfs_create_file("regions", 0444, ashmem_debugfs, NULL,
			    &ashmem_regions_fops);
}

/* ---- Init and exit ------------------------------------------------------ */

/*
 * 0666 as on Android, where every app creates regions. Systems without
 * udev rules (busybox mdev, a bare devtmpfs in a container) have no other
 * place to choose it.
 */
static ushort node_mode = 0666;
module_param(node_mode, ushort, 0444);
MODULE_PARM_DESC(node_mode, "Mode of /dev/ashmem (default 0666)");

static struct miscdevice ashmem_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "ashmem",
	.fops	= &ashmem_fops,
};

static int __init ashmem_init(void)
{
	int ret;

	ret = percpu_counter_init(&ashmem_lru_pages, 0, GFP_KERNEL);
	if (ret)
		return ret;
	ret = percpu_counter_init(&ashmem_purged_pages, 0, GFP_KERNEL);
	if (ret)
		goto err_destroy_lru_pages;

	ret = -ENOMEM;
	ashmem_area_cache = KMEM_CACHE(ashmem_area, SLAB_ACCOUNT);
	if (!ashmem_area_cache)
		goto err_destroy_purged_pages;

	ashmem_range_cache = KMEM_CACHE(ashmem_range, SLAB_ACCOUNT);
	if (!ashmem_range_cache)
		goto err_destroy_area_cache;

	ashmem_shrinker = shrinker_alloc(SHRINKER_MEMCG_AWARE |
					 SHRINKER_NUMA_AWARE, "ashmem");
	if (!ashmem_shrinker)
		goto err_destroy_range_cache;
	ret = list_lru_init_memcg(&ashmem_lru, ashmem_shrinker);
	if (ret)
		goto err_free_shrinker;
	ashmem_shrinker->count_objects = ashmem_shrink_count;
	ashmem_shrinker->scan_objects = ashmem_shrink_scan;

	ashmem_misc.mode = node_mode & 0777;
	ret = misc_register(&ashmem_misc);
	if (ret)
		goto err_destroy_lru;

	shrinker_register(ashmem_shrinker);
	ashmem_debugfs_init();
	return 0;

err_destroy_lru:
	list_lru_destroy(&ashmem_lru);
err_free_shrinker:
	shrinker_free(ashmem_shrinker);
err_destroy_range_cache:
	kmem_cache_destroy(ashmem_range_cache);
err_destroy_area_cache:
	kmem_cache_destroy(ashmem_area_cache);
err_destroy_purged_pages:
	percpu_counter_destroy(&ashmem_purged_pages);
err_destroy_lru_pages:
	percpu_counter_destroy(&ashmem_lru_pages);
	return ret;
}

static void __exit ashmem_exit(void)
{
	debugfs_remove_recursive(ashmem_debugfs);
	misc_deregister(&ashmem_misc);
	shrinker_free(ashmem_shrinker);
	list_lru_destroy(&ashmem_lru);
	kmem_cache_destroy(ashmem_range_cache);
	kmem_cache_destroy(ashmem_area_cache);
	percpu_counter_destroy(&ashmem_purged_pages);
	percpu_counter_destroy(&ashmem_lru_pages);
}

module_init(ashmem_init);
module_exit(ashmem_exit);

MODULE_DESCRIPTION("Android anonymous shared memory (/dev/ashmem)");
MODULE_AUTHOR("The ashmem module authors");
MODULE_LICENSE("GPL");
MODULE_VERSION(ASHMEM_VERSION);
