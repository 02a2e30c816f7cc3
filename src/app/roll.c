/* roll.c - rolls a runbook over many nodes: batches of child processes, each a full
 * run; a journal of its own (roll_start, node_start, node_end, roll_end) for resume. */
#define _GNU_SOURCE
#include "app/roll.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/engine.h"
#include "core/inventory.h"
#include "io/journal.h"
#include "io/lock.h"
#include "core/resume.h"
#include "core/alert.h"
#include "core/inventory.h"
#include "core/runbook.h"

enum node_phase { RN_WAITING, RN_STARTED, RN_DONE };

struct roll_node {
	char *name;
	char run_id[160];
	enum node_phase phase;
	char end[32];
	int exit;
	long long duration_ms;
	pid_t pid;
};

struct roll {
	char *id;
	char *state_dir;
	char *runbook; /* absolute path */
	char *logdir;
	struct journal *j;
	int lock_fd; /* the roll's own lock: one rbx drives a roll at a time */
	struct roll_node *nodes;
	size_t n;
	int batch;
	int max_failures;
	int failures;
	struct runner_opts run;
	struct strmap params; /* what new runs get */
	char *halt;	      /* --halt-on-alert as given (journaled for a resume) */
	struct strmap halt_m; /* its labels */
	struct am_conf am;    /* the inventory's Alertmanager, asked between batches */
	bool halted;
};

static const char *
js(json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));
	return v ? v : "";
}

bool
roll_is_id(const char *id)
{
	return id && !strncmp(id, "roll-", 5) && journal_valid_run_id(id);
}

static void
roll_release(struct roll *R)
{
	size_t i;

	for (i = 0; i < R->n; i++)
		free(R->nodes[i].name);
	free(R->nodes);
	journal_close(R->j);
	lock_release(R->lock_fd);
	strmap_release(&R->params);
	strmap_release(&R->halt_m);
	am_conf_release(&R->am);
	free(R->halt);
	free(R->id);
	free(R->state_dir);
	free(R->runbook);
	free(R->logdir);
}

static void
emit(struct roll *R, json_t *rec)
{
	struct rbx_err err;

	if (journal_append_record(R->j, rec, true, &err) < 0)
		ui_notice(R->run.ui, UI_ERROR, "%s", err.msg);
	json_decref(rec);
}

/* How a node's run ended, from its journal; or from the child's exit when no run began. */
static void
read_end(struct roll *R, struct roll_node *rn, int status)
{
	struct rbx_err err;
	char *path = journal_run_path(R->state_dir, rn->run_id);
	json_t *recs = journal_read(path, NULL, NULL, &err), *where = NULL;

	free(path);
	rn->exit = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (recs && json_array_size(recs)) {
		where = resume_where(recs);
		snprintf(rn->end, sizeof(rn->end), "%s",
			 json_is_true(json_object_get(where, "finished")) ? js(where, "state")
									 : "INTERRUPTED");
	} else {
		/* No journal: the run never began (refused by a lock, the budget, bad input). */
		snprintf(rn->end, sizeof(rn->end), "%s",
			 rn->exit == RBX_LOCKED ? "LOCKED" : rn->exit == RBX_ABORTED ? "ABORTED"
							  : "NOT_RUN");
	}
	json_decref(where);
	json_decref(recs);
}

static void
child_run(struct roll *R, struct roll_node *rn, bool resume)
{
	struct runner_opts o = R->run;
	struct runner_result res;
	struct rbx_err err;
	int rc;

	if (R->batch > 1) {
		/* Side by side, each node's output goes to its own log. */
		char *log = xasprintf("%s/%s.log", R->logdir, rn->name);
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
		free(log);
	}
	o.runbook = R->runbook;
	o.node = rn->name;
	o.run_id = rn->run_id;
	o.resume = resume;
	if (!resume)
		o.params = &R->params;
	err.msg[0] = 0;
	rc = runner_exec(&o, &res, &err);
	if (err.msg[0])
		ui_notice(o.ui, UI_ERROR, "%s", err.msg);
	/* The child ends here (its output flushed by the front end's ui): the parent reads
	 * how the run went from its journal, and the exit code only when none began. */
	_exit(rc);
}

static int
start_node(struct roll *R, struct roll_node *rn, bool resume, struct rbx_err *err)
{
	if (!resume) {
		char *id = runner_new_run_id(rn->name);
		snprintf(rn->run_id, sizeof(rn->run_id), "%s", id);
		free(id);
		/* Journaled before the run exists, so a resume knows which run is this node's. */
		emit(R, json_pack("{s:s, s:s, s:s}", "type", "node_start", "node", rn->name, "node_run",
				  rn->run_id));
	}
	rn->phase = RN_STARTED;
	ui_notice(R->run.ui, UI_FLUSH, "%s", "");
	rn->pid = fork();
	if (rn->pid < 0)
		return err_set(err, "cannot start the run on %s: %s", rn->name, strerror(errno));
	if (rn->pid == 0)
		child_run(R, rn, resume);
	return 0;
}

static void
finish_node(struct roll *R, struct roll_node *rn, int status, int64_t t0)
{
	read_end(R, rn, status);
	rn->duration_ms = util_now_ms() - t0;
	rn->pid = 0;
	if (!strcmp(rn->end, "INTERRUPTED"))
		return; /* not done: a resume of the roll resumes this run */
	rn->phase = RN_DONE;
	if (strcmp(rn->end, "SUCCEEDED") != 0)
		R->failures++;
	emit(R, json_pack("{s:s, s:s, s:s, s:s, s:i, s:I}", "type", "node_end", "node", rn->name,
			  "node_run", rn->run_id, "state", rn->end, "exit", rn->exit, "duration_ms",
			  (json_int_t)rn->duration_ms));
	ui_notice(R->run.ui, UI_INFO, "   %-12s %-14s run %s  (%.1fs)", rn->name, rn->end,
		  rn->run_id, (double)rn->duration_ms / 1000.0);
}

/*
 * Wait for every started child; on an interrupt, pass it on to them once. The
 * flag is looked at every 50 ms at least, so a signal that comes between two waits
 * is forwarded all the same; a child's end wakes the wait at once (its pidfd).
 */
static void
wait_batch(struct roll *R, rbx_flag *stop, int64_t t0)
{
	bool forwarded = false;
	size_t i, k, left = 0;
	pid_t *pids = xcalloc(R->n + 1, sizeof(*pids));

	for (i = 0; i < R->n; i++)
		left += R->nodes[i].pid > 0;
	while (left) {
		int status;
		pid_t pid;

		if (*stop && !forwarded) {
			for (i = 0; i < R->n; i++)
				if (R->nodes[i].pid > 0)
					kill(R->nodes[i].pid, SIGTERM);
			forwarded = true;
		}
		pid = waitpid(-1, &status, WNOHANG);
		if (pid == 0 || (pid < 0 && errno == EINTR)) {
			for (i = k = 0; i < R->n; i++)
				if (R->nodes[i].pid > 0)
					pids[k++] = R->nodes[i].pid;
			util_wait_pids(pids, k, 50); /* a fixed 50 ms nap cost 25 ms a node */
			continue;
		}
		if (pid < 0)
			break;
		for (i = 0; i < R->n; i++)
			if (R->nodes[i].pid == pid) {
				finish_node(R, &R->nodes[i], status, t0);
				left--;
			}
	}	free(pids);
}

static const char *
roll_state(const struct roll *R, bool stopped_by_signal)
{
	size_t i;
	bool all = true;

	if (stopped_by_signal)
		return "INTERRUPTED";
	if (R->halted)
		return "HALTED";
	for (i = 0; i < R->n; i++)
		all &= R->nodes[i].phase == RN_DONE && !strcmp(R->nodes[i].end, "SUCCEEDED");
	return all ? "SUCCEEDED" : "FAILED";
}

/* The exit code: the worst end among the nodes (DESIGN.md section 6 order of gravity). */
static int
roll_exit(const struct roll *R, const char *state)
{
	static const char *const worst[] = {"FAILED_UNSAFE", "FAILED", "INTERRUPTED", "LOCKED",
					    "NOT_RUN", "ABORTED", NULL};
	static const int codes[] = {RBX_UNSAFE, RBX_FAILED, RBX_INTERRUPTED, RBX_LOCKED,
				    RBX_FAILED, RBX_ABORTED};
	size_t i, k;

	if (!strcmp(state, "INTERRUPTED"))
		return RBX_INTERRUPTED;
	if (!strcmp(state, "HALTED"))
		return RBX_FAILED;
	for (k = 0; worst[k]; k++)
		for (i = 0; i < R->n; i++)
			if (R->nodes[i].phase == RN_DONE && !strcmp(R->nodes[i].end, worst[k]))
				return codes[k];
	return !strcmp(state, "SUCCEEDED") ? RBX_OK : RBX_FAILED;
}

static void
summary(const struct roll *R)
{
	size_t i, ok = 0, bad = 0, idle = 0;

	ui_notice(R->run.ui, UI_INFO, "\n%-14s %-14s %-44s %s", "NODE", "STATE", "RUN", "DURATION");
	for (i = 0; i < R->n; i++) {
		const struct roll_node *rn = &R->nodes[i];
		char d[32] = "-";
		if (rn->phase != RN_WAITING)
			util_format_duration(rn->duration_ms, d, sizeof(d));
		ui_notice(R->run.ui, UI_INFO, "%-14s %-14s %-44s %s", rn->name,
		       rn->phase == RN_WAITING ? "NOT_STARTED"
		       : rn->phase == RN_DONE  ? rn->end
					       : "INTERRUPTED",
		       rn->phase == RN_WAITING ? "-" : rn->run_id, d);
		if (rn->phase == RN_WAITING)
			idle++;
		else if (rn->phase == RN_DONE && !strcmp(rn->end, "SUCCEEDED"))
			ok++;
		else
			bad++;
	}
	ui_notice(R->run.ui, UI_INFO, "roll %s: %zu succeeded, %zu failed or stopped, %zu not started",
		  R->id, ok, bad, idle);
}

/*
 * The canary gate: does the halt matcher's alert fire (in Alertmanager, not silenced)
 * on a node this roll already did? Then it stops before the next batch, naming both.
 */
static bool
halt_now(struct roll *R)
{
	struct rbx_err err;
	json_t *alerts, *a;
	size_t i, k, l;
	bool any_done = false, halt = false;

	for (i = 0; i < R->n; i++)
		any_done |= R->nodes[i].phase == RN_DONE;
	if (!R->halt || !any_done)
		return false;
	if (am_active_alerts(&R->am, &alerts, &err) < 0) {
		ui_notice(R->run.ui, UI_ERROR, "halting: cannot check --halt-on-alert: %s", err.msg);
		emit(R, json_pack("{s:s, s:s}", "type", "roll_halt", "error", err.msg));
		return true;
	}
	json_array_foreach(alerts, i, a) {
		json_t *labels = json_object_get(a, "labels");
		bool match = true;
		for (k = 0; k < R->halt_m.n && match; k++)
			match = !strcmp(js(labels, R->halt_m.keys[k]), R->halt_m.vals[k]);
		for (l = 0; match && !halt && l < R->am.nlabels; l++) {
			const char *v = js(labels, R->am.node_labels[l]);
			char *node = *v ? alert_node(v, NULL, 0, &err) : NULL;
			for (k = 0; node && k < R->n && !halt; k++)
				if (R->nodes[k].phase == RN_DONE && !strcmp(R->nodes[k].name, node)) {
					ui_notice(R->run.ui, UI_INFO, "halting: %s fires on %s, which this "
						  "roll already did; when it is fixed:  rbx resume %s",
						  js(labels, "alertname"), node, R->id);
					emit(R, json_pack("{s:s, s:s, s:s, s:O}", "type", "roll_halt", "node",
							  node, "alert", js(labels, "alertname"), "labels",
							  labels));
					halt = true;
				}
			free(node);
		}
		if (halt)
			break;
	}
	json_decref(alerts);
	return halt;
}

/* --halt-on-alert label=value[,label=value]; the inventory's Alertmanager answers it. */
static int
halt_setup(struct roll *R, const char *matcher, struct rbx_err *err)
{
	char *copy, *save = NULL, *tok, *path = NULL;
	struct inventory *inv = NULL;
	struct node_conf c;
	struct diags d;
	int rc = -1;

	if (!matcher || !*matcher)
		return 0;
	R->halt = xstrdup(matcher);
	copy = xstrdup(matcher);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq || eq == tok || !eq[1] || strspn(tok, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != (size_t)(eq - tok)) {
			err_set(err, "--halt-on-alert '%s': give label=value[,label=value]", matcher);
			free(copy);
			return -1;
		}
		*eq = 0;
		strmap_set(&R->halt_m, tok, eq + 1);
	}
	free(copy);
	diags_init(&d);
	memset(&c, 0, sizeof(c));
	path = inventory_default_path(R->run.inventory);
	if (!path || !R->n || !(inv = inventory_load(path, &d)) ||
	    inventory_resolve(inv, R->nodes[0].name, &c, err) < 0 || !c.alertmanager.url) {
		err_set(err, "--halt-on-alert asks the inventory's Alertmanager: give an inventory "
			     "with an alertmanager entry");
		goto out;
	}
	am_conf_copy(&R->am, &c.alertmanager);
	rc = 0;
out:
	node_conf_release(&c);
	inventory_free(inv);
	diags_release(&d);
	free(path);
	return rc;
}

static int
drive(struct roll *R, rbx_flag *stop, struct rbx_err *err)
{
	size_t i, nbatch = 0;
	const char *state;
	int64_t t0 = util_now_ms();
	bool resumed = false;
	struct buf line;
	int rc = RBX_FAILED;

	buf_init(&line, 0);
	/* Runs a crash or an interrupt left unfinished go first, all at once: each holds its node. */
	for (i = 0; i < R->n; i++)
		if (R->nodes[i].phase == RN_STARTED) {
			if (!resumed)
				ui_notice(R->run.ui, UI_INFO, "== resuming the unfinished runs");
			resumed = true;
			if (start_node(R, &R->nodes[i], true, err) < 0)
				goto out;
		}
	if (resumed)
		wait_batch(R, stop, t0);
	for (i = 0; i < R->n && !*stop && R->failures <= R->max_failures;) {
		size_t k, started = 0;
		for (; i < R->n && R->nodes[i].phase != RN_WAITING; i++)
			;
		if (i >= R->n)
			break;
		if (halt_now(R)) {
			R->halted = true;
			break;
		}
		buf_reset(&line);
		buf_addf(&line, "== batch %zu: ", ++nbatch);
		t0 = util_now_ms();
		for (k = i; k < R->n && started < (size_t)R->batch; k++) {
			if (R->nodes[k].phase != RN_WAITING)
				continue;
			buf_addf(&line, "%s ", R->nodes[k].name);
			started++;
		}
		if (R->batch > 1)
			buf_addf(&line, "(output in %s/)", R->logdir);
		ui_notice(R->run.ui, UI_INFO, "%s", line.data);
		for (started = 0; i < R->n && started < (size_t)R->batch; i++) {
			if (R->nodes[i].phase != RN_WAITING)
				continue;
			if (start_node(R, &R->nodes[i], false, err) < 0)
				goto out;
			started++;
		}
		wait_batch(R, stop, t0);
		for (k = 0; k < R->n; k++)
			if (R->nodes[k].phase == RN_STARTED)
				*stop = 1; /* a run was interrupted: the roll stops with it */
	}
	if (R->failures > R->max_failures && !*stop)
		ui_notice(R->run.ui, UI_INFO, "stopping: %d failure%s, more than --max-failures %d",
			  R->failures, R->failures == 1 ? "" : "s", R->max_failures);
	state = roll_state(R, *stop);
	emit(R, json_pack("{s:s, s:s, s:i}", "type", "roll_end", "state", state, "failures",
			  R->failures));
	summary(R);
	if (!strcmp(state, "INTERRUPTED"))
		ui_notice(R->run.ui, UI_INFO, "interrupted: continue with:  rbx resume %s", R->id);
	rc = roll_exit(R, state);
out:
	buf_release(&line);
	return rc;
}

static int
prepare(struct roll *R, struct rbx_err *err)
{
	R->logdir = xasprintf("%s/rolls/%s", R->state_dir, R->id);
	return util_mkdir_p(R->logdir, 0700, err);
}

static json_t *
params_record(const struct runbook *rb, const struct strmap *bound)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < bound->n; i++) {
		const struct param *p = runbook_param(rb, bound->keys[i]);
		json_object_set_new(o, bound->keys[i],
				    json_string(p && p->secret ? "***" : bound->vals[i]));
	}
	return o;
}

enum rbx_status
roll_exec(const struct roll_opts *o, struct rbx_err *err)
{
	struct roll R;
	struct runbook *rb = NULL;
	char **names = NULL, buf[PATH_MAX];
	size_t n = 0, i;
	json_t *list;
	int rc = RBX_USAGE;
	rbx_flag *stop = runner_trap_signals();

	memset(&R, 0, sizeof(R));
	R.lock_fd = -1;
	if (o->batch < 1 || o->max_failures < 0)
		return err_set(err, "--batch must be 1 or more, --max-failures 0 or more"), RBX_USAGE;
	names = hostlist_expand(o->nodes, &n, err);
	if (!names)
		return RBX_USAGE;
	for (i = 0; i < n; i++)
		if (!util_valid_node_name(names[i])) {
			err_set(err, "'%s' is not a valid node name", names[i]);
			goto out;
		}
	/* Everything is checked before any node is touched. */
	rb = runner_load_runbook(o->runbook, o->run.ui, err);
	if (!rb || engine_bind_params(rb, o->run.params, &R.params, err) < 0)
		goto out;
	R.id = runner_new_roll_id();
	R.state_dir = util_state_dir();
	R.runbook = xstrdup(realpath(rb->path, buf) ? buf : rb->path);
	R.batch = o->batch;
	R.max_failures = o->max_failures;
	R.run = o->run;
	R.nodes = xcalloc(n, sizeof(*R.nodes));
	for (i = 0; i < n; i++)
		R.nodes[i].name = xstrdup(names[i]);
	R.n = n;
	R.lock_fd = -1;
	if (halt_setup(&R, o->halt_on_alert, err) < 0)
		goto out;
	if (util_state_dir_ready(R.state_dir, err) < 0 ||
	    (R.lock_fd = lock_node(R.state_dir, R.id, R.id, err)) < 0 || prepare(&R, err) < 0 ||
	    !(R.j = journal_create_roll(R.state_dir, R.id, err))) {
		rc = RBX_FAILED;
		goto out;
	}
	list = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(list, json_string(names[i]));
	emit(&R, json_pack("{s:s, s:s, s:s, s:o, s:i, s:i, s:o, s:b, s:s?, s:s?, s:s?}", "type",
			   "roll_start", "runbook", R.runbook, "hostlist", o->nodes, "nodes", list,
			   "batch", R.batch, "max_failures", R.max_failures, "params",
			   params_record(rb, &R.params), "yes", o->run.yes, "via", o->run.via,
			   "inventory", o->run.inventory, "halt_on_alert", R.halt));
	ui_notice(o->run.ui, UI_INFO,
		  "ROLL %s: %s on %zu node%s (%s), %d at a time, stop after %d failure%s", R.id,
		  rb->name, n, n == 1 ? "" : "s", o->nodes, R.batch, R.max_failures,
		  R.max_failures == 1 ? "" : "s");
	rc = drive(&R, stop, err);
	ui_notice(o->run.ui, UI_INFO, "journal: %s", journal_path(R.j));
out:
	hostlist_free(names, n);
	runbook_free(rb);
	roll_release(&R);
	return rc;
}

/* Replay a roll's journal: its options, and where each node stands. */
static int
replay(struct roll *R, json_t *recs, const struct runner_opts *given, struct rbx_err *err)
{
	json_t *start = json_array_get(recs, 0), *rec, *v;
	const char *k;
	size_t i, x;

	if (!start || strcmp(js(start, "type"), "roll_start") != 0)
		return err_set(err, "roll %s: the journal does not begin with roll_start", R->id);
	R->runbook = xstrdup(js(start, "runbook"));
	R->batch = (int)json_integer_value(json_object_get(start, "batch"));
	R->max_failures = (int)json_integer_value(json_object_get(start, "max_failures"));
	R->run.yes = given->yes || json_is_true(json_object_get(start, "yes"));
	R->run.via = *js(start, "via") ? js(start, "via") : NULL;
	R->run.inventory = given->inventory ? given->inventory
			   : *js(start, "inventory")  ? js(start, "inventory")
						      : NULL;
	json_object_foreach(json_object_get(start, "params"), k, v) {
		const char *val = json_string_value(v);
		if (val && !strcmp(val, "***")) {
			val = given->params ? strmap_get(given->params, k) : NULL;
			if (!val)
				return err_set(err, "parameter '%s' is secret and never journaled: give "
						    "--param %s=VALUE again",
					       k, k);
		}
		strmap_set(&R->params, k, val ? val : "");
	}
	R->n = json_array_size(json_object_get(start, "nodes"));
	R->nodes = xcalloc(R->n + 1, sizeof(*R->nodes));
	json_array_foreach(json_object_get(start, "nodes"), i, v)
		R->nodes[i].name = xstrdup(json_string_value(v) ?: "?");
	json_array_foreach(recs, x, rec) {
		const char *type = js(rec, "type");
		for (i = 0; i < R->n && strcmp(R->nodes[i].name, js(rec, "node")); i++)
			;
		if (!strcmp(type, "roll_end") && strcmp(js(rec, "state"), "INTERRUPTED") != 0 &&
		    strcmp(js(rec, "state"), "HALTED") != 0)
			return err_set(err, "roll %s already ended %s; nothing to resume", R->id,
				       js(rec, "state"));
		if (i >= R->n)
			continue;
		if (!strcmp(type, "node_start")) {
			snprintf(R->nodes[i].run_id, sizeof(R->nodes[i].run_id), "%s", js(rec, "node_run"));
			R->nodes[i].phase = RN_STARTED;
		} else if (!strcmp(type, "node_end")) {
			snprintf(R->nodes[i].end, sizeof(R->nodes[i].end), "%s", js(rec, "state"));
			R->nodes[i].exit = (int)json_integer_value(json_object_get(rec, "exit"));
			R->nodes[i].duration_ms = json_integer_value(json_object_get(rec, "duration_ms"));
			R->nodes[i].phase = RN_DONE;
			R->failures += strcmp(R->nodes[i].end, "SUCCEEDED") != 0;
		}
	}
	return 0;
}

/* A node's run that ended after its roll died: its end is recorded, it is not resumed. */
static void
settle_finished_runs(struct roll *R)
{
	size_t i;

	for (i = 0; i < R->n; i++) {
		struct roll_node *rn = &R->nodes[i];
		struct rbx_err err;
		char *path;
		json_t *recs, *where;

		if (rn->phase != RN_STARTED)
			continue;
		path = journal_run_path(R->state_dir, rn->run_id);
		recs = journal_read(path, NULL, NULL, &err);
		free(path);
		if (!recs || !json_array_size(recs)) {
			/* It never began: run it afresh under the same id. */
			rn->phase = RN_WAITING;
			json_decref(recs);
			continue;
		}
		where = resume_where(recs);
		if (json_is_true(json_object_get(where, "finished"))) {
			snprintf(rn->end, sizeof(rn->end), "%s", js(where, "state"));
			rn->phase = RN_DONE;
			R->failures += strcmp(rn->end, "SUCCEEDED") != 0;
			emit(R, json_pack("{s:s, s:s, s:s, s:s, s:i}", "type", "node_end", "node",
					  rn->name, "node_run", rn->run_id, "state", rn->end, "exit", -1));
		}
		json_decref(where);
		json_decref(recs);
	}
}

enum rbx_status
roll_resume(const struct runner_opts *o, struct rbx_err *err)
{
	struct roll R;
	json_t *recs = NULL, *last;
	size_t good = 0;
	int torn = 0, rc = RBX_USAGE;
	char *path;
	rbx_flag *stop = runner_trap_signals();

	memset(&R, 0, sizeof(R));
	R.lock_fd = -1;
	R.id = xstrdup(o->run_id);
	R.state_dir = util_state_dir();
	R.run = *o;
	R.run.resume = false;
	/* Its journal is read and continued under the roll's lock: never two resumes at once. */
	if ((R.lock_fd = lock_node(R.state_dir, R.id, R.id, err)) < 0) {
		rc = R.lock_fd == -2 ? RBX_LOCKED : RBX_FAILED;
		R.lock_fd = -1;
		goto out;
	}
	path = journal_roll_path(R.state_dir, R.id);
	recs = journal_read(path, &torn, &good, err);
	free(path);
	if (!recs || replay(&R, recs, o, err) < 0 ||
	    halt_setup(&R, *js(json_array_get(recs, 0), "halt_on_alert") ? js(json_array_get(recs, 0), "halt_on_alert") : NULL, err) < 0)
		goto out;
	last = json_array_get(recs, json_array_size(recs) - 1);
	if (prepare(&R, err) < 0 ||
	    !(R.j = journal_reopen_roll(R.state_dir, R.id,
					json_integer_value(json_object_get(last, "seq")), good, err))) {
		rc = RBX_FAILED;
		goto out;
	}
	emit(&R, json_pack("{s:s, s:i, s:b}", "type", "resume", "pid", (int)getpid(), "torn",
			   torn > 0));
	ui_notice(o->ui, UI_INFO, "ROLL %s resumed: %zu nodes, %d failure%s so far", R.id, R.n, R.failures,
	       R.failures == 1 ? "" : "s");
	settle_finished_runs(&R);
	rc = drive(&R, stop, err);
	ui_notice(o->ui, UI_INFO, "journal: %s", journal_path(R.j));
out:
	json_decref(recs);
	roll_release(&R);
	return rc;
}
