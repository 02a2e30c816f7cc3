/* lock.c - per-node run locks with flock(2): released by the kernel if rbx dies,
 * and the lock file names the holder (run id, pid, host, user) for the refusal. */
#define _GNU_SOURCE
#include "io/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

int
lock_node(const char *state_dir, const char *node, const char *run_id, struct rbx_err *err)
{
	char *dir = xasprintf("%s/locks", state_dir), *path = NULL, host[256] = "?", *info;
	struct passwd *pw = getpwuid(geteuid());
	int fd = -1;

	if (util_mkdir_p(dir, 0700, err) < 0)
		goto out;
	path = xasprintf("%s/%s.lock", dir, node);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		err_sys(err, "cannot open lock %s: %s", path, strerror(errno));
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		char holder[512] = "";
		ssize_t n = pread(fd, holder, sizeof(holder) - 1, 0);
		holder[n > 0 ? n : 0] = 0;
		holder[strcspn(holder, "\n")] = 0;
		err_set(err, "node %s is locked by another run (%s)", node,
			*holder ? holder : "holder unknown");
		close(fd);
		fd = -2;
		goto out;
	}
	gethostname(host, sizeof(host) - 1);
	info = xasprintf("run=%s pid=%ld host=%s user=%s\n", run_id, (long)getpid(), host,
			 pw ? pw->pw_name : "?");
	if (ftruncate(fd, 0) == 0 && pwrite(fd, info, strlen(info), 0) < 0)
		(void)0; /* the lock holds even if the note cannot be written */
	free(info);
out:
	free(dir);
	free(path);
	return fd;
}

void
lock_release(int fd)
{
	if (fd < 0)
		return;
	if (ftruncate(fd, 0) < 0)
		(void)0;
	close(fd);
}
