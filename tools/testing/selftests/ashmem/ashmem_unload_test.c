// SPDX-License-Identifier: GPL-2.0
/*
 * Unloading ashmem is refused while a region file is open, and harmless
 * once only mappings are left: they belong to shmem, not to the module.
 * The tests unload the module and load it again from ASHMEM_KO (default
 * /lib/modules/ashmem.ko, where the VM runner puts it), so they need root
 * and must not run beside other ashmem tests. Loading beside another
 * driver's /dev/ashmem takes ASHMEM_OTHER_KO (default
 * /lib/modules/ashmem_other.ko, built from other_ashmem/).
 *
 * On a kernel with fault injection (CONFIG_FAULT_INJECTION_DEBUG_FS,
 * CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC: make check-debug's), loading
 * is also failed at every allocation of the module's init, one at a time:
 * each failed load must leave nothing behind, and kmemleak's scan at the
 * end of the run finds what the unwind missed. Elsewhere that test skips.
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

/*
 * Loading with its allocations failed, one at a time, through this task's
 * fail-nth: writing N to it fails the N-th allocation the task makes that
 * an injector (failslab, fail_page_alloc) looks at; reading it back gives
 * what is left of N, 0 once that allocation failed. The injectors' own
 * probability stays 0, so nothing else fails.
 */
#define FAIL_NTH	"/proc/thread-self/fail-nth"
#define FAULT_ATTRS	"/sys/kernel/debug"
#define TRACING		"/sys/kernel/debug/tracing"
#define MODULE_LOAD_EVENT "events/module/module_load/enable"
/* More allocations than any load makes, KASAN and kmemleak included. */
#define LOAD_PROBE	100000
/* A load's count varies a little (slab refills, kmemleak's pool). */
#define LOAD_SLACK	8

/*
 * By default the injectors skip allocations that may sleep, as nearly all
 * of a module's are, and fail_page_alloc single pages. A failure must
 * print nothing: the runner fails the run on any stack trace.
 */
static const struct {
	const char *name;
	const char *value;
} load_fault_attrs[] = {
	{ "failslab/verbose",			"0" },
	{ "fail_page_alloc/verbose",		"0" },
	{ "failslab/ignore-gfp-wait",		"N" },
	{ "fail_page_alloc/ignore-gfp-wait",	"N" },
	{ "fail_page_alloc/min-order",		"0" },
};

#define NR_LOAD_FAULT_ATTRS	ARRAY_SIZE(load_fault_attrs)
#define ATTR_LEN		32

static FILE *attr_open(const char *dir, const char *name, const char *mode)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return fopen(path, mode);
}

/* Reads the first line of @dir/@name into @buf; returns 0 or -1. */
static int attr_get(const char *dir, const char *name, char *buf, size_t len)
{
	FILE *f = attr_open(dir, name, "re");
	bool got;

	if (!f)
		return -1;
	got = fgets(buf, len, f);
	fclose(f);
	if (got)
		buf[strcspn(buf, "\n")] = '\0';
	return got ? 0 : -1;
}

/* Writes @value to @dir/@name; returns 0 or -1. */
static int attr_set(const char *dir, const char *name, const char *value)
{
	FILE *f = attr_open(dir, name, "we");
	bool put;

	if (!f)
		return -1;
	put = fputs(value, f) >= 0;
	/* The write happens here, and with it the attribute's verdict. */
	return fclose(f) || !put ? -1 : 0;
}

/* The whole file at @path in a new buffer, for init_module(2). */
static void *read_whole(const char *path, size_t *len)
{
	size_t done = 0;
	struct stat st;
	char *buf;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	buf = fstat(fd, &st) ? NULL : malloc(st.st_size);
	while (buf && done < (size_t)st.st_size) {
		n = read(fd, buf + done, st.st_size - done);
		if (n <= 0) {
			free(buf);
			buf = NULL;
			break;
		}
		done += n;
	}
	close(fd);
	*len = done;
	return buf;
}

FIXTURE(load_faults) {
	bool ready;
	int fail_nth;		/* this task's fail-nth, open */
	unsigned int nr_set;	/* attributes changed, to restore */
	char saved[NR_LOAD_FAULT_ATTRS][ATTR_LEN];
	bool tracing;		/* module_load events on */
	void *image;		/* the module file */
	size_t image_len;
};

FIXTURE_SETUP(load_faults)
{
	char value[ATTR_LEN];
	unsigned int i;

	self->fail_nth = -1;
	if (!can_reload(_metadata))
		return;
	if (access(FAIL_NTH, W_OK))
		SKIP(return, "no %s: kernel without CONFIG_FAULT_INJECTION",
		     FAIL_NTH);
	for (i = 0; i < NR_LOAD_FAULT_ATTRS; i++) {
		if (attr_get(FAULT_ATTRS, load_fault_attrs[i].name,
			     self->saved[i], ATTR_LEN))
			SKIP(return,
			     "no %s/%s: kernel without CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC or CONFIG_FAULT_INJECTION_DEBUG_FS, or no debugfs",
			     FAULT_ATTRS, load_fault_attrs[i].name);
	}
	if (attr_set(TRACING, MODULE_LOAD_EVENT, "1"))
		SKIP(return, "no %s/%s: kernel without CONFIG_EVENT_TRACING",
		     TRACING, MODULE_LOAD_EVENT);
	self->tracing = true;
	/* A probability would fail other tasks' allocations too. */
	ASSERT_EQ(0, attr_get(FAULT_ATTRS, "failslab/probability", value,
			      sizeof(value)));
	ASSERT_STREQ("0", value);
	ASSERT_EQ(0, attr_get(FAULT_ATTRS, "fail_page_alloc/probability",
			      value, sizeof(value)));
	ASSERT_STREQ("0", value);

	self->image = read_whole(ashmem_ko(), &self->image_len);
	ASSERT_NE(NULL, self->image) TH_LOG("reading %s: %s", ashmem_ko(),
					    strerror(errno));
	self->fail_nth = open(FAIL_NTH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fail_nth);
	for (; self->nr_set < NR_LOAD_FAULT_ATTRS; self->nr_set++) {
		i = self->nr_set;
		ASSERT_EQ(0, attr_set(FAULT_ATTRS, load_fault_attrs[i].name,
				      load_fault_attrs[i].value))
			TH_LOG("writing %s: %s", load_fault_attrs[i].name,
			       strerror(errno));
	}
	self->ready = true;
}

FIXTURE_TEARDOWN(load_faults)
{
	unsigned int i;

	if (self->fail_nth >= 0) {
		pwrite(self->fail_nth, "0", 1, 0);
		close(self->fail_nth);
	}
	for (i = self->nr_set; i-- > 0; )
		attr_set(FAULT_ATTRS, load_fault_attrs[i].name,
			 self->saved[i]);
	if (self->tracing)
		attr_set(TRACING, MODULE_LOAD_EVENT, "0");
	free(self->image);
	if (self->ready && access("/sys/module/ashmem", F_OK))
		reload(_metadata);
}

/*
 * Loads the module with the @nth allocation of this task failed; returns
 * 0 or the errno of the load, and in @left what remains of @nth: 0 if
 * that allocation was reached and failed.
 */
static int load_failing_nth(struct __test_metadata *_metadata, int fail_nth,
			    const void *image, size_t len, unsigned int nth,
			    unsigned int *left)
{
	char buf[ATTR_LEN];
	ssize_t n;
	int ret = 0;

	n = snprintf(buf, sizeof(buf), "%u", nth);
	ASSERT_EQ(n, pwrite(fail_nth, buf, n, 0));
	if (syscall(SYS_init_module, image, len, ""))
		ret = errno;
	n = pread(fail_nth, buf, sizeof(buf) - 1, 0);
	/* Before anything else allocates. */
	pwrite(fail_nth, "0", 1, 0);
	ASSERT_LT(0, n);
	buf[n] = '\0';
	*left = strtoul(buf, NULL, 10);
	return ret;
}

static void clear_trace(void)
{
	int fd = open(TRACING "/trace", O_WRONLY | O_TRUNC | O_CLOEXEC);

	if (fd >= 0)
		close(fd);
}

/*
 * Whether the last load got past the loader to do_init_module(), which
 * runs ashmem_init(): the loader traces module_load just before.
 */
static bool init_was_reached(void)
{
	char trace[4096];
	bool found = false;
	ssize_t n;
	int fd;

	fd = open(TRACING "/trace", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	while (!found && (n = read(fd, trace, sizeof(trace) - 1)) > 0) {
		trace[n] = '\0';
		found = strstr(trace, "module_load: ashmem");
	}
	close(fd);
	return found;
}

/*
 * Every allocation of do_init_module() and ashmem_init() failed in turn,
 * from the last a load makes back to the first that fails in the loader
 * itself: a load that fails leaves no module, no misc device and no node
 * behind (and no leak, for the runner's kmemleak scan); a failure the
 * kernel absorbs (kmemleak's pool, a debugfs file) leaves a module that
 * unloads. Earlier allocations are the loader's alone, and some of them,
 * for KASAN's shadow of the module, print a stack trace when they fail.
 * kmem_cache_create() prints one for any failure inside it, and 6.12's
 * leaks the name of a cache whose sysfs directory it could not add: vm.sh
 * judges neither (see there).
 */
TEST_F_TIMEOUT(load_faults, fails_cleanly_at_every_allocation, 1200)
{
	unsigned int total, nth, left, in_init = 0, absorbed = 0, unused = 0;
	int ret, fd;

	if (!self->ready)
		return;
	ASSERT_EQ(0, delete_module("ashmem", O_NONBLOCK))
		TH_LOG("delete_module: %s", strerror(errno));
	ret = load_failing_nth(_metadata, self->fail_nth, self->image,
			       self->image_len, LOAD_PROBE, &left);
	ASSERT_EQ(0, ret) TH_LOG("loading %s: %s", ashmem_ko(),
				 strerror(ret));
	ASSERT_LT(0, left);
	total = LOAD_PROBE - left;
	ASSERT_EQ(0, delete_module("ashmem", O_NONBLOCK));

	for (nth = total + LOAD_SLACK; nth > 0; nth--) {
		clear_trace();
		ret = load_failing_nth(_metadata, self->fail_nth, self->image,
				       self->image_len, nth, &left);
		if (left || !ret) {
			/* Not reached this time, or absorbed. */
			ASSERT_EQ(0, ret) TH_LOG("allocation %u not failed: %s",
						 nth, strerror(ret));
			unused += !!left;
			absorbed += !left;
			ASSERT_EQ(0, delete_module("ashmem", O_NONBLOCK))
				TH_LOG("allocation %u: delete_module: %s", nth,
				       strerror(errno));
			continue;
		}
		EXPECT_EQ(ENOMEM, ret)
			TH_LOG("allocation %u failed: load failed with %s",
			       nth, strerror(ret));
		ASSERT_NE(0, access("/sys/module/ashmem", F_OK))
			TH_LOG("allocation %u failed: module left behind", nth);
		ASSERT_NE(0, access("/sys/class/misc/ashmem", F_OK))
			TH_LOG("allocation %u failed: misc device left", nth);
		ASSERT_NE(0, access(ASHMEM_DEV, F_OK))
			TH_LOG("allocation %u failed: %s left", nth, ASHMEM_DEV);
		if (!init_was_reached())
			break;
		in_init++;
	}
	TH_LOG("%u allocations a load; from %u on: %u failed it in init, %u absorbed, %u unreached",
	       total, nth, in_init, absorbed, unused);
	ASSERT_LT(0, nth) TH_LOG("no allocation failed in the loader");
	EXPECT_LT(0, in_init);

	reload(_metadata);
	fd = open_region(_metadata);
	EXPECT_LE(0, fd);
	close(fd);
}

TEST_HARNESS_MAIN
