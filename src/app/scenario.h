/* scenario.h - rbx test's scenarios: a file beside each runbook (DIR/tests/NAME.yaml)
 * saying how to run it on a simulated node (faults, stubs, answers) and what must hold. */
#ifndef RBX_SCENARIO_H
#define RBX_SCENARIO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "backends/registry.h"
#include "base/diag.h"
#include "base/util.h"
#include "core/runbook.h"

enum scenario_node { SCEN_NODE_ANY, SCEN_NODE_IN_SERVICE, SCEN_NODE_CORDONED };

struct scenario_expect {
	int exit;	/* -1: any */
	char *state;	/* the run's end state (SUCCEEDED, FAILED, ...); NULL: any */
	enum scenario_node node;
	char *reason;	/* ERE the cordon reason must match (NULL: any) */
	char **ran, **skipped, **output, **state_has, **state_lacks, **files;
	size_t nran, nskipped, noutput, nstate_has, nstate_lacks, nfiles;
	json_t *node_state; /* {PATH: VALUE}: the simulated node's state after */
};

struct scenario {
	char *name;
	struct srcpos pos;
	char *node;		/* the simulated node's name (n42) */
	char **faults;		/* KEY=VALUE or flags; node_type comes first as type=T */
	size_t nfaults;
	char **params;		/* KEY=VALUE, as --param takes them */
	size_t nparams;
	bool yes;		/* answer yes to confirmations */
	char **answers;		/* STEP=yes|no: a confirm step's own answer, as --answer */
	size_t nanswers;
	bool json;		/* rbx run reports as JSON (what `output` patterns read) */
	json_t *stubs;		/* {COMMAND: [{stdout, stderr, exit}...]} */
	long long timeout_ms;
	struct scenario_expect expect;
};

/* A coverage gap the file owns up to: a step that never runs, or a `when` side never seen. */
struct scenario_waiver {
	char *step;
	int side; /* -1: the step itself; 1/0: its `when` seen true/false */
	char *why;
	struct srcpos pos;
};

struct scenario_file {
	char *path;
	char *runbook_path;
	struct runbook *rb;
	struct scenario *items;
	size_t n;
	struct scenario_waiver *waivers;
	size_t nwaivers;
};

/* The scenario file of a runbook file: DIR/tests/NAME.yaml (allocated). */
char *scenario_path_for(const char *runbook_path);
/*
 * Load a scenario file and its runbook (DIR/NAME.yaml beside tests/, or `runbook:`).
 * NULL with every fault in d at file:line:col: an unknown key, a fault the simulation
 * does not know, a stub for a command the runbook never calls, a step that is not one.
 */
struct scenario_file *scenario_file_load(const char *path, const struct sim_ops *sim,
					 struct diags *d);
void scenario_file_free(struct scenario_file *f);

#endif
