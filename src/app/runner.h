/* runner.h - one run of a runbook on one node, from options to exit code: checks,
 * the node lock, the journal, transports and guard. Shared by run, resume and roll. */
#ifndef RBX_RUNNER_H
#define RBX_RUNNER_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "app/ui.h"
#include "core/engine.h"
#include "base/util.h"

struct runner_opts {
	const char *runbook;	     /* name or path; ignored by a resume */
	const char *node;	     /* ignored by a resume */
	const struct strmap *params; /* a resume takes only secret ones */
	const char *inventory;
	const char *format; /* text or json */
	const char *run_id; /* a resume: the run; else NULL, or the id to use (roll) */
	const char *requested_by; /* who asked for the run when it is not its user (rbx serve) */
	bool resume;
	bool yes;
	const struct strmap *answers; /* confirm steps answered in advance (NULL: none) */
	bool adopt;
	const char *via; /* a simulated transport named instead of an inventory */
	const struct app_ui *ui; /* how the run speaks to its user (NULL: silent) */
	bool accept_new_host_key;
	enum in_doubt_choice in_doubt;
	long long fleet_wait_ms; /* how long to wait for a fleet slot; -1 forever */
};

struct runner_result {
	char run_id[160];
	char node[80];
	enum run_state end; /* RS_COUNT when no run began (a usage error, a lock) */
	int64_t duration_ms;
};

/* Run (or resume) and return the exit code of DESIGN.md section 6; err says why. */
enum rbx_status runner_exec(const struct runner_opts *o, struct runner_result *res, struct rbx_err *err);

/* Find, load and lint a runbook; its diagnostics go to ui (UI_DIAG). NULL with err on errors. */
struct runbook *runner_load_runbook(const char *name, const struct app_ui *ui, struct rbx_err *err);
/* A new run id: UTC time, node, random suffix (allocated). */
char *runner_new_run_id(const char *node);
/* A new roll id: "roll-", UTC time, random suffix (allocated). */
char *runner_new_roll_id(void);

/* SIGINT, SIGTERM and SIGHUP set the returned flag; every run watches it. */
rbx_flag *runner_trap_signals(void);

#endif
