/* plan.c - the plan of a runbook for a node, as `rbx plan` (and later the page behind
 * an alert link) shows it: core's plan, placed on the node's transports and guard. */
#define _GNU_SOURCE
#include "app/plan.h"

#include <stdlib.h>
#include <string.h>

#include "app/target.h"
#include "core/engine.h"
#include "core/plan.h"

/* The fleet slots a run of this node takes before anything else (docs/operations.md). */
static json_t *
plan_fleet(const struct fleet_conf *fc)
{
	json_t *budgets = json_array();
	size_t i;

	for (i = 0; i < fc->nbudgets; i++)
		json_array_append_new(budgets, json_pack("{s:s, s:s, s:i, s:s++++}", "label",
							 fc->budgets[i].label, "value",
							 fc->budgets[i].value, "limit",
							 fc->budgets[i].limit, "keys",
							 fc->prefix ? fc->prefix : "/rbx", "/budget/",
							 fc->budgets[i].label, "=",
							 fc->budgets[i].value));
	return json_pack("{s:s, s:I, s:o}", "etcd", fc->endpoint, "ttl_ms", (json_int_t)fc->ttl_ms,
			 "budgets", budgets);
}

/* The exact calls the guard will make, from the backend itself. */
static void
plan_guard_calls(const struct target *tgt, const struct runbook *rb, json_t *guard)
{
	struct rbx_err serr;
	char *state_dir = util_state_dir(), *reason = plan_guard_reason("{{run.id}}", rb->name);
	struct sched *sc = target_sched(tgt, state_dir, &serr);

	if (sc && sc->ops->describe) {
		struct buf calls;
		buf_init(&calls, 0);
		sc->ops->describe(sc, reason, &calls);
		json_object_set_new(guard, "calls", json_string(calls.data));
		buf_release(&calls);
	} else if (!sc) {
		json_object_set_new(guard, "calls", json_string(serr.msg));
	}
	sched_free(sc);
	free(state_dir);
	free(reason);
}

enum rbx_status
app_plan(const struct plan_request *rq, json_t **out, struct rbx_err *err)
{
	struct strmap params = {0};
	struct target tgt = {0};
	struct plan_where w = {0};
	enum rbx_status rc = RBX_USAGE;
	json_t *plan = NULL;

	*out = NULL;
	if (!util_valid_node_name(rq->node))
		return err_set(err, "'%s' is not a valid node name", rq->node), RBX_USAGE;
	if (engine_bind_params_plan(rq->rb, rq->params, &params, err) < 0)
		goto out;
	/* The plan names where each step runs: a simulated node, the inventory's address,
	 * or the bare node when no inventory is at hand (CI plans the catalogue that way). */
	if (target_resolve(rq->node, rq->via, rq->inventory, &tgt, err) == 0) {
		w.node = tgt.address;
		w.local = target_local_address(&tgt);
		w.scheduler = tgt.scheduler;
	} else if (!rq->via && !rq->inventory && !getenv("RBX_INVENTORY")) {
		target_release(&tgt);
		memset(&tgt, 0, sizeof(tgt));
		tgt.address = xasprintf("node:%s", rq->node);
		w.node = tgt.address;
		w.local = "local";
		w.scheduler = "inventory";
		err->msg[0] = 0;
	} else {
		goto out;
	}
	plan = plan_build(rq->rb, rq->node, &params, &w, err);
	if (!plan)
		goto out;
	if (tgt.sc && !rq->rb->guard.none)
		plan_guard_calls(&tgt, rq->rb, json_object_get(plan, "guard"));
	if (tgt.conf.fleet.endpoint && tgt.conf.fleet.nbudgets)
		json_object_set_new(plan, "fleet", plan_fleet(&tgt.conf.fleet));
	*out = plan;
	plan = NULL;
	rc = RBX_OK;
out:
	json_decref(plan);
	target_release(&tgt);
	strmap_release(&params);
	return rc;
}
