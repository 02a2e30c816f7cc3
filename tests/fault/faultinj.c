/* faultinj.c - an LD_PRELOAD library for tests: fails the Nth write(2) or fdatasync(2) on
 * a run journal, or the Nth open, rename or mkdir in the state dir, as a full disk does. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * RBX_FAULT=write:N | short:N | sync:N (N counts from 1, per process): the journal's; or
 * open:N | rename:N | mkdir:N: any in $RBX_STATE_DIR (opens that may write). A full disk
 * stays full: every such call from the Nth on fails. RBX_FAULT=count writes how many of
 * each a run made to $RBX_FAULT_COUNTS at exit, for a sweep over every N.
 */
static int mode; /* 1 write, 2 short write, 3 sync, 4 open, 5 rename, 6 mkdir, 9 count */
static long target, writes, syncs, opens, renames, mkdirs;

static void
init(void)
{
	const char *v = getenv("RBX_FAULT");

	if (mode || !v)
		return;
	if (!strncmp(v, "write:", 6))
		mode = 1;
	else if (!strncmp(v, "short:", 6))
		mode = 2;
	else if (!strncmp(v, "sync:", 5))
		mode = 3;
	else if (!strncmp(v, "open:", 5))
		mode = 4;
	else if (!strncmp(v, "rename:", 7))
		mode = 5;
	else if (!strncmp(v, "mkdir:", 6))
		mode = 6;
	else if (!strcmp(v, "count"))
		mode = 9;
	else
		mode = -1;
	target = strtol(strchr(v, ':') ? strchr(v, ':') + 1 : "0", NULL, 10);
}

/* The path an open descriptor names (from /proc), or 0 where it cannot be read. */
static int
fd_path(int fd, char *path, size_t size)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, size - 1);
	if (n <= 0)
		return 0;
	path[n] = 0;
	return 1;
}

static int
is_journal(int fd)
{
	char path[PATH_MAX];

	return fd_path(fd, path, sizeof(path)) &&
	       (strstr(path, "/runs/") || strstr(path, "/rolls/")) && strstr(path, ".jsonl");
}

ssize_t
write(int fd, const void *buf, size_t count)
{
	static ssize_t (*real)(int, const void *, size_t);

	if (!real)
		real = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
	init();
	if ((mode == 1 || mode == 2) && is_journal(fd) && ++writes >= target) {
		/* short:N writes half of write N (the disk filled up), then nothing more. */
		if (mode == 2 && writes == target && count > 1)
			return real(fd, buf, count / 2);
		errno = ENOSPC;
		return -1;
	}
	return real(fd, buf, count);
}

int
fdatasync(int fd)
{
	static int (*real)(int);

	if (!real)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
	init();
	if (mode == 3 && is_journal(fd) && ++syncs >= target) {
		errno = EIO;
		return -1;
	}
	return real(fd);
}

/* Whether path (or dirfd/path) lies in the state dir: the disk under test. */
static int
in_state(int dirfd, const char *path)
{
	const char *state = getenv("RBX_STATE_DIR");
	char full[PATH_MAX * 2];

	if (!state || !path)
		return 0;
	if (path[0] != '/' && dirfd != AT_FDCWD) {
		char dir[PATH_MAX];
		if (!fd_path(dirfd, dir, sizeof(dir)))
			return 0;
		snprintf(full, sizeof(full), "%s/%s", dir, path);
		path = full;
	}
	return !strncmp(path, state, strlen(state));
}

/* Count the call, and whether it is to fail (from the Nth on). */
static int
hit(int m, long *counter)
{
	init();
	if (mode != m && mode != 9)
		return 0;
	++*counter;
	return mode == m && *counter >= target;
}

static int
may_write(int flags)
{
	return (flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC)) != 0;
}

int
openat(int dirfd, const char *path, int flags, ...)
{
	static int (*real)(int, const char *, int, ...);
	mode_t m = 0;

	if (flags & O_CREAT) {
		va_list ap;
		va_start(ap, flags);
		m = va_arg(ap, mode_t);
		va_end(ap);
	}
	if (!real)
		real = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, "openat");
	if (may_write(flags) && in_state(dirfd, path) && hit(4, &opens)) {
		errno = ENOSPC;
		return -1;
	}
	return real(dirfd, path, flags, m);
}

/* open(2) is openat(AT_FDCWD): counted and failed once, there. */
int
open(const char *path, int flags, ...)
{
	mode_t m = 0;

	if (flags & O_CREAT) {
		va_list ap;
		va_start(ap, flags);
		m = va_arg(ap, mode_t);
		va_end(ap);
	}
	return openat(AT_FDCWD, path, flags, m);
}

int
rename(const char *from, const char *to)
{
	static int (*real)(const char *, const char *);

	if (!real)
		real = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
	if (in_state(AT_FDCWD, to) && hit(5, &renames)) {
		errno = EIO;
		return -1;
	}
	return real(from, to);
}

int
mkdir(const char *path, mode_t m)
{
	static int (*real)(const char *, mode_t);

	if (!real)
		real = (int (*)(const char *, mode_t))dlsym(RTLD_NEXT, "mkdir");
	if (in_state(AT_FDCWD, path) && hit(6, &mkdirs)) {
		errno = ENOSPC;
		return -1;
	}
	return real(path, m);
}

/* RBX_FAULT=count: the totals, for the sweep to know every N. */
__attribute__((destructor)) static void
report_counts(void)
{
	const char *out = getenv("RBX_FAULT_COUNTS");
	FILE *fp;

	if (mode != 9 || !out || !(fp = fopen(out, "a")))
		return;
	fprintf(fp, "open=%ld rename=%ld mkdir=%ld\n", opens, renames, mkdirs);
	fclose(fp);
}
