/* serve_incidents.c - POST /alertmanager and GET /: each notification's alerts recorded as
 * incidents (matched runbook and node, or why not) in STATE/incidents, and listed. */
#include "app/serve.h"

#include <dirent.h>
#include <jansson.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alert.h"
#include "core/inventory.h"
#include "core/runbook.h"
#include "io/journal.h"

/* STATE/incidents/FINGERPRINT@STARTSAT.json (both checked by alert_parse), ':' as '-'. */
static char *
incident_path(const char *state_dir, const struct alert_item *it)
{
	char *p = xasprintf("%s/incidents/%s@%s.json", state_dir, it->fingerprint, it->starts_at), *c;

	for (c = strrchr(p, '@'); *c; c++)
		if (*c == ':')
			*c = '-';
	return p;
}

static int
record(const char *state_dir, const struct alert_item *it, const struct alert_route *rt,
       struct rbx_err *err)
{
	char *dir = xasprintf("%s/incidents", state_dir), *path = incident_path(state_dir, it), *text;
	char now[40];
	json_t *labels = json_object(), *o;
	size_t i;
	int rc = -1;

	util_iso_time(util_wall_ms(), now, sizeof(now));
	for (i = 0; i < it->labels.n; i++)
		json_object_set_new(labels, it->labels.keys[i], journal_string(it->labels.vals[i]));
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:s?, s:s, s:o}", "alertname",
		      strmap_get(&it->labels, "alertname"), "fingerprint", it->fingerprint, "starts_at",
		      it->starts_at, "status", it->status, "action", rt->action, "runbook",
		      rt->rb ? rt->rb->name : NULL, "node", rt->node, "received", now, "labels", labels);
	if (*rt->why)
		json_object_set_new(o, "why", journal_string(rt->why));
	text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (util_mkdir_p(dir, 0700, err) == 0)
		rc = util_write_file_atomic(path, text, strlen(text), 0600, err);
	free(text);
	json_decref(o);
	free(dir);
	free(path);
	return rc;
}

/*
 * The catalogue, loaded once and again only when a runbook file changes: parsing all of
 * it took ~10 ms of every webhook post. Only MHD's one polling thread calls in here.
 */
static struct {
	int loaded;
	unsigned long long stamp;
	struct runbook **rbs;
	size_t n;
} cat;

static void
catalogue_get(struct runbook ***rbs, size_t *n)
{
	unsigned long long stamp = runbook_catalogue_stamp();
	struct diags d;

	if (!cat.loaded || stamp != cat.stamp) {
		runbooks_free(cat.rbs, cat.n);
		diags_init(&d);
		runbook_load_catalogue(&cat.rbs, &cat.n, &d);
		diags_release(&d);
		cat.stamp = stamp;
		cat.loaded = 1;
	}
	*rbs = cat.rbs;
	*n = cat.n;
}

void
serve_catalogue_release(void)
{
	runbooks_free(cat.rbs, cat.n);
	memset(&cat, 0, sizeof(cat));
}

void
serve_receive(const struct serve_opts *o, const char *body, size_t len, struct serve_reply *r)
{
	struct alert_note note;
	struct rbx_err err;
	struct runbook **rbs = NULL;
	struct inventory *inv = NULL;
	struct diags d;
	char **nodes = NULL, *state_dir = NULL, *inv_path = NULL;
	size_t n = 0, nn = 0, i;
	json_t *out;

	r->type = "application/json";
	if (alert_parse(body, len, &note, &err) < 0) {
		r->status = MHD_HTTP_BAD_REQUEST;
		/* The fault names the bytes it found, which need not be UTF-8: as the journal
		 * takes them (json_pack would give NULL, and the answer with it). */
		out = json_object();
		json_object_set_new(out, "error", journal_string(err.msg));
		goto reply;
	}
	catalogue_get(&rbs, &n);
	diags_init(&d);
	if (!o->via && (inv_path = inventory_default_path(o->inventory)) && (inv = inventory_load(inv_path, &d)))
		nodes = inventory_nodes(inv, &nn);
	diags_release(&d);
	state_dir = util_state_dir();
	out = json_pack("{s:[]}", "incidents");
	r->status = MHD_HTTP_OK;
	if (util_state_dir_ready(state_dir, &err) < 0) {
		r->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		json_object_set_new(out, "error", json_string(err.msg));
	}
	for (i = 0; i < note.n && r->status == MHD_HTTP_OK; i++) {
		struct alert_route rt;
		/* No inventory and no simulated nodes: every node name is refused, never guessed. */
		char none[] = "";
		char *nolist[] = {none};
		alert_route(&note.items[i], rbs, n, nodes ? nodes : (o->via ? NULL : nolist),
			    nodes ? nn : (o->via ? 0 : 1), &rt);
		if (!strcmp(rt.action, "would-run")) {
			char pool[128] = "";
			struct node_conf nc;
			const char *auto_action;
			memset(&nc, 0, sizeof(nc));
			if (inv && inventory_resolve(inv, rt.node, &nc, &err) == 0 &&
			    strmap_get(&nc.labels, "pool"))
				snprintf(pool, sizeof(pool), "%s", strmap_get(&nc.labels, "pool"));
			node_conf_release(&nc);
			auto_action = serve_auto_consider(o, &note.items[i], rt.rb->name, rt.node, pool,
							  rt.why, sizeof(rt.why));
			rt.action = auto_action ? auto_action : "waiting";
		}
		if (record(state_dir, &note.items[i], &rt, &err) < 0) {
			r->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
			json_object_set_new(out, "error", json_string(err.msg));
		}
		json_array_append_new(json_object_get(out, "incidents"),
				      json_pack("{s:s, s:s, s:s?, s:s?}", "alertname",
						strmap_get(&note.items[i].labels, "alertname"), "action",
						rt.action, "runbook", rt.rb ? rt.rb->name : NULL, "node",
						rt.node));
		free(rt.node);
	}
	alert_note_release(&note);
	hostlist_free(nodes, nn);
	inventory_free(inv);
	free(inv_path);
	free(state_dir);
reply:
	serve_reply_json(r, out);
}

static int
newer_first(const void *a, const void *b)
{
	return strcmp(json_string_value(json_object_get(*(json_t *const *)b, "received")) ?: "",
		      json_string_value(json_object_get(*(json_t *const *)a, "received")) ?: "");
}

static json_t *
incidents(const char *state_dir)
{
	char *dir = xasprintf("%s/incidents", state_dir);
	DIR *dp = opendir(dir);
	struct dirent *de;
	json_t **v = NULL, *out = json_array();
	size_t n = 0, i;

	while (dp && (de = readdir(dp)) != NULL) {
		struct rbx_err err;
		size_t len;
		char *path, *text;
		json_t *o;
		if (de->d_name[0] == '.' || !strstr(de->d_name, ".json"))
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		text = util_read_file(path, 65536, &len, &err);
		free(path);
		o = text ? json_loadb(text, len, 0, NULL) : NULL;
		free(text);
		if (!o)
			continue;
		v = xrealloc(v, (n + 1) * sizeof(*v));
		v[n++] = o;
	}
	if (dp)
		closedir(dp);
	if (n)
		qsort(v, n, sizeof(*v), newer_first);
	for (i = 0; i < n; i++)
		if (i < 100)
			json_array_append_new(out, v[i]);
		else
			json_decref(v[i]);
	free(v);
	free(dir);
	return out;
}

size_t
serve_incidents_open(void)
{
	char *state_dir = util_state_dir();
	json_t *inc = incidents(state_dir), *v;
	size_t i, n = 0;

	json_array_foreach(inc, i, v)
		n += !strcmp(json_string_value(json_object_get(v, "status")) ?: "", "firing");
	json_decref(inc);
	free(state_dir);
	return n;
}

static void
cell(struct buf *b, json_t *o, const char *key)
{
	buf_adds(b, "<td>");
	serve_html(b, json_string_value(json_object_get(o, key)) ?: "");
	buf_adds(b, "</td>");
}

void
serve_page_home(const struct serve_opts *o, bool json, struct serve_reply *r)
{
	char *state_dir = util_state_dir();
	json_t *inc = incidents(state_dir), *runs = serve_runs_list(state_dir, NULL, 20), *v;
	size_t i;

	(void)o;
	r->status = MHD_HTTP_OK;
	if (json) {
		serve_reply_json(r, json_pack("{s:O, s:O, s:o}", "incidents", inc, "runs", runs,
					      "breaker", serve_breaker_state()));
		goto out;
	}
	r->type = "text/html; charset=utf-8";
	buf_adds(&r->body, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>rbx"
			   "</title><style>body{font-family:sans-serif;max-width:70em;margin:1em auto}"
			   "td,th{padding:.2em .6em;text-align:left}</style></head><body>\n"
			   "<h1>rbx</h1>\n");
	{
		json_t *br = serve_breaker_state();
		if (json_is_true(json_object_get(br, "tripped"))) {
			buf_adds(&r->body, "<p id=\"breaker\"><b>The breaker is tripped:</b> ");
			serve_html(&r->body, json_string_value(json_object_get(br, "reason")) ?: "");
			buf_adds(&r->body, ". No incident runs by itself until an operator resets it.</p>\n");
		} else {
			buf_adds(&r->body, "<p id=\"breaker\">The breaker is closed.</p>\n");
		}
		json_decref(br);
	}
	buf_adds(&r->body, "<h2>Incidents</h2>\n");
	if (!json_array_size(inc))
		buf_adds(&r->body, "<p>None received.</p>\n");
	else
		buf_adds(&r->body, "<table><tr><th>received</th><th>alert</th><th>status</th>"
				   "<th>runbook</th><th>node</th><th>rbx</th><th>why</th></tr>\n");
	json_array_foreach(inc, i, v) {
		const char *rb = json_string_value(json_object_get(v, "runbook"));
		const char *node = json_string_value(json_object_get(v, "node"));
		buf_adds(&r->body, "<tr>");
		cell(&r->body, v, "received");
		cell(&r->body, v, "alertname");
		cell(&r->body, v, "status");
		buf_adds(&r->body, "<td>");
		if (rb && node) { /* both checked: a slug and a node name */
			buf_addf(&r->body, "<a href=\"/runbooks/%s?node=%s\">", rb, node);
			serve_html(&r->body, rb);
			buf_adds(&r->body, "</a>");
		} else {
			serve_html(&r->body, rb ?: "");
		}
		buf_adds(&r->body, "</td>");
		cell(&r->body, v, "node");
		cell(&r->body, v, "action");
		cell(&r->body, v, "why");
		buf_adds(&r->body, "</tr>\n");
	}
	if (json_array_size(inc))
		buf_adds(&r->body, "</table>\n");
	buf_adds(&r->body, "<h2>Runs</h2>\n<table id=\"runs\"><tr><th>run</th><th>runbook</th><th>node</th>"
			   "<th>state</th></tr>\n");
	json_array_foreach(runs, i, v) {
		/* Escaped in the links too: a file in the state dir names these. */
		buf_adds(&r->body, "<tr><td><a href=\"/runs/");
		serve_html(&r->body, json_string_value(json_object_get(v, "run")));
		buf_adds(&r->body, "\">");
		serve_html(&r->body, json_string_value(json_object_get(v, "run")));
		buf_adds(&r->body, "</a></td>");
		cell(&r->body, v, "runbook");
		buf_adds(&r->body, "<td><a href=\"/nodes/");
		serve_html(&r->body, json_string_value(json_object_get(v, "node")));
		buf_adds(&r->body, "\">");
		serve_html(&r->body, json_string_value(json_object_get(v, "node")));
		buf_adds(&r->body, "</a></td>");
		cell(&r->body, v, "end");
		buf_adds(&r->body, "</tr>\n");
	}
	buf_adds(&r->body, "</table>\n</body></html>\n");
out:
	json_decref(runs);
	json_decref(inc);
	free(state_dir);
}
