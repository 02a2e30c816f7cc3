/* cmd_schema.c - `rbx schema`: the runbook format's reference, printed from the
 * same table the loader validates against (docs/runbook-format.md embeds it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "core/schema.h"

static const struct opt schema_opts[] = {
	{"format", 0, "markdown|json-schema", "the reference (default), or a JSON Schema 2020-12 "
						"for editors and CI", false},
	{NULL, 0, NULL, NULL, false},
};

static enum rbx_status
schema_exec(struct args *a, struct rbx_err *err)
{
	static const char *const formats[] = {"markdown", "json-schema", NULL};
	const char *format;

	if (args_format(a, "markdown", formats, &format, err) < 0)
		return RBX_USAGE;
	if (!strcmp(format, "json-schema")) {
		json_t *doc = schema_json();
		char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("%s\n", text);
		free(text);
		json_decref(doc);
		return RBX_OK;
	}
	schema_print_markdown(stdout);
	return RBX_OK;
}

const struct cmd cmd_schema = {
	"schema", "[--format markdown|json-schema]",
	"print the runbook format reference (Markdown), or a JSON Schema, from the loader's schema",
	schema_opts, 0, 0, schema_exec,
};
