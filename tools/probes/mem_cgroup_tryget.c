// SPDX-License-Identifier: GPL-2.0
/* mem_cgroup_tryget(): a reference on a memory cgroup, from 6.2. */
#include <linux/memcontrol.h>

bool probe(struct mem_cgroup *memcg);
bool probe(struct mem_cgroup *memcg)
{
	return mem_cgroup_tryget(memcg);
}
