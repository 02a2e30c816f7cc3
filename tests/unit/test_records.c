/* test_records.c - what the engine writes about a run: step records that name their
 * step, secrets never in them, bytes kept exactly, a journal failure that stops the run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/engine.h"
#include "core/engine_internal.h"
#include "core/runbook.h"
#include "io/journal.h"

static const char text[] =
	"name: rec\ntitle: R\nsubsystem: driver\nsummary: s\n"
	"trigger: {summary: x, alerts: [{alertname: A, severity: page}]}\n"
	"guard: {cordon: true}\n"
	"params:\n"
	"  token: {description: t, secret: true}\n"
	"  password: {description: p, secret: true}\n"
	"  gpu: {description: g, default: '3'}\n"
	"procedure:\n"
	"  - {name: reset, ssh: 'nvidia-smi -r', undo: {name: back, ssh: 'nvidia-smi -q'}}\n"
	"verify:\n"
	"  - {name: prove, ssh: 'dcgmi diag -r 1'}\n";

struct fixture {
	struct runbook *rb;
	struct run r;
	int shown;
};

static void
on_event(void *arg, json_t *rec)
{
	(void)rec;
	((struct fixture *)arg)->shown++;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct strmap given = {0};
	struct rbx_err err;
	struct diags d;

	diags_init(&d);
	f->rb = runbook_load_string("rec.yaml", text, strlen(text), &d);
	assert_non_null(f->rb);
	diags_release(&d);
	/* One secret is a part of the other: neither may show, even in part. */
	strmap_set(&given, "token", "abc");
	strmap_set(&given, "password", "abcdef");
	assert_int_equal(engine_bind_params(f->rb, &given, &f->r.params, &err), 0);
	strmap_release(&given);
	f->r.rb = f->rb;
	f->r.run_id = "20261126T000000Z-n42-abcdef";
	f->r.attempt = 2;
	f->r.io.event = on_event;
	f->r.io.arg = f;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	run_release(&f->r);
	runbook_free(f->rb);
	free(f);
	return 0;
}

static void
test_step_records_name_their_step(void **state)
{
	struct fixture *f = *state;
	const struct step *s = f->rb->steps[PHASE_PROCEDURE][0];
	json_t *rec = engine_step_rec("step_start", s, &f->r);

	assert_string_equal(json_string_value(json_object_get(rec, "phase")), "procedure");
	assert_int_equal(json_integer_value(json_object_get(rec, "index")), 1);
	assert_string_equal(json_string_value(json_object_get(rec, "name")), "reset");
	assert_int_equal(json_integer_value(json_object_get(rec, "attempt")), 2);
	assert_null(json_object_get(rec, "of"));
	json_decref(rec);
	/* An undo is named by the step it undoes, so a resume can find it. */
	rec = engine_step_rec("step_end", s->undo, &f->r);
	assert_string_equal(json_string_value(json_object_get(rec, "phase")), "undo");
	assert_int_equal(json_integer_value(json_object_get(rec, "of")), 1);
	json_decref(rec);
}

static void
test_secrets_are_redacted_whole(void **state)
{
	struct fixture *f = *state;
	char *s = engine_redact(&f->r, "login abcdef then abc, gpu 3");

	assert_string_equal(s, "login *** then ***, gpu 3");
	free(s);
}

static void
test_bytes_are_kept_exactly(void **state)
{
	static const char raw[] = "ok \xff\xfe \xe2\x82 end\n";
	json_t *v = journal_bytes(raw), *t = journal_bytes("GPU 3: ok \xe2\x9c\x93");
	json_t *shown = journal_string(raw);
	char *back = journal_bytes_value(v), *back2 = journal_bytes_value(t);

	(void)state;
	/* Captures a resume needs back: not UTF-8, so kept as base64, no byte lost. */
	assert_true(json_is_object(v));
	assert_string_equal(back, raw);
	assert_true(json_is_string(t));
	assert_string_equal(back2, "GPU 3: ok \xe2\x9c\x93");
	/* Text for display: still a record field, the bad bytes shown as U+FFFD. */
	assert_true(json_is_string(shown));
	assert_non_null(strstr(json_string_value(shown), "ok \xef\xbf\xbd"));
	free(back);
	free(back2);
	json_decref(v);
	json_decref(t);
	json_decref(shown);
}

static void
test_a_failed_journal_stops_the_run(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(engine_record(&f->r, json_pack("{s:s}", "type", "x"), true), 0);
	assert_int_equal(f->shown, 1);
	f->r.journal_failed = true;
	/* Nothing more is shown as done: the caller must not act on it. */
	assert_int_equal(engine_record(&f->r, json_pack("{s:s}", "type", "y"), true), -1);
	assert_int_equal(f->shown, 1);
	assert_true(engine_interrupted(&f->r));
}

static void
test_step_tags(void **state)
{
	char *t = engine_step_tag("20261126T000000Z-n42-abcdef", 2, "undo", 0, 3, 1);

	(void)state;
	assert_string_equal(t, "20261126T000000Z-n42-abcdef.2.undo.0.3.1");
	free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_step_records_name_their_step, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secrets_are_redacted_whole, setup, teardown),
		cmocka_unit_test(test_bytes_are_kept_exactly),
		cmocka_unit_test_setup_teardown(test_a_failed_journal_stops_the_run, setup, teardown),
		cmocka_unit_test(test_step_tags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
