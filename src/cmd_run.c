/* cmd_run.c - `rbx run RUNBOOK --node N`: validate everything, take the node's
 * lock, open the journal, and drive the engine with the chosen output. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "rbx/cmd.h"
#include "rbx/engine.h"
#include "rbx/journal.h"
#include "rbx/lab.h"
#include "rbx/lock.h"
#include "rbx/report.h"
#include "rbx/runbook.h"
#include "rbx/sched.h"
#include "rbx/target.h"
#include "rbx/transport.h"

static const struct opt run_opts[] = {
	{"node", 'n', "NODE", "the node to work on (required)", false},
	{"param", 'p', "NAME=VALUE", "set a runbook parameter (repeatable)", true},
	{"yes", 'y', NULL, "answer yes to every confirm step", false},
	{"lab", 0, NULL, "run against the embedded simulated node (the lab)", false},
	{"adopt", 0, NULL, "take over a node that is already cordoned or drained", false},
	{"inventory", 'i', "FILE", "the inventory (default $RBX_INVENTORY, /etc/rbx/inventory.yaml)", false},
	{"accept-new-host-key", 0, NULL, "record an unknown SSH host key (a changed one is always refused)", false},
	{"format", 'f', "FMT", "text (default) or json (one record per line)", false},
	{NULL, 0, NULL, NULL, false},
};

static volatile sig_atomic_t got_signal;

static void
on_signal(int sig)
{
	(void)sig;
	got_signal = 1;
}

static void
trap_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static char *
new_run_id(const char *node)
{
	unsigned char rnd[3] = {0, 0, 0};
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		rnd[0] = (unsigned char)getpid();
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm);
	return xasprintf("%s-%s-%02x%02x%02x", ts, node, rnd[0], rnd[1], rnd[2]);
}

static int
tty_confirm(void *arg, const char *question)
{
	char line[64];

	(void)arg;
	fprintf(stderr, "\n  ?? %s [y/N] ", question);
	fflush(stderr);
	if (!fgets(line, sizeof(line), stdin))
		return 0;
	return line[0] == 'y' || line[0] == 'Y';
}

static void
banner(FILE *fp, const char *node, const char *state_dir)
{
	fprintf(fp, "LAB  simulated node %s: no real node is touched; state in %s/lab/nodes/%s\n",
		node, state_dir, node);
}

static int
run_exec(struct args *a, struct rbx_err *err)
{
	static const char *const formats[] = {"text", "json", NULL};
	const char *node = args_get(a, "node"), *format;
	struct runbook *rb = NULL;
	struct run r;
	struct report rep;
	struct target tgt = {0};
	char *state_dir = NULL, *run_id = NULL;
	int lock_fd = -1, rc = EXIT_USAGE;
	enum run_state end;

	memset(&r, 0, sizeof(r));
	if (args_format(a, "text", formats, &format, err) < 0)
		return EXIT_USAGE;
	if (!node)
		return err_set(err, "rbx run needs --node NODE"), EXIT_USAGE;
	/* Validate the node before anything else happens. */
	if (!util_valid_node_name(node))
		return err_set(err, "'%s' is not a valid node name ([A-Za-z0-9][A-Za-z0-9._-]{0,62})",
			       node),
		       EXIT_USAGE;
	rb = cmd_load_runbook(a->argv[0], err);
	if (!rb)
		return EXIT_USAGE;
	if (engine_bind_params(rb, &a->params, &r.params, err) < 0)
		goto out;
	if (target_resolve(node, args_has(a, "lab"), args_get(a, "inventory"), &tgt, err) < 0)
		goto out;
	state_dir = util_state_dir();
	if (util_mkdir_p(state_dir, 0700, err) < 0) {
		rc = EXIT_FAILED;
		goto out;
	}
	run_id = new_run_id(node);
	lock_fd = lock_node(state_dir, node, run_id, err);
	if (lock_fd < 0) {
		rc = lock_fd == -2 ? EXIT_LOCKED : EXIT_FAILED;
		goto out;
	}
	r.rb = rb;
	r.node = node;
	r.run_id = run_id;
	r.yes = args_has(a, "yes");
	r.adopt = args_has(a, "adopt");
	r.lab = tgt.lab;
	r.interrupted = &got_signal;
	r.journal = journal_create(state_dir, run_id, err);
	if (!r.journal) {
		rc = EXIT_FAILED;
		goto out;
	}
	r.node_tx = target_node_transport(&tgt, state_dir, run_id, args_has(a, "accept-new-host-key"), err);
	r.local_tx = r.node_tx ? target_local_transport(&tgt, state_dir, run_id, err) : NULL;
	r.sched = r.local_tx ? target_sched(&tgt, state_dir, err) : NULL;
	if (!r.sched) {
		rc = EXIT_USAGE;
		goto out;
	}
	report_init(&rep, !strcmp(format, "json") ? REPORT_JSON
			  : isatty(STDOUT_FILENO)   ? REPORT_TTY
						    : REPORT_PLAIN,
		    stdout, rb);
	if (rep.mode != REPORT_JSON && tgt.lab)
		banner(stdout, node, state_dir);
	r.io.event = report_event;
	r.io.output = report_output;
	r.io.confirm = isatty(STDIN_FILENO) && isatty(STDERR_FILENO) ? tty_confirm : NULL;
	r.io.arg = &rep;
	trap_signals();
	end = engine_run(&r);
	rc = engine_exit_code(end);
	if (rep.mode != REPORT_JSON) {
		printf("journal: %s  (rbx log %s)\n", journal_path(r.journal), run_id);
		if (end == RS_INTERRUPTED)
			printf("interrupted: the journal records where the run stands; the node is %s\n",
			       r.guard_held ? "still cordoned" : "as it was");
	}
	err->msg[0] = 0; /* the report already said why */
out:
	if (run_id && state_dir && tgt.lab)
		lab_cleanup_run(state_dir, run_id);
	target_release(&tgt);
	transport_free(r.node_tx);
	transport_free(r.local_tx);
	sched_free(r.sched);
	journal_close(r.journal);
	lock_release(lock_fd);
	run_release(&r);
	runbook_free(rb);
	free(state_dir);
	free(run_id);
	return rc;
}

const struct cmd cmd_run = {
	"run", "RUNBOOK --node NODE [--param NAME=VALUE]... [--yes] [--lab | --inventory FILE] [--format text|json]",
	"run a runbook against one node, behind the cordon/drain guard",
	run_opts, 1, 1, run_exec,
};
