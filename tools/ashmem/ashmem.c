// SPDX-License-Identifier: GPL-2.0
/*
 * ashmem: look at the ashmem regions of a running system.
 *
 *   ashmem list [--json]   every region of every process, from
 *                          /proc/PID/fdinfo, with totals
 *   ashmem purge           purge all unpinned pages (needs CAP_SYS_ADMIN)
 *   ashmem stats [--json]  the module's statistics from debugfs
 *   ashmem help [COMMAND], ashmem --version
 *
 * Every thread's descriptor table is read (/proc/PID/task/TID/fd), once
 * per table: a thread may have one of its own, and the main thread may
 * be gone. A descriptor is taken for a region only if it is the ashmem
 * device: its fd link must be a character device whose st_rdev is the
 * one of /dev/ashmem<boot_id> or /dev/ashmem, as libashmem decides, and the
 * inode and mount the fdinfo file names must be that same file. Only then
 * are the ashmem_* keys of its fdinfo believed, read in whole lines:
 * other files' fdinfo (io_uring's, for one) print names their owner
 * chose, which may hold anything.
 *
 * Every text the tool prints that comes from elsewhere (process and
 * region names, keys of the stats file, arguments) is escaped: a
 * backslash as \\, newline, tab and carriage return as \n, \t and \r,
 * any other byte outside printable ASCII as \xHH. JSON output escapes
 * strings the JSON way.
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
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/ashmem.h>
#include <linux/kcmp.h>

#ifndef ASHMEM_VERSION
#define ASHMEM_VERSION		"unknown"
#endif
#ifndef STATX_MNT_ID
#define STATX_MNT_ID		0x00001000U
#endif

#define PROC			"/proc"
#define ASHMEM_DEVICE		"/dev/ashmem"
#define STATS_FILE		"/sys/kernel/debug/ashmem/stats"
#define BOOT_ID_FILE		"/proc/sys/kernel/random/boot_id"
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define COMM_MAX		256

static const char *progname = "ashmem";

/* The device node in use: its name and device number. */
struct device {
	char path[sizeof(ASHMEM_DEVICE) + 64];
	dev_t rdev;
};

struct region {
	int pid;
	int fd;
	char comm[COMM_MAX];
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

/* ---- Output ------------------------------------------------------------- */

/* @s as text: printable ASCII as it is, anything else escaped. */
static void put_escaped(FILE *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '\\':
			fputs("\\\\", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		case '\r':
			fputs("\\r", out);
			break;
		default:
			if (c < 0x20 || c > 0x7e)
				fprintf(out, "\\x%02x", c);
			else
				putc(c, out);
		}
	}
}

/* @s escaped, left-aligned in a field of @width columns. */
static void put_escaped_field(const char *s, int width)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (!f) {
		put_escaped(stdout, s);
		return;
	}
	put_escaped(f, s);
	fclose(f);
	printf("%-*s", width, buf);
	free(buf);
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
static void put_json_string(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t len;

	putchar('"');
	while (*s) {
		if (*s == '"' || *s == '\\') {
			printf("\\%c", *s++);
		} else if (*s == '\n') {
			fputs("\\n", stdout);
			s++;
		} else if (*s == '\t') {
			fputs("\\t", stdout);
			s++;
		} else if (*s == '\r') {
			fputs("\\r", stdout);
			s++;
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

static void prot_string(unsigned long long prot, char buf[4])
{
	buf[0] = prot & 1 ? 'r' : '-';	/* PROT_READ */
	buf[1] = prot & 2 ? 'w' : '-';	/* PROT_WRITE */
	buf[2] = prot & 4 ? 'x' : '-';	/* PROT_EXEC */
	buf[3] = '\0';
}

static long page_size(void)
{
	return sysconf(_SC_PAGESIZE);
}

/* ---- Usage -------------------------------------------------------------- */

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *args;
	const char *help;
};

static int cmd_list(int argc, char **argv);
static int cmd_purge(int argc, char **argv);
static int cmd_stats(int argc, char **argv);
static int cmd_help(int argc, char **argv);

static const struct command commands[] = {
	{ "list", cmd_list, "[--json]",
	  "Lists every ashmem region open in any process: pid, command,\n"
	  "descriptor, size, protection, pinned, unpinned and purged pages,\n"
	  "name; then totals. Other users' processes need root.\n"
	  "  --json   one JSON object instead of the table\n" },
	{ "purge", cmd_purge, "",
	  "Purges every unpinned page of every region now (CAP_SYS_ADMIN)\n"
	  "and says how many pages that freed.\n" },
	{ "stats", cmd_stats, "[--json]",
	  "Shows the module's counters from " STATS_FILE ".\n"
	  "  --json   one JSON object instead of the table\n" },
	{ "help", cmd_help, "[COMMAND]",
	  "Shows how to use the tool, or one command.\n" },
};

static void print_command_usage(FILE *out, const struct command *c)
{
	fprintf(out, "usage: %s %s%s%s\n\n%s", progname, c->name,
		c->args[0] ? " " : "", c->args, c->help);
}

/* -h or --help among a command's arguments: its usage on stdout. */
static bool wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return true;
	return false;
}

/* A bad argument to command @c: say which, and how to call it. */
static int bad_usage(const struct command *c, const char *arg)
{
	fprintf(stderr, "%s %s: unexpected argument '", progname, c->name);
	put_escaped(stderr, arg);
	fputs("'\n", stderr);
	print_command_usage(stderr, c);
	return 2;
}

/* ---- The device --------------------------------------------------------- */

/* Android's first name of the device, /dev/ashmem<boot_id>; "" if unknown. */
static void boot_id_device(char *path, size_t size)
{
	char id[64];
	size_t start, end;
	FILE *f;

	path[0] = '\0';
	f = fopen(BOOT_ID_FILE, "re");
	if (!f)
		return;
	if (!fgets(id, sizeof(id), f)) {
		fclose(f);
		return;
	}
	fclose(f);
	/* Trimmed, as Android and libashmem do. */
	end = strlen(id);
	while (end > 0 && strchr(" \t\r\n", id[end - 1]))
		end--;
	id[end] = '\0';
	start = strspn(id, " \t\r\n");
	if (id[start])
		snprintf(path, size, ASHMEM_DEVICE "%s", id + start);
}

/*
 * Finds the device as libashmem and Android do: /dev/ashmem<boot_id>,
 * then /dev/ashmem; the first that exists must be a character device.
 * 0, or -1 with errno set (ENOENT: neither exists).
 */
static int find_device(struct device *dev)
{
	char names[2][sizeof(dev->path)];
	struct stat st;
	size_t i;

	boot_id_device(names[0], sizeof(names[0]));
	snprintf(names[1], sizeof(names[1]), "%s", ASHMEM_DEVICE);
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		if (!names[i][0])
			continue;
		if (stat(names[i], &st) < 0) {
			if (errno == ENOENT)
				continue;
			return -1;
		}
		snprintf(dev->path, sizeof(dev->path), "%s", names[i]);
		if (!S_ISCHR(st.st_mode) || !st.st_rdev) {
			errno = ENOTTY;
			return -1;
		}
		dev->rdev = st.st_rdev;
		return 0;
	}
	snprintf(dev->path, sizeof(dev->path), "%s", ASHMEM_DEVICE);
	errno = ENOENT;
	return -1;
}

/* find_device(), and a message with what to do when it fails. */
static int need_device(struct device *dev)
{
	if (!find_device(dev))
		return 0;
	if (errno == ENOENT) {
		fprintf(stderr, "%s: no %s: the ashmem module is not loaded\n",
			progname, ASHMEM_DEVICE);
		fprintf(stderr, "%s: load it with: modprobe ashmem\n",
			progname);
	} else {
		fprintf(stderr, "%s: %s: %s\n", progname, dev->path,
			errno == ENOTTY ? "not a character device" :
			strerror(errno));
	}
	return -1;
}

/* ---- Reading fdinfo ----------------------------------------------------- */

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The byte "\\@c" stands for, or -1. */
static int named_escape(char c)
{
	switch (c) {
	case 'n':	return '\n';
	case 't':	return '\t';
	case 'r':	return '\r';
	case 'f':	return '\f';
	case 'v':	return '\v';
	case 'a':	return '\a';
	case 'e':	return 0x1b;
	case '"':	return '"';
	case '\\':	return '\\';
	}
	return -1;
}

/*
 * Undoes the kernel's escaping of names: \n \t \r \f \v \a \e \" \\,
 * \xHH (this module's fdinfo) and \ooo (seq_escape(), older modules).
 * Anything else is taken as it is.
 */
static void unescape(char *dst, size_t size, const char *src)
{
	size_t n = 0;

	while (*src && n + 1 < size) {
		if (src[0] != '\\' || !src[1]) {
			dst[n++] = *src++;
		} else if (src[1] >= '0' && src[1] <= '3' &&
			   src[2] >= '0' && src[2] <= '7' &&
			   src[3] >= '0' && src[3] <= '7') {
			dst[n++] = (char)((src[1] - '0') << 6 |
					  (src[2] - '0') << 3 | (src[3] - '0'));
			src += 4;
		} else if (src[1] == 'x' && hex_digit(src[2]) >= 0 &&
			   hex_digit(src[3]) >= 0) {
			dst[n++] = (char)(hex_digit(src[2]) << 4 |
					  hex_digit(src[3]));
			src += 4;
		} else if (named_escape(src[1]) >= 0) {
			dst[n++] = (char)named_escape(src[1]);
			src += 2;
		} else {
			dst[n++] = *src++;
		}
	}
	dst[n] = '\0';
}

static bool parse_ull(const char *s, int base, unsigned long long *val)
{
	char *end;

	if (*s == '-')
		return false;
	errno = 0;
	*val = strtoull(s, &end, base);
	return !errno && end != s && *end == '\0';
}

/*
 * The keys of a region's fdinfo: the kernel's own (ino, mnt_id) first,
 * then the module's; all but ashmem_file_id are always there.
 */
enum {
	KEY_NAME	= 1 << 0,
	KEY_SIZE	= 1 << 1,
	KEY_PROT	= 1 << 2,
	KEY_PINNED	= 1 << 3,
	KEY_UNPINNED	= 1 << 4,
	KEY_PURGED	= 1 << 5,
	KEY_REQUIRED	= (1 << 6) - 1,
	KEY_FILE_ID	= 1 << 6,
	KEY_INO		= 1 << 7,
	KEY_MNT_ID	= 1 << 8,
	KEY_BAD		= 1 << 9,	/* a known key with a bad value */
};

/* What fdinfo says beyond the region itself. */
struct fdinfo_ids {
	unsigned long long ino;
	unsigned long long mnt_id;
};

static const struct number_key {
	const char *key;
	unsigned int bit;
	int base;
	bool in_region;		/* else in struct fdinfo_ids */
	size_t offset;
} number_keys[] = {
	{ "ashmem_size", KEY_SIZE, 10, true, offsetof(struct region, size) },
	{ "ashmem_prot_mask", KEY_PROT, 0, true,
	  offsetof(struct region, prot_mask) },
	{ "ashmem_pinned_pages", KEY_PINNED, 10, true,
	  offsetof(struct region, pinned) },
	{ "ashmem_unpinned_pages", KEY_UNPINNED, 10, true,
	  offsetof(struct region, unpinned) },
	{ "ashmem_purged_pages", KEY_PURGED, 10, true,
	  offsetof(struct region, purged) },
	{ "ashmem_file_id", KEY_FILE_ID, 10, true,
	  offsetof(struct region, file_id) },
	{ "ino", KEY_INO, 10, false, offsetof(struct fdinfo_ids, ino) },
	{ "mnt_id", KEY_MNT_ID, 10, false,
	  offsetof(struct fdinfo_ids, mnt_id) },
};

/* Takes one "key:\tvalue" line; returns the key's bit, or 0. */
static unsigned int parse_line(struct region *r, struct fdinfo_ids *ids,
			       char *line)
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
		char *base = k->in_region ? (char *)r : (char *)ids;

		if (strcmp(line, k->key))
			continue;
		field = (unsigned long long *)(base + k->offset);
		return parse_ull(value, k->base, field) ? k->bit : KEY_BAD;
	}
	return 0;
}

/*
 * Fills @r and @ids from an fdinfo file, read in whole lines whatever
 * their length. False if a key is missing, repeated or malformed: the
 * module prints each once, and escapes the name's newlines.
 */
static bool parse_fdinfo(FILE *f, struct region *r, struct fdinfo_ids *ids,
			 unsigned int *seenp)
{
	unsigned int seen = 0, bit;
	char *line = NULL;
	size_t size = 0;
	ssize_t len;
	bool ok = true;

	while ((len = getline(&line, &size, f)) > 0) {
		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		bit = parse_line(r, ids, line);
		if (bit & (seen | KEY_BAD))
			ok = false;
		seen |= bit;
	}
	free(line);
	r->has_file_id = seen & KEY_FILE_ID;
	*seenp = seen;
	return ok && (seen & KEY_REQUIRED) == KEY_REQUIRED;
}

/* The process's name, all of it: it may hold newlines. */
static void read_comm(int pid, char *comm, size_t size)
{
	char path[64];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), PROC "/%d/comm", pid);
	comm[0] = '\0';
	f = fopen(path, "re");
	if (!f)
		return;
	n = fread(comm, 1, size - 1, f);
	fclose(f);
	/* The kernel ends it with one newline of its own. */
	if (n > 0 && comm[n - 1] == '\n')
		n--;
	comm[n] = '\0';
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

/*
 * Reads descriptor @fd of process @pid into @r if it is the ashmem
 * device: the file it refers to is the device (st_rdev), and the fdinfo
 * read afterwards names that same file (inode and mount), so that a
 * descriptor closed and reused in between is not taken for it.
 */
static bool read_region(const struct device *dev, int pid, int tid, int fd,
			struct region *r)
{
	char path[64];
	struct fdinfo_ids ids = { 0 };
	struct statx stx;
	unsigned int seen;
	bool ok;
	FILE *f;

	snprintf(path, sizeof(path), PROC "/%d/task/%d/fd/%d", pid, tid, fd);
	if (statx(AT_FDCWD, path, 0, STATX_TYPE | STATX_INO | STATX_MNT_ID,
		  &stx) < 0)
		return false;
	if (!S_ISCHR(stx.stx_mode) ||
	    makedev(stx.stx_rdev_major, stx.stx_rdev_minor) != dev->rdev)
		return false;

	snprintf(path, sizeof(path), PROC "/%d/task/%d/fdinfo/%d", pid, tid,
		 fd);
	f = fopen(path, "re");
	if (!f)
		return false;
	memset(r, 0, sizeof(*r));
	ok = parse_fdinfo(f, r, &ids, &seen);
	fclose(f);
	if (!ok)
		return false;
	/* Kernels before 5.14 print no ino: the st_rdev test is all. */
	if ((seen & KEY_INO) && ids.ino != stx.stx_ino)
		return false;
	if ((seen & KEY_MNT_ID) && (stx.stx_mask & STATX_MNT_ID) &&
	    ids.mnt_id != stx.stx_mnt_id)
		return false;
	return true;
}

/* Does @list hold descriptor @fd of @pid, for the region of inode @ino? */
static bool region_listed(const struct region_list *list, size_t from,
			  int pid, int fd, unsigned long long ino)
{
	size_t i;

	for (i = from; i < list->nr; i++)
		if (list->v[i].pid == pid && list->v[i].fd == fd &&
		    list->v[i].file_id == ino)
			return true;
	return false;
}

/*
 * Adds the regions in the descriptor table of thread @tid of process
 * @pid; those already listed for @pid since entry @from (the same table
 * seen through another thread) are skipped.
 */
static int scan_table(const struct device *dev, struct region_list *list,
		      size_t from, int pid, int tid, char *comm, bool *comm_read)
{
	struct region r;
	struct dirent *de;
	char path[64];
	int fd, ret = 0;
	DIR *dir;

	snprintf(path, sizeof(path), PROC "/%d/task/%d/fd", pid, tid);
	dir = opendir(path);
	if (!dir) {
		if (errno == EACCES || errno == EPERM)
			list->unreadable++;
		return 0;
	}
	while (!ret && (de = readdir(dir))) {
		if (!all_digits(de->d_name))
			continue;
		fd = atoi(de->d_name);
		if (!read_region(dev, pid, tid, fd, &r))
			continue;
		if (region_listed(list, from, pid, fd, r.file_id))
			continue;
		r.pid = pid;
		r.fd = fd;
		if (!*comm_read) {
			read_comm(pid, comm, COMM_MAX);
			*comm_read = true;
		}
		memcpy(r.comm, comm, sizeof(r.comm));
		ret = region_add(list, &r);
	}
	closedir(dir);
	return ret;
}

/* Does thread @a share its descriptor table with thread @b? */
static bool same_table(int a, int b)
{
	return syscall(SYS_kcmp, a, b, KCMP_FILES, 0, 0) == 0;
}

/* Threads whose tables were read, to skip threads that share them. */
#define TABLES_MAX	64

/*
 * Adds the regions of process @pid, in every thread's descriptor table:
 * a thread may have a table of its own (unshare(CLONE_FILES)), and the
 * main thread may be gone (pthread_exit()) while the others hold the
 * process's table. Processes that went away are no error.
 */
static int scan_process(const struct device *dev, struct region_list *list,
			int pid)
{
	int tables[TABLES_MAX], nr_tables = 0, tid, i, ret = 0;
	char path[64], comm[COMM_MAX] = "";
	size_t from = list->nr;
	bool comm_read = false;
	struct dirent *de;
	DIR *dir;

	snprintf(path, sizeof(path), PROC "/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return 0;
	while (!ret && (de = readdir(dir))) {
		if (!all_digits(de->d_name))
			continue;
		tid = atoi(de->d_name);
		for (i = 0; i < nr_tables; i++)
			if (same_table(tid, tables[i]))
				break;
		if (i < nr_tables)
			continue;
		if (nr_tables < TABLES_MAX)
			tables[nr_tables++] = tid;
		ret = scan_table(dev, list, from, pid, tid, comm, &comm_read);
	}
	closedir(dir);
	return ret;
}

static int scan_all(const struct device *dev, struct region_list *list)
{
	struct dirent *de;
	DIR *dir;
	int ret = 0;

	dir = opendir(PROC);
	if (!dir)
		return -errno;
	while (!ret && (de = readdir(dir))) {
		if (all_digits(de->d_name))
			ret = scan_process(dev, list, atoi(de->d_name));
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

static void list_text(const struct region_list *list, const struct totals *t)
{
	char prot[4];
	size_t i;

	printf("%7s %-16s %5s %12s %4s %8s %8s %8s  %s\n", "PID", "COMM", "FD",
	       "SIZE", "PROT", "PINNED", "UNPINNED", "PURGED", "NAME");
	for (i = 0; i < list->nr; i++) {
		const struct region *r = &list->v[i];

		prot_string(r->prot_mask, prot);
		printf("%7d ", r->pid);
		put_escaped_field(r->comm, 16);
		printf(" %5d %12llu %4s %8llu %8llu %8llu  ", r->fd, r->size,
		       prot, r->pinned, r->unpinned, r->purged);
		put_escaped(stdout, r->name);
		putchar('\n');
	}
	printf("total: %zu regions in %zu descriptors, %llu bytes; ",
	       t->regions, t->fds, t->size);
	printf("pages pinned %llu, unpinned %llu, purged %llu\n",
	       t->pinned, t->unpinned, t->purged);
}

static void list_json(const struct region_list *list, const struct totals *t)
{
	char prot[4];
	size_t i;

	printf("{\n  \"page_size\": %ld,\n  \"regions\": [", page_size());
	for (i = 0; i < list->nr; i++) {
		const struct region *r = &list->v[i];

		prot_string(r->prot_mask, prot);
		printf("%s\n    {\"pid\": %d, \"comm\": ", i ? "," : "", r->pid);
		put_json_string(r->comm);
		printf(", \"fd\": %d, \"name\": ", r->fd);
		put_json_string(r->name);
		printf(", \"size\": %llu, \"prot_mask\": %llu, \"prot\": \"%s\"",
		       r->size, r->prot_mask, prot);
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
	struct device dev;
	struct totals t;
	bool json = false;
	int i, ret;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else
			return bad_usage(&commands[0], argv[i]);
	}
	if (need_device(&dev))
		return 1;

	ret = scan_all(&dev, &list);
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

static int cmd_purge(int argc, char **argv)
{
	struct device dev;
	int fd, pages;

	if (argc > 1)
		return bad_usage(&commands[1], argv[1]);
	if (need_device(&dev))
		return 1;
	/* Any region will do: the purge is global. */
	fd = open(dev.path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "%s: %s: %s\n", progname, dev.path,
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
	       (long long)pages * page_size() / 1024);
	return fflush(stdout) ? 1 : 0;
}

/* ---- ashmem stats ------------------------------------------------------- */

struct stat_line {
	char *key;
	long long value;
};

/* "key value" lines of the stats file; others are reported and skipped. */
static int read_stats(FILE *f, struct stat_line **vp, size_t *nrp)
{
	struct stat_line *v = NULL, *nv;
	size_t nr = 0, size = 0;
	char *line = NULL, *sp, *end;
	long long value;
	ssize_t len;

	while ((len = getline(&line, &size, f)) > 0) {
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		sp = strchr(line, ' ');
		if (sp) {
			*sp = '\0';
			errno = 0;
			value = strtoll(sp + 1, &end, 10);
		}
		if (!sp || sp == line || errno || end == sp + 1 || *end) {
			if (sp)
				*sp = ' ';
			fprintf(stderr, "%s: %s: line not understood: ",
				progname, STATS_FILE);
			put_escaped(stderr, line);
			fputc('\n', stderr);
			continue;
		}
		nv = realloc(v, (nr + 1) * sizeof(*v));
		if (!nv)
			goto err;
		v = nv;
		v[nr].key = strdup(line);
		if (!v[nr].key)
			goto err;
		v[nr++].value = value;
	}
	free(line);
	*vp = v;
	*nrp = nr;
	return 0;

err:
	free(line);
	while (nr)
		free(v[--nr].key);
	free(v);
	return -ENOMEM;
}

static int cmd_stats(int argc, char **argv)
{
	struct stat_line *v;
	struct device dev;
	bool json = false;
	size_t nr, i;
	int arg;
	FILE *f;

	for (arg = 1; arg < argc; arg++) {
		if (!strcmp(argv[arg], "--json"))
			json = true;
		else
			return bad_usage(&commands[2], argv[arg]);
	}
	if (need_device(&dev))
		return 1;
	f = fopen(STATS_FILE, "re");
	if (!f) {
		fprintf(stderr, "%s: %s: %s\n", progname, STATS_FILE,
			strerror(errno));
		fprintf(stderr,
			"%s: is debugfs mounted? mount -t debugfs none /sys/kernel/debug\n",
			progname);
		return 1;
	}
	if (read_stats(f, &v, &nr)) {
		fclose(f);
		fprintf(stderr, "%s: %s\n", progname, strerror(ENOMEM));
		return 1;
	}
	fclose(f);

	if (json) {
		printf("{\n  \"page_size\": %ld,\n  \"stats\": {", page_size());
		for (i = 0; i < nr; i++) {
			printf("%s\n    ", i ? "," : "");
			put_json_string(v[i].key);
			printf(": %lld", v[i].value);
		}
		printf("%s}\n}\n", nr ? "\n  " : "");
	} else {
		for (i = 0; i < nr; i++) {
			put_escaped_field(v[i].key, 16);
			printf(" %lld\n", v[i].value);
		}
	}
	for (i = 0; i < nr; i++)
		free(v[i].key);
	free(v);
	return fflush(stdout) ? 1 : 0;
}

/* ---- help and main ------------------------------------------------------ */

static void print_usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage: %s COMMAND [ARGS]\n       %s --version\n\n"
		"commands:\n", progname, progname);
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(out, "  %s%s%s\n", commands[i].name,
			commands[i].args[0] ? " " : "", commands[i].args);
	fprintf(out, "\n%s COMMAND --help tells more; see also ashmem(1).\n",
		progname);
}

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(name, commands[i].name))
			return &commands[i];
	return NULL;
}

static int unknown_command(const char *name)
{
	fprintf(stderr, "%s: unknown command '", progname);
	put_escaped(stderr, name);
	fputs("'\n", stderr);
	print_usage(stderr);
	return 2;
}

static int cmd_help(int argc, char **argv)
{
	const struct command *c;

	if (argc > 2)
		return bad_usage(&commands[3], argv[2]);
	if (argc < 2) {
		print_usage(stdout);
		return fflush(stdout) ? 1 : 0;
	}
	c = find_command(argv[1]);
	if (!c)
		return unknown_command(argv[1]);
	print_command_usage(stdout, c);
	return fflush(stdout) ? 1 : 0;
}

int main(int argc, char **argv)
{
	const struct command *c;

	if (argc < 2) {
		print_usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		print_usage(stdout);
		return fflush(stdout) ? 1 : 0;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("%s %s\n", progname, ASHMEM_VERSION);
		return fflush(stdout) ? 1 : 0;
	}
	c = find_command(argv[1]);
	if (!c)
		return unknown_command(argv[1]);
	if (c->run != cmd_help && wants_help(argc - 1, argv + 1)) {
		print_command_usage(stdout, c);
		return fflush(stdout) ? 1 : 0;
	}
	return c->run(argc - 1, argv + 1);
}
