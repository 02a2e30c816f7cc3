/* cmd_log.c - `rbx log RUN`: a run's journal, as lines for people or as the raw
 * JSON records, ending with where the run stands. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "io/journal.h"
#include "cli/report.h"
#include "core/resume.h"

static const struct opt log_opts[] = {
	{"format", 'f', "FMT", "text (default) or json (the journal's records)", false},
	{NULL, 0, NULL, NULL, false},
};

static enum rbx_status
log_exec(struct args *a, struct rbx_err *err)
{
	static const char *const formats[] = {"text", "json", NULL};
	const char *id = a->argv[0], *format;
	char *state_dir, *path;
	json_t *recs, *rec, *where;
	int torn = 0;
	size_t i;

	if (args_format(a, "text", formats, &format, err) < 0)
		return RBX_USAGE;
	if (!journal_valid_run_id(id))
		return err_set(err, "'%s' is not a run id (see 'rbx runs')", id), RBX_USAGE;
	state_dir = util_state_dir();
	path = journal_run_path(state_dir, id);
	recs = journal_read(path, &torn, NULL, err);
	free(state_dir);
	free(path);
	if (!recs)
		return RBX_USAGE;
	json_array_foreach(recs, i, rec) {
		if (!strcmp(format, "json")) {
			char *line = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
			printf("%s\n", line);
			free(line);
		} else {
			report_record_line(stdout, rec);
		}
	}
	where = resume_where(recs);
	if (strcmp(format, "json") && !json_array_size(recs)) {
		printf("the run never began (its journal holds no record): nothing was changed; "
		       "start it again with rbx run\n");
	} else if (strcmp(format, "json")) {
		if (torn)
			printf("(the last line was torn by a crash and is ignored)\n");
		if (!json_is_true(json_object_get(where, "finished"))) {
			const char *doubt = json_string_value(json_object_get(where, "in_doubt"));
			printf("UNFINISHED: the run stopped in %s (attempt %lld); the node is %s\n",
			       json_string_value(json_object_get(where, "state")),
			       (long long)json_integer_value(json_object_get(where, "attempt")),
			       json_is_true(json_object_get(where, "cordoned")) ? "cordoned by this run"
										: "not cordoned by it");
			if (doubt)
				printf("  in doubt: \"%s\" started and has no end\n", doubt);
			printf("  continue with: rbx resume %s\n", id);
		}
	}
	json_decref(where);
	json_decref(recs);
	return RBX_OK;
}

const struct cmd cmd_log = {
	"log", "RUN [--format text|json]", "show a run's journal and where it stands", log_opts, 1,
	1, log_exec,
};
