/* args.c - a command's options parsed from its declared table, its --help drawn from
 * the same table, and the small helpers commands share (runbook loading, --fleet-wait). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "base/diag.h"
#include "core/lint.h"

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

static int
set_opt(struct args *a, int i, const char *value, struct rbx_err *err)
{
	const struct opt *o = &a->cmd->opts[i];

	if (a->counts[i] && !o->repeat)
		return err_set(err, "--%s given twice", o->name);
	a->counts[i]++;
	a->values[i] = value ? value : "";
	if (!value) /* a flag: nothing more to read */
		return 0;
	if (!strcmp(o->name, "param")) {
		const char *eq = strchr(value, '=');
		char *k;
		if (!eq || eq == value)
			return err_set(err, "--param takes NAME=VALUE, not '%s'", value);
		k = xstrndup(value, (size_t)(eq - value));
		strmap_set(&a->params, k, eq + 1);
		free(k);
	}
	if (!strcmp(o->name, "answer")) {
		const char *eq = strrchr(value, '=');
		char *k;
		if (!eq || eq == value || (strcmp(eq + 1, "yes") && strcmp(eq + 1, "no")))
			return err_set(err, "--answer takes STEP=yes or STEP=no, not '%s'", value);
		k = xstrndup(value, (size_t)(eq - value));
		strmap_set(&a->answers, k, eq + 1);
		free(k);
	}
	return 0;
}

/* Parse argv against the command's declared options. 1: --help given. */
int
args_parse(const struct cmd *c, int argc, char **argv, struct args *a, struct rbx_err *err)
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

	diags_init(&d);
	rb = lint_load_runbook(name, &d, err);
	diags_print(&d, stderr);
	diags_release(&d);
	return rb;
}


void
diags_print(const struct diags *d, FILE *fp)
{
	char *text = diags_text(d);

	fputs(text, fp);
	free(text);
}
