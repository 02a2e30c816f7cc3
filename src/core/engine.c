/* engine.c - drives one run through the state machine: pre-checks, guard,
 * procedure, verify, rollback, restore. Every record is journaled before it acts. */
#define _GNU_SOURCE
#include "core/engine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "io/http.h"
#include "io/journal.h"
#include "backends/sched.h"
#include "core/template.h"
#include "backends/transport.h"
#include "base/utf8.h"

#include "core/engine_internal.h"

/* ---- the state machine, as data --------------------------------------------------- */

const struct transition engine_transitions[] = {
	{RS_PENDING, EV_START, RS_PRECHECK, "start"},
	{RS_PRECHECK, EV_OK, RS_GUARD, "pre-checks pass"},
	{RS_PRECHECK, EV_FAIL, RS_ABORTED, "a pre-check fails: nothing was changed"},
	{RS_GUARD, EV_OK, RS_PROCEDURE, "the guard holds"},
	{RS_GUARD, EV_FAIL, RS_ABORTED, "the guard cannot hold: it is undone"},
	{RS_PROCEDURE, EV_OK, RS_VERIFY, "every step done"},
	{RS_PROCEDURE, EV_FAIL, RS_ROLLBACK, "a step fails"},
	{RS_VERIFY, EV_OK, RS_RESTORE, "every proof holds"},
	{RS_VERIFY, EV_FAIL, RS_ROLLBACK, "a proof fails"},
	{RS_ROLLBACK, EV_RETRY, RS_PROCEDURE, "rolled back, attempts left"},
	{RS_ROLLBACK, EV_OK, RS_FAILED, "rolled back, no attempts left: node stays cordoned"},
	{RS_ROLLBACK, EV_ROLLBACK_FAIL, RS_FAILED_UNSAFE, "a rollback step fails: node needs a human"},
	{RS_RESTORE, EV_OK, RS_SUCCEEDED, "back in service (or kept out as decided)"},
	/* The repair held; only giving the node back failed (its scheduler down, say): it
	 * stays cordoned, and `rbx resume` gives it back once it can. Not FAILED: nothing did. */
	{RS_RESTORE, EV_FAIL, RS_INTERRUPTED, "cannot return the node: cordoned until rbx resume"},
	{RS_PRECHECK, EV_INTERRUPT, RS_INTERRUPTED, "interrupted"},
	{RS_GUARD, EV_INTERRUPT, RS_INTERRUPTED, "interrupted"},
	{RS_PROCEDURE, EV_INTERRUPT, RS_INTERRUPTED, "interrupted"},
	{RS_VERIFY, EV_INTERRUPT, RS_INTERRUPTED, "interrupted"},
	{RS_ROLLBACK, EV_INTERRUPT, RS_INTERRUPTED, "interrupted"},
	{RS_RESTORE, EV_INTERRUPT, RS_INTERRUPTED, "interrupted"},
};
const size_t engine_ntransitions = sizeof(engine_transitions) / sizeof(engine_transitions[0]);

static const char *const state_names[RS_COUNT] = {
	"PENDING", "PRECHECK", "GUARD", "PROCEDURE", "VERIFY", "ROLLBACK", "RESTORE",
	"SUCCEEDED", "ABORTED", "FAILED", "FAILED_UNSAFE", "INTERRUPTED",
};
static const char *const event_names[EV_COUNT] = {
	"start", "ok", "fail", "retry", "rollback_fail", "interrupt",
};

const char *
run_state_name(enum run_state s)
{
	return s < RS_COUNT ? state_names[s] : "?";
}

const char *
run_event_name(enum run_event e)
{
	return e < EV_COUNT ? event_names[e] : "?";
}

bool
run_state_terminal(enum run_state s)
{
	return s >= RS_SUCCEEDED && s < RS_COUNT;
}

enum rbx_status
engine_status(enum run_state s)
{
	switch (s) {
	case RS_SUCCEEDED: return RBX_OK;
	case RS_FAILED: return RBX_FAILED;
	case RS_ABORTED: return RBX_ABORTED;
	case RS_FAILED_UNSAFE: return RBX_UNSAFE;
	case RS_INTERRUPTED: return RBX_INTERRUPTED;
	default: return RBX_FAILED;
	}
}

enum run_state
engine_next(enum run_state s, enum run_event e)
{
	size_t i;

	for (i = 0; i < engine_ntransitions; i++)
		if (engine_transitions[i].from == s && engine_transitions[i].ev == e)
			return engine_transitions[i].to;
	return RS_COUNT;
}

/* ---- params ------------------------------------------------------------------------ */

static int
bind_params(const struct runbook *rb, const struct strmap *given, struct strmap *out,
	    bool allow_missing, struct rbx_err *err)
{
	size_t i;

	for (i = 0; given && i < given->n; i++)
		if (!runbook_param(rb, given->keys[i]))
			return err_set(err, "runbook '%s' has no parameter '%s'", rb->name,
				       given->keys[i]);
	for (i = 0; i < rb->nparams; i++) {
		const struct param *p = &rb->params[i];
		const char *v = given ? strmap_get(given, p->name) : NULL;

		if (!v)
			v = p->def;
		if (!v && allow_missing)
			continue;
		if (!v)
			return err_set(err, "parameter '%s' is required (%s): give --param %s=VALUE",
				       p->name, p->description, p->name);
		if (p->pattern && regexec(&p->re, v, 0, NULL, 0) != 0)
			return err_set(err, "parameter '%s' = '%s' does not match %s", p->name,
				       p->secret ? "***" : v, p->pattern);
		strmap_set(out, p->name, v);
	}
	return 0;
}

int
engine_bind_params(const struct runbook *rb, const struct strmap *given, struct strmap *out,
		   struct rbx_err *err)
{
	return bind_params(rb, given, out, false, err);
}

int
engine_bind_params_plan(const struct runbook *rb, const struct strmap *given, struct strmap *out,
			struct rbx_err *err)
{
	return bind_params(rb, given, out, true, err);
}

/* ---- phases --------------------------------------------------------------------------- */

/*
 * A `when` evaluated before the procedure runs: 1 true, 0 false, -1 not yet
 * known (it tests a capture no step has set yet). Kleene logic, so
 * any(false, unknown) stays unknown but all(false, unknown) is false.
 */
static int
when_now(const struct when *w, const struct strmap *params, const struct strmap *captures)
{
	size_t i;
	int v, acc;

	switch (w->kind) {
	case WHEN_NOT:
		v = when_now(w->subs[0], params, captures);
		return v < 0 ? -1 : !v;
	case WHEN_ANY:
	case WHEN_ALL:
		acc = w->kind == WHEN_ALL;
		for (i = 0; i < w->nsubs; i++) {
			v = when_now(w->subs[i], params, captures);
			if (v == (w->kind == WHEN_ANY))
				return v;
			if (v < 0)
				acc = -1;
		}
		return acc;
	case WHEN_TEST:
		break;
	}
	if (!w->is_param && !strmap_get(captures, w->name))
		return -1;
	return engine_when(w, params, captures);
}

/* With no one to ask, stop before the guard if a confirm step may be reached. */
static const struct step *
unanswerable_confirm(const struct run *r)
{
	int p;
	size_t i;

	if (r->yes || r->io.confirm)
		return NULL;
	for (p = PHASE_PROCEDURE; p < PHASE_COUNT; p++) {
		for (i = 0; i < r->rb->nsteps[p]; i++) {
			const struct step *s = r->rb->steps[p][i];
			if (s->kind != STEP_CONFIRM || strmap_get(&r->answers, s->name))
				continue;
			if (!s->when || when_now(s->when, &r->params, &r->captures) != 0)
				return s;
		}
	}
	return NULL;
}

static enum run_event
run_phase_steps(struct run *r, enum phase p, bool track)
{
	size_t i;

	for (i = 0; i < r->rb->nsteps[p]; i++) {
		const struct step *s = r->rb->steps[p][i];
		bool skipped;

		if (engine_run_step(r, s, &skipped) < 0)
			return engine_interrupted(r) ? EV_INTERRUPT : EV_FAIL;
		if (skipped)
			continue;
		/* A step with an undo changed something worth undoing, on the node or off it. */
		if (track && (s->mutates || s->undo))
			run_add_done(r, s);
		if (s->keep_cordoned && !r->keep_cordoned) {
			r->keep_cordoned = true;
			snprintf(r->keep_reason, sizeof(r->keep_reason), "%s", s->name);
		}
		if (engine_interrupted(r))
			return EV_INTERRUPT;
	}
	return EV_OK;
}

/* Connect and check the node's identity before any step: a wrong host key stops here. */
static int
open_transport(struct run *r)
{
	struct rbx_err err;
	int rc;

	if (!r->node_tx || !r->node_tx->ops->open)
		return 0;
	rc = r->node_tx->ops->open(r->node_tx, &err);
	engine_record(r, json_pack("{s:s, s:s, s:s, s:s}", "type", "transport", "target", r->node_tx->address,
			  "status", rc == 0 ? "ok" : "failed", "error", rc == 0 ? "" : err.msg),
	     false);
	if (rc < 0)
		engine_fail(r, "%s", err.msg);
	return rc;
}

static enum run_event
phase_precheck(struct run *r)
{
	enum run_event ev;
	const struct step *s;

	if (open_transport(r) < 0)
		return EV_FAIL;
	ev = run_phase_steps(r, PHASE_PRE_CHECKS, false);

	if (ev != EV_OK)
		return ev;
	if ((s = unanswerable_confirm(r)) != NULL) {
		engine_fail(r, "%s step %d '%s' asks for confirmation, and there is no TTY to ask, "
			    "no --yes and no --answer for it: stopping before any change",
			 phase_name(s->phase), s->index, s->name);
		return EV_FAIL;
	}
	return EV_OK;
}

/* A reason rbx wrote for this run: "rbx:<run id> ...". */
static bool
ours(const struct run *r, const char *reason)
{
	size_t n = strlen(r->run_id);

	return !strncmp(reason, "rbx:", 4) && !strncmp(reason + 4, r->run_id, n) &&
	       (reason[4 + n] == ' ' || !reason[4 + n]);
}

static enum run_event
phase_guard(struct run *r)
{
	struct sched_state st;
	struct rbx_err err;
	bool cordoned_by_us = false;

	if (r->rb->guard.none) {
		engine_record(r, json_pack("{s:s, s:s, s:s}", "type", "guard", "op", "none", "reason",
				  r->rb->guard.none), false);
		return EV_OK;
	}
	if (r->sched->ops->state(r->sched, &st, &err) < 0) {
		engine_fail(r, "cannot read the scheduler state of %s: %s", r->node, err.msg);
		return EV_FAIL;
	}
	/* Before the cordon: a resume must know whether the node was out already. (Written,
	 * not synced: the cordon's own intent, synced, carries it to the disk first.) */
	if (engine_record(r, json_pack("{s:s, s:s, s:b, s:s}", "type", "guard", "op", "found", "cordoned",
			      st.cordoned, "reason", st.reason),
		 false) < 0)
		return EV_INTERRUPT;
	if (st.cordoned && ours(r, st.reason)) {
		/* A resumed run finds its own cordon: the node was found as the journal says. */
		st.cordoned = r->was_cordoned == 1;
	} else if (st.cordoned && !r->adopt) {
		engine_fail(r, "node %s is already out of service (reason: \"%s\"); rbx does not take "
			    "over a node someone else drained: use --adopt to take it",
			 r->node, st.reason);
		return EV_FAIL;
	}
	/* No guard while a blocking alert fires there; then the node's alerts are silenced
	 * before it is touched, or the run stops here. */
	if (engine_gate_wait(r) < 0 || engine_silence_take(r) < 0)
		return engine_interrupted(r) ? EV_INTERRUPT : EV_FAIL;
	if (r->rb->guard.cordon) {
		if (engine_guard_op(r, "cordon", 0) < 0)
			return EV_FAIL;
		cordoned_by_us = !st.cordoned;
		r->guard_held = true;
	}
	if (r->rb->guard.drain && engine_guard_op(r, "drain", r->rb->guard.drain_timeout_ms) < 0) {
		/* Interrupted: the node stays cordoned, and a resume takes the drain up again. */
		if (engine_interrupted(r))
			return EV_INTERRUPT;
		/* Undo the guard: the node goes back as it was found. */
		if (cordoned_by_us)
			engine_guard_op(r, "uncordon", 0);
		r->guard_held = false;
		return engine_interrupted(r) ? EV_INTERRUPT : EV_FAIL;
	}
	return engine_interrupted(r) ? EV_INTERRUPT : EV_OK;
}

static enum run_event
phase_procedure(struct run *r)
{
	if (r->seed)
		return run_phase_steps(r, PHASE_PROCEDURE, true);
	free(r->done);
	r->done = NULL;
	r->ndone = 0;
	return run_phase_steps(r, PHASE_PROCEDURE, true);
}

static enum run_event
phase_rollback(struct run *r)
{
	size_t i;
	bool failed = r->seed && r->seed->rollback_failed;
	char first[sizeof(r->failure)];

	snprintf(first, sizeof(first), "%s", r->seed ? r->seed->rollback_first : r->failure);
	/* Undo what this attempt changed, newest first. */
	for (i = r->ndone; i-- > 0;) {
		bool skipped;
		if (r->done[i]->undo && engine_run_step(r, r->done[i]->undo, &skipped) < 0)
			failed = true;
		if (engine_interrupted(r))
			return EV_INTERRUPT;
	}
	for (i = 0; i < r->rb->nsteps[PHASE_ROLLBACK]; i++) {
		bool skipped;
		if (engine_run_step(r, r->rb->steps[PHASE_ROLLBACK][i], &skipped) < 0)
			failed = true;
		if (engine_interrupted(r))
			return EV_INTERRUPT;
	}
	if (failed) {
		char why[sizeof(r->failure)];
		snprintf(why, sizeof(why), "%s", r->failure);
		engine_fail(r, "%s; then rollback failed: %.400s", first, why);
		return EV_ROLLBACK_FAIL;
	}
	snprintf(r->failure, sizeof(r->failure), "%s", first);
	if (r->attempt < r->rb->max_attempts && !r->no_more_attempts) {
		r->attempt++;
		r->keep_cordoned = false;
		return EV_RETRY;
	}
	return EV_OK;
}

static enum run_event
phase_restore(struct run *r)
{
	struct rbx_err err;
	char *reason;

	if (!r->guard_held)
		return EV_OK;
	if (!r->keep_cordoned && !r->rb->keep_cordoned)
		return engine_guard_op(r, "uncordon", 0) == 0 ? (r->guard_held = false, EV_OK) : EV_FAIL;
	reason = xasprintf("rbx:%s %s: kept out (%s)", r->run_id, r->rb->name,
			   r->keep_cordoned ? r->keep_reason : "on_success: keep_cordoned");
	if (engine_record(r, json_pack("{s:s, s:s, s:s}", "type", "guard", "op", "keep_cordoned", "reason",
			      reason),
		 true) < 0) {
		free(reason);
		return EV_INTERRUPT;
	}
	if (r->sched->ops->set_reason(r->sched, reason, &err) < 0)
		engine_fail(r, "cannot record the reason on %s: %s", r->node, err.msg);
	free(reason);
	return EV_OK;
}

/* The node stays cordoned; its reason names the run so the next person knows why. */
static void
mark_failed(struct run *r)
{
	struct rbx_err err;
	char *reason;

	if (!r->guard_held || !r->sched)
		return;
	reason = xasprintf("rbx:%s %s %s", r->run_id, r->rb->name, run_state_name(r->state));
	/* The intent first, like every other change to the node. */
	if (engine_record(r, json_pack("{s:s, s:s, s:s}", "type", "guard", "op", "keep_cordoned", "reason",
			      reason),
		 true) == 0 &&
	    r->sched->ops->set_reason(r->sched, reason, &err) < 0)
		engine_fail(r, "cannot record the reason on %s: %s", r->node, err.msg);
	free(reason);
}

static enum run_event
enter(struct run *r, enum run_state s)
{
	switch (s) {
	case RS_PRECHECK: return phase_precheck(r);
	case RS_GUARD: return phase_guard(r);
	case RS_PROCEDURE: return phase_procedure(r);
	case RS_VERIFY: return run_phase_steps(r, PHASE_VERIFY, false);
	case RS_ROLLBACK: return phase_rollback(r);
	case RS_RESTORE: return phase_restore(r);
	default: return EV_OK;
	}
}

static enum run_state drive(struct run *r, enum run_event ev);

/* The last record of a run (or of one resume of it), with its exit code. */
static void
emit_run_end(struct run *r)
{
	engine_record(r, json_pack("{s:s, s:s, s:i, s:i, s:b, s:s, s:I}", "type", "run_end", "state",
			  run_state_name(r->state), "exit", engine_status(r->state), "attempts",
			  r->attempt, "node_in_service",
			  r->state == RS_SUCCEEDED && !r->guard_held, "error",
			  r->state == RS_SUCCEEDED ? "" : r->failure, "duration_ms",
			  (json_int_t)(util_now_ms() - r->started_ms)),
	     true);
}

enum run_state
engine_run(struct run *r)
{
	enum run_event ev = EV_START;
	json_t *params = json_object(), *start_rec;
	size_t i;

	r->state = RS_PENDING;
	r->attempt = 1;
	r->started_ms = util_now_ms();
	if (r->sched)
		r->sched->cancel = r->interrupted; /* Ctrl-C ends a drain's wait, too */
	for (i = 0; i < r->params.n; i++) {
		const struct param *p = runbook_param(r->rb, r->params.keys[i]);
		/* A secret at the runbook's default is marked so, so a resume can take the default. */
		bool at_default = p && p->def && !strcmp(p->def, r->params.vals[i]);
		json_object_set_new(params, r->params.keys[i],
				    journal_string(p && p->secret ? (at_default ? "***default" : "***")
							       : r->params.vals[i]));
	}
	start_rec = json_pack("{s:s, s:i, s:s, s:s, s:s?, s:s, s:o, s:s?, s:s?, s:i, s:b, s:b, s:s, s:s, s:i}",
			  "type", "run_start", "format", JOURNAL_FORMAT, "runbook", r->rb->name,
			  "path", r->rb->path, "runbook_digest", r->runbook_digest, "node", r->node,
			  "params", params, "via", r->via, "inventory", r->inventory,
			  "max_attempts", r->rb->max_attempts, "yes", r->yes, "adopt", r->adopt,
			  "transport", r->node_tx ? r->node_tx->address : "-", "scheduler",
			  r->sched ? r->sched->ops->name : "-", "pid", (int)getpid());
	if (r->target)
		json_object_set(start_rec, "target", r->target);
	if (r->requested_by)
		json_object_set_new(start_rec, "requested_by", journal_string(r->requested_by));
	if (r->answers.n) { /* a resume answers them the same */
		json_t *ans = json_object();
		size_t k;
		for (k = 0; k < r->answers.n; k++)
			json_object_set_new(ans, r->answers.keys[k], json_string(r->answers.vals[k]));
		json_object_set_new(start_rec, "answers", ans);
	}
	engine_record(r, start_rec, true);
	if (r->fleet)
		engine_record(r, json_pack("{s:s, s:s, s:O}", "type", "fleet", "op", "acquired", "slots",
				  r->fleet),
		     true);
	return drive(r, ev);
}

/* From r->state (already entered, its event ev), to a final state and run_end. */
static enum run_state
drive(struct run *r, enum run_event ev)
{
	while (!run_state_terminal(r->state)) {
		enum run_state next = engine_next(r->state, ev);

		if (engine_interrupted(r) && next != RS_COUNT && !run_state_terminal(next))
			next = engine_next(r->state, EV_INTERRUPT);
		if (next == RS_INTERRUPTED && r->lease_lost && *r->lease_lost) {
			/* Without the slot, rbx may be past the fleet's budget: stop changing things. */
			engine_fail(r, "the fleet lease was lost (etcd unreachable or the lease revoked): "
				    "rbx stopped before changing anything more; the node is %s",
				 r->guard_held ? "still cordoned" : "as it was");
			engine_record(r, json_pack("{s:s, s:s, s:s}", "type", "fleet", "op", "lost", "error",
					  r->failure),
			     true);
		}
		if (next == RS_COUNT) {
			engine_fail(r, "internal error: no transition from %s on %s",
				 run_state_name(r->state), run_event_name(ev));
			next = r->guard_held ? RS_FAILED_UNSAFE : RS_ABORTED;
		}
		/* Written, not synced: a state change is no side effect. The next intent record
		 * (a step that changes the node, a guard operation), synced before it acts, or
		 * the run's end carries it to the disk; a power cut before that only finds the
		 * run where it stood before, as a kill just before the change would. */
		if (engine_record(r, json_pack("{s:s, s:s, s:s, s:s, s:i}", "type", "state", "from",
				      run_state_name(r->state), "to", run_state_name(next), "event",
				      run_event_name(ev), "attempt", r->attempt),
			 false) < 0) {
			/* Not recorded, so not entered: the journal ends where the run stands. */
			r->state = RS_INTERRUPTED;
			break;
		}
		r->state = next;
		ev = enter(r, next);
		r->seed = NULL;
	}
	if (r->state == RS_FAILED || r->state == RS_FAILED_UNSAFE)
		mark_failed(r);
	/* Ended: on-call sees the node's alerts again (a cordoned node is safe). An
	 * interrupted run keeps them for its resume; they end by themselves at the deadline. */
	if (r->state != RS_INTERRUPTED)
		engine_silence_release(r);
	emit_run_end(r);
	return r->state;
}

/* The seed's state becomes the run's: it owns the captures and done steps from here. */
static void
take_seed(struct run *r, struct run_seed *sd)
{
	r->state = sd->state;
	r->attempt = sd->attempt;
	strmap_release(&r->captures);
	r->captures = sd->captures;
	memset(&sd->captures, 0, sizeof(sd->captures));
	r->guard_held = sd->guard_held;
	r->was_cordoned = sd->was_cordoned;
	r->keep_cordoned = sd->keep_cordoned;
	snprintf(r->keep_reason, sizeof(r->keep_reason), "%s", sd->keep_reason);
	r->no_more_attempts = sd->no_more_attempts;
	free(r->done);
	r->done = sd->done;
	r->ndone = sd->ndone;
	sd->done = NULL;
	sd->ndone = 0;
	snprintf(r->failure, sizeof(r->failure), "%s", sd->failure);
	json_decref(r->silences);
	r->silences = sd->silences;
	sd->silences = NULL;
}

enum run_state
engine_resume(struct run *r, struct run_seed *seed, json_t *resume_rec)
{
	enum run_event ev = EV_OK;
	enum run_state s = seed->state;

	take_seed(r, seed);
	r->started_ms = util_now_ms();
	if (r->sched)
		r->sched->cancel = r->interrupted;
	engine_record(r, resume_rec, true);
	if (r->fleet)
		engine_record(r, json_pack("{s:s, s:s, s:O}", "type", "fleet", "op", "acquired", "slots",
				  r->fleet),
		     true);
	if (!run_state_terminal(s)) {
		/* The node's identity is checked again before anything runs on it. */
		if (s != RS_PRECHECK && open_transport(r) < 0) {
			engine_fail(r, "cannot reach %s to resume: %s", r->node, r->failure);
			r->state = RS_INTERRUPTED;
			emit_run_end(r);
			return RS_INTERRUPTED;
		}
		r->seed = seed;
		ev = enter(r, s);
		r->seed = NULL;
	}
	return drive(r, ev);
}

void
run_release(struct run *r)
{
	strmap_release(&r->params);
	strmap_release(&r->answers);
	strmap_release(&r->captures);
	free(r->done);
	r->done = NULL;
	r->ndone = 0;
	json_decref(r->silences);
	r->silences = NULL;
}

void
run_seed_init(struct run_seed *sd)
{
	memset(sd, 0, sizeof(*sd));
	sd->state = RS_PENDING;
	sd->attempt = 1;
	sd->was_cordoned = -1;
}

void
run_seed_release(struct run_seed *sd)
{
	if (!sd)
		return;
	strmap_release(&sd->captures);
	free(sd->done);
	free(sd->marks);
	json_decref(sd->silences);
	run_seed_init(sd);
}
