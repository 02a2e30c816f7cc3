/* resume.h - reads a run's journal back into the engine's state, so `rbx resume`
 * continues where a crash, kill or interrupt stopped it, never redoing a done step. */
#ifndef RBX_RESUME_H
#define RBX_RESUME_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/engine.h"
#include "base/util.h"

struct resume_info {
	json_t *recs;		    /* every whole record, in order */
	json_t *start;		    /* the run_start record (borrowed from recs) */
	size_t good_bytes;	    /* where the whole records end */
	int torn;		    /* a torn last line was found */
	long long last_seq;
	enum run_state state;	    /* the state to re-enter */
	enum run_state ended;	    /* the final state, or RS_COUNT while unfinished */
	const struct step *in_doubt; /* started, with no end that says how it went */
	int in_doubt_try;
	bool in_doubt_ran;	    /* it was stopped while running (not merely announced) */
	int in_doubt_attempt;	    /* the attempt it belongs to (for its RBX_STEP_TAG) */
};

/* Read run_id's journal: the records and the run_start. */
int resume_read(const char *state_dir, const char *run_id, struct resume_info *info,
		struct rbx_err *err);
/*
 * Replay the records, written by a run of rb, into a seed the engine starts
 * from (engine_resume): the state to re-enter, attempt, captures, guard, the
 * steps done in this attempt and the steps already ended in that state; and
 * into info, the step in doubt. -1 with err when a record names a step rb lacks.
 */
int resume_replay(struct resume_info *info, const struct runbook *rb, struct run_seed *sd,
		  struct rbx_err *err);
/* A step ended well (rec: its step_end, for captures; may be NULL): mark it done. */
void resume_step_done(struct run_seed *sd, const struct step *s, int try, json_t *rec);
void resume_info_release(struct resume_info *info);

/*
 * Where a run stands, from its records alone (no runbook needed): {state,
 * attempt, finished, cordoned (by this run, still), in_doubt (a step name)}.
 * An interrupted run is not finished: `rbx resume` continues it.
 */
json_t *resume_where(json_t *recs);

/* Whether an in-doubt step may simply run again: idempotent, or harmless to repeat. */
bool resume_rerun_safe(const struct step *s);

#endif
