/* serve_runs.c - GET /runs/ID and GET /nodes/N: a run's journal as a page (refreshing
 * itself while the run goes on) and a node's history of runs and incidents. */
#include "app/serve.h"

#include <jansson.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/journal.h"

static const char *
js(json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));
	return v ? v : "";
}

/* One line of what a record says, for the page (the journal holds secrets as ***). */
static void
summary(struct buf *b, json_t *rec)
{
	const char *type = js(rec, "type");

	if (!strcmp(type, "state"))
		buf_addf(b, "%s -> %s", js(rec, "from"), js(rec, "to"));
	else if (!strncmp(type, "step_", 5))
		buf_addf(b, "%s/%lld %s %s", js(rec, "phase"),
			 (long long)json_integer_value(json_object_get(rec, "index")), js(rec, "name"),
			 js(rec, "status"));
	else if (!strcmp(type, "run_end"))
		buf_addf(b, "%s, exit %lld %s", js(rec, "state"),
			 (long long)json_integer_value(json_object_get(rec, "exit")), js(rec, "error"));
	else
		buf_addf(b, "%s %s %s", js(rec, "op"), js(rec, "status"), js(rec, "error"));
}

static void
html_open(struct buf *b, const char *title, bool refresh)
{
	buf_adds(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
	if (refresh) /* a live run: the page follows it without any script */
		buf_adds(b, "<meta http-equiv=\"refresh\" content=\"2\">");
	buf_adds(b, "<title>");
	serve_html(b, title);
	buf_adds(b, "</title><style>body{font-family:sans-serif;max-width:70em;margin:1em auto}"
		    "td,th{padding:.2em .6em;text-align:left;vertical-align:top}</style></head><body>\n");
}

void
serve_page_run(const char *id, bool json, struct serve_reply *r)
{
	char *state_dir, *path;
	struct rbx_err err;
	json_t *recs, *rec;
	bool ended;
	size_t i;

	if (!journal_valid_run_id(id)) {
		r->status = MHD_HTTP_NOT_FOUND;
		r->type = "text/plain; charset=utf-8";
		buf_adds(&r->body, "no such run\n");
		return;
	}
	state_dir = util_state_dir();
	path = journal_run_path(state_dir, id);
	recs = journal_read(path, NULL, NULL, &err);
	free(path);
	free(state_dir);
	if (!recs) {
		r->status = MHD_HTTP_NOT_FOUND;
		r->type = "text/plain; charset=utf-8";
		buf_adds(&r->body, "no such run\n");
		return;
	}
	ended = !strcmp(js(json_array_get(recs, json_array_size(recs) - 1), "type"), "run_end");
	r->status = MHD_HTTP_OK;
	if (json) {
		/* "o" hands recs to the wrapper, whose decref frees both. */
		serve_reply_json(r, json_pack("{s:s, s:b, s:o}", "run", id, "ended", ended, "records", recs));
		return;
	}
	r->type = "text/html; charset=utf-8";
	html_open(&r->body, id, !ended);
	buf_adds(&r->body, "<h1>Run ");
	serve_html(&r->body, id);
	buf_adds(&r->body, "</h1>\n<p>");
	serve_html(&r->body, js(json_array_get(recs, 0), "runbook"));
	buf_adds(&r->body, " on <a href=\"/nodes/");
	serve_html(&r->body, js(json_array_get(recs, 0), "node"));
	buf_adds(&r->body, "\">");
	serve_html(&r->body, js(json_array_get(recs, 0), "node"));
	buf_adds(&r->body, ended ? "</a>: ended.</p>\n" : "</a>: still going; this page follows it.</p>\n");
	buf_adds(&r->body, "<table id=\"journal\"><tr><th>time</th><th>record</th><th>what</th></tr>\n");
	json_array_foreach(recs, i, rec) {
		struct buf line;
		buf_init(&line, 0);
		summary(&line, rec);
		buf_adds(&r->body, "<tr><td>");
		serve_html(&r->body, js(rec, "ts"));
		buf_adds(&r->body, "</td><td>");
		serve_html(&r->body, js(rec, "type"));
		buf_adds(&r->body, "</td><td>");
		serve_html(&r->body, line.data ? line.data : "");
		buf_adds(&r->body, "</td></tr>\n");
		buf_release(&line);
	}
	buf_adds(&r->body, "</table>\n</body></html>\n");
	json_decref(recs);
}

void
serve_page_node(const char *node, bool json, struct serve_reply *r)
{
	char *state_dir;
	json_t *runs, *v;
	size_t i;

	if (!util_valid_node_name(node)) {
		r->status = MHD_HTTP_BAD_REQUEST;
		r->type = "text/plain; charset=utf-8";
		buf_adds(&r->body, "not a node name\n");
		return;
	}
	state_dir = util_state_dir();
	runs = serve_runs_list(state_dir, node, 100);
	free(state_dir);
	r->status = MHD_HTTP_OK;
	if (json)
		return serve_reply_json(r, json_pack("{s:s, s:o}", "node", node, "runs", runs));
	r->type = "text/html; charset=utf-8";
	html_open(&r->body, node, false);
	buf_adds(&r->body, "<h1>Node ");
	serve_html(&r->body, node);
	buf_adds(&r->body, "</h1>\n<table id=\"runs\"><tr><th>run</th><th>runbook</th><th>end</th>"
			   "<th>node after</th><th>asked by</th></tr>\n");
	json_array_foreach(runs, i, v) {
		/* Run ids and runbook names are checked names: safe in a link as they are. */
		buf_addf(&r->body, "<tr><td><a href=\"/runs/%s\">%s</a></td><td>", js(v, "run"), js(v, "run"));
		serve_html(&r->body, js(v, "runbook"));
		buf_adds(&r->body, "</td><td>");
		serve_html(&r->body, js(v, "end"));
		buf_adds(&r->body, json_is_true(json_object_get(v, "in_service")) ? "</td><td>in service"
										  : "</td><td>cordoned");
		buf_adds(&r->body, "</td><td>");
		serve_html(&r->body, js(v, "requested_by"));
		buf_adds(&r->body, "</td></tr>\n");
	}
	buf_adds(&r->body, "</table>\n</body></html>\n");
	json_decref(runs);
}
