/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the ashmem selftests: opening regions, the pin ioctls,
 * page patterns and reading a region's fdinfo. Include it after
 * kselftest_harness.h, whose ASSERT and SKIP macros it uses.
 */
#ifndef ASHMEM_SELFTEST_COMMON_H
#define ASHMEM_SELFTEST_COMMON_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/ashmem.h>

#define ASHMEM_DEV		"/dev/ashmem"
#define ASHMEM_PROT_ALL		(PROT_READ | PROT_WRITE | PROT_EXEC)

static inline size_t page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

/* The errno of a failed system call, or 0 if @ret says it succeeded. */
static inline int errno_of(long ret)
{
	return ret == -1 ? errno : 0;
}

/* The errno of a failed mmap(), or 0 (and the mapping undone) on success. */
static inline int mmap_errno(size_t len, int prot, int flags, int fd,
			     off_t offset)
{
	void *p = mmap(NULL, len, prot, flags, fd, offset);

	if (p == MAP_FAILED)
		return errno;
	munmap(p, len);
	return 0;
}

/* Wait for child @pid: its exit code, or 128 + the signal that killed it. */
static inline int wait_exit_code(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

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

/* PIN, UNPIN or GET_PIN_STATUS of [@offset, @offset + @len) in bytes. */
static inline int pin_ioctl(int fd, unsigned long cmd, size_t offset,
			    size_t len)
{
	struct ashmem_pin pin = {
		.offset = (__u32)offset,
		.len = (__u32)len,
	};

	return ioctl(fd, cmd, &pin);
}

static inline int pin_pages(int fd, size_t first, size_t count)
{
	return pin_ioctl(fd, ASHMEM_PIN, first * page_size(),
			 count * page_size());
}

static inline int unpin_pages(int fd, size_t first, size_t count)
{
	return pin_ioctl(fd, ASHMEM_UNPIN, first * page_size(),
			 count * page_size());
}

static inline int pin_status(int fd, size_t first, size_t count)
{
	return pin_ioctl(fd, ASHMEM_GET_PIN_STATUS, first * page_size(),
			 count * page_size());
}

static inline int purge_all(int fd)
{
	return ioctl(fd, ASHMEM_PURGE_ALL_CACHES);
}

/* A byte that tells page @page of pattern @seed apart; never zero. */
static inline unsigned char pattern_byte(unsigned int seed, size_t page)
{
	return (unsigned char)((seed * 31 + page * 7) % 255 + 1);
}

static inline void fill_pages(unsigned char *map, size_t first, size_t count,
			      unsigned int seed)
{
	size_t pg = page_size();
	size_t i;

	for (i = first; i < first + count; i++)
		memset(map + i * pg, pattern_byte(seed, i), pg);
}

/* True if all @len bytes at @p equal @byte. */
static inline bool bytes_are(const unsigned char *p, unsigned char byte,
			     size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != byte)
			return false;
	return true;
}

/* True if pages [@first, @first + @count) still hold pattern @seed. */
static inline bool pages_hold(const unsigned char *map, size_t first,
			      size_t count, unsigned int seed)
{
	size_t pg = page_size();
	size_t i;

	for (i = first; i < first + count; i++)
		if (!bytes_are(map + i * pg, pattern_byte(seed, i), pg))
			return false;
	return true;
}

static inline bool pages_are_zero(const unsigned char *map, size_t first,
				  size_t count)
{
	return bytes_are(map + first * page_size(), 0, count * page_size());
}

/*
 * The number on line "@key N" of a file of such lines (debugfs's
 * ashmem/stats, a cgroup's memory.stat), or -1.
 */
static inline long long key_value(const char *path, const char *key)
{
	char name[64];
	long long value, found = -1;
	FILE *f = fopen(path, "re");

	if (!f)
		return -1;
	while (fscanf(f, "%63s %lld", name, &value) == 2) {
		if (!strcmp(name, key)) {
			found = value;
			break;
		}
	}
	fclose(f);
	return found;
}

/* Writes @text to a sysfs, procfs or cgroup file: 0, or -1 and errno. */
static inline int write_file(const char *path, const char *text)
{
	ssize_t len = strlen(text);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, len);
	close(fd);
	return n == len ? 0 : -1;
}

/*
 * Copy the value of line "@key:\t<value>" of /proc/self/fdinfo/@fd into
 * @val (without the newline). Returns 0, or -1 if the line is missing.
 */
static inline int fdinfo_get(int fd, const char *key, char *val, size_t len)
{
	char path[64], buf[4096], *line, *end;
	size_t klen = strlen(key);
	ssize_t n;
	int info;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	info = open(path, O_RDONLY | O_CLOEXEC);
	if (info < 0)
		return -1;
	n = read(info, buf, sizeof(buf) - 1);
	close(info);
	if (n <= 0)
		return -1;
	buf[n] = '\0';

	for (line = buf; line; line = end ? end + 1 : NULL) {
		end = strchr(line, '\n');
		if (strncmp(line, key, klen) || line[klen] != ':' ||
		    line[klen + 1] != '\t')
			continue;
		line += klen + 2;
		if (!end)
			end = line + strlen(line);
		if ((size_t)(end - line) >= len)
			return -1;
		memcpy(val, line, end - line);
		val[end - line] = '\0';
		return 0;
	}
	return -1;
}

/* The number on fdinfo line @key, or -1 if it is missing or not a number. */
static inline long long fdinfo_num(int fd, const char *key)
{
	char val[64], *end;
	long long num;

	if (fdinfo_get(fd, key, val, sizeof(val)))
		return -1;
	errno = 0;
	num = strtoll(val, &end, 0);
	if (errno || end == val || *end)
		return -1;
	return num;
}

/* A monotonic clock in milliseconds. */
static inline long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
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

#endif /* ASHMEM_SELFTEST_COMMON_H */
