/* util_fs.c - rbx's files: the state dir (its own, 0700, never someone else's),
 * atomic writes that cannot be redirected, and removal that never follows a link. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"

int
util_mkdir_p(const char *path, unsigned mode, struct rbx_err *err)
{
	char *parent, *slash;
	int r;

	if (mkdir(path, mode) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return err_sys(err, "cannot create %s: %s", path, strerror(errno));
	parent = xstrdup(path);
	slash = strrchr(parent, '/');
	while (slash && slash > parent && slash[1] == 0) {
		*slash = 0;
		slash = strrchr(parent, '/');
	}
	if (!slash || slash == parent) {
		free(parent);
		return err_sys(err, "cannot create %s: %s", path, strerror(ENOENT));
	}
	*slash = 0;
	r = util_mkdir_p(parent, mode, err);
	free(parent);
	if (r < 0)
		return -1;
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return err_sys(err, "cannot create %s: %s", path, strerror(errno));
	return 0;
}

int
util_write_file_atomic(const char *path, const char *data, size_t len, unsigned mode,
		       struct rbx_err *err)
{
	/* A name no one can guess, created new (mkstemp: O_EXCL): never a planted file or link. */
	char *tmp = xasprintf("%s.tmp.XXXXXX", path);
	int fd, r = -1;
	size_t off = 0;

	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		err_sys(err, "cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	fchmod(fd, mode);
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err_sys(err, "cannot write %s: %s", tmp, strerror(errno));
			close(fd);
			unlink(tmp);
			goto out;
		}
		off += (size_t)n;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		err_sys(err, "cannot write %s: %s", tmp, strerror(errno));
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, path) < 0) {
		err_sys(err, "cannot rename %s: %s", tmp, strerror(errno));
		unlink(tmp);
		goto out;
	}
	r = 0;
out:
	free(tmp);
	return r;
}

/* name inside the directory at, without following a link anywhere: a link is removed, not its target. */
static void
rm_rf_at(int at, const char *name)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	int fd;

	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlinkat(at, name, 0);
		return;
	}
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			rm_rf_at(dirfd(d), de->d_name);
	closedir(d);
	unlinkat(at, name, AT_REMOVEDIR);
}

void
util_rm_rf(const char *path)
{
	rm_rf_at(AT_FDCWD, path);
}

char *
util_state_dir(void)
{
	const char *s = getenv("RBX_STATE_DIR");
	struct passwd *pw;

	if (s && *s)
		return xstrdup(s);
	if (geteuid() == 0)
		return xstrdup("/var/lib/rbx");
	s = getenv("XDG_STATE_HOME");
	if (s && *s)
		return xasprintf("%s/rbx", s);
	s = getenv("HOME");
	if (s && *s)
		return xasprintf("%s/.local/state/rbx", s);
	/* Never a shared directory such as /tmp: the user's home from the password file. */
	pw = getpwuid(geteuid());
	return xasprintf("%s/.local/state/rbx", pw && pw->pw_dir ? pw->pw_dir : "/nonexistent");
}

int
util_state_dir_ready(const char *path, struct rbx_err *err)
{
	struct stat st;

	if (util_mkdir_p(path, 0700, err) < 0)
		return -1;
	if (lstat(path, &st) < 0)
		return err_sys(err, "cannot use the state dir %s: %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return err_set(err, "the state dir %s is not a directory (a link?): refusing it", path);
	if (st.st_uid != geteuid())
		return err_set(err, "the state dir %s belongs to uid %u, not to this user (%u): "
				    "refusing it (its journals and locks could be someone else's)",
			       path, (unsigned)st.st_uid, (unsigned)geteuid());
	if (st.st_mode & 022)
		return err_set(err, "the state dir %s is writable by others (mode %o): refusing it; "
				    "chmod 700 it",
			       path, (unsigned)(st.st_mode & 0777));
	return 0;
}
