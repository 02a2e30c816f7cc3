/* cmd_graph.c - `rbx graph RUNBOOK`: the engine's transition table as Mermaid or
 * DOT, with the runbook's own steps written into each phase. */
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"
#include "core/engine.h"
#include "core/runbook.h"

static const struct opt graph_opts[] = {
	{"format", 'f', "FMT", "mermaid (default) or dot", false},
	{NULL, 0, NULL, NULL, false},
};

static int
state_phase(enum run_state s)
{
	switch (s) {
	case RS_PRECHECK: return PHASE_PRE_CHECKS;
	case RS_PROCEDURE: return PHASE_PROCEDURE;
	case RS_VERIFY: return PHASE_VERIFY;
	case RS_ROLLBACK: return PHASE_ROLLBACK;
	default: return -1;
	}
}

/* The label of a state node: its name and, for a phase, its steps. */
static void
label(const struct runbook *rb, enum run_state s, bool dot, struct buf *b)
{
	int p = state_phase(s);
	size_t i;

	buf_adds(b, run_state_name(s));
	if (s == RS_GUARD)
		buf_addf(b, "%s%s", dot ? "\\n" : "<br/>",
			 rb->guard.none ? "none" : rb->guard.drain ? "cordon + drain" : "cordon");
	if (p < 0)
		return;
	for (i = 0; i < rb->nsteps[p]; i++) {
		const char *n = rb->steps[p][i]->name;
		buf_addf(b, "%s%zu. ", dot ? "\\n" : "<br/>", i + 1);
		for (; *n; n++) {
			if (*n == '"')
				buf_adds(b, dot ? "\\\"" : "#quot;");
			else
				buf_add(b, n, 1);
		}
	}
}

static enum rbx_status
graph_exec(struct args *a, struct rbx_err *err)
{
	static const char *const formats[] = {"mermaid", "dot", NULL};
	const char *format;
	struct runbook *rb;
	bool dot;
	size_t i;
	int s;

	if (args_format(a, "mermaid", formats, &format, err) < 0)
		return RBX_USAGE;
	rb = cmd_load_runbook(a->argv[0], err);
	if (!rb)
		return RBX_USAGE;
	dot = !strcmp(format, "dot");
	printf(dot ? "digraph \"%s\" {\n  rankdir=TB;\n  node [shape=box];\n" : "flowchart TD\n",
	       rb->name);
	for (s = 0; s < RS_COUNT; s++) {
		struct buf b;
		buf_init(&b, 0);
		label(rb, (enum run_state)s, dot, &b);
		if (dot)
			printf("  %s [label=\"%s\"%s];\n", run_state_name((enum run_state)s), b.data,
			       run_state_terminal((enum run_state)s) ? ", shape=doubleoctagon" : "");
		else
			printf("  %s[\"%s\"]\n", run_state_name((enum run_state)s), b.data);
		buf_release(&b);
	}
	for (i = 0; i < engine_ntransitions; i++) {
		const struct transition *t = &engine_transitions[i];
		if (t->to == RS_INTERRUPTED && t->from != RS_PROCEDURE)
			continue; /* one interrupt edge is enough to read the picture */
		if (dot)
			printf("  %s -> %s [label=\"%s\"];\n", run_state_name(t->from),
			       run_state_name(t->to), t->label);
		else
			printf("  %s -->|\"%s\"| %s\n", run_state_name(t->from), t->label,
			       run_state_name(t->to));
	}
	if (dot)
		printf("}\n");
	runbook_free(rb);
	return RBX_OK;
}

const struct cmd cmd_graph = {
	"graph", "RUNBOOK [--format mermaid|dot]",
	"print the run state machine with the runbook's steps filled in", graph_opts, 1, 1,
	graph_exec,
};
