// SPDX-License-Identifier: GPL-2.0
/*
 * Unloading ashmem is refused while a region file is open, and harmless
 * once only mappings are left: they belong to shmem, not to the module.
 * The tests unload the module and load it again from ASHMEM_KO (default
 * /lib/modules/ashmem.ko, where the VM runner puts it), so they need root
 * and must not run beside other ashmem tests. Loading beside another
 * driver's /dev/ashmem takes ASHMEM_OTHER_KO (default
 * /lib/modules/ashmem_other.ko, built from other_ashmem/).
 */
#define _GNU_SOURCE
#include <limits.h>
#include <sys/klog.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "ashmem_common.h"

static int delete_module(const char *name, unsigned int flags)
{
	return syscall(SYS_delete_module, name, flags);
}

/* Loads the module file at @path; returns 0 or an errno. */
static int load_module(const char *path)
{
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	if (syscall(SYS_finit_module, fd, "", 0))
		ret = errno;
	close(fd);
	return ret;
}

static const char *ashmem_ko(void)
{
	const char *path = getenv("ASHMEM_KO");

	return path ? path : "/lib/modules/ashmem.ko";
}

/* Loads the module again, or fails the test. */
static void reload(struct __test_metadata *_metadata)
{
	struct stat st;
	int ret, i;

	ret = load_module(ashmem_ko());
	ASSERT_EQ(0, ret) TH_LOG("loading %s: %s", ashmem_ko(), strerror(ret));
	/* devtmpfs creates the node asynchronously. */
	for (i = 0; i < 100 && stat(ASHMEM_DEV, &st); i++)
		usleep(10000);
	ASSERT_EQ(0, stat(ASHMEM_DEV, &st));
}

/* Skips unless the module can be unloaded and loaded again here. */
static bool can_reload(struct __test_metadata *_metadata)
{
	if (geteuid())
		SKIP(return false, "needs root");
	if (access(ashmem_ko(), R_OK))
		SKIP(return false, "no module file to load again");
	if (access("/sys/module/ashmem", F_OK))
		SKIP(return false, "ashmem is not a loaded module");
	return true;
}

FIXTURE(unload) {
	bool ready;
};

FIXTURE_SETUP(unload)
{
	self->ready = can_reload(_metadata);
}

/* Whatever happened, the tests after this one get their module back. */
FIXTURE_TEARDOWN(unload)
{
	if (self->ready && access("/sys/module/ashmem", F_OK))
		reload(_metadata);
}

TEST_F(unload, is_refused_while_a_region_is_open)
{
	int fd;

	if (!self->ready)
		return;
	fd = open_region(_metadata);
	ASSERT_EQ(-1, delete_module("ashmem", O_NONBLOCK));
	EXPECT_EQ(EWOULDBLOCK, errno);
	close(fd);
}

/* The path of /proc/self/map_files for the mapping at @map of @len. */
static void map_files_path(char *path, size_t size, void *map, size_t len)
{
	snprintf(path, size, "/proc/self/map_files/%lx-%lx",
		 (unsigned long)map, (unsigned long)map + len);
}

TEST_F(unload, with_live_mappings_is_harmless)
{
	size_t pages = 8, len = pages * page_size();
	unsigned char *map, *again;
	char path[PATH_MAX];
	int fd, file, sync[2];
	pid_t child;
	char c;

	if (!self->ready)
		return;
	map = new_mapped_region(_metadata, len, &fd);
	ASSERT_NE(NULL, map);
	fill_pages(map, 0, pages / 2, 5);
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, pipe(sync));

	/* A child keeps its own copy of the mapping across the unload. */
	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		ASSERT_EQ(1, read(sync[0], &c, 1));
		ASSERT_TRUE(pages_hold(map, 0, pages / 2, 5));
		fill_pages(map, pages / 2, pages / 2, 6);
		_exit(0);
	}

	ASSERT_EQ(0, delete_module("ashmem", O_NONBLOCK))
		TH_LOG("delete_module: %s", strerror(errno));

	/* The mappings work on: old pages, new faults, the child. */
	EXPECT_TRUE(pages_hold(map, 0, pages / 2, 5));
	ASSERT_EQ(1, write(sync[1], "g", 1));
	ASSERT_EQ(0, wait_exit_code(child));
	EXPECT_TRUE(pages_hold(map, pages / 2, pages / 2, 6));

	/*
	 * A reopen through map_files gets the backing file's operations,
	 * which the module made and left behind: they still read, refuse
	 * mmap and close.
	 */
	map_files_path(path, sizeof(path), map, len);
	file = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, file) TH_LOG("open %s: %s", path, strerror(errno));
	ASSERT_EQ(1, pread(file, &c, 1, 0));
	EXPECT_EQ(pattern_byte(5, 0), (unsigned char)c);
	again = mmap(NULL, len, PROT_READ, MAP_SHARED, file, 0);
	EXPECT_EQ(MAP_FAILED, again);
	EXPECT_EQ(ENODEV, errno);
	close(file);
	munmap(map, len);

	/* And the module comes back as new. */
	reload(_metadata);
	fd = open_region(_metadata);
	EXPECT_LE(0, fd);
	close(fd);
}

/* How many lines of the kernel log hold @text (the log is small here). */
static int kernel_log_lines(const char *text)
{
	int len = klogctl(10, NULL, 0), n = 0;	/* SYSLOG_ACTION_SIZE_BUFFER */
	char *buf, *line, *save;

	if (len <= 0)
		return -1;
	buf = calloc(1, len + 1);
	if (!buf)
		return -1;
	len = klogctl(3, buf, len);		/* SYSLOG_ACTION_READ_ALL */
	for (line = strtok_r(buf, "\n", &save); len > 0 && line;
	     line = strtok_r(NULL, "\n", &save))
		n += !!strstr(line, text);
	free(buf);
	return len > 0 ? n : -1;
}

/*
 * Another driver's /dev/ashmem (ashmem_linux, still loaded on machines
 * that ran Anbox or redroid): loading fails with EBUSY and one line that
 * says what to do, and succeeds once the other driver is gone. The VM
 * runner fails the run on any stack trace the attempt might print.
 */
TEST_F(unload, load_beside_another_ashmem_is_ebusy)
{
	const char *other = getenv("ASHMEM_OTHER_KO");
	const char *line = "is taken by another driver";
	int before;

	if (!self->ready)
		return;
	if (!other)
		other = "/lib/modules/ashmem_other.ko";
	if (access(other, R_OK))
		SKIP(return, "no %s", other);

	before = kernel_log_lines(line);
	ASSERT_LE(0, before);
	ASSERT_EQ(0, delete_module("ashmem", O_NONBLOCK))
		TH_LOG("delete_module: %s", strerror(errno));
	ASSERT_EQ(0, load_module(other));
	EXPECT_EQ(EBUSY, load_module(ashmem_ko()));
	EXPECT_EQ(before + 1, kernel_log_lines(line));
	EXPECT_NE(0, access("/sys/module/ashmem", F_OK));
	ASSERT_EQ(0, delete_module("ashmem_other", O_NONBLOCK));
	reload(_metadata);
}

TEST_HARNESS_MAIN
