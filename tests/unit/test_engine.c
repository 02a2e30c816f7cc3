/* test_engine.c - the state machine with a fake transport and a fake scheduler:
 * every documented path, the guard invariant, undo order, retries, refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine.h"
#include "core/resume.h"
#include "backends/sched.h"
#include "backends/transport.h"

/* ---- fakes ------------------------------------------------------------------------ */

struct fake {
	struct buf log;		/* every command and scheduler call, in order */
	const char *fail_on;	/* a command containing this exits 1 */
	int fail_times;		/* ... this many times (-1: always) */
	bool cordoned;
	char reason[256];
	struct buf states;	/* the "to" of each state record */
	struct buf records;	/* every record, compact JSON per line */
	rbx_flag *interrupt_on_cmd;
	const char *interrupt_cmd;
};

static struct fake F;

static int
fake_exec(struct transport *t, const char *cmd, const struct exec_opts *o, struct exec_result *r,
	  struct rbx_err *err)
{
	size_t i;

	(void)t;
	(void)err;
	/* The command as the shell gets it, then the values its references stand for. */
	buf_addf(&F.log, "exec %s", cmd);
	for (i = 0; o->vars && i < o->vars->n; i++)
		buf_addf(&F.log, " [%s=%s]", o->vars->keys[i], o->vars->vals[i]);
	buf_adds(&F.log, "\n");
	if (F.interrupt_cmd && strstr(cmd, F.interrupt_cmd)) {
		*F.interrupt_on_cmd = 1;
		r->interrupted = true;
		r->status = 130;
		return 0;
	}
	if (F.fail_on && strstr(cmd, F.fail_on) && F.fail_times != 0) {
		if (F.fail_times > 0)
			F.fail_times--;
		r->status = 1;
		tail_add(&r->err_tail, "it broke\n", 9);
		return 0;
	}
	buf_adds(&r->out, "8 GPUs token=s3cret\n");
	tail_add(&r->out_tail, "8 GPUs token=s3cret\n", 20);
	r->status = 0;
	return 0;
}

static int
fake_reboot(struct transport *t, long long ms, struct rbx_err *err)
{
	(void)t;
	(void)ms;
	(void)err;
	buf_adds(&F.log, "reboot\n");
	return 0;
}

static void
fake_tx_free(struct transport *t)
{
	(void)t;
}

static const struct transport_ops fake_tx_ops = {"fake", NULL, fake_exec, fake_reboot, fake_reboot,
						  fake_tx_free, NULL, NULL};

static int
fake_state(struct sched *s, struct sched_state *st, struct rbx_err *err)
{
	(void)s;
	(void)err;
	memset(st, 0, sizeof(*st));
	st->cordoned = F.cordoned;
	snprintf(st->reason, sizeof(st->reason), "%s", F.reason);
	return 0;
}

static int
fake_cordon(struct sched *s, const char *reason, struct rbx_err *err)
{
	(void)s;
	(void)err;
	buf_adds(&F.log, "cordon\n");
	F.cordoned = true;
	snprintf(F.reason, sizeof(F.reason), "%s", reason);
	return 0;
}

static int
fake_drain(struct sched *s, const char *reason, long long ms, struct rbx_err *err)
{
	(void)s;
	(void)reason;
	(void)ms;
	buf_adds(&F.log, "drain\n");
	if (F.fail_on && !strcmp(F.fail_on, "drain"))
		return err_set(err, "drain deadline passed");
	return 0;
}

static int
fake_uncordon(struct sched *s, struct rbx_err *err)
{
	(void)s;
	(void)err;
	buf_adds(&F.log, "uncordon\n");
	F.cordoned = false;
	F.reason[0] = 0;
	return 0;
}

static int
fake_reason(struct sched *s, const char *reason, struct rbx_err *err)
{
	(void)s;
	(void)err;
	buf_addf(&F.log, "reason %s\n", reason);
	snprintf(F.reason, sizeof(F.reason), "%s", reason);
	return 0;
}

static void
fake_sched_free(struct sched *s)
{
	(void)s;
}

static const struct sched_ops fake_sched_ops = {"fake", fake_state, fake_cordon, fake_drain,
						 fake_uncordon, fake_reason, fake_sched_free, NULL};

static void
on_event(void *arg, json_t *rec)
{
	char *line = json_dumps(rec, JSON_COMPACT);

	(void)arg;
	buf_addf(&F.records, "%s\n", line);
	free(line);
	if (!strcmp(json_string_value(json_object_get(rec, "type")), "state"))
		buf_addf(&F.states, "%s ", json_string_value(json_object_get(rec, "to")));
}

static int
say_no(void *arg, const char *q)
{
	(void)arg;
	(void)q;
	return 0;
}

/* End of input at the prompt: no answer. */
static int
say_nothing(void *arg, const char *q)
{
	(void)arg;
	(void)q;
	return -1;
}

/* ---- harness ---------------------------------------------------------------------- */

static const char base[] =
	"name: t\ntitle: T\nsubsystem: driver\nsummary: s\ntrigger: {summary: x}\n"
	"params: {token: {description: k, default: s3cret, secret: true}}\n"
	"guard: GUARD\nmax_attempts: ATTEMPTS\n"
	"pre_checks:\n  - {name: look, ssh: check-node, capture: seen}\n"
	"procedure:\n"
	"  - {name: one, ssh: step-one, undo: {name: undo one, ssh: undo-one}}\n"
	"  - {name: two, ssh: 'step-two --token {{params.token}}', undo: {name: undo two, ssh: undo-two}}\n"
	"  - {name: three, ssh: step-three}\n"
	"EXTRA"
	"verify:\n  - {name: proof, ssh: prove-it}\n"
	"rollback:\n  - {name: tidy, ssh: tidy-up}\n";

/* The base runbook with its GUARD, ATTEMPTS and EXTRA filled in. */
static struct runbook *
load_base(const char *guard, const char *attempts, const char *extra, struct diags *d)
{
	const char *from[] = {"GUARD", "ATTEMPTS", "EXTRA"}, *to[] = {guard, attempts, extra};
	char text[4096], *p;
	struct runbook *rb;
	size_t i;

	snprintf(text, sizeof(text), "%s", base);
	for (i = 0; i < 3; i++) {
		p = strstr(text, from[i]);
		memmove(p + strlen(to[i]), p + strlen(from[i]), strlen(p + strlen(from[i])) + 1);
		memcpy(p, to[i], strlen(to[i]));
	}
	diags_init(d);
	rb = runbook_load_string("t.yaml", text, strlen(text), d);
	if (!rb)
		{ char *dt = diags_text(d); fputs(dt, stderr); free(dt); }
	assert_non_null(rb);
	return rb;
}

/* A run of rb on n1 through the fake transport and scheduler. */
static void
init_run(struct run *r, struct runbook *rb, struct transport *tx, struct sched *sc,
	 rbx_flag *intr)
{
	struct rbx_err err;

	memset(r, 0, sizeof(*r));
	assert_int_equal(engine_bind_params(rb, NULL, &r->params, &err), 0);
	r->rb = rb;
	r->node = "n1";
	r->run_id = "run-1";
	r->node_tx = tx;
	r->local_tx = tx;
	r->sched = sc;
	r->io.event = on_event;
	*intr = 0;
	r->interrupted = intr;
}

static enum run_state
run_with(const char *guard, const char *attempts, const char *extra, bool yes,
	 int (*confirm)(void *, const char *), struct run *out_run)
{
	struct diags d;
	struct runbook *rb = load_base(guard, attempts, extra, &d);
	struct transport tx = {&fake_tx_ops, (char *)"fake:n1", NULL};
	struct sched sc = {&fake_sched_ops, (char *)"n1", NULL, NULL};
	struct run r;
	static rbx_flag intr;
	enum run_state end;

	init_run(&r, rb, &tx, &sc, &intr);
	r.yes = yes;
	r.io.confirm = confirm;
	F.interrupt_on_cmd = &intr;
	end = engine_run(&r);
	if (out_run)
		snprintf(out_run->failure, sizeof(out_run->failure), "%s", r.failure);
	run_release(&r);
	runbook_free(rb);
	diags_release(&d);
	return end;
}

static int
setup(void **state)
{
	(void)state;
	memset(&F, 0, sizeof(F));
	buf_init(&F.log, 0);
	buf_init(&F.states, 0);
	buf_init(&F.records, 0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	buf_release(&F.log);
	buf_release(&F.states);
	buf_release(&F.records);
	return 0;
}

#define GUARD "{cordon: true, drain: true}"

/* ---- tests ------------------------------------------------------------------------ */

static void
test_success_path(void **state)
{
	(void)state;
	assert_int_equal(run_with(GUARD, "1", "", false, NULL, NULL), RS_SUCCEEDED);
	assert_string_equal(F.states.data, "PRECHECK GUARD PROCEDURE VERIFY RESTORE SUCCEEDED ");
	assert_string_equal(F.log.data, "exec check-node\ncordon\ndrain\nexec step-one\n"
					"exec step-two --token \"${RBX_P_token}\" [RBX_P_token=s3cret]\nexec step-three\n"
					"exec prove-it\nuncordon\n");
	assert_false(F.cordoned);
	assert_int_equal(engine_status(RS_SUCCEEDED), 0);
}

static void
test_secrets_never_reach_records(void **state)
{
	(void)state;
	run_with(GUARD, "1", "", false, NULL, NULL);
	assert_null(strstr(F.records.data, "s3cret"));
	assert_non_null(strstr(F.records.data, "\"env\":{\"RBX_P_token\":\"***\"}"));
	assert_non_null(strstr(F.records.data, "token=***"));
}

static void
test_precheck_failure_changes_nothing(void **state)
{
	(void)state;
	F.fail_on = "check-node";
	F.fail_times = -1;
	assert_int_equal(run_with(GUARD, "1", "", false, NULL, NULL), RS_ABORTED);
	assert_string_equal(F.states.data, "PRECHECK ABORTED ");
	assert_string_equal(F.log.data, "exec check-node\n");
	assert_int_equal(engine_status(RS_ABORTED), 3);
}

static void
test_failure_undoes_in_reverse_then_retries(void **state)
{
	(void)state;
	F.fail_on = "step-three";
	F.fail_times = -1;
	assert_int_equal(run_with(GUARD, "2", "", false, NULL, NULL), RS_FAILED);
	assert_string_equal(F.states.data, "PRECHECK GUARD PROCEDURE ROLLBACK PROCEDURE ROLLBACK FAILED ");
	assert_non_null(strstr(F.log.data, "exec step-three\nexec undo-two\nexec undo-one\nexec tidy-up\n"
					   "exec step-one\n"));
	/* FAILED leaves the node cordoned, its reason naming the run. */
	assert_true(F.cordoned);
	assert_string_equal(F.reason, "rbx:run-1 t FAILED");
	assert_null(strstr(F.log.data, "uncordon"));
	assert_int_equal(engine_status(RS_FAILED), 1);
}

static void
test_retry_succeeds_second_time(void **state)
{
	(void)state;
	F.fail_on = "prove-it";
	F.fail_times = 1;
	assert_int_equal(run_with(GUARD, "2", "", false, NULL, NULL), RS_SUCCEEDED);
	assert_string_equal(F.states.data,
			    "PRECHECK GUARD PROCEDURE VERIFY ROLLBACK PROCEDURE VERIFY RESTORE SUCCEEDED ");
	assert_false(F.cordoned);
}

static void
test_rollback_failure_is_unsafe(void **state)
{
	struct run r;

	(void)state;
	F.fail_on = "-up"; /* the proof passes... no: breaks-up fails, then tidy-up fails too */
	F.fail_times = -1;
	assert_int_equal(run_with(GUARD, "2", "  - {name: breaks, ssh: breaks-up}\n", false, NULL, &r),
			 RS_FAILED_UNSAFE);
	assert_string_equal(F.states.data, "PRECHECK GUARD PROCEDURE ROLLBACK FAILED_UNSAFE ");
	assert_non_null(strstr(r.failure, "then rollback failed"));
	/* No second attempt after an unsafe rollback, and the node stays out. */
	assert_true(F.cordoned);
	assert_string_equal(F.reason, "rbx:run-1 t FAILED_UNSAFE");
	assert_int_equal(engine_status(RS_FAILED_UNSAFE), 4);
}

static void
test_guard_none_refuses_mutation(void **state)
{
	(void)state;
	assert_int_equal(run_with("{none: triage}", "1", "", false, NULL, NULL), RS_FAILED_UNSAFE);
	/* Not one mutating command ran: only the read-only pre-check. */
	assert_string_equal(F.log.data, "exec check-node\n");
	assert_non_null(strstr(F.records.data, "\"type\":\"step_refused\""));
}

static void
test_keep_cordoned(void **state)
{
	(void)state;
	assert_int_equal(run_with(GUARD, "1",
				  "  - {name: decide, confirm: RMA?, on_success: keep_cordoned}\n", true,
				  NULL, NULL),
			 RS_SUCCEEDED);
	assert_true(F.cordoned);
	assert_non_null(strstr(F.reason, "kept out (decide)"));
	assert_null(strstr(F.log.data, "uncordon"));
}

static void
test_confirm_without_tty_stops_before_the_guard(void **state)
{
	struct run r;

	(void)state;
	assert_int_equal(run_with(GUARD, "1", "  - {name: ask, confirm: Sure?}\n", false, NULL, &r),
			 RS_ABORTED);
	assert_string_equal(F.log.data, "exec check-node\n");
	assert_non_null(strstr(r.failure, "no TTY to ask, no --yes and no --answer"));
	teardown(NULL);
	setup(NULL);
	/* A confirm whose `when` is already false after the pre-checks needs no one. */
	assert_int_equal(run_with(GUARD, "1",
				  "  - {name: ask, confirm: Sure?, when: {capture: seen, equals: nope}}\n",
				  false, NULL, NULL),
			 RS_SUCCEEDED);
	teardown(NULL);
	setup(NULL);
	/* A "no" rolls back and does not try again. */
	assert_int_equal(run_with(GUARD, "3", "  - {name: ask, confirm: Sure?}\n", false, say_no, NULL),
			 RS_FAILED);
	assert_string_equal(F.states.data, "PRECHECK GUARD PROCEDURE ROLLBACK FAILED ");
	assert_non_null(strstr(F.records.data, "\"answer\":\"no\",\"by\":\"operator\""));
	teardown(NULL);
	setup(NULL);
	/* End of input is no answer, never journaled as the operator's "no". */
	assert_int_equal(run_with(GUARD, "3", "  - {name: ask, confirm: Sure?}\n", false, say_nothing,
				  NULL),
			 RS_FAILED);
	assert_non_null(strstr(F.records.data, "\"answer\":\"none\",\"by\":\"end of input\""));
	assert_null(strstr(F.records.data, "\"by\":\"operator\""));
}

static void
test_someone_elses_drain_is_not_taken(void **state)
{
	struct run r;

	(void)state;
	F.cordoned = true;
	snprintf(F.reason, sizeof(F.reason), "hardware ticket 123");
	assert_int_equal(run_with(GUARD, "1", "", false, NULL, &r), RS_ABORTED);
	assert_non_null(strstr(r.failure, "hardware ticket 123"));
	assert_null(strstr(F.log.data, "cordon"));
	assert_string_equal(F.reason, "hardware ticket 123");
}

static void
test_drain_failure_undoes_the_cordon(void **state)
{
	(void)state;
	F.fail_on = "drain";
	assert_int_equal(run_with(GUARD, "1", "", false, NULL, NULL), RS_ABORTED);
	assert_string_equal(F.log.data, "exec check-node\ncordon\ndrain\nuncordon\n");
	assert_false(F.cordoned);
}

static void
test_interrupt(void **state)
{
	(void)state;
	F.interrupt_cmd = "step-two";
	assert_int_equal(run_with(GUARD, "1", "", false, NULL, NULL), RS_INTERRUPTED);
	assert_null(strstr(F.log.data, "step-three"));
	assert_true(F.cordoned);
	assert_int_equal(engine_status(RS_INTERRUPTED), 130);
}

static void
test_transition_table(void **state)
{
	bool seen[RS_COUNT] = {false};
	size_t i;
	int s, changed = 1;

	(void)state;
	/* Every state is reachable from PENDING. */
	seen[RS_PENDING] = true;
	while (changed) {
		changed = 0;
		for (i = 0; i < engine_ntransitions; i++)
			if (seen[engine_transitions[i].from] && !seen[engine_transitions[i].to]) {
				seen[engine_transitions[i].to] = true;
				changed = 1;
			}
	}
	for (s = 0; s < RS_COUNT; s++)
		assert_true(seen[s]);
	/* Every working state can be interrupted, fails somewhere defined, and has no duplicate row. */
	for (s = RS_PRECHECK; s <= RS_RESTORE; s++) {
		assert_int_not_equal(engine_next((enum run_state)s, EV_INTERRUPT), RS_COUNT);
		assert_int_not_equal(engine_next((enum run_state)s, EV_OK), RS_COUNT);
	}
	for (i = 0; i < engine_ntransitions; i++) {
		size_t k;
		assert_false(run_state_terminal(engine_transitions[i].from));
		for (k = i + 1; k < engine_ntransitions; k++)
			assert_false(engine_transitions[i].from == engine_transitions[k].from &&
				     engine_transitions[i].ev == engine_transitions[k].ev);
	}
	assert_int_equal(engine_next(RS_SUCCEEDED, EV_OK), RS_COUNT);
}

/* ---- resume: a run interrupted, its records replayed, then continued ---------------- */

static json_t *
records_array(void)
{
	json_t *arr = json_array();
	char *text = xstrdup(F.records.data), *line, *save = NULL;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		json_array_append_new(arr, json_loads(line, 0, NULL));
	free(text);
	return arr;
}

static char doubt_name[64];

/*
 * Run the base runbook until the command matching stop_at is interrupted,
 * replay the records, resolve the step in doubt (assume_done or rerun), and
 * resume with the log cleared; the resumed run's log is in F.log.
 */
static enum run_state
interrupt_then_resume(const char *stop_at, const char *fail_on, bool assume_done,
		      struct resume_info *info_out)
{
	struct diags d;
	struct runbook *rb = load_base(GUARD, "1", "", &d);
	struct transport tx = {&fake_tx_ops, (char *)"fake:n1", NULL};
	struct sched sc = {&fake_sched_ops, (char *)"n1", NULL, NULL};
	struct run r, r2;
	struct rbx_err err;
	struct resume_info info;
	struct run_seed seed;
	static rbx_flag intr;
	enum run_state end;

	init_run(&r, rb, &tx, &sc, &intr);
	F.interrupt_on_cmd = &intr;
	F.interrupt_cmd = stop_at;
	F.fail_on = fail_on;
	F.fail_times = -1;
	assert_int_equal(engine_run(&r), RS_INTERRUPTED);
	run_release(&r);

	/* The process is gone; all that is left is the journal. */
	memset(&info, 0, sizeof(info));
	info.recs = records_array();
	info.ended = RS_COUNT;
	init_run(&r2, rb, &tx, &sc, &intr);
	F.interrupt_cmd = NULL;
	assert_int_equal(resume_replay(&info, rb, &seed, &err), 0);
	if (assume_done && info.in_doubt)
		resume_step_done(&seed, info.in_doubt, info.in_doubt_try, NULL);
	buf_release(&F.log);
	buf_init(&F.log, 0);
	end = engine_resume(&r2, &seed, json_pack("{s:s}", "type", "resume"));
	run_seed_release(&seed);
	*info_out = info;
	info_out->recs = NULL;
	/* The step belongs to the runbook freed below: keep its name. */
	snprintf(doubt_name, sizeof(doubt_name), "%s", info.in_doubt ? info.in_doubt->name : "");
	info_out->in_doubt = NULL;
	json_decref(info.recs);
	run_release(&r2);
	runbook_free(rb);
	diags_release(&d);
	return end;
}

static void
test_resume_skips_what_was_done(void **state)
{
	struct resume_info info;

	(void)state;
	/* Interrupted while step two ran; the operator says it finished. */
	assert_int_equal(interrupt_then_resume("step-two", NULL, true, &info), RS_SUCCEEDED);
	assert_int_equal(info.state, RS_PROCEDURE);
	assert_string_equal(doubt_name, "two");
	assert_true(info.in_doubt_ran);
	/* Not the guard again, not step one, not step two: the rest, then back in service. */
	assert_string_equal(F.log.data, "exec step-three\nexec prove-it\nuncordon\n");
	assert_false(F.cordoned);
}

static void
test_resume_reruns_when_told(void **state)
{
	struct resume_info info;

	(void)state;
	assert_int_equal(interrupt_then_resume("step-two", NULL, false, &info), RS_SUCCEEDED);
	assert_string_equal(F.log.data, "exec step-two --token \"${RBX_P_token}\" [RBX_P_token=s3cret]\nexec step-three\n"
					"exec prove-it\nuncordon\n");
}

static void
test_resume_mid_rollback_finishes_it(void **state)
{
	struct resume_info info;

	(void)state;
	/* The proof fails, the rollback begins (undo two, then undo one): stopped in undo one. */
	assert_int_equal(interrupt_then_resume("undo-one", "prove-it", false, &info), RS_FAILED);
	assert_int_equal(info.state, RS_ROLLBACK);
	assert_string_equal(doubt_name, "undo one");
	/* Undo two is not repeated; undo one is (as told), then the rollback steps. */
	assert_string_equal(F.log.data, "exec undo-one\nexec tidy-up\nreason rbx:run-1 t FAILED\n");
	assert_true(F.cordoned);
}

static void
test_resume_does_not_take_the_guard_again(void **state)
{
	struct resume_info info;

	(void)state;
	/* Stopped during the first procedure step: the node is cordoned by this run. */
	assert_int_equal(interrupt_then_resume("step-one", NULL, false, &info), RS_SUCCEEDED);
	assert_int_equal(info.state, RS_PROCEDURE);
	assert_string_equal(F.log.data, "exec step-one\nexec step-two --token \"${RBX_P_token}\" [RBX_P_token=s3cret]\n"
					"exec step-three\nexec prove-it\nuncordon\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_success_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secrets_never_reach_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_precheck_failure_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_undoes_in_reverse_then_retries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_succeeds_second_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_failure_is_unsafe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guard_none_refuses_mutation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keep_cordoned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_confirm_without_tty_stops_before_the_guard, setup, teardown),
		cmocka_unit_test_setup_teardown(test_someone_elses_drain_is_not_taken, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drain_failure_undoes_the_cordon, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interrupt, setup, teardown),
		cmocka_unit_test(test_transition_table),
		cmocka_unit_test_setup_teardown(test_resume_skips_what_was_done, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resume_reruns_when_told, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resume_mid_rollback_finishes_it, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resume_does_not_take_the_guard_again, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
