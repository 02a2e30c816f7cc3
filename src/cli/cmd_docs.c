/* cmd_docs.c - `rbx docs --out DIR`: one Markdown page per runbook (trigger,
 * pre-checks, numbered procedure, verify, rollback, the exact rbx run line) and an index. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "core/runbook.h"
#include "core/schema.h"

static const struct opt docs_opts[] = {
	{"out", 'o', "DIR", "where to write the pages (required)", false},
	{"runbooks", 0, "DIR", "the runbooks to render (default ./runbooks)", false},
	{NULL, 0, NULL, NULL, false},
};

static const char *const subsystem_titles[] = {
	"Driver", "GPU hardware", "Fabric", "Scheduling", "Training", "Inference", "Provisioning",
};

static void
md_code(FILE *fp, const char *text)
{
	fprintf(fp, "```sh\n%s%s```\n", text, text[strlen(text) - 1] == '\n' ? "" : "\n");
}

static void
page_step(FILE *fp, const struct step *s, int n)
{
	fprintf(fp, "%d. **%s**", n, s->name);
	if (s->cluster)
		fprintf(fp, " *(changes the cluster; a resume asks before repeating it)*");
	else if (s->mutates)
		fprintf(fp, " *(changes the node)*");
	fprintf(fp, "\n");
	if (s->when) {
		struct buf b;
		buf_init(&b, 0);
		runbook_when_text(s->when, &b);
		fprintf(fp, "   Only when %s.\n", b.data);
		buf_release(&b);
	}
	fprintf(fp, "\n");
	if (s->kind == STEP_SSH || s->kind == STEP_RUN) {
		fprintf(fp, "   On %s:\n\n", s->kind == STEP_SSH ? "the node" : "the rbx host");
		/* Indent the code block under the list item. */
		fprintf(fp, "   ```sh\n");
		for (const char *p = s->text; *p;) {
			size_t len = strcspn(p, "\n");
			fprintf(fp, "   %.*s\n", (int)len, p);
			p += len;
			if (*p)
				p++;
		}
		fprintf(fp, "   ```\n\n");
	} else if (s->kind == STEP_CONFIRM) {
		fprintf(fp, "   Asks: *%s*\n\n", s->text);
	} else if (s->kind == STEP_HTTP) {
		fprintf(fp, "   `%s %s`\n\n", s->http->method, s->http->url);
	} else {
		fprintf(fp, "   Built-in action `%s`.\n\n", step_action_name(s->action));
	}
	if (s->expect.stdout_re || s->expect.stdout_not || s->expect.nexits > 1 ||
	    s->expect.exits[0] != 0) {
		fprintf(fp, "   Passes when");
		fprintf(fp, " the exit status is %d", s->expect.exits[0]);
		for (size_t i = 1; i < s->expect.nexits; i++)
			fprintf(fp, " or %d", s->expect.exits[i]);
		if (s->expect.stdout_re)
			fprintf(fp, ", stdout matches `%s`", s->expect.stdout_re);
		if (s->expect.stdout_not)
			fprintf(fp, ", stdout does not match `%s`", s->expect.stdout_not);
		fprintf(fp, ".\n\n");
	}
	if (s->undo)
		fprintf(fp, "   Undo: `%s`\n\n", s->undo->text ? s->undo->text : s->undo->name);
	if (s->keep_cordoned)
		fprintf(fp, "   Once this step has run, the node stays out of service.\n\n");
}

static void
page_phase(FILE *fp, const struct runbook *rb, enum phase p, const char *title, const char *intro)
{
	size_t i;

	fprintf(fp, "## %s\n\n", title);
	if (!rb->nsteps[p]) {
		fprintf(fp, "None.\n\n");
		return;
	}
	fprintf(fp, "%s\n\n", intro);
	for (i = 0; i < rb->nsteps[p]; i++)
		page_step(fp, rb->steps[p][i], (int)i + 1);
}

/* evidence: the output dir holds real-output.md (the catalogue's, from tests/tools/conformance.py). */
static int
write_page(const char *dir, const struct runbook *rb, bool evidence, struct rbx_err *err)
{
	char *path = xasprintf("%s/%s.md", dir, rb->name);
	FILE *fp = fopen(path, "w");
	size_t i, k;

	if (!fp) {
		err_set(err, "cannot write %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	fprintf(fp, "# %s\n\n`%s` · subsystem **%s**\n\n%s\n\n", rb->title, rb->name, rb->subsystem,
		rb->summary);
	fprintf(fp, "## Run it\n\n");
	{
		struct buf b;
		buf_init(&b, 0);
		buf_addf(&b, "rbx run %s --node NODE", rb->name);
		for (i = 0; i < rb->nparams; i++)
			if (!rb->params[i].def)
				buf_addf(&b, " --param %s=VALUE", rb->params[i].name);
		buf_addf(&b, "\nrbx plan %s --node NODE     # see every command first\n", rb->name);
		md_code(fp, b.data);
		buf_release(&b);
	}
	fprintf(fp, "\n## Trigger\n\n%s\n\n", rb->trigger.summary);
	for (i = 0; i < rb->trigger.nalerts; i++) {
		fprintf(fp, "- alert");
		for (k = 0; k < rb->trigger.alerts[i].n; k++)
			fprintf(fp, " `%s=%s`", rb->trigger.alerts[i].keys[k], rb->trigger.alerts[i].values[k]);
		fprintf(fp, "\n");
	}
	if (rb->trigger.nalerts)
		fprintf(fp, "\nThe node is named by the alert label `%s`.\n\n", rb->trigger.node_label);
	if (rb->nparams) {
		fprintf(fp, "## Parameters\n\n| name | meaning | default | pattern |\n|---|---|---|---|\n");
		for (i = 0; i < rb->nparams; i++) {
			const struct param *p = &rb->params[i];
			fprintf(fp, "| `%s` | %s | %s | %s%s%s |\n", p->name, p->description,
				p->def ? p->def : "*(required)*", p->pattern ? "`" : "",
				p->pattern ? p->pattern : "", p->pattern ? "`" : "");
		}
		fprintf(fp, "\n");
	}
	fprintf(fp, "## Guard\n\n");
	if (rb->guard.none)
		fprintf(fp, "None: %s. The runbook changes nothing on the node%s.\n\n", rb->guard.none,
			runbook_changes_cluster(rb) ? " (its cluster changes are marked)" : "");
	else
		fprintf(fp, "rbx %s the node before any step that changes it%s.%s%s%s\n\n",
			rb->guard.drain ? "cordons and drains" : "cordons",
			rb->keep_cordoned ? ", and keeps it out of service at the end" : "",
			rb->guard.keep_running ? " It does not drain: " : "",
			rb->guard.keep_running ? rb->guard.keep_running : "",
			rb->guard.keep_running ? "." : "");
	page_phase(fp, rb, PHASE_PRE_CHECKS, "Pre-checks",
		   "Read-only. If one fails, the run stops with nothing changed (exit 3).");
	page_phase(fp, rb, PHASE_PROCEDURE, "Procedure",
		   "Runs once the guard holds, in order. A step whose condition does not hold is "
		   "skipped.");
	page_phase(fp, rb, PHASE_VERIFY, "Verify",
		   "The proof. If one fails, rbx rolls back; the procedure may run again "
		   "(max attempts below).");
	page_phase(fp, rb, PHASE_ROLLBACK, "Rollback",
		   "After the completed steps' undos, newest first. The node stays cordoned when the "
		   "run ends FAILED.");
	fprintf(fp, "Max attempts: %d.\n\n", rb->max_attempts);
	if (rb->nrelies_on) {
		fprintf(fp, "## What it relies on in the real tools\n\n");
		for (i = 0; i < rb->nrelies_on; i++)
			fprintf(fp, "- %s\n", rb->relies_on[i]);
		fprintf(fp, "\n");
	}
	if (evidence)
		fprintf(fp, "The real output its readings are checked against, capture by capture: "
			    "[real-output.md](real-output.md#%s).\n\n", rb->name);
	if (rb->nreferences) {
		fprintf(fp, "## References\n\n");
		for (i = 0; i < rb->nreferences; i++)
			fprintf(fp, "- <%s>\n", rb->references[i]);
		fprintf(fp, "\n");
	}
	if (rb->nrelated) {
		fprintf(fp, "## Related\n\n");
		for (i = 0; i < rb->nrelated; i++)
			fprintf(fp, "- [%s](%s.md)\n", rb->related[i], rb->related[i]);
		fprintf(fp, "\n");
	}
	fclose(fp);
	free(path);
	return 0;
}

static int
cmp_rb(const void *a, const void *b)
{
	return strcmp((*(struct runbook *const *)a)->name, (*(struct runbook *const *)b)->name);
}

static enum rbx_status
docs_exec(struct args *a, struct rbx_err *err)
{
	const char *out = args_get(a, "out"), *src = args_get(a, "runbooks");
	struct runbook **rbs = NULL;
	size_t n = 0, i;
	struct diags d;
	DIR *dp;
	struct dirent *de;
	FILE *fp;
	char *index = NULL;
	bool evidence;
	int rc = RBX_USAGE, s;

	if (!out)
		return err_set(err, "rbx docs needs --out DIR"), RBX_USAGE;
	src = src ? src : "runbooks";
	if (util_mkdir_p(out, 0755, err) < 0)
		return RBX_FAILED;
	dp = opendir(src);
	if (!dp)
		return err_set(err, "cannot read %s: %s", src, strerror(errno)), RBX_USAGE;
	diags_init(&d);
	while ((de = readdir(dp)) != NULL) {
		size_t l = strlen(de->d_name);
		char *path;
		struct runbook *rb;
		if (l < 6 || strcmp(de->d_name + l - 5, ".yaml"))
			continue;
		path = xasprintf("%s/%s", src, de->d_name);
		rb = runbook_load(path, &d);
		free(path);
		if (!rb)
			continue;
		rbs = xrealloc(rbs, (n + 1) * sizeof(*rbs));
		rbs[n++] = rb;
	}
	closedir(dp);
	if (d.nerrors) {
		diags_print(&d, stderr);
		err_set(err, "fix the runbooks first (rbx lint %s)", src);
		goto out;
	}
	if (n)
		qsort(rbs, n, sizeof(*rbs), cmp_rb);
	index = xasprintf("%s/real-output.md", out);
	evidence = access(index, F_OK) == 0;
	free(index);
	index = NULL; /* out: frees it again when a page fails (scan-build found the double free) */
	for (i = 0; i < n; i++)
		if (write_page(out, rbs[i], evidence, err) < 0)
			goto out;
	index = xasprintf("%s/README.md", out);
	fp = fopen(index, "w");
	if (!fp) {
		err_set(err, "cannot write %s: %s", index, strerror(errno));
		goto out;
	}
	fprintf(fp, "# The rbx runbook catalogue\n\n%zu runbooks, generated by `rbx docs` from "
		    "`runbooks/`. Every page opens with the exact `rbx run` line; `rbx plan` shows "
		    "every command rendered for a node before anything runs.\n\n",
		n);
	for (s = 0; schema_subsystems[s]; s++) {
		bool any = false;
		for (i = 0; i < n; i++) {
			if (strcmp(rbs[i]->subsystem, schema_subsystems[s]))
				continue;
			if (!any)
				fprintf(fp, "## %s\n\n| runbook | trigger |\n|---|---|\n",
					subsystem_titles[s]);
			any = true;
			fprintf(fp, "| [%s](%s.md) — %s | %s |\n", rbs[i]->name, rbs[i]->name,
				rbs[i]->title, rbs[i]->trigger.summary);
		}
		if (any)
			fprintf(fp, "\n");
	}
	fclose(fp);
	printf("wrote %zu pages and an index to %s\n", n, out);
	rc = RBX_OK;
out:
	for (i = 0; i < n; i++)
		runbook_free(rbs[i]);
	free(rbs);
	free(index);
	diags_release(&d);
	return rc;
}

const struct cmd cmd_docs = {
	"docs", "--out DIR [--runbooks DIR]",
	"render every runbook as a Markdown page, with an index by subsystem", docs_opts, 0, 0,
	docs_exec,
};
