/* resume.c - replays a run's journal into the engine's state: which state to
 * re-enter, what each step did, and which step is in doubt. */
#define _GNU_SOURCE
#include "core/resume.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/journal.h"

static const char *
str(json_t *rec, const char *key)
{
	const char *v = json_string_value(json_object_get(rec, key));

	return v ? v : "";
}

static enum run_state
state_from_name(const char *name)
{
	int s;

	for (s = 0; s < RS_COUNT; s++)
		if (!strcmp(run_state_name((enum run_state)s), name))
			return (enum run_state)s;
	return RS_COUNT;
}

int
resume_read(const char *state_dir, const char *run_id, struct resume_info *info,
	    struct rbx_err *err)
{
	char *path;
	json_t *last, *where;

	memset(info, 0, sizeof(*info));
	info->ended = RS_COUNT;
	if (!journal_valid_run_id(run_id))
		return err_set(err, "'%s' is not a run id (see 'rbx runs')", run_id);
	path = journal_run_path(state_dir, run_id);
	info->recs = journal_read(path, &info->torn, &info->good_bytes, err);
	free(path);
	if (!info->recs)
		return -1;
	info->start = json_array_get(info->recs, 0);
	if (!info->start)
		return err_set(err, "run %s never began (its journal holds no whole record): nothing "
				    "was changed; start it again with 'rbx run'",
			       run_id);
	if (strcmp(str(info->start, "type"), "run_start") != 0)
		return err_set(err, "run %s: the journal does not begin with run_start", run_id);
	if (json_integer_value(json_object_get(info->start, "format")) != JOURNAL_FORMAT)
		return err_set(err, "run %s: journal format %lld, this rbx reads %d", run_id,
			       (long long)json_integer_value(json_object_get(info->start, "format")),
			       JOURNAL_FORMAT);
	last = json_array_get(info->recs, json_array_size(info->recs) - 1);
	info->last_seq = json_integer_value(json_object_get(last, "seq"));
	where = resume_where(info->recs);
	if (json_is_true(json_object_get(where, "finished")))
		info->ended = state_from_name(str(where, "state"));
	json_decref(where);
	return 0;
}

/* The runbook's step a record names, or NULL. */
static const struct step *
find_step(const struct runbook *rb, json_t *rec)
{
	const char *ph = str(rec, "phase");
	long long idx = json_integer_value(json_object_get(rec, "index"));
	int p;

	if (!strcmp(ph, "undo")) {
		long long of = json_integer_value(json_object_get(rec, "of"));
		if (of < 1 || (size_t)of > rb->nsteps[PHASE_PROCEDURE])
			return NULL;
		return rb->steps[PHASE_PROCEDURE][of - 1]->undo;
	}
	for (p = 0; p < PHASE_COUNT; p++)
		if (!strcmp(phase_name((enum phase)p), ph) && idx >= 1 &&
		    (size_t)idx <= rb->nsteps[p])
			return rb->steps[p][idx - 1];
	return NULL;
}

static void
set_failure(struct run_seed *sd, const struct step *s, const char *why)
{
	snprintf(sd->failure, sizeof(sd->failure), "step '%s' failed: %s", s->name, why);
}

/* How a step ended in the state being re-entered (the last word wins). */
static void
seed_mark(struct run_seed *sd, const struct step *s, int tries, bool ok, const char *error)
{
	struct step_mark *m = NULL;
	size_t i;

	for (i = 0; i < sd->nmarks && !m; i++)
		if (sd->marks[i].s == s)
			m = &sd->marks[i];
	if (!m) {
		sd->marks = xrealloc(sd->marks, (sd->nmarks + 1) * sizeof(*sd->marks));
		m = &sd->marks[sd->nmarks++];
	}
	m->s = s;
	m->tries = tries;
	m->ok = ok;
	snprintf(m->error, sizeof(m->error), "%s", error ? error : "");
}

void
resume_step_done(struct run_seed *sd, const struct step *s, int try, json_t *rec)
{
	const char *k;
	json_t *v;

	json_object_foreach(json_object_get(rec, "captures"), k, v) {
		char *val = journal_bytes_value(v);
		strmap_set(&sd->captures, k, val);
		free(val);
	}
	seed_mark(sd, s, try, true, NULL);
	if (sd->state == RS_PROCEDURE && s->phase == PHASE_PROCEDURE && s->index &&
	    (s->mutates || s->undo)) {
		sd->done = xrealloc(sd->done, (sd->ndone + 1) * sizeof(*sd->done));
		sd->done[sd->ndone++] = s;
	}
	if (s->keep_cordoned && !sd->keep_cordoned) {
		sd->keep_cordoned = true;
		snprintf(sd->keep_reason, sizeof(sd->keep_reason), "%s", s->name);
	}
}

static void
replay_state(struct run_seed *sd, json_t *rec, struct resume_info *info)
{
	enum run_state to = state_from_name(str(rec, "to"));

	/* An interrupt leaves the run in the state it stopped in. */
	if (to == RS_INTERRUPTED || to == RS_COUNT)
		return;
	if (to == RS_PROCEDURE) {
		sd->ndone = 0;
		if (!strcmp(str(rec, "event"), "retry"))
			sd->keep_cordoned = false;
	}
	if (to == RS_ROLLBACK) {
		snprintf(sd->rollback_first, sizeof(sd->rollback_first), "%s", sd->failure);
		sd->rollback_failed = false;
	}
	sd->state = to;
	sd->attempt = (int)json_integer_value(json_object_get(rec, "attempt"));
	sd->nmarks = 0;
	info->in_doubt = NULL;
}

/* The silences the run created and did not expire: the resumed run keeps and ends them. */
static void
replay_silence(struct run_seed *sd, json_t *rec)
{
	const char *op = str(rec, "op");

	if (!strcmp(op, "created")) {
		json_decref(sd->silences);
		sd->silences = json_deep_copy(json_object_get(rec, "ids"));
	} else if (!strcmp(op, "expired")) {
		json_decref(sd->silences);
		sd->silences = NULL;
	}
}

static void
replay_guard(struct run_seed *sd, json_t *rec, const char *node)
{
	const char *op = str(rec, "op"), *status = str(rec, "status");

	if (!strcmp(op, "found"))
		sd->was_cordoned = json_is_true(json_object_get(rec, "cordoned"));
	else if (!strcmp(status, "failed"))
		snprintf(sd->failure, sizeof(sd->failure), "%s %s: %s", op, node, str(rec, "error"));
	else if (!strcmp(status, "ok") && !strcmp(op, "cordon"))
		sd->guard_held = true;
	else if (!strcmp(status, "ok") && !strcmp(op, "uncordon"))
		sd->guard_held = false;
}

static void
in_doubt(struct resume_info *info, const struct step *s, int try, json_t *rec, bool ran)
{
	info->in_doubt = s;
	info->in_doubt_try = try;
	info->in_doubt_attempt = (int)json_integer_value(json_object_get(rec, "attempt"));
	info->in_doubt_ran = ran;
}

static int
replay_step(struct run_seed *sd, const struct runbook *rb, json_t *rec, const char *type,
	    struct resume_info *info, struct rbx_err *err)
{
	const struct step *s = find_step(rb, rec);
	const char *status = str(rec, "status");
	int try = (int)json_integer_value(json_object_get(rec, "try"));

	if (!s)
		return err_set(err, "journal record %lld names %s step %lld, which runbook '%s' "
				    "does not have",
			       (long long)json_integer_value(json_object_get(rec, "seq")),
			       str(rec, "phase"),
			       (long long)json_integer_value(json_object_get(rec, "index")),
			       rb->name);
	if (try < 1)
		try = 1;
	if (!strcmp(type, "step_start")) {
		in_doubt(info, s, try, rec, false);
	} else if (!strcmp(type, "confirm")) {
		if (!strcmp(str(rec, "answer"), "yes")) {
			resume_step_done(sd, s, 1, rec);
		} else {
			sd->no_more_attempts = true;
			seed_mark(sd, s, 1, false, "the operator declined");
			set_failure(sd, s, "the operator declined");
		}
	} else if (!strcmp(type, "step_refused")) {
		seed_mark(sd, s, 1, false, str(rec, "error"));
		snprintf(sd->failure, sizeof(sd->failure), "%s", str(rec, "error"));
	} else if (!strcmp(status, "interrupted") || !strcmp(status, "lost")) {
		/* Stopped while it ran, or out of sight (connection lost): it may have done part of its work. */
		in_doubt(info, s, try, rec, true);
	} else if (!strcmp(status, "unreached")) {
		/* The node was not reached: the step never started, and starts again. */
		info->in_doubt = NULL;
	} else if (!strcmp(status, "ok") || !strcmp(status, "assumed_done")) {
		resume_step_done(sd, s, try, rec);
		info->in_doubt = NULL;
	} else if (!strcmp(type, "step_end")) {
		seed_mark(sd, s, try, false, str(rec, "error"));
		set_failure(sd, s, str(rec, "error"));
		if (sd->state == RS_ROLLBACK)
			sd->rollback_failed = true;
		info->in_doubt = NULL;
	}
	return 0;
}

int
resume_replay(struct resume_info *info, const struct runbook *rb, struct run_seed *sd,
	      struct rbx_err *err)
{
	const char *node = str(info->start, "node");
	json_t *rec;
	size_t i;

	run_seed_init(sd);
	json_array_foreach(info->recs, i, rec) {
		const char *type = str(rec, "type");

		if (!strcmp(type, "state"))
			replay_state(sd, rec, info);
		else if (!strcmp(type, "guard"))
			replay_guard(sd, rec, node);
		else if (!strcmp(type, "silence"))
			replay_silence(sd, rec);
		else if ((!strncmp(type, "step_", 5) && strcmp(type, "step_skip") != 0) ||
			 !strcmp(type, "confirm")) {
			if (replay_step(sd, rb, rec, type, info, err) < 0)
				return -1;
		}
	}
	if (sd->state == RS_PENDING)
		sd->state = RS_PRECHECK; /* nothing began: start from the top */
	info->state = sd->state;
	return 0;
}

json_t *
resume_where(json_t *recs)
{
	const char *state = "PENDING", *end = NULL;
	json_t *rec, *doubt = NULL;
	bool held = false;
	long long attempt = 1;
	size_t i;

	json_array_foreach(recs, i, rec) {
		const char *type = str(rec, "type"), *status = str(rec, "status");
		if (!strcmp(type, "state") && strcmp(str(rec, "to"), "INTERRUPTED")) {
			state = str(rec, "to");
			attempt = json_integer_value(json_object_get(rec, "attempt"));
			doubt = NULL;
		} else if (!strcmp(type, "guard") && !strcmp(status, "ok")) {
			held = !strcmp(str(rec, "op"), "cordon") || (held && strcmp(str(rec, "op"), "uncordon"));
		} else if (!strcmp(type, "step_start") ||
			   (!strcmp(type, "step_end") &&
			    (!strcmp(status, "interrupted") || !strcmp(status, "lost")))) {
			doubt = rec;
		} else if (!strcmp(type, "step_end")) {
			doubt = NULL;
		} else if (!strcmp(type, "run_end")) {
			end = str(rec, "state");
		} else if (!strcmp(type, "resume")) {
			end = NULL;
		}
	}
	if (end && !strcmp(end, "INTERRUPTED"))
		end = NULL;
	rec = json_pack("{s:s, s:I, s:b, s:b, s:s?}", "state", end ? end : state, "attempt",
			(json_int_t)attempt, "finished", end != NULL, "cordoned", held, "in_doubt",
			doubt && !end ? str(doubt, "name") : NULL);
	return rec;
}

bool
resume_rerun_safe(const struct step *s)
{
	if (s->idempotent)
		return true;
	/* Asking again, waiting again or sleeping again changes nothing. */
	return s->kind == STEP_CONFIRM ||
	       (s->kind == STEP_ACTION && (s->action == ACTION_SLEEP || s->action == ACTION_WAIT_SSH));
}

void
resume_info_release(struct resume_info *info)
{
	json_decref(info->recs);
	memset(info, 0, sizeof(*info));
}
