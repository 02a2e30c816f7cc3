/* lab_transport.c - the lab seen as a node: its scheduler (the guard's cordon state
 * in the node's file) and its transport (steps in the lab's PATH, confined). */
#define _GNU_SOURCE
#include "lab/lab.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "io/journal.h"

#include "lab/lab_internal.h"

/* Harmless text tools from the host, by their real paths. */
const char *const lab_allowed[] = {
	"grep", "sed", "awk", "cut", "head", "tail", "sort", "uniq", "tr", "wc", "cat", "printf",
	"echo", "test", "[", "date", "sleep", "true", "false", "seq", "basename", "dirname",
	"tee", "expr", "xargs", "ls", "stat", "sha256sum", "paste", NULL,
};

/* ---- the lab scheduler ---------------------------------------------------------- */

struct sched_lab {
	char *node_dir;
};

struct sched_op {
	const char *op;
	const char *reason;
	const char *node;
	long long timeout_ms;
};

/*
 * Slurm's DRAIN waits for the jobs on the node to end, and a hung job never
 * does: the drain runs into its timeout. The lab does not wait the timeout
 * out; it fails at once, with the message the guard would give.
 */
static int
drain_blocked(json_t *st, const struct sched_op *o, struct rbx_err *err)
{
	json_t *job = json_object_get(json_object_get(st, "cluster"), "job");
	const char *state = json_string_value(json_object_get(job, "state"));

	if (!json_is_true(json_object_get(job, "on_node")) || json_is_true(json_object_get(job, "gone")) ||
	    !state || strcmp(state, "RUNNING") != 0)
		return 0;
	return err_set(err, "node %s did not drain within %llds: job %s still runs on it "
			    "(simulated: the lab fails the drain at once instead of waiting)",
		       o->node, o->timeout_ms / 1000,
		       json_string_value(json_object_get(job, "id")));
}

static int
sched_apply(json_t *st, void *arg, struct rbx_err *err)
{
	struct sched_op *o = arg;
	json_t *s = json_object_get(st, "sched");

	if (!strcmp(o->op, "drain") && drain_blocked(st, o, err) < 0)
		return -1; /* the guard's cordon, made before, stays */
	if (!strcmp(o->op, "cordon")) {
		json_object_set_new(s, "cordoned", json_true());
		json_object_set_new(s, "reason", json_string(o->reason));
	} else if (!strcmp(o->op, "drain")) {
		/* The lab's jobs requeue elsewhere as soon as the node drains. */
		json_object_set_new(s, "cordoned", json_true());
		json_object_set_new(s, "drained", json_true());
		json_object_set_new(s, "jobs", json_integer(0));
		json_object_set_new(s, "reason", json_string(o->reason));
	} else if (!strcmp(o->op, "uncordon")) {
		json_object_set_new(s, "cordoned", json_false());
		json_object_set_new(s, "drained", json_false());
		json_object_set_new(s, "reason", json_string(""));
	} else {
		json_object_set_new(s, "reason", json_string(o->reason));
	}
	json_array_append_new(json_object_get(s, "history"),
			      json_pack("{s:I, s:s, s:s}", "t", (json_int_t)lab_now(st), "op", o->op,
					"reason", o->reason ? o->reason : ""));
	return 0;
}

/*
 * Test hook: with RBX_LAB_EXEC_LOG set, every command the lab runs and every
 * guard operation is appended there (JSON lines), the crash test's independent
 * record of what really ran. Lab only; commands are logged as given. Compiled
 * only into the test build (RBX_TEST_HOOKS).
 */
#ifdef RBX_TEST_HOOKS
static void
exec_log(const char *kind, const char *what)
{
	const char *path = getenv("RBX_LAB_EXEC_LOG");
	json_t *rec;
	char *line;
	int fd;

	if (!path || !*path)
		return;
	rec = json_pack("{s:s}", kind, what);
	line = json_dumps(rec, JSON_COMPACT);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd >= 0 && line) {
		struct buf b;
		buf_init(&b, 0);
		buf_adds(&b, line);
		buf_adds(&b, "\n");
		/* A test hook that cannot write makes its test fail on the missing line. */
		if (write(fd, b.data, b.len) < 0)
			b.len = 0;
		buf_release(&b);
	}
	if (fd >= 0)
		close(fd);
	free(line);
	json_decref(rec);
}
#else
static void
exec_log(const char *kind, const char *what)
{
	(void)kind;
	(void)what;
}
#endif

static int
lab_sched_state(struct sched *s, struct sched_state *out, struct rbx_err *err)
{
	struct sched_lab *l = s->priv;
	json_t *st = lab_node_load(l->node_dir, s->node, err), *sc;

	if (!st)
		return -1;
	sc = json_object_get(st, "sched");
	memset(out, 0, sizeof(*out));
	out->cordoned = json_is_true(json_object_get(sc, "cordoned"));
	out->drained = json_is_true(json_object_get(sc, "drained"));
	out->jobs = (int)json_integer_value(json_object_get(sc, "jobs"));
	snprintf(out->reason, sizeof(out->reason), "%s",
		 json_string_value(json_object_get(sc, "reason")));
	json_decref(st);
	return 0;
}

static int
lab_sched_op(struct sched *s, const char *op, const char *reason, long long timeout_ms,
	     struct rbx_err *err)
{
	struct sched_lab *l = s->priv;
	struct sched_op o = {op, reason, s->node, timeout_ms};

	exec_log("sched", op);
	return lab_node_update(l->node_dir, s->node, sched_apply, &o, err);
}

static int
lab_cordon(struct sched *s, const char *reason, struct rbx_err *err)
{
	return lab_sched_op(s, "cordon", reason, 0, err);
}

static int
lab_drain(struct sched *s, const char *reason, long long timeout_ms, struct rbx_err *err)
{
	return lab_sched_op(s, "drain", reason, timeout_ms, err);
}

static int
lab_uncordon(struct sched *s, struct rbx_err *err)
{
	return lab_sched_op(s, "uncordon", "", 0, err);
}

static int
lab_set_reason(struct sched *s, const char *reason, struct rbx_err *err)
{
	return lab_sched_op(s, "reason", reason, 0, err);
}

static void
lab_sched_free(struct sched *s)
{
	struct sched_lab *l = s->priv;

	free(l->node_dir);
	free(l);
}

static const struct sched_ops lab_sched_ops = {
	"lab", lab_sched_state, lab_cordon, lab_drain, lab_uncordon, lab_set_reason, lab_sched_free,
	NULL,
};

struct sched *
sched_lab_new(const char *state_dir, const char *node)
{
	struct sched *s = xcalloc(1, sizeof(*s));
	struct sched_lab *l = xcalloc(1, sizeof(*l));

	l->node_dir = lab_node_dir(state_dir, node);
	s->ops = &lab_sched_ops;
	s->node = xstrdup(node);
	s->priv = l;
	return s;
}


/* ---- the lab transport --------------------------------------------------------- */

struct lab_tx {
	char *node;
	char *node_dir;
	char *work_dir;
	struct lab_sandbox *sandbox; /* Landlock, applied to each step (lab_sandbox_enter) */
	char **env;
};

static char *
find_in_path(const char *tool)
{
	static const char *const dirs[] = {"/usr/local/bin", "/usr/bin", "/bin", NULL};
	size_t i;

	for (i = 0; dirs[i]; i++) {
		char *p = xasprintf("%s/%s", dirs[i], tool);
		if (access(p, X_OK) == 0)
			return p;
		free(p);
	}
	return NULL;
}

static char *
self_exe(struct rbx_err *err)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

	if (n < 0) {
		err_sys(err, "cannot find rbx's own binary: %s", strerror(errno));
		return NULL;
	}
	buf[n] = 0;
	return xstrdup(buf);
}

static int
link_tool(const char *target, const char *bin, const char *name, struct rbx_err *err)
{
	char *p = xasprintf("%s/%s", bin, name);
	int r = 0;

	if (symlink(target, p) < 0 && errno != EEXIST)
		r = err_sys(err, "cannot make %s: %s", p, strerror(errno));
	free(p);
	return r;
}

/* FNV-1a over a string and its terminating zero: the shared bin dir's name. */
static uint64_t
hash_add(uint64_t h, const char *s)
{
	do {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	} while (*s++);
	return h;
}

/* Link every tool into dir: simulated tools and refusals at rbx, text tools at the host's. */
static int
fill_bin_dir(const char *dir, const char *self, char **real, struct rbx_err *err)
{
	size_t i;

	for (i = 0; lab_tools_table[i].name; i++)
		if (link_tool(self, dir, lab_tools_table[i].name, err) < 0)
			return -1;
	for (i = 0; lab_refused[i]; i++)
		if (link_tool(self, dir, lab_refused[i], err) < 0)
			return -1;
	for (i = 0; lab_allowed[i]; i++)
		if (real[i] && link_tool(real[i], dir, lab_allowed[i], err) < 0)
			return -1;
	return 0;
}

/*
 * The lab's PATH is the same for every run of this rbx: made once per state dir,
 * not once per run (its hundred symlinks were most of a short lab run's cost).
 * Its name hashes rbx's path and every tool and target, so another rbx or another
 * tool list gets a dir of its own. Made aside and renamed into place: runs that
 * start together race safely, and none sees a half-made dir.
 */
static char *
shared_bin_dir(const char *state_dir, struct rbx_err *err)
{
	char *self = self_exe(err), **real, *dir = NULL, *tmp = NULL, *parent = NULL;
	uint64_t h = 14695981039346656037ULL;
	size_t i, n = 0;
	int rc = -1;

	if (!self)
		return NULL;
	while (lab_allowed[n])
		n++;
	real = xcalloc(n + 1, sizeof(*real));
	h = hash_add(h, self);
	for (i = 0; lab_tools_table[i].name; i++)
		h = hash_add(h, lab_tools_table[i].name);
	for (i = 0; lab_refused[i]; i++)
		h = hash_add(h, lab_refused[i]);
	for (i = 0; i < n; i++) {
		real[i] = find_in_path(lab_allowed[i]);
		h = hash_add(hash_add(h, lab_allowed[i]), real[i] ? real[i] : "");
	}
	parent = xasprintf("%s/lab/bin", state_dir);
	dir = xasprintf("%s/%016llx", parent, (unsigned long long)h);
	if (access(dir, X_OK) == 0) {
		rc = 0;
		goto out;
	}
	tmp = xasprintf("%s/.new-XXXXXX", parent);
	if (util_mkdir_p(parent, 0700, err) < 0)
		goto out;
	if (!mkdtemp(tmp)) {
		err_sys(err, "cannot make %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (fill_bin_dir(tmp, self, real, err) == 0) {
		/* Another run's rename may have won: theirs is the same, ours goes. */
		if (rename(tmp, dir) == 0 || access(dir, X_OK) == 0)
			rc = 0;
		else
			err_sys(err, "cannot make the lab's bin dir %s: %s", dir, strerror(errno));
	}
	util_rm_rf(tmp);
out:
	for (i = 0; i < n; i++)
		free(real[i]);
	free(real);
	free(tmp);
	free(parent);
	free(self);
	if (rc < 0) {
		free(dir);
		dir = NULL;
	}
	return dir;
}

/*
 * The training job's files in the node's home, as a crash left them: a log
 * of a run resumed once already (from step 1000), up to step 3050 and checkpoints at 1000 and 2000 (complete: eight shards and
 * the .metadata marker) and 3000 (torn: the crash hit during the save).
 */
static void
write_fixtures(const char *home)
{
	static const long steps[] = {1000, 2000, 3000};
	char *dir = xasprintf("%s/jobs/llm-7b", home), *log = xasprintf("%s/train.log", dir);
	struct rbx_err err;
	FILE *fp;
	size_t i;
	int r;

	if (access(log, F_OK) == 0 || util_mkdir_p(dir, 0700, &err) < 0)
		goto out;
	for (i = 0; i < 3; i++) {
		char *ck = xasprintf("%s/ckpt/step_%ld", dir, steps[i]);
		int shards = steps[i] == 3000 ? 5 : 8;
		util_mkdir_p(ck, 0700, &err);
		for (r = 0; r < shards; r++) {
			char *f = xasprintf("%s/__%d_0.distcp", ck, r);
			FILE *sf = fopen(f, "w");
			if (sf) {
				fprintf(sf, "shard %d of step %ld\n", r, steps[i]);
				fclose(sf);
			}
			free(f);
		}
		if (shards == 8) {
			char *f = xasprintf("%s/.metadata", ck);
			FILE *mf = fopen(f, "w");
			if (mf) {
				fprintf(mf, "{\"world_size\": 8, \"step\": %ld}\n", steps[i]);
				fclose(mf);
			}
			free(f);
		}
		free(ck);
	}
	fp = fopen(log, "w");
	if (fp) {
		/* It crashed once before and was resumed: the log holds both runs. */
		lab_train_append(fp, 1, 1400, 0);
		fprintf(fp, "[rank5]: RuntimeError: CUDA error: an illegal memory access was encountered\n");
		fprintf(fp, "resumed from jobs/llm-7b/ckpt/step_1000\n");
		lab_train_append(fp, 1001, 3050, 0);
		fprintf(fp, "[rank3]: RuntimeError: NCCL communicator was aborted on rank 3.\n");
		fclose(fp);
	}
out:
	free(dir);
	free(log);
}

static int
lab_tx_exec(struct transport *t, const char *cmd, const struct exec_opts *o,
	    struct exec_result *r, struct rbx_err *err)
{
	struct lab_tx *l = t->priv;
	struct exec_opts lo = *o;

	if (lab_check_command(cmd, err) < 0)
		return -1;
	exec_log("exec", cmd);
	lo.cwd = l->work_dir;
	lo.env = l->env;
	lo.confine = lab_sandbox_enter;
	lo.confine_arg = l->sandbox;
	return exec_local_run(cmd, &lo, r, err);
}

static int
lab_tx_reboot(struct transport *t, long long timeout_ms, struct rbx_err *err)
{
	struct lab_tx *l = t->priv;

	(void)timeout_ms;
	exec_log("exec", "reboot");
	return lab_reboot_node(l->node_dir, l->node, err);
}

static int
lab_tx_wait_up(struct transport *t, long long timeout_ms, struct rbx_err *err)
{
	(void)t;
	(void)timeout_ms;
	(void)err;
	return 0;
}

static int
clock_forward(json_t *st, void *arg, struct rbx_err *err)
{
	(void)err;
	jset_int(st, "clock_skew_ms", jint(st, "clock_skew_ms") + *(long long *)arg);
	return 0;
}

/*
 * A wait on a simulated node moves the node's clock, not the operator's: a
 * verify that retries for five minutes while Slurm requeues a job costs a lab
 * run nothing, and the tools see the minutes pass.
 */
static void
lab_tx_pause(struct transport *t, long long ms)
{
	struct lab_tx *l = t->priv;
	struct rbx_err err;

	if (lab_node_update(l->node_dir, l->node, clock_forward, &ms, &err) < 0)
		util_sleep_ms(ms); /* the node's state is unreadable: wait as a real node would */
}

static void
lab_tx_free(struct transport *t)
{
	struct lab_tx *l = t->priv;
	size_t i;

	for (i = 0; l->env && l->env[i]; i++)
		free(l->env[i]);
	free(l->env);
	free(l->node);
	free(l->node_dir);
	lab_sandbox_free(l->sandbox);
	free(l->work_dir);
	free(l);
}

/* A sanitizer build of the simulated tools reads its settings from these; nothing secret. */
static void
pass_sanitizer_env(char **env, size_t at)
{
	static const char *const names[] = {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", NULL};
	size_t i;

	for (i = 0; names[i]; i++) {
		const char *v = getenv(names[i]);
		if (v)
			env[at++] = xasprintf("%s=%s", names[i], v);
	}
}

static const struct transport_ops lab_tx_ops = {
	"lab", NULL, lab_tx_exec, lab_tx_reboot, lab_tx_wait_up, lab_tx_free, NULL, lab_tx_pause,
};

struct transport *
lab_transport_new(const char *state_dir, const char *node, const char *run_id,
		  const char *scratch, struct rbx_err *err)
{
	struct transport *t;
	struct lab_tx *l;
	char *bin = shared_bin_dir(state_dir, err), *stubs = NULL, *self = NULL;
	char *node_dir = lab_node_dir(state_dir, node);
	const char *tz = getenv("TZ");
	const char *dirs[3] = {bin, NULL, NULL};
	int r = bin ? 0 : -1;

	/* A scenario's stubs for the site's own commands: this run's, after the tools. */
	if (r == 0) {
		stubs = xasprintf("%s/lab/runs/%s/bin", state_dir, run_id);
		self = self_exe(err);
		r = self ? lab_link_stubs(stubs, self, node_dir, node, err) : -1;
		if (r > 0)
			dirs[1] = stubs;
	}
	free(self);
	free(node_dir);
	if (r < 0) {
		free(bin);
		free(stubs);
		return NULL;
	}
	l = xcalloc(1, sizeof(*l));
	l->node = xstrdup(node);
	l->node_dir = lab_node_dir(state_dir, node);
	l->work_dir = xasprintf("%s/%s", l->node_dir, scratch);
	if (util_mkdir_p(l->work_dir, 0700, err) < 0) {
		free(bin);
		free(stubs);
		lab_tx_free(&(struct transport){&lab_tx_ops, NULL, l});
		return NULL;
	}
	if (!strcmp(scratch, "scratch"))
		write_fixtures(l->work_dir);
	l->sandbox = lab_sandbox_new(dirs, l->node_dir);
	/* A clean environment: nothing of the operator's (tokens, proxies) reaches the lab. */
	l->env = xcalloc(12, sizeof(char *));
	l->env[0] = dirs[1] ? xasprintf("PATH=%s:%s", bin, dirs[1]) : xasprintf("PATH=%s", bin);

	l->env[1] = xasprintf("HOME=%s", l->work_dir);
	l->env[2] = xasprintf("%s=%s", LAB_ENV_STATE, l->node_dir);
	l->env[3] = xasprintf("RBX_LAB_NODE=%s", node);
	l->env[4] = xstrdup("LC_ALL=C");
	l->env[5] = xasprintf("TZ=%s", tz && *tz ? tz : "UTC");
	pass_sanitizer_env(l->env, 6);
	free(bin);
	free(stubs);
	t = xcalloc(1, sizeof(*t));
	t->ops = &lab_tx_ops;
	t->address = xasprintf("lab:%s", node);
	t->priv = l;
	return t;
}

void
lab_cleanup_run(const char *state_dir, const char *run_id)
{
	char *dir;

	if (!journal_valid_run_id(run_id))
		return;
	dir = xasprintf("%s/lab/runs/%s", state_dir, run_id);
	util_rm_rf(dir);
	free(dir);
}

int
lab_check_command(const char *cmd, struct rbx_err *err)
{
	const char *p = cmd;

	/* A word that starts with '/' and names an executable would bypass the lab's PATH. */
	while (*p) {
		size_t n;
		char *word;
		struct stat sb;

		while (*p && strchr(" \t\n;|&()`'\"<>=", *p))
			p++;
		n = strcspn(p, " \t\n;|&()`'\"<>");
		if (n && *p == '/') {
			word = xstrndup(p, n);
			if (stat(word, &sb) == 0 && S_ISREG(sb.st_mode) && (sb.st_mode & 0111)) {
				err_set(err, "'%s' names a real program; the lab runs only its simulated "
					     "tools (use the bare name)",
					word);
				free(word);
				return -1;
			}
			free(word);
		}
		p += n;
	}
	return 0;
}


int
lab_run_command(const char *state_dir, const char *node, const char *cmd,
		const struct strmap *vars, struct exec_result *res, struct rbx_err *err)
{
	struct exec_opts o = {0};
	struct transport *t;
	char run_id[64];
	int rc;

	/* A run of its own: its bin dir is made for it and removed after. */
	snprintf(run_id, sizeof(run_id), "exec-%ld-%lld", (long)getpid(), (long long)util_now_ms());
	o.vars = vars;
	o.timeout_ms = 60000;
	exec_result_init(res, &o);
	t = lab_transport_new(state_dir, node, run_id, "scratch", err);
	if (!t)
		return -1;
	rc = t->ops->exec(t, cmd, &o, res, err);
	transport_free(t);
	lab_cleanup_run(state_dir, run_id);
	return rc;
}
