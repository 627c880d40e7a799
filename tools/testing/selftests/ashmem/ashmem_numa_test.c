// SPDX-License-Identifier: GPL-2.0
/*
 * ashmem on a machine of more than one NUMA node (numa=fake=2 on a VM's
 * command line): reclaim on a node purges the unpinned pages that are on
 * that node, whichever node the kernel's record of the range lives on.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "ashmem_common.h"

#define MIB		(1024UL * 1024)
#define NODE_DIR	"/sys/devices/system/node"
#ifndef MPOL_BIND
#define MPOL_BIND	2
#endif

static long bind_range(void *addr, size_t len, int node)
{
	unsigned long mask = 1UL << node;

	return syscall(SYS_mbind, addr, len, MPOL_BIND, &mask,
		       sizeof(mask) * 8, 0);
}

static long bind_task(int node)
{
	unsigned long mask = 1UL << node;

	return syscall(SYS_set_mempolicy, MPOL_BIND, &mask, sizeof(mask) * 8);
}

/* Line "Node N @key: V kB" of node @node's meminfo: V in bytes, or -1. */
static long long node_meminfo(int node, const char *key)
{
	char path[64], line[256], name[64];
	long long kb, found = -1;
	int n;
	FILE *f;

	snprintf(path, sizeof(path), NODE_DIR "/node%d/meminfo", node);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Node %d %63[^:]: %lld", &n, name, &kb) == 3 &&
		    !strcmp(name, key)) {
			found = kb * 1024;
			break;
		}
	}
	fclose(f);
	return found;
}

/* The first CPU of node @node, or -1 if it has none. */
static int node_first_cpu(int node)
{
	char path[64], buf[64] = "";
	int fd, cpu = -1;
	ssize_t n;

	snprintf(path, sizeof(path), NODE_DIR "/node%d/cpulist", node);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0 && buf[0] >= '0' && buf[0] <= '9')
		cpu = atoi(buf);
	return cpu;
}

/*
 * Another region's page, written on node @node and unpinned: the task's
 * range allocations of the moment come from @node, as they do in a task
 * that uses memory of both nodes.
 */
static void other_node_unpin(struct __test_metadata *_metadata, int node,
			     int *fd)
{
	unsigned char *map = new_mapped_region(_metadata, page_size(), fd);

	ASSERT_NE(NULL, map);
	ASSERT_EQ(0, bind_range(map, page_size(), node));
	fill_pages(map, 0, 1, 5);
	ASSERT_EQ(0, unpin_pages(*fd, 0, 1));
	munmap(map, page_size());
}

/*
 * How the region's unpinned range comes to be, in purge_on_node(). Page
 * 0 stays pinned and page 1 is never touched, in all of them.
 */
enum unpin_shape {
	UNPIN_WRITTEN,		/* [2, end) unpinned */
	MERGE_UNTOUCHED,	/* [2, end), then page 1: they merge */
	SPLIT_BY_UNTOUCHED,	/* [1, end), then page 2, never touched, pinned */
};

/*
 * A region whose pages are all on node @node, unpinned by a task on a CPU
 * of node 0, so that the kernel's record of the range would be on node 0
 * unless it follows the pages; then a task bound to @node needs more than
 * @node has free. Reclaim on @node must purge the region rather than call
 * the OOM killer.
 */
static void purge_on_node(struct __test_metadata *_metadata, int node,
			  enum unpin_shape shape)
{
	size_t size, pages, hole = shape == SPLIT_BY_UNTOUCHED ? 2 : 1;
	long long free, need;
	unsigned char *map;
	cpu_set_t cpus;
	int fd, cpu, code, other = -1;
	pid_t hog;

	if (access(NODE_DIR "/node1", F_OK))
		SKIP(return, "one NUMA node (boot with numa=fake=2)");
	cpu = node_first_cpu(0);
	if (cpu < 0)
		SKIP(return, "node 0 has no CPU");
	CPU_ZERO(&cpus);
	CPU_SET(cpu, &cpus);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(cpus), &cpus));
	/* The OOM killer is to pick the hog, not the region's owner. */
	ASSERT_EQ(0, write_file("/proc/self/oom_score_adj", "-1000"));

	free = node_meminfo(node, "MemFree");
	ASSERT_LT(0, free);
	size = (free / 2) & ~(MIB - 1);
	pages = size / page_size();
	map = new_mapped_region(_metadata, size, &fd);
	ASSERT_NE(NULL, map);
	ASSERT_EQ(0, bind_range(map, size, node)) TH_LOG("mbind: %s",
							 strerror(errno));
	fill_pages(map, 0, hole, 11);
	fill_pages(map, hole + 1, pages - hole - 1, 11);
	TH_LOG("node %d: %lld MiB free, region of %zu MiB written there, %lld MiB free now",
	       node, free / MIB, size / MIB,
	       node_meminfo(node, "MemFree") / MIB);
	ASSERT_GT(free - (long long)size / 2, node_meminfo(node, "MemFree"));
	switch (shape) {
	case UNPIN_WRITTEN:
		ASSERT_EQ(0, unpin_pages(fd, 2, pages - 2));
		break;
	case MERGE_UNTOUCHED:
		ASSERT_EQ(0, unpin_pages(fd, 2, pages - 2));
		other_node_unpin(_metadata, !node, &other);
		ASSERT_EQ(0, unpin_pages(fd, 1, 1));
		break;
	case SPLIT_BY_UNTOUCHED:
		ASSERT_EQ(0, unpin_pages(fd, 1, pages - 1));
		other_node_unpin(_metadata, !node, &other);
		ASSERT_EQ(ASHMEM_NOT_PURGED, pin_pages(fd, 2, 1));
		break;
	}

	/* All that is free on the node, and half the region. */
	need = node_meminfo(node, "MemFree") + size / 2;
	hog = fork();
	ASSERT_LE(0, hog);
	if (!hog) {
		unsigned char *anon;

		write_file("/proc/self/oom_score_adj", "1000");
		ASSERT_EQ(0, bind_task(node));
		anon = mmap(NULL, need, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(MAP_FAILED, anon);
		memset(anon, 1, need);
		_exit(0);
	}
	code = wait_exit_code(hog);
	TH_LOG("hog of %lld MiB on node %d ended with %d", need / MIB, node,
	       code);
	ASSERT_TRUE(pages_hold(map, 0, 1, 11));
	EXPECT_EQ(ASHMEM_WAS_PURGED, pin_pages(fd, hole + 1,
					       pages - hole - 1));
	/* 128 + SIGKILL would be the OOM killer. */
	EXPECT_EQ(0, code);
	munmap(map, size);
	close(fd);
	if (other >= 0)
		close(other);
}

FIXTURE(node_reclaim) {
};

FIXTURE_VARIANT(node_reclaim) {
	int node;		/* of the region's pages */
	enum unpin_shape shape;
};

FIXTURE_VARIANT_ADD(node_reclaim, pages_on_the_node_of_their_range) {
	.node = 0,
	.shape = UNPIN_WRITTEN,
};

FIXTURE_VARIANT_ADD(node_reclaim, pages_on_another_node_than_their_range) {
	.node = 1,
	.shape = UNPIN_WRITTEN,
};

/*
 * Unpinning a page that holds no memory next to an unpinned range on
 * node 1 merges them into one range: its first page in memory is still
 * on node 1, and node 1's reclaim must still find it.
 */
FIXTURE_VARIANT_ADD(node_reclaim, range_merged_with_an_untouched_page) {
	.node = 1,
	.shape = MERGE_UNTOUCHED,
};

/*
 * Pinning a page that holds no memory inside an unpinned range on node
 * 1 splits it: the piece past it holds only node 1's pages, and node 1's
 * reclaim must still find it.
 */
FIXTURE_VARIANT_ADD(node_reclaim, range_split_by_an_untouched_page) {
	.node = 1,
	.shape = SPLIT_BY_UNTOUCHED,
};

FIXTURE_SETUP(node_reclaim)
{
}

FIXTURE_TEARDOWN(node_reclaim)
{
}

/*
 * Writing half a node, then a hog of more than it has: about 30 s each
 * on the KASAN kernel under TCG, more on a busy host. A hang still shows.
 */
TEST_F_TIMEOUT(node_reclaim, purges_the_unpinned_pages, 180)
{
	purge_on_node(_metadata, variant->node, variant->shape);
}

TEST_HARNESS_MAIN
