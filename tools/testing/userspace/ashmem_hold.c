// SPDX-License-Identifier: GPL-2.0
/*
 * ashmem_hold NAME SIZE UNPIN READY: a process that holds one region for
 * the tests of the ashmem tool. It creates the region with libashmem,
 * maps and fills it, unpins its first UNPIN bytes, writes its pid to the
 * file READY and then waits to be killed.
 *
 * ASHMEM_HOLD_COMM=NAME in the environment renames the process (its
 * comm, any bytes but NUL, 15 at most); ASHMEM_HOLD_PROT=N sets the
 * region's protection mask to N after mapping it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cutils/ashmem.h>

int main(int argc, char **argv)
{
	const char *comm = getenv("ASHMEM_HOLD_COMM");
	const char *prot = getenv("ASHMEM_HOLD_PROT");
	size_t size, unpin;
	FILE *ready;
	char *p;
	int fd;

	if (argc != 5) {
		fprintf(stderr, "usage: %s NAME SIZE UNPIN READY\n", argv[0]);
		return 2;
	}
	size = strtoul(argv[2], NULL, 0);
	unpin = strtoul(argv[3], NULL, 0);

	fd = ashmem_create_region(argv[1], size);
	if (fd < 0) {
		perror("ashmem_create_region");
		return 1;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	memset(p, 'h', size);
	if (unpin && ashmem_unpin_region(fd, 0, unpin) < 0) {
		perror("ashmem_unpin_region");
		return 1;
	}
	if (prot && ashmem_set_prot_region(fd, (int)strtol(prot, NULL, 0))) {
		perror("ashmem_set_prot_region");
		return 1;
	}
	if (comm && prctl(PR_SET_NAME, comm, 0, 0, 0)) {
		perror("PR_SET_NAME");
		return 1;
	}

	ready = fopen(argv[4], "w");
	if (!ready || fprintf(ready, "%d\n", getpid()) < 0 || fclose(ready)) {
		perror(argv[4]);
		return 1;
	}
	for (;;)
		pause();
}
