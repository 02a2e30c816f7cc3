/* model.c - the runbook model's names and lookups: phases, step kinds and actions
 * by name, default timeouts, a parameter by name. Everything in core/ reads them. */
#include <string.h>

#include "core/runbook.h"
#include "core/schema.h"

const long long phase_default_timeout_ms[PHASE_COUNT] = {
	5 * 60 * 1000LL, 30 * 60 * 1000LL, 60 * 60 * 1000LL, 30 * 60 * 1000LL,
};

static const char *const phase_names[PHASE_COUNT] = {"pre_checks", "procedure", "verify",
						     "rollback"};
static const char *const phase_titles[PHASE_COUNT] = {"Pre-checks", "Procedure", "Verify",
						      "Rollback"};

const char *
phase_name(enum phase p)
{
	return p < PHASE_COUNT ? phase_names[p] : "?";
}

const char *
phase_title(enum phase p)
{
	return p < PHASE_COUNT ? phase_titles[p] : "?";
}

const char *
step_action_name(enum step_action a)
{
	return schema_actions[a];
}

const char *
step_kind_name(enum step_kind k)
{
	static const char *const names[] = {"ssh", "run", "http", "action", "confirm"};
	return names[k];
}

const struct param *
runbook_param(const struct runbook *rb, const char *name)
{
	size_t i;

	for (i = 0; i < rb->nparams; i++)
		if (strcmp(rb->params[i].name, name) == 0)
			return &rb->params[i];
	return NULL;
}

bool
runbook_changes_cluster(const struct runbook *rb)
{
	size_t i;
	int p;

	for (p = 0; p < PHASE_COUNT; p++)
		for (i = 0; i < rb->nsteps[p]; i++)
			if (rb->steps[p][i]->cluster ||
			    (rb->steps[p][i]->undo && rb->steps[p][i]->undo->cluster))
				return true;
	return false;
}
