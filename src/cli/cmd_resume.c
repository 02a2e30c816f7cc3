/* cmd_resume.c - `rbx resume RUN`: continue a run (or a roll) from its journal after
 * a crash, a kill or an interrupt; a step in doubt is never guessed. */
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/term.h"
#include "app/roll.h"
#include "app/runner.h"

static const struct opt resume_opts[] = {
	{"assume-done", 0, NULL, "the step in doubt finished: do not run it again", false},
	{"rerun", 0, NULL, "the step in doubt did not finish: run it again", false},
	{"param", 'p', "NAME=VALUE", "a secret parameter again (secrets are never journaled)", true},
	{"yes", 'y', NULL, "answer yes to every confirm step", false},
	{"inventory", 'i', "FILE", "the inventory (default: the one the run used)", false},
	{"fleet-wait", 0, "DURATION", "how long to wait for a fleet maintenance slot (default 30m)", false},
	{"format", 'f', "FMT", "text (default) or json (one record per line)", false},
	{NULL, 0, NULL, NULL, false},
};

static enum rbx_status
resume_exec(struct args *a, struct rbx_err *err)
{
	static const char *const formats[] = {"text", "json", NULL};
	struct runner_opts o;
	struct runner_result res;
	struct term t;

	memset(&o, 0, sizeof(o));
	if (args_format(a, "text", formats, &o.format, err) < 0)
		return RBX_USAGE;
	if (args_has(a, "assume-done") && args_has(a, "rerun"))
		return err_set(err, "--assume-done and --rerun contradict each other"), RBX_USAGE;
	if (cmd_fleet_wait(a, &o.fleet_wait_ms, err) < 0)
		return RBX_USAGE;
	o.run_id = a->argv[0];
	o.resume = true;
	o.params = &a->params;
	o.inventory = args_get(a, "inventory");
	o.yes = args_has(a, "yes");
	o.in_doubt = args_has(a, "assume-done") ? IN_DOUBT_DONE
		     : args_has(a, "rerun")	  ? IN_DOUBT_RERUN
						  : IN_DOUBT_ASK;
	/* A roll's own lines are text; each node's run writes its own log. */
	o.ui = term_ui(&t, roll_is_id(o.run_id) ? "text" : o.format);
	runner_trap_signals();
	if (roll_is_id(o.run_id))
		return roll_resume(&o, err);
	return runner_exec(&o, &res, err);
}

const struct cmd cmd_resume = {
	"resume", "RUN [--assume-done | --rerun] [--param SECRET=VALUE]... [--yes]",
	"continue a run (or a roll) from its journal after a crash or an interrupt",
	resume_opts, 1, 1, resume_exec,
};
