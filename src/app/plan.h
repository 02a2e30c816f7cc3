/* plan.h - `rbx plan` as a function: the core plan of a runbook for a node, with
 * where it goes (inventory or a named transport), the guard's exact calls and fleet slots. */
#ifndef RBX_APP_PLAN_H
#define RBX_APP_PLAN_H

#include <jansson.h>

#include "base/status.h"
#include "core/runbook.h"

struct plan_request {
	const struct runbook *rb;
	const char *node;
	const struct strmap *params; /* as given on the command line */
	const char *via;	     /* a simulated transport, or NULL for the inventory */
	const char *inventory;	     /* the inventory file, or NULL for the default */
};

/* *out gets the plan (new reference). RBX_USAGE with err on a bad node, param or inventory. */
enum rbx_status app_plan(const struct plan_request *rq, json_t **out, struct rbx_err *err);

#endif
