// SPDX-License-Identifier: GPL-2.0
/*
 * ashmem inside memory cgroups (v2): reclaim under a cgroup's memory.max
 * purges that cgroup's own unpinned pages, leaves other cgroups' alone,
 * and the kernel memory of regions and ranges is charged to the caller.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "ashmem_common.h"

#define CGROUP_ROOT	"/sys/fs/cgroup"
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

TEST_HARNESS_MAIN
