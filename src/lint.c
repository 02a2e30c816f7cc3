/* lint.c - the catalogue's safety rules, checked on the loaded model so each
 * finding names file:line:col: guard before mutation, undo or rollback, read-only checks. */
#include "rbx/lint.h"

#include <string.h>

static void
lint_step(const struct runbook *rb, const struct step *s, struct diags *d)
{
	const char *file = rb->path;

	if (s->mutates && rb->guard.none)
		diags_add(d, DIAG_ERROR, file, s->pos,
			  "step '%s' mutates the node, but the runbook declares 'guard: {none}' "
			  "(a runbook without a guard may only read)",
			  s->name);
	if (s->phase == PHASE_PRE_CHECKS && s->mutates)
		diags_add(d, DIAG_ERROR, file, s->pos,
			  "pre-check '%s' is marked mutating; pre-checks run before the guard and "
			  "must only read",
			  s->name);
	if (s->phase == PHASE_PRE_CHECKS && s->kind == STEP_CONFIRM)
		diags_add(d, DIAG_ERROR, file, s->pos,
			  "pre-check '%s' asks for confirmation; ask in the procedure", s->name);
	if (s->phase == PHASE_VERIFY && s->mutates)
		diags_add(d, DIAG_WARNING, file, s->pos,
			  "verify step '%s' is marked mutating; a proof should only observe", s->name);
	if (s->phase == PHASE_PROCEDURE && s->mutates && !s->undo &&
	    rb->nsteps[PHASE_ROLLBACK] == 0)
		diags_add(d, DIAG_ERROR, file, s->pos,
			  "mutating step '%s' has no 'undo', and the runbook has no 'rollback'", s->name);
	if (s->kind == STEP_ACTION && !rb->guard.none &&
	    (s->action == ACTION_CORDON || s->action == ACTION_UNCORDON) &&
	    s->phase == PHASE_PROCEDURE)
		diags_add(d, DIAG_WARNING, file, s->pos,
			  "step '%s' uses 'action: %s'; the engine's guard already cordons and "
			  "restores the node",
			  s->name, step_action_name(s->action));
	if (s->keep_cordoned && rb->guard.none)
		diags_add(d, DIAG_ERROR, file, s->pos,
			  "step '%s' keeps the node cordoned, but the runbook has no guard", s->name);
}

void
lint_runbook(const struct runbook *rb, struct diags *d)
{
	struct srcpos top = {1, 1};
	size_t i;
	int p;

	for (p = 0; p < PHASE_COUNT; p++)
		for (i = 0; i < rb->nsteps[p]; i++)
			lint_step(rb, rb->steps[p][i], d);
	if (rb->guard.none && rb->keep_cordoned)
		diags_add(d, DIAG_ERROR, rb->path, top,
			  "'on_success: keep_cordoned' needs a guard that cordons");
	if (rb->nreferences == 0)
		diags_add(d, DIAG_WARNING, rb->path, top,
			  "no 'references': say which public docs the commands rest on");
}
