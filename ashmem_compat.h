/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel APIs ashmem.c uses, as the newest target kernel has them,
 * provided on the older targets. Each shim carries the name of the API it
 * stands in for, so the driver is written once against the newest kernel.
 * Whether a tree has an API is probed at build time (ashmem_features.h,
 * from tools/probe-kernel.sh), as distributions backport.
 */
#ifndef _ASHMEM_COMPAT_H
#define _ASHMEM_COMPAT_H

#include <linux/fs.h>
#include <linux/list_lru.h>
#include <linux/mm.h>
#include <linux/shrinker.h>
#include <linux/slab.h>

#include "ashmem_features.h"

/* vm_flags became read-only behind accessors in 6.3. */
#ifndef ASHMEM_HAVE_VM_FLAGS_CLEAR
static inline void vm_flags_clear(struct vm_area_struct *vma,
				  vm_flags_t flags)
{
	vma->vm_flags &= ~flags;
}
#endif

/*
 * Shrinkers became dynamically allocated objects in 6.7. Before that, the
 * only exported way to get the memcg shrinker id that list_lru_init_memcg()
 * needs is to register: do so at once, with callbacks that find nothing
 * until the driver installs its own before calling shrinker_register().
 */
#ifndef ASHMEM_HAVE_SHRINKER_ALLOC
static unsigned long ashmem_shrink_nothing(struct shrinker *shrinker,
					   struct shrink_control *sc)
{
	return 0;
}

static inline struct shrinker *ashmem_shrinker_alloc(unsigned int flags,
						     const char *name)
{
	struct shrinker *shrinker;

	shrinker = kzalloc(sizeof(*shrinker), GFP_KERNEL);
	if (!shrinker)
		return NULL;
	shrinker->flags = flags;
	shrinker->seeks = DEFAULT_SEEKS;
	shrinker->count_objects = ashmem_shrink_nothing;
	shrinker->scan_objects = ashmem_shrink_nothing;
	if (register_shrinker(shrinker, "%s", name)) {
		kfree(shrinker);
		return NULL;
	}
	return shrinker;
}

#define shrinker_alloc(flags, name) ashmem_shrinker_alloc(flags, name)

static inline void shrinker_register(struct shrinker *shrinker)
{
}

static inline void shrinker_free(struct shrinker *shrinker)
{
	if (!shrinker)
		return;
	unregister_shrinker(shrinker);
	kfree(shrinker);
}
#endif

/*
 * 6.8 made list_lru_add()/list_lru_del() take an explicit node and memcg;
 * the _obj variants keep the old behaviour of using the object's own.
 */
#ifndef ASHMEM_HAVE_LIST_LRU_ADD_OBJ
static inline bool list_lru_add_obj(struct list_lru *lru,
				    struct list_head *item)
{
	return list_lru_add(lru, item);
}

static inline bool list_lru_del_obj(struct list_lru *lru,
				    struct list_head *item)
{
	return list_lru_del(lru, item);
}
#endif

/* call_mmap() was renamed vfs_mmap() when ->mmap_prepare arrived. */
#ifndef ASHMEM_HAVE_VFS_MMAP
static inline int vfs_mmap(struct file *file, struct vm_area_struct *vma)
{
	return call_mmap(file, vma);
}
#endif

#endif /* _ASHMEM_COMPAT_H */
