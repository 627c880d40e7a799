// SPDX-License-Identifier: GPL-2.0
/*
 * ashmem: look at the ashmem regions of a running system.
 *
 *   ashmem list [--json]   every region of every process, from
 *                          /proc/PID/fdinfo, with totals
 *   ashmem purge           purge all unpinned pages (needs CAP_SYS_ADMIN)
 *   ashmem stats           the module's statistics from debugfs
 *
 * A descriptor is an ashmem region if its fdinfo has the module's keys
 * (ashmem_name:, ashmem_size: and the page counts). Other users' processes
 * are only readable by root; they are skipped otherwise.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/ashmem.h>

#define PROC			"/proc"
#define ASHMEM_DEVICE		"/dev/ashmem"
#define STATS_FILE		"/sys/kernel/debug/ashmem/stats"
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define BOOT_ID_FILE		"/proc/sys/kernel/random/boot_id"

static const char *progname = "ashmem";

struct region {
	int pid;
	int fd;
	char comm[64];
	char name[ASHMEM_NAME_LEN];
	unsigned long long size;
	unsigned long long prot_mask;
	unsigned long long pinned;
	unsigned long long unpinned;
	unsigned long long purged;
	bool has_file_id;		/* only once the region was mapped */
	unsigned long long file_id;
};

struct region_list {
	struct region *v;
	size_t nr;
	size_t alloc;
	unsigned int unreadable;	/* processes we may not look into */
};

static void print_usage(FILE *out)
{
	fprintf(out,
		"usage: %s list [--json]   list every region of every process\n"
		"       %s purge           purge all unpinned pages (root)\n"
		"       %s stats           show the module's statistics\n",
		progname, progname, progname);
}

/* ---- Reading fdinfo ----------------------------------------------------- */

/* Undoes the kernel's seq_escape(): "\ooo" is one byte in octal. */
static void unescape(char *dst, size_t size, const char *src)
{
	size_t n = 0;

	while (*src && n + 1 < size) {
		if (src[0] == '\\' && src[1] >= '0' && src[1] <= '3' &&
		    src[2] >= '0' && src[2] <= '7' &&
		    src[3] >= '0' && src[3] <= '7') {
			dst[n++] = (char)((src[1] - '0') << 6 |
					  (src[2] - '0') << 3 | (src[3] - '0'));
			src += 4;
		} else {
			dst[n++] = *src++;
		}
	}
	dst[n] = '\0';
}

static bool parse_ull(const char *s, int base, unsigned long long *val)
{
	char *end;

	errno = 0;
	*val = strtoull(s, &end, base);
	return !errno && end != s && (*end == '\0' || *end == '\n');
}

/* The keys of a region's fdinfo; all but ashmem_file_id are always there. */
enum {
	KEY_NAME	= 1 << 0,
	KEY_SIZE	= 1 << 1,
	KEY_PROT	= 1 << 2,
	KEY_PINNED	= 1 << 3,
	KEY_UNPINNED	= 1 << 4,
	KEY_PURGED	= 1 << 5,
	KEY_REQUIRED	= (1 << 6) - 1,
	KEY_FILE_ID	= 1 << 6,
};

static const struct number_key {
	const char *key;
	unsigned int bit;
	int base;
	size_t offset;
} number_keys[] = {
	{ "ashmem_size", KEY_SIZE, 10, offsetof(struct region, size) },
	{ "ashmem_prot_mask", KEY_PROT, 0, offsetof(struct region, prot_mask) },
	{ "ashmem_pinned_pages", KEY_PINNED, 10,
	  offsetof(struct region, pinned) },
	{ "ashmem_unpinned_pages", KEY_UNPINNED, 10,
	  offsetof(struct region, unpinned) },
	{ "ashmem_purged_pages", KEY_PURGED, 10,
	  offsetof(struct region, purged) },
	{ "ashmem_file_id", KEY_FILE_ID, 10, offsetof(struct region, file_id) },
};

/* Takes one "key:\tvalue" line; returns the key's bit, or 0. */
static unsigned int parse_line(struct region *r, char *line)
{
	char *value = strchr(line, ':');
	unsigned long long *field;
	size_t i;

	if (!value)
		return 0;
	*value++ = '\0';
	value += strspn(value, " \t");

	if (!strcmp(line, "ashmem_name")) {
		unescape(r->name, sizeof(r->name), value);
		return KEY_NAME;
	}
	for (i = 0; i < ARRAY_SIZE(number_keys); i++) {
		const struct number_key *k = &number_keys[i];

		if (strcmp(line, k->key))
			continue;
		field = (unsigned long long *)((char *)r + k->offset);
		return parse_ull(value, k->base, field) ? k->bit : 0;
	}
	return 0;
}

/* Fills @r from an fdinfo file; false if it is not an ashmem region. */
static bool parse_fdinfo(FILE *f, struct region *r)
{
	char line[4 * ASHMEM_NAME_LEN + 64];
	unsigned int seen = 0;

	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		seen |= parse_line(r, line);
	}
	r->has_file_id = seen & KEY_FILE_ID;
	return (seen & KEY_REQUIRED) == KEY_REQUIRED;
}

static void read_comm(int pid, char *comm, size_t size)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), PROC "/%d/comm", pid);
	comm[0] = '\0';
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(comm, (int)size, f))
		comm[strcspn(comm, "\n")] = '\0';
	fclose(f);
}

static int region_add(struct region_list *list, const struct region *r)
{
	struct region *v;

	if (list->nr == list->alloc) {
		list->alloc = list->alloc ? 2 * list->alloc : 64;
		v = realloc(list->v, list->alloc * sizeof(*v));
		if (!v)
			return -ENOMEM;
		list->v = v;
	}
	list->v[list->nr++] = *r;
	return 0;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* Adds the regions of process @pid; processes that went away are no error. */
static int scan_process(struct region_list *list, int pid)
{
	struct region r;
	struct dirent *de;
	char path[64], comm[sizeof(r.comm)] = "";
	bool comm_read = false;
	int ret = 0;
	DIR *dir;

	snprintf(path, sizeof(path), PROC "/%d/fdinfo", pid);
	dir = opendir(path);
	if (!dir) {
		if (errno == EACCES || errno == EPERM)
			list->unreadable++;
		return 0;
	}
	while (!ret && (de = readdir(dir))) {
		char file[sizeof(path) + sizeof(de->d_name)];
		FILE *f;

		if (!all_digits(de->d_name))
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, de->d_name);
		f = fopen(file, "re");
		if (!f)
			continue;
		memset(&r, 0, sizeof(r));
		if (parse_fdinfo(f, &r)) {
			r.pid = pid;
			r.fd = atoi(de->d_name);
			if (!comm_read) {
				read_comm(pid, comm, sizeof(comm));
				comm_read = true;
			}
			memcpy(r.comm, comm, sizeof(r.comm));
			ret = region_add(list, &r);
		}
		fclose(f);
	}
	closedir(dir);
	return ret;
}

static int scan_all(struct region_list *list)
{
	struct dirent *de;
	DIR *dir;
	int ret = 0;

	dir = opendir(PROC);
	if (!dir)
		return -errno;
	while (!ret && (de = readdir(dir))) {
		if (all_digits(de->d_name))
			ret = scan_process(list, atoi(de->d_name));
	}
	closedir(dir);
	return ret;
}

/* ---- ashmem list -------------------------------------------------------- */

struct totals {
	size_t fds;
	size_t regions;		/* distinct regions: shared ones count once */
	unsigned long long size;
	unsigned long long pinned;
	unsigned long long unpinned;
	unsigned long long purged;
};

/*
 * A region shared by several descriptors (dup, fork, a passed fd) is one
 * region: mapped ones are told apart by their file id. Unmapped ones have
 * none and count once per descriptor.
 */
static bool seen_before(const struct region_list *list, size_t i)
{
	size_t j;

	if (!list->v[i].has_file_id)
		return false;
	for (j = 0; j < i; j++)
		if (list->v[j].has_file_id &&
		    list->v[j].file_id == list->v[i].file_id)
			return true;
	return false;
}

static void sum(const struct region_list *list, struct totals *t)
{
	size_t i;

	memset(t, 0, sizeof(*t));
	t->fds = list->nr;
	for (i = 0; i < list->nr; i++) {
		const struct region *r = &list->v[i];

		if (seen_before(list, i))
			continue;
		t->regions++;
		t->size += r->size;
		t->pinned += r->pinned;
		t->unpinned += r->unpinned;
		t->purged += r->purged;
	}
}

static void prot_string(unsigned long prot, char buf[4])
{
	buf[0] = prot & 1 ? 'r' : '-';	/* PROT_READ */
	buf[1] = prot & 2 ? 'w' : '-';	/* PROT_WRITE */
	buf[2] = prot & 4 ? 'x' : '-';	/* PROT_EXEC */
	buf[3] = '\0';
}

/* Names may hold any byte: control characters are shown escaped. */
static void print_text_escaped(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f || c == '\\')
			printf("\\%03o", c);
		else
			putchar(c);
	}
}

static void list_text(const struct region_list *list, const struct totals *t)
{
	char prot[4];
	size_t i;

	printf("%7s %-16s %5s %12s %4s %8s %8s %8s  %s\n", "PID", "COMM", "FD",
	       "SIZE", "PROT", "PINNED", "UNPINNED", "PURGED", "NAME");
	for (i = 0; i < list->nr; i++) {
		const struct region *r = &list->v[i];

		prot_string(r->prot_mask, prot);
		printf("%7d %-16s %5d %12llu %4s %8llu %8llu %8llu  ",
		       r->pid, r->comm, r->fd, r->size, prot, r->pinned,
		       r->unpinned, r->purged);
		print_text_escaped(r->name);
		putchar('\n');
	}
	printf("total: %zu regions in %zu descriptors, %llu bytes; ",
	       t->regions, t->fds, t->size);
	printf("pages pinned %llu, unpinned %llu, purged %llu\n",
	       t->pinned, t->unpinned, t->purged);
}

/* Length of the UTF-8 sequence at @s, or 0 if it is not valid UTF-8. */
static size_t utf8_len(const unsigned char *s)
{
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	for (i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

/*
 * A JSON string. Bytes that are not UTF-8 become the code point of the
 * same value, so that the output is always valid JSON.
 */
static void print_json_string(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t len;

	putchar('"');
	while (*s) {
		if (*s == '"' || *s == '\\') {
			printf("\\%c", *s++);
		} else if (*s < 0x20 || *s == 0x7f) {
			printf("\\u%04x", *s++);
		} else {
			len = utf8_len(s);
			if (len) {
				fwrite(s, 1, len, stdout);
				s += len;
			} else {
				printf("\\u%04x", *s++);
			}
		}
	}
	putchar('"');
}

static void list_json(const struct region_list *list, const struct totals *t)
{
	size_t i;

	printf("{\n  \"regions\": [");
	for (i = 0; i < list->nr; i++) {
		const struct region *r = &list->v[i];

		printf("%s\n    {\"pid\": %d, \"comm\": ", i ? "," : "", r->pid);
		print_json_string(r->comm);
		printf(", \"fd\": %d, \"name\": ", r->fd);
		print_json_string(r->name);
		printf(", \"size\": %llu, \"prot_mask\": %llu", r->size,
		       r->prot_mask);
		printf(", \"pinned_pages\": %llu, \"unpinned_pages\": %llu",
		       r->pinned, r->unpinned);
		printf(", \"purged_pages\": %llu, \"file_id\": ", r->purged);
		if (r->has_file_id)
			printf("%llu}", r->file_id);
		else
			printf("null}");
	}
	printf("%s],\n", list->nr ? "\n  " : "");
	printf("  \"totals\": {\"regions\": %zu, \"fds\": %zu, \"size\": %llu",
	       t->regions, t->fds, t->size);
	printf(", \"pinned_pages\": %llu, \"unpinned_pages\": %llu",
	       t->pinned, t->unpinned);
	printf(", \"purged_pages\": %llu}\n}\n", t->purged);
}

static int cmd_list(int argc, char **argv)
{
	struct region_list list = { 0 };
	struct totals t;
	bool json = false;
	int i, ret;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else {
			print_usage(stderr);
			return 2;
		}
	}

	ret = scan_all(&list);
	if (ret) {
		fprintf(stderr, "%s: reading " PROC ": %s\n", progname,
			strerror(-ret));
		free(list.v);
		return 1;
	}
	sum(&list, &t);
	if (json)
		list_json(&list, &t);
	else
		list_text(&list, &t);
	if (list.unreadable)
		fprintf(stderr, "%s: %u processes not readable, skipped%s\n",
			progname, list.unreadable,
			geteuid() ? ": run as root to see them" : "");
	free(list.v);
	return fflush(stdout) ? 1 : 0;
}

/* ---- ashmem purge ------------------------------------------------------- */

/* /dev/ashmem, or else Android 15's /dev/ashmem<boot_id> (containers). */
static int open_device(void)
{
	char id[64], path[sizeof(ASHMEM_DEVICE) + sizeof(id)];
	int fd, err;
	FILE *f;

	fd = open(ASHMEM_DEVICE, O_RDWR | O_CLOEXEC);
	if (fd >= 0 || errno != ENOENT)
		return fd;
	err = errno;
	f = fopen(BOOT_ID_FILE, "re");
	if (f && fgets(id, sizeof(id), f)) {
		id[strcspn(id, " \t\r\n")] = '\0';
		snprintf(path, sizeof(path), ASHMEM_DEVICE "%s", id);
		fd = open(path, O_RDWR | O_CLOEXEC);
	}
	if (f)
		fclose(f);
	if (fd < 0)
		errno = err;
	return fd;
}

static int cmd_purge(int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE);
	int fd, pages;

	(void)argv;
	if (argc != 1) {
		print_usage(stderr);
		return 2;
	}
	/* Any region will do: the purge is global. */
	fd = open_device();
	if (fd < 0) {
		fprintf(stderr, "%s: %s: %s\n", progname, ASHMEM_DEVICE,
			strerror(errno));
		return 1;
	}
	pages = ioctl(fd, ASHMEM_PURGE_ALL_CACHES);
	if (pages < 0) {
		fprintf(stderr, "%s: ASHMEM_PURGE_ALL_CACHES: %s%s\n", progname,
			strerror(errno),
			errno == EPERM ? " (needs CAP_SYS_ADMIN)" : "");
		close(fd);
		return 1;
	}
	close(fd);
	printf("purged %d pages (%lld KiB)\n", pages,
	       (long long)pages * page / 1024);
	return 0;
}

/* ---- ashmem stats ------------------------------------------------------- */

/*
 * The module's counters, as its debugfs file has them. Shown as they are
 * for now; when the file's format is settled this is where it gets
 * parsed, shown as a table and offered as --json like list.
 */
static int cmd_stats(int argc, char **argv)
{
	char buf[4096];
	size_t n;
	FILE *f;

	(void)argv;
	if (argc != 1) {
		print_usage(stderr);
		return 2;
	}
	f = fopen(STATS_FILE, "re");
	if (!f) {
		fprintf(stderr, "%s: %s: %s\n", progname, STATS_FILE,
			strerror(errno));
		fprintf(stderr, "%s: is debugfs mounted and the module loaded?\n",
			progname);
		return 1;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)))
		fwrite(buf, 1, n, stdout);
	fclose(f);
	return fflush(stdout) ? 1 : 0;
}

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
} commands[] = {
	{ "list",	cmd_list },
	{ "purge",	cmd_purge },
	{ "stats",	cmd_stats },
};

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		print_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "%s: unknown command '%s'\n", progname, argv[1]);
	print_usage(stderr);
	return 2;
}
