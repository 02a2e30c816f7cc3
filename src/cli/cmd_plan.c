/* cmd_plan.c - `rbx plan RUNBOOK --node N`: the fully rendered plan, every
 * command as it would run, where it would run; nothing is executed. */
#define _GNU_SOURCE
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "core/engine.h"
#include "core/runbook.h"
#include "backends/sched.h"
#include "app/target.h"
#include "io/journal.h"
#include "core/template.h"

static const struct opt plan_opts[] = {
	{"node", 'n', "NODE", "the node to plan for (required)", false},
	{"param", 'p', "NAME=VALUE", "set a runbook parameter (repeatable)", true},
	{"lab", 0, NULL, "plan for the embedded simulated node", false},
	{"inventory", 'i', "FILE", "the inventory (default $RBX_INVENTORY, /etc/rbx/inventory.yaml)", false},
	{"format", 'f', "FMT", "text (default) or json", false},
	{NULL, 0, NULL, NULL, false},
};

struct plan_ctx {
	const struct runbook *rb;
	struct tmpl_ctx t;
	const char *target;
	struct rbx_err *err;
};

static json_t *plan_step(struct plan_ctx *p, const struct step *s);

static char *
render_text(struct plan_ctx *p, const char *tmpl, enum tmpl_mode mode)
{
	struct buf b;

	buf_init(&b, 0);
	if (template_render(tmpl, mode, &p->t, &b, p->err) < 0) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b);
}

static json_t *
plan_step(struct plan_ctx *p, const struct step *s)
{
	json_t *o = json_pack("{s:i, s:s, s:s, s:b, s:b, s:I, s:i}", "index", s->index, "name",
			      s->name, "kind", step_kind_name(s->kind), "mutates", s->mutates,
			      "idempotent", s->idempotent, "timeout_ms", (json_int_t)s->timeout_ms,
			      "retries", s->retries);
	char *text;

	if (s->kind == STEP_SSH || s->kind == STEP_RUN || s->kind == STEP_CONFIRM) {
		struct strmap vars = {0};
		p->t.vars = &vars;
		text = render_text(p, s->text, s->kind == STEP_CONFIRM ? TMPL_TEXT : TMPL_SHELL);
		p->t.vars = NULL;
		if (vars.n) {
			/* What each reference will hold: the command's environment at run time. */
			json_t *env = json_object();
			size_t i;
			for (i = 0; i < vars.n; i++)
				json_object_set_new(env, vars.keys[i], journal_string(vars.vals[i]));
			json_object_set_new(o, "env", env);
		}
		strmap_release(&vars);
		if (!text) {
			json_decref(o);
			return NULL;
		}
		json_object_set_new(o, s->kind == STEP_CONFIRM ? "question" : "cmd", json_string(text));
		json_object_set_new(o, "target",
				    json_string(s->kind == STEP_SSH ? p->target
						: s->kind == STEP_RUN ? "local"
								      : "operator"));
		free(text);
	} else if (s->kind == STEP_HTTP) {
		text = render_text(p, s->http->url, TMPL_URL);
		if (!text) {
			json_decref(o);
			return NULL;
		}
		json_object_set_new(o, "cmd", json_pack("s++", s->http->method, " ", text));
		json_object_set_new(o, "target", json_string("local"));
		free(text);
	} else {
		json_object_set_new(o, "action", json_string(step_action_name(s->action)));
		json_object_set_new(o, "target", json_string(p->target));
	}
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
		if (!u) {
			json_decref(o);
			return NULL;
		}
		json_object_set_new(o, "undo", u);
	}
	return o;
}

static json_t *
build_plan(struct plan_ctx *p, const char *node, const struct strmap *params, const char *scheduler)
{
	const struct runbook *rb = p->rb;
	json_t *plan, *jp = json_object(), *phases = json_object(), *guard;
	size_t i;
	int ph;

	for (i = 0; i < rb->nparams; i++)
		if (!strmap_get(params, rb->params[i].name))
			json_object_set_new(jp, rb->params[i].name, json_null());
	for (i = 0; i < params->n; i++) {
		const struct param *pr = runbook_param(rb, params->keys[i]);
		json_object_set_new(jp, params->keys[i],
				    json_string(pr && pr->secret ? "***" : params->vals[i]));
	}
	if (rb->guard.none)
		guard = json_pack("{s:s}", "none", rb->guard.none);
	else
		guard = json_pack("{s:b, s:b, s:I, s:s}", "cordon", rb->guard.cordon, "drain",
				  rb->guard.drain, "drain_timeout_ms",
				  (json_int_t)rb->guard.drain_timeout_ms, "backend", scheduler);
	if (!rb->guard.none) {
		char *reason = xasprintf("rbx:{{run.id}} %s", rb->name);
		json_object_set_new(guard, "reason", json_string(reason));
		free(reason);
	}
	plan = json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:o, s:i, s:s}", "runbook", rb->name,
			 "title", rb->title, "node", node, "params", jp, "transport", p->target,
			 "scheduler", scheduler, "guard", guard, "max_attempts",
			 rb->max_attempts, "on_success",
			 rb->keep_cordoned ? "keep_cordoned" : "uncordon");
	for (ph = 0; ph < PHASE_COUNT; ph++) {
		json_t *steps = json_array();
		for (i = 0; i < rb->nsteps[ph]; i++) {
			json_t *s = plan_step(p, rb->steps[ph][i]);
			if (!s) {
				json_decref(steps);
				json_decref(phases);
				json_decref(plan);
				return NULL;
			}
			json_array_append_new(steps, s);
		}
		json_object_set_new(phases, phase_name((enum phase)ph), steps);
	}
	json_object_set_new(plan, "phases", phases);
	return plan;
}

static const char *
jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static void
print_step(json_t *s, const char *indent)
{
	printf("%s%lld. %s%s\n", indent, (long long)json_integer_value(json_object_get(s, "index")),
	       jstr(s, "name"), json_is_true(json_object_get(s, "mutates")) ? "  [mutates]" : "");
	if (*jstr(s, "when"))
		printf("%s     when %s\n", indent, jstr(s, "when"));
	if (*jstr(s, "cmd")) {
		const char *c = jstr(s, "cmd");
		printf("%s     %s$ ", indent, jstr(s, "target"));
		/* Continuation lines of a multi-line command line up under the first. */
		for (; *c; c++) {
			putchar(*c);
			if (*c == '\n' && c[1])
				printf("%s       ", indent);
		}
		if (c[-1] != '\n')
			putchar('\n');
		if (json_object_size(json_object_get(s, "env"))) {
			const char *k;
			json_t *v;
			printf("%s       with", indent);
			json_object_foreach(json_object_get(s, "env"), k, v)
				printf(" %s=%s", k, json_string_value(v));
			putchar('\n');
		}
	}
	if (*jstr(s, "question"))
		printf("%s     confirm: %s\n", indent, jstr(s, "question"));
	if (*jstr(s, "action"))
		printf("%s     action: %s on %s\n", indent, jstr(s, "action"), jstr(s, "target"));
	if (*jstr(s, "on_success"))
		printf("%s     then: the node stays out of service\n", indent);
	if (json_object_get(s, "undo")) {
		json_t *u = json_object_get(s, "undo");
		printf("%s     undo: %s$ %s\n", indent, jstr(u, "target"),
		       *jstr(u, "cmd") ? jstr(u, "cmd") : jstr(u, "action"));
	}
}

/* The fleet slots a run of this node takes before anything else (docs/operations.md). */
static json_t *
fleet_plan(const struct fleet_conf *fc)
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

static void
print_fleet(json_t *f)
{
	json_t *b;
	size_t i;

	if (!f)
		return;
	printf("\nfleet: before anything runs, a maintenance slot from etcd %s (lease TTL %llds, "
	       "revoked at the end):\n",
	       jstr(f, "etcd"), (long long)json_integer_value(json_object_get(f, "ttl_ms")) / 1000);
	json_array_foreach(json_object_get(f, "budgets"), i, b)
		printf("  %s=%s: at most %lld at once (%s/slot-N)\n", jstr(b, "label"), jstr(b, "value"),
		       (long long)json_integer_value(json_object_get(b, "limit")), jstr(b, "keys"));
}

static void
print_plan(json_t *plan)
{
	json_t *g = json_object_get(plan, "guard"), *steps, *s;
	const char *k, *v;
	json_t *jv;
	size_t i;
	int ph;

	printf("plan: %s on %s (transport %s, scheduler %s)\n", jstr(plan, "runbook"),
	       jstr(plan, "node"), jstr(plan, "transport"), jstr(plan, "scheduler"));
	printf("      %s\n", jstr(plan, "title"));
	json_object_foreach(json_object_get(plan, "params"), k, jv) {
		v = json_string_value(jv);
		printf("param %s = %s\n", k, v);
	}
	print_fleet(json_object_get(plan, "fleet"));
	for (ph = 0; ph < PHASE_COUNT; ph++) {
		const char *name = phase_name((enum phase)ph);
		steps = json_object_get(json_object_get(plan, "phases"), name);
		if (ph == PHASE_PROCEDURE) {
			if (json_object_get(g, "none"))
				printf("\nguard: none (%s)\n", jstr(g, "none"));
			else
				printf("\nguard: %s%s via %s, reason \"%s\"\n%s",
				       json_is_true(json_object_get(g, "cordon")) ? "cordon" : "",
				       json_is_true(json_object_get(g, "drain")) ? " + drain" : "",
				       jstr(g, "backend"), jstr(g, "reason"), jstr(g, "calls"));
		}
		if (!json_array_size(steps))
			continue;
		printf("\n%s\n", phase_title((enum phase)ph));
		json_array_foreach(steps, i, s)
			print_step(s, "  ");
	}
	printf("\nrestore: %s (max attempts %lld)\n",
	       !strcmp(jstr(plan, "on_success"), "keep_cordoned") ? "the node stays cordoned"
								  : "uncordon, release the lock",
	       (long long)json_integer_value(json_object_get(plan, "max_attempts")));
}

static enum rbx_status
plan_exec(struct args *a, struct rbx_err *err)
{
	static const char *const formats[] = {"text", "json", NULL};
	const char *node = args_get(a, "node"), *format;
	struct strmap params = {0};
	struct plan_ctx p;
	struct runbook *rb;
	json_t *plan = NULL;
	char *target = NULL, *scheduler = NULL;
	struct target tgt = {0};
	int rc = RBX_USAGE;

	if (args_format(a, "text", formats, &format, err) < 0)
		return RBX_USAGE;
	if (!node)
		return err_set(err, "rbx plan needs --node NODE"), RBX_USAGE;
	if (!util_valid_node_name(node))
		return err_set(err, "'%s' is not a valid node name", node), RBX_USAGE;
	rb = cmd_load_runbook(a->argv[0], err);
	if (!rb)
		return RBX_USAGE;
	if (engine_bind_params_plan(rb, &a->params, &params, err) < 0)
		goto out;
	/* The plan names where each step runs: the lab, the inventory's address, or the
	 * bare node when no inventory is at hand (CI plans the catalogue that way). */
	if (target_resolve(node, args_has(a, "lab") ? "lab" : NULL, args_get(a, "inventory"), &tgt, err) == 0) {
		target = xstrdup(tgt.address);
		scheduler = xstrdup(tgt.scheduler);
	} else if (!args_get(a, "inventory") && !getenv("RBX_INVENTORY")) {
		target = xasprintf("node:%s", node);
		scheduler = xstrdup("inventory");
		err->msg[0] = 0;
	} else {
		goto out;
	}
	memset(&p, 0, sizeof(p));
	p.rb = rb;
	p.target = target;
	p.err = err;
	p.t.node = node;
	p.t.params = &params;
	p.t.rb = rb;
	p.t.redact = true;
	p.t.plan = true;
	plan = build_plan(&p, node, &params, scheduler);
	if (!plan)
		goto out;
	if (tgt.scheduler && !rb->guard.none) {
		/* The exact calls the guard will make, from the backend itself. */
		struct rbx_err serr;
		char *state_dir = util_state_dir(), *reason = xasprintf("rbx:{{run.id}} %s", rb->name);
		struct sched *sc = target_sched(&tgt, state_dir, &serr);
		json_t *g = json_object_get(plan, "guard");
		if (sc && sc->ops->describe) {
			struct buf calls;
			buf_init(&calls, 0);
			sc->ops->describe(sc, reason, &calls);
			json_object_set_new(g, "calls", json_string(calls.data));
			buf_release(&calls);
		} else if (!sc) {
			json_object_set_new(g, "calls", json_string(serr.msg));
		}
		sched_free(sc);
		free(state_dir);
		free(reason);
	}
	if (tgt.conf.fleet.endpoint && tgt.conf.fleet.nbudgets)
		json_object_set_new(plan, "fleet", fleet_plan(&tgt.conf.fleet));
	if (!strcmp(format, "json")) {
		json_dumpf(plan, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
	} else {
		print_plan(plan);
		for (size_t i = 0; i < rb->nparams; i++)
			if (!strmap_get(&params, rb->params[i].name))
				printf("note: --param %s=VALUE is required to run (%s)\n",
				       rb->params[i].name, rb->params[i].description);
	}
	rc = RBX_OK;
out:
	json_decref(plan);
	free(target);
	free(scheduler);
	target_release(&tgt);
	strmap_release(&params);
	runbook_free(rb);
	return rc;
}

const struct cmd cmd_plan = {
	"plan", "RUNBOOK --node NODE [--param NAME=VALUE]... [--lab | --inventory FILE] [--format text|json]",
	"show the fully rendered plan for a node; nothing is executed",
	plan_opts, 1, 1, plan_exec,
};
