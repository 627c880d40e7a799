// SPDX-License-Identifier: GPL-2.0
/*
 * ABI tests for /dev/ashmem, Android's anonymous shared memory: names,
 * sizes, protection masks, mmap and sharing, read and lseek, file ids,
 * pinning and purging, fdinfo, closing, and the device node itself.
 *
 * Each test checks one behaviour and is named for it. The tests need root
 * (for PURGE_ALL_CACHES, drop_caches and /proc/self/map_files) and the
 * ashmem module loaded; without /dev/ashmem they skip.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ashmem_common.h"

/* Pattern seed the fixtures fill their pages with. */
#define SEED		1
#define NOBODY		65534

/* GET_NAME into a buffer one byte longer than the ABI, always terminated. */
static int get_name(int fd, char name[ASHMEM_NAME_LEN + 1])
{
	memset(name, 'x', ASHMEM_NAME_LEN);
	name[ASHMEM_NAME_LEN] = '\0';
	return ioctl(fd, ASHMEM_GET_NAME, name);
}

/* The address of a page that is not mapped. */
static void *unmapped_page(void)
{
	void *p = mmap(NULL, page_size(), PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return (void *)1;
	munmap(p, page_size());
	return p;
}

static void map_files_path(char *path, size_t len, void *map, size_t size)
{
	snprintf(path, len, "/proc/self/map_files/%lx-%lx",
		 (unsigned long)map, (unsigned long)map + size);
}

/*
 * The path /proc/self/maps shows for the mapping that starts at @map,
 * copied into @path. Returns 0, or -1 if no mapping starts there.
 */
static int maps_path(void *map, char *path, size_t len)
{
	FILE *maps = fopen("/proc/self/maps", "re");
	char *line = NULL;
	size_t cap = 0;
	int ret = -1;
	int off;

	if (!maps)
		return -1;
	while (getline(&line, &cap, maps) > 0) {
		if (strtoul(line, NULL, 16) != (unsigned long)map)
			continue;
		off = 0;
		if (sscanf(line, "%*s %*s %*s %*s %*s %n", &off) == EOF || !off)
			break;
		line[strcspn(line, "\n")] = '\0';
		snprintf(path, len, "%s", line + off);
		ret = 0;
		break;
	}
	free(line);
	fclose(maps);
	return ret;
}

/* True if @path is @want, with or without the " (deleted)" of a shmem file. */
static bool is_backing_path(const char *path, const char *want)
{
	size_t n = strlen(want);

	return !strncmp(path, want, n) &&
	       (!path[n] || !strcmp(path + n, " (deleted)"));
}

static int drop_to_nobody(void)
{
	if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY))
		return -1;
	return geteuid() == NOBODY ? 0 : -1;
}

/* A region that is open and nothing more: size 0, never mapped. */
FIXTURE(region) {
	int fd;
	size_t pg;
};

FIXTURE_SETUP(region)
{
	self->pg = page_size();
	self->fd = open_region(_metadata);
}

FIXTURE_TEARDOWN(region)
{
	if (self->fd >= 0)
		close(self->fd);
}

/* A region of MAPPED_PAGES pages, mapped shared and filled with SEED. */
#define MAPPED_PAGES	8

FIXTURE(mapped) {
	int fd;
	size_t pg;
	size_t size;
	unsigned char *map;
};

FIXTURE_SETUP(mapped)
{
	self->fd = -1;
	self->pg = page_size();
	self->size = MAPPED_PAGES * self->pg;
	self->map = new_mapped_region(_metadata, self->size, &self->fd);
	if (!self->map)
		return;
	fill_pages(self->map, 0, MAPPED_PAGES, SEED);
}

FIXTURE_TEARDOWN(mapped)
{
	if (self->map)
		munmap(self->map, self->size);
	if (self->fd >= 0)
		close(self->fd);
}

/* The device */

TEST(boot_id_alias_is_the_ashmem_device)
{
	char boot_id[64] = {}, alias[96];
	struct stat dev, st;
	ssize_t n;
	int fd;

	if (stat(ASHMEM_DEV, &dev))
		SKIP(return, "no %s: is the ashmem module loaded?", ASHMEM_DEV);
	fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	n = read(fd, boot_id, sizeof(boot_id) - 1);
	close(fd);
	ASSERT_LT(0, n);
	boot_id[strcspn(boot_id, " \t\n")] = '\0';
	snprintf(alias, sizeof(alias), "%s%s", ASHMEM_DEV, boot_id);

	if (stat(alias, &st) && errno == ENOENT)
		SKIP(return, "no %s alias", alias);
	ASSERT_EQ(0, stat(alias, &st));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	ASSERT_EQ(dev.st_rdev, st.st_rdev);

	fd = open(alias, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(dev.st_rdev, st.st_rdev);
	EXPECT_EQ(0, ioctl(fd, ASHMEM_GET_SIZE));
	close(fd);
}

TEST_F(region, each_open_is_a_separate_region)
{
	char name[ASHMEM_NAME_LEN + 1];
	int other = open_region(_metadata);

	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_SIZE, 3 * self->pg));
	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_NAME, "first"));
	EXPECT_EQ(0, ioctl(other, ASHMEM_GET_SIZE));
	ASSERT_EQ(0, get_name(other, name));
	EXPECT_STREQ(ASHMEM_NAME_DEF, name);
	close(other);
}

TEST_F(region, unknown_ioctl_is_enotty)
{
	EXPECT_EQ(ENOTTY, errno_of(ioctl(self->fd, _IO(__ASHMEMIOC, 0))));
	EXPECT_EQ(ENOTTY, errno_of(ioctl(self->fd, _IO(__ASHMEMIOC, 12))));
	EXPECT_EQ(ENOTTY, errno_of(ioctl(self->fd, _IOW(__ASHMEMIOC, 12, int),
					 0)));
	EXPECT_EQ(ENOTTY, errno_of(ioctl(self->fd, _IO(__ASHMEMIOC, 0xff))));
	EXPECT_EQ(ENOTTY, errno_of(ioctl(self->fd, _IO(__ASHMEMIOC + 1, 4))));
}

/* Names */

TEST_F(region, name_defaults_to_dev_ashmem)
{
	char name[ASHMEM_NAME_LEN + 1];

	ASSERT_EQ(0, get_name(self->fd, name));
	EXPECT_STREQ(ASHMEM_NAME_DEF, name);
}

TEST_F(region, set_name_is_returned_by_get_name)
{
	char name[ASHMEM_NAME_LEN + 1];

	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_NAME, "selftest region"));
	ASSERT_EQ(0, get_name(self->fd, name));
	EXPECT_STREQ("selftest region", name);
}

TEST_F(region, name_of_255_bytes_is_kept_whole)
{
	char set[ASHMEM_NAME_LEN], name[ASHMEM_NAME_LEN + 1];

	memset(set, 'a', sizeof(set) - 1);
	set[sizeof(set) - 1] = '\0';
	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_NAME, set));
	ASSERT_EQ(0, get_name(self->fd, name));
	EXPECT_STREQ(set, name);
}

/* 256 bytes without a NUL, right before an inaccessible page. */
TEST_F(region, name_longer_than_255_bytes_is_cut_to_255)
{
	char want[ASHMEM_NAME_LEN], name[ASHMEM_NAME_LEN + 1];
	char *pages, *set;

	pages = mmap(NULL, 2 * self->pg, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, pages);
	ASSERT_EQ(0, mprotect(pages + self->pg, self->pg, PROT_NONE));
	set = pages + self->pg - ASHMEM_NAME_LEN;
	memset(set, 'b', ASHMEM_NAME_LEN);

	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_NAME, set));
	ASSERT_EQ(0, get_name(self->fd, name));
	memset(want, 'b', sizeof(want) - 1);
	want[sizeof(want) - 1] = '\0';
	EXPECT_STREQ(want, name);
	munmap(pages, 2 * self->pg);
}

/* SET_NAME and GET_NAME check the user's pointer alike. */
FIXTURE(name_ioctl) {
	int fd;
};

FIXTURE_VARIANT(name_ioctl) {
	unsigned long cmd;
};

FIXTURE_VARIANT_ADD(name_ioctl, set_name) {
	.cmd = ASHMEM_SET_NAME,
};

FIXTURE_VARIANT_ADD(name_ioctl, get_name) {
	.cmd = ASHMEM_GET_NAME,
};

FIXTURE_SETUP(name_ioctl)
{
	self->fd = open_region(_metadata);
}

FIXTURE_TEARDOWN(name_ioctl)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(name_ioctl, bad_pointer_is_efault)
{
	EXPECT_EQ(EFAULT, errno_of(ioctl(self->fd, variant->cmd, (void *)1)));
	EXPECT_EQ(EFAULT, errno_of(ioctl(self->fd, variant->cmd,
					 unmapped_page())));
}

TEST_F(region, set_name_after_mmap_is_einval)
{
	char name[ASHMEM_NAME_LEN + 1];
	void *map;

	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_NAME, "before"));
	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_SIZE, self->pg));
	map = mmap(NULL, self->pg, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, map);

	EXPECT_EQ(EINVAL, errno_of(ioctl(self->fd, ASHMEM_SET_NAME, "after")));
	ASSERT_EQ(0, get_name(self->fd, name));
	EXPECT_STREQ("before", name);
	munmap(map, self->pg);
}

/* /proc/self/maps names a mapping /dev/ashmem/<name>, or /dev/ashmem. */
FIXTURE(maps_name) {
	int fd;
};

FIXTURE_VARIANT(maps_name) {
	const char *name;	/* set before mapping, or NULL */
	const char *path;	/* what maps shows */
};

FIXTURE_VARIANT_ADD(maps_name, named) {
	.name = "maps-name",
	.path = "/dev/ashmem/maps-name",
};

FIXTURE_VARIANT_ADD(maps_name, unnamed) {
	.name = NULL,
	.path = "/dev/ashmem",
};

FIXTURE_SETUP(maps_name)
{
	self->fd = open_region(_metadata);
}

FIXTURE_TEARDOWN(maps_name)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(maps_name, is_the_backing_path)
{
	size_t pg = page_size();
	char path[PATH_MAX];
	void *map;

	if (variant->name)
		ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_NAME, variant->name));
	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_SIZE, pg));
	map = mmap(NULL, pg, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, map);

	ASSERT_EQ(0, maps_path(map, path, sizeof(path)));
	EXPECT_TRUE(is_backing_path(path, variant->path))
		TH_LOG("maps shows '%s'", path);
	munmap(map, pg);
}

/* Sizes */

TEST_F(region, size_is_zero_initially)
{
	EXPECT_EQ(0, ioctl(self->fd, ASHMEM_GET_SIZE));
}

TEST_F(region, set_size_unaligned_is_returned_exactly)
{
	size_t size = 3 * self->pg + 123;

	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_SIZE, size));
	EXPECT_EQ((int)size, ioctl(self->fd, ASHMEM_GET_SIZE));
}

TEST_F(region, set_size_can_change_before_mmap)
{
	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_SIZE, 5 * self->pg));
	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_SIZE, self->pg + 1));
	EXPECT_EQ((int)self->pg + 1, ioctl(self->fd, ASHMEM_GET_SIZE));
	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_SIZE, 0));
	EXPECT_EQ(0, ioctl(self->fd, ASHMEM_GET_SIZE));
}

TEST_F(region, set_size_after_mmap_is_einval)
{
	void *map;

	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_SIZE, 2 * self->pg));
	map = mmap(NULL, self->pg, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, map);

	EXPECT_EQ(EINVAL, errno_of(ioctl(self->fd, ASHMEM_SET_SIZE,
					 4 * self->pg)));
	EXPECT_EQ((int)(2 * self->pg), ioctl(self->fd, ASHMEM_GET_SIZE));
	munmap(map, self->pg);
}

TEST_F(region, set_size_above_llong_max_is_einval)
{
	unsigned long long big = (unsigned long long)LLONG_MAX + 1;

	if (sizeof(size_t) < sizeof(big))
		SKIP(return, "size_t cannot hold a size above LLONG_MAX");
	EXPECT_EQ(EINVAL, errno_of(ioctl(self->fd, ASHMEM_SET_SIZE,
					 (size_t)big)));
	EXPECT_EQ(EINVAL, errno_of(ioctl(self->fd, ASHMEM_SET_SIZE,
					 SIZE_MAX)));
	EXPECT_EQ(0, ioctl(self->fd, ASHMEM_GET_SIZE));
}

/* Protection masks */

TEST_F(region, prot_mask_defaults_to_rwx)
{
	EXPECT_EQ(ASHMEM_PROT_ALL, ioctl(self->fd, ASHMEM_GET_PROT_MASK));
}

TEST_F(region, set_prot_mask_removes_bits)
{
	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_PROT_MASK,
			   (unsigned long)PROT_READ));
	EXPECT_EQ(PROT_READ, ioctl(self->fd, ASHMEM_GET_PROT_MASK));
}

TEST_F(region, set_prot_mask_cannot_add_bits_back)
{
	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_PROT_MASK,
			   (unsigned long)PROT_READ));
	EXPECT_EQ(EINVAL, errno_of(ioctl(self->fd, ASHMEM_SET_PROT_MASK,
					 (unsigned long)(PROT_READ | PROT_WRITE))));
	EXPECT_EQ(PROT_READ, ioctl(self->fd, ASHMEM_GET_PROT_MASK));
}

TEST_F(region, set_prot_mask_rejects_bits_outside_rwx)
{
	EXPECT_EQ(EINVAL, errno_of(ioctl(self->fd, ASHMEM_SET_PROT_MASK,
					 (unsigned long)(ASHMEM_PROT_ALL | 0x8))));
	EXPECT_EQ(EINVAL, errno_of(ioctl(self->fd, ASHMEM_SET_PROT_MASK,
					 (unsigned long)(PROT_READ | 0x100))));
	EXPECT_EQ(ASHMEM_PROT_ALL, ioctl(self->fd, ASHMEM_GET_PROT_MASK));
}

TEST_F(region, read_implies_exec_personality_adds_exec_to_read)
{
	int persona = personality(0xffffffff);

	ASSERT_NE(-1, persona);
	ASSERT_NE(-1, personality(persona | READ_IMPLIES_EXEC));
	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_PROT_MASK,
			   (unsigned long)PROT_READ));
	EXPECT_EQ(PROT_READ | PROT_EXEC, ioctl(self->fd, ASHMEM_GET_PROT_MASK));
}

TEST_F(mapped, set_prot_mask_after_mmap_is_allowed)
{
	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_PROT_MASK,
			   (unsigned long)PROT_READ));
	EXPECT_EQ(PROT_READ, ioctl(self->fd, ASHMEM_GET_PROT_MASK));
}

TEST_F(mapped, mmap_after_prot_mask_drops_write_is_eperm)
{
	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_PROT_MASK,
			   (unsigned long)PROT_READ));
	EXPECT_EQ(EPERM, mmap_errno(self->pg, PROT_READ | PROT_WRITE,
				    MAP_SHARED, self->fd, 0));
	EXPECT_EQ(0, mmap_errno(self->pg, PROT_READ, MAP_SHARED, self->fd, 0));
}

TEST_F(region, private_writable_mmap_without_prot_write_is_eperm)
{
	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_SIZE, self->pg));
	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_PROT_MASK,
			   (unsigned long)PROT_READ));
	EXPECT_EQ(EPERM, mmap_errno(self->pg, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE, self->fd, 0));
}

TEST_F(mapped, existing_writable_mapping_survives_prot_mask_drop)
{
	unsigned char *ro;

	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_PROT_MASK,
			   (unsigned long)PROT_READ));
	fill_pages(self->map, 0, MAPPED_PAGES, SEED + 1);
	ro = mmap(NULL, self->size, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, ro);
	EXPECT_TRUE(pages_hold(ro, 0, MAPPED_PAGES, SEED + 1));
	munmap(ro, self->size);
}

/*
 * A region whose mask lacks one bit: mapping with that bit fails, mapping
 * without it works, and mprotect() cannot add it later.
 */
FIXTURE(prot_bit) {
	int fd;
	size_t pg;
};

FIXTURE_VARIANT(prot_bit) {
	int missing;	/* the bit the mask lacks */
	int other;	/* a protection the mask allows */
};

FIXTURE_VARIANT_ADD(prot_bit, read) {
	.missing = PROT_READ,
	.other = PROT_WRITE,
};

FIXTURE_VARIANT_ADD(prot_bit, write) {
	.missing = PROT_WRITE,
	.other = PROT_READ,
};

FIXTURE_VARIANT_ADD(prot_bit, exec) {
	.missing = PROT_EXEC,
	.other = PROT_READ,
};

FIXTURE_SETUP(prot_bit)
{
	struct statvfs dev;

	self->pg = page_size();
	self->fd = open_region(_metadata);
	if (self->fd < 0)
		return;
	/* On a noexec /dev no mapping may execute, whatever the mask says. */
	ASSERT_EQ(0, fstatvfs(self->fd, &dev));
	if (variant->missing == PROT_EXEC && (dev.f_flag & ST_NOEXEC))
		SKIP(return, "/dev is mounted noexec");
	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_SIZE, self->pg));
	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_PROT_MASK,
			   (unsigned long)(ASHMEM_PROT_ALL & ~variant->missing)));
}

FIXTURE_TEARDOWN(prot_bit)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(prot_bit, mmap_asking_for_it_is_eperm)
{
	EXPECT_EQ(EPERM, mmap_errno(self->pg, variant->other | variant->missing,
				    MAP_SHARED, self->fd, 0));
}

TEST_F(prot_bit, mmap_without_it_succeeds)
{
	EXPECT_EQ(0, mmap_errno(self->pg, variant->other, MAP_SHARED,
				self->fd, 0));
}

TEST_F(prot_bit, mprotect_adding_it_is_eacces)
{
	void *map = mmap(NULL, self->pg, variant->other, MAP_SHARED,
			 self->fd, 0);

	ASSERT_NE(MAP_FAILED, map);
	EXPECT_EQ(EACCES, errno_of(mprotect(map, self->pg,
					    variant->other | variant->missing)));
	munmap(map, self->pg);
}

/*
 * Nor can the bit come back through the backing file: a reopen through
 * /proc/self/map_files cannot map it, with the bit or without.
 */
TEST_F(prot_bit, map_files_mmap_cannot_add_it)
{
	char path[PATH_MAX];
	void *map;
	int fd;

	map = mmap(NULL, self->pg, variant->other, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	map_files_path(path, sizeof(path), map, self->pg);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("open %s: %s", path, strerror(errno));
	EXPECT_NE(0, mmap_errno(self->pg, variant->missing, MAP_SHARED, fd, 0));
	EXPECT_NE(0, mmap_errno(self->pg, variant->missing | variant->other,
				MAP_SHARED, fd, 0));
	EXPECT_NE(0, mmap_errno(self->pg, variant->missing, MAP_PRIVATE,
				fd, 0));
	close(fd);
	munmap(map, self->pg);
}

/*
 * remap_file_pages() maps a shared mapping's file again: it must not
 * reset what mprotect() may add.
 */
TEST_F(prot_bit, remap_file_pages_cannot_add_it)
{
	void *map = mmap(NULL, self->pg, variant->other, MAP_SHARED,
			 self->fd, 0);

	ASSERT_NE(MAP_FAILED, map);
	/* Refused outright here; if it worked, mprotect() must still fail. */
	EXPECT_EQ(ENODEV, errno_of(remap_file_pages(map, self->pg, 0, 0, 0)));
	EXPECT_EQ(EACCES, errno_of(mprotect(map, self->pg,
					    variant->other |
					    variant->missing)));
	munmap(map, self->pg);
}

/* mmap */

TEST_F(region, mmap_of_zero_size_is_einval)
{
	EXPECT_EQ(EINVAL, mmap_errno(self->pg, PROT_READ | PROT_WRITE,
				     MAP_SHARED, self->fd, 0));
}

TEST_F(region, mmap_up_to_rounded_size_succeeds)
{
	unsigned char *map;

	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_SIZE, 2 * self->pg + 1));
	map = mmap(NULL, 3 * self->pg, PROT_READ | PROT_WRITE, MAP_SHARED,
		   self->fd, 0);
	ASSERT_NE(MAP_FAILED, map) TH_LOG("mmap: %s", strerror(errno));
	map[2 * self->pg] = 0x5a;
	EXPECT_EQ(0x5a, map[2 * self->pg]);
	munmap(map, 3 * self->pg);
}

TEST_F(region, mmap_past_rounded_size_is_einval)
{
	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_SIZE, 2 * self->pg + 1));
	EXPECT_EQ(EINVAL, mmap_errno(4 * self->pg, PROT_READ | PROT_WRITE,
				     MAP_SHARED, self->fd, 0));
}

/*
 * The exit code of a child that reads the byte at @p: 0, or 128 + the
 * signal the read raised.
 */
static int touch_in_child(const unsigned char *p)
{
	pid_t pid = fork();

	if (!pid)
		_exit(__atomic_load_n(p, __ATOMIC_RELAXED) == 0x5a ? 1 : 0);
	return pid < 0 ? -1 : wait_exit_code(pid);
}

/* Only the length is checked, not where the mapping starts. */
TEST_F(region, mmap_starting_at_or_past_the_end_succeeds)
{
	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_SIZE, 2 * self->pg + 1));
	EXPECT_EQ(0, mmap_errno(2 * self->pg, PROT_READ, MAP_SHARED,
				self->fd, 3 * self->pg));
	EXPECT_EQ(0, mmap_errno(self->pg, PROT_READ, MAP_SHARED,
				self->fd, 64 * self->pg));
	EXPECT_EQ(0, mmap_errno(3 * self->pg, PROT_READ, MAP_PRIVATE,
				self->fd, 8 * self->pg));
}

TEST_F(region, mmap_longer_than_the_region_at_an_offset_is_einval)
{
	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_SIZE, 2 * self->pg + 1));
	EXPECT_EQ(EINVAL, mmap_errno(4 * self->pg, PROT_READ, MAP_SHARED,
				     self->fd, self->pg));
}

/*
 * A shared mapping that runs past the region's end maps the region where
 * it overlaps it; a touch of a page past the end raises SIGBUS.
 */
TEST_F(mapped, touching_past_the_end_of_a_shared_mapping_is_sigbus)
{
	size_t len = MAPPED_PAGES * self->pg;
	unsigned char *map;

	map = mmap(NULL, len, PROT_READ, MAP_SHARED, self->fd,
		   (MAPPED_PAGES - 2) * self->pg);
	ASSERT_NE(MAP_FAILED, map) TH_LOG("mmap: %s", strerror(errno));
	EXPECT_TRUE(pages_hold(map - (MAPPED_PAGES - 2) * self->pg,
			       MAPPED_PAGES - 2, 2, SEED));
	EXPECT_EQ(128 + SIGBUS, touch_in_child(map + 2 * self->pg));
	EXPECT_EQ(128 + SIGBUS, touch_in_child(map + len - 1));
	munmap(map, len);

	map = mmap(NULL, self->pg, PROT_READ, MAP_SHARED, self->fd,
		   (MAPPED_PAGES + 4) * self->pg);
	ASSERT_NE(MAP_FAILED, map) TH_LOG("mmap: %s", strerror(errno));
	EXPECT_EQ(128 + SIGBUS, touch_in_child(map));
	munmap(map, self->pg);
}

/* The page that holds the region's last byte maps whole, as in a file. */
TEST_F(region, partial_last_page_maps_and_the_next_is_sigbus)
{
	unsigned char *map;

	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_SIZE, 2 * self->pg + 1));
	map = mmap(NULL, 2 * self->pg, PROT_READ | PROT_WRITE, MAP_SHARED,
		   self->fd, 2 * self->pg);
	ASSERT_NE(MAP_FAILED, map) TH_LOG("mmap: %s", strerror(errno));
	map[self->pg - 1] = 0x5a;
	EXPECT_EQ(1, touch_in_child(map + self->pg - 1));
	EXPECT_EQ(128 + SIGBUS, touch_in_child(map + self->pg));
	munmap(map, 2 * self->pg);
}

/* Past the end a private mapping is anonymous memory like the rest of it. */
TEST_F(mapped, private_mapping_past_the_end_reads_zero)
{
	unsigned char *priv;

	priv = mmap(NULL, 2 * self->pg, PROT_READ | PROT_WRITE, MAP_PRIVATE,
		    self->fd, (MAPPED_PAGES + 1) * self->pg);
	ASSERT_NE(MAP_FAILED, priv) TH_LOG("mmap: %s", strerror(errno));
	EXPECT_TRUE(pages_are_zero(priv, 0, 2));
	priv[0] = 0x5a;
	EXPECT_EQ(0x5a, priv[0]);
	munmap(priv, 2 * self->pg);
}

TEST_F(mapped, mmap_at_offset_maps_that_part)
{
	unsigned char *part = mmap(NULL, self->pg, PROT_READ, MAP_SHARED,
				   self->fd, 2 * self->pg);

	ASSERT_NE(MAP_FAILED, part);
	EXPECT_EQ(0, memcmp(part, self->map + 2 * self->pg, self->pg));
	munmap(part, self->pg);
}

/* Sharing */

TEST_F(mapped, shared_mappings_of_one_fd_see_same_memory)
{
	unsigned char *second = mmap(NULL, self->size, PROT_READ | PROT_WRITE,
				     MAP_SHARED, self->fd, 0);

	ASSERT_NE(MAP_FAILED, second);
	EXPECT_TRUE(pages_hold(second, 0, MAPPED_PAGES, SEED));
	fill_pages(second, 0, MAPPED_PAGES, SEED + 1);
	EXPECT_TRUE(pages_hold(self->map, 0, MAPPED_PAGES, SEED + 1));
	munmap(second, self->size);
}

TEST_F(mapped, dup_fd_mappings_share_memory)
{
	unsigned char *second;
	int dupfd = dup(self->fd);

	ASSERT_LE(0, dupfd);
	second = mmap(NULL, self->size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      dupfd, 0);
	ASSERT_NE(MAP_FAILED, second);
	fill_pages(second, 0, MAPPED_PAGES, SEED + 1);
	EXPECT_TRUE(pages_hold(self->map, 0, MAPPED_PAGES, SEED + 1));
	munmap(second, self->size);
	close(dupfd);
}

TEST_F(mapped, fork_child_shares_memory_with_parent)
{
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (!pid) {
		if (!pages_hold(self->map, 0, MAPPED_PAGES, SEED))
			_exit(1);
		fill_pages(self->map, 0, MAPPED_PAGES, SEED + 1);
		_exit(0);
	}
	ASSERT_EQ(0, wait_exit_code(pid)) TH_LOG("child saw other data");
	EXPECT_TRUE(pages_hold(self->map, 0, MAPPED_PAGES, SEED + 1));
}

TEST_F(mapped, scm_rights_fd_shares_memory)
{
	int sv[2];
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		unsigned char *map;
		__u32 tag;
		int fd;

		close(sv[0]);
		fd = recv_fd(sv[1], &tag);
		if (fd < 0)
			_exit(1);
		map = mmap(NULL, self->size, PROT_READ | PROT_WRITE,
			   MAP_SHARED, fd, 0);
		if (map == MAP_FAILED)
			_exit(2);
		if (!pages_hold(map, 0, MAPPED_PAGES, SEED))
			_exit(3);
		fill_pages(map, 0, MAPPED_PAGES, SEED + 1);
		_exit(0);
	}
	close(sv[1]);
	ASSERT_EQ(0, send_fd(sv[0], self->fd, 0));
	ASSERT_EQ(0, wait_exit_code(pid));
	EXPECT_TRUE(pages_hold(self->map, 0, MAPPED_PAGES, SEED + 1));
	close(sv[0]);
}

/* Private mappings: anonymous memory, as on Android's kernel */

TEST_F(mapped, private_mapping_starts_zeroed)
{
	unsigned char *priv = mmap(NULL, self->size, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE, self->fd, 0);

	ASSERT_NE(MAP_FAILED, priv);
	EXPECT_TRUE(pages_are_zero(priv, 0, MAPPED_PAGES));
	munmap(priv, self->size);
}

TEST_F(mapped, private_mapping_never_shows_region_writes)
{
	unsigned char *priv = mmap(NULL, self->size, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE, self->fd, 0);

	ASSERT_NE(MAP_FAILED, priv);
	fill_pages(self->map, 0, MAPPED_PAGES, SEED + 1);
	EXPECT_TRUE(pages_are_zero(priv, 0, MAPPED_PAGES));
	munmap(priv, self->size);
}

TEST_F(mapped, private_mapping_writes_stay_private)
{
	unsigned char *priv = mmap(NULL, self->size, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE, self->fd, 0);

	ASSERT_NE(MAP_FAILED, priv);
	fill_pages(priv, 0, MAPPED_PAGES, SEED + 1);
	EXPECT_TRUE(pages_hold(self->map, 0, MAPPED_PAGES, SEED));
	EXPECT_TRUE(pages_hold(priv, 0, MAPPED_PAGES, SEED + 1));
	munmap(priv, self->size);
}

/* Purging the region leaves what was written privately where it is. */
TEST_F(mapped, purge_leaves_private_pages_alone)
{
	unsigned char *priv = mmap(NULL, self->size, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE, self->fd, 0);

	ASSERT_NE(MAP_FAILED, priv);
	/* Half written, half only read: neither may change. */
	fill_pages(priv, 0, MAPPED_PAGES / 2, SEED + 1);
	EXPECT_TRUE(pages_are_zero(priv, MAPPED_PAGES / 2, MAPPED_PAGES / 2));
	ASSERT_EQ(0, unpin_pages(self->fd, 0, MAPPED_PAGES));
	ASSERT_LE(MAPPED_PAGES, purge_all(self->fd));
	EXPECT_TRUE(pages_are_zero(self->map, 0, MAPPED_PAGES));
	EXPECT_TRUE(pages_hold(priv, 0, MAPPED_PAGES / 2, SEED + 1));
	EXPECT_TRUE(pages_are_zero(priv, MAPPED_PAGES / 2, MAPPED_PAGES / 2));
	munmap(priv, self->size);
}

/* The kB on line "@key:" of /proc/self/status or /proc/meminfo, or -1. */
static long long proc_kb(const char *path, const char *key)
{
	char line[256];
	size_t klen = strlen(key);
	long long kb = -1;
	FILE *f = fopen(path, "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			kb = strtoll(line + klen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return kb;
}

/*
 * The kB on line "@key:" of the mapping at @map in /proc/self/smaps, or
 * -1. Counted from the page tables when read, unlike RssAnon, which 6.1
 * updates in batches.
 */
static long long smaps_kb(void *map, const char *key)
{
	size_t klen = strlen(key);
	long long kb = -1;
	bool in_map = false;
	char line[512];
	FILE *f = fopen("/proc/self/smaps", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strchr(line, '-') && strchr(line, ' ') &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in_map = strtoul(line, NULL, 16) == (unsigned long)map;
			continue;
		}
		if (in_map && !strncmp(line, key, klen) && line[klen] == ':') {
			kb = strtoll(line + klen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return kb;
}

/*
 * Writing a private mapping costs anonymous memory, one page per page
 * written, and no shmem: before, each page written cost a page of the
 * backing file as well as its private copy.
 */
TEST_F(region, private_mapping_costs_one_anonymous_page_per_page)
{
	size_t size = 32 << 20, kb = size >> 10;
	long long anon, shmem;
	unsigned char *priv;

	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_SIZE, size));
	priv = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE,
		    self->fd, 0);
	ASSERT_NE(MAP_FAILED, priv);
	shmem = proc_kb("/proc/meminfo", "Shmem");
	ASSERT_LE(0, shmem);
	memset(priv, 0x5a, size);
	anon = smaps_kb(priv, "Anonymous");
	shmem = proc_kb("/proc/meminfo", "Shmem") - shmem;
	EXPECT_EQ((long long)kb, anon);
	EXPECT_EQ((long long)kb, smaps_kb(priv, "Rss"));
	EXPECT_GT((long long)kb / 8, shmem) TH_LOG("Shmem grew %lld kB", shmem);
	munmap(priv, size);
}

/*
 * A region's pages are committed as they are used, as a memfd's are, and
 * not all at its first mapping as on Android's kernel, which committed
 * the whole size unless that mapping was MAP_NORESERVE.
 */
TEST_F(region, mapping_a_huge_region_commits_no_memory)
{
	size_t size = sizeof(size_t) < 8 ? 3UL << 30 : (size_t)1 << 40;
	long long before, after;
	unsigned char *map;

	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_SIZE, size));
	before = proc_kb("/proc/meminfo", "Committed_AS");
	ASSERT_LE(0, before);
	map = mmap(NULL, self->pg, PROT_READ | PROT_WRITE, MAP_SHARED,
		   self->fd, 0);
	ASSERT_NE(MAP_FAILED, map) TH_LOG("mmap: %s", strerror(errno));
	map[0] = 1;
	after = proc_kb("/proc/meminfo", "Committed_AS");
	EXPECT_GT(64 << 10, after - before)
		TH_LOG("Committed_AS grew %lld kB", after - before);
	munmap(map, self->pg);
}

/* The backing file, through /proc/self/map_files */

/*
 * The backing file is mapped through /dev/ashmem only, which checks the
 * mask: a reopen maps nothing, shared or private, whatever it asks for.
 */
TEST_F(mapped, map_files_mmap_is_enodev)
{
	char path[PATH_MAX];
	int fd;

	map_files_path(path, sizeof(path), self->map, self->size);
	fd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("open %s: %s", path, strerror(errno));
	EXPECT_EQ(ENODEV, mmap_errno(self->size, PROT_READ | PROT_WRITE,
				     MAP_SHARED, fd, 0));
	EXPECT_EQ(ENODEV, mmap_errno(self->size, PROT_READ, MAP_SHARED, fd, 0));
	EXPECT_EQ(ENODEV, mmap_errno(self->size, PROT_READ, MAP_PRIVATE,
				     fd, 0));
	close(fd);
}

/* What a reopen may do: read the region, as its own descriptor may. */
TEST_F(mapped, map_files_read_shows_region_memory)
{
	unsigned char buf[64];
	char path[PATH_MAX];
	int fd;

	map_files_path(path, sizeof(path), self->map, self->size);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("open %s: %s", path, strerror(errno));
	ASSERT_EQ((ssize_t)sizeof(buf), pread(fd, buf, sizeof(buf),
					      3 * self->pg));
	EXPECT_TRUE(bytes_are(buf, pattern_byte(SEED, 3), sizeof(buf)));
	close(fd);
}

TEST_F(mapped, map_files_write_fails_after_mask_drops_write)
{
	char path[PATH_MAX];
	unsigned char byte = 0;
	int fd;

	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_PROT_MASK,
			   (unsigned long)PROT_READ));
	map_files_path(path, sizeof(path), self->map, self->size);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		EXPECT_TRUE(errno == EACCES || errno == EPERM)
			TH_LOG("open %s: %s", path, strerror(errno));
		return;
	}
	EXPECT_EQ(-1, pwrite(fd, &byte, 1, 0));
	EXPECT_TRUE(pages_hold(self->map, 0, MAPPED_PAGES, SEED));
	close(fd);
}

TEST_F(mapped, map_files_ftruncate_is_eperm)
{
	char path[PATH_MAX];
	struct stat st;
	int fd;

	map_files_path(path, sizeof(path), self->map, self->size);
	fd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("open %s: %s", path, strerror(errno));
	EXPECT_EQ(EPERM, errno_of(ftruncate(fd, 2 * self->size)));
	EXPECT_EQ(EPERM, errno_of(ftruncate(fd, 0)));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ((off_t)self->size, st.st_size);
	EXPECT_TRUE(pages_hold(self->map, 0, MAPPED_PAGES, SEED));
	close(fd);
}

/*
 * fallocate() of a reopen made while the mask still had PROT_WRITE: it
 * can never grow the file, and once the mask lacks PROT_WRITE it cannot
 * punch holes either, which would zero the region's pages as a write
 * would. The reopen shows the seals behind that, and cannot add any.
 */
TEST_F(mapped, map_files_fallocate_follows_the_mask)
{
	const int sealed = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE;
	char path[PATH_MAX];
	int fd, seals;

	map_files_path(path, sizeof(path), self->map, self->size);
	fd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("open %s: %s", path, strerror(errno));
	EXPECT_EQ(EPERM, errno_of(fallocate(fd, 0, self->size, self->pg)));
	EXPECT_EQ(EPERM, errno_of(fallocate(fd, FALLOC_FL_KEEP_SIZE,
					    self->size, self->pg)));

	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_PROT_MASK,
			   (unsigned long)PROT_READ));
	EXPECT_EQ(EPERM, errno_of(fallocate(fd, FALLOC_FL_PUNCH_HOLE |
					    FALLOC_FL_KEEP_SIZE, 0,
					    self->pg)));
	seals = fcntl(fd, F_GET_SEALS);
	EXPECT_EQ(sealed, seals & sealed) TH_LOG("seals %#x", seals);
	EXPECT_EQ(EPERM, errno_of(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE)));
	EXPECT_TRUE(pages_hold(self->map, 0, MAPPED_PAGES, SEED));
	close(fd);
}

/* read, write and lseek on the region's fd */

TEST_F(region, read_of_zero_size_returns_zero)
{
	char buf[16];

	EXPECT_EQ(0, read(self->fd, buf, sizeof(buf)));
}

TEST_F(region, lseek_of_zero_size_is_einval)
{
	EXPECT_EQ(EINVAL, errno_of(lseek(self->fd, 0, SEEK_SET)));
}

TEST_F(region, read_before_mmap_is_ebadf)
{
	char buf[16];

	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_SIZE, self->pg));
	EXPECT_EQ(EBADF, errno_of(read(self->fd, buf, sizeof(buf))));
}

TEST_F(region, lseek_before_mmap_is_ebadf)
{
	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_SIZE, self->pg));
	EXPECT_EQ(EBADF, errno_of(lseek(self->fd, 0, SEEK_SET)));
}

TEST_F(mapped, read_returns_region_contents)
{
	unsigned char *buf = malloc(self->size);

	ASSERT_NE(NULL, buf);
	ASSERT_EQ((ssize_t)self->size, read(self->fd, buf, self->size));
	EXPECT_EQ(0, memcmp(buf, self->map, self->size));
	free(buf);
}

TEST_F(region, read_stops_at_region_size)
{
	size_t size = 2 * self->pg + 100;
	unsigned char *map, *buf;

	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_SIZE, size));
	map = mmap(NULL, 3 * self->pg, PROT_READ | PROT_WRITE, MAP_SHARED,
		   self->fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	fill_pages(map, 0, 3, SEED);
	buf = malloc(3 * self->pg);
	ASSERT_NE(NULL, buf);

	ASSERT_EQ((ssize_t)size, read(self->fd, buf, 3 * self->pg));
	EXPECT_EQ(0, memcmp(buf, map, size));
	EXPECT_EQ(0, read(self->fd, buf, 3 * self->pg));
	free(buf);
	munmap(map, 3 * self->pg);
}

TEST_F(mapped, lseek_moves_the_read_position)
{
	unsigned char buf[16];

	ASSERT_EQ(100, lseek(self->fd, 100, SEEK_SET));
	ASSERT_EQ(10, read(self->fd, buf, 10));
	EXPECT_EQ(0, memcmp(buf, self->map + 100, 10));

	ASSERT_EQ(115, lseek(self->fd, 5, SEEK_CUR));
	ASSERT_EQ(1, read(self->fd, buf, 1));
	EXPECT_EQ(self->map[115], buf[0]);

	ASSERT_EQ((off_t)self->size - 1, lseek(self->fd, -1, SEEK_END));
	ASSERT_EQ(1, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(self->map[self->size - 1], buf[0]);
	EXPECT_EQ(0, read(self->fd, buf, sizeof(buf)));
}

TEST_F(region, lseek_end_is_relative_to_size)
{
	size_t size = 2 * self->pg + 100;
	void *map;

	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_SIZE, size));
	map = mmap(NULL, self->pg, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	EXPECT_EQ((off_t)size, lseek(self->fd, 0, SEEK_END));
	EXPECT_EQ((off_t)size - 50, lseek(self->fd, -50, SEEK_END));
	munmap(map, self->pg);
}

TEST_F(region, seek_data_and_seek_hole_follow_touched_pages)
{
	size_t pg = self->pg;
	unsigned char *map;

	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_SIZE, 4 * pg));
	map = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_SHARED,
		   self->fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	/* Pages 1 and 3 hold data, 0 and 2 were never touched. */
	map[pg] = 1;
	map[3 * pg] = 1;

	EXPECT_EQ((off_t)pg, lseek(self->fd, 0, SEEK_DATA));
	EXPECT_EQ(0, lseek(self->fd, 0, SEEK_HOLE));
	EXPECT_EQ((off_t)(2 * pg), lseek(self->fd, pg, SEEK_HOLE));
	EXPECT_EQ((off_t)(3 * pg), lseek(self->fd, 2 * pg, SEEK_DATA));
	EXPECT_EQ((off_t)(4 * pg), lseek(self->fd, 3 * pg, SEEK_HOLE));
	EXPECT_EQ(ENXIO, errno_of(lseek(self->fd, 4 * pg, SEEK_DATA)));
	munmap(map, 4 * pg);
}

TEST_F(mapped, read_positions_are_independent_between_regions)
{
	unsigned char *other_map, buf[16];
	int other;

	other_map = new_mapped_region(_metadata, self->size, &other);
	fill_pages(other_map, 0, MAPPED_PAGES, SEED + 1);

	ASSERT_EQ(10, read(self->fd, buf, 10));
	ASSERT_EQ(4, read(other, buf, 4));
	EXPECT_EQ(0, memcmp(buf, other_map, 4));
	EXPECT_EQ(10, lseek(self->fd, 0, SEEK_CUR));
	EXPECT_EQ(4, lseek(other, 0, SEEK_CUR));
	ASSERT_EQ(6, read(self->fd, buf, 6));
	EXPECT_EQ(0, memcmp(buf, self->map + 10, 6));
	munmap(other_map, self->size);
	close(other);
}

TEST_F(mapped, write_is_einval)
{
	unsigned char byte = 0;

	EXPECT_EQ(EINVAL, errno_of(write(self->fd, &byte, 1)));
	EXPECT_TRUE(pages_hold(self->map, 0, MAPPED_PAGES, SEED));
}

/* GET_FILE_ID */

TEST_F(region, get_file_id_before_mmap_is_einval)
{
	unsigned long id;

	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_SIZE, self->pg));
	EXPECT_EQ(EINVAL, errno_of(ioctl(self->fd, ASHMEM_GET_FILE_ID, &id)));
}

TEST_F(mapped, get_file_id_is_the_map_files_inode)
{
	char path[PATH_MAX];
	unsigned long id = 0;
	struct stat st;
	int fd;

	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_GET_FILE_ID, &id));
	map_files_path(path, sizeof(path), self->map, self->size);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("open %s: %s", path, strerror(errno));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ((unsigned long)st.st_ino, id);
	close(fd);
	ASSERT_EQ(0, stat(path, &st));
	EXPECT_EQ((unsigned long)st.st_ino, id);
}

TEST_F(mapped, get_file_id_is_same_in_fork_child)
{
	unsigned long id = 0, child_id = 0;
	int pipefd[2];
	pid_t pid;

	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_GET_FILE_ID, &id));
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (ioctl(self->fd, ASHMEM_GET_FILE_ID, &child_id))
			_exit(1);
		if (write(pipefd[1], &child_id, sizeof(child_id)) !=
		    sizeof(child_id))
			_exit(2);
		_exit(0);
	}
	close(pipefd[1]);
	ASSERT_EQ(0, wait_exit_code(pid));
	ASSERT_EQ((ssize_t)sizeof(child_id),
		  read(pipefd[0], &child_id, sizeof(child_id)));
	EXPECT_EQ(id, child_id);
	close(pipefd[0]);
}

TEST_F(mapped, get_file_id_is_same_through_scm_rights)
{
	unsigned long id = 0, copy_id = 0;
	int sv[2], copy;
	__u32 tag;

	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_GET_FILE_ID, &id));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_EQ(0, send_fd(sv[0], self->fd, 0));
	copy = recv_fd(sv[1], &tag);
	ASSERT_LE(0, copy);
	ASSERT_NE(self->fd, copy);
	ASSERT_EQ(0, ioctl(copy, ASHMEM_GET_FILE_ID, &copy_id));
	EXPECT_EQ(id, copy_id);
	close(copy);
	close(sv[0]);
	close(sv[1]);
}

TEST_F(mapped, get_file_id_differs_between_regions)
{
	unsigned long id = 0, other_id = 0;
	unsigned char *other_map;
	int other;

	other_map = new_mapped_region(_metadata, self->pg, &other);
	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_GET_FILE_ID, &id));
	ASSERT_EQ(0, ioctl(other, ASHMEM_GET_FILE_ID, &other_id));
	EXPECT_NE(id, other_id);
	munmap(other_map, self->pg);
	close(other);
}

TEST_F(mapped, get_file_id_bad_pointer_is_efault)
{
	EXPECT_EQ(EFAULT, errno_of(ioctl(self->fd, ASHMEM_GET_FILE_ID,
					 (void *)1)));
	EXPECT_EQ(EFAULT, errno_of(ioctl(self->fd, ASHMEM_GET_FILE_ID,
					 unmapped_page())));
}

/*
 * Argument checks that PIN, UNPIN and GET_PIN_STATUS share. The region is
 * PIN_CMD_PAGES pages rounded up from an unaligned size, and not mapped
 * until a test maps it.
 */
#define PIN_CMD_PAGES	4

FIXTURE(pin_cmd) {
	int fd;
	size_t pg;
	void *map;
};

FIXTURE_VARIANT(pin_cmd) {
	unsigned long cmd;
	int empty_end_ret;	/* its answer for the empty range at the end */
};

FIXTURE_VARIANT_ADD(pin_cmd, pin) {
	.cmd = ASHMEM_PIN,
	.empty_end_ret = ASHMEM_NOT_PURGED,
};

FIXTURE_VARIANT_ADD(pin_cmd, unpin) {
	.cmd = ASHMEM_UNPIN,
	.empty_end_ret = 0,
};

FIXTURE_VARIANT_ADD(pin_cmd, get_pin_status) {
	.cmd = ASHMEM_GET_PIN_STATUS,
	.empty_end_ret = ASHMEM_IS_PINNED,
};

FIXTURE_SETUP(pin_cmd)
{
	self->map = NULL;
	self->pg = page_size();
	self->fd = open_region(_metadata);
	if (self->fd < 0)
		return;
	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_SIZE,
			   (PIN_CMD_PAGES - 1) * self->pg + 1));
}

FIXTURE_TEARDOWN(pin_cmd)
{
	if (self->map)
		munmap(self->map, PIN_CMD_PAGES * self->pg);
	if (self->fd >= 0)
		close(self->fd);
}

static void *map_pin_cmd_region(int fd)
{
	void *map = mmap(NULL, PIN_CMD_PAGES * page_size(), PROT_READ,
			 MAP_SHARED, fd, 0);

	return map == MAP_FAILED ? NULL : map;
}

TEST_F(pin_cmd, before_mmap_is_einval)
{
	EXPECT_EQ(EINVAL, errno_of(pin_ioctl(self->fd, variant->cmd, 0,
					     self->pg)));
	EXPECT_EQ(EINVAL, errno_of(pin_ioctl(self->fd, variant->cmd, 0, 0)));
}

TEST_F(pin_cmd, unaligned_offset_is_einval)
{
	self->map = map_pin_cmd_region(self->fd);
	ASSERT_NE(NULL, self->map);
	EXPECT_EQ(EINVAL, errno_of(pin_ioctl(self->fd, variant->cmd, 1,
					     self->pg)));
	EXPECT_EQ(EINVAL, errno_of(pin_ioctl(self->fd, variant->cmd,
					     self->pg + 512, 0)));
}

TEST_F(pin_cmd, unaligned_len_is_einval)
{
	self->map = map_pin_cmd_region(self->fd);
	ASSERT_NE(NULL, self->map);
	EXPECT_EQ(EINVAL, errno_of(pin_ioctl(self->fd, variant->cmd, 0, 1)));
	EXPECT_EQ(EINVAL, errno_of(pin_ioctl(self->fd, variant->cmd, self->pg,
					     self->pg + 1)));
}

TEST_F(pin_cmd, range_past_rounded_size_is_einval)
{
	size_t end = PIN_CMD_PAGES * self->pg;

	self->map = map_pin_cmd_region(self->fd);
	ASSERT_NE(NULL, self->map);
	EXPECT_EQ(EINVAL, errno_of(pin_ioctl(self->fd, variant->cmd, 0,
					     end + self->pg)));
	EXPECT_EQ(EINVAL, errno_of(pin_ioctl(self->fd, variant->cmd,
					     end - self->pg, 2 * self->pg)));
	EXPECT_EQ(EINVAL, errno_of(pin_ioctl(self->fd, variant->cmd, end,
					     self->pg)));
}

TEST_F(pin_cmd, offset_past_rounded_size_is_einval)
{
	size_t end = PIN_CMD_PAGES * self->pg;

	self->map = map_pin_cmd_region(self->fd);
	ASSERT_NE(NULL, self->map);
	EXPECT_EQ(EINVAL, errno_of(pin_ioctl(self->fd, variant->cmd,
					     end + self->pg, 0)));
}

TEST_F(pin_cmd, range_wrapping_past_4gib_is_einval)
{
	size_t top = UINT32_MAX & ~(self->pg - 1);

	self->map = map_pin_cmd_region(self->fd);
	ASSERT_NE(NULL, self->map);
	EXPECT_EQ(EINVAL, errno_of(pin_ioctl(self->fd, variant->cmd, top,
					     2 * self->pg)));
}

TEST_F(pin_cmd, bad_pointer_is_efault)
{
	self->map = map_pin_cmd_region(self->fd);
	ASSERT_NE(NULL, self->map);
	EXPECT_EQ(EFAULT, errno_of(ioctl(self->fd, variant->cmd, (void *)1)));
	EXPECT_EQ(EFAULT, errno_of(ioctl(self->fd, variant->cmd,
					 unmapped_page())));
}

TEST_F(pin_cmd, empty_range_at_end_is_a_noop)
{
	self->map = map_pin_cmd_region(self->fd);
	ASSERT_NE(NULL, self->map);
	EXPECT_EQ(variant->empty_end_ret,
		  pin_ioctl(self->fd, variant->cmd, PIN_CMD_PAGES * self->pg, 0));
	EXPECT_EQ(ASHMEM_IS_PINNED, pin_status(self->fd, 0, 0));
	EXPECT_EQ(ASHMEM_IS_PINNED, pin_status(self->fd, PIN_CMD_PAGES - 1, 1));
}

/* Pin and unpin */

TEST_F(mapped, region_starts_pinned)
{
	size_t i;

	EXPECT_EQ(ASHMEM_IS_PINNED, pin_status(self->fd, 0, 0));
	for (i = 0; i < MAPPED_PAGES; i++)
		EXPECT_EQ(ASHMEM_IS_PINNED, pin_status(self->fd, i, 1));
}

TEST_F(mapped, unpin_marks_only_that_range_unpinned)
{
	ASSERT_EQ(0, unpin_pages(self->fd, 2, 3));
	EXPECT_EQ(ASHMEM_IS_UNPINNED, pin_status(self->fd, 2, 3));
	EXPECT_EQ(ASHMEM_IS_UNPINNED, pin_status(self->fd, 2, 1));
	EXPECT_EQ(ASHMEM_IS_UNPINNED, pin_status(self->fd, 4, 1));
	EXPECT_EQ(ASHMEM_IS_PINNED, pin_status(self->fd, 0, 2));
	EXPECT_EQ(ASHMEM_IS_PINNED, pin_status(self->fd, 5, 3));
}

TEST_F(mapped, pin_status_is_unpinned_if_any_page_is)
{
	ASSERT_EQ(0, unpin_pages(self->fd, 3, 1));
	EXPECT_EQ(ASHMEM_IS_UNPINNED, pin_status(self->fd, 0, MAPPED_PAGES));
	EXPECT_EQ(ASHMEM_IS_UNPINNED, pin_status(self->fd, 0, 0));
	EXPECT_EQ(ASHMEM_IS_UNPINNED, pin_status(self->fd, 2, 2));
	EXPECT_EQ(ASHMEM_IS_PINNED, pin_status(self->fd, 0, 3));
	EXPECT_EQ(ASHMEM_IS_PINNED, pin_status(self->fd, 4, 4));
}

TEST_F(mapped, len_zero_unpins_to_the_end)
{
	ASSERT_EQ(0, pin_ioctl(self->fd, ASHMEM_UNPIN, 5 * self->pg, 0));
	EXPECT_EQ(ASHMEM_IS_UNPINNED, pin_status(self->fd, 5, 1));
	EXPECT_EQ(ASHMEM_IS_UNPINNED, pin_status(self->fd, 7, 1));
	EXPECT_EQ(ASHMEM_IS_PINNED, pin_status(self->fd, 0, 5));
	EXPECT_EQ(3, fdinfo_num(self->fd, "ashmem_unpinned_pages"));
}

TEST_F(region, len_zero_reaches_the_partial_last_page)
{
	void *map;

	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_SIZE, 3 * self->pg + 1));
	map = mmap(NULL, self->pg, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, unpin_pages(self->fd, 0, 0));
	EXPECT_EQ(ASHMEM_IS_UNPINNED, pin_status(self->fd, 3, 1));
	EXPECT_EQ(4, fdinfo_num(self->fd, "ashmem_unpinned_pages"));
	EXPECT_EQ(0, fdinfo_num(self->fd, "ashmem_pinned_pages"));
	munmap(map, self->pg);
}

TEST_F(region, len_zero_reaches_the_end_past_4gib)
{
	unsigned long long size = 5ULL << 30;
	long long pages = size / self->pg;
	void *map;

	if (sizeof(size_t) < sizeof(size))
		SKIP(return, "size_t cannot hold a 5 GiB size");
	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_SIZE, (size_t)size));
	map = mmap(NULL, self->pg, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, map) TH_LOG("mmap: %s", strerror(errno));
	EXPECT_EQ((long long)size, fdinfo_num(self->fd, "ashmem_size"));

	ASSERT_EQ(0, unpin_pages(self->fd, 0, 0));
	EXPECT_EQ(pages, fdinfo_num(self->fd, "ashmem_unpinned_pages"));
	EXPECT_EQ(0, fdinfo_num(self->fd, "ashmem_pinned_pages"));
	EXPECT_EQ(ASHMEM_NOT_PURGED, pin_pages(self->fd, 0, 0));
	EXPECT_EQ(0, fdinfo_num(self->fd, "ashmem_unpinned_pages"));
	EXPECT_EQ(pages, fdinfo_num(self->fd, "ashmem_pinned_pages"));
	munmap(map, self->pg);
}

TEST_F(mapped, unpin_of_empty_range_at_end_leaves_region_pinned)
{
	ASSERT_EQ(0, unpin_pages(self->fd, MAPPED_PAGES, 0));
	EXPECT_EQ(ASHMEM_IS_PINNED, pin_status(self->fd, 0, 0));
	EXPECT_EQ(0, fdinfo_num(self->fd, "ashmem_unpinned_pages"));
	EXPECT_EQ(MAPPED_PAGES, fdinfo_num(self->fd, "ashmem_pinned_pages"));
}

TEST_F(mapped, pin_after_unpin_without_purge_is_not_purged)
{
	ASSERT_EQ(0, unpin_pages(self->fd, 1, 4));
	EXPECT_EQ(ASHMEM_NOT_PURGED, pin_pages(self->fd, 1, 4));
	EXPECT_EQ(ASHMEM_IS_PINNED, pin_status(self->fd, 0, 0));
	EXPECT_TRUE(pages_hold(self->map, 0, MAPPED_PAGES, SEED));
}

TEST_F(mapped, pin_of_pinned_range_is_not_purged)
{
	EXPECT_EQ(ASHMEM_NOT_PURGED, pin_pages(self->fd, 0, MAPPED_PAGES));
	EXPECT_EQ(ASHMEM_IS_PINNED, pin_status(self->fd, 0, 0));
}

TEST_F(mapped, unpin_then_purge_zeroes_pages)
{
	ASSERT_EQ(0, unpin_pages(self->fd, 2, 2));
	ASSERT_LE(2, purge_all(self->fd));
	EXPECT_EQ(ASHMEM_WAS_PURGED, pin_pages(self->fd, 2, 2));
	EXPECT_TRUE(pages_are_zero(self->map, 2, 2));
}

TEST_F(mapped, purge_keeps_pinned_pages)
{
	ASSERT_EQ(0, unpin_pages(self->fd, 2, 2));
	ASSERT_LE(2, purge_all(self->fd));
	EXPECT_TRUE(pages_hold(self->map, 0, 2, SEED));
	EXPECT_TRUE(pages_hold(self->map, 4, MAPPED_PAGES - 4, SEED));
}

/*
 * With shmem's huge pages on (an operator's choice, "always"), a
 * region's pages are 2 MiB folios. Purging ranges inside one zeroes those
 * pages only: the pinned pages of the same folio keep their data, and PIN
 * tells the two apart.
 */
#define HUGE_SIZE	(2UL << 20)

FIXTURE(huge) {
	char saved[16];
	unsigned char *map;
	size_t pages;
	int fd;
};

FIXTURE_SETUP(huge)
{
	unsigned char *area;
	int ret;

	self->fd = -1;
	self->saved[0] = '\0';
	ret = shmem_huge_mode(self->saved, sizeof(self->saved));
	if (ret == -ENOENT)
		SKIP(return, "no %s", SHMEM_ENABLED);
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, write_file(SHMEM_ENABLED, "always"));

	self->fd = open_region(_metadata);
	ASSERT_LE(0, self->fd);
	self->pages = 2 * HUGE_SIZE / page_size();
	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_SIZE, 2 * HUGE_SIZE));
	/* At a 2 MiB boundary, so that the pages can be mapped huge. */
	area = mmap(NULL, 3 * HUGE_SIZE, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, area);
	self->map = (unsigned char *)(((uintptr_t)area + HUGE_SIZE - 1) &
				      ~(uintptr_t)(HUGE_SIZE - 1));
	ASSERT_NE(MAP_FAILED, mmap(self->map, 2 * HUGE_SIZE,
				   PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_FIXED, self->fd, 0));
}

FIXTURE_TEARDOWN(huge)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->saved[0])
		write_file(SHMEM_ENABLED, self->saved);
}

TEST_F(huge, purge_inside_a_huge_page_keeps_its_pinned_pages)
{
	size_t half = self->pages / 2;
	long long huge_kb = proc_kb("/proc/meminfo", "ShmemHugePages");

	fill_pages(self->map, 0, self->pages, SEED);
	huge_kb = proc_kb("/proc/meminfo", "ShmemHugePages") - huge_kb;
	if (huge_kb < 2048)
		SKIP(return, "the region got no huge page (%lld kB)", huge_kb);
	/* Inside the first folio, and across the two. */
	ASSERT_EQ(0, unpin_pages(self->fd, 1, 1));
	ASSERT_EQ(0, unpin_pages(self->fd, 100, 50));
	ASSERT_EQ(0, unpin_pages(self->fd, half - 2, 4));
	ASSERT_LE(55, purge_all(self->fd));

	EXPECT_TRUE(pages_hold(self->map, 0, 1, SEED));
	EXPECT_TRUE(pages_hold(self->map, 2, 98, SEED));
	EXPECT_TRUE(pages_hold(self->map, 150, half - 152, SEED));
	EXPECT_TRUE(pages_hold(self->map, half + 2, half - 2, SEED));
	EXPECT_TRUE(pages_are_zero(self->map, 1, 1));
	EXPECT_TRUE(pages_are_zero(self->map, 100, 50));
	EXPECT_TRUE(pages_are_zero(self->map, half - 2, 4));
	EXPECT_EQ(ASHMEM_NOT_PURGED, pin_pages(self->fd, 0, 1));
	EXPECT_EQ(ASHMEM_NOT_PURGED, pin_pages(self->fd, 2, 98));
	EXPECT_EQ(ASHMEM_WAS_PURGED, pin_pages(self->fd, 1, 1));
	EXPECT_EQ(ASHMEM_WAS_PURGED, pin_pages(self->fd, 100, 50));
	EXPECT_EQ(ASHMEM_WAS_PURGED, pin_pages(self->fd, half - 2, 4));
	EXPECT_EQ(ASHMEM_IS_PINNED, pin_status(self->fd, 0, 0));
}

TEST_F(mapped, overlapping_unpins_merge)
{
	ASSERT_EQ(0, unpin_pages(self->fd, 1, 3));
	ASSERT_EQ(0, unpin_pages(self->fd, 2, 4));
	ASSERT_EQ(0, unpin_pages(self->fd, 2, 1));
	EXPECT_EQ(5, fdinfo_num(self->fd, "ashmem_unpinned_pages"));
	EXPECT_EQ(3, fdinfo_num(self->fd, "ashmem_pinned_pages"));
	EXPECT_EQ(ASHMEM_IS_UNPINNED, pin_status(self->fd, 1, 1));
	EXPECT_EQ(ASHMEM_IS_UNPINNED, pin_status(self->fd, 5, 1));
	EXPECT_EQ(ASHMEM_IS_PINNED, pin_status(self->fd, 0, 1));
	EXPECT_EQ(ASHMEM_IS_PINNED, pin_status(self->fd, 6, 2));

	EXPECT_EQ(ASHMEM_NOT_PURGED, pin_pages(self->fd, 1, 5));
	EXPECT_EQ(ASHMEM_IS_PINNED, pin_status(self->fd, 0, 0));
	EXPECT_EQ(0, fdinfo_num(self->fd, "ashmem_unpinned_pages"));
}

TEST_F(mapped, adjacent_unpins_merge)
{
	ASSERT_EQ(0, unpin_pages(self->fd, 1, 2));
	ASSERT_EQ(0, unpin_pages(self->fd, 3, 2));
	ASSERT_EQ(0, unpin_pages(self->fd, 0, 1));
	EXPECT_EQ(5, fdinfo_num(self->fd, "ashmem_unpinned_pages"));
	EXPECT_EQ(ASHMEM_IS_UNPINNED, pin_status(self->fd, 2, 2));
	EXPECT_EQ(ASHMEM_IS_PINNED, pin_status(self->fd, 5, 3));

	EXPECT_EQ(ASHMEM_NOT_PURGED, pin_pages(self->fd, 0, 5));
	EXPECT_EQ(ASHMEM_IS_PINNED, pin_status(self->fd, 0, 0));
	EXPECT_EQ(0, fdinfo_num(self->fd, "ashmem_unpinned_pages"));
}

TEST_F(mapped, pin_inside_unpinned_range_splits_it)
{
	ASSERT_EQ(0, unpin_pages(self->fd, 1, 6));
	ASSERT_EQ(ASHMEM_NOT_PURGED, pin_pages(self->fd, 3, 2));

	EXPECT_EQ(ASHMEM_IS_PINNED, pin_status(self->fd, 0, 1));
	EXPECT_EQ(ASHMEM_IS_UNPINNED, pin_status(self->fd, 1, 1));
	EXPECT_EQ(ASHMEM_IS_UNPINNED, pin_status(self->fd, 2, 1));
	EXPECT_EQ(ASHMEM_IS_PINNED, pin_status(self->fd, 3, 2));
	EXPECT_EQ(ASHMEM_IS_UNPINNED, pin_status(self->fd, 5, 1));
	EXPECT_EQ(ASHMEM_IS_UNPINNED, pin_status(self->fd, 6, 1));
	EXPECT_EQ(ASHMEM_IS_PINNED, pin_status(self->fd, 7, 1));
	EXPECT_EQ(4, fdinfo_num(self->fd, "ashmem_unpinned_pages"));

	/* Both pieces are purged, the pinned middle is not. */
	ASSERT_LE(4, purge_all(self->fd));
	EXPECT_TRUE(pages_hold(self->map, 3, 2, SEED));
	EXPECT_EQ(ASHMEM_WAS_PURGED, pin_pages(self->fd, 1, 2));
	EXPECT_EQ(ASHMEM_WAS_PURGED, pin_pages(self->fd, 5, 2));
	EXPECT_TRUE(pages_are_zero(self->map, 1, 2));
	EXPECT_TRUE(pages_are_zero(self->map, 5, 2));
}

TEST_F(mapped, repinned_purged_pages_survive_a_second_purge)
{
	ASSERT_EQ(0, unpin_pages(self->fd, 2, 2));
	ASSERT_LE(2, purge_all(self->fd));
	ASSERT_EQ(ASHMEM_WAS_PURGED, pin_pages(self->fd, 2, 2));
	fill_pages(self->map, 2, 2, SEED + 1);

	purge_all(self->fd);
	EXPECT_TRUE(pages_hold(self->map, 2, 2, SEED + 1));
	ASSERT_EQ(0, unpin_pages(self->fd, 2, 2));
	EXPECT_EQ(ASHMEM_NOT_PURGED, pin_pages(self->fd, 2, 2));
	EXPECT_TRUE(pages_hold(self->map, 2, 2, SEED + 1));
}

TEST_F(mapped, unpin_purge_unpin_again_then_pin_is_was_purged)
{
	ASSERT_EQ(0, unpin_pages(self->fd, 2, 1));
	ASSERT_LE(1, purge_all(self->fd));
	ASSERT_EQ(0, unpin_pages(self->fd, 2, 1));
	EXPECT_EQ(ASHMEM_WAS_PURGED, pin_pages(self->fd, 2, 1));
	EXPECT_TRUE(pages_are_zero(self->map, 2, 1));
}

TEST_F(mapped, unpurged_neighbour_of_purged_page_pins_not_purged)
{
	ASSERT_EQ(0, unpin_pages(self->fd, 2, 1));
	ASSERT_LE(1, purge_all(self->fd));
	ASSERT_EQ(0, unpin_pages(self->fd, 3, 1));
	EXPECT_EQ(ASHMEM_NOT_PURGED, pin_pages(self->fd, 3, 1));
	EXPECT_TRUE(pages_hold(self->map, 3, 1, SEED));
	EXPECT_EQ(ASHMEM_WAS_PURGED, pin_pages(self->fd, 2, 1));
}

TEST_F(mapped, pin_is_was_purged_if_any_page_was)
{
	ASSERT_EQ(0, unpin_pages(self->fd, 2, 1));
	ASSERT_LE(1, purge_all(self->fd));
	ASSERT_EQ(0, unpin_pages(self->fd, 3, 1));
	EXPECT_EQ(ASHMEM_WAS_PURGED, pin_pages(self->fd, 2, 2));
	EXPECT_TRUE(pages_are_zero(self->map, 2, 1));
	EXPECT_TRUE(pages_hold(self->map, 3, 1, SEED));
}

/* Purging */

TEST_F(mapped, purge_all_caches_returns_purged_page_count)
{
	/* Purge whatever else is unpinned first. */
	ASSERT_LE(0, purge_all(self->fd));
	ASSERT_EQ(0, unpin_pages(self->fd, 1, 3));
	EXPECT_EQ(3, purge_all(self->fd));
}

TEST_F(mapped, purge_all_caches_without_unpinned_pages_returns_zero)
{
	ASSERT_LE(0, purge_all(self->fd));
	EXPECT_EQ(0, purge_all(self->fd));
	EXPECT_TRUE(pages_hold(self->map, 0, MAPPED_PAGES, SEED));
}

TEST_F(mapped, purge_all_caches_purges_every_region)
{
	unsigned char *other_map;
	int other;

	other_map = new_mapped_region(_metadata, 2 * self->pg, &other);
	fill_pages(other_map, 0, 2, SEED);
	ASSERT_EQ(0, unpin_pages(self->fd, 1, 1));
	ASSERT_EQ(0, unpin_pages(other, 0, 2));

	ASSERT_LE(3, purge_all(self->fd));
	EXPECT_EQ(ASHMEM_WAS_PURGED, pin_pages(self->fd, 1, 1));
	EXPECT_EQ(ASHMEM_WAS_PURGED, pin_pages(other, 0, 2));
	EXPECT_TRUE(pages_are_zero(other_map, 0, 2));
	munmap(other_map, 2 * self->pg);
	close(other);
}

TEST_F(mapped, purge_all_caches_needs_cap_sys_admin)
{
	pid_t pid;
	int code;

	ASSERT_EQ(0, unpin_pages(self->fd, 1, 1));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (drop_to_nobody())
			_exit(2);
		_exit(errno_of(purge_all(self->fd)) == EPERM ? 0 : 1);
	}
	code = wait_exit_code(pid);
	ASSERT_NE(2, code) TH_LOG("could not drop privileges");
	ASSERT_EQ(0, code) TH_LOG("no EPERM without CAP_SYS_ADMIN");
	EXPECT_EQ(ASHMEM_NOT_PURGED, pin_pages(self->fd, 1, 1));
	EXPECT_TRUE(pages_hold(self->map, 1, 1, SEED));
}

TEST_F(mapped, drop_caches_purges_unpinned_pages)
{
	int fd;

	ASSERT_EQ(0, unpin_pages(self->fd, 2, 2));
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("open drop_caches: %s", strerror(errno));
	ASSERT_EQ(2, write(fd, "2\n", 2));
	close(fd);

	EXPECT_EQ(ASHMEM_WAS_PURGED, pin_pages(self->fd, 2, 2));
	EXPECT_TRUE(pages_are_zero(self->map, 2, 2));
	EXPECT_TRUE(pages_hold(self->map, 0, 2, SEED));
	EXPECT_TRUE(pages_hold(self->map, 4, MAPPED_PAGES - 4, SEED));
}

/* fdinfo */

TEST_F(region, fdinfo_shows_name_size_and_prot_mask)
{
	char val[ASHMEM_NAME_LEN + 16], want[32];
	size_t size = 3 * self->pg + 5;

	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_NAME, "fdinfo region"));
	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_SIZE, size));
	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_PROT_MASK,
			   (unsigned long)(PROT_READ | PROT_WRITE)));

	ASSERT_EQ(0, fdinfo_get(self->fd, "ashmem_name", val, sizeof(val)));
	EXPECT_STREQ("fdinfo region", val);
	ASSERT_EQ(0, fdinfo_get(self->fd, "ashmem_size", val, sizeof(val)));
	snprintf(want, sizeof(want), "%zu", size);
	EXPECT_STREQ(want, val);
	ASSERT_EQ(0, fdinfo_get(self->fd, "ashmem_prot_mask", val,
				sizeof(val)));
	EXPECT_STREQ("0x3", val);
}

TEST_F(region, fdinfo_before_mmap_counts_every_page_pinned)
{
	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_SIZE, 3 * self->pg + 1));
	EXPECT_EQ(4, fdinfo_num(self->fd, "ashmem_pinned_pages"));
	EXPECT_EQ(0, fdinfo_num(self->fd, "ashmem_unpinned_pages"));
	EXPECT_EQ(0, fdinfo_num(self->fd, "ashmem_purged_pages"));
}

TEST_F(mapped, fdinfo_counts_unpinned_and_purged_pages)
{
	ASSERT_EQ(0, unpin_pages(self->fd, 1, 2));
	ASSERT_EQ(0, unpin_pages(self->fd, 5, 1));
	EXPECT_EQ(5, fdinfo_num(self->fd, "ashmem_pinned_pages"));
	EXPECT_EQ(3, fdinfo_num(self->fd, "ashmem_unpinned_pages"));
	EXPECT_EQ(0, fdinfo_num(self->fd, "ashmem_purged_pages"));

	ASSERT_LE(3, purge_all(self->fd));
	EXPECT_EQ(5, fdinfo_num(self->fd, "ashmem_pinned_pages"));
	EXPECT_EQ(3, fdinfo_num(self->fd, "ashmem_unpinned_pages"));
	EXPECT_EQ(3, fdinfo_num(self->fd, "ashmem_purged_pages"));

	ASSERT_EQ(ASHMEM_WAS_PURGED, pin_pages(self->fd, 1, 2));
	EXPECT_EQ(7, fdinfo_num(self->fd, "ashmem_pinned_pages"));
	EXPECT_EQ(1, fdinfo_num(self->fd, "ashmem_unpinned_pages"));
	EXPECT_EQ(1, fdinfo_num(self->fd, "ashmem_purged_pages"));
}

/* The keys Android's kernel prints: inode (once mapped), name, size. */
TEST_F(region, fdinfo_has_android_name_and_size)
{
	char val[ASHMEM_NAME_LEN + 16], want[32];
	size_t size = 3 * self->pg + 5;

	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_NAME, "fdinfo region"));
	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_SIZE, size));
	ASSERT_EQ(0, fdinfo_get(self->fd, "name", val, sizeof(val)));
	EXPECT_STREQ("fdinfo region", val);
	ASSERT_EQ(0, fdinfo_get(self->fd, "size", val, sizeof(val)));
	snprintf(want, sizeof(want), "%zu", size);
	EXPECT_STREQ(want, val);
	/* No backing file yet, so no inode. */
	EXPECT_EQ(-1, fdinfo_get(self->fd, "inode", val, sizeof(val)));
}

TEST_F(region, fdinfo_of_unnamed_region_has_no_name_key)
{
	char val[ASHMEM_NAME_LEN + 16];

	EXPECT_EQ(-1, fdinfo_get(self->fd, "name", val, sizeof(val)));
	EXPECT_EQ(0, fdinfo_num(self->fd, "size"));
	ASSERT_EQ(0, fdinfo_get(self->fd, "ashmem_name", val, sizeof(val)));
	EXPECT_STREQ("dev/ashmem", val);
}

TEST_F(mapped, fdinfo_inode_is_the_file_id)
{
	unsigned long id = 0;

	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_GET_FILE_ID, &id));
	EXPECT_EQ((long long)id, fdinfo_num(self->fd, "inode"));
	EXPECT_EQ((long long)self->size, fdinfo_num(self->fd, "size"));
}

TEST_F(region, fdinfo_name_is_escaped_like_ashmem_name)
{
	char val[4 * ASHMEM_NAME_LEN], esc[4 * ASHMEM_NAME_LEN];

	ASSERT_EQ(0, ioctl(self->fd, ASHMEM_SET_NAME, "two\nlines\\x"));
	ASSERT_EQ(0, fdinfo_get(self->fd, "name", val, sizeof(val)));
	ASSERT_EQ(0, fdinfo_get(self->fd, "ashmem_name", esc, sizeof(esc)));
	EXPECT_STREQ(esc, val);
	EXPECT_EQ(NULL, strchr(val, '\n'));
	EXPECT_STREQ("two\\nlines\\\\x", val);
}

/* Android's keys come first, in Android's order. */
TEST_F(mapped, fdinfo_android_keys_come_first_in_order)
{
	char path[64], buf[4096];
	ssize_t n;
	int info;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", self->fd);
	info = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, info);
	n = read(info, buf, sizeof(buf) - 1);
	close(info);
	ASSERT_LT(0, n);
	buf[n] = '\0';
	ASSERT_NE(NULL, strstr(buf, "\ninode:\t"));
	ASSERT_NE(NULL, strstr(buf, "\nsize:\t"));
	EXPECT_LT(strstr(buf, "\ninode:\t"), strstr(buf, "\nsize:\t"));
	EXPECT_LT(strstr(buf, "\nsize:\t"), strstr(buf, "\nashmem_name:\t"));
}

/* Closing */

TEST_F(mapped, close_with_unpinned_pages_leaves_nothing_to_purge)
{
	unsigned char *other_map;
	int other;

	other_map = new_mapped_region(_metadata, 4 * self->pg, &other);
	fill_pages(other_map, 0, 4, SEED);
	ASSERT_LE(0, purge_all(self->fd));
	ASSERT_EQ(0, unpin_pages(other, 0, 4));
	munmap(other_map, 4 * self->pg);
	close(other);
	EXPECT_EQ(0, purge_all(self->fd));
}

TEST_F(mapped, mapping_survives_close)
{
	close(self->fd);
	self->fd = -1;
	EXPECT_TRUE(pages_hold(self->map, 0, MAPPED_PAGES, SEED));
	fill_pages(self->map, 0, MAPPED_PAGES, SEED + 1);
	EXPECT_TRUE(pages_hold(self->map, 0, MAPPED_PAGES, SEED + 1));
}

TEST_F(mapped, mapping_survives_close_with_unpinned_pages)
{
	int probe = open_region(_metadata);
	size_t i;

	ASSERT_EQ(0, unpin_pages(self->fd, 0, 0));
	close(self->fd);
	self->fd = -1;
	ASSERT_LE(0, purge_all(probe));

	/* Each page was either purged whole or kept whole. */
	for (i = 0; i < MAPPED_PAGES; i++)
		EXPECT_TRUE(pages_hold(self->map, i, 1, SEED) ||
			    pages_are_zero(self->map, i, 1));
	fill_pages(self->map, 0, MAPPED_PAGES, SEED + 1);
	EXPECT_TRUE(pages_hold(self->map, 0, MAPPED_PAGES, SEED + 1));
	close(probe);
}

TEST_HARNESS_MAIN
