/* runbook_find.c - where runbooks are found: ./runbooks when no one else can write
 * it, $RBX_RUNBOOKS, /etc/rbx/runbooks, and the installed share dir. */
#define _GNU_SOURCE
#include "core/runbook.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/schema.h"
#include "core/template.h"
#include "base/util.h"

#ifndef RBX_SHARE_DIR
#define RBX_SHARE_DIR "/usr/local/share/rbx"
#endif

#include "core/runbook_internal.h"

/* ---- finding runbooks ---------------------------------------------------------- */

/* BIN/../share/rbx/runbooks of the running binary: right wherever `make install` put it. */
static char *
installed_share_dir(void)
{
	char exe[4096], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return NULL;
	exe[n] = 0;
	slash = strrchr(exe, '/');
	if (!slash)
		return NULL;
	*slash = 0;
	return xasprintf("%s/../share/rbx/runbooks", exe);
}

/* A real directory that only this user or root can write to. */
static bool
trusted_dir(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
	       (st.st_uid == geteuid() || st.st_uid == 0) && !(st.st_mode & 022);
}

char **
runbook_search_path(void)
{
	const char *env = getenv("RBX_RUNBOOKS");
	char *exe;
	char **dirs = xcalloc(64, sizeof(char *));
	size_t n = 0;

	/* ./runbooks only where no one else can have put a runbook (cf. git's safe.directory). */
	if (trusted_dir(".") && trusted_dir("./runbooks"))
		dirs[n++] = xstrdup("./runbooks");
	if (env && *env) {
		char *copy = xstrdup(env), *save = NULL, *tok;
		for (tok = strtok_r(copy, ":", &save); tok && n < 60; tok = strtok_r(NULL, ":", &save))
			dirs[n++] = xstrdup(tok);
		free(copy);
	}
	dirs[n++] = xstrdup("/etc/rbx/runbooks");
	if ((exe = installed_share_dir()) != NULL)
		dirs[n++] = exe;
	dirs[n++] = xstrdup(RBX_SHARE_DIR "/runbooks");
	return dirs;
}

void
runbook_path_free(char **dirs)
{
	size_t i;

	if (!dirs)
		return;
	for (i = 0; dirs[i]; i++)
		free(dirs[i]);
	free(dirs);
}

char *
runbook_find(const char *name, struct rbx_err *err)
{
	char **dirs;
	size_t i, len = strlen(name);
	char *found = NULL;

	if (strchr(name, '/') || (len > 5 && strcmp(name + len - 5, ".yaml") == 0) ||
	    (len > 4 && strcmp(name + len - 4, ".yml") == 0)) {
		if (access(name, R_OK) != 0) {
			err_set(err, "cannot read runbook '%s': %s", name, strerror(errno));
			return NULL;
		}
		return xstrdup(name);
	}
	if (!util_valid_slug(name)) {
		err_set(err, "'%s' is not a runbook name ([a-z0-9-]+) or a path", name);
		return NULL;
	}
	dirs = runbook_search_path();
	for (i = 0; dirs[i] && !found; i++) {
		char *p = xasprintf("%s/%s.yaml", dirs[i], name);
		if (access(p, R_OK) == 0)
			found = p;
		else
			free(p);
	}
	if (!found) {
		struct buf b;
		buf_init(&b, 0);
		for (i = 0; dirs[i]; i++)
			buf_addf(&b, "%s%s", i ? ":" : "", dirs[i]);
		err_set(err, "no runbook named '%s' (searched %s)", name, b.data);
		buf_release(&b);
	}
	runbook_path_free(dirs);
	return found;
}

void
runbook_when_text(const struct when *w, struct buf *b)
{
	size_t i;

	switch (w->kind) {
	case WHEN_NOT:
		buf_adds(b, "not (");
		runbook_when_text(w->subs[0], b);
		buf_adds(b, ")");
		return;
	case WHEN_ANY:
	case WHEN_ALL:
		for (i = 0; i < w->nsubs; i++) {
			if (i)
				buf_adds(b, w->kind == WHEN_ANY ? " or " : " and ");
			buf_adds(b, "(");
			runbook_when_text(w->subs[i], b);
			buf_adds(b, ")");
		}
		return;
	case WHEN_TEST:
		break;
	}
	buf_addf(b, "%s %s ", w->is_param ? "param" : "capture", w->name);
	if (w->op == WHEN_MATCHES) {
		buf_addf(b, "matches /%s/", w->values[0]);
		return;
	}
	if (w->op == WHEN_EQUALS) {
		buf_addf(b, "= '%s'", w->values[0]);
		return;
	}
	buf_adds(b, "in [");
	for (i = 0; i < w->nvalues; i++)
		buf_addf(b, "%s%s", i ? ", " : "", w->values[i]);
	buf_adds(b, "]");
}

static int
cmp_name(const void *a, const void *b)
{
	return strcmp((*(struct runbook *const *)a)->name, (*(struct runbook *const *)b)->name);
}

int
runbook_load_dir(const char *dir, struct runbook ***out, size_t *n, struct diags *d,
		 struct rbx_err *err)
{
	DIR *dp = opendir(dir);
	struct dirent *de;

	*out = NULL;
	*n = 0;
	if (!dp)
		return err_set(err, "cannot read %s: %s", dir, strerror(errno));
	while ((de = readdir(dp)) != NULL) {
		size_t l = strlen(de->d_name);
		char *path;
		struct runbook *rb;
		if (l < 6 || strcmp(de->d_name + l - 5, ".yaml"))
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		rb = runbook_load(path, d);
		free(path);
		if (!rb)
			continue;
		*out = xrealloc(*out, (*n + 1) * sizeof(**out));
		(*out)[(*n)++] = rb;
	}
	closedir(dp);
	if (*n)
		qsort(*out, *n, sizeof(**out), cmp_name);
	return 0;
}

void
runbooks_free(struct runbook **rbs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		runbook_free(rbs[i]);
	free(rbs);
}

void
runbook_load_catalogue(struct runbook ***out, size_t *n, struct diags *d)
{
	char **dirs = runbook_search_path();
	size_t i, j, k;

	*out = NULL;
	*n = 0;
	for (i = 0; dirs[i]; i++) {
		struct runbook **some;
		size_t m;
		struct rbx_err err;
		if (runbook_load_dir(dirs[i], &some, &m, d, &err) < 0)
			continue; /* a directory on the path that does not exist */
		for (j = 0; j < m; j++) {
			bool seen = false;
			for (k = 0; k < *n && !seen; k++)
				seen = strcmp((*out)[k]->name, some[j]->name) == 0;
			if (seen) {
				runbook_free(some[j]);
				continue;
			}
			*out = xrealloc(*out, (*n + 1) * sizeof(**out));
			(*out)[(*n)++] = some[j];
		}
		free(some);
	}
	runbook_path_free(dirs);
	if (*n)
		qsort(*out, *n, sizeof(**out), cmp_name);
}

static unsigned long long
stamp_mix(unsigned long long h, const void *p, size_t len)
{
	const unsigned char *c = p;

	while (len--)
		h = (h ^ *c++) * 1099511628211ULL; /* FNV-1a */
	return h;
}

unsigned long long
runbook_catalogue_stamp(void)
{
	char **dirs = runbook_search_path();
	unsigned long long h = 14695981039346656037ULL;
	size_t i;

	for (i = 0; dirs[i]; i++) {
		DIR *dp = opendir(dirs[i]);
		struct dirent *de;
		unsigned long long sum = 0; /* order-free: readdir's order may change */
		h = stamp_mix(h, dirs[i], strlen(dirs[i]) + 1);
		if (!dp)
			continue;
		while ((de = readdir(dp)) != NULL) {
			size_t l = strlen(de->d_name);
			struct stat st;
			unsigned long long f = 14695981039346656037ULL;
			if (l < 6 || strcmp(de->d_name + l - 5, ".yaml") ||
			    fstatat(dirfd(dp), de->d_name, &st, 0) < 0)
				continue;
			f = stamp_mix(f, de->d_name, l);
			f = stamp_mix(f, &st.st_ino, sizeof(st.st_ino));
			f = stamp_mix(f, &st.st_size, sizeof(st.st_size));
			f = stamp_mix(f, &st.st_mtim, sizeof(st.st_mtim));
			f = stamp_mix(f, &st.st_ctim, sizeof(st.st_ctim));
			sum += f;
		}
		closedir(dp);
		h = stamp_mix(h, &sum, sizeof(sum));
	}
	runbook_path_free(dirs);
	return h;
}
