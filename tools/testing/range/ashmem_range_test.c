// SPDX-License-Identifier: GPL-2.0
/*
 * ashmem_range_test: the driver's range code, exhaustively, in userspace.
 *
 * Builds ashmem_range.c, the very file the module includes, against the
 * stand-ins in include/linux/ and the kernel's own rbtree and interval
 * tree (tools/include, tools/lib/rbtree.c), as tools/testing/vma does
 * with mm/vma.c. Then, for regions of 1 to 6 pages, runs every sequence of
 * operations up to a depth (6 for one page, 3 for five or six: 9 million
 * sequences, in a second or two) and after each step compares the driver
 * with the model of tools/testing/shared/pin_model.h, which the fuzzer
 * shares:
 *
 *   PIN, UNPIN, GET_PIN_STATUS	every page-aligned (offset, len) inside
 *				the region, len 0 ("to the end") included,
 *				as ashmem_pin(), ashmem_unpin() and
 *				ashmem_pin_status() call the range code
 *   purge K			reclaim purges the K-th unpurged range:
 *				marks it purged and queues it to be punched
 *   purge all			PURGE_ALL_CACHES: each unpurged range so
 *   punch			the worker punches every queued range
 *
 * It compares what each returns, the state of every page (pinned,
 * unpinned, purged), the page counters, and the driver's invariants:
 * ranges ordered, disjoint, non-empty and inside the region, no two
 * unpurged ones touching, the interval tree's subtree_last, each range on
 * the list its state says (LRU, punch queue, none), as many ranges taken
 * from @spare as pin_pieces() or unpin_pieces() said at most, no warning
 * (ranges_check() runs as with CONFIG_DEBUG_VM) and, as release does it,
 * every state emptied to counters of 0. The depths are searched one after
 * the other, so that a failure is shown with a shortest sequence. A first
 * test checks pin_range()'s reading of the ioctl's argument against the
 * model, for sizes from 0 to past 4 GiB and offsets and lengths aligned
 * or not, inside, at and past the end, and overflowing 32 bits.
 *
 * Usage: ashmem_range_test [--depth N]	(N for every size; default: above)
 *
 * Prints TAP with a kselftest "# Totals" line; exits 1 if a test failed,
 * or if it runs for more than 2 minutes without --depth (the defaults
 * take seconds: the range code must be looping).
 * A failure prints the sequence that led to it, the driver's ranges and
 * the model.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/stringify.h>

/* The driver's range code: the file itself, as the module includes it. */
#include "../../../ashmem_range.c"

#include "pin_model.h"

#define MAX_PAGES	6
#define MAX_DEPTH	8
/* PIN, UNPIN, GET_PIN_STATUS; purge and idle of each range; the rest. */
#define MAX_OPS		(3 * (MAX_PAGES + 1) * (MAX_PAGES + 2) / 2 + \
			 2 * MAX_PAGES + 2)
/* The default depths take seconds: longer is an endless loop. */
#define TIMEOUT		120
/* Ranges given beyond what pin_pieces() or unpin_pieces() ask for. */
#define SPARE_EXTRA	2

/* Depth per region size, in pages: all of them take a second or two. */
static const unsigned int default_depth[MAX_PAGES + 1] = {
	0, 6, 5, 4, 4, 3, 3,
};

enum op_kind {
	OP_PIN, OP_UNPIN, OP_STATUS, OP_PURGE, OP_PURGE_ALL, OP_PUNCH, OP_IDLE
};

struct op {
	enum op_kind kind;
	unsigned int offset, len;	/* pages */
	unsigned int k;			/* OP_PURGE, OP_IDLE: which range */
};

struct state {
	struct ashmem_area area;
	struct pin_model model;
};

static unsigned int pages;		/* of the region under test */
static struct state states[MAX_DEPTH + 1];
static struct op path[MAX_DEPTH];
static struct op pin_ops[MAX_OPS];
static unsigned int nr_pin_ops;
static unsigned long long nodes[MAX_DEPTH + 1];
static long ranges_allocated;
static unsigned int warnings;
static char failure[4096];

static void pin_model_oom(void)
{
	fprintf(stderr, "out of memory for the model\n");
	exit(1);
}

void range_test_warn(const char *file, int line, const char *cond)
{
	if (!warnings++)
		printf("# warning at %s:%d: %s\n", file, line, cond);
}

/* Records the first failure of a test; returns false. */
static bool __printf(1, 2) fail(const char *fmt, ...)
{
	va_list ap;

	if (!failure[0]) {
		va_start(ap, fmt);
		vsnprintf(failure, sizeof(failure), fmt, ap);
		va_end(ap);
	}
	return false;
}

static struct ashmem_range *range_alloc(void)
{
	struct ashmem_range *range = calloc(1, sizeof(*range));

	if (!range) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	INIT_LIST_HEAD(&range->lru);
	ranges_allocated++;
	return range;
}

static void ranges_release(struct list_head *list)
{
	struct ashmem_range *range, *next;

	list_for_each_entry_safe(range, next, list, lru) {
		list_del(&range->lru);
		free(range);
		ranges_allocated--;
	}
}

static void spare_fill(struct list_head *spare, unsigned int n)
{
	while (n--)
		list_add(&range_alloc()->lru, spare);
}

static unsigned int list_count(struct list_head *list)
{
	struct list_head *pos;
	unsigned int n = 0;

	list_for_each(pos, list)
		n++;
	return n;
}

static void area_init(struct ashmem_area *area)
{
	memset(area, 0, sizeof(*area));
	area->size = pages * PAGE_SIZE;
	area->ranges = RB_ROOT_CACHED;
	INIT_LIST_HEAD(&area->idle_ranges);
	INIT_LIST_HEAD(&area->punch_queue);
}

/* ---- What the driver does around the range code, single-threaded ------ */

/* ashmem_pin(), with its settling: queued ranges in the way are punched. */
static int do_pin(struct ashmem_area *area, pgoff_t start, pgoff_t last)
{
	struct ashmem_range *range;
	unsigned int want, left;
	LIST_HEAD(spare);
	LIST_HEAD(dead);
	int ret;

	area->ranges_lock.held = true;
	while ((range = range_queued_in(area, start, last)))
		range_unqueue(range);
	want = pin_pieces(area, start, last);
	spare_fill(&spare, want + SPARE_EXTRA);
	ret = pin_locked(area, start, last, &spare, &dead);
	ranges_check(area, start, last);
	area->ranges_lock.held = false;
	left = list_count(&spare);
	ranges_release(&spare);
	ranges_release(&dead);
	if (want + SPARE_EXTRA - left > want)
		return fail("PIN took %u ranges, pin_pieces() said %u",
			    want + SPARE_EXTRA - left, want), -1;
	return ret;
}

/* ashmem_unpin(): purged ranges in the way are no matter. */
static bool do_unpin(struct ashmem_area *area, pgoff_t start, pgoff_t last)
{
	unsigned int want, left;
	LIST_HEAD(spare);
	LIST_HEAD(dead);

	area->ranges_lock.held = true;
	want = unpin_pieces(area, start, last);
	spare_fill(&spare, want + SPARE_EXTRA);
	unpin_locked(area, start, last, &spare, &dead);
	ranges_check(area, start, last);
	area->ranges_lock.held = false;
	left = list_count(&spare);
	ranges_release(&spare);
	ranges_release(&dead);
	if (want + SPARE_EXTRA - left > want)
		return fail("UNPIN took %u ranges, unpin_pieces() said %u",
			    want + SPARE_EXTRA - left, want);
	return true;
}

/* The K-th unpurged range, in order; NULL if there are not that many. */
static struct ashmem_range *unpurged_range(struct ashmem_area *area,
					   unsigned int k)
{
	struct ashmem_range *range;

	for (range = range_first(area); range; range = range_next(range))
		if (!range->purged && !k--)
			return range;
	return NULL;
}

static unsigned int unpurged_ranges(struct ashmem_area *area)
{
	struct ashmem_range *range;
	unsigned int n = 0;

	for (range = range_first(area); range; range = range_next(range))
		n += !range->purged;
	return n;
}

/*
 * ashmem_lru_isolate(): reclaim takes @range off the LRU and purges it;
 * or PURGE_ALL_CACHES takes it off its area's idle list.
 */
static void do_purge(struct ashmem_area *area, struct ashmem_range *range)
{
	area->ranges_lock.held = true;
	list_del_init(&range->lru);
	if (!range->idle)
		ashmem_lru.nr_items--;
	range_purge(area, range);
	area->ranges_lock.held = false;
}

/* ashmem_lru_idle(): reclaim finds @range holding no memory. */
static void do_idle(struct ashmem_area *area, struct ashmem_range *range)
{
	area->ranges_lock.held = true;
	list_del_init(&range->lru);
	ashmem_lru.nr_items--;
	range_idle(area, range);
	area->ranges_lock.held = false;
}

/* The @k-th range on the LRU (unpurged, not idle), or NULL. */
static struct ashmem_range *busy_range(struct ashmem_area *area,
				       unsigned int k)
{
	struct ashmem_range *range;

	for (range = range_first(area); range; range = range_next(range))
		if (!range->purged && !range->idle && !k--)
			return range;
	return NULL;
}

/* The worker: area_punch_queued(). */
static void do_punch(struct ashmem_area *area)
{
	struct ashmem_range *range;

	area->ranges_lock.held = true;
	while ((range = list_first_entry_or_null(&area->punch_queue,
						 struct ashmem_range, lru)))
		range_unqueue(range);
	area->ranges_lock.held = false;
}

/* ashmem_release(): punches what is queued, then frees every range. */
static bool do_release(struct ashmem_area *area)
{
	struct ashmem_range *range;
	LIST_HEAD(dead);

	area->ranges_lock.held = true;
	while ((range = range_queued_in(area, 0, ULONG_MAX)))
		range_unqueue(range);
	ranges_clear(area, &dead);
	area->ranges_lock.held = false;
	ranges_release(&dead);
	if (area->unpinned_pages || area->purged_pages)
		return fail("after release: %lu pages unpinned, %lu purged",
			    area->unpinned_pages, area->purged_pages);
	return true;
}

/*
 * Makes @dst a copy of @src, through range_insert() (which counts the
 * pages again) after releasing what @dst held.
 */
static bool state_copy(struct state *dst, const struct state *src)
{
	const struct ashmem_area *from = &src->area;
	struct ashmem_area *area = &dst->area;
	struct ashmem_range *range, *copy;
	struct rb_node *node;

	if (!do_release(area))
		return false;
	area->ranges_lock.held = true;
	for (node = rb_first_cached(&from->ranges); node; node = rb_next(node)) {
		range = rb_entry(node, struct ashmem_range, node);
		copy = range_alloc();
		copy->start = range->start;
		copy->last = range->last;
		copy->purged = range->purged;
		range_insert(area, copy);
		if (range->punch_queued) {
			copy->punch_queued = true;
			list_add_tail(&copy->lru, &area->punch_queue);
			area->queued++;
		}
	}
	area->ranges_lock.held = false;
	if (area->unpinned_pages != from->unpinned_pages ||
	    area->purged_pages != from->purged_pages)
		return fail("a copy counts %lu, %lu pages, not %lu, %lu",
			    area->unpinned_pages, area->purged_pages,
			    from->unpinned_pages, from->purged_pages);
	pin_model_copy(&dst->model, &src->model);
	return true;
}

/* ---- Checks ----------------------------------------------------------- */

/* The interval tree's bookkeeping below @node; its subtree_last. */
static bool check_subtree(struct rb_node *node, pgoff_t *subtree_last)
{
	struct ashmem_range *range = rb_entry(node, struct ashmem_range, node);
	pgoff_t last = range->last, child;

	if (node->rb_left) {
		if (!check_subtree(node->rb_left, &child))
			return false;
		last = max(last, child);
	}
	if (node->rb_right) {
		if (!check_subtree(node->rb_right, &child))
			return false;
		last = max(last, child);
	}
	if (range->subtree_last != last)
		return fail("range [%lu, %lu]: subtree_last %lu, not %lu",
			    range->start, range->last, range->subtree_last,
			    last);
	*subtree_last = last;
	return true;
}

/* Whether @item is on @list. */
static bool on_list(struct list_head *list, struct list_head *item)
{
	struct list_head *pos;

	list_for_each(pos, list)
		if (pos == item)
			return true;
	return false;
}

static const char *const page_state_name[] = {
	[PIN_MODEL_PINNED] = "pinned",
	[PIN_MODEL_UNPINNED] = "unpinned",
	[PIN_MODEL_PURGED] = "purged",
};

/* The driver's state against its invariants and the model. */
static bool check_state(struct state *s)
{
	struct ashmem_area *area = &s->area;
	enum pin_model_page page_state[MAX_PAGES];
	struct ashmem_range *range, *prev = NULL;
	pgoff_t unpinned = 0, purged = 0, p, subtree_last;
	unsigned int queued = 0, on_lru = 0;
	struct list_head *pos;

	if (warnings)
		return fail("the range code warned");
	for (p = 0; p < pages; p++)
		page_state[p] = PIN_MODEL_PINNED;
	for (range = range_first(area); range; prev = range,
	     range = range_next(range)) {
		if (range->area != area)
			return fail("range [%lu, %lu] of another area",
				    range->start, range->last);
		if (range->last < range->start || range->last >= pages)
			return fail("range [%lu, %lu] empty or past the end",
				    range->start, range->last);
		if (prev && prev->last >= range->start)
			return fail("ranges [%lu, %lu] and [%lu, %lu] out of order or overlapping",
				    prev->start, prev->last, range->start,
				    range->last);
		if (prev && prev->last + 1 == range->start && !prev->purged &&
		    !range->purged)
			return fail("unpurged ranges [%lu, %lu] and [%lu, %lu] touch",
				    prev->start, prev->last, range->start,
				    range->last);
		if (range->punch_queued && !range->purged)
			return fail("range [%lu, %lu] queued, not purged",
				    range->start, range->last);
		if (range->idle && (range->purged ||
				    !on_list(&area->idle_ranges, &range->lru)))
			return fail("idle range [%lu, %lu] purged or not on the idle list",
				    range->start, range->last);
		if (!range->purged && !range->idle) {
			if (!on_list(&ashmem_lru.list, &range->lru))
				return fail("unpurged range [%lu, %lu] not on the LRU",
					    range->start, range->last);
			on_lru++;
		} else if (range->idle) {
			/* Checked above. */
		} else if (range->punch_queued) {
			if (!on_list(&area->punch_queue, &range->lru))
				return fail("queued range [%lu, %lu] not on the punch queue",
					    range->start, range->last);
			queued++;
		} else if (!list_empty(&range->lru)) {
			return fail("punched range [%lu, %lu] still on a list",
				    range->start, range->last);
		}
		for (p = range->start; p <= range->last; p++)
			page_state[p] = range->purged ? PIN_MODEL_PURGED :
							PIN_MODEL_UNPINNED;
		unpinned += range_pages(range);
		if (range->purged)
			purged += range_pages(range);
	}
	if (list_count(&area->punch_queue) != queued)
		return fail("%u ranges on the punch queue, %u queued",
			    list_count(&area->punch_queue), queued);
	if (area->queued != queued)
		return fail("area->queued is %lu, %u ranges queued",
			    area->queued, queued);
	list_for_each(pos, &ashmem_lru.list)
		on_lru -= list_entry(pos, struct ashmem_range, lru)->area == area;
	if (on_lru)
		return fail("the LRU holds ranges of the area that are not unpurged ranges of it");
	if (area->unpinned_pages != unpinned || area->purged_pages != purged)
		return fail("counters: %lu pages unpinned, %lu purged; the ranges hold %lu, %lu",
			    area->unpinned_pages, area->purged_pages,
			    unpinned, purged);
	if (area->ranges.rb_root.rb_node &&
	    !check_subtree(area->ranges.rb_root.rb_node, &subtree_last))
		return false;
	for (p = 0; p < pages; p++)
		if (page_state[p] != pin_model_page(&s->model, p))
			return fail("page %lu is %s, the model says %s", p,
				    page_state_name[page_state[p]],
				    page_state_name[pin_model_page(&s->model, p)]);
	return true;
}

/* ---- Operations ------------------------------------------------------- */

static const char *const pin_cmd_name[] = {
	[OP_PIN] = "PIN", [OP_UNPIN] = "UNPIN", [OP_STATUS] = "GET_PIN_STATUS",
};

/* A PIN, UNPIN or GET_PIN_STATUS from the ioctl's argument on. */
static bool apply_pin_op(struct state *s, const struct op *op)
{
	struct ashmem_pin pin = {
		.offset = op->offset * PAGE_SIZE,
		.len = op->len * PAGE_SIZE,
	};
	struct ashmem_area *area = &s->area;
	__u64 mstart = 0, mlast = 0;
	pgoff_t start = 0, last = 0;
	bool empty = false;
	int ret, mret;

	ret = pin_range(area->size, &pin, &start, &last);
	mret = pin_model_args(pages, PAGE_SIZE, pin.offset, pin.len, &mstart,
			      &mlast, &empty);
	if (ret < 0 || mret < 0)
		return fail("pin_range() says %d, the model %d", ret, mret);
	if (!ret != empty || (ret && (start != mstart || last != mlast)))
		return fail("pin_range() gives [%lu, %lu] (%d), the model [%llu, %llu] (%s)",
			    start, last, ret, (unsigned long long)mstart,
			    (unsigned long long)mlast,
			    empty ? "empty" : "not empty");
	if (!ret)	/* the ioctl answers this one by itself */
		return true;

	switch (op->kind) {
	case OP_PIN: {
		struct pin_model before = { 0 };
		bool ok;

		/* The model first: a failure shows the state it expects. */
		pin_model_copy(&before, &s->model);
		pin_model_pin(&s->model, start, last);
		ret = do_pin(area, start, last);
		ok = ret >= 0 && pin_model_pin_answer_ok(&before, start, last,
							 ret);
		if (ret >= 0 && !ok)
			fail("PIN returned %d, the model says %s", ret,
			     pin_model_pin_answers(&before, start, last) ==
			     PIN_MODEL_WAS_PURGED ? "ASHMEM_WAS_PURGED" :
			     "ASHMEM_NOT_PURGED");
		pin_model_free(&before);
		return ok;
	}
	case OP_UNPIN:
		pin_model_unpin(&s->model, start, last);
		return do_unpin(area, start, last);
	default:
		area->ranges_lock.held = true;
		ret = pin_status_locked(area, start, last);
		area->ranges_lock.held = false;
		mret = pin_model_status(&s->model, start, last);
		if (ret != mret)
			return fail("GET_PIN_STATUS returned %d, the model says %d",
				    ret, mret);
		return true;
	}
}

static bool purge_one(struct state *s, unsigned int k)
{
	struct ashmem_range *range = unpurged_range(&s->area, k);
	__u64 start, last;

	if (!pin_model_purgeable(&s->model, k, &start, &last))
		return fail("the model has no unpurged range %u", k);
	if (!range || range->start != start || range->last != last)
		return fail("unpurged range %u: [%ld, %ld], the model's [%llu, %llu]",
			    k, range ? (long)range->start : -1L,
			    range ? (long)range->last : -1L,
			    (unsigned long long)start,
			    (unsigned long long)last);
	pin_model_purge(&s->model, start, last);
	do_purge(&s->area, range);
	return true;
}

static bool apply(struct state *s, const struct op *op)
{
	struct ashmem_range *range;

	switch (op->kind) {
	case OP_IDLE:
		/* Pages stay unpinned and unpurged: the model does not change. */
		range = busy_range(&s->area, op->k);
		if (!range)
			return fail("no range %u on the LRU", op->k);
		do_idle(&s->area, range);
		return true;
	case OP_PURGE:
		return purge_one(s, op->k);
	case OP_PURGE_ALL:
		while (unpurged_ranges(&s->area))
			if (!purge_one(s, 0))
				return false;
		return true;
	case OP_PUNCH:
		do_punch(&s->area);
		return true;
	default:
		return apply_pin_op(s, op);
	}
}

static int op_str(char *buf, size_t size, const struct op *op)
{
	switch (op->kind) {
	case OP_PURGE:
		return snprintf(buf, size, "purge %u", op->k);
	case OP_PURGE_ALL:
		return snprintf(buf, size, "purge all");
	case OP_PUNCH:
		return snprintf(buf, size, "punch");
	case OP_IDLE:
		return snprintf(buf, size, "idle %u", op->k);
	default:
		return snprintf(buf, size, "%s(%u, %u)", pin_cmd_name[op->kind],
				op->offset, op->len);
	}
}

static void show_failure(unsigned int depth)
{
	struct state *s = &states[depth];
	struct ashmem_range *range;
	unsigned int i;
	char buf[64];

	printf("# after:");
	for (i = 0; i < depth; i++) {
		op_str(buf, sizeof(buf), &path[i]);
		printf(" %s", buf);
	}
	printf("\n# (offset and len in pages)\n# driver:");
	for (range = range_first(&s->area); range; range = range_next(range))
		printf(" [%lu, %lu]%s", range->start, range->last,
		       range->punch_queued ? " queued" :
		       range->purged ? " purged" :
		       range->idle ? " idle" : "");
	printf("\n# model: unpinned");
	for (i = 0; i < s->model.unpinned.n; i++)
		printf(" [%llu, %llu]",
		       (unsigned long long)s->model.unpinned.iv[i].start,
		       (unsigned long long)s->model.unpinned.iv[i].last);
	printf(", purged");
	for (i = 0; i < s->model.purged.n; i++)
		printf(" [%llu, %llu]",
		       (unsigned long long)s->model.purged.iv[i].start,
		       (unsigned long long)s->model.purged.iv[i].last);
	printf("\n");
}

/* The operations that apply to @s: the purges depend on its ranges. */
static unsigned int ops_for(struct state *s, struct op *ops)
{
	unsigned int n = nr_pin_ops, k, unpurged;

	memcpy(ops, pin_ops, n * sizeof(*ops));
	unpurged = unpurged_ranges(&s->area);
	for (k = 0; k < unpurged; k++)
		ops[n++] = (struct op){ .kind = OP_PURGE, .k = k };
	/* All of one range is purge 0. */
	if (unpurged > 1)
		ops[n++] = (struct op){ .kind = OP_PURGE_ALL };
	if (!list_empty(&s->area.punch_queue))
		ops[n++] = (struct op){ .kind = OP_PUNCH };
	for (k = 0; busy_range(&s->area, k); k++)
		ops[n++] = (struct op){ .kind = OP_IDLE, .k = k };
	return n;
}

/*
 * Every sequence of operations from states[d] on, to @depth; counts those
 * of @depth operations. Each is checked at every step.
 */
static bool explore(unsigned int d, unsigned int depth)
{
	struct op ops[MAX_OPS];
	unsigned int i, n;

	if (d == depth) {
		nodes[d]++;
		return true;
	}
	n = ops_for(&states[d], ops);
	for (i = 0; i < n; i++) {
		path[d] = ops[i];
		if (!state_copy(&states[d + 1], &states[d]) ||
		    !apply(&states[d + 1], &ops[i]) ||
		    !check_state(&states[d + 1])) {
			show_failure(d + 1);
			return false;
		}
		if (!explore(d + 1, depth))
			return false;
	}
	return true;
}

static bool test_sequences(unsigned int depth, unsigned long long *total)
{
	unsigned int i, d, offset, len;
	enum op_kind kind;
	bool ok;

	nr_pin_ops = 0;
	for (kind = OP_PIN; kind <= OP_STATUS; kind++)
		for (offset = 0; offset <= pages; offset++)
			for (len = 0; offset + len <= pages; len++)
				pin_ops[nr_pin_ops++] = (struct op){
					.kind = kind,
					.offset = offset,
					.len = len,
				};
	for (i = 0; i <= depth; i++)
		area_init(&states[i].area);
	memset(nodes, 0, sizeof(nodes));
	/* Deeper and deeper: the first failure is of a shortest sequence. */
	ok = check_state(&states[0]);
	for (d = 1; ok && d <= depth; d++)
		ok = explore(0, d);
	for (i = 0; i <= depth; i++) {
		ok &= do_release(&states[i].area);
		pin_model_free(&states[i].model);
	}
	if (ranges_allocated)
		ok = fail("%ld ranges not freed", ranges_allocated);
	if (ashmem_lru.nr_items || !list_empty(&ashmem_lru.list))
		ok = fail("%ld ranges left on the LRU", ashmem_lru.nr_items);
	*total = 0;
	for (d = 1; d <= depth; d++) {
		printf("# %u page%s: %llu sequences of %u operation%s\n",
		       pages, pages > 1 ? "s" : "", nodes[d], d,
		       d > 1 ? "s" : "");
		*total += nodes[d];
	}
	return ok;
}

/* pin_range() against the model for one argument. */
static bool check_args(__u64 size, __u32 offset, __u32 len)
{
	struct ashmem_pin pin = { offset, len };
	__u64 mstart = 0, mlast = 0;
	pgoff_t start = 0, last = 0;
	bool empty = false;
	int ret, mret;

	ret = pin_range(size, &pin, &start, &last);
	mret = pin_model_args((size + PAGE_SIZE - 1) / PAGE_SIZE, PAGE_SIZE,
			      offset, len, &mstart, &mlast, &empty);
	if (ret < 0 ? ret == mret :
	    !mret && !ret == empty && (!ret || (start == mstart &&
						last == mlast)))
		return true;
	return fail("size %#llx, offset %#x, len %#x: %d [%lu, %lu], the model %d [%llu, %llu]%s",
		    (unsigned long long)size, offset, len, ret, start, last,
		    mret, (unsigned long long)mstart,
		    (unsigned long long)mlast, empty ? " empty" : "");
}

/* pin_range() against the model, for every offset and len of a few sizes. */
static bool test_arguments(unsigned long long *cases)
{
	static const __u32 odd[] = {
		1, PAGE_SIZE - 1, PAGE_SIZE + 1, 0x7ffff000, 0x80000000,
		0xfffff000, 0xffffffff,
	};
	static const __u64 sizes[] = {
		0, 1, PAGE_SIZE - 1, PAGE_SIZE, PAGE_SIZE + 1, 3 * PAGE_SIZE,
		7 * PAGE_SIZE - 1, 7 * PAGE_SIZE, 0xfffff000, 0x100000000ULL,
		0x100001000ULL,
	};
	__u32 vals[9 * 2 + ARRAY_SIZE(odd)];
	unsigned int i, j, k, nvals = 0;

	for (i = 0; i <= 8; i++) {
		vals[nvals++] = i * PAGE_SIZE;
		vals[nvals++] = i * PAGE_SIZE + 512;
	}
	for (i = 0; i < ARRAY_SIZE(odd); i++)
		vals[nvals++] = odd[i];
	*cases = 0;
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		for (j = 0; j < nvals; j++) {
			for (k = 0; k < nvals; k++) {
				(*cases)++;
				if (!check_args(sizes[i], vals[j], vals[k]))
					return false;
			}
		}
	}
	return true;
}

static void timed_out(int sig)
{
	static const char msg[] = "Bail out! still running after "
		__stringify(TIMEOUT) " s: does the range code loop?\n";

	/* The TAP so far is out: stdout is line buffered. */
	if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(2);
	_exit(1);
}

int main(int argc, char **argv)
{
	unsigned int depth_arg = 0, depth, passed = 0, failed = 0, test = 1;
	unsigned long long total, all = 0;
	struct timespec t0, t1;
	bool ok;

	if (argc == 3 && !strcmp(argv[1], "--depth")) {
		depth_arg = strtoul(argv[2], NULL, 10);
		if (!depth_arg || depth_arg > MAX_DEPTH) {
			fprintf(stderr, "--depth: 1 to %u\n", MAX_DEPTH);
			return 2;
		}
	} else if (argc != 1) {
		fprintf(stderr, "usage: %s [--depth N]\n", argv[0]);
		return 2;
	}
	INIT_LIST_HEAD(&ashmem_lru.list);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!depth_arg) {
		signal(SIGALRM, timed_out);
		alarm(TIMEOUT);
	}

	printf("TAP version 13\n1..%u\n", MAX_PAGES + 1);
	failure[0] = '\0';
	ok = test_arguments(&total);
	if (!ok)
		printf("# %s\n", failure);
	printf("# %llu arguments\n", total);
	printf("%sok %u pin_range() reads the argument as the model does\n",
	       ok ? "" : "not ", test++);
	passed += ok;
	failed += !ok;

	for (pages = 1; pages <= MAX_PAGES; pages++) {
		depth = depth_arg ? depth_arg : default_depth[pages];
		failure[0] = '\0';
		warnings = 0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		ok = test_sequences(depth, &total);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (!ok && failure[0])
			printf("# %s\n", failure);
		printf("# %u page%s: %llu sequences in %.2f s\n", pages,
		       pages > 1 ? "s" : "", total,
		       (t1.tv_sec - t0.tv_sec) +
		       (t1.tv_nsec - t0.tv_nsec) / 1e9);
		printf("%sok %u every sequence of up to %u operations on %u page%s\n",
		       ok ? "" : "not ", test++, depth, pages,
		       pages > 1 ? "s" : "");
		passed += ok;
		failed += !ok;
		all += total;
	}
	printf("# %llu sequences in all\n", all);
	printf("# Totals: pass:%u fail:%u xfail:0 xpass:0 skip:0 error:0\n",
	       passed, failed);
	return failed ? 1 : 0;
}
