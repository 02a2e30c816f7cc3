/* serve_journal.c - what the journals say of runs, read for rbx serve's pages and for its
 * breaker: one summary a run, and the runs of a node or of all, newest first. */
#include "app/serve.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "io/journal.h"

static const char *
js(json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));
	return v ? v : "";
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

