/* engine_silence.c - the run's Alertmanager silences: taken before the guard with their
 * intent on disk, kept across a resume, expired when the run ends, bounded by its deadline. */
#include <string.h>

#include "core/engine_internal.h"

/* The longest one try of every step can take, every attempt, plus the drain: past it the
 * run is dead or stuck, and its silence must end so on-call sees the node again. */
static long long
worst_case_ms(const struct runbook *rb)
{
	long long per_attempt = 0, once = rb->guard.drain_timeout_ms;
	int p;
	size_t i;

	for (p = 0; p < PHASE_COUNT; p++) {
		for (i = 0; i < rb->nsteps[p]; i++) {
			const struct step *s = rb->steps[p][i];
			long long t = (s->timeout_ms + s->retry_delay_ms) * (s->retries + 1);
			if (s->undo)
				t += s->undo->timeout_ms;
			if (p == PHASE_PRE_CHECKS)
				once += t;
			else
				per_attempt += t;
		}
	}
	/* Five minutes for the guard's own calls and the restarts between attempts. */
	return once + per_attempt * (rb->max_attempts > 0 ? rb->max_attempts : 1) + 5 * 60 * 1000LL;
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
