/* test_replay.c - a journal turned into the seed a resume starts from: the state to
 * re-enter, attempt, captures, guard, done steps, marks, and the step in doubt. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/engine.h"
#include "core/resume.h"
#include "core/runbook.h"

static const char text[] =
	"name: r\n"
	"title: R\n"
	"subsystem: driver\n"
	"summary: s\n"
	"trigger: {summary: x, alerts: [{alertname: A, severity: page}]}\n"
	"guard: {cordon: true, drain: false, keep_running: a test}\n"
	"pre_checks:\n"
	"  - {name: look, ssh: 'true', capture: {x: '([0-9]+)'}}\n"
	"procedure:\n"
	"  - {name: one, ssh: 'true', mutates: true, undo: {name: undo-one, ssh: 'true'}}\n"
	"  - {name: two, ssh: 'true', mutates: true, undo: {name: undo-two, ssh: 'true'}}\n"
	"  - {name: keep, confirm: 'RMA?', on_success: keep_cordoned}\n"
	"verify:\n"
	"  - {name: prove, ssh: 'true'}\n";

struct fixture {
	struct runbook *rb;
	struct resume_info info;
	struct run_seed seed;
	struct rbx_err err;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct diags d;

	diags_init(&d);
	f->rb = runbook_load_string("r.yaml", text, strlen(text), &d);
	assert_non_null(f->rb);
	diags_release(&d);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	json_decref(f->info.recs);
	run_seed_release(&f->seed);
	runbook_free(f->rb);
	free(f);
	return 0;
}

/* Replay the records (one JSON object a line, as in a journal). */
static int
replay(struct fixture *f, const char *lines)
{
	const char *p = lines;

	json_decref(f->info.recs);
	memset(&f->info, 0, sizeof(f->info));
	f->info.recs = json_array();
	while (*p) {
		const char *nl = strchr(p, '\n');
		json_error_t je;
		json_t *rec = json_loadb(p, (size_t)(nl - p), 0, &je);
		assert_non_null(rec);
		json_array_append_new(f->info.recs, rec);
		p = nl + 1;
	}
	f->info.start = json_array_get(f->info.recs, 0);
	run_seed_release(&f->seed);
	return resume_replay(&f->info, f->rb, &f->seed, &f->err);
}

#define START "{\"type\":\"run_start\",\"node\":\"n42\"}\n"
#define STATE(from, to, ev, att) \
	"{\"type\":\"state\",\"from\":\"" from "\",\"to\":\"" to "\",\"event\":\"" ev "\",\"attempt\":" att "}\n"
#define STEP(type, phase, idx, att, status) \
	"{\"type\":\"" type "\",\"phase\":\"" phase "\",\"index\":" idx ",\"attempt\":" att \
	",\"try\":1" status "}\n"

static const char to_procedure[] =
	START
	STATE("PENDING", "PRECHECK", "ok", "1")
	STEP("step_start", "pre_checks", "1", "1", "")
	STEP("step_end", "pre_checks", "1", "1", ",\"status\":\"ok\",\"captures\":{\"x\":\"5\"}")
	STATE("PRECHECK", "GUARD", "ok", "1")
	"{\"type\":\"guard\",\"op\":\"found\",\"cordoned\":false}\n"
	"{\"type\":\"guard\",\"op\":\"cordon\",\"status\":\"start\"}\n"
	"{\"type\":\"guard\",\"op\":\"cordon\",\"status\":\"ok\"}\n"
	STATE("GUARD", "PROCEDURE", "ok", "1")
	STEP("step_start", "procedure", "1", "1", "")
	STEP("step_end", "procedure", "1", "1", ",\"status\":\"ok\"");

static void
test_a_crash_mid_procedure(void **state)
{
	struct fixture *f = *state;
	char j[4096];

	snprintf(j, sizeof(j), "%s%s", to_procedure, STEP("step_start", "procedure", "2", "1", ""));
	assert_int_equal(replay(f, j), 0);
	assert_int_equal(f->seed.state, RS_PROCEDURE);
	assert_int_equal(f->seed.attempt, 1);
	assert_string_equal(strmap_get(&f->seed.captures, "x"), "5");
	assert_true(f->seed.guard_held);
	assert_int_equal(f->seed.was_cordoned, 0);
	/* What a rollback would undo: step one, done in this attempt. */
	assert_int_equal(f->seed.ndone, 1);
	assert_string_equal(f->seed.done[0]->name, "one");
	/* Only the steps ended in the state re-entered are marked: not the pre-check. */
	assert_int_equal(f->seed.nmarks, 1);
	assert_string_equal(f->seed.marks[0].s->name, "one");
	assert_true(f->seed.marks[0].ok);
	/* Step two began and never ended: in doubt, and it may not have begun. */
	assert_non_null(f->info.in_doubt);
	assert_string_equal(f->info.in_doubt->name, "two");
	assert_false(f->info.in_doubt_ran);
	assert_int_equal(f->info.state, RS_PROCEDURE);
}

static void
test_an_interrupt_leaves_the_state_as_it_was(void **state)
{
	struct fixture *f = *state;
	char j[4096];

	snprintf(j, sizeof(j), "%s%s%s", to_procedure,
		 STEP("step_end", "procedure", "2", "1", ",\"status\":\"interrupted\""),
		 STATE("PROCEDURE", "INTERRUPTED", "interrupt", "1"));
	assert_int_equal(replay(f, j), 0);
	assert_int_equal(f->seed.state, RS_PROCEDURE);
	assert_string_equal(f->info.in_doubt->name, "two");
	assert_true(f->info.in_doubt_ran); /* stopped while it ran */
}

static void
test_a_failed_rollback_is_remembered(void **state)
{
	struct fixture *f = *state;
	char j[4096];

	snprintf(j, sizeof(j), "%s%s%s%s%s", to_procedure,
		 STEP("step_end", "procedure", "2", "1", ",\"status\":\"failed\",\"error\":\"exit 3\""),
		 STATE("PROCEDURE", "ROLLBACK", "fail", "1"),
		 "{\"type\":\"step_start\",\"phase\":\"undo\",\"index\":0,\"of\":1,\"attempt\":1,\"try\":1}\n",
		 "{\"type\":\"step_end\",\"phase\":\"undo\",\"index\":0,\"of\":1,\"attempt\":1,\"try\":1,"
		 "\"status\":\"failed\",\"error\":\"exit 1\"}\n");
	assert_int_equal(replay(f, j), 0);
	assert_int_equal(f->seed.state, RS_ROLLBACK);
	assert_string_equal(f->seed.rollback_first, "step 'two' failed: exit 3");
	assert_true(f->seed.rollback_failed);
	assert_string_equal(f->seed.failure, "step 'undo-one' failed: exit 1");
	assert_int_equal(f->seed.ndone, 1); /* the rollback still knows what to undo */
	assert_null(f->info.in_doubt);
}

static void
test_a_retry_starts_a_clean_attempt(void **state)
{
	struct fixture *f = *state;
	char j[8192];

	snprintf(j, sizeof(j), "%s%s%s%s%s%s", to_procedure,
		 STEP("step_end", "procedure", "2", "1", ",\"status\":\"ok\""),
		 STEP("confirm", "procedure", "3", "1", ",\"answer\":\"yes\""),
		 STATE("PROCEDURE", "VERIFY", "ok", "1"),
		 STEP("step_end", "verify", "1", "1", ",\"status\":\"failed\",\"error\":\"x\""),
		 STATE("VERIFY", "ROLLBACK", "fail", "1"));
	assert_int_equal(replay(f, j), 0);
	assert_true(f->seed.keep_cordoned); /* the confirm said keep it out */
	assert_string_equal(f->seed.keep_reason, "keep");
	assert_int_equal(f->seed.ndone, 2);
	strcat(j, STATE("ROLLBACK", "PROCEDURE", "retry", "2"));
	assert_int_equal(replay(f, j), 0);
	assert_int_equal(f->seed.state, RS_PROCEDURE);
	assert_int_equal(f->seed.attempt, 2);
	assert_int_equal(f->seed.ndone, 0);
	assert_false(f->seed.keep_cordoned);
	assert_int_equal(f->seed.nmarks, 0);
}

static void
test_a_declined_question_ends_the_attempts(void **state)
{
	struct fixture *f = *state;
	char j[4096];

	snprintf(j, sizeof(j), "%s%s%s", to_procedure,
		 STEP("step_end", "procedure", "2", "1", ",\"status\":\"ok\""),
		 STEP("confirm", "procedure", "3", "1", ",\"answer\":\"no\""));
	assert_int_equal(replay(f, j), 0);
	assert_true(f->seed.no_more_attempts);
	assert_string_equal(f->seed.failure, "step 'keep' failed: the operator declined");
}

static void
test_nothing_began_starts_from_the_top(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(replay(f, START), 0);
	assert_int_equal(f->seed.state, RS_PRECHECK);
	assert_int_equal(f->seed.was_cordoned, -1);
	assert_false(f->seed.guard_held);
}

static void
test_a_step_the_runbook_lacks_is_an_error(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(replay(f, START STATE("PENDING", "PRECHECK", "ok", "1")
				      STEP("step_start", "pre_checks", "7", "1", "")),
			 -1);
	assert_non_null(strstr(f->err.msg, "pre_checks step 7, which runbook 'r' does not have"));
}

/* The seed moves into the engine: its captures and done steps are the run's now. */
static void
test_the_engine_takes_the_seed(void **state)
{
	struct fixture *f = *state;
	char j[4096];

	snprintf(j, sizeof(j), "%s%s", to_procedure,
		 STEP("step_end", "procedure", "2", "1", ",\"status\":\"ok\""));
	assert_int_equal(replay(f, j), 0);
	resume_step_done(&f->seed, f->rb->steps[PHASE_PROCEDURE][2], 1, NULL);
	assert_int_equal(f->seed.nmarks, 3);
	assert_true(f->seed.keep_cordoned);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_a_crash_mid_procedure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_an_interrupt_leaves_the_state_as_it_was, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_failed_rollback_is_remembered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_retry_starts_a_clean_attempt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_declined_question_ends_the_attempts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nothing_began_starts_from_the_top, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_step_the_runbook_lacks_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_the_engine_takes_the_seed, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
