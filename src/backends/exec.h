/* exec.h - run one shell command locally: own process group, bounded capture,
 * live streaming, and a deadline that ends the whole group (TERM, then KILL). */
#ifndef RBX_EXEC_H
#define RBX_EXEC_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/util.h"

enum exec_stream { EXEC_STDOUT = 1, EXEC_STDERR = 2 };

struct exec_opts {
	const char *cwd;       /* NULL: inherit */
	char *const *env;      /* NULL: inherit */
	/* Exported to the command on top of env: the values of its {{...}} references. */
	const struct strmap *vars;
	/*
	 * RBX_STEP_TAG in the command's environment: it names this try of this step,
	 * so a later rbx can find and end what it left running (exec_local_end_tagged).
	 */
	const char *tag;
	/*
	 * Called in the child between fork and exec (async-signal-safe code only): the
	 * simulated node confines its steps there. Non-zero return: the child exits 126.
	 */
	int (*confine)(void *arg);
	void *confine_arg;
	long long timeout_ms;  /* 0: none */
	long long grace_ms;    /* after SIGTERM, before SIGKILL (default 1000) */
	size_t capture_max;    /* stdout kept whole for captures (default 1 MiB) */
	size_t tail_max;       /* tail of each stream kept for the journal (default 4 KiB) */
	void (*on_output)(void *arg, enum exec_stream s, const char *data, size_t len);
	void *arg;
	rbx_flag *interrupted; /* set by a signal handler: end the step */
};

struct exec_result {
	int status;	  /* exit code; 128+N when killed by signal N */
	bool timed_out;
	bool interrupted;
	bool lost;	  /* the connection dropped: the command may still be running */
	bool unreached;	  /* the node could not be reached: the command never started */
	long long duration_ms;
	struct buf out;	  /* stdout, up to capture_max */
	struct tail out_tail;
	struct tail err_tail;
};

void exec_result_init(struct exec_result *r, const struct exec_opts *o);
void exec_result_release(struct exec_result *r);

/*
 * Run `/bin/sh -c cmd` with stdin from /dev/null in a new process group.
 * Returns 0 when the command ran (whatever its status), -1 with err when it
 * could not be started. When the shell exits, anything it left running in
 * its group is killed: a step leaves no orphans.
 */
int exec_local_run(const char *cmd, const struct exec_opts *o, struct exec_result *r,
		   struct rbx_err *err);

/*
 * Run cmd for its answer: 0 with stdout appended to out (may be NULL) when it
 * exits 0 within timeout_ms; else -1 with err naming the command and its last
 * stderr line. For the guard's backends, whose commands must simply succeed.
 */
/*
 * End the process group of every local process whose environment holds
 * RBX_STEP_TAG=tag (SIGKILL). Returns how many groups were ended.
 */
int exec_local_end_tagged(const char *tag);

int exec_local_capture(const char *cmd, long long timeout_ms, struct buf *out,
		       struct rbx_err *err);
/* The same with vars exported to the command (its {{...}} references), ended early once
 * *interrupted is set (NULL: never). */
int exec_local_capture_vars(const char *cmd, const struct strmap *vars, long long timeout_ms,
			    rbx_flag *interrupted, struct buf *out, struct rbx_err *err);

#endif
