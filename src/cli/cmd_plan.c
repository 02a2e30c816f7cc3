/* cmd_plan.c - `rbx plan RUNBOOK --node N`: the fully rendered plan, every
 * command as it would run, where it would run; nothing is executed. */
#define _GNU_SOURCE
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/plan.h"
#include "cli/cmd.h"
#include "core/runbook.h"

static const struct opt plan_opts[] = {
	{"node", 'n', "NODE", "the node to plan for (required)", false},
	{"param", 'p', "NAME=VALUE", "set a runbook parameter (repeatable)", true},
	{"lab", 0, NULL, "plan for the embedded simulated node", false},
	{"inventory", 'i', "FILE", "the inventory (default $RBX_INVENTORY, /etc/rbx/inventory.yaml)", false},
	{"format", 'f', "FMT", "text (default) or json", false},
	{NULL, 0, NULL, NULL, false},
};

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
	       jstr(s, "name"),
	       json_is_true(json_object_get(s, "cluster"))   ? "  [changes the cluster]"
	       : json_is_true(json_object_get(s, "mutates")) ? "  [mutates]"
							     : "");
	if (*jstr(s, "when"))
		printf("%s     when %s\n", indent, jstr(s, "when"));
	if (*jstr(s, "cmd")) {
		const char *cmd = jstr(s, "cmd"), *c = cmd;
		printf("%s     %s$ ", indent, jstr(s, "target"));
		/* Continuation lines of a multi-line command line up under the first. */
		for (; *c; c++) {
			putchar(*c);
			if (*c == '\n' && c[1])
				printf("%s       ", indent);
		}
		if (c == cmd || c[-1] != '\n') /* an empty command has no c[-1] */
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
				printf("\nguard: %s%s via %s, reason \"%s\"%s%s%s\n%s",
				       json_is_true(json_object_get(g, "cordon")) ? "cordon" : "",
				       json_is_true(json_object_get(g, "drain")) ? " + drain" : "",
				       jstr(g, "backend"), jstr(g, "reason"),
				       *jstr(g, "keep_running") ? "\n       no drain: running work stays (" : "",
				       jstr(g, "keep_running"), *jstr(g, "keep_running") ? ")" : "",
				       jstr(g, "calls"));
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
	struct plan_request rq = {0};
	const char *format;
	struct runbook *rb;
	json_t *plan = NULL;
	enum rbx_status rc;

	if (args_format(a, "text", formats, &format, err) < 0)
		return RBX_USAGE;
	rq.node = args_get(a, "node");
	if (!rq.node)
		return err_set(err, "rbx plan needs --node NODE"), RBX_USAGE;
	if (!util_valid_node_name(rq.node))
		return err_set(err, "'%s' is not a valid node name", rq.node), RBX_USAGE;
	rb = cmd_load_runbook(a->argv[0], err);
	if (!rb)
		return RBX_USAGE;
	rq.rb = rb;
	rq.params = &a->params;
	rq.via = args_has(a, "lab") ? "lab" : NULL;
	rq.inventory = args_get(a, "inventory");
	rc = app_plan(&rq, &plan, err);
	if (rc != RBX_OK)
		goto out;
	if (!strcmp(format, "json")) {
		json_dumpf(plan, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
	} else {
		print_plan(plan);
		/* What a run still needs: the params the plan shows as null. */
		for (size_t i = 0; i < rb->nparams; i++)
			if (json_is_null(json_object_get(json_object_get(plan, "params"),
							 rb->params[i].name)))
				printf("note: --param %s=VALUE is required to run (%s)\n",
				       rb->params[i].name, rb->params[i].description);
	}
out:
	json_decref(plan);
	runbook_free(rb);
	return rc;
}

const struct cmd cmd_plan = {
	"plan", "RUNBOOK --node NODE [--param NAME=VALUE]... [--lab | --inventory FILE] [--format text|json]",
	"show the fully rendered plan for a node; nothing is executed",
	plan_opts, 1, 1, plan_exec,
};
