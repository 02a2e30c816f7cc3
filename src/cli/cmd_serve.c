/* cmd_serve.c - `rbx serve`: the runbook pages an alert links to, over the state dir the
 * CLI uses, on loopback unless asked otherwise (the server is src/app/serve.c). */
#include <stdio.h>
#include <string.h>

#include "app/runner.h"
#include "app/serve.h"
#include "cli/cmd.h"
#include "cli/term.h"

static const struct opt serve_opts[] = {
	{"listen", 'l', "ADDR:PORT", "where to listen (default 127.0.0.1:9095)", false},
	{"insecure-http", 0, NULL, "allow plain HTTP on a non-loopback address (with --token-file)", false},
	{"token-file", 0, "FILE", "every request must bear this viewer token (Bearer)", false},
	{"receiver-token-file", 0, "FILE", "POST /alertmanager takes Alertmanager's webhook with this token", false},
	{"lab", 0, NULL, "the nodes are the lab's simulated nodes (no inventory)", false},
	{"inventory", 'i', "FILE", "the inventory (default $RBX_INVENTORY, /etc/rbx/inventory.yaml)", false},
	{NULL, 0, NULL, NULL, false},
};

static enum rbx_status
serve_exec(struct args *a, struct rbx_err *err)
{
	struct serve_opts o;
	struct term t;
	char flags[600] = "";

	memset(&o, 0, sizeof(o));
	o.listen = args_get(a, "listen") ? args_get(a, "listen") : "127.0.0.1:9095";
	o.insecure_http = args_has(a, "insecure-http");
	o.token_file = args_get(a, "token-file");
	o.receiver_token_file = args_get(a, "receiver-token-file");
	o.via = args_has(a, "lab") ? "lab" : NULL;
	o.inventory = args_get(a, "inventory");
	if (o.via)
		snprintf(flags, sizeof(flags), " --lab");
	else if (o.inventory)
		snprintf(flags, sizeof(flags), " --inventory %s", o.inventory);
	o.run_flags = flags;
	o.ui = term_ui(&t, "text");
	return serve_run(&o, runner_trap_signals(), err);
}

const struct cmd cmd_serve = {
	"serve", "[--listen ADDR:PORT] [--token-file FILE] [--insecure-http] [--lab | --inventory FILE]",
	"serve the runbook pages alerts link to (GET /runbooks/NAME?node=N)",
	serve_opts, 0, 0, serve_exec,
};
