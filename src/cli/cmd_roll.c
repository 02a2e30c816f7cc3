/* cmd_roll.c - `rbx roll RUNBOOK --nodes HOSTLIST`: a runbook over many nodes in
 * batches, never all at once unless asked, stopping once failures pass a limit. */
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/term.h"
#include "app/roll.h"

static const struct opt roll_opts[] = {
	{"nodes", 'n', "HOSTLIST", "the nodes, as a hostlist: n[001-128] (required)", false},
	{"batch", 'b', "N", "nodes at once (default 1); 'all' for every node at once", false},
	{"max-failures", 0, "K", "stop starting nodes once more than K have failed (default 0)", false},
	{"param", 'p', "NAME=VALUE", "set a runbook parameter (repeatable)", true},
	{"yes", 'y', NULL, "answer yes to every confirm step", false},
	{"lab", 0, NULL, "run against simulated nodes (the lab)", false},
	{"inventory", 'i', "FILE", "the inventory (default $RBX_INVENTORY, /etc/rbx/inventory.yaml)", false},
	{"fleet-wait", 0, "DURATION", "how long each node waits for a fleet maintenance slot (default 30m)", false},
	{"halt-on-alert", 0, "LABEL=VALUE,...", "between batches, stop if such an alert fires on a node already done (the inventory's Alertmanager)", false},
	{NULL, 0, NULL, NULL, false},
};

static int
count_arg(const char *v, int def, int *out)
{
	char *end;
	long n;

	if (!v) {
		*out = def;
		return 0;
	}
	n = strtol(v, &end, 10);
	if (*end || end == v || n < 0 || n > 100000)
		return -1;
	*out = (int)n;
	return 0;
}

static enum rbx_status
roll_cmd_exec(struct args *a, struct rbx_err *err)
{
	struct roll_opts o;
	struct term t;
	const char *batch = args_get(a, "batch");

	memset(&o, 0, sizeof(o));
	o.runbook = a->argv[0];
	o.nodes = args_get(a, "nodes");
	if (!o.nodes)
		return err_set(err, "rbx roll needs --nodes HOSTLIST"), RBX_USAGE;
	if (batch && !strcmp(batch, "all"))
		o.batch = 100000;
	else if (count_arg(batch, 1, &o.batch) < 0 || o.batch < 1)
		return err_set(err, "--batch '%s' is not a count of 1 or more (or 'all')", batch),
		       RBX_USAGE;
	if (count_arg(args_get(a, "max-failures"), 0, &o.max_failures) < 0)
		return err_set(err, "--max-failures '%s' is not a count", args_get(a, "max-failures")),
		       RBX_USAGE;
	if (cmd_fleet_wait(a, &o.run.fleet_wait_ms, err) < 0)
		return RBX_USAGE;
	o.run.format = "text";
	o.run.params = &a->params;
	o.run.inventory = args_get(a, "inventory");
	o.run.yes = args_has(a, "yes");
	o.run.via = args_has(a, "lab") ? "lab" : NULL;
	o.halt_on_alert = args_get(a, "halt-on-alert");
	o.run.ui = term_ui(&t, o.run.format);
	return roll_exec(&o, err);
}

const struct cmd cmd_roll = {
	"roll", "RUNBOOK --nodes HOSTLIST [--batch N] [--max-failures K] [--halt-on-alert L=V,...] [--yes] [--lab | --inventory FILE]",
	"run a runbook over many nodes in batches, each a full run behind its own guard",
	roll_opts, 1, 1, roll_cmd_exec,
};
