/* faultinj.c - an LD_PRELOAD library for tests: fails the Nth write(2) or
 * fdatasync(2) on a run journal (a file under runs/ or rolls/), as a full disk does. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* RBX_FAULT=write:N | short:N | sync:N (N counts from 1, per process); a full disk
 * stays full: every journal write from the Nth on fails. */
static int mode; /* 1 write, 2 short write, 3 sync */
static long target, writes, syncs;

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
	else
		mode = -1;
	target = strtol(strchr(v, ':') ? strchr(v, ':') + 1 : "0", NULL, 10);
}

static int
is_journal(int fd)
{
	char link[64], path[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return 0;
	path[n] = 0;
	return (strstr(path, "/runs/") || strstr(path, "/rolls/")) && strstr(path, ".jsonl");
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
