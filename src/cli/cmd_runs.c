/* cmd_runs.c - `rbx runs`: the runs in the journal, unfinished first (a node may be
 * half-repaired there), then finished ones, newest first. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "io/journal.h"
#include "core/resume.h"

static const struct opt runs_opts[] = {
	{"format", 'f', "FMT", "text (default) or json", false},
	{NULL, 0, NULL, NULL, false},
};

/* A run's summary from its journal: first and last records. */
static json_t *
summarize(const char *state_dir, const char *id)
{
	struct rbx_err err;
	char *path = journal_run_path(state_dir, id);
	int torn = 0;
	json_t *recs = journal_read(path, &torn, NULL, &err), *first, *last, *s, *where;

	free(path);
	if (!recs) {
		json_decref(recs);
		return json_pack("{s:s, s:s, s:b}", "run", id, "state", "UNREADABLE", "finished", 0);
	}
	if (!json_array_size(recs)) {
		/* Stopped before its first record: by the write-ahead rule nothing happened. */
		json_decref(recs);
		return json_pack("{s:s, s:s, s:b, s:b}", "run", id, "state", "NEVER_BEGAN", "finished",
				 1, "cordoned", 0);
	}
	first = json_array_get(recs, 0);
	last = json_array_get(recs, json_array_size(recs) - 1);
	where = resume_where(recs);
	s = json_pack("{s:s, s:s?, s:s?, s:s?, s:O, s:O, s:O, s:s?, s:i}", "run", id, "runbook",
		      json_string_value(json_object_get(first, "runbook")), "node",
		      json_string_value(json_object_get(first, "node")), "started",
		      json_string_value(json_object_get(first, "ts")), "state",
		      json_object_get(where, "state"), "finished", json_object_get(where, "finished"),
		      "cordoned", json_object_get(where, "cordoned"), "ended",
		      json_string_value(json_object_get(last, "ts")), "torn", torn);
	json_decref(where);
	json_decref(recs);
	return s;
}

static enum rbx_status
runs_exec(struct args *a, struct rbx_err *err)
{
	static const char *const formats[] = {"text", "json", NULL};
	char *state_dir = util_state_dir(), **ids = journal_list_runs(state_dir);
	json_t *all = json_array(), *s;
	const char *format;
	size_t i, unfinished = 0;
	int pass;

	if (args_format(a, "text", formats, &format, err) < 0) {
		journal_free_list(ids);
		free(state_dir);
		json_decref(all);
		return RBX_USAGE;
	}
	/* Unfinished runs first: they are the ones that need someone. */
	for (pass = 0; pass < 2; pass++)
		for (i = 0; ids[i]; i++) {
			s = summarize(state_dir, ids[i]);
			if (json_is_true(json_object_get(s, "finished")) == (pass == 0)) {
				json_decref(s);
				continue;
			}
			unfinished += pass == 0;
			json_array_append_new(all, s);
		}
	if (!strcmp(format, "json")) {
		json_dumpf(all, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
	} else {
		if (json_array_size(all))
			printf("%-44s %-28s %-10s %-16s %s\n", "RUN", "RUNBOOK", "NODE", "STATE",
			       "STARTED");
		json_array_foreach(all, i, s) {
			char st[40];
			/* An unfinished run shows the state it stopped in, and says so. */
			snprintf(st, sizeof(st), "%s%s", json_string_value(json_object_get(s, "state")),
				 json_is_true(json_object_get(s, "finished")) ? "" : "*");
			printf("%-44s %-28s %-10s %-16s %s\n",
			       json_string_value(json_object_get(s, "run")),
			       json_string_value(json_object_get(s, "runbook")) ?: "?",
			       json_string_value(json_object_get(s, "node")) ?: "?", st,
			       json_string_value(json_object_get(s, "started")) ?: "?");
		}
		if (unfinished)
			printf("* unfinished: 'rbx log RUN' shows where it stands, 'rbx resume RUN' "
			       "continues it\n");
	}
	json_decref(all);
	journal_free_list(ids);
	free(state_dir);
	return RBX_OK;
}

const struct cmd cmd_runs = {
	"runs", "[--format text|json]", "list runs from the journal, unfinished first", runs_opts, 0,
	0, runs_exec,
};
