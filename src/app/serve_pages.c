/* serve_pages.c - the pages of rbx serve, rendered on the server with every value escaped:
 * a runbook as the alert link shows it, and for a node its plan, its runs and the command. */
#include "app/serve.h"

#include <jansson.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#include "app/plan.h"
#include "core/runbook.h"
#include "io/journal.h"

void
serve_html(struct buf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': buf_adds(b, "&lt;"); break;
		case '>': buf_adds(b, "&gt;"); break;
		case '&': buf_adds(b, "&amp;"); break;
		case '"': buf_adds(b, "&quot;"); break;
		case '\'': buf_adds(b, "&#39;"); break;
		default: buf_add(b, s, 1);
		}
	}
}

void
serve_reply_json(struct serve_reply *r, json_t *doc)
{
	char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;

	if (!text) { /* never a crash for an answer that could not be made */
		r->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		r->type = "text/plain; charset=utf-8";
		buf_adds(&r->body, "the answer could not be encoded\n");
		json_decref(doc);
		return;
	}
	r->type = "application/json";
	buf_adds(&r->body, text);
	buf_adds(&r->body, "\n");
	free(text);
	json_decref(doc);
}

static void
html_head(struct buf *b, const char *title)
{
	buf_adds(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>");
	serve_html(b, title);
	buf_adds(b, "</title><style>body{font-family:sans-serif;max-width:60em;margin:1em auto}"
		    "pre{background:#f4f4f4;padding:.5em;overflow-x:auto}td,th{padding:.2em .6em;"
		    "text-align:left}</style></head><body>\n");
}

static void
html_plan(struct buf *b, json_t *plan)
{
	static const char *const phases[] = {"pre_checks", "procedure", "verify", "rollback"};
	json_t *s;
	size_t p, i;

	for (p = 0; p < 4; p++) {
		json_t *steps = json_object_get(json_object_get(plan, "phases"), phases[p]);
		if (!json_array_size(steps))
			continue;
		buf_addf(b, "<h3>%s</h3>\n<ol>\n", phases[p]);
		json_array_foreach(steps, i, s) {
			buf_adds(b, "<li>");
			serve_html(b, json_string_value(json_object_get(s, "name")));
			if (json_string_value(json_object_get(s, "cmd"))) {
				buf_adds(b, " <small>on ");
				serve_html(b, json_string_value(json_object_get(s, "target")));
				buf_adds(b, "</small><pre>");
				serve_html(b, json_string_value(json_object_get(s, "cmd")));
				buf_adds(b, "</pre>");
			}
			buf_adds(b, "</li>\n");
		}
		buf_adds(b, "</ol>\n");
	}
}

static void
fail(struct serve_reply *r, unsigned status, const char *text)
{
	r->status = status;
	r->type = "text/plain; charset=utf-8";
	buf_adds(&r->body, text);
	buf_adds(&r->body, "\n");
}

void
serve_page_runbook(const struct serve_opts *o, const char *name, const char *node, bool json,
		   struct serve_reply *r)
{
	struct rbx_err err;
	struct diags d;
	struct runbook *rb = NULL;
	struct strmap none = {0};
	json_t *plan = NULL, *runs = NULL, *doc, *v;
	char *path;
	size_t i;

	/* A name, never a path: /runbooks/../x and the like name no runbook. */
	if (!util_valid_slug(name))
		return fail(r, MHD_HTTP_NOT_FOUND, "no such runbook");
	if (node && !util_valid_node_name(node))
		return fail(r, MHD_HTTP_BAD_REQUEST, "node: not a node name");
	path = runbook_find(name, &err);
	diags_init(&d);
	rb = path ? runbook_load(path, &d) : NULL;
	free(path);
	diags_release(&d);
	if (!rb)
		return fail(r, MHD_HTTP_NOT_FOUND, "no such runbook");
	if (node) {
		struct plan_request rq = {rb, node, &none, o->via, o->inventory};
		if (app_plan(&rq, &plan, &err) != RBX_OK) {
			fail(r, MHD_HTTP_BAD_REQUEST, err.msg);
			runbook_free(rb);
			return;
		}
		char *state_dir = util_state_dir();
		runs = serve_runs_list(state_dir, node, 10);
		free(state_dir);
	}
	r->status = MHD_HTTP_OK;
	if (json) {
		doc = json_pack("{s:s, s:s, s:s, s:s}", "runbook", rb->name, "title", rb->title, "summary",
				rb->summary, "trigger", rb->trigger.summary);
		if (node) {
			json_object_set_new(doc, "node", json_string(node));
			json_object_set(doc, "plan", plan);
			json_object_set(doc, "runs", runs);
			json_object_set_new(doc, "command", json_sprintf("rbx run %s --node %s%s", rb->name,
									 node, o->run_flags ? o->run_flags : ""));
		}
		serve_reply_json(r, doc);
		goto out;
	}
	r->type = "text/html; charset=utf-8";
	html_head(&r->body, rb->title);
	buf_adds(&r->body, "<h1>");
	serve_html(&r->body, rb->title);
	buf_adds(&r->body, "</h1>\n<p>");
	serve_html(&r->body, rb->summary);
	buf_adds(&r->body, "</p>\n<p><b>Trigger:</b> ");
	serve_html(&r->body, rb->trigger.summary);
	buf_adds(&r->body, "</p>\n");
	if (node) {
		buf_adds(&r->body, "<h2>On ");
		serve_html(&r->body, node);
		buf_adds(&r->body, "</h2>\n<p>To run it:</p>\n<pre id=\"command\">rbx run ");
		serve_html(&r->body, rb->name);
		buf_adds(&r->body, " --node ");
		serve_html(&r->body, node);
		serve_html(&r->body, o->run_flags ? o->run_flags : "");
		buf_adds(&r->body, "</pre>\n<h3>Last runs on this node</h3>\n");
		if (!json_array_size(runs))
			buf_adds(&r->body, "<p>None in this state dir.</p>\n");
		else
			buf_adds(&r->body, "<table><tr><th>run</th><th>runbook</th><th>end</th><th>node</th></tr>\n");
		json_array_foreach(runs, i, v) {
			/* A run id is a checked name: safe in a link as it is. */
			buf_addf(&r->body, "<tr><td><a href=\"/runs/%s\">",
				 json_string_value(json_object_get(v, "run")));
			serve_html(&r->body, json_string_value(json_object_get(v, "run")));
			buf_adds(&r->body, "</a></td><td>");
			serve_html(&r->body, json_string_value(json_object_get(v, "runbook")));
			buf_adds(&r->body, "</td><td>");
			serve_html(&r->body, json_string_value(json_object_get(v, "end")));
			buf_adds(&r->body, json_is_true(json_object_get(v, "in_service"))
						   ? "</td><td>in service</td></tr>\n"
						   : "</td><td>left cordoned</td></tr>\n");
		}
		if (json_array_size(runs))
			buf_adds(&r->body, "</table>\n");
		buf_adds(&r->body, "<h2>The plan for this node</h2>\n");
		html_plan(&r->body, plan);
	}
	buf_adds(&r->body, "</body></html>\n");
out:
	json_decref(plan);
	json_decref(runs);
	runbook_free(rb);
}
