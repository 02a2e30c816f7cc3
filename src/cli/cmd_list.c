/* cmd_list.c - `rbx list`: every runbook on the search path, grouped by
 * subsystem; the first of a name along the path wins, as `rbx run` finds it. */
#define _GNU_SOURCE
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "core/runbook.h"
#include "core/schema.h"

static const struct opt list_opts[] = {
	{"format", 'f', "FMT", "text (default) or json", false},
	{NULL, 0, NULL, NULL, false},
};

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static enum rbx_status
list_exec(struct args *a, struct rbx_err *err)
{
	static const char *const formats[] = {"text", "json", NULL};
	char **dirs = runbook_search_path(), **names = xcalloc(1, sizeof(char *));
	size_t n = 0, i, k;
	json_t *all = json_array(), *rec;
	const char *format, *const *sub;
	struct diags d;

	if (args_format(a, "text", formats, &format, err) < 0) {
		runbook_path_free(dirs);
		free(names);
		json_decref(all);
		return RBX_USAGE;
	}
	for (i = 0; dirs[i]; i++) {
		DIR *dp = opendir(dirs[i]);
		struct dirent *de;
		while (dp && (de = readdir(dp)) != NULL) {
			size_t l = strlen(de->d_name);
			if (l < 6 || strcmp(de->d_name + l - 5, ".yaml"))
				continue;
			names = xrealloc(names, (n + 2) * sizeof(char *));
			names[n++] = xstrndup(de->d_name, l - 5);
		}
		if (dp)
			closedir(dp);
	}
	qsort(names, n, sizeof(char *), cmp_str);
	diags_init(&d);
	for (i = 0; i < n; i++) {
		char *path;
		struct runbook *rb;
		if (i && !strcmp(names[i], names[i - 1]))
			continue;
		path = runbook_find(names[i], err);
		rb = path ? runbook_load(path, &d) : NULL;
		rec = json_pack("{s:s, s:s, s:s, s:s, s:b}", "name", names[i], "subsystem",
				rb ? rb->subsystem : "?", "title", rb ? rb->title : "(invalid: see rbx lint)",
				"path", path ? path : "", "valid", rb != NULL);
		json_array_append_new(all, rec);
		runbook_free(rb);
		free(path);
	}
	diags_release(&d);
	if (!strcmp(format, "json")) {
		json_dumpf(all, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
	} else {
		for (sub = schema_subsystems; *sub; sub++) {
			bool header = false;
			json_array_foreach(all, k, rec) {
				if (strcmp(json_string_value(json_object_get(rec, "subsystem")), *sub))
					continue;
				if (!header)
					printf("%s\n", *sub);
				header = true;
				printf("  %-30s %s\n", json_string_value(json_object_get(rec, "name")),
				       json_string_value(json_object_get(rec, "title")));
			}
		}
		json_array_foreach(all, k, rec)
			if (!json_is_true(json_object_get(rec, "valid")))
				printf("  %-30s %s\n", json_string_value(json_object_get(rec, "name")),
				       json_string_value(json_object_get(rec, "title")));
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	runbook_path_free(dirs);
	json_decref(all);
	err->msg[0] = 0;
	return RBX_OK;
}

const struct cmd cmd_list = {
	"list", "[--format text|json]", "list the runbooks on the search path, by subsystem",
	list_opts, 0, 0, list_exec,
};
