/* cmd_test.c - `rbx test [RUNBOOK|DIR ...]`: every scenario of the runbooks named, each on
 * a throwaway lab node; a line each, a summary, JUnit XML, JSON, and coverage. */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/runner.h"
#include "app/test_run.h"
#include "cli/cmd.h"
#include "cli/test_report.h"

static const struct opt test_opts_table[] = {
	{"jobs", 'j', "N", "scenarios at a time (default: the CPUs)", false},
	{"junit", 0, "FILE", "write JUnit XML (Jenkins, GitLab, GitHub show each scenario)", false},
	{"format", 0, "text|json", "how to print the results (default text)", false},
	{"coverage", 0, NULL, "say what the scenarios exercised; fail on a gap not waived", false},
	{"keep", 0, "DIR", "keep each scenario's state dir below DIR, to look at", false},
	{NULL, 0, NULL, NULL, false},
};

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
add(char ***v, size_t *n, char *s)
{
	*v = xrealloc(*v, (*n + 2) * sizeof(char *));
	(*v)[(*n)++] = s;
	(*v)[*n] = NULL;
}

/* A directory's runbooks (its .yaml files), each with its scenario file or none. */
static void
collect_dir(const char *dir, char ***v, size_t *n, char ***bare, size_t *nbare)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t k = 0, i;

	while (d && (de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (l > 5 && !strcmp(de->d_name + l - 5, ".yaml"))
			add(&names, &k, xasprintf("%s/%s", dir, de->d_name));
	}
	if (d)
		closedir(d);
	if (k)
		qsort(names, k, sizeof(char *), cmp_str);
	for (i = 0; i < k; i++) {
		char *sc = scenario_path_for(names[i]);
		if (access(sc, F_OK) == 0)
			add(v, n, sc);
		else {
			free(sc);
			add(bare, nbare, xstrdup(names[i]));
		}
		free(names[i]);
	}
	free(names);
}

/* The scenario files the arguments name: a dir's runbooks, a runbook file or name, or a
 * scenario file itself. A runbook without one goes to bare. */
static int
collect(struct args *a, char ***v, size_t *n, char ***bare, size_t *nbare, struct rbx_err *err)
{
	static char dflt[] = "runbooks";
	char *defaults[] = {dflt};
	char **paths = a->argc ? a->argv : defaults;
	int np = a->argc ? a->argc : 1, i;

	for (i = 0; i < np; i++) {
		struct stat st;
		bool exists = stat(paths[i], &st) == 0;
		char *rb, *sc;
		if (exists && S_ISDIR(st.st_mode)) {
			collect_dir(paths[i], v, n, bare, nbare);
			continue;
		}
		if (exists && strstr(paths[i], "tests/")) {
			add(v, n, xstrdup(paths[i])); /* a scenario file */
			continue;
		}
		rb = exists ? xstrdup(paths[i]) : runbook_find(paths[i], err);
		if (!rb)
			return -1;
		sc = scenario_path_for(rb);
		if (access(sc, F_OK) == 0)
			add(v, n, sc);
		else {
			free(sc);
			add(bare, nbare, xstrdup(rb));
		}
		free(rb);
	}
	return 0;
}

static int
jobs_of(struct args *a, struct rbx_err *err)
{
	const char *v = args_get(a, "jobs");
	char *end;
	long n;

	if (!v) {
		n = sysconf(_SC_NPROCESSORS_ONLN);
		return n > 0 ? (int)n : 1;
	}
	n = strtol(v, &end, 10);
	if (*end || n < 1 || n > 256)
		return err_set(err, "--jobs '%s': 1 to 256", v);
	return (int)n;
}

static enum rbx_status
test_exec(struct args *a, struct rbx_err *err)
{
	static const char *const formats[] = {"text", "json", NULL};
	static const char *const lab_args[] = {"--lab", NULL};
	char **paths = NULL, **bare = NULL;
	size_t npaths = 0, nbare = 0, nfiles = 0, nres = 0, i;
	struct scenario_file **files = NULL;
	struct test_result *res = NULL;
	struct test_report rep = {0};
	struct test_opts o = {0};
	const struct transport_entry *te;
	struct diags d;
	enum rbx_status st = RBX_USAGE;
	long long t0 = util_now_ms();
	json_t *cov = NULL;
	int jobs;

	diags_init(&d);
	if (args_format(a, "text", formats, &rep.format, err) < 0 || (jobs = jobs_of(a, err)) < 0 ||
	    collect(a, &paths, &npaths, &bare, &nbare, err) < 0)
		goto out;
	te = registry_transport("lab");
	files = xcalloc(npaths + 1, sizeof(*files));
	for (i = 0; i < npaths; i++) {
		struct scenario_file *f = scenario_file_load(paths[i], te ? te->sim : NULL, &d);
		if (f)
			files[nfiles++] = f;
	}
	if (d.nerrors) {
		diags_print(&d, stderr);
		err_set(err, "%zu error(s) in scenario files: nothing ran", d.nerrors);
		goto out;
	}
	if (!nfiles && !nbare) {
		err_set(err, "no runbooks or scenarios found");
		goto out;
	}
	o.via = "lab";
	o.run_args = lab_args;
	o.jobs = jobs;
	o.keep = args_get(a, "keep");
	o.stop = runner_trap_signals();
	o.done = test_report_line;
	o.arg = &rep;
	rep.tty = isatty(STDOUT_FILENO);
	st = RBX_FAILED;
	if (o.keep && util_mkdir_p(o.keep, 0700, err) < 0)
		goto out;
	if (test_run(files, nfiles, &o, &res, &nres, err) < 0) {
		st = RBX_INTERRUPTED;
		goto out;
	}
	rep.ms = util_now_ms() - t0;
	if (args_has(a, "coverage"))
		cov = test_coverage(files, nfiles, res, nres);
	if (args_get(a, "junit") && test_report_junit(args_get(a, "junit"), res, nres, rep.ms, err) < 0)
		goto out;
	test_report_summary(&rep, res, nres, (const char *const *)bare, nbare, cov);
	st = rep.failed || (cov && !json_is_true(json_object_get(cov, "complete"))) ? RBX_FAILED
										      : RBX_OK;
	if (st != RBX_OK)
		err_set(err, rep.failed ? "%zu of %zu scenarios failed" : "coverage has gaps not waived",
			rep.failed, nres);
out:
	json_decref(cov);
	test_results_free(res, nres);
	for (i = 0; i < nfiles; i++)
		scenario_file_free(files[i]);
	free(files);
	for (i = 0; i < npaths; i++)
		free(paths[i]);
	free(paths);
	for (i = 0; i < nbare; i++)
		free(bare[i]);
	free(bare);
	diags_release(&d);
	return st;
}

const struct cmd cmd_test = {
	"test", "[RUNBOOK|DIR ...] [-j N] [--junit FILE] [--format text|json] [--coverage]",
	"run each runbook's scenarios (DIR/tests/NAME.yaml), each on a throwaway lab node",
	test_opts_table, 0, -1, test_exec,
};
