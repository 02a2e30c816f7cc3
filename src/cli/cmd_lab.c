/* cmd_lab.c - `rbx lab inject|show|reset|exec NODE`: set the scene on a simulated
 * node and see what its tools print, for a demo, a test, or practising before the real night. */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "lab/lab.h"

static const struct opt lab_opts[] = {
	{"format", 'f', "FMT", "for show and exec: text (default) or json", false},
	{"param", 'p', "NAME=VALUE", "for exec: export NAME=VALUE to the command (repeatable)", true},
	{NULL, 0, NULL, NULL, false},
};

static bool
valid_var(const char *s)
{
	if (!*s || isdigit((unsigned char)*s))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

/* `rbx lab exec NODE CMD`: CMD as an ssh: step would run it on the simulated node. */
static enum rbx_status
lab_exec_command(struct args *a, const char *state_dir, struct rbx_err *err)
{
	const char *f = args_get(a, "format");
	struct exec_result res;
	size_t i;
	char *e;

	if (a->argc != 3)
		return err_set(err, "rbx lab exec NODE 'COMMAND' [--param NAME=VALUE]..."), RBX_USAGE;
	for (i = 0; i < a->params.n; i++)
		if (!valid_var(a->params.keys[i]))
			return err_set(err, "'%s' is not a variable name ([A-Za-z_][A-Za-z0-9_]*)",
				       a->params.keys[i]),
			       RBX_USAGE;
	if (lab_run_command(state_dir, a->argv[1], a->argv[2], &a->params, &res, err) < 0) {
		exec_result_release(&res);
		return RBX_FAILED;
	}
	e = tail_string(&res.err_tail);
	if (f && !strcmp(f, "json")) {
		json_t *o = json_pack("{s:i, s:s%, s:s}", "status", res.status, "stdout",
				      res.out.data, res.out.len, "stderr", e);
		json_dumpf(o ? o : json_null(), stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(o);
	} else {
		fwrite(res.out.data, 1, res.out.len, stdout);
		fputs(e, stderr);
		if (res.status)
			fprintf(stderr, "rbx lab exec: exit status %d\n", res.status);
	}
	free(e);
	i = (size_t)res.status;
	exec_result_release(&res);
	return i ? RBX_FAILED : RBX_OK;
}

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
	} else if (!strcmp(verb, "exec")) {
		enum rbx_status st = lab_exec_command(a, state_dir, err);
		free(state_dir);
		return st;
	} else if (!strcmp(verb, "reset")) {
		r = lab_reset(state_dir, node, err);
		if (r == 0)
			printf("lab node %s: reset to healthy\n", node);
	} else {
		free(state_dir);
		return err_set(err, "rbx lab: '%s' is not inject, show, reset or exec", verb), RBX_USAGE;
	}
	free(state_dir);
	return r == 0 ? RBX_OK : RBX_USAGE;
}

const struct cmd cmd_lab = {
	"lab", "inject|show|reset NODE [FAULT...] | exec NODE 'COMMAND'",
	"set the scene on a simulated lab node (faults: xid=N gpu=I, dcgm=fail, persistent, ...), "
	"or run a command on it as a step would",
	lab_opts, 2, -1, lab_exec,
};
