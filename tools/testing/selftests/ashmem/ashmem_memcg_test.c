// SPDX-License-Identifier: GPL-2.0
/*
 * ashmem inside memory cgroups (v2): reclaim under a cgroup's memory.max
 * purges that cgroup's own unpinned pages, leaves other cgroups' alone,
 * and the kernel memory of regions and ranges is charged to the caller.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdint.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <time.h>

#include "kselftest_harness.h"
#include "ashmem_common.h"

#define CGROUP_ROOT	"/sys/fs/cgroup"
#define DEBUGFS_STATS	"/sys/kernel/debug/ashmem/stats"
#define MIB		(1024UL * 1024)

static int cg_write(const char *cg, const char *file, const char *text)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	return write_file(path, text);
}

/* Value of line "@key N" of @cg's memory.stat, or -1. */
static long long cg_stat(const char *cg, const char *key)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/memory.stat", cg);
	return key_value(path, key);
}

/* The number in @cg's file @file, or -1. */
static long long cg_number(const char *cg, const char *file)
{
	char path[PATH_MAX], buf[64] = "";
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? atoll(buf) : -1;
}

static int cg_enter(const char *cg)
{
	char pid[32];

	snprintf(pid, sizeof(pid), "%d", getpid());
	return cg_write(cg, "cgroup.procs", pid);
}

FIXTURE(memcg) {
	char a[PATH_MAX];
	char b[PATH_MAX];
};

/* Two sibling cgroups with the memory controller, or the test skips. */
FIXTURE_SETUP(memcg)
{
	char controllers[256] = "";
	int fd;
	ssize_t n;

	fd = open(CGROUP_ROOT "/cgroup.controllers", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, controllers, sizeof(controllers) - 1);
		controllers[n > 0 ? n : 0] = '\0';
		close(fd);
	}
	if (!strstr(controllers, "memory"))
		SKIP(return, "no cgroup v2 memory controller at %s",
		     CGROUP_ROOT);
	ASSERT_EQ(0, write_file(CGROUP_ROOT "/cgroup.subtree_control",
				"+memory"));

	snprintf(self->a, sizeof(self->a), "%s/ashmem_a_%d", CGROUP_ROOT,
		 getpid());
	snprintf(self->b, sizeof(self->b), "%s/ashmem_b_%d", CGROUP_ROOT,
		 getpid());
	ASSERT_EQ(0, mkdir(self->a, 0755));
	ASSERT_EQ(0, mkdir(self->b, 0755));
}

FIXTURE_TEARDOWN(memcg)
{
	/* The children that were in them have been waited for. */
	rmdir(self->a);
	rmdir(self->b);
}

/*
 * In cgroup @cg: map @size bytes of ashmem, write them, unpin all but the
 * first page, then write @anon bytes of anonymous memory. Exits 0 if it
 * survived with page 0 intact and PIN reports the rest purged.
 */
static void survive_with_unpinned(struct __test_metadata *_metadata,
				  const char *cg, size_t size, size_t anon)
{
	unsigned char *map, *hog;
	int fd;

	ASSERT_EQ(0, cg_enter(cg));
	map = new_mapped_region(_metadata, size, &fd);
	fill_pages(map, 0, size / page_size(), 7);
	ASSERT_EQ(0, unpin_pages(fd, 1, size / page_size() - 1));

	hog = mmap(NULL, anon, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, hog);
	memset(hog, 1, anon);

	ASSERT_TRUE(pages_hold(map, 0, 1, 7));
	ASSERT_EQ(ASHMEM_WAS_PURGED, pin_pages(fd, 1, size / page_size() - 1));
	exit(0);
}

/*
 * Unpins the whole of @n regions of @size bytes whose pages were never
 * touched, and leaves them open: unpinned ranges that hold no memory.
 */
static void unpin_untouched_regions(struct __test_metadata *_metadata,
				    int n, size_t size)
{
	struct rlimit rl = { n + 64, n + 64 };
	void *map;
	int i, fd;

	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	for (i = 0; i < n; i++) {
		fd = open_region(_metadata);
		ASSERT_EQ(0, ioctl(fd, ASHMEM_SET_SIZE, size));
		/* Mapping a page creates the file; nothing is read. */
		map = mmap(NULL, page_size(), PROT_READ, MAP_SHARED, fd, 0);
		ASSERT_NE(MAP_FAILED, map);
		munmap(map, page_size());
		ASSERT_EQ(0, pin_ioctl(fd, ASHMEM_UNPIN, 0, 0));
	}
}

TEST_F(memcg, cgroup_reclaim_purges_own_unpinned_pages)
{
	pid_t pid;

	ASSERT_EQ(0, cg_write(self->a, "memory.max", "100663296"));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		survive_with_unpinned(_metadata, self->a, 64 * MIB, 64 * MIB);
	/* 128 + SIGKILL here would be the OOM killer. */
	ASSERT_EQ(0, wait_exit_code(pid));
}

/*
 * Thousands of huge unpinned ranges that hold no memory come first on the
 * cgroup's list: reclaim must neither count their sizes (which would
 * overflow its arithmetic and stop it) nor let them hide the one range
 * whose pages are in memory.
 */
TEST_F_TIMEOUT(memcg, untouched_huge_ranges_hide_no_resident_one, 300)
{
	/* As large as SET_SIZE takes: 2^51 pages each on 64-bit. */
	size_t huge = sizeof(size_t) == 8 ?
		      (size_t)LLONG_MAX & ~(page_size() - 1) : 1UL << 31;
	pid_t pid;

	ASSERT_EQ(0, cg_write(self->a, "memory.max", "100663296"));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		ASSERT_EQ(0, cg_enter(self->a));
		unpin_untouched_regions(_metadata, 3000, huge);
		survive_with_unpinned(_metadata, self->a, 64 * MIB, 64 * MIB);
	}
	ASSERT_EQ(0, wait_exit_code(pid));
}

/*
 * How the pages of a region, charged to cgroup A where they were written
 * (but for page @hole, if not 0, which holds no memory), come to be
 * unpinned: A
 * unpins from page @a_from on (if not 0), then a task of cgroup B, which
 * got the descriptor, unpins (@b_unpins) or pins @b_pages pages (0: to
 * the end) from page @b_from on. Page 0 stays pinned.
 */
struct b_change {
	size_t hole;
	size_t a_from;
	size_t b_from;
	size_t b_pages;
	bool b_unpins;
};

/*
 * In a child of a cgroup at memory.max, with @map of @size bytes written
 * with pattern 7 and unpinned from page @first to the end: needs @size
 * bytes more, then checks that page 0 kept its data and that the rest
 * was purged rather than swapped. Exits 0 if so.
 */
static void need_memory_then_purged(struct __test_metadata *_metadata,
				    unsigned char *map, int fd, size_t size,
				    size_t first)
{
	size_t pages = size / page_size();
	unsigned char *hog;

	hog = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, hog);
	memset(hog, 1, size);
	ASSERT_TRUE(pages_hold(map, 0, 1, 7));
	ASSERT_EQ(ASHMEM_WAS_PURGED, pin_pages(fd, first, pages - first));
	exit(0);
}

/*
 * Whoever made the ranges, their pages are A's: reclaim under A's
 * memory.max must find them when A needs 64 MiB more, and purge them.
 */
static void changed_in_b(struct __test_metadata *_metadata, const char *a,
			 const char *b, const struct b_change *change)
{
	size_t size = 64 * MIB, pages = size / page_size();
	size_t hole = change->hole, first = hole ? hole + 1 : 1;
	unsigned char *map;
	pid_t pid, other;
	int fd, ret;

	ASSERT_EQ(0, cg_write(a, "memory.max", "100663296"));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid) {
		/* 128 + SIGKILL here would be the OOM killer. */
		ASSERT_EQ(0, wait_exit_code(pid));
		return;
	}
	ASSERT_EQ(0, cg_enter(a));
	map = new_mapped_region(_metadata, size, &fd);
	fill_pages(map, 0, pages, 7);
	if (hole)
		ASSERT_EQ(0, madvise(map + hole * page_size(), page_size(),
				     MADV_REMOVE));
	if (change->a_from)
		ASSERT_EQ(0, unpin_pages(fd, change->a_from,
					 pages - change->a_from));
	other = fork();
	ASSERT_LE(0, other);
	if (!other) {
		ASSERT_EQ(0, cg_enter(b));
		ret = pin_ioctl(fd, change->b_unpins ? ASHMEM_UNPIN : ASHMEM_PIN,
				change->b_from * page_size(),
				change->b_pages * page_size());
		_exit(ret != 0);
	}
	ASSERT_EQ(0, wait_exit_code(other));

	need_memory_then_purged(_metadata, map, fd, size, first);
}

/* B unpins what A wrote: ranges are filed under the pages' cgroup. */
TEST_F(memcg, ranges_follow_the_cgroup_of_their_pages)
{
	const struct b_change change = { .b_from = 1, .b_unpins = true };

	changed_in_b(_metadata, self->a, self->b, &change);
}

/* B unpins page 1, which holds no memory, beside A's [2, end): a merge. */
TEST_F(memcg, range_merged_by_another_cgroup_stays_with_its_pages)
{
	const struct b_change change = {
		.hole = 1, .a_from = 2, .b_from = 1, .b_pages = 1,
		.b_unpins = true,
	};

	changed_in_b(_metadata, self->a, self->b, &change);
}

/* B pins page 2, which holds no memory, inside A's [1, end): a split. */
TEST_F(memcg, range_split_by_another_cgroup_stays_with_its_pages)
{
	const struct b_change change = {
		.hole = 2, .a_from = 1, .b_from = 2, .b_pages = 1,
	};

	changed_in_b(_metadata, self->a, self->b, &change);
}

/*
 * Regions whose first @resident pages are written and stay pinned, and
 * whose other pages, never touched, are unpinned in ranges of @resident
 * pages with one pinned page between them: ranges that hold no memory in
 * files that do. Mapped only where they were written.
 */
static void unpin_untouched_beside_resident(struct __test_metadata *_metadata,
					    int regions, size_t size,
					    size_t resident)
{
	size_t pages = size / page_size(), stride = resident + 1, i;
	unsigned char *map;
	int r, fd;

	for (r = 0; r < regions; r++) {
		fd = open_region(_metadata);
		ASSERT_EQ(0, ioctl(fd, ASHMEM_SET_SIZE, size));
		map = mmap(NULL, resident * page_size(),
			   PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		ASSERT_NE(MAP_FAILED, map);
		fill_pages(map, 0, resident, 5);
		for (i = stride; i + resident <= pages; i += stride)
			ASSERT_EQ(0, unpin_pages(fd, i, resident));
	}
}

/*
 * The weight of a range is what purging it gives back. Untouched ranges
 * of regions whose pinned pages are in memory give back nothing, however
 * much their file holds: ahead of the one range that holds memory on the
 * cgroup's list, they must not use up reclaim's scans, one range a scan,
 * while the task that needs the memory waits. Weighed as what they hold,
 * 128 of them go in one scan: 64k of them in 512 scans.
 */
TEST_F_TIMEOUT(memcg, untouched_ranges_of_resident_regions_hide_no_resident_one,
	       600)
{
	size_t size = 1UL << 31, resident = 128;
	long long t0, took, scans;
	int ready[2], code;
	pid_t pid;
	char c;

	/* The driver's side is the same; on it, this test takes minutes. */
	if (sizeof(void *) < 8)
		SKIP(return, "run by the 64-bit build only");
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, cg_write(self->a, "memory.max", "134217728"));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		ASSERT_EQ(0, cg_enter(self->a));
		/* 16 x 4k ranges, 8 MiB in memory, nothing to purge. */
		unpin_untouched_beside_resident(_metadata, 16, size, resident);
		ASSERT_EQ(1, write(ready[1], "r", 1));
		survive_with_unpinned(_metadata, self->a, 64 * MIB, 64 * MIB);
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));
	scans = key_value(DEBUGFS_STATS, "shrinker_scans");
	t0 = now_ms();
	code = wait_exit_code(pid);
	took = now_ms() - t0;
	scans = key_value(DEBUGFS_STATS, "shrinker_scans") - scans;
	TH_LOG("writing 64 MiB, unpinning them and getting 64 MiB back took %lld ms and %lld scans",
	       took, scans);
	/* 128 + SIGKILL here would be the OOM killer. */
	ASSERT_EQ(0, code);
	EXPECT_GT(4096, scans);
}

/*
 * Starts a task in cgroup @cg, as nobody if @nobody, that holds a region
 * slow to punch (slow_to_punch_pages()); returns once its ranges are
 * unpinned. A byte written to @done[1] lets it exit.
 */
static pid_t start_slow_to_punch(struct __test_metadata *_metadata,
				 const char *cg, int maps, size_t pages,
				 bool written, bool nobody, int done[2])
{
	int ready[2];
	pid_t pid;
	char c;

	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(done));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		ASSERT_EQ(0, cg_enter(cg));
		if (nobody) {
			ASSERT_EQ(0, setresgid(65534, 65534, 65534));
			ASSERT_EQ(0, setresuid(65534, 65534, 65534));
		}
		slow_to_punch_pages(_metadata, maps, pages, written, ready[1],
				    done[0]);
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));
	close(ready[0]);
	close(ready[1]);
	return pid;
}

/*
 * Cgroup B's unpinned ranges are purged first, and each punch of them is
 * slow: B's file is mapped 60000 times, which the default max_map_count
 * allows any task. Cgroup A then needs its own unpinned pages purged to
 * stay under memory.max. A's purge must not wait behind B's punches, nor
 * A be OOM-killed meanwhile.
 */
TEST_F_TIMEOUT(memcg, cgroup_purge_waits_for_no_other_cgroups_punches, 300)
{
	const int maps = 60000;
	int done[2], code;
	long long t0, t1;
	pid_t a, b;

	if (sizeof(void *) < 8)
		SKIP(return, "60000 mappings of 1 MiB need a 64-bit address space");
	b = start_slow_to_punch(_metadata, self->b, maps, 256, false, false,
				done);

	/* B's reclaim queues its ranges, and waits a little for them. */
	t0 = now_ms();
	cg_write(self->b, "memory.reclaim", "1048576");
	t1 = now_ms();
	TH_LOG("reclaim in B took %lld ms", t1 - t0);

	ASSERT_EQ(0, cg_write(self->a, "memory.max", "100663296"));
	a = fork();
	ASSERT_LE(0, a);
	if (!a) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		survive_with_unpinned(_metadata, self->a, 64 * MIB, 64 * MIB);
	}
	code = wait_exit_code(a);
	TH_LOG("A needed its purge for %lld ms", now_ms() - t1);

	ASSERT_EQ(1, write(done[1], "d", 1));
	EXPECT_EQ(0, wait_exit_code(b));
	/* 128 + SIGKILL would be the OOM killer. */
	EXPECT_EQ(0, code);
}

/* The kernel function task @pid sleeps in, or "" (for the log). */
static void task_wchan(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/wchan", pid);
	buf[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, len - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
}

/*
 * An unprivileged task of cgroup B makes its unpinned pages slow to punch.
 * Reclaim above B, here a proactive reclaim of the root cgroup (what
 * agents such as senpai or systemd-oomd's users write), purges them and
 * waits for their punches uninterruptibly, as long as each piece takes
 * less than 100 ms. Killed, the reclaiming task must be gone soon, not
 * when B's punches are done.
 */
TEST_F_TIMEOUT(memcg, reclaim_killed_while_others_punch_dies_soon, 600)
{
	const int maps = 10000;
	long long t0, waited, died, purged;
	int done[2], code;
	char wchan[64];
	pid_t b, reclaimer;

	if (sizeof(void *) < 8)
		SKIP(return, "10000 mappings of 32 MiB need a 64-bit address space");
	if (access(CGROUP_ROOT "/memory.reclaim", W_OK))
		SKIP(return, "no memory.reclaim in the root cgroup");
	/*
	 * As nobody, 4096 one-page ranges that hold memory: reclaim purges
	 * them, and each punch walks 10000 mappings, a few ms under TCG, far
	 * short of the 100 ms after which reclaim would stop waiting.
	 */
	b = start_slow_to_punch(_metadata, self->b, maps, 8192, true, true,
				done);

	purged = key_value(DEBUGFS_STATS, "purged_total");
	t0 = now_ms();
	reclaimer = fork();
	ASSERT_LE(0, reclaimer);
	if (!reclaimer) {
		write_file(CGROUP_ROOT "/memory.reclaim", "16777216");
		_exit(0);
	}
	sleep(3);
	task_wchan(reclaimer, wchan, sizeof(wchan));
	waited = now_ms() - t0;
	kill(reclaimer, SIGKILL);
	code = wait_exit_code(reclaimer);
	died = now_ms() - t0 - waited;
	purged = key_value(DEBUGFS_STATS, "purged_total") - purged;
	TH_LOG("reclaimer in '%s' after %lld ms, gone %lld ms after SIGKILL",
	       wchan, waited, died);
	TH_LOG("its status %d; %lld pages purged", code, purged);

	ASSERT_EQ(1, write(done[1], "d", 1));
	EXPECT_EQ(0, wait_exit_code(b));
	EXPECT_GT(3000, died);
}

/*
 * Cgroup B unpins 16 MiB and waits; cgroup A then reclaims under its
 * limit with enough unpinned pages of its own. B's must stay.
 */
TEST_F(memcg, cgroup_reclaim_spares_other_cgroups)
{
	size_t size = 16 * MIB, pages = size / page_size();
	int ready[2], done[2];
	pid_t a, b;
	char c;

	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(done));
	b = fork();
	ASSERT_LE(0, b);
	if (!b) {
		unsigned char *map;
		int fd;

		ASSERT_EQ(0, cg_enter(self->b));
		map = new_mapped_region(_metadata, size, &fd);
		fill_pages(map, 0, pages, 3);
		ASSERT_EQ(0, unpin_pages(fd, 0, pages));
		ASSERT_EQ(1, write(ready[1], "r", 1));
		ASSERT_EQ(1, read(done[0], &c, 1));
		ASSERT_EQ(ASHMEM_NOT_PURGED, pin_pages(fd, 0, pages));
		ASSERT_TRUE(pages_hold(map, 0, pages, 3));
		exit(0);
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));

	ASSERT_EQ(0, cg_write(self->a, "memory.max", "100663296"));
	a = fork();
	ASSERT_LE(0, a);
	if (!a)
		survive_with_unpinned(_metadata, self->a, 64 * MIB, 64 * MIB);
	EXPECT_EQ(0, wait_exit_code(a));

	ASSERT_EQ(1, write(done[1], "d", 1));
	EXPECT_EQ(0, wait_exit_code(b));
}

/* Slab bytes of @cg after the stats are flushed by reading them. */
static long long cg_slab(const char *cg)
{
	cg_stat(cg, "slab");
	return cg_stat(cg, "slab");
}

TEST_F(memcg, unpinned_ranges_are_charged_to_the_caller)
{
	const size_t ranges = 32768;
	int report[2];
	long long grown;
	pid_t pid;

	ASSERT_EQ(0, pipe(report));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		long long before, after;
		unsigned char *map;
		size_t i;
		int fd;

		ASSERT_EQ(0, cg_enter(self->a));
		map = new_mapped_region(_metadata, 2 * ranges * page_size(),
					&fd);
		ASSERT_NE(NULL, map);
		before = cg_slab(self->a);
		for (i = 0; i < ranges; i++)
			ASSERT_EQ(0, unpin_pages(fd, 2 * i, 1));
		after = cg_slab(self->a);
		grown = after - before;
		ASSERT_EQ(sizeof(grown), write(report[1], &grown,
					       sizeof(grown)));
		exit(0);
	}
	ASSERT_EQ(sizeof(grown), read(report[0], &grown, sizeof(grown)));
	ASSERT_EQ(0, wait_exit_code(pid));
	TH_LOG("slab grew %lld bytes for %zu ranges: %lld per range", grown,
	       ranges, grown / (long long)ranges);
	EXPECT_LE(32LL * ranges, grown);
}

/* Slab growth of cgroup @cg while a child holds @n files of @path open. */
static long long slab_for_open_files(struct __test_metadata *_metadata,
				     const char *cg, const char *path, int n)
{
	int report[2];
	long long grown;
	pid_t pid;

	ASSERT_EQ(0, pipe(report));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct rlimit rl = { n + 64, n + 64 };
		long long before;
		int i;

		ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
		ASSERT_EQ(0, cg_enter(cg));
		before = cg_slab(cg);
		for (i = 0; i < n; i++)
			ASSERT_LE(0, open(path, O_RDWR | O_CLOEXEC));
		grown = cg_slab(cg) - before;
		ASSERT_EQ(sizeof(grown), write(report[1], &grown,
					       sizeof(grown)));
		exit(0);
	}
	ASSERT_EQ(sizeof(grown), read(report[0], &grown, sizeof(grown)));
	ASSERT_EQ(0, wait_exit_code(pid));
	close(report[0]);
	close(report[1]);
	return grown;
}

TEST_F(memcg, regions_are_charged_to_the_caller)
{
	const int n = 4000;
	long long regions, files;

	regions = slab_for_open_files(_metadata, self->a, ASHMEM_DEV, n);
	files = slab_for_open_files(_metadata, self->b, "/dev/null", n);
	TH_LOG("%d regions: slab +%lld; %d /dev/null files: +%lld", n,
	       regions, n, files);
	EXPECT_LE(64LL * n, regions - files);
}

/*
 * Making ranges without end under a small memory.max stops inside the
 * cgroup, with ENOMEM from UNPIN rather than the OOM killer; the parent,
 * outside, goes on.
 */
TEST_F(memcg, ranges_without_end_stop_at_memory_max)
{
	size_t pages = 1UL << 19;	/* 2 GiB, never touched */
	pid_t pid;
	int code;

	ASSERT_EQ(0, cg_write(self->a, "memory.max", "8388608"));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		size_t i;
		void *map;
		int fd;

		ASSERT_EQ(0, cg_enter(self->a));
		fd = open_region(_metadata);
		ASSERT_EQ(0, ioctl(fd, ASHMEM_SET_SIZE, pages * page_size()));
		/* Mapping one page creates the whole region's file. */
		map = mmap(NULL, page_size(), PROT_READ, MAP_SHARED, fd, 0);
		ASSERT_NE(MAP_FAILED, map);
		for (i = 0; i < pages / 2; i++) {
			if (!unpin_pages(fd, 2 * i, 1))
				continue;
			code = errno == ENOMEM ? 10 : 11;
			/*
			 * The cgroup is full of ranges: pinning everything
			 * frees them, so that exiting needs no memory.
			 */
			if (pin_pages(fd, 0, pages) < 0)
				code = 13;
			_exit(code);
		}
		_exit(12);	/* 256k ranges fit in 8 MiB: not charged */
	}
	code = wait_exit_code(pid);
	EXPECT_EQ(10, code) TH_LOG("child ended with %d", code);
}

/*
 * With swap on, unpinned pages are the cheapest memory there is: nothing
 * to write out or read back. Reclaim under a cgroup's limit must purge
 * them all before it writes more than a little to swap, whichever LRU
 * (MGLRU or the classic one) the kernel runs.
 */
FIXTURE(swap) {
	char cg[PATH_MAX];
	char lru_gen[16];	/* to restore, or "" */
};

FIXTURE_VARIANT(swap) {
	const char *lru_gen;	/* written to lru_gen/enabled, or NULL */
};

FIXTURE_VARIANT_ADD(swap, default_lru) {
	.lru_gen = NULL,
};

FIXTURE_VARIANT_ADD(swap, mglru_on) {
	.lru_gen = "y",
};

FIXTURE_VARIANT_ADD(swap, mglru_off) {
	.lru_gen = "n",
};

#define LRU_GEN_ENABLED	"/sys/kernel/mm/lru_gen/enabled"

static bool swap_is_on(void)
{
	char line[256];
	bool on = false;
	FILE *f;

	f = fopen("/proc/swaps", "re");
	if (!f)
		return false;
	/* A header line, then one line per swap device. */
	on = fgets(line, sizeof(line), f) && fgets(line, sizeof(line), f);
	fclose(f);
	return on;
}

FIXTURE_SETUP(swap)
{
	int fd;
	ssize_t n;

	self->lru_gen[0] = '\0';
	self->cg[0] = '\0';
	if (!swap_is_on())
		SKIP(return, "no swap device (make check gives the guest one)");
	if (access(CGROUP_ROOT "/cgroup.controllers", F_OK))
		SKIP(return, "no cgroup v2 at %s", CGROUP_ROOT);
	if (variant->lru_gen) {
		fd = open(LRU_GEN_ENABLED, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			SKIP(return, "this kernel has no MGLRU");
		n = read(fd, self->lru_gen, sizeof(self->lru_gen) - 1);
		close(fd);
		ASSERT_LT(0, n);
		self->lru_gen[n] = '\0';
		ASSERT_EQ(0, write_file(LRU_GEN_ENABLED, variant->lru_gen));
	}
	ASSERT_EQ(0, write_file(CGROUP_ROOT "/cgroup.subtree_control",
				"+memory"));
	snprintf(self->cg, sizeof(self->cg), "%s/ashmem_swap_%d", CGROUP_ROOT,
		 getpid());
	ASSERT_EQ(0, mkdir(self->cg, 0755));
}

FIXTURE_TEARDOWN(swap)
{
	if (self->cg[0])
		rmdir(self->cg);
	if (self->lru_gen[0])
		write_file(LRU_GEN_ENABLED, self->lru_gen);
}

TEST_F(swap, unpinned_pages_are_purged_before_swap)
{
	long long before, after, swapped;
	pid_t pid;

	ASSERT_EQ(0, cg_write(self->cg, "memory.max", "100663296"));
	before = key_value("/proc/vmstat", "pswpout");
	ASSERT_LE(0, before);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		survive_with_unpinned(_metadata, self->cg, 64 * MIB, 64 * MIB);
	ASSERT_EQ(0, wait_exit_code(pid));
	after = key_value("/proc/vmstat", "pswpout");
	swapped = (after - before) * page_size() / 1024;
	TH_LOG("64 MiB unpinned, 64 MiB needed: %lld KiB went to swap",
	       swapped);
	EXPECT_GE(4 * 1024, swapped);
}

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE	25
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT	21
#endif
/* The first swap device of /proc/swaps, into @dev. */
static int first_swap_device(char *dev, size_t len)
{
	char line[256];
	int ret = -1;
	FILE *f;

	f = fopen("/proc/swaps", "re");
	if (!f)
		return -1;
	if (fgets(line, sizeof(line), f) && fgets(line, sizeof(line), f) &&
	    sscanf(line, "%255s", dev) == 1 && strlen(dev) < len)
		ret = 0;
	fclose(f);
	return ret;
}

/*
 * In cgroup @cg: 64 MiB of ashmem written, all but page 0 unpinned, then
 * paged out to swap, and a small reclaim. Swap goes off (an operator's
 * swapoff), which reads back into memory what is still in swap, and on
 * again. Then 64 MiB more under a memory.max of 96 MiB: the unpinned
 * pages, purged in swap or in memory again, must be purged. Exits 0 if
 * they were, 4 if they never went to swap.
 */
static void unpinned_back_from_swap(struct __test_metadata *_metadata,
				    const char *cg, const char *dev)
{
	size_t size = 64 * MIB, pages = size / page_size();
	unsigned char *map;
	long long out, back;
	int fd;

	ASSERT_EQ(0, cg_enter(cg));
	map = new_mapped_region(_metadata, size, &fd);
	fill_pages(map, 0, pages, 7);
	ASSERT_EQ(0, unpin_pages(fd, 1, pages - 1));
	madvise(map + page_size(), size - page_size(), MADV_PAGEOUT);
	out = cg_stat(cg, "shmem");
	if (out > (long long)(size / 2))
		_exit(4);
	/* Reclaim weighs the range now: it holds no memory. */
	cg_write(cg, "memory.reclaim", "1048576");
	ASSERT_EQ(0, swapoff(dev)) TH_LOG("swapoff %s: %s", dev,
					  strerror(errno));
	ASSERT_EQ(0, swapon(dev, 0)) TH_LOG("swapon %s: %s", dev,
					    strerror(errno));
	back = cg_stat(cg, "shmem");
	TH_LOG("shmem of the cgroup: %lld MiB after MADV_PAGEOUT, %lld MiB after swapoff",
	       out / (long long)MIB, back / (long long)MIB);
	/* Purged while in swap (pages in swap weigh too): nothing came back. */
	if (back <= (long long)(size / 2)) {
		ASSERT_TRUE(pages_hold(map, 0, 1, 7));
		ASSERT_EQ(ASHMEM_WAS_PURGED, pin_pages(fd, 1, pages - 1));
		exit(0);
	}

	ASSERT_EQ(0, cg_write(cg, "memory.max", "100663296"));
	need_memory_then_purged(_metadata, map, fd, size, 1);
}

TEST_F(memcg, unpinned_pages_back_from_swap_are_purged)
{
	char dev[256];
	pid_t pid;
	int code;

	if (!swap_is_on() || first_swap_device(dev, sizeof(dev)))
		SKIP(return, "no swap device (make check gives the guest one)");
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		unpinned_back_from_swap(_metadata, self->a, dev);
	code = wait_exit_code(pid);
	if (code == 4)
		SKIP(return, "MADV_PAGEOUT did not swap the region out");
	/* 128 + SIGKILL here would be the OOM killer. */
	ASSERT_EQ(0, code);
}

/*
 * A writes 64 MiB; its pages 1 to 256 go to swap, the rest stay in A's
 * memory; B unpins [1, end). The range's resident pages are A's, so
 * reclaim under A's memory.max must find it when A needs 64 MiB more,
 * and purge it: a long run of swapped pages at its start must not file
 * it under B. Exits 4 if the pages did not go to swap.
 */
static void swapped_head_unpinned_in_b(struct __test_metadata *_metadata,
				       const char *a, const char *b)
{
	size_t size = 64 * MIB, pages = size / page_size(), head = 256;
	unsigned char *map;
	long long before;
	pid_t other;
	int fd;

	ASSERT_EQ(0, cg_enter(a));
	map = new_mapped_region(_metadata, size, &fd);
	fill_pages(map, 0, pages, 7);
	before = cg_stat(a, "shmem");
	madvise(map + page_size(), head * page_size(), MADV_PAGEOUT);
	if (before - cg_stat(a, "shmem") < (long long)(head * page_size()))
		_exit(4);
	ASSERT_EQ(0, cg_write(a, "memory.max", "100663296"));
	other = fork();
	ASSERT_LE(0, other);
	if (!other) {
		ASSERT_EQ(0, cg_enter(b));
		_exit(unpin_pages(fd, 1, pages - 1) != 0);
	}
	ASSERT_EQ(0, wait_exit_code(other));

	need_memory_then_purged(_metadata, map, fd, size, 1);
}

TEST_F(memcg, range_with_swapped_head_stays_with_its_pages)
{
	pid_t pid;
	int code;

	if (!swap_is_on())
		SKIP(return, "no swap device (make check gives the guest one)");
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		swapped_head_unpinned_in_b(_metadata, self->a, self->b);
	code = wait_exit_code(pid);
	if (code == 4)
		SKIP(return, "MADV_PAGEOUT did not swap the pages out");
	/* 128 + SIGKILL here would be the OOM killer. */
	ASSERT_EQ(0, code);
}

/*
 * In cgroup @cg: two unpinned ranges of 128 pages (page 128 between them
 * stays pinned) that hold no memory: written and paged out to swap if
 * @swapped, never touched otherwise. Says so on @ready ('s' if the pages
 * did not go to swap), then waits for a byte on @done.
 */
static void two_ranges_held_off(struct __test_metadata *_metadata,
				const char *cg, bool swapped, int ready,
				int done)
{
	size_t pages = 257, size = pages * page_size();
	unsigned char *map;
	char c = 'r';
	int fd;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	ASSERT_EQ(0, cg_enter(cg));
	map = new_mapped_region(_metadata, size, &fd);
	if (swapped)
		fill_pages(map, 0, pages, 3);
	ASSERT_EQ(0, unpin_pages(fd, 0, 128));
	ASSERT_EQ(0, unpin_pages(fd, 129, 128));
	if (swapped) {
		madvise(map, size, MADV_PAGEOUT);
		if (cg_stat(cg, "shmem") > (long long)(size / 2))
			c = 's';
	}
	ASSERT_EQ(1, write(ready, &c, 1));
	ASSERT_EQ(1, read(done, &c, 1));
	exit(0);
}

/*
 * How long a proactive reclaim of @amount bytes takes while tasks hold
 * two_ranges_held_off(): one in cgroup @cg, reclaimed there, or if
 * @tenants is not 0, one in each of that many children of @cg, with the
 * reclaim at the root. In ms; at most 60 s, after which the reclaim is
 * killed. -1 if the pages did not go to swap.
 */
static long long reclaim_beside_ranges_ms(struct __test_metadata *_metadata,
					  const char *cg, int tenants,
					  const char *amount, bool swapped)
{
	int ready[2], done[2], waited, status, i, holders = tenants ?: 1;
	pid_t holder, reclaimer;
	long long t0, took = -1;
	char child[PATH_MAX];
	bool paged_out = true;
	char c;

	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(done));
	if (tenants)
		ASSERT_EQ(0, cg_write(cg, "cgroup.subtree_control", "+memory"));
	for (i = 0; i < holders; i++) {
		snprintf(child, sizeof(child), "%s/t%d", cg, i);
		if (tenants)
			ASSERT_EQ(0, mkdir(child, 0755));
		holder = fork();
		ASSERT_LE(0, holder);
		if (!holder)
			two_ranges_held_off(_metadata, tenants ? child : cg,
					    swapped, ready[1], done[0]);
	}
	for (i = 0; i < holders; i++) {
		ASSERT_EQ(1, read(ready[0], &c, 1));
		paged_out &= c == 'r';
	}
	if (paged_out) {
		t0 = now_ms();
		reclaimer = fork();
		ASSERT_LE(0, reclaimer);
		if (!reclaimer) {
			cg_write(tenants ? CGROUP_ROOT : cg, "memory.reclaim",
				 amount);
			_exit(0);
		}
		for (waited = 0; waited < 600; waited++) {
			if (waitpid(reclaimer, &status, WNOHANG) == reclaimer)
				break;
			usleep(100000);
		}
		if (waited == 600) {
			kill(reclaimer, SIGKILL);
			waitpid(reclaimer, &status, 0);
		}
		took = now_ms() - t0;
	}
	for (i = 0; i < holders; i++)
		ASSERT_EQ(1, write(done[1], "d", 1));
	for (i = 0; i < holders; i++)
		ASSERT_LT(0, wait(&status));
	for (i = 0; i < tenants; i++) {
		snprintf(child, sizeof(child), "%s/t%d", cg, i);
		rmdir(child);
	}
	close(ready[0]);
	close(ready[1]);
	close(done[0]);
	close(done[1]);
	return took;
}

/*
 * Reclaim beside the never touched ranges of cgroup @a (or of its
 * @tenants children), then beside the same ranges of @b in swap: the
 * second must cost about what the first does.
 */
static void swapped_cost_like_untouched(struct __test_metadata *_metadata,
					const char *a, const char *b,
					int tenants, const char *amount)
{
	long long untouched, swapped, scans;

	if (!swap_is_on())
		SKIP(return, "no swap device (make check gives the guest one)");
	if (access(CGROUP_ROOT "/memory.reclaim", F_OK))
		SKIP(return, "no memory.reclaim");
	untouched = reclaim_beside_ranges_ms(_metadata, a, tenants, amount,
					     false);
	scans = key_value(DEBUGFS_STATS, "shrinker_scans");
	swapped = reclaim_beside_ranges_ms(_metadata, b, tenants, amount, true);
	scans = key_value(DEBUGFS_STATS, "shrinker_scans") - scans;
	if (swapped < 0)
		SKIP(return, "MADV_PAGEOUT did not swap the regions out");
	TH_LOG("reclaim beside %d cgroup(s), untouched: %lld ms; swapped: %lld ms, %lld scans",
	       tenants ?: 1, untouched, swapped, scans);
	EXPECT_GT(4 * untouched + 1000, swapped);
}

/*
 * Two unpinned ranges whose pages are in swap, alone on their cgroup's
 * list: reclaim weighs them at 0 and leaves them there, rotated. A walk
 * that rotates every range of a short list comes back to them again and
 * again: each scan weighs them 4096 times in all, each count 128 times,
 * each weighing up to 128 swap entries, under the list's spinlock, on
 * every reclaim pass of the cgroup (or above it: kswapd, a parent's
 * limit). Reclaim there must cost about what it costs beside ranges that
 * were never touched, which reclaim weighs once.
 */
TEST_F_TIMEOUT(memcg, swapped_ranges_cost_reclaim_little, 300)
{
	swapped_cost_like_untouched(_metadata, self->a, self->b, 0, "67108864");
}

/*
 * The same seen from outside: a tenant with 64 child cgroups (a
 * container may create them), each with two swapped ranges, makes every
 * reclaim above them pay 64 times over, here a proactive reclaim of 1 MiB
 * at the root (what kswapd and a parent's memory.max pay as well).
 */
TEST_F_TIMEOUT(memcg, swapped_ranges_of_a_tenant_cost_others_little, 300)
{
	swapped_cost_like_untouched(_metadata, self->a, self->b, 64, "1048576");
}

#define HUGE		(2 * MIB)

/* Maps @len bytes of @fd at a 2 MiB-aligned address, or NULL. */
static unsigned char *map_huge_aligned(int fd, size_t len)
{
	unsigned char *area, *aligned;

	area = mmap(NULL, len + HUGE, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (area == MAP_FAILED)
		return NULL;
	aligned = (unsigned char *)(((uintptr_t)area + HUGE - 1) &
				    ~(uintptr_t)(HUGE - 1));
	if (mmap(aligned, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 fd, 0) == MAP_FAILED)
		return NULL;
	return aligned;
}

/*
 * In @cg: a 4 MiB region whose first 2 MiB are unpinned, half of them
 * swapped out, and a memory.max just above what the cgroup uses. Then
 * MADV_COLLAPSE of those 2 MiB: the collapse holds the locks of the pages
 * it has gathered while it swaps the others in, and charging those
 * swap-ins enters reclaim (and may fail them). Exits 0 if the collapse
 * returned, whatever it answered, and the pinned half kept its data; 4 if
 * this kernel cannot collapse shmem at all.
 */
static void collapse_unpinned(struct __test_metadata *_metadata,
			      const char *cg)
{
	size_t pages = 2 * HUGE / page_size(), half = HUGE / page_size();
	char max[32];
	unsigned char *map;
	long long used;
	int fd;

	ASSERT_EQ(0, cg_enter(cg));
	fd = open_region(_metadata);
	ASSERT_EQ(0, ioctl(fd, ASHMEM_SET_SIZE, 2 * HUGE));
	map = map_huge_aligned(fd, 2 * HUGE);
	ASSERT_NE(NULL, map);
	fill_pages(map, 0, pages, 9);
	/* Collapsing the other, pinned, half tells whether it can be done. */
	if (madvise(map + HUGE, HUGE, MADV_COLLAPSE) && errno == EINVAL)
		_exit(4);
	ASSERT_EQ(0, unpin_pages(fd, 0, half));
	ASSERT_EQ(0, madvise(map + HUGE / 2, HUGE / 2, MADV_PAGEOUT));
	/*
	 * A large untouched unpinned region behind it, so that a shrinker
	 * that counts pages rather than memory scans at once, and takes the
	 * collapsing range first.
	 */
	unpin_untouched_regions(_metadata, 1, sizeof(size_t) == 8 ?
				8UL << 30 : 1UL << 31);

	/* Room for the huge page's charge and a few pages, no more. */
	used = cg_number(cg, "memory.current");
	ASSERT_LT(0, used);
	snprintf(max, sizeof(max), "%lld", used + HUGE + 8 * page_size());
	ASSERT_EQ(0, cg_write(cg, "memory.max", max));

	/* Success or failure, both are fine: returning is the point. */
	madvise(map, HUGE, MADV_COLLAPSE);
	ASSERT_EQ(0, cg_write(cg, "memory.max", "max"));
	ASSERT_LE(0, pin_pages(fd, 0, half));
	ASSERT_TRUE(pages_hold(map, half, half, 9));
	exit(0);
}

TEST_F_TIMEOUT(swap, collapse_of_unpinned_pages_under_memory_max_never_hangs, 120)
{
	int code, waited;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		collapse_unpinned(_metadata, self->cg);
	/* A hang is in D state: no signal ends it, so only time tells. */
	for (waited = 0; waited < 600; waited++) {
		if (waitpid(pid, &code, WNOHANG) == pid)
			break;
		usleep(100000);
	}
	ASSERT_GT(600, waited) TH_LOG("the collapse hung for 60 s");
	ASSERT_TRUE(WIFEXITED(code));
	if (WEXITSTATUS(code) == 4)
		SKIP(return, "MADV_COLLAPSE cannot collapse shmem here");
	ASSERT_EQ(0, WEXITSTATUS(code));
}

#define HUGE_RANGES	16

/*
 * With shmem's huge pages on, an operator lowers the memory.max of a
 * container without swap below what it uses, and its only reclaimable
 * memory is unpinned ranges inside huge pages (their first and last pages
 * pinned). Purging such a range splits its huge page, and the split's
 * allocation is charged to the cgroup at its limit: it may fail, and
 * then the range is zeroed rather than freed (README, "What it does").
 * Split or not, the pinned pages keep their data, and PIN tells which
 * ranges lost theirs: each reads back as it was or as zeros, as PIN says.
 */
TEST_F_TIMEOUT(memcg, huge_pages_split_or_not_keep_pinned_data, 120)
{
	size_t per = HUGE / page_size(), i;
	int fd, ready[2], done[2], code, ret, purged = 0;
	char saved[16], max[32], events[PATH_MAX + 16], c;
	unsigned char *map;
	long long used;
	pid_t pid;

	ret = shmem_huge_mode(saved, sizeof(saved));
	if (ret == -ENOENT)
		SKIP(return, "no %s", SHMEM_ENABLED);
	ASSERT_EQ(0, ret);
	fd = open_region(_metadata);
	ASSERT_EQ(0, ioctl(fd, ASHMEM_SET_SIZE, HUGE_RANGES * HUGE));
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(done));
	ASSERT_EQ(0, write_file(SHMEM_ENABLED, "always"));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* The container: the region's pages are charged to it. */
		ASSERT_EQ(0, cg_enter(self->a));
		cg_write(self->a, "memory.swap.max", "0");
		map = map_huge_aligned(fd, HUGE_RANGES * HUGE);
		ASSERT_NE(NULL, map);
		fill_pages(map, 0, HUGE_RANGES * per, 5);
		for (i = 0; i < HUGE_RANGES; i++)
			ASSERT_EQ(0, unpin_pages(fd, i * per + 1, per - 2));
		ASSERT_EQ(1, write(ready[1], "r", 1));
		ASSERT_EQ(1, read(done[0], &c, 1));
		exit(0);
	}
	ret = read(ready[0], &c, 1);
	write_file(SHMEM_ENABLED, saved);
	ASSERT_EQ(1, ret);
	if (cg_stat(self->a, "shmem_thp") < (long long)(HUGE_RANGES * HUGE / 2)) {
		kill(pid, SIGKILL);
		wait_exit_code(pid);
		SKIP(return, "the region got no huge pages");
	}

	used = cg_number(self->a, "memory.current");
	ASSERT_LT(4 * (long long)HUGE, used);
	snprintf(max, sizeof(max), "%lld", used - 4 * (long long)HUGE);
	/* It may OOM-kill the container: the region outlives it here. */
	ASSERT_EQ(0, cg_write(self->a, "memory.max", max));
	snprintf(events, sizeof(events), "%s/memory.events", self->a);
	TH_LOG("KiB used %lld, limit %lld, after %lld; OOM kills %lld",
	       used / 1024, atoll(max) / 1024,
	       cg_number(self->a, "memory.current") / 1024,
	       key_value(events, "oom_kill"));
	ASSERT_EQ(0, cg_write(self->a, "memory.max", "max"));
	ASSERT_EQ(1, write(done[1], "d", 1));
	code = wait_exit_code(pid);
	ASSERT_TRUE(code == 0 || code == 128 + SIGKILL)
		TH_LOG("the container ended with %d", code);

	map = map_huge_aligned(fd, HUGE_RANGES * HUGE);
	ASSERT_NE(NULL, map);
	for (i = 0; i < HUGE_RANGES; i++) {
		ASSERT_TRUE(pages_hold(map, i * per, 1, 5));
		ASSERT_TRUE(pages_hold(map, i * per + per - 1, 1, 5));
		ret = pin_pages(fd, i * per + 1, per - 2);
		ASSERT_LE(0, ret);
		if (ret == ASHMEM_WAS_PURGED) {
			purged++;
			ASSERT_TRUE(pages_are_zero(map, i * per + 1, per - 2));
		} else {
			ASSERT_TRUE(pages_hold(map, i * per + 1, per - 2, 5));
		}
	}
	TH_LOG("%d of %d ranges purged", purged, HUGE_RANGES);
	/* Without swap, the unpinned ranges were all reclaim could take. */
	ASSERT_LT(0, purged);
	close(fd);
}

TEST_HARNESS_MAIN
