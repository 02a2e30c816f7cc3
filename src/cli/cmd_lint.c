/* cmd_lint.c - `rbx lint [PATH...]`: load every runbook (files or directories),
 * check schema and policy, print each finding as file:line:col, exit 2 on errors. */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cmd.h"
#include "core/lint.h"
#include "core/runbook.h"

static const struct opt lint_opts[] = {
	{"strict", 0, NULL, "treat warnings as errors", false},
	{NULL, 0, NULL, NULL, false},
};

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool
is_yaml(const char *name)
{
	size_t n = strlen(name);
	return (n > 5 && !strcmp(name + n - 5, ".yaml")) || (n > 4 && !strcmp(name + n - 4, ".yml"));
}

/* Files to lint under path: the file itself, or a directory's *.yaml, sorted. */
static char **
collect(const char *path, size_t *n, struct rbx_err *err)
{
	struct stat st;
	char **v = NULL;
	DIR *d;
	struct dirent *de;

	*n = 0;
	if (stat(path, &st) < 0) {
		char *found = runbook_find(path, err);
		if (!found)
			return NULL;
		v = xcalloc(2, sizeof(char *));
		v[(*n)++] = found;
		return v;
	}
	if (!S_ISDIR(st.st_mode)) {
		v = xcalloc(2, sizeof(char *));
		v[(*n)++] = xstrdup(path);
		return v;
	}
	d = opendir(path);
	if (!d) {
		err_set(err, "cannot read directory %s", path);
		return NULL;
	}
	v = xcalloc(1, sizeof(char *));
	while ((de = readdir(d)) != NULL) {
		if (!is_yaml(de->d_name))
			continue;
		v = xrealloc(v, (*n + 2) * sizeof(char *));
		v[(*n)++] = xasprintf("%s/%s", path, de->d_name);
	}
	closedir(d);
	qsort(v, *n, sizeof(char *), cmp_str);
	return v;
}

static enum rbx_status
lint_exec(struct args *a, struct rbx_err *err)
{
	static char dflt[] = "runbooks";
	char *defaults[] = {dflt};
	char **paths = a->argc ? a->argv : defaults;
	int npaths = a->argc ? a->argc : 1, i;
	size_t nfiles = 0, nerr = 0, nwarn = 0, k;
	struct diags d;

	diags_init(&d);
	for (i = 0; i < npaths; i++) {
		size_t n;
		char **files = collect(paths[i], &n, err);
		if (!files) {
			diags_release(&d);
			return RBX_USAGE;
		}
		for (k = 0; k < n; k++) {
			struct runbook *rb = runbook_load(files[k], &d);
			if (rb)
				lint_runbook(rb, &d);
			runbook_free(rb);
			free(files[k]);
			nfiles++;
		}
		free(files);
	}
	diags_print(&d, stderr);
	for (k = 0; k < d.n; k++) {
		if (d.v[k].level == DIAG_ERROR)
			nerr++;
		else
			nwarn++;
	}
	fprintf(stderr, "rbx lint: %zu runbook%s, %zu error%s, %zu warning%s\n", nfiles,
		nfiles == 1 ? "" : "s", nerr, nerr == 1 ? "" : "s", nwarn, nwarn == 1 ? "" : "s");
	diags_release(&d);
	if (nfiles == 0)
		return err_set(err, "no runbooks found"), RBX_USAGE;
	return nerr || (nwarn && args_has(a, "strict")) ? RBX_USAGE : RBX_OK;
}

const struct cmd cmd_lint = {
	"lint", "[--strict] [PATH...]",
	"check runbooks (files, directories, or names; default ./runbooks) against the schema "
	"and the safety rules",
	lint_opts, 0, -1, lint_exec,
};
