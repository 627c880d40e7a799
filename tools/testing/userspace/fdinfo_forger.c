// SPDX-License-Identifier: GPL-2.0
/*
 * fdinfo_forger READY: a process holding no ashmem descriptor whose
 * fdinfo nevertheless carries the lines of a 1 TiB ashmem region, for the
 * test that `ashmem list` believes the device only.
 *
 * io_uring's fdinfo prints the names of its registered files. Two sets
 * are registered, made in a fresh directory under /tmp:
 *
 *   - files named "\nashmem_size:1099511627776" and so on: kernels that
 *     print a file's short name as it is put each key at a line start;
 *   - files named "ashmem_size:1099511627776" and so on at the end of a
 *     path long enough that the name starts 1087 bytes into its line,
 *     where a reader taking lines in pieces of that size starts a new one.
 *
 * The files are made and opened as root; the process then becomes nobody
 * (uid and gid 65534) before it sets up the ring, writes its pid to READY
 * and waits to be killed. Its own fdinfo goes to standard output, to show
 * what the kernel prints.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/io_uring.h>

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define NOBODY			65534
/* Where a reader of fixed 1088-byte pieces starts a new "line". */
#define PIECE			1087
/* "%5u: ", before each registered file's name. */
#define LINE_PREFIX		7

static const char *const keys[] = {
	"ashmem_name:forged",
	"ashmem_size:1099511627776",
	"ashmem_prot_mask:7",
	"ashmem_pinned_pages:0",
	"ashmem_unpinned_pages:0",
	"ashmem_purged_pages:0",
};

static int open_new(const char *path)
{
	int fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0)
		perror(path);
	return fd;
}

int main(int argc, char **argv)
{
	char top[] = "/tmp/forger.XXXXXX", deep[PIECE + 64], path[PIECE + 128];
	int fds[2 * ARRAY_SIZE(keys)], ring;
	struct io_uring_params params;
	size_t i, n = 0, len;
	FILE *ready, *info;
	char line[4096];

	if (argc != 2) {
		fprintf(stderr, "usage: %s READY\n", argv[0]);
		return 2;
	}
	if (!mkdtemp(top)) {
		perror("mkdtemp");
		return 1;
	}

	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		snprintf(path, sizeof(path), "%s/\n%s", top, keys[i]);
		fds[n] = open_new(path);
		if (fds[n++] < 0)
			return 1;
	}

	/* A directory whose path, after the line prefix and a slash, ends
	 * where a piece does: components of at most 200 bytes.
	 */
	snprintf(deep, sizeof(deep), "%s", top);
	while ((len = strlen(deep)) < PIECE - LINE_PREFIX - 1) {
		size_t add = PIECE - LINE_PREFIX - 1 - len - 1;

		if (add > 200)
			add = 200;
		if (add == 0)
			add = 1;
		deep[len] = '/';
		memset(deep + len + 1, 'd', add);
		deep[len + 1 + add] = '\0';
		if (mkdir(deep, 0755) && errno != EEXIST) {
			perror("mkdir");
			return 1;
		}
	}
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		snprintf(path, sizeof(path), "%s/%s", deep, keys[i]);
		fds[n] = open_new(path);
		if (fds[n++] < 0)
			return 1;
	}

	ready = fopen(argv[1], "w");
	if (!ready) {
		perror(argv[1]);
		return 1;
	}
	if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY)) {
		perror("becoming nobody");
		return 1;
	}

	memset(&params, 0, sizeof(params));
	ring = syscall(__NR_io_uring_setup, 4, &params);
	if (ring < 0) {
		perror("io_uring_setup");
		return 1;
	}
	if (syscall(__NR_io_uring_register, ring, IORING_REGISTER_FILES, fds,
		    (unsigned int)n) < 0) {
		perror("IORING_REGISTER_FILES");
		return 1;
	}
	for (i = 0; i < n; i++)
		close(fds[i]);

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", ring);
	info = fopen(path, "re");
	while (info && fgets(line, sizeof(line), info))
		fputs(line, stdout);
	if (info)
		fclose(info);
	fflush(stdout);

	if (fprintf(ready, "%d\n", getpid()) < 0 || fclose(ready)) {
		perror(argv[1]);
		return 1;
	}
	for (;;)
		pause();
}
