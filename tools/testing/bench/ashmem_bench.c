// SPDX-License-Identifier: GPL-2.0
/*
 * ashmem_bench: measures ashmem against itself and against memfd in one
 * run and prints ratios, which mean something even under emulation where
 * absolute times do not. Runs inside the VM (make bench); needs root for
 * PURGE_ALL_CACHES.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/ashmem.h>

#include "ashmem_util.h"

#define REPS		7	/* each timing is the median of this many */
#define PURGE_REPS	3	/* purges touch up to 256 MiB each */
#define SCALE_REPS	5	/* one second each, 1 and 2 threads */
#define MANY_RANGES	65536

static size_t pg;	/* the page size */

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static int ashmem_region(size_t size)
{
	int fd = open("/dev/ashmem", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		die("open /dev/ashmem");
	if (ioctl(fd, ASHMEM_SET_SIZE, size) < 0)
		die("ASHMEM_SET_SIZE");
	return fd;
}

static int memfd_region(size_t size)
{
	int fd = memfd_create("bench", MFD_CLOEXEC);

	if (fd < 0)
		die("memfd_create");
	if (ftruncate(fd, size) < 0)
		die("ftruncate");
	return fd;
}

static char *map(int fd, size_t size)
{
	char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		die("mmap");
	return p;
}

static void range_ioctl(int fd, unsigned long cmd, size_t page, size_t pages)
{
	if (pin_ioctl(fd, cmd, page * pg, pages * pg) < 0)
		die("ASHMEM range ioctl");
}

/* Seconds per page to fault in a fresh mapping of @pages, write faults. */
static double fault_cost(bool ashmem, size_t pages)
{
	size_t size = pages * pg;
	int fd = ashmem ? ashmem_region(size) : memfd_region(size);
	char *p = map(fd, size);
	double t;
	size_t i;

	t = now();
	for (i = 0; i < pages; i++)
		p[i * pg] = 1;
	t = now() - t;
	munmap(p, size);
	close(fd);
	return t / pages;
}

/* The steps of a region's life, timed one by one. */
enum { CREATE, MAP, TOUCH, UNMAP, CLOSE, STEPS };

static const char *const step_names[STEPS] = {
	[CREATE]	= "  open and size",
	[MAP]		= "  mmap (ashmem makes its shmem file)",
	[TOUCH]		= "  first touch",
	[UNMAP]		= "  munmap",
	[CLOSE]		= "  close (ashmem: two files go)",
};

/*
 * Seconds per create, size, map, touch, unmap and close of one region,
 * in @step the seconds per step of it.
 */
static double lifecycle_cost(bool ashmem, int rounds, double step[STEPS])
{
	size_t size = 4 * pg;
	double total = 0;
	int i, k;

	for (k = 0; k < STEPS; k++)
		step[k] = 0;
	for (i = 0; i < rounds; i++) {
		double mark[STEPS + 1];
		int fd;
		char *p;

		mark[CREATE] = now();
		fd = ashmem ? ashmem_region(size) : memfd_region(size);
		mark[MAP] = now();
		p = map(fd, size);
		mark[TOUCH] = now();
		p[0] = 1;
		mark[UNMAP] = now();
		munmap(p, size);
		mark[CLOSE] = now();
		close(fd);
		mark[STEPS] = now();
		for (k = 0; k < STEPS; k++)
			step[k] += mark[k + 1] - mark[k];
	}
	for (k = 0; k < STEPS; k++) {
		step[k] /= rounds;
		total += step[k];
	}
	return total;
}

/*
 * A region with @ranges unpinned single pages (every other page), plus
 * room after them for the page the timings work on.
 */
static int region_with_ranges(size_t ranges, size_t *test_page, char **map_out,
			      size_t *size_out)
{
	size_t pages = 2 * MANY_RANGES + 8;
	size_t size = pages * pg;
	int fd = ashmem_region(size);
	size_t i;

	*map_out = map(fd, size);
	*size_out = size;
	for (i = 0; i < ranges; i++)
		range_ioctl(fd, ASHMEM_UNPIN, 2 * i + 1, 1);
	*test_page = 2 * MANY_RANGES + 4;
	return fd;
}

struct range_costs {
	double unpin_pin[REPS];
	double status[REPS];
};

/* One round of timings on a region made by region_with_ranges(). */
static void time_ranges(int fd, size_t test_page, int rounds,
			struct range_costs *c, int rep)
{
	double t = now();
	int i;

	for (i = 0; i < rounds; i++) {
		range_ioctl(fd, ASHMEM_UNPIN, test_page, 1);
		range_ioctl(fd, ASHMEM_PIN, test_page, 1);
	}
	c->unpin_pin[rep] = (now() - t) / rounds;

	/* A pinned page in the middle of the unpinned ones. */
	t = now();
	for (i = 0; i < rounds; i++)
		range_ioctl(fd, ASHMEM_GET_PIN_STATUS, MANY_RANGES, 1);
	c->status[rep] = (now() - t) / rounds;
}

/* Pin, unpin and status with one unpinned range and with MANY_RANGES. */
static void range_costs(int rounds, struct range_costs *one,
			struct range_costs *many)
{
	size_t test_page, size_one, size_many;
	char *p_one, *p_many;
	int fd_one, fd_many, r;

	fd_one = region_with_ranges(1, &test_page, &p_one, &size_one);
	fd_many = region_with_ranges(MANY_RANGES, &test_page, &p_many,
				     &size_many);
	for (r = 0; r < REPS; r++) {	/* interleaved, so drift hits both */
		time_ranges(fd_one, test_page, rounds, one, r);
		time_ranges(fd_many, test_page, rounds, many, r);
	}
	munmap(p_one, size_one);
	close(fd_one);
	munmap(p_many, size_many);
	close(fd_many);
}

/*
 * Seconds per range for PURGE_ALL_CACHES over @ranges one-page ranges,
 * their pages written first if @touch.
 */
static double purge_cost(size_t ranges, bool touch)
{
	double costs[PURGE_REPS];
	size_t size = 2 * ranges * pg;
	int r;

	for (r = 0; r < PURGE_REPS; r++) {
		int fd = ashmem_region(size);
		char *p = map(fd, size);
		double t;
		size_t i;

		for (i = 0; i < ranges; i++) {
			if (touch)
				p[(2 * i + 1) * pg] = 1;
			range_ioctl(fd, ASHMEM_UNPIN, 2 * i + 1, 1);
		}
		t = now();
		if (ioctl(fd, ASHMEM_PURGE_ALL_CACHES) < 0)
			die("ASHMEM_PURGE_ALL_CACHES");
		costs[r] = (now() - t) / ranges;
		munmap(p, size);
		close(fd);
	}
	return median(costs, PURGE_REPS);
}

struct worker {
	pthread_t thread;
	double seconds;
	bool control;		/* GET_SIZE only: shares nothing in ashmem */
	unsigned long ops;
};

static void *unpin_pin_worker(void *arg)
{
	struct worker *w = arg;
	size_t size = 64 * pg;
	int fd = ashmem_region(size);
	char *p = map(fd, size);
	double end = now() + w->seconds;
	unsigned long ops = 0;

	while (now() < end) {
		size_t page = ops % 64;

		if (w->control) {
			/* Two syscalls, as an unpin+pin pair makes. */
			if (ioctl(fd, ASHMEM_GET_SIZE) < 0 ||
			    ioctl(fd, ASHMEM_GET_SIZE) < 0)
				die("ASHMEM_GET_SIZE");
		} else {
			range_ioctl(fd, ASHMEM_UNPIN, page, 1);
			range_ioctl(fd, ASHMEM_PIN, page, 1);
		}
		ops++;
	}
	w->ops = ops;
	munmap(p, size);
	close(fd);
	return NULL;
}

/*
 * unpin+pin pairs per second, @threads threads on a region each; with
 * @control, pairs of GET_SIZE instead: how far the machine itself lets
 * two threads scale.
 */
static double unpin_pin_rate(int threads, double seconds, bool control)
{
	struct worker w[2];
	unsigned long ops = 0;
	int i;

	for (i = 0; i < threads; i++) {
		w[i].seconds = seconds;
		w[i].control = control;
		if (pthread_create(&w[i].thread, NULL, unpin_pin_worker, &w[i]))
			die("pthread_create");
	}
	for (i = 0; i < threads; i++) {
		pthread_join(w[i].thread, NULL);
		ops += w[i].ops;
	}
	return ops / seconds;
}

#define MIB		(1024UL * 1024)
#define CGROUP		"/sys/fs/cgroup/ashmem-bench"

static void write_text(const char *path, const char *text)
{
	if (write_file(path, text))
		die(path);
}

struct reclaim_result {
	double seconds;		/* writing the anonymous memory */
	double swapped_kib;	/* written to swap meanwhile */
};

/*
 * In a cgroup whose memory.max is 96 MiB: 64 MiB of ashmem written and
 * unpinned (with @unpinned; else nothing), then 64 MiB of anonymous
 * memory written, which reclaim must get back from the region. Times the
 * anonymous writes, in a child that enters the cgroup.
 */
static struct reclaim_result reclaim_cost(bool unpinned)
{
	struct reclaim_result res;
	int report[2], status;
	long long swapped;
	pid_t pid;

	mkdir(CGROUP, 0755);
	write_text("/sys/fs/cgroup/cgroup.subtree_control", "+memory");
	write_text(CGROUP "/memory.max", "100663296");
	if (pipe(report))
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		char self[32], *region, *anon;
		double t0;
		int fd;

		snprintf(self, sizeof(self), "%d", getpid());
		write_text(CGROUP "/cgroup.procs", self);
		if (unpinned) {
			fd = ashmem_region(64 * MIB);
			region = map(fd, 64 * MIB);
			memset(region, 1, 64 * MIB);
			range_ioctl(fd, ASHMEM_UNPIN, 0, 0);
		}
		swapped = key_value("/proc/vmstat", "pswpout");
		anon = mmap(NULL, 64 * MIB, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (anon == MAP_FAILED)
			die("mmap");
		t0 = now();
		memset(anon, 2, 64 * MIB);
		res.seconds = now() - t0;
		res.swapped_kib = (key_value("/proc/vmstat", "pswpout") - swapped) *
				  (pg / 1024.0);
		if (write(report[1], &res, sizeof(res)) != sizeof(res))
			die("write");
		_exit(0);
	}
	if (read(report[0], &res, sizeof(res)) != sizeof(res))
		die("the reclaim child ended without a report");
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		die("the reclaim child");
	close(report[0]);
	close(report[1]);
	rmdir(CGROUP);
	return res;
}

static void row(const char *what, double ours, const char *ours_unit,
		double base, const char *base_what, double ratio,
		const char *target)
{
	printf("| %-44s | %10.2f %-4s | %10.2f %-4s %-12s | %7.2f | %-8s |\n",
	       what, ours, ours_unit, base, ours_unit, base_what, ratio,
	       target);
}

static void print_header(void)
{
	printf("| %-44s | %15s | %28s | %7s | %-8s |\n", "measure", "ashmem",
	       "baseline", "ratio", "target");
	printf("|%s|%s|%s|%s|%s|\n", "----------------------------------------------",
	       "-----------------", "------------------------------",
	       "---------", "----------");
}

/* The reclaim rows: 64 MiB back at memory.max, and the swap meanwhile. */
static void reclaim_rows(void)
{
	double a[REPS], m[REPS], swapped[REPS];
	struct reclaim_result rr;
	int r;

	for (r = 0; r < REPS; r++) {	/* interleaved, so drift hits both */
		rr = reclaim_cost(true);
		a[r] = rr.seconds;
		swapped[r] = rr.swapped_kib;
		m[r] = reclaim_cost(false).seconds;
	}
	row("64 MiB back from unpinned at memory.max", median(a, REPS) * 1e3,
	    "ms", median(m, REPS) * 1e3, "(no pressure)",
	    median(a, REPS) / median(m, REPS), "report");
	row("  swap written meanwhile (median)", median(swapped, REPS),
	    "KiB", 4096, "(4 MiB)", median(swapped, REPS) / 4096, "<= 1.0");
}

/* With "reclaim", only the reclaim rows (to compare two modules fast). */
int main(int argc, char **argv)
{
	double a[REPS], m[REPS];
	struct range_costs one, many;
	double steps_a[REPS][STEPS], steps_m[REPS][STEPS];
	double fa, fm, la, lm, p1k, p64k, e1k, e64k, r1, r2, c1, c2;
	int k;
	int r;

	pg = page_size();
	if (argc > 1 && !strcmp(argv[1], "reclaim")) {
		print_header();
		reclaim_rows();
		return 0;
	}

	for (r = 0; r < REPS; r++) {	/* interleaved, so drift hits both */
		a[r] = fault_cost(true, 4096);
		m[r] = fault_cost(false, 4096);
	}
	fa = median(a, REPS);
	fm = median(m, REPS);

	for (r = 0; r < REPS; r++) {
		a[r] = lifecycle_cost(true, 200, steps_a[r]);
		m[r] = lifecycle_cost(false, 200, steps_m[r]);
	}
	la = median(a, REPS);
	lm = median(m, REPS);

	range_costs(2000, &one, &many);

	p1k = purge_cost(1024, true);
	p64k = purge_cost(MANY_RANGES, true);
	e1k = purge_cost(1024, false);
	e64k = purge_cost(MANY_RANGES, false);

	for (r = 0; r < SCALE_REPS; r++) {	/* interleaved, as above */
		a[r] = unpin_pin_rate(1, 1.0, false);
		m[r] = unpin_pin_rate(2, 1.0, false);
	}
	r1 = median(a, SCALE_REPS);
	r2 = median(m, SCALE_REPS);
	for (r = 0; r < SCALE_REPS; r++) {
		a[r] = unpin_pin_rate(1, 1.0, true);
		m[r] = unpin_pin_rate(2, 1.0, true);
	}
	c1 = median(a, SCALE_REPS);
	c2 = median(m, SCALE_REPS);

	print_header();
	row("first-touch fault, per page", fa * 1e6, "us", fm * 1e6,
	    "(memfd)", fa / fm, "<= 1.05");
	row("open+size+mmap+touch+munmap+close", la * 1e6, "us", lm * 1e6,
	    "(memfd)", la / lm, "<= 1.10");
	for (k = 0; k < STEPS; k++) {
		for (r = 0; r < REPS; r++) {
			a[r] = steps_a[r][k];
			m[r] = steps_m[r][k];
		}
		fa = median(a, REPS);
		fm = median(m, REPS);
		row(step_names[k], fa * 1e6, "us", fm * 1e6, "(memfd)",
		    fa / fm, "report");
	}
	fa = median(many.unpin_pin, REPS);
	fm = median(one.unpin_pin, REPS);
	row("unpin+pin, 65536 ranges vs 1", fa * 1e6, "us", fm * 1e6,
	    "(1 range)", fa / fm, "<= 2.0");
	fa = median(many.status, REPS);
	fm = median(one.status, REPS);
	row("GET_PIN_STATUS, 65536 ranges vs 1", fa * 1e6, "us", fm * 1e6,
	    "(1 range)", fa / fm, "<= 2.0");
	row("PURGE_ALL_CACHES per range, 64k vs 1k", p64k * 1e6, "us",
	    p1k * 1e6, "(1k ranges)", p64k / p1k, "report");
	row("  the same, pages never touched", e64k * 1e6, "us", e1k * 1e6,
	    "(1k ranges)", e64k / e1k, "report");
	row("unpin+pin/s, 2 threads on 2 regions vs 1", r2 / 1e3, "k/s",
	    r1 / 1e3, "(1 thread)", r2 / r1, ">= 1.8");
	row("  control: GET_SIZE pairs/s, 2 threads vs 1", c2 / 1e3, "k/s",
	    c1 / 1e3, "(1 thread)", c2 / c1, "report");
	reclaim_rows();
	return 0;
}
