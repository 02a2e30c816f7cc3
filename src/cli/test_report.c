/* test_report.c - `rbx test`'s output: a line a scenario, what did not hold with the
 * journal's tail, a summary or JSON, the coverage table, and JUnit XML. */
#define _GNU_SOURCE
#include "cli/test_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd.h"

static void
indent(FILE *fp, const char *text, const char *prefix)
{
	const char *p = text, *nl;

	while (p && *p) {
		nl = strchr(p, '\n');
		fprintf(fp, "%s%.*s\n", prefix, (int)(nl ? nl - p : (long)strlen(p)), p);
		p = nl ? nl + 1 : NULL;
	}
}

void
test_report_line(void *arg, const struct test_result *r)
{
	struct test_report *rep = arg;

	if (r->pass)
		rep->passed++;
	else
		rep->failed++;
	if (strcmp(rep->format, "text"))
		return;
	printf("%s %s: %s (%.1fs)\n", r->pass ? "ok  " : "FAIL", r->file->rb->name, r->s->name,
	       (double)r->ms / 1000);
	if (!r->pass) {
		printf("     %s:%d: exit %d, end state %s\n", r->file->path, r->s->pos.line, r->exit,
		       r->end_state);
		indent(stdout, r->why.data, "     ");
		if (r->tail && *r->tail) {
			printf("     the journal's last records:\n");
			indent(stdout, r->tail, "       ");
		}
		if (r->state_dir)
			printf("     its state dir: %s\n", r->state_dir);
	}
	fflush(stdout);
}

static void
coverage_text(json_t *cov)
{
	json_t *rb, *g;
	size_t i, k;

	printf("\n%-28s %9s %9s %7s %9s  %s\n", "coverage", "steps", "when both", "undos",
	       "rollback", "end states");
	json_array_foreach(json_object_get(cov, "runbooks"), i, rb) {
		char ends[200] = "";
		json_t *e;
		json_array_foreach(json_object_get(rb, "end_states"), k, e) {
			size_t l = strlen(ends);
			snprintf(ends + l, sizeof(ends) - l, "%s%s", l ? " " : "", json_string_value(e));
		}
#define PAIR(key, a, b)                                                                            \
	(int)json_integer_value(json_object_get(json_object_get(rb, key), a)),                     \
		(int)json_integer_value(json_object_get(json_object_get(rb, key), b))
		printf("%-28s %4d/%-4d %4d/%-4d %3d/%-3d %4d/%-4d  %s\n",
		       json_string_value(json_object_get(rb, "runbook")), PAIR("steps", "ran", "total"),
		       PAIR("whens", "both", "total"), PAIR("undos", "ran", "total"),
		       PAIR("rollback", "ran", "total"), ends);
#undef PAIR
		json_array_foreach(json_object_get(rb, "gaps"), k, g) {
			const char *w = json_string_value(json_object_get(g, "waived"));
			printf("    %s '%s': %s%s%s%s\n", json_string_value(json_object_get(g, "phase")),
			       json_string_value(json_object_get(g, "step")),
			       json_string_value(json_object_get(g, "missing")), w ? " (waived: " : "",
			       w ? w : "", w ? ")" : "");
		}
	}
	printf("coverage: %s\n", json_is_true(json_object_get(cov, "complete"))
					 ? "every step and both sides of every when, or waived"
					 : "gaps not waived (above)");
}

static json_t *
result_json(const struct test_result *r)
{
	json_t *why = json_array();
	const char *p = r->why.data, *nl;

	while (p && *p) {
		nl = strchr(p, '\n');
		json_array_append_new(why, json_stringn(p, nl ? (size_t)(nl - p) : strlen(p)));
		p = nl ? nl + 1 : NULL;
	}
	json_t *faults = json_array(), *params = json_array();
	size_t i;

	for (i = 0; i < r->s->nfaults; i++)
		json_array_append_new(faults, json_string(r->s->faults[i]));
	for (i = 0; i < r->s->nparams; i++)
		json_array_append_new(params, json_string(r->s->params[i]));
	return json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:o, s:o, s:b, s:i, s:s, s:I, s:o, s:s?}",
			 "runbook", r->file->rb->name, "runbook_path", r->file->runbook_path,
			 "scenario", r->s->name, "file", r->file->path, "line", r->s->pos.line, "node",
			 r->s->node, "faults", faults, "params", params, "pass", r->pass, "exit", r->exit,
			 "state", r->end_state, "ms", (json_int_t)r->ms, "why", why, "state_dir",
			 r->state_dir);
}

void
test_report_summary(struct test_report *rep, const struct test_result *r, size_t n,
		    const char *const *bare, size_t nbare, json_t *coverage)
{
	size_t i;

	if (!strcmp(rep->format, "json")) {
		json_t *list = json_array(), *nos = json_array(), *doc;
		char *text;
		for (i = 0; i < n; i++)
			json_array_append_new(list, result_json(&r[i]));
		for (i = 0; i < nbare; i++)
			json_array_append_new(nos, json_string(bare[i]));
		doc = json_pack("{s:o, s:i, s:i, s:I, s:o}", "scenarios", list, "passed",
				(int)rep->passed, "failed", (int)rep->failed, "ms", (json_int_t)rep->ms,
				"without_scenarios", nos);
		if (coverage)
			json_object_set(doc, "coverage", coverage);
		text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("%s\n", text);
		free(text);
		json_decref(doc);
		return;
	}
	for (i = 0; i < nbare; i++)
		printf("note %s: no scenarios (write them in tests/ beside it: docs/testing.md)\n",
		       bare[i]);
	if (coverage)
		coverage_text(coverage);
	printf("%zu scenarios: %zu passed, %zu failed (%.1fs)\n", n, rep->passed, rep->failed,
	       (double)rep->ms / 1000);
}

/* XML 1.0 text: the five entities escaped, control bytes (which XML cannot hold) as '?'. */
static void
xml(FILE *fp, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '<')
			fputs("&lt;", fp);
		else if (c == '>')
			fputs("&gt;", fp);
		else if (c == '&')
			fputs("&amp;", fp);
		else if (c == '"')
			fputs("&quot;", fp);
		else if (c == '\'')
			fputs("&apos;", fp);
		else if (c < 0x20 && c != '\n' && c != '\t')
			fputc('?', fp);
		else
			fputc(c, fp);
	}
}

int
test_report_junit(const char *path, const struct test_result *r, size_t n, long long ms,
		  struct rbx_err *err)
{
	char *tmp = xasprintf("%s.tmp", path);
	FILE *fp = fopen(tmp, "w");
	size_t i = 0, j, fails = 0;

	if (!fp) {
		free(tmp);
		return err_set(err, "cannot write %s", path);
	}
	for (j = 0; j < n; j++)
		fails += !r[j].pass;
	fprintf(fp, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"rbx test\" "
		    "tests=\"%zu\" failures=\"%zu\" time=\"%.3f\">\n", n, fails, (double)ms / 1000);
	while (i < n) { /* one suite a scenario file: results come in file order */
		size_t end = i, f = 0;
		double t = 0;
		while (end < n && r[end].file == r[i].file) {
			f += !r[end].pass;
			t += (double)r[end].ms / 1000;
			end++;
		}
		fprintf(fp, "  <testsuite name=\"");
		xml(fp, r[i].file->rb->name);
		fprintf(fp, "\" tests=\"%zu\" failures=\"%zu\" time=\"%.3f\">\n", end - i, f, t);
		for (j = i; j < end; j++) {
			fprintf(fp, "    <testcase classname=\"");
			xml(fp, r[j].file->rb->name);
			fprintf(fp, "\" name=\"");
			xml(fp, r[j].s->name);
			fprintf(fp, "\" file=\"");
			xml(fp, r[j].file->path);
			fprintf(fp, "\" line=\"%d\" time=\"%.3f\"", r[j].s->pos.line, (double)r[j].ms / 1000);
			if (r[j].pass) {
				fprintf(fp, "/>\n");
				continue;
			}
			fprintf(fp, ">\n      <failure message=\"exit %d, end state %s\">", r[j].exit,
				r[j].end_state);
			xml(fp, r[j].why.data);
			xml(fp, "\nthe journal's last records:\n");
			xml(fp, r[j].tail);
			fprintf(fp, "</failure>\n    </testcase>\n");
		}
		fprintf(fp, "  </testsuite>\n");
		i = end;
	}
	fprintf(fp, "</testsuites>\n");
	if (fclose(fp) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		free(tmp);
		return err_set(err, "cannot write %s", path);
	}
	free(tmp);
	return 0;
}
