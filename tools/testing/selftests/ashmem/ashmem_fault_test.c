// SPDX-License-Identifier: GPL-2.0
/*
 * Allocation failures, injected with failslab: every ioctl and mmap of
 * /dev/ashmem that allocates fails with ENOMEM, changes nothing, leaks
 * nothing, and the region works when the call is tried again.
 *
 * Failures are injected only into this test's own task (make-it-fail and
 * failslab's task-filter) and only into one slab cache at a time
 * (cache-filter): the module's ashmem_area and ashmem_range caches, and the
 * shmem inode, dentry and file caches the first mmap allocates from. The
 * caches must not be merged with others (boot with slab_nomerge).
 *
 * Needs root, debugfs and a kernel with CONFIG_FAILSLAB and
 * CONFIG_FAULT_INJECTION_DEBUG_FS; skips otherwise. Leaks are found by the
 * runner's kmemleak scan; these tests check the region's own counters.
 */
#define _GNU_SOURCE
#include "kselftest_harness.h"
#include "ashmem_common.h"

#define FAILSLAB	"/sys/kernel/debug/failslab"
#define SLAB_SYSFS	"/sys/kernel/slab"
#define ASHMEM_STATS	"/sys/kernel/debug/ashmem/stats"
#define MAKE_IT_FAIL	"/proc/thread-self/make-it-fail"
#define PAGES		8
#define SEED		7
#define PATH_LEN	128	/* sysfs and debugfs paths */

/* Reads the first line of @path into @buf, without the newline. */
static int read_line(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/*
 * failslab's knobs as the tests set them: fail every allocation of an
 * armed cache made by a task that asked for it, waiting allocations too.
 * The filters come first and the probability last, and they are undone
 * in reverse: at no moment may failslab fail everyone's allocations.
 */
static const struct {
	const char *name;
	const char *value;
} knobs[] = {
	{ "task-filter",	"Y" },
	{ "cache-filter",	"Y" },
	{ "ignore-gfp-wait",	"N" },
	{ "interval",		"1" },
	{ "times",		"-1" },
	{ "space",		"0" },
	{ "verbose",		"1" },
	{ "probability",	"100" },
};

#define NR_KNOBS	ARRAY_SIZE(knobs)

static void knob_path(char *path, size_t len, const char *name)
{
	snprintf(path, len, "%s/%s", FAILSLAB, name);
}

static void cache_path(char *path, size_t len, const char *cache,
		       const char *attr)
{
	snprintf(path, len, "%s/%s/%s", SLAB_SYSFS, cache, attr);
}

/* What both fixtures hold: the injector's state and one region. */
struct fault_ctx {
	int make_it_fail;	/* this task's make-it-fail, open for writing */
	char saved[NR_KNOBS][32];
	const char *armed;	/* the cache failing, or NULL */
	int fd;
	unsigned char *map;
	size_t pg;
};

/* Skips unless failslab can be aimed at one cache and at this task. */
static bool can_inject(struct __test_metadata *_metadata)
{
	char path[PATH_LEN];

	if (geteuid())
		SKIP(return false, "needs root");
	if (access(FAILSLAB, F_OK))
		SKIP(return false,
		     "no %s: kernel without CONFIG_FAILSLAB and CONFIG_FAULT_INJECTION_DEBUG_FS, or debugfs not mounted",
		     FAILSLAB);
	if (access(MAKE_IT_FAIL, W_OK))
		SKIP(return false, "no %s", MAKE_IT_FAIL);
	cache_path(path, sizeof(path), "ashmem_area", "failslab");
	if (access(path, W_OK))
		SKIP(return false, "no %s: module not loaded or no slab sysfs",
		     path);
	return true;
}

static void ctx_setup(struct __test_metadata *_metadata,
		      struct fault_ctx *c)
{
	char path[PATH_LEN];
	unsigned int i;

	c->fd = -1;
	c->map = NULL;
	c->armed = NULL;
	c->pg = page_size();
	if (!can_inject(_metadata))
		return;
	c->make_it_fail = open(MAKE_IT_FAIL, O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, c->make_it_fail);
	for (i = 0; i < NR_KNOBS; i++) {
		knob_path(path, sizeof(path), knobs[i].name);
		ASSERT_EQ(0, read_line(path, c->saved[i],
				       sizeof(c->saved[i])))
			TH_LOG("read %s: %s", path, strerror(errno));
	}
	/* Nothing may fail between here and the end of the setup. */
	for (i = 0; i < NR_KNOBS; i++) {
		knob_path(path, sizeof(path), knobs[i].name);
		ASSERT_EQ(0, write_file(path, knobs[i].value))
			TH_LOG("write %s: %s", path, strerror(errno));
	}
}

static void ctx_teardown(struct fault_ctx *c)
{
	char path[PATH_LEN];
	unsigned int i;

	pwrite(c->make_it_fail, "0", 1, 0);
	knob_path(path, sizeof(path), "probability");
	write_file(path, "0");
	if (c->armed) {
		cache_path(path, sizeof(path), c->armed, "failslab");
		write_file(path, "0");
	}
	for (i = NR_KNOBS; i-- > 0; ) {
		knob_path(path, sizeof(path), knobs[i].name);
		write_file(path, c->saved[i]);
	}
	if (c->map)
		munmap(c->map, PAGES * c->pg);
	if (c->fd >= 0)
		close(c->fd);
}

/*
 * Makes allocations from @cache fail, for this task while it is failing
 * (see fail_begin()), once @budget bytes of them have succeeded. Returns
 * false after skipping the test.
 */
static bool arm(struct __test_metadata *_metadata, struct fault_ctx *c,
		const char *cache, long budget)
{
	char path[PATH_LEN], text[32];

	cache_path(path, sizeof(path), cache, "failslab");
	if (access(path, F_OK))
		SKIP(return false, "no %s", path);
	if (write_file(path, "1")) {
		/* A merged cache's flag would fail other caches too. */
		if (errno == EINVAL)
			SKIP(return false,
			     "slab cache %s is merged: boot with slab_nomerge",
			     cache);
		ASSERT_EQ(0, errno) TH_LOG("write %s", path);
	}
	c->armed = cache;
	snprintf(text, sizeof(text), "%ld", budget);
	knob_path(path, sizeof(path), "space");
	ASSERT_EQ(0, write_file(path, text));
	return true;
}

/* Starts failing this task's allocations from the armed cache. */
static void fail_begin(struct fault_ctx *c)
{
	pwrite(c->make_it_fail, "1", 1, 0);
}

/* Ends the failing; keeps errno for the caller. */
static void fail_end(struct fault_ctx *c)
{
	int saved = errno;

	pwrite(c->make_it_fail, "0", 1, 0);
	errno = saved;
}

/* A mapped region of PAGES pages, each holding its pattern byte. */
static void map_region(struct __test_metadata *_metadata,
		       struct fault_ctx *c)
{
	c->map = new_mapped_region(_metadata, PAGES * c->pg, &c->fd);
	ASSERT_NE(NULL, c->map);
	fill_pages(c->map, 0, PAGES, SEED);
}

static long long fdinfo_unpinned(struct fault_ctx *c)
{
	return fdinfo_num(c->fd, "ashmem_unpinned_pages");
}

static long long fdinfo_purged(struct fault_ctx *c)
{
	return fdinfo_num(c->fd, "ashmem_purged_pages");
}

/* Pins every page and checks that nothing but @zeroed was lost. */
static void expect_data(struct __test_metadata *_metadata,
			struct fault_ctx *c, long zeroed)
{
	size_t i;

	EXPECT_LE(0, pin_pages(c->fd, 0, PAGES));
	for (i = 0; i < PAGES; i++) {
		if ((long)i == zeroed) {
			EXPECT_TRUE(pages_are_zero(c->map, i, 1))
				TH_LOG("purged page %zu is not zero", i);
		} else {
			EXPECT_TRUE(pages_hold(c->map, i, 1, SEED))
				TH_LOG("page %zu lost its data", i);
		}
	}
}

FIXTURE(fault) {
	struct fault_ctx c;
};

FIXTURE_SETUP(fault)
{
	ctx_setup(_metadata, &self->c);
}

FIXTURE_TEARDOWN(fault)
{
	ctx_teardown(&self->c);
}

TEST_F(fault, open_fails_cleanly_when_area_alloc_fails)
{
	struct fault_ctx *c = &self->c;
	long long regions = key_value(ASHMEM_STATS, "regions");
	int fd, err;

	if (!arm(_metadata, c, "ashmem_area", 0))
		return;
	fail_begin(c);
	fd = open(ASHMEM_DEV, O_RDWR | O_CLOEXEC);
	err = errno;
	fail_end(c);
	if (fd >= 0)
		close(fd);
	ASSERT_EQ(-1, fd) TH_LOG("open succeeded though its allocation failed");
	EXPECT_EQ(ENOMEM, err) TH_LOG("open: %s", strerror(err));
	EXPECT_EQ(regions, key_value(ASHMEM_STATS, "regions"));

	/* The next open works, and so does its region. */
	map_region(_metadata, c);
	EXPECT_EQ(regions + 1, key_value(ASHMEM_STATS, "regions"));
	EXPECT_EQ(0, unpin_pages(c->fd, 1, 2));
	expect_data(_metadata, c, -1);
}

TEST_F(fault, unpin_fails_cleanly_when_range_alloc_fails)
{
	struct fault_ctx *c = &self->c;
	long long unpinned = key_value(ASHMEM_STATS, "unpinned_pages");
	int ret, err;

	map_region(_metadata, c);
	if (!arm(_metadata, c, "ashmem_range", 0))
		return;
	fail_begin(c);
	ret = unpin_pages(c->fd, 2, 4);
	err = errno;
	fail_end(c);
	ASSERT_EQ(-1, ret) TH_LOG("UNPIN succeeded though its allocation failed");
	EXPECT_EQ(ENOMEM, err) TH_LOG("UNPIN: %s", strerror(err));

	/* Nothing was unpinned. */
	EXPECT_EQ(ASHMEM_IS_PINNED, pin_status(c->fd, 0, PAGES));
	EXPECT_EQ(0, fdinfo_unpinned(c));
	EXPECT_EQ(unpinned, key_value(ASHMEM_STATS, "unpinned_pages"));

	/* Tried again, it works. */
	EXPECT_EQ(0, unpin_pages(c->fd, 2, 4));
	EXPECT_EQ(ASHMEM_IS_UNPINNED, pin_status(c->fd, 2, 4));
	EXPECT_EQ(ASHMEM_IS_PINNED, pin_status(c->fd, 0, 2));
	EXPECT_EQ(ASHMEM_IS_PINNED, pin_status(c->fd, 6, 2));
	EXPECT_EQ(4, fdinfo_unpinned(c));
	expect_data(_metadata, c, -1);
	EXPECT_EQ(0, fdinfo_unpinned(c));
}

TEST_F(fault, pin_that_splits_fails_cleanly_when_range_alloc_fails)
{
	struct fault_ctx *c = &self->c;
	size_t i;
	int ret, err;

	map_region(_metadata, c);
	ASSERT_EQ(0, unpin_pages(c->fd, 0, PAGES));
	if (!arm(_metadata, c, "ashmem_range", 0))
		return;
	fail_begin(c);
	ret = pin_pages(c->fd, 3, 2);
	err = errno;
	fail_end(c);
	ASSERT_EQ(-1, ret) TH_LOG("PIN succeeded though its split failed");
	EXPECT_EQ(ENOMEM, err) TH_LOG("PIN: %s", strerror(err));

	/* Every page is still unpinned. */
	for (i = 0; i < PAGES; i++)
		EXPECT_EQ(ASHMEM_IS_UNPINNED, pin_status(c->fd, i, 1))
			TH_LOG("page %zu", i);
	EXPECT_EQ(PAGES, fdinfo_unpinned(c));

	/* Tried again, it splits the range. */
	EXPECT_EQ(ASHMEM_NOT_PURGED, pin_pages(c->fd, 3, 2));
	EXPECT_EQ(ASHMEM_IS_PINNED, pin_status(c->fd, 3, 2));
	EXPECT_EQ(ASHMEM_IS_UNPINNED, pin_status(c->fd, 2, 1));
	EXPECT_EQ(ASHMEM_IS_UNPINNED, pin_status(c->fd, 5, 1));
	EXPECT_EQ(PAGES - 2, fdinfo_unpinned(c));
	expect_data(_metadata, c, -1);
}

TEST_F(fault, pin_that_only_trims_allocates_nothing)
{
	struct fault_ctx *c = &self->c;

	map_region(_metadata, c);
	ASSERT_EQ(0, unpin_pages(c->fd, 2, 4));
	if (!arm(_metadata, c, "ashmem_range", 0))
		return;
	fail_begin(c);
	/* Trims the range at its start, then at its end, then removes it. */
	EXPECT_EQ(ASHMEM_NOT_PURGED, pin_pages(c->fd, 0, 3));
	EXPECT_EQ(ASHMEM_NOT_PURGED, pin_pages(c->fd, 5, 3));
	EXPECT_EQ(2, fdinfo_unpinned(c));
	EXPECT_EQ(ASHMEM_NOT_PURGED, pin_pages(c->fd, 0, PAGES));
	fail_end(c);
	EXPECT_EQ(0, fdinfo_unpinned(c));
	expect_data(_metadata, c, -1);
}

/*
 * Unpinning across a purged range needs a range on each side of it: the
 * first allocation succeeds, the second fails, and the first is given back.
 */
TEST_F(fault, unpin_around_purged_pages_fails_cleanly_on_second_alloc)
{
	struct fault_ctx *c = &self->c;
	char path[PATH_LEN], size[32];
	int ret, err;

	map_region(_metadata, c);
	ASSERT_EQ(0, unpin_pages(c->fd, 3, 1));
	ASSERT_LE(1, purge_all(c->fd));
	ASSERT_EQ(1, fdinfo_purged(c)) TH_LOG("the unpinned page was not purged");

	cache_path(path, sizeof(path), "ashmem_range", "object_size");
	ASSERT_EQ(0, read_line(path, size, sizeof(size)));
	/* Room for exactly one range. */
	if (!arm(_metadata, c, "ashmem_range", strtol(size, NULL, 10) + 1))
		return;
	fail_begin(c);
	ret = unpin_pages(c->fd, 0, PAGES);
	err = errno;
	fail_end(c);
	ASSERT_EQ(-1, ret) TH_LOG("UNPIN succeeded though its allocation failed");
	EXPECT_EQ(ENOMEM, err) TH_LOG("UNPIN: %s", strerror(err));

	/* Only the purged page is unpinned. */
	EXPECT_EQ(1, fdinfo_unpinned(c));
	EXPECT_EQ(1, fdinfo_purged(c));
	EXPECT_EQ(ASHMEM_IS_PINNED, pin_status(c->fd, 0, 3));
	EXPECT_EQ(ASHMEM_IS_PINNED, pin_status(c->fd, 4, 4));

	EXPECT_EQ(0, unpin_pages(c->fd, 0, PAGES));
	EXPECT_EQ(PAGES, fdinfo_unpinned(c));
	EXPECT_EQ(ASHMEM_WAS_PURGED, pin_pages(c->fd, 0, PAGES));
	expect_data(_metadata, c, 3);
}

/*
 * The first mmap creates the shmem file: an inode, a dentry and a file,
 * each from its own cache. Failing any of them fails the mmap with ENOMEM
 * and leaves the region as it was, still unmapped, so a second mmap works.
 */
FIXTURE(shmem_file) {
	struct fault_ctx c;
};

FIXTURE_VARIANT(shmem_file) {
	const char *cache;
};

FIXTURE_VARIANT_ADD(shmem_file, inode) {
	.cache = "shmem_inode_cache",
};

FIXTURE_VARIANT_ADD(shmem_file, dentry) {
	.cache = "dentry",
};

FIXTURE_VARIANT_ADD(shmem_file, file) {
	.cache = "filp",
};

FIXTURE_SETUP(shmem_file)
{
	ctx_setup(_metadata, &self->c);
}

FIXTURE_TEARDOWN(shmem_file)
{
	ctx_teardown(&self->c);
}

TEST_F(shmem_file, first_mmap_fails_cleanly)
{
	struct fault_ctx *c = &self->c;
	size_t size = PAGES * c->pg;
	unsigned long id;
	unsigned char *map;
	char buf[16];
	int err;

	c->fd = open_region(_metadata);
	ASSERT_LE(0, c->fd);
	ASSERT_EQ(0, ioctl(c->fd, ASHMEM_SET_NAME, "fault"));
	ASSERT_EQ(0, ioctl(c->fd, ASHMEM_SET_SIZE, size));

	if (!arm(_metadata, c, variant->cache, 0))
		return;
	fail_begin(c);
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
	err = errno;
	fail_end(c);
	if (map != MAP_FAILED)
		munmap(map, size);
	ASSERT_EQ(MAP_FAILED, map)
		TH_LOG("mmap succeeded though the %s allocation failed",
		       variant->cache);
	EXPECT_EQ(ENOMEM, err) TH_LOG("mmap: %s", strerror(err));

	/* No backing file: the region is still unmapped and may be resized. */
	EXPECT_EQ(EINVAL, errno_of(ioctl(c->fd, ASHMEM_GET_FILE_ID, &id)));
	EXPECT_EQ(EBADF, errno_of(pread(c->fd, buf, sizeof(buf), 0)));
	EXPECT_EQ(0, ioctl(c->fd, ASHMEM_SET_SIZE, size));

	/* Tried again, it maps, and the region works. */
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
	ASSERT_NE(MAP_FAILED, map) TH_LOG("mmap again: %s", strerror(errno));
	c->map = map;
	fill_pages(map, 0, PAGES, SEED);
	EXPECT_EQ(0, ioctl(c->fd, ASHMEM_GET_FILE_ID, &id));
	EXPECT_EQ(EINVAL, errno_of(ioctl(c->fd, ASHMEM_SET_SIZE, size)));
	EXPECT_EQ(0, unpin_pages(c->fd, 0, PAGES));
	expect_data(_metadata, c, -1);
	EXPECT_EQ((ssize_t)sizeof(buf), pread(c->fd, buf, sizeof(buf), 0));
	EXPECT_TRUE(bytes_are((unsigned char *)buf, pattern_byte(SEED, 0),
			      sizeof(buf)));
}

TEST_HARNESS_MAIN
