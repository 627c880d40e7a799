// SPDX-License-Identifier: GPL-2.0
/* list_lru_add_obj(): list_lru_add() took an explicit node and memcg (6.8). */
#include <linux/list_lru.h>

bool probe(struct list_lru *lru, struct list_head *item);
bool probe(struct list_lru *lru, struct list_head *item)
{
	return list_lru_add_obj(lru, item);
}
