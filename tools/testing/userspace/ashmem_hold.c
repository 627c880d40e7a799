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
 *
 * ASHMEM_HOLD_HIDE says where the region's descriptor lives, where
 * /proc/PID/fd does not show it:
 *   leader-exit    the main thread exits (pthread_exit()) once the region
 *                  exists; a second thread keeps the process, and so
 *                  the region, alive. /proc/PID/fd of the zombie leader
 *                  lists nothing.
 *   thread-files   a second thread unshares its descriptor table
 *                  (unshare(CLONE_FILES)) and creates the region there;
 *                  the main thread's table, /proc/PID/fd, never has it.
 * READY is written once the region is where it should be.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cutils/ashmem.h>

static char **args;
static pid_t leader;

static int write_ready(const char *path)
{
	FILE *ready = fopen(path, "w");

	if (!ready || fprintf(ready, "%d\n", getpid()) < 0 || fclose(ready)) {
		perror(path);
		return -1;
	}
	return 0;
}

static int hold(void);

/* leader-exit: waits for the main thread to be a zombie, then READY. */
static void *wait_for_leader(void *arg)
{
	char path[64], buf[512], *state;
	int i;
	FILE *f;

	(void)arg;
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)leader);
	for (i = 0; i < 1000; i++) {
		f = fopen(path, "re");
		if (f) {
			state = fgets(buf, sizeof(buf), f) ?
				strrchr(buf, ')') : NULL;
			fclose(f);
			if (state && state[1] && state[2] == 'Z')
				break;
		}
		usleep(10000);
	}
	if (write_ready(args[4]))
		exit(1);
	for (;;)
		pause();
}

/* thread-files: the region in a descriptor table of the thread's own. */
static void *hold_in_own_table(void *arg)
{
	(void)arg;
	if (unshare(CLONE_FILES)) {
		perror("unshare(CLONE_FILES)");
		exit(1);
	}
	exit(hold());
}

int main(int argc, char **argv)
{
	const char *hide = getenv("ASHMEM_HOLD_HIDE");
	pthread_t t;

	if (argc != 5) {
		fprintf(stderr, "usage: %s NAME SIZE UNPIN READY\n", argv[0]);
		return 2;
	}
	args = argv;
	leader = getpid();
	if (hide && !strcmp(hide, "thread-files")) {
		if (pthread_create(&t, NULL, hold_in_own_table, NULL)) {
			fputs("pthread_create failed\n", stderr);
			return 1;
		}
		for (;;)
			pause();
	}
	return hold();
}

static int hold(void)
{
	const char *comm = getenv("ASHMEM_HOLD_COMM");
	const char *prot = getenv("ASHMEM_HOLD_PROT");
	const char *hide = getenv("ASHMEM_HOLD_HIDE");
	char **argv = args;
	size_t size, unpin;
	pthread_t t;
	char *p;
	int fd;

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

	if (hide && !strcmp(hide, "leader-exit")) {
		if (pthread_create(&t, NULL, wait_for_leader, NULL)) {
			fputs("pthread_create failed\n", stderr);
			return 1;
		}
		pthread_exit(NULL);
	}
	if (write_ready(argv[4]))
		return 1;
	for (;;)
		pause();
}
