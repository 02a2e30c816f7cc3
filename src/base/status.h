/* status.h - how a command, a run or a roll ended, as one code: the codes of
 * DESIGN.md section 6. Modules return them; only cli/main.c ends the process. */
#ifndef RBX_STATUS_H
#define RBX_STATUS_H

/*
 * As with curl's CURLcode, a status is the number rbx exits with, so the
 * journal's run_end "exit" and `echo $?` always agree.
 */
enum rbx_status {
	RBX_OK = 0,
	RBX_FAILED = 1,	    /* failed and rolled back (node left cordoned), or a system error */
	RBX_USAGE = 2,	    /* bad usage, an invalid runbook or inventory */
	RBX_ABORTED = 3,    /* pre-checks failed: nothing was changed */
	RBX_UNSAFE = 4,	    /* rollback failed: the node needs a human */
	RBX_LOCKED = 5,	    /* another run holds the node, or no fleet slot */
	RBX_INTERRUPTED = 130,
};

#endif
