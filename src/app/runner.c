/* runner.c - one run of a runbook on one node: validate, lock the node, open (or
 * continue) the journal, build transports and guard, drive the engine, report. */
#define _GNU_SOURCE
#include "app/runner.h"

#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "app/target.h"
#include "backends/sched.h"
#include "backends/transport.h"
#include "core/lint.h"
#include "core/resume.h"
#include "core/runbook.h"
#include "io/fleet.h"
#include "io/journal.h"
#include "io/lock.h"

static rbx_flag got_signal;
static rbx_flag lease_lost;

static void
on_signal(int sig)
{
	(void)sig;
	got_signal = 1;
}

rbx_flag *
runner_trap_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	return &got_signal;
}

/* "<prefix><UTC time>-<middle><6 hex>": time order is name order; the hex tells apart ids of one second. */
static char *
new_id(const char *prefix, const char *middle)
{
	unsigned char rnd[3] = {0, 0, 0};
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		rnd[0] = (unsigned char)getpid();
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm);
	return xasprintf("%s%s-%s%02x%02x%02x", prefix, ts, middle, rnd[0], rnd[1], rnd[2]);
}

char *
runner_new_run_id(const char *node)
{
	char *mid = xasprintf("%s-", node), *id = new_id("", mid);

	free(mid);
	return id;
}

char *
runner_new_roll_id(void)
{
	return new_id("roll-", "");
}

/* Everything one run owns; released in one place. */
struct job {
	struct runbook *rb;
	struct run r;
	const struct app_ui *ui;
	struct target tgt;
	struct resume_info info;
	struct run_seed seed; /* a resume: where the journal says the run stands */
	char *state_dir;
	char *run_id;
	char *digest;
	int lock_fd;
	struct fleet *fleet;
	json_t *fleet_rec;
	json_t *target_id;
};

/* A resume runs with the run's own params; only secret ones (never journaled) are given again. */
static int
resume_params(const struct runbook *rb, json_t *start, const struct strmap *given,
	      struct strmap *out, struct rbx_err *err)
{
	struct strmap m = {0};
	const char *k;
	json_t *v;
	size_t i;
	int rc = -1;

	for (i = 0; given && i < given->n; i++) {
		const struct param *p = runbook_param(rb, given->keys[i]);
		if (!p || !p->secret) {
			err_set(err, "a resume runs with the run's own parameters; --param is only for "
				     "secret ones, and '%s' is not",
				given->keys[i]);
			goto out;
		}
	}
	json_object_foreach(json_object_get(start, "params"), k, v) {
		const struct param *p = runbook_param(rb, k);
		const char *val = json_string_value(v);
		if (p && p->secret && val && !strcmp(val, "***default") && (!given || !strmap_get(given, k)))
			val = p->def;
		else if (p && p->secret && val && !strncmp(val, "***", 3)) {
			val = given ? strmap_get(given, k) : NULL;
			if (!val) {
				err_set(err, "parameter '%s' is secret and never journaled: give "
					     "--param %s=VALUE again",
					k, k);
				goto out;
			}
		}
		strmap_set(&m, k, val ? val : "");
	}
	rc = engine_bind_params(rb, &m, out, err);
out:
	strmap_release(&m);
	return rc;
}

static json_t *
assumed_rec(int attempt, const struct step *s, int try, const char *by)
{
	json_t *rec = json_pack("{s:s, s:s, s:i, s:s, s:s, s:i, s:i, s:s, s:s}", "type",
				"step_end", "phase", s->index ? phase_name(s->phase) : "undo",
				"index", s->index, "name", s->name, "kind", step_kind_name(s->kind),
				"attempt", attempt, "try", try, "status", "assumed_done", "by", by);

	if (!s->index)
		json_object_set_new(rec, "of", json_integer(s->undo_of));
	return rec;
}

/*
 * A step in doubt: re-run only if that is safe; otherwise the operator says,
 * by flag or at the TTY. Never a guess. Returns -1 with err when no one decided.
 */
static int
decide_in_doubt(struct job *j, enum in_doubt_choice c, const char **decision,
		struct rbx_err *err)
{
	const struct step *s = j->info.in_doubt;
	const char *by = c == IN_DOUBT_DONE ? "--assume-done" : "--rerun";

	*decision = NULL;
	if (!s)
		return 0;
	if (resume_rerun_safe(s)) {
		*decision = "rerun (idempotent)";
		return 0;
	}
	if (c == IN_DOUBT_ASK && j->ui && j->ui->in_doubt) {
		c = j->ui->in_doubt(j->ui->arg, s);
		by = "operator";
	}
	if (c == IN_DOUBT_ASK)
		return err_set(err, "%s step %d '%s' started and has no end in the journal (it %s); "
				    "it is not idempotent, so rbx will not guess: resume with "
				    "--assume-done if it finished, or --rerun to run it again",
			       s->index ? phase_name(s->phase) : "undo", s->index, s->name,
			       j->info.in_doubt_ran ? "was stopped while running"
						    : "may not have begun");
	if (c == IN_DOUBT_DONE) {
		resume_step_done(&j->seed, s, j->info.in_doubt_try, NULL);
		engine_emit(&j->r, assumed_rec(j->seed.attempt, s, j->info.in_doubt_try, by));
		*decision = "assumed done";
	} else {
		*decision = "rerun";
	}
	return 0;
}

static json_t *
resume_record(const struct job *j, const char *decision)
{
	struct passwd *pw = getpwuid(geteuid());
	char host[256] = "?";
	json_t *rec;

	gethostname(host, sizeof(host) - 1);
	rec = json_pack("{s:s, s:s, s:i, s:s, s:s, s:i, s:b}", "type", "resume", "state",
			run_state_name(j->seed.state), "attempt", j->seed.attempt, "user",
			pw ? pw->pw_name : "?", "host", host, "pid", (int)getpid(), "torn",
			j->info.torn > 0);
	if (j->info.in_doubt)
		json_object_set_new(rec, "in_doubt",
				    json_pack("{s:s, s:i, s:s, s:s}", "phase",
					      phase_name(j->info.in_doubt->phase), "index",
					      j->info.in_doubt->index, "name",
					      j->info.in_doubt->name, "decision", decision));
	return rec;
}

/* The answers given in advance: the options', or those the resumed run journaled. */
static void
set_answers(struct strmap *to, const struct strmap *given, json_t *journaled)
{
	const char *step;
	json_t *v;
	size_t k;

	for (k = 0; given && k < given->n; k++)
		strmap_set(to, given->keys[k], given->vals[k]);
	json_object_foreach(journaled, step, v)
		if (json_string_value(v))
			strmap_set(to, step, json_string_value(v));
}

/* What a run starts from: the options, or the journal of the run being resumed. */
struct origin {
	const char *runbook;
	const char *node;
	const char *inventory;
	const char *via;
	bool yes, adopt;
	json_t *answers; /* {STEP: "yes"|"no"} journaled by the run resumed (borrowed) */
};

static int
load_origin(const struct runner_opts *o, struct job *j, struct origin *org,
	    struct rbx_err *err)
{
	json_t *st;

	memset(org, 0, sizeof(*org));
	if (!o->resume) {
		org->runbook = o->runbook;
		org->node = o->node;
		org->inventory = o->inventory;
		org->via = o->via;
		org->yes = o->yes;
		org->adopt = o->adopt;
		return 0;
	}
	if (resume_read(j->state_dir, o->run_id, &j->info, err) < 0)
		return -1;
	st = j->info.start;
	org->runbook = json_string_value(json_object_get(st, "path"));
	org->node = json_string_value(json_object_get(st, "node"));
	org->inventory = o->inventory ? o->inventory
				      : json_string_value(json_object_get(st, "inventory"));
	org->via = org->inventory ? NULL : json_string_value(json_object_get(st, "via"));
	org->yes = o->yes || json_is_true(json_object_get(st, "yes"));
	org->answers = json_object_get(st, "answers");
	org->adopt = json_is_true(json_object_get(st, "adopt"));
	if (!org->runbook || !org->node)
		return err_set(err, "run %s: its run_start names no runbook or node", o->run_id);
	return 0;
}

struct runbook *
runner_load_runbook(const char *name, const struct app_ui *ui, struct rbx_err *err)
{
	struct diags d;
	struct runbook *rb;
	char *text;

	diags_init(&d);
	rb = lint_load_runbook(name, &d, err);
	if (d.n) {
		text = diags_text(&d);
		ui_notice(ui, UI_DIAG, "%s", text);
		free(text);
	}
	diags_release(&d);
	return rb;
}

static int
check_digest(struct job *j, const struct runner_opts *o, struct rbx_err *err)
{
	const char *was = json_string_value(json_object_get(j->info.start, "runbook_digest"));

	if (!o->resume || !was || !strcmp(was, j->digest ? j->digest : ""))
		return 0;
	return err_set(err, "runbook %s changed since run %s started (%s, now %s): a resume "
			    "must run the same steps; put the old runbook back, or finish the node by "
			    "hand",
		       j->rb->path, o->run_id, was, j->digest ? j->digest : "unreadable");
}

/*
 * The journal was read before the node lock was ours: if another rbx resumed the
 * run in between, what was read is stale. Read again under the lock and compare.
 */
static bool
journal_moved(struct job *j, const char *run_id, struct rbx_err *err)
{
	struct resume_info now;
	bool moved;

	memset(&now, 0, sizeof(now));
	if (resume_read(j->state_dir, run_id, &now, err) < 0)
		return true;
	moved = now.last_seq != j->info.last_seq || now.good_bytes != j->info.good_bytes;
	resume_info_release(&now);
	if (moved)
		err_set(err, "run %s moved on while this resume waited for the node lock (another "
			     "rbx resumed it): look at 'rbx log %s' first",
			run_id, run_id);
	return moved;
}

/* A resume acts through the transport and guard the run started with, or not at all. */
static int
check_target(struct job *j, struct rbx_err *err)
{
	json_t *st = j->info.start, *was = json_object_get(st, "target"), *legacy = NULL;
	int rc;

	if (!was) /* a journal from before targets were recorded */
		was = legacy = json_pack("{s:s?, s:s?}", "address",
					 json_string_value(json_object_get(st, "transport")),
					 "scheduler",
					 json_string_value(json_object_get(st, "scheduler")));
	rc = target_check_identity(&j->tgt, was, err);
	json_decref(legacy);
	return rc;
}

static void
job_release(struct job *j)
{
	struct rbx_err e;

	if (j->run_id && j->state_dir)
		target_run_end(&j->tgt, j->state_dir, j->run_id);
	target_release(&j->tgt);
	transport_free(j->r.node_tx);
	transport_free(j->r.local_tx);
	sched_free(j->r.sched);
	journal_close(j->r.journal);
	lock_release(j->lock_fd);
	run_release(&j->r);
	runbook_free(j->rb);
	resume_info_release(&j->info);
	run_seed_release(&j->seed);
	if (fleet_release(j->fleet, &e) < 0) /* the slot is free at once */
		ui_notice(j->ui, UI_WARNING, "%s", e.msg);
	fleet_free(j->fleet);
	json_decref(j->fleet_rec);
	json_decref(j->target_id);
	free(j->state_dir);
	free(j->run_id);
	free(j->digest);
}

/* The path recorded for resume: absolute, so a resume from elsewhere finds it. */
static char *
absolute(const char *path)
{
	char buf[PATH_MAX];

	return realpath(path, buf) ? xstrdup(buf) : xstrdup(path);
}

static void
on_fleet_wait(void *arg, const char *holders)
{
	ui_notice(arg, UI_STATUS, "waiting for a maintenance slot: %s", holders);
}

/* The lease a crashed run of this id held: revoked, so its slot is ours to take again. */
static void
revoke_old_lease(const struct job *j)
{
	struct rbx_err ignored;
	json_t *rec;
	size_t i;
	const char *lease = NULL;

	json_array_foreach(j->info.recs, i, rec)
		if (!strcmp(json_string_value(json_object_get(rec, "type")) ?: "", "fleet"))
			lease = json_string_value(
				json_object_get(json_object_get(rec, "slots"), "lease")) ?: lease;
	if (lease)
		fleet_revoke(j->tgt.conf.fleet.endpoint, lease, &ignored);
}

/* Before anything runs: a slot in each of the node's fleet budgets, or no run at all. */
static int
take_fleet_slot(struct job *j, const struct runner_opts *o, const struct origin *org,
		struct rbx_err *err)
{
	const struct fleet_conf *fc = &j->tgt.conf.fleet;
	struct passwd *pw = getpwuid(geteuid());
	char host[256] = "?", *holder;
	json_t *h;
	int rc;

	if (!fc->endpoint || !fc->nbudgets)
		return 0;
	if (o->resume)
		revoke_old_lease(j);
	gethostname(host, sizeof(host) - 1);
	h = json_pack("{s:s, s:s, s:s, s:s, s:i}", "run", j->run_id, "node", org->node, "user",
		      pw ? pw->pw_name : "?", "host", host, "pid", (int)getpid());
	holder = json_dumps(h, JSON_COMPACT);
	json_decref(h);
	j->fleet = fleet_new(fc);
	rc = fleet_acquire(j->fleet, holder, o->fleet_wait_ms, &got_signal, on_fleet_wait,
			   (void *)j->ui, err);
	free(holder);
	if (rc == -2)
		return RBX_LOCKED;
	if (rc < 0) {
		err_prefix(err, "no run without the fleet's maintenance budget; nothing was changed");
		return RBX_ABORTED;
	}
	if (fleet_keepalive_start(j->fleet, &lease_lost, &got_signal, err) < 0)
		return RBX_FAILED;
	j->fleet_rec = json_pack("{s:s, s:s, s:s, s:I}", "endpoint", fc->endpoint, "lease",
				 fleet_lease_id(j->fleet), "keys", fleet_slots(j->fleet), "ttl_ms",
				 (json_int_t)fc->ttl_ms);
	return 0;
}

static int
open_run(struct job *j, const struct runner_opts *o, const struct origin *org,
	 struct rbx_err *err)
{
	char *rbpath;
	int rc;

	if (!util_valid_node_name(org->node))
		return err_set(err, "'%s' is not a valid node name ([A-Za-z0-9][A-Za-z0-9._-]{0,62})",
			       org->node),
		       RBX_USAGE;
	j->rb = runner_load_runbook(org->runbook, j->ui, err);
	if (!j->rb)
		return RBX_USAGE;
	rbpath = absolute(j->rb->path);
	free(j->rb->path);
	j->rb->path = rbpath;
	j->digest = util_file_digest(j->rb->path);
	if (check_digest(j, o, err) < 0)
		return RBX_USAGE;
	if ((o->resume ? resume_params(j->rb, j->info.start, o->params, &j->r.params, err)
		       : engine_bind_params(j->rb, o->params, &j->r.params, err)) < 0)
		return RBX_USAGE;
	if (target_resolve(org->node, org->via, org->inventory, &j->tgt, err) < 0)
		return RBX_USAGE;
	if (o->resume && check_target(j, err) < 0)
		return RBX_USAGE;
	j->run_id = o->run_id ? xstrdup(o->run_id) : runner_new_run_id(org->node);
	j->lock_fd = lock_node(j->state_dir, org->node, j->run_id, err);
	if (j->lock_fd < 0)
		return j->lock_fd == -2 ? RBX_LOCKED : RBX_FAILED;
	if (o->resume && journal_moved(j, o->run_id, err))
		return RBX_LOCKED;
	if ((rc = take_fleet_slot(j, o, org, err)) != 0)
		return rc;
	if (o->resume)
		j->r.journal = journal_reopen(j->state_dir, j->run_id, j->info.last_seq,
					      j->info.good_bytes, err);
	else
		j->r.journal = journal_create(j->state_dir, j->run_id, err);
	return j->r.journal ? 0 : RBX_FAILED;
}

static int
build_parts(struct job *j, const struct runner_opts *o, struct rbx_err *err)
{
	j->r.node_tx = target_node_transport(&j->tgt, j->state_dir, j->run_id,
					     o->accept_new_host_key, err);
	j->r.local_tx = j->r.node_tx
				? target_local_transport(&j->tgt, j->state_dir, j->run_id, err)
				: NULL;
	j->r.sched = j->r.local_tx ? target_sched(&j->tgt, j->state_dir, err) : NULL;
	/* A backend the inventory cannot make is a usage error; one the machine cannot is not. */
	return j->r.sched ? 0 : err->system ? RBX_FAILED : RBX_USAGE;
}

static void
setup_ui(struct job *j)
{
	const struct app_ui *ui = j->ui;
	char *note = target_simulated(&j->tgt) ? target_describe(&j->tgt, j->state_dir) : NULL;

	if (ui && ui->begin)
		ui->begin(ui->arg, j->rb, note);
	free(note);
	if (!ui)
		return;
	j->r.io.event = ui->event;
	j->r.io.output = ui->output;
	j->r.io.confirm = ui->confirm;
	j->r.io.arg = ui->arg;
}

/*
 * A command step in doubt may still be running: on the node after a dropped
 * connection or a crash of rbx, or here. Whatever it left is ended first, so
 * the decision is about a step that is over, and it never runs twice at once.
 */
static void
end_left_running(struct job *j)
{
	const struct step *s = j->info.in_doubt;
	struct transport *tx;
	struct rbx_err e;
	char *tag;

	if (!s || (s->kind != STEP_SSH && s->kind != STEP_RUN))
		return;
	tx = s->kind == STEP_SSH ? j->r.node_tx : j->r.local_tx;
	tag = engine_step_tag(j->run_id, j->info.in_doubt_attempt,
			      s->index ? phase_name(s->phase) : "undo", s->index,
			      s->index ? 0 : s->undo_of, j->info.in_doubt_try);
	if (tx->ops->end_tagged ? tx->ops->end_tagged(tx, tag, &e) < 0
				: exec_local_end_tagged(tag) < 0)
		ui_notice(j->ui, UI_WARNING, "%s", e.msg);
	free(tag);
}

static enum run_state
drive(struct job *j, const struct runner_opts *o, struct rbx_err *err)
{
	const char *decision = NULL;

	if (!o->resume)
		return engine_run(&j->r);
	if (resume_replay(&j->info, j->rb, &j->seed, err) < 0)
		return RS_COUNT;
	end_left_running(j);
	if (decide_in_doubt(j, o->in_doubt, &decision, err) < 0)
		return RS_COUNT;
	return engine_resume(&j->r, &j->seed, resume_record(j, decision));
}

static void
closing_lines(const struct job *j, enum run_state end)
{
	const char *held = j->r.guard_held ? "still cordoned" : "as it was";

	ui_notice(j->ui, UI_INFO, "journal: %s  (rbx log %s)", journal_path(j->r.journal), j->run_id);
	if (end == RS_INTERRUPTED && lease_lost)
		ui_notice(j->ui, UI_INFO, "stopped: the fleet lease was lost; the node is %s; when etcd is back:  rbx "
		  "resume %s",
			  held, j->run_id);
	else if (end == RS_INTERRUPTED && j->r.step_lost)
		ui_notice(j->ui, UI_INFO,
			  "stopped: %s; the node is %s; rbx resume %s ends what the step left "
			  "running, then asks",
			  j->r.failure, held, j->run_id);
	else if (end == RS_INTERRUPTED && j->r.unreached)
		ui_notice(j->ui, UI_INFO, "stopped: %s; the node is %s; once it answers:  rbx resume %s",
			  j->r.failure, held, j->run_id);
	else if (end == RS_INTERRUPTED)
		ui_notice(j->ui, UI_INFO, "interrupted: the node is %s; continue with:  rbx resume %s",
			  held, j->run_id);
}

enum rbx_status
runner_exec(const struct runner_opts *o, struct runner_result *res, struct rbx_err *err)
{
	struct job j;
	struct origin org;
	enum run_state end;
	int rc;

	memset(&j, 0, sizeof(j));
	memset(res, 0, sizeof(*res));
	res->end = RS_COUNT;
	j.lock_fd = -1;
	j.ui = o->ui;
	j.state_dir = util_state_dir();
	if (util_state_dir_ready(j.state_dir, err) < 0) {
		rc = RBX_FAILED;
		goto out;
	}
	if (load_origin(o, &j, &org, err) < 0) {
		rc = RBX_USAGE;
		goto out;
	}
	snprintf(res->node, sizeof(res->node), "%s", org.node);
	if (o->resume && j.info.ended != RS_COUNT) {
		err_set(err, "run %s already ended %s; nothing to resume", o->run_id,
			run_state_name(j.info.ended));
		rc = RBX_USAGE;
		goto out;
	}
	if ((rc = open_run(&j, o, &org, err)) != 0)
		goto out;
	snprintf(res->run_id, sizeof(res->run_id), "%s", j.run_id);
	j.r.rb = j.rb;
	j.r.node = org.node;
	j.r.run_id = j.run_id;
	j.r.yes = org.yes;
	set_answers(&j.r.answers, o->resume ? NULL : o->answers, org.answers);
	j.r.requested_by = o->requested_by;
	j.r.adopt = org.adopt;
	j.r.via = j.tgt.via;
	j.r.loopback_only = j.tgt.tx && (j.tgt.tx->flags & BACKEND_LOOPBACK_ONLY);
	j.r.inventory = j.tgt.inventory;
	j.r.runbook_digest = j.digest;
	j.r.interrupted = &got_signal;
	j.r.lease_lost = &lease_lost;
	j.r.fleet = j.fleet_rec;
	j.target_id = target_identity(&j.tgt);
	j.r.target = j.target_id;
	if (j.tgt.conf.alertmanager.url)
		j.r.alertmanager = &j.tgt.conf.alertmanager;
	if ((rc = build_parts(&j, o, err)) != 0)
		goto out;
	setup_ui(&j);
	end = drive(&j, o, err);
	if (end == RS_COUNT) {
		rc = RBX_USAGE;
		goto out;
	}
	res->end = end;
	res->duration_ms = util_now_ms() - j.r.started_ms;
	rc = engine_status(end);
	if (j.r.journal_failed) {
		/* The report could not say it: the records after the failure were never written. */
		err_set(err, "%s; the node is %s; once the journal can be written: rbx resume %s",
			j.r.journal_error, j.r.guard_held ? "still cordoned" : "as it was", j.run_id);
		goto out;
	}
	closing_lines(&j, end);
	err->msg[0] = 0; /* the report already said why */
out:
	job_release(&j);
	return rc;
}
