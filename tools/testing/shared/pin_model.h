/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A model of what the ABI promises about the pins of an ashmem region:
 * each page is pinned, unpinned, or purged (unpinned, and reclaim took its
 * contents). PIN pins pages and says whether any of them was purged, UNPIN
 * unpins them (a purged page stays purged until it is pinned again),
 * GET_PIN_STATUS says whether any is unpinned, and reclaim purges one
 * unpinned, unpurged range at a time: all of a run of such pages, as the
 * driver merges every run into one range.
 *
 * The fuzzer (tools/testing/fuzz) cannot see reclaim, so it sets
 * unseen_purges: any unpinned page may have been purged. The exhaustive
 * test of the range code (tools/testing/range) purges by hand and knows.
 *
 * Header only. The includer defines pin_model_oom(), called when the
 * model cannot grow, and includes <linux/ashmem.h> and <linux/types.h>.
 */
#ifndef _PIN_MODEL_H
#define _PIN_MODEL_H

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static void pin_model_oom(void);

/* ---- Sets of pages: disjoint, merged page intervals, in order ----------- */

struct interval {
	__u64 start, last;
};

struct ivset {
	struct interval *iv;
	unsigned int n, cap;
};

static inline void iv_reserve(struct ivset *s, unsigned int n)
{
	if (n <= s->cap)
		return;
	s->cap = s->cap ? 2 * s->cap : 16;
	if (s->cap < n)
		s->cap = n;
	s->iv = realloc(s->iv, s->cap * sizeof(*s->iv));
	if (!s->iv)
		pin_model_oom();
}

static inline void iv_insert_at(struct ivset *s, unsigned int i, __u64 start,
				__u64 last)
{
	iv_reserve(s, s->n + 1);
	memmove(&s->iv[i + 1], &s->iv[i], (s->n - i) * sizeof(*s->iv));
	s->iv[i].start = start;
	s->iv[i].last = last;
	s->n++;
}

static inline void iv_delete_at(struct ivset *s, unsigned int i)
{
	memmove(&s->iv[i], &s->iv[i + 1], (s->n - i - 1) * sizeof(*s->iv));
	s->n--;
}

/* Adds [start, last], merging what it overlaps or touches. */
static inline void iv_add(struct ivset *s, __u64 start, __u64 last)
{
	unsigned int i = 0;

	while (i < s->n && s->iv[i].last + 1 < start)
		i++;
	while (i < s->n && s->iv[i].start <= last + 1 &&
	       s->iv[i].last + 1 >= start) {
		if (s->iv[i].start < start)
			start = s->iv[i].start;
		if (s->iv[i].last > last)
			last = s->iv[i].last;
		iv_delete_at(s, i);
	}
	iv_insert_at(s, i, start, last);
}

static inline void iv_remove(struct ivset *s, __u64 start, __u64 last)
{
	unsigned int i = 0;
	struct interval cur;

	while (i < s->n) {
		cur = s->iv[i];
		if (cur.last < start || cur.start > last) {
			i++;
			continue;
		}
		iv_delete_at(s, i);
		if (cur.start < start)
			iv_insert_at(s, i++, cur.start, start - 1);
		if (cur.last > last)
			iv_insert_at(s, i++, last + 1, cur.last);
	}
}

static inline bool iv_overlaps(const struct ivset *s, __u64 start,
			       __u64 last)
{
	unsigned int i;

	for (i = 0; i < s->n; i++)
		if (s->iv[i].start <= last && s->iv[i].last >= start)
			return true;
	return false;
}

/* True if every page of [start, last] is in the set. */
static inline bool iv_covers(const struct ivset *s, __u64 start, __u64 last)
{
	unsigned int i;

	for (i = 0; i < s->n; i++)
		if (s->iv[i].start <= start && s->iv[i].last >= last)
			return true;
	return false;
}

/* True if [start, last] lies inside one interval, not touching its ends. */
static inline bool iv_splits(const struct ivset *s, __u64 start, __u64 last)
{
	unsigned int i;

	for (i = 0; i < s->n; i++)
		if (s->iv[i].start < start && s->iv[i].last > last)
			return true;
	return false;
}

static inline __u64 iv_pages(const struct ivset *s)
{
	__u64 pages = 0;
	unsigned int i;

	for (i = 0; i < s->n; i++)
		pages += s->iv[i].last - s->iv[i].start + 1;
	return pages;
}

static inline bool iv_has(const struct ivset *s, __u64 page)
{
	return iv_overlaps(s, page, page);
}

static inline void iv_copy(struct ivset *dst, const struct ivset *src)
{
	iv_reserve(dst, src->n);
	if (src->n)
		memcpy(dst->iv, src->iv, src->n * sizeof(*src->iv));
	dst->n = src->n;
}

static inline void iv_free(struct ivset *s)
{
	free(s->iv);
	*s = (struct ivset){ 0 };
}

/* ---- The pins of one region --------------------------------------------- */

struct pin_model {
	struct ivset unpinned;	/* every unpinned page, purged or not */
	struct ivset purged;	/* the unpinned pages known to be purged */
	bool unseen_purges;	/* any unpinned page may be purged unseen */
};

enum pin_model_page {
	PIN_MODEL_PINNED,
	PIN_MODEL_UNPINNED,
	PIN_MODEL_PURGED,
};

static inline enum pin_model_page pin_model_page(const struct pin_model *m,
						 __u64 page)
{
	if (!iv_has(&m->unpinned, page))
		return PIN_MODEL_PINNED;
	return iv_has(&m->purged, page) ? PIN_MODEL_PURGED : PIN_MODEL_UNPINNED;
}

/*
 * What PIN, UNPIN and GET_PIN_STATUS of [offset, offset + len) mean on a
 * region of @pages pages of @pg bytes: -EINVAL, or 0 with the pages
 * [*start, *last], or with *empty for the empty range at the end (which
 * they answer 0, 0 and ASHMEM_IS_PINNED). Aligned, inside the region
 * rounded up to pages, len 0 meaning to the end, computed in 64 bits.
 */
static inline int pin_model_args(__u64 pages, __u64 pg, __u32 offset,
				 __u32 len, __u64 *start, __u64 *last,
				 bool *empty)
{
	__u64 end = pages * pg, l;

	if ((offset | len) & (pg - 1) || offset > end)
		return -EINVAL;
	l = len ? len : end - offset;
	if (l > end - offset)
		return -EINVAL;
	*empty = !l;
	if (!l)
		return 0;
	*start = offset / pg;
	*last = *start + l / pg - 1;
	return 0;
}

/* What PIN may answer, as a mask. */
#define PIN_MODEL_NOT_PURGED	0x1	/* ASHMEM_NOT_PURGED */
#define PIN_MODEL_WAS_PURGED	0x2	/* ASHMEM_WAS_PURGED */

/*
 * What PIN of [start, last] may answer, PIN_MODEL_NOT_PURGED and
 * PIN_MODEL_WAS_PURGED: purged if any of the pages is, or, with
 * unseen_purges, may be.
 */
static inline unsigned int pin_model_pin_answers(const struct pin_model *m,
						 __u64 start, __u64 last)
{
	if (iv_overlaps(&m->purged, start, last))
		return PIN_MODEL_WAS_PURGED;
	if (m->unseen_purges && iv_overlaps(&m->unpinned, start, last))
		return PIN_MODEL_NOT_PURGED | PIN_MODEL_WAS_PURGED;
	return PIN_MODEL_NOT_PURGED;
}

/* True if PIN of [start, last] answers @ret, as far as the model knows. */
static inline bool pin_model_pin_answer_ok(const struct pin_model *m,
					   __u64 start, __u64 last, long ret)
{
	unsigned int answers = pin_model_pin_answers(m, start, last);

	if (ret == ASHMEM_NOT_PURGED)
		return answers & PIN_MODEL_NOT_PURGED;
	return ret == ASHMEM_WAS_PURGED && answers & PIN_MODEL_WAS_PURGED;
}

/*
 * True if PIN of [start, last] may have to split a range, and so may
 * fail with ENOMEM. UNPIN may always.
 */
static inline bool pin_model_pin_may_split(const struct pin_model *m,
					   __u64 start, __u64 last)
{
	return iv_splits(&m->unpinned, start, last);
}

static inline void pin_model_pin(struct pin_model *m, __u64 start, __u64 last)
{
	iv_remove(&m->unpinned, start, last);
	iv_remove(&m->purged, start, last);
}

static inline void pin_model_unpin(struct pin_model *m, __u64 start,
				   __u64 last)
{
	iv_add(&m->unpinned, start, last);
}

static inline int pin_model_status(const struct pin_model *m, __u64 start,
				   __u64 last)
{
	return iv_overlaps(&m->unpinned, start, last) ? ASHMEM_IS_UNPINNED :
							 ASHMEM_IS_PINNED;
}

/*
 * The @k-th run of unpinned, unpurged pages, from the start: what reclaim
 * purges at once. False if there are not that many.
 */
static inline bool pin_model_purgeable(const struct pin_model *m,
				       unsigned int k, __u64 *start,
				       __u64 *last)
{
	const struct ivset *u = &m->unpinned, *p = &m->purged;
	unsigned int i, j = 0;
	__u64 pos, end;

	for (i = 0; i < u->n; i++) {
		pos = u->iv[i].start;
		while (pos <= u->iv[i].last) {
			/* Skip the purged pages at pos; then find the next. */
			while (j < p->n && p->iv[j].last < pos)
				j++;
			if (j < p->n && p->iv[j].start <= pos) {
				pos = p->iv[j].last + 1;
				continue;
			}
			end = u->iv[i].last;
			if (j < p->n && p->iv[j].start <= end)
				end = p->iv[j].start - 1;
			if (!k--) {
				*start = pos;
				*last = end;
				return true;
			}
			pos = end + 1;
		}
	}
	return false;
}

/* Reclaim purged [start, last], a run pin_model_purgeable() gave. */
static inline void pin_model_purge(struct pin_model *m, __u64 start,
				   __u64 last)
{
	iv_add(&m->purged, start, last);
}

static inline void pin_model_copy(struct pin_model *dst,
				  const struct pin_model *src)
{
	iv_copy(&dst->unpinned, &src->unpinned);
	iv_copy(&dst->purged, &src->purged);
	dst->unseen_purges = src->unseen_purges;
}

static inline void pin_model_free(struct pin_model *m)
{
	iv_free(&m->unpinned);
	iv_free(&m->purged);
}

#endif /* _PIN_MODEL_H */
