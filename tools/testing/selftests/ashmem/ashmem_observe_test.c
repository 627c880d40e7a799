// SPDX-License-Identifier: GPL-2.0
/*
 * What operators see of ashmem: the counters in debugfs and the
 * tracepoints under events/ashmem/. Needs root, debugfs and tracefs;
 * skips without them.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "ashmem_common.h"

#define STATS		"/sys/kernel/debug/ashmem/stats"
#define REGIONS		"/sys/kernel/debug/ashmem/regions"

/* All of @path, NUL-terminated, in a buffer to free(); NULL on error. */
static char *read_all(const char *path)
{
	size_t size = 1 << 16, used = 0;
	char *buf = malloc(size);
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || !buf) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while ((n = read(fd, buf + used, size - used - 1)) > 0) {
		used += n;
		if (used + 1 == size) {
			char *bigger = realloc(buf, size * 2);

			if (!bigger)
				break;
			buf = bigger;
			size *= 2;
		}
	}
	close(fd);
	buf[used] = '\0';
	return buf;
}

struct counts {
	long long regions;
	long long unpinned;
	long long purged;
	long long purged_total;
	long long scans;
};

FIXTURE(stats) {
	struct counts before;
};

static void snapshot(struct counts *s)
{
	s->regions = key_value(STATS, "regions");
	s->unpinned = key_value(STATS, "unpinned_pages");
	s->purged = key_value(STATS, "purged_pages");
	s->purged_total = key_value(STATS, "purged_total");
	s->scans = key_value(STATS, "shrinker_scans");
}

FIXTURE_SETUP(stats)
{
	if (access(STATS, R_OK))
		SKIP(return, "no %s: debugfs not mounted or not root", STATS);
	snapshot(&self->before);
	ASSERT_LE(0, self->before.regions);
	ASSERT_LE(0, self->before.unpinned);
	ASSERT_LE(0, self->before.purged);
	ASSERT_LE(0, self->before.purged_total);
	ASSERT_LE(0, self->before.scans);
}

FIXTURE_TEARDOWN(stats)
{
}

TEST_F(stats, count_regions_and_their_pages)
{
	struct counts now, *was = &self->before;
	unsigned char *map;
	int fd, other;

	other = open_region(_metadata);
	map = new_mapped_region(_metadata, 16 * page_size(), &fd);
	ASSERT_NE(NULL, map);
	fill_pages(map, 0, 16, 1);
	ASSERT_EQ(0, unpin_pages(fd, 2, 5));
	snapshot(&now);
	EXPECT_EQ(was->regions + 2, now.regions);
	EXPECT_EQ(was->unpinned + 5, now.unpinned);
	EXPECT_EQ(was->purged, now.purged);

	EXPECT_EQ(5, purge_all(fd));
	snapshot(&now);
	EXPECT_EQ(was->unpinned + 5, now.unpinned);
	EXPECT_EQ(was->purged + 5, now.purged);
	EXPECT_EQ(was->purged_total + 5, now.purged_total);

	ASSERT_EQ(ASHMEM_WAS_PURGED, pin_pages(fd, 0, 16));
	close(fd);
	close(other);
	snapshot(&now);
	EXPECT_EQ(was->regions, now.regions);
	EXPECT_EQ(was->unpinned, now.unpinned);
	EXPECT_EQ(was->purged, now.purged);
	munmap(map, 16 * page_size());
}

TEST_F(stats, drop_caches_runs_the_shrinker)
{
	struct counts now, *was = &self->before;
	unsigned char *map;
	int fd;

	map = new_mapped_region(_metadata, 8 * page_size(), &fd);
	ASSERT_NE(NULL, map);
	fill_pages(map, 0, 8, 2);
	ASSERT_EQ(0, unpin_pages(fd, 0, 8));
	ASSERT_EQ(0, write_file("/proc/sys/vm/drop_caches", "2"));
	snapshot(&now);
	EXPECT_LT(was->scans, now.scans);
	EXPECT_EQ(was->purged_total + 8, now.purged_total);
	EXPECT_EQ(ASHMEM_WAS_PURGED, pin_pages(fd, 0, 8));
	close(fd);
	munmap(map, 8 * page_size());
}

TEST_F(stats, regions_file_lists_each_region)
{
	char name[64], line[160], *text;
	unsigned char *map;
	int fd;

	snprintf(name, sizeof(name), "observe listed %d", getpid());
	fd = open_region(_metadata);
	ASSERT_EQ(0, ioctl(fd, ASHMEM_SET_NAME, name));
	ASSERT_EQ(0, ioctl(fd, ASHMEM_SET_SIZE, 3 * page_size() + 1));
	map = mmap(NULL, 4 * page_size(), PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, unpin_pages(fd, 1, 2));

	/* pid size unpinned_pages purged_pages name */
	snprintf(line, sizeof(line), "\n%d %zu 2 0 %s\n", getpid(),
		 3 * page_size() + 1, name);
	text = read_all(REGIONS);
	ASSERT_NE(NULL, text);
	EXPECT_NE(NULL, strstr(text, line)) TH_LOG("no line '%s'", line + 1);
	free(text);

	close(fd);
	text = read_all(REGIONS);
	ASSERT_NE(NULL, text);
	EXPECT_EQ(NULL, strstr(text, name));
	free(text);
	munmap(map, 4 * page_size());
}

FIXTURE(trace) {
	const char *dir;
};

/* tracefs with events/ashmem/, mounted if need be, or the test skips. */
FIXTURE_SETUP(trace)
{
	static const char * const dirs[] = {
		"/sys/kernel/tracing", "/sys/kernel/debug/tracing",
	};
	char path[PATH_MAX];
	size_t i;

	mount("tracefs", dirs[0], "tracefs", 0, NULL);
	self->dir = NULL;
	for (i = 0; i < ARRAY_SIZE(dirs); i++) {
		snprintf(path, sizeof(path), "%s/events/ashmem/enable",
			 dirs[i]);
		if (!access(path, W_OK)) {
			self->dir = dirs[i];
			break;
		}
	}
	if (!self->dir)
		SKIP(return, "no tracefs with events/ashmem");
	snprintf(path, sizeof(path), "%s/trace", self->dir);
	ASSERT_EQ(0, write_file(path, ""));
	/*
	 * Recording command names enables the scheduler's tracepoints,
	 * patched live while every CPU runs them; under QEMU's TCG that
	 * patching has been seen to oops (an int3 in trace_sched_wakeup).
	 * The tests need only ashmem's events.
	 */
	snprintf(path, sizeof(path), "%s/options/record-cmd", self->dir);
	write_file(path, "0");
	snprintf(path, sizeof(path), "%s/events/ashmem/enable", self->dir);
	ASSERT_EQ(0, write_file(path, "1"));
}

FIXTURE_TEARDOWN(trace)
{
	char path[PATH_MAX];

	if (!self->dir)
		return;
	snprintf(path, sizeof(path), "%s/events/ashmem/enable", self->dir);
	write_file(path, "0");
	snprintf(path, sizeof(path), "%s/options/record-cmd", self->dir);
	write_file(path, "1");
}

/* Fails the test unless the trace holds an event with all of @parts. */
static void expect_event(struct __test_metadata *_metadata, const char *trace,
			 const char *event, const char *fields)
{
	const char *line = trace;

	while ((line = strstr(line, event))) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);

		if (memmem(line, len, fields, strlen(fields)))
			return;
		line += len;
	}
	EXPECT_TRUE(false) TH_LOG("no '%s' event with '%s'", event, fields);
}

TEST_F(trace, events_carry_the_region_name)
{
	size_t pg = page_size();
	char path[PATH_MAX], want[96], *text;
	unsigned char *map;
	int fd;

	if (!self->dir)
		return;
	fd = open_region(_metadata);
	ASSERT_EQ(0, ioctl(fd, ASHMEM_SET_NAME, "observe-trace"));
	ASSERT_EQ(0, ioctl(fd, ASHMEM_SET_SIZE, 8 * pg));
	map = mmap(NULL, 8 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	fill_pages(map, 0, 8, 4);
	ASSERT_EQ(0, unpin_pages(fd, 1, 2));
	ASSERT_EQ(2, purge_all(fd));
	ASSERT_EQ(ASHMEM_WAS_PURGED, pin_pages(fd, 1, 2));
	ASSERT_EQ(0, unpin_pages(fd, 4, 4));
	ASSERT_EQ(0, write_file("/proc/sys/vm/drop_caches", "2"));
	close(fd);
	munmap(map, 8 * pg);

	snprintf(path, sizeof(path), "%s/trace", self->dir);
	text = read_all(path);
	ASSERT_NE(NULL, text);
	snprintf(want, sizeof(want), "name=observe-trace size=%zu", 8 * pg);
	expect_event(_metadata, text, "ashmem_create:", want);
	expect_event(_metadata, text, "ashmem_unpin:",
		     "name=observe-trace start=1 pages=2 result=0");
	expect_event(_metadata, text, "ashmem_purge:",
		     "name=observe-trace start=1 pages=2 resident=2");
	expect_event(_metadata, text, "ashmem_pin:",
		     "name=observe-trace start=1 pages=2 result=1");
	expect_event(_metadata, text, "ashmem_shrink_count:", "count=");
	expect_event(_metadata, text, "ashmem_shrink_scan:", "freed=");
	expect_event(_metadata, text, "ashmem_purge:",
		     "name=observe-trace start=4 pages=4 resident=4");
	expect_event(_metadata, text, "ashmem_release:", want);
	free(text);
}

/*
 * A name can hold any byte but NUL. Wherever the kernel prints it, bytes
 * that are not printable ASCII come out escaped, so that a name can
 * neither start a line of its own (a forged trace event, fdinfo key or
 * debugfs region) nor send terminal controls to whoever reads it.
 */
TEST_F(trace, names_are_escaped_wherever_printed)
{
	static const char name[] = "a\nashmem_size:\t1\r\x1b[2J\\b\xc3\xa9";
	static const char escaped[] = "a\\nashmem_size:\\t1\\r\\e[2J\\\\b\\xc3\\xa9";
	char path[PATH_MAX], want[160], *text;
	unsigned char *map;
	int fd;

	if (!self->dir)
		return;
	fd = open_region(_metadata);
	ASSERT_EQ(0, ioctl(fd, ASHMEM_SET_NAME, name));
	ASSERT_EQ(0, ioctl(fd, ASHMEM_SET_SIZE, page_size()));
	map = mmap(NULL, page_size(), PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, unpin_pages(fd, 0, 1));

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	text = read_all(path);
	ASSERT_NE(NULL, text);
	snprintf(want, sizeof(want), "ashmem_name:\t%s\n", escaped);
	EXPECT_NE(NULL, strstr(text, want)) TH_LOG("fdinfo: %s", text);
	free(text);

	text = read_all(REGIONS);
	if (text) {
		snprintf(want, sizeof(want), " %s\n", escaped);
		EXPECT_NE(NULL, strstr(text, want)) TH_LOG("regions: %s", text);
		free(text);
	}

	close(fd);
	munmap(map, page_size());
	snprintf(path, sizeof(path), "%s/trace", self->dir);
	text = read_all(path);
	ASSERT_NE(NULL, text);
	snprintf(want, sizeof(want), "name=%s start=0 pages=1 result=0",
		 escaped);
	expect_event(_metadata, text, "ashmem_unpin:", want);
	/* Every line of the trace is a comment or an event. */
	EXPECT_EQ(NULL, strstr(text, "\nashmem_size")) TH_LOG("%s", text);
	free(text);
}

/*
 * A purge says how many of its pages were in memory: the memory given
 * back, which is what reclaim is told it freed.
 */
TEST_F(trace, purge_counts_resident_pages)
{
	size_t pg = page_size();
	char path[PATH_MAX], *text;
	unsigned char *map;
	int fd;

	if (!self->dir)
		return;
	fd = open_region(_metadata);
	ASSERT_EQ(0, ioctl(fd, ASHMEM_SET_NAME, "observe-resident"));
	ASSERT_EQ(0, ioctl(fd, ASHMEM_SET_SIZE, 16 * pg));
	map = mmap(NULL, 16 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);

	/* Pages 0-2 touched, 3-5 never: 3 of 6 in memory. */
	fill_pages(map, 0, 3, 5);
	ASSERT_EQ(0, unpin_pages(fd, 0, 6));
	ASSERT_EQ(6, purge_all(fd));
	ASSERT_EQ(ASHMEM_WAS_PURGED, pin_pages(fd, 0, 6));
	/* Pages 8-9 touched: 2 of 8, purged by the shrinker. */
	fill_pages(map, 8, 2, 6);
	ASSERT_EQ(0, unpin_pages(fd, 8, 8));
	ASSERT_EQ(0, write_file("/proc/sys/vm/drop_caches", "2"));
	EXPECT_EQ(ASHMEM_WAS_PURGED, pin_pages(fd, 8, 8));
	munmap(map, 16 * pg);
	close(fd);

	snprintf(path, sizeof(path), "%s/trace", self->dir);
	text = read_all(path);
	ASSERT_NE(NULL, text);
	expect_event(_metadata, text, "ashmem_purge:",
		     "name=observe-resident start=0 pages=6 resident=3");
	expect_event(_metadata, text, "ashmem_purge:",
		     "name=observe-resident start=8 pages=8 resident=2");
	free(text);
}

TEST_HARNESS_MAIN
