/* cmd_serve.c - `rbx serve`: the runbook pages an alert links to, over the state dir the
 * CLI uses, on loopback unless asked otherwise (the server is src/app/serve.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/runner.h"
#include "app/serve.h"
#include "cli/cmd.h"
#include "cli/term.h"

static const struct opt serve_opts[] = {
	{"listen", 'l', "ADDR:PORT", "where to listen (default 127.0.0.1:9095)", false},
	{"insecure-http", 0, NULL, "allow plain HTTP on a non-loopback address (with --token-file)", false},
	{"tls-cert", 0, "FILE", "serve HTTPS with this PEM certificate (and --tls-key)", false},
	{"tls-key", 0, "FILE", "the certificate's PEM private key", false},
	{"token-file", 0, "FILE", "every request must bear this viewer token (Bearer)", false},
	{"client-ca", 0, "FILE", "with TLS, a client certificate this PEM CA signed stands for the viewer token", false},
	{"receiver-token-file", 0, "FILE", "POST /alertmanager takes Alertmanager's webhook with this token", false},
	{"auto", 0, "RB,RB", "runbooks an incident runs at once (read-only triage, say); others wait", false},
	{"breaker-nodes", 0, "K", "auto runs per pool within the window before the breaker trips (default 3)", false},
	{"breaker-failures", 0, "K", "failed auto runs per pool within the window before it trips (default 3)", false},
	{"breaker-window", 0, "DURATION", "the breaker's sliding window (default 1h)", false},
	{"operator-token-file", 0, "FILE", "POST /breaker/reset and /runs take this token (and X-Rbx-Operator: NAME)", false},
	{"allow-web-runs", 0, NULL, "POST /runs starts a run (off by default; needs the operator's token)", false},
	{"lab", 0, NULL, "the nodes are the lab's simulated nodes (no inventory)", false},
	{"inventory", 'i', "FILE", "the inventory (default $RBX_INVENTORY, /etc/rbx/inventory.yaml)", false},
	{NULL, 0, NULL, NULL, false},
};

static void
strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* A breaker limit: a count of 1 or more, 3 when not given. */
static int
count_opt(struct args *a, const char *name, int *out, struct rbx_err *err)
{
	const char *v = args_get(a, name);
	char *end;
	long k;

	*out = 3;
	if (!v)
		return 0;
	k = strtol(v, &end, 10);
	if (!*v || *end || k < 1 || k > 100000)
		return err_set(err, "--%s '%s': a count of 1 or more", name, v);
	*out = (int)k;
	return 0;
}

static enum rbx_status
serve_exec(struct args *a, struct rbx_err *err)
{
	struct serve_opts o;
	struct term t;
	char flags[600] = "";
	enum rbx_status st;

	memset(&o, 0, sizeof(o));
	o.listen = args_get(a, "listen") ? args_get(a, "listen") : "127.0.0.1:9095";
	o.insecure_http = args_has(a, "insecure-http");
	o.tls_cert = args_get(a, "tls-cert");
	o.tls_key = args_get(a, "tls-key");
	o.token_file = args_get(a, "token-file");
	o.client_ca = args_get(a, "client-ca");
	o.receiver_token_file = args_get(a, "receiver-token-file");
	o.operator_token_file = args_get(a, "operator-token-file");
	o.allow_web_runs = args_has(a, "allow-web-runs");
	o.breaker_window_ms = 60 * 60 * 1000LL;
	if (count_opt(a, "breaker-nodes", &o.breaker_nodes, err) < 0 ||
	    count_opt(a, "breaker-failures", &o.breaker_failures, err) < 0)
		return RBX_USAGE;
	if (args_get(a, "breaker-window") &&
	    (o.breaker_window_ms = util_parse_duration(args_get(a, "breaker-window"))) <= 0)
		return err_set(err, "--breaker-window '%s': a duration (1h, 30m)",
			       args_get(a, "breaker-window")),
		       RBX_USAGE;
	if (args_get(a, "auto")) {
		char *copy = xstrdup(args_get(a, "auto")), *save = NULL, *tok;
		for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			if (!util_valid_slug(tok)) {
				free(copy);
				strv_free(o.auto_runbooks, o.nauto);
				return err_set(err, "--auto: '%s' is not a runbook name", tok), RBX_USAGE;
			}
			o.auto_runbooks = xrealloc(o.auto_runbooks, (o.nauto + 1) * sizeof(char *));
			o.auto_runbooks[o.nauto++] = xstrdup(tok);
		}
		free(copy);
	}
	o.via = args_has(a, "lab") ? "lab" : NULL;
	o.inventory = args_get(a, "inventory");
	if (o.via) {
		snprintf(flags, sizeof(flags), " --lab");
		o.run_args[0] = "--lab";
	} else if (o.inventory) {
		snprintf(flags, sizeof(flags), " --inventory %s", o.inventory);
		o.run_args[0] = "--inventory";
		o.run_args[1] = o.inventory;
	}
	o.run_flags = flags;
	o.ui = term_ui(&t, "text");
	st = serve_run(&o, runner_trap_signals(), err);
	strv_free(o.auto_runbooks, o.nauto);
	return st;
}

const struct cmd cmd_serve = {
	"serve", "[--listen ADDR:PORT] [--token-file FILE] [--insecure-http] [--lab | --inventory FILE]",
	"serve the runbook pages alerts link to (GET /runbooks/NAME?node=N)",
	serve_opts, 0, 0, serve_exec,
};
