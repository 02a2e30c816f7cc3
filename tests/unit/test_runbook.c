/* test_runbook.c - the loader: a good runbook's model, and bad ones refused with
 * positions, every error in one pass. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/engine.h"
#include "core/runbook.h"
#include "core/schema.h"

static const char good[] =
	"name: t\n"
	"title: T\n"
	"subsystem: driver\n"
	"summary: s\n"
	"trigger: {summary: x, alerts: [{alertname: A, severity: page}]}\n"
	"params:\n"
	"  gpu: {description: g, default: '0', pattern: '^[0-9]+$'}\n"
	"  token: {description: k, secret: true}\n"
	"guard: {cordon: true, drain: true, drain_timeout: 10m}\n"
	"max_attempts: 3\n"
	"pre_checks:\n"
	"  - name: look\n"
	"    ssh: nvidia-smi -L\n"
	"    capture: {count: '([0-9]+) GPUs'}\n"
	"procedure:\n"
	"  - name: reset\n"
	"    when: &w {not: {capture: count, in: ['0', '']}}\n"
	"    ssh: nvidia-smi -r -i {{params.gpu}}\n"
	"    timeout: 90s\n"
	"    retries: 2\n"
	"    undo: {name: back, ssh: 'true'}\n"
	"  - name: ask\n"
	"    when: *w\n"
	"    confirm: Sure about {{node}}?\n"
	"    on_success: keep_cordoned\n"
	"  - {name: pause, action: sleep, duration: 1s}\n"
	"verify:\n"
	"  - name: diag\n"
	"    ssh: dcgmi diag -r 1\n"
	"    expect: {exit: [0, 1], stdout_not: Fail}\n";

static struct runbook *
load(const char *text, struct diags *d)
{
	diags_init(d);
	return runbook_load_string("t.yaml", text, strlen(text), d);
}

static void
test_good_model(void **state)
{
	struct diags d;
	struct runbook *rb = load(good, &d);
	const struct step *s;

	(void)state;
	if (!rb)
		{ char *dt = diags_text(&d); fputs(dt, stderr); free(dt); }
	assert_non_null(rb);
	assert_string_equal(rb->name, "t");
	assert_int_equal(rb->max_attempts, 3);
	assert_int_equal(rb->guard.drain_timeout_ms, 600000);
	assert_int_equal(rb->nparams, 2);
	assert_true(rb->params[1].secret);
	assert_null(rb->params[1].def);
	assert_int_equal(rb->trigger.nalerts, 1);
	assert_int_equal(rb->trigger.alerts[0].n, 2);
	assert_string_equal(rb->trigger.node_label, "Hostname");
	assert_int_equal(rb->nsteps[PHASE_PRE_CHECKS], 1);
	assert_false(rb->steps[PHASE_PRE_CHECKS][0]->mutates);
	assert_true(rb->steps[PHASE_PRE_CHECKS][0]->idempotent);
	s = rb->steps[PHASE_PROCEDURE][0];
	assert_true(s->mutates);
	assert_false(s->idempotent);
	assert_int_equal(s->timeout_ms, 90000);
	assert_int_equal(s->retries, 2);
	assert_non_null(s->undo);
	assert_int_equal(s->pos.line, 16);
	assert_int_equal(s->pos.col, 5);
	assert_non_null(s->when);
	assert_int_equal(s->when->kind, WHEN_NOT);
	/* The alias shares the condition. */
	assert_non_null(rb->steps[PHASE_PROCEDURE][1]->when);
	assert_int_equal(rb->steps[PHASE_PROCEDURE][1]->kind, STEP_CONFIRM);
	assert_false(rb->steps[PHASE_PROCEDURE][1]->mutates);
	assert_true(rb->steps[PHASE_PROCEDURE][1]->keep_cordoned);
	assert_int_equal(rb->steps[PHASE_PROCEDURE][2]->action, ACTION_SLEEP);
	assert_false(rb->steps[PHASE_PROCEDURE][2]->mutates);
	assert_int_equal(rb->steps[PHASE_VERIFY][0]->expect.nexits, 2);
	assert_int_equal(rb->steps[PHASE_VERIFY][0]->timeout_ms, phase_default_timeout_ms[PHASE_VERIFY]);
	assert_true(runbook_mutates(rb));
	runbook_free(rb);
	diags_release(&d);
}

static void
test_when_logic(void **state)
{
	struct diags d;
	struct runbook *rb = load(good, &d);
	struct strmap p = {0}, c = {0};
	const struct when *w;

	(void)state;
	assert_non_null(rb);
	w = rb->steps[PHASE_PROCEDURE][0]->when;
	assert_false(engine_when(w, &p, &c)); /* unset capture is "" */
	strmap_set(&c, "count", "8");
	assert_true(engine_when(w, &p, &c));
	strmap_set(&c, "count", "0");
	assert_false(engine_when(w, &p, &c));
	strmap_release(&p);
	strmap_release(&c);
	runbook_free(rb);
	diags_release(&d);
}

/* Replace the first occurrence of from with to in good, then load. */
static size_t
errors_with(const char *from, const char *to, const char *want)
{
	char text[4096];
	const char *at = strstr(good, from);
	struct diags d;
	struct runbook *rb;
	size_t i, n;
	bool found = false;

	assert_non_null(at);
	snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - good), good, to, at + strlen(from));
	rb = load(text, &d);
	assert_null(rb);
	for (i = 0; i < d.n; i++) {
		char line[1200];
		snprintf(line, sizeof(line), "%d:%d: %s", d.v[i].pos.line, d.v[i].pos.col, d.v[i].msg);
		if (strstr(line, want))
			found = true;
	}
	if (!found) {
		{ char *dt = diags_text(&d); fputs(dt, stderr); free(dt); }
		fail_msg("no error containing '%s'", want);
	}
	n = d.nerrors;
	diags_release(&d);
	return n;
}

static void
test_errors_have_positions(void **state)
{
	(void)state;
	errors_with("    timeout: 90s\n", "    timeuot: 90s\n",
		    "19:5: unknown key 'timeuot' in a step (did you mean 'timeout'?)");
	errors_with("timeout: 90s", "timeout: soon", "19:14: 'timeout' is not a duration");
	errors_with("retries: 2", "retries: two", "20:14: 'retries' must be an integer");
	errors_with("subsystem: driver", "subsystem: drivers", "3:12: 'subsystem' must be one of");
	errors_with("max_attempts: 3", "max_attempts: 0", "10:15: 'max_attempts' must be between 1 and 10");
	errors_with("Fail}", "'(Fail'}", "30:40: 'stdout_not' is not a valid regex");
	errors_with("-r -i {{params.gpu}}", "-r -i {{params.gpus}}", "18:27: unknown parameter 'gpus'");
	errors_with("capture: {count:", "capture: {cnt:", "'when' tests capture 'count', which no earlier step sets");
	errors_with("    ssh: dcgmi diag -r 1\n", "    ssh: x\n    run: y\n", "step 'diag' has more than one action");
	errors_with("  - {name: pause, action: sleep, duration: 1s}\n", "  - {name: pause, action: sleep}\n",
		    "'action: sleep' needs a 'duration'");
	errors_with("action: sleep", "action: nap", "'action' must be one of cordon, drain");
	errors_with("guard: {cordon: true, drain: true, drain_timeout: 10m}",
		    "guard: {none: ro, cordon: true}", "stands alone");
	errors_with("default: '0'", "default: 'x'", "default 'x' of parameter 'gpu' does not match its pattern");
	errors_with("name: t\n", "name: T\n", "1:7: name 'T' must match [a-z0-9-]+");
	errors_with("when: &w {not: {capture: count, in: ['0', '']}}",
		    "when: &w {capture: count, equals: '1', in: ['2']}", "exactly one of equals/in/matches");
	errors_with("    on_success: keep_cordoned\n", "    on_success: keep\n", "'on_success' must be one of");
	errors_with("undo: {name: back, ssh: 'true'}", "undo: {name: back, ssh: 'true', undo: {name: x, ssh: y}}",
		    "an 'undo' step cannot have its own 'undo'");
}

static void
test_all_errors_in_one_pass(void **state)
{
	(void)state;
	assert_true(errors_with("subsystem: driver\nsummary: s\n", "subsystem: x\nsummry: s\n",
				"unknown key 'summry'") >= 3);
}

static void
test_yaml_syntax_error(void **state)
{
	struct diags d;

	(void)state;
	assert_null(load("name: [\n", &d));
	assert_int_equal(d.nerrors, 1);
	assert_true(d.v[0].pos.line >= 1);
	assert_non_null(strstr(d.v[0].msg, "YAML"));
	diags_release(&d);
	assert_null(load("", &d));
	assert_non_null(strstr(d.v[0].msg, "empty"));
	diags_release(&d);
	assert_null(load("- a\n- b\n", &d));
	assert_non_null(strstr(d.v[0].msg, "must be a mapping"));
	diags_release(&d);
}

static void
test_bind_params(void **state)
{
	struct diags d;
	struct runbook *rb = load(good, &d);
	struct strmap given = {0}, out = {0};
	struct rbx_err err;

	(void)state;
	assert_int_equal(engine_bind_params(rb, &given, &out, &err), -1);
	assert_non_null(strstr(err.msg, "'token' is required"));
	strmap_set(&given, "token", "s3cret");
	assert_int_equal(engine_bind_params(rb, &given, &out, &err), 0);
	assert_string_equal(strmap_get(&out, "gpu"), "0");
	strmap_set(&given, "gpu", "1;reboot");
	assert_int_equal(engine_bind_params(rb, &given, &out, &err), -1);
	assert_non_null(strstr(err.msg, "does not match"));
	strmap_release(&given);
	strmap_set(&given, "token", "x");
	strmap_set(&given, "nope", "1");
	assert_int_equal(engine_bind_params(rb, &given, &out, &err), -1);
	assert_non_null(strstr(err.msg, "no parameter 'nope'"));
	strmap_release(&given);
	strmap_release(&out);
	runbook_free(rb);
	diags_release(&d);
}

static void
test_schema_table(void **state)
{
	const struct schema *const *all = schema_all();
	size_t n = 0;

	(void)state;
	for (; *all; all++)
		n++;
	assert_int_equal(n, 10);
	assert_non_null(schema_field(schema_get("step"), "undo"));
	/* trigger.rules: each rule carries its test; the guard may name blocking alerts. */
	assert_non_null(schema_field(schema_get("trigger"), "rules"));
	assert_non_null(schema_field(schema_get("rule"), "test"));
	assert_non_null(schema_field(schema_get("rule_test"), "firing"));
	assert_non_null(schema_field(schema_get("guard"), "blocking_alerts"));
	assert_string_equal(schema_suggest(schema_get("step"), "timout"), "timeout");
	assert_null(schema_suggest(schema_get("step"), "zzzzzzzz"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_model),
		cmocka_unit_test(test_when_logic),
		cmocka_unit_test(test_errors_have_positions),
		cmocka_unit_test(test_all_errors_in_one_pass),
		cmocka_unit_test(test_yaml_syntax_error),
		cmocka_unit_test(test_bind_params),
		cmocka_unit_test(test_schema_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
