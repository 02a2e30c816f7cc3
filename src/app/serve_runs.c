/* serve_runs.c - GET /runs/ID and GET /nodes/N: a run's journal as a page (refreshing
 * itself while the run goes on) and a node's history of runs and incidents. */
#include "app/serve.h"

#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <signal.h>
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

void
serve_reply_json(struct serve_reply *r, json_t *doc)
{
	char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	r->type = "application/json";
	buf_adds(&r->body, text);
	buf_adds(&r->body, "\n");
	free(text);
	json_decref(doc);
}

/* A journal without its run_end is a run going on while its process lives; otherwise one
 * that stopped (killed, crashed) and waits for `rbx resume`. */
static const char *
open_run_state(json_t *start)
{
	json_int_t pid = json_integer_value(json_object_get(start, "pid"));

	if (pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM))
		return "RUNNING";
	return "UNFINISHED";
}

json_t *
serve_run_summary(const char *state_dir, const char *id)
{
	struct rbx_err err;
	char *path = journal_run_path(state_dir, id);
	json_t *recs = journal_read(path, NULL, NULL, &err), *first, *last, *out;
	bool ended;

	free(path);
	if (!recs)
		return NULL;
	first = json_array_get(recs, 0);
	last = json_array_get(recs, json_array_size(recs) - 1);
	ended = !strcmp(js(last, "type"), "run_end");
	out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:b}", "run", id, "runbook",
			js(first, "runbook"), "node", js(first, "node"), "requested_by",
			js(first, "requested_by"), "started", js(first, "ts"), "end",
			ended ? js(last, "state") : open_run_state(first), "exit",
			ended ? json_integer_value(json_object_get(last, "exit")) : (json_int_t)-1,
			"in_service", ended && json_is_true(json_object_get(last, "node_in_service")));
	json_decref(recs);
	return out;
}

/* The node a run id names: TIME-NODE-SUFFIX (node names may hold '-'). */
static bool
run_of_node(const char *id, const char *node)
{
	size_t n = strlen(node), len = strlen(id);

	return len == 17 + n + 7 && !strncmp(id + 17, node, n) && id[17 + n] == '-';
}

json_t *
serve_runs_list(const char *state_dir, const char *node, size_t max)
{
	char **ids = journal_list_runs(state_dir);
	json_t *out = json_array(), *one;
	size_t i;

	for (i = 0; ids && ids[i] && json_array_size(out) < max; i++)
		if ((!node || run_of_node(ids[i], node)) && (one = serve_run_summary(state_dir, ids[i])))
			json_array_append_new(out, one);
	journal_free_list(ids);
	return out;
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
