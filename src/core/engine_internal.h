/* engine_internal.h - what the engine's files share and nothing else sees: records,
 * rendering and the running of one step (engine.c, engine_record.c, engine_step.c). */
#ifndef RBX_ENGINE_INTERNAL_H
#define RBX_ENGINE_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>

#include "core/engine.h"
#include "core/template.h"

/* Why the run did not succeed, into r->failure (an argument may be r->failure). */
void engine_fail(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Journal rec (stolen), then show it; -1 when it is not on disk: do not act on it. */
int engine_record(struct run *r, json_t *rec, bool sync);
/* s with every secret parameter's value replaced by *** (allocated). */
char *engine_redact(const struct run *r, const char *s);
json_t *engine_step_rec(const char *type, const struct step *s, const struct run *r);
char *engine_render_vars(const struct run *r, const char *tmpl, enum tmpl_mode mode,
			 bool redacted, struct strmap *vars, struct rbx_err *err);
char *engine_render(const struct run *r, const char *tmpl, enum tmpl_mode mode, bool redacted,
		    struct rbx_err *err);
/* Step s's command, question or URL, rendered through the plan (core/plan.c). */
char *engine_render_step(const struct run *r, const struct step *s, bool redacted,
			 struct strmap *vars, struct rbx_err *err);
/* Where step s runs, as the plan names it. */
const char *engine_step_target(const struct run *r, const struct step *s);

/* How the journal says step s ended in the state a resume re-enters; NULL if not. */
const struct step_mark *engine_find_mark(const struct run *r, const struct step *s);
/* Add a step to the steps this attempt changed (what a rollback undoes). */
void run_add_done(struct run *r, const struct step *s);
/* Interrupted, lease lost, journal failed or a step lost: act no more. */
bool engine_interrupted(const struct run *r);
/* One guard operation ("cordon", "drain", "uncordon"), its intent journaled first. */
int engine_guard_op(struct run *r, const char *op, long long timeout_ms);
/*
 * Before the guard (and its silences, which would hide them): wait while a blocking
 * alert fires on the node or its pool, up to the Alertmanager's gate_timeout; the wait
 * is journaled. -1 (r->failure says why) when it does not stop in time.
 */
int engine_gate_wait(struct run *r);
/*
 * Before the guard: silence the node's alerts until the run's worst-case end, intent
 * journaled first (a resumed run keeps its own). -1 (r->failure says why) when
 * Alertmanager cannot be reached and silences are not optional.
 */
int engine_silence_take(struct run *r);
/* At the end: expire them, so on-call sees the node's alerts (errors are journaled). */
void engine_silence_release(struct run *r);
/* One step: `when`, the guard invariant, then its action. 0 ok or skipped, -1 failed. */
int engine_run_step(struct run *r, const struct step *s, bool *skipped);

#endif
