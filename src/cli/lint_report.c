/* lint_report.c - lint findings as GitHub annotations (escaped as the workflow-command
 * syntax wants), as SARIF 2.1.0 (OASIS) with a rule per kind, and as JSON. */
#include "cli/lint_report.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

/*
 * A workflow command's value: '%', CR and LF escaped (and, in a property, ':' and ','),
 * so a message cannot end the annotation early or start a command of its own.
 */
static void
gh_escape(FILE *fp, const char *s, bool property)
{
	for (; s && *s; s++) {
		if (*s == '%')
			fputs("%25", fp);
		else if (*s == '\r')
			fputs("%0D", fp);
		else if (*s == '\n')
			fputs("%0A", fp);
		else if (property && *s == ':')
			fputs("%3A", fp);
		else if (property && *s == ',')
			fputs("%2C", fp);
		else
			fputc(*s, fp);
	}
}

void
lint_report_github(FILE *fp, const struct diags *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		const struct diag *g = &d->v[i];
		fprintf(fp, "::%s file=", g->level == DIAG_ERROR ? "error" : "warning");
		gh_escape(fp, g->file, true);
		if (g->pos.line)
			fprintf(fp, ",line=%d,col=%d", g->pos.line, g->pos.col ? g->pos.col : 1);
		fputs(",title=rbx lint::", fp);
		gh_escape(fp, g->msg, false);
		fputc('\n', fp);
	}
}

static void
dump(FILE *fp, json_t *doc)
{
	char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	fprintf(fp, "%s\n", text);
	free(text);
	json_decref(doc);
}

void
lint_report_json(FILE *fp, const struct diags *d, const char *const *rules, size_t nfiles)
{
	json_t *list = json_array();
	size_t i;

	for (i = 0; i < d->n; i++) {
		const struct diag *g = &d->v[i];
		json_array_append_new(list, json_pack("{s:s, s:i, s:i, s:s, s:s, s:s}", "file", g->file,
						      "line", g->pos.line, "col", g->pos.col, "level",
						      g->level == DIAG_ERROR ? "error" : "warning",
						      "rule", rules[i], "message", g->msg));
	}
	dump(fp, json_pack("{s:I, s:I, s:I, s:o}", "runbooks", (json_int_t)nfiles, "errors",
			   (json_int_t)d->nerrors, "warnings", (json_int_t)(d->n - d->nerrors),
			   "diagnostics", list));
}

/* The rules a finding can come from, as SARIF's reportingDescriptor objects. */
static json_t *
sarif_rules(void)
{
	return json_pack(
		"[{s:s, s:s, s:{s:s}, s:{s:s}}, {s:s, s:s, s:{s:s}, s:{s:s}}]", "id", "rbx/load",
		"name", "RunbookLoads", "shortDescription", "text",
		"The runbook is valid YAML and follows the runbook format", "fullDescription", "text",
		"A runbook the loader refuses never runs: a syntax error, an unknown key, a value of "
		"the wrong type, a template that is not allowed in its context.",
		"id", "rbx/lint", "name", "RunbookPolicy", "shortDescription", "text",
		"The runbook keeps rbx's safety rules", "fullDescription", "text",
		"Guard before a change, a real proof in verify, a rollback, parameters with patterns: "
		"the rules of docs/runbook-format.md.");
}

/* A path as a URI reference: bytes outside RFC 3986's unreserved set and '/' are %XX. */
static char *
uri_of(const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = xcalloc(strlen(path) * 3 + 1, 1), *o = out;
	const unsigned char *p;

	for (p = (const unsigned char *)path; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    strchr("-._~/", *p)) {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	return out;
}

void
lint_report_sarif(FILE *fp, const struct diags *d, const char *const *rules)
{
	json_t *results = json_array();
	size_t i;

	for (i = 0; i < d->n; i++) {
		const struct diag *g = &d->v[i];
		char *uri = uri_of(g->file);
		json_t *loc = json_pack("{s:{s:s}}", "artifactLocation", "uri", uri);
		free(uri);
		if (g->pos.line > 0)
			json_object_set_new(loc, "region",
					    json_pack("{s:i, s:i}", "startLine", g->pos.line,
						      "startColumn", g->pos.col > 0 ? g->pos.col : 1));
		json_array_append_new(
			results,
			json_pack("{s:s, s:i, s:s, s:{s:s}, s:[{s:o}]}", "ruleId", rules[i], "ruleIndex",
				  strcmp(rules[i], "rbx/load") ? 1 : 0, "level",
				  g->level == DIAG_ERROR ? "error" : "warning", "message", "text", g->msg,
				  "locations", "physicalLocation", loc));
	}
	dump(fp, json_pack("{s:s, s:s, s:[{s:{s:{s:s, s:s, s:o}}, s:o}]}", "$schema",
			   "https://json.schemastore.org/sarif-2.1.0.json", "version", "2.1.0", "runs",
			   "tool", "driver", "name", "rbx lint", "version", RBX_VERSION, "rules",
			   sarif_rules(), "results", results));
}
