// SPDX-License-Identifier: GPL-2.0
/*
 * list_lru_one.lock: each list got its own lock, which walk callbacks are
 * no longer passed (6.13).
 */
#include <linux/list_lru.h>

static enum lru_status probe_isolate(struct list_head *item,
				     struct list_lru_one *list, void *arg)
{
	spin_unlock(&list->lock);
	spin_lock(&list->lock);
	return LRU_SKIP;
}

unsigned long probe(struct list_lru *lru);
unsigned long probe(struct list_lru *lru)
{
	return list_lru_walk(lru, probe_isolate, NULL, 1);
}
