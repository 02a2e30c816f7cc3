/* test_run.h - rbx test's runner: each scenario an `rbx run` on a fresh simulated node in
 * a state dir of its own, N at a time, ended at its timeout; what held, and coverage. */
#ifndef RBX_TEST_RUN_H
#define RBX_TEST_RUN_H

#include <jansson.h>
#include <stdbool.h>

#include "app/scenario.h"
#include "base/util.h"

struct test_result {
	const struct scenario_file *file;
	const struct scenario *s;
	bool pass;
	struct buf why;	    /* what did not hold: expected and actual, a line each */
	int exit;	    /* the run's exit status; -1 when ended at its timeout */
	char end_state[32]; /* the journal's end state, or UNFINISHED */
	long long ms;
	json_t *records;    /* the run's journal, for coverage */
	char *tail;	    /* the journal's last records, for a failure */
	char *state_dir;    /* kept for a look (--keep), else NULL: removed */
};

struct test_opts {
	const char *via;	     /* the simulated transport */
	const char *const *run_args; /* what `rbx run` adds to use it */
	int jobs;
	const char *keep;	     /* keep each scenario's state dir below this dir */
	rbx_flag *stop;		     /* set: stop the runs going, start no more */
	void (*done)(void *arg, const struct test_result *r); /* as each one ends */
	void *arg;
};

/* Run every scenario of files; *out gets one result each, in file order. */
int test_run(struct scenario_file **files, size_t nfiles, const struct test_opts *o,
	     struct test_result **out, size_t *nout, struct rbx_err *err);
void test_results_free(struct test_result *r, size_t n);

/* What held after a run (test_check.c): fills r->pass and r->why. */
void test_check(const struct test_opts *o, const char *state_dir, struct test_result *r);

/*
 * Coverage (test_cover.c), per runbook: the steps that ran, each `when` seen true and
 * false, the undos and rollback steps run, the end states reached; gaps not waived.
 * {"runbooks": [{runbook, steps: {ran, total}, whens: {...}, gaps: [...]}], "complete"}.
 */
json_t *test_coverage(struct scenario_file **files, size_t nfiles, const struct test_result *r,
		      size_t n);

#endif
