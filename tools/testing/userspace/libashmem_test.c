// SPDX-License-Identifier: GPL-2.0
/*
 * Tests of libashmem, the libcutils ashmem API, on whichever backend it is
 * expected to use: LIBASHMEM_TEST_EXPECT=device (regions on /dev/ashmem
 * or /dev/ashmem<boot_id>, Android's first name since Android 10) or
 * memfd (no device, or LIBASHMEM_BACKEND=memfd). Without it, the device is expected if
 * /dev/ashmem exists and LIBASHMEM_BACKEND is not memfd.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cutils/ashmem.h>

#include "kselftest_harness.h"

static bool expect_device(void)
{
	const char *expect = getenv("LIBASHMEM_TEST_EXPECT");
	const char *backend = getenv("LIBASHMEM_BACKEND");

	if (expect)
		return !strcmp(expect, "device");
	if (backend && !strcmp(backend, "memfd"))
		return false;
	return !access("/dev/ashmem", F_OK);
}

static size_t page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

/* What /proc/self/fd/FD links to, in @buf. */
static void fd_link(int fd, char *buf, size_t size)
{
	char path[64];
	ssize_t len;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	len = readlink(path, buf, size - 1);
	buf[len < 0 ? 0 : len] = '\0';
}

static void copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* The region's name, as the backend keeps it. */
static void region_name(int fd, char *buf, size_t size)
{
	char link[PATH_MAX];
	const char *prefix = "/memfd:", *suffix = " (deleted)";
	size_t len;

	if (expect_device()) {
		char name[ASHMEM_NAME_LEN] = "";

		ioctl(fd, ASHMEM_GET_NAME, name);
		copy_str(buf, size, name);
		return;
	}
	fd_link(fd, link, sizeof(link));
	len = strlen(link);
	if (strncmp(link, prefix, strlen(prefix)) || len < strlen(suffix) ||
	    strcmp(link + len - strlen(suffix), suffix)) {
		copy_str(buf, size, "?");
		return;
	}
	link[len - strlen(suffix)] = '\0';
	copy_str(buf, size, link + strlen(prefix));
}

TEST(create_region_uses_expected_backend)
{
	struct stat st;
	int fd;

	fd = ashmem_create_region("backend", page_size());
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fstat(fd, &st));
	if (expect_device()) {
		EXPECT_TRUE(S_ISCHR(st.st_mode));
	} else {
		int seals = fcntl(fd, F_GET_SEALS);

		EXPECT_TRUE(S_ISREG(st.st_mode));
		EXPECT_EQ(F_SEAL_GROW | F_SEAL_SHRINK,
			  seals & (F_SEAL_GROW | F_SEAL_SHRINK));
	}
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
}

TEST(valid_says_yes_to_regions_only)
{
	int fd, p[2], null;

	fd = ashmem_create_region("valid", page_size());
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pipe(p));
	null = open("/dev/null", O_RDWR);
	ASSERT_LE(0, null);

	EXPECT_EQ(1, ashmem_valid(fd));
	EXPECT_EQ(0, ashmem_valid(p[0]));
	EXPECT_EQ(0, ashmem_valid(null));
	EXPECT_EQ(0, ashmem_valid(-1));
	close(fd);
	EXPECT_EQ(0, ashmem_valid(fd));
	close(p[0]);
	close(p[1]);
	close(null);
}

/*
 * An unnamed file on a tmpfs mount: /dev/shm, /tmp or /run if one is
 * tmpfs, else a tmpfs mounted for the test (root only). Seals work on it
 * as on a memfd; it is still no region. -1 if there is none to be had.
 */
static int tmpfs_file(char *mnt, size_t size)
{
	static const char *const dirs[] = { "/dev/shm", "/tmp", "/run" };
	char dir[] = "/tmp/libashmem-tmpfs.XXXXXX";
	struct statfs sfs;
	unsigned int i;
	int fd;

	mnt[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(dirs); i++) {
		fd = open(dirs[i], O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		if (fd < 0)
			continue;
		if (!fstatfs(fd, &sfs) && sfs.f_type == TMPFS_MAGIC)
			return fd;
		close(fd);
	}
	if (geteuid() || !mkdtemp(dir))
		return -1;
	if (mount("tmpfs", dir, "tmpfs", 0, "size=1m")) {
		rmdir(dir);
		return -1;
	}
	snprintf(mnt, size, "%s", dir);
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0) {
		umount(dir);
		rmdir(dir);
		mnt[0] = '\0';
	}
	return fd;
}

/*
 * An O_PATH descriptor of the device node has the node's st_rdev, but
 * opening it ran no open of the driver: it is no region, and no call of
 * the API works on it (ioctl() on it is EBADF). ashmem_valid() must say
 * 0, as the header promises for anything but an open region.
 */
TEST(valid_says_no_to_o_path_of_the_device)
{
	char node[128] = "/dev/ashmem", id[64] = "";
	int fd, region;
	FILE *f;

	if (!expect_device())
		SKIP(return, "regions are memfds here");
	region = ashmem_create_region("o_path", page_size());
	ASSERT_LE(0, region);
	fd = open(node, O_PATH | O_CLOEXEC);
	if (fd < 0) {
		/* Only Android 15's name: /dev/ashmem<boot_id>. */
		f = fopen("/proc/sys/kernel/random/boot_id", "re");
		ASSERT_NE(NULL, f);
		ASSERT_NE(NULL, fgets(id, sizeof(id), f));
		fclose(f);
		id[strcspn(id, "\n")] = '\0';
		snprintf(node, sizeof(node), "/dev/ashmem%s", id);
		fd = open(node, O_PATH | O_CLOEXEC);
	}
	ASSERT_LE(0, fd) TH_LOG("%s: %s", node, strerror(errno));
	EXPECT_EQ(0, ashmem_valid(fd));
	errno = 0;
	EXPECT_EQ(-1, ashmem_get_size_region(fd));
	EXPECT_EQ(ENOTTY, errno);
	close(fd);
	close(region);
}

TEST(valid_says_no_to_tmpfs_files)
{
	char mnt[64];
	int fd = tmpfs_file(mnt, sizeof(mnt));

	if (fd < 0)
		SKIP(return, "no tmpfs to make a file on");
	ASSERT_EQ(0, ftruncate(fd, page_size()));
	ASSERT_LE(0, fcntl(fd, F_GET_SEALS));
	EXPECT_EQ(0, ashmem_valid(fd));
	EXPECT_EQ(-1, ashmem_get_size_region(fd));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ashmem_pin_region(fd, 0, 0));
	EXPECT_EQ(ENOTTY, errno);
	close(fd);
	if (mnt[0]) {
		umount(mnt);
		rmdir(mnt);
	}
}

TEST(valid_says_yes_to_memfd_without_seals)
{
	int fd = memfd_create("plain", MFD_CLOEXEC);

	ASSERT_LE(0, fd);
	EXPECT_EQ(1, ashmem_valid(fd));
	close(fd);
}

TEST(size_is_kept_unaligned)
{
	int fd = ashmem_create_region("size", 12345);

	ASSERT_LE(0, fd);
	EXPECT_EQ(12345, ashmem_get_size_region(fd));
	close(fd);
}

TEST(size_up_to_int_max_is_returned)
{
	int fd = ashmem_create_region("int max", INT_MAX);

	ASSERT_LE(0, fd);
	EXPECT_EQ(INT_MAX, ashmem_get_size_region(fd));
	close(fd);
}

/*
 * Past INT_MAX the size cannot be returned: -1 and EOVERFLOW, whatever
 * the C library's int makes of the kernel's answer (negative; -1 and a
 * false errno; the low 32 bits).
 */
TEST(size_past_int_max_is_eoverflow)
{
	static const unsigned long long sizes[] = {
		(unsigned long long)INT_MAX + 1,
		(unsigned long long)INT_MAX + 1 + 4096,
		(1ULL << 32) - 16,
		(1ULL << 32) + 8192,
	};
	unsigned int i;
	int fd;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		if (sizes[i] > SIZE_MAX)
			continue;
		fd = ashmem_create_region("big", (size_t)sizes[i]);
		ASSERT_LE(0, fd) TH_LOG("size %llu: %s", sizes[i],
					strerror(errno));
		errno = 0;
		EXPECT_EQ(-1, ashmem_get_size_region(fd))
			TH_LOG("size %llu", sizes[i]);
		EXPECT_EQ(EOVERFLOW, errno) TH_LOG("size %llu", sizes[i]);
		close(fd);
	}
}

TEST(name_is_kept)
{
	char name[ASHMEM_NAME_LEN];
	int fd = ashmem_create_region("libashmem test", page_size());

	ASSERT_LE(0, fd);
	region_name(fd, name, sizeof(name));
	EXPECT_STREQ("libashmem test", name);
	close(fd);
}

TEST(unnamed_region_has_default_name)
{
	char name[ASHMEM_NAME_LEN];
	int fd = ashmem_create_region(NULL, page_size());

	ASSERT_LE(0, fd);
	region_name(fd, name, sizeof(name));
	EXPECT_STREQ(ASHMEM_NAME_DEF, name);
	close(fd);
}

TEST(long_name_is_cut)
{
	char long_name[400], name[ASHMEM_NAME_LEN];
	size_t kept = expect_device() ? ASHMEM_NAME_LEN - 1 : NAME_MAX - 6;
	int fd;

	memset(long_name, 'n', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	fd = ashmem_create_region(long_name, page_size());
	ASSERT_LE(0, fd);
	region_name(fd, name, sizeof(name));
	EXPECT_EQ(kept, strlen(name));
	EXPECT_EQ(0, strncmp(name, long_name, kept));
	close(fd);
}

TEST(memory_is_shared_with_child)
{
	size_t size = 3 * page_size();
	char *p;
	pid_t pid;
	int fd, status;

	fd = ashmem_create_region("shared", size);
	ASSERT_LE(0, fd);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 'a', size);

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char *q = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
			       fd, 0);

		if (q == MAP_FAILED || q[size - 1] != 'a')
			_exit(1);
		q[0] = 'b';
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ('b', p[0]);
	munmap(p, size);
	close(fd);
}

TEST(size_cannot_change)
{
	size_t size = page_size();
	void *p;
	int fd;

	fd = ashmem_create_region("fixed", size);
	ASSERT_LE(0, fd);
	p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	if (expect_device()) {
		EXPECT_EQ(-1, ioctl(fd, ASHMEM_SET_SIZE, 2 * size));
		EXPECT_EQ(EINVAL, errno);
	} else {
		EXPECT_EQ(-1, ftruncate(fd, 2 * size));
		EXPECT_EQ(EPERM, errno);
	}
	EXPECT_EQ((int)size, ashmem_get_size_region(fd));
	munmap(p, size);
	close(fd);
}

TEST(read_only_refuses_writable_mapping)
{
	size_t size = page_size();
	void *p;
	int fd;

	fd = ashmem_create_region("ro", size);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ashmem_set_prot_region(fd, PROT_READ));
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EPERM, errno);
	p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	munmap(p, size);
	close(fd);
}

TEST(write_cannot_be_given_back)
{
	int fd = ashmem_create_region("ro", page_size());

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ashmem_set_prot_region(fd, PROT_READ));
	EXPECT_EQ(-1, ashmem_set_prot_region(fd, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
}

TEST(same_prot_twice_is_fine)
{
	int fd = ashmem_create_region("ro", page_size());

	ASSERT_LE(0, fd);
	EXPECT_EQ(0, ashmem_set_prot_region(fd, PROT_READ));
	EXPECT_EQ(0, ashmem_set_prot_region(fd, PROT_READ));
	close(fd);
}

TEST(unpin_then_pin_returns_not_purged)
{
	size_t size = 4 * page_size();
	void *p;
	int fd;

	fd = ashmem_create_region("pin", size);
	ASSERT_LE(0, fd);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, ashmem_unpin_region(fd, page_size(), 2 * page_size()));
	EXPECT_EQ(ASHMEM_NOT_PURGED,
		  ashmem_pin_region(fd, page_size(), 2 * page_size()));
	EXPECT_EQ(0, ashmem_unpin_region(fd, 0, 0));
	EXPECT_EQ(ASHMEM_NOT_PURGED, ashmem_pin_region(fd, 0, 0));
	munmap(p, size);
	close(fd);
}

TEST(purged_pages_are_reported_by_pin)
{
	size_t size = 4 * page_size();
	char *p;
	int fd;

	if (!expect_device())
		SKIP(return, "memfd pages are never purged");
	if (geteuid())
		SKIP(return, "purging needs CAP_SYS_ADMIN");
	fd = ashmem_create_region("purge", size);
	ASSERT_LE(0, fd);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 'x', size);
	ASSERT_EQ(0, ashmem_unpin_region(fd, 0, 0));
	EXPECT_LE(4, ioctl(fd, ASHMEM_PURGE_ALL_CACHES));
	EXPECT_EQ(ASHMEM_WAS_PURGED, ashmem_pin_region(fd, 0, 0));
	EXPECT_EQ(0, p[0]);
	munmap(p, size);
	close(fd);
}

TEST(pin_past_32_bits_is_refused)
{
	int fd;

	if (!expect_device())
		SKIP(return, "pinning memfd does nothing");
	if (sizeof(size_t) < 8)
		SKIP(return, "size_t has 32 bits");
	fd = ashmem_create_region("big", page_size());
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, ashmem_pin_region(fd, (size_t)UINT32_MAX + 1, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ashmem_unpin_region(fd, 0, (size_t)UINT32_MAX + 1));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
}

TEST(memfd_from_elsewhere_is_a_region)
{
	int fd = memfd_create("elsewhere", MFD_ALLOW_SEALING);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 3 * page_size()));
	EXPECT_EQ(1, ashmem_valid(fd));
	EXPECT_EQ((int)(3 * page_size()), ashmem_get_size_region(fd));
	EXPECT_EQ(0, ashmem_unpin_region(fd, 0, 0));
	EXPECT_EQ(0, ashmem_pin_region(fd, 0, 0));
	EXPECT_EQ(0, ashmem_set_prot_region(fd, PROT_READ));
	EXPECT_EQ(MAP_FAILED, mmap(NULL, page_size(), PROT_WRITE, MAP_SHARED,
				   fd, 0));
	close(fd);
}

TEST(other_descriptors_are_enotty)
{
	int p[2];

	ASSERT_EQ(0, pipe(p));
	EXPECT_EQ(-1, ashmem_get_size_region(p[0]));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ashmem_set_prot_region(p[0], PROT_READ));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ashmem_pin_region(p[0], 0, 0));
	EXPECT_EQ(ENOTTY, errno);
	close(p[0]);
	close(p[1]);
}

TEST(bad_descriptor_is_ebadf)
{
	EXPECT_EQ(-1, ashmem_get_size_region(-1));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, ashmem_unpin_region(INT_MAX, 0, 0));
	EXPECT_EQ(EBADF, errno);
}

TEST_HARNESS_MAIN
