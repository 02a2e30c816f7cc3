/* cmd_rules.c - `rbx rules`: the catalogue's Prometheus alerting rules, each alert with a
 * runbook_url to its runbook's page for the alert's node, or promtool's tests for them. */
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"
#include "core/rules.h"
#include "core/runbook.h"

static const struct opt rules_opts[] = {
	{"base-url", 'b', "URL", "where the runbook pages are served (rbx serve), no trailing /",
	 false},
	{"runbooks", 0, "DIR", "the catalogue (default ./runbooks)", false},
	{"tests", 0, "RULE_FILE", "print promtool's unit tests for the rule file of that name "
				  "instead of the rules", false},
	{NULL, 0, NULL, NULL, false},
};

static bool
url_ok(const char *u)
{
	size_t n = strlen(u);

	if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0)
		return false;
	if (n == 0 || u[n - 1] == '/')
		return false;
	/* It lands in a single-quoted YAML scalar and a Go template: keep it plain. */
	return strpbrk(u, "'\"{} \t\n\\") == NULL;
}

static enum rbx_status
rules_exec(struct args *a, struct rbx_err *err)
{
	const char *base = args_get(a, "base-url"), *dir = args_get(a, "runbooks");
	const char *tests = args_get(a, "tests");
	struct runbook **rbs = NULL;
	size_t n = 0;
	struct diags d;
	struct buf out, problems;
	enum rbx_status st = RBX_USAGE;

	if (!base)
		return err_set(err, "rbx rules needs --base-url URL (where rbx serve shows the runbooks)"),
		       RBX_USAGE;
	if (!url_ok(base))
		return err_set(err, "--base-url '%s': an http(s) URL without a trailing '/', quotes, "
				    "braces or spaces", base),
		       RBX_USAGE;
	diags_init(&d);
	buf_init(&out, 0);
	buf_init(&problems, 0);
	if (runbook_load_dir(dir ? dir : "runbooks", &rbs, &n, &d, err) < 0)
		goto out;
	if (d.nerrors) {
		diags_print(&d, stderr);
		err_set(err, "fix the runbooks first (rbx lint %s)", dir ? dir : "runbooks");
		goto out;
	}
	if (rules_check(rbs, n, &problems)) {
		fputs(problems.data, stderr);
		err_set(err, "every alert a runbook routes must have exactly one rule");
		goto out;
	}
	if (tests)
		rules_render_tests(rbs, n, base, tests, &out);
	else
		rules_render(rbs, n, base, &out);
	fputs(out.data ? out.data : "", stdout);
	st = RBX_OK;
out:
	buf_release(&out);
	buf_release(&problems);
	runbooks_free(rbs, n);
	diags_release(&d);
	return st;
}

const struct cmd cmd_rules = {
	"rules", "--base-url URL [--tests RULE_FILE] [--runbooks DIR]",
	"print the catalogue's Prometheus alerting rules (or their promtool tests)",
	rules_opts, 0, 0, rules_exec,
};
