/* cmd_run.c - `rbx run RUNBOOK --node N`: one run on one node, behind the guard;
 * the runner does the work, this file maps options onto it. */
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"
#include "app/runner.h"
#include "cli/term.h"

static const struct opt run_opts[] = {
	{"node", 'n', "NODE", "the node to work on (required)", false},
	{"param", 'p', "NAME=VALUE", "set a runbook parameter (repeatable)", true},
	{"yes", 'y', NULL, "answer yes to every confirm step", false},
	{"answer", 0, "STEP=yes|no", "answer the confirm step named STEP in advance (again for more)", true},
	{"lab", 0, NULL, "run against the embedded simulated node (the lab)", false},
	{"adopt", 0, NULL, "take over a node that is already cordoned or drained", false},
	{"inventory", 'i', "FILE", "the inventory (default $RBX_INVENTORY, /etc/rbx/inventory.yaml)", false},
	{"accept-new-host-key", 0, NULL, "record an unknown SSH host key (a changed one is always refused)", false},
	{"fleet-wait", 0, "DURATION", "how long to wait for a fleet maintenance slot (default 30m; 0: do not wait)", false},
	{"format", 'f', "FMT", "text (default) or json (one record per line)", false},
	{"requested-by", 0, "WHO", "journal who asked for this run (rbx serve names the alert or operator)", false},
	{NULL, 0, NULL, NULL, false},
};

static enum rbx_status
run_exec(struct args *a, struct rbx_err *err)
{
	static const char *const formats[] = {"text", "json", NULL};
	struct runner_opts o;
	struct runner_result res;
	struct term t;

	memset(&o, 0, sizeof(o));
	if (args_format(a, "text", formats, &o.format, err) < 0)
		return RBX_USAGE;
	o.node = args_get(a, "node");
	if (!o.node)
		return err_set(err, "rbx run needs --node NODE"), RBX_USAGE;
	if (cmd_fleet_wait(a, &o.fleet_wait_ms, err) < 0)
		return RBX_USAGE;
	o.runbook = a->argv[0];
	o.params = &a->params;
	o.inventory = args_get(a, "inventory");
	o.yes = args_has(a, "yes");
	o.answers = &a->answers;
	o.adopt = args_has(a, "adopt");
	o.via = args_has(a, "lab") ? "lab" : NULL;
	o.accept_new_host_key = args_has(a, "accept-new-host-key");
	o.requested_by = args_get(a, "requested-by");
	if (o.requested_by && (!*o.requested_by || strlen(o.requested_by) > 200))
		return err_set(err, "--requested-by: 1 to 200 characters"), RBX_USAGE;
	o.ui = term_ui(&t, o.format);
	runner_trap_signals();
	return runner_exec(&o, &res, err);
}

const struct cmd cmd_run = {
	"run", "RUNBOOK --node NODE [--param NAME=VALUE]... [--yes] [--lab | --inventory FILE] [--format text|json]",
	"run a runbook against one node, behind the cordon/drain guard",
	run_opts, 1, 1, run_exec,
};
