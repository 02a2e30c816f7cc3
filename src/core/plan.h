/* plan.h - the one plan of a run: each step's rendered command, where it runs and
 * the guard's reason. `rbx plan` shows it; the engine renders every step through it. */
#ifndef RBX_PLAN_H
#define RBX_PLAN_H

#include <jansson.h>

#include "core/runbook.h"
#include "core/template.h"

/* Where a run's steps go, by the addresses its transports give. */
struct plan_where {
	const char *node;      /* ssh: steps, reboot, wait_up: "ssh:root@n42:22" */
	const char *local;     /* run: steps: "local", or the simulated node's address */
	const char *scheduler; /* the guard's backend name */
};

/* Where step s runs: an address of w, "local" (rbx's own host) or "operator". */
const char *plan_step_target(const struct step *s, const struct plan_where *w);

/*
 * The text step s runs, rendered for its context: a shell command (values as
 * variables, named with their values in vars), a confirm question, or an http
 * step's URL. Allocated; NULL with err on a template error.
 */
char *plan_render_step(const struct tmpl_ctx *c, const struct step *s, struct strmap *vars,
		       struct rbx_err *err);

/* The reason the guard writes on the node: "rbx:RUN RUNBOOK" (allocated). */
char *plan_guard_reason(const char *run_id, const char *runbook);

/*
 * The whole plan of rb on node with params (bound, see engine_bind_params_plan),
 * as JSON: every phase, step, undo and the guard. Values of secret params show
 * as ***; captures not known yet stay as references. NULL with err.
 */
json_t *plan_build(const struct runbook *rb, const char *node, const struct strmap *params,
		   const struct plan_where *w, struct rbx_err *err);

#endif
