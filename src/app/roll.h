/* roll.h - rbx roll: one runbook over many nodes in batches, each node a full run with
 * its own journal and locks, stopping once failures pass a limit; resumable. */
#ifndef RBX_ROLL_H
#define RBX_ROLL_H

#include <stdbool.h>

#include "app/runner.h"
#include "base/util.h"

struct roll_opts {
	const char *runbook;
	const char *nodes; /* a hostlist: n[001-128] */
	int batch;	   /* nodes at once, >= 1 */
	int max_failures;  /* stop starting nodes once failures exceed this */
	const char *halt_on_alert; /* "label=value,...": halt when it fires on a node done */
	struct runner_opts run; /* what each node's run gets (node and run_id set per node) */
};

/* Roll ids name a file in $STATE/rolls; they start with "roll-". */
bool roll_is_id(const char *id);

/* Run the roll; returns the exit code (0 only when every node succeeded). */
enum rbx_status roll_exec(const struct roll_opts *o, struct rbx_err *err);
/* Continue a roll from its journal: unfinished runs resumed, unstarted nodes run. */
enum rbx_status roll_resume(const struct runner_opts *o, struct rbx_err *err);

#endif
