// SPDX-License-Identifier: GPL-2.0
/*
 * ashmem_fuzz: random, seeded sequences of everything /dev/ashmem offers,
 * checked against a model of what the ABI promises.
 *
 * Usage: ashmem_fuzz [--seed N] [--seconds S] [--procs P] [--ops N]
 *                    [--no-hog] [--verbose]
 *
 * P worker processes (default 4) each run for S seconds (default 20), or
 * N operations, a sequence drawn from their own seed: open and close,
 * every ioctl with valid and invalid arguments (bad pointers, unaligned,
 * huge and overflowing offsets, the empty range at the end, unknown
 * numbers), mmap, munmap and mprotect with every protection, reads and
 * writes through the mappings, read, lseek, fork, descriptors passed over
 * unix sockets, PURGE_ALL_CACHES and drop_caches, and bursts of two
 * threads pinning and unpinning one region at once. Meanwhile a hog in the
 * same memory cgroup presses on memory.high, so reclaim purges unpinned
 * pages at any moment.
 *
 * Each worker keeps a model of its regions (size, name, mask, pinned
 * pages, the byte each page should hold) and checks every answer: return
 * values as the ABI says (PIN 0 or 1, GET_PIN_STATUS 0 or 1, GET_SIZE the
 * size cut to an int), errno values from the documented set only, pinned
 * pages keep their data, unpinned pages hold their data or zeros, PIN says
 * "not purged" only if nothing was lost. The first failure stops the run
 * and prints the seed to replay it with.
 *
 * Reports through kselftest.h in TAP: one test, passed, failed or skipped (no
 * /dev/ashmem). Needs root for the purges, drop_caches and the cgroup;
 * runs without them, checking less. A worker that has not finished a
 * minute after the deadline is reported with its kernel stack and killed.
 * Replaying a seed repeats each worker's choices; what other workers,
 * threads and reclaim do meanwhile may differ, so a replay reproduces most
 * failures, not all. doc/debug.md tells how to replay one in the VM.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/ashmem.h>
#include <linux/types.h>

#include "kselftest.h"
#include "ashmem_util.h"
#include "pin_model.h"

#define MAX_REGIONS	8	/* per process */
#define MAX_FDS		3	/* descriptors of one region in one process */
#define MAX_MAPS	6	/* mappings of one region */
#define TRACK		32	/* pages of a region whose contents are modelled */
#define HISTORY		24	/* operations shown when a check fails */
#define CHILD_OPS	40	/* at most, in a fork child */
#define MAX_LFS		LLONG_MAX	/* MAX_LFS_FILESIZE of a 64-bit kernel */
#define CGROUP_ROOT	"/sys/fs/cgroup"
#define MIB		(1024 * 1024UL)

/* ---- Options and process-wide state ------------------------------------ */

static __u64 opt_seed;
static unsigned int opt_seconds = 20, opt_procs = 4;
static unsigned long opt_ops;
static bool opt_hog = true, opt_verbose;

static size_t pg;
static bool is_root;
static bool noexec_dev;		/* /dev is mounted noexec */
static bool read_implies_exec;	/* personality(READ_IMPLIES_EXEC) */
static struct timespec deadline;

/* Who is running: worker number, nesting, and the current operation. */
static unsigned int me;
static unsigned int depth;	/* 0 in a worker, 1 in its fork child */
static __u64 my_seed;
static unsigned long op_nr;
static char history[HISTORY][160];

/* What a worker did, printed when it ends. */
static struct {
	unsigned long failed_as_expected;	/* errors the ABI asked for */
	unsigned long enomem;
	unsigned long pins, purged_pins, unpins;
	unsigned long mmaps, forks, passed_fds;
	unsigned long zero_pages;	/* pages found purged after a PIN */
} stats;

/* Pages for bad pointers: one writable page followed by an unmapped one. */
static unsigned char *guard_rw, *guard_none, *page_ro;

/* ---- Random numbers ------------------------------------------------------ */

static __u64 rng_state;

static __u64 splitmix64(__u64 *s)
{
	__u64 z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static __u64 rnd64(void)
{
	return splitmix64(&rng_state);
}

/* Uniform in [0, n); n > 0. */
static __u64 rnd(__u64 n)
{
	return rnd64() % n;
}

static bool chance(unsigned int percent)
{
	return rnd(100) < percent;
}

/* ---- Reporting --------------------------------------------------------- */

static void note_op(const char *fmt, ...)
{
	char *slot = history[op_nr % HISTORY];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(slot, sizeof(history[0]), fmt, ap);
	va_end(ap);
	if (opt_verbose)
		fprintf(stderr, "# [%u%s] %lu: %s\n", me, depth ? "c" : "",
			op_nr, slot);
}

/* A broken promise: print what led to it and stop this process. */
static void __noreturn __printf(1, 2)
fail(const char *fmt, ...)
{
	unsigned long i, first;
	va_list ap;

	fprintf(stderr, "# FAIL: worker %u%s (seed %llu), operation %lu: ",
		me, depth ? " fork child" : "", my_seed, op_nr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n# last operations, oldest first:\n");
	first = op_nr >= HISTORY ? op_nr - HISTORY + 1 : 0;
	for (i = first; i <= op_nr; i++)
		fprintf(stderr, "#   %lu: %s\n", i, history[i % HISTORY]);
	fprintf(stderr, "# replay: ashmem_fuzz --seed %llu --procs %u --seconds %u\n",
		opt_seed, opt_procs, opt_seconds);
	fflush(stderr);
	_exit(1);
}

#define check(cond, ...) do { if (!(cond)) fail(__VA_ARGS__); } while (0)

/*
 * Checks the outcome of a call. It must have failed with @exp_err, or if
 * @exp_err is 0, succeeded and returned @exp_ret (any value >= 0 if
 * @exp_ret is negative). A failure with @alt (say ENOMEM) is accepted too.
 * Returns true if the call succeeded.
 */
static bool expect(const char *call, long long ret, int err,
		   long long exp_ret, int exp_err, int alt)
{
	if (ret < 0 && alt && err == alt) {
		stats.enomem += alt == ENOMEM;
		return false;
	}
	if (exp_err) {
		stats.failed_as_expected++;
		check(ret == -1 && err == exp_err,
		      "%s: returned %lld (%s), the ABI says %s", call, ret,
		      ret < 0 ? strerror(err) : "success", strerror(exp_err));
		return false;
	}
	check(ret >= 0, "%s: failed with %s, the ABI says it returns %lld",
	      call, strerror(err), exp_ret);
	check(exp_ret < 0 || ret == exp_ret,
	      "%s: returned %lld, the ABI says %lld", call, ret, exp_ret);
	return true;
}

static bool time_is_up(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > deadline.tv_sec ||
	       (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec);
}

/* ---- Pins: the model shared with the range test ------------------------ */

static void pin_model_oom(void)
{
	fail("out of memory for the model");
}

/* ---- The model of a region ---------------------------------------------- */

struct mapping {
	unsigned char *addr;
	__u64 first;		/* region page at addr */
	__u64 pages;
	int prot;		/* PROT_* now */
	int may;		/* PROT_* mprotect may still ask for */
	bool shared;
};

struct region {
	bool used;
	bool owned;		/* ours: we may change it; else inherited */
	int fds[MAX_FDS];
	unsigned int nfds;
	bool mapped;		/* the backing file exists */
	__u64 size;
	unsigned long mask;	/* prot mask */
	char name[ASHMEM_NAME_LEN];	/* "" = never named */
	unsigned long file_id;
	struct pin_model pins;	/* reclaim's purges unseen */
	unsigned char data[TRACK];	/* byte each modelled page holds */
	struct mapping maps[MAX_MAPS];
	unsigned int nmaps;
};

static struct region regions[MAX_REGIONS];

static __u64 region_pages(const struct region *r)
{
	return r->size / pg + !!(r->size % pg);
}

static __u64 tracked_pages(const struct region *r)
{
	__u64 pages = region_pages(r);

	return pages < TRACK ? pages : TRACK;
}

/* Bytes of page @i inside the region (the last page may be partial). */
static size_t page_bytes(const struct region *r, __u64 i)
{
	__u64 off = i * pg;

	return r->size - off < pg ? r->size - off : pg;
}

static int any_fd(struct region *r)
{
	return r->fds[rnd(r->nfds)];
}

static struct region *pick_region(bool need_owned, bool need_mapped)
{
	unsigned int i, n = 0, idx[MAX_REGIONS];

	for (i = 0; i < MAX_REGIONS; i++) {
		if (!regions[i].used || (need_owned && !regions[i].owned) ||
		    (need_mapped && !regions[i].mapped))
			continue;
		idx[n++] = i;
	}
	return n ? &regions[idx[rnd(n)]] : NULL;
}

static struct region *free_region(void)
{
	unsigned int i;

	for (i = 0; i < MAX_REGIONS; i++)
		if (!regions[i].used)
			return &regions[i];
	return NULL;
}

static unsigned int nr_regions(void)
{
	unsigned int i, n = 0;

	for (i = 0; i < MAX_REGIONS; i++)
		n += regions[i].used;
	return n;
}

/* ---- Memory access with fault recovery ---------------------------------- */

/*
 * A fault while fault_armed is set jumps back to fault_jmp with the signal
 * in fault_sig. Both are shared with the signal handler: atomics.
 */
static sigjmp_buf fault_jmp;
static int fault_armed;
static int fault_sig;

static void arm_faults(int on)
{
	__atomic_store_n(&fault_armed, on, __ATOMIC_SEQ_CST);
}

static void fault_handler(int sig)
{
	if (!__atomic_load_n(&fault_armed, __ATOMIC_SEQ_CST)) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	__atomic_store_n(&fault_sig, sig, __ATOMIC_SEQ_CST);
	siglongjmp(fault_jmp, 1);
}

static const char *prot_str(int prot)
{
	static const char *const names[] = {
		"---", "r--", "-w-", "rw-", "--x", "r-x", "-wx", "rwx",
	};

	return names[prot & ASHMEM_PROT_ALL];
}

/*
 * Checks that page @i of @r, as read at @p (@len bytes), is what the
 * model says: its byte exactly when pinned, its byte or zeros (byte by
 * byte: a purge may race with the read) when unpinned.
 */
static void check_page(struct region *r, __u64 i, const unsigned char *p,
		       size_t len, const char *how)
{
	unsigned char want = i < TRACK ? r->data[i] : 0;
	bool pinned = !iv_has(&r->pins.unpinned, i);
	size_t k;

	for (k = 0; k < len; k++) {
		if (p[k] == want)
			continue;
		check(!pinned && p[k] == 0,
		      "%s: page %llu byte %zu is %#x, the model says %#x (%s)",
		      how, i, k, p[k], want,
		      pinned ? "pinned: data lost" : "unpinned: want it or 0");
	}
}

/*
 * Reads pages of mapping @m and checks them; faults are failures. A shared
 * mapping shows the region, up to its end (past it a touch is SIGBUS); a
 * private one is anonymous memory, which this program never writes: zeros.
 */
static void check_mapping(struct region *r, struct mapping *m)
{
	__u64 i, first = m->first;
	__u64 end = m->first + m->pages;

	if (!(m->prot & PROT_READ))
		return;
	if (m->shared && end > region_pages(r))
		end = region_pages(r);
	if (end > TRACK)
		end = TRACK;
	arm_faults(1);
	if (sigsetjmp(fault_jmp, 1)) {
		arm_faults(0);
		fail("signal %d reading a %s %s mapping of pages %llu+%llu",
		     __atomic_load_n(&fault_sig, __ATOMIC_SEQ_CST), prot_str(m->prot),
		     m->shared ? "shared" : "private", m->first, m->pages);
	}
	for (i = first; i < end; i++) {
		const unsigned char *p = m->addr + (i - m->first) * pg;

		if (m->shared) {
			check_page(r, i, p, page_bytes(r, i),
				   "read through a mapping");
			continue;
		}
		check(bytes_are(p, 0, pg),
		      "page %llu of a private mapping is not zero", i);
	}
	arm_faults(0);
}

/* Reads every modelled page with pread() and checks it. */
static void check_pread(struct region *r)
{
	static unsigned char buf[65536];
	__u64 i, pages = tracked_pages(r);
	size_t len;
	ssize_t n;

	if (!r->mapped || !r->nfds)
		return;
	for (i = 0; i < pages; i++) {
		len = page_bytes(r, i);
		n = pread(any_fd(r), buf, len, i * pg);
		check(n == (ssize_t)len, "pread page %llu: %zd (%s)",
		      i, n, n < 0 ? strerror(errno) : "short");
		check_page(r, i, buf, len, "pread");
	}
}

/* ---- Region lifetime ---------------------------------------------------- */

static void region_forget(struct region *r)
{
	unsigned int i;

	for (i = 0; i < r->nmaps; i++)
		munmap(r->maps[i].addr, r->maps[i].pages * pg);
	for (i = 0; i < r->nfds; i++)
		close(r->fds[i]);
	pin_model_free(&r->pins);
	memset(r, 0, sizeof(*r));
}

static void op_open(void)
{
	struct region *r = free_region();
	int fd;

	if (!r)
		return;
	note_op("open %s", ASHMEM_DEV);
	fd = open(ASHMEM_DEV, O_RDWR | O_CLOEXEC);
	if (!expect("open", fd, errno, -1, 0, ENOMEM))
		return;
	memset(r, 0, sizeof(*r));
	r->used = true;
	r->owned = true;
	r->fds[0] = fd;
	r->nfds = 1;
	r->mask = ASHMEM_PROT_ALL;
	r->pins.unseen_purges = true;
}

/*
 * Closes one descriptor. After the last one the region lives on in its
 * mappings, with nothing unpinned any more: check them, then drop them.
 */
static void op_close(void)
{
	struct region *r = pick_region(false, false);
	unsigned int i, k;

	if (!r)
		return;
	k = rnd(r->nfds);
	note_op("close fd %d of region %td (%u fds)", r->fds[k], r - regions,
		r->nfds);
	check(close(r->fds[k]) == 0, "close: %s", strerror(errno));
	r->fds[k] = r->fds[--r->nfds];
	if (r->nfds)
		return;
	for (i = 0; i < r->nmaps; i++)
		check_mapping(r, &r->maps[i]);
	r->nfds = 0;
	region_forget(r);
}

/* ---- Bad pointers ------------------------------------------------------- */

/* A pointer userspace may not hand over, or NULL if none fits. */
static void *bad_pointer(size_t len)
{
	/* No NUL before the bad page: a name read from there must fault. */
	memset(guard_rw, 'a', pg);
	switch (rnd(5)) {
	case 0:
		return NULL;
	case 1:
		return guard_none;
	case 2:
		/* The object starts in a good page and ends in the bad one. */
		return guard_rw + pg - (len > 1 ? len / 2 : 1);
	case 3:
		return (void *)(uintptr_t)(sizeof(void *) == 8 ?
			0xffff888000000000ULL : 0xfffff000UL);
	default:
		return (void *)(uintptr_t)1;
	}
}

/* ---- Ioctls on names, sizes and masks ----------------------------------- */

static void op_set_name(void)
{
	struct region *r = pick_region(false, false);
	char buf[ASHMEM_NAME_LEN + 64], want[ASHMEM_NAME_LEN];
	size_t len, k;
	long ret;

	if (!r)
		return;
	if (chance(15)) {
		note_op("SET_NAME bad pointer");
		ret = ioctl(any_fd(r), ASHMEM_SET_NAME, bad_pointer(1));
		expect("SET_NAME(bad pointer)", ret, errno, 0, EFAULT, 0);
		return;
	}
	/* Inherited regions may only be renamed where that must fail. */
	if (!r->owned && !r->mapped)
		return;
	len = rnd(sizeof(buf));
	for (k = 0; k < len; k++)
		buf[k] = 1 + rnd(255);
	buf[len < sizeof(buf) ? len : sizeof(buf) - 1] = '\0';
	len = strlen(buf);
	note_op("SET_NAME len %zu on region %td", len, r - regions);
	ret = ioctl(any_fd(r), ASHMEM_SET_NAME, buf);
	if (!expect("SET_NAME", ret, errno, 0, r->mapped ? EINVAL : 0, 0))
		return;
	/* Longer names are cut to ASHMEM_NAME_LEN - 1 bytes. */
	snprintf(want, sizeof(want), "%s", buf);
	memcpy(r->name, want, sizeof(want));
}

static void op_get_name(void)
{
	struct region *r = pick_region(false, false);
	char buf[ASHMEM_NAME_LEN];
	const char *want;
	long ret;

	if (!r)
		return;
	if (chance(15)) {
		note_op("GET_NAME bad pointer");
		ret = ioctl(any_fd(r), ASHMEM_GET_NAME,
			    chance(50) ? (void *)page_ro : bad_pointer(1));
		expect("GET_NAME(bad pointer)", ret, errno, 0, EFAULT, 0);
		return;
	}
	note_op("GET_NAME region %td", r - regions);
	memset(buf, 0x55, sizeof(buf));
	ret = ioctl(any_fd(r), ASHMEM_GET_NAME, buf);
	expect("GET_NAME", ret, errno, 0, 0, 0);
	want = r->name[0] ? r->name : ASHMEM_NAME_DEF;
	check(memchr(buf, 0, sizeof(buf)) && !strcmp(buf, want),
	      "GET_NAME: got %.40s..., want %.40s...", buf, want);
}

/* A size worth trying: small, page sized, or at an interesting edge. */
static __u64 random_size(void)
{
	static const __u64 edges[] = {
		0, 1, 0x7fffffffULL, 0x80000000ULL, 0xfffff000ULL,
		0xffffffffULL, 0x100000000ULL, 0x100001000ULL,
		0x140000000ULL, MAX_LFS - 4095, MAX_LFS, (__u64)MAX_LFS + 1,
		ULLONG_MAX - 4095, ULLONG_MAX,
	};
	__u64 size;

	switch (rnd(10)) {
	case 0:
		size = edges[rnd(ARRAY_SIZE(edges))];
		break;
	case 1:
		size = rnd64();
		break;
	case 2:
	case 3:
		size = (1 + rnd(TRACK)) * pg;
		break;
	default:
		size = 1 + rnd(TRACK * pg);
		break;
	}
	if (sizeof(size_t) < 8)
		size = (__u32)size;
	return size;
}

static void op_set_size(void)
{
	struct region *r = pick_region(false, false);
	__u64 size = random_size();
	int exp_err;
	long ret;

	if (!r || (!r->owned && !r->mapped))
		return;
	exp_err = r->mapped || size > MAX_LFS ? EINVAL : 0;
	note_op("SET_SIZE %#llx on region %td", size, r - regions);
	ret = ioctl(any_fd(r), ASHMEM_SET_SIZE, (size_t)size);
	if (expect("SET_SIZE", ret, errno, 0, exp_err, 0)) {
		r->size = size;
		/* A new size starts with every page pinned and zero. */
		memset(r->data, 0, sizeof(r->data));
	}
}

/* What ioctl() returns for a driver's long: cut to an int. */
static void expect_int_result(const char *call, long ret, int err,
			      __u64 value)
{
	int cut = (int)(__u32)value;

	if (cut < 0 && cut >= -4095)
		expect(call, ret, err, 0, -cut, 0);
	else
		check(ret == cut, "%s: returned %ld, want %d (%#llx cut to an int)",
		      call, ret, cut, value);
}

static void op_get_size(void)
{
	struct region *r = pick_region(false, false);
	long ret;

	if (!r)
		return;
	note_op("GET_SIZE region %td", r - regions);
	ret = ioctl(any_fd(r), ASHMEM_GET_SIZE);
	expect_int_result("GET_SIZE", ret, errno, r->size);
}

static void op_set_prot_mask(void)
{
	struct region *r = pick_region(false, false);
	unsigned long prot, want;
	long ret;

	if (!r)
		return;
	prot = rnd(8);
	if (chance(10))
		prot |= 1UL << rnd(sizeof(long) * 8);
	want = prot;
	if (read_implies_exec && (want & PROT_READ))
		want |= r->mask & PROT_EXEC;
	/* Inherited regions: only what changes nothing. */
	if (!r->owned && (want & r->mask) == want && want != r->mask)
		return;
	note_op("SET_PROT_MASK %#lx on region %td (mask %#lx)", prot,
		r - regions, r->mask);
	ret = ioctl(any_fd(r), ASHMEM_SET_PROT_MASK, prot);
	if (expect("SET_PROT_MASK", ret, errno, 0,
		   (r->mask & want) == want ? 0 : EINVAL, 0))
		r->mask = want;
}

static void op_get_prot_mask(void)
{
	struct region *r = pick_region(false, false);
	long ret;

	if (!r)
		return;
	note_op("GET_PROT_MASK region %td", r - regions);
	ret = ioctl(any_fd(r), ASHMEM_GET_PROT_MASK);
	expect("GET_PROT_MASK", ret, errno, r->mask, 0, 0);
}

static void op_get_file_id(void)
{
	struct region *r = pick_region(false, false);
	unsigned long id = 0;
	unsigned int i;
	long ret;

	if (!r)
		return;
	if (chance(20)) {
		note_op("GET_FILE_ID bad pointer, region %td", r - regions);
		ret = ioctl(any_fd(r), ASHMEM_GET_FILE_ID,
			    chance(50) ? (void *)page_ro : bad_pointer(1));
		expect("GET_FILE_ID(bad pointer)", ret, errno, 0,
		       r->mapped ? EFAULT : EINVAL, 0);
		return;
	}
	note_op("GET_FILE_ID region %td", r - regions);
	ret = ioctl(any_fd(r), ASHMEM_GET_FILE_ID, &id);
	if (!expect("GET_FILE_ID", ret, errno, 0, r->mapped ? 0 : EINVAL, 0))
		return;
	check(id == r->file_id, "GET_FILE_ID: %lu, earlier %lu", id,
	      r->file_id);
	/* Two live regions never share their memory. */
	for (i = 0; i < MAX_REGIONS; i++)
		check(&regions[i] == r || !regions[i].used ||
		      !regions[i].mapped || regions[i].file_id != id,
		      "GET_FILE_ID: regions %td and %u both have id %lu",
		      r - regions, i, id);
}

/* Numbers the driver does not know: ENOTTY, never anything else. */
static void op_unknown_ioctl(void)
{
	struct region *r = pick_region(false, false);
	unsigned int nr, size, dir, cmd;
	long ret;

	if (!r)
		return;
	do {
		nr = rnd(256);
		dir = rnd(4);
		size = rnd(4) ? rnd(16) : rnd(1 << 14);
		cmd = _IOC(dir, __ASHMEMIOC, nr, size);
	} while (cmd == ASHMEM_SET_NAME || cmd == ASHMEM_GET_NAME ||
		 cmd == ASHMEM_SET_SIZE || cmd == ASHMEM_GET_SIZE ||
		 cmd == ASHMEM_SET_PROT_MASK || cmd == ASHMEM_GET_PROT_MASK ||
		 cmd == ASHMEM_PIN || cmd == ASHMEM_UNPIN ||
		 cmd == ASHMEM_GET_PIN_STATUS ||
		 cmd == ASHMEM_PURGE_ALL_CACHES ||
		 cmd == ASHMEM_GET_FILE_ID ||
		 /* the 64-bit numbers, which a 32-bit caller may send too */
		 cmd == _IOW(__ASHMEMIOC, 3, __u64) ||
		 cmd == _IOW(__ASHMEMIOC, 5, __u64) ||
		 cmd == _IOR(__ASHMEMIOC, 11, __u64) ||
		 /* and the 32-bit ones, on a 32-bit kernel */
		 cmd == _IOW(__ASHMEMIOC, 3, __u32) ||
		 cmd == _IOW(__ASHMEMIOC, 5, __u32) ||
		 cmd == _IOR(__ASHMEMIOC, 11, __u32));
	note_op("ioctl %#x on region %td", cmd, r - regions);
	ret = ioctl(any_fd(r), cmd, chance(50) ? bad_pointer(8) : guard_rw);
	expect("unknown ioctl", ret, errno, 0, ENOTTY, 0);
}

/* ---- PIN, UNPIN, GET_PIN_STATUS ----------------------------------------- */

static const char *pin_cmd_name(unsigned long cmd)
{
	return cmd == ASHMEM_PIN ? "PIN" : cmd == ASHMEM_UNPIN ? "UNPIN" :
	       "GET_PIN_STATUS";
}

/* A byte range worth trying on @r: mostly valid, sometimes not. */
static void random_range(struct region *r, __u32 *offset, __u32 *len)
{
	__u64 pages = region_pages(r), end = pages * pg;
	__u64 window = pages < TRACK ? pages : TRACK, a, b;

	switch (rnd(12)) {
	case 0:		/* the empty range at the end, if it fits in 32 bits */
		*offset = (__u32)end;
		*len = 0;
		return;
	case 1:		/* at or past the end */
		*offset = (__u32)(end + pg * rnd(2));
		*len = chance(50) ? 0 : pg;
		return;
	case 2:		/* unaligned */
		*offset = rnd(window + 1) * pg + (chance(50) ? 1 + rnd(pg - 1) : 0);
		*len = rnd(window + 1) * pg + (chance(50) ? 1 + rnd(pg - 1) : 0);
		return;
	case 3:		/* overflowing offset + len in 32 bits */
		*offset = (__u32)(rnd(window + 1) * pg);
		*len = (__u32)(0x100000000ULL - rnd(4) * pg) & ~(__u32)(pg - 1);
		return;
	case 4:		/* anything */
		*offset = rnd64() & ~(__u64)(pg - 1);
		*len = rnd64() & ~(__u64)(pg - 1);
		return;
	case 5:		/* the whole region, "to the end" */
		*offset = 0;
		*len = 0;
		return;
	default:	/* inside the modelled pages */
		a = rnd(window + 1);
		b = rnd(window - a + 1);
		*offset = a * pg;
		*len = chance(15) ? 0 : b * pg;
		return;
	}
}

/*
 * What the driver must do with [offset, offset + len): 0 and the page
 * range, or the errno. Mirrors the ABI: aligned, inside the region
 * rounded up to pages, len 0 meaning to the end, computed in 64 bits.
 */
static int pin_args(struct region *r, __u32 offset, __u32 len,
		    __u64 *start, __u64 *last, bool *empty)
{
	if (!r->mapped)
		return -EINVAL;
	return pin_model_args(region_pages(r), pg, offset, len, start, last,
			      empty);
}

/*
 * After PIN of [start, last] returned @ret: pages that were unpinned hold
 * their data if it said "not purged"; if it said "purged", each holds its
 * data or zeros, all of it, and the model learns which.
 */
static void pin_check_data(struct region *r, __u64 start, __u64 last,
			   const struct ivset *before, long ret)
{
	static unsigned char buf[65536];
	__u64 i, end = last < TRACK - 1 ? last : TRACK - 1;
	size_t len, k;
	ssize_t n;

	for (i = start; i <= end && i < tracked_pages(r); i++) {
		if (!iv_has(before, i))
			continue;
		len = page_bytes(r, i);
		n = pread(any_fd(r), buf, len, i * pg);
		check(n == (ssize_t)len, "pread after PIN: %zd (%s)", n,
		      n < 0 ? strerror(errno) : "short");
		if (ret == ASHMEM_NOT_PURGED) {
			for (k = 0; k < len; k++)
				check(buf[k] == r->data[i],
				      "PIN said not purged, but page %llu byte %zu is %#x, not %#x",
				      i, k,
				      buf[k], r->data[i]);
			continue;
		}
		for (k = 1; k < len; k++)
			check(buf[k] == buf[0],
			      "PIN said purged: page %llu is neither all data nor all zeros (byte %zu %#x, byte 0 %#x)",
			      i, k, buf[k], buf[0]);
		check(buf[0] == r->data[i] || buf[0] == 0,
		      "PIN said purged: page %llu holds %#x, want %#x or 0",
		      i, buf[0], r->data[i]);
		stats.zero_pages += buf[0] != r->data[i];
		r->data[i] = buf[0];
	}
}

static void op_pin_family(void)
{
	static const unsigned long cmds[] = {
		ASHMEM_PIN, ASHMEM_UNPIN, ASHMEM_GET_PIN_STATUS,
	};
	struct region *r = pick_region(false, false);
	unsigned long cmd = cmds[rnd(3)];
	struct ashmem_pin pin, *arg = &pin;
	struct ivset before = { 0 };
	__u64 start = 0, last = 0;
	bool empty = false, unpinned;
	int exp_err, err;
	long ret, exp;

	if (!r)
		return;
	random_range(r, &pin.offset, &pin.len);
	if (chance(8)) {
		arg = bad_pointer(sizeof(pin));
		note_op("%s bad pointer %p", pin_cmd_name(cmd), (void *)arg);
		ret = ioctl(any_fd(r), cmd, arg);
		expect(pin_cmd_name(cmd), ret, errno, 0, EFAULT, 0);
		return;
	}
	exp_err = -pin_args(r, pin.offset, pin.len, &start, &last, &empty);
	unpinned = !exp_err && !empty &&
		   pin_model_status(&r->pins, start, last) == ASHMEM_IS_UNPINNED;

	/* Inherited regions: only what leaves the pins as they are. */
	if (!r->owned && !exp_err && !empty &&
	    ((cmd == ASHMEM_PIN && unpinned) ||
	     (cmd == ASHMEM_UNPIN &&
	      !iv_covers(&r->pins.unpinned, start, last))))
		cmd = ASHMEM_GET_PIN_STATUS;

	note_op("%s offset %#x len %#x on region %td (size %#llx)",
		pin_cmd_name(cmd), pin.offset, pin.len, r - regions, r->size);
	ret = ioctl(any_fd(r), cmd, arg);
	err = errno;
	if (exp_err || empty) {
		exp = cmd == ASHMEM_GET_PIN_STATUS ? ASHMEM_IS_PINNED : 0;
		expect(pin_cmd_name(cmd), ret, err, exp, exp_err, 0);
		return;
	}

	if (cmd == ASHMEM_GET_PIN_STATUS) {
		expect("GET_PIN_STATUS", ret, err,
		       pin_model_status(&r->pins, start, last), 0, 0);
	} else if (cmd == ASHMEM_UNPIN) {
		if (expect("UNPIN", ret, err, 0, 0, ENOMEM)) {
			pin_model_unpin(&r->pins, start, last);
			stats.unpins++;
		}
	} else {
		/* Only a PIN that splits a range needs memory. */
		if (!expect("PIN", ret, err, -1, 0,
			    pin_model_pin_may_split(&r->pins, start, last) ?
			    ENOMEM : 0))
			return;
		check(ret == ASHMEM_NOT_PURGED || ret == ASHMEM_WAS_PURGED,
		      "PIN returned %ld", ret);
		check(pin_model_pin_answer_ok(&r->pins, start, last, ret),
		      "PIN of pinned pages said they were purged");
		stats.pins++;
		stats.purged_pins += ret == ASHMEM_WAS_PURGED;
		iv_copy(&before, &r->pins.unpinned);
		pin_model_pin(&r->pins, start, last);
		pin_check_data(r, start, last, &before, ret);
		free(before.iv);
	}
}

/* The region's fdinfo agrees with the model. */
static void op_fdinfo(void)
{
	struct region *r = pick_region(false, false);
	char path[64], buf[4096], *p;
	unsigned long long size, unpinned, purged, pinned;
	ssize_t n;
	int fd;

	if (!r)
		return;
	note_op("fdinfo of region %td", r - regions);
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", any_fd(r));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	check(fd >= 0, "open %s: %s", path, strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	check(n > 0, "read %s", path);
	buf[n] = '\0';
	p = strstr(buf, "ashmem_size:");
	check(p && sscanf(p, "ashmem_size:\t%llu", &size) == 1,
	      "fdinfo has no ashmem_size");
	check(size == r->size, "fdinfo size %llu, want %llu", size, r->size);
	p = strstr(buf, "ashmem_pinned_pages:");
	check(p && sscanf(p, "ashmem_pinned_pages:\t%llu", &pinned) == 1,
	      "fdinfo has no ashmem_pinned_pages");
	p = strstr(buf, "ashmem_unpinned_pages:");
	check(p && sscanf(p, "ashmem_unpinned_pages:\t%llu", &unpinned) == 1,
	      "fdinfo has no ashmem_unpinned_pages");
	p = strstr(buf, "ashmem_purged_pages:");
	check(p && sscanf(p, "ashmem_purged_pages:\t%llu", &purged) == 1,
	      "fdinfo has no ashmem_purged_pages");
	check(unpinned == iv_pages(&r->pins.unpinned),
	      "fdinfo: %llu pages unpinned, the model says %llu",
	      unpinned, iv_pages(&r->pins.unpinned));
	check(pinned + unpinned == region_pages(r),
	      "fdinfo: %llu pinned + %llu unpinned != %llu pages",
	      pinned, unpinned, region_pages(r));
	check(purged <= unpinned, "fdinfo: %llu purged > %llu unpinned",
	      purged, unpinned);
}

/* ---- Purging ------------------------------------------------------------ */

static void op_purge_all(void)
{
	struct region *r = pick_region(false, false);
	long ret;

	if (!r)
		return;
	note_op("PURGE_ALL_CACHES (root %d)", geteuid() == 0);
	ret = ioctl(any_fd(r), ASHMEM_PURGE_ALL_CACHES);
	expect("PURGE_ALL_CACHES", ret, errno, -1,
	       geteuid() == 0 ? 0 : EPERM, 0);
}

static void op_drop_caches(void)
{
	int fd;

	if (geteuid() != 0)
		return;
	note_op("drop_caches");
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	check(write(fd, chance(50) ? "2" : "3", 1) == 1, "drop_caches: %s",
	      strerror(errno));
	close(fd);
}

/* ---- Mappings ----------------------------------------------------------- */

static int effective_mmap_prot(int prot)
{
	if (read_implies_exec && (prot & PROT_READ) && !noexec_dev)
		prot |= PROT_EXEC;
	return prot;
}

static void op_mmap(void)
{
	struct region *r = pick_region(false, false);
	__u64 pages, first, count, window;
	int prot = rnd(8), eff, flags, exp_err;
	struct mapping *m;
	bool shared = chance(80), valid = chance(85);
	void *p;
	off_t off;
	size_t len;

	if (!r || r->nmaps == MAX_MAPS)
		return;
	/* A child's first mmap of an inherited region would change it. */
	if (!r->owned && !r->mapped)
		return;
	pages = region_pages(r);
	window = pages < TRACK ? pages : TRACK;
	if (valid && window) {
		first = rnd(window);
		count = 1 + rnd(window - first);
		/* Regions past the modelled pages: map past them too. */
		if (pages > TRACK && chance(20))
			count += rnd(1024);
	} else {
		switch (rnd(4)) {
		case 0:		/* past the end */
			first = pages + rnd(3);
			count = 1;
			break;
		case 1:		/* longer than the region */
			first = window ? rnd(window) : 0;
			count = pages - first + 1 + rnd(3);
			break;
		case 2:		/* huge */
			first = 0;
			count = (1ULL << 40) / pg;
			break;
		default:	/* at an offset past what 32 bits hold */
			first = 0x100000000ULL / pg + rnd(4);
			count = 1;
			break;
		}
	}
	if (sizeof(long) < 8 && (first > 0xfffffULL || count > 0x7ffffULL))
		return;
	off = (off_t)(first * pg);
	len = count * pg;
	flags = shared ? MAP_SHARED : MAP_PRIVATE;
	eff = effective_mmap_prot(prot);

	/* The kernel refuses exec on a noexec mount before the driver. */
	exp_err = 0;
	if ((eff & PROT_EXEC) && noexec_dev)
		exp_err = EPERM;
	else if (!r->size || count > pages)	/* only the length counts */
		exp_err = EINVAL;
	else if (eff & ~r->mask)
		exp_err = EPERM;

	note_op("mmap %s %s pages %llu+%llu of region %td (size %#llx, mask %#lx)",
		prot_str(prot), shared ? "shared" : "private", first, count,
		r - regions, r->size, r->mask);
	p = mmap(NULL, len, prot, flags, any_fd(r), off);
	if (p == MAP_FAILED) {
		/* A length or offset the address space cannot hold. */
		if (exp_err == EINVAL && (errno == ENOMEM || errno == EOVERFLOW))
			return;
		expect("mmap", -1, errno, 0, exp_err ? exp_err : 0, ENOMEM);
		return;
	}
	if (exp_err) {
		munmap(p, len);
		expect("mmap", 0, 0, 0, exp_err, 0);
	}
	if (!r->mapped) {
		r->mapped = true;
		check(ioctl(any_fd(r), ASHMEM_GET_FILE_ID, &r->file_id) == 0,
		      "GET_FILE_ID after mmap: %s", strerror(errno));
	}
	stats.mmaps++;
	m = &r->maps[r->nmaps++];
	m->addr = p;
	m->first = first;
	m->pages = count;
	m->prot = eff;
	m->shared = shared;
	/* mprotect() may never add what the mask lacked at mmap time. */
	m->may = r->mask & (noexec_dev ? ~PROT_EXEC : ASHMEM_PROT_ALL);
	check_mapping(r, m);
}

static struct mapping *pick_mapping(struct region **rp)
{
	struct region *r = pick_region(false, false);

	*rp = r;
	if (!r || !r->nmaps)
		return NULL;
	return &r->maps[rnd(r->nmaps)];
}

/* Pages [from, from + n) of @m, split off into a mapping of their own. */
static struct mapping *split_mapping(struct region *r, struct mapping *m,
				     __u64 from, __u64 n)
{
	struct mapping tail, *piece;

	if (from) {
		tail = *m;
		tail.addr += from * pg;
		tail.first += from;
		tail.pages -= from;
		m->pages = from;
		r->maps[r->nmaps] = tail;
		m = &r->maps[r->nmaps++];
	}
	if (n < m->pages) {
		piece = &r->maps[r->nmaps++];
		*piece = *m;
		piece->addr += n * pg;
		piece->first += n;
		piece->pages -= n;
		m->pages = n;
	}
	return m;
}

/*
 * Picks a part of @m: all of it, or its head, tail or middle if there is
 * room for the pieces.
 */
static void pick_part(struct region *r, struct mapping *m, __u64 *from,
		      __u64 *n)
{
	*from = 0;
	*n = m->pages;
	if (m->pages < 2 || r->nmaps + 2 > MAX_MAPS || chance(40))
		return;
	*from = rnd(m->pages);
	*n = 1 + rnd(m->pages - *from);
}

static void op_munmap(void)
{
	struct region *r;
	struct mapping *m = pick_mapping(&r);
	__u64 from, n;
	int ret;

	if (!m)
		return;
	pick_part(r, m, &from, &n);
	note_op("munmap pages %llu+%llu of a mapping of %llu+%llu",
		m->first + from, n, m->first, m->pages);
	ret = munmap(m->addr + from * pg, n * pg);
	if (!expect("munmap", ret, errno, 0, 0, ENOMEM))
		return;
	m = split_mapping(r, m, from, n);
	*m = r->maps[--r->nmaps];
}

static void op_mprotect(void)
{
	struct region *r;
	struct mapping *m = pick_mapping(&r);
	int prot = rnd(8), eff = prot, ret;
	__u64 from, n;

	if (!m)
		return;
	pick_part(r, m, &from, &n);
	if (read_implies_exec && (prot & PROT_READ) && (m->may & PROT_EXEC))
		eff |= PROT_EXEC;
	note_op("mprotect %s pages %llu+%llu (may %s)",
		prot_str(prot), m->first + from, n, prot_str(m->may));
	ret = mprotect(m->addr + from * pg, n * pg, prot);
	if (!expect("mprotect", ret, errno, 0, eff & ~m->may ? EACCES : 0,
		    ENOMEM))
		return;
	m = split_mapping(r, m, from, n);
	m->prot = eff;
}

/* Writes a new byte into pinned pages through a writable shared mapping. */
static void op_write_pages(void)
{
	struct region *r;
	struct mapping *m = pick_mapping(&r);
	__u64 from, end;
	unsigned char byte = 1 + rnd(255);

	if (!m || !r->owned || !m->shared || !(m->prot & PROT_WRITE) ||
	    m->first >= TRACK)
		return;
	from = m->first + rnd(m->pages);
	end = m->first + m->pages;
	if (end > region_pages(r))	/* past the region's end: SIGBUS */
		end = region_pages(r);
	if (end > TRACK)
		end = TRACK;
	if (from >= end)
		return;
	end = from + 1 + rnd(end - from);
	/* Writes to unpinned pages could race with a purge: skip them. */
	if (iv_overlaps(&r->pins.unpinned, from, end - 1))
		return;
	note_op("write %#x to pages %llu..%llu of region %td",
		byte, from, end - 1, r - regions);
	arm_faults(1);
	if (sigsetjmp(fault_jmp, 1)) {
		arm_faults(0);
		fail("signal %d writing through a %s mapping",
		     __atomic_load_n(&fault_sig, __ATOMIC_SEQ_CST), prot_str(m->prot));
	}
	/* The pages are contiguous; the last may end with the region. */
	memset(m->addr + (from - m->first) * pg, byte,
	       (end - 1 - from) * pg + page_bytes(r, end - 1));
	arm_faults(0);
	memset(r->data + from, byte, end - from);
}

static void op_check_region(void)
{
	struct region *r = pick_region(false, false);
	unsigned int i;

	if (!r)
		return;
	note_op("check region %td", r - regions);
	for (i = 0; i < r->nmaps; i++)
		check_mapping(r, &r->maps[i]);
	check_pread(r);
}

/* ---- Races on one region ------------------------------------------------ */

#define RACE_CALLS	200

struct racer {
	int fd;
	__u64 pages;
	__u64 seed;
	char error[160];	/* the first broken promise, if any */
};

/*
 * One of two threads that pin, unpin and read the same region at once,
 * checking only what holds whatever the other does.
 */
static void *race_thread(void *arg)
{
	struct racer *rc = arg;
	unsigned char buf[4096];
	struct ashmem_pin pin;
	__u64 a, b, st = rc->seed;
	unsigned int k, what;
	long ret;

	for (k = 0; k < RACE_CALLS && !rc->error[0]; k++) {
		a = splitmix64(&st) % rc->pages;
		b = 1 + splitmix64(&st) % (rc->pages - a);
		pin.offset = a * pg;
		pin.len = b * pg;
		what = splitmix64(&st) % 4;
		switch (what) {
		case 0:
			ret = ioctl(rc->fd, ASHMEM_PIN, &pin);
			if (ret != ASHMEM_NOT_PURGED && ret != ASHMEM_WAS_PURGED &&
			    !(ret == -1 && errno == ENOMEM))
				snprintf(rc->error, sizeof(rc->error),
					 "racing PIN: %ld (%s)", ret,
					 strerror(errno));
			break;
		case 1:
			ret = ioctl(rc->fd, ASHMEM_UNPIN, &pin);
			if (ret && !(ret == -1 && errno == ENOMEM))
				snprintf(rc->error, sizeof(rc->error),
					 "racing UNPIN: %ld (%s)", ret,
					 strerror(errno));
			break;
		case 2:
			ret = ioctl(rc->fd, ASHMEM_GET_PIN_STATUS, &pin);
			if (ret != ASHMEM_IS_PINNED && ret != ASHMEM_IS_UNPINNED)
				snprintf(rc->error, sizeof(rc->error),
					 "racing GET_PIN_STATUS: %ld (%s)", ret,
					 strerror(errno));
			break;
		default:
			ret = pread(rc->fd, buf, sizeof(buf) < pg ? sizeof(buf) : pg,
				    a * pg);
			if (ret < 0)
				snprintf(rc->error, sizeof(rc->error),
					 "racing pread: %s", strerror(errno));
			break;
		}
	}
	return NULL;
}

/*
 * Two threads race on one region; then PIN learns what is left: every
 * page its data or zeros, all of it, and the model starts over pinned.
 */
static void op_race(void)
{
	struct region *r = pick_region(true, true);
	struct racer rc[2];
	pthread_t t[2];
	struct ivset before = { 0 };
	__u64 pages;
	unsigned int i;
	long ret;

	if (!r || !r->nfds || region_pages(r) > TRACK)
		return;
	pages = region_pages(r);
	note_op("race two threads on region %td (%llu pages)", r - regions,
		pages);
	for (i = 0; i < 2; i++) {
		rc[i].fd = dup(any_fd(r));
		check(rc[i].fd >= 0, "dup: %s", strerror(errno));
		rc[i].pages = pages;
		rc[i].seed = rnd64();
		rc[i].error[0] = '\0';
		check(!pthread_create(&t[i], NULL, race_thread, &rc[i]),
		      "pthread_create");
	}
	for (i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		close(rc[i].fd);
	}
	for (i = 0; i < 2; i++)
		check(!rc[i].error[0], "%s", rc[i].error);

	ret = ioctl(any_fd(r), ASHMEM_PIN, &(struct ashmem_pin){ 0, 0 });
	expect("PIN after the race", ret, errno, -1, 0, 0);
	check(ret == ASHMEM_NOT_PURGED || ret == ASHMEM_WAS_PURGED,
	      "PIN returned %ld", ret);
	/* Any page may have been unpinned, and purged, meanwhile. */
	iv_add(&before, 0, pages - 1);
	pin_check_data(r, 0, pages - 1, &before, ASHMEM_WAS_PURGED);
	free(before.iv);
	pin_model_pin(&r->pins, 0, pages - 1);
}

/* ---- read, lseek, write ------------------------------------------------- */

/* What read() and lseek() say before anything else on a region. */
static int io_precheck(struct region *r)
{
	if (!r->mapped && r->size)
		return -EBADF;
	return 0;
}

static void op_read(void)
{
	static unsigned char buf[3 * 4096 * 4];
	struct region *r = pick_region(false, false);
	size_t count = rnd(sizeof(buf) / 4 + 1) * (chance(50) ? 1 : 4);
	int kind = rnd(10), fd, err;
	unsigned char *dst = buf;
	__s64 pos;
	__u64 avail, i, k;
	long ret;

	if (!r)
		return;
	if (count > sizeof(buf))
		count = sizeof(buf);
	fd = any_fd(r);
	pos = r->mapped && r->size ? lseek(fd, 0, SEEK_CUR) : 0;
	check(pos >= 0, "lseek(0, SEEK_CUR): %s", strerror(errno));
	if (kind == 0 && sizeof(void *) == 8)
		dst = (void *)(uintptr_t)0xffff888000000000ULL;
	else if (kind == 1)
		dst = NULL;
	note_op("read %zu bytes at %lld of region %td into %p", count,
		pos, r - regions, (void *)dst);
	ret = read(fd, dst, count);
	err = errno;
	if (dst != buf && sizeof(void *) == 8 && dst) {
		expect("read(kernel pointer)", ret, err, 0, EFAULT, 0);
		return;
	}
	if (count && (__u64)pos + count > (__u64)LLONG_MAX) {
		expect("read past the largest offset", ret, err, 0, EINVAL, 0);
		return;
	}
	if (io_precheck(r)) {
		expect("read", ret, err, 0, -io_precheck(r), 0);
		return;
	}
	avail = (__u64)pos < r->size ? r->size - pos : 0;
	if (avail > count)
		avail = count;
	if (!dst) {
		expect("read(NULL)", ret, err, 0, avail ? EFAULT : 0, 0);
		return;
	}
	expect("read", ret, err, avail, 0, 0);
	/* The bytes read are the region's, as far as the model knows them. */
	for (i = pos / pg; i * pg < (__u64)pos + avail && i < TRACK; i++) {
		__u64 lo = i * pg > (__u64)pos ? i * pg : (__u64)pos;
		__u64 hi = (i + 1) * pg < pos + avail ? (i + 1) * pg : pos + avail;

		for (k = lo; k < hi; k++)
			if (buf[k - pos] != r->data[i])
				check(iv_has(&r->pins.unpinned, i) && !buf[k - pos],
				      "read: byte %llu is %#x, want %#x",
				      k, buf[k - pos], r->data[i]);
	}
}

static void op_lseek(void)
{
	static const __s64 offs[] = {
		0, 1, -1, 4096, LLONG_MAX, LLONG_MIN, LLONG_MAX - 4095,
		0x100000000LL, -0x100000000LL,
	};
	struct region *r = pick_region(false, false);
	int whence = rnd(7), err, fd;
	__s64 off, cur = 0, ret, want = 0;
	bool overflow = false;

	if (!r)
		return;
	fd = any_fd(r);
	switch (rnd(3)) {
	case 0:
		off = offs[rnd(ARRAY_SIZE(offs))];
		break;
	case 1:
		off = (__s64)rnd64();
		break;
	default:
		off = rnd(r->size + 2 * pg + 1);
		break;
	}
	if (whence == SEEK_CUR && r->mapped && r->size)
		cur = lseek(fd, 0, SEEK_CUR);
	note_op("lseek %lld whence %d on region %td (size %#llx)",
		off, whence, r - regions, r->size);
	ret = lseek(fd, off, whence);
	err = errno;
	if (whence > SEEK_HOLE) {
		expect("lseek(bad whence)", ret, err, 0, EINVAL, 0);
		return;
	}
	if (io_precheck(r)) {
		expect("lseek", ret, err, 0, -io_precheck(r), 0);
		return;
	}
	if (!r->size) {
		expect("lseek(size 0)", ret, err, 0, EINVAL, 0);
		return;
	}
	switch (whence) {
	case SEEK_SET:
		want = off;
		break;
	case SEEK_CUR:
		overflow = __builtin_add_overflow(cur, off, &want);
		break;
	case SEEK_END:
		overflow = __builtin_add_overflow((__s64)r->size, off, &want);
		break;
	default:
		/* shmem knows where its data and holes are: a range check. */
		if (off < 0 || (__u64)off >= r->size) {
			expect("lseek(SEEK_DATA/HOLE)", ret, err, 0, ENXIO, 0);
			return;
		}
		if (whence == SEEK_DATA && ret < 0) {
			expect("lseek(SEEK_DATA)", ret, err, 0, ENXIO, 0);
			return;
		}
		expect("lseek(SEEK_DATA/HOLE)", ret, err, -1, 0, 0);
		check(ret >= off && (__u64)ret <= r->size &&
		      (whence == SEEK_HOLE || (__u64)ret < r->size),
		      "lseek(%lld, %d) returned %lld past the size %#llx",
		      off, whence, ret, r->size);
		return;
	}
	if (overflow || want < 0)
		expect("lseek", ret, err, 0, EINVAL, 0);
	else
		check(ret == want, "lseek: returned %lld (%s), want %lld",
		      ret, ret < 0 ? strerror(err) : "ok", want);
}

static void op_write(void)
{
	struct region *r = pick_region(false, false);
	char byte = 'x';
	ssize_t ret;

	if (!r)
		return;
	note_op("write() to region %td", r - regions);
	ret = write(any_fd(r), &byte, 1);
	expect("write", ret, errno, 0, EINVAL, 0);
}

/* ---- Passing descriptors ------------------------------------------------ */

/*
 * Passes a region's descriptor over a unix socket: to ourselves, keeping
 * the new descriptor as another name for the region, or into a socket
 * that is closed with it still in flight.
 */
static void op_pass_fd(void)
{
	struct region *r = pick_region(false, false);
	__u32 tag;
	int sv[2], fd;
	long size;

	if (!r)
		return;
	check(socketpair(AF_UNIX, chance(50) ? SOCK_STREAM : SOCK_DGRAM, 0,
			 sv) == 0, "socketpair: %s", strerror(errno));
	if (chance(30)) {
		note_op("SCM_RIGHTS region %td, closed in flight", r - regions);
		send_fd(sv[0], any_fd(r), 0);
		close(sv[0]);
		close(sv[1]);
		return;
	}
	note_op("SCM_RIGHTS region %td to ourselves", r - regions);
	check(send_fd(sv[0], any_fd(r), 7) == 0, "sendmsg: %s", strerror(errno));
	fd = recv_fd(sv[1], &tag);
	close(sv[0]);
	close(sv[1]);
	check(fd >= 0 && tag == 7, "recvmsg: %s", strerror(errno));
	stats.passed_fds++;
	size = ioctl(fd, ASHMEM_GET_SIZE);
	expect_int_result("GET_SIZE of a passed descriptor", size, errno,
			  r->size);
	if (r->nfds < MAX_FDS)
		r->fds[r->nfds++] = fd;
	else
		close(fd);
}

/* ---- fork --------------------------------------------------------------- */

static void run_ops(unsigned long budget);

/*
 * A child gets every region, descriptor and mapping. While it runs the
 * parent waits, so the child may check everything; it changes nothing
 * the parent models (those regions are inherited, not owned), but runs
 * everything on regions of its own. It may also drop root, and it may
 * hand the parent a region it made, over a socket.
 */
static void op_fork(void)
{
	struct region *r;
	__u64 child_seed = rnd64();
	int sv[2] = { -1, -1 }, fd, status;
	bool give = chance(30) && free_region();
	__u32 tag;
	pid_t pid;

	if (depth)
		return;
	if (give)
		check(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0,
		      "socketpair: %s", strerror(errno));
	note_op("fork (child seed %#llx, gives a region %d)",
		child_seed, give);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		check(errno == EAGAIN || errno == ENOMEM, "fork: %s",
		      strerror(errno));
		if (give) {
			close(sv[0]);
			close(sv[1]);
		}
		return;
	}
	if (pid == 0) {
		unsigned int i;

		depth = 1;
		rng_state = child_seed;
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (i = 0; i < MAX_REGIONS; i++)
			regions[i].owned = false;
		if (chance(20) && geteuid() == 0)
			check(setresuid(65534, 65534, 65534) == 0,
			      "setresuid: %s", strerror(errno));
		run_ops(1 + rnd(CHILD_OPS));
		for (i = 0; i < MAX_REGIONS; i++)
			if (regions[i].used && !regions[i].owned)
				check_pread(&regions[i]);
		if (give) {
			/*
			 * A fresh region, mapped, written, pinned, of a
			 * size the parent can learn: ioctl() returns an
			 * int, so GET_SIZE cannot tell sizes above INT_MAX.
			 */
			r = NULL;
			for (i = 0; i < MAX_REGIONS; i++)
				if (regions[i].used && regions[i].owned &&
				    regions[i].mapped &&
				    regions[i].size <= INT_MAX)
					r = &regions[i];
			if (r)
				send_fd(sv[1], r->fds[0], (__u32)(r - regions));
		}
		_exit(0);
	}
	if (give) {
		close(sv[1]);
		sv[1] = -1;
	}
	/*
	 * The child sends before it exits; receive first, so that a stream
	 * socket never holds up its exit.
	 */
	if (give) {
		fd = recv_fd(sv[0], &tag);
		if (fd >= 0) {
			/* Adopted with a fresh model: size, mask, no pins. */
			r = free_region();
			memset(r, 0, sizeof(*r));
			r->used = true;
			r->owned = true;
			r->mapped = true;
			r->pins.unseen_purges = true;
			r->fds[0] = fd;
			r->nfds = 1;
			r->size = (__u64)(size_t)ioctl(fd, ASHMEM_GET_SIZE);
			r->mask = ioctl(fd, ASHMEM_GET_PROT_MASK);
			check(ioctl(fd, ASHMEM_GET_FILE_ID, &r->file_id) == 0,
			      "GET_FILE_ID of an adopted region: %s",
			      strerror(errno));
			/* Learn its contents and pins from scratch. */
			if (r->size > (__u64)INT_MAX ||
			    ioctl(fd, ASHMEM_GET_NAME, r->name) ||
			    ioctl(fd, ASHMEM_PIN, &(struct ashmem_pin){ 0, 0 }) < 0) {
				region_forget(r);
			} else {
				__u64 i, pages = tracked_pages(r);
				unsigned char b;

				if (!strcmp(r->name, ASHMEM_NAME_DEF))
					r->name[0] = '\0';
				for (i = 0; i < pages; i++) {
					check(pread(fd, &b, 1, i * pg) == 1,
					      "pread of an adopted region");
					r->data[i] = b;
				}
				check_pread(r);
			}
		}
		close(sv[0]);
	}
	stats.forks++;
	check(waitpid(pid, &status, 0) == pid, "waitpid: %s", strerror(errno));
	check(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "fork child failed (status %#x)", status);
}

/* ---- The loop ------------------------------------------------------------ */

struct op {
	void (*fn)(void);
	unsigned int weight;
};

static const struct op ops[] = {
	{ op_open, 6 },		{ op_close, 4 },
	{ op_set_name, 3 },	{ op_get_name, 3 },
	{ op_set_size, 5 },	{ op_get_size, 3 },
	{ op_set_prot_mask, 3 },	{ op_get_prot_mask, 2 },
	{ op_get_file_id, 3 },	{ op_unknown_ioctl, 4 },
	{ op_pin_family, 30 },	{ op_fdinfo, 4 },
	{ op_purge_all, 3 },	{ op_drop_caches, 1 },
	{ op_mmap, 10 },	{ op_munmap, 5 },
	{ op_mprotect, 6 },	{ op_write_pages, 10 },
	{ op_check_region, 4 },	{ op_read, 4 },
	{ op_lseek, 4 },	{ op_write, 1 },
	{ op_pass_fd, 3 },	{ op_fork, 2 },
	{ op_race, 2 },
};

static void run_ops(unsigned long budget)
{
	unsigned int total = 0, i;
	unsigned long done;
	__u64 w;

	for (i = 0; i < ARRAY_SIZE(ops); i++)
		total += ops[i].weight;
	for (done = 0; !budget || done < budget; done++) {
		if ((done & 15) == 0 && time_is_up())
			break;
		op_nr++;
		snprintf(history[op_nr % HISTORY], sizeof(history[0]),
			 "(nothing to do)");
		/* Keep regions around: most operations need one. */
		if (nr_regions() < 2 && chance(50)) {
			op_open();
			continue;
		}
		w = rnd(total);
		for (i = 0; w >= ops[i].weight; i++)
			w -= ops[i].weight;
		ops[i].fn();
	}
}

/* ---- Memory pressure ----------------------------------------------------- */

static char cgroup[128];

/*
 * A memory cgroup for the workers and the hog, whose memory.high the hog
 * keeps crossing: reclaim then runs in it and purges the workers'
 * unpinned pages. Returns false if there is no cgroup v2 memory control.
 */
static bool cgroup_create(void)
{
	char path[192], text[32];
	long pages = sysconf(_SC_PHYS_PAGES);
	unsigned long high = (unsigned long)pages * pg / 8;

	if (geteuid() != 0 || access(CGROUP_ROOT "/cgroup.controllers", F_OK))
		return false;
	write_file(CGROUP_ROOT "/cgroup.subtree_control", "+memory");
	snprintf(cgroup, sizeof(cgroup), CGROUP_ROOT "/ashmem-fuzz-%d",
		 (int)getpid());
	if (mkdir(cgroup, 0755) && errno != EEXIST)
		return false;
	if (high > 64 * MIB)
		high = 64 * MIB;
	snprintf(text, sizeof(text), "%lu", high);
	snprintf(path, sizeof(path), "%s/memory.high", cgroup);
	if (write_file(path, text)) {
		rmdir(cgroup);
		return false;
	}
	return true;
}

static void cgroup_enter(pid_t pid)
{
	char path[192], text[32];

	snprintf(path, sizeof(path), "%s/cgroup.procs", cgroup);
	snprintf(text, sizeof(text), "%d", (int)pid);
	write_file(path, text);
}

/* Allocates past memory.high in bursts and lets go, until killed. */
static void __noreturn hog(unsigned long high)
{
	unsigned long target, i;
	unsigned char *p;

	write_file("/proc/self/oom_score_adj", "1000");
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (;;) {
		target = high + rnd(high / 2 + 1);
		p = mmap(NULL, target, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p != MAP_FAILED) {
			for (i = 0; i < target; i += pg)
				p[i] = 1;
			munmap(p, target);
		}
		usleep(100000 + rnd(400000));
	}
}

/* ---- The supervisor ------------------------------------------------------ */

static void __noreturn worker(unsigned int n, __u64 seed)
{
	me = n;
	my_seed = seed;
	rng_state = seed;
	/* Its own group, so that a stuck worker goes with its children. */
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	run_ops(opt_ops);
	ksft_print_msg("process %u: %lu operations, %lu failed as the ABI says, %lu ENOMEM\n",
		       n, op_nr, stats.failed_as_expected, stats.enomem);
	ksft_print_msg("process %u: %lu PIN (%lu purged, %lu pages zeroed), %lu UNPIN\n",
		       n, stats.pins, stats.purged_pins, stats.zero_pages, stats.unpins);
	ksft_print_msg("process %u: %lu mmap, %lu fork, %lu passed descriptors\n",
		       n, stats.mmaps, stats.forks, stats.passed_fds);
	_exit(0);
}

static void show_file(const char *what, int pid, const char *name)
{
	char path[64], buf[4096];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	ksft_print_msg("  %s:\n%s%s", what, buf, buf[n - 1] == '\n' ? "" : "\n");
}

/* Prints the state and kernel stack of every process in group @pgid. */
static void show_group(pid_t pgid)
{
	char path[64], buf[512], *p;
	struct dirent *d;
	DIR *dir = opendir("/proc");
	int pid, pgrp, fd;
	ssize_t n;
	char state;

	while (dir && (d = readdir(dir))) {
		pid = atoi(d->d_name);
		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		/* pid (comm) state ppid pgrp ... */
		p = strrchr(buf, ')');
		if (!p || sscanf(p + 1, " %c %*d %d", &state, &pgrp) != 2 ||
		    pgrp != pgid)
			continue;
		ksft_print_msg("process %d, state %c\n", pid, state);
		show_file("wchan", pid, "wchan");
		show_file("kernel stack", pid, "stack");
		/* A running task has no stack to show: ask every CPU. */
		if (state == 'R' && !write_file("/proc/sysrq-trigger", "l"))
			ksft_print_msg("  running: backtraces of all CPUs are in the kernel log\n");
	}
	if (dir)
		closedir(dir);
}

static void setup_process(void)
{
	struct sigaction sa = { .sa_handler = fault_handler };
	struct statvfs sv;
	unsigned char *p;

	pg = sysconf(_SC_PAGESIZE);
	is_root = geteuid() == 0;
	noexec_dev = !statvfs(ASHMEM_DEV, &sv) && (sv.f_flag & ST_NOEXEC);
	read_implies_exec = personality(0xffffffff) & READ_IMPLIES_EXEC;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);

	p = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check(p != MAP_FAILED, "mmap: %s", strerror(errno));
	guard_rw = p;
	guard_none = p + pg;
	check(!mprotect(guard_none, pg, PROT_NONE), "mprotect: %s",
	      strerror(errno));
	page_ro = mmap(NULL, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check(page_ro != MAP_FAILED, "mmap: %s", strerror(errno));
}

static void print_usage(void)
{
	fprintf(stderr,
		"usage: ashmem_fuzz [--seed N] [--seconds S] [--procs P] [--ops N] [--no-hog] [--verbose]\n");
	exit(2);
}

static unsigned long long number(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end)
		print_usage();
	return v;
}

static void parse_args(int argc, char **argv)
{
	bool have_seed = false;
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--no-hog")) {
			opt_hog = false;
		} else if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
			opt_verbose = true;
		} else if (i + 1 < argc && !strcmp(a, "--seed")) {
			opt_seed = number(argv[++i]);
			have_seed = true;
		} else if (i + 1 < argc && !strcmp(a, "--seconds")) {
			opt_seconds = number(argv[++i]);
		} else if (i + 1 < argc && !strcmp(a, "--procs")) {
			opt_procs = number(argv[++i]);
		} else if (i + 1 < argc && !strcmp(a, "--ops")) {
			opt_ops = number(argv[++i]);
		} else {
			print_usage();
		}
	}
	if (!opt_procs || opt_procs > 64)
		print_usage();
	if (!have_seed) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		opt_seed = (__u64)ts.tv_sec * 1000003 ^ ts.tv_nsec ^
			   (__u64)getpid() << 32;
		opt_seed %= 1000000000;
	}
}

int main(int argc, char **argv)
{
	pid_t pids[64], hog_pid = -1, pid;
	unsigned int i, left, failed = 0;
	struct timespec start, now;
	__u64 s;
	int status;
	bool pressure = false;

	parse_args(argc, argv);
	ksft_print_header();
	ksft_set_plan(1);
	ksft_print_msg("ashmem_fuzz: seed %llu, %u processes, %u seconds%s\n",
		       opt_seed, opt_procs, opt_seconds,
		       opt_ops ? " or the operation limit" : "");
	ksft_print_msg("replay: ashmem_fuzz --seed %llu --procs %u --seconds %u\n",
		       opt_seed, opt_procs, opt_seconds);
	if (access(ASHMEM_DEV, F_OK)) {
		ksft_test_result_skip("no %s: is the ashmem module loaded?\n",
				      ASHMEM_DEV);
		ksft_print_cnts();
		return KSFT_SKIP;
	}
	setup_process();
	ksft_print_msg("root %d, /dev noexec %d, READ_IMPLIES_EXEC %d\n", is_root,
		       noexec_dev, read_implies_exec);

	clock_gettime(CLOCK_MONOTONIC, &start);
	deadline = start;
	deadline.tv_sec += opt_seconds;
	rng_state = opt_seed;

	if (opt_hog && cgroup_create()) {
		unsigned long high = (unsigned long)sysconf(_SC_PHYS_PAGES) * pg / 8;

		pressure = true;
		if (high > 64 * MIB)
			high = 64 * MIB;
		hog_pid = fork();
		if (hog_pid == 0) {
			cgroup_enter(getpid());
			hog(high);
		}
		ksft_print_msg("memory pressure: a hog over memory.high %lu MiB in %s\n",
			       high / MIB, cgroup);
	} else {
		ksft_print_msg("memory pressure: none (%s)\n",
			       opt_hog ? "no cgroup v2 memory controller, or not root" :
			       "--no-hog");
	}

	s = opt_seed;
	for (i = 0; i < opt_procs; i++) {
		__u64 seed = splitmix64(&s);

		pids[i] = fork();
		if (pids[i] < 0) {
			ksft_print_msg("fork: %s\n", strerror(errno));
			opt_procs = i;
			failed++;
			break;
		}
		if (pids[i] == 0) {
			if (pressure)
				cgroup_enter(getpid());
			worker(i, seed);
		}
	}

	/*
	 * Wait for the workers; the ones still running long after the
	 * deadline are stuck, most likely in the kernel.
	 */
	for (left = opt_procs; left; ) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid > 0 && pid != hog_pid) {
			for (i = 0; i < opt_procs && pids[i] != pid; i++)
				;
			if (i == opt_procs)
				continue;
			left--;
			pids[i] = 0;
			if (!WIFEXITED(status) || WEXITSTATUS(status)) {
				ksft_print_msg("worker %u failed (status %#x)\n", i,
					       status);
				failed++;
			}
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >
		    (long)(opt_seconds + 60 + opt_seconds / 2)) {
			for (i = 0; i < opt_procs; i++) {
				if (!pids[i])
					continue;
				ksft_print_msg("worker %u (pid %d) is stuck\n", i,
					       (int)pids[i]);
				show_group(pids[i]);
				kill(-pids[i], SIGKILL);
				failed++;
			}
			break;
		}
		usleep(100000);
	}

	if (hog_pid > 0) {
		kill(hog_pid, SIGKILL);
		waitpid(hog_pid, NULL, 0);
	}
	while (wait(NULL) > 0)
		;
	if (pressure)
		rmdir(cgroup);
	clock_gettime(CLOCK_MONOTONIC, &now);
	ksft_print_msg("%u workers ran for %lds, %u failed\n", opt_procs,
		       (long)(now.tv_sec - start.tv_sec), failed);
	if (failed)
		ksft_print_msg("replay: ashmem_fuzz --seed %llu --procs %u --seconds %u\n",
			       opt_seed, opt_procs, opt_seconds);
	ksft_test_result(!failed, "ashmem_fuzz\n");
	ksft_finished();
}
