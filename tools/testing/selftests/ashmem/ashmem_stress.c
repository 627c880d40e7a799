// SPDX-License-Identifier: GPL-2.0
/*
 * Load tests for /dev/ashmem: thousands of regions at once, purging under
 * the whole machine's memory pressure (ashmem_memcg_test covers a memory
 * cgroup's), and threads in several processes pinning, unpinning and
 * checking their data while others purge, fork, map and close.
 *
 * Sized for a 512 MiB virtual machine under emulation: each test is
 * bounded in time. They need root and the ashmem module loaded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ashmem_common.h"

#define SEED		1
#define MIB		(1024 * 1024UL)

/* A probe region for the tests: its fd issues PURGE_ALL_CACHES. */
FIXTURE(load) {
	int fd;
	size_t pg;
};

FIXTURE_SETUP(load)
{
	self->pg = page_size();
	self->fd = open_region(_metadata);
}

FIXTURE_TEARDOWN(load)
{
	if (self->fd >= 0)
		close(self->fd);
}

/* Settling queued punches */

#define MAX_MAP_COUNT	"/proc/sys/vm/max_map_count"
#define DEBUGFS_STATS	"/sys/kernel/debug/ashmem/stats"

/* A region of 2 * @ranges pages, every other page unpinned, untouched. */
static int unpinned_every_other_page(struct __test_metadata *_metadata,
				     size_t ranges)
{
	size_t i, pg = page_size();
	void *map;
	int fd;

	fd = open_region(_metadata);
	ASSERT_EQ(0, ioctl(fd, ASHMEM_SET_SIZE, 2 * ranges * pg));
	map = mmap(NULL, pg, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	munmap(map, pg);
	for (i = 0; i < ranges; i++)
		ASSERT_EQ(0, unpin_pages(fd, 2 * i, 1));
	return fd;
}

/* How long closing @fd took, in ms. */
static long long close_ms(int fd)
{
	long long t0 = now_ms();

	close(fd);
	return now_ms() - t0;
}

/*
 * PURGE_ALL_CACHES queues every unpinned range, then punches region
 * after region; while it is held up by a region that is slow to punch,
 * two regions with 4k and 32k queued ranges are closed. Release punches
 * those itself: each punch is quick, and finding the next queued range
 * must be too, not a walk past every range punched before it. Eight times
 * the ranges may take eight times as long to close, not sixty-four.
 */
TEST_F_TIMEOUT(load, close_settles_queued_punches_in_linear_time, 300)
{
	const size_t small = 4096, large = 32768;
	int ready[2], done[2], fd_small, fd_large, purger_fd;
	long long took_small, took_large, purged = -1;
	pid_t slow, purger;
	char c;
	int i;

	if (sizeof(void *) < 8)
		SKIP(return, "120000 mappings of 1 MiB need a 64-bit address space");
	ASSERT_EQ(0, write_file(MAX_MAP_COUNT, "200000"));
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(done));
	slow = fork();
	ASSERT_LE(0, slow);
	if (!slow)
		slow_to_punch(_metadata, 120000, ready[1], done[0]);
	ASSERT_EQ(1, read(ready[0], &c, 1));

	fd_small = unpinned_every_other_page(_metadata, small);
	fd_large = unpinned_every_other_page(_metadata, large);
	purger_fd = open_region(_metadata);
	purger = fork();
	ASSERT_LE(0, purger);
	if (!purger) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		/* The parent's closes are to be the last. */
		close(fd_small);
		close(fd_large);
		_exit(purge_all(purger_fd) < 0);
	}
	/*
	 * Every range marked purged and queued, the slow region's too. Read
	 * from debugfs, which takes no lock: reclaim skips the ranges of a
	 * region whose lock is held, and fdinfo holds it.
	 */
	for (i = 0; i < 300; i++) {
		purged = key_value(DEBUGFS_STATS, "purged_pages");
		if (purged == (long long)(small + large + 128))
			break;
		usleep(100000);
	}
	ASSERT_EQ((long long)(small + large + 128), purged);

	took_small = close_ms(fd_small);
	took_large = close_ms(fd_large);
	TH_LOG("closing regions with %zu and %zu queued ranges took %lld and %lld ms",
	       small, large, took_small, took_large);

	ASSERT_EQ(1, write(done[1], "d", 1));
	EXPECT_EQ(0, wait_exit_code(slow));
	EXPECT_EQ(0, wait_exit_code(purger));
	close(purger_fd);
	write_file(MAX_MAP_COUNT, "65530");
	EXPECT_GT(16 * took_small + 200, took_large);
}

/*
 * A region whose pages 1 to 2 * @ranges are one chain of touching
 * ranges, purged and unpurged in turn (purged ranges may touch the
 * others), none of them in memory; page 0 is pinned. Reclaim leaves
 * such chains behind whenever an app unpins the neighbours of what it
 * purged.
 */
static int chain_of_touching_ranges(struct __test_metadata *_metadata,
				    int purger_fd, size_t ranges)
{
	size_t i, pg = page_size();
	void *map;
	int fd;

	fd = open_region(_metadata);
	ASSERT_EQ(0, ioctl(fd, ASHMEM_SET_SIZE, (2 * ranges + 1) * pg));
	map = mmap(NULL, pg, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	munmap(map, pg);
	for (i = 0; i < ranges; i++)
		ASSERT_EQ(0, unpin_pages(fd, 2 * i + 1, 1));
	ASSERT_LE(0, purge_all(purger_fd));
	for (i = 0; i < ranges; i++)
		ASSERT_EQ(0, unpin_pages(fd, 2 * i + 2, 1));
	ASSERT_EQ((long long)(2 * ranges),
		  fdinfo_num(fd, "ashmem_unpinned_pages"));
	return fd;
}

/* How long @rounds UNPINs and PINs of page 0 of @fd took, in ms. */
static long long unpin_pin_first_page_ms(struct __test_metadata *_metadata,
					 int fd, int rounds)
{
	long long t0 = now_ms();
	int i;

	for (i = 0; i < rounds; i++) {
		ASSERT_EQ(0, unpin_pages(fd, 0, 1));
		ASSERT_EQ(ASHMEM_NOT_PURGED, pin_pages(fd, 0, 1));
	}
	return now_ms() - t0;
}

/*
 * PIN and UNPIN of a page that holds no memory, beside a chain of 64k
 * touching ranges, change one range: they must cost what they cost
 * beside a chain of 64, give or take the tree's depth, not a walk of the
 * whole chain under the region's lock (which also holds reclaim off the
 * region's ranges meanwhile).
 */
TEST_F_TIMEOUT(load, pin_beside_a_chain_of_touching_ranges_is_quick, 300)
{
	const size_t short_chain = 64, long_chain = 65536;
	const int rounds = 200;
	long long took_short, took_long;
	int fd_short, fd_long;

	fd_short = chain_of_touching_ranges(_metadata, self->fd, short_chain);
	fd_long = chain_of_touching_ranges(_metadata, self->fd, long_chain);
	took_short = unpin_pin_first_page_ms(_metadata, fd_short, rounds);
	took_long = unpin_pin_first_page_ms(_metadata, fd_long, rounds);
	TH_LOG("%d UNPINs and PINs beside chains of %zu and %zu ranges took %lld and %lld ms",
	       rounds, 2 * short_chain, 2 * long_chain, took_short, took_long);
	close(fd_short);
	close(fd_long);
	EXPECT_GT(4 * took_short + 200, took_long);
}

/* Thousands of regions */

#define MANY_REGIONS	2000

static int cmp_ulong(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a;
	unsigned long y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

TEST_F_TIMEOUT(load, thousands_of_regions_map_and_close, 90)
{
	struct rlimit rl;
	unsigned int **maps;
	unsigned long *ids;
	char name[32];
	int *fds, i;

	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &rl));
	if (rl.rlim_cur < MANY_REGIONS + 64) {
		rl.rlim_cur = MANY_REGIONS + 64;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur;
		ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl))
			TH_LOG("raising RLIMIT_NOFILE: %s", strerror(errno));
	}
	fds = calloc(MANY_REGIONS, sizeof(*fds));
	maps = calloc(MANY_REGIONS, sizeof(*maps));
	ids = calloc(MANY_REGIONS, sizeof(*ids));
	ASSERT_TRUE(fds && maps && ids);

	for (i = 0; i < MANY_REGIONS; i++) {
		fds[i] = open(ASHMEM_DEV, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fds[i]) TH_LOG("region %d: %s", i, strerror(errno));
		snprintf(name, sizeof(name), "many-%d", i);
		ASSERT_EQ(0, ioctl(fds[i], ASHMEM_SET_NAME, name));
		ASSERT_EQ(0, ioctl(fds[i], ASHMEM_SET_SIZE, self->pg));
		maps[i] = mmap(NULL, self->pg, PROT_READ | PROT_WRITE,
			       MAP_SHARED, fds[i], 0);
		ASSERT_NE(MAP_FAILED, maps[i]) TH_LOG("region %d", i);
		*maps[i] = i;
		ASSERT_EQ(0, ioctl(fds[i], ASHMEM_GET_FILE_ID, &ids[i]));
		/* Leave every other region with its page unpinned. */
		if (i & 1)
			ASSERT_EQ(0, unpin_pages(fds[i], 0, 1));
	}

	for (i = 0; i < MANY_REGIONS; i++)
		ASSERT_EQ((unsigned int)i, *maps[i]) TH_LOG("region %d", i);
	qsort(ids, MANY_REGIONS, sizeof(*ids), cmp_ulong);
	for (i = 1; i < MANY_REGIONS; i++)
		ASSERT_NE(ids[i - 1], ids[i]) TH_LOG("two regions, one id");

	for (i = 0; i < MANY_REGIONS; i++) {
		ASSERT_EQ(0, close(fds[i]));
		if (!(i & 1))
			ASSERT_EQ((unsigned int)i, *maps[i]);
		ASSERT_EQ(0, munmap(maps[i], self->pg));
	}
	/* The closed regions' unpinned pages went with them. */
	EXPECT_EQ(0, purge_all(self->fd));
	free(ids);
	free(maps);
	free(fds);
}

/* Memory pressure */

#define PRESSURE_BYTES	(32 * MIB)
#define KEEP_PAGES	16

static int set_oom_score_adj(int adj)
{
	char text[16];

	snprintf(text, sizeof(text), "%d\n", adj);
	return write_file("/proc/self/oom_score_adj", text);
}

/*
 * In a child the OOM killer picks first, touch anonymous memory a MiB at a
 * time until the region behind @fd reports @target purged pages (exit 0) or
 * @limit bytes are touched (exit 3).
 */
static void __noreturn hog(int fd, long long target, size_t limit)
{
	size_t pg = page_size();
	size_t done, i;
	char *p;

	if (set_oom_score_adj(1000))
		_exit(5);
	for (done = 0; done < limit; done += MIB) {
		p = mmap(NULL, MIB, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			_exit(4);
		for (i = 0; i < MIB; i += pg)
			p[i] = 1;
		if (fdinfo_num(fd, "ashmem_purged_pages") >= target)
			_exit(0);
	}
	_exit(3);
}

static const char *hog_result(int code)
{
	switch (code) {
	case 0:
		return "every unpinned page was purged";
	case 3:
		return "gave up at its memory bound";
	case 128 + SIGKILL:
		return "killed (by the OOM killer?)";
	default:
		return "failed";
	}
}

/* What a pressure test saw. */
struct pressure_result {
	int hog_code;
	long long unpinned;
	long long purged;
	int pin_ret;
	bool kept_intact;	/* pinned pages still hold their data */
	bool pages_whole;	/* unpinned pages either intact or zero */
	long long zero_pages;
	int setup_error;	/* errno of a failed set-up step, or 0 */
};

/*
 * Make a region of @bytes, fill it, keep its first KEEP_PAGES pinned and
 * unpin the rest, let a hog of up to @limit bytes press on memory, then
 * pin everything again and record what happened in @res.
 */
static void press_region(size_t bytes, size_t limit,
			 struct pressure_result *res)
{
	size_t pages = bytes / page_size();
	size_t pg = page_size();
	unsigned char *map;
	size_t i;
	pid_t pid;
	int fd;

	fd = open(ASHMEM_DEV, O_RDWR | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, ASHMEM_SET_SIZE, bytes)) {
		res->setup_error = errno;
		return;
	}
	map = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		res->setup_error = errno;
		return;
	}
	fill_pages(map, 0, pages, SEED);
	if (unpin_pages(fd, KEEP_PAGES, pages - KEEP_PAGES)) {
		res->setup_error = errno;
		return;
	}
	res->unpinned = fdinfo_num(fd, "ashmem_unpinned_pages");

	pid = fork();
	if (pid < 0) {
		res->setup_error = errno;
		return;
	}
	if (!pid)
		hog(fd, pages - KEEP_PAGES, limit);
	res->hog_code = wait_exit_code(pid);

	res->purged = fdinfo_num(fd, "ashmem_purged_pages");
	res->pin_ret = pin_pages(fd, KEEP_PAGES, pages - KEEP_PAGES);
	res->kept_intact = pages_hold(map, 0, KEEP_PAGES, SEED);
	res->pages_whole = true;
	for (i = KEEP_PAGES; i < pages; i++) {
		if (pages_are_zero(map, i, 1))
			res->zero_pages++;
		else if (!bytes_are(map + i * pg, pattern_byte(SEED, i), pg))
			res->pages_whole = false;
	}
	munmap(map, bytes);
	close(fd);
}

static void check_pressure_result(struct __test_metadata *_metadata,
				  const struct pressure_result *res)
{
	ASSERT_EQ(0, res->setup_error)
		TH_LOG("setting up the region: %s", strerror(res->setup_error));
	TH_LOG("hog: %s; %lld of %lld unpinned pages purged",
	       hog_result(res->hog_code), res->purged, res->unpinned);
	ASSERT_LT(0, res->purged)
		TH_LOG("memory pressure purged no unpinned page");
	EXPECT_EQ(ASHMEM_WAS_PURGED, res->pin_ret);
	EXPECT_TRUE(res->kept_intact) TH_LOG("a pinned page lost its data");
	EXPECT_TRUE(res->pages_whole)
		TH_LOG("an unpinned page is neither intact nor zero");
	EXPECT_LE(res->purged, res->zero_pages)
		TH_LOG("fewer zero pages than purged pages");
}

TEST_F_TIMEOUT(load, memory_pressure_purges_unpinned_pages, 120)
{
	struct pressure_result res = {};
	struct sysinfo si;

	ASSERT_EQ(0, sysinfo(&si));
	press_region(PRESSURE_BYTES, (size_t)si.totalram * si.mem_unit, &res);
	check_pressure_result(_metadata, &res);
}

/*
 * Concurrency: STRESS_PROCS processes of STRESS_THREADS threads each own
 * STRESS_SPAN pages of one of STRESS_REGIONS shared regions. Neighbouring
 * threads own neighbouring pages, so their unpinned ranges merge and split
 * all the time. Meanwhile one process purges in a loop and another opens,
 * maps, forks and closes.
 */
#define STRESS_SECONDS	3
#define STRESS_PROCS	3
#define STRESS_THREADS	3
#define STRESS_SPAN	2
#define STRESS_REGIONS	2
#define STRESS_SLOTS	(STRESS_PROCS * STRESS_THREADS)
#define STRESS_PAGES	\
	(((STRESS_SLOTS + STRESS_REGIONS - 1) / STRESS_REGIONS) * STRESS_SPAN)

/* Shared by every process of the stress test. */
struct stress {
	struct timespec deadline;
	int fds[STRESS_REGIONS];
	unsigned long iterations;
	unsigned long not_purged;
	unsigned long was_purged;
	unsigned long purges;
	unsigned long churns;
	unsigned long errors;
	char error[256];
};

struct stress_thread {
	struct stress *st;
	unsigned char *map;
	int fd;
	size_t first;
	unsigned int slot;
};

static bool stress_over(struct stress *st)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > st->deadline.tv_sec ||
	       (now.tv_sec == st->deadline.tv_sec &&
		now.tv_nsec >= st->deadline.tv_nsec);
}

static void __printf(2, 3)
stress_fail(struct stress *st, const char *fmt, ...)
{
	va_list ap;

	if (__atomic_fetch_add(&st->errors, 1, __ATOMIC_SEQ_CST))
		return;
	va_start(ap, fmt);
	vsnprintf(st->error, sizeof(st->error), fmt, ap);
	va_end(ap);
}

static void stress_count(unsigned long *counter)
{
	__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

/* One round: write while pinned, check, unpin, wait, pin, check again. */
static bool stress_round(struct stress_thread *t, unsigned int pattern,
			 unsigned int *rnd)
{
	size_t pg = page_size();
	size_t i, zeros = 0;
	int ret;

	fill_pages(t->map, t->first, STRESS_SPAN, pattern);
	if (pin_status(t->fd, t->first, STRESS_SPAN) != ASHMEM_IS_PINNED) {
		stress_fail(t->st, "slot %u: own pinned pages reported unpinned",
			    t->slot);
		return false;
	}
	sched_yield();
	if (!pages_hold(t->map, t->first, STRESS_SPAN, pattern)) {
		stress_fail(t->st, "slot %u: pinned pages lost their data",
			    t->slot);
		return false;
	}

	if (unpin_pages(t->fd, t->first, STRESS_SPAN)) {
		stress_fail(t->st, "slot %u: UNPIN: %s", t->slot,
			    strerror(errno));
		return false;
	}
	if (pin_status(t->fd, t->first, STRESS_SPAN) != ASHMEM_IS_UNPINNED) {
		stress_fail(t->st, "slot %u: unpinned pages reported pinned",
			    t->slot);
		return false;
	}
	if (rand_r(rnd) % 4)
		sched_yield();
	else
		usleep(rand_r(rnd) % 200);

	ret = pin_pages(t->fd, t->first, STRESS_SPAN);
	if (ret == ASHMEM_NOT_PURGED) {
		if (!pages_hold(t->map, t->first, STRESS_SPAN, pattern)) {
			stress_fail(t->st, "slot %u: NOT_PURGED, data changed",
				    t->slot);
			return false;
		}
		stress_count(&t->st->not_purged);
		return true;
	}
	if (ret != ASHMEM_WAS_PURGED) {
		stress_fail(t->st, "slot %u: PIN returned %d (%s)", t->slot,
			    ret, strerror(errno));
		return false;
	}
	for (i = t->first; i < t->first + STRESS_SPAN; i++) {
		if (pages_are_zero(t->map, i, 1))
			zeros++;
		else if (!bytes_are(t->map + i * pg, pattern_byte(pattern, i),
				    pg))
			break;
	}
	if (i < t->first + STRESS_SPAN || !zeros) {
		stress_fail(t->st,
			    "slot %u: WAS_PURGED, pages neither kept nor zero",
			    t->slot);
		return false;
	}
	stress_count(&t->st->was_purged);
	return true;
}

static void *stress_thread_fn(void *arg)
{
	struct stress_thread *t = arg;
	unsigned int rnd = t->slot * 7919 + 1;
	unsigned int round;

	for (round = 0; !stress_over(t->st); round++) {
		if (!stress_round(t, t->slot * 1000 + round, &rnd))
			break;
		stress_count(&t->st->iterations);
	}
	return NULL;
}

/* A worker process maps every region anew and runs its threads on them. */
static void __noreturn stress_worker(struct stress *st, unsigned int proc)
{
	size_t size = STRESS_PAGES * page_size();
	struct stress_thread threads[STRESS_THREADS];
	unsigned char *maps[STRESS_REGIONS];
	pthread_t ids[STRESS_THREADS];
	unsigned int i;

	for (i = 0; i < STRESS_REGIONS; i++) {
		maps[i] = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
			       st->fds[i], 0);
		if (maps[i] == MAP_FAILED) {
			stress_fail(st, "worker %u: mmap: %s", proc,
				    strerror(errno));
			_exit(1);
		}
	}
	for (i = 0; i < STRESS_THREADS; i++) {
		unsigned int slot = proc * STRESS_THREADS + i;

		threads[i] = (struct stress_thread) {
			.st = st,
			.map = maps[slot % STRESS_REGIONS],
			.fd = st->fds[slot % STRESS_REGIONS],
			.first = (slot / STRESS_REGIONS) * STRESS_SPAN,
			.slot = slot,
		};
		if (pthread_create(&ids[i], NULL, stress_thread_fn,
				   &threads[i])) {
			stress_fail(st, "worker %u: pthread_create", proc);
			_exit(1);
		}
	}
	for (i = 0; i < STRESS_THREADS; i++)
		pthread_join(ids[i], NULL);
	_exit(0);
}

static void __noreturn stress_purger(struct stress *st)
{
	int ret;

	while (!stress_over(st)) {
		ret = purge_all(st->fds[0]);
		if (ret < 0) {
			stress_fail(st, "PURGE_ALL_CACHES: %s", strerror(errno));
			_exit(1);
		}
		if (ret > 0)
			stress_count(&st->purges);
	}
	_exit(0);
}

/* One short-lived region: mapped, half unpinned, closed in @how's order. */
static int churn_once(struct stress *st, unsigned int how)
{
	size_t pg = page_size();
	unsigned long id;
	unsigned char *map;
	pid_t pid;
	int fd;

	fd = open(ASHMEM_DEV, O_RDWR | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, ASHMEM_SET_SIZE, 4 * pg))
		return -1;
	map = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return -1;
	fill_pages(map, 0, 4, SEED);
	if (unpin_pages(fd, 0, 2))
		return -1;

	switch (how % 3) {
	case 0:
		close(fd);
		munmap(map, 4 * pg);
		return 0;
	case 1:
		munmap(map, 4 * pg);
		close(fd);
		return 0;
	}

	/* A child maps a shared region, asks its id, and exits. */
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		int shared = st->fds[how % STRESS_REGIONS];
		void *view = mmap(NULL, STRESS_PAGES * pg, PROT_READ,
				  MAP_SHARED, shared, 0);

		if (view == MAP_FAILED || ioctl(shared, ASHMEM_GET_FILE_ID, &id))
			_exit(1);
		close(fd);
		_exit(0);
	}
	close(fd);
	munmap(map, 4 * pg);
	return wait_exit_code(pid) ? -1 : 0;
}

static void __noreturn stress_churner(struct stress *st)
{
	unsigned int how;

	for (how = 0; !stress_over(st); how++) {
		if (churn_once(st, how)) {
			stress_fail(st, "churn %u: %s", how, strerror(errno));
			_exit(1);
		}
		stress_count(&st->churns);
	}
	_exit(0);
}

TEST_F_TIMEOUT(load, pin_unpin_races_with_purge_lose_no_data, 60)
{
	size_t size = STRESS_PAGES * self->pg;
	pid_t pids[STRESS_PROCS + 2];
	struct stress *st;
	unsigned int i;
	int code;

	st = mmap(NULL, sizeof(*st), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, st);
	memset(st, 0, sizeof(*st));
	for (i = 0; i < STRESS_REGIONS; i++) {
		void *map;

		st->fds[i] = open_region(_metadata);
		ASSERT_EQ(0, ioctl(st->fds[i], ASHMEM_SET_SIZE, size));
		/* The first mmap fixes the size; workers map it again. */
		map = mmap(NULL, size, PROT_READ, MAP_SHARED, st->fds[i], 0);
		ASSERT_NE(MAP_FAILED, map);
		munmap(map, size);
	}
	clock_gettime(CLOCK_MONOTONIC, &st->deadline);
	st->deadline.tv_sec += STRESS_SECONDS;

	for (i = 0; i < STRESS_PROCS + 2; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (pids[i])
			continue;
		if (i < STRESS_PROCS)
			stress_worker(st, i);
		if (i == STRESS_PROCS)
			stress_purger(st);
		stress_churner(st);
	}
	for (i = 0; i < STRESS_PROCS + 2; i++) {
		code = wait_exit_code(pids[i]);
		EXPECT_EQ(0, code) TH_LOG("stress process %u: exit %d", i, code);
	}

	TH_LOG("%lu rounds: %lu not purged, %lu purged; %lu purges, %lu churns",
	       st->iterations, st->not_purged, st->was_purged, st->purges,
	       st->churns);
	EXPECT_EQ(0, st->errors) TH_LOG("first error: %s", st->error);
	EXPECT_LT(0, st->iterations);
	EXPECT_LT(0, st->was_purged) TH_LOG("the purger never hit a range");
	EXPECT_LT(0, st->churns);
	/* Every thread ended with its pages pinned. */
	for (i = 0; i < STRESS_REGIONS; i++) {
		EXPECT_EQ(ASHMEM_IS_PINNED, pin_status(st->fds[i], 0, 0));
		EXPECT_EQ(0, fdinfo_num(st->fds[i], "ashmem_unpinned_pages"));
		close(st->fds[i]);
	}
	munmap(st, sizeof(*st));
}

TEST_HARNESS_MAIN
