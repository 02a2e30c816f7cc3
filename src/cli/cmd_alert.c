/* cmd_alert.c - `rbx alert [FILE|-]`: an Alertmanager notification turned into the runs
 * it asks for: each firing alert's runbook and node, the plan and run lines, and --run. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "app/alerts.h"
#include "app/runner.h"
#include "cli/cmd.h"
#include "cli/term.h"
#include "core/alert.h"
#include "core/inventory.h"
#include "core/runbook.h"

static const struct opt alert_opts[] = {
	{"run", 0, NULL, "run the matched runbooks, one node at a time", false},
	{"yes", 'y', NULL, "answer yes to every confirm step of those runs", false},
	{"lab", 0, NULL, "the nodes are the lab's simulated nodes (no inventory)", false},
	{"inventory", 'i', "FILE", "the inventory (default $RBX_INVENTORY, /etc/rbx/inventory.yaml)", false},
	{"fleet-wait", 0, "DURATION", "how long a run waits for a fleet slot (default 30m)", false},
	{"format", 'f', "FMT", "text (default) or json (one object per alert)", false},
	{NULL, 0, NULL, NULL, false},
};

/* What rbx makes of one alert. */
struct verdict {
	const char *action; /* would-run, ran, resolved, unmatched, ambiguous, refused, handled */
	const struct runbook *rb;
	char *node;
	char why[1024];
	char run_id[160];
	enum rbx_status status;
};

/* The notification, from a file or stdin; reading stops past the size alert_parse refuses. */
static char *
read_input(const char *path, size_t *len, struct rbx_err *err)
{
	bool in = strcmp(path, "-") == 0;
	FILE *fp = in ? stdin : fopen(path, "rb");
	struct buf b;
	char chunk[65536];
	size_t got;
	bool failed;

	if (!fp) {
		err_set(err, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	buf_init(&b, 0);
	while (b.len <= ALERT_MAX_BYTES && (got = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_add(&b, chunk, got);
	failed = ferror(fp);
	if (!in)
		fclose(fp);
	if (failed) {
		buf_release(&b);
		err_set(err, "cannot read the notification from %s: %s", in ? "stdin" : path, strerror(errno));
		return NULL;
	}
	*len = b.len;
	return b.data ? buf_detach(&b) : xstrdup("");
}

static void
decide(const struct alert_item *it, struct runbook **rbs, size_t n, char **nodes, size_t nn,
       struct verdict *v)
{
	struct alert_route rt;

	alert_route(it, rbs, n, nodes, nn, &rt);
	memset(v, 0, sizeof(*v));
	v->action = rt.action;
	v->rb = rt.rb;
	v->node = rt.node;
	snprintf(v->why, sizeof(v->why), "%s", rt.why);
}

static void
print_verdict(const struct alert_item *it, const struct verdict *v, const char *format,
	      const char *target)
{
	const char *name = strmap_get(&it->labels, "alertname");

	if (!strcmp(format, "json")) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "alertname", name, "fingerprint",
				      it->fingerprint, "starts_at", it->starts_at, "status", it->status,
				      "action", v->action);
		if (v->rb)
			json_object_set_new(o, "runbook", json_string(v->rb->name));
		if (v->node && v->rb) { /* a node is named only for a matched runbook */
			json_object_set_new(o, "node", json_string(v->node));
			json_object_set_new(o, "plan", json_sprintf("rbx plan %s --node %s%s", v->rb->name,
								     v->node, target));
			json_object_set_new(o, "run", json_sprintf("rbx run %s --node %s%s", v->rb->name,
								    v->node, target));
		}
		if (*v->why)
			json_object_set_new(o, "why", json_string(v->why));
		if (*v->run_id)
			json_object_set_new(o, "run_id", json_string(v->run_id));
		if (!strcmp(v->action, "ran"))
			json_object_set_new(o, "exit", json_integer(v->status));
		json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(o);
		return;
	}
	printf("%s %s (%s, since %s): %s", name, it->status, it->fingerprint, it->starts_at, v->action);
	if (v->rb)
		printf(" %s", v->rb->name);
	if (v->node)
		printf(" on %s", v->node);
	if (*v->why)
		printf(" (%s)", v->why);
	if (*v->run_id)
		printf(" run %s", v->run_id);
	if (!strcmp(v->action, "ran"))
		printf(" exit %d", v->status);
	printf("\n");
	if (v->node && v->rb && !strcmp(v->action, "would-run"))
		printf("  rbx plan %s --node %s%s\n  rbx run %s --node %s%s\n", v->rb->name, v->node,
		       target, v->rb->name, v->node, target);
}

/* One matched alert through the runner, unless an earlier notification ran it already. */
static void
run_one(const struct alert_item *it, struct verdict *v, struct args *a, const char *format,
	const char *state_dir)
{
	struct runner_opts o;
	struct runner_result res;
	struct strmap none = {0};
	struct term t;
	struct rbx_err e;
	char *id;

	if (alerts_handled(state_dir, it, v->run_id, sizeof(v->run_id))) {
		v->action = "handled";
		snprintf(v->why, sizeof(v->why), "this alert started a run already");
		return;
	}
	id = runner_new_run_id(v->node);
	snprintf(v->run_id, sizeof(v->run_id), "%s", id);
	free(id);
	if (alerts_remember(state_dir, it, v->run_id, &e) < 0) {
		v->action = "refused";
		snprintf(v->why, sizeof(v->why), "%s", e.msg);
		v->status = RBX_FAILED;
		return;
	}
	memset(&o, 0, sizeof(o));
	o.runbook = v->rb->name;
	o.node = v->node;
	o.run_id = v->run_id;
	o.params = &none;
	o.inventory = args_get(a, "inventory");
	o.via = args_has(a, "lab") ? "lab" : NULL;
	o.yes = args_has(a, "yes");
	o.format = format;
	o.ui = term_ui(&t, format);
	if (cmd_fleet_wait(a, &o.fleet_wait_ms, &e) < 0)
		o.fleet_wait_ms = 30 * 60 * 1000LL;
	v->status = runner_exec(&o, &res, &e);
	if (v->status != RBX_OK)
		fprintf(stderr, "rbx: %s on %s: %s\n", v->rb->name, v->node, e.msg);
	v->action = "ran";
}

static enum rbx_status
alert_exec(struct args *a, struct rbx_err *err)
{
	static const char *const formats[] = {"text", "json", NULL};
	const char *format, *src = a->argc ? a->argv[0] : "-";
	char *text = NULL, *inv_path = NULL, **nodes = NULL, *state_dir = NULL;
	char target[600] = "";
	size_t len = 0, n = 0, nn = 0, i;
	struct alert_note note = {0};
	struct runbook **rbs = NULL;
	struct inventory *inv = NULL;
	struct diags d;
	enum rbx_status st = RBX_USAGE, worst = RBX_OK;

	diags_init(&d);
	if (args_format(a, "text", formats, &format, err) < 0)
		goto out;
	text = read_input(src, &len, err);
	if (!text)
		goto out;
	if (alert_parse(text, len, &note, err) < 0)
		goto out;
	runbook_load_catalogue(&rbs, &n, &d);
	if (d.nerrors) {
		diags_print(&d, stderr);
		err_set(err, "fix the runbooks first (rbx lint)");
		goto out;
	}
	if (args_has(a, "lab")) {
		snprintf(target, sizeof(target), " --lab");
	} else {
		inv_path = inventory_default_path(args_get(a, "inventory"));
		if (!inv_path) {
			err_set(err, "rbx alert maps alerts to inventory nodes: give --inventory FILE "
				     "(or $RBX_INVENTORY), or --lab");
			goto out;
		}
		inv = inventory_load(inv_path, &d);
		if (!inv) {
			diags_print(&d, stderr);
			err_set(err, "the inventory %s is invalid", inv_path);
			goto out;
		}
		nodes = inventory_nodes(inv, &nn);
		if (args_get(a, "inventory"))
			snprintf(target, sizeof(target), " --inventory %s", args_get(a, "inventory"));
	}
	if (args_has(a, "run")) {
		state_dir = util_state_dir();
		if (util_state_dir_ready(state_dir, err) < 0) {
			st = RBX_FAILED;
			goto out;
		}
		runner_trap_signals();
	}
	for (i = 0; i < note.n; i++) {
		struct verdict v;
		decide(&note.items[i], rbs, n, nodes, nn, &v);
		if (args_has(a, "run") && !strcmp(v.action, "would-run"))
			run_one(&note.items[i], &v, a, format, state_dir);
		if (!strcmp(v.action, "ran") && v.status != RBX_OK && worst == RBX_OK)
			worst = v.status;
		print_verdict(&note.items[i], &v, format, target);
		free(v.node);
	}
	st = worst;
out:
	free(text);
	free(inv_path);
	free(state_dir);
	hostlist_free(nodes, nn);
	inventory_free(inv);
	runbooks_free(rbs, n);
	alert_note_release(&note);
	diags_release(&d);
	return st;
}

const struct cmd cmd_alert = {
	"alert", "[FILE|-] [--run [--yes]] [--lab | --inventory FILE] [--format text|json]",
	"read an Alertmanager notification: each firing alert's runbook and node, and --run them",
	alert_opts, 0, 1, alert_exec,
};
