/* engine_silence.c - the run and Alertmanager: the gate that waits out blocking alerts,
 * then silences taken before the guard, kept across a resume, expired when the run ends. */
#include <string.h>

#include "core/alert.h"
#include "core/engine_internal.h"

static bool
blocking_name(const struct run *r, const char *name)
{
	size_t i;

	for (i = 0; name && i < r->rb->guard.nblocking; i++)
		if (!strcmp(r->rb->guard.blocking_alerts[i], name))
			return true;
	for (i = 0; name && i < r->alertmanager->nblocking; i++)
		if (!strcmp(r->alertmanager->blocking[i], name))
			return true;
	return false;
}

/* Does the alert name this node (by a node label) or its pool (by `pool`)? */
static bool
on_node_or_pool(const struct run *r, json_t *labels)
{
	const char *pool = json_string_value(json_object_get(labels, "pool"));
	struct rbx_err err;
	size_t i;

	if (pool && r->alertmanager->pool && !strcmp(pool, r->alertmanager->pool))
		return true;
	for (i = 0; i < r->alertmanager->nlabels; i++) {
		const char *v = json_string_value(json_object_get(labels, r->alertmanager->node_labels[i]));
		char *node = v ? alert_node(v, NULL, 0, &err) : NULL;
		bool hit = node && !strcmp(node, r->node);
		free(node);
		if (hit)
			return true;
	}
	return false;
}

/* The blocking alerts firing on the node or its pool now: a list of their labels. */
static int
blocking_now(struct run *r, json_t **found, struct rbx_err *err)
{
	json_t *alerts, *a;
	size_t i;

	*found = json_array();
	if (am_active_alerts(r->alertmanager, &alerts, err) < 0)
		return -1;
	json_array_foreach(alerts, i, a) {
		json_t *labels = json_object_get(a, "labels");
		if (blocking_name(r, json_string_value(json_object_get(labels, "alertname"))) &&
		    on_node_or_pool(r, labels))
			json_array_append(*found, labels);
	}
	json_decref(alerts);
	return 0;
}

int
engine_gate_wait(struct run *r)
{
	struct rbx_err err;
	int64_t deadline;
	json_t *found = NULL;
	bool waited = false;
	int rc = -1;

	if (!r->alertmanager || !r->alertmanager->url ||
	    (r->rb->guard.nblocking == 0 && r->alertmanager->nblocking == 0))
		return 0;
	deadline = util_now_ms() + r->alertmanager->gate_timeout_ms;
	for (;;) {
		json_decref(found);
		if (blocking_now(r, &found, &err) < 0) {
			if (r->alertmanager->optional) {
				engine_record(r, json_pack("{s:s, s:s, s:s}", "type", "gate", "op", "skipped",
							   "error", err.msg),
					      true);
				rc = 0;
			} else {
				engine_fail(r, "cannot ask Alertmanager for blocking alerts on %s: %s "
					       "(nothing was changed)", r->node, err.msg);
			}
			goto out;
		}
		if (json_array_size(found) == 0) {
			if (waited)
				engine_record(r, json_pack("{s:s, s:s}", "type", "gate", "op", "clear"), true);
			rc = 0;
			goto out;
		}
		if (!waited) {
			char until[40];
			util_iso_time(util_wall_ms() + r->alertmanager->gate_timeout_ms, until, sizeof(until));
			if (engine_record(r, json_pack("{s:s, s:s, s:O, s:s}", "type", "gate", "op", "wait",
						       "alerts", found, "until", until),
					  true) < 0)
				goto out;
			waited = true;
		}
		if (util_now_ms() >= deadline) {
			const char *name = json_string_value(json_object_get(json_array_get(found, 0), "alertname"));
			engine_record(r, json_pack("{s:s, s:s}", "type", "gate", "op", "timeout"), true);
			engine_fail(r, "blocking alert %s still fires on %s or its pool after %llds: the "
				       "guard was not taken, nothing was changed", name ? name : "?", r->node,
				    r->alertmanager->gate_timeout_ms / 1000);
			goto out;
		}
		/* Poll every 2 s, or sooner at the deadline; Ctrl-C ends the wait. */
		for (int t = 0; t < 20 && util_now_ms() < deadline; t++) {
			if (engine_interrupted(r))
				goto out;
			util_sleep_ms(100);
		}
	}
out:
	json_decref(found);
	return rc;
}

/* The longest every try of every step can take, every attempt, plus the drain: past it
 * the run is dead or stuck, and its silence must end so on-call sees the node again. */
static long long
worst_case_ms(const struct runbook *rb)
{
	long long per_attempt = 0, once = rb->guard.drain_timeout_ms;
	int p;
	size_t i;

	for (p = 0; p < PHASE_COUNT; p++) {
		for (i = 0; i < rb->nsteps[p]; i++) {
			const struct step *s = rb->steps[p][i];
			long long t = s->timeout_ms * (s->retries + 1) + s->retry_delay_ms * s->retries;
			if (s->undo)
				t += s->undo->timeout_ms;
			if (p == PHASE_PRE_CHECKS)
				once += t;
			else
				per_attempt += t;
		}
	}
	/* A minute for the guard's own calls and the HTTP requests around it. */
	return once + per_attempt * (rb->max_attempts > 0 ? rb->max_attempts : 1) + 60 * 1000LL;
}

int
engine_silence_take(struct run *r)
{
	struct rbx_err err;
	char until[40], *comment;
	int64_t ends;
	json_t *ids;
	int rc;

	if (!r->alertmanager || !r->alertmanager->url || r->silences)
		return 0;
	ends = util_wall_ms() + worst_case_ms(r->rb);
	util_iso_time(ends, until, sizeof(until));
	if (engine_record(r, json_pack("{s:s, s:s, s:s, s:s}", "type", "silence", "op", "create",
				       "alertmanager", r->alertmanager->url, "until", until),
			  true) < 0)
		return -1;
	ids = json_array();
	comment = xasprintf("rbx run %s: runbook %s on %s", r->run_id, r->rb->name, r->node);
	rc = am_silence_node(r->alertmanager, r->node, comment, ends, ids, &err);
	free(comment);
	/* What was created is journaled even when a later one failed, so it is expired. */
	if (json_array_size(ids)) {
		r->silences = json_incref(ids);
		if (engine_record(r, json_pack("{s:s, s:s, s:O}", "type", "silence", "op", "created", "ids",
					       ids),
				  true) < 0) {
			json_decref(ids);
			return -1;
		}
	}
	json_decref(ids);
	if (rc == 0)
		return 0;
	if (r->alertmanager->optional) {
		engine_record(r, json_pack("{s:s, s:s, s:s}", "type", "silence", "op", "skipped", "error",
					   err.msg),
			      true);
		return 0;
	}
	engine_silence_release(r);
	engine_fail(r, "cannot silence %s's alerts before the guard: %s (nothing was changed; set "
		       "alertmanager.optional in the inventory to run without)", r->node, err.msg);
	return -1;
}

void
engine_silence_release(struct run *r)
{
	struct rbx_err err;
	json_t *failed, *id;
	size_t i;

	if (!r->silences || !r->alertmanager || !r->alertmanager->url)
		return;
	if (engine_record(r, json_pack("{s:s, s:s, s:O}", "type", "silence", "op", "expire", "ids",
				       r->silences),
			  true) < 0)
		return;
	failed = json_array();
	json_array_foreach(r->silences, i, id) {
		if (am_silence_expire(r->alertmanager, json_string_value(id), &err) < 0)
			json_array_append_new(failed, json_pack("{s:O, s:s}", "id", id, "error", err.msg));
	}
	engine_record(r, json_pack("{s:s, s:s, s:o}", "type", "silence", "op", "expired", "failed",
				   failed),
		      true);
	json_decref(r->silences);
	r->silences = NULL;
}
