/* cmd_lab.c - `rbx lab inject|show|reset NODE`: set the scene on a simulated
 * node, for a demo, a test, or practising a runbook before the real night. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "lab/lab.h"

static const struct opt lab_opts[] = {
	{"format", 'f', "FMT", "for show: text (default) or json", false},
	{NULL, 0, NULL, NULL, false},
};

static enum rbx_status
lab_exec(struct args *a, struct rbx_err *err)
{
	const char *verb = a->argv[0], *node = a->argv[1];
	char *state_dir;
	int r;

	if (!util_valid_node_name(node))
		return err_set(err, "'%s' is not a valid node name", node), RBX_USAGE;
	state_dir = util_state_dir();
	if (util_state_dir_ready(state_dir, err) < 0) {
		free(state_dir);
		return RBX_FAILED;
	}
	if (!strcmp(verb, "inject")) {
		if (a->argc < 3) {
			free(state_dir);
			return err_set(err, "rbx lab inject NODE FAULT...; faults:\n%s", lab_fault_help_text()),
			       RBX_USAGE;
		}
		r = lab_inject(state_dir, node, a->argc - 2, a->argv + 2, err);
		if (r == 0)
			printf("lab node %s: injected", node);
		for (int i = 2; r == 0 && i < a->argc; i++)
			printf(" %s", a->argv[i]);
		if (r == 0)
			printf("\n");
	} else if (!strcmp(verb, "show")) {
		const char *f = args_get(a, "format");
		struct buf out;
		buf_init(&out, 0);
		r = lab_show(state_dir, node, f && !strcmp(f, "json"), &out, err);
		fputs(out.data, stdout);
		buf_release(&out);
	} else if (!strcmp(verb, "reset")) {
		r = lab_reset(state_dir, node, err);
		if (r == 0)
			printf("lab node %s: reset to healthy\n", node);
	} else {
		free(state_dir);
		return err_set(err, "rbx lab: '%s' is not inject, show or reset", verb), RBX_USAGE;
	}
	free(state_dir);
	return r == 0 ? RBX_OK : RBX_USAGE;
}

const struct cmd cmd_lab = {
	"lab", "inject|show|reset NODE [FAULT...]",
	"set the scene on a simulated lab node (faults: xid=N gpu=I, dcgm=fail, persistent, ...)",
	lab_opts, 2, -1, lab_exec,
};
