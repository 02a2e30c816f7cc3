/* cmd_lint.c - `rbx lint [PATH...]`: load every runbook (files or directories),
 * check schema and policy, print each finding as file:line:col, exit 2 on errors. */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cmd.h"
#include "cli/lint_report.h"
#include "core/lint.h"
#include "core/runbook.h"

static const struct opt lint_opts[] = {
	{"strict", 0, NULL, "treat warnings as errors", false},
	{"format", 0, "text|github|sarif|json", "how to report: text on stderr, or github "
						"annotations, SARIF 2.1.0 or JSON on stdout", false},
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

/* The rule of each finding from *ntagged up to upto. */
static void
tag(const char ***rules, size_t *ntagged, size_t upto, const char *rule)
{
	*rules = xrealloc(*rules, (upto + 1) * sizeof(**rules));
	while (*ntagged < upto)
		(*rules)[(*ntagged)++] = rule;
}

static enum rbx_status
lint_exec(struct args *a, struct rbx_err *err)
{
	static char dflt[] = "runbooks";
	char *defaults[] = {dflt};
	char **paths = a->argc ? a->argv : defaults;
	int npaths = a->argc ? a->argc : 1, i;
	static const char *const formats[] = {"text", "github", "sarif", "json", NULL};
	size_t nfiles = 0, nerr = 0, nwarn = 0, ntagged = 0, k;
	const char **rules = NULL;
	const char *format;
	struct diags d;

	if (args_format(a, "text", formats, &format, err) < 0)
		return RBX_USAGE;
	diags_init(&d);
	for (i = 0; i < npaths; i++) {
		size_t n;
		char **files = collect(paths[i], &n, err);
		if (!files) {
			diags_release(&d);
			return RBX_USAGE;
		}
		for (k = 0; k < n; k++) {
			/* What the loader refused is rbx/load; what the rules found, rbx/lint. */
			struct runbook *rb = runbook_load(files[k], &d);
			tag(&rules, &ntagged, d.n, "rbx/load");
			if (rb)
				lint_runbook(rb, &d);
			tag(&rules, &ntagged, d.n, "rbx/lint");
			runbook_free(rb);
			free(files[k]);
			nfiles++;
		}
		free(files);
	}
	if (!strcmp(format, "github"))
		lint_report_github(stdout, &d);
	else if (!strcmp(format, "sarif"))
		lint_report_sarif(stdout, &d, rules);
	else if (!strcmp(format, "json"))
		lint_report_json(stdout, &d, rules, nfiles);
	else
		diags_print(&d, stderr);
	free(rules);
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
