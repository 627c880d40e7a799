// SPDX-License-Identifier: GPL-2.0
/*
 * ashmem: the bookkeeping of unpinned ranges.
 *
 * An area's unpinned pages are ranges in an interval tree, in page units:
 * disjoint, ordered, never empty, and no two unpurged ones touch. PIN cuts
 * them back, UNPIN adds and merges them, reclaim marks one purged and
 * queues it to be punched (see "Purge protocol" in ashmem.c).
 *
 * Nothing here allocates, sleeps or touches pages, and all of it but
 * pin_range() runs under the area's ranges_lock: the caller brings the
 * ranges a change may take (@spare, as many as pin_pieces() or
 * unpin_pieces() say) and frees those it leaves (@dead). ashmem.c includes this file, and so does
 * tools/testing/range/, which builds it against userspace stand-ins of the
 * kernel headers below and checks it against a model of the ABI.
 */
#include <linux/bug.h>
#include <linux/errno.h>
#include <linux/interval_tree_generic.h>
#include <linux/list.h>
#include <linux/list_lru.h>
#include <linux/lockdep.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/rbtree.h>
#include <linux/types.h>

#include "uapi/linux/ashmem.h"
#include "ashmem.h"

/* Unpinned, unpurged ranges, oldest first, per memory cgroup and node. */
static struct list_lru ashmem_lru;

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
	range->idle = false;
	if (range->purged)
		area->purged_pages += pages;
	else
		list_lru_add_obj(&ashmem_lru, &range->lru);
}

/* Takes @range, which reclaim queued, off the queue to punch it. */
static void range_unqueue(struct ashmem_range *range)
{
	range->punch_queued = false;
	list_del_init(&range->lru);
	WRITE_ONCE(range->area->queued, range->area->queued - 1);
}

/*
 * Reclaim found @range, which it just took off ashmem_lru, holding no
 * memory: it waits on the area's idle list, where it neither uses up
 * reclaim's scans nor hides the ranges that hold memory. PURGE_ALL_CACHES
 * still purges it; it goes back to ashmem_lru when PIN or UNPIN next
 * changes it.
 */
static void range_idle(struct ashmem_area *area, struct ashmem_range *range)
{
	lockdep_assert_held(&area->ranges_lock);

	range->idle = true;
	list_add_tail(&range->lru, &area->idle_ranges);
}

static void range_remove(struct ashmem_area *area, struct ashmem_range *range)
{
	pgoff_t pages = range_pages(range);

	lockdep_assert_held(&area->ranges_lock);

	range_tree_remove(range, &area->ranges);
	area->unpinned_pages -= pages;
	if (range->purged)
		area->purged_pages -= pages;
	else if (range->idle)
		list_del_init(&range->lru);
	else
		list_lru_del_obj(&ashmem_lru, &range->lru);
	/* PIN and release punch queued ranges before they remove them. */
	if (WARN_ON_ONCE(range->punch_queued))
		range_unqueue(range);
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
	range->punch_queued = false;
	range->idle = false;
	return range;
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

/*
 * The pages [*start, *last] of a PIN, UNPIN or GET_PIN_STATUS of @pin in
 * a region of @size bytes: page aligned, len 0 meaning "to the end",
 * computed in 64 bits so that it reaches the end of regions larger than
 * 4 GiB. Returns 1, 0 for the empty range at the end, or -EINVAL.
 */
static int pin_range(size_t size, const struct ashmem_pin *pin,
		     pgoff_t *start, pgoff_t *last)
{
	u64 end = PAGE_ALIGN((u64)size);
	u64 len;

	if ((pin->offset | pin->len) & ~PAGE_MASK || pin->offset > end)
		return -EINVAL;
	len = pin->len ? pin->len : end - pin->offset;
	if (len > end - pin->offset)
		return -EINVAL;
	if (!len)
		return 0;
	*start = pin->offset >> PAGE_SHIFT;
	*last = *start + (len >> PAGE_SHIFT) - 1;
	return 1;
}

static int pin_status_locked(struct ashmem_area *area, pgoff_t start,
			     pgoff_t last)
{
	lockdep_assert_held(&area->ranges_lock);

	if (range_tree_iter_first(&area->ranges, start, last))
		return ASHMEM_IS_UNPINNED;
	return ASHMEM_IS_PINNED;
}

/*
 * Reclaim purges @range, which it took off the LRU: its pages are lost
 * from here on, and punched by whoever takes it off the area's
 * punch_queue (range_unqueue()).
 */
static void range_purge(struct ashmem_area *area, struct ashmem_range *range)
{
	lockdep_assert_held(&area->ranges_lock);

	range->purged = true;
	range->idle = false;
	range->punch_queued = true;
	list_add_tail(&range->lru, &area->punch_queue);
	WRITE_ONCE(area->queued, area->queued + 1);
	area->purged_pages += range_pages(range);
	ranges_check(area, range->start, range->last);
}

/* A range in [start, last] that reclaim queued to be punched, if any. */
static struct ashmem_range *range_queued_in(struct ashmem_area *area,
					    pgoff_t start, pgoff_t last)
{
	struct ashmem_range *range;

	lockdep_assert_held(&area->ranges_lock);

	for (range = range_tree_iter_first(&area->ranges, start, last); range;
	     range = range_tree_iter_next(range, start, last)) {
		if (range->punch_queued)
			return range;
	}
	return NULL;
}

/* Moves every range of @area to @dead; none may be queued. */
static void ranges_clear(struct ashmem_area *area, struct list_head *dead)
{
	struct ashmem_range *range;

	while ((range = range_first(area))) {
		range_remove(area, range);
		list_add(&range->lru, dead);
	}
}
