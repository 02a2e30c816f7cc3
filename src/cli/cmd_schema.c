/* cmd_schema.c - `rbx schema`: the runbook format's reference, printed from the
 * same table the loader validates against (docs/runbook-format.md embeds it). */
#include <stdio.h>

#include "cli/cmd.h"
#include "core/schema.h"

static const struct opt schema_opts[] = {
	{NULL, 0, NULL, NULL, false},
};

static enum rbx_status
schema_exec(struct args *a, struct rbx_err *err)
{
	(void)a;
	(void)err;
	schema_print_markdown(stdout);
	return RBX_OK;
}

const struct cmd cmd_schema = {
	"schema", "", "print the runbook format reference (Markdown) from the loader's schema",
	schema_opts, 0, 0, schema_exec,
};
