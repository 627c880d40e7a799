/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the ashmem selftests that use the kselftest harness (its
 * ASSERT and SKIP macros): include it after kselftest_harness.h. The
 * others are in tools/testing/shared/ashmem_util.h, which the fuzzer, the
 * bench and the demo include too.
 */
#ifndef ASHMEM_SELFTEST_COMMON_H
#define ASHMEM_SELFTEST_COMMON_H

#include <signal.h>
#include <sys/prctl.h>

#include "ashmem_util.h"

/*
 * Open a new region. Skips the test when the device does not exist, fails
 * it on any other error; returns -1 after a skip.
 */
static inline int open_region(struct __test_metadata *_metadata)
{
	int fd = open(ASHMEM_DEV, O_RDWR | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT)
		SKIP(return -1, "no %s: is the ashmem module loaded?",
		     ASHMEM_DEV);
	ASSERT_LE(0, fd) TH_LOG("open %s: %s", ASHMEM_DEV, strerror(errno));
	return fd;
}

/* Open a region of @size bytes and map all of it shared, read and write. */
static inline unsigned char *new_mapped_region(struct __test_metadata *_metadata,
					       size_t size, int *fdp)
{
	void *map;
	int fd;

	fd = open_region(_metadata);
	if (fd < 0)
		return NULL;
	ASSERT_EQ(0, ioctl(fd, ASHMEM_SET_SIZE, size));
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map) TH_LOG("mmap: %s", strerror(errno));
	*fdp = fd;
	return map;
}

/*
 * A region of @pages pages, written if @written, mapped @maps times over,
 * with every other page unpinned, one page a range: punching any of them
 * walks every mapping. Says so on @ready, then waits for @done.
 */
static inline void slow_to_punch_pages(struct __test_metadata *_metadata,
				       int maps, size_t pages, bool written,
				       int ready, int done)
{
	size_t size = pages * page_size(), i;
	unsigned char *map;
	char c;
	int fd, m;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	fd = open_region(_metadata);
	ASSERT_EQ(0, ioctl(fd, ASHMEM_SET_SIZE, size));
	for (m = 0; m < maps; m++) {
		map = mmap(NULL, size, PROT_READ | (written ? PROT_WRITE : 0),
			   MAP_SHARED, fd, 0);
		ASSERT_NE(MAP_FAILED, map) TH_LOG("mapping %d", m);
		if (written && !m)
			fill_pages(map, 0, pages, 9);
	}
	for (i = 0; i < pages / 2; i++)
		ASSERT_EQ(0, unpin_pages(fd, 2 * i, 1));
	ASSERT_EQ(1, write(ready, "r", 1));
	ASSERT_EQ(1, read(done, &c, 1));
	exit(0);
}

/* The same with 256 pages, never touched. */
static inline void slow_to_punch(struct __test_metadata *_metadata,
				 int maps, int ready, int done)
{
	slow_to_punch_pages(_metadata, maps, 256, false, ready, done);
}

#define SHMEM_ENABLED	"/sys/kernel/mm/transparent_hugepage/shmem_enabled"

/*
 * The mode of shmem's huge pages (the word in brackets in SHMEM_ENABLED)
 * into @mode: 0, -ENOENT without the file, -EINVAL without a mode.
 */
static inline int shmem_huge_mode(char *mode, size_t len)
{
	char line[128] = "", *open_bracket, *close_bracket;
	FILE *f = fopen(SHMEM_ENABLED, "re");

	if (!f)
		return -ENOENT;
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	open_bracket = strchr(line, '[');
	close_bracket = open_bracket ? strchr(open_bracket, ']') : NULL;
	if (!close_bracket)
		return -EINVAL;
	*close_bracket = '\0';
	snprintf(mode, len, "%s", open_bracket + 1);
	return 0;
}

#endif /* ASHMEM_SELFTEST_COMMON_H */
