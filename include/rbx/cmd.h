/* cmd.h - the subcommand table and option parsing driven by it.
 * Adding a command: 1) src/cmd_NAME.c exporting one `const struct cmd cmd_NAME`;
 * 2) a row in src/main.c's table; 3) the object in the Makefile; 4) docs/rbx.1
 * and README; 5) a test (tests/integration/ checks every command's --help). */
#ifndef RBX_CMD_H
#define RBX_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "rbx/util.h"

/* Exit codes (DESIGN.md section 6); only main turns a command's result into one. */
enum rbx_exit {
	EXIT_OK = 0,
	EXIT_FAILED = 1,
	EXIT_USAGE = 2,
	EXIT_ABORTED = 3,
	EXIT_UNSAFE = 4,
	EXIT_LOCKED = 5,
	EXIT_INTERRUPTED = 130,
};

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
	int (*exec)(struct args *a, struct rbx_err *err);
};

struct args {
	const struct cmd *cmd;
	int argc; /* positionals */
	char **argv;
	const char *values[32]; /* last value per option index */
	int counts[32];
	struct strmap params; /* every --param k=v */
};

bool args_has(const struct args *a, const char *name);
const char *args_get(const struct args *a, const char *name);
/* --format with a default and the allowed values; -1 with err when not allowed. */
int args_format(const struct args *a, const char *def, const char *const *allowed,
		const char **out, struct rbx_err *err);

extern const struct cmd cmd_list, cmd_show, cmd_lint, cmd_plan, cmd_run, cmd_runs, cmd_log,
	cmd_graph, cmd_version, cmd_lab, cmd_schema, cmd_docs, cmd_nodes, cmd_resume, cmd_roll;

/* The table, NULL-terminated. */
extern const struct cmd *const rbx_commands[];
void cmd_print_help(const struct cmd *c, FILE *fp);

/* Shared by commands that take a RUNBOOK argument: find and load it, printing load errors. */
struct runbook;
struct runbook *cmd_load_runbook(const char *name, struct rbx_err *err);
/* --fleet-wait DURATION (default 30m; "0": do not wait) in milliseconds. */
int cmd_fleet_wait(const struct args *a, long long *ms, struct rbx_err *err);

#endif
