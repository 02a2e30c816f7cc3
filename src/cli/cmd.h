/* cmd.h - the subcommand table and option parsing driven by it.
 * Adding a command: 1) src/cli/cmd_NAME.c exporting one `const struct cmd cmd_NAME`
 * whose exec returns an rbx_status; 2) a row in src/cli/main.c's table; 3) the object
 * in the Makefile's CLI list; 4) docs/rbx.1 and README; 5) a test (t0010 checks every
 * command's --help). */
#ifndef RBX_CMD_H
#define RBX_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "base/diag.h"
#include "base/status.h"
#include "base/util.h"

struct opt {
	const char *name;
	char short_name;
	const char *arg; /* NULL: a flag; else the argument's name in help */
	const char *help;
	bool repeat;
};

struct args;

struct cmd {
	const char *name;
	const char *usage; /* after "rbx NAME " */
	const char *summary;
	const struct opt *opts; /* NULL-name terminated */
	int min_args;
	int max_args; /* -1: any */
	enum rbx_status (*exec)(struct args *a, struct rbx_err *err); /* err: why, when not RBX_OK */
};

struct args {
	const struct cmd *cmd;
	int argc; /* positionals */
	char **argv;
	const char *values[32]; /* last value per option index */
	int counts[32];
	struct strmap params; /* every --param k=v */
	struct strmap answers; /* every --answer STEP=yes|no */
	const struct cmd *const *table; /* every command (main sets it; completion reads it) */
};

bool args_has(const struct args *a, const char *name);
const char *args_get(const struct args *a, const char *name);
/* --format with a default and the allowed values; -1 with err when not allowed. */
int args_format(const struct args *a, const char *def, const char *const *allowed,
		const char **out, struct rbx_err *err);

extern const struct cmd cmd_list, cmd_show, cmd_lint, cmd_plan, cmd_run, cmd_runs, cmd_log,
	cmd_graph, cmd_version, cmd_lab, cmd_schema, cmd_docs, cmd_nodes, cmd_resume, cmd_roll, cmd_rules, cmd_alert, cmd_serve, cmd_test, cmd_completion;

/* The table, NULL-terminated. */
extern const struct cmd *const rbx_commands[];
void cmd_print_help(const struct cmd *c, FILE *fp);

/* Shared by commands that take a RUNBOOK argument: find and load it, printing load errors. */
struct runbook;
struct runbook *cmd_load_runbook(const char *name, struct rbx_err *err);
/* Parse argv (the words after the command's name) against c's options; 1: --help given. */
int args_parse(const struct cmd *c, int argc, char **argv, struct args *a, struct rbx_err *err);
/* The backends beyond the built-in ones join the registry (registry.c). */
void cmd_register_backends(void);
/* Multi-call: whether rbx runs as one of the lab's simulated tools, and that tool. */
bool cmd_is_tool(const char *argv0);
int cmd_tool_main(int argc, char **argv);
/* Every diagnostic of d to fp, one "file:line:col: level: message" line each. */
void diags_print(const struct diags *d, FILE *fp);
/* --fleet-wait DURATION (default 30m; "0": do not wait) in milliseconds. */
int cmd_fleet_wait(const struct args *a, long long *ms, struct rbx_err *err);

#endif
