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
#include <linux/lockdep.h>
#include <linux/log2.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/shrinker.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/swap.h>

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

/*
 * Pages freed outside the LRUs count as reclaim progress through
 * current->reclaim_state; 6.4 renamed its reclaimed_slab field and added
 * this helper.
 */
#ifndef ASHMEM_HAVE_MM_ACCOUNT_RECLAIMED_PAGES
static inline void mm_account_reclaimed_pages(unsigned long pages)
{
	if (current->reclaim_state)
		current->reclaim_state->reclaimed_slab += pages;
}
#endif

/* 6.2 named the way to take a reference on a memory cgroup. */
#ifndef ASHMEM_HAVE_MEM_CGROUP_TRYGET
static inline bool mem_cgroup_tryget(struct mem_cgroup *memcg)
{
#ifdef CONFIG_MEMCG
	return !memcg || css_tryget(&memcg->css);
#else
	return true;
#endif
}
#endif

/*
 * The backing file's operations are a copy of shmem's without the hooks
 * that map, made by ashmem_fops_dup_without_mmap() (ashmem.c,
 * ashmem_backing_fops), and ashmem_fops_mmap() maps a vma with shmem's own
 * operations rather than its file's. Shmem maps through ->mmap up to 6.16
 * and through ->mmap_prepare from 6.17, which a driver's ->mmap applies to
 * an existing vma with compat_set_desc_from_vma() and __compat_vma_mmap()
 * since 7.0. In between there is no exported way: such kernels are not
 * supported. get_unmapped_area goes too: shmem's checks that the file's
 * operations are its own (VM_BUG_ON).
 */
#ifdef ASHMEM_HAVE_COMPAT_SET_DESC_FROM_VMA
static inline int ashmem_fops_mmap(const struct file_operations *fops,
				   struct file *file,
				   struct vm_area_struct *vma)
{
	struct vm_area_desc desc;
	int ret;

	if (!fops->mmap_prepare)
		return fops->mmap(file, vma);
	compat_set_desc_from_vma(&desc, file, vma);
	ret = fops->mmap_prepare(&desc);
	if (ret)
		return ret;
	return __compat_vma_mmap(&desc, vma);
}

/* From 6.17 shmem maps through ->mmap_prepare: the copy loses it too. */
static inline void fops_clear_mmap_prepare(struct file_operations *const fops)
{
	fops->mmap_prepare = NULL;
}
#elif defined(ASHMEM_HAVE_FOPS_MMAP_PREPARE)
#error "->mmap_prepare without compat_set_desc_from_vma(): kernels 6.17 to 6.19 are not supported"
#else
static inline int ashmem_fops_mmap(const struct file_operations *fops,
				   struct file *file,
				   struct vm_area_struct *vma)
{
	return fops->mmap(file, vma);
}

static inline void fops_clear_mmap_prepare(struct file_operations *const fops)
{
}
#endif

static inline const struct file_operations *
ashmem_fops_dup_without_mmap(const struct file_operations *fops)
{
	struct file_operations *const copy = kmemdup(fops, sizeof(*fops),
						     GFP_KERNEL);

	if (copy) {
		copy->mmap = NULL;
		fops_clear_mmap_prepare(copy);
		copy->get_unmapped_area = NULL;
	}
	return copy;
}

/*
 * 6.13 took the lock off the list_lru walk callback's arguments (each
 * list_lru_one got a lock of its own). The driver's callbacks never drop
 * it, so on older kernels they are only called through a wrapper of the
 * old signature.
 */
#ifndef ASHMEM_HAVE_LIST_LRU_ONE_LOCK
typedef enum lru_status (*ashmem_lru_walk_cb)(struct list_head *item,
					      struct list_lru_one *list,
					      void *cb_arg);

struct ashmem_lru_walk {
	ashmem_lru_walk_cb isolate;
	void *cb_arg;
};

static enum lru_status ashmem_lru_walk_one(struct list_head *item,
					   struct list_lru_one *list,
					   spinlock_t *lock, void *arg)
{
	struct ashmem_lru_walk *walk = arg;

	return walk->isolate(item, list, walk->cb_arg);
}

static inline unsigned long ashmem_list_lru_walk(struct list_lru *lru,
						 ashmem_lru_walk_cb isolate,
						 void *cb_arg,
						 unsigned long nr_to_walk)
{
	struct ashmem_lru_walk walk = { .isolate = isolate, .cb_arg = cb_arg };

	return list_lru_walk(lru, ashmem_lru_walk_one, &walk, nr_to_walk);
}

static inline unsigned long
ashmem_list_lru_shrink_walk(struct list_lru *lru, struct shrink_control *sc,
			    ashmem_lru_walk_cb isolate, void *cb_arg)
{
	struct ashmem_lru_walk walk = { .isolate = isolate, .cb_arg = cb_arg };

	return list_lru_shrink_walk(lru, sc, ashmem_lru_walk_one, &walk);
}

#define list_lru_walk(lru, isolate, cb_arg, nr_to_walk) \
	ashmem_list_lru_walk(lru, isolate, cb_arg, nr_to_walk)
#define list_lru_shrink_walk(lru, sc, isolate, cb_arg) \
	ashmem_list_lru_shrink_walk(lru, sc, isolate, cb_arg)
#endif

/*
 * VMA flags became a vma_flags_t bitmap, built from VMA_*_BIT numbers with
 * mk_vma_flags(), and shmem_file_setup() takes one. Before, they were the
 * bits of a vm_flags_t, which is what mk_vma_flags() builds here, for the
 * shmem_file_setup() of that time. Only the bits the driver uses exist.
 */
#ifndef ASHMEM_HAVE_SHMEM_FILE_SETUP_VMA_FLAGS
#define VMA_NORESERVE_BIT	ilog2(VM_NORESERVE)

static inline vm_flags_t ashmem_mk_vma_flags(const int *bits,
					     unsigned int count)
{
	vm_flags_t flags = 0;
	unsigned int i;

	for (i = 0; i < count; i++)
		flags |= BIT(bits[i]);
	return flags;
}

#define mk_vma_flags(...)						\
	ashmem_mk_vma_flags((const int []){ __VA_ARGS__ },		\
			    ARRAY_SIZE(((const int []){ __VA_ARGS__ })))
#endif

#endif /* _ASHMEM_COMPAT_H */
