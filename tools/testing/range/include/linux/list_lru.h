/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stand-in for the range test: one list, with the kernel's rules for
 * adding an item (only if it is on no list) and deleting one (only if it
 * is on one).
 */
#ifndef _RANGE_TEST_LINUX_LIST_LRU_H
#define _RANGE_TEST_LINUX_LIST_LRU_H

#include <linux/list.h>

struct list_lru {
	struct list_head list;
	long nr_items;
};

static inline bool list_lru_add_obj(struct list_lru *lru,
				    struct list_head *item)
{
	if (!list_empty(item))
		return false;
	list_add_tail(item, &lru->list);
	lru->nr_items++;
	return true;
}

static inline bool list_lru_del_obj(struct list_lru *lru,
				    struct list_head *item)
{
	if (list_empty(item))
		return false;
	list_del_init(item);
	lru->nr_items--;
	return true;
}

#endif /* _RANGE_TEST_LINUX_LIST_LRU_H */
