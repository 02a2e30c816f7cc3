/* main.c - rbx's entry point: the command table, and the one place that turns a
 * command's result into a printed error and an exit code. */
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"

const struct cmd *const rbx_commands[] = {
	&cmd_run, &cmd_plan, &cmd_lint, &cmd_list, &cmd_show, &cmd_runs, &cmd_log, &cmd_graph,
	&cmd_resume, &cmd_roll, &cmd_nodes, &cmd_lab, &cmd_alert, &cmd_serve, &cmd_test, &cmd_docs, &cmd_rules, &cmd_schema, &cmd_completion, &cmd_version, NULL,
};

static void
usage(FILE *fp)
{
	const struct cmd *const *c;

	fprintf(fp, "usage: rbx COMMAND [OPTIONS] [ARGS]\n\n"
		    "rbx runs GPU-operations runbooks against one node at a time, behind a\n"
		    "cordon/drain guard, with verify and rollback enforced by the engine.\n\n"
		    "commands:\n");
	for (c = rbx_commands; *c; c++)
		fprintf(fp, "  %-9s %s\n", (*c)->name, (*c)->summary);
	fprintf(fp, "\n'rbx COMMAND --help' for a command's options. Exit codes: 0 succeeded,\n"
		    "1 failed and rolled back (node left cordoned), 2 usage or invalid runbook,\n"
		    "3 pre-checks failed (nothing changed), 4 rollback failed (node needs a\n"
		    "human), 5 node locked by another run, 130 interrupted or the node out of\n"
		    "reach (the journal says where it stands; 'rbx resume RUN' continues).\n");
}

static const struct cmd *
find_cmd(const char *name)
{
	const struct cmd *const *c;

	for (c = rbx_commands; *c; c++)
		if (!strcmp((*c)->name, name))
			return *c;
	return NULL;
}

/* Whether stdout is a pipe nobody reads any more: then the exit code stays the command's. */
static bool
reader_gone(void)
{
	struct pollfd p = {STDOUT_FILENO, 0, 0};

	return poll(&p, 1, 0) == 1 && (p.revents & POLLERR);
}

int
main(int argc, char **argv)
{
	const struct cmd *c;
	struct args a;
	struct rbx_err err;
	int rc;

	if (cmd_is_tool(argv[0]))
		return cmd_tool_main(argc, argv);
	cmd_register_backends();
	/*
	 * A reader that goes away (`rbx run ... | head`) must not kill a run mid-
	 * procedure: a write to the broken pipe fails with EPIPE instead, the report
	 * stops, and the journal goes on.
	 */
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? RBX_USAGE : RBX_OK;
	}
	c = find_cmd(strcmp(argv[1], "--version") ? argv[1] : "version");
	if (!c) {
		fprintf(stderr, "rbx: error: '%s' is not an rbx command (see 'rbx --help')\n",
			argv[1]);
		return RBX_USAGE;
	}
	memset(&a, 0, sizeof(a));
	err.msg[0] = 0;
	rc = args_parse(c, argc - 2, argv + 2, &a, &err);
	if (rc == 1) {
		cmd_print_help(c, stdout);
		rc = RBX_OK;
		goto out;
	}
	if (rc < 0) {
		fprintf(stderr, "rbx: error: %s\n", err.msg);
		rc = RBX_USAGE;
		goto out;
	}
	a.table = rbx_commands;
	rc = c->exec(&a, &err);
	if (rc != RBX_OK && err.msg[0])
		fprintf(stderr, "rbx: error: %s\n", err.msg);
out:
	strmap_release(&a.params);
	strmap_release(&a.answers);
	free(a.argv);
	if ((fflush(stdout) != 0 || ferror(stdout)) && !reader_gone()) {
		fprintf(stderr, "rbx: error: cannot write the output\n");
		if (rc == RBX_OK)
			rc = RBX_FAILED;
	}
	return rc;
}
