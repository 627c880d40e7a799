// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/*
 * libashmem: Android's libcutils ashmem API on /dev/ashmem or memfd.
 *
 * A region is created on the ashmem device when there is one: since
 * Android 10 libcutils tries /dev/ashmem<boot_id> first and /dev/ashmem
 * second (current AOSP knows no other name than the first), older Android
 * /dev/ashmem only, so both are tried in that order. Whichever opens
 * must be a character device; its st_rdev is kept to tell ashmem
 * descriptors from others later. Without a device (module not loaded,
 * node not passed into the container, no permission) regions are memfds
 * sealed against resizing, as Android creates them when it prefers memfd.
 *
 * Every other call works on what the descriptor is, not on how this
 * process created its own regions, so descriptors received from other
 * processes work whatever they are.
 *
 * LIBASHMEM_BACKEND=memfd in the environment skips the device;
 * LIBASHMEM_BACKEND=device never falls back to memfd.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cutils/ashmem.h>

/* Newer than some C libraries' headers. */
#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC		0x0001U
#endif
#ifndef MFD_ALLOW_SEALING
#define MFD_ALLOW_SEALING	0x0002U
#endif
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL		0x0008U	/* Linux 6.3 */
#endif
#ifndef F_ADD_SEALS
#define F_ADD_SEALS		(1024 + 9)
#define F_GET_SEALS		(1024 + 10)
#endif
#ifndef F_SEAL_SEAL
#define F_SEAL_SEAL		0x0001
#define F_SEAL_SHRINK		0x0002
#define F_SEAL_GROW		0x0004
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE	0x0010	/* Linux 5.1 */
#endif

#define ASHMEM_API		__attribute__((visibility("default")))
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

#define ASHMEM_DEVICE		"/dev/ashmem"
#define BOOT_ID_FILE		"/proc/sys/kernel/random/boot_id"
/* memfd names are cut to NAME_MAX less "memfd:". */
#define MEMFD_NAME_MAX		(NAME_MAX - 6)

enum backend {
	BACKEND_AUTO,		/* the device if there is one, else memfd */
	BACKEND_DEVICE,		/* the device only */
	BACKEND_MEMFD,		/* memfd only */
};

enum fd_kind {
	FD_ASHMEM,
	FD_MEMFD,
	FD_OTHER,
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
/* Set once by lib_init(), read-only afterwards. */
static enum backend backend;
static char boot_id_device[sizeof(ASHMEM_DEVICE) + 64];
/* The device number of the kernel's internal shmem mount, if known. */
static bool memfd_dev_known;
static dev_t memfd_dev;

/* The names of the device, in the order Android 10 and later try them. */
static const char *const device_names[] = { boot_id_device, ASHMEM_DEVICE };

static pthread_mutex_t rdev_lock = PTHREAD_MUTEX_INITIALIZER;
/* The ashmem device's number, 0 until one was found; under rdev_lock. */
static dev_t ashmem_rdev;

/* The device name Android tries first, or "" if boot_id is unreadable. */
static void read_boot_id_device(void)
{
	char id[64];
	ssize_t len;
	size_t start = 0;
	int fd;

	fd = open(BOOT_ID_FILE, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	do {
		len = read(fd, id, sizeof(id) - 1);
	} while (len < 0 && errno == EINTR);
	close(fd);
	if (len <= 0)
		return;

	/* Trimmed, as Android does. */
	while (len > 0 && strchr(" \t\r\n", id[len - 1]))
		len--;
	while (start < (size_t)len && strchr(" \t\r\n", id[start]))
		start++;
	id[len] = '\0';
	if (start < (size_t)len)
		snprintf(boot_id_device, sizeof(boot_id_device), "%s%s",
			 ASHMEM_DEVICE, id + start);
}

/*
 * Every memfd lives on the kernel's internal shmem mount, which no path
 * reaches: its device number tells a memfd from a file of a tmpfs mount
 * (/dev/shm, /tmp), which would otherwise look the same, seals included.
 * Learnt from a memfd of our own.
 */
static void read_memfd_dev(void)
{
	struct stat st;
	int fd;

	fd = syscall(SYS_memfd_create, "libashmem-probe", MFD_CLOEXEC);
	if (fd < 0)
		return;
	if (!fstat(fd, &st)) {
		memfd_dev = st.st_dev;
		memfd_dev_known = true;
	}
	close(fd);
}

static void lib_init(void)
{
	const char *env = getenv("LIBASHMEM_BACKEND");

	if (env && !strcmp(env, "memfd"))
		backend = BACKEND_MEMFD;
	else if (env && !strcmp(env, "device"))
		backend = BACKEND_DEVICE;
	else
		backend = BACKEND_AUTO;
	read_boot_id_device();
	read_memfd_dev();
}

static void remember_rdev(dev_t rdev)
{
	pthread_mutex_lock(&rdev_lock);
	ashmem_rdev = rdev;
	pthread_mutex_unlock(&rdev_lock);
}

/* Closes @fd after a failed call: -1, with the call's errno. */
static int close_failed(int fd)
{
	int err = errno;

	close(fd);
	errno = err;
	return -1;
}

/*
 * Opens the first device name that exists. A name that opens but is not a
 * character device fails with ENOTTY, as in libcutils.
 */
static int device_open(void)
{
	struct stat st;
	unsigned int i;
	int fd = -1;

	for (i = 0; i < ARRAY_SIZE(device_names) && fd < 0; i++) {
		if (!device_names[i][0])
			continue;
		do {
			fd = open(device_names[i], O_RDWR | O_CLOEXEC);
		} while (fd < 0 && errno == EINTR);
	}
	if (fd < 0)
		return -1;

	if (fstat(fd, &st) < 0)
		return close_failed(fd);
	if (!S_ISCHR(st.st_mode) || !st.st_rdev) {
		errno = ENOTTY;
		return close_failed(fd);
	}
	remember_rdev(st.st_rdev);
	return fd;
}

/* Errors of open() that mean "no device to use here": use memfd. */
static bool device_unusable(int err)
{
	return err == ENOENT || err == ENODEV || err == ENXIO ||
	       err == EACCES || err == EPERM || err == ENOTTY;
}

/* The device's number, found by name if no region was opened yet. */
static dev_t device_rdev(void)
{
	struct stat st;
	unsigned int i;
	dev_t rdev;

	pthread_mutex_lock(&rdev_lock);
	rdev = ashmem_rdev;
	pthread_mutex_unlock(&rdev_lock);
	if (rdev)
		return rdev;

	for (i = 0; i < ARRAY_SIZE(device_names); i++) {
		if (device_names[i][0] && !stat(device_names[i], &st) &&
		    S_ISCHR(st.st_mode) && st.st_rdev) {
			remember_rdev(st.st_rdev);
			return st.st_rdev;
		}
	}
	return 0;
}

/*
 * True if @fd, a regular file, is a memfd: on the internal shmem mount
 * and, where /proc tells, named "memfd:..." as memfd_create() names its
 * files. Without a device number to compare (no memfd_create() here), the
 * name alone decides.
 */
static bool is_memfd(int fd, const struct stat *st)
{
	static const char prefix[] = "/memfd:";
	char path[64], link[sizeof(prefix)];
	ssize_t len;

	if (memfd_dev_known && st->st_dev != memfd_dev)
		return false;
	/* Only shmem files have seals. */
	if (fcntl(fd, F_GET_SEALS) < 0)
		return false;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	len = readlink(path, link, sizeof(link));
	if (len < 0)
		return memfd_dev_known;
	return len > (ssize_t)strlen(prefix) &&
	       !memcmp(link, prefix, strlen(prefix));
}

/* What @fd is; -1 with errno set if it is not an open descriptor. */
static int fd_kind(int fd)
{
	struct stat st;

	pthread_once(&init_once, lib_init);
	if (fstat(fd, &st) < 0)
		return -1;
	/* A path to the device or a memfd is no region. */
	if (fcntl(fd, F_GETFL) & O_PATH)
		return FD_OTHER;
	if (S_ISCHR(st.st_mode) && st.st_rdev && st.st_rdev == device_rdev())
		return FD_ASHMEM;
	if (S_ISREG(st.st_mode) && is_memfd(fd, &st))
		return FD_MEMFD;
	return FD_OTHER;
}

/* The kind of @fd when it must be a region; else -1 and errno. */
static int region_kind(int fd)
{
	int kind = fd_kind(fd);

	if (kind == FD_OTHER) {
		errno = ENOTTY;
		return -1;
	}
	return kind;
}

static int ioctl_retry(int fd, unsigned long cmd, unsigned long arg)
{
	int ret;

	do {
		ret = ioctl(fd, cmd, arg);
	} while (ret < 0 && errno == EINTR);
	return ret;
}

ASHMEM_API int ashmem_valid(int fd)
{
	int kind = fd_kind(fd);

	return kind == FD_ASHMEM || kind == FD_MEMFD;
}

static int device_create_region(int fd, const char *name, size_t size)
{
	char buf[ASHMEM_NAME_LEN] = "";

	if (name) {
		memcpy(buf, name, strnlen(name, sizeof(buf) - 1));
		if (ioctl_retry(fd, ASHMEM_SET_NAME, (unsigned long)buf) < 0)
			return close_failed(fd);
	}
	if (ioctl_retry(fd, ASHMEM_SET_SIZE, size) < 0)
		return close_failed(fd);
	return fd;
}

static int memfd_create_region(const char *name, size_t size)
{
	char buf[MEMFD_NAME_MAX + 1] = "";
	unsigned int flags = MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL;
	int fd;

	if (!name)
		name = ASHMEM_NAME_DEF;
	memcpy(buf, name, strnlen(name, sizeof(buf) - 1));

	fd = syscall(SYS_memfd_create, buf, flags);
	/* Kernels before 6.3 know no MFD_NOEXEC_SEAL. */
	if (fd < 0 && errno == EINVAL) {
		flags &= ~MFD_NOEXEC_SEAL;
		fd = syscall(SYS_memfd_create, buf, flags);
	}
	if (fd < 0)
		return -1;

	/* Sizes past off_t turn negative: EINVAL. */
	if (ftruncate(fd, (off_t)size) < 0)
		return close_failed(fd);
	/* The size is fixed, as ashmem's is once it is mapped. */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK) < 0)
		return close_failed(fd);
	return fd;
}

ASHMEM_API int ashmem_create_region(const char *name, size_t size)
{
	int fd;

	pthread_once(&init_once, lib_init);
	if (backend != BACKEND_MEMFD) {
		fd = device_open();
		if (fd >= 0)
			return device_create_region(fd, name, size);
		if (backend == BACKEND_DEVICE || !device_unusable(errno))
			return -1;
	}
	return memfd_create_region(name, size);
}

/*
 * memfd has no protection mask; a seal stands in for the one bit that
 * matters: once PROT_WRITE is gone, no new writable mapping. F_SEAL_SEAL
 * keeps anyone else from changing that.
 */
static int memfd_set_prot(int fd, int prot)
{
	int seals = fcntl(fd, F_GET_SEALS);

	if (seals < 0)
		return -1;
	if (prot & PROT_WRITE) {
		/* Bits can only be taken away. */
		if (seals & F_SEAL_FUTURE_WRITE) {
			errno = EINVAL;
			return -1;
		}
		return 0;
	}
	if (seals & F_SEAL_FUTURE_WRITE)
		return 0;
	return fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE | F_SEAL_SEAL);
}

ASHMEM_API int ashmem_set_prot_region(int fd, int prot)
{
	switch (region_kind(fd)) {
	case FD_ASHMEM:
		return ioctl_retry(fd, ASHMEM_SET_PROT_MASK, (unsigned int)prot);
	case FD_MEMFD:
		return memfd_set_prot(fd, prot);
	}
	return -1;
}

static int pin_ioctl(int fd, unsigned long cmd, size_t offset, size_t len)
{
	struct ashmem_pin pin;

	switch (region_kind(fd)) {
	case FD_ASHMEM:
		break;
	case FD_MEMFD:
		return 0;	/* memfd pages stay until the region goes */
	default:
		return -1;
	}

	/* Not silently cut to 32 bits: that would pin another range. */
	if (offset > UINT32_MAX || len > UINT32_MAX) {
		errno = EINVAL;
		return -1;
	}
	pin.offset = (uint32_t)offset;
	pin.len = (uint32_t)len;
	return ioctl_retry(fd, cmd, (unsigned long)&pin);
}

ASHMEM_API int ashmem_pin_region(int fd, size_t offset, size_t len)
{
	return pin_ioctl(fd, ASHMEM_PIN, offset, len);
}

ASHMEM_API int ashmem_unpin_region(int fd, size_t offset, size_t len)
{
	return pin_ioctl(fd, ASHMEM_UNPIN, offset, len);
}

/*
 * The size of ashmem region @fd from its fdinfo, which the module prints
 * in full ("ashmem_size:\t%zu"): 0 and *@size, or -1. The thread's own
 * descriptor table is read, which is the process's unless the thread
 * unshared it.
 */
static int fdinfo_size(int fd, unsigned long long *size)
{
	static const char key[] = "ashmem_size:";
	char path[64], *line = NULL, *end;
	size_t len = 0;
	int ret = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/thread-self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f) {
		snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
		f = fopen(path, "re");
	}
	if (!f)
		return -1;
	/* Whole lines: only the module's own line starts with the key. */
	while (ret && getline(&line, &len, f) > 0) {
		if (strncmp(line, key, strlen(key)))
			continue;
		errno = 0;
		*size = strtoull(line + strlen(key), &end, 10);
		if (!errno && end != line + strlen(key) && *end == '\n')
			ret = 0;
		break;
	}
	free(line);
	fclose(f);
	return ret;
}

/*
 * ASHMEM_GET_SIZE answers in a long, which the C library's ioctl() cuts to
 * an int: past 2 GiB that is negative, or -1 with a made-up errno, or the
 * low 32 bits. fdinfo has the size in full for every ABI. Without /proc,
 * the raw system call returns the kernel's whole long: the size itself on
 * a 64-bit ABI; on a 32-bit one, negative past 2 GiB, but the low 32 bits
 * only of a region of 4 GiB or more that a 64-bit process made.
 */
static int device_get_size(int fd)
{
	unsigned long long size;
	long ret;

	if (fdinfo_size(fd, &size)) {
		do {
			ret = syscall(SYS_ioctl, fd, ASHMEM_GET_SIZE, 0);
		} while (ret == -1 && errno == EINTR);
		if (ret == -1)
			return -1;
		size = ret < 0 ? ULLONG_MAX : (unsigned long long)ret;
	}
	if (size > INT_MAX) {
		errno = EOVERFLOW;
		return -1;
	}
	return (int)size;
}

ASHMEM_API int ashmem_get_size_region(int fd)
{
	struct stat st;

	switch (region_kind(fd)) {
	case FD_ASHMEM:
		return device_get_size(fd);
	case FD_MEMFD:
		if (fstat(fd, &st) < 0)
			return -1;
		if (st.st_size > INT_MAX) {
			errno = EOVERFLOW;
			return -1;
		}
		return (int)st.st_size;
	}
	return -1;
}
