/* serve_metrics.c - GET /metrics: what the journals in the state dir say, in Prometheus's
 * text format: runs by end, run and step durations, nodes rbx left cordoned. */
#include "app/serve.h"

#include <jansson.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/journal.h"

static const double bounds[] = {0.1, 1, 10, 60, 300, 1800, 3600, 14400};
#define NB (sizeof(bounds) / sizeof(bounds[0]))

struct hist {
	char *key; /* the label set, rendered: runbook="x" */
	unsigned long long buckets[NB], count;
	double sum;
};

struct tally {
	struct hist *h;
	size_t n;
};

static void
observe(struct tally *t, const char *labels, double seconds)
{
	size_t i, b;

	for (i = 0; i < t->n && strcmp(t->h[i].key, labels); i++)
		;
	if (i == t->n) {
		t->h = xrealloc(t->h, (t->n + 1) * sizeof(*t->h));
		memset(&t->h[t->n], 0, sizeof(*t->h));
		t->h[t->n++].key = xstrdup(labels);
	}
	for (b = 0; b < NB; b++)
		if (seconds <= bounds[b])
			t->h[i].buckets[b]++;
	t->h[i].count++;
	t->h[i].sum += seconds;
}

static void
print_hist(struct buf *b, const char *name, const char *help, struct tally *t)
{
	size_t i, k;

	buf_addf(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
	for (i = 0; i < t->n; i++) {
		for (k = 0; k < NB; k++)
			buf_addf(b, "%s_bucket{%s,le=\"%g\"} %llu\n", name, t->h[i].key, bounds[k],
				 t->h[i].buckets[k]);
		buf_addf(b, "%s_bucket{%s,le=\"+Inf\"} %llu\n%s_sum{%s} %.3f\n%s_count{%s} %llu\n", name,
			 t->h[i].key, t->h[i].count, name, t->h[i].key, t->h[i].sum, name, t->h[i].key,
			 t->h[i].count);
		free(t->h[i].key);
	}
	free(t->h);
}

/* A label value: runbook and state names and node names are plain, but escape anyway. */
static void
label(struct buf *b, const char *name, const char *v)
{
	buf_addf(b, "%s=\"", name);
	for (; v && *v; v++) {
		if (*v == '\\' || *v == '"')
			buf_addf(b, "\\%c", *v);
		else if (*v == '\n')
			buf_adds(b, "\\n");
		else
			buf_add(b, v, 1);
	}
	buf_adds(b, "\"");
}

/* POST /alertmanager answers by status since the server started: 200 400 401 413 500 other. */
static unsigned long long webhook_counts[6];

void
serve_count_webhook(unsigned status)
{
	static const unsigned codes[] = {200, 400, 401, 413, 500};
	size_t i;

	for (i = 0; i < 5 && codes[i] != status; i++)
		;
	webhook_counts[i]++;
}

void
serve_page_metrics(struct serve_reply *r)
{
	char *state_dir = util_state_dir(), **ids = journal_list_runs(state_dir);
	struct tally runs_h = {0}, steps_h = {0};
	struct strmap ends = {0}, held = {0};
	size_t i, k;

	for (i = 0; ids && ids[i]; i++) {
		struct rbx_err err;
		char *path = journal_run_path(state_dir, ids[i]);
		json_t *recs = journal_read(path, NULL, NULL, &err), *rec;
		const char *rb, *node, *state = "UNFINISHED";
		struct buf key;
		free(path);
		if (!recs || !json_array_size(recs)) {
			json_decref(recs);
			continue;
		}
		rb = json_string_value(json_object_get(json_array_get(recs, 0), "runbook")) ?: "?";
		node = json_string_value(json_object_get(json_array_get(recs, 0), "node")) ?: "?";
		buf_init(&key, 0);
		label(&key, "runbook", rb);
		json_array_foreach(recs, k, rec) {
			const char *type = json_string_value(json_object_get(rec, "type")) ?: "";
			if (!strcmp(type, "step_end"))
				observe(&steps_h, key.data,
					(double)json_integer_value(json_object_get(rec, "duration_ms")) / 1000.0);
			else if (!strcmp(type, "run_end")) {
				state = json_string_value(json_object_get(rec, "state")) ?: "?";
				observe(&runs_h, key.data,
					(double)json_integer_value(json_object_get(rec, "duration_ms")) / 1000.0);
				/* Newest first: the node's first run seen is its last. */
				if (!strmap_get(&held, node))
					strmap_set(&held, node, json_is_true(json_object_get(rec, "node_in_service"))
									? "0" : "1");
			}
		}
		buf_adds(&key, ",");
		label(&key, "state", state);
		const char *was = strmap_get(&ends, key.data);
		char n[32];
		snprintf(n, sizeof(n), "%ld", (was ? strtol(was, NULL, 10) : 0) + 1);
		strmap_set(&ends, key.data, n);
		buf_release(&key);
		json_decref(recs);
	}
	r->status = MHD_HTTP_OK;
	r->type = "text/plain; version=0.0.4; charset=utf-8";
	buf_adds(&r->body, "# HELP rbx_runs_total Runs in the state dir, by runbook and how they ended.\n"
			   "# TYPE rbx_runs_total counter\n");
	for (i = 0; i < ends.n; i++)
		buf_addf(&r->body, "rbx_runs_total{%s} %s\n", ends.keys[i], ends.vals[i]);
	print_hist(&r->body, "rbx_run_duration_seconds", "How long ended runs took, by runbook.", &runs_h);
	print_hist(&r->body, "rbx_step_duration_seconds", "How long steps took, by runbook.", &steps_h);
	buf_adds(&r->body, "# HELP rbx_node_held_cordoned 1 when the node's last run left it out of "
			   "service.\n# TYPE rbx_node_held_cordoned gauge\n");
	for (i = 0; i < held.n; i++) {
		buf_adds(&r->body, "rbx_node_held_cordoned{");
		label(&r->body, "node", held.keys[i]);
		buf_addf(&r->body, "} %s\n", held.vals[i]);
	}
	{
		static const char *const codes[] = {"200", "400", "401", "413", "500", "other"};
		const unsigned long long *n = webhook_counts;
		buf_adds(&r->body, "# HELP rbx_webhook_requests_total Alertmanager webhook posts answered, "
				   "by status, since rbx serve started.\n# TYPE rbx_webhook_requests_total counter\n");
		for (i = 0; i < 6; i++)
			buf_addf(&r->body, "rbx_webhook_requests_total{code=\"%s\"} %llu\n", codes[i], n[i]);
		buf_addf(&r->body, "# HELP rbx_incidents_open Firing incidents recorded and not resolved.\n"
				   "# TYPE rbx_incidents_open gauge\nrbx_incidents_open %zu\n",
			 serve_incidents_open());
	}
	{
		json_t *br = serve_breaker_state();
		buf_addf(&r->body, "# HELP rbx_breaker_tripped 1 while the breaker holds auto runs back.\n"
				   "# TYPE rbx_breaker_tripped gauge\nrbx_breaker_tripped %d\n",
			 json_is_true(json_object_get(br, "tripped")) ? 1 : 0);
		json_decref(br);
	}
	strmap_release(&ends);
	strmap_release(&held);
	journal_free_list(ids);
	free(state_dir);
}
