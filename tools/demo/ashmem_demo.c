// SPDX-License-Identifier: GPL-2.0
/*
 * A guided tour of /dev/ashmem, run by `make run` inside a VM: create a
 * named region, share it with a child, look at it in /proc, unpin and
 * purge part of it, then restrict its protection. Every step says what it
 * does and what happened; anything unexpected ends the demo with status 1.
 *
 * Built static with -I uapi by tools/testing/vm/run-demo.sh. Needs root
 * (for ASHMEM_PURGE_ALL_CACHES) and the ashmem module loaded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdnoreturn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/ashmem.h>

#include "ashmem_util.h"

#define REGION_NAME	"demo-region"
#define PARENT_MSG	"hello from the parent"
#define CHILD_MSG	"hello back from the child"
#define REPLY_OFFSET	256

static long page;

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static noreturn void fail(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("ashmem_demo: UNEXPECTED: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/*
 * Print the lines of FILE that contain NEEDLE, or all its lines if ALL;
 * return how many contain NEEDLE.
 */
static int show_lines(const char *file, const char *needle, int all)
{
	char line[512];
	int found = 0;
	FILE *f;

	f = fopen(file, "r");
	if (!f)
		fail("open %s: %s", file, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, needle))
			found++;
		else if (!all)
			continue;
		printf("    %s", line);
	}
	fclose(f);
	fflush(stdout);
	return found;
}

static void child_reads_and_replies(int fd, size_t size)
{
	char *map;

	/* Its own mapping of the same region, not the one it inherited. */
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		perror("child: mmap");
		_exit(1);
	}
	say("  child %d: mapped the region again at %p", getpid(), map);
	say("  child %d: reads \"%s\"", getpid(), map);
	if (strcmp(map, PARENT_MSG))
		_exit(2);
	memcpy(map + REPLY_OFFSET, CHILD_MSG, sizeof(CHILD_MSG));
	say("  child %d: wrote \"%s\" at offset %d", getpid(), CHILD_MSG,
	    REPLY_OFFSET);
	munmap(map, size);
	_exit(0);
}

static void share_with_child(int fd, char *map, size_t size)
{
	int status;
	pid_t pid;

	say("fork a child; it maps the region itself and replies");
	pid = fork();
	if (pid < 0)
		fail("fork: %s", strerror(errno));
	if (pid == 0)
		child_reads_and_replies(fd, size);
	if (waitpid(pid, &status, 0) != pid)
		fail("waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail("the child failed (wait status %#x)", status);
	if (strcmp(map + REPLY_OFFSET, CHILD_MSG))
		fail("the parent does not see the child's reply");
	say("parent reads the reply through its own mapping: \"%s\"",
	    map + REPLY_OFFSET);
}

static void show_proc(int fd)
{
	char path[64];

	say("/proc/self/maps names the mapping after the region:");
	if (!show_lines("/proc/self/maps", "/dev/ashmem/" REGION_NAME, 0))
		fail("no /dev/ashmem/%s line in /proc/self/maps", REGION_NAME);

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	say("%s shows the region's state:", path);
	if (!show_lines(path, "ashmem", 1))
		fail("%s has no ashmem lines", path);
}

static void unpin_and_purge(int fd, char *map, size_t size)
{
	size_t off;
	int ret;

	say("unpin pages 1 to the end (offset %ld, len 0 = to the end)", page);
	if (pin_ioctl(fd, ASHMEM_UNPIN, page, 0) < 0)
		fail("ASHMEM_UNPIN: %s", strerror(errno));

	ret = pin_ioctl(fd, ASHMEM_GET_PIN_STATUS, page, 0);
	say("GET_PIN_STATUS pages 1-end: %d (%s)", ret,
	    ret == ASHMEM_IS_UNPINNED ? "ASHMEM_IS_UNPINNED" : "?");
	if (ret != ASHMEM_IS_UNPINNED)
		fail("expected ASHMEM_IS_UNPINNED");
	ret = pin_ioctl(fd, ASHMEM_GET_PIN_STATUS, 0, page);
	say("GET_PIN_STATUS page 0:      %d (%s)", ret,
	    ret == ASHMEM_IS_PINNED ? "ASHMEM_IS_PINNED" : "?");
	if (ret != ASHMEM_IS_PINNED)
		fail("expected ASHMEM_IS_PINNED");

	ret = ioctl(fd, ASHMEM_PURGE_ALL_CACHES);
	if (ret < 0)
		fail("ASHMEM_PURGE_ALL_CACHES: %s", strerror(errno));
	say("PURGE_ALL_CACHES (as root): the kernel dropped unpinned pages (returned %d)",
	    ret);

	ret = pin_ioctl(fd, ASHMEM_PIN, page, 0);
	say("pin pages 1-end again: %d (%s)", ret,
	    ret == ASHMEM_WAS_PURGED ? "ASHMEM_WAS_PURGED" :
	    ret == ASHMEM_NOT_PURGED ? "ASHMEM_NOT_PURGED" : "?");
	if (ret != ASHMEM_WAS_PURGED)
		fail("expected ASHMEM_WAS_PURGED");

	for (off = page; off < size; off++)
		if (map[off])
			fail("byte %zu of a purged page is %#x, not 0", off,
			     map[off]);
	say("pages 1-4 were purged and now read as zeros");
	if (strcmp(map, PARENT_MSG))
		fail("page 0 lost its data");
	say("page 0 was pinned and kept its data: \"%s\"", map);
}

static void restrict_prot(int fd, size_t size)
{
	void *p;
	int ret;

	if (ioctl(fd, ASHMEM_SET_PROT_MASK, (unsigned long)PROT_READ) < 0)
		fail("ASHMEM_SET_PROT_MASK: %s", strerror(errno));
	ret = ioctl(fd, ASHMEM_GET_PROT_MASK);
	say("SET_PROT_MASK PROT_READ; GET_PROT_MASK now says %#x", ret);
	if (ret != PROT_READ)
		fail("expected PROT_READ (%#x)", PROT_READ);

	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p != MAP_FAILED)
		fail("a PROT_WRITE mmap succeeded despite the mask");
	if (errno != EPERM)
		fail("a PROT_WRITE mmap failed with %s, not EPERM",
		     strerror(errno));
	say("a new PROT_WRITE mmap is refused: EPERM (%s)", strerror(errno));

	p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		fail("a PROT_READ mmap failed: %s", strerror(errno));
	say("a PROT_READ mmap still works and reads \"%s\"", (char *)p);
	munmap(p, size);
}

int main(void)
{
	char name[ASHMEM_NAME_LEN] = REGION_NAME;
	size_t size;
	char *map;
	int fd;
	long ret;

	page = sysconf(_SC_PAGESIZE);
	size = 4 * page + 100;
	say("ashmem demo (page size %ld)", page);

	fd = open("/dev/ashmem", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		fail("open /dev/ashmem: %s", strerror(errno));
	say("opened /dev/ashmem: fd %d is a new, empty region", fd);

	if (ioctl(fd, ASHMEM_SET_NAME, name) < 0)
		fail("ASHMEM_SET_NAME: %s", strerror(errno));
	memset(name, 0, sizeof(name));
	if (ioctl(fd, ASHMEM_GET_NAME, name) < 0)
		fail("ASHMEM_GET_NAME: %s", strerror(errno));
	say("SET_NAME \"%s\"; GET_NAME reads back \"%s\"", REGION_NAME, name);
	if (strcmp(name, REGION_NAME))
		fail("GET_NAME returned \"%s\"", name);

	if (ioctl(fd, ASHMEM_SET_SIZE, size) < 0)
		fail("ASHMEM_SET_SIZE: %s", strerror(errno));
	ret = ioctl(fd, ASHMEM_GET_SIZE);
	say("SET_SIZE %zu (4 pages + 100 bytes); GET_SIZE says %ld", size, ret);
	if (ret != (long)size)
		fail("GET_SIZE returned %ld", ret);

	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		fail("mmap: %s", strerror(errno));
	say("mmap read/write, shared: %p", map);
	memcpy(map, PARENT_MSG, sizeof(PARENT_MSG));
	memset(map + page, 0xa5, size - page);
	say("wrote \"%s\" to page 0 and filled pages 1-4 with 0xa5",
	    PARENT_MSG);

	share_with_child(fd, map, size);
	show_proc(fd);
	unpin_and_purge(fd, map, size);
	restrict_prot(fd, size);

	munmap(map, size);
	close(fd);
	say("demo finished: everything behaved as expected");
	return 0;
}
