/* plan.c - the one plan of a run: what each step renders to and where it runs,
 * used by `rbx plan` to show it and by the engine to run it, so the two cannot drift. */
#define _GNU_SOURCE
#include "core/plan.h"

#include <stdlib.h>
#include <string.h>

#include "io/journal.h"

const char *
plan_step_target(const struct step *s, const struct plan_where *w)
{
	switch (s->kind) {
	case STEP_SSH:
		return w->node;
	case STEP_RUN:
		return w->local;
	case STEP_CONFIRM:
		return "operator";
	case STEP_HTTP:
		return "local"; /* rbx itself makes the request */
	default:
		break;
	}
	/* A sleep waits in rbx; every other action acts on the node. */
	return s->action == ACTION_SLEEP ? "local" : w->node;
}

char *
plan_render_step(const struct tmpl_ctx *c, const struct step *s, struct strmap *vars,
		 struct rbx_err *err)
{
	struct tmpl_ctx cv = *c;
	const char *text = s->text;
	enum tmpl_mode mode = TMPL_SHELL;
	struct buf b;

	if (s->kind == STEP_CONFIRM) {
		mode = TMPL_TEXT;
	} else if (s->kind == STEP_HTTP) {
		text = s->http->url;
		mode = TMPL_URL;
	} else if (s->kind != STEP_SSH && s->kind != STEP_RUN) {
		err_set(err, "step '%s' has no text to render", s->name);
		return NULL;
	}
	cv.vars = mode == TMPL_SHELL ? vars : NULL;
	buf_init(&b, 0);
	if (template_render(text, mode, &cv, &b, err) < 0) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b);
}

char *
plan_guard_reason(const char *run_id, const char *runbook)
{
	return xasprintf("rbx:%s %s", run_id, runbook);
}

struct plan_walk {
	struct tmpl_ctx t;
	const struct plan_where *w;
	struct rbx_err *err;
};

static json_t *plan_step(struct plan_walk *p, const struct step *s);

/* The text of a command, question or request, with the environment it gets. */
static int
plan_step_text(struct plan_walk *p, const struct step *s, json_t *o)
{
	struct strmap vars = {0};
	char *text = plan_render_step(&p->t, s, &vars, p->err);
	size_t i;

	if (!text) {
		strmap_release(&vars);
		return -1;
	}
	if (vars.n) {
		/* What each reference will hold: the command's environment at run time. */
		json_t *env = json_object();
		for (i = 0; i < vars.n; i++)
			json_object_set_new(env, vars.keys[i], journal_string(vars.vals[i]));
		json_object_set_new(o, "env", env);
	}
	if (s->kind == STEP_CONFIRM)
		json_object_set_new(o, "question", json_string(text));
	else if (s->kind == STEP_HTTP)
		json_object_set_new(o, "cmd", json_pack("s++", s->http->method, " ", text));
	else
		json_object_set_new(o, "cmd", journal_string(text));
	strmap_release(&vars);
	free(text);
	return 0;
}

/* What success looks like, and what the step keeps for later ones: the plan says both. */
static void
plan_step_checks(const struct step *s, json_t *o)
{
	json_t *exits = json_array(), *ex = json_object(), *caps;
	size_t i;

	if (s->kind != STEP_SSH && s->kind != STEP_RUN) {
		json_decref(exits);
		json_decref(ex);
		return;
	}
	for (i = 0; i < s->expect.nexits; i++)
		json_array_append_new(exits, json_integer(s->expect.exits[i]));
	if (!s->expect.nexits)
		json_array_append_new(exits, json_integer(0));
	json_object_set_new(ex, "exit", exits);
	if (s->expect.stdout_re)
		json_object_set_new(ex, "stdout", json_string(s->expect.stdout_re));
	if (s->expect.stdout_not)
		json_object_set_new(ex, "stdout_not", json_string(s->expect.stdout_not));
	json_object_set_new(o, "expect", ex);
	if (!s->ncaptures)
		return;
	caps = json_object();
	for (i = 0; i < s->ncaptures; i++)
		json_object_set_new(caps, s->captures[i].name,
				    s->captures[i].pattern ? json_string(s->captures[i].pattern)
							   : json_null());
	json_object_set_new(o, "capture", caps);
}

static json_t *
plan_step(struct plan_walk *p, const struct step *s)
{
	json_t *o = json_pack("{s:i, s:s, s:s, s:b, s:b, s:I, s:i}", "index", s->index, "name",
			      s->name, "kind", step_kind_name(s->kind), "mutates", s->mutates,
			      "idempotent", s->idempotent, "timeout_ms", (json_int_t)s->timeout_ms,
			      "retries", s->retries);

	if (s->cluster)
		json_object_set_new(o, "cluster", json_true());
	if (s->kind == STEP_ACTION)
		json_object_set_new(o, "action", json_string(step_action_name(s->action)));
	else if (plan_step_text(p, s, o) < 0)
		goto fail;
	json_object_set_new(o, "target", json_string(plan_step_target(s, p->w)));
	plan_step_checks(s, o);
	if (s->when) {
		struct buf b;
		buf_init(&b, 0);
		runbook_when_text(s->when, &b);
		json_object_set_new(o, "when", json_string(b.data));
		buf_release(&b);
	}
	if (s->keep_cordoned)
		json_object_set_new(o, "on_success", json_string("keep_cordoned"));
	if (s->undo) {
		json_t *u = plan_step(p, s->undo);
		if (!u)
			goto fail;
		json_object_set_new(o, "undo", u);
	}
	return o;
fail:
	json_decref(o);
	return NULL;
}

static json_t *
plan_params(const struct runbook *rb, const struct strmap *params)
{
	json_t *jp = json_object();
	size_t i;

	for (i = 0; i < rb->nparams; i++)
		if (!strmap_get(params, rb->params[i].name))
			json_object_set_new(jp, rb->params[i].name, json_null());
	for (i = 0; i < params->n; i++) {
		const struct param *pr = runbook_param(rb, params->keys[i]);
		json_object_set_new(jp, params->keys[i],
				    json_string(pr && pr->secret ? "***" : params->vals[i]));
	}
	return jp;
}

static json_t *
plan_guard(const struct runbook *rb, const char *scheduler)
{
	json_t *g;
	char *reason;

	if (rb->guard.none)
		return json_pack("{s:s}", "none", rb->guard.none);
	reason = plan_guard_reason("{{run.id}}", rb->name);
	g = json_pack("{s:b, s:b, s:I, s:s, s:s}", "cordon", rb->guard.cordon, "drain",
		      rb->guard.drain, "drain_timeout_ms", (json_int_t)rb->guard.drain_timeout_ms,
		      "backend", scheduler, "reason", reason);
	if (rb->guard.keep_running)
		json_object_set_new(g, "keep_running", json_string(rb->guard.keep_running));
	free(reason);
	return g;
}

json_t *
plan_build(const struct runbook *rb, const char *node, const struct strmap *params,
	   const struct plan_where *w, struct rbx_err *err)
{
	struct plan_walk p = {{0}, w, err};
	json_t *plan, *phases = json_object();
	size_t i;
	int ph;

	p.t.node = node;
	p.t.params = params;
	p.t.rb = rb;
	p.t.redact = true;
	p.t.plan = true;
	plan = json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:o, s:i, s:s}", "runbook", rb->name,
			 "title", rb->title, "node", node, "params", plan_params(rb, params),
			 "transport", w->node, "scheduler", w->scheduler, "guard",
			 plan_guard(rb, w->scheduler), "max_attempts", rb->max_attempts,
			 "on_success", rb->keep_cordoned ? "keep_cordoned" : "uncordon");
	json_object_set_new(plan, "phases", phases);
	for (ph = 0; ph < PHASE_COUNT; ph++) {
		json_t *steps = json_array();
		json_object_set_new(phases, phase_name((enum phase)ph), steps);
		for (i = 0; i < rb->nsteps[ph]; i++) {
			json_t *s = plan_step(&p, rb->steps[ph][i]);
			if (!s) {
				json_decref(plan);
				return NULL;
			}
			json_array_append_new(steps, s);
		}
	}
	return plan;
}
