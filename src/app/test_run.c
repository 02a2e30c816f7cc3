/* test_run.c - runs scenarios: a fresh simulated node and state dir each, `rbx run` in a
 * process group of its own (so a timeout ends all of it), up to N at a time. */
#define _GNU_SOURCE
#include "app/test_run.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/journal.h"

struct slot {
	pid_t pid; /* 0: free */
	size_t idx;
	long long t0;
	char *dir;
};

/* argv for `rbx run RUNBOOK --node N ...` (the strings are the scenario's). */
static const char **
run_argv(const struct test_opts *o, const struct scenario_file *f, const struct scenario *s)
{
	const char **v = xcalloc(16 + 2 * (s->nparams + s->nanswers), sizeof(char *));
	size_t k = 0, i;

	v[k++] = "rbx";
	v[k++] = "run";
	v[k++] = f->runbook_path;
	v[k++] = "--node";
	v[k++] = s->node;
	for (i = 0; o->run_args && o->run_args[i] && i < 4; i++)
		v[k++] = o->run_args[i];
	if (s->yes)
		v[k++] = "--yes";
	for (i = 0; i < s->nanswers; i++) {
		v[k++] = "--answer";
		v[k++] = s->answers[i];
	}
	if (s->json) {
		v[k++] = "--format";
		v[k++] = "json";
	}
	for (i = 0; i < s->nparams; i++) {
		v[k++] = "--param";
		v[k++] = s->params[i];
	}
	return v;
}

static char *
new_state_dir(const struct test_opts *o, const struct scenario_file *f, size_t idx,
	      struct rbx_err *err)
{
	char *dir;

	if (o->keep) {
		dir = xasprintf("%s/%s-%zu", o->keep, f->rb->name, idx + 1);
		util_rm_rf(dir);
		if (util_mkdir_p(dir, 0700, err) < 0) {
			free(dir);
			return NULL;
		}
		return dir;
	}
	{
		const char *tmp = getenv("TMPDIR");
		dir = xasprintf("%s/rbx-scenario.XXXXXX", tmp && *tmp == '/' ? tmp : "/tmp");
	}
	if (!mkdtemp(dir)) {
		err_set(err, "cannot make a state dir for the scenario: %s", strerror(errno));
		free(dir);
		return NULL;
	}
	return dir;
}

/* Start one scenario; 0 with the slot filled, -1 with err (nothing left running). */
static int
start(const struct test_opts *o, const struct scenario_file *f, const struct scenario *s,
      size_t idx, struct slot *sl, struct rbx_err *err)
{
	const struct transport_entry *te = registry_transport(o->via);
	const char **argv;
	char *out;
	int fd;
	pid_t pid;

	if (!te || !te->sim)
		return err_set(err, "'%s' is no simulated transport", o->via);
	if (!(sl->dir = new_state_dir(o, f, idx, err)))
		return -1;
	if (te->sim->prepare(sl->dir, s->node, (int)s->nfaults, s->faults, s->stubs, err) < 0)
		return -1;
	out = xasprintf("%s/output.txt", sl->dir);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	free(out);
	if (fd < 0)
		return err_set(err, "cannot write the scenario's output: %s", strerror(errno));
	argv = run_argv(o, f, s);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);
		setpgid(0, 0);
		setenv("RBX_STATE_DIR", sl->dir, 1);
		dup2(null, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		execv("/proc/self/exe", (char *const *)argv);
		_exit(127);
	}
	free(argv);
	close(fd);
	if (pid < 0)
		return err_set(err, "cannot fork: %s", strerror(errno));
	setpgid(pid, pid); /* both sides: the group exists before a timeout may kill it */
	sl->pid = pid;
	sl->idx = idx;
	sl->t0 = util_now_ms();
	return 0;
}

/* The last records of the journal, one compact line each, for a failure's report. */
static char *
journal_tail(json_t *recs)
{
	struct buf b;
	size_t n = json_array_size(recs), i;

	buf_init(&b, 0);
	for (i = n > 12 ? n - 12 : 0; i < n; i++) {
		char *line = json_dumps(json_array_get(recs, i), JSON_COMPACT | JSON_PRESERVE_ORDER);
		buf_addf(&b, "%.300s\n", line ? line : "?");
		free(line);
	}
	return buf_detach(&b);
}

static void
finish(const struct test_opts *o, struct slot *sl, int status, bool timed_out,
       struct test_result *r)
{
	char **ids = journal_list_runs(sl->dir);
	struct rbx_err err;

	r->ms = util_now_ms() - sl->t0;
	r->exit = timed_out ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (ids && ids[0]) {
		char *path = journal_run_path(sl->dir, ids[0]);
		r->records = journal_read(path, NULL, NULL, &err);
		free(path);
	}
	journal_free_list(ids);
	if (!r->records)
		r->records = json_array();
	{
		json_t *last = json_array_get(r->records, json_array_size(r->records) - 1);
		const char *st = json_string_value(json_object_get(last, "state"));
		bool ended = !strcmp(json_string_value(json_object_get(last, "type")) ?: "", "run_end");
		snprintf(r->end_state, sizeof(r->end_state), "%s",
			 ended && st ? st : json_array_size(r->records) ? "UNFINISHED" : "NEVER_BEGAN");
	}
	r->tail = journal_tail(r->records);
	if (!json_array_size(r->records)) { /* refused before any journal: what rbx said */
		char *path = xasprintf("%s/output.txt", sl->dir), *text;
		size_t len;
		text = util_read_file(path, 1u << 20, &len, &err);
		free(path);
		free(r->tail);
		r->tail = text ? xasprintf("(no journal; rbx run said:)\n%s", len > 4000 ? text + len - 4000 : text)
			       : xstrdup("");
		free(text);
	}
	if (timed_out) {
		r->pass = false;
		buf_addf(&r->why, "timed out after %llds: ended\n", r->s->timeout_ms / 1000);
	} else {
		test_check(o, sl->dir, r);
	}
	if (o->keep) {
		r->state_dir = sl->dir;
	} else {
		util_rm_rf(sl->dir);
		free(sl->dir);
	}
	sl->dir = NULL;
	sl->pid = 0;
}

/* How long a timed-out run gets to stop as an interrupted run does, before SIGKILL. */
#define STOP_GRACE_MS 3000

/*
 * End a run that overran: SIGTERM, as Ctrl-C would, so it stops its step and journals
 * where it stood; SIGKILL to its group if it has not after the grace.
 */
static void
stop_run(pid_t pid, int *status)
{
	long long t0 = util_now_ms();

	kill(-pid, SIGTERM);
	while (waitpid(pid, status, WNOHANG) == 0) {
		if (util_now_ms() - t0 > STOP_GRACE_MS) {
			kill(-pid, SIGKILL);
			waitpid(pid, status, 0);
			return;
		}
		util_sleep_ms(10);
	}
}

/*
 * rbx test is the subreaper of what its runs start: a step's shell in a group of its
 * own, orphaned by a run that was killed, comes to it. Any such child that is no run's
 * is left over: it is killed with its group, and collected.
 */
static void
sweep_orphans(const struct slot *slots, int n)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	pid_t me = getpid();

	while (d && (de = readdir(d)) != NULL) {
		pid_t pid = (pid_t)atoi(de->d_name), ppid = 0;
		char path[64], line[256];
		FILE *fp;
		bool ours = false;
		int i;
		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
		if (!(fp = fopen(path, "r")))
			continue;
		while (fgets(line, sizeof(line), fp))
			if (!strncmp(line, "PPid:", 5))
				ppid = (pid_t)atoi(line + 5);
		fclose(fp);
		if (ppid != me)
			continue;
		for (i = 0; i < n; i++)
			ours |= slots[i].pid == pid;
		if (ours)
			continue;
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	if (d)
		closedir(d);
}

/* Collect what ended and end what overran; returns how many slots freed. */
static size_t
reap(const struct test_opts *o, struct slot *slots, int n, struct test_result *res)
{
	size_t freed = 0;
	int i, status;

	for (i = 0; i < n; i++) {
		struct slot *sl = &slots[i];
		bool over;
		pid_t w;
		if (!sl->pid)
			continue;
		w = waitpid(sl->pid, &status, WNOHANG);
		over = util_now_ms() - sl->t0 > res[sl->idx].s->timeout_ms || (o->stop && *o->stop);
		if (w == 0 && !over)
			continue;
		if (w == 0)
			stop_run(sl->pid, &status);
		sl->pid = 0; /* no run's any more: what it left is swept */
		sweep_orphans(slots, n);
		finish(o, sl, status, w == 0, &res[sl->idx]);
		if (o->done)
			o->done(o->arg, &res[sl->idx]);
		freed++;
	}
	return freed;
}

int
test_run(struct scenario_file **files, size_t nfiles, const struct test_opts *o,
	 struct test_result **out, size_t *nout, struct rbx_err *err)
{
	size_t total = 0, next = 0, running = 0, i, k;
	int jobs = o->jobs > 0 ? o->jobs : 1, j, rc = 0;
	struct slot *slots = xcalloc((size_t)jobs, sizeof(*slots));
	struct test_result *res;

	/* Orphans of the runs (a step's shell in its own group) come back here to be ended. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	for (i = 0; i < nfiles; i++)
		total += files[i]->n;
	res = xcalloc(total + 1, sizeof(*res));
	for (i = 0, k = 0; i < nfiles; i++)
		for (j = 0; (size_t)j < files[i]->n; j++, k++) {
			res[k].file = files[i];
			res[k].s = &files[i]->items[j];
			buf_init(&res[k].why, 0);
		}
	while ((next < total && !(o->stop && *o->stop)) || running) {
		for (j = 0; j < jobs && next < total && !(o->stop && *o->stop); j++) {
			if (slots[j].pid)
				continue;
			if (start(o, res[next].file, res[next].s, next, &slots[j], err) < 0) {
				/* Nothing of it runs: the scenario fails with why, the rest go on. */
				res[next].exit = -1;
				snprintf(res[next].end_state, sizeof(res[next].end_state), "NOT_RUN");
				buf_addf(&res[next].why, "could not start: %s\n", err->msg);
				res[next].tail = xstrdup("");
				if (slots[j].dir && !o->keep)
					util_rm_rf(slots[j].dir);
				free(slots[j].dir);
				slots[j].dir = NULL;
				if (o->done)
					o->done(o->arg, &res[next]);
			} else {
				running++;
			}
			next++;
		}
		running -= reap(o, slots, jobs, res);
		if (running)
			util_sleep_ms(5);
	}
	if (next < total)
		rc = err_set(err, "stopped: %zu scenarios not run", total - next);
	free(slots);
	*out = res;
	*nout = total;
	return rc;
}

void
test_results_free(struct test_result *r, size_t n)
{
	size_t i;

	for (i = 0; r && i < n; i++) {
		buf_release(&r[i].why);
		json_decref(r[i].records);
		free(r[i].tail);
		free(r[i].state_dir);
	}
	free(r);
}
