/* engine.h - the run state machine of DESIGN.md section 1, as one table, and the
 * phase runners that drive a runbook through it on one node. */
#ifndef RBX_ENGINE_H
#define RBX_ENGINE_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>

#include "backends/exec.h"
#include "core/runbook.h"
#include "io/alertmanager.h"
#include "base/status.h"
#include "base/util.h"

enum run_state {
	RS_PENDING,
	RS_PRECHECK,
	RS_GUARD,
	RS_PROCEDURE,
	RS_VERIFY,
	RS_ROLLBACK,
	RS_RESTORE,
	RS_SUCCEEDED,
	RS_ABORTED,
	RS_FAILED,
	RS_FAILED_UNSAFE,
	RS_INTERRUPTED,
	RS_COUNT
};

enum run_event {
	EV_START,
	EV_OK,
	EV_FAIL,
	EV_RETRY,	  /* rollback done, attempts left */
	EV_ROLLBACK_FAIL, /* a rollback step failed */
	EV_INTERRUPT,
	EV_COUNT
};

struct transition {
	enum run_state from;
	enum run_event ev;
	enum run_state to;
	const char *label;
};

extern const struct transition engine_transitions[];
extern const size_t engine_ntransitions;

const char *run_state_name(enum run_state s);
const char *run_event_name(enum run_event e);
bool run_state_terminal(enum run_state s);
/* The documented exit code of a final state (DESIGN.md section 6). */
enum rbx_status engine_status(enum run_state s);
/* The next state, or RS_COUNT when the table has no such transition. */
enum run_state engine_next(enum run_state s, enum run_event e);

struct transport;
struct sched;
struct journal;

/*
 * A step the journal shows ended in the state a resume re-enters: one that
 * succeeded is not run again; one that failed keeps its tries used.
 */
struct step_mark {
	const struct step *s;
	int tries;
	bool ok;
	char error[512];
};

/*
 * Where a resumed run stands, replayed from its journal (core/resume.c): the
 * engine starts from it (engine_resume) and nothing else writes the engine's fields.
 */
struct run_seed {
	enum run_state state; /* the state to re-enter */
	int attempt;
	struct strmap captures;
	bool guard_held;
	int was_cordoned; /* -1 unknown; else the node's state the guard found */
	bool keep_cordoned;
	char keep_reason[256];
	bool no_more_attempts;
	const struct step **done; /* what this attempt changed (what a rollback undoes) */
	size_t ndone;
	struct step_mark *marks; /* the steps already ended in the state re-entered */
	size_t nmarks;
	bool rollback_failed;	   /* a rollback step had failed before the stop */
	char rollback_first[1024]; /* why the rollback began */
	char failure[1024];
	json_t *silences; /* the Alertmanager silences the run holds (NULL: none) */
};

void run_seed_init(struct run_seed *sd);
void run_seed_release(struct run_seed *sd);

/* What the caller plugs in: where records and output go, and how to ask. */
struct run_io {
	void (*event)(void *arg, json_t *rec);
	void (*output)(void *arg, const struct step *s, enum exec_stream st, const char *data,
		       size_t len);
	/* 1 yes, 0 no, -1 no answer (end of input, Ctrl-C). NULL when no one can be asked (no TTY). */
	int (*confirm)(void *arg, const char *question);
	void *arg;
};

struct run {
	/* Set by the caller. */
	const struct runbook *rb;
	const char *node;
	const char *run_id;
	struct strmap params; /* bound with engine_bind_params */
	bool yes;
	struct strmap answers; /* confirm steps answered in advance, by name: "yes" or "no" */
	bool adopt;
	const char *requested_by; /* journaled in run_start: who asked, when not the user */
	const char *via;	    /* a transport named instead of an inventory (resume goes the same way) */
	bool loopback_only;	    /* http steps reach loopback addresses only (a simulated target) */
	const char *inventory;	    /* the file the node came from, or NULL; for resume */
	const char *runbook_digest; /* a resume refuses a changed runbook */
	struct transport *node_tx;  /* ssh: steps */
	struct transport *local_tx; /* run: steps */
	struct sched *sched;
	struct journal *journal; /* NULL: no journal (unit tests) */
	struct run_io io;
	rbx_flag *interrupted;
	rbx_flag *lease_lost; /* the fleet slot's lease ran out (NULL: no fleet) */
	json_t *fleet;			   /* the slots held, for run_start and resume (borrowed) */
	json_t *target;			   /* target_identity, for run_start (borrowed; NULL: none) */
	const struct am_conf *alertmanager; /* silence the node's alerts while held (NULL: none) */

	/* Kept by the engine. */
	enum run_state state;
	int attempt;
	struct strmap captures;
	bool guard_held;
	bool keep_cordoned;
	char keep_reason[256];
	bool no_more_attempts;
	const struct step **done; /* mutating steps completed in this attempt */
	size_t ndone;
	char failure[1024]; /* why the run did not succeed */
	bool journal_failed; /* a record did not reach the disk: the run acts no more */
	bool step_lost;	     /* the connection dropped mid-step: the step is in doubt, the run stops */
	bool unreached;	     /* a step could not reach its node: it never started; the run stops */
	char journal_error[1024];
	int64_t started_ms;

	int was_cordoned; /* a resumed run: the node's state its guard found (-1 unknown) */
	json_t *silences; /* ids of the silences this run created and has not expired */
	/* While a resume re-enters its state: the journal's seed, for that one visit. */
	const struct run_seed *seed;
};

/*
 * Bind --param values to the runbook's params: defaults filled in, unknown
 * names, missing required values and pattern mismatches refused.
 */
int engine_bind_params(const struct runbook *rb, const struct strmap *given, struct strmap *out,
		       struct rbx_err *err);
/* The same for a plan: a required parameter not given is left out (shown as a template). */
int engine_bind_params_plan(const struct runbook *rb, const struct strmap *given,
			    struct strmap *out, struct rbx_err *err);

/* Drive the run to a final state; returns it. Every record goes to the journal first. */
enum run_state engine_run(struct run *r);
/*
 * Continue a run from its seed (resume_replay): steps the journal shows done
 * are not run again. The seed's captures and done steps move into r; the rest
 * is read during the first visit. The journal must already be open for
 * appending; a "resume" record says who resumed and how.
 */
enum run_state engine_resume(struct run *r, struct run_seed *seed, json_t *resume_rec);
/* Journal a record for the run (borrowed reference stolen), synced. */
void engine_emit(struct run *r, json_t *rec);
void run_release(struct run *r);

/*
 * The RBX_STEP_TAG of one try of a step: "<run id>.<attempt>.<phase>.<index>.<of>.<try>",
 * so a resume can find what a step in doubt left running (allocated).
 */
char *engine_step_tag(const char *run_id, int attempt, const char *phase, int index, int of,
		      int try);

/* Evaluate a `when` against params and captures (unset captures are ""). */
bool engine_when(const struct when *w, const struct strmap *params, const struct strmap *captures);

#endif
