// SPDX-License-Identifier: GPL-2.0
/*
 * ashmem: Android anonymous shared memory.
 *
 * Each open file of /dev/ashmem is a region: a name, a size and a
 * protection mask, backed from its first mmap by one shmem file that every
 * mapping, fork child and passed descriptor shares. Userspace unpins page
 * ranges it can regenerate; under memory pressure reclaim purges them, and
 * a later PIN reports that.
 *
 * Locking, outer locks first:
 *
 *   ashmem_regions_lock	the list of all areas, for debugfs and
 *				PURGE_ALL_CACHES
 *     area->lock		name, size, prot_mask, creating area->file
 *     area->ranges_lock
 *   mmap_lock
 *     area->lock
 *
 *   area->ranges_lock		one area's ranges, page counts, punch state
 *     list_lru lock		ashmem_lru, the unpurged ranges of all areas
 *
 *   ashmem_punchers_lock	the tasks punching; nothing is taken under it
 *
 * area->lock and area->ranges_lock never nest. Reclaim only trylocks
 * area->ranges_lock. No allocation and no user copy happens under
 * area->ranges_lock (reclaim waits for punches, which need it: lockdep
 * sees that wait as ashmem_punch_wait_map and reports an allocation under
 * it), and no user copy under area->lock. The backing inode's lock is
 * taken under no ashmem lock (see file_add_seals()).
 *
 * Purge protocol. Reclaim never sleeps on a page: a task that holds page
 * locks of a region's backing file (khugepaged's collapse, migration) may
 * be the one reclaiming. So reclaim only decides: under a trylocked
 * ranges_lock it marks a range purged, takes it off the LRU and queues it
 * on its area's punch_queue. The pages are punched later, with no ashmem
 * lock held, by whoever takes the range off that queue under ranges_lock:
 * the area's punch work, a PIN that finds it in its way, or release. The
 * taker counts itself in area->punching until the punch is done. PIN
 * waits for area->punching to reach 0 and punches the queued ranges it
 * overlaps before it changes any range, so once PIN returns, no punch of
 * its pages is queued or in flight, and none can start: reclaim only
 * queues ranges that are unpinned. Release waits the same way before the
 * file goes.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/compat.h>
#include <linux/debugfs.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/interval_tree_generic.h>
#include <linux/kmemleak.h>
#include <linux/list_lru.h>
#include <linux/lockdep.h>
#include <linux/memcontrol.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/module.h>
#include <linux/namei.h>
#include <linux/pagemap.h>
#include <linux/personality.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/shmem_fs.h>
#include <linux/shrinker.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "uapi/linux/ashmem.h"
#include "ashmem.h"
#include "ashmem_compat.h"

#define CREATE_TRACE_POINTS
#include "ashmem_trace.h"

static struct kmem_cache *ashmem_area_cache;
static struct kmem_cache *ashmem_range_cache;

static struct shrinker *ashmem_shrinker;

/*
 * Punches what reclaim purged, one work item per area (see "Purge
 * protocol" above). WQ_MEM_RECLAIM: reclaim waits for it, so it must run
 * when no new worker can be created. Unbound and concurrent, so that one
 * area's slow punches hold up no other's.
 */
static struct workqueue_struct *ashmem_punch_wq;
/* Bumped, and waiters woken, each time a piece of a punch is done. */
static atomic_long_t ashmem_punch_progress = ATOMIC_LONG_INIT(0);
static DECLARE_WAIT_QUEUE_HEAD(ashmem_punch_event);

/*
 * The tasks in a punch (see current_is_punching()): each adds itself, on
 * its stack, for the time of the punch.
 */
struct ashmem_puncher {
	struct list_head link;
	struct task_struct *task;
};

static DEFINE_SPINLOCK(ashmem_punchers_lock);	/* protects the list below */
static LIST_HEAD(ashmem_punchers);

#ifdef CONFIG_LOCKDEP
/*
 * Reclaim waiting for punch work, which takes ranges_lock, as lockdep sees
 * it: reclaim -> this map -> ranges_lock. An allocation under ranges_lock
 * closes the cycle, and lockdep reports it.
 */
static struct lockdep_map ashmem_punch_wait_map =
	STATIC_LOCKDEP_MAP_INIT("ashmem_punch_wait", &ashmem_punch_wait_map);
#endif

/* Totals since load, for debugfs; pages saturate rather than wrap. */
static atomic_long_t ashmem_purged_total = ATOMIC_LONG_INIT(0);
static atomic_long_t ashmem_resident_freed = ATOMIC_LONG_INIT(0);
static atomic_long_t ashmem_shrinker_scans = ATOMIC_LONG_INIT(0);

static DEFINE_MUTEX(ashmem_regions_lock);	/* protects the two below */
static LIST_HEAD(ashmem_regions);
static unsigned long ashmem_nr_regions;

static struct dentry *ashmem_debugfs;

/*
 * shmem's file operations, and a copy of them without mmap that every
 * backing file and its inode use (see "The backing file" below). The
 * copy is never freed: files opened on a backing inode may outlive the
 * module.
 */
static const struct file_operations *ashmem_shmem_fops;
static const struct file_operations *ashmem_backing_fops;

/*
 * Allocations made on userspace's behalf: when the caller's memory cgroup
 * or the machine is out of memory, the caller gets ENOMEM rather than
 * the OOM killer being sent after a task.
 */
#define ASHMEM_GFP	(GFP_KERNEL | __GFP_RETRY_MAYFAIL | __GFP_NOWARN)

/* ---- Unpinned ranges ---------------------------------------------------- */

/* The bookkeeping, and ashmem_lru: in a file of its own for its tests. */
#include "ashmem_range.c"

/* The name userspace gave the region, or the default one. */
static const char *area_name(const struct ashmem_area *area)
{
	const char *name = area->name + ASHMEM_NAME_PREFIX_LEN;

	return *name ? name : ASHMEM_NAME_DEF;
}

static void ranges_free(struct list_head *list)
{
	struct ashmem_range *range, *next;

	list_for_each_entry_safe(range, next, list, lru)
		kmem_cache_free(ashmem_range_cache, range);
}

/*
 * A range, in the memory cgroup active now, with its struct on node @nid
 * if it can be had there without reclaim. The list_lru files an object
 * under the node of its struct (before 6.8 there is no other way), and
 * reclaim for a node looks only at that node's list: a range must be
 * filed on the node of its pages for that reclaim to find it. It is
 * allocated through the LRU first, so that the cgroup's list exists.
 */
static struct ashmem_range *range_alloc(int nid)
{
	struct ashmem_range *range, *there;

	range = kmem_cache_alloc_lru(ashmem_range_cache, &ashmem_lru,
				     ASHMEM_GFP);
	if (!range || nid == NUMA_NO_NODE ||
	    page_to_nid(virt_to_page(range)) == nid)
		return range;
	there = kmem_cache_alloc_node(ashmem_range_cache,
				      (ASHMEM_GFP & ~__GFP_DIRECT_RECLAIM) |
				      __GFP_THISNODE, nid);
	if (!there)
		return range;
	kmem_cache_free(ashmem_range_cache, range);
	return there;
}

/*
 * Tops @spare up to @want ranges, for pages on node @nid. They are
 * allocated before ranges_lock is taken, as reclaim may be waiting for
 * that lock.
 */
static int ranges_reserve(struct list_head *spare, unsigned int *nr,
			  unsigned int want, int nid)
{
	struct ashmem_range *range;

	while (*nr < want) {
		range = range_alloc(nid);
		if (!range)
			return -ENOMEM;
		list_add(&range->lru, spare);
		(*nr)++;
	}
	return 0;
}

static bool area_settle(struct ashmem_area *area, pgoff_t start,
			pgoff_t *from, pgoff_t last);

/*
 * Where the pages of [start, last] are: the memory cgroup they are
 * charged to, with a reference, and their node, as its first page in
 * memory says; NULL (the allocating task's cgroup) and NUMA_NO_NODE if
 * none is in memory or the cgroup is going away. Ranges are filed there,
 * so that reclaim in that cgroup and on that node finds them even when a
 * task of another cgroup or node unpinned them.
 */
static struct mem_cgroup *pages_owner(struct ashmem_area *area,
				      pgoff_t start, pgoff_t last, int *nid)
{
	XA_STATE(xas, &area->file->f_mapping->i_pages, start);
	struct mem_cgroup *memcg = NULL;
	struct folio *folio;

	*nid = NUMA_NO_NODE;
	rcu_read_lock();
	/* Past pages in swap, however many: the first in memory decides. */
	xas_for_each(&xas, folio, last) {
		if (xas_retry(&xas, folio) || xa_is_value(folio))
			continue;
		/* Held, and still this file's: its memcg cannot change. */
		if (!folio_try_get(folio))
			goto retry;
		if (folio != xas_reload(&xas)) {
			folio_put(folio);
			goto retry;
		}
		*nid = folio_nid(folio);
		memcg = folio_memcg(folio);
		if (memcg && (!mem_cgroup_online(memcg) ||
			      !mem_cgroup_tryget(memcg)))
			memcg = NULL;
		folio_put(folio);
		break;
retry:
		xas_reset(&xas);
	}
	rcu_read_unlock();
	return memcg;
}

/*
 * Widens [*start, *last] to the unpinned ranges it overlaps or touches:
 * what a change there may merge with or split.
 */
static void ranges_extent(struct ashmem_area *area, pgoff_t *start,
			  pgoff_t *last)
{
	pgoff_t first = *start, end = *last;
	struct ashmem_range *range;

	mutex_lock(&area->ranges_lock);
	range = range_first_touching(area, first, end);
	/* Only these touch the change: not the ranges that touch them. */
	for (; range && range->start <= end + 1; range = range_next(range)) {
		*start = min(*start, range->start);
		*last = max(*last, range->last);
	}
	mutex_unlock(&area->ranges_lock);
}

/*
 * Takes @area's ranges_lock with at least as many ranges in @spare as
 * @pieces says a change of [start, last] will create, @want at first
 * guess. They are allocated with the lock dropped, in the cgroup and on
 * the node of the pages, and counted again under it, since the ranges may
 * change in between. With @settle, also no punch is in flight in the area
 * nor queued in [start, last]. Returns 0 with the lock held.
 */
static int ranges_lock_reserved(struct ashmem_area *area, pgoff_t start,
				pgoff_t last,
				unsigned int (*pieces)(struct ashmem_area *area,
						       pgoff_t start,
						       pgoff_t last),
				unsigned int want, bool settle,
				struct list_head *spare)
{
	struct mem_cgroup *memcg, *old;
	unsigned int nr = 0;
	int nid;
	pgoff_t from = start;
	int ret;

	memcg = pages_owner(area, start, last, &nid);
	/* None in memory: the change may still merge or split a range that is. */
	if (!memcg && nid == NUMA_NO_NODE) {
		pgoff_t first = start, end = last;

		ranges_extent(area, &first, &end);
		if (first != start || end != last)
			memcg = pages_owner(area, first, end, &nid);
	}
	for (;;) {
		old = set_active_memcg(memcg);
		ret = ranges_reserve(spare, &nr, want, nid);
		set_active_memcg(old);
		if (ret)
			break;
		mutex_lock(&area->ranges_lock);
		while (settle && area_settle(area, start, &from, last))
			;
		want = pieces(area, start, last);
		if (want <= nr)
			break;
		mutex_unlock(&area->ranges_lock);
	}
	mem_cgroup_put(memcg);
	return ret;
}

static int ashmem_pin(struct ashmem_area *area, pgoff_t start, pgoff_t last)
{
	LIST_HEAD(spare);
	LIST_HEAD(dead);
	int ret;

	/* Most pins split nothing: allocate only if this one does. */
	ret = ranges_lock_reserved(area, start, last, pin_pieces, 0, true,
				   &spare);
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

static int ashmem_unpin(struct ashmem_area *area, pgoff_t start, pgoff_t last)
{
	LIST_HEAD(spare);
	LIST_HEAD(dead);
	int ret;

	/* Purged ranges keep their state: a punch in flight is no matter. */
	ret = ranges_lock_reserved(area, start, last, unpin_pieces, 1, false,
				   &spare);
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
	int ret;

	mutex_lock(&area->ranges_lock);
	ret = pin_status_locked(area, start, last);
	mutex_unlock(&area->ranges_lock);
	return ret;
}

/* ---- Reclaim ------------------------------------------------------------ */

/* Pages punched at a time: each piece is progress that reclaim can see. */
#define ASHMEM_PUNCH_CHUNK	512UL

/*
 * Punches pages [start, last] out of @area's file; they read back as
 * zeros. Not vfs_fallocate(): a region whose mask lost PROT_WRITE has its
 * file sealed against writes, which also refuses hole punching. Only the
 * parts that hold pages, in memory or swap, are visited, a chunk at a
 * time. May sleep on page locks and allocate (to split a large folio), so
 * no ashmem lock may be held. Returns how many of the pages were in
 * memory: only those are memory given back. Other pages of the file may
 * be faulted in or swapped out meanwhile: the count is then off by those.
 */
static unsigned long range_punch(struct ashmem_area *area, pgoff_t start,
				 pgoff_t last)
{
	struct inode *inode = file_inode(area->file);
	struct address_space *mapping = inode->i_mapping;
	unsigned long before, after, resident = 0;
	pgoff_t index = start, end;

	lockdep_assert_not_held(&area->ranges_lock);
	lockdep_assert_not_held(&area->lock);

	while (xa_find(&mapping->i_pages, &index, last, XA_PRESENT)) {
		end = min(last, round_down(index, ASHMEM_PUNCH_CHUNK) +
				ASHMEM_PUNCH_CHUNK - 1);
		before = READ_ONCE(mapping->nrpages);
		unmap_mapping_range(mapping, (loff_t)index << PAGE_SHIFT,
				    (loff_t)(end - index + 1) << PAGE_SHIFT, 0);
		shmem_truncate_range(inode, (loff_t)index << PAGE_SHIFT,
				     (((loff_t)end + 1) << PAGE_SHIFT) - 1);
		after = READ_ONCE(mapping->nrpages);
		resident += before > after ? before - after : 0;
		atomic_long_inc(&ashmem_punch_progress);
		wake_up_all(&ashmem_punch_event);
		if (end >= last)
			break;
		index = end + 1;
		cond_resched();
	}
	return resident;
}

static void ashmem_area_free(struct kref *ref)
{
	kmem_cache_free(ashmem_area_cache,
			container_of(ref, struct ashmem_area, ref));
}

/* Adds @n to the total @v, saturating at LONG_MAX rather than wrapping. */
static void total_add(atomic_long_t *v, unsigned long n)
{
	long old = atomic_long_read(v), new;

	do {
		new = n > LONG_MAX - old ? LONG_MAX : old + n;
	} while (!atomic_long_try_cmpxchg(v, &old, new));
}

/*
 * Punches @range, which reclaim queued, with ranges_lock dropped. Called
 * and returns with ranges_lock held; the ranges may have changed in
 * between, and @range may be gone.
 */
static void area_punch_range(struct ashmem_area *area,
			     struct ashmem_range *range)
{
	pgoff_t start = range->start, last = range->last;
	struct ashmem_puncher self = { .task = current };
	unsigned long resident;

	lockdep_assert_held(&area->ranges_lock);

	range_unqueue(range);
	WRITE_ONCE(area->punching, area->punching + 1);
	mutex_unlock(&area->ranges_lock);

	spin_lock(&ashmem_punchers_lock);
	list_add(&self.link, &ashmem_punchers);
	spin_unlock(&ashmem_punchers_lock);
	resident = range_punch(area, start, last);
	spin_lock(&ashmem_punchers_lock);
	list_del(&self.link);
	spin_unlock(&ashmem_punchers_lock);
	total_add(&ashmem_resident_freed, resident);
	trace_ashmem_purge(area_name(area), start, last - start + 1, resident);

	mutex_lock(&area->ranges_lock);
	WRITE_ONCE(area->punching, area->punching - 1);
	if (!area->punching)
		wake_up_all(&area->punch_done);
	wake_up_all(&ashmem_punch_event);
}

/* Waits, with ranges_lock dropped, until no punch of @area is in flight. */
static void area_wait_punching(struct ashmem_area *area)
{
	lockdep_assert_held(&area->ranges_lock);

	mutex_unlock(&area->ranges_lock);
	wait_event(area->punch_done, !READ_ONCE(area->punching));
	mutex_lock(&area->ranges_lock);
}

/*
 * One step towards [start, last] being safe to change: waits for the
 * area's punches in flight, or punches one queued range that overlaps
 * [*from, last], going on from there next time. Returns false, having done
 * nothing, once there is neither in all of [start, last]. Called and
 * returns with ranges_lock held, which it may have dropped.
 */
static bool area_settle(struct ashmem_area *area, pgoff_t start,
			pgoff_t *from, pgoff_t last)
{
	struct ashmem_range *range;

	lockdep_assert_held(&area->ranges_lock);

	if (area->punching) {
		area_wait_punching(area);
		return true;
	}
	range = range_queued_in(area, *from, last);
	/* Reclaim may have queued more behind us: look again from the start. */
	if (!range && *from != start) {
		*from = start;
		range = range_queued_in(area, start, last);
	}
	if (!range)
		return false;
	*from = range->last < last ? range->last + 1 : last;
	area_punch_range(area, range);
	return true;
}

/* Punches every range queued in @area, and waits for those in flight. */
static void area_punch_queued(struct ashmem_area *area)
{
	struct ashmem_range *range;

	lockdep_assert_held(&area->ranges_lock);

	for (;;) {
		range = list_first_entry_or_null(&area->punch_queue,
						 struct ashmem_range, lru);
		if (range)
			area_punch_range(area, range);
		else if (area->punching)
			area_wait_punching(area);
		else
			return;
		cond_resched();
	}
}

static void ashmem_punch_fn(struct work_struct *work)
{
	struct ashmem_area *area = container_of(work, struct ashmem_area,
						punch_work);

	lock_map_acquire(&ashmem_punch_wait_map);
	mutex_lock(&area->ranges_lock);
	lock_map_release(&ashmem_punch_wait_map);
	area_punch_queued(area);
	mutex_unlock(&area->ranges_lock);
	kref_put(&area->ref, ashmem_area_free);
}

/*
 * Is the caller reclaiming from inside a punch (a punch work item, or a
 * PIN or release punching what reclaim queued)? Then it must not wait
 * for punches: its own is one of them, and cannot go on until it returns.
 */
static bool current_is_punching(void)
{
	struct work_struct *work = current_work();
	struct ashmem_puncher *puncher;
	bool found = false;

	if (work && work->func == ashmem_punch_fn)
		return true;
	/* Lockless: a task in the list sees it non-empty. */
	if (list_empty(&ashmem_punchers))
		return false;
	spin_lock(&ashmem_punchers_lock);
	list_for_each_entry(puncher, &ashmem_punchers, link) {
		if (puncher->task == current) {
			found = true;
			break;
		}
	}
	spin_unlock(&ashmem_punchers_lock);
	return found;
}

/* Areas a scan queued and waits for, each with a reference. */
#define ASHMEM_SCAN_AREAS	8

struct purge_control {
	bool all;		/* PURGE_ALL_CACHES: even what holds no memory */
	unsigned long target;	/* weight wanted */
	unsigned long weight;	/* weight taken */
	unsigned long pages;	/* pages purged */
	unsigned long busy;	/* ranges skipped: their area was locked */
	unsigned int nr_areas;
	struct ashmem_area *areas[ASHMEM_SCAN_AREAS];
};

/* Folios weighed one by one per range; past that, an estimate. */
#define ASHMEM_WEIGH_FOLIOS	32UL

/*
 * What purging @range gives back to reclaim: its pages in memory, counted
 * up to ASHMEM_WEIGH_FOLIOS folios (past that, no more than its file
 * holds), and never more than the machine has, so that sums of a few
 * cannot overflow. A range whose pages are all untouched or swapped out
 * weighs 0: purging it frees nothing. A page in swap weighs 1 while
 * fewer than 4 * ASHMEM_WEIGH_FOLIOS entries are looked at: purging it
 * frees no memory now, but swap, and the memory it would take to come
 * back (it may come back without PIN or UNPIN, so it must stay in
 * reclaim's sight); a range of resident pages outweighs it. The range is
 * on the LRU, so its area and file exist.
 */
static unsigned long range_weight(const struct ashmem_range *range)
{
	struct address_space *mapping = range->area->file->f_mapping;
	XA_STATE(xas, &mapping->i_pages, range->start);
	unsigned long weight = 0, seen = 0;
	void *entry;

	rcu_read_lock();
	xas_for_each(&xas, entry, range->last) {
		if (xas_retry(&xas, entry))
			continue;
		if (++seen > 4 * ASHMEM_WEIGH_FOLIOS)
			break;
		if (xa_is_value(entry)) {
			weight++;
			continue;
		}
		weight += folio_nr_pages(entry);
		if (seen >= ASHMEM_WEIGH_FOLIOS) {
			weight = max(weight, READ_ONCE(mapping->nrpages));
			break;
		}
	}
	rcu_read_unlock();
	return min3(weight, range_pages(range), totalram_pages());
}

/*
 * Reclaim waits for the areas a scan queued: keeps a reference to them in
 * @pc, and queues their punch work, which holds one of its own.
 */
static void area_queue_punch(struct ashmem_area *area,
			     struct purge_control *pc)
{
	unsigned int i;

	kref_get(&area->ref);
	if (!queue_work(ashmem_punch_wq, &area->punch_work))
		kref_put(&area->ref, ashmem_area_free);	/* never the last */

	for (i = 0; i < pc->nr_areas; i++)
		if (pc->areas[i] == area)
			return;
	if (pc->nr_areas < ASHMEM_SCAN_AREAS) {
		kref_get(&area->ref);
		pc->areas[pc->nr_areas++] = area;
	}
}

/*
 * A range on ashmem_lru that holds no memory moves to its area's idle list:
 * purging it would free nothing and lose its contents, and left where it
 * is it would use up scans and hide the ranges behind it. If its area is
 * busy, it goes to the list's tail instead.
 */
static enum lru_status ashmem_lru_idle(struct ashmem_range *range,
				       struct list_lru_one *list)
{
	struct ashmem_area *area = range->area;

	if (!mutex_trylock(&area->ranges_lock))
		return LRU_ROTATE;
	list_lru_isolate(list, &range->lru);
	range_idle(area, range);
	mutex_unlock(&area->ranges_lock);
	return LRU_REMOVED;
}

/*
 * Called by the list_lru walk with the list's lock held; returns with it
 * held. The range is on the LRU, so its area still exists: release takes
 * the range off the LRU, under this lock, before it lets the area go.
 */
static enum lru_status ashmem_lru_isolate(struct list_head *item,
					  struct list_lru_one *list, void *arg)
{
	struct ashmem_range *range = container_of(item, struct ashmem_range,
						  lru);
	struct ashmem_area *area = range->area;
	struct purge_control *pc = arg;
	unsigned long weight;

	if (pc->weight >= pc->target)
		return LRU_SKIP;
	weight = range_weight(range);
	if (!weight && !pc->all)
		return ashmem_lru_idle(range, list);
	if (!mutex_trylock(&area->ranges_lock)) {
		pc->busy++;
		return LRU_SKIP;
	}

	pc->weight += weight;
	pc->pages += range_pages(range);
	total_add(&ashmem_purged_total, range_pages(range));
	list_lru_isolate(list, item);
	range_purge(area, range);
	area_queue_punch(area, pc);
	mutex_unlock(&area->ranges_lock);
	return LRU_REMOVED;
}

/* Sums the weight of ranges; those that weigh 0 go to the idle lists. */
static enum lru_status ashmem_lru_weigh(struct list_head *item,
					struct list_lru_one *list, void *arg)
{
	struct ashmem_range *range = container_of(item, struct ashmem_range,
						  lru);
	unsigned long *weight = arg;
	unsigned long w = range_weight(range);

	*weight += w;
	return w ? LRU_SKIP : ashmem_lru_idle(range, list);
}

/* Ranges weighed per count; the rest of a longer list is extrapolated. */
#define ASHMEM_COUNT_SAMPLE	128UL

/*
 * The weight of this memory cgroup's and node's list: the pages purging
 * it would free. Exact up to ASHMEM_COUNT_SAMPLE ranges; past that, the
 * oldest ranges that hold memory stand for the others (those that hold
 * none leave the list). Reclaim asks the scan for half of it at
 * once (seeks 0): none of it costs I/O to drop, so it all goes before
 * anything is swapped. At least 2, since half of 1 is nothing.
 */
static unsigned long ashmem_shrink_count(struct shrinker *shrinker,
					 struct shrink_control *sc)
{
	unsigned long ranges = list_lru_shrink_count(&ashmem_lru, sc);
	struct shrink_control sample = {
		.gfp_mask = sc->gfp_mask,
		.nid = sc->nid,
		.memcg = sc->memcg,
		.nr_to_scan = ASHMEM_COUNT_SAMPLE,
	};
	unsigned long weighed, weight = 0, count = 0;

	if (!ranges)
		goto out;
	list_lru_shrink_walk(&ashmem_lru, &sample, ashmem_lru_weigh, &weight);
	/* Nothing in memory so far: let a scan look further. */
	if (!weight) {
		if (list_lru_shrink_count(&ashmem_lru, sc))
			count = 2;
		goto out;
	}
	weighed = ASHMEM_COUNT_SAMPLE - sample.nr_to_scan;
	count = weight;
	if (weighed && ranges > weighed &&
	    check_mul_overflow(DIV_ROUND_UP(weight, weighed), ranges, &count))
		count = ULONG_MAX;
	count = clamp(count, 2UL, max(totalram_pages(), 2UL));
out:
	trace_ashmem_shrink_count(sc->nid, count);
	return count;
}

static bool areas_punched(const struct purge_control *pc)
{
	unsigned int i;

	for (i = 0; i < pc->nr_areas; i++)
		if (READ_ONCE(pc->areas[i]->queued) ||
		    READ_ONCE(pc->areas[i]->punching))
			return false;
	return true;
}

/*
 * How long reclaim waits for a piece of any punch to be done before it
 * gives up waiting: only a task that holds page locks the punch needs
 * (the very case punching is handed off for) waits that long.
 */
#define ASHMEM_PUNCH_STALL	msecs_to_jiffies(100)

/*
 * Waits while the punches of the areas @pc queued go on, and tells
 * reclaim the memory that came back. Drops @pc's references.
 */
static void ashmem_punch_wait(struct purge_control *pc)
{
	long freed = atomic_long_read(&ashmem_resident_freed), progress;
	unsigned int i;

	while (!current_is_punching() && !areas_punched(pc)) {
		progress = atomic_long_read(&ashmem_punch_progress);
		/* A killed task stops waiting: its memory is about to go. */
		if (wait_event_killable_timeout(ashmem_punch_event,
						areas_punched(pc) ||
						atomic_long_read(&ashmem_punch_progress) !=
						progress, ASHMEM_PUNCH_STALL) <= 0)
			break;
	}
	/* Others' punches count too: reclaim needs to know memory is back. */
	mm_account_reclaimed_pages(atomic_long_read(&ashmem_resident_freed) -
				   freed);
	for (i = 0; i < pc->nr_areas; i++)
		kref_put(&pc->areas[i]->ref, ashmem_area_free);
	pc->nr_areas = 0;
}

/*
 * The least weight a scan takes. Reclaim's batch is 1, so that the half of
 * a small count it asks for is not lost below a batch; a scan still takes
 * what reclaim's usual batch (SHRINK_BATCH) would, or reclaim would call
 * it, and wait, once per range.
 */
#define ASHMEM_SCAN_MIN		128UL
/* The most ranges a scan visits. */
#define ASHMEM_SCAN_WALK	4096UL

static unsigned long ashmem_shrink_scan(struct shrinker *shrinker,
					struct shrink_control *sc)
{
	struct purge_control pc = {
		.target = max(sc->nr_to_scan, ASHMEM_SCAN_MIN),
	};

	atomic_long_inc(&ashmem_shrinker_scans);
	/* Any scan may wait for punches: tell lockdep so on every one. */
	if (!current_is_punching()) {
		lock_map_acquire(&ashmem_punch_wait_map);
		lock_map_release(&ashmem_punch_wait_map);
	}
	/*
	 * The walk visits at most this many ranges: enough to move many that
	 * hold no memory out of the way of one that does.
	 */
	sc->nr_to_scan = max(pc.target, ASHMEM_SCAN_WALK);
	list_lru_shrink_walk(&ashmem_lru, sc, ashmem_lru_isolate, &pc);
	trace_ashmem_shrink_scan(sc->nid, pc.target, pc.weight);
	/*
	 * Nothing taken: the list is empty, busy or holds no memory. Reclaim
	 * would otherwise call again for every batch of the count.
	 */
	if (!pc.weight)
		return SHRINK_STOP;
	sc->nr_scanned = pc.weight;
	ashmem_punch_wait(&pc);
	return pc.weight;
}

/* Purges the idle ranges of every area, for PURGE_ALL_CACHES. */
static void areas_purge_idle(struct purge_control *pc)
{
	struct ashmem_range *range;
	struct ashmem_area *area;

	mutex_lock(&ashmem_regions_lock);
	list_for_each_entry(area, &ashmem_regions, link) {
		mutex_lock(&area->ranges_lock);
		while ((range = list_first_entry_or_null(&area->idle_ranges,
							 struct ashmem_range,
							 lru))) {
			list_del_init(&range->lru);
			pc->pages += range_pages(range);
			total_add(&ashmem_purged_total, range_pages(range));
			range_purge(area, range);
			area_queue_punch(area, pc);
		}
		mutex_unlock(&area->ranges_lock);
	}
	mutex_unlock(&ashmem_regions_lock);
}

/*
 * PURGE_ALL_CACHES: purges every unpinned range now and returns how many
 * pages that was (at most INT_MAX).
 */
static long ashmem_purge_all(void)
{
	struct purge_control pc = { .all = true, .target = ULONG_MAX };
	unsigned int i;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;

	/*
	 * Ranges of a region whose lock is held (by its own punch work,
	 * started by this walk, say) are skipped: walk again until none is,
	 * the lock is never held for long.
	 */
	do {
		pc.busy = 0;
		list_lru_walk(&ashmem_lru, ashmem_lru_isolate, &pc, ULONG_MAX);
		areas_purge_idle(&pc);
		for (i = 0; i < pc.nr_areas; i++)
			kref_put(&pc.areas[i]->ref, ashmem_area_free);
		pc.nr_areas = 0;
		cond_resched();
	} while (pc.busy && !fatal_signal_pending(current));
	/* Every queued punch, this call's and reclaim's, is done on return. */
	flush_workqueue(ashmem_punch_wq);
	return min_t(unsigned long, pc.pages, INT_MAX);
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

/* The seals @prot_mask asks for: no resizing; no writes without PROT_WRITE. */
static unsigned int mask_seals(unsigned long prot_mask)
{
	unsigned int seals = F_SEAL_SHRINK | F_SEAL_GROW;

	if (!(prot_mask & PROT_WRITE))
		seals |= F_SEAL_FUTURE_WRITE;
	return seals;
}

/*
 * Adds @seals to the backing file, so that it cannot be mapped with more
 * rights or resized when reopened from outside, for example through
 * /proc/PID/map_files. The file was created with F_SEAL_SEAL, so nobody
 * else adds seals; shmem reads them under the inode lock, as memfd
 * changes them. That lock is taken with no ashmem lock held: a write to
 * the file holds it while it faults, which takes mmap_lock, and mmap
 * takes area->lock inside mmap_lock. Seals are only ever added, so
 * concurrent calls need no order.
 */
static void file_add_seals(struct file *file, unsigned int seals)
{
	struct inode *inode = file_inode(file);
	struct shmem_inode_info *info = SHMEM_I(inode);

	inode_lock(inode);
	WRITE_ONCE(info->seals, info->seals | seals);
	inode_unlock(inode);
}

/*
 * A shmem file, accounted like memfd's: pages as they are used, not up
 * front. The internal shmem mount has no size or inode limit, so its
 * ENOSPC means the inode allocation failed: say ENOMEM, as mmap(2) does
 * for any other lack of memory.
 */
static struct file *ashmem_shmem_file(const char *name, loff_t size)
{
	struct file *file;

	file = shmem_file_setup(name, size, mk_vma_flags(VMA_NORESERVE_BIT));
	if (IS_ERR(file) && PTR_ERR(file) == -ENOSPC)
		return ERR_PTR(-ENOMEM);
	return file;
}

/*
 * The backing file. Its mappings are made through /dev/ashmem only, which
 * checks them against the mask: the file and its inode get
 * ashmem_backing_fops, shmem's operations without mmap, so that mmap(2)
 * of a reopen through /proc/PID/map_files (whose file operations come from
 * the inode) and remap_file_pages() of a region's mapping (which maps
 * vm_file again and would recompute what mprotect() may add) fail with
 * ENODEV, whatever the mask lacks. Nor have they get_unmapped_area: shmem's
 * insists on shmem's operations (VM_BUG_ON), and mremap() calls it; moved
 * mappings are placed as any file's. Reading, seeking and punching work as
 * before; resizing is sealed, and so is writing once the mask lacks
 * PROT_WRITE (mask_seals()).
 */
static int __init ashmem_backing_fops_init(void)
{
	const struct file_operations *fops;
	struct file *file;

	file = ashmem_shmem_file("ashmem", 0);
	if (IS_ERR(file))
		return PTR_ERR(file);
	ashmem_shmem_fops = file->f_op;
	fput(file);

	fops = ashmem_fops_dup_without_mmap(ashmem_shmem_fops);
	if (!fops)
		return -ENOMEM;
	/* Referenced from inodes only once regions exist; kept for good. */
	kmemleak_not_leak(fops);
	ashmem_backing_fops = fops;
	return 0;
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

	file = ashmem_shmem_file(name, area->size);
	if (IS_ERR(file))
		return PTR_ERR(file);
	/* Nobody else has the file yet: no inode lock for its seals. */
	file->f_op = ashmem_backing_fops;
	file_inode(file)->i_fop = ashmem_backing_fops;
	SHMEM_I(file_inode(file))->seals |= mask_seals(area->prot_mask);
	/* Publishes the size and seals with the file; see struct ashmem_area. */
	smp_store_release(&area->file, file);
	trace_ashmem_create(area_name(area), area->size);
	return 0;
}

/*
 * Maps a region as Android's kernel does. Only the length is checked
 * against the size rounded up to pages: a shared mapping may start
 * anywhere, and touching a page past the region's end raises SIGBUS, as
 * for any file. A private mapping is anonymous memory, as /dev/zero's
 * private mappings are: it starts zeroed, never shows the region's
 * contents, costs a page per page written and is no purge's business. Its
 * vm_file is still the backing file, so that /proc/PID/maps names it.
 */
static int ashmem_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct ashmem_area *area = file->private_data;
	unsigned long len = vma->vm_end - vma->vm_start;
	unsigned long prot_flags = VM_READ | VM_WRITE | VM_EXEC;
	int ret;

	mutex_lock(&area->lock);
	if (!area->size || len > PAGE_ALIGN((u64)area->size)) {
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
	 * The mapping belongs to the kernel from here on: shmem's for a
	 * shared one, the anonymous memory code's for a private one. Its
	 * vm_ops and vm_file are the kernel's own, never this module's.
	 */
	vma_set_file(vma, area->file);
	if (vma->vm_flags & VM_SHARED)
		ret = ashmem_fops_mmap(ashmem_shmem_fops, vma->vm_file, vma);
	else
		vma_set_anonymous(vma);
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
	struct file *file;

	mutex_lock(&area->lock);
	/* Applications that expect PROT_READ to imply PROT_EXEC get both. */
	if ((prot & PROT_READ) && (current->personality & READ_IMPLIES_EXEC))
		prot |= area->prot_mask & PROT_EXEC;

	/* Bits can only be taken away. */
	if ((area->prot_mask & prot) != prot) {
		mutex_unlock(&area->lock);
		return -EINVAL;
	}
	area->prot_mask = prot;
	file = area->file;
	mutex_unlock(&area->lock);

	/* The file lives as long as the area; see file_add_seals(). */
	if (file)
		file_add_seals(file, mask_seals(prot));
	return 0;
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
 * meaning "to the end" (pin_range()).
 */
static long ashmem_pin_ioctl(struct ashmem_area *area, unsigned int cmd,
			     struct ashmem_pin __user *upin)
{
	struct ashmem_pin pin;
	struct file *backing;
	pgoff_t start, last;
	int ret;

	if (copy_from_user(&pin, upin, sizeof(pin)))
		return -EFAULT;
	backing = area_backing_file(area);
	if (!backing)
		return -EINVAL;

	ret = pin_range(area->size, &pin, &start, &last);
	if (ret < 0)
		return ret;
	/* The empty range at the end: nothing to do. */
	if (!ret) {
		if (cmd == ASHMEM_PIN)
			return ASHMEM_NOT_PURGED;
		return cmd == ASHMEM_UNPIN ? 0 : ASHMEM_IS_PINNED;
	}

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

/*
 * /proc/PID/fdinfo/FD of a region: first the keys Android's kernel prints
 * ("inode:" once mapped, "name:" if named, "size:"), then this driver's
 * own, which libashmem and the ashmem tool read. Names are escaped here
 * too: Android's kernel prints them raw, and a newline in one would start
 * a line of its own.
 */
static void ashmem_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct ashmem_area *area = file->private_data;
	unsigned long prot_mask;
	pgoff_t pages, unpinned, purged;
	struct file *backing;
	size_t size;

	mutex_lock(&area->lock);
	size = area->size;
	prot_mask = area->prot_mask;
	backing = area->file;
	if (backing)
		seq_printf(m, "inode:\t%llu\n",
			   (u64)file_inode(backing)->i_ino);
	if (area->name[ASHMEM_NAME_PREFIX_LEN]) {
		seq_puts(m, "name:\t");
		seq_escape_str(m, area_name(area), ASHMEM_NAME_ESCAPE,
			       ASHMEM_NAME_ESCAPE_ALSO);
		seq_putc(m, '\n');
	}
	seq_printf(m, "size:\t%zu\n", size);
	seq_puts(m, "ashmem_name:\t");
	seq_escape_str(m, area_name(area), ASHMEM_NAME_ESCAPE,
		       ASHMEM_NAME_ESCAPE_ALSO);
	seq_putc(m, '\n');
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
	INIT_LIST_HEAD(&area->idle_ranges);
	INIT_LIST_HEAD(&area->punch_queue);
	init_waitqueue_head(&area->punch_done);
	INIT_WORK(&area->punch_work, ashmem_punch_fn);
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
	LIST_HEAD(dead);

	mutex_lock(&ashmem_regions_lock);
	list_del(&area->link);
	ashmem_nr_regions--;
	mutex_unlock(&ashmem_regions_lock);

	mutex_lock(&area->ranges_lock);
	/* What reclaim queued is punched: the file may outlive the region. */
	area_punch_queued(area);
	ranges_clear(area, &dead);
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
	unsigned long regions, unpinned = 0, purged = 0;
	struct ashmem_area *area;

	/*
	 * A snapshot, summed here rather than kept up to date by every pin
	 * and unpin: the counts are read without ranges_lock, and saturate,
	 * since a few huge regions can hold more pages than a long counts.
	 */
	mutex_lock(&ashmem_regions_lock);
	regions = ashmem_nr_regions;
	list_for_each_entry(area, &ashmem_regions, link) {
		/* Racy reads by design, see above */
		unpinned = size_add(unpinned, data_race(area->unpinned_pages));
		/* Racy reads by design, see above */
		purged = size_add(purged, data_race(area->purged_pages));
	}
	mutex_unlock(&ashmem_regions_lock);

	seq_printf(m, "regions %lu\n", regions);
	seq_printf(m, "unpinned_pages %lu\n", unpinned);
	seq_printf(m, "purged_pages %lu\n", purged);
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
	seq_escape_str(m, area_name(area), ASHMEM_NAME_ESCAPE,
		       ASHMEM_NAME_ESCAPE_ALSO);
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

/*
 * Another driver's /dev/ashmem (ashmem_linux from Anbox or redroid, or a
 * kernel's own) would make misc_register() fail only after sysfs printed a
 * stack trace for the duplicate name: look for it first and say what to do.
 */
static int ashmem_check_name_free(void)
{
	struct path path;
	int ret;

	ret = kern_path("/sys/class/misc/ashmem", 0, &path);
	/* Out of memory to look: out of memory to load. */
	if (ret == -ENOMEM)
		return ret;
	if (ret)
		return 0;
	path_put(&path);
	pr_err("/dev/ashmem is taken by another driver (ashmem_linux?): unload it first, e.g. rmmod ashmem_linux\n");
	return -EBUSY;
}

static int __init ashmem_init(void)
{
	int ret;

	ret = ashmem_check_name_free();
	if (ret)
		return ret;

	ret = ashmem_backing_fops_init();
	if (ret)
		return ret;

	ret = -ENOMEM;
	ashmem_area_cache = KMEM_CACHE(ashmem_area, SLAB_ACCOUNT);
	if (!ashmem_area_cache)
		goto err_free_backing_fops;

	ashmem_range_cache = KMEM_CACHE(ashmem_range, SLAB_ACCOUNT);
	if (!ashmem_range_cache)
		goto err_destroy_area_cache;

	ashmem_punch_wq = alloc_workqueue("ashmem_punch",
					  WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!ashmem_punch_wq)
		goto err_destroy_range_cache;

	ashmem_shrinker = shrinker_alloc(SHRINKER_MEMCG_AWARE |
					 SHRINKER_NUMA_AWARE, "ashmem");
	if (!ashmem_shrinker)
		goto err_destroy_wq;
	ret = list_lru_init_memcg(&ashmem_lru, ashmem_shrinker);
	if (ret)
		goto err_free_shrinker;
	ashmem_misc.mode = node_mode & 0777;
	ret = misc_register(&ashmem_misc);
	if (ret)
		goto err_destroy_lru;

	/*
	 * Before 6.7 the shrinker is live from its allocation (see compat),
	 * so its callbacks, which walk the list, are set only once nothing
	 * can fail and the list be destroyed under them.
	 */
	ashmem_shrinker->count_objects = ashmem_shrink_count;
	ashmem_shrinker->scan_objects = ashmem_shrink_scan;
	/* Purging costs no I/O: reclaim takes half of the count at once. */
	ashmem_shrinker->seeks = 0;
	ashmem_shrinker->batch = 1;
	shrinker_register(ashmem_shrinker);
	ashmem_debugfs_init();
	return 0;

err_destroy_lru:
	list_lru_destroy(&ashmem_lru);
err_free_shrinker:
	shrinker_free(ashmem_shrinker);
err_destroy_wq:
	destroy_workqueue(ashmem_punch_wq);
err_destroy_range_cache:
	kmem_cache_destroy(ashmem_range_cache);
err_destroy_area_cache:
	kmem_cache_destroy(ashmem_area_cache);
err_free_backing_fops:
	/* No file uses it yet. */
	kfree(ashmem_backing_fops);
	return ret;
}

static void __exit ashmem_exit(void)
{
	debugfs_remove_recursive(ashmem_debugfs);
	misc_deregister(&ashmem_misc);
	shrinker_free(ashmem_shrinker);
	/* Every region is closed: the worker has nothing left but to finish. */
	destroy_workqueue(ashmem_punch_wq);
	list_lru_destroy(&ashmem_lru);
	kmem_cache_destroy(ashmem_range_cache);
	kmem_cache_destroy(ashmem_area_cache);
	/* ashmem_backing_fops stays: backing files may outlive the module. */
}

module_init(ashmem_init);
module_exit(ashmem_exit);

MODULE_DESCRIPTION("Android anonymous shared memory (/dev/ashmem)");
/* What Waydroid, Anbox-era scripts and many guides modprobe. */
MODULE_ALIAS("ashmem_linux");
MODULE_AUTHOR("The ashmem module authors");
MODULE_LICENSE("GPL");
MODULE_VERSION(ASHMEM_VERSION);
