/* main.c - rbx's entry point: the command table, option parsing from each
 * command's declared options, and the one place that prints errors and exits. */
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

#include "rbx/cmd.h"
#include "rbx/diag.h"
#include "rbx/lint.h"
#include "rbx/lab.h"
#include "rbx/runbook.h"

const struct cmd *const rbx_commands[] = {
	&cmd_run, &cmd_plan, &cmd_lint, &cmd_list, &cmd_show, &cmd_runs, &cmd_log, &cmd_graph,
	&cmd_resume, &cmd_roll, &cmd_nodes, &cmd_lab, &cmd_docs, &cmd_schema, &cmd_version, NULL,
};

static const struct opt help_opt = {"help", 'h', NULL, "show this help", false};

static int
opt_index(const struct cmd *c, const char *name, char short_name)
{
	int i;

	for (i = 0; c->opts && c->opts[i].name; i++)
		if ((name && !strcmp(c->opts[i].name, name)) ||
		    (short_name && c->opts[i].short_name == short_name))
			return i;
	return -1;
}

bool
args_has(const struct args *a, const char *name)
{
	int i = opt_index(a->cmd, name, 0);
	return i >= 0 && a->counts[i] > 0;
}

const char *
args_get(const struct args *a, const char *name)
{
	int i = opt_index(a->cmd, name, 0);
	return i >= 0 ? a->values[i] : NULL;
}

int
args_format(const struct args *a, const char *def, const char *const *allowed, const char **out,
	    struct rbx_err *err)
{
	const char *f = args_get(a, "format");
	size_t i;

	*out = f ? f : def;
	for (i = 0; allowed[i]; i++)
		if (!strcmp(*out, allowed[i]))
			return 0;
	return err_set(err, "--format %s: not one of the formats of 'rbx %s'", *out, a->cmd->name);
}

void
cmd_print_help(const struct cmd *c, FILE *fp)
{
	int i;

	fprintf(fp, "usage: rbx %s %s\n\n%s\n\noptions:\n", c->name, c->usage, c->summary);
	for (i = 0; c->opts && c->opts[i].name; i++) {
		char left[64];
		const struct opt *o = &c->opts[i];
		if (o->short_name)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->short_name, o->name,
				 o->arg ? " " : "", o->arg ? o->arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->name, o->arg ? " " : "",
				 o->arg ? o->arg : "");
		fprintf(fp, "  %-28s %s\n", left, o->help);
	}
	fprintf(fp, "  %-28s %s\n", "-h, --help", help_opt.help);
}

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
		    "human), 5 node locked by another run, 130 interrupted.\n");
}

static int
set_opt(struct args *a, int i, const char *value, struct rbx_err *err)
{
	const struct opt *o = &a->cmd->opts[i];

	if (a->counts[i] && !o->repeat)
		return err_set(err, "--%s given twice", o->name);
	a->counts[i]++;
	a->values[i] = value ? value : "";
	if (!strcmp(o->name, "param")) {
		const char *eq = strchr(value, '=');
		char *k;
		if (!eq || eq == value)
			return err_set(err, "--param takes NAME=VALUE, not '%s'", value);
		k = xstrndup(value, (size_t)(eq - value));
		strmap_set(&a->params, k, eq + 1);
		free(k);
	}
	return 0;
}

/* Parse argv against the command's declared options. 1: --help given. */
static int
parse_args(const struct cmd *c, int argc, char **argv, struct args *a, struct rbx_err *err)
{
	int k, i;
	bool opts_done = false;

	a->cmd = c;
	a->argv = xcalloc((size_t)argc + 1, sizeof(char *));
	for (k = 0; k < argc; k++) {
		char *s = argv[k];
		const char *value = NULL;

		if (opts_done || s[0] != '-' || !s[1]) {
			a->argv[a->argc++] = s;
			continue;
		}
		if (!strcmp(s, "--")) {
			opts_done = true;
			continue;
		}
		if (!strcmp(s, "-h") || !strcmp(s, "--help"))
			return 1;
		if (s[1] == '-') {
			char *name = xstrdup(s + 2), *eq = strchr(name, '=');
			if (eq) {
				*eq = 0;
				value = s + 2 + (eq - name) + 1;
			}
			i = opt_index(c, name, 0);
			if (i < 0) {
				err_set(err, "rbx %s: unknown option '--%s' (see 'rbx %s --help')",
					c->name, name, c->name);
				free(name);
				return -1;
			}
			free(name);
		} else {
			if (s[2]) {
				return err_set(err, "rbx %s: give short options one at a time ('%s')",
					       c->name, s);
			}
			i = opt_index(c, NULL, s[1]);
			if (i < 0)
				return err_set(err, "rbx %s: unknown option '%s' (see 'rbx %s --help')",
					       c->name, s, c->name);
		}
		if (c->opts[i].arg && !value) {
			if (k + 1 >= argc)
				return err_set(err, "rbx %s: --%s needs %s", c->name, c->opts[i].name,
					       c->opts[i].arg);
			value = argv[++k];
		} else if (!c->opts[i].arg && value) {
			return err_set(err, "rbx %s: --%s takes no value", c->name, c->opts[i].name);
		}
		if (set_opt(a, i, value, err) < 0)
			return -1;
	}
	if (a->argc < c->min_args || (c->max_args >= 0 && a->argc > c->max_args))
		return err_set(err, "usage: rbx %s %s", c->name, c->usage);
	return 0;
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

int
cmd_fleet_wait(const struct args *a, long long *ms, struct rbx_err *err)
{
	const char *v = args_get(a, "fleet-wait");

	*ms = 30 * 60 * 1000LL;
	if (!v)
		return 0;
	*ms = !strcmp(v, "0") ? 0 : util_parse_duration(v);
	if (*ms < 0)
		return err_set(err, "--fleet-wait '%s' is not a duration (90s, 10m, 2h, or 0)", v);
	return 0;
}

struct runbook *
cmd_load_runbook(const char *name, struct rbx_err *err)
{
	struct diags d;
	struct runbook *rb;
	char *path = runbook_find(name, err);

	if (!path)
		return NULL;
	diags_init(&d);
	rb = runbook_load(path, &d);
	/* What lint refuses never runs (nor is planned): the same rules, as errors. */
	if (rb)
		lint_runbook(rb, &d);
	if (!rb || d.nerrors) {
		diags_print(&d, stderr);
		err_set(err, "runbook '%s' is invalid (%zu error%s); 'rbx lint %s' shows them", name,
			d.nerrors, d.nerrors == 1 ? "" : "s", path);
		runbook_free(rb);
		rb = NULL;
	}
	diags_release(&d);
	free(path);
	return rb;
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

	if (lab_is_tool(argv[0]))
		return lab_tool_main(argc, argv);
	/*
	 * A reader that goes away (`rbx run ... | head`) must not kill a run mid-
	 * procedure: a write to the broken pipe fails with EPIPE instead, the report
	 * stops, and the journal goes on.
	 */
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	c = find_cmd(strcmp(argv[1], "--version") ? argv[1] : "version");
	if (!c) {
		fprintf(stderr, "rbx: error: '%s' is not an rbx command (see 'rbx --help')\n",
			argv[1]);
		return EXIT_USAGE;
	}
	memset(&a, 0, sizeof(a));
	err.msg[0] = 0;
	rc = parse_args(c, argc - 2, argv + 2, &a, &err);
	if (rc == 1) {
		cmd_print_help(c, stdout);
		rc = EXIT_OK;
		goto out;
	}
	if (rc < 0) {
		fprintf(stderr, "rbx: error: %s\n", err.msg);
		rc = EXIT_USAGE;
		goto out;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = c->exec(&a, &err);
	curl_global_cleanup();
	if (rc != EXIT_OK && err.msg[0])
		fprintf(stderr, "rbx: error: %s\n", err.msg);
out:
	strmap_release(&a.params);
	free(a.argv);
	if ((fflush(stdout) != 0 || ferror(stdout)) && !reader_gone()) {
		fprintf(stderr, "rbx: error: cannot write the output\n");
		if (rc == EXIT_OK)
			rc = EXIT_FAILED;
	}
	return rc;
}
